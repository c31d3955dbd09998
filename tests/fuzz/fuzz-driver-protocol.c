/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the driver protocol's decoding, both ways.  The input
 * is one byte of framing, then the packet:
 *
 *   byte 0, bit 0    1: udkd receives it from a driver host, 0: a host from udkd
 *   byte 0, bits 1-3 descriptors said to be attached, 0..7
 *
 * The packet is copied into a buffer of exactly its size (ASan catches any
 * read past it) and checked with udk_dmsg_check().  A message that passes is
 * read the way its receiver reads it: udkd (server/driver-messages.c) checks
 * a PUBLISH_NUB with udkd_nub_message_check() and parses a DEVICE_CREATE's
 * text with udkd_config_parse_device(); a host (driverkit/lib/driver.c)
 * splits a START's properties into the nub's and the personality's.  The
 * target aborts when the check lets through what a receiver relies on being
 * refused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udk/driver-protocol.h>
#include <udk/util.h>

#include "config.h"
#include "nub-message.h"
#include "fuzz-common.h"

static void read_props(const struct udk_dprop *props, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++) {
                read_string(props[i].key, sizeof(props[i].key));
                require(props[i].key[0] != '\0');
                read_string(props[i].value, sizeof(props[i].value));
        }
}

static void read_call_data(const uint8_t *bytes, uint32_t struct_size)
{
        uint8_t copy[UDK_CALL_STRUCT_MAX];

        require(struct_size <= UDK_CALL_STRUCT_MAX);
        memcpy(copy, bytes, struct_size);
        sink += struct_size ? copy[struct_size - 1] : 0;
}

/* udkd's side: server/driver-messages.c and what it calls. */
static void read_from_host(const void *buf, size_t len)
{
        const struct udk_msg_header *h = buf;
        char err[UDKD_CONFIG_ERR_MAX];

        switch (h->type) {
        case UDK_DMSG_READY: {
                const struct udk_dmsg_ready *m = buf;
                require(len == sizeof(*m));
                read_string(m->driver, sizeof(m->driver));
                break;
        }
        case UDK_DMSG_STARTED:
        case UDK_DMSG_STOPPED: {
                const struct udk_dmsg_status *m = buf;
                require(len == sizeof(*m));
                read_string(m->message, sizeof(m->message));
                break;
        }
        case UDK_DMSG_CALL_REPLY: {
                const struct udk_dmsg_call_reply *m = buf;
                require(m->n_scalars <= UDK_CALL_SCALARS_MAX);
                require(len == udk_dmsg_call_reply_size(m->struct_size));
                read_call_data(m->data, m->struct_size);
                break;
        }
        case UDK_DMSG_PUBLISH_NUB: {
                const struct udk_dmsg_nub *m = buf;
                enum udkd_family family;
                int r;

                require(m->n_props <= UDK_DPROPS_MAX && len == udk_dmsg_nub_size(m->n_props));
                read_string(m->family, sizeof(m->family));
                read_string(m->name, sizeof(m->name));
                read_props(m->props, m->n_props);
                err[0] = '\0';
                r = udkd_nub_message_check(m, &family, err, sizeof(err));
                require(r == 0 || r == -EINVAL || r == -E2BIG);
                require(r == 0 || (err[0] != '\0' && memchr(err, '\0', sizeof(err))));
                if (r == 0) {
                        require(family != UDKD_FAMILY_ROOT && udkd_family_name(family) != NULL);
                        require(m->n_props <= UDKD_NUB_PROPS_MAX);
                }
                break;
        }
        case UDK_DMSG_REMOVE_NUB:
                require(len == sizeof(struct udk_dmsg_nub_ref));
                break;
        case UDK_DMSG_DEVICE_CREATE: {
                /* server/driver-devices.c: the text, its NUL left out, as a [device] section's body. */
                const struct udk_dmsg_device *m = buf;
                struct udkd_config cfg;
                int r;

                require(m->text_size >= 1 && m->text_size <= UDK_DEVICE_TEXT_MAX);
                require(len == udk_dmsg_device_size(m->text_size));
                require(m->text[m->text_size - 1] == '\0');
                udkd_config_init(&cfg);
                err[0] = '\0';
                r = udkd_config_parse_device(&cfg, "device text", m->text, m->text_size - 1, err, sizeof(err));
                if (r == 0) {
                        require(cfg.n_devices == 1);
                        read_string(cfg.devices[0].cfg.name, sizeof(cfg.devices[0].cfg.name));
                } else {
                        require(cfg.n_devices == 0 && err[0] != '\0');
                }
                udkd_config_finish(&cfg);
                break;
        }
        case UDK_DMSG_CONTROL_ADD: {
                const struct udk_dmsg_control_add *m = buf;
                require(len == sizeof(*m));
                read_string(m->name, sizeof(m->name));
                break;
        }
        case UDK_DMSG_CONTROL_SET: {
                const struct udk_dmsg_control *m = buf;
                require(len == sizeof(*m));
                read_string(m->control, sizeof(m->control));
                read_string(m->value, sizeof(m->value));
                break;
        }
        case UDK_DMSG_LOG: {
                const struct udk_dmsg_log *m = buf;
                require(len == sizeof(*m));
                read_string(m->text, sizeof(m->text));
                break;
        }
        case UDK_DMSG_PONG:
                require(len == sizeof(struct udk_msg_header));
                break;
        default:
                require(!"udk_dmsg_check let a udkd-bound message of another type through");
        }
}

