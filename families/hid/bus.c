/* SPDX-License-Identifier: MIT */
/*
 * The HID bus driver: binds udkd's root nub of the hid bus and publishes a
 * nub of family "hid" for each hidraw device libudev knows (subsystem
 * hidraw), named after it (hidraw0), with the properties of its hid parent
 * and of its report descriptor (docs/families.md#hid).  Hotplug: a udev
 * monitor on the dispatch queue plugs a device in on "add" and unplugs it
 * on "remove".  A device whose descriptor does not parse is left out with
 * a warning naming it; the others are published as usual.
 *
 * It needs /sys, /run/udev and a udev netlink socket: the driver host's
 * sandbox must let a bus driver reach them (or run it with
 * UDK_DRIVERHOST_NO_SANDBOX=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include <udk/driver.h>
#include <udk/hid.h>

#include "bus-props.h"
#include "udev-bus.h"

#define HID_MINORS_MAX 1024u /* hidrawN with N below this; the kernel has 64 */

struct bus {
        struct udk_driver *drv;
        struct udk_udev_bus udev;
        uint8_t published[HID_MINORS_MAX / 8];
        struct udk_hid_descriptor desc; /* scratch: too big for the stack of a callback */
};

/* hidrawN -> N; -EINVAL for another name or one beyond HID_MINORS_MAX. */
static int hidraw_minor(const char *sysname, unsigned *ret)
{
        char *end;
        unsigned long n;

        if (!sysname || strncmp(sysname, "hidraw", 6) != 0 || sysname[6] < '0' || sysname[6] > '9')
                return -EINVAL;
        errno = 0;
        n = strtoul(sysname + 6, &end, 10);
        if (errno || *end || n >= HID_MINORS_MAX)
                return -EINVAL;
        *ret = (unsigned)n;
        return 0;
}

static const char *bus_type_name(unsigned type)
{
        switch (type) {
        case 0x01:
                return "pci";
        case 0x03:
                return "usb";
        case 0x05:
                return "bluetooth";
        case 0x06:
                return "virtual";
        case 0x18:
                return "i2c";
        default:
                return NULL;
        }
}

/* sysfs' report_descriptor of the hid device: binary, so read as a file, not as a udev attribute. */
static int read_descriptor(struct udev_device *hid, uint8_t *buf, size_t size, size_t *ret_len)
{
        char path[4096];
        size_t len = 0;
        int fd;

        if (snprintf(path, sizeof(path), "%s/report_descriptor", udev_device_get_syspath(hid)) >=
            (int)sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, size - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (n == 0 || (len += (size_t)n) == size)
                        break;
        }
        close(fd);
        *ret_len = len;
        return 0;
}

static void bus_add(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *sysname = udev_device_get_sysname(dev), *devnode = udev_device_get_devnode(dev), *id;
        struct udev_device *hid = udev_device_get_parent_with_subsystem_devtype(dev, "hid", NULL);
        uint8_t bytes[UDK_HID_DESCRIPTOR_SIZE_MAX];
        unsigned minor, type, vendor, product;
        struct bus_props props = { .n = 0 };
        char err[160], hex[BUS_PROP_VALUE_MAX];
        size_t len = 0;
        int r;

        if (hidraw_minor(sysname, &minor) < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "hidraw device '%s': not a hidrawN name: left out",
                               sysname ? sysname : "?");
                return;
        }
        if (bus->published[minor / 8] & (1u << (minor % 8)))
                return;
        if (!hid || !devnode) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: %s: left out", sysname,
                               hid ? "no device node" : "no hid parent");
                return;
        }
        id = udev_device_get_property_value(hid, "HID_ID");
        if (!id || sscanf(id, "%x:%x:%x", &type, &vendor, &product) != 3 || type > 0xffff ||
            vendor > 0xffff || product > 0xffff) {
                udk_driver_log(bus->drv, UDK_LOG_WARN,
                               "%s: HID_ID '%s' is not BUS:VENDOR:PRODUCT in hex: left out", sysname,
                               id ? id : "");
                return;
        }
        r = read_descriptor(hid, bytes, sizeof(bytes), &len);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: report descriptor not read: %s: left out",
                               sysname, strerror(-r));
                return;
        }
        r = udk_hid_descriptor_parse(bytes, len, &bus->desc, err, sizeof(err));
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s (%04x:%04x): bad report descriptor: %s: left out",
                               sysname, vendor, product, err);
                return;
        }

        if (bus_type_name(type))
                bus_props_add(&props, "bus", "%s", bus_type_name(type));
        bus_props_add(&props, "bus_type", "0x%04x", type);
        bus_props_add(&props, "vendor", "0x%04x", vendor);
        bus_props_add(&props, "product", "0x%04x", product);
        bus_props_add_text(&props, "name", udev_device_get_property_value(hid, "HID_NAME"));
        bus_props_add_text(&props, "uniq", udev_device_get_property_value(hid, "HID_UNIQ"));
        bus_props_add_text(&props, "modalias", udev_device_get_property_value(hid, "MODALIAS"));
        bus_props_add_text(&props, "devnode", devnode);
        bus_props_add(&props, "usage_page", "0x%04" PRIx32, bus->desc.usage_page);
        bus_props_add(&props, "usage", "0x%04" PRIx32, bus->desc.usage);
        bus_props_add(&props, "report_descriptor_size", "%zu", len);
        /* Whole, when it fits a property; the provider reads it from the device anyway. */
        if (len * 2 < BUS_PROP_VALUE_MAX) {
                for (size_t i = 0; i < len; i++)
                        snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
                bus_props_add(&props, "report_descriptor", "%s", hex);
        }
        r = udk_driver_publish_nub(bus->drv, minor + 1, "hid", sysname, props.p, props.n, NULL);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: not published: %s", sysname,
                               udk_driver_error(bus->drv)[0] ? udk_driver_error(bus->drv) : strerror(-r));
                return;
        }
        bus->published[minor / 8] |= (uint8_t)(1u << (minor % 8));
        udk_driver_log(bus->drv, UDK_LOG_INFO,
                       "%s (%04x:%04x, usage 0x%04" PRIx32 ":0x%04" PRIx32 ") plugged in", sysname, vendor,
                       product, bus->desc.usage_page, bus->desc.usage);
}

static void bus_remove(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *sysname = udev_device_get_sysname(dev);
        unsigned minor;
        int r;

        if (hidraw_minor(sysname, &minor) < 0 || !(bus->published[minor / 8] & (1u << (minor % 8))))
                return;
        bus->published[minor / 8] &= (uint8_t) ~(1u << (minor % 8));
        r = udk_driver_remove_nub(bus->drv, minor + 1);
        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: not removed: %s", sysname, strerror(-r));
        else
                udk_driver_log(bus->drv, UDK_LOG_INFO, "%s unplugged", sysname);
}

static const struct udk_udev_bus_config bus_udev = {
        .subsystem = "hidraw",
        .what = "hidraw devices",
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
        .name = "hid-bus",
        .description = "the HID family's bus: a nub per hidraw device, hotplugged through udev",
        .state_size = sizeof(struct bus),
        .start = bus_start,
        .stop = bus_stop,
};

UDK_DRIVER_EXPORT(bus_descriptor);
