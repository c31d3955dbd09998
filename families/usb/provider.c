/* SPDX-License-Identifier: MIT */
/*
 * The USB family's provider (udk/usb.h): libusb on the descriptor udkd
 * opened, with libusb's event descriptors as sources of the driver's
 * dispatch queue.  When one is ready the queue calls libusb's event
 * handling with a zero timeout, and the completed transfers' callbacks
 * run there, on the queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <udk/usb.h>

#define POLLFDS_MAX    8u /* libusb has 2 or 3 on Linux (its event, timer and device descriptors) */
#define INTERFACES_MAX 32u
#define CLOSE_WAIT_NS  1000000000ull /* what close waits for the cancelled transfers */

struct usb_pollfd {
        int fd; /* -1: free */
        struct udk_dispatch_source *source;
};

struct usb_transfer {
        struct udk_usb_device *dev;
        struct libusb_transfer *t;
        udk_usb_transfer_fn fn;
        void *fn_data;
        uint8_t *owned; /* a control transfer's setup and data */
        struct usb_transfer *prev, *next;
};

struct udk_usb_device {
        struct udk_driver *drv;
        libusb_context *ctx;
        libusb_device_handle *handle;
        struct usb_pollfd pollfds[POLLFDS_MAX];
        struct udk_dispatch_source *tick; /* only when libusb's timeouts have no descriptor */
        struct usb_transfer *in_flight;
        uint32_t claimed; /* a bit per interface below INTERFACES_MAX */
};

int udk_usb_errno(int e)
{
        switch (e) {
        case LIBUSB_SUCCESS:
                return 0;
        case LIBUSB_ERROR_IO:
                return -EIO;
        case LIBUSB_ERROR_INVALID_PARAM:
                return -EINVAL;
        case LIBUSB_ERROR_ACCESS:
                return -EACCES;
        case LIBUSB_ERROR_NO_DEVICE:
                return -ENODEV;
        case LIBUSB_ERROR_NOT_FOUND:
                return -ENOENT;
        case LIBUSB_ERROR_BUSY:
                return -EBUSY;
        case LIBUSB_ERROR_TIMEOUT:
                return -ETIMEDOUT;
        case LIBUSB_ERROR_OVERFLOW:
                return -EOVERFLOW;
        case LIBUSB_ERROR_PIPE:
                return -EPIPE;
        case LIBUSB_ERROR_INTERRUPTED:
                return -EINTR;
        case LIBUSB_ERROR_NO_MEM:
                return -ENOMEM;
        case LIBUSB_ERROR_NOT_SUPPORTED:
                return -EOPNOTSUPP;
        default:
                return e >= 0 ? e : -EIO;
        }
}

int udk_usb_transfer_status_errno(int status)
{
        switch (status) {
        case LIBUSB_TRANSFER_COMPLETED:
                return 0;
        case LIBUSB_TRANSFER_TIMED_OUT:
                return -ETIMEDOUT;
        case LIBUSB_TRANSFER_CANCELLED:
                return -ECANCELED;
        case LIBUSB_TRANSFER_STALL:
                return -EPIPE;
        case LIBUSB_TRANSFER_NO_DEVICE:
                return -ENODEV;
        case LIBUSB_TRANSFER_OVERFLOW:
                return -EOVERFLOW;
        default:
                return -EIO;
        }
}

static void usb_events(struct udk_usb_device *dev)
{
        struct timeval zero = { 0, 0 };

        libusb_handle_events_timeout_completed(dev->ctx, &zero, NULL);
}

static void usb_ready(void *data, struct udk_dispatch_source *source)
{
        usb_events(data);
}

