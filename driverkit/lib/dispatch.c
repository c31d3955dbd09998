/* SPDX-License-Identifier: MIT */
/*
 * The dispatch queue: one io_uring per driver, run by one thread.  Timers
 * are timerfds, signals eventfds, data queues their eventfd: every source
 * is an fd under a one-shot poll, so one mechanism carries them all.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <udk/driver-host.h>
#include <udk/log.h>
#include <udk/util.h>

#include "dispatch-private.h"

#define QUEUE_ENTRIES 256

/* The only opcodes the queue's ring accepts: what sources, actions and liburing's timed waits use. */
static const uint8_t queue_opcodes[] = {
        IORING_OP_NOP,    IORING_OP_POLL_ADD,     IORING_OP_POLL_REMOVE, IORING_OP_READ,
        IORING_OP_WRITE,  IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT,
};

UDK_EXPORT uint64_t udk_dispatch_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct io_uring_sqe *dispatch_get_sqe(struct udk_dispatch_queue *q)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

        if (!sqe && io_uring_submit(&q->ring) >= 0)
                sqe = io_uring_get_sqe(&q->ring);
        return sqe;
}

static uint32_t poll_mask(uint32_t events)
{
        uint32_t mask = 0;

        if (events & UDK_DISPATCH_READABLE)
                mask |= POLLIN;
        if (events & UDK_DISPATCH_WRITABLE)
                mask |= POLLOUT;
        return mask;
}

static int source_arm(struct udk_dispatch_source *s)
{
        struct io_uring_sqe *sqe = dispatch_get_sqe(s->q);

        if (!sqe)
                return -EBUSY;
        io_uring_prep_poll_add(sqe, s->fd, poll_mask(s->events));
        io_uring_sqe_set_data(sqe, &s->op);
        s->in_flight = true;
        return 0;
}

static void source_free(struct udk_dispatch_source *s)
{
        struct udk_dispatch_queue *q = s->q;

        if (s->prev)
                s->prev->next = s->next;
        else
                q->sources = s->next;
        if (s->next)
                s->next->prev = s->prev;
        if (s->owns_fd && s->fd >= 0)
                close(s->fd);
        free(s);
}

/* Drain a timerfd or an eventfd; false when there was nothing (a timer re-armed since the wake). */
static bool source_drain(struct udk_dispatch_source *s)
{
        uint64_t value;
        ssize_t n;

        do
                n = read(s->fd, &value, sizeof(value));
        while (n < 0 && errno == EINTR);
        return n == (ssize_t)sizeof(value);
}

static void source_complete(struct dispatch_op *op, int res)
{
        struct udk_dispatch_source *s = (struct udk_dispatch_source *)op;
        bool run = true;

        s->in_flight = false;
        if (s->dead) {
                source_free(s);
                return;
        }
        if (res < 0) {
                /* A closed or broken fd: arming it again would spin.  The source stays, inert. */
                udk_warn("dispatch source on fd %d: poll failed: %s; it is no longer watched", s->fd,
                         strerror(-res));
                return;
        }

        switch (s->kind) {
        case SOURCE_FD:
                s->revents = 0;
                if (res & (POLLIN | POLLHUP | POLLERR | POLLRDHUP))
                        s->revents |= UDK_DISPATCH_READABLE;
                if (res & (POLLOUT | POLLERR))
                        s->revents |= UDK_DISPATCH_WRITABLE;
                s->revents &= s->events;
                if (!s->revents) /* an error or hang-up on a write-only source: say writable */
                        s->revents = s->events;
                break;
        case SOURCE_EVENT:
        case SOURCE_TIMER:
        case SOURCE_DATA:
                run = source_drain(s);
                s->revents = UDK_DISPATCH_READABLE;
                break;
        }

        if (s->owner && s->owner->muted)
                return; /* its instance ended: not watched again, reclaimed with the rest of it */
        if (run && s->fn) {
                struct dispatch_owner *before = dispatch_owner_enter(s->q, s->owner);

                s->in_callback = true;
                s->fn(s->data, s);
                s->in_callback = false;
                dispatch_owner_enter(s->q, before);
                if (s->dead) {
                        source_free(s);
                        return;
                }
        }
        if (source_arm(s) < 0)
                udk_error("dispatch source on fd %d: no room in the ring to watch it again", s->fd);
}

static int source_new(struct udk_dispatch_queue *q, enum dispatch_source_kind kind, int fd, bool owns_fd,
                      uint32_t events, udk_dispatch_fn fn, void *data, struct udk_dispatch_source **ret)
{
        struct udk_dispatch_source *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (struct udk_dispatch_source){
                .op.complete = source_complete,
                .q = q,
                .kind = kind,
                .fd = fd,
                .owns_fd = owns_fd,
                .events = events,
                .fn = fn,
                .data = data,
                .owner = q->owner,
                .next = q->sources,
        };
        r = source_arm(s);
        if (r < 0) {
                free(s);
                return r;
        }
        if (q->sources)
                q->sources->prev = s;
        q->sources = s;
        *ret = s;
        return 0;
}

