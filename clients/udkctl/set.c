/* SPDX-License-Identifier: MIT */
/*
 * udkctl set OBJECT CONTROL VALUE, or set CONTROL-OBJECT VALUE: udkd checks
 * and applies the value; udkctl reads it back and prints it as udkd now
 * reports it ("studio: level = -6.0 dB").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "udkctl.h"

/*
 * The value of @control on @obj as udkd reports it now: its control child's
 * "value", else its own property of that name.
 */
static int read_back(struct udk_client *client, const struct udk_msg_object *obj, const char *control,
                     char *buf, size_t size)
{
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        _udk_cleanup_free_ struct udk_msg_object *now = malloc(UDK_MSG_SIZE_MAX);
        const struct udk_prop *p;
        size_t n;
        int r;

        if (!now)
                return -ENOMEM;
        r = udk_client_list(client, obj->id, &objects, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *child = udk_client_objects_at(objects, i);

                if (child->parent != obj->id || strcmp(child->klass, "control") != 0 ||
                    strcmp(child->name, control) != 0)
                        continue;
                p = udk_msg_object_prop(child, "value");
                if (!p)
                        return -ENODATA;
                udkctl_prop_format(p, buf, size);
                return 0;
        }
        r = udk_client_info(client, obj->id, now);
        if (r < 0)
                return r;
        p = udk_msg_object_prop(now, control);
        if (!p)
                return -ENODATA;
        udkctl_prop_format(p, buf, size);
        return 0;
}

int udkctl_set(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *obj = malloc(UDK_MSG_SIZE_MAX);
        _udk_cleanup_free_ struct udk_msg_object *owner = malloc(UDK_MSG_SIZE_MAX);
        const char *control = argc == 3 ? argv[1] : "";
        const char *value = argv[argc - 1];
        char now[UDK_PROP_STRING_MAX + 32];
        struct udk_client *client;
        int r, status = UDKCTL_EXIT_FAILURE;

        if (!obj || !owner) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        if (strlen(control) >= UDK_OBJECT_NAME_MAX || strlen(value) >= UDK_OBJECT_NAME_MAX) {
                udkctl_error("'%s' is too long (at most %d bytes)",
                             strlen(value) >= UDK_OBJECT_NAME_MAX ? value : control,
                             UDK_OBJECT_NAME_MAX - 1);
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup(client, argv[0], obj) < 0)
                goto out;
        if (argc == 2 && strcmp(obj->klass, "control") != 0) {
                udkctl_error(
                        "'%s' is a %s, not a control: say which control, as in 'udkctl set %s CONTROL %s'",
                        argv[0], obj->klass, argv[0], value);
                goto out;
        }

        r = udk_client_set_control(client, obj->id, control, value);
        if (r < 0) {
                udkctl_fail(client, r, "set");
                goto out;
        }

        if (argc == 2) {
                /* A control object: its own "value", printed as "device: control = value". */
                control = obj->name;
                r = udk_client_info(client, obj->parent, owner);
                if (r >= 0)
                        r = udk_client_info(client, obj->id, obj);
                if (r >= 0 && !udk_msg_object_prop(obj, "value"))
                        r = -ENODATA;
                if (r >= 0)
                        udkctl_prop_format(udk_msg_object_prop(obj, "value"), now, sizeof(now));
        } else {
                r = read_back(client, obj, control, now, sizeof(now));
        }
        if (r < 0) {
                udkctl_error("%s was set, but reading it back failed: %s", control, strerror(-r));
                goto out;
        }
        printf("%s: %s = %s\n", argc == 2 ? owner->name : obj->name, control, now);
        status = fflush(stdout) == 0 ? UDKCTL_EXIT_OK : UDKCTL_EXIT_FAILURE;
out:
        udk_client_disconnect(client);
        return status;
}
