/* SPDX-License-Identifier: MIT */
/*
 * The serial family's bus driver on a mocked USB serial adapter: an FTDI
 * FT232R (tests/fixtures/ftdi-ft232r.umockdev, written by hand in
 * umockdev's format) and a broken one beside it (serial-bad.umockdev).
 * The test runs under umockdev-wrapper (LD_PRELOAD of umockdev's preload
 * library), makes the testbed in-process and starts udkd, whose driver
 * hosts inherit the preload and the testbed's $UMOCKDEV_DIR.
 *
 * The preload redirects /sys to the testbed's folder under /tmp and
 * emulates the udev monitor with a unix socket it binds there: neither
 * is possible in the driver host's sandbox (Landlock allows /sys, not the
 * testbed; seccomp allows netlink, not unix sockets), so this test runs
 * the hosts with UDK_DRIVERHOST_NO_SANDBOX=1.  Only the bus driver runs
 * here; test-serial runs it sandboxed on the real /sys.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>

#include <umockdev.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          15000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

#define FTDI_TTY "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0"

static const char *env_dir(const char *key)
{
        const char *dir = getenv(key);

        if (!dir || !*dir)
                UDK_TEST_SKIP("%s is not set (run through meson test)", key);
        return dir;
}

struct fixture {
        UMockdevTestbed *tb;
        struct proc udkd;
        struct udk_client *client;
        char drivers[64], conf[128];
};

static void fixture_start(struct fixture *f, const char *const *fixtures)
{
        const char *args[] = { "--drivers", f->drivers, "--verbose", NULL };
        char path[512], text[1024];
        GError *error = NULL;

        /* umockdev_in_mock_environment() said no here with the preload loaded: look at LD_PRELOAD. */
        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not in umockdev's preload (run through meson test, which wraps it)");
        f->tb = umockdev_testbed_new();
        ASSERT_TRUE(f->tb != NULL);
        for (; *fixtures; fixtures++) {
                snprintf(path, sizeof(path), "%s/%s", env_dir("UDK_TEST_FIXTURES_DIR"), *fixtures);
                if (!umockdev_testbed_add_from_file(f->tb, path, &error))
                        udk_test_fail("%s: %s", path, error ? error->message : "?");
        }
        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-serial-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(f->conf, sizeof(f->conf), "%s/00-serial-bus.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = serial-bus\nfamily = root\nmatch.bus = serial\n"
                 "driver = %s/udk-driver-serial-bus.so\nsandbox = udev\n",
                 env_dir("UDK_TEST_SERIAL_DIR"));
        test_write_file(f->conf, text);
        /* See the top: the preload cannot work inside the sandbox. */
        setenv("UDK_DRIVERHOST_NO_SANDBOX", "1", 1);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-serial-umockdev", f->udkd.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        ASSERT_FALSE(strstr(f->udkd.err, "AddressSanitizer"));
        unlink(f->conf);
        rmdir(f->drivers);
        g_object_unref(f->tb);
}

static size_t count_nubs(struct fixture *f, const char *name)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0, found = 0;

        ASSERT_OK(udk_client_list(f->client, 1, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                found += strcmp(o->klass, "nub") == 0 && strcmp(o->name, name) == 0;
        }
        free(objects);
        return found;
}

#define FTDI_PROPERTIES                                                \
        "family=serial\n"                                              \
        "devnode=/dev/ttyUSB0\n"                                       \
        "subsystem=tty\n"                                              \
        "parent_subsystem=usb-serial\n"                                \
        "driver=ftdi_sio\n"                                            \
        "modalias=usb:v0403p6001d0600dc00dsc00dp00icFFiscFFipFFin00\n" \
        "vendor=0x0403\n"                                              \
        "product=0x6001\n"                                             \
        "revision=0x0600\n"                                            \
        "serial=A50285BI\n"                                            \
        "manufacturer=FTDI\n"                                          \
        "product_name=FT232R USB UART\n"

