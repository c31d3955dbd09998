/* SPDX-License-Identifier: MIT */
/*
 * The driver protocol's checks: every message between udkd and a driver
 * host is validated here before either side reads its body.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver-protocol.h>
#include <udk/util.h>

enum dmsg_shape {
        SHAPE_FIXED,  /* exactly size bytes */
        SHAPE_PROPS,  /* START, PUBLISH_NUB: n_props properties */
        SHAPE_CALL,   /* CALL, CALL_REPLY: struct_size bytes follow */
        SHAPE_DEVICE, /* DEVICE_CREATE: text_size bytes of text */
};

struct dmsg_info {
        const char *name;
        size_t size; /* exact, or the base for the variable shapes */
        bool from_host;
        bool event;  /* sequence 0 */
        enum dmsg_shape shape;
};

static const struct dmsg_info *dmsg_info(uint32_t type)
{
#define INFO(n, sz, host, ev, shape) { n, sz, host, ev, shape }
        static const struct dmsg_info start = INFO("start", offsetof(struct udk_dmsg_start, props), false, false,
                                                   SHAPE_PROPS);
        static const struct dmsg_info stop = INFO("stop", sizeof(struct udk_msg_header), false, false, SHAPE_FIXED);
        static const struct dmsg_info ping = INFO("ping", sizeof(struct udk_msg_header), false, false, SHAPE_FIXED);
        static const struct dmsg_info control_changed = INFO("control-changed", sizeof(struct udk_dmsg_control),
                                                             false, true, SHAPE_FIXED);
        static const struct dmsg_info call = INFO("call", sizeof(struct udk_dmsg_call), false, false, SHAPE_CALL);
        static const struct dmsg_info reply = INFO("reply", sizeof(struct udk_dmsg_reply), false, false,
                                                   SHAPE_FIXED);
        static const struct dmsg_info ready = INFO("ready", sizeof(struct udk_dmsg_ready), true, false, SHAPE_FIXED);
        static const struct dmsg_info started = INFO("started", sizeof(struct udk_dmsg_status), true, false,
                                                     SHAPE_FIXED);
        static const struct dmsg_info stopped = INFO("stopped", sizeof(struct udk_dmsg_status), true, false,
                                                     SHAPE_FIXED);
        static const struct dmsg_info pong = INFO("pong", sizeof(struct udk_msg_header), true, false, SHAPE_FIXED);
        static const struct dmsg_info call_reply = INFO("call-reply", sizeof(struct udk_dmsg_call_reply), true,
                                                        false, SHAPE_CALL);
        static const struct dmsg_info publish_nub = INFO("publish-nub", offsetof(struct udk_dmsg_nub, props), true,
                                                         false, SHAPE_PROPS);
        static const struct dmsg_info remove_nub = INFO("remove-nub", sizeof(struct udk_dmsg_nub_ref), true, false,
                                                        SHAPE_FIXED);
        static const struct dmsg_info device_create = INFO("device-create", offsetof(struct udk_dmsg_device, text),
                                                           true, false, SHAPE_DEVICE);
        static const struct dmsg_info control_add = INFO("control-add", sizeof(struct udk_dmsg_control_add), true,
                                                         false, SHAPE_FIXED);
        static const struct dmsg_info control_set = INFO("control-set", sizeof(struct udk_dmsg_control), true,
                                                         false, SHAPE_FIXED);
        static const struct dmsg_info host_attach = INFO("host-attach", sizeof(struct udk_dmsg_host_attach), false,
                                                         false, SHAPE_FIXED);
        static const struct dmsg_info host_detached = INFO("host-detached", sizeof(struct udk_dmsg_host_detached),
                                                           true, false, SHAPE_FIXED);
        static const struct dmsg_info log = INFO("log", sizeof(struct udk_dmsg_log), true, true, SHAPE_FIXED);
#undef INFO

        switch (type) {
        case UDK_DMSG_START: return &start;
        case UDK_DMSG_STOP: return &stop;
        case UDK_DMSG_PING: return &ping;
        case UDK_DMSG_CONTROL_CHANGED: return &control_changed;
        case UDK_DMSG_CALL: return &call;
        case UDK_DMSG_REPLY: return &reply;
        case UDK_DMSG_READY: return &ready;
        case UDK_DMSG_STARTED: return &started;
        case UDK_DMSG_STOPPED: return &stopped;
        case UDK_DMSG_PONG: return &pong;
        case UDK_DMSG_CALL_REPLY: return &call_reply;
        case UDK_DMSG_PUBLISH_NUB: return &publish_nub;
        case UDK_DMSG_REMOVE_NUB: return &remove_nub;
        case UDK_DMSG_DEVICE_CREATE: return &device_create;
        case UDK_DMSG_CONTROL_ADD: return &control_add;
        case UDK_DMSG_CONTROL_SET: return &control_set;
        case UDK_DMSG_LOG: return &log;
        case UDK_DMSG_HOST_ATTACH: return &host_attach;
        case UDK_DMSG_HOST_DETACHED: return &host_detached;
        default: return NULL;
        }
}

