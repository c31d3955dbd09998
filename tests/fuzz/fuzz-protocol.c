/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the client protocol's decoding, both ways.  The input
 * is one byte of framing, then the packet:
 *
 *   byte 0, bit 0    1: udkd receives it (a request), 0: a client does
 *   byte 0, bits 1-3 descriptors said to be attached, 0..7
 *
 * The packet is copied into a buffer of exactly its size, so that ASan
 * catches any read past it, and checked with udk_msg_check().  A message
 * that passes is then read the way its receiver reads it (session.c for
 * udkd, clients/lib for a client): every string, every property, the call's
 * structure.  The target aborts when the check lets through what a receiver
 * relies on being refused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udk/protocol.h>
#include <udk/util.h>

#include "fuzz-common.h"

static void read_object(const struct udk_msg_object *m, size_t len)
{
        require(m->n_props <= UDK_PROPS_MAX);
        require(len == udk_msg_object_size(m->n_props));
        read_string(m->klass, sizeof(m->klass));
        read_string(m->name, sizeof(m->name));
        for (uint32_t i = 0; i < m->n_props; i++) {
                const struct udk_prop *p = &m->props[i];

                read_string(p->key, sizeof(p->key));
                require(p->type >= UDK_PROP_INT && p->type <= UDK_PROP_BOOL);
                if (p->type == UDK_PROP_STRING)
                        read_string(p->s, sizeof(p->s));
                /* udkctl and the registry helpers look properties up by key. */
                require(udk_msg_object_prop(m, p->key) != NULL);
        }
}

/* What udkd reads of a request (session.c's dispatch and handlers). */
static void read_request(const void *buf, size_t len)
{
        const struct udk_msg_header *h = buf;

        switch (h->type) {
        case UDK_MSG_HELLO: {
                const struct udk_msg_hello *m = buf;
                char name[UDK_OBJECT_NAME_MAX];
                require(len == sizeof(*m));
                read_string(m->name, sizeof(m->name));
                sink += udk_strlcpy(name, m->name, sizeof(name)) < 0;
                break;
        }
        case UDK_MSG_SET_CONTROL: {
                const struct udk_msg_set_control *m = buf;
                require(len == sizeof(*m));
                read_string(m->control, sizeof(m->control));
                read_string(m->value, sizeof(m->value));
                break;
        }
        case UDK_MSG_OPEN: {
                const struct udk_msg_open *m = buf;
                require(len == sizeof(*m));
                read_string(m->name, sizeof(m->name));
                break;
        }
        case UDK_MSG_CALL: {
                const struct udk_msg_call *m = buf;
                uint8_t copy[UDK_CALL_STRUCT_MAX];
                require(m->n_scalars <= UDK_CALL_SCALARS_MAX);
                require(m->struct_size <= UDK_CALL_STRUCT_MAX && m->struct_out_max <= UDK_CALL_STRUCT_MAX);
                require(len == udk_msg_call_size(m->struct_size));
                /* udkd forwards scalars and structure to the driver's CALL. */
                for (uint32_t i = 0; i < m->n_scalars; i++)
                        sink += (size_t)m->scalars[i];
                memcpy(copy, m->data, m->struct_size);
                sink += m->struct_size ? copy[m->struct_size - 1] : 0;
                break;
        }
        case UDK_MSG_LIST:
        case UDK_MSG_INFO:
        case UDK_MSG_STATS:
        case UDK_MSG_CLOSE:
        case UDK_MSG_MATCH:
                require(len == sizeof(struct udk_msg_object_ref));
                break;
        case UDK_MSG_SUBSCRIBE:
                require(len == sizeof(struct udk_msg_subscribe));
                break;
        case UDK_MSG_MOVE:
                require(len == sizeof(struct udk_msg_move));
                break;
        case UDK_MSG_PEER_READY:
                require(len == sizeof(struct udk_msg_peer));
                break;
        case UDK_MSG_DRIVER_CONTROL:
                require(len == sizeof(struct udk_msg_driver_control));
                break;
        case UDK_MSG_PING:
        case UDK_MSG_PERSONALITIES:
                require(len == sizeof(struct udk_msg_header));
                break;
        default:
                require(!"udk_msg_check let a server-bound message of an unknown type through");
        }
}

