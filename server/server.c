/* SPDX-License-Identifier: MIT */
/*
 * The device set and the control thread's event loop.  Everything here runs
 * on the control thread; the devices' RT threads are udk_device_start()'s.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <math.h>
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

#include "server.h"

struct server_handler {
        const struct udkd_config_handler *conf;
        const struct udk_dsp_plugin *plugin;
        struct udk_handler *handler;
};

struct server_device {
        const struct udkd_config_device *conf;
        struct udk_device *dev;
        struct server_handler handlers[UDK_DEVICE_HANDLERS_MAX];
        size_t n_handlers;
};

/* One per plugin name, shared by every instance of it. */
struct server_module {
        const char *name; /* the configuration's */
        struct udk_dsp_module *module;
};

struct udkd_server {
        const struct udkd_config *cfg;
        char *plugin_path;
        struct server_device *devices;
        size_t n_devices;
        struct server_module *modules;
        size_t n_modules;
};

UDK_PRINTF(3, 4) static void server_error(const struct udkd_server *s, unsigned line, const char *fmt, ...)
{
        char msg[UDKD_CONFIG_ERR_MAX], full[UDKD_CONFIG_ERR_MAX + 256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        udkd_config_error(full, sizeof(full), s->cfg->path, line, "%s", msg);
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

        /* s->modules has room for every handler of every device. */
        m = &s->modules[s->n_modules];
        r = udk_dsp_module_load(h->plugin, s->plugin_path, &m->module, err, sizeof(err));
        if (r == -ENOENT) {
                server_error(s, d->conf->handlers_line, "handler '%s': no plugin udk-dsp-%s.so in %s",
                             h->spec, h->plugin, s->plugin_path);
                return r;
        }
        if (r < 0) {
                server_error(s, d->conf->handlers_line, "handler '%s': %s", h->spec, err);
                return r;
        }
        m->name = h->plugin;
        s->n_modules++;
        *ret = udk_dsp_module_plugin(m->module);
        return 0;
}

/* What a control accepts, for messages: "a level in dB, -96..24". */
static void control_expects(const struct udk_control *c, char *buf, size_t size)
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
                        server_error(s, k->line, "unknown key '%s' in [device]", k->key);
                        return -EINVAL;
                }
                r = udk_control_set_from_string(c, k->value);
                if (r < 0) {
                        control_expects(c, expects, sizeof(expects));
                        if (r == -ERANGE)
                                server_error(s, k->line, "%s %s out of range (%s)", k->key, k->value,
                                             expects);
                        else
                                server_error(s, k->line, "bad value '%s' for %s (%s)", k->value, k->key,
                                             expects);
                        return r;
                }
        }
        return 0;
}

