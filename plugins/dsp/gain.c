/* SPDX-License-Identifier: MIT */
/*
 * gain: scales the input stream at UDK_IO_BEGIN_READ and the output stream
 * at UDK_IO_WRITE_END by "<instance>.level" (-96..+24 dB, -96 is silence),
 * or silences them while "<instance>.mute" is on.
 */
#include <errno.h>
#include <stdio.h>

#include <udk/dsp.h>
#include <udk/util.h>

struct gain {
        struct udk_device *dev;
        struct udk_control *level;
        struct udk_control *mute;
};

static int gain_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                     char *err, size_t err_size)
{
        static const struct udk_dsp_control_spec level = {
                .param = "level",
                .kind = UDK_CONTROL_LEVEL,
                .min = UDK_LEVEL_SILENT_DB, /* the bottom is silence */
                .max = 24.0f,
                .value = 0.0f,
        };
        static const struct udk_dsp_control_spec mute = { .param = "mute", .kind = UDK_CONTROL_BOOLEAN };
        struct gain *g = instance;
        int r;

        g->dev = dev;
        r = udk_dsp_control_add(dev, info->name, &level, &g->level, err, err_size);
        if (r < 0)
                return r;
        return udk_dsp_control_add(dev, info->name, &mute, &g->mute, err, err_size);
}

/* RT-safe. */
static int gain_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                        uint64_t sample_time, uint64_t host_time)
{
        struct gain *g = ctx;
        /* Read once: the whole period gets one gain, a change waits for the next call. */
        float gain = udk_control_boolean_get(g->mute) ? 0.0f : udk_control_level_gain(g->level);
        struct udk_stream *s;
        float *p;
        size_t n;

        if (gain == 1.0f)
                return 0;
        s = udk_device_stream(g->dev, op == UDK_IO_BEGIN_READ ? UDK_DIRECTION_INPUT : UDK_DIRECTION_OUTPUT);
        if (!s)
                return 0;
        if (UDK_UNLIKELY(frames > s->ring_frames))
                return -EINVAL;

        p = udk_stream_frames(s, sample_time);
        n = (size_t)frames * s->channels;
        if (gain == 0.0f) {
                /* Silence also clears NaN and infinities that a product with 0 would keep. */
                for (size_t i = 0; i < n; i++)
                        p[i] = 0.0f;
        } else {
                for (size_t i = 0; i < n; i++)
                        p[i] *= gain;
        }
        return 0;
}

static const struct udk_dsp_plugin gain_plugin = {
        .version = UDK_DSP_ABI_VERSION,
        .name = "gain",
        .description = "level and mute on the input and output streams",
        .instance_size = sizeof(struct gain),
        .default_ops = UDK_IO_OPS_ALL,
        .init = gain_init,
        .process = gain_process,
};

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void);

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void)
{
        return &gain_plugin;
}
