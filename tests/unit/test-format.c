/* SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdint.h>

#include <udk/format.h>
#include <udk/util.h>

#include "udk-test.h"

#define S24_MIN (-8388608)
#define S24_MAX 8388607
#define LSB16   (1.0f / 32768.0f)
#define LSB24   (1.0f / 8388608.0f)
#define LSB32   (1.0f / 2147483648.0f)

/* One sample through from_f32, read back as a sign-extended integer. */
static int64_t from_one(enum udk_sample_format format, float x)
{
        uint8_t b[4] = {0};
        int16_t s16;
        int32_t s32;

        udk_format_from_f32(format, b, &x, 1);
        switch (format) {
        case UDK_FORMAT_S16:
                memcpy(&s16, b, 2);
                return s16;
        case UDK_FORMAT_S24_3:
                return (int32_t)((uint32_t)b[0] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 24) >> 8;
        case UDK_FORMAT_S24_4:
        case UDK_FORMAT_S32:
                memcpy(&s32, b, 4);
                return s32;
        default:
                udk_test_fail("not an integer format: %d", format);
        }
}

/* The integer @v as @format's bytes, converted to float. */
static float to_one(enum udk_sample_format format, int64_t v)
{
        uint8_t b[4];
        uint32_t u = (uint32_t)v;
        float f = NAN;

        memcpy(b, &u, 4); /* little-endian host: the low bytes first */
        udk_format_to_f32(format, &f, b, 1);
        return f;
}

/* The reference the fast code must match: lrint in double, clipped, NaN 0. */
static int64_t reference(float x, int bits)
{
        double scale = ldexp(1.0, bits - 1), v;

        if (isnan(x))
                return 0;
        v = (double)x * scale;
        if (v <= -scale)
                return (int64_t)-scale;
        if (v >= scale - 1)
                return (int64_t)scale - 1;
        return (int64_t)llrint(v);
}

static void test_size_and_name(void)
{
        const int minus_one = -1;

        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_F32), 4);
        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_S16), 2);
        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_S24_3), 3);
        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_S24_4), 4);
        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_S32), 4);
        ASSERT_UINT_EQ(udk_format_size(UDK_FORMAT_COUNT), 0);
        ASSERT_UINT_EQ(udk_format_size((enum udk_sample_format)minus_one), 0);

        ASSERT_STR_EQ(udk_format_name(UDK_FORMAT_F32), "f32");
        ASSERT_STR_EQ(udk_format_name(UDK_FORMAT_S16), "s16");
        ASSERT_STR_EQ(udk_format_name(UDK_FORMAT_S24_3), "s24_3");
        ASSERT_STR_EQ(udk_format_name(UDK_FORMAT_S24_4), "s24_4");
        ASSERT_STR_EQ(udk_format_name(UDK_FORMAT_S32), "s32");
        ASSERT_TRUE(udk_format_name(UDK_FORMAT_COUNT) == NULL);
        ASSERT_TRUE(udk_format_name((enum udk_sample_format)minus_one) == NULL);
}

