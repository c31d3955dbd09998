/* SPDX-License-Identifier: MIT */
/*
 * The parts of `udk-bench cycle`: what the IO cycle costs (bench-cost.c)
 * and how late the virtual clock wakes (bench-wake.c); bench-cycle.c runs
 * them and prints the results.
 */
#ifndef UDK_BENCH_CYCLE_H
#define UDK_BENCH_CYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include <udk/dsp.h>

#include "bench.h"

#define BENCH_RATE            48000u
#define BENCH_COST_PERIOD     64u
#define BENCH_HANDLERS_MAX    4u
#define BENCH_REPETITIONS_MAX 15u
#define BENCH_GAIN_LEVEL      "-1" /* dB: not unity, so the gain really multiplies */

/* --- cost --- */

/* How the instructions per cycle were counted. */
enum bench_instr_method {
        BENCH_INSTR_NONE = 0,
        BENCH_INSTR_CALLGRIND,
        BENCH_INSTR_PERF,
};

struct bench_cost {
        const char *source;     /* the virtual backend's "source": "sine" or "silence" */
        unsigned handlers;      /* gain instances g1..gN, each at BENCH_GAIN_LEVEL dB */
        double ns_per_cycle;    /* median over the repetitions */
        double work_ns;         /* the same backend read, handlers and write called directly */
        double instructions[2]; /* per cycle, two separate counts; NAN when unknown */
};

/* What bench_cost_measure() and bench_cost_instructions() need. */
struct bench_cost_setup {
        const struct udk_dsp_plugin *gain;
        const char *plugin_path;
        uint64_t cycles;      /* timed cycles per repetition */
        unsigned repetitions; /* 1..BENCH_REPETITIONS_MAX */
};

/* Time the @n configurations of @costs (source and handlers), taking turns:
 * fills ns_per_cycle and work_ns.  Progress and errors go to the log;
 * returns 0 or a negative errno. */
int bench_cost_measure(const struct bench_cost_setup *setup, struct bench_cost *costs, size_t n);

/*
 * Count @c's instructions per cycle twice by @method (callgrind needs
 * @valgrind, the path of valgrind): fills c->instructions.  A count that
 * fails leaves NAN and says why in the log.
 */
void bench_cost_instructions(const struct bench_cost_setup *setup, enum bench_instr_method method,
                             const char *valgrind, struct bench_cost *c);

/* Whether this process may count its instructions with perf_event_open:
 * 0 or the negative errno of the refusal. */
int bench_cost_perf_probe(void);

/* The loop of `udk-bench cycle-inner`: @cycles cycles of the configuration
 * (@source, @handlers) and nothing else, for callgrind to count. */
int bench_cost_inner(const struct udk_dsp_plugin *gain, const char *source, unsigned handlers,
                     uint64_t cycles);

/* --- wake lateness --- */

struct bench_wake {
        uint32_t period;      /* frames at BENCH_RATE */
        unsigned interval_us; /* the period in whole microseconds, cyclictest's -i */
        struct bench_latency udk;
        uint64_t cycles, xruns;
        bool realtime; /* the RT thread got SCHED_FIFO */
        bool has_cyclictest;
        struct bench_latency cyclictest;
        char cyclictest_note[160]; /* why there is no cyclictest figure */
};

struct bench_wake_setup {
        int priority;           /* SCHED_FIFO 1..99, 0 for normal */
        double seconds;         /* per period size and per tool */
        const char *cyclictest; /* its path, NULL to skip it (the caller says why in the note) */
};

/* Hold /dev/cpu_dma_latency at 0 as cyclictest does; the fd to close after,
 * or a negative errno when it is not there or refused. */
int bench_wake_hold_dma_latency(void);

/* Measure w->period with udk, then with cyclictest: fills the rest of @w.
 * Returns a negative errno when udk's part failed (cyclictest's failures
 * leave has_cyclictest false and a note). */
int bench_wake_measure(const struct bench_wake_setup *setup, struct bench_wake *w);

#endif