const char *udk_dmsg_type_name(uint32_t type)
{
        const struct dmsg_info *mi = dmsg_info(type);
        return mi ? mi->name : "unknown";
}

UDK_PRINTF(3, 4) static int fail(char *err, size_t err_size, const char *fmt, ...)
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

static int check_props(const struct udk_dprop *props, uint32_t n, const char *name, char *err, size_t err_size)
{
        for (uint32_t i = 0; i < n; i++) {
                if (!terminated(props[i].key, sizeof(props[i].key)) || props[i].key[0] == '\0')
                        return fail(err, err_size, "%s message: property %u: key empty or without its NUL", name,
                                    i);
                if (!terminated(props[i].value, sizeof(props[i].value)))
                        return fail(err, err_size, "%s message: property %u (%s): value without its NUL", name, i,
                                    props[i].key);
        }
        return 0;
}

/* The variable shapes: the count in the body decides the size. */
static int check_variable(const void *buf, const struct dmsg_info *mi, uint32_t type, size_t len, unsigned n_fds,
                          char *err, size_t err_size)
{
        size_t expected;

        switch (mi->shape) {
        case SHAPE_PROPS: {
                uint32_t n_props = type == UDK_DMSG_START ? ((const struct udk_dmsg_start *)buf)->n_props
                                                          : ((const struct udk_dmsg_nub *)buf)->n_props;
                if (n_props > UDK_DPROPS_MAX)
                        return fail(err, err_size, "%s message: %u properties, at most %u", mi->name, n_props,
                                    UDK_DPROPS_MAX);
                expected = type == UDK_DMSG_START ? udk_dmsg_start_size(n_props) : udk_dmsg_nub_size(n_props);
                if (len != expected)
                        return fail(err, err_size, "%s message: %zu bytes for %u properties, expected %zu",
                                    mi->name, len, n_props, expected);
                if (type == UDK_DMSG_START) {
                        const struct udk_dmsg_start *m = buf;
                        if (m->n_nub_props > m->n_props)
                                return fail(err, err_size, "start message: %u nub properties of %u", m->n_nub_props,
                                            m->n_props);
                        if (m->n_fds != n_fds)
                                return fail(err, err_size, "start message: says %u descriptors, %u attached",
                                            m->n_fds, n_fds);
                        if (!terminated(m->personality, sizeof(m->personality)) ||
                            !terminated(m->class_name, sizeof(m->class_name)) ||
                            !terminated(m->family, sizeof(m->family)) ||
                            !terminated(m->nub_name, sizeof(m->nub_name)))
                                return fail(err, err_size, "start message: a name without its NUL");
                        return check_props(m->props, m->n_props, mi->name, err, err_size);
                }
                const struct udk_dmsg_nub *m = buf;
                if (!terminated(m->family, sizeof(m->family)) || !terminated(m->name, sizeof(m->name)))
                        return fail(err, err_size, "publish-nub message: family or name without its NUL");
                if (m->name[0] == '\0')
                        return fail(err, err_size, "publish-nub message: an empty name");
                return check_props(m->props, m->n_props, mi->name, err, err_size);
        }
        case SHAPE_CALL: {
                uint32_t n_scalars, struct_size;
                if (type == UDK_DMSG_CALL) {
                        const struct udk_dmsg_call *m = buf;
                        if (m->struct_out_max > UDK_CALL_STRUCT_MAX)
                                return fail(err, err_size, "call message: %u bytes of structure out, at most %u",
                                            m->struct_out_max, UDK_CALL_STRUCT_MAX);
                        n_scalars = m->n_scalars;
                        struct_size = m->struct_size;
                        expected = udk_dmsg_call_size(struct_size);
                } else {
                        const struct udk_dmsg_call_reply *m = buf;
                        n_scalars = m->n_scalars;
                        struct_size = m->struct_size;
                        expected = udk_dmsg_call_reply_size(struct_size);
                }
                if (n_scalars > UDK_CALL_SCALARS_MAX)
                        return fail(err, err_size, "%s message: %u scalars, at most %u", mi->name, n_scalars,
                                    UDK_CALL_SCALARS_MAX);
                if (struct_size > UDK_CALL_STRUCT_MAX)
                        return fail(err, err_size, "%s message: %u bytes of structure, at most %u", mi->name,
                                    struct_size, UDK_CALL_STRUCT_MAX);
                if (len != expected)
                        return fail(err, err_size, "%s message: %zu bytes for %u bytes of structure, expected %zu",
                                    mi->name, len, struct_size, expected);
                return 0;
        }
        case SHAPE_DEVICE: {
                const struct udk_dmsg_device *m = buf;
                if (m->text_size == 0 || m->text_size > UDK_DEVICE_TEXT_MAX)
                        return fail(err, err_size, "device-create message: %u bytes of text, 1..%u", m->text_size,
                                    UDK_DEVICE_TEXT_MAX);
                if (len != udk_dmsg_device_size(m->text_size))
                        return fail(err, err_size, "device-create message: %zu bytes for %u bytes of text", len,
                                    m->text_size);
                if (m->text[m->text_size - 1] != '\0')
                        return fail(err, err_size, "device-create message: text without its NUL");
                return 0;
        }
        case SHAPE_FIXED:
                break;
        }
        return 0;
}

