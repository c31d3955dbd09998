/* SPDX-License-Identifier: MIT */
/*
 * udk-bench compare's options, ratios, targets, table and JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <udk/util.h>

#include "bench-compare.h"

#define DEFAULT_CLIENTS 4u
#define DEFAULT_PERIOD  64u
#define DEFAULT_RATE    48000u
#define DEFAULT_SECONDS 5.0
#define SECONDS_MIN     0.5
#define SECONDS_MAX     3600.0
#define XRUN_TARGET_S   60.0
#define COLUMN          20

static const char *const server_names[_BENCH_SERVER_MAX] = {
        [BENCH_SERVER_UDK] = "udk",
        [BENCH_SERVER_JACK2] = "jack2",
        [BENCH_SERVER_PIPEWIRE] = "pipewire",
};

const char *bench_server_name(enum bench_server s)
{
        return s < _BENCH_SERVER_MAX ? server_names[s] : "unknown";
}

const char *bench_server_install_hint(enum bench_server s)
{
        switch (s) {
        case BENCH_SERVER_JACK2:
                return "apt-get install jackd2";
        case BENCH_SERVER_PIPEWIRE:
                return "apt-get install pipewire pipewire-jack";
        default:
                return "build udk: meson setup build && ninja -C build";
        }
}

void bench_compare_options_defaults(struct bench_compare_options *o)
{
        *o = (struct bench_compare_options){
                .chain = {
                        .clients = DEFAULT_CLIENTS,
                        .period = DEFAULT_PERIOD,
                        .rate = DEFAULT_RATE,
                        .seconds = DEFAULT_SECONDS,
                },
                .servers = { true, true, true },
        };
}

static void compare_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench compare [OPTION]...\n"
                "Run the chain of 'udk-bench chain' (N client processes, each copying its input to its\n"
                "output at -1 dB) on udkd, on JACK2 (jackd -d dummy) and on PipeWire (its dummy driver,\n"
                "the clients through pw-jack), one after the other, each server started on a private\n"
                "name and stopped after; measure every server with the same time stamps and print the\n"
                "figures side by side with their ratio to udk's.\n"
                "\n"
                "      --clients N     clients in the chain (1..%u, default %u)\n"
                "      --period P      frames per cycle (16..4096, default %u)\n"
                "      --rate R        sample rate in Hz (default %u)\n"
                "      --seconds S     measure S seconds a server (default %g)\n"
                "      --pin           every RT thread of every server and client on one CPU\n"
                "                      (default: each server's own placement)\n"
                "      --load          run stress-ng --cpu <CPUs> during the measurements\n"
                "      --servers LIST  of udk,jack2,pipewire (default all three)\n"
                "      --json          print the results as JSON on stdout (progress stays on stderr)\n"
                "      --plot FILE     write the per-hop distributions as an SVG\n"
                "  -h, --help          print this help and exit\n"
                "\n"
                "A server that is not installed is reported as missing, with how to install it:\n"
                "apt-get install jackd2 (JACK2), apt-get install pipewire pipewire-jack (PipeWire).\n",
                BENCH_CHAIN_CLIENTS_MAX, DEFAULT_CLIENTS, DEFAULT_PERIOD, DEFAULT_RATE, DEFAULT_SECONDS);
}

/* "udk,jack2": each name once, at least one. */
static int parse_servers(const char *text, bool servers[_BENCH_SERVER_MAX])
{
        bool seen[_BENCH_SERVER_MAX] = { false };
        const char *p = text;

        for (;;) {
                size_t len = strcspn(p, ",");
                enum bench_server s;

                for (s = 0; s < _BENCH_SERVER_MAX; s++)
                        if (strlen(server_names[s]) == len && strncmp(p, server_names[s], len) == 0)
                                break;
                if (s == _BENCH_SERVER_MAX || seen[s])
                        return bench_usage_error(
                                "compare", "--servers '%s': a list of udk, jack2 and pipewire, each once",
                                text);
                seen[s] = true;
                if (p[len] == '\0')
                        break;
                p += len + 1;
        }
        memcpy(servers, seen, sizeof(seen));
        return 0;
}

enum {
        ARG_CLIENTS = BENCH_LONG_OPTION_FIRST,
        ARG_PERIOD,
        ARG_RATE,
        ARG_SECONDS,
        ARG_PIN,
        ARG_LOAD,
        ARG_SERVERS,
        ARG_JSON,
        ARG_PLOT,
};

