/* SPDX-License-Identifier: MIT */
/*
 * The serial family's bus driver.  It binds udkd's root nub of the serial
 * bus (family root, bus = serial) and publishes one nub of family "serial"
 * per tty that has a parent device (a USB serial adapter, a UART), found
 * with libudev, and per tty its personality names (property.ttys, such as
 * a pseudo-terminal's slave).  A udev monitor, an fd source on the
 * dispatch queue, plugs them in and out as they come and go.
 *
 * Its personality says `sandbox = udev`: the host then lets it read /sys,
 * /run/udev and /etc/udev and open a netlink udev monitor, and nothing
 * else; it never opens a tty.  udkd opens a nub's `devnode` for the driver
 * bound to the nub (server/devnode.c checks that it is a tty).
 *
 * A nub's properties (docs/families.md):
 *   devnode, subsystem (tty), parent_subsystem, driver (the parent's),
 *   modalias (the nearest ancestor's), and from a USB parent: vendor,
 *   product, revision (idVendor, idProduct, bcdDevice as 0x%04x),
 *   serial, manufacturer, product_name; a named tty has source = config.
 * Bad input is one device's problem: an attribute that cannot be read or
 * is not what it should be, a device that vanished while it was looked
 * at, is a warning naming the device, and the others are published.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>

#include <udk/driver-protocol.h>
#include <udk/driver.h>
#include <udk/util.h>

#include "udev-bus.h"

#define BUS_NUBS_MAX  64u
#define BUS_PROPS_MAX 16u
#define BUS_NAMED_MAX 8u

struct bus_nub {
        uint32_t handle;
        char key[256]; /* the syspath, or "config:" and the named path */
        char devnode[UDK_DPROP_VALUE_MAX];
};

struct bus {
        struct udk_driver *drv;
        struct udk_udev_bus udev;
        struct bus_nub nubs[BUS_NUBS_MAX];
        size_t n_nubs;
        uint32_t next_handle;
};

/* A nub being built: its properties, their texts kept here. */
struct nub_props {
        struct udk_nub_property props[BUS_PROPS_MAX];
        char values[BUS_PROPS_MAX][UDK_DPROP_VALUE_MAX];
        size_t n;
};

static void props_add(struct nub_props *p, const char *key, const char *value)
{
        if (p->n == BUS_PROPS_MAX)
                return;
        udk_strlcpy(p->values[p->n], value, sizeof(p->values[0]));
        p->props[p->n] = (struct udk_nub_property){ key, p->values[p->n] };
        p->n++;
}

static struct bus_nub *bus_find(struct bus *bus, const char *key)
{
        for (size_t i = 0; i < bus->n_nubs; i++)
                if (strcmp(bus->nubs[i].key, key) == 0)
                        return &bus->nubs[i];
        return NULL;
}

static bool bus_has_devnode(struct bus *bus, const char *devnode)
{
        for (size_t i = 0; i < bus->n_nubs; i++)
                if (strcmp(bus->nubs[i].devnode, devnode) == 0)
                        return true;
        return false;
}

static int bus_publish(struct bus *bus, const char *key, const char *name, const struct nub_props *p,
                       const char *devnode)
{
        struct bus_nub *n;
        int r;

        if (bus_find(bus, key))
                return 0; /* seen already (the monitor and the enumeration both saw it) */
        if (bus->n_nubs == BUS_NUBS_MAX) {
                udk_driver_log(bus->drv, UDK_LOG_WARN,
                               "tty %s: %u ttys published already, the most: left out", name, BUS_NUBS_MAX);
                return -ENOSPC;
        }
        n = &bus->nubs[bus->n_nubs];
        n->handle = bus->next_handle++;
        r = udk_driver_publish_nub(bus->drv, n->handle, "serial", name, p->props, p->n, NULL);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "tty %s: not published: %s", name,
                               udk_driver_error(bus->drv)[0] ? udk_driver_error(bus->drv) : strerror(-r));
                return r;
        }
        udk_strlcpy(n->key, key, sizeof(n->key));
        udk_strlcpy(n->devnode, devnode, sizeof(n->devnode));
        bus->n_nubs++;
        udk_driver_log(bus->drv, UDK_LOG_INFO, "tty %s (%s) plugged in", name, devnode);
        return 0;
}

