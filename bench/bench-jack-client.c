/* SPDX-License-Identifier: MIT */
/*
 * udk-bench-jack-client: one client of udk-bench compare's chain on a JACK
 * server (jackd, or PipeWire through its libjack), in its own process so
 * that the dynamic linker picks the server's libjack.  It registers
 * BENCH_CHAIN_CHANNELS input and output ports, copies its input to its
 * output at -1 dB like udk's chain client, joins the chain by connecting the
 * previous client's outputs to its inputs, and stamps each callback's entry
 * and exit into udk-bench's table.
 *
 *   udk-bench-jack-client --index K --table-fd FD --period P --rate R [--cpu C] [--timeout S]
 *   udk-bench-jack-client --probe --period P --rate R [--timeout S]
 *
 * The server is the one libjack finds ($JACK_DEFAULT_SERVER for jackd,
 * $PIPEWIRE_RUNTIME_DIR for PipeWire).  The client runs until its stdin
 * reads EOF.  --probe retries jack_client_open() until the server answers
 * (or the time-out), checks its rate and buffer size and prints "RATE PERIOD".
 * Exit status: 0, 1 on an error (said in the table and on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jack/jack.h>

#include <udk/clock.h>
#include <udk/util.h>

#include "bench-compare.h"

#define CLIENT_PREFIX      "udk-bench-"
#define RUNNING_TIMEOUT_S  5.0
#define CLOCK_TOLERANCE_US 1000

struct jack_bench_client {
        jack_client_t *client;
        struct bench_compare_table *table;
        unsigned index;
        jack_port_t *in[BENCH_CHAIN_CHANNELS];
        jack_port_t *out[BENCH_CHAIN_CHANNELS];
        bool raw_clock; /* the server's times are CLOCK_MONOTONIC_RAW (JACK2), not CLOCK_MONOTONIC */
        _Atomic uint64_t cycle_time_errors;
};

static struct jack_bench_client jc;
static volatile sig_atomic_t stop_signal;

/* SIGTERM, SIGINT, SIGHUP: leave the graph and close, as on EOF (a JACK client
 * that just dies can take jackd with it, by SIGPIPE). */
static void on_stop(int sig)
{
        stop_signal = sig;
}

static uint64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * UDK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "udk-bench-jack-client: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* Say why in the table (when there is one) and on stderr; returns 1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
        char text[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (jc.table)
                bench_compare_client_fail(jc.table, jc.index, "%s", text);
        say("%s", text);
        return 1;
}

/* RT-safe: port buffers, atomics, clock reads.  The same work as udk's chain client. */
static int process(jack_nframes_t frames, void *data)
{
        struct jack_bench_client *c = data;
        uint64_t entry = udk_time_now(), exit, start;
        jack_nframes_t current_frames;
        jack_time_t current_usecs, next_usecs;
        float period_usecs;

        for (unsigned ch = 0; ch < BENCH_CHAIN_CHANNELS; ch++) {
                const float *in = jack_port_get_buffer(c->in[ch], frames);
                float *out = jack_port_get_buffer(c->out[ch], frames);
                for (jack_nframes_t f = 0; f < frames; f++)
                        out[f] = in[f] * BENCH_CHAIN_GAIN;
        }
        exit = udk_time_now();
        if (jack_get_cycle_times(c->client, &current_frames, &current_usecs, &next_usecs, &period_usecs) !=
            0) {
                atomic_fetch_add_explicit(&c->cycle_time_errors, 1, memory_order_relaxed);
                return 0;
        }
        /* +500 ns: the middle of the microsecond the API truncates to. */
        start = current_usecs * 1000 + 500;
        if (c->raw_clock) {
                /* To CLOCK_MONOTONIC by the two clocks' offset now (vDSO reads): they drift
                 * apart by the NTP correction, too much over a run for one offset at start. */
                uint64_t raw = clock_ns(CLOCK_MONOTONIC_RAW), mono = udk_time_now();
                start = start + mono - raw;
        }
        bench_compare_stamp(c->table, c->index, current_frames, start, start, entry, exit);
        return 0;
}

