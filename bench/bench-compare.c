/* SPDX-License-Identifier: MIT */
/*
 * udk-bench compare: the chain of udk-bench chain on udkd, then on JACK2,
 * then on PipeWire, each measured through the same time-stamp table and the
 * same statistics.  docs/benchmarks.md says what each figure means.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-compare.h"
#include "bench-servers.h"
#include "udk-build-config.h"

#define SERVER_TIMEOUT_MS 15000u
#define READY_TIMEOUT_MS  15000u
#define EXIT_TIMEOUT_MS   5000u
#define SETTLE_S          0.5 /* after the last client joined, before measuring: every server alike */
#define POLL_NS           20000000ull
#define JACK_CLIENT_NAME  "udk-bench-jack-client"

/* One server's measurement. */
struct server_run {
        struct bench_compare_report *rep;
        struct bench_compare_result *res;
        struct bench_compare_table *table;
        int cpu; /* --pin: the CPU; -1 */
};

static struct bench_compare_stats stats;

static void sleep_ns(uint64_t ns)
{
        struct timespec ts = udk_time_to_timespec(ns);

        nanosleep(&ts, NULL);
}

/* Sleep @seconds unless interrupted; -EINTR then. */
static int settle(double seconds)
{
        uint64_t end = udk_time_now() + (uint64_t)(seconds * 1e9);

        while (udk_time_now() < end) {
                if (bench_servers_interrupted())
                        return -EINTR;
                sleep_ns(POLL_NS);
        }
        return 0;
}

/* CPU time of @server and @clients, ns. */
static int cpu_total(pid_t server, const pid_t *clients, unsigned n, uint64_t *ret_server, uint64_t *ret_all,
                     enum bench_cpu_method *method)
{
        uint64_t s = 0, all, ns;
        int r = bench_process_cpu_ns(server, &s, method);

        all = s;
        for (unsigned i = 0; r == 0 && i < n; i++) {
                r = bench_process_cpu_ns(clients[i], &ns, method);
                all += ns;
        }
        if (r < 0)
                return r;
        *ret_server = s;
        *ret_all = all;
        return 0;
}

static void priorities(struct server_run *run, pid_t server, const pid_t *clients, unsigned n)
{
        struct bench_rt_threads t;

        run->res->server_priority = bench_rt_threads_get(server, &t) == 0 ? t.max_priority : 0;
        run->res->client_priority = 0;
        for (unsigned i = 0; i < n; i++) {
                int p = bench_rt_threads_get(clients[i], &t) == 0 ? t.max_priority : 0;
                /* The lowest client: a client without an RT thread makes it 0 (normal). */
                run->res->client_priority = i == 0 ? p : UDK_MIN(run->res->client_priority, p);
        }
}

static uint64_t xruns_now(const struct bench_compare_table *t)
{
        uint64_t most = 0;

        /* Each JACK client is told of each xrun: the most any one heard. */
        for (unsigned i = 0; i < t->clients; i++)
                most = UDK_MAX(most, atomic_load(&t->client[i].xruns));
        return most;
}

static void latency_of(const struct udk_histogram *h, struct bench_latency *ret)
{
        bench_latency_from_histogram(h, ret);
}

