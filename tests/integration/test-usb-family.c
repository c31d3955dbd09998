/* SPDX-License-Identifier: MIT */
/*
 * The USB family's bus driver under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the audio interface of tests/fixtures/usb-audio.umockdev (a
 * device of class 0xef/0x02/0x01 with an audio control, two audio
 * streaming and a vendor-specific interface) enumerated as a device nub
 * and four interface nubs with their exact properties; hotplug in and out;
 * a device and an interface with a truncated attribute each left out with
 * one warning naming them while the others carry on.
 *
 * The bus driver's host runs unsandboxed (host_wrap): it reads /sys and
 * /run/udev, which the sandbox does not grant yet.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdint.h>

#include <umockdev.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-udkd.h"
#include "udk-test-registry.h"

#define AUDIO_SYSFS "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"

/* Hotplugged: a device whose idVendor is cut to two digits, and a device with two interfaces, the second
 * of which has its bInterfaceClass cut. */
#define USB3 "/devices/pci0000:00/0000:00:14.0/usb1/1-3"
static const char truncated[] =
        "P: " USB3 "\nN: bus/usb/001/003\nE: DEVNAME=/dev/bus/usb/001/003\n"
        "E: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor=13\nA: idProduct=0509\n"
        "A: bcdDevice=0100\nA: bDeviceClass=00\nA: bDeviceSubClass=00\n"
        "A: bDeviceProtocol=00\nA: busnum=1\nA: devnum=3\nA: bNumInterfaces= 1\n"
        "A: speed=12\n\n"
        "P: " USB3 "/1-3:1.0\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n"
        "A: bInterfaceNumber=00\nA: bAlternateSetting= 0\nA: bInterfaceClass=03\n"
        "A: bInterfaceSubClass=00\nA: bInterfaceProtocol=00\nA: bNumEndpoints=01\n"
        "A: modalias=usb:v1397p0509d0100dc00dsc00dp00ic03isc00ip00in00\n\n";
#define USB4 "/devices/pci0000:00/0000:00:14.0/usb1/1-4"
static const char midi[] = "P: " USB4 "\nN: bus/usb/001/004\nE: DEVNAME=/dev/bus/usb/001/004\n"
                           "E: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor=0763\nA: idProduct=2001\n"
                           "A: bcdDevice=0100\nA: bDeviceClass=00\nA: bDeviceSubClass=00\n"
                           "A: bDeviceProtocol=00\nA: busnum=1\nA: devnum=4\nA: bNumInterfaces= 2\n"
                           "A: product=MIDI Sport 2x2\nA: speed=12\n\n"
                           "P: " USB4 "/1-4:1.0\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n"
                           "A: bInterfaceNumber=00\nA: bAlternateSetting= 0\nA: bInterfaceClass=01\n"
                           "A: bInterfaceSubClass=03\nA: bInterfaceProtocol=00\nA: bNumEndpoints=02\n"
                           "A: modalias=usb:v0763p2001d0100dc00dsc00dp00ic01isc03ip00in00\n\n"
                           "P: " USB4 "/1-4:1.1\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n"
                           "A: bInterfaceNumber=01\nA: bAlternateSetting= 0\nA: bInterfaceClass=f\n"
                           "A: bInterfaceSubClass=00\nA: bInterfaceProtocol=00\nA: bNumEndpoints=00\n"
                           "A: modalias=usb:v0763p2001d0100dc00dsc00dp00icFFisc00ip00in01\n\n";

struct fixture {
        UMockdevTestbed *bed;
        struct proc udkd;
        struct udk_client *client;
        char dir[64], host[96];
};

/* $UDK_DRIVERHOST through a wrapper that runs the bus driver's host alone with --no-sandbox. */
static void host_wrap(struct fixture *f)
{
        const char *host = getenv("UDK_DRIVERHOST");
        FILE *out;

        if (!host)
                UDK_TEST_SKIP("UDK_DRIVERHOST is not set (run through meson test)");
        ASSERT_TRUE(mkdtemp(f->dir) != NULL);
        snprintf(f->host, sizeof(f->host), "%s/host", f->dir);
        out = fopen(f->host, "w");
        ASSERT_TRUE(out != NULL);
        fprintf(out,
                "#!/bin/sh\n"
                "for last; do :; done\n"
                "case \"$last\" in\n"
                "*/udk-driver-usb-bus.so) exec %s --no-sandbox \"$@\" ;;\n"
                "*) exec %s \"$@\" ;;\n"
                "esac\n",
                host, host);
        ASSERT_OK(fclose(out));
        ASSERT_OK(chmod(f->host, 0755));
        ASSERT_OK(setenv("UDK_DRIVERHOST", f->host, 1));
}