static void test_from_name(void)
{
        static const struct {
                const char *name;
                enum udk_sample_format format;
        } table[] = {
            {"f32", UDK_FORMAT_F32},       {"F32", UDK_FORMAT_F32},         {"float", UDK_FORMAT_F32},
            {"FLOAT32", UDK_FORMAT_F32},   {"f32le", UDK_FORMAT_F32},       {"F32LE", UDK_FORMAT_F32},
            {"s16", UDK_FORMAT_S16},       {"S16_", UDK_FORMAT_COUNT},      {"s16le", UDK_FORMAT_S16},
            {"S16LE", UDK_FORMAT_S16},     {"s24_3", UDK_FORMAT_S24_3},     {"S24_3LE", UDK_FORMAT_S24_3},
            {"s24_4", UDK_FORMAT_S24_4},   {"s24_4le", UDK_FORMAT_S24_4},   {"s24", UDK_FORMAT_S24_4},
            {"S24LE", UDK_FORMAT_S24_4},   {"s32", UDK_FORMAT_S32},         {"S32le", UDK_FORMAT_S32},
            {"s8", UDK_FORMAT_COUNT},      {"", UDK_FORMAT_COUNT},          {"f32 ", UDK_FORMAT_COUNT},
            {"s24_", UDK_FORMAT_COUNT},    {"f64", UDK_FORMAT_COUNT},       {"u16", UDK_FORMAT_COUNT},
            {"s24_3be", UDK_FORMAT_COUNT}, {"float32le", UDK_FORMAT_COUNT},
        };
        enum udk_sample_format f;

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                f = (enum udk_sample_format)99;
                if (table[i].format == UDK_FORMAT_COUNT) {
                        ASSERT_ERROR(udk_format_from_name(table[i].name, &f), EINVAL);
                        ASSERT_INT_EQ(f, 99); /* untouched on failure */
                } else {
                        ASSERT_OK(udk_format_from_name(table[i].name, &f));
                        if (f != table[i].format)
                                udk_test_fail("\"%s\": got %d, want %d", table[i].name, f, table[i].format);
                }
        }
        /* Every canonical name parses back to its format. */
        for (int i = 0; i < UDK_FORMAT_COUNT; i++) {
                ASSERT_OK(udk_format_from_name(udk_format_name((enum udk_sample_format)i), &f));
                ASSERT_INT_EQ(f, i);
        }
        ASSERT_ERROR(udk_format_from_name(NULL, &f), EINVAL);
        ASSERT_ERROR(udk_format_from_name("f32", NULL), EINVAL);
}

static void test_s16_exact(void)
{
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S16, -32768), -1.0f);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S16, 32767), 32767.0f / 32768.0f);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S16, 0), 0.0f);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S16, 1), LSB16);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S16, -1), -LSB16);

        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -1.0f), -32768);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 1.0f), 32767); /* clipped */
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 0.0f), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -0.0f), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, LSB16), 1);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -LSB16), -1);
        /* Half an LSB rounds to even, as lrintf. */
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 0.5f * LSB16), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 1.5f * LSB16), 2);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 2.5f * LSB16), 2);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -0.5f * LSB16), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -1.5f * LSB16), -2);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, nextafterf(0.5f * LSB16, 1.0f)), 1);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, nextafterf(0.5f * LSB16, 0.0f)), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 0.4f * LSB16), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 0.6f * LSB16), 1);
        /* Just under full scale rounds up to 32768 and is clipped. */
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 32767.5f * LSB16), 32767);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, nextafterf(1.0f, 0.0f)), 32767);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -32767.5f * LSB16), -32768);
        /* Out of range clips, NaN is 0. */
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 1.5f), 32767);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -1.5f), -32768);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, 1e30f), 32767);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -1e30f), -32768);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, INFINITY), 32767);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -INFINITY), -32768);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, NAN), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S16, -NAN), 0);
}

