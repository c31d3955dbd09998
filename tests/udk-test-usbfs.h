/* SPDX-License-Identifier: MIT */
/*
 * An emulated USB device for tests under umockdev (run through
 * umockdev-wrapper): the audio interface of tests/fixtures/usb-audio.umockdev
 * behind its usbfs node USBFS_DEVNODE, answered by a UMockdevIoctlBase
 * handler on umockdev's worker thread in the test's process.  It answers
 * what libusb asks as it wraps a descriptor (CONNECTINFO, GET_CAPABILITIES,
 * GET_SPEED, GET_CONFIGURATION) and the URBs of the USB family's drivers
 * (SUBMITURB, REAPURBNDELAY, DISCARDURB; DISCONNECT_CLAIM, SETINTERFACE,
 * RELEASEINTERFACE):
 *   - the example mixer's (families/usb/mixer-protocol.h) level register:
 *     vendor GET c0 5a 00 00 00 00 02 00 reads it, vendor SET
 *     40 5a 00 00 00 00 02 00 writes it (or, with stall, both stall);
 *     every control URB's setup packet and OUT data kept in seen[];
 *   - the vendor interface 3 for tests/usb-bulk: bulk OUT 0x03 kept and
 *     given back reversed on bulk IN 0x84, interrupt IN 0x85 pending until
 *     usbfs_interrupt_fire(), isochronous OUT 0x06 and IN 0x87 (alternate
 *     setting 1);
 *   - usbfs's disconnect (usbfs_unplug): ENODEV, -ESHUTDOWN, POLLHUP and
 *     POLLERR; and being plugged in again (usbfs_replug).
 * umockdev emulates ioctls only on descriptors its preload saw opened in
 * the process, so a driver's host reaches the device through
 * tests/udk-test-umockdev-fd.c (preloaded with
 * UDK_TEST_UMOCKDEV_DEVNODE=USBFS_DEVNODE), which swaps udkd's descriptor
 * for its own; poll() on it asks the handler (UDK_TEST_UMOCKDEV_POLL).
 *
 * Use: usbfs_device_attach() after the testbed has the fixture and before
 * udkd opens the node; usbfs_node_write() again once the node was added
 * anew (a replug: umockdev_family's added), before a driver opens it;
 * usbfs_device_detach() after udkd stopped.  The test
 * reads the fields under dev->lock.
 */
#ifndef UDK_TEST_USBFS_H
#define UDK_TEST_USBFS_H

#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <umockdev.h>

#include "udk-test.h"
#include "udk-test-umockdev-fd.h"

#define USBFS_DEVNODE "/dev/bus/usb/001/002"
#ifndef USBDEVFS_GET_SPEED
#define USBDEVFS_GET_SPEED _IO('U', 31)
#endif
#define USBFS_SPEED_HIGH 3 /* enum usb_device_speed */

/* What the node reads as, the descriptors usbfs gives, a descriptor a line: the device and its
 * configuration with the four interfaces of the fixture (audio control; two audio streaming with an
 * isochronous endpoint each; a vendor interface with a bulk pair, and in its alternate setting 1 an
 * interrupt IN endpoint 0x85 and isochronous OUT 0x06 and IN 0x87 of 8 bytes too). */
