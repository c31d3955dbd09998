/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for udkctl's --json output: pretty-printed with two
 * spaces, members in the order they are written.  A @key is given for
 * members of an object and is NULL for elements of an array and for the
 * top-level value.  Non-finite doubles are written as null.
 */
#ifndef UDKCTL_JSON_H
#define UDKCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <udk/protocol.h>

#define UDKCTL_JSON_DEPTH_MAX 16

struct udkctl_json {
        FILE *f;
        unsigned depth;
        bool empty[UDKCTL_JSON_DEPTH_MAX]; /* nothing written yet in the container at that depth */
};

void udkctl_json_init(struct udkctl_json *j, FILE *f);

void udkctl_json_begin_object(struct udkctl_json *j, const char *key);
void udkctl_json_end_object(struct udkctl_json *j);
void udkctl_json_begin_array(struct udkctl_json *j, const char *key);
void udkctl_json_end_array(struct udkctl_json *j);

void udkctl_json_string(struct udkctl_json *j, const char *key, const char *value);
void udkctl_json_int(struct udkctl_json *j, const char *key, int64_t value);
void udkctl_json_uint(struct udkctl_json *j, const char *key, uint64_t value);
void udkctl_json_double(struct udkctl_json *j, const char *key, double value);
void udkctl_json_bool(struct udkctl_json *j, const char *key, bool value);

/* A registry object: {"id", "parent", "class", "name", "properties": {key: typed value}}. */
void udkctl_json_object(struct udkctl_json *j, const char *key, const struct udk_msg_object *obj);

/* End the document with a newline. */
void udkctl_json_finish(struct udkctl_json *j);

#endif
