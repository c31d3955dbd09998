/* SPDX-License-Identifier: MIT */
/* The test family's description file, parsed leniently: a bad [nub] is skipped, never the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "description.h"

struct parser {
        struct test_description *d;
        test_description_warn_fn warn;
        void *data;
        int r;

        /* The section being read. */
        struct test_nub cur;
        bool in_nub;   /* a [nub] section */
        bool ignoring; /* another section: its keys were warned about with its header */
        bool bad;      /* its first problem was warned about: the rest is not looked at */
        unsigned handle_line, name_line;
        unsigned prop_lines[TEST_NUB_PROPS_MAX];
};

static void warn(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(struct parser *p, unsigned line, const char *fmt, ...)
{
        char sentence[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(sentence, sizeof(sentence), fmt, ap);
        va_end(ap);
        if (p->warn)
                p->warn(p->data, line, sentence);
}

/* The section's first problem, at @line: said once, and the section is skipped. */
static void fail(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct parser *p, unsigned line, const char *fmt, ...)
{
        char reason[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        p->bad = true;
        if (line == p->cur.line)
                warn(p, line, "%s: [nub] skipped", reason);
        else
                warn(p, line, "%s: [nub] at line %u skipped", reason, p->cur.line);
}

static void section_end(struct parser *p)
{
        const struct test_nub *first;
        struct test_nub *nubs;

        if (!p->in_nub || p->bad)
                return;
        if (!p->handle_line) {
                fail(p, p->cur.line, "[nub] without a handle");
                return;
        }
        first = test_description_find(p->d, p->cur.handle);
        if (first) {
                fail(p, p->handle_line, "handle %u given twice (first in the [nub] at line %u)", p->cur.handle,
                     first->line);
                return;
        }
        if (p->d->n == TEST_DESCRIPTION_NUBS_MAX) {
                fail(p, p->cur.line, "too many nubs (at most %u)", TEST_DESCRIPTION_NUBS_MAX);
                return;
        }
        if (!p->name_line)
                snprintf(p->cur.name, sizeof(p->cur.name), "test-%u", p->cur.handle);
        nubs = realloc(p->d->nubs, (p->d->n + 1) * sizeof(*nubs));
        if (!nubs) {
                p->r = -ENOMEM;
                return;
        }
        p->d->nubs = nubs;
        nubs[p->d->n++] = p->cur;
}

static void section_begin(struct parser *p, unsigned line, const char *s, size_t len)
{
        section_end(p);
        memset(&p->cur, 0, sizeof(p->cur));
        p->cur.line = line;
        p->in_nub = p->ignoring = p->bad = false;
        p->handle_line = p->name_line = 0;
        if (len < 2 || s[len - 1] != ']') {
                warn(p, line, "bad section header '%.*s': ignored up to the next section", (int)len, s);
                p->ignoring = true;
                return;
        }
        if (len == 5 && memcmp(s, "[nub]", 5) == 0) {
                p->in_nub = true;
                return;
        }
        warn(p, line, "unknown section %.*s (only [nub]): ignored", (int)len, s);
        p->ignoring = true;
}

static bool prop_name_is_valid(const char *s, size_t len)
{
        if (len == 0 || len >= UDK_DPROP_KEY_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
                      (s[i] >= 'A' && s[i] <= 'Z')))
                        return false;
        return true;
}

static void key_value(struct parser *p, unsigned line, const char *key, size_t klen, const char *value, size_t vlen)
{
        struct test_nub *n = &p->cur;
        char text[UDK_DPROP_VALUE_MAX];
        int64_t handle;

        if (klen == 6 && memcmp(key, "handle", 6) == 0) {
                if (p->handle_line) {
                        fail(p, line, "duplicate key 'handle' (first at line %u)", p->handle_line);
                        return;
                }
                if (vlen >= sizeof(text) || (memcpy(text, value, vlen), text[vlen] = '\0',
                                             udk_parse_int64(text, 0, UINT32_MAX, &handle) < 0)) {
                        fail(p, line, "bad handle '%.*s' (a number, 0..4294967295)", (int)vlen, value);
                        return;
                }
                n->handle = (uint32_t)handle;
                p->handle_line = line;
        } else if (klen == 4 && memcmp(key, "name", 4) == 0) {
                if (p->name_line) {
                        fail(p, line, "duplicate key 'name' (first at line %u)", p->name_line);
                        return;
                }
                if (vlen >= sizeof(n->name)) {
                        fail(p, line, "name '%.*s' too long (at most %zu bytes)", (int)vlen, value,
                             sizeof(n->name) - 1);
                        return;
                }
                memcpy(n->name, value, vlen);
                n->name[vlen] = '\0';
                p->name_line = line;
        } else {
                if (!prop_name_is_valid(key, klen)) {
                        fail(p, line, "bad property name '%.*s' (letters, digits, '_'; at most %u)", (int)klen, key,
                             UDK_DPROP_KEY_MAX - 1);
                        return;
                }
                for (size_t i = 0; i < n->n_props; i++)
                        if (strlen(n->keys[i]) == klen && memcmp(n->keys[i], key, klen) == 0) {
                                fail(p, line, "duplicate key '%.*s' (first at line %u)", (int)klen, key,
                                     p->prop_lines[i]);
                                return;
                        }
                if (vlen >= UDK_DPROP_VALUE_MAX) {
                        fail(p, line, "value of '%.*s' too long (%zu bytes, at most %u)", (int)klen, key, vlen,
                             UDK_DPROP_VALUE_MAX - 1);
                        return;
                }
                if (n->n_props == TEST_NUB_PROPS_MAX) {
                        fail(p, line, "too many properties (at most %u besides handle and name)",
                             TEST_NUB_PROPS_MAX);
                        return;
                }
                memcpy(n->keys[n->n_props], key, klen);
                n->keys[n->n_props][klen] = '\0';
                memcpy(n->values[n->n_props], value, vlen);
                n->values[n->n_props][vlen] = '\0';
                p->prop_lines[n->n_props++] = line;
        }
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

/* Trim [*s, *s + *len) of blanks at both ends. */
static void trim(const char **s, size_t *len)
{
        while (*len && is_blank(**s))
                (*s)++, (*len)--;
        while (*len && is_blank((*s)[*len - 1]))
                (*len)--;
}

static void parse_line(struct parser *p, unsigned line, const char *s, size_t len)
{
        const char *eq, *key, *value;
        size_t klen, vlen;

        trim(&s, &len);
        if (len == 0 || s[0] == '#' || s[0] == ';')
                return;
        if (s[0] == '[') {
                section_begin(p, line, s, len);
                return;
        }
        if (p->ignoring || p->bad)
                return;
        if (!p->in_nub) {
                warn(p, line, "'%.*s' outside any [nub] section: ignored", (int)len, s);
                return;
        }
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
                        fail(p, line, "a control character (0x%02x)", (unsigned char)s[i]);
                        return;
                }
        eq = memchr(s, '=', len);
        if (!eq) {
                fail(p, line, "expected 'key = value', got '%.*s'", (int)len, s);
                return;
        }
        key = s;
        klen = (size_t)(eq - s);
        value = eq + 1;
        vlen = len - klen - 1;
        trim(&key, &klen);
        trim(&value, &vlen);
        if (klen == 0)
                fail(p, line, "expected 'key = value', got '%.*s'", (int)len, s);
        else if (vlen == 0)
                fail(p, line, "empty value for '%.*s'", (int)klen, key);
        else
                key_value(p, line, key, klen, value, vlen);
}

int test_description_parse(const char *text, size_t size, struct test_description *ret,
                           test_description_warn_fn warn_fn, void *data)
{
        struct parser p = { .d = ret, .warn = warn_fn, .data = data };
        unsigned line = 0;
        size_t at = 0;

        test_description_clear(ret);
        while (at < size && p.r == 0) {
                const char *s = text + at, *nl = memchr(s, '\n', size - at);
                size_t len = nl ? (size_t)(nl - s) : size - at;

                parse_line(&p, ++line, s, len);
                at += len + 1;
        }
        if (p.r == 0)
                section_end(&p);
        if (p.r < 0)
                test_description_clear(ret);
        return p.r;
}

void test_description_clear(struct test_description *d)
{
        free(d->nubs);
        d->nubs = NULL;
        d->n = 0;
}

const struct test_nub *test_description_find(const struct test_description *d, uint32_t handle)
{
        for (size_t i = 0; i < d->n; i++)
                if (d->nubs[i].handle == handle)
                        return &d->nubs[i];
        return NULL;
}

bool test_nub_equal(const struct test_nub *a, const struct test_nub *b)
{
        if (a->handle != b->handle || strcmp(a->name, b->name) != 0 || a->n_props != b->n_props)
                return false;
        for (size_t i = 0; i < a->n_props; i++)
                if (strcmp(a->keys[i], b->keys[i]) != 0 || strcmp(a->values[i], b->values[i]) != 0)
                        return false;
        return true;
}
