/* SPDX-License-Identifier: MIT */
/* udk_resampler: libsoxr, set up once so that processing never allocates. */
#include <errno.h>
#include <math.h>
#include <soxr.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <udk/device.h>
#include <udk/resampler.h>
#include <udk/util.h>

/* How far a variable ratio may stray from nominal: far more than any two
 * crystals differ, and libsoxr's variable-rate filter is sized by it. */
#define RESAMPLER_VARIABLE_SPAN 0.1
/* Silence run through at creation, in input frames, so that libsoxr's lazy
 * allocations (its stages' FIFOs and DFT tables) happen there. */
#define RESAMPLER_PRIME_CHUNK 256u

struct udk_resampler {
        soxr_t soxr;
        uint32_t channels;
        enum udk_resampler_quality quality;
        bool variable;
        bool failed;
        double nominal, ratio;
        uint64_t in_total, out_total;
        double group_delay; /* output frames libsoxr's filter delays beyond what it holds */
};

static const struct {
        const char *name;
        const char *alias;
        unsigned long recipe;
} qualities[UDK_RESAMPLER_QUALITY_COUNT] = {
        [UDK_RESAMPLER_QUICK] = { "quick", "qq", SOXR_QQ },
        [UDK_RESAMPLER_LOW] = { "low", "lq", SOXR_LQ },
        [UDK_RESAMPLER_MEDIUM] = { "medium", "mq", SOXR_MQ },
        [UDK_RESAMPLER_HIGH] = { "high", "hq", SOXR_HQ },
        [UDK_RESAMPLER_VERY_HIGH] = { "very-high", "vhq", SOXR_VHQ },
};

static enum udk_resampler_quality quality_resolve(enum udk_resampler_quality q)
{
        return q == UDK_RESAMPLER_QUALITY_DEFAULT ? UDK_RESAMPLER_VERY_HIGH : q;
}

const char *udk_resampler_quality_name(enum udk_resampler_quality quality)
{
        if ((unsigned)quality >= UDK_RESAMPLER_QUALITY_COUNT)
                return NULL;
        return qualities[quality_resolve(quality)].name;
}

int udk_resampler_quality_from_name(const char *name, enum udk_resampler_quality *ret)
{
        if (!name || !ret)
                return -EINVAL;
        for (int q = UDK_RESAMPLER_QUICK; q < UDK_RESAMPLER_QUALITY_COUNT; q++)
                if (strcasecmp(name, qualities[q].name) == 0 || strcasecmp(name, qualities[q].alias) == 0) {
                        *ret = (enum udk_resampler_quality)q;
                        return 0;
                }
        return -EINVAL;
}

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
{
        va_list ap;

        if (err && err_size) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return r;
}

/*
 * libsoxr's FIFOs grow by realloc whenever a write does not fit behind
 * their first 16 KiB (its FIFO_MIN), and never shrink: one write of
 * twice UDK_RESAMPLER_FRAMES_MAX frames of silence, taken whole and then
 * drained, grows every stage's FIFO past anything later calls can ask for.
 */
static int resampler_stretch(struct udk_resampler *r, float *out, size_t out_max)
{
        size_t n = 2 * (size_t)UDK_RESAMPLER_FRAMES_MAX, odone = 0;
        float *in = calloc(n * r->channels, sizeof(float));
        soxr_error_t e;

        if (!in)
                return -ENOMEM;
        e = soxr_process(r->soxr, in, n, NULL, out, out_max, &odone);
        for (size_t rounds = 0; !e && odone > 0 && rounds < 1000000; rounds++)
                e = soxr_process(r->soxr, in, 0, NULL, out, out_max, &odone);
        free(in);
        return e ? -EIO : 0;
}

/*
 * Run an impulse and then silence through, until a quarter second of input
 * has gone in.  Where the impulse comes out tells the filter's group delay
 * beyond what soxr_delay() counts (libsoxr holds back input it has not yet
 * used, but it also starts its output early by part of the filter's
 * length): the peak, refined by a parabola through its neighbours.
 */
