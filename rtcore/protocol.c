/* SPDX-License-Identifier: MIT */
/*
 * The client protocol's framing and checks.  Every message is validated
 * here before either side reads its body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <udk/protocol.h>
#include <udk/util.h>

struct msg_info {
        const char *name;
        size_t size;       /* exact, or the base for variable ones */
        bool from_client;  /* a request */
        bool variable;     /* udk_msg_object: n_props follow */
        unsigned n_fds;    /* exactly this many descriptors */
        bool event;        /* sequence 0 */
};

static const struct msg_info *msg_info(uint32_t type)
{
        static const struct msg_info hello = { "hello", sizeof(struct udk_msg_hello), true };
        static const struct msg_info list = { "list", sizeof(struct udk_msg_object_ref), true };
        static const struct msg_info info = { "info", sizeof(struct udk_msg_object_ref), true };
        static const struct msg_info set_control = { "set-control", sizeof(struct udk_msg_set_control), true };
        static const struct msg_info subscribe = { "subscribe", sizeof(struct udk_msg_subscribe), true };
        static const struct msg_info stats = { "stats", sizeof(struct udk_msg_object_ref), true };
        static const struct msg_info open = { "open", sizeof(struct udk_msg_open), true };
        static const struct msg_info close = { "close", sizeof(struct udk_msg_object_ref), true };
        static const struct msg_info move = { "move", sizeof(struct udk_msg_move), true };
        static const struct msg_info peer_ready = { "peer-ready", sizeof(struct udk_msg_peer), true };
        static const struct msg_info ping = { "ping", sizeof(struct udk_msg_header), true };
        static const struct msg_info call = { "call", sizeof(struct udk_msg_call), true, true };
        static const struct msg_info driver_control = { "driver-control", sizeof(struct udk_msg_driver_control),
                                                        true };
        static const struct msg_info match = { "match", sizeof(struct udk_msg_object_ref), true };
        static const struct msg_info personalities = { "personalities", sizeof(struct udk_msg_header), true };
        static const struct msg_info call_result = { "call-result", sizeof(struct udk_msg_call_result), false,
                                                     true };
        static const struct msg_info text = { "text", sizeof(struct udk_msg_text), false };
        static const struct msg_info match_candidate = { "match-candidate",
                                                         sizeof(struct udk_msg_match_candidate), false };
        static const struct msg_info reply = { "reply", sizeof(struct udk_msg_reply), false };
        static const struct msg_info welcome = { "welcome", sizeof(struct udk_msg_welcome), false };
        static const struct msg_info object = { "object", sizeof(struct udk_msg_object), false, true };
        static const struct msg_info stats_device = { "stats-device", sizeof(struct udk_msg_stats_device),
                                                      false };
        static const struct msg_info stats_node = { "stats-node", sizeof(struct udk_msg_stats_node), false };
        static const struct msg_info opened = { "opened", sizeof(struct udk_msg_opened), false, false, 3 };
        static const struct msg_info added = { "added", sizeof(struct udk_msg_object), false, true, 0, true };
        static const struct msg_info removed = { "removed", sizeof(struct udk_msg_object_ref), false, false,
                                                 0, true };
        static const struct msg_info changed = { "changed", sizeof(struct udk_msg_object), false, true, 0,
                                                 true };
        static const struct msg_info node_state = { "node-state", sizeof(struct udk_msg_node_state), false,
                                                    false, 0, true };
        static const struct msg_info peer_added = { "peer-added", sizeof(struct udk_msg_peer), false, false,
                                                    1, true };
        static const struct msg_info peer_removed = { "peer-removed", sizeof(struct udk_msg_peer), false,
                                                      false, 0, true };
        static const struct msg_info closed = { "closed", sizeof(struct udk_msg_closed), false, false, 0,
                                                true };

        switch (type) {
        case UDK_MSG_HELLO: return &hello;
        case UDK_MSG_LIST: return &list;
        case UDK_MSG_INFO: return &info;
        case UDK_MSG_SET_CONTROL: return &set_control;
        case UDK_MSG_SUBSCRIBE: return &subscribe;
        case UDK_MSG_STATS: return &stats;
        case UDK_MSG_OPEN: return &open;
        case UDK_MSG_CLOSE: return &close;
        case UDK_MSG_MOVE: return &move;
        case UDK_MSG_PEER_READY: return &peer_ready;
        case UDK_MSG_PING: return &ping;
        case UDK_MSG_CALL: return &call;
        case UDK_MSG_DRIVER_CONTROL: return &driver_control;
        case UDK_MSG_MATCH: return &match;
        case UDK_MSG_PERSONALITIES: return &personalities;
        case UDK_MSG_CALL_RESULT: return &call_result;
        case UDK_MSG_TEXT: return &text;
        case UDK_MSG_MATCH_CANDIDATE: return &match_candidate;
        case UDK_MSG_REPLY: return &reply;
        case UDK_MSG_WELCOME: return &welcome;
        case UDK_MSG_OBJECT: return &object;
        case UDK_MSG_STATS_DEVICE: return &stats_device;
        case UDK_MSG_STATS_NODE: return &stats_node;
        case UDK_MSG_OPENED: return &opened;
        case UDK_MSG_EVENT_ADDED: return &added;
        case UDK_MSG_EVENT_REMOVED: return &removed;
        case UDK_MSG_EVENT_CHANGED: return &changed;
        case UDK_MSG_EVENT_NODE_STATE: return &node_state;
        case UDK_MSG_EVENT_PEER_ADDED: return &peer_added;
        case UDK_MSG_EVENT_PEER_REMOVED: return &peer_removed;
        case UDK_MSG_EVENT_CLOSED: return &closed;
        default: return NULL;
        }
}