int bench_compare_parse_options(int argc, char **argv, struct bench_compare_options *o)
{
        static const struct option long_options[] = {
                { "clients", required_argument, NULL, ARG_CLIENTS },
                { "period", required_argument, NULL, ARG_PERIOD },
                { "rate", required_argument, NULL, ARG_RATE },
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "pin", no_argument, NULL, ARG_PIN },
                { "load", no_argument, NULL, ARG_LOAD },
                { "servers", required_argument, NULL, ARG_SERVERS },
                { "json", no_argument, NULL, ARG_JSON },
                { "plot", required_argument, NULL, ARG_PLOT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int64_t v;
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_CLIENTS:
                        if (bench_parse_option_int("compare", "--clients", optarg, 1,
                                                   BENCH_CHAIN_CLIENTS_MAX, &v) < 0)
                                return -EINVAL;
                        o->chain.clients = (unsigned)v;
                        break;
                case ARG_PERIOD:
                        if (bench_parse_option_int("compare", "--period", optarg, 16, 4096, &v) < 0)
                                return -EINVAL;
                        o->chain.period = (uint32_t)v;
                        break;
                case ARG_RATE:
                        if (bench_parse_option_int("compare", "--rate", optarg, 8000, 192000, &v) < 0)
                                return -EINVAL;
                        o->chain.rate = (uint32_t)v;
                        break;
                case ARG_SECONDS:
                        if (udk_parse_double(optarg, SECONDS_MIN, SECONDS_MAX, &o->chain.seconds) < 0)
                                return bench_usage_error("compare",
                                                         "--seconds '%s': not a number of seconds (%g..%g)",
                                                         optarg, SECONDS_MIN, SECONDS_MAX);
                        break;
                case ARG_PIN:
                        o->chain.pin = true;
                        break;
                case ARG_LOAD:
                        o->load = true;
                        break;
                case ARG_SERVERS:
                        if (parse_servers(optarg, o->servers) < 0)
                                return -EINVAL;
                        break;
                case ARG_JSON:
                        o->chain.json = true;
                        break;
                case ARG_PLOT:
                        if (!*optarg)
                                return bench_usage_error("compare", "--plot needs a file name");
                        o->plot = optarg;
                        break;
                case 'h':
                        compare_usage(stdout);
                        return 1;
                default:
                        return bench_option_error("compare", c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error("compare", "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* --- ratios and targets --- */

double bench_compare_ratio(double other, double udk)
{
        if (!isfinite(other) || !isfinite(udk) || !(udk > 0))
                return NAN;
        return other / udk;
}

static const struct bench_compare_result *ok_result(const struct bench_compare_report *rep,
                                                    enum bench_server s)
{
        const struct bench_compare_result *r = &rep->result[s];

        return rep->opt.servers[s] && r->status == BENCH_COMPARE_OK ? r : NULL;
}

static const char *pretty_name(enum bench_server s)
{
        return s == BENCH_SERVER_JACK2 ? "JACK2" : s == BENCH_SERVER_PIPEWIRE ? "PipeWire" : "udk";
}

static enum bench_target_verdict verdict(bool known, bool pass)
{
        return !known ? BENCH_TARGET_NA : pass ? BENCH_TARGET_PASS : BENCH_TARGET_FAIL;
}

static void add_target(struct bench_compare_target *ret, size_t max, size_t *n, enum bench_target_verdict v,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_target(struct bench_compare_target *ret, size_t max, size_t *n, enum bench_target_verdict v,
                       const char *fmt, ...)
{
        va_list ap;

        if (*n >= max)
                return;
        va_start(ap, fmt);
        vsnprintf(ret[*n].text, sizeof(ret[*n].text), fmt, ap);
        va_end(ap);
        ret[*n].verdict = v;
        (*n)++;
}

/* Why a per-hop target has no verdict. */
static const char *not_measured(const struct bench_compare_result *u, const struct bench_compare_result *o,
                                enum bench_server other)
{
        if (!u)
                return "udk not measured";
        if (!o)
                return other == BENCH_SERVER_JACK2 ? "JACK2 not measured" : "PipeWire not measured";
        return "no hop (one client)";
}

/* udk's p50 at most 1/@divisor of @other's. */
static void target_fraction(const struct bench_compare_report *rep, enum bench_server other,
                            unsigned divisor, struct bench_compare_target *ret, size_t max, size_t *n)
{
        const struct bench_compare_result *u = ok_result(rep, BENCH_SERVER_UDK), *o = ok_result(rep, other);
        bool known = u && o && u->per_hop.count > 0 && o->per_hop.count > 0;

        if (!known) {
                add_target(ret, max, n, BENCH_TARGET_NA, "udk per-hop p50 <= 1/%u of %s's: %s", divisor,
                           pretty_name(other), not_measured(u, o, other));
                return;
        }
        add_target(ret, max, n, verdict(true, u->per_hop.p50 * divisor <= o->per_hop.p50),
                   "udk per-hop p50 <= 1/%u of %s's (%.2f us): %.2f us, 1/%.2f", divisor, pretty_name(other),
                   o->per_hop.p50, u->per_hop.p50, bench_compare_ratio(o->per_hop.p50, u->per_hop.p50));
}

/* udk's per-hop p99.9 and max below @other's. */
static void target_tails(const struct bench_compare_report *rep, enum bench_server other,
                         struct bench_compare_target *ret, size_t max, size_t *n)
{
        const struct bench_compare_result *u = ok_result(rep, BENCH_SERVER_UDK), *o = ok_result(rep, other);
        bool known = u && o && u->per_hop.count > 0 && o->per_hop.count > 0;

        if (!known) {
                add_target(ret, max, n, BENCH_TARGET_NA, "udk per-hop p99.9 and max below %s's: %s",
                           pretty_name(other), not_measured(u, o, other));
                return;
        }
        add_target(ret, max, n, verdict(true, u->per_hop.p999 < o->per_hop.p999),
                   "udk per-hop p99.9 below %s's: %.1f us against %.1f us", pretty_name(other),
                   u->per_hop.p999, o->per_hop.p999);
        add_target(ret, max, n, verdict(true, u->per_hop.max < o->per_hop.max),
                   "udk per-hop max below %s's: %.1f us against %.1f us", pretty_name(other), u->per_hop.max,
                   o->per_hop.max);
}

static void target_xruns(const struct bench_compare_report *rep, enum bench_server other,
                         struct bench_compare_target *ret, size_t max, size_t *n)
{
        const struct bench_compare_result *u = ok_result(rep, BENCH_SERVER_UDK), *o = ok_result(rep, other);
        char note[64] = "";

        if (rep->opt.chain.seconds < XRUN_TARGET_S)
                snprintf(note, sizeof(note), " (the target counts %g s; this run %g s)", XRUN_TARGET_S,
                         rep->opt.chain.seconds);
        if (!u || !o) {
                add_target(ret, max, n, BENCH_TARGET_NA, "udk xruns <= %s's: not measured",
                           pretty_name(other));
                return;
        }
        add_target(ret, max, n, verdict(true, u->xruns <= o->xruns),
                   "udk xruns <= %s's: %" PRIu64 " against %" PRIu64 "%s", pretty_name(other), u->xruns,
                   o->xruns, note);
}

size_t bench_compare_targets(const struct bench_compare_report *rep, struct bench_compare_target *ret,
                             size_t max)
{
        const struct bench_compare_result *u = ok_result(rep, BENCH_SERVER_UDK),
                                          *j = ok_result(rep, BENCH_SERVER_JACK2);
        bool pin = rep->opt.chain.pin;
        size_t n = 0;

        if (rep->opt.servers[BENCH_SERVER_JACK2])
                target_fraction(rep, BENCH_SERVER_JACK2, pin ? 2 : 3, ret, max, &n);
        if (rep->opt.servers[BENCH_SERVER_PIPEWIRE] && !pin)
                target_fraction(rep, BENCH_SERVER_PIPEWIRE, 5, ret, max, &n);
        for (enum bench_server s = BENCH_SERVER_JACK2; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s])
                        target_tails(rep, s, ret, max, &n);
        for (enum bench_server s = BENCH_SERVER_JACK2; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s])
                        target_xruns(rep, s, ret, max, &n);
        if (rep->opt.servers[BENCH_SERVER_JACK2]) {
                bool known = u && j && isfinite(u->cpu_per_cycle_us) && isfinite(j->cpu_per_cycle_us);
                if (known)
                        add_target(ret, max, &n, verdict(true, u->cpu_per_cycle_us <= j->cpu_per_cycle_us),
                                   "udk CPU per cycle <= JACK2's: %.2f us against %.2f us",
                                   u->cpu_per_cycle_us, j->cpu_per_cycle_us);
                else
                        add_target(ret, max, &n, BENCH_TARGET_NA,
                                   "udk CPU per cycle <= JACK2's: not measured");
        }
        return n;
}

static const char *verdict_text(enum bench_target_verdict v)
{
        return v == BENCH_TARGET_PASS ? "PASS" : v == BENCH_TARGET_FAIL ? "FAIL" : "n/a";
}

/* --- the table --- */

static void status_text(const struct bench_compare_result *r, char *buf, size_t size)
{
        switch (r->status) {
        case BENCH_COMPARE_OK:
                udk_strlcpy(buf, "ok", size);
                break;
        case BENCH_COMPARE_MISSING:
                udk_strlcpy(buf, "missing", size);
                break;
        case BENCH_COMPARE_FAILED:
                snprintf(buf, size, "failed: %s", r->why);
                break;
        default:
                udk_strlcpy(buf, "not run", size);
                break;
        }
}

typedef void (*cell_fn)(const struct bench_compare_result *r, const struct bench_compare_result *udk,
                        char *buf, size_t size);

/* One row: @label, then a cell per server that was asked for. */
static void row(const struct bench_compare_report *rep, FILE *out, const char *label, cell_fn fn)
{
        const struct bench_compare_result *u = ok_result(rep, BENCH_SERVER_UDK);

        fprintf(out, "  %-30s", label);
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++) {
                char cell[64] = "-";
                if (!rep->opt.servers[s])
                        continue;
                if (rep->result[s].status == BENCH_COMPARE_OK)
                        fn(&rep->result[s], u, cell, sizeof(cell));
                fprintf(out, " %-*s", COLUMN, cell);
        }
        fputc('\n', out);
}

/* "12.3 (2.8x)": a value and its ratio to udk's (none for udk itself or without one). */
static void value_cell(double v, double udk_v, bool is_udk, int decimals, char *buf, size_t size)
{
        double ratio = bench_compare_ratio(v, udk_v);

        if (!isfinite(v)) {
                udk_strlcpy(buf, "-", size);
                return;
        }
        if (is_udk || isnan(ratio))
                snprintf(buf, size, "%.*f", decimals, v);
        else
                snprintf(buf, size, "%.*f (%.2fx)", decimals, v, ratio);
}

#define LATENCY_CELL(fname, field, pct)                                                                  \
        static void fname(const struct bench_compare_result *r, const struct bench_compare_result *u,    \
                          char *buf, size_t size)                                                        \
        {                                                                                                \
                double udk_v = u && u->field.count ? u->field.pct : NAN;                                 \
                value_cell(r->field.count ? r->field.pct : NAN, udk_v, r->server == BENCH_SERVER_UDK, 1, \
                           buf, size);                                                                   \
        }

LATENCY_CELL(cell_hop_p50, per_hop, p50)
LATENCY_CELL(cell_hop_p99, per_hop, p99)
LATENCY_CELL(cell_hop_p999, per_hop, p999)
LATENCY_CELL(cell_hop_max, per_hop, max)
LATENCY_CELL(cell_first_p50, first_wake, p50)
LATENCY_CELL(cell_first_p99, first_wake, p99)
LATENCY_CELL(cell_first_p999, first_wake, p999)
LATENCY_CELL(cell_first_max, first_wake, max)
LATENCY_CELL(cell_tick_p50, first_tick, p50)
LATENCY_CELL(cell_tick_p99, first_tick, p99)
LATENCY_CELL(cell_cycle_p50, cycle, p50)
LATENCY_CELL(cell_cycle_p99, cycle, p99)
LATENCY_CELL(cell_cycle_p999, cycle, p999)
LATENCY_CELL(cell_cycle_max, cycle, max)

static void cell_cpu(const struct bench_compare_result *r, const struct bench_compare_result *u, char *buf,
                     size_t size)
{
        value_cell(r->cpu_per_cycle_us, u ? u->cpu_per_cycle_us : NAN, r->server == BENCH_SERVER_UDK, 2, buf,
                   size);
}

static void cell_server_cpu(const struct bench_compare_result *r, const struct bench_compare_result *u,
                            char *buf, size_t size)
{
        value_cell(r->server_cpu_per_cycle_us, u ? u->server_cpu_per_cycle_us : NAN,
                   r->server == BENCH_SERVER_UDK, 2, buf, size);
}

static void cell_xruns(const struct bench_compare_result *r, const struct bench_compare_result *u, char *buf,
                       size_t size)
{
        (void)u;
        snprintf(buf, size, "%" PRIu64, r->xruns);
}

static void cell_late(const struct bench_compare_result *r, const struct bench_compare_result *u, char *buf,
                      size_t size)
{
        (void)u;
        if (r->late_known)
                snprintf(buf, size, "%" PRIu64, r->late);
        else
                udk_strlcpy(buf, "-", size);
}

static void cell_cycles(const struct bench_compare_result *r, const struct bench_compare_result *u,
                        char *buf, size_t size)
{
        (void)u;
        snprintf(buf, size, "%" PRIu64 " (%" PRIu64 ")", r->cycles, r->incomplete + r->bad_times + r->lost);
}

static void cell_priority(const struct bench_compare_result *r, const struct bench_compare_result *u,
                          char *buf, size_t size)
{
        char server[16] = "normal", client[16] = "normal";

        (void)u;
        if (r->server_priority > 0)
                snprintf(server, sizeof(server), "%d", r->server_priority);
        if (r->client_priority > 0)
                snprintf(client, sizeof(client), "%d", r->client_priority);
        snprintf(buf, size, "%s / %s", server, client);
}

static void cell_cpus(const struct bench_compare_result *r, const struct bench_compare_result *u, char *buf,
                      size_t size)
{
        (void)u;
        bench_cpu_mask_format(r->client_cpus, buf, size);
}

static void print_header(const struct bench_compare_report *rep, FILE *out)
{
        const struct bench_chain_options *o = &rep->opt.chain;

        fprintf(out,
                "udk-bench compare: %u client%s in a chain, %u frames at %u Hz (%.1f us a cycle), %g s a "
                "server\n",
                o->clients, o->clients == 1 ? "" : "s", o->period, o->rate, 1e6 * o->period / o->rate,
                o->seconds);
        fprintf(out, "%s, %u CPUs, Linux %s\n", rep->machine.cpu_model, rep->machine.cpus,
                rep->machine.kernel);
        fprintf(out, "placement: %s; load: %s\n\n",
                o->pin ? "--pin, every RT thread of server and clients on one CPU" : "each server's default",
                rep->load_note[0] ? rep->load_note : "none");
}

static void print_status_rows(const struct bench_compare_report *rep, FILE *out)
{
        fprintf(out, "  %-30s", "");
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s])
                        fprintf(out, " %-*s", COLUMN, bench_server_name(s));
        fprintf(out, "\n  %-30s", "status");
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++) {
                char text[COLUMN + 1];
                if (!rep->opt.servers[s])
                        continue;
                /* The reason comes below the table: it does not fit a column. */
                udk_strlcpy(text, rep->result[s].status == BENCH_COMPARE_FAILED ? "failed (see below)" : "",
                            sizeof(text));
                if (!text[0])
                        status_text(&rep->result[s], text, sizeof(text));
                fprintf(out, " %-*s", COLUMN, text);
        }
        fprintf(out, "\n  %-30s", "server");
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s])
                        fprintf(out, " %-*s", COLUMN,
                                rep->result[s].version[0] ? rep->result[s].version : "-");
        fputc('\n', out);
}

