/* SPDX-License-Identifier: MIT */
/*
 * The personality parser, on the INI walker of ini.c.  A file's
 * personalities are appended to the set as they are read and taken back
 * when the file turns out to be broken, so that a file loads whole or not
 * at all.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/object.h>
#include <udk/protocol.h>
#include <udk/util.h>

#include "ini.h"
#include "personality.h"

#define PROBE_SCORE_MAX       1000000
#define RESTART_COUNT_MAX     ((int64_t)UDKD_RESTART_LIMIT_COUNT_MAX)
#define RESTART_WINDOW_MAX_MS (24ull * 3600 * 1000)
#define DURATION_MAX_MS       (3600ull * 1000)
#define HEARTBEAT_MIN_MS      10u /* udkd's tick */

static const char *const family_names[UDKD_FAMILY_COUNT] = {
        [UDKD_FAMILY_TEST] = "test", [UDKD_FAMILY_USB] = "usb",       [UDKD_FAMILY_PCI] = "pci",
        [UDKD_FAMILY_HID] = "hid",   [UDKD_FAMILY_SERIAL] = "serial", [UDKD_FAMILY_ROOT] = "root",
};

static const char *const restart_names[UDKD_RESTART_COUNT] = {
        [UDKD_RESTART_NO] = "no", [UDKD_RESTART_ON_FAILURE] = "on-failure", [UDKD_RESTART_ALWAYS] = "always"
};

const char *udkd_family_name(enum udkd_family family)
{
        return (unsigned)family < UDKD_FAMILY_COUNT ? family_names[family] : NULL;
}

int udkd_family_from_name(const char *name, enum udkd_family *ret)
{
        for (int f = 0; f < UDKD_FAMILY_COUNT; f++)
                if (strcmp(name, family_names[f]) == 0) {
                        *ret = (enum udkd_family)f;
                        return 0;
                }
        return -EINVAL;
}

const char *udkd_restart_name(enum udkd_restart restart)
{
        return (unsigned)restart < UDKD_RESTART_COUNT ? restart_names[restart] : NULL;
}

void udkd_personality_set_init(struct udkd_personality_set *set)
{
        *set = (struct udkd_personality_set){ 0 };
}

static void personality_finish(struct udkd_personality *p)
{
        for (size_t i = 0; i < p->n_rules; i++) {
                free(p->rules[i].property);
                free(p->rules[i].value);
        }
        free(p->rules);
        free(p->path);
        free(p->name);
        free(p->driver);
        free(p->class_name);
        free(p->host);
        for (size_t i = 0; i < p->n_properties; i++) {
                free(p->properties[i].key);
                free(p->properties[i].value);
        }
        free(p->properties);
        for (size_t i = 0; i < p->n_grants; i++)
                free(p->grants[i]);
}

void udkd_personality_set_finish(struct udkd_personality_set *set)
{
        for (size_t i = 0; i < set->n_items; i++)
                personality_finish(&set->items[i]);
        free(set->items);
        for (size_t i = 0; i < set->n_errors; i++)
                free(set->errors[i]);
        free(set->errors);
        udkd_personality_set_init(set);
}

struct parser {
        struct udkd_personality_set *set;
        const char *path;
        char *dir; /* the file's folder, for relative drivers */
        bool check_driver;
        size_t first; /* the file's first personality in set->items */
        unsigned line;
        char *err;
        size_t err_size;
        unsigned sandbox_line; /* the current section's sandbox key */
};

#define parse_error(p, ...) \
        (udkd_ini_error((p)->err, (p)->err_size, (p)->path, (p)->line, __VA_ARGS__), -EINVAL)

static struct udkd_personality *current(struct parser *p)
{
        return &p->set->items[p->set->n_items - 1];
}

