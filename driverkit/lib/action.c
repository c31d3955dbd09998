/* SPDX-License-Identifier: MIT */
/*
 * Actions (OSAction's role): a callback that an io_uring read or write, or
 * any thread by hand, completes later on the queue.
 */
#include <errno.h>
#include <stdlib.h>

#include <udk/driver-host.h>
#include <udk/util.h>

#include "dispatch-private.h"

static void action_free(struct udk_action *a)
{
        struct udk_dispatch_queue *q = a->q;

        if (a->prev)
                a->prev->next = a->next;
        else
                q->actions = a->next;
        if (a->next)
                a->next->prev = a->prev;
        free(a);
}

static void action_run(struct udk_action *a, int result)
{
        struct dispatch_owner *before;

        if (a->dead) {
                action_free(a);
                return;
        }
        if (a->owner && a->owner->muted)
                return; /* its instance ended: reclaimed with the rest of it */
        before = dispatch_owner_enter(a->q, a->owner);
        a->in_callback = true;
        a->fn(a->data, a, result);
        a->in_callback = false;
        dispatch_owner_enter(a->q, before);
        if (a->dead)
                action_free(a);
}

static void action_io_complete(struct dispatch_op *op, int res)
{
        struct udk_action *a = (struct udk_action *)op;

        atomic_store_explicit(&a->state, ACTION_IDLE, memory_order_release);
        action_run(a, res);
}

/*
 * One action at a time off the list, so that a callback destroying another
 * queued action finds it still there; only those queued before the wake
 * run now, so an action that completes itself again cannot starve the rest.
 */
void dispatch_actions_wake(void *data, struct udk_dispatch_source *source)
{
        struct udk_dispatch_queue *q = data;
        size_t n = 0;

        pthread_mutex_lock(&q->lock);
        for (struct udk_action *it = q->completed_head; it; it = it->completed_next)
                n++;
        pthread_mutex_unlock(&q->lock);

        while (n-- > 0) {
                struct udk_action *a;
                int result;

                pthread_mutex_lock(&q->lock);
                a = q->completed_head;
                if (a) {
                        q->completed_head = a->completed_next;
                        if (!q->completed_head)
                                q->completed_tail = NULL;
                        a->completed_next = NULL;
                }
                pthread_mutex_unlock(&q->lock);
                if (!a)
                        break;
                result = a->result;
                atomic_store_explicit(&a->state, ACTION_IDLE, memory_order_release);
                action_run(a, result);
        }
}

void dispatch_actions_free_all(struct udk_dispatch_queue *q)
{
        while (q->actions)
                action_free(q->actions);
        q->completed_head = q->completed_tail = NULL;
}

void dispatch_actions_reclaim(struct udk_dispatch_queue *q, struct dispatch_owner *owner)
{
        struct udk_action *next;

        for (struct udk_action *a = q->actions; a; a = next) {
                next = a->next;
                if (a->owner == owner && !a->dead)
                        udk_action_destroy(a);
        }
}

UDK_EXPORT int udk_action_create(struct udk_dispatch_queue *q, udk_action_fn fn, void *data,
                                 struct udk_action **ret)
{
        struct udk_action *a;

        if (!q || !fn || !ret)
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->op.complete = action_io_complete;
        a->q = q;
        a->fn = fn;
        a->data = data;
        a->owner = q->owner;
        atomic_init(&a->state, ACTION_IDLE);
        a->next = q->actions;
        if (q->actions)
                q->actions->prev = a;
        q->actions = a;
        *ret = a;
        return 0;
}