static int resampler_prime(struct udk_resampler *r, uint32_t in_rate)
{
        size_t out_max = (size_t)ceil(RESAMPLER_PRIME_CHUNK / r->ratio) + 64;
        float *in = calloc((size_t)RESAMPLER_PRIME_CHUNK * r->channels, sizeof(float));
        float *out = calloc(out_max * r->channels, sizeof(float));
        size_t rounds = in_rate / 4 / RESAMPLER_PRIME_CHUNK + 8, made = 0;
        double prev = 0, peak = 0, before = 0, after = 0, peak_at = 0;
        bool after_peak = false;
        int rc = 0;

        if (!in || !out)
                rc = -ENOMEM;
        else
                in[0] = 1.0f;
        for (size_t i = 0; rc == 0 && i < rounds; i++) {
                size_t off = 0;

                while (off < RESAMPLER_PRIME_CHUNK) {
                        size_t idone = 0, odone = 0;

                        rc = udk_resampler_process(r, in + off * r->channels, RESAMPLER_PRIME_CHUNK - off,
                                                   &idone, out, out_max, &odone);
                        if (rc < 0 || (idone == 0 && odone == 0))
                                break;
                        for (size_t j = 0; j < odone; j++, made++) {
                                double v = out[j * r->channels];
                                if (after_peak) {
                                        after = v;
                                        after_peak = false;
                                }
                                if (fabs(v) > fabs(peak)) {
                                        peak = v;
                                        before = prev;
                                        peak_at = (double)made;
                                        after_peak = true;
                                }
                                prev = v;
                        }
                        off += idone;
                }
                in[0] = 0.0f;
        }
        if (rc == 0 && peak != 0) {
                double den = before - 2 * peak + after;
                r->group_delay = peak_at + (den != 0 ? 0.5 * (before - after) / den : 0.0);
        }
        free(in);
        if (rc == 0)
                rc = resampler_stretch(r, out, out_max);
        free(out);
        return rc;
}

int udk_resampler_create(uint32_t in_rate, uint32_t out_rate, uint32_t channels,
                         enum udk_resampler_quality quality, unsigned flags, struct udk_resampler **ret,
                         char *err, size_t err_size)
{
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q;
        /* One thread: libsoxr's OpenMP workers would be threads we do not run. */
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        struct udk_resampler *r;
        soxr_error_t e = NULL;
        int rc;

        if (!ret)
                return fail(err, err_size, -EINVAL, "no place for the resampler");
        if (in_rate < UDK_RESAMPLER_RATE_MIN || in_rate > UDK_RESAMPLER_RATE_MAX)
                return fail(err, err_size, -EINVAL, "input rate %u Hz: outside %u..%u", in_rate,
                            UDK_RESAMPLER_RATE_MIN, UDK_RESAMPLER_RATE_MAX);
        if (out_rate < UDK_RESAMPLER_RATE_MIN || out_rate > UDK_RESAMPLER_RATE_MAX)
                return fail(err, err_size, -EINVAL, "output rate %u Hz: outside %u..%u", out_rate,
                            UDK_RESAMPLER_RATE_MIN, UDK_RESAMPLER_RATE_MAX);
        if (channels == 0 || channels > UDK_CHANNELS_MAX)
                return fail(err, err_size, -EINVAL, "%u channels: 1..%u", channels, UDK_CHANNELS_MAX);
        if ((unsigned)quality >= UDK_RESAMPLER_QUALITY_COUNT)
                return fail(err, err_size, -EINVAL, "quality %d: unknown", (int)quality);
        if (flags & ~UDK_RESAMPLER_VARIABLE)
                return fail(err, err_size, -EINVAL, "flags 0x%x: unknown", flags);

        r = calloc(1, sizeof(*r));
        if (!r)
                return fail(err, err_size, -ENOMEM, "out of memory");
        r->channels = channels;
        r->quality = quality_resolve(quality);
        r->variable = flags & UDK_RESAMPLER_VARIABLE;
        r->nominal = r->ratio = (double)in_rate / out_rate;

        q = soxr_quality_spec(qualities[r->quality].recipe, r->variable ? SOXR_VR : 0);
        if (r->variable)
                /* In variable-rate mode the rates only bound the ratio. */
                r->soxr = soxr_create(r->nominal * (1.0 + RESAMPLER_VARIABLE_SPAN), 1.0, channels, &e, &io,
                                      &q, &rt);
        else
                r->soxr = soxr_create(in_rate, out_rate, channels, &e, &io, &q, &rt);
        if (!r->soxr || e) {
                rc = fail(err, err_size, -EINVAL, "libsoxr refused %u -> %u Hz, %u channels: %s", in_rate,
                          out_rate, channels, e ? e : "no reason given");
                goto fail;
        }
        if (r->variable) {
                e = soxr_set_io_ratio(r->soxr, r->nominal, 0);
                if (e) {
                        rc = fail(err, err_size, -EINVAL, "libsoxr refused the ratio %.9g: %s", r->nominal,
                                  e);
                        goto fail;
                }
        }
        rc = resampler_prime(r, in_rate);
        if (rc < 0) {
                fail(err, err_size, rc, "libsoxr failed on silence: %s",
                     rc == -ENOMEM ? "out of memory" : soxr_error(r->soxr));
                goto fail;
        }
        *ret = r;
        return 0;

fail:
        udk_resampler_destroy(r);
        return rc;
}

