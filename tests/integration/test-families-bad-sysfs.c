/* SPDX-License-Identifier: MIT */
/*
 * Bad sysfs is one device's problem, in each family that reads it (hid,
 * pci, usb, serial): a umockdev testbed holds one broken device and one
 * good one after it, and the family's bus driver, alone in udkd, logs one
 * warning naming the broken device and the attribute, publishes the good
 * device with exactly its properties, and keeps running.  The broken
 * attributes: a report descriptor cut inside an item (hid), an empty
 * vendor file (pci), a missing idVendor (usb), an idProduct file that
 * cannot be read (serial, mode 0: libudev reads no file without the read
 * bit, root or not).
 *
 * Run through umockdev-wrapper (its preload in the test, udkd and the
 * hosts).  The preload's /sys and monitor are out of the sandbox's reach,
 * so the hosts run with UDK_DRIVERHOST_NO_SANDBOX=1, as in
 * test-serial-umockdev; only the bus driver runs in them.
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

struct family {
        const char *bus;        /* "pci": udk-driver-pci-bus.so in $dir_env, binding root-pci */
        const char *dir_env;
        const char *testbed;    /* the broken device first: it is enumerated before the good one */
        const char *unreadable; /* a file under the testbed's /sys made unreadable, or NULL */
        const char *good;       /* the good device's nub, the last one published */
        const char *props;      /* its string properties, all, in order, as "key=value\n" */
        const char *good_too;   /* another good nub (a USB interface's device), or NULL */
        const char *props_too;
        const char *warning;    /* the bus driver's one warning, as udkd logs it */
        const char *broken;     /* the broken device's nub, which is not published */
};

struct fixture {
        UMockdevTestbed *bed;
        struct proc udkd;
        struct udk_client *client;
        char drivers[64], conf[128];
};

static void fixture_start(struct fixture *f, const struct family *fam)
{
        const char *args[] = { "--drivers", f->drivers, NULL };
        const char *dir = getenv(fam->dir_env);
        char text[1024], path[1024];
        GError *error = NULL;

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        if (!dir || !*dir)
                UDK_TEST_SKIP("%s is not set (run through meson test)", fam->dir_env);
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_string(f->bed, fam->testbed, &error))
                udk_test_fail("testbed: %s", error->message);
        if (fam->unreadable) {
                snprintf(path, sizeof(path), "%s%s", umockdev_testbed_get_sys_dir(f->bed), fam->unreadable);
                ASSERT_OK(chmod(path, 0));
        }

        /* A drivers folder with the bus driver's personality alone. */
        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-bad-sysfs-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(f->conf, sizeof(f->conf), "%s/00-%s-bus.conf", f->drivers, fam->bus);
        snprintf(text, sizeof(text),
                 "[personality]\nname = %s-bus\nfamily = root\nmatch.bus = %s\n"
                 "driver = %s/udk-driver-%s-bus.so\nsandbox = udev\n",
                 fam->bus, fam->bus, dir, fam->bus);
        test_write_file(f->conf, text);
        setenv("UDK_DRIVERHOST_NO_SANDBOX", "1", 1);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-families-bad-sysfs", f->udkd.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        ASSERT_FALSE(strstr(f->udkd.err, "AddressSanitizer"));
        unlink(f->conf);
        rmdir(f->drivers);
        g_object_unref(f->bed);
}

/* The lines of udkd's log that hold @needle. */
static size_t count_lines(const char *log, const char *needle)
{
        size_t n = 0;

        for (const char *line = log; *line;) {
                size_t len = strcspn(line, "\n");
                char text[1024];

                snprintf(text, sizeof(text), "%.*s", (int)len, line);
                n += strstr(text, needle) != NULL;
                line += len + (line[len] == '\n');
        }
        return n;
}

