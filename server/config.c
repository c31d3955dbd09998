/* SPDX-License-Identifier: MIT */
/*
 * The configuration parser: the meaning of [server] and [device] keys on
 * the INI walker of ini.c, which stops at the first problem: one precise
 * error beats a cascade of guesses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/format.h>
#include <udk/util.h>

#include "config.h"
#include "ini.h"

const char udkd_config_default_text[] = "[device]\n"
                                        "name = default\n"
                                        "backend = virtual\n"
                                        "rate = 48000\n"
                                        "period = 64\n"
                                        "channels = 2\n"
                                        "format = f32\n"
                                        "handlers = gain\n";

enum section {
        SECTION_NONE,
        SECTION_SERVER,
        SECTION_DEVICE,
};

struct parser {
        struct udkd_config *cfg;
        const char *path;
        unsigned line;
        enum section section;
        unsigned server_line;
        char *err;
        size_t err_size;
};

#define parse_error(p, ...) \
        (udkd_ini_error((p)->err, (p)->err_size, (p)->path, (p)->line, __VA_ARGS__), -EINVAL)

const char *udkd_placement_name(enum udkd_placement placement)
{
        switch (placement) {
        case UDKD_PLACEMENT_AUTO: return "auto";
        case UDKD_PLACEMENT_SAME_CPU: return "same-cpu";
        case UDKD_PLACEMENT_FREE: return "free";
        default: return NULL;
        }
}

const char *udkd_config_backend_names(void)
{
        /* Every backend udk may be built with; udk_backend_find() says which this build has. */
        static const char *const candidates[] = {"virtual", "alsa", "jack"};
        static char names[64];

        names[0] = '\0';
        for (size_t i = 0; i < UDK_ELEMENTSOF(candidates); i++) {
                if (!udk_backend_find(candidates[i]))
                        continue;
                if (names[0])
                        strncat(names, ", ", sizeof(names) - strlen(names) - 1);
                strncat(names, candidates[i], sizeof(names) - strlen(names) - 1);
        }
        return names;
}

void udkd_config_init(struct udkd_config *cfg)
{
        *cfg = (struct udkd_config){.priority = -1, .mlock = true};
}

static void device_finish(struct udkd_config_device *d)
{
        for (size_t i = 0; i < d->n_handlers; i++)
                free(d->handlers[i].spec);
        free(d->handlers);
        for (size_t i = 0; i < d->n_keys; i++) {
                free(d->keys[i].key);
                free(d->keys[i].value);
        }
        free(d->keys);
}

void udkd_config_finish(struct udkd_config *cfg)
{
        for (size_t i = 0; i < cfg->n_devices; i++)
                device_finish(&cfg->devices[i]);
        free(cfg->devices);
        free(cfg->path);
        free(cfg->plugin_path);
        udkd_config_init(cfg);
}

static int parse_int(struct parser *p, const char *key, const char *value, int64_t min, int64_t max,
                     int64_t *ret)
{
        int r = udk_parse_int64(value, min, max, ret);

        if (r == -ERANGE)
                return parse_error(p, "%s %s out of range (%lld..%lld)", key, value, (long long)min,
                                   (long long)max);
        if (r < 0)
                return parse_error(p, "%s '%s' is not a number", key, value);
        return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *value, bool *ret)
{
        if (udkd_ini_parse_bool(value, ret) < 0)
                return parse_error(p, "%s '%s' is neither yes nor no", key, value);
        return 0;
}
static int server_key(struct parser *p, const char *key, const char *value)
{
        struct udkd_config *cfg = p->cfg;
        int64_t v;
        int r;

        if (strcmp(key, "plugin_path") == 0) {
                cfg->plugin_path = strdup(value);
                return cfg->plugin_path ? 0 : -ENOMEM;
        }
        if (strcmp(key, "priority") == 0) {
                r = parse_int(p, key, value, 0, 99, &v);
                if (r < 0)
                        return r;
                cfg->priority = (int)v;
                return 0;
        }
        if (strcmp(key, "mlock") == 0)
                return parse_bool(p, key, value, &cfg->mlock);
        return parse_error(p, "unknown key '%s' in [server]", key);
}

