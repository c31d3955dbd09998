/* SPDX-License-Identifier: MIT */
/*
 * A nub's properties as a bus driver gathers them before
 * udk_driver_publish_nub(): keys it names, values it formats into room of
 * its own.  What the hid, pci and usb bus drivers share.
 */
#ifndef UDK_FAMILIES_BUS_PROPS_H
#define UDK_FAMILIES_BUS_PROPS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <udk/driver.h>

#define BUS_PROPS_MAX      16u /* udkd's limit on a nub's properties */
#define BUS_PROP_VALUE_MAX 96u /* udkd's UDK_DPROP_VALUE_MAX, its NUL included */

struct bus_props {
        struct udk_nub_property p[BUS_PROPS_MAX];
        char values[BUS_PROPS_MAX][BUS_PROP_VALUE_MAX];
        size_t n;
};

/* One more property, its value printf'd (cut at BUS_PROP_VALUE_MAX - 1 bytes); none past the limit. */
__attribute__((format(printf, 3, 4))) static inline void bus_props_add(struct bus_props *props,
                                                                       const char *key, const char *fmt, ...)
{
        va_list ap;

        if (props->n >= BUS_PROPS_MAX)
                return;
        va_start(ap, fmt);
        vsnprintf(props->values[props->n], BUS_PROP_VALUE_MAX, fmt, ap);
        va_end(ap);
        props->p[props->n] = (struct udk_nub_property){ key, props->values[props->n] };
        props->n++;
}

/* A value udkd takes: printable ASCII (others become '?'), at most BUS_PROP_VALUE_MAX - 1 bytes (a
 * longer text is cut); none for a NULL or empty @text. */
static inline void bus_props_add_text(struct bus_props *props, const char *key, const char *text)
{
        char clean[BUS_PROP_VALUE_MAX];
        size_t n = 0;

        for (; text && *text && n < BUS_PROP_VALUE_MAX - 1; text++)
                clean[n++] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
        clean[n] = '\0';
        if (n)
                bus_props_add(props, key, "%s", clean);
}

#endif
