/* SPDX-License-Identifier: MIT */
/*
 * The PCI provider (udk/pci.h): config space and BARs through the files
 * udkd handed and named in the nub's "fds" property, either the sysfs
 * config and resourceN files or the regions of a VFIO device.  Every
 * offset and size is checked against the region's length before it
 * touches the device.  Interrupts are interrupts.c's.
 */
#include <endian.h>
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/pci.h>

#include "provider-private.h"

#define BAR_IO_SPACE 0x1u /* bit 0 of a BAR register: I/O ports */

/* "barN" / "ioN" with N 0..5: its BAR, else -1. */
static int token_bar(const char *t, size_t len, const char *prefix)
{
        size_t p = strlen(prefix);

        if (len != p + 1 || strncmp(t, prefix, p) != 0 || t[p] < '0' || t[p] >= '0' + (int)UDK_PCI_BARS)
                return -1;
        return t[p] - '0';
}

static int fstat_size(int fd, uint64_t *ret)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        *ret = st.st_size > 0 ? (uint64_t)st.st_size : 0;
        return 0;
}

/* The descriptor @fd as "fds" names it (@t, @len bytes): 0, -EINVAL for an unknown or repeated name. */
static int role_take(struct udk_pci_device *dev, const char *t, size_t len, int fd, int *vfio,
                     int *container)
{
        int bar;

        if (len == 6 && strncmp(t, "config", 6) == 0 && dev->config < 0)
                dev->config = fd;
        else if (len == 3 && strncmp(t, "uio", 3) == 0 && dev->uio < 0)
                dev->uio = fd;
        else if (len == 4 && strncmp(t, "vfio", 4) == 0 && *vfio < 0)
                *vfio = fd;
        else if (len == 14 && strncmp(t, "vfio-container", 14) == 0 && *container < 0)
                *container = fd;
        else if ((bar = token_bar(t, len, "bar")) >= 0 && !dev->bars[bar].kind) {
                dev->bars[bar] = (struct pci_bar){ UDK_PCI_BAR_MEMORY, fd, 0, 0, NULL };
                return fstat_size(fd, &dev->bars[bar].size);
        } else if ((bar = token_bar(t, len, "io")) >= 0 && !dev->bars[bar].kind) {
                dev->bars[bar] = (struct pci_bar){ UDK_PCI_BAR_IO, fd, 0, 0, NULL };
                return fstat_size(fd, &dev->bars[bar].size);
        } else
                return -EINVAL;
        return 0;
}

static int vfio_region(int device, uint32_t index, uint64_t *ret_offset, uint64_t *ret_size)
{
        struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

        if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info) < 0)
                return -errno;
        *ret_offset = info.offset;
        *ret_size = info.size;
        return 0;
}

/* Config space and the six BARs as regions of the VFIO device; a BAR's kind from its register. */
static int vfio_open(struct udk_pci_device *dev, int device)
{
        uint64_t size = 0;
        int r;

        dev->vfio = true;
        dev->config = device;
        r = vfio_region(device, VFIO_PCI_CONFIG_REGION_INDEX, &dev->config_offset, &size);
        if (r < 0)
                return r;
        dev->config_size = size > UDK_PCI_CONFIG_SIZE_MAX ? UDK_PCI_CONFIG_SIZE_MAX : (size_t)size;
        for (unsigned i = 0; i < UDK_PCI_BARS; i++) {
                struct pci_bar *b = &dev->bars[i];
                uint32_t reg;

                r = vfio_region(device, VFIO_PCI_BAR0_REGION_INDEX + i, &b->offset, &b->size);
                if (r < 0)
                        return r;
                if (b->size == 0)
                        continue;
                r = udk_pci_config_read(dev, UDK_PCI_BAR0 + 4 * i, 4, &reg);
                if (r < 0)
                        return r;
                b->fd = device;
                b->kind = reg & BAR_IO_SPACE ? UDK_PCI_BAR_IO : UDK_PCI_BAR_MEMORY;
        }
        return 0;
}

