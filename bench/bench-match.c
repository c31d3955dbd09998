/* SPDX-License-Identifier: MIT */
/*
 * udk-bench match: how long udkd takes to pick a driver for a nub, matching
 * generated nubs against generated personalities of every tier (the parse
 * is not timed).  The figure is the median over the runs of the mean time
 * per nub.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <udk/log.h>
#include <udk/util.h>

#include "bench.h"
#include "match.h"

#define CMD                   "match"
#define DEFAULT_NUBS          10000
#define DEFAULT_PERSONALITIES 1000
#define DEFAULT_RUNS          5
#define NUB_KEYS              8
#define VALUE_MAX             40
#define VENDORS               200

struct match_options {
        int64_t nubs, personalities, runs;
        bool json;
};

struct gen_nub {
        char values[NUB_KEYS][VALUE_MAX];
        struct udkd_nub_property props[NUB_KEYS];
};

static void match_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench match [OPTION]...\n"
                "Time the matching of generated nubs against generated personalities of every\n"
                "specificity tier, as udkd picks a driver for a new device.\n"
                "\n"
                "      --nubs N           nubs to match (default %d)\n"
                "      --personalities N  personalities to match against (default %d)\n"
                "      --runs N           runs; the median is reported (default %d)\n"
                "      --json             print the results as JSON on stdout\n"
                "  -h, --help             print this help and exit\n",
                DEFAULT_NUBS, DEFAULT_PERSONALITIES, DEFAULT_RUNS);
}

enum {
        ARG_NUBS = BENCH_LONG_OPTION_FIRST,
        ARG_PERSONALITIES,
        ARG_RUNS,
        ARG_JSON,
};

/* 1 to exit 0 at once (--help printed), 0 to go on, -EINVAL for a usage error (said on stderr). */
static int match_parse_options(int argc, char **argv, struct match_options *o)
{
        static const struct option long_options[] = {
                { "nubs", required_argument, NULL, ARG_NUBS },
                { "personalities", required_argument, NULL, ARG_PERSONALITIES },
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
                case ARG_NUBS:
                        r = bench_parse_option_int(CMD, "--nubs", optarg, 1, 1000000, &o->nubs);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PERSONALITIES:
                        r = bench_parse_option_int(CMD, "--personalities", optarg, 1, 100000,
                                                   &o->personalities);
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
                        match_usage(stdout);
                        return 1;
                default:
                        return bench_option_error(CMD, c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* A small deterministic generator: the same inputs on every run and machine. */
static uint32_t next_random(uint64_t *state)
{
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(*state >> 33);
}

/* Personality @i, its kind by i % 5: vendor+product+revision range, vendor+product, vendor+class, class,
 * modalias glob.  The last one is a fallback without rules. */
static int gen_personality(char *buf, size_t size, int64_t i, int64_t n)
{
        unsigned vendor = 0x1000 + (unsigned)(i / 5) % VENDORS, product = (unsigned)(i % 64);
        int len = snprintf(buf, size,
                           "[personality]\nname = p%lld\nfamily = usb\ndriver = d.so\nprobe_score = %d\n",
                           (long long)i, (int)(i % 7));

        if (i == n - 1)
                return len + snprintf(buf + len, size - (size_t)len, "fallback = yes\n");
        switch (i % 5) {
        case 0:
                return len + snprintf(buf + len, size - (size_t)len,
                                      "match.vendor = 0x%04x\nmatch.product = 0x%04x\n"
                                      "match.revision = 0x0100-0x01ff\n",
                                      vendor, product);
        case 1:
                return len + snprintf(buf + len, size - (size_t)len,
                                      "match.vendor = 0x%04x\nmatch.product = 0x%04x\n", vendor, product);
        case 2:
                return len + snprintf(buf + len, size - (size_t)len,
                                      "match.vendor = 0x%04x\nmatch.class = %u\n", vendor,
                                      (unsigned)(i % 3) + 1);
        case 3:
                return len + snprintf(buf + len, size - (size_t)len,
                                      "match.class = %u\nmatch.subclass = %u\n", (unsigned)(i % 3) + 1,
                                      (unsigned)(i % 4));
        default:
                return len +
                       snprintf(buf + len, size - (size_t)len, "match.modalias = usb:v%04Xp*\n", vendor);
        }
}

/* The personalities, parsed a file's worth at a time. */
static int gen_personalities(struct udkd_personality_set *set, int64_t n)
{
        size_t cap = UDKD_PERSONALITIES_PER_FILE_MAX * 256;
        _udk_cleanup_free_ char *text = malloc(cap);
        char err[UDKD_PERSONALITY_ERR_MAX];

        if (!text)
                return -ENOMEM;
        for (int64_t first = 0; first < n; first += UDKD_PERSONALITIES_PER_FILE_MAX) {
                char path[64];
                size_t len = 0;
                int r;

                for (int64_t i = first; i < n && i < first + UDKD_PERSONALITIES_PER_FILE_MAX; i++)
                        len += (size_t)gen_personality(text + len, cap - len, i, n);
                snprintf(path, sizeof(path), "/bench/gen-%04lld.conf",
                         (long long)(first / UDKD_PERSONALITIES_PER_FILE_MAX));
                r = udkd_personalities_parse(set, path, text, len, false, err, sizeof(err));
                if (r < 0) {
                        udk_error("%s", err);
                        return r;
                }
        }
        return 0;
}

static void gen_nub(struct gen_nub *g, uint64_t *state)
{
        static const char *const keys[NUB_KEYS] = { "vendor",   "product",  "revision",  "class",
                                                    "subclass", "protocol", "interface", "modalias" };
        /* Some vendors that no personality names. */
        unsigned vendor = 0x1000 + next_random(state) % (VENDORS + VENDORS / 4);
        unsigned product = next_random(state) % 80, revision = 0x80 + next_random(state) % 0x200;

        snprintf(g->values[0], VALUE_MAX, "0x%04x", vendor);
        snprintf(g->values[1], VALUE_MAX, "0x%04x", product);
        snprintf(g->values[2], VALUE_MAX, "0x%04x", revision);
        snprintf(g->values[3], VALUE_MAX, "%u", next_random(state) % 5);
        snprintf(g->values[4], VALUE_MAX, "%u", next_random(state) % 4);
        snprintf(g->values[5], VALUE_MAX, "%u", next_random(state) % 3);
        snprintf(g->values[6], VALUE_MAX, "%u", next_random(state) % 4);
        snprintf(g->values[7], VALUE_MAX, "usb:v%04Xp%04Xd%04X", vendor, product, revision);
        for (size_t k = 0; k < NUB_KEYS; k++)
                g->props[k] = (struct udkd_nub_property){ keys[k], g->values[k] };
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int bench_match_main(int argc, char **argv)
{
        struct match_options o = { DEFAULT_NUBS, DEFAULT_PERSONALITIES, DEFAULT_RUNS, false };
        _udk_cleanup_free_ struct gen_nub *nubs = NULL;
        _udk_cleanup_free_ double *per_nub = NULL;
        struct udkd_personality_set set;
        double median, lo, hi;
        uint64_t state = 42, matched = 0;
        int r;

        r = match_parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;

        nubs = calloc((size_t)o.nubs, sizeof(*nubs));
        per_nub = calloc((size_t)o.runs, sizeof(*per_nub));
        if (!nubs || !per_nub) {
                udk_error("%s", strerror(ENOMEM));
                return EXIT_FAILURE;
        }
        udkd_personality_set_init(&set);
        r = gen_personalities(&set, o.personalities);
        if (r < 0) {
                udkd_personality_set_finish(&set);
                return EXIT_FAILURE;
        }
        for (int64_t i = 0; i < o.nubs; i++)
                gen_nub(&nubs[i], &state);

        for (int64_t run = 0; run < o.runs; run++) {
                double t0 = now_us();

                matched = 0;
                for (int64_t i = 0; i < o.nubs; i++) {
                        struct udkd_nub nub = { UDKD_FAMILY_USB, nubs[i].props, NUB_KEYS };
                        size_t index;

                        matched += udkd_match(&set, &nub, &index) == 0;
                }
                per_nub[run] = (now_us() - t0) / (double)o.nubs;
        }
        udkd_personality_set_finish(&set);

        median = bench_median(per_nub, (size_t)o.runs); /* sorts */
        lo = per_nub[0];
        hi = per_nub[o.runs - 1];
        if (o.json) {
                struct bench_json j;

                bench_json_init(&j, stdout);
                bench_json_begin_object(&j, NULL);
                bench_json_uint(&j, "nubs", (uint64_t)o.nubs);
                bench_json_uint(&j, "personalities", (uint64_t)o.personalities);
                bench_json_uint(&j, "runs", (uint64_t)o.runs);
                bench_json_uint(&j, "matched", matched);
                bench_json_begin_object(&j, "match_us_per_nub");
                bench_json_number(&j, "median", median, 3);
                bench_json_number(&j, "min", lo, 3);
                bench_json_number(&j, "max", hi, 3);
                bench_json_end_object(&j);
                bench_json_end_object(&j);
        } else {
                printf("match: %lld nubs against %lld personalities, %lld runs\n", (long long)o.nubs,
                       (long long)o.personalities, (long long)o.runs);
                printf("  %-22s %10s %10s %10s\n", "", "median", "min", "max");
                printf("  %-22s %10.3f %10.3f %10.3f\n", "match per nub (us)", median, lo, hi);
                printf("  %-22s %10.3f\n", "all nubs (ms)", median * (double)o.nubs / 1000.0);
                printf("  matched: %llu of %lld nubs\n", (unsigned long long)matched, (long long)o.nubs);
        }
        return EXIT_SUCCESS;
}
