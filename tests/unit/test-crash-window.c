/* SPDX-License-Identifier: MIT */
/*
 * restart_limit's sliding window (server/crash-window.c): each crash's
 * verdict, exactly, for crash times given in a table.
 */
#include <udk/util.h>

#include "crash-window.h"

#include "udk-test.h"

#define MS 1000000ull
/* A time that is no crash: the window forgets (restart_reset, a client's restart). */
#define FORGET UINT64_MAX
#define TIMES_MAX 16

struct window_case {
        const char *name;
        uint32_t limit;     /* restart_limit's COUNT, 0: none */
        uint64_t window_ms; /* its DURATION */
        uint64_t at_ms[TIMES_MAX];
        const char *verdicts; /* one per time: 'o' restart, 'x' give up, '-' for a FORGET */
};

static const struct window_case window_cases[] = {
        /* The example: 0 slides out before 12, so 12 is allowed; 13 is the 4th within 10 s. */
        { "3/10s slides", 3, 10000, { 0, 4000, 8000, 12000, 13000, 14000 }, "ooooxx" },
        /* Both ends of the window are in it. */
        { "3/10s at the boundary", 3, 10000, { 0, 4000, 8000, 10000 }, "ooox" },
        { "3/10s just past the boundary", 3, 10000,
          { 0, 4000, 8000, 10001, 14001, 18001, 20001 }, "oooooox" },
        /* A fixed window from the first crash (0..10 s, then 10.5..20.5 s) would never give up here. */
        { "3/10s across a fixed window's edge", 3, 10000, { 0, 9000, 9500, 10500, 11000 }, "oooox" },
        { "1/10min", 1, 600000, { 0, 1 }, "ox" },
        { "1/10min, slow crashes", 1, 600000, { 0, 600001, 1200002, 1800003, 1800004 }, "oooox" },
        { "5/30min, the default", 5, 1800000, { 0, 1, 2, 3, 4, 5 }, "ooooox" },
        { "none", 0, 0, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "oooooooooooooooo" },
        /* Forgetting empties the window: the crashes before count no more. */
        { "3/10s forgotten", 3, 10000, { 0, 1000, 2000, FORGET, 3000, 4000, 5000, 6000 }, "ooo-ooox" },
        /* Same times, same ms: a burst. */
        { "2/1s burst", 2, 1000, { 5000, 5000, 5000 }, "oox" },
        /* A window as short as the parser allows (1ms). */
        { "2/1ms", 2, 1, { 0, 1, 2, 3, 3 }, "oooox" },
};

static void run_case(const struct window_case *c)
{
        struct udkd_crash_window w;
        size_t n = strlen(c->verdicts);

        ASSERT_UINT_LE(n, TIMES_MAX);
        udkd_crash_window_forget(&w);
        for (size_t i = 0; i < n; i++) {
                char got;

                if (c->at_ms[i] == FORGET) {
                        udkd_crash_window_forget(&w);
                        got = '-';
                } else {
                        bool give_up = udkd_crash_window_add(&w, c->at_ms[i] * MS, c->limit, c->window_ms * MS);

                        got = give_up ? 'x' : 'o';
                }
                if (got != c->verdicts[i])
                        udk_test_fail("%s: crash %zu at %" PRIu64 " ms: '%c', want '%c' (verdicts %s)", c->name,
                                      i, c->at_ms[i], got, c->verdicts[i], c->verdicts);
        }
}

static void test_verdicts(void)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(window_cases); i++)
                run_case(&window_cases[i]);
}

/* The count the give-up message names: the crashes within the window ending now. */
static void test_count(void)
{
        struct udkd_crash_window w = { 0 };
        const uint64_t window = 10000 * MS;

        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 0, window), 0);
        for (uint64_t t = 0; t <= 12000; t += 4000)
                ASSERT_FALSE(udkd_crash_window_add(&w, t * MS, 3, window));
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 12000 * MS, window), 3); /* 4, 8, 12 */
        ASSERT_TRUE(udkd_crash_window_add(&w, 13000 * MS, 3, window));
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 13000 * MS, window), 4); /* 4, 8, 12, 13 */
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 14000 * MS, window), 4); /* 4 is still in at 14 */
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 14001 * MS, window), 3);
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 13000 * MS, UINT64_MAX), 5);
        udkd_crash_window_forget(&w);
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, 13000 * MS, UINT64_MAX), 0);
}

/*
 * The largest COUNT the parser takes, over many turns of the ring: crashes
 * 10 ms apart never give up under 100/1s (101 of them span exactly 1 s, so
 * the 101st of any run is 1 s after the 1st: in, both ends counted: give up;
 * 10.001 ms apart they span just over 1 s: never).
 */
static void test_largest_limit_over_the_ring(void)
{
        const uint32_t limit = UDKD_RESTART_LIMIT_COUNT_MAX;
        const uint64_t window = 1000 * MS;
        struct udkd_crash_window w = { 0 };
        uint64_t t = 0;

        ASSERT_UINT_EQ(limit, 100);
        for (uint32_t i = 0; i < 10 * UDKD_CRASH_WINDOW_SIZE; i++, t += 10001000ull)
                if (udkd_crash_window_add(&w, t, limit, window))
                        udk_test_fail("crash %u at %" PRIu64 " ns gave up", i, t);
        ASSERT_UINT_EQ(w.n, UDKD_CRASH_WINDOW_SIZE);
        ASSERT_UINT_EQ(udkd_crash_window_count(&w, t - 10001000ull, window), limit);

        udkd_crash_window_forget(&w);
        t = 0;
        for (uint32_t i = 0; i < limit; i++, t += 10 * MS)
                ASSERT_FALSE(udkd_crash_window_add(&w, t, limit, window));
        ASSERT_UINT_EQ(t, window);
        ASSERT_TRUE(udkd_crash_window_add(&w, t, limit, window)); /* the 101st, 1 s after the 1st */

        /* A COUNT above the ring is judged as the largest one (the parser never hands one over). */
        udkd_crash_window_forget(&w);
        for (uint32_t i = 0; i < limit; i++)
                ASSERT_FALSE(udkd_crash_window_add(&w, 0, 5000, window));
        ASSERT_TRUE(udkd_crash_window_add(&w, 0, 5000, window));
}

/* A reloaded personality changes the limit between crashes: judged on the crash times kept. */
static void test_limit_changes(void)
{
        struct udkd_crash_window w = { 0 };
        const uint64_t window = 10000 * MS;

        for (uint64_t t = 0; t < 4; t++)
                ASSERT_FALSE(udkd_crash_window_add(&w, t * 1000 * MS, 5, window)); /* 4 of 5 allowed */
        ASSERT_TRUE(udkd_crash_window_add(&w, 4000 * MS, 2, window));            /* now 5 of 2 */
        ASSERT_FALSE(udkd_crash_window_add(&w, 5000 * MS, 0, window));           /* now none */
        ASSERT_FALSE(udkd_crash_window_add(&w, 6000 * MS, 7, window));           /* 7 of 7 */
        ASSERT_TRUE(udkd_crash_window_add(&w, 7000 * MS, 7, window));            /* 8 of 7 */
        ASSERT_FALSE(udkd_crash_window_add(&w, 7000 * MS, 7, 0)); /* a 0 window: only same-time crashes */
}

UDK_TEST_MAIN(test_verdicts, test_count, test_largest_limit_over_the_ring, test_limit_changes)
