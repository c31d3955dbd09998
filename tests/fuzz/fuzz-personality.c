/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: drivers' personality files (server/personality.c on
 * server/ini.c), parsed from a memory buffer as udkd_personalities_load_file()
 * hands them the file, drivers not looked for on disk.  A file that loads
 * is matched against a nub of each family (server/match.c: its rules'
 * numbers, ranges and globs), then parsed a second time into the same set,
 * which must refuse it whole (its names are taken) and leave the set as it
 * was.  Everything is freed, so that leaks show.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "personality.h"
#include "fuzz-common.h"

#define PATH "/fuzz/drivers/fuzz.conf"

static const struct udkd_nub_property nub_props[] = {
        { "vendor", "0x1234" },    { "product", "0x0001" }, { "revision", "0x0100" },
        { "class", "1" },          { "subclass", "2" },     { "bcdDevice", "0x0150" },
        { "modalias", "usb:v1234p0001d0150dc01dsc02dp00ic01isc02ip00in00" },
        { "bus", "usb" },          { "name", "knob" },
};

static void match_all(const struct udkd_personality_set *set)
{
        for (int f = 0; f < UDKD_FAMILY_COUNT; f++) {
                struct udkd_nub nub = { .family = (enum udkd_family)f,
                                        .properties = nub_props,
                                        .n_properties = sizeof(nub_props) / sizeof(nub_props[0]) };
                struct udkd_match_explanation e;
                size_t index;
                int r = udkd_match(set, &nub, &index);

                require(r == 0 || r == -ENOENT);
                require(r < 0 || (index < set->n_items && set->items[index].family == nub.family));
                if (udkd_match_explain(set, &nub, &e) == 0) {
                        /* explain names the same winner as match. */
                        require(e.has_winner == (r == 0));
                        require(!e.has_winner || e.candidates[0].index == index);
                        for (size_t i = 0; i < e.n_candidates; i++)
                                sink += strlen(e.candidates[i].why);
                        udkd_match_explanation_finish(&e);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct udkd_personality_set set;
        char err[512];
        size_t n;
        int r;

        udkd_personality_set_init(&set);
        err[0] = '\0';
        r = udkd_personalities_parse(&set, PATH, (const char *)data, size, false, err, sizeof(err));
        require(memchr(err, '\0', sizeof(err)) != NULL);
        if (r < 0) {
                require(r == -EINVAL || r == -ENOMEM || r == -EFBIG);
                require(err[0] != '\0' && set.n_items == 0);
        } else {
                for (size_t i = 0; i < set.n_items; i++) {
                        const struct udkd_personality *p = &set.items[i];
                        require(p->name && p->driver && udkd_family_name(p->family) != NULL);
                        require(udkd_restart_name(p->restart) != NULL && udkd_personality_tier(p) <= 4);
                        sink += strlen(p->name) + strlen(p->driver) + p->n_rules + p->n_properties;
                }
                match_all(&set);
                n = set.n_items;
                if (n > 0) {
                        err[0] = '\0';
                        r = udkd_personalities_parse(&set, PATH, (const char *)data, size, false, err, sizeof(err));
                        require(r == -EINVAL && err[0] != '\0' && set.n_items == n);
                }
        }
        udkd_personality_set_finish(&set);
        return 0;
}
