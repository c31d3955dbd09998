/* SPDX-License-Identifier: MIT */
/*
 * udk-bench chain's options, its table and its JSON, and the targets
 * checked in both.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <udk/util.h>

#include "bench-chain.h"

#define DEFAULT_CLIENTS 4u
#define DEFAULT_PERIOD  64u
#define DEFAULT_RATE    48000u
#define DEFAULT_SECONDS 5.0
#define SECONDS_MIN     0.1
#define SECONDS_MAX     3600.0

void bench_chain_options_defaults(struct bench_chain_options *o)
{
        *o = (struct bench_chain_options){
                .clients = DEFAULT_CLIENTS,
                .period = DEFAULT_PERIOD,
                .rate = DEFAULT_RATE,
                .seconds = DEFAULT_SECONDS,
        };
}

static void chain_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench chain [OPTION]...\n"
                "Start udkd with one virtual device (source silence, stereo, float32) on a private socket,\n"
                "chain N client processes on it (each copies its input to its output at -1 dB), and\n"
                "measure each client's wake after its trigger and after the cycle start, the cycle's\n"
                "completion, the CPU time per cycle, xruns and late cycles; then a two-process futex\n"
                "ping-pong at the same priority and placement as the machine's floor.\n"
                "\n"
                "      --clients N   clients in the chain (1..%u, default %u)\n"
                "      --period P    frames per cycle (16..4096, default %u)\n"
                "      --rate R      sample rate in Hz (default %u)\n"
                "      --seconds S   measure S seconds once every client runs (default %g)\n"
                "      --pin         placement same-cpu: udkd's RT thread and the clients' on one CPU\n"
                "                    (default: placement auto, udkd's choice)\n"
                "      --json        print the results as JSON on stdout (progress stays on stderr)\n"
                "  -h, --help        print this help and exit\n"
                "\n"
                "udkd is $UDKD, else ../server/udkd next to udk-bench, else udkd in PATH.\n",
                BENCH_CHAIN_CLIENTS_MAX, DEFAULT_CLIENTS, DEFAULT_PERIOD, DEFAULT_RATE, DEFAULT_SECONDS);
}

enum {
        ARG_CLIENTS = BENCH_LONG_OPTION_FIRST,
        ARG_PERIOD,
        ARG_RATE,
        ARG_SECONDS,
        ARG_PIN,
        ARG_JSON,
};

int bench_chain_parse_options(int argc, char **argv, struct bench_chain_options *o)
{
        static const struct option long_options[] = {
                { "clients", required_argument, NULL, ARG_CLIENTS },
                { "period", required_argument, NULL, ARG_PERIOD },
                { "rate", required_argument, NULL, ARG_RATE },
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "pin", no_argument, NULL, ARG_PIN },
                { "json", no_argument, NULL, ARG_JSON },
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
                        if (bench_parse_option_int("chain", "--clients", optarg, 1, BENCH_CHAIN_CLIENTS_MAX,
                                                   &v) < 0)
                                return -EINVAL;
                        o->clients = (unsigned)v;
                        break;
                case ARG_PERIOD:
                        if (bench_parse_option_int("chain", "--period", optarg, 16, 4096, &v) < 0)
                                return -EINVAL;
                        o->period = (uint32_t)v;
                        break;
                case ARG_RATE:
                        if (bench_parse_option_int("chain", "--rate", optarg, 8000, 192000, &v) < 0)
                                return -EINVAL;
                        o->rate = (uint32_t)v;
                        break;
                case ARG_SECONDS:
                        if (udk_parse_double(optarg, SECONDS_MIN, SECONDS_MAX, &o->seconds) < 0)
                                return bench_usage_error("chain",
                                                         "--seconds '%s': not a number of seconds (%g..%g)",
                                                         optarg, SECONDS_MIN, SECONDS_MAX);
                        break;
                case ARG_PIN:
                        o->pin = true;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case 'h':
                        chain_usage(stdout);
                        return 1;
                default:
                        return bench_option_error("chain", c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error("chain", "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* --- targets --- */

double bench_chain_floor_ratio(const struct bench_chain_report *rep)
{
        if (rep->floor.count == 0 || !(rep->floor.p50 > 0) || rep->per_hop.count == 0)
                return NAN;
        return rep->per_hop.p50 / rep->floor.p50;
}

bool bench_chain_hop_pass(const struct bench_chain_report *rep)
{
        return rep->per_hop.count > 0 && rep->per_hop.p50 <= BENCH_CHAIN_HOP_TARGET_US;
}

