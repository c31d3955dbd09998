/* SPDX-License-Identifier: MIT */
/* The zero timestamp's seqlock (never torn, never hung) and the DLL (locks, filters, resets). */
#include <pthread.h>
#include <stdatomic.h>

#include <udk/clock.h>

#include "udk-test.h"

static void test_zts_nodata(void)
{
        struct udk_zero_timestamp zts = { 0 };
        uint64_t s = 1, h = 2, r = 3;

        ASSERT_ERROR(udk_zts_read(&zts, &s, &h, &r), ENODATA);
        ASSERT_UINT_EQ(s, 1);
        ASSERT_UINT_EQ(h, 2);
        ASSERT_UINT_EQ(r, 3);
}

static void test_zts_publish(void)
{
        struct udk_zero_timestamp zts = { 0 };
        uint64_t s = 0, h = 0, r = 0;

        udk_zts_publish(&zts, 4096, 123456789012345ull, 48000000);
        ASSERT_UINT_EQ(atomic_load(&zts.seq), 2);
        ASSERT_OK(udk_zts_read(&zts, &s, &h, &r));
        ASSERT_UINT_EQ(s, 4096);
        ASSERT_UINT_EQ(h, 123456789012345ull);
        ASSERT_UINT_EQ(r, 48000000);
        ASSERT_UINT_EQ(zts.reserved, 0);

        udk_zts_publish(&zts, UINT64_MAX, UINT64_MAX - 1, 44100000);
        ASSERT_UINT_EQ(atomic_load(&zts.seq), 4);
        ASSERT_OK(udk_zts_read(&zts, &s, &h, &r));
        ASSERT_UINT_EQ(s, UINT64_MAX);
        ASSERT_UINT_EQ(h, UINT64_MAX - 1);
        ASSERT_UINT_EQ(r, 44100000);

        /* Any output may be left out. */
        s = 0;
        ASSERT_OK(udk_zts_read(&zts, &s, NULL, NULL));
        ASSERT_UINT_EQ(s, UINT64_MAX);
        ASSERT_OK(udk_zts_read(&zts, NULL, NULL, NULL));
}

/* After 2^31 publications seq wraps; it must skip 0, which means "never published". */
static void test_zts_seq_wrap(void)
{
        struct udk_zero_timestamp zts = { 0 };
        uint64_t s = 0;

        atomic_store(&zts.seq, UINT32_MAX - 1);
        udk_zts_publish(&zts, 7, 8, 9);
        ASSERT_UINT_EQ(atomic_load(&zts.seq), 2);
        ASSERT_OK(udk_zts_read(&zts, &s, NULL, NULL));
        ASSERT_UINT_EQ(s, 7);
        udk_zts_publish(&zts, 10, 11, 12);
        ASSERT_UINT_EQ(atomic_load(&zts.seq), 4);
}

/* A writer that died between its two seq stores leaves seq odd forever: readers give up, fast. */
static void test_zts_dead_writer(void)
{
        struct udk_zero_timestamp zts = { 0 };
        uint64_t s = 1, h = 2, r = 3, start;

        udk_zts_publish(&zts, 100, 200, 300);
        atomic_fetch_add(&zts.seq, 1);
        start = udk_time_now();
        ASSERT_ERROR(udk_zts_read(&zts, &s, &h, &r), EAGAIN);
        ASSERT_UINT_LE(udk_time_now() - start, 100 * 1000 * 1000ull);
        ASSERT_UINT_EQ(s, 1);
        ASSERT_UINT_EQ(h, 2);
        ASSERT_UINT_EQ(r, 3);

        /* A new writer (the restarted driver) publishing again heals it. */
        atomic_fetch_add(&zts.seq, 1);
        udk_zts_publish(&zts, 101, 201, 301);
        ASSERT_OK(udk_zts_read(&zts, &s, &h, &r));
        ASSERT_UINT_EQ(h, 201);
}

struct zts_race {
        struct udk_zero_timestamp zts;
        atomic_bool stop;
        uint64_t publishes;
};

/* Triples that only agree with each other when they come from the same publication. */
static void *zts_writer(void *arg)
{
        struct zts_race *race = arg;
        uint64_t k = 1;

        while (!atomic_load_explicit(&race->stop, memory_order_relaxed)) {
                udk_zts_publish(&race->zts, k * 64, k * 1000 + 7, k);
                k++;
        }
        race->publishes = k - 1;
        return NULL;
}

