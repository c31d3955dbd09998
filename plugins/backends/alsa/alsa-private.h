/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend's insides, shared by alsa.c (options, opening the PCMs:
 * control thread) and alsa-io.c (the pacing wait and the transfers: the RT
 * thread).
 */
#ifndef UDK_ALSA_PRIVATE_H
#define UDK_ALSA_PRIVATE_H

#include <alsa/asoundlib.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <udk/device.h>

#define ALSA_PCM_NAME_MAX       128
#define ALSA_POLL_FDS_MAX       16
#define ALSA_PERIODS_MIN        2u
#define ALSA_PERIODS_MAX        32u
#define ALSA_PERIODS_DEFAULT    2u
#define ALSA_TIMEOUT_MS_MIN     50
#define ALSA_TIMEOUT_MS_MAX     60000
#define ALSA_TIMEOUT_MS_DEFAULT 2000
/* Restarts in a row without one good period in between: the PCM is gone. */
#define ALSA_RESTARTS_MAX 8u

/* One direction: a PCM, its parameters and its transfer buffers. */
struct alsa_stream {
        snd_pcm_t *pcm; /* NULL: the device has no channels this way */
        enum udk_direction direction;
        char name[ALSA_PCM_NAME_MAX];
        uint32_t channels;
        size_t sample_size;
        snd_pcm_uframes_t buffer_frames;
        void *buf;                    /* rw access: period * channels samples (interleaved) */
        void *bufs[UDK_CHANNELS_MAX]; /* rw non-interleaved: a period per channel */
        int poll_first, poll_count;   /* in alsa_backend.fds */
};

struct alsa_backend {
        struct udk_device *dev;
        /* Options. */
        char pcm[ALSA_PCM_NAME_MAX];
        char playback_name[ALSA_PCM_NAME_MAX]; /* "" : pcm */
        char capture_name[ALSA_PCM_NAME_MAX];
        uint32_t periods;
        bool mmap;
        bool interleaved;
        int timeout_ms;

        uint32_t rate, period;
        enum udk_sample_format format;
        struct alsa_stream capture, playback;
        float *scratch; /* period * channels floats, for de-interleaving */
        struct pollfd fds[ALSA_POLL_FDS_MAX];
        bool linked;

        /* RT thread only. */
        uint32_t restarts; /* in a row, without a good period */
};

/* alsa-io.c: the RT side. */
int alsa_io_wait(void *instance, uint64_t deadline, uint64_t *ret_wake_time, uint64_t *ret_boundary_time);
int alsa_io_read(void *instance, uint64_t sample_time, uint32_t frames);
int alsa_io_write(void *instance, uint64_t sample_time, uint32_t frames);
/* Prepare, prefill the playback with silence, start (control thread, and
 * the RT thread's restart after an xrun).  RT-safe. */
int alsa_io_restart(struct alsa_backend *a);

#endif
