/* SPDX-License-Identifier: MIT */
/*
 * udkctl play FILE: a sound file (WAV, FLAC, whatever libsndfile reads) into
 * a device's outputs through a stream of its own.  A mono file goes to every
 * output; otherwise file channel c goes to output c, and channels beyond
 * the device's are left out (with a warning).  A file at another rate than
 * the device's is converted by libudk-client (--quality).
 *
 * The main thread reads the file into the transfer ring before the stream
 * opens and keeps it filled; the stream's RT callback only copies out of
 * the ring.  Lost frames (the ring ran dry, cycles the node missed or was
 * late in) are reported and make the exit status 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include <udk/util.h>

#include "transfer.h"
#include "udkctl.h"

#define CHUNK_FRAMES     4096u
#define WAIT_MS          200

struct play {
        const char *path;
        SNDFILE *file;
        uint32_t file_channels;
        uint32_t channels; /* the stream's outputs */
        bool eof;
        uint64_t read; /* frames read from the file */
        float *in;     /* CHUNK_FRAMES * file_channels */
        float *out;    /* CHUNK_FRAMES * channels */
        struct udkctl_transfer transfer;
};

/* File channels onto the stream's outputs: mono to all, else c to c. */
static void map_channels(const struct play *p, sf_count_t frames)
{
        for (sf_count_t f = 0; f < frames; f++) {
                const float *src = p->in + (size_t)f * p->file_channels;
                float *dst = p->out + (size_t)f * p->channels;

                for (uint32_t c = 0; c < p->channels; c++)
                        dst[c] = src[p->file_channels == 1 ? 0 : c];
        }
}

/* Top the ring up from the file.  0, or -EIO with the message printed. */
static int fill(struct play *p)
{
        while (!p->eof) {
                uint32_t room = udk_ring_writable(&p->transfer.ring);
                sf_count_t got;

                if (room == 0)
                        return 0;
                got = sf_readf_float(p->file, p->in, UDK_MIN(room, CHUNK_FRAMES));
                if (got <= 0) {
                        if (sf_error(p->file) != SF_ERR_NO_ERROR) {
                                udkctl_error("%s: cannot read: %s", p->path, sf_strerror(p->file));
                                return -EIO;
                        }
                        p->eof = true;
                        /* After the last frame went into the ring (see udkctl_transfer_play_cycle). */
                        atomic_store_explicit(&p->transfer.file_done, true, memory_order_release);
                        return 0;
                }
                map_channels(p, got);
                udk_ring_write(&p->transfer.ring, p->out, (uint32_t)got);
                p->read += (uint64_t)got;
        }
        return 0;
}

