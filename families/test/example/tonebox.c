/* SPDX-License-Identifier: MIT */
/*
 * tonebox: the example driver of docs/writing-a-driver.md, written against
 * the driver SDK alone (<udk/driver.h>); copy it to start a driver.
 *
 * It binds a test nub of vendor 0x1234, product 0x0010 (tonebox.conf) and
 * creates one audio device in udkd, named after the nub, uid
 * "tonebox:<nub>", on udkd's virtual backend: the nub's properties say its
 * channels, period and tone (as a real nub would say what the hardware
 * has), and a gain DSP handler runs in its IO cycle.  Its control:
 *   volume   the driver's own level, -60..0 dB, property.volume of its
 *            personality at first (else -12): it drives the gain
 *            handler's gain.level, as a knob on the box would
 * Its methods (udkctl call tonebox SELECTOR ...):
 *   1 set-volume  1 scalar in, milli-dB: the knob turned on the box
 *   2 get-format  3 scalars out: channels, period, frequency
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/util.h>

#define VOLUME_MIN_DB     (-60.0)
#define VOLUME_MAX_DB     0.0
#define VOLUME_DEFAULT_DB (-12.0)

struct tonebox {
        udk_object_id device;
        uint64_t channels, period, frequency; /* from the nub */
};

/* Nub property @key as a number, @def without it; a value that is not one is the nub's error. */
static int nub_number(struct udk_driver *drv, const struct udk_nub *nub, const char *key, uint64_t def,
                      uint64_t *ret)
{
        int r = udk_nub_property_u64(nub, key, ret);

        if (r == -ENOENT) {
                *ret = def;
                return 0;
        }
        if (r < 0)
                udk_driver_log(drv, UDK_LOG_ERROR, "nub '%s': %s '%s' is not a number", udk_nub_name(nub), key,
                               udk_nub_property(nub, key));
        return r;
}

/* Move volume and, with it, the gain handler: what the box does when its knob turns. */
static int tonebox_volume_set(struct udk_driver *drv, struct tonebox *t, const char *value)
{
        int r = udk_driver_device_set_control(drv, t->device, "volume", value);

        /* udkd does not echo a driver's own moves: the handler follows here. */
        if (r == 0)
                r = udk_driver_device_set_control(drv, t->device, "gain.level", value);
        if (r < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "volume %s not applied: %s", value, udk_driver_error(drv));
        return r;
}

/* Loaded, nothing handed yet: set up what needs no provider (here, nothing: the state is zeroed). */
static int tonebox_init(struct udk_driver *drv, void *state)
{
        udk_driver_log(drv, UDK_LOG_DEBUG, "loaded, run %u", udk_driver_restarts(drv) + 1);
        return 0;
}

static int tonebox_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct tonebox *t = state;
        const char *volume = udk_driver_personality_property(drv, "volume");
        double volume_db = VOLUME_DEFAULT_DB;
        char text[512];
        int r;

        /* What the hardware has, as the bus driver found it. */
        r = nub_number(drv, provider, "channels", 2, &t->channels);
        if (r == 0)
                r = nub_number(drv, provider, "period", 256, &t->period);
        if (r == 0)
                r = nub_number(drv, provider, "frequency", 440, &t->frequency);
        if (r < 0)
                return r;
        if (volume && udk_parse_double(volume, VOLUME_MIN_DB, VOLUME_MAX_DB, &volume_db) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.volume '%s' is not a level in dB (%g..%g)", volume,
                               VOLUME_MIN_DB, VOLUME_MAX_DB);
                return -EINVAL;
        }

        /* The body of a [device] section (docs/configuration.md): udkd checks every line and refuses
         * a bad one with its sentence, in udk_driver_error().  From the nub only numbers and its name
         * (udkd let only letters, digits, '_', '.', '-' in): no value can smuggle in a line. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = tonebox:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = %" PRIu64 "\n"
                 "channels = %" PRIu64 "\n"
                 "source = sine\n"
                 "frequency = %" PRIu64 "\n"
                 "level = -6\n"
                 "handlers = gain\n"
                 "gain.level = %g\n",
                 udk_nub_name(provider), udk_nub_name(provider), t->period, t->channels, t->frequency, volume_db);
        r = udk_driver_device_create(drv, text, &t->device);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "device tonebox:%s not created: %s", udk_nub_name(provider),
                               udk_driver_error(drv));
                return r;
        }
        /* After a restart udkd hands the device back as it was, this control with its value. */
        r = udk_driver_device_add_level(drv, t->device, "volume", VOLUME_MIN_DB, VOLUME_MAX_DB, volume_db);
        if (r < 0)
                return r;
        udk_driver_log(drv, UDK_LOG_INFO, "tonebox:%s: %" PRIu64 " channels, %" PRIu64 " frames, %" PRIu64 " Hz",
                       udk_nub_name(provider), t->channels, t->period, t->frequency);
        return 0;
}

/* Undo start(): a driver with timers or fd sources destroys them here.  The device is udkd's: a
 * restart takes it back, a driver stopped for good takes it along. */
static void tonebox_stop(struct udk_driver *drv, void *state)
{
        const struct tonebox *t = state;

        udk_driver_log(drv, UDK_LOG_INFO, "stopping (device %" PRIu32 ")", t->device);
}

/* Undo init(); the state itself is the host's to free.  The last callback: the host exits after it. */
static void tonebox_free(struct udk_driver *drv, void *state)
{
        udk_driver_log(drv, UDK_LOG_DEBUG, "freed");
}

/* A client moved a control of our device (udkctl set tonebox:box volume -20): "-20.0 dB". */
static void tonebox_control_changed(struct udk_driver *drv, void *state, udk_object_id device,
                                    const char *control, const char *value)
{
        if (strcmp(control, "volume") != 0)
                return; /* gain.level moved by hand, or the backend's own controls */
        if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "volume %s not applied: %s", value, udk_driver_error(drv));
}

static int tonebox_set_volume(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        int64_t mdb = (int64_t)call->scalar_in[0]; /* two's complement: udkctl call sends -20000 so */
        char value[32];

        if (mdb < (int64_t)(VOLUME_MIN_DB * 1000) || mdb > (int64_t)(VOLUME_MAX_DB * 1000))
                return -ERANGE;
        snprintf(value, sizeof(value), "%g", (double)mdb / 1000.0);
        return tonebox_volume_set(drv, state, value);
}

static int tonebox_get_format(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        const struct tonebox *t = state;

        call->scalar_out[0] = t->channels;
        call->scalar_out[1] = t->period;
        call->scalar_out[2] = t->frequency;
        call->n_scalar_out = 3;
        return 0;
}

/* The host checks a call's sizes against this table before the method runs (else EINVAL). */
static const struct udk_driver_method tonebox_methods[] = {
        { .selector = 1, .name = "set-volume", .n_scalar_in = 1, .fn = tonebox_set_volume },
        { .selector = 2, .name = "get-format", .n_scalar_out = 3, .fn = tonebox_get_format },
};

static const struct udk_driver_descriptor tonebox_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "tonebox",
        .description = "the example of docs/writing-a-driver.md: a tone, a gain handler, a volume knob",
        .state_size = sizeof(struct tonebox),
        .init = tonebox_init,
        .start = tonebox_start,
        .stop = tonebox_stop,
        .free = tonebox_free,
        .control_changed = tonebox_control_changed,
        .methods = tonebox_methods,
        .n_methods = UDK_ELEMENTSOF(tonebox_methods),
};

UDK_DRIVER_EXPORT(tonebox_descriptor);
