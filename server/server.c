/* SPDX-License-Identifier: MIT */
/*
 * The device set and the control thread's event loop.  Everything here runs
 * on the control thread; the devices' RT threads are udk_device_start()'s.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/dsp.h>
#include <udk/format.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"
#include "udk-build-config.h"

/* "PATH:LINE: problem" about device @d: into its error buffer (a driver's device), else the log. */
UDK_PRINTF(3, 4) static void device_error(const struct server_device *d, unsigned line, const char *fmt, ...)
{
        char msg[UDKD_CONFIG_ERR_MAX], full[UDKD_CONFIG_ERR_MAX + 256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        udkd_ini_error(full, sizeof(full), d->path, line, "%s", msg);
        if (d->err)
                udk_strlcpy(d->err, full, d->err_size);
        else
                udk_error("%s", full);
}

static int module_get(struct udkd_server *s, const struct server_device *d,
                      const struct udkd_config_handler *h, const struct udk_dsp_plugin **ret)
{
        struct server_module *m;
        char err[UDKD_CONFIG_ERR_MAX] = "";
        int r;

        for (size_t i = 0; i < s->n_modules; i++)
                if (strcmp(s->modules[i].name, h->plugin) == 0) {
                        *ret = udk_dsp_module_plugin(s->modules[i].module);
                        return 0;
                }

        if (s->n_modules == s->modules_cap) {
                struct server_module *bigger = reallocarray(s->modules, s->modules_cap * 2, sizeof(*bigger));

                if (!bigger) {
                        device_error(d, d->conf->handlers_line, "handler '%s': %s", h->spec, strerror(ENOMEM));
                        return -ENOMEM;
                }
                s->modules = bigger;
                s->modules_cap *= 2;
        }
        m = &s->modules[s->n_modules];
        /* Its own copy: a driver's device, whose configuration named it first, may go before it. */
        m->name = strdup(h->plugin);
        if (!m->name) {
                device_error(d, d->conf->handlers_line, "handler '%s': %s", h->spec, strerror(ENOMEM));
                return -ENOMEM;
        }
        r = udk_dsp_module_load(h->plugin, s->plugin_path, &m->module, err, sizeof(err));
        if (r < 0) {
                free(m->name);
                m->name = NULL;
        }
        if (r == -ENOENT) {
                device_error(d, d->conf->handlers_line, "handler '%s': no plugin udk-dsp-%s.so in %s",
                             h->spec, h->plugin, s->plugin_path);
                return r;
        }
        if (r < 0) {
                device_error(d, d->conf->handlers_line, "handler '%s': %s", h->spec, err);
                return r;
        }
        s->n_modules++;
        *ret = udk_dsp_module_plugin(m->module);
        return 0;
}

void udkd_control_expects(const struct udk_control *c, char *buf, size_t size)
{
        size_t len;

        switch (c->kind) {
        case UDK_CONTROL_LEVEL:
                snprintf(buf, size, "a level in dB, %g..%g", (double)c->level.min_db,
                         (double)c->level.max_db);
                return;
        case UDK_CONTROL_BOOLEAN:
                snprintf(buf, size, "on or off");
                return;
        case UDK_CONTROL_NUMBER:
                snprintf(buf, size, "a number, %g..%g", (double)c->number.min, (double)c->number.max);
                return;
        case UDK_CONTROL_SELECTOR:
                snprintf(buf, size, "one of");
                for (uint32_t i = 0; i < c->selector.n_items && i < UDK_SELECTOR_ITEMS_MAX; i++) {
                        len = strlen(buf);
                        snprintf(buf + len, size - len, "%s %s", i ? "," : "", c->selector.items[i].name);
                }
                return;
        }
        snprintf(buf, size, "a value");
}

static int device_set_controls(struct udkd_server *s, struct server_device *d, const bool *backend_took)
{
        const struct udkd_config_device *conf = d->conf;

        for (size_t i = 0; i < conf->n_keys; i++) {
                const struct udkd_config_key *k = &conf->keys[i];
                struct udk_control *c;
                char expects[256];
                int r;

                if (k->known || backend_took[i])
                        continue;
                c = udk_device_find_control(d->dev, k->key);
                if (!c) {
                        device_error(d, k->line, "unknown key '%s' in [device]", k->key);
                        return -EINVAL;
                }
                r = udk_control_set_from_string(c, k->value);
                if (r < 0) {
                        udkd_control_expects(c, expects, sizeof(expects));
                        if (r == -ERANGE)
                                device_error(d, k->line, "%s %s out of range (%s)", k->key, k->value,
                                             expects);
                        else
                                device_error(d, k->line, "bad value '%s' for %s (%s)", k->value, k->key,
                                             expects);
                        return r;
                }
        }
        return 0;
}

/*
 * Where the RT threads go.  A chain of clients runs one after the other, so
 * on a small machine the fastest place for all of them is one CPU: each
 * wake-up is then a local one, without an inter-processor interrupt.
 */
static void place(struct server_device *d, struct udk_device_config *dc)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        enum udkd_placement p = d->conf->placement;

        if (p == UDKD_PLACEMENT_AUTO)
                p = cpus > 0 && cpus <= 4 ? UDKD_PLACEMENT_SAME_CPU : UDKD_PLACEMENT_FREE;
        if (p == UDKD_PLACEMENT_FREE || cpus <= 0) {
                d->client_cpu = -1;
                return;
        }
        if (dc->cpu < 0)
                dc->cpu = (int)cpus - 1;
        d->client_cpu = dc->cpu;
}

