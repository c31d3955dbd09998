/* SPDX-License-Identifier: MIT */
/*
 * A bridge between two clock domains: frames made on one clock (the
 * producer: a device, a network stream) feed a consumer on another (a
 * device's IO cycle), through a lock-free FIFO and a variable-ratio
 * resampler (<udk/resampler.h>), as alsa_in/alsa_out and zita-ajbridge do.
 *
 * The consumer steers the ratio so that the fill stays at its target.
 * The fill is measured the way zita-ajbridge does it: each write stamps
 * the producer's frame count with the host time it stands for (the
 * DLL-filtered time of the period, e.g. the producer's zero timestamp), and
 * the consumer extrapolates that count to its own cycle's time, so the fill
 * it sees does not jump by a producer period whenever a write lands just
 * before or after a read.  From that count it takes the producer frames
 * the resampler's output so far stands for (output frames times the ratio
 * in force), not those handed to libsoxr, whose intake runs ahead in
 * steps.  A second-order loop (a PI controller on the low-passed fill
 * error, critically damped at UDK_BRIDGE_BANDWIDTH_HZ) sets the ratio; with
 * a constant clock offset the ratio converges to the true one and the fill
 * to its target, with no steady error (test-bridge: ±200 ppm, within 1 ppm
 * and 0.1 frame after a minute).
 *
 * The latency is the target fill plus libsoxr's filter delay.
 *
 * Threads: one producer (udk_bridge_write) and one consumer
 * (udk_bridge_read), each RT-safe and lock-free; udk_bridge_stats() from
 * any thread.
 */
#ifndef UDK_BRIDGE_H
#define UDK_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/resampler.h>

/* The control loop's bandwidth: ~20 s to settle a ±200 ppm offset. */
#define UDK_BRIDGE_BANDWIDTH_HZ 0.05
/* The most the loop moves the ratio from nominal (a crystal is within 100 ppm). */
#define UDK_BRIDGE_MAX_PPM 2000.0

struct udk_bridge_config {
        uint32_t producer_rate;   /* nominal Hz */
        uint32_t consumer_rate;   /* nominal Hz */
        uint32_t channels;        /* 1..UDK_CHANNELS_MAX */
        uint32_t producer_period; /* the most frames one write brings */
        uint32_t consumer_period; /* the most frames one read asks for */
        /* Producer frames to hold in the FIFO; 0: producer_period + one
         * consumer period's worth + 64, the least that rides out a write
         * landing just after a read. */
        uint32_t target_fill;
        /* The resampler's; variable ratio caps it at HIGH (0: HIGH). */
        enum udk_resampler_quality quality;
};

struct udk_bridge_stats {
        uint64_t underflows; /* reads that found too little (silence filled in) */
        uint64_t overflows;  /* writes that found too little room (frames dropped) */
        /* Times the fill was put back at its target: after an overflow or
         * more than two periods of each side above it (frames dropped), or
         * after an underflow (silence until the FIFO is back at its
         * target).  The ratio learnt stays. */
        uint64_t resyncs;
        double ratio;        /* producer frames per consumer frame now */
        double fill;         /* the last read's measured fill, producer frames */
        uint32_t queued;     /* producer frames in the FIFO after the last read */
        uint32_t target_fill;
        bool running; /* the FIFO reached its target and reads consume */
};

struct udk_bridge;

/* -EINVAL with a sentence in @err for rates, channels or periods out of range.  Not RT-safe. */
int udk_bridge_create(const struct udk_bridge_config *config, struct udk_bridge **ret, char *err,
                      size_t err_size);

/* Accepts NULL; returns NULL.  Not RT-safe. */
struct udk_bridge *udk_bridge_destroy(struct udk_bridge *b);

/*
 * Producer: @n interleaved frames (at most producer_period), whose last
 * one ends at host time @time_ns (CLOCK_MONOTONIC, or any clock both sides
 * share).  Returns the frames taken; fewer when the FIFO is full (counted
 * as an overflow).  RT-safe.
 */
uint32_t udk_bridge_write(struct udk_bridge *b, const float *frames, uint32_t n, uint64_t time_ns);

/*
 * Consumer: @n frames (at most consumer_period) into @out, for the cycle
 * that starts at host time @time_ns.  Silence until the FIFO first reaches
 * its target; afterwards a shortfall is filled with silence and counted as
 * an underflow.  Returns 0, or -EIO once libsoxr failed.  RT-safe.
 */
int udk_bridge_read(struct udk_bridge *b, float *out, uint32_t n, uint64_t time_ns);

/* A snapshot of the counters and the loop's state.  RT-safe. */
void udk_bridge_stats(const struct udk_bridge *b, struct udk_bridge_stats *ret);

#endif
