/* SPDX-License-Identifier: MIT */
/*
 * PCI interrupts through UIO, end to end under umockdev-wrapper: the
 * HD-audio function of tests/fixtures/pci-uio.umockdev has a memory BAR0,
 * an I/O BAR2 and a uio/uio0 child whose /dev/uio0 is the testbed's
 * emulated node (a pseudo-terminal whose other end this test holds).
 * udkd picks sysfs and UIO (no /dev/vfio/vfio here) and says why, hands
 * the sandboxed pci-hda host config, resource0, resource2 and the node and
 * nothing else; the test emits event counts on the node, and the driver
 * shows exactly those counts, with the missed ones, and writes the 32-bit
 * 1 back after each; the node hung up stops the interrupts with a warning
 * while the driver keeps running.  Then the choice's other reasons (an
 * IOMMU group without /dev/vfio/GROUP; a "container" that is not one),
 * a malformed resource file and a UIO node of another number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdint.h>

#include <umockdev.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-udkd.h"
#include "udk-test-registry.h"

#define SLOT_SYSFS "/sys/devices/pci0000:00/0000:00:1f.3"

struct fixture {
        UMockdevTestbed *bed;
        struct proc udkd;
        struct udk_client *client;
        char dir[64], host[96];
        void (*setup)(struct fixture *f); /* the testbed's changes before udkd starts, or NULL */
};

/* $UDK_DRIVERHOST through a wrapper that runs the bus driver's host alone with --no-sandbox (it reads /sys
 * and /run/udev); pci-hda's host is sandboxed. */