int udkd_device_setup(struct udkd_server *s, struct server_device *d)
{
        const struct udkd_config_device *conf = d->conf;
        char err[UDKD_CONFIG_ERR_MAX] = "";
        _udk_cleanup_free_ bool *backend_took = NULL;
        int r;

        struct udk_device_config dc = conf->cfg;

        place(d, &dc);
        if (!d->path)
                d->path = s->cfg->path;
        r = udk_device_create(&dc, conf->backend, &d->dev, err, sizeof(err));
        if (r < 0) {
                device_error(d, udkd_config_device_line_for(conf, err), "device '%s': %s", conf->cfg.name,
                             err[0] ? err : strerror(-r));
                return r;
        }

        /* Keys the parser did not know go to the backend first; -ENOENT leaves them for the controls. */
        backend_took = calloc(conf->n_keys ? conf->n_keys : 1, sizeof(*backend_took));
        if (!backend_took) {
                device_error(d, conf->line, "device '%s': %s", conf->cfg.name, strerror(ENOMEM));
                return -ENOMEM;
        }
        for (size_t i = 0; i < conf->n_keys; i++) {
                const struct udkd_config_key *k = &conf->keys[i];

                if (k->known)
                        continue;
                err[0] = '\0';
                r = udk_device_set_backend_option(d->dev, k->key, k->value, err, sizeof(err));
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        if (err[0])
                                device_error(d, k->line, "%s", err);
                        else
                                device_error(d, k->line, "bad value '%s' for %s: %s", k->value, k->key,
                                             strerror(-r));
                        return r;
                }
                backend_took[i] = true;
        }

        err[0] = '\0';
        r = udk_device_open(d->dev, err, sizeof(err));
        if (r < 0) {
                device_error(d, udkd_config_device_line_for(conf, err), "device '%s': %s", conf->cfg.name,
                             err[0] ? err : strerror(-r));
                return r;
        }

        /* A driver's device: the gate runs before the handlers, so that they too see the silence. */
        if (d->driver_conf) {
                r = udkd_gate_add(d);
                if (r < 0) {
                        device_error(d, conf->line, "device '%s': cannot add its input gate: %s",
                                     conf->cfg.name, strerror(-r));
                        return r;
                }
        }

        for (size_t i = 0; i < conf->n_handlers; i++) {
                const struct udkd_config_handler *h = &conf->handlers[i];
                struct server_handler *sh = &d->handlers[d->n_handlers];

                r = module_get(s, d, h, &sh->plugin);
                if (r < 0)
                        return r;
                err[0] = '\0';
                r = udk_dsp_instantiate(sh->plugin, d->dev, h->instance, 0, &sh->handler, err, sizeof(err));
                if (r < 0) {
                        device_error(d, conf->handlers_line, "handler '%s': %s", h->spec,
                                     err[0] ? err : strerror(-r));
                        return r;
                }
                sh->conf = h;
                d->n_handlers++;
        }

        return device_set_controls(s, d, backend_took);
}

