/* SPDX-License-Identifier: MIT */
/*
 * udk-bench latency: a device's round trip through a loopback (the virtual
 * backend's `source = loopback`, or a cable from an output to an input),
 * measured by the phases of several tones (bench-mtdm.h) and set against
 * the latency the device reports.
 *
 * A libudk stream with one input and one output channel: its process
 * callback plays the tones on output 1 and copies input 1 into a buffer
 * allocated and touched before the callback is armed.  The main thread
 * waits until the buffer is full, closes the stream and analyses it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <udk/client.h>
#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-mtdm.h"
#include "bench.h"

#define CMD                "latency"
#define DEFAULT_SECONDS    2.0
#define SECONDS_MIN        0.1
#define SECONDS_MAX        3600.0
#define RUNNING_TIMEOUT_MS 5000
#define EXTRA_TIMEOUT_S    10.0 /* beyond --seconds, before a capture that does not fill gives up */

struct latency_options {
        const char *device;
        const char *socket;
        double seconds;
        bool json;
};

/*
 * Shared by the main thread and the stream's RT thread.  The main thread
 * fills in mtdm, frames and capacity, then raises armed (release); the RT
 * thread reads them after it saw armed (acquire).  The RT thread publishes
 * start and the frames with recorded (release); the main thread reads them
 * after its acquire load of recorded, or after the stream was closed.
 */
struct latency_capture {
        const struct bench_mtdm *mtdm;
        float *frames;
        uint64_t capacity;
        _Atomic bool armed;
        _Atomic uint64_t recorded; /* frames from start on that are in frames[] */
        _Atomic uint64_t missed;   /* cycles that never reached the callback while it recorded */
        struct {
                bool started;
                uint64_t start; /* the first armed cycle's sample time */
                uint64_t next;  /* the sample time the next cycle should have */
        } rt;                   /* only accessed from the RT thread until it is closed */
};

/* RT-safe: table lookups and copies into memory touched beforehand. */
static int latency_process(void *data, const struct udk_node_cycle *cycle)
{
        struct latency_capture *cap = data;
        uint64_t t = cycle->sample_time, at;
        uint32_t n;

        if (!atomic_load_explicit(&cap->armed, memory_order_acquire))
                return 0;
        if (!cap->rt.started) {
                cap->rt.started = true;
                cap->rt.start = cap->rt.next = t;
        }
        bench_mtdm_generate(cap->mtdm, t, cycle->output, cycle->frames, cycle->output_channels);
        /* Sample times only go up: one before the start wraps past the capacity too. */
        at = t - cap->rt.start;
        if (at >= cap->capacity)
                return 0;
        /* The cycles between the last one and this one never came. */
        if (t > cap->rt.next)
                atomic_fetch_add_explicit(&cap->missed,
                                          (t - cap->rt.next + cycle->frames - 1) / cycle->frames,
                                          memory_order_relaxed);
        cap->rt.next = t + cycle->frames;
        n = (uint32_t)UDK_MIN((uint64_t)cycle->frames, cap->capacity - at);
        for (uint32_t i = 0; i < n; i++)
                cap->frames[at + i] = cycle->input[(size_t)i * cycle->input_channels];
        /* The frames and start before the count that says they are there. */
        atomic_store_explicit(&cap->recorded, at + n, memory_order_release);
        return 0;
}

/* --- options --- */

static void latency_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench latency DEVICE [OPTION]...\n"
                "Measure DEVICE's round trip from output 1 back to input 1 through a loopback (a\n"
                "virtual device with source = loopback, or a cable) by the phases of %d tones, as\n"
                "jack_iodelay does, and set it against the latency the device reports.  DEVICE is an\n"
                "id, UID, name or path.\n"
                "\n"
                "      --seconds S   record S seconds of the returned tones (%g..%g, default %g)\n"
                "      --json        print the results as JSON on stdout\n"
                "      --socket PATH udkd's socket (default: $UDK_SOCKET, else\n"
                "                    $XDG_RUNTIME_DIR/udk/udkd.sock)\n"
                "  -h, --help        print this help and exit\n"
                "\n"
                "The tones span about 170 ms (8192 frames at 48 kHz): a longer round trip is measured\n"
                "modulo that.  The first 170 ms of the recording are left out.\n",
                BENCH_MTDM_TONES, SECONDS_MIN, SECONDS_MAX, DEFAULT_SECONDS);
}

enum {
        ARG_SECONDS = BENCH_LONG_OPTION_FIRST,
        ARG_JSON,
        ARG_SOCKET,
};

