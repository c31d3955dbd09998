/* SPDX-License-Identifier: MIT */
/*
 * DSP plugins: the loader and its checks, instances as IO handlers, and the
 * gain, biquad and meter plugins sample by sample on a real (virtual)
 * device, against C references.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include <udk/device.h>
#include <udk/dsp.h>
#include <udk/util.h>

#include "udk-test.h"

#define RATE   48000u
#define PERIOD 64u

/* --- helpers --- */

static const char *plugin_path(void)
{
        const char *p = getenv("UDK_PLUGIN_PATH");

        if (!p || !p[0])
                UDK_TEST_SKIP("UDK_PLUGIN_PATH is not set");
        return p;
}

static const struct udk_dsp_plugin *plugin_load(const char *name, struct udk_dsp_module **ret)
{
        char err[512] = "";
        int r = udk_dsp_module_load(name, plugin_path(), ret, err, sizeof(err));

        if (r < 0)
                udk_test_fail("loading %s: %s (%s)", name, strerror(-r), err);
        return udk_dsp_module_plugin(*ret);
}

static struct udk_device *device_new_full(uint32_t rate, uint32_t period)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        snprintf(cfg.name, sizeof(cfg.name), "dsp-test");
        cfg.rate = rate;
        cfg.period = period;
        if (udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)) < 0)
                udk_test_fail("udk_device_create: %s", err);
        if (udk_device_open(dev, err, sizeof(err)) < 0)
                udk_test_fail("udk_device_open: %s", err);
        return dev;
}

static struct udk_device *device_new(void)
{
        return device_new_full(RATE, PERIOD);
}

static struct udk_handler *instantiate(const struct udk_dsp_plugin *plugin, struct udk_device *dev,
                                       const char *name, uint32_t ops)
{
        struct udk_handler *h = NULL;
        char err[256] = "";
        int r = udk_dsp_instantiate(plugin, dev, name, ops, &h, err, sizeof(err));

        if (r < 0)
                udk_test_fail("instantiating %s: %s (%s)", name, strerror(-r), err);
        ASSERT_NOT_NULL(h);
        return h;
}

static struct udk_control *control(struct udk_device *dev, const char *name)
{
        struct udk_control *c = udk_device_find_control(dev, name);

        if (!c)
                udk_test_fail("no control %s", name);
        return c;
}

static float *ring(struct udk_device *dev, enum udk_direction dir, uint64_t t)
{
        struct udk_stream *s = udk_device_stream(dev, dir);

        ASSERT_NOT_NULL(s);
        return udk_stream_frames(s, t);
}

static int run(struct udk_handler *h, struct udk_device *dev, enum udk_io_operation op, uint32_t frames,
               uint64_t t)
{
        const struct udk_dsp_plugin *plugin = udk_dsp_handler_plugin(h);

        ASSERT_NOT_NULL(plugin);
        return plugin->process(udk_handler_context(h), udk_device_id(dev), op, frames, t, 0);
}

/* A known signal: two sines and a little deterministic noise, |x| < 0.8. */
static float signal_at(uint32_t seed, uint64_t n)
{
        uint32_t h = (uint32_t)(n * 2654435761u) ^ (seed * 40503u);
        double noise;

        h ^= h >> 15;
        h *= 2246822519u;
        h ^= h >> 13;
        noise = (double)(h & 0xffff) / 65536.0 - 0.5;
        return (float)(0.4 * sin(2.0 * M_PI * (220.0 + 97.0 * seed) * (double)n / RATE) +
                       0.2 * sin(2.0 * M_PI * (3150.0 + 13.0 * seed) * (double)n / RATE) + 0.3 * noise);
}

static void fill(float *p, uint32_t frames, uint32_t channels, uint32_t seed, uint64_t t)
{
        for (uint32_t i = 0; i < frames; i++)
                for (uint32_t c = 0; c < channels; c++)
                        p[(size_t)i * channels + c] = signal_at(seed + 7 * c, t + i);
}

/* --- loader --- */

static void test_load_plugins(void)
{
        static const struct {
                const char *name;
                uint32_t n_readouts;
        } want[] = { { "gain", 0 }, { "biquad", 0 }, { "meter", 2 } };
        char expect[1024];

        for (size_t i = 0; i < UDK_ELEMENTSOF(want); i++) {
                struct udk_dsp_module *m = NULL, *again = NULL;
                const struct udk_dsp_plugin *p = plugin_load(want[i].name, &m);
                char err[256];

                ASSERT_NOT_NULL(p);
                ASSERT_STR_EQ(p->name, want[i].name);
                ASSERT_UINT_EQ(p->version, UDK_DSP_ABI_VERSION);
                ASSERT_UINT_EQ(p->reserved, 0);
                ASSERT_UINT_EQ(p->default_ops, UDK_IO_OPS_ALL);
                ASSERT_UINT_EQ(p->n_readouts, want[i].n_readouts);
                ASSERT_TRUE(p->instance_size > 0);
                ASSERT_NOT_NULL(p->description);
                ASSERT_OK(udk_dsp_plugin_check(p, err, sizeof(err)));

                snprintf(expect, sizeof(expect), "%s/udk-dsp-%s.so", plugin_path(), want[i].name);
                ASSERT_STR_EQ(udk_dsp_module_path(m), expect);

                /* By path; and a search path whose first folders do not have it. */
                ASSERT_OK(
                    udk_dsp_module_load(udk_dsp_module_path(m), "/nonexistent", &again, err, sizeof(err)));
                ASSERT_PTR_EQ(udk_dsp_module_plugin(again), p);
                again = udk_dsp_module_unload(again);
                ASSERT_PTR_EQ(again, NULL);
                snprintf(expect, sizeof(expect), "/nonexistent-a::/nonexistent-b:%s", plugin_path());
                ASSERT_OK(udk_dsp_module_load(want[i].name, expect, &again, err, sizeof(err)));
                ASSERT_PTR_EQ(udk_dsp_module_plugin(again), p);
                udk_dsp_module_unload(again);

                ASSERT_PTR_EQ(udk_dsp_module_unload(m), NULL);
        }

        {
                struct udk_dsp_module *m = NULL;
                const struct udk_dsp_plugin *p = plugin_load("meter", &m);
                ASSERT_STR_EQ(p->readouts[0].name, "input_peak");
                ASSERT_STR_EQ(p->readouts[0].unit, "dBFS");
                ASSERT_STR_EQ(p->readouts[1].name, "output_peak");
                ASSERT_STR_EQ(p->readouts[1].unit, "dBFS");
                ASSERT_NOT_NULL(p->read);
                udk_dsp_module_unload(m);
        }
        ASSERT_PTR_EQ(udk_dsp_module_unload(NULL), NULL);
        ASSERT_PTR_EQ(udk_dsp_module_plugin(NULL), NULL);
        ASSERT_PTR_EQ(udk_dsp_module_path(NULL), NULL);
}

