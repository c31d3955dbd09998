/* SPDX-License-Identifier: MIT */
/*
 * udk-tone: a sine generator, the smallest useful udk client.  It joins a
 * device's graph with output channels only and fills them from its
 * process callback, on its own real-time thread.
 *
 * Exit status: 0 done, 1 an error (udkd not running, no such device, ...),
 * 2 a usage error.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>

#include <udk/client.h>
#include <udk/log.h>

#include "example.h"

#define PROG "udk-tone"

struct tone {
        double phase;     /* radians */
        double increment; /* radians per frame */
        float amplitude;
};

/* RT-safe: sin() neither allocates nor locks. */
static int tone_process(void *data, const struct udk_node_cycle *cycle)
{
        struct tone *t = data;

        for (uint32_t f = 0; f < cycle->frames; f++) {
                float x = t->amplitude * (float)sin(t->phase);
                for (uint32_t ch = 0; ch < cycle->output_channels; ch++)
                        cycle->output[(size_t)f * cycle->output_channels + ch] = x;
                t->phase += t->increment;
                if (t->phase >= 2.0 * M_PI)
                        t->phase -= 2.0 * M_PI;
        }
        return 0;
}

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROG " [OPTION]...\n"
                     "Play a sine tone into a udk device until Ctrl-C (or for --seconds).\n"
                     "\n"
                     "  -f, --frequency HZ     frequency, 1..20000 Hz (default 440)\n"
                     "  -l, --level DB         level, -96..0 dBFS (default -12)\n"
                     "  -c, --channels N       output channels, 1..32 (default: the device's)\n"
                     "  -d, --device DEVICE    a device's id, UID, name or path (default: the first)\n"
                     "  -s, --seconds S        stop after S seconds\n"
                     "      --socket PATH      udkd's socket (default: $UDK_SOCKET, else\n"
                     "                         $XDG_RUNTIME_DIR/udk/udkd.sock)\n"
                     "  -h, --help             print this help and exit\n"
                     "\n"
                     "Example:  " PROG " --frequency 1000 --level -20 --seconds 5\n"
                     "\n"
                     "Exit status: 0 done, 1 error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "frequency", required_argument, NULL, 'f' },
                { "level", required_argument, NULL, 'l' },
                { "channels", required_argument, NULL, 'c' },
                { "device", required_argument, NULL, 'd' },
                { "seconds", required_argument, NULL, 's' },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        double frequency = 440.0, level = -12.0, channels = 0.0, seconds = 0.0;
        const char *device = NULL, *socket_path = NULL;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        struct udk_client *c = NULL;
        struct example_device dev;
        struct tone tone = {};
        int opt, r = 0;

        example_prog = PROG;
        udk_log_set_ident(PROG);
        while ((opt = getopt_long(argc, argv, "f:l:c:d:s:h", options, NULL)) != -1) {
                switch (opt) {
                case 'f':
                        r = example_parse_number("--frequency", optarg, 1, 20000, " Hz", &frequency);
                        break;
                case 'l':
                        r = example_parse_number("--level", optarg, -96, 0, " dB", &level);
                        break;
                case 'c':
                        r = example_parse_number("--channels", optarg, 1, UDK_CHANNELS_MAX, "", &channels);
                        if (r == 0 && channels != floor(channels))
                                r = example_usage_error("--channels '%s' is not a whole number", optarg);
                        break;
                case 'd':
                        device = optarg;
                        break;
                case 's':
                        r = example_parse_number("--seconds", optarg, 0.001, 31536000, " s", &seconds);
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
        if (optind < argc)
                return example_usage_error("unexpected argument '%s'", argv[optind]);

        example_block_signals();
        if (udk_client_connect(PROG, socket_path, &c) < 0)
                return example_fail("%s", udk_client_error(NULL));
        r = example_find_device(c, device, &dev);
        if (r != 0)
                goto out;
        if (dev.output_channels == 0) {
                r = example_fail("device %s has no output channels", dev.name);
                goto out;
        }

        udk_client_stream_params_defaults(&params);
        params.device = dev.id;
        params.input_channels = 0;
        params.output_channels = channels > 0 ? (uint32_t)channels : dev.output_channels;
        params.name = "tone";
        tone.amplitude = (float)pow(10.0, level / 20.0);
        tone.increment = 2.0 * M_PI * frequency / (double)dev.rate;
        if (udk_client_open(c, &params, tone_process, &tone, &s) < 0) {
                r = example_fail("%s", udk_client_error(c));
                goto out;
        }
        r = example_run(s, seconds, NULL, NULL);
out:
        udk_client_close(s);
        udk_client_disconnect(c);
        return r;
}