void bench_compare_print_table(const struct bench_compare_report *rep, FILE *out)
{
        struct bench_compare_target targets[BENCH_COMPARE_TARGETS_MAX];
        size_t n;

        print_header(rep, out);
        print_status_rows(rep, out);
        row(rep, out, "RT priority: server / clients", cell_priority);
        row(rep, out, "clients' callbacks on CPU", cell_cpus);
        row(rep, out, "cycles measured (left out)", cell_cycles);
        fprintf(out, "\n  us, (x udk's)\n");
        row(rep, out, "per hop                  p50", cell_hop_p50);
        row(rep, out, "                         p99", cell_hop_p99);
        row(rep, out, "                       p99.9", cell_hop_p999);
        row(rep, out, "                         max", cell_hop_max);
        row(rep, out, "first wake after start   p50", cell_first_p50);
        row(rep, out, "                         p99", cell_first_p99);
        row(rep, out, "                       p99.9", cell_first_p999);
        row(rep, out, "                         max", cell_first_max);
        row(rep, out, "first wake after tick    p50", cell_tick_p50);
        row(rep, out, "                         p99", cell_tick_p99);
        row(rep, out, "cycle                    p50", cell_cycle_p50);
        row(rep, out, "                         p99", cell_cycle_p99);
        row(rep, out, "                       p99.9", cell_cycle_p999);
        row(rep, out, "                         max", cell_cycle_max);
        row(rep, out, "CPU per cycle, all", cell_cpu);
        row(rep, out, "CPU per cycle, server", cell_server_cpu);
        row(rep, out, "xruns", cell_xruns);
        row(rep, out, "late", cell_late);

        fprintf(out,
                "\n  per hop: a client's callback entry after the previous client's callback exit (clients\n"
                "  2..N; the same stamps on every server).  first wake: client 1's entry after the\n"
                "  server's cycle start: udkd's trigger (udk), jack_get_cycle_times()'s current_usecs\n"
                "  (JACK2: its DLL's estimate; PipeWire: the dummy driver's timer).  tick: the period\n"
                "  boundary by the server's clock (udk: its DLL; the others: their start).  cycle: client\n"
                "  1's entry to the last client's exit.  late: udk only (a client past udkd's deadline is\n"
                "  skipped and counted; on JACK2 and PipeWire it makes an xrun).  docs/benchmarks.md\n"
                "  defines every figure.\n");
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++) {
                const struct bench_compare_result *r = &rep->result[s];
                if (!rep->opt.servers[s])
                        continue;
                if (r->status == BENCH_COMPARE_OK && (r->early_starts || r->early_ticks))
                        fprintf(out,
                                "  %s: in %" PRIu64 " cycles the start and in %" PRIu64
                                " the tick came after client 1's entry: left out of first wake\n",
                                bench_server_name(s), r->early_starts, r->early_ticks);
                if (r->status == BENCH_COMPARE_MISSING)
                        fprintf(out, "  %s: missing: %s\n", bench_server_name(s), r->why);
                else if (r->status == BENCH_COMPARE_FAILED)
                        fprintf(out, "  %s: failed: %s\n", bench_server_name(s), r->why);
        }

        n = bench_compare_targets(rep, targets, UDK_ELEMENTSOF(targets));
        if (n == 0)
                return;
        fprintf(out, "\nTargets\n");
        for (size_t i = 0; i < n; i++)
                fprintf(out, "  %s  %s\n", targets[i].text, verdict_text(targets[i].verdict));
}