static void test_load_missing(void)
{
        struct udk_dsp_module *sentinel = (struct udk_dsp_module *)&sentinel, *m = sentinel;
        char err[512] = "";

        ASSERT_ERROR(udk_dsp_module_load("nosuch", "/nonexistent-a:/nonexistent-b", &m, err, sizeof(err)),
                     ENOENT);
        ASSERT_PTR_EQ(m, sentinel);
        ASSERT_STR_EQ(err, "no DSP plugin \"nosuch\" (udk-dsp-nosuch.so) in /nonexistent-a:/nonexistent-b");

        ASSERT_ERROR(udk_dsp_module_load("nosuch", plugin_path(), &m, err, sizeof(err)), ENOENT);
        ASSERT_STR_CONTAINS(err, plugin_path());

        ASSERT_ERROR(
            udk_dsp_module_load("/nonexistent/udk-dsp-gain.so", plugin_path(), &m, err, sizeof(err)),
            ENOENT);
        ASSERT_STR_EQ(err, "no DSP plugin file /nonexistent/udk-dsp-gain.so");

        ASSERT_ERROR(udk_dsp_module_load("", plugin_path(), &m, err, sizeof(err)), EINVAL);
        ASSERT_ERROR(udk_dsp_module_load(NULL, plugin_path(), &m, err, sizeof(err)), EINVAL);
        ASSERT_PTR_EQ(m, sentinel);
}

static void test_load_not_a_plugin(void)
{
        struct udk_dsp_module *sentinel = (struct udk_dsp_module *)&sentinel, *m = sentinel;
        char dir[] = "/tmp/udk-test-dsp-XXXXXX", path[256], err[1024] = "";
        Dl_info info;
        void *libm;
        FILE *f;

        /* Not an ELF file: dlopen refuses it. */
        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/udk-dsp-bogus.so", dir);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        fputs("not a shared object\n", f);
        fclose(f);
        ASSERT_ERROR(udk_dsp_module_load("bogus", dir, &m, err, sizeof(err)), ENOEXEC);
        ASSERT_STR_CONTAINS(err, path);
        ASSERT_PTR_EQ(m, sentinel);
        unlink(path);
        rmdir(dir);

        /* A shared object without the entry point: libm, found through one of its functions. */
        libm = dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD);
        ASSERT_NOT_NULL(libm);
        ASSERT_TRUE(dladdr(dlsym(libm, "cos"), &info) != 0);
        dlclose(libm);
        ASSERT_NOT_NULL(info.dli_fname);
        ASSERT_TRUE(strchr(info.dli_fname, '/') != NULL);
        ASSERT_ERROR(udk_dsp_module_load(info.dli_fname, NULL, &m, err, sizeof(err)), ENOEXEC);
        ASSERT_STR_CONTAINS(err, info.dli_fname);
        ASSERT_STR_CONTAINS(err, "has no " UDK_DSP_PLUGIN_ENTRY_NAME);
        ASSERT_PTR_EQ(m, sentinel);
}

/* --- descriptor checks --- */

static int dummy_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                      char *err, size_t err_size)
{
        return 0;
}

static int dummy_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                         uint64_t sample_time, uint64_t host_time)
{
        return 0;
}

static int dummy_read(void *instance, uint32_t index, float *values, uint32_t max)
{
        return 0;
}

static const struct udk_dsp_readout dummy_readouts[UDK_DSP_READOUTS_MAX + 1] = {
        { "a", "dB" }, { "b", "dB" }, { "c", "dB" }, { "d", "dB" }, { "e", "dB" },
};

static struct udk_dsp_plugin dummy_plugin(void)
{
        return (struct udk_dsp_plugin){
                .version = UDK_DSP_ABI_VERSION,
                .name = "dummy",
                .instance_size = 16,
                .default_ops = UDK_IO_OPS_INPUT,
                .n_readouts = 1,
                .readouts = dummy_readouts,
                .init = dummy_init,
                .process = dummy_process,
                .read = dummy_read,
        };
}

static void check_rejects(const struct udk_dsp_plugin *p, const char *sentence)
{
        char err[256] = "";

        ASSERT_ERROR(udk_dsp_plugin_check(p, err, sizeof(err)), EPROTO);
        ASSERT_STR_EQ(err, sentence);
}

static void test_plugin_check(void)
{
        struct udk_dsp_plugin p = dummy_plugin();
        char err[256] = "";

        ASSERT_OK(udk_dsp_plugin_check(&p, err, sizeof(err)));
        p.n_readouts = UDK_DSP_READOUTS_MAX;
        ASSERT_OK(udk_dsp_plugin_check(&p, err, sizeof(err)));
        ASSERT_OK(udk_dsp_plugin_check(&p, NULL, 0));

        check_rejects(NULL, "no plugin descriptor");
        p = dummy_plugin(), p.version = 2;
        check_rejects(&p, "plugin version 2, udk speaks 1");
        p = dummy_plugin(), p.reserved = 1;
        check_rejects(&p, "reserved field is 1, must be 0");
        p = dummy_plugin(), p.name = NULL;
        check_rejects(&p, "plugin has no name");
        p = dummy_plugin(), p.process = NULL;
        check_rejects(&p, "plugin dummy has no process function");
        p = dummy_plugin(), p.init = NULL;
        check_rejects(&p, "plugin dummy has no init function");
        p = dummy_plugin(), p.instance_size = 0;
        check_rejects(&p, "plugin dummy has instance_size 0");
        p = dummy_plugin(), p.default_ops = 0;
        check_rejects(&p, "plugin dummy has default_ops 0x0, not a set of UDK_IO_OPS_*");
        p = dummy_plugin(), p.default_ops = UDK_IO_OPS_ALL | 1;
        check_rejects(&p, "plugin dummy has default_ops 0x7, not a set of UDK_IO_OPS_*");
        p = dummy_plugin(), p.n_readouts = UDK_DSP_READOUTS_MAX + 1;
        check_rejects(&p, "plugin dummy has 5 readouts, at most 4");
        p = dummy_plugin(), p.read = NULL;
        check_rejects(&p, "plugin dummy has readouts but no read function");
        p = dummy_plugin(), p.readouts = NULL;
        check_rejects(&p, "plugin dummy has readouts but no readout table");
}

/* --- instances --- */

static int counted_inits, counted_finishes;

static int counted_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                        char *err, size_t err_size)
{
        uint64_t *words = instance;

        /* The instance is zeroed and aligned for anything. */
        ASSERT_UINT_EQ(words[0], 0);
        ASSERT_UINT_EQ((uintptr_t)instance % _Alignof(max_align_t), 0);
        if (strcmp(info->name, "fails") == 0) {
                snprintf(err, err_size, "fails: no such thing");
                return -EIO;
        }
        words[0] = 0x1234;
        words[1] = info->ops;
        counted_inits++;
        return 0;
}