static void pollfd_added(int fd, short events, void *data)
{
        struct udk_usb_device *dev = data;
        uint32_t want = ((events & POLLIN) ? UDK_DISPATCH_READABLE : 0) |
                        ((events & POLLOUT) ? UDK_DISPATCH_WRITABLE : 0);

        for (unsigned i = 0; i < POLLFDS_MAX; i++) {
                if (dev->pollfds[i].fd >= 0)
                        continue;
                if (udk_dispatch_fd_create(udk_driver_queue(dev->drv), fd, want, usb_ready, dev,
                                           &dev->pollfds[i].source) < 0)
                        break;
                dev->pollfds[i].fd = fd;
                return;
        }
        udk_driver_log(dev->drv, UDK_LOG_ERROR, "libusb's descriptor %d not watched: its events are lost",
                       fd);
}

static void pollfd_removed(int fd, void *data)
{
        struct udk_usb_device *dev = data;

        for (unsigned i = 0; i < POLLFDS_MAX; i++)
                if (dev->pollfds[i].fd == fd) {
                        udk_dispatch_source_destroy(dev->pollfds[i].source);
                        dev->pollfds[i] = (struct usb_pollfd){ .fd = -1 };
                }
}

static int usb_watch(struct udk_usb_device *dev)
{
        const struct libusb_pollfd **fds = libusb_get_pollfds(dev->ctx);

        if (!fds)
                return -ENOMEM;
        libusb_set_pollfd_notifiers(dev->ctx, pollfd_added, pollfd_removed, dev);
        for (size_t i = 0; fds[i]; i++)
                pollfd_added(fds[i]->fd, fds[i]->events, dev);
        libusb_free_pollfds(fds);
        /* Linux's libusb has a timerfd for transfer timeouts; without one, look every 10 ms. */
        if (!libusb_pollfds_handle_timeouts(dev->ctx))
                return udk_dispatch_timer_create(udk_driver_queue(dev->drv), udk_dispatch_now(), 10000000,
                                                 usb_ready, dev, &dev->tick);
        return 0;
}

int udk_usb_device_open(struct udk_driver *drv, const struct udk_nub *nub, struct udk_usb_device **ret)
{
        struct udk_usb_device *dev;
        int fd = udk_nub_fd(nub, 0), r;

        if (!drv || !nub || !ret)
                return -EINVAL;
        if (fd < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "no usb device: udkd hands it for a nub with a devnode");
                return -EBADF;
        }
        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        dev->drv = drv;
        for (unsigned i = 0; i < POLLFDS_MAX; i++)
                dev->pollfds[i].fd = -1;
        /* No discovery: libusb would scan /dev/bus/usb and /sys, which the sandbox does not grant. */
        r = udk_usb_errno(libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY));
        if (r == 0)
                r = udk_usb_errno(libusb_init(&dev->ctx));
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "libusb: %s", strerror(-r));
                free(dev);
                return r;
        }
        r = udk_usb_errno(libusb_wrap_sys_device(dev->ctx, (intptr_t)fd, &dev->handle));
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "libusb on %s's device node: %s", udk_nub_name(nub),
                               strerror(-r));
                goto fail;
        }
        r = usb_watch(dev);
        if (r < 0)
                goto fail;
        *ret = dev;
        return 0;
fail:
        udk_usb_device_close(dev);
        return r;
}

void udk_usb_device_close(struct udk_usb_device *dev)
{
        if (!dev)
                return;
        for (struct usb_transfer *x = dev->in_flight; x; x = x->next)
                libusb_cancel_transfer(x->t);
        /*
         * Each cancelled transfer completes on the next event round, except on a device being unplugged:
         * the discard fails (ENODEV) and the kernel completes the URBs a moment later, when it is done
         * with the disconnect (libusb then sees POLLERR and ends them with LIBUSB_TRANSFER_NO_DEVICE).
         * Meanwhile usbfs says POLLHUP, so a round ends at once: bounded in time, not in rounds.
         */
        for (uint64_t deadline = udk_dispatch_now() + CLOSE_WAIT_NS;
             dev->in_flight && udk_dispatch_now() < deadline;) {
                struct timeval tv = { 0, 10000 };
                uint64_t round = udk_dispatch_now();

                libusb_handle_events_timeout_completed(dev->ctx, &tv, NULL);
                if (dev->in_flight && udk_dispatch_now() - round < 1000000)
                        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        }
        if (dev->in_flight)
                udk_driver_log(dev->drv, UDK_LOG_WARN, "usb transfers still in flight at close");
        for (unsigned i = 0; i < INTERFACES_MAX; i++)
                if (dev->claimed & (1u << i))
                        libusb_release_interface(dev->handle, (int)i);
        if (dev->handle)
                libusb_close(dev->handle);
        udk_dispatch_source_destroy(dev->tick);
        if (dev->ctx) {
                libusb_set_pollfd_notifiers(dev->ctx, NULL, NULL, NULL);
                libusb_exit(dev->ctx);
        }
        for (unsigned i = 0; i < POLLFDS_MAX; i++)
                udk_dispatch_source_destroy(dev->pollfds[i].source);
        free(dev);
}

