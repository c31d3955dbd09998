/* SPDX-License-Identifier: MIT */
/*
 * udk-bench chain: udkd with one virtual device on a private socket, N
 * client processes chained on it, their wake times, udkd's statistics and
 * the CPU time of every process over the measurement, then the futex
 * ping-pong floor.  docs/benchmarks.md says what each figure means.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-chain.h"
#include "bench-servers.h"

#define DEVICE_NAME       "bench"
#define SOCKET_TIMEOUT_MS 5000u
#define READY_TIMEOUT_MS  15000
#define RESULT_TIMEOUT_MS 15000
#define EXIT_TIMEOUT_MS   5000u

struct chain_proc {
        pid_t pid;
        int control_fd; /* write end: a byte says stop */
        int result_fd;  /* read end of the client's messages */
        struct bench_chain_msg msg;
};

/* What the run holds, released by chain_cleanup() whatever happened. */
struct chain_run {
        const struct bench_chain_options *opt;
        const struct bench_chain_hook *hook; /* NULL: chain's own measurement */
        char dir[64];
        char config[128];
        char socket[128];
        pid_t udkd;
        struct bench_chain_shared *shared;
        struct chain_proc procs[BENCH_CHAIN_CLIENTS_MAX];
        unsigned n_procs;
        struct udk_client *client;
        udk_object_id device;
};

struct chain_snapshot {
        struct udk_msg_stats_device device;
        struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        size_t n_nodes;
        uint64_t server_ns;
        uint64_t client_ns[BENCH_CHAIN_CLIENTS_MAX];
};

/* --- processes --- */

static int write_config(struct chain_run *run)
{
        const struct bench_chain_options *o = run->opt;
        FILE *f = fopen(run->config, "we");
        int r;

        if (!f)
                return -errno;
        fprintf(f,
                "# Written by udk-bench chain.\n"
                "[server]\n"
                "priority = %d\n"
                "\n"
                "[device]\n"
                "name = " DEVICE_NAME "\n"
                "backend = virtual\n"
                "rate = %u\n"
                "period = %u\n"
                "channels = %u\n"
                "source = silence\n"
                "placement = %s\n",
                BENCH_CHAIN_UDKD_PRIORITY, o->rate, o->period, BENCH_CHAIN_CHANNELS,
                o->pin ? "same-cpu" : "auto");
        r = ferror(f) ? -EIO : 0;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

static int start_udkd(struct chain_run *run, const char *udkd)
{
        const char *argv[] = { udkd, "--config", run->config, "--socket", run->socket, "--quiet", NULL };
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                /* udkd's stdout (statistics) would spoil --json: send it to stderr. */
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                dup2(STDERR_FILENO, STDOUT_FILENO);
                execv(udkd, (char *const *)argv);
                fprintf(stderr, "udk-bench chain: cannot run %s: %s\n", udkd, strerror(errno));
                _exit(127);
        }
        run->udkd = pid;
        return 0;
}

/* Connect every 10 ms until udkd accepts, it exits, or the time is up. */
static int wait_for_socket(struct chain_run *run)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        uint64_t deadline = udk_time_now() + SOCKET_TIMEOUT_MS * 1000000ull;
        char why[64];

        udk_strlcpy(sa.sun_path, run->socket, sizeof(sa.sun_path));
        for (;;) {
                _udk_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                int status;

                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        return 0;
                if (waitpid(run->udkd, &status, WNOHANG) == run->udkd) {
                        run->udkd = -1;
                        bench_describe_status(status, why, sizeof(why));
                        udk_error("udkd %s before it listened on %s", why, run->socket);
                        return -ECHILD;
                }
                if (udk_time_now() >= deadline) {
                        udk_error("udkd did not listen on %s within %u ms", run->socket, SOCKET_TIMEOUT_MS);
                        return -ETIMEDOUT;
                }
                usleep(10000);
        }
}

/* In a new client process: keep only its own ends of its own pipes. */
static void close_other_fds(struct chain_run *run, int control_fd, int result_fd)
{
        for (unsigned i = 0; i < run->n_procs; i++) {
                udk_closep(&run->procs[i].control_fd);
                udk_closep(&run->procs[i].result_fd);
        }
        udk_closep(&control_fd);
        udk_closep(&result_fd);
}

