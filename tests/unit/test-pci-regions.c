/* SPDX-License-Identifier: MIT */
/*
 * The PCI provider (families/pci) with udkd's "fds" names: BARs other
 * than BAR0, an I/O BAR reached by pread/pwrite and refused for mmap, a
 * wrong or short fds list, and UIO interrupts on a socket standing in for
 * /dev/uioN: the counts and missed ones the driver is told, the 1 written
 * back after each, and a node that ends stopping the source with a
 * warning.  The driver library's calls are this test's: the dispatch
 * source is run by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/pci.h>

#include "udk-test.h"

struct udk_nub {
        const char *fds_names;
        int fds[8];
};

static char logged[256];
static struct {
        udk_dispatch_fn fn;
        void *data;
        int fd;
        bool live;
} source;

int udk_nub_fd(const struct udk_nub *nub, unsigned index)
{
        return index < 8 ? nub->fds[index] : -1;
}

const char *udk_nub_property(const struct udk_nub *nub, const char *key)
{
        return strcmp(key, "fds") == 0 ? nub->fds_names : NULL;
}

void udk_driver_log(struct udk_driver *drv, enum udk_log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(logged, sizeof(logged), fmt, ap);
        va_end(ap);
}

struct udk_dispatch_queue *udk_driver_queue(struct udk_driver *drv)
{
        return (struct udk_dispatch_queue *)&source;
}

int udk_dispatch_fd_create(struct udk_dispatch_queue *q, int fd, uint32_t events, udk_dispatch_fn fn,
                           void *data, struct udk_dispatch_source **ret)
{
        ASSERT_TRUE(q == (struct udk_dispatch_queue *)&source);
        ASSERT_UINT_EQ(events, UDK_DISPATCH_READABLE);
        ASSERT_TRUE(!source.live);
        source.fn = fn, source.data = data, source.fd = fd, source.live = true;
        *ret = (struct udk_dispatch_source *)&source;
        return 0;
}

void udk_dispatch_source_destroy(struct udk_dispatch_source *s)
{
        if (s) {
                ASSERT_TRUE(s == (struct udk_dispatch_source *)&source && source.live);
                source.live = false;
        }
}

static struct udk_driver *const drv = (struct udk_driver *)&logged; /* only passed through */

static int file_with(const uint8_t *bytes, size_t len)
{
        char path[] = "/tmp/udk-test-pci-XXXXXX";
        int fd = mkstemp(path);

        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, bytes, len), (long long)len);
        ASSERT_OK(unlink(path));
        return fd;
}