/* The strings of the fixed-size messages. */
static bool check_strings(const void *buf, uint32_t type, const char **ret_field)
{
        switch (type) {
        case UDK_DMSG_CONTROL_CHANGED:
        case UDK_DMSG_CONTROL_SET: {
                const struct udk_dmsg_control *m = buf;
                *ret_field = terminated(m->control, sizeof(m->control)) ? "value" : "control";
                return terminated(m->control, sizeof(m->control)) && terminated(m->value, sizeof(m->value));
        }
        case UDK_DMSG_REPLY: {
                const struct udk_dmsg_reply *m = buf;
                *ret_field = "message";
                return terminated(m->message, sizeof(m->message));
        }
        case UDK_DMSG_READY: {
                const struct udk_dmsg_ready *m = buf;
                *ret_field = "driver";
                return terminated(m->driver, sizeof(m->driver));
        }
        case UDK_DMSG_STARTED:
        case UDK_DMSG_STOPPED: {
                const struct udk_dmsg_status *m = buf;
                *ret_field = "message";
                return terminated(m->message, sizeof(m->message));
        }
        case UDK_DMSG_CONTROL_ADD: {
                const struct udk_dmsg_control_add *m = buf;
                *ret_field = "name";
                return terminated(m->name, sizeof(m->name));
        }
        case UDK_DMSG_LOG: {
                const struct udk_dmsg_log *m = buf;
                *ret_field = "text";
                return terminated(m->text, sizeof(m->text));
        }
        default:
                return true;
        }
}

int udk_dmsg_check(const void *buf, size_t len, unsigned n_fds, bool from_host, char *err, size_t err_size)
{
        const struct udk_msg_header *h = buf;
        const struct dmsg_info *mi;
        const char *field = "";

        if (len < sizeof(*h))
                return fail(err, err_size, "message of %zu bytes, shorter than its %zu-byte header", len, sizeof(*h));
        if (len > UDK_MSG_SIZE_MAX)
                return fail(err, err_size, "message of %zu bytes, the limit is %u", len, UDK_MSG_SIZE_MAX);
        mi = dmsg_info(h->type);
        if (!mi)
                return fail(err, err_size, "unknown message type %u", h->type);
        if (mi->from_host != from_host)
                return fail(err, err_size, "%s message sent the wrong way", mi->name);
        if (h->size != len)
                return fail(err, err_size, "%s message: header says %u bytes, packet has %zu", mi->name, h->size,
                            len);
        if (h->reserved != 0)
                return fail(err, err_size, "%s message: reserved header field is %u, not 0", mi->name, h->reserved);
        if (mi->event ? h->sequence != 0 : h->sequence == 0)
                return fail(err, err_size, "%s message: sequence %u (%s)", mi->name, h->sequence,
                            mi->event ? "events carry 0" : "requests and answers carry a non-zero one");
        if (h->type == UDK_DMSG_HOST_ATTACH && n_fds != 1)
                return fail(err, err_size, "%s message: %u descriptors attached, expected 1", mi->name, n_fds);
        if (h->type != UDK_DMSG_START && h->type != UDK_DMSG_HOST_ATTACH && n_fds != 0)
                return fail(err, err_size, "%s message: %u descriptors attached, expected none", mi->name, n_fds);
        if (mi->shape != SHAPE_FIXED) {
                if (len < mi->size)
                        return fail(err, err_size, "%s message: %zu bytes, at least %zu expected", mi->name, len,
                                    mi->size);
                return check_variable(buf, mi, h->type, len, n_fds, err, err_size);
        }
        if (len != mi->size)
                return fail(err, err_size, "%s message: %zu bytes, expected %zu", mi->name, len, mi->size);
        if (!check_strings(buf, h->type, &field))
                return fail(err, err_size, "%s message: %s without its NUL", mi->name, field);
        return 0;
}
