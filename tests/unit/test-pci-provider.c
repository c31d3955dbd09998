/* SPDX-License-Identifier: MIT */
/*
 * The PCI provider (families/pci/provider.c) on plain files standing in
 * for a function's sysfs config and resource0: exact values read and
 * written, little-endian, and every bounds, size and alignment refusal.
 * udk_nub_fd() and udk_driver_log() are this test's, and the calls the
 * provider's interrupts make, which these nubs without "fds" never reach.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/pci.h>

#include "udk-test.h"

struct udk_nub {
        int fds[2];
};

static char logged[256];

int udk_nub_fd(const struct udk_nub *nub, unsigned index)
{
        return index < 2 ? nub->fds[index] : -1;
}

void udk_driver_log(struct udk_driver *drv, enum udk_log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(logged, sizeof(logged), fmt, ap);
        va_end(ap);
}

const char *udk_nub_property(const struct udk_nub *nub, const char *key)
{
        return NULL;
}

struct udk_dispatch_queue *udk_driver_queue(struct udk_driver *drv)
{
        return NULL;
}

int udk_dispatch_fd_create(struct udk_dispatch_queue *q, int fd, uint32_t events, udk_dispatch_fn fn,
                           void *data, struct udk_dispatch_source **ret)
{
        return -ENOSYS;
}

void udk_dispatch_source_destroy(struct udk_dispatch_source *source)
{
}

static struct udk_driver *const drv = (struct udk_driver *)&logged; /* only passed through */

static int file_with(const uint8_t *bytes, size_t len, int flags)
{
        char path[] = "/tmp/udk-test-pci-XXXXXX";
        int fd = mkstemp(path);

        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, bytes, len), (long long)len);
        ASSERT_OK(close(fd));
        fd = open(path, flags | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_OK(unlink(path));
        return fd;
}

static void test_config(void)
{
        uint8_t cfg[256] = { 0x86, 0x80, 0xc8, 0xa0, 0x06, 0x00, 0x10, 0x00, 0x20, 0x00, 0x03, 0x04 };
        struct udk_nub nub = { { file_with(cfg, sizeof(cfg), O_RDWR), -1 } };
        struct udk_pci_device *dev;
        uint32_t v = 0;

        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_UINT_EQ(udk_pci_config_size(dev), 256);
        ASSERT_OK(udk_pci_config_read(dev, UDK_PCI_VENDOR_ID, 2, &v));
        ASSERT_UINT_EQ(v, 0x8086);
        ASSERT_OK(udk_pci_config_read(dev, UDK_PCI_VENDOR_ID, 4, &v));
        ASSERT_UINT_EQ(v, 0xa0c88086);
        ASSERT_OK(udk_pci_config_read(dev, UDK_PCI_REVISION_ID, 1, &v));
        ASSERT_UINT_EQ(v, 0x20);
        ASSERT_OK(udk_pci_config_read(dev, 0xfc, 4, &v));
        ASSERT_UINT_EQ(v, 0);

        ASSERT_OK(udk_pci_config_write(dev, UDK_PCI_COMMAND, 2, 0x0406));
        ASSERT_OK(udk_pci_config_read(dev, UDK_PCI_COMMAND, 4, &v));
        ASSERT_UINT_EQ(v, 0x00100406);
        ASSERT_INT_EQ(pread(nub.fds[0], cfg, 2, UDK_PCI_COMMAND), 2);
        ASSERT_UINT_EQ(cfg[0], 0x06);
        ASSERT_UINT_EQ(cfg[1], 0x04);

        v = 0xdead;
        ASSERT_ERROR(udk_pci_config_read(dev, 0, 3, &v), EINVAL);
        ASSERT_ERROR(udk_pci_config_read(dev, 0, 8, &v), EINVAL);
        ASSERT_ERROR(udk_pci_config_read(dev, 1, 2, &v), EINVAL);
        ASSERT_ERROR(udk_pci_config_read(dev, 2, 4, &v), EINVAL);
        ASSERT_ERROR(udk_pci_config_read(dev, 256, 1, &v), ERANGE);
        ASSERT_ERROR(udk_pci_config_read(dev, 4096, 4, &v), ERANGE);
        ASSERT_ERROR(udk_pci_config_read(dev, UINT32_MAX - 3, 4, &v), ERANGE);
        ASSERT_UINT_EQ(v, 0xdead);
        ASSERT_ERROR(udk_pci_config_write(dev, 0x40, 1, 0x100), EINVAL);
        ASSERT_ERROR(udk_pci_config_write(dev, 0x40, 2, 0x10000), EINVAL);
        ASSERT_ERROR(udk_pci_config_write(dev, 0x41, 4, 0), EINVAL);
        ASSERT_ERROR(udk_pci_config_write(dev, 256, 1, 0), ERANGE);
        /* No BAR0 handed. */
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 0), ENOENT);
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, 0, 4, &v), ENOENT);
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 0), 0);
        udk_pci_device_close(dev);
        close(nub.fds[0]);

        /* Read-only, as an unprivileged udkd hands it. */
        nub.fds[0] = file_with(cfg, sizeof(cfg), O_RDONLY);
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_ERROR(udk_pci_config_write(dev, UDK_PCI_COMMAND, 2, 0), EBADF);
        udk_pci_device_close(dev);
        close(nub.fds[0]);

        nub.fds[0] = -1;
        ASSERT_ERROR(udk_pci_device_open(drv, &nub, &dev), EBADF);
        ASSERT_TRUE(strstr(logged, "no config space") != NULL);
}

