/* SPDX-License-Identifier: MIT */
/*
 * biquad: one second-order filter from Robert Bristow-Johnson's Audio EQ
 * Cookbook on every channel of the input stream (UDK_IO_BEGIN_READ) and of
 * the output stream (UDK_IO_WRITE_END), each channel and stream with its
 * own state.  Transposed Direct Form II in double: samples stay float, the
 * state does not lose low-frequency precision.
 *
 * Controls: "<instance>.type" (lowpass, highpass, lowshelf, highshelf,
 * peak), ".frequency" (20..20000 Hz, held below 0.45 of the rate), ".q"
 * (0.1..20) and ".gain" (-24..+24 dB, for shelves and peak).  The RT thread
 * recomputes the coefficients when a control's generation moved: pure math,
 * no allocation or system call.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>

#include <udk/dsp.h>
#include <udk/util.h>

enum biquad_type {
        BIQUAD_LOWPASS = 0,
        BIQUAD_HIGHPASS,
        BIQUAD_LOWSHELF,
        BIQUAD_HIGHSHELF,
        BIQUAD_PEAK,
};

enum { CTL_TYPE, CTL_FREQUENCY, CTL_Q, CTL_GAIN, CTL_COUNT };

/* State below this is flushed: a decaying tail must not turn into denormals. */
#define BIQUAD_TINY 1e-30

struct biquad_coefs {
        double b0, b1, b2, a1, a2; /* normalised by a0 */
};

struct biquad_state {
        double z1, z2;
};

struct biquad {
        struct udk_device *dev;
        double rate;
        struct udk_control *ctl[CTL_COUNT];
        /* RT only (after init): the coefficients and the generations they were made from. */
        struct {
                uint32_t generation[CTL_COUNT];
                struct biquad_coefs coefs;
                struct biquad_state state[2][UDK_CHANNELS_MAX]; /* [UDK_DIRECTION_*][channel] */
        } rt;
};

/* The cookbook's formulas.  RT-safe. */
static struct biquad_coefs biquad_design(enum biquad_type type, double rate, double freq, double q,
                                         double db)
{
        double f = UDK_MIN(freq, 0.45 * rate);
        double w0 = 2.0 * M_PI * f / rate;
        double cw = cos(w0), sw = sin(w0);
        double alpha = sw / (2.0 * q);
        double a = pow(10.0, db / 40.0);
        double sa = 2.0 * sqrt(a) * alpha;
        double b0, b1, b2, a0, a1, a2;

        switch (type) {
        case BIQUAD_LOWPASS:
                b0 = (1.0 - cw) / 2.0;
                b1 = 1.0 - cw;
                b2 = (1.0 - cw) / 2.0;
                a0 = 1.0 + alpha;
                a1 = -2.0 * cw;
                a2 = 1.0 - alpha;
                break;
        case BIQUAD_HIGHPASS:
                b0 = (1.0 + cw) / 2.0;
                b1 = -(1.0 + cw);
                b2 = (1.0 + cw) / 2.0;
                a0 = 1.0 + alpha;
                a1 = -2.0 * cw;
                a2 = 1.0 - alpha;
                break;
        case BIQUAD_LOWSHELF:
                b0 = a * ((a + 1.0) - (a - 1.0) * cw + sa);
                b1 = 2.0 * a * ((a - 1.0) - (a + 1.0) * cw);
                b2 = a * ((a + 1.0) - (a - 1.0) * cw - sa);
                a0 = (a + 1.0) + (a - 1.0) * cw + sa;
                a1 = -2.0 * ((a - 1.0) + (a + 1.0) * cw);
                a2 = (a + 1.0) + (a - 1.0) * cw - sa;
                break;
        case BIQUAD_HIGHSHELF:
                b0 = a * ((a + 1.0) + (a - 1.0) * cw + sa);
                b1 = -2.0 * a * ((a - 1.0) + (a + 1.0) * cw);
                b2 = a * ((a + 1.0) + (a - 1.0) * cw - sa);
                a0 = (a + 1.0) - (a - 1.0) * cw + sa;
                a1 = 2.0 * ((a - 1.0) - (a + 1.0) * cw);
                a2 = (a + 1.0) - (a - 1.0) * cw - sa;
                break;
        case BIQUAD_PEAK:
        default:
                b0 = 1.0 + alpha * a;
                b1 = -2.0 * cw;
                b2 = 1.0 - alpha * a;
                a0 = 1.0 + alpha / a;
                a1 = -2.0 * cw;
                a2 = 1.0 - alpha / a;
                break;
        }
        return (struct biquad_coefs){ b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0 };
}

