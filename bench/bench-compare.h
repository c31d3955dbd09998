/* SPDX-License-Identifier: MIT */
/*
 * udk-bench compare: the chain of `udk-bench chain` on udkd, JACK2 and
 * PipeWire, one after the other, measured by the same code.
 *
 *   bench-compare-table.c   the time stamps every client writes (shared memory)
 *                           and the statistics drawn from them
 *   bench-compare-report.c  options, ratios, targets, the table and the JSON
 *   bench-svg.c             the per-hop distributions as an SVG
 *   bench-servers.c         starting and stopping jackd, pipewire, stress-ng
 *   bench-jack-client.c     the libjack client (udk-bench-jack-client)
 *   bench-compare.c         the run
 *
 * docs/benchmarks.md defines every figure.
 */
#ifndef UDK_BENCH_COMPARE_H
#define UDK_BENCH_COMPARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <udk/stats.h>

#include "bench-chain.h"

/* --- the time-stamp table, shared by udk-bench and every client --- */

#define BENCH_COMPARE_TABLE_VERSION 1u
#define BENCH_COMPARE_SLOTS         8192u /* cycles a client's ring holds: 2.7 s at 16 frames */

/*
 * One cycle of one client.  Written like a seqlock by the client alone:
 * seq 0, a release fence, the times, then seq (release).  A reader that
 * sees the same seq before and after its reads has a consistent slot.
 */
struct bench_compare_slot {
        _Atomic uint64_t seq;   /* the cycle's number (client 1's count, from 1); 0: being written */
        _Atomic uint64_t start; /* client 1 only: the server's cycle start, CLOCK_MONOTONIC ns */
        _Atomic uint64_t tick;  /* client 1 only: the cycle's clock time, CLOCK_MONOTONIC ns */
        _Atomic uint64_t entry; /* the process callback's first instruction, ns */
        _Atomic uint64_t exit;  /* its last, ns */
};

_Static_assert(sizeof(struct bench_compare_slot) == 40, "compare slot layout");

enum bench_compare_client_state {
        BENCH_COMPARE_CLIENT_STARTING = 0,
        BENCH_COMPARE_CLIENT_READY = 1,  /* in the graph, its callback has run */
        BENCH_COMPARE_CLIENT_FAILED = 2, /* error says why */
};

struct bench_compare_client {
        _Atomic uint32_t state;    /* enum bench_compare_client_state */
        _Atomic uint32_t realtime; /* its process thread runs SCHED_FIFO/RR */
        _Atomic uint64_t latest;   /* seq of the last cycle it stamped */
        _Atomic uint64_t xruns;    /* xrun callbacks (JACK clients) */
        _Atomic uint64_t orphans;  /* cycles it ran that client 1 had not started */
        _Atomic uint64_t cpus;     /* CPUs its callback ran on (bit n: CPU n; 63: 63 and above) */
        _Atomic uint64_t callbacks;
        char error[256];
        struct bench_compare_slot slots[BENCH_COMPARE_SLOTS];
};

struct bench_compare_table {
        uint32_t version; /* BENCH_COMPARE_TABLE_VERSION */
        uint32_t clients;
        /* Client 1's cycle: its key (low 32 bits of the frame count) << 32 | its seq. */
        _Atomic uint64_t current;
        uint64_t reserved[6]; /* must be 0 */
        struct bench_compare_client client[BENCH_CHAIN_CLIENTS_MAX];
};

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "lock-free 64-bit atomics in shared memory");

/*
 * A table for @clients clients in a new memfd (close-on-exec), mapped
 * shared: forked children inherit the mapping, exec'd ones map the fd.
 * -EINVAL for 0 or more than BENCH_CHAIN_CLIENTS_MAX clients.
 */
int bench_compare_table_create(unsigned clients, int *ret_fd, struct bench_compare_table **ret);
/* Map the table of @fd (an exec'd client); -EPROTO for a version or size that does not fit. */
int bench_compare_table_map(int fd, struct bench_compare_table **ret);
/* Accepts NULL; returns NULL. */
struct bench_compare_table *bench_compare_table_unmap(struct bench_compare_table *t);

/*
 * Record one callback of client @index (0-based): @key names the cycle
 * (the same in every client of one cycle: the frame count at its start),
 * @start and @tick (client 1 only) the server's cycle start and clock time,
 * @entry and @exit the callback's.  A later client whose @key is not client
 * 1's current cycle counts an orphan.  RT-safe: atomics only.
 */
void bench_compare_stamp(struct bench_compare_table *t, unsigned index, uint32_t key, uint64_t start,
                         uint64_t tick, uint64_t entry, uint64_t exit);

