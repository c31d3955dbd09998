/* SPDX-License-Identifier: MIT */
/*
 * libudk-client: how a process uses udkd.
 *
 *   udk_client_connect()      find udkd's socket, say hello
 *   udk_client_list()         the registry, as a flat list in tree order
 *   udk_client_set_control()  move a device's control, or a node's gain
 *   udk_client_stats()        the cycle's and each node's figures
 *   udk_client_subscribe()    registry events, delivered to a callback
 *   udk_client_open()         join a device's graph with a process callback
 *                             that runs on the client's own RT thread
 *   udk_client_call()         a driver's method: scalars and a structure in and out
 *   udk_client_driver_control() restart, stop or start a driver
 *   udk_client_match()        how udkd ranks the personalities for a nub
 *   udk_client_personality_errors() the personality files that did not load
 *   udk_client_disconnect()   close everything
 *
 * A connected client runs one background thread (never real-time) that
 * reads the socket: it delivers replies to the calls above, events to the
 * subscriber's callback, and maps the segments of other nodes of the same
 * device as udkd announces them.  Each open stream adds one RT thread
 * (SCHED_FIFO where permitted, else normal priority and one warning) that
 * waits on the stream's activation record, runs the process callback and
 * wakes whoever comes next in the graph.
 *
 * Calls return 0 or a negative errno; when udkd refused a request,
 * udk_client_error() holds its sentence ("no object 42", "rate 44100: the
 * device runs at 48000 ...").  The calls are serialised: one thread may
 * use a client at a time, apart from the stream's process callback.
 */
#ifndef UDK_CLIENT_H
#define UDK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/device.h>
#include <udk/protocol.h>
#include <udk/resampler.h>

struct udk_client;
struct udk_client_stream;

/*
 * Connect to udkd at @socket_path (NULL: udk_socket_default_path()) as
 * @name (NULL: the program's name).  -ENOENT or -ECONNREFUSED when udkd is
 * not running (udk_client_error(NULL) says where it looked), -EPROTO on a
 * version mismatch.
 */
int udk_client_connect(const char *name, const char *socket_path, struct udk_client **ret);

/* Close the streams, the connection and the thread.  Accepts NULL; returns NULL. */
struct udk_client *udk_client_disconnect(struct udk_client *client);

/*
 * The last error's sentence, "" when there was none.  With @client NULL:
 * the sentence of this thread's last udk_client_connect() ("udkd is not
 * running (no socket at /run/user/1000/udk/udkd.sock)").
 */
const char *udk_client_error(const struct udk_client *client);

/* The session's object id in the registry. */
udk_object_id udk_client_session_id(const struct udk_client *client);

/* The server's name and version from its WELCOME. */
const char *udk_client_server_name(const struct udk_client *client);

/*
 * The registry under @root (0: all of it), parents before children.
 * *@ret is a calloc'd array of OBJECT messages (each UDK_MSG_SIZE_MAX bytes
 * apart: use udk_client_objects_at()); free() it.
 */
int udk_client_list(struct udk_client *client, udk_object_id root, struct udk_msg_object **ret,
                    size_t *ret_n);

static inline const struct udk_msg_object *udk_client_objects_at(const struct udk_msg_object *objects, size_t i)
{
        return (const struct udk_msg_object *)((const char *)objects + i * UDK_MSG_SIZE_MAX);
}

/* One object; @ret must hold UDK_MSG_SIZE_MAX bytes.  -ENOENT when there is no such object. */
int udk_client_info(struct udk_client *client, udk_object_id id, struct udk_msg_object *ret);

/*
 * Find an object by id ("42"), UID, name, or path of names from the root
 * ("virtual/demo/volume").  -ENOENT or -EEXIST (ambiguous: more than one
 * object by that name) with a sentence in udk_client_error().
 */
int udk_client_find(struct udk_client *client, const char *what, udk_object_id *ret);

/*
 * Set @control of object @id to @value (see struct udk_msg_set_control).
 * -ENOENT (no such object or control), -ERANGE/-EINVAL (bad value) with
 * udkd's sentence.
 */
int udk_client_set_control(struct udk_client *client, udk_object_id id, const char *control, const char *value);

/*
 * The statistics of @device: the cycle's into @ret_device, up to @max_nodes
 * nodes' into @ret_nodes (in graph order), their number into @ret_n_nodes.
 */
int udk_client_stats(struct udk_client *client, udk_object_id device, struct udk_msg_stats_device *ret_device,
                     struct udk_msg_stats_node *ret_nodes, size_t max_nodes, size_t *ret_n_nodes);