/* clang-format off */
static const uint8_t usbfs_descriptors[] = {
        0x12, 0x01, 0x00, 0x02, 0xef, 0x02, 0x01, 0x40, 0x97, 0x13, 0x08, 0x05, 0x00, 0x01, 0x01, 0x02, 0x03,
        0x01,
        0x09, 0x02, 0x75, 0x00, 0x04, 0x01, 0x00, 0x80, 0x32,
        0x09, 0x04, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00,
        0x09, 0x04, 0x01, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x07, 0x05, 0x01, 0x05, 0x00, 0x01, 0x01,
        0x09, 0x04, 0x02, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x07, 0x05, 0x82, 0x05, 0x00, 0x01, 0x01,
        0x09, 0x04, 0x03, 0x00, 0x02, 0xff, 0x00, 0x00, 0x00, 0x07, 0x05, 0x03, 0x02, 0x00, 0x02, 0x00,
        0x07, 0x05, 0x84, 0x02, 0x00, 0x02, 0x00,
        0x09, 0x04, 0x03, 0x01, 0x05, 0xff, 0x00, 0x00, 0x00, 0x07, 0x05, 0x03, 0x02, 0x00, 0x02, 0x00,
        0x07, 0x05, 0x84, 0x02, 0x00, 0x02, 0x00, 0x07, 0x05, 0x85, 0x03, 0x08, 0x00, 0x04,
        0x07, 0x05, 0x06, 0x05, 0x08, 0x00, 0x01, 0x07, 0x05, 0x87, 0x05, 0x08, 0x00, 0x01,
};
/* clang-format on */

#define USBFS_REAP_MAX    16u
#define USBFS_PENDING_MAX 4u
#define USBFS_LOG_MAX     16u
#define USBFS_CLIENTS_MAX 16u /* descriptors that submitted URBs: a host's each, restarts included */
#define USBFS_ISO_MAX     4u  /* isochronous URBs kept as seen */
#define USBFS_PACKETS_MAX 8u  /* packets in an isochronous URB */

/* One control URB as the device saw it: its setup packet and, for an OUT one, its data. */
struct usbfs_control_seen {
        uint8_t setup[8];
        uint8_t data[8];
        unsigned data_len;
};

/* One isochronous URB as the device saw it at its submission (an OUT one: its data too). */
struct usbfs_iso_seen {
        unsigned char endpoint, type;
        unsigned flags;
        int n_packets, buffer_length;
        unsigned length[USBFS_PACKETS_MAX];
        uint8_t data[64];
};

/*
 * A descriptor's URBs: completed and not reaped yet, and INs waiting for the device to have something
 * (interrupt IN, and bulk IN when the device keeps nothing).  Each is the URB's memory as umockdev fetched
 * it at the submission (its buffer a child): a reap points the client's URB pointer at it
 * (umockdev_ioctl_data_set_ptr, as umockdev's pcap replay does), which writes what changed back into the
 * client's URB and buffer.
 */
struct usbfs_client {
        UMockdevIoctlClient *client;
        UMockdevIoctlData *reap[USBFS_REAP_MAX];
        unsigned n_reap;
        UMockdevIoctlData *pending[USBFS_PENDING_MAX], *pending_buf[USBFS_PENDING_MAX];
        unsigned n_pending;
};

/* The emulated audio interface, run on umockdev's worker thread. */
struct usbfs_device {
        GMutex lock;
        UMockdevIoctlBase *handler;
        int16_t level; /* the vendor mixer register, 1/256 dB */
        bool stall;    /* a device without it: the vendor request stalls */
        struct usbfs_client clients[USBFS_CLIENTS_MAX];
        struct usbfs_control_seen seen[USBFS_LOG_MAX];
        unsigned n_seen;
        /* the vendor interface: claimed (-1: not), its alternate setting, the bulk OUT bytes it keeps and
         * gives back reversed on the next bulk IN (bulk_full until then) */
        int claimed, alternate, released;
        uint8_t bulk[64];
        unsigned bulk_len, bulk_in, discarded;
        bool bulk_full;
        struct usbfs_iso_seen iso[USBFS_ISO_MAX];
        unsigned n_iso;
        /* usbfs after a disconnect: unplugged, every ioctl but a reap fails with ENODEV, a reap too once
         * nothing is left, poll says POLLHUP; removed, what was pending completed with -ESHUTDOWN and
         * poll says POLLERR too */
        bool unplugged, removed;
        /* unplugged: DISCARDURBs refused, then the polls of the descriptor they came from */
        unsigned refused, polls;
        UMockdevIoctlClient *refused_client;
        unsigned long unknown; /* the first ioctl it does not know */
};

