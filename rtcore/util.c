/* SPDX-License-Identifier: MIT */
/* The checked number parsers and strlcpy declared in udk/util.h. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <udk/util.h>

static int digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int udk_parse_hex(const char *text, uint8_t *buf, size_t size, size_t *ret_len)
{
        size_t len = strlen(text);

        if (len % 2 != 0 || len / 2 > size)
                return -EINVAL;
        for (size_t i = 0; i < len / 2; i++) {
                int hi = digit_value(text[2 * i]), lo = digit_value(text[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                buf[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret_len = len / 2;
        return 0;
}

/*
 * Hand-written rather than strtoll(base 0): that one skips leading blanks
 * and reads "010" as octal, neither of which a config file means.
 */
UDK_EXPORT int udk_parse_int64(const char *text, int64_t min, int64_t max, int64_t *ret)
{
        const char *p = text;
        bool negative = false, overflow = false;
        unsigned base = 10;
        uint64_t mag = 0;
        int64_t value;

        if (!text || !ret || min > max)
                return -EINVAL;

        if (*p == '-' || *p == '+')
                negative = *p++ == '-';
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                base = 16;
                p += 2;
        }
        if (*p == '\0')
                return -EINVAL; /* "", "-", "0x" */

        for (; *p; p++) {
                int d = digit_value(*p);

                if (d < 0 || (unsigned)d >= base)
                        return -EINVAL;
                /* Keep scanning after an overflow: garbage later on is still -EINVAL. */
                if (!overflow && (__builtin_mul_overflow(mag, base, &mag) ||
                                  __builtin_add_overflow(mag, (unsigned)d, &mag)))
                        overflow = true;
        }
        if (overflow)
                return -ERANGE;

        if (negative) {
                if (mag > (uint64_t)INT64_MAX + 1)
                        return -ERANGE;
                value = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        } else {
                if (mag > (uint64_t)INT64_MAX)
                        return -ERANGE;
                value = (int64_t)mag;
        }
        if (value < min || value > max)
                return -ERANGE;

        *ret = value;
        return 0;
}

/* "0.5" must not depend on the process's LC_NUMERIC. */
static locale_t c_locale = (locale_t)0;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

UDK_EXPORT int udk_parse_double(const char *text, double min, double max, double *ret)
{
        char *end = NULL;
        double value;

        if (!text || !ret || !(min <= max))
                return -EINVAL;
        /* strtod skips leading blanks; the whole text must be the number. */
        if (*text == '\0' || isspace((unsigned char)*text))
                return -EINVAL;

        pthread_once(&c_locale_once, c_locale_init);
        errno = 0;
        value = c_locale ? strtod_l(text, &end, c_locale) : strtod(text, &end);
        if (end == text || *end != '\0')
                return -EINVAL;
        /* Overflow reads as +-HUGE_VAL with ERANGE; underflow keeps its tiny value. */
        if (errno == ERANGE && isinf(value))
                return -ERANGE;
        if (!isfinite(value))
                return -EINVAL; /* "nan", "inf", "infinity" */
        if (value < min || value > max)
                return -ERANGE;

        *ret = value;
        return 0;
}

UDK_EXPORT int udk_strlcpy(char *dst, const char *src, size_t size)
{
        size_t len;

        if (!dst || !src || size == 0)
                return -EINVAL;

        len = strlen(src);
        if (len < size) {
                memcpy(dst, src, len + 1);
                return 0;
        }
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return -ENAMETOOLONG;
}