static int parse_handler(struct parser *p, struct udkd_config_device *d, const char *spec)
{
        struct udkd_config_handler *h;
        const char *colon = strchr(spec, ':');
        size_t plugin_len = colon ? (size_t)(colon - spec) : strlen(spec);
        const char *instance = colon ? colon + 1 : spec;

        if (!udkd_ini_name_is_valid(spec, plugin_len))
                return parse_error(
                    p, "bad plugin name in handler '%s' (letters, digits, '_', '.', '-'; at most %u)", spec,
                    UDK_OBJECT_NAME_MAX - 1);
        if (!udkd_ini_name_is_valid(instance, strlen(instance)))
                return parse_error(
                    p, "bad instance name in handler '%s' (letters, digits, '_', '.', '-'; at most %u)",
                    spec, UDK_OBJECT_NAME_MAX - 1);
        for (size_t i = 0; i < d->n_handlers; i++)
                if (strcmp(d->handlers[i].instance, instance) == 0)
                        return parse_error(
                            p, "handler instance '%s' given twice (name another one as in %.*s:%s2)",
                            instance, (int)plugin_len, spec, instance);
        if (d->n_handlers >= UDK_DEVICE_HANDLERS_MAX)
                return parse_error(p, "too many handlers (at most %u)", UDK_DEVICE_HANDLERS_MAX);

        h = &d->handlers[d->n_handlers];
        *h = (struct udkd_config_handler){0};
        memcpy(h->plugin, spec, plugin_len);
        h->plugin[plugin_len] = '\0';
        udk_strlcpy(h->instance, instance, sizeof(h->instance));
        h->spec = strdup(spec);
        if (!h->spec)
                return -ENOMEM;
        d->n_handlers++;
        return 0;
}

static int parse_handlers(struct parser *p, struct udkd_config_device *d, char *value)
{
        char *item = value;

        d->handlers = calloc(UDK_DEVICE_HANDLERS_MAX, sizeof(*d->handlers));
        if (!d->handlers)
                return -ENOMEM;
        d->handlers_line = p->line;
        for (;;) {
                char *comma = strchr(item, ',');
                int r;

                if (comma)
                        *comma = '\0';
                item = udkd_ini_trim(item);
                if (!*item)
                        return parse_error(p, "empty item in handlers list");
                r = parse_handler(p, d, item);
                if (r < 0)
                        return r;
                if (!comma)
                        return 0;
                item = comma + 1;
        }
}

static int parse_channels(struct parser *p, const char *key, const char *value, uint32_t *ret)
{
        int64_t v;
        int r = parse_int(p, key, value, 0, UDK_CHANNELS_MAX, &v);

        if (r < 0)
                return r;
        *ret = (uint32_t)v;
        return 0;
}

static int device_remember(struct udkd_config_device *d, const char *key, const char *value, unsigned line)
{
        struct udkd_config_key *k;

        /* n_keys is below UDKD_CONFIG_KEYS_MAX: the caller counted the section's keys. */
        if (!d->keys) {
                d->keys = calloc(UDKD_CONFIG_KEYS_MAX, sizeof(*d->keys));
                if (!d->keys)
                        return -ENOMEM;
        }
        k = &d->keys[d->n_keys];
        k->key = strdup(key);
        k->value = strdup(value);
        k->line = line;
        d->n_keys++;
        return k->key && k->value ? 0 : -ENOMEM;
}

unsigned udkd_config_device_line_for(const struct udkd_config_device *device, const char *sentence)
{
        size_t len = strcspn(sentence, " :'");

        for (size_t i = 0; i < device->n_keys; i++)
                if (strlen(device->keys[i].key) == len && strncmp(device->keys[i].key, sentence, len) == 0)
                        return device->keys[i].line;
        return device->line;
}

