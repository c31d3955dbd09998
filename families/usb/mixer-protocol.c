/* SPDX-License-Identifier: MIT */
/* The example mixer's vendor request (mixer-protocol.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mixer-protocol.h"

static double clamp_db(double db)
{
        if (!(db >= UDK_USB_MIXER_MIN_DB)) /* NaN too */
                return UDK_USB_MIXER_MIN_DB;
        return db > UDK_USB_MIXER_MAX_DB ? UDK_USB_MIXER_MAX_DB : db;
}

int udk_usb_mixer_level_read(udk_usb_mixer_control_fn control, void *ctx, uint16_t channel, double *ret_db,
                             char *err, size_t err_size)
{
        uint8_t buf[2] = { 0, 0 };
        int r = control(ctx, UDK_USB_MIXER_READ, UDK_USB_MIXER_REQUEST, channel, 0, buf, sizeof(buf));

        if (r < 0) {
                snprintf(err, err_size, "reading the mixer level of channel %u: %s", channel, strerror(-r));
                return r;
        }
        if (r != (int)sizeof(buf)) {
                snprintf(err, err_size, "reading the mixer level of channel %u: %d bytes, not 2", channel,
                         r);
                return -EPROTO;
        }
        *ret_db = clamp_db((int16_t)(buf[0] | (buf[1] << 8)) / 256.0);
        return 0;
}

int udk_usb_mixer_level_write(udk_usb_mixer_control_fn control, void *ctx, uint16_t channel, double db,
                              char *err, size_t err_size)
{
        int16_t v = (int16_t)lround(clamp_db(db) * 256.0);
        uint8_t buf[2] = { (uint8_t)((uint16_t)v & 0xff), (uint8_t)((uint16_t)v >> 8) };
        int r = control(ctx, UDK_USB_MIXER_WRITE, UDK_USB_MIXER_REQUEST, channel, 0, buf, sizeof(buf));

        if (r < 0) {
                snprintf(err, err_size, "writing the mixer level of channel %u: %s", channel, strerror(-r));
                return r;
        }
        if (r != (int)sizeof(buf)) {
                snprintf(err, err_size, "writing the mixer level of channel %u: %d bytes taken, not 2",
                         channel, r);
                return -EPROTO;
        }
        return 0;
}
