/* SPDX-License-Identifier: MIT */
/*
 * udkctl top: each device's cycle and each of its nodes, from udkd's
 * statistics, refreshed every --interval seconds until q or SIGINT; --once
 * prints one snapshot (--json as JSON).
 *
 *   NAME          ID   RATE PERIOD   LOAD    MAX  WAIT50  WAIT99  BUSY50  BUSY99  XRUNS   LATE  STATE
 *   studio         3  48000     64   1.2%   3.4%    21.5    51.2     1.9    11.1      0      -  -
 *     tone        12      -      -   0.3%   0.9%     3.1     8.0     4.2     9.9      -      0  running
 *
 * Times are microseconds.  A device's WAIT is how late its RT thread woke
 * after the period boundary and BUSY its whole cycle; a node's WAIT is from
 * its trigger to its wake and BUSY from its wake to its finish.  LOAD is
 * BUSY over the period (a device: the average and the maximum; a node: the
 * median and the maximum).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/util.h>

#include "json.h"
#include "udkctl.h"

struct top_device {
        char name[UDK_OBJECT_NAME_MAX];
        struct udk_msg_stats_device stats;
        struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        size_t n_nodes;
};

struct snapshot {
        struct top_device *devices;
        size_t n_devices;
};

static const char *node_state_name(uint32_t state)
{
        switch (state) {
        case UDK_NODE_STARTING:
                return "starting";
        case UDK_NODE_RUNNING:
                return "running";
        case UDK_NODE_SUSPENDED:
                return "suspended";
        case UDK_NODE_CLOSED:
                return "closed";
        default:
                return "unknown";
        }
}

static void snapshot_clear(struct snapshot *s)
{
        free(s->devices);
        *s = (struct snapshot){ 0 };
}

/* Every device's statistics; a device that went away meanwhile is left out. */
static int snapshot_take(struct udk_client *client, struct snapshot *s)
{
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        size_t n;
        int r;

        snapshot_clear(s);
        r = udk_client_list(client, 0, &objects, &n);
        if (r < 0) {
                udkctl_fail(client, r, "list");
                return r;
        }
        s->devices = calloc(n + 1, sizeof(*s->devices));
        if (!s->devices) {
                udkctl_error("out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);
                struct top_device *d = &s->devices[s->n_devices];

                if (strcmp(obj->klass, "device") != 0)
                        continue;
                r = udk_client_stats(client, obj->id, &d->stats, d->nodes, UDK_ELEMENTSOF(d->nodes),
                                     &d->n_nodes);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        udkctl_fail(client, r, "stats");
                        return r;
                }
                snprintf(d->name, sizeof(d->name), "%s", obj->name);
                s->n_devices++;
        }
        return 0;
}

static double period_ns(const struct udk_msg_stats_device *d)
{
        return d->rate ? (double)d->period * 1e9 / d->rate : 0.0;
}

static double percent(double part, double whole)
{
        return whole > 0.0 ? 100.0 * part / whole : 0.0;
}