/* The measurement proper, the same for every server. */
static int measure_window(struct server_run *run, pid_t server, const pid_t *clients, unsigned n)
{
        const struct bench_chain_options *o = &run->rep->opt.chain;
        struct bench_compare_result *res = run->res;
        struct bench_compare_collector col;
        uint64_t server_a, all_a, server_b, all_b, xruns_a, t0, t1, end;
        double cycles;
        int r;

        r = settle(SETTLE_S);
        if (r < 0)
                return r;
        priorities(run, server, clients, n);
        bench_compare_stats_reset(&stats);
        r = cpu_total(server, clients, n, &server_a, &all_a, &run->rep->cpu_method);
        if (r < 0) {
                udk_error("cannot read the CPU time of %s and its clients: %s",
                          bench_server_name(res->server), strerror(-r));
                return r;
        }
        xruns_a = xruns_now(run->table);
        res->orphans = 0;
        for (unsigned i = 0; i < run->table->clients; i++) {
                /* The CPUs from here on (a client ORs its bit in; a lost race loses one cycle's bit). */
                atomic_store(&run->table->client[i].cpus, 0);
                res->orphans -= atomic_load(&run->table->client[i].orphans);
        }
        t0 = udk_time_now();
        bench_compare_collect_begin(&col, run->table, &stats);
        udk_info("compare: %s: measuring %g s", bench_server_name(res->server), o->seconds);
        end = t0 + (uint64_t)(o->seconds * 1e9);
        while (udk_time_now() < end) {
                if (bench_servers_interrupted())
                        return -EINTR;
                sleep_ns(POLL_NS);
                bench_compare_collect_poll(&col);
        }
        bench_compare_collect_end(&col);
        t1 = udk_time_now();
        r = cpu_total(server, clients, n, &server_b, &all_b, &run->rep->cpu_method);
        if (r < 0) {
                udk_error("cannot read the CPU time of %s and its clients: %s",
                          bench_server_name(res->server), strerror(-r));
                return r;
        }
        res->xruns = xruns_now(run->table) - xruns_a;
        bench_compare_collect_finish(&col, 200);

        /* Cycles by the clock, not by the server's count: the same divisor for all. */
        cycles = (double)(t1 - t0) * o->rate / o->period / 1e9;
        res->cpu_per_cycle_us = (double)(all_b - all_a) / 1000.0 / cycles;
        res->server_cpu_per_cycle_us = (double)(server_b - server_a) / 1000.0 / cycles;
        latency_of(&stats.per_hop, &res->per_hop);
        latency_of(&stats.first_wake, &res->first_wake);
        latency_of(&stats.first_tick, &res->first_tick);
        latency_of(&stats.cycle, &res->cycle);
        for (unsigned i = 0; i < run->table->clients; i++)
                latency_of(&stats.hop[i], &res->hop[i]);
        memcpy(&res->per_hop_hist, &stats.per_hop, sizeof(res->per_hop_hist));
        res->cycles = stats.cycles;
        res->incomplete = stats.incomplete;
        res->bad_times = stats.bad_times;
        res->lost = stats.lost;
        res->early_starts = stats.early_starts;
        res->early_ticks = stats.early_ticks;
        res->client_cpus = 0;
        for (unsigned i = 0; i < run->table->clients; i++) {
                res->client_cpus |= atomic_load(&run->table->client[i].cpus);
                res->orphans += atomic_load(&run->table->client[i].orphans);
        }
        return 0;
}

