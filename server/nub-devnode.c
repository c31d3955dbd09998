/* SPDX-License-Identifier: MIT */
/*
 * A nub's device node, opened by udkd for the driver bound to it: the
 * driver's sandbox lets it open nothing by name, so udkd hands the node
 * as the nub's first descriptor.  Only the families that have nodes, and
 * only their own kind of node: a bus driver cannot make udkd open any
 * other file.
 *
 *   hid     /dev/hidrawN
 *   usb     /dev/bus/usb/BBB/DDD
 *   serial  a tty: a character device under /dev whose sysfs entry
 *           (/sys/dev/char/MAJOR:MINOR/subsystem) is tty, or a
 *           pseudo-terminal's slave (majors 136-143, which sysfs does not
 *           list), checked before the open (opening some nodes has
 *           effects of its own) and again on the open descriptor.
 *
 * A pci nub has no node: udkd opens its config space, BARs and interrupt
 * node instead (nub-pci.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "server-private.h"

#define PTY_SLAVE_MAJOR_FIRST 136 /* UNIX98_PTY_SLAVE_MAJOR, 8 majors */
#define PTY_SLAVE_MAJOR_LAST  143

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

/* /dev/bus/usb/BBB/DDD: three digits each, as udev names them. */
static bool devnode_is_usb(const char *path)
{
        const char *n = path + strlen("/dev/bus/usb/");

        if (strncmp(path, "/dev/bus/usb/", strlen("/dev/bus/usb/")) != 0 || strlen(n) != 7 || n[3] != '/')
                return false;
        for (unsigned i = 0; i < 7; i++)
                if (i != 3 && (n[i] < '0' || n[i] > '9'))
                        return false;
        return true;
}

/* Is the character device @rdev a tty, by sysfs's word (or a pty slave's major)? */
static bool rdev_is_tty(dev_t rdev)
{
        char link[64], target[PATH_MAX];
        const char *base;
        ssize_t len;

        if (major(rdev) >= PTY_SLAVE_MAJOR_FIRST && major(rdev) <= PTY_SLAVE_MAJOR_LAST)
                return true;
        snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem", major(rdev), minor(rdev));
        len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
                return false;
        target[len] = '\0';
        base = strrchr(target, '/');
        return strcmp(base ? base + 1 : target, "tty") == 0;
}

static int devnode_open_tty(const char *devnode, char *why, size_t why_size)
{
        struct stat st, fst;
        int fd;

        if (strncmp(devnode, "/dev/", 5) != 0 || strstr(devnode, "/../") || strstr(devnode, "/./")) {
                snprintf(why, why_size, "devnode %s is not a path under /dev", devnode);
                return -EPERM;
        }
        if (stat(devnode, &st) < 0) {
                int r = -errno;
                snprintf(why, why_size, "devnode %s: %s", devnode, strerror(errno));
                return r;
        }
        if (!S_ISCHR(st.st_mode) || !rdev_is_tty(st.st_rdev)) {
                snprintf(why, why_size, "devnode %s is not a tty", devnode);
                return -EPERM;
        }
        fd = open(devnode, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                snprintf(why, why_size, "devnode %s: %s", devnode, strerror(errno));
                return r;
        }
        /* Replaced between the two looks: not the node that was checked. */
        if (fstat(fd, &fst) < 0 || !S_ISCHR(fst.st_mode) || fst.st_rdev != st.st_rdev || !isatty(fd)) {
                close(fd);
                snprintf(why, why_size, "devnode %s changed while udkd opened it", devnode);
                return -EPERM;
        }
        return fd;
}

int udkd_nub_devnode_open(const struct server_nub *nub, char *why, size_t why_size)
{
        const char *devnode = NULL;
        int fd;

        if (nub->family != UDKD_FAMILY_HID && nub->family != UDKD_FAMILY_USB &&
            nub->family != UDKD_FAMILY_SERIAL)
                return -ENOENT;
        for (uint32_t i = 0; i < nub->n_props; i++)
                if (strcmp(nub->props[i].key, "devnode") == 0)
                        devnode = nub->props[i].value;
        if (!devnode)
                return -ENOENT;
        if (nub->family == UDKD_FAMILY_SERIAL)
                return devnode_open_tty(devnode, why, why_size);
        if (nub->family == UDKD_FAMILY_USB && !devnode_is_usb(devnode)) {
                snprintf(why, why_size, "devnode %s is not a /dev/bus/usb/BBB/DDD node", devnode);
                return -EPERM;
        }
        if (nub->family == UDKD_FAMILY_HID && !devnode_is_hidraw(devnode)) {
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

int udkd_nub_files_open(const struct server_nub *nub, int *fds, unsigned max, char *names, size_t names_size,
                        char *why, size_t why_size)
{
        int r;

        names[0] = '\0';
        if (nub->family == UDKD_FAMILY_PCI)
                return udkd_nub_pci_files_open(nub, fds, max, names, names_size, why, why_size);
        if (max < 1)
                return -ENOBUFS;
        r = udkd_nub_devnode_open(nub, why, why_size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        fds[0] = r;
        return 1;
}
