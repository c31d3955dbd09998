/* SPDX-License-Identifier: MIT */
/*
 * Shared driver hosts end to end (the personality's `host` key): real
 * udkd, real udk-driverhost processes, the test family's drivers.  Two
 * personalities with the same key run in one process and a third without
 * it in its own; instances that come later join the running host; a crash
 * of the host is a crash of every driver in it, each restarted and taking
 * its device back under its UID; stopping one member leaves the others
 * running; a bad key is a FILE:LINE error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          15000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

struct fixture {
        struct proc p;
        char drivers[64];
        char nubs[160];
        struct udk_client *client;
};

static const char *family_dir(void)
{
        const char *dir = getenv("UDK_TEST_FAMILY_DIR");

        if (!dir || !*dir)
                UDK_TEST_SKIP("UDK_TEST_FAMILY_DIR is not set (run through meson test)");
        return dir;
}

/* @src with each @FAMILY@ replaced by the test family's build folder. */
static void with_family_dir(char *buf, size_t size, const char *src)
{
        const char *dir = family_dir(), *at;
        size_t len = 0;

        buf[0] = '\0';
        while ((at = strstr(src, "@FAMILY@"))) {
                len += (size_t)snprintf(buf + len, size - len, "%.*s%s", (int)(at - src), src, dir);
                ASSERT_TRUE(len < size);
                src = at + strlen("@FAMILY@");
        }
        len += (size_t)snprintf(buf + len, size - len, "%s", src);
        ASSERT_TRUE(len < size);
}

/* The bus driver's personality, and @more (personalities, @FAMILY@ the drivers' folder). */
static void fixture_write(struct fixture *f, const char *nubs, const char *more)
{
        char path[256], text[8192];
        const char *dir = family_dir();

        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-hosts-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(f->nubs, sizeof(f->nubs), "%s/nubs.ini", f->drivers);
        test_write_file(f->nubs, nubs);
        snprintf(path, sizeof(path), "%s/00-test-bus.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = test-bus\nfamily = root\nmatch.bus = test\n"
                 "driver = %s/udk-driver-test-bus.so\ngrant = nubs.ini\n",
                 dir);
        test_write_file(path, text);
        with_family_dir(text, sizeof(text), more);
        snprintf(path, sizeof(path), "%s/10-drivers.conf", f->drivers);
        test_write_file(path, text);
}

/* The running test's udkd: a failed assertion (abort) shows what it said. */
static struct fixture *current;

static void on_abort(int signo)
{
        static const char head[] = "--- udkd's stderr ---\n";

        if (current) {
                (void)!write(2, head, sizeof(head) - 1);
                (void)!write(2, current->p.err, strlen(current->p.err));
        }
        signal(signo, SIG_DFL);
        raise(signo);
}

static void fixture_start(struct fixture *f)
{
        const char *args[] = { "--drivers", f->drivers, "--verbose", NULL };

        current = f;
        signal(SIGABRT, on_abort);
        proc_start_server(&f->p, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-hosts", f->p.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        char path[256];

        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->p);
        ASSERT_FALSE(strstr(f->p.err, "AddressSanitizer"));
        ASSERT_FALSE(strstr(f->p.err, "runtime error"));
        snprintf(path, sizeof(path), "%s/00-test-bus.conf", f->drivers);
        unlink(path);
        snprintf(path, sizeof(path), "%s/10-drivers.conf", f->drivers);
        unlink(path);
        unlink(f->nubs);
        rmdir(f->drivers);
}

#define NUB(handle, name, product) \
        "[nub]\nhandle = " #handle "\nname = " name "\nvendor = 0x1234\nproduct = " #product "\n"
#define THREE_NUBS NUB(1, "knob", 0x0001) NUB(2, "knob2", 0x0002) NUB(3, "knob3", 0x0003)

/* pair-a and pair-b (two drivers) share the host "pair"; alone runs in a process of its own. */
#define PERSONALITIES                                                                                  \
        "[personality]\nname = pair-a\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = 0x0001\n" \
        "driver = @FAMILY@/udk-driver-test-audio.so\nhost = pair\n"                                    \
        "[personality]\nname = pair-b\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = 0x0002\n" \
        "driver = @FAMILY@/udk-driver-test-crasher.so\nhost = pair\n"                                  \
        "[personality]\nname = alone\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = 0x0003\n"  \
        "driver = @FAMILY@/udk-driver-test-audio.so\n"

