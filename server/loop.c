/* SPDX-License-Identifier: MIT */
/*
 * The control thread's event loop: one io_uring over the signalfd, a 10 ms
 * timerfd (housekeeping: retired plans, throttled sessions, node time-outs,
 * statistics), the listening socket and one poll per session.  A session's
 * user_data carries its table index and generation, so a completion that
 * arrives after the session closed is recognised and dropped.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>

#include "server-private.h"

enum {
        EVENT_SIGNAL = 1,
        EVENT_TICK = 2,
        EVENT_LISTEN = 3,
        EVENT_SESSION = 4,
        EVENT_IGNORE = 5,
        EVENT_DRIVER_FD = 6,  /* a driver host's socket */
        EVENT_DRIVER_PID = 7, /* its pidfd: it exited */
        EVENT_INOTIFY = 8,    /* the drivers folders changed */
        EVENT_HOST_FD = 9,    /* a shared host's channel */
        EVENT_HOST_PID = 10,  /* its pidfd */
};

#define RING_ENTRIES 256u

struct loop {
        struct udkd_server *server;
        struct io_uring ring;
        int signal_fd;
        int timer_fd;
        struct signalfd_siginfo siginfo;
        uint64_t expirations;
        uint64_t stats_interval;
        uint64_t next_stats;
        uint64_t deadline; /* 0: none */
        bool quit;
        bool stopping; /* quit asked: waiting for the drivers to stop */
};

uint64_t udkd_loop_session_data(const struct server_session *s)
{
        return (uint64_t)s->generation << 32 | (uint64_t)s->index << 8 | EVENT_SESSION;
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

        if (!sqe) {
                /* Full: hand what is queued to the kernel and try again. */
                io_uring_submit(ring);
                sqe = io_uring_get_sqe(ring);
        }
        return sqe;
}

int udkd_loop_arm_session(struct udkd_server *server, struct server_session *s)
{
        struct io_uring_sqe *sqe;

        if (!server->ring || s->poll_armed || s->closing)
                return 0;
        sqe = get_sqe(server->ring);
        if (!sqe)
                return -EBUSY;
        io_uring_prep_poll_add(sqe, s->fd, POLLIN);
        io_uring_sqe_set_data64(sqe, udkd_loop_session_data(s));
        s->poll_armed = true;
        return 0;
}

void udkd_loop_cancel_session(struct udkd_server *server, struct server_session *s)
{
        struct io_uring_sqe *sqe;

        if (!server->ring || !s->poll_armed)
                return;
        sqe = get_sqe(server->ring);
        if (!sqe)
                return;
        io_uring_prep_poll_remove(sqe, udkd_loop_session_data(s));
        io_uring_sqe_set_data64(sqe, EVENT_IGNORE);
        s->poll_armed = false;
        io_uring_submit(server->ring);
}

static uint64_t driver_data(const struct server_driver *d, uint64_t event)
{
        return (uint64_t)d->generation << 32 | (uint64_t)d->index << 8 | event;
}

int udkd_loop_arm_driver(struct udkd_server *server, struct server_driver *d)
{
        struct io_uring_sqe *sqe;

        if (!server->ring)
                return 0;
        if (d->fd >= 0 && !d->fd_armed) {
                sqe = get_sqe(server->ring);
                if (!sqe)
                        return -EBUSY;
                io_uring_prep_poll_add(sqe, d->fd, POLLIN);
                io_uring_sqe_set_data64(sqe, driver_data(d, EVENT_DRIVER_FD));
                d->fd_armed = true;
        }
        if (d->pidfd >= 0 && !d->pidfd_armed) {
                sqe = get_sqe(server->ring);
                if (!sqe)
                        return -EBUSY;
                io_uring_prep_poll_add(sqe, d->pidfd, POLLIN);
                io_uring_sqe_set_data64(sqe, driver_data(d, EVENT_DRIVER_PID));
                d->pidfd_armed = true;
        }
        return 0;
}

