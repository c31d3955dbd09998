/* SPDX-License-Identifier: MIT */
/* The connection to udkd, finding objects, and the messages for what fails. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <udk/util.h>

#include "udkctl.h"

void udkctl_error(const char *fmt, ...)
{
        va_list ap;

        fputs("udkctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int udkctl_fail(const struct udk_client *client, int r, const char *what)
{
        const char *sentence = client ? udk_client_error(client) : "";

        if (sentence && *sentence)
                udkctl_error("%s", sentence);
        else if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)
                udkctl_error("%s: udkd closed the connection", what);
        else
                udkctl_error("%s: %s", what, strerror(-r));
        return UDKCTL_EXIT_FAILURE;
}

int udkctl_connect(const struct udkctl_options *opts, struct udk_client **ret)
{
        char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
        int r;

        if (opts->socket) {
                if (udk_strlcpy(path, opts->socket, sizeof(path)) < 0) {
                        udkctl_error("socket path too long (at most %zu bytes): %s", sizeof(path) - 1,
                                     opts->socket);
                        return -ENAMETOOLONG;
                }
        } else {
                r = udk_socket_default_path(path, sizeof(path));
                if (r < 0) {
                        udkctl_error("cannot tell where udkd's socket is: %s", strerror(-r));
                        return r;
                }
        }

        r = udk_client_connect("udkctl", path, ret);
        switch (r) {
        case 0:
                return 0;
        case -ENOENT:
                udkctl_error("udkd is not running (no socket at %s)", path);
                break;
        case -ECONNREFUSED:
                udkctl_error("udkd is not running (nothing listens at %s)", path);
                break;
        case -EACCES:
        case -EPERM:
                udkctl_error("cannot connect to udkd at %s: %s (is your user in the socket's group?)", path,
                             strerror(-r));
                break;
        default:
                /* The library's sentence: a protocol version udkctl does not speak, and the like. */
                if (*udk_client_error(NULL))
                        udkctl_error("%s", udk_client_error(NULL));
                else
                        udkctl_error("cannot connect to udkd at %s: %s", path, strerror(-r));
                break;
        }
        return r;
}

int udkctl_lookup(struct udk_client *client, const char *what, struct udk_msg_object *ret)
{
        udk_object_id id;
        int r;

        r = udk_client_find(client, what, &id);
        if (r >= 0)
                r = udk_client_info(client, id, ret);
        if (r == -ENOENT)
                udkctl_error("no object '%s'", what);
        else if (r < 0)
                udkctl_fail(client, r, what);
        return r < 0 ? r : 0;
}

int udkctl_lookup_class(struct udk_client *client, const char *klass, const char *what,
                        struct udk_msg_object *ret)
{
        udk_object_id id;
        int r;

        r = udk_client_find_class(client, klass, what, &id);
        if (r >= 0)
                r = udk_client_info(client, id, ret);
        if (r == -ENOENT)
                udkctl_error("no %s '%s'", klass, what);
        else if (r < 0)
                udkctl_fail(client, r, what);
        return r < 0 ? r : 0;
}

int udkctl_lookup_device(struct udk_client *client, const char *what, struct udk_msg_object *ret)
{
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        size_t n;
        int r;

        if (what) {
                r = udkctl_lookup(client, what, ret);
                if (r < 0)
                        return r;
                if (strcmp(ret->klass, "device") != 0) {
                        udkctl_error("'%s' is a %s, not a device", what, ret->klass);
                        return -ENOTTY;
                }
                return 0;
        }

        r = udk_client_list(client, 0, &objects, &n);
        if (r < 0) {
                udkctl_fail(client, r, "list");
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);

                if (strcmp(obj->klass, "device") == 0) {
                        memcpy(ret, obj, UDK_MSG_SIZE_MAX);
                        return 0;
                }
        }
        udkctl_error("udkd has no device");
        return -ENOENT;
}
