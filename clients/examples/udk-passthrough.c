/* SPDX-License-Identifier: MIT */
/*
 * udk-passthrough: copies its input to its output with a gain.  With
 * --chain its input is the output of the node before it in the device's
 * graph rather than the device's input, which is how effects are put in
 * series.  The gain is the node's own (udkctl set NODE gain VALUE moves
 * it while it runs); the callback only copies.
 *
 * Exit status: 0 done, 1 an error, 2 a usage error.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <udk/client.h>
#include <udk/log.h>

#include "example.h"

#define PROG "udk-passthrough"

/* RT-safe. */
static int passthrough_process(void *data, const struct udk_node_cycle *cycle)
{
        memcpy(cycle->output, cycle->input, sizeof(float) * cycle->frames * cycle->output_channels);
        return 0;
}

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROG " [OPTION]...\n"
                     "Copy a udk device's input to its output with a gain, until Ctrl-C (or for\n"
                     "--seconds).\n"
                     "\n"
                     "  -g, --gain DB          gain, -96..24 dB (default 0)\n"
                     "      --chain            take the input from the node before this one in the\n"
                     "                         device's graph, not from the device\n"
                     "  -d, --device DEVICE    a device's id, UID, name or path (default: the first)\n"
                     "  -s, --seconds S        stop after S seconds\n"
                     "      --socket PATH      udkd's socket (default: $UDK_SOCKET, else\n"
                     "                         $XDG_RUNTIME_DIR/udk/udkd.sock)\n"
                     "  -h, --help             print this help and exit\n"
                     "\n"
                     "Example:  " PROG " --gain -6 --device studio\n"
                     "\n"
                     "Exit status: 0 done, 1 error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "gain", required_argument, NULL, 'g' },
                { "chain", no_argument, NULL, 'C' },
                { "device", required_argument, NULL, 'd' },
                { "seconds", required_argument, NULL, 's' },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *device = NULL, *socket_path = NULL;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        double gain_db = 0.0, seconds = 0.0;
        struct udk_client *c = NULL;
        struct example_device dev;
        bool chain = false;
        int opt, r = 0;

        example_prog = PROG;
        udk_log_set_ident(PROG);
        while ((opt = getopt_long(argc, argv, "g:d:s:h", options, NULL)) != -1) {
                switch (opt) {
                case 'g':
                        r = example_parse_number("--gain", optarg, -96, 24, " dB", &gain_db);
                        break;
                case 'C':
                        chain = true;
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
        udk_client_stream_params_defaults(&params);
        params.device = dev.id;
        /* As many channels out as in: a chain's input is the previous node's output. */
        params.input_channels =
                chain ? dev.output_channels : UDK_MIN(dev.input_channels, dev.output_channels);
        params.output_channels = params.input_channels;
        if (params.input_channels == 0) {
                r = example_fail("device %s has no %s channels", dev.name,
                                 dev.output_channels == 0 ? "output" : "input");
                goto out;
        }
        params.link = chain ? UDK_LINK_CHAIN : UDK_LINK_DEVICE;
        params.gain = (float)pow(10.0, gain_db / 20.0);
        params.name = chain ? "passthrough-chain" : "passthrough";
        if (udk_client_open(c, &params, passthrough_process, NULL, &s) < 0) {
                r = example_fail("%s", udk_client_error(c));
                goto out;
        }
        r = example_run(s, seconds, NULL, NULL);
out:
        udk_client_close(s);
        udk_client_disconnect(c);
        return r;
}
