/* SPDX-License-Identifier: MIT */
/*
 * udkctl record FILE --seconds N: a device's inputs into a WAV or FLAC file
 * (at the device's rate, or at --rate HZ, converted by libudk-client)
 * (--format, else the file's extension), exactly N * rate frames of the
 * device's timeline from the stream's first cycle.  WAV keeps the device's
 * sample format (f32: FLOAT, s16: PCM_16, s24: PCM_24, s32: PCM_32); FLAC
 * holds 16 or 24 bits.
 *
 * The stream's RT callback only copies its input into the transfer ring;
 * the main thread writes the ring to the file.  Lost frames (the ring was
 * full, cycles the node missed) are reported and make the exit status 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sndfile.h>

#include <udk/util.h>

#include "transfer.h"
#include "udkctl.h"

#define CHUNK_FRAMES     4096u
#define WAIT_MS          200

struct record {
        const char *path;
        SNDFILE *file;
        uint32_t channels;
        uint64_t written; /* frames in the file */
        float *buf;       /* CHUNK_FRAMES * channels */
        struct udkctl_transfer transfer;
};

/* "wav" or "flac" from --format or the file's extension; NULL when neither says. */
static const char *file_format(const struct udkctl_options *opts, const char *path)
{
        const char *dot = strrchr(path, '.');

        if (opts->format)
                return opts->format;
        if (dot && strchr(dot, '/') == NULL) {
                if (strcasecmp(dot, ".wav") == 0)
                        return "wav";
                if (strcasecmp(dot, ".flac") == 0)
                        return "flac";
        }
        return NULL;
}

