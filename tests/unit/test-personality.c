/* SPDX-License-Identifier: MIT */
/*
 * Personality files: every key and its default, the exact sentence of each
 * kind of bad input, a file that loads whole or not at all, and a folder in
 * which one broken file leaves the others loading.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "personality.h"
#include "udk-test.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

/* A temporary folder holding an empty driver object "drv.so" and a subfolder "sub". */
static char *make_folder(void)
{
        char *dir = strdup("/tmp/udk-test-personality.XXXXXX"), path[512];
        int fd;

        ASSERT_NOT_NULL(dir);
        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/drv.so", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_INT_GE(fd, 0);
        close(fd);
        snprintf(path, sizeof(path), "%s/sub", dir);
        ASSERT_OK(mkdir(path, 0755));
        return dir;
}

static void remove_folder(char *dir)
{
        ASSERT_OK(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS));
        free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        ASSERT_INT_GE(fputs(text, f), 0);
        fclose(f);
}

static int parse(struct udkd_personality_set *set, const char *path, const char *text, char *err)
{
        err[0] = '\0';
        return udkd_personalities_parse(set, path, text, strlen(text), false, err, UDKD_PERSONALITY_ERR_MAX);
}

static void test_every_key(void)
{
        static const char text[] = "# two personalities\n"
                                   "[personality]\n"
                                   "name = acme-usb\n"
                                   "family = usb\n"
                                   "match.vendor = 0x1234\n"
                                   "match.product = 22136\n"
                                   "match.bcdDevice = 0x0100-0x01ff\n"
                                   "match.modalias = usb:v1234p5678*\n"
                                   "match.serial = AB-12\n"
                                   "probe_score = -7\n"
                                   "driver = acme.so\n"
                                   "class = AcmeAudio\n"
                                   "restart = always\n"
                                   "restart_limit = 3/10s\n"
                                   "host = acme-host\n"
                                   "fallback = no\n"
                                   "\n"
                                   "[personality]\n"
                                   "name = any-test\n"
                                   "family = test\n"
                                   "driver = /opt/udk/any.so\n"
                                   "fallback = yes\n";
        struct udkd_personality_set set;
        char err[UDKD_PERSONALITY_ERR_MAX];
        const struct udkd_personality *p;

        udkd_personality_set_init(&set);
        ASSERT_OK(parse(&set, "/etc/udk/drivers/acme.conf", text, err));
        ASSERT_UINT_EQ(set.n_items, 2);
        ASSERT_UINT_EQ(set.n_errors, 0);

        p = &set.items[0];
        ASSERT_STR_EQ(p->path, "/etc/udk/drivers/acme.conf");
        ASSERT_UINT_EQ(p->line, 2);
        ASSERT_STR_EQ(p->name, "acme-usb");
        ASSERT_INT_EQ(p->family, UDKD_FAMILY_USB);
        ASSERT_UINT_EQ(p->n_rules, 5);
        ASSERT_STR_EQ(p->rules[0].property, "vendor");
        ASSERT_INT_EQ(p->rules[0].kind, UDKD_RULE_EQUAL);
        ASSERT_TRUE(p->rules[0].numeric);
        ASSERT_INT_EQ(p->rules[0].lo, 0x1234);
        ASSERT_UINT_EQ(p->rules[0].line, 5);
        ASSERT_INT_EQ(p->rules[1].kind, UDKD_RULE_EQUAL);
        ASSERT_INT_EQ(p->rules[1].lo, 22136);
        ASSERT_STR_EQ(p->rules[2].property, "bcdDevice");
        ASSERT_INT_EQ(p->rules[2].kind, UDKD_RULE_RANGE);
        ASSERT_INT_EQ(p->rules[2].lo, 0x100);
        ASSERT_INT_EQ(p->rules[2].hi, 0x1ff);
        ASSERT_STR_EQ(p->rules[2].value, "0x0100-0x01ff");
        ASSERT_INT_EQ(p->rules[3].kind, UDKD_RULE_GLOB);
        ASSERT_STR_EQ(p->rules[3].value, "usb:v1234p5678*");
        /* "AB-12": not a number before the dash, so a plain value. */
        ASSERT_INT_EQ(p->rules[4].kind, UDKD_RULE_EQUAL);
        ASSERT_FALSE(p->rules[4].numeric);
        ASSERT_STR_EQ(p->rules[4].value, "AB-12");
        ASSERT_INT_EQ(p->probe_score, -7);
        ASSERT_STR_EQ(p->driver, "/etc/udk/drivers/acme.so");
        ASSERT_STR_EQ(p->class_name, "AcmeAudio");
        ASSERT_INT_EQ(p->restart, UDKD_RESTART_ALWAYS);
        ASSERT_UINT_EQ(p->restart_limit_count, 3);
        ASSERT_UINT_EQ(p->restart_limit_window_ms, 10000);
        ASSERT_STR_EQ(p->host, "acme-host");
        ASSERT_FALSE(p->fallback);

        /* The defaults. */
        p = &set.items[1];
        ASSERT_UINT_EQ(p->line, 18);
        ASSERT_INT_EQ(p->family, UDKD_FAMILY_TEST);
        ASSERT_UINT_EQ(p->n_rules, 0);
        ASSERT_INT_EQ(p->probe_score, 0);
        ASSERT_STR_EQ(p->driver, "/opt/udk/any.so");
        ASSERT_PTR_EQ(p->class_name, NULL);
        ASSERT_INT_EQ(p->restart, UDKD_RESTART_ON_FAILURE);
        ASSERT_UINT_EQ(p->restart_limit_count, 5);
        ASSERT_UINT_EQ(p->restart_limit_window_ms, 30 * 60 * 1000);
        ASSERT_PTR_EQ(p->host, NULL);
        ASSERT_TRUE(p->fallback);
        ASSERT_UINT_EQ(p->n_properties, 0);
        ASSERT_UINT_EQ(p->n_grants, 0);
        ASSERT_FALSE(p->sandbox_udev);
        ASSERT_UINT_EQ(p->start_timeout_ms, 5000);
        ASSERT_UINT_EQ(p->stop_timeout_ms, 5000);
        ASSERT_UINT_EQ(p->heartbeat_ms, 1000);
        ASSERT_UINT_EQ(p->restart_delay_ms, 100);
        ASSERT_UINT_EQ(p->restart_delay_max_ms, 30000);
        ASSERT_UINT_EQ(p->restart_reset_ms, 60000);

        udkd_personality_set_finish(&set);
        ASSERT_UINT_EQ(set.n_items, 0);
        udkd_personality_set_finish(&set);
}

