/* SPDX-License-Identifier: MIT */
/*
 * The test audio driver: the smallest complete audio driver, to copy.
 *
 * It binds a test nub (its personality matches vendor 0x1234, product
 * 0x0001) and creates one audio device in udkd, named after the nub, uid
 * "test:<nub>": the virtual backend's 440 Hz sine on its input, a gain
 * DSP handler after it.  Its controls:
 *   level      the virtual backend's: the sine's level (-6 dB at first);
 *              the driver follows it and reports it through "get-level"
 *   trim       the driver's own (-60..0 dB, 0 at first): it applies it to
 *              the gain handler's gain.level, as hardware would turn a knob
 *   gain.level, gain.mute   the gain handler's
 * Its methods (udkctl call DRIVER SELECTOR ...):
 *   1 get-level   no input; 1 scalar out: level in milli-dB (two's complement)
 *   2 echo        a structure in, the same structure out
 *   3 add         2 scalars in, their sum out
 *   4 crash       abort(): for tests of a call whose driver dies under it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/driver.h>

#include "test-device.h"

struct audio {
        udk_object_id device;
        int64_t level_mdb; /* the device's level as last heard; udkd has no "get" */
};

static int audio_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct audio *a = state;
        int r;

        udk_driver_log(drv, UDK_LOG_INFO, "binding nub '%s' (vendor %s, product %s), run %u", udk_nub_name(provider),
                       udk_nub_property(provider, "vendor") ? udk_nub_property(provider, "vendor") : "none",
                       udk_nub_property(provider, "product") ? udk_nub_property(provider, "product") : "none",
                       udk_driver_restarts(drv) + 1);
        r = test_device_create(drv, provider, &a->device);
        if (r < 0)
                return r;
        a->level_mdb = (int64_t)(TEST_DEVICE_LEVEL_DB * 1000.0);
        /* A control the device has already (its previous run's) is kept with its value. */
        return udk_driver_device_add_level(drv, a->device, "trim", -60.0, 0.0, 0.0);
}

/* A client moved a control of our device (udkctl set DEVICE CONTROL VALUE). */
static void audio_control_changed(struct udk_driver *drv, void *state, udk_object_id device, const char *control,
                                  const char *value)
{
        struct audio *a = state;
        int64_t mdb;

        if (strcmp(control, "level") == 0) {
                if (test_device_parse_level(value, &mdb) == 0)
                        a->level_mdb = mdb;
        } else if (strcmp(control, "trim") == 0) {
                /* The knob drives the DSP handler: udkd applies it from the next period. */
                if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                        udk_driver_log(drv, UDK_LOG_WARN, "trim %s not applied: %s", value, udk_driver_error(drv));
        }
}

static int audio_get_level(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct audio *a = state;

        call->scalar_out[0] = (uint64_t)a->level_mdb;
        call->n_scalar_out = 1;
        return 0;
}

static int audio_echo(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        if (call->struct_in_size > call->struct_out_capacity)
                return -EMSGSIZE; /* the caller's buffer is too small for its own structure */
        memcpy(call->struct_out, call->struct_in, call->struct_in_size);
        call->struct_out_size = call->struct_in_size;
        return 0;
}

static int audio_add(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        call->scalar_out[0] = call->scalar_in[0] + call->scalar_in[1];
        call->n_scalar_out = 1;
        return 0;
}

static int audio_crash(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        udk_driver_log(drv, UDK_LOG_WARN, "crashing on request (uid %u)", call->caller_uid);
        abort();
}

/* The sizes here are checked before a method runs: a call with others fails with EINVAL. */
static const struct udk_driver_method audio_methods[] = {
        { .selector = 1, .name = "get-level", .n_scalar_out = 1, .fn = audio_get_level },
        { .selector = 2,
          .name = "echo",
          .struct_in_size = UDK_DRIVER_SIZE_ANY,
          .struct_out_max = UDK_DRIVER_METHOD_STRUCT_MAX,
          .fn = audio_echo },
        { .selector = 3, .name = "add", .n_scalar_in = 2, .n_scalar_out = 1, .fn = audio_add },
        { .selector = 4, .name = "crash", .fn = audio_crash },
};

static const struct udk_driver_descriptor audio_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "test-audio",
        .description = "the test family's audio device: a sine, a gain handler, a level control, methods",
        .state_size = sizeof(struct audio),
        .start = audio_start,
        .control_changed = audio_control_changed,
        .methods = audio_methods,
        .n_methods = sizeof(audio_methods) / sizeof(audio_methods[0]),
};

UDK_DRIVER_EXPORT(audio_descriptor);
