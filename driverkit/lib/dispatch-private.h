/* SPDX-License-Identifier: MIT */
/* The dispatch queue's insides, shared by its files in driverkit/lib/. */
#ifndef UDK_DISPATCH_PRIVATE_H
#define UDK_DISPATCH_PRIVATE_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <udk/driver.h>
#include <udk/ring.h>
#include <udk/shm.h>

/*
 * What an SQE's user data points at: the CQE is handed to @complete.
 * User data 0 marks SQEs whose completion nobody waits for (cancels).
 */
struct dispatch_op {
        void (*complete)(struct dispatch_op *op, int res);
};

enum dispatch_source_kind {
        SOURCE_FD,
        SOURCE_EVENT, /* an eventfd of its own */
        SOURCE_TIMER, /* a timerfd of its own */
        SOURCE_DATA,  /* a data queue's eventfd */
};

/*
 * Whose code a source or an action runs: one driver instance of a shared
 * host.  What the instance's code creates is its own (the queue's current
 * owner while it runs).  Muted once the instance ended, so that none of
 * it runs again; dispatch_owner_reclaim() then frees what it left behind.
 */
struct dispatch_owner {
        bool muted;
};

/*
 * Every source is one fd polled by a one-shot POLL_ADD, armed again after
 * each callback: level-triggered.  A source destroyed while its poll is in
 * flight, or from inside its own callback, is only marked dead and freed
 * when the kernel or the callback lets go of it.
 */
struct udk_dispatch_source {
        struct dispatch_op op;
        struct udk_dispatch_queue *q;
        enum dispatch_source_kind kind;
        int fd;
        bool owns_fd;
        uint32_t events;  /* UDK_DISPATCH_* asked for */
        uint32_t revents; /* UDK_DISPATCH_* of the last wake */
        udk_dispatch_fn fn;
        void *data;
        bool in_flight, in_callback, dead;
        struct dispatch_owner *owner;            /* NULL: the host's own */
        struct udk_dispatch_source *prev, *next; /* the queue's list */
};

/*
 * An action's state, changed by compare-and-swap because
 * udk_action_complete() may come from any thread:
 *   IDLE -> IO (a read or write in flight) -> IDLE when its CQE came
 *   IDLE -> QUEUED (completed by hand, waiting for the queue) -> IDLE
 * Its callback runs after the state is IDLE again, so it may start the
 * next operation.
 */
enum action_state {
        ACTION_IDLE = 0,
        ACTION_IO = 1,
        ACTION_QUEUED = 2,
};

struct udk_action {
        struct dispatch_op op;
        struct udk_dispatch_queue *q;
        udk_action_fn fn;
        void *data;
        _Atomic int state;
        int result;
        bool in_callback, dead;
        struct dispatch_owner *owner;        /* NULL: the host's own */
        struct udk_action *completed_next;   /* q->completed, under q->lock */
        struct udk_action *prev, *next;      /* the queue's list */
};

struct udk_dispatch_queue {
        struct io_uring ring;
        bool quit;
        int quit_code;

        struct udk_dispatch_source *sources;
        struct udk_action *actions;
        struct dispatch_owner *owner; /* whose code runs now: what it creates is its */

        /* Actions completed by hand, from any thread; the wake source says there are some. */
        pthread_mutex_t lock;
        struct udk_action *completed_head, *completed_tail;
        struct udk_dispatch_source *wake;
};

/* An SQE, submitting what is queued when the ring is full; NULL when even that fails. */
struct io_uring_sqe *dispatch_get_sqe(struct udk_dispatch_queue *q);

/*
 * Run @owner's code from here on (NULL: the host's); returns the owner
 * before, to be put back.
 */
struct dispatch_owner *dispatch_owner_enter(struct udk_dispatch_queue *q, struct dispatch_owner *owner);
/* Destroy every source and action of @owner that it did not destroy itself. */
void dispatch_owner_reclaim(struct udk_dispatch_queue *q, struct dispatch_owner *owner);

/* The actions' part of the queue (action.c). */
void dispatch_actions_wake(void *data, struct udk_dispatch_source *source);
void dispatch_actions_free_all(struct udk_dispatch_queue *q);
void dispatch_actions_reclaim(struct udk_dispatch_queue *q, struct dispatch_owner *owner);

struct udk_data_queue {
        struct udk_shm shm;
        struct udk_ring ring;
        int eventfd;
        uint32_t capacity, record_size;
};

#endif
