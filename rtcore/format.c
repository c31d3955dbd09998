/* SPDX-License-Identifier: MIT */
/*
 * Sample format conversion.  The loops are kept branch-free (clipping and
 * NaN handling are integer selects, rounding is the add-and-subtract trick)
 * so the compiler can vectorise them; loads and stores go through memcpy so
 * any alignment is fine.
 */
#include <endian.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include <udk/format.h>
#include <udk/util.h>

/* Adding and subtracting 1.5 * 2^52 rounds a double of magnitude < 2^51 to
 * the nearest integer, ties to even, in the default rounding mode: the same
 * result as lrint() without a call, so the loops vectorise.  It needs every
 * sum rounded to double, which x87 excess precision would not do. */
#define ROUND_MAGIC 6755399441055744.0

static inline double round_even(double v)
{
#if FLT_EVAL_METHOD == 0
        return (v + ROUND_MAGIC) - ROUND_MAGIC;
#else
        return rint(v);
#endif
}

#define S24_MAX  0x7fffff
#define F32_SIGN 0x80000000u
#define F32_ONE  0x3f800000u
#define F32_INF  0x7f800000u

/*
 * @x times @scale (a power of two: 2^(bits-1)), rounded, clipped to
 * [-scale, @max]; NaN gives 0.  Clipping and NaN are decided on the float's
 * bits with integer masks: floating-point compares would leave branches the
 * vectoriser refuses under -ftrapping-math.  A positive x >= 1.0 is set to
 * @max directly, as 1.0 * 2^31 would not fit the int32 conversion.
 */
static inline int32_t quantise(float x, double scale, int32_t max)
{
        uint32_t b, mag, top;
        float y;
        int32_t r;

        memcpy(&b, &x, sizeof(b));
        mag = b & ~F32_SIGN;
        mag = mag > F32_INF ? 0 : mag;          /* NaN */
        mag = mag < F32_ONE ? mag : F32_ONE;    /* -1.0 at most */
        top = b - F32_ONE <= F32_INF - F32_ONE; /* +1.0 up to +inf */
        b = (b & F32_SIGN) | (mag & (top - 1));
        memcpy(&y, &b, sizeof(y));

        r = (int32_t)round_even((double)y * scale); /* exact product, |r| <= scale */
        r = r < max ? r : max;                      /* 1 - 2^-24 rounds up to scale */
        return (r & (int32_t)(top - 1)) | (max & -(int32_t)top);
}

/* Canonical names first, then aliases; "s24" is the 4-byte container, as
 * most hardware and ALSA's S24_LE mean. */
static const struct {
        const char *name;
        enum udk_sample_format format;
} format_names[] = {
    {"f32", UDK_FORMAT_F32},       {"s16", UDK_FORMAT_S16},       {"s24_3", UDK_FORMAT_S24_3},
    {"s24_4", UDK_FORMAT_S24_4},   {"s32", UDK_FORMAT_S32},       {"float", UDK_FORMAT_F32},
    {"float32", UDK_FORMAT_F32},   {"f32le", UDK_FORMAT_F32},     {"s16le", UDK_FORMAT_S16},
    {"s24_3le", UDK_FORMAT_S24_3}, {"s24_4le", UDK_FORMAT_S24_4}, {"s24", UDK_FORMAT_S24_4},
    {"s24le", UDK_FORMAT_S24_4},   {"s32le", UDK_FORMAT_S32},
};

static const size_t format_sizes[UDK_FORMAT_COUNT] = {
    [UDK_FORMAT_F32] = 4,   [UDK_FORMAT_S16] = 2, [UDK_FORMAT_S24_3] = 3,
    [UDK_FORMAT_S24_4] = 4, [UDK_FORMAT_S32] = 4,
};

static const char *const format_canonical[UDK_FORMAT_COUNT] = {
    [UDK_FORMAT_F32] = "f32",     [UDK_FORMAT_S16] = "s16", [UDK_FORMAT_S24_3] = "s24_3",
    [UDK_FORMAT_S24_4] = "s24_4", [UDK_FORMAT_S32] = "s32",
};

UDK_EXPORT size_t udk_format_size(enum udk_sample_format format)
{
        return (unsigned)format < UDK_FORMAT_COUNT ? format_sizes[format] : 0;
}

