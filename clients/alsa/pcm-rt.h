/* SPDX-License-Identifier: MIT */
/*
 * The ALSA plugin's audio between the application's thread and the udk
 * stream's RT callback: a lock-free single-producer/single-consumer ring of
 * float32 frames, ALSA's buffer, whose size is the PCM's buffer size.
 *
 * playback: application --transfer()--> ring --RT callback--> node output
 * capture:  node input --RT callback--> ring --transfer()--> application
 *
 * The application side moves the RT side by requests it never waits on,
 * except to stop: a request is (sequence << 1) | run, and the RT callback
 * answers each one it sees at a cycle start by storing it in @ack (a futex
 * word).  Once @ack holds a request without the run bit, the RT side will
 * not touch the ring again until a later request with the run bit: only then
 * may the application side empty the ring (udk_pcm_rt_reset()).
 *
 * Each cycle the RT callback bumps @wake and wakes it (one futex wake: its
 * only system call); the plugin's notifier thread turns that into the
 * eventfd the application polls.  A cycle that found the ring short
 * (playback: fewer frames than the cycle needs; capture: no room for the
 * whole cycle) while running counts an xrun.
 *
 * A cycle's frames vary when the stream converts rates (470 or 471 at
 * 44.1 kHz on a 48 kHz device with 512-frame periods): the callback moves
 * cycle->frames, whatever they are, and refuses a cycle of more than
 * @max_frames (the stream's udk_client_stream_period(), which its buffers
 * hold) as a bad cycle rather than trusting it.
 */
#ifndef UDK_ALSA_PCM_RT_H
#define UDK_ALSA_PCM_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <udk/device.h>
#include <udk/ring.h>

#define UDK_PCM_RT_RUN 1u

struct udk_pcm_rt {
        struct udk_ring ring;
        void *memory;
        bool playback;
        uint32_t channels;
        uint32_t capacity;   /* frames */
        uint32_t max_frames; /* the most a cycle may have */

        _Atomic uint32_t request;    /* application: (sequence << 1) | UDK_PCM_RT_RUN */
        _Atomic uint32_t ack;        /* RT: the last request it saw (futex word) */
        _Atomic uint32_t wake;       /* RT: bumped every cycle (futex word) */
        _Atomic uint64_t position;   /* RT: frames moved since the last reset */
        _Atomic uint32_t xruns;      /* RT: running cycles that found the ring short */
        _Atomic uint64_t cycles;     /* RT: cycles the callback ran */
        _Atomic uint64_t bad_cycles; /* RT: cycles whose channels or frames were not the stream's */

        struct {
                uint32_t seen; /* the last request answered */
        } rt;                  /* only the RT callback touches these */
};

/*
 * A ring of @capacity frames of @channels floats, stopped and empty, for
 * cycles of at most @max_frames.  -EINVAL, -ENOMEM.
 */
int udk_pcm_rt_init(struct udk_pcm_rt *t, bool playback, uint32_t channels, uint32_t capacity,
                    uint32_t max_frames);

/* Free the ring.  Call when no RT callback runs on @t any more.  Accepts a zeroed @t. */
void udk_pcm_rt_finish(struct udk_pcm_rt *t);

/* The stream's process callback (udk_client_process_fn).  RT-safe: one futex wake. */
int udk_pcm_rt_process(void *data, const struct udk_node_cycle *cycle);

/* Ask the RT side to run (move frames through the ring) or to stop; returns the request. */
uint32_t udk_pcm_rt_request(struct udk_pcm_rt *t, bool run);

/* Wait up to @timeout_ms for the RT side to answer @request.  -ETIMEDOUT. */
int udk_pcm_rt_wait_ack(struct udk_pcm_rt *t, uint32_t request, int timeout_ms);

/*
 * Empty the ring and zero the position and xruns.  Only after the RT side
 * answered a stop request (udk_pcm_rt_wait_ack()); -EBUSY otherwise.
 */
int udk_pcm_rt_reset(struct udk_pcm_rt *t);

#endif
