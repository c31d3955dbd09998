/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include <udk/resampler.h>

#include "udk-test-sine.h"
#include "udk-test.h"

#define CHANNELS 2
#define SECONDS  3

/* Run @n frames of @in through @r in chunks of @chunk; returns the frames made into *@ret. */
static size_t convert_all(struct udk_resampler *r, const float *in, size_t n, size_t chunk, float **ret)
{
        double ratio = udk_resampler_nominal_ratio(r);
        size_t cap = (size_t)((double)n / ratio) + 4096, made = 0, off = 0;
        float *out = calloc(cap * CHANNELS, sizeof(float));

        ASSERT_NOT_NULL(out);
        while (off < n) {
                size_t len = UDK_TEST_MIN(chunk, n - off), done = 0;

                while (done < len) {
                        size_t idone = 0, odone = 0;
                        ASSERT_OK(udk_resampler_process(r, in + (off + done) * CHANNELS, len - done, &idone,
                                                        out + made * CHANNELS, cap - made, &odone));
                        ASSERT_TRUE(idone > 0 || odone > 0);
                        done += idone;
                        made += odone;
                }
                off += len;
        }
        *ret = out;
        return made;
}

/* 44.1k -> 48k -> 44.1k of a 1 kHz sine at -6 dBFS; the worse channel's SNR. */
static double round_trip_snr(enum udk_resampler_quality q)
{
        const size_t n = 44100 * SECONDS;
        struct udk_resampler *up, *down;
        float *in = malloc(n * CHANNELS * sizeof(float)), *mid, *back;
        size_t n_mid, n_back, skip = 44100 / 2, len = 44100 * 2;
        char err[256];
        double snr = INFINITY, amp;

        ASSERT_NOT_NULL(in);
        for (size_t i = 0; i < n; i++) {
                in[i * CHANNELS] = 0.5f * (float)sin(2 * M_PI * 1000.0 * (double)i / 44100.0);
                in[i * CHANNELS + 1] = 0.25f * (float)cos(2 * M_PI * 1000.0 * (double)i / 44100.0);
        }
        ASSERT_OK(udk_resampler_create(44100, 48000, CHANNELS, q, 0, &up, err, sizeof(err)));
        ASSERT_OK(udk_resampler_create(48000, 44100, CHANNELS, q, 0, &down, err, sizeof(err)));
        n_mid = convert_all(up, in, n, 512, &mid);
        n_back = convert_all(down, mid, n_mid, 480, &back);
        /* All but what is still inside the two filters came out. */
        ASSERT_UINT_GE(n_mid, (size_t)(n * 48000.0 / 44100.0 - udk_resampler_delay(up) - 2));
        ASSERT_UINT_GE(n_back, skip + len);
        for (unsigned ch = 0; ch < CHANNELS; ch++) {
                /* The filters' settling (and the primed silence before it) is
                 * inside the first half second: measure the 2 s after it. */
                double s = udk_test_sine_snr_db(back + skip * CHANNELS, len, CHANNELS, ch, 1000.0 / 44100.0,
                                                &amp);
                ASSERT_NEAR(amp, ch ? 0.25 : 0.5, 0.01);
                snr = fmin(snr, s);
        }
        fprintf(stderr, "# %s: round-trip SNR %.1f dB (delays %.1f and %.1f frames)\n",
                udk_resampler_quality_name(q), snr, udk_resampler_delay(up), udk_resampler_delay(down));
        udk_resampler_destroy(up);
        udk_resampler_destroy(down);
        free(in);
        free(mid);
        free(back);
        return snr;
}

static void test_very_high_round_trip_snr(void)
{
        ASSERT_TRUE(round_trip_snr(UDK_RESAMPLER_VERY_HIGH) >= 120.0);
        /* The default is very high. */
        ASSERT_TRUE(round_trip_snr(UDK_RESAMPLER_QUALITY_DEFAULT) >= 120.0);
}

static void test_each_quality_snr(void)
{
        /* Lower bounds per quality, a few dB under what this test measures
         * (quick 110, low and medium 112, high 130, very high 149 dB: a
         * 1 kHz tone is easy even for QUICK's cubic interpolation). */
        static const struct {
                enum udk_resampler_quality q;
                double min_db;
        } bounds[] = {
                { UDK_RESAMPLER_QUICK, 100.0 },     { UDK_RESAMPLER_LOW, 105.0 },
                { UDK_RESAMPLER_MEDIUM, 105.0 },    { UDK_RESAMPLER_HIGH, 125.0 },
                { UDK_RESAMPLER_VERY_HIGH, 140.0 },
        };
        for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
                double snr = round_trip_snr(bounds[i].q);
                if (!(snr >= bounds[i].min_db))
                        udk_test_fail("%s: SNR %.1f dB, below %.1f", udk_resampler_quality_name(bounds[i].q),
                                      snr, bounds[i].min_db);
        }
}

