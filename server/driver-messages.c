/* SPDX-License-Identifier: MIT */
/*
 * What a driver host says to udkd, read from its socket.  Every message is
 * checked (udk_dmsg_check) before its body is read; one that fails, or that
 * breaks the protocol's order (a STARTED before READY, an answer to nothing
 * udkd asked), gets the host killed and counted as a crash, the reason in
 * the log and in the driver's last_exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define MS 1000000ull
#define DRIVER_BATCH 32u /* messages read per readiness */
#define HANGUP_GRACE_NS (1000ull * MS)

static uint32_t next_sequence(struct server_driver *d)
{
        if (++d->next_sequence == 0)
                d->next_sequence = 1;
        return d->next_sequence;
}

static int reply(struct udkd_server *server, struct server_driver *d, uint32_t sequence, int status,
                 udk_object_id id, const char *message)
{
        struct udk_dmsg_reply m = { .status = status, .id = id };

        udk_msg_init(&m.h, UDK_DMSG_REPLY, sizeof(m), sequence);
        udk_strlcpy(m.message, message, sizeof(m.message));
        return udkd_driver_send(server, d, &m, sizeof(m), NULL, 0);
}

/* Every property of a nub and of its personality fits a START (udkd's own "fds" is checked as it is
 * added). */
_Static_assert(UDKD_NUB_PROPS_MAX + UDKD_PERSONALITY_PROPS_MAX <= UDK_DPROPS_MAX, "a START's properties");

static void close_all(const int *fds, unsigned n)
{
        for (unsigned f = 0; f < n; f++)
                close(fds[f]);
}

/* START: the nub's properties, the personality's, the granted files. */
static int send_start(struct udkd_server *server, struct server_driver *d, char *why, size_t why_size)
{
        const struct udkd_personality *p = udkd_driver_personality(server, d);
        struct udk_dmsg_start m;
        int fds[UDK_MSG_FDS_MAX];
        char names[UDK_DPROP_VALUE_MAX];
        unsigned n_fds = 0;
        int r;

        if (!p || !d->nub) {
                snprintf(why, why_size, "its %s went before it started", p ? "nub" : "personality");
                return -ENOENT;
        }
        /* The nub's files first (udk_nub_fd(nub, 0): its device node; pci: those "fds" names), then the
         * grants. */
        r = udkd_nub_files_open(d->nub, fds, UDK_MSG_FDS_MAX, names, sizeof(names), why, why_size);
        if (r < 0)
                return r;
        n_fds = (unsigned)r;
        memset(&m, 0, sizeof(m));
        m.nub = d->nub->id;
        /* udkd's own "fds" first, where udk_nub_property() looks first; a nub's of that name is not
         * passed. */
        if (names[0]) {
                udk_strlcpy(m.props[0].key, "fds", sizeof(m.props[0].key));
                udk_strlcpy(m.props[0].value, names, sizeof(m.props[0].value));
                m.n_props = 1;
        }
        for (uint32_t i = 0; i < d->nub->n_props; i++) {
                if (names[0] && strcmp(d->nub->props[i].key, "fds") == 0)
                        continue;
                if (m.n_props == UDK_DPROPS_MAX) {
                        snprintf(why, why_size, "its nub has %u properties: no room for udkd's fds",
                                 (unsigned)d->nub->n_props);
                        close_all(fds, n_fds);
                        return -E2BIG;
                }
                m.props[m.n_props++] = d->nub->props[i];
        }
        m.n_nub_props = m.n_props;
        for (size_t i = 0; i < p->n_properties; i++) {
                if (m.n_props == UDK_DPROPS_MAX) {
                        snprintf(why, why_size, "its nub's and personality's properties are over %u, the limit",
                                 UDK_DPROPS_MAX);
                        close_all(fds, n_fds);
                        return -E2BIG;
                }
                udk_strlcpy(m.props[m.n_props].key, p->properties[i].key, sizeof(m.props[0].key));
                udk_strlcpy(m.props[m.n_props].value, p->properties[i].value, sizeof(m.props[0].value));
                m.n_props++;
        }
        if (n_fds + p->n_grants > UDK_MSG_FDS_MAX) {
                snprintf(why, why_size, "nub %s's %u files and %zu grants: a start carries %u", d->nub->name,
                         n_fds, p->n_grants, UDK_MSG_FDS_MAX);
                close_all(fds, n_fds);
                return -E2BIG;
        }
        for (size_t i = 0; i < p->n_grants; i++) {
                int fd = open(p->grants[i], O_RDONLY | O_CLOEXEC | O_NOCTTY), e;

                if (fd < 0) {
                        e = errno;
                        snprintf(why, why_size, "grant %s: %s", p->grants[i], strerror(e));
                        close_all(fds, n_fds);
                        return -e;
                }
                fds[n_fds++] = fd;
        }
        m.n_fds = n_fds;
        m.restarts = d->restarts;
        udk_strlcpy(m.personality, p->name, sizeof(m.personality));
        udk_strlcpy(m.class_name, p->class_name ? p->class_name : "", sizeof(m.class_name));
        udk_strlcpy(m.family, udkd_family_name(d->nub->family), sizeof(m.family));
        udk_strlcpy(m.nub_name, d->nub->name, sizeof(m.nub_name));
        d->start_sequence = next_sequence(d);
        udk_msg_init(&m.h, UDK_DMSG_START, (uint32_t)udk_dmsg_start_size(m.n_props), d->start_sequence);
        r = udkd_driver_send(server, d, &m, m.h.size, fds, n_fds);
        close_all(fds, n_fds);
        return r == -EPIPE ? 0 : r; /* a host that is gone is the pidfd's to tell */
}

