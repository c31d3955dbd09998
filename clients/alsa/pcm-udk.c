/* SPDX-License-Identifier: MIT */
/*
 * libasound_module_pcm_udk.so: the ALSA PCM plugin "udk", an ioplug through
 * which any ALSA application plays to or records from a udk device.
 *
 *   pcm.udk { type udk  device "loop"  socket "/run/udk/udkd.sock"  quality "very-high" }
 *
 * The PCM is a client of udkd: snd_pcm_open() connects and finds the
 * device; hw_params opens a stream of the PCM's channels on it, whose RT
 * callback moves frames between the device and the ring that is ALSA's
 * buffer (pcm-rt.h).  The application's side converts its sample format to
 * and from the float32 of the ring (rtcore's format code).  The poll
 * descriptor is an eventfd that the notifier thread writes once per device
 * cycle when the RT callback wakes it (the RT thread itself makes no system
 * call but the futex wake).
 *
 * Channels are 1 up to the device's.  The rate is any in
 * UDK_PCM_RATE_MIN..MAX: a rate other than the device's goes to the stream,
 * which libudk-client converts with libsoxr on its RT thread (@quality), and
 * then a cycle brings a varying number of the application's frames.  The
 * period sizes offered are whole numbers of device periods at the device's
 * rate (see set_constraints()); at another rate a period counts the
 * application's frames and must hold a whole cycle's (the stream's
 * maximum, udk_client_stream_period()), so that the plugin, which wakes
 * the application once per device cycle, never has to make more than one
 * period of room in a cycle.  docs/alsa-plugin.md tells the user's side.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include <udk/activation.h>
#include <udk/client.h>
#include <udk/clock.h>
#include <udk/format.h>
#include <udk/resampler.h>
#include <udk/util.h>

#include "pcm-rt.h"

/* The rates offered: libudk-client converts any in 8000..768000; ALSA's usual range ends at 384 kHz. */
#define UDK_PCM_RATE_MIN 8000
#define UDK_PCM_RATE_MAX 384000

#define PERIODS_MIN    2
#define PERIODS_MAX    64
#define PERIOD_UNITS   32    /* the period sizes offered: 1..PERIOD_UNITS units (see set_constraints()) */
#define CONVERT_FRAMES 1024u /* frames converted at a time */
#define START_MS       5000  /* the stream's first cycle */
#define ACK_MS         2000  /* the RT side's answer to a stop */
#define NOTIFY_MS      200   /* the notifier's look at its quit flag */

struct udk_pcm {
        snd_pcm_ioplug_t io;
        char *device_what; /* as the configuration named it; NULL: the first device */
        char *socket;      /* NULL: the client library's default */
        struct udk_client *client;
        udk_object_id device;
        char device_name[UDK_OBJECT_NAME_MAX];
        uint32_t rate, period, channels; /* the device's, in this PCM's direction */
        enum udk_resampler_quality quality;

        struct udk_client_stream *stream;
        struct udk_pcm_rt rt;
        bool rt_ready;
        enum udk_sample_format format;
        float *convert; /* CONVERT_FRAMES * channels */
        uint32_t latency;
        uint32_t xruns_seen;
        snd_pcm_uframes_t boundary, avail_min, stop_threshold;

        int event_fd;
        pthread_t notifier;
        bool notifier_started;
        _Atomic bool quit;
        _Atomic bool dead; /* udkd closed or suspended the stream: no cycle will come */
};

/*
 * The notifier: futex wakes from the RT side into the application's
 * eventfd; and when udkd closed or suspended the stream, so that no cycle
 * will wake anyone again, one last write that finds the PCM dead.
 */
static void *notifier_thread(void *arg)
{
        struct udk_pcm *p = arg;
        uint32_t seen = atomic_load_explicit(&p->rt.wake, memory_order_acquire);

        while (!atomic_load_explicit(&p->quit, memory_order_acquire)) {
                uint32_t now = atomic_load_explicit(&p->rt.wake, memory_order_acquire);

                if (now == seen) {
                        if (udk_futex_wait(&p->rt.wake, now, udk_time_now() + NOTIFY_MS * 1000000ull) ==
                                    -ETIMEDOUT &&
                            udk_client_stream_state(p->stream) >= UDK_NODE_SUSPENDED &&
                            !atomic_exchange_explicit(&p->dead, true, memory_order_release))
                                (void)!eventfd_write(p->event_fd, 1);
                        continue;
                }
                seen = now;
                /* A full counter (never, in practice) is as good as a write: it is readable. */
                (void)!eventfd_write(p->event_fd, 1);
        }
        return NULL;
}

