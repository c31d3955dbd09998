/* SPDX-License-Identifier: MIT */
/*
 * The connection: connect and hello, requests and their replies, the
 * background thread that reads the socket, events, disconnect.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>

#include "client-private.h"

int client_set_error(struct udk_client *c, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->error, sizeof(c->error), fmt, ap);
        va_end(ap);
        return r;
}

int client_send(struct udk_client *c, struct udk_msg_header *msg, size_t size,
                struct udk_client_request *req)
{
        int r;

        pthread_mutex_lock(&c->send_lock);
        pthread_mutex_lock(&c->lock);
        if (++c->next_sequence == 0)
                c->next_sequence = 1;
        msg->sequence = c->next_sequence;
        if (req) {
                req->type = msg->type;
                req->sequence = msg->sequence;
                c->pending = req;
        }
        pthread_mutex_unlock(&c->lock);
        r = udk_msg_send(c->fd, msg, size, NULL, 0);
        pthread_mutex_unlock(&c->send_lock);
        return r;
}

bool client_wait(struct udk_client *c, uint64_t deadline_ns)
{
        struct timespec ts = udk_time_to_timespec(deadline_ns);

        return pthread_cond_timedwait(&c->cond, &c->lock, &ts) != ETIMEDOUT || udk_time_now() < deadline_ns;
}

static bool on_background_thread(const struct udk_client *c)
{
        return c->thread_started && pthread_equal(pthread_self(), c->thread);
}

int client_request(struct udk_client *c, struct udk_msg_header *msg, size_t size,
                   struct udk_client_request *req)
{
        const char *what = udk_msg_type_name(msg->type);
        uint64_t deadline;
        int r, timeout_ms;

        if (on_background_thread(c))
                return client_set_error(c, -EDEADLK,
                                        "%s: udk_client calls cannot be made from the event callback", what);

        pthread_mutex_lock(&c->request_lock);
        pthread_mutex_lock(&c->lock);
        if (!c->connected) {
                if (c->lost_status < 0) /* udkd said why */
                        r = client_set_error(c, c->lost_status, "%s", c->lost);
                else
                        r = client_set_error(c, -ENOTCONN, "not connected to udkd: %s", c->lost);
                goto out;
        }
        pthread_mutex_unlock(&c->lock);

        r = client_send(c, msg, size, req);

        pthread_mutex_lock(&c->lock);
        if (r < 0) {
                /* udkd may have said why it closed: its EVENT_CLOSED is
                 * read by the background thread right before the hang-up. */
                deadline = udk_time_now() + CLIENT_FAREWELL_WAIT_NS;
                while (c->connected && client_wait(c, deadline))
                        ;
                c->pending = NULL;
                if (c->lost_status < 0)
                        r = client_set_error(c, c->lost_status, "%s", c->lost);
                else
                        r = client_set_error(c, -ECONNRESET, "cannot send the %s request to udkd: %s", what,
                                             strerror(-r));
                goto out;
        }
        timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : CLIENT_REQUEST_TIMEOUT_MS;
        deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;
        while (!req->done && c->connected)
                if (!client_wait(c, deadline))
                        break;
        c->pending = NULL;

        if (!req->done && !c->connected)
                r = client_set_error(c, c->lost_status < 0 ? c->lost_status : -ECONNRESET, "%s", c->lost);
        else if (!req->done)
                r = client_set_error(c, -ETIMEDOUT, "udkd did not answer the %s request within %d s", what,
                                     timeout_ms / 1000);
        else if (req->status < 0)
                r = client_set_error(c, req->status, "%s",
                                     req->message[0] ? req->message : udk_strerror(req->status));
        else if (req->failure < 0)
                r = client_set_error(c, req->failure, "%s", req->failure_text);
        else if (req->received != req->count)
                r = client_set_error(c, -EBADMSG, "udkd's reply to %s counts %u messages, %u came", what,
                                     req->count, req->received);
        else {
                c->error[0] = '\0';
                r = 0;
        }
out:
        pthread_mutex_unlock(&c->lock);
        pthread_mutex_unlock(&c->request_lock);
        return r;
}

