/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: one driver instance per (nub, personality), each run by a
 * udk-driverhost process of its own, or, when its personality has a `host`
 * key, as a member of the shared host of that key (hosts.c), on a socket of
 * its own all the same: everything below holds for a member too, except
 * that its end comes from the host's HOST_DETACHED or the host's exit, and
 * that killing it kills its host and with it every member.
 *
 * The host is spawned with posix_spawn, its end of a SOCK_SEQPACKET
 * socketpair as fd 3 and nothing else open but 0, 1 and 2; it makes itself
 * a session (and process group) of its own first thing.  udkd watches its pidfd and its socket through the
 * io_uring loop.  An exit is classified (exit 0 after STOP: clean; a signal,
 * a non-zero status, a time-out or a malformed message: a crash) and the
 * personality's policy applied: the first restart at once, from the exit
 * handler; then restart_delay * 2^(n-1) for the n-th delayed one, capped at
 * restart_delay_max; at the crash that makes more than restart_limit's
 * COUNT within its DURATION (a sliding window, crash-window.h) udkd gives
 * up ("failed").  restart_reset of running without a crash forgets the
 * back-off and the crash times.  Deadlines (start, stop, heartbeat, calls)
 * are checked at the loop's 10 ms tick.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define MS 1000000ull
#define HANGUP_GRACE_NS (1000ull * MS) /* a host that closed its socket has this long to exit */

extern char **environ;

static const char *const state_names[] = {
        [DRIVER_STARTING] = "starting", [DRIVER_RUNNING] = "running", [DRIVER_STOPPING] = "stopping",
        [DRIVER_RESTARTING] = "restarting", [DRIVER_STOPPED] = "stopped", [DRIVER_FAILED] = "failed",
};

const char *udkd_driver_state_name(enum server_driver_state state)
{
        return (unsigned)state < UDK_ELEMENTSOF(state_names) ? state_names[state] : "unknown";
}

/* The defaults, for a driver whose personality has gone (it is on its way out). */
static const struct udkd_personality gone_personality = {
        .restart = UDKD_RESTART_NO,
        .start_timeout_ms = UDKD_START_TIMEOUT_DEFAULT_MS,
        .stop_timeout_ms = UDKD_STOP_TIMEOUT_DEFAULT_MS,
        .heartbeat_ms = UDKD_HEARTBEAT_DEFAULT_MS,
        .restart_delay_ms = UDKD_RESTART_DELAY_DEFAULT_MS,
        .restart_delay_max_ms = UDKD_RESTART_DELAY_MAX_DEFAULT_MS,
        .restart_reset_ms = UDKD_RESTART_RESET_DEFAULT_MS,
};

const struct udkd_personality *udkd_driver_personality(const struct udkd_server *server,
                                                       const struct server_driver *d)
{
        if (d->personality < server->personalities.n_items)
                return &server->personalities.items[d->personality];
        return NULL;
}

static const struct udkd_personality *pers(const struct udkd_server *server, const struct server_driver *d)
{
        const struct udkd_personality *p = udkd_driver_personality(server, d);

        return p ? p : &gone_personality;
}

struct server_driver *udkd_driver_find(struct udkd_server *server, udk_object_id id)
{
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i] && server->drivers[i]->id == id)
                        return server->drivers[i];
        return NULL;
}

static void changed(struct udkd_server *server, struct server_driver *d)
{
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, d->id);
}

static uint32_t next_sequence(struct server_driver *d)
{
        if (++d->next_sequence == 0)
                d->next_sequence = 1;
        return d->next_sequence;
}

int udkd_driver_send(struct udkd_server *server, struct server_driver *d, const void *msg, size_t len,
                     const int *fds, unsigned n_fds)
{
        int r;

        if (d->fd < 0)
                return -EPIPE;
        r = udk_msg_send(d->fd, msg, len, fds, n_fds);
        if (r == -EAGAIN) {
                udkd_driver_kill(server, d, "does not read its socket (send buffer full)");
                return -EPIPE;
        }
        if (r < 0) {
                /* Gone: the pidfd tells the rest. */
                udk_debug("driver '%s': sending: %s", d->name, strerror(-r));
                return -EPIPE;
        }
        return 0;
}

