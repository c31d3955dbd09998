/* SPDX-License-Identifier: MIT */
/*
 * docs/writing-a-driver.md, executed: the walkthrough's flow with its
 * example driver (families/test/example/tonebox.c and its personality, as
 * built).  udkd runs the test bus and the example's folder; a [nub] written
 * into the description file is matched to tonebox, whose device appears
 * with its gain handler and volume control; udkctl moves the control and
 * the samples through the device change exactly as the gain says.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>

#include <udk/client.h>
#include <udk/control.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          15000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

/* The doc's [nub], appended to the description file while udkd runs. */
#define BOX_NUB                                                                                              \
        "[nub]\n"                                                                                            \
        "handle = 4\n"                                                                                       \
        "name = box\n"                                                                                       \
        "vendor = 0x1234\n"                                                                                  \
        "product = 0x0010\n"                                                                                 \
        "channels = 2\n"                                                                                     \
        "period = 512\n"                                                                                     \
        "frequency = 1000\n"

static const char *env_dir(const char *key)
{
        const char *dir = getenv(key);

        if (!dir || !*dir)
                UDK_TEST_SKIP("%s is not set (run through meson test)", key);
        return dir;
}

/* String property @key of @device's child of class @klass named @name, into @buf. */
static const char *child_prop(struct udk_client *client, udk_object_id device, const char *klass, const char *name,
                              const char *key, char *buf, size_t size)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0;

        ASSERT_OK(udk_client_list(client, device, &objects, &n));
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                if (o->parent == device && strcmp(o->klass, klass) == 0 && strcmp(o->name, name) == 0) {
                        ASSERT_TRUE(prop_string(o, key) != NULL);
                        udk_strlcpy(buf, prop_string(o, key), size);
                }
        }
        free(objects);
        if (!buf[0])
                udk_test_fail("device %" PRIu32 " has no %s %s with a %s", device, klass, name, key);
        return buf;
}

/* --- the client: plays 0.5 into the device's loopback and checks what comes back --- */

#define PLAYED 0.5f

/*
 * The expected input sample's bits (high half) and the cycles that brought
 * exactly it in every sample (low half), in one word: a cycle checked
 * against an expectation the test has replaced since is never counted.
 */
static _Atomic uint64_t expect;

static uint64_t expect_word(float sample)
{
        uint32_t bits;

        memcpy(&bits, &sample, sizeof(bits));
        return (uint64_t)bits << 32;
}

static int box_process(void *data, const struct udk_node_cycle *cycle)
{
        uint64_t word = atomic_load(&expect);
        uint32_t bits = (uint32_t)(word >> 32);
        float want;
        bool all = cycle->input && cycle->frames > 0;

        memcpy(&want, &bits, sizeof(want));
        for (uint32_t i = 0; i < cycle->frames * cycle->output_channels; i++)
                cycle->output[i] = PLAYED;
        for (uint32_t i = 0; all && i < cycle->frames * cycle->input_channels; i++)
                all = cycle->input[i] == want;
        if (all)
                atomic_compare_exchange_strong(&expect, &word, word + 1);
        return 0;
}

/* Expect @sample in every input sample, then wait for 8 whole cycles of exactly it. */
static void expect_input(struct proc *udkd, float sample)
{
        atomic_store(&expect, expect_word(sample));
        for (uint64_t deadline = now_ms() + WAIT_MS; (atomic_load(&expect) & UINT32_MAX) < 8;) {
                if (now_ms() >= deadline)
                        udk_test_fail("the input never was %.9g for 8 cycles; stderr: %s", (double)sample,
                                      udkd->err);
                proc_pump(udkd, 2);
        }
}

/* The gain handler scales the output at WRITE_END and the looped-back input at BEGIN_READ. */
static float through_gain(float db)
{
        float g = udk_level_db_to_gain(db, UDK_LEVEL_SILENT_DB);
        return PLAYED * g * g;
}

/* udkd with the test bus (a description file of its own) and the example's folder as built. */
struct fixture {
        struct proc udkd;
        struct udk_client *client;
        char drivers[64];
        char nubs[128];
};