static int device_setup(struct udkd_server *s, struct server_device *d)
{
        const struct udkd_config_device *conf = d->conf;
        char err[UDKD_CONFIG_ERR_MAX] = "";
        _udk_cleanup_free_ bool *backend_took = NULL;
        int r;

        r = udk_device_create(&conf->cfg, conf->backend, &d->dev, err, sizeof(err));
        if (r < 0) {
                server_error(s, udkd_config_device_line_for(conf, err), "device '%s': %s", conf->cfg.name,
                             err[0] ? err : strerror(-r));
                return r;
        }

        /* Keys the parser did not know go to the backend first; -ENOENT leaves them for the controls. */
        backend_took = calloc(conf->n_keys ? conf->n_keys : 1, sizeof(*backend_took));
        if (!backend_took) {
                server_error(s, conf->line, "device '%s': %s", conf->cfg.name, strerror(ENOMEM));
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
                                server_error(s, k->line, "%s", err);
                        else
                                server_error(s, k->line, "bad value '%s' for %s: %s", k->value, k->key,
                                             strerror(-r));
                        return r;
                }
                backend_took[i] = true;
        }

        err[0] = '\0';
        r = udk_device_open(d->dev, err, sizeof(err));
        if (r < 0) {
                server_error(s, udkd_config_device_line_for(conf, err), "device '%s': %s", conf->cfg.name,
                             err[0] ? err : strerror(-r));
                return r;
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
                        server_error(s, conf->handlers_line, "handler '%s': %s", h->spec,
                                     err[0] ? err : strerror(-r));
                        return r;
                }
                sh->conf = h;
                d->n_handlers++;
        }

        return device_set_controls(s, d, backend_took);
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
        s->devices = calloc(cfg->n_devices ? cfg->n_devices : 1, sizeof(*s->devices));
        s->modules = calloc(n_handlers ? n_handlers : 1, sizeof(*s->modules));
        if (!s->plugin_path || !s->devices || !s->modules) {
                udk_error("%s: %s", cfg->path, strerror(ENOMEM));
                udkd_server_destroy(s);
                return -ENOMEM;
        }

        for (size_t i = 0; i < cfg->n_devices; i++) {
                struct server_device *d = &s->devices[s->n_devices++];

                d->conf = &cfg->devices[i];
                r = device_setup(s, d); /* logs its errors */
                if (r < 0) {
                        udkd_server_destroy(s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

size_t udkd_server_n_devices(const struct udkd_server *server)
{
        return server->n_devices;
}

int udkd_server_describe(struct udkd_server *server, size_t index, char *buf, size_t size)
{
        const struct server_device *d = &server->devices[index];
        const struct udk_device_config *cfg = udk_device_config(d->dev);
        uint32_t lat_in = udk_device_latency(d->dev, UDK_DIRECTION_INPUT) +
                          udk_device_safety_offset(d->dev, UDK_DIRECTION_INPUT);
        uint32_t lat_out = udk_device_latency(d->dev, UDK_DIRECTION_OUTPUT) +
                           udk_device_safety_offset(d->dev, UDK_DIRECTION_OUTPUT);
        const char *format = udk_format_name(cfg->format);
        char rt[64], handlers[UDK_DEVICE_HANDLERS_MAX * UDK_OBJECT_NAME_MAX * 2] = "";
        size_t len;

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
        format_readouts(d, buf, size, &len);
        return (int)len;
}

int udkd_server_start(struct udkd_server *server)
{
        char line[1024];
        int r;

        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];

                r = udk_device_start(d->dev);
                if (r < 0) {
                        server_error(server, d->conf->line, "device '%s': cannot start: %s",
                                     d->conf->cfg.name, strerror(-r));
                        return r;
                }
                udkd_server_describe(server, i, line, sizeof(line));
                udk_info("%s", line);
        }
        return 0;
}

/* --- the event loop --- */

enum {
        EVENT_SIGNAL = 1,
        EVENT_TICK = 2,
};

struct loop {
        struct udkd_server *server;
        struct io_uring ring;
        int signal_fd;
        int timer_fd;
        struct signalfd_siginfo siginfo;
        uint64_t expirations;
        uint64_t stats_interval;
        uint64_t next_stats;
        uint64_t deadline; /* 0: none */
        bool quit;
};

static int loop_arm(struct loop *l, uint64_t event)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

        if (!sqe)
                return -EBUSY;
        if (event == EVENT_SIGNAL)
                io_uring_prep_read(sqe, l->signal_fd, &l->siginfo, sizeof(l->siginfo), 0);
        else
                io_uring_prep_read(sqe, l->timer_fd, &l->expirations, sizeof(l->expirations), 0);
        sqe->user_data = event;
        return 0;
}

static void loop_print_stats(struct loop *l)
{
        char line[2048];

        for (size_t i = 0; i < l->server->n_devices; i++) {
                udkd_server_format_stats(l->server, i, line, sizeof(line));
                printf("%s\n", line);
        }
        fflush(stdout);
}

static void loop_tick(struct loop *l)
{
        uint64_t now = udk_time_now();

        for (size_t i = 0; i < l->server->n_devices; i++)
                udk_device_collect(l->server->devices[i].dev);
        if (l->stats_interval && now >= l->next_stats) {
                loop_print_stats(l);
                /* Stay on the grid; skip what a stalled loop missed. */
                while (l->next_stats <= now)
                        l->next_stats += l->stats_interval;
        }
        if (l->deadline && now >= l->deadline) {
                udk_info("duration over, stopping");
                l->quit = true;
        }
}

