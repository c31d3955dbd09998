/* SPDX-License-Identifier: MIT */
/*
 * The USB bus driver: binds udkd's root nub of the usb bus and publishes a
 * nub of family "usb" for each USB device libudev knows (subsystem usb,
 * devtype usb_device), named usb-<bus path> (usb-1-2), and one for each of
 * its interfaces (usb_interface), named usb-<bus path>_<config>.<number>
 * (usb-1-2_1.0), whose "parent" property names the device's nub
 * (docs/families.md#usb).  Hotplug: a udev monitor on the dispatch queue
 * plugs a device or interface in on "add" and unplugs it on "remove" (a
 * device's interfaces with it).  An attribute that cannot be read or does
 * not parse leaves that device (or interface) out with one warning naming
 * it; the others are published as usual.
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

#define NUBS_MAX  512u /* devices and interfaces at once */
#define NAME_MAX_ 64u  /* udkd's UDK_OBJECT_NAME_MAX, its NUL included */

struct published {
        char sysname[NAME_MAX_]; /* "" for a free slot */
};

struct bus {
        struct udk_driver *drv;
        struct udk_udev_bus udev;
        struct published nubs[NUBS_MAX]; /* handle: index + 1 */
};

/* sysfs prints these with a fixed width ("%04x", "%02x"): fewer digits is a truncated attribute. */
static int attr_hex(struct bus *bus, struct udev_device *dev, const char *attr, size_t digits, unsigned *ret)
{
        const char *v = udev_device_get_sysattr_value(dev, attr);
        const char *name = udev_device_get_sysname(dev);

        if (!v) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: %s unreadable: left out", name, attr);
                return -ENOENT;
        }
        if (strlen(v) != digits || strspn(v, "0123456789abcdefABCDEF") != digits) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: %s '%s' is not %zu hex digits: left out",
                               name, attr, v, digits);
                return -EINVAL;
        }
        *ret = (unsigned)strtoul(v, NULL, 16);
        return 0;
}

/* Decimal, some of them padded with spaces ("%2d": bNumInterfaces, bAlternateSetting). */
static int attr_dec(struct bus *bus, struct udev_device *dev, const char *attr, unsigned max, unsigned *ret)
{
        const char *v = udev_device_get_sysattr_value(dev, attr), *digits = v;
        const char *name = udev_device_get_sysname(dev);
        char *end;
        unsigned long n;

        if (!v) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: %s unreadable: left out", name, attr);
                return -ENOENT;
        }
        while (*digits == ' ')
                digits++;
        errno = 0;
        n = strtoul(digits, &end, 10);
        if (digits[0] < '0' || digits[0] > '9' || errno || *end || n > max) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: %s '%s' is not a number (0..%u): left out",
                               name, attr, v, max);
                return -EINVAL;
        }
        *ret = (unsigned)n;
        return 0;
}

/* The kernel's speed in Mb/s: "1.5", "12", "480", "5000", ... */
static int attr_speed(struct bus *bus, struct udev_device *dev, const char **ret)
{
        const char *v = udev_device_get_sysattr_value(dev, "speed");

        if (!v || !*v || strspn(v, "0123456789.") != strlen(v) || strlen(v) >= BUS_PROP_VALUE_MAX) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: speed %s%s%s: left out",
                               udev_device_get_sysname(dev), v ? "'" : "unreadable", v ? v : "",
                               v ? "' is not a number of Mb/s" : "");
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static struct published *nub_find(struct bus *bus, const char *sysname)
{
        for (size_t i = 0; i < NUBS_MAX; i++)
                if (strcmp(bus->nubs[i].sysname, sysname) == 0)
                        return &bus->nubs[i];
        return NULL;
}

static void nub_publish(struct bus *bus, const char *sysname, const char *name,
                        const struct bus_props *props)
{
        struct published *slot = NULL;
        int r;

        for (size_t i = 0; i < NUBS_MAX && !slot; i++)
                if (!bus->nubs[i].sysname[0])
                        slot = &bus->nubs[i];
        if (!slot) {
                udk_driver_log(bus->drv, UDK_LOG_WARN,
                               "usb %s: more than %u devices and interfaces: left out", sysname, NUBS_MAX);
                return;
        }
        r = udk_driver_publish_nub(bus->drv, (uint32_t)(slot - bus->nubs) + 1, "usb", name, props->p,
                                   props->n, NULL);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: not published: %s", sysname,
                               udk_driver_error(bus->drv)[0] ? udk_driver_error(bus->drv) : strerror(-r));
                return;
        }
        snprintf(slot->sysname, sizeof(slot->sysname), "%s", sysname);
        udk_driver_log(bus->drv, UDK_LOG_INFO, "%s plugged in", name);
}

