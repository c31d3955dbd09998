/* SPDX-License-Identifier: MIT */
/*
 * Nubs: the providers drivers bind to.  udkd publishes one root nub per
 * family at its start (family "root", name "root-<bus>", property
 * bus=<family>); bus drivers publish the nubs they find, which go with
 * them.  Each new nub is matched at once (match.c) and the winner's driver
 * started on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/log.h>
#include <udk/util.h>

#include "match.h"
#include "nub-message.h"
#include "server-private.h"

static int nub_slot(struct udkd_server *server)
{
        for (int i = 0; i < (int)UDKD_NUBS_MAX; i++)
                if (!server->nubs[i])
                        return i;
        return -1;
}

int udkd_nubs_create_roots(struct udkd_server *server)
{
        for (int f = 0; f < UDKD_FAMILY_ROOT; f++) {
                const char *bus = udkd_family_name((enum udkd_family)f);
                struct server_nub *n = calloc(1, sizeof(*n));

                if (!n)
                        return -ENOMEM;
                n->id = udk_object_id_next();
                n->family = UDKD_FAMILY_ROOT;
                snprintf(n->name, sizeof(n->name), "root-%s", bus);
                udk_strlcpy(n->props[0].key, "bus", sizeof(n->props[0].key));
                udk_strlcpy(n->props[0].value, bus, sizeof(n->props[0].value));
                n->n_props = 1;
                server->nubs[nub_slot(server)] = n;
        }
        return 0;
}

struct server_nub *udkd_nub_find(struct udkd_server *server, udk_object_id id)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++)
                if (server->nubs[i] && server->nubs[i]->id == id)
                        return server->nubs[i];
        return NULL;
}

struct server_nub *udkd_nub_find_handle(struct udkd_server *server, struct server_driver *publisher,
                                        uint32_t handle)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++) {
                struct server_nub *n = server->nubs[i];
                if (n && n->publisher == publisher && n->handle == handle)
                        return n;
        }
        return NULL;
}

void udkd_nub_view(const struct server_nub *n, struct udkd_nub_property *props, struct udkd_nub *ret)
{
        for (uint32_t i = 0; i < n->n_props; i++)
                props[i] = (struct udkd_nub_property){ n->props[i].key, n->props[i].value };
        *ret = (struct udkd_nub){ .family = n->family, .properties = props, .n_properties = n->n_props };
}

int udkd_nub_publish(struct udkd_server *server, struct server_driver *publisher, const struct udk_dmsg_nub *m,
                     struct server_nub **ret, char *err, size_t err_size)
{
        enum udkd_family family;
        struct server_nub *n;
        int slot, r;

        r = udkd_nub_message_check(m, &family, err, err_size);
        if (r < 0)
                return r;
        if (udkd_nub_find_handle(server, publisher, m->handle)) {
                snprintf(err, err_size, "nub '%s': handle %" PRIu32 " is taken by another of this driver's nubs",
                         m->name, m->handle);
                return -EEXIST;
        }
        slot = nub_slot(server);
        if (slot < 0) {
                snprintf(err, err_size, "nub '%s': udkd has %u nubs already, the limit", m->name, UDKD_NUBS_MAX);
                return -ENOSPC;
        }
        n = calloc(1, sizeof(*n));
        if (!n) {
                snprintf(err, err_size, "nub '%s': out of memory", m->name);
                return -ENOMEM;
        }
        n->id = udk_object_id_next();
        n->family = family;
        udk_strlcpy(n->name, m->name, sizeof(n->name));
        memcpy(n->props, m->props, m->n_props * sizeof(m->props[0]));
        n->n_props = m->n_props;
        n->publisher = publisher;
        n->handle = m->handle;
        server->nubs[slot] = n;
        udk_info("driver '%s': published nub %s (%s, %" PRIu32 " properties)", publisher->name, n->name,
                 m->family, n->n_props);
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, n->id);
        *ret = n;
        return 0;
}

void udkd_nub_remove(struct udkd_server *server, struct server_nub *n)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++)
                if (server->nubs[i] == n)
                        server->nubs[i] = NULL;
        if (n->bound) {
                struct server_driver *d = n->bound;

                n->bound = NULL;
                d->nub = NULL;
                udkd_driver_stop(server, d, AFTER_REMOVE);
        }
        udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, n->id);
        free(n);
}

void udkd_nubs_remove_published(struct udkd_server *server, struct server_driver *publisher)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++)
                if (server->nubs[i] && server->nubs[i]->publisher == publisher)
                        udkd_nub_remove(server, server->nubs[i]);
}

void udkd_nub_match(struct udkd_server *server, struct server_nub *n)
{
        struct udkd_nub_property props[UDKD_NUB_PROPS_MAX];
        struct udkd_nub view;
        size_t index;
        int r;

        if (n->bound || server->shutting_down)
                return;
        udkd_nub_view(n, props, &view);
        r = udkd_match(&server->personalities, &view, &index);
        if (r == -ENOENT) {
                udk_debug("nub %s (%s): no personality matches", n->name, udkd_family_name(n->family));
                return;
        }
        if (r < 0) {
                udk_warn("nub %s: cannot match: %s", n->name, strerror(-r));
                return;
        }
        udk_info("nub %s (%s): personality %s matches", n->name, udkd_family_name(n->family),
                 server->personalities.items[index].name);
        udkd_driver_create(server, n, index);
}

void udkd_nubs_match_unbound(struct udkd_server *server)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++)
                if (server->nubs[i] && !server->nubs[i]->bound)
                        udkd_nub_match(server, server->nubs[i]);
}

void udkd_nubs_destroy(struct udkd_server *server)
{
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++) {
                free(server->nubs[i]);
                server->nubs[i] = NULL;
        }
}
