/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <udk/control.h>
#include <udk/util.h>

/* Text longer than this is not a value of any control. */
#define CONTROL_TEXT_MAX 64

static void control_init(struct udk_control *c, udk_object_id parent, const char *name,
                         enum udk_control_kind kind)
{
        memset(c, 0, sizeof(*c));
        udk_object_init(&c->obj, UDK_CLASS_CONTROL, parent, name);
        c->kind = kind;
        atomic_init(&c->generation, 0);
}

/* Values are stored before the generation moves, so a watcher that sees the
 * new generation (acquire) sees the new value. */
static void control_changed(struct udk_control *c)
{
        atomic_fetch_add_explicit(&c->generation, 1, memory_order_release);
}

UDK_EXPORT float udk_level_scalar_to_db(float scalar, float min_db, float max_db)
{
        /* The ends are exact whatever the rounding in between. */
        if (!(scalar > 0.0f))
                return min_db;
        if (scalar >= 1.0f)
                return max_db;
        return (float)((double)min_db + (double)scalar * ((double)max_db - (double)min_db));
}

UDK_EXPORT float udk_level_db_to_scalar(float db, float min_db, float max_db)
{
        if (!(db > min_db) || !(max_db > min_db))
                return 0.0f;
        if (db >= max_db)
                return 1.0f;
        return (float)(((double)db - (double)min_db) / ((double)max_db - (double)min_db));
}

UDK_EXPORT float udk_level_db_to_gain(float db, float min_db)
{
        if (isnan(db) || (db <= min_db && min_db <= UDK_LEVEL_SILENT_DB))
                return 0.0f;
        return (float)pow(10.0, (double)db / 20.0);
}

static bool level_valid(float min_db, float max_db)
{
        return isfinite(min_db) && isfinite(max_db) && min_db < max_db;
}

/* Both values are worked out here, on the control thread, so the RT thread only loads. */
static void level_store(struct udk_control *c, float db)
{
        atomic_store_explicit(&c->level.gain, udk_level_db_to_gain(db, c->level.min_db),
                              memory_order_relaxed);
        atomic_store_explicit(&c->level.db, db, memory_order_relaxed);
}

UDK_EXPORT int udk_control_init_level(struct udk_control *c, udk_object_id parent, const char *name,
                                      float min_db, float max_db, float default_db)
{
        if (!c || !name || !level_valid(min_db, max_db) || !(default_db >= min_db && default_db <= max_db))
                return -EINVAL;
        control_init(c, parent, name, UDK_CONTROL_LEVEL);
        c->level.min_db = min_db;
        c->level.max_db = max_db;
        level_store(c, default_db);
        return 0;
}

UDK_EXPORT int udk_control_level_set_db(struct udk_control *c, float db)
{
        if (!c || c->kind != UDK_CONTROL_LEVEL || !isfinite(db))
                return -EINVAL;
        if (db < c->level.min_db || db > c->level.max_db)
                return -ERANGE;
        level_store(c, db);
        control_changed(c);
        return 0;
}

UDK_EXPORT int udk_control_level_set_scalar(struct udk_control *c, float scalar)
{
        if (!c || c->kind != UDK_CONTROL_LEVEL || isnan(scalar))
                return -EINVAL;
        if (scalar < 0.0f || scalar > 1.0f)
                return -ERANGE;
        return udk_control_level_set_db(c, udk_level_scalar_to_db(scalar, c->level.min_db, c->level.max_db));
}

/* The getters read another kind's union member as 0 (silence, off), never as garbage. */
UDK_EXPORT float udk_control_level_db(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_LEVEL))
                return 0.0f;
        return atomic_load_explicit(&c->level.db, memory_order_relaxed);
}

UDK_EXPORT float udk_control_level_scalar(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_LEVEL))
                return 0.0f;
        return udk_level_db_to_scalar(udk_control_level_db(c), c->level.min_db, c->level.max_db);
}

UDK_EXPORT float udk_control_level_gain(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_LEVEL))
                return 0.0f;
        return atomic_load_explicit(&c->level.gain, memory_order_relaxed);
}

UDK_EXPORT int udk_control_init_boolean(struct udk_control *c, udk_object_id parent, const char *name,
                                        bool default_value)
{
        if (!c || !name)
                return -EINVAL;
        control_init(c, parent, name, UDK_CONTROL_BOOLEAN);
        atomic_store_explicit(&c->boolean.value, default_value, memory_order_relaxed);
        return 0;
}

