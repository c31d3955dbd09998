/* SPDX-License-Identifier: MIT */
/*
 * A test driver of the USB provider's interfaces and bulk transfers
 * (tests/integration/test-usb-transfers.c): bound to the vendor interface
 * 3 of the audio interface, it claims it, sets its alternate setting 0,
 * sends 8 bytes to bulk OUT 0x03 and then reads up to 64 bytes from bulk
 * IN 0x84, both asynchronous through the dispatch queue, and logs each
 * completion.  Never installed.
 */
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/usb.h>

#define INTERFACE 3u
#define EP_OUT    0x03
#define EP_IN     0x84

struct probe {
        struct udk_driver *drv;
        struct udk_usb_device *usb;
        uint8_t out[8];
        uint8_t in[64];
};

static void in_done(void *data, const struct udk_usb_completion *c)
{
        struct probe *p = data;
        char hex[2 * sizeof(p->in) + 1] = "";

        for (size_t i = 0; i < c->actual && i < sizeof(p->in); i++)
                snprintf(hex + 2 * i, 3, "%02x", c->data[i]);
        udk_driver_log(p->drv, UDK_LOG_INFO, "bulk in: result %d, %zu bytes: %s", c->result, c->actual, hex);
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
                r = udk_usb_device_set_alternate(p->usb, INTERFACE, 0);
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
        .description = "claims a USB interface and moves a bulk transfer each way (a test driver)",
        .state_size = sizeof(struct probe),
        .start = probe_start,
        .stop = probe_stop,
};

UDK_DRIVER_EXPORT(probe_descriptor);
