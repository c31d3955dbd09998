/* SPDX-License-Identifier: MIT */
/*
 * The IO cycle: the order of its steps, sample times, the mix, plan changes
 * while running, xruns and the clock's resynchronisation.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <udk/device.h>
#include <udk/clock.h>

#include "udk-test.h"

#define LOG_MAX 4096

enum event_kind { EV_BEGIN_READ = 1, EV_GRAPH, EV_WRITE_END };

struct event {
        enum event_kind kind;
        uint64_t sample_time;
        int tag;       /* which handler or node */
        bool saw_prev; /* graph: saw BEGIN_READ's marker; WRITE_END: saw the mix */
};

struct recorder {
        struct event log[LOG_MAX];
        _Atomic uint32_t n;
        struct udk_device *dev;
};

static struct recorder rec;

static void record(enum event_kind kind, uint64_t t, int tag, bool saw)
{
        uint32_t i = atomic_load(&rec.n);
        if (i < LOG_MAX) {
                rec.log[i] = (struct event){ kind, t, tag, saw };
                atomic_store(&rec.n, i + 1);
        }
}

static float marker(uint64_t t)
{
        return (float)(t % 1000) + 0.5f;
}

/* BEGIN_READ: stamp the input; WRITE_END: check the node's output got mixed. */
static int recording_handler(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                             uint64_t sample_time, uint64_t host_time)
{
        int tag = (int)(intptr_t)ctx;

        if (op == UDK_IO_BEGIN_READ) {
                udk_stream_frames(udk_device_stream(rec.dev, UDK_DIRECTION_INPUT), sample_time)[0] =
                        marker(sample_time);
                record(EV_BEGIN_READ, sample_time, tag, false);
        } else {
                const float *out = udk_stream_frames(udk_device_stream(rec.dev, UDK_DIRECTION_OUTPUT), sample_time);
                record(EV_WRITE_END, sample_time, tag, out[1] == 2.0f * marker(sample_time));
        }
        return frames == 64 && device == udk_device_id(rec.dev) ? 0 : -EINVAL;
}

/* A node: copies the stamp it sees, doubled, to output sample 1. */
static int recording_node(void *data, const struct udk_node_cycle *c)
{
        bool saw = c->input[0] == marker(c->sample_time);
        c->output[1] = 2.0f * c->input[0];
        record(EV_GRAPH, c->sample_time, (int)(intptr_t)data, saw);
        return 0;
}

static struct udk_device *make_device_priority(uint32_t period, const char *source, int priority);

static struct udk_device *make_device(uint32_t period, const char *source)
{
        return make_device_priority(period, source, 0);
}

/* SCHED_FIFO at @priority where permitted (one warning otherwise). */
static struct udk_device *make_device_priority(uint32_t period, const char *source, int priority)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        cfg.period = period;
        cfg.rt_priority = priority;
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_OK(udk_device_open(dev, err, sizeof(err)));
        ASSERT_OK(udk_control_set_from_string(udk_device_find_control(dev, "source"), source));
        return dev;
}

static void check_order(uint32_t first, uint32_t cycles, uint64_t t0, uint32_t period)
{
        for (uint32_t c = 0; c < cycles; c++) {
                const struct event *e = &rec.log[first + 3 * c];
                uint64_t t = t0 + (uint64_t)c * period;
                ASSERT_INT_EQ(e[0].kind, EV_BEGIN_READ);
                ASSERT_INT_EQ(e[1].kind, EV_GRAPH);
                ASSERT_INT_EQ(e[2].kind, EV_WRITE_END);
                for (int k = 0; k < 3; k++)
                        ASSERT_UINT_EQ(e[k].sample_time, t);
                ASSERT_TRUE(e[1].saw_prev);
                ASSERT_TRUE(e[2].saw_prev);
        }
}

static void test_cycle_order_synchronous(void)
{
        struct udk_device *dev = rec.dev = make_device(64, "silence");
        uint64_t now = udk_time_now();

        ASSERT_OK(udk_device_add_handler(dev, "rec", recording_handler, NULL, UDK_IO_OPS_ALL, NULL, NULL));
        ASSERT_OK(udk_device_add_node(dev, "node", recording_node, NULL, NULL, NULL));
        for (int i = 0; i < 20; i++)
                ASSERT_OK(udk_device_cycle(dev, now + (uint64_t)i * 1333333));
        ASSERT_UINT_EQ(atomic_load(&rec.n), 60);
        check_order(0, 20, 0, 64);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->cycles), 20);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->handler_errors), 0);
        udk_device_destroy(dev);
}