UDK_EXPORT int udk_control_boolean_set(struct udk_control *c, bool value)
{
        if (!c || c->kind != UDK_CONTROL_BOOLEAN)
                return -EINVAL;
        atomic_store_explicit(&c->boolean.value, value, memory_order_relaxed);
        control_changed(c);
        return 0;
}

UDK_EXPORT bool udk_control_boolean_get(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_BOOLEAN))
                return false;
        return atomic_load_explicit(&c->boolean.value, memory_order_relaxed);
}

static const struct udk_selector_item *selector_find_value(const struct udk_control *c, int32_t value)
{
        for (uint32_t i = 0; i < c->selector.n_items; i++)
                if (c->selector.items[i].value == value)
                        return &c->selector.items[i];
        return NULL;
}

static const struct udk_selector_item *selector_find_name(const struct udk_control *c, const char *name)
{
        for (uint32_t i = 0; i < c->selector.n_items; i++)
                if (strcasecmp(c->selector.items[i].name, name) == 0)
                        return &c->selector.items[i];
        return NULL;
}

static bool selector_items_valid(const struct udk_selector_item *items, uint32_t n_items)
{
        if (!items || n_items == 0 || n_items > UDK_SELECTOR_ITEMS_MAX)
                return false;
        for (uint32_t i = 0; i < n_items; i++) {
                const char *name = items[i].name;

                if (name[0] == '\0' || !memchr(name, '\0', UDK_SELECTOR_NAME_MAX))
                        return false;
                /* Unique values, and unique names since a name selects an item too. */
                for (uint32_t j = 0; j < i; j++)
                        if (items[j].value == items[i].value || strcasecmp(items[j].name, name) == 0)
                                return false;
        }
        return true;
}

UDK_EXPORT int udk_control_init_selector(struct udk_control *c, udk_object_id parent, const char *name,
                                         const struct udk_selector_item *items, uint32_t n_items,
                                         int32_t default_value)
{
        if (!c || !name || !selector_items_valid(items, n_items))
                return -EINVAL;
        for (uint32_t i = 0;; i++) {
                if (i == n_items)
                        return -EINVAL; /* the default is not an item */
                if (items[i].value == default_value)
                        break;
        }
        control_init(c, parent, name, UDK_CONTROL_SELECTOR);
        c->selector.n_items = n_items;
        memcpy(c->selector.items, items, n_items * sizeof(*items));
        atomic_store_explicit(&c->selector.value, default_value, memory_order_relaxed);
        return 0;
}

UDK_EXPORT int udk_control_selector_set(struct udk_control *c, int32_t value)
{
        if (!c || c->kind != UDK_CONTROL_SELECTOR || !selector_find_value(c, value))
                return -EINVAL;
        atomic_store_explicit(&c->selector.value, value, memory_order_relaxed);
        control_changed(c);
        return 0;
}

UDK_EXPORT int32_t udk_control_selector_get(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_SELECTOR))
                return 0;
        return atomic_load_explicit(&c->selector.value, memory_order_relaxed);
}

UDK_EXPORT int udk_control_init_number(struct udk_control *c, udk_object_id parent, const char *name,
                                       float min, float max, float default_value)
{
        if (!c || !name || !isfinite(min) || !isfinite(max) || !(min < max) ||
            !(default_value >= min && default_value <= max))
                return -EINVAL;
        control_init(c, parent, name, UDK_CONTROL_NUMBER);
        c->number.min = min;
        c->number.max = max;
        atomic_store_explicit(&c->number.value, default_value, memory_order_relaxed);
        return 0;
}

UDK_EXPORT int udk_control_number_set(struct udk_control *c, float value)
{
        if (!c || c->kind != UDK_CONTROL_NUMBER || !isfinite(value))
                return -EINVAL;
        if (value < c->number.min || value > c->number.max)
                return -ERANGE;
        atomic_store_explicit(&c->number.value, value, memory_order_relaxed);
        control_changed(c);
        return 0;
}

UDK_EXPORT float udk_control_number_get(const struct udk_control *c)
{
        if (UDK_UNLIKELY(c->kind != UDK_CONTROL_NUMBER))
                return 0.0f;
        return atomic_load_explicit(&c->number.value, memory_order_relaxed);
}

UDK_EXPORT const char *udk_control_kind_name(enum udk_control_kind kind)
{
        switch (kind) {
        case UDK_CONTROL_LEVEL:
                return "level";
        case UDK_CONTROL_BOOLEAN:
                return "boolean";
        case UDK_CONTROL_SELECTOR:
                return "selector";
        case UDK_CONTROL_NUMBER:
                return "number";
        }
        return NULL;
}

