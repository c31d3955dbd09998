/* SPDX-License-Identifier: MIT */
/*
 * DSP plugins: IO handlers in shared objects, loaded with dlopen from a
 * plugin folder.  A plugin exports one function, UDK_DSP_PLUGIN_ENTRY, that
 * returns its descriptor.  The descriptor is versioned; udk refuses a plugin
 * whose version it does not speak or whose reserved fields are not 0.
 *
 * An instance is instance_size bytes, zeroed and owned by udk, created on
 * the control thread: init() gets the device (to find its streams and add
 * its controls, named "<instance>.<param>") and returns 0 or a negative
 * errno with a sentence in @err.  process() is the IO handler: it runs on
 * the RT thread and must be RT-safe.  finish() undoes init() on the control
 * thread once the RT thread has let go of the instance.
 */
#ifndef UDK_DSP_H
#define UDK_DSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/control.h>
#include <udk/device.h>
#include <udk/io.h>

#define UDK_DSP_ABI_VERSION        1
#define UDK_DSP_PLUGIN_ENTRY       udk_dsp_plugin_entry
#define UDK_DSP_PLUGIN_ENTRY_NAME  "udk_dsp_plugin_entry"
#define UDK_DSP_READOUTS_MAX       4

struct udk_dsp_instance_info {
        const char *name;    /* the instance's name: "gain", or "post" for "gain:post" */
        uint32_t ops;        /* UDK_IO_OPS_* it runs for */
};

/* A value the control thread can read while the plugin runs (a meter's peaks). */
struct udk_dsp_readout {
        const char *name;   /* "input_peak" */
        const char *unit;   /* "dBFS" */
};

struct udk_dsp_plugin {
        uint32_t version;   /* UDK_DSP_ABI_VERSION */
        uint32_t reserved;  /* must be 0 */
        const char *name;   /* what a config's "handlers =" names */
        const char *description;
        size_t instance_size;
        uint32_t default_ops; /* UDK_IO_OPS_* when the config does not say */
        uint32_t n_readouts;
        const struct udk_dsp_readout *readouts;

        int (*init)(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                    char *err, size_t err_size);
        void (*finish)(void *instance);
        udk_io_handler_fn process;

        /*
         * Read readout @index into @values (one per channel of the stream it
         * measures, at most @max); returns how many, or a negative errno.
         * Control thread, lock-free against process().
         */
        int (*read)(void *instance, uint32_t index, float *values, uint32_t max);
};

typedef const struct udk_dsp_plugin *(*udk_dsp_plugin_entry_fn)(void);

struct udk_dsp_module;

/*
 * Load the plugin @name ("gain") from the first folder of @search_path
 * (colon-separated; NULL for UDK_PLUGIN_DIR, where udk installs its own) that
 * has "udk-dsp-<name>.so", or a plugin file given by path (a @name with a
 * '/').  -ENOENT (no such plugin: the folders searched in @err), -EPROTO (a
 * version or reserved field udk does not speak), -ENOEXEC (dlopen failed or
 * no entry point), each with a sentence in @err.
 */
int udk_dsp_module_load(const char *name, const char *search_path, struct udk_dsp_module **ret, char *err,
                        size_t err_size);
const struct udk_dsp_plugin *udk_dsp_module_plugin(const struct udk_dsp_module *module);
const char *udk_dsp_module_path(const struct udk_dsp_module *module);
/* Accepts NULL; returns NULL.  Only once no instance of it is left. */
struct udk_dsp_module *udk_dsp_module_unload(struct udk_dsp_module *module);

/* Check a descriptor as udk_dsp_module_load() does (-EPROTO and a sentence). */
int udk_dsp_plugin_check(const struct udk_dsp_plugin *plugin, char *err, size_t err_size);

/*
 * Create an instance of @plugin named @instance_name on @dev for @ops (0 for
 * the plugin's default) and add it as an IO handler.  It is finished and
 * freed when the handler is removed and collected.
 */
int udk_dsp_instantiate(const struct udk_dsp_plugin *plugin, struct udk_device *dev,
                        const char *instance_name, uint32_t ops, struct udk_handler **ret, char *err,
                        size_t err_size);

/*
 * Read a readout of the instance behind @handler (one made by
 * udk_dsp_instantiate()): the plugin's read().  -EINVAL for a handler that
 * is not a DSP instance or an index past its readouts.
 */
int udk_dsp_handler_read(struct udk_handler *handler, uint32_t index, float *values, uint32_t max);
/* The plugin behind @handler, NULL when it is not a DSP instance. */
const struct udk_dsp_plugin *udk_dsp_handler_plugin(struct udk_handler *handler);

/* What udk_dsp_control_add() makes; the fields its @kind does not use are ignored. */
struct udk_dsp_control_spec {
        const char *param;              /* "level": the control is "<instance>.level" */
        enum udk_control_kind kind;
        float min, max;                 /* level (dB), number */
        float value;                    /* default: level (dB), number */
        bool on;                        /* default: boolean */
        const struct udk_selector_item *items; /* selector */
        uint32_t n_items;
        int32_t selected;               /* default: selector */
};

/*
 * For a plugin's init(): the control "<@instance>.<param>" on @dev.  A
 * device never drops a control, so when @dev has that name already with the
 * same kind and range (or items), that control is returned with its value:
 * an instance made again under the same name carries on where the last one
 * left.  Otherwise a new control.  -EEXIST (the name is taken by another
 * kind or range), -ENAMETOOLONG, -EINVAL, -ENOSPC, each with a sentence in
 * @err.  Control thread.
 */
int udk_dsp_control_add(struct udk_device *dev, const char *instance,
                        const struct udk_dsp_control_spec *spec, struct udk_control **ret, char *err,
                        size_t err_size);

#endif
