/* SPDX-License-Identifier: MIT */
/*
 * A pci nub's files, opened by udkd for the driver bound to it (the
 * driver's sandbox opens nothing by name), in an order that udkd names in
 * the START message's "fds" property (docs/families.md#pci):
 *
 *   VFIO   "vfio vfio-container": the function's VFIO device (config
 *          space, every BAR and the interrupts through it) and the
 *          container its IOMMU group is in (for DMA mappings);
 *   sysfs  "config", then "barN" for each memory BAR and "ioN" for each
 *          I/O-port BAR the function's resource file lists (its resourceN),
 *          then "uio" when a UIO driver (uio_pci_generic) is bound to it:
 *          its /dev/uioN, checked against uio/uioN/dev.
 *
 * VFIO when /dev/vfio/vfio, the function's iommu_group and /dev/vfio/GROUP
 * all exist, else sysfs; one info line says which and why.  Only for the
 * nubs the driver bound to udkd's root-pci nub published, from the nub's
 * "slot" checked to be DDDD:BB:DD.F; the files in the function's directory
 * are opened O_NOFOLLOW: no other bus driver can make udkd open a PCI
 * function's registers, and no bus driver any other file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define PCI_BARS          6u
#define IORESOURCE_IO     0x100ull /* the kernel's include/linux/ioport.h, as sysfs shows them */
#define IORESOURCE_MEM    0x200ull
#define RESOURCE_TEXT_MAX 4096u

/* DDDD:BB:DD.F, lower-case hex, function 0..7: the kernel's names in /sys/bus/pci/devices. */
static bool slot_is_pci(const char *s)
{
        static const char form[] = "xxxx:xx:xx.x";

        if (strlen(s) != sizeof(form) - 1)
                return false;
        for (size_t i = 0; form[i]; i++) {
                bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');

                if (form[i] == 'x' ? !hex : s[i] != form[i])
                        return false;
        }
        return s[11] <= '7';
}

static bool published_by_pci_bus(const struct server_nub *nub)
{
        const struct server_driver *bus = nub->publisher;

        return bus && bus->nub && !bus->nub->publisher && bus->nub->family == UDKD_FAMILY_ROOT &&
               strcmp(bus->nub->name, "root-pci") == 0;
}

/* "0x" and 1..16 hex digits at *@p, then *@p past them: 0 or -EINVAL. */
static int hex_take(const char **p, unsigned long long *ret)
{
        const char *s = *p;
        unsigned long long v = 0;
        size_t n = 0;

        if (s[0] != '0' || s[1] != 'x')
                return -EINVAL;
        for (s += 2; n < 17; s++, n++) {
                unsigned d = *s >= '0' && *s <= '9'   ? (unsigned)(*s - '0')
                             : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10)
                                                      : 16u;
                if (d == 16)
                        break;
                v = v << 4 | d;
        }
        if (n == 0 || n > 16)
                return -EINVAL;
        *p = s;
        *ret = v;
        return 0;
}

/*
 * The flags of BARs 0..5 from the function's resource file: one "0xSTART
 * 0xEND 0xFLAGS" line per resource, BARs first; an unused BAR's line is
 * zeros.  0, else -errno or -EINVAL (a line that is not three numbers).
 */
