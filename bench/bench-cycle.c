/* SPDX-License-Identifier: MIT */
/*
 * udk-bench cycle: what one IO cycle costs (time and instructions, with 0, 1
 * and 4 gain handlers) and how late the virtual clock wakes next to
 * cyclictest, with the project's targets checked.  docs/benchmarks.md says
 * what each figure means.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <udk/device.h>
#include <udk/dsp.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-cycle.h"
#include "udk-build-config.h"

#define DEFAULT_SECONDS    5.0
#define DEFAULT_CYCLES     200000u
#define DEFAULT_PRIORITY   80
#define REPETITIONS        5u
#define OVERHEAD_TARGET_NS 1000.0 /* with one gain handler, 64 frames, stereo */
#define WAKE_TARGET_RATIO  1.2    /* udk's p99 against cyclictest's */
#define SECONDS_MAX        3600.0
#define CYCLES_MAX         1000000000

static const uint32_t wake_periods[] = { 16, 64, 256 };

/* The cost rows: first the bare loop, then the sine rows the JSON results list. */
static const struct {
        const char *source;
        unsigned handlers;
} cost_rows[] = {
        { "silence", 0 },
        { "sine", 0 },
        { "sine", 1 },
        { "sine", 4 },
};
#define ROW_BARE      0
#define ROW_SINE_ZERO 1
#define ROW_ONE_GAIN  2

struct cycle_options {
        bool json;
        double seconds;
        uint64_t cycles;
        int priority;
        bool cyclictest;
        bool callgrind;
};

struct cycle_report {
        struct bench_machine machine;
        struct cycle_options opt;
        enum bench_instr_method method;
        char instr_note[256]; /* why instructions were not counted under callgrind, or at all */
        struct bench_cost cost[UDK_ELEMENTSOF(cost_rows)];
        struct bench_wake wake[UDK_ELEMENTSOF(wake_periods)];
        bool cost_realtime; /* the cost was timed under SCHED_FIFO */
        bool memory_locked;
        bool dma_latency_held;
};

/* --- options --- */

static void cycle_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench cycle [OPTION]...\n"
                "Measure the IO cycle of a virtual device (48 kHz, stereo, float32):\n"
                "  1. its cost at 64 frames with 0, 1 and 4 gain handlers (ns and instructions per cycle);\n"
                "  2. the wake lateness of its clock at 16, 64 and 256 frames, next to cyclictest's.\n"
                "\n"
                "      --json            print the results as JSON on stdout (progress stays on stderr)\n"
                "      --seconds S       run each wake-lateness measurement S seconds (default %g)\n"
                "      --cycles N        time N cycles per repetition of the cost (default %u)\n"
                "      --priority P      SCHED_FIFO priority of udk's RT thread and of cyclictest\n"
                "                        (0..99, default %d; 0 runs at normal priority)\n"
                "      --no-cyclictest   do not run cyclictest (its figures are null)\n"
                "      --no-callgrind    count instructions with perf_event_open, not callgrind\n"
                "  -h, --help            print this help and exit\n"
                "\n"
                "DSP plugins come from $UDK_PLUGIN_PATH, else ../plugins/dsp next to udk-bench, else %s.\n",
                DEFAULT_SECONDS, DEFAULT_CYCLES, DEFAULT_PRIORITY, UDK_PLUGIN_DIR);
}

enum {
        ARG_JSON = BENCH_LONG_OPTION_FIRST,
        ARG_SECONDS,
        ARG_CYCLES,
        ARG_PRIORITY,
        ARG_NO_CYCLICTEST,
        ARG_NO_CALLGRIND,
        ARG_HANDLERS,
        ARG_SOURCE,
        ARG_PLUGIN_PATH,
};

