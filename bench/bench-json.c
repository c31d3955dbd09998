/* SPDX-License-Identifier: MIT */
/*
 * A JSON writer just big enough for benchmark reports: it keeps track of
 * commas and indentation, the caller keeps track of what it writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "bench.h"

void bench_json_init(struct bench_json *j, FILE *out)
{
        *j = (struct bench_json){ .out = out };
}

static void indent(struct bench_json *j)
{
        for (unsigned i = 0; i < j->depth; i++)
                fputs("  ", j->out);
}

static void write_string(FILE *out, const char *s)
{
        fputc('"', out);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(out, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", out);
                else if (*p == '\t')
                        fputs("\\t", out);
                else if (*p < 0x20)
                        fprintf(out, "\\u%04x", *p);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
}

/* Start a value: the comma after the previous one, a new line, the key. */
static bool value_begin(struct bench_json *j, const char *key)
{
        if (j->error)
                return false;
        if (j->depth > 0) {
                fputs(j->has_items[j->depth - 1] ? ",\n" : "\n", j->out);
                j->has_items[j->depth - 1] = true;
                indent(j);
        }
        if (key) {
                write_string(j->out, key);
                fputs(": ", j->out);
        }
        return true;
}

static void container_begin(struct bench_json *j, const char *key, char open)
{
        if (!j->error && j->depth >= BENCH_JSON_DEPTH_MAX)
                j->error = -E2BIG;
        if (!value_begin(j, key))
                return;
        fputc(open, j->out);
        j->has_items[j->depth++] = false;
}

static void container_end(struct bench_json *j, char close)
{
        if (j->error || j->depth == 0)
                return;
        j->depth--;
        if (j->has_items[j->depth]) {
                fputc('\n', j->out);
                indent(j);
        }
        fputc(close, j->out);
        if (j->depth == 0)
                fputc('\n', j->out);
}

void bench_json_begin_object(struct bench_json *j, const char *key)
{
        container_begin(j, key, '{');
}

void bench_json_end_object(struct bench_json *j)
{
        container_end(j, '}');
}

void bench_json_begin_array(struct bench_json *j, const char *key)
{
        container_begin(j, key, '[');
}

void bench_json_end_array(struct bench_json *j)
{
        container_end(j, ']');
}

void bench_json_number(struct bench_json *j, const char *key, double value, int decimals)
{
        if (!value_begin(j, key))
                return;
        if (isfinite(value))
                fprintf(j->out, "%.*f", decimals, value);
        else
                fputs("null", j->out);
}

void bench_json_uint(struct bench_json *j, const char *key, uint64_t value)
{
        if (value_begin(j, key))
                fprintf(j->out, "%" PRIu64, value);
}

void bench_json_bool(struct bench_json *j, const char *key, bool value)
{
        if (value_begin(j, key))
                fputs(value ? "true" : "false", j->out);
}

void bench_json_string(struct bench_json *j, const char *key, const char *value)
{
        if (!value_begin(j, key))
                return;
        if (value)
                write_string(j->out, value);
        else
                fputs("null", j->out);
}

void bench_json_null(struct bench_json *j, const char *key)
{
        if (value_begin(j, key))
                fputs("null", j->out);
}

void bench_json_latency(struct bench_json *j, const char *key, const struct bench_latency *lat)
{
        if (!lat) {
                bench_json_null(j, key);
                return;
        }
        bench_json_begin_object(j, key);
        bench_json_number(j, "p50", lat->p50, 3);
        bench_json_number(j, "p99", lat->p99, 3);
        bench_json_number(j, "p999", lat->p999, 3);
        bench_json_number(j, "max", lat->max, 3);
        bench_json_end_object(j);
}
