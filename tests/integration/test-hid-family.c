/* SPDX-License-Identifier: MIT */
/*
 * The HID family end to end under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the knob of tests/fixtures/hid-knob.umockdev enumerated with its
 * properties, the knob driver matched and started, input reports replayed
 * on its /dev/hidraw0 moving its device's volume by the exact step, a
 * device with a garbage descriptor left out with a warning while the
 * others carry on, hotplug in and out; the bus driver's crash and the
 * knob unplugged under its running driver.
 *
 * The bus driver's host runs unsandboxed (umockdev_host_wrap): it reads
 * /sys and /run/udev, which the sandbox does not grant yet.  The knob's is
 * sandboxed.
 */
#include <inttypes.h>
#include <stdint.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-umockdev.h"

#define KNOB_USB   "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define KNOB_HID   KNOB_USB "/1-2:1.0/0003:1234:5678.0001"
#define KNOB_SYSFS KNOB_HID "/hidraw/hidraw0"

/* A second and a third device, hotplugged: a descriptor that does not parse, and a boot keyboard. */
#define USB "/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0"
static const char garbage[] =
        "P: " USB
        "/0003:1234:0bad.0002/hidraw/hidraw1\nN: hidraw1\nE: DEVNAME=/dev/hidraw1\nE: SUBSYSTEM=hidraw\n\n"
        "P: " USB
        "/0003:1234:0bad.0002\nE: HID_ID=0003:00001234:00000BAD\nE: HID_NAME=Broken\nE: SUBSYSTEM=hid\n"
        "H: report_descriptor=050C0901A101C0C0\n\n"
        "P: " USB "\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n";
#define USB4 "/devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0"
static const char keyboard[] =
        "P: " USB4
        "/0003:04D9:1603.0003/hidraw/hidraw2\nN: hidraw2\nE: DEVNAME=/dev/hidraw2\nE: SUBSYSTEM=hidraw\n\n"
        "P: " USB4 "/0003:04D9:1603.0003\nE: HID_ID=0003:000004D9:00001603\nE: HID_NAME=Boot Keyboard\n"
        "E: MODALIAS=hid:b0003g0001v000004D9p00001603\nE: SUBSYSTEM=hid\n"
        "H: report_descriptor=05010906A101050719E029E71500250175019508810295017508810195057501050819012905"
        "910295017503910195067508150025650507190029658100C0\n\n"
        "P: " USB4 "\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n";

/* A knob whose node is not /dev/hidrawN: udkd refuses to open it for the driver. */
#define USB5 "/devices/pci0000:00/0000:00:14.0/usb1/1-5/1-5:1.0"
static const char oddnode[] =
        "P: " USB5 "/0003:1234:5679.0004/hidraw/hidraw3\nN: misc/hidraw3\nE: DEVNAME=/dev/misc/hidraw3\n"
        "E: SUBSYSTEM=hidraw\n\n"
        "P: " USB5
        "/0003:1234:5679.0004\nE: HID_ID=0003:00001234:00005679\nE: HID_NAME=Odd Knob\nE: SUBSYSTEM=hid\n"
        "H: report_descriptor=050C0901A10109E909EA15002501750195028102C0\n\n"
        "P: " USB5 "\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\n";

/* Reports the knob sends, 0.5 s apart: time enough to see each value (umockdev's script format: a byte
 * b <= 32 is '^' and b + 64). */
static const char script[] = "r 500 ^@^C\n"   /* dial +3: -20 -> -17 */
                             "r 500 ^B^@\n"   /* Volume Decrement: -18 */
                             "r 500 ^@\x7f\n" /* dial +127: clamped at 0 */
                             "r 500 ^A\xfe\n" /* Volume Increment and dial -2: -1 */
                             "r 500 ^@\x81\n" /* dial -127: clamped at -60 */
                             "r 500 ^@\n";    /* half a report: dropped with a warning, nothing moves */

/* The knob's device, parents last: what a remove takes away, in the order the kernel sends the events. */
static const char *const knob_tree[] = { KNOB_SYSFS, KNOB_HID, KNOB_USB "/1-2:1.0", KNOB_USB, NULL };

static void fixture_start(struct umockdev_family *f, bool with_script)
{
        umockdev_bed(f);
        if (with_script)
                umockdev_script(f, "/dev/hidraw0", script);
        umockdev_serve(f);
}