static void test_cycle_order_rt_thread(void)
{
        struct udk_device *dev = rec.dev = make_device(64, "silence");
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        uint32_t n;

        ASSERT_OK(udk_device_add_handler(dev, "rec", recording_handler, NULL, UDK_IO_OPS_ALL, NULL, NULL));
        ASSERT_OK(udk_device_add_node(dev, "node", recording_node, NULL, NULL, NULL));
        ASSERT_OK(udk_device_start(dev));
        nanosleep(&ts, NULL);
        udk_device_stop(dev);
        n = atomic_load(&rec.n);
        ASSERT_UINT_GE(n, 3 * 30); /* 100 ms is 75 periods; allow a slow machine */
        ASSERT_INT_EQ(n % 3, 0);
        /* Sample times advance by exactly the period unless an xrun skipped. */
        if (atomic_load(&udk_device_stats(dev)->xruns) == 0)
                check_order(0, n / 3, 0, 64);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->handler_errors), 0);
        udk_device_destroy(dev);
}

static int const_node(void *data, const struct udk_node_cycle *c)
{
        float v = *(const float *)data;
        for (uint32_t i = 0; i < c->frames * c->output_channels; i++)
                c->output[i] = v;
        return v < 0 ? -1 : 0;
}

static void test_mix_sums_nodes_and_drops_failures(void)
{
        struct udk_device *dev = make_device(64, "silence");
        static const float a = 0.25f, b = 0.125f, bad = -1.0f;
        struct udk_node *nb;
        const float *out;

        ASSERT_OK(udk_device_add_node(dev, "a", const_node, (void *)&a, NULL, NULL));
        ASSERT_OK(udk_device_add_node(dev, "b", const_node, (void *)&b, NULL, &nb));
        ASSERT_OK(udk_device_add_node(dev, "bad", const_node, (void *)&bad, NULL, NULL));
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        out = udk_stream_frames(udk_device_stream(dev, UDK_DIRECTION_OUTPUT), 0);
        for (int i = 0; i < 128; i++)
                ASSERT_FLOAT_EQ(out[i], 0.375f);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->handler_errors), 1);

        ASSERT_OK(udk_device_remove_node(dev, nb));
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        out = udk_stream_frames(udk_device_stream(dev, UDK_DIRECTION_OUTPUT), 64);
        for (int i = 0; i < 128; i++)
                ASSERT_FLOAT_EQ(out[i], 0.25f);
        ASSERT_UINT_EQ(udk_device_n_nodes(dev), 2);
        udk_device_destroy(dev);
}

/* --- handlers added and removed while the RT thread runs --- */

struct tagged {
        _Atomic uint32_t calls;
        _Atomic int destroyed;
        _Atomic bool rt_done; /* set by the RT thread: destroy must come after */
};

static struct tagged tags[3];
static _Atomic uint64_t seen_mask_log[LOG_MAX];
static _Atomic uint32_t seen_n;
static _Atomic uint32_t current_mask;

static int tag_handler(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                       uint64_t sample_time, uint64_t host_time)
{
        struct tagged *t = ctx;
        uint32_t idx = (uint32_t)(t - tags);

        atomic_fetch_add(&t->calls, 1);
        if (op == UDK_IO_BEGIN_READ) {
                if (idx == 0)
                        atomic_store(&current_mask, 0);
                atomic_fetch_or(&current_mask, 1u << idx);
        } else if (idx == 2 || (idx == 0 && !(atomic_load(&current_mask) & 4))) {
                /* The last handler of this cycle at WRITE_END logs the set
                 * that ran at BEGIN_READ: it must be the same set. */
                uint32_t i = atomic_fetch_add(&seen_n, 1);
                if (i < LOG_MAX)
                        atomic_store(&seen_mask_log[i], atomic_load(&current_mask));
        }
        return 0;
}

static void tag_destroy(void *ctx)
{
        struct tagged *t = ctx;
        atomic_fetch_add(&t->destroyed, 1);
}

