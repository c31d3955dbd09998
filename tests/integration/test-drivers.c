/* SPDX-License-Identifier: MIT */
/*
 * Drivers end to end: real udkd, real udk-driverhost processes, the test
 * family's drivers.  Each test writes its own drivers folder (personalities
 * naming the build's drivers by absolute path) and description file, starts
 * udkd with --drivers on it, and watches the registry through libudk-client:
 * binding, hotplug, methods, supervision (restart, back-off, give-up, hang
 * time-outs), and a client streaming from a crashing driver's device.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          15000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

/* --- the drivers folder --- */

struct fixture {
        struct proc p;
        char drivers[64]; /* the personalities' folder */
        char nubs[160];   /* the test family's description file */
        struct udk_client *client;
};

static const char *family_dir(void)
{
        const char *dir = getenv("UDK_TEST_FAMILY_DIR");

        if (!dir || !*dir)
                UDK_TEST_SKIP("UDK_TEST_FAMILY_DIR is not set (run through meson test)");
        return dir;
}

/* @text with each @FAMILY@ replaced by the test family's build folder. */
static void with_family_dir(char *buf, size_t size, const char *text)
{
        static const char mark[] = "@FAMILY@";
        const char *dir = family_dir(), *at;
        size_t len = 0;

        buf[0] = '\0';
        while ((at = strstr(text, mark))) {
                len += (size_t)snprintf(buf + len, size - len, "%.*s%s", (int)(at - text), text, dir);
                ASSERT_TRUE(len < size);
                text = at + strlen(mark);
        }
        len += (size_t)snprintf(buf + len, size - len, "%s", text);
        ASSERT_TRUE(len < size);
}

/* The bus driver's personality, then @more (personalities, @FAMILY@ = the drivers' folder). */
static void fixture_write(struct fixture *f, const char *nubs, const char *more)
{
        char path[256], text[8192];
        const char *dir = family_dir();

        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-drivers-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(f->nubs, sizeof(f->nubs), "%s/nubs.ini", f->drivers);
        test_write_file(f->nubs, nubs);
        snprintf(path, sizeof(path), "%s/00-test-bus.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\n"
                 "name = test-bus\n"
                 "family = root\n"
                 "match.bus = test\n"
                 "driver = %s/udk-driver-test-bus.so\n"
                 "grant = nubs.ini\n",
                 dir);
        test_write_file(path, text);
        snprintf(path, sizeof(path), "%s/10-drivers.conf", f->drivers);
        with_family_dir(text, sizeof(text), more);
        test_write_file(path, text);
}

