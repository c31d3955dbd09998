/* SPDX-License-Identifier: MIT */
/*
 * A driver instance on its socket to udkd: the lifecycle (READY, START,
 * STOP), heartbeats, control changes and method calls, and the
 * synchronous requests the driver makes.  Everything here runs on the
 * driver's dispatch queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <udk/driver-host.h>
#include <udk/log.h>
#include <udk/util.h>

#include "dispatch-private.h"
#include "driver-private.h"

union driver_msg_buf {
        struct udk_msg_header h;
        struct udk_dmsg_start start;
        struct udk_dmsg_call call;
        struct udk_dmsg_control control;
        struct udk_dmsg_reply reply;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

/* --- the descriptor --- */

static bool method_sizes_ok(const struct udk_driver_method *m)
{
        return (m->n_scalar_in == UDK_DRIVER_SIZE_ANY || m->n_scalar_in <= UDK_DRIVER_METHOD_SCALARS_MAX) &&
               (m->struct_in_size == UDK_DRIVER_SIZE_ANY || m->struct_in_size <= UDK_DRIVER_METHOD_STRUCT_MAX) &&
               m->n_scalar_out <= UDK_DRIVER_METHOD_SCALARS_MAX && m->struct_out_max <= UDK_DRIVER_METHOD_STRUCT_MAX;
}

UDK_EXPORT int udk_driver_descriptor_check(const struct udk_driver_descriptor *desc, char *err, size_t err_size)
{
        const char *name;

        if (!desc) {
                snprintf(err, err_size, "the descriptor pointer is NULL");
                return -EINVAL;
        }
        if (desc->abi_version != UDK_DRIVER_ABI_VERSION) {
                snprintf(err, err_size, "driver ABI version %u, this host runs version %u", desc->abi_version,
                         UDK_DRIVER_ABI_VERSION);
                return -EPROTO;
        }
        if (desc->reserved != 0) {
                snprintf(err, err_size, "the descriptor's reserved field is %u, it must be 0", desc->reserved);
                return -EINVAL;
        }
        if (!desc->name || !desc->name[0] || strlen(desc->name) >= UDK_OBJECT_NAME_MAX) {
                snprintf(err, err_size, "the descriptor's name is missing, empty or longer than %u bytes",
                         UDK_OBJECT_NAME_MAX - 1);
                return -EINVAL;
        }
        name = desc->name;
        if (!desc->start) {
                snprintf(err, err_size, "driver '%s': the descriptor has no start()", name);
                return -EINVAL;
        }
        if (desc->n_methods > 0 && !desc->methods) {
                snprintf(err, err_size, "driver '%s': %zu methods but no table", name, desc->n_methods);
                return -EINVAL;
        }
        for (size_t i = 0; i < desc->n_methods; i++) {
                const struct udk_driver_method *m = &desc->methods[i];

                if (!m->fn || !method_sizes_ok(m)) {
                        snprintf(err, err_size, "driver '%s': method %zu (selector %llu) has no function or sizes "
                                 "beyond %u scalars and %u bytes", name, i, (unsigned long long)m->selector,
                                 UDK_DRIVER_METHOD_SCALARS_MAX, UDK_DRIVER_METHOD_STRUCT_MAX);
                        return -EINVAL;
                }
                for (size_t j = 0; j < i; j++)
                        if (desc->methods[j].selector == m->selector) {
                                snprintf(err, err_size, "driver '%s': selector %llu appears twice in the method "
                                         "table", name, (unsigned long long)m->selector);
                                return -EINVAL;
                        }
        }
        return 0;
}

/* --- the instance --- */

UDK_EXPORT struct udk_dispatch_queue *udk_driver_queue(struct udk_driver *drv)
{
        return drv ? drv->q : NULL;
}

UDK_EXPORT const char *udk_driver_personality(const struct udk_driver *drv)
{
        return drv ? drv->personality : NULL;
}

UDK_EXPORT const char *udk_driver_class(const struct udk_driver *drv)
{
        return drv ? drv->class_name : NULL;
}

