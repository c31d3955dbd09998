/* SPDX-License-Identifier: MIT */
/*
 * udk-record: records a udk device's input to a WAV (32-bit float) or
 * FLAC (24-bit) file through libsndfile.  The process callback only
 * copies each cycle's input into a lock-free ring; the main thread empties
 * the ring into the file.
 *
 * Exit status: 0 done, 1 an error (frames lost included), 2 a usage error.
 */
#include <getopt.h>
#include <math.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <udk/client.h>
#include <udk/log.h>
#include <udk/ring.h>

#include "example.h"

#define PROG         "udk-record"
#define RING_SECONDS 4 /* of audio the ring holds while the disk is slow */
#define CHUNK_FRAMES 4096

struct recorder {
        struct udk_ring producer, consumer; /* two views of one ring */
        void *ring_mem;
        _Atomic uint64_t lost; /* frames the ring had no room for */
        uint64_t lost_in_file; /* of those, the ones before the target was reached */
        SNDFILE *file;
        const char *path;
        float *chunk;
        uint64_t target; /* frames to write, 0: until stopped */
        uint64_t written;
};

/* RT-safe: one copy into the ring. */
static int record_process(void *data, const struct udk_node_cycle *cycle)
{
        struct recorder *rec = data;
        uint32_t n = udk_ring_write(&rec->producer, cycle->input, cycle->frames);

        if (n < cycle->frames)
                atomic_fetch_add_explicit(&rec->lost, cycle->frames - n, memory_order_relaxed);
        return 0;
}

/* Empty the ring into the file: 0 go on, 1 the target is reached, -1 a write failed. */
static int record_pump(void *data)
{
        struct recorder *rec = data;
        uint32_t n;

        while ((n = udk_ring_read(&rec->consumer, rec->chunk, CHUNK_FRAMES)) > 0) {
                if (rec->target && rec->written + n > rec->target)
                        n = (uint32_t)(rec->target - rec->written);
                if (sf_writef_float(rec->file, rec->chunk, n) != (sf_count_t)n) {
                        example_fail("cannot write %s: %s", rec->path, sf_strerror(rec->file));
                        return -1;
                }
                rec->written += n;
                rec->lost_in_file = atomic_load_explicit(&rec->lost, memory_order_relaxed);
                if (rec->target && rec->written >= rec->target)
                        return 1;
        }
        return 0;
}

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROG " [OPTION]... FILE\n"
                     "Record a udk device's input to FILE, a WAV (32-bit float) or FLAC (24-bit)\n"
                     "file chosen by its name, until Ctrl-C (or for --seconds).\n"
                     "\n"
                     "  -s, --seconds S        record S seconds, exactly\n"
                     "  -d, --device DEVICE    a device's id, UID, name or path (default: the first)\n"
                     "      --socket PATH      udkd's socket (default: $UDK_SOCKET, else\n"
                     "                         $XDG_RUNTIME_DIR/udk/udkd.sock)\n"
                     "  -h, --help             print this help and exit\n"
                     "\n"
                     "Example:  " PROG " take1.flac --seconds 10 --device studio\n"
                     "\n"
                     "Exit status: 0 done, 1 error (frames lost included), 2 usage error.\n");
}

/* The file's format from its name; 0 when it is neither .wav nor .flac. */
static int file_format(const char *path)
{
        const char *dot = strrchr(path, '.');

        if (dot && strcasecmp(dot, ".wav") == 0)
                return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        if (dot && strcasecmp(dot, ".flac") == 0)
                return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
        return 0;
}

