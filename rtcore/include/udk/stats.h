/* SPDX-License-Identifier: MIT */
/*
 * Cycle statistics, written by one RT thread and read by anyone without a
 * lock.  They live in the device's shared-memory segment.
 *
 * A histogram is log-linear: values below 2^UDK_HIST_SUB_BITS nanoseconds
 * have a bucket each, above that every power of two is split into
 * 2^UDK_HIST_SUB_BITS buckets, so a bucket is at most 1/16 (6.25 %) of its
 * value wide.  Percentiles are reported as the upper bound of their bucket,
 * clamped to the exact maximum.
 *
 * Bucket of v: v itself below 16; else, with e = floor(log2(v)),
 * 16 * (e - 3) + the 4 bits of v below its top bit.  Values of 2^40 and above
 * share the last bucket.
 */
#ifndef UDK_STATS_H
#define UDK_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define UDK_HIST_SUB_BITS 4
#define UDK_HIST_SUB      (1u << UDK_HIST_SUB_BITS)
#define UDK_HIST_OCTAVES  40 /* up to 2^40 ns, about 18 minutes */
#define UDK_HIST_BUCKETS  (UDK_HIST_SUB * (UDK_HIST_OCTAVES - UDK_HIST_SUB_BITS + 1))

/* Single writer; readers see each field atomically (relaxed is enough for
 * statistics: a snapshot may be one sample behind in a field). */
struct udk_histogram {
        _Atomic uint64_t count;
        _Atomic uint64_t sum;
        _Atomic uint64_t min;
        _Atomic uint64_t max;
        _Atomic uint64_t buckets[UDK_HIST_BUCKETS];
};

_Static_assert(UDK_HIST_BUCKETS == 592, "histogram bucket count");
_Static_assert(sizeof(struct udk_histogram) == 32 + 8 * UDK_HIST_BUCKETS, "histogram layout");

/* Bucket of @value and the smallest value above that bucket (the first value
 * of bucket + 1; UINT64_MAX for the last, open-ended bucket).  RT-safe. */
uint32_t udk_histogram_bucket(uint64_t value);
uint64_t udk_histogram_bucket_upper(uint32_t bucket);

void udk_histogram_reset(struct udk_histogram *h);

/* Single writer.  RT-safe. */
void udk_histogram_add(struct udk_histogram *h, uint64_t value);

/* A reader's copy with the figures worked out. */
struct udk_histogram_summary {
        uint64_t count;
        uint64_t min, max, avg; /* 0 when count is 0 */
        uint64_t p50, p90, p99, p999;
};

/*
 * Percentile @q in [0, 1] of a histogram; 0 when empty.  With n samples, the
 * rank is ceil(q * n) kept in [1, n] (q outside [0, 1] is clamped), the
 * bucket is the first whose cumulative count reaches the rank, and the result
 * is the largest value that bucket holds (its upper bound - 1) clamped into
 * [min, max].  So it is never below the true percentile and at most 1/16
 * above it.
 */
uint64_t udk_histogram_percentile(const struct udk_histogram *h, double q);
void udk_histogram_summarize(const struct udk_histogram *h, struct udk_histogram_summary *ret);

/*
 * One device's figures.  Times are nanoseconds.  "Lateness" is how long
 * after its deadline the RT thread woke; "busy" is the cycle from wake to
 * the end of the backend write; DSP load is busy / period.
 */
struct udk_cycle_stats {
        uint32_t version; /* UDK_CYCLE_STATS_VERSION */
        uint32_t reserved;
        _Atomic uint64_t cycles;
        _Atomic uint64_t xruns;            /* late wakes, late cycle ends and the backend's */
        _Atomic uint64_t xrun_late_wakes;  /* woke more than a period late */
        _Atomic uint64_t xrun_overruns;    /* cycle ended after the next deadline */
        _Atomic uint64_t frames_skipped;   /* frames the clock jumped over to resync */
        _Atomic uint64_t last_xrun_lateness;
        _Atomic uint64_t max_xrun_lateness;
        _Atomic uint64_t last_busy;
        _Atomic uint64_t period_ns;
        _Atomic uint64_t handler_errors;   /* handlers that returned < 0 */
        _Atomic uint64_t backend_errors;   /* backend read/write/wait failures */
        _Atomic uint64_t plan_swaps;       /* handler/graph changes taken */
        _Atomic uint64_t sample_time;      /* latest cycle's */
        _Atomic uint64_t clients_late;     /* client cycles missed (past the deadline or stuck) */
        _Atomic uint64_t xrun_backend;     /* the hardware's own over/underruns, restarted by the backend */
        uint64_t reserved2[1];
        struct udk_histogram lateness;
        struct udk_histogram busy;
};

#define UDK_CYCLE_STATS_VERSION 1

/* 100 * busy / period_ns over the histogram's life: with busy's exact mean
 * (sum / count, not rounded) and with its maximum.  0 without samples or
 * without a period. */
double udk_cycle_stats_load_avg(const struct udk_cycle_stats *s);
double udk_cycle_stats_load_max(const struct udk_cycle_stats *s);

#endif