static void bus_unpublish(struct bus *bus, const char *key, const char *name)
{
        struct bus_nub *n = bus_find(bus, key);
        int r;

        if (!n)
                return;
        r = udk_driver_remove_nub(bus->drv, n->handle);
        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "tty %s: not removed: %s", name, strerror(-r));
        else
                udk_driver_log(bus->drv, UDK_LOG_INFO, "tty %s unplugged", name);
        *n = bus->nubs[--bus->n_nubs];
}

/* A sysfs attribute as text fit for a property: printable, shorter than a property value.  NULL when
 * the device has none; a bad one is warned about (once per device) and left out. */
static const char *attr_text(struct bus *bus, struct udev_device *dev, const char *tty, const char *attr)
{
        const char *v = udev_device_get_sysattr_value(dev, attr);

        if (!v)
                return NULL;
        if (strlen(v) >= UDK_DPROP_VALUE_MAX) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "tty %s: %s of %zu bytes (at most %u): left out", tty,
                               attr, strlen(v), UDK_DPROP_VALUE_MAX - 1);
                return NULL;
        }
        for (const char *c = v; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
                        udk_driver_log(bus->drv, UDK_LOG_WARN,
                                       "tty %s: %s holds a byte 0x%02x that is not text: "
                                       "left out",
                                       tty, attr, (unsigned char)*c);
                        return NULL;
                }
        return v;
}

/* A USB id attribute (idVendor, idProduct, bcdDevice): exactly 4 hex digits, as 0x%04x in @out. */
static int attr_id(struct bus *bus, struct udev_device *usb, const char *tty, const char *attr, char *out,
                   size_t size)
{
        const char *v = udev_device_get_sysattr_value(usb, attr);

        if (!v) {
                udk_driver_log(bus->drv, UDK_LOG_WARN,
                               "tty %s: its USB device %s has no readable %s: left out", tty,
                               udev_device_get_sysname(usb), attr);
                return -ENODATA;
        }
        if (strlen(v) != 4 || strspn(v, "0123456789abcdefABCDEF") != 4) {
                udk_driver_log(bus->drv, UDK_LOG_WARN,
                               "tty %s: its USB device %s has %s '%.16s', not 4 hex digits: left out", tty,
                               udev_device_get_sysname(usb), attr, v);
                return -EINVAL;
        }
        snprintf(out, size, "0x%s", v);
        for (char *c = out + 2; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                        *c = (char)(*c - 'A' + 'a');
        return 0;
}

/* Publish the tty @dev if it has a parent device; a problem with it is a warning about it alone. */
static void bus_add(void *data, struct udev_device *dev)
{
        struct bus *bus = data;
        const char *tty = udev_device_get_sysname(dev), *devnode = udev_device_get_devnode(dev), *v;
        struct udev_device *parent = udev_device_get_parent(dev), *usb;
        struct nub_props p = { 0 };
        char id[16];

        if (!parent) {
                udk_driver_log(bus->drv, UDK_LOG_DEBUG, "tty %s: no parent device (a virtual tty): skipped",
                               tty);
                return;
        }
        if (!devnode) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "tty %s: no device node (DEVNAME): left out", tty);
                return;
        }
        if (strlen(devnode) >= UDK_DPROP_VALUE_MAX) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "tty %s: device node path too long: left out", tty);
                return;
        }
        props_add(&p, "devnode", devnode);
        props_add(&p, "subsystem", "tty");
        if ((v = udev_device_get_subsystem(parent)))
                props_add(&p, "parent_subsystem", v);
        if ((v = udev_device_get_driver(parent)))
                props_add(&p, "driver", v);
        for (struct udev_device *a = parent; a; a = udev_device_get_parent(a))
                if ((v = attr_text(bus, a, tty, "modalias"))) {
                        props_add(&p, "modalias", v);
                        break;
                }
        usb = udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device");
        if (usb) {
                if (attr_id(bus, usb, tty, "idVendor", id, sizeof(id)) < 0)
                        return;
                props_add(&p, "vendor", id);
                if (attr_id(bus, usb, tty, "idProduct", id, sizeof(id)) < 0)
                        return;
                props_add(&p, "product", id);
                if (udev_device_get_sysattr_value(usb, "bcdDevice")) {
                        if (attr_id(bus, usb, tty, "bcdDevice", id, sizeof(id)) < 0)
                                return;
                        props_add(&p, "revision", id);
                }
                if ((v = attr_text(bus, usb, tty, "serial")))
                        props_add(&p, "serial", v);
                if ((v = attr_text(bus, usb, tty, "manufacturer")))
                        props_add(&p, "manufacturer", v);
                if ((v = attr_text(bus, usb, tty, "product")))
                        props_add(&p, "product_name", v);
        }
        bus_publish(bus, udev_device_get_syspath(dev), tty, &p, devnode);
}

