/* SPDX-License-Identifier: MIT */
/*
 * libudk-client's insides, shared by its files (not installed).
 *
 * Threads: the caller's (one at a time: udk_client_* calls), the client's
 * background thread (reads the socket, maps peers, runs the event
 * callback) and one RT thread per stream.  client->lock guards everything
 * the first two share; the RT threads take no lock: they see the peer
 * tables through atomics and say where they are through their epoch.
 */
#ifndef UDK_CLIENT_PRIVATE_H
#define UDK_CLIENT_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <udk/activation.h>
#include <udk/client.h>
#include <udk/protocol.h>
#include <udk/rate-adapter.h>
#include <udk/shm.h>
#include <udk/util.h>

#define CLIENT_ERROR_MAX          256
#define CLIENT_REQUEST_TIMEOUT_MS 5000
/* udkd gives a driver's method 10 s before it answers -ETIMEDOUT itself: wait for that answer. */
#define CLIENT_CALL_TIMEOUT_MS 12000
/* How long close() waits for udkd's CLOSED after the reply to CLOSE. */
#define CLIENT_CLOSE_WAIT_MS 1000
/* How long a failed send waits for udkd's EVENT_CLOSED to be read. */
#define CLIENT_FAREWELL_WAIT_NS 1000000000ull
/* How often a close wakes the stream's RT thread until it has left. */
#define STREAM_STOP_POLL_NS (10L * 1000 * 1000)

struct udk_client_request;

/* A data message (WELCOME, OBJECT, STATS_*, OPENED) for a request in
 * flight, on the background thread with client->lock held.  The function
 * owns @fds.  A negative return fails the request (text in req->failure). */
typedef int (*client_data_fn)(struct udk_client *c, struct udk_client_request *req,
                              const struct udk_msg_header *msg, size_t len, int *fds, unsigned n_fds);

struct udk_client_request {
        uint32_t sequence;
        uint32_t type; /* the request's, for sentences */
        client_data_fn data_fn;
        void *data;
        int timeout_ms; /* 0: CLIENT_REQUEST_TIMEOUT_MS */

        /* Filled by the background thread. */
        bool done;
        int status;
        uint32_t count;    /* data messages udkd said it sent */
        uint32_t received; /* data messages that came */
        char message[UDK_MSG_TEXT_MAX];
        int failure; /* the first error of data_fn, or a stray message */
        char failure_text[CLIENT_ERROR_MAX];
};

/* One mapping of a node's segment, published in a slot of a peer table. */
struct udk_client_peer {
        struct udk_shm shm;
        udk_object_id node;
        uint32_t slot;
        struct udk_activation *activation;
        const float *output; /* period * output_channels floats */
        uint32_t output_channels;

        /* Once taken out of its slot: the streams that were in a cycle
         * then, and their epoch; freed once each moved on. */
        struct udk_client_peer *retired_next;
        uint32_t n_waits;
        struct {
                udk_object_id node;
                uint64_t epoch;
        } waits[UDK_PEER_SLOTS_MAX];
};

/* The peers of one device, by slot, as the RT threads of the client's
 * streams on that device see them. */
struct udk_client_peer_table {
        udk_object_id device;
        uint32_t period;
        unsigned n_streams;
        _Atomic(struct udk_client_peer *) slots[UDK_PEER_SLOTS_MAX];
        struct udk_client_peer_table *next;
};

struct udk_client_stream {
        struct udk_client *client;
        struct udk_client_stream *next; /* client->streams */

        udk_object_id node, device;
        uint32_t slot, rate, period, input_channels, output_channels;
        uint32_t input_latency, output_latency; /* the device's, its frames */
        /* Rate conversion: the client's rate (0: the device's), and once
         * OPENED told the device's rate, one adapter per direction used. */
        uint32_t client_rate, client_period;
        uint32_t convert_rate, convert_period; /* the device's, as the adapters were made for */
        enum udk_resampler_quality quality;
        struct udk_rate_adapter *convert_in, *convert_out;
        enum udk_link link;
        udk_client_process_fn process;
        void *data;
        int priority; /* resolved: 0 is normal priority */
        int cpu;      /* the caller's, -1: the one udkd names */
        char name[UDK_OBJECT_NAME_MAX];

        struct udk_shm node_shm, graph_shm, device_shm;
        struct udk_client_peer_table *peers;
        const struct udk_zero_timestamp *zts;
        bool opened; /* OPENED came and everything is set up */
        bool thread_started;
        bool realtime;
        pthread_t thread;

        _Atomic uint32_t state; /* enum udk_node_state, from udkd's events */