/* 1 to exit 0 at once (help), 0 to go on, -EINVAL for a usage error. */
static int parse_cycle_options(int argc, char **argv, struct cycle_options *o)
{
        static const struct option long_options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "cycles", required_argument, NULL, ARG_CYCLES },
                { "priority", required_argument, NULL, ARG_PRIORITY },
                { "no-cyclictest", no_argument, NULL, ARG_NO_CYCLICTEST },
                { "no-callgrind", no_argument, NULL, ARG_NO_CALLGRIND },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int64_t v;
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_JSON:
                        o->json = true;
                        break;
                case ARG_SECONDS:
                        if (udk_parse_double(optarg, 0.01, SECONDS_MAX, &o->seconds) < 0)
                                return bench_usage_error("cycle",
                                                         "--seconds '%s': not a number of seconds (%g..%g)",
                                                         optarg, 0.01, SECONDS_MAX);
                        break;
                case ARG_CYCLES:
                        if (bench_parse_option_int("cycle", "--cycles", optarg, 1, CYCLES_MAX, &v) < 0)
                                return -EINVAL;
                        o->cycles = (uint64_t)v;
                        break;
                case ARG_PRIORITY:
                        if (bench_parse_option_int("cycle", "--priority", optarg, 0, 99, &v) < 0)
                                return -EINVAL;
                        o->priority = (int)v;
                        break;
                case ARG_NO_CYCLICTEST:
                        o->cyclictest = false;
                        break;
                case ARG_NO_CALLGRIND:
                        o->callgrind = false;
                        break;
                case 'h':
                        cycle_usage(stdout);
                        return 1;
                default:
                        return bench_option_error("cycle", c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error("cycle", "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* --- running --- */

static const char *method_name(enum bench_instr_method m)
{
        return m == BENCH_INSTR_CALLGRIND ? "callgrind" : m == BENCH_INSTR_PERF ? "perf" : NULL;
}

static int load_gain(const char *path, struct udk_dsp_module **ret)
{
        char err[1024] = "";
        int r = udk_dsp_module_load("gain", path, ret, err, sizeof(err));

        if (r < 0)
                udk_error("%s; set UDK_PLUGIN_PATH to the folder that holds udk-dsp-gain.so", err);
        return r;
}

static int find_plugins(char *path, size_t size)
{
        int r = bench_plugin_path(path, size);

        if (r < 0)
                udk_error("cannot make the DSP plugin search path: %s", strerror(-r));
        return r;
}

/* Callgrind when it can, else the CPU's counter, else none (with the reasons in instr_note). */
static enum bench_instr_method choose_method(struct cycle_report *rep, char *valgrind, size_t size)
{
        const char *why;
        int r;

        if (!rep->opt.callgrind)
                why = "callgrind not run (--no-callgrind)";
        else if (UDK_HAVE_ASAN)
                why = "callgrind not run: udk-bench is built with AddressSanitizer, "
                      "which valgrind cannot run";
        else if (bench_find_program("valgrind", valgrind, size) < 0)
                why = "callgrind not run: no valgrind in PATH";
        else
                return BENCH_INSTR_CALLGRIND;

        r = bench_cost_perf_probe();
        if (r == 0) {
                snprintf(rep->instr_note, sizeof(rep->instr_note), "%s", why);
                udk_info("%s; counting instructions with perf_event_open", why);
                return BENCH_INSTR_PERF;
        }
        snprintf(rep->instr_note, sizeof(rep->instr_note), "%s; no perf counter (perf_event_open: %s)", why,
                 strerror(-r));
        udk_warn("instructions per cycle not counted: %s", rep->instr_note);
        return BENCH_INSTR_NONE;
}

static bool instructions_known(const struct cycle_report *rep)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->cost); i++)
                if (!isnan(rep->cost[i].instructions[0]))
                        return true;
        return false;
}

/* Time the cost as the RT thread runs, at the benchmark's priority, so
 * other processes cannot take the CPU in the middle of a run.  Children
 * (valgrind, cyclictest) start at normal priority. */
