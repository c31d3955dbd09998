/* SPDX-License-Identifier: MIT */
/*
 * Devices and streams, after AudioDriverKit's IOUserAudioDevice and
 * IOUserAudioStream, and the IO cycle that runs them.
 *
 * A device has one input and one output stream (either may have 0
 * channels), a backend, controls, IO handlers and a graph of nodes.  Each
 * stream's ring is float32 interleaved, ring_frames long, in the device's
 * shared-memory segment; frame T of a stream lives at T % ring_frames.  The
 * ring is a whole number of periods and the cycle's sample time is always a
 * multiple of the period, so one period of a ring is one contiguous block.
 *
 * The IO cycle, once per period of N frames at sample time T, on the
 * device's RT thread:
 *   1 backend wait       5 graph: nodes in order, each reads input at T
 *   2 clock (zero ts)      and fills its own output
 *   3 backend read       6 mix: node outputs -> output ring at T
 *   4 handlers           7 handlers UDK_IO_WRITE_END
 *     UDK_IO_BEGIN_READ  8 backend write
 *                        9 statistics
 * A wake more than a period late, or a cycle that ends after the next
 * deadline, is an xrun: counted with its lateness; the schedule stays on its
 * absolute grid (sample time jumps over the periods that were missed), so
 * the clock never drifts.
 *
 * Handlers and nodes are added and removed by the control thread while the
 * device runs: it builds a new plan, the RT thread takes it at the start of
 * a cycle with one atomic exchange and hands the old one back through a
 * lock-free queue; udk_device_collect() frees what came back.
 */
#ifndef UDK_DEVICE_H
#define UDK_DEVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <udk/activation.h>
#include <udk/backend.h>
#include <udk/clock.h>
#include <udk/control.h>
#include <udk/format.h>
#include <udk/io.h>
#include <udk/object.h>
#include <udk/stats.h>

#define UDK_RATE_MIN          8000u
#define UDK_RATE_MAX          192000u
#define UDK_PERIOD_MIN        16u
#define UDK_PERIOD_MAX        4096u
#define UDK_CHANNELS_MAX      32u
#define UDK_DEVICE_CONTROLS_MAX 128u
#define UDK_DEVICE_HANDLERS_MAX 32u
#define UDK_DEVICE_NODES_MAX  64u
#define UDK_DEVICE_REMOTES_MAX 64u
#define UDK_CLIENT_DEADLINE_DEFAULT 75u /* percent of the period */
#define UDK_LATE_LIMIT_DEFAULT      50u /* cycles in a row */

enum udk_direction {
        UDK_DIRECTION_INPUT = 0,
        UDK_DIRECTION_OUTPUT = 1,
};

enum udk_transport {
        UDK_TRANSPORT_VIRTUAL = 0,
        UDK_TRANSPORT_USB,
        UDK_TRANSPORT_PCI,
        UDK_TRANSPORT_BUILTIN,
};

struct udk_device_config {
        char name[UDK_OBJECT_NAME_MAX];
        char uid[UDK_OBJECT_NAME_MAX]; /* stable across restarts; defaults to "udk:<name>" */
        uint32_t rate;            /* UDK_RATE_MIN..UDK_RATE_MAX */
        uint32_t period;          /* frames, UDK_PERIOD_MIN..UDK_PERIOD_MAX */
        uint32_t ring_periods;    /* ring = period * ring_periods frames; 2..64, default 4 */
        uint32_t input_channels;  /* 0..UDK_CHANNELS_MAX */
        uint32_t output_channels; /* 0..UDK_CHANNELS_MAX */
        enum udk_sample_format format; /* the hardware's */
        int rt_priority;          /* SCHED_FIFO priority 1..99; 0 runs at normal priority */
        int cpu;                  /* pin the RT thread to this CPU; -1 leaves it free */
        enum udk_transport transport;
        uint32_t client_deadline; /* percent of the period the clients may take, 10..95 */
        uint32_t late_limit;      /* late cycles in a row before a client is suspended, 1..100000 */
};