static void xrun_seen(struct jack_bench_client *c)
{
        _Atomic uint64_t *x = &c->table->client[c->index].xruns;

        atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + 1, memory_order_relaxed);
}

static int on_xrun(void *data)
{
        xrun_seen(data);
        return 0;
}

static void quiet(const char *msg)
{
        (void)msg;
}

static bool near(jack_time_t j, uint64_t us)
{
        return j + CLOCK_TOLERANCE_US >= us && j <= us + CLOCK_TOLERANCE_US;
}

/*
 * Which clock jack_get_time() (and so current_usecs) reads: PipeWire's is
 * CLOCK_MONOTONIC, JACK2 1.9.21's CLOCK_MONOTONIC_RAW.  The stamps are
 * CLOCK_MONOTONIC.  Only after a client opened: JACK2 sets its clock up then.
 */
static int check_clock(void)
{
        uint64_t mono = udk_time_now() / 1000, raw = clock_ns(CLOCK_MONOTONIC_RAW) / 1000;
        jack_time_t j = jack_get_time();

        if (near(j, mono))
                jc.raw_clock = false;
        else if (near(j, raw))
                jc.raw_clock = true;
        else
                return fail("jack_get_time() (%llu us) is neither CLOCK_MONOTONIC (%llu us) nor "
                            "CLOCK_MONOTONIC_RAW (%llu us)",
                            (unsigned long long)j, (unsigned long long)mono, (unsigned long long)raw);
        return 0;
}

static int check_format(jack_client_t *client, uint32_t rate, uint32_t period)
{
        jack_nframes_t r = jack_get_sample_rate(client), p = jack_get_buffer_size(client);

        if (r != rate || p != period)
                return fail("the server runs %u frames at %u Hz, not %u at %u", p, r, period, rate);
        return 0;
}

static jack_client_t *open_client(const char *name, jack_status_t *status)
{
        return jack_client_open(name, JackNoStartServer | JackUseExactName, status);
}

static int probe(uint32_t rate, uint32_t period, double timeout_s)
{
        uint64_t deadline = udk_time_now() + (uint64_t)(timeout_s * 1e9);
        struct timespec pause = { .tv_nsec = 50000000 };
        jack_status_t status = 0;
        jack_client_t *client;
        char name[64];
        int r;

        snprintf(name, sizeof(name), CLIENT_PREFIX "probe-%d", (int)getpid());
        /* libjack says "cannot connect" on each try until the server listens. */
        jack_set_error_function(quiet);
        while (!(client = open_client(name, &status))) {
                if (udk_time_now() >= deadline)
                        return fail("no JACK server answered within %g s (status 0x%x)", timeout_s,
                                    (unsigned)status);
                nanosleep(&pause, NULL);
        }
        r = check_format(client, rate, period);
        if (r == 0)
                r = check_clock();
        if (r == 0)
                printf("%u %u\n", jack_get_sample_rate(client), jack_get_buffer_size(client));
        jack_client_close(client);
        return r == 0 && fflush(stdout) == 0 ? 0 : 1;
}

