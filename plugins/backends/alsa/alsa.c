/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend: a device on any ALSA PCM, hw:CARD,DEV first.  Capture
 * and playback are one card on one clock: the cycle waits until the
 * capture PCM has a period to read and the playback PCM room for one, and
 * the card's timestamps are the zero timestamps' source.
 *
 * Options (the [device] keys it takes):
 *   pcm            both directions' PCM name (default hw:0,0)
 *   playback_pcm   the playback PCM, when it is another than pcm
 *   capture_pcm    the capture PCM, likewise
 *   pcm_periods    periods in the PCM's buffer, 2..32 (default 2)
 *   access         mmap (default) or rw
 *   interleaved    yes (default) or no
 *   timeout        ms without a period before the PCM counts as gone (2000)
 *
 * This file opens and configures the PCMs (control thread); alsa-io.c is
 * the RT side.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/backend.h>
#include <udk/log.h>
#include <udk/util.h>

#include "alsa-private.h"

static snd_pcm_format_t alsa_format(enum udk_sample_format f)
{
        switch (f) {
        case UDK_FORMAT_F32:
                return SND_PCM_FORMAT_FLOAT_LE;
        case UDK_FORMAT_S16:
                return SND_PCM_FORMAT_S16_LE;
        case UDK_FORMAT_S24_3:
                return SND_PCM_FORMAT_S24_3LE;
        case UDK_FORMAT_S24_4:
                return SND_PCM_FORMAT_S24_LE;
        case UDK_FORMAT_S32:
                return SND_PCM_FORMAT_S32_LE;
        default:
                return SND_PCM_FORMAT_UNKNOWN;
        }
}

static int set_name(char *dst, const char *key, const char *value, char *err, size_t err_size)
{
        if (!value[0] || udk_strlcpy(dst, value, ALSA_PCM_NAME_MAX) < 0) {
                snprintf(err, err_size, "%s '%s' is empty or longer than %u characters", key, value,
                         ALSA_PCM_NAME_MAX - 1);
                return -EINVAL;
        }
        return 0;
}

static int parse_yes_no(const char *key, const char *value, bool *ret, char *err, size_t err_size)
{
        if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcasecmp(value, "on") == 0) {
                *ret = true;
                return 0;
        }
        if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
            strcasecmp(value, "off") == 0) {
                *ret = false;
                return 0;
        }
        snprintf(err, err_size, "%s '%s' is neither yes nor no", key, value);
        return -EINVAL;
}

static int parse_range(const char *key, const char *value, int64_t min, int64_t max, int64_t *ret, char *err,
                       size_t err_size)
{
        int r = udk_parse_int64(value, min, max, ret);

        if (r < 0)
                snprintf(err, err_size, "%s '%s' %s (%lld..%lld)", key, value,
                         r == -ERANGE ? "out of range" : "is not a number", (long long)min, (long long)max);
        return r;
}

/* Zeroed instances get their defaults here, before the first option. */
static void defaults(struct alsa_backend *a)
{
        if (a->periods)
                return;
        udk_strlcpy(a->pcm, "hw:0,0", sizeof(a->pcm));
        a->periods = ALSA_PERIODS_DEFAULT;
        a->mmap = true;
        a->interleaved = true;
        a->timeout_ms = ALSA_TIMEOUT_MS_DEFAULT;
}

static int alsa_set_option(void *instance, const char *key, const char *value, char *err, size_t err_size)
{
        struct alsa_backend *a = instance;
        int64_t n;
        int r;

        defaults(a);
        if (strcmp(key, "pcm") == 0)
                return set_name(a->pcm, key, value, err, err_size);
        if (strcmp(key, "playback_pcm") == 0)
                return set_name(a->playback_name, key, value, err, err_size);
        if (strcmp(key, "capture_pcm") == 0)
                return set_name(a->capture_name, key, value, err, err_size);
        if (strcmp(key, "pcm_periods") == 0) {
                r = parse_range(key, value, ALSA_PERIODS_MIN, ALSA_PERIODS_MAX, &n, err, err_size);
                if (r == 0)
                        a->periods = (uint32_t)n;
                return r;
        }
        if (strcmp(key, "timeout") == 0) {
                r = parse_range(key, value, ALSA_TIMEOUT_MS_MIN, ALSA_TIMEOUT_MS_MAX, &n, err, err_size);
                if (r == 0)
                        a->timeout_ms = (int)n;
                return r;
        }
        if (strcmp(key, "access") == 0) {
                if (strcmp(value, "mmap") != 0 && strcmp(value, "rw") != 0) {
                        snprintf(err, err_size, "access '%s' is neither mmap nor rw", value);
                        return -EINVAL;
                }
                a->mmap = strcmp(value, "mmap") == 0;
                return 0;
        }
        if (strcmp(key, "interleaved") == 0)
                return parse_yes_no(key, value, &a->interleaved, err, err_size);
        return -ENOENT;
}