static void driver_info(struct fixture *f, udk_object_id driver, union object *o)
{
        int r = udk_client_info(f->client, driver, &o->obj);

        if (r < 0) {
                proc_pump(&f->p, 1000);
                udk_test_fail("driver %" PRIu32 ": %s; stderr: %s", driver, strerror(-r), f->p.err);
        }
        ASSERT_STR_EQ(o->obj.klass, "driver");
}

/* The process's command line, its NULs made spaces. */
static void cmdline(pid_t pid, char *buf, size_t size)
{
        char path[64];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0) {
                /* A process without one is a zombie or has not exec'd yet: say which. */
                char stat[256] = "";

                snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        ssize_t k = read(fd, stat, sizeof(stat) - 1);

                        stat[k > 0 ? k : 0] = '\0';
                        close(fd);
                }
                udk_test_fail("pid %d has no command line (read %zd); its stat: %s", (int)pid, n, stat);
        }
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[n] = '\0';
}

/* Both members running again after a crash, in one new host: its pid. */
static pid_t wait_both_restarted(struct fixture *f, udk_object_id a, udk_object_id b, pid_t old,
                                 int64_t restarts)
{
        uint64_t deadline = now_ms() + WAIT_MS;
        union object oa, ob;

        for (;;) {
                wait_state(f->client, &f->p, a, "running", &oa);
                wait_state(f->client, &f->p, b, "running", &ob);
                if (prop_int(&oa.obj, "restarts") == restarts && prop_int(&ob.obj, "restarts") == restarts &&
                    prop_int(&oa.obj, "pid") != old && prop_int(&oa.obj, "pid") == prop_int(&ob.obj, "pid"))
                        return (pid_t)prop_int(&oa.obj, "pid");
                if (now_ms() >= deadline)
                        udk_test_fail("pair-a (pid %" PRId64 ", %" PRId64
                                      " restarts) and pair-b (pid %" PRId64 ", %" PRId64
                                      " restarts) not both back in one new host; stderr: %s",
                                      prop_int(&oa.obj, "pid"), prop_int(&oa.obj, "restarts"),
                                      prop_int(&ob.obj, "pid"), prop_int(&ob.obj, "restarts"), f->p.err);
                proc_pump(&f->p, 5);
        }
}

/* --- one process for the key, one for the rest; later instances join --- */