/* Recompute when any control changed since the last design.  RT-safe. */
static void biquad_update(struct biquad *bq, bool force)
{
        bool changed = force;

        for (int i = 0; i < CTL_COUNT; i++) {
                /* The generation before the values: a change after this is seen next time. */
                uint32_t gen = atomic_load_explicit(&bq->ctl[i]->generation, memory_order_acquire);
                if (gen != bq->rt.generation[i]) {
                        bq->rt.generation[i] = gen;
                        changed = true;
                }
        }
        if (!changed)
                return;
        bq->rt.coefs = biquad_design((enum biquad_type)udk_control_selector_get(bq->ctl[CTL_TYPE]), bq->rate,
                                     udk_control_number_get(bq->ctl[CTL_FREQUENCY]),
                                     udk_control_number_get(bq->ctl[CTL_Q]),
                                     udk_control_level_db(bq->ctl[CTL_GAIN]));
}

static int biquad_init(void *instance, struct udk_device *dev, const struct udk_dsp_instance_info *info,
                       char *err, size_t err_size)
{
        static const struct udk_selector_item types[] = {
                { BIQUAD_LOWPASS, "lowpass" },     { BIQUAD_HIGHPASS, "highpass" },
                { BIQUAD_LOWSHELF, "lowshelf" },   { BIQUAD_HIGHSHELF, "highshelf" },
                { BIQUAD_PEAK, "peak" },
        };
        static const struct udk_dsp_control_spec specs[CTL_COUNT] = {
                [CTL_TYPE] = { .param = "type", .kind = UDK_CONTROL_SELECTOR, .items = types,
                               .n_items = UDK_ELEMENTSOF(types), .selected = BIQUAD_PEAK },
                [CTL_FREQUENCY] = { .param = "frequency", .kind = UDK_CONTROL_NUMBER, .min = 20.0f,
                                    .max = 20000.0f, .value = 1000.0f },
                [CTL_Q] = { .param = "q", .kind = UDK_CONTROL_NUMBER, .min = 0.1f, .max = 20.0f,
                            .value = 0.7071f },
                [CTL_GAIN] = { .param = "gain", .kind = UDK_CONTROL_LEVEL, .min = -24.0f, .max = 24.0f,
                               .value = 0.0f },
        };
        struct biquad *bq = instance;
        int r;

        bq->dev = dev;
        bq->rate = udk_device_config(dev)->rate;
        for (int i = 0; i < CTL_COUNT; i++) {
                r = udk_dsp_control_add(dev, info->name, &specs[i], &bq->ctl[i], err, err_size);
                if (r < 0)
                        return r;
        }
        biquad_update(bq, true);
        return 0;
}

/* One period of one stream, interleaved, in place.  RT-safe. */
static void biquad_run(const struct biquad_coefs *c, struct biquad_state *state, float *p, uint32_t frames,
                       uint32_t channels)
{
        for (uint32_t ch = 0; ch < channels; ch++) {
                double z1 = state[ch].z1, z2 = state[ch].z2;
                for (uint32_t i = 0; i < frames; i++) {
                        double x = p[(size_t)i * channels + ch];
                        double y = c->b0 * x + z1;
                        z1 = c->b1 * x - c->a1 * y + z2;
                        z2 = c->b2 * x - c->a2 * y;
                        p[(size_t)i * channels + ch] = (float)y;
                }
                /* A NaN or infinity in the input would stick in the state forever. */
                if (!isfinite(z1) || !isfinite(z2))
                        z1 = z2 = 0.0;
                if (fabs(z1) < BIQUAD_TINY)
                        z1 = 0.0;
                if (fabs(z2) < BIQUAD_TINY)
                        z2 = 0.0;
                state[ch].z1 = z1;
                state[ch].z2 = z2;
        }
}

/* RT-safe. */
static int biquad_process(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                          uint64_t sample_time, uint64_t host_time)
{
        struct biquad *bq = ctx;
        enum udk_direction dir = op == UDK_IO_BEGIN_READ ? UDK_DIRECTION_INPUT : UDK_DIRECTION_OUTPUT;
        struct udk_stream *s = udk_device_stream(bq->dev, dir);

        if (!s)
                return 0;
        if (UDK_UNLIKELY(frames > s->ring_frames || s->channels > UDK_CHANNELS_MAX))
                return -EINVAL;
        biquad_update(bq, false);
        biquad_run(&bq->rt.coefs, bq->rt.state[dir], udk_stream_frames(s, sample_time), frames, s->channels);
        return 0;
}

static const struct udk_dsp_plugin biquad_plugin = {
        .version = UDK_DSP_ABI_VERSION,
        .name = "biquad",
        .description = "RBJ cookbook filter: lowpass, highpass, shelves, peak",
        .instance_size = sizeof(struct biquad),
        .default_ops = UDK_IO_OPS_ALL,
        .init = biquad_init,
        .process = biquad_process,
};

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void);

UDK_EXPORT const struct udk_dsp_plugin *UDK_DSP_PLUGIN_ENTRY(void)
{
        return &biquad_plugin;
}