UDK_EXPORT uint32_t udk_driver_restarts(const struct udk_driver *drv)
{
        return drv ? drv->restarts : 0;
}

UDK_EXPORT const char *udk_driver_personality_property(const struct udk_driver *drv, const char *key)
{
        if (!drv || !key)
                return NULL;
        for (size_t i = 0; i < drv->n_personality_props; i++)
                if (strcmp(drv->personality_props[i].key, key) == 0)
                        return drv->personality_props[i].value;
        return NULL;
}

UDK_EXPORT const char *udk_driver_error(const struct udk_driver *drv)
{
        return drv ? drv->error : "";
}

void driver_fail(struct udk_driver *drv, int code)
{
        if (drv->done)
                return;
        drv->done = true;
        drv->exit_code = code;
        drv->owner.muted = true;
        if (udk_dispatch_signal(drv->end_source) < 0)
                udk_dispatch_queue_quit(drv->q, UDK_DRIVERHOST_EXIT_FAILURE); /* cannot end it: end the host */
}

UDK_EXPORT void udk_driver_terminate(struct udk_driver *drv)
{
        if (!drv || drv->phase != PHASE_RUNNING || drv->terminated)
                return;
        drv->terminated = true;
        udk_info("driver '%s': its device is gone: stopping", drv->desc->name);
        driver_fail(drv, UDK_DRIVERHOST_EXIT_OK);
}

static void driver_hang_up(struct udk_driver *drv)
{
        if (drv->hung_up)
                return;
        drv->hung_up = true;
        udk_info("udkd closed the connection: stopping the driver");
        driver_fail(drv, UDK_DRIVERHOST_EXIT_OK);
}

/* Send a message of ours; a failure ends the host (udkd gone: stop the driver; else a protocol error). */
static int driver_send(struct udk_driver *drv, const void *msg, size_t len)
{
        int r;

        if (drv->hung_up)
                return -ENOTCONN;
        r = udk_msg_send(drv->sock, msg, len, NULL, 0);
        if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN) {
                driver_hang_up(drv);
        } else if (r < 0) {
                udk_error("sending a %s message to udkd failed: %s",
                          udk_dmsg_type_name(((const struct udk_msg_header *)msg)->type), strerror(-r));
                driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
        }
        return r;
}

/*
 * One LOG to udkd, never waited for: a blocking send to a socket udkd is
 * slow to read would stall the whole queue (every instance of a shared
 * host) on a log line.  Returns 0 or -errno (-EAGAIN: no room).
 */
