/* SPDX-License-Identifier: MIT */
/* udk_rate_adapter: a device's fixed period to a client's rate, and back. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/rate-adapter.h>
#include <udk/ring.h>
#include <udk/util.h>

/* Input frames of silence run through the schedule at creation: libsoxr's
 * stages make output in blocks whose phases against the cycles repeat only
 * over tens of thousands of input frames (8 kHz to 96 kHz in 64-frame
 * periods found a deeper shortfall after 100000 than before). */
#define ADAPTER_PRIME_INPUT 131072u

struct udk_rate_adapter {
        enum udk_direction dir;
        struct udk_resampler *resampler;
        uint32_t channels, period, client_period;
        uint64_t step, modulus, acc; /* n_k = (acc + step) / modulus; acc keeps the remainder */
        struct udk_ring fifo;        /* on the resampler's output side */
        void *fifo_mem;
        float *scratch; /* one libsoxr output burst */
        size_t scratch_frames;
        uint32_t latency;
        uint64_t xruns;
        bool failed;
};

uint32_t udk_rate_adapter_client_frames(const struct udk_rate_adapter *a)
{
        return (uint32_t)((a->acc + a->step) / a->modulus);
}

uint32_t udk_rate_adapter_client_period(const struct udk_rate_adapter *a)
{
        return a->client_period;
}

uint64_t udk_rate_adapter_xruns(const struct udk_rate_adapter *a)
{
        return a->xruns;
}

uint32_t udk_rate_adapter_latency(const struct udk_rate_adapter *a)
{
        return a->latency;
}

/* Resample @n frames of @in into the FIFO; returns the frames it got.  RT-safe. */
static size_t adapter_push(struct udk_rate_adapter *a, const float *in, size_t n)
{
        size_t off = 0, pushed = 0;

        while (!a->failed) {
                size_t idone = 0, odone = 0;

                if (udk_resampler_process(a->resampler, in + off * a->channels, n - off, &idone, a->scratch,
                                          a->scratch_frames, &odone) < 0) {
                        a->failed = true;
                        break;
                }
                if (udk_ring_write(&a->fifo, a->scratch, (uint32_t)odone) != odone)
                        a->xruns++;
                pushed += odone;
                off += idone;
                if (off == n && odone < a->scratch_frames)
                        break; /* all in, and libsoxr has nothing more to give now */
                if (idone == 0 && odone == 0)
                        break;
        }
        return pushed;
}

int udk_rate_adapter_process(struct udk_rate_adapter *a, const float *in, float *out)
{
        uint32_t n = udk_rate_adapter_client_frames(a);
        uint32_t n_in = a->dir == UDK_DIRECTION_OUTPUT ? n : a->period;
        uint32_t n_out = a->dir == UDK_DIRECTION_OUTPUT ? a->period : n;
        uint32_t got;

        a->acc = (a->acc + a->step) % a->modulus;
        adapter_push(a, in, n_in);
        got = a->failed ? 0 : udk_ring_read(&a->fifo, out, n_out);
        if (got < n_out) {
                memset(out + (size_t)got * a->channels, 0, sizeof(float) * (n_out - got) * a->channels);
                if (!a->failed)
                        a->xruns++;
        }
        return a->failed ? -EIO : 0;
}

/* (Re)make the FIFO empty, for @frames frames (at least what it had). */
static int adapter_fifo_init(struct udk_rate_adapter *a, uint64_t frames, char *err, size_t err_size)
{
        uint32_t frame_size = (uint32_t)(sizeof(float) * a->channels);
        size_t size;
        void *mem;
        int r;

        if (frames > (uint64_t)UINT32_MAX / frame_size) {
                snprintf(err, err_size, "libsoxr's bursts need a FIFO of %" PRIu64 " frames", frames);
                return -ENOSPC;
        }
        size = udk_ring_memory_size((uint32_t)frames, frame_size);
        mem = size == SIZE_MAX ? NULL : calloc(1, size);
        if (!mem) {
                snprintf(err, err_size, "out of memory for a FIFO of %" PRIu64 " frames", frames);
                return -ENOMEM;
        }
        r = udk_ring_init(&a->fifo, mem, size, (uint32_t)frames, frame_size);
        if (r < 0) {
                free(mem);
                snprintf(err, err_size, "cannot set up the FIFO: %s", strerror(-r));
                return r;
        }
        free(a->fifo_mem);
        a->fifo_mem = mem;
        return 0;
}

/*
 * Run the schedule over silence, as the RT thread will run it over sound,
 * and size the FIFO's fill: the deepest shortfall plus the margin.  The
 * level is tracked as if the FIFO could go below empty.
 */
