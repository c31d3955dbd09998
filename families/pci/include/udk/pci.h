/* SPDX-License-Identifier: MIT */
/*
 * The PCI family's provider: what a PCI driver is handed.  udkd opens the
 * function's files for it and names them, in order, in the "fds" property
 * of the nub the driver gets (docs/families.md#pci): with VFIO the
 * function's VFIO device ("vfio vfio-container"), else its sysfs config
 * file, a resourceN file per BAR ("barN" memory, "ioN" I/O ports) and its
 * UIO node ("uio") when uio_pci_generic is bound.  Without that property,
 * descriptors 0 and 1 are config and BAR0.  Registers are little-endian,
 * as PCI's are; values come back in the CPU's order.
 */
#ifndef UDK_PCI_H
#define UDK_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDK_PCI_CONFIG_SIZE_MAX 4096u /* PCI Express extended config space */
#define UDK_PCI_BARS            6u

/* Config space offsets the family and its example read. */
#define UDK_PCI_VENDOR_ID      0x00u
#define UDK_PCI_DEVICE_ID      0x02u
#define UDK_PCI_COMMAND        0x04u
#define UDK_PCI_STATUS         0x06u
#define UDK_PCI_REVISION_ID    0x08u
#define UDK_PCI_CLASS_PROG     0x09u /* prog-if, subclass, class code in the three bytes from here */
#define UDK_PCI_BAR0           0x10u /* BAR N at 0x10 + 4 N */
#define UDK_PCI_SUBSYS_VENDOR  0x2cu
#define UDK_PCI_SUBSYS_ID      0x2eu
#define UDK_PCI_INTERRUPT_LINE 0x3cu

#define UDK_PCI_COMMAND_MEMORY (1u << 1) /* memory space decoding */
#define UDK_PCI_COMMAND_MASTER (1u << 2) /* bus mastering */

struct udk_driver;
struct udk_nub;
struct udk_pci_device;

/*
 * Open the PCI provider of @nub (a nub of family pci, its files handed by
 * udkd).  Config space is readable at once; a memory BAR is mapped by
 * udk_pci_device_map_bar(), an I/O BAR needs no mapping.  Logs what went
 * wrong.  -EBADF without config space, -EINVAL for an "fds" property
 * that does not name its descriptors.
 */
int udk_pci_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_pci_device **ret);
void udk_pci_device_close(struct udk_pci_device *dev); /* accepts NULL; unmaps, stops interrupts */

/* Whether the provider reaches the function through VFIO (else sysfs and UIO). */
bool udk_pci_device_is_vfio(const struct udk_pci_device *dev);

/* The bytes of config space the config file holds: 256 (conventional) or 4096 (extended).  A udkd
 * that is not root opens it read-only, and the kernel then reads only its first 64 bytes: reads past
 * them are -EIO. */
size_t udk_pci_config_size(const struct udk_pci_device *dev);

/*
 * Read or write @size bytes (1, 2 or 4; aligned to @size) of config space
 * at @offset (0..4095): -EINVAL for another size or an unaligned offset,
 * -ERANGE for an offset past udk_pci_config_size(), -EIO for a short
 * transfer, -EBADF writing a config file opened read-only.
 */
int udk_pci_config_read(struct udk_pci_device *dev, uint32_t offset, unsigned size, uint32_t *ret);
int udk_pci_config_write(struct udk_pci_device *dev, uint32_t offset, unsigned size, uint32_t value);

enum udk_pci_bar_kind {
        UDK_PCI_BAR_NONE = 0, /* not handed: unused, the upper half of a 64-bit BAR, or past six */
        UDK_PCI_BAR_MEMORY = 1,
        UDK_PCI_BAR_IO = 2, /* I/O ports: reached by pread/pwrite of the resource file, never mapped */
};
enum udk_pci_bar_kind udk_pci_bar_kind(const struct udk_pci_device *dev, unsigned bar);

/*
 * Map memory BAR @bar, its whole length, read-write, shared with the
 * device.  -ENOENT for a BAR udkd did not hand, -EOPNOTSUPP (logged) for
 * an I/O BAR, -ENODATA for an empty one.  Mapping again is 0.
 */
int udk_pci_device_map_bar(struct udk_pci_device *dev, unsigned bar);
/* The length of BAR @bar as its registers can be reached: a mapped memory BAR's or an I/O BAR's; else 0. */
size_t udk_pci_bar_size(const struct udk_pci_device *dev, unsigned bar);

/*
 * Read or write the @size-byte register (1, 2 or 4; aligned to @size) at
 * @offset of BAR @bar (a mapped memory BAR or an I/O BAR), as one access
 * of that width: -EINVAL for another size or an unaligned offset, -ERANGE
 * past the BAR's length, -ENOENT for a memory BAR that is not mapped or a
 * BAR udkd did not hand, -EIO for a short I/O transfer.
 */
int udk_pci_bar_read(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                     uint32_t *ret);
int udk_pci_bar_write(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                      uint32_t value);

/*
 * Interrupts as a source on the driver's dispatch queue.  @fn runs on the
 * queue for each interrupt with @status 0, @count the interrupts so far
 * (UIO: the kernel's count; VFIO: counted here) and @missed those that
 * came since the previous call without one of their own; after it returns
 * the interrupt is enabled again (UIO: 1 written to the node; VFIO INTx:
 * unmasked), so @fn clears the device's cause first.  When the node fails
 * (the function or its UIO driver went) the provider logs a warning, stops
 * the source and calls @fn once more with @status a negative errno.
 * Start enables the interrupt (UIO: writes 1; VFIO: MSI, else INTx, to
 * an eventfd).  -ENOENT (an info line) without a UIO node or VFIO device,
 * -EBUSY when started already.  @fn may stop the interrupts (and start
 * them again), not close the device.
 */
typedef void (*udk_pci_interrupt_fn)(void *data, int status, uint64_t count, uint64_t missed);
int udk_pci_interrupt_start(struct udk_pci_device *dev, udk_pci_interrupt_fn fn, void *data);
void udk_pci_interrupt_stop(struct udk_pci_device *dev); /* accepts NULL and a stopped one */

#endif