/* The connection is over: say why, wake whoever waits.  Lock held. */
static void connection_lost(struct udk_client *c, const char *fmt, ...) UDK_PRINTF(2, 3);
static void connection_lost(struct udk_client *c, const char *fmt, ...)
{
        va_list ap;

        if (!c->connected)
                return;
        c->connected = false;
        va_start(ap, fmt);
        vsnprintf(c->lost, sizeof(c->lost), fmt, ap);
        va_end(ap);
        /* udkd sees the hang-up and takes our nodes out of its graphs. */
        shutdown(c->fd, SHUT_RDWR);
        /* Without the session udkd dropped our nodes. */
        for (struct udk_client_stream *s = c->streams; s; s = s->next)
                atomic_store(&s->state, UDK_NODE_CLOSED);
        /* Streams stop being woken: say so once, the application may not be asking. */
        if (!c->closing && c->streams)
                udk_warn("%s", c->lost);
        pthread_cond_broadcast(&c->cond);
}

static void close_fds(int *fds, unsigned n_fds)
{
        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
}

/* A message for the request in flight.  Lock held. */
static void dispatch_answer(struct udk_client *c, const struct udk_msg_header *h, size_t len, int *fds,
                            unsigned n_fds)
{
        struct udk_client_request *req = c->pending;

        if (!req || req->sequence != h->sequence || req->done) {
                /* The answer to a request that timed out, or to a PEER_READY. */
                close_fds(fds, n_fds);
                return;
        }
        if (h->type == UDK_MSG_REPLY) {
                const struct udk_msg_reply *m = (const void *)h;

                req->status = m->status > 0 ? -EPROTO : m->status;
                req->count = m->count;
                udk_strlcpy(req->message, m->message, sizeof(req->message));
                req->done = true;
                pthread_cond_broadcast(&c->cond);
                return;
        }
        req->received++;
        if (req->failure < 0) {
                close_fds(fds, n_fds);
                return;
        }
        if (!req->data_fn) {
                close_fds(fds, n_fds);
                req->failure = -EBADMSG;
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd answered the %s request with a %s message", udk_msg_type_name(req->type),
                         udk_msg_type_name(h->type));
                return;
        }
        req->failure = req->data_fn(c, req, h, len, fds, n_fds);
}

static void dispatch_event(struct udk_client *c, const struct udk_msg_header *h)
{
        udk_client_event_fn fn;
        void *data;

        pthread_mutex_lock(&c->lock);
        if (h->type == UDK_MSG_EVENT_NODE_STATE)
                stream_state_changed(c, (const void *)h);
        fn = c->event_fn;
        data = c->event_data;
        c->dispatching = fn != NULL;
        pthread_mutex_unlock(&c->lock);

        if (!fn)
                return;
        fn(data, h);

        pthread_mutex_lock(&c->lock);
        c->dispatching = false;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
}

static void dispatch_peer_added(struct udk_client *c, const struct udk_msg_peer *m, int fd)
{
        struct udk_msg_peer ready = *m;
        char err[CLIENT_ERROR_MAX] = "";
        int r;

        pthread_mutex_lock(&c->lock);
        r = peers_event_added(c, m, fd, err, sizeof(err));
        if (r < 0) {
                connection_lost(c, "cannot map node %u of udkd's graph (%s): connection closed", m->node,
                                err);
                pthread_mutex_unlock(&c->lock);
                return;
        }
        pthread_mutex_unlock(&c->lock);

        /* udkd puts the node in the graph once every session said so. */
        udk_msg_init(&ready.h, UDK_MSG_PEER_READY, sizeof(ready), 0);
        r = client_send(c, &ready.h, sizeof(ready), NULL);
        if (r < 0) {
                pthread_mutex_lock(&c->lock);
                connection_lost(c, "cannot send to udkd: %s", strerror(-r));
                pthread_mutex_unlock(&c->lock);
        }
}

static void dispatch(struct udk_client *c, const struct udk_msg_header *h, size_t len, int *fds,
                     unsigned n_fds)
{
        switch (h->type) {
        case UDK_MSG_EVENT_ADDED:
        case UDK_MSG_EVENT_REMOVED:
        case UDK_MSG_EVENT_CHANGED:
        case UDK_MSG_EVENT_NODE_STATE:
                dispatch_event(c, h);
                break;
        case UDK_MSG_EVENT_PEER_ADDED:
                dispatch_peer_added(c, (const void *)h, fds[0]);
                close(fds[0]);
                break;
        case UDK_MSG_EVENT_PEER_REMOVED:
                pthread_mutex_lock(&c->lock);
                peers_event_removed(c, (const void *)h);
                pthread_mutex_unlock(&c->lock);
                break;
        case UDK_MSG_EVENT_CLOSED: {
                const struct udk_msg_closed *m = (const void *)h;

                pthread_mutex_lock(&c->lock);
                if (c->connected)
                        c->lost_status = m->status < 0 ? m->status : -ECONNABORTED;
                connection_lost(c, "udkd closed the connection: %s", m->reason);
                pthread_mutex_unlock(&c->lock);
                break;
        }
        default:
                pthread_mutex_lock(&c->lock);
                dispatch_answer(c, h, len, fds, n_fds);
                pthread_mutex_unlock(&c->lock);
                break;
        }
}

