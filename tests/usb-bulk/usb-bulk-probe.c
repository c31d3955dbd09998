/* SPDX-License-Identifier: MIT */
/*
 * A test driver of the USB provider's interfaces, bulk and interrupt
 * transfers (tests/integration/test-usb-transfers.c): bound to the vendor
 * interface 3 of the audio interface, it claims it, sets its alternate
 * setting 1, sends 8 bytes to bulk OUT 0x03, then reads up to 64 bytes
 * from bulk IN 0x84, then waits on interrupt IN 0x85 (no time-out) again
 * after each report, all asynchronous through the dispatch queue, and
 * logs each completion.  Never installed.
 */
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/usb.h>

#define INTERFACE 3u
#define EP_OUT    0x03
#define EP_IN     0x84
#define EP_INT    0x85

struct probe {
        struct udk_driver *drv;
        struct udk_usb_device *usb;
        uint8_t out[8];
        uint8_t in[64];
        uint8_t report[8];
};

static void hex(char *out, const uint8_t *data, size_t n)
{
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", data[i]);
}

static void report_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        char text[2 * sizeof(p->report) + 1];
        int r;

        hex(text, c->data, c->actual < sizeof(p->report) ? c->actual : sizeof(p->report));
        udk_driver_log(p->drv, UDK_LOG_INFO, "interrupt in: result %d, %zu bytes: %s", c->result, c->actual,
                       text);
        if (c->result < 0)
                return;
        r = udk_usb_device_interrupt_async(p->usb, EP_INT, p->report, sizeof(p->report), 0, report_done, p);
        if (r < 0)
                udk_driver_log(p->drv, UDK_LOG_ERROR, "interrupt in not submitted: %s", strerror(-r));
}

static void in_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        char text[2 * sizeof(p->in) + 1];
        int r;

        hex(text, c->data, c->actual < sizeof(p->in) ? c->actual : sizeof(p->in));
        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk in: result %d, %zu bytes: %s", c->result, c->actual,
                       text);
        r = udk_usb_device_interrupt_async(p->usb, EP_INT, p->report, sizeof(p->report), 0, report_done, p);
        if (r < 0)
                udk_driver_log(p->drv, UDK_LOG_ERROR, "interrupt in not submitted: %s", strerror(-r));
}

static void out_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        int r;

        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk out: result %d, %zu bytes", c->result, c->actual);
        r = udk_usb_device_bulk_async(p->usb, EP_IN, p->in, sizeof(p->in), 1000, in_done, p);
        if (r < 0)
                udk_driver_log(p->drv, UDK_LOG_ERROR, "bulk in not submitted: %s", strerror(-r));
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
        .description = "a test driver: claims a USB interface, moves bulk both ways, waits on interrupt IN",
        .state_size = sizeof(struct probe),
        .start = probe_start,
        .stop = probe_stop,
};

UDK_DRIVER_EXPORT(probe_descriptor);
