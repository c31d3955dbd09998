/* SPDX-License-Identifier: MIT */
/*
 * udkd's insides, shared by server.c (devices), loop.c (the event loop),
 * listen.c (the socket), session.c (clients' sessions), registry.c (the
 * object tree) and nodes.c (clients' nodes in the devices' graphs).  All of
 * it runs on the control thread.
 */
#ifndef UDKD_SERVER_PRIVATE_H
#define UDKD_SERVER_PRIVATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <udk/device.h>
#include <udk/driver-protocol.h>
#include <udk/dsp.h>
#include <udk/protocol.h>
#include <udk/shm.h>

#include "crash-window.h"
#include "driver-gate.h"
#include "match.h"
#include "nub-message.h"
#include "personality.h"
#include "server.h"

#define UDKD_SESSIONS_MAX       64u
#define UDKD_SESSION_NODES_MAX  16u  /* streams one session may open */
#define UDKD_PEER_ACK_TIMEOUT_NS 2000000000ull
/* Requests a session may send in a burst, and per second after it. */
#define UDKD_SESSION_BURST      256u
#define UDKD_SESSION_RATE       2000u
#define UDKD_SNDBUF_BYTES       (1u << 20)

/* Drivers: nubs, driver instances, the devices they create. */
#define UDKD_NUBS_MAX           256u
#define UDKD_DRIVERS_MAX        128u /* driver instances, running or not */
#define UDKD_DRIVER_DEVICES_MAX 32u  /* devices drivers created, all drivers together */
#define UDKD_DRIVER_CALLS_MAX   16u  /* clients' calls in flight to one driver */
#define UDKD_CALL_TIMEOUT_NS    10000000000ull
#define UDKD_PONG_INTERVALS     3u   /* heartbeats a PONG may take */
#define UDKD_HOSTS_MAX          32u  /* shared hosts (the personalities' host key) */
#define UDKD_HOST_DRIVERS_MAX   16u  /* drivers one shared host loads (udk-driverhost's limit) */
#define UDKD_HOST_CLOSE_NS      5000000000ull /* a shared host without members has this long to exit */

struct server_handler {
        const struct udkd_config_handler *conf;
        const struct udk_dsp_plugin *plugin;
        struct udk_handler *handler;
};

struct server_node;
struct server_driver;

struct server_device {
        const struct udkd_config_device *conf;
        const char *path;          /* for errors: the configuration's, or "device text" */
        char *err;                 /* set: errors go here instead of the log */
        size_t err_size;
        struct udk_device *dev;
        struct server_handler handlers[UDK_DEVICE_HANDLERS_MAX];
        size_t n_handlers;
        int client_cpu; /* where clients' RT threads go, -1: anywhere */
        /* Nodes in the order they opened (the graph's order is the device's). */
        struct server_node *nodes[UDK_PEER_SLOTS_MAX];
        uint32_t n_nodes;
        uint64_t slots_used; /* bit per peer slot, also held while a node retires */
        /* A driver's device: its own parsed section, its owner, the gate. */
        struct udkd_config *driver_conf;   /* NULL: a configuration device */
        struct server_driver *driver;      /* its owner, NULL while none runs it */
        udk_object_id driver_id;           /* the owner's object, kept while the driver is gone */
        struct udkd_gate gate;             /* its input, closed while its driver is gone */
        struct udk_handler *gate_handler;
};

/* One per plugin name, shared by every instance of it. */
struct server_module {
        char *name; /* the plugin's, owned */
        struct udk_dsp_module *module;
};

struct server_session;

struct server_node {
        udk_object_id id;
        char name[UDK_OBJECT_NAME_MAX];
        struct server_session *session; /* NULL once the session is gone */
        udk_object_id owner;            /* its session's id, kept after that */
        struct server_device *device;
        uint32_t slot;
        struct udk_shm shm;
        struct udk_node_shm *header;
        uint32_t input_offset, output_offset;
        uint32_t input_channels, output_channels;
        enum udk_link link;
        float gain;
        enum udk_node_state state;
        uint64_t created; /* ns, for the peer-ack time-out */
        struct udk_remote *remote; /* in the device's graph; NULL while starting or once out */
        bool in_plan;    /* a plan may still hold it: its memory must stay */
        bool closed;
        uint64_t cycles_at_suspend, late_at_suspend; /* its figures once out of the graph */
        udk_object_id closed_by;   /* the session that closed it, to be told once it is out */
        uint32_t close_sequence;   /* its CLOSE request, answered then; 0: none */
};

