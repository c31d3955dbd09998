/* SPDX-License-Identifier: MIT */
/*
 * The PCI family end to end under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the HD-audio controller of tests/fixtures/pci-hda.umockdev
 * enumerated with its exact properties, hotplug in and out, a function
 * with a truncated attribute left out with a warning naming it while the
 * others carry on; the example pci-hda matched and started, its volume
 * read from the fixture's BAR0 register, and udkctl set writing exactly
 * the register's bytes in the fixture's resource0; the bus driver's
 * crash, and the controller unplugged under its running pci-hda.
 *
 * The bus driver's host runs unsandboxed (umockdev_host_wrap): it reads
 * /sys and /run/udev, which the sandbox does not grant yet.  The other
 * drivers' hosts are sandboxed.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-umockdev.h"

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

/* An HDMI audio function whose config file is a symlink: udkd will not follow it for the driver. */
static const char hdmi[] = "P: /devices/pci0000:00/0000:01:00.1\nE: SUBSYSTEM=pci\n"
                           "A: vendor=0x10de\nA: device=0x10f0\nA: subsystem_vendor=0x10de\n"
                           "A: subsystem_device=0x0000\nA: class=0x040300\nA: revision=0xa1\n"
                           "A: modalias=pci:v000010DEd000010F0sv000010DEsd00000000bc04sc03i00\n"
                           "H: resource0=00000000\n";

/* The graphics controller hotplugged beside the audio one: published, unbound. */
static udk_object_id plug_vga(struct umockdev_family *f)
{
        GError *error = NULL;

        ASSERT_TRUE(umockdev_testbed_add_from_string(f->bed, vga, &error));
        umockdev_testbed_uevent(f->bed, "/sys/devices/pci0000:00/0000:00:02.0", "add");
        return wait_object(f->client, &f->udkd, "nub", "pci-0000-00-02.0", true);
}

/* The controller as the bus driver publishes it. */
static void test_enumeration(void)
{
        struct umockdev_family f = { .name = "pci" };
        union object o;

        umockdev_start(&f);
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
        umockdev_stop(&f);
}

/* Hotplug: a truncated vendor is a warning about that function alone; a graphics controller comes and
 * is published; an audio function whose config is a symlink is published but its driver is not started;
 * the controller goes. */
static void test_hotplug(void)
{
        struct umockdev_family f = { .name = "pci" };
        GError *error = NULL;
        union object o;

        umockdev_start(&f);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", true);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, broken, &error));
        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:00:1c.0", "add");
        proc_wait_stderr(&f.udkd, "0000:00:1c.0: vendor '0x80' is not 0x and 4 hex digits: left out",
                         WAIT_MS);
        plug_vga(&f);
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "device", &o), "0x9a49");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "class", &o), "0x030000");
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-02.0", "revision", &o), "0x01");
        ASSERT_UINT_EQ(prop_int(&o.obj, "handle"), 2);
        ASSERT_UINT_EQ(prop_int(&o.obj, "bound"), 0); /* no personality wants it */
        ASSERT_TRUE(udk_client_find_class(f.client, "nub", "pci-0000-00-1c.0", &(udk_object_id){ 0 }) < 0);
        /* The controller is untouched. */
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-00-1f.3", "vendor", &o), "0x8086");

        /* A bus driver cannot make udkd follow a symlink out of the function's directory. */
        {
                char link[512], target[512];

                ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, hdmi, &error));
                ASSERT_OK(symlink(umockdev_path(&f, HDA_SYSFS "/config", target, sizeof(target)),
                                  umockdev_path(&f, "/sys/devices/pci0000:00/0000:01:00.1/config", link,
                                                sizeof(link))));
        }
        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:01:00.1", "add");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-01-00.1", true);
        ASSERT_STR_EQ(nub_prop(f.client, "pci-0000-01-00.1", "vendor", &o), "0x10de");
        proc_wait_stderr(&f.udkd,
                         "/sys/bus/pci/devices/0000:01:00.1/config: Too many levels of symbolic links",
                         WAIT_MS);
        ASSERT_TRUE(udk_client_find_class(f.client, "device", "pci-0000-01-00.1", &(udk_object_id){ 0 }) <
                    0);

        umockdev_testbed_uevent(f.bed, HDA_SYSFS, "remove");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", false);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-02.0", true);
        umockdev_stop(&f);
}

