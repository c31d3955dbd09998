/* SPDX-License-Identifier: MIT */
/*
 * The real families' bus drivers (pci, usb, hid, serial), with their own
 * personalities (sandbox = udev), sandboxed on this machine's real /sys:
 * each runs in a host under seccomp with no_new_privs, started with
 * --udev, and publishes exactly what the test itself reads from sysfs.
 * The PCI nubs carry vendor, device and class as sysfs has them; a PCI
 * nub that no driver binds has none of its sysfs files opened by udkd.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

#define SLOTS_MAX 256

static const char *env_dir(const char *key)
{
        const char *dir = getenv(key);

        if (!dir || !*dir)
                UDK_TEST_SKIP("%s is not set (run through meson test)", key);
        return dir;
}

/* The first line of a sysfs attribute, without its newline. */
static void sysfs_read(const char *dir, const char *name, const char *attr, char *buf, size_t size)
{
        char path[PATH_MAX];
        FILE *in;

        snprintf(path, sizeof(path), "%s/%s/%s", dir, name, attr);
        in = fopen(path, "re");
        if (!in)
                udk_test_fail("cannot read %s: %s", path, strerror(errno));
        if (!fgets(buf, (int)size, in))
                buf[0] = '\0';
        fclose(in);
        buf[strcspn(buf, "\n")] = '\0';
}

/* The entries of @dir (none when it does not exist), sorted; those with a ':' counted in @n_colon. */
static size_t dir_list(const char *dir, char names[][64], size_t max, size_t *n_colon)
{
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        size_t got = 0;

        *n_colon = 0;
        if (n < 0) {
                ASSERT_INT_EQ(errno, ENOENT);
                return 0;
        }
        for (int i = 0; i < n; i++) {
                if (list[i]->d_name[0] != '.' && got < max) {
                        udk_strlcpy(names[got++], list[i]->d_name, 64);
                        *n_colon += strchr(list[i]->d_name, ':') != NULL;
                }
                free(list[i]);
        }
        free(list);
        ASSERT_TRUE((size_t)n < max);
        return got;
}

/* The nubs of family @family: how many, and how many of them have '_' in their name (USB interfaces). */
static size_t nubs_count(struct udk_client *client, const char *family, size_t *n_underscore)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0, count = 0;

        *n_underscore = 0;
        ASSERT_OK(udk_client_list(client, 1, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                const char *f = prop_string(o, "family");

                if (strcmp(o->klass, "nub") != 0 || !f || strcmp(f, family) != 0)
                        continue;
                count++;
                *n_underscore += strchr(o->name, '_') != NULL;
        }
        free(objects);
        return count;
}

static const char *nub_prop(struct udk_client *client, const char *nub, const char *key, union object *o)
{
        udk_object_id id;

        ASSERT_OK(udk_client_find_class(client, "nub", nub, &id));
        ASSERT_OK(udk_client_info(client, id, &o->obj));
        return prop_string(&o->obj, key);
}

/* The "Key:\tvalue" line of /proc/PID/status. */
static long proc_status(pid_t pid, const char *key)
{
        char path[64], line[256];
        size_t len = strlen(key);
        long value = -1;
        FILE *in;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        in = fopen(path, "re");
        ASSERT_TRUE(in != NULL);
        while (fgets(line, sizeof(line), in))
                if (strncmp(line, key, len) == 0 && line[len] == ':')
                        value = strtol(line + len + 1, NULL, 10);
        fclose(in);
        return value;
}

/* Whether /proc/PID/cmdline has the argument @arg. */
static bool proc_has_arg(pid_t pid, const char *arg)
{
        char path[64], buf[4096];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        ASSERT_TRUE(n > 0);
        buf[n] = '\0';
        for (ssize_t at = 0; at < n; at += (ssize_t)strlen(buf + at) + 1)
                if (strcmp(buf + at, arg) == 0)
                        return true;
        return false;
}