struct server_session {
        udk_object_id id;
        int fd;
        uint32_t index; /* in the session table */
        uint32_t generation;
        pid_t pid;
        uid_t uid;
        gid_t gid;
        char name[UDK_OBJECT_NAME_MAX];
        bool hello;
        uint32_t last_sequence;
        uint32_t subscriptions;
        double tokens; /* for throttling */
        uint64_t tokens_time;
        bool throttled;     /* out of tokens: not polled until the tick refills */
        uint64_t throttle_count;
        bool poll_armed;
        struct server_node *nodes[UDKD_SESSION_NODES_MAX];
        uint32_t n_nodes;
        /* Per device, the peer slots this session was told about and has mapped. */
        uint64_t *peers_sent;
        uint64_t *peers_mapped;
        bool closing;
        struct server_session *next_dead;
};

/* A provider: udkd's root nub of a family, or one a bus driver published. */
struct server_nub {
        udk_object_id id;
        enum udkd_family family;
        char name[UDK_OBJECT_NAME_MAX];
        struct udk_dprop props[UDKD_NUB_PROPS_MAX];
        uint32_t n_props;
        struct server_driver *publisher; /* NULL: udkd's own */
        uint32_t handle;                 /* the publisher's name for it */
        struct server_driver *bound;     /* the driver on it, NULL: unbound */
};

enum server_driver_state {
        DRIVER_STARTING,   /* spawned, READY and STARTED not both in yet */
        DRIVER_RUNNING,
        DRIVER_STOPPING,   /* STOP sent (or killed), waiting for the exit */
        DRIVER_RESTARTING, /* gone, starting again at restart_at */
        DRIVER_STOPPED,
        DRIVER_FAILED,     /* gave up after the restart limit, or a crash with restart = no */
};

/* What follows the host's exit. */
enum server_driver_after {
        AFTER_POLICY,  /* the personality's restart policy */
        AFTER_RESTART, /* start again at once (udkctl restart) */
        AFTER_STOP,    /* stay stopped, devices removed (udkctl stop) */
        AFTER_REMOVE,  /* the object goes too (its nub or personality went, udkd stops) */
};

/* A client's CALL waiting for the driver's CALL_REPLY. */
struct server_call {
        uint32_t sequence; /* on the driver's socket; 0: a free entry */
        udk_object_id session;
        uint32_t session_sequence;
        uint32_t struct_out_max;
        uint64_t deadline;
};

/*
 * A shared host: one udk-driverhost --shared for the instances whose
 * personalities have its key.  It loaded, at its start, the drivers of
 * every personality that had the key then; instances join over its
 * channel, each with a socket of its own, so the driver protocol is the
 * same as a host's of its own.  It goes once its last member did.
 */
struct server_host {
        uint32_t index; /* in server->hosts */
        uint32_t generation;
        char key[UDK_OBJECT_NAME_MAX];
        char *drivers[UDKD_HOST_DRIVERS_MAX]; /* its command line's, in order: ATTACH's driver index */
        uint32_t n_drivers;
        pid_t pid;
        int pidfd;
        int fd; /* udkd's end of the channel; -1 once closed (no members: it exits) */
        bool fd_armed, pidfd_armed;
        bool killed;          /* SIGKILL sent: every member's exit is a crash */
        uint32_t next_tag;    /* the last ATTACH's sequence */
        uint32_t n_members;
        uint64_t close_deadline; /* channel closed: killed if still there then */
};

