/* SPDX-License-Identifier: MIT */
/*
 * The udk driver SDK: how a driver is written.  DriverKit's IOService on
 * Linux: a driver is a shared object that exports one versioned descriptor,
 * UDK_DRIVER_DESCRIPTOR_SYMBOL; udkd matches it to a nub by its personality
 * (docs/personalities.md) and runs it in a udk-driverhost process of its
 * own, sandboxed (no_new_privs, a seccomp allow-list, Landlock): the driver
 * reaches nothing but the socket to udkd and the descriptors udkd handed it.
 * Personalities with the same `host` key share one such process: their
 * instances then run on one dispatch queue, each on a socket of its own.
 *
 * Its life follows IOService's:
 *   init(drv, state)             the host loaded it; nothing handed yet
 *   start(drv, state, provider)  its provider nub: read its properties,
 *                                publish child nubs (a bus driver), create
 *                                audio devices in udkd (an audio driver)
 *   stop(drv, state)             undo start(): the host exits after it
 *   free(drv, state)             undo init()
 * In a shared host the process goes on after free(): the host destroys the
 * timers, sources and actions the instance left on the queue, but threads,
 * fds and data queues it made are its own to undo.
 * Every callback runs on the driver's dispatch queue, one at a time: an
 * io_uring loop that also carries the driver's timers, fd sources (Linux's
 * IOInterruptDispatchSource), data-queue sources and async completions
 * (OSAction's role).  A callback that blocks holds the queue: udkd's
 * heartbeat then goes unanswered and udkd kills the host as hung.
 *
 * Audio devices live in udkd: their IO cycle runs on udkd's RT thread, with
 * the DSP handlers the driver named (udkd's plugins), so a driver's crash
 * never stops the sound: the device's clock runs on in silence until the
 * restarted driver takes it back under the same UID.
 *
 * Functions return 0 or a negative errno; requests to udkd that udkd
 * refused leave its sentence in udk_driver_error().  None of this is for an
 * RT thread.
 */
#ifndef UDK_DRIVER_H
#define UDK_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/log.h>
#include <udk/object.h>

#define UDK_DRIVER_ABI_VERSION         1
#define UDK_DRIVER_DESCRIPTOR_SYMBOL   udk_driver_descriptor
#define UDK_DRIVER_DESCRIPTOR_NAME     "udk_driver_descriptor"
#define UDK_DRIVER_METHOD_SCALARS_MAX  16u   /* UDK_CALL_SCALARS_MAX */
#define UDK_DRIVER_METHOD_STRUCT_MAX   2048u /* UDK_CALL_STRUCT_MAX */

struct udk_driver;           /* the running instance, the host's */
struct udk_nub;              /* a provider, read-only */
struct udk_dispatch_queue;
struct udk_dispatch_source;
struct udk_data_queue;
struct udk_action;

/* --- methods: what clients call (IOUserClient's ExternalMethod) --- */

/*
 * A call as the method sees it: the sizes were checked against the
 * method's table entry before it runs.  The method fills @scalar_out
 * (up to the entry's n_scalar_out) and @struct_out (up to the smaller of
 * the entry's struct_out_max and what the caller asked for, in
 * struct_out_capacity) and sets the counts it filled.
 */
struct udk_driver_call {
        uint64_t selector;
        const uint64_t *scalar_in;
        uint32_t n_scalar_in;
        const void *struct_in;
        uint32_t struct_in_size;
        uint64_t *scalar_out;
        uint32_t n_scalar_out;        /* set by the method */
        void *struct_out;
        uint32_t struct_out_capacity; /* bytes the method may write */
        uint32_t struct_out_size;     /* set by the method */
        uint32_t caller_uid;
};

#define UDK_DRIVER_SIZE_ANY UINT32_MAX /* an input size the method checks itself */

struct udk_driver_method {
        uint64_t selector;
        const char *name;         /* for messages */
        uint32_t n_scalar_in;     /* exact, or UDK_DRIVER_SIZE_ANY */
        uint32_t struct_in_size;  /* exact, or UDK_DRIVER_SIZE_ANY (then up to the limit) */
        uint32_t n_scalar_out;    /* at most */
        uint32_t struct_out_max;  /* at most */
        int (*fn)(struct udk_driver *drv, void *state, struct udk_driver_call *call);
};

/* --- the descriptor --- */

struct udk_driver_descriptor {
        uint32_t abi_version; /* UDK_DRIVER_ABI_VERSION */
        uint32_t reserved;    /* must be 0 */
        const char *name;
        const char *description;
        size_t state_size;    /* the instance's state, zeroed, passed to every callback */