static void test_s24_exact(void)
{
        static const enum udk_sample_format formats[] = {UDK_FORMAT_S24_3, UDK_FORMAT_S24_4};

        for (size_t i = 0; i < 2; i++) {
                enum udk_sample_format f = formats[i];

                ASSERT_FLOAT_EQ(to_one(f, S24_MIN), -1.0f);
                ASSERT_FLOAT_EQ(to_one(f, S24_MAX), 8388607.0f / 8388608.0f);
                ASSERT_FLOAT_EQ(to_one(f, 0), 0.0f);
                ASSERT_FLOAT_EQ(to_one(f, 1), LSB24);
                ASSERT_FLOAT_EQ(to_one(f, -1), -LSB24);

                ASSERT_INT_EQ(from_one(f, -1.0f), S24_MIN);
                ASSERT_INT_EQ(from_one(f, 1.0f), S24_MAX);
                ASSERT_INT_EQ(from_one(f, 0.0f), 0);
                ASSERT_INT_EQ(from_one(f, LSB24), 1);
                ASSERT_INT_EQ(from_one(f, -LSB24), -1);
                ASSERT_INT_EQ(from_one(f, 0.5f * LSB24), 0);
                ASSERT_INT_EQ(from_one(f, 1.5f * LSB24), 2);
                ASSERT_INT_EQ(from_one(f, 2.5f * LSB24), 2);
                ASSERT_INT_EQ(from_one(f, -2.5f * LSB24), -2);
                ASSERT_INT_EQ(from_one(f, -3.5f * LSB24), -4);
                /* 1 - 2^-24 is 8388607.5 LSB: a tie that rounds to 2^23, clipped. */
                ASSERT_INT_EQ(from_one(f, nextafterf(1.0f, 0.0f)), S24_MAX);
                ASSERT_INT_EQ(from_one(f, nextafterf(-1.0f, 0.0f)), S24_MIN); /* -8388607.5: even */
                ASSERT_INT_EQ(from_one(f, 0.75f + 0.5f * LSB24), 6291456);    /* tie, even below */
                ASSERT_INT_EQ(from_one(f, 0.75f + 1.5f * LSB24), 6291458);    /* tie, even above */
                ASSERT_INT_EQ(from_one(f, 2.0f), S24_MAX);
                ASSERT_INT_EQ(from_one(f, -2.0f), S24_MIN);
                ASSERT_INT_EQ(from_one(f, INFINITY), S24_MAX);
                ASSERT_INT_EQ(from_one(f, -INFINITY), S24_MIN);
                ASSERT_INT_EQ(from_one(f, NAN), 0);
        }
}

static void test_s32_exact(void)
{
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, INT32_MIN), -1.0f);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, INT32_MAX), 1.0f); /* float has 24 bits */
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, 0), 0.0f);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, 1), LSB32);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, -1), -LSB32);
        ASSERT_FLOAT_EQ(to_one(UDK_FORMAT_S32, 0x40000000), 0.5f);

        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, -1.0f), INT32_MIN);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 1.0f), INT32_MAX);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 0.0f), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, LSB32), 1);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, -LSB32), -1);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 0.5f * LSB32), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 1.5f * LSB32), 2);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 2.5f * LSB32), 2);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, -1.5f * LSB32), -2);
        /* The largest float under 1.0 is 2^31 - 128 exactly: scaling in double keeps it. */
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, nextafterf(1.0f, 0.0f)), 2147483520);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 0x123456p-31f), 0x123456);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, 2.0f), INT32_MAX);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, -2.0f), INT32_MIN);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, FLT_MAX), INT32_MAX);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, INFINITY), INT32_MAX);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, -INFINITY), INT32_MIN);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, NAN), 0);
        ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, FLT_MIN), 0);

        /* Values with at most 24 significant bits survive a round trip. */
        for (int64_t k = -(1 << 23); k < (1 << 23); k += 4099) {
                int32_t v = (int32_t)(k * 256);
                ASSERT_INT_EQ(from_one(UDK_FORMAT_S32, to_one(UDK_FORMAT_S32, v)), v);
        }
}

/* Every bit pattern class: NaNs of both signs (quiet and signalling) give 0 in every integer format. */
static void test_nan_is_zero(void)
{
        static const uint32_t nans[] = {0x7fc00000, 0xffc00000, 0x7f800001,
                                        0xff800001, 0x7fffffff, 0xffffffff};
        static const enum udk_sample_format formats[] = {UDK_FORMAT_S16, UDK_FORMAT_S24_3, UDK_FORMAT_S24_4,
                                                         UDK_FORMAT_S32};

        for (size_t f = 0; f < 4; f++)
                for (size_t i = 0; i < sizeof(nans) / sizeof(nans[0]); i++)
                        ASSERT_INT_EQ(from_one(formats[f], udk_float_from_bits(nans[i])), 0);
}

