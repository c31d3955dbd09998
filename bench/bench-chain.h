/* SPDX-License-Identifier: MIT */
/*
 * The parts of `udk-bench chain`: the options and the report
 * (bench-chain-report.c), the client processes (bench-chain-client.c), the
 * futex ping-pong that gives the machine's floor (bench-pingpong.c), and
 * the run that starts udkd and puts them together (bench-chain.c).
 * docs/benchmarks.md says what each figure means.
 */
#ifndef UDK_BENCH_CHAIN_H
#define UDK_BENCH_CHAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <udk/object.h>
#include <udk/stats.h>

#include "bench.h"

#define BENCH_CHAIN_CLIENTS_MAX   16u
#define BENCH_CHAIN_PRIORITY      60 /* SCHED_FIFO of the clients' RT threads and of the ping-pong */
#define BENCH_CHAIN_UDKD_PRIORITY 70 /* SCHED_FIFO of udkd's RT thread (its default) */
#define BENCH_CHAIN_CHANNELS      2u
#define BENCH_CHAIN_GAIN          0.891251f /* -1 dB, applied by each client's callback */
#define BENCH_CHAIN_HOP_TARGET_US 5.0
#define BENCH_CHAIN_FLOOR_RATIO   1.5

/* --- options --- */

struct bench_chain_options {
        unsigned clients; /* 1..BENCH_CHAIN_CLIENTS_MAX */
        uint32_t period;  /* frames */
        uint32_t rate;    /* Hz */
        double seconds;   /* measured, after every client joined */
        bool pin;         /* placement same-cpu rather than auto */
        bool json;
};

void bench_chain_options_defaults(struct bench_chain_options *o);

/* 1 to exit 0 at once (--help printed), 0 to go on, -EINVAL for a usage
 * error (said on stderr). */
int bench_chain_parse_options(int argc, char **argv, struct bench_chain_options *o);

/* --- the client processes --- */

/*
 * Shared (MAP_SHARED) between udk-bench and its clients.  The first client
 * writes the cycle's start each cycle before it finishes; the others read it
 * in the same cycle, after the chain's trigger (a release) and their wake
 * (an acquire) ordered it.
 */
struct bench_chain_shared {
        _Atomic uint32_t measuring;      /* set by udk-bench while it measures */
        _Atomic uint32_t start_measured; /* the first client measured this cycle */
        _Atomic uint64_t start_sample_time;
        _Atomic uint64_t start_signal_time; /* the first client's signal time: the cycle start */
};

/* Messages of a client to udk-bench, on its pipe. */
enum bench_chain_msg_kind {
        BENCH_CHAIN_MSG_READY = 1,  /* running in the graph */
        BENCH_CHAIN_MSG_RESULT = 2, /* closed; the figures */
        BENCH_CHAIN_MSG_ERROR = 3,  /* failed: status and error say why */
};

struct bench_chain_msg {
        uint32_t kind; /* enum bench_chain_msg_kind */
        int32_t status;
        udk_object_id node;
        uint32_t realtime; /* the stream's RT thread got SCHED_FIFO */
        uint32_t reserved;
        uint64_t cpus;      /* CPUs the RT thread ran the callback on (bit n: CPU n; 63: 63 and above) */
        uint64_t cycles;    /* callbacks while measuring */
        uint64_t bad_times; /* measured cycles whose times were out of order (not counted) */
        char error[256];
        struct udk_histogram hop;        /* awake - own signal time, ns */
        struct udk_histogram from_start; /* awake - the first client's signal time, ns */
};

struct bench_compare_table;

struct bench_chain_client_setup {
        unsigned index; /* 0-based place in the chain: 0 links to the device, the others chain */
        const char *socket_path;
        struct bench_chain_shared *shared;
        int control_fd;   /* read: a byte or EOF says stop */
        int result_fd;    /* write: READY, then RESULT or ERROR */
        double timeout_s; /* give up waiting for the stop after this */
        /* udk-bench compare: stamp each callback into this table instead of
         * keeping the chain's histograms (bench-compare.h); NULL for chain. */
        struct bench_compare_table *table;
};

/* The body of a client process (forked by udk-bench, no exec): connect,
 * open the stream, say READY, wait for the stop, close, send the RESULT.
 * Returns the exit status. */
int bench_chain_client_run(const struct bench_chain_client_setup *setup);

