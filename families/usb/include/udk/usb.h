/* SPDX-License-Identifier: MIT */
/*
 * The USB family's provider: what a driver bound to a usb nub talks to
 * its device through.  libusb on the descriptor udkd opened for the nub
 * (its devnode, /dev/bus/usb/BBB/DDD, as udk_nub_fd(nub, 0)), wrapped with
 * libusb_wrap_sys_device and without libusb's own device discovery (the
 * sandbox lets the driver open nothing by name).  Asynchronous transfers
 * complete on the driver's dispatch queue: libusb's descriptors are fd
 * sources of the queue, and their callbacks run there.
 * docs/families.md#usb.
 */
#ifndef UDK_USB_H
#define UDK_USB_H

#include <stddef.h>
#include <stdint.h>

#include <libusb.h>

#include <udk/driver.h>

struct udk_usb_device;

/* What an asynchronous transfer ended with, handed to its callback on the queue.  -ENODEV: the device
 * was unplugged, every transfer in flight ends so and no new one is taken; a driver ends its run
 * (udk_driver_terminate()).  An isochronous transfer's result is its own (0 unless it failed whole);
 * each packet has its length, actual_length and status (libusb's: udk_usb_transfer_status_errno()),
 * and its data in data at the sum of the lengths before it. */
struct udk_usb_completion {
        int result; /* 0, or -ETIMEDOUT, -EPIPE (stall), -ENODEV (unplugged), -ECANCELED, -EOVERFLOW, -EIO */
        uint8_t *data; /* the transfer's data (for a control transfer: after its setup packet) */
        size_t actual; /* bytes moved (an isochronous transfer: see packets) */
        const struct libusb_iso_packet_descriptor *packets; /* isochronous only, else NULL */
        unsigned n_packets;
};
typedef void (*udk_usb_transfer_fn)(void *data, const struct udk_usb_completion *completion);

/* Open the device of @nub (a device or interface nub) on udk_nub_fd(@nub, 0); an error is logged. */
int udk_usb_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_usb_device **ret);
/* Cancel what is in flight (its callbacks run with -ECANCELED, or -ENODEV on a device being unplugged),
 * waiting up to 1 s for them; release the claimed interfaces, close.  Accepts NULL. */
void udk_usb_device_close(struct udk_usb_device *dev);
/* libusb's handle, for what this header does not wrap (descriptors, halts, ...). */
libusb_device_handle *udk_usb_device_handle(struct udk_usb_device *dev);

/* Claim @interface (the kernel's driver detached first, given back at close), release it. */
int udk_usb_device_claim_interface(struct udk_usb_device *dev, unsigned interface);
int udk_usb_device_release_interface(struct udk_usb_device *dev, unsigned interface);
int udk_usb_device_set_alternate(struct udk_usb_device *dev, unsigned interface, unsigned alternate);

/* A synchronous control transfer (it blocks the queue up to @timeout_ms): the bytes moved, or a negative
 * errno as in struct udk_usb_completion. */
int udk_usb_device_control(struct udk_usb_device *dev, uint8_t request_type, uint8_t request, uint16_t value,
                           uint16_t index, void *data, uint16_t len, unsigned timeout_ms);

/*
 * Asynchronous transfers: @fn runs once, on the queue, with its completion.  A control transfer
 * copies @data (an OUT's payload; an IN's data arrives in completion->data); bulk, interrupt and
 * isochronous transfers use @buf in place, which must last until @fn.  An isochronous transfer is
 * @n_packets packets of @packet_size bytes each (@len at least their total).
 */
int udk_usb_device_control_async(struct udk_usb_device *dev, uint8_t request_type, uint8_t request,
                                 uint16_t value, uint16_t index, const void *data, uint16_t len,
                                 unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data);
int udk_usb_device_bulk_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                              unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data);
int udk_usb_device_interrupt_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                                   unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data);
int udk_usb_device_iso_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                             unsigned n_packets, unsigned packet_size, unsigned timeout_ms,
                             udk_usb_transfer_fn fn, void *fn_data);

/* libusb's error or transfer status as a negative errno. */
int udk_usb_errno(int libusb_error);
int udk_usb_transfer_status_errno(int status);

#endif