static void fixture_start(struct fixture *f, const char *config)
{
        const char *args[] = { "--drivers", f->drivers, "--verbose", NULL };

        proc_start_server(&f->p, config, args);
        ASSERT_OK(udk_client_connect("test-drivers", f->p.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        char path[256];

        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->p);
        ASSERT_FALSE(strstr(f->p.err, "AddressSanitizer"));
        snprintf(path, sizeof(path), "%s/00-test-bus.conf", f->drivers);
        unlink(path);
        snprintf(path, sizeof(path), "%s/10-drivers.conf", f->drivers);
        unlink(path);
        unlink(f->nubs);
        rmdir(f->drivers);
}

/* --- the registry --- */

static void driver_info(struct fixture *f, udk_object_id driver, union object *o)
{
        ASSERT_OK(udk_client_info(f->client, driver, &o->obj));
        ASSERT_STR_EQ(o->obj.klass, "driver");
}

#define AUDIO_PERSONALITY                                                                                    \
        "[personality]\n"                                                                                    \
        "name = test-audio\n"                                                                                \
        "family = test\n"                                                                                    \
        "match.vendor = 0x1234\n"                                                                            \
        "match.product = 0x0001\n"                                                                           \
        "driver = @FAMILY@/udk-driver-test-audio.so\n"

#define KNOB_NUB                                                                                             \
        "[nub]\n"                                                                                            \
        "handle = 1\n"                                                                                       \
        "name = knob\n"                                                                                      \
        "vendor = 0x1234\n"                                                                                  \
        "product = 0x0001\n"

#define NO_DEVICES "[server]\nmlock = no\n"

/* --- binding, methods, controls --- */

static void test_bind_and_call(void)
{
        static struct fixture f;
        uint64_t in[2] = { 40, 2 }, out[UDK_CALL_SCALARS_MAX];
        char echo_in[300], echo_out[UDK_CALL_STRUCT_MAX];
        size_t echo_size = 0;
        uint32_t n_out = 0;
        udk_object_id driver, device, bus;
        union object o;

        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY);
        fixture_start(&f, NO_DEVICES);

        /* The bus driver binds the root nub and publishes the knob; the audio driver binds it. */
        bus = wait_driver(f.client, &f.p, "root-test", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "test-bus");
        driver = wait_driver(f.client, &f.p, "knob", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "test-audio");
        ASSERT_INT_GT(prop_int(&o.obj, "pid"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_TRUE(bus != driver);

        /* Its device, with its level control at the default. */
        device = wait_object(f.client, &f.p, "device", "test:knob", true);
        ASSERT_INT_EQ(call_level(f.client, driver), -6000);

        /* A client moves the control: the driver hears of it. */
        ASSERT_OK(udk_client_set_control(f.client, device, "level", "-12dB"));
        for (uint64_t deadline = now_ms() + WAIT_MS; call_level(f.client, driver) != -12000;) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }

        /* Methods: scalars in and out, a structure echoed, sizes checked before the method runs. */
        ASSERT_OK(udk_client_call(f.client, driver, 3, in, 2, NULL, 0, out, &n_out, NULL, 0, NULL));
        ASSERT_UINT_EQ(n_out, 1);
        ASSERT_UINT_EQ(out[0], 42);
        ASSERT_ERROR(udk_client_call(f.client, driver, 3, in, 1, NULL, 0, out, &n_out, NULL, 0, NULL), EINVAL);
        for (size_t i = 0; i < sizeof(echo_in); i++)
                echo_in[i] = (char)(i * 7);
        ASSERT_OK(udk_client_call(f.client, driver, 2, NULL, 0, echo_in, sizeof(echo_in), NULL, NULL, echo_out,
                                  sizeof(echo_out), &echo_size));
        ASSERT_UINT_EQ(echo_size, sizeof(echo_in));
        ASSERT_OK(memcmp(echo_in, echo_out, sizeof(echo_in)));
        ASSERT_ERROR(udk_client_call(f.client, driver, 99, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL),
                     EOPNOTSUPP);

        fixture_stop(&f);
        /* A clean stop: every host was told to stop and exited 0. */
        ASSERT_FALSE(strstr(f.p.err, ", a crash")); /* the supervisor's word: not a path's */
}

/* --- hotplug --- */

static void test_hotplug(void)
{
        static struct fixture f;
        udk_object_id first;
        union object o;

        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY);
        fixture_start(&f, NO_DEVICES);
        first = wait_driver(f.client, &f.p, "knob", "running", &o);
        wait_object(f.client, &f.p, "device", "test:knob", true);

        /* Plug a second one in: a second instance of the same driver, its own device. */
        test_write_file(f.nubs,
                        KNOB_NUB "[nub]\nhandle = 2\nname = knob2\nvendor = 0x1234\nproduct = 0x0001\n");
        wait_driver(f.client, &f.p, "knob2", "running", &o);
        wait_object(f.client, &f.p, "device", "test:knob2", true);
        ASSERT_INT_EQ(driver_of(f.client, "knob"), first);

        /* Unplug the first: its driver stops, its device leaves; the second is untouched. */
        test_write_file(f.nubs, "[nub]\nhandle = 2\nname = knob2\nvendor = 0x1234\nproduct = 0x0001\n");
        wait_object(f.client, &f.p, "device", "test:knob", false);
        ASSERT_INT_EQ(driver_of(f.client, "knob"), 0);
        /* Its driver was stopped and, once its host exited, left the registry. */
        for (uint64_t deadline = now_ms() + WAIT_MS; udk_client_info(f.client, first, &o.obj) != -ENOENT;) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }
        wait_driver(f.client, &f.p, "knob2", "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);

        fixture_stop(&f);
}

/*
 * The device replugged while its driver is still stopping (its host held with SIGSTOP): the new nub's
 * driver waits, without a host, until the old one has exited, then starts once, on its own device.
 * Two drivers at once on one device would both hold it, and the second's device would find its uid taken.
 */