static inline struct usbfs_client *usbfs_client_of(struct usbfs_device *dev, UMockdevIoctlClient *client)
{
        for (unsigned i = 0; i < USBFS_CLIENTS_MAX; i++)
                if (dev->clients[i].client == client || !dev->clients[i].client) {
                        dev->clients[i].client = client;
                        return &dev->clients[i];
                }
        return NULL;
}

static inline void usbfs_complete_struct(UMockdevIoctlClient *client, size_t size, const void *value,
                                         long result)
{
        UMockdevIoctlData *d =
                umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0, size, NULL);

        if (!d) {
                umockdev_ioctl_client_complete(client, -1, EFAULT);
                return;
        }
        memcpy(d->data, value, size);
        umockdev_ioctl_client_complete(client, result, 0);
        g_object_unref(d);
}

/* A control URB completes at once: the vendor GET reads the register, the vendor SET writes it, anything
 * else stalls. */
static inline void usbfs_control_urb(struct usbfs_device *dev, struct usbdevfs_urb *urb, uint8_t *buf)
{
        struct usbfs_control_seen *s = dev->n_seen < USBFS_LOG_MAX ? &dev->seen[dev->n_seen++] : NULL;
        unsigned len = (unsigned)urb->buffer_length - 8;
        static const uint8_t get[8] = { 0xc0, 0x5a, 0, 0, 0, 0, 2, 0 },
                             set[8] = { 0x40, 0x5a, 0, 0, 0, 0, 2, 0 };

        if (s) {
                memcpy(s->setup, buf, 8);
                s->data_len = !(buf[0] & 0x80) && len <= sizeof(s->data) ? len : 0;
                memcpy(s->data, buf + 8, s->data_len);
        }
        urb->status = 0;
        urb->actual_length = 2;
        if (dev->stall) {
                urb->status = -EPIPE;
                urb->actual_length = 0;
        } else if (memcmp(buf, get, 8) == 0) {
                buf[8] = (uint8_t)((uint16_t)dev->level & 0xff);
                buf[9] = (uint8_t)((uint16_t)dev->level >> 8);
        } else if (memcmp(buf, set, 8) == 0) {
                dev->level = (int16_t)(buf[8] | (buf[9] << 8));
        } else {
                urb->status = -EPIPE;
                urb->actual_length = 0;
        }
}

/* Bulk OUT 0x03 keeps what it is sent; bulk IN 0x84 gives it back reversed, once (with nothing kept it
 * waits: usbfs_submit_urb). */
static inline void usbfs_bulk_urb(struct usbfs_device *dev, struct usbdevfs_urb *urb, uint8_t *buf)
{
        unsigned len = (unsigned)urb->buffer_length;

        urb->status = 0;
        if (urb->endpoint == 0x03 && len <= sizeof(dev->bulk)) {
                memcpy(dev->bulk, buf, len);
                dev->bulk_len = len;
                dev->bulk_full = true;
                urb->actual_length = (int)len;
        } else if (urb->endpoint == 0x84) {
                unsigned n = dev->bulk_len < len ? dev->bulk_len : len;

                for (unsigned i = 0; i < n; i++)
                        buf[i] = dev->bulk[n - 1 - i];
                urb->actual_length = (int)n;
                dev->bulk_full = false;
                dev->bulk_in++;
        } else {
                urb->status = -EPIPE;
                urb->actual_length = 0;
        }
}

/* The isochronous packets the device sends on IN 0x87 (8 bytes asked for each): their length and status.
 * Packet i's bytes are 0xa0 + 0x10 * i + j. */
static const unsigned usbfs_iso_in_actual[USBFS_PACKETS_MAX] = { 8, 3, 0, 8, 8, 8, 8, 8 };
static const int usbfs_iso_in_status[USBFS_PACKETS_MAX] = { 0, 0, -EPROTO, 0 };