/* BAR2 (memory) and BAR4 (I/O ports) next to BAR0, as udkd names them. */
static void test_bars(void)
{
        static uint8_t bar0[4096], bar2[8192];
        uint8_t cfg[256] = { 0x86, 0x80 }, io[32] = { 0 };
        struct udk_nub nub = { "config bar0 bar2 io4", { -1, -1, -1, -1, -1, -1, -1, -1 } };
        struct udk_pci_device *dev;
        uint32_t v = 0;

        bar2[0x100] = 0x78, bar2[0x101] = 0x56, bar2[0x102] = 0x34, bar2[0x103] = 0x12;
        io[4] = 0xaa, io[5] = 0x55;
        nub.fds[0] = file_with(cfg, sizeof(cfg));
        nub.fds[1] = file_with(bar0, sizeof(bar0));
        nub.fds[2] = file_with(bar2, sizeof(bar2));
        nub.fds[3] = file_with(io, sizeof(io));
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_TRUE(!udk_pci_device_is_vfio(dev));
        ASSERT_UINT_EQ(udk_pci_bar_kind(dev, 0), UDK_PCI_BAR_MEMORY);
        ASSERT_UINT_EQ(udk_pci_bar_kind(dev, 1), UDK_PCI_BAR_NONE);
        ASSERT_UINT_EQ(udk_pci_bar_kind(dev, 2), UDK_PCI_BAR_MEMORY);
        ASSERT_UINT_EQ(udk_pci_bar_kind(dev, 4), UDK_PCI_BAR_IO);
        ASSERT_UINT_EQ(udk_pci_bar_kind(dev, 6), UDK_PCI_BAR_NONE);

        ASSERT_ERROR(udk_pci_bar_read(dev, 2, 0x100, 4, &v), ENOENT); /* not mapped yet */
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 2), 0);
        ASSERT_OK(udk_pci_device_map_bar(dev, 2));
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 2), sizeof(bar2));
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 0), 0); /* BAR0 is not mapped by BAR2's */
        ASSERT_OK(udk_pci_bar_read(dev, 2, 0x100, 4, &v));
        ASSERT_UINT_EQ(v, 0x12345678);
        ASSERT_OK(udk_pci_bar_write(dev, 2, sizeof(bar2) - 4, 4, 0xcafef00d));
        ASSERT_INT_EQ(pread(nub.fds[2], bar2, sizeof(bar2), 0), (long long)sizeof(bar2));
        ASSERT_UINT_EQ(bar2[sizeof(bar2) - 4], 0x0d);
        ASSERT_UINT_EQ(bar2[sizeof(bar2) - 1], 0xca);
        ASSERT_ERROR(udk_pci_bar_read(dev, 2, sizeof(bar2) - 2, 4, &v), EINVAL);
        ASSERT_ERROR(udk_pci_bar_read(dev, 2, sizeof(bar2), 1, &v), ERANGE);
        ASSERT_ERROR(udk_pci_bar_write(dev, 2, sizeof(bar2), 2, 0), ERANGE);
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 1), ENOENT);
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 3), ENOENT);
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 6), ENOENT);
        ASSERT_ERROR(udk_pci_bar_read(dev, 3, 0, 4, &v), ENOENT);

        /* I/O ports: never mapped, reached unmapped, each access one pread or pwrite of its width. */
        ASSERT_ERROR(udk_pci_device_map_bar(dev, 4), EOPNOTSUPP);
        ASSERT_STR_EQ(logged, "BAR4 is I/O ports: not mappable (udk_pci_bar_read/write reach it unmapped)");
        ASSERT_UINT_EQ(udk_pci_bar_size(dev, 4), sizeof(io));
        ASSERT_OK(udk_pci_bar_read(dev, 4, 4, 2, &v));
        ASSERT_UINT_EQ(v, 0x55aa);
        ASSERT_OK(udk_pci_bar_read(dev, 4, 5, 1, &v));
        ASSERT_UINT_EQ(v, 0x55);
        ASSERT_OK(udk_pci_bar_write(dev, 4, 8, 4, 0x01020304));
        ASSERT_OK(udk_pci_bar_write(dev, 4, 31, 1, 0xee));
        ASSERT_INT_EQ(pread(nub.fds[3], io, sizeof(io), 0), (long long)sizeof(io));
        ASSERT_UINT_EQ(io[8], 0x04);
        ASSERT_UINT_EQ(io[11], 0x01);
        ASSERT_UINT_EQ(io[31], 0xee);
        v = 0xdead;
        ASSERT_ERROR(udk_pci_bar_read(dev, 4, 32, 1, &v), ERANGE);
        ASSERT_ERROR(udk_pci_bar_read(dev, 4, 30, 4, &v), EINVAL);
        ASSERT_ERROR(udk_pci_bar_read(dev, 4, 28, 8, &v), EINVAL);
        ASSERT_ERROR(udk_pci_bar_write(dev, 4, 0, 1, 0x100), EINVAL);
        ASSERT_UINT_EQ(v, 0xdead);
        ASSERT_ERROR(udk_pci_interrupt_start(dev, NULL, NULL), EINVAL); /* no callback */
        udk_pci_device_close(dev);
        for (unsigned i = 0; i < 4; i++)
                close(nub.fds[i]);
}

/* An fds list that does not fit what was handed is refused, naming it. */
static void test_fds_refused(void)
{
        static const char *const bad[] = { "config bar0 bar0", "config bar6", "config gpu0", "config  bar0",
                                           "config vfio-container" };
        uint8_t cfg[64] = { 0 };
        struct udk_nub nub = { NULL, { -1, -1, -1, -1, -1, -1, -1, -1 } };
        struct udk_pci_device *dev = NULL;
        char want[128];

        nub.fds[0] = file_with(cfg, sizeof(cfg));
        nub.fds[1] = file_with(cfg, sizeof(cfg));
        nub.fds[2] = file_with(cfg, sizeof(cfg));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                nub.fds_names = bad[i];
                ASSERT_ERROR(udk_pci_device_open(drv, &nub, &dev), EINVAL);
                snprintf(want, sizeof(want), "the nub's fds '%s' do not name its descriptors", bad[i]);
                ASSERT_STR_EQ(logged, want);
        }
        nub.fds_names = "config bar0 uio bar2";
        ASSERT_ERROR(udk_pci_device_open(drv, &nub, &dev), EBADF);
        ASSERT_STR_EQ(logged, "the nub's fds 'config bar0 uio bar2' name 4 descriptors, udkd handed fewer");
        nub.fds_names = "bar0 uio";
        ASSERT_ERROR(udk_pci_device_open(drv, &nub, &dev), EBADF);
        ASSERT_STR_EQ(logged, "no config space among the nub's fds 'bar0 uio'");
        ASSERT_TRUE(dev == NULL);
        for (unsigned i = 0; i < 3; i++)
                close(nub.fds[i]);
}

static struct {
        unsigned calls;
        int status;
        uint64_t count, missed;
} irq;