static void test_names(void)
{
        enum udkd_family f;

        ASSERT_STR_EQ(udkd_family_name(UDKD_FAMILY_TEST), "test");
        ASSERT_STR_EQ(udkd_family_name(UDKD_FAMILY_SERIAL), "serial");
        ASSERT_STR_EQ(udkd_family_name(UDKD_FAMILY_ROOT), "root");
        ASSERT_OK(udkd_family_from_name("root", &f));
        ASSERT_INT_EQ(f, UDKD_FAMILY_ROOT);
        ASSERT_PTR_EQ(udkd_family_name(UDKD_FAMILY_COUNT), NULL);
        ASSERT_OK(udkd_family_from_name("pci", &f));
        ASSERT_INT_EQ(f, UDKD_FAMILY_PCI);
        ASSERT_OK(udkd_family_from_name("hid", &f));
        ASSERT_INT_EQ(f, UDKD_FAMILY_HID);
        ASSERT_ERROR(udkd_family_from_name("USB", &f), EINVAL);
        ASSERT_INT_EQ(f, UDKD_FAMILY_HID); /* untouched */
        ASSERT_STR_EQ(udkd_restart_name(UDKD_RESTART_NO), "no");
        ASSERT_STR_EQ(udkd_restart_name(UDKD_RESTART_ON_FAILURE), "on-failure");
        ASSERT_STR_EQ(udkd_restart_name(UDKD_RESTART_ALWAYS), "always");
        ASSERT_PTR_EQ(udkd_restart_name(UDKD_RESTART_COUNT), NULL);
}