bool bench_chain_floor_pass(const struct bench_chain_report *rep)
{
        double ratio = bench_chain_floor_ratio(rep);

        return !isnan(ratio) && ratio <= BENCH_CHAIN_FLOOR_RATIO;
}

void bench_cpu_mask_format(uint64_t mask, char *buf, size_t size)
{
        size_t len = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        if (mask == 0) {
                udk_strlcpy(buf, "-", size);
                return;
        }
        for (unsigned cpu = 0; cpu < 64; cpu++) {
                int n;
                if (!(mask & (UINT64_C(1) << cpu)))
                        continue;
                n = snprintf(buf + len, size - len, "%s%u%s", len ? "," : "", cpu, cpu == 63 ? "+" : "");
                if (n < 0 || (size_t)n >= size - len)
                        return; /* cut: what fits stays */
                len += (size_t)n;
        }
}

/* --- the table --- */

static void print_latency(FILE *out, const struct bench_latency *l)
{
        if (l->count == 0) {
                fprintf(out, " %7s %7s %7s %7s", "-", "-", "-", "-");
                return;
        }
        fprintf(out, " %7.1f %7.1f %7.1f %7.1f", l->p50, l->p99, l->p999, l->max);
}

/* "SCHED_FIFO 60" or "normal priority". */
static const char *priority_text(bool realtime, int priority, char *buf, size_t size)
{
        if (!realtime)
                return "normal priority";
        snprintf(buf, size, "SCHED_FIFO %d", priority);
        return buf;
}

/* "on CPU 1" or "anywhere". */
static const char *cpu_text(int64_t cpu, char *buf, size_t size)
{
        if (cpu < 0)
                return "anywhere";
        snprintf(buf, size, "on CPU %" PRId64, cpu);
        return buf;
}

static void print_header(const struct bench_chain_report *rep, FILE *out)
{
        char cpus[128], server_prio[32], client_prio[32], server_cpu[32], client_cpu[32];
        uint64_t mask = 0;

        for (unsigned i = 0; i < rep->opt.clients; i++)
                mask |= rep->client[i].cpus;
        bench_cpu_mask_format(mask, cpus, sizeof(cpus));
        fprintf(out, "udk-bench chain: %u client%s in a chain, %u frames at %u Hz (%.1f us a cycle)\n",
                rep->opt.clients, rep->opt.clients == 1 ? "" : "s", rep->opt.period, rep->opt.rate,
                1e6 * rep->opt.period / rep->opt.rate);
        fprintf(out, "%s, %u CPUs, Linux %s\n", rep->machine.cpu_model, rep->machine.cpus,
                rep->machine.kernel);
        fprintf(out,
                "placement %s: udkd's RT thread %s, %s; clients' RT threads placed %s, ran on CPU %s, %s\n",
                rep->placement, cpu_text(rep->server_cpu, server_cpu, sizeof(server_cpu)),
                priority_text(rep->server_realtime, BENCH_CHAIN_UDKD_PRIORITY, server_prio,
                              sizeof(server_prio)),
                cpu_text(rep->client_cpu, client_cpu, sizeof(client_cpu)), cpus,
                priority_text(rep->clients_realtime, BENCH_CHAIN_PRIORITY, client_prio,
                              sizeof(client_prio)));
        fprintf(out, "measured %" PRIu64 " cycles in %g s\n\n", rep->cycles, rep->opt.seconds);
}