/* 1 to exit 0 at once (--help printed), 0 to go on, -EINVAL for a usage error (said on stderr). */
static int latency_parse_options(int argc, char **argv, struct latency_options *o)
{
        static const struct option long_options[] = {
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "json", no_argument, NULL, ARG_JSON },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_SECONDS:
                        if (udk_parse_double(optarg, SECONDS_MIN, SECONDS_MAX, &o->seconds) < 0)
                                return bench_usage_error(CMD,
                                                         "--seconds '%s': not a number of seconds (%g..%g)",
                                                         optarg, SECONDS_MIN, SECONDS_MAX);
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case ARG_SOCKET:
                        o->socket = optarg;
                        break;
                case 'h':
                        latency_usage(stdout);
                        return 1;
                default:
                        return bench_option_error(CMD, c, argv);
                }
        }
        if (optind == argc)
                return bench_usage_error(CMD, "no DEVICE to measure");
        if (optind + 1 < argc)
                return bench_usage_error(CMD, "unexpected argument '%s'", argv[optind + 1]);
        o->device = argv[optind];
        return 0;
}

/* --- the report --- */

static double frames_ms(const struct bench_latency_report *rep, double frames)
{
        return frames * 1000.0 / rep->rate;
}

/* @v, or 0 when it would print as "-0.000" with @decimals digits. */
static double tidy(double v, int decimals)
{
        return fabs(v) < 0.5 * pow(10.0, -decimals) ? 0.0 : v;
}

void bench_latency_print_table(const struct bench_latency_report *rep, FILE *out)
{
        const struct bench_mtdm_result *res = &rep->result;
        uint32_t reported = rep->input_latency + rep->output_latency;

        fprintf(out, "udk-bench latency: device %s, %u Hz, %u frames a cycle\n", rep->device, rep->rate,
                rep->period);
        fprintf(out,
                "%d tones, %.1f Hz down to %.1f Hz: range %u frames (%.3f ms); %" PRIu64
                " frames analysed\n",
                BENCH_MTDM_TONES, res->tones[0].frequency, res->tones[BENCH_MTDM_TONES - 1].frequency,
                rep->range, frames_ms(rep, rep->range), res->frames);
        fprintf(out, "\n                  frames          ms\n");
        fprintf(out, "  measured    %10.3f  %10.3f\n", tidy(res->delay, 3),
                tidy(frames_ms(rep, res->delay), 3));
        fprintf(out, "  reported    %10u  %10.3f   input %u + output %u\n", reported,
                frames_ms(rep, reported), rep->input_latency, rep->output_latency);
        fprintf(out, "  difference  %10.3f  %10.3f   measured - reported\n", tidy(res->delay - reported, 3),
                tidy(frames_ms(rep, res->delay - reported), 3));
        fprintf(out, "\npolarity: %s\n",
                res->inverted ? "inverted (the signal came back upside down)" : "normal");
        if (rep->missed_cycles)
                fprintf(out, "%" PRIu64 " cycles missed while recording: the result may be off\n",
                        rep->missed_cycles);
        fprintf(out, "\n  tone        Hz  period  level dB  phase deg  delay frames\n");
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                const struct bench_mtdm_tone *t = &res->tones[k];
                fprintf(out, "  %4u  %8.1f  %6u  %8.2f  %9.1f  %12.3f\n", k + 1, t->frequency, t->period,
                        tidy(t->level_db, 2), t->phase_deg, tidy(t->delay, 3));
        }
}

void bench_latency_print_json(const struct bench_latency_report *rep, FILE *out)
{
        const struct bench_mtdm_result *res = &rep->result;
        uint32_t reported = rep->input_latency + rep->output_latency;
        struct bench_json j;

        bench_json_init(&j, out);
        bench_json_begin_object(&j, NULL);
        bench_json_string(&j, "device", rep->device);
        bench_json_uint(&j, "rate", rep->rate);
        bench_json_number(&j, "measured_frames", tidy(res->delay, 3), 3);
        bench_json_uint(&j, "reported_frames", reported);
        bench_json_number(&j, "difference_frames", tidy(res->delay - reported, 3), 3);
        bench_json_number(&j, "measured_ms", tidy(frames_ms(rep, res->delay), 3), 3);
        bench_json_bool(&j, "inverted", res->inverted);
        bench_json_begin_array(&j, "tones");
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                const struct bench_mtdm_tone *t = &res->tones[k];
                bench_json_begin_object(&j, NULL);
                bench_json_number(&j, "frequency_hz", t->frequency, 3);
                bench_json_uint(&j, "period_frames", t->period);
                bench_json_number(&j, "level_db", tidy(t->level_db, 2), 2);
                bench_json_number(&j, "phase_deg", t->phase_deg, 3);
                bench_json_number(&j, "delay_frames", tidy(t->delay, 3), 3);
                bench_json_end_object(&j);
        }
        bench_json_end_array(&j);
        bench_json_number(&j, "reported_ms", frames_ms(rep, reported), 3);
        bench_json_uint(&j, "input_latency_frames", rep->input_latency);
        bench_json_uint(&j, "output_latency_frames", rep->output_latency);
        bench_json_uint(&j, "period", rep->period);
        bench_json_uint(&j, "range_frames", rep->range);
        bench_json_uint(&j, "analysed_frames", res->frames);
        bench_json_uint(&j, "missed_cycles", rep->missed_cycles);
        bench_json_end_object(&j);
}