static void set_status(struct bench_compare_result *res, enum bench_compare_status status, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
static void set_status(struct bench_compare_result *res, enum bench_compare_status status, const char *fmt,
                       ...)
{
        va_list ap;

        res->status = status;
        va_start(ap, fmt);
        vsnprintf(res->why, sizeof(res->why), fmt, ap);
        va_end(ap);
}

/* No complete cycle at all is a failure, whatever else went right. */
static void check_cycles(struct bench_compare_result *res)
{
        if (res->status == BENCH_COMPARE_OK && res->cycles == 0)
                set_status(res, BENCH_COMPARE_FAILED,
                           "no complete cycle measured (%" PRIu64 " incomplete, %" PRIu64
                           " out of order, %" PRIu64 " out of chain order)",
                           res->incomplete, res->bad_times, res->orphans);
}

/* --- udk --- */

static int udk_measure(void *data, pid_t server, const pid_t *clients, unsigned n)
{
        return measure_window(data, server, clients, n);
}

static void run_udk(struct bench_compare_report *rep)
{
        static struct bench_chain_report chain;
        struct bench_compare_result *res = &rep->result[BENCH_SERVER_UDK];
        struct server_run run = { .rep = rep, .res = res, .cpu = -1 };
        struct bench_chain_hook hook = { .measure = udk_measure, .data = &run };
        int fd = -1, r;

        snprintf(res->version, sizeof(res->version), "udkd %s", UDK_VERSION);
        r = bench_compare_table_create(rep->opt.chain.clients, &fd, &run.table);
        if (r < 0) {
                set_status(res, BENCH_COMPARE_FAILED, "cannot make the time-stamp table: %s", strerror(-r));
                return;
        }
        close(fd);
        hook.table = run.table;
        udk_info("compare: udk: udkd and %u clients", rep->opt.chain.clients);
        r = bench_chain_run_hooked(&rep->opt.chain, &hook, &chain);
        if (r == -ENOENT)
                set_status(res, BENCH_COMPARE_MISSING, "no udkd (set UDKD): %s",
                           bench_server_install_hint(BENCH_SERVER_UDK));
        else if (r == -EINTR)
                set_status(res, BENCH_COMPARE_FAILED, "interrupted");
        else if (r < 0)
                set_status(res, BENCH_COMPARE_FAILED, "%s (the messages above say more)", strerror(-r));
        else {
                res->status = BENCH_COMPARE_OK;
                /* udkd's own counts over the same window. */
                res->xruns = chain.xruns;
                res->late = chain.late;
                res->late_known = true;
                res->cpu = chain.server_cpu;
        }
        check_cycles(res);
        run.table = bench_compare_table_unmap(run.table);
}

/* --- JACK2 and PipeWire --- */

/* udk-bench-jack-client: $UDK_BENCH_JACK_CLIENT, next to udk-bench, else the installed one. */
static int find_jack_client(char *path, size_t size)
{
        const char *env = getenv("UDK_BENCH_JACK_CLIENT");
        char self[4096];
        char *slash;

        if (env && *env) {
                int r = bench_find_program(env, path, size);
                if (r < 0)
                        udk_error("UDK_BENCH_JACK_CLIENT=%s is not an executable", env);
                return r;
        }
        if (bench_self_path(self, sizeof(self)) == 0 && (slash = strrchr(self, '/'))) {
                *slash = '\0';
                if ((size_t)snprintf(path, size, "%s/" JACK_CLIENT_NAME, self) < size &&
                    access(path, X_OK) == 0)
                        return 0;
        }
#ifdef BENCH_LIBEXECDIR
        if ((size_t)snprintf(path, size, "%s/" JACK_CLIENT_NAME, BENCH_LIBEXECDIR) < size &&
            access(path, X_OK) == 0)
                return 0;
#endif
        return -ENOENT;
}

struct jack_proc {
        pid_t pid;
        int stop_fd; /* write end of its stdin: closing it stops the client */
};

static int start_jack_client(const struct bench_server_proc *srv, const char *client_path, int table_fd,
                             unsigned index, const struct server_run *run, struct jack_proc *ret)
{
        const struct bench_chain_options *o = &run->rep->opt.chain;
        char index_text[16], fd_text[16], period_text[16], rate_text[16], cpu_text[16], timeout_text[32];
        char *argv[20];
        struct bench_spawn sp = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1, .keep_fd = table_fd };
        int pipefd[2], r;
        size_t n = 0;

        snprintf(index_text, sizeof(index_text), "%u", index + 1);
        snprintf(fd_text, sizeof(fd_text), "%d", table_fd);
        snprintf(period_text, sizeof(period_text), "%u", o->period);
        snprintf(rate_text, sizeof(rate_text), "%u", o->rate);
        snprintf(cpu_text, sizeof(cpu_text), "%d", run->cpu);
        snprintf(timeout_text, sizeof(timeout_text), "%.0f", o->seconds + 120.0);
        if (srv->wrapper[0])
                argv[n++] = (char *)srv->wrapper;
        argv[n++] = (char *)client_path;
        argv[n++] = "--index";
        argv[n++] = index_text;
        argv[n++] = "--table-fd";
        argv[n++] = fd_text;
        argv[n++] = "--period";
        argv[n++] = period_text;
        argv[n++] = "--rate";
        argv[n++] = rate_text;
        argv[n++] = "--cpu";
        argv[n++] = cpu_text;
        argv[n++] = "--timeout";
        argv[n++] = timeout_text;
        argv[n] = NULL;
        memcpy(sp.env, srv->env, sizeof(sp.env));
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        sp.stdin_fd = pipefd[0];
        r = bench_spawn(&sp, &ret->pid);
        close(pipefd[0]);
        if (r < 0) {
                close(pipefd[1]);
                return r;
        }
        ret->stop_fd = pipefd[1];
        return 0;
}

