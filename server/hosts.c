/* SPDX-License-Identifier: MIT */
/*
 * Shared hosts: the instances whose personalities have the same `host`
 * key run in one udk-driverhost --shared process.  Each instance keeps a
 * socketpair of its own, passed over the host's channel (HOST_ATTACH), so
 * the driver protocol, the heartbeat and the calls are those of a host of
 * its own; the host says when an instance ended (HOST_DETACHED, with the
 * exit code its own process would have had).
 *
 * A driver cannot be loaded once the host's sandbox is closed (seccomp
 * denies open and mmap of files), so a shared host loads, at its start,
 * the drivers of every personality that has its key then (at most 16);
 * an instance whose driver it did not load (its personality came with a
 * reload) gets a new host of the same key.  A host whose last member went
 * is told to go (its channel closed) and is killed if it is still there
 * UDKD_HOST_CLOSE_NS later; one that is killed, or dies, takes every
 * member with it, each a crash against its own restart policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define HOST_BATCH 32u /* messages read per readiness */

static bool host_has(const struct server_host *h, const char *driver, uint32_t *ret_index)
{
        for (uint32_t i = 0; i < h->n_drivers; i++)
                if (strcmp(h->drivers[i], driver) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return true;
                }
        return false;
}

/* A host of @key that takes members and loaded @driver. */
static struct server_host *host_find(struct udkd_server *server, const char *key, const char *driver)
{
        for (uint32_t i = 0; i < UDKD_HOSTS_MAX; i++) {
                struct server_host *h = server->hosts[i];

                if (h && h->pid > 0 && h->fd >= 0 && !h->killed && strcmp(h->key, key) == 0 &&
                    host_has(h, driver, NULL))
                        return h;
        }
        return NULL;
}

static void host_free(struct udkd_server *server, struct server_host *h)
{
        server->hosts[h->index] = NULL;
        for (uint32_t i = 0; i < h->n_drivers; i++)
                free(h->drivers[i]);
        free(h);
}

static int host_add_driver(struct server_host *h, const char *driver)
{
        if (host_has(h, driver, NULL) || h->n_drivers == UDKD_HOST_DRIVERS_MAX)
                return 0;
        h->drivers[h->n_drivers] = strdup(driver);
        if (!h->drivers[h->n_drivers])
                return -ENOMEM;
        h->n_drivers++;
        return 0;
}

/* A new host of @p's key: @p's driver first, then those of the other personalities with the key. */
static int host_spawn(struct udkd_server *server, const struct udkd_personality *p, struct server_host **ret)
{
        struct server_host *h;
        uint32_t slot;
        int r;

        for (slot = 0; slot < UDKD_HOSTS_MAX && server->hosts[slot]; slot++)
                ;
        if (slot == UDKD_HOSTS_MAX)
                return -ENOSPC;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->index = slot;
        h->generation = ++server->driver_generation;
        h->pidfd = h->fd = -1;
        udk_strlcpy(h->key, p->host, sizeof(h->key));
        r = host_add_driver(h, p->driver);
        for (size_t i = 0; r >= 0 && i < server->personalities.n_items; i++) {
                const struct udkd_personality *o = &server->personalities.items[i];

                if (o->host && strcmp(o->host, p->host) == 0)
                        r = host_add_driver(h, o->driver);
        }
        if (r >= 0)
                r = udkd_driverhost_spawn(server, h->key, h->drivers, h->n_drivers, &h->pid, &h->pidfd,
                                          &h->fd);
        if (r < 0) {
                for (uint32_t i = 0; i < h->n_drivers; i++)
                        free(h->drivers[i]);
                free(h);
                return r;
        }
        server->hosts[slot] = h;
        udk_info("shared host '%s': pid %d started with %" PRIu32 " driver%s", h->key, (int)h->pid,
                 h->n_drivers, h->n_drivers == 1 ? "" : "s");
        udkd_loop_arm_host(server, h);
        *ret = h;
        return 0;
}

/* Tell @h to go: its channel closed, it exits once its instances ended (there are none). */
static void host_close(struct udkd_server *server, struct server_host *h)
{
        if (h->fd < 0)
                return;
        bool pidfd_armed = h->pidfd_armed;

        /* Only the channel's poll goes: the pidfd's says when it exited. */
        h->pidfd_armed = false;
        udkd_loop_cancel_host(server, h);
        h->pidfd_armed = pidfd_armed;
        close(h->fd);
        h->fd = -1;
        h->close_deadline = udk_time_now() + UDKD_HOST_CLOSE_NS;
        udk_debug("shared host '%s' (pid %d): no members left: closing", h->key, (int)h->pid);
}