static void *client_thread(void *arg)
{
        struct udk_client *c = arg;
        bool retiring = false, reset = false;

        for (;;) {
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                char err[CLIENT_ERROR_MAX];
                int fds[UDK_MSG_FDS_MAX];
                unsigned n_fds;
                ssize_t n;
                int r;

                /* Retired peers wait for the RT threads to move on: look
                 * again every few milliseconds until they are gone. */
                r = poll(&pfd, 1, retiring ? 2 : -1);
                if (r < 0 && errno != EINTR) {
                        pthread_mutex_lock(&c->lock);
                        connection_lost(c, "cannot wait for udkd: %s", strerror(errno));
                        pthread_mutex_unlock(&c->lock);
                        break;
                }
                pthread_mutex_lock(&c->lock);
                retiring = peers_collect(c);
                pthread_mutex_unlock(&c->lock);
                if (r <= 0)
                        continue;

                n = udk_msg_recv(c->fd, c->buf, fds, &n_fds, MSG_DONTWAIT);
                if (n == -EAGAIN || n == -EWOULDBLOCK)
                        continue;
                /* udkd closed with our request unread: the reset comes first, its EVENT_CLOSED may
                 * still be queued behind it.  Read on once. */
                if (n == -ECONNRESET && !reset) {
                        reset = true;
                        continue;
                }
                if (n <= 0) {
                        pthread_mutex_lock(&c->lock);
                        if (n == 0)
                                connection_lost(c, "udkd closed the connection");
                        else if (n == -EMSGSIZE)
                                connection_lost(c,
                                                "udkd sent a message larger than %u bytes or with too many "
                                                "descriptors: connection closed",
                                                UDK_MSG_SIZE_MAX);
                        else
                                connection_lost(c, "cannot read from udkd: %s", strerror((int)-n));
                        pthread_mutex_unlock(&c->lock);
                        break;
                }
                r = udk_msg_check(c->buf, (size_t)n, n_fds, false, err, sizeof(err));
                if (r < 0) {
                        close_fds(fds, n_fds);
                        pthread_mutex_lock(&c->lock);
                        connection_lost(c, "udkd sent a bad message (%s): connection closed", err);
                        pthread_mutex_unlock(&c->lock);
                        break;
                }
                dispatch(c, (const struct udk_msg_header *)c->buf, (size_t)n, fds, n_fds);

                pthread_mutex_lock(&c->lock);
                r = c->connected;
                pthread_mutex_unlock(&c->lock);
                if (!r)
                        break;
        }
        return NULL;
}

static int welcome_data(struct udk_client *c, struct udk_client_request *req,
                        const struct udk_msg_header *msg, size_t len, int *fds, unsigned n_fds)
{
        const struct udk_msg_welcome *m = (const void *)msg;

        close_fds(fds, n_fds);
        if (msg->type != UDK_MSG_WELCOME) {
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd answered hello with a %s message", udk_msg_type_name(msg->type));
                return -EBADMSG;
        }
        if (m->version != UDK_PROTOCOL_VERSION) {
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd speaks protocol version %u, this library %u", m->version,
                         UDK_PROTOCOL_VERSION);
                return -EPROTO;
        }
        c->session = m->session;
        udk_strlcpy(c->server, m->server, sizeof(c->server));
        return 0;
}

static int hello(struct udk_client *c, const char *name)
{
        struct udk_client_request req = { .data_fn = welcome_data };
        struct udk_msg_hello m = { .version = UDK_PROTOCOL_VERSION };
        int r;

        udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m), 0);
        udk_strlcpy(m.name, name, sizeof(m.name));
        r = client_request(c, &m.h, sizeof(m), &req);
        if (r < 0)
                return r;
        if (c->session == 0)
                return client_set_error(c, -EPROTO, "udkd did not send its welcome");
        return 0;
}

static struct udk_client *client_free(struct udk_client *c)
{
        if (c->fd >= 0)
                close(c->fd);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->send_lock);
        pthread_mutex_destroy(&c->request_lock);
        free(c->buf);
        free(c);
        return NULL;
}

