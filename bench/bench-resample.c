/* SPDX-License-Identifier: MIT */
/*
 * udk-bench resample: what rate conversion costs and how clean it is, for
 * libsoxr at each of udk_resampler's qualities and, in the same run,
 * libsamplerate's converters (the one JACK's alsa_in/alsa_out use).  Each
 * converter takes a 1 kHz sine at -6 dBFS from 44.1 to 48 kHz in 512-frame
 * blocks; the figure is the thread's CPU time per channel per second of
 * audio (median of the runs), and THD+N is what a least-squares fit of the
 * 1 kHz sine leaves, past the first half second, relative to the sine.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if BENCH_HAVE_SAMPLERATE
#include <samplerate.h>
#endif

#include <udk/log.h>
#include <udk/resampler.h>
#include <udk/util.h>

#include "bench.h"

#define CMD             "resample"
#define IN_RATE         44100u
#define OUT_RATE        48000u
#define CHANNELS        2u
#define BLOCK           512u
#define DEFAULT_SECONDS 10
#define DEFAULT_RUNS    5

struct resample_options {
        int64_t seconds, runs;
        bool json;
};

struct row {
        const char *library, *quality;
        double ns_per_channel_second, thd_n_db;
        bool available;
};

static void resample_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench resample [OPTION]...\n"
                "CPU time and THD+N of sample-rate conversion, 44.1 to 48 kHz of a 1 kHz sine: libsoxr\n"
                "at each quality udk offers, and libsamplerate's converters in the same run.\n"
                "\n"
                "      --seconds S  seconds of audio per run (default %d)\n"
                "      --runs N     runs; the median CPU time is reported (default %d)\n"
                "      --json       print the results as JSON on stdout\n"
                "  -h, --help       print this help and exit\n",
                DEFAULT_SECONDS, DEFAULT_RUNS);
}

enum {
        ARG_SECONDS = BENCH_LONG_OPTION_FIRST,
        ARG_RUNS,
        ARG_JSON,
};

static int resample_parse_options(int argc, char **argv, struct resample_options *o)
{
        static const struct option long_options[] = {
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "runs", required_argument, NULL, ARG_RUNS },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, r;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_SECONDS:
                        r = bench_parse_option_int(CMD, "--seconds", optarg, 3, 3600, &o->seconds);
                        if (r < 0)
                                return r;
                        break;
                case ARG_RUNS:
                        r = bench_parse_option_int(CMD, "--runs", optarg, 1, 100, &o->runs);
                        if (r < 0)
                                return r;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case 'h':
                        resample_usage(stdout);
                        return 1;
                default:
                        return bench_option_error(CMD, c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        return 0;
}

static uint64_t thread_cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* THD+N of the 1 kHz sine in channel 0 of @x (@n frames at OUT_RATE): fitted sine against the rest, dB. */
static double thd_n_db(const float *x, size_t n)
{
        double m[3][4] = { { 0 } }, coef[3], sig = 0, res = 0;
        const double w = 2 * M_PI * 1000.0 / OUT_RATE;

        for (size_t i = 0; i < n; i++) {
                double v[3] = { sin(w * (double)i), cos(w * (double)i), 1.0 }, y = x[i * CHANNELS];
                for (int r = 0; r < 3; r++) {
                        for (int c = 0; c < 3; c++)
                                m[r][c] += v[r] * v[c];
                        m[r][3] += v[r] * y;
                }
        }
        for (int c = 0; c < 3; c++) /* Gauss-Jordan; the matrix is near diagonal, no pivoting needed */
                for (int r = 0; r < 3; r++) {
                        if (r == c)
                                continue;
                        double f = m[r][c] / m[c][c];
                        for (int k = c; k < 4; k++)
                                m[r][k] -= f * m[c][k];
                }
        for (int r = 0; r < 3; r++)
                coef[r] = m[r][3] / m[r][r];
        for (size_t i = 0; i < n; i++) {
                double s = coef[0] * sin(w * (double)i) + coef[1] * cos(w * (double)i);
                double e = x[i * CHANNELS] - s - coef[2];
                sig += s * s;
                res += e * e;
        }
        return 10 * log10(res / sig);
}

/* One converter: a block of up to BLOCK frames in, what it made out.  Returns frames made, < 0 on error. */
typedef long (*convert_fn)(void *state, const float *in, size_t n, float *out, size_t out_max);

static long soxr_convert(void *state, const float *in, size_t n, float *out, size_t out_max)
{
        size_t made = 0, off = 0;

        while (off < n) {
                size_t idone = 0, odone = 0;
                if (udk_resampler_process(state, in + off * CHANNELS, n - off, &idone, out + made * CHANNELS,
                                          out_max - made, &odone) < 0)
                        return -EIO;
                off += idone;
                made += odone;
                if (idone == 0 && odone == 0)
                        break;
        }
        return (long)made;
}

