/* SPDX-License-Identifier: MIT */
/*
 * Backends give a device its clock and its hardware IO: virtual (a timer),
 * ALSA (a PCM), JACK (a process callback).  A backend is a versioned method
 * table; its instance is allocated by the device (instance_size bytes,
 * zeroed) on the control thread.
 *
 * Who calls what:
 *   set_option, open, close        the control thread, device stopped
 *   start, stop                    the control thread, around the RT thread
 *   wait, read, write              the device's RT thread: RT-safe; wait is
 *                                  the cycle's one blocking call (the pacing)
 */
#ifndef UDK_BACKEND_H
#define UDK_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#define UDK_BACKEND_ABI_VERSION 1

/* wait's return when the hardware had an xrun and was restarted. */
#define UDK_BACKEND_XRUN 1

struct udk_device;

struct udk_backend_ops {
        uint32_t version;  /* UDK_BACKEND_ABI_VERSION */
        uint32_t reserved; /* must be 0 */
        const char *name;
        const char *description;
        size_t instance_size;

        /*
         * Take one backend-specific option from the configuration.  Returns 0,
         * -ENOENT when @key is not one of this backend's (the caller then
         * tries it as a control name), or -EINVAL/-ERANGE with a sentence in
         * @err that names the problem.
         */
        int (*set_option)(void *instance, const char *key, const char *value, char *err, size_t err_size);

        /*
         * Open the hardware for @dev's configuration (udk_device_config()),
         * add the backend's controls and report its latency and safety
         * offsets with udk_device_set_latency().  The stream rings exist
         * already.  On failure a sentence in @err; -ENODEV says the
         * hardware is not there (an unknown PCM, a card unplugged): udkd
         * then leaves that device out and runs the others.
         */
        int (*open)(void *instance, struct udk_device *dev, char *err, size_t err_size);
        void (*close)(void *instance);

        /* Prepare to run; *@ret_start_time is the host time of sample time 0. */
        int (*start)(void *instance, uint64_t *ret_start_time);
        void (*stop)(void *instance);

        /*
         * Block until the period that ends at host time @deadline can be
         * processed (a timer backend sleeps until @deadline; a hardware
         * backend waits for its interrupt and may ignore @deadline).
         * *@ret_wake_time is when it woke (for the lateness statistics);
         * *@ret_boundary_time is the backend's best knowledge of when the
         * period boundary really happened (a timer backend: @deadline; a
         * sound card: its own timestamp), which feeds the clock's DLL, so
         * scheduling jitter never reaches the zero timestamps.  RT-safe.
         *
         * A backend with its own clock reports boundaries that drift from
         * @deadline: the cycle's schedule follows them, and a boundary a
         * period or more past @deadline means periods were lost (counted
         * as an xrun, the sample time jumps over them).  Returns 0;
         * UDK_BACKEND_XRUN when the hardware ran over or under and the
         * backend restarted it (counted, the clock resyncs on the new
         * boundary); -ENODEV when the hardware is gone for good (the RT
         * thread stops and the device is removed: udk_device_failure());
         * another negative errno for a failure that is counted.
         */
        int (*wait)(void *instance, uint64_t deadline, uint64_t *ret_wake_time, uint64_t *ret_boundary_time);

        /* Hardware -> the input stream rings at @sample_time.  RT-safe. */
        int (*read)(void *instance, uint64_t sample_time, uint32_t frames);

        /* The output stream rings at @sample_time -> hardware.  RT-safe. */
        int (*write)(void *instance, uint64_t sample_time, uint32_t frames);
};

/* The embedded backends. */
extern const struct udk_backend_ops udk_backend_virtual;
extern const struct udk_backend_ops udk_backend_jack; /* where built with JACK */
extern const struct udk_backend_ops udk_backend_alsa; /* when built with alsa-lib */

/* Look a backend up by name; NULL if there is none. */
const struct udk_backend_ops *udk_backend_find(const char *name);

/* The @index-th known backend, NULL past the last (for listing them). */
const struct udk_backend_ops *udk_backend_at(size_t index);

#endif