static void notifier_stop(struct udk_pcm *p)
{
        if (!p->notifier_started)
                return;
        atomic_store_explicit(&p->quit, true, memory_order_release);
        atomic_fetch_add_explicit(&p->rt.wake, 1, memory_order_release);
        udk_futex_wake(&p->rt.wake);
        pthread_join(p->notifier, NULL);
        p->notifier_started = false;
}

/* --- the stream --- */

static bool is_playback(const struct udk_pcm *p)
{
        return p->io.stream == SND_PCM_STREAM_PLAYBACK;
}

static void stream_close(struct udk_pcm *p)
{
        notifier_stop(p);
        if (p->stream) {
                udk_client_close(p->stream);
                p->stream = NULL;
        }
        if (p->rt_ready) {
                udk_pcm_rt_finish(&p->rt);
                p->rt_ready = false;
        }
        free(p->convert);
        p->convert = NULL;
}

static int format_from_alsa(snd_pcm_format_t format, enum udk_sample_format *ret)
{
        switch (format) {
        case SND_PCM_FORMAT_FLOAT_LE:
                *ret = UDK_FORMAT_F32;
                return 0;
        case SND_PCM_FORMAT_S16_LE:
                *ret = UDK_FORMAT_S16;
                return 0;
        case SND_PCM_FORMAT_S24_3LE:
                *ret = UDK_FORMAT_S24_3;
                return 0;
        case SND_PCM_FORMAT_S24_LE:
                *ret = UDK_FORMAT_S24_4;
                return 0;
        case SND_PCM_FORMAT_S32_LE:
                *ret = UDK_FORMAT_S32;
                return 0;
        default:
                return -EINVAL;
        }
}

static int udk_pcm_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
        struct udk_pcm *p = io->private_data;
        struct udk_client_stream_params sp;
        uint32_t max_frames;
        int r;

        (void)params;
        stream_close(p);
        r = format_from_alsa(io->format, &p->format);
        if (r < 0) {
                SNDERR("udk: format %s is not one the plugin converts", snd_pcm_format_name(io->format));
                return r;
        }
        if (io->buffer_size > UINT32_MAX || io->channels == 0 || io->channels > p->channels)
                return -EINVAL;
        /* The most frames a cycle brings at the PCM's rate: the ceiling of the device's period, scaled. */
        max_frames = (uint32_t)(((uint64_t)p->period * io->rate + p->rate - 1) / p->rate);
        if (io->period_size < max_frames) {
                SNDERR("udk: a period of %lu frames at %u Hz is shorter than a cycle of device %s (%u frames "
                       "at its %u Hz are up to %u at %u Hz)",
                       (unsigned long)io->period_size, io->rate, p->device_name, p->period, p->rate, max_frames,
                       io->rate);
                return -EINVAL;
        }
        r = udk_pcm_rt_init(&p->rt, is_playback(p), io->channels, (uint32_t)io->buffer_size, max_frames);
        if (r < 0)
                return r;
        p->rt_ready = true;
        p->convert = calloc((size_t)CONVERT_FRAMES * io->channels, sizeof(float));
        if (!p->convert) {
                stream_close(p);
                return -ENOMEM;
        }
        p->xruns_seen = 0;
        p->boundary = io->buffer_size;
        p->avail_min = io->period_size;
        p->stop_threshold = io->buffer_size;

        udk_client_stream_params_defaults(&sp);
        sp.device = p->device;
        sp.input_channels = is_playback(p) ? 0 : io->channels;
        sp.output_channels = is_playback(p) ? io->channels : 0;
        sp.rate = io->rate;
        sp.quality = p->quality;
        sp.link = UDK_LINK_DEVICE;
        r = udk_client_open(p->client, &sp, udk_pcm_rt_process, &p->rt, &p->stream);
        if (r < 0) {
                SNDERR("udk: cannot open a stream on device %s: %s", p->device_name,
                       *udk_client_error(p->client) ? udk_client_error(p->client) : strerror(-r));
                stream_close(p);
                return r;
        }
        if (udk_client_stream_period(p->stream) > max_frames) {
                SNDERR("udk: the stream on device %s has cycles of up to %u frames, more than the %u expected",
                       p->device_name, udk_client_stream_period(p->stream), max_frames);
                stream_close(p);
                return -EPROTO;
        }
        r = udk_client_stream_wait_running(p->stream, START_MS);
        if (r < 0) {
                SNDERR("udk: the stream on device %s did not start within %d ms", p->device_name, START_MS);
                stream_close(p);
                return r;
        }
        p->latency = udk_client_stream_latency(p->stream,
                                               is_playback(p) ? UDK_DIRECTION_OUTPUT : UDK_DIRECTION_INPUT);

        /* After the stream opened: the notifier looks at its state. */
        atomic_store(&p->quit, false);
        atomic_store(&p->dead, false);
        r = -pthread_create(&p->notifier, NULL, notifier_thread, p);
        if (r < 0) {
                SNDERR("udk: cannot start the notifier thread: %s", strerror(-r));
                stream_close(p);
                return r;
        }
        p->notifier_started = true;
        return 0;
}

