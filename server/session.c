/* SPDX-License-Identifier: MIT */
/*
 * Sessions: one per connected client.  Every message is checked
 * (udk_msg_check) before it is read; a malformed, oversized or
 * out-of-order one closes that session with the reason in the log and
 * touches nothing else.  A session that sends faster than its token bucket
 * allows is not read until the tick refills it: throttled, not served at
 * the others' expense.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "match.h"
#include "server-private.h"
#include "udk-build-config.h"

/* Messages read from one session per readiness, so one cannot hog a turn. */
#define SESSION_BATCH 32u

struct server_session *udkd_session_find(struct udkd_server *server, udk_object_id id)
{
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++)
                if (server->sessions[i] && server->sessions[i]->id == id)
                        return server->sessions[i];
        return NULL;
}

static void session_free(struct server_session *s)
{
        free(s->peers_sent);
        free(s->peers_mapped);
        free(s);
}

/* The server's last word on @fd (EVENT_CLOSED), so that the client can
 * tell its user why.  Best effort: a full socket just gets the hang-up. */
static void session_farewell(int fd, int status, const char *reason)
{
        struct udk_msg_closed m = { .status = status };

        udk_msg_init(&m.h, UDK_MSG_EVENT_CLOSED, sizeof(m), 0);
        udk_strlcpy(m.reason, reason, sizeof(m.reason));
        udk_msg_send(fd, &m, sizeof(m), NULL, 0);
}

int udkd_session_accept(struct udkd_server *server, int fd)
{
        struct server_session *s;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int sndbuf = UDKD_SNDBUF_BYTES;
        uint32_t i;

        for (i = 0; i < UDKD_SESSIONS_MAX && server->sessions[i]; i++)
                ;
        if (i == UDKD_SESSIONS_MAX) {
                char reason[UDK_MSG_TEXT_MAX];

                snprintf(reason, sizeof(reason), "udkd serves %u clients already, the limit: try again when one leaves",
                         UDKD_SESSIONS_MAX);
                udk_warn("refusing a client: %u sessions already, the limit", UDKD_SESSIONS_MAX);
                session_farewell(fd, -EUSERS, reason);
                close(fd);
                return -EUSERS;
        }
        s = calloc(1, sizeof(*s));
        if (s) {
                /* Room for the drivers' devices to come: the arrays never move. */
                s->peers_sent = calloc(server->devices_cap ? server->devices_cap : 1, sizeof(uint64_t));
                s->peers_mapped = calloc(server->devices_cap ? server->devices_cap : 1, sizeof(uint64_t));
        }
        if (!s || !s->peers_sent || !s->peers_mapped) {
                udk_error("refusing a client: out of memory");
                if (s)
                        session_free(s);
                close(fd);
                return -ENOMEM;
        }
        /* The uid decides what a session may touch (0 is root's): without it, no session. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                char reason[UDK_MSG_TEXT_MAX];

                snprintf(reason, sizeof(reason), "udkd cannot tell who the client is (SO_PEERCRED: %s)",
                         strerror(errno));
                udk_warn("refusing a client: %s", reason);
                session_farewell(fd, -EPERM, reason);
                session_free(s);
                close(fd);
                return -EPERM;
        }
        s->pid = cred.pid;
        s->uid = cred.uid;
        s->gid = cred.gid;
        /* Replies to a big LIST must not find a full socket. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        s->fd = fd;
        s->id = udk_object_id_next();
        s->index = i;
        s->generation = ++server->generation;
        s->tokens = UDKD_SESSION_BURST;
        s->tokens_time = udk_time_now();
        snprintf(s->name, sizeof(s->name), "pid-%d", (int)s->pid);
        server->sessions[i] = s;
        server->n_sessions++;
        udk_debug("session %" PRIu32 ": connected (pid %d, uid %d, gid %d)", s->id, (int)s->pid, (int)s->uid,
                  (int)s->gid);
        return udkd_loop_arm_session(server, s);
}

void udkd_session_close(struct udkd_server *server, struct server_session *s, const char *reason)
{
        if (s->closing)
                return;
        s->closing = true;
        if (reason) {
                udk_warn("session %" PRIu32 " (%s, pid %d) closed: %s", s->id, s->name, (int)s->pid, reason);
                session_farewell(s->fd, -ECONNABORTED, reason);
        } else {
                udk_info("session %" PRIu32 " (%s, pid %d) disconnected", s->id, s->name, (int)s->pid);
        }
        while (s->n_nodes > 0)
                udkd_node_close(server, s->nodes[s->n_nodes - 1], 0);
        udkd_loop_cancel_session(server, s);
        shutdown(s->fd, SHUT_RDWR);
        close(s->fd);
        s->fd = -1;
        server->sessions[s->index] = NULL;
        server->n_sessions--;
        if (s->hello)
                udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, s->id);
        /* Freed at the tick: callers up the stack may still hold it. */
        s->next_dead = server->dead_sessions;
        server->dead_sessions = s;
}