/* The registry's backend objects: one per backend a device uses. */
static void note_backend(struct udkd_server *s, const struct udk_backend_ops *backend)
{
        for (size_t i = 0; i < s->n_backends; i++)
                if (s->backends[i] == backend)
                        return;
        if (s->n_backends == UDK_ELEMENTSOF(s->backends))
                return;
        s->backends[s->n_backends] = backend;
        s->backend_ids[s->n_backends++] = udk_object_id_next();
}

int udkd_server_create(const struct udkd_config *cfg, const char *plugin_path, struct udkd_server **ret)
{
        struct udkd_server *s;
        size_t n_handlers = 0;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->cfg = cfg;
        for (size_t i = 0; i < cfg->n_devices; i++)
                n_handlers += cfg->devices[i].n_handlers;
        s->plugin_path = strdup(plugin_path);
        s->devices_cap = cfg->n_devices + UDKD_DRIVER_DEVICES_MAX;
        s->devices = calloc(s->devices_cap, sizeof(*s->devices));
        s->modules_cap = n_handlers ? n_handlers : 4;
        s->modules = calloc(s->modules_cap, sizeof(*s->modules));
        s->inotify_fd = -1;
        s->driverhost = strdup(getenv("UDK_DRIVERHOST") && *getenv("UDK_DRIVERHOST") ? getenv("UDK_DRIVERHOST")
                                                                                      : UDK_DRIVERHOST);
        if (!s->plugin_path || !s->devices || !s->modules || !s->driverhost) {
                udk_error("%s: %s", cfg->path, strerror(ENOMEM));
                udkd_server_destroy(s);
                return -ENOMEM;
        }

        s->listen_fd = -1;
        s->root_id = udk_object_id_next();
        udkd_personality_set_init(&s->personalities);
        for (size_t i = 0; i < cfg->n_devices; i++) {
                struct server_device *d = &s->devices[s->n_devices++];

                d->conf = &cfg->devices[i];
                r = udkd_device_setup(s, d); /* logs its errors */
                if (r == -EHOSTDOWN || r == -ENODEV) {
                        /* What its backend needs is not there (a JACK server,
                         * an ALSA card): logged, and the other devices run. */
                        if (r == -ENODEV)
                                udk_warn("device '%s' left out: its hardware is not there; the other devices run",
                                         cfg->devices[i].cfg.name);
                        d->dev = udk_device_destroy(d->dev);
                        *d = (struct server_device){ 0 };
                        s->n_left_out++;
                        continue;
                }
                if (r < 0) {
                        udkd_server_destroy(s);
                        return r;
                }
                note_backend(s, cfg->devices[i].backend);
        }
        s->n_config_devices = s->n_devices;
        r = udkd_nubs_create_roots(s);
        if (r < 0) {
                udk_error("the root nubs: %s", strerror(-r));
                udkd_server_destroy(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct server_device *udkd_device_slot(struct udkd_server *server)
{
        for (size_t i = server->n_config_devices; i < server->n_devices; i++)
                if (!server->devices[i].dev && !server->devices[i].driver_conf)
                        return &server->devices[i];
        if (server->n_devices == server->devices_cap)
                return NULL;
        return &server->devices[server->n_devices++];
}

void udkd_device_remove(struct udkd_server *server, struct server_device *d)
{
        udk_object_id id = d->dev ? udk_device_id(d->dev) : 0;

        /* Their clients are told (CLOSED); the nodes' memory goes with the device's plans. */
        while (d->n_nodes > 0)
                udkd_node_close(server, d->nodes[d->n_nodes - 1], 0);
        if (d->dev) {
                udk_device_stop(d->dev);
                d->dev = udk_device_destroy(d->dev);
        }
        if (id)
                udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, id);
        if (d->driver_conf) {
                udkd_config_finish(d->driver_conf);
                free(d->driver_conf);
        }
        *d = (struct server_device){ 0 };
        while (server->n_devices > server->n_config_devices && !server->devices[server->n_devices - 1].dev &&
               !server->devices[server->n_devices - 1].driver_conf)
                server->n_devices--;
}

/* Build configuration device @d again (its backend's rate or period changed). */
static void device_rebuild(struct udkd_server *server, struct server_device *d)
{
        const struct udkd_config_device *conf = d->conf;
        const char *name = conf->cfg.name;
        int r;

        udkd_device_remove(server, d);
        d->conf = conf;
        r = udkd_device_setup(server, d); /* logs its errors */
        if (r == 0) {
                r = udk_device_start(d->dev);
                if (r < 0)
                        udk_error("device %s: cannot start again: %s", name, strerror(-r));
        }
        if (r < 0) {
                udk_error("device %s: removed, it could not be built again", name);
                d->dev = udk_device_destroy(d->dev);
                *d = (struct server_device){ 0 };
                return;
        }
        udk_info("device %s: built again, %" PRIu32 " Hz, %" PRIu32 " frames", name,
                 udk_device_config(d->dev)->rate, udk_device_config(d->dev)->period);
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, udk_device_id(d->dev));
}

void udkd_devices_tick(struct udkd_server *server)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                char reason[256], name[UDK_OBJECT_NAME_MAX];
                uint32_t req;

                if (!d->dev)
                        continue;
                req = udk_device_take_requests(d->dev, reason, sizeof(reason));
                if (!req)
                        continue;
                udk_strlcpy(name, udk_device_config(d->dev)->name, sizeof(name));
                if (req & UDK_DEVICE_REQUEST_REMOVE) {
                        udk_warn("device %s: removed: %s", name, reason);
                        udkd_device_remove(server, d);
                } else if ((req & UDK_DEVICE_REQUEST_RECONFIGURE) && !d->driver_conf) {
                        udk_info("device %s: %s: building it again", name, reason);
                        device_rebuild(server, d);
                }
        }
}