/* Say the client is in the graph (READY), or why it failed (FAILED; printf-like). */
void bench_compare_client_ready(struct bench_compare_table *t, unsigned index, bool realtime);
void bench_compare_client_fail(struct bench_compare_table *t, unsigned index, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* --- statistics from the table --- */

/*
 * Nanoseconds, from the stamps of one cycle (see docs/benchmarks.md).  A hop
 * is client k's entry minus client k-1's exit, for k = 2..N: the servers
 * give client 1's start on clocks that do not compare (see first_wake), so
 * it is not a hop.
 */
struct bench_compare_stats {
        struct udk_histogram per_hop;                      /* the hops of clients 2..N */
        struct udk_histogram first_wake;                   /* client 1: entry - start */
        struct udk_histogram first_tick;                   /* client 1: entry - tick */
        struct udk_histogram cycle;                        /* last client's exit - client 1's entry */
        struct udk_histogram hop[BENCH_CHAIN_CLIENTS_MAX]; /* [0]: first_wake, [k]: client k+1's hop */
        uint64_t cycles;                                   /* complete cycles counted */
        uint64_t incomplete;                               /* cycles some client did not stamp */
        uint64_t bad_times;    /* complete cycles whose clients overlapped (not counted) */
        uint64_t lost;         /* cycles overwritten before they were read */
        uint64_t early_starts; /* counted cycles whose start came after client 1's entry (not in first_wake)
                                */
        uint64_t early_ticks;  /* the same for the tick (not in first_tick) */
};

void bench_compare_stats_reset(struct bench_compare_stats *s);

/* Add one cycle's stamps (@n clients); false (and bad_times) when out of order. */
bool bench_compare_stats_add(struct bench_compare_stats *s, unsigned n, uint64_t start, uint64_t tick,
                             const uint64_t *entry, const uint64_t *exit);

/*
 * Reads the table while the clients write it.  begin() marks the first
 * cycle (the one after client 1's latest), poll() adds every cycle client 1
 * is two cycles past, end() marks the last (client 1's latest) and
 * finish() adds what is left, waiting up to @timeout_ms for it.
 */
struct bench_compare_collector {
        struct bench_compare_table *table;
        struct bench_compare_stats *stats;
        uint64_t next; /* seq of the next cycle to read */
        uint64_t last; /* 0 until end() */
};

void bench_compare_collect_begin(struct bench_compare_collector *c, struct bench_compare_table *t,
                                 struct bench_compare_stats *s);
void bench_compare_collect_poll(struct bench_compare_collector *c);
void bench_compare_collect_end(struct bench_compare_collector *c);
void bench_compare_collect_finish(struct bench_compare_collector *c, int timeout_ms);

/* --- options --- */

enum bench_server {
        BENCH_SERVER_UDK = 0,
        BENCH_SERVER_JACK2,
        BENCH_SERVER_PIPEWIRE,
        _BENCH_SERVER_MAX,
};

/* "udk", "jack2", "pipewire". */
const char *bench_server_name(enum bench_server s);

/* How to install @s's server on Debian ("apt-get install jackd2"). */
const char *bench_server_install_hint(enum bench_server s);

struct bench_compare_options {
        struct bench_chain_options chain; /* clients, period, rate, seconds, pin, json */
        bool load;
        const char *plot; /* SVG file; NULL: none */
        bool servers[_BENCH_SERVER_MAX];
};

void bench_compare_options_defaults(struct bench_compare_options *o);

/* 1 to exit 0 at once (--help printed), 0 to go on, -EINVAL for a usage
 * error (said on stderr). */
int bench_compare_parse_options(int argc, char **argv, struct bench_compare_options *o);

/* --- results --- */

enum bench_compare_status {
        BENCH_COMPARE_NOT_RUN = 0, /* not asked for with --servers */
        BENCH_COMPARE_OK,
        BENCH_COMPARE_MISSING, /* why: how to install it */
        BENCH_COMPARE_FAILED,  /* why: what went wrong */
};

struct bench_compare_result {
        enum bench_server server;
        enum bench_compare_status status;
        char why[256];
        char version[64]; /* "jackd 1.9.21", ... */
        struct bench_latency per_hop, first_wake, first_tick, cycle;
        struct bench_latency hop[BENCH_CHAIN_CLIENTS_MAX];
        double cpu_per_cycle_us;        /* server and clients */
        double server_cpu_per_cycle_us; /* the server alone */
        uint64_t xruns;
        bool late_known; /* udk only */
        uint64_t late;
        uint64_t cycles, incomplete, bad_times, lost, orphans;
        uint64_t early_starts, early_ticks; /* see struct bench_compare_stats */
        int server_priority;                /* highest SCHED_FIFO/RR priority among its threads; 0: none */
        int client_priority;                /* lowest among the clients' RT threads; 0: none */
        int64_t cpu;                        /* --pin: the CPU every RT thread was put on; -1: not pinned */
        uint64_t client_cpus;               /* CPUs the clients' callbacks ran on */
        struct udk_histogram per_hop_hist;  /* ns, for the plot */
};

struct bench_compare_report {
        struct bench_compare_options opt;
        struct bench_machine machine;
        enum bench_cpu_method cpu_method;
        bool load_ran;       /* stress-ng ran during the measurements */
        char load_note[160]; /* what --load did, or why it did not */
        struct bench_compare_result result[_BENCH_SERVER_MAX];
};

/* @other's / udk's; NAN when either is unknown or udk's is not above 0. */
double bench_compare_ratio(double other, double udk);

/* The targets of the issue, each PASS, FAIL or n/a. */
enum bench_target_verdict {
        BENCH_TARGET_NA = 0,
        BENCH_TARGET_PASS,
        BENCH_TARGET_FAIL,
};

struct bench_compare_target {
        char text[160]; /* what is compared, with both figures */
        enum bench_target_verdict verdict;
};

#define BENCH_COMPARE_TARGETS_MAX 12u

/* The targets that apply to @rep (the fractions depend on --pin). */
size_t bench_compare_targets(const struct bench_compare_report *rep, struct bench_compare_target *ret,
                             size_t max);

void bench_compare_print_table(const struct bench_compare_report *rep, FILE *out);
void bench_compare_print_json(const struct bench_compare_report *rep, FILE *out);

/* --- the plot --- */

struct bench_svg_series {
        const char *name;
        const struct udk_histogram *hist; /* ns */
};

/*
 * The complementary CDF of each series (the fraction of samples above x,
 * log scale, against x in microseconds, log scale) as an SVG document with
 * @title, axes labelled in us, and a legend with each series' p50 and
 * p99.9.  Series without samples are listed as such in the legend.
 * 0, or a negative errno of the stream.
 */
int bench_svg_write_ccdf(FILE *out, const char *title, const struct bench_svg_series *series, size_t n);

#endif
