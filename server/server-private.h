/* SPDX-License-Identifier: MIT */
/*
 * udkd's insides, shared by server.c (devices), loop.c (the event loop),
 * listen.c (the socket), session.c (clients' sessions), registry.c (the
 * object tree) and nodes.c (clients' nodes in the devices' graphs).  All of
 * it runs on the control thread.
 */
#ifndef UDKD_SERVER_PRIVATE_H
#define UDKD_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <udk/device.h>
#include <udk/dsp.h>
#include <udk/protocol.h>
#include <udk/shm.h>

#include "personality.h"
#include "server.h"

#define UDKD_SESSIONS_MAX       64u
#define UDKD_SESSION_NODES_MAX  16u  /* streams one session may open */
#define UDKD_PEER_ACK_TIMEOUT_NS 2000000000ull
/* Requests a session may send in a burst, and per second after it. */
#define UDKD_SESSION_BURST      256u
#define UDKD_SESSION_RATE       2000u
#define UDKD_SNDBUF_BYTES       (1u << 20)

struct server_handler {
        const struct udkd_config_handler *conf;
        const struct udk_dsp_plugin *plugin;
        struct udk_handler *handler;
};

struct server_node;

struct server_device {
        const struct udkd_config_device *conf;
        struct udk_device *dev;
        struct server_handler handlers[UDK_DEVICE_HANDLERS_MAX];
        size_t n_handlers;
        int client_cpu; /* where clients' RT threads go, -1: anywhere */
        /* Nodes in the order they opened (the graph's order is the device's). */
        struct server_node *nodes[UDK_PEER_SLOTS_MAX];
        uint32_t n_nodes;
        uint64_t slots_used; /* bit per peer slot, also held while a node retires */
};

/* One per plugin name, shared by every instance of it. */
struct server_module {
        const char *name; /* the configuration's */
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

struct udkd_server {
        const struct udkd_config *cfg;
        char *plugin_path;
        struct server_device *devices;
        size_t n_devices;
        struct server_module *modules;
        size_t n_modules;

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

#endif