void udkd_driver_kill(struct udkd_server *server, struct server_driver *d, const char *reason)
{
        if (d->pid <= 0 || d->killed)
                return;
        if (d->host) {
                /* One queue runs them all: a member that hangs or breaks the protocol takes the host down. */
                udkd_host_kill(server, d->host, d, reason);
                return;
        }
        udk_warn("driver '%s' (pid %d): %s: killed", d->name, (int)d->pid, reason);
        udk_strlcpy(d->kill_reason, reason, sizeof(d->kill_reason));
        d->killed = true;
        d->deadline = 0;
        d->pong_deadline = 0;
        if (pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                udk_error("driver '%s' (pid %d): cannot kill it: %s", d->name, (int)d->pid, strerror(errno));
        (void)server;
}

/* --- spawning --- */

int udkd_driverhost_spawn(struct udkd_server *server, const char *shared_key, char *const *drivers,
                          size_t n_drivers, bool udev, pid_t *ret_pid, int *ret_pidfd, int *ret_fd)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, defaults;
        char *argv[6 + UDKD_HOST_DRIVERS_MAX], shared[UDK_OBJECT_NAME_MAX + 16];
        int sv[2], child, argc = 0, r, pidfd;
        const char *no_sandbox = getenv("UDK_DRIVERHOST_NO_SANDBOX");
        pid_t pid;

        if (n_drivers == 0 || n_drivers > UDKD_HOST_DRIVERS_MAX)
                return -EINVAL;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        child = sv[1];
        /* adddup2 onto itself would keep close-on-exec: keep the child's end off fd 3. */
        if (child <= 3) {
                child = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
                close(sv[1]);
                if (child < 0) {
                        r = -errno;
                        close(sv[0]);
                        return r;
                }
        }
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                goto out_socks;
        }

        argv[argc++] = server->driverhost;
        if (shared_key) {
                snprintf(shared, sizeof(shared), "--shared=%s", shared_key);
                argv[argc++] = shared;
        }
        if (udk_log_get_level() >= UDK_LOG_DEBUG)
                argv[argc++] = (char *)"--verbose";
        if (no_sandbox && strcmp(no_sandbox, "1") == 0)
                argv[argc++] = (char *)"--no-sandbox";
        if (udev)
                argv[argc++] = (char *)"--udev";
        for (size_t i = 0; i < n_drivers; i++)
                argv[argc++] = drivers[i];
        argv[argc] = NULL;

        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGTERM);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGHUP);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_adddup2(&fa, child, 3);
        posix_spawn_file_actions_addclosefrom_np(&fa, 4);
        /* udkd blocks its stop signals for the signalfd and ignores SIGPIPE: the host gets neither. */
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        /* No POSIX_SPAWN_SETSID: the host calls setsid() itself, first thing.  In the child here it
         * moves it to a new autogroup, which the scheduler may leave unrun for 100 ms and more, and
         * posix_spawn returns only once the child has run to its exec: udkd's control thread (hang-ups,
         * ticks, driver messages) waited that long (docs/reliability.md). */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        r = -posix_spawn(&pid, server->driverhost, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r < 0)
                goto out_socks;
        close(child);

        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                r = -errno;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                close(sv[0]);
                return r;
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        *ret_fd = sv[0];
        return 0;

out_socks:
        close(sv[0]);
        close(child);
        return r;
}

static int spawn_host(struct udkd_server *server, struct server_driver *d, const char *driver_path)
{
        const struct udkd_personality *p = udkd_driver_personality(server, d);
        char *drivers[] = { (char *)driver_path };

        return udkd_driverhost_spawn(server, NULL, drivers, 1, p && p->sandbox_udev, &d->pid, &d->pidfd, &d->fd);
}

static void driver_settle(struct udkd_server *server, struct server_driver *d);

/*
 * The driver whose nub went and whose host still runs, of the device @d is for (a nub of the same name
 * from the same publisher: the device again after its bus driver's crash, or plugged in again): NULL
 * when there is none.  Its host may still hold the device and the device's uid; @d starts after it.
 */
static struct server_driver *driver_leaving(struct udkd_server *server, const struct server_driver *d)
{
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *o = server->drivers[i];

                if (o && o != d && !o->nub && o->pid > 0 && o->nub_publisher == d->nub_publisher &&
                    strcmp(o->nub_name, d->nub_name) == 0)
                        return o;
        }
        return NULL;
}