static const char *direction_name(const struct alsa_stream *s)
{
        return s->direction == UDK_DIRECTION_INPUT ? "capture" : "playback";
}

/* "rates 44100..48000" of what the PCM can do, for a refusal's sentence. */
static void describe_range(snd_pcm_t *pcm, const char *what, char *buf, size_t size)
{
        snd_pcm_hw_params_t *hw;
        unsigned lo = 0, hi = 0;
        snd_pcm_uframes_t flo = 0, fhi = 0;
        int dir = 0;

        snd_pcm_hw_params_alloca(&hw);
        if (snd_pcm_hw_params_any(pcm, hw) < 0) {
                snprintf(buf, size, "?");
                return;
        }
        if (strcmp(what, "rate") == 0 && snd_pcm_hw_params_get_rate_min(hw, &lo, &dir) == 0 &&
            snd_pcm_hw_params_get_rate_max(hw, &hi, &dir) == 0)
                snprintf(buf, size, "it takes %u..%u Hz", lo, hi);
        else if (strcmp(what, "channels") == 0 && snd_pcm_hw_params_get_channels_min(hw, &lo) == 0 &&
                 snd_pcm_hw_params_get_channels_max(hw, &hi) == 0)
                snprintf(buf, size, "it takes %u..%u", lo, hi);
        else if (strcmp(what, "period") == 0 && snd_pcm_hw_params_get_period_size_min(hw, &flo, &dir) == 0 &&
                 snd_pcm_hw_params_get_period_size_max(hw, &fhi, &dir) == 0)
                snprintf(buf, size, "it takes %lu..%lu frames", (unsigned long)flo, (unsigned long)fhi);
        else if (strcmp(what, "pcm_periods") == 0 && snd_pcm_hw_params_get_periods_min(hw, &lo, &dir) == 0 &&
                 snd_pcm_hw_params_get_periods_max(hw, &hi, &dir) == 0)
                snprintf(buf, size, "it takes %u..%u", lo, hi);
        else
                snprintf(buf, size, "see its hw_params");
}

/* A refusal of one hw parameter: its key first, so udkd names that line. */
#define REFUSED(what, fmt, ...)                                                                            \
        do {                                                                                               \
                char range[96];                                                                            \
                describe_range(s->pcm, what, range, sizeof(range));                                        \
                snprintf(err, err_size, "%s " fmt " not supported by %s PCM '%s' (%s)", what, __VA_ARGS__, \
                         direction_name(s), s->name, range);                                               \
                return -EINVAL;                                                                            \
        } while (0)