static int on_ready(struct udkd_server *server, struct server_driver *d, const struct udk_dmsg_ready *m, char *why,
                    size_t why_size)
{
        if (d->ready) {
                snprintf(why, why_size, "a second ready");
                return -EPROTO;
        }
        if (m->version != UDK_DRIVER_PROTOCOL_VERSION) {
                snprintf(why, why_size, "driver protocol version %" PRIu32 ", udkd speaks %d", m->version,
                         UDK_DRIVER_PROTOCOL_VERSION);
                return -EPROTO;
        }
        d->ready = true;
        udk_debug("driver '%s' (pid %d): ready (%s, ABI %" PRIu32 ")", d->name, (int)d->pid, m->driver, m->abi);
        if (d->stop_sent)
                return 0; /* stopped before it started: STOP is on its way already */
        return send_start(server, d, why, why_size);
}

static int on_status(struct udkd_server *server, struct server_driver *d, const struct udk_dmsg_status *m,
                     char *why, size_t why_size)
{
        const struct udkd_personality *p = udkd_driver_personality(server, d);
        uint64_t now = udk_time_now();

        if (m->h.type == UDK_DMSG_STOPPED) {
                if (!d->stop_sent || m->h.sequence != d->stop_sequence) {
                        snprintf(why, why_size, "stopped (sequence %" PRIu32 ") without a stop", m->h.sequence);
                        return -EPROTO;
                }
                udk_debug("driver '%s' (pid %d): stopped", d->name, (int)d->pid);
                return 0;
        }
        if (!d->start_sequence || m->h.sequence != d->start_sequence || d->state == DRIVER_RUNNING) {
                snprintf(why, why_size, "started (sequence %" PRIu32 ") without a start", m->h.sequence);
                return -EPROTO;
        }
        if (d->stop_sent)
                return 0;
        if (m->status < 0) {
                char reason[sizeof(d->kill_reason)];

                snprintf(reason, sizeof(reason), "start failed: %s", m->message[0] ? m->message : strerror(-m->status));
                if (d->host) {
                        /* Its shared host ends the instance alone (HOST_DETACHED), within the start time-out. */
                        udk_strlcpy(d->kill_reason, reason, sizeof(d->kill_reason));
                        return 0;
                }
                udkd_driver_kill(server, d, reason);
                return 0;
        }
        d->state = DRIVER_RUNNING;
        d->deadline = 0;
        d->running_since = now;
        d->next_ping = now + (p ? p->heartbeat_ms : UDKD_HEARTBEAT_DEFAULT_MS) * MS;
        udk_info("driver '%s' (pid %d): running on nub %s", d->name, (int)d->pid, d->nub ? d->nub->name : "?");
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, d->id);
        return 0;
}