static void test_restart_limits(void)
{
        static const struct {
                const char *value;
                uint32_t count;
                uint64_t window_ms;
        } cases[] = {
                { "5/30min", 5, 1800000 }, { "1/500ms", 1, 500 }, { "100/24h", 100, 86400000 },
                { "2/90s", 2, 90000 },     { "none", 0, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct udkd_personality_set set;
                char text[256], err[UDKD_PERSONALITY_ERR_MAX];

                snprintf(text, sizeof(text),
                         "[personality]\nname = a\nfamily = usb\ndriver = d.so\nrestart_limit = %s\n",
                         cases[i].value);
                udkd_personality_set_init(&set);
                ASSERT_OK(parse(&set, "p.conf", text, err));
                ASSERT_UINT_EQ(set.items[0].restart_limit_count, cases[i].count);
                ASSERT_UINT_EQ(set.items[0].restart_limit_window_ms, cases[i].window_ms);
                ASSERT_STR_EQ(set.items[0].driver, "./d.so");
                udkd_personality_set_finish(&set);
        }
}

#define HEAD "[personality]\nname = a\nfamily = usb\ndriver = d.so\n" /* lines 1-4 */
#define LIMIT_SENTENCE(v)                                                                                   \
        "p.conf:5: bad restart_limit '" v "' (COUNT/DURATION as in 5/30min: COUNT 1..100, DURATION up to " \
        "24h in ms, s, min or h; or none)"

/* The supervisor's keys: properties, grants, time-outs, the back-off. */
static void test_driver_keys(void)
{
        static const char text[] = "[personality]\n"
                                   "name = knob\n"
                                   "family = root\n"
                                   "match.bus = test\n"
                                   "driver = /opt/knob.so\n"
                                   "property.gain = -6\n"
                                   "property.mode_2 = fast and loud\n"
                                   "grant = desc.ini, /etc/udk/extra.ini,sub/other\n"
                                   "sandbox = udev\n"
                                   "start_timeout = 250ms\n"
                                   "stop_timeout = 2s\n"
                                   "heartbeat = 10ms\n"
                                   "restart_delay = 0\n"
                                   "restart_delay_max = 1min\n"
                                   "restart_reset = 1h\n";
        struct udkd_personality_set set;
        char err[UDKD_PERSONALITY_ERR_MAX], text2[1024];
        const struct udkd_personality *p;
        size_t n;

        udkd_personality_set_init(&set);
        ASSERT_OK(parse(&set, "/etc/udk/drivers/knob.conf", text, err));
        p = &set.items[0];
        ASSERT_INT_EQ(p->family, UDKD_FAMILY_ROOT);
        ASSERT_UINT_EQ(p->n_rules, 1);
        ASSERT_UINT_EQ(p->n_properties, 2);
        ASSERT_STR_EQ(p->properties[0].key, "gain");
        ASSERT_STR_EQ(p->properties[0].value, "-6");
        ASSERT_STR_EQ(p->properties[1].key, "mode_2");
        ASSERT_STR_EQ(p->properties[1].value, "fast and loud");
        ASSERT_UINT_EQ(p->n_grants, 3);
        ASSERT_STR_EQ(p->grants[0], "/etc/udk/drivers/desc.ini");
        ASSERT_STR_EQ(p->grants[1], "/etc/udk/extra.ini");
        ASSERT_STR_EQ(p->grants[2], "/etc/udk/drivers/sub/other");
        ASSERT_TRUE(p->sandbox_udev);
        ASSERT_UINT_EQ(p->start_timeout_ms, 250);
        ASSERT_UINT_EQ(p->stop_timeout_ms, 2000);
        ASSERT_UINT_EQ(p->heartbeat_ms, 10);
        ASSERT_UINT_EQ(p->restart_delay_ms, 0);
        ASSERT_UINT_EQ(p->restart_delay_max_ms, 60000);
        ASSERT_UINT_EQ(p->restart_reset_ms, 3600000);
        udkd_personality_set_finish(&set);

        /* Eight properties pass, the ninth does not; a value of 95 bytes passes, 96 do not. */
        n = (size_t)snprintf(text2, sizeof(text2), HEAD);
        for (unsigned i = 0; i < UDKD_PERSONALITY_PROPS_MAX; i++)
                n += (size_t)snprintf(text2 + n, sizeof(text2) - n, "property.p%u = %u\n", i, i);
        ASSERT_OK(parse(&set, "p.conf", text2, err));
        ASSERT_UINT_EQ(set.items[0].n_properties, 8);
        udkd_personality_set_finish(&set);
        snprintf(text2 + n, sizeof(text2) - n, "property.extra = 1\n");
        ASSERT_ERROR(parse(&set, "p.conf", text2, err), EINVAL);
        ASSERT_STR_EQ(err, "p.conf:13: too many property keys (at most 8)");
        {
                char value[UDKD_PERSONALITY_PROP_VALUE_MAX + 1];

                memset(value, 'v', sizeof(value));
                value[UDKD_PERSONALITY_PROP_VALUE_MAX - 1] = '\0';
                snprintf(text2, sizeof(text2), HEAD "property.v = %s\n", value);
                ASSERT_OK(parse(&set, "p.conf", text2, err));
                udkd_personality_set_finish(&set);
                value[UDKD_PERSONALITY_PROP_VALUE_MAX - 1] = 'v';
                value[UDKD_PERSONALITY_PROP_VALUE_MAX] = '\0';
                snprintf(text2, sizeof(text2), HEAD "property.v = %s\n", value);
                ASSERT_ERROR(parse(&set, "p.conf", text2, err), EINVAL);
                ASSERT_STR_EQ(err, "p.conf:5: value of 'property.v' too long (96 bytes, at most 95)");
        }
        udkd_personality_set_finish(&set);
}

static void test_errors(void)
{
        static const struct {
                const char *text;
                const char *err;
        } cases[] = {
                { "", "p.conf: no [personality] section" },
                { "# nothing\n", "p.conf: no [personality] section" },
                { "[driver]\n", "p.conf:1: unknown section [driver] (only [personality])" },
                { "[personality]\nfamily = usb\ndriver = d.so\n", "p.conf:1: [personality] without a name" },
                { "[personality]\nname = a\ndriver = d.so\n",
                  "p.conf:1: [personality] 'a' without a family" },
                { "[personality]\nname = a\nfamily = usb\n",
                  "p.conf:1: [personality] 'a' without a driver" },
                { HEAD "[personality]\nfamily = usb\n[personality]\n",
                  "p.conf:5: [personality] without a name" },
                { HEAD "[personality]\nname = a\n",
                  "p.conf:6: duplicate personality name 'a' (first at p.conf:1)" },
                { HEAD "colour = red\n", "p.conf:5: unknown key 'colour' in [personality]" },
                { HEAD "name = b\n", "p.conf:5: duplicate key 'name' in [personality] (first at line 2)" },
                { HEAD "name\n", "p.conf:5: expected 'key = value', got 'name'" },
                { "name = a\n", "p.conf:1: key 'name' outside any section" },
                { "[personality]\nname = a b\n",
                  "p.conf:2: bad personality name 'a b' (letters, digits, '_', '.', '-'; at most 63)" },
                { "[personality]\nfamily = firewire\n",
                  "p.conf:2: unknown family 'firewire' (test, usb, pci, hid, serial, root)" },
                { HEAD "match.bcdDevice = 0x0200-0x0100\n",
                  "p.conf:5: bad range '0x0200-0x0100' for match.bcdDevice: 0x0200 is above 0x0100" },
                { HEAD "match.bcdDevice = 0x0100-0x01zz\n",
                  "p.conf:5: bad range '0x0100-0x01zz' for match.bcdDevice: '0x01zz' is not a number" },
                { HEAD "match.bcdDevice = 1-\n",
                  "p.conf:5: bad range '1-' for match.bcdDevice: '' is not a number" },
                { HEAD "match.modalias = usb:v1234p*[ab\n",
                  "p.conf:5: bad glob 'usb:v1234p*[ab' for match.modalias: '[' without its ']'" },
                { HEAD "match.modalias = usb:v1234\\\n",
                  "p.conf:5: bad glob 'usb:v1234\\' for match.modalias: it ends in a lone '\\'" },
                { HEAD "match.ven-dor = 1\n",
                  "p.conf:5: bad property name in 'match.ven-dor' (letters, digits, '_'; at most 63)" },
                { HEAD "match. = 1\n",
                  "p.conf:5: bad property name in 'match.' (letters, digits, '_'; at most 63)" },
                { HEAD "probe_score = 2000000\n",
                  "p.conf:5: probe_score 2000000 out of range (-1000000..1000000)" },
                { HEAD "probe_score = high\n", "p.conf:5: probe_score 'high' is not a number" },
                { HEAD "class = 9Lives\n",
                  "p.conf:5: bad class name '9Lives' (a C identifier of at most 63 characters)" },
                { HEAD "restart = sometimes\n",
                  "p.conf:5: unknown restart policy 'sometimes' (no, on-failure, always)" },
                { HEAD "restart_limit = 5\n", LIMIT_SENTENCE("5") },
                { HEAD "restart_limit = 0/30min\n", LIMIT_SENTENCE("0/30min") },
                { HEAD "restart_limit = 101/30min\n", LIMIT_SENTENCE("101/30min") },
                { HEAD "restart_limit = 5/25h\n", LIMIT_SENTENCE("5/25h") },
                { HEAD "restart_limit = 5/30days\n", LIMIT_SENTENCE("5/30days") },
                { HEAD "restart_limit = 5/min\n", LIMIT_SENTENCE("5/min") },
                { HEAD "restart_limit = 5/0s\n", LIMIT_SENTENCE("5/0s") },
                { HEAD "host = a/b\n",
                  "p.conf:5: bad host key 'a/b' (letters, digits, '_', '.', '-'; at most 63)" },
                { HEAD "host =\n", "p.conf:5: empty value for 'host'" },
                { HEAD "host = 0123456789012345678901234567890123456789012345678901234567890123\n",
                  "p.conf:5: bad host key '0123456789012345678901234567890123456789012345678901234567890123' "
                  "(letters, digits, '_', '.', '-'; at most 63)" },
                { HEAD "fallback = maybe\n", "p.conf:5: fallback 'maybe' is neither yes nor no" },
                { HEAD "property.a-b = 1\n",
                  "p.conf:5: bad property name in 'property.a-b' (letters, digits, '_'; at most 31)" },
                { HEAD "property. = 1\n",
                  "p.conf:5: bad property name in 'property.' (letters, digits, '_'; at most 31)" },
                { HEAD "property.abcdefghijklmnopqrstuvwxyz012345 = 1\n",
                  "p.conf:5: bad property name in 'property.abcdefghijklmnopqrstuvwxyz012345' (letters, digits, "
                  "'_'; at most 31)" },
                { HEAD "grant = a, , b\n", "p.conf:5: empty item in grant list" },
                { HEAD "grant = a, b, c, d\n", "p.conf:5: too many grants (at most 3)" },
                { HEAD "sandbox = network\n", "p.conf:5: unknown sandbox 'network' (udev)" },
                { HEAD "sandbox = udev\n",
                  "p.conf:5: sandbox = udev is for bus drivers only (family = root), not family usb" },
                { "[personality]\nname = a\nfamily = root\ndriver = d.so\nsandbox = udev\nhost = bus\n",
                  "p.conf:5: sandbox = udev runs in a host of its own: no host key" },
                { HEAD "start_timeout = 5\n",
                  "p.conf:5: bad start_timeout '5' (a duration from 1ms to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "start_timeout = 0\n",
                  "p.conf:5: bad start_timeout '0' (a duration from 1ms to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "stop_timeout = 2days\n",
                  "p.conf:5: bad stop_timeout '2days' (a duration from 1ms to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "stop_timeout = 61min\n",
                  "p.conf:5: bad stop_timeout '61min' (a duration from 1ms to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "heartbeat = 5ms\n",
                  "p.conf:5: bad heartbeat '5ms' (a duration from 10ms to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "restart_delay = -1s\n",
                  "p.conf:5: bad restart_delay '-1s' (a duration from 0 to 1h in ms, s, min or h, as in 5s)" },
                { HEAD "restart_delay_max = 25h\n",
                  "p.conf:5: bad restart_delay_max '25h' (a duration from 0 to 24h in ms, s, min or h, as in 5s)" },
                { HEAD "restart_reset = 0s\n",
                  "p.conf:5: bad restart_reset '0s' (a duration from 1ms to 24h in ms, s, min or h, as in 5s)" },
        };
        struct udkd_personality_set set;

        udkd_personality_set_init(&set);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char err[UDKD_PERSONALITY_ERR_MAX];

                fprintf(stderr, "case %zu\n", i);
                ASSERT_ERROR(parse(&set, "p.conf", cases[i].text, err), EINVAL);
                ASSERT_STR_EQ(err, cases[i].err);
                ASSERT_UINT_EQ(set.n_items, 0);
        }
        udkd_personality_set_finish(&set);
}