/* An isochronous URB completes at once: OUT 0x06 takes every packet whole, IN 0x87 answers as above. */
static inline void usbfs_iso_urb(struct usbfs_device *dev, struct usbdevfs_urb *urb, uint8_t *buf)
{
        struct usbfs_iso_seen *s = dev->n_iso < USBFS_ISO_MAX ? &dev->iso[dev->n_iso++] : NULL;
        unsigned offset = 0, total = 0;

        if (s) {
                *s = (struct usbfs_iso_seen){ .endpoint = urb->endpoint,
                                              .type = urb->type,
                                              .flags = urb->flags,
                                              .n_packets = urb->number_of_packets,
                                              .buffer_length = urb->buffer_length };
                for (int i = 0; i < urb->number_of_packets; i++)
                        s->length[i] = urb->iso_frame_desc[i].length;
                if (urb->endpoint == 0x06 && (size_t)urb->buffer_length <= sizeof(s->data))
                        memcpy(s->data, buf, (size_t)urb->buffer_length);
        }
        urb->status = 0;
        urb->error_count = 0;
        for (int i = 0; i < urb->number_of_packets; i++) {
                struct usbdevfs_iso_packet_desc *k = &urb->iso_frame_desc[i];
                unsigned n = k->length;

                k->status = 0;
                if (urb->endpoint == 0x87) {
                        n = usbfs_iso_in_actual[i] < k->length ? usbfs_iso_in_actual[i] : k->length;
                        k->status = (unsigned)usbfs_iso_in_status[i];
                        urb->error_count += k->status != 0;
                        for (unsigned j = 0; j < n && offset + j < (unsigned)urb->buffer_length; j++)
                                buf[offset + j] = (uint8_t)(0xa0 + 0x10 * i + j);
                }
                k->actual_length = n;
                offset += k->length;
                total += n;
        }
        urb->actual_length = (int)total;
}

/* The URB at the ioctl's argument, with an isochronous one's packet descriptors: the first look fetched
 * the struct alone, so the argument is made unresolved again (umockdev_ioctl_data_reload() forgets the
 * child; the pointer is put back by hand) and fetched with its packets. */
static inline UMockdevIoctlData *usbfs_urb_resolve(UMockdevIoctlClient *client, int *ret_errno)
{
        UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client), *u;
        struct usbdevfs_urb *urb;
        unsigned long addr;
        int n;

        u = umockdev_ioctl_data_resolve(arg, 0, sizeof(*urb), NULL);
        if (!u) {
                *ret_errno = EFAULT;
                return NULL;
        }
        urb = (struct usbdevfs_urb *)u->data;
        if (urb->type != USBDEVFS_URB_TYPE_ISO)
                return u;
        n = urb->number_of_packets;
        addr = u->client_addr;
        g_object_unref(u);
        if (n < 1 || n > (int)USBFS_PACKETS_MAX) {
                *ret_errno = EINVAL;
                return NULL;
        }
        if (!umockdev_ioctl_data_reload(arg, NULL)) {
                *ret_errno = EFAULT;
                return NULL;
        }
        memcpy(arg->data, &addr, sizeof(addr));
        u = umockdev_ioctl_data_resolve(arg, 0, sizeof(*urb) + (size_t)n * sizeof(urb->iso_frame_desc[0]),
                                        NULL);
        if (!u)
                *ret_errno = EFAULT;
        return u;
}