static void host_wrap(struct fixture *f)
{
        static char host[512]; /* the real one: a second fixture in a test must not wrap the wrapper */
        FILE *out;

        if (!host[0] && getenv("UDK_DRIVERHOST"))
                udk_strlcpy(host, getenv("UDK_DRIVERHOST"), sizeof(host));
        if (!host[0])
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
        if (!args[1] || !getenv("UDK_TEST_PCI_UIO_FIXTURE"))
                UDK_TEST_SKIP(
                        "UDK_TEST_PCI_DIR or UDK_TEST_PCI_UIO_FIXTURE is not set (run through meson test)");
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_file(f->bed, getenv("UDK_TEST_PCI_UIO_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
        /* The node's other end stays this test's alone: udkd and its hosts would keep it open otherwise. */
        ASSERT_OK(umockdev_testbed_get_dev_fd(f->bed, "/dev/uio0"));
        ASSERT_OK(fcntl(umockdev_testbed_get_dev_fd(f->bed, "/dev/uio0"), F_SETFD, FD_CLOEXEC));
        if (f->setup)
                f->setup(f);
        host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-pci-interrupts", f->udkd.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        g_object_unref(f->bed);
        unlink(f->host);
        rmdir(f->dir);
}

static void wait_control(struct fixture *f, udk_object_id device, const char *name, const char *value)
{
        wait_control_value(f->client, &f->udkd, device, name, value);
}

/* The next 4 bytes the driver wrote to the node, as a 32-bit value (bounded). */
static uint32_t node_written(struct fixture *f, int node)
{
        uint8_t b[4];
        size_t got = 0;

        for (uint64_t deadline = now_ms() + WAIT_MS; got < sizeof(b);) {
                struct pollfd p = { .fd = node, .events = POLLIN };
                ssize_t n;

                if (now_ms() >= deadline)
                        udk_test_fail("the driver wrote %zu of 4 bytes to /dev/uio0 in %d ms; stderr: %s",
                                      got, WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 0);
                if (poll(&p, 1, 10) <= 0)
                        continue;
                n = read(node, b + got, sizeof(b) - got);
                ASSERT_TRUE(n > 0);
                got += (size_t)n;
        }
        return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Nothing more written within @ms. */
static void node_quiet(struct fixture *f, int node, int ms)
{
        struct pollfd p = { .fd = node, .events = POLLIN };

        proc_pump(&f->udkd, ms);
        ASSERT_INT_EQ(poll(&p, 1, 0), 0);
}

/* The kernel's event count as uio's read() gives it: 32 bits, the CPU's order (little-endian here). */
static void node_emit(int node, uint32_t count)
{
        uint8_t b[4] = { count & 0xff, (count >> 8) & 0xff, (count >> 16) & 0xff, count >> 24 };

        ASSERT_INT_EQ(write(node, b, sizeof(b)), 4);
}

/* Which of the testbed's files the driver's host holds, by their last path part; a pty counts as "pty". */
static void host_files(pid_t pid, const char *sys_dir, char *buf, size_t size)
{
        char dir[64], link[512], target[512];
        struct dirent *e;
        DIR *d;

        buf[0] = '\0';
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
        d = opendir(dir);
        ASSERT_TRUE(d != NULL);
        while ((e = readdir(d))) {
                ssize_t n;

                snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
                n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                if (strncmp(target, "/dev/pts/", 9) == 0)
                        snprintf(buf + strlen(buf), size - strlen(buf), " pty");
                else if (strncmp(target, sys_dir, strlen(sys_dir)) == 0)
                        snprintf(buf + strlen(buf), size - strlen(buf), " %s", strrchr(target, '/') + 1);
        }
        closedir(d);
}

static bool has_word(const char *list, const char *word)
{
        char padded[64];

        snprintf(padded, sizeof(padded), " %s", word);
        for (const char *p = list; (p = strstr(p, padded)); p += strlen(padded))
                if (p[strlen(padded)] == '\0' || p[strlen(padded)] == ' ')
                        return true;
        return false;
}

static void test_uio_interrupts(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-irq-XXXXXX" };
        char files[512];
        udk_object_id device;
        union object o;
        int node;

        fixture_start(&f);
        wait_driver(f.client, &f.udkd, "pci-0000-00-1f.3", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "pci-hda");
        /* The selection: no VFIO on this machine (nor in the testbed), said once, with why. */
        proc_wait_stderr(
                &f.udkd,
                "udkd: info: 0000:00:1f.3: sysfs resource files and UIO, not VFIO: no /dev/vfio/vfio "
                "(the vfio module is not loaded)",
                WAIT_MS);
        proc_wait_stderr(
                &f.udkd,
                "pci-0000-00-1f.3: 8086:a0c8 revision 0x20, BAR0 4096 bytes, register 0x0 = 0x000000c8: "
                "-20.0 dB, interrupts on",
                WAIT_MS);
        ASSERT_OK(udk_client_find_class(f.client, "device", "pci-0000-00-1f.3", &device));
        wait_control(&f, device, "interrupts", "0");

        /* Exactly what udkd handed the sandboxed host: config, both BARs, the node; no other testbed file.
         */
        host_files((pid_t)prop_int(&o.obj, "pid"), umockdev_testbed_get_sys_dir(f.bed), files,
                   sizeof(files));
        ASSERT_TRUE(has_word(files, "config"));
        ASSERT_TRUE(has_word(files, "resource0"));
        ASSERT_TRUE(has_word(files, "resource2"));
        ASSERT_TRUE(has_word(files, "pty"));
        ASSERT_UINT_EQ(strlen(files), strlen(" config resource0 resource2 pty"));

        node = umockdev_testbed_get_dev_fd(f.bed, "/dev/uio0");
        ASSERT_OK(node);
        ASSERT_UINT_EQ(node_written(&f, node), 1); /* enabled at start */

        node_emit(node, 1);
        proc_wait_stderr(&f.udkd, "interrupt 1, 0 missed", WAIT_MS);
        ASSERT_UINT_EQ(node_written(&f, node), 1);
        wait_control(&f, device, "interrupts", "1");
        node_emit(node, 2);
        proc_wait_stderr(&f.udkd, "interrupt 2, 0 missed", WAIT_MS);
        ASSERT_UINT_EQ(node_written(&f, node), 1);
        node_emit(node, 5);
        proc_wait_stderr(&f.udkd, "interrupt 5, 2 missed", WAIT_MS);
        ASSERT_UINT_EQ(node_written(&f, node), 1);
        wait_control(&f, device, "interrupts", "5");
        node_quiet(&f, node, 100); /* one re-enable per interrupt, no more */
        ASSERT_TRUE(strstr(f.udkd.err, "interrupt 3,") == NULL &&
                    strstr(f.udkd.err, "interrupt 4,") == NULL);

        fixture_stop(&f);
}

/* The uio child goes and its node hangs up (its master replaced by /dev/null, which the testbed closes later
 * in its place): the source stops with a warning, the driver runs on. */
static void test_uio_vanished(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-irq-XXXXXX" };
        udk_object_id device;
        union object o;
        int node, null;

        fixture_start(&f);
        wait_driver(f.client, &f.udkd, "pci-0000-00-1f.3", "running", &o);
        ASSERT_OK(udk_client_find_class(f.client, "device", "pci-0000-00-1f.3", &device));
        node = umockdev_testbed_get_dev_fd(f.bed, "/dev/uio0");
        ASSERT_OK(node);
        ASSERT_UINT_EQ(node_written(&f, node), 1);
        node_emit(node, 3);
        ASSERT_UINT_EQ(node_written(&f, node), 1);
        wait_control(&f, device, "interrupts", "3");

        umockdev_testbed_remove_device(f.bed, SLOT_SYSFS "/uio/uio0");
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        ASSERT_OK(null);
        ASSERT_INT_EQ(dup2(null, node), node);
        ASSERT_OK(close(null));
        proc_wait_stderr(&f.udkd,
                         "warning: driver 'pci-hda': interrupts stopped after 3: the UIO node: ended",
                         WAIT_MS);
        proc_pump(&f.udkd, 100);
        ASSERT_OK(udk_client_info(f.client, driver_of(f.client, "pci-0000-00-1f.3"), &o.obj));
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "running");
        wait_control(&f, device, "interrupts", "3");
        wait_control(&f, device, "volume", "-20.0 dB");
        fixture_stop(&f);
}

/* An empty file at @path under the testbed's root (its /dev). */
static void testbed_file(struct fixture *f, const char *path)
{
        char full[512], *slash;
        int fd;

        snprintf(full, sizeof(full), "%s%s", umockdev_testbed_get_root_dir(f->bed), path);
        slash = strrchr(full, '/');
        *slash = '\0';
        ASSERT_TRUE(mkdir(full, 0755) == 0 || errno == EEXIST);
        *slash = '/';
        fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_OK(fd);
        ASSERT_OK(close(fd));
}

/* An IOMMU group for the function, and /dev/vfio/vfio in the testbed (a plain file: no VFIO behind it). */
static void vfio_without_group_node(struct fixture *f)
{
        umockdev_testbed_set_attribute_link(f->bed, SLOT_SYSFS, "iommu_group",
                                            "../../../kernel/iommu_groups/7");
        testbed_file(f, "/dev/vfio/vfio");
}

static void vfio_with_group_node(struct fixture *f)
{
        vfio_without_group_node(f);
        testbed_file(f, "/dev/vfio/7");
}

/* The choice's other reasons: /dev/vfio/vfio and an IOMMU group without its node is sysfs and UIO, said
 * so; with the group's node VFIO is chosen, and a container that is not one fails the start with its
 * sentence rather than falling back to sysfs. */
static void test_vfio_selection(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-irq-XXXXXX", .setup = vfio_without_group_node };
        struct fixture g = { .dir = "/tmp/udk-test-pci-irq-XXXXXX", .setup = vfio_with_group_node };
        union object o;

        fixture_start(&f);
        wait_driver(f.client, &f.udkd, "pci-0000-00-1f.3", "running", &o);
        proc_wait_stderr(
                &f.udkd,
                "udkd: info: 0000:00:1f.3: sysfs resource files and UIO, not VFIO: IOMMU group 7 has "
                "no /dev/vfio/7 (the function is not bound to vfio-pci)",
                WAIT_MS);
        proc_wait_stderr(&f.udkd, "-20.0 dB, interrupts on", WAIT_MS);
        fixture_stop(&f);

        fixture_start(&g);
        proc_wait_stderr(&g.udkd, "0000:00:1f.3: VFIO: /dev/vfio/vfio is not a VFIO container", WAIT_MS);
        ASSERT_TRUE(strstr(g.udkd.err, "sysfs resource files") == NULL);
        ASSERT_TRUE(udk_client_find_class(g.client, "device", "pci-0000-00-1f.3", &(udk_object_id){ 0 }) <
                    0);
        fixture_stop(&g);
}

static void resource_malformed(struct fixture *f)
{
        umockdev_testbed_set_attribute(f->bed, SLOT_SYSFS, "resource", "0x00000000f7f10000 0xf7f10fff\n");
}

static void uio_number_other(struct fixture *f)
{
        umockdev_testbed_set_attribute(f->bed, SLOT_SYSFS "/uio/uio0", "dev", "243:1\n");
}

/* A resource file that is not six lines of three numbers fails the start with its sentence; a UIO node
 * whose number is not its uio child's is a warning, and the driver runs without interrupts. */
static void test_files_refused(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-pci-irq-XXXXXX", .setup = resource_malformed };
        struct fixture g = { .dir = "/tmp/udk-test-pci-irq-XXXXXX", .setup = uio_number_other };
        udk_object_id device;
        union object o;
        char now[64];

        fixture_start(&f);
        proc_wait_stderr(
                &f.udkd,
                "/sys/bus/pci/devices/0000:00:1f.3/resource: not six lines of 0xSTART 0xEND 0xFLAGS",
                WAIT_MS);
        ASSERT_TRUE(udk_client_find_class(f.client, "device", "pci-0000-00-1f.3", &(udk_object_id){ 0 }) <
                    0);
        fixture_stop(&f);

        fixture_start(&g);
        wait_driver(g.client, &g.udkd, "pci-0000-00-1f.3", "running", &o);
        proc_wait_stderr(
                &g.udkd,
                "udkd: warning: 0000:00:1f.3: /dev/uio0 is not the character device 243:1 of uio/uio0: "
                "no interrupts",
                WAIT_MS);
        proc_wait_stderr(&g.udkd,
                         "no interrupts: no UIO node (bind the function to uio_pci_generic) and no VFIO",
                         WAIT_MS);
        ASSERT_OK(udk_client_find_class(g.client, "device", "pci-0000-00-1f.3", &device));
        wait_control(&g, device, "volume", "-20.0 dB");
        ASSERT_STR_EQ(control_value(g.client, device, "interrupts", now, sizeof(now)), "");
        fixture_stop(&g);
}

UDK_TEST_MAIN(test_uio_interrupts, test_uio_vanished, test_vfio_selection, test_files_refused)
