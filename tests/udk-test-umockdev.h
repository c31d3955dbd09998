/* SPDX-License-Identifier: MIT */
/*
 * A family's bus driver under umockdev, from a test run through
 * umockdev-wrapper (which preloads libumockdev-preload into the test, and
 * so into udkd and the driver hosts it starts, with the testbed's
 * $UMOCKDEV_DIR): the testbed made from the family's fixture, udkd on the
 * family's drivers folder, a client; the bus driver's nubs, exactly;
 * unplugging and plugging in again; the bus driver's crash and the
 * rematch that follows.
 *
 * Everything is named after the family, NAME (hid, pci, usb):
 * $UDK_TEST_NAME_FIXTURE is the fixture, $UDK_TEST_NAME_DIR the drivers
 * folder (both set by tests/meson.build), udk-driver-NAME-bus.so its bus
 * driver.  That driver's host runs unsandboxed (umockdev_host_wrap): the
 * preload moves /sys under /tmp and fakes udev's monitor with a unix
 * socket, both of which the sandbox refuses.  The other drivers' hosts are
 * sandboxed as usual.
 */
#ifndef UDK_TEST_UMOCKDEV_H
#define UDK_TEST_UMOCKDEV_H

#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include <umockdev.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#include "udk-test-udkd.h"
#include "udk-test-registry.h"

struct umockdev_family {
        const char *name; /* hid, pci, usb */
        bool verbose;     /* udkd --verbose: the supervisor's debug lines too */
        /* A node whose ioctls the test emulates (udk-test-usbfs.h): the device drivers' hosts preload
         * $UDK_TEST_UMOCKDEV_FD for it.  NULL: they get the testbed's plain file. */
        const char *emulated;
        /* Run after each device umockdev_replug() adds, before the next is added: the emulation writes
         * its node's contents before a driver can open it (usbfs_node_write). */
        void (*added)(UMockdevTestbed *bed);
        UMockdevTestbed *bed;
        struct proc udkd;
        struct udk_client *client;
        char dir[64], host[96];
};

/* $UDK_TEST_<NAME><suffix>, skipping the test when it is not set. */
static inline const char *umockdev_env(const struct umockdev_family *f, const char *suffix)
{
        char key[64];
        const char *value;
        size_t n = (size_t)snprintf(key, sizeof(key), "UDK_TEST_");

        for (const char *c = f->name; *c && n < sizeof(key) - 1; c++)
                key[n++] = (char)toupper((unsigned char)*c);
        snprintf(key + n, sizeof(key) - n, "%s", suffix);
        value = getenv(key);
        if (!value || !*value)
                UDK_TEST_SKIP("%s is not set (run through meson test)", key);
        return value;
}

/* The testbed, with the family's fixture in it.  Nothing runs yet: a script may be loaded before
 * umockdev_serve(). */