static int driver_log_send(struct udk_driver *drv, enum udk_log_level level, const char *text)
{
        struct udk_dmsg_log m;
        ssize_t n;

        memset(&m, 0, sizeof(m));
        m.h = (struct udk_msg_header){ .type = UDK_DMSG_LOG, .size = sizeof(m) };
        m.level = level;
        udk_strlcpy(m.text, text, sizeof(m.text));
        do
                n = send(drv->sock, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EWOULDBLOCK || errno == ENOBUFS ? -EAGAIN : -errno;
        return 0;
}

UDK_EXPORT void udk_driver_log(struct udk_driver *drv, enum udk_log_level level, const char *fmt, ...)
{
        char text[sizeof(((struct udk_dmsg_log *)NULL)->text)];
        char dropped[64];
        va_list ap;
        int r;

        if ((int)level < UDK_LOG_ERROR || level > UDK_LOG_DEBUG)
                level = UDK_LOG_ERROR;
        if (level > udk_log_get_level() || !fmt)
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        udk_log(level, "%s", text);
        if (!drv || drv->hung_up || drv->sock < 0)
                return;
        /* A log line that cannot go out is not worth ending the driver for, nor waiting: stderr has it. */
        r = 0;
        if (drv->logs_dropped > 0) {
                snprintf(dropped, sizeof(dropped), "%u log lines dropped: udkd's socket was full",
                         drv->logs_dropped);
                r = driver_log_send(drv, UDK_LOG_WARN, dropped);
                if (r == 0)
                        drv->logs_dropped = 0;
        }
        if (r == 0)
                r = driver_log_send(drv, level, text);
        if (r == -EAGAIN && drv->logs_dropped++ == 0)
                udk_warn("udkd's socket is full: log lines go to stderr only until it reads them");
}

/* --- receiving --- */

static void close_fds(int *fds, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                close(fds[i]);
}

/*
 * One message from udkd, checked.  Returns its length, 0 when udkd hung
 * up, -EAGAIN when there is none, or -EBADMSG after ending the host for a
 * bad one.
 */
static ssize_t driver_recv(struct udk_driver *drv, union driver_msg_buf *buf, int *fds, unsigned *ret_n_fds)
{
        char err[UDK_MSG_TEXT_MAX + 64];
        ssize_t n;

        n = udk_msg_recv(drv->sock, buf->bytes, fds, ret_n_fds, MSG_DONTWAIT);
        if (n == -EAGAIN || n == -EWOULDBLOCK)
                return -EAGAIN;
        if (n == 0 || n == -ECONNRESET) {
                driver_hang_up(drv);
                return 0;
        }
        if (n < 0) {
                udk_error("receiving from udkd failed: %s", n == -EMSGSIZE ? "a message over 4096 bytes or with "
                          "too many descriptors" : strerror((int)-n));
                driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return -EBADMSG;
        }
        if (udk_dmsg_check(buf->bytes, (size_t)n, *ret_n_fds, false, err, sizeof(err)) < 0) {
                udk_error("udkd sent a bad message: %s", err);
                close_fds(fds, *ret_n_fds);
                *ret_n_fds = 0;
                driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return -EBADMSG;
        }
        return n;
}

/* A REPLY nobody waits for: late (its request timed out) is forgiven, never asked for is not. */
static void driver_stray_reply(struct udk_driver *drv, const struct udk_dmsg_reply *m)
{
        if (m->h.sequence >= 2 && m->h.sequence < drv->next_sequence) {
                udk_warn("udkd answered request %u after its time-out; ignored", m->h.sequence);
                return;
        }
        udk_error("udkd sent a reply to request %u, which this host never sent", m->h.sequence);
        driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
}

static int driver_queue_pending(struct udk_driver *drv, const union driver_msg_buf *buf, size_t len, int *fds,
                                unsigned n_fds)
{
        struct driver_pending *p = malloc(sizeof(*p));

        if (!p) {
                close_fds(fds, n_fds);
                udk_error("no memory to keep a %s message for later", udk_dmsg_type_name(buf->h.type));
                driver_fail(drv, UDK_DRIVERHOST_EXIT_FAILURE);
                return -ENOMEM;
        }
        p->next = NULL;
        p->len = len;
        p->n_fds = n_fds;
        memcpy(p->fds, fds, sizeof(int) * n_fds);
        memcpy(p->msg.bytes, buf->bytes, len);
        if (drv->pending_tail)
                drv->pending_tail->next = p;
        else
                drv->pending_head = p;
        drv->pending_tail = p;
        /* The socket may stay quiet: the pending source makes sure these are handled. */
        return udk_dispatch_signal(drv->pending_source);
}

int driver_request(struct udk_driver *drv, struct udk_msg_header *msg, size_t len, udk_object_id *ret_id)
{
        uint64_t deadline = udk_dispatch_now() + (uint64_t)UDK_DRIVER_REQUEST_TIMEOUT_MS * 1000000u;
        const char *type = udk_dmsg_type_name(msg->type);
        uint32_t sequence;
        int r;

        drv->error[0] = '\0';
        if (drv->hung_up || drv->done)
                return -ENOTCONN;
        if (drv->in_request)
                return -EBUSY;
        sequence = drv->next_sequence++;
        if (drv->next_sequence < 2)
                drv->next_sequence = 2; /* 0 is an event's, 1 was READY's */
        msg->size = (uint32_t)len;
        msg->sequence = sequence;
        msg->reserved = 0;
        r = driver_send(drv, msg, len);
        if (r < 0)
                return r;

        drv->in_request = true;
        for (;;) {
                union driver_msg_buf buf;
                int fds[UDK_MSG_FDS_MAX];
                unsigned n_fds = 0;
                struct pollfd pfd = { .fd = drv->sock, .events = POLLIN };
                uint64_t now = udk_dispatch_now();
                ssize_t n;

                if (now >= deadline) {
                        snprintf(drv->error, sizeof(drv->error), "udkd did not answer the %s request in %u ms",
                                 type, UDK_DRIVER_REQUEST_TIMEOUT_MS);
                        udk_warn("%s", drv->error);
                        r = -ETIMEDOUT;
                        break;
                }
                r = poll(&pfd, 1, (int)((deadline - now + 999999u) / 1000000u));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        r = -errno;
                        break;
                }
                if (r == 0)
                        continue;
                n = driver_recv(drv, &buf, fds, &n_fds);
                if (n == -EAGAIN)
                        continue;
                if (n <= 0) {
                        r = n == 0 ? -ECONNRESET : -EPROTO;
                        break;
                }
                if (buf.h.type == UDK_DMSG_REPLY && buf.h.sequence == sequence) {
                        r = buf.reply.status < 0 ? buf.reply.status : 0;
                        if (r < 0)
                                udk_strlcpy(drv->error, buf.reply.message[0] ? buf.reply.message : strerror(-r),
                                            sizeof(drv->error));
                        else if (ret_id)
                                *ret_id = buf.reply.id;
                        break;
                }
                if (buf.h.type == UDK_DMSG_REPLY) {
                        driver_stray_reply(drv, &buf.reply);
                        if (drv->done) {
                                r = -EPROTO;
                                break;
                        }
                        continue;
                }
                r = driver_queue_pending(drv, &buf, (size_t)n, fds, n_fds);
                if (r < 0)
                        break;
        }
        drv->in_request = false;
        return r;
}