static void nub_unpublish(struct bus *bus, struct published *slot)
{
        int r = udk_driver_remove_nub(bus->drv, (uint32_t)(slot - bus->nubs) + 1);

        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: not removed: %s", slot->sysname,
                               strerror(-r));
        else
                udk_driver_log(bus->drv, UDK_LOG_INFO, "usb %s unplugged", slot->sysname);
        slot->sysname[0] = '\0';
}

static void device_add(struct bus *bus, struct udev_device *dev)
{
        const char *sysname = udev_device_get_sysname(dev), *devnode = udev_device_get_devnode(dev), *speed;
        unsigned vendor, product, bcd, cls, subcls, proto, busnum, devnum, n_ifaces;
        struct bus_props props = { .n = 0 };
        char name[NAME_MAX_];

        if (attr_hex(bus, dev, "idVendor", 4, &vendor) < 0 ||
            attr_hex(bus, dev, "idProduct", 4, &product) < 0 ||
            attr_hex(bus, dev, "bcdDevice", 4, &bcd) < 0 ||
            attr_hex(bus, dev, "bDeviceClass", 2, &cls) < 0 ||
            attr_hex(bus, dev, "bDeviceSubClass", 2, &subcls) < 0 ||
            attr_hex(bus, dev, "bDeviceProtocol", 2, &proto) < 0 ||
            attr_dec(bus, dev, "busnum", 999, &busnum) < 0 ||
            attr_dec(bus, dev, "devnum", 999, &devnum) < 0 ||
            attr_dec(bus, dev, "bNumInterfaces", 255, &n_ifaces) < 0 || attr_speed(bus, dev, &speed) < 0)
                return;
        snprintf(name, sizeof(name), "usb-%s", sysname);
        bus_props_add(&props, "vendor", "0x%04x", vendor);
        bus_props_add(&props, "product", "0x%04x", product);
        bus_props_add(&props, "bcdDevice", "0x%04x", bcd);
        bus_props_add(&props, "class", "0x%02x", cls);
        bus_props_add(&props, "subclass", "0x%02x", subcls);
        bus_props_add(&props, "protocol", "0x%02x", proto);
        bus_props_add(&props, "interfaces", "%u", n_ifaces);
        bus_props_add_text(&props, "manufacturer", udev_device_get_sysattr_value(dev, "manufacturer"));
        bus_props_add_text(&props, "product_name", udev_device_get_sysattr_value(dev, "product"));
        bus_props_add_text(&props, "serial", udev_device_get_sysattr_value(dev, "serial"));
        bus_props_add(&props, "speed", "%s", speed);
        bus_props_add(&props, "bus_path", "%s", sysname);
        bus_props_add(&props, "busnum", "%u", busnum);
        bus_props_add(&props, "devnum", "%u", devnum);
        bus_props_add_text(&props, "devnode", devnode);
        nub_publish(bus, sysname, name, &props);
}