const char *udk_msg_type_name(uint32_t type)
{
        const struct msg_info *mi = msg_info(type);
        return mi ? mi->name : "unknown";
}

size_t udk_msg_base_size(uint32_t type)
{
        const struct msg_info *mi = msg_info(type);
        return mi ? mi->size : 0;
}

void udk_msg_init(struct udk_msg_header *h, uint32_t type, uint32_t size, uint32_t sequence)
{
        *h = (struct udk_msg_header){ .type = type, .size = size, .sequence = sequence };
}

static int fail(char *err, size_t err_size, const char *fmt, ...) UDK_PRINTF(3, 4);
static int fail(char *err, size_t err_size, const char *fmt, ...)
{
        va_list ap;

        if (err && err_size > 0) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

static bool terminated(const char *s, size_t size)
{
        return memchr(s, '\0', size) != NULL;
}

/* The strings each message carries, each checked for its NUL. */
static int check_strings(const void *buf, uint32_t type, const char **ret_field)
{
        switch (type) {
        case UDK_MSG_HELLO: {
                const struct udk_msg_hello *m = buf;
                *ret_field = "name";
                return terminated(m->name, sizeof(m->name));
        }
        case UDK_MSG_SET_CONTROL: {
                const struct udk_msg_set_control *m = buf;
                *ret_field = terminated(m->control, sizeof(m->control)) ? "value" : "control";
                return terminated(m->control, sizeof(m->control)) && terminated(m->value, sizeof(m->value));
        }
        case UDK_MSG_OPEN: {
                const struct udk_msg_open *m = buf;
                *ret_field = "name";
                return terminated(m->name, sizeof(m->name));
        }
        case UDK_MSG_REPLY: {
                const struct udk_msg_reply *m = buf;
                *ret_field = "message";
                return terminated(m->message, sizeof(m->message));
        }
        case UDK_MSG_WELCOME: {
                const struct udk_msg_welcome *m = buf;
                *ret_field = "server";
                return terminated(m->server, sizeof(m->server));
        }
        case UDK_MSG_STATS_NODE: {
                const struct udk_msg_stats_node *m = buf;
                *ret_field = "name";
                return terminated(m->name, sizeof(m->name));
        }
        case UDK_MSG_EVENT_NODE_STATE: {
                const struct udk_msg_node_state *m = buf;
                *ret_field = "reason";
                return terminated(m->reason, sizeof(m->reason));
        }
        case UDK_MSG_EVENT_CLOSED: {
                const struct udk_msg_closed *m = buf;
                *ret_field = "reason";
                return terminated(m->reason, sizeof(m->reason));
        }
        case UDK_MSG_TEXT: {
                const struct udk_msg_text *m = buf;
                *ret_field = "text";
                return terminated(m->text, sizeof(m->text));
        }
        case UDK_MSG_MATCH_CANDIDATE: {
                const struct udk_msg_match_candidate *m = buf;
                *ret_field = terminated(m->name, sizeof(m->name)) ? "why" : "name";
                return terminated(m->name, sizeof(m->name)) && terminated(m->why, sizeof(m->why));
        }
        default:
                return 1;
        }
}

static int check_object(const struct udk_msg_object *m, size_t len, char *err, size_t err_size)
{
        if (m->n_props > UDK_PROPS_MAX)
                return fail(err, err_size, "object message: %u properties, at most %u", m->n_props,
                            UDK_PROPS_MAX);
        if (len != udk_msg_object_size(m->n_props))
                return fail(err, err_size, "object message: %zu bytes for %u properties, expected %zu", len,
                            m->n_props, udk_msg_object_size(m->n_props));
        if (!terminated(m->klass, sizeof(m->klass)) || !terminated(m->name, sizeof(m->name)))
                return fail(err, err_size, "object message: class or name without its NUL");
        for (uint32_t i = 0; i < m->n_props; i++) {
                const struct udk_prop *p = &m->props[i];
                if (!terminated(p->key, sizeof(p->key)))
                        return fail(err, err_size, "object message: property %u: key without its NUL", i);
                if (p->type < UDK_PROP_INT || p->type > UDK_PROP_BOOL)
                        return fail(err, err_size, "object message: property %u: unknown type %u", i,
                                    p->type);
                if (p->type == UDK_PROP_STRING && !terminated(p->s, sizeof(p->s)))
                        return fail(err, err_size, "object message: property %u: value without its NUL", i);
        }
        return 0;
}

/* A CALL or CALL_RESULT: its counts within their arrays, its size exactly its structure's. */
static int check_call(const void *buf, uint32_t type, size_t len, char *err, size_t err_size)
{
        const char *name = type == UDK_MSG_CALL ? "call" : "call-result";
        uint32_t n_scalars, struct_size;
        size_t expected;

        if (type == UDK_MSG_CALL) {
                const struct udk_msg_call *m = buf;
                if (m->struct_out_max > UDK_CALL_STRUCT_MAX)
                        return fail(err, err_size, "call message: %u bytes of structure out asked, at most %u",
                                    m->struct_out_max, UDK_CALL_STRUCT_MAX);
                n_scalars = m->n_scalars;
                struct_size = m->struct_size;
        } else {
                const struct udk_msg_call_result *m = buf;
                if (m->reserved != 0)
                        return fail(err, err_size, "call-result message: reserved field is %u, not 0",
                                    m->reserved);
                n_scalars = m->n_scalars;
                struct_size = m->struct_size;
        }
        if (n_scalars > UDK_CALL_SCALARS_MAX)
                return fail(err, err_size, "%s message: %u scalars, at most %u", name, n_scalars,
                            UDK_CALL_SCALARS_MAX);
        if (struct_size > UDK_CALL_STRUCT_MAX)
                return fail(err, err_size, "%s message: %u bytes of structure, at most %u", name, struct_size,
                            UDK_CALL_STRUCT_MAX);
        expected = type == UDK_MSG_CALL ? udk_msg_call_size(struct_size) : udk_msg_call_result_size(struct_size);
        if (len != expected)
                return fail(err, err_size, "%s message: %zu bytes for %u bytes of structure, expected %zu", name,
                            len, struct_size, expected);
        return 0;
}

int udk_msg_check(const void *buf, size_t len, unsigned n_fds, bool server_side, char *err, size_t err_size)
{
        const struct udk_msg_header *h = buf;
        const struct msg_info *mi;
        const char *field = "";

        if (len < sizeof(*h))
                return fail(err, err_size, "message of %zu bytes, shorter than its %zu-byte header", len,
                            sizeof(*h));
        if (len > UDK_MSG_SIZE_MAX)
                return fail(err, err_size, "message of %zu bytes, the limit is %u", len, UDK_MSG_SIZE_MAX);
        mi = msg_info(h->type);
        if (!mi)
                return fail(err, err_size, "unknown message type %u", h->type);
        if (mi->from_client != server_side)
                return fail(err, err_size, "%s message sent the wrong way", mi->name);
        if (h->size != len)
                return fail(err, err_size, "%s message: header says %u bytes, packet has %zu", mi->name,
                            h->size, len);
        if (h->reserved != 0)
                return fail(err, err_size, "%s message: reserved header field is %u, not 0", mi->name,
                            h->reserved);
        if (mi->event ? h->sequence != 0 : h->sequence == 0)
                return fail(err, err_size, "%s message: sequence %u (%s)", mi->name, h->sequence,
                            mi->event ? "events carry 0" : "requests and replies carry a non-zero one");
        if (n_fds != mi->n_fds)
                return fail(err, err_size, "%s message: %u descriptors attached, expected %u", mi->name,
                            n_fds, mi->n_fds);
        if (mi->variable) {
                if (len < mi->size)
                        return fail(err, err_size, "%s message: %zu bytes, at least %zu expected", mi->name,
                                    len, mi->size);
                if (h->type == UDK_MSG_CALL || h->type == UDK_MSG_CALL_RESULT)
                        return check_call(buf, h->type, len, err, err_size);
                return check_object(buf, len, err, err_size);
        }
        if (len != mi->size)
                return fail(err, err_size, "%s message: %zu bytes, expected %zu", mi->name, len, mi->size);
        if (!check_strings(buf, h->type, &field))
                return fail(err, err_size, "%s message: %s without its NUL", mi->name, field);
        return 0;
}

int udk_msg_send(int sock, const void *msg, size_t len, const int *fds, unsigned n_fds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * UDK_MSG_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_fds > UDK_MSG_FDS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                struct cmsghdr *cm;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

ssize_t udk_msg_recv(int sock, void *buf, int *fds, unsigned *ret_n_fds, int flags)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * (UDK_MSG_FDS_MAX + 4))];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = UDK_MSG_SIZE_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        bool too_many = false;
        unsigned n_fds = 0;
        ssize_t n;

        *ret_n_fds = 0;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                size_t count;
                int *in;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                in = (int *)CMSG_DATA(cm);
                for (size_t i = 0; i < count; i++) {
                        int fd;
                        memcpy(&fd, &in[i], sizeof(fd));
                        if (n_fds < UDK_MSG_FDS_MAX)
                                fds[n_fds++] = fd;
                        else {
                                close(fd);
                                too_many = true;
                        }
                }
        }
        if (too_many || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                for (unsigned i = 0; i < n_fds; i++)
                        close(fds[i]);
                return -EMSGSIZE;
        }
        *ret_n_fds = n_fds;
        return n;
}