/* property.ttys: paths of ttys udev does not know (a pseudo-terminal) or that have no parent. */
static void bus_add_named(struct bus *bus, const char *list)
{
        char buf[UDK_DPROP_VALUE_MAX], *save = NULL, *path;
        unsigned n = 0;

        udk_strlcpy(buf, list, sizeof(buf));
        for (path = strtok_r(buf, " \t,", &save); path; path = strtok_r(NULL, " \t,", &save)) {
                struct nub_props p = { 0 };
                char key[256], name[UDK_OBJECT_NAME_MAX];
                size_t len = 0;

                if (++n > BUS_NAMED_MAX) {
                        udk_driver_log(bus->drv, UDK_LOG_WARN,
                                       "property.ttys: more than %u ttys: '%s' left out", BUS_NAMED_MAX,
                                       path);
                        continue;
                }
                if (strncmp(path, "/dev/", 5) != 0 || !path[5]) {
                        udk_driver_log(bus->drv, UDK_LOG_WARN,
                                       "property.ttys: '%s' is not a path under /dev: "
                                       "left out",
                                       path);
                        continue;
                }
                if (bus_has_devnode(bus, path))
                        continue; /* udev found it: that nub has more to say */
                /* The name: the path after /dev/, '/' as '-' (/dev/pts/3: pts-3). */
                for (const char *c = path + 5; *c && len + 1 < sizeof(name); c++)
                        name[len++] = *c == '/' ? '-' : *c;
                name[len] = '\0';
                snprintf(key, sizeof(key), "config:%s", path);
                props_add(&p, "devnode", path);
                props_add(&p, "subsystem", "tty");
                props_add(&p, "source", "config");
                bus_publish(bus, key, name, &p, path);
        }
}

static void bus_remove(void *data, struct udev_device *dev)
{
        bus_unpublish(data, udev_device_get_syspath(dev), udev_device_get_sysname(dev));
}

/* Without a monitor (no netlink here) or an enumeration the ttys found are still published. */
static const struct udk_udev_bus_config bus_udev = {
        .subsystem = "tty",
        .what = "ttys",
        .best_effort = true,
        .add = bus_add,
        .remove = bus_remove,
};

static void bus_stop(struct udk_driver *drv, void *state)
{
        struct bus *bus = state;

        /* The nubs go with the host: udkd removes them and stops their drivers. */
        udk_udev_bus_stop(&bus->udev);
        bus->n_nubs = 0;
}

static int bus_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct bus *bus = state;
        const char *named = udk_driver_personality_property(drv, "ttys");
        int r;

        bus->drv = drv;
        bus->next_handle = 1;
        r = udk_udev_bus_start(&bus->udev, drv, &bus_udev, bus);
        if (r < 0)
                return r;
        if (named)
                bus_add_named(bus, named);
        udk_driver_log(drv, UDK_LOG_INFO, "%zu tty%s published", bus->n_nubs, bus->n_nubs == 1 ? "" : "s");
        return 0;
}

static const struct udk_driver_descriptor bus_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "serial-bus",
        .description = "the serial family's bus: ttys with a parent device (libudev) and ttys named in its "
                       "personality",
        .state_size = sizeof(struct bus),
        .start = bus_start,
        .stop = bus_stop,
};

UDK_DRIVER_EXPORT(bus_descriptor);