/* A driver instance: one personality on one nub, run by a udk-driverhost. */
struct server_driver {
        udk_object_id id;
        uint32_t index; /* in server->drivers */
        uint32_t generation;
        char name[UDK_OBJECT_NAME_MAX]; /* the personality's */
        size_t personality;             /* its index in server->personalities */
        struct server_nub *nub;         /* NULL once its nub is gone (then it stops for good) */
        udk_object_id nub_id;
        /* The device it drives: its nub's publisher (0: udkd) and name, which outlive the nub. */
        udk_object_id nub_publisher;
        char nub_name[UDK_OBJECT_NAME_MAX];
        bool waits; /* STARTING without a host: the device's previous driver has not exited yet */
        enum server_driver_state state;
        enum server_driver_after after;
        pid_t pid;  /* 0: no host; a shared host's when a member of one */
        int pidfd;  /* -1: none (always so for a member: the host has it) */
        int fd;     /* udkd's end of the socketpair, -1: none */
        struct server_host *host; /* the shared host it is a member of, NULL: one of its own or none */
        uint32_t host_tag;        /* its ATTACH's sequence on the host's channel */
        bool fd_armed, pidfd_armed;
        bool ready;          /* READY came in */
        bool stop_sent;      /* STOP went out: an exit 0 is clean */
        bool killed;         /* udkd sent SIGKILL: the exit is a crash with kill_reason */
        char kill_reason[256];
        uint32_t next_sequence;
        uint32_t start_sequence, stop_sequence, ping_sequence;
        uint64_t deadline;      /* start or stop time-out, 0: none */
        uint64_t next_ping;     /* RUNNING */
        uint64_t pong_deadline; /* 0: no PING outstanding */
        uint64_t restart_at;    /* RESTARTING */
        uint64_t spawned_at, running_since;
        uint32_t restarts;      /* spawns after the first */
        uint32_t crashes;       /* all of them */
        uint32_t crash_run;     /* crashes since the count was last forgotten: the back-off's n */
        struct udkd_crash_window crash_times; /* restart_limit's sliding window */
        char last_exit[256];    /* "exit 0", "killed by SIGKILL", "start time-out", "" before any */
        struct server_call calls[UDKD_DRIVER_CALLS_MAX];
};

struct udkd_server {
        const struct udkd_config *cfg;
        char *plugin_path;
        struct server_device *devices; /* room for n_config_devices + UDKD_DRIVER_DEVICES_MAX */
        size_t n_devices;              /* slots used so far; a removed driver device leaves dev NULL */
        size_t devices_cap;
        size_t n_config_devices;
        size_t n_left_out;             /* configuration devices whose backend's server was not there */
        struct server_module *modules;
        size_t n_modules, modules_cap;

        /* Drivers. */
        struct server_nub *nubs[UDKD_NUBS_MAX];
        struct server_driver *drivers[UDKD_DRIVERS_MAX];
        uint32_t driver_generation;
        struct server_host *hosts[UDKD_HOSTS_MAX];
        char *driverhost;           /* the udk-driverhost binary */
        char *drivers_dirs[8];      /* the folders personalities came from, watched */
        size_t n_drivers_dirs;
        int inotify_fd;             /* -1: not watching */
        bool inotify_armed;
        uint8_t *inotify_buf;
        uint64_t reload_at;         /* a change seen: reload then (changes come in bursts) */
        bool shutting_down;

        /* The drivers folders' personalities, with their registry ids. */
        struct udkd_personality_set personalities;
        udk_object_id *personality_ids;

        udk_object_id root_id;
        udk_object_id backend_ids[8]; /* per backend in use, in first-use order */
        const struct udk_backend_ops *backends[8];
        size_t n_backends;

        char socket_path[108];
        int listen_fd;
        bool socket_created;
        struct server_session *sessions[UDKD_SESSIONS_MAX];
        uint32_t n_sessions;
        uint32_t generation;
        struct server_session *dead_sessions; /* closed, freed at the next tick */
        struct io_uring *ring; /* the loop's, while it runs */
};

/* loop.c: io_uring user_data of a session's poll. */
uint64_t udkd_loop_session_data(const struct server_session *s);
int udkd_loop_arm_session(struct udkd_server *server, struct server_session *s);
void udkd_loop_cancel_session(struct udkd_server *server, struct server_session *s);
/* A driver's socket and pidfd polls; the inotify read. */
int udkd_loop_arm_driver(struct udkd_server *server, struct server_driver *d);
void udkd_loop_cancel_driver(struct udkd_server *server, struct server_driver *d);
int udkd_loop_arm_inotify(struct udkd_server *server);
/* A shared host's channel and pidfd polls. */
int udkd_loop_arm_host(struct udkd_server *server, struct server_host *h);
void udkd_loop_cancel_host(struct udkd_server *server, struct server_host *h);