void udkd_loop_cancel_driver(struct udkd_server *server, struct server_driver *d)
{
        static const uint64_t events[] = { EVENT_DRIVER_FD, EVENT_DRIVER_PID };
        bool armed[] = { d->fd_armed, d->pidfd_armed };

        d->fd_armed = d->pidfd_armed = false;
        if (!server->ring)
                return;
        for (size_t i = 0; i < 2; i++) {
                struct io_uring_sqe *sqe;

                if (!armed[i])
                        continue;
                sqe = get_sqe(server->ring);
                if (!sqe)
                        continue;
                io_uring_prep_poll_remove(sqe, driver_data(d, events[i]));
                io_uring_sqe_set_data64(sqe, EVENT_IGNORE);
        }
        /* Before the caller closes the fds the polls hold. */
        io_uring_submit(server->ring);
}

static uint64_t host_data(const struct server_host *h, uint64_t event)
{
        return (uint64_t)h->generation << 32 | (uint64_t)h->index << 8 | event;
}

int udkd_loop_arm_host(struct udkd_server *server, struct server_host *h)
{
        struct io_uring_sqe *sqe;

        if (!server->ring)
                return 0;
        if (h->fd >= 0 && !h->fd_armed) {
                sqe = get_sqe(server->ring);
                if (!sqe)
                        return -EBUSY;
                io_uring_prep_poll_add(sqe, h->fd, POLLIN);
                io_uring_sqe_set_data64(sqe, host_data(h, EVENT_HOST_FD));
                h->fd_armed = true;
        }
        if (h->pidfd >= 0 && !h->pidfd_armed) {
                sqe = get_sqe(server->ring);
                if (!sqe)
                        return -EBUSY;
                io_uring_prep_poll_add(sqe, h->pidfd, POLLIN);
                io_uring_sqe_set_data64(sqe, host_data(h, EVENT_HOST_PID));
                h->pidfd_armed = true;
        }
        return 0;
}

void udkd_loop_cancel_host(struct udkd_server *server, struct server_host *h)
{
        static const uint64_t events[] = { EVENT_HOST_FD, EVENT_HOST_PID };
        bool armed[] = { h->fd_armed, h->pidfd_armed };

        h->fd_armed = h->pidfd_armed = false;
        if (!server->ring)
                return;
        for (size_t i = 0; i < 2; i++) {
                struct io_uring_sqe *sqe;

                if (!armed[i])
                        continue;
                sqe = get_sqe(server->ring);
                if (!sqe)
                        continue;
                io_uring_prep_poll_remove(sqe, host_data(h, events[i]));
                io_uring_sqe_set_data64(sqe, EVENT_IGNORE);
        }
        /* Before the caller closes the fds the polls hold. */
        io_uring_submit(server->ring);
}

static void loop_host(struct loop *l, uint64_t data, int res)
{
        uint32_t index = (uint32_t)(data >> 8) & 0xffffff;
        uint32_t generation = (uint32_t)(data >> 32);
        struct server_host *h = index < UDKD_HOSTS_MAX ? l->server->hosts[index] : NULL;

        if (!h || h->generation != generation)
                return; /* gone */
        if ((data & 0xff) == EVENT_HOST_PID)
                udkd_host_exited(l->server, h);
        else
                udkd_host_readable(l->server, h, res);
}

int udkd_loop_arm_inotify(struct udkd_server *server)
{
        struct io_uring_sqe *sqe;

        if (!server->ring || server->inotify_fd < 0 || server->inotify_armed)
                return 0;
        sqe = get_sqe(server->ring);
        if (!sqe)
                return -EBUSY;
        io_uring_prep_poll_add(sqe, server->inotify_fd, POLLIN);
        io_uring_sqe_set_data64(sqe, EVENT_INOTIFY);
        server->inotify_armed = true;
        return 0;
}

static void loop_driver(struct loop *l, uint64_t data, int res)
{
        uint32_t index = (uint32_t)(data >> 8) & 0xffffff;
        uint32_t generation = (uint32_t)(data >> 32);
        struct server_driver *d = index < UDKD_DRIVERS_MAX ? l->server->drivers[index] : NULL;

        if (!d || d->generation != generation)
                return; /* gone, or a run before this one */
        if ((data & 0xff) == EVENT_DRIVER_PID)
                udkd_driver_exited(l->server, d);
        else
                udkd_driver_readable(l->server, d, res);
}