/* 48 kHz, 64 frames, stereo in and out, f32, 4 periods, priority 70, no
 * pinning, clients' deadline at 75 % of the period, suspended after 50 late
 * cycles in a row. */
void udk_device_config_defaults(struct udk_device_config *cfg);

/* -EINVAL/-ERANGE with a sentence in @err naming the field and its bounds. */
int udk_device_config_check(const struct udk_device_config *cfg, char *err, size_t err_size);

struct udk_stream {
        struct udk_object obj;
        enum udk_direction direction;
        enum udk_sample_format format; /* the hardware's; the ring is float32 */
        uint32_t rate;
        uint32_t channels;
        uint32_t starting_channel;     /* 1-based, as in AudioDriverKit */
        uint32_t latency;              /* frames */
        uint32_t ring_frames;
        float *ring;                   /* ring_frames * channels floats, in the device segment */
};

/* Frames at @sample_time in @stream's ring (period-aligned: a whole period
 * from here is contiguous).  RT-safe. */
static inline float *udk_stream_frames(const struct udk_stream *stream, uint64_t sample_time)
{
        return stream->ring + (size_t)(sample_time % stream->ring_frames) * stream->channels;
}

struct udk_device;
struct udk_handler;
struct udk_node;

/*
 * Create a device for @cfg on @backend (checked first: -EINVAL/-ERANGE and a
 * sentence in @err).  The device is not open yet: give it backend options,
 * then udk_device_open().  Not RT-safe.
 */
int udk_device_create(const struct udk_device_config *cfg, const struct udk_backend_ops *backend,
                      struct udk_device **ret, char *err, size_t err_size);

/* The backend's set_option: -ENOENT when the backend has no such key. */
int udk_device_set_backend_option(struct udk_device *dev, const char *key, const char *value, char *err,
                                  size_t err_size);

/* Allocate the shared segment and stream rings, open the backend. */
int udk_device_open(struct udk_device *dev, char *err, size_t err_size);

/*
 * Start the RT thread.  Where SCHED_FIFO is refused the thread runs at
 * normal priority and one warning says so; udk_device_is_realtime() tells.
 */
int udk_device_start(struct udk_device *dev);

/*
 * 0, or the negative errno (-ENODEV: the hardware is gone) with which the
 * backend's wait failed for good: the RT thread has then stopped on its
 * own, and the device waits for the control thread to remove it.
 * Lock-free; any thread.
 */
int udk_device_failure(const struct udk_device *dev);

/* Stop the RT thread (it finishes its cycle) and the backend.  Idempotent. */
void udk_device_stop(struct udk_device *dev);

/* Stop, close, free everything.  Accepts NULL; returns NULL. */
struct udk_device *udk_device_destroy(struct udk_device *dev);

/*
 * Run one IO cycle (steps 2 to 9) on the calling thread, as the RT thread
 * does after its wait, with @host_time as the wake time.  For benchmarks
 * and deterministic tests; -EBUSY while the RT thread runs.  The first call
 * starts the backend.
 */
int udk_device_cycle(struct udk_device *dev, uint64_t host_time);

/* --- for backends --- */

/*
 * From the backend's open only: the hardware runs at @rate and @period
 * (JACK's), not at the configuration's; the segments and rings are made
 * anew for them.  -EBUSY outside open, -ERANGE with a sentence in @err.
 */
int udk_device_set_timing(struct udk_device *dev, uint32_t rate, uint32_t period, char *err, size_t err_size);

/*
 * From the backend's open: the backend brings its own RT thread (JACK's
 * process callback), which calls udk_device_run_cycle() once per period
 * between the backend's start and stop; udk_device_start() then starts no
 * thread of its own, and the backend's stop must return only once its
 * thread left the cycle.  @realtime: that thread is SCHED_FIFO at
 * @priority (which then replaces the configuration's rt_priority).
 */