/* server.c */
/* Create, open and set up device @d (its conf set); errors as "PATH:LINE: reason", in d->err when set. */
int udkd_device_setup(struct udkd_server *server, struct server_device *d);
/* Close its nodes, stop and destroy it, free its slot (a driver's device). */
void udkd_device_remove(struct udkd_server *server, struct server_device *d);
/* The backends' requests (udk_device_request): a device removed or built again. */
void udkd_devices_tick(struct udkd_server *server);
/* Remove the devices whose RT thread stopped on a backend gone for good (udk_device_failure()). */
void udkd_devices_check_failures(struct udkd_server *server);
/* A free device slot for a driver's device, NULL when all are taken. */
struct server_device *udkd_device_slot(struct udkd_server *server);

/* nubs.c */
int udkd_nubs_create_roots(struct udkd_server *server);
/* A nub published by @publisher; -EEXIST (handle taken), -ENOSPC, -E2BIG, -EINVAL with a sentence. */
int udkd_nub_publish(struct udkd_server *server, struct server_driver *publisher, const struct udk_dmsg_nub *m,
                     struct server_nub **ret, char *err, size_t err_size);
/* Stop the driver bound to @n for good and remove @n (and the REMOVED event). */
void udkd_nub_remove(struct udkd_server *server, struct server_nub *n);
/* Every nub @publisher published. */
void udkd_nubs_remove_published(struct udkd_server *server, struct server_driver *publisher);
struct server_nub *udkd_nub_find(struct udkd_server *server, udk_object_id id);
struct server_nub *udkd_nub_find_handle(struct udkd_server *server, struct server_driver *publisher,
                                        uint32_t handle);
/* The nub as matching sees it; @props holds UDKD_NUB_PROPS_MAX. */
void udkd_nub_view(const struct server_nub *n, struct udkd_nub_property *props, struct udkd_nub *ret);
/* Match @n and start the winner's driver on it; unbound nubs stay so, quietly. */
void udkd_nub_match(struct udkd_server *server, struct server_nub *n);
/* Match every unbound nub (after a reload). */
void udkd_nubs_match_unbound(struct udkd_server *server);
void udkd_nubs_destroy(struct udkd_server *server);

/* supervisor.c */
/* A driver of personality @index on @nub, started at once. */
int udkd_driver_create(struct udkd_server *server, struct server_nub *nub, size_t index);
struct server_driver *udkd_driver_find(struct udkd_server *server, udk_object_id id);
const struct udkd_personality *udkd_driver_personality(const struct udkd_server *server,
                                                       const struct server_driver *d);
const char *udkd_driver_state_name(enum server_driver_state state);
/* Ask the host to stop; @after says what then.  A driver without a host is settled at once. */
void udkd_driver_stop(struct udkd_server *server, struct server_driver *d, enum server_driver_after after);
/* UDK_DRIVER_RESTART, STOP, START for a client; 0 or -errno with a sentence. */
int udkd_driver_control(struct udkd_server *server, struct server_driver *d, uint32_t action, char *err,
                        size_t err_size);
/* Its socket is readable / its pidfd says it exited. */
void udkd_driver_readable(struct udkd_server *server, struct server_driver *d, int res);
void udkd_driver_drain_logs(struct server_driver *d);
void udkd_driver_exited(struct udkd_server *server, struct server_driver *d);
void udkd_drivers_tick(struct udkd_server *server, uint64_t now);
/* Kill the host for @reason (a crash); the exit handler does the rest. */
void udkd_driver_kill(struct udkd_server *server, struct server_driver *d, const char *reason);
/* Send to the host; a host that cannot take it is killed.  Returns 0 or -EPIPE. */
int udkd_driver_send(struct udkd_server *server, struct server_driver *d, const void *msg, size_t len,
                     const int *fds, unsigned n_fds);
/* Forward a client's call; the answer comes with the driver's CALL_REPLY. */
int udkd_driver_call(struct udkd_server *server, struct server_driver *d, struct server_session *s,
                     const struct udk_msg_call *m, char *err, size_t err_size);
/* The host's CALL_REPLY: CALL_RESULT and REPLY to the client; -EPROTO (the reason in @why) for a bad one. */
int udkd_driver_call_reply(struct udkd_server *server, struct server_driver *d,
                           const struct udk_dmsg_call_reply *m, char *why, size_t why_size);