static void print_table(const struct snapshot *s)
{
        int width = 12;

        for (size_t i = 0; i < s->n_devices; i++) {
                width = UDK_MAX(width, (int)strlen(s->devices[i].name));
                for (size_t k = 0; k < s->devices[i].n_nodes; k++)
                        width = UDK_MAX(width, 2 + (int)strlen(s->devices[i].nodes[k].name));
        }
        printf("%-*s %5s %6s %6s %6s %6s %7s %7s %7s %7s %6s %6s  %s\n", width, "NAME", "ID", "RATE",
               "PERIOD", "LOAD", "MAX", "WAIT50", "WAIT99", "BUSY50", "BUSY99", "XRUNS", "LATE", "STATE");
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct top_device *d = &s->devices[i];
                const struct udk_msg_stats_device *st = &d->stats;
                double period = period_ns(st);

                printf("%-*s %5" PRIu32 " %6" PRIu32 " %6" PRIu32
                       " %5.1f%% %5.1f%% %7.1f %7.1f %7.1f %7.1f %6" PRIu64 " %6s  %s\n",
                       width, d->name, st->device, st->rate, st->period, 100.0 * st->load_avg,
                       100.0 * st->load_max, st->lateness.p50 / 1e3, st->lateness.p99 / 1e3,
                       st->busy.p50 / 1e3, st->busy.p99 / 1e3, st->xruns, "-", "-");
                for (size_t k = 0; k < d->n_nodes; k++) {
                        const struct udk_msg_stats_node *nd = &d->nodes[k];

                        printf("  %-*s %5" PRIu32
                               " %6s %6s %5.1f%% %5.1f%% %7.1f %7.1f %7.1f %7.1f %6s %6" PRIu64 "  %s\n",
                               width - 2, nd->name, nd->node, "-", "-",
                               percent((double)nd->busy.p50, period), percent((double)nd->busy.max, period),
                               nd->wake.p50 / 1e3, nd->wake.p99 / 1e3, nd->busy.p50 / 1e3,
                               nd->busy.p99 / 1e3, "-", nd->late, node_state_name(nd->state));
                }
        }
}

static void json_times(struct udkctl_json *j, const char *key, const struct udk_msg_times *t)
{
        udkctl_json_begin_object(j, key);
        udkctl_json_double(j, "p50", t->p50 / 1e3);
        udkctl_json_double(j, "p99", t->p99 / 1e3);
        udkctl_json_double(j, "p999", t->p999 / 1e3);
        udkctl_json_double(j, "max", t->max / 1e3);
        udkctl_json_end_object(j);
}

static void print_json(const struct snapshot *s)
{
        struct udkctl_json j;

        udkctl_json_init(&j, stdout);
        udkctl_json_begin_object(&j, NULL);
        udkctl_json_begin_array(&j, "devices");
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct top_device *d = &s->devices[i];
                const struct udk_msg_stats_device *st = &d->stats;
                double period = period_ns(st);

                udkctl_json_begin_object(&j, NULL);
                udkctl_json_uint(&j, "id", st->device);
                udkctl_json_string(&j, "name", d->name);
                udkctl_json_uint(&j, "rate", st->rate);
                udkctl_json_uint(&j, "period", st->period);
                udkctl_json_double(&j, "period_us", period / 1e3);
                udkctl_json_uint(&j, "cycles", st->cycles);
                udkctl_json_uint(&j, "sample_time", st->sample_time);
                udkctl_json_uint(&j, "xruns", st->xruns);
                udkctl_json_double(&j, "load", st->load_avg);
                udkctl_json_double(&j, "load_max", st->load_max);
                json_times(&j, "wait_us", &st->lateness);
                json_times(&j, "busy_us", &st->busy);
                json_times(&j, "graph_us", &st->graph);
                udkctl_json_begin_array(&j, "nodes");
                for (size_t k = 0; k < d->n_nodes; k++) {
                        const struct udk_msg_stats_node *nd = &d->nodes[k];

                        udkctl_json_begin_object(&j, NULL);
                        udkctl_json_uint(&j, "id", nd->node);
                        udkctl_json_string(&j, "name", nd->name);
                        udkctl_json_int(&j, "pid", nd->pid);
                        udkctl_json_string(&j, "state", node_state_name(nd->state));
                        udkctl_json_uint(&j, "position", nd->position);
                        udkctl_json_uint(&j, "cycles", nd->cycles);
                        udkctl_json_uint(&j, "late", nd->late);
                        udkctl_json_uint(&j, "late_run", nd->late_run);
                        udkctl_json_double(&j, "load", period > 0.0 ? (double)nd->busy.p50 / period : 0.0);
                        json_times(&j, "wait_us", &nd->wake);
                        json_times(&j, "busy_us", &nd->busy);
                        udkctl_json_end_object(&j);
                }
                udkctl_json_end_array(&j);
                udkctl_json_end_object(&j);
        }
        udkctl_json_end_array(&j);
        udkctl_json_end_object(&j);
        udkctl_json_finish(&j);
}