static bool enter_realtime(int priority)
{
        struct sched_param p = { .sched_priority = priority };

        if (priority <= 0)
                return false;
        if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) < 0) {
                udk_warn("cycle cost timed at normal priority: SCHED_FIFO %d refused (%s)", priority,
                         strerror(errno));
                return false;
        }
        return true;
}

static void leave_realtime(void)
{
        struct sched_param p = { .sched_priority = 0 };

        sched_setscheduler(0, SCHED_OTHER, &p);
}

static int time_cost(struct cycle_report *rep, const struct bench_cost_setup *setup)
{
        int r;

        for (size_t i = 0; i < UDK_ELEMENTSOF(cost_rows); i++)
                rep->cost[i] = (struct bench_cost){ .source = cost_rows[i].source,
                                                    .handlers = cost_rows[i].handlers,
                                                    .instructions = { NAN, NAN } };
        rep->cost_realtime = enter_realtime(rep->opt.priority);
        r = bench_cost_measure(setup, rep->cost, UDK_ELEMENTSOF(rep->cost));
        if (rep->cost_realtime)
                leave_realtime();
        return r;
}

static int run_cost(struct cycle_report *rep, const struct bench_cost_setup *setup)
{
        char valgrind[4096] = "";
        int r;

        r = time_cost(rep, setup);
        if (r < 0)
                return r;

        rep->method = choose_method(rep, valgrind, sizeof(valgrind));
        for (size_t i = 0; rep->method != BENCH_INSTR_NONE && i < UDK_ELEMENTSOF(cost_rows); i++) {
                udk_info("instructions per cycle (%s): source %s, %u gain handler%s, counted twice",
                         method_name(rep->method), rep->cost[i].source, rep->cost[i].handlers,
                         rep->cost[i].handlers == 1 ? "" : "s");
                bench_cost_instructions(setup, rep->method, valgrind, &rep->cost[i]);
        }
        if (rep->method != BENCH_INSTR_NONE && !instructions_known(rep)) {
                snprintf(rep->instr_note, sizeof(rep->instr_note),
                         "%s could not count them (see the messages above)", method_name(rep->method));
                rep->method = BENCH_INSTR_NONE;
        }
        return 0;
}

/* Why cyclictest will not run, or NULL with its path in @path. */
static const char *find_cyclictest(const struct cycle_options *o, char *path, size_t size)
{
        if (!o->cyclictest)
                return "cyclictest not run (--no-cyclictest)";
        if (bench_find_program("cyclictest", path, size) < 0)
                return "cyclictest not found in PATH (rt-tests package)";
        return NULL;
}

static int run_wake(struct cycle_report *rep)
{
        char cyclictest[4096];
        const char *missing = find_cyclictest(&rep->opt, cyclictest, sizeof(cyclictest));
        struct bench_wake_setup setup = {
                .priority = rep->opt.priority,
                .seconds = rep->opt.seconds,
                .cyclictest = missing ? NULL : cyclictest,
        };
        _udk_cleanup_close_ int dma = -1;
        int r = 0;

        if (missing)
                udk_warn("%s: its figures will be null", missing);
        /* The conditions cyclictest makes for itself (-m, and the CPU kept out
         * of deep idle states), udk gets too. */
        rep->memory_locked = udk_rt_lock_memory() == 0 && !UDK_HAVE_ASAN;
        dma = bench_wake_hold_dma_latency();
        rep->dma_latency_held = dma >= 0;

        for (size_t i = 0; r == 0 && i < UDK_ELEMENTSOF(wake_periods); i++) {
                struct bench_wake *w = &rep->wake[i];
                *w = (struct bench_wake){ .period = wake_periods[i] };
                if (missing)
                        udk_strlcpy(w->cyclictest_note, missing, sizeof(w->cyclictest_note));
                r = bench_wake_measure(&setup, w);
        }
        return r;
}