static inline void usbfs_submit_urb(struct usbfs_device *dev, UMockdevIoctlClient *client)
{
        struct usbfs_client *c = usbfs_client_of(dev, client);
        UMockdevIoctlData *u, *b = NULL;
        struct usbdevfs_urb *urb;
        int e = 0;

        u = usbfs_urb_resolve(client, &e);
        if (!u) {
                umockdev_ioctl_client_complete(client, -1, e);
                return;
        }
        urb = (struct usbdevfs_urb *)u->data;
        if ((urb->type != USBDEVFS_URB_TYPE_CONTROL && urb->type != USBDEVFS_URB_TYPE_BULK &&
             urb->type != USBDEVFS_URB_TYPE_INTERRUPT && urb->type != USBDEVFS_URB_TYPE_ISO) ||
            (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && (urb->endpoint != 0x85 || dev->alternate != 1)) ||
            (urb->type == USBDEVFS_URB_TYPE_ISO &&
             ((urb->endpoint != 0x06 && urb->endpoint != 0x87) || dev->alternate != 1)) ||
            urb->buffer_length < (urb->type == USBDEVFS_URB_TYPE_CONTROL ? 8 : 1) ||
            urb->buffer_length > 4096 || !c || c->n_reap == USBFS_REAP_MAX ||
            c->n_pending == USBFS_PENDING_MAX) {
                umockdev_ioctl_client_complete(client, -1, EINVAL);
                g_object_unref(u);
                return;
        }
        b = umockdev_ioctl_data_resolve(u, offsetof(struct usbdevfs_urb, buffer), (size_t)urb->buffer_length,
                                        NULL);
        if (!b) {
                umockdev_ioctl_client_complete(client, -1, EFAULT);
                g_object_unref(u);
                return;
        }
        if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT ||
            (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == 0x84 && !dev->bulk_full)) {
                /* Pending until the test gives the device something to say (usbfs_interrupt_fire), or for
                 * ever (a bulk IN with nothing kept). */
                c->pending[c->n_pending] = u;
                c->pending_buf[c->n_pending++] = b;
                umockdev_ioctl_client_complete(client, 0, 0);
                return;
        }
        if (urb->type == USBDEVFS_URB_TYPE_CONTROL)
                usbfs_control_urb(dev, urb, b->data);
        else if (urb->type == USBDEVFS_URB_TYPE_ISO)
                usbfs_iso_urb(dev, urb, b->data);
        else
                usbfs_bulk_urb(dev, urb, b->data);
        c->reap[c->n_reap++] = u;
        umockdev_ioctl_client_complete(client, 0, 0);
        g_object_unref(b);
}

/* A pending URB of @c completes with @status and @len bytes of @data. */
static inline void usbfs_pending_complete(struct usbfs_client *c, unsigned i, int status,
                                          const uint8_t *data, unsigned len)
{
        struct usbdevfs_urb *urb = (struct usbdevfs_urb *)c->pending[i]->data;

        if (len > (unsigned)urb->buffer_length)
                len = (unsigned)urb->buffer_length;
        if (len)
                memcpy(c->pending_buf[i]->data, data, len);
        urb->status = status;
        urb->actual_length = (int)len;
        c->reap[c->n_reap++] = c->pending[i];
        g_object_unref(c->pending_buf[i]);
        c->n_pending--;
        memmove(c->pending + i, c->pending + i + 1, (c->n_pending - i) * sizeof(c->pending[0]));
        memmove(c->pending_buf + i, c->pending_buf + i + 1, (c->n_pending - i) * sizeof(c->pending_buf[0]));
}

static inline unsigned char usbfs_pending_endpoint(const struct usbfs_client *c, unsigned i)
{
        return ((const struct usbdevfs_urb *)c->pending[i]->data)->endpoint;
}

/* The URBs waiting on @endpoint. */
static inline unsigned usbfs_pending_on(struct usbfs_device *dev, unsigned char endpoint)
{
        unsigned n = 0;

        g_mutex_lock(&dev->lock);
        for (unsigned i = 0; i < USBFS_CLIENTS_MAX; i++)
                for (unsigned k = 0; k < dev->clients[i].n_pending; k++)
                        n += usbfs_pending_endpoint(&dev->clients[i], k) == endpoint;
        g_mutex_unlock(&dev->lock);
        return n;
}