static void test_handlers_change_while_running(void)
{
        struct udk_device *dev = make_device(64, "silence");
        struct udk_handler *h[3];
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        uint32_t n;

        ASSERT_OK(udk_device_add_handler(dev, "h0", tag_handler, &tags[0], UDK_IO_OPS_ALL, tag_destroy, &h[0]));
        ASSERT_OK(udk_device_start(dev));
        for (int round = 0; round < 10; round++) {
                ASSERT_OK(udk_device_add_handler(dev, "h1", tag_handler, &tags[1], UDK_IO_OPS_ALL, tag_destroy,
                                                 &h[1]));
                ASSERT_OK(udk_device_add_handler(dev, "h2", tag_handler, &tags[2], UDK_IO_OPS_ALL, tag_destroy,
                                                 &h[2]));
                nanosleep(&ts, NULL);
                udk_device_collect(dev);
                ASSERT_OK(udk_device_remove_handler(dev, h[1]));
                nanosleep(&ts, NULL);
                udk_device_collect(dev);
                ASSERT_OK(udk_device_remove_handler(dev, h[2]));
                nanosleep(&ts, NULL);
                udk_device_collect(dev);
        }
        udk_device_stop(dev);
        udk_device_collect(dev);

        /* Every removed handler was destroyed once per removal, after collect. */
        ASSERT_INT_EQ(atomic_load(&tags[1].destroyed), 10);
        ASSERT_INT_EQ(atomic_load(&tags[2].destroyed), 10);
        ASSERT_INT_EQ(atomic_load(&tags[0].destroyed), 0);
        ASSERT_UINT_GE(atomic_load(&tags[1].calls), 10);

        /* Each cycle ran one of the sets {0}, {0,1} (a cycle may start
         * between the two adds), {0,1,2}, {0,2} — a set is never torn
         * mid-cycle: BEGIN_READ and WRITE_END saw the same. */
        n = UDK_TEST_MIN(atomic_load(&seen_n), LOG_MAX);
        ASSERT_UINT_GE(n, 100);
        for (uint32_t i = 0; i < n; i++) {
                uint32_t m = atomic_load(&seen_mask_log[i]);
                if (m != 1 && m != 3 && m != 7 && m != 5)
                        udk_test_fail("cycle %u ran handler set 0x%x", i, m);
        }
        ASSERT_UINT_GE(atomic_load(&udk_device_stats(dev)->plan_swaps), 30);
        udk_device_destroy(dev);
        ASSERT_INT_EQ(atomic_load(&tags[0].destroyed), 1);
}

/* --- xruns --- */

static _Atomic int stall_once;

static void spin_ns(uint64_t ns)
{
        uint64_t end = udk_time_now() + ns;
        while (udk_time_now() < end)
                ;
}

static int stalling_handler(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                            uint64_t sample_time, uint64_t host_time)
{
        /* Stall 3.5 periods once: this cycle overruns, the next wake is late. */
        if (op == UDK_IO_BEGIN_READ && sample_time >= 64 * 200 && atomic_exchange(&stall_once, 0))
                spin_ns(3 * 1333333 + 666666);
        return 0;
}

static void test_xrun_counted_and_clock_resyncs(void)
{
        struct udk_device *dev = make_device_priority(64, "silence", 50);
        const struct udk_cycle_stats *st = udk_device_stats(dev);
        const struct udk_zero_timestamp *zts = udk_device_zero_timestamp(dev);
        struct timespec ts = { 0, 150 * 1000 * 1000 };
        uint64_t s1, h1, s2, h2, r1, r2, skipped;
        double expect_ns;

        atomic_store(&stall_once, 1);
        ASSERT_OK(udk_device_add_handler(dev, "stall", stalling_handler, NULL, UDK_IO_OPS_ALL, NULL, NULL));
        ASSERT_OK(udk_device_start(dev));
        nanosleep(&ts, NULL); /* the stall comes at 200 periods, about 267 ms */
        ASSERT_OK(udk_zts_read(zts, &s1, &h1, &r1));
        ts.tv_sec = 1;
        ts.tv_nsec = 0;
        nanosleep(&ts, NULL);
        ASSERT_OK(udk_zts_read(zts, &s2, &h2, &r2));
        udk_device_stop(dev);

        ASSERT_INT_EQ(atomic_load(&stall_once), 0);
        ASSERT_UINT_GE(atomic_load(&st->xruns), 1);
        ASSERT_UINT_GE(atomic_load(&st->xrun_overruns), 1);
        ASSERT_UINT_GE(atomic_load(&st->xrun_late_wakes), 1);
        ASSERT_UINT_GE(atomic_load(&st->max_xrun_lateness), 1333333);
        skipped = atomic_load(&st->frames_skipped);
        ASSERT_UINT_GE(skipped, 64);
        ASSERT_INT_EQ(skipped % 64, 0);
        ASSERT_INT_EQ(s1 % 64, 0);
        ASSERT_INT_EQ(s2 % 64, 0);
        /* No drift: across the xrun, the zero timestamps still map sample
         * time to host time at the nominal rate (within the DLL's error). */
        expect_ns = (double)(s2 - s1) * 1e9 / 48000.0;
        ASSERT_NEAR((double)(h2 - h1), expect_ns, 10.0); /* the timer is the clock: exact but for rounding */
        udk_device_destroy(dev);
}