/* Stop every driver (udkd stops): true once none has a host any more. */
bool udkd_drivers_shutdown(struct udkd_server *server);
void udkd_drivers_destroy(struct udkd_server *server);
/* Tell the owning driver that a client moved @c of @d. */
void udkd_driver_control_changed(struct udkd_server *server, struct server_device *d, const struct udk_control *c);

/* The run of @d is over (its host exited, or a shared host detached it): d->last_exit says how, @crash
 * whether it counts as a crash.  Its socket closed, calls failed, devices orphaned, then the policy. */
void udkd_driver_end(struct udkd_server *server, struct server_driver *d, bool crash);
/* "exit 1", "killed by SIGKILL", "killed by SIGSEGV (core dumped)". */
void udkd_driver_describe_exit(const siginfo_t *si, char *buf, size_t size);
/* Run udk-driverhost (--shared=@shared_key when not NULL; --udev with @udev, a bus driver's sandbox = udev)
 * on @n_drivers @drivers with the socket's other end on fd 3; its pid, pidfd and udkd's end
 * (non-blocking).  0 or a negative errno. */
int udkd_driverhost_spawn(struct udkd_server *server, const char *shared_key, char *const *drivers,
                          size_t n_drivers, bool udev, pid_t *ret_pid, int *ret_pidfd, int *ret_fd);

/* hosts.c: shared hosts. */
/* Run @d in the shared host of its personality @p's key, spawned if none runs that has its driver. */
int udkd_host_attach(struct udkd_server *server, struct server_driver *d, const struct udkd_personality *p);
/* @d's run in its host is over: it is no longer a member (a host without members is told to go). */
void udkd_host_detach(struct udkd_server *server, struct server_driver *d);
/* Kill @h for @reason, which @cause (a member) gave: every member crashes. */
void udkd_host_kill(struct udkd_server *server, struct server_host *h, struct server_driver *cause,
                    const char *reason);
/* Its channel is readable / its pidfd says it exited. */
void udkd_host_readable(struct udkd_server *server, struct server_host *h, int res);
void udkd_host_exited(struct udkd_server *server, struct server_host *h);
void udkd_hosts_tick(struct udkd_server *server, uint64_t now);
/* true once no shared host runs. */
bool udkd_hosts_gone(const struct udkd_server *server);
/* Kill and reap every shared host (udkd goes); members must be detached already. */
void udkd_hosts_destroy(struct udkd_server *server);

/* driver-messages.c: what a host sends. */
/* Serve one checked message; < 0: a protocol breach, the reason in @why (the host is then killed). */
int udkd_driver_dispatch(struct udkd_server *server, struct server_driver *d, const void *buf, size_t len,
                         char *why, size_t why_size);

/* driver-devices.c */
/* The input gate of driver device @d (its dev created): silence while closed.  Before its handlers. */
int udkd_gate_add(struct server_device *d);
int udkd_driver_device_create(struct udkd_server *server, struct server_driver *drv, const struct udk_dmsg_device *m,
                              udk_object_id *ret_id, char *err, size_t err_size);
int udkd_driver_control_add(struct udkd_server *server, struct server_driver *drv,
                            const struct udk_dmsg_control_add *m, char *err, size_t err_size);
int udkd_driver_control_set(struct udkd_server *server, struct server_driver *drv, const struct udk_dmsg_control *m,
                            char *err, size_t err_size);
/* The driver's host is gone: its devices' input silenced until a new run takes them back. */
void udkd_driver_devices_orphan(struct udkd_server *server, struct server_driver *drv);
/* The driver is stopped for good: its devices removed. */
void udkd_driver_devices_remove(struct udkd_server *server, struct server_driver *drv);

/* drivers.c: the personalities, reloaded when their folders change. */
void udkd_personalities_changed(struct udkd_server *server);
void udkd_personalities_tick(struct udkd_server *server, uint64_t now);
void udkd_personalities_finish(struct udkd_server *server);

/* session.c */
int udkd_session_accept(struct udkd_server *server, int fd);
/* Read and serve what the session sent; false when it was closed. */
bool udkd_session_serve(struct udkd_server *server, struct server_session *s);
void udkd_session_close(struct udkd_server *server, struct server_session *s, const char *reason);
void udkd_sessions_tick(struct udkd_server *server, uint64_t now);
/* Send; a session that cannot take it is closed (returns -EPIPE). */
int udkd_session_send(struct udkd_server *server, struct server_session *s, const void *msg, size_t len,
                      const int *fds, unsigned n_fds);