/* The device has @len bytes to say on interrupt IN 0x85: the first URB waiting there gets them. */
static inline void usbfs_interrupt_fire(struct usbfs_device *dev, const uint8_t *data, unsigned len)
{
        g_mutex_lock(&dev->lock);
        for (unsigned i = 0; i < USBFS_CLIENTS_MAX; i++)
                for (unsigned k = 0;
                     k < dev->clients[i].n_pending && dev->clients[i].n_reap < USBFS_REAP_MAX; k++)
                        if (usbfs_pending_endpoint(&dev->clients[i], k) == 0x85) {
                                usbfs_pending_complete(&dev->clients[i], k, 0, data, len);
                                g_mutex_unlock(&dev->lock);
                                return;
                        }
        g_mutex_unlock(&dev->lock);
}

/* The device unplugged, as usbfs has it through the kernel's disconnect: the device is marked gone
 * (every ioctl but a reap fails with ENODEV from now on), and with @removed what was pending completes
 * with -ESHUTDOWN (libusb: LIBUSB_TRANSFER_NO_DEVICE) and the descriptor is taken off the device. */
static inline void usbfs_unplug(struct usbfs_device *dev, bool removed)
{
        g_mutex_lock(&dev->lock);
        dev->unplugged = true;
        dev->removed = removed;
        for (unsigned i = 0; i < USBFS_CLIENTS_MAX && removed; i++)
                while (dev->clients[i].n_pending && dev->clients[i].n_reap < USBFS_REAP_MAX)
                        usbfs_pending_complete(&dev->clients[i], 0, -ESHUTDOWN, NULL, 0);
        g_mutex_unlock(&dev->lock);
}

