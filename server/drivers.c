/* SPDX-License-Identifier: MIT */
/*
 * The drivers folders: where udkd finds the personalities it will match
 * nubs against.  The system folder and the user's are optional; a folder
 * named with --drivers must exist.  Broken files are logged and the rest
 * still load (personality.c).
 *
 * The folders are watched (inotify, read through the io_uring loop): a
 * change reloads the whole set a moment later (editors write in bursts).
 * Drivers whose personality is still there run on untouched, those whose
 * personality went are stopped for good, and the nubs nothing drives are
 * matched again, which starts what newly matches.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <udk/clock.h>

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

#define RELOAD_DELAY_NS 50000000ull /* after the last change seen */
#define INOTIFY_BUF     4096u
#define WATCH_MASK      (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_CREATE)

static int load_folder(struct udkd_personality_set *set, const char *dir, bool must_exist)
{
        size_t errors_before = set->n_errors;
        char err[UDKD_PERSONALITY_ERR_MAX] = "";
        int r = udkd_personalities_load_folder(set, dir, err, sizeof(err));

        if (r == -ENOENT && !must_exist) {
                udk_debug("no drivers folder %s", dir);
                return 0;
        }
        if (r < 0) {
                udk_error("drivers folder %s", err);
                return r;
        }
        for (size_t i = errors_before; i < set->n_errors; i++)
                udk_warn("%s", set->errors[i]);
        udk_debug("drivers folder %s: %d file%s loaded", dir, r, r == 1 ? "" : "s");
        return 0;
}

static void watch(struct udkd_server *server, const char *dir)
{
        if (server->inotify_fd < 0) {
                server->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                server->inotify_buf = malloc(INOTIFY_BUF);
                if (server->inotify_fd < 0 || !server->inotify_buf) {
                        udk_warn("cannot watch the drivers folders: %s", strerror(errno ? errno : ENOMEM));
                        if (server->inotify_fd >= 0)
                                close(server->inotify_fd);
                        server->inotify_fd = -1;
                        return;
                }
        }
        if (inotify_add_watch(server->inotify_fd, dir, WATCH_MASK) < 0)
                udk_debug("not watching %s: %s", dir, strerror(errno));
}

static int remember_dir(struct udkd_server *server, const char *dir)
{
        if (server->n_drivers_dirs == UDK_ELEMENTSOF(server->drivers_dirs))
                return 0;
        server->drivers_dirs[server->n_drivers_dirs] = strdup(dir);
        if (!server->drivers_dirs[server->n_drivers_dirs])
                return -ENOMEM;
        server->n_drivers_dirs++;
        watch(server, dir);
        return 0;
}

static void log_summary(const struct udkd_personality_set *set)
{
        if (set->n_items > 0 || set->n_errors > 0)
                udk_info("%zu personalit%s loaded, %zu file%s with errors", set->n_items,
                         set->n_items == 1 ? "y" : "ies", set->n_errors, set->n_errors == 1 ? "" : "s");
}

int udkd_server_load_personalities(struct udkd_server *server, const char *const *dirs, size_t n_dirs)
{
        char user[512];
        int r = 0;

        if (n_dirs > 0) {
                for (size_t i = 0; i < n_dirs && r == 0; i++) {
                        r = load_folder(&server->personalities, dirs[i], true);
                        if (r == 0)
                                r = remember_dir(server, dirs[i]);
                }
        } else {
                r = load_folder(&server->personalities, UDK_DRIVERS_DIR, false);
                if (r == 0)
                        r = remember_dir(server, UDK_DRIVERS_DIR);
                user_folder(user, sizeof(user));
                if (r == 0 && user[0])
                        r = load_folder(&server->personalities, user, false);
                if (r == 0 && user[0])
                        r = remember_dir(server, user);
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
        log_summary(&server->personalities);
        return (int)server->personalities.n_items;
}

void udkd_personalities_changed(struct udkd_server *server)
{
        for (;;) {
                ssize_t n = read(server->inotify_fd, server->inotify_buf, INOTIFY_BUF);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
        }
        server->reload_at = udk_time_now() + RELOAD_DELAY_NS;
}

static ssize_t find_name(const struct udkd_personality_set *set, const char *name)
{
        for (size_t i = 0; i < set->n_items; i++)
                if (strcmp(set->items[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

static void reload(struct udkd_server *server)
{
        struct udkd_personality_set set, old;
        udk_object_id *ids, *old_ids = server->personality_ids;
        size_t kept = 0;

        udkd_personality_set_init(&set);
        for (size_t i = 0; i < server->n_drivers_dirs; i++)
                if (load_folder(&set, server->drivers_dirs[i], false) < 0) {
                        udk_error("drivers folders changed, but cannot be read again: the personalities stay as "
                                  "they were");
                        udkd_personality_set_finish(&set);
                        return;
                }
        ids = calloc(set.n_items ? set.n_items : 1, sizeof(*ids));
        if (!ids) {
                udk_error("reloading the personalities: %s", strerror(ENOMEM));
                udkd_personality_set_finish(&set);
                return;
        }
        for (size_t i = 0; i < set.n_items; i++) {
                ssize_t o = find_name(&server->personalities, set.items[i].name);

                ids[i] = o >= 0 ? old_ids[o] : udk_object_id_next();
                kept += o >= 0;
        }
        old = server->personalities;
        server->personalities = set;
        server->personality_ids = ids;
        udk_info("drivers folders changed: %zu personalit%s (%zu kept, %zu new, %zu gone), %zu file%s with errors",
                 set.n_items, set.n_items == 1 ? "y" : "ies", kept, set.n_items - kept, old.n_items - kept,
                 set.n_errors, set.n_errors == 1 ? "" : "s");

        for (size_t i = 0; i < old.n_items; i++)
                if (find_name(&set, old.items[i].name) < 0)
                        udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, old_ids[i]);
        for (size_t i = 0; i < set.n_items; i++)
                udkd_registry_event(server,
                                    find_name(&old, set.items[i].name) >= 0 ? UDK_MSG_EVENT_CHANGED
                                                                           : UDK_MSG_EVENT_ADDED,
                                    ids[i]);

        /* Drivers follow their personality by name; those whose went stop for good. */
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];
                ssize_t n;

                if (!d)
                        continue;
                n = find_name(&set, d->name);
                d->personality = n >= 0 ? (size_t)n : SIZE_MAX;
        }
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                struct server_driver *d = server->drivers[i];

                if (d && d->personality == SIZE_MAX) {
                        udk_info("driver '%s': its personality is gone: stopping it", d->name);
                        udkd_driver_stop(server, d, AFTER_REMOVE);
                }
        }
        udkd_personality_set_finish(&old);
        free(old_ids);
        udkd_nubs_match_unbound(server);
}

void udkd_personalities_tick(struct udkd_server *server, uint64_t now)
{
        if (!server->reload_at || now < server->reload_at || server->shutting_down)
                return;
        server->reload_at = 0;
        reload(server);
}

void udkd_personalities_finish(struct udkd_server *server)
{
        udkd_personality_set_finish(&server->personalities);
        free(server->personality_ids);
        server->personality_ids = NULL;
        if (server->inotify_fd >= 0)
                close(server->inotify_fd);
        server->inotify_fd = -1;
        free(server->inotify_buf);
        for (size_t i = 0; i < server->n_drivers_dirs; i++)
                free(server->drivers_dirs[i]);
        server->n_drivers_dirs = 0;
}