/* Cycles @node was late in, from udkd's statistics of @device: its output was not mixed. */
static int late_cycles(struct udk_client *client, udk_object_id device, udk_object_id node, uint64_t *ret)
{
        struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        struct udk_msg_stats_device dev;
        size_t n;
        int r;

        r = udk_client_stats(client, device, &dev, nodes, UDK_ELEMENTSOF(nodes), &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (nodes[i].node == node) {
                        *ret = nodes[i].late;
                        return 0;
                }
        return -ENOENT;
}

/* Feed the ring until the stream played everything, udkd stopped it, or a signal came. */
static int pump(struct play *p, struct udk_client_stream *stream)
{
        for (;;) {
                uint32_t seq = udkctl_transfer_wake_seq(&p->transfer);
                int r;

                r = fill(p);
                if (r < 0)
                        return r;
                if (atomic_load_explicit(&p->transfer.done, memory_order_acquire))
                        return 0;
                r = udkctl_transfer_check_and_wait(&p->transfer, stream, seq, "outputs", WAIT_MS);
                if (r < 0)
                        return r;
        }
}

static int play(struct udk_client *client, const struct udkctl_options *opts, struct play *p,
                const struct udk_msg_object *dev, const SF_INFO *info)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *stream = NULL;
        uint32_t device_rate = (uint32_t)udkctl_prop_int(dev, "rate", 0);
        uint32_t rate = (uint32_t)info->samplerate;
        uint32_t period = (uint32_t)udkctl_prop_int(dev, "period", 0);
        uint32_t outputs = (uint32_t)udkctl_prop_int(dev, "output_channels", 0);
        uint64_t late = 0, lost, frames;
        int r, status = UDKCTL_EXIT_FAILURE;

        if (outputs == 0) {
                udkctl_error("device %s has no outputs", dev->name);
                return UDKCTL_EXIT_FAILURE;
        }
        if (info->samplerate < (int)UDK_RESAMPLER_RATE_MIN || info->samplerate > (int)UDK_RESAMPLER_RATE_MAX) {
                udkctl_error("%s is at %d Hz: udk converts %u..%u Hz to device %s's %" PRIu32 " Hz", p->path,
                             info->samplerate, UDK_RESAMPLER_RATE_MIN, UDK_RESAMPLER_RATE_MAX, dev->name,
                             device_rate);
                return UDKCTL_EXIT_FAILURE;
        }
        if (device_rate)
                /* The device's period in the file's frames, rounded up. */
                period = (uint32_t)(((uint64_t)period * rate + device_rate - 1) / device_rate);
        p->file_channels = (uint32_t)info->channels;
        p->channels = p->file_channels == 1 ? outputs : UDK_MIN(p->file_channels, outputs);
        if (p->file_channels > outputs)
                udkctl_error("warning: %s has %" PRIu32 " channels, device %s %" PRIu32
                             " outputs: playing the first %" PRIu32,
                             p->path, p->file_channels, dev->name, outputs, outputs);

        p->in = calloc((size_t)CHUNK_FRAMES * p->file_channels, sizeof(float));
        p->out = calloc((size_t)CHUNK_FRAMES * p->channels, sizeof(float));
        r = p->in && p->out ? udkctl_transfer_init(&p->transfer, p->channels, UDK_MAX(rate / 2, 8 * period))
                            : -ENOMEM;
        if (r < 0) {
                udkctl_error("cannot allocate the ring: %s", strerror(-r));
                return UDKCTL_EXIT_FAILURE;
        }
        if (fill(p) < 0)
                return UDKCTL_EXIT_FAILURE;

        udk_client_stream_params_defaults(&params);
        params.device = dev->id;
        params.input_channels = 0;
        params.output_channels = p->channels;
        params.rate = rate;
        params.quality = opts->quality;
        params.link = UDK_LINK_DEVICE;
        params.gain = powf(10.0f, (float)opts->gain_db / 20.0f);
        params.name = "udkctl-play";
        r = udkctl_transfer_start(client, &params, udkctl_transfer_play_cycle, &p->transfer, dev->name, &stream);
        if (r != 0)
                return r;
        fprintf(stderr, "Playing %s on %s: %" PRIu32 " channels, %" PRIu32 " Hz\n", p->path, dev->name,
                p->channels, rate);

        r = pump(p, stream);
        if (r == 0 || r == -EINTR) {
                int s = late_cycles(client, dev->id, udk_client_stream_id(stream), &late);
                if (s < 0)
                        udkctl_error("warning: cannot read the stream's late cycles: %s", strerror(-s));
        }
        udk_client_close(stream);
        if (r < 0 && r != -EINTR)
                return UDKCTL_EXIT_FAILURE;

        frames = atomic_load(&p->transfer.frames);
        lost = atomic_load(&p->transfer.lost) + late * period;
        printf("played %s: %" PRIu64 " frames (%.3f s) on %s from sample time %" PRIu64 "\n", p->path,
               frames, (double)frames / rate, dev->name, atomic_load(&p->transfer.first_sample_time));
        if (fflush(stdout) != 0)
                udkctl_error("cannot write: %s", strerror(errno));
        else if (r == -EINTR)
                status = UDKCTL_EXIT_INTERRUPTED;
        else if (lost)
                udkctl_error("lost %" PRIu64 " frames (%" PRIu64 " late cycles)", lost, late);
        else
                status = UDKCTL_EXIT_OK;
        if (r == -EINTR)
                udkctl_error("interrupted after %" PRIu64 " of %" PRIu64 " frames", frames,
                             (uint64_t)info->frames);
        return status;
}

int udkctl_play(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *dev = malloc(UDK_MSG_SIZE_MAX);
        struct play p = { .path = argv[0] };
        struct udk_client *client;
        SF_INFO info = { 0 };
        int status = UDKCTL_EXIT_FAILURE;

        if (!dev) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        p.file = sf_open(p.path, SFM_READ, &info);
        if (!p.file) {
                udkctl_error("%s: %s", p.path, sf_strerror(NULL));
                return UDKCTL_EXIT_FAILURE;
        }

        udkctl_transfer_block_signals();
        if (udkctl_connect(opts, &client) < 0)
                goto out;
        if (udkctl_lookup_device(client, opts->device, dev) == 0)
                status = play(client, opts, &p, dev, &info);
        udk_client_disconnect(client);
out:
        udkctl_transfer_finish(&p.transfer);
        free(p.in);
        free(p.out);
        sf_close(p.file);
        return status;
}
