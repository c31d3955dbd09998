/* SPDX-License-Identifier: MIT */
/*
 * The PCI bus driver: binds udkd's root nub of the pci bus and publishes a
 * nub of family "pci" for each PCI function libudev knows (subsystem pci),
 * named after its slot (0000:00:1f.3 -> pci-0000-00-1f.3), with its ids,
 * class, revision and modalias read from sysfs (docs/families.md#pci).
 * Hotplug: a udev monitor on the dispatch queue plugs a function in on
 * "add" and unplugs it on "remove".  A function whose attributes are
 * missing, unreadable or malformed (a device vanishing while it is read)
 * is left out with one warning naming it; the others are published as
 * usual.
 *
 * It needs /sys, /run/udev and a udev netlink socket: the driver host's
 * sandbox must let a bus driver reach them (or run it with
 * UDK_DRIVERHOST_NO_SANDBOX=1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>

#include <udk/driver.h>

#include "bus-props.h"
#include "udev-bus.h"

#define PCI_PUBLISHED_MAX 512u /* functions at once; a large server has a few hundred */

struct published {
        uint32_t handle; /* 0: a free slot */
        char slot[16];
};

struct bus {
        struct udk_driver *drv;
        struct udk_udev_bus udev;
        uint32_t next_handle;
        struct published published[PCI_PUBLISHED_MAX];
};

/* DDDD:BB:DD.F, lower-case hex, as the kernel names a function: 0 or -EINVAL. */
static int slot_check(const char *s)
{
        static const char form[] = "xxxx:xx:xx.x";

        if (!s || strlen(s) != sizeof(form) - 1)
                return -EINVAL;
        for (size_t i = 0; form[i]; i++) {
                bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');

                if (form[i] == 'x' ? !hex : s[i] != form[i])
                        return -EINVAL;
        }
        return s[11] <= '7' ? 0 : -EINVAL; /* a function number is 0..7 */
}

static struct published *published_find(struct bus *bus, const char *slot)
{
        for (size_t i = 0; i < PCI_PUBLISHED_MAX; i++)
                if (bus->published[i].handle && strcmp(bus->published[i].slot, slot) == 0)
                        return &bus->published[i];
        return NULL;
}

/*
 * Attribute @name of @dev as "0x" and exactly @digits hex digits (the
 * kernel's "0x%04x", "0x%06x", "0x%02x"): 0, else -ENODATA (absent or
 * unreadable) or -EINVAL (malformed or truncated) with @why filled.
 */
static int attr_hex(struct udev_device *dev, const char *name, unsigned digits, unsigned *ret, char *why,
                    size_t why_size)
{
        const char *v = udev_device_get_sysattr_value(dev, name);
        char *end;
        unsigned long n;

        if (!v) {
                snprintf(why, why_size, "%s is missing or unreadable", name);
                return -ENODATA;
        }
        errno = 0;
        n = strtoul(v, &end, 16);
        if (strncmp(v, "0x", 2) != 0 || strlen(v) != digits + 2 || errno || *end) {
                snprintf(why, why_size, "%s '%.32s' is not 0x and %u hex digits", name, v, digits);
                return -EINVAL;
        }
        *ret = (unsigned)n;
        return 0;
}

/* A modalias udkd takes: printable ASCII without spaces, at most BUS_PROP_VALUE_MAX - 1 bytes. */
static bool modalias_ok(const char *s)
{
        size_t n = 0;

        for (; s && *s; s++, n++)
                if (*s <= 0x20 || *s >= 0x7f)
                        return false;
        return s && n > 0 && n < BUS_PROP_VALUE_MAX;
}

