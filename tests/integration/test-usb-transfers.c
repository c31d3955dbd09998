/* SPDX-License-Identifier: MIT */
/*
 * The USB family's transfers end to end under umockdev (run through
 * umockdev-wrapper): udkd opens /dev/bus/usb/001/002 of
 * tests/fixtures/usb-audio.umockdev and hands it to the mixer
 * (families/usb/mixer.c), whose provider wraps it with libusb; every
 * usbfs ioctl libusb makes on it reaches the emulated device of
 * tests/udk-test-usbfs.h, a UMockdevIoctlBase handler in this process that
 * answers the ones libusb needs (CONNECTINFO, GET_CAPABILITIES, GET_SPEED,
 * GET_CONFIGURATION, SUBMITURB and REAPURBNDELAY) and keeps the mixer's
 * level register.
 * Asserted: the exact setup packets and data of the
 * mixer's vendor GET and SET as the device saw them, the level control
 * and gain.level the register's value gives, and the exact samples a
 * client hears through the device's loopback and its gain, a client's
 * move written to the register, a stalled GET failing the start.  A test driver
 * (tests/usb-bulk) on the vendor interface covers the provider's claim,
 * alternate setting, bulk, isochronous and interrupt transfers, a
 * time-out and cancels (DISCONNECT_CLAIM, SETINTERFACE, bulk, iso and
 * interrupt URBs, DISCARDURB, RELEASEINTERFACE), and an unplug with
 * transfers in flight: usbfs's disconnect (ENODEV, -ESHUTDOWN, POLLHUP
 * and POLLERR, the revents the preload's poll() asks the device for),
 * then udev's remove.
 *
 * umockdev emulates ioctls only on descriptors its preload saw opened in
 * the process, not on one received over a socket, so the mixer's and the
 * probe's hosts run with tests/udk-test-umockdev-fd.c preloaded, which swaps udkd's
 * descriptor for one of the same node opened under umockdev before the
 * sandbox; the host stays sandboxed.  The bus driver's host runs
 * unsandboxed (it reads the testbed's /sys), and so does the probe's in
 * the unplug tests: a sandboxed host leaves with _exit(), without the
 * sanitizers' leak check, which an unsandboxed one's exit 0 has passed.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <umockdev.h>

#include <udk/client.h>
#include <udk/control.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          20000
#define REGISTRY_WAIT_MS WAIT_MS
#include "udk-test-udkd.h"
#include "udk-test-registry.h"
#include "udk-test-umockdev-fd.h"
#include "udk-test-usbfs.h"

struct fixture {
        UMockdevTestbed *bed;
        struct usbfs_device dev;
        struct proc udkd;
        struct udk_client *client;
        char dir[64], host[96];
        bool probe_unsandboxed; /* its exit then runs the sanitizers' leak check (a sandboxed host's skips it) */
};

/* $UDK_DRIVERHOST through a wrapper: the bus driver's host unsandboxed, the mixer's and the probe's
 * (sandboxed, the probe's unless probe_unsandboxed) with the descriptor swap preloaded. */
static void host_wrap(struct fixture *f)
{
        const char *host = getenv("UDK_DRIVERHOST"), *shim = getenv("UDK_TEST_UMOCKDEV_FD");
        FILE *out;

        if (!host || !shim)
                UDK_TEST_SKIP("UDK_DRIVERHOST or UDK_TEST_UMOCKDEV_FD is not set (run through meson test)");
        ASSERT_TRUE(mkdtemp(f->dir) != NULL);
        snprintf(f->host, sizeof(f->host), "%s/host", f->dir);
        out = fopen(f->host, "w");
        ASSERT_TRUE(out != NULL);
        fprintf(out,
                "#!/bin/sh\n"
                "for last; do :; done\n"
                "case \"$last\" in\n"
                "*/udk-driver-usb-bus.so) exec %s --no-sandbox \"$@\" ;;\n"
                "*/udk-driver-usb-mixer.so) UDK_TEST_UMOCKDEV_DEVNODE=" USBFS_DEVNODE
                " LD_PRELOAD=\"%s:$LD_PRELOAD\" exec %s \"$@\" ;;\n"
                "*/usb-bulk-probe.so) UDK_TEST_UMOCKDEV_DEVNODE=" USBFS_DEVNODE
                " LD_PRELOAD=\"%s:$LD_PRELOAD\" exec %s %s\"$@\" ;;\n"
                "*) exec %s \"$@\" ;;\n"
                "esac\n",
                host, shim, host, shim, host, f->probe_unsandboxed ? "--no-sandbox " : "", host);
        ASSERT_OK(fclose(out));
        ASSERT_OK(chmod(f->host, 0755));
        ASSERT_OK(setenv("UDK_DRIVERHOST", f->host, 1));
}