static void print_wakes(const struct bench_chain_report *rep, FILE *out)
{
        char prio[32];

        fprintf(out,
                "Wake times in us    ------ after its trigger -------  ----- after the cycle start ------"
                "  ------ udkd: hop ------\n"
                "  client  woken by      p50     p99   p99.9     max      p50     p99   p99.9     max"
                "      p50     p99  busy p50  late\n");
        for (unsigned i = 0; i < rep->opt.clients; i++) {
                const struct bench_chain_client_report *c = &rep->client[i];
                char by[24];

                if (i == 0)
                        udk_strlcpy(by, "udkd", sizeof(by));
                else
                        snprintf(by, sizeof(by), "client %u", i);
                fprintf(out, "  %6u  %-10s", i + 1, by);
                print_latency(out, &c->hop);
                fprintf(out, " ");
                print_latency(out, &c->from_start);
                if (c->udkd_wake.count > 0)
                        fprintf(out, "  %7.1f %7.1f %9.1f", c->udkd_wake.p50, c->udkd_wake.p99,
                                c->udkd_busy.p50);
                else
                        fprintf(out, "  %7s %7s %9s", "-", "-", "-");
                fprintf(out, " %5" PRIu64 "\n", c->late);
        }

        fprintf(out, "\n%-44s     p50     p99   p99.9     max\n", "Summary in us");
        fprintf(out, "  %-42s", "per hop: every client's hop");
        print_latency(out, &rep->per_hop);
        fprintf(out, "\n  %-42s", "first client's wake after the cycle start");
        print_latency(out, &rep->first_wake);
        fprintf(out, "\n  %-42s", "cycle: udkd's first trigger to last finish");
        print_latency(out, &rep->cycle);
        fprintf(out, "\n  %-42s", "floor: futex ping-pong hop");
        print_latency(out, &rep->floor);
        fprintf(out, "\n\n");
        fprintf(out,
                "  hop: a client's wake minus its signal time, stamped by whoever triggered it (udkd for\n"
                "  client 1); cycle start: client 1's signal time.  Histogram bucket upper bounds, at most\n"
                "  6.25%% high.  udkd's columns and the cycle cover the device's whole run.\n");
        fprintf(out, "  floor: two processes, %s, ",
                priority_text(rep->floor_realtime, BENCH_CHAIN_PRIORITY, prio, sizeof(prio)));
        if (rep->floor_cpu >= 0)
                fprintf(out, "both on CPU %d.\n", rep->floor_cpu);
        else
                fprintf(out, "not pinned.\n");
        if (rep->bad_times > 0)
                fprintf(out, "  %" PRIu64 " cycles left out: their times were out of order\n",
                        rep->bad_times);
}

static void print_cpu(const struct bench_chain_report *rep, FILE *out)
{
        fprintf(out,
                "\nCPU per cycle: %.2f us (udkd %.2f us, clients %.2f us; %s); xruns %" PRIu64
                "; late %" PRIu64 "\n",
                rep->cpu_per_cycle_us, rep->server_cpu_per_cycle_us,
                rep->cpu_per_cycle_us - rep->server_cpu_per_cycle_us,
                rep->cpu_method == BENCH_CPU_SCHEDSTAT ? "threads' run time from schedstat"
                                                       : "utime + stime, clock ticks",
                rep->xruns, rep->late);
}

static void print_targets(const struct bench_chain_report *rep, FILE *out)
{
        double ratio = bench_chain_floor_ratio(rep);

        fprintf(out, "\nTargets\n");
        fprintf(out, "  per-hop wake p50 <= %.1f us: %.2f us  %s\n", BENCH_CHAIN_HOP_TARGET_US,
                rep->per_hop.p50, bench_chain_hop_pass(rep) ? "PASS" : "FAIL");
        if (isnan(ratio)) {
                fprintf(out, "  per-hop wake p50 <= %.1f x floor p50: no floor  n/a\n",
                        BENCH_CHAIN_FLOOR_RATIO);
                return;
        }
        fprintf(out, "  per-hop wake p50 <= %.1f x floor p50 (%.2f us) = %.2f us: %.2f us, %.2f x  %s\n",
                BENCH_CHAIN_FLOOR_RATIO, rep->floor.p50, BENCH_CHAIN_FLOOR_RATIO * rep->floor.p50,
                rep->per_hop.p50, ratio, bench_chain_floor_pass(rep) ? "PASS" : "FAIL");
}

void bench_chain_print_table(const struct bench_chain_report *rep, FILE *out)
{
        print_header(rep, out);
        print_wakes(rep, out);
        print_cpu(rep, out);
        print_targets(rep, out);
}

/* --- JSON --- */

static const struct bench_latency *known(const struct bench_latency *l)
{
        return l->count > 0 ? l : NULL;
}

static void json_client(struct bench_json *j, const struct bench_chain_client_report *c, unsigned index)
{
        char cpus[128];

        bench_cpu_mask_format(c->cpus, cpus, sizeof(cpus));
        bench_json_begin_object(j, NULL);
        bench_json_uint(j, "client", index + 1);
        bench_json_uint(j, "node", c->node);
        bench_json_latency(j, "hop_us", known(&c->hop));
        bench_json_latency(j, "after_start_us", known(&c->from_start));
        bench_json_latency(j, "udkd_wake_us", known(&c->udkd_wake));
        bench_json_latency(j, "udkd_busy_us", known(&c->udkd_busy));
        bench_json_uint(j, "cycles", c->cycles);
        bench_json_uint(j, "late", c->late);
        bench_json_number(j, "cpu_per_cycle_us", c->cpu_us_per_cycle, 3);
        bench_json_string(j, "cpus", cpus);
        bench_json_bool(j, "realtime", c->realtime);
        bench_json_end_object(j);
}