/* --- JSON --- */

static const struct bench_latency *known(const struct bench_latency *l)
{
        return l->count > 0 ? l : NULL;
}

static void json_ratios(struct bench_json *j, const struct bench_compare_result *r,
                        const struct bench_compare_result *u)
{
#define RATIO(key, field, pct)                                                      \
        bench_json_number(j, key,                                                   \
                          u && u->field.count && r->field.count                     \
                                  ? bench_compare_ratio(r->field.pct, u->field.pct) \
                                  : NAN,                                            \
                          3)
        bench_json_begin_object(j, "ratio_to_udk");
        RATIO("per_hop_p50", per_hop, p50);
        RATIO("per_hop_p99", per_hop, p99);
        RATIO("per_hop_p999", per_hop, p999);
        RATIO("per_hop_max", per_hop, max);
        RATIO("first_wake_p50", first_wake, p50);
        RATIO("first_wake_tick_p50", first_tick, p50);
        RATIO("cycle_p50", cycle, p50);
        bench_json_number(j, "cpu_per_cycle",
                          u ? bench_compare_ratio(r->cpu_per_cycle_us, u->cpu_per_cycle_us) : NAN, 3);
        bench_json_number(j, "xruns", u ? bench_compare_ratio((double)r->xruns, (double)u->xruns) : NAN, 3);
        bench_json_end_object(j);
#undef RATIO
}