/* libsndfile's format for @format holding samples of the device's @sample_format. */
static int sndfile_format(const char *format, const char *sample_format)
{
        bool s16 = strcmp(sample_format, "s16") == 0;

        if (strcmp(format, "flac") == 0)
                return SF_FORMAT_FLAC | (s16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
        if (s16)
                return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
        if (strncmp(sample_format, "s24", 3) == 0)
                return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
        if (strcmp(sample_format, "s32") == 0)
                return SF_FORMAT_WAV | SF_FORMAT_PCM_32;
        return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
}

/* Move what the ring holds into the file.  0, or -EIO with the message printed. */
static int drain(struct record *rec)
{
        uint32_t n;

        while ((n = udk_ring_read(&rec->transfer.ring, rec->buf, CHUNK_FRAMES)) > 0) {
                if (sf_writef_float(rec->file, rec->buf, n) != (sf_count_t)n) {
                        udkctl_error("%s: cannot write: %s", rec->path, sf_strerror(rec->file));
                        return -EIO;
                }
                rec->written += n;
        }
        return 0;
}

/* Empty the ring until the stream took its frames, udkd stopped it, or a signal came. */
static int pump(struct record *rec, struct udk_client_stream *stream)
{
        for (;;) {
                uint32_t seq = udkctl_transfer_wake_seq(&rec->transfer);
                /* done before the ring: once done is seen, the last frame is in it. */
                bool done = atomic_load_explicit(&rec->transfer.done, memory_order_acquire);
                int r;

                r = drain(rec);
                if (r < 0 || done)
                        return r;
                r = udkctl_transfer_check_and_wait(&rec->transfer, stream, seq, "inputs", WAIT_MS);
                if (r < 0)
                        return r;
        }
}

static int record(struct udk_client *client, const struct udkctl_options *opts, struct record *rec,
                  const struct udk_msg_object *dev, const char *format)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *stream = NULL;
        uint32_t device_rate = (uint32_t)udkctl_prop_int(dev, "rate", 0);
        uint32_t rate = opts->rate ? opts->rate : device_rate;
        /* The device's period in frames of the file's rate, rounded up. */
        uint32_t period = device_rate ? (uint32_t)(((uint64_t)udkctl_prop_int(dev, "period", 0) * rate +
                                                    device_rate - 1) / device_rate)
                                      : 0;
        uint64_t limit = (uint64_t)llround(opts->seconds * rate);
        SF_INFO info = { 0 };
        uint64_t lost;
        int r, rd, status = UDKCTL_EXIT_FAILURE;

        rec->channels = (uint32_t)udkctl_prop_int(dev, "input_channels", 0);
        if (rec->channels == 0) {
                udkctl_error("device %s has no inputs", dev->name);
                return UDKCTL_EXIT_FAILURE;
        }
        if (rate == 0 || limit == 0) {
                udkctl_error("%g s at %" PRIu32 " Hz is not a single frame", opts->seconds, rate);
                return UDKCTL_EXIT_FAILURE;
        }

        info.samplerate = (int)rate;
        info.channels = (int)rec->channels;
        info.format = sndfile_format(format, udkctl_prop_string(dev, "format", "f32"));
        rec->file = sf_open(rec->path, SFM_WRITE, &info);
        if (!rec->file) {
                udkctl_error("%s: %s", rec->path, sf_strerror(NULL));
                return UDKCTL_EXIT_FAILURE;
        }
        /* Beyond full scale, integer formats clip rather than wrap around. */
        sf_command(rec->file, SFC_SET_CLIPPING, NULL, SF_TRUE);

        rec->buf = calloc((size_t)CHUNK_FRAMES * rec->channels, sizeof(float));
        r = rec->buf ? udkctl_transfer_init(&rec->transfer, rec->channels, UDK_MAX(rate / 2, 8 * period))
                     : -ENOMEM;
        if (r < 0) {
                udkctl_error("cannot allocate the ring: %s", strerror(-r));
                return UDKCTL_EXIT_FAILURE;
        }
        rec->transfer.limit = limit;

        udk_client_stream_params_defaults(&params);
        params.device = dev->id;
        params.input_channels = rec->channels;
        params.output_channels = 0;
        params.rate = rate;
        params.quality = opts->quality;
        params.link = UDK_LINK_DEVICE;
        params.name = "udkctl-record";
        r = udkctl_transfer_start(client, &params, udkctl_transfer_record_cycle, &rec->transfer, dev->name, &stream);
        if (r != 0)
                return r;
        fprintf(stderr, "Recording %s from %s: %" PRIu32 " channels, %" PRIu32 " Hz, %" PRIu64 " frames\n",
                rec->path, dev->name, rec->channels, rate, limit);

        r = pump(rec, stream);
        udk_client_close(stream);
        /* What came in before the stream closed (after a signal, the ring may still hold some). */
        rd = drain(rec);
        if (r < 0 && r != -EINTR)
                return UDKCTL_EXIT_FAILURE;
        if (rd < 0)
                return UDKCTL_EXIT_FAILURE;

        lost = atomic_load(&rec->transfer.lost);
        printf("recorded %s: %" PRIu64 " frames (%.3f s) from %s from sample time %" PRIu64 "\n", rec->path,
               rec->written, (double)rec->written / rate, dev->name,
               atomic_load(&rec->transfer.first_sample_time));
        if (fflush(stdout) != 0)
                udkctl_error("cannot write: %s", strerror(errno));
        else if (r == -EINTR)
                status = UDKCTL_EXIT_INTERRUPTED;
        else if (lost)
                udkctl_error("lost %" PRIu64 " frames", lost);
        else
                status = UDKCTL_EXIT_OK;
        if (r == -EINTR)
                udkctl_error("interrupted after %" PRIu64 " of %" PRIu64 " frames", rec->written, limit);
        return status;
}

int udkctl_record(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *dev = malloc(UDK_MSG_SIZE_MAX);
        struct record rec = { .path = argv[0] };
        const char *format = file_format(opts, rec.path);
        struct udk_client *client;
        int status = UDKCTL_EXIT_FAILURE;

        if (!format) {
                udkctl_error("cannot tell the format of '%s' from its name: use --format wav|flac",
                             rec.path);
                fputs("Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] "
                      "[--quality Q]\n"
                      "Try 'udkctl --help' for more information.\n",
                      stderr);
                return UDKCTL_EXIT_USAGE;
        }
        if (!dev) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }

        udkctl_transfer_block_signals();
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup_device(client, opts->device, dev) == 0)
                status = record(client, opts, &rec, dev, format);
        udk_client_disconnect(client);

        udkctl_transfer_finish(&rec.transfer);
        free(rec.buf);
        if (rec.file && sf_close(rec.file) != 0 && status == UDKCTL_EXIT_OK) {
                udkctl_error("%s: cannot finish the file", rec.path);
                status = UDKCTL_EXIT_FAILURE;
        }
        /* A failure before the first frame leaves no empty file behind. */
        if (rec.file && status == UDKCTL_EXIT_FAILURE && rec.written == 0)
                unlink(rec.path);
        return status;
}