static int udk_pcm_hw_free(snd_pcm_ioplug_t *io)
{
        stream_close(io->private_data);
        return 0;
}

static int udk_pcm_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
        struct udk_pcm *p = io->private_data;

        snd_pcm_sw_params_get_boundary(params, &p->boundary);
        snd_pcm_sw_params_get_avail_min(params, &p->avail_min);
        snd_pcm_sw_params_get_stop_threshold(params, &p->stop_threshold);
        if (p->avail_min == 0)
                p->avail_min = 1;
        return 0;
}

/* Stop the RT side and wait for its answer: then the ring is the application's alone. */
static int rt_stop(struct udk_pcm *p)
{
        uint32_t request;

        if (!p->rt_ready)
                return -EBADFD;
        request = udk_pcm_rt_request(&p->rt, false);
        return udk_pcm_rt_wait_ack(&p->rt, request, ACK_MS);
}

static int udk_pcm_prepare(snd_pcm_ioplug_t *io)
{
        struct udk_pcm *p = io->private_data;
        int r;

        if (!p->stream)
                return -EBADFD;
        r = atomic_load_explicit(&p->dead, memory_order_acquire) ? -EIO : rt_stop(p);
        if (r == 0)
                r = udk_pcm_rt_reset(&p->rt);
        if (r < 0) {
                enum udk_node_state state = udk_client_stream_state(p->stream);

                SNDERR("udk: the stream on device %s stopped cycling (%s)", p->device_name,
                       state == UDK_NODE_SUSPENDED ? "udkd suspended it: late too many cycles in a row"
                       : state == UDK_NODE_CLOSED  ? "udkd closed it"
                                                   : "no cycle answered");
                return -EIO;
        }
        p->xruns_seen = 0;
        return 0;
}

static int udk_pcm_start(snd_pcm_ioplug_t *io)
{
        struct udk_pcm *p = io->private_data;

        if (!p->rt_ready)
                return -EBADFD;
        p->xruns_seen = atomic_load_explicit(&p->rt.xruns, memory_order_acquire);
        udk_pcm_rt_request(&p->rt, true);
        return 0;
}

static int udk_pcm_stop(snd_pcm_ioplug_t *io)
{
        struct udk_pcm *p = io->private_data;

        if (p->rt_ready && !atomic_load_explicit(&p->dead, memory_order_acquire) && rt_stop(p) < 0)
                SNDERR("udk: the stream on device %s did not answer the stop within %d ms", p->device_name,
                       ACK_MS);
        return 0;
}

static int udk_pcm_pause(snd_pcm_ioplug_t *io, int enable)
{
        struct udk_pcm *p = io->private_data;

        if (!p->rt_ready)
                return -EBADFD;
        if (!enable)
                p->xruns_seen = atomic_load_explicit(&p->rt.xruns, memory_order_acquire);
        udk_pcm_rt_request(&p->rt, !enable);
        return 0;
}

/* An xrun that stops the PCM: one since the last look, while running, when the stop threshold allows it. */
static bool xrun_pending(struct udk_pcm *p)
{
        uint32_t xruns = atomic_load_explicit(&p->rt.xruns, memory_order_acquire);

        if (xruns == p->xruns_seen)
                return false;
        p->xruns_seen = xruns;
        return p->io.state == SND_PCM_STATE_RUNNING && p->stop_threshold <= p->io.buffer_size;
}