static void bus_add(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *slot = udev_device_get_sysname(dev), *modalias;
        unsigned vendor, device, sub_vendor, sub_device, klass, revision;
        struct bus_props props = { .n = 0 };
        struct published *p = NULL;
        char name[32], why[96];
        int r;

        if (slot_check(slot) < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "pci device '%s': not a DDDD:BB:DD.F name: left out",
                               slot ? slot : "?");
                return;
        }
        if (published_find(bus, slot))
                return;
        if (attr_hex(dev, "vendor", 4, &vendor, why, sizeof(why)) < 0 ||
            attr_hex(dev, "device", 4, &device, why, sizeof(why)) < 0 ||
            attr_hex(dev, "subsystem_vendor", 4, &sub_vendor, why, sizeof(why)) < 0 ||
            attr_hex(dev, "subsystem_device", 4, &sub_device, why, sizeof(why)) < 0 ||
            attr_hex(dev, "class", 6, &klass, why, sizeof(why)) < 0 ||
            attr_hex(dev, "revision", 2, &revision, why, sizeof(why)) < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: %s: left out", slot, why);
                return;
        }
        modalias = udev_device_get_sysattr_value(dev, "modalias");
        if (!modalias_ok(modalias)) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: modalias %s: left out", slot,
                               modalias ? "is empty, too long or not printable"
                                        : "is missing or unreadable");
                return;
        }
        for (size_t i = 0; i < PCI_PUBLISHED_MAX && !p; i++)
                if (!bus->published[i].handle)
                        p = &bus->published[i];
        if (!p) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: more than %u functions: left out", slot,
                               PCI_PUBLISHED_MAX);
                return;
        }

        bus_props_add(&props, "slot", "%s", slot);
        bus_props_add(&props, "vendor", "0x%04x", vendor);
        bus_props_add(&props, "device", "0x%04x", device);
        bus_props_add(&props, "subsystem_vendor", "0x%04x", sub_vendor);
        bus_props_add(&props, "subsystem_device", "0x%04x", sub_device);
        bus_props_add(&props, "class", "0x%06x", klass);
        bus_props_add(&props, "class_code", "0x%02x", klass >> 16);
        bus_props_add(&props, "subclass", "0x%02x", (klass >> 8) & 0xff);
        bus_props_add(&props, "prog_if", "0x%02x", klass & 0xff);
        bus_props_add(&props, "revision", "0x%02x", revision);
        bus_props_add(&props, "modalias", "%s", modalias);
        /* Nub names take letters, digits, '_', '.', '-': the slot's colons become '-'. */
        snprintf(name, sizeof(name), "pci-%.4s-%.2s-%.4s", slot, slot + 5, slot + 8);
        if (bus->next_handle == 0)
                bus->next_handle = 1;
        r = udk_driver_publish_nub(bus->drv, bus->next_handle, "pci", name, props.p, props.n, NULL);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: not published: %s", slot,
                               udk_driver_error(bus->drv)[0] ? udk_driver_error(bus->drv) : strerror(-r));
                return;
        }
        p->handle = bus->next_handle++;
        snprintf(p->slot, sizeof(p->slot), "%s", slot);
        udk_driver_log(bus->drv, UDK_LOG_INFO, "%s (%04x:%04x, class 0x%06x) plugged in as %s", slot, vendor,
                       device, klass, name);
}

static void bus_remove(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *slot = udev_device_get_sysname(dev);
        struct published *p;
        int r;

        if (slot_check(slot) < 0 || !(p = published_find(bus, slot)))
                return;
        r = udk_driver_remove_nub(bus->drv, p->handle);
        p->handle = 0;
        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: not removed: %s", slot, strerror(-r));
        else
                udk_driver_log(bus->drv, UDK_LOG_INFO, "%s unplugged", slot);
}

static const struct udk_udev_bus_config bus_udev = {
        .subsystem = "pci",
        .what = "pci devices",
        .add = bus_add,
        .change = bus_add,
        .remove = bus_remove,
};

static void bus_stop(struct udk_driver *drv, void *state)
{
        struct bus *bus = state;

        /* The nubs go with the host: udkd removes them and stops their drivers. */
        udk_udev_bus_stop(&bus->udev);
}

static int bus_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct bus *bus = state;

        bus->drv = drv;
        return udk_udev_bus_start(&bus->udev, drv, &bus_udev, bus);
}

static const struct udk_driver_descriptor bus_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "pci-bus",
        .description = "the PCI family's bus: a nub per PCI function, hotplugged through udev",
        .state_size = sizeof(struct bus),
        .start = bus_start,
        .stop = bus_stop,
};

UDK_DRIVER_EXPORT(bus_descriptor);
