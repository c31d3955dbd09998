/* SPDX-License-Identifier: MIT */
/*
 * The registry as a client sees it: list, info, find.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-private.h"

/* No registry is this large; a server that says otherwise is broken. */
#define LIST_OBJECTS_MAX 65536u

struct list_out {
        uint8_t *objects; /* UDK_MSG_SIZE_MAX each */
        size_t n, allocated;
};

static int list_data(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                     size_t len, int *fds, unsigned n_fds)
{
        struct list_out *out = req->data;

        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
        if (msg->type != UDK_MSG_OBJECT) {
                snprintf(req->failure_text, sizeof(req->failure_text), "udkd answered %s with a %s message",
                         udk_msg_type_name(req->type), udk_msg_type_name(msg->type));
                return -EBADMSG;
        }
        if (out->n == out->allocated) {
                size_t n = out->allocated ? out->allocated * 2 : 32;
                uint8_t *p;

                if (n > LIST_OBJECTS_MAX) {
                        snprintf(req->failure_text, sizeof(req->failure_text),
                                 "udkd sent more than %u objects", LIST_OBJECTS_MAX);
                        return -E2BIG;
                }
                p = realloc(out->objects, n * UDK_MSG_SIZE_MAX);
                if (!p) {
                        snprintf(req->failure_text, sizeof(req->failure_text), "out of memory");
                        return -ENOMEM;
                }
                out->objects = p;
                out->allocated = n;
        }
        /* Zero past the message: the caller may read any property slot. */
        memset(out->objects + out->n * UDK_MSG_SIZE_MAX, 0, UDK_MSG_SIZE_MAX);
        memcpy(out->objects + out->n * UDK_MSG_SIZE_MAX, msg, len);
        out->n++;
        return 0;
}

static int list(struct udk_client *c, uint32_t type, udk_object_id id, struct list_out *out)
{
        struct udk_client_request req = { .data_fn = list_data, .data = out };
        struct udk_msg_object_ref m = { .id = id };
        int r;

        udk_msg_init(&m.h, type, sizeof(m), 0);
        r = client_request(c, &m.h, sizeof(m), &req);
        if (r < 0) {
                free(out->objects);
                out->objects = NULL;
                out->n = 0;
        }
        return r;
}

int udk_client_list(struct udk_client *c, udk_object_id root, struct udk_msg_object **ret, size_t *ret_n)
{
        struct list_out out = {};
        int r;

        if (!c)
                return -EINVAL;
        if (!ret || !ret_n)
                return client_set_error(c, -EINVAL, "list needs a place for the objects and their number");
        r = list(c, UDK_MSG_LIST, root, &out);
        if (r < 0)
                return r;
        if (!out.objects) {
                /* calloc(0) may return NULL: give the caller something to free. */
                out.objects = calloc(1, UDK_MSG_SIZE_MAX);
                if (!out.objects)
                        return client_set_error(c, -ENOMEM, "out of memory");
        }
        *ret = (struct udk_msg_object *)out.objects;
        *ret_n = out.n;
        return 0;
}

int udk_client_info(struct udk_client *c, udk_object_id id, struct udk_msg_object *ret)
{
        struct list_out out = {};
        int r;

        if (!c)
                return -EINVAL;
        if (!ret)
                return client_set_error(c, -EINVAL, "info needs a place for the object");
        r = list(c, UDK_MSG_INFO, id, &out);
        if (r < 0)
                return r;
        if (out.n != 1) {
                free(out.objects);
                return client_set_error(c, -EBADMSG, "udkd answered info with %zu objects", out.n);
        }
        memcpy(ret, out.objects, UDK_MSG_SIZE_MAX);
        free(out.objects);
        return 0;
}

static const struct udk_msg_object *at(const struct list_out *out, size_t i)
{
        return udk_client_objects_at((const struct udk_msg_object *)out->objects, i);
}

static const struct udk_msg_object *by_id(const struct list_out *out, udk_object_id id)
{
        for (size_t i = 0; i < out->n; i++)
                if (at(out, i)->id == id)
                        return at(out, i);
        return NULL;
}