int udk_pci_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_pci_device **ret)
{
        const char *fds = udk_nub_property(nub, "fds");
        struct udk_pci_device *dev;
        int vfio = -1, container = -1, r = 0;
        unsigned index = 0;

        if (!drv || !nub || !ret)
                return -EINVAL;
        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        dev->drv = drv;
        dev->config = dev->uio = dev->irq_eventfd = -1;
        /* Without udkd's names: config and BAR0, as before there were more. */
        if (!fds)
                fds = udk_nub_fd(nub, 1) >= 0 ? "config bar0" : "config";
        for (const char *t = fds; *t && r == 0; index++) {
                size_t len = strcspn(t, " ");

                if (udk_nub_fd(nub, index) < 0)
                        r = -EBADF;
                else
                        r = role_take(dev, t, len, udk_nub_fd(nub, index), &vfio, &container);
                t += len;
                t += *t == ' ';
        }
        if (r == -EINVAL || (r == 0 && vfio < 0 && container >= 0)) {
                udk_driver_log(drv, UDK_LOG_ERROR, "the nub's fds '%s' do not name its descriptors", fds);
                r = -EINVAL;
        } else if (r == -EBADF && index == 1) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "no config space: udkd hands it for a nub of the pci bus driver with a slot");
        } else if (r == -EBADF) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "the nub's fds '%s' name %u descriptors, udkd handed fewer", fds, index);
        } else if (r == 0 && vfio >= 0) {
                r = vfio_open(dev, vfio);
                if (r < 0)
                        udk_driver_log(drv, UDK_LOG_ERROR, "VFIO regions: %s", strerror(-r));
        } else if (r == 0 && dev->config < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "no config space among the nub's fds '%s'", fds);
                r = -EBADF;
        } else if (r == 0) {
                uint64_t size = 0;

                r = fstat_size(dev->config, &size);
                if (r < 0)
                        udk_driver_log(drv, UDK_LOG_ERROR, "config space: %s", strerror(-r));
                dev->config_size = size > UDK_PCI_CONFIG_SIZE_MAX ? UDK_PCI_CONFIG_SIZE_MAX : (size_t)size;
        } else
                udk_driver_log(drv, UDK_LOG_ERROR, "a BAR of the nub's fds '%s': %s", fds, strerror(-r));
        if (r < 0) {
                free(dev);
                return r;
        }
        *ret = dev;
        return 0;
}

void udk_pci_device_close(struct udk_pci_device *dev)
{
        if (!dev)
                return;
        udk_pci_interrupt_stop(dev);
        for (unsigned i = 0; i < UDK_PCI_BARS; i++)
                if (dev->bars[i].map)
                        munmap((void *)dev->bars[i].map, dev->bars[i].size);
        free(dev);
}

bool udk_pci_device_is_vfio(const struct udk_pci_device *dev)
{
        return dev && dev->vfio;
}

size_t udk_pci_config_size(const struct udk_pci_device *dev)
{
        return dev->config_size;
}

static int access_check(uint64_t offset, unsigned size, uint64_t length)
{
        if (size != 1 && size != 2 && size != 4)
                return -EINVAL;
        if (offset % size)
                return -EINVAL;
        if (offset >= length || length - offset < size)
                return -ERANGE;
        return 0;
}

int udk_pci_config_read(struct udk_pci_device *dev, uint32_t offset, unsigned size, uint32_t *ret)
{
        uint8_t b[4] = { 0 };
        ssize_t n;
        int r;

        if (!dev || !ret)
                return -EINVAL;
        r = access_check(offset, size, dev->config_size);
        if (r < 0)
                return r;
        n = pread(dev->config, b, size, (off_t)(dev->config_offset + offset));
        if (n < 0)
                return -errno;
        if ((size_t)n != size)
                return -EIO;
        *ret = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        return 0;
}

int udk_pci_config_write(struct udk_pci_device *dev, uint32_t offset, unsigned size, uint32_t value)
{
        uint8_t b[4] = { value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24 };
        ssize_t n;
        int r;

        if (!dev)
                return -EINVAL;
        r = access_check(offset, size, dev->config_size);
        if (r < 0)
                return r;
        if (size < 4 && value >> (8 * size))
                return -EINVAL;
        n = pwrite(dev->config, b, size, (off_t)(dev->config_offset + offset));
        if (n < 0)
                return -errno;
        return (size_t)n == size ? 0 : -EIO;
}

enum udk_pci_bar_kind udk_pci_bar_kind(const struct udk_pci_device *dev, unsigned bar)
{
        return dev && bar < UDK_PCI_BARS ? dev->bars[bar].kind : UDK_PCI_BAR_NONE;
}

