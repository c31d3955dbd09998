/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdint.h>

#include <udk/stats.h>

#include "udk-test.h"

#define LAST (UDK_HIST_BUCKETS - 1)

static struct udk_histogram *histogram_new(void)
{
        struct udk_histogram *h = malloc(sizeof(*h));

        ASSERT_TRUE(h != NULL);
        memset(h, 0xa5, sizeof(*h)); /* reset must clear everything */
        udk_histogram_reset(h);
        return h;
}

static void test_bucket_table(void)
{
        static const struct {
                uint64_t value;
                uint32_t bucket;
        } table[] = {
            {16, 16},
            {17, 17},
            {31, 31},
            {32, 32},
            {33, 32},
            {34, 33},
            {63, 47},
            {64, 48},
            {67, 48},
            {68, 49},
            /* 1000 = 0b1111101000: e = 9, the 4 bits under the top are 1111 */
            {1000, 16 * 6 + 15},
            {1023, 16 * 6 + 15},
            {1024, 16 * 7},
            {1u << 20, 16 * 17},
            {(1ull << 39) - 1, 16 * 35 + 15},
            {1ull << 39, 16 * 36},
            {(1ull << 39) + (1ull << 35), 16 * 36 + 1},
            {(1ull << 40) - 1, LAST},
            {1ull << 40, LAST},
            {1ull << 50, LAST},
            {UINT64_MAX, LAST},
        };

        for (uint64_t v = 0; v < 16; v++)
                ASSERT_UINT_EQ(udk_histogram_bucket(v), v);
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (udk_histogram_bucket(table[i].value) != table[i].bucket)
                        udk_test_fail("bucket(%" PRIu64 ") = %u, want %u", table[i].value,
                                      udk_histogram_bucket(table[i].value), table[i].bucket);
        ASSERT_UINT_EQ(LAST, 591);
}

static void test_bucket_upper(void)
{
        uint64_t prev = 0;

        ASSERT_UINT_EQ(udk_histogram_bucket_upper(0), 1);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(15), 16);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(16), 17);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(31), 32);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(32), 34);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(LAST - 1),
                       31ull << 35); /* the last bucket's first value */
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(LAST), UINT64_MAX);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(LAST + 1), UINT64_MAX);
        ASSERT_UINT_EQ(udk_histogram_bucket_upper(UINT32_MAX), UINT64_MAX);

        for (uint32_t b = 0; b < LAST; b++) {
                uint64_t upper = udk_histogram_bucket_upper(b);
                uint64_t first = b == 0 ? 0 : udk_histogram_bucket_upper(b - 1);

                /* Contiguous: the upper bound is the next bucket's first value. */
                ASSERT_UINT_GE(upper, prev + 1);
                ASSERT_UINT_EQ(udk_histogram_bucket(upper), b + 1);
                ASSERT_UINT_EQ(udk_histogram_bucket(upper - 1), b);
                ASSERT_UINT_EQ(udk_histogram_bucket(first), b);
                /* At most 1/16 of its values wide (one value each below 16). */
                if (b >= 16)
                        ASSERT_UINT_LE((upper - first) * 16, first);
                else
                        ASSERT_UINT_EQ(upper - first, 1);
                prev = upper;
        }
}

static void test_empty(void)
{
        struct udk_histogram *h = histogram_new();
        struct udk_histogram_summary s;

        memset(&s, 0xff, sizeof(s));
        udk_histogram_summarize(h, &s);
        ASSERT_UINT_EQ(s.count, 0);
        ASSERT_UINT_EQ(s.min, 0);
        ASSERT_UINT_EQ(s.max, 0);
        ASSERT_UINT_EQ(s.avg, 0);
        ASSERT_UINT_EQ(s.p50, 0);
        ASSERT_UINT_EQ(s.p90, 0);
        ASSERT_UINT_EQ(s.p99, 0);
        ASSERT_UINT_EQ(s.p999, 0);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.5), 0);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 1.0), 0);
        /* The raw minimum starts high so the first sample takes it. */
        ASSERT_UINT_EQ(atomic_load(&h->min), UINT64_MAX);
        ASSERT_UINT_EQ(atomic_load(&h->sum), 0);
        for (uint32_t b = 0; b < UDK_HIST_BUCKETS; b++)
                ASSERT_UINT_EQ(atomic_load(&h->buckets[b]), 0);

        /* Used, then reset: empty again. */
        udk_histogram_add(h, 123);
        udk_histogram_reset(h);
        udk_histogram_summarize(h, &s);
        ASSERT_UINT_EQ(s.count, 0);
        ASSERT_UINT_EQ(s.max, 0);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[udk_histogram_bucket(123)]), 0);

        udk_histogram_summarize(NULL, &s);
        ASSERT_UINT_EQ(s.count, 0);
        ASSERT_UINT_EQ(udk_histogram_percentile(NULL, 0.5), 0);
        free(h);
}

