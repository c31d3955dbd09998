/* SPDX-License-Identifier: MIT */
/*
 * What the bus drivers built on libudev share (families/{hid,pci,usb,
 * serial}/bus.c): a udev context, a netlink monitor filtered on one
 * subsystem and read by an fd source on the driver's dispatch queue, the
 * enumeration of the devices already there once the monitor listens (a
 * device plugged in between is then seen twice, never missed), and the
 * teardown.  What a device's nub is stays the family's, in its callbacks.
 *
 * Bad input is one device's problem: a device the enumeration listed
 * that is gone when it is opened is one warning naming its syspath, and
 * the enumeration goes on with the next.
 */
#ifndef UDK_FAMILIES_UDEV_BUS_H
#define UDK_FAMILIES_UDEV_BUS_H

#include <stdbool.h>

#include <libudev.h>

#include <udk/driver.h>

struct udk_udev_bus_config {
        const char *subsystem; /* the monitor's and the enumeration's: "hidraw" */
        const char *devtype;   /* only that devtype of it ("usb_device"), or NULL for all */
        /*
         * The enumeration in passes, one per devtype, in this order (a
         * USB device before its interfaces), NULL-ended; NULL: one pass
         * over @devtype.
         */
        const char *const *scan_devtypes;
        const char *what; /* the devices in a sentence: "hidraw devices", "ttys" */
        /*
         * Without a monitor (no netlink) or an enumeration, start with
         * what there is and a warning; false: an error, and start fails.
         */
        bool best_effort;
        /* The callbacks get the start()'s @data and a device valid during the call. */
        void (*add)(void *data, struct udev_device *dev);    /* enumerated, or an "add" uevent */
        void (*change)(void *data, struct udev_device *dev); /* a "change" uevent; NULL: ignored */
        void (*remove)(void *data, struct udev_device *dev); /* a "remove" uevent */
};

/* The caller's (in its driver state, zeroed); the fields are the helper's. */
struct udk_udev_bus {
        struct udk_driver *drv;
        const struct udk_udev_bus_config *config;
        void *data;
        struct udev *udev;
        struct udev_monitor *monitor; /* NULL without one (best_effort) */
        struct udk_dispatch_source *watch;
};

/*
 * From a bus driver's start(): udev, the monitor on udk_driver_queue(@drv),
 * then the enumeration, which calls @config->add for each device.  0, or a
 * negative errno after an error in the log and with everything undone.
 * @config outlives the bus.
 */
int udk_udev_bus_start(struct udk_udev_bus *bus, struct udk_driver *drv, const struct udk_udev_bus_config *config,
                       void *data);

/* From its stop(): the monitor and udev let go of.  Safe on a bus that never started, and twice. */
void udk_udev_bus_stop(struct udk_udev_bus *bus);

/*
 * One entry of the enumeration's list: the device at @syspath handed to
 * @config->add, or, when it vanished since it was listed, the warning
 * "SYSPATH: vanished during enumeration: left out".
 */
void udk_udev_bus_add_syspath(struct udk_udev_bus *bus, const char *syspath);

#endif