/* Run the driver (again): a new host, STARTING.  -ENOENT when it lost its personality or nub and went. */
static int driver_spawn(struct udkd_server *server, struct server_driver *d)
{
        const struct udkd_personality *p = udkd_driver_personality(server, d);
        struct server_driver *leaving;
        uint64_t now = udk_time_now();
        int r;

        if (!p || !d->nub) {
                d->after = AFTER_REMOVE;
                driver_settle(server, d);
                return -ENOENT;
        }
        leaving = driver_leaving(server, d);
        if (leaving) {
                /* The tick spawns it once that one has exited: never two drivers on one device. */
                if (!d->waits)
                        udk_info("driver '%s': nub %s: waits for driver '%s' (pid %d), its device's, "
                                 "to exit",
                                 d->name, d->nub->name, leaving->name, (int)leaving->pid);
                d->waits = true;
                d->state = DRIVER_STARTING;
                d->deadline = 0;
                changed(server, d);
                return 0;
        }
        d->waits = false;
        if (d->spawned_at)
                d->restarts++;
        d->generation = ++server->driver_generation;
        d->ready = d->stop_sent = d->killed = false;
        d->kill_reason[0] = '\0';
        d->next_sequence = 0;
        d->start_sequence = d->stop_sequence = d->ping_sequence = 0;
        d->pong_deadline = 0;
        d->running_since = 0;
        d->after = AFTER_POLICY;
        d->spawned_at = now;
        r = p->host ? udkd_host_attach(server, d, p) : spawn_host(server, d, p->driver);
        if (r == -ENOSPC && p->host) {
                /* Short enough for the registry's last_exit (64 bytes). */
                snprintf(d->last_exit, sizeof(d->last_exit), "udkd runs %u shared hosts already, the limit",
                         UDKD_HOSTS_MAX);
                udk_error("driver '%s': shared host '%s': %s", d->name, p->host, d->last_exit);
                d->state = DRIVER_FAILED;
                changed(server, d);
                return 0;
        }
        if (r < 0) {
                snprintf(d->last_exit, sizeof(d->last_exit), "cannot run %s: %s", server->driverhost,
                         strerror(-r));
                udk_error("driver '%s': %s", d->name, d->last_exit);
                d->state = DRIVER_FAILED;
                changed(server, d);
                return 0;
        }
        d->state = DRIVER_STARTING;
        d->deadline = now + p->start_timeout_ms * MS;
        if (d->host)
                udk_info("driver '%s': in shared host '%s' (pid %d) for nub %s (%s)%s", d->name, d->host->key,
                         (int)d->pid, d->nub->name, p->driver, d->restarts ? ", a restart" : "");
        else
                udk_info("driver '%s': host pid %d started for nub %s (%s)%s", d->name, (int)d->pid, d->nub->name,
                         p->driver, d->restarts ? ", a restart" : "");
        udkd_loop_arm_driver(server, d);
        changed(server, d);
        return 0;
}

int udkd_driver_create(struct udkd_server *server, struct server_nub *nub, size_t index)
{
        struct server_driver *d;
        uint32_t slot;

        for (slot = 0; slot < UDKD_DRIVERS_MAX && server->drivers[slot]; slot++)
                ;
        if (slot == UDKD_DRIVERS_MAX) {
                udk_error("nub %s: cannot start driver '%s': %u drivers already, the limit", nub->name,
                          server->personalities.items[index].name, UDKD_DRIVERS_MAX);
                return -ENOSPC;
        }
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->id = udk_object_id_next();
        d->index = slot;
        udk_strlcpy(d->name, server->personalities.items[index].name, sizeof(d->name));
        d->personality = index;
        d->nub = nub;
        d->nub_id = nub->id;
        d->nub_publisher = nub->publisher ? nub->publisher->id : 0;
        udk_strlcpy(d->nub_name, nub->name, sizeof(d->nub_name));
        d->fd = d->pidfd = -1;
        nub->bound = d;
        server->drivers[slot] = d;
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, d->id);
        driver_spawn(server, d);
        return 0;
}

/* --- the end of a run --- */

static void fail_calls(struct udkd_server *server, struct server_driver *d)
{
        for (uint32_t i = 0; i < UDKD_DRIVER_CALLS_MAX; i++) {
                struct server_call *c = &d->calls[i];
                struct server_session *s;

                if (!c->sequence)
                        continue;
                s = udkd_session_find(server, c->session);
                if (s)
                        udkd_session_reply(server, s, c->session_sequence, -UDK_E_DRIVER_TERMINATED, 0,
                                           "driver '%s' terminated (%s) before it answered", d->name,
                                           d->last_exit);
                c->sequence = 0;
        }
}