/* The bus driver of root nub @root: running, never crashed, in a host under seccomp, started with --udev. */
static void check_bus(struct udk_client *client, struct proc *udkd, const char *root)
{
        union object o;
        pid_t pid;

        wait_driver(client, udkd, root, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        pid = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_TRUE(pid > 0);
        ASSERT_INT_EQ(proc_status(pid, "Seccomp"), 2);
        ASSERT_INT_EQ(proc_status(pid, "NoNewPrivs"), 1);
        ASSERT_TRUE(proc_has_arg(pid, "--udev"));
        ASSERT_FALSE(proc_has_arg(pid, "--no-sandbox"));
}

/* Wait until family @family has @want nubs (@want_underscore of them with '_'), then a while more. */
static void wait_nubs(struct udk_client *client, struct proc *udkd, const char *family, size_t want,
                      size_t want_underscore)
{
        size_t n = 0, under = 0;

        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                n = nubs_count(client, family, &under);
                if (n == want && under == want_underscore)
                        break;
                if (now_ms() >= deadline)
                        udk_test_fail("family %s has %zu nubs (%zu with '_'), not %zu (%zu), after %d ms; "
                                      "stderr: %s",
                                      family, n, under, want, want_underscore, WAIT_MS, udkd->err);
                proc_pump(udkd, 2);
        }
        /* No more come after them. */
        for (uint64_t end = now_ms() + 300; now_ms() < end;)
                proc_pump(udkd, 2);
        ASSERT_UINT_EQ(nubs_count(client, family, &under), want);
        ASSERT_UINT_EQ(under, want_underscore);
}