/* The keyboard hotplugged beside the knob: published, unbound. */
static udk_object_id plug_keyboard(struct umockdev_family *f)
{
        GError *error = NULL;

        ASSERT_TRUE(umockdev_testbed_add_from_string(f->bed, keyboard, &error));
        umockdev_testbed_uevent(f->bed, "/sys" USB4 "/0003:04D9:1603.0003/hidraw/hidraw2", "add");
        return wait_object(f->client, &f->udkd, "nub", "hidraw2", true);
}

/* The knob as the bus driver publishes it, the knob driver bound to it. */
static void test_enumeration(void)
{
        struct umockdev_family f = { .name = "hid" };
        union object o;

        fixture_start(&f, false);
        wait_object(f.client, &f.udkd, "nub", "hidraw0", true);
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "family", &o), "hid");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "bus", &o), "usb");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "bus_type", &o), "0x0003");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "vendor", &o), "0x1234");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "product", &o), "0x5678");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "name", &o), "Acme Volume Knob");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "uniq", &o), "K0001");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "modalias", &o), "hid:b0003g0001v00001234p00005678");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "devnode", &o), "/dev/hidraw0");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "usage_page", &o), "0x000c");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "usage", &o), "0x0001");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "report_descriptor_size", &o), "45");
        /* The registry shows a string property's first 63 bytes; the driver gets all 90 hex digits (the
         * knob parses them: test_knob_turns). */
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw0", "report_descriptor", &o),
                      "050c0901a10109e909ea1500250175019502810209e29501810695017505810");
        ASSERT_UINT_EQ(prop_int(&o.obj, "handle"), 1);
        wait_driver(f.client, &f.udkd, "hidraw0", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "hid-knob");
        umockdev_stop(&f);
}

/* Each report moves the volume by step_db a detent, clamped; a report of the wrong size moves nothing. */
static void test_knob_turns(void)
{
        struct umockdev_family f = { .name = "hid" };
        udk_object_id device;
        union object o;

        fixture_start(&f, true);
        wait_driver(f.client, &f.udkd, "hidraw0", "running", &o);
        ASSERT_OK(udk_client_find_class(f.client, "device", "hidraw0", &device));
        /* One host unsandboxed, the bus driver's: the knob's runs in its sandbox. */
        proc_pump(&f.udkd, 2);
        ASSERT_UINT_EQ(count_in(f.udkd.err, "--no-sandbox: the driver runs"), 1);
        wait_control(&f, device, "volume", "-20.0 dB");
        wait_control(&f, device, "gain.level", "-20.0 dB");
        wait_control(&f, device, "volume", "-17.0 dB");
        wait_control(&f, device, "gain.level", "-17.0 dB");
        wait_control(&f, device, "volume", "-18.0 dB");
        wait_control(&f, device, "volume", "0.0 dB");
        wait_control(&f, device, "volume", "-1.0 dB");
        wait_control(&f, device, "volume", "-60.0 dB");
        wait_control(&f, device, "gain.level", "-60.0 dB");
        proc_wait_stderr(&f.udkd, "an input report of 1 bytes, its descriptor says 2: dropped", WAIT_MS);
        wait_control(&f, device, "volume", "-60.0 dB");
        umockdev_stop(&f);
}

/* Hotplug: a garbage descriptor is a warning about that device alone; a keyboard comes and is published;
 * the knob goes, and its driver and device with it. */
static void test_hotplug(void)
{
        struct umockdev_family f = { .name = "hid" };
        GError *error = NULL;
        union object o;

        fixture_start(&f, false);
        wait_driver(f.client, &f.udkd, "hidraw0", "running", &o);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, garbage, &error));
        umockdev_testbed_uevent(f.bed, "/sys" USB "/0003:1234:0bad.0002/hidraw/hidraw1", "add");
        proc_wait_stderr(
                &f.udkd,
                "hidraw1 (1234:0bad): bad report descriptor: byte 7: End Collection without a Collection: "
                "left out",
                WAIT_MS);
        plug_keyboard(&f);
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw2", "vendor", &o), "0x04d9");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw2", "usage_page", &o), "0x0001");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw2", "usage", &o), "0x0006");
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw2", "report_descriptor_size", &o), "63");
        ASSERT_TRUE(nub_prop(f.client, "hidraw2", "report_descriptor", &o) ==
                    NULL);                            /* 126 hex digits: too long */
        ASSERT_UINT_EQ(prop_int(&o.obj, "bound"), 0); /* no personality wants it */
        ASSERT_TRUE(udk_client_find_class(f.client, "nub", "hidraw1", &(udk_object_id){ 0 }) < 0);
        /* The knob is untouched. */
        wait_driver(f.client, &f.udkd, "hidraw0", "running", &o);

        /* A bus driver cannot make udkd open any other file for a driver. */
        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, oddnode, &error));
        umockdev_testbed_uevent(f.bed, "/sys" USB5 "/0003:1234:5679.0004/hidraw/hidraw3", "add");
        wait_object(f.client, &f.udkd, "nub", "hidraw3", true);
        ASSERT_STR_EQ(nub_prop(f.client, "hidraw3", "devnode", &o), "/dev/misc/hidraw3");
        proc_wait_stderr(&f.udkd, "devnode /dev/misc/hidraw3 is not a /dev/hidrawN node", WAIT_MS);
        ASSERT_TRUE(udk_client_find_class(f.client, "device", "hidraw3", &(udk_object_id){ 0 }) < 0);

        umockdev_testbed_uevent(f.bed, KNOB_SYSFS, "remove");
        wait_object(f.client, &f.udkd, "nub", "hidraw0", false);
        wait_object(f.client, &f.udkd, "device", "hidraw0", false);
        wait_object(f.client, &f.udkd, "nub", "hidraw2", true);
        umockdev_stop(&f);
}