/* --- the run --- */

struct latency_run {
        struct udk_client *client;
        struct udk_client_stream *stream;
        struct bench_mtdm *mtdm;
        struct latency_capture cap;
};

static void latency_cleanup(struct latency_run *run)
{
        udk_client_close(run->stream);
        run->stream = NULL;
        run->client = udk_client_disconnect(run->client);
        run->mtdm = bench_mtdm_destroy(run->mtdm);
        free(run->cap.frames);
        run->cap.frames = NULL;
}

/* Connect and find the device: its id and name. */
static int find_device(struct latency_run *run, const struct latency_options *o, udk_object_id *ret_id,
                       struct bench_latency_report *rep)
{
        _udk_cleanup_free_ struct udk_msg_object *obj = calloc(1, UDK_MSG_SIZE_MAX);
        int r;

        if (!obj)
                return -ENOMEM;
        r = udk_client_connect("udk-bench", o->socket, &run->client);
        if (r < 0) {
                udk_error("%s", udk_client_error(NULL));
                return r;
        }
        r = udk_client_find(run->client, o->device, ret_id);
        if (r == 0)
                r = udk_client_info(run->client, *ret_id, obj);
        if (r < 0) {
                udk_error("%s", udk_client_error(run->client));
                return r;
        }
        if (strcmp(obj->klass, "device") != 0) {
                udk_error("%s is a %s, not a device", o->device, obj->klass);
                return -EINVAL;
        }
        udk_strlcpy(rep->device, obj->name, sizeof(rep->device));
        return 0;
}

static int open_stream(struct latency_run *run, udk_object_id device, struct bench_latency_report *rep)
{
        struct udk_client_stream_params params;
        int r;

        udk_client_stream_params_defaults(&params);
        params.device = device;
        params.input_channels = 1;
        params.output_channels = 1;
        params.name = "udk-bench-latency";
        r = udk_client_open(run->client, &params, latency_process, &run->cap, &run->stream);
        if (r < 0) {
                udk_error("cannot open a stream on %s: %s", rep->device, udk_client_error(run->client));
                return r;
        }
        r = udk_client_stream_wait_running(run->stream, RUNNING_TIMEOUT_MS);
        if (r < 0) {
                udk_error("the stream on %s did not start within %d ms", rep->device, RUNNING_TIMEOUT_MS);
                return r;
        }
        rep->rate = udk_client_stream_rate(run->stream);
        rep->period = udk_client_stream_period(run->stream);
        rep->input_latency = udk_client_stream_latency(run->stream, UDK_DIRECTION_INPUT);
        rep->output_latency = udk_client_stream_latency(run->stream, UDK_DIRECTION_OUTPUT);
        return 0;
}

/* The tones and a buffer of @seconds, touched here so the RT thread never faults it in. */
static int prepare(struct latency_run *run, double seconds, struct bench_latency_report *rep)
{
        struct latency_capture *cap = &run->cap;
        uint64_t reported = (uint64_t)rep->input_latency + rep->output_latency;
        int r;

        r = bench_mtdm_create(rep->rate, &run->mtdm);
        if (r < 0) {
                udk_error("cannot make the tones for %u Hz: %s", rep->rate, strerror(-r));
                return r;
        }
        rep->period0 = run->mtdm->period0;
        rep->range = run->mtdm->range;
        cap->mtdm = run->mtdm;
        cap->capacity = (uint64_t)llround(seconds * rep->rate);
        /* The first range is left out (the tones are on their way back); one more is the least to analyse.
         */
        if (cap->capacity < 2u * (uint64_t)rep->range) {
                udk_error("--seconds %g is too short: at %u Hz the measurement needs at least %.3f s",
                          seconds, rep->rate, 2.0 * rep->range / rep->rate);
                return -EINVAL;
        }
        if (reported + rep->period0 >= rep->range)
                udk_warn("%s reports a round trip of %" PRIu64 " frames, past the %u frames this measures: "
                         "the result is modulo that",
                         rep->device, reported, rep->range);
        cap->frames = malloc(cap->capacity * sizeof(float));
        if (!cap->frames)
                return -ENOMEM;
        memset(cap->frames, 0, cap->capacity * sizeof(float));
        return 0;
}