/* Interpret a key the parser knows; -ENOENT for the others. */
static int device_known_key(struct parser *p, struct udkd_config_device *d, const char *key, char *value)
{
        struct udkd_config *cfg = p->cfg;
        struct udk_device_config *dc = &d->cfg;
        int64_t v;
        int r;

        if (strcmp(key, "name") == 0) {
                if (!udkd_ini_name_is_valid(value, strlen(value)))
                        return parse_error(
                            p, "bad device name '%s' (letters, digits, '_', '.', '-'; at most %u)", value,
                            UDK_OBJECT_NAME_MAX - 1);
                for (size_t i = 0; i + 1 < cfg->n_devices; i++)
                        if (strcmp(cfg->devices[i].cfg.name, value) == 0)
                                return parse_error(p, "duplicate device name '%s' (first at line %u)", value,
                                                   cfg->devices[i].name_line);
                udk_strlcpy(dc->name, value, sizeof(dc->name));
                d->name_line = p->line;
                return 0;
        }
        if (strcmp(key, "uid") == 0) {
                if (udk_strlcpy(dc->uid, value, sizeof(dc->uid)) < 0)
                        return parse_error(p, "uid too long (at most %u characters)",
                                           UDK_OBJECT_NAME_MAX - 1);
                return 0;
        }
        if (strcmp(key, "backend") == 0) {
                d->backend = udk_backend_find(value);
                if (!d->backend)
                        return parse_error(p, "unknown backend '%s' (known: %s)", value,
                                           udkd_config_backend_names());
                return 0;
        }
        if (strcmp(key, "rate") == 0) {
                r = parse_int(p, key, value, UDK_RATE_MIN, UDK_RATE_MAX, &v);
                if (r == 0)
                        dc->rate = (uint32_t)v;
                return r;
        }
        if (strcmp(key, "period") == 0) {
                r = parse_int(p, key, value, UDK_PERIOD_MIN, UDK_PERIOD_MAX, &v);
                if (r == 0)
                        dc->period = (uint32_t)v;
                return r;
        }
        if (strcmp(key, "periods") == 0) {
                r = parse_int(p, key, value, 2, 64, &v);
                if (r == 0)
                        dc->ring_periods = (uint32_t)v;
                return r;
        }
        if (strcmp(key, "channels") == 0) {
                r = parse_channels(p, key, value, &dc->input_channels);
                if (r == 0)
                        dc->output_channels = dc->input_channels;
                return r;
        }
        if (strcmp(key, "inputs") == 0)
                return parse_channels(p, key, value, &dc->input_channels);
        if (strcmp(key, "outputs") == 0)
                return parse_channels(p, key, value, &dc->output_channels);
        if (strcmp(key, "format") == 0) {
                if (udk_format_from_name(value, &dc->format) < 0) {
                        char names[128] = "";

                        for (int f = 0; f < UDK_FORMAT_COUNT; f++) {
                                if (f > 0)
                                        strncat(names, ", ", sizeof(names) - strlen(names) - 1);
                                strncat(names, udk_format_name((enum udk_sample_format)f),
                                        sizeof(names) - strlen(names) - 1);
                        }
                        return parse_error(p, "unknown format '%s' (%s)", value, names);
                }
                return 0;
        }
        if (strcmp(key, "priority") == 0) {
                r = parse_int(p, key, value, 0, 99, &v);
                if (r == 0) {
                        dc->rt_priority = (int)v;
                        d->priority_set = true;
                }
                return r;
        }
        if (strcmp(key, "cpu") == 0) {
                long n_cpus = sysconf(_SC_NPROCESSORS_CONF);

                r = parse_int(p, key, value, -1, n_cpus > 0 ? n_cpus - 1 : 0, &v);
                if (r == 0)
                        dc->cpu = (int)v;
                return r;
        }
        if (strcmp(key, "late_limit") == 0) {
                r = parse_int(p, key, value, 1, 100000, &v);
                if (r == 0)
                        dc->late_limit = (uint32_t)v;
                return r;
        }
        if (strcmp(key, "client_deadline") == 0) {
                r = parse_int(p, key, value, 10, 95, &v);
                if (r == 0)
                        dc->client_deadline = (uint32_t)v;
                return r;
        }
        if (strcmp(key, "placement") == 0) {
                for (int i = 0; i < UDKD_PLACEMENT_COUNT; i++)
                        if (strcmp(value, udkd_placement_name((enum udkd_placement)i)) == 0) {
                                d->placement = (enum udkd_placement)i;
                                return 0;
                        }
                return parse_error(p, "unknown placement '%s' (auto, same-cpu, free)", value);
        }
        if (strcmp(key, "handlers") == 0)
                return parse_handlers(p, d, value);
        return -ENOENT;
}

static int device_key(struct parser *p, const char *key, char *value)
{
        struct udkd_config_device *d = &p->cfg->devices[p->cfg->n_devices - 1];
        int r = device_remember(d, key, value, p->line);

        if (r < 0)
                return r;
        r = device_known_key(p, d, key, value);
        if (r == -ENOENT)
                return 0; /* a backend option or a control: only the opened device can tell */
        d->keys[d->n_keys - 1].known = true;
        return r;
}