static int client_new(struct udk_client **ret)
{
        struct udk_client *c = calloc(1, sizeof(*c));
        pthread_condattr_t attr;

        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->buf = aligned_alloc(UDK_CACHELINE, UDK_MSG_SIZE_MAX);
        if (!c->buf) {
                free(c);
                return -ENOMEM;
        }
        pthread_mutex_init(&c->request_lock, NULL);
        pthread_mutex_init(&c->send_lock, NULL);
        pthread_mutex_init(&c->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cond, &attr);
        pthread_condattr_destroy(&attr);
        *ret = c;
        return 0;
}

/* A failed connect leaves no client to hold its sentence: the thread keeps
 * it, for udk_client_error(NULL). */
static __thread char connect_error[CLIENT_ERROR_MAX];

static int connect_fail(struct udk_client *c, int r, const char *fmt, ...) UDK_PRINTF(3, 4);
static int connect_fail(struct udk_client *c, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(connect_error, sizeof(connect_error), fmt, ap);
        va_end(ap);
        if (c)
                udk_client_disconnect(c);
        return r;
}

static int client_start_thread(struct udk_client *c)
{
        sigset_t all, old;
        int r;

        /* Signals belong to the application's threads, not to ours. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&c->thread, NULL, client_thread, c);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        pthread_setname_np(c->thread, "udk-client");
        c->thread_started = true;
        return 0;
}

int udk_client_connect(const char *name, const char *socket_path, struct udk_client **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct udk_client *c;
        int r;

        connect_error[0] = '\0';
        if (!ret)
                return connect_fail(NULL, -EINVAL, "udk_client_connect: no place for the client");
        r = client_new(&c);
        if (r < 0)
                return connect_fail(NULL, r, "cannot connect to udkd: %s", strerror(-r));

        if (socket_path)
                r = udk_strlcpy(c->socket_path, socket_path, sizeof(c->socket_path));
        else
                r = udk_socket_default_path(c->socket_path, sizeof(c->socket_path));
        if (r < 0 || !c->socket_path[0])
                return connect_fail(c, -ENAMETOOLONG,
                                    "udkd's socket path '%s' is empty or longer than %zu bytes",
                                    socket_path ? socket_path : c->socket_path, sizeof(c->socket_path) - 1);
        memcpy(sa.sun_path, c->socket_path, sizeof(c->socket_path));

        c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                r = -errno;
                return connect_fail(c, r, "cannot make a socket: %s", strerror(-r));
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ECONNREFUSED)
                        return connect_fail(c, r, "udkd is not running (no socket at %s)", c->socket_path);
                return connect_fail(c, r, "cannot connect to udkd at %s: %s", c->socket_path, strerror(-r));
        }
        c->connected = true;
        r = client_start_thread(c);
        if (r < 0)
                return connect_fail(c, r, "cannot start the client's thread: %s", strerror(-r));
        if (!name || !*name)
                name = program_invocation_short_name;
        r = hello(c, name);
        if (r < 0)
                return connect_fail(c, r, "udkd at %s: %s", c->socket_path, c->error);
        *ret = c;
        return 0;
}

struct udk_client *udk_client_disconnect(struct udk_client *c)
{
        if (!c)
                return NULL;
        while (c->streams)
                udk_client_close(c->streams);

        pthread_mutex_lock(&c->lock);
        c->closing = true;
        connection_lost(c, "disconnected");
        pthread_mutex_unlock(&c->lock);
        if (c->thread_started)
                pthread_join(c->thread, NULL);
        c->thread_started = false;

        pthread_mutex_lock(&c->lock);
        peers_free_all(c);
        pthread_mutex_unlock(&c->lock);
        return client_free(c);
}

const char *udk_client_error(const struct udk_client *c)
{
        return c ? c->error : connect_error;
}

udk_object_id udk_client_session_id(const struct udk_client *c)
{
        return c ? c->session : 0;
}

const char *udk_client_server_name(const struct udk_client *c)
{
        return c ? c->server : "";
}

int udk_client_ping(struct udk_client *c)
{
        struct udk_client_request req = {};
        struct udk_msg_header m;

        if (!c)
                return -EINVAL;
        udk_msg_init(&m, UDK_MSG_PING, sizeof(m), 0);
        return client_request(c, &m, sizeof(m), &req);
}

int udk_client_subscribe(struct udk_client *c, uint32_t mask, udk_client_event_fn fn, void *data)
{
        struct udk_client_request req = {};
        struct udk_msg_subscribe m = { .mask = fn ? mask : 0 };
        int r;

        if (!c)
                return -EINVAL;
        if (mask & ~UDK_SUBSCRIBE_ALL)
                return client_set_error(c, -EINVAL, "unknown subscription bits 0x%x",
                                        mask & ~UDK_SUBSCRIBE_ALL);
        if (on_background_thread(c))
                return client_set_error(c, -EDEADLK,
                                        "subscribe: udk_client calls cannot be made from the "
                                        "event callback");

        /* Subscribe: take events from now on, even those racing the reply. */
        if (fn) {
                pthread_mutex_lock(&c->lock);
                c->event_fn = fn;
                c->event_data = data;
                pthread_mutex_unlock(&c->lock);
        }
        udk_msg_init(&m.h, UDK_MSG_SUBSCRIBE, sizeof(m), 0);
        r = client_request(c, &m.h, sizeof(m), &req);

        /* Unsubscribe (or a refused subscription): no call after we return. */
        if (!fn || r < 0) {
                pthread_mutex_lock(&c->lock);
                c->event_fn = NULL;
                c->event_data = NULL;
                while (c->dispatching)
                        pthread_cond_wait(&c->cond, &c->lock);
                pthread_mutex_unlock(&c->lock);
        }
        return r;
}

