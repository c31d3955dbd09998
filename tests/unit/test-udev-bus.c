/* SPDX-License-Identifier: MIT */
/*
 * The bus drivers' udev lifecycle (families/common/udev-bus.c) on a
 * umockdev testbed, run under umockdev-wrapper: the enumeration's order
 * and passes, a devtype filter, a device that vanishes between the
 * enumeration's list and its opening (one warning naming its syspath, the
 * others added), the monitor's add, change and remove, and the teardown.
 * udk_driver_log(), udk_driver_queue() and the fd source are this test's:
 * the helper needs nothing else of the driver library, and the test runs
 * the source's callback itself.
 */
#include <poll.h>
#include <stdarg.h>

#include <umockdev.h>

#include <udk/driver.h>

#include "udev-bus.h"
#include "udk-test.h"

#define USB1 "/sys/devices/pci0000:00/0000:00:14.0/usb1"

/* Three USB devices, two of them with an interface, parents first as the kernel adds them. */
static const char testbed[] = "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1\nE: SUBSYSTEM=usb\n"
                              "E: DEVTYPE=usb_device\n\n"
                              "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0\nE: SUBSYSTEM=usb\n"
                              "E: DEVTYPE=usb_interface\n\n"
                              "P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\nE: SUBSYSTEM=usb\n"
                              "E: DEVTYPE=usb_device\n\n"
                              "P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0\nE: SUBSYSTEM=usb\n"
                              "E: DEVTYPE=usb_interface\n\n"
                              "P: /devices/pci0000:00/0000:00:14.0/usb1/1-3\nE: SUBSYSTEM=usb\n"
                              "E: DEVTYPE=usb_device\n";

static char logged[4096], seen[8192];
static struct udk_driver *const drv = (struct udk_driver *)&logged; /* only passed through */
static UMockdevTestbed *bed;
static const char *vanish; /* a syspath the add callback removes from the testbed */

/* The fd source, as the helper created it. */
static struct {
        int fd;
        uint32_t events;
        udk_dispatch_fn fn;
        void *data;
        bool live;
} source;

void udk_driver_log(struct udk_driver *d, enum udk_log_level level, const char *fmt, ...)
{
        size_t len = strlen(logged);
        va_list ap;

        ASSERT_PTR_EQ(d, drv);
        snprintf(logged + len, sizeof(logged) - len, "%s: ", level == UDK_LOG_WARN ? "warning" : "other");
        len = strlen(logged);
        va_start(ap, fmt);
        vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
        va_end(ap);
        len = strlen(logged);
        snprintf(logged + len, sizeof(logged) - len, "\n");
}

struct udk_dispatch_queue *udk_driver_queue(struct udk_driver *d)
{
        return (struct udk_dispatch_queue *)d;
}

int udk_dispatch_fd_create(struct udk_dispatch_queue *q, int fd, uint32_t events, udk_dispatch_fn fn, void *data,
                           struct udk_dispatch_source **ret)
{
        ASSERT_PTR_EQ(q, drv);
        ASSERT_FALSE(source.live);
        source.fd = fd;
        source.events = events;
        source.fn = fn;
        source.data = data;
        source.live = true;
        *ret = (struct udk_dispatch_source *)&source;
        return 0;
}

void udk_dispatch_source_destroy(struct udk_dispatch_source *s)
{
        if (!s)
                return;
        ASSERT_PTR_EQ(s, &source);
        ASSERT_TRUE(source.live);
        source.live = false;
}

static void seen_add(const char *what, struct udev_device *dev)
{
        size_t len = strlen(seen);

        snprintf(seen + len, sizeof(seen) - len, "%s %s\n", what, udev_device_get_sysname(dev));
}

static void on_add(void *data, struct udev_device *dev)
{
        ASSERT_PTR_EQ(data, seen);
        seen_add("add", dev);
        if (vanish) {
                umockdev_testbed_remove_device(bed, vanish);
                vanish = NULL;
        }
}

static void on_change(void *data, struct udev_device *dev)
{
        seen_add("change", dev);
}

static void on_remove(void *data, struct udev_device *dev)
{
        seen_add("remove", dev);
}

static void bed_new(void)
{
        GError *error = NULL;

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_string(bed, testbed, &error))
                udk_test_fail("testbed: %s", error->message);
}

static void bed_free(struct udk_udev_bus *bus)
{
        udk_udev_bus_stop(bus);
        ASSERT_FALSE(source.live);
        ASSERT_TRUE(bus->udev == NULL && bus->monitor == NULL && bus->watch == NULL);
        udk_udev_bus_stop(bus); /* twice: nothing left to let go of */
        g_object_unref(bed);
}

/* Wait (bounded) for the monitor to be readable, then run the source's callback once, as the queue would. */
static void deliver(void)
{
        struct pollfd p = { .fd = source.fd, .events = POLLIN };

        ASSERT_TRUE(source.live);
        ASSERT_INT_EQ(poll(&p, 1, 10000), 1);
        source.fn(source.data, (struct udk_dispatch_source *)&source);
}

static const struct udk_udev_bus_config all = {
        .subsystem = "usb",
        .what = "usb devices",
        .add = on_add,
        .change = on_change,
        .remove = on_remove,
};

