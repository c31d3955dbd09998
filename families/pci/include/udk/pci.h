/* SPDX-License-Identifier: MIT */
/*
 * The PCI family's provider: what a PCI driver is handed.  udkd opens the
 * function's sysfs config file and resource0 (BAR0) for it, as the nub's
 * descriptors 0 and 1 (docs/families.md#pci); the provider reads and
 * writes config space through the first and maps BAR0 through the second.
 * Registers are little-endian, as PCI's are; values come back in the CPU's
 * order.
 */
#ifndef UDK_PCI_H
#define UDK_PCI_H

#include <stddef.h>
#include <stdint.h>

#define UDK_PCI_CONFIG_SIZE_MAX 4096u /* PCI Express extended config space */

/* Config space offsets the family and its example read. */
#define UDK_PCI_VENDOR_ID      0x00u
#define UDK_PCI_DEVICE_ID      0x02u
#define UDK_PCI_COMMAND        0x04u
#define UDK_PCI_STATUS         0x06u
#define UDK_PCI_REVISION_ID    0x08u
#define UDK_PCI_CLASS_PROG     0x09u /* prog-if, subclass, class code in the three bytes from here */
#define UDK_PCI_BAR0           0x10u
#define UDK_PCI_SUBSYS_VENDOR  0x2cu
#define UDK_PCI_SUBSYS_ID      0x2eu
#define UDK_PCI_INTERRUPT_LINE 0x3cu

#define UDK_PCI_COMMAND_MEMORY (1u << 1) /* memory space decoding */
#define UDK_PCI_COMMAND_MASTER (1u << 2) /* bus mastering */

struct udk_driver;
struct udk_nub;
struct udk_pci_device;

/*
 * Open the PCI provider of @nub (a nub of family pci, its config file and
 * resource0 handed by udkd as the nub's descriptors 0 and 1).  Config
 * space is readable at once; BAR0 is mapped by udk_pci_device_map_bar().
 * Logs what went wrong.  -EBADF without a config descriptor.
 */
int udk_pci_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_pci_device **ret);
void udk_pci_device_close(struct udk_pci_device *dev); /* accepts NULL; unmaps */

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

/*
 * Map BAR @bar, its whole length (the resource file's size), read-write,
 * shared with the device.  Only BAR0 is handed by udkd: -ENOENT for
 * another, or when the function has no memory BAR0; -ENODATA for an
 * empty one.  Mapping again is 0.
 */
int udk_pci_device_map_bar(struct udk_pci_device *dev, unsigned bar);
/* The length of mapped BAR @bar, 0 when it is not mapped. */
size_t udk_pci_bar_size(const struct udk_pci_device *dev, unsigned bar);

/*
 * Read or write the @size-byte register (1, 2 or 4; aligned to @size) at
 * @offset of mapped BAR @bar, as one access of that width: -EINVAL for
 * another size or an unaligned offset, -ERANGE past the BAR's length,
 * -ENOENT for a BAR that is not mapped.
 */
int udk_pci_bar_read(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                     uint32_t *ret);
int udk_pci_bar_write(struct udk_pci_device *dev, unsigned bar, uint64_t offset, unsigned size,
                      uint32_t value);

#endif