static int register_ports(void)
{
        for (unsigned ch = 0; ch < BENCH_CHAIN_CHANNELS; ch++) {
                char name[16];
                snprintf(name, sizeof(name), "in_%u", ch + 1);
                jc.in[ch] = jack_port_register(jc.client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
                snprintf(name, sizeof(name), "out_%u", ch + 1);
                jc.out[ch] =
                        jack_port_register(jc.client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
                if (!jc.in[ch] || !jc.out[ch])
                        return fail("cannot register the ports of channel %u", ch + 1);
        }
        return 0;
}

/* Connect @from to @to; a missing @from is fine when @optional (a server without system ports). */
static int connect_ports(const char *from, const char *to, bool optional)
{
        int r;

        if (optional && (!jack_port_by_name(jc.client, from) || !jack_port_by_name(jc.client, to)))
                return 0;
        r = jack_connect(jc.client, from, to);
        if (r != 0 && r != EEXIST)
                return fail("cannot connect %s to %s (%d)", from, to, r);
        return 0;
}

/* The previous client's outputs (system capture for the first) to ours; the last to system playback. */
static int join_chain(void)
{
        const char *self = jack_get_client_name(jc.client);

        for (unsigned ch = 1; ch <= BENCH_CHAIN_CHANNELS; ch++) {
                char from[128], to[128];
                int r;

                snprintf(to, sizeof(to), "%s:in_%u", self, ch);
                if (jc.index == 0)
                        snprintf(from, sizeof(from), "system:capture_%u", ch);
                else
                        snprintf(from, sizeof(from), CLIENT_PREFIX "%u:out_%u", jc.index, ch);
                r = connect_ports(from, to, jc.index == 0);
                if (r == 0 && jc.index + 1 == jc.table->clients) {
                        snprintf(from, sizeof(from), "%s:out_%u", self, ch);
                        snprintf(to, sizeof(to), "system:playback_%u", ch);
                        r = connect_ports(from, to, true);
                }
                if (r != 0)
                        return r;
        }
        return 0;
}

static int pin_thread(int cpu)
{
        jack_native_thread_t thread = jack_client_thread_id(jc.client);
        cpu_set_t set;
        int r;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        r = pthread_setaffinity_np(thread, sizeof(set), &set);
        if (r != 0)
                return fail("cannot pin the process thread on CPU %d: %s", cpu, strerror(r));
        return 0;
}

static bool thread_is_realtime(void)
{
        struct sched_param param;
        int policy;

        if (pthread_getschedparam(jack_client_thread_id(jc.client), &policy, &param) != 0)
                return false;
        return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* Wait until this client stamped a cycle of client 1's, i.e. runs after it in the chain. */
static int wait_running(void)
{
        const struct bench_compare_client *me = &jc.table->client[jc.index];
        uint64_t deadline = udk_time_now() + (uint64_t)(RUNNING_TIMEOUT_S * 1e9);
        struct timespec pause = { .tv_nsec = 2000000 };

        while (atomic_load(&me->latest) < 2) {
                if (udk_time_now() >= deadline)
                        return fail("client %u stamped no cycle in %g s (%llu callbacks, %llu out of order, "
                                    "%llu without cycle times)",
                                    jc.index + 1, RUNNING_TIMEOUT_S,
                                    (unsigned long long)atomic_load(&me->callbacks),
                                    (unsigned long long)atomic_load(&me->orphans),
                                    (unsigned long long)atomic_load(&jc.cycle_time_errors));
                nanosleep(&pause, NULL);
        }
        return 0;
}

/* Until stdin reads EOF (or anything), a stop signal, or @timeout_s passed. */
static void wait_for_stop(double timeout_s)
{
        uint64_t deadline = udk_time_now() + (uint64_t)(timeout_s * 1e9);

        for (;;) {
                if (stop_signal)
                        return;
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                uint64_t now = udk_time_now();
                char byte;
                int r;

                if (now >= deadline)
                        return;
                r = poll(&pfd, 1, (int)UDK_MIN((deadline - now) / 1000000u + 1, 60000u));
                if (r > 0 && read(STDIN_FILENO, &byte, 1) >= 0)
                        return;
                if (r < 0 && errno != EINTR)
                        return;
        }
}

static int run_client(int table_fd, uint32_t rate, uint32_t period, int cpu, double timeout_s)
{
        jack_status_t status = 0;
        char name[64];
        int r;

        r = bench_compare_table_map(table_fd, &jc.table);
        if (r < 0) {
                say("cannot map the table of fd %d: %s", table_fd, strerror(-r));
                return 1;
        }
        close(table_fd);
        if (jc.index >= jc.table->clients) {
                say("--index %u: the table has %u clients", jc.index + 1, jc.table->clients);
                return 1;
        }
        snprintf(name, sizeof(name), CLIENT_PREFIX "%u", jc.index + 1);
        jc.client = open_client(name, &status);
        if (!jc.client)
                return fail("jack_client_open(%s) failed (status 0x%x)", name, (unsigned)status);
        r = check_format(jc.client, rate, period);
        if (r == 0)
                r = check_clock();
        if (r == 0)
                r = register_ports();
        if (r == 0 && (jack_set_process_callback(jc.client, process, &jc) != 0 ||
                       jack_set_xrun_callback(jc.client, on_xrun, &jc) != 0))
                r = fail("cannot set the callbacks");
        if (r == 0 && jack_activate(jc.client) != 0)
                r = fail("jack_activate() failed");
        if (r == 0)
                r = join_chain();
        if (r == 0 && cpu >= 0)
                r = pin_thread(cpu);
        if (r == 0)
                r = wait_running();
        if (r == 0) {
                bench_compare_client_ready(jc.table, jc.index, thread_is_realtime());
                wait_for_stop(timeout_s);
                jack_deactivate(jc.client);
        }
        jack_client_close(jc.client);
        jc.table = bench_compare_table_unmap(jc.table);
        return r;
}

static void usage(FILE *out)
{
        fprintf(out, "Usage: udk-bench-jack-client --index K --table-fd FD --period P --rate R [--cpu C]\n"
                     "                             [--timeout S]\n"
                     "       udk-bench-jack-client --probe --period P --rate R [--timeout S]\n"
                     "A client of udk-bench compare on a JACK server; udk-bench starts it.\n");
}

enum {
        ARG_INDEX = BENCH_LONG_OPTION_FIRST,
        ARG_TABLE_FD,
        ARG_PERIOD,
        ARG_RATE,
        ARG_CPU,
        ARG_TIMEOUT,
        ARG_PROBE,
};

int main(int argc, char **argv)
{
        static const struct option long_options[] = {
                { "index", required_argument, NULL, ARG_INDEX },
                { "table-fd", required_argument, NULL, ARG_TABLE_FD },
                { "period", required_argument, NULL, ARG_PERIOD },
                { "rate", required_argument, NULL, ARG_RATE },
                { "cpu", required_argument, NULL, ARG_CPU },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "probe", no_argument, NULL, ARG_PROBE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int64_t index = 0, table_fd = -1, period = 0, rate = 0, cpu = -1;
        double timeout_s = 30.0;
        bool do_probe = false;
        int c, r = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_INDEX:
                        r = udk_parse_int64(optarg, 1, BENCH_CHAIN_CLIENTS_MAX, &index);
                        break;
                case ARG_TABLE_FD:
                        r = udk_parse_int64(optarg, 0, 1 << 20, &table_fd);
                        break;
                case ARG_PERIOD:
                        r = udk_parse_int64(optarg, 1, 1 << 20, &period);
                        break;
                case ARG_RATE:
                        r = udk_parse_int64(optarg, 1, 1 << 24, &rate);
                        break;
                case ARG_CPU:
                        r = udk_parse_int64(optarg, -1, CPU_SETSIZE - 1, &cpu);
                        break;
                case ARG_TIMEOUT:
                        r = udk_parse_double(optarg, 0.1, 86400.0, &timeout_s);
                        break;
                case ARG_PROBE:
                        do_probe = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        r = -EINVAL;
                        break;
                }
                if (r < 0) {
                        say("bad option '%s'", argv[optind - 1]);
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc || period == 0 || rate == 0 || (!do_probe && table_fd < 0)) {
                usage(stderr);
                return 2;
        }
        {
                struct sigaction sa = { .sa_handler = on_stop };
                sigemptyset(&sa.sa_mask);
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGHUP, &sa, NULL);
                /* A closed pipe must not kill the client before it leaves the graph. */
                signal(SIGPIPE, SIG_IGN);
        }
        jack_set_info_function(quiet);
        if (do_probe)
                return probe((uint32_t)rate, (uint32_t)period, timeout_s);
        jc.index = (unsigned)(index - 1);
        return run_client((int)table_fd, (uint32_t)rate, (uint32_t)period, (int)cpu, timeout_s);
}