static void test_replug_waits_for_old_driver(void)
{
        static struct fixture f;
        udk_object_id first, again, device;
        char line[160];
        union object o;
        pid_t pid;

        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY);
        fixture_start(&f, NO_DEVICES);
        first = wait_driver(f.client, &f.p, "knob", "running", &o);
        pid = (pid_t)prop_int(&o.obj, "pid");
        wait_object(f.client, &f.p, "device", "test:knob", true);

        ASSERT_OK(kill(pid, SIGSTOP));
        /* A property changed: the bus driver unplugs the knob and plugs it in again. */
        test_write_file(f.nubs, KNOB_NUB "serial = 2\n");
        snprintf(line, sizeof(line),
                 "driver 'test-audio': nub knob: waits for driver 'test-audio' (pid %d), its device's, to exit",
                 (int)pid);
        proc_wait_stderr(&f.p, line, WAIT_MS);
        again = driver_of(f.client, "knob");
        ASSERT_TRUE(again != 0 && again != first);
        driver_info(&f, again, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "starting");
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        driver_info(&f, first, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "stopping");

        ASSERT_OK(kill(pid, SIGCONT));
        wait_state(f.client, &f.p, again, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_ERROR(udk_client_info(f.client, first, &o.obj), ENOENT);
        device = wait_object(f.client, &f.p, "device", "test:knob", true);
        ASSERT_OK(udk_client_info(f.client, device, &o.obj));
        ASSERT_UINT_EQ(o.obj.parent, again);
        snprintf(line, sizeof(line), "driver 'test-audio' (pid %d): exit 0 after stop", (int)pid);
        proc_wait_stderr(&f.p, line, WAIT_MS);
        fixture_stop(&f);
        ASSERT_TRUE(strstr(f.p.err, "a crash") == NULL);
        ASSERT_TRUE(strstr(f.p.err, "belongs to driver") == NULL);
}

/* --- supervision --- */

/* A driver killed 20 times comes back each time after its back-off, then is given up. */
static void test_restart_backoff_giveup(void)
{
        static struct fixture f;
        const uint64_t delay_ms = 20, max_ms = 80;
        udk_object_id driver;
        union object o;
        pid_t pid;

        fixture_write(&f, KNOB_NUB,
                      AUDIO_PERSONALITY "restart_delay = 20ms\nrestart_delay_max = 80ms\n"
                                        "restart_limit = 20/10min\nrestart_reset = 10min\n");
        fixture_start(&f, NO_DEVICES);
        driver = wait_driver(f.client, &f.p, "knob", "running", &o);
        pid = (pid_t)prop_int(&o.obj, "pid");

        for (unsigned k = 1; k <= 20; k++) {
                /* Expected back-off before restart k: 0, 20, 40, 80, 80, ... ms. */
                uint64_t expect = k == 1 ? 0 : UDK_MIN(delay_ms << (k - 2), max_ms), t0, waited;
                pid_t next;

                t0 = now_ms();
                ASSERT_OK(kill(pid, SIGKILL));
                for (;;) {
                        wait_state(f.client, &f.p, driver, "running", &o);
                        next = (pid_t)prop_int(&o.obj, "pid");
                        if (next != pid)
                                break;
                        usleep(1000);
                }
                waited = now_ms() - t0;
                ASSERT_UINT_GE(waited, expect);
                ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), k);
                ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), k);
                ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
                pid = next;
        }

        /* The 21st crash is over the limit: failed, and it stays so. */
        ASSERT_OK(kill(pid, SIGKILL));
        wait_state(f.client, &f.p, driver, "failed", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 21);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        usleep(200 * 1000);
        driver_info(&f, driver, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "failed");

        /* udkctl start's call brings it back, its count forgotten. */
        ASSERT_OK(udk_client_driver_control(f.client, driver, UDK_DRIVER_START));
        wait_state(f.client, &f.p, driver, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_OK(udk_client_driver_control(f.client, driver, UDK_DRIVER_STOP));
        wait_state(f.client, &f.p, driver, "stopped", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);

        fixture_stop(&f);
}