static void test_one_process(void)
{
        static struct fixture f;
        char line[4096], needle[512];
        uint64_t in[2] = { 40, 2 }, out[UDK_CALL_SCALARS_MAX];
        uint32_t n_out = 0;
        udk_object_id a, b, c, a2;
        union object o;
        pid_t pa, pb, pc;

        fixture_write(&f, THREE_NUBS, PERSONALITIES);
        fixture_start(&f);
        a = wait_driver(f.client, &f.p, "knob", "running", &o);
        pa = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_STR_EQ(prop_string(&o.obj, "host"), "pair");
        b = wait_driver(f.client, &f.p, "knob2", "running", &o);
        pb = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "pair-b");
        ASSERT_STR_EQ(prop_string(&o.obj, "host"), "pair");
        c = wait_driver(f.client, &f.p, "knob3", "running", &o);
        pc = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_STR_EQ(prop_string(&o.obj, "host"), "");
        ASSERT_TRUE(a != b && b != c);

        /* pair-a and pair-b in one process, a shared host loaded with both drivers; alone elsewhere. */
        ASSERT_INT_GT(pa, 0);
        ASSERT_INT_EQ(pb, pa);
        ASSERT_INT_GT(pc, 0);
        ASSERT_INT_NE(pc, pa);
        cmdline(pa, line, sizeof(line));
        ASSERT_STR_CONTAINS(line, "--shared=pair ");
        snprintf(needle, sizeof(needle), "%s/udk-driver-test-audio.so", family_dir());
        ASSERT_STR_CONTAINS(line, needle);
        snprintf(needle, sizeof(needle), "%s/udk-driver-test-crasher.so", family_dir());
        ASSERT_STR_CONTAINS(line, needle);
        cmdline(pc, line, sizeof(line));
        ASSERT_FALSE(strstr(line, "--shared"));

        /* udkctl drivers names the host in each member's note. */
        {
                const char *udkctl = getenv("UDKCTL");
                char cmd[512], text[4096], row[128];
                size_t n;
                FILE *p;

                if (!udkctl)
                        UDK_TEST_SKIP("UDKCTL is set by meson");
                snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' drivers", udkctl, f.p.socket);
                p = popen(cmd, "r");
                ASSERT_NOT_NULL(p);
                n = fread(text, 1, sizeof(text) - 1, p);
                text[n] = '\0';
                ASSERT_INT_EQ(pclose(p), 0);
                snprintf(row, sizeof(row), "%d         0        0  shared host pair\n", (int)pa);
                /* Both members, and no other driver, in the host. */
                ASSERT_STR_CONTAINS(text, row);
                ASSERT_STR_CONTAINS(strstr(text, row) + strlen(row), row);
                ASSERT_FALSE(
                        strstr(strstr(strstr(text, row) + strlen(row), row) + strlen(row), "shared host"));
        }

        /* Each member has its own device and answers its own calls. */
        wait_object(f.client, &f.p, "device", "test:knob", true);
        wait_object(f.client, &f.p, "device", "test:knob2", true);
        ASSERT_OK(udk_client_call(f.client, a, 3, in, 2, NULL, 0, out, &n_out, NULL, 0, NULL));
        ASSERT_UINT_EQ(n_out, 1);
        ASSERT_UINT_EQ(out[0], 42);
        ASSERT_INT_EQ(call_level(f.client, a), -6000);

        /* A nub plugged in later: a second instance of pair-a joins the running host. */
        test_write_file(f.nubs, THREE_NUBS NUB(4, "knob4", 0x0001));
        a2 = wait_driver(f.client, &f.p, "knob4", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "pair-a");
        wait_object(f.client, &f.p, "device", "test:knob4", true);
        ASSERT_INT_EQ(call_level(f.client, a2), -6000);

        /* Unplugged again: that instance goes, the host and its other members stay. */
        test_write_file(f.nubs, THREE_NUBS);
        wait_object(f.client, &f.p, "device", "test:knob4", false);
        for (uint64_t deadline = now_ms() + WAIT_MS; udk_client_info(f.client, a2, &o.obj) != -ENOENT;) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&f.p, 2);
        }
        wait_state(f.client, &f.p, a, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        wait_state(f.client, &f.p, b, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_OK(kill(pa, 0));

        fixture_stop(&f);
        /* A clean stop: every instance stopped, the shared host told to go, nothing crashed. */
        ASSERT_FALSE(strstr(f.p.err, ", a crash"));
        ASSERT_FALSE(strstr(f.p.err, "killed"));
}

/* --- a crash of the host is a crash of every driver in it --- */

static void test_host_crash(void)
{
        static struct fixture f;
        udk_object_id a, b, c, dev_a, dev_b;
        union object o;
        pid_t pa, pc, pa2, pa3;
        int r;

        fixture_write(&f, THREE_NUBS, PERSONALITIES);
        fixture_start(&f);
        a = wait_driver(f.client, &f.p, "knob", "running", &o);
        pa = (pid_t)prop_int(&o.obj, "pid");
        b = wait_driver(f.client, &f.p, "knob2", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        c = wait_driver(f.client, &f.p, "knob3", "running", &o);
        pc = (pid_t)prop_int(&o.obj, "pid");
        dev_a = wait_object(f.client, &f.p, "device", "test:knob", true);
        dev_b = wait_object(f.client, &f.p, "device", "test:knob2", true);

        /* Killed from outside: both members crash, both come back in one new host, devices taken back. */
        ASSERT_OK(kill(pa, SIGKILL));
        pa2 = wait_both_restarted(&f, a, b, pa, 1);
        ASSERT_INT_NE(pa2, pc);
        driver_info(&f, a, &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 1);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        driver_info(&f, b, &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 1);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "test:knob", true), dev_a);
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "test:knob2", true), dev_b);
        ASSERT_INT_EQ(call_level(f.client, a), -6000);

        /* One member's driver crashes in a call: the call fails as terminated, and the other goes too. */
        r = udk_client_call(f.client, a, 4, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL);
        ASSERT_INT_EQ(r, -UDK_E_DRIVER_TERMINATED);
        pa3 = wait_both_restarted(&f, a, b, pa2, 2);
        driver_info(&f, b, &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        ASSERT_STR_CONTAINS(prop_string(&o.obj, "last_exit"), "killed by SIGABRT");
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "test:knob2", true), dev_b);
        ASSERT_INT_NE(pa3, pa2);

        /* The driver of its own never noticed. */
        driver_info(&f, c, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "running");
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pc);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        fixture_stop(&f);
}

