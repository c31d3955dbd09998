/* SPDX-License-Identifier: MIT */
/* A PUBLISH_NUB's own checks (nub-message.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <udk/object.h>

#include "ini.h"
#include "nub-message.h"

int udkd_nub_message_check(const struct udk_dmsg_nub *m, enum udkd_family *ret_family, char *err,
                           size_t err_size)
{
        enum udkd_family family;

        if (udkd_family_from_name(m->family, &family) < 0 || family == UDKD_FAMILY_ROOT) {
                snprintf(err, err_size, "nub '%s': unknown family '%s' (test, usb, pci, hid, serial)", m->name,
                         m->family);
                return -EINVAL;
        }
        if (!udkd_ini_name_is_valid(m->name, strlen(m->name))) {
                snprintf(err, err_size, "nub '%s': a bad name (letters, digits, '_', '.', '-'; at most %u)",
                         m->name, UDK_OBJECT_NAME_MAX - 1);
                return -EINVAL;
        }
        if (m->n_props > UDKD_NUB_PROPS_MAX) {
                snprintf(err, err_size, "nub '%s': %" PRIu32 " properties, at most %u", m->name, m->n_props,
                         UDKD_NUB_PROPS_MAX);
                return -E2BIG;
        }
        *ret_family = family;
        return 0;
}