int udk_pci_device_map_bar(struct udk_pci_device *dev, unsigned bar)
{
        struct pci_bar *b;
        void *p;

        if (!dev)
                return -EINVAL;
        if (bar >= UDK_PCI_BARS || !dev->bars[bar].kind)
                return -ENOENT;
        b = &dev->bars[bar];
        if (b->kind == UDK_PCI_BAR_IO) {
                udk_driver_log(dev->drv, UDK_LOG_ERROR,
                               "BAR%u is I/O ports: not mappable (udk_pci_bar_read/write reach it unmapped)",
                               bar);
                return -EOPNOTSUPP;
        }
        if (b->map)
                return 0;
        if (b->size == 0)
                return -ENODATA;
        if ((uint64_t)(size_t)b->size != b->size)
                return -EFBIG;
        p = mmap(NULL, (size_t)b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, (off_t)b->offset);
        if (p == MAP_FAILED) {
                int r = -errno;
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "BAR%u (%llu bytes) not mapped: %s", bar,
                               (unsigned long long)b->size, strerror(-r));
                return r;
        }
        b->map = p;
        return 0;
}

size_t udk_pci_bar_size(const struct udk_pci_device *dev, unsigned bar)
{
        const struct pci_bar *b = dev && bar < UDK_PCI_BARS ? &dev->bars[bar] : NULL;

        return b && (b->map || b->kind == UDK_PCI_BAR_IO) ? (size_t)b->size : 0;
}

/* The BAR @bar's registers can be reached at: a mapped memory BAR or an I/O BAR; NULL for -ENOENT. */
static struct pci_bar *bar_reachable(struct udk_pci_device *dev, unsigned bar)
{
        struct pci_bar *b = bar < UDK_PCI_BARS ? &dev->bars[bar] : NULL;

        return b && (b->map || b->kind == UDK_PCI_BAR_IO) ? b : NULL;
}

/* An I/O port access of @size bytes: the kernel does one in/out of that width.  I/O ports are x86's, where
 * the CPU's order is little-endian: the value goes as it is. */
static int bar_io(struct pci_bar *b, uint64_t offset, unsigned size, uint32_t *value, bool write)
{
        uint8_t v8 = (uint8_t)*value;
        uint16_t v16 = (uint16_t)*value;
        void *buf = size == 1 ? (void *)&v8 : size == 2 ? (void *)&v16 : (void *)value;
        ssize_t n = write ? pwrite(b->fd, buf, size, (off_t)(b->offset + offset))
                          : pread(b->fd, buf, size, (off_t)(b->offset + offset));

        if (n < 0)
                return -errno;
        if ((size_t)n != size)
                return -EIO;
        if (!write)
                *value = size == 1 ? v8 : size == 2 ? v16 : *value;
        return 0;
}

int udk_pci_bar_read(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size, uint32_t *ret)
{
        struct pci_bar *b;
        uint32_t v = 0;
        int r;

        if (!dev || !ret)
                return -EINVAL;
        if (!(b = bar_reachable(dev, bar)))
                return -ENOENT;
        r = access_check(offset, size, b->size);
        if (r < 0)
                return r;
        if (b->kind == UDK_PCI_BAR_IO) {
                r = bar_io(b, offset, size, &v, false);
                if (r == 0)
                        *ret = v;
                return r;
        }
        /* One access of the register's width through a volatile pointer: MMIO may not be split. */
        switch (size) {
        case 1:
                *ret = b->map[offset];
                break;
        case 2:
                *ret = le16toh(*(volatile uint16_t *)(b->map + offset));
                break;
        default:
                *ret = le32toh(*(volatile uint32_t *)(b->map + offset));
                break;
        }
        return 0;
}

int udk_pci_bar_write(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                      uint32_t value)
{
        struct pci_bar *b;
        int r;

        if (!dev)
                return -EINVAL;
        if (!(b = bar_reachable(dev, bar)))
                return -ENOENT;
        r = access_check(offset, size, b->size);
        if (r < 0)
                return r;
        if (size < 4 && value >> (8 * size))
                return -EINVAL;
        if (b->kind == UDK_PCI_BAR_IO)
                return bar_io(b, offset, size, &value, true);
        switch (size) {
        case 1:
                b->map[offset] = (uint8_t)value;
                break;
        case 2:
                *(volatile uint16_t *)(b->map + offset) = htole16((uint16_t)value);
                break;
        default:
                *(volatile uint32_t *)(b->map + offset) = htole32(value);
                break;
        }
        return 0;
}
