/* SPDX-License-Identifier: MIT */
/* udk_bridge: a FIFO between two clocks, drained at a ratio steered by its fill. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/bridge.h>
#include <udk/clock.h>
#include <udk/device.h>
#include <udk/ring.h>
#include <udk/util.h>

/* The fill's low-pass, per read: smooths what libsoxr's block-wise intake
 * leaves, well inside the loop's bandwidth. */
#define BRIDGE_FILL_ALPHA (1.0 / 64.0)
#define BRIDGE_DAMPING    1.0
/* Frames given to libsoxr at a time once a read's first estimate is in. */
#define BRIDGE_FEED_STEP 4u

struct udk_bridge {
        struct udk_bridge_config cfg;
        struct udk_resampler *resampler;
        struct udk_ring ring;
        void *ring_mem;
        double nominal; /* producer frames per consumer frame */

        /* The producer's: its frame count and the time it stands for. */
        struct udk_zero_timestamp position;
        uint64_t written;

        /* The consumer's. */
        float *stage; /* frames out of the ring libsoxr has not taken yet */
        size_t stage_cap, stage_len;
        uint64_t consumed; /* frames out of the FIFO: libsoxr took them, or the start dropped them */
        double fill_f, integral;
        double used; /* producer frames libsoxr's output stands for, from the start on */
        double resync_margin; /* fill beyond the target that no jitter explains */
        uint64_t seen_overflows;
        uint64_t seen_written, seen_at; /* the last position read whole */
        bool seen;
        bool started, failed;

        _Atomic uint64_t underflows, overflows, resyncs;
        _Atomic uint64_t ratio_bits, fill_bits;
        _Atomic uint32_t queued;
        _Atomic bool running;
};

static uint64_t bits_of(double d)
{
        uint64_t u;
        memcpy(&u, &d, sizeof(u));
        return u;
}

static double double_of(uint64_t u)
{
        double d;
        memcpy(&d, &u, sizeof(d));
        return d;
}

int udk_bridge_create(const struct udk_bridge_config *config, struct udk_bridge **ret, char *err,
                      size_t err_size)
{
        struct udk_bridge_config cfg;
        struct udk_bridge *b;
        size_t ring_size;
        uint32_t capacity, frame_size;
        int r;

        if (!config || !ret) {
                snprintf(err, err_size, "no configuration or no place for the bridge");
                return -EINVAL;
        }
        cfg = *config;
        if (cfg.producer_period == 0 || cfg.producer_period > UDK_PERIOD_MAX * 4 ||
            cfg.consumer_period == 0 || cfg.consumer_period > UDK_PERIOD_MAX * 4) {
                snprintf(err, err_size, "periods of %u and %u frames: 1..%u", cfg.producer_period,
                         cfg.consumer_period, UDK_PERIOD_MAX * 4);
                return -EINVAL;
        }
        if (cfg.quality == UDK_RESAMPLER_QUALITY_DEFAULT)
                cfg.quality = UDK_RESAMPLER_HIGH;
        b = calloc(1, sizeof(*b));
        if (!b) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = udk_resampler_create(cfg.producer_rate, cfg.consumer_rate, cfg.channels, cfg.quality,
                                 UDK_RESAMPLER_VARIABLE, &b->resampler, err, err_size);
        if (r < 0)
                goto fail;
        b->nominal = udk_resampler_nominal_ratio(b->resampler);
        if (cfg.target_fill == 0)
                cfg.target_fill =
                        cfg.producer_period + (uint32_t)ceil(cfg.consumer_period * b->nominal) + 64;
        b->cfg = cfg;
        b->resync_margin = 2.0 * (cfg.producer_period + ceil(cfg.consumer_period * b->nominal)) + 64;

        /* Room for the target, a write on top, and as much again. */
        frame_size = (uint32_t)(sizeof(float) * cfg.channels);
        capacity = 2 * (cfg.target_fill + cfg.producer_period) +
                   (uint32_t)ceil(cfg.consumer_period * b->nominal);
        ring_size = udk_ring_memory_size(capacity, frame_size);
        b->stage_cap = 2 * (size_t)ceil(cfg.consumer_period * b->nominal * 1.1) + 64;
        b->ring_mem = ring_size == SIZE_MAX ? NULL : calloc(1, ring_size);
        b->stage = calloc(b->stage_cap * cfg.channels, sizeof(float));
        if (!b->ring_mem || !b->stage) {
                snprintf(err, err_size, "out of memory");
                r = -ENOMEM;
                goto fail;
        }
        r = udk_ring_init(&b->ring, b->ring_mem, ring_size, capacity, frame_size);
        if (r < 0) {
                snprintf(err, err_size, "cannot set up the FIFO: %s", strerror(-r));
                goto fail;
        }
        atomic_init(&b->ratio_bits, bits_of(b->nominal));
        *ret = b;
        return 0;

fail:
        udk_bridge_destroy(b);
        return r;
}