UDK_EXPORT void udk_action_destroy(struct udk_action *action)
{
        struct udk_dispatch_queue *q;
        struct io_uring_sqe *sqe;

        if (!action || action->dead)
                return;
        q = action->q;
        action->dead = true;
        switch (atomic_load_explicit(&action->state, memory_order_acquire)) {
        case ACTION_QUEUED: {
                /* Take it off the completed list: its callback must never run. */
                struct udk_action *prev = NULL;

                pthread_mutex_lock(&q->lock);
                for (struct udk_action *it = q->completed_head; it; prev = it, it = it->completed_next) {
                        if (it != action)
                                continue;
                        if (prev)
                                prev->completed_next = it->completed_next;
                        else
                                q->completed_head = it->completed_next;
                        if (q->completed_tail == it)
                                q->completed_tail = prev;
                        break;
                }
                pthread_mutex_unlock(&q->lock);
                break;
        }
        case ACTION_IO:
                /* The read or write is the kernel's until its CQE: cancel it, free the action then. */
                sqe = dispatch_get_sqe(q);
                if (sqe) {
                        io_uring_prep_cancel(sqe, &action->op, 0);
                        io_uring_sqe_set_data(sqe, NULL);
                }
                return;
        default:
                break;
        }
        if (!action->in_callback)
                action_free(action);
}

UDK_EXPORT int udk_action_complete(struct udk_action *action, int result)
{
        struct udk_dispatch_queue *q;
        int idle = ACTION_IDLE;

        if (!action)
                return -EINVAL;
        if (!atomic_compare_exchange_strong_explicit(&action->state, &idle, ACTION_QUEUED, memory_order_acq_rel,
                                                     memory_order_acquire))
                return -EBUSY;
        q = action->q;
        action->result = result;
        pthread_mutex_lock(&q->lock);
        action->completed_next = NULL;
        if (q->completed_tail)
                q->completed_tail->completed_next = action;
        else
                q->completed_head = action;
        q->completed_tail = action;
        pthread_mutex_unlock(&q->lock);
        return udk_dispatch_signal(q->wake);
}

/* Claim @action for an operation of @q's ring. */
static int action_claim(struct udk_dispatch_queue *q, struct udk_action *action)
{
        int idle = ACTION_IDLE;

        if (!q || !action || action->q != q || action->dead)
                return -EINVAL;
        if (!atomic_compare_exchange_strong_explicit(&action->state, &idle, ACTION_IO, memory_order_acq_rel,
                                                     memory_order_acquire))
                return -EBUSY;
        return 0;
}

static int action_rw(struct udk_dispatch_queue *q, bool write, int fd, void *buf, size_t len, int64_t offset,
                     struct udk_action *action)
{
        struct io_uring_sqe *sqe;
        int r;

        if (fd < 0)
                return -EBADF;
        if (!buf || len > UINT32_MAX || offset < -1)
                return -EINVAL;
        r = action_claim(q, action);
        if (r < 0)
                return r;
        sqe = dispatch_get_sqe(q);
        if (!sqe) {
                atomic_store_explicit(&action->state, ACTION_IDLE, memory_order_release);
                return -EBUSY;
        }
        /* Offset -1 is io_uring's "the file's position". */
        if (write)
                io_uring_prep_write(sqe, fd, buf, (unsigned)len, (__u64)offset);
        else
                io_uring_prep_read(sqe, fd, buf, (unsigned)len, (__u64)offset);
        io_uring_sqe_set_data(sqe, &action->op);
        return 0;
}

UDK_EXPORT int udk_dispatch_read(struct udk_dispatch_queue *q, int fd, void *buf, size_t len, int64_t offset,
                                 struct udk_action *action)
{
        return action_rw(q, false, fd, buf, len, offset, action);
}

UDK_EXPORT int udk_dispatch_write(struct udk_dispatch_queue *q, int fd, const void *buf, size_t len,
                                  int64_t offset, struct udk_action *action)
{
        return action_rw(q, true, fd, (void *)buf, len, offset, action);
}

UDK_EXPORT int udk_dispatch_submit(struct udk_dispatch_queue *q, void (*prep)(struct io_uring_sqe *sqe, void *data),
                                   void *data, struct udk_action *action)
{
        struct io_uring_sqe *sqe;
        int r;

        if (!prep)
                return -EINVAL;
        r = action_claim(q, action);
        if (r < 0)
                return r;
        sqe = dispatch_get_sqe(q);
        if (!sqe) {
                atomic_store_explicit(&action->state, ACTION_IDLE, memory_order_release);
                return -EBUSY;
        }
        prep(sqe, data);
        io_uring_sqe_set_data(sqe, &action->op);
        return 0;
}