/* The fixture's resource0, whole, as the testbed holds it. */
static void resource0_read(struct umockdev_family *f, uint8_t *buf, size_t size)
{
        char path[512];
        int fd;

        fd = open(umockdev_path(f, HDA_SYSFS "/resource0", path, sizeof(path)), O_RDONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(pread(fd, buf, size, 0), (long long)size);
        ASSERT_OK(close(fd));
}

/* The example: matched by class, config space checked, BAR0's register shown as volume and written back. */
static void test_hda_volume(void)
{
        struct umockdev_family f = { .name = "pci" };
        static uint8_t before[16384], after[16384];
        struct proc c;
        udk_object_id device;
        union object o;

        umockdev_start(&f);
        wait_driver(f.client, &f.udkd, "pci-0000-00-1f.3", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "pci-hda");
        proc_wait_stderr(&f.udkd,
                         "pci-0000-00-1f.3: 8086:a0c8 revision 0x20, BAR0 16384 bytes, register 0x0 = "
                         "0x000000c8: -20.0 dB",
                         WAIT_MS);
        ASSERT_OK(udk_client_find_class(f.client, "device", "pci-0000-00-1f.3", &device));
        wait_control(&f, device, "volume", "-20.0 dB");
        wait_control(&f, device, "gain.level", "-20.0 dB");

        resource0_read(&f, before, sizeof(before));
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-30"), 0);
        ASSERT_STR_EQ(c.out, "pci-0000-00-1f.3: volume = -30.0 dB\n");
        wait_control(&f, device, "gain.level", "-30.0 dB");
        /* 300 tenths of a dB, little-endian, at offset 0; every other byte as it was. */
        resource0_read(&f, after, sizeof(after));
        ASSERT_UINT_EQ(after[0], 0x2c);
        ASSERT_UINT_EQ(after[1], 0x01);
        ASSERT_UINT_EQ(after[2], 0x00);
        ASSERT_UINT_EQ(after[3], 0x00);
        ASSERT_TRUE(memcmp(after + 4, before + 4, sizeof(after) - 4) == 0);
        ASSERT_UINT_EQ(after[0x10], 0xef); /* the fixture's other registers, untouched */
        ASSERT_UINT_EQ(after[0x3fff], 0x12);

        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-12.5"), 0);
        wait_control(&f, device, "gain.level", "-12.5 dB");
        resource0_read(&f, after, sizeof(after));
        ASSERT_UINT_EQ(after[0], 0x7d);
        ASSERT_UINT_EQ(after[1], 0x00);
        ASSERT_UINT_EQ(after[2], 0x00);
        ASSERT_UINT_EQ(after[3], 0x00);
        ASSERT_TRUE(memcmp(after + 4, before + 4, sizeof(after) - 4) == 0);
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-70"), 1);
        ASSERT_STR_EQ(c.err, "udkctl: volume: -70 is out of range (a level in dB, -60..0)\n");
        proc_pump(&f.udkd, 200);
        resource0_read(&f, after, sizeof(after));
        ASSERT_UINT_EQ(after[0], 0x7d);

        /* Unplugged: the driver stops and its device goes. */
        umockdev_testbed_uevent(f.bed, HDA_SYSFS, "remove");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", false);
        wait_object(f.client, &f.udkd, "device", "pci-0000-00-1f.3", false);
        umockdev_stop(&f);
}

/* pci-hda's audio device is one, @hda's, at @volume; udkctl set writes -12.5 dB into the register. */
static void hda_moves(struct umockdev_family *f, udk_object_id hda, const char *volume)
{
        udk_object_id device = wait_object(f->client, &f->udkd, "device", "pci-0000-00-1f.3", true);
        uint8_t reg[4];
        struct proc c;
        union object o;

        ASSERT_UINT_EQ(count_objects(f->client, "device", "pci-0000-00-1f.3"), 1);
        ASSERT_OK(udk_client_info(f->client, device, &o.obj));
        ASSERT_UINT_EQ(o.obj.parent, hda);
        wait_control(f, device, "volume", volume);
        wait_control(f, device, "gain.level", volume);
        ASSERT_INT_EQ(UDKCTL(&c, f->udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-12.5"), 0);
        ASSERT_STR_EQ(c.out, "pci-0000-00-1f.3: volume = -12.5 dB\n");
        wait_control(f, device, "gain.level", "-12.5 dB");
        resource0_read(f, reg, sizeof(reg));
        ASSERT_UINT_EQ(reg[0], 0x7d);
        ASSERT_UINT_EQ(reg[1], 0x00);
        ASSERT_UINT_EQ(reg[2], 0x00);
        ASSERT_UINT_EQ(reg[3], 0x00);
}

/* The bus driver killed: udkd runs it again at once, it publishes the controller once more (once); the
 * pci-hda bound to the old nub is stopped (cleanly) and removed with it, a new one binds the new nub, reads
 * the register where the old one left it, and moves it. */
static void test_bus_crash(void)
{
        struct umockdev_family f = { .name = "pci", .verbose = true };
        udk_object_id bus, hda, again;
        char line[128];
        union object o;

        umockdev_start(&f);
        hda = wait_running(&f, "pci-0000-00-1f.3", line, sizeof(line));
        hda_moves(&f, hda, "-20.0 dB");
        bus = umockdev_crash_bus(&f, "root-pci", "pci-0000-00-1f.3", &o);
        again = wait_rematched_running(&f, "pci-0000-00-1f.3", hda, line);
        /* The old one read 0xc8 at its start: this is the new one's. */
        proc_wait_stderr(&f.udkd,
                         "pci-0000-00-1f.3: 8086:a0c8 revision 0x20, BAR0 16384 bytes, register 0x0 = "
                         "0x0000007d: -12.5 dB",
                         WAIT_MS);
        hda_moves(&f, again, "-12.5 dB");
        wait_bus_nubs(&f, bus, "pci-0000-00-1f.3");
        umockdev_stop(&f);
        /* One crash in all: the bus driver's. */
        ASSERT_UINT_EQ(count_in(f.udkd.err, ", a crash"), 1);
}

/* The controller unplugged under its running pci-hda: the driver is stopped (exit 0, no crash) and
 * removed with its nub and its device, the graphics controller beside it and the bus driver untouched;
 * plugged in again (the fixture's BAR0 anew), a new pci-hda runs on it. */
static void test_unplug_running(void)
{
        static const char *const tree[] = { HDA_SYSFS, NULL };
        struct umockdev_family f = { .name = "pci", .verbose = true };
        udk_object_id bus, hda, vga_nub;
        char line[128];
        union object o;

        umockdev_start(&f);
        hda = wait_running(&f, "pci-0000-00-1f.3", line, sizeof(line));
        vga_nub = plug_vga(&f);
        bus = driver_of(f.client, "root-pci");
        wait_bus_nubs(&f, bus, "pci-0000-00-02.0 pci-0000-00-1f.3");

        wait_unplugged(&f, tree, bus, "pci-0000-00-02.0", hda, "pci-0000-00-1f.3", line);
        proc_wait_stderr(&f.udkd, "driver 'pci-bus': 0000:00:1f.3 unplugged", WAIT_MS);
        ASSERT_UINT_EQ(wait_object(f.client, &f.udkd, "nub", "pci-0000-00-02.0", true), vga_nub);
        ASSERT_UINT_EQ(driver_of(f.client, "pci-0000-00-02.0"), 0);

        umockdev_replug(&f);
        wait_bus_nubs(&f, bus, "pci-0000-00-02.0 pci-0000-00-1f.3");
        hda_moves(&f, wait_rematched(&f, "pci-0000-00-1f.3", hda, "running", &o), "-20.0 dB");
        umockdev_stop(&f);
        ASSERT_TRUE(strstr(f.udkd.err, "a crash") == NULL);
}

UDK_TEST_MAIN(test_enumeration, test_hotplug, test_hda_volume, test_bus_crash, test_unplug_running)