static void driver_free(struct udkd_server *server, struct server_driver *d)
{
        udkd_driver_devices_remove(server, d);
        udkd_nubs_remove_published(server, d);
        if (d->nub && d->nub->bound == d)
                d->nub->bound = NULL;
        server->drivers[d->index] = NULL;
        udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, d->id);
        udk_info("driver '%s': removed", d->name);
        free(d);
}

static uint64_t backoff_ms(const struct udkd_personality *p, uint32_t delayed)
{
        uint64_t delay = p->restart_delay_ms;

        for (uint32_t i = 1; i < delayed && delay < p->restart_delay_max_ms; i++)
                delay *= 2;
        return UDK_MIN(delay, p->restart_delay_max_ms);
}

/* After a crash (or an exit the policy restarts): again at once, later, or never; the CHANGED event. */
static void driver_policy(struct udkd_server *server, struct server_driver *d, bool crash, uint64_t now)
{
        const struct udkd_personality *p = pers(server, d);
        bool give_up = false;

        if (d->running_since && now - d->running_since >= p->restart_reset_ms * MS) {
                d->crash_run = 0;
                udkd_crash_window_forget(&d->crash_times);
        }
        if (crash) {
                d->crashes++;
                give_up = udkd_crash_window_add(&d->crash_times, now, p->restart_limit_count,
                                                p->restart_limit_window_ms * MS);
        }
        if (p->restart == UDKD_RESTART_NO || (!crash && p->restart != UDKD_RESTART_ALWAYS)) {
                d->state = crash ? DRIVER_FAILED : DRIVER_STOPPED;
                udk_info("driver '%s': %s (%s), restart = %s", d->name, udkd_driver_state_name(d->state),
                         d->last_exit, udkd_restart_name(p->restart));
                if (d->state == DRIVER_STOPPED)
                        udkd_driver_devices_remove(server, d);
                changed(server, d);
                return;
        }
        if (give_up) {
                uint64_t w = p->restart_limit_window_ms;

                d->state = DRIVER_FAILED;
                udk_error("driver '%s': %" PRIu32 " crashes within %llu %s, more than restart_limit allows: "
                          "gave up (%s)",
                          d->name, udkd_crash_window_count(&d->crash_times, now, w * MS),
                          (unsigned long long)(w % 1000 ? w : w / 1000), w % 1000 ? "ms" : "s", d->last_exit);
                changed(server, d);
                return;
        }
        d->crash_run++;
        if (d->crash_run == 1 || p->restart_delay_ms == 0) {
                driver_spawn(server, d); /* its own events */
                return;
        }
        d->state = DRIVER_RESTARTING;
        d->restart_at = now + backoff_ms(p, d->crash_run - 1) * MS;
        udk_info("driver '%s': restarting in %llu ms (%s)", d->name,
                 (unsigned long long)((d->restart_at - now) / MS), d->last_exit);
        changed(server, d);
}

/* No host any more: do what d->after says. */
static void driver_settle(struct udkd_server *server, struct server_driver *d)
{
        switch (d->after) {
        case AFTER_REMOVE:
                driver_free(server, d);
                return;
        case AFTER_STOP:
                d->state = DRIVER_STOPPED;
                d->after = AFTER_POLICY;
                udkd_driver_devices_remove(server, d);
                udk_info("driver '%s': stopped", d->name);
                changed(server, d);
                return;
        case AFTER_RESTART:
                d->crash_run = 0;
                udkd_crash_window_forget(&d->crash_times);
                driver_spawn(server, d);
                return;
        case AFTER_POLICY:
                break;
        }
}