/* What a finished section must have. */
static int section_end(struct parser *p)
{
        struct udkd_personality *cur;

        if (p->set->n_items == p->first)
                return 0;
        cur = current(p);
        if (!cur->name)
                return udkd_ini_error(p->err, p->err_size, p->path, cur->line,
                                      "[personality] without a name"),
                       -EINVAL;
        if (cur->family == UDKD_FAMILY_COUNT)
                return udkd_ini_error(p->err, p->err_size, p->path, cur->line,
                                      "[personality] '%s' without a family", cur->name),
                       -EINVAL;
        if (!cur->driver)
                return udkd_ini_error(p->err, p->err_size, p->path, cur->line,
                                      "[personality] '%s' without a driver", cur->name),
                       -EINVAL;
        if (cur->sandbox_udev && cur->family != UDKD_FAMILY_ROOT)
                return udkd_ini_error(p->err, p->err_size, p->path, p->sandbox_line,
                                      "sandbox = udev is for bus drivers only (family = root), not family %s",
                                      udkd_family_name(cur->family)),
                       -EINVAL;
        if (cur->sandbox_udev && cur->host)
                return udkd_ini_error(p->err, p->err_size, p->path, p->sandbox_line,
                                      "sandbox = udev runs in a host of its own: no host key"),
                       -EINVAL;
        return 0;
}

static int section_begin(void *userdata, unsigned line, const char *name)
{
        struct parser *p = userdata;
        struct udkd_personality_set *set = p->set;
        struct udkd_personality *items, *cur;
        int r;

        p->line = line;
        r = section_end(p);
        if (r < 0)
                return r;
        if (strcmp(name, "personality") != 0)
                return parse_error(p, "unknown section [%s] (only [personality])", name);
        if (set->n_items - p->first >= UDKD_PERSONALITIES_PER_FILE_MAX)
                return parse_error(p, "too many personalities in one file (at most %u)",
                                   UDKD_PERSONALITIES_PER_FILE_MAX);
        items = reallocarray(set->items, set->n_items + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        set->items = items;
        cur = &items[set->n_items];
        *cur = (struct udkd_personality){
                .line = line,
                .family = UDKD_FAMILY_COUNT, /* not given yet */
                .restart = UDKD_RESTART_ON_FAILURE,
                .restart_limit_count = UDKD_RESTART_LIMIT_DEFAULT_COUNT,
                .restart_limit_window_ms = UDKD_RESTART_LIMIT_DEFAULT_WINDOW_MS,
                .start_timeout_ms = UDKD_START_TIMEOUT_DEFAULT_MS,
                .stop_timeout_ms = UDKD_STOP_TIMEOUT_DEFAULT_MS,
                .heartbeat_ms = UDKD_HEARTBEAT_DEFAULT_MS,
                .restart_delay_ms = UDKD_RESTART_DELAY_DEFAULT_MS,
                .restart_delay_max_ms = UDKD_RESTART_DELAY_MAX_DEFAULT_MS,
                .restart_reset_ms = UDKD_RESTART_RESET_DEFAULT_MS,
        };
        cur->path = strdup(p->path);
        cur->rules = calloc(UDKD_PERSONALITY_RULES_MAX, sizeof(*cur->rules));
        cur->properties = calloc(UDKD_PERSONALITY_PROPS_MAX, sizeof(*cur->properties));
        set->n_items++;
        return cur->path && cur->rules && cur->properties ? 0 : -ENOMEM;
}

/* Property names: [A-Za-z0-9_], 1..63 characters. */
static bool property_is_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len >= UDK_OBJECT_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        return true;
}

/* Class names are C identifiers of at most 63 characters. */
static bool class_is_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len >= UDK_OBJECT_NAME_MAX || isdigit((unsigned char)s[0]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        return true;
}

/* fnmatch(3) takes any pattern; refuse the ones that cannot mean what their author meant. */
static const char *glob_problem(const char *g)
{
        for (const char *s = g; *s; s++) {
                if (*s == '\\') {
                        if (!s[1])
                                return "it ends in a lone '\\'";
                        s++;
                } else if (*s == '[') {
                        const char *c = s + 1;

                        if (*c == '!' || *c == '^')
                                c++;
                        if (*c == ']')
                                c++; /* a ']' first is a member */
                        c = strchr(c, ']');
                        if (!c)
                                return "'[' without its ']'";
                        s = c;
                }
        }
        return NULL;
}