/* What a client reads of an answer or event (clients/lib). */
static void read_answer(const void *buf, size_t len, unsigned n_fds)
{
        const struct udk_msg_header *h = buf;

        switch (h->type) {
        case UDK_MSG_REPLY: {
                const struct udk_msg_reply *m = buf;
                require(len == sizeof(*m));
                read_string(m->message, sizeof(m->message));
                break;
        }
        case UDK_MSG_WELCOME: {
                const struct udk_msg_welcome *m = buf;
                require(len == sizeof(*m));
                read_string(m->server, sizeof(m->server));
                break;
        }
        case UDK_MSG_OBJECT:
        case UDK_MSG_EVENT_ADDED:
        case UDK_MSG_EVENT_CHANGED:
                read_object(buf, len);
                break;
        case UDK_MSG_STATS_NODE: {
                const struct udk_msg_stats_node *m = buf;
                require(len == sizeof(*m));
                read_string(m->name, sizeof(m->name));
                break;
        }
        case UDK_MSG_EVENT_NODE_STATE: {
                const struct udk_msg_node_state *m = buf;
                require(len == sizeof(*m));
                read_string(m->reason, sizeof(m->reason));
                break;
        }
        case UDK_MSG_TEXT: {
                const struct udk_msg_text *m = buf;
                require(len == sizeof(*m));
                read_string(m->text, sizeof(m->text));
                break;
        }
        case UDK_MSG_EVENT_CLOSED: {
                const struct udk_msg_closed *m = buf;
                require(len == sizeof(*m));
                read_string(m->reason, sizeof(m->reason));
                break;
        }
        case UDK_MSG_MATCH_CANDIDATE: {
                const struct udk_msg_match_candidate *m = buf;
                require(len == sizeof(*m));
                read_string(m->name, sizeof(m->name));
                read_string(m->why, sizeof(m->why));
                break;
        }
        case UDK_MSG_CALL_RESULT: {
                /* clients/lib/drivers.c's call_data: the result, then its structure. */
                const struct udk_msg_call_result *m = buf;
                struct udk_msg_call_result result;
                uint8_t copy[UDK_CALL_STRUCT_MAX];
                require(m->n_scalars <= UDK_CALL_SCALARS_MAX && m->struct_size <= UDK_CALL_STRUCT_MAX);
                require(m->reserved == 0);
                require(len == udk_msg_call_result_size(m->struct_size));
                memcpy(&result, m, sizeof(result));
                memcpy(copy, m->data, m->struct_size);
                sink += result.n_scalars + (m->struct_size ? copy[0] : 0);
                break;
        }
        case UDK_MSG_OPENED:
                require(len == sizeof(struct udk_msg_opened) && n_fds == 3);
                break;
        case UDK_MSG_EVENT_PEER_ADDED:
                require(len == sizeof(struct udk_msg_peer) && n_fds == 1);
                break;
        case UDK_MSG_EVENT_PEER_REMOVED:
                require(len == sizeof(struct udk_msg_peer));
                break;
        case UDK_MSG_EVENT_REMOVED:
                require(len == sizeof(struct udk_msg_object_ref));
                break;
        case UDK_MSG_STATS_DEVICE:
                require(len == sizeof(struct udk_msg_stats_device));
                break;
        default:
                require(!"udk_msg_check let a client-bound message of an unknown type through");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bool server_side;
        unsigned n_fds;
        void *buf;
        size_t len;
        int r;

        if (!fuzz_frame(data, size, &server_side, &n_fds, &buf, &len))
                return 0;

        r = fuzz_check(udk_msg_check, buf, len, n_fds, server_side);
        if (r == 0) {
                const struct udk_msg_header *h = buf;

                require(h->size == len && h->reserved == 0);
                sink += strlen(udk_msg_type_name(h->type));
                if (server_side)
                        read_request(buf, len);
                else
                        read_answer(buf, len, n_fds);
        }
        free(buf);
        return 0;
}