/* --- udkd's messages --- */

static void driver_send_status(struct udk_driver *drv, uint32_t type, uint32_t sequence, int status,
                               const char *message)
{
        struct udk_dmsg_status m;

        memset(&m, 0, sizeof(m));
        m.h = (struct udk_msg_header){ .type = type, .size = sizeof(m), .sequence = sequence };
        m.status = status;
        if (message)
                udk_strlcpy(m.message, message, sizeof(m.message)); /* a cut sentence is still one */
        (void)driver_send(drv, &m, sizeof(m));
}

static void driver_start(struct udk_driver *drv, const struct udk_dmsg_start *m, int *fds, unsigned n_fds)
{
        char message[2 * UDK_MSG_TEXT_MAX + UDK_OBJECT_NAME_MAX]; /* cut to the message's size when sent */
        int status;

        if (drv->phase != PHASE_LOADED) {
                udk_error("udkd sent a second start message");
                close_fds(fds, n_fds);
                driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return;
        }
        drv->provider.id = m->nub;
        udk_strlcpy(drv->provider.name, m->nub_name, sizeof(drv->provider.name));
        udk_strlcpy(drv->provider.family, m->family, sizeof(drv->provider.family));
        drv->provider.n_props = m->n_nub_props;
        memcpy(drv->provider.props, m->props, sizeof(m->props[0]) * m->n_nub_props);
        drv->n_personality_props = m->n_props - m->n_nub_props;
        memcpy(drv->personality_props, m->props + m->n_nub_props,
               sizeof(m->props[0]) * drv->n_personality_props);
        drv->provider.n_fds = n_fds;
        memcpy(drv->provider.fds, fds, sizeof(int) * n_fds);
        udk_strlcpy(drv->personality, m->personality, sizeof(drv->personality));
        udk_strlcpy(drv->class_name, m->class_name, sizeof(drv->class_name));
        drv->restarts = m->restarts;

        drv->phase = PHASE_RUNNING;
        status = drv->desc->start(drv, drv->state, &drv->provider);
        if (status > 0)
                status = 0;
        message[0] = '\0';
        if (status < 0) {
                snprintf(message, sizeof(message), "driver '%s': start() failed: %s%s%s", drv->desc->name,
                         strerror(-status), drv->error[0] ? ": " : "", drv->error);
                udk_error("%s", message);
                drv->phase = PHASE_DONE;
        }
        driver_send_status(drv, UDK_DMSG_STARTED, m->h.sequence, status, message);
        if (status < 0)
                driver_fail(drv, UDK_DRIVERHOST_EXIT_START);
        else
                udk_debug("driver '%s' started on nub %u (%s)", drv->desc->name, drv->provider.id,
                          drv->provider.name);
}