void udk_device_use_backend_thread(struct udk_device *dev, bool realtime, int priority);

/*
 * One IO cycle (steps 2 to 9) on the backend's thread: @wake_time is now,
 * @boundary_time the backend's time of the period boundary (it feeds the
 * DLL), @skipped_frames how far the backend's clock moved past the one
 * period since the last cycle (an xrun: counted, the sample time follows).
 * -EAGAIN outside start..stop (the backend then plays silence).  RT-safe.
 */
int udk_device_run_cycle(struct udk_device *dev, uint64_t wake_time, uint64_t boundary_time,
                         uint64_t skipped_frames);

/*
 * What a backend asks of the control thread, from any thread (its
 * notification thread: a JACK server that went away, a new buffer size):
 * RECONFIGURE builds the device again (rate and period anew), REMOVE takes
 * it away.  @reason (may be NULL) says why; the first one stays.  RT-safe:
 * an atomic or and a bounded copy.
 */
enum {
        UDK_DEVICE_REQUEST_RECONFIGURE = 1u << 0,
        UDK_DEVICE_REQUEST_REMOVE = 1u << 1,
};
void udk_device_request(struct udk_device *dev, uint32_t requests, const char *reason);

/* The control thread takes the requests (0: none) and the reason into @reason. */
uint32_t udk_device_take_requests(struct udk_device *dev, char *reason, size_t reason_size);

/* Free handler and node plans the RT thread has retired.  Control thread;
 * call it every few periods (udkd does, from its event loop). */
void udk_device_collect(struct udk_device *dev);

/* --- properties (control thread, or RT where marked) --- */
udk_object_id udk_device_id(const struct udk_device *dev);                  /* RT-safe */
const struct udk_object *udk_device_object(const struct udk_device *dev);
const struct udk_device_config *udk_device_config(const struct udk_device *dev);
const char *udk_device_uid(const struct udk_device *dev);
const struct udk_backend_ops *udk_device_backend(const struct udk_device *dev);
void *udk_device_backend_instance(const struct udk_device *dev);
uint32_t udk_device_ring_frames(const struct udk_device *dev);
bool udk_device_is_running(const struct udk_device *dev);
bool udk_device_is_realtime(const struct udk_device *dev);

/* Latency in frames (the backend's, reported to clients) and safety offsets. */
void udk_device_set_latency(struct udk_device *dev, enum udk_direction dir, uint32_t latency,
                            uint32_t safety_offset);
uint32_t udk_device_latency(const struct udk_device *dev, enum udk_direction dir);
uint32_t udk_device_safety_offset(const struct udk_device *dev, enum udk_direction dir);

/* The stream of @dir, NULL when it has no channels.  RT-safe. */
struct udk_stream *udk_device_stream(struct udk_device *dev, enum udk_direction dir);

/* The device's zero timestamp (in its shared segment) and statistics. */
const struct udk_zero_timestamp *udk_device_zero_timestamp(const struct udk_device *dev);
const struct udk_cycle_stats *udk_device_stats(const struct udk_device *dev);

/* The shared-memory segment holding the zero timestamp, statistics and rings. */
int udk_device_shm_fd(const struct udk_device *dev);
size_t udk_device_shm_size(const struct udk_device *dev);

/* --- controls --- */

/*
 * Add a control to the device; the device owns it.  Returns the control or
 * NULL (-errno in *@ret_error when not NULL: -EEXIST for a taken name,
 * -ENOSPC beyond UDK_DEVICE_CONTROLS_MAX, -EINVAL for bad ranges).
 */
struct udk_control *udk_device_add_level_control(struct udk_device *dev, const char *name, float min_db,
                                                 float max_db, float default_db, int *ret_error);
struct udk_control *udk_device_add_boolean_control(struct udk_device *dev, const char *name, bool value,
                                                   int *ret_error);