static int start_client(struct chain_run *run, unsigned index)
{
        struct chain_proc *p = &run->procs[index];
        int control[2], result[2];
        pid_t pid;

        if (pipe2(control, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(result, O_CLOEXEC) < 0) {
                int r = -errno;
                close(control[0]);
                close(control[1]);
                return r;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(control[0]);
                close(control[1]);
                close(result[0]);
                close(result[1]);
                return r;
        }
        if (pid == 0) {
                struct bench_chain_client_setup setup = {
                        .index = index,
                        .socket_path = run->socket,
                        .shared = run->shared,
                        .control_fd = control[0],
                        .result_fd = result[1],
                        .timeout_s = run->opt->seconds + 120.0,
                        .table = run->hook ? run->hook->table : NULL,
                };
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close_other_fds(run, control[1], result[0]);
                _exit(bench_chain_client_run(&setup));
        }
        close(control[0]);
        close(result[1]);
        *p = (struct chain_proc){ .pid = pid, .control_fd = control[1], .result_fd = result[0] };
        run->n_procs++;
        return 0;
}

/* Read the next message of client @index; an ERROR message is said and fails. */
static int read_client(struct chain_run *run, unsigned index, uint32_t want, int timeout_ms)
{
        struct chain_proc *p = &run->procs[index];
        int r = bench_chain_msg_read(p->result_fd, &p->msg, timeout_ms);

        if (r == -ETIMEDOUT) {
                udk_error("client %u said nothing for %d ms", index + 1, timeout_ms);
                return r;
        }
        if (r < 0) {
                udk_error("client %u ended without a word (%s)", index + 1, strerror(-r));
                return r;
        }
        p->msg.error[sizeof(p->msg.error) - 1] = '\0';
        if (p->msg.kind == BENCH_CHAIN_MSG_ERROR) {
                udk_error("%s", p->msg.error);
                return p->msg.status < 0 ? p->msg.status : -EIO;
        }
        if (p->msg.kind != want) {
                udk_error("client %u sent message %u, not %u", index + 1, p->msg.kind, want);
                return -EBADMSG;
        }
        return 0;
}

/* One at a time, so the graph's order is the clients' order. */
static int start_clients(struct chain_run *run)
{
        for (unsigned i = 0; i < run->opt->clients; i++) {
                int r = start_client(run, i);
                if (r < 0) {
                        udk_error("cannot start client %u: %s", i + 1, strerror(-r));
                        return r;
                }
                r = read_client(run, i, BENCH_CHAIN_MSG_READY, READY_TIMEOUT_MS);
                if (r < 0)
                        return r;
                udk_info("chain: client %u runs as node %u%s", i + 1, run->procs[i].msg.node,
                         run->procs[i].msg.realtime ? "" : " (not SCHED_FIFO)");
        }
        return 0;
}

static int stop_clients(struct chain_run *run)
{
        int r = 0;

        for (unsigned i = 0; i < run->n_procs; i++)
                if (write(run->procs[i].control_fd, "q", 1) < 0 && r == 0)
                        r = -errno;
        for (unsigned i = 0; i < run->n_procs; i++) {
                int q = read_client(run, i, BENCH_CHAIN_MSG_RESULT, RESULT_TIMEOUT_MS);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

static void chain_cleanup(struct chain_run *run)
{
        char why[64];
        int status;

        run->client = udk_client_disconnect(run->client);
        for (unsigned i = 0; i < run->n_procs; i++) {
                struct chain_proc *p = &run->procs[i];
                /* EOF on its control pipe stops a client that was not told yet. */
                udk_closep(&p->control_fd);
                udk_closep(&p->result_fd);
                status = bench_reap(p->pid, EXIT_TIMEOUT_MS);
                if (status != 0) {
                        bench_describe_status(status, why, sizeof(why));
                        udk_warn("client %u %s", i + 1, why);
                }
        }
        run->n_procs = 0;
        if (run->udkd > 0) {
                kill(run->udkd, SIGTERM);
                status = bench_reap(run->udkd, EXIT_TIMEOUT_MS);
                if (status != 0) {
                        bench_describe_status(status, why, sizeof(why));
                        udk_warn("udkd %s", why);
                }
                run->udkd = -1;
        }
        if (run->shared) {
                munmap(run->shared, sizeof(*run->shared));
                run->shared = NULL;
        }
        if (run->dir[0]) {
                unlink(run->config);
                unlink(run->socket);
                rmdir(run->dir);
                run->dir[0] = '\0';
        }
}

/* --- udkd's figures --- */

static const struct udk_prop *device_prop(const struct udk_msg_object *obj, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(obj, key);

        if (!p)
                udk_warn("udkd's device has no property \"%s\"", key);
        return p;
}

static int read_device(struct chain_run *run, struct bench_chain_report *rep)
{
        _udk_cleanup_free_ struct udk_msg_object *obj = calloc(1, UDK_MSG_SIZE_MAX);
        const struct udk_prop *p;
        int r;

        if (!obj)
                return -ENOMEM;
        r = udk_client_connect("udk-bench", run->socket, &run->client);
        if (r < 0) {
                udk_error("cannot connect to udkd at %s: %s", run->socket, strerror(-r));
                return r;
        }
        r = udk_client_find(run->client, DEVICE_NAME, &run->device);
        if (r == 0)
                r = udk_client_info(run->client, run->device, obj);
        if (r < 0) {
                udk_error("no device " DEVICE_NAME " in udkd: %s", udk_client_error(run->client));
                return r;
        }
        udk_strlcpy(rep->placement, "unknown", sizeof(rep->placement));
        if ((p = device_prop(obj, "placement")) && p->type == UDK_PROP_STRING)
                udk_strlcpy(rep->placement, p->s, sizeof(rep->placement));
        rep->server_cpu = -1;
        if ((p = device_prop(obj, "cpu")) && p->type == UDK_PROP_INT)
                rep->server_cpu = p->i;
        rep->client_cpu = -1;
        if ((p = device_prop(obj, "client_cpu")) && p->type == UDK_PROP_INT)
                rep->client_cpu = p->i;
        if ((p = device_prop(obj, "realtime")) && p->type == UDK_PROP_BOOL)
                rep->server_realtime = p->i != 0;
        return 0;
}

static int snapshot(struct chain_run *run, struct chain_snapshot *s, enum bench_cpu_method *method)
{
        int r = udk_client_stats(run->client, run->device, &s->device, s->nodes, UDK_ELEMENTSOF(s->nodes),
                                 &s->n_nodes);

        if (r < 0) {
                udk_error("cannot read udkd's statistics: %s", udk_client_error(run->client));
                return r;
        }
        r = bench_process_cpu_ns(run->udkd, &s->server_ns, method);
        for (unsigned i = 0; r == 0 && i < run->n_procs; i++)
                r = bench_process_cpu_ns(run->procs[i].pid, &s->client_ns[i], method);
        if (r < 0)
                udk_error("cannot read the CPU time of udkd and its clients: %s", strerror(-r));
        return r;
}

static const struct udk_msg_stats_node *find_node(const struct chain_snapshot *s, udk_object_id node)
{
        for (size_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i].node == node)
                        return &s->nodes[i];
        return NULL;
}

static void latency_from_times(const struct udk_msg_times *t, uint64_t count, struct bench_latency *ret)
{
        *ret = (struct bench_latency){
                .count = t->max > 0 ? count : 0,
                .p50 = (double)t->p50 / 1000.0,
                .p99 = (double)t->p99 / 1000.0,
                .p999 = (double)t->p999 / 1000.0,
                .max = (double)t->max / 1000.0,
        };
}

static void sleep_seconds(double seconds)
{
        struct timespec ts = udk_time_to_timespec(udk_time_now() + (uint64_t)(seconds * 1e9));

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

/* The udkd side of the report: cycles, xruns, late, per-node figures, CPU. */
static void report_udkd(const struct chain_run *run, const struct chain_snapshot *a,
                        const struct chain_snapshot *b, struct bench_chain_report *rep)
{
        uint64_t cycles = b->device.cycles - a->device.cycles;
        uint64_t total_ns = b->server_ns - a->server_ns;

        rep->cycles = cycles;
        rep->xruns = b->device.xruns - a->device.xruns;
        latency_from_times(&b->device.graph, b->device.cycles, &rep->cycle);
        for (unsigned i = 0; i < run->n_procs; i++) {
                struct bench_chain_client_report *c = &rep->client[i];
                const struct udk_msg_stats_node *na = find_node(a, c->node), *nb = find_node(b, c->node);
                uint64_t ns = b->client_ns[i] - a->client_ns[i];

                total_ns += ns;
                c->cpu_us_per_cycle = cycles ? (double)ns / 1000.0 / (double)cycles : NAN;
                if (!nb) {
                        udk_warn("udkd's statistics have no node %u (client %u)", c->node, i + 1);
                        continue;
                }
                if (nb->position != i)
                        udk_warn("client %u is at position %u of udkd's graph, not %u", i + 1, nb->position,
                                 i);
                c->late = nb->late - (na ? na->late : 0);
                rep->late += c->late;
                latency_from_times(&nb->wake, nb->cycles, &c->udkd_wake);
                latency_from_times(&nb->busy, nb->cycles, &c->udkd_busy);
        }
        rep->server_cpu_per_cycle_us =
                cycles ? (double)(b->server_ns - a->server_ns) / 1000.0 / (double)cycles : NAN;
        rep->cpu_per_cycle_us = cycles ? (double)total_ns / 1000.0 / (double)cycles : NAN;
        if (cycles == 0)
                udk_warn("udkd ran no cycle in %g s", run->opt->seconds);
}

/* The clients' side: their histograms, merged for every hop. */
static void report_clients(const struct chain_run *run, struct bench_chain_report *rep)
{
        static struct udk_histogram all;

        udk_histogram_reset(&all);
        rep->clients_realtime = run->n_procs > 0;
        for (unsigned i = 0; i < run->n_procs; i++) {
                const struct bench_chain_msg *m = &run->procs[i].msg;
                struct bench_chain_client_report *c = &rep->client[i];

                bench_latency_from_histogram(&m->hop, &c->hop);
                bench_latency_from_histogram(&m->from_start, &c->from_start);
                c->cycles = m->cycles;
                c->cpus = m->cpus;
                rep->bad_times += m->bad_times;
                rep->clients_realtime &= c->realtime;
                bench_histogram_merge(&all, &m->hop);
        }
        bench_latency_from_histogram(&all, &rep->per_hop);
        rep->first_wake = rep->client[0].hop;
}

static int measure(struct chain_run *run, struct bench_chain_report *rep)
{
        static struct chain_snapshot a, b;
        int r;

        r = snapshot(run, &a, &rep->cpu_method);
        if (r < 0)
                return r;
        atomic_store(&run->shared->measuring, 1);
        if (run->hook) {
                pid_t pids[BENCH_CHAIN_CLIENTS_MAX];
                for (unsigned i = 0; i < run->n_procs; i++)
                        pids[i] = run->procs[i].pid;
                r = run->hook->measure(run->hook->data, run->udkd, pids, run->n_procs);
        } else {
                udk_info("chain: measuring %g s", run->opt->seconds);
                sleep_seconds(run->opt->seconds);
        }
        atomic_store(&run->shared->measuring, 0);
        if (r < 0)
                return r;
        r = snapshot(run, &b, &rep->cpu_method);
        if (r < 0)
                return r;
        report_udkd(run, &a, &b, rep);
        return 0;
}

static int make_dir(struct chain_run *run)
{
        const char *tmp = getenv("TMPDIR");
        char dir[sizeof(run->dir)];

        if (!tmp || !*tmp || strlen(tmp) > 24)
                tmp = "/tmp";
        snprintf(dir, sizeof(dir), "%s/udk-bench-chain-XXXXXX", tmp);
        if (!mkdtemp(dir))
                return -errno;
        udk_strlcpy(run->dir, dir, sizeof(run->dir));
        snprintf(run->config, sizeof(run->config), "%s/udkd.conf", dir);
        snprintf(run->socket, sizeof(run->socket), "%s/udkd.sock", dir);
        return 0;
}

static int run_chain(struct chain_run *run, struct bench_chain_report *rep)
{
        char udkd[4096];
        int r;

        r = bench_find_built("UDKD", "server/udkd", udkd, sizeof(udkd));
        if (r < 0)
                return r;
        r = make_dir(run);
        if (r < 0) {
                udk_error("cannot make a folder for udkd's socket: %s", strerror(-r));
                return r;
        }
        r = write_config(run);
        if (r < 0) {
                udk_error("cannot write %s: %s", run->config, strerror(-r));
                return r;
        }
        run->shared =
                mmap(NULL, sizeof(*run->shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (run->shared == MAP_FAILED) {
                run->shared = NULL;
                return -errno;
        }
        memset(run->shared, 0, sizeof(*run->shared));

        udk_info("chain: starting %s on %s", udkd, run->socket);
        r = start_udkd(run, udkd);
        if (r == 0)
                r = wait_for_socket(run);
        if (r < 0)
                return r;
        /* The clients first: udk-bench forks them before its own connection starts a thread. */
        r = start_clients(run);
        if (r == 0)
                r = read_device(run, rep);
        for (unsigned i = 0; r == 0 && i < run->n_procs; i++) {
                rep->client[i].node = run->procs[i].msg.node;
                rep->client[i].realtime = run->procs[i].msg.realtime;
        }
        if (r == 0)
                r = measure(run, rep);
        if (r == 0)
                r = stop_clients(run);
        if (r == 0)
                report_clients(run, rep);
        return r;
}

/* The CPU every client's RT thread ran on, when it is one and the same; else -1. */
static int chain_cpu(const struct bench_chain_report *rep)
{
        uint64_t mask = rep->client[0].cpus;

        for (unsigned i = 1; i < rep->opt.clients; i++)
                if (rep->client[i].cpus != mask)
                        return -1;
        if (mask == 0 || (mask & (mask - 1)) != 0 || mask == UINT64_C(1) << 63)
                return -1;
        return __builtin_ctzll(mask);
}

static int run_floor(struct bench_chain_report *rep)
{
        struct bench_pingpong_setup setup = {
                .seconds = rep->opt.seconds,
                .period_ns = (uint64_t)rep->opt.period * UDK_NSEC_PER_SEC / rep->opt.rate,
                /* At least as many hops a period as the chain has (N clients and udkd). */
                .round_trips = (rep->opt.clients + 2) / 2,
                .priority = BENCH_CHAIN_PRIORITY,
                .cpu = chain_cpu(rep),
        };
        struct bench_pingpong_result res;
        int r;

        rep->floor_cpu = setup.cpu;
        udk_info("chain: futex ping-pong floor, %g s", setup.seconds);
        r = bench_pingpong_run(&setup, &res);
        if (r < 0)
                return r;
        rep->floor = res.hop;
        rep->floor_realtime = res.realtime;
        return 0;
}

static void warn_not_realtime(const struct bench_chain_report *rep)
{
        const char *who[3];
        size_t n = 0;

        if (!rep->server_realtime)
                who[n++] = "udkd";
        if (!rep->clients_realtime)
                who[n++] = "the clients";
        if (!rep->floor_realtime)
                who[n++] = "the ping-pong";
        if (n == 0)
                return;
        udk_warn("SCHED_FIFO refused to %s%s%s%s%s: those figures are at normal priority", who[0],
                 n > 2 ? ", " : n > 1 ? " and " : "", n > 1 ? who[1] : "", n > 2 ? " and " : "",
                 n > 2 ? who[2] : "");
}

int bench_chain_run_hooked(const struct bench_chain_options *opt, const struct bench_chain_hook *hook,
                           struct bench_chain_report *rep)
{
        struct chain_run run = { .opt = opt, .hook = hook, .udkd = -1 };
        int r;

        *rep = (struct bench_chain_report){
                .opt = *opt, .server_cpu = -1, .client_cpu = -1, .floor_cpu = -1
        };
        bench_machine_get(&rep->machine);
        r = run_chain(&run, rep);
        chain_cleanup(&run);
        return r;
}

int bench_chain_main(int argc, char **argv)
{
        static struct bench_chain_report rep;
        struct chain_run run = { .udkd = -1 };
        int r;

        rep = (struct bench_chain_report){ .server_cpu = -1, .client_cpu = -1, .floor_cpu = -1 };
        bench_chain_options_defaults(&rep.opt);
        r = bench_chain_parse_options(argc, argv, &rep.opt);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;
        run.opt = &rep.opt;
        bench_machine_get(&rep.machine);
        /* A client that died must not take udk-bench with it on the next write to its pipe. */
        signal(SIGPIPE, SIG_IGN);

        r = run_chain(&run, &rep);
        chain_cleanup(&run);
        if (r == 0)
                r = run_floor(&rep);
        if (r < 0)
                return EXIT_FAILURE;
        warn_not_realtime(&rep);
        if (rep.opt.json)
                bench_chain_print_json(&rep, stdout);
        else
                bench_chain_print_table(&rep, stdout);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