static inline gboolean usbfs_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer data)
{
        struct usbfs_device *dev = data;
        unsigned long request = umockdev_ioctl_client_get_request(client);

        g_mutex_lock(&dev->lock);
        if (request == (unsigned int)UDK_TEST_UMOCKDEV_POLL) {
                /* usbfs's poll: writable when a URB completed, HUP once the device is gone, ERR once the
                 * descriptor is off it. */
                struct usbfs_client *c = usbfs_client_of(dev, client);

                dev->polls += dev->refused >= 2 && client == dev->refused_client;
                umockdev_ioctl_client_complete(client,
                                               (c && c->n_reap ? POLLOUT : 0) |
                                                       (dev->unplugged ? POLLHUP : 0) |
                                                       (dev->removed ? POLLERR : 0),
                                               0);
        } else if (dev->unplugged && request != (unsigned int)USBDEVFS_REAPURBNDELAY &&
                   request != (unsigned int)USBDEVFS_REAPURB) {
                if (request == (unsigned int)USBDEVFS_DISCARDURB) {
                        dev->refused++;
                        dev->refused_client = client;
                }
                umockdev_ioctl_client_complete(client, -1, ENODEV);
        } else if (request == (unsigned int)USBDEVFS_CONNECTINFO) {
                struct usbdevfs_connectinfo ci = { .devnum = 2 };

                usbfs_complete_struct(client, sizeof(ci), &ci, 0);
        } else if (request == (unsigned int)USBDEVFS_GET_CAPABILITIES) {
                uint32_t caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
                                USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;

                usbfs_complete_struct(client, sizeof(caps), &caps, 0);
        } else if (request == (unsigned int)USBDEVFS_GET_SPEED) {
                umockdev_ioctl_client_complete(client, USBFS_SPEED_HIGH, 0);
        } else if (request == (unsigned int)USBDEVFS_CONTROL) {
                /* libusb asks for the active configuration (GET_CONFIGURATION) as it wraps the node. */
                UMockdevIoctlData *c =
                        umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0,
                                                    sizeof(struct usbdevfs_ctrltransfer), NULL);
                struct usbdevfs_ctrltransfer *ct = c ? (struct usbdevfs_ctrltransfer *)c->data : NULL;
                UMockdevIoctlData *v = NULL;

                if (ct && ct->bRequestType == 0x80 && ct->bRequest == 0x08 && ct->wLength == 1)
                        v = umockdev_ioctl_data_resolve(c, offsetof(struct usbdevfs_ctrltransfer, data), 1,
                                                        NULL);
                if (v) {
                        v->data[0] = 1;
                        umockdev_ioctl_client_complete(client, 1, 0);
                } else {
                        umockdev_ioctl_client_complete(client, -1, EPIPE);
                }
                if (v)
                        g_object_unref(v);
                if (c)
                        g_object_unref(c);
        } else if (request == (unsigned int)USBDEVFS_SUBMITURB) {
                usbfs_submit_urb(dev, client);
        } else if (request == (unsigned int)USBDEVFS_REAPURBNDELAY ||
                   request == (unsigned int)USBDEVFS_REAPURB) {
                /* Never waits (libusb asks only without delay): EAGAIN when nothing completed (ENODEV once
                 * unplugged). */
                struct usbfs_client *c = usbfs_client_of(dev, client);
                UMockdevIoctlData *slot =
                        c && c->n_reap ? umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client),
                                                                     0, sizeof(void *), NULL)
                                       : NULL;

                if (!slot) {
                        umockdev_ioctl_client_complete(client, -1,
                                                       c && c->n_reap   ? EFAULT
                                                       : dev->unplugged ? ENODEV
                                                                        : EAGAIN);
                } else {
                        UMockdevIoctlData *urb = c->reap[0];

                        memmove(c->reap, c->reap + 1, --c->n_reap * sizeof(c->reap[0]));
                        umockdev_ioctl_data_set_ptr(slot, 0, urb);
                        umockdev_ioctl_client_complete(client, 0, 0);
                        g_object_unref(urb);
                        g_object_unref(slot);
                }
        } else if (request == (unsigned int)USBDEVFS_DISCONNECT_CLAIM) {
                /* libusb claims with the kernel's driver detached (there is none here). */
                UMockdevIoctlData *d =
                        umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0,
                                                    sizeof(struct usbdevfs_disconnect_claim), NULL);

                if (d)
                        dev->claimed = (int)((struct usbdevfs_disconnect_claim *)d->data)->interface;
                umockdev_ioctl_client_complete(client, d ? 0 : -1, d ? 0 : EFAULT);
                if (d)
                        g_object_unref(d);
        } else if (request == (unsigned int)USBDEVFS_SETINTERFACE) {
                UMockdevIoctlData *d =
                        umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0,
                                                    sizeof(struct usbdevfs_setinterface), NULL);
                struct usbdevfs_setinterface *si = d ? (struct usbdevfs_setinterface *)d->data : NULL;
                bool ok = si && (int)si->interface == dev->claimed && si->altsetting <= 1;

                if (ok)
                        dev->alternate = (int)si->altsetting;
                umockdev_ioctl_client_complete(client, ok ? 0 : -1, ok ? 0 : EINVAL);
                if (d)
                        g_object_unref(d);
        } else if (request == (unsigned int)USBDEVFS_RELEASEINTERFACE) {
                UMockdevIoctlData *d = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0,
                                                                   sizeof(unsigned int), NULL);

                if (d)
                        dev->released = (int)*(unsigned int *)d->data;
                umockdev_ioctl_client_complete(client, d ? 0 : -1, d ? 0 : EFAULT);
                if (d)
                        g_object_unref(d);
        } else if (request == (unsigned int)USBDEVFS_IOCTL) {
                /* At the release libusb gives the interface back to the kernel's driver: there is none. */
                umockdev_ioctl_client_complete(client, -1, ENODATA);
        } else if (request == (unsigned int)USBDEVFS_DISCARDURB) {
                /* A pending URB is reaped with -ENOENT, as the kernel's unlinked ones; any other has
                 * completed already. */
                struct usbfs_client *c = usbfs_client_of(dev, client);
                unsigned long addr = *(unsigned long *)umockdev_ioctl_client_get_arg(client)->data;
                bool found = false;

                for (unsigned i = 0; c && i < c->n_pending && !found; i++)
                        if (c->pending[i]->client_addr == addr && c->n_reap < USBFS_REAP_MAX) {
                                usbfs_pending_complete(c, i, -ENOENT, NULL, 0);
                                dev->discarded++;
                                found = true;
                        }
                umockdev_ioctl_client_complete(client, found ? 0 : -1, found ? 0 : EINVAL);
        } else {
                if (!dev->unknown)
                        dev->unknown = request;
                umockdev_ioctl_client_complete(client, -1, ENOTTY);
        }
        g_mutex_unlock(&dev->lock);
        return TRUE;
}

