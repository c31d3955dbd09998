/* SPDX-License-Identifier: MIT */
/*
 * A client at its own rate on a device's fixed period: one direction of a
 * stream, converted with <udk/resampler.h>.
 *
 * The device cycles P frames at rate D; the client runs at rate C.  Cycle
 * k gives the client n_k = floor((k+1)·P·C/D) - floor(k·P·C/D) frames, so
 * n_k is floor or ceil of P·C/D and over any run of cycles the client
 * gets exactly as many frames as its rate says: no FIFO on the client's
 * side grows or drains, and the client's callback runs once per device
 * cycle, at the cycle's deadline, as every other node's.
 *
 * A FIFO after the resampler absorbs libsoxr's output granularity (its
 * DFT stages make output in blocks of hundreds to thousands of frames).
 * Its fill is set at creation by running this very schedule over 131072
 * input frames of silence and taking the deepest shortfall, plus one
 * cycle's worth (the shortfall is sampled once a cycle) plus
 * UDK_RATE_ADAPTER_MARGIN frames, so the FIFO neither underflows nor
 * overflows (udk_rate_adapter_xruns() counts it if it ever did).  That
 * fill and what libsoxr holds are the latency the conversion adds,
 * udk_rate_adapter_latency(): about 1300 client frames (30 ms) for 44.1
 * kHz on a 48 kHz device at any period, the price of libsoxr's block
 * processing.
 */
#ifndef UDK_RATE_ADAPTER_H
#define UDK_RATE_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include <udk/device.h>
#include <udk/resampler.h>

/* Frames of the FIFO kept beyond the deepest shortfall seen at creation. */
#define UDK_RATE_ADAPTER_MARGIN 32u

struct udk_rate_adapter;

/*
 * One direction of a stream of @channels channels: UDK_DIRECTION_OUTPUT
 * converts the client's frames to the device's, UDK_DIRECTION_INPUT the
 * device's to the client's.  @period is the device's (frames,
 * UDK_PERIOD_MIN..UDK_PERIOD_MAX); both rates within
 * UDK_RESAMPLER_RATE_MIN..MAX.  Two adapters made with the same rates and
 * period (a stream's input and output) keep the same schedule.  -EINVAL
 * with a sentence in @err.  Not RT-safe (it allocates, and runs the
 * schedule over silence: about 0.1 s of CPU for stereo 48 <-> 44.1 kHz).
 */
int udk_rate_adapter_create(enum udk_direction dir, uint32_t device_rate, uint32_t client_rate,
                            uint32_t period, uint32_t channels, enum udk_resampler_quality quality,
                            struct udk_rate_adapter **ret, char *err, size_t err_size);

/* Accepts NULL; returns NULL.  Not RT-safe. */
struct udk_rate_adapter *udk_rate_adapter_destroy(struct udk_rate_adapter *a);

/* The client's frames in the next cycle (n_k above).  RT-safe. */
uint32_t udk_rate_adapter_client_frames(const struct udk_rate_adapter *a);

/* The most client frames a cycle can have: ceil(P·C/D).  RT-safe. */
uint32_t udk_rate_adapter_client_period(const struct udk_rate_adapter *a);

/*
 * One cycle.  OUTPUT: @in holds udk_rate_adapter_client_frames() client
 * frames, @out gets the device's period.  INPUT: @in holds the device's
 * period, @out gets udk_rate_adapter_client_frames() client frames.  Then
 * the schedule moves to the next cycle.  A FIFO shortfall is filled with
 * silence and counted.  Returns 0, or -EIO once libsoxr failed (silence
 * out from then on).  RT-safe.
 */
int udk_rate_adapter_process(struct udk_rate_adapter *a, const float *in, float *out);

/* Client frames the conversion delays the signal by (FIFO and filter),
 * measured at creation; a click comes out within 2 frames of it. */
uint32_t udk_rate_adapter_latency(const struct udk_rate_adapter *a);

/* Cycles whose FIFO ran short or over.  RT-safe. */
uint64_t udk_rate_adapter_xruns(const struct udk_rate_adapter *a);

#endif