static void counted_finish(void *instance)
{
        uint64_t *words = instance;

        ASSERT_UINT_EQ(words[0], 0x1234);
        counted_finishes++;
}

static void test_instantiate(void)
{
        struct udk_dsp_plugin p = dummy_plugin();
        struct udk_device *dev = device_new();
        struct udk_handler *h = NULL, *h2 = NULL, *sentinel = (struct udk_handler *)&sentinel,
                           *none = sentinel;
        char err[256] = "";
        uint64_t *words;
        float v;

        p.init = counted_init;
        p.finish = counted_finish;
        p.n_readouts = 0;

        ASSERT_OK(udk_dsp_instantiate(&p, dev, "first", 0, &h, err, sizeof(err)));
        ASSERT_UINT_EQ(udk_device_n_handlers(dev), 1);
        ASSERT_STR_EQ(udk_handler_name(h), "first");
        ASSERT_PTR_EQ(udk_handler_tag(h), &p);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(h), &p);
        words = udk_handler_context(h);
        ASSERT_UINT_EQ(words[0], 0x1234);
        ASSERT_UINT_EQ(words[1], UDK_IO_OPS_INPUT); /* the plugin's default_ops */
        ASSERT_ERROR(udk_dsp_handler_read(h, 0, &v, 1), EINVAL);

        /* No name: the plugin's; explicit ops. */
        ASSERT_OK(udk_dsp_instantiate(&p, dev, NULL, UDK_IO_OPS_OUTPUT, &h2, err, sizeof(err)));
        ASSERT_STR_EQ(udk_handler_name(h2), "dummy");
        ASSERT_UINT_EQ(((uint64_t *)udk_handler_context(h2))[1], UDK_IO_OPS_OUTPUT);
        ASSERT_INT_EQ(counted_inits, 2);

        /* Failures leave nothing behind. */
        ASSERT_ERROR(udk_dsp_instantiate(&p, dev, "fails", 0, &none, err, sizeof(err)), EIO);
        ASSERT_STR_EQ(err, "fails: no such thing");
        ASSERT_ERROR(udk_dsp_instantiate(&p, dev, "x", 8, &none, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "x: ops 0x8 is not a set of UDK_IO_OPS_*");
        ASSERT_ERROR(udk_dsp_instantiate(&p, NULL, "x", 0, &none, err, sizeof(err)), EINVAL);
        p.version = 3;
        ASSERT_ERROR(udk_dsp_instantiate(&p, dev, "x", 0, &none, err, sizeof(err)), EPROTO);
        ASSERT_STR_EQ(err, "plugin version 3, udk speaks 1");
        p.version = UDK_DSP_ABI_VERSION;
        ASSERT_PTR_EQ(none, sentinel);
        ASSERT_UINT_EQ(udk_device_n_handlers(dev), 2);
        ASSERT_INT_EQ(counted_inits, 2);

        /*
         * Removed while a cycle's plan holds it: finished only once the RT
         * side handed that plan back (the next cycle) and it was collected.
         */
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        ASSERT_OK(udk_device_remove_handler(dev, h));
        udk_device_collect(dev);
        ASSERT_UINT_EQ(udk_device_n_handlers(dev), 1);
        ASSERT_INT_EQ(counted_finishes, 0);
        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        udk_device_collect(dev);
        ASSERT_INT_EQ(counted_finishes, 1);
        udk_device_destroy(dev);
        ASSERT_INT_EQ(counted_finishes, 2);
}

static int foreign_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                           uint64_t sample_time, uint64_t host_time)
{
        return 0;
}

static void test_handler_recognised(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *meter = plugin_load("meter", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *plain = NULL, *tagged = NULL, *h;
        char small[8] = { 0 };
        float v[2];

        ASSERT_OK(
            udk_device_add_handler(dev, "plain", foreign_process, small, UDK_IO_OPS_ALL, NULL, &plain));
        ASSERT_OK(
            udk_device_add_handler(dev, "tagged", foreign_process, small, UDK_IO_OPS_ALL, NULL, &tagged));
        /* Another framework's tag, even one that is a DSP plugin's descriptor. */
        udk_handler_set_tag(tagged, meter);
        h = instantiate(meter, dev, "meter", 0);

        ASSERT_PTR_EQ(udk_dsp_handler_plugin(plain), NULL);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(tagged), NULL);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(NULL), NULL);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(h), meter);
        ASSERT_ERROR(udk_dsp_handler_read(plain, 0, v, 2), EINVAL);
        ASSERT_ERROR(udk_dsp_handler_read(tagged, 0, v, 2), EINVAL);
        ASSERT_ERROR(udk_dsp_handler_read(NULL, 0, v, 2), EINVAL);
        ASSERT_ERROR(udk_dsp_handler_read(h, 2, v, 2), EINVAL);
        ASSERT_ERROR(udk_dsp_handler_read(h, 0, NULL, 2), EINVAL);
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 2), 2);
        /* Recognised by the tag: a DSP instance re-tagged by someone else is theirs. */
        udk_handler_set_tag(h, small);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(h), NULL);
        ASSERT_ERROR(udk_dsp_handler_read(h, 0, v, 2), EINVAL);
        udk_handler_set_tag(h, meter);
        ASSERT_PTR_EQ(udk_dsp_handler_plugin(h), meter);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