void udkd_driver_describe_exit(const siginfo_t *si, char *buf, size_t size)
{
        if (si->si_code == CLD_EXITED)
                snprintf(buf, size, "exit %d", si->si_status);
        else
                snprintf(buf, size, "killed by SIG%s%s", sigabbrev_np(si->si_status) ?: "?",
                         si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

void udkd_driver_exited(struct udkd_server *server, struct server_driver *d)
{
        siginfo_t si = { 0 };
        bool crash;
        int r;

        d->pidfd_armed = false;
        do
                r = waitid((idtype_t)P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0 && si.si_pid == 0) {
                udkd_loop_arm_driver(server, d); /* not gone yet */
                return;
        }
        if (r < 0) {
                udk_error("driver '%s' (pid %d): waitid: %s", d->name, (int)d->pid, strerror(errno));
                if (!d->killed)
                        udkd_driver_kill(server, d, "lost (waitid failed)");
        }
        udkd_loop_cancel_driver(server, d);
        close(d->pidfd);
        d->pidfd = -1;

        if (d->killed) {
                udk_strlcpy(d->last_exit, d->kill_reason, sizeof(d->last_exit));
                crash = true;
        } else {
                udkd_driver_describe_exit(&si, d->last_exit, sizeof(d->last_exit));
                crash = !(si.si_code == CLD_EXITED && si.si_status == 0);
        }
        udkd_driver_end(server, d, crash);
}

void udkd_driver_end(struct udkd_server *server, struct server_driver *d, bool crash)
{
        uint64_t now = udk_time_now();

        udkd_loop_cancel_driver(server, d);
        if (d->fd >= 0) {
                udkd_driver_drain_logs(d);
                close(d->fd);
        }
        d->fd = -1;
        if (crash || !d->stop_sent)
                udk_log(crash ? UDK_LOG_WARN : UDK_LOG_INFO, "driver '%s' (pid %d): %s%s", d->name, (int)d->pid,
                        d->last_exit, crash ? ", a crash" : "");
        else
                udk_debug("driver '%s' (pid %d): %s after stop", d->name, (int)d->pid, d->last_exit);
        d->pid = 0;
        d->deadline = 0;
        d->pong_deadline = 0;
        /* Before the policy: a host it leaves without members is closed, so a restart at once gets a new
         * one instead of joining a host on its way out. */
        udkd_host_detach(server, d);

        fail_calls(server, d);
        /* A bus driver's nubs go with it (their drivers stop); a restart finds them again. */
        udkd_nubs_remove_published(server, d);
        udkd_driver_devices_orphan(server, d);

        if (d->after != AFTER_POLICY) {
                if (crash)
                        d->crashes++;
                driver_settle(server, d);
                return;
        }
        driver_policy(server, d, crash, now);
}

/* --- stopping and the clients' controls --- */

void udkd_driver_stop(struct udkd_server *server, struct server_driver *d, enum server_driver_after after)
{
        const struct udkd_personality *p = pers(server, d);
        struct udk_msg_header m;

        if (d->after != AFTER_REMOVE)
                d->after = after;
        if (d->pid <= 0) {
                driver_settle(server, d);
                return;
        }
        if (d->stop_sent || d->killed)
                return;
        d->stop_sequence = next_sequence(d);
        udk_msg_init(&m, UDK_DMSG_STOP, sizeof(m), d->stop_sequence);
        d->stop_sent = true;
        d->state = DRIVER_STOPPING;
        d->deadline = udk_time_now() + p->stop_timeout_ms * MS;
        d->pong_deadline = 0;
        udk_info("driver '%s' (pid %d): stopping", d->name, (int)d->pid);
        udkd_driver_send(server, d, &m, sizeof(m), NULL, 0);
        changed(server, d);
}

/* A client's restart or start: the crashes and the back-off are forgotten. */
static void forget(struct server_driver *d)
{
        d->crashes = 0;
        d->crash_run = 0;
        udkd_crash_window_forget(&d->crash_times);
}

int udkd_driver_control(struct udkd_server *server, struct server_driver *d, uint32_t action, char *err,
                        size_t err_size)
{
        switch (action) {
        case UDK_DRIVER_RESTART:
                forget(d);
                if (d->pid > 0) {
                        udkd_driver_stop(server, d, AFTER_RESTART);
                } else {
                        d->after = AFTER_RESTART;
                        driver_settle(server, d);
                }
                return 0;
        case UDK_DRIVER_STOP:
                if (d->state == DRIVER_STOPPED) {
                        snprintf(err, err_size, "driver '%s' is stopped already", d->name);
                        return -EALREADY;
                }
                udkd_driver_stop(server, d, AFTER_STOP);
                return 0;
        case UDK_DRIVER_START:
                if (d->pid > 0) {
                        snprintf(err, err_size, "driver '%s' is %s already", d->name,
                                 udkd_driver_state_name(d->state));
                        return -EALREADY;
                }
                if (!udkd_driver_personality(server, d) || !d->nub) {
                        snprintf(err, err_size, "driver '%s' has lost its %s", d->name,
                                 d->nub ? "personality" : "nub");
                        return -ENOENT;
                }
                forget(d);
                driver_spawn(server, d);
                return 0;
        default:
                snprintf(err, err_size, "unknown driver action %" PRIu32 " (1 restart, 2 stop, 3 start)", action);
                return -EINVAL;
        }
}

/* --- calls --- */

int udkd_driver_call(struct udkd_server *server, struct server_driver *d, struct server_session *s,
                     const struct udk_msg_call *m, char *err, size_t err_size)
{
        union {
                struct udk_dmsg_call call;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        struct server_call *c = NULL;

        if (d->state == DRIVER_STARTING && (d->fd >= 0 || d->waits)) {
                snprintf(err, err_size, "driver '%s' is starting: try again once it runs", d->name);
                return -EAGAIN;
        }
        if (d->state != DRIVER_RUNNING || d->fd < 0) {
                snprintf(err, err_size, "driver '%s' is %s%s%s", d->name, udkd_driver_state_name(d->state),
                         d->last_exit[0] ? ": " : "", d->last_exit);
                return -UDK_E_DRIVER_TERMINATED;
        }
        for (uint32_t i = 0; i < UDKD_DRIVER_CALLS_MAX && !c; i++)
                if (!d->calls[i].sequence)
                        c = &d->calls[i];
        if (!c) {
                snprintf(err, err_size, "driver '%s' has %u calls in flight already, the limit", d->name,
                         UDKD_DRIVER_CALLS_MAX);
                return -EBUSY;
        }
        memset(&buf.call, 0, sizeof(buf.call));
        buf.call.selector = m->selector;
        buf.call.n_scalars = m->n_scalars;
        buf.call.struct_size = m->struct_size;
        buf.call.struct_out_max = m->struct_out_max;
        buf.call.caller_uid = (uint32_t)s->uid;
        memcpy(buf.call.scalars, m->scalars, sizeof(buf.call.scalars));
        memcpy(buf.call.data, m->data, m->struct_size);
        *c = (struct server_call){
                .sequence = next_sequence(d),
                .session = s->id,
                .session_sequence = m->h.sequence,
                .struct_out_max = m->struct_out_max,
                .deadline = udk_time_now() + UDKD_CALL_TIMEOUT_NS,
        };
        udk_msg_init(&buf.call.h, UDK_DMSG_CALL, (uint32_t)udk_dmsg_call_size(m->struct_size), c->sequence);
        if (udkd_driver_send(server, d, &buf, buf.call.h.size, NULL, 0) < 0) {
                c->sequence = 0;
                snprintf(err, err_size, "driver '%s' terminated before it took the call", d->name);
                return -UDK_E_DRIVER_TERMINATED;
        }
        return 0;
}

int udkd_driver_call_reply(struct udkd_server *server, struct server_driver *d,
                           const struct udk_dmsg_call_reply *m, char *why, size_t why_size)
{
        union {
                struct udk_msg_call_result result;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        struct server_session *s;
        struct server_call *c = NULL;

        for (uint32_t i = 0; i < UDKD_DRIVER_CALLS_MAX && !c; i++)
                if (d->calls[i].sequence == m->h.sequence)
                        c = &d->calls[i];
        if (!c)
                return 0; /* timed out meanwhile: its client has had its answer */
        if (m->struct_size > c->struct_out_max) {
                snprintf(why, why_size, "call-reply of %" PRIu32 " bytes of structure, the call took %" PRIu32,
                         m->struct_size, c->struct_out_max);
                return -EPROTO;
        }
        s = udkd_session_find(server, c->session);
        c->sequence = 0;
        if (!s)
                return 0;
        memset(&buf.result, 0, sizeof(buf.result));
        buf.result.status = m->status;
        buf.result.n_scalars = m->n_scalars;
        buf.result.struct_size = m->struct_size;
        memcpy(buf.result.scalars, m->scalars, sizeof(buf.result.scalars));
        memcpy(buf.result.data, m->data, m->struct_size);
        udk_msg_init(&buf.result.h, UDK_MSG_CALL_RESULT, (uint32_t)udk_msg_call_result_size(m->struct_size),
                     c->session_sequence);
        if (udkd_session_send(server, s, &buf, buf.result.h.size, NULL, 0) == 0)
                udkd_session_reply(server, s, c->session_sequence, m->status, 1, "%s",
                                   m->status < 0 ? udk_strerror(m->status) : "");
        return 0;
}

/* --- the tick --- */

static void driver_tick(struct udkd_server *server, struct server_driver *d, uint64_t now)
{
        const struct udkd_personality *p = pers(server, d);

        for (uint32_t i = 0; i < UDKD_DRIVER_CALLS_MAX; i++) {
                struct server_call *c = &d->calls[i];
                struct server_session *s;

                if (!c->sequence || now < c->deadline)
                        continue;
                s = udkd_session_find(server, c->session);
                if (s)
                        udkd_session_reply(server, s, c->session_sequence, -ETIMEDOUT, 0,
                                           "driver '%s' did not answer the call within %llu s", d->name,
                                           UDKD_CALL_TIMEOUT_NS / 1000000000ull);
                c->sequence = 0;
        }
        if (d->pid > 0 && !d->killed) {
                if (d->deadline && now >= d->deadline) {
                        udkd_driver_kill(server, d,
                                         d->state == DRIVER_STARTING   ? "start time-out"
                                         : d->state == DRIVER_STOPPING ? "stop time-out"
                                                                       : "closed its socket without exiting");
                        return;
                }
                if (d->state == DRIVER_RUNNING && d->pong_deadline && now >= d->pong_deadline) {
                        udkd_driver_kill(server, d, "heartbeat time-out");
                        return;
                }
                if (d->state == DRIVER_RUNNING && !d->pong_deadline && now >= d->next_ping && d->fd >= 0) {
                        struct udk_msg_header m;

                        d->ping_sequence = next_sequence(d);
                        udk_msg_init(&m, UDK_DMSG_PING, sizeof(m), d->ping_sequence);
                        d->pong_deadline = now + UDKD_PONG_INTERVALS * p->heartbeat_ms * MS;
                        d->next_ping = now + p->heartbeat_ms * MS;
                        udkd_driver_send(server, d, &m, sizeof(m), NULL, 0);
                }
                if (d->state == DRIVER_RUNNING && (d->crash_run || d->crash_times.n) &&
                    now - d->running_since >= p->restart_reset_ms * MS) {
                        d->crash_run = 0;
                        udkd_crash_window_forget(&d->crash_times);
                }
        }
        if ((d->state == DRIVER_RESTARTING && now >= d->restart_at) ||
            (d->waits && d->pid <= 0 && !driver_leaving(server, d)))
                driver_spawn(server, d);
}

void udkd_drivers_tick(struct udkd_server *server, uint64_t now)
{
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i])
                        driver_tick(server, server->drivers[i], now);
        udkd_hosts_tick(server, now);
}

/* --- udkd's own end --- */

bool udkd_drivers_shutdown(struct udkd_server *server)
{
        bool any = false;

        if (!server->shutting_down) {
                server->shutting_down = true;
                for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                        if (server->drivers[i])
                                udkd_driver_stop(server, server->drivers[i], AFTER_REMOVE);
        }
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i] && server->drivers[i]->pid > 0)
                        any = true;
        return !any && udkd_hosts_gone(server);
}

void udkd_drivers_destroy(struct udkd_server *server)
{
        server->shutting_down = true;
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];

                if (!d)
                        continue;
                if (d->host) {
                        /* Its host is killed below, with the other shared ones. */
                        if (d->fd >= 0)
                                close(d->fd);
                        d->fd = -1;
                        d->pid = 0;
                        udkd_host_detach(server, d);
                } else if (d->pid > 0) {
                        /* The loop is over: no time left to ask nicely. */
                        pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0);
                        waitpid(d->pid, NULL, 0);
                        close(d->pidfd);
                        if (d->fd >= 0)
                                close(d->fd);
                        d->pid = 0;
                        d->fd = d->pidfd = -1;
                }
                d->fd_armed = d->pidfd_armed = false;
                snprintf(d->last_exit, sizeof(d->last_exit), "udkd stopped");
                fail_calls(server, d);
        }
        udkd_hosts_destroy(server);
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++)
                if (server->drivers[i])
                        driver_free(server, server->drivers[i]);
}