/* Until client @index says READY; a failure's reason into the result. */
static int wait_client_ready(struct server_run *run, const struct jack_proc *p, unsigned index)
{
        struct bench_compare_client *c = &run->table->client[index];
        uint64_t deadline = udk_time_now() + READY_TIMEOUT_MS * 1000000ull;
        char how[64];
        int status;

        for (;;) {
                uint32_t state = atomic_load(&c->state);
                if (state == BENCH_COMPARE_CLIENT_READY)
                        return 0;
                if (state == BENCH_COMPARE_CLIENT_FAILED) {
                        c->error[sizeof(c->error) - 1] = '\0';
                        set_status(run->res, BENCH_COMPARE_FAILED, "client %u: %s", index + 1, c->error);
                        return -EIO;
                }
                if (bench_exited(p->pid, &status)) {
                        bench_describe_status(status, how, sizeof(how));
                        set_status(run->res, BENCH_COMPARE_FAILED, "client %u %s before it joined",
                                   index + 1, how);
                        return -ECHILD;
                }
                if (bench_servers_interrupted()) {
                        set_status(run->res, BENCH_COMPARE_FAILED, "interrupted");
                        return -EINTR;
                }
                if (udk_time_now() >= deadline) {
                        set_status(run->res, BENCH_COMPARE_FAILED, "client %u did not join within %u ms",
                                   index + 1, READY_TIMEOUT_MS);
                        return -ETIMEDOUT;
                }
                sleep_ns(5000000);
        }
}

/* Close every client's stdin, give them time to leave the graph, then stop what is left. */
static void stop_jack_clients(struct jack_proc *procs, unsigned n, struct bench_compare_result *res)
{
        uint64_t deadline = udk_time_now() + EXIT_TIMEOUT_MS * 1000000ull;

        for (unsigned i = 0; i < n; i++)
                udk_closep(&procs[i].stop_fd);
        for (unsigned i = 0; i < n; i++) {
                int status = 0;
                while (!bench_exited(procs[i].pid, &status) && udk_time_now() < deadline)
                        sleep_ns(10000000);
                if (udk_time_now() >= deadline)
                        status = bench_stop(procs[i].pid, EXIT_TIMEOUT_MS);
                if (status != 0 && res->status == BENCH_COMPARE_OK) {
                        char how[64];
                        bench_describe_status(status, how, sizeof(how));
                        set_status(res, BENCH_COMPARE_FAILED, "client %u %s", i + 1, how);
                }
        }
}

static void pin_all(struct server_run *run, pid_t server, const struct jack_proc *procs, unsigned n)
{
        unsigned pinned = 0, k;

        if (run->cpu < 0)
                return;
        if (bench_rt_threads_pin(server, run->cpu, &k) == 0)
                pinned += k;
        for (unsigned i = 0; i < n; i++)
                if (bench_rt_threads_pin(procs[i].pid, run->cpu, &k) == 0)
                        pinned += k;
        udk_info("compare: %s: %u RT threads pinned on CPU %d", bench_server_name(run->res->server), pinned,
                 run->cpu);
}