/* The bounds: each limit passes at its value and fails one above, with its sentence. */
static void test_limits(void)
{
        struct udkd_personality_set set;
        char err[UDKD_PERSONALITY_ERR_MAX];
        char *text = malloc(64 * 1024), value[UDKD_PERSONALITY_VALUE_MAX + 1];
        size_t n;

        ASSERT_NOT_NULL(text);
        udkd_personality_set_init(&set);

        /* Values: 255 bytes pass, 256 do not. */
        memset(value, 'A', sizeof(value));
        value[UDKD_PERSONALITY_VALUE_MAX - 1] = '\0';
        snprintf(text, 64 * 1024, HEAD "match.serial = %s\n", value);
        ASSERT_OK(parse(&set, "p.conf", text, err));
        ASSERT_UINT_EQ(strlen(set.items[0].rules[0].value), 255);
        udkd_personality_set_finish(&set);
        value[UDKD_PERSONALITY_VALUE_MAX - 1] = 'A';
        value[UDKD_PERSONALITY_VALUE_MAX] = '\0';
        snprintf(text, 64 * 1024, HEAD "match.serial = %s\n", value);
        ASSERT_ERROR(parse(&set, "p.conf", text, err), EINVAL);
        ASSERT_STR_EQ(err, "p.conf:5: value of 'match.serial' too long (256 bytes, at most 255)");

        /* Rules: 32 pass, the 33rd does not. */
        n = (size_t)snprintf(text, 64 * 1024, HEAD);
        for (unsigned i = 0; i < UDKD_PERSONALITY_RULES_MAX; i++)
                n += (size_t)snprintf(text + n, 64 * 1024 - n, "match.p%u = %u\n", i, i);
        ASSERT_OK(parse(&set, "p.conf", text, err));
        ASSERT_UINT_EQ(set.items[0].n_rules, 32);
        udkd_personality_set_finish(&set);
        snprintf(text + n, 64 * 1024 - n, "match.extra = 1\n");
        ASSERT_ERROR(parse(&set, "p.conf", text, err), EINVAL);
        ASSERT_STR_EQ(err, "p.conf:37: too many match rules (at most 32)");

        /* Personalities: 256 in a file pass, the 257th does not. */
        n = 0;
        for (unsigned i = 0; i < UDKD_PERSONALITIES_PER_FILE_MAX; i++)
                n += (size_t)snprintf(text + n, 64 * 1024 - n,
                                      "[personality]\nname = p%u\nfamily = pci\ndriver = d.so\n", i);
        ASSERT_OK(parse(&set, "p.conf", text, err));
        ASSERT_UINT_EQ(set.n_items, 256);
        udkd_personality_set_finish(&set);
        snprintf(text + n, 64 * 1024 - n, "[personality]\n");
        ASSERT_ERROR(parse(&set, "p.conf", text, err), EINVAL);
        ASSERT_STR_EQ(err, "p.conf:1025: too many personalities in one file (at most 256)");
        ASSERT_UINT_EQ(set.n_items, 0);

        udkd_personality_set_finish(&set);
        free(text);
}

