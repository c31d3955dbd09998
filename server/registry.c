/* SPDX-License-Identifier: MIT */
/*
 * The registry: udkd's object tree as clients see it, built on the fly
 * from the devices and sessions (nothing to keep in step):
 *
 *   root "udkd"
 *   +-o backend ("virtual", ...)
 *   | +-o device
 *   |   +-o stream (input, output)   +-o control   +-o handler   +-o node
 *   +-o personality
 *   +-o nub (root-test, ...)
 *   | +-o driver
 *   |   +-o device (the driver's, with its streams, controls, ...)
 *   |   +-o nub (published by the driver) > driver > ...
 *   +-o client (one per session)
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/format.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"
#include "udk-build-config.h"

enum item_kind {
        ITEM_ROOT,
        ITEM_BACKEND,
        ITEM_DEVICE,
        ITEM_STREAM,
        ITEM_CONTROL,
        ITEM_HANDLER,
        ITEM_NODE,
        ITEM_SESSION,
        ITEM_PERSONALITY,
        ITEM_NUB,
        ITEM_DRIVER,
};

struct item {
        enum item_kind kind;
        udk_object_id id;
        udk_object_id parent;
        size_t backend;               /* ITEM_BACKEND */
        struct server_device *device; /* ITEM_DEVICE and below */
        const struct udk_stream *stream;
        struct udk_control *control;
        const struct server_handler *handler;
        struct server_node *node;
        struct server_session *session;
        const struct udkd_personality *personality;
        const struct server_nub *nub;
        const struct server_driver *driver;
};

typedef int (*item_fn)(void *data, const struct item *it);

struct walker {
        struct udkd_server *server;
        udk_object_id root;
        item_fn fn;
        void *data;
};

/* Visit @it when it is @root or under it (@inside); returns @fn's non-zero return. */
static int visit(struct walker *w, bool inside, const struct item *it)
{
        if (inside || it->id == w->root)
                return w->fn(w->data, it);
        return 0;
}

#define VISIT(inside, ...)                                                                                   \
        do {                                                                                                 \
                struct item _it = (struct item){ __VA_ARGS__ };                                              \
                int _r = visit(w, (inside), &_it);                                                           \
                if (_r != 0)                                                                                 \
                        return _r;                                                                           \
        } while (0)

static int walk_device(struct walker *w, bool inside, struct server_device *d, udk_object_id parent)
{
        udk_object_id dev_id = udk_device_id(d->dev);

        VISIT(inside, .kind = ITEM_DEVICE, .id = dev_id, .parent = parent, .device = d);
        inside = inside || dev_id == w->root;
        for (int dir = UDK_DIRECTION_INPUT; dir <= UDK_DIRECTION_OUTPUT; dir++) {
                const struct udk_stream *st = udk_device_stream(d->dev, (enum udk_direction)dir);
                if (st)
                        VISIT(inside, .kind = ITEM_STREAM, .id = st->obj.id, .parent = dev_id, .device = d,
                              .stream = st);
        }
        for (uint32_t c = 0; c < udk_device_n_controls(d->dev); c++) {
                struct udk_control *ctl = udk_device_control(d->dev, c);
                VISIT(inside, .kind = ITEM_CONTROL, .id = ctl->obj.id, .parent = dev_id, .device = d,
                      .control = ctl);
        }
        for (size_t h = 0; h < d->n_handlers; h++)
                VISIT(inside, .kind = ITEM_HANDLER, .id = udk_handler_id(d->handlers[h].handler), .parent = dev_id,
                      .device = d, .handler = &d->handlers[h]);
        for (uint32_t n = 0; n < d->n_nodes; n++)
                VISIT(inside, .kind = ITEM_NODE, .id = d->nodes[n]->id, .parent = dev_id, .device = d,
                      .node = d->nodes[n]);
        return 0;
}

static int walk_nub(struct walker *w, bool inside, const struct server_nub *n, udk_object_id parent);

