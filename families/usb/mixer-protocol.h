/* SPDX-License-Identifier: MIT */
/*
 * The vendor request of the USB family's example mixer (mixer.c): its
 * level in 1/256 dB as a little-endian int16, read with a vendor IN
 * control transfer to the device (bmRequestType 0xc0) and written with a
 * vendor OUT one (0x40), bRequest UDK_USB_MIXER_REQUEST, wValue the
 * channel (0: master), wIndex 0.  The transfer is a function, so the
 * tests can hand one that checks the exact setup packets.
 */
#ifndef UDK_USB_MIXER_PROTOCOL_H
#define UDK_USB_MIXER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define UDK_USB_MIXER_REQUEST    0x5a
#define UDK_USB_MIXER_READ       0xc0 /* vendor, device, IN */
#define UDK_USB_MIXER_WRITE      0x40 /* vendor, device, OUT */
#define UDK_USB_MIXER_MIN_DB     (-60.0)
#define UDK_USB_MIXER_MAX_DB     0.0
#define UDK_USB_MIXER_TIMEOUT_MS 1000u

/* A control transfer: the bytes moved or a negative errno. */
typedef int (*udk_usb_mixer_control_fn)(void *ctx, uint8_t request_type, uint8_t request, uint16_t value,
                                        uint16_t index, void *data, uint16_t len);

/* The level of @channel, clamped to MIN..MAX: -EPROTO (with @err) for a reply that is not 2 bytes. */
int udk_usb_mixer_level_read(udk_usb_mixer_control_fn control, void *ctx, uint16_t channel, double *ret_db,
                             char *err, size_t err_size);
/* Set @channel to @db, clamped and rounded to 1/256 dB. */
int udk_usb_mixer_level_write(udk_usb_mixer_control_fn control, void *ctx, uint16_t channel, double db,
                              char *err, size_t err_size);

#endif
