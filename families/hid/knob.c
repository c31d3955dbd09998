/* SPDX-License-Identifier: MIT */
/*
 * The HID family's example: a volume knob.  It binds a hid nub whose
 * primary usage is Consumer Control (usage page 0x0c, usage 0x01; knob.conf)
 * and creates an audio device in udkd named after the nub, uid
 * "hid-knob:<nub>", on the virtual backend with a gain handler.  Its
 * control:
 *   volume   the knob's level, -60..0 dB, property.volume at first (else
 *            -20): it drives gain.level
 * Each input report moves volume by property.step_db (else 1 dB) per
 * detent, clamped to -60..0: the report's Volume dial (0x0c:0xe0,
 * relative, signed detents) plus Volume Increment (0x0c:0xe9) minus
 * Volume Decrement (0x0c:0xea), whichever of them the device has.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/hid.h>
#include <udk/util.h>

#define VOLUME_MIN_DB     (-60.0)
#define VOLUME_MAX_DB     0.0
#define VOLUME_DEFAULT_DB (-20.0)
#define STEP_DEFAULT_DB   1.0

struct knob_usage {
        const struct udk_hid_field *field; /* NULL: the device has not this usage */
        uint32_t index;
};

struct knob {
        struct udk_driver *drv;
        struct udk_hid_device *hid;
        udk_object_id device;
        double volume_db, step_db;
        struct knob_usage dial, up, down;
};

static int knob_value(const struct knob_usage *u, const uint8_t *report, size_t len, int32_t *ret)
{
        *ret = 0;
        if (!u->field)
                return 0;
        return udk_hid_field_value(u->field, u->index, report, len, ret);
}

static void knob_volume_set(struct knob *k, double db)
{
        char value[32];

        if (db < VOLUME_MIN_DB)
                db = VOLUME_MIN_DB;
        if (db > VOLUME_MAX_DB)
                db = VOLUME_MAX_DB;
        if (db == k->volume_db)
                return;
        snprintf(value, sizeof(value), "%g", db);
        /* udkd does not echo a driver's own moves: the handler follows here. */
        if (udk_driver_device_set_control(k->drv, k->device, "volume", value) < 0 ||
            udk_driver_device_set_control(k->drv, k->device, "gain.level", value) < 0) {
                udk_driver_log(k->drv, UDK_LOG_WARN, "volume %s not applied: %s", value,
                               udk_driver_error(k->drv));
                return;
        }
        k->volume_db = db;
}

static void knob_report(void *data, const uint8_t *report, size_t len)
{
        struct knob *k = data;
        int32_t dial, up, down;

        /* A report of another id (-ENOMSG) carries none of our usages: nothing moves. */
        if (knob_value(&k->dial, report, len, &dial) < 0 || knob_value(&k->up, report, len, &up) < 0 ||
            knob_value(&k->down, report, len, &down) < 0)
                return;
        if (dial + up - down != 0)
                knob_volume_set(k, k->volume_db + k->step_db * (dial + up - down));
}

static void knob_find(const struct udk_hid_descriptor *desc, uint32_t usage, struct knob_usage *ret)
{
        if (udk_hid_descriptor_find(desc, UDK_HID_REPORT_INPUT, usage, &ret->field, &ret->index) < 0)
                ret->field = NULL;
}

static int knob_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct knob *k = state;
        const char *volume = udk_driver_personality_property(drv, "volume");
        const char *step = udk_driver_personality_property(drv, "step_db");
        const struct udk_hid_descriptor *desc;
        char text[512];
        int r;

        k->drv = drv;
        k->volume_db = VOLUME_DEFAULT_DB;
        k->step_db = STEP_DEFAULT_DB;
        if (volume && udk_parse_double(volume, VOLUME_MIN_DB, VOLUME_MAX_DB, &k->volume_db) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.volume '%s' is not a level in dB (%g..%g)",
                               volume, VOLUME_MIN_DB, VOLUME_MAX_DB);
                return -EINVAL;
        }
        if (step && udk_parse_double(step, 0.1, 20.0, &k->step_db) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.step_db '%s' is not a step in dB (0.1..20)",
                               step);
                return -EINVAL;
        }
        r = udk_hid_device_open(drv, provider, knob_report, k, &k->hid);
        if (r < 0)
                return r;
        desc = udk_hid_device_descriptor(k->hid);
        knob_find(desc, UDK_HID_CONSUMER_VOLUME, &k->dial);
        knob_find(desc, UDK_HID_CONSUMER_VOLUME_UP, &k->up);
        knob_find(desc, UDK_HID_CONSUMER_VOLUME_DOWN, &k->down);
        if (!k->dial.field && !k->up.field && !k->down.field) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "nub '%s': no Volume, Volume Increment or Decrement in its input "
                               "reports",
                               udk_nub_name(provider));
                r = -ENODEV;
                goto fail;
        }

        /* From the nub only its name, which udkd let through with letters, digits, '_', '.', '-'. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = hid-knob:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = 256\n"
                 "channels = 2\n"
                 "source = sine\n"
                 "level = -6\n"
                 "handlers = gain\n"
                 "gain.level = %g\n",
                 udk_nub_name(provider), udk_nub_name(provider), k->volume_db);
        r = udk_driver_device_create(drv, text, &k->device);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "device hid-knob:%s not created: %s",
                               udk_nub_name(provider), udk_driver_error(drv));
                goto fail;
        }
        r = udk_driver_device_add_level(drv, k->device, "volume", VOLUME_MIN_DB, VOLUME_MAX_DB,
                                        k->volume_db);
        if (r < 0)
                goto fail;
        udk_driver_log(drv, UDK_LOG_INFO, "knob '%s' (%s): %g dB, %g dB a detent", udk_nub_name(provider),
                       udk_nub_property(provider, "name") ? udk_nub_property(provider, "name") : "unnamed",
                       k->volume_db, k->step_db);
        return 0;
fail:
        udk_hid_device_close(k->hid);
        k->hid = NULL;
        return r;
}

static void knob_stop(struct udk_driver *drv, void *state)
{
        struct knob *k = state;

        udk_hid_device_close(k->hid);
        k->hid = NULL;
}

/* A client moved volume (udkctl set hid-knob:hidraw0 volume -30): the knob turns on from there. */
static void knob_control_changed(struct udk_driver *drv, void *state, udk_object_id device,
                                 const char *control, const char *value)
{
        struct knob *k = state;
        double db;

        if (strcmp(control, "volume") != 0 || sscanf(value, "%lf", &db) != 1)
                return;
        k->volume_db = db;
        if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "volume %s not applied: %s", value, udk_driver_error(drv));
}

static const struct udk_driver_descriptor knob_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "hid-knob",
        .description = "a HID volume knob: its input reports move its audio device's volume",
        .state_size = sizeof(struct knob),
        .start = knob_start,
        .stop = knob_stop,
        .control_changed = knob_control_changed,
};

UDK_DRIVER_EXPORT(knob_descriptor);