/* --- stopping one member --- */

static void test_stop_one_member(void)
{
        static struct fixture f;
        udk_object_id a, b, dev_b;
        union object o;
        pid_t pa;

        fixture_write(&f, THREE_NUBS, PERSONALITIES);
        fixture_start(&f);
        a = wait_driver(f.client, &f.p, "knob", "running", &o);
        pa = (pid_t)prop_int(&o.obj, "pid");
        b = wait_driver(f.client, &f.p, "knob2", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        wait_object(f.client, &f.p, "device", "test:knob", true);
        dev_b = wait_object(f.client, &f.p, "device", "test:knob2", true);

        /* udkctl stop of pair-a: its instance stops inside the host, pair-b runs on untouched. */
        ASSERT_OK(udk_client_driver_control(f.client, a, UDK_DRIVER_STOP));
        wait_state(f.client, &f.p, a, "stopped", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        wait_object(f.client, &f.p, "device", "test:knob", false);
        usleep(300 * 1000); /* time for a wrong kill of the host to show */
        driver_info(&f, b, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "running");
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "test:knob2", true), dev_b);
        ASSERT_OK(kill(pa, 0));

        /* Started again, it joins the host that still runs. */
        ASSERT_OK(udk_client_driver_control(f.client, a, UDK_DRIVER_START));
        wait_state(f.client, &f.p, a, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        wait_object(f.client, &f.p, "device", "test:knob", true);
        ASSERT_INT_EQ(call_level(f.client, a), -6000);

        /* Both stopped: the host has no member left and goes; the next start gets a new one. */
        ASSERT_OK(udk_client_driver_control(f.client, a, UDK_DRIVER_STOP));
        ASSERT_OK(udk_client_driver_control(f.client, b, UDK_DRIVER_STOP));
        wait_state(f.client, &f.p, a, "stopped", &o);
        wait_state(f.client, &f.p, b, "stopped", &o);
        for (uint64_t deadline = now_ms() + WAIT_MS; kill(pa, 0) == 0;) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&f.p, 5);
        }
        ASSERT_OK(udk_client_driver_control(f.client, b, UDK_DRIVER_START));
        wait_state(f.client, &f.p, b, "running", &o);
        ASSERT_INT_GT(prop_int(&o.obj, "pid"), 0);
        ASSERT_INT_NE(prop_int(&o.obj, "pid"), pa);
        fixture_stop(&f);
        ASSERT_FALSE(strstr(f.p.err, ", a crash"));
}

/* --- a hang in one member holds the host: killed, every member with it --- */

static void test_member_hang(void)
{
        static struct fixture f;
        udk_object_id a, hang;
        union object o;

        fixture_write(&f, NUB(1, "knob", 0x0001) NUB(2, "knob2", 0x0002),
                      "[personality]\nname = pair-a\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = "
                      "0x0001\n"
                      "driver = @FAMILY@/udk-driver-test-audio.so\nhost = pair\n"
                      "[personality]\nname = pair-hang\nfamily = test\nmatch.vendor = 0x1234\n"
                      "match.product = 0x0002\ndriver = @FAMILY@/udk-driver-test-hang.so\nhost = pair\n"
                      "start_timeout = 300ms\nrestart_limit = 1/10min\n");
        fixture_start(&f);
        /* The hang's start() holds the one queue: at its time-out the host is killed, twice, then it is
         * given up and pair-a, a crash each time, runs on in a host of the key alone. */
        hang = wait_driver(f.client, &f.p, "knob2", "failed", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "start time-out");
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        a = wait_driver(f.client, &f.p, "knob", "running", &o);
        ASSERT_TRUE(a != hang);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"),
                      "shared host 'pair' killed (pair-hang: start time-out)");
        ASSERT_STR_EQ(prop_string(&o.obj, "host"), "pair");
        ASSERT_INT_GT(prop_int(&o.obj, "pid"), 0);
        ASSERT_INT_EQ(call_level(f.client, a), -6000);
        proc_wait_stderr(&f.p, "shared host 'pair' (pid ", WAIT_MS);
        ASSERT_STR_CONTAINS(f.p.err, "pair-hang: start time-out: killed, and every driver in it");
        fixture_stop(&f);
}

