/* SPDX-License-Identifier: MIT */
/*
 * Drivers' audio devices.  They live in udkd, their cycle on udkd's RT
 * thread like a configuration's devices, set up from the DEVICE_CREATE's
 * text parsed as the body of a [device] section.  A driver that dies
 * leaves its devices running with their input silenced by a gate
 * (driver-gate.h: the first IO handler);
 * its next run creating the same uid takes the device back as it is, with
 * its id and its controls' values.  A driver stopped for good takes its
 * devices with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define DEVICE_TEXT_PATH "device text"

int udkd_gate_add(struct server_device *d)
{
        return udkd_gate_attach(&d->gate, d->dev, &d->gate_handler);
}

static struct server_device *device_by_uid(struct udkd_server *server, const char *uid)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                if (d->dev && strcmp(udk_device_uid(d->dev), uid) == 0)
                        return d;
        }
        return NULL;
}

static struct server_device *device_by_name(struct udkd_server *server, const char *name)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                if (d->dev && strcmp(udk_device_config(d->dev)->name, name) == 0)
                        return d;
        }
        return NULL;
}

/* The uid the device will have: its uid key, else "udk:<name>" as udk_device_create() makes it. */
static void effective_uid(const struct udkd_config_device *c, char *buf, size_t size)
{
        if (c->cfg.uid[0])
                udk_strlcpy(buf, c->cfg.uid, size);
        else
                snprintf(buf, size, "udk:%s", c->cfg.name);
}

static struct server_device *owned_device(struct udkd_server *server, struct server_driver *drv, udk_object_id id,
                                          char *err, size_t err_size)
{
        struct server_device *d = udkd_registry_device(server, id);

        if (!d || d->driver != drv) {
                snprintf(err, err_size, "no device %" PRIu32 " of this driver's", id);
                return NULL;
        }
        return d;
}

int udkd_driver_device_create(struct udkd_server *server, struct server_driver *drv, const struct udk_dmsg_device *m,
                              udk_object_id *ret_id, char *err, size_t err_size)
{
        struct udkd_config *cfg;
        struct server_device *d, *other;
        char uid[UDK_OBJECT_NAME_MAX + 8];
        int r;

        cfg = calloc(1, sizeof(*cfg));
        if (!cfg) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        udkd_config_init(cfg);
        r = udkd_config_parse_device(cfg, DEVICE_TEXT_PATH, m->text, m->text_size - 1, err, err_size);
        if (r < 0) {
                free(cfg);
                return r;
        }
        if (!cfg->devices[0].priority_set && server->cfg->priority >= 0)
                cfg->devices[0].cfg.rt_priority = server->cfg->priority;
        effective_uid(&cfg->devices[0], uid, sizeof(uid));

        /* A device that outlived this driver's earlier run (or a driver gone for good) is taken back. */
        other = device_by_uid(server, uid);
        if (other) {
                udkd_config_finish(cfg);
                free(cfg);
                if (!other->driver_conf) {
                        snprintf(err, err_size, "uid %s is the configuration's device %s", uid,
                                 udk_device_config(other->dev)->name);
                        return -EEXIST;
                }
                if (other->driver && other->driver != drv) {
                        snprintf(err, err_size, "uid %s belongs to driver '%s' (%" PRIu32 ")", uid,
                                 other->driver->name, other->driver->id);
                        return -EEXIST;
                }
                if (other->driver == drv && other->driver_id == drv->id &&
                    !udkd_gate_is_closed(&other->gate)) {
                        snprintf(err, err_size, "this driver created uid %s already (device %" PRIu32 ")", uid,
                                 udk_device_id(other->dev));
                        return -EEXIST;
                }
                other->driver = drv;
                other->driver_id = drv->id;
                udkd_gate_open(&other->gate);
                *ret_id = udk_device_id(other->dev);
                udk_info("driver '%s': took device %s (%s) back (%" PRIu64 " periods silenced in all)", drv->name,
                         udk_device_config(other->dev)->name, uid, udkd_gate_silenced(&other->gate));
                udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, *ret_id);
                return 0;
        }
        if (device_by_name(server, cfg->devices[0].cfg.name)) {
                snprintf(err, err_size, "%s:%u: a device named '%s' exists already", DEVICE_TEXT_PATH,
                         cfg->devices[0].name_line, cfg->devices[0].cfg.name);
                udkd_config_finish(cfg);
                free(cfg);
                return -EEXIST;
        }
        d = udkd_device_slot(server);
        if (!d) {
                snprintf(err, err_size, "udkd has %u drivers' devices already, the limit", UDKD_DRIVER_DEVICES_MAX);
                udkd_config_finish(cfg);
                free(cfg);
                return -ENOSPC;
        }
        *d = (struct server_device){
                .conf = &cfg->devices[0],
                .path = DEVICE_TEXT_PATH,
                .err = err,
                .err_size = err_size,
                .driver_conf = cfg,
                .driver = drv,
                .driver_id = drv->id,
        };
        r = udkd_device_setup(server, d);
        if (r == 0) {
                r = udk_device_start(d->dev);
                if (r < 0)
                        snprintf(err, err_size, "device '%s': cannot start: %s", cfg->devices[0].cfg.name,
                                 strerror(-r));
        }
        d->err = NULL;
        d->err_size = 0;
        if (r < 0) {
                udkd_device_remove(server, d);
                return r;
        }
        *ret_id = udk_device_id(d->dev);
        udk_info("driver '%s': created device %s (%s), %" PRIu32 " Hz, %" PRIu32 " frames, %" PRIu32 " in, %" PRIu32
                 " out",
                 drv->name, cfg->devices[0].cfg.name, udk_device_uid(d->dev), udk_device_config(d->dev)->rate,
                 udk_device_config(d->dev)->period, udk_device_config(d->dev)->input_channels,
                 udk_device_config(d->dev)->output_channels);
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, *ret_id);
        return 0;
}