int udkd_session_send(struct udkd_server *server, struct server_session *s, const void *msg, size_t len,
                      const int *fds, unsigned n_fds)
{
        int r;

        if (s->closing)
                return -EPIPE;
        r = udk_msg_send(s->fd, msg, len, fds, n_fds);
        if (r == -EAGAIN) {
                udkd_session_close(server, s, "does not read its socket (send buffer full)");
                return -EPIPE;
        }
        if (r < 0) {
                udkd_session_close(server, s, r == -EPIPE || r == -ECONNRESET ? NULL : strerror(-r));
                return -EPIPE;
        }
        return 0;
}

int udkd_session_reply(struct udkd_server *server, struct server_session *s, uint32_t sequence, int status,
                       uint32_t count, const char *fmt, ...)
{
        struct udk_msg_reply m = { .status = status, .count = count };
        va_list ap;

        udk_msg_init(&m.h, UDK_MSG_REPLY, sizeof(m), sequence);
        va_start(ap, fmt);
        vsnprintf(m.message, sizeof(m.message), fmt, ap);
        va_end(ap);
        return udkd_session_send(server, s, &m, sizeof(m), NULL, 0);
}

static int handle_hello(struct udkd_server *server, struct server_session *s, const struct udk_msg_hello *m)
{
        struct udk_msg_welcome w = { .version = UDK_PROTOCOL_VERSION, .max_message = UDK_MSG_SIZE_MAX };
        int r;

        if (m->version != UDK_PROTOCOL_VERSION) {
                udkd_session_reply(server, s, m->h.sequence, -EPROTO, 0,
                                   "protocol version %" PRIu32 ": udkd %s speaks version %u", m->version,
                                   UDK_VERSION, UDK_PROTOCOL_VERSION);
                return -EPROTO;
        }
        if (m->name[0])
                udk_strlcpy(s->name, m->name, sizeof(s->name));
        s->hello = true;
        w.session = s->id;
        snprintf(w.server, sizeof(w.server), "udkd %s", UDK_VERSION);
        udk_msg_init(&w.h, UDK_MSG_WELCOME, sizeof(w), m->h.sequence);
        r = udkd_session_send(server, s, &w, sizeof(w), NULL, 0);
        if (r == 0)
                r = udkd_session_reply(server, s, m->h.sequence, 0, 1, "%s", "");
        if (r == 0) {
                udk_info("session %" PRIu32 ": client %s (pid %d, uid %d)", s->id, s->name, (int)s->pid,
                         (int)s->uid);
                udkd_registry_event(server, UDK_MSG_EVENT_ADDED, s->id);
        }
        return r;
}

struct list_ctx {
        struct udkd_server *server;
        struct server_session *s;
        uint32_t sequence;
        uint32_t count;
};