        /* The RT thread's: set before it starts, then only it reads them. */
        struct {
                struct udk_activation *own, *graph;
                const float *node_input; /* in the node segment */
                float *node_output;
                float *input, *output;            /* private copies */
                float *client_input, *client_output; /* at the client's rate, when converting */
                uint64_t client_time, next_device_time, cycles;
                uint64_t signal_time, awake_time; /* this cycle's, for the callback */
        } rt;

        /* Written by the RT thread, read by the others. */
        _Atomic bool quit;
        _Atomic uint64_t epoch;   /* odd while in a cycle */
        _Atomic uint64_t cycles;  /* the callback ran */
        _Atomic uint32_t running; /* futex word: 1 from the first cycle on */
        _Atomic uint64_t errors;  /* cycles with fields that made no sense */
        _Atomic uint64_t late;    /* cycles udkd neutralised */
};

struct udk_client {
        int fd;
        char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        udk_object_id session;
        char server[UDK_OBJECT_NAME_MAX];
        char error[CLIENT_ERROR_MAX]; /* the caller's thread only */

        pthread_t thread;
        bool thread_started;
        uint8_t *buf; /* UDK_MSG_SIZE_MAX, the background thread's */

        pthread_mutex_t request_lock; /* one request at a time */
        pthread_mutex_t send_lock;    /* a sequence number and its send, so udkd sees them increase */
        pthread_mutex_t lock;         /* guards what follows; taken after send_lock */
        pthread_cond_t cond;          /* request done, state changed, connection lost */
        uint32_t next_sequence;
        struct udk_client_request *pending;
        bool connected;
        bool closing;
        char lost[CLIENT_ERROR_MAX]; /* why the connection ended */
        int lost_status;             /* udkd's EVENT_CLOSED status, 0 without one */

        udk_client_event_fn event_fn;
        void *event_data;
        bool dispatching; /* event_fn is running */

        struct udk_client_stream *streams;
        struct udk_client_peer_table *tables;
        struct udk_client_peer *retired;
};

/* client.c */
int client_set_error(struct udk_client *c, int r, const char *fmt, ...) UDK_PRINTF(3, 4);
/* Send @msg (its sequence is filled in) and wait for the REPLY, up to
 * req->timeout_ms (0: CLIENT_REQUEST_TIMEOUT_MS).  Returns the status; the sentence of any
 * failure is in c->error. */
int client_request(struct udk_client *c, struct udk_msg_header *msg, size_t size,
                   struct udk_client_request *req);
/* Number @msg with the next sequence (made @req's, the pending request, when
 * not NULL) and send it, both under send_lock.  Lock not held. */
int client_send(struct udk_client *c, struct udk_msg_header *msg, size_t size,
                struct udk_client_request *req);
/* Wait on c->cond until @deadline_ns (CLOCK_MONOTONIC).  Lock held.  False on time-out. */
bool client_wait(struct udk_client *c, uint64_t deadline_ns);

/* stream.c */
int stream_opened(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                  size_t len, int *fds, unsigned n_fds);
/* udkd's NODE_STATE for a node of ours.  Lock held. */
void stream_state_changed(struct udk_client *c, const struct udk_msg_node_state *m);
/* Stop the RT thread and free everything; @s is unlinked already.  Lock not held. */
void stream_free(struct udk_client_stream *s);

/* peers.c (client->lock held in all of them) */
struct udk_client_peer_table *peers_table(struct udk_client *c, udk_object_id device);
int peers_table_ref(struct udk_client *c, udk_object_id device, uint32_t period,
                    struct udk_client_peer_table **ret, char *err, size_t err_size);
void peers_table_unref(struct udk_client *c, struct udk_client_peer_table *t);
/* Map @fd as the node in @slot; replaces (and retires) what was there. */
int peers_add(struct udk_client *c, struct udk_client_peer_table *t, udk_object_id node, uint32_t slot,
              int fd, uint32_t output_channels, uint32_t output_offset, char *err, size_t err_size);
/* Take @node out of @slot (nothing when another node holds it now). */
void peers_remove(struct udk_client *c, struct udk_client_peer_table *t, udk_object_id node, uint32_t slot);
int peers_event_added(struct udk_client *c, const struct udk_msg_peer *m, int fd, char *err,
                      size_t err_size);
void peers_event_removed(struct udk_client *c, const struct udk_msg_peer *m);
/* Free the retired peers no RT thread can still hold; true when some remain. */
bool peers_collect(struct udk_client *c);
/* Free every table and retired peer (no stream left). */
void peers_free_all(struct udk_client *c);

/* registry.c */
int registry_first_device(struct udk_client *c, udk_object_id *ret);

#endif