static void on_interrupt(void *data, int status, uint64_t count, uint64_t missed)
{
        ASSERT_TRUE(data == &irq);
        irq.calls++;
        irq.status = status;
        irq.count = count;
        irq.missed = missed;
}

/* What the provider wrote to the node since: the 32-bit 1s, as uio_pci_generic wants to re-enable. */
static unsigned ones_written(int peer)
{
        uint32_t v;
        unsigned n = 0;

        while (recv(peer, &v, sizeof(v), MSG_DONTWAIT) == (ssize_t)sizeof(v)) {
                ASSERT_UINT_EQ(v, 1);
                n++;
        }
        return n;
}

static void interrupt_emit(int peer, uint32_t count)
{
        ASSERT_INT_EQ(send(peer, &count, sizeof(count), 0), (long long)sizeof(count));
        ASSERT_TRUE(source.live);
        source.fn(source.data, (struct udk_dispatch_source *)&source);
}

static void test_uio(void)
{
        uint8_t cfg[64] = { 0 };
        struct udk_nub nub = { "config uio", { -1, -1, -1, -1, -1, -1, -1, -1 } };
        struct udk_pci_device *dev;
        int sv[2];

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        nub.fds[0] = file_with(cfg, sizeof(cfg));
        nub.fds[1] = sv[0];
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_OK(udk_pci_interrupt_start(dev, on_interrupt, &irq));
        ASSERT_ERROR(udk_pci_interrupt_start(dev, on_interrupt, &irq), EBUSY);
        ASSERT_UINT_EQ(source.fd, sv[0]);
        ASSERT_UINT_EQ(ones_written(sv[1]), 1); /* enabled at start */

        /* Nothing there yet: a spurious wake-up tells the driver nothing. */
        source.fn(source.data, (struct udk_dispatch_source *)&source);
        ASSERT_UINT_EQ(irq.calls, 0);
        ASSERT_UINT_EQ(ones_written(sv[1]), 0);

        interrupt_emit(sv[1], 7); /* the kernel's count so far: nothing known before it */
        ASSERT_UINT_EQ(irq.calls, 1);
        ASSERT_INT_EQ(irq.status, 0);
        ASSERT_UINT_EQ(irq.count, 7);
        ASSERT_UINT_EQ(irq.missed, 0);
        ASSERT_UINT_EQ(ones_written(sv[1]), 1);
        interrupt_emit(sv[1], 8);
        ASSERT_UINT_EQ(irq.count, 8);
        ASSERT_UINT_EQ(irq.missed, 0);
        ASSERT_UINT_EQ(ones_written(sv[1]), 1);
        interrupt_emit(sv[1], 11);
        ASSERT_UINT_EQ(irq.calls, 3);
        ASSERT_UINT_EQ(irq.count, 11);
        ASSERT_UINT_EQ(irq.missed, 2);
        ASSERT_UINT_EQ(ones_written(sv[1]), 1);
        /* Past 2^32 the count wraps: the interrupts in between are still counted. */
        interrupt_emit(sv[1], 0xfffffffeu);
        interrupt_emit(sv[1], 1);
        ASSERT_UINT_EQ(irq.count, 1);
        ASSERT_UINT_EQ(irq.missed, 2);
        ASSERT_UINT_EQ(ones_written(sv[1]), 2);

        /* The node ends (its function went): the source stops with a warning, the driver is told once. */
        ASSERT_OK(close(sv[1]));
        source.fn(source.data, (struct udk_dispatch_source *)&source);
        ASSERT_TRUE(!source.live);
        ASSERT_UINT_EQ(irq.calls, 6);
        ASSERT_INT_EQ(irq.status, -ENODEV);
        ASSERT_UINT_EQ(irq.count, 1);
        ASSERT_STR_EQ(logged, "interrupts stopped after 1: the UIO node: ended");
        udk_pci_interrupt_stop(dev); /* stopped already: nothing */
        udk_pci_device_close(dev);
        close(sv[0]);
        close(nub.fds[0]);

        /* Without a UIO node (or VFIO): -ENOENT and a line that says how to get one. */
        nub.fds_names = "config";
        nub.fds[0] = file_with(cfg, sizeof(cfg));
        ASSERT_OK(udk_pci_device_open(drv, &nub, &dev));
        ASSERT_ERROR(udk_pci_interrupt_start(dev, on_interrupt, &irq), ENOENT);
        ASSERT_STR_EQ(logged,
                      "no interrupts: no UIO node (bind the function to uio_pci_generic) and no VFIO");
        ASSERT_TRUE(!source.live);
        udk_pci_device_close(dev);
        close(nub.fds[0]);
}

UDK_TEST_MAIN(test_bars, test_fds_refused, test_uio)
