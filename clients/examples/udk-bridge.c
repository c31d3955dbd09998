/* SPDX-License-Identifier: MIT */
/*
 * udk-bridge: feeds one device's input to another device's output across
 * their two clocks, as alsa_in/alsa_out and zita-ajbridge do.  One stream
 * on each device, each with its own RT thread: the --from device's
 * callback writes its input into a udk_bridge (<udk/bridge.h>) stamped
 * with its cycle's DLL time, the --to device's callback reads from it at a
 * ratio the bridge steers to hold the fill at its target.  The bridge is
 * single-producer/single-consumer: exactly those two threads touch it;
 * the main thread only reads its statistics.
 *
 * Exit status: 0 done, 1 an error, 2 a usage error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <udk/bridge.h>
#include <udk/client.h>
#include <udk/clock.h>
#include <udk/log.h>

#include "example.h"

#define PROG "udk-bridge"

struct bridge_app {
        /* NULL until both streams are open and the bridge is made: the
         * callbacks pass until then. */
        _Atomic(struct udk_bridge *) bridge;
        uint32_t from_rate, to_rate;
        struct udk_client_stream *from, *to;
        double nominal; /* producer frames per consumer frame */
        bool stats;
        uint64_t end, next_stats;
};

/*
 * The two callbacks stamp the same point of their cycles: the period
 * boundary the cycle runs after (cycle->host_time is its period's start,
 * DLL-filtered), when the from device's input of the period is complete
 * and the to device's cycle runs.  The bridge then extrapolates the from
 * count over less than a period, and the drift shows in that phase as well
 * as in the count.
 */

/* RT-safe. */
static int from_process(void *data, const struct udk_node_cycle *cycle)
{
        struct bridge_app *app = data;
        struct udk_bridge *b = atomic_load_explicit(&app->bridge, memory_order_acquire);

        if (b)
                udk_bridge_write(b, cycle->input, cycle->frames,
                                 cycle->host_time +
                                         (uint64_t)cycle->frames * UDK_NSEC_PER_SEC / app->from_rate);
        return 0;
}