static int set_hw_params(struct alsa_backend *a, struct alsa_stream *s, char *err, size_t err_size)
{
        snd_pcm_hw_params_t *hw;
        snd_pcm_access_t access;
        snd_pcm_uframes_t period = a->period;
        unsigned rate = a->rate;
        int r;

        snd_pcm_hw_params_alloca(&hw);
        r = snd_pcm_hw_params_any(s->pcm, hw);
        if (r < 0) {
                snprintf(err, err_size, "%s PCM '%s' has no configuration: %s", direction_name(s), s->name,
                         snd_strerror(r));
                return r;
        }
        /* The card's own rate: no resampling inside alsa-lib. */
        snd_pcm_hw_params_set_rate_resample(s->pcm, hw, 0);
        if (a->mmap)
                access = a->interleaved ? SND_PCM_ACCESS_MMAP_INTERLEAVED
                                        : SND_PCM_ACCESS_MMAP_NONINTERLEAVED;
        else
                access = a->interleaved ? SND_PCM_ACCESS_RW_INTERLEAVED : SND_PCM_ACCESS_RW_NONINTERLEAVED;
        if (snd_pcm_hw_params_set_access(s->pcm, hw, access) < 0) {
                snprintf(err, err_size, "access %s with interleaved = %s not supported by %s PCM '%s'",
                         a->mmap ? "mmap" : "rw", a->interleaved ? "yes" : "no", direction_name(s), s->name);
                return -EINVAL;
        }
        if (snd_pcm_hw_params_set_format(s->pcm, hw, alsa_format(a->format)) < 0)
                REFUSED("format", "%s", udk_format_name(a->format));
        if (snd_pcm_hw_params_set_channels(s->pcm, hw, s->channels) < 0)
                REFUSED("channels", "%u", s->channels);
        if (snd_pcm_hw_params_set_rate(s->pcm, hw, rate, 0) < 0)
                REFUSED("rate", "%u", a->rate);
        if (snd_pcm_hw_params_set_period_size(s->pcm, hw, period, 0) < 0)
                REFUSED("period", "%u", a->period);
        if (snd_pcm_hw_params_set_periods(s->pcm, hw, a->periods, 0) < 0)
                REFUSED("pcm_periods", "%u", a->periods);
        r = snd_pcm_hw_params(s->pcm, hw);
        if (r < 0) {
                snprintf(err, err_size, "%s PCM '%s' refused rate %u, period %u x %u, %s, %u channels: %s",
                         direction_name(s), s->name, a->rate, a->period, a->periods,
                         udk_format_name(a->format), s->channels, snd_strerror(r));
                return r == -ENODEV ? r : -EINVAL;
        }
        snd_pcm_hw_params_get_buffer_size(hw, &s->buffer_frames);
        return 0;
}

static int set_sw_params(struct alsa_backend *a, struct alsa_stream *s, char *err, size_t err_size)
{
        snd_pcm_sw_params_t *sw;
        snd_pcm_uframes_t boundary = 0;
        int r;

        snd_pcm_sw_params_alloca(&sw);
        r = snd_pcm_sw_params_current(s->pcm, sw);
        if (r == 0)
                r = snd_pcm_sw_params_set_avail_min(s->pcm, sw, a->period);
        /* Started by alsa_io_restart(), never by a write. */
        if (r == 0)
                r = snd_pcm_sw_params_get_boundary(sw, &boundary);
        if (r == 0)
                r = snd_pcm_sw_params_set_start_threshold(s->pcm, sw, boundary);
        /* An xrun stops the PCM, so that the cycle sees it and restarts it. */
        if (r == 0)
                r = snd_pcm_sw_params_set_stop_threshold(s->pcm, sw, s->buffer_frames);
        if (r == 0)
                r = snd_pcm_sw_params_set_tstamp_mode(s->pcm, sw, SND_PCM_TSTAMP_ENABLE);
        if (r == 0)
                r = snd_pcm_sw_params_set_tstamp_type(s->pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC);
        if (r == 0)
                r = snd_pcm_sw_params(s->pcm, sw);
        if (r < 0) {
                snprintf(err, err_size, "%s PCM '%s' refused its software parameters: %s", direction_name(s),
                         s->name, snd_strerror(r));
                return r;
        }
        return 0;
}

static void stream_close(struct alsa_stream *s)
{
        if (s->pcm)
                snd_pcm_close(s->pcm);
        s->pcm = NULL;
        free(s->buf);
        s->buf = NULL;
        for (uint32_t c = 0; c < UDK_CHANNELS_MAX; c++) {
                free(s->bufs[c]);
                s->bufs[c] = NULL;
        }
}

/* The key that named @s's PCM, so that udkd's message names its line. */
static const char *name_key(const struct alsa_backend *a, const struct alsa_stream *s)
{
        if (s->direction == UDK_DIRECTION_INPUT && a->capture_name[0])
                return "capture_pcm";
        if (s->direction == UDK_DIRECTION_OUTPUT && a->playback_name[0])
                return "playback_pcm";
        return "pcm";
}

