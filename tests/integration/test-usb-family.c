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
 * The bus driver's host runs unsandboxed (umockdev_host_wrap): it reads
 * /sys and /run/udev, which the sandbox does not grant yet.
 */
#include <inttypes.h>
#include <stdint.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-umockdev.h"

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
        struct umockdev_family f = { .name = "usb" };
        struct udk_client *c;
        union object o;

        umockdev_start(&f);
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
        umockdev_stop(&f);
}

/* Hotplug (umockdev sends the add events as it adds the devices): a truncated idVendor is one warning about
 * that device (its interface goes unpublished with it); a truncated bInterfaceClass one about that
 * interface; the audio interface goes with its four interfaces and the other device stays. */
static void test_hotplug(void)
{
        struct umockdev_family f = { .name = "usb" };
        struct udk_client *c;
        GError *error = NULL;
        union object o;

        umockdev_start(&f);
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
        umockdev_stop(&f);
}

#define AUDIO_NUBS "usb-1-2 usb-1-2_1.0 usb-1-2_1.1 usb-1-2_1.2 usb-1-2_1.3"

/* The audio interface's tree, children first: what a remove takes away, in the kernel's order. */
static const char *const audio_tree[] = {
        AUDIO_SYSFS "/1-2:1.3",
        AUDIO_SYSFS "/1-2:1.2",
        AUDIO_SYSFS "/1-2:1.1",
        AUDIO_SYSFS "/1-2:1.0",
        AUDIO_SYSFS,
        NULL,
};

/* The mixer's start fails on the fixture's node (test_enumeration): each start is a crash, and the
 * supervisor gives up at the sixth, restart_limit's 5/30min.  The instance on usb-1-2_1.0 that is not
 * @old, once it has, the @n-th to give up; its id. */
static udk_object_id mixer_fails(struct umockdev_family *f, udk_object_id old, unsigned n)
{
        union object o;
        udk_object_id mixer = wait_rematched(f, "usb-1-2_1.0", old, "failed", &o);

        wait_stderr_count(
                f, "driver 'usb-mixer': 6 crashes within 1800 s, more than restart_limit allows: gave up", n);

        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "usb-mixer");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 6);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 5);
        /* The host's sentence, cut to the 63 bytes a property holds. */
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"),
                      "start failed: driver 'usb-mixer': start() failed: Input/output ");
        return mixer;
}

/* The bus driver killed: udkd runs it again at once, it publishes the device and its four interfaces once
 * more (once each); the mixer bound to the old nub is removed with it, a new one is matched to the new
 * nub (and fails to start as the first did). */
static void test_bus_crash(void)
{
        struct umockdev_family f = { .name = "usb", .verbose = true };
        udk_object_id bus, mixer;
        union object o;

        umockdev_start(&f);
        mixer = mixer_fails(&f, 0, 1);
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 6);
        bus = umockdev_crash_bus(&f, "root-usb", AUDIO_NUBS, &o);
        wait_driver_gone(&f, mixer);
        mixer_fails(&f, mixer, 2);
        for (int i = 0; i < 4; i++) {
                char name[32];

                snprintf(name, sizeof(name), "usb-1-2_1.%d", i);
                ASSERT_UINT_EQ(count_objects(f.client, "nub", name), 1);
        }
        ASSERT_UINT_EQ(count_objects(f.client, "nub", "usb-1-2"), 1);
        ASSERT_UINT_EQ(driver_of(f.client, "usb-1-2"), 0);
        ASSERT_UINT_EQ(driver_of(f.client, "usb-1-2_1.1"), 0);
        wait_bus_nubs(&f, bus, AUDIO_NUBS);
        umockdev_stop(&f);
        /* Each mixer's six and the bus driver's one. */
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 13);
}

/* The audio interface unplugged under its mixer: the mixer is removed with the nub, the MIDI interface
 * beside it and the bus driver untouched; plugged in again, its five nubs come back and a new mixer is
 * matched. */
static void test_unplug_running(void)
{
        struct umockdev_family f = { .name = "usb", .verbose = true };
        udk_object_id bus, mixer, midi_nub;
        GError *error = NULL;

        umockdev_start(&f);
        mixer = mixer_fails(&f, 0, 1);
        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, midi, &error));
        midi_nub = wait_object(f.client, &f.udkd, "nub", "usb-1-4_1.0", true);
        bus = driver_of(f.client, "root-usb");
        wait_bus_nubs(&f, bus, AUDIO_NUBS " usb-1-4 usb-1-4_1.0");

        /* The failed mixer has no host: it goes at once. */
        wait_unplugged(&f, audio_tree, bus, "usb-1-4 usb-1-4_1.0", mixer, "usb-1-2_1.0", NULL);
        proc_wait_stderr(&f.udkd, "driver 'usb-bus': usb 1-2 unplugged", WAIT_MS);
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 6);
        ASSERT_UINT_EQ(wait_object(f.client, &f.udkd, "nub", "usb-1-4_1.0", true), midi_nub);

        umockdev_replug(&f);
        wait_bus_nubs(&f, bus, AUDIO_NUBS " usb-1-4 usb-1-4_1.0");
        mixer_fails(&f, mixer, 2);
        umockdev_stop(&f);
        /* Each mixer's six, none in between. */
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 12);
}

UDK_TEST_MAIN(test_enumeration, test_hotplug, test_bus_crash, test_unplug_running)