/* A broken file takes back every personality it had added; the set's others stay. */
static void test_file_all_or_nothing(void)
{
        struct udkd_personality_set set;
        char err[UDKD_PERSONALITY_ERR_MAX];

        udkd_personality_set_init(&set);
        ASSERT_OK(parse(&set, "one.conf", "[personality]\nname = one\nfamily = hid\ndriver = d.so\n", err));
        ASSERT_ERROR(parse(&set, "two.conf",
                           "[personality]\nname = two\nfamily = hid\ndriver = d.so\n"
                           "[personality]\nname = three\nfamily = hid\ndriver = d.so\nfallback = 2\n",
                           err),
                     EINVAL);
        ASSERT_STR_EQ(err, "two.conf:9: fallback '2' is neither yes nor no");
        ASSERT_UINT_EQ(set.n_items, 1);
        ASSERT_STR_EQ(set.items[0].name, "one");
        /* "two" was taken back: its name is free again. */
        ASSERT_OK(parse(&set, "two.conf", "[personality]\nname = two\nfamily = hid\ndriver = d.so\n", err));
        ASSERT_UINT_EQ(set.n_items, 2);
        udkd_personality_set_finish(&set);
}

static void test_driver_checked(void)
{
        char *dir = make_folder(), path[512], expect[1024];
        struct udkd_personality_set set;
        char err[UDKD_PERSONALITY_ERR_MAX];

        udkd_personality_set_init(&set);
        write_file(dir, "good.conf", "[personality]\nname = a\nfamily = usb\ndriver = drv.so\n");
        snprintf(path, sizeof(path), "%s/good.conf", dir);
        ASSERT_OK(udkd_personalities_load_file(&set, path, err, sizeof(err)));
        snprintf(expect, sizeof(expect), "%s/drv.so", dir);
        ASSERT_STR_EQ(set.items[0].driver, expect);

        write_file(dir, "missing.conf", "[personality]\nname = b\nfamily = usb\ndriver = nope.so\n");
        snprintf(path, sizeof(path), "%s/missing.conf", dir);
        ASSERT_ERROR(udkd_personalities_load_file(&set, path, err, sizeof(err)), EINVAL);
        snprintf(expect, sizeof(expect), "%s/missing.conf:4: driver %s/nope.so: No such file or directory",
                 dir, dir);
        ASSERT_STR_EQ(err, expect);

        write_file(dir, "folder.conf", "[personality]\nname = b\nfamily = usb\ndriver = sub\n");
        snprintf(path, sizeof(path), "%s/folder.conf", dir);
        ASSERT_ERROR(udkd_personalities_load_file(&set, path, err, sizeof(err)), EINVAL);
        snprintf(expect, sizeof(expect), "%s/folder.conf:4: driver %s/sub is not a regular file", dir, dir);
        ASSERT_STR_EQ(err, expect);

        snprintf(path, sizeof(path), "%s/absent.conf", dir);
        ASSERT_ERROR(udkd_personalities_load_file(&set, path, err, sizeof(err)), ENOENT);
        snprintf(expect, sizeof(expect), "%s/absent.conf: cannot read: No such file or directory", dir);
        ASSERT_STR_EQ(err, expect);

        ASSERT_UINT_EQ(set.n_items, 1);
        udkd_personality_set_finish(&set);
        remove_folder(dir);
}