static inline void umockdev_bed(struct umockdev_family *f)
{
        GError *error = NULL;

        /* umockdev_in_mock_environment() says no with the preload loaded: look at LD_PRELOAD. */
        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        f->bed = umockdev_testbed_new();
        ASSERT_TRUE(f->bed != NULL);
        if (!umockdev_testbed_add_from_file(f->bed, umockdev_env(f, "_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
}

/* Replay @script (umockdev's script format) on @devnode once it is opened. */
static inline void umockdev_script(struct umockdev_family *f, const char *devnode, const char *script)
{
        char path[] = "/tmp/udk-test-umockdev-script-XXXXXX";
        GError *error = NULL;
        int fd = mkstemp(path);
        size_t len = strlen(script);

        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, script, len), (long long)len);
        ASSERT_OK(close(fd));
        if (!umockdev_testbed_load_script(f->bed, devnode, path, &error))
                udk_test_fail("script: %s", error->message);
        unlink(path);
}

/*
 * $UDK_DRIVERHOST through a wrapper that runs the bus driver's host alone with --no-sandbox (the bus
 * driver reads /sys and /run/udev, which the sandbox does not grant yet); the device drivers' hosts are
 * sandboxed as usual: they reach their device only through the descriptors udkd hands them (with
 * f->emulated, swapped for the emulated node's by tests/udk-test-umockdev-fd.c before the sandbox).
 */
static inline void umockdev_host_wrap(struct umockdev_family *f)
{
        const char *host = getenv("UDK_DRIVERHOST"), *shim = getenv("UDK_TEST_UMOCKDEV_FD");
        char preload[512] = "";
        FILE *out;

        if (!host)
                UDK_TEST_SKIP("UDK_DRIVERHOST is not set (run through meson test)");
        if (f->emulated && (!shim || !*shim))
                UDK_TEST_SKIP("UDK_TEST_UMOCKDEV_FD is not set (run through meson test)");
        if (f->emulated)
                ASSERT_TRUE((size_t)snprintf(preload, sizeof(preload),
                                             "UDK_TEST_UMOCKDEV_DEVNODE=%s LD_PRELOAD=\"%s:$LD_PRELOAD\" ",
                                             f->emulated, shim) < sizeof(preload));
        snprintf(f->dir, sizeof(f->dir), "/tmp/udk-test-%s-host-XXXXXX", f->name);
        ASSERT_TRUE(mkdtemp(f->dir) != NULL);
        snprintf(f->host, sizeof(f->host), "%s/host", f->dir);
        out = fopen(f->host, "w");
        ASSERT_TRUE(out != NULL);
        fprintf(out,
                "#!/bin/sh\n"
                "for last; do :; done\n"
                "case \"$last\" in\n"
                "*/udk-driver-%s-bus.so) exec %s --no-sandbox \"$@\" ;;\n"
                "*) %sexec %s \"$@\" ;;\n"
                "esac\n",
                f->name, host, preload, host);
        ASSERT_OK(fclose(out));
        ASSERT_OK(chmod(f->host, 0755));
        ASSERT_OK(setenv("UDK_DRIVERHOST", f->host, 1));
}

/* udkd on the family's drivers folder, and a client of it. */
static inline void umockdev_serve(struct umockdev_family *f)
{
        const char *args[] = { "--drivers", umockdev_env(f, "_DIR"), f->verbose ? "--verbose" : NULL, NULL };
        char client[64];

        umockdev_host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        snprintf(client, sizeof(client), "test-%s-family", f->name);
        ASSERT_OK(udk_client_connect(client, f->udkd.socket, &f->client));
}

static inline void umockdev_start(struct umockdev_family *f)
{
        umockdev_bed(f);
        umockdev_serve(f);
}

/* udkd stopped (exit 0), nothing a sanitizer said in its log or its hosts', the files gone. */
static inline void umockdev_stop(struct umockdev_family *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        if (strstr(f->udkd.err, "Sanitizer") || strstr(f->udkd.err, "runtime error:"))
                udk_test_fail("a sanitizer spoke; stderr: %s", f->udkd.err);
        g_object_unref(f->bed);
        unlink(f->host);
        rmdir(f->dir);
}

/* @path (absolute: "/sys/devices/...") in the testbed's folder, in @buf. */
static inline const char *umockdev_path(struct umockdev_family *f, const char *path, char *buf, size_t size)
{
        gchar *root = umockdev_testbed_get_root_dir(f->bed);

        snprintf(buf, size, "%s%s", root, path);
        g_free(root);
        return buf;
}

/* --- the registry --- */

static inline const char *nub_prop(struct udk_client *client, const char *nub, const char *key,
                                   union object *o)
{
        udk_object_id id;

        ASSERT_OK(udk_client_find_class(client, "nub", nub, &id));
        ASSERT_OK(udk_client_info(client, id, &o->obj));
        return prop_string(&o->obj, key);
}

static inline int umockdev_name_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the nubs driver @bus published (its children of class nub), sorted, one space apart. */
static inline const char *bus_nubs(struct udk_client *client, udk_object_id bus, char *buf, size_t size)
{
        struct udk_msg_object *objects = NULL;
        const char *names[64];
        size_t n = 0, found = 0, len = 0;

        ASSERT_OK(udk_client_list(client, 1, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                if (o->parent == bus && strcmp(o->klass, "nub") == 0) {
                        ASSERT_TRUE(found < UDK_ELEMENTSOF(names));
                        names[found++] = o->name;
                }
        }
        qsort(names, found, sizeof(names[0]), umockdev_name_cmp);
        buf[0] = '\0';
        for (size_t i = 0; i < found; i++) {
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", names[i]);
                ASSERT_TRUE(len < size);
        }
        free(objects);
        return buf;
}

/* How many objects of class @klass named @name the registry holds: a duplicate shows as 2. */
static inline size_t count_objects(struct udk_client *client, const char *klass, const char *name)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0, found = 0;

        ASSERT_OK(udk_client_list(client, 1, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                found += strcmp(o->klass, klass) == 0 && strcmp(o->name, name) == 0;
        }
        free(objects);
        return found;
}

/* Wait until driver @bus has published exactly the nubs @names (bus_nubs' form). */
static inline void wait_bus_nubs(struct umockdev_family *f, udk_object_id bus, const char *names)
{
        char now[1024];

        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;
             strcmp(bus_nubs(f->client, bus, now, sizeof(now)), names) != 0;) {
                if (now_ms() >= deadline)
                        udk_test_fail("the bus's nubs are '%s', not '%s', after %d ms; stderr: %s", now,
                                      names, REGISTRY_WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
}

static inline void wait_control(struct umockdev_family *f, udk_object_id device, const char *name,
                                const char *value)
{
        wait_control_value(f->client, &f->udkd, device, name, value);
}

/* How often @needle is in @hay. */
static inline unsigned count_in(const char *hay, const char *needle)
{
        unsigned n = 0;

        for (const char *at = hay; (at = strstr(at, needle)); at++)
                n++;
        return n;
}

/* Wait until @needle is @n times in udkd's stderr. */
static inline void wait_stderr_count(struct umockdev_family *f, const char *needle, unsigned n)
{
        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS; count_in(f->udkd.err, needle) != n;) {
                if (now_ms() >= deadline)
                        udk_test_fail("\"%s\" %u times, not %u, after %d ms; stderr: %s", needle,
                                      count_in(f->udkd.err, needle), n, REGISTRY_WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
}

/* --- hotplug --- */

/*
 * Unplugged, as the kernel does it: each of @sysfs (NULL-terminated, children first) sends its remove
 * event and goes from the testbed, its /sys/class link and device node with it (umockdev removes those
 * of the device it is given, not of its children: hence one by one).
 */
static inline void umockdev_unplug(struct umockdev_family *f, const char *const *sysfs)
{
        ASSERT_TRUE(*sysfs != NULL);
        for (; *sysfs; sysfs++) {
                umockdev_testbed_uevent(f->bed, *sysfs, "remove");
                umockdev_testbed_remove_device(f->bed, *sysfs);
        }
}

struct umockdev_record {
        size_t depth; /* the slashes in its P: path */
        GString *text;
};

static inline int umockdev_record_cmp(const void *a, const void *b)
{
        const struct umockdev_record *x = a, *y = b;

        return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* @line's N: node, when umockdev kept its pty from before: linked to that pty again, and true. */
static inline bool umockdev_relink_pty(struct umockdev_family *f, const char *line, const char *end)
{
        char node[256], path[512], pts[128];
        int master;

        if (strncmp(line, "N: ", 3) != 0 || memchr(line, '=', (size_t)(end - line)))
                return false;
        snprintf(node, sizeof(node), "/dev/%.*s", (int)(end - line - 4), line + 3);
        master = umockdev_testbed_get_dev_fd(f->bed, node);
        if (master < 0)
                return false;
        ASSERT_INT_EQ(ptsname_r(master, pts, sizeof(pts)), 0);
        ASSERT_OK(symlink(pts, umockdev_path(f, node, path, sizeof(path))));
        return true;
}

/*
 * Plugged in again: the fixture's devices added anew, parents first as the kernel adds them (an add
 * event comes as its device is added, and a bus driver reads the parents then).  umockdev keeps the
 * master of a pty-backed node (a hidraw's) when its device is removed, and aborts when a device adds that
 * node again: such a node is linked to the pty it kept, and its N: line left out.
 */
static inline void umockdev_replug(struct umockdev_family *f)
{
        const char *path = umockdev_env(f, "_FIXTURE");
        struct umockdev_record records[16];
        size_t n = 0;
        gchar *text = NULL;
        GError *error = NULL;

        if (!g_file_get_contents(path, &text, NULL, &error))
                udk_test_fail("%s: %s", path, error->message);
        for (char *line = text, *end; *line; line = end) {
                end = strchrnul(line, '\n');
                end += *end == '\n';
                if (strncmp(line, "P: ", 3) == 0) {
                        ASSERT_TRUE(n < UDK_ELEMENTSOF(records));
                        records[n].depth = 0;
                        for (const char *c = line; c < end; c++)
                                records[n].depth += *c == '/';
                        records[n++].text = g_string_new(NULL);
                }
                if (n == 0 || umockdev_relink_pty(f, line, end))
                        continue;
                g_string_append_len(records[n - 1].text, line, end - line);
        }
        qsort(records, n, sizeof(records[0]), umockdev_record_cmp);
        for (size_t i = 0; i < n; i++) {
                if (!umockdev_testbed_add_from_string(f->bed, records[i].text->str, &error))
                        udk_test_fail("%s: %s", path, error->message);
                if (f->added)
                        f->added(f->bed);
                g_string_free(records[i].text, TRUE);
        }
        g_free(text);
}

/* --- the bus driver's crash --- */

/*
 * SIGKILL the host of the bus driver bound to @root (root-NAME): udkd restarts it at once (its first
 * crash), it enumerates again and publishes exactly @nubs once more.  The bus driver's id, its object
 * in @o.
 */
static inline udk_object_id umockdev_crash_bus(struct umockdev_family *f, const char *root, const char *nubs,
                                               union object *o)
{
        udk_object_id bus = wait_driver(f->client, &f->udkd, root, "running", o);
        pid_t pid = (pid_t)prop_int(&o->obj, "pid");

        char line[128];

        ASSERT_INT_EQ(prop_int(&o->obj, "restarts"), 0);
        ASSERT_OK(kill(pid, SIGKILL));
        snprintf(line, sizeof(line), "driver '%s-bus' (pid %d): killed by SIGKILL, a crash", f->name,
                 (int)pid);
        proc_wait_stderr(&f->udkd, line, REGISTRY_WAIT_MS);
        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;;) {
                ASSERT_OK(udk_client_info(f->client, bus, &o->obj));
                if (prop_int(&o->obj, "restarts") == 1 &&
                    strcmp(prop_string(&o->obj, "state"), "running") == 0)
                        break;
                if (now_ms() >= deadline)
                        udk_test_fail("the bus driver did not run again after %d ms; stderr: %s",
                                      REGISTRY_WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
        ASSERT_INT_NE(prop_int(&o->obj, "pid"), pid);
        ASSERT_INT_EQ(prop_int(&o->obj, "crashes"), 1);
        ASSERT_STR_EQ(prop_string(&o->obj, "last_exit"), "killed by SIGKILL");
        ASSERT_UINT_EQ(driver_of(f->client, root), bus); /* the same driver, run again */
        wait_bus_nubs(f, bus, nubs);
        return bus;
}

/* Wait until nub @nub's driver is a new one (not @old) in @state; its id, its object in @o. */
static inline udk_object_id wait_rematched(struct umockdev_family *f, const char *nub, udk_object_id old,
                                           const char *state, union object *o)
{
        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;;) {
                udk_object_id id = driver_of(f->client, nub);

                if (id && id != old && udk_client_info(f->client, id, &o->obj) == 0 &&
                    strcmp(prop_string(&o->obj, "state"), state) == 0)
                        return id;
                if (now_ms() >= deadline)
                        udk_test_fail("no new driver %s on nub %s after %d ms; stderr: %s", state, nub,
                                      REGISTRY_WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
}

/* Wait until driver @id is gone from the registry (udkd removed it with its nub). */
static inline void wait_driver_gone(struct umockdev_family *f, udk_object_id id)
{
        union object o;

        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS; udk_client_info(f->client, id, &o.obj) == 0;) {
                if (now_ms() >= deadline)
                        udk_test_fail("driver %" PRIu32 " is still %s after %d ms; stderr: %s", id,
                                      prop_string(&o.obj, "state"), REGISTRY_WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
        ASSERT_ERROR(udk_client_info(f->client, id, &o.obj), ENOENT);
}

/*
 * Wait until nub @nub's driver runs; its id.  In @exit_line, what udkd says (with --verbose) when this
 * run's host exits cleanly after its STOP.
 */
static inline udk_object_id wait_running(struct umockdev_family *f, const char *nub, char *exit_line,
                                         size_t size)
{
        union object o;
        udk_object_id id = wait_driver(f->client, &f->udkd, nub, "running", &o);

        snprintf(exit_line, size, "driver '%s' (pid %d): exit 0 after stop",
                 prop_string(&o.obj, "personality"), (int)prop_int(&o.obj, "pid"));
        return id;
}

/*
 * After the bus driver's crash: driver @old, whose nub went, exited cleanly (@exit_line) and went from
 * the registry; a new one runs on nub @nub (the same name, once), started once.  The new one's id.
 */
static inline udk_object_id wait_rematched_running(struct umockdev_family *f, const char *nub,
                                                   udk_object_id old, const char *exit_line)
{
        union object o;
        udk_object_id again = wait_rematched(f, nub, old, "running", &o);

        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        wait_driver_gone(f, old);
        proc_wait_stderr(&f->udkd, exit_line, REGISTRY_WAIT_MS);
        ASSERT_UINT_EQ(count_objects(f->client, "nub", nub), 1);
        return again;
}

/*
 * @tree (umockdev_unplug's) unplugged under driver @driver: wait until driver @bus has published exactly
 * @nubs, and @driver and its device @device have gone from the registry, its host having exited cleanly
 * after its STOP (@exit_line; NULL: it had no host); @bus runs on, never restarted.
 */
static inline void wait_unplugged(struct umockdev_family *f, const char *const *tree, udk_object_id bus,
                                  const char *nubs, udk_object_id driver, const char *device,
                                  const char *exit_line)
{
        union object o;

        umockdev_unplug(f, tree);
        wait_bus_nubs(f, bus, nubs);
        wait_driver_gone(f, driver);
        wait_object(f->client, &f->udkd, "device", device, false);
        if (exit_line)
                proc_wait_stderr(&f->udkd, exit_line, REGISTRY_WAIT_MS);
        wait_state(f->client, &f->udkd, bus, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
}

#endif