int udkd_driver_control_add(struct udkd_server *server, struct server_driver *drv,
                            const struct udk_dmsg_control_add *m, char *err, size_t err_size)
{
        struct server_device *d = owned_device(server, drv, m->device, err, err_size);
        struct udk_control *c;
        int r = 0;

        if (!d)
                return -ENOENT;
        c = udk_device_find_control(d->dev, m->name);
        if (c) {
                /* Taken back after a restart: it keeps its value. */
                udk_debug("driver '%s': control %s of %s kept", drv->name, m->name, udk_device_config(d->dev)->name);
                return 0;
        }
        switch (m->kind) {
        case UDK_DCONTROL_LEVEL:
                c = udk_device_add_level_control(d->dev, m->name, (float)m->min, (float)m->max, (float)m->value, &r);
                break;
        case UDK_DCONTROL_BOOLEAN:
                c = udk_device_add_boolean_control(d->dev, m->name, m->value != 0.0, &r);
                break;
        case UDK_DCONTROL_NUMBER:
                c = udk_device_add_number_control(d->dev, m->name, (float)m->min, (float)m->max, (float)m->value,
                                                  &r);
                break;
        default:
                snprintf(err, err_size, "control %s: unknown kind %" PRIu32 " (1 level, 2 boolean, 3 number)", m->name,
                         m->kind);
                return -EINVAL;
        }
        if (!c) {
                if (r == -EINVAL)
                        snprintf(err, err_size, "control %s: bad range %g..%g or value %g", m->name, m->min, m->max,
                                 m->value);
                else if (r == -ENOSPC)
                        snprintf(err, err_size, "control %s: the device has %u controls already, the limit",
                                 m->name, UDK_DEVICE_CONTROLS_MAX);
                else
                        snprintf(err, err_size, "control %s: %s", m->name, strerror(r < 0 ? -r : EINVAL));
                return r < 0 ? r : -EINVAL;
        }
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, c->obj.id);
        return 0;
}

int udkd_driver_control_set(struct udkd_server *server, struct server_driver *drv, const struct udk_dmsg_control *m,
                            char *err, size_t err_size)
{
        struct server_device *d = owned_device(server, drv, m->device, err, err_size);

        if (!d)
                return -ENOENT;
        return udkd_registry_set_control(server, NULL, m->device, m->control, m->value, err, err_size);
}

void udkd_driver_control_changed(struct udkd_server *server, struct server_device *d, const struct udk_control *c)
{
        struct udk_dmsg_control m = { .device = udk_device_id(d->dev) };
        struct server_driver *drv = d->driver;

        if (!drv || drv->fd < 0 || !drv->ready || drv->stop_sent)
                return;
        udk_msg_init(&m.h, UDK_DMSG_CONTROL_CHANGED, sizeof(m), 0);
        udk_strlcpy(m.control, c->obj.name, sizeof(m.control));
        udk_control_format(c, m.value, sizeof(m.value));
        udkd_driver_send(server, drv, &m, sizeof(m), NULL, 0);
}

void udkd_driver_devices_orphan(struct udkd_server *server, struct server_driver *drv)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];

                if (!d->dev || d->driver != drv)
                        continue;
                udkd_gate_close(&d->gate);
                d->driver = NULL;
                udk_info("device %s: its driver '%s' is gone: input silenced until it comes back",
                         udk_device_config(d->dev)->name, drv->name);
                udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, udk_device_id(d->dev));
        }
}

void udkd_driver_devices_remove(struct udkd_server *server, struct server_driver *drv)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];

                if (!d->dev || d->driver_id != drv->id)
                        continue;
                udk_info("device %s: removed with driver '%s'", udk_device_config(d->dev)->name, drv->name);
                udkd_device_remove(server, d);
        }
}