        int (*init)(struct udk_driver *drv, void *state);                                   /* optional */
        int (*start)(struct udk_driver *drv, void *state, const struct udk_nub *provider); /* required */
        void (*stop)(struct udk_driver *drv, void *state);                                  /* optional */
        void (*free)(struct udk_driver *drv, void *state);                                  /* optional */

        /* A client moved control @control of the driver's device @device to @value (as udkctl shows it). */
        void (*control_changed)(struct udk_driver *drv, void *state, udk_object_id device, const char *control,
                                const char *value); /* optional */

        const struct udk_driver_method *methods;
        size_t n_methods;
};

/* Export @desc (a struct udk_driver_descriptor) as the driver's one entry point. */
#define UDK_DRIVER_EXPORT(desc)                                                                              \
        __attribute__((visibility("default"))) extern const struct udk_driver_descriptor *const              \
                UDK_DRIVER_DESCRIPTOR_SYMBOL;                                                                \
        const struct udk_driver_descriptor *const UDK_DRIVER_DESCRIPTOR_SYMBOL = &(desc)

/* --- the instance --- */

struct udk_dispatch_queue *udk_driver_queue(struct udk_driver *drv);
/* The personality's name and class, the restarts before this run. */
const char *udk_driver_personality(const struct udk_driver *drv);
const char *udk_driver_class(const struct udk_driver *drv);
uint32_t udk_driver_restarts(const struct udk_driver *drv);
/* The personality's property.KEY value, NULL when it has none. */
const char *udk_driver_personality_property(const struct udk_driver *drv, const char *key);
/* udkd's last refusal, "" when there was none. */
const char *udk_driver_error(const struct udk_driver *drv);