static void driver_stop(struct udk_driver *drv, const struct udk_msg_header *h)
{
        if (drv->phase == PHASE_RUNNING && drv->desc->stop)
                drv->desc->stop(drv, drv->state);
        drv->phase = PHASE_DONE;
        driver_send_status(drv, UDK_DMSG_STOPPED, h->sequence, 0, NULL);
        driver_fail(drv, UDK_DRIVERHOST_EXIT_OK);
}

static const struct udk_driver_method *driver_method(const struct udk_driver *drv, uint64_t selector)
{
        for (size_t i = 0; i < drv->desc->n_methods; i++)
                if (drv->desc->methods[i].selector == selector)
                        return &drv->desc->methods[i];
        return NULL;
}

/*
 * A client's call.  The sizes are checked against the method's entry
 * before it runs: an unknown selector is -EOPNOTSUPP (ENOTSUP), sizes
 * that differ from the entry's exact ones -EINVAL; a method that claims
 * to have filled more than its entry or the caller allows is -EIO.
 */
static void driver_call(struct udk_driver *drv, const struct udk_dmsg_call *m)
{
        union {
                struct udk_dmsg_call_reply r;
                uint8_t bytes[sizeof(struct udk_dmsg_call_reply) + UDK_CALL_STRUCT_MAX];
        } out;
        const struct udk_driver_method *method = driver_method(drv, m->selector);
        uint32_t n_scalars = 0, struct_size = 0;
        int status;

        memset(&out.r, 0, sizeof(out.r));
        if (!method) {
                udk_debug("call of unknown selector %llu", (unsigned long long)m->selector);
                status = -EOPNOTSUPP;
        } else if ((method->n_scalar_in != UDK_DRIVER_SIZE_ANY && m->n_scalars != method->n_scalar_in) ||
                   (method->struct_in_size != UDK_DRIVER_SIZE_ANY && m->struct_size != method->struct_in_size)) {
                udk_debug("method %s: called with %u scalars and %u bytes in", method->name ? method->name : "?",
                          m->n_scalars, m->struct_size);
                status = -EINVAL;
        } else if (drv->phase != PHASE_RUNNING) {
                status = -ENODEV; /* not started yet */
        } else {
                uint32_t capacity = UDK_MIN(method->struct_out_max, m->struct_out_max);
                struct udk_driver_call call = {
                        .selector = m->selector,
                        .scalar_in = m->scalars,
                        .n_scalar_in = m->n_scalars,
                        .struct_in = m->struct_size ? m->data : NULL,
                        .struct_in_size = m->struct_size,
                        .scalar_out = out.r.scalars,
                        .struct_out = out.r.data,
                        .struct_out_capacity = capacity,
                        .caller_uid = m->caller_uid,
                };

                status = method->fn(drv, drv->state, &call);
                if (status > 0)
                        status = 0;
                if (status == 0 && (call.n_scalar_out > method->n_scalar_out || call.struct_out_size > capacity)) {
                        udk_driver_log(drv, UDK_LOG_ERROR,
                                       "method %s: filled %u scalars and %u bytes, at most %u and %u",
                                       method->name ? method->name : "?", call.n_scalar_out, call.struct_out_size,
                                       method->n_scalar_out, capacity);
                        status = -EIO;
                }
                if (status == 0) {
                        n_scalars = call.n_scalar_out;
                        struct_size = call.struct_out_size;
                }
        }
        if (status < 0)
                memset(out.r.scalars, 0, sizeof(out.r.scalars));
        out.r.h = (struct udk_msg_header){ .type = UDK_DMSG_CALL_REPLY,
                                           .size = (uint32_t)udk_dmsg_call_reply_size(struct_size),
                                           .sequence = m->h.sequence };
        out.r.status = status;
        out.r.n_scalars = n_scalars;
        out.r.struct_size = struct_size;
        (void)driver_send(drv, &out, udk_dmsg_call_reply_size(struct_size));
}

