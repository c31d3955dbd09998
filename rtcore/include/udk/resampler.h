/* SPDX-License-Identifier: MIT */
/*
 * Sample-rate conversion of interleaved float32 with libsoxr, for clients
 * whose rate differs from their device's (<udk/rate-adapter.h>) and for
 * bridging two clock domains (<udk/bridge.h>).
 *
 * Everything is allocated by udk_resampler_create(), which also runs the
 * converter once over silence so that libsoxr has made every allocation it
 * makes lazily: from then on udk_resampler_process() and
 * udk_resampler_set_ratio() neither allocate nor free (test-rt-safety
 * checks it for every quality, fixed and variable ratio).
 */
#ifndef UDK_RESAMPLER_H
#define UDK_RESAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most input frames one udk_resampler_process() call takes (the
 * FIFOs libsoxr grows are sized at creation for this). */
#define UDK_RESAMPLER_FRAMES_MAX 16384u

/* Bounds of a rate a stream may run at, device or client (Hz). */
#define UDK_RESAMPLER_RATE_MIN 8000u
#define UDK_RESAMPLER_RATE_MAX 768000u

/*
 * libsoxr's recipes: QUICK is its cubic interpolation, LOW 16-bit, MEDIUM
 * 16-bit with a wider band, HIGH 20-bit, VERY_HIGH 28-bit precision (the
 * default: 0 means VERY_HIGH).
 */
enum udk_resampler_quality {
        UDK_RESAMPLER_QUALITY_DEFAULT = 0,
        UDK_RESAMPLER_QUICK,
        UDK_RESAMPLER_LOW,
        UDK_RESAMPLER_MEDIUM,
        UDK_RESAMPLER_HIGH,
        UDK_RESAMPLER_VERY_HIGH,
        UDK_RESAMPLER_QUALITY_COUNT,
};

/* Flags of udk_resampler_create(). */
#define UDK_RESAMPLER_VARIABLE (1u << 0) /* the ratio may change: udk_resampler_set_ratio() */

struct udk_resampler;

/* "quick", "low", "medium", "high", "very-high" (DEFAULT's too); NULL for anything else. */
const char *udk_resampler_quality_name(enum udk_resampler_quality quality);

/* Parse a name above (case-insensitive; "vhq", "hq", "mq", "lq", "qq" too).  -EINVAL if unknown. */
int udk_resampler_quality_from_name(const char *name, enum udk_resampler_quality *ret);

/*
 * A converter of @channels channels from @in_rate to @out_rate (Hz, each in
 * UDK_RESAMPLER_RATE_MIN..MAX, else -EINVAL; @channels 1..UDK_CHANNELS_MAX).
 * With UDK_RESAMPLER_VARIABLE the ratio may later move within ±10 % of
 * in_rate/out_rate; libsoxr then uses its variable-rate filter, whose
 * quality is that of HIGH at most.  On failure @err (may be NULL) gets a
 * sentence ("rate 1000 Hz: outside 8000..768000").  Not RT-safe.
 */
int udk_resampler_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                         enum udk_resampler_quality quality, unsigned flags, struct udk_resampler **ret,
                         char *err, size_t err_size);

/* Accepts NULL; returns NULL.  Not RT-safe. */
struct udk_resampler *udk_resampler_destroy(struct udk_resampler *r);

/*
 * Convert up to @in_frames frames (at most UDK_RESAMPLER_FRAMES_MAX are
 * taken) at @in into at most @out_max frames at @out; *@ret_in_done and
 * *@ret_out_done say how many were taken and made.
 * Input is taken only as far as @out_max needs at the nominal ratio
 * (libsoxr keeps what it has not yet turned into output).  With
 * @ret_in_done NULL all of @in is taken: the caller meters the input, as a
 * variable ratio needs (libsoxr's own estimate ignores the ratio's changes,
 * and its FIFO would grow without bound; more than UDK_RESAMPLER_FRAMES_MAX
 * is -EINVAL then).  Returns 0 or -EIO once libsoxr
 * failed (then nothing more is converted).  RT-safe.
 */
int udk_resampler_process(struct udk_resampler *r, const float *in, size_t in_frames, size_t *ret_in_done,
                          float *out, size_t out_max, size_t *ret_out_done);

/*
 * Set the ratio of input to output frames to @ratio (nominal: in_rate /
 * out_rate), reached smoothly over @slew output frames (0: at once).
 * -EINVAL without UDK_RESAMPLER_VARIABLE or outside ±10 % of nominal.
 * RT-safe.
 */
int udk_resampler_set_ratio(struct udk_resampler *r, double ratio, size_t slew);

/* The ratio in force (input frames per output frame).  RT-safe. */
double udk_resampler_ratio(const struct udk_resampler *r);

/* The nominal ratio, in_rate / out_rate.  RT-safe. */
double udk_resampler_nominal_ratio(const struct udk_resampler *r);

/*
 * Frames of output by which the output lags the input now: the filter's
 * delay and what libsoxr holds (soxr_delay()).  RT-safe.
 */
double udk_resampler_delay(const struct udk_resampler *r);

uint32_t udk_resampler_channels(const struct udk_resampler *r);
enum udk_resampler_quality udk_resampler_quality(const struct udk_resampler *r);

#endif
