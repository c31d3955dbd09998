/* SPDX-License-Identifier: MIT */
/*
 * The HID family end to end under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the knob of tests/fixtures/hid-knob.umockdev enumerated with its
 * properties, the knob driver matched and started, input reports replayed
 * on its /dev/hidraw0 moving its device's volume by the exact step, a
 * device with a garbage descriptor left out with a warning while the
 * others carry on, hotplug in and out.
 *
 * The bus driver's host runs unsandboxed (host_wrap): it reads /sys and
 * /run/udev, which the sandbox does not grant yet.  The knob's is
 * sandboxed.
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

#define KNOB_SYSFS "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:1234:5678.0001/hidraw/hidraw0"

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

/* Reports the knob sends, 1.5 s apart (umockdev's script format: a byte b <= 32 is '^' and b + 64). */
static const char script[] = "r 1500 ^@^C\n"   /* dial +3: -20 -> -17 */
                             "r 1500 ^B^@\n"   /* Volume Decrement: -18 */
                             "r 1500 ^@\x7f\n" /* dial +127: clamped at 0 */
                             "r 1500 ^A\xfe\n" /* Volume Increment and dial -2: -1 */
                             "r 1500 ^@\x81\n" /* dial -127: clamped at -60 */
                             "r 1500 ^@\n";    /* half a report: dropped with a warning, nothing moves */

struct fixture {
        UMockdevTestbed *bed;
        struct proc udkd;
        struct udk_client *client;
        char dir[64], host[96];
};

/*
 * $UDK_DRIVERHOST through a wrapper that runs the bus driver's host alone with --no-sandbox (the bus
 * driver reads /sys and /run/udev, which the sandbox does not grant yet); the knob's host is sandboxed
 * as usual: it reaches its hidraw node only through the descriptor udkd handed it.
 */
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
                "*/udk-driver-hid-bus.so) exec %s --no-sandbox \"$@\" ;;\n"
                "*) exec %s \"$@\" ;;\n"
                "esac\n",
                host, host);
        ASSERT_OK(fclose(out));
        ASSERT_OK(chmod(f->host, 0755));
        ASSERT_OK(setenv("UDK_DRIVERHOST", f->host, 1));
}

static void fixture_start(struct fixture *f, bool with_script)
{
        const char *args[] = { "--drivers", getenv("UDK_TEST_HID_DIR"), NULL };
        GError *error = NULL;
        char path[] = "/tmp/udk-test-hid-XXXXXX";

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        if (!args[1])
                UDK_TEST_SKIP("UDK_TEST_HID_DIR is not set (run through meson test)");
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_file(f->bed, getenv("UDK_TEST_HID_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
        if (with_script) {
                int fd = mkstemp(path);

                ASSERT_OK(fd);
                ASSERT_INT_EQ(write(fd, script, sizeof(script) - 1), (long long)sizeof(script) - 1);
                close(fd);
                if (!umockdev_testbed_load_script(f->bed, "/dev/hidraw0", path, &error))
                        udk_test_fail("script: %s", error->message);
                unlink(path);
        }
        host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-hid-family", f->udkd.socket, &f->client));
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

static const char *control_value(struct udk_client *client, udk_object_id device, const char *name,
                                 char *buf, size_t size)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0;

        ASSERT_OK(udk_client_list(client, device, &objects, &n));
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                if (o->parent == device && strcmp(o->klass, "control") == 0 && strcmp(o->name, name) == 0 &&
                    prop_string(o, "value"))
                        udk_strlcpy(buf, prop_string(o, "value"), size);
        }
        free(objects);
        return buf;
}

static void wait_control(struct fixture *f, udk_object_id device, const char *name, const char *value)
{
        char now[64];

        for (uint64_t deadline = now_ms() + WAIT_MS;
             strcmp(control_value(f->client, device, name, now, sizeof(now)), value) != 0;) {
                if (now_ms() >= deadline)
                        udk_test_fail("%s is '%s', not '%s', after %d ms; stderr: %s", name, now, value,
                                      WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
}

/* The knob as the bus driver publishes it, the knob driver bound to it. */
static void test_enumeration(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-hid-host-XXXXXX" };
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
        fixture_stop(&f);
}

/* Each report moves the volume by step_db a detent, clamped; a report of the wrong size moves nothing. */
static void test_knob_turns(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-hid-host-XXXXXX" };
        udk_object_id device;
        union object o;

        fixture_start(&f, true);
        wait_driver(f.client, &f.udkd, "hidraw0", "running", &o);
        ASSERT_OK(udk_client_find_class(f.client, "device", "hidraw0", &device));
        /* One host unsandboxed, the bus driver's: the knob's runs in its sandbox. */
        proc_pump(&f.udkd, 2);
        {
                unsigned n = 0;

                for (const char *at = f.udkd.err; (at = strstr(at, "--no-sandbox: the driver runs")); at++)
                        n++;
                ASSERT_UINT_EQ(n, 1);
        }
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
        fixture_stop(&f);
}

/* Hotplug: a garbage descriptor is a warning about that device alone; a keyboard comes and is published;
 * the knob goes, and its driver and device with it. */
static void test_hotplug(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-hid-host-XXXXXX" };
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
        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, keyboard, &error));
        umockdev_testbed_uevent(f.bed, "/sys" USB4 "/0003:04D9:1603.0003/hidraw/hidraw2", "add");
        wait_object(f.client, &f.udkd, "nub", "hidraw2", true);
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
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_enumeration, test_knob_turns, test_hotplug)
