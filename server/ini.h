/* SPDX-License-Identifier: MIT */
/*
 * The small, strict INI dialect that udkd's files share (its configuration,
 * the drivers' personalities): the line syntax, comments, duplicate keys,
 * limits and the error sentence.  What the sections and keys mean is the
 * caller's, through two callbacks.
 *
 *   # comment            ; comment
 *   [section]
 *   key = value          values trimmed, no quotes, no trailing comments
 *
 * Errors are one sentence, "FILE:LINE: problem" (or "FILE: problem" for the
 * file as a whole), in the caller's buffer: nothing here prints, so the
 * parsers built on it can be fuzzed.
 */
#ifndef UDKD_INI_H
#define UDKD_INI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define UDKD_INI_SIZE_MAX (1u << 20) /* bytes in a file */

/* The sentence "PATH:LINE: " + printf ("PATH: " when @line is 0).  Returns snprintf's count. */
int udkd_ini_error(char *err, size_t err_size, const char *path, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
int udkd_ini_verror(char *err, size_t err_size, const char *path, unsigned line, const char *fmt, va_list ap)
        __attribute__((format(printf, 5, 0)));

/* Strip blanks (and a CR) at both ends, in place; returns the new start. */
char *udkd_ini_trim(char *s);

/* Names of objects: [A-Za-z0-9_.-], 1..UDK_OBJECT_NAME_MAX-1 characters. */
bool udkd_ini_name_is_valid(const char *s, size_t len);

/* yes/true/on/1 and no/false/off/0; -EINVAL for anything else (*@ret untouched). */
int udkd_ini_parse_bool(const char *value, bool *ret);

/*
 * What the walker hands over, each with its line.  A callback returns 0, or
 * a negative errno after writing its sentence into the error buffer; for
 * -ENOMEM the walker writes the sentence itself.
 */
struct udkd_ini_ops {
        int (*section)(void *userdata, unsigned line, const char *name); /* without the brackets */
        /* @value is the walker's copy: the callback may cut it in place. */
        int (*key)(void *userdata, unsigned line, const char *key, char *value);
};

/*
 * Walk @size bytes of @text (need not be terminated) named @path, line by
 * line, stopping at the first problem.  The walker itself refuses: NUL bytes
 * and control characters, a bad section header, a line that is not
 * 'key = value', an empty key or value, a key outside any section, a key
 * given twice in one section and more than @keys_max keys in one.  Returns
 * 0, or a negative errno (-EINVAL, -ENOMEM, -EFBIG above UDKD_INI_SIZE_MAX)
 * with the sentence in @err.
 */
int udkd_ini_walk(const char *path, const char *text, size_t size, size_t keys_max,
                  const struct udkd_ini_ops *ops, void *userdata, char *err, size_t err_size);

/*
 * Walk @text as the body of one section named @section, as if its header
 * were at line 0: the lines are numbered from 1 and a section header among
 * them is refused.  For texts that are one section by nature (a driver's
 * device).  Otherwise as udkd_ini_walk().
 */
int udkd_ini_walk_body(const char *path, const char *text, size_t size, size_t keys_max, const char *section,
                       const struct udkd_ini_ops *ops, void *userdata, char *err, size_t err_size);

/*
 * Read the whole file @path (at most UDKD_INI_SIZE_MAX bytes) into a new
 * buffer.  Returns 0, or a negative errno with "PATH: cannot read: reason"
 * or "PATH: file too large (...)" in @err.
 */
int udkd_ini_read_file(const char *path, char **ret_text, size_t *ret_size, char *err, size_t err_size);

#endif