/* One pass: every device of the subsystem, in syspath order; the monitor listens on the queue. */
static void test_enumeration(void)
{
        struct udk_udev_bus bus;

        bed_new();
        ASSERT_OK(udk_udev_bus_start(&bus, drv, &all, seen));
        ASSERT_STR_EQ(seen, "add 1-1\nadd 1-1:1.0\nadd 1-2\nadd 1-2:1.0\nadd 1-3\n");
        ASSERT_STR_EQ(logged, "");
        ASSERT_TRUE(source.live);
        ASSERT_INT_EQ(source.fd, udev_monitor_get_fd(bus.monitor));
        ASSERT_UINT_EQ(source.events, UDK_DISPATCH_READABLE);
        ASSERT_PTR_EQ(source.data, &bus);
        bed_free(&bus);
}

/* Passes by devtype, in the order given: every device before any interface. */
static void test_passes(void)
{
        static const char *const order[] = { "usb_device", "usb_interface", NULL };
        const struct udk_udev_bus_config c = { .subsystem = "usb",
                                               .scan_devtypes = order,
                                               .what = "usb devices",
                                               .add = on_add,
                                               .remove = on_remove };
        struct udk_udev_bus bus;

        bed_new();
        ASSERT_OK(udk_udev_bus_start(&bus, drv, &c, seen));
        ASSERT_STR_EQ(seen, "add 1-1\nadd 1-2\nadd 1-3\nadd 1-1:1.0\nadd 1-2:1.0\n");
        ASSERT_STR_EQ(logged, "");
        bed_free(&bus);
}

/* A devtype filters the enumeration and the monitor alike. */
static void test_devtype(void)
{
        const struct udk_udev_bus_config c = { .subsystem = "usb",
                                               .devtype = "usb_interface",
                                               .what = "usb interfaces",
                                               .add = on_add,
                                               .change = on_change,
                                               .remove = on_remove };
        struct udk_udev_bus bus;

        bed_new();
        ASSERT_OK(udk_udev_bus_start(&bus, drv, &c, seen));
        ASSERT_STR_EQ(seen, "add 1-1:1.0\nadd 1-2:1.0\n");
        seen[0] = '\0';
        umockdev_testbed_uevent(bed, USB1 "/1-1", "change");
        umockdev_testbed_uevent(bed, USB1 "/1-1/1-1:1.0", "change");
        deliver();
        ASSERT_STR_EQ(seen, "change 1-1:1.0\n");
        ASSERT_STR_EQ(logged, "");
        bed_free(&bus);
}

/*
 * 1-2 (and its interface) vanish between the enumeration's list and their
 * opening: the add callback of 1-1 removes them.  One warning each, naming
 * the syspath; 1-3 after them is added as usual.
 */
static void test_vanished(void)
{
        struct udk_udev_bus bus;

        bed_new();
        vanish = USB1 "/1-2";
        ASSERT_OK(udk_udev_bus_start(&bus, drv, &all, seen));
        ASSERT_TRUE(vanish == NULL);
        ASSERT_STR_EQ(seen, "add 1-1\nadd 1-1:1.0\nadd 1-3\n");
        ASSERT_STR_EQ(logged, "warning: " USB1 "/1-2: vanished during enumeration: left out\n"
                              "warning: " USB1 "/1-2/1-2:1.0: vanished during enumeration: left out\n");

        /* The entry point itself: a syspath that is not there, a warning and nothing added. */
        seen[0] = logged[0] = '\0';
        udk_udev_bus_add_syspath(&bus, USB1 "/1-9");
        ASSERT_STR_EQ(seen, "");
        ASSERT_STR_EQ(logged, "warning: " USB1 "/1-9: vanished during enumeration: left out\n");
        udk_udev_bus_add_syspath(&bus, USB1 "/1-3");
        ASSERT_STR_EQ(seen, "add 1-3\n");
        bed_free(&bus);
}

/* The monitor: add, change, remove, each to its callback; a change without one is dropped. */
static void test_uevents(void)
{
        const struct udk_udev_bus_config no_change = { .subsystem = "usb",
                                                       .what = "usb devices",
                                                       .add = on_add,
                                                       .remove = on_remove };
        struct udk_udev_bus bus, other;
        GError *error = NULL;

        bed_new();
        ASSERT_OK(udk_udev_bus_start(&bus, drv, &all, seen));
        seen[0] = '\0';
        ASSERT_TRUE(umockdev_testbed_add_from_string(
                bed, "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\n",
                &error));
        /* The testbed sent "add" for it. */
        umockdev_testbed_uevent(bed, USB1 "/1-4", "change");
        umockdev_testbed_uevent(bed, USB1 "/1-4", "remove");
        deliver();
        ASSERT_STR_EQ(seen, "add 1-4\nchange 1-4\nremove 1-4\n");
        bed_free(&bus);

        bed_new();
        ASSERT_OK(udk_udev_bus_start(&other, drv, &no_change, seen));
        seen[0] = '\0';
        umockdev_testbed_uevent(bed, USB1 "/1-3", "change");
        umockdev_testbed_uevent(bed, USB1 "/1-3", "remove");
        deliver();
        ASSERT_STR_EQ(seen, "remove 1-3\n");
        ASSERT_STR_EQ(logged, "");
        bed_free(&other);
}

UDK_TEST_MAIN(test_enumeration, test_passes, test_devtype, test_vanished, test_uevents)