static void test_control_add(void)
{
        static const struct udk_selector_item items[] = { { 1, "one" }, { 2, "two" } };
        static const struct udk_selector_item other_items[] = { { 1, "one" }, { 3, "three" } };
        struct udk_dsp_control_spec level = {
                .param = "level", .kind = UDK_CONTROL_LEVEL, .min = -60.0f, .max = 6.0f, .value = -6.0f,
        };
        struct udk_dsp_control_spec sel = {
                .param = "sel", .kind = UDK_CONTROL_SELECTOR, .items = items, .n_items = 2, .selected = 2,
        };
        struct udk_dsp_control_spec num = {
                .param = "num", .kind = UDK_CONTROL_NUMBER, .min = 1.0f, .max = 10.0f, .value = 5.0f,
        };
        struct udk_dsp_control_spec boolean = { .param = "on", .kind = UDK_CONTROL_BOOLEAN, .on = true };
        struct udk_device *dev = device_new();
        struct udk_control *c = NULL, *again = NULL, *sentinel = (struct udk_control *)&sentinel,
                           *none = sentinel;
        char err[256] = "";
        uint32_t n = udk_device_n_controls(dev);

        ASSERT_OK(udk_dsp_control_add(dev, "x", &level, &c, err, sizeof(err)));
        ASSERT_STR_EQ(c->obj.name, "x.level");
        ASSERT_INT_EQ(c->kind, UDK_CONTROL_LEVEL);
        ASSERT_FLOAT_EQ(udk_control_level_db(c), -6.0f);
        ASSERT_PTR_EQ(udk_device_find_control(dev, "x.level"), c);
        /* Made again: the same control, its value kept. */
        ASSERT_OK(udk_control_level_set_db(c, -20.0f));
        ASSERT_OK(udk_dsp_control_add(dev, "x", &level, &again, err, sizeof(err)));
        ASSERT_PTR_EQ(again, c);
        ASSERT_FLOAT_EQ(udk_control_level_db(c), -20.0f);

        ASSERT_OK(udk_dsp_control_add(dev, "x", &sel, &c, err, sizeof(err)));
        ASSERT_INT_EQ(udk_control_selector_get(c), 2);
        ASSERT_OK(udk_dsp_control_add(dev, "x", &num, &c, err, sizeof(err)));
        ASSERT_FLOAT_EQ(udk_control_number_get(c), 5.0f);
        ASSERT_OK(udk_dsp_control_add(dev, "x", &boolean, &c, err, sizeof(err)));
        ASSERT_TRUE(udk_control_boolean_get(c));
        ASSERT_OK(udk_dsp_control_add(dev, "x", &boolean, &again, err, sizeof(err)));
        ASSERT_PTR_EQ(again, c);
        ASSERT_UINT_EQ(udk_device_n_controls(dev), n + 4);

        /* The name taken by another kind, range or item list. */
        level.param = "on";
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", &level, &none, err, sizeof(err)), EEXIST);
        ASSERT_STR_EQ(err, "control x.on exists as another boolean");
        level.param = "level";
        level.max = 12.0f;
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", &level, &none, err, sizeof(err)), EEXIST);
        ASSERT_STR_EQ(err, "control x.level exists as another range");
        sel.items = other_items;
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", &sel, &none, err, sizeof(err)), EEXIST);
        num.max = 11.0f;
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", &num, &none, err, sizeof(err)), EEXIST);

        /* Too long, bad ranges, bad arguments. */
        ASSERT_ERROR(udk_dsp_control_add(dev,
                                         "an-instance-name-that-is-long-enough-to-overflow-the-object-name",
                                         &boolean, &none, err, sizeof(err)),
                     ENAMETOOLONG);
        ASSERT_STR_CONTAINS(err, "is longer than 63 bytes");
        num.param = "bad";
        num.min = 10.0f;
        num.max = 1.0f;
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", &num, &none, err, sizeof(err)), EINVAL);
        ASSERT_STR_CONTAINS(err, "cannot add control x.bad");
        ASSERT_ERROR(udk_dsp_control_add(dev, NULL, &num, &none, err, sizeof(err)), EINVAL);
        ASSERT_ERROR(udk_dsp_control_add(dev, "x", NULL, &none, err, sizeof(err)), EINVAL);
        ASSERT_PTR_EQ(none, sentinel);
        ASSERT_UINT_EQ(udk_device_n_controls(dev), n + 4);

        udk_device_destroy(dev);
}

/* --- gain --- */

static void test_gain_level(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *gain = plugin_load("gain", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(gain, dev, "gain", 0);
        struct udk_control *level = control(dev, "gain.level");
        const uint32_t ch = 2, n = PERIOD * ch;
        float x[PERIOD * 2], y[PERIOD * 2], g6, g12;

        ASSERT_INT_EQ(level->kind, UDK_CONTROL_LEVEL);
        ASSERT_FLOAT_EQ(level->level.min_db, -96.0f);
        ASSERT_FLOAT_EQ(level->level.max_db, 24.0f);
        ASSERT_FLOAT_EQ(udk_control_level_db(level), 0.0f);
        ASSERT_INT_EQ(control(dev, "gain.mute")->kind, UDK_CONTROL_BOOLEAN);
        ASSERT_FALSE(udk_control_boolean_get(control(dev, "gain.mute")));

        ASSERT_OK(udk_control_level_set_db(level, -6.0f));
        g6 = udk_control_level_gain(level);
        ASSERT_NEAR(g6, pow(10.0, -6.0 / 20.0), 1e-6);

        /* Input at BEGIN_READ; the output ring is not touched. */
        fill(x, PERIOD, ch, 1, 0);
        fill(y, PERIOD, ch, 2, 0);
        memcpy(ring(dev, UDK_DIRECTION_INPUT, 0), x, sizeof(x));
        memcpy(ring(dev, UDK_DIRECTION_OUTPUT, 0), y, sizeof(y));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        for (uint32_t i = 0; i < n; i++) {
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, 0)[i], x[i] * g6);
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_OUTPUT, 0)[i], y[i]);
        }
        /* Output at WRITE_END; the input is not scaled again. */
        ASSERT_OK(run(h, dev, UDK_IO_WRITE_END, PERIOD, 0));
        for (uint32_t i = 0; i < n; i++) {
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, 0)[i], x[i] * g6);
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_OUTPUT, 0)[i], y[i] * g6);
        }

        /* Only the period at the sample time: the next one in the ring is left alone. */
        fill(x, PERIOD, ch, 3, PERIOD);
        memcpy(ring(dev, UDK_DIRECTION_INPUT, PERIOD), x, sizeof(x));
        memcpy(ring(dev, UDK_DIRECTION_INPUT, 2 * PERIOD), x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, PERIOD));
        for (uint32_t i = 0; i < n; i++) {
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, PERIOD)[i], x[i] * g6);
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, 2 * PERIOD)[i], x[i]);
        }

        /* A new level applies from the next call on; what was done stays done. */
        ASSERT_OK(udk_control_level_set_db(level, -12.0f));
        g12 = udk_control_level_gain(level);
        ASSERT_NEAR(g12, pow(10.0, -12.0 / 20.0), 1e-6);
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 2 * PERIOD));
        for (uint32_t i = 0; i < n; i++) {
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, PERIOD)[i], x[i] * g6);
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, 2 * PERIOD)[i], x[i] * g12);
        }

        /* +24 dB, the top. */
        ASSERT_OK(udk_control_level_set_db(level, 24.0f));
        memcpy(ring(dev, UDK_DIRECTION_INPUT, 3 * PERIOD), x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 3 * PERIOD));
        for (uint32_t i = 0; i < n; i++)
                ASSERT_FLOAT_EQ(ring(dev, UDK_DIRECTION_INPUT, 3 * PERIOD)[i],
                                x[i] * udk_control_level_gain(level));
        ASSERT_NEAR(udk_control_level_gain(level), pow(10.0, 24.0 / 20.0), 1e-4);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