/* A driver, its devices and the nubs it published (with what drives them). */
static int walk_driver(struct walker *w, bool inside, const struct server_driver *drv, udk_object_id parent)
{
        struct udkd_server *server = w->server;
        int r;

        VISIT(inside, .kind = ITEM_DRIVER, .id = drv->id, .parent = parent, .driver = drv);
        inside = inside || drv->id == w->root;
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                if (d->dev && d->driver_conf && d->driver_id == drv->id) {
                        r = walk_device(w, inside, d, drv->id);
                        if (r != 0)
                                return r;
                }
        }
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++) {
                const struct server_nub *n = server->nubs[i];
                if (n && n->publisher == drv) {
                        r = walk_nub(w, inside, n, drv->id);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

static int walk_nub(struct walker *w, bool inside, const struct server_nub *n, udk_object_id parent)
{
        struct udkd_server *server = w->server;

        VISIT(inside, .kind = ITEM_NUB, .id = n->id, .parent = parent, .nub = n);
        inside = inside || n->id == w->root;
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                const struct server_driver *d = server->drivers[i];
                if (d && d->nub == n) {
                        int r = walk_driver(w, inside, d, n->id);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

/* A driver device whose driver object is gone hangs under the root. */
static bool device_is_orphan(struct udkd_server *server, const struct server_device *d)
{
        return d->driver_conf && !udkd_driver_find(server, d->driver_id);
}

/* Visit the tree under the item that has @root (0: all), parents first;
 * stops at the first non-zero return of @fn.
 *
 *   root: backends > devices of the configuration; personalities; root nubs >
 *   driver > (its devices, its nubs > driver > ...); drivers whose nub went; clients */
static int walk(struct udkd_server *server, udk_object_id root, item_fn fn, void *data)
{
        struct walker walker = { server, root, fn, data }, *w = &walker;
        bool inside = root == 0 || root == server->root_id;
        int r;

        VISIT(inside, .kind = ITEM_ROOT, .id = server->root_id);
        for (size_t b = 0; b < server->n_backends; b++) {
                bool backend_inside = inside || server->backend_ids[b] == root;

                VISIT(inside, .kind = ITEM_BACKEND, .id = server->backend_ids[b], .parent = server->root_id,
                      .backend = b);
                for (size_t i = 0; i < server->n_devices; i++) {
                        struct server_device *d = &server->devices[i];

                        if (!d->dev || d->driver_conf || udk_device_backend(d->dev) != server->backends[b])
                                continue;
                        r = walk_device(w, backend_inside, d, server->backend_ids[b]);
                        if (r != 0)
                                return r;
                }
        }
        for (size_t i = 0; i < server->personalities.n_items; i++)
                VISIT(inside, .kind = ITEM_PERSONALITY, .id = server->personality_ids[i], .parent = server->root_id,
                      .personality = &server->personalities.items[i]);
        for (uint32_t i = 0; i < UDKD_NUBS_MAX; i++) {
                const struct server_nub *n = server->nubs[i];
                if (n && !n->publisher) {
                        r = walk_nub(w, inside, n, server->root_id);
                        if (r != 0)
                                return r;
                }
        }
        for (uint32_t i = 0; i < UDKD_DRIVERS_MAX; i++) {
                const struct server_driver *d = server->drivers[i];
                if (d && !d->nub) {
                        r = walk_driver(w, inside, d, server->root_id);
                        if (r != 0)
                                return r;
                }
        }
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                if (d->dev && device_is_orphan(server, d)) {
                        r = walk_device(w, inside, d, server->root_id);
                        if (r != 0)
                                return r;
                }
        }
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *s = server->sessions[i];
                if (s && s->hello)
                        VISIT(inside, .kind = ITEM_SESSION, .id = s->id, .parent = server->root_id, .session = s);
        }
        return 0;
}
#undef VISIT

udk_object_id udkd_registry_personality_id(const struct udkd_server *server, size_t index)
{
        return index < server->personalities.n_items ? server->personality_ids[index] : 0;
}

/* --- properties --- */

struct props {
        struct udk_msg_object *msg;
};

static struct udk_prop *prop_next(struct props *p)
{
        if (p->msg->n_props >= UDK_PROPS_MAX)
                return NULL; /* the classes below stay well under the limit */
        return &p->msg->props[p->msg->n_props++];
}

#define PROP(p, setter, ...)                                                                                 \
        do {                                                                                                 \
                struct udk_prop *_p = prop_next(p);                                                          \
                if (_p)                                                                                      \
                        setter(_p, __VA_ARGS__);                                                             \
        } while (0)

static void control_props(struct props *p, const struct udk_control *c)
{
        char value[UDK_PROP_STRING_MAX];

        udk_control_format(c, value, sizeof(value));
        PROP(p, udk_prop_string, "kind", udk_control_kind_name(c->kind), 0);
        PROP(p, udk_prop_string, "value", value, UDK_PROP_SETTABLE);
        switch (c->kind) {
        case UDK_CONTROL_LEVEL:
                PROP(p, udk_prop_double, "db", udk_control_level_db(c), 0);
                PROP(p, udk_prop_double, "scalar", udk_control_level_scalar(c), 0);
                PROP(p, udk_prop_double, "min_db", c->level.min_db, 0);
                PROP(p, udk_prop_double, "max_db", c->level.max_db, 0);
                break;
        case UDK_CONTROL_BOOLEAN:
                PROP(p, udk_prop_bool, "on", udk_control_boolean_get(c), 0);
                break;
        case UDK_CONTROL_SELECTOR: {
                char items[UDK_PROP_STRING_MAX] = "";
                for (uint32_t i = 0; i < c->selector.n_items && i < UDK_SELECTOR_ITEMS_MAX; i++) {
                        size_t len = strlen(items);
                        snprintf(items + len, sizeof(items) - len, "%s%s", i ? "," : "", c->selector.items[i].name);
                }
                PROP(p, udk_prop_string, "items", items, 0);
                break;
        }
        case UDK_CONTROL_NUMBER:
                PROP(p, udk_prop_double, "min", c->number.min, 0);
                PROP(p, udk_prop_double, "max", c->number.max, 0);
                break;
        }
}

static void device_props(struct props *p, const struct server_device *d)
{
        const struct udk_device_config *cfg = udk_device_config(d->dev);
        const struct udk_device *dev = d->dev;

        PROP(p, udk_prop_string, "uid", udk_device_uid(dev), 0);
        PROP(p, udk_prop_string, "backend", udk_device_backend(dev)->name, 0);
        PROP(p, udk_prop_int, "rate", cfg->rate, 0);
        PROP(p, udk_prop_int, "period", cfg->period, 0);
        PROP(p, udk_prop_int, "ring_frames", udk_device_ring_frames(dev), 0);
        PROP(p, udk_prop_int, "input_channels", cfg->input_channels, 0);
        PROP(p, udk_prop_int, "output_channels", cfg->output_channels, 0);
        PROP(p, udk_prop_string, "format", udk_format_name(cfg->format), 0);
        PROP(p, udk_prop_int, "input_latency",
             udk_device_latency(dev, UDK_DIRECTION_INPUT) + udk_device_safety_offset(dev, UDK_DIRECTION_INPUT), 0);
        PROP(p, udk_prop_int, "output_latency",
             udk_device_latency(dev, UDK_DIRECTION_OUTPUT) + udk_device_safety_offset(dev, UDK_DIRECTION_OUTPUT),
             0);
        PROP(p, udk_prop_bool, "running", udk_device_is_running(dev), 0);
        PROP(p, udk_prop_bool, "realtime", udk_device_is_realtime(dev), 0);
        PROP(p, udk_prop_int, "priority", cfg->rt_priority, 0);
        PROP(p, udk_prop_int, "cpu", cfg->cpu, 0);
        PROP(p, udk_prop_string, "placement", udkd_placement_name(d->conf->placement), 0);
        PROP(p, udk_prop_int, "client_cpu", d->client_cpu, 0);
        PROP(p, udk_prop_int, "nodes", d->n_nodes, 0);
        PROP(p, udk_prop_int, "late_limit", cfg->late_limit, 0);
        PROP(p, udk_prop_int, "client_deadline", cfg->client_deadline, 0);
}

static void node_props(struct props *p, const struct server_node *n)
{
        PROP(p, udk_prop_int, "client", n->session ? n->session->id : 0, 0);
        PROP(p, udk_prop_int, "pid", n->session ? n->session->pid : 0, 0);
        PROP(p, udk_prop_int, "input_channels", n->input_channels, 0);
        PROP(p, udk_prop_int, "output_channels", n->output_channels, 0);
        PROP(p, udk_prop_string, "link", n->link == UDK_LINK_CHAIN ? "chain" : "device", 0);
        PROP(p, udk_prop_int, "position", udkd_node_position(n), 0);
        PROP(p, udk_prop_string, "state", udkd_node_state_name(n->state), 0);
        PROP(p, udk_prop_double, "gain", n->gain, UDK_PROP_SETTABLE);
        PROP(p, udk_prop_int, "slot", n->slot, 0);
        if (n->remote) {
                const struct udk_remote_stats *st = udk_remote_stats(n->remote);
                PROP(p, udk_prop_int, "cycles", (int64_t)atomic_load(&st->cycles), 0);
                PROP(p, udk_prop_int, "late", (int64_t)atomic_load(&st->late), 0);
        }
}

static void personality_props(struct props *p, const struct udkd_personality *pers)
{
        char limit[64];

        if (pers->restart_limit_count)
                snprintf(limit, sizeof(limit), "%u/%llus", pers->restart_limit_count,
                         (unsigned long long)(pers->restart_limit_window_ms / 1000));
        else
                snprintf(limit, sizeof(limit), "none");
        PROP(p, udk_prop_string, "family", udkd_family_name(pers->family), 0);
        PROP(p, udk_prop_string, "driver", pers->driver, 0);
        PROP(p, udk_prop_string, "class", pers->class_name ? pers->class_name : "", 0);
        PROP(p, udk_prop_string, "file", pers->path, 0);
        PROP(p, udk_prop_int, "line", pers->line, 0);
        PROP(p, udk_prop_int, "rules", (int64_t)pers->n_rules, 0);
        PROP(p, udk_prop_int, "probe_score", pers->probe_score, 0);
        PROP(p, udk_prop_string, "restart", udkd_restart_name(pers->restart), 0);
        PROP(p, udk_prop_string, "restart_limit", limit, 0);
        PROP(p, udk_prop_string, "host", pers->host ? pers->host : "", 0);
        PROP(p, udk_prop_string, "sandbox", pers->sandbox_udev ? "udev" : "", 0);
        PROP(p, udk_prop_bool, "fallback", pers->fallback, 0);
}

/* A nub's object holds its three own properties and every one its driver published. */
_Static_assert(3 + UDKD_NUB_PROPS_MAX <= UDK_PROPS_MAX, "a nub's properties");

static void nub_props(struct props *p, const struct server_nub *n)
{
        PROP(p, udk_prop_string, "family", udkd_family_name(n->family), 0);
        PROP(p, udk_prop_int, "bound", n->bound ? n->bound->id : 0, 0);
        PROP(p, udk_prop_int, "handle", n->handle, 0);
        for (uint32_t i = 0; i < n->n_props; i++)
                PROP(p, udk_prop_string, n->props[i].key, n->props[i].value, 0);
}

static void driver_props(struct props *p, struct udkd_server *server, const struct server_driver *d)
{
        const struct udkd_personality *pers = udkd_driver_personality(server, d);
        uint64_t now = udk_time_now();
        int64_t restart_in = 0;

        if (d->state == DRIVER_RESTARTING && d->restart_at > now)
                restart_in = (int64_t)((d->restart_at - now) / 1000000);
        PROP(p, udk_prop_string, "state", udkd_driver_state_name(d->state), 0);
        PROP(p, udk_prop_int, "pid", d->pid, 0);
        PROP(p, udk_prop_int, "restarts", d->restarts, 0);
        PROP(p, udk_prop_int, "crashes", d->crashes, 0);
        PROP(p, udk_prop_int, "restart_in_ms", restart_in, 0);
        PROP(p, udk_prop_string, "last_exit", d->last_exit, 0);
        PROP(p, udk_prop_string, "personality", d->name, 0);
        PROP(p, udk_prop_int, "personality_id", pers ? udkd_registry_personality_id(server, d->personality) : 0, 0);
        PROP(p, udk_prop_int, "nub", d->nub ? d->nub->id : 0, 0);
        PROP(p, udk_prop_string, "driver", pers ? pers->driver : "", 0);
        PROP(p, udk_prop_string, "host", d->host ? d->host->key : "", 0);
}

static int fill(struct udkd_server *server, const struct item *it, struct udk_msg_object *msg)
{
        struct props p = { msg };
        const char *klass = "root", *name = "udkd";

        memset(msg, 0, sizeof(*msg));
        msg->id = it->id;
        msg->parent = it->parent;
        switch (it->kind) {
        case ITEM_ROOT:
                PROP(&p, udk_prop_string, "version", UDK_VERSION, 0);
                PROP(&p, udk_prop_int, "pid", getpid(), 0);
                PROP(&p, udk_prop_string, "socket", server->socket_path, 0);
                PROP(&p, udk_prop_int, "sessions", server->n_sessions, 0);
                PROP(&p, udk_prop_int, "protocol", UDK_PROTOCOL_VERSION, 0);
                PROP(&p, udk_prop_int, "personalities", (int64_t)server->personalities.n_items, 0);
                PROP(&p, udk_prop_int, "personality_errors", (int64_t)server->personalities.n_errors, 0);
                break;
        case ITEM_BACKEND:
                klass = "backend";
                name = server->backends[it->backend]->name;
                break;
        case ITEM_DEVICE:
                klass = "device";
                name = udk_device_config(it->device->dev)->name;
                device_props(&p, it->device);
                break;
        case ITEM_STREAM:
                klass = "stream";
                name = it->stream->direction == UDK_DIRECTION_INPUT ? "input" : "output";
                PROP(&p, udk_prop_string, "direction", name, 0);
                PROP(&p, udk_prop_int, "channels", it->stream->channels, 0);
                PROP(&p, udk_prop_int, "rate", it->stream->rate, 0);
                PROP(&p, udk_prop_string, "format", udk_format_name(it->stream->format), 0);
                PROP(&p, udk_prop_int, "latency", udk_device_latency(it->device->dev, it->stream->direction), 0);
                PROP(&p, udk_prop_int, "starting_channel", it->stream->starting_channel, 0);
                PROP(&p, udk_prop_int, "ring_frames", it->stream->ring_frames, 0);
                break;
        case ITEM_CONTROL:
                klass = "control";
                name = it->control->obj.name;
                control_props(&p, it->control);
                break;
        case ITEM_HANDLER:
                klass = "handler";
                name = it->handler->conf->instance;
                PROP(&p, udk_prop_string, "plugin", it->handler->conf->plugin, 0);
                break;
        case ITEM_NODE:
                klass = "node";
                name = it->node->name;
                node_props(&p, it->node);
                break;
        case ITEM_PERSONALITY:
                klass = "personality";
                name = it->personality->name;
                personality_props(&p, it->personality);
                break;
        case ITEM_NUB:
                klass = "nub";
                name = it->nub->name;
                nub_props(&p, it->nub);
                break;
        case ITEM_DRIVER:
                klass = "driver";
                name = it->driver->name;
                driver_props(&p, server, it->driver);
                break;
        case ITEM_SESSION:
                klass = "client";
                name = it->session->name;
                PROP(&p, udk_prop_int, "pid", it->session->pid, 0);
                PROP(&p, udk_prop_int, "uid", it->session->uid, 0);
                PROP(&p, udk_prop_int, "gid", it->session->gid, 0);
                PROP(&p, udk_prop_int, "streams", it->session->n_nodes, 0);
                break;
        }
        udk_strlcpy(msg->klass, klass, sizeof(msg->klass));
        udk_strlcpy(msg->name, name, sizeof(msg->name));
        udk_msg_init(&msg->h, UDK_MSG_OBJECT, (uint32_t)udk_msg_object_size(msg->n_props), 0);
        return 0;
}

struct find {
        udk_object_id id;
        struct item item;
        bool found;
};

static int find_fn(void *data, const struct item *it)
{
        struct find *f = data;

        if (it->id != f->id)
                return 0;
        f->item = *it;
        f->found = true;
        return 1;
}

static bool find(struct udkd_server *server, udk_object_id id, struct item *ret)
{
        struct find f = { .id = id };

        if (id == 0)
                return false;
        walk(server, id, find_fn, &f);
        if (f.found)
                *ret = f.item;
        return f.found;
}

int udkd_registry_object(struct udkd_server *server, udk_object_id id, struct udk_msg_object *msg)
{
        struct item it;

        if (!find(server, id, &it))
                return -ENOENT;
        return fill(server, &it, msg);
}

struct walk_ids {
        int (*fn)(void *data, udk_object_id id);
        void *data;
        bool any;
};

static int walk_ids_fn(void *data, const struct item *it)
{
        struct walk_ids *w = data;

        w->any = true;
        return w->fn(w->data, it->id);
}

int udkd_registry_walk(struct udkd_server *server, udk_object_id root, int (*fn)(void *data, udk_object_id id),
                       void *data)
{
        struct walk_ids w = { fn, data, false };
        int r = walk(server, root, walk_ids_fn, &w);

        if (r < 0)
                return r;
        return w.any ? 0 : -ENOENT;
}

struct server_device *udkd_registry_device(struct udkd_server *server, udk_object_id id)
{
        for (size_t i = 0; i < server->n_devices; i++)
                if (server->devices[i].dev && udk_device_id(server->devices[i].dev) == id)
                        return &server->devices[i];
        return NULL;
}

void udkd_registry_event(struct udkd_server *server, uint32_t type, udk_object_id id)
{
        union {
                struct udk_msg_object object;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        struct udk_msg_object_ref ref;
        const void *msg = &buf;
        size_t len;

        if (type == UDK_MSG_EVENT_REMOVED) {
                ref = (struct udk_msg_object_ref){ .id = id };
                udk_msg_init(&ref.h, type, sizeof(ref), 0);
                msg = &ref;
                len = sizeof(ref);
        } else {
                if (udkd_registry_object(server, id, &buf.object) < 0)
                        return;
                buf.object.h.type = type;
                len = buf.object.h.size;
        }
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *s = server->sessions[i];
                if (s && s->hello && (s->subscriptions & UDK_SUBSCRIBE_REGISTRY))
                        udkd_session_send(server, s, msg, len, NULL, 0);
        }
}

static int set_node_gain(struct udkd_server *server, struct server_node *n, const char *value, char *err,
                         size_t err_size)
{
        char number[UDK_OBJECT_NAME_MAX];
        size_t len;
        double v;
        bool db;

        udk_strlcpy(number, value, sizeof(number));
        len = strlen(number);
        db = len >= 2 && (strcmp(number + len - 2, "dB") == 0 || strcmp(number + len - 2, "db") == 0);
        if (db) {
                number[len - 2] = '\0';
                len -= 2;
                while (len > 0 && number[len - 1] == ' ')
                        number[--len] = '\0';
        }
        if (udk_parse_double(number, db ? -200.0 : -1e9, db ? 200.0 : 1e9, &v) < 0) {
                snprintf(err, err_size, "gain: '%s' is not a number (a linear gain 0..4, or dB -96..12 with 'dB')",
                         value);
                return -EINVAL;
        }
        if (db ? (v < -96.0 || v > 12.0) : (v < 0.0 || v > 4.0)) {
                snprintf(err, err_size, "gain: %s is out of range (a linear gain 0..4, or -96..12 dB)", value);
                return -ERANGE;
        }
        n->gain = db ? (v <= -96.0 ? 0.0f : (float)pow(10.0, v / 20.0)) : (float)v;
        if (n->remote)
                udk_remote_set_gain(n->remote, n->gain);
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, n->id);
        return 0;
}

static int set_control(struct udkd_server *server, const struct server_session *requester,
                       struct server_device *d, struct udk_control *c, const char *value, char *err,
                       size_t err_size)
{
        char expects[256];
        int r = udk_control_set_from_string(c, value);

        if (r < 0) {
                udkd_control_expects(c, expects, sizeof(expects));
                if (r == -ERANGE)
                        snprintf(err, err_size, "%s: %s is out of range (%s)", c->obj.name, value, expects);
                else
                        snprintf(err, err_size, "%s: '%s' is not a value it takes (%s)", c->obj.name, value,
                                 expects);
                return r;
        }
        udk_info("%s: %s set to %s", udk_device_config(d->dev)->name, c->obj.name, value);
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, c->obj.id);
        /* A client moved a driver's control: the driver follows (its own moves are not echoed). */
        if (requester && d->driver)
                udkd_driver_control_changed(server, d, c);
        return 0;
}

