/* SPDX-License-Identifier: MIT */
/*
 * The bridge in simulated time: a producer whose clock runs ±200 ppm off
 * the consumer's writes 512-frame periods, the consumer reads 512-frame
 * cycles, both stamped with the exact simulated times; ten minutes at 48
 * kHz must pass without an underflow or overflow, the fill must settle to
 * its target and the ratio to the true one.
 */
#include <stdint.h>
#include <stdlib.h>

#include <udk/bridge.h>

#include "udk-test-sine.h"
#include "udk-test.h"

#define RATE   48000u
#define PERIOD 512u
/* libsoxr's variable-rate filter is HIGH's at best: this test measures 109.8 dB. */
#define BRIDGE_SNR_DB 100.0

struct sim {
        double settle_s;  /* from here on, the bounds below hold */
        double fill_band; /* |fill - target| after settling, frames */
        double ratio_ppm; /* |ratio / true - 1| after settling */
        double mean_ppm;  /* |mean ratio / true - 1| after settling */
        double worst_fill, worst_ppm, settled_at, ratio_sum;
        uint32_t queued_min, queued_max; /* the FIFO itself, after settling */
        uint64_t n_settled;
        float *record; /* the consumer's frames from record_from_s on, when not NULL */
        size_t record_frames, recorded;
        double record_from_s;
};

static void simulate_rates(uint32_t p_rate, uint32_t p_period, uint32_t c_rate, uint32_t c_period,
                           double offset_ppm, double seconds, uint32_t channels, struct sim *sim)
{
        struct udk_bridge_config cfg = {
                .producer_rate = p_rate,
                .consumer_rate = c_rate,
                .channels = channels,
                .producer_period = p_period,
                .consumer_period = c_period,
        };
        const double true_rate = p_rate * (1.0 + offset_ppm * 1e-6), true_ratio = true_rate / c_rate;
        float *in = calloc((size_t)p_period * channels, sizeof(float)),
              *out = calloc((size_t)c_period * channels, sizeof(float));
        struct udk_bridge_stats st;
        struct udk_bridge *b;
        uint64_t writes = 0, reads = 0, produced = 0;
        char err[256];

        ASSERT_NOT_NULL(in);
        ASSERT_NOT_NULL(out);
        ASSERT_OK(udk_bridge_create(&cfg, &b, err, sizeof(err)));
        sim->worst_fill = sim->worst_ppm = sim->ratio_sum = 0;
        sim->n_settled = 0;
        sim->queued_min = UINT32_MAX;
        sim->queued_max = 0;
        sim->settled_at = -1;
        for (;;) {
                /* The next event: the producer's period ends, or the consumer's cycle starts. */
                double t_write = (double)(writes + 1) * p_period / true_rate;
                double t_read = (double)reads * c_period / c_rate;

                if (t_read > seconds)
                        break;
                if (t_write <= t_read) {
                        for (uint32_t i = 0; i < p_period; i++, produced++)
                                for (uint32_t c = 0; c < channels; c++)
                                        /* A 1 kHz sine on the producer's clock. */
                                        in[i * channels + c] =
                                                (float)(0.5 * sin(2 * M_PI * 1000.0 * (double)produced /
                                                                  true_rate));
                        ASSERT_UINT_EQ(udk_bridge_write(b, in, p_period, (uint64_t)llround(t_write * 1e9)),
                                       p_period);
                        writes++;
                        continue;
                }
                ASSERT_OK(udk_bridge_read(b, out, c_period, (uint64_t)llround(t_read * 1e9)));
                reads++;
                udk_bridge_stats(b, &st);
                if (st.underflows || st.overflows)
                        udk_test_fail("%+.0f ppm at %.3f s: %" PRIu64 " underflows, %" PRIu64
                                      " overflows (fill %.1f)",
                                      offset_ppm, t_read, st.underflows, st.overflows, st.fill);
                if (sim->record && t_read >= sim->record_from_s &&
                    sim->recorded + c_period <= sim->record_frames) {
                        memcpy(sim->record + sim->recorded * channels, out,
                               sizeof(float) * c_period * channels);
                        sim->recorded += c_period;
                }
                if (t_read >= sim->settle_s) {
                        double fe = fabs(st.fill - st.target_fill),
                               pe = fabs(st.ratio / true_ratio - 1) * 1e6;
                        sim->worst_fill = fmax(sim->worst_fill, fe);
                        sim->worst_ppm = fmax(sim->worst_ppm, pe);
                        sim->ratio_sum += st.ratio;
                        sim->queued_min = UDK_TEST_MIN(sim->queued_min, st.queued);
                        sim->queued_max = st.queued > sim->queued_max ? st.queued : sim->queued_max;
                        sim->n_settled++;
                }
        }
        {
                double mean = fabs(sim->ratio_sum / (double)sim->n_settled / true_ratio - 1) * 1e6;
                fprintf(stderr,
                        "# %+.0f ppm, %.0f s: after %.0f s fill within %.2f frames of %u, ratio within %.3f "
                        "ppm, "
                        "its mean within %.4f ppm; FIFO %u..%u frames\n",
                        offset_ppm, seconds, sim->settle_s, sim->worst_fill, st.target_fill, sim->worst_ppm,
                        mean, sim->queued_min, sim->queued_max);
                /* The FIFO proper, after a read: the target less this read's
                 * intake and less up to a write the producer has not made yet. */
                ASSERT_UINT_GE(sim->queued_min,
                               st.target_fill - p_period - (uint32_t)ceil(c_period * true_ratio) - 8);
                ASSERT_UINT_LE(sim->queued_max, st.target_fill - (uint32_t)floor(c_period * true_ratio) + 8);
                ASSERT_TRUE(mean <= sim->mean_ppm);
        }
        ASSERT_TRUE(st.running);
        ASSERT_TRUE(sim->worst_fill <= sim->fill_band);
        ASSERT_TRUE(sim->worst_ppm <= sim->ratio_ppm);
        udk_bridge_destroy(b);
        free(in);
        free(out);
}