static int stream_open(struct alsa_backend *a, struct alsa_stream *s, const char *name, uint32_t channels,
                       char *err, size_t err_size)
{
        snd_pcm_stream_t dir =
                s->direction == UDK_DIRECTION_INPUT ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK;
        int r;

        udk_strlcpy(s->name, name, sizeof(s->name));
        s->channels = channels;
        s->sample_size = udk_format_size(a->format);
        /*
         * alsa-lib guards plugin PCMs (not hw: ones) with a mutex in every
         * call, for programs that use one PCM from several threads.  udk
         * never does (the RT thread alone while it runs, the control thread
         * alone before and after), and the RT thread takes no mutex: off,
         * unless the environment says otherwise.  alsa-lib reads it at the
         * process's first PCM open.
         */
        setenv("LIBASOUND_THREAD_SAFE", "0", 0);
        r = snd_pcm_open(&s->pcm, name, dir, SND_PCM_NONBLOCK);
        if (r < 0) {
                s->pcm = NULL;
                /* Not there (an unknown name, a card unplugged) or held by another program:
                 * the device is left out, udkd runs the others. */
                snprintf(err, err_size, "%s '%s': cannot open it for %s: %s", name_key(a, s), name,
                         direction_name(s), snd_strerror(r));
                return r == -ENOENT || r == -ENODEV || r == -ENXIO || r == -EBUSY ? -ENODEV : r;
        }
        r = set_hw_params(a, s, err, err_size);
        if (r == 0)
                r = set_sw_params(a, s, err, err_size);
        if (r < 0)
                return r;
        if (!a->mmap) {
                size_t bytes = (size_t)a->period * s->sample_size;
                if (a->interleaved) {
                        s->buf = calloc(channels, bytes);
                        if (!s->buf)
                                return -ENOMEM;
                } else {
                        for (uint32_t c = 0; c < channels; c++) {
                                s->bufs[c] = calloc(1, bytes);
                                if (!s->bufs[c])
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

static int collect_poll_fds(struct alsa_backend *a, char *err, size_t err_size)
{
        struct alsa_stream *streams[] = { &a->capture, &a->playback };
        int used = 0;

        for (size_t i = 0; i < UDK_ELEMENTSOF(streams); i++) {
                struct alsa_stream *s = streams[i];
                int n;

                if (!s->pcm)
                        continue;
                n = snd_pcm_poll_descriptors_count(s->pcm);
                if (n <= 0 || used + n > ALSA_POLL_FDS_MAX) {
                        snprintf(err, err_size, "%s PCM '%s' has %d poll descriptors (udk takes 1..%d)",
                                 direction_name(s), s->name, n, ALSA_POLL_FDS_MAX - used);
                        return -EINVAL;
                }
                n = snd_pcm_poll_descriptors(s->pcm, &a->fds[used], (unsigned)n);
                if (n < 0) {
                        snprintf(err, err_size, "%s PCM '%s': no poll descriptors: %s", direction_name(s),
                                 s->name, snd_strerror(n));
                        return n;
                }
                s->poll_first = used;
                s->poll_count = n;
                used += n;
        }
        return 0;
}

static void alsa_close(void *instance)
{
        struct alsa_backend *a = instance;

        if (a->linked)
                snd_pcm_unlink(a->capture.pcm);
        a->linked = false;
        stream_close(&a->capture);
        stream_close(&a->playback);
        free(a->scratch);
        a->scratch = NULL;
}

/*
 * alsa-lib's own messages.  Its default handler prints to stderr, also
 * from the RT thread when a PCM fails there (a card gone: every restart
 * attempt says so), which the RT thread may not do: there they are
 * dropped (the cycle counts the failure itself); elsewhere they go to
 * udkd's debug log.
 */
static void alsa_lib_says(const char *file, int line, const char *function, int err, const char *fmt, ...)
        UDK_PRINTF(5, 6);
static void alsa_lib_says(const char *file, int line, const char *function, int err, const char *fmt, ...)
{
        char text[512];
        va_list ap;

        if (udk_rt_thread_is_current())
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        udk_debug("alsa-lib: %s:%d %s: %s%s%s", file, line, function, text, err ? ": " : "",
                  err ? snd_strerror(err) : "");
}

static int alsa_open(void *instance, struct udk_device *dev, char *err, size_t err_size)
{
        struct alsa_backend *a = instance;
        const struct udk_device_config *cfg = udk_device_config(dev);
        uint32_t in_lat, out_lat;
        int r;

        snd_lib_error_set_handler(alsa_lib_says);
        defaults(a);
        a->dev = dev;
        a->rate = cfg->rate;
        a->period = cfg->period;
        a->format = cfg->format;
        a->capture.direction = UDK_DIRECTION_INPUT;
        a->playback.direction = UDK_DIRECTION_OUTPUT;
        if (alsa_format(a->format) == SND_PCM_FORMAT_UNKNOWN) {
                snprintf(err, err_size, "format %d has no ALSA counterpart", (int)a->format);
                return -EINVAL;
        }

        if (cfg->input_channels > 0) {
                r = stream_open(a, &a->capture, a->capture_name[0] ? a->capture_name : a->pcm,
                                cfg->input_channels, err, err_size);
                if (r < 0)
                        goto fail;
        }
        if (cfg->output_channels > 0) {
                r = stream_open(a, &a->playback, a->playback_name[0] ? a->playback_name : a->pcm,
                                cfg->output_channels, err, err_size);
                if (r < 0)
                        goto fail;
        }
        a->scratch = calloc((size_t)a->period * UDK_MAX(cfg->input_channels, cfg->output_channels),
                            sizeof(float));
        if (!a->scratch) {
                snprintf(err, err_size, "out of memory");
                r = -ENOMEM;
                goto fail;
        }
        r = collect_poll_fds(a, err, err_size);
        if (r < 0)
                goto fail;
        /* One card, one clock: started and stopped together where the PCMs can be linked. */
        if (a->capture.pcm && a->playback.pcm)
                a->linked = snd_pcm_link(a->capture.pcm, a->playback.pcm) == 0;

        /*
         * Latency, in sample-time frames as the virtual device counts it (a
         * loop from output back to input comes back in + out frames later):
         * input is stamped with the time it was captured, so it has none of
         * its own here (a card's converter delay is not known to ALSA);
         * output is heard after the cycle's period and the playback buffer
         * queued ahead of it (ALSA's): the whole buffer.
         */
        in_lat = 0;
        out_lat = a->playback.pcm ? (uint32_t)a->playback.buffer_frames : 0;
        udk_device_set_latency(dev, UDK_DIRECTION_INPUT, in_lat, 0);
        udk_device_set_latency(dev, UDK_DIRECTION_OUTPUT, out_lat, 0);
        return 0;
fail:
        if (r == -ENOMEM && !err[0])
                snprintf(err, err_size, "out of memory");
        alsa_close(a);
        return r;
}

static int alsa_start(void *instance, uint64_t *ret_start_time)
{
        struct alsa_backend *a = instance;
        int r;

        a->restarts = 0;
        r = alsa_io_restart(a);
        if (r < 0)
                return r;
        *ret_start_time = udk_time_now();
        return 0;
}

static void alsa_stop(void *instance)
{
        struct alsa_backend *a = instance;

        if (a->capture.pcm)
                snd_pcm_drop(a->capture.pcm);
        if (a->playback.pcm && !a->linked)
                snd_pcm_drop(a->playback.pcm);
}

const struct udk_backend_ops udk_backend_alsa = {
        .version = UDK_BACKEND_ABI_VERSION,
        .name = "alsa",
        .description = "an ALSA PCM (hw:CARD,DEV or any PCM name), paced by its periods",
        .instance_size = sizeof(struct alsa_backend),
        .set_option = alsa_set_option,
        .open = alsa_open,
        .close = alsa_close,
        .start = alsa_start,
        .stop = alsa_stop,
        .wait = alsa_io_wait,
        .read = alsa_io_read,
        .write = alsa_io_write,
};