static void driver_handle(struct udk_driver *drv, const union driver_msg_buf *buf, int *fds, unsigned n_fds)
{
        switch (buf->h.type) {
        case UDK_DMSG_START:
                driver_start(drv, &buf->start, fds, n_fds);
                return;
        case UDK_DMSG_STOP:
                driver_stop(drv, &buf->h);
                return;
        case UDK_DMSG_PING: {
                struct udk_msg_header pong = { .type = UDK_DMSG_PONG, .size = sizeof(pong),
                                               .sequence = buf->h.sequence };
                (void)driver_send(drv, &pong, sizeof(pong));
                return;
        }
        case UDK_DMSG_CONTROL_CHANGED:
                if (drv->phase == PHASE_RUNNING && drv->desc->control_changed)
                        drv->desc->control_changed(drv, drv->state, buf->control.device, buf->control.control,
                                                   buf->control.value);
                return;
        case UDK_DMSG_CALL:
                driver_call(drv, &buf->call);
                return;
        case UDK_DMSG_REPLY:
                driver_stray_reply(drv, &buf->reply);
                return;
        default:
                /* udk_dmsg_check let through only udkd's types. */
                udk_error("udkd sent a %s message, which a host does not take", udk_dmsg_type_name(buf->h.type));
                close_fds(fds, n_fds);
                driver_fail(drv, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return;
        }
}

static void driver_flush_pending(struct udk_driver *drv)
{
        while (drv->pending_head && !drv->done) {
                struct driver_pending *p = drv->pending_head;

                drv->pending_head = p->next;
                if (!drv->pending_head)
                        drv->pending_tail = NULL;
                driver_handle(drv, (const union driver_msg_buf *)p->msg.bytes, p->fds, p->n_fds);
                free(p);
        }
}

static void on_pending(void *data, struct udk_dispatch_source *source)
{
        driver_flush_pending(data);
}

static void on_socket(void *data, struct udk_dispatch_source *source)
{
        struct udk_driver *drv = data;
        union driver_msg_buf buf;
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds = 0;
        ssize_t n;

        /* What came during a request goes first: udkd's order is kept. */
        driver_flush_pending(drv);
        if (drv->done)
                return;
        n = driver_recv(drv, &buf, fds, &n_fds);
        if (n > 0)
                driver_handle(drv, &buf, fds, n_fds);
}

/* --- the host's loop --- */

static void driver_destroy(struct udk_driver *drv)
{
        while (drv->pending_head) {
                struct driver_pending *p = drv->pending_head;
                drv->pending_head = p->next;
                close_fds(p->fds, p->n_fds);
                free(p);
        }
        udk_dispatch_source_destroy(drv->sock_source);
        udk_dispatch_source_destroy(drv->pending_source);
        udk_dispatch_source_destroy(drv->end_source);
        /* Timers, fd sources and actions the driver left: in a shared host the queue outlives it. */
        dispatch_owner_reclaim(drv->q, &drv->owner);
        close_fds(drv->provider.fds, drv->provider.n_fds);
        free(drv->handles);
        free(drv->state);
        free(drv);
}

/* The instance is done: what the host's exit did for a driver of its own. */
static void on_end(void *data, struct udk_dispatch_source *source)
{
        struct udk_driver *drv = data;
        const struct udk_driver_descriptor *desc = drv->desc;
        void (*ended)(void *data, int code) = drv->ended;
        void *ended_data = drv->ended_data;
        int code = drv->exit_code;
        struct dispatch_owner *before = dispatch_owner_enter(drv->q, &drv->owner);

        /* udkd hung up on a running driver: stop it as STOP would have. */
        if ((drv->hung_up || drv->terminated) && drv->phase == PHASE_RUNNING && desc->stop)
                desc->stop(drv, drv->state);
        drv->phase = PHASE_DONE;
        /* After a protocol error nothing more of the driver runs: udkd cannot be trusted to answer it. */
        if (code != UDK_DRIVERHOST_EXIT_PROTOCOL && desc->free)
                desc->free(drv, drv->state);
        dispatch_owner_enter(drv->q, before);
        driver_destroy(drv);
        if (ended)
                ended(ended_data, code);
}

UDK_EXPORT int udk_driver_host_attach(const struct udk_driver_descriptor *desc, struct udk_dispatch_queue *q,
                                      int sock, void (*ended)(void *data, int code), void *data,
                                      struct udk_driver **ret, int *ret_code)
{
        struct dispatch_owner *before;
        char err[256];
        struct udk_dmsg_ready ready;
        struct udk_driver *drv;
        int r;

        *ret_code = UDK_DRIVERHOST_EXIT_FAILURE;
        if (udk_driver_descriptor_check(desc, err, sizeof(err)) < 0) {
                udk_error("%s", err);
                *ret_code = UDK_DRIVERHOST_EXIT_LOAD;
                return -EINVAL;
        }
        if (!q || sock < 0)
                return -EINVAL;
        drv = calloc(1, sizeof(*drv));
        if (!drv)
                return -ENOMEM;
        drv->desc = desc;
        drv->q = q;
        drv->sock = sock;
        drv->next_sequence = 2;
        drv->ended = ended;
        drv->ended_data = data;
        drv->state = calloc(1, desc->state_size ? desc->state_size : 1);
        /* The end is the host's: it must run once the instance is muted. */
        before = dispatch_owner_enter(q, NULL);
        r = drv->state ? udk_dispatch_event_create(q, on_end, drv, &drv->end_source) : -ENOMEM;
        dispatch_owner_enter(q, &drv->owner);
        if (r >= 0)
                r = udk_dispatch_fd_create(q, sock, UDK_DISPATCH_READABLE, on_socket, drv, &drv->sock_source);
        if (r >= 0)
                r = udk_dispatch_event_create(q, on_pending, drv, &drv->pending_source);
        if (r < 0) {
                udk_error("setting up the driver's queue failed: %s", strerror(-r));
                dispatch_owner_enter(q, before);
                driver_destroy(drv);
                return r;
        }

        if (desc->init) {
                r = desc->init(drv, drv->state);
                if (r < 0) {
                        udk_error("driver '%s': init() failed: %s", desc->name, strerror(-r));
                        dispatch_owner_enter(q, before);
                        driver_destroy(drv);
                        *ret_code = UDK_DRIVERHOST_EXIT_INIT;
                        return r;
                }
        }

        memset(&ready, 0, sizeof(ready));
        ready.h = (struct udk_msg_header){ .type = UDK_DMSG_READY, .size = sizeof(ready), .sequence = 1 };
        ready.version = UDK_DRIVER_PROTOCOL_VERSION;
        ready.abi = desc->abi_version;
        udk_strlcpy(ready.driver, desc->name, sizeof(ready.driver));
        /* A failed send ends the instance through driver_fail(), as any later one would. */
        (void)driver_send(drv, &ready, sizeof(ready));
        dispatch_owner_enter(q, before);
        if (ret)
                *ret = drv;
        return 0;
}

UDK_EXPORT void udk_driver_host_hang_up(struct udk_driver *drv)
{
        if (drv)
                driver_hang_up(drv);
}

static void run_ended(void *data, int code)
{
        udk_dispatch_queue_quit(data, code);
}

UDK_EXPORT int udk_driver_host_run(const struct udk_driver_descriptor *desc, struct udk_dispatch_queue *q, int sock)
{
        int code, r;

        r = udk_driver_host_attach(desc, q, sock, run_ended, q, NULL, &code);
        if (r < 0)
                return code;
        r = udk_dispatch_queue_run(q);
        if (r < 0) {
                udk_error("the dispatch queue failed: %s", strerror(-r));
                return UDK_DRIVERHOST_EXIT_FAILURE;
        }
        return r;
}