static int record(struct latency_run *run, double seconds, const struct bench_latency_report *rep)
{
        struct latency_capture *cap = &run->cap;
        uint64_t deadline = udk_time_now() + (uint64_t)((seconds + EXTRA_TIMEOUT_S) * 1e9);
        struct timespec tick = { .tv_nsec = 10000000 };

        udk_info(CMD ": playing %d tones on %s and recording %g s", BENCH_MTDM_TONES, rep->device, seconds);
        atomic_store_explicit(&cap->armed, true, memory_order_release);
        while (atomic_load_explicit(&cap->recorded, memory_order_acquire) < cap->capacity) {
                enum udk_node_state state = udk_client_stream_state(run->stream);

                if (state == UDK_NODE_SUSPENDED || state == UDK_NODE_CLOSED) {
                        udk_error("udkd %s the stream on %s",
                                  state == UDK_NODE_SUSPENDED ? "suspended" : "closed", rep->device);
                        return -EPIPE;
                }
                if (udk_time_now() >= deadline) {
                        udk_error("recorded %" PRIu64 " of %" PRIu64 " frames in %g s: the stream stalled",
                                  atomic_load(&cap->recorded), cap->capacity, seconds + EXTRA_TIMEOUT_S);
                        return -ETIMEDOUT;
                }
                nanosleep(&tick, NULL);
        }
        /* Closed, the RT thread is gone: what it wrote is ours. */
        udk_client_close(run->stream);
        run->stream = NULL;
        return 0;
}

static int analyse(struct latency_run *run, struct bench_latency_report *rep)
{
        const struct latency_capture *cap = &run->cap;
        struct bench_mtdm_result *res = &rep->result;
        int r;

        rep->missed_cycles = atomic_load(&cap->missed);
        if (rep->missed_cycles)
                udk_warn("%" PRIu64
                         " cycles did not reach udk-bench while it recorded: the result may be off",
                         rep->missed_cycles);
        r = bench_mtdm_analyse(run->mtdm, cap->rt.start + rep->range, cap->frames + rep->range,
                               cap->capacity - rep->range, res);
        if (r < 0) {
                udk_error("cannot analyse the recording: %s", strerror(-r));
                return r;
        }
        switch (res->status) {
        case BENCH_MTDM_OK:
                return 0;
        case BENCH_MTDM_NO_SIGNAL:
                udk_error("no signal: the weakest tone came back at %.1f dB of what was sent (at least %.0f "
                          "dB "
                          "needed): is output 1 of %s looped back to its input 1?",
                          res->min_level_db, BENCH_MTDM_LEVEL_MIN_DB, rep->device);
                return -ENODATA;
        case BENCH_MTDM_PHASES_DISAGREE:
                udk_error("the tones' phases disagree (by up to %.2f of a period, at most %.2f allowed): "
                          "input 1 "
                          "of %s is not a clean loopback of its output 1",
                          res->max_step, BENCH_MTDM_STEP_MAX, rep->device);
                return -EBADMSG;
        }
        return -EINVAL;
}

int bench_latency_main(int argc, char **argv)
{
        static struct bench_latency_report rep;
        struct latency_options o = { .seconds = DEFAULT_SECONDS };
        static struct latency_run run;
        udk_object_id device;
        int r;

        r = latency_parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;
        memset(&rep, 0, sizeof(rep));
        memset(&run, 0, sizeof(run));
        r = find_device(&run, &o, &device, &rep);
        if (r == 0)
                r = open_stream(&run, device, &rep);
        if (r == 0)
                r = prepare(&run, o.seconds, &rep);
        if (r == 0)
                r = record(&run, o.seconds, &rep);
        if (r == 0)
                r = analyse(&run, &rep);
        latency_cleanup(&run);
        if (r < 0)
                return EXIT_FAILURE;
        if (o.json)
                bench_latency_print_json(&rep, stdout);
        else
                bench_latency_print_table(&rep, stdout);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