/* A driver that hangs in start is killed at its time-out and counted as crashed. */
static void test_hang_in_start(void)
{
        static struct fixture f;
        udk_object_id driver;
        union object o;
        uint64_t t0;

        fixture_write(&f, KNOB_NUB,
                      "[personality]\n"
                      "name = test-hang\n"
                      "family = test\n"
                      "match.vendor = 0x1234\n"
                      "driver = @FAMILY@/udk-driver-test-hang.so\n"
                      "start_timeout = 300ms\n"
                      "restart_limit = 1/10min\n");
        t0 = now_ms();
        fixture_start(&f, NO_DEVICES);
        driver = wait_driver(f.client, &f.p, "knob", "failed", &o);
        /* Two starts, each killed at 300 ms. */
        ASSERT_UINT_GE(now_ms() - t0, 600);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "start time-out");
        proc_wait_stderr(&f.p, "start time-out", WAIT_MS);
        /* And it stays failed: no third start. */
        usleep(400 * 1000);
        driver_info(&f, driver, &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "state"), "failed");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        fixture_stop(&f);
}

/* --- a client's stream through a crash --- */

struct listener {
        _Atomic uint64_t cycles, sound, silence; /* cycles with signal, without */
        _Atomic uint64_t silence_after_sound;   /* silent cycles once sound came */
        _Atomic uint64_t sound_after_silence;   /* sound cycles after such a silence */
        _Atomic bool heard;
};

static int listen_process(void *data, const struct udk_node_cycle *cycle)
{
        struct listener *l = data;
        float peak = 0.0f;

        for (uint32_t i = 0; i < cycle->frames * cycle->input_channels; i++)
                peak = fmaxf(peak, fabsf(cycle->input[i]));
        atomic_fetch_add(&l->cycles, 1);
        if (peak > 0.01f) {
                atomic_fetch_add(&l->sound, 1);
                if (atomic_load(&l->silence_after_sound))
                        atomic_fetch_add(&l->sound_after_silence, 1);
                atomic_store(&l->heard, true);
        } else {
                atomic_fetch_add(&l->silence, 1);
                if (atomic_load(&l->heard))
                        atomic_fetch_add(&l->silence_after_sound, 1);
        }
        return 0;
}

static void test_stream_survives_crash(void)
{
        static struct fixture f;
        static struct listener crashing, other;
        struct udk_client_stream_params params;
        struct udk_client_stream *s_crash = NULL, *s_other = NULL;
        struct udk_msg_stats_device stats;
        udk_object_id driver, device, other_device;
        union object o;
        uint64_t deadline;
        int r;

        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY "restart_delay = 0\n");
        /* A long period: what an xrun there would show is udkd stalling, not a loaded test machine. */
        fixture_start(&f, "[server]\nmlock = no\n[device]\nname = other\nperiod = 1024\nsource = sine\n");
        driver = wait_driver(f.client, &f.p, "knob", "running", &o);
        device = wait_object(f.client, &f.p, "device", "test:knob", true);
        ASSERT_OK(udk_client_find_class(f.client, "device", "other", &other_device));

        udk_client_stream_params_defaults(&params);
        params.output_channels = 0;
        params.device = device;
        ASSERT_OK(udk_client_open(f.client, &params, listen_process, &crashing, &s_crash));
        params.device = other_device;
        ASSERT_OK(udk_client_open(f.client, &params, listen_process, &other, &s_other));
        ASSERT_OK(udk_client_stream_wait_running(s_crash, WAIT_MS));
        ASSERT_OK(udk_client_stream_wait_running(s_other, WAIT_MS));
        for (deadline = now_ms() + WAIT_MS; !atomic_load(&crashing.heard);) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }

        /* A call in flight when the driver dies fails with the distinct error. */
        r = udk_client_call(f.client, driver, 4, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL);
        ASSERT_INT_EQ(r, -UDK_E_DRIVER_TERMINATED);

        /* Silence while it is gone, then sound again: the stream itself never stopped. */
        for (deadline = now_ms() + WAIT_MS; atomic_load(&crashing.sound_after_silence) < 100;) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }
        ASSERT_UINT_GE(atomic_load(&crashing.silence_after_sound), 1);
        ASSERT_INT_EQ(udk_client_stream_state(s_crash), UDK_NODE_RUNNING);
        wait_state(f.client, &f.p, driver, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 1);
        /* The same device, taken back under its UID. */
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "test:knob", true), device);

        /* The other device never missed a beat, nor did its client. */
        ASSERT_OK(udk_client_stats(f.client, other_device, &stats, NULL, 0, NULL));
        ASSERT_UINT_EQ(stats.xruns, 0);
        ASSERT_UINT_EQ(atomic_load(&other.silence_after_sound), 0);

        ASSERT_OK(udk_client_close(s_crash));
        ASSERT_OK(udk_client_close(s_other));
        fixture_stop(&f);
}