static void test_folder(void)
{
        char *dir = make_folder(), expect[1024], err[UDKD_PERSONALITY_ERR_MAX];
        struct udkd_personality_set set;

        /* Written out of order: loading goes by name. */
        write_file(dir, "c.conf", "[personality]\nname = c\nfamily = pci\ndriver = drv.so\n");
        write_file(dir, "b.conf",
                   "[personality]\nname = b\nfamily = pci\nmatch.vendor = 0x10-0x1\n"
                   "driver = drv.so\n");
        write_file(dir, "a.conf",
                   "[personality]\nname = a1\nfamily = usb\ndriver = drv.so\n"
                   "[personality]\nname = a2\nfamily = usb\ndriver = drv.so\n");
        write_file(dir, "d.conf", "[personality]\nname = a2\nfamily = usb\ndriver = drv.so\n");
        write_file(dir, ".hidden.conf", "broken\n");
        write_file(dir, "notes.txt", "broken\n");
        write_file(dir, "e.conf.orig", "broken\n");
        {
                char sub[600];

                snprintf(sub, sizeof(sub), "%s/f.conf", dir);
                ASSERT_OK(mkdir(sub, 0755));
        }

        udkd_personality_set_init(&set);
        ASSERT_INT_EQ(udkd_personalities_load_folder(&set, dir, err, sizeof(err)), 2);
        ASSERT_UINT_EQ(set.n_items, 3);
        ASSERT_STR_EQ(set.items[0].name, "a1");
        ASSERT_STR_EQ(set.items[1].name, "a2");
        ASSERT_STR_EQ(set.items[2].name, "c");
        ASSERT_UINT_EQ(set.n_errors, 2);
        snprintf(expect, sizeof(expect),
                 "%s/b.conf:4: bad range '0x10-0x1' for match.vendor: 0x10 is above 0x1", dir);
        ASSERT_STR_EQ(set.errors[0], expect);
        snprintf(expect, sizeof(expect),
                 "%s/d.conf:2: duplicate personality name 'a2' (first at %s/a.conf:5)", dir, dir);
        ASSERT_STR_EQ(set.errors[1], expect);
        udkd_personality_set_finish(&set);
        ASSERT_UINT_EQ(set.n_errors, 0);

        /* A folder that is not there. */
        snprintf(expect, sizeof(expect), "%s/nope", dir);
        ASSERT_ERROR(udkd_personalities_load_folder(&set, expect, err, sizeof(err)), ENOENT);
        snprintf(expect, sizeof(expect), "%s/nope: No such file or directory", dir);
        ASSERT_STR_EQ(err, expect);
        ASSERT_UINT_EQ(set.n_items, 0);
        remove_folder(dir);
}