int udk_client_set_control(struct udk_client *c, udk_object_id id, const char *control, const char *value)
{
        struct udk_client_request req = {};
        struct udk_msg_set_control m = { .id = id };

        if (!c)
                return -EINVAL;
        if (!control || !value)
                return client_set_error(c, -EINVAL, "set_control needs a control name and a value");
        if (udk_strlcpy(m.control, control, sizeof(m.control)) < 0)
                return client_set_error(c, -ENAMETOOLONG, "control name '%s' is longer than %d characters",
                                        control, UDK_OBJECT_NAME_MAX - 1);
        if (udk_strlcpy(m.value, value, sizeof(m.value)) < 0)
                return client_set_error(c, -EINVAL, "value '%.32s...' is longer than %d characters", value,
                                        UDK_OBJECT_NAME_MAX - 1);
        udk_msg_init(&m.h, UDK_MSG_SET_CONTROL, sizeof(m), 0);
        return client_request(c, &m.h, sizeof(m), &req);
}

struct stats_out {
        struct udk_msg_stats_device *device;
        struct udk_msg_stats_node *nodes;
        size_t max_nodes, n_nodes;
        bool have_device;
};

static int stats_data(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                      size_t len, int *fds, unsigned n_fds)
{
        struct stats_out *out = req->data;

        close_fds(fds, n_fds);
        if (msg->type == UDK_MSG_STATS_DEVICE && !out->have_device) {
                memcpy(out->device, msg, sizeof(*out->device));
                out->have_device = true;
                return 0;
        }
        if (msg->type == UDK_MSG_STATS_NODE && out->have_device) {
                if (out->n_nodes < out->max_nodes)
                        memcpy(&out->nodes[out->n_nodes++], msg, sizeof(*out->nodes));
                return 0;
        }
        snprintf(req->failure_text, sizeof(req->failure_text),
                 "udkd answered stats with a %s message out of order", udk_msg_type_name(msg->type));
        return -EBADMSG;
}

int udk_client_stats(struct udk_client *c, udk_object_id device, struct udk_msg_stats_device *ret_device,
                     struct udk_msg_stats_node *ret_nodes, size_t max_nodes, size_t *ret_n_nodes)
{
        struct udk_msg_stats_device dev;
        struct stats_out out = { .device = &dev,
                                 .nodes = ret_nodes,
                                 .max_nodes = ret_nodes ? max_nodes : 0 };
        struct udk_client_request req = { .data_fn = stats_data, .data = &out };
        struct udk_msg_object_ref m = { .id = device };
        int r;

        if (!c)
                return -EINVAL;
        udk_msg_init(&m.h, UDK_MSG_STATS, sizeof(m), 0);
        r = client_request(c, &m.h, sizeof(m), &req);
        if (r < 0)
                return r;
        if (!out.have_device)
                return client_set_error(c, -EBADMSG, "udkd's stats reply carries no device statistics");
        if (ret_device)
                *ret_device = dev;
        if (ret_n_nodes)
                *ret_n_nodes = out.n_nodes;
        return 0;
}