static void fixture_start(struct fixture *f, int16_t level, bool stall, bool bulk)
{
        const char *args[] = { "--drivers", getenv("UDK_TEST_USB_DIR"), bulk ? "--drivers" : NULL,
                               getenv("UDK_TEST_USB_BULK_DIR"), NULL };
        GError *error = NULL;

        if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "libumockdev-preload"))
                UDK_TEST_SKIP("not under umockdev-wrapper (LD_PRELOAD has no libumockdev-preload)");
        if (!args[1] || !args[3])
                UDK_TEST_SKIP(
                        "UDK_TEST_USB_DIR or UDK_TEST_USB_BULK_DIR is not set (run through meson test)");
        f->bed = umockdev_testbed_new();
        if (!umockdev_testbed_add_from_file(f->bed, getenv("UDK_TEST_USB_FIXTURE"), &error))
                udk_test_fail("fixture: %s", error->message);
        usbfs_device_attach(&f->dev, f->bed, level, stall);
        host_wrap(f);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-usb-transfers", f->udkd.socket, &f->client));
}

/* After udkd stopped. */
static void fixture_free(struct fixture *f)
{
        usbfs_device_detach(&f->dev, f->bed);
        g_object_unref(f->bed);
        unlink(f->host);
        rmdir(f->dir);
}

static void fixture_stop(struct fixture *f)
{
        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        fixture_free(f);
}

static void wait_control(struct fixture *f, udk_object_id device, const char *name, const char *value)
{
        wait_control_value(f->client, &f->udkd, device, name, value);
}

/* --- a client playing PLAYED into the mixer's device, its loopback bringing it back through the gain --- */

#define PLAYED 0.5f

/* The expected input sample's bits (high half), the cycles that brought exactly it (low half). */
static _Atomic uint64_t expect;

static int loop_process(void *data, const struct udk_node_cycle *cycle)
{
        uint64_t word = atomic_load(&expect);
        uint32_t bits = (uint32_t)(word >> 32);
        float want;
        bool all = cycle->input && cycle->frames > 0;

        memcpy(&want, &bits, sizeof(want));
        for (uint32_t i = 0; i < cycle->frames * cycle->output_channels; i++)
                cycle->output[i] = PLAYED;
        for (uint32_t i = 0; all && i < cycle->frames * cycle->input_channels; i++)
                all = cycle->input[i] == want;
        if (all)
                atomic_compare_exchange_strong(&expect, &word, word + 1);
        return 0;
}

/* PLAYED through the gain handler twice (the output at its end, the looped-back input at its start) at
 * @db, in every input sample of 8 whole cycles. */
