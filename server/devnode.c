/* SPDX-License-Identifier: MIT */
/*
 * Device nodes: udkd opens a nub's device node for the driver bound to it
 * and hands it over in START, so that a device driver reaches its device
 * and nothing else.  A bus driver names the node (the nub's `devnode`
 * property) but never opens it, and udkd does not take its word for what
 * the node is: each family says which nodes it may name, checked before
 * the open (opening some nodes has effects of its own) and again on the
 * open descriptor.
 *
 *   serial  a tty: a character device under /dev whose sysfs entry
 *           (/sys/dev/char/MAJOR:MINOR/subsystem) is tty, or a
 *           pseudo-terminal's slave (majors 136-143, which sysfs does not
 *           list); opened read-write, O_NOCTTY | O_NONBLOCK.
 *
 * Other families' nubs get no device node yet (their families add theirs).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <udk/util.h>

#include "server-private.h"

#define PTY_SLAVE_MAJOR_FIRST 136 /* UNIX98_PTY_SLAVE_MAJOR, 8 majors */
#define PTY_SLAVE_MAJOR_LAST  143

static const char *nub_devnode(const struct server_nub *n)
{
        for (uint32_t i = 0; i < n->n_props; i++)
                if (strcmp(n->props[i].key, "devnode") == 0)
                        return n->props[i].value;
        return NULL;
}

/* Is the character device @rdev a tty, by sysfs's word (or a pty slave's major)? */
static bool is_tty(dev_t rdev)
{
        char link[64], target[PATH_MAX];
        ssize_t len;
        const char *base;

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

int udkd_nub_devnode_open(const struct server_nub *n, char *err, size_t err_size)
{
        const char *path = nub_devnode(n);
        struct stat st, fst;
        int fd;

        if (!path)
                return -ENOENT;
        if (n->family != UDKD_FAMILY_SERIAL) {
                snprintf(err, err_size, "device node %s: udkd opens none for family %s", path,
                         udkd_family_name(n->family));
                return -EPERM;
        }
        if (strncmp(path, "/dev/", 5) != 0 || strstr(path, "/../") || strstr(path, "/./")) {
                snprintf(err, err_size, "device node '%s' is not a path under /dev", path);
                return -EPERM;
        }
        if (stat(path, &st) < 0) {
                snprintf(err, err_size, "device node %s: %s", path, strerror(errno));
                return -errno;
        }
        if (!S_ISCHR(st.st_mode) || !is_tty(st.st_rdev)) {
                snprintf(err, err_size, "device node %s is not a tty (family serial hands ttys only)", path);
                return -EPERM;
        }
        fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, err_size, "device node %s: %s", path, strerror(errno));
                return -errno;
        }
        /* Renamed or replaced between the two looks: not the node that was checked. */
        if (fstat(fd, &fst) < 0 || !S_ISCHR(fst.st_mode) || fst.st_rdev != st.st_rdev || !isatty(fd)) {
                close(fd);
                snprintf(err, err_size, "device node %s changed while udkd opened it", path);
                return -EPERM;
        }
        return fd;
}