static void interface_add(struct bus *bus, struct udev_device *dev)
{
        const char *sysname = udev_device_get_sysname(dev), *modalias, *colon = strchr(sysname, ':'), *speed;
        struct udev_device *parent = udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device");
        unsigned vendor, product, bcd, number, alt, cls, subcls, proto, n_eps;
        struct bus_props props = { .n = 0 };
        char name[NAME_MAX_];

        if (!parent || !colon) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: %s: left out", sysname,
                               colon ? "no usb_device parent" : "not a DEVICE:CONFIG.INTERFACE name");
                return;
        }
        /* A device left out (with its warning) leaves its interfaces out, quietly. */
        if (!nub_find(bus, udev_device_get_sysname(parent)))
                return;
        if (attr_hex(bus, dev, "bInterfaceNumber", 2, &number) < 0 ||
            attr_dec(bus, dev, "bAlternateSetting", 255, &alt) < 0 ||
            attr_hex(bus, dev, "bInterfaceClass", 2, &cls) < 0 ||
            attr_hex(bus, dev, "bInterfaceSubClass", 2, &subcls) < 0 ||
            attr_hex(bus, dev, "bInterfaceProtocol", 2, &proto) < 0 ||
            attr_hex(bus, dev, "bNumEndpoints", 2, &n_eps) < 0 ||
            attr_hex(bus, parent, "idVendor", 4, &vendor) < 0 ||
            attr_hex(bus, parent, "idProduct", 4, &product) < 0 ||
            attr_hex(bus, parent, "bcdDevice", 4, &bcd) < 0 || attr_speed(bus, parent, &speed) < 0)
                return;
        modalias = udev_device_get_sysattr_value(dev, "modalias");
        if (!modalias || strncmp(modalias, "usb:", 4) != 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: modalias %s%s%s: left out", sysname,
                               modalias ? "'" : "unreadable", modalias ? modalias : "",
                               modalias ? "' is not usb:..." : "");
                return;
        }
        snprintf(name, sizeof(name), "usb-%.*s_%s", (int)(colon - sysname), sysname, colon + 1);
        bus_props_add(&props, "parent", "usb-%s", udev_device_get_sysname(parent));
        bus_props_add(&props, "vendor", "0x%04x", vendor);
        bus_props_add(&props, "product", "0x%04x", product);
        bus_props_add(&props, "bcdDevice", "0x%04x", bcd);
        bus_props_add(&props, "interface", "%u", number);
        bus_props_add(&props, "alternate", "%u", alt);
        bus_props_add(&props, "class", "0x%02x", cls);
        bus_props_add(&props, "subclass", "0x%02x", subcls);
        bus_props_add(&props, "protocol", "0x%02x", proto);
        bus_props_add(&props, "endpoints", "%u", n_eps);
        bus_props_add_text(&props, "serial", udev_device_get_sysattr_value(parent, "serial"));
        bus_props_add(&props, "speed", "%s", speed);
        bus_props_add(&props, "bus_path", "%s", udev_device_get_sysname(parent));
        /* The device's node: an interface's driver talks to the device through it. */
        bus_props_add_text(&props, "devnode", udev_device_get_devnode(parent));
        bus_props_add_text(&props, "modalias", modalias);
        nub_publish(bus, sysname, name, &props);
}

static void bus_add(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *devtype = udev_device_get_devtype(dev), *sysname = udev_device_get_sysname(dev);

        if (!sysname || !devtype || nub_find(bus, sysname))
                return;
        if (strlen(sysname) + strlen("usb-") >= NAME_MAX_) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "usb %s: a name too long for a nub: left out",
                               sysname);
                return;
        }
        if (strcmp(devtype, "usb_device") == 0)
                device_add(bus, dev);
        else if (strcmp(devtype, "usb_interface") == 0)
                interface_add(bus, dev);
}

/* A device goes with its interfaces (the kernel sends theirs first; a lost event must not leave them). */
static void bus_remove(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *sysname = udev_device_get_sysname(dev);
        size_t len;

        if (!sysname)
                return;
        len = strlen(sysname);
        for (size_t i = 0; i < NUBS_MAX; i++)
                if (strncmp(bus->nubs[i].sysname, sysname, len) == 0 && bus->nubs[i].sysname[len] == ':')
                        nub_unpublish(bus, &bus->nubs[i]);
        for (size_t i = 0; i < NUBS_MAX; i++)
                if (strcmp(bus->nubs[i].sysname, sysname) == 0)
                        nub_unpublish(bus, &bus->nubs[i]);
}

/* Devices first, then interfaces: an interface is published only after its device. */
static const char *const bus_scan_devtypes[] = { "usb_device", "usb_interface", NULL };

static const struct udk_udev_bus_config bus_udev = {
        .subsystem = "usb",
        .scan_devtypes = bus_scan_devtypes,
        .what = "usb devices",
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
        .name = "usb-bus",
        .description = "the USB family's bus: a nub per device and per interface, hotplugged through udev",
        .state_size = sizeof(struct bus),
        .start = bus_start,
        .stop = bus_stop,
};

UDK_DRIVER_EXPORT(bus_descriptor);