static void test_gain_mute(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *gain = plugin_load("gain", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(gain, dev, "g", 0);
        struct udk_control *mute = control(dev, "g.mute"), *level = control(dev, "g.level");
        float x[PERIOD * 2], *in = ring(dev, UDK_DIRECTION_INPUT, 0),
                             *out = ring(dev, UDK_DIRECTION_OUTPUT, 0);

        fill(x, PERIOD, 2, 5, 0);
        x[3] = NAN;
        x[4] = INFINITY;
        x[5] = -INFINITY;

        /* Mute: exact zeros, whatever the level, NaN and infinities included. */
        ASSERT_OK(udk_control_boolean_set(mute, true));
        ASSERT_OK(udk_control_level_set_db(level, -6.0f));
        memcpy(in, x, sizeof(x));
        memcpy(out, x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        ASSERT_OK(run(h, dev, UDK_IO_WRITE_END, PERIOD, 0));
        for (uint32_t i = 0; i < PERIOD * 2; i++) {
                ASSERT_UINT_EQ(udk_float_to_bits(in[i]), 0);
                ASSERT_UINT_EQ(udk_float_to_bits(out[i]), 0);
        }

        /* Unmuted, the level applies again. */
        ASSERT_OK(udk_control_boolean_set(mute, false));
        memcpy(in, x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        ASSERT_FLOAT_EQ(in[0], x[0] * udk_control_level_gain(level));
        ASSERT_TRUE(in[0] != 0.0f);

        /* The bottom of the fader is silence too. */
        ASSERT_OK(udk_control_level_set_db(level, -96.0f));
        ASSERT_FLOAT_EQ(udk_control_level_gain(level), 0.0f);
        memcpy(in, x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        for (uint32_t i = 0; i < PERIOD * 2; i++)
                ASSERT_UINT_EQ(udk_float_to_bits(in[i]), 0);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

static void test_gain_unity(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *gain = plugin_load("gain", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(gain, dev, "g", 0);
        float x[PERIOD * 2], *in = ring(dev, UDK_DIRECTION_INPUT, 0),
                             *out = ring(dev, UDK_DIRECTION_OUTPUT, 0);

        ASSERT_FLOAT_EQ(udk_control_level_gain(control(dev, "g.level")), 1.0f);
        /* A signalling NaN and -0: a multiply by 1 would quieten the one, nothing else changes the other. */
        fill(x, PERIOD, 2, 9, 0);
        x[0] = udk_float_from_bits(0x7f800001u);
        x[1] = -0.0f;
        memcpy(in, x, sizeof(x));
        memcpy(out, x, sizeof(x));
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        ASSERT_OK(run(h, dev, UDK_IO_WRITE_END, PERIOD, 0));
        ASSERT_INT_EQ(memcmp(in, x, sizeof(x)), 0);
        ASSERT_INT_EQ(memcmp(out, x, sizeof(x)), 0);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

struct toggler {
        struct udk_control *level;
        atomic_bool stop;
};

static void *toggle_level(void *arg)
{
        struct toggler *t = arg;

        for (unsigned i = 0; !atomic_load(&t->stop); i++)
                udk_control_level_set_db(t->level, i % 2 ? -6.0f : -12.0f);
        return NULL;
}

/* Whole periods only: a level moving while process runs never splits a period. */
static void test_gain_whole_periods(void)
{
        enum { FRAMES = 4096, CALLS = 300 };
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *gain = plugin_load("gain", &m);
        struct udk_device *dev = device_new_full(RATE, FRAMES);
        struct udk_handler *h = instantiate(gain, dev, "g", 0);
        struct toggler t = { .level = control(dev, "g.level") };
        float g6, g12, *in;
        unsigned seen6 = 0, seen12 = 0;
        pthread_t thread;

        ASSERT_OK(udk_control_level_set_db(t.level, -6.0f));
        g6 = udk_control_level_gain(t.level);
        ASSERT_OK(udk_control_level_set_db(t.level, -12.0f));
        g12 = udk_control_level_gain(t.level);
        ASSERT_INT_EQ(pthread_create(&thread, NULL, toggle_level, &t), 0);
        for (unsigned c = 0; c < CALLS; c++) {
                in = ring(dev, UDK_DIRECTION_INPUT, (uint64_t)c * FRAMES);
                for (uint32_t i = 0; i < FRAMES * 2; i++)
                        in[i] = 1.0f;
                ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, FRAMES, (uint64_t)c * FRAMES));
                ASSERT_TRUE(in[0] == g6 || in[0] == g12);
                seen6 += in[0] == g6;
                seen12 += in[0] == g12;
                for (uint32_t i = 1; i < FRAMES * 2; i++)
                        if (in[i] != in[0])
                                udk_test_fail("call %u: sample %u is %.9g, sample 0 %.9g", c, i, in[i],
                                              in[0]);
        }
        atomic_store(&t.stop, true);
        pthread_join(thread, NULL);
        ASSERT_UINT_EQ(seen6 + seen12, CALLS);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* --- biquad: a Direct Form I reference in double, from the cookbook --- */

enum { LOWPASS = 0, HIGHPASS, LOWSHELF, HIGHSHELF, PEAK };

struct ref_biquad {
        double b0, b1, b2, a0, a1, a2;
        double x1, x2, y1, y2;
};

static struct ref_biquad ref_design(int type, double rate, double f0, double q, double db)
{
        double w0 = 2.0 * M_PI * f0 / rate;
        double A = pow(10.0, db / 40.0), alpha = sin(w0) / (2.0 * q), c = cos(w0);
        struct ref_biquad r = { 0 };

        switch (type) {
        case LOWPASS:
                r.b0 = (1 - c) / 2, r.b1 = 1 - c, r.b2 = (1 - c) / 2;
                r.a0 = 1 + alpha, r.a1 = -2 * c, r.a2 = 1 - alpha;
                break;
        case HIGHPASS:
                r.b0 = (1 + c) / 2, r.b1 = -(1 + c), r.b2 = (1 + c) / 2;
                r.a0 = 1 + alpha, r.a1 = -2 * c, r.a2 = 1 - alpha;
                break;
        case LOWSHELF:
                r.b0 = A * ((A + 1) - (A - 1) * c + 2 * sqrt(A) * alpha);
                r.b1 = 2 * A * ((A - 1) - (A + 1) * c);
                r.b2 = A * ((A + 1) - (A - 1) * c - 2 * sqrt(A) * alpha);
                r.a0 = (A + 1) + (A - 1) * c + 2 * sqrt(A) * alpha;
                r.a1 = -2 * ((A - 1) + (A + 1) * c);
                r.a2 = (A + 1) + (A - 1) * c - 2 * sqrt(A) * alpha;
                break;
        case HIGHSHELF:
                r.b0 = A * ((A + 1) + (A - 1) * c + 2 * sqrt(A) * alpha);
                r.b1 = -2 * A * ((A - 1) + (A + 1) * c);
                r.b2 = A * ((A + 1) + (A - 1) * c - 2 * sqrt(A) * alpha);
                r.a0 = (A + 1) - (A - 1) * c + 2 * sqrt(A) * alpha;
                r.a1 = 2 * ((A - 1) - (A + 1) * c);
                r.a2 = (A + 1) - (A - 1) * c - 2 * sqrt(A) * alpha;
                break;
        case PEAK:
                r.b0 = 1 + alpha * A, r.b1 = -2 * c, r.b2 = 1 - alpha * A;
                r.a0 = 1 + alpha / A, r.a1 = -2 * c, r.a2 = 1 - alpha / A;
                break;
        }
        return r;
}

static double ref_run(struct ref_biquad *r, double x)
{
        double y = (r->b0 * x + r->b1 * r->x1 + r->b2 * r->x2 - r->a1 * r->y1 - r->a2 * r->y2) / r->a0;

        r->x2 = r->x1, r->x1 = x;
        r->y2 = r->y1, r->y1 = y;
        return y;
}

/* |H(e^jw)| in dB at @f. */
static double ref_magnitude_db(const struct ref_biquad *r, double rate, double f)
{
        double w = 2.0 * M_PI * f / rate;
        double nr = r->b0 + r->b1 * cos(w) + r->b2 * cos(2 * w), ni = -r->b1 * sin(w) - r->b2 * sin(2 * w);
        double dr = r->a0 + r->a1 * cos(w) + r->a2 * cos(2 * w), di = -r->a1 * sin(w) - r->a2 * sin(2 * w);

        return 10.0 * log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

struct eq_params {
        int type;
        float frequency, q, db;
};

/* Set the instance's controls after it was made, so the RT path must notice and recompute. */
static void eq_set(struct udk_device *dev, const char *name, const struct eq_params *p)
{
        char c[UDK_OBJECT_NAME_MAX];

        snprintf(c, sizeof(c), "%s.type", name);
        ASSERT_OK(udk_control_selector_set(control(dev, c), p->type));
        snprintf(c, sizeof(c), "%s.frequency", name);
        ASSERT_OK(udk_control_number_set(control(dev, c), p->frequency));
        snprintf(c, sizeof(c), "%s.q", name);
        ASSERT_OK(udk_control_number_set(control(dev, c), p->q));
        snprintf(c, sizeof(c), "%s.gain", name);
        ASSERT_OK(udk_control_level_set_db(control(dev, c), p->db));
}

/*
 * Run 4800 frames through @h on both streams (different signals, one state
 * each) and compare every sample with the reference.  Returns the largest
 * difference.
 */
static double eq_compare(struct udk_device *dev, struct udk_handler *h, const struct eq_params *p,
                         uint32_t rate, uint64_t t0)
{
        struct ref_biquad ref[2][2];
        double worst = 0.0;

        for (int d = 0; d < 2; d++)
                for (int c = 0; c < 2; c++)
                        ref[d][c] = ref_design(p->type, rate, fmin(p->frequency, 0.45 * rate), p->q, p->db);

        for (uint64_t t = t0; t < t0 + 4800; t += PERIOD) {
                float x[2][PERIOD * 2];
                fill(x[0], PERIOD, 2, 11, t);
                fill(x[1], PERIOD, 2, 12, t);
                memcpy(ring(dev, UDK_DIRECTION_INPUT, t), x[0], sizeof(x[0]));
                memcpy(ring(dev, UDK_DIRECTION_OUTPUT, t), x[1], sizeof(x[1]));
                ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, t));
                ASSERT_OK(run(h, dev, UDK_IO_WRITE_END, PERIOD, t));
                for (int d = 0; d < 2; d++) {
                        const float *y = ring(dev, d ? UDK_DIRECTION_OUTPUT : UDK_DIRECTION_INPUT, t);
                        for (uint32_t i = 0; i < PERIOD * 2; i++) {
                                double want = ref_run(&ref[d][i % 2], x[d][i]);
                                worst = fmax(worst, fabs(y[i] - want));
                        }
                }
        }
        return worst;
}

static void test_biquad_reference(void)
{
        static const struct eq_params cases[] = {
                { LOWPASS, 1000.0f, 0.7071f, 0.0f },   { LOWPASS, 150.0f, 4.0f, 0.0f },
                { HIGHPASS, 1000.0f, 0.7071f, 0.0f },  { HIGHPASS, 5000.0f, 0.5f, 0.0f },
                { LOWSHELF, 300.0f, 0.7071f, 9.0f },   { LOWSHELF, 300.0f, 1.0f, -12.0f },
                { HIGHSHELF, 4000.0f, 0.7071f, 6.0f }, { HIGHSHELF, 8000.0f, 2.0f, -24.0f },
                { PEAK, 1000.0f, 1.0f, 6.0f },         { PEAK, 60.0f, 10.0f, -18.0f },
                { PEAK, 20000.0f, 0.1f, 24.0f },
        };
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new();

        for (size_t i = 0; i < UDK_ELEMENTSOF(cases); i++) {
                char name[32];
                struct udk_handler *h;
                double worst;

                snprintf(name, sizeof(name), "eq%zu", i);
                h = instantiate(biquad, dev, name, 0);
                eq_set(dev, name, &cases[i]);
                worst = eq_compare(dev, h, &cases[i], RATE, 0);
                if (!(worst < 1e-6))
                        udk_test_fail("case %zu (type %d, %g Hz, Q %g, %g dB): max difference %.3g", i,
                                      cases[i].type, cases[i].frequency, cases[i].q, cases[i].db, worst);
                ASSERT_OK(udk_device_remove_handler(dev, h));
        }
        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

static void test_biquad_controls(void)
{
        static const char *const types[] = { "lowpass", "highpass", "lowshelf", "highshelf", "peak" };
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(biquad, dev, "eq", 0);
        struct udk_control *type = control(dev, "eq.type"), *freq = control(dev, "eq.frequency");
        struct udk_control *q = control(dev, "eq.q"), *gain = control(dev, "eq.gain");
        struct eq_params defaults = { PEAK, 1000.0f, 0.7071f, 0.0f };
        struct eq_params p = { PEAK, 1000.0f, 1.0f, 6.0f };

        ASSERT_INT_EQ(type->kind, UDK_CONTROL_SELECTOR);
        ASSERT_UINT_EQ(type->selector.n_items, 5);
        for (int i = 0; i < 5; i++) {
                ASSERT_INT_EQ(type->selector.items[i].value, i);
                ASSERT_STR_EQ(type->selector.items[i].name, types[i]);
        }
        ASSERT_INT_EQ(udk_control_selector_get(type), PEAK);
        ASSERT_INT_EQ(freq->kind, UDK_CONTROL_NUMBER);
        ASSERT_FLOAT_EQ(freq->number.min, 20.0f);
        ASSERT_FLOAT_EQ(freq->number.max, 20000.0f);
        ASSERT_FLOAT_EQ(udk_control_number_get(freq), 1000.0f);
        ASSERT_INT_EQ(q->kind, UDK_CONTROL_NUMBER);
        ASSERT_FLOAT_EQ(q->number.min, 0.1f);
        ASSERT_FLOAT_EQ(q->number.max, 20.0f);
        ASSERT_FLOAT_EQ(udk_control_number_get(q), 0.7071f);
        ASSERT_INT_EQ(gain->kind, UDK_CONTROL_LEVEL);
        ASSERT_FLOAT_EQ(gain->level.min_db, -24.0f);
        ASSERT_FLOAT_EQ(gain->level.max_db, 24.0f);
        ASSERT_FLOAT_EQ(udk_control_level_db(gain), 0.0f);

        /* The defaults: a peak of 0 dB passes the signal (within the float rounding). */
        ASSERT_TRUE(eq_compare(dev, h, &defaults, RATE, 0) < 1e-6);

        /* Set after init: the RT side sees the new generations and designs again. */
        eq_set(dev, "eq", &p);
        ASSERT_TRUE(eq_compare(dev, h, &p, RATE, 4800) < 1e-6);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* The generation check on its own: a value stored without a new generation is not seen. */
static void test_biquad_generation(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(biquad, dev, "eq", 0);
        struct udk_control *freq = control(dev, "eq.frequency");
        struct eq_params at1k = { PEAK, 1000.0f, 1.0f, 12.0f }, at3k = { PEAK, 3000.0f, 1.0f, 12.0f };

        eq_set(dev, "eq", &at1k);
        ASSERT_TRUE(eq_compare(dev, h, &at1k, RATE, 0) < 1e-6);
        ASSERT_OK(udk_device_remove_handler(dev, h));

        /* A fresh instance on the same controls designs from their values at init. */
        h = instantiate(biquad, dev, "eq", 0);
        atomic_store(&freq->number.value, 3000.0f); /* behind the generation's back */
        ASSERT_TRUE(eq_compare(dev, h, &at1k, RATE, 0) < 1e-6);
        ASSERT_OK(udk_device_remove_handler(dev, h));

        h = instantiate(biquad, dev, "eq", 0); /* designs for 3 kHz */
        ASSERT_TRUE(eq_compare(dev, h, &at3k, RATE, 0) < 1e-6);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* Above 0.45 of the rate the frequency is held there. */
static void test_biquad_clamp(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new_full(44100, PERIOD);
        struct udk_handler *h = instantiate(biquad, dev, "eq", 0);
        struct eq_params p = { LOWPASS, 20000.0f, 0.7071f, 0.0f };
        struct ref_biquad held = ref_design(LOWPASS, 44100, 0.45 * 44100, 0.7071, 0.0);
        struct ref_biquad raw = ref_design(LOWPASS, 44100, 20000.0, 0.7071, 0.0);

        /* The hold matters: 20 kHz itself would be another filter (eq_compare's reference holds it). */
        ASSERT_TRUE(fabs(held.b0 / held.a0 - raw.b0 / raw.a0) > 1e-3);
        eq_set(dev, "eq", &p);
        ASSERT_TRUE(eq_compare(dev, h, &p, 44100, 0) < 1e-6);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* RMS gain in dB of a sine at @f through a fresh peak filter, after it settled. */
static double peak_response_db(struct udk_device *dev, const struct udk_dsp_plugin *biquad, const char *name,
                               double f)
{
        struct udk_handler *h = instantiate(biquad, dev, name, UDK_IO_OPS_INPUT);
        double in2 = 0.0, out2 = 0.0;

        eq_set(dev, name, &(struct eq_params){ PEAK, 1000.0f, 1.0f, 6.0f });
        /* 9600 frames; measure the last 4800, a whole number of cycles at 100 Hz and 1 kHz. */
        for (uint64_t t = 0; t < 9600; t += PERIOD) {
                float *p = ring(dev, UDK_DIRECTION_INPUT, t);
                double x[PERIOD];
                for (uint32_t i = 0; i < PERIOD; i++) {
                        x[i] = 0.5 * sin(2.0 * M_PI * f * (double)(t + i) / RATE);
                        p[2 * i] = p[2 * i + 1] = (float)x[i];
                }
                ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, t));
                if (t < 4800)
                        continue;
                for (uint32_t i = 0; i < PERIOD; i++) {
                        in2 += x[i] * x[i];
                        out2 += (double)p[2 * i] * p[2 * i];
                        ASSERT_FLOAT_EQ(p[2 * i], p[2 * i + 1]);
                }
        }
        ASSERT_OK(udk_device_remove_handler(dev, h));
        return 10.0 * log10(out2 / in2);
}

static void test_biquad_peak_response(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new();
        struct ref_biquad r = ref_design(PEAK, RATE, 1000.0, 1.0, 6.0);
        double at1k = peak_response_db(dev, biquad, "p1", 1000.0);
        double at100 = peak_response_db(dev, biquad, "p2", 100.0);

        ASSERT_NEAR(at1k, 6.0, 0.05);
        ASSERT_NEAR(ref_magnitude_db(&r, RATE, 1000.0), 6.0, 1e-9);
        ASSERT_NEAR(at100, ref_magnitude_db(&r, RATE, 100.0), 0.3);
        /* 100 Hz is well below the bell: lifted a little, not by the full 6 dB. */
        ASSERT_TRUE(at100 > 0.05 && at100 < 1.0);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* A NaN in the input does not poison the state for the periods after it. */
static void test_biquad_recovers(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *biquad = plugin_load("biquad", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(biquad, dev, "eq", 0);
        float *p = ring(dev, UDK_DIRECTION_INPUT, 0);

        eq_set(dev, "eq", &(struct eq_params){ LOWPASS, 1000.0f, 0.7071f, 0.0f });
        for (uint32_t i = 0; i < PERIOD * 2; i++)
                p[i] = 0.25f;
        p[10] = NAN;
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        ASSERT_TRUE(isnan(p[PERIOD * 2 - 2])); /* channel 0 is NaN from the NaN on */
        ASSERT_FALSE(isnan(p[PERIOD * 2 - 1])); /* channel 1 has its own state */
        p = ring(dev, UDK_DIRECTION_INPUT, PERIOD);
        for (uint32_t i = 0; i < PERIOD * 2; i++)
                p[i] = 0.0f;
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, PERIOD));
        ASSERT_FLOAT_EQ(p[0], 0.0f);
        ASSERT_FLOAT_EQ(p[PERIOD * 2 - 2], 0.0f);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* --- meter --- */

static void test_meter(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *meter = plugin_load("meter", &m);
        struct udk_device *dev = device_new();
        struct udk_handler *h = instantiate(meter, dev, "meter", 0);
        float *in = ring(dev, UDK_DIRECTION_INPUT, 0), *out = ring(dev, UDK_DIRECTION_OUTPUT, 0);
        float v[4] = { 1, 1, 1, 1 };

        memset(in, 0, PERIOD * 2 * sizeof(float));
        memset(out, 0, PERIOD * 2 * sizeof(float));
        in[2 * 10] = 0.25f;
        in[2 * 11] = -0.5f; /* the peak is of the magnitude */
        in[2 * 12 + 1] = 0.125f;
        in[2 * 13 + 1] = NAN; /* left out */
        out[2 * 63] = 1.0f;
        ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, 0));
        /* Metering does not change the samples. */
        ASSERT_FLOAT_EQ(in[2 * 11], -0.5f);

        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], (float)(20.0 * log10(0.5)));
        ASSERT_NEAR(v[0], -6.0206, 1e-4);
        ASSERT_FLOAT_EQ(v[1], (float)(20.0 * log10(0.125)));
        ASSERT_FLOAT_EQ(v[2], 1.0f); /* past the channels: untouched */
        /* The output was not run yet: silence. */
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 1, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], -144.0f);
        ASSERT_FLOAT_EQ(v[1], -144.0f);

        ASSERT_OK(run(h, dev, UDK_IO_WRITE_END, PERIOD, 0));
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 1, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], 0.0f);
        ASSERT_FLOAT_EQ(v[1], -144.0f);
        /* Read and reset: the input was taken before the output ran. */
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], -144.0f);
        ASSERT_FLOAT_EQ(v[1], -144.0f);
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 1, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], -144.0f);

        /* The peak over several periods since the last read; at most @max values. */
        for (uint64_t t = 0; t < 3 * PERIOD; t += PERIOD) {
                float *p = ring(dev, UDK_DIRECTION_INPUT, t);
                memset(p, 0, PERIOD * 2 * sizeof(float));
                p[4] = t == PERIOD ? 0.75f : 0.3f;
                p[5] = 1e-9f; /* below -144 dBFS: reads as the floor */
                ASSERT_OK(run(h, dev, UDK_IO_BEGIN_READ, PERIOD, t));
        }
        v[1] = 7.0f;
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 1), 1);
        ASSERT_FLOAT_EQ(v[0], (float)(20.0 * log10((double)0.75f)));
        ASSERT_FLOAT_EQ(v[1], 7.0f);
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 4), 2);
        ASSERT_FLOAT_EQ(v[0], -144.0f); /* taken by the read before */
        ASSERT_FLOAT_EQ(v[1], -144.0f);
        ASSERT_INT_EQ(udk_dsp_handler_read(h, 0, v, 0), 0);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

