/* SPDX-License-Identifier: MIT */
/* udkctl's JSON writer (see json.h). */
#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <udk/util.h>

#include "json.h"

void udkctl_json_init(struct udkctl_json *j, FILE *f)
{
        *j = (struct udkctl_json){ .f = f };
        j->empty[0] = true;
}

static void indent(struct udkctl_json *j, unsigned depth)
{
        fputc('\n', j->f);
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", j->f);
}

static void put_string(struct udkctl_json *j, const char *s)
{
        fputc('"', j->f);
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(j->f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", j->f);
                else if (*c == '\t')
                        fputs("\\t", j->f);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(j->f, "\\u%04x", *c);
                else
                        fputc(*c, j->f);
        }
        fputc('"', j->f);
}

/* The separator, the line break and the key before a value. */
static void member(struct udkctl_json *j, const char *key)
{
        if (j->depth > 0) {
                if (!j->empty[j->depth])
                        fputc(',', j->f);
                indent(j, j->depth);
        }
        j->empty[j->depth] = false;
        if (key) {
                put_string(j, key);
                fputs(": ", j->f);
        }
}

static void begin(struct udkctl_json *j, const char *key, char open)
{
        member(j, key);
        fputc(open, j->f);
        assert(j->depth + 1 < UDKCTL_JSON_DEPTH_MAX);
        j->depth++;
        j->empty[j->depth] = true;
}

static void end(struct udkctl_json *j, char close)
{
        assert(j->depth > 0);
        if (!j->empty[j->depth])
                indent(j, j->depth - 1);
        j->depth--;
        fputc(close, j->f);
}

void udkctl_json_begin_object(struct udkctl_json *j, const char *key)
{
        begin(j, key, '{');
}

void udkctl_json_end_object(struct udkctl_json *j)
{
        end(j, '}');
}

void udkctl_json_begin_array(struct udkctl_json *j, const char *key)
{
        begin(j, key, '[');
}

void udkctl_json_end_array(struct udkctl_json *j)
{
        end(j, ']');
}

void udkctl_json_string(struct udkctl_json *j, const char *key, const char *value)
{
        member(j, key);
        put_string(j, value);
}

void udkctl_json_int(struct udkctl_json *j, const char *key, int64_t value)
{
        member(j, key);
        fprintf(j->f, "%" PRId64, value);
}

void udkctl_json_uint(struct udkctl_json *j, const char *key, uint64_t value)
{
        member(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void udkctl_json_double(struct udkctl_json *j, const char *key, double value)
{
        char buf[40];
        double back;

        member(j, key);
        if (!isfinite(value)) {
                fputs("null", j->f);
                return;
        }
        /* The shortest of the two precisions that reads back as the same double. */
        snprintf(buf, sizeof(buf), "%.15g", value);
        if (udk_parse_double(buf, -DBL_MAX, DBL_MAX, &back) < 0 || back != value)
                snprintf(buf, sizeof(buf), "%.17g", value);
        fputs(buf, j->f);
}

void udkctl_json_bool(struct udkctl_json *j, const char *key, bool value)
{
        member(j, key);
        fputs(value ? "true" : "false", j->f);
}

void udkctl_json_object(struct udkctl_json *j, const char *key, const struct udk_msg_object *obj)
{
        udkctl_json_begin_object(j, key);
        udkctl_json_uint(j, "id", obj->id);
        udkctl_json_uint(j, "parent", obj->parent);
        udkctl_json_string(j, "class", obj->klass);
        udkctl_json_string(j, "name", obj->name);
        udkctl_json_begin_object(j, "properties");
        for (uint32_t i = 0; i < obj->n_props; i++) {
                const struct udk_prop *p = &obj->props[i];

                switch (p->type) {
                case UDK_PROP_INT:
                        udkctl_json_int(j, p->key, p->i);
                        break;
                case UDK_PROP_DOUBLE:
                        udkctl_json_double(j, p->key, p->d);
                        break;
                case UDK_PROP_STRING:
                        udkctl_json_string(j, p->key, p->s);
                        break;
                case UDK_PROP_BOOL:
                        udkctl_json_bool(j, p->key, p->i != 0);
                        break;
                default:
                        member(j, p->key);
                        fputs("null", j->f);
                        break;
                }
        }
        udkctl_json_end_object(j);
        udkctl_json_end_object(j);
}

void udkctl_json_finish(struct udkctl_json *j)
{
        assert(j->depth == 0);
        fputc('\n', j->f);
}