static snd_pcm_sframes_t udk_pcm_pointer(snd_pcm_ioplug_t *io)
{
        struct udk_pcm *p = io->private_data;
        uint64_t position;

        if (!p->rt_ready)
                return -EBADFD;
        /* A dead stream is an xrun that prepare will not recover from: it says why. */
        if (xrun_pending(p) || atomic_load_explicit(&p->dead, memory_order_acquire))
                return -EPIPE;
        position = atomic_load_explicit(&p->rt.position, memory_order_acquire);
        return (snd_pcm_sframes_t)(position % (p->boundary ? p->boundary : io->buffer_size));
}

static int udk_pcm_delay(snd_pcm_ioplug_t *io, snd_pcm_sframes_t *delayp)
{
        struct udk_pcm *p = io->private_data;

        if (!p->rt_ready)
                return -EBADFD;
        if (io->state == SND_PCM_STATE_XRUN)
                return -EPIPE;
        /* What is in the ring, and the stream's latency beyond it: the device's and the rate conversion's. */
        *delayp = (snd_pcm_sframes_t)udk_ring_readable(&p->rt.ring) + p->latency;
        return 0;
}

static snd_pcm_sframes_t udk_pcm_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                          snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
        struct udk_pcm *p = io->private_data;
        /* Interleaved access only: one area's address and step say where every frame is. */
        uint8_t *buf = (uint8_t *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8;
        size_t frame_bytes = areas[0].step / 8;
        snd_pcm_uframes_t done = 0;

        if (!p->rt_ready)
                return -EBADFD;
        while (done < size) {
                uint32_t want = (uint32_t)UDK_MIN(size - done, (snd_pcm_uframes_t)CONVERT_FRAMES);
                uint8_t *at = buf + done * frame_bytes;
                uint32_t n;

                if (is_playback(p)) {
                        if (p->format == UDK_FORMAT_F32) {
                                n = udk_ring_write(&p->rt.ring, at, want);
                        } else {
                                want = UDK_MIN(want, udk_ring_writable(&p->rt.ring));
                                udk_format_to_f32(p->format, p->convert, at, (size_t)want * io->channels);
                                n = udk_ring_write(&p->rt.ring, p->convert, want);
                        }
                } else if (p->format == UDK_FORMAT_F32) {
                        n = udk_ring_read(&p->rt.ring, at, want);
                } else {
                        n = udk_ring_read(&p->rt.ring, p->convert, want);
                        udk_format_from_f32(p->format, at, p->convert, (size_t)n * io->channels);
                }
                done += n;
                if (n < want)
                        break;
        }
        return (snd_pcm_sframes_t)done;
}

static int udk_pcm_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfds, unsigned int nfds,
                                unsigned short *revents)
{
        struct udk_pcm *p = io->private_data;
        snd_pcm_sframes_t avail;
        eventfd_t value;

        if (nfds != 1 || pfds[0].fd != p->event_fd)
                return -EINVAL;
        /* Consumed whether or not it was readable: the next cycle writes it again. */
        (void)!eventfd_read(p->event_fd, &value);
        avail = snd_pcm_avail_update(io->pcm);
        if (avail < 0 || (pfds[0].revents & (POLLERR | POLLNVAL)))
                *revents = POLLERR;
        else if ((snd_pcm_uframes_t)avail >= p->avail_min)
                *revents = is_playback(p) ? POLLOUT : POLLIN;
        else
                *revents = 0;
        return 0;
}

static void udk_pcm_free(struct udk_pcm *p)
{
        if (!p)
                return;
        stream_close(p);
        udk_client_disconnect(p->client);
        if (p->event_fd >= 0)
                close(p->event_fd);
        free(p->device_what);
        free(p->socket);
        free(p);
}

static int udk_pcm_close(snd_pcm_ioplug_t *io)
{
        udk_pcm_free(io->private_data);
        return 0;
}

static const snd_pcm_ioplug_callback_t udk_pcm_callback = {
        .start = udk_pcm_start,
        .stop = udk_pcm_stop,
        .pointer = udk_pcm_pointer,
        .transfer = udk_pcm_transfer,
        .close = udk_pcm_close,
        .hw_params = udk_pcm_hw_params,
        .hw_free = udk_pcm_hw_free,
        .sw_params = udk_pcm_sw_params,
        .prepare = udk_pcm_prepare,
        .pause = udk_pcm_pause,
        .poll_revents = udk_pcm_poll_revents,
        .delay = udk_pcm_delay,
};

