/* SPDX-License-Identifier: MIT */
/*
 * The virtual device: its sine is sample-exact and phase-continuous, its
 * loopback latency is exactly the one it reports, its controls apply from
 * the next cycle, and its rates and options are checked.
 */
#include <math.h>
#include <stdatomic.h>
#include <time.h>

#include <udk/device.h>
#include <udk/format.h>

#include "udk-test.h"

static struct udk_device *make_device(uint32_t rate, uint32_t period, uint32_t channels,
                                      enum udk_sample_format format, const char *latency)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        cfg.rate = rate;
        cfg.period = period;
        cfg.input_channels = cfg.output_channels = channels;
        cfg.format = format;
        cfg.rt_priority = 0;
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        if (latency)
                ASSERT_OK(udk_device_set_backend_option(dev, "loopback_latency", latency, err, sizeof(err)));
        ASSERT_OK(udk_device_open(dev, err, sizeof(err)));
        return dev;
}

static void set_control(struct udk_device *dev, const char *name, const char *value)
{
        struct udk_control *c = udk_device_find_control(dev, name);
        ASSERT_NOT_NULL(c);
        ASSERT_OK(udk_control_set_from_string(c, value));
}

/* The reference: sample n at phase p is sin(2 pi p / rate) as float, times
 * the level's gain; the phase advances by the frequency, modulo the rate. */
static float reference(uint32_t phase, uint32_t rate, float gain)
{
        return (float)sin(2.0 * M_PI * (double)phase / (double)rate) * gain;
}

static void check_sine(uint32_t rate, uint32_t period, uint32_t channels)
{
        struct udk_device *dev = make_device(rate, period, channels, UDK_FORMAT_F32, NULL);
        struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);
        struct udk_control *level = udk_device_find_control(dev, "level");
        uint32_t phase = 0, freq = 1000;
        uint64_t t = 0;

        set_control(dev, "level", "0");
        for (int cycle = 0; cycle < 300; cycle++) {
                /* Switch frequency and level now and then: still continuous. */
                if (cycle == 100) {
                        set_control(dev, "frequency", "440");
                        freq = 440;
                }
                if (cycle == 200) {
                        set_control(dev, "level", "-6");
                        set_control(dev, "frequency", "8000 Hz");
                        freq = 8000;
                }
                float gain = udk_control_level_gain(level);
                ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
                const float *x = udk_stream_frames(in, t);
                for (uint32_t f = 0; f < period; f++) {
                        float want = reference(phase, rate, gain);
                        for (uint32_t c = 0; c < channels; c++)
                                if (x[f * channels + c] != want)
                                        udk_test_fail("rate %u period %u: sample %" PRIu64 " channel %u is %.9g, "
                                                      "want %.9g",
                                                      rate, period, t + f, c, x[f * channels + c], want);
                        phase = (phase + freq) % rate;
                }
                t += period;
        }
        udk_device_destroy(dev);
}

static void test_sine_is_exact_and_phase_continuous(void)
{
        check_sine(48000, 64, 2);
        check_sine(44100, 16, 1);
        check_sine(96000, 4096, 3);
        check_sine(192000, 100, 2);
}

static void test_sine_through_s16_hardware(void)
{
        struct udk_device *dev = make_device(48000, 64, 2, UDK_FORMAT_S16, NULL);
        struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);
        uint32_t phase = 0;

        set_control(dev, "level", "0");
        for (uint64_t t = 0; t < 64 * 50; t += 64) {
                ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
                const float *x = udk_stream_frames(in, t);
                for (uint32_t f = 0; f < 64; f++) {
                        /* What a 16-bit converter makes of it: rounded, +1.0 clipped. */
                        float v = reference(phase, 48000, 1.0f);
                        long q = lrintf(v * 32768.0f);
                        if (q > 32767)
                                q = 32767;
                        ASSERT_FLOAT_EQ(x[2 * f], (float)q / 32768.0f);
                        ASSERT_FLOAT_EQ(x[2 * f + 1], (float)q / 32768.0f);
                        phase = (phase + 1000) % 48000;
                }
        }
        udk_device_destroy(dev);
}

/* A node writing a ramp: frame n, channel c holds (n + 1) + c / 4. */
static int ramp_node(void *data, const struct udk_node_cycle *c)
{
        for (uint32_t f = 0; f < c->frames; f++)
                for (uint32_t ch = 0; ch < c->output_channels; ch++)
                        c->output[f * c->output_channels + ch] =
                                (float)(c->sample_time + f + 1) / 65536.0f + (float)ch / 4.0f;
        return 0;
}

