/* SPDX-License-Identifier: MIT */
/*
 * A test driver of the USB provider's interfaces and asynchronous
 * transfers (tests/integration/test-usb-transfers.c): bound to the vendor
 * interface 3 of the audio interface, it claims it, sets its alternate
 * setting 1, and then, one after the other, each from the completion of
 * the one before: sends 8 bytes to bulk OUT 0x03, reads up to 64 bytes
 * from bulk IN 0x84, sends 4 isochronous packets of 8 bytes to 0x06,
 * reads 4 of 8 from 0x87, waits 50 ms on interrupt IN 0x85 for what never
 * comes (the time-out), then reads bulk IN 0x84 again (the device has
 * nothing more: it waits) and waits on interrupt IN 0x85 (no time-out),
 * again after each report.  All asynchronous through the dispatch queue;
 * it logs each completion.  A completion with -ENODEV (the device
 * unplugged) ends the run (udk_driver_terminate).  Never installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/usb.h>

#define INTERFACE  3u
#define EP_OUT     0x03
#define EP_IN      0x84
#define EP_INT     0x85
#define EP_ISO_OUT 0x06
#define EP_ISO_IN  0x87
#define ISO_N      4u
#define ISO_SIZE   8u
#define TIMEOUT_MS 50u

struct probe {
        struct udk_driver *drv;
        struct udk_usb_device *usb;
        uint8_t out[8];
        uint8_t in[64];
        uint8_t iso_out[ISO_N * ISO_SIZE];
        uint8_t iso_in[ISO_N * ISO_SIZE];
        uint8_t report[8];
        uint8_t waiting[64];
};

static void hex(char *out, const uint8_t *data, size_t n)
{
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", data[i]);
}

static void submitted(struct probe *p, const char *what, int r)
{
        if (r < 0)
                udk_driver_log(p->drv, UDK_LOG_ERROR, "%s not submitted: %s", what, strerror(-r));
}

/* The device is gone: this run ends (stop() follows the callback). */
static void gone(struct probe *p, const struct udk_usb_completion *c)
{
        if (c->result == -ENODEV)
                udk_driver_terminate(p->drv);
}

static void report_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        char text[2 * sizeof(p->report) + 1];

        hex(text, c->data, c->actual < sizeof(p->report) ? c->actual : sizeof(p->report));
        udk_driver_log(p->drv, UDK_LOG_INFO, "interrupt in: result %d, %zu bytes: %s", c->result, c->actual,
                       text);
        gone(p, c);
        if (c->result < 0)
                return;
        submitted(p, "interrupt in",
                  udk_usb_device_interrupt_async(p->usb, EP_INT, p->report, sizeof(p->report), 0,
                                                 report_done, p));
}

static void waiting_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;

        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk in (waiting): result %d, %zu bytes", c->result,
                       c->actual);
        gone(p, c);
}

static void timeout_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;

        udk_driver_log(p->drv, UDK_LOG_INFO, "interrupt in (%u ms time-out): result %d, %zu bytes",
                       TIMEOUT_MS, c->result, c->actual);
        submitted(p, "bulk in",
                  udk_usb_device_bulk_async(p->usb, EP_IN, p->waiting, sizeof(p->waiting), 0, waiting_done,
                                            p));
        submitted(p, "interrupt in",
                  udk_usb_device_interrupt_async(p->usb, EP_INT, p->report, sizeof(p->report), 0,
                                                 report_done, p));
}

/* Each packet as LENGTH/ACTUAL STATUS, and with @data its bytes: "8/3 0 b0b1b2". */
static void iso_log(struct probe *p, const char *what, const struct udk_usb_completion *c, bool data)
{
        char text[ISO_N * (2 * ISO_SIZE + 24)] = "", *at = text;
        size_t offset = 0;

        for (unsigned i = 0; c->packets && i < c->n_packets && i < ISO_N; i++) {
                const struct libusb_iso_packet_descriptor *k = &c->packets[i];
                unsigned n = k->actual_length < ISO_SIZE ? k->actual_length : ISO_SIZE;

                at += snprintf(at, (size_t)(text + sizeof(text) - at), "%s%u/%u %d", i ? ", " : "",
                               k->length, k->actual_length, udk_usb_transfer_status_errno(k->status));
                if (data && n && offset + n <= sizeof(p->iso_in)) {
                        *at++ = ' ';
                        hex(at, c->data + offset, n);
                        at += 2 * n;
                }
                offset += k->length;
        }
        udk_driver_log(p->drv, UDK_LOG_INFO, "%s: result %d, %zu bytes, %u packets: %s", what, c->result,
                       c->actual, c->n_packets, text);
}

static void iso_in_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;

        iso_log(p, "iso in", c, true);
        submitted(p, "interrupt in",
                  udk_usb_device_interrupt_async(p->usb, EP_INT, p->report, sizeof(p->report), TIMEOUT_MS,
                                                 timeout_done, p));
}

static void iso_out_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;

        iso_log(p, "iso out", c, false);
        submitted(p, "iso in",
                  udk_usb_device_iso_async(p->usb, EP_ISO_IN, p->iso_in, sizeof(p->iso_in), ISO_N, ISO_SIZE,
                                           1000, iso_in_done, p));
}

static void in_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        char text[2 * sizeof(p->in) + 1];

        hex(text, c->data, c->actual < sizeof(p->in) ? c->actual : sizeof(p->in));
        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk in: result %d, %zu bytes: %s", c->result, c->actual,
                       text);
        /* Packet i is 0xi0 .. 0xi7. */
        for (unsigned i = 0; i < sizeof(p->iso_out); i++)
                p->iso_out[i] = (uint8_t)((i / ISO_SIZE) << 4 | (i % ISO_SIZE));
        submitted(p, "iso out",
                  udk_usb_device_iso_async(p->usb, EP_ISO_OUT, p->iso_out, sizeof(p->iso_out), ISO_N,
                                           ISO_SIZE, 1000, iso_out_done, p));
}

static void out_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;

        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk out: result %d, %zu bytes", c->result, c->actual);
        submitted(p, "bulk in",
                  udk_usb_device_bulk_async(p->usb, EP_IN, p->in, sizeof(p->in), 1000, in_done, p));
}

static int probe_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct probe *p = state;
        int r;

        p->drv = drv;
        memcpy(p->out, "udk-bulk", sizeof(p->out));
        r = udk_usb_device_open(drv, provider, &p->usb);
        if (r < 0)
                return r;
        r = udk_usb_device_claim_interface(p->usb, INTERFACE);
        if (r == 0)
                r = udk_usb_device_set_alternate(p->usb, INTERFACE, 1);
        if (r == 0)
                r = udk_usb_device_bulk_async(p->usb, EP_OUT, p->out, sizeof(p->out), 1000, out_done, p);
        if (r < 0) {
                udk_usb_device_close(p->usb);
                p->usb = NULL;
        }
        return r;
}

static void probe_stop(struct udk_driver *drv, void *state)
{
        struct probe *p = state;

        udk_usb_device_close(p->usb);
        p->usb = NULL;
}

static const struct udk_driver_descriptor probe_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "usb-bulk-probe",
        .description =
                "a test driver: claims a USB interface, moves bulk, isochronous and interrupt transfers",
        .state_size = sizeof(struct probe),
        .start = probe_start,
        .stop = probe_stop,
};

UDK_DRIVER_EXPORT(probe_descriptor);