/* The host's side: driverkit/lib/driver.c. */
static void read_from_udkd(const void *buf, size_t len, unsigned n_fds)
{
        const struct udk_msg_header *h = buf;

        switch (h->type) {
        case UDK_DMSG_START: {
                const struct udk_dmsg_start *m = buf;
                struct udk_dprop nub_props[UDK_DPROPS_MAX], personality_props[UDK_DPROPS_MAX];
                char name[UDK_OBJECT_NAME_MAX], family[UDK_FAMILY_NAME_MAX];
                uint32_t n_personality;

                require(m->n_props <= UDK_DPROPS_MAX && len == udk_dmsg_start_size(m->n_props));
                require(m->n_nub_props <= m->n_props && m->n_fds == n_fds);
                read_string(m->personality, sizeof(m->personality));
                read_string(m->class_name, sizeof(m->class_name));
                read_string(m->family, sizeof(m->family));
                read_string(m->nub_name, sizeof(m->nub_name));
                read_props(m->props, m->n_props);
                /* driver_start's split and copies. */
                udk_strlcpy(name, m->nub_name, sizeof(name));
                udk_strlcpy(family, m->family, sizeof(family));
                memcpy(nub_props, m->props, sizeof(m->props[0]) * m->n_nub_props);
                n_personality = m->n_props - m->n_nub_props;
                memcpy(personality_props, m->props + m->n_nub_props, sizeof(m->props[0]) * n_personality);
                sink += strlen(name) + strlen(family) + n_personality;
                break;
        }
        case UDK_DMSG_CALL: {
                const struct udk_dmsg_call *m = buf;
                require(m->n_scalars <= UDK_CALL_SCALARS_MAX && m->struct_out_max <= UDK_CALL_STRUCT_MAX);
                require(len == udk_dmsg_call_size(m->struct_size));
                read_call_data(m->data, m->struct_size);
                break;
        }
        case UDK_DMSG_CONTROL_CHANGED: {
                const struct udk_dmsg_control *m = buf;
                require(len == sizeof(*m));
                read_string(m->control, sizeof(m->control));
                read_string(m->value, sizeof(m->value));
                break;
        }
        case UDK_DMSG_REPLY: {
                const struct udk_dmsg_reply *m = buf;
                require(len == sizeof(*m));
                read_string(m->message, sizeof(m->message));
                break;
        }
        case UDK_DMSG_STOP:
        case UDK_DMSG_PING:
                require(len == sizeof(struct udk_msg_header));
                break;
        default:
                require(!"udk_dmsg_check let a host-bound message of another type through");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bool from_host;
        unsigned n_fds;
        void *buf;
        size_t len;
        int r;

        if (!fuzz_frame(data, size, &from_host, &n_fds, &buf, &len))
                return 0;

        r = fuzz_check(udk_dmsg_check, buf, len, n_fds, from_host);
        if (r == 0) {
                const struct udk_msg_header *h = buf;

                require(h->size == len && h->reserved == 0);
                require(h->type == UDK_DMSG_START || n_fds == 0);
                sink += strlen(udk_dmsg_type_name(h->type));
                if (from_host)
                        read_from_host(buf, len);
                else
                        read_from_udkd(buf, len, n_fds);
        }
        free(buf);
        return 0;
}
