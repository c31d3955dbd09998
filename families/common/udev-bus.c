/* SPDX-License-Identifier: MIT */
/* A bus driver's udev lifecycle: context, monitor, enumeration, teardown (udev-bus.h). */
#include <errno.h>
#include <string.h>

#include "udev-bus.h"

/* Uevents taken per wakeup: the source is level-triggered, so the rest wait behind the queue's others. */
#define UEVENTS_PER_WAKEUP 64u

static void bus_uevent(void *data, struct udk_dispatch_source *source)
{
        struct udk_udev_bus *bus = data;
        const struct udk_udev_bus_config *c = bus->config;

        for (unsigned i = 0; i < UEVENTS_PER_WAKEUP; i++) {
                struct udev_device *dev = udev_monitor_receive_device(bus->monitor);
                const char *action;

                if (!dev)
                        return;
                action = udev_device_get_action(dev);
                if (action && strcmp(action, "add") == 0)
                        c->add(bus->data, dev);
                else if (action && strcmp(action, "change") == 0 && c->change)
                        c->change(bus->data, dev);
                else if (action && strcmp(action, "remove") == 0)
                        c->remove(bus->data, dev);
                udev_device_unref(dev);
        }
}

static int monitor_start(struct udk_udev_bus *bus)
{
        int r;

        errno = 0;
        bus->monitor = udev_monitor_new_from_netlink(bus->udev, "udev");
        if (!bus->monitor)
                return errno ? -errno : -ENOMEM;
        r = udev_monitor_filter_add_match_subsystem_devtype(bus->monitor, bus->config->subsystem,
                                                            bus->config->devtype);
        if (r >= 0)
                r = udev_monitor_enable_receiving(bus->monitor);
        if (r >= 0)
                r = udk_dispatch_fd_create(udk_driver_queue(bus->drv), udev_monitor_get_fd(bus->monitor),
                                           UDK_DISPATCH_READABLE, bus_uevent, bus, &bus->watch);
        return r < 0 ? r : 0;
}

void udk_udev_bus_add_syspath(struct udk_udev_bus *bus, const char *syspath)
{
        struct udev_device *dev = udev_device_new_from_syspath(bus->udev, syspath);

        /* Gone between the listing and now: that device alone. */
        if (!dev) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "%s: vanished during enumeration: left out", syspath);
                return;
        }
        bus->config->add(bus->data, dev);
        udev_device_unref(dev);
}

/* One pass: the subsystem's devices of @devtype (NULL: all). */
static int scan(struct udk_udev_bus *bus, const char *devtype)
{
        const struct udk_udev_bus_config *c = bus->config;
        struct udev_enumerate *e;
        struct udev_list_entry *entry;
        int r;

        errno = 0;
        e = udev_enumerate_new(bus->udev);
        r = e ? udev_enumerate_add_match_subsystem(e, c->subsystem) : (errno ? -errno : -ENOMEM);
        if (r >= 0 && devtype)
                r = udev_enumerate_add_match_property(e, "DEVTYPE", devtype);
        if (r >= 0)
                r = udev_enumerate_scan_devices(e);
        if (r < 0 && !c->best_effort) {
                udk_driver_log(bus->drv, UDK_LOG_ERROR, "cannot enumerate %s: %s", c->what, strerror(-r));
                udev_enumerate_unref(e);
                return r;
        }
        /* Best effort: what the scan listed before it failed. */
        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "cannot enumerate %s: %s", c->what, strerror(-r));
        udev_list_entry_foreach(entry, e ? udev_enumerate_get_list_entry(e) : NULL)
        {
                udk_udev_bus_add_syspath(bus, udev_list_entry_get_name(entry));
        }
        udev_enumerate_unref(e);
        return 0;
}

int udk_udev_bus_start(struct udk_udev_bus *bus, struct udk_driver *drv, const struct udk_udev_bus_config *config,
                       void *data)
{
        int r;

        *bus = (struct udk_udev_bus){ .drv = drv, .config = config, .data = data };
        errno = 0;
        bus->udev = udev_new();
        if (!bus->udev) {
                r = errno ? -errno : -ENOMEM;
                udk_driver_log(drv, UDK_LOG_ERROR, "udev_new: %s", strerror(-r));
                return r;
        }
        r = monitor_start(bus);
        if (r < 0 && config->best_effort) {
                udk_driver_log(drv, UDK_LOG_WARN, "no udev monitor (%s): %s plugged in later are not seen",
                               strerror(-r), config->what);
                udk_dispatch_source_destroy(bus->watch);
                bus->watch = NULL;
                bus->monitor = udev_monitor_unref(bus->monitor);
        } else if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "no udev monitor: %s", strerror(-r));
                goto fail;
        }
        if (!config->scan_devtypes)
                r = scan(bus, config->devtype);
        for (const char *const *t = config->scan_devtypes; t && *t && r == 0; t++)
                r = scan(bus, *t);
        if (r == 0)
                return 0;
fail:
        udk_udev_bus_stop(bus);
        return r;
}

void udk_udev_bus_stop(struct udk_udev_bus *bus)
{
        udk_dispatch_source_destroy(bus->watch);
        bus->watch = NULL;
        bus->monitor = udev_monitor_unref(bus->monitor);
        bus->udev = udev_unref(bus->udev);
}