/* A folder of 1025 files: the first 1024 by name load, the one left out is said. */
static void test_folder_limit(void)
{
        char *dir = make_folder(), name[32], text[128], expect[1024], err[UDKD_PERSONALITY_ERR_MAX];
        struct udkd_personality_set set;

        for (unsigned i = 0; i <= UDKD_PERSONALITY_FILES_MAX; i++) {
                snprintf(name, sizeof(name), "%04u.conf", i);
                snprintf(text, sizeof(text), "[personality]\nname = p%u\nfamily = pci\ndriver = drv.so\n", i);
                write_file(dir, name, text);
        }
        udkd_personality_set_init(&set);
        ASSERT_INT_EQ(udkd_personalities_load_folder(&set, dir, err, sizeof(err)), 1024);
        ASSERT_UINT_EQ(set.n_items, 1024);
        ASSERT_STR_EQ(set.items[1023].name, "p1023");
        ASSERT_UINT_EQ(set.n_errors, 1);
        snprintf(expect, sizeof(expect), "%s: too many personality files (at most 1024): 1 left out", dir);
        ASSERT_STR_EQ(set.errors[0], expect);
        udkd_personality_set_finish(&set);
        remove_folder(dir);
}

UDK_TEST_MAIN(test_every_key, test_names, test_restart_limits, test_driver_keys, test_errors, test_limits,
              test_file_all_or_nothing, test_driver_checked, test_folder, test_folder_limit)
