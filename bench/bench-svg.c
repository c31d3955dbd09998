/* SPDX-License-Identifier: MIT */
/*
 * The per-hop distributions of udk-bench compare as an SVG written by hand:
 * for each server the fraction of hops that took longer than x, against x,
 * both on log scales, so the median and the tail read off one curve.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <udk/util.h>

#include "bench-compare.h"

#define WIDTH         860.0
#define HEIGHT        520.0
#define LEFT          80.0
#define RIGHT         250.0 /* room for the legend */
#define TOP           50.0
#define BOTTOM        70.0
#define PLOT_W        (WIDTH - LEFT - RIGHT)
#define PLOT_H        (HEIGHT - TOP - BOTTOM)
#define DECADES_Y_MAX 7

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" };

struct axes {
        double x_lo, x_hi; /* log10 us */
        double y_lo;       /* log10 of the smallest fraction shown; the top is 0 (all samples) */
};

static uint64_t hist_count(const struct udk_histogram *h)
{
        return atomic_load_explicit(&h->count, memory_order_relaxed);
}

static double x_of(const struct axes *a, double us)
{
        double l = log10(UDK_MAX(us, 1e-3));

        return LEFT + PLOT_W * (l - a->x_lo) / (a->x_hi - a->x_lo);
}

static double y_of(const struct axes *a, double fraction)
{
        double l = fraction > 0 ? log10(fraction) : a->y_lo;

        if (l < a->y_lo)
                l = a->y_lo;
        return TOP + PLOT_H * (l / a->y_lo);
}

static void find_axes(const struct bench_svg_series *series, size_t n, struct axes *ret)
{
        double lo = INFINITY, hi = -INFINITY;
        uint64_t most = 1;

        for (size_t i = 0; i < n; i++) {
                const struct udk_histogram *h = series[i].hist;
                uint64_t count = hist_count(h);
                if (count == 0)
                        continue;
                lo = fmin(lo, (double)atomic_load_explicit(&h->min, memory_order_relaxed) / 1000.0);
                hi = fmax(hi, (double)atomic_load_explicit(&h->max, memory_order_relaxed) / 1000.0);
                most = UDK_MAX(most, count);
        }
        if (!isfinite(lo)) {
                lo = 1.0;
                hi = 100.0;
        }
        ret->x_lo = floor(log10(UDK_MAX(lo, 0.1)));
        ret->x_hi = ceil(log10(UDK_MAX(hi, 0.1)));
        if (ret->x_hi <= ret->x_lo)
                ret->x_hi = ret->x_lo + 1;
        ret->y_lo = -UDK_MIN(ceil(log10((double)most)), (double)DECADES_Y_MAX);
        if (ret->y_lo > -1)
                ret->y_lo = -1;
}

static void draw_axes(FILE *out, const struct axes *a, const char *title)
{
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#000\"/>\n",
                LEFT, TOP, PLOT_W, PLOT_H);
        /* x: 1, 2 and 5 of each decade, labelled; grid lines at the decades. */
        for (int d = (int)a->x_lo; d <= (int)a->x_hi; d++) {
                static const double steps[] = { 1, 2, 5 };
                for (size_t s = 0; s < UDK_ELEMENTSOF(steps); s++) {
                        double us = steps[s] * pow(10, d), x;
                        if (log10(us) > a->x_hi + 1e-9)
                                break;
                        x = x_of(a, us);
                        if (s == 0)
                                fprintf(out,
                                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                        "stroke=\"#ddd\"/>\n",
                                        x, TOP, x, TOP + PLOT_H);
                        fprintf(out,
                                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
                                x, TOP + PLOT_H, x, TOP + PLOT_H + 5);
                        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x,
                                TOP + PLOT_H + 20, us);
                }
        }
        /* y: each decade of the fraction. */
        for (int d = 0; d >= (int)a->y_lo; d--) {
                double y = y_of(a, pow(10, d));
                fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                        LEFT, y, LEFT + PLOT_W, y);
                fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n", LEFT - 8,
                        y + 4, d);
        }
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">per-hop wake (µs, log scale)</text>\n",
                LEFT + PLOT_W / 2, HEIGHT - 25);
        fprintf(out,
                "<text transform=\"translate(20 %.1f) rotate(-90)\" text-anchor=\"middle\">fraction of hops "
                "longer (log scale)</text>\n",
                TOP + PLOT_H / 2);
        fprintf(out, "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">",
                LEFT + PLOT_W / 2);
        for (const char *p = title; *p; p++) {
                if (*p == '<')
                        fputs("&lt;", out);
                else if (*p == '&')
                        fputs("&amp;", out);
                else
                        fputc(*p, out);
        }
        fputs("</text>\n", out);
}

/* The curve: from (min, 1) each bucket's upper value with the fraction above it. */
static void draw_series(FILE *out, const struct axes *a, const struct udk_histogram *h, const char *color)
{
        uint64_t count = hist_count(h), seen = 0, max = atomic_load_explicit(&h->max, memory_order_relaxed);
        double prev_y = y_of(a, 1.0);

        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%.1f,%.1f", color,
                x_of(a, (double)atomic_load_explicit(&h->min, memory_order_relaxed) / 1000.0), prev_y);
        for (uint32_t b = 0; b < UDK_HIST_BUCKETS && seen < count; b++) {
                uint64_t in = atomic_load_explicit(&h->buckets[b], memory_order_relaxed), upper;
                double x, y;
                if (in == 0)
                        continue;
                seen += in;
                upper = UDK_MIN(udk_histogram_bucket_upper(b) - 1, max);
                x = x_of(a, (double)upper / 1000.0);
                y = y_of(a, (double)(count - UDK_MIN(seen, count)) / (double)count);
                /* A step: along at the old fraction, then down to the new one. */
                fprintf(out, " %.1f,%.1f %.1f,%.1f", x, prev_y, x, y);
                prev_y = y;
        }
        fputs("\"/>\n", out);
}

static void draw_legend(FILE *out, const struct bench_svg_series *series, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct udk_histogram *h = series[i].hist;
                double y = TOP + 20 + 40.0 * (double)i;
                const char *color = colors[i % UDK_ELEMENTSOF(colors)];
                struct udk_histogram_summary s;

                udk_histogram_summarize(h, &s);
                fprintf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                        "stroke-width=\"3\"/>\n",
                        LEFT + PLOT_W + 15, y - 4, LEFT + PLOT_W + 40, y - 4, color);
                fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", LEFT + PLOT_W + 48, y,
                        series[i].name);
                if (s.count == 0)
                        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">no samples</text>\n",
                                LEFT + PLOT_W + 48, y + 15);
                else
                        fprintf(out,
                                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">p50 %.1f µs, p99.9 %.1f µs, "
                                "%llu "
                                "hops</text>\n",
                                LEFT + PLOT_W + 48, y + 15, s.p50 / 1000.0, s.p999 / 1000.0,
                                (unsigned long long)s.count);
        }
}

int bench_svg_write_ccdf(FILE *out, const char *title, const struct bench_svg_series *series, size_t n)
{
        struct axes a;

        find_axes(series, n, &a);
        fprintf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 "
                "%.0f %.0f\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
                WIDTH, HEIGHT, WIDTH, HEIGHT);
        draw_axes(out, &a, title);
        for (size_t i = 0; i < n; i++)
                if (hist_count(series[i].hist) > 0)
                        draw_series(out, &a, series[i].hist, colors[i % UDK_ELEMENTSOF(colors)]);
        draw_legend(out, series, n);
        fputs("</svg>\n", out);
        return ferror(out) ? -EIO : 0;
}