static void test_s16_round_trip_all(void)
{
        static int16_t in[65536], out[65536];
        static float f[65536];

        for (int i = 0; i < 65536; i++)
                in[i] = (int16_t)(i - 32768);
        memset(out, 0x55, sizeof(out));
        udk_format_to_f32(UDK_FORMAT_S16, f, in, 65536);
        udk_format_from_f32(UDK_FORMAT_S16, out, f, 65536);
        for (int i = 0; i < 65536; i++) {
                ASSERT_FLOAT_EQ(f[i], (float)(i - 32768) / 32768.0f);
                ASSERT_INT_EQ(out[i], in[i]);
        }
}

/* Every one of the 2^24 values, in both containers, in blocks. */
static void test_s24_round_trip_all(void)
{
        enum { BLOCK = 65536 };
        static uint8_t in3[3 * BLOCK], out3[3 * BLOCK];
        static int32_t in4[BLOCK], out4[BLOCK];
        static float f3[BLOCK], f4[BLOCK];

        for (int32_t base = S24_MIN; base <= S24_MAX; base += BLOCK) {
                for (int i = 0; i < BLOCK; i++) {
                        uint32_t u = (uint32_t)(base + i);
                        in3[3 * i] = (uint8_t)u;
                        in3[3 * i + 1] = (uint8_t)(u >> 8);
                        in3[3 * i + 2] = (uint8_t)(u >> 16);
                        in4[i] = base + i;
                }
                udk_format_to_f32(UDK_FORMAT_S24_3, f3, in3, BLOCK);
                udk_format_to_f32(UDK_FORMAT_S24_4, f4, in4, BLOCK);
                udk_format_from_f32(UDK_FORMAT_S24_3, out3, f3, BLOCK);
                udk_format_from_f32(UDK_FORMAT_S24_4, out4, f4, BLOCK);
                for (int i = 0; i < BLOCK; i++) {
                        float want = (float)(base + i) * LSB24;
                        if (f3[i] != want || f4[i] != want)
                                udk_test_fail("%d: %.9g %.9g, want %.9g", base + i, f3[i], f4[i], want);
                }
                if (memcmp(in3, out3, sizeof(in3)) != 0 || memcmp(in4, out4, sizeof(in4)) != 0)
                        udk_test_fail("block at %d does not round-trip", base);
        }
}

static void test_s24_layout(void)
{
        static const float x[] = {-1.0f, 1.0f, LSB24, -LSB24, 0x123456p-23f, -0x123456p-23f, 0.0f};
        static const uint8_t want3[] = {
            0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0x01, 0x00, 0x00, 0xff, 0xff,
            0xff, 0x56, 0x34, 0x12, 0xaa, 0xcb, 0xed, 0x00, 0x00, 0x00,
        };
        static const uint8_t want4[] = {
            0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff,
            0xff, 0xff, 0x56, 0x34, 0x12, 0x00, 0xaa, 0xcb, 0xed, 0xff, 0x00, 0x00, 0x00, 0x00,
        };
        uint8_t out3[sizeof(want3) + 1], out4[sizeof(want4) + 1];
        float back[7];

        memset(out3, 0xee, sizeof(out3));
        memset(out4, 0xee, sizeof(out4));
        udk_format_from_f32(UDK_FORMAT_S24_3, out3, x, 7);
        udk_format_from_f32(UDK_FORMAT_S24_4, out4, x, 7);
        for (size_t i = 0; i < sizeof(want3); i++)
                if (out3[i] != want3[i])
                        udk_test_fail("s24_3 byte %zu: %02x, want %02x", i, out3[i], want3[i]);
        for (size_t i = 0; i < sizeof(want4); i++)
                if (out4[i] != want4[i])
                        udk_test_fail("s24_4 byte %zu: %02x, want %02x", i, out4[i], want4[i]);
        ASSERT_UINT_EQ(out3[sizeof(want3)], 0xee); /* nothing past the end */
        ASSERT_UINT_EQ(out4[sizeof(want4)], 0xee);

        udk_format_to_f32(UDK_FORMAT_S24_3, back, want3, 7);
        for (size_t i = 0; i < 7; i++)
                ASSERT_FLOAT_EQ(back[i], i == 1 ? 8388607.0f / 8388608.0f : x[i]);

        /* s24_4 reads the low 24 bits and ignores the top byte. */
        static const uint8_t loose[] = {0x01, 0x00, 0x00, 0x7a, 0xff, 0xff, 0xff, 0x00,
                                        0x00, 0x00, 0x80, 0x00, 0xff, 0xff, 0x7f, 0xff};
        udk_format_to_f32(UDK_FORMAT_S24_4, back, loose, 4);
        ASSERT_FLOAT_EQ(back[0], LSB24);
        ASSERT_FLOAT_EQ(back[1], -LSB24);
        ASSERT_FLOAT_EQ(back[2], -1.0f);
        ASSERT_FLOAT_EQ(back[3], 8388607.0f / 8388608.0f);
}