static int loop_handle(struct loop *l, uint64_t event, int res)
{
        if (res < 0 && res != -EAGAIN && res != -EINTR) {
                udk_error("event loop: reading the %s: %s", event == EVENT_SIGNAL ? "signalfd" : "timerfd",
                          strerror(-res));
                return res;
        }
        if (event == EVENT_SIGNAL && res == (int)sizeof(l->siginfo)) {
                int signo = (int)l->siginfo.ssi_signo;

                if (signo == SIGHUP) {
                        udk_info("SIGHUP ignored (no reload yet)");
                } else {
                        udk_info("%s, stopping", strsignal(signo));
                        l->quit = true;
                }
        } else if (event == EVENT_TICK && res == (int)sizeof(l->expirations)) {
                loop_tick(l);
        }
        return loop_arm(l, event);
}

static int loop_run(struct loop *l)
{
        while (!l->quit) {
                struct io_uring_cqe *cqe;
                int r = io_uring_submit_and_wait(&l->ring, 1);

                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        udk_error("event loop: io_uring_submit_and_wait: %s", strerror(-r));
                        return r;
                }
                while (!l->quit && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
                        uint64_t event = cqe->user_data;
                        int res = cqe->res;

                        io_uring_cqe_seen(&l->ring, cqe);
                        r = loop_handle(l, event, res);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int udkd_server_run(struct udkd_server *server, const sigset_t *signals, uint64_t stats_interval_ns,
                    uint64_t duration_ns)
{
        struct itimerspec tick = {
            .it_interval = {.tv_nsec = UDKD_TICK_NS},
            .it_value = {.tv_nsec = UDKD_TICK_NS},
        };
        struct loop l = {
            .server = server,
            .signal_fd = -1,
            .timer_fd = -1,
            .stats_interval = stats_interval_ns,
        };
        uint64_t start;
        int r;

        l.signal_fd = signalfd(-1, signals, SFD_NONBLOCK | SFD_CLOEXEC);
        if (l.signal_fd < 0) {
                r = -errno;
                udk_error("event loop: signalfd: %s", strerror(-r));
                return r;
        }
        l.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (l.timer_fd < 0) {
                r = -errno;
                udk_error("event loop: timerfd_create: %s", strerror(-r));
                goto out_signal;
        }
        r = io_uring_queue_init(8, &l.ring, 0);
        if (r < 0) {
                udk_error("event loop: io_uring_queue_init: %s", strerror(-r));
                goto out_timer;
        }

        start = udk_time_now();
        l.next_stats = start + stats_interval_ns;
        l.deadline = duration_ns ? start + duration_ns : 0;
        if (timerfd_settime(l.timer_fd, 0, &tick, NULL) < 0) {
                r = -errno;
                udk_error("event loop: timerfd_settime: %s", strerror(-r));
                goto out_ring;
        }
        r = loop_arm(&l, EVENT_SIGNAL);
        if (r == 0)
                r = loop_arm(&l, EVENT_TICK);
        if (r == 0)
                r = loop_run(&l);

out_ring:
        io_uring_queue_exit(&l.ring);
out_timer:
        close(l.timer_fd);
out_signal:
        close(l.signal_fd);
        return r;
}

struct udkd_server *udkd_server_destroy(struct udkd_server *server)
{
        if (!server)
                return NULL;
        for (size_t i = 0; i < server->n_devices; i++)
                if (server->devices[i].dev)
                        udk_device_stop(server->devices[i].dev);
        /* Destroying a device finishes its handler instances: only then may their code go. */
        for (size_t i = 0; i < server->n_devices; i++)
                server->devices[i].dev = udk_device_destroy(server->devices[i].dev);
        for (size_t i = 0; i < server->n_modules; i++)
                server->modules[i].module = udk_dsp_module_unload(server->modules[i].module);
        free(server->modules);
        free(server->devices);
        free(server->plugin_path);
        free(server);
        return NULL;
}