/* The virtual backend, with sample time 0 a whole 100 ms ago: the first wake-up is an xrun. */
static int late_start(void *instance, uint64_t *ret_start_time)
{
        int r = udk_backend_virtual.start(instance, ret_start_time);

        *ret_start_time -= 100 * 1000 * 1000;
        return r;
}

static void test_first_cycle_late(void)
{
        static struct udk_backend_ops late;
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        const struct udk_zero_timestamp *zts;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        uint64_t s1, h1, r1, s2, h2, r2;
        char err[256] = "";

        late = udk_backend_virtual;
        late.start = late_start;
        udk_device_config_defaults(&cfg);
        cfg.period = 64;
        ASSERT_OK(udk_device_create(&cfg, &late, &dev, err, sizeof(err)));
        ASSERT_OK(udk_device_open(dev, err, sizeof(err)));
        zts = udk_device_zero_timestamp(dev);
        ASSERT_OK(udk_device_start(dev));
        nanosleep(&ts, NULL);
        ASSERT_OK(udk_zts_read(zts, &s1, &h1, &r1));
        nanosleep(&ts, NULL);
        ASSERT_OK(udk_zts_read(zts, &s2, &h2, &r2));
        udk_device_stop(dev);

        ASSERT_UINT_GE(atomic_load(&udk_device_stats(dev)->xrun_late_wakes), 1);
        /* The sample time jumped over the 100 ms, and the clock runs from there at the nominal rate. */
        ASSERT_UINT_GE(s1, 4800);
        ASSERT_TRUE(s2 > s1);
        ASSERT_NEAR((double)r1, 48000000.0, 1.0);
        ASSERT_NEAR((double)r2, 48000000.0, 1.0);
        ASSERT_NEAR((double)(h2 - h1), (double)(s2 - s1) * 1e9 / 48000.0, 10.0);
        udk_device_destroy(dev);
}

static void test_zero_timestamps_on_ring_boundaries(void)
{
        struct udk_device *dev = make_device(64, "silence");
        const struct udk_zero_timestamp *zts = udk_device_zero_timestamp(dev);
        uint64_t base = 1000000000ull, s, h, rate;

        ASSERT_ERROR(udk_zts_read(zts, &s, &h, &rate), ENODATA);
        /* Perfect wake-ups: boundary k (sample 64k + 64) at base + ns(64k). */
        for (uint64_t k = 0; k < 40; k++) {
                ASSERT_OK(udk_device_cycle(dev, base + k * 64 * 1000000000ull / 48000));
                ASSERT_OK(udk_zts_read(zts, &s, &h, &rate));
                /* First cycle publishes at once; then every ring (256 frames). */
                uint64_t want = k < 3 ? 64 : ((64 * k + 64) / 256) * 256;
                ASSERT_UINT_EQ(s, want);
                uint64_t want_h = base + (want - 64) * 1000000000ull / 48000;
                ASSERT_NEAR((double)h, (double)want_h, 2.0);
                ASSERT_NEAR((double)rate, 48000000.0, 1.0);
        }
        udk_device_destroy(dev);
}

UDK_TEST_MAIN(test_cycle_order_synchronous, test_cycle_order_rt_thread, test_mix_sums_nodes_and_drops_failures,
              test_handlers_change_while_running, test_xrun_counted_and_clock_resyncs, test_first_cycle_late,
              test_zero_timestamps_on_ring_boundaries)
