/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend on the RT thread: the pacing wait (poll on the PCMs'
 * descriptors, the only call that blocks), the transfers (mmap areas or
 * readi/writei, non-blocking) with udk's format conversions, and the
 * restart after an xrun.  On a hw: PCM all of it is ioctls and poll on the
 * PCM's descriptors; plugin PCMs (jack, ...) add what their plugin does.
 */
#include <errno.h>
#include <string.h>

#include <udk/util.h>

#include "alsa-private.h"

static uint64_t frames_ns(const struct alsa_backend *a, uint64_t frames)
{
        return frames * UDK_NSEC_PER_SEC / a->rate;
}

/* True when the areas are one interleaved block of @ch channels of @size bytes. */
static bool areas_interleaved(const snd_pcm_channel_area_t *areas, uint32_t ch, size_t size)
{
        for (uint32_t c = 0; c < ch; c++)
                if (areas[c].addr != areas[0].addr || areas[c].first != areas[0].first + c * size * 8 ||
                    areas[c].step != ch * size * 8)
                        return false;
        return (areas[0].first % 8) == 0;
}

static uint8_t *area_at(const snd_pcm_channel_area_t *area, snd_pcm_uframes_t frame)
{
        return (uint8_t *)area->addr + (area->first + frame * area->step) / 8;
}

/* @n frames of channel areas at frame @off -> interleaved float32 @dst. */
static void areas_to_f32(struct alsa_backend *a, const struct alsa_stream *s,
                         const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t off, uint32_t n, float *dst)
{
        uint32_t ch = s->channels;

        if (areas_interleaved(areas, ch, s->sample_size)) {
                udk_format_to_f32(a->format, dst, area_at(&areas[0], off), (size_t)n * ch);
                return;
        }
        for (uint32_t c = 0; c < ch; c++) {
                const uint8_t *src = area_at(&areas[c], off);
                size_t stride = areas[c].step / 8;

                if (stride == s->sample_size) {
                        udk_format_to_f32(a->format, a->scratch, src, n);
                        for (uint32_t f = 0; f < n; f++)
                                dst[(size_t)f * ch + c] = a->scratch[f];
                } else {
                        for (uint32_t f = 0; f < n; f++)
                                udk_format_to_f32(a->format, &dst[(size_t)f * ch + c], src + f * stride, 1);
                }
        }
}

/* Interleaved float32 @src (NULL: silence) -> @n frames of channel areas at @off. */
static void f32_to_areas(struct alsa_backend *a, const struct alsa_stream *s, const float *src,
                         const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t off, uint32_t n)
{
        uint32_t ch = s->channels;

        if (!src) {
                /* Zero is silence in every format udk has. */
                if (areas_interleaved(areas, ch, s->sample_size)) {
                        memset(area_at(&areas[0], off), 0, (size_t)n * ch * s->sample_size);
                        return;
                }
                for (uint32_t c = 0; c < ch; c++)
                        for (uint32_t f = 0; f < n; f++)
                                memset(area_at(&areas[c], off + f), 0, s->sample_size);
                return;
        }
        if (areas_interleaved(areas, ch, s->sample_size)) {
                udk_format_from_f32(a->format, area_at(&areas[0], off), src, (size_t)n * ch);
                return;
        }
        for (uint32_t c = 0; c < ch; c++) {
                uint8_t *dst = area_at(&areas[c], off);
                size_t stride = areas[c].step / 8;

                for (uint32_t f = 0; f < n; f++)
                        udk_format_from_f32(a->format, dst + f * stride, &src[(size_t)f * ch + c], 1);
        }
}

/* mmap: move @frames between the PCM's buffer and @ring (capture: into it;
 * playback: from it, NULL for silence). */