void udkd_devices_check_failures(struct udkd_server *server)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                int r = d->dev ? udk_device_failure(d->dev) : 0;

                if (r == 0)
                        continue;
                udk_error("device %s: its %s backend is gone (%s): removed", udk_device_config(d->dev)->name,
                          udk_device_backend(d->dev)->name, strerror(-r));
                udkd_device_remove(server, d);
        }
}

size_t udkd_server_n_devices(const struct udkd_server *server)
{
        return server->n_devices;
}

size_t udkd_server_n_left_out(const struct udkd_server *server)
{
        return server->n_left_out;
}

int udkd_server_describe(struct udkd_server *server, size_t index, char *buf, size_t size)
{
        const struct server_device *d = &server->devices[index];
        const struct udk_device_config *cfg;
        uint32_t lat_in, lat_out;
        const char *format;
        char rt[64], handlers[UDK_DEVICE_HANDLERS_MAX * UDK_OBJECT_NAME_MAX * 2] = "";
        size_t len;

        if (!d->dev)
                return -ENODEV;
        cfg = udk_device_config(d->dev);
        lat_in = udk_device_latency(d->dev, UDK_DIRECTION_INPUT) + udk_device_safety_offset(d->dev, UDK_DIRECTION_INPUT);
        lat_out = udk_device_latency(d->dev, UDK_DIRECTION_OUTPUT) +
                  udk_device_safety_offset(d->dev, UDK_DIRECTION_OUTPUT);
        format = udk_format_name(cfg->format);
        if (!udk_device_is_running(d->dev))
                snprintf(rt, sizeof(rt), "priority %d", cfg->rt_priority);
        else if (udk_device_is_realtime(d->dev))
                snprintf(rt, sizeof(rt), "realtime (SCHED_FIFO %d)", cfg->rt_priority);
        else
                snprintf(rt, sizeof(rt), "not realtime");
        for (size_t i = 0; i < d->n_handlers; i++) {
                len = strlen(handlers);
                snprintf(handlers + len, sizeof(handlers) - len, "%s%s", i ? ", " : "",
                         d->handlers[i].conf->spec);
        }
        return snprintf(buf, size,
                        "%s: backend %s, %" PRIu32 " Hz, %" PRIu32 " frames, %" PRIu32 " in, %" PRIu32
                        " out, %s, latency in %" PRIu32 " out %" PRIu32 " frames (%.2f/%.2f ms), %s, "
                        "handlers: %s",
                        cfg->name, udk_device_backend(d->dev)->name, cfg->rate, cfg->period,
                        cfg->input_channels, cfg->output_channels, format ? format : "?", lat_in, lat_out,
                        lat_in * 1000.0 / cfg->rate, lat_out * 1000.0 / cfg->rate, rt,
                        d->n_handlers ? handlers : "none");
}