static void check_loopback(uint32_t period, const char *latency_text, uint32_t latency,
                           enum udk_sample_format format)
{
        struct udk_device *dev = make_device(48000, period, 2, format, latency_text);
        struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);

        ASSERT_UINT_EQ(udk_device_latency(dev, UDK_DIRECTION_OUTPUT), latency);
        ASSERT_UINT_EQ(udk_device_latency(dev, UDK_DIRECTION_INPUT), 0);
        set_control(dev, "source", "loopback");
        ASSERT_OK(udk_device_add_node(dev, "ramp", ramp_node, NULL, NULL, NULL));
        for (uint64_t t = 0; t < (uint64_t)period * 40; t += period) {
                ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
                const float *x = udk_stream_frames(in, t);
                for (uint32_t f = 0; f < period; f++) {
                        uint64_t n = t + f;
                        for (uint32_t ch = 0; ch < 2; ch++) {
                                float want = n < latency ? 0.0f
                                                         : (float)(n - latency + 1) / 65536.0f + (float)ch / 4.0f;
                                if (format == UDK_FORMAT_S24_4)
                                        want = (float)lrint((double)want * 8388608.0) / 8388608.0f;
                                if (x[f * 2 + ch] != want)
                                        udk_test_fail("latency %u: frame %" PRIu64 " ch %u is %.9g, want %.9g",
                                                      latency, n, ch, x[f * 2 + ch], want);
                        }
                }
        }
        udk_device_destroy(dev);
}

static void test_loopback_latency_is_the_reported_one(void)
{
        check_loopback(64, NULL, 64, UDK_FORMAT_F32);   /* default: one period */
        check_loopback(64, "100", 100, UDK_FORMAT_F32); /* not a whole number of periods */
        check_loopback(64, "1000", 1000, UDK_FORMAT_F32);
        check_loopback(32, "77", 77, UDK_FORMAT_S24_4);
}

static float peak(const float *x, size_t n)
{
        float p = 0;
        for (size_t i = 0; i < n; i++)
                p = fmaxf(p, fabsf(x[i]));
        return p;
}

static void test_controls_apply_from_next_cycle(void)
{
        struct udk_device *dev = make_device(48000, 64, 2, UDK_FORMAT_F32, NULL);
        struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);
        struct udk_control *level = udk_device_find_control(dev, "level");
        uint32_t phase = 0;
        uint64_t t = 0;

        /* Default level -12 dB. */
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        ASSERT_FLOAT_EQ(udk_stream_frames(in, t)[2], reference(1000, 48000, udk_control_level_gain(level)));
        phase = (64 * 1000) % 48000;
        t += 64;

        set_control(dev, "mute", "on");
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        ASSERT_FLOAT_EQ(peak(udk_stream_frames(in, t), 128), 0.0f);
        phase = (phase + 64 * 1000) % 48000; /* the oscillator runs on, muted */
        t += 64;

        set_control(dev, "mute", "off");
        set_control(dev, "level", "-20");
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        ASSERT_FLOAT_EQ(udk_stream_frames(in, t)[0], reference(phase, 48000, udk_control_level_gain(level)));
        ASSERT_NEAR(udk_control_level_gain(level), 0.1, 1e-6);
        t += 64;

        set_control(dev, "source", "silence");
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        ASSERT_FLOAT_EQ(peak(udk_stream_frames(in, t), 128), 0.0f);
        udk_device_destroy(dev);
}

/* On the RT thread, a mute arrives between cycles: each period is wholly
 * sound or wholly silent, and once silent it stays silent. */
#define PERIODS_MAX 2048
static _Atomic uint32_t zero_counts[PERIODS_MAX];
static _Atomic uint32_t n_periods;
static struct udk_device *rt_dev;

static int count_zeros(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                       uint64_t sample_time, uint64_t host_time)
{
        const float *x = udk_stream_frames(udk_device_stream(rt_dev, UDK_DIRECTION_INPUT), sample_time);
        uint32_t zeros = 0, i = atomic_load(&n_periods);

        for (uint32_t s = 0; s < frames * 2; s++)
                zeros += x[s] == 0.0f;
        if (i < PERIODS_MAX) {
                atomic_store(&zero_counts[i], zeros);
                atomic_store(&n_periods, i + 1);
        }
        return 0;
}

