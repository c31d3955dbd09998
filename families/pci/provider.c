/* SPDX-License-Identifier: MIT */
/*
 * The PCI provider (udk/pci.h): config space through the sysfs config
 * file udkd handed as the nub's descriptor 0, BAR0 mapped from resource0,
 * its descriptor 1.  Every offset and size is checked against the file's
 * length before it touches the device.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/pci.h>

struct udk_pci_device {
        struct udk_driver *drv;
        int config;   /* the host's descriptors: not ours to close */
        int resource; /* -1: no memory BAR0 */
        size_t config_size;
        volatile uint8_t *bar0;
        size_t bar0_size;
};

int udk_pci_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_pci_device **ret)
{
        struct udk_pci_device *dev;
        struct stat st;

        if (!drv || !nub || !ret)
                return -EINVAL;
        if (udk_nub_fd(nub, 0) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "no config space: udkd hands it for a nub of the pci bus driver with a slot");
                return -EBADF;
        }
        if (fstat(udk_nub_fd(nub, 0), &st) < 0) {
                int r = -errno;
                udk_driver_log(drv, UDK_LOG_ERROR, "config space: %s", strerror(-r));
                return r;
        }
        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        dev->drv = drv;
        dev->config = udk_nub_fd(nub, 0);
        dev->resource = udk_nub_fd(nub, 1);
        dev->config_size = st.st_size < 0                                   ? 0
                           : (uint64_t)st.st_size > UDK_PCI_CONFIG_SIZE_MAX ? UDK_PCI_CONFIG_SIZE_MAX
                                                                            : (size_t)st.st_size;
        *ret = dev;
        return 0;
}

void udk_pci_device_close(struct udk_pci_device *dev)
{
        if (!dev)
                return;
        if (dev->bar0)
                munmap((void *)dev->bar0, dev->bar0_size);
        free(dev);
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
        n = pread(dev->config, b, size, offset);
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
        n = pwrite(dev->config, b, size, offset);
        if (n < 0)
                return -errno;
        return (size_t)n == size ? 0 : -EIO;
}

int udk_pci_device_map_bar(struct udk_pci_device *dev, unsigned bar)
{
        struct stat st;
        void *p;

        if (!dev)
                return -EINVAL;
        if (bar != 0 || dev->resource < 0)
                return -ENOENT;
        if (dev->bar0)
                return 0;
        if (fstat(dev->resource, &st) < 0)
                return -errno;
        if (st.st_size <= 0)
                return -ENODATA;
        p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->resource, 0);
        if (p == MAP_FAILED) {
                int r = -errno;
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "BAR0 (%lld bytes) not mapped: %s",
                               (long long)st.st_size, strerror(-r));
                return r;
        }
        dev->bar0 = p;
        dev->bar0_size = (size_t)st.st_size;
        return 0;
}

size_t udk_pci_bar_size(const struct udk_pci_device *dev, unsigned bar)
{
        return dev && bar == 0 && dev->bar0 ? dev->bar0_size : 0;
}

int udk_pci_bar_read(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size, uint32_t *ret)
{
        int r;

        if (!dev || !ret)
                return -EINVAL;
        if (bar != 0 || !dev->bar0)
                return -ENOENT;
        r = access_check(offset, size, dev->bar0_size);
        if (r < 0)
                return r;
        /* One access of the register's width through a volatile pointer: MMIO may not be split. */
        switch (size) {
        case 1:
                *ret = dev->bar0[offset];
                break;
        case 2:
                *ret = le16toh(*(volatile uint16_t *)(dev->bar0 + offset));
                break;
        default:
                *ret = le32toh(*(volatile uint32_t *)(dev->bar0 + offset));
                break;
        }
        return 0;
}

int udk_pci_bar_write(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                      uint32_t value)
{
        int r;

        if (!dev)
                return -EINVAL;
        if (bar != 0 || !dev->bar0)
                return -ENOENT;
        r = access_check(offset, size, dev->bar0_size);
        if (r < 0)
                return r;
        if (size < 4 && value >> (8 * size))
                return -EINVAL;
        switch (size) {
        case 1:
                dev->bar0[offset] = (uint8_t)value;
                break;
        case 2:
                *(volatile uint16_t *)(dev->bar0 + offset) = htole16((uint16_t)value);
                break;
        default:
                *(volatile uint32_t *)(dev->bar0 + offset) = htole32(value);
                break;
        }
        return 0;
}