#if BENCH_HAVE_SAMPLERATE
static long src_convert(void *state, const float *in, size_t n, float *out, size_t out_max)
{
        SRC_DATA d = {
                .data_in = in,
                .data_out = out,
                .input_frames = (long)n,
                .output_frames = (long)out_max,
                .src_ratio = (double)OUT_RATE / IN_RATE,
        };
        size_t made = 0;

        while (d.input_frames > 0) {
                if (src_process(state, &d) != 0)
                        return -EIO;
                made += (size_t)d.output_frames_gen;
                d.data_in += d.input_frames_used * CHANNELS;
                d.input_frames -= d.input_frames_used;
                d.data_out += d.output_frames_gen * CHANNELS;
                d.output_frames -= d.output_frames_gen;
                if (d.input_frames_used == 0 && d.output_frames_gen == 0)
                        break;
        }
        return (long)made;
}
#endif

/* One run: all of @in through @fn; the CPU time, and the output into @out (its frames into *@ret_made). */
static int run_once(convert_fn fn, void *state, const float *in, size_t n_in, float *out, size_t out_cap,
                    size_t *ret_made, uint64_t *ret_ns)
{
        size_t made = 0;
        uint64_t t0 = thread_cpu_ns();

        for (size_t off = 0; off < n_in; off += BLOCK) {
                long r = fn(state, in + off * CHANNELS, UDK_MIN((size_t)BLOCK, n_in - off),
                            out + made * CHANNELS, out_cap - made);
                if (r < 0)
                        return (int)r;
                made += (size_t)r;
        }
        *ret_ns = thread_cpu_ns() - t0;
        *ret_made = made;
        return 0;
}

static int measure(struct row *row, const struct resample_options *o, const float *in, size_t n_in,
                   float *out, size_t out_cap, int soxr_quality, int src_type)
{
        double *per = calloc((size_t)o->runs, sizeof(double));
        int r = 0;

        if (!per)
                return -ENOMEM;
        for (int64_t run = 0; run < o->runs && r == 0; run++) {
                void *state = NULL;
                convert_fn fn = NULL;
                size_t made = 0;
                uint64_t ns = 0;
                char err[256];

                if (soxr_quality >= 0) {
                        struct udk_resampler *rs;
                        r = udk_resampler_create(IN_RATE, OUT_RATE, CHANNELS,
                                                 (enum udk_resampler_quality)soxr_quality, 0, &rs, err,
                                                 sizeof(err));
                        if (r < 0) {
                                udk_error("libsoxr: %s", err);
                                break;
                        }
                        state = rs;
                        fn = soxr_convert;
                }
#if BENCH_HAVE_SAMPLERATE
                else {
                        int e = 0;
                        state = src_new(src_type, CHANNELS, &e);
                        if (!state) {
                                udk_error("libsamplerate: %s", src_strerror(e));
                                r = -EINVAL;
                                break;
                        }
                        fn = src_convert;
                }
#endif
                r = run_once(fn, state, in, n_in, out, out_cap, &made, &ns);
                if (soxr_quality >= 0)
                        udk_resampler_destroy(state);
#if BENCH_HAVE_SAMPLERATE
                else
                        src_delete(state);
#endif
                if (r < 0) {
                        udk_error("%s %s failed", row->library, row->quality);
                        break;
                }
                per[run] = (double)ns / CHANNELS / ((double)n_in / IN_RATE);
                if (run == 0) {
                        size_t skip = OUT_RATE / 2;
                        row->thd_n_db =
                                made > skip + OUT_RATE ? thd_n_db(out + skip * CHANNELS, made - skip) : NAN;
                }
        }
        if (r == 0) {
                row->ns_per_channel_second = bench_median(per, (size_t)o->runs);
                row->available = true;
        }
        free(per);
        return r;
}

