/* SPDX-License-Identifier: MIT */
/*
 * The drivers folders: where udkd finds the personalities it will match
 * nubs against.  The system folder and the user's are optional; a folder
 * named with --drivers must exist.  Broken files are logged and the rest
 * still load (personality.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"
#include "udk-build-config.h"

/* $XDG_CONFIG_HOME/udk/drivers, else ~/.config/udk/drivers; "" without either. */
static void user_folder(char *buf, size_t size)
{
        const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

        if (config && *config)
                snprintf(buf, size, "%s/udk/drivers", config);
        else if (home && *home)
                snprintf(buf, size, "%s/.config/udk/drivers", home);
        else
                buf[0] = '\0';
}

static int load_folder(struct udkd_server *server, const char *dir, bool must_exist)
{
        size_t errors_before = server->personalities.n_errors;
        char err[UDKD_PERSONALITY_ERR_MAX] = "";
        int r = udkd_personalities_load_folder(&server->personalities, dir, err, sizeof(err));

        if (r == -ENOENT && !must_exist) {
                udk_debug("no drivers folder %s", dir);
                return 0;
        }
        if (r < 0) {
                udk_error("drivers folder %s", err);
                return r;
        }
        for (size_t i = errors_before; i < server->personalities.n_errors; i++)
                udk_warn("%s", server->personalities.errors[i]);
        udk_debug("drivers folder %s: %d file%s loaded", dir, r, r == 1 ? "" : "s");
        return 0;
}

int udkd_server_load_personalities(struct udkd_server *server, const char *const *dirs, size_t n_dirs)
{
        char user[512];
        int r = 0;

        if (n_dirs > 0) {
                for (size_t i = 0; i < n_dirs && r == 0; i++)
                        r = load_folder(server, dirs[i], true);
        } else {
                r = load_folder(server, UDK_DRIVERS_DIR, false);
                user_folder(user, sizeof(user));
                if (r == 0 && user[0])
                        r = load_folder(server, user, false);
        }
        if (r < 0)
                return r;

        free(server->personality_ids);
        server->personality_ids = calloc(server->personalities.n_items ? server->personalities.n_items : 1,
                                         sizeof(udk_object_id));
        if (!server->personality_ids)
                return -ENOMEM;
        for (size_t i = 0; i < server->personalities.n_items; i++)
                server->personality_ids[i] = udk_object_id_next();
        if (server->personalities.n_items > 0 || server->personalities.n_errors > 0)
                udk_info("%zu personalit%s loaded, %zu file%s with errors", server->personalities.n_items,
                         server->personalities.n_items == 1 ? "y" : "ies", server->personalities.n_errors,
                         server->personalities.n_errors == 1 ? "" : "s");
        return (int)server->personalities.n_items;
}