static void simulate(double offset_ppm, double seconds, uint32_t channels, struct sim *sim)
{
        simulate_rates(RATE, PERIOD, RATE, PERIOD, offset_ppm, seconds, channels, sim);
}

/*
 * Bounds after the first minute (the loop settles in about 20 s), a few
 * times what this test measures: fill within 0.1 frames of its target,
 * ratio within 1 ppm of the true one cycle by cycle, its mean within
 * 0.0011 ppm.
 */
static void test_ten_minutes_fast_producer(void)
{
        struct sim sim = { .settle_s = 60, .fill_band = 0.5, .ratio_ppm = 2, .mean_ppm = 0.01 };
        simulate(+200, 600, 1, &sim);
}

static void test_ten_minutes_slow_producer(void)
{
        struct sim sim = { .settle_s = 60, .fill_band = 0.5, .ratio_ppm = 2, .mean_ppm = 0.01 };
        simulate(-200, 600, 1, &sim);
}

/* 44.1 kHz in 256-frame periods into 48 kHz in 480-frame cycles, +150 ppm, stereo: the sine comes
 * through clean. */
static void test_other_rates_and_sound(void)
{
        const double seconds = 90, from = 60, c_rate = 48000;
        struct sim sim = { .settle_s = from, .fill_band = 0.5, .ratio_ppm = 2, .mean_ppm = 0.01 };
        double amp, snr;

        sim.record_from_s = from;
        sim.record_frames = (size_t)((seconds - from) * c_rate);
        sim.record = calloc(sim.record_frames * 2, sizeof(float));
        ASSERT_NOT_NULL(sim.record);
        simulate_rates(44100, 256, 48000, 480, +150, seconds, 2, &sim);
        ASSERT_UINT_GE(sim.recorded, (size_t)(20 * c_rate));
        /* The sine is 1 kHz in simulated time.  The loop moves the delay by
         * a frame or two over seconds, which a fit of the whole would count
         * as noise: fit 100 ms windows, and take the worst. */
        for (unsigned ch = 0; ch < 2; ch++) {
                double worst = INFINITY;
                for (size_t off = 0; off + 4800 <= sim.recorded; off += 4800) {
                        snr = udk_test_sine_snr_db(sim.record + off * 2, 4800, 2, ch, 1000.0 / c_rate, &amp);
                        worst = fmin(worst, snr);
                        ASSERT_NEAR(amp, 0.5, 0.001);
                }
                fprintf(stderr, "# bridged sine, channel %u: worst SNR of 100 ms windows %.1f dB\n", ch,
                        worst);
                ASSERT_TRUE(worst >= BRIDGE_SNR_DB);
        }
        free(sim.record);
}