static void test_quality_names(void)
{
        enum udk_resampler_quality q;

        for (int i = UDK_RESAMPLER_QUICK; i < UDK_RESAMPLER_QUALITY_COUNT; i++) {
                ASSERT_OK(udk_resampler_quality_from_name(udk_resampler_quality_name(i), &q));
                ASSERT_INT_EQ(q, i);
        }
        ASSERT_STR_EQ(udk_resampler_quality_name(UDK_RESAMPLER_QUALITY_DEFAULT), "very-high");
        ASSERT_OK(udk_resampler_quality_from_name("VHQ", &q));
        ASSERT_INT_EQ(q, UDK_RESAMPLER_VERY_HIGH);
        ASSERT_OK(udk_resampler_quality_from_name("Quick", &q));
        ASSERT_INT_EQ(q, UDK_RESAMPLER_QUICK);
        ASSERT_ERROR(udk_resampler_quality_from_name("ultra", &q), EINVAL);
        ASSERT_TRUE(udk_resampler_quality_name(UDK_RESAMPLER_QUALITY_COUNT) == NULL);
}

static void test_bad_arguments(void)
{
        struct udk_resampler *r = NULL;
        char err[256];

        ASSERT_ERROR(udk_resampler_create(1000, 48000, 2, 0, 0, &r, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "input rate 1000 Hz: outside 8000..768000");
        ASSERT_ERROR(udk_resampler_create(48000, 1000000, 2, 0, 0, &r, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "output rate 1000000 Hz: outside 8000..768000");
        ASSERT_ERROR(udk_resampler_create(48000, 44100, 0, 0, 0, &r, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "0 channels: 1..32");
        ASSERT_ERROR(
                udk_resampler_create(48000, 44100, 2, UDK_RESAMPLER_QUALITY_COUNT, 0, &r, err, sizeof(err)),
                EINVAL);
        ASSERT_STR_EQ(err, "quality 6: unknown");
        ASSERT_TRUE(r == NULL);

        /* A fixed ratio stays fixed; a variable one stays within 10 %. */
        ASSERT_OK(udk_resampler_create(48000, 44100, 2, UDK_RESAMPLER_HIGH, 0, &r, err, sizeof(err)));
        ASSERT_ERROR(udk_resampler_set_ratio(r, 48000.0 / 44100.0, 0), EINVAL);
        r = udk_resampler_destroy(r);
        ASSERT_OK(udk_resampler_create(48000, 48000, 2, UDK_RESAMPLER_HIGH, UDK_RESAMPLER_VARIABLE, &r, err,
                                       sizeof(err)));
        ASSERT_OK(udk_resampler_set_ratio(r, 1.0002, 480));
        ASSERT_FLOAT_EQ(udk_resampler_ratio(r), 1.0002);
        ASSERT_ERROR(udk_resampler_set_ratio(r, 1.2, 0), EINVAL);
        ASSERT_ERROR(udk_resampler_set_ratio(r, NAN, 0), EINVAL);
        ASSERT_FLOAT_EQ(udk_resampler_ratio(r), 1.0002);
        udk_resampler_destroy(r);
}

/* A variable ratio: frames out follow frames in / ratio (the filter's delay
 * was filled by the silence at creation, so it does not count here). */
static void test_variable_ratio_counts(void)
{
        struct udk_resampler *r;
        float in[512 * CHANNELS] = { 0 }, out[1024 * CHANNELS];
        size_t total_in = 0, total_out = 0;
        double ratio = 1.0 + 200e-6;
        char err[256];

        ASSERT_OK(udk_resampler_create(48000, 48000, CHANNELS, UDK_RESAMPLER_VERY_HIGH,
                                       UDK_RESAMPLER_VARIABLE, &r, err, sizeof(err)));
        ASSERT_OK(udk_resampler_set_ratio(r, ratio, 0));
        for (int i = 0; i < 2000; i++) {
                size_t idone = 0, odone = 0, off = 0;
                while (off < 512) {
                        ASSERT_OK(udk_resampler_process(r, in + off * CHANNELS, 512 - off, &idone, out, 1024,
                                                        &odone));
                        off += idone;
                        total_out += odone;
                }
                total_in += 512;
        }
        ASSERT_NEAR((double)total_out, (double)total_in / ratio, 4.0);
        udk_resampler_destroy(r);
}

UDK_TEST_MAIN(test_very_high_round_trip_snr, test_each_quality_snr, test_quality_names, test_bad_arguments,
              test_variable_ratio_counts)
