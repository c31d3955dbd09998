/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: udkd's configuration parser (server/config.c on
 * server/ini.c), from a memory buffer as udkd_config_load() hands it the
 * file.  The first byte picks the entry point: even, a whole file
 * (udkd_config_parse); odd, a driver's device text, the body of one
 * [device] section (udkd_config_parse_device).  A parse that succeeds has
 * its model walked; one that fails leaves it empty with a sentence.  The
 * model is freed either way, so that leaks show.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz-common.h"

static void read_device(const struct udkd_config_device *d)
{
        require(memchr(d->cfg.name, '\0', sizeof(d->cfg.name)) != NULL);
        sink += strlen(d->cfg.name) + d->cfg.rate + d->cfg.period;
        require(udkd_placement_name(d->placement) != NULL);
        for (size_t i = 0; i < d->n_handlers; i++) {
                const struct udkd_config_handler *h = &d->handlers[i];
                require(memchr(h->plugin, '\0', sizeof(h->plugin)) && memchr(h->instance, '\0', sizeof(h->instance)));
                sink += strlen(h->spec);
        }
        for (size_t i = 0; i < d->n_keys; i++) {
                const struct udkd_config_key *k = &d->keys[i];
                sink += strlen(k->key) + strlen(k->value) + k->line;
                /* What a late error about this key names. */
                sink += udkd_config_device_line_for(d, k->key);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[UDKD_CONFIG_ERR_MAX];
        struct udkd_config cfg;
        const char *text;
        int r;

        if (size < 1)
                return 0;
        text = (const char *)data + 1;
        udkd_config_init(&cfg);
        err[0] = '\0';
        if (data[0] & 1)
                r = udkd_config_parse_device(&cfg, "device text", text, size - 1, err, sizeof(err));
        else
                r = udkd_config_parse(&cfg, "fuzz.conf", text, size - 1, err, sizeof(err));
        require(memchr(err, '\0', sizeof(err)) != NULL);
        if (r == 0) {
                require(cfg.n_devices <= UDKD_CONFIG_DEVICES_MAX);
                require(!(data[0] & 1) || cfg.n_devices == 1);
                for (size_t i = 0; i < cfg.n_devices; i++)
                        read_device(&cfg.devices[i]);
                if (cfg.plugin_path)
                        sink += strlen(cfg.plugin_path);
        } else {
                require(r == -EINVAL || r == -ENOMEM || r == -EFBIG);
                require(err[0] != '\0' && cfg.n_devices == 0 && cfg.devices == NULL);
        }
        udkd_config_finish(&cfg);
        return 0;
}