static int run(struct cycle_report *rep)
{
        struct udk_dsp_module *gain = NULL;
        char path[8192];
        int r;

        bench_machine_get(&rep->machine);
        r = find_plugins(path, sizeof(path));
        if (r == 0)
                r = load_gain(path, &gain);
        if (r == 0) {
                struct bench_cost_setup setup = {
                        .gain = udk_dsp_module_plugin(gain),
                        .plugin_path = path,
                        .cycles = rep->opt.cycles,
                        .repetitions = REPETITIONS,
                };
                r = run_cost(rep, &setup);
        }
        udk_dsp_module_unload(gain);
        if (r == 0)
                r = run_wake(rep);
        return r;
}

/* --- figures --- */

static double overhead_ns(const struct bench_cost *c)
{
        return c->ns_per_cycle - c->work_ns;
}

/* What each handler adds to the cycle, against the same source with none. */
static double per_handler_ns(const struct cycle_report *rep, const struct bench_cost *c)
{
        if (c->handlers == 0)
                return NAN;
        return (c->ns_per_cycle - rep->cost[ROW_SINE_ZERO].ns_per_cycle) / c->handlers;
}

static bool overhead_pass(const struct cycle_report *rep)
{
        return overhead_ns(&rep->cost[ROW_ONE_GAIN]) <= OVERHEAD_TARGET_NS;
}

static double wake_ratio(const struct bench_wake *w)
{
        if (!w->has_cyclictest || !(w->cyclictest.p99 > 0))
                return NAN;
        return w->udk.p99 / w->cyclictest.p99;
}

static bool wake_pass(const struct bench_wake *w)
{
        return w->has_cyclictest && w->udk.p99 <= WAKE_TARGET_RATIO * w->cyclictest.p99;
}

/*
 * Two counts agree within 0.01 %: the cycle's statistics take a branch or
 * two more or less depending on the times they record (a new minimum or
 * maximum), a handful of instructions over thousands of cycles.
 */
static bool instructions_repeatable(const struct bench_cost *c)
{
        return !isnan(c->instructions[0]) &&
               fabs(c->instructions[0] - c->instructions[1]) <= 1e-4 * c->instructions[0];
}

/* --- the table --- */

/* "%*.*f", or "-" in that width for NAN. */
static void print_value(double v, int width, int decimals)
{
        if (isnan(v))
                printf(" %*s", width, "-");
        else
                printf(" %*.*f", width, decimals, v);
}

static void print_cost(const struct cycle_report *rep)
{
        printf("IO cycle cost at %u frames (median of %u runs of %" PRIu64 " cycles, %s)\n",
               BENCH_COST_PERIOD, REPETITIONS, rep->opt.cycles,
               rep->cost_realtime ? "SCHED_FIFO" : "normal priority");
        printf("  source   handlers  ns/cycle   work ns  overhead ns  ns/handler  instr/cycle  again\n");
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->cost); i++) {
                const struct bench_cost *c = &rep->cost[i];
                printf("  %-8s %8u", c->source, c->handlers);
                print_value(c->ns_per_cycle, 9, 1);
                print_value(c->work_ns, 9, 1);
                print_value(overhead_ns(c), 12, 1);
                print_value(per_handler_ns(rep, c), 11, 1);
                print_value(c->instructions[0], 12, 1);
                print_value(c->instructions[1], 6, 1);
                printf("\n");
        }
        printf("  bare loop (no handler, silence): %.1f ns/cycle\n", rep->cost[ROW_BARE].ns_per_cycle);
        printf("  work: the backend read, each handler and the backend write called directly,\n"
               "  without the cycle; overhead = ns/cycle - work;\n"
               "  ns/handler = (ns/cycle - sine with no handler) / handlers.\n");
        if (rep->method == BENCH_INSTR_NONE) {
                printf("  instructions: not counted (%s)\n", rep->instr_note);
                return;
        }
        bool same = true;
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->cost); i++)
                same &= instructions_repeatable(&rep->cost[i]);
        printf("  instructions/cycle by %s, counted twice: %s\n", method_name(rep->method),
               same ? "the same both times, within 0.01%" : "the counts differ by more than 0.01% (see \"again\")");
}