struct udk_control *udk_device_add_selector_control(struct udk_device *dev, const char *name,
                                                    const struct udk_selector_item *items, uint32_t n_items,
                                                    int32_t value, int *ret_error);
struct udk_control *udk_device_add_number_control(struct udk_device *dev, const char *name, float min,
                                                  float max, float value, int *ret_error);

struct udk_control *udk_device_find_control(struct udk_device *dev, const char *name);
uint32_t udk_device_n_controls(const struct udk_device *dev);
struct udk_control *udk_device_control(struct udk_device *dev, uint32_t index);

/* --- IO handlers --- */

/*
 * Add a handler after the existing ones, for the operations in @ops
 * (UDK_IO_OPS_*).  It runs from the next cycle on.  @destroy (may be NULL)
 * is called with @ctx on the control thread once the handler is removed and
 * the RT thread let go of it.  -ENOSPC beyond UDK_DEVICE_HANDLERS_MAX.
 */
int udk_device_add_handler(struct udk_device *dev, const char *name, udk_io_handler_fn fn, void *ctx,
                           uint32_t ops, void (*destroy)(void *ctx), struct udk_handler **ret);

/* Remove @handler from the next cycle on; its @destroy runs later, from
 * udk_device_collect() (or udk_device_destroy()). */
int udk_device_remove_handler(struct udk_device *dev, struct udk_handler *handler);

uint32_t udk_device_n_handlers(const struct udk_device *dev);
const char *udk_handler_name(const struct udk_handler *handler);
udk_object_id udk_handler_id(const struct udk_handler *handler);
void *udk_handler_context(const struct udk_handler *handler);
struct udk_handler *udk_device_handler(struct udk_device *dev, uint32_t index);

/* An opaque tag a framework puts on the handlers it made (dsp.c tags its
 * instances with their plugin) so it can recognise them later. */
void udk_handler_set_tag(struct udk_handler *handler, const void *tag);
const void *udk_handler_tag(const struct udk_handler *handler);

/* --- graph nodes (in-process; remote clients build on this) --- */

/*
 * The graph step of a cycle for one node: read the device input at T
 * (@input, frames * input channels, NULL without input), fill @output
 * (frames * output channels, NULL without output; zeroed before the call).
 * A negative return leaves the node's output out of this cycle's mix.
 */
struct udk_node_cycle {
        uint64_t sample_time;
        uint64_t host_time;
        uint32_t frames;
        uint32_t input_channels;
        uint32_t output_channels;
        const float *input;
        float *output;
};

typedef int (*udk_node_process_fn)(void *data, const struct udk_node_cycle *cycle);

int udk_device_add_node(struct udk_device *dev, const char *name, udk_node_process_fn process, void *data,
                        void (*destroy)(void *data), struct udk_node **ret);
int udk_device_remove_node(struct udk_device *dev, struct udk_node *node);
uint32_t udk_device_n_nodes(const struct udk_device *dev);

/* --- remote nodes: clients in other processes --- */

/*
 * A client's node, woken through its activation record (<udk/activation.h>)
 * in a segment it shares with udkd.  The cycle runs the remote nodes after
 * the in-process ones, in their order: for each it fills the input buffer
 * from the device (or, for a chain link, points it at the output of the
 * node before), writes the cycle's fields into its activation record,
 * triggers the first node and waits on the device's graph record (see
 * udk_device_graph_shm_fd()) until the last one wakes it or the deadline
 * (client_deadline percent of the period after the period boundary) passes.
 * A node past the deadline is neutralised, left out of the mix and counted
 * late; the cycle carries on with the nodes after it.  A node late
 * late_limit cycles in a row is suspended: left out of every cycle after.
 *
 * Everything in @activation, @input and @output is memory a client can
 * write: the cycle reads only the status and the times there.
 */