/* --- a reload adds a driver to the key: the running host cannot load it, a new one of the key runs it ---
 */

#define HANG_PERSONALITY                                                                                  \
        "[personality]\nname = pair-hang\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = 0x0005\n" \
        "driver = @FAMILY@/udk-driver-test-hang.so\nhost = pair\nstart_timeout = 10min\nstop_timeout = "  \
        "100ms\n"

static void test_reload_new_driver(void)
{
        static struct fixture f;
        char path[256], text[8192], line[4096], needle[512];
        udk_object_id a, b;
        union object o;
        pid_t pa, ph;

        fixture_write(&f, THREE_NUBS NUB(5, "knob5", 0x0005), PERSONALITIES);
        fixture_start(&f);
        a = wait_driver(f.client, &f.p, "knob", "running", &o);
        pa = (pid_t)prop_int(&o.obj, "pid");
        b = wait_driver(f.client, &f.p, "knob2", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_INT_EQ(driver_of(f.client, "knob5"), 0);

        /* pair-hang comes with a reload: its driver is not in the running host, so a second host of the
         * key runs it (its start() hangs, which holds only that host). */
        snprintf(path, sizeof(path), "%s/10-drivers.conf", f.drivers);
        with_family_dir(text, sizeof(text), PERSONALITIES HANG_PERSONALITY);
        test_write_file(path, text);
        wait_driver(f.client, &f.p, "knob5", "starting", &o);
        for (uint64_t deadline = now_ms() + WAIT_MS; prop_int(&o.obj, "pid") == 0;) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&f.p, 5);
                wait_driver(f.client, &f.p, "knob5", "starting", &o);
        }
        ph = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_INT_NE(ph, pa);
        ASSERT_STR_EQ(prop_string(&o.obj, "host"), "pair");
        cmdline(ph, line, sizeof(line));
        ASSERT_STR_CONTAINS(line, "--shared=pair ");
        snprintf(needle, sizeof(needle), "%s/udk-driver-test-hang.so", family_dir());
        ASSERT_STR_CONTAINS(line, needle);

        /* The first host's members ran on through the reload. */
        driver_info(&f, a, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "running");
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        driver_info(&f, b, &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        ASSERT_INT_EQ(call_level(f.client, a), -6000);

        /* A new instance of pair-a joins a host that has its driver: the first one. */
        test_write_file(f.nubs, THREE_NUBS NUB(5, "knob5", 0x0005) NUB(6, "knob6", 0x0001));
        wait_driver(f.client, &f.p, "knob6", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), pa);
        fixture_stop(&f);
}

/* --- bad keys --- */