static void expect_input(struct fixture *f, float db)
{
        float g = udk_level_db_to_gain(db, UDK_LEVEL_SILENT_DB), sample = PLAYED * g * g;
        uint32_t bits;

        memcpy(&bits, &sample, sizeof(bits));
        atomic_store(&expect, (uint64_t)bits << 32);
        for (uint64_t deadline = now_ms() + WAIT_MS; (atomic_load(&expect) & UINT32_MAX) < 8;) {
                if (now_ms() >= deadline)
                        udk_test_fail("the input never was %.9g for 8 cycles; stderr: %s", (double)sample,
                                      f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
}

/* The hosts that said they run without their sandbox. */
static unsigned unsandboxed_hosts(struct fixture *f)
{
        unsigned n = 0;

        proc_pump(&f->udkd, 2);
        for (const char *at = f->udkd.err; (at = strstr(at, "--no-sandbox: the driver runs")); at++)
                n++;
        return n;
}

/* The control URBs the device has seen, once there are @n. */
static void wait_seen(struct fixture *f, unsigned n, struct usbfs_control_seen *ret)
{
        for (uint64_t deadline = now_ms() + WAIT_MS;; proc_pump(&f->udkd, 2)) {
                g_mutex_lock(&f->dev.lock);
                if (f->dev.n_seen >= n) {
                        memcpy(ret, f->dev.seen, n * sizeof(*ret));
                        ASSERT_UINT_EQ(f->dev.n_seen, n);
                        g_mutex_unlock(&f->dev.lock);
                        return;
                }
                g_mutex_unlock(&f->dev.lock);
                if (now_ms() >= deadline)
                        udk_test_fail("%u control URBs seen, not %u, after %d ms; stderr: %s", f->dev.n_seen,
                                      n, WAIT_MS, f->udkd.err);
        }
}

/* The mixer reads the register at start (-12 dB), shows it, and writes a client's move (-20.5 dB). */
static void test_mixer_level(void)
{
        static const uint8_t get[8] = { 0xc0, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 };
        static const uint8_t set[8] = { 0x40, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 };
        struct fixture f = { .dir = "/tmp/udk-test-usb-xfer-XXXXXX" };
        struct udk_client_stream_params params;
        struct udk_client_stream *stream = NULL;
        struct usbfs_control_seen seen[2];
        udk_object_id device;
        union object o;

        fixture_start(&f, -12 * 256, false, false);
        wait_driver(f.client, &f.udkd, "usb-1-2_1.0", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "usb-mixer");
        /* One host unsandboxed, the bus driver's: the mixer's runs in its sandbox. */
        ASSERT_UINT_EQ(unsandboxed_hosts(&f), 1);
        ASSERT_OK(udk_client_find_class(f.client, "device", "usb-1-2_1.0", &device));
        wait_control(&f, device, "mixer", "-12.0 dB");
        wait_control(&f, device, "gain.level", "-12.0 dB");
        wait_seen(&f, 1, seen);
        ASSERT_TRUE(memcmp(seen[0].setup, get, 8) == 0);
        ASSERT_UINT_EQ(seen[0].data_len, 0);
        /* The samples through the device: its loopback brings a client's output back through the gain. */
        ASSERT_OK(udk_client_set_control(f.client, device, "source", "loopback"));
        wait_control(&f, device, "source", "loopback");
        udk_client_stream_params_defaults(&params);
        params.device = device;
        ASSERT_OK(udk_client_open(f.client, &params, loop_process, NULL, &stream));
        ASSERT_OK(udk_client_stream_wait_running(stream, WAIT_MS));
        expect_input(&f, -12.0f);

        ASSERT_OK(udk_client_set_control(f.client, device, "mixer", "-20.5"));
        wait_seen(&f, 2, seen);
        ASSERT_TRUE(memcmp(seen[1].setup, set, 8) == 0);
        ASSERT_UINT_EQ(seen[1].data_len, 2);
        ASSERT_UINT_EQ(seen[1].data[0], 0x80); /* -20.5 * 256 = -5248 = 0xeb80 */
        ASSERT_UINT_EQ(seen[1].data[1], 0xeb);
        wait_control(&f, device, "mixer", "-20.5 dB");
        wait_control(&f, device, "gain.level", "-20.5 dB");
        expect_input(&f, -20.5f);
        ASSERT_OK(udk_client_close(stream));
        g_mutex_lock(&f.dev.lock);
        ASSERT_INT_EQ(f.dev.level, -5248);
        ASSERT_UINT_EQ(f.dev.unknown, 0);
        g_mutex_unlock(&f.dev.lock);
        fixture_stop(&f);
}

/* A device that stalls the vendor GET: the mixer does not start, says why, and each of its starts (the
 * first and udkd's restarts until it gives up) asked exactly once. */
static void test_mixer_stall(void)
{
        static const uint8_t get[8] = { 0xc0, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00 };
        struct fixture f = { .dir = "/tmp/udk-test-usb-xfer-XXXXXX" };
        unsigned starts = 0;
        union object o;

        fixture_start(&f, 0, true, false);
        wait_driver(f.client, &f.udkd, "usb-1-2_1.0", "failed", &o);
        proc_wait_stderr(&f.udkd, "driver 'usb-mixer': reading the mixer level of channel 0: Broken pipe",
                         WAIT_MS);
        for (const char *at = f.udkd.err; (at = strstr(at, "started for nub usb-1-2_1.0 ")); at++)
                starts++;
        ASSERT_UINT_GE(starts, 1);
        g_mutex_lock(&f.dev.lock);
        ASSERT_UINT_EQ(f.dev.n_seen, starts);
        for (unsigned i = 0; i < f.dev.n_seen && i < USBFS_LOG_MAX; i++) {
                ASSERT_TRUE(memcmp(f.dev.seen[i].setup, get, 8) == 0);
                ASSERT_UINT_EQ(f.dev.seen[i].data_len, 0);
        }
        ASSERT_UINT_EQ(f.dev.unknown, 0);
        g_mutex_unlock(&f.dev.lock);
        ASSERT_TRUE(udk_client_find_class(f.client, "device", "usb-1-2_1.0", &(udk_object_id){ 0 }) < 0);
        fixture_stop(&f);
}

/* Wait until @n URBs wait on @endpoint. */
static void wait_pending(struct fixture *f, unsigned char endpoint, unsigned n)
{
        for (uint64_t deadline = now_ms() + WAIT_MS; usbfs_pending_on(&f->dev, endpoint) != n;
             proc_pump(&f->udkd, 2))
                if (now_ms() >= deadline)
                        udk_test_fail("%u URBs wait on 0x%02x, not %u, after %d ms; stderr: %s",
                                      usbfs_pending_on(&f->dev, endpoint), endpoint, n, WAIT_MS,
                                      f->udkd.err);
}

/* The probe (tests/usb-bulk) started: its interface claimed, its alternate setting set; up to its
 * time-out and the two INs it then leaves waiting (bulk 0x84 and interrupt 0x85). */
static void probe_started(struct fixture *f)
{
        union object o;

        wait_driver(f->client, &f->udkd, "usb-1-2_1.3", "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "usb-bulk-probe");
        proc_wait_stderr(&f->udkd,
                         "driver 'usb-bulk-probe': interrupt in (50 ms time-out): result -110, 0 bytes",
                         WAIT_MS);
        wait_pending(f, 0x84, 1);
        wait_pending(f, 0x85, 1);
        g_mutex_lock(&f->dev.lock);
        ASSERT_INT_EQ(f->dev.claimed, 3);
        ASSERT_INT_EQ(f->dev.alternate, 1);
        /* The time-out's URB discarded (then reaped with -ENOENT, which libusb reports as a time-out). */
        ASSERT_UINT_EQ(f->dev.discarded, 1);
        g_mutex_unlock(&f->dev.lock);
}

/* The provider's claim, alternate setting, bulk, isochronous and interrupt transfers and a time-out,
 * asynchronous on the queue: the probe (tests/usb-bulk) sends "udk-bulk" and reads it back reversed,
 * sends 4 isochronous packets and reads 4 (one short, one with an error), times out on interrupt IN,
 * then waits on bulk IN (the device has nothing) and on interrupt IN until the device has something
 * (the test says when), waits again; those two are cancelled at its stop, where the interface is
 * released. */
static void test_bulk_interrupt(void)
{
        static const uint8_t said[3] = { 0x01, 0x02, 0x03 };
        struct fixture f = { .dir = "/tmp/udk-test-usb-xfer-XXXXXX" };
        union object o;

        fixture_start(&f, -6 * 256, false, true);
        probe_started(&f);
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'usb-bulk-probe': bulk out: result 0, 8 bytes");
        ASSERT_STR_CONTAINS(f.udkd.err,
                            "driver 'usb-bulk-probe': bulk in: result 0, 8 bytes: 6b6c75622d6b6475");
        /* Isochronous OUT: 4 packets of 8 bytes, each taken whole; IN: 8, 3 (short), 0 with -EPROTO from
         * the device (libusb: LIBUSB_TRANSFER_ERROR, -EIO) and 8 bytes, each packet's bytes where its
         * 8 bytes start. */
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'usb-bulk-probe': iso out: result 0, 32 bytes, 4 packets: "
                                        "8/8 0, 8/8 0, 8/8 0, 8/8 0\n");
        ASSERT_STR_CONTAINS(f.udkd.err,
                            "driver 'usb-bulk-probe': iso in: result 0, 19 bytes, 4 packets: "
                            "8/8 0 a0a1a2a3a4a5a6a7, 8/3 0 b0b1b2, 8/0 -5, 8/8 0 d0d1d2d3d4d5d6d7\n");
        g_mutex_lock(&f.dev.lock);
        ASSERT_UINT_EQ(f.dev.bulk_len, 8);
        ASSERT_TRUE(memcmp(f.dev.bulk, "udk-bulk", 8) == 0);
        ASSERT_UINT_EQ(f.dev.bulk_in, 1);
        ASSERT_INT_EQ(f.dev.released, -1);
        /* The URBs as the provider submitted them: one each, ISO_ASAP, the 4 packets' lengths. */
        ASSERT_UINT_EQ(f.dev.n_iso, 2);
        for (unsigned i = 0; i < 2; i++) {
                const struct usbfs_iso_seen *k = &f.dev.iso[i];

                ASSERT_UINT_EQ(k->endpoint, i == 0 ? 0x06 : 0x87);
                ASSERT_UINT_EQ(k->type, USBDEVFS_URB_TYPE_ISO);
                ASSERT_UINT_EQ(k->flags, USBDEVFS_URB_ISO_ASAP);
                ASSERT_INT_EQ(k->n_packets, 4);
                ASSERT_INT_EQ(k->buffer_length, 32);
                for (unsigned p = 0; p < 4; p++)
                        ASSERT_UINT_EQ(k->length[p], 8);
        }
        for (unsigned b = 0; b < 32; b++)
                ASSERT_UINT_EQ(f.dev.iso[0].data[b], (b / 8) << 4 | (b % 8));
        g_mutex_unlock(&f.dev.lock);

        usbfs_interrupt_fire(&f.dev, said, sizeof(said));
        proc_wait_stderr(&f.udkd, "driver 'usb-bulk-probe': interrupt in: result 0, 3 bytes: 010203",
                         WAIT_MS);
        wait_pending(&f, 0x85, 1);
        /* The mixer beside it, on the same device through its own descriptor; both sandboxed. */
        wait_driver(f.client, &f.udkd, "usb-1-2_1.0", "running", &o);
        ASSERT_UINT_EQ(unsandboxed_hosts(&f), 1);

        f.client = udk_client_disconnect(f.client);
        proc_stop_server(&f.udkd);
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'usb-bulk-probe': interrupt in: result -125, 0 bytes: \n");
        ASSERT_STR_CONTAINS(f.udkd.err,
                            "driver 'usb-bulk-probe': bulk in (waiting): result -125, 0 bytes\n");
        g_mutex_lock(&f.dev.lock);
        ASSERT_UINT_EQ(f.dev.discarded, 3);
        ASSERT_INT_EQ(f.dev.released, 3);
        ASSERT_UINT_EQ(f.dev.unknown, 0);
        g_mutex_unlock(&f.dev.lock);
        ASSERT_UINT_EQ(usbfs_pending_on(&f.dev, 0x84) + usbfs_pending_on(&f.dev, 0x85), 0);
        fixture_free(&f);
}

/*
 * The device unplugged while the probe's bulk and interrupt INs wait: usbfs's disconnect (the URBs
 * complete with -ESHUTDOWN, ioctls fail with ENODEV, poll says POLLHUP | POLLERR) gives both callbacks
 * -ENODEV, and the probe ends its run (udk_driver_terminate): stopped, exit 0, no crash.  The mixer on
 * the same device, with nothing in flight, runs on: a client's move fails with ENODEV, is a warning, and
 * the control is set back.  Then udev's remove: the nubs go, and the drivers and the mixer's device
 * with them.
 */
static void test_unplug(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-usb-xfer-XXXXXX", .probe_unsandboxed = true };
        udk_object_id probe, mixer, device;
        union object o;

        fixture_start(&f, -6 * 256, false, true);
        probe_started(&f);
        mixer = wait_driver(f.client, &f.udkd, "usb-1-2_1.0", "running", &o);
        ASSERT_OK(udk_client_find_class(f.client, "device", "usb-1-2_1.0", &device));
        wait_control(&f, device, "mixer", "-6.0 dB");

        usbfs_unplug(&f.dev, true);
        proc_wait_stderr(&f.udkd, "driver 'usb-bulk-probe': interrupt in: result -19, 0 bytes: \n", WAIT_MS);
        proc_wait_stderr(&f.udkd, "driver 'usb-bulk-probe': bulk in (waiting): result -19, 0 bytes\n",
                         WAIT_MS);
        probe = wait_driver(f.client, &f.udkd, "usb-1-2_1.3", "stopped", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_TRUE(!strstr(f.udkd.err, "usb transfers still in flight at close"));
        ASSERT_TRUE(!strstr(f.udkd.err, "not submitted"));

        ASSERT_OK(udk_client_set_control(f.client, device, "mixer", "-20"));
        proc_wait_stderr(
                &f.udkd,
                "driver 'usb-mixer': mixer -20.0 dB not applied: writing the mixer level of channel 0: "
                "No such device",
                WAIT_MS);
        /* Refused: the control set back to the level the device keeps, which never saw a SET. */
        wait_control(&f, device, "mixer", "-6.0 dB");
        wait_control(&f, device, "gain.level", "-6.0 dB");
        wait_state(f.client, &f.udkd, mixer, "running", &o);
        g_mutex_lock(&f.dev.lock);
        ASSERT_INT_EQ(f.dev.level, -6 * 256);
        ASSERT_UINT_EQ(f.dev.n_seen, 1); /* the GET at start */
        g_mutex_unlock(&f.dev.lock);

        umockdev_testbed_uevent(f.bed, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2", "remove");
        wait_object(f.client, &f.udkd, "nub", "usb-1-2_1.3", false);
        wait_object(f.client, &f.udkd, "nub", "usb-1-2_1.0", false);
        wait_object(f.client, &f.udkd, "device", "usb-1-2_1.0", false);
        ASSERT_TRUE(udk_client_info(f.client, probe, &o.obj) < 0);
        ASSERT_TRUE(udk_client_info(f.client, mixer, &o.obj) < 0);
        g_mutex_lock(&f.dev.lock);
        ASSERT_INT_EQ(f.dev.released, -1); /* refused with ENODEV */
        ASSERT_UINT_EQ(f.dev.discarded, 1);
        ASSERT_UINT_EQ(f.dev.unknown, 0);
        g_mutex_unlock(&f.dev.lock);
        fixture_stop(&f);
}

/*
 * The probe stopped (a client's stop) in the middle of the kernel's disconnect: the device is gone (its
 * ioctls fail with ENODEV, poll says POLLHUP) but its URBs are not completed yet, so both discards of
 * the provider's close are refused; the close waits (each of its rounds ends at once on POLLHUP) until
 * the kernel is done with the disconnect, 120 of the probe's polls later (a close bounded by 100 rounds
 * gave up before it, leaving the transfers in flight, their callbacks never run), and then both
 * callbacks run with -ENODEV and the stop is clean.
 */
static void test_unplug_stop(void)
{
        struct fixture f = { .dir = "/tmp/udk-test-usb-xfer-XXXXXX", .probe_unsandboxed = true };
        udk_object_id probe;
        union object o;

        fixture_start(&f, -6 * 256, false, true);
        probe_started(&f);
        probe = wait_driver(f.client, &f.udkd, "usb-1-2_1.3", "running", &o);
        usbfs_unplug(&f.dev, false);
        ASSERT_OK(udk_client_driver_control(f.client, probe, UDK_DRIVER_STOP));
        for (uint64_t deadline = now_ms() + WAIT_MS;; proc_pump(&f.udkd, 2)) {
                g_mutex_lock(&f.dev.lock);
                if (f.dev.polls >= 120) {
                        ASSERT_UINT_EQ(f.dev.refused, 2);
                        g_mutex_unlock(&f.dev.lock);
                        break;
                }
                g_mutex_unlock(&f.dev.lock);
                if (now_ms() >= deadline || strstr(f.udkd.err, "usb transfers still in flight at close"))
                        udk_test_fail(
                                "%u discards refused, %u polls after them: the close gave up (or %d ms "
                                "passed); stderr: %s",
                                f.dev.refused, f.dev.polls, WAIT_MS, f.udkd.err);
        }
        usbfs_unplug(&f.dev, true);
        wait_state(f.client, &f.udkd, probe, "stopped", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        proc_pump(&f.udkd, 2);
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'usb-bulk-probe': interrupt in: result -19, 0 bytes: \n");
        ASSERT_STR_CONTAINS(f.udkd.err, "driver 'usb-bulk-probe': bulk in (waiting): result -19, 0 bytes\n");
        ASSERT_TRUE(!strstr(f.udkd.err, "usb transfers still in flight at close"));
        g_mutex_lock(&f.dev.lock);
        ASSERT_UINT_EQ(f.dev.discarded, 1); /* the time-out's; the others refused */
        ASSERT_UINT_EQ(f.dev.unknown, 0);
        g_mutex_unlock(&f.dev.lock);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_mixer_level, test_mixer_stall, test_bulk_interrupt, test_unplug, test_unplug_stop)