static void json_targets(struct bench_json *j, const struct bench_chain_report *rep)
{
        double ratio = bench_chain_floor_ratio(rep);

        bench_json_begin_object(j, "targets");
        bench_json_begin_object(j, "per_hop_p50");
        bench_json_number(j, "us", rep->per_hop.count ? rep->per_hop.p50 : NAN, 3);
        bench_json_number(j, "limit_us", BENCH_CHAIN_HOP_TARGET_US, 1);
        bench_json_bool(j, "pass", bench_chain_hop_pass(rep));
        bench_json_end_object(j);
        bench_json_begin_object(j, "floor_ratio");
        bench_json_number(j, "ratio", ratio, 3);
        bench_json_number(j, "limit", BENCH_CHAIN_FLOOR_RATIO, 2);
        if (isnan(ratio))
                bench_json_null(j, "pass");
        else
                bench_json_bool(j, "pass", bench_chain_floor_pass(rep));
        bench_json_end_object(j);
        bench_json_end_object(j);
}

static void json_settings(struct bench_json *j, const struct bench_chain_report *rep)
{
        bench_json_begin_object(j, "settings");
        bench_json_uint(j, "clients", rep->opt.clients);
        bench_json_uint(j, "period", rep->opt.period);
        bench_json_uint(j, "rate", rep->opt.rate);
        bench_json_number(j, "seconds", rep->opt.seconds, 3);
        bench_json_bool(j, "pin", rep->opt.pin);
        bench_json_string(j, "placement", rep->placement);
        if (rep->server_cpu >= 0)
                bench_json_uint(j, "server_cpu", (uint64_t)rep->server_cpu);
        else
                bench_json_null(j, "server_cpu");
        if (rep->client_cpu >= 0)
                bench_json_uint(j, "client_cpu", (uint64_t)rep->client_cpu);
        else
                bench_json_null(j, "client_cpu");
        bench_json_bool(j, "server_realtime", rep->server_realtime);
        bench_json_uint(j, "server_priority", BENCH_CHAIN_UDKD_PRIORITY);
        bench_json_bool(j, "clients_realtime", rep->clients_realtime);
        bench_json_uint(j, "client_priority", BENCH_CHAIN_PRIORITY);
        bench_json_string(j, "source", "silence");
        bench_json_uint(j, "channels", BENCH_CHAIN_CHANNELS);
        bench_json_string(j, "cpu_method", bench_cpu_method_name(rep->cpu_method));
        bench_json_bool(j, "floor_realtime", rep->floor_realtime);
        if (rep->floor_cpu >= 0)
                bench_json_uint(j, "floor_cpu", (uint64_t)rep->floor_cpu);
        else
                bench_json_null(j, "floor_cpu");
        bench_json_end_object(j);
}

void bench_chain_print_json(const struct bench_chain_report *rep, FILE *out)
{
        struct bench_json j;

        bench_json_init(&j, out);
        bench_json_begin_object(&j, NULL);
        bench_json_latency(&j, "per_hop_us", known(&rep->per_hop));
        bench_json_latency(&j, "first_wake_us", known(&rep->first_wake));
        bench_json_latency(&j, "cycle_us", known(&rep->cycle));
        bench_json_number(&j, "cpu_per_cycle_us", rep->cpu_per_cycle_us, 3);
        bench_json_uint(&j, "xruns", rep->xruns);
        bench_json_uint(&j, "late", rep->late);
        bench_json_latency(&j, "floor_us", known(&rep->floor));
        bench_json_number(&j, "floor_ratio", bench_chain_floor_ratio(rep), 3);
        bench_json_uint(&j, "cycles", rep->cycles);
        bench_json_number(&j, "server_cpu_per_cycle_us", rep->server_cpu_per_cycle_us, 3);
        bench_json_uint(&j, "bad_times", rep->bad_times);
        bench_json_begin_array(&j, "clients");
        for (unsigned i = 0; i < rep->opt.clients; i++)
                json_client(&j, &rep->client[i], i);
        bench_json_end_array(&j);
        json_targets(&j, rep);
        json_settings(&j, rep);
        bench_json_begin_object(&j, "machine");
        bench_json_uint(&j, "cpus", rep->machine.cpus);
        bench_json_string(&j, "cpu_model", rep->machine.cpu_model);
        bench_json_string(&j, "kernel", rep->machine.kernel);
        bench_json_end_object(&j);
        bench_json_end_object(&j);
}