static int append(char *buf, size_t size, size_t *len, const char *fmt, ...) UDK_PRINTF(4, 5);
static int append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (*len >= size)
                return -ENOSPC;
        va_start(ap, fmt);
        n = vsnprintf(buf + *len, size - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        *len = UDK_MIN(*len + (size_t)n, size);
        return 0;
}

/* Readouts (a meter's peaks) of the device's handlers: " | meter.input_peak -6.0 -6.0 dBFS". */
static void format_readouts(const struct server_device *d, char *buf, size_t size, size_t *len)
{
        for (size_t i = 0; i < d->n_handlers; i++) {
                const struct server_handler *h = &d->handlers[i];

                for (uint32_t j = 0; j < h->plugin->n_readouts; j++) {
                        float values[UDK_CHANNELS_MAX];
                        int n = udk_dsp_handler_read(h->handler, j, values, UDK_CHANNELS_MAX);

                        if (n <= 0)
                                continue;
                        append(buf, size, len, " | %s.%s", h->conf->instance, h->plugin->readouts[j].name);
                        for (int c = 0; c < n; c++)
                                append(buf, size, len, " %.1f", (double)values[c]);
                        append(buf, size, len, " %s", h->plugin->readouts[j].unit);
                }
        }
}

/* The clients and the cycles they missed: " | clients 3, late: tone x2 (pid 42)". */
static void format_clients(const struct server_device *d, char *buf, size_t size, size_t *len)
{
        bool any = false;

        if (d->n_nodes == 0)
                return;
        append(buf, size, len, " | clients %" PRIu32, d->n_nodes);
        for (uint32_t k = 0; k < d->n_nodes; k++) {
                const struct server_node *n = d->nodes[k];
                uint64_t late = n->remote ? atomic_load(&udk_remote_stats(n->remote)->late) : n->late_at_suspend;

                if (late == 0 && n->state != UDK_NODE_SUSPENDED)
                        continue;
                append(buf, size, len, "%s %s x%" PRIu64 " (pid %d%s)", any ? "," : ", late:", n->name, late,
                       n->session ? (int)n->session->pid : 0, n->state == UDK_NODE_SUSPENDED ? ", suspended" : "");
                any = true;
        }
}