static int list_one(void *data, udk_object_id id)
{
        struct list_ctx *l = data;
        union {
                struct udk_msg_object object;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        int r = udkd_registry_object(l->server, id, &buf.object);

        if (r < 0)
                return r;
        buf.object.h.sequence = l->sequence;
        r = udkd_session_send(l->server, l->s, &buf, buf.object.h.size, NULL, 0);
        if (r < 0)
                return r;
        l->count++;
        return 0;
}

static int handle_list(struct udkd_server *server, struct server_session *s, const struct udk_msg_object_ref *m,
                       bool one)
{
        struct list_ctx l = { server, s, m->h.sequence, 0 };
        int r;

        if (one) {
                r = m->id ? list_one(&l, m->id) : -ENOENT;
        } else {
                r = udkd_registry_walk(server, m->id, list_one, &l);
        }
        if (r == -EPIPE)
                return r;
        if (r < 0)
                return udkd_session_reply(server, s, m->h.sequence, r, l.count, "no object %" PRIu32, m->id);
        return udkd_session_reply(server, s, m->h.sequence, 0, l.count, "%s", "");
}

static int handle_call(struct udkd_server *server, struct server_session *s, const struct udk_msg_call *m)
{
        struct server_driver *d = udkd_driver_find(server, m->driver);
        char err[UDK_MSG_TEXT_MAX] = "";
        int r;

        if (!d)
                return udkd_session_reply(server, s, m->h.sequence, -ENOENT, 0, "no driver %" PRIu32, m->driver);
        r = udkd_driver_call(server, d, s, m, err, sizeof(err));
        if (r < 0)
                return udkd_session_reply(server, s, m->h.sequence, r, 0, "%s", err);
        return 0; /* answered with the driver's CALL_REPLY, its time-out or its end */
}

static int handle_driver_control(struct udkd_server *server, struct server_session *s,
                                 const struct udk_msg_driver_control *m)
{
        struct server_driver *d = udkd_driver_find(server, m->driver);
        char err[UDK_MSG_TEXT_MAX] = "";
        int r;

        if (!d)
                return udkd_session_reply(server, s, m->h.sequence, -ENOENT, 0, "no driver %" PRIu32, m->driver);
        if (s->uid != 0 && s->uid != getuid())
                return udkd_session_reply(server, s, m->h.sequence, -EPERM, 0,
                                          "only root or udkd's own user may control drivers");
        r = udkd_driver_control(server, d, m->action, err, sizeof(err));
        return udkd_session_reply(server, s, m->h.sequence, r, 0, "%s", r < 0 ? err : "");
}

/* MATCH: every candidate personality of the nub's family, the winner first. */
static int handle_match(struct udkd_server *server, struct server_session *s, const struct udk_msg_object_ref *m)
{
        struct server_nub *n = udkd_nub_find(server, m->id);
        struct udkd_nub_property props[UDKD_NUB_PROPS_MAX];
        struct udkd_match_explanation e;
        struct udkd_nub view;
        uint32_t count = 0;
        int r;

        if (!n)
                return udkd_session_reply(server, s, m->h.sequence, -ENOENT, 0, "no nub %" PRIu32, m->id);
        udkd_nub_view(n, props, &view);
        r = udkd_match_explain(&server->personalities, &view, &e);
        if (r < 0)
                return udkd_session_reply(server, s, m->h.sequence, r, 0, "cannot match nub %s: %s", n->name,
                                          strerror(-r));
        for (size_t i = 0; i < e.n_candidates && r == 0; i++) {
                const struct udkd_match_candidate *c = &e.candidates[i];
                struct udk_msg_match_candidate mc = {
                        .personality = udkd_registry_personality_id(server, c->index),
                        .verdict = c->verdict == UDKD_MATCH_WON    ? UDK_MATCH_VERDICT_WON
                                   : c->verdict == UDKD_MATCH_LOST ? UDK_MATCH_VERDICT_LOST
                                                                   : UDK_MATCH_VERDICT_FAILED,
                        .tier = c->tier,
                        .probe_score = c->probe_score,
                        .n_rules = (uint32_t)c->n_rules,
                };

                udk_msg_init(&mc.h, UDK_MSG_MATCH_CANDIDATE, sizeof(mc), m->h.sequence);
                udk_strlcpy(mc.name, server->personalities.items[c->index].name, sizeof(mc.name));
                udk_strlcpy(mc.why, c->why, sizeof(mc.why));
                r = udkd_session_send(server, s, &mc, sizeof(mc), NULL, 0);
                count++;
        }
        udkd_match_explanation_finish(&e);
        if (r < 0)
                return r;
        return udkd_session_reply(server, s, m->h.sequence, 0, count, "%s", "");
}

/* PERSONALITIES: a TEXT per file that did not load. */
static int handle_personalities(struct udkd_server *server, struct server_session *s, const struct udk_msg_header *h)
{
        uint32_t count = 0;

        for (size_t i = 0; i < server->personalities.n_errors; i++) {
                struct udk_msg_text t;
                int r;

                memset(&t, 0, sizeof(t));
                udk_msg_init(&t.h, UDK_MSG_TEXT, sizeof(t), h->sequence);
                udk_strlcpy(t.text, server->personalities.errors[i], sizeof(t.text));
                r = udkd_session_send(server, s, &t, sizeof(t), NULL, 0);
                if (r < 0)
                        return r;
                count++;
        }
        return udkd_session_reply(server, s, h->sequence, 0, count, "%s", "");
}

static struct server_node *own_node(struct server_session *s, udk_object_id id)
{
        for (uint32_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i]->id == id)
                        return s->nodes[i];
        return NULL;
}

