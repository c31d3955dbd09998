/* SPDX-License-Identifier: MIT */
/*
 * How late the virtual clock wakes: a started device with no handlers runs
 * for a while and its lateness histogram (udk_device_stats()) gives the
 * figures.  Then cyclictest, the kernel's own yardstick, sleeps on the same
 * interval at the same priority with the same absolute CLOCK_MONOTONIC
 * sleeps, so the two can be compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-cycle.h"

/* cyclictest's histogram range (-h, in us); later wakes count as overflows. */
#define CYCLICTEST_HIST_US 10000u

int bench_wake_hold_dma_latency(void)
{
        int32_t zero = 0;
        int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        /* The constraint holds as long as the file stays open. */
        if (write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void sleep_seconds(double seconds)
{
        struct timespec ts = udk_time_to_timespec(udk_time_now() + (uint64_t)(seconds * 1e9));

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int wake_udk(const struct bench_wake_setup *setup, struct bench_wake *w)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        const struct udk_cycle_stats *st;
        char err[256] = "";
        int r;

        udk_device_config_defaults(&cfg);
        udk_strlcpy(cfg.name, "bench-wake", sizeof(cfg.name));
        cfg.rate = BENCH_RATE;
        cfg.period = w->period;
        cfg.rt_priority = setup->priority;
        r = udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err));
        if (r == 0)
                r = udk_device_open(dev, err, sizeof(err));
        if (r < 0) {
                udk_error("cannot make the virtual device: %s", err);
                goto out;
        }
        r = udk_device_start(dev);
        if (r < 0) {
                udk_error("cannot start the virtual device: %s", strerror(-r));
                goto out;
        }
        w->realtime = udk_device_is_realtime(dev);
        sleep_seconds(setup->seconds);
        udk_device_stop(dev);

        st = udk_device_stats(dev);
        bench_latency_from_histogram(&st->lateness, &w->udk);
        w->cycles = atomic_load(&st->cycles);
        w->xruns = atomic_load(&st->xruns);
        if (w->udk.count == 0) {
                udk_error("the virtual device ran no cycle in %g s", setup->seconds);
                r = -EIO;
        }
out:
        udk_device_destroy(dev);
        return r;
}

static void wake_cyclictest(const struct bench_wake_setup *setup, struct bench_wake *w)
{
        char prio[16], interval[16], loops[24], hist[16], err[256] = "";
        struct bench_child_output o;
        uint64_t n = (uint64_t)ceil(setup->seconds * 1e6 / w->interval_us);
        int r;

        snprintf(prio, sizeof(prio), "%d", setup->priority);
        snprintf(interval, sizeof(interval), "%u", w->interval_us);
        snprintf(loops, sizeof(loops), "%" PRIu64, UDK_MAX(n, (uint64_t)1));
        snprintf(hist, sizeof(hist), "%u", CYCLICTEST_HIST_US);
        char *argv[] = {
                (char *)setup->cyclictest,
                "-m",
                "-q",
                "-p",
                prio,
                "-i",
                interval,
                "-l",
                loops,
                "-h",
                hist,
                "-t",
                "1",
                NULL,
        };

        udk_info("wake lateness: cyclictest -m -q -p %s -i %s -l %s -h %s -t 1", prio, interval, loops,
                 hist);
        r = bench_run(argv, &o);
        if (r < 0) {
                snprintf(w->cyclictest_note, sizeof(w->cyclictest_note), "cannot run %s: %s",
                         setup->cyclictest, strerror(-r));
                goto fail;
        }
        if (o.status != 0) {
                o.err[strcspn(o.err, "\n")] = '\0';
                snprintf(w->cyclictest_note, sizeof(w->cyclictest_note),
                         "cyclictest exited with status %d: %.100s", o.status, o.err);
                bench_child_output_free(&o);
                goto fail;
        }
        r = bench_cyclictest_parse(o.out, &w->cyclictest, err, sizeof(err));
        bench_child_output_free(&o);
        if (r < 0) {
                snprintf(w->cyclictest_note, sizeof(w->cyclictest_note), "%s", err);
                goto fail;
        }
        w->has_cyclictest = true;
        return;
fail:
        udk_warn("no cyclictest figures at %u frames: %s", w->period, w->cyclictest_note);
}

int bench_wake_measure(const struct bench_wake_setup *setup, struct bench_wake *w)
{
        int r;

        w->interval_us = (unsigned)lround((double)w->period * 1e6 / BENCH_RATE);
        w->has_cyclictest = false;
        udk_info("wake lateness: udk, %u frames (%u us), priority %d, %g s", w->period, w->interval_us,
                 setup->priority, setup->seconds);
        r = wake_udk(setup, w);
        if (r < 0)
                return r;
        if (setup->cyclictest)
                wake_cyclictest(setup, w);
        return 0;
}