/* --- opening: the configuration, udkd, the device --- */

static int64_t prop_int(const struct udk_msg_object *obj, const char *key)
{
        const struct udk_prop *prop = udk_msg_object_prop(obj, key);

        return prop && prop->type == UDK_PROP_INT ? prop->i : 0;
}

/* The device @p->device_what names, or the first with channels in this PCM's direction. */
static int device_find(struct udk_pcm *p)
{
        const char *channels_key = is_playback(p) ? "output_channels" : "input_channels";
        const char *noun = is_playback(p) ? "outputs" : "inputs";
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        const struct udk_msg_object *dev = NULL;
        size_t n = 0;
        int r;

        r = udk_client_list(p->client, 0, &objects, &n);
        if (r < 0) {
                SNDERR("udk: cannot list udkd's devices: %s", udk_client_error(p->client));
                return r;
        }
        if (p->device_what) {
                udk_object_id id;

                r = udk_client_find_class(p->client, "device", p->device_what, &id);
                if (r < 0) {
                        SNDERR("udk: %s", udk_client_error(p->client));
                        return r;
                }
                for (size_t i = 0; i < n && !dev; i++)
                        if (udk_client_objects_at(objects, i)->id == id)
                                dev = udk_client_objects_at(objects, i);
                if (!dev) {
                        SNDERR("udk: device %s went away", p->device_what);
                        return -ENOENT;
                }
                if (prop_int(dev, channels_key) <= 0) {
                        SNDERR("udk: device %s has no %s", p->device_what, noun);
                        return -ENODEV;
                }
        } else {
                for (size_t i = 0; i < n && !dev; i++) {
                        const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                        if (strcmp(o->klass, "device") == 0 && prop_int(o, channels_key) > 0)
                                dev = o;
                }
                if (!dev) {
                        SNDERR("udk: udkd has no device with %s", noun);
                        return -ENODEV;
                }
        }
        p->device = dev->id;
        udk_strlcpy(p->device_name, dev->name, sizeof(p->device_name));
        p->rate = (uint32_t)prop_int(dev, "rate");
        p->period = (uint32_t)prop_int(dev, "period");
        p->channels = (uint32_t)prop_int(dev, channels_key);
        if (p->rate == 0 || p->period == 0) {
                SNDERR("udk: device %s tells no rate or period", p->device_name);
                return -EPROTO;
        }
        return 0;
}

/*
 * What the PCM accepts.  Periods are whole numbers of device periods
 * whatever the format: ioplug takes period sizes in bytes, so the offered
 * byte counts are multiples of 12 bytes (2, 3 and 4 bytes a sample all
 * divide it) per device period and channel, which makes a period of
 * 3k device periods at 4 bytes a sample, 4k at 3, 6k at 2.
 */
static int set_constraints(struct udk_pcm *p)
{
        static const unsigned int accesses[] = { SND_PCM_ACCESS_RW_INTERLEAVED,
                                                 SND_PCM_ACCESS_MMAP_INTERLEAVED };
        static const unsigned int formats[] = { SND_PCM_FORMAT_FLOAT_LE, SND_PCM_FORMAT_S16_LE,
                                                SND_PCM_FORMAT_S24_3LE, SND_PCM_FORMAT_S24_LE,
                                                SND_PCM_FORMAT_S32_LE };
        unsigned int period_bytes[PERIOD_UNITS];
        unsigned int unit = 12u * p->period * p->channels;
        int r;

        if (p->period > UINT32_MAX / 12u / p->channels / PERIOD_UNITS / PERIODS_MAX)
                return -EINVAL;
        for (unsigned int k = 0; k < PERIOD_UNITS; k++)
                period_bytes[k] = unit * (k + 1);
        r = snd_pcm_ioplug_set_param_list(&p->io, SND_PCM_IOPLUG_HW_ACCESS, UDK_ELEMENTSOF(accesses),
                                          accesses);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_list(&p->io, SND_PCM_IOPLUG_HW_FORMAT, UDK_ELEMENTSOF(formats),
                                                  formats);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_minmax(&p->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, p->channels);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_minmax(&p->io, SND_PCM_IOPLUG_HW_RATE, UDK_PCM_RATE_MIN,
                                                    UDK_PCM_RATE_MAX);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_list(&p->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, PERIOD_UNITS,
                                                  period_bytes);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_minmax(&p->io, SND_PCM_IOPLUG_HW_PERIODS, PERIODS_MIN,
                                                    PERIODS_MAX);
        if (r >= 0)
                r = snd_pcm_ioplug_set_param_minmax(&p->io, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
                                                    unit * PERIODS_MIN, unit * PERIOD_UNITS * PERIODS_MAX);
        return r;
}