static int parse_rule(struct parser *p, struct udkd_personality *cur, const char *key, const char *property,
                      const char *value)
{
        struct udkd_match_rule *rule;
        const char *dash = value[0] ? strchr(value + 1, '-') : NULL;
        int64_t lo = 0, hi = 0;
        enum udkd_rule_kind kind;
        bool numeric = false;

        if (!property_is_valid(property))
                return parse_error(p, "bad property name in '%s' (letters, digits, '_'; at most %u)", key,
                                   UDK_OBJECT_NAME_MAX - 1);
        if (cur->n_rules >= UDKD_PERSONALITY_RULES_MAX)
                return parse_error(p, "too many match rules (at most %u)", UDKD_PERSONALITY_RULES_MAX);

        if (strcmp(property, "modalias") == 0) {
                const char *problem = glob_problem(value);

                if (problem)
                        return parse_error(p, "bad glob '%s' for %s: %s", value, key, problem);
                kind = UDKD_RULE_GLOB;
        } else {
                char first[UDKD_PERSONALITY_VALUE_MAX];

                /* LO-HI when what comes before the dash is a number; else a plain value. */
                if (dash) {
                        memcpy(first, value, (size_t)(dash - value));
                        first[dash - value] = '\0';
                }
                if (dash && udk_parse_int64(first, INT64_MIN, INT64_MAX, &lo) == 0) {
                        if (udk_parse_int64(dash + 1, INT64_MIN, INT64_MAX, &hi) < 0)
                                return parse_error(p, "bad range '%s' for %s: '%s' is not a number", value,
                                                   key, dash + 1);
                        if (lo > hi)
                                return parse_error(p, "bad range '%s' for %s: %s is above %s", value, key,
                                                   first, dash + 1);
                        kind = UDKD_RULE_RANGE;
                } else {
                        kind = UDKD_RULE_EQUAL;
                        numeric = udk_parse_int64(value, INT64_MIN, INT64_MAX, &lo) == 0;
                }
        }

        rule = &cur->rules[cur->n_rules];
        *rule = (struct udkd_match_rule){
                .kind = kind, .numeric = numeric, .lo = lo, .hi = hi, .line = p->line
        };
        rule->property = strdup(property);
        rule->value = strdup(value);
        cur->n_rules++;
        return rule->property && rule->value ? 0 : -ENOMEM;
}