static void check_family(const struct family *fam)
{
        static struct fixture f;
        char root[32], tag[64], props[4096];
        union object o;

        fixture_start(&f, fam);
        snprintf(root, sizeof(root), "root-%s", fam->bus);
        wait_driver(f.client, &f.udkd, root, "running", &o);
        wait_object(f.client, &f.udkd, "nub", fam->good, true);
        nub_string_props(f.client, fam->good, props, sizeof(props));
        ASSERT_STR_EQ(props, fam->props);
        if (fam->good_too) {
                nub_string_props(f.client, fam->good_too, props, sizeof(props));
                ASSERT_STR_EQ(props, fam->props_too);
        }
        proc_wait_stderr(&f.udkd, fam->warning, WAIT_MS);
        ASSERT_TRUE(udk_client_find_class(f.client, "nub", fam->broken, &(udk_object_id){ 0 }) < 0);
        /* The warning came before the good device's nub: it is the only one the bus driver gave. */
        snprintf(tag, sizeof(tag), "warning: driver '%s-bus': ", fam->bus);
        ASSERT_UINT_EQ(count_lines(f.udkd.err, tag), 1);
        /* The family carries on. */
        wait_driver(f.client, &f.udkd, root, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        fixture_stop(&f);
}

/* Two buttons of a consumer control: short enough for the registry to show whole (63 bytes). */
#define KNOB_DESCRIPTOR "050C0901A10109E909EA15002501750195028102C0"
#define UHID            "/devices/virtual/misc/uhid"

/* HID: hidraw0's report descriptor ends inside an item (Logical Maximum without its byte). */
static void test_hid(void)
{
        static const struct family hid = {
                .bus = "hid",
                .dir_env = "UDK_TEST_HID_DIR",
                .testbed = "P: " UHID "/0006:1234:5679.0001\nE: SUBSYSTEM=hid\n"
                           "E: HID_ID=0006:00001234:00005679\nE: HID_NAME=Acme Broken Knob\n"
                           "H: report_descriptor=050C0901A10109E909EA150025\n\n"
                           "P: " UHID "/0006:1234:5679.0001/hidraw/hidraw0\nN: hidraw0\n"
                           "E: DEVNAME=/dev/hidraw0\nE: SUBSYSTEM=hidraw\n\n"
                           "P: " UHID "/0006:1234:5678.0002\nE: SUBSYSTEM=hid\n"
                           "E: HID_ID=0006:00001234:00005678\nE: HID_NAME=Acme Volume Knob\n"
                           "E: HID_UNIQ=K0001\nE: MODALIAS=hid:b0006g0001v00001234p00005678\n"
                           "H: report_descriptor=" KNOB_DESCRIPTOR "\n\n"
                           "P: " UHID "/0006:1234:5678.0002/hidraw/hidraw1\nN: hidraw1\n"
                           "E: DEVNAME=/dev/hidraw1\nE: SUBSYSTEM=hidraw\n",
                .good = "hidraw1",
                .props = "family=hid\nbus=virtual\nbus_type=0x0006\nvendor=0x1234\nproduct=0x5678\n"
                         "name=Acme Volume Knob\nuniq=K0001\nmodalias=hid:b0006g0001v00001234p00005678\n"
                         "devnode=/dev/hidraw1\nusage_page=0x000c\nusage=0x0001\nreport_descriptor_size=21\n"
                         "report_descriptor=050c0901a10109e909ea15002501750195028102c0\n",
                .warning = "warning: driver 'hid-bus': hidraw0 (1234:5679): bad report descriptor: byte 12: "
                           "item 0x25 needs 1 data bytes, only 0 left: left out",
                .broken = "hidraw0",
        };

        check_family(&hid);
}

/* PCI: 0000:00:01.0's vendor file is empty. */
static void test_pci(void)
{
        static const struct family pci = {
                .bus = "pci",
                .dir_env = "UDK_TEST_PCI_DIR",
                .testbed = "P: /devices/pci0000:00/0000:00:01.0\nE: SUBSYSTEM=pci\n"
                           "A: vendor=\nA: device=0x1901\nA: subsystem_vendor=0x1028\n"
                           "A: subsystem_device=0x0a1f\nA: class=0x060400\nA: revision=0x07\n"
                           "A: modalias=pci:v00008086d00001901sv00001028sd00000A1Fbc06sc04i00\n\n"
                           "P: /devices/pci0000:00/0000:00:02.0\nE: SUBSYSTEM=pci\n"
                           "A: vendor=0x8086\nA: device=0x9a49\nA: subsystem_vendor=0x1028\n"
                           "A: subsystem_device=0x0a1f\nA: class=0x030000\nA: revision=0x01\n"
                           "A: modalias=pci:v00008086d00009A49sv00001028sd00000A1Fbc03sc00i00\n",
                .good = "pci-0000-00-02.0",
                .props = "family=pci\nslot=0000:00:02.0\nvendor=0x8086\ndevice=0x9a49\nsubsystem_vendor=0x1028\n"
                         "subsystem_device=0x0a1f\nclass=0x030000\nclass_code=0x03\nsubclass=0x00\n"
                         "prog_if=0x00\nrevision=0x01\n"
                         "modalias=pci:v00008086d00009A49sv00001028sd00000A1Fbc03sc00i00\n",
                .warning = "warning: driver 'pci-bus': 0000:00:01.0: vendor '' is not 0x and 4 hex digits: "
                           "left out",
                .broken = "pci-0000-00-01.0",
        };

        check_family(&pci);
}

#define USB1 "/devices/pci0000:00/0000:00:14.0/usb1"
#define USB_DEVICE_ATTRS                                                                                     \
        "A: bcdDevice=0100\nA: bDeviceClass=00\nA: bDeviceSubClass=00\nA: bDeviceProtocol=00\n"             \
        "A: busnum=1\nA: bNumInterfaces= 1\nA: speed=12\n"
#define USB_INTERFACE_ATTRS                                                                                  \
        "E: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\nA: bInterfaceNumber=00\nA: bAlternateSetting= 0\n"     \
        "A: bInterfaceClass=01\nA: bInterfaceSubClass=03\nA: bInterfaceProtocol=00\nA: bNumEndpoints=02\n"

/* USB: 1-1 has no idVendor (its interface goes with it, quietly). */
static void test_usb(void)
{
        static const struct family usb = {
                .bus = "usb",
                .dir_env = "UDK_TEST_USB_DIR",
                .testbed = "P: " USB1 "/1-1\nN: bus/usb/001/002\nE: DEVNAME=/dev/bus/usb/001/002\n"
                           "E: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idProduct=2001\nA: devnum=2\n"
                           USB_DEVICE_ATTRS "\n"
                           "P: " USB1 "/1-1/1-1:1.0\n" USB_INTERFACE_ATTRS
                           "A: modalias=usb:v0763p2001d0100dc00dsc00dp00ic01isc03ip00in00\n\n"
                           "P: " USB1 "/1-2\nN: bus/usb/001/003\nE: DEVNAME=/dev/bus/usb/001/003\n"
                           "E: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor=0763\nA: idProduct=2001\n"
                           "A: devnum=3\nA: product=MIDI Sport 2x2\n" USB_DEVICE_ATTRS "\n"
                           "P: " USB1 "/1-2/1-2:1.0\n" USB_INTERFACE_ATTRS
                           "A: modalias=usb:v0763p2001d0100dc00dsc00dp00ic01isc03ip00in00\n",
                .good = "usb-1-2_1.0",
                .props = "family=usb\nparent=usb-1-2\nvendor=0x0763\nproduct=0x2001\nbcdDevice=0x0100\n"
                         "interface=0\nalternate=0\nclass=0x01\nsubclass=0x03\nprotocol=0x00\nendpoints=2\n"
                         "speed=12\nbus_path=1-2\ndevnode=/dev/bus/usb/001/003\n"
                         "modalias=usb:v0763p2001d0100dc00dsc00dp00ic01isc03ip00in00\n",
                .good_too = "usb-1-2",
                .props_too = "family=usb\nvendor=0x0763\nproduct=0x2001\nbcdDevice=0x0100\nclass=0x00\n"
                             "subclass=0x00\nprotocol=0x00\ninterfaces=1\nproduct_name=MIDI Sport 2x2\nspeed=12\n"
                             "bus_path=1-2\nbusnum=1\ndevnum=3\ndevnode=/dev/bus/usb/001/003\n",
                .warning = "warning: driver 'usb-bus': usb 1-1: idVendor unreadable: left out",
                .broken = "usb-1-1",
        };

        check_family(&usb);
}

/* Serial: the USB device of ttyUSB0's adapter has an idProduct that cannot be read. */
static void test_serial(void)
{
        static const struct family serial = {
                .bus = "serial",
                .dir_env = "UDK_TEST_SERIAL_DIR",
                .testbed = "P: " USB1 "/1-4\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n"
                           "A: idVendor=0403\nA: idProduct=6001\n\n"
                           "P: " USB1 "/1-4/1-4:1.0\nE: DEVTYPE=usb_interface\nE: DRIVER=ftdi_sio\n"
                           "E: SUBSYSTEM=usb\n\n"
                           "P: " USB1 "/1-4/1-4:1.0/ttyUSB0\nE: DRIVER=ftdi_sio\nE: SUBSYSTEM=usb-serial\n\n"
                           "P: " USB1 "/1-4/1-4:1.0/ttyUSB0/tty/ttyUSB0\nN: ttyUSB0\nE: DEVNAME=/dev/ttyUSB0\n"
                           "E: SUBSYSTEM=tty\n\n"
                           "P: /devices/platform/serial8250\nE: SUBSYSTEM=platform\nE: DRIVER=serial8250\n"
                           "A: modalias=platform:serial8250\nL: driver=../../../bus/platform/drivers/serial8250\n\n"
                           "P: /devices/platform/serial8250/tty/ttyS1\nN: ttyS1\nE: DEVNAME=/dev/ttyS1\n"
                           "E: SUBSYSTEM=tty\n",
                .unreadable = USB1 "/1-4/idProduct",
                .good = "ttyS1",
                .props = "family=serial\ndevnode=/dev/ttyS1\nsubsystem=tty\nparent_subsystem=platform\n"
                         "driver=serial8250\nmodalias=platform:serial8250\n",
                .warning = "warning: driver 'serial-bus': tty ttyUSB0: its USB device 1-4 has no readable "
                           "idProduct: left out",
                .broken = "ttyUSB0",
        };

        check_family(&serial);
}

UDK_TEST_MAIN(test_hid, test_pci, test_usb, test_serial)
