/* SPDX-License-Identifier: MIT */
/* Registry properties as text, and the one-line summary of an object that ls prints. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <udk/util.h>

#include "udkctl.h"

void udkctl_prop_format(const struct udk_prop *prop, char *buf, size_t size)
{
        switch (prop->type) {
        case UDK_PROP_INT:
                snprintf(buf, size, "%" PRId64, prop->i);
                break;
        case UDK_PROP_DOUBLE:
                snprintf(buf, size, "%.6g", prop->d);
                break;
        case UDK_PROP_STRING:
                snprintf(buf, size, "%.*s", (int)UDK_PROP_STRING_MAX, prop->s);
                break;
        case UDK_PROP_BOOL:
                snprintf(buf, size, "%s", prop->i ? "yes" : "no");
                break;
        default:
                snprintf(buf, size, "(type %" PRIu32 ")", prop->type);
                break;
        }
}

int64_t udkctl_prop_int(const struct udk_msg_object *obj, const char *key, int64_t fallback)
{
        const struct udk_prop *p = udk_msg_object_prop(obj, key);

        return p && (p->type == UDK_PROP_INT || p->type == UDK_PROP_BOOL) ? p->i : fallback;
}

const char *udkctl_prop_string(const struct udk_msg_object *obj, const char *key, const char *fallback)
{
        const struct udk_prop *p = udk_msg_object_prop(obj, key);

        return p && p->type == UDK_PROP_STRING ? p->s : fallback;
}

/* The properties that say the most about an object of a class, in order,
 * each written as prefix, value, suffix. */
static const struct {
        const char *klass;
        const char *key;
        const char *prefix;
        const char *suffix;
} summary_keys[] = {
        { "root", "version", "version ", "" },
        { "root", "pid", "pid ", "" },
        { "device", "rate", "", " Hz" },
        { "device", "period", "", " frames" },
        { "device", "input_channels", "", " in" },
        { "device", "output_channels", "", " out" },
        { "device", "format", "", "" },
        { "stream", "channels", "", " ch" },
        { "stream", "latency", "latency ", "" },
        { "control", "value", "", "" },
        { "handler", "plugin", "plugin ", "" },
        { "node", "state", "", "" },
        { "node", "input_channels", "", " in" },
        { "node", "output_channels", "", " out" },
        { "node", "pid", "pid ", "" },
        { "client", "pid", "pid ", "" },
};

void udkctl_object_summary(const struct udk_msg_object *obj, char *buf, size_t size)
{
        size_t len;

        snprintf(buf, size, "<%s, id %" PRIu32, obj->klass, obj->id);
        for (size_t i = 0; i < UDK_ELEMENTSOF(summary_keys); i++) {
                const struct udk_prop *p;
                char value[UDK_PROP_STRING_MAX + 32];

                if (strcmp(summary_keys[i].klass, obj->klass) != 0)
                        continue;
                p = udk_msg_object_prop(obj, summary_keys[i].key);
                if (!p)
                        continue;
                udkctl_prop_format(p, value, sizeof(value));
                len = strlen(buf);
                snprintf(buf + len, size - len, ", %s%s%s", summary_keys[i].prefix, value,
                         summary_keys[i].suffix);
        }
        len = strlen(buf);
        snprintf(buf + len, size - len, ">");
}