UDK_EXPORT const char *udk_format_name(enum udk_sample_format format)
{
        return (unsigned)format < UDK_FORMAT_COUNT ? format_canonical[format] : NULL;
}

UDK_EXPORT int udk_format_from_name(const char *name, enum udk_sample_format *ret)
{
        if (!name || !ret)
                return -EINVAL;
        for (size_t i = 0; i < UDK_ELEMENTSOF(format_names); i++)
                if (strcasecmp(name, format_names[i].name) == 0) {
                        *ret = format_names[i].format;
                        return 0;
                }
        return -EINVAL;
}

static void s16_to_f32(float *dst, const uint8_t *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint16_t u;
                memcpy(&u, src + 2 * i, 2);
                dst[i] = (float)(int16_t)le16toh(u) * (1.0f / 32768.0f);
        }
}

static void s24_3_to_f32(float *dst, const uint8_t *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const uint8_t *p = src + 3 * i;
                /* Build the value in the top 3 bytes, then shift down to sign-extend. */
                uint32_t u = (uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24;
                dst[i] = (float)((int32_t)u >> 8) * (1.0f / 8388608.0f);
        }
}

static void s24_4_to_f32(float *dst, const uint8_t *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint32_t u;
                memcpy(&u, src + 4 * i, 4);
                /* The top byte is ignored: the low 24 bits carry the sample. */
                dst[i] = (float)((int32_t)(le32toh(u) << 8) >> 8) * (1.0f / 8388608.0f);
        }
}

static void s32_to_f32(float *dst, const uint8_t *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint32_t u;
                memcpy(&u, src + 4 * i, 4);
                dst[i] = (float)(int32_t)le32toh(u) * (1.0f / 2147483648.0f);
        }
}

UDK_EXPORT void udk_format_to_f32(enum udk_sample_format format, float *dst, const void *src, size_t samples)
{
        switch (format) {
        case UDK_FORMAT_F32:
                if (dst != src)
                        memmove(dst, src, samples * sizeof(float));
                break;
        case UDK_FORMAT_S16:
                s16_to_f32(dst, src, samples);
                break;
        case UDK_FORMAT_S24_3:
                s24_3_to_f32(dst, src, samples);
                break;
        case UDK_FORMAT_S24_4:
                s24_4_to_f32(dst, src, samples);
                break;
        case UDK_FORMAT_S32:
                s32_to_f32(dst, src, samples);
                break;
        default:
                /* Unknown format: hand on silence rather than stale data. */
                memset(dst, 0, samples * sizeof(float));
                break;
        }
}

static void f32_to_s16(uint8_t *dst, const float *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint16_t u = htole16((uint16_t)quantise(src[i], 32768.0, INT16_MAX));
                memcpy(dst + 2 * i, &u, 2);
        }
}

static void f32_to_s24_3(uint8_t *dst, const float *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint32_t u = (uint32_t)quantise(src[i], 8388608.0, S24_MAX);
                uint8_t *p = dst + 3 * i;
                p[0] = (uint8_t)u;
                p[1] = (uint8_t)(u >> 8);
                p[2] = (uint8_t)(u >> 16);
        }
}

static void f32_to_s24_4(uint8_t *dst, const float *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                /* A value in the 24-bit range already has its sign in the top byte. */
                uint32_t u = htole32((uint32_t)quantise(src[i], 8388608.0, S24_MAX));
                memcpy(dst + 4 * i, &u, 4);
        }
}

static void f32_to_s32(uint8_t *dst, const float *src, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint32_t u = htole32((uint32_t)quantise(src[i], 2147483648.0, INT32_MAX));
                memcpy(dst + 4 * i, &u, 4);
        }
}

UDK_EXPORT void udk_format_from_f32(enum udk_sample_format format, void *dst, const float *src,
                                    size_t samples)
{
        switch (format) {
        case UDK_FORMAT_F32:
                if (dst != src)
                        memmove(dst, src, samples * sizeof(float));
                break;
        case UDK_FORMAT_S16:
                f32_to_s16(dst, src, samples);
                break;
        case UDK_FORMAT_S24_3:
                f32_to_s24_3(dst, src, samples);
                break;
        case UDK_FORMAT_S24_4:
                f32_to_s24_4(dst, src, samples);
                break;
        case UDK_FORMAT_S32:
                f32_to_s32(dst, src, samples);
                break;
        default:
                /* Unknown format: its size is unknown too, so write nothing. */
                break;
        }
}