static void test_zts_concurrent(void)
{
        static struct zts_race race;
        uint64_t checks = 0, torn = 0, again = 0, changes = 0, last_k = 0;
        uint64_t start, now;
        pthread_t thread;

        ASSERT_INT_EQ(pthread_create(&thread, NULL, zts_writer, &race), 0);
        start = udk_time_now();
        for (uint64_t i = 0;; i++) {
                uint64_t s, h, k;
                int r;

                /*
                 * At least a second and enough real races; longer (up to 10 s)
                 * on a loaded machine where the two threads rarely run at once.
                 */
                if ((i & 1023) == 0) {
                        now = udk_time_now();
                        if (now - start >= 10 * UDK_NSEC_PER_SEC ||
                            (now - start >= UDK_NSEC_PER_SEC && checks >= 1000000 && changes >= 10000))
                                break;
                }
                r = udk_zts_read(&race.zts, &s, &h, &k);
                if (r == -ENODATA)
                        continue; /* the writer has not started yet */
                if (r == -EAGAIN) {
                        again++; /* the writer was preempted mid-write: not an error */
                        continue;
                }
                ASSERT_OK(r);
                checks++;
                if (s != k * 64 || h != k * 1000 + 7) {
                        if (torn < 5)
                                fprintf(stderr,
                                        "torn: sample %" PRIu64 " host %" PRIu64 " rate %" PRIu64 "\n", s, h,
                                        k);
                        torn++;
                }
                /* One writer: a later snapshot is never older than an earlier one. */
                ASSERT_UINT_GE(k, last_k);
                changes += k != last_k;
                last_k = k;
        }
        atomic_store(&race.stop, true);
        ASSERT_INT_EQ(pthread_join(thread, NULL), 0);

        fprintf(stderr, "%" PRIu64 " publishes, %" PRIu64 " checks, %" PRIu64 " distinct, %" PRIu64
                        " -EAGAIN, %" PRIu64 " torn\n",
                race.publishes, checks, changes, again, torn);
        ASSERT_UINT_EQ(torn, 0);
        ASSERT_UINT_GE(checks, 1000000);
        ASSERT_UINT_GE(changes, 10000); /* the reader really raced the writer */
        ASSERT_UINT_GE(race.publishes, changes);
        ASSERT_UINT_LE(again, checks);
}