static void print_latency(const struct bench_latency *l, bool known)
{
        if (!known) {
                printf(" %7s %7s %7s %7s", "-", "-", "-", "-");
                return;
        }
        printf(" %7.1f %7.1f %7.1f %7.1f", l->p50, l->p99, l->p999, l->max);
}

/* Why cyclictest figures are missing, each reason once. */
static void print_cyclictest_notes(const struct cycle_report *rep)
{
        const char *last = NULL;

        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->wake); i++) {
                const struct bench_wake *w = &rep->wake[i];
                if (w->has_cyclictest || (last && strcmp(last, w->cyclictest_note) == 0))
                        continue;
                printf("  no cyclictest figures%s: %s\n", i == 0 ? "" : " from here on", w->cyclictest_note);
                last = w->cyclictest_note;
        }
}

static void print_wake(const struct cycle_report *rep)
{
        printf("\nWake lateness of the virtual clock in us (%u Hz, priority %d,\n"
               "%g s per period size and tool, memory %slocked, /dev/cpu_dma_latency %s)\n",
               BENCH_RATE, rep->opt.priority, rep->opt.seconds, rep->memory_locked ? "" : "not ",
               rep->dma_latency_held ? "held at 0" : "not set");
        printf("                   ---------- udk ----------  xruns  ------- cyclictest -------  p99\n"
               "  period interval     p50     p99   p99.9     max         "
               "   p50     p99   p99.9     max  ratio\n");
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->wake); i++) {
                const struct bench_wake *w = &rep->wake[i];
                printf("  %6u %5u us", w->period, w->interval_us);
                print_latency(&w->udk, true);
                printf(" %6" PRIu64, w->xruns);
                print_latency(&w->cyclictest, w->has_cyclictest);
                print_value(wake_ratio(w), 6, 2);
                printf("%s\n", w->realtime ? "" : "  (RT thread not SCHED_FIFO)");
        }
        print_cyclictest_notes(rep);
        printf("  udk: the RT thread's lateness histogram, bucket upper bounds (at most 6.25%% high);\n"
               "  cyclictest: its 1-us histogram (whole microseconds, truncated).\n");
}

static void print_targets(const struct cycle_report *rep)
{
        const struct bench_cost *one = &rep->cost[ROW_ONE_GAIN];

        printf("\nTargets\n");
        printf("  loop overhead, 1 gain handler, %u frames stereo: %.1f ns <= %.0f ns  %s\n",
               BENCH_COST_PERIOD, overhead_ns(one), OVERHEAD_TARGET_NS,
               overhead_pass(rep) ? "PASS" : "FAIL");
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->wake); i++) {
                const struct bench_wake *w = &rep->wake[i];
                printf("  wake p99 at %3u frames (%4u us): ", w->period, w->interval_us);
                if (!w->has_cyclictest) {
                        printf("udk %.1f us, no cyclictest figure  n/a\n", w->udk.p99);
                        continue;
                }
                printf("udk %.1f us <= %.1f x cyclictest %.1f us = %.1f us  %s\n", w->udk.p99,
                       WAKE_TARGET_RATIO, w->cyclictest.p99, WAKE_TARGET_RATIO * w->cyclictest.p99,
                       wake_pass(w) ? "PASS" : "FAIL");
        }
}

static void print_table(const struct cycle_report *rep)
{
        printf("udk-bench cycle: %s, %u CPUs, Linux %s\n", rep->machine.cpu_model, rep->machine.cpus,
               rep->machine.kernel);
        printf("virtual device, %u Hz, stereo in and out, float32; gain handlers at %s dB\n\n", BENCH_RATE,
               BENCH_GAIN_LEVEL);
        print_cost(rep);
        print_wake(rep);
        print_targets(rep);
}