static void test_mute_on_rt_thread_is_period_exact(void)
{
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        uint32_t n, first_silent = 0;

        rt_dev = make_device(48000, 64, 2, UDK_FORMAT_F32, NULL);
        set_control(rt_dev, "frequency", "440"); /* exact zeros only every 1200 samples */
        ASSERT_OK(udk_device_add_handler(rt_dev, "zeros", count_zeros, NULL, UDK_IO_OPS_INPUT, NULL, NULL));
        ASSERT_OK(udk_device_start(rt_dev));
        nanosleep(&ts, NULL);
        set_control(rt_dev, "mute", "on");
        nanosleep(&ts, NULL);
        udk_device_stop(rt_dev);

        n = atomic_load(&n_periods);
        ASSERT_UINT_GE(n, 100);
        for (uint32_t i = 0; i < n; i++) {
                uint32_t z = atomic_load(&zero_counts[i]);
                if (z == 128) {
                        if (!first_silent)
                                first_silent = i;
                } else {
                        ASSERT_UINT_LE(z, 2); /* a sine's own zero crossing, both channels */
                        ASSERT_INT_EQ(first_silent, 0);
                }
        }
        ASSERT_UINT_GE(first_silent, 10);
        udk_device_destroy(rt_dev);
}

static void test_rejects_bad_settings(void)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        cfg.rate = 22050;
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_ERROR(udk_device_open(dev, err, sizeof(err)), ERANGE);
        ASSERT_STR_EQ(err, "rate 22050 not supported by the virtual backend (44100, 48000, 96000, 192000)");
        udk_device_destroy(dev);

        udk_device_config_defaults(&cfg);
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_ERROR(udk_device_set_backend_option(dev, "loopback_latency", "12x", err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "loopback_latency '12x' is not a number (frames, period..65536)");
        ASSERT_ERROR(udk_device_set_backend_option(dev, "loopback_latency", "70000", err, sizeof(err)), ERANGE);
        ASSERT_ERROR(udk_device_set_backend_option(dev, "colour", "blue", err, sizeof(err)), ENOENT);
        ASSERT_OK(udk_device_set_backend_option(dev, "loopback_latency", "10", err, sizeof(err)));
        ASSERT_ERROR(udk_device_open(dev, err, sizeof(err)), ERANGE);
        ASSERT_STR_EQ(err, "loopback_latency 10 is shorter than the period (64 frames)");
        udk_device_destroy(dev);

        udk_device_config_defaults(&cfg);
        cfg.period = 8;
        ASSERT_ERROR(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)), ERANGE);
        ASSERT_STR_EQ(err, "period 8 out of range (16..4096)");
        cfg.period = 64;
        cfg.input_channels = 33;
        ASSERT_ERROR(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)), ERANGE);
        ASSERT_STR_EQ(err, "input_channels 33 out of range (0..32)");
}

static void test_controls_and_properties(void)
{
        struct udk_device *dev = make_device(48000, 64, 2, UDK_FORMAT_F32, NULL);
        struct udk_control *c;

        ASSERT_UINT_EQ(udk_device_n_controls(dev), 4);
        c = udk_device_find_control(dev, "source");
        ASSERT_INT_EQ(c->kind, UDK_CONTROL_SELECTOR);
        ASSERT_INT_EQ(udk_control_selector_get(c), 0);
        ASSERT_ERROR(udk_control_set_from_string(c, "noise"), EINVAL);
        c = udk_device_find_control(dev, "frequency");
        ASSERT_INT_EQ(udk_control_selector_get(c), 1000);
        ASSERT_ERROR(udk_control_set_from_string(c, "1234"), EINVAL);
        c = udk_device_find_control(dev, "level");
        ASSERT_FLOAT_EQ(udk_control_level_db(c), -12.0f);
        ASSERT_ERROR(udk_control_set_from_string(c, "+3"), ERANGE);
        ASSERT_STR_EQ(udk_device_uid(dev), "udk:default");
        ASSERT_UINT_EQ(udk_device_ring_frames(dev), 256);
        ASSERT_INT_EQ(udk_device_stream(dev, UDK_DIRECTION_INPUT)->ring_frames, 256);
        ASSERT_INT_EQ(udk_device_stream(dev, UDK_DIRECTION_OUTPUT)->channels, 2);
        udk_device_destroy(dev);
}

/* clock_ppm: boundary k is start + k * period * 1e9 / (rate * (1 + ppm / 1e6)),
 * to the ns, whatever deadline the cycle asks for; 0 keeps the cycle's. */