struct udk_bridge *udk_bridge_destroy(struct udk_bridge *b)
{
        if (!b)
                return NULL;
        udk_resampler_destroy(b->resampler);
        free(b->ring_mem);
        free(b->stage);
        free(b);
        return NULL;
}

uint32_t udk_bridge_write(struct udk_bridge *b, const float *frames, uint32_t n, uint64_t time_ns)
{
        uint32_t w = udk_ring_write(&b->ring, frames, n);

        if (w < n)
                atomic_fetch_add_explicit(&b->overflows, 1, memory_order_relaxed);
        b->written += w;
        udk_zts_publish(&b->position, b->written, time_ns, (uint64_t)b->cfg.producer_rate * 1000u);
        return w;
}

/* Producer frames in hand at @time_ns: in the FIFO, in the stage, and
 * those the producer has made since its last write.  RT-safe. */
static double bridge_fill(struct udk_bridge *b, uint64_t time_ns)
{
        uint64_t written, at;
        double since = 0;

        /* A read that races the producer's publish past its retries
         * (preempted mid-write on another CPU) keeps the last position. */
        if (udk_zts_read(&b->position, &written, &at, NULL) == 0) {
                b->seen_written = written;
                b->seen_at = at;
                b->seen = true;
        } else if (b->seen) {
                written = b->seen_written;
                at = b->seen_at;
        } else {
                return (double)udk_ring_readable(&b->ring) + (double)b->stage_len;
        }
        if (time_ns > at)
                since = fmin((double)(time_ns - at) * b->cfg.producer_rate / 1e9, b->cfg.producer_period);
        /* Before the start: what the FIFO holds.  After: what libsoxr's
         * output has used at the ratios in force, so that the few frames its
         * metered intake runs ahead by do not count. */
        return (double)written - (b->started ? b->used : (double)b->consumed) + since;
}

/* One step of the loop: the ratio for this read.  RT-safe. */
static void bridge_steer(struct udk_bridge *b, double fill, uint32_t n)
{
        const double limit = UDK_BRIDGE_MAX_PPM * 1e-6;
        double wn = 2 * M_PI * UDK_BRIDGE_BANDWIDTH_HZ * n / b->cfg.consumer_rate;
        double e, u;

        b->fill_f += BRIDGE_FILL_ALPHA * (fill - b->fill_f);
        /* In units of a read's intake: the fill then moves by (offset - u) per read. */
        e = (b->fill_f - b->cfg.target_fill) / (n * b->nominal);
        b->integral = fmax(-limit, fmin(limit, b->integral + wn * wn * e));
        u = fmax(-limit, fmin(limit, 2 * BRIDGE_DAMPING * wn * e + b->integral));
        if (udk_resampler_set_ratio(b->resampler, b->nominal * (1.0 + u), n) == 0)
                atomic_store_explicit(&b->ratio_bits, bits_of(b->nominal * (1.0 + u)), memory_order_relaxed);
}