struct udk_remote_desc {
        const char *name;
        struct udk_activation *activation;
        float *input;             /* frames * input_channels, filled by the cycle */
        const float *output;      /* frames * output_channels, mixed by the cycle */
        uint32_t input_channels;  /* <= the device's; the device's first ones */
        uint32_t output_channels; /* <= the device's */
        int32_t slot;             /* the peer slot clients know the node by, 0..63 */
        bool chain;               /* input: the output of the node before it */
        float gain;               /* written into the record for the client to apply */
        void (*destroy)(void *data); /* control thread, once no plan holds the node */
        void *data;
};

/* Figures the RT thread keeps per remote node; read them from the control thread. */
struct udk_remote_stats {
        _Atomic uint64_t cycles;   /* cycles it was due in: triggered, or skipped while still stuck */
        _Atomic uint64_t finished; /* cycles it finished in time */
        _Atomic uint64_t late;     /* cycles it missed the deadline (or was still stuck) */
        _Atomic uint64_t late_run; /* consecutive late cycles now */
        _Atomic bool suspended;
        struct udk_histogram wake; /* signal to awake, ns */
        struct udk_histogram busy; /* awake to finish, ns */
};

struct udk_remote;

/* Add at the end of the order (-ENOSPC beyond UDK_DEVICE_REMOTES_MAX, -EINVAL for channel counts). */
int udk_device_add_remote(struct udk_device *dev, const struct udk_remote_desc *desc, struct udk_remote **ret);
/* Out of the next cycle; @destroy runs once the RT thread let go of it. */
int udk_device_remove_remote(struct udk_device *dev, struct udk_remote *remote);
/* To @position in the order (past the end: last), from the next cycle on. */
int udk_device_move_remote(struct udk_device *dev, struct udk_remote *remote, uint32_t position);
uint32_t udk_device_n_remotes(const struct udk_device *dev);
struct udk_remote *udk_device_remote(struct udk_device *dev, uint32_t index);
/* Its place in the order, or -ENOENT. */
int udk_device_remote_position(const struct udk_device *dev, const struct udk_remote *remote);

void udk_remote_set_gain(struct udk_remote *remote, float gain);
float udk_remote_gain(const struct udk_remote *remote);
const struct udk_remote_stats *udk_remote_stats(const struct udk_remote *remote);
bool udk_remote_is_suspended(const struct udk_remote *remote);
int32_t udk_remote_slot(const struct udk_remote *remote);

/* The device's graph segment: the cycle's own activation record at offset
 * 0, which the last client triggers.  Clients map it read-write. */
int udk_device_graph_shm_fd(const struct udk_device *dev);
size_t udk_device_graph_shm_size(const struct udk_device *dev);

/* First trigger to the last finish, per cycle with remote nodes (ns). */
const struct udk_histogram *udk_device_graph_times(const struct udk_device *dev);

/* Where the zero timestamp is in udk_device_shm_fd()'s segment. */
size_t udk_device_zts_offset(void);

/* --- the RT thread, for tests that watch it --- */

/*
 * Called on the RT thread right before its first cycle and right after its
 * last one (after setup, so a check installed in @enter sees only the
 * cycle's own work).  Set before udk_device_start().  On a backend's own
 * thread (udk_device_use_backend_thread) @enter runs before its first
 * cycle and @leave never: the thread is the backend's.
 */
struct udk_rt_hooks {
        void (*enter)(void *data);
        void (*leave)(void *data);
        void *data;
};
void udk_device_set_rt_hooks(struct udk_device *dev, const struct udk_rt_hooks *hooks);

/* True on a udk RT thread between its hooks' enter and leave, and on a
 * backend's thread inside udk_device_run_cycle().  RT-safe. */
bool udk_rt_thread_is_current(void);

/*
 * Lock the process's memory (mlockall, current and future) so the RT thread
 * never waits for a page; one warning where it is refused.  Returns 0 or the
 * negative errno of the refusal.
 */
int udk_rt_lock_memory(void);

#endif
