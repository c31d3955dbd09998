/* SPDX-License-Identifier: MIT */
/*
 * meter: the peak of every channel of the input stream (at
 * UDK_IO_BEGIN_READ) and of the output stream (at UDK_IO_WRITE_END) since
 * the last read.  Readout 0 is "input_peak", 1 "output_peak", in dBFS,
 * -144 for silence.
 *
 * A peak is a float's bits in an atomic word: for the non-negative floats a
 * peak can be, the bits order as the values do.  The RT thread raises it by
 * compare-and-swap; the reader takes it and leaves 0 with one exchange, so
 * no peak is lost or read twice.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <udk/dsp.h>
#include <udk/util.h>

#define METER_SILENCE_DB (-144.0f)

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "meter peaks need lock-free 32-bit atomics");
_Static_assert(sizeof(float) == sizeof(uint32_t), "a peak is a float's bits");

enum { READOUT_INPUT_PEAK = 0, READOUT_OUTPUT_PEAK, READOUT_COUNT };

struct meter {
        struct udk_device *dev;
        uint32_t channels[2];                        /* [UDK_DIRECTION_*] */
        _Atomic uint32_t peak[2][UDK_CHANNELS_MAX]; /* float bits */
};

static int meter_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                      char *err, size_t err_size)
{
        struct meter *m = instance;

        m->dev = dev;
        for (int dir = UDK_DIRECTION_INPUT; dir <= UDK_DIRECTION_OUTPUT; dir++) {
                struct udk_stream *s = udk_device_stream(dev, (enum udk_direction)dir);
                m->channels[dir] = s ? UDK_MIN(s->channels, UDK_CHANNELS_MAX) : 0;
                for (uint32_t ch = 0; ch < UDK_CHANNELS_MAX; ch++)
                        atomic_init(&m->peak[dir][ch], 0);
        }
        return 0;
}

/* RT-safe. */
static int meter_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                         uint64_t sample_time, uint64_t host_time)
{
        struct meter *m = ctx;
        enum udk_direction dir = op == UDK_IO_BEGIN_READ ? UDK_DIRECTION_INPUT : UDK_DIRECTION_OUTPUT;
        struct udk_stream *s = udk_device_stream(m->dev, dir);
        const float *p;

        if (!s)
                return 0;
        if (UDK_UNLIKELY(frames > s->ring_frames))
                return -EINVAL;
        p = udk_stream_frames(s, sample_time);
        for (uint32_t ch = 0; ch < m->channels[dir]; ch++) {
                float peak = 0.0f;
                uint32_t bits, cur;

                for (uint32_t i = 0; i < frames; i++) {
                        float a = fabsf(p[(size_t)i * s->channels + ch]);
                        /* NaN compares false and is left out. */
                        if (a > peak)
                                peak = a;
                }
                bits = udk_float_to_bits(peak);
                /* Relaxed: the word carries only itself; a lost race with the reader retries. */
                cur = atomic_load_explicit(&m->peak[dir][ch], memory_order_relaxed);
                while (bits > cur && !atomic_compare_exchange_weak_explicit(&m->peak[dir][ch], &cur, bits,
                                                                           memory_order_relaxed,
                                                                           memory_order_relaxed))
                        ;
        }
        return 0;
}

static int meter_read(void *instance, uint32_t index, float *values, uint32_t max)
{
        struct meter *m = instance;
        enum udk_direction dir;
        uint32_t n;

        if (index >= READOUT_COUNT)
                return -EINVAL;
        dir = index == READOUT_INPUT_PEAK ? UDK_DIRECTION_INPUT : UDK_DIRECTION_OUTPUT;
        n = UDK_MIN(m->channels[dir], max);
        for (uint32_t ch = 0; ch < n; ch++) {
                float peak =
                    udk_float_from_bits(atomic_exchange_explicit(&m->peak[dir][ch], 0, memory_order_relaxed));
                double db = peak > 0.0f ? 20.0 * log10((double)peak) : -INFINITY;
                values[ch] = db > METER_SILENCE_DB ? (float)db : METER_SILENCE_DB;
        }
        return (int)n;
}

static const struct udk_dsp_readout meter_readouts[READOUT_COUNT] = {
        [READOUT_INPUT_PEAK] = { "input_peak", "dBFS" },
        [READOUT_OUTPUT_PEAK] = { "output_peak", "dBFS" },
};

static const struct udk_dsp_plugin meter_plugin = {
        .version = UDK_DSP_ABI_VERSION,
        .name = "meter",
        .description = "peak meter of the input and output streams",
        .instance_size = sizeof(struct meter),
        .default_ops = UDK_IO_OPS_ALL,
        .n_readouts = READOUT_COUNT,
        .readouts = meter_readouts,
        .init = meter_init,
        .process = meter_process,
        .read = meter_read,
};

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void);

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void)
{
        return &meter_plugin;
}