static int transfer_mmap(struct alsa_backend *a, struct alsa_stream *s, float *ring, uint32_t frames)
{
        uint32_t done = 0;

        while (done < frames) {
                const snd_pcm_channel_area_t *areas;
                snd_pcm_uframes_t off, n = frames - done;
                snd_pcm_sframes_t committed;
                int r;

                r = snd_pcm_mmap_begin(s->pcm, &areas, &off, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return -EAGAIN;
                if (s->direction == UDK_DIRECTION_INPUT)
                        areas_to_f32(a, s, areas, off, (uint32_t)n, ring + (size_t)done * s->channels);
                else
                        f32_to_areas(a, s, ring ? ring + (size_t)done * s->channels : NULL, areas, off,
                                     (uint32_t)n);
                committed = snd_pcm_mmap_commit(s->pcm, off, n);
                if (committed < 0)
                        return (int)committed;
                if ((snd_pcm_uframes_t)committed != n)
                        return -EIO;
                done += (uint32_t)n;
        }
        return 0;
}

/* rw: readi/readn or writei/writen of @frames through the stream's buffers. */
static int transfer_rw(struct alsa_backend *a, struct alsa_stream *s, float *ring, uint32_t frames)
{
        uint32_t ch = s->channels, done = 0;

        if (s->direction == UDK_DIRECTION_OUTPUT) {
                size_t samples = (size_t)frames * ch;
                if (!a->interleaved) {
                        for (uint32_t c = 0; c < ch; c++)
                                for (uint32_t f = 0; f < frames; f++) {
                                        float x = ring ? ring[(size_t)f * ch + c] : 0.0f;
                                        udk_format_from_f32(a->format,
                                                            (uint8_t *)s->bufs[c] + f * s->sample_size, &x,
                                                            1);
                                }
                } else if (ring) {
                        udk_format_from_f32(a->format, s->buf, ring, samples);
                } else {
                        memset(s->buf, 0, samples * s->sample_size);
                }
        }
        while (done < frames) {
                snd_pcm_sframes_t n;
                void *bufs[UDK_CHANNELS_MAX];

                if (a->interleaved) {
                        uint8_t *at = (uint8_t *)s->buf + (size_t)done * ch * s->sample_size;
                        n = s->direction == UDK_DIRECTION_INPUT ? snd_pcm_readi(s->pcm, at, frames - done)
                                                                : snd_pcm_writei(s->pcm, at, frames - done);
                } else {
                        for (uint32_t c = 0; c < ch; c++)
                                bufs[c] = (uint8_t *)s->bufs[c] + (size_t)done * s->sample_size;
                        n = s->direction == UDK_DIRECTION_INPUT
                                    ? snd_pcm_readn(s->pcm, bufs, frames - done)
                                    : snd_pcm_writen(s->pcm, bufs, frames - done);
                }
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return -EAGAIN;
                done += (uint32_t)n;
        }
        if (s->direction == UDK_DIRECTION_INPUT) {
                if (a->interleaved) {
                        udk_format_to_f32(a->format, ring, s->buf, (size_t)frames * ch);
                } else {
                        for (uint32_t c = 0; c < ch; c++) {
                                udk_format_to_f32(a->format, a->scratch, s->bufs[c], frames);
                                for (uint32_t f = 0; f < frames; f++)
                                        ring[(size_t)f * ch + c] = a->scratch[f];
                        }
                }
        }
        return 0;
}

static int transfer(struct alsa_backend *a, struct alsa_stream *s, float *ring, uint32_t frames)
{
        return a->mmap ? transfer_mmap(a, s, ring, frames) : transfer_rw(a, s, ring, frames);
}

int alsa_io_restart(struct alsa_backend *a)
{
        int r;

        if (a->capture.pcm) {
                snd_pcm_drop(a->capture.pcm);
                r = snd_pcm_prepare(a->capture.pcm);
                if (r < 0)
                        return r;
        }
        if (a->playback.pcm) {
                if (!a->linked)
                        snd_pcm_drop(a->playback.pcm);
                r = snd_pcm_prepare(a->playback.pcm);
                if (r < 0)
                        return r;
                /* A full buffer of silence, a period at a time (rw's
                 * buffers hold one): the capture's first period completes
                 * as the playback has room for one. */
                for (snd_pcm_uframes_t done = 0; done < a->playback.buffer_frames; done += a->period) {
                        r = transfer(a, &a->playback, NULL,
                                     (uint32_t)UDK_MIN((snd_pcm_uframes_t)a->period,
                                                       a->playback.buffer_frames - done));
                        if (r < 0)
                                return r;
                }
        }
        /* Linked, one start starts both. */
        if (a->capture.pcm) {
                r = snd_pcm_start(a->capture.pcm);
                if (r < 0)
                        return r;
        }
        if (a->playback.pcm && !(a->linked && a->capture.pcm)) {
                r = snd_pcm_start(a->playback.pcm);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The stream's avail: >= 0, or a negative errno (-EPIPE: an xrun). */
static snd_pcm_sframes_t avail_of(const struct alsa_stream *s, snd_pcm_uframes_t none)
{
        return s->pcm ? snd_pcm_avail_update(s->pcm) : (snd_pcm_sframes_t)none;
}

/* After poll: did any of @s's descriptors report an error that is not an xrun? */
static bool stream_gone(struct alsa_backend *a, const struct alsa_stream *s)
{
        unsigned short revents = 0;

        if (!s->pcm || s->poll_count == 0)
                return false;
        if (snd_pcm_poll_descriptors_revents(s->pcm, &a->fds[s->poll_first], (unsigned)s->poll_count,
                                             &revents) < 0)
                return true;
        return (revents & (POLLERR | POLLNVAL)) && snd_pcm_state(s->pcm) == SND_PCM_STATE_DISCONNECTED;
}

/* RT-safe: blocks only in poll on the PCMs' descriptors. */
int alsa_io_wait(void *instance, uint64_t deadline, uint64_t *ret_wake_time, uint64_t *ret_boundary_time)
{
        struct alsa_backend *a = instance;
        snd_pcm_uframes_t n = a->period;
        uint64_t give_up = udk_time_now() + (uint64_t)a->timeout_ms * 1000000u;
        snd_pcm_sframes_t ac, ap, excess;
        struct alsa_stream *master = a->capture.pcm ? &a->capture : &a->playback;
        snd_htimestamp_t ts;
        snd_pcm_uframes_t ts_avail;
        uint64_t now, boundary;
        bool xrun = false;

        for (;;) {
                int first, count, r;

                ac = avail_of(&a->capture, n);
                ap = avail_of(&a->playback, n);
                /* More than the buffer holds is an xrun too, whether or not
                 * the PCM says so (plugins' may not). */
                if ((a->capture.pcm && ac > (snd_pcm_sframes_t)a->capture.buffer_frames) ||
                    (a->playback.pcm && ap > (snd_pcm_sframes_t)a->playback.buffer_frames))
                        ac = -EPIPE;
                if (ac == -EPIPE || ac == -ESTRPIPE || ap == -EPIPE || ap == -ESTRPIPE) {
                        /* An xrun: restart with the playback refilled.  A PCM
                         * that will not run again is gone. */
                        if (++a->restarts > ALSA_RESTARTS_MAX || alsa_io_restart(a) < 0)
                                return -ENODEV;
                        xrun = true;
                        continue;
                }
                if (ac < 0 || ap < 0)
                        return -ENODEV;
                if ((snd_pcm_uframes_t)ac >= n && (snd_pcm_uframes_t)ap >= n)
                        break;

                /* Wait on whichever is not ready yet. */
                if ((snd_pcm_uframes_t)ac < n && a->capture.pcm) {
                        first = a->capture.poll_first;
                        count = a->capture.poll_count;
                } else {
                        first = a->playback.poll_first;
                        count = a->playback.poll_count;
                }
                now = udk_time_now();
                if (now >= give_up)
                        return -ENODEV; /* no period for the whole time-out: stalled, or gone */
                r = poll(&a->fds[first], (nfds_t)count, (int)((give_up - now) / 1000000u) + 1);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0 && (stream_gone(a, &a->capture) || stream_gone(a, &a->playback)))
                        return -ENODEV;
        }
        now = udk_time_now();
        a->restarts = 0;

        /* The boundary: when the master PCM's avail reached a period, from
         * its own timestamp of its avail.  A late wake finds more: that
         * period ended earlier, and the next cycles catch up. */
        if (snd_pcm_htimestamp(master->pcm, &ts_avail, &ts) < 0 || (ts.tv_sec == 0 && ts.tv_nsec == 0)) {
                ts_avail = (snd_pcm_uframes_t)(master == &a->capture ? ac : ap);
                ts.tv_sec = (time_t)(now / UDK_NSEC_PER_SEC);
                ts.tv_nsec = (long)(now % UDK_NSEC_PER_SEC);
        }
        excess = (snd_pcm_sframes_t)ts_avail - (snd_pcm_sframes_t)n;
        if (excess < 0)
                excess = 0;
        boundary = (uint64_t)ts.tv_sec * UDK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
        boundary -= frames_ns(a, (uint64_t)excess);
        *ret_wake_time = now;
        *ret_boundary_time = boundary > now ? now : boundary;
        (void)deadline;
        return xrun ? UDK_BACKEND_XRUN : 0;
}

/* RT-safe.  A failed read leaves silence in the ring. */
int alsa_io_read(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct alsa_backend *a = instance;
        struct udk_stream *in = udk_device_stream(a->dev, UDK_DIRECTION_INPUT);
        float *ring;
        int r;

        if (!in || !a->capture.pcm)
                return 0;
        ring = udk_stream_frames(in, sample_time);
        r = transfer(a, &a->capture, ring, frames);
        if (r < 0)
                memset(ring, 0, (size_t)frames * in->channels * sizeof(float));
        return r;
}

/* RT-safe. */
int alsa_io_write(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct alsa_backend *a = instance;
        struct udk_stream *out = udk_device_stream(a->dev, UDK_DIRECTION_OUTPUT);

        if (!out || !a->playback.pcm)
                return 0;
        return transfer(a, &a->playback, udk_stream_frames(out, sample_time), frames);
}