static void run_jack(struct bench_compare_report *rep, enum bench_server kind, const char *client_path,
                     int cpu)
{
        struct bench_compare_result *res = &rep->result[kind];
        struct server_run run = { .rep = rep, .res = res, .cpu = cpu };
        struct jack_proc procs[BENCH_CHAIN_CLIENTS_MAX];
        pid_t pids[BENCH_CHAIN_CLIENTS_MAX];
        struct bench_server_proc srv;
        unsigned n = 0;
        int fd = -1, r;
        char why[256];

        if (!client_path) {
                set_status(res, BENCH_COMPARE_MISSING,
                           "udk-bench was built without libjack: apt-get install libjack-jackd2-dev, then "
                           "rebuild");
                return;
        }
        if (!client_path[0]) {
                set_status(res, BENCH_COMPARE_FAILED,
                           "no " JACK_CLIENT_NAME
                           " next to udk-bench nor installed (set UDK_BENCH_JACK_CLIENT)");
                return;
        }
        udk_info("compare: %s: starting the server", bench_server_name(kind));
        r = bench_server_start(kind, rep->opt.chain.rate, rep->opt.chain.period, client_path,
                               SERVER_TIMEOUT_MS, &srv, why, sizeof(why));
        udk_strlcpy(res->version, srv.version, sizeof(res->version));
        if (r == -ENOENT) {
                set_status(res, BENCH_COMPARE_MISSING, "%s", why);
                return;
        }
        if (r < 0) {
                set_status(res, BENCH_COMPARE_FAILED, "%s", why);
                return;
        }
        res->status = BENCH_COMPARE_OK;
        res->cpu = cpu;
        pin_all(&run, srv.pid, procs, 0);
        r = bench_compare_table_create(rep->opt.chain.clients, &fd, &run.table);
        if (r < 0)
                set_status(res, BENCH_COMPARE_FAILED, "cannot make the time-stamp table: %s", strerror(-r));
        /* One at a time, so that each joins behind the one before. */
        for (unsigned i = 0; r == 0 && i < rep->opt.chain.clients; i++) {
                r = start_jack_client(&srv, client_path, fd, i, &run, &procs[n]);
                if (r < 0) {
                        set_status(res, BENCH_COMPARE_FAILED, "cannot start client %u: %s", i + 1,
                                   strerror(-r));
                        break;
                }
                pids[n] = procs[n].pid;
                n++;
                r = wait_client_ready(&run, &procs[i], i);
        }
        udk_closep(&fd);
        if (r == 0) {
                udk_info("compare: %s: %u clients in the chain", bench_server_name(kind), n);
                pin_all(&run, srv.pid, procs, n);
                r = measure_window(&run, srv.pid, pids, n);
                if (r == -EINTR)
                        set_status(res, BENCH_COMPARE_FAILED, "interrupted");
                else if (r < 0)
                        set_status(res, BENCH_COMPARE_FAILED, "measurement failed: %s", strerror(-r));
        }
        stop_jack_clients(procs, n, res);
        bench_server_stop(&srv);
        check_cycles(res);
        run.table = bench_compare_table_unmap(run.table);
}

/* --- the run --- */

/* --pin's CPU for JACK2 and PipeWire: udk's, else the last one this process may use. */
static int pin_cpu(const struct bench_compare_report *rep)
{
        cpu_set_t set;

        if (!rep->opt.chain.pin)
                return -1;
        if (rep->result[BENCH_SERVER_UDK].status == BENCH_COMPARE_OK &&
            rep->result[BENCH_SERVER_UDK].cpu >= 0)
                return (int)rep->result[BENCH_SERVER_UDK].cpu;
        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                return 0;
        for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
                if (CPU_ISSET(cpu, &set))
                        return cpu;
        return 0;
}

