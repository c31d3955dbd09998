/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include <udk/rate-adapter.h>

#include "udk-test-sine.h"
#include "udk-test.h"

#define CH 2

struct run {
        float *client; /* all the client's frames, in cycle order */
        float *device;
        uint64_t client_frames, device_frames;
};

/*
 * @cycles cycles of @dir: OUTPUT turns a 1 kHz client sine (or a click at
 * client frame @click when >= 0) into device frames, INPUT the same made
 * at the device rate into client frames.
 */
static struct run run_cycles(enum udk_direction dir, uint32_t dev_rate, uint32_t cl_rate, uint32_t period,
                             enum udk_resampler_quality q, uint64_t cycles, int64_t click,
                             uint32_t *ret_latency)
{
        struct udk_rate_adapter *a;
        struct run run = { 0 };
        char err[256];
        uint32_t cp;
        double lo, hi;

        ASSERT_OK(udk_rate_adapter_create(dir, dev_rate, cl_rate, period, CH, q, &a, err, sizeof(err)));
        cp = udk_rate_adapter_client_period(a);
        ASSERT_UINT_EQ(cp, ((uint64_t)period * cl_rate + dev_rate - 1) / dev_rate);
        lo = floor((double)period * cl_rate / dev_rate);
        hi = ceil((double)period * cl_rate / dev_rate);
        run.client = calloc((cycles * cp + 1) * CH, sizeof(float));
        run.device = calloc((cycles * period + 1) * CH, sizeof(float));
        ASSERT_NOT_NULL(run.client);
        ASSERT_NOT_NULL(run.device);
        for (uint64_t k = 0; k < cycles; k++) {
                uint32_t n = udk_rate_adapter_client_frames(a);
                bool out = dir == UDK_DIRECTION_OUTPUT;
                float *cl = run.client + run.client_frames * CH, *dv = run.device + run.device_frames * CH;
                uint64_t t0 = out ? run.client_frames : run.device_frames;
                uint32_t len = out ? n : period;
                float *src = out ? cl : dv;
                double rate = out ? cl_rate : dev_rate;

                ASSERT_TRUE(n == lo || n == hi);
                for (uint32_t i = 0; i < len; i++)
                        for (int c = 0; c < CH; c++) {
                                double t = (double)(t0 + i);
                                src[i * CH + c] = click >= 0 ? (t0 + i == (uint64_t)click ? 0.5f : 0.0f)
                                                             : (float)((c ? 0.25 : 0.5) *
                                                                       sin(2 * M_PI * 1000.0 * t / rate));
                        }
                ASSERT_OK(udk_rate_adapter_process(a, src, out ? dv : cl));
                run.client_frames += n;
                run.device_frames += period;
        }
        /* The client's rate's worth of frames, to the frame (the schedule's
         * phase after the adapter's priming rounds it up or down). */
        ASSERT_NEAR((double)run.client_frames, (double)(cycles * period * (uint64_t)cl_rate / dev_rate),
                    1.0);
        if (udk_rate_adapter_xruns(a))
                udk_test_fail("%s %u -> %u Hz, period %u: %" PRIu64 " xruns",
                              dir == UDK_DIRECTION_OUTPUT ? "output" : "input", dev_rate, cl_rate, period,
                              udk_rate_adapter_xruns(a));
        if (ret_latency)
                *ret_latency = udk_rate_adapter_latency(a);
        udk_rate_adapter_destroy(a);
        return run;
}

static void run_free(struct run *r)
{
        free(r->client);
        free(r->device);
}