UDK_EXPORT int udk_dispatch_fd_create(struct udk_dispatch_queue *q, int fd, uint32_t events, udk_dispatch_fn fn,
                                      void *data, struct udk_dispatch_source **ret)
{
        if (!q || !fn || !ret)
                return -EINVAL;
        if (fd < 0)
                return -EBADF;
        if (events == 0 || (events & ~(UDK_DISPATCH_READABLE | UDK_DISPATCH_WRITABLE)))
                return -EINVAL;
        return source_new(q, SOURCE_FD, fd, false, events, fn, data, ret);
}

UDK_EXPORT uint32_t udk_dispatch_source_events(const struct udk_dispatch_source *source)
{
        return source ? source->revents : 0;
}

UDK_EXPORT int udk_dispatch_source_fd(const struct udk_dispatch_source *source)
{
        return source ? source->fd : -EINVAL;
}

UDK_EXPORT int udk_dispatch_event_create(struct udk_dispatch_queue *q, udk_dispatch_fn fn, void *data,
                                         struct udk_dispatch_source **ret)
{
        int fd, r;

        if (!q || !fn || !ret)
                return -EINVAL;
        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        r = source_new(q, SOURCE_EVENT, fd, true, UDK_DISPATCH_READABLE, fn, data, ret);
        if (r < 0)
                close(fd);
        return r;
}

UDK_EXPORT int udk_dispatch_signal(struct udk_dispatch_source *event)
{
        uint64_t one = 1;
        ssize_t n;

        if (!event || event->kind != SOURCE_EVENT)
                return -EINVAL;
        do
                n = write(event->fd, &one, sizeof(one));
        while (n < 0 && errno == EINTR);
        /* EAGAIN: the counter is at its maximum, so a wake is pending anyway. */
        if (n < 0 && errno != EAGAIN)
                return -errno;
        return 0;
}

static int timer_arm(int fd, uint64_t deadline_ns, uint64_t interval_ns)
{
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
                              .tv_nsec = (long)(deadline_ns % 1000000000u) },
                .it_interval = { .tv_sec = (time_t)(interval_ns / 1000000000u),
                                 .tv_nsec = (long)(interval_ns % 1000000000u) },
        };

        /* Absolute: the kernel keeps a periodic timer on its grid and counts what a late reader missed. */
        if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
                return -errno;
        return 0;
}

UDK_EXPORT int udk_dispatch_timer_create(struct udk_dispatch_queue *q, uint64_t deadline_ns, uint64_t interval_ns,
                                         udk_dispatch_fn fn, void *data, struct udk_dispatch_source **ret)
{
        _udk_cleanup_close_ int fd = -1;
        int r;

        if (!q || !fn || !ret)
                return -EINVAL;
        fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        r = timer_arm(fd, deadline_ns, interval_ns);
        if (r < 0)
                return r;
        r = source_new(q, SOURCE_TIMER, fd, true, UDK_DISPATCH_READABLE, fn, data, ret);
        if (r < 0)
                return r;
        fd = -1; /* the source's now */
        return 0;
}

UDK_EXPORT int udk_dispatch_timer_set(struct udk_dispatch_source *timer, uint64_t deadline_ns, uint64_t interval_ns)
{
        if (!timer || timer->kind != SOURCE_TIMER || timer->dead)
                return -EINVAL;
        return timer_arm(timer->fd, deadline_ns, interval_ns);
}

UDK_EXPORT int udk_dispatch_data_create(struct udk_dispatch_queue *q, struct udk_data_queue *dq, udk_dispatch_fn fn,
                                        void *data, struct udk_dispatch_source **ret)
{
        if (!q || !dq || !fn || !ret)
                return -EINVAL;
        return source_new(q, SOURCE_DATA, dq->eventfd, false, UDK_DISPATCH_READABLE, fn, data, ret);
}

UDK_EXPORT void udk_dispatch_source_destroy(struct udk_dispatch_source *source)
{
        struct io_uring_sqe *sqe;

        if (!source || source->dead)
                return;
        source->dead = true;
        source->fn = NULL;
        if (source->in_callback)
                return; /* freed when the callback returns */
        if (source->in_flight) {
                /* The kernel still holds the poll: cancel it and free the source at its CQE. */
                sqe = dispatch_get_sqe(source->q);
                if (sqe) {
                        io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)&source->op);
                        io_uring_sqe_set_data(sqe, NULL);
                }
                /* No room to cancel: it is freed with the queue, or at its poll's CQE. */
                return;
        }
        source_free(source);
}

