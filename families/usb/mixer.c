/* SPDX-License-Identifier: MIT */
/*
 * The USB family's example: an audio interface's control driver.  It binds
 * the audio control interface (class 0x01, subclass 0x01) of a USB audio
 * interface (usb-mixer.conf), reads its vendor mixer level at start by a
 * vendor control transfer (mixer-protocol.h) and creates an audio device
 * in udkd named after the nub, uid "usb-mixer:<nub>", on the virtual
 * backend with a gain handler.  Its control:
 *   mixer   the device's master level, -60..0 dB: a client's move is
 *           written to the device by a vendor OUT control transfer, and
 *           drives gain.level; a move the device refuses is set back
 * It claims no interface: a vendor request to the device needs none, and
 * the kernel's audio driver keeps the streaming interfaces.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/usb.h>

#include "mixer-protocol.h"

struct mixer {
        struct udk_driver *drv;
        struct udk_usb_device *usb;
        udk_object_id device;
        double level_db;
};

static int mixer_control(void *ctx, uint8_t request_type, uint8_t request, uint16_t value, uint16_t index,
                         void *data, uint16_t len)
{
        return udk_usb_device_control(ctx, request_type, request, value, index, data, len,
                                      UDK_USB_MIXER_TIMEOUT_MS);
}

static int mixer_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct mixer *m = state;
        char text[512], err[160];
        int r;

        m->drv = drv;
        r = udk_usb_device_open(drv, provider, &m->usb);
        if (r < 0)
                return r;
        r = udk_usb_mixer_level_read(mixer_control, m->usb, 0, &m->level_db, err, sizeof(err));
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "%s", err);
                goto fail;
        }
        /* From the nub only its name, which udkd let through with letters, digits, '_', '.', '-'. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = usb-mixer:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = 256\n"
                 "channels = 2\n"
                 "source = sine\n"
                 "level = -6\n"
                 "handlers = gain\n"
                 "gain.level = %g\n",
                 udk_nub_name(provider), udk_nub_name(provider), m->level_db);
        r = udk_driver_device_create(drv, text, &m->device);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "device usb-mixer:%s not created: %s",
                               udk_nub_name(provider), udk_driver_error(drv));
                goto fail;
        }
        r = udk_driver_device_add_level(drv, m->device, "mixer", UDK_USB_MIXER_MIN_DB, UDK_USB_MIXER_MAX_DB,
                                        m->level_db);
        if (r < 0)
                goto fail;
        udk_driver_log(drv, UDK_LOG_INFO, "mixer '%s': %g dB", udk_nub_name(provider), m->level_db);
        return 0;
fail:
        udk_usb_device_close(m->usb);
        m->usb = NULL;
        return r;
}

static void mixer_stop(struct udk_driver *drv, void *state)
{
        struct mixer *m = state;

        udk_usb_device_close(m->usb);
        m->usb = NULL;
}

/*
 * A client moved the level (udkctl set usb-mixer:usb-1-2_1.0 mixer -12): the device gets it first.  udkd
 * has shown the move already; one the device refused is set back to the level the device keeps, so the
 * control never shows what the device does not have.
 */
static void mixer_control_changed(struct udk_driver *drv, void *state, udk_object_id device,
                                  const char *control, const char *value)
{
        struct mixer *m = state;
        char err[160], old[32];
        double db;

        if (strcmp(control, "mixer") != 0 || sscanf(value, "%lf", &db) != 1)
                return;
        if (udk_usb_mixer_level_write(mixer_control, m->usb, 0, db, err, sizeof(err)) < 0) {
                udk_driver_log(drv, UDK_LOG_WARN, "mixer %s not applied: %s", value, err);
                snprintf(old, sizeof(old), "%.9g", m->level_db);
                if (udk_driver_device_set_control(drv, device, "mixer", old) < 0)
                        udk_driver_log(drv, UDK_LOG_WARN, "mixer not set back to %s dB: %s", old,
                                       udk_driver_error(drv));
                return;
        }
        m->level_db = db;
        if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "gain.level %s not applied: %s", value,
                               udk_driver_error(drv));
}

static const struct udk_driver_descriptor mixer_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "usb-mixer",
        .description = "a USB audio interface's vendor mixer level as a level control of its audio device",
        .state_size = sizeof(struct mixer),
        .start = mixer_start,
        .stop = mixer_stop,
        .control_changed = mixer_control_changed,
};

UDK_DRIVER_EXPORT(mixer_descriptor);