/* 20 s per case, both directions, rates up and down, small and large periods: no xrun. */
static void test_schedule_never_xruns(void)
{
        static const uint32_t cases[][3] = {
                { 48000, 44100, 512 }, { 44100, 48000, 256 },  { 48000, 96000, 128 }, { 48000, 22050, 1024 },
                { 96000, 8000, 64 },   { 44100, 192000, 333 }, { 48000, 8000, 16 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                for (int dir = UDK_DIRECTION_INPUT; dir <= UDK_DIRECTION_OUTPUT; dir++) {
                        uint64_t cycles = 20ull * cases[i][0] / cases[i][2];
                        struct run r = run_cycles(dir, cases[i][0], cases[i][1], cases[i][2],
                                                  UDK_RESAMPLER_HIGH, cycles, -1, NULL);
                        run_free(&r);
                }
}

/* One pass at very high, each direction: the sine comes out clean. */
static void test_sine_snr(void)
{
        for (int dir = UDK_DIRECTION_INPUT; dir <= UDK_DIRECTION_OUTPUT; dir++) {
                struct run r = run_cycles(dir, 48000, 44100, 512, UDK_RESAMPLER_VERY_HIGH, 4 * 48000 / 512,
                                          -1, NULL);
                bool out = dir == UDK_DIRECTION_OUTPUT;
                const float *x = out ? r.device : r.client;
                double rate = out ? 48000 : 44100, amp, snr;
                size_t skip = (size_t)rate; /* past the primed silence and the filter's start */

                for (unsigned c = 0; c < CH; c++) {
                        snr = udk_test_sine_snr_db(x + skip * CH, (size_t)(2 * rate), CH, c, 1000.0 / rate,
                                                   &amp);
                        fprintf(stderr, "# %s ch %u: SNR %.1f dB\n", out ? "output" : "input", c, snr);
                        ASSERT_TRUE(snr >= 120.0);
                        ASSERT_NEAR(amp, c ? 0.25 : 0.5, 0.001);
                }
                run_free(&r);
        }
}

/* A click's way through lands where the reported latency says, within a frame or two. */
static void test_latency_is_what_it_says(void)
{
        for (int dir = UDK_DIRECTION_INPUT; dir <= UDK_DIRECTION_OUTPUT; dir++) {
                bool out = dir == UDK_DIRECTION_OUTPUT;
                uint32_t latency;
                int64_t click = out ? 44100 / 2 : 48000 / 2;
                struct run r = run_cycles(dir, 48000, 44100, 512, UDK_RESAMPLER_VERY_HIGH, 48000 / 512,
                                          click, &latency);
                const float *x = out ? r.device : r.client;
                uint64_t n = out ? r.device_frames : r.client_frames, peak = 0;
                double at, expect;

                for (uint64_t i = 0; i < n; i++)
                        if (fabsf(x[i * CH]) > fabsf(x[peak * CH]))
                                peak = i;
                /* Both in client frames. */
                at = out ? (double)peak * 44100.0 / 48000.0 : (double)peak;
                expect = (out ? (double)click : (double)click * 44100.0 / 48000.0) + latency;
                fprintf(stderr, "# %s: click at %.1f, expected at %.1f (latency %u)\n",
                        out ? "output" : "input", at, expect, latency);
                ASSERT_NEAR(at, expect, 2.0);
                run_free(&r);
        }
}

static void test_bad_arguments(void)
{
        struct udk_rate_adapter *a = NULL;
        char err[256];

        ASSERT_ERROR(
                udk_rate_adapter_create(UDK_DIRECTION_OUTPUT, 48000, 4000, 512, 2, 0, &a, err, sizeof(err)),
                EINVAL);
        ASSERT_STR_EQ(err, "input rate 4000 Hz: outside 8000..768000");
        ASSERT_ERROR(
                udk_rate_adapter_create(UDK_DIRECTION_INPUT, 48000, 44100, 0, 2, 0, &a, err, sizeof(err)),
                EINVAL);
        ASSERT_STR_EQ(err, "period 0 frames: outside 16..4096");
        ASSERT_ERROR(udk_rate_adapter_create(7, 48000, 44100, 512, 2, 0, &a, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "direction 7: neither input nor output");
        ASSERT_TRUE(a == NULL);
}

UDK_TEST_MAIN(test_schedule_never_xruns, test_sine_snr, test_latency_is_what_it_says, test_bad_arguments)
