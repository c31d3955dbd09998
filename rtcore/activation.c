/* SPDX-License-Identifier: MIT */
/*
 * Activation records and the futex under them.  All of it is RT-safe: the
 * only system calls are futex wait and wake.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <udk/activation.h>
#include <udk/clock.h>

static bool status_cas(struct udk_activation *a, uint32_t from, uint32_t to)
{
        return atomic_compare_exchange_strong_explicit(&a->status, &from, to, memory_order_acq_rel,
                                                       memory_order_acquire);
}

int udk_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t deadline_ns)
{
        struct timespec ts = {
                .tv_sec = (time_t)(deadline_ns / UDK_NSEC_PER_SEC),
                .tv_nsec = (long)(deadline_ns % UDK_NSEC_PER_SEC),
        };
        long r;

        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a
         * retried wait never stretches the deadline.  Not PRIVATE: the word
         * is in memory shared between processes. */
        r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET, val, deadline_ns ? &ts : NULL, NULL,
                    FUTEX_BITSET_MATCH_ANY);
        if (r == 0)
                return 0;
        if (errno == EAGAIN)
                return 0;
        return -errno;
}

void udk_futex_wake(_Atomic uint32_t *word)
{
        syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

void udk_activation_reset(struct udk_activation *a)
{
        atomic_store_explicit(&a->status, UDK_ACTIVATION_IDLE, memory_order_release);
}

bool udk_activation_trigger(struct udk_activation *a, uint64_t now)
{
        atomic_store_explicit(&a->signal_time, now, memory_order_relaxed);
        if (!status_cas(a, UDK_ACTIVATION_IDLE, UDK_ACTIVATION_TRIGGERED))
                return false;
        udk_futex_wake(&a->status);
        return true;
}

int udk_activation_wait_triggered(struct udk_activation *a, uint64_t deadline_ns, uint64_t *ret_awake_time)
{
        for (;;) {
                uint32_t s = udk_activation_status(a);
                int r;

                /* Neutralised before it woke (or after it returned):
                 * the caller waits, so it is back. */
                if (s == UDK_ACTIVATION_NEUTRALISED) {
                        status_cas(a, UDK_ACTIVATION_NEUTRALISED, UDK_ACTIVATION_IDLE);
                        continue;
                }
                if (s == UDK_ACTIVATION_TRIGGERED) {
                        if (!status_cas(a, UDK_ACTIVATION_TRIGGERED, UDK_ACTIVATION_AWAKE))
                                continue; /* neutralised under us: look again */
                        *ret_awake_time = udk_time_now();
                        atomic_store_explicit(&a->awake_time, *ret_awake_time, memory_order_relaxed);
                        return 0;
                }
                r = udk_futex_wait(&a->status, s, deadline_ns);
                if (r == -ETIMEDOUT || r == -EINTR)
                        return r;
                if (udk_activation_status(a) == s)
                        return -EINTR; /* someone else's wake: let the caller look at its flags */
        }
}

bool udk_activation_finish(struct udk_activation *a, uint64_t now)
{
        atomic_store_explicit(&a->finish_time, now, memory_order_relaxed);
        if (!status_cas(a, UDK_ACTIVATION_AWAKE, UDK_ACTIVATION_FINISHED))
                return false;
        atomic_fetch_add_explicit(&a->cycles, 1, memory_order_relaxed);
        return true;
}

bool udk_activation_neutralise(struct udk_activation *a)
{
        return status_cas(a, UDK_ACTIVATION_TRIGGERED, UDK_ACTIVATION_NEUTRALISED) ||
               status_cas(a, UDK_ACTIVATION_AWAKE, UDK_ACTIVATION_NEUTRALISED);
}

bool udk_activation_recover(struct udk_activation *a)
{
        return status_cas(a, UDK_ACTIVATION_NEUTRALISED, UDK_ACTIVATION_IDLE);
}