/* "virtual/demo/volume": names from the root down (the root's own name may lead). */
static int find_path(struct udk_client *c, const struct list_out *out, const char *what, udk_object_id *ret)
{
        const struct udk_msg_object *root = NULL, *cur;
        char buf[16 * UDK_OBJECT_NAME_MAX]; /* a path of up to 16 names */
        char *save = NULL, *part;
        bool first = true;

        if (udk_strlcpy(buf, what, sizeof(buf)) < 0)
                return client_set_error(c, -ENOENT, "no object %s (the path is too long)", what);
        for (size_t i = 0; i < out->n && !root; i++)
                if (at(out, i)->parent == 0)
                        root = at(out, i);
        if (!root)
                return client_set_error(c, -ENOENT, "no object %s (the registry is empty)", what);
        cur = root;
        for (part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
                const struct udk_msg_object *child = NULL;

                if (first && strcmp(part, root->name) == 0) {
                        first = false;
                        continue;
                }
                first = false;
                for (size_t i = 0; i < out->n; i++) {
                        const struct udk_msg_object *o = at(out, i);
                        if (o->parent == cur->id && strcmp(o->name, part) == 0) {
                                if (child)
                                        return client_set_error(
                                                c, -EEXIST, "%s is ambiguous: %s has two children named %s",
                                                what, cur->name, part);
                                child = o;
                        }
                }
                if (!child)
                        return client_set_error(c, -ENOENT, "no object %s (%s has no child named %s)", what,
                                                cur->name, part);
                cur = child;
        }
        *ret = cur->id;
        return 0;
}

static bool of_class(const struct udk_msg_object *o, const char *klass)
{
        return !klass || strcmp(o->klass, klass) == 0;
}

/* @found, when it is of @klass (NULL: any). */
static int found_of_class(struct udk_client *c, const struct list_out *out, udk_object_id id, const char *klass,
                          const char *what, udk_object_id *ret)
{
        const struct udk_msg_object *o = by_id(out, id);

        if (o && !of_class(o, klass))
                return client_set_error(c, -ENOTTY, "object %s is a %s, not a %s", what, o->klass, klass);
        *ret = id;
        return 0;
}

/* @what among the objects of @klass (NULL: all of them). */
static int find_in(struct udk_client *c, const struct list_out *out, const char *klass, const char *what,
                   udk_object_id *ret)
{
        const char *noun = klass ? klass : "object";
        const struct udk_msg_object *found = NULL;
        size_t n_named = 0;
        char ids[96] = "";
        udk_object_id id = 0;
        int64_t number;
        int r;

        if (udk_parse_int64(what, 1, UINT32_MAX, &number) == 0 && by_id(out, (udk_object_id)number))
                return found_of_class(c, out, (udk_object_id)number, klass, what, ret);
        if (strchr(what, '/')) {
                r = find_path(c, out, what, &id);
                if (r < 0)
                        return r;
                return found_of_class(c, out, id, klass, what, ret);
        }
        for (size_t i = 0; i < out->n; i++) {
                const struct udk_prop *uid = udk_msg_object_prop(at(out, i), "uid");
                if (of_class(at(out, i), klass) && uid && uid->type == UDK_PROP_STRING &&
                    strcmp(uid->s, what) == 0) {
                        *ret = at(out, i)->id;
                        return 0;
                }
        }
        for (size_t i = 0; i < out->n; i++) {
                const struct udk_msg_object *o = at(out, i);
                size_t len = strlen(ids);

                if (!of_class(o, klass) || strcmp(o->name, what) != 0)
                        continue;
                if (n_named++ == 0)
                        found = o;
                if (len + 16 < sizeof(ids))
                        snprintf(ids + len, sizeof(ids) - len, "%s%u", len ? ", " : "", o->id);
        }
        if (n_named == 1) {
                *ret = found->id;
                return 0;
        }
        if (n_named > 1)
                return client_set_error(c, -EEXIST, "%zu %ss are named %s (ids %s): give an id or a path",
                                        n_named, noun, what, ids);
        return client_set_error(c, -ENOENT, "no %s %s", noun, what);
}

static int find(struct udk_client *c, const char *klass, const char *what, udk_object_id *ret)
{
        struct list_out out = {};
        int r;

        if (!c)
                return -EINVAL;
        if (!what || !*what || !ret)
                return client_set_error(c, -EINVAL, "find needs a name and a place for the id");
        r = list(c, UDK_MSG_LIST, 0, &out);
        if (r < 0)
                return r;
        r = find_in(c, &out, klass, what, ret);
        free(out.objects);
        return r;
}

int udk_client_find(struct udk_client *c, const char *what, udk_object_id *ret)
{
        return find(c, NULL, what, ret);
}

int udk_client_find_class(struct udk_client *c, const char *klass, const char *what, udk_object_id *ret)
{
        if (c && (!klass || !*klass))
                return client_set_error(c, -EINVAL, "find_class needs a class");
        return find(c, klass, what, ret);
}

int registry_first_device(struct udk_client *c, udk_object_id *ret)
{
        struct list_out out = {};
        int r;

        r = list(c, UDK_MSG_LIST, 0, &out);
        if (r < 0)
                return r;
        r = -ENODEV;
        for (size_t i = 0; i < out.n; i++)
                if (strcmp(at(&out, i)->klass, "device") == 0) {
                        *ret = at(&out, i)->id;
                        r = 0;
                        break;
                }
        free(out.objects);
        return r < 0 ? client_set_error(c, r, "udkd has no device") : 0;
}