/* --- bad personalities --- */

static void test_bad_personality(void)
{
        static struct fixture f;
        char path[256], **errors = NULL;
        size_t n = 0;
        union object o;

        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY);
        snprintf(path, sizeof(path), "%s/20-broken.conf", f.drivers);
        test_write_file(path,
                        "[personality]\nname = broken\nfamily = test\nmatch.bcdDevice = 0x0200-0x0100\n"
                        "driver = /nonexistent.so\n");
        fixture_start(&f, NO_DEVICES);
        wait_driver(f.client, &f.p, "knob", "running", &o);
        ASSERT_OK(udk_client_personality_errors(f.client, &errors, &n));
        ASSERT_UINT_EQ(n, 1);
        ASSERT_STR_CONTAINS(errors[0], "20-broken.conf:4: ");
        free(errors);
        unlink(path);
        fixture_stop(&f);
}

/* --- limits --- */

static size_t count_nubs(struct udk_client *c, size_t *ret_roots)
{
        struct udk_msg_object *objects;
        size_t n, nubs = 0, roots = 0;

        ASSERT_OK(udk_client_list(c, 0, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                if (strcmp(o->klass, "nub") != 0)
                        continue;
                nubs++;
                roots += strncmp(o->name, "root-", 5) == 0;
        }
        free(objects);
        *ret_roots = roots;
        return nubs;
}

/* 300 devices on the test bus: udkd keeps 256 nubs in all, its root nubs among them, and tells the
 * bus driver for each of the others which limit it met; the driver logs it. */
static void test_nubs_limit(void)
{
        static struct fixture f;
        static char nubs[300 * 40], refused[256];
        size_t len = 0, roots;
        unsigned first;

        for (unsigned h = 1; h <= 300; h++)
                len += (size_t)snprintf(nubs + len, sizeof(nubs) - len, "[nub]\nhandle = %u\nname = n%u\n", h, h);
        ASSERT_TRUE(len < sizeof(nubs));
        fixture_write(&f, nubs, AUDIO_PERSONALITY);
        /* -q: a line per refused nub, none per published one. */
        proc_start_server(&f.p, NO_DEVICES, (const char *const[]){ "--drivers", f.drivers, "-q", NULL });
        ASSERT_OK(udk_client_connect("test-drivers", f.p.socket, &f.client));
        proc_wait_stderr(&f.p, "nub 'n300' (handle 300) not published: nub 'n300': udkd has 256 nubs already, the limit",
                         WAIT_MS);
        ASSERT_UINT_EQ(count_nubs(f.client, &roots), 256);
        ASSERT_UINT_GE(roots, 1);
        first = (unsigned)(256 - roots + 1);
        snprintf(refused, sizeof(refused), "nub 'n%u' (handle %u) not published: nub 'n%u': udkd has 256 nubs already, the limit",
                 first, first, first);
        ASSERT_STR_CONTAINS(f.p.err, refused);
        snprintf(refused, sizeof(refused), "nub 'n%u' (handle %u) not published", first - 1, first - 1);
        ASSERT_FALSE(strstr(f.p.err, refused));
        fixture_stop(&f);
}

static size_t count_driver_devices(struct udk_client *c)
{
        struct udk_msg_object *objects;
        size_t n, devices = 0;

        ASSERT_OK(udk_client_list(c, 0, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                const struct udk_prop *uid = udk_msg_object_prop(o, "uid");

                if (strcmp(o->klass, "device") == 0 && uid && strncmp(uid->s, "test:", 5) == 0)
                        devices++;
        }
        free(objects);
        return devices;
}

/* 33 knobs, each with a driver that makes a device: 32 devices, and the driver of the 33rd is told
 * which limit it met (it logs it and fails its start). */
static void test_driver_devices_limit(void)
{
        static struct fixture f;
        static char nubs[33 * 80];
        uint64_t deadline;
        size_t len = 0;

        for (unsigned h = 1; h <= 33; h++)
                len += (size_t)snprintf(nubs + len, sizeof(nubs) - len,
                                        "[nub]\nhandle = %u\nname = k%u\nvendor = 0x1234\nproduct = 0x0001\n", h, h);
        ASSERT_TRUE(len < sizeof(nubs));
        fixture_write(&f, nubs, AUDIO_PERSONALITY);
        proc_start_server(&f.p, NO_DEVICES, (const char *const[]){ "--drivers", f.drivers, "-q", NULL });
        ASSERT_OK(udk_client_connect("test-drivers", f.p.socket, &f.client));
        proc_wait_stderr(&f.p, " not created: udkd has 32 drivers' devices already, the limit", WAIT_MS);
        deadline = now_ms() + WAIT_MS;
        while (count_driver_devices(f.client) != 32) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(10000);
        }
        fixture_stop(&f);
}

/* A client of its own on a thread of its own, calling get-level (selector 1) once. */
struct caller {
        const char *socket;
        udk_object_id driver;
        pthread_t thread;
        _Atomic bool done;
        int r;
        int64_t level;
        char error[256];
};

static void *caller_run(void *arg)
{
        struct caller *c = arg;
        uint64_t out[UDK_CALL_SCALARS_MAX];
        struct udk_client *client;
        uint32_t n_out = 0;

        c->r = udk_client_connect("caller", c->socket, &client);
        if (c->r == 0) {
                c->r = udk_client_call(client, c->driver, 1, NULL, 0, NULL, 0, out, &n_out, NULL, 0, NULL);
                udk_strlcpy(c->error, udk_client_error(client), sizeof(c->error));
                if (c->r == 0 && n_out == 1)
                        c->level = (int64_t)out[0];
                udk_client_disconnect(client);
        } else {
                udk_strlcpy(c->error, udk_client_error(NULL), sizeof(c->error));
        }
        atomic_store(&c->done, true);
        return NULL;
}

/* 17 clients call a driver that cannot answer (its host stopped): 16 calls wait in flight, the 17th is
 * refused at once, saying which limit; the 16 are answered once the host runs again. */
static void test_calls_limit(void)
{
        static struct fixture f;
        static struct caller callers[17];
        udk_object_id driver;
        unsigned busy = 0, answered = 0;
        uint64_t deadline;
        union object o;
        pid_t host;

        /* A heartbeat slow enough that the stopped host is not taken for hung meanwhile. */
        fixture_write(&f, KNOB_NUB, AUDIO_PERSONALITY "heartbeat = 60s\n");
        proc_start_server(&f.p, NO_DEVICES, (const char *const[]){ "--drivers", f.drivers, "-q", NULL });
        ASSERT_OK(udk_client_connect("test-drivers", f.p.socket, &f.client));
        driver = wait_driver(f.client, &f.p, "knob", "running", &o);
        host = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_INT_EQ(call_level(f.client, driver), -6000);

        ASSERT_OK(kill(host, SIGSTOP));
        for (size_t i = 0; i < UDK_ELEMENTSOF(callers); i++) {
                callers[i] = (struct caller){ .socket = f.p.socket, .driver = driver };
                ASSERT_INT_EQ(pthread_create(&callers[i].thread, NULL, caller_run, &callers[i]), 0);
        }
        /* The refused one comes back while the others wait (well within udkd's 10 s per call). */
        deadline = now_ms() + 5000;
        for (;;) {
                unsigned done = 0;

                for (size_t i = 0; i < UDK_ELEMENTSOF(callers); i++)
                        done += atomic_load(&callers[i].done);
                if (done > 0) {
                        ASSERT_UINT_EQ(done, 1);
                        break;
                }
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }
        ASSERT_OK(kill(host, SIGCONT));
        for (size_t i = 0; i < UDK_ELEMENTSOF(callers); i++) {
                struct caller *c = &callers[i];

                ASSERT_INT_EQ(pthread_join(c->thread, NULL), 0);
                if (c->r == -EBUSY) {
                        ASSERT_STR_EQ(c->error, "driver 'test-audio' has 16 calls in flight already, the limit");
                        busy++;
                } else {
                        if (c->r != 0)
                                udk_test_fail("a call: %s", c->error);
                        ASSERT_INT_EQ(c->level, -6000);
                        answered++;
                }
        }
        ASSERT_UINT_EQ(busy, 1);
        ASSERT_UINT_EQ(answered, 16);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_bind_and_call, test_hotplug, test_restart_backoff_giveup, test_hang_in_start,
              test_stream_survives_crash, test_bad_personality, test_replug_waits_for_old_driver,
              test_nubs_limit, test_driver_devices_limit, test_calls_limit)