static void test_s16_s32_layout(void)
{
        static const float x[] = {-1.0f, 1.0f, 0x1234p-15f, -LSB16};
        static const uint8_t want16[] = {0x00, 0x80, 0xff, 0x7f, 0x34, 0x12, 0xff, 0xff};
        static const uint8_t want32[] = {0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f,
                                         0x00, 0x00, 0x34, 0x12, 0x00, 0x00, 0xff, 0xff};
        uint8_t out16[sizeof(want16)], out32[sizeof(want32)];

        udk_format_from_f32(UDK_FORMAT_S16, out16, x, 4);
        udk_format_from_f32(UDK_FORMAT_S32, out32, x, 4);
        ASSERT_INT_EQ(memcmp(out16, want16, sizeof(want16)), 0);
        ASSERT_INT_EQ(memcmp(out32, want32, sizeof(want32)), 0);
}

static void test_f32_copy(void)
{
        float src[5] = {1.5f, -2.0f, NAN, INFINITY, 0x1p-140f}, dst[5];

        /* Bit for bit: no clipping, no NaN cleaning in float. */
        udk_format_to_f32(UDK_FORMAT_F32, dst, src, 5);
        ASSERT_INT_EQ(memcmp(dst, src, sizeof(src)), 0);
        memset(dst, 0, sizeof(dst));
        udk_format_from_f32(UDK_FORMAT_F32, dst, src, 5);
        ASSERT_INT_EQ(memcmp(dst, src, sizeof(src)), 0);
        /* In place is allowed. */
        udk_format_to_f32(UDK_FORMAT_F32, src, src, 5);
        ASSERT_INT_EQ(memcmp(dst, src, sizeof(src)), 0);
        ASSERT_UINT_EQ(udk_float_to_bits(dst[2]), udk_float_to_bits(src[2]));
}

static void test_unknown_format(void)
{
        float f[3] = {1.0f, 2.0f, 3.0f};
        uint8_t b[12];

        memset(b, 0x5a, sizeof(b));
        udk_format_to_f32(UDK_FORMAT_COUNT, f, b, 3);
        ASSERT_FLOAT_EQ(f[0], 0.0f);
        ASSERT_FLOAT_EQ(f[2], 0.0f);
        f[0] = 0.5f;
        udk_format_from_f32(UDK_FORMAT_COUNT, b, f, 3);
        for (size_t i = 0; i < sizeof(b); i++)
                ASSERT_UINT_EQ(b[i], 0x5a);
}