/* A string (or integer) field of the configuration, copied; "" is NULL. */
static int conf_string(snd_config_t *n, const char *id, char **ret)
{
        char *value = NULL;

        if (snd_config_get_ascii(n, &value) < 0) {
                SNDERR("udk: %s must be a string", id);
                return -EINVAL;
        }
        free(*ret);
        *ret = NULL;
        if (*value)
                *ret = value;
        else
                free(value);
        return 0;
}

/* The quality field: libsoxr's recipe, by the names <udk/resampler.h> knows. */
static int conf_quality(snd_config_t *n, enum udk_resampler_quality *ret)
{
        char *value = NULL;
        int r;

        if (snd_config_get_ascii(n, &value) < 0) {
                SNDERR("udk: quality must be a string");
                return -EINVAL;
        }
        r = udk_resampler_quality_from_name(value, ret);
        if (r < 0)
                SNDERR("udk: quality %s is not one of quick, low, medium, high, very-high", value);
        free(value);
        return r < 0 ? -EINVAL : 0;
}

/* alsa-lib's macro defines the entry point without a prototype, which clang's
 * -Wmissing-prototypes refuses (gcc's does not look inside the macro). */
int SND_PCM_PLUGIN_ENTRY(udk)(snd_pcm_t **pcmp, const char *name, snd_config_t *root, snd_config_t *conf,
                              snd_pcm_stream_t stream, int mode);

SND_PCM_PLUGIN_DEFINE_FUNC(udk)
{
        snd_config_iterator_t i, next;
        struct udk_pcm *p;
        int r;

        (void)root;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->event_fd = -1;
        p->quality = UDK_RESAMPLER_VERY_HIGH;
        snd_config_for_each(i, next, conf)
        {
                snd_config_t *n = snd_config_iterator_entry(i);
                const char *id;

                if (snd_config_get_id(n, &id) < 0)
                        continue;
                if (strcmp(id, "comment") == 0 || strcmp(id, "type") == 0 || strcmp(id, "hint") == 0)
                        continue;
                if (strcmp(id, "device") == 0)
                        r = conf_string(n, id, &p->device_what);
                else if (strcmp(id, "socket") == 0)
                        r = conf_string(n, id, &p->socket);
                else if (strcmp(id, "quality") == 0)
                        r = conf_quality(n, &p->quality);
                else {
                        SNDERR("udk: unknown field %s (the fields are device, socket and quality)", id);
                        r = -EINVAL;
                }
                if (r < 0)
                        goto fail;
        }

        r = udk_client_connect(NULL, p->socket, &p->client);
        if (r < 0) {
                SNDERR("udk: cannot connect to udkd: %s",
                       *udk_client_error(NULL) ? udk_client_error(NULL) : strerror(-r));
                goto fail;
        }
        p->io.stream = stream;
        r = device_find(p);
        if (r < 0)
                goto fail;

        p->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->event_fd < 0) {
                r = -errno;
                goto fail;
        }
        p->io.version = SND_PCM_IOPLUG_VERSION;
        p->io.name = "udk";
        p->io.callback = &udk_pcm_callback;
        p->io.private_data = p;
        p->io.poll_fd = p->event_fd;
        p->io.poll_events = POLLIN;
        p->io.mmap_rw = 0;
        p->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
        r = snd_pcm_ioplug_create(&p->io, name, stream, mode);
        if (r < 0)
                goto fail;
        /* ioplug learns SND_PCM_NONBLOCK only from a later snd_pcm_nonblock(); its drain reads this. */
        p->io.nonblock = (mode & SND_PCM_NONBLOCK) != 0;
        r = set_constraints(p);
        if (r < 0) {
                snd_pcm_ioplug_delete(&p->io); /* calls close, which frees p */
                return r;
        }
        *pcmp = p->io.pcm;
        return 0;

fail:
        udk_pcm_free(p);
        return r;
}

SND_PCM_PLUGIN_SYMBOL(udk);
