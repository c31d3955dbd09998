/* SPDX-License-Identifier: MIT */
/*
 * udkctl info OBJECT: every property of one object, one a line, after its
 * identity (name, id, class, parent, path); settable ones say so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "json.h"
#include "udkctl.h"

#define PATH_DEPTH_MAX 32

/* "virtual/studio/level": the names from below the root down to @obj, into
 * @buf (PATH_DEPTH_MAX * UDK_OBJECT_NAME_MAX bytes); its parent's name into
 * @parent_name (UDK_OBJECT_NAME_MAX bytes). */
static int object_path(struct udk_client *client, const struct udk_msg_object *obj, char *buf,
                       char *parent_name)
{
        _udk_cleanup_free_ struct udk_msg_object *up = malloc(UDK_MSG_SIZE_MAX);
        const char *names[PATH_DEPTH_MAX];
        char ancestors[PATH_DEPTH_MAX][UDK_OBJECT_NAME_MAX];
        udk_object_id id = obj->parent;
        size_t n = 0, len = 0;
        int r;

        if (!up)
                return -ENOMEM;
        names[n++] = obj->name;
        parent_name[0] = '\0';
        while (id && n < PATH_DEPTH_MAX) {
                r = udk_client_info(client, id, up);
                if (r < 0)
                        return r;
                if (n == 1)
                        udk_strlcpy(parent_name, up->name, UDK_OBJECT_NAME_MAX);
                if (!up->parent)
                        break; /* the root's own name is not part of a path */
                udk_strlcpy(ancestors[n], up->name, UDK_OBJECT_NAME_MAX);
                names[n] = ancestors[n];
                n++;
                id = up->parent;
        }
        /* Each name is shorter than UDK_OBJECT_NAME_MAX, so the whole path fits. */
        while (n-- > 0) {
                size_t l = strlen(names[n]);

                memcpy(buf + len, names[n], l);
                len += l;
                if (n > 0)
                        buf[len++] = '/';
        }
        buf[len] = '\0';
        return 0;
}

static void print_text(const struct udk_msg_object *obj, const char *path, const char *parent_name)
{
        char value[UDK_PROP_STRING_MAX + 32];
        int width = 6; /* "parent" */

        for (uint32_t i = 0; i < obj->n_props; i++)
                width = UDK_MAX(width, (int)strlen(obj->props[i].key));
        width += 2;

        printf("%-*s%s\n", width, "name", obj->name);
        printf("%-*s%" PRIu32 "\n", width, "id", obj->id);
        printf("%-*s%s\n", width, "class", obj->klass);
        if (obj->parent) {
                printf("%-*s%s (id %" PRIu32 ")\n", width, "parent", parent_name, obj->parent);
                printf("%-*s%s\n", width, "path", path);
        }
        for (uint32_t i = 0; i < obj->n_props; i++) {
                const struct udk_prop *p = &obj->props[i];

                udkctl_prop_format(p, value, sizeof(value));
                printf("%-*s%s%s\n", width, p->key, value,
                       p->flags & UDK_PROP_SETTABLE ? "  (settable)" : "");
        }
}

int udkctl_info(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *obj = malloc(UDK_MSG_SIZE_MAX);
        char path[PATH_DEPTH_MAX * UDK_OBJECT_NAME_MAX], parent_name[UDK_OBJECT_NAME_MAX];
        struct udk_client *client;
        int r;

        if (!obj) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup(client, argv[0], obj) < 0) {
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }

        if (opts->json) {
                struct udkctl_json j;

                udk_client_disconnect(client);
                udkctl_json_init(&j, stdout);
                udkctl_json_object(&j, NULL, obj);
                udkctl_json_finish(&j);
        } else {
                r = object_path(client, obj, path, parent_name);
                if (r < 0) {
                        udkctl_fail(client, r, "info");
                        udk_client_disconnect(client);
                        return UDKCTL_EXIT_FAILURE;
                }
                udk_client_disconnect(client);
                print_text(obj, path, parent_name);
        }
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}