int udkd_session_reply(struct udkd_server *server, struct server_session *s, uint32_t sequence, int status,
                       uint32_t count, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
struct server_session *udkd_session_find(struct udkd_server *server, udk_object_id id);

/* registry.c */
/* A personality's registry id by index. */
udk_object_id udkd_registry_personality_id(const struct udkd_server *server, size_t index);
/* Fill @msg (UDK_MSG_SIZE_MAX bytes) with object @id; -ENOENT. */
int udkd_registry_object(struct udkd_server *server, udk_object_id id, struct udk_msg_object *msg);
/* Call @fn for @root and everything under it, parents first (root 0: the whole tree). */
int udkd_registry_walk(struct udkd_server *server, udk_object_id root,
                       int (*fn)(void *data, udk_object_id id), void *data);
/* Tell subscribers about @id: UDK_MSG_EVENT_ADDED/CHANGED (the object) or REMOVED. */
void udkd_registry_event(struct udkd_server *server, uint32_t type, udk_object_id id);
/* Set a control for @requester (NULL: udkd itself): a node's gain only for
 * its own user's sessions (-EPERM otherwise). */
int udkd_registry_set_control(struct udkd_server *server, const struct server_session *requester,
                              udk_object_id id, const char *control, const char *value, char *err,
                              size_t err_size);
struct server_device *udkd_registry_device(struct udkd_server *server, udk_object_id id);
/* What a control accepts, for messages: "a level in dB, -96..24". */
void udkd_control_expects(const struct udk_control *c, char *buf, size_t size);

/* nodes.c */
/* Open a node and answer (OPENED, REPLY); on failure a sentence in @err and no answer. */
int udkd_node_open(struct udkd_server *server, struct server_session *s, const struct udk_msg_open *m,
                   char *err, size_t err_size);
/* Out of the graph at once; its memory, the CLOSED event and the REPLY to
 * @sequence (0: none) once the RT thread let go of it. */
int udkd_node_close(struct udkd_server *server, struct server_node *n, uint32_t sequence);
int udkd_node_move(struct udkd_server *server, struct server_node *n, uint32_t position);
int udkd_node_peer_ready(struct udkd_server *server, struct server_session *s, const struct udk_msg_peer *m);
struct server_node *udkd_node_find(struct udkd_server *server, udk_object_id id);
void udkd_nodes_tick(struct udkd_server *server, uint64_t now);
int udkd_node_stats(struct udkd_server *server, struct server_session *s, uint32_t sequence,
                    struct server_device *d);
const char *udkd_node_state_name(enum udk_node_state state);
int udkd_node_position(const struct server_node *n);

/* nub-devnode.c: open @nub's device node (its "devnode" property) for its driver, when its family has nodes
 * and the path is its kind (hid: /dev/hidrawN): the fd, -ENOENT without one, else an error with its
 * sentence in @why. */
int udkd_nub_devnode_open(const struct server_nub *nub, char *why, size_t why_size);
/* The files udkd opens for @nub's driver into @fds (at most @max): its device node (hid), or a pci nub's
 * (nub-pci.c), named in order in @names for the driver's "fds" property (pci; else "").  Their count
 * (0: none), else an error with its sentence in @why. */
int udkd_nub_files_open(const struct server_nub *nub, int *fds, unsigned max, char *names, size_t names_size,
                        char *why, size_t why_size);
/* nub-pci.c: a pci nub's VFIO device and container, or its sysfs config, BARs and UIO node, from its "slot"
 * (only for the pci bus driver's nubs); their names as udkd_nub_files_open() says. */
int udkd_nub_pci_files_open(const struct server_nub *nub, int *fds, unsigned max, char *names,
                            size_t names_size, char *why, size_t why_size);
/* nub-vfio.c: the VFIO device and container (@fds[0], @fds[1]) of the function in the sysfs folder @dfd:
 * 2, or -ENOENT when VFIO is not there for it, or another error; why in @reason either way. */
int udkd_nub_vfio_open(int dfd, const char *slot, int *fds, char *reason, size_t reason_size);

#endif