/* Serve one checked request; < 0 closes the session (the reason in @why). */
static int dispatch(struct udkd_server *server, struct server_session *s, const void *buf, const char **why)
{
        const struct udk_msg_header *h = buf;
        char err[UDK_MSG_TEXT_MAX] = "";
        int r;

        switch (h->type) {
        case UDK_MSG_HELLO:
                *why = "a second hello";
                return -EPROTO;
        case UDK_MSG_LIST:
        case UDK_MSG_INFO:
                return handle_list(server, s, buf, h->type == UDK_MSG_INFO);
        case UDK_MSG_SET_CONTROL: {
                const struct udk_msg_set_control *m = buf;
                r = udkd_registry_set_control(server, s, m->id, m->control, m->value, err, sizeof(err));
                return udkd_session_reply(server, s, h->sequence, r, 0, "%s", r < 0 ? err : "");
        }
        case UDK_MSG_SUBSCRIBE: {
                const struct udk_msg_subscribe *m = buf;
                if (m->mask & ~UDK_SUBSCRIBE_ALL)
                        return udkd_session_reply(server, s, h->sequence, -EINVAL, 0,
                                                  "unknown subscription bits 0x%" PRIx32, m->mask & ~UDK_SUBSCRIBE_ALL);
                s->subscriptions = m->mask;
                return udkd_session_reply(server, s, h->sequence, 0, 0, "%s", "");
        }
        case UDK_MSG_STATS: {
                const struct udk_msg_object_ref *m = buf;
                struct server_device *d = udkd_registry_device(server, m->id);
                if (!d)
                        return udkd_session_reply(server, s, h->sequence, -ENOENT, 0, "no device %" PRIu32,
                                                  m->id);
                return udkd_node_stats(server, s, h->sequence, d);
        }
        case UDK_MSG_OPEN:
                r = udkd_node_open(server, s, buf, err, sizeof(err));
                if (r < 0 && !s->closing && err[0])
                        return udkd_session_reply(server, s, h->sequence, r, 0, "%s", err);
                return r == -EPIPE ? r : 0;
        case UDK_MSG_CLOSE: {
                const struct udk_msg_object_ref *m = buf;
                struct server_node *n = own_node(s, m->id);
                if (!n)
                        return udkd_session_reply(server, s, h->sequence, -ENOENT, 0,
                                                  "no stream %" PRIu32 " in this session", m->id);
                return udkd_node_close(server, n, h->sequence);
        }
        case UDK_MSG_MOVE: {
                const struct udk_msg_move *m = buf;
                struct server_node *n = own_node(s, m->node);
                if (!n)
                        return udkd_session_reply(server, s, h->sequence, -ENOENT, 0,
                                                  "no stream %" PRIu32 " in this session", m->node);
                r = udkd_node_move(server, n, m->position);
                return udkd_session_reply(server, s, h->sequence, r, 0, "%s",
                                          r == -EBUSY ? "the stream is not running" : r < 0 ? strerror(-r) : "");
        }
        case UDK_MSG_PEER_READY: {
                const struct udk_msg_peer *m = buf;
                if (m->slot >= UDK_PEER_SLOTS_MAX) {
                        *why = "peer-ready for a slot beyond the graph's 64";
                        return -EPROTO;
                }
                r = udkd_node_peer_ready(server, s, m);
                if (r == -EINVAL) {
                        *why = "peer-ready for a peer it was never sent";
                        return -EPROTO;
                }
                return udkd_session_reply(server, s, h->sequence, r, 0, "%s", r < 0 ? "that node has left" : "");
        }
        case UDK_MSG_PING:
                return udkd_session_reply(server, s, h->sequence, 0, 0, "%s", "");
        case UDK_MSG_CALL:
                return handle_call(server, s, buf);
        case UDK_MSG_DRIVER_CONTROL:
                return handle_driver_control(server, s, buf);
        case UDK_MSG_MATCH:
                return handle_match(server, s, buf);
        case UDK_MSG_PERSONALITIES:
                return handle_personalities(server, s, buf);
        default:
                *why = "a message it may not send";
                return -EPROTO;
        }
}

