/* SPDX-License-Identifier: MIT */
/*
 * The test crasher: an audio driver that dies when told to, for trying out
 * supervision.  It starts like the test audio driver (the same device:
 * clients can stream from it through its crashes) and crashes:
 *   - on a call:  udkctl call DRIVER 1         (selector 1 "crash": abort())
 *                 udkctl call DRIVER 2 CODE    (selector 2 "exit": exit(CODE))
 *   - on a timer: property.crash_after_ms = N in its personality: abort()
 *                 N ms after each start.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <udk/driver.h>
#include <udk/util.h>

#include "test-device.h"

struct crasher {
        udk_object_id device;
        struct udk_dispatch_source *timer;
};

static void crasher_timer(void *data, struct udk_dispatch_source *source)
{
        udk_driver_log(data, UDK_LOG_WARN, "crash_after_ms is over: crashing");
        abort();
}

static int crasher_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct crasher *c = state;
        const char *after = udk_driver_personality_property(drv, "crash_after_ms");
        int64_t ms;
        int r;

        r = test_device_create(drv, provider, &c->device);
        if (r < 0 || !after)
                return r;
        if (udk_parse_int64(after, 0, 24 * 3600 * 1000, &ms) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.crash_after_ms '%s' is not a number of ms (0..86400000)",
                               after);
                return -EINVAL;
        }
        /* A one-shot timer on the dispatch queue, at an absolute CLOCK_MONOTONIC deadline. */
        return udk_dispatch_timer_create(udk_driver_queue(drv), udk_dispatch_now() + (uint64_t)ms * 1000000u, 0,
                                         crasher_timer, drv, &c->timer);
}

static void crasher_stop(struct udk_driver *drv, void *state)
{
        struct crasher *c = state;

        udk_dispatch_source_destroy(c->timer);
        c->timer = NULL;
}

static int crasher_crash(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        udk_driver_log(drv, UDK_LOG_WARN, "crashing on request");
        abort();
}

static int crasher_exit(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        udk_driver_log(drv, UDK_LOG_WARN, "exiting with status %d on request", (int)(call->scalar_in[0] & 0xff));
        exit((int)(call->scalar_in[0] & 0xff));
}

static const struct udk_driver_method crasher_methods[] = {
        { .selector = 1, .name = "crash", .fn = crasher_crash },
        { .selector = 2, .name = "exit", .n_scalar_in = 1, .fn = crasher_exit },
};

static const struct udk_driver_descriptor crasher_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "test-crasher",
        .description = "the test family's crasher: an audio device whose driver dies on request or on a timer",
        .state_size = sizeof(struct crasher),
        .start = crasher_start,
        .stop = crasher_stop,
        .methods = crasher_methods,
        .n_methods = UDK_ELEMENTSOF(crasher_methods),
};

UDK_DRIVER_EXPORT(crasher_descriptor);