static int recorder_init(struct recorder *rec, const struct example_device *dev, int format, double seconds)
{
        uint32_t frame_size = (uint32_t)(sizeof(float) * dev->input_channels);
        uint32_t capacity = dev->rate * RING_SECONDS;
        size_t size = udk_ring_memory_size(capacity, frame_size);
        SF_INFO info = { .samplerate = (int)dev->rate,
                         .channels = (int)dev->input_channels,
                         .format = format };

        rec->ring_mem = aligned_alloc(64, UDK_ALIGN_UP(size, 64));
        rec->chunk = calloc(CHUNK_FRAMES, frame_size);
        if (!rec->ring_mem || !rec->chunk)
                return example_fail("out of memory");
        if (udk_ring_init(&rec->producer, rec->ring_mem, size, capacity, frame_size) < 0 ||
            udk_ring_attach(&rec->consumer, rec->ring_mem, size, capacity, frame_size) < 0)
                return example_fail("cannot set up the ring");
        rec->target = seconds > 0 ? (uint64_t)llround(seconds * dev->rate) : 0;
        rec->file = sf_open(rec->path, SFM_WRITE, &info);
        if (!rec->file)
                return example_fail("cannot write %s: %s", rec->path, sf_strerror(NULL));
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "seconds", required_argument, NULL, 's' },
                { "device", required_argument, NULL, 'd' },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *device = NULL, *socket_path = NULL;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        static struct recorder rec;
        struct udk_client *c = NULL;
        struct example_device dev;
        double seconds = 0.0;
        int format, opt, r = 0;
        uint64_t lost;

        example_prog = PROG;
        udk_log_set_ident(PROG);
        while ((opt = getopt_long(argc, argv, "s:d:h", options, NULL)) != -1) {
                switch (opt) {
                case 's':
                        r = example_parse_number("--seconds", optarg, 0.001, 86400, " s", &seconds);
                        break;
                case 'd':
                        device = optarg;
                        break;
                case 'S':
                        socket_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        fprintf(stderr, "Try '" PROG " --help'.\n");
                        return EXAMPLE_EXIT_USAGE;
                }
                if (r != 0)
                        return r;
        }
        if (optind == argc)
                return example_usage_error("no FILE to record to");
        if (optind + 1 < argc)
                return example_usage_error("unexpected argument '%s'", argv[optind + 1]);
        rec.path = argv[optind];
        format = file_format(rec.path);
        if (format == 0)
                return example_usage_error("%s: the name must end in .wav or .flac", rec.path);

        example_block_signals();
        if (udk_client_connect(PROG, socket_path, &c) < 0)
                return example_fail("%s", udk_client_error(NULL));
        r = example_find_device(c, device, &dev);
        if (r != 0)
                goto out;
        if (dev.input_channels == 0) {
                r = example_fail("device %s has no input channels", dev.name);
                goto out;
        }
        r = recorder_init(&rec, &dev, format, seconds);
        if (r != 0)
                goto out;

        udk_client_stream_params_defaults(&params);
        params.device = dev.id;
        params.input_channels = dev.input_channels;
        params.output_channels = 0;
        params.name = "record";
        if (udk_client_open(c, &params, record_process, &rec, &s) < 0) {
                r = example_fail("%s", udk_client_error(c));
                goto out;
        }
        r = example_run(s, 0, record_pump, &rec);
        udk_client_close(s);
        s = NULL;
        /* What the last cycles left in the ring. */
        if (r == 0 && (!rec.target || rec.written < rec.target) && record_pump(&rec) < 0)
                r = 1;
        lost = rec.target && rec.written >= rec.target ? rec.lost_in_file : atomic_load(&rec.lost);
        if (r == 0 && lost > 0)
                r = example_fail("lost %llu frames: %s could not be written fast enough",
                                 (unsigned long long)lost, rec.path);
        if (r == 0)
                printf("%s: %llu frames (%.3f s) of %u channels at %u Hz\n", rec.path,
                       (unsigned long long)rec.written, (double)rec.written / dev.rate, dev.input_channels,
                       dev.rate);
out:
        udk_client_close(s);
        udk_client_disconnect(c);
        if (rec.file && sf_close(rec.file) != 0 && r == 0)
                r = example_fail("cannot finish %s", rec.path);
        free(rec.ring_mem);
        free(rec.chunk);
        return r;
}