static void refill(struct server_session *s, uint64_t now)
{
        s->tokens += (double)(now - s->tokens_time) * UDKD_SESSION_RATE / 1e9;
        if (s->tokens > UDKD_SESSION_BURST)
                s->tokens = UDKD_SESSION_BURST;
        s->tokens_time = now;
}

bool udkd_session_serve(struct udkd_server *server, struct server_session *s)
{
        union {
                struct udk_msg_header h;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        char err[256], reason[320];

        refill(s, udk_time_now());
        for (unsigned i = 0; i < SESSION_BATCH && !s->closing; i++) {
                int fds[UDK_MSG_FDS_MAX];
                const char *why = NULL;
                unsigned n_fds;
                ssize_t n;
                int r;

                if (s->tokens < 1.0) {
                        if (s->throttle_count++ == 0)
                                udk_warn("session %" PRIu32 " (%s, pid %d): more than %u requests a second, throttled",
                                         s->id, s->name, (int)s->pid, UDKD_SESSION_RATE);
                        s->throttled = true;
                        return true; /* the tick re-arms it */
                }
                n = udk_msg_recv(s->fd, &buf, fds, &n_fds, MSG_DONTWAIT);
                if (n == -EAGAIN)
                        break;
                if (n == 0 || n == -ECONNRESET) {
                        udkd_session_close(server, s, NULL);
                        return false;
                }
                if (n == -EMSGSIZE) {
                        snprintf(reason, sizeof(reason),
                                 "a message over the size limit (%u bytes, %u descriptors)", UDK_MSG_SIZE_MAX,
                                 UDK_MSG_FDS_MAX);
                        udkd_session_close(server, s, reason);
                        return false;
                }
                if (n < 0) {
                        udkd_session_close(server, s, strerror((int)-n));
                        return false;
                }
                for (unsigned f = 0; f < n_fds; f++)
                        close(fds[f]);
                s->tokens -= 1.0;
                if (udk_msg_check(&buf, (size_t)n, n_fds, true, err, sizeof(err)) < 0) {
                        udkd_session_close(server, s, err);
                        return false;
                }
                if (buf.h.sequence <= s->last_sequence) {
                        snprintf(reason, sizeof(reason), "%s message out of order: sequence %" PRIu32 " after %" PRIu32,
                                 udk_msg_type_name(buf.h.type), buf.h.sequence, s->last_sequence);
                        udkd_session_close(server, s, reason);
                        return false;
                }
                s->last_sequence = buf.h.sequence;
                if (!s->hello) {
                        if (buf.h.type != UDK_MSG_HELLO) {
                                snprintf(reason, sizeof(reason), "%s message before hello",
                                         udk_msg_type_name(buf.h.type));
                                udkd_session_close(server, s, reason);
                                return false;
                        }
                        r = handle_hello(server, s, (const struct udk_msg_hello *)&buf);
                        if (r == -EPROTO)
                                udkd_session_close(server, s, "protocol version mismatch");
                        continue;
                }
                r = dispatch(server, s, &buf, &why);
                if (r < 0 && why) {
                        snprintf(reason, sizeof(reason), "%s (%s message)", why, udk_msg_type_name(buf.h.type));
                        udkd_session_close(server, s, reason);
                }
        }
        if (s->closing)
                return false;
        return udkd_loop_arm_session(server, s) == 0;
}

void udkd_sessions_tick(struct udkd_server *server, uint64_t now)
{
        while (server->dead_sessions) {
                struct server_session *s = server->dead_sessions;
                server->dead_sessions = s->next_dead;
                session_free(s);
        }
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *s = server->sessions[i];
                if (!s || !s->throttled)
                        continue;
                refill(s, now);
                if (s->tokens >= 1.0) {
                        s->throttled = false;
                        udkd_loop_arm_session(server, s);
                }
        }
}