/*
 * Events: @fn gets each ADDED, REMOVED, CHANGED and NODE_STATE message, on
 * the client's background thread.  @mask is UDK_SUBSCRIBE_*; NODE_STATE
 * events of the client's own streams always come.  @fn NULL unsubscribes.
 */
typedef void (*udk_client_event_fn)(void *data, const struct udk_msg_header *event);
int udk_client_subscribe(struct udk_client *client, uint32_t mask, udk_client_event_fn fn, void *data);

/* A round trip to udkd and back. */
int udk_client_ping(struct udk_client *client);

/*
 * udk_client_find() among the objects of class @klass only ("driver",
 * "nub", "personality"), so that a driver and a nub may share a name: an
 * id or a path must name an object of that class (-ENOTTY, "object 42 is a
 * nub, not a driver"), a name or UID is looked for among that class
 * (-ENOENT "no driver foo", -EEXIST "2 drivers are named foo (ids 7, 9):
 * give an id").
 */
int udk_client_find_class(struct udk_client *client, const char *klass, const char *what, udk_object_id *ret);

/* --- drivers --- */

/*
 * Call method @selector of driver @driver (IOUserClient's ExternalMethod):
 * @n_scalars_in scalars (at most UDK_CALL_SCALARS_MAX) and @struct_in_size
 * bytes (at most UDK_CALL_STRUCT_MAX) in; up to UDK_CALL_SCALARS_MAX
 * scalars into @scalars_out (which must hold that many; NULL when none are
 * wanted) and up to @struct_out_max bytes into @struct_out out.  The
 * counts that came back go to *@ret_n_scalars_out and *@ret_struct_out_size
 * (either may be NULL; both 0 when the method gave no answer).
 *
 * Returns the method's status: 0, a negative errno the driver returned or
 * udkd refused the call with (-ENOENT no such driver, -EINVAL sizes the
 * method does not take, -EOPNOTSUPP no such selector), or
 * -UDK_E_DRIVER_TERMINATED when the driver crashed, exited or was stopped
 * before it answered; udk_client_error() has the sentence (udk_strerror()'s
 * when udkd gave none).
 */
int udk_client_call(struct udk_client *client, udk_object_id driver, uint64_t selector,
                    const uint64_t *scalars_in, uint32_t n_scalars_in, const void *struct_in,
                    size_t struct_in_size, uint64_t *scalars_out, uint32_t *ret_n_scalars_out,
                    void *struct_out, size_t struct_out_max, size_t *ret_struct_out_size);

/*
 * Restart, stop or start driver @driver (enum udk_driver_action).  A
 * restart or start forgets its crash count and back-off.  -ENOENT when
 * @driver is not a driver, -EINVAL for an unknown action.
 */
int udk_client_driver_control(struct udk_client *client, udk_object_id driver, enum udk_driver_action action);

/* "restart", "stop", "start"; NULL for anything else. */
const char *udk_client_driver_action_name(enum udk_driver_action action);

/*
 * Every personality of nub @nub's family as udkd ranks them for it: the
 * winner first (UDK_MATCH_VERDICT_WON, at most one), the others that
 * matched by rank (LOST), then those a rule failed (FAILED), each with a
 * sentence in its @why.  *@ret is a calloc'd array of *@ret_n candidates;
 * free() it.  -ENOENT when @nub is not a nub.
 */
int udk_client_match(struct udk_client *client, udk_object_id nub, struct udk_msg_match_candidate **ret,
                     size_t *ret_n);

/* "won", "lost", "failed"; "unknown" for anything else. */
const char *udk_client_match_verdict_name(uint32_t verdict);

/*
 * The personality files udkd could not load, one sentence each,
 * "PATH:LINE: reason" (or "PATH: reason"), in the order udkd read them.
 * *@ret is a NULL-terminated array of *@ret_n strings, all in one
 * allocation: free(*@ret) frees them all.
 */
int udk_client_personality_errors(struct udk_client *client, char ***ret, size_t *ret_n);

/* --- streams: a node in a device's graph --- */

struct udk_client_stream_params {
        udk_object_id device;     /* 0: the first device */
        uint32_t input_channels;  /* 0..the device's input channels */
        uint32_t output_channels; /* 0..the device's output channels */
        uint32_t rate;            /* the callback's rate; 0: the device's (see "Rates" below) */
        enum udk_link link;       /* UDK_LINK_DEVICE or UDK_LINK_CHAIN */
        float gain;               /* output gain applied after the callback; 0 is taken as 1.0 */
        const char *name;         /* the node's name; NULL: the client's */
        int rt_priority;          /* SCHED_FIFO priority; 0: $UDK_RT_PRIORITY or 60 */
        int cpu;                  /* pin the RT thread; -1: let the system place it */
        enum udk_resampler_quality quality; /* rate conversion's; 0: very high */
};