static void json_server(struct bench_json *j, const struct bench_compare_report *rep, enum bench_server s)
{
        const struct bench_compare_result *r = &rep->result[s], *u = ok_result(rep, BENCH_SERVER_UDK);
        bool ok = r->status == BENCH_COMPARE_OK;
        char status[sizeof(r->why) + 16], cpus[128];

        status_text(r, status, sizeof(status));
        bench_json_begin_object(j, NULL);
        bench_json_string(j, "server", bench_server_name(s));
        bench_json_string(j, "status", status);
        if (r->status == BENCH_COMPARE_MISSING) {
                bench_json_string(j, "why", r->why);
                bench_json_string(j, "install", bench_server_install_hint(s));
        }
        bench_json_string(j, "version", r->version[0] ? r->version : NULL);
        bench_json_latency(j, "per_hop_us", ok ? known(&r->per_hop) : NULL);
        bench_json_latency(j, "first_wake_us", ok ? known(&r->first_wake) : NULL);
        bench_json_latency(j, "first_wake_tick_us", ok ? known(&r->first_tick) : NULL);
        bench_json_latency(j, "cycle_us", ok ? known(&r->cycle) : NULL);
        bench_json_number(j, "cpu_per_cycle_us", ok ? r->cpu_per_cycle_us : NAN, 3);
        bench_json_number(j, "server_cpu_per_cycle_us", ok ? r->server_cpu_per_cycle_us : NAN, 3);
        if (ok)
                bench_json_uint(j, "xruns", r->xruns);
        else
                bench_json_null(j, "xruns");
        if (ok && r->late_known)
                bench_json_uint(j, "late", r->late);
        else
                bench_json_null(j, "late");
        if (ok)
                json_ratios(j, r, u);
        else
                bench_json_null(j, "ratio_to_udk");
        bench_json_uint(j, "cycles", r->cycles);
        bench_json_uint(j, "incomplete_cycles", r->incomplete);
        bench_json_uint(j, "bad_times", r->bad_times);
        bench_json_uint(j, "lost_cycles", r->lost);
        bench_json_uint(j, "orphans", r->orphans);
        bench_json_uint(j, "early_starts", r->early_starts);
        bench_json_uint(j, "early_ticks", r->early_ticks);
        bench_json_uint(j, "server_priority", (uint64_t)UDK_MAX(r->server_priority, 0));
        bench_json_uint(j, "client_priority", (uint64_t)UDK_MAX(r->client_priority, 0));
        if (r->cpu >= 0)
                bench_json_uint(j, "cpu", (uint64_t)r->cpu);
        else
                bench_json_null(j, "cpu");
        bench_cpu_mask_format(r->client_cpus, cpus, sizeof(cpus));
        bench_json_string(j, "client_cpus", cpus);
        bench_json_end_object(j);
}

