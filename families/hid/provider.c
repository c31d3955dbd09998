/* SPDX-License-Identifier: MIT */
/*
 * The HID provider (udk/hid.h): the hidraw descriptor udkd handed with
 * the nub, its report descriptor, input reports on the driver's queue,
 * output and feature reports checked against the descriptor's sizes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/hidraw.h>

#include <udk/driver.h>
#include <udk/hid.h>
#include <udk/util.h>

struct udk_hid_device {
        struct udk_driver *drv;
        int fd; /* the host's: not ours to close */
        struct udk_dispatch_source *input;
        udk_hid_report_fn fn;
        void *data;
        size_t input_max; /* the longest input report */
        bool warned_size; /* one warning for reports of a wrong length, not one per report */
        size_t len;
        uint8_t bytes[UDK_HID_DESCRIPTOR_SIZE_MAX];
        struct udk_hid_descriptor desc;
        uint8_t buf[UDK_HID_REPORT_BYTES_MAX + 1];
};

/* The kernel's copy first; the nub's report_descriptor property (hex) where the node has no ioctls. */
static int descriptor_read(struct udk_hid_device *dev, const struct udk_nub *nub)
{
        struct hidraw_report_descriptor rd;
        const char *hex;
        int size = 0;

        if (ioctl(dev->fd, HIDIOCGRDESCSIZE, &size) == 0 && size > 0 && (size_t)size <= sizeof(rd.value)) {
                rd.size = (uint32_t)size;
                if (ioctl(dev->fd, HIDIOCGRDESC, &rd) == 0) {
                        dev->len = (size_t)size < sizeof(dev->bytes) ? (size_t)size : sizeof(dev->bytes);
                        memcpy(dev->bytes, rd.value, dev->len);
                        return 0;
                }
        }
        hex = udk_nub_property(nub, "report_descriptor");
        if (!hex) {
                udk_driver_log(dev->drv, UDK_LOG_ERROR,
                               "report descriptor: HIDIOCGRDESC failed and the nub has none");
                return -ENODATA;
        }
        if (udk_parse_hex(hex, dev->bytes, sizeof(dev->bytes), &dev->len) < 0) {
                udk_driver_log(dev->drv, UDK_LOG_ERROR, "the nub's report_descriptor '%s' is not hex bytes", hex);
                return -EINVAL;
        }
        return 0;
}

static void input_ready(void *data, struct udk_dispatch_source *source)
{
        struct udk_hid_device *dev = data;
        size_t want;
        ssize_t n;

        /* hidraw hands one whole report per read; asking for the longest never cuts one. */
        n = read(dev->fd, dev->buf, dev->input_max);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* ENODEV: unplugged (udkd stops us when its nub goes); 0: a node that is a plain file. */
                udk_driver_log(dev->drv, UDK_LOG_INFO, "input reports end: %s",
                               n ? strerror(errno) : "end of file");
                udk_dispatch_source_destroy(dev->input);
                dev->input = NULL;
                return;
        }
        want = udk_hid_report_size(&dev->desc, UDK_HID_REPORT_INPUT, dev->desc.report_ids ? dev->buf[0] : 0);
        if ((size_t)n != want) {
                if (!dev->warned_size)
                        udk_driver_log(
                                dev->drv, UDK_LOG_WARN,
                                "an input report of %zd bytes, its descriptor says %zu: dropped (and others "
                                "like it, silently)",
                                n, want);
                dev->warned_size = true;
                return;
        }
        dev->fn(dev->data, dev->buf, (size_t)n);
}

int udk_hid_device_open(struct udk_driver *drv, const struct udk_nub *nub, udk_hid_report_fn fn, void *data,
                        struct udk_hid_device **ret)
{
        struct udk_hid_device *dev;
        char err[160];
        int r;

        if (!drv || !nub || !ret)
                return -EINVAL;
        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        dev->drv = drv;
        dev->fn = fn;
        dev->data = data;
        dev->fd = udk_nub_fd(nub, 0);
        if (dev->fd < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "no hidraw device: udkd hands it for a nub with a devnode");
                r = -EBADF;
                goto fail;
        }
        r = descriptor_read(dev, nub);
        if (r < 0)
                goto fail;
        r = udk_hid_descriptor_parse(dev->bytes, dev->len, &dev->desc, err, sizeof(err));
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "bad report descriptor: %s", err);
                goto fail;
        }
        for (unsigned id = 0; id < 256; id++) {
                size_t size = udk_hid_report_size(&dev->desc, UDK_HID_REPORT_INPUT, (uint8_t)id);
                if (size > dev->input_max)
                        dev->input_max = size;
        }
        if (fn && dev->input_max) {
                r = udk_dispatch_fd_create(udk_driver_queue(drv), dev->fd, UDK_DISPATCH_READABLE,
                                           input_ready, dev, &dev->input);
                if (r < 0)
                        goto fail;
        }
        *ret = dev;
        return 0;
fail:
        free(dev);
        return r;
}

void udk_hid_device_close(struct udk_hid_device *dev)
{
        if (!dev)
                return;
        udk_dispatch_source_destroy(dev->input);
        free(dev);
}

const struct udk_hid_descriptor *udk_hid_device_descriptor(const struct udk_hid_device *dev)
{
        return &dev->desc;
}

const uint8_t *udk_hid_device_descriptor_bytes(const struct udk_hid_device *dev, size_t *ret_len)
{
        *ret_len = dev->len;
        return dev->bytes;
}

int udk_hid_device_write_output(struct udk_hid_device *dev, const uint8_t *report, size_t len)
{
        int r = udk_hid_report_check(&dev->desc, UDK_HID_REPORT_OUTPUT, report, len);
        ssize_t n;

        if (r < 0)
                return r;
        n = write(dev->fd, report, len);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

int udk_hid_device_set_feature(struct udk_hid_device *dev, const uint8_t *report, size_t len)
{
        int r = udk_hid_report_check(&dev->desc, UDK_HID_REPORT_FEATURE, report, len);

        if (r < 0)
                return r;
        return ioctl(dev->fd, HIDIOCSFEATURE(len), report) < 0 ? -errno : 0;
}

int udk_hid_device_get_feature(struct udk_hid_device *dev, uint8_t id, uint8_t *buf, size_t size)
{
        size_t want;
        int n;

        if (!buf || (!dev->desc.report_ids && id != 0))
                return -EINVAL;
        want = udk_hid_report_size(&dev->desc, UDK_HID_REPORT_FEATURE, id);
        if (want == 0)
                return -ENOENT;
        want += dev->desc.report_ids ? 0 : 1;
        if (size < want)
                return -EMSGSIZE;
        buf[0] = id;
        n = ioctl(dev->fd, HIDIOCGFEATURE(want), buf);
        return n < 0 ? -errno : n;
}