static int host_send_attach(struct server_host *h, uint32_t driver, int sock, uint32_t *ret_tag)
{
        struct udk_dmsg_host_attach m = { .driver = driver };
        uint32_t tag = h->next_tag + 1;
        int r;

        if (tag == 0)
                tag = 1;
        udk_msg_init(&m.h, UDK_DMSG_HOST_ATTACH, sizeof(m), tag);
        r = udk_msg_send(h->fd, &m, sizeof(m), &sock, 1);
        if (r < 0)
                return r;
        h->next_tag = tag;
        *ret_tag = tag;
        return 0;
}

int udkd_host_attach(struct udkd_server *server, struct server_driver *d, const struct udkd_personality *p)
{
        struct server_host *h = host_find(server, p->host, p->driver);
        uint32_t driver = 0, tag = 0;
        int sv[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                goto out;
        }
        /* A host that can no longer take the socket (dying, or not reading) gives way to a new one, once. */
        for (int attempt = 0; attempt < 2; attempt++) {
                if (!h) {
                        r = host_spawn(server, p, &h);
                        if (r < 0)
                                goto out;
                }
                host_has(h, p->driver, &driver);
                r = host_send_attach(h, driver, sv[1], &tag);
                if (r == 0)
                        break;
                udk_warn("shared host '%s' (pid %d): cannot pass it driver '%s': %s", h->key, (int)h->pid,
                         d->name, strerror(-r));
                if (r == -EAGAIN)
                        udkd_host_kill(server, h, NULL, "does not read its channel");
                else
                        host_close(server, h);
                h = NULL;
        }
        if (r < 0)
                goto out;
        close(sv[1]);
        d->fd = sv[0];
        d->pidfd = -1;
        d->pid = h->pid;
        d->host = h;
        d->host_tag = tag;
        h->n_members++;
        return 0;

out:
        close(sv[0]);
        close(sv[1]);
        return r;
}

void udkd_host_detach(struct udkd_server *server, struct server_driver *d)
{
        struct server_host *h = d->host;

        if (!h)
                return;
        d->host = NULL;
        d->host_tag = 0;
        if (h->n_members > 0)
                h->n_members--;
        if (h->n_members == 0 && h->pid > 0 && !h->killed)
                host_close(server, h);
}

void udkd_host_kill(struct udkd_server *server, struct server_host *h, struct server_driver *cause,
                    const char *reason)
{
        if (h->pid <= 0 || h->killed)
                return;
        udk_warn("shared host '%s' (pid %d): %s%s%s: killed, and every driver in it", h->key, (int)h->pid,
                 cause ? cause->name : "", cause ? ": " : "", reason);
        h->killed = true;
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];

                if (!d || d->host != h || d->killed)
                        continue;
                if (d == cause)
                        udk_strlcpy(d->kill_reason, reason, sizeof(d->kill_reason));
                else
                        snprintf(d->kill_reason, sizeof(d->kill_reason), "shared host '%s' killed (%s%s%s)",
                                 h->key, cause ? cause->name : "", cause ? ": " : "", reason);
                d->killed = true;
                d->deadline = 0;
                d->pong_deadline = 0;
        }
        if (pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                udk_error("shared host '%s' (pid %d): cannot kill it: %s", h->key, (int)h->pid,
                          strerror(errno));
}

static struct server_driver *host_member(struct udkd_server *server, struct server_host *h, uint32_t tag)
{
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];

                if (d && d->host == h && d->host_tag == tag)
                        return d;
        }
        return NULL;
}

/* An instance ended in its host: as its own process's exit with that code. */
static void on_detached(struct udkd_server *server, struct server_host *h,
                        const struct udk_dmsg_host_detached *m)
{
        struct server_driver *d = host_member(server, h, m->h.sequence);
        bool crash;

        if (!d)
                return; /* ended otherwise meanwhile (udkd stopping) */
        if (d->killed) {
                udk_strlcpy(d->last_exit, d->kill_reason, sizeof(d->last_exit));
                crash = true;
        } else if (d->kill_reason[0]) {
                udk_strlcpy(d->last_exit, d->kill_reason, sizeof(d->last_exit)); /* start failed: ... */
                crash = true;
        } else {
                snprintf(d->last_exit, sizeof(d->last_exit), "exit %" PRId32, m->code);
                crash = m->code != 0;
        }
        udkd_driver_end(server, d, crash);
}