static int loop_arm(struct loop *l, uint64_t event)
{
        struct io_uring_sqe *sqe = get_sqe(&l->ring);

        if (!sqe)
                return -EBUSY;
        if (event == EVENT_SIGNAL)
                io_uring_prep_read(sqe, l->signal_fd, &l->siginfo, sizeof(l->siginfo), 0);
        else if (event == EVENT_TICK)
                io_uring_prep_read(sqe, l->timer_fd, &l->expirations, sizeof(l->expirations), 0);
        else
                io_uring_prep_poll_add(sqe, l->server->listen_fd, POLLIN);
        io_uring_sqe_set_data64(sqe, event);
        return 0;
}

static void loop_print_stats(struct loop *l)
{
        char line[2048];

        for (size_t i = 0; i < l->server->n_devices; i++) {
                if (!l->server->devices[i].dev)
                        continue;
                udkd_server_format_stats(l->server, i, line, sizeof(line));
                printf("%s\n", line);
        }
        fflush(stdout);
}

/* Quit once the drivers have stopped (STOP, stop_timeout, then SIGKILL). */
static void loop_stop(struct loop *l)
{
        l->stopping = true;
        if (udkd_drivers_shutdown(l->server))
                l->quit = true;
}

static void loop_tick(struct loop *l)
{
        struct udkd_server *server = l->server;
        uint64_t now = udk_time_now();

        udkd_devices_check_failures(server);
        for (size_t i = 0; i < server->n_devices; i++)
                if (server->devices[i].dev)
                        udk_device_collect(server->devices[i].dev);
        udkd_devices_tick(server);
        udkd_nodes_tick(server, now);
        udkd_sessions_tick(server, now);
        udkd_drivers_tick(server, now);
        udkd_personalities_tick(server, now);
        if (l->stopping && udkd_drivers_shutdown(server))
                l->quit = true;
        if (l->stats_interval && now >= l->next_stats) {
                loop_print_stats(l);
                /* Stay on the grid; skip what a stalled loop missed. */
                while (l->next_stats <= now)
                        l->next_stats += l->stats_interval;
        }
        if (l->deadline && now >= l->deadline && !l->stopping) {
                udk_info("duration over, stopping");
                loop_stop(l);
        }
}

static void loop_accept(struct loop *l)
{
        for (;;) {
                int fd = accept4(l->server->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                udk_warn("accepting a client: %s", strerror(errno));
                        return;
                }
                udkd_session_accept(l->server, fd);
        }
}

static void loop_session(struct loop *l, uint64_t data, int res)
{
        uint32_t index = (uint32_t)(data >> 8) & 0xffffff;
        uint32_t generation = (uint32_t)(data >> 32);
        struct server_session *s = index < UDKD_SESSIONS_MAX ? l->server->sessions[index] : NULL;

        if (!s || s->generation != generation)
                return; /* closed meanwhile */
        s->poll_armed = false;
        if (res < 0 && res != -ECANCELED) {
                udkd_session_close(l->server, s, strerror(-res));
                return;
        }
        udkd_session_serve(l->server, s);
}

static int loop_handle(struct loop *l, uint64_t data, int res)
{
        uint64_t event = data & 0xff;

        switch (event) {
        case EVENT_SESSION:
                loop_session(l, data, res);
                return 0;
        case EVENT_IGNORE:
                return 0;
        case EVENT_DRIVER_FD:
        case EVENT_DRIVER_PID:
                loop_driver(l, data, res);
                return 0;
        case EVENT_HOST_FD:
        case EVENT_HOST_PID:
                loop_host(l, data, res);
                return 0;
        case EVENT_INOTIFY:
                l->server->inotify_armed = false;
                udkd_personalities_changed(l->server);
                return udkd_loop_arm_inotify(l->server);
        case EVENT_LISTEN:
                if (res >= 0)
                        loop_accept(l);
                return loop_arm(l, EVENT_LISTEN);
        default:
                break;
        }
        if (res < 0 && res != -EAGAIN && res != -EINTR) {
                udk_error("event loop: reading the %s: %s", event == EVENT_SIGNAL ? "signalfd" : "timerfd",
                          strerror(-res));
                return res;
        }
        if (event == EVENT_SIGNAL && res == (int)sizeof(l->siginfo)) {
                int signo = (int)l->siginfo.ssi_signo;

                if (signo == SIGHUP) {
                        udk_info("SIGHUP ignored (no reload yet)");
                } else if (l->stopping) {
                        udk_info("%s again, stopping without waiting for the drivers", strsignal(signo));
                        l->quit = true;
                } else {
                        udk_info("%s, stopping", strsignal(signo));
                        loop_stop(l);
                }
        } else if (event == EVENT_TICK && res == (int)sizeof(l->expirations)) {
                loop_tick(l);
        }
        return loop_arm(l, event);
}