static int on_publish(struct udkd_server *server, struct server_driver *d, const struct udk_dmsg_nub *m)
{
        char err[UDK_MSG_TEXT_MAX] = "";
        struct server_nub *n = NULL;
        int r;

        if (d->stop_sent)
                return reply(server, d, m->h.sequence, -ESHUTDOWN, 0, "the driver is stopping");
        r = udkd_nub_publish(server, d, m, &n, err, sizeof(err));
        if (r < 0) {
                udk_warn("driver '%s': %s", d->name, err);
                return reply(server, d, m->h.sequence, r, 0, err);
        }
        r = reply(server, d, m->h.sequence, 0, n->id, "");
        /* The reply first: the driver knows its nub's id before a driver binds to it. */
        if (r == 0 && server->drivers[d->index] == d)
                udkd_nub_match(server, n);
        return r;
}

static int on_remove(struct udkd_server *server, struct server_driver *d, const struct udk_dmsg_nub_ref *m)
{
        struct server_nub *n = udkd_nub_find_handle(server, d, m->handle);
        char err[UDK_MSG_TEXT_MAX];

        if (!n) {
                snprintf(err, sizeof(err), "no nub of handle %" PRIu32 " published by this driver", m->handle);
                return reply(server, d, m->h.sequence, -ENOENT, 0, err);
        }
        udk_info("driver '%s': removed nub %s", d->name, n->name);
        udkd_nub_remove(server, n);
        return reply(server, d, m->h.sequence, 0, 0, "");
}

static void on_log(struct server_driver *d, const struct udk_dmsg_log *m)
{
        enum udk_log_level level = m->level <= UDK_LOG_DEBUG ? (enum udk_log_level)m->level : UDK_LOG_DEBUG;

        udk_log(level, "driver '%s': %s", d->name, m->text);
}

/* The host is gone: the log lines it sent before it went are still queued on its socket (an exit can
 * reach udkd before them); print them, so a driver's last words are not lost.  Nothing else is acted on. */
