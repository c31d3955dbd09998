/* SPDX-License-Identifier: MIT */
/*
 * The PCI family end to end under umockdev (run through umockdev-wrapper,
 * which preloads libumockdev-preload into this test, udkd and the driver
 * hosts): the HD-audio controller of tests/fixtures/pci-hda.umockdev
 * enumerated with its exact properties, hotplug in and out, a function
 * with a truncated attribute left out with a warning naming it while the
 * others carry on; the example pci-hda matched and started, its volume
 * read from the fixture's BAR0 register, and udkctl set writing exactly
 * the register's bytes in the fixture's resource0.
 *
 * The bus driver's host runs unsandboxed (host_wrap): it reads /sys and
 * /run/udev, which the sandbox does not grant yet.  The other drivers'
 * hosts are sandboxed.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* An HDMI audio function whose config file is a symlink: udkd will not follow it for the driver. */
static const char hdmi[] = "P: /devices/pci0000:00/0000:01:00.1\nE: SUBSYSTEM=pci\n"
                           "A: vendor=0x10de\nA: device=0x10f0\nA: subsystem_vendor=0x10de\n"
                           "A: subsystem_device=0x0000\nA: class=0x040300\nA: revision=0xa1\n"
                           "A: modalias=pci:v000010DEd000010F0sv000010DEsd00000000bc04sc03i00\n"
                           "H: resource0=00000000\n";

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
 * is published; an audio function whose config is a symlink is published but its driver is not started;
 * the controller goes. */
static void test_hotplug(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-host-XXXXXX" };
        GError *error = NULL;
        union object o;

        fixture_start(&f);
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", true);

        ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, broken, &error));
        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:00:1c.0", "add");
        proc_wait_stderr(&f.udkd, "0000:00:1c.0: vendor '0x80' is not 0x and 4 hex digits: left out",
                         WAIT_MS);
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

        /* A bus driver cannot make udkd follow a symlink out of the function's directory. */
        {
                char link[512], target[512];

                ASSERT_TRUE(umockdev_testbed_add_from_string(f.bed, hdmi, &error));
                snprintf(link, sizeof(link), "%s/devices/pci0000:00/0000:01:00.1/config",
                         umockdev_testbed_get_sys_dir(f.bed));
                snprintf(target, sizeof(target), "%s/devices/pci0000:00/0000:00:1f.3/config",
                         umockdev_testbed_get_sys_dir(f.bed));
                ASSERT_OK(symlink(target, link));
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
        fixture_stop(&f);
}

/* Run $UDKCTL --socket @socket @args to its end (bounded); its exit status, its output in @p. */
static int ctl(struct proc *p, const char *socket, const char *const *args)
{
        const char *argv[16] = { getenv("UDKCTL"), "--socket", socket };
        size_t n = 3;
        int out[2], err[2];

        if (!argv[0])
                UDK_TEST_SKIP("UDKCTL is not set (run through meson test)");
        for (; *args; args++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        memset(p, 0, sizeof(*p));
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
        ASSERT_OK(fcntl(p->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(p->err_fd, F_SETFL, O_NONBLOCK));
        proc_finish(p, WAIT_MS);
        return proc_exit_status(p);
}

#define CTL(p, socket, ...) ctl(p, socket, (const char *const[]){ __VA_ARGS__, NULL })

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

/* The fixture's resource0, whole, as the testbed holds it. */
static void resource0_read(struct fixture *f, uint8_t *buf, size_t size)
{
        char path[512];
        int fd;

        snprintf(path, sizeof(path), "%s/devices/pci0000:00/0000:00:1f.3/resource0",
                 umockdev_testbed_get_sys_dir(f->bed));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(pread(fd, buf, size, 0), (long long)size);
        ASSERT_OK(close(fd));
}

/* The example: matched by class, config space checked, BAR0's register shown as volume and written back. */
static void test_hda_volume(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-host-XXXXXX" };
        static uint8_t before[16384], after[16384];
        struct proc c;
        udk_object_id device;
        union object o;

        fixture_start(&f);
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
        ASSERT_INT_EQ(CTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-30"), 0);
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

        ASSERT_INT_EQ(CTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-12.5"), 0);
        wait_control(&f, device, "gain.level", "-12.5 dB");
        resource0_read(&f, after, sizeof(after));
        ASSERT_UINT_EQ(after[0], 0x7d);
        ASSERT_UINT_EQ(after[1], 0x00);
        ASSERT_UINT_EQ(after[2], 0x00);
        ASSERT_UINT_EQ(after[3], 0x00);
        ASSERT_TRUE(memcmp(after + 4, before + 4, sizeof(after) - 4) == 0);
        ASSERT_INT_EQ(CTL(&c, f.udkd.socket, "set", "pci-hda:pci-0000-00-1f.3", "volume", "-70"), 1);
        ASSERT_STR_EQ(c.err, "udkctl: volume: -70 is out of range (a level in dB, -60..0)\n");
        proc_pump(&f.udkd, 200);
        resource0_read(&f, after, sizeof(after));
        ASSERT_UINT_EQ(after[0], 0x7d);

        /* Unplugged: the driver stops and its device goes. */
        umockdev_testbed_uevent(f.bed, HDA_SYSFS, "remove");
        wait_object(f.client, &f.udkd, "nub", "pci-0000-00-1f.3", false);
        wait_object(f.client, &f.udkd, "device", "pci-0000-00-1f.3", false);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_enumeration, test_hotplug, test_hda_volume)