/* --- a real cycle --- */

struct probe {
        struct udk_device *dev;
        bool writes; /* puts known samples in; otherwise copies them out */
        uint32_t calls;
        uint64_t sample_time;
        uint32_t frames;
        float in[PERIOD * 2], out[PERIOD * 2];
};

static int probe_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                         uint64_t sample_time, uint64_t host_time)
{
        struct probe *p = ctx;
        enum udk_direction dir = op == UDK_IO_BEGIN_READ ? UDK_DIRECTION_INPUT : UDK_DIRECTION_OUTPUT;
        float *ring_p = udk_stream_frames(udk_device_stream(p->dev, dir), sample_time);
        float *mine = dir == UDK_DIRECTION_INPUT ? p->in : p->out;

        if (device != udk_device_id(p->dev) || frames != PERIOD)
                return -EINVAL;
        p->calls++;
        p->sample_time = sample_time;
        p->frames = frames;
        if (p->writes && dir == UDK_DIRECTION_OUTPUT)
                fill(ring_p, frames, 2, 21, sample_time);
        memcpy(mine, ring_p, sizeof(p->in));
        return 0;
}

static void test_cycle_gain(void)
{
        struct udk_dsp_module *m = NULL;
        const struct udk_dsp_plugin *gain = plugin_load("gain", &m);
        struct udk_device *dev = device_new();
        struct probe before = { .dev = dev, .writes = true }, after = { .dev = dev };
        struct udk_control *level;
        float g;

        /* The virtual backend's default input is a sine; probes around the gain see both sides. */
        ASSERT_OK(udk_device_add_handler(dev, "before", probe_process, &before, UDK_IO_OPS_ALL, NULL, NULL));
        instantiate(gain, dev, "gain", 0);
        ASSERT_OK(udk_device_add_handler(dev, "after", probe_process, &after, UDK_IO_OPS_ALL, NULL, NULL));
        level = control(dev, "gain.level");
        ASSERT_OK(udk_control_level_set_db(level, -6.0f));
        g = udk_control_level_gain(level);

        for (uint64_t c = 0; c < 3; c++) {
                bool nonzero = false;

                ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
                ASSERT_UINT_EQ(before.calls, 2 * (c + 1));
                ASSERT_UINT_EQ(after.calls, 2 * (c + 1));
                ASSERT_UINT_EQ(after.sample_time, c * PERIOD);
                ASSERT_UINT_EQ(after.frames, PERIOD);
                for (uint32_t i = 0; i < PERIOD * 2; i++) {
                        ASSERT_FLOAT_EQ(after.in[i], before.in[i] * g);
                        ASSERT_FLOAT_EQ(after.out[i], before.out[i] * g);
                        ASSERT_FLOAT_EQ(before.out[i], signal_at(21 + 7 * (i % 2), c * PERIOD + i / 2));
                        nonzero |= before.in[i] != 0.0f;
                }
                ASSERT_TRUE(nonzero);
                /* What the cycle left in the input ring is the scaled signal. */
                ASSERT_INT_EQ(memcmp(ring(dev, UDK_DIRECTION_INPUT, c * PERIOD), after.in, sizeof(after.in)),
                              0);
        }
        ASSERT_UINT_EQ(udk_device_stats(dev)->handler_errors, 0);

        udk_device_destroy(dev);
        udk_dsp_module_unload(m);
}

UDK_TEST_MAIN(test_load_plugins, test_load_missing, test_load_not_a_plugin, test_plugin_check,
              test_instantiate, test_handler_recognised, test_control_add, test_gain_level, test_gain_mute,
              test_gain_unity, test_gain_whole_periods, test_biquad_reference, test_biquad_controls,
              test_biquad_generation, test_biquad_clamp, test_biquad_peak_response, test_biquad_recovers,
              test_meter, test_cycle_gain)
