/* SPDX-License-Identifier: MIT */
/*
 * The USB family's bus driver under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the audio interface of tests/fixtures/usb-audio.umockdev (a
 * device of class 0xef/0x02/0x01 with an audio control, two audio
 * streaming and a vendor-specific interface) enumerated as a device nub
 * and four interface nubs with their exact properties; hotplug in and out;
 * a device and an interface with a truncated attribute each left out with
 * one warning naming them while the others carry on.  The example mixer
 * (families/usb/mixer.c) end to end on the audio interface's node, which
 * the emulated device of tests/udk-test-usbfs.h answers: matched, running,
 * its control at the device's register and a `udkctl set` written to it;
 * through the bus driver's crash (the old mixer stopped, a new one on the
 * new nub reading the register where the old one left it) and an unplug
 * under it (stopped cleanly, plugged in again: a new one).  On the plain
 * node (no usbfs behind it) libusb refuses the descriptor.
 *
 * The bus driver's host runs unsandboxed (umockdev_host_wrap): it reads
 * /sys and /run/udev, which the sandbox does not grant yet.  The mixer's
 * runs sandboxed, with tests/udk-test-umockdev-fd.c preloaded: umockdev
 * emulates ioctls only on descriptors opened in the process itself.
 */
#include <inttypes.h>
#include <stdint.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-umockdev.h"
#include "udk-test-usbfs.h"

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

/* The family with the audio interface's node emulated (udk-test-usbfs.h), its register at @level. */
struct usb_family {
        struct umockdev_family f;
        struct usbfs_device dev;
};

static void usb_start(struct usb_family *u, int16_t level, bool verbose)
{
        u->f = (struct umockdev_family){
                .name = "usb", .verbose = verbose, .emulated = USBFS_DEVNODE, .added = usbfs_node_write
        };
        umockdev_bed(&u->f);
        usbfs_device_attach(&u->dev, u->f.bed, level, false);
        umockdev_serve(&u->f);
}

static void usb_stop(struct usb_family *u)
{
        UMockdevTestbed *bed = g_object_ref(u->f.bed);

        umockdev_stop(&u->f);
        g_mutex_lock(&u->dev.lock);
        ASSERT_UINT_EQ(u->dev.unknown, 0);
        g_mutex_unlock(&u->dev.lock);
        usbfs_device_detach(&u->dev, bed);
        g_object_unref(bed);
}

static const uint8_t mixer_get[8] = { 0xc0, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 },
                     mixer_set[8] = { 0x40, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 };

/* Wait until the device has seen @n control URBs (exactly); the @n-th. */
static struct usbfs_control_seen wait_seen(struct usb_family *u, unsigned n)
{
        for (uint64_t deadline = now_ms() + WAIT_MS;; proc_pump(&u->f.udkd, 2)) {
                struct usbfs_control_seen last;
                unsigned seen;

                g_mutex_lock(&u->dev.lock);
                seen = u->dev.n_seen;
                if (seen >= n && n <= USBFS_LOG_MAX)
                        last = u->dev.seen[n - 1];
                g_mutex_unlock(&u->dev.lock);
                if (seen >= n) {
                        ASSERT_UINT_EQ(seen, n);
                        return last;
                }
                if (now_ms() >= deadline)
                        udk_test_fail("%u control URBs seen, not %u, after %d ms; stderr: %s", seen, n,
                                      WAIT_MS, u->f.udkd.err);
        }
}

/* The mixer on usb-1-2_1.0 started: its device's control at @shown, read by the @n-th control URB, a
 * GET; its device's id. */
static udk_object_id mixer_read(struct usb_family *u, unsigned n, const char *shown)
{
        struct usbfs_control_seen s = wait_seen(u, n);
        udk_object_id device = wait_object(u->f.client, &u->f.udkd, "device", "usb-1-2_1.0", true);

        ASSERT_TRUE(memcmp(s.setup, mixer_get, 8) == 0);
        ASSERT_UINT_EQ(s.data_len, 0);
        wait_control(&u->f, device, "mixer", shown);
        wait_control(&u->f, device, "gain.level", shown);
        return device;
}

/* `udkctl set usb-mixer:usb-1-2_1.0 mixer @db`: the @n-th control URB is the SET of @lo @hi (@db * 256,
 * little-endian), the register holds @reg, the controls show @shown. */
