/* SPDX-License-Identifier: MIT */
/*
 * The virtual backend: udk's embedded device, what Apple's SimpleAudioDriver
 * is on macOS.  A timer is its clock (absolute sleeps on CLOCK_MONOTONIC);
 * its "hardware" works in the device's sample format, so every cycle goes
 * through the same conversions a sound card's would.
 *
 * Input, chosen by the "source" selector:
 *   sine      a sine of the "frequency" selector at the "level" control
 *             (muted by "mute"), phase-continuous: sample n of the device
 *             is level * sin(2 pi ((n * f) mod rate) / rate), from a table
 *             of one period of sin at 1 Hz, so it is exact and cheap;
 *   silence   zeros;
 *   loopback  the device's own output, loopback_latency frames later.
 * Output is recorded into a delay line whatever the source, so switching
 * to loopback plays back what was really sent.
 *
 * Option clock_ppm (-1000..1000, default 0) makes the period clock run
 * that many ppm fast (positive) or slow against CLOCK_MONOTONIC, as a
 * second sound card's crystal would: its rate is rate * (1 + ppm / 1e6),
 * boundary k lands at start + k * period * 1e9 / that rate, and the cycle
 * follows it (the zero timestamps show the drift).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <udk/backend.h>
#include <udk/device.h>
#include <udk/util.h>

#define LOOPBACK_LATENCY_MAX 65536u
#define CLOCK_PPM_MAX        1000

enum virtual_source {
        SOURCE_SINE = 0,
        SOURCE_SILENCE = 1,
        SOURCE_LOOPBACK = 2,
};

static const struct udk_selector_item source_items[] = {
        { SOURCE_SINE, "sine" },
        { SOURCE_SILENCE, "silence" },
        { SOURCE_LOOPBACK, "loopback" },
};

static const struct udk_selector_item frequency_items[] = {
        { 100, "100 Hz" },   { 220, "220 Hz" },   { 440, "440 Hz" },   { 1000, "1000 Hz" },
        { 2000, "2000 Hz" }, { 4000, "4000 Hz" }, { 8000, "8000 Hz" },
};

static const uint32_t virtual_rates[] = { 44100, 48000, 96000, 192000 };

struct virtual_backend {
        struct udk_device *dev;
        uint32_t rate, period, in_ch, out_ch;
        enum udk_sample_format format;
        size_t sample_size;
        uint32_t loopback_latency; /* 0 until set: the period */
        int32_t clock_ppm;
        uint64_t clock_start;  /* CLOCK_MONOTONIC ns of frame 0 */
        uint64_t clock_frames; /* frames up to the boundary waited for last */

        float *sine;         /* rate entries: sin(2 pi i / rate) */
        uint32_t phase;      /* (n * f) mod rate of the next sample */
        float *scratch;      /* period * in_ch floats */
        uint8_t *hw;         /* period * in_ch samples of the hardware format */
        uint8_t *delay;      /* delay_frames * in_ch samples of the hardware format */
        uint32_t delay_frames;

        struct udk_control *source, *frequency, *level, *mute;
};

static int virtual_set_option(void *instance, const char *key, const char *value, char *err, size_t err_size)
{
        struct virtual_backend *v = instance;
        int64_t n;
        int r;

        if (strcmp(key, "clock_ppm") == 0) {
                r = udk_parse_int64(value, -CLOCK_PPM_MAX, CLOCK_PPM_MAX, &n);
                if (r < 0) {
                        snprintf(err, err_size, "clock_ppm '%s' %s (ppm, -%d..%d)", value,
                                 r == -ERANGE ? "out of range" : "is not a number", CLOCK_PPM_MAX,
                                 CLOCK_PPM_MAX);
                        return r;
                }
                v->clock_ppm = (int32_t)n;
                return 0;
        }
        if (strcmp(key, "loopback_latency") != 0)
                return -ENOENT;
        r = udk_parse_int64(value, 1, LOOPBACK_LATENCY_MAX, &n);
        if (r < 0) {
                snprintf(err, err_size, "loopback_latency '%s' %s (frames, period..%u)", value,
                         r == -ERANGE ? "out of range" : "is not a number", LOOPBACK_LATENCY_MAX);
                return r;
        }
        v->loopback_latency = (uint32_t)n;
        return 0;
}

static int virtual_check(const struct udk_device_config *cfg, uint32_t latency, char *err, size_t err_size)
{
        bool rate_ok = false;

        for (size_t i = 0; i < UDK_ELEMENTSOF(virtual_rates); i++)
                rate_ok |= cfg->rate == virtual_rates[i];
        if (!rate_ok) {
                snprintf(err, err_size, "rate %u not supported by the virtual backend (44100, 48000, 96000, 192000)",
                         cfg->rate);
                return -ERANGE;
        }
        if (latency < cfg->period) {
                snprintf(err, err_size, "loopback_latency %u is shorter than the period (%u frames)", latency,
                         cfg->period);
                return -ERANGE;
        }
        return 0;
}