/*
 * Rates.  A stream whose @rate is not its device's (any rate in
 * UDK_RESAMPLER_RATE_MIN..UDK_RESAMPLER_RATE_MAX, 8000..768000 Hz; others
 * get -EINVAL) is converted with libsoxr on the stream's RT thread
 * (<udk/rate-adapter.h>).  The callback still runs once per device cycle,
 * at the cycle's deadline, with cycle->frames that is the floor or the ceil
 * of period·rate/device_rate (470 or 471 for 44.1 kHz on a 48 kHz device
 * with 512-frame periods), so it gets exactly its rate's worth of frames;
 * cycle->sample_time counts the stream's frames.  udk_client_stream_period()
 * is the most frames a cycle can have, udk_client_stream_rate() the
 * stream's rate, udk_client_stream_latency() includes what the conversion
 * adds (about 30 ms at 44.1 on 48 kHz at very high quality, whatever the
 * period: libsoxr converts in blocks).
 */

/* Defaults: first device, stereo in and out, the device's rate, device link, gain 1, priority 0
 * (auto), cpu -1, very high quality. */
void udk_client_stream_params_defaults(struct udk_client_stream_params *params);

/*
 * The process callback, on the stream's RT thread, once per cycle: @cycle
 * has the input at T (a private copy; NULL without input channels) and the
 * output to fill (zeroed; NULL without output channels).  It must be RT-safe.
 * A negative return leaves this cycle's output out of the mix.
 */
typedef int (*udk_client_process_fn)(void *data, const struct udk_node_cycle *cycle);

/*
 * Join the graph of @params->device.  The callback runs from the first
 * cycle after every peer has mapped the node (udk_client_stream_wait_running()).
 * -EINVAL with a sentence for channel counts, a rate outside 8000..768000
 * Hz ("rate 4000 Hz: outside 8000..768000") or an unknown quality.
 */
int udk_client_open(struct udk_client *client, const struct udk_client_stream_params *params,
                    udk_client_process_fn process, void *data, struct udk_client_stream **ret);

/* Wait up to @timeout_ms for the first cycle to reach the callback.  -ETIMEDOUT. */
int udk_client_stream_wait_running(struct udk_client_stream *stream, int timeout_ms);

/* Leave the graph and free the stream.  Accepts NULL. */
int udk_client_close(struct udk_client_stream *stream);

/* Move the node to @position in its device's graph order (switched at a cycle start). */
int udk_client_stream_move(struct udk_client_stream *stream, uint32_t position);

udk_object_id udk_client_stream_id(const struct udk_client_stream *stream);
/* The callback's rate, and the most frames one of its cycles has (see "Rates"). */
uint32_t udk_client_stream_rate(const struct udk_client_stream *stream);
uint32_t udk_client_stream_period(const struct udk_client_stream *stream);
/* The device's rate and period (the stream's own without conversion). */
uint32_t udk_client_stream_device_rate(const struct udk_client_stream *stream);
uint32_t udk_client_stream_device_period(const struct udk_client_stream *stream);
uint32_t udk_client_stream_input_channels(const struct udk_client_stream *stream);
uint32_t udk_client_stream_output_channels(const struct udk_client_stream *stream);
/* Frames at the stream's rate: the device's input and output latency (safety offsets
 * included), and the rate conversion's when there is one. */
uint32_t udk_client_stream_latency(const struct udk_client_stream *stream, enum udk_direction dir);
/* The state udkd last told (UDK_NODE_*). */
enum udk_node_state udk_client_stream_state(const struct udk_client_stream *stream);
/* Cycles the callback ran. */
uint64_t udk_client_stream_cycles(const struct udk_client_stream *stream);
/* Cycles whose rate conversion ran short or over (0 without conversion; never, by design). */
uint64_t udk_client_stream_conversion_xruns(const struct udk_client_stream *stream);
/*
 * The activation times of the cycle the process callback is running for
 * (CLOCK_MONOTONIC ns): @ret_signal_time when the stream was triggered
 * (stamped by whoever triggered it: udkd for the first node of the graph,
 * else the node before it) and @ret_awake_time when its RT thread woke.
 * Meaningful from the process callback only.  RT-safe.
 */
void udk_client_stream_cycle_times(const struct udk_client_stream *stream, uint64_t *ret_signal_time,
                                   uint64_t *ret_awake_time);
/* True when the RT thread got SCHED_FIFO. */
bool udk_client_stream_is_realtime(const struct udk_client_stream *stream);
/* The device's zero timestamp (mapped read-only). */
const struct udk_zero_timestamp *udk_client_stream_zero_timestamp(const struct udk_client_stream *stream);

#endif