/* The knob's audio device is one, @knob's, and udkctl set moves its volume and gain. */
static void knob_moves(struct umockdev_family *f, udk_object_id knob, const char *volume)
{
        udk_object_id device = wait_object(f->client, &f->udkd, "device", "hidraw0", true);
        struct proc c;
        union object o;

        ASSERT_UINT_EQ(count_objects(f->client, "device", "hidraw0"), 1);
        ASSERT_OK(udk_client_info(f->client, device, &o.obj));
        ASSERT_UINT_EQ(o.obj.parent, knob);
        wait_control(f, device, "volume", volume);
        ASSERT_INT_EQ(UDKCTL(&c, f->udkd.socket, "set", "hid-knob:hidraw0", "volume", "-30"), 0);
        ASSERT_STR_EQ(c.out, "hidraw0: volume = -30.0 dB\n");
        wait_control(f, device, "volume", "-30.0 dB");
        wait_control(f, device, "gain.level", "-30.0 dB");
}

/* The bus driver killed: udkd runs it again at once, it publishes hidraw0 once more (once); the knob
 * bound to the old nub is stopped (cleanly) and removed with it, a new knob binds the new nub, and its
 * volume moves its device. */
static void test_bus_crash(void)
{
        struct umockdev_family f = { .name = "hid", .verbose = true };
        udk_object_id bus, knob, again;
        char line[128];
        union object o;

        umockdev_start(&f);
        knob = wait_running(&f, "hidraw0", line, sizeof(line));
        knob_moves(&f, knob, "-20.0 dB");
        bus = umockdev_crash_bus(&f, "root-hid", "hidraw0", &o);
        again = wait_rematched_running(&f, "hidraw0", knob, line);
        /* A new knob starts from its personality, not from where the old one was. */
        knob_moves(&f, again, "-20.0 dB");
        wait_bus_nubs(&f, bus, "hidraw0");
        umockdev_stop(&f);
        /* One crash in all: the bus driver's. */
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 1);
}

/* The knob unplugged under its running driver: the driver is stopped (exit 0, no crash) and removed with
 * its nub and its device, the keyboard beside it and the bus driver untouched; plugged in again, a new
 * knob runs on it. */
static void test_unplug_running(void)
{
        struct umockdev_family f = { .name = "hid", .verbose = true };
        udk_object_id bus, knob, kbd;
        char line[128];
        union object o;

        umockdev_start(&f);
        knob = wait_running(&f, "hidraw0", line, sizeof(line));
        kbd = plug_keyboard(&f);
        bus = driver_of(f.client, "root-hid");
        wait_bus_nubs(&f, bus, "hidraw0 hidraw2");

        wait_unplugged(&f, knob_tree, bus, "hidraw2", knob, "hidraw0", line);
        proc_wait_stderr(&f.udkd, "driver 'hid-bus': hidraw0 unplugged", WAIT_MS);
        ASSERT_UINT_EQ(wait_object(f.client, &f.udkd, "nub", "hidraw2", true), kbd);
        ASSERT_UINT_EQ(driver_of(f.client, "hidraw2"), 0);

        umockdev_replug(&f);
        wait_bus_nubs(&f, bus, "hidraw0 hidraw2");
        knob_moves(&f, wait_rematched(&f, "hidraw0", knob, "running", &o), "-20.0 dB");
        umockdev_stop(&f);
        ASSERT_TRUE(strstr(f.udkd.err, "a crash") == NULL);
}

UDK_TEST_MAIN(test_enumeration, test_knob_turns, test_hotplug, test_bus_crash, test_unplug_running)