static void test_min_max_avg(void)
{
        struct udk_histogram *h = histogram_new();
        struct udk_histogram_summary s;

        udk_histogram_add(h, 1000);
        udk_histogram_add(h, 5);
        udk_histogram_add(h, 100);
        udk_histogram_add(h, 0);
        udk_histogram_add(h, 1ull << 41);
        udk_histogram_summarize(h, &s);
        ASSERT_UINT_EQ(s.count, 5);
        ASSERT_UINT_EQ(s.min, 0);
        ASSERT_UINT_EQ(s.max, 1ull << 41);
        ASSERT_UINT_EQ(s.avg, ((1ull << 41) + 1105) / 5);
        ASSERT_UINT_EQ(atomic_load(&h->sum), (1ull << 41) + 1105);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[0]), 1);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[5]), 1);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[udk_histogram_bucket(100)]), 1);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[udk_histogram_bucket(1000)]), 1);
        ASSERT_UINT_EQ(atomic_load(&h->buckets[LAST]), 1);
        /* The open-ended last bucket reports the exact maximum. */
        ASSERT_UINT_EQ(s.p999, 1ull << 41);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.0), 0);

        udk_histogram_reset(h);
        udk_histogram_add(h, 7);
        udk_histogram_add(h, 8);
        udk_histogram_summarize(h, &s);
        ASSERT_UINT_EQ(s.min, 7);
        ASSERT_UINT_EQ(s.max, 8);
        ASSERT_UINT_EQ(s.avg, 7); /* 15 / 2, rounded down */
        ASSERT_UINT_EQ(s.p50, 7);
        ASSERT_UINT_EQ(s.p90, 8);
        free(h);
}

/* What the header's definition gives for the sample of 1-based @rank among @n sorted ones. */
static uint64_t expected_percentile(const uint64_t *sorted, uint64_t n, uint64_t rank)
{
        uint64_t v = udk_histogram_bucket_upper(udk_histogram_bucket(sorted[rank - 1])) - 1;

        return v > sorted[n - 1] ? sorted[n - 1] : v;
}

static void test_percentiles_uniform(void)
{
        struct udk_histogram *h = histogram_new();
        struct udk_histogram_summary s;
        static uint64_t sorted[1000];

        for (uint64_t v = 1; v <= 1000; v++) {
                udk_histogram_add(h, v);
                sorted[v - 1] = v;
        }
        udk_histogram_summarize(h, &s);
        ASSERT_UINT_EQ(s.count, 1000);
        ASSERT_UINT_EQ(s.min, 1);
        ASSERT_UINT_EQ(s.max, 1000);
        ASSERT_UINT_EQ(s.avg, 500); /* 500500 / 1000 */

        /* The 500th value lies in [496, 511]: reported as 511. */
        ASSERT_UINT_EQ(s.p50, 511);
        ASSERT_UINT_GE(s.p50, 500);
        ASSERT_UINT_LE((s.p50 - 500) * 16, 500); /* within one bucket: 6.25 % */
        ASSERT_UINT_EQ(s.p90, 927);              /* 900 in [896, 927] */
        ASSERT_UINT_EQ(s.p99, 991);              /* 990 in [960, 991] */
        ASSERT_UINT_EQ(s.p999, 1000);            /* 999 in [992, 1023], clamped to max */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.5), 511);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.0), 1);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, -1.0), 1);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, NAN), 1);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 1.0), 1000);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 2.0), 1000);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.015), 15); /* rank 15, a bucket of its own */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.016), 16); /* below 32 still one value a bucket */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.032), 33); /* rank 32: [32, 33] */

        for (int i = 0; i <= 1000; i++) {
                double q = i / 1000.0;
                uint64_t rank = i == 0 ? 1 : (uint64_t)i;
                uint64_t got = udk_histogram_percentile(h, q),
                         want = expected_percentile(sorted, 1000, rank);
                uint64_t truth = sorted[rank - 1];

                if (got != want)
                        udk_test_fail("q %.3f: %" PRIu64 ", want %" PRIu64, q, got, want);
                ASSERT_UINT_GE(got, truth);
                ASSERT_UINT_LE((got - truth) * 16, truth);
        }
        free(h);
}