static void mixer_move(struct usb_family *u, udk_object_id device, const char *db, unsigned n, uint8_t lo,
                       uint8_t hi, int16_t reg, const char *shown)
{
        struct usbfs_control_seen s;
        char out[96];
        struct proc c;

        ASSERT_INT_EQ(UDKCTL(&c, u->f.udkd.socket, "set", "usb-mixer:usb-1-2_1.0", "mixer", db), 0);
        snprintf(out, sizeof(out), "usb-1-2_1.0: mixer = %s\n", shown);
        ASSERT_STR_EQ(c.out, out);
        s = wait_seen(u, n);
        ASSERT_TRUE(memcmp(s.setup, mixer_set, 8) == 0);
        ASSERT_UINT_EQ(s.data_len, 2);
        ASSERT_UINT_EQ(s.data[0], lo);
        ASSERT_UINT_EQ(s.data[1], hi);
        wait_control(&u->f, device, "mixer", shown);
        wait_control(&u->f, device, "gain.level", shown);
        g_mutex_lock(&u->dev.lock);
        ASSERT_INT_EQ(u->dev.level, reg);
        g_mutex_unlock(&u->dev.lock);
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
        struct usb_family u;
        struct udk_client *c;
        union object o;

        usb_start(&u, -12 * 256, false);
        c = u.f.client;
        wait_object(c, &u.f.udkd, "nub", "usb-1-2", true);
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

        wait_object(c, &u.f.udkd, "nub", "usb-1-2_1.3", true);
        check_interface(c, "usb-1-2_1.0", "0", "0x01", "0x01", "0",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc01ip00in00");
        check_interface(c, "usb-1-2_1.1", "1", "0x01", "0x02", "1",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc02ip00in01");
        check_interface(c, "usb-1-2_1.2", "2", "0x01", "0x02", "1",
                        "usb:v1397p0508d0100dcEFdsc02dp01ic01isc02ip00in02");
        check_interface(c, "usb-1-2_1.3", "3", "0xff", "0x00", "2",
                        "usb:v1397p0508d0100dcEFdsc02dp01icFFisc00ip00in03");
        nub_absent(c, "usb-1-2_1.4");
        /* The mixer matches the audio control interface alone, udkd hands it the device's node, and it
         * runs: its control at the register's -12 dB, read by one GET. */
        wait_driver(c, &u.f.udkd, "usb-1-2_1.0", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "usb-mixer");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        mixer_read(&u, 1, "-12.0 dB");
        ASSERT_TRUE(strstr(u.f.udkd.err, "no usb device: udkd hands it") == NULL);
        ASSERT_TRUE(strstr(u.f.udkd.err, "is not a /dev/bus/usb/BBB/DDD node") == NULL);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.1"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.2"), 0);
        ASSERT_UINT_EQ(driver_of(c, "usb-1-2_1.3"), 0);
        usb_stop(&u);
}

/* The fixture's node as it is, with no usbfs behind it: libusb refuses the descriptor (no ioctl on it
 * answers), and the mixer's start fails with that sentence, a crash. */
