/* SPDX-License-Identifier: MIT */
/*
 * A PCI function's interrupts as a dispatch-queue source (udk/pci.h).
 *
 * UIO (uio_pci_generic): the node's read() gives the kernel's 32-bit count
 * of interrupts so far, in the CPU's order, and blocks (here: polls) until
 * it moves; the kernel masks the interrupt when it fires and a write of
 * the 32-bit 1 unmasks it again.
 *
 * VFIO: an eventfd set as the trigger of the function's MSI (else INTx)
 * with VFIO_DEVICE_SET_IRQS; its 64-bit read is how many fired since the
 * last read.  INTx is masked by VFIO when it fires and unmasked here.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/pci.h>

#include "provider-private.h"

/* VFIO_DEVICE_SET_IRQS for one vector of @index: @action with the eventfd @fd, or with no data (@fd -1). */
static int vfio_irq_set(int device, uint32_t index, uint32_t action, uint32_t count, int fd)
{
        struct {
                struct vfio_irq_set set;
                int32_t fd;
        } m = { { .argsz = sizeof(m), .index = index, .start = 0, .count = count }, fd };

        m.set.flags = action | (fd >= 0 ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
        if (fd < 0)
                m.set.argsz = sizeof(m.set);
        return ioctl(device, VFIO_DEVICE_SET_IRQS, &m) < 0 ? -errno : 0;
}

/* The source failed: stop it, warn, tell the driver once. */
static void interrupt_fail(struct udk_pci_device *dev, int status, const char *why)
{
        udk_pci_interrupt_fn fn = dev->irq_fn;
        void *data = dev->irq_data;

        udk_driver_log(dev->drv, UDK_LOG_WARN, "interrupts stopped after %llu: %s",
                       (unsigned long long)dev->irq_count, why);
        udk_pci_interrupt_stop(dev);
        fn(data, status, dev->irq_count, 0);
}

static void uio_ready(void *data, struct udk_dispatch_source *source)
{
        struct udk_pci_device *dev = data;
        const uint32_t one = 1;
        uint32_t count;
        uint64_t missed;
        char why[96];
        ssize_t n = read(dev->uio, &count, sizeof(count));
        int r = n < 0 ? -errno : -ENODEV;

        if (r == -EAGAIN || r == -EINTR)
                return;
        if (n != (ssize_t)sizeof(count)) {
                snprintf(why, sizeof(why), "the UIO node: %s", n < 0 ? strerror(-r) : "ended");
                interrupt_fail(dev, r, why);
                return;
        }
        /* Unsigned: a count that wrapped past 2^32 still gives the interrupts in between. */
        missed = dev->irq_seen ? (uint32_t)(count - (uint32_t)dev->irq_count - 1u) : 0;
        dev->irq_seen = true;
        dev->irq_count = count;
        dev->irq_fn(dev->irq_data, 0, count, missed);
        if (!dev->irq_source)
                return; /* the driver stopped them */
        n = write(dev->uio, &one, sizeof(one));
        if (n != (ssize_t)sizeof(one)) {
                r = n < 0 ? -errno : -EIO;
                snprintf(why, sizeof(why), "re-enabling through the UIO node: %s", strerror(-r));
                interrupt_fail(dev, r, why);
        }
}

static void vfio_ready(void *data, struct udk_dispatch_source *source)
{
        struct udk_pci_device *dev = data;
        uint64_t fired;
        char why[96];
        int r;

        if (read(dev->irq_eventfd, &fired, sizeof(fired)) != (ssize_t)sizeof(fired) || fired == 0)
                return; /* an eventfd reads 8 bytes or EAGAIN */
        dev->irq_count += fired;
        dev->irq_fn(dev->irq_data, 0, dev->irq_count, fired - 1);
        if (!dev->irq_source || dev->irq_index != VFIO_PCI_INTX_IRQ_INDEX)
                return;
        r = vfio_irq_set(dev->config, dev->irq_index, VFIO_IRQ_SET_ACTION_UNMASK, 1, -1);
        if (r < 0) {
                snprintf(why, sizeof(why), "unmasking INTx: %s", strerror(-r));
                interrupt_fail(dev, r, why);
        }
}

/* MSI when the function has it, else INTx, triggering a new eventfd. */
static int vfio_start(struct udk_pci_device *dev)
{
        static const uint32_t indexes[] = { VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX };
        int r = -ENOENT;

        for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]) && r == -ENOENT; i++) {
                struct vfio_irq_info info = { .argsz = sizeof(info), .index = indexes[i] };

                if (ioctl(dev->config, VFIO_DEVICE_GET_IRQ_INFO, &info) == 0 && info.count > 0)
                        dev->irq_index = indexes[i], r = 0;
        }
        if (r < 0) {
                udk_driver_log(dev->drv, UDK_LOG_ERROR,
                               "no interrupts: the VFIO device has neither MSI nor INTx");
                return r;
        }
        dev->irq_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (dev->irq_eventfd < 0)
                return -errno;
        r = vfio_irq_set(dev->config, dev->irq_index, VFIO_IRQ_SET_ACTION_TRIGGER, 1, dev->irq_eventfd);
        if (r == 0)
                r = udk_dispatch_fd_create(udk_driver_queue(dev->drv), dev->irq_eventfd,
                                           UDK_DISPATCH_READABLE, vfio_ready, dev, &dev->irq_source);
        if (r < 0)
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "VFIO %s interrupts: %s",
                               dev->irq_index == VFIO_PCI_MSI_IRQ_INDEX ? "MSI" : "INTx", strerror(-r));
        return r;
}

int udk_pci_interrupt_start(struct udk_pci_device *dev, udk_pci_interrupt_fn fn, void *data)
{
        const uint32_t one = 1;
        int r;

        if (!dev || !fn)
                return -EINVAL;
        if (dev->irq_source)
                return -EBUSY;
        dev->irq_fn = fn;
        dev->irq_data = data;
        dev->irq_count = 0;
        dev->irq_seen = false;
        if (dev->vfio)
                r = vfio_start(dev);
        else if (dev->uio < 0) {
                udk_driver_log(
                        dev->drv, UDK_LOG_INFO,
                        "no interrupts: no UIO node (bind the function to uio_pci_generic) and no VFIO");
                r = -ENOENT;
        } else if (write(dev->uio, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
                r = -errno;
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "enabling interrupts through the UIO node: %s",
                               strerror(-r));
        } else
                r = udk_dispatch_fd_create(udk_driver_queue(dev->drv), dev->uio, UDK_DISPATCH_READABLE,
                                           uio_ready, dev, &dev->irq_source);
        if (r < 0)
                udk_pci_interrupt_stop(dev);
        return r;
}

void udk_pci_interrupt_stop(struct udk_pci_device *dev)
{
        if (!dev)
                return;
        udk_dispatch_source_destroy(dev->irq_source);
        dev->irq_source = NULL;
        if (dev->irq_eventfd >= 0) {
                (void)vfio_irq_set(dev->config, dev->irq_index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, -1);
                close(dev->irq_eventfd);
                dev->irq_eventfd = -1;
        }
}