static size_t count_nodes(const struct snapshot *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_devices; i++)
                n += s->devices[i].n_nodes;
        return n;
}

/* Wait until the next refresh (0), or q, end of input on a terminal, or a signal (1). */
static int wait_input(int sfd, bool *watch_stdin, uint64_t deadline)
{
        for (;;) {
                struct pollfd fds[2] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = *watch_stdin ? STDIN_FILENO : -1, .events = POLLIN },
                };
                uint64_t now = udk_time_now();
                char buf[64];
                ssize_t n;
                int r;

                if (now >= deadline)
                        return 0;
                r = poll(fds, 2, (int)((deadline - now + 999999) / 1000000));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (fds[0].revents)
                        return 1;
                if (!fds[1].revents)
                        continue;
                n = read(STDIN_FILENO, buf, sizeof(buf));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0) {
                        /* No more input (stdin is /dev/null or a closed pipe): keep going without it. */
                        *watch_stdin = false;
                        continue;
                }
                if (memchr(buf, 'q', (size_t)n) || memchr(buf, 'Q', (size_t)n))
                        return 1;
        }
}

static int run_live(struct udk_client *client, const struct udkctl_options *opts, int sfd)
{
        struct snapshot s = { 0 };
        bool clear = isatty(STDOUT_FILENO), watch_stdin = true;
        uint64_t interval = (uint64_t)(opts->interval * 1e9), next = udk_time_now();
        int r;

        for (;;) {
                if (snapshot_take(client, &s) < 0) {
                        snapshot_clear(&s);
                        return UDKCTL_EXIT_FAILURE;
                }
                if (clear)
                        fputs("\033[H\033[2J", stdout);
                printf("%s: %zu device%s, %zu node%s (times in us; every %g s; q quits)\n",
                       udk_client_server_name(client), s.n_devices, s.n_devices == 1 ? "" : "s",
                       count_nodes(&s), count_nodes(&s) == 1 ? "" : "s", opts->interval);
                print_table(&s);
                if (!clear)
                        putchar('\n');
                if (fflush(stdout) != 0) {
                        snapshot_clear(&s);
                        udkctl_error("cannot write: %s", strerror(errno));
                        return UDKCTL_EXIT_FAILURE;
                }
                /* On the interval's grid, however long a refresh took. */
                next += interval;
                if (next < udk_time_now())
                        next = udk_time_now() + interval;
                r = wait_input(sfd, &watch_stdin, next);
                if (r != 0)
                        break;
        }
        snapshot_clear(&s);
        if (r < 0) {
                udkctl_error("cannot wait for input: %s", strerror(-r));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}

static int run_once(struct udk_client *client, const struct udkctl_options *opts)
{
        struct snapshot s = { 0 };

        if (snapshot_take(client, &s) < 0) {
                snapshot_clear(&s);
                return UDKCTL_EXIT_FAILURE;
        }
        if (opts->json)
                print_json(&s);
        else
                print_table(&s);
        snapshot_clear(&s);
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}

int udkctl_top(const struct udkctl_options *opts, int argc, char **argv)
{
        struct udk_client *client;
        struct termios saved, raw;
        bool restore = false;
        sigset_t set;
        int sfd, status;

        if (opts->once) {
                if (udkctl_connect(opts, &client) < 0)
                        return UDKCTL_EXIT_FAILURE;
                status = run_once(client, opts);
                udk_client_disconnect(client);
                return status;
        }

        /* SIGINT and SIGTERM through a signalfd, blocked before the client's thread exists. */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                udkctl_error("signalfd: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0) {
                close(sfd);
                return UDKCTL_EXIT_FAILURE;
        }
        /* q without Enter, and not echoed. */
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
                raw.c_cc[VMIN] = 1;
                raw.c_cc[VTIME] = 0;
                restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        status = run_live(client, opts, sfd);
        if (restore)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        udk_client_disconnect(client);
        close(sfd);
        return status;
}