static void fixture_start(struct fixture *f)
{
        const char *family = env_dir("UDK_TEST_FAMILY_DIR"), *example = env_dir("UDK_TEST_EXAMPLE_DIR");
        char path[256], text[1024];
        union object o;

        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-example-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(f->nubs, sizeof(f->nubs), "%s/nubs.ini", f->drivers);
        test_write_file(f->nubs, "# no nubs yet\n");
        snprintf(path, sizeof(path), "%s/test-bus.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = test-bus\nfamily = root\nmatch.bus = test\n"
                 "driver = %s/udk-driver-test-bus.so\ngrant = nubs.ini\n",
                 family);
        test_write_file(path, text);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n",
                          (const char *const[]){ "--drivers", f->drivers, "--drivers", example, NULL });
        ASSERT_OK(udk_client_connect("test-example-driver", f->udkd.socket, &f->client));
        wait_driver(f->client, &f->udkd, "root-test", "running", &o);
}

static void fixture_stop(struct fixture *f)
{
        char path[256];

        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        ASSERT_FALSE(strstr(f->udkd.err, "AddressSanitizer"));
        unlink(f->nubs);
        snprintf(path, sizeof(path), "%s/test-bus.conf", f->drivers);
        unlink(path);
        rmdir(f->drivers);
}

/* Plug the box in: the bus publishes its nub, udkd matches it to tonebox and starts it.  Its device. */
static udk_object_id fixture_plug_box(struct fixture *f, udk_object_id *ret_driver)
{
        union object o;

        test_write_file(f->nubs, "# no nubs yet\n\n" BOX_NUB);
        *ret_driver = wait_driver(f->client, &f->udkd, "box", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "tonebox");
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        return wait_object(f->client, &f->udkd, "device", "tonebox:box", true);
}

/* Listen to the box through its loopback: the client plays PLAYED, hears it through the gain. */
static struct udk_client_stream *box_listen(struct fixture *f, udk_object_id device)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *stream = NULL;
        struct proc c;

        ASSERT_INT_EQ(UDKCTL(&c, f->udkd.socket, "set", "tonebox:box", "source", "loopback"), 0);
        ASSERT_STR_EQ(c.out, "box: source = loopback\n");
        udk_client_stream_params_defaults(&params);
        params.device = device;
        ASSERT_OK(udk_client_open(f->client, &params, box_process, NULL, &stream));
        ASSERT_OK(udk_client_stream_wait_running(stream, WAIT_MS));
        return stream;
}