int udkd_server_format_stats(struct udkd_server *server, size_t index, char *buf, size_t size)
{
        const struct server_device *d = &server->devices[index];
        const struct udk_cycle_stats *st = udk_device_stats(d->dev);
        const struct udk_device_config *cfg = udk_device_config(d->dev);
        struct udk_histogram_summary late, busy;
        size_t len = 0;

        udk_histogram_summarize(&st->lateness, &late);
        udk_histogram_summarize(&st->busy, &busy);
        append(buf, size, &len,
               "%s: cycles %" PRIu64
               " period %.1f us late p50 %.1f p99 %.1f max %.1f us busy avg %.1f max %.1f us "
               "load %.1f%% (max %.1f%%) xruns %" PRIu64,
               cfg->name, atomic_load_explicit(&st->cycles, memory_order_relaxed),
               cfg->period * 1e6 / cfg->rate, late.p50 / 1e3, late.p99 / 1e3, late.max / 1e3, busy.avg / 1e3,
               busy.max / 1e3, udk_cycle_stats_load_avg(st), udk_cycle_stats_load_max(st),
               atomic_load_explicit(&st->xruns, memory_order_relaxed));
        if (atomic_load_explicit(&st->xrun_backend, memory_order_relaxed) > 0)
                append(buf, size, &len, " (hardware %" PRIu64 ")",
                       atomic_load_explicit(&st->xrun_backend, memory_order_relaxed));
        format_readouts(d, buf, size, &len);
        format_clients(d, buf, size, &len);
        return (int)len;
}

/*
 * Keep the control thread off the CPUs the RT threads were placed on: it
 * maps and unmaps segments as clients come and go, holding the process's
 * memory lock, and an RT thread whose futex needs that lock must not wait
 * behind a control thread that the RT threads themselves keep off its CPU.
 */
static void keep_control_thread_away(struct udkd_server *server)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cpu_set_t set;
        int n = 0;

        if (cpus < 2)
                return;
        CPU_ZERO(&set);
        for (long c = 0; c < cpus; c++)
                CPU_SET((int)c, &set);
        for (size_t i = 0; i < server->n_devices; i++)
                if (server->devices[i].dev && server->devices[i].client_cpu >= 0 && CPU_ISSET(server->devices[i].client_cpu, &set)) {
                        CPU_CLR(server->devices[i].client_cpu, &set);
                        n++;
                }
        if (n == 0 || CPU_COUNT(&set) == 0)
                return;
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                udk_warn("cannot keep the control thread off the RT CPUs: %s", strerror(errno));
}

int udkd_server_start(struct udkd_server *server)
{
        char line[1024];
        int r;

        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];

                if (!d->dev)
                        continue;
                r = udk_device_start(d->dev);
                if (r < 0) {
                        device_error(d, d->conf->line, "device '%s': cannot start: %s",
                                     d->conf->cfg.name, strerror(-r));
                        return r;
                }
                udkd_server_describe(server, i, line, sizeof(line));
                udk_info("%s", line);
        }
        keep_control_thread_away(server);
        /* The root nubs meet the personalities: the bus drivers start, and find what they find. */
        udkd_nubs_match_unbound(server);
        return 0;
}

struct udkd_server *udkd_server_destroy(struct udkd_server *server)
{
        if (!server)
                return NULL;
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++)
                if (server->sessions[i])
                        udkd_session_close(server, server->sessions[i], NULL);
        udkd_sessions_tick(server, 0);
        udkd_server_unlisten(server);
        udkd_drivers_destroy(server);
        udkd_nubs_destroy(server);
        for (size_t i = 0; i < server->n_devices; i++)
                if (server->devices[i].dev)
                        udk_device_stop(server->devices[i].dev);
        /* Destroying a device finishes its handler instances: only then may their code go. */
        for (size_t i = 0; i < server->n_devices; i++) {
                server->devices[i].dev = udk_device_destroy(server->devices[i].dev);
                if (server->devices[i].driver_conf) {
                        udkd_config_finish(server->devices[i].driver_conf);
                        free(server->devices[i].driver_conf);
                }
        }
        for (size_t i = 0; i < server->n_modules; i++) {
                server->modules[i].module = udk_dsp_module_unload(server->modules[i].module);
                free(server->modules[i].name);
        }
        udkd_personalities_finish(server);
        free(server->driverhost);
        free(server->modules);
        free(server->devices);
        free(server->plugin_path);
        free(server);
        return NULL;
}