static void virtual_free(struct virtual_backend *v)
{
        free(v->sine);
        free(v->scratch);
        free(v->hw);
        free(v->delay);
        v->sine = NULL;
        v->scratch = NULL;
        v->hw = NULL;
        v->delay = NULL;
}

static int add_controls(struct virtual_backend *v, struct udk_device *dev)
{
        int r = 0;

        v->source = udk_device_add_selector_control(dev, "source", source_items, UDK_ELEMENTSOF(source_items),
                                                    SOURCE_SINE, &r);
        if (v->source)
                v->frequency = udk_device_add_selector_control(dev, "frequency", frequency_items,
                                                               UDK_ELEMENTSOF(frequency_items), 1000, &r);
        if (v->frequency)
                v->level = udk_device_add_level_control(dev, "level", UDK_LEVEL_SILENT_DB, 0.0f, -12.0f, &r);
        if (v->level)
                v->mute = udk_device_add_boolean_control(dev, "mute", false, &r);
        return v->mute ? 0 : r;
}

static int virtual_open(void *instance, struct udk_device *dev, char *err, size_t err_size)
{
        struct virtual_backend *v = instance;
        const struct udk_device_config *cfg = udk_device_config(dev);
        size_t ch;
        int r;

        if (!v->loopback_latency)
                v->loopback_latency = cfg->period;
        r = virtual_check(cfg, v->loopback_latency, err, err_size);
        if (r < 0)
                return r;

        v->dev = dev;
        v->rate = cfg->rate;
        v->period = cfg->period;
        v->in_ch = cfg->input_channels;
        v->out_ch = cfg->output_channels;
        v->format = cfg->format;
        v->sample_size = udk_format_size(cfg->format);
        v->delay_frames = v->loopback_latency + v->period;

        ch = UDK_MAX(v->in_ch, 1u);
        v->sine = malloc(sizeof(float) * v->rate);
        v->scratch = calloc((size_t)v->period * ch, sizeof(float));
        v->hw = calloc((size_t)v->period * ch, v->sample_size);
        v->delay = calloc((size_t)v->delay_frames * ch, v->sample_size);
        if (!v->sine || !v->scratch || !v->hw || !v->delay) {
                virtual_free(v);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < v->rate; i++)
                v->sine[i] = (float)sin(2.0 * M_PI * (double)i / (double)v->rate);

        r = add_controls(v, dev);
        if (r < 0) {
                virtual_free(v);
                snprintf(err, err_size, "cannot add the virtual device's controls: %s", strerror(-r));
                return r;
        }
        /* Output comes back on input loopback_latency frames later. */
        udk_device_set_latency(dev, UDK_DIRECTION_INPUT, 0, 0);
        udk_device_set_latency(dev, UDK_DIRECTION_OUTPUT, v->loopback_latency, 0);
        return 0;
}

static void virtual_close(void *instance)
{
        virtual_free(instance);
}

static int virtual_start(void *instance, uint64_t *ret_start_time)
{
        struct virtual_backend *v = instance;

        v->phase = 0;
        v->clock_frames = 0;
        v->clock_start = udk_time_now();
        *ret_start_time = v->clock_start;
        return 0;
}

/* The host time of frame @frames on a clock clock_ppm off: exact to the ns
 * (rounded down), in 128 bits since frames * 1e15 outgrows 64. */
static uint64_t clock_time(const struct virtual_backend *v, uint64_t frames)
{
        unsigned __int128 num = (unsigned __int128)frames * UDK_NSEC_PER_SEC * 1000000u;
        uint64_t den = (uint64_t)v->rate * (uint64_t)(1000000 + v->clock_ppm);

        return v->clock_start + (uint64_t)(num / den);
}

static void virtual_stop(void *instance)
{
}

/* RT-safe: the pacing wait, an absolute sleep so lateness never accumulates.
 * The deadline is the boundary: a late wake is the scheduler's, not the clock's.
 * With clock_ppm the boundary is the drifting clock's next one instead, and
 * the cycle follows it as it follows a card's. */
static int virtual_wait(void *instance, uint64_t deadline, uint64_t *ret_wake_time, uint64_t *ret_boundary_time)
{
        struct virtual_backend *v = instance;
        struct timespec ts;
        int r;

        if (v->clock_ppm != 0) {
                v->clock_frames += v->period;
                deadline = clock_time(v, v->clock_frames);
        }
        ts = udk_time_to_timespec(deadline);

        while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
                ;
        *ret_wake_time = udk_time_now();
        *ret_boundary_time = deadline; /* the timer is the clock */
        return -r;
}