static int resource_flags(int dfd, unsigned long long flags[PCI_BARS])
{
        char text[RESOURCE_TEXT_MAX + 1];
        const char *p = text;
        ssize_t n;
        int r, fd = openat(dfd, "resource", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        n = read(fd, text, RESOURCE_TEXT_MAX);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return r;
        text[n] = '\0';
        for (unsigned i = 0; i < PCI_BARS; i++) {
                unsigned long long start, end;

                if (hex_take(&p, &start) < 0 || *p++ != ' ' || hex_take(&p, &end) < 0 || *p++ != ' ' ||
                    hex_take(&p, &flags[i]) < 0 || *p++ != '\n')
                        return -EINVAL;
                if (start == 0 && end == 0)
                        flags[i] = 0;
        }
        return 0;
}

static void names_add(char *names, size_t size, const char *name)
{
        size_t len = strlen(names);

        snprintf(names + len, size - len, "%s%s", len ? " " : "", name);
}

/* "MAJOR:MINOR" and a newline (the kernel's; umockdev's has none), as a dev attribute reads: 0 or
 * -EINVAL. */
static int majmin_parse(char *text, unsigned *ret_major, unsigned *ret_minor)
{
        char *colon = strchr(text, ':'), *nl = strchr(text, '\n');
        int64_t maj, min;

        if (!colon || (nl && nl[1]))
                return -EINVAL;
        *colon = '\0';
        if (nl)
                *nl = '\0';
        if (udk_parse_int64(text, 0, UINT32_MAX, &maj) < 0 ||
            udk_parse_int64(colon + 1, 0, UINT32_MAX, &min) < 0)
                return -EINVAL;
        *ret_major = (unsigned)maj;
        *ret_minor = (unsigned)min;
        return 0;
}

/* The UIO node of the function's uio/uioN child, when a UIO driver is bound: its fd, -ENOENT without one,
 * else an error with @why. */
static int uio_open(int dfd, const char *slot, char *why, size_t why_size)
{
        char name[32] = "", dev[32], node[48];
        unsigned maj, min;
        struct dirent *e;
        struct stat st, fst;
        DIR *dir;
        int fd, sub, r;
        ssize_t n;

        sub = openat(dfd, "uio", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == ENOENT)
                return -ENOENT;
        dir = sub < 0 ? NULL : fdopendir(sub);
        if (!dir) {
                snprintf(why, why_size, "%s: uio: %s", slot, strerror(errno));
                if (sub >= 0)
                        close(sub);
                return -ENODEV;
        }
        while ((e = readdir(dir)))
                if (strncmp(e->d_name, "uio", 3) == 0 && e->d_name[3] &&
                    strspn(e->d_name + 3, "0123456789") == strlen(e->d_name + 3) && strlen(e->d_name) < 16)
                        snprintf(name, sizeof(name), "%s", e->d_name);
        snprintf(dev, sizeof(dev), "%s/dev", name);
        fd = name[0] ? openat(dirfd(dir), dev, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
        r = fd < 0 ? errno : 0;
        closedir(dir);
        if (!name[0])
                return -ENOENT;
        if (fd < 0) {
                snprintf(why, why_size, "%s: uio/%s: %s", slot, dev, strerror(r));
                return -ENODEV;
        }
        n = read(fd, dev, sizeof(dev) - 1);
        close(fd);
        dev[n > 0 ? n : 0] = '\0';
        if (majmin_parse(dev, &maj, &min) < 0) {
                snprintf(why, why_size, "%s: uio/%s/dev is not MAJOR:MINOR", slot, name);
                return -ENODEV;
        }
        snprintf(node, sizeof(node), "/dev/%s", name);
        /* Another node under that name is not this function's: its number first, then that the open one
         * is the file that was looked at. */
        if (stat(node, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(maj, min)) {
                snprintf(why, why_size, "%s: %s is not the character device %u:%u of uio/%s", slot, node,
                         maj, min, name);
                return -ENODEV;
        }
        fd = open(node, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, why_size, "%s: %s: %s", slot, node, strerror(errno));
                return r;
        }
        if (fstat(fd, &fst) < 0 || !S_ISCHR(fst.st_mode) || fst.st_dev != st.st_dev ||
            fst.st_ino != st.st_ino) {
                close(fd);
                snprintf(why, why_size, "%s: %s changed while udkd opened it", slot, node);
                return -ENODEV;
        }
        return fd;
}

/* config read-write where udkd may (root), else read-only (the kernel then shows the first 64 bytes), the
 * BARs, the UIO node. */
static int sysfs_open(int dfd, const char *slot, int *fds, unsigned max, char *names, size_t names_size,
                      char *why, size_t why_size)
{
        unsigned long long flags[PCI_BARS] = { 0 };
        char file[16];
        unsigned n = 0;
        int r;

        fds[0] = openat(dfd, "config", O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fds[0] < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
                fds[0] = openat(dfd, "config", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fds[0] < 0) {
                r = -errno;
                snprintf(why, why_size, "/sys/bus/pci/devices/%s/config: %s", slot, strerror(errno));
                return r;
        }
        n = 1;
        names_add(names, names_size, "config");
        r = resource_flags(dfd, flags);
        if (r < 0 && r != -ENOENT) {
                snprintf(why, why_size, "/sys/bus/pci/devices/%s/resource: %s", slot,
                         r == -EINVAL ? "not six lines of 0xSTART 0xEND 0xFLAGS" : strerror(-r));
                goto fail;
        }
        for (unsigned i = 0; i < PCI_BARS; i++) {
                bool io = flags[i] & IORESOURCE_IO;

                if (!(flags[i] & (IORESOURCE_IO | IORESOURCE_MEM)))
                        continue;
                if (n == max) {
                        r = -ENOBUFS;
                        snprintf(why, why_size, "%s: more BARs than udkd hands a driver", slot);
                        goto fail;
                }
                snprintf(file, sizeof(file), "resource%u", i);
                fds[n] = openat(dfd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fds[n] < 0) {
                        r = -errno;
                        snprintf(why, why_size, "/sys/bus/pci/devices/%s/%s: %s", slot, file,
                                 strerror(errno));
                        goto fail;
                }
                n++;
                snprintf(file, sizeof(file), "%s%u", io ? "io" : "bar", i);
                names_add(names, names_size, file);
        }
        r = uio_open(dfd, slot, why, why_size);
        if (r >= 0 && n < max) {
                fds[n++] = r;
                names_add(names, names_size, "uio");
        } else if (r >= 0) {
                close(r);
                udk_warn("%s: no descriptor left for its UIO node: no interrupts", slot);
        } else if (r != -ENOENT)
                udk_warn("%s: no interrupts", why);
        why[0] = '\0';
        return (int)n;
fail:
        while (n > 0)
                close(fds[--n]);
        names[0] = '\0';
        return r;
}

int udkd_nub_pci_files_open(const struct server_nub *nub, int *fds, unsigned max, char *names,
                            size_t names_size, char *why, size_t why_size)
{
        const char *slot = NULL;
        char dir[64], reason[160];
        int dfd, r;

        names[0] = '\0';
        for (uint32_t i = 0; i < nub->n_props; i++)
                if (strcmp(nub->props[i].key, "slot") == 0)
                        slot = nub->props[i].value;
        if (!slot)
                return 0;
        if (!slot_is_pci(slot)) {
                snprintf(why, why_size, "slot %s is not a DDDD:BB:DD.F PCI function", slot);
                return -EPERM;
        }
        if (!published_by_pci_bus(nub)) {
                snprintf(why, why_size, "slot %s: its nub is not the pci bus driver's", slot);
                return -EPERM;
        }
        if (max < 2)
                return -ENOBUFS;
        /* The directory is a symlink into /sys/devices; the files in it may not be. */
        snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", slot);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = -errno;
                snprintf(why, why_size, "%s: %s", dir, strerror(errno));
                return r;
        }
        r = udkd_nub_vfio_open(dfd, slot, fds, reason, sizeof(reason));
        if (r >= 0) {
                udk_info("%s: VFIO (%s)", slot, reason);
                snprintf(names, names_size, "vfio vfio-container");
        } else if (r == -ENOENT) {
                udk_info("%s: sysfs resource files and UIO, not VFIO: %s", slot, reason);
                r = sysfs_open(dfd, slot, fds, max, names, names_size, why, why_size);
        } else
                snprintf(why, why_size, "%s: VFIO: %s", slot, reason);
        close(dfd);
        return r;
}