/* Write what the node reads as (usbfs_descriptors) into the testbed's node when it does not read so yet:
 * at the start, and again once the fixture's node was added anew.  A node that reads so is left alone:
 * the write makes a new file, which a descriptor opened before it (udkd's) would not be. */
static inline void usbfs_node_write(UMockdevTestbed *bed)
{
        GError *error = NULL;
        char *root = umockdev_testbed_get_root_dir(bed), *node = g_build_filename(root, USBFS_DEVNODE, NULL);
        gchar *now = NULL;
        gsize len = 0;

        g_free(root);
        if (g_file_get_contents(node, &now, &len, NULL) && len == sizeof(usbfs_descriptors) &&
            memcmp(now, usbfs_descriptors, len) == 0) {
                g_free(now);
                g_free(node);
                return;
        }
        g_free(now);
        if (!g_file_set_contents(node, (const char *)usbfs_descriptors, sizeof(usbfs_descriptors), &error))
                udk_test_fail("%s: %s", node, error->message);
        g_free(node);
}

/* The device in @dev (its memory as it may be), its register at @level (1/256 dB), stalling the vendor
 * requests with @stall, attached to the node of @bed (which holds the fixture). */
static inline void usbfs_device_attach(struct usbfs_device *dev, UMockdevTestbed *bed, int16_t level,
                                       bool stall)
{
        GError *error = NULL;

        memset(dev, 0, sizeof(*dev));
        g_mutex_init(&dev->lock);
        dev->level = level;
        dev->stall = stall;
        dev->claimed = dev->alternate = dev->released = -1;
        usbfs_node_write(bed);
        dev->handler = umockdev_ioctl_base_new();
        g_signal_connect(dev->handler, "handle-ioctl", G_CALLBACK(usbfs_ioctl), dev);
        if (!umockdev_testbed_attach_ioctl(bed, USBFS_DEVNODE, dev->handler, &error))
                udk_test_fail("attach_ioctl: %s", error->message);
}

/* Once nothing uses the node any more (udkd stopped): what the device kept freed, the handler detached. */
static inline void usbfs_device_detach(struct usbfs_device *dev, UMockdevTestbed *bed)
{
        for (unsigned i = 0; i < USBFS_CLIENTS_MAX; i++) {
                struct usbfs_client *c = &dev->clients[i];

                for (unsigned k = 0; k < c->n_reap; k++)
                        g_object_unref(c->reap[k]);
                for (unsigned k = 0; k < c->n_pending; k++) {
                        g_object_unref(c->pending[k]);
                        g_object_unref(c->pending_buf[k]);
                }
        }
        ASSERT_TRUE(umockdev_testbed_detach_ioctl(bed, USBFS_DEVNODE, NULL));
        g_object_unref(dev->handler);
        g_mutex_clear(&dev->lock);
}

/* Plugged in again after usbfs_unplug(): the ioctls reach the device again; the register keeps its
 * value, as the device's own memory would. */
static inline void usbfs_replug(struct usbfs_device *dev)
{
        g_mutex_lock(&dev->lock);
        dev->unplugged = dev->removed = false;
        g_mutex_unlock(&dev->lock);
}

#endif