int udk_socket_default_path(char *buf, size_t size)
{
        const char *env = getenv("UDK_SOCKET");
        const char *runtime = getenv("XDG_RUNTIME_DIR");
        struct sockaddr_un sa;
        int n;

        size = UDK_MIN(size, sizeof(sa.sun_path));
        if (env && *env)
                n = snprintf(buf, size, "%s", env);
        else if (runtime && *runtime)
                n = snprintf(buf, size, "%s/udk/udkd.sock", runtime);
        else
                n = snprintf(buf, size, "/run/udk/udkd.sock");
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void prop_key(struct udk_prop *p, const char *key, uint32_t type, uint32_t flags)
{
        memset(p, 0, sizeof(*p));
        udk_strlcpy(p->key, key, sizeof(p->key));
        p->type = type;
        p->flags = flags;
}

void udk_prop_int(struct udk_prop *p, const char *key, int64_t value, uint32_t flags)
{
        prop_key(p, key, UDK_PROP_INT, flags);
        p->i = value;
}

void udk_prop_double(struct udk_prop *p, const char *key, double value, uint32_t flags)
{
        prop_key(p, key, UDK_PROP_DOUBLE, flags);
        p->d = value;
}

void udk_prop_string(struct udk_prop *p, const char *key, const char *value, uint32_t flags)
{
        prop_key(p, key, UDK_PROP_STRING, flags);
        udk_strlcpy(p->s, value ? value : "", sizeof(p->s));
}

void udk_prop_bool(struct udk_prop *p, const char *key, bool value, uint32_t flags)
{
        prop_key(p, key, UDK_PROP_BOOL, flags);
        p->i = value;
}

const char *udk_strerror(int error)
{
        if (error == -UDK_E_DRIVER_TERMINATED || error == UDK_E_DRIVER_TERMINATED)
                return "the driver terminated before it answered";
        return strerror(error < 0 ? -error : error);
}

const struct udk_prop *udk_msg_object_prop(const struct udk_msg_object *obj, const char *key)
{
        for (uint32_t i = 0; i < obj->n_props && i < UDK_PROPS_MAX; i++)
                if (strcmp(obj->props[i].key, key) == 0)
                        return &obj->props[i];
        return NULL;
}