/* Whether udkd holds a descriptor on a file under /sys/bus/pci/devices/SLOT/ or the device it links to. */
static bool udkd_holds(pid_t pid, const char *slot)
{
        char dir[64], path[PATH_MAX], link[PATH_MAX], real[PATH_MAX];
        struct dirent *e;
        bool held = false;
        DIR *d;

        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s", slot);
        ASSERT_TRUE(realpath(path, real) != NULL);
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
        d = opendir(dir);
        ASSERT_TRUE(d != NULL);
        while ((e = readdir(d))) {
                ssize_t n;

                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                n = readlink(path, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                held |= strncmp(link, real, strlen(real)) == 0 && link[strlen(real)] == '/';
        }
        closedir(d);
        return held;
}

/* No line of the bus drivers' (theirs or udkd's about them) tells of a refusal, an error or a crash. */
static void bus_lines_check(const char *err)
{
        static const char *const buses[] = { "pci-bus", "usb-bus", "hid-bus", "serial-bus" };
        static const char *const bad[] = { "Operation not permitted", "Permission denied", "no udev monitor",
                                           "error:", ", a crash" /* the supervisor's word: not a path's */ };

        for (const char *line = err; *line;) {
                size_t len = strcspn(line, "\n");
                char text[1024];

                snprintf(text, sizeof(text), "%.*s", (int)len, line);
                for (size_t b = 0; b < UDK_ELEMENTSOF(buses); b++) {
                        if (!strstr(text, buses[b]))
                                continue;
                        for (size_t i = 0; i < UDK_ELEMENTSOF(bad); i++)
                                if (strstr(text, bad[i]))
                                        udk_test_fail("%s: \"%s\"; stderr: %s", buses[b], text, err);
                }
                line += len + (line[len] == '\n');
        }
}

static struct proc udkd;
static struct udk_client *client;

/* udkd on the four families' own drivers folders, the sandbox on; each bus driver checked. */
static void fixture_start(void)
{
        const char *args[] = { "--drivers", env_dir("UDK_TEST_PCI_DIR"), "--drivers", env_dir("UDK_TEST_USB_DIR"),
                               "--drivers", env_dir("UDK_TEST_HID_DIR"), "--drivers", env_dir("UDK_TEST_SERIAL_DIR"),
                               "--verbose", NULL };

        unsetenv("UDK_DRIVERHOST_NO_SANDBOX");
        proc_start_server(&udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-families-sandboxed", udkd.socket, &client));
        check_bus(client, &udkd, "root-pci");
        check_bus(client, &udkd, "root-usb");
        check_bus(client, &udkd, "root-hid");
        check_bus(client, &udkd, "root-serial");
}

/* Still running after their scans, never refused by the sandbox. */
static void fixture_stop(void)
{
        check_bus(client, &udkd, "root-pci");
        check_bus(client, &udkd, "root-usb");
        check_bus(client, &udkd, "root-hid");
        check_bus(client, &udkd, "root-serial");
        client = udk_client_disconnect(client);
        proc_stop_server(&udkd);
        ASSERT_FALSE(strstr(udkd.err, "--no-sandbox"));
        ASSERT_FALSE(strstr(udkd.err, "AddressSanitizer"));
        bus_lines_check(udkd.err);
}

/* One nub per PCI function, with sysfs's vendor, device and class; unbound ones left unopened. */
static void test_pci(void)
{
        static char slots[SLOTS_MAX][64];
        size_t n_slots, colons;
        union object o;

        n_slots = dir_list("/sys/bus/pci/devices", slots, SLOTS_MAX, &colons);
        ASSERT_UINT_EQ(colons, n_slots); /* DDDD:BB:SS.F */
        printf("# this machine: %zu PCI functions\n", n_slots);
        if (n_slots == 0)
                UDK_TEST_SKIP("no PCI function in /sys/bus/pci/devices");
        fixture_start();
        wait_nubs(client, &udkd, "pci", n_slots, 0);
        for (size_t i = 0; i < n_slots; i++) {
                const char *s = slots[i];
                char nub[64], vendor[32], device[32], klass[32];

                snprintf(nub, sizeof(nub), "pci-%.4s-%.2s-%.8s", s, s + 5, s + 8);
                sysfs_read("/sys/bus/pci/devices", s, "vendor", vendor, sizeof(vendor));
                sysfs_read("/sys/bus/pci/devices", s, "device", device, sizeof(device));
                sysfs_read("/sys/bus/pci/devices", s, "class", klass, sizeof(klass));
                printf("# %s: vendor %s device %s class %s\n", s, vendor, device, klass);
                ASSERT_STR_EQ(nub_prop(client, nub, "family", &o), "pci");
                ASSERT_STR_EQ(nub_prop(client, nub, "slot", &o), s);
                ASSERT_STR_EQ(nub_prop(client, nub, "vendor", &o), vendor);
                ASSERT_STR_EQ(nub_prop(client, nub, "device", &o), device);
                ASSERT_STR_EQ(nub_prop(client, nub, "class", &o), klass);
                /* pci-hda matches class 0x0403 only: any other function stays unbound and unopened. */
                if (strncmp(klass, "0x0403", 6) == 0)
                        continue;
                ASSERT_UINT_EQ(driver_of(client, nub), 0);
                ASSERT_FALSE(udkd_holds(udkd.pid, s));
        }
        fixture_stop();
}

/* As many USB device and interface nubs as /sys/bus/usb/devices has, as many HID nubs as hidraw nodes. */
static void test_usb_hid(void)
{
        static char usb[SLOTS_MAX][64], hidraw[SLOTS_MAX][64];
        size_t n_usb, n_usb_interfaces, n_hidraw, colons;

        n_usb = dir_list("/sys/bus/usb/devices", usb, SLOTS_MAX, &n_usb_interfaces);
        n_hidraw = dir_list("/sys/class/hidraw", hidraw, SLOTS_MAX, &colons);
        printf("# this machine: %zu USB devices and %zu interfaces, %zu hidraw\n", n_usb - n_usb_interfaces,
               n_usb_interfaces, n_hidraw);
        fixture_start();
        wait_nubs(client, &udkd, "usb", n_usb, n_usb_interfaces);
        wait_nubs(client, &udkd, "hid", n_hidraw, 0);
        fixture_stop();
}

UDK_TEST_MAIN(test_pci, test_usb_hid)