/* The integer side at an odd address converts the same (UBSan checks the accesses). */
static void test_unaligned(void)
{
        static const enum udk_sample_format formats[] = {UDK_FORMAT_F32, UDK_FORMAT_S16, UDK_FORMAT_S24_3,
                                                         UDK_FORMAT_S24_4, UDK_FORMAT_S32};
        uint8_t aligned[4 * 9] __attribute__((aligned(16))), raw[4 * 9 + 1] __attribute__((aligned(16)));
        float x[9], want[9], back[9];

        for (int i = 0; i < 9; i++)
                x[i] = (float)(i - 4) / 4.0f;
        for (size_t f = 0; f < 5; f++) {
                size_t size = udk_format_size(formats[f]);

                udk_format_from_f32(formats[f], aligned, x, 9);
                udk_format_to_f32(formats[f], want, aligned, 9);
                udk_format_from_f32(formats[f], raw + 1, x, 9);
                ASSERT_INT_EQ(memcmp(raw + 1, aligned, 9 * size), 0);
                udk_format_to_f32(formats[f], back, raw + 1, 9);
                ASSERT_INT_EQ(memcmp(back, want, sizeof(want)), 0);
                ASSERT_FLOAT_EQ(back[0], -1.0f);
                ASSERT_FLOAT_EQ(back[6], 0.5f);
        }
}

static uint32_t xorshift32(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* Against lrint: random bit patterns (every class of float) and values near full scale and near ties. */
static void test_random_against_reference(void)
{
        enum { N = 4096 };
        static const enum udk_sample_format formats[] = {UDK_FORMAT_S16, UDK_FORMAT_S24_3, UDK_FORMAT_S24_4,
                                                         UDK_FORMAT_S32};
        static const int bits[] = {16, 24, 24, 32};
        static float x[N];
        static uint8_t out[4 * N];
        uint32_t seed = 0x12345678;

        for (int round = 0; round < 64; round++) {
                for (int i = 0; i < N; i++) {
                        uint32_t r = xorshift32(&seed);
                        switch (i % 4) {
                        case 0: /* any bit pattern */
                                x[i] = udk_float_from_bits(r);
                                break;
                        case 1: /* around [-1.1, 1.1] */
                                x[i] = (float)((double)r / 4294967296.0 * 2.2 - 1.1);
                                break;
                        case 2: /* exact half-LSB ties of s16 or s24 */
                                if (r & 1)
                                        x[i] = (float)(((double)((int32_t)r >> 16) + 0.5) * 0x1p-15);
                                else
                                        x[i] = (float)(((double)((int32_t)r >> 8) + 0.5) * 0x1p-23);
                                break;
                        default: /* around s32's LSB */
                                x[i] = udk_float_from_bits((r & 0x807fffff) | 0x30000000);
                                break;
                        }
                }
                for (size_t f = 0; f < 4; f++) {
                        size_t size = udk_format_size(formats[f]);

                        udk_format_from_f32(formats[f], out, x, N);
                        for (int i = 0; i < N; i++) {
                                uint8_t b[4] = {0};
                                int64_t got, want = reference(x[i], bits[f]);
                                uint32_t u;

                                memcpy(b, out + size * i, size);
                                memcpy(&u, b, 4);
                                got = bits[f] == 16   ? (int16_t)u
                                      : bits[f] == 24 ? (int32_t)(u << 8) >> 8
                                                      : (int32_t)u;
                                if (got != want)
                                        udk_test_fail("%s %a (0x%08x): %lld, want %lld",
                                                      udk_format_name(formats[f]), x[i], udk_float_to_bits(x[i]),
                                                      (long long)got, (long long)want);
                        }
                }
        }
}

UDK_TEST_MAIN(test_size_and_name, test_from_name, test_s16_exact, test_s24_exact, test_s32_exact,
              test_nan_is_zero, test_s16_round_trip_all, test_s24_round_trip_all, test_s24_layout,
              test_s16_s32_layout, test_f32_copy, test_unknown_format, test_unaligned,
              test_random_against_reference)