/* Enumeration: the adapter's nub with exactly these properties; the broken one and the virtual tty not. */
static void test_enumerate(void)
{
        static struct fixture f;
        static const char *const fixtures[] = { "ftdi-ft232r.umockdev", "serial-bad.umockdev", NULL };
        char props[4096];
        union object o;

        fixture_start(&f, fixtures);
        wait_driver(f.client, &f.udkd, "root-serial", "running", &o);
        wait_object(f.client, &f.udkd, "nub", "ttyUSB0", true);
        nub_string_props(f.client, "ttyUSB0", props, sizeof(props));
        ASSERT_STR_EQ(props, FTDI_PROPERTIES);
        proc_wait_stderr(&f.udkd, "driver 'serial-bus': 2 ttys published", WAIT_MS);
        /* The bad adapter: one warning naming it, and left out. */
        proc_wait_stderr(
                &f.udkd,
                "driver 'serial-bus': tty ttyUSB1: its USB device 1-3 has idVendor '04', not 4 hex digits: "
                "left out",
                WAIT_MS);
        ASSERT_UINT_EQ(count_nubs(&f, "ttyUSB1"), 0);
        ASSERT_UINT_EQ(count_nubs(&f, "tty7"), 0);
        /* An attribute that is not text: the nub without it, and a warning. */
        proc_wait_stderr(&f.udkd,
                         "driver 'serial-bus': tty ttyUSB2: manufacturer holds a byte 0x01 that is not "
                         "text: left out",
                         WAIT_MS);
        nub_string_props(f.client, "ttyUSB2", props, sizeof(props));
        ASSERT_STR_EQ(props,
                      "family=serial\ndevnode=/dev/ttyUSB2\nsubsystem=tty\nparent_subsystem=usb-serial\n"
                      "driver=ftdi_sio\nvendor=0x0403\nproduct=0x6015\n");
        /* One that cannot be read (there is none): the tty left out, and a warning. */
        proc_wait_stderr(
                &f.udkd,
                "driver 'serial-bus': tty ttyUSB3: its USB device 1-5 has no readable idProduct: left out",
                WAIT_MS);
        ASSERT_UINT_EQ(count_nubs(&f, "ttyUSB3"), 0);
        fixture_stop(&f);
}

/* Hotplug: a uevent add brings a nub, a remove takes it away; the bus's crash brings it back once. */
static void test_hotplug_and_crash(void)
{
        static struct fixture f;
        static const char *const none[] = { NULL };
        char path[512], props[4096];
        GError *error = NULL;
        union object o;
        udk_object_id bus;

        fixture_start(&f, none);
        bus = wait_driver(f.client, &f.udkd, "root-serial", "running", &o);
        proc_wait_stderr(&f.udkd, "driver 'serial-bus': 0 ttys published", WAIT_MS);
        ASSERT_UINT_EQ(count_nubs(&f, "ttyUSB0"), 0);

        /* Plugged in. */
        snprintf(path, sizeof(path), "%s/ftdi-ft232r.umockdev", env_dir("UDK_TEST_FIXTURES_DIR"));
        if (!umockdev_testbed_add_from_file(f.tb, path, &error))
                udk_test_fail("%s: %s", path, error ? error->message : "?");
        umockdev_testbed_uevent(f.tb, FTDI_TTY, "add");
        wait_object(f.client, &f.udkd, "nub", "ttyUSB0", true);
        nub_string_props(f.client, "ttyUSB0", props, sizeof(props));
        ASSERT_STR_EQ(props, FTDI_PROPERTIES);

        /* The bus driver crashes: it comes back, enumerates again, one nub as before. */
        ASSERT_OK(kill((pid_t)prop_int(&o.obj, "pid"), SIGKILL));
        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                ASSERT_OK(udk_client_info(f.client, bus, &o.obj));
                if (prop_int(&o.obj, "restarts") == 1 &&
                    strcmp(prop_string(&o.obj, "state"), "running") == 0 && count_nubs(&f, "ttyUSB0") == 1)
                        break;
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&f.udkd, 2);
        }
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        nub_string_props(f.client, "ttyUSB0", props, sizeof(props));
        ASSERT_STR_EQ(props, FTDI_PROPERTIES);

        /* Unplugged. */
        umockdev_testbed_uevent(f.tb, FTDI_TTY, "remove");
        umockdev_testbed_remove_device(f.tb, FTDI_TTY);
        wait_object(f.client, &f.udkd, "nub", "ttyUSB0", false);
        proc_wait_stderr(&f.udkd, "driver 'serial-bus': tty ttyUSB0 unplugged", WAIT_MS);
        wait_state(f.client, &f.udkd, bus, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 1);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_enumerate, test_hotplug_and_crash)