void bench_compare_print_json(const struct bench_compare_report *rep, FILE *out)
{
        struct bench_compare_target targets[BENCH_COMPARE_TARGETS_MAX];
        size_t n = bench_compare_targets(rep, targets, UDK_ELEMENTSOF(targets));
        const struct bench_chain_options *o = &rep->opt.chain;
        struct bench_json j;

        bench_json_init(&j, out);
        bench_json_begin_object(&j, NULL);
        bench_json_begin_array(&j, "servers");
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s])
                        json_server(&j, rep, s);
        bench_json_end_array(&j);
        bench_json_begin_array(&j, "targets");
        for (size_t i = 0; i < n; i++) {
                bench_json_begin_object(&j, NULL);
                bench_json_string(&j, "target", targets[i].text);
                if (targets[i].verdict == BENCH_TARGET_NA)
                        bench_json_null(&j, "pass");
                else
                        bench_json_bool(&j, "pass", targets[i].verdict == BENCH_TARGET_PASS);
                bench_json_end_object(&j);
        }
        bench_json_end_array(&j);
        bench_json_begin_object(&j, "settings");
        bench_json_uint(&j, "clients", o->clients);
        bench_json_uint(&j, "period", o->period);
        bench_json_uint(&j, "rate", o->rate);
        bench_json_number(&j, "seconds", o->seconds, 3);
        bench_json_bool(&j, "pin", o->pin);
        bench_json_bool(&j, "load", rep->opt.load);
        bench_json_string(&j, "load_note", rep->load_note[0] ? rep->load_note : NULL);
        bench_json_uint(&j, "channels", BENCH_CHAIN_CHANNELS);
        bench_json_string(&j, "cpu_method", bench_cpu_method_name(rep->cpu_method));
        bench_json_end_object(&j);
        bench_json_begin_object(&j, "machine");
        bench_json_uint(&j, "cpus", rep->machine.cpus);
        bench_json_string(&j, "cpu_model", rep->machine.cpu_model);
        bench_json_string(&j, "kernel", rep->machine.kernel);
        bench_json_end_object(&j);
        bench_json_end_object(&j);
}