/* --- JSON --- */

static void json_cost(struct bench_json *j, const struct cycle_report *rep, const struct bench_cost *c)
{
        bench_json_begin_object(j, NULL);
        bench_json_uint(j, "period", BENCH_COST_PERIOD);
        bench_json_uint(j, "handlers", c->handlers);
        bench_json_number(j, "ns_per_cycle", c->ns_per_cycle, 1);
        bench_json_number(j, "instructions_per_cycle", c->instructions[0], 1);
        bench_json_string(j, "source", c->source);
        bench_json_number(j, "work_ns", c->work_ns, 1);
        bench_json_number(j, "loop_overhead_ns", overhead_ns(c), 1);
        bench_json_number(j, "ns_per_handler", per_handler_ns(rep, c), 1);
        bench_json_begin_array(j, "instructions_per_cycle_runs");
        bench_json_number(j, NULL, c->instructions[0], 1);
        bench_json_number(j, NULL, c->instructions[1], 1);
        bench_json_end_array(j);
        bench_json_end_object(j);
}

static void json_wake(struct bench_json *j, const struct bench_wake *w)
{
        bench_json_begin_object(j, NULL);
        bench_json_uint(j, "period", w->period);
        bench_json_latency(j, "udk_us", &w->udk);
        bench_json_latency(j, "cyclictest_us", w->has_cyclictest ? &w->cyclictest : NULL);
        bench_json_uint(j, "interval_us", w->interval_us);
        bench_json_uint(j, "cycles", w->cycles);
        bench_json_uint(j, "xruns", w->xruns);
        bench_json_bool(j, "realtime", w->realtime);
        bench_json_number(j, "p99_ratio", wake_ratio(w), 3);
        if (w->has_cyclictest)
                bench_json_bool(j, "pass", wake_pass(w));
        else
                bench_json_null(j, "pass");
        bench_json_string(j, "cyclictest_note", w->has_cyclictest ? NULL : w->cyclictest_note);
        bench_json_end_object(j);
}

static void json_settings(struct bench_json *j, const struct cycle_report *rep)
{
        bench_json_begin_object(j, "settings");
        bench_json_uint(j, "rate", BENCH_RATE);
        bench_json_uint(j, "channels", 2);
        bench_json_string(j, "format", "f32");
        bench_json_string(j, "gain_level_db", BENCH_GAIN_LEVEL);
        bench_json_uint(j, "cycles", rep->opt.cycles);
        bench_json_uint(j, "repetitions", REPETITIONS);
        bench_json_number(j, "seconds", rep->opt.seconds, 3);
        bench_json_uint(j, "priority", (uint64_t)rep->opt.priority);
        bench_json_bool(j, "cost_sched_fifo", rep->cost_realtime);
        bench_json_string(j, "instructions_method", method_name(rep->method));
        bench_json_string(j, "instructions_note",
                          rep->method == BENCH_INSTR_CALLGRIND ? NULL : rep->instr_note);
        bench_json_bool(j, "memory_locked", rep->memory_locked);
        bench_json_bool(j, "cpu_dma_latency_held", rep->dma_latency_held);
        bench_json_end_object(j);
}

static void json_targets(struct bench_json *j, const struct cycle_report *rep)
{
        bench_json_begin_object(j, "targets");
        bench_json_begin_object(j, "loop_overhead");
        bench_json_number(j, "ns", overhead_ns(&rep->cost[ROW_ONE_GAIN]), 1);
        bench_json_number(j, "limit_ns", OVERHEAD_TARGET_NS, 0);
        bench_json_bool(j, "pass", overhead_pass(rep));
        bench_json_end_object(j);
        bench_json_number(j, "wake_p99_ratio_limit", WAKE_TARGET_RATIO, 2);
        bench_json_end_object(j);
}