static void test_bad_host_key(void)
{
        static struct fixture f;
        char path[256], text[512], long_key[80], **errors = NULL;
        size_t n = 0;
        union object o;

        memset(long_key, 'k', 64);
        long_key[64] = '\0';
        fixture_write(&f, THREE_NUBS, PERSONALITIES);
        snprintf(path, sizeof(path), "%s/20-empty.conf", f.drivers);
        test_write_file(path,
                        "[personality]\nname = empty-key\nfamily = test\nmatch.vendor = 0x9999\nhost =\n");
        snprintf(path, sizeof(path), "%s/30-long.conf", f.drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = long-key\nfamily = test\nhost = %s\nmatch.vendor = 0x9999\n",
                 long_key);
        test_write_file(path, text);
        fixture_start(&f);
        /* The good files load and run as ever. */
        wait_driver(f.client, &f.p, "knob", "running", &o);
        ASSERT_OK(udk_client_personality_errors(f.client, &errors, &n));
        ASSERT_UINT_EQ(n, 2);
        snprintf(text, sizeof(text), "%s/20-empty.conf:5: empty value for 'host'", f.drivers);
        ASSERT_STR_EQ(errors[0], text);
        snprintf(text, sizeof(text),
                 "%s/30-long.conf:4: bad host key '%s' (letters, digits, '_', '.', '-'; at most 63)",
                 f.drivers, long_key);
        ASSERT_STR_EQ(errors[1], text);
        free(errors);
        snprintf(path, sizeof(path), "%s/20-empty.conf", f.drivers);
        unlink(path);
        snprintf(path, sizeof(path), "%s/30-long.conf", f.drivers);
        unlink(path);
        fixture_stop(&f);
}

/* --- the limit --- */

/* The drivers the registry shows: how many are running, and the one whose last exit is @why (0: none). */
static udk_object_id drivers_now(struct fixture *f, const char *why, size_t *ret_running)
{
        struct udk_msg_object *objects;
        udk_object_id found = 0;
        size_t n;

        *ret_running = 0;
        ASSERT_OK(udk_client_list(f->client, 0, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                const char *state, *last_exit;

                if (strcmp(o->klass, "driver") != 0)
                        continue;
                state = prop_string(o, "state");
                last_exit = prop_string(o, "last_exit");
                ASSERT_NOT_NULL(state);
                ASSERT_NOT_NULL(last_exit);
                *ret_running += strcmp(state, "running") == 0;
                if (strcmp(last_exit, why) == 0) {
                        ASSERT_UINT_EQ(found, 0);
                        found = o->id;
                }
        }
        free(objects);
        return found;
}

/* 33 personalities, each with a host key of its own: 32 shared hosts run, and the driver that would
 * have needed the 33rd fails, saying which limit in the registry and the log. */
static void test_hosts_limit(void)
{
        static const char why[] = "udkd runs 32 shared hosts already, the limit";
        static char nubs[33 * 80], personalities[33 * 160];
        static struct fixture f;
        size_t n_nubs = 0, n_personalities = 0, running;
        uint64_t deadline;

        for (unsigned i = 1; i <= 33; i++) {
                n_nubs += (size_t)snprintf(nubs + n_nubs, sizeof(nubs) - n_nubs,
                                           "[nub]\nhandle = %u\nname = k%u\nvendor = 0x1234\nproduct = %u\n", i, i, i);
                n_personalities += (size_t)snprintf(personalities + n_personalities,
                                                    sizeof(personalities) - n_personalities,
                                                    "[personality]\nname = a%u\nfamily = test\nmatch.vendor = 0x1234\n"
                                                    "match.product = %u\nhost = h%u\n"
                                                    "driver = @FAMILY@/udk-driver-test-audio.so\n",
                                                    i, i, i);
        }
        ASSERT_TRUE(n_nubs < sizeof(nubs) && n_personalities < sizeof(personalities));
        fixture_write(&f, nubs, personalities);
        current = &f;
        signal(SIGABRT, on_abort);
        /* -q: 33 hosts' starts would fill the test's pipe. */
        proc_start_server(&f.p, "[server]\nmlock = no\n", (const char *const[]){ "--drivers", f.drivers, "-q", NULL });
        ASSERT_OK(udk_client_connect("test-hosts", f.p.socket, &f.client));
        proc_wait_stderr(&f.p, ": udkd runs 32 shared hosts already, the limit", WAIT_MS);
        /* The 32 in their hosts and the bus driver run; the other one says why it does not. */
        deadline = now_ms() + WAIT_MS;
        while (!drivers_now(&f, why, &running) || running != 33) {
                if (now_ms() >= deadline)
                        udk_test_fail("%zu drivers running, none failed with '%s'; stderr: %s", running, why, f.p.err);
                proc_pump(&f.p, 10);
        }
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_one_process, test_host_crash, test_stop_one_member, test_member_hang,
              test_reload_new_driver, test_bad_host_key, test_hosts_limit)