static void test_bar(void)
{
        static uint8_t bar[16384];
        uint8_t cfg[64] = { 0 };
        struct udk_nub nub;
        struct udk_pci_device *dev;
        uint32_t v = 0;

        bar[0] = 0xc8;
        bar[0x10] = 0xef, bar[0x11] = 0xbe, bar[0x12] = 0xad, bar[0x13] = 0xde;
        nub.fds[0] = file_with(cfg, sizeof(cfg), O_RDONLY);
        nub.fds[1] = file_with(bar, sizeof(bar), O_RDWR);
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, 0, 4, &v), ENOENT); /* not mapped yet */
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 1), ENOENT);
        ASSERT_OK(udk_pci_device_map_bar(dev, 0));
        ASSERT_OK(udk_pci_device_map_bar(dev, 0)); /* again: 0 */
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 0), sizeof(bar));
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 1), 0);

        ASSERT_OK(udk_pci_bar_read(dev, 0, 0, 4, &v));
        ASSERT_UINT_EQ(v, 0xc8);
        ASSERT_OK(udk_pci_bar_read(dev, 0, 0x10, 4, &v));
        ASSERT_UINT_EQ(v, 0xdeadbeef);
        ASSERT_OK(udk_pci_bar_read(dev, 0, 0x12, 2, &v));
        ASSERT_UINT_EQ(v, 0xdead);
        ASSERT_OK(udk_pci_bar_read(dev, 0, 0x11, 1, &v));
        ASSERT_UINT_EQ(v, 0xbe);
        ASSERT_OK(udk_pci_bar_read(dev, 0, sizeof(bar) - 4, 4, &v));
        ASSERT_UINT_EQ(v, 0);

        ASSERT_OK(udk_pci_bar_write(dev, 0, 0, 4, 300));
        ASSERT_OK(udk_pci_bar_write(dev, 0, sizeof(bar) - 2, 2, 0x1234));
        ASSERT_OK(udk_pci_bar_write(dev, 0, 0x20, 1, 0x7f));
        /* Shared with the file: the bytes are there, little-endian. */
        ASSERT_INT_EQ(pread(nub.fds[1], bar, sizeof(bar), 0), (long long)sizeof(bar));
        ASSERT_UINT_EQ(bar[0], 0x2c);
        ASSERT_UINT_EQ(bar[1], 0x01);
        ASSERT_UINT_EQ(bar[2], 0x00);
        ASSERT_UINT_EQ(bar[sizeof(bar) - 2], 0x34);
        ASSERT_UINT_EQ(bar[sizeof(bar) - 1], 0x12);
        ASSERT_UINT_EQ(bar[0x20], 0x7f);
        ASSERT_UINT_EQ(bar[0x13], 0xde);

        v = 0xdead;
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, 0, 3, &v), EINVAL);
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, 2, 4, &v), EINVAL);
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, sizeof(bar), 4, &v), ERANGE);
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, sizeof(bar), 1, &v), ERANGE);
        ASSERT_ERROR(udk_pci_bar_read(dev, 0, UINT64_MAX - 3, 4, &v), ERANGE);
        ASSERT_ERROR(udk_pci_bar_read(dev, 1, 0, 4, &v), ENOENT);
        ASSERT_UINT_EQ(v, 0xdead);
        ASSERT_ERROR(udk_pci_bar_write(dev, 0, 0, 1, 0x100), EINVAL);
        ASSERT_ERROR(udk_pci_bar_write(dev, 0, 0, 2, 0x10000), EINVAL);
        ASSERT_ERROR(udk_pci_bar_write(dev, 0, 6, 4, 0), EINVAL);
        ASSERT_ERROR(udk_pci_bar_write(dev, 0, sizeof(bar), 4, 0), ERANGE);
        udk_pci_device_close(dev);
        close(nub.fds[1]);

        /* An empty resource file maps nothing. */
        nub.fds[1] = file_with(bar, 0, O_RDWR);
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 0), ENODATA);
        udk_pci_device_close(dev);
        close(nub.fds[1]);
        close(nub.fds[0]);
}

UDK_TEST_MAIN(test_config, test_bar)
