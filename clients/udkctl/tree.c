/* SPDX-License-Identifier: MIT */
/*
 * udkctl ls: the registry as a tree, drawn as ioreg draws it.
 *
 *   +-o udkd  <root, id 1, version 0.1.0, pid 812>
 *     +-o virtual  <backend, id 2>
 *     | +-o studio  <device, id 3, 48000 Hz, 64 frames, 2 in, 2 out, f32>
 *     |   +-o input  <stream, id 4, 2 ch, latency 0>
 *     ...
 *
 * The children of an object are printed in the order udkd listed them; an
 * object whose parent is not in the list is a root of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "json.h"
#include "udkctl.h"

#define DEPTH_MAX 100

struct tree {
        const struct udk_msg_object *objects;
        size_t n;
        ssize_t *first_child, *next_sibling;
        bool *printed;
        bool verbose;
        char prefix[2 * DEPTH_MAX + 1];
};

static void print_props(const struct udk_msg_object *obj, const char *prefix)
{
        char value[UDK_PROP_STRING_MAX + 32];
        size_t len = strlen(prefix);

        printf("%s{\n", prefix);
        for (uint32_t i = 0; i < obj->n_props; i++) {
                const struct udk_prop *p = &obj->props[i];

                udkctl_prop_format(p, value, sizeof(value));
                if (p->type == UDK_PROP_STRING)
                        printf("%s  \"%s\" = \"%s\"\n", prefix, p->key, value);
                else
                        printf("%s  \"%s\" = %s\n", prefix, p->key, value);
        }
        printf("%s}\n", prefix);
        /* ioreg's empty line after the block, without trailing blanks. */
        while (len > 0 && prefix[len - 1] == ' ')
                len--;
        printf("%.*s\n", (int)len, prefix);
}

static void print_node(struct tree *t, size_t i, unsigned depth, bool last)
{
        const struct udk_msg_object *obj = udk_client_objects_at(t->objects, i);
        char summary[512];
        size_t len = strlen(t->prefix);

        t->printed[i] = true;
        udkctl_object_summary(obj, summary, sizeof(summary));
        printf("%s+-o %s  %s\n", t->prefix, obj->name, summary);
        if (depth >= DEPTH_MAX)
                return;

        /* Below this object: "| " while a later sibling follows it. */
        memcpy(t->prefix + len, last ? "  " : "| ", 3);
        if (t->verbose) {
                char block[sizeof(t->prefix) + 2];

                snprintf(block, sizeof(block), "%s%s", t->prefix, t->first_child[i] >= 0 ? "| " : "  ");
                print_props(obj, block);
        }
        for (ssize_t c = t->first_child[i]; c >= 0; c = t->next_sibling[c])
                if (!t->printed[c])
                        print_node(t, (size_t)c, depth + 1, t->next_sibling[c] < 0);
        t->prefix[len] = '\0';
}

static ssize_t index_of(const struct udk_msg_object *objects, size_t n, udk_object_id id)
{
        for (size_t i = 0; i < n; i++)
                if (udk_client_objects_at(objects, i)->id == id)
                        return (ssize_t)i;
        return -1;
}

static int print_tree(const struct udk_msg_object *objects, size_t n, bool verbose)
{
        _udk_cleanup_free_ ssize_t *parent = calloc(n + 1, sizeof(ssize_t));
        _udk_cleanup_free_ ssize_t *first_child = calloc(n + 1, sizeof(ssize_t));
        _udk_cleanup_free_ ssize_t *next_sibling = calloc(n + 1, sizeof(ssize_t));
        _udk_cleanup_free_ bool *printed = calloc(n + 1, sizeof(bool));
        struct tree t = {
                .objects = objects,
                .n = n,
                .verbose = verbose,
        };
        ssize_t last_root = -1;

        if (!parent || !first_child || !next_sibling || !printed) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);

                parent[i] = obj->parent && obj->parent != obj->id ? index_of(objects, n, obj->parent) : -1;
                first_child[i] = next_sibling[i] = -1;
        }
        /* Children lists in list order: link from the end. */
        for (size_t k = n; k-- > 0;) {
                if (parent[k] < 0)
                        continue;
                next_sibling[k] = first_child[parent[k]];
                first_child[parent[k]] = (ssize_t)k;
        }
        t.first_child = first_child;
        t.next_sibling = next_sibling;
        t.printed = printed;

        for (size_t i = 0; i < n; i++)
                if (parent[i] < 0)
                        last_root = (ssize_t)i;
        for (size_t i = 0; i < n; i++)
                if (parent[i] < 0)
                        print_node(&t, i, 0, (ssize_t)i == last_root);
        /* Objects in a cycle of parents (udkd never sends one): print them anyway. */
        for (size_t i = 0; i < n; i++)
                if (!printed[i])
                        print_node(&t, i, 0, true);
        return UDKCTL_EXIT_OK;
}

static void print_json(const struct udk_msg_object *objects, size_t n)
{
        struct udkctl_json j;

        udkctl_json_init(&j, stdout);
        udkctl_json_begin_array(&j, NULL);
        for (size_t i = 0; i < n; i++)
                udkctl_json_object(&j, NULL, udk_client_objects_at(objects, i));
        udkctl_json_end_array(&j);
        udkctl_json_finish(&j);
}

int udkctl_ls(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        _udk_cleanup_free_ struct udk_msg_object *root = NULL;
        struct udk_client *client;
        udk_object_id root_id = 0;
        size_t n = 0;
        int r, status;

        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (argc > 0) {
                root = malloc(UDK_MSG_SIZE_MAX);
                if (!root) {
                        udk_client_disconnect(client);
                        udkctl_error("out of memory");
                        return UDKCTL_EXIT_FAILURE;
                }
                if (udkctl_lookup(client, argv[0], root) < 0) {
                        udk_client_disconnect(client);
                        return UDKCTL_EXIT_FAILURE;
                }
                root_id = root->id;
        }
        r = udk_client_list(client, root_id, &objects, &n);
        if (r < 0) {
                status = udkctl_fail(client, r, "list");
                udk_client_disconnect(client);
                return status;
        }
        udk_client_disconnect(client);

        if (opts->json) {
                print_json(objects, n);
                status = UDKCTL_EXIT_OK;
        } else {
                status = print_tree(objects, n, opts->verbose);
        }
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return status;
}