static void check_clock_ppm(const char *ppm_text, int64_t ppm)
{
        const uint32_t n = 150, period = 64, rate = 48000;
        uint64_t start = 0, wake = 0, boundary = 0, first = 0;
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";
        void *v;

        udk_device_config_defaults(&cfg);
        cfg.rate = rate;
        cfg.period = period;
        cfg.input_channels = cfg.output_channels = 1;
        cfg.rt_priority = 0;
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_OK(udk_device_set_backend_option(dev, "clock_ppm", ppm_text, err, sizeof(err)));
        ASSERT_OK(udk_device_open(dev, err, sizeof(err)));
        v = udk_device_backend_instance(dev);
        ASSERT_OK(udk_backend_virtual.start(v, &start));
        for (uint32_t k = 1; k <= n; k++) {
                /* The nominal schedule's deadline, as the cycle would ask. */
                uint64_t deadline = start + (uint64_t)k * period * UDK_NSEC_PER_SEC / rate;
                uint64_t want = ppm == 0 ? deadline
                                         : start + (uint64_t)((unsigned __int128)k * period * UDK_NSEC_PER_SEC *
                                                              1000000u / ((uint64_t)rate * (uint64_t)(1000000 + ppm)));

                ASSERT_OK(udk_backend_virtual.wait(v, deadline, &wake, &boundary));
                if (boundary != want)
                        udk_test_fail("clock_ppm %s: boundary %u at %" PRIu64 " ns, want %" PRIu64, ppm_text, k,
                                      boundary - start, want - start);
                ASSERT_UINT_GE(wake, boundary);
                if (k == 1)
                        first = boundary;
        }
        /* Over the n - 1 periods after the first: exactly period / (1 + ppm/1e6), within rounding. */
        double spacing = (double)(boundary - first);
        double expect = (n - 1) * (double)period * 1e9 / (rate * (1.0 + (double)ppm * 1e-6));
        ASSERT_TRUE(fabs(spacing - expect) <= 1.0);
        udk_backend_virtual.stop(v);
        udk_device_destroy(dev);
}

static void test_clock_ppm_scales_the_period_clock(void)
{
        check_clock_ppm("0", 0);
        check_clock_ppm("+200", 200);
        check_clock_ppm("-200", -200);
        check_clock_ppm("1000", 1000);
        check_clock_ppm("-1000", -1000);
}

static void test_clock_ppm_rejects_bad_values(void)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_ERROR(udk_device_set_backend_option(dev, "clock_ppm", "1001", err, sizeof(err)), ERANGE);
        ASSERT_STR_EQ(err, "clock_ppm '1001' out of range (ppm, -1000..1000)");
        ASSERT_ERROR(udk_device_set_backend_option(dev, "clock_ppm", "fast", err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "clock_ppm 'fast' is not a number (ppm, -1000..1000)");
        udk_device_destroy(dev);
}

/* A device holds 128 controls, its backend's among them: the 129th is -ENOSPC, a taken name -EEXIST. */
static void test_controls_limit(void)
{
        struct udk_device *dev = make_device(48000, 64, 2, UDK_FORMAT_F32, NULL);
        uint32_t backend = udk_device_n_controls(dev);
        char name[32];
        int r = 0;

        for (uint32_t i = backend; i < UDK_DEVICE_CONTROLS_MAX; i++) {
                snprintf(name, sizeof(name), "trim%u", i);
                ASSERT_NOT_NULL(udk_device_add_level_control(dev, name, -60.0f, 0.0f, 0.0f, &r));
        }
        ASSERT_UINT_EQ(udk_device_n_controls(dev), 128);
        ASSERT_PTR_EQ(udk_device_add_boolean_control(dev, "one-more", false, &r), NULL);
        ASSERT_INT_EQ(r, -ENOSPC);
        ASSERT_PTR_EQ(udk_device_add_boolean_control(dev, "level", false, &r), NULL);
        ASSERT_INT_EQ(r, -EEXIST);
        ASSERT_UINT_EQ(udk_device_n_controls(dev), 128);
        udk_device_destroy(dev);
}

UDK_TEST_MAIN(test_clock_ppm_scales_the_period_clock, test_clock_ppm_rejects_bad_values,
              test_sine_is_exact_and_phase_continuous, test_sine_through_s16_hardware,
              test_loopback_latency_is_the_reported_one, test_controls_apply_from_next_cycle,
              test_mute_on_rt_thread_is_period_exact, test_rejects_bad_settings, test_controls_and_properties,
              test_controls_limit)