/* xorshift64*, uniform in [0, 1): the same jitter on every libc. */
static double rng_uniform(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

#define NOMINAL_RATE  48000.0
#define PERIOD_FRAMES 64u
#define FAST_PPM      100.0
#define START_NS      5000000000000.0 /* an uptime of 5000 s */

/* The device runs FAST_PPM fast: its real rate and the true host time of boundary @k. */
static const double true_rate = NOMINAL_RATE * (1.0 + FAST_PPM * 1e-6);

static double true_boundary(uint64_t k)
{
        return START_NS + (double)k * (PERIOD_FRAMES * 1e9 / true_rate);
}

static void test_dll_first_updates(void)
{
        struct udk_dll dll;
        double nominal_period = PERIOD_FRAMES * 1e9 / NOMINAL_RATE;

        udk_dll_init(&dll, NOMINAL_RATE, PERIOD_FRAMES, 1.0);
        ASSERT_NEAR(udk_dll_rate(&dll), NOMINAL_RATE, 1e-9);
        ASSERT_UINT_EQ(udk_dll_time(&dll), 0);
        ASSERT_UINT_EQ(dll.updates, 0);
        ASSERT_NEAR(dll.nominal_period, nominal_period, 1e-6);
        /* omega = 2 pi B T, b = sqrt(2) omega, c = omega^2 */
        ASSERT_NEAR(dll.b, sqrt(2.0) * 2 * M_PI * 1.0 * PERIOD_FRAMES / NOMINAL_RATE, 1e-15);
        ASSERT_NEAR(dll.c, pow(2 * M_PI * 1.0 * PERIOD_FRAMES / NOMINAL_RATE, 2), 1e-15);

        /* The first boundary is taken as it is. */
        udk_dll_update(&dll, 1000000000);
        ASSERT_UINT_EQ(udk_dll_time(&dll), 1000000000);
        ASSERT_NEAR(udk_dll_rate(&dll), NOMINAL_RATE, 1e-9);
        ASSERT_UINT_EQ(dll.updates, 1);

        /* A boundary exactly where predicted changes nothing but the time. */
        udk_dll_update(&dll, 1000000000 + 1333333);
        ASSERT_UINT_EQ(udk_dll_time(&dll), 1000000000 + 1333333); /* t0 = the prediction, rounded */
        ASSERT_NEAR(dll.e2, nominal_period, 1e-3);
        ASSERT_UINT_EQ(dll.updates, 2);

        /* A late boundary: the period estimate grows by c * e, the next prediction by b * e. */
        double t1 = dll.t1, e2 = dll.e2;
        udk_dll_update(&dll, (uint64_t)t1 + 10000);
        double e = (double)(uint64_t)t1 + 10000 - t1;
        ASSERT_NEAR(dll.t0, t1, 1e-6);
        ASSERT_NEAR(dll.e2, e2 + dll.c * e, 1e-6);
        ASSERT_NEAR(dll.t1, t1 + dll.b * e + e2, 1e-6);
        ASSERT_TRUE(udk_dll_rate(&dll) < NOMINAL_RATE);
}

/* Without jitter the loop must converge to the truth: a type-2 loop has no steady-state error. */
static void test_dll_lock_exact(void)
{
        struct udk_dll dll;

        udk_dll_init(&dll, NOMINAL_RATE, PERIOD_FRAMES, 1.0);
        for (uint64_t k = 0; k < 20000; k++)
                udk_dll_update(&dll, (uint64_t)llround(true_boundary(k)));
        ASSERT_NEAR(udk_dll_rate(&dll), true_rate, true_rate * 0.01e-6);
        ASSERT_NEAR((double)udk_dll_time(&dll), true_boundary(19999), 2.0);
}

/*
 * +-50 us of uniform wake-up jitter on a clock 100 ppm fast.  At 1 Hz the
 * period estimate itself still wanders by tens of ppm from one period to
 * the next (c * e is large against 100 ppm of 1.33 ms); 0.1 Hz, the low
 * end of the documented range, is the bandwidth that resolves the rate to
 * a ppm, and is what a rate-steering consumer (the resampler) wants.
 * Simulation over 200 seeds: worst rate error 1.06 ppm, worst RMS 2.1 us.
 */
static void test_dll_jitter(void)
{
        struct udk_dll dll;
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        const uint64_t n = 20000, tail = 1000;
        double sq = 0.0, worst = 0.0;

        udk_dll_init(&dll, NOMINAL_RATE, PERIOD_FRAMES, 0.1);
        for (uint64_t k = 0; k < n; k++) {
                double jitter = (rng_uniform(&seed) * 2.0 - 1.0) * 50000.0;

                udk_dll_update(&dll, (uint64_t)llround(true_boundary(k) + jitter));
                if (k >= n - tail) {
                        double err = (double)udk_dll_time(&dll) - true_boundary(k);

                        sq += err * err;
                        worst = fmax(worst, fabs(err));
                }
        }
        fprintf(stderr, "rate %.4f Hz (%.3f ppm off), time error RMS %.0f ns, worst %.0f ns\n",
                udk_dll_rate(&dll), (udk_dll_rate(&dll) / true_rate - 1.0) * 1e6, sqrt(sq / tail), worst);
        ASSERT_NEAR(udk_dll_rate(&dll), true_rate, true_rate * 2e-6);
        ASSERT_TRUE(sqrt(sq / tail) < 3000.0); /* jitter RMS is 28900 ns */
        ASSERT_TRUE(worst < 10000.0);
}

static void test_dll_reset(void)
{
        struct udk_dll dll, fresh;
        double rate;
        uint64_t restart = (uint64_t)true_boundary(30000) + 123456789; /* after an xrun, off the old grid */

        udk_dll_init(&dll, NOMINAL_RATE, PERIOD_FRAMES, 1.0);
        for (uint64_t k = 0; k < 20000; k++)
                udk_dll_update(&dll, (uint64_t)llround(true_boundary(k)));
        rate = udk_dll_rate(&dll);

        /* The restart point is the first boundary; the learnt rate survives. */
        udk_dll_reset(&dll, restart);
        ASSERT_UINT_EQ(udk_dll_time(&dll), restart);
        ASSERT_FLOAT_EQ(udk_dll_rate(&dll), rate);
        ASSERT_UINT_EQ(dll.updates, 1);

        /* So it follows the new grid at once, where a fresh loop is 100 ppm off. */
        udk_dll_init(&fresh, NOMINAL_RATE, PERIOD_FRAMES, 1.0);
        udk_dll_update(&fresh, restart);
        for (uint64_t k = 1; k <= 200; k++) {
                double t = (double)restart + (double)k * (PERIOD_FRAMES * 1e9 / true_rate);

                udk_dll_update(&dll, (uint64_t)llround(t));
                udk_dll_update(&fresh, (uint64_t)llround(t));
                ASSERT_NEAR((double)udk_dll_time(&dll), t, 2.0);
        }
        ASSERT_NEAR(udk_dll_rate(&dll), true_rate, true_rate * 0.01e-6);
        ASSERT_TRUE(fabs(udk_dll_rate(&fresh) - true_rate) > true_rate * 10e-6);

        /* Reset before any update: the nominal period, from the given time. */
        udk_dll_init(&fresh, NOMINAL_RATE, PERIOD_FRAMES, 1.0);
        udk_dll_reset(&fresh, 777);
        ASSERT_UINT_EQ(udk_dll_time(&fresh), 777);
        udk_dll_update(&fresh, 777 + 1333333);
        ASSERT_UINT_EQ(udk_dll_time(&fresh), 777 + 1333333);
        ASSERT_NEAR(udk_dll_rate(&fresh), NOMINAL_RATE, 0.01);
}

UDK_TEST_MAIN(test_zts_nodata, test_zts_publish, test_zts_seq_wrap, test_zts_dead_writer,
              test_zts_concurrent, test_dll_first_updates, test_dll_lock_exact, test_dll_jitter,
              test_dll_reset)