static int adapter_prime(struct udk_rate_adapter *a, char *err, size_t err_size)
{
        size_t in_max = a->dir == UDK_DIRECTION_OUTPUT ? a->client_period : a->period;
        size_t out_max = a->dir == UDK_DIRECTION_OUTPUT ? a->period : a->client_period;
        uint64_t cycles = ADAPTER_PRIME_INPUT / in_max + 16;
        float *in = calloc(in_max * a->channels, sizeof(float));
        float *out = calloc(out_max * a->channels, sizeof(float));
        int64_t level = 0, lowest = 0, highest = 0;
        double level_sum = 0;
        uint32_t fill;
        int r = 0;

        if (!in || !out) {
                r = -ENOMEM;
                goto out;
        }
        for (uint64_t k = 0; k < cycles; k++) {
                uint32_t n = udk_rate_adapter_client_frames(a);
                uint32_t n_in = a->dir == UDK_DIRECTION_OUTPUT ? n : a->period;
                uint32_t n_out = a->dir == UDK_DIRECTION_OUTPUT ? a->period : n;

                a->acc = (a->acc + a->step) % a->modulus;
                level += (int64_t)adapter_push(a, in, n_in);
                highest = UDK_MAX(highest, level);
                level -= n_out;
                lowest = UDK_MIN(lowest, level);
                /* What the FIFO and libsoxr hold moves between the two with each
                 * burst: their sum, cycle by cycle, is the latency. */
                level_sum += (double)level + udk_resampler_delay(a->resampler);
                udk_ring_read(&a->fifo, out, n_out);
                if (a->failed) {
                        snprintf(err, err_size, "libsoxr failed on silence");
                        r = -EIO;
                        goto out;
                }
        }
        /* The prime samples libsoxr's staircase of output once a cycle, so
         * the deepest shortfall may fall between two samples: one cycle's
         * input turned to output more covers that. */
        fill = (uint32_t)(-lowest +
                          (int64_t)ceil((double)in_max / udk_resampler_nominal_ratio(a->resampler)) +
                          UDK_RATE_ADAPTER_MARGIN);
        r = adapter_fifo_init(a, (uint64_t)(highest - lowest) + fill + 2 * out_max, err, err_size);
        if (r < 0)
                goto out;
        /* Then the fill the pattern needs, as silence. */
        level += fill;
        memset(out, 0, sizeof(float) * out_max * a->channels);
        for (int64_t left = level; left > 0;) {
                uint32_t w = (uint32_t)UDK_MIN((int64_t)out_max, left);
                udk_ring_write(&a->fifo, out, w);
                left -= w;
        }
        {
                /* Output frames; OUTPUT's are the device's: times C/D for the client's. */
                double mean = level_sum / (double)cycles + fill;
                double scale =
                        a->dir == UDK_DIRECTION_OUTPUT ? udk_resampler_nominal_ratio(a->resampler) : 1.0;
                a->latency = (uint32_t)lround(mean * scale);
        }
        a->xruns = 0;
out:
        free(in);
        free(out);
        return r;
}

static uint64_t gcd64(uint64_t x, uint64_t y)
{
        while (y) {
                uint64_t t = x % y;
                x = y;
                y = t;
        }
        return x;
}

int udk_rate_adapter_create(enum udk_direction dir, uint32_t device_rate, uint32_t client_rate,
                            uint32_t period, uint32_t channels, enum udk_resampler_quality quality,
                            struct udk_rate_adapter **ret, char *err, size_t err_size)
{
        struct udk_rate_adapter *a;
        uint32_t in_rate = dir == UDK_DIRECTION_OUTPUT ? client_rate : device_rate;
        uint32_t out_rate = dir == UDK_DIRECTION_OUTPUT ? device_rate : client_rate;
        uint64_t g;
        int r;

        if (dir != UDK_DIRECTION_INPUT && dir != UDK_DIRECTION_OUTPUT) {
                snprintf(err, err_size, "direction %d: neither input nor output", (int)dir);
                return -EINVAL;
        }
        if (period < UDK_PERIOD_MIN || period > UDK_PERIOD_MAX) {
                snprintf(err, err_size, "period %u frames: outside %u..%u", period, UDK_PERIOD_MIN,
                         UDK_PERIOD_MAX);
                return -EINVAL;
        }
        a = calloc(1, sizeof(*a));
        if (!a) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        a->dir = dir;
        a->channels = channels;
        a->period = period;
        r = udk_resampler_create(in_rate, out_rate, channels, quality, 0, &a->resampler, err, err_size);
        if (r < 0)
                goto fail;
        /* n_k from P·C/D in lowest terms: the accumulator never overflows. */
        g = gcd64((uint64_t)period * client_rate, device_rate);
        a->step = (uint64_t)period * client_rate / g;
        a->modulus = device_rate / g;
        a->client_period = (uint32_t)((a->step + a->modulus - 1) / a->modulus);

        /* A burst: what one cycle's input can make at once; the FIFO for the
         * prime holds many of them, and is remade to the size it showed. */
        a->scratch_frames = (dir == UDK_DIRECTION_OUTPUT ? period : a->client_period) + 64;
        a->scratch = calloc(a->scratch_frames * channels, sizeof(float));
        if (!a->scratch) {
                snprintf(err, err_size, "out of memory");
                r = -ENOMEM;
                goto fail;
        }
        r = adapter_fifo_init(a, 8 * a->scratch_frames + 32768, err, err_size);
        if (r < 0)
                goto fail;
        r = adapter_prime(a, err, err_size);
        if (r < 0)
                goto fail;
        *ret = a;
        return 0;

fail:
        udk_rate_adapter_destroy(a);
        return r;
}

struct udk_rate_adapter *udk_rate_adapter_destroy(struct udk_rate_adapter *a)
{
        if (!a)
                return NULL;
        udk_resampler_destroy(a->resampler);
        free(a->scratch);
        free(a->fifo_mem);
        free(a);
        return NULL;
}