static void print_json(const struct cycle_report *rep)
{
        struct bench_json j;

        bench_json_init(&j, stdout);
        bench_json_begin_object(&j, NULL);
        bench_json_begin_array(&j, "results");
        for (size_t i = ROW_SINE_ZERO; i < UDK_ELEMENTSOF(rep->cost); i++)
                json_cost(&j, rep, &rep->cost[i]);
        bench_json_end_array(&j);
        bench_json_begin_array(&j, "wake");
        for (size_t i = 0; i < UDK_ELEMENTSOF(rep->wake); i++)
                json_wake(&j, &rep->wake[i]);
        bench_json_end_array(&j);
        bench_json_number(&j, "bare_loop_ns", rep->cost[ROW_BARE].ns_per_cycle, 1);
        bench_json_number(&j, "bare_loop_instructions_per_cycle", rep->cost[ROW_BARE].instructions[0], 1);
        json_targets(&j, rep);
        json_settings(&j, rep);
        bench_json_begin_object(&j, "machine");
        bench_json_uint(&j, "cpus", rep->machine.cpus);
        bench_json_string(&j, "cpu_model", rep->machine.cpu_model);
        bench_json_string(&j, "kernel", rep->machine.kernel);
        bench_json_end_object(&j);
        bench_json_end_object(&j);
}

int bench_cycle_main(int argc, char **argv)
{
        struct cycle_report rep = {
                .opt = {
                        .seconds = DEFAULT_SECONDS,
                        .cycles = DEFAULT_CYCLES,
                        .priority = DEFAULT_PRIORITY,
                        .cyclictest = true,
                        .callgrind = true,
                },
        };
        int r;

        r = parse_cycle_options(argc, argv, &rep.opt);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;
        if (run(&rep) < 0)
                return EXIT_FAILURE;
        if (rep.opt.json)
                print_json(&rep);
        else
                print_table(&rep);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --- cycle-inner: the loop alone, for callgrind --- */

struct inner_options {
        unsigned handlers;
        uint64_t cycles;
        const char *source;
        const char *plugin_path;
};

static int parse_inner_options(int argc, char **argv, struct inner_options *o)
{
        static const struct option long_options[] = {
                { "handlers", required_argument, NULL, ARG_HANDLERS },
                { "cycles", required_argument, NULL, ARG_CYCLES },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "plugin-path", required_argument, NULL, ARG_PLUGIN_PATH },
                {},
        };
        int64_t v;
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_HANDLERS:
                        if (bench_parse_option_int("cycle-inner", "--handlers", optarg, 0, BENCH_HANDLERS_MAX,
                                                   &v) < 0)
                                return -EINVAL;
                        o->handlers = (unsigned)v;
                        break;
                case ARG_CYCLES:
                        if (bench_parse_option_int("cycle-inner", "--cycles", optarg, 1, CYCLES_MAX, &v) < 0)
                                return -EINVAL;
                        o->cycles = (uint64_t)v;
                        break;
                case ARG_SOURCE:
                        o->source = optarg;
                        break;
                case ARG_PLUGIN_PATH:
                        o->plugin_path = optarg;
                        break;
                default:
                        return bench_option_error("cycle-inner", c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error("cycle-inner", "unexpected argument '%s'", argv[optind]);
        return 0;
}

int bench_cycle_inner_main(int argc, char **argv)
{
        struct inner_options o = { .handlers = 0, .cycles = 2000, .source = "sine" };
        struct udk_dsp_module *gain = NULL;
        char path[8192];
        int r;

        if (parse_inner_options(argc, argv, &o) < 0)
                return BENCH_EXIT_USAGE;
        r = o.plugin_path ? udk_strlcpy(path, o.plugin_path, sizeof(path))
                          : find_plugins(path, sizeof(path));
        if (r == 0)
                r = load_gain(path, &gain);
        if (r == 0)
                r = bench_cost_inner(udk_dsp_module_plugin(gain), o.source, o.handlers, o.cycles);
        udk_dsp_module_unload(gain);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
