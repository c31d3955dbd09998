/* SPDX-License-Identifier: MIT */
/*
 * Device clocks: the zero timestamp (AudioDriverKit's, which maps a sample
 * time to a CLOCK_MONOTONIC host time) published through a seqlock in shared
 * memory, and a delay-locked loop that estimates a device's real rate from
 * the host times of its period boundaries.
 */
#ifndef UDK_CLOCK_H
#define UDK_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define UDK_NSEC_PER_SEC 1000000000ull

/* CLOCK_MONOTONIC in nanoseconds.  RT-safe (vDSO, no system call). */
static inline uint64_t udk_time_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * UDK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline struct timespec udk_time_to_timespec(uint64_t ns)
{
        return (struct timespec){ .tv_sec = (time_t)(ns / UDK_NSEC_PER_SEC),
                                  .tv_nsec = (long)(ns % UDK_NSEC_PER_SEC) };
}

/*
 * Seqlock-protected zero timestamp.  One writer (the device's RT thread),
 * any number of readers in any process.  seq is odd while a write is in
 * progress.  Every field is atomic so a reader racing the writer is not a
 * data race in C11's sense; the sequence makes the snapshot consistent.
 */
struct udk_zero_timestamp {
        _Atomic uint32_t seq;
        uint32_t reserved;             /* must be 0 */
        _Atomic uint64_t sample_time;  /* frames since the device started */
        _Atomic uint64_t host_time;    /* CLOCK_MONOTONIC ns of sample_time */
        _Atomic uint64_t rate_milli;   /* estimated rate in millihertz */
};

_Static_assert(sizeof(struct udk_zero_timestamp) == 32, "zero timestamp layout");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2, "lock-free atomics in shared memory");

/* Writer side.  RT-safe. */
void udk_zts_publish(struct udk_zero_timestamp *zts, uint64_t sample_time, uint64_t host_time,
                     uint64_t rate_milli);

/*
 * Reader side: a consistent snapshot.  Retries while a write is in
 * progress, at most a bounded number of times, then -EAGAIN (a writer that
 * died mid-write must not hang the reader).  -ENODATA before the first
 * publication.  Outputs are untouched on failure; any of them may be NULL.
 * RT-safe.
 */
int udk_zts_read(const struct udk_zero_timestamp *zts, uint64_t *ret_sample_time, uint64_t *ret_host_time,
                 uint64_t *ret_rate_milli);

/*
 * Delay-locked loop (Fons Adriaensen, "Using a DLL to filter time"): fed the
 * host time at which each period boundary was observed, it estimates when
 * the boundary really happened and how long a period really lasts, so jitter
 * in the wake-ups does not reach the timestamps.  All state is private to
 * the RT thread that feeds it.
 */
struct udk_dll {
        double b, c;          /* loop coefficients */
        double t0, t1;        /* filtered time of this and the next boundary, ns */
        double e2;            /* filtered period, ns */
        double nominal_period; /* ns */
        uint32_t period_frames;
        uint64_t updates;      /* boundaries seen since init or the last reset (which counts as one) */
};

/* @bandwidth_hz: 0.1 to a few Hz; lower is smoother and slower to lock. */
void udk_dll_init(struct udk_dll *dll, double nominal_rate, uint32_t period_frames, double bandwidth_hz);

/*
 * Start again from @host_time (after an xrun or a restart): it becomes the
 * latest boundary, and the period learnt so far is kept.  RT-safe.
 */
void udk_dll_reset(struct udk_dll *dll, uint64_t host_time);

/* Feed the host time of the next period boundary.  RT-safe. */
void udk_dll_update(struct udk_dll *dll, uint64_t host_time);

/* Estimated real rate in frames per second.  RT-safe. */
double udk_dll_rate(const struct udk_dll *dll);

/* Filtered host time of the latest period boundary, ns.  RT-safe. */
uint64_t udk_dll_time(const struct udk_dll *dll);

#endif