struct dispatch_owner *dispatch_owner_enter(struct udk_dispatch_queue *q, struct dispatch_owner *owner)
{
        struct dispatch_owner *before = q->owner;

        q->owner = owner;
        return before;
}

void dispatch_owner_reclaim(struct udk_dispatch_queue *q, struct dispatch_owner *owner)
{
        struct udk_dispatch_source *next;

        if (!owner)
                return;
        /* Destroying one frees at most itself: the next one stays valid. */
        for (struct udk_dispatch_source *s = q->sources; s; s = next) {
                next = s->next;
                if (s->owner == owner && !s->dead)
                        udk_dispatch_source_destroy(s);
        }
        dispatch_actions_reclaim(q, owner);
}

/*
 * io_uring_register(2) by hand: liburing 2.3 (Debian 12) declares
 * io_uring_register_restrictions() and io_uring_enable_rings() but its
 * version script leaves them out of the shared object.
 */
static int ring_register(struct io_uring *ring, unsigned opcode, const void *arg, unsigned n)
{
        long r = syscall(__NR_io_uring_register, ring->ring_fd, opcode, arg, n);
        return r < 0 ? -errno : 0;
}

UDK_EXPORT int udk_dispatch_queue_create(struct udk_dispatch_queue **ret)
{
        struct io_uring_restriction res[UDK_ELEMENTSOF(queue_opcodes)];
        struct io_uring_params params = { .flags = IORING_SETUP_R_DISABLED };
        struct udk_dispatch_queue *q;
        int r;

        if (!ret)
                return -EINVAL;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        r = io_uring_queue_init_params(QUEUE_ENTRIES, &q->ring, &params);
        if (r < 0) {
                free(q);
                return r;
        }
        memset(res, 0, sizeof(res));
        for (size_t i = 0; i < UDK_ELEMENTSOF(queue_opcodes); i++) {
                res[i].opcode = IORING_RESTRICTION_SQE_OP;
                res[i].sqe_op = queue_opcodes[i];
        }
        /* No IORING_RESTRICTION_REGISTER_OP: once enabled, the ring takes no register operation at all. */
        r = ring_register(&q->ring, IORING_REGISTER_RESTRICTIONS, res, UDK_ELEMENTSOF(res));
        if (r >= 0)
                r = ring_register(&q->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
        if (r < 0) {
                io_uring_queue_exit(&q->ring);
                free(q);
                return r;
        }
        pthread_mutex_init(&q->lock, NULL);
        r = udk_dispatch_event_create(q, dispatch_actions_wake, q, &q->wake);
        if (r < 0) {
                pthread_mutex_destroy(&q->lock);
                io_uring_queue_exit(&q->ring);
                free(q);
                return r;
        }
        *ret = q;
        return 0;
}

UDK_EXPORT void udk_dispatch_queue_destroy(struct udk_dispatch_queue *q)
{
        if (!q)
                return;
        /* Closing the ring ends every poll and IO in flight: nothing refers to the sources after it. */
        io_uring_queue_exit(&q->ring);
        while (q->sources)
                source_free(q->sources);
        dispatch_actions_free_all(q);
        pthread_mutex_destroy(&q->lock);
        free(q);
}

UDK_EXPORT void udk_dispatch_queue_quit(struct udk_dispatch_queue *q, int code)
{
        if (!q)
                return;
        q->quit = true;
        q->quit_code = code;
}

UDK_EXPORT int udk_dispatch_queue_run_once(struct udk_dispatch_queue *q, uint64_t timeout_ns)
{
        struct io_uring_cqe *cqe = NULL;
        int handled = 0, r;

        if (!q)
                return -EINVAL;
        if (timeout_ns == UINT64_MAX) {
                r = io_uring_submit_and_wait(&q->ring, 1);
        } else {
                struct __kernel_timespec ts = {
                        .tv_sec = (long long)(timeout_ns / 1000000000u),
                        .tv_nsec = (long long)(timeout_ns % 1000000000u),
                };
                r = io_uring_submit_and_wait_timeout(&q->ring, &cqe, 1, &ts, NULL);
        }
        if (r < 0 && r != -ETIME && r != -EINTR)
                return r;

        while (!q->quit && io_uring_peek_cqe(&q->ring, &cqe) == 0) {
                struct dispatch_op *op = io_uring_cqe_get_data(cqe);
                int res = cqe->res;

                /* Seen before the callback runs: it may submit, and wait, itself. */
                io_uring_cqe_seen(&q->ring, cqe);
                if (op)
                        op->complete(op, res);
                handled++;
        }
        return handled;
}

UDK_EXPORT int udk_dispatch_queue_run(struct udk_dispatch_queue *q)
{
        if (!q)
                return -EINVAL;
        while (!q->quit) {
                int r = udk_dispatch_queue_run_once(q, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return q->quit_code;
}
