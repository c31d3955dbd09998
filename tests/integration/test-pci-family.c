/* SPDX-License-Identifier: MIT */
/*
 * The PCI family end to end under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the HD-audio controller of tests/fixtures/pci-hda.umockdev
 * enumerated with its exact properties, hotplug in and out, a function
 * with a truncated attribute left out with a warning naming it while the
 * others carry on.
 *
 * The bus driver's host runs unsandboxed (host_wrap): it reads /sys and
 * /run/udev, which the sandbox does not grant yet.  The other drivers'
 * hosts are sandboxed.
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

#define HDA_SYSFS "/sys/devices/pci0000:00/0000:00:1f.3"

/* Hotplugged: a function whose vendor attribute is cut short, and a graphics controller. */
static const char broken[] = "P: /devices/pci0000:00/0000:00:1c.0\nE: SUBSYSTEM=pci\n"
                             "A: vendor=0x80\nA: device=0xa0b8\nA: subsystem_vendor=0x1028\n"
                             "A: subsystem_device=0x0a1f\nA: class=0x060400\nA: revision=0x20\n"
                             "A: modalias=pci:v00008086d0000A0B8sv00001028sd00000A1Fbc06sc04i00\n";
static const char vga[] = "P: /devices/pci0000:00/0000:00:02.0\nE: SUBSYSTEM=pci\n"
                          "A: vendor=0x8086\nA: device=0x9a49\nA: subsystem_vendor=0x1028\n"
                          "A: subsystem_device=0x0a1f\nA: class=0x030000\nA: revision=0x01\n"
                          "A: modalias=pci:v00008086d00009A49sv00001028sd00000A1Fbc03sc00i00\n";

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
                "*/udk-driver-pci-bus.so) exec %s --no-sandbox \"$@\" ;;\n"
                "*) exec %s \"$@\" ;;\n"
                "esac\n",
                host, host);
        ASSERT_OK(fclose(out));
        ASSERT_OK(chmod(f->host, 0755));
        ASSERT_OK(setenv("UDK_DRIVERHOST", f->host, 1));
}

static void fixture_start(struct fixture *f)
{
        const char *args[] = { "--drivers", getenv("UDK_TEST_PCI_DIR"), NULL };
        GError *error = NULL;

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        if (!args[1])
                UDK_TEST_SKIP("UDK_TEST_PCI_DIR is not set (run through meson test)");
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_file(f->bed, getenv("UDK_TEST_PCI_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
        host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-pci-family", f->udkd.socket, &f->client));
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

/* The controller as the bus driver publishes it. */
static void test_enumeration(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-host-XXXXXX" };
        union object o;

        fixture_start(&f);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", true);
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "family", &o), "pci");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "slot", &o), "0000:00:1f.3");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "vendor", &o), "0x8086");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "device", &o), "0xa0c8");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "subsystem_vendor", &o), "0x1028");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "subsystem_device", &o), "0x0a1f");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "class", &o), "0x040300");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "class_code", &o), "0x04");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "subclass", &o), "0x03");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "prog_if", &o), "0x00");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "revision", &o), "0x20");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "modalias", &o),
                      "pci:v00008086d0000A0C8sv00001028sd00000A1Fbc04sc03i00");
        ASSERT_UINT_EQ(prop_int(&o.obj, "handle"), 1);
        fixture_stop(&f);
}

/* Hotplug: a truncated vendor is a warning about that function alone; a graphics controller comes and
 * is published; the controller goes. */
static void test_hotplug(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-host-XXXXXX" };
        GError *error = NULL;
        union object o;

        fixture_start(&f);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", true);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, broken, &error));
        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:00:1c.0", "add");
        proc_wait_stderr(&f.udkd, "0000:00:1c.0: vendor '0x80' is not 0x and 4 hex digits: left out", WAIT_MS);
        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, vga, &error));
        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:00:02.0", "add");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-02.0", true);
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "device", &o), "0x9a49");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "class", &o), "0x030000");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "revision", &o), "0x01");
        ASSERT_UINT_EQ(prop_int(&o.obj, "handle"), 2);
        ASSERT_UINT_EQ(prop_int(&o.obj, "bound"), 0); /* no personality wants it */
        ASSERT_TRUE(udk_client_find_class(f.client, "nub", "pci-0000-00-1c.0", &(udk_object_id){ 0 }) < 0);
        /* The controller is untouched. */
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "vendor", &o), "0x8086");

        umockdev_testbed_uevent(f.bed, HDA_SYSFS, "remove");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", false);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-02.0", true);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_enumeration, test_hotplug)
