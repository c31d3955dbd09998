/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stddef.h>

#include <udk/stats.h>
#include <udk/util.h>

#define LAST_BUCKET (UDK_HIST_BUCKETS - 1)

UDK_EXPORT uint32_t udk_histogram_bucket(uint64_t value)
{
        uint32_t e;

        if (value < UDK_HIST_SUB)
                return (uint32_t)value;
        e = 63u - (uint32_t)__builtin_clzll(value);
        if (e >= UDK_HIST_OCTAVES)
                return LAST_BUCKET;
        /* Octave e holds 16 buckets from 16 * (e - 3); the 4 bits under the top one pick the bucket. */
        return UDK_HIST_SUB * (e - UDK_HIST_SUB_BITS + 1) +
               (uint32_t)((value >> (e - UDK_HIST_SUB_BITS)) & (UDK_HIST_SUB - 1));
}

UDK_EXPORT uint64_t udk_histogram_bucket_upper(uint32_t bucket)
{
        uint32_t octave, sub;

        if (bucket >= LAST_BUCKET)
                return UINT64_MAX;
        if (bucket < UDK_HIST_SUB)
                return bucket + 1;
        octave = bucket / UDK_HIST_SUB - 1; /* value >> octave has 5 bits */
        sub = bucket % UDK_HIST_SUB;
        return (uint64_t)(UDK_HIST_SUB + sub + 1) << octave;
}

UDK_EXPORT void udk_histogram_reset(struct udk_histogram *h)
{
        if (!h)
                return;
        atomic_store_explicit(&h->count, 0, memory_order_relaxed);
        atomic_store_explicit(&h->sum, 0, memory_order_relaxed);
        atomic_store_explicit(&h->min, UINT64_MAX, memory_order_relaxed);
        atomic_store_explicit(&h->max, 0, memory_order_relaxed);
        for (size_t i = 0; i < UDK_HIST_BUCKETS; i++)
                atomic_store_explicit(&h->buckets[i], 0, memory_order_relaxed);
}

/* One writer, so load + store is enough and cheaper than a locked add. */
static inline void add_relaxed(_Atomic uint64_t *p, uint64_t v)
{
        atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + v, memory_order_relaxed);
}

UDK_EXPORT void udk_histogram_add(struct udk_histogram *h, uint64_t value)
{
        add_relaxed(&h->buckets[udk_histogram_bucket(value)], 1);
        add_relaxed(&h->sum, value);
        if (value < atomic_load_explicit(&h->min, memory_order_relaxed))
                atomic_store_explicit(&h->min, value, memory_order_relaxed);
        if (value > atomic_load_explicit(&h->max, memory_order_relaxed))
                atomic_store_explicit(&h->max, value, memory_order_relaxed);
        /* Count last, released: a reader that loads it sees at least that many samples in the buckets. */
        atomic_store_explicit(&h->count, atomic_load_explicit(&h->count, memory_order_relaxed) + 1,
                              memory_order_release);
}

/* The rank (1-based) of percentile @q among @count samples: ceil(q * count), kept in [1, count]. */
static uint64_t percentile_rank(double q, uint64_t count)
{
        double r;

        if (!(q > 0.0)) /* NaN too */
                return 1;
        if (q >= 1.0)
                return count;
        r = q * (double)count;
        /* 0.7 * 10 is 7.000000000000001 in doubles: that is rank 7, not 8. */
        if (fabs(r - round(r)) <= r * 1e-12)
                r = round(r);
        r = ceil(r);
        if (r < 1.0)
                return 1;
        if (r >= (double)count)
                return count;
        return (uint64_t)r;
}

static uint64_t percentile_of(const struct udk_histogram *h, uint64_t count, uint64_t min, uint64_t max,
                              double q)
{
        uint64_t rank = percentile_rank(q, count), seen = 0, v = max;

        for (uint32_t b = 0; b < UDK_HIST_BUCKETS; b++) {
                seen += atomic_load_explicit(&h->buckets[b], memory_order_relaxed);
                if (seen >= rank) {
                        v = udk_histogram_bucket_upper(b) - 1;
                        break;
                }
        }
        /* A racing writer can leave min and max a sample behind the buckets: max wins. */
        v = v < min ? min : v;
        return v > max ? max : v;
}

UDK_EXPORT uint64_t udk_histogram_percentile(const struct udk_histogram *h, double q)
{
        uint64_t count;

        if (!h)
                return 0;
        count = atomic_load_explicit(&h->count, memory_order_acquire);
        if (count == 0)
                return 0;
        return percentile_of(h, count, atomic_load_explicit(&h->min, memory_order_relaxed),
                             atomic_load_explicit(&h->max, memory_order_relaxed), q);
}

UDK_EXPORT void udk_histogram_summarize(const struct udk_histogram *h, struct udk_histogram_summary *ret)
{
        struct udk_histogram_summary s = {0};

        if (!ret)
                return;
        if (h)
                s.count = atomic_load_explicit(&h->count, memory_order_acquire);
        if (s.count > 0) {
                s.min = atomic_load_explicit(&h->min, memory_order_relaxed);
                s.max = atomic_load_explicit(&h->max, memory_order_relaxed);
                s.avg = atomic_load_explicit(&h->sum, memory_order_relaxed) / s.count;
                s.p50 = percentile_of(h, s.count, s.min, s.max, 0.5);
                s.p90 = percentile_of(h, s.count, s.min, s.max, 0.9);
                s.p99 = percentile_of(h, s.count, s.min, s.max, 0.99);
                s.p999 = percentile_of(h, s.count, s.min, s.max, 0.999);
        }
        *ret = s;
}

static double load_percent(const struct udk_cycle_stats *s, double busy)
{
        uint64_t period = atomic_load_explicit(&s->period_ns, memory_order_relaxed);

        return period ? 100.0 * busy / (double)period : 0.0;
}

UDK_EXPORT double udk_cycle_stats_load_avg(const struct udk_cycle_stats *s)
{
        uint64_t count;

        if (!s)
                return 0.0;
        count = atomic_load_explicit(&s->busy.count, memory_order_acquire);
        if (count == 0)
                return 0.0;
        return load_percent(s, (double)atomic_load_explicit(&s->busy.sum, memory_order_relaxed) /
                                   (double)count);
}

UDK_EXPORT double udk_cycle_stats_load_max(const struct udk_cycle_stats *s)
{
        if (!s || atomic_load_explicit(&s->busy.count, memory_order_acquire) == 0)
                return 0.0;
        return load_percent(s, (double)atomic_load_explicit(&s->busy.max, memory_order_relaxed));
}