void udkd_driver_drain_logs(struct server_driver *d)
{
        union {
                struct udk_msg_header h;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        char err[200];

        for (unsigned i = 0; d->fd >= 0 && i < DRIVER_BATCH; i++) {
                int fds[UDK_MSG_FDS_MAX];
                unsigned n_fds = 0;
                ssize_t n;

                n = udk_msg_recv(d->fd, &buf, fds, &n_fds, MSG_DONTWAIT);
                for (unsigned f = 0; f < n_fds; f++)
                        close(fds[f]);
                if (n <= 0)
                        return;
                if (udk_dmsg_check(&buf, (size_t)n, n_fds, true, err, sizeof(err)) == 0 && buf.h.type == UDK_DMSG_LOG)
                        on_log(d, (const struct udk_dmsg_log *)&buf);
        }
}

int udkd_driver_dispatch(struct udkd_server *server, struct server_driver *d, const void *buf, size_t len,
                         char *why, size_t why_size)
{
        const struct udk_msg_header *h = buf;
        char err[UDK_MSG_TEXT_MAX] = "";
        udk_object_id id = 0;
        int r;

        (void)len;
        if (!d->ready && h->type != UDK_DMSG_READY && h->type != UDK_DMSG_LOG) {
                snprintf(why, why_size, "%s before ready", udk_dmsg_type_name(h->type));
                return -EPROTO;
        }
        switch (h->type) {
        case UDK_DMSG_READY:
                return on_ready(server, d, buf, why, why_size);
        case UDK_DMSG_STARTED:
        case UDK_DMSG_STOPPED:
                return on_status(server, d, buf, why, why_size);
        case UDK_DMSG_PONG:
                if (h->sequence != d->ping_sequence || !d->pong_deadline) {
                        if (h->sequence == d->ping_sequence)
                                return 0; /* a late one after a stop */
                        snprintf(why, why_size, "pong (sequence %" PRIu32 ") without a ping", h->sequence);
                        return -EPROTO;
                }
                d->pong_deadline = 0;
                return 0;
        case UDK_DMSG_CALL_REPLY:
                return udkd_driver_call_reply(server, d, buf, why, why_size);
        case UDK_DMSG_PUBLISH_NUB:
                return on_publish(server, d, buf);
        case UDK_DMSG_REMOVE_NUB:
                return on_remove(server, d, buf);
        case UDK_DMSG_DEVICE_CREATE:
                r = udkd_driver_device_create(server, d, buf, &id, err, sizeof(err));
                if (r < 0)
                        udk_warn("driver '%s': %s", d->name, err);
                return reply(server, d, h->sequence, r, r < 0 ? 0 : id, r < 0 ? err : "");
        case UDK_DMSG_CONTROL_ADD:
                r = udkd_driver_control_add(server, d, buf, err, sizeof(err));
                return reply(server, d, h->sequence, r, 0, r < 0 ? err : "");
        case UDK_DMSG_CONTROL_SET:
                r = udkd_driver_control_set(server, d, buf, err, sizeof(err));
                return reply(server, d, h->sequence, r, 0, r < 0 ? err : "");
        case UDK_DMSG_LOG:
                on_log(d, buf);
                return 0;
        default:
                snprintf(why, why_size, "a %s message, which a host may not send", udk_dmsg_type_name(h->type));
                return -EPROTO;
        }
}

void udkd_driver_readable(struct udkd_server *server, struct server_driver *d, int res)
{
        union {
                struct udk_msg_header h;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        char err[200], why[sizeof(d->kill_reason) - 32];
        uint32_t generation = d->generation;

        d->fd_armed = false;
        if (res < 0 && res != -ECANCELED) {
                udkd_driver_kill(server, d, strerror(-res));
                return;
        }
        for (unsigned i = 0; i < DRIVER_BATCH; i++) {
                int fds[UDK_MSG_FDS_MAX];
                unsigned n_fds = 0;
                ssize_t n;
                int r;

                if (d->fd < 0 || d->killed || server->drivers[d->index] != d || d->generation != generation)
                        return;
                n = udk_msg_recv(d->fd, &buf, fds, &n_fds, MSG_DONTWAIT);
                for (unsigned f = 0; f < n_fds; f++)
                        close(fds[f]);
                if (n == -EAGAIN)
                        break;
                if (n == 0 || n == -ECONNRESET) {
                        /* It hung up: an exit follows, or udkd kills it soon. */
                        if (!d->deadline || d->deadline > udk_time_now() + HANGUP_GRACE_NS)
                                d->deadline = udk_time_now() + HANGUP_GRACE_NS;
                        if (d->state == DRIVER_RUNNING)
                                d->state = DRIVER_STOPPING;
                        return;
                }
                if (n < 0) {
                        snprintf(why, sizeof(why), "a malformed message: %s",
                                 n == -EMSGSIZE ? "over the size limit" : strerror((int)-n));
                        udkd_driver_kill(server, d, why);
                        return;
                }
                if (udk_dmsg_check(&buf, (size_t)n, n_fds, true, err, sizeof(err)) < 0) {
                        snprintf(why, sizeof(why), "a malformed message: %s", err);
                        udkd_driver_kill(server, d, why);
                        return;
                }
                why[0] = '\0';
                r = udkd_driver_dispatch(server, d, &buf, (size_t)n, why, sizeof(why));
                if (r < 0 && why[0]) {
                        char reason[sizeof(d->kill_reason)];

                        snprintf(reason, sizeof(reason), "protocol breach: %s", why);
                        udkd_driver_kill(server, d, reason);
                        return;
                }
        }
        if (server->drivers[d->index] == d && d->generation == generation && d->fd >= 0 && !d->killed)
                udkd_loop_arm_driver(server, d);
}
