/* SPDX-License-Identifier: MIT */
/*
 * A PCI function's VFIO device for its driver (linux/vfio.h, the type-1
 * IOMMU container API): udkd opens the container and the function's
 * group, puts the group in the container with an IOMMU, takes the device's
 * descriptor by its slot and closes the group again (the device holds it),
 * so that the driver gets this one function and not the group's others.
 * Not exercised by the tests: they run without an IOMMU (docs/families.md#pci).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "server-private.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

/* The function's IOMMU group number (the iommu_group link's last part), when VFIO can have it. */
static int vfio_group_of(int dfd, char *group, size_t size, char *reason, size_t reason_size)
{
        char target[PATH_MAX], node[64];
        const char *base;
        ssize_t len;

        if (access(VFIO_CONTAINER, F_OK) < 0) {
                snprintf(reason, reason_size, "no %s (the vfio module is not loaded)", VFIO_CONTAINER);
                return -ENOENT;
        }
        len = readlinkat(dfd, "iommu_group", target, sizeof(target) - 1);
        if (len <= 0) {
                snprintf(reason, reason_size, "the function has no IOMMU group (no IOMMU)");
                return -ENOENT;
        }
        target[len] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!base[0] || strlen(base) >= size || strspn(base, "0123456789") != strlen(base)) {
                snprintf(reason, reason_size, "IOMMU group '%.32s' is not a number", base);
                return -ENOENT;
        }
        snprintf(node, sizeof(node), "/dev/vfio/%s", base);
        if (access(node, F_OK) < 0) {
                snprintf(reason, reason_size,
                         "IOMMU group %s has no %s (the function is not bound to vfio-pci)", base, node);
                return -ENOENT;
        }
        snprintf(group, size, "%s", base);
        return 0;
}

int udkd_nub_vfio_open(int dfd, const char *slot, int *fds, char *reason, size_t reason_size)
{
        struct vfio_group_status status = { .argsz = sizeof(status) };
        char group[16], node[64];
        int container, g, device, api, iommu, r;

        r = vfio_group_of(dfd, group, sizeof(group), reason, reason_size);
        if (r < 0)
                return r;
        container = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
        if (container < 0) {
                r = -errno;
                snprintf(reason, reason_size, "%s: %s", VFIO_CONTAINER, strerror(errno));
                return r;
        }
        snprintf(node, sizeof(node), "/dev/vfio/%s", group);
        g = open(node, O_RDWR | O_CLOEXEC);
        if (g < 0) {
                r = -errno;
                snprintf(reason, reason_size, "%s: %s", node, strerror(errno));
                close(container);
                return r;
        }
        api = ioctl(container, VFIO_GET_API_VERSION);
        iommu = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU
                                                                               : VFIO_TYPE1_IOMMU;
        if (api != VFIO_API_VERSION) {
                r = api < 0 ? -ENOTTY : -EPROTO;
                snprintf(reason, reason_size, "%s %s", VFIO_CONTAINER,
                         api < 0 ? "is not a VFIO container" : "speaks another API version");
        } else if (ioctl(container, VFIO_CHECK_EXTENSION, iommu) <= 0) {
                r = -EOPNOTSUPP;
                snprintf(reason, reason_size, "%s has no type-1 IOMMU", VFIO_CONTAINER);
        } else if (ioctl(g, VFIO_GROUP_GET_STATUS, &status) < 0 ||
                   !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
                r = -EBUSY;
                snprintf(reason, reason_size,
                         "IOMMU group %s is not viable (bind every function in it to vfio-pci)", group);
        } else if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
                   ioctl(container, VFIO_SET_IOMMU, iommu) < 0) {
                r = -errno;
                snprintf(reason, reason_size, "IOMMU group %s: %s", group, strerror(errno));
        } else if ((device = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, slot)) < 0) {
                r = -errno;
                snprintf(reason, reason_size, "IOMMU group %s: device %s: %s", group, slot, strerror(errno));
        } else {
                fds[0] = device;
                fds[1] = container;
                snprintf(reason, reason_size, "IOMMU group %s", group);
                close(g);
                return 2;
        }
        close(g);
        close(container);
        return r;
}