static int loop_run(struct loop *l)
{
        while (!l->quit) {
                struct io_uring_cqe *cqe;
                int r = io_uring_submit_and_wait(&l->ring, 1);

                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        udk_error("event loop: io_uring_submit_and_wait: %s", strerror(-r));
                        return r;
                }
                while (!l->quit && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
                        uint64_t data = io_uring_cqe_get_data64(cqe);
                        int res = cqe->res;

                        io_uring_cqe_seen(&l->ring, cqe);
                        r = loop_handle(l, data, res);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int udkd_server_run(struct udkd_server *server, const sigset_t *signals, uint64_t stats_interval_ns,
                    uint64_t duration_ns)
{
        struct itimerspec tick = {
                .it_interval = { .tv_nsec = UDKD_TICK_NS },
                .it_value = { .tv_nsec = UDKD_TICK_NS },
        };
        struct loop l = {
                .server = server,
                .signal_fd = -1,
                .timer_fd = -1,
                .stats_interval = stats_interval_ns,
        };
        uint64_t start;
        int r;

        l.signal_fd = signalfd(-1, signals, SFD_NONBLOCK | SFD_CLOEXEC);
        if (l.signal_fd < 0) {
                r = -errno;
                udk_error("event loop: signalfd: %s", strerror(-r));
                return r;
        }
        l.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (l.timer_fd < 0) {
                r = -errno;
                udk_error("event loop: timerfd_create: %s", strerror(-r));
                goto out_signal;
        }
        r = io_uring_queue_init(RING_ENTRIES, &l.ring, 0);
        if (r < 0) {
                udk_error("event loop: io_uring_queue_init: %s", strerror(-r));
                goto out_timer;
        }
        server->ring = &l.ring;

        start = udk_time_now();
        l.next_stats = start + stats_interval_ns;
        l.deadline = duration_ns ? start + duration_ns : 0;
        if (timerfd_settime(l.timer_fd, 0, &tick, NULL) < 0) {
                r = -errno;
                udk_error("event loop: timerfd_settime: %s", strerror(-r));
                goto out_ring;
        }
        r = loop_arm(&l, EVENT_SIGNAL);
        if (r == 0)
                r = loop_arm(&l, EVENT_TICK);
        if (r == 0 && server->listen_fd >= 0)
                r = loop_arm(&l, EVENT_LISTEN);
        if (r == 0)
                r = udkd_loop_arm_inotify(server);
        for (uint32_t i = 0; r == 0 && i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i])
                        r = udkd_loop_arm_driver(server, server->drivers[i]);
        for (uint32_t i = 0; r == 0 && i < UDKD_HOSTS_MAX; i++)
                if (server->hosts[i])
                        r = udkd_loop_arm_host(server, server->hosts[i]);
        if (r == 0)
                r = loop_run(&l);

out_ring:
        /* Sessions outlive the loop until the server goes: drop their polls. */
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++)
                if (server->sessions[i])
                        server->sessions[i]->poll_armed = false;
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i])
                        server->drivers[i]->fd_armed = server->drivers[i]->pidfd_armed = false;
        for (uint32_t i = 0; i < UDKD_HOSTS_MAX; i++)
                if (server->hosts[i])
                        server->hosts[i]->fd_armed = server->hosts[i]->pidfd_armed = false;
        server->inotify_armed = false;
        server->ring = NULL;
        io_uring_queue_exit(&l.ring);
out_timer:
        close(l.timer_fd);
out_signal:
        close(l.signal_fd);
        return r;
}