/* A node's own client, or any client of the same user (a mixer, udkctl), or root. */
static bool may_touch_node(const struct server_session *requester, const struct server_node *n)
{
        if (!requester)
                return true;
        if (n->session == requester || requester->uid == 0)
                return true;
        return n->session && n->session->uid == requester->uid;
}

int udkd_registry_set_control(struct udkd_server *server, const struct server_session *requester,
                              udk_object_id id, const char *control, const char *value, char *err,
                              size_t err_size)
{
        struct udk_control *c;
        struct item it;

        if (!find(server, id, &it)) {
                snprintf(err, err_size, "no object %" PRIu32, id);
                return -ENOENT;
        }
        switch (it.kind) {
        case ITEM_DEVICE:
                c = udk_device_find_control(it.device->dev, control);
                if (!c) {
                        snprintf(err, err_size, "device %s has no control '%s'",
                                 udk_device_config(it.device->dev)->name, control);
                        return -ENOENT;
                }
                return set_control(server, requester, it.device, c, value, err, err_size);
        case ITEM_CONTROL:
                if (control[0] && strcmp(control, it.control->obj.name) != 0) {
                        snprintf(err, err_size, "object %" PRIu32 " is the control %s, not '%s'", id,
                                 it.control->obj.name, control);
                        return -ENOENT;
                }
                return set_control(server, requester, it.device, it.control, value, err, err_size);
        case ITEM_NODE:
                if (!may_touch_node(requester, it.node)) {
                        snprintf(err, err_size, "node %s belongs to another user's client", it.node->name);
                        return -EPERM;
                }
                if (strcmp(control, "gain") != 0) {
                        snprintf(err, err_size, "node %s has one control, gain, not '%s'", it.node->name, control);
                        return -ENOENT;
                }
                return set_node_gain(server, it.node, value, err, err_size);
        default:
                snprintf(err, err_size, "object %" PRIu32 " has no controls", id);
                return -ENOENT;
        }
}