/* A line in udkd's log, tagged with the driver (and on the host's stderr). */
void udk_driver_log(struct udk_driver *drv, enum udk_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* --- the provider --- */

udk_object_id udk_nub_id(const struct udk_nub *nub);
const char *udk_nub_name(const struct udk_nub *nub);
const char *udk_nub_family(const struct udk_nub *nub);
/* The value of @key, NULL when the nub has none. */
const char *udk_nub_property(const struct udk_nub *nub, const char *key);
/* @key as a number (decimal or 0x): -ENOENT without it, -EINVAL when it is not one. */
int udk_nub_property_u64(const struct udk_nub *nub, const char *key, uint64_t *ret);
size_t udk_nub_n_properties(const struct udk_nub *nub);
int udk_nub_property_at(const struct udk_nub *nub, size_t index, const char **ret_key, const char **ret_value);
/* Descriptors udkd handed with the nub (its device node, granted files): -1 past the last.  The
 * driver may use them as long as it runs; the host closes them. */
int udk_nub_fd(const struct udk_nub *nub, unsigned index);
unsigned udk_nub_n_fds(const struct udk_nub *nub);

/* --- child nubs (bus drivers) --- */

struct udk_nub_property {
        const char *key;
        const char *value;
};

/*
 * Publish a nub of @family ("test", "usb", ...) named @name with @n props;
 * udkd matches it to a personality and starts that driver.  @handle is the
 * driver's own name for it (unique among its nubs; publishing a handle again
 * is -EEXIST).  *@ret_id (may be NULL) gets its object id.
 */
int udk_driver_publish_nub(struct udk_driver *drv, uint32_t handle, const char *family, const char *name,
                           const struct udk_nub_property *props, size_t n, udk_object_id *ret_id);
/* Unplug: udkd stops the driver bound to it and removes it.  -ENOENT for an unknown handle. */
int udk_driver_remove_nub(struct udk_driver *drv, uint32_t handle);

/* --- audio devices in udkd --- */

/*
 * Create an audio device; @text is the body of a [device] section of
 * udkd's configuration ("name = knob\nuid = acme:knob\nrate = 48000\n
 * backend = virtual\nhandlers = gain\n"): udkd checks it as it checks its
 * own file and refuses a bad line with its sentence.  A device whose uid
 * outlived the driver's previous run is taken back as it is.
 */
int udk_driver_device_create(struct udk_driver *drv, const char *text, udk_object_id *ret_device);

/* Controls the driver owns on its device; a control the device already has (taken back after a restart)
 * is kept with its value and returns 0. */
int udk_driver_device_add_level(struct udk_driver *drv, udk_object_id device, const char *name, double min_db,
                                double max_db, double value_db);
int udk_driver_device_add_boolean(struct udk_driver *drv, udk_object_id device, const char *name, bool value);
int udk_driver_device_add_number(struct udk_driver *drv, udk_object_id device, const char *name, double min,
                                 double max, double value);

/* Move a control of the driver's device (a hardware knob turned): @value as udkctl takes it. */
int udk_driver_device_set_control(struct udk_driver *drv, udk_object_id device, const char *control,
                                  const char *value);

/* --- the dispatch queue --- */

/* CLOCK_MONOTONIC, ns. */
uint64_t udk_dispatch_now(void);

typedef void (*udk_dispatch_fn)(void *data, struct udk_dispatch_source *source);

/*
 * A timer: fires at the absolute CLOCK_MONOTONIC @deadline_ns, then every
 * @interval_ns (0: once).  A periodic timer stays on its grid: a late
 * queue fires once and skips what it missed.
 */
int udk_dispatch_timer_create(struct udk_dispatch_queue *q, uint64_t deadline_ns, uint64_t interval_ns,
                              udk_dispatch_fn fn, void *data, struct udk_dispatch_source **ret);
/* Re-arm (or, with @deadline_ns 0, disarm) a timer. */
int udk_dispatch_timer_set(struct udk_dispatch_source *timer, uint64_t deadline_ns, uint64_t interval_ns);

#define UDK_DISPATCH_READABLE (1u << 0)
#define UDK_DISPATCH_WRITABLE (1u << 1)

/* An fd source: @fn runs each time @fd is ready for @events (udk_dispatch_source_events() tells which);
 * level-triggered.  The fd stays the caller's. */
int udk_dispatch_fd_create(struct udk_dispatch_queue *q, int fd, uint32_t events, udk_dispatch_fn fn, void *data,
                           struct udk_dispatch_source **ret);
uint32_t udk_dispatch_source_events(const struct udk_dispatch_source *source);

/* An eventfd source: @fn runs on the queue after one or more udk_dispatch_signal() from any thread. */
int udk_dispatch_event_create(struct udk_dispatch_queue *q, udk_dispatch_fn fn, void *data,
                              struct udk_dispatch_source **ret);
int udk_dispatch_signal(struct udk_dispatch_source *event); /* any thread; RT-safe (one write(2)) */
int udk_dispatch_source_fd(const struct udk_dispatch_source *source);

/* Stop and free a source; its callback never runs again.  Accepts NULL. */
void udk_dispatch_source_destroy(struct udk_dispatch_source *source);

/*
 * Async completions (OSAction): an action is a callback with its data that
 * an operation completes later, on the queue.  udk_dispatch_read/write
 * start an io_uring read or write of @fd at @offset (-1: the file's
 * position) and complete @action with the byte count or a negative errno.
 * udk_action_complete() completes it by hand, from any thread.
 */
typedef void (*udk_action_fn)(void *data, struct udk_action *action, int result);
int udk_action_create(struct udk_dispatch_queue *q, udk_action_fn fn, void *data, struct udk_action **ret);
void udk_action_destroy(struct udk_action *action); /* cancels what is in flight; accepts NULL */
int udk_action_complete(struct udk_action *action, int result);
int udk_dispatch_read(struct udk_dispatch_queue *q, int fd, void *buf, size_t len, int64_t offset,
                      struct udk_action *action);
int udk_dispatch_write(struct udk_dispatch_queue *q, int fd, const void *buf, size_t len, int64_t offset,
                       struct udk_action *action);

/*
 * Data queues: a single-producer/single-consumer queue of fixed-size
 * records in shared memory (a sealed memfd that can be handed to another
 * process), with an eventfd that says data is available.  The producer
 * enqueues from any one thread (RT-safe); the consumer's source runs its
 * callback on the queue, where it dequeues until empty.
 */
int udk_data_queue_create(uint32_t capacity, uint32_t record_size, struct udk_data_queue **ret);
/* The consumer's side, in the queue's process. */
int udk_dispatch_data_create(struct udk_dispatch_queue *q, struct udk_data_queue *dq, udk_dispatch_fn fn,
                             void *data, struct udk_dispatch_source **ret);
int udk_data_queue_enqueue(struct udk_data_queue *dq, const void *record); /* -ENOSPC when full; RT-safe */
int udk_data_queue_dequeue(struct udk_data_queue *dq, void *record);       /* -EAGAIN when empty */
/* The memfd and eventfd, for handing the queue to another process; that side attaches with
 * udk_data_queue_attach() (and trusts only its own capacity and record size). */
int udk_data_queue_fds(const struct udk_data_queue *dq, int *ret_memfd, int *ret_eventfd);
int udk_data_queue_attach(int memfd, int eventfd, uint32_t capacity, uint32_t record_size,
                          struct udk_data_queue **ret);
void udk_data_queue_destroy(struct udk_data_queue *dq); /* accepts NULL */

#endif