/* Copy @frames frames between the delay line at frame @pos (any value: it
 * wraps) and @buf; @to_delay says which way. */
static void delay_copy(struct virtual_backend *v, uint64_t pos, uint8_t *buf, uint32_t frames, bool to_delay)
{
        size_t frame_bytes = v->sample_size * v->in_ch;
        uint32_t at = (uint32_t)(pos % v->delay_frames);
        uint32_t first = UDK_MIN(frames, v->delay_frames - at);
        uint8_t *d = v->delay + (size_t)at * frame_bytes;

        if (to_delay) {
                memcpy(d, buf, first * frame_bytes);
                memcpy(v->delay, buf + first * frame_bytes, (frames - first) * frame_bytes);
        } else {
                memcpy(buf, d, first * frame_bytes);
                memcpy(buf + first * frame_bytes, v->delay, (frames - first) * frame_bytes);
        }
}

static void generate_sine(struct virtual_backend *v, uint32_t frames, uint32_t freq, float gain)
{
        uint32_t phase = v->phase;

        for (uint32_t f = 0; f < frames; f++) {
                float x = v->sine[phase] * gain;
                for (uint32_t c = 0; c < v->in_ch; c++)
                        v->scratch[(size_t)f * v->in_ch + c] = x;
                phase += freq;
                if (phase >= v->rate)
                        phase -= v->rate;
        }
        v->phase = phase;
}

/* RT-safe.  The controls are read once, so a change applies from the next
 * cycle on and never mid-period. */
static int virtual_read(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct virtual_backend *v = instance;
        struct udk_stream *in = udk_device_stream(v->dev, UDK_DIRECTION_INPUT);
        int32_t source = udk_control_selector_get(v->source);
        uint32_t freq = (uint32_t)udk_control_selector_get(v->frequency);
        float gain = udk_control_boolean_get(v->mute) ? 0.0f : udk_control_level_gain(v->level);
        size_t samples = (size_t)frames * v->in_ch;

        if (!in) {
                v->phase = (uint32_t)(((uint64_t)v->phase + (uint64_t)frames * freq) % v->rate);
                return 0;
        }
        switch (source) {
        case SOURCE_SINE:
                generate_sine(v, frames, freq, gain);
                udk_format_from_f32(v->format, v->hw, v->scratch, samples);
                break;
        case SOURCE_LOOPBACK:
                /* Frames before the first write read the delay line's zeros. */
                delay_copy(v, sample_time + v->delay_frames - v->loopback_latency, v->hw, frames, false);
                break;
        default:
                memset(v->hw, 0, samples * v->sample_size);
                break;
        }
        if (source != SOURCE_SINE)
                v->phase = (uint32_t)(((uint64_t)v->phase + (uint64_t)frames * freq) % v->rate);
        udk_format_to_f32(v->format, udk_stream_frames(in, sample_time), v->hw, samples);
        return 0;
}

/* RT-safe: output channel c plays into input channel c. */
static int virtual_write(void *instance, uint64_t sample_time, uint32_t frames)
{
        struct virtual_backend *v = instance;
        struct udk_stream *out = udk_device_stream(v->dev, UDK_DIRECTION_OUTPUT);
        const float *src;

        if (v->in_ch == 0)
                return 0;
        if (!out) {
                memset(v->scratch, 0, (size_t)frames * v->in_ch * sizeof(float));
                src = v->scratch;
        } else if (v->out_ch == v->in_ch) {
                src = udk_stream_frames(out, sample_time);
        } else {
                const float *o = udk_stream_frames(out, sample_time);
                for (uint32_t f = 0; f < frames; f++)
                        for (uint32_t c = 0; c < v->in_ch; c++)
                                v->scratch[(size_t)f * v->in_ch + c] =
                                        c < v->out_ch ? o[(size_t)f * v->out_ch + c] : 0.0f;
                src = v->scratch;
        }
        udk_format_from_f32(v->format, v->hw, src, (size_t)frames * v->in_ch);
        delay_copy(v, sample_time, v->hw, frames, true);
        return 0;
}

const struct udk_backend_ops udk_backend_virtual = {
        .version = UDK_BACKEND_ABI_VERSION,
        .name = "virtual",
        .description = "timer-clocked device: sine, silence or loopback of its own output",
        .instance_size = sizeof(struct virtual_backend),
        .set_option = virtual_set_option,
        .open = virtual_open,
        .close = virtual_close,
        .start = virtual_start,
        .stop = virtual_stop,
        .wait = virtual_wait,
        .read = virtual_read,
        .write = virtual_write,
};
