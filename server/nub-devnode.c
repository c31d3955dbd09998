/* SPDX-License-Identifier: MIT */
/*
 * A nub's device node, opened by udkd for the driver bound to it: the
 * driver's sandbox lets it open nothing by name, so udkd hands the node
 * as the nub's first descriptor.  Only the families that have nodes, and
 * only their own kind of node: a bus driver cannot make udkd open any
 * other file (hid: /dev/hidrawN).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "server-private.h"

/* /dev/hidraw followed by digits alone. */
static bool devnode_is_hidraw(const char *path)
{
        const char *n = path + strlen("/dev/hidraw");

        if (strncmp(path, "/dev/hidraw", strlen("/dev/hidraw")) != 0 || !*n)
                return false;
        for (; *n; n++)
                if (*n < '0' || *n > '9')
                        return false;
        return true;
}

int udkd_nub_devnode_open(const struct server_nub *nub, char *why, size_t why_size)
{
        const char *devnode = NULL;
        int fd;

        if (nub->family != UDKD_FAMILY_HID)
                return -ENOENT;
        for (uint32_t i = 0; i < nub->n_props; i++)
                if (strcmp(nub->props[i].key, "devnode") == 0)
                        devnode = nub->props[i].value;
        if (!devnode)
                return -ENOENT;
        if (!devnode_is_hidraw(devnode)) {
                snprintf(why, why_size, "devnode %s is not a /dev/hidrawN node", devnode);
                return -EPERM;
        }
        fd = open(devnode, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                snprintf(why, why_size, "devnode %s: %s", devnode, strerror(errno));
                return r;
        }
        return fd;
}