/* Copy @text into @buf without surrounding white space; -EINVAL if empty or too long. */
static int text_trim(const char *text, char *buf, size_t size)
{
        size_t len;

        while (isspace((unsigned char)*text))
                text++;
        len = strlen(text);
        while (len > 0 && isspace((unsigned char)text[len - 1]))
                len--;
        if (len == 0 || len >= size)
                return -EINVAL;
        memcpy(buf, text, len);
        buf[len] = '\0';
        return 0;
}

static int level_set_from_string(struct udk_control *c, char *text)
{
        size_t len = strlen(text);
        double db;
        int r;

        /* An optional "dB" unit, with or without a space before it. */
        if (len > 2 && strcasecmp(text + len - 2, "db") == 0) {
                len -= 2;
                while (len > 0 && isspace((unsigned char)text[len - 1]))
                        len--;
                text[len] = '\0';
                if (len == 0)
                        return -EINVAL;
        }
        if (strcasecmp(text, "-inf") == 0)
                return c->level.min_db <= UDK_LEVEL_SILENT_DB ? udk_control_level_set_db(c, c->level.min_db)
                                                              : -ERANGE;
        r = udk_parse_double(text, -FLT_MAX, FLT_MAX, &db);
        if (r < 0)
                return r;
        return udk_control_level_set_db(c, (float)db);
}

static int boolean_set_from_string(struct udk_control *c, const char *text)
{
        static const char *const on[] = {"on", "true", "yes", "1"};
        static const char *const off[] = {"off", "false", "no", "0"};

        for (size_t i = 0; i < UDK_ELEMENTSOF(on); i++) {
                if (strcasecmp(text, on[i]) == 0)
                        return udk_control_boolean_set(c, true);
                if (strcasecmp(text, off[i]) == 0)
                        return udk_control_boolean_set(c, false);
        }
        return -EINVAL;
}

static int selector_set_from_string(struct udk_control *c, const char *text)
{
        const struct udk_selector_item *item = NULL;
        int64_t value;

        /* An item's value first, then its name. */
        if (udk_parse_int64(text, INT32_MIN, INT32_MAX, &value) == 0)
                item = selector_find_value(c, (int32_t)value);
        if (!item)
                item = selector_find_name(c, text);
        if (!item)
                return -EINVAL;
        return udk_control_selector_set(c, item->value);
}

static int number_set_from_string(struct udk_control *c, const char *text)
{
        double value;
        int r;

        r = udk_parse_double(text, -FLT_MAX, FLT_MAX, &value);
        if (r < 0)
                return r;
        return udk_control_number_set(c, (float)value);
}

UDK_EXPORT int udk_control_set_from_string(struct udk_control *c, const char *text)
{
        char buf[CONTROL_TEXT_MAX];
        int r;

        if (!c || !text)
                return -EINVAL;
        r = text_trim(text, buf, sizeof(buf));
        if (r < 0)
                return r;
        switch (c->kind) {
        case UDK_CONTROL_LEVEL:
                return level_set_from_string(c, buf);
        case UDK_CONTROL_BOOLEAN:
                return boolean_set_from_string(c, buf);
        case UDK_CONTROL_SELECTOR:
                return selector_set_from_string(c, buf);
        case UDK_CONTROL_NUMBER:
                return number_set_from_string(c, buf);
        }
        return -EINVAL;
}

UDK_EXPORT int udk_control_format(const struct udk_control *c, char *buf, size_t size)
{
        const struct udk_selector_item *item;
        double db;
        int32_t value;

        if (!c || (!buf && size > 0))
                return -EINVAL;
        switch (c->kind) {
        case UDK_CONTROL_LEVEL:
                db = udk_control_level_db(c);
                if (db <= c->level.min_db && c->level.min_db <= UDK_LEVEL_SILENT_DB)
                        return snprintf(buf, size, "-inf dB");
                /* No "-0.0 dB" for a level just under 0. */
                db = round(db * 10.0) / 10.0;
                return snprintf(buf, size, "%.1f dB", db == 0.0 ? 0.0 : db);
        case UDK_CONTROL_BOOLEAN:
                return snprintf(buf, size, "%s", udk_control_boolean_get(c) ? "on" : "off");
        case UDK_CONTROL_SELECTOR:
                value = udk_control_selector_get(c);
                item = selector_find_value(c, value);
                if (item)
                        return snprintf(buf, size, "%s", item->name);
                return snprintf(buf, size, "%" PRId32, value);
        case UDK_CONTROL_NUMBER:
                return snprintf(buf, size, "%g", (double)udk_control_number_get(c));
        }
        return -EINVAL;
}