static void test_bad_config(void)
{
        struct udk_bridge_config cfg = {
                .producer_rate = 48000,
                .consumer_rate = 2000,
                .channels = 2,
                .producer_period = 256,
                .consumer_period = 256,
        };
        struct udk_bridge *b = NULL;
        char err[256];

        ASSERT_ERROR(udk_bridge_create(&cfg, &b, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "output rate 2000 Hz: outside 8000..768000");
        cfg.consumer_rate = 48000;
        cfg.consumer_period = 0;
        ASSERT_ERROR(udk_bridge_create(&cfg, &b, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "periods of 256 and 0 frames: 1..16384");
        ASSERT_TRUE(b == NULL);
}

/*
 * A stall of one side at 30 s, +200 ppm: the consumer's (its cycles for
 * @stall_s are lost, the FIFO overflows) or the producer's (no writes for
 * @stall_s, the FIFO runs dry).  The fill is put back at its target at
 * once (one resync) and the ratio learnt stays: within 5 ppm of the true
 * one and the fill within 2 frames of its target 2 s after, without
 * another underflow or overflow.
 */
static void check_stall(bool consumer, double stall_s)
{
        struct udk_bridge_config cfg = {
                .producer_rate = RATE,
                .consumer_rate = RATE,
                .channels = 1,
                .producer_period = PERIOD,
                .consumer_period = PERIOD,
        };
        const double true_ratio = 1.0 + 200e-6, at = 30.0;
        float in[PERIOD] = {}, out[PERIOD];
        uint64_t writes = 0, reads = 0, xruns = 0;
        struct udk_bridge_stats st;
        struct udk_bridge *b;
        char err[256];

        ASSERT_OK(udk_bridge_create(&cfg, &b, err, sizeof(err)));
        for (;;) {
                double t_write = (double)(writes + 1) * PERIOD / (RATE * true_ratio);
                double t_read = (double)reads * PERIOD / RATE;
                bool stalled = t_read >= at && t_read < at + stall_s;

                if (t_read > at + stall_s + 2.0)
                        break;
                if (t_write <= t_read) {
                        if (consumer || !(t_write >= at && t_write < at + stall_s))
                                udk_bridge_write(b, in, PERIOD, (uint64_t)llround(t_write * 1e9));
                        writes++;
                        continue;
                }
                if (!consumer || !stalled)
                        ASSERT_OK(udk_bridge_read(b, out, PERIOD, (uint64_t)llround(t_read * 1e9)));
                reads++;
                udk_bridge_stats(b, &st);
                if (t_read < at)
                        ASSERT_UINT_EQ(st.resyncs, 0);
                if (t_read >= at + stall_s + 0.1 && xruns == 0)
                        xruns = st.underflows + st.overflows; /* the stall's, all counted by now */
        }
        udk_bridge_stats(b, &st);
        fprintf(stderr, "# %s stall of %.0f ms: %" PRIu64 " underflows, %" PRIu64 " overflows, %" PRIu64
                        " resyncs; 2 s on: fill %.2f (target %u), ratio %+.2f ppm\n",
                consumer ? "consumer" : "producer", stall_s * 1e3, st.underflows, st.overflows, st.resyncs,
                st.fill, st.target_fill, (st.ratio - 1) * 1e6);
        ASSERT_UINT_GE(xruns, 1);
        ASSERT_UINT_EQ(st.underflows + st.overflows, xruns);
        ASSERT_UINT_EQ(st.resyncs, 1);
        ASSERT_TRUE(st.running);
        ASSERT_NEAR(st.fill, st.target_fill, 2.0);
        ASSERT_NEAR((st.ratio / true_ratio - 1) * 1e6, 0.0, 5.0);
        udk_bridge_destroy(b);
}

static void test_stalls_resync_and_keep_the_ratio(void)
{
        check_stall(true, 0.1);
        check_stall(false, 0.1);
}

UDK_TEST_MAIN(test_stalls_resync_and_keep_the_ratio, test_ten_minutes_fast_producer, test_ten_minutes_slow_producer, test_other_rates_and_sound,
              test_bad_config)
