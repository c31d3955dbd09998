/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by udk's own components (not installed): cleanup
 * attributes in the manner of systemd, array sizes, branch hints and the one
 * checked number parser.  None of these allocate; all are RT-safe unless a
 * comment says otherwise.
 */
#ifndef UDK_UTIL_H
#define UDK_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDK_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define UDK_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define UDK_MAX(a, b)     ((a) > (b) ? (a) : (b))
#define UDK_CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define UDK_LIKELY(x)     __builtin_expect(!!(x), 1)
#define UDK_UNLIKELY(x)   __builtin_expect(!!(x), 0)
#define UDK_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define UDK_CACHELINE     64
#define UDK_EXPORT        __attribute__((visibility("default")))
#define UDK_PRINTF(a, b)  __attribute__((format(printf, a, b)))

/* A float's bits and back, for atomics that hold floats and for tests
 * that compare bit patterns.  RT-safe. */
static inline uint32_t udk_float_to_bits(float f)
{
        uint32_t u;
        memcpy(&u, &f, sizeof(u));
        return u;
}

static inline float udk_float_from_bits(uint32_t u)
{
        float f;
        memcpy(&f, &u, sizeof(f));
        return f;
}

/* Built with AddressSanitizer (gcc says it one way, clang another). */
#if defined(__SANITIZE_ADDRESS__)
#define UDK_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UDK_HAVE_ASAN 1
#endif
#endif
#ifndef UDK_HAVE_ASAN
#define UDK_HAVE_ASAN 0
#endif

#define _udk_cleanup_(f) __attribute__((cleanup(f)))

static inline void udk_freep(void *p)
{
        free(*(void **)p);
}

static inline void udk_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _udk_cleanup_free_  _udk_cleanup_(udk_freep)
#define _udk_cleanup_close_ _udk_cleanup_(udk_closep)

/* Hand ownership out of a cleanup-attributed variable. */
#define UDK_TAKE_PTR(p)                                                                                      \
        ({                                                                                                   \
                __typeof__(p) _p = (p);                                                                      \
                (p) = NULL;                                                                                  \
                _p;                                                                                          \
        })
#define UDK_TAKE_FD(fd)                                                                                      \
        ({                                                                                                   \
                int _fd = (fd);                                                                              \
                (fd) = -1;                                                                                   \
                _fd;                                                                                         \
        })

/*
 * Parse the whole of @text as an integer in [@min, @max] (decimal, or hex
 * with 0x).  Returns 0, -EINVAL for text that is not a number (trailing
 * garbage included) or -ERANGE outside the bounds; *@ret is untouched on
 * failure.  Not RT-safe (strtoll may touch locale data).
 */
int udk_parse_int64(const char *text, int64_t min, int64_t max, int64_t *ret);

/* The same for a finite floating-point number in [@min, @max]. */
int udk_parse_double(const char *text, double min, double max, double *ret);

/* @text, hex digits two a byte and nothing else, into @buf of @size bytes; their count into *@ret_len.
 * -EINVAL for an odd count, another character or more than @size bytes. */
int udk_parse_hex(const char *text, uint8_t *buf, size_t size, size_t *ret_len);

/* Copy @src into @dst of @size bytes, always terminated; -ENAMETOOLONG if cut. */
int udk_strlcpy(char *dst, const char *src, size_t size);

#endif
