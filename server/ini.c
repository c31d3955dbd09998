/* SPDX-License-Identifier: MIT */
/*
 * The INI walker.  It works on a private copy of the text, cut into lines in
 * place, and stops at the first problem: one precise error beats a cascade
 * of guesses.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/object.h>
#include <udk/util.h>

#include "ini.h"

int udkd_ini_verror(char *err, size_t err_size, const char *path, unsigned line, const char *fmt, va_list ap)
{
        int n, m;

        if (line > 0)
                n = snprintf(err, err_size, "%s:%u: ", path, line);
        else
                n = snprintf(err, err_size, "%s: ", path);
        if (n < 0 || (size_t)n >= err_size)
                return n;
        m = vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
        return m < 0 ? m : n + m;
}

int udkd_ini_error(char *err, size_t err_size, const char *path, unsigned line, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = udkd_ini_verror(err, err_size, path, line, fmt, ap);
        va_end(ap);
        return n;
}

bool udkd_ini_name_is_valid(const char *s, size_t len)
{
        if (len == 0 || len >= UDK_OBJECT_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

int udkd_ini_parse_bool(const char *value, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < UDK_ELEMENTSOF(yes); i++) {
                if (strcmp(value, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcmp(value, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* The keys seen in the current section, for duplicates. */
struct seen_key {
        const char *key; /* points into the walker's copy of the text */
        unsigned line;
};

struct walker {
        const char *path;
        unsigned line;
        const char *section; /* NULL before the first header */
        bool body;           /* one section's body: no headers */
        struct seen_key *seen;
        size_t n_seen, keys_max;
        const struct udkd_ini_ops *ops;
        void *userdata;
        char *err;
        size_t err_size;
};

#define walk_error(w, ...) \
        (udkd_ini_error((w)->err, (w)->err_size, (w)->path, (w)->line, __VA_ARGS__), -EINVAL)

char *udkd_ini_trim(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        *end = '\0';
        return s;
}

static int section_begin(struct walker *w, char *s)
{
        size_t len = strlen(s);
        int r;

        if (len < 2 || s[len - 1] != ']')
                return walk_error(w, "bad section header '%s'", s);
        s[len - 1] = '\0';
        r = w->ops->section(w->userdata, w->line, s + 1);
        if (r < 0)
                return r;
        w->section = s + 1;
        w->n_seen = 0;
        return 0;
}

static int key_value(struct walker *w, char *s)
{
        char *eq = strchr(s, '='), *key, *value;

        if (!eq)
                return walk_error(w, "expected 'key = value', got '%s'", s);
        *eq = '\0';
        key = udkd_ini_trim(s);
        value = udkd_ini_trim(eq + 1);
        if (!*key)
                return walk_error(w, "missing key before '='");
        if (!w->section)
                return walk_error(w, "key '%s' outside any section", key);
        if (!*value)
                return walk_error(w, "empty value for '%s'", key);
        for (size_t i = 0; i < w->n_seen; i++)
                if (strcmp(w->seen[i].key, key) == 0)
                        return walk_error(w, "duplicate key '%s' in [%s] (first at line %u)", key,
                                          w->section, w->seen[i].line);
        if (w->n_seen >= w->keys_max)
                return walk_error(w, "too many keys in [%s] (at most %zu)", w->section, w->keys_max);
        w->seen[w->n_seen++] = (struct seen_key){ key, w->line };
        return w->ops->key(w->userdata, w->line, key, value);
}

static int walk_line(struct walker *w, char *s, size_t len)
{
        if (strlen(s) != len)
                return walk_error(w, "NUL byte in line");
        for (size_t i = 0; i < len; i++)
                if (((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\r') || s[i] == 0x7f)
                        return walk_error(w, "control character 0x%02x in line",
                                          (unsigned)(unsigned char)s[i]);
        s = udkd_ini_trim(s);
        if (!*s || *s == '#' || *s == ';')
                return 0;
        if (*s == '[' && w->body)
                return walk_error(w, "a section header in the body of [%s]", w->section);
        if (*s == '[')
                return section_begin(w, s);
        return key_value(w, s);
}

static int walk(const char *path, const char *text, size_t size, size_t keys_max, const char *section,
                const struct udkd_ini_ops *ops, void *userdata, char *err, size_t err_size)
{
        _udk_cleanup_free_ char *copy = NULL;
        _udk_cleanup_free_ struct seen_key *seen = NULL;
        struct walker w = { .path = path,
                            .keys_max = keys_max,
                            .ops = ops,
                            .userdata = userdata,
                            .err = err,
                            .err_size = err_size };
        char *line, *end;
        int r = 0;

        if (size > UDKD_INI_SIZE_MAX) {
                udkd_ini_error(err, err_size, path, 0, "file too large (%zu bytes, at most %u)", size,
                               UDKD_INI_SIZE_MAX);
                return -EFBIG;
        }
        copy = malloc(size + 1);
        seen = calloc(keys_max > 0 ? keys_max : 1, sizeof(*seen));
        if (!copy || !seen) {
                udkd_ini_error(err, err_size, path, 0, "%s", strerror(ENOMEM));
                return -ENOMEM;
        }
        memcpy(copy, text, size);
        copy[size] = '\0';
        w.seen = seen;
        if (section) {
                r = ops->section(userdata, 0, section);
                if (r < 0)
                        return r;
                w.section = section;
                w.body = true;
        }

        line = copy;
        end = copy + size;
        while (line < end) {
                char *nl = memchr(line, '\n', (size_t)(end - line));
                size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

                line[len] = '\0'; /* the copy has a byte to spare after the last line */
                w.line++;
                r = walk_line(&w, line, len);
                if (r < 0)
                        break;
                line += len + 1;
        }
        if (r == -ENOMEM)
                udkd_ini_error(err, err_size, path, w.line, "%s", strerror(ENOMEM));
        return r;
}

int udkd_ini_walk(const char *path, const char *text, size_t size, size_t keys_max,
                  const struct udkd_ini_ops *ops, void *userdata, char *err, size_t err_size)
{
        return walk(path, text, size, keys_max, NULL, ops, userdata, err, err_size);
}

int udkd_ini_walk_body(const char *path, const char *text, size_t size, size_t keys_max, const char *section,
                       const struct udkd_ini_ops *ops, void *userdata, char *err, size_t err_size)
{
        return walk(path, text, size, keys_max, section, ops, userdata, err, err_size);
}

int udkd_ini_read_file(const char *path, char **ret_text, size_t *ret_size, char *err, size_t err_size)
{
        _udk_cleanup_close_ int fd = -1;
        _udk_cleanup_free_ char *text = NULL;
        size_t size = 0, cap = 4096;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                goto fail;
        text = malloc(cap);
        if (!text) {
                errno = ENOMEM;
                goto fail;
        }
        for (;;) {
                ssize_t n;

                if (size == cap) {
                        char *bigger;

                        if (cap > UDKD_INI_SIZE_MAX) {
                                udkd_ini_error(err, err_size, path, 0, "file too large (at most %u bytes)",
                                               UDKD_INI_SIZE_MAX);
                                return -EFBIG;
                        }
                        bigger = realloc(text, cap * 2);
                        if (!bigger) {
                                errno = ENOMEM;
                                goto fail;
                        }
                        text = bigger;
                        cap *= 2;
                }
                n = read(fd, text + size, cap - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        goto fail;
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        *ret_text = UDK_TAKE_PTR(text);
        *ret_size = size;
        return 0;

fail:
        r = -errno;
        udkd_ini_error(err, err_size, path, 0, "cannot read: %s", strerror(-r));
        return r;
}