/* What a finished section must have. */
static int section_end(struct parser *p)
{
        struct udkd_config_device *d;

        if (p->section != SECTION_DEVICE)
                return 0;
        d = &p->cfg->devices[p->cfg->n_devices - 1];
        if (!d->cfg.name[0])
                return udkd_ini_error(p->err, p->err_size, p->path, d->line, "[device] without a name"),
                       -EINVAL;
        return 0;
}

static int section_begin(void *userdata, unsigned line, const char *name)
{
        struct parser *p = userdata;
        struct udkd_config *cfg = p->cfg;
        int r;

        p->line = line;
        r = section_end(p);
        if (r < 0)
                return r;

        if (strcmp(name, "server") == 0) {
                if (p->server_line > 0)
                        return parse_error(p, "duplicate section [server] (first at line %u)",
                                           p->server_line);
                p->server_line = p->line;
                p->section = SECTION_SERVER;
                return 0;
        }
        if (strcmp(name, "device") == 0) {
                struct udkd_config_device *devices, *d;

                if (cfg->n_devices >= UDKD_CONFIG_DEVICES_MAX)
                        return parse_error(p, "too many devices (at most %u)", UDKD_CONFIG_DEVICES_MAX);
                devices = reallocarray(cfg->devices, cfg->n_devices + 1, sizeof(*devices));
                if (!devices)
                        return -ENOMEM;
                cfg->devices = devices;
                d = &devices[cfg->n_devices++];
                *d = (struct udkd_config_device){.line = p->line, .backend = &udk_backend_virtual};
                udk_device_config_defaults(&d->cfg);
                d->cfg.name[0] = '\0';
                d->cfg.uid[0] = '\0';
                p->section = SECTION_DEVICE;
                return 0;
        }
        return parse_error(p, "unknown section [%s]", name);
}

static int key_value(void *userdata, unsigned line, const char *key, char *value)
{
        struct parser *p = userdata;

        p->line = line;
        return p->section == SECTION_SERVER ? server_key(p, key, value) : device_key(p, key, value);
}
static int parse(struct parser *p, const char *text, size_t size, bool device_body)
{
        static const struct udkd_ini_ops ops = {.section = section_begin, .key = key_value};
        struct udkd_config *cfg = p->cfg;
        int r;

        if (device_body)
                r = udkd_ini_walk_body(p->path, text, size, UDKD_CONFIG_KEYS_MAX, "device", &ops, p, p->err,
                                       p->err_size);
        else
                r = udkd_ini_walk(p->path, text, size, UDKD_CONFIG_KEYS_MAX, &ops, p, p->err, p->err_size);
        if (r < 0)
                return r;
        p->line = 0;
        r = section_end(p);
        if (r < 0)
                return r;
        /* [server] may come after the devices it gives a default to. */
        for (size_t i = 0; i < cfg->n_devices; i++)
                if (!cfg->devices[i].priority_set && cfg->priority >= 0)
                        cfg->devices[i].cfg.rt_priority = cfg->priority;
        return 0;
}

static int config_parse(struct udkd_config *cfg, const char *path, const char *text, size_t size,
                        bool device_body, char *err, size_t err_size)
{
        struct parser *p;
        int r;

        p = calloc(1, sizeof(*p));
        cfg->path = strdup(path);
        if (!p || !cfg->path) {
                free(p);
                udkd_config_finish(cfg);
                udkd_ini_error(err, err_size, path, 0, "%s", strerror(ENOMEM));
                return -ENOMEM;
        }
        p->cfg = cfg;
        p->path = path;
        p->err = err;
        p->err_size = err_size;

        r = parse(p, text, size, device_body);
        free(p);
        if (r < 0)
                udkd_config_finish(cfg);
        return r;
}

int udkd_config_parse(struct udkd_config *cfg, const char *path, const char *text, size_t size, char *err,
                      size_t err_size)
{
        return config_parse(cfg, path, text, size, false, err, err_size);
}

int udkd_config_parse_device(struct udkd_config *cfg, const char *path, const char *text, size_t size, char *err,
                             size_t err_size)
{
        return config_parse(cfg, path, text, size, true, err, err_size);
}

int udkd_config_load(struct udkd_config *cfg, const char *path, char *err, size_t err_size)
{
        _udk_cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = udkd_ini_read_file(path, &text, &size, err, err_size);
        if (r < 0)
                return r;
        return udkd_config_parse(cfg, path, text, size, err, err_size);
}