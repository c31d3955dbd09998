/* SPDX-License-Identifier: MIT */
/*
 * A DSP plugin that speaks a future ABI (version 7): udkd must refuse it
 * with the plugin's version and its own, naming the configuration line.
 * Everything but the version is valid, so nothing else can be the reason.
 */
#include <udk/dsp.h>
#include <udk/util.h>

#define BADVERSION_ABI 7

_Static_assert(BADVERSION_ABI != UDK_DSP_ABI_VERSION, "the test needs a version udk does not speak");

struct badversion {
        int unused;
};

static int badversion_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                           char *err, size_t err_size)
{
        return 0;
}

/* RT-safe. */
static int badversion_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                              uint64_t sample_time, uint64_t host_time)
{
        return 0;
}

static const struct udk_dsp_plugin badversion_plugin = {
    .version = BADVERSION_ABI,
    .name = "badversion",
    .description = "a plugin from the future, for udkd's tests",
    .instance_size = sizeof(struct badversion),
    .default_ops = UDK_IO_OPS_ALL,
    .init = badversion_init,
    .process = badversion_process,
};

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void);

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void)
{
        return &badversion_plugin;
}