int udk_bridge_read(struct udk_bridge *b, float *out, uint32_t n, uint64_t time_ns)
{
        const uint32_t ch = b->cfg.channels;
        uint64_t overflows;
        double fill;
        size_t done = 0, feed;

        if (n > b->cfg.consumer_period)
                n = b->cfg.consumer_period;
        fill = bridge_fill(b, time_ns);
        atomic_store_explicit(&b->fill_bits, bits_of(fill), memory_order_relaxed);
        if (!b->started) {
                if (fill < b->cfg.target_fill || b->failed) {
                        memset(out, 0, sizeof(float) * n * ch);
                        return b->failed ? -EIO : 0;
                }
                /* Start at the target: what came beyond it (the producer writes
                 * whole periods) is dropped, not left for the loop to work off. */
                if (fill > b->cfg.target_fill) {
                        uint32_t skip = udk_ring_skip(&b->ring, (uint32_t)lround(fill - b->cfg.target_fill));
                        b->consumed += skip;
                        fill -= skip;
                }
                b->started = true;
                b->seen_overflows = atomic_load_explicit(&b->overflows, memory_order_relaxed);
                b->used = (double)b->consumed;
                b->fill_f = fill;
                atomic_store_explicit(&b->running, true, memory_order_relaxed);
        }
        /* Far above the target or overflowed (the consumer stalled):
         * drop back to it at once, as at the start, rather than leave the
         * loop to work it off at its limit for many seconds; the ratio
         * learnt stays. */
        overflows = atomic_load_explicit(&b->overflows, memory_order_relaxed);
        if (fill > b->cfg.target_fill + b->resync_margin ||
            (overflows != b->seen_overflows && fill > b->cfg.target_fill)) {
                uint32_t skip = udk_ring_skip(&b->ring, (uint32_t)lround(fill - b->cfg.target_fill));
                b->consumed += skip;
                b->used += skip;
                fill -= skip;
                b->fill_f = fill;
                atomic_fetch_add_explicit(&b->resyncs, 1, memory_order_relaxed);
        }
        b->seen_overflows = overflows;
        bridge_steer(b, fill, n);

        /* Meter libsoxr's intake: what this read should need at the ratio
         * in force less a little, then a few frames at a time until the
         * output is complete, so that libsoxr holds no more than its filter
         * needs (and its FIFO, sized at creation, never grows). */
        feed = (size_t)fmax(0.0, floor(n * udk_resampler_ratio(b->resampler)) - BRIDGE_FEED_STEP);
        while (done < n && !b->failed) {
                size_t odone = 0;
                uint32_t got;

                if (b->stage_len < feed)
                        b->stage_len += udk_ring_read(&b->ring, b->stage + b->stage_len * ch,
                                                      (uint32_t)(feed - b->stage_len));
                feed = UDK_MIN(feed, b->stage_len);
                if (udk_resampler_process(b->resampler, b->stage, feed, NULL, out + done * ch, n - done,
                                          &odone) < 0) {
                        b->failed = true;
                        break;
                }
                b->consumed += feed;
                b->used += (double)odone * udk_resampler_ratio(b->resampler);
                b->stage_len -= feed;
                memmove(b->stage, b->stage + feed * ch, sizeof(float) * b->stage_len * ch);
                done += odone;
                if (done == n)
                        break;
                if (feed == 0 && odone == 0 && b->stage_len == 0) {
                        got = udk_ring_read(&b->ring, b->stage, BRIDGE_FEED_STEP);
                        b->stage_len = got;
                        if (got == 0) {
                                /* Empty (the producer stalled): silence until the
                                 * FIFO is back at its target, then start again
                                 * from there with the ratio learnt. */
                                atomic_fetch_add_explicit(&b->underflows, 1, memory_order_relaxed);
                                atomic_fetch_add_explicit(&b->resyncs, 1, memory_order_relaxed);
                                b->started = false;
                                atomic_store_explicit(&b->running, false, memory_order_relaxed);
                                break;
                        }
                }
                feed = BRIDGE_FEED_STEP;
        }
        atomic_store_explicit(&b->queued, udk_ring_readable(&b->ring) + (uint32_t)b->stage_len,
                              memory_order_relaxed);
        if (done < n)
                memset(out + done * ch, 0, sizeof(float) * (n - done) * ch);
        return b->failed ? -EIO : 0;
}

void udk_bridge_stats(const struct udk_bridge *b, struct udk_bridge_stats *ret)
{
        struct udk_bridge *m = (struct udk_bridge *)b; /* atomics are read, not changed */

        *ret = (struct udk_bridge_stats){
                .underflows = atomic_load_explicit(&m->underflows, memory_order_relaxed),
                .overflows = atomic_load_explicit(&m->overflows, memory_order_relaxed),
                .resyncs = atomic_load_explicit(&m->resyncs, memory_order_relaxed),
                .ratio = double_of(atomic_load_explicit(&m->ratio_bits, memory_order_relaxed)),
                .fill = double_of(atomic_load_explicit(&m->fill_bits, memory_order_relaxed)),
                .queued = atomic_load_explicit(&m->queued, memory_order_relaxed),
                .target_fill = b->cfg.target_fill,
                .running = atomic_load_explicit(&m->running, memory_order_relaxed),
        };
}