libusb_device_handle *udk_usb_device_handle(struct udk_usb_device *dev)
{
        return dev ? dev->handle : NULL;
}

int udk_usb_device_claim_interface(struct udk_usb_device *dev, unsigned interface)
{
        int r;

        if (!dev || interface >= INTERFACES_MAX)
                return -EINVAL;
        libusb_set_auto_detach_kernel_driver(dev->handle, 1);
        r = udk_usb_errno(libusb_claim_interface(dev->handle, (int)interface));
        if (r < 0) {
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "usb interface %u not claimed: %s", interface,
                               strerror(-r));
                return r;
        }
        dev->claimed |= 1u << interface;
        return 0;
}

int udk_usb_device_release_interface(struct udk_usb_device *dev, unsigned interface)
{
        if (!dev || interface >= INTERFACES_MAX || !(dev->claimed & (1u << interface)))
                return -EINVAL;
        dev->claimed &= ~(1u << interface);
        return udk_usb_errno(libusb_release_interface(dev->handle, (int)interface));
}

int udk_usb_device_set_alternate(struct udk_usb_device *dev, unsigned interface, unsigned alternate)
{
        int r;

        if (!dev || interface >= INTERFACES_MAX || alternate > 255 || !(dev->claimed & (1u << interface)))
                return -EINVAL;
        r = udk_usb_errno(libusb_set_interface_alt_setting(dev->handle, (int)interface, (int)alternate));
        if (r < 0)
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "usb interface %u: alternate setting %u: %s",
                               interface, alternate, strerror(-r));
        return r;
}

int udk_usb_device_control(struct udk_usb_device *dev, uint8_t request_type, uint8_t request, uint16_t value,
                           uint16_t index, void *data, uint16_t len, unsigned timeout_ms)
{
        if (!dev || (len && !data))
                return -EINVAL;
        return udk_usb_errno(libusb_control_transfer(dev->handle, request_type, request, value, index, data,
                                                     len, timeout_ms));
}

static void transfer_done(struct libusb_transfer *t)
{
        struct usb_transfer *x = t->user_data;
        struct udk_usb_completion c = {
                .result = udk_usb_transfer_status_errno(t->status),
                .data = t->buffer,
                .actual = (size_t)t->actual_length,
        };

        if (t->type == LIBUSB_TRANSFER_TYPE_CONTROL)
                c.data = libusb_control_transfer_get_data(t);
        if (t->type == LIBUSB_TRANSFER_TYPE_ISOCHRONOUS) {
                c.packets = t->iso_packet_desc;
                c.n_packets = (unsigned)t->num_iso_packets;
                c.actual = 0;
                for (int i = 0; i < t->num_iso_packets; i++)
                        c.actual += t->iso_packet_desc[i].actual_length;
        }
        if (x->prev)
                x->prev->next = x->next;
        else
                x->dev->in_flight = x->next;
        if (x->next)
                x->next->prev = x->prev;
        x->fn(x->fn_data, &c);
        libusb_free_transfer(t);
        free(x->owned);
        free(x);
}

