/* SPDX-License-Identifier: MIT */
/*
 * Sample formats and their conversion to and from the float32 the IO cycle
 * works in.  All formats are little-endian and interleaved.
 *
 * Integer to float divides by 2^(bits-1), so full scale negative is exactly
 * -1.0.  Float to integer multiplies by 2^(bits-1), rounds to nearest (ties
 * to even, as lrintf) and clips to the integer range (+1.0 becomes the
 * largest positive value); NaN becomes 0.  Every s16 and s24 value survives a
 * round trip exactly.
 */
#ifndef UDK_FORMAT_H
#define UDK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

enum udk_sample_format {
        UDK_FORMAT_F32 = 0, /* float32 */
        UDK_FORMAT_S16,     /* signed 16 bit */
        UDK_FORMAT_S24_3,   /* signed 24 bit in 3 bytes */
        UDK_FORMAT_S24_4,   /* signed 24 bit in the low 3 bytes of 4, sign-extended */
        UDK_FORMAT_S32,     /* signed 32 bit */
        UDK_FORMAT_COUNT,
};

/* Bytes per sample; 0 for an unknown format.  RT-safe. */
size_t udk_format_size(enum udk_sample_format format);

/* "f32", "s16", "s24_3", "s24_4", "s32"; NULL for an unknown format. */
const char *udk_format_name(enum udk_sample_format format);

/* Parse a name above (case-insensitive); -EINVAL if unknown.  Aliases:
 * "float", "float32", "f32le"; "s16le"; "s24_3le"; "s24", "s24le" and
 * "s24_4le" (the 4-byte container, as ALSA's S24_LE); "s32le". */
int udk_format_from_name(const char *name, enum udk_sample_format *ret);

/* Convert @samples samples of @format at @src to float32 at @dst (silence
 * for an unknown format).  The integer side needs no alignment.  RT-safe. */
void udk_format_to_f32(enum udk_sample_format format, float *dst, const void *src, size_t samples);

/* Convert @samples float32 samples at @src to @format at @dst (nothing is
 * written for an unknown format).  The integer side needs no alignment.  RT-safe. */
void udk_format_from_f32(enum udk_sample_format format, void *dst, const float *src, size_t samples);

#endif