static int write_plot(const struct bench_compare_report *rep)
{
        struct bench_svg_series series[_BENCH_SERVER_MAX];
        const struct bench_chain_options *o = &rep->opt.chain;
        char title[160];
        size_t n = 0;
        FILE *f;
        int r;

        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++)
                if (rep->opt.servers[s] && rep->result[s].status == BENCH_COMPARE_OK)
                        series[n++] = (struct bench_svg_series){ .name = bench_server_name(s),
                                                                 .hist = &rep->result[s].per_hop_hist };
        snprintf(title, sizeof(title), "Per-hop wake, %u clients, %u frames at %u Hz, %g s%s%s", o->clients,
                 o->period, o->rate, o->seconds, o->pin ? ", pinned" : "",
                 rep->load_ran ? ", under load" : "");
        f = fopen(rep->opt.plot, "we");
        if (!f) {
                r = -errno;
                udk_error("cannot write %s: %s", rep->opt.plot, strerror(-r));
                return r;
        }
        r = bench_svg_write_ccdf(f, title, series, n);
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r < 0)
                udk_error("cannot write %s: %s", rep->opt.plot, strerror(-r));
        return r;
}

int bench_compare_main(int argc, char **argv)
{
        static struct bench_compare_report rep;
        char jack_client[4096] = "";
        const char *client_path = NULL;
        pid_t stress = -1;
        int r;

        memset(&rep, 0, sizeof(rep));
        bench_compare_options_defaults(&rep.opt);
        r = bench_compare_parse_options(argc, argv, &rep.opt);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;
        for (enum bench_server s = 0; s < _BENCH_SERVER_MAX; s++)
                rep.result[s] = (struct bench_compare_result){ .server = s, .cpu = -1 };
        bench_machine_get(&rep.machine);
        bench_servers_install_signal_handlers();
        bench_servers_remove_stale();
        /* A client that died must not take udk-bench with it on the next write to its pipe. */
        signal(SIGPIPE, SIG_IGN);
#ifdef BENCH_HAVE_JACK
        client_path = find_jack_client(jack_client, sizeof(jack_client)) == 0 ? jack_client : "";
#else
        (void)find_jack_client;
        (void)jack_client;
#endif

        if (rep.opt.load) {
                r = bench_stress_start(rep.machine.cpus, &stress);
                if (r == -ENOENT) {
                        udk_error(
                                "--load needs stress-ng, which is not installed: apt-get install stress-ng");
                        return EXIT_FAILURE;
                }
                if (r < 0) {
                        udk_error("cannot start stress-ng: %s", strerror(-r));
                        return EXIT_FAILURE;
                }
                rep.load_ran = true;
                snprintf(rep.load_note, sizeof(rep.load_note),
                         "stress-ng --cpu %u, through every server's run", rep.machine.cpus);
        }

        if (rep.opt.servers[BENCH_SERVER_UDK])
                run_udk(&rep);
        for (enum bench_server s = BENCH_SERVER_JACK2; s < _BENCH_SERVER_MAX; s++)
                if (rep.opt.servers[s] && !bench_servers_interrupted())
                        run_jack(&rep, s, client_path, pin_cpu(&rep));
        if (stress > 0) {
                int status = bench_stop(stress, EXIT_TIMEOUT_MS);
                if (status < 0 || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
                        char how[64];
                        bench_describe_status(status, how, sizeof(how));
                        udk_warn("stress-ng %s: the load may not have run throughout", how);
                }
        }
        if (bench_servers_interrupted()) {
                udk_error("interrupted: every server and client was stopped");
                return 128 + bench_servers_interrupted();
        }

        if (rep.opt.chain.json)
                bench_compare_print_json(&rep, stdout);
        else
                bench_compare_print_table(&rep, stdout);
        r = rep.opt.plot ? write_plot(&rep) : 0;
        if (fflush(stdout) != 0)
                r = -EIO;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