struct udk_resampler *udk_resampler_destroy(struct udk_resampler *r)
{
        if (!r)
                return NULL;
        if (r->soxr)
                soxr_delete(r->soxr);
        free(r);
        return NULL;
}

int udk_resampler_process(struct udk_resampler *r, const float *in, size_t in_frames, size_t *ret_in_done,
                          float *out, size_t out_max, size_t *ret_out_done)
{
        size_t idone = 0, odone = 0;

        if (!ret_in_done && in_frames > UDK_RESAMPLER_FRAMES_MAX)
                return -EINVAL;
        if (!r->failed) {
                /* A non-NULL in with 0 frames: libsoxr would take a NULL one as end of input.
                 * Without ret_in_done libsoxr takes all of @in. */
                soxr_error_t e = soxr_process(r->soxr, in ? (const void *)in : (const void *)out,
                                              in ? UDK_MIN(in_frames, (size_t)UDK_RESAMPLER_FRAMES_MAX) : 0,
                                              ret_in_done ? &idone : NULL, out, out_max, &odone);
                if (e)
                        r->failed = true;
                if (!ret_in_done)
                        idone = in ? in_frames : 0;
                r->in_total += idone;
                r->out_total += odone;
        }
        if (ret_in_done)
                *ret_in_done = idone;
        if (ret_out_done)
                *ret_out_done = odone;
        return r->failed ? -EIO : 0;
}

int udk_resampler_set_ratio(struct udk_resampler *r, double ratio, size_t slew)
{
        if (!r->variable || !isfinite(ratio) || fabs(ratio / r->nominal - 1.0) > RESAMPLER_VARIABLE_SPAN)
                return -EINVAL;
        if (soxr_set_io_ratio(r->soxr, ratio, slew))
                return -EIO;
        r->ratio = ratio;
        return 0;
}

double udk_resampler_ratio(const struct udk_resampler *r)
{
        return r->ratio;
}

double udk_resampler_nominal_ratio(const struct udk_resampler *r)
{
        return r->nominal;
}

double udk_resampler_delay(const struct udk_resampler *r)
{
        return soxr_delay(r->soxr) + r->group_delay;
}

uint32_t udk_resampler_channels(const struct udk_resampler *r)
{
        return r->channels;
}

enum udk_resampler_quality udk_resampler_quality(const struct udk_resampler *r)
{
        return r->quality;
}
