/* SPDX-License-Identifier: MIT */
/*
 * Controls, after AudioDriverKit's IOUserAudioLevelControl,
 * IOUserAudioBooleanControl and IOUserAudioSelectorControl.
 *
 * The control thread sets values; the RT thread reads them with one atomic
 * load each, at the start of a cycle, so a change takes effect on the next
 * cycle and never mid-period.
 *
 * Level controls map a scalar in [0, 1] linearly onto their dB range:
 *   dB = min_db + scalar * (max_db - min_db)
 * and a level at min_db when min_db <= UDK_LEVEL_SILENT_DB means silence
 * (gain 0), as the bottom of a fader does; otherwise gain = 10^(dB / 20).
 *
 * Setters run on the control thread, store the value (a level stores its
 * gain too), then bump the generation with release order, on every
 * successful call even if the value is the same.  A setter or a
 * getter called on a control of another kind returns -EINVAL or 0/false.
 */
#ifndef UDK_CONTROL_H
#define UDK_CONTROL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/object.h>

#define UDK_LEVEL_SILENT_DB     (-96.0f)
#define UDK_SELECTOR_ITEMS_MAX  32
#define UDK_SELECTOR_NAME_MAX   32

enum udk_control_kind {
        UDK_CONTROL_LEVEL = 0,
        UDK_CONTROL_BOOLEAN,
        UDK_CONTROL_SELECTOR,
        UDK_CONTROL_NUMBER, /* a plain value in a range (a slider): frequency, Q */
};

struct udk_selector_item {
        int32_t value;
        char name[UDK_SELECTOR_NAME_MAX];
};

struct udk_control {
        struct udk_object obj;
        enum udk_control_kind kind;
        union {
                struct {
                        float min_db, max_db;
                        _Atomic float db;   /* set by the control thread */
                        _Atomic float gain; /* linear, derived from db when set */
                } level;
                struct {
                        _Atomic bool value;
                } boolean;
                struct {
                        uint32_t n_items;
                        struct udk_selector_item items[UDK_SELECTOR_ITEMS_MAX];
                        _Atomic int32_t value;
                } selector;
                struct {
                        float min, max;
                        _Atomic float value;
                } number;
        };
        _Atomic uint32_t generation; /* bumped on every change, for watchers */
};

/* Initialise in place (no allocation).  -EINVAL for min_db >= max_db or a default out of range. */
int udk_control_init_level(struct udk_control *c, udk_object_id parent, const char *name, float min_db,
                           float max_db, float default_db);
int udk_control_init_boolean(struct udk_control *c, udk_object_id parent, const char *name, bool default_value);
/* -EINVAL for no items, too many, duplicate values, or a default that is not an item;
 * also for an empty or unterminated item name, or two names equal ignoring case. */
int udk_control_init_selector(struct udk_control *c, udk_object_id parent, const char *name,
                              const struct udk_selector_item *items, uint32_t n_items, int32_t default_value);

/* -EINVAL if @db is not finite, -ERANGE outside [min_db, max_db]. */
int udk_control_level_set_db(struct udk_control *c, float db);
/* -ERANGE outside [0, 1], -EINVAL for NaN. */
int udk_control_level_set_scalar(struct udk_control *c, float scalar);
float udk_control_level_db(const struct udk_control *c);     /* RT-safe */
float udk_control_level_scalar(const struct udk_control *c); /* RT-safe */
float udk_control_level_gain(const struct udk_control *c);   /* RT-safe: linear gain */

/* Conversions a level control uses; exposed for tests and clients.  Scalars
 * are clamped to [0, 1] and the ends map exactly onto min_db and max_db. */
float udk_level_db_to_scalar(float db, float min_db, float max_db);
float udk_level_scalar_to_db(float scalar, float min_db, float max_db);
float udk_level_db_to_gain(float db, float min_db); /* 0 at the silent bottom */

int udk_control_boolean_set(struct udk_control *c, bool value);
bool udk_control_boolean_get(const struct udk_control *c); /* RT-safe */

/* -EINVAL if @value is not one of the items. */
int udk_control_selector_set(struct udk_control *c, int32_t value);
int32_t udk_control_selector_get(const struct udk_control *c); /* RT-safe */

/* -EINVAL for min >= max or a default out of range. */
int udk_control_init_number(struct udk_control *c, udk_object_id parent, const char *name, float min, float max,
                            float default_value);
/* -EINVAL if not finite, -ERANGE outside [min, max]. */
int udk_control_number_set(struct udk_control *c, float value);
float udk_control_number_get(const struct udk_control *c); /* RT-safe */

/* "level", "boolean", "selector", "number". */
const char *udk_control_kind_name(enum udk_control_kind kind);

/* Parse @text for this control; the errors of the setters above, -EINVAL for unreadable
 * text.  White space around the text is ignored.
 *   level:    "-6", "-6dB", "-6 dB"; "-inf" for min_db when that is silent, else -ERANGE
 *   boolean:  on/off, true/false, yes/no, 1/0, in any case
 *   selector: an item's value (tried first), else its name in any case
 *   number:   a number */
int udk_control_set_from_string(struct udk_control *c, const char *text);

/* Print the value as udk_control_set_from_string() reads it: "-6.0 dB" ("-inf dB" at the
 * silent bottom), "on"/"off", the item's name, the number with %g.  Returns snprintf's count. */
int udk_control_format(const struct udk_control *c, char *buf, size_t size);

#endif