static void fixture_start(struct fixture *f)
{
        const char *args[] = { "--drivers", getenv("UDK_TEST_USB_DIR"), NULL };
        GError *error = NULL;

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        if (!args[1])
                UDK_TEST_SKIP("UDK_TEST_USB_DIR is not set (run through meson test)");
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_file(f->bed, getenv("UDK_TEST_USB_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
        host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-usb-family", f->udkd.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        g_object_unref(f->bed);
        unlink(f->host);
        rmdir(f->dir);
}

static const char *nub_prop(struct udk_client *client, const char *nub, const char *key, union object *o)
{
        udk_object_id id;

        ASSERT_OK(udk_client_find_class(client, "nub", nub, &id));
        ASSERT_OK(udk_client_info(client, id, &o->obj));
        return prop_string(&o->obj, key);
}

static void nub_absent(struct udk_client *client, const char *nub)
{
        ASSERT_TRUE(udk_client_find_class(client, "nub", nub, &(udk_object_id){ 0 }) < 0);
}

/* An interface nub of the audio interface, all its properties. */
static void check_interface(struct udk_client *c, const char *nub, const char *number, const char *cls,
                            const char *subclass, const char *endpoints, const char *modalias)
{
        union object o;

        ASSERT_STR_EQ(nub_prop(c, nub, "family", &o), "usb");
        ASSERT_STR_EQ(nub_prop(c, nub, "parent", &o), "usb-1-2");
        ASSERT_STR_EQ(nub_prop(c, nub, "vendor", &o), "0x1397");
        ASSERT_STR_EQ(nub_prop(c, nub, "product", &o), "0x0508");
        ASSERT_STR_EQ(nub_prop(c, nub, "bcdDevice", &o), "0x0100");
        ASSERT_STR_EQ(nub_prop(c, nub, "interface", &o), number);
        ASSERT_STR_EQ(nub_prop(c, nub, "alternate", &o), "0");
        ASSERT_STR_EQ(nub_prop(c, nub, "class", &o), cls);
        ASSERT_STR_EQ(nub_prop(c, nub, "subclass", &o), subclass);
        ASSERT_STR_EQ(nub_prop(c, nub, "protocol", &o), "0x00");
        ASSERT_STR_EQ(nub_prop(c, nub, "endpoints", &o), endpoints);
        ASSERT_STR_EQ(nub_prop(c, nub, "serial", &o), "UMC0001");
        ASSERT_STR_EQ(nub_prop(c, nub, "speed", &o), "480");
        ASSERT_STR_EQ(nub_prop(c, nub, "bus_path", &o), "1-2");
        ASSERT_STR_EQ(nub_prop(c, nub, "devnode", &o), "/dev/bus/usb/001/002");
        ASSERT_STR_EQ(nub_prop(c, nub, "modalias", &o), modalias);
        ASSERT_TRUE(nub_prop(c, nub, "manufacturer", &o) == NULL); /* the device's, on its nub */
}

/* The audio interface as the bus driver publishes it: the device and its four interfaces. */
static void test_enumeration(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-usb-host-XXXXXX" };
        struct udk_client *c;
        union object o;

        fixture_start(&f);
        c = f.client;
        wait_object(c, &f.udkd, "nub", "usb-1-2", true);
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "family", &o), "usb");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "vendor", &o), "0x1397");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "product", &o), "0x0508");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "bcdDevice", &o), "0x0100");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "class", &o), "0xef");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "subclass", &o), "0x02");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "protocol", &o), "0x01");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "interfaces", &o), "4");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "manufacturer", &o), "BEHRINGER");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "product_name", &o), "UMC404HD 192k");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "serial", &o), "UMC0001");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "speed", &o), "480");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "bus_path", &o), "1-2");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "busnum", &o), "1");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "devnum", &o), "2");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "devnode", &o), "/dev/bus/usb/001/002");
        /* The kernel has no modalias for a usb_device, only for its interfaces. */
        ASSERT_TRUE(nub_prop(c, "usb-1-2", "modalias", &o) == NULL);
        ASSERT_TRUE(nub_prop(c, "usb-1-2", "parent", &o) == NULL);

        wait_object(c, &f.udkd, "nub", "usb-1-2_1.3", true);
        check_interface(c, "usb-1-2_1.0", "0", "0x01", "0x01", "0",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc01ip00in00");
        check_interface(c, "usb-1-2_1.1", "1", "0x01", "0x02", "1",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc02ip00in01");
        check_interface(c, "usb-1-2_1.2", "2", "0x01", "0x02", "1",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc02ip00in02");
        check_interface(c, "usb-1-2_1.3", "3", "0xff", "0x00", "2",
                        "usb:v1397p0508d0100dcEFdsc02dp01icFFisc00ip00in03");
        nub_absent(c, "usb-1-2_1.4");
        /* The mixer matches the audio control interface alone, and udkd hands it the device's node.  The
         * fixture's node has no usbfs behind it (no ioctls), so libusb refuses it and the mixer fails to
         * start with that sentence: its transfers are tested in tests/unit/test-usb-mixer.c. */
        wait_driver(c, &f.udkd, "usb-1-2_1.0", "failed", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "usb-mixer");
        proc_wait_stderr(&f.udkd,
                         "driver 'usb-mixer': libusb on usb-1-2_1.0's device node: Input/output error",
                         WAIT_MS);
        ASSERT_TRUE(strstr(f.udkd.err, "no usb device: udkd hands it") == NULL);
        ASSERT_TRUE(strstr(f.udkd.err, "is not a /dev/bus/usb/BBB/DDD node") == NULL);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.1"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.2"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.3"), 0);
        fixture_stop(&f);
}

/* Hotplug (umockdev sends the add events as it adds the devices): a truncated idVendor is one warning about
 * that device (its interface goes unpublished with it); a truncated bInterfaceClass one about that
 * interface; the audio interface goes with its four interfaces and the other device stays. */
static void test_hotplug(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-usb-host-XXXXXX" };
        struct udk_client *c;
        GError *error = NULL;
        union object o;

        fixture_start(&f);
        c = f.client;
        wait_object(c, &f.udkd, "nub", "usb-1-2_1.3", true);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, truncated, &error));
        proc_wait_stderr(&f.udkd, "driver 'usb-bus': usb 1-3: idVendor '13' is not 4 hex digits: left out",
                         WAIT_MS);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, midi, &error));
        proc_wait_stderr(&f.udkd,
                         "driver 'usb-bus': usb 1-4:1.1: bInterfaceClass 'f' is not 2 hex digits: left out",
                         WAIT_MS);
        wait_object(c, &f.udkd, "nub", "usb-1-4_1.0", true);
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4", "vendor", &o), "0x0763");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4", "product_name", &o), "MIDI Sport 2x2");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4", "devnode", &o), "/dev/bus/usb/001/004");
        ASSERT_TRUE(nub_prop(c, "usb-1-4", "serial", &o) == NULL);
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4_1.0", "parent", &o), "usb-1-4");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4_1.0", "subclass", &o), "0x03");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-4_1.0", "modalias", &o),
                      "usb:v0763p2001d0100dc00dsc00dp00ic01isc03ip00in00");
        nub_absent(c, "usb-1-4_1.1");
        nub_absent(c, "usb-1-3");
        nub_absent(c, "usb-1-3_1.0");
        /* One warning each, nothing about the devices that were fine. */
        {
                unsigned n = 0;

                for (const char *at = f.udkd.err; (at = strstr(at, "udkd: warning: driver 'usb-bus': usb "));
                     at++)
                        n++;
                if (n != 2)
                        udk_test_fail("%u warnings, not 2; stderr: %s", n, f.udkd.err);
        }
        /* The audio interface is untouched. */
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2_1.0", "class", &o), "0x01");

        /* The device's remove event takes its interfaces too. */
        umockdev_testbed_uevent(f.bed, AUDIO_SYSFS, "remove");
        wait_object(c, &f.udkd, "nub", "usb-1-2", false);
        for (int i = 0; i < 4; i++) {
                char name[32];

                snprintf(name, sizeof(name), "usb-1-2_1.%d", i);
                wait_object(c, &f.udkd, "nub", name, false);
        }
        wait_object(c, &f.udkd, "nub", "usb-1-4", true);
        wait_object(c, &f.udkd, "nub", "usb-1-4_1.0", true);

        /* Plugged in again: the same nubs. */
        umockdev_testbed_uevent(f.bed, AUDIO_SYSFS, "add");
        for (int i = 0; i < 4; i++) {
                char path[128];

                snprintf(path, sizeof(path), AUDIO_SYSFS "/1-2:1.%d", i);
                umockdev_testbed_uevent(f.bed, path, "add");
        }
        wait_object(c, &f.udkd, "nub", "usb-1-2_1.3", true);
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2_1.3", "modalias", &o),
                      "usb:v1397p0508d0100dcEFdsc02dp01icFFisc00ip00in03");
        ASSERT_STR_EQ(nub_prop(c, "usb-1-2", "serial", &o), "UMC0001");
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_enumeration, test_hotplug)
