/* SPDX-License-Identifier: MIT */
/*
 * DSP plugins: loading (dlopen from a search path), checking descriptors,
 * and making instances that run as the device's IO handlers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "udk-build-config.h"

#include <udk/dsp.h>
#include <udk/util.h>

struct udk_dsp_module {
        void *dl;
        const struct udk_dsp_plugin *plugin;
        char path[PATH_MAX];
};

/*
 * One instance: the plugin and the plugin's own instance_size bytes, which
 * are the handler's context.  Live instances are listed so that a handler
 * can be recognised without reading a context dsp.c did not make.
 */
struct dsp_instance {
        const struct udk_dsp_plugin *plugin;
        struct dsp_instance *prev, *next;
        max_align_t data[];
};

static pthread_mutex_t instances_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dsp_instance *instances;

UDK_PRINTF(3, 4) static void dsp_err(char *err, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (!err || size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
}

int udk_dsp_plugin_check(const struct udk_dsp_plugin *plugin, char *err, size_t err_size)
{
        if (!plugin) {
                dsp_err(err, err_size, "no plugin descriptor");
                return -EPROTO;
        }
        if (plugin->version != UDK_DSP_ABI_VERSION) {
                dsp_err(err, err_size, "plugin version %" PRIu32 ", udk speaks %d", plugin->version,
                        UDK_DSP_ABI_VERSION);
                return -EPROTO;
        }
        if (plugin->reserved != 0) {
                dsp_err(err, err_size, "reserved field is %" PRIu32 ", must be 0", plugin->reserved);
                return -EPROTO;
        }
        if (!plugin->name || !plugin->name[0]) {
                dsp_err(err, err_size, "plugin has no name");
                return -EPROTO;
        }
        if (!plugin->init || !plugin->process) {
                dsp_err(err, err_size, "plugin %s has no %s function", plugin->name,
                        plugin->init ? "process" : "init");
                return -EPROTO;
        }
        if (plugin->instance_size == 0) {
                dsp_err(err, err_size, "plugin %s has instance_size 0", plugin->name);
                return -EPROTO;
        }
        if (plugin->default_ops == 0 || (plugin->default_ops & ~UDK_IO_OPS_ALL)) {
                dsp_err(err, err_size, "plugin %s has default_ops 0x%" PRIx32 ", not a set of UDK_IO_OPS_*",
                        plugin->name, plugin->default_ops);
                return -EPROTO;
        }
        if (plugin->n_readouts > UDK_DSP_READOUTS_MAX) {
                dsp_err(err, err_size, "plugin %s has %" PRIu32 " readouts, at most %d", plugin->name,
                        plugin->n_readouts, UDK_DSP_READOUTS_MAX);
                return -EPROTO;
        }
        if (plugin->n_readouts > 0 && (!plugin->readouts || !plugin->read)) {
                dsp_err(err, err_size, "plugin %s has readouts but no %s", plugin->name,
                        plugin->readouts ? "read function" : "readout table");
                return -EPROTO;
        }
        for (uint32_t i = 0; i < plugin->n_readouts; i++)
                if (!plugin->readouts[i].name || !plugin->readouts[i].unit) {
                        dsp_err(err, err_size, "plugin %s readout %" PRIu32 " has no %s", plugin->name, i,
                                plugin->readouts[i].name ? "unit" : "name");
                        return -EPROTO;
                }
        return 0;
}

static bool file_exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Find "udk-dsp-<name>.so" in the folders of @search_path, first match wins. */
static int module_find(const char *name, const char *search_path, char *path, size_t size, char *err,
                       size_t err_size)
{
        const char *p = search_path;

        while (*p) {
                size_t len = strcspn(p, ":");
                if (len > 0) {
                        int n = snprintf(path, size, "%.*s/udk-dsp-%s.so", (int)len, p, name);
                        if (n > 0 && (size_t)n < size && file_exists(path))
                                return 0;
                }
                p += len;
                if (*p == ':')
                        p++;
        }
        dsp_err(err, err_size, "no DSP plugin \"%s\" (udk-dsp-%s.so) in %s", name, name,
                search_path[0] ? search_path : "an empty search path");
        return -ENOENT;
}

int udk_dsp_module_load(const char *name, const char *search_path, struct udk_dsp_module **ret, char *err,
                        size_t err_size)
{
        _udk_cleanup_free_ struct udk_dsp_module *m = NULL;
        udk_dsp_plugin_entry_fn entry;
        char why[256];
        int r;

        if (!name || !name[0]) {
                dsp_err(err, err_size, "no DSP plugin name");
                return -EINVAL;
        }
        if (!ret) {
                dsp_err(err, err_size, "nowhere to put DSP plugin %s", name);
                return -EINVAL;
        }
        if (!search_path)
                search_path = UDK_PLUGIN_DIR;

        m = calloc(1, sizeof(*m));
        if (!m) {
                dsp_err(err, err_size, "out of memory loading DSP plugin %s", name);
                return -ENOMEM;
        }
        if (strchr(name, '/')) {
                if (udk_strlcpy(m->path, name, sizeof(m->path)) < 0) {
                        dsp_err(err, err_size, "DSP plugin path too long: %.64s...", name);
                        return -ENAMETOOLONG;
                }
                if (!file_exists(m->path)) {
                        dsp_err(err, err_size, "no DSP plugin file %s", m->path);
                        return -ENOENT;
                }
        } else {
                r = module_find(name, search_path, m->path, sizeof(m->path), err, err_size);
                if (r < 0)
                        return r;
        }

        m->dl = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
        if (!m->dl) {
                const char *e = dlerror();
                dsp_err(err, err_size, "cannot load DSP plugin %s: %s", m->path, e ? e : "dlopen failed");
                return -ENOEXEC;
        }
        /* dlsym hands back a data pointer; POSIX guarantees it converts to a function pointer. */
        *(void **)&entry = dlsym(m->dl, UDK_DSP_PLUGIN_ENTRY_NAME);
        if (!entry) {
                dsp_err(err, err_size, "%s has no %s", m->path, UDK_DSP_PLUGIN_ENTRY_NAME);
                dlclose(m->dl);
                return -ENOEXEC;
        }
        m->plugin = entry();
        r = udk_dsp_plugin_check(m->plugin, why, sizeof(why));
        if (r < 0) {
                dsp_err(err, err_size, "%s: %s", m->path, why);
                dlclose(m->dl);
                return r;
        }
        *ret = UDK_TAKE_PTR(m);
        return 0;
}

const struct udk_dsp_plugin *udk_dsp_module_plugin(const struct udk_dsp_module *module)
{
        return module ? module->plugin : NULL;
}

const char *udk_dsp_module_path(const struct udk_dsp_module *module)
{
        return module ? module->path : NULL;
}

struct udk_dsp_module *udk_dsp_module_unload(struct udk_dsp_module *module)
{
        if (!module)
                return NULL;
        dlclose(module->dl);
        free(module);
        return NULL;
}

static struct dsp_instance *instance_of(void *ctx)
{
        return (struct dsp_instance *)((char *)ctx - offsetof(struct dsp_instance, data));
}

static void instance_link(struct dsp_instance *inst)
{
        pthread_mutex_lock(&instances_lock);
        inst->next = instances;
        if (instances)
                instances->prev = inst;
        instances = inst;
        pthread_mutex_unlock(&instances_lock);
}

static void instance_unlink(struct dsp_instance *inst)
{
        pthread_mutex_lock(&instances_lock);
        if (inst->prev)
                inst->prev->next = inst->next;
        else
                instances = inst->next;
        if (inst->next)
                inst->next->prev = inst->prev;
        pthread_mutex_unlock(&instances_lock);
}

/* The live instance whose context is @ctx, NULL for a context dsp.c did not make. */
static struct dsp_instance *instance_find(const void *ctx)
{
        struct dsp_instance *inst;

        pthread_mutex_lock(&instances_lock);
        for (inst = instances; inst; inst = inst->next)
                if ((const void *)inst->data == ctx)
                        break;
        pthread_mutex_unlock(&instances_lock);
        return inst;
}

/* The handler's destroy: the device calls it on the control thread once the RT thread let go. */
static void instance_destroy(void *ctx)
{
        struct dsp_instance *inst = instance_of(ctx);

        instance_unlink(inst);
        if (inst->plugin->finish)
                inst->plugin->finish(inst->data);
        free(inst);
}

int udk_dsp_instantiate(const struct udk_dsp_plugin *plugin, struct udk_device *dev,
                        const char *instance_name, uint32_t ops, struct udk_handler **ret, char *err,
                        size_t err_size)
{
        struct udk_dsp_instance_info info;
        struct dsp_instance *inst;
        struct udk_handler *h = NULL;
        int r;

        if (!dev) {
                dsp_err(err, err_size, "no device for a DSP instance");
                return -EINVAL;
        }
        r = udk_dsp_plugin_check(plugin, err, err_size);
        if (r < 0)
                return r;
        if (!instance_name || !instance_name[0])
                instance_name = plugin->name;
        if (ops == 0)
                ops = plugin->default_ops;
        if (ops & ~UDK_IO_OPS_ALL) {
                dsp_err(err, err_size, "%s: ops 0x%" PRIx32 " is not a set of UDK_IO_OPS_*", instance_name,
                        ops);
                return -EINVAL;
        }
        if (plugin->instance_size > SIZE_MAX - sizeof(*inst)) {
                dsp_err(err, err_size, "%s: instance_size too large", instance_name);
                return -ENOMEM;
        }

        inst = calloc(1, sizeof(*inst) + plugin->instance_size);
        if (!inst) {
                dsp_err(err, err_size, "%s: out of memory", instance_name);
                return -ENOMEM;
        }
        inst->plugin = plugin;
        info = (struct udk_dsp_instance_info){ .name = instance_name, .ops = ops };
        if (err && err_size)
                err[0] = '\0';
        r = plugin->init(inst->data, dev, &info, err, err_size);
        if (r < 0) {
                if (err && err_size && !err[0])
                        dsp_err(err, err_size, "%s: init failed: %s", instance_name, strerror(-r));
                free(inst);
                return r;
        }

        r = udk_device_add_handler(dev, instance_name, plugin->process, inst->data, ops, instance_destroy,
                                   &h);
        if (r < 0) {
                dsp_err(err, err_size, "%s: cannot add handler: %s", instance_name, strerror(-r));
                if (plugin->finish)
                        plugin->finish(inst->data);
                free(inst);
                return r;
        }
        /* Linked only now: before this point no handler can name it. */
        instance_link(inst);
        udk_handler_set_tag(h, plugin);
        if (ret)
                *ret = h;
        return 0;
}

/* The instance behind @handler: tagged by dsp.c and its context one of ours. */
static struct dsp_instance *handler_instance(struct udk_handler *handler)
{
        struct dsp_instance *inst;

        if (!handler || !udk_handler_tag(handler))
                return NULL;
        inst = instance_find(udk_handler_context(handler));
        if (!inst || inst->plugin != udk_handler_tag(handler))
                return NULL;
        return inst;
}

int udk_dsp_handler_read(struct udk_handler *handler, uint32_t index, float *values, uint32_t max)
{
        struct dsp_instance *inst = handler_instance(handler);

        if (!inst || index >= inst->plugin->n_readouts || (!values && max > 0))
                return -EINVAL;
        return inst->plugin->read(inst->data, index, values, max);
}

const struct udk_dsp_plugin *udk_dsp_handler_plugin(struct udk_handler *handler)
{
        struct dsp_instance *inst = handler_instance(handler);

        return inst ? inst->plugin : NULL;
}

/* Does the existing control @c match what @spec would make? */
static bool control_matches(const struct udk_control *c, const struct udk_dsp_control_spec *spec)
{
        if (c->kind != spec->kind)
                return false;
        switch (spec->kind) {
        case UDK_CONTROL_LEVEL:
                return c->level.min_db == spec->min && c->level.max_db == spec->max;
        case UDK_CONTROL_NUMBER:
                return c->number.min == spec->min && c->number.max == spec->max;
        case UDK_CONTROL_BOOLEAN:
                return true;
        case UDK_CONTROL_SELECTOR:
                if (c->selector.n_items != spec->n_items)
                        return false;
                for (uint32_t i = 0; i < spec->n_items; i++)
                        if (c->selector.items[i].value != spec->items[i].value ||
                            strcmp(c->selector.items[i].name, spec->items[i].name) != 0)
                                return false;
                return true;
        }
        return false;
}

int udk_dsp_control_add(struct udk_device *dev, const char *instance,
                        const struct udk_dsp_control_spec *spec, struct udk_control **ret, char *err,
                        size_t err_size)
{
        char name[UDK_OBJECT_NAME_MAX];
        struct udk_control *c;
        int n, r = -EINVAL;

        if (!dev || !instance || !spec || !spec->param || !ret) {
                dsp_err(err, err_size, "DSP control without device, instance or name");
                return -EINVAL;
        }
        n = snprintf(name, sizeof(name), "%s.%s", instance, spec->param);
        if (n < 0 || (size_t)n >= sizeof(name)) {
                dsp_err(err, err_size, "control name %s.%s is longer than %d bytes", instance, spec->param,
                        UDK_OBJECT_NAME_MAX - 1);
                return -ENAMETOOLONG;
        }

        c = udk_device_find_control(dev, name);
        if (c) {
                if (!control_matches(c, spec)) {
                        dsp_err(err, err_size, "control %s exists as another %s", name,
                                c->kind == spec->kind ? "range" : udk_control_kind_name(c->kind));
                        return -EEXIST;
                }
                *ret = c;
                return 0;
        }

        switch (spec->kind) {
        case UDK_CONTROL_LEVEL:
                c = udk_device_add_level_control(dev, name, spec->min, spec->max, spec->value, &r);
                break;
        case UDK_CONTROL_NUMBER:
                c = udk_device_add_number_control(dev, name, spec->min, spec->max, spec->value, &r);
                break;
        case UDK_CONTROL_BOOLEAN:
                c = udk_device_add_boolean_control(dev, name, spec->on, &r);
                break;
        case UDK_CONTROL_SELECTOR:
                c = udk_device_add_selector_control(dev, name, spec->items, spec->n_items, spec->selected,
                                                    &r);
                break;
        default:
                c = NULL;
                r = -EINVAL;
                break;
        }
        if (!c) {
                if (r >= 0)
                        r = -EINVAL;
                dsp_err(err, err_size, "cannot add control %s: %s", name, strerror(-r));
                return r;
        }
        *ret = c;
        return 0;
}