static const struct {
        const char *unit;
        uint64_t ms;
} duration_units[] = { { "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "h", 3600000 } };

/* "5/30min": COUNT restarts in a window of DURATION (ms, s, min, h); "none": no limit. */
static int parse_restart_limit(struct parser *p, struct udkd_personality *cur, const char *value)
{
        char count[UDKD_PERSONALITY_VALUE_MAX], amount[UDKD_PERSONALITY_VALUE_MAX];
        const char *slash = strchr(value, '/'), *unit;
        int64_t c, a;

        if (strcmp(value, "none") == 0) {
                cur->restart_limit_count = 0;
                cur->restart_limit_window_ms = 0;
                return 0;
        }
        if (!slash)
                goto bad;
        memcpy(count, value, (size_t)(slash - value));
        count[slash - value] = '\0';
        unit = slash + 1;
        while (isdigit((unsigned char)*unit))
                unit++;
        memcpy(amount, slash + 1, (size_t)(unit - slash - 1));
        amount[unit - slash - 1] = '\0';
        if (udk_parse_int64(count, 1, RESTART_COUNT_MAX, &c) < 0 ||
            udk_parse_int64(amount, 1, INT32_MAX, &a) < 0)
                goto bad;
        for (size_t i = 0; i < UDK_ELEMENTSOF(duration_units); i++) {
                if (strcmp(unit, duration_units[i].unit) != 0)
                        continue;
                if ((uint64_t)a * duration_units[i].ms > RESTART_WINDOW_MAX_MS)
                        goto bad;
                cur->restart_limit_count = (uint32_t)c;
                cur->restart_limit_window_ms = (uint64_t)a * duration_units[i].ms;
                return 0;
        }
bad:
        return parse_error(p,
                           "bad restart_limit '%s' (COUNT/DURATION as in 5/30min: COUNT 1..%u, DURATION "
                           "up to 24h in ms, s, min or h; or none)",
                           value, UDKD_RESTART_LIMIT_COUNT_MAX);
}

/*
 * A duration: AMOUNT with a unit (ms, s, min, h), or a bare 0, within
 * @min_ms..@max_ms.  Durations are the time-outs and the back-off's.
 */
static int parse_duration(struct parser *p, const char *key, const char *value, uint64_t min_ms,
                          uint64_t max_ms, uint64_t *ret)
{
        char amount[UDKD_PERSONALITY_VALUE_MAX], range[96];
        const char *unit = value;
        int64_t a;

        while (isdigit((unsigned char)*unit))
                unit++;
        memcpy(amount, value, (size_t)(unit - value));
        amount[unit - value] = '\0';
        if (udk_parse_int64(amount, 0, INT32_MAX, &a) == 0) {
                if (a == 0 && !*unit) {
                        if (min_ms > 0)
                                goto bad;
                        *ret = 0;
                        return 0;
                }
                for (size_t i = 0; i < UDK_ELEMENTSOF(duration_units); i++) {
                        uint64_t ms = (uint64_t)a * duration_units[i].ms;

                        if (strcmp(unit, duration_units[i].unit) != 0)
                                continue;
                        if (ms < min_ms || ms > max_ms)
                                goto bad;
                        *ret = ms;
                        return 0;
                }
        }
bad:
        if (min_ms == 0)
                snprintf(range, sizeof(range), "0");
        else
                snprintf(range, sizeof(range), "%llums", (unsigned long long)min_ms);
        return parse_error(p, "bad %s '%s' (a duration from %s to %lluh in ms, s, min or h, as in 5s)", key,
                           value, range, (unsigned long long)(max_ms / 3600000));
}

/* property.KEY: a key the driver can ask for, handed over as it is. */
static int parse_property(struct parser *p, struct udkd_personality *cur, const char *key, const char *name,
                          const char *value)
{
        struct udkd_personality_property *prop;

        if (!property_is_valid(name) || strlen(name) >= UDKD_PERSONALITY_PROP_KEY_MAX)
                return parse_error(p, "bad property name in '%s' (letters, digits, '_'; at most %u)", key,
                                   UDKD_PERSONALITY_PROP_KEY_MAX - 1);
        if (strlen(value) >= UDKD_PERSONALITY_PROP_VALUE_MAX)
                return parse_error(p, "value of '%s' too long (%zu bytes, at most %u)", key, strlen(value),
                                   UDKD_PERSONALITY_PROP_VALUE_MAX - 1);
        if (cur->n_properties >= UDKD_PERSONALITY_PROPS_MAX)
                return parse_error(p, "too many property keys (at most %u)", UDKD_PERSONALITY_PROPS_MAX);
        prop = &cur->properties[cur->n_properties];
        prop->key = strdup(name);
        prop->value = strdup(value);
        cur->n_properties++;
        return prop->key && prop->value ? 0 : -ENOMEM;
}

/* grant = PATH[, PATH...]: files udkd opens read-only for the driver, in order (the INI dialect takes a
 * key once, so several are one list). */
static int parse_grants(struct parser *p, struct udkd_personality *cur, char *value)
{
        char *item = value;

        for (;;) {
                char *comma = strchr(item, ','), *path;

                if (comma)
                        *comma = '\0';
                item = udkd_ini_trim(item);
                if (!*item)
                        return parse_error(p, "empty item in grant list");
                if (cur->n_grants >= UDKD_PERSONALITY_GRANTS_MAX)
                        return parse_error(p, "too many grants (at most %u)", UDKD_PERSONALITY_GRANTS_MAX);
                if (item[0] == '/')
                        path = strdup(item);
                else if (asprintf(&path, "%s/%s", p->dir, item) < 0)
                        path = NULL;
                if (!path)
                        return -ENOMEM;
                cur->grants[cur->n_grants++] = path;
                if (!comma)
                        return 0;
                item = comma + 1;
        }
}

static int parse_driver(struct parser *p, struct udkd_personality *cur, const char *value)
{
        struct stat st;

        if (value[0] == '/')
                cur->driver = strdup(value);
        else if (asprintf(&cur->driver, "%s/%s", p->dir, value) < 0)
                cur->driver = NULL;
        if (!cur->driver)
                return -ENOMEM;
        if (!p->check_driver)
                return 0;
        if (stat(cur->driver, &st) < 0)
                return parse_error(p, "driver %s: %s", cur->driver, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return parse_error(p, "driver %s is not a regular file", cur->driver);
        return 0;
}

static int dup_value(char **field, const char *value)
{
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}

static int key_value(void *userdata, unsigned line, const char *key, char *value)
{
        struct parser *p = userdata;
        struct udkd_personality *cur = current(p);
        size_t len = strlen(value);
        int64_t v;
        int r;

        p->line = line;
        if (len >= UDKD_PERSONALITY_VALUE_MAX)
                return parse_error(p, "value of '%s' too long (%zu bytes, at most %u)", key, len,
                                   UDKD_PERSONALITY_VALUE_MAX - 1);
        if (strncmp(key, "match.", 6) == 0)
                return parse_rule(p, cur, key, key + 6, value);
        if (strncmp(key, "property.", 9) == 0)
                return parse_property(p, cur, key, key + 9, value);
        if (strcmp(key, "grant") == 0)
                return parse_grants(p, cur, value);
        if (strcmp(key, "sandbox") == 0) {
                /* What a driver may reach beyond its descriptors; one kind so far. */
                if (strcmp(value, "udev") != 0)
                        return parse_error(p, "unknown sandbox '%s' (udev)", value);
                cur->sandbox_udev = true;
                p->sandbox_line = line;
                return 0;
        }
        if (strcmp(key, "start_timeout") == 0)
                return parse_duration(p, key, value, 1, DURATION_MAX_MS, &cur->start_timeout_ms);
        if (strcmp(key, "stop_timeout") == 0)
                return parse_duration(p, key, value, 1, DURATION_MAX_MS, &cur->stop_timeout_ms);
        if (strcmp(key, "heartbeat") == 0)
                return parse_duration(p, key, value, HEARTBEAT_MIN_MS, DURATION_MAX_MS, &cur->heartbeat_ms);
        if (strcmp(key, "restart_delay") == 0)
                return parse_duration(p, key, value, 0, DURATION_MAX_MS, &cur->restart_delay_ms);
        if (strcmp(key, "restart_delay_max") == 0)
                return parse_duration(p, key, value, 0, RESTART_WINDOW_MAX_MS, &cur->restart_delay_max_ms);
        if (strcmp(key, "restart_reset") == 0)
                return parse_duration(p, key, value, 1, RESTART_WINDOW_MAX_MS, &cur->restart_reset_ms);
        if (strcmp(key, "name") == 0) {
                if (!udkd_ini_name_is_valid(value, len))
                        return parse_error(
                                p, "bad personality name '%s' (letters, digits, '_', '.', '-'; at most %u)",
                                value, UDK_OBJECT_NAME_MAX - 1);
                for (size_t i = 0; i + 1 < p->set->n_items; i++) {
                        const struct udkd_personality *o = &p->set->items[i];

                        if (o->name && strcmp(o->name, value) == 0)
                                return parse_error(p, "duplicate personality name '%s' (first at %s:%u)",
                                                   value, o->path, o->line);
                }
                return dup_value(&cur->name, value);
        }
        if (strcmp(key, "family") == 0) {
                if (udkd_family_from_name(value, &cur->family) < 0)
                        return parse_error(p, "unknown family '%s' (test, usb, pci, hid, serial, root)", value);
                return 0;
        }
        if (strcmp(key, "probe_score") == 0) {
                r = udk_parse_int64(value, -PROBE_SCORE_MAX, PROBE_SCORE_MAX, &v);
                if (r == -ERANGE)
                        return parse_error(p, "probe_score %s out of range (%d..%d)", value,
                                           -PROBE_SCORE_MAX, PROBE_SCORE_MAX);
                if (r < 0)
                        return parse_error(p, "probe_score '%s' is not a number", value);
                cur->probe_score = v;
                return 0;
        }
        if (strcmp(key, "driver") == 0)
                return parse_driver(p, cur, value);
        if (strcmp(key, "class") == 0) {
                if (!class_is_valid(value))
                        return parse_error(p,
                                           "bad class name '%s' (a C identifier of at most %u characters)",
                                           value, UDK_OBJECT_NAME_MAX - 1);
                return dup_value(&cur->class_name, value);
        }
        if (strcmp(key, "restart") == 0) {
                for (int i = 0; i < UDKD_RESTART_COUNT; i++)
                        if (strcmp(value, restart_names[i]) == 0) {
                                cur->restart = (enum udkd_restart)i;
                                return 0;
                        }
                return parse_error(p, "unknown restart policy '%s' (no, on-failure, always)", value);
        }
        if (strcmp(key, "restart_limit") == 0)
                return parse_restart_limit(p, cur, value);
        if (strcmp(key, "host") == 0) {
                if (!udkd_ini_name_is_valid(value, len))
                        return parse_error(p,
                                           "bad host key '%s' (letters, digits, '_', '.', '-'; at most %u)",
                                           value, UDK_OBJECT_NAME_MAX - 1);
                return dup_value(&cur->host, value);
        }
        if (strcmp(key, "fallback") == 0) {
                if (udkd_ini_parse_bool(value, &cur->fallback) < 0)
                        return parse_error(p, "fallback '%s' is neither yes nor no", value);
                return 0;
        }
        return parse_error(p, "unknown key '%s' in [personality]", key);
}

static char *folder_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

int udkd_personalities_parse(struct udkd_personality_set *set, const char *path, const char *text,
                             size_t size, bool check_driver, char *err, size_t err_size)
{
        static const struct udkd_ini_ops ops = { .section = section_begin, .key = key_value };
        struct parser p = { .set = set,
                            .path = path,
                            .check_driver = check_driver,
                            .first = set->n_items,
                            .err = err,
                            .err_size = err_size };
        int r;

        p.dir = folder_of(path);
        if (!p.dir) {
                udkd_ini_error(err, err_size, path, 0, "%s", strerror(ENOMEM));
                return -ENOMEM;
        }
        r = udkd_ini_walk(path, text, size, UDKD_PERSONALITY_KEYS_MAX, &ops, &p, err, err_size);
        if (r == 0) {
                p.line = 0;
                r = section_end(&p);
        }
        if (r == 0 && set->n_items == p.first)
                r = parse_error(&p, "no [personality] section");
        free(p.dir);
        if (r < 0) {
                while (set->n_items > p.first)
                        personality_finish(&set->items[--set->n_items]);
        }
        return r;
}

int udkd_personalities_load_file(struct udkd_personality_set *set, const char *path, char *err,
                                 size_t err_size)
{
        _udk_cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = udkd_ini_read_file(path, &text, &size, err, err_size);
        if (r < 0)
                return r;
        return udkd_personalities_parse(set, path, text, size, true, err, err_size);
}

static int add_error(struct udkd_personality_set *set, const char *sentence)
{
        char **errors = reallocarray(set->errors, set->n_errors + 1, sizeof(*errors));

        if (!errors)
                return -ENOMEM;
        set->errors = errors;
        errors[set->n_errors] = strdup(sentence);
        if (!errors[set->n_errors])
                return -ENOMEM;
        set->n_errors++;
        return 0;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
        size_t len = strlen(name);

        return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static void free_names(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

int udkd_personalities_load_folder(struct udkd_personality_set *set, const char *dir, char *err,
                                   size_t err_size)
{
        char **names = NULL, sentence[UDKD_PERSONALITY_ERR_MAX];
        size_t n_names = 0, skipped = 0;
        int fd, r = 0, loaded = 0;
        struct dirent *de;
        DIR *d;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                udkd_ini_error(err, err_size, dir, 0, "%s", strerror(-r));
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (!is_conf_name(de->d_name))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n_names % 64 == 0) {
                        char **bigger = reallocarray(names, n_names + 64, sizeof(*names));

                        if (!bigger) {
                                r = -ENOMEM;
                                break;
                        }
                        names = bigger;
                }
                names[n_names] = strdup(de->d_name);
                if (!names[n_names]) {
                        r = -ENOMEM;
                        break;
                }
                n_names++;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0) {
                free_names(names, n_names);
                udkd_ini_error(err, err_size, dir, 0, "%s", strerror(-r));
                return r;
        }

        /* Name order, so that loading is the same on every file system. */
        qsort(names, n_names, sizeof(*names), compare_names);
        if (n_names > UDKD_PERSONALITY_FILES_MAX)
                skipped = n_names - UDKD_PERSONALITY_FILES_MAX;
        for (size_t i = 0; i < n_names - skipped; i++) {
                _udk_cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
                        path = NULL;
                        r = -ENOMEM;
                        break;
                }
                r = udkd_personalities_load_file(set, path, sentence, sizeof(sentence));
                if (r == 0) {
                        loaded++;
                        continue;
                }
                r = add_error(set, sentence);
                if (r < 0)
                        break;
        }
        if (r == 0 && skipped > 0) {
                udkd_ini_error(sentence, sizeof(sentence), dir, 0,
                               "too many personality files (at most %u): %zu left out",
                               UDKD_PERSONALITY_FILES_MAX, skipped);
                r = add_error(set, sentence);
        }
        free_names(names, n_names);
        if (r < 0) {
                udkd_ini_error(err, err_size, dir, 0, "%s", strerror(-r));
                return r;
        }
        return loaded;
}