static void test_plain_node(void)
{
        struct umockdev_family f = { .name = "usb" };

        umockdev_start(&f);
        proc_wait_stderr(&f.udkd,
                         "driver 'usb-mixer': libusb on usb-1-2_1.0's device node: Input/output error",
                         WAIT_MS);
        proc_wait_stderr(&f.udkd,
                         "start failed: driver 'usb-mixer': start() failed: Input/output error, a crash",
                         WAIT_MS);
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

/*
 * The bus driver killed: udkd runs it again at once, it publishes the device and its four interfaces once
 * more (once each); the mixer bound to the old nub is stopped (exit 0) and removed with it, a new one is
 * matched to the new nub and runs: its control reads the register where the old one left it (-20.5 dB),
 * and a `udkctl set` moves the device again.  No crash but the bus driver's.
 */
static void test_bus_crash(void)
{
        struct usb_family u;
        udk_object_id bus, mixer, device;
        char exit_line[128];
        union object o;

        usb_start(&u, -12 * 256, true);
        mixer = wait_running(&u.f, "usb-1-2_1.0", exit_line, sizeof(exit_line));
        device = mixer_read(&u, 1, "-12.0 dB");
        mixer_move(&u, device, "-20.5", 2, 0x80, 0xeb, -5248, "-20.5 dB"); /* -20.5 * 256 = 0xeb80 */

        bus = umockdev_crash_bus(&u.f, "root-usb", AUDIO_NUBS, &o);
        mixer = wait_rematched_running(&u.f, "usb-1-2_1.0", mixer, exit_line);
        device = mixer_read(&u, 3, "-20.5 dB");
        mixer_move(&u, device, "-3", 4, 0x00, 0xfd, -768, "-3.0 dB"); /* -3 * 256 = 0xfd00 */
        ASSERT_UINT_EQ(count_objects(u.f.client, "device", "usb-1-2_1.0"), 1);
        for (int i = 0; i < 4; i++) {
                char name[32];

                snprintf(name, sizeof(name), "usb-1-2_1.%d", i);
                ASSERT_UINT_EQ(count_objects(u.f.client, "nub", name), 1);
        }
        ASSERT_UINT_EQ(count_objects(u.f.client, "nub", "usb-1-2"), 1);
        ASSERT_UINT_EQ(driver_of(u.f.client, "usb-1-2"), 0);
        ASSERT_UINT_EQ(driver_of(u.f.client, "usb-1-2_1.1"), 0);
        ASSERT_UINT_EQ(driver_of(u.f.client, "usb-1-2_1.0"), mixer);
        wait_bus_nubs(&u.f, bus, AUDIO_NUBS);
        ASSERT_UINT_EQ(count_in(u.f.udkd.err, ", a crash"), 1);
        usb_stop(&u);
        ASSERT_UINT_EQ(count_in(u.f.udkd.err, ", a crash"), 1);
}

/*
 * The audio interface unplugged under its running mixer (usbfs's disconnect, then udev's removes): the
 * mixer is stopped, its host exits 0 after the stop, it goes with its device and the five nubs; the
 * MIDI interface beside it and the bus driver untouched.  Plugged in again: the five nubs come back, a
 * new mixer runs, reads the register (as the old one left it) and moves the device again.
 */
static void test_unplug_running(void)
{
        struct usb_family u;
        udk_object_id bus, mixer, midi_nub, device;
        char exit_line[128];
        GError *error = NULL;

        usb_start(&u, -6 * 256, true);
        mixer = wait_running(&u.f, "usb-1-2_1.0", exit_line, sizeof(exit_line));
        device = mixer_read(&u, 1, "-6.0 dB");
        mixer_move(&u, device, "-10", 2, 0x00, 0xf6, -2560, "-10.0 dB"); /* -10 * 256 = 0xf600 */
        ASSERT_TRUE(umockdev_testbed_add_from_string(u.f.bed, midi, &error));
        midi_nub = wait_object(u.f.client, &u.f.udkd, "nub", "usb-1-4_1.0", true);
        bus = driver_of(u.f.client, "root-usb");
        wait_bus_nubs(&u.f, bus, AUDIO_NUBS " usb-1-4 usb-1-4_1.0");

        usbfs_unplug(&u.dev, true);
        wait_unplugged(&u.f, audio_tree, bus, "usb-1-4 usb-1-4_1.0", mixer, "usb-1-2_1.0", exit_line);
        proc_wait_stderr(&u.f.udkd, "driver 'usb-bus': usb 1-2 unplugged", WAIT_MS);
        ASSERT_UINT_EQ(count_in(u.f.udkd.err, ", a crash"), 0);
        ASSERT_UINT_EQ(wait_object(u.f.client, &u.f.udkd, "nub", "usb-1-4_1.0", true), midi_nub);
        ASSERT_UINT_EQ(driver_of(u.f.client, "usb-1-4_1.0"), 0);

        usbfs_replug(&u.dev);
        umockdev_replug(&u.f);
        wait_bus_nubs(&u.f, bus, AUDIO_NUBS " usb-1-4 usb-1-4_1.0");
        mixer = wait_rematched(&u.f, "usb-1-2_1.0", mixer, "running", &(union object){ 0 });
        device = mixer_read(&u, 3, "-10.0 dB");
        mixer_move(&u, device, "-0.5", 4, 0x80, 0xff, -128, "-0.5 dB"); /* -0.5 * 256 = 0xff80 */
        ASSERT_UINT_EQ(driver_of(u.f.client, "usb-1-2_1.0"), mixer);
        usb_stop(&u);
        ASSERT_UINT_EQ(count_in(u.f.udkd.err, ", a crash"), 0);
}

UDK_TEST_MAIN(test_enumeration, test_plain_node, test_hotplug, test_bus_crash, test_unplug_running)