void udkd_host_readable(struct udkd_server *server, struct server_host *h, int res)
{
        union {
                struct udk_msg_header h;
                struct udk_dmsg_host_detached detached;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        char err[200], why[200];
        uint32_t generation = h->generation, index = h->index;

        h->fd_armed = false;
        if (res < 0 && res != -ECANCELED) {
                udkd_host_kill(server, h, NULL, strerror(-res));
                return;
        }
        for (unsigned i = 0; i < HOST_BATCH; i++) {
                int fds[UDK_MSG_FDS_MAX];
                unsigned n_fds = 0;
                ssize_t n;

                /* A detach may restart a member and so change the table: @h must still be this host. */
                if (server->hosts[index] != h || h->generation != generation || h->fd < 0 || h->killed)
                        return;
                n = udk_msg_recv(h->fd, &buf, fds, &n_fds, MSG_DONTWAIT);
                for (unsigned f = 0; f < n_fds; f++)
                        close(fds[f]);
                if (n == -EAGAIN)
                        break;
                if (n == 0 || n == -ECONNRESET)
                        return; /* it is going: its pidfd says when */
                err[0] = '\0';
                if (n < 0)
                        snprintf(err, sizeof(err), "%s",
                                 n == -EMSGSIZE ? "over the size limit" : strerror((int)-n));
                else if (udk_dmsg_check(&buf, (size_t)n, n_fds, true, err, sizeof(err)) == 0 &&
                         buf.h.type != UDK_DMSG_HOST_DETACHED)
                        snprintf(err, sizeof(err), "a %s message on the host's channel",
                                 udk_dmsg_type_name(buf.h.type));
                else if (err[0] == '\0' && (buf.h.sequence > h->next_tag || buf.detached.reserved != 0))
                        snprintf(err, sizeof(err),
                                 "host-detached of instance %" PRIu32 ", which it never had",
                                 buf.h.sequence);
                if (err[0]) {
                        snprintf(why, sizeof(why), "a malformed message: %s", err);
                        udkd_host_kill(server, h, NULL, why);
                        return;
                }
                on_detached(server, h, &buf.detached);
        }
        if (server->hosts[index] == h && h->generation == generation && h->fd >= 0 && !h->killed)
                udkd_loop_arm_host(server, h);
}

void udkd_host_exited(struct udkd_server *server, struct server_host *h)
{
        siginfo_t si = { 0 };
        char exit_text[128];
        int r;

        h->pidfd_armed = false;
        do
                r = waitid((idtype_t)P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0 && si.si_pid == 0) {
                udkd_loop_arm_host(server, h); /* not gone yet */
                return;
        }
        if (r < 0) {
                udk_error("shared host '%s' (pid %d): waitid: %s", h->key, (int)h->pid, strerror(errno));
                snprintf(exit_text, sizeof(exit_text), "lost (waitid failed)");
                si.si_code = CLD_KILLED;
        } else {
                udkd_driver_describe_exit(&si, exit_text, sizeof(exit_text));
        }
        udkd_loop_cancel_host(server, h);
        close(h->pidfd);
        if (h->fd >= 0)
                close(h->fd);
        h->pidfd = h->fd = -1;
        udk_log(h->n_members ? UDK_LOG_WARN : UDK_LOG_DEBUG,
                "shared host '%s' (pid %d): %s, %" PRIu32 " member%s", h->key, (int)h->pid, exit_text,
                h->n_members, h->n_members == 1 ? "" : "s");
        h->pid = 0; /* no member joins it any more */

        /* Every member's run is over, as a host of its own would have exited. */
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];
                bool crash;

                if (!d || d->host != h)
                        continue;
                if (d->killed) {
                        udk_strlcpy(d->last_exit, d->kill_reason, sizeof(d->last_exit));
                        crash = true;
                } else {
                        udk_strlcpy(d->last_exit, exit_text, sizeof(d->last_exit));
                        crash = !(si.si_code == CLD_EXITED && si.si_status == 0);
                }
                udkd_driver_end(server, d, crash);
        }
        host_free(server, h);
}

void udkd_hosts_tick(struct udkd_server *server, uint64_t now)
{
        for (uint32_t i = 0; i < UDKD_HOSTS_MAX; i++) {
                struct server_host *h = server->hosts[i];

                if (h && h->fd < 0 && h->pid > 0 && !h->killed && h->close_deadline &&
                    now >= h->close_deadline)
                        udkd_host_kill(server, h, NULL, "did not exit once its last driver went");
        }
}

bool udkd_hosts_gone(const struct udkd_server *server)
{
        for (uint32_t i = 0; i < UDKD_HOSTS_MAX; i++)
                if (server->hosts[i])
                        return false;
        return true;
}

void udkd_hosts_destroy(struct udkd_server *server)
{
        for (uint32_t i = 0; i < UDKD_HOSTS_MAX; i++) {
                struct server_host *h = server->hosts[i];

                if (!h)
                        continue;
                if (h->pid > 0) {
                        /* The loop is over: no time left to ask nicely. */
                        pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0);
                        waitpid(h->pid, NULL, 0);
                }
                if (h->pidfd >= 0)
                        close(h->pidfd);
                if (h->fd >= 0)
                        close(h->fd);
                host_free(server, h);
        }
}
