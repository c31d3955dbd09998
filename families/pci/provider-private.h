/* SPDX-License-Identifier: MIT */
/* The PCI provider's state, shared by provider.c (config space, BARs) and interrupts.c. */
#ifndef UDK_PCI_PROVIDER_PRIVATE_H
#define UDK_PCI_PROVIDER_PRIVATE_H

#include <stdint.h>

#include <udk/pci.h>

struct udk_dispatch_source;

struct pci_bar {
        enum udk_pci_bar_kind kind;
        int fd;          /* the host's descriptor: not ours to close */
        uint64_t offset; /* of the region in the fd: VFIO's region offset, 0 for a resource file */
        uint64_t size;
        volatile uint8_t *map; /* a mapped memory BAR */
};

struct udk_pci_device {
        struct udk_driver *drv;
        bool vfio;
        int config;             /* sysfs config or the VFIO device: the host's */
        uint64_t config_offset; /* VFIO's config region offset */
        size_t config_size;
        struct pci_bar bars[UDK_PCI_BARS];
        int uio; /* -1: none; the host's */

        /* interrupts.c */
        struct udk_dispatch_source *irq_source;
        udk_pci_interrupt_fn irq_fn;
        void *irq_data;
        int irq_eventfd; /* VFIO: ours; -1 */
        uint32_t irq_index;
        uint64_t irq_count;
        bool irq_seen;
};

#endif