static struct usb_transfer *transfer_new(struct udk_usb_device *dev, int n_packets, udk_usb_transfer_fn fn,
                                         void *fn_data)
{
        struct usb_transfer *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        x->t = libusb_alloc_transfer(n_packets);
        if (!x->t) {
                free(x);
                return NULL;
        }
        x->dev = dev;
        x->fn = fn;
        x->fn_data = fn_data;
        return x;
}

static int transfer_submit(struct usb_transfer *x)
{
        int r = udk_usb_errno(libusb_submit_transfer(x->t));

        if (r < 0) {
                libusb_free_transfer(x->t);
                free(x->owned);
                free(x);
                return r;
        }
        x->next = x->dev->in_flight;
        if (x->next)
                x->next->prev = x;
        x->dev->in_flight = x;
        return 0;
}

int udk_usb_device_control_async(struct udk_usb_device *dev, uint8_t request_type, uint8_t request,
                                 uint16_t value, uint16_t index, const void *data, uint16_t len,
                                 unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data)
{
        struct usb_transfer *x;

        if (!dev || !fn || (len && !(request_type & LIBUSB_ENDPOINT_IN) && !data))
                return -EINVAL;
        x = transfer_new(dev, 0, fn, fn_data);
        if (!x)
                return -ENOMEM;
        x->owned = calloc(1, LIBUSB_CONTROL_SETUP_SIZE + (size_t)len);
        if (!x->owned) {
                libusb_free_transfer(x->t);
                free(x);
                return -ENOMEM;
        }
        libusb_fill_control_setup(x->owned, request_type, request, value, index, len);
        if (len && !(request_type & LIBUSB_ENDPOINT_IN))
                memcpy(x->owned + LIBUSB_CONTROL_SETUP_SIZE, data, len);
        libusb_fill_control_transfer(x->t, dev->handle, x->owned, transfer_done, x, timeout_ms);
        return transfer_submit(x);
}

static int transfer_plain(struct udk_usb_device *dev, uint8_t type, uint8_t endpoint, void *buf, size_t len,
                          unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data)
{
        struct usb_transfer *x;

        if (!dev || !fn || (len && !buf) || len > INT32_MAX)
                return -EINVAL;
        x = transfer_new(dev, 0, fn, fn_data);
        if (!x)
                return -ENOMEM;
        if (type == LIBUSB_TRANSFER_TYPE_BULK)
                libusb_fill_bulk_transfer(x->t, dev->handle, endpoint, buf, (int)len, transfer_done, x,
                                          timeout_ms);
        else
                libusb_fill_interrupt_transfer(x->t, dev->handle, endpoint, buf, (int)len, transfer_done, x,
                                               timeout_ms);
        return transfer_submit(x);
}

int udk_usb_device_bulk_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                              unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data)
{
        return transfer_plain(dev, LIBUSB_TRANSFER_TYPE_BULK, endpoint, buf, len, timeout_ms, fn, fn_data);
}

int udk_usb_device_interrupt_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                                   unsigned timeout_ms, udk_usb_transfer_fn fn, void *fn_data)
{
        return transfer_plain(dev, LIBUSB_TRANSFER_TYPE_INTERRUPT, endpoint, buf, len, timeout_ms, fn,
                              fn_data);
}

int udk_usb_device_iso_async(struct udk_usb_device *dev, uint8_t endpoint, void *buf, size_t len,
                             unsigned n_packets, unsigned packet_size, unsigned timeout_ms,
                             udk_usb_transfer_fn fn, void *fn_data)
{
        struct usb_transfer *x;

        if (!dev || !fn || !buf || !n_packets || n_packets > 1024 || !packet_size || packet_size > 65536 ||
            (size_t)n_packets * packet_size > len)
                return -EINVAL;
        x = transfer_new(dev, (int)n_packets, fn, fn_data);
        if (!x)
                return -ENOMEM;
        libusb_fill_iso_transfer(x->t, dev->handle, endpoint, buf, (int)(n_packets * packet_size),
                                 (int)n_packets, transfer_done, x, timeout_ms);
        libusb_set_iso_packet_lengths(x->t, packet_size);
        return transfer_submit(x);
}