/* q * n that lands on an integer in exact arithmetic but not in doubles still picks that rank. */
static void test_percentile_rank_rounding(void)
{
        struct udk_histogram *h = histogram_new();

        /* 100 samples 10, 20, ... 1000: 0.07 * 100 is 7.000000000000001 in doubles, yet rank 7. */
        for (uint64_t v = 10; v <= 1000; v += 10)
                udk_histogram_add(h, v);
        ASSERT_TRUE(0.07 * 100.0 > 7.0);
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.07), 71);  /* 70 in [68, 71] */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.071), 83); /* rank 8: 80 in [80, 83] */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.57), 575); /* 56.99999999999999: rank 57, 570 */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.01), 10);  /* 10 has a bucket of its own */
        ASSERT_UINT_EQ(udk_histogram_percentile(h, 0.005), 10); /* rank 0.5 rounds up to 1 */
        free(h);
}

static void test_percentile_one_value(void)
{
        struct udk_histogram *h = histogram_new();
        struct udk_histogram_summary s;

        for (int i = 0; i < 100; i++)
                udk_histogram_add(h, 1000);
        udk_histogram_summarize(h, &s);
        /* The bucket reaches 1023, but no sample is above 1000. */
        ASSERT_UINT_EQ(s.p50, 1000);
        ASSERT_UINT_EQ(s.p999, 1000);
        ASSERT_UINT_EQ(s.min, 1000);
        ASSERT_UINT_EQ(s.avg, 1000);
        free(h);
}

struct writer {
        struct udk_histogram *h;
        atomic_bool done;
};

static void *writer_main(void *arg)
{
        struct writer *w = arg;

        for (uint64_t i = 0; i < 1000000; i++)
                udk_histogram_add(w->h, 1000 + (i * 7919) % 100000);
        atomic_store(&w->done, true);
        return NULL;
}

/* A reader beside the one writer never sees a count its buckets do not hold. */
static void test_concurrent_reader(void)
{
        struct writer w = {.h = histogram_new()};
        uint64_t last = 0, reads = 0;
        pthread_t t;

        ASSERT_INT_EQ(pthread_create(&t, NULL, writer_main, &w), 0);
        while (!atomic_load(&w.done) || reads == 0) {
                struct udk_histogram_summary s;
                uint64_t in_buckets = 0;

                udk_histogram_summarize(w.h, &s);
                for (uint32_t b = 0; b < UDK_HIST_BUCKETS; b++)
                        in_buckets += atomic_load_explicit(&w.h->buckets[b], memory_order_relaxed);
                ASSERT_UINT_GE(s.count, last);
                ASSERT_UINT_GE(in_buckets, s.count);
                if (s.count > 0) {
                        ASSERT_UINT_GE(s.min, 1000);
                        ASSERT_UINT_LE(s.max, 100999);
                        ASSERT_UINT_LE(s.min, s.max);
                }
                last = s.count;
                reads++;
        }
        ASSERT_INT_EQ(pthread_join(t, NULL), 0);
        ASSERT_UINT_EQ(atomic_load(&w.h->count), 1000000);
        free(w.h);
}

static void test_load(void)
{
        struct udk_cycle_stats *s = calloc(1, sizeof(*s));

        ASSERT_TRUE(s != NULL);
        udk_histogram_reset(&s->busy);
        atomic_store(&s->period_ns, 1000000);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_avg(s), 0.0);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(s), 0.0);

        udk_histogram_add(&s->busy, 250000);
        udk_histogram_add(&s->busy, 500000);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_avg(s), 37.5);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(s), 50.0);

        /* The mean is not rounded: (1 + 2) / 2 ns over 100 ns is 1.5 %. */
        udk_histogram_reset(&s->busy);
        udk_histogram_add(&s->busy, 1);
        udk_histogram_add(&s->busy, 2);
        atomic_store(&s->period_ns, 100);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_avg(s), 1.5);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(s), 2.0);

        /* Over 100 % when cycles overrun. */
        udk_histogram_add(&s->busy, 300);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(s), 300.0);

        atomic_store(&s->period_ns, 0);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_avg(s), 0.0);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(s), 0.0);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_avg(NULL), 0.0);
        ASSERT_FLOAT_EQ(udk_cycle_stats_load_max(NULL), 0.0);
        free(s);
}

UDK_TEST_MAIN(test_bucket_table, test_bucket_upper, test_empty, test_min_max_avg, test_percentiles_uniform,
              test_percentile_rank_rounding, test_percentile_one_value, test_concurrent_reader, test_load)