/* Write / read one whole message; 0 or a negative errno (-EPIPE: the other
 * end closed, -ETIMEDOUT after @timeout_ms for the read). */
int bench_chain_msg_write(int fd, const struct bench_chain_msg *msg);
int bench_chain_msg_read(int fd, struct bench_chain_msg *msg, int timeout_ms);

/* --- the udk side of udk-bench compare --- */

/*
 * Called for the measurement instead of chain's sleep, once every client
 * runs: @server is udkd, @clients the client processes.  0 or a negative
 * errno (which ends the run).
 */
struct bench_chain_hook {
        int (*measure)(void *data, pid_t server, const pid_t *clients, unsigned n_clients);
        void *data;
        struct bench_compare_table *table; /* passed to the clients (see struct bench_chain_client_setup) */
};

struct bench_chain_report;

/*
 * udkd and the chain of @opt, measured by @hook: chain's run without the
 * floor and without printing.  The report gets chain's figures of udkd
 * (placement, CPUs, xruns, late, priorities); the clients' histograms stay
 * empty.  Everything started is stopped before it returns.
 */
int bench_chain_run_hooked(const struct bench_chain_options *opt, const struct bench_chain_hook *hook,
                           struct bench_chain_report *rep);

/* --- the floor --- */

struct bench_pingpong_setup {
        double seconds;
        uint64_t period_ns;   /* one burst of round trips every period */
        unsigned round_trips; /* per period */
        int priority;         /* SCHED_FIFO priority of both processes; 0: normal */
        int cpu;              /* both processes on this CPU; -1: where the scheduler puts them */
};

struct bench_pingpong_result {
        struct bench_latency hop; /* one process's wake after the other's wake call, us */
        bool realtime;            /* both got SCHED_FIFO */
};

/*
 * Two processes wake each other through futexes in shared memory, as a
 * chain's clients do: FUTEX_WAKE after a time stamp, FUTEX_WAIT, time stamp
 * on the other side.  Progress and errors go to the log; 0 or a negative
 * errno.
 */
int bench_pingpong_run(const struct bench_pingpong_setup *setup, struct bench_pingpong_result *ret);

/* --- the report --- */

struct bench_chain_client_report {
        udk_object_id node;
        struct bench_latency hop;        /* after its own trigger */
        struct bench_latency from_start; /* after the cycle start */
        struct bench_latency udkd_wake;  /* udkd's figures of the node over its life */
        struct bench_latency udkd_busy;
        uint64_t cycles; /* measured */
        uint64_t late;   /* during the measurement */
        uint64_t cpus;   /* see struct bench_chain_msg */
        bool realtime;
        double cpu_us_per_cycle;
};

struct bench_chain_report {
        struct bench_chain_options opt;
        struct bench_machine machine;
        char placement[32]; /* the device's setting, as udkd reports it */
        int64_t server_cpu; /* the device's RT thread's CPU; -1: not pinned */
        int64_t client_cpu; /* the CPU udkd places the clients' RT threads on; -1: none */
        bool server_realtime;
        bool clients_realtime;
        enum bench_cpu_method cpu_method;
        struct bench_chain_client_report client[BENCH_CHAIN_CLIENTS_MAX];
        struct bench_latency per_hop;    /* every client's hop */
        struct bench_latency first_wake; /* the first client's */
        struct bench_latency cycle;      /* udkd's graph times: first trigger to last finish */
        struct bench_latency floor;      /* the ping-pong's hops */
        bool floor_realtime;
        int floor_cpu;           /* -1: not pinned */
        double cpu_per_cycle_us; /* udkd plus the clients */
        double server_cpu_per_cycle_us;
        uint64_t cycles; /* the device's, during the measurement */
        uint64_t xruns;
        uint64_t late;
        uint64_t bad_times;
};

/* per-hop p50 / floor p50; NAN without a floor. */
double bench_chain_floor_ratio(const struct bench_chain_report *rep);
bool bench_chain_hop_pass(const struct bench_chain_report *rep);
bool bench_chain_floor_pass(const struct bench_chain_report *rep);

/* "1", "0,1", "-" for none: the CPUs of a mask (bit 63: 63 and above). */
void bench_cpu_mask_format(uint64_t mask, char *buf, size_t size);

void bench_chain_print_table(const struct bench_chain_report *rep, FILE *out);
void bench_chain_print_json(const struct bench_chain_report *rep, FILE *out);

#endif