static void test_walkthrough(void)
{
        static struct fixture f;
        static struct proc c;
        struct udk_client_stream *stream;
        udk_object_id driver, device;
        char value[64];
        union object o;

        fixture_start(&f);
        device = fixture_plug_box(&f, &driver);
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "match", "box"), 0);
        ASSERT_STR_EQ(c.out, "VERDICT  PERSONALITY  TIER  SCORE  RULES  WHY\n"
                             "won      tonebox         3     10      2  won: the only match\n");

        /* Its device: the nub's format, the gain handler, the volume at property.volume. */
        ASSERT_OK(udk_client_info(f.client, device, &o.obj));
        ASSERT_INT_EQ(o.obj.parent, driver);
        ASSERT_INT_EQ(prop_int(&o.obj, "period"), 512);
        ASSERT_INT_EQ(prop_int(&o.obj, "input_channels"), 2);
        ASSERT_INT_EQ(prop_int(&o.obj, "output_channels"), 2);
        ASSERT_STR_EQ(control_value(f.client, device, "volume", value, sizeof(value)), "-12.0 dB");
        ASSERT_STR_EQ(control_value(f.client, device, "gain.level", value, sizeof(value)), "-12.0 dB");
        ASSERT_STR_EQ(control_value(f.client, device, "frequency", value, sizeof(value)), "1000 Hz");
        ASSERT_STR_EQ(child_prop(f.client, device, "handler", "gain", "plugin", value, sizeof(value)), "gain");
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "call", "tonebox", "2"), 0);
        ASSERT_STR_EQ(c.out, "scalar[0] = 2 (0x2)\nscalar[1] = 512 (0x200)\nscalar[2] = 1000 (0x3e8)\n");

        /* The samples: the device hears its own output, through the gain twice. */
        stream = box_listen(&f, device);
        expect_input(&f.udkd, through_gain(-12.0f));

        /* udkctl set moves the driver's control; the driver moves the handler; the samples follow. */
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "tonebox:box", "volume", "-20"), 0);
        ASSERT_STR_EQ(c.out, "box: volume = -20.0 dB\n");
        wait_control_value(f.client, &f.udkd, device, "gain.level", "-20.0 dB");
        expect_input(&f.udkd, through_gain(-20.0f));

        /* The knob turned on the box: set-volume moves both itself (udkd echoes none of its moves). */
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "call", "tonebox", "1", "-30000"), 0);
        ASSERT_STR_EQ(c.out, "");
        wait_control_value(f.client, &f.udkd, device, "volume", "-30.0 dB");
        wait_control_value(f.client, &f.udkd, device, "gain.level", "-30.0 dB");
        expect_input(&f.udkd, through_gain(-30.0f));

        /* What the driver and udkd refuse, each with its sentence; nothing moves. */
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "call", "tonebox", "1", "-70000"), 1);
        ASSERT_STR_EQ(c.err, "udkctl: call: Numerical result out of range\n");
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "tonebox:box", "volume", "-70"), 1);
        ASSERT_STR_EQ(c.err, "udkctl: volume: -70 is out of range (a level in dB, -60..0)\n");
        ASSERT_STR_EQ(control_value(f.client, device, "volume", value, sizeof(value)), "-30.0 dB");
        ASSERT_STR_EQ(control_value(f.client, device, "gain.level", value, sizeof(value)), "-30.0 dB");

        ASSERT_OK(udk_client_close(stream));
        fixture_stop(&f);
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'tonebox': tonebox:box: 2 channels, 512 frames, 1000 Hz");
        ASSERT_FALSE(strstr(f.udkd.err, ", a crash")); /* the supervisor's word: not a path's */
}

/* A crash: the supervisor restarts it at once, the device is taken back with its volume. */
static void test_crash_keeps_device(void)
{
        static struct fixture f;
        static struct proc c;
        struct udk_client_stream *stream;
        udk_object_id driver, device;
        char value[64];
        union object o;

        fixture_start(&f);
        device = fixture_plug_box(&f, &driver);
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "set", "tonebox:box", "volume", "-20"), 0);
        wait_control_value(f.client, &f.udkd, device, "gain.level", "-20.0 dB");
        stream = box_listen(&f, device);
        expect_input(&f.udkd, through_gain(-20.0f));

        ASSERT_OK(udk_client_info(f.client, driver, &o.obj));
        ASSERT_OK(kill((pid_t)prop_int(&o.obj, "pid"), SIGKILL));
        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                wait_state(f.client, &f.udkd, driver, "running", &o);
                if (prop_int(&o.obj, "restarts") == 1)
                        break;
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 1);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        ASSERT_INT_EQ(wait_object(f.client, &f.udkd, "device", "tonebox:box", true), device);
        ASSERT_STR_EQ(control_value(f.client, device, "volume", value, sizeof(value)), "-20.0 dB");
        expect_input(&f.udkd, through_gain(-20.0f));

        /* udkctl restart: a clean stop and start, the device taken back again. */
        ASSERT_INT_EQ(UDKCTL(&c, f.udkd.socket, "restart", "tonebox"), 0);
        ASSERT_STR_EQ(c.out, "tonebox: running\n");
        ASSERT_INT_EQ(wait_object(f.client, &f.udkd, "device", "tonebox:box", true), device);
        expect_input(&f.udkd, through_gain(-20.0f));

        ASSERT_OK(udk_client_close(stream));
        fixture_stop(&f);
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'tonebox': took device box (tonebox:box) back");
}

UDK_TEST_MAIN(test_walkthrough, test_crash_keeps_device)
