/* SPDX-License-Identifier: MIT */
/*
 * Readers of other tools' output: cyclictest's histogram and callgrind's
 * totals.  The text comes from outside, so every number is checked and a
 * line that does not fit is skipped, never trusted.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "bench.h"

/* Cap on histogram buckets: cyclictest's -h is in microseconds, and a
 * bucket past a minute is a broken line rather than a latency. */
#define HIST_BUCKETS_MAX 60000000u

struct us_histogram {
        uint64_t *counts; /* counts[k]: samples of k microseconds, all threads */
        size_t n;
        uint64_t overflows;
        uint64_t total;
        double min, max; /* over all threads; NAN until seen */
};

/* Parse the unsigned decimal word at *@p (leading blanks skipped), move past it. */
static bool next_uint(const char **p, uint64_t *ret)
{
        const char *s = *p + strspn(*p, " \t");
        size_t len = strspn(s, "0123456789");
        char word[24];
        int64_t v;

        if (len == 0 || len >= sizeof(word))
                return false;
        memcpy(word, s, len);
        word[len] = '\0';
        /* Leading zeros are cyclictest's padding, not octal: skip them. */
        while (word[0] == '0' && word[1] != '\0')
                memmove(word, word + 1, strlen(word));
        if (udk_parse_int64(word, 0, INT64_MAX, &v) < 0)
                return false;
        *p = s + len;
        *ret = (uint64_t)v;
        return true;
}

/* The line ends here (blanks aside). */
static bool at_line_end(const char *p)
{
        p += strspn(p, " \t\r");
        return *p == '\0' || *p == '\n';
}

static int hist_add(struct us_histogram *h, uint64_t bucket, uint64_t count)
{
        if (bucket >= HIST_BUCKETS_MAX)
                return -ERANGE;
        if (bucket >= h->n) {
                size_t n = UDK_MAX((size_t)bucket + 1, h->n * 2);
                uint64_t *c = realloc(h->counts, n * sizeof(*c));
                if (!c)
                        return -ENOMEM;
                memset(c + h->n, 0, (n - h->n) * sizeof(*c));
                h->counts = c;
                h->n = n;
        }
        h->counts[bucket] += count;
        h->total += count;
        return 0;
}

/* "NNNNNN CCCCCC [CCCCCC...]": a bucket and one count per thread. */
static int parse_bucket_line(struct us_histogram *h, const char *line)
{
        uint64_t bucket, count, sum = 0;
        const char *p = line;

        if (!next_uint(&p, &bucket))
                return 0;
        while (next_uint(&p, &count))
                sum += count;
        if (!at_line_end(p))
                return 0;
        return sum ? hist_add(h, bucket, sum) : 0;
}

/* "# <label>: V [V...]": fold every value with @fold into *@acc. */
static bool parse_summary_line(const char *line, const char *label, double *acc,
                               double (*fold)(double, double))
{
        size_t len = strlen(label);
        const char *p = line + 1;
        uint64_t v;
        bool any = false;

        p += strspn(p, " \t");
        if (strncmp(p, label, len) != 0 || p[len] != ':')
                return false;
        p += len + 1;
        while (next_uint(&p, &v)) {
                *acc = isnan(*acc) ? (double)v : fold(*acc, (double)v);
                any = true;
        }
        return any;
}

static double fold_min(double a, double b)
{
        return fmin(a, b);
}

static double fold_max(double a, double b)
{
        return fmax(a, b);
}

static double fold_sum(double a, double b)
{
        return a + b;
}

static int hist_parse(struct us_histogram *h, const char *text)
{
        double overflows = NAN;

        for (const char *line = text; line && *line;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                int r = 0;
                if (line[0] == '#') {
                        if (!parse_summary_line(line, "Min Latencies", &h->min, fold_min) &&
                            !parse_summary_line(line, "Max Latencies", &h->max, fold_max))
                                parse_summary_line(line, "Histogram Overflows", &overflows, fold_sum);
                } else {
                        r = parse_bucket_line(h, line);
                }
                if (r < 0)
                        return r;
        }
        h->overflows = isnan(overflows) ? 0 : (uint64_t)overflows;
        return 0;
}

/* The rule of bench.h: the bucket where rank ceil(q n) falls, in [min, max]. */
static double hist_percentile(const struct us_histogram *h, double q)
{
        uint64_t n = h->total + h->overflows;
        uint64_t rank = (uint64_t)ceil(q * (double)n), seen = 0;

        rank = UDK_CLAMP(rank, 1, n);
        for (size_t k = 0; k < h->n; k++) {
                seen += h->counts[k];
                if (seen >= rank)
                        return UDK_CLAMP((double)k, h->min, h->max);
        }
        return h->max;
}

int bench_cyclictest_parse(const char *text, struct bench_latency *ret, char *err, size_t err_size)
{
        struct us_histogram h = { .min = NAN, .max = NAN };
        int r;

        r = hist_parse(&h, text);
        if (r == -ERANGE) {
                snprintf(err, err_size, "cyclictest's histogram has a bucket past %u us", HIST_BUCKETS_MAX);
                r = -EBADMSG;
                goto out;
        }
        if (r < 0) {
                snprintf(err, err_size, "cannot read cyclictest's histogram: %s", strerror(-r));
                goto out;
        }
        r = -EBADMSG;
        if (isnan(h.max)) {
                snprintf(err, err_size,
                         "cyclictest printed no \"# Max Latencies\" line (was it run with -h?)");
                goto out;
        }
        if (h.total + h.overflows == 0) {
                snprintf(err, err_size, "cyclictest's histogram has no samples");
                goto out;
        }
        if (isnan(h.min))
                h.min = 0;
        *ret = (struct bench_latency){
                .count = h.total + h.overflows,
                .p50 = hist_percentile(&h, 0.5),
                .p99 = hist_percentile(&h, 0.99),
                .p999 = hist_percentile(&h, 0.999),
                .max = h.max,
        };
        r = 0;
out:
        free(h.counts);
        return r;
}

int bench_callgrind_parse(const char *text, uint64_t *ret)
{
        static const char *const labels[] = { "totals:", "summary:" };

        for (size_t i = 0; i < UDK_ELEMENTSOF(labels); i++) {
                size_t len = strlen(labels[i]);
                for (const char *line = text; line && *line;
                     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                        const char *p = line + len;
                        uint64_t v;
                        if (strncmp(line, labels[i], len) != 0)
                                continue;
                        if (!next_uint(&p, &v))
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}