int bench_resample_main(int argc, char **argv)
{
        struct resample_options o = { DEFAULT_SECONDS, DEFAULT_RUNS, false };
        struct row rows[] = {
                { "libsoxr", "quick" },
                { "libsoxr", "low" },
                { "libsoxr", "medium" },
                { "libsoxr", "high" },
                { "libsoxr", "very-high" },
                { "libsamplerate", "zero-order-hold" },
                { "libsamplerate", "linear" },
                { "libsamplerate", "sinc-fastest" },
                { "libsamplerate", "sinc-medium" },
                { "libsamplerate", "sinc-best" },
        };
        static const int soxr_q[] = { UDK_RESAMPLER_QUICK, UDK_RESAMPLER_LOW, UDK_RESAMPLER_MEDIUM,
                                      UDK_RESAMPLER_HIGH, UDK_RESAMPLER_VERY_HIGH };
#if BENCH_HAVE_SAMPLERATE
        static const int src_t[] = { SRC_ZERO_ORDER_HOLD, SRC_LINEAR, SRC_SINC_FASTEST,
                                     SRC_SINC_MEDIUM_QUALITY, SRC_SINC_BEST_QUALITY };
#endif
        _udk_cleanup_free_ float *in = NULL, *out = NULL;
        struct bench_machine machine;
        size_t n_in, out_cap;
        int r;

        r = resample_parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;

        n_in = (size_t)o.seconds * IN_RATE;
        out_cap = (size_t)((double)n_in * OUT_RATE / IN_RATE) + 4 * BLOCK;
        in = malloc(n_in * CHANNELS * sizeof(float));
        out = calloc(out_cap * CHANNELS, sizeof(float));
        if (!in || !out) {
                udk_error("%s", strerror(ENOMEM));
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n_in; i++)
                for (unsigned c = 0; c < CHANNELS; c++)
                        in[i * CHANNELS + c] = (float)(0.5 * sin(2 * M_PI * 1000.0 * (double)i / IN_RATE));

        for (size_t i = 0; i < UDK_ELEMENTSOF(soxr_q); i++) {
                fprintf(stderr, "udk-bench resample: libsoxr %s\n", rows[i].quality);
                if (measure(&rows[i], &o, in, n_in, out, out_cap, soxr_q[i], 0) < 0)
                        return EXIT_FAILURE;
        }
#if BENCH_HAVE_SAMPLERATE
        for (size_t i = 0; i < UDK_ELEMENTSOF(src_t); i++) {
                struct row *row = &rows[UDK_ELEMENTSOF(soxr_q) + i];
                fprintf(stderr, "udk-bench resample: libsamplerate %s\n", row->quality);
                if (measure(row, &o, in, n_in, out, out_cap, -1, src_t[i]) < 0)
                        return EXIT_FAILURE;
        }
#endif
        bench_machine_get(&machine);

        if (o.json) {
                struct bench_json j;

                bench_json_init(&j, stdout);
                bench_json_begin_object(&j, NULL);
                bench_json_uint(&j, "in_rate", IN_RATE);
                bench_json_uint(&j, "out_rate", OUT_RATE);
                bench_json_uint(&j, "channels", CHANNELS);
                bench_json_uint(&j, "seconds", (uint64_t)o.seconds);
                bench_json_uint(&j, "runs", (uint64_t)o.runs);
                bench_json_string(&j, "cpu", machine.cpu_model);
                bench_json_begin_array(&j, "converters");
                for (size_t i = 0; i < UDK_ELEMENTSOF(rows); i++) {
                        bench_json_begin_object(&j, NULL);
                        bench_json_string(&j, "library", rows[i].library);
                        bench_json_string(&j, "quality", rows[i].quality);
                        bench_json_bool(&j, "available", rows[i].available);
                        if (rows[i].available) {
                                bench_json_number(&j, "cpu_ns_per_channel_second",
                                                  rows[i].ns_per_channel_second, 0);
                                bench_json_number(&j, "thd_n_db", rows[i].thd_n_db, 1);
                        } else {
                                bench_json_null(&j, "cpu_ns_per_channel_second");
                                bench_json_null(&j, "thd_n_db");
                        }
                        bench_json_end_object(&j);
                }
                bench_json_end_array(&j);
                bench_json_end_object(&j);
        } else {
                printf("resample: %u -> %u Hz, 1 kHz sine at -6 dBFS, %u channels, %lld s of audio, %lld "
                       "runs\n",
                       IN_RATE, OUT_RATE, CHANNELS, (long long)o.seconds, (long long)o.runs);
                printf("  %-14s %-16s %14s %10s %10s\n", "library", "quality", "CPU ns/ch/s", "% of 1 CPU",
                       "THD+N dB");
                for (size_t i = 0; i < UDK_ELEMENTSOF(rows); i++) {
                        if (!rows[i].available) {
                                printf("  %-14s %-16s %14s %10s %10s\n", rows[i].library, rows[i].quality,
                                       "(not built)", "", "");
                                continue;
                        }
                        printf("  %-14s %-16s %14.0f %10.4f %10.1f\n", rows[i].library, rows[i].quality,
                               rows[i].ns_per_channel_second, rows[i].ns_per_channel_second / 1e7,
                               rows[i].thd_n_db);
                }
                printf("  CPU time is per channel per second of audio (median of the runs); %% of 1 CPU is\n"
                       "  that per channel.  THD+N: all but the fitted 1 kHz, past the first 0.5 s.\n");
        }
        return EXIT_SUCCESS;
}