/* RT-safe. */
static int to_process(void *data, const struct udk_node_cycle *cycle)
{
        struct bridge_app *app = data;
        struct udk_bridge *b = atomic_load_explicit(&app->bridge, memory_order_acquire);

        if (!b)
                return 0;
        return udk_bridge_read(b, cycle->output, cycle->frames,
                               cycle->host_time + (uint64_t)cycle->frames * UDK_NSEC_PER_SEC / app->to_rate);
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * UDK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void print_stats(struct bridge_app *app)
{
        struct udk_bridge_stats st;

        udk_bridge_stats(atomic_load(&app->bridge), &st);
        printf("ratio %+.2f ppm  fill %.1f frames (target %u)  queued %u  underflows %" PRIu64
               "  overflows %" PRIu64 "  resyncs %" PRIu64 "  %s\n",
               (st.ratio / app->nominal - 1.0) * 1e6, st.fill, st.target_fill, st.queued, st.underflows,
               st.overflows, st.resyncs, st.running ? "running" : "filling");
        fflush(stdout);
}

/* example_run()'s poll, every 10 ms on the main thread: the statistics once a
 * second, the end of --seconds, and the state of the stream it does not watch. */
static int bridge_poll(void *data)
{
        struct bridge_app *app = data;
        enum udk_node_state state = udk_client_stream_state(app->to);
        uint64_t now = now_ns();

        if (state == UDK_NODE_CLOSED)
                return example_fail("udkd closed the --to stream (did udkd stop?)"), -1;
        if (state == UDK_NODE_SUSPENDED)
                return example_fail("udkd suspended the --to stream: it missed its deadline too often"), -1;
        if (app->stats && now >= app->next_stats) {
                print_stats(app);
                app->next_stats += UDK_NSEC_PER_SEC;
        }
        return now >= app->end ? 1 : 0;
}

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROG " --from DEVICE --to DEVICE [OPTION]...\n"
                     "Play one udk device's input on another device's output, across their two\n"
                     "clocks: a FIFO drained through libsoxr at a ratio steered to hold its fill.\n"
                     "\n"
                     "  -f, --from DEVICE      the device whose input is taken (id, UID, name or path)\n"
                     "  -t, --to DEVICE        the device whose output it is played on\n"
                     "  -c, --channels N       channels, 1..32 (default: the fewer of the from device's\n"
                     "                         inputs and the to device's outputs)\n"
                     "  -q, --quality Q        quick, low, medium or high (default high; very-high is\n"
                     "                         not available at a variable ratio)\n"
                     "      --target-fill N    frames of the from device to keep queued, 1..65536\n"
                     "                         (default: a from period + a to period + 64)\n"
                     "  -s, --seconds S        stop after S seconds (default: at Ctrl-C)\n"
                     "      --stats            print the ratio, fill and xruns once a second\n"
                     "      --socket PATH      udkd's socket (default: $UDK_SOCKET, else\n"
                     "                         $XDG_RUNTIME_DIR/udk/udkd.sock)\n"
                     "  -h, --help             print this help and exit\n"
                     "\n"
                     "Example:  " PROG " --from usb-mic --to studio --stats\n"
                     "\n"
                     "Exit status: 0 done, 1 error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "from", required_argument, NULL, 'f' },
                { "to", required_argument, NULL, 't' },
                { "channels", required_argument, NULL, 'c' },
                { "quality", required_argument, NULL, 'q' },
                { "target-fill", required_argument, NULL, 'T' },
                { "seconds", required_argument, NULL, 's' },
                { "stats", no_argument, NULL, 'X' },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *from = NULL, *to = NULL, *socket_path = NULL;
        enum udk_resampler_quality quality = UDK_RESAMPLER_HIGH;
        double channels = 0, target_fill = 0, seconds = 0;
        struct udk_client_stream_params params;
        struct bridge_app app = { .bridge = NULL };
        struct udk_bridge_config bcfg;
        struct example_device fdev, tdev;
        struct udk_bridge *bridge = NULL;
        struct udk_client *c = NULL;
        uint32_t ch;
        char err[256];
        int opt, r = 0;

        example_prog = PROG;
        udk_log_set_ident(PROG);
        while ((opt = getopt_long(argc, argv, "f:t:c:q:s:h", options, NULL)) != -1) {
                switch (opt) {
                case 'f':
                        from = optarg;
                        break;
                case 't':
                        to = optarg;
                        break;
                case 'c':
                        r = example_parse_number("--channels", optarg, 1, UDK_CHANNELS_MAX, "", &channels);
                        if (r == 0 && channels != (uint32_t)channels)
                                r = example_usage_error("--channels %s is not a whole number", optarg);
                        break;
                case 'q':
                        if (udk_resampler_quality_from_name(optarg, &quality) < 0 ||
                            quality == UDK_RESAMPLER_VERY_HIGH || quality == UDK_RESAMPLER_QUALITY_DEFAULT)
                                r = example_usage_error("--quality '%s': quick, low, medium or high",
                                                        optarg);
                        break;
                case 'T':
                        r = example_parse_number("--target-fill", optarg, 1, 65536, " frames", &target_fill);
                        if (r == 0 && target_fill != (uint32_t)target_fill)
                                r = example_usage_error("--target-fill %s is not a whole number", optarg);
                        break;
                case 's':
                        r = example_parse_number("--seconds", optarg, 0.001, 31536000, " s", &seconds);
                        break;
                case 'X':
                        app.stats = true;
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
        if (!from || !to)
                return example_usage_error("%s is required", from ? "--to DEVICE" : "--from DEVICE");

        example_block_signals();
        if (udk_client_connect(PROG, socket_path, &c) < 0)
                return example_fail("%s", udk_client_error(NULL));
        r = example_find_device(c, from, &fdev);
        if (r == 0)
                r = example_find_device(c, to, &tdev);
        if (r != 0)
                goto out;
        if (fdev.id == tdev.id) {
                r = example_fail("--from and --to are the same device (%s): nothing to bridge", fdev.name);
                goto out;
        }
        ch = channels > 0 ? (uint32_t)channels : UDK_MIN(fdev.input_channels, tdev.output_channels);
        if (fdev.input_channels == 0 || tdev.output_channels == 0) {
                r = fdev.input_channels == 0 ? example_fail("device %s has no input channels", fdev.name)
                                             : example_fail("device %s has no output channels", tdev.name);
                goto out;
        }
        if (ch > fdev.input_channels || ch > tdev.output_channels) {
                r = ch > fdev.input_channels
                            ? example_fail("--channels %u: device %s has %u input channels", ch, fdev.name,
                                           fdev.input_channels)
                            : example_fail("--channels %u: device %s has %u output channels", ch, tdev.name,
                                           tdev.output_channels);
                goto out;
        }

        udk_client_stream_params_defaults(&params);
        params.device = fdev.id;
        params.input_channels = ch;
        params.output_channels = 0;
        params.name = "bridge-in";
        app.from_rate = fdev.rate;
        app.to_rate = tdev.rate;
        if (udk_client_open(c, &params, from_process, &app, &app.from) < 0) {
                r = example_fail("%s: %s", fdev.name, udk_client_error(c));
                goto out;
        }
        params.device = tdev.id;
        params.input_channels = 0;
        params.output_channels = ch;
        params.name = "bridge-out";
        if (udk_client_open(c, &params, to_process, &app, &app.to) < 0) {
                r = example_fail("%s: %s", tdev.name, udk_client_error(c));
                goto out;
        }

        bcfg = (struct udk_bridge_config){
                .producer_rate = fdev.rate,
                .consumer_rate = tdev.rate,
                .channels = ch,
                .producer_period = udk_client_stream_period(app.from),
                .consumer_period = udk_client_stream_period(app.to),
                .target_fill = (uint32_t)target_fill,
                .quality = quality,
        };
        if (udk_bridge_create(&bcfg, &bridge, err, sizeof(err)) < 0) {
                r = example_fail("%s", err);
                goto out;
        }
        app.nominal = (double)fdev.rate / tdev.rate;
        atomic_store_explicit(&app.bridge, bridge, memory_order_release);
        fprintf(stderr, PROG ": %s (%u Hz, %u frames) -> %s (%u Hz, %u frames), %u channels, %s quality\n",
                fdev.name, fdev.rate, bcfg.producer_period, tdev.name, tdev.rate, bcfg.consumer_period, ch,
                udk_resampler_quality_name(quality));

        app.next_stats = now_ns() + UDK_NSEC_PER_SEC;
        app.end = seconds > 0 ? now_ns() + (uint64_t)(seconds * 1e9) : UINT64_MAX;
        r = example_run(app.from, 0, bridge_poll, &app);
        if (r == 0 && app.stats)
                print_stats(&app);
out:
        /* The streams first: their RT threads use the bridge until then. */
        udk_client_close(app.from);
        udk_client_close(app.to);
        udk_bridge_destroy(bridge);
        udk_client_disconnect(c);
        return r;
}
