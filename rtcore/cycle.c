/* SPDX-License-Identifier: MIT */
/*
 * The IO cycle, on the device's RT thread.  Everything here is RT-safe: no
 * allocation, no lock, no output, no system call but the backend's pacing
 * wait.  Failures are counted in the shared statistics.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <udk/util.h>

#include "device-private.h"

/* Bandwidth of the clock's DLL: smooth enough to hide scheduling jitter,
 * quick enough to lock within a few seconds. */
#define UDK_DLL_BANDWIDTH_HZ 0.5

#define stat_add(field, n)                                                                                   \
        atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (n),          \
                              memory_order_relaxed)
#define stat_set(field, v) atomic_store_explicit(&(field), (v), memory_order_relaxed)

uint64_t udk_device_frames_to_ns(const struct udk_device *dev, uint64_t frames)
{
        return (uint64_t)((unsigned __int128)frames * UDK_NSEC_PER_SEC / dev->cfg.rate);
}

/* Take the plan the control thread published, if any, and hand the old one
 * back.  Only when the retire queue has room, so nothing is ever lost. */
void udk_cycle_take_plan(struct udk_device *dev)
{
        struct udk_plan *plan, *old;

        if (atomic_load_explicit(&dev->pending, memory_order_relaxed) == NULL)
                return;
        if (udk_ring_writable(&dev->retired) == 0)
                return;
        /* Acquire: the plan's contents, written before the control thread's
         * release exchange, are visible from here on. */
        plan = atomic_exchange_explicit(&dev->pending, NULL, memory_order_acquire);
        if (!plan)
                return;
        old = dev->rt.plan;
        dev->rt.plan = plan;
        if (old)
                udk_ring_write(&dev->retired, &old, 1);
        stat_add(dev->shared->stats.plan_swaps, 1);
}

static void run_handlers(struct udk_device *dev, const struct udk_plan *plan, enum udk_io_operation op,
                         uint64_t sample_time, uint64_t host_time)
{
        uint32_t want = 1u << op;

        for (uint32_t i = 0; i < plan->n_handlers; i++) {
                const struct udk_plan_handler *h = &plan->handlers[i];
                if (!(h->ops & want))
                        continue;
                if (h->fn(h->ctx, dev->obj.id, op, dev->cfg.period, sample_time, host_time) < 0)
                        stat_add(dev->shared->stats.handler_errors, 1);
        }
}

/* Steps 5 and 6: every in-process node reads the input at T and fills its
 * own output, then the clients run; the outputs that made it are summed
 * into the output ring. */
static void run_graph_and_mix(struct udk_device *dev, const struct udk_plan *plan, uint64_t sample_time,
                              uint64_t host_time, uint64_t boundary_time)
{
        struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);
        struct udk_stream *out = udk_device_stream(dev, UDK_DIRECTION_OUTPUT);
        uint32_t frames = dev->cfg.period;
        size_t out_samples = (size_t)frames * dev->cfg.output_channels;
        float *mix = out ? udk_stream_frames(out, sample_time) : NULL;
        bool ok[UDK_DEVICE_NODES_MAX];

        for (uint32_t i = 0; i < plan->n_nodes; i++) {
                const struct udk_plan_node *n = &plan->nodes[i];
                struct udk_node_cycle nc = {
                        .sample_time = sample_time,
                        .host_time = host_time,
                        .frames = frames,
                        .input_channels = dev->cfg.input_channels,
                        .output_channels = dev->cfg.output_channels,
                        .input = in ? udk_stream_frames(in, sample_time) : NULL,
                        .output = n->output,
                };
                if (n->output)
                        memset(n->output, 0, out_samples * sizeof(float));
                ok[i] = n->process(n->data, &nc) >= 0;
                if (!ok[i])
                        stat_add(dev->shared->stats.handler_errors, 1);
        }

        if (mix) {
                memset(mix, 0, out_samples * sizeof(float));
                for (uint32_t i = 0; i < plan->n_nodes; i++) {
                        const float *src = plan->nodes[i].output;
                        if (!ok[i])
                                continue;
                        for (size_t s = 0; s < out_samples; s++)
                                mix[s] += src[s];
                }
        }
        if (plan->n_remotes > 0)
                udk_graph_run(dev, plan, sample_time, host_time, boundary_time, mix);
}

/* Step 2: the DLL follows the period boundaries; a zero timestamp goes out
 * whenever the boundary is a multiple of the ring (the zero-timestamp
 * period), or at the first boundary after a start or a resync. */
static uint64_t clock_update(struct udk_device *dev, uint64_t sample_time, uint64_t boundary_time_seen)
{
        uint64_t boundary = sample_time + dev->cfg.period;
        uint64_t boundary_time, period_ns;
        double rate;

        if (dev->rt.resync_time && dev->rt.dll.updates > 0) {
                /* Anchor on the schedule, not on the late wake that found
                 * the xrun, keeping the rate the DLL has learnt. */
                udk_dll_reset(&dev->rt.dll, dev->rt.resync_time);
        } else {
                /* The first update (an xrun may come before it) also
                 * starts the DLL on the nominal period. */
                udk_dll_update(&dev->rt.dll, dev->rt.resync_time ? dev->rt.resync_time : boundary_time_seen);
        }
        dev->rt.resync_time = 0;
        boundary_time = udk_dll_time(&dev->rt.dll);
        rate = udk_dll_rate(&dev->rt.dll);
        if (!(rate > 0))
                rate = dev->cfg.rate;
        if (dev->rt.zts_due || boundary % dev->ring_frames == 0) {
                udk_zts_publish(&dev->shared->zts, boundary, boundary_time, (uint64_t)(rate * 1000.0 + 0.5));
                dev->rt.zts_due = false;
        }
        /* The host time of sample time T, the start of this cycle's period. */
        period_ns = (uint64_t)(dev->cfg.period * 1e9 / rate);
        return boundary_time > period_ns ? boundary_time - period_ns : 0;
}

void udk_cycle_process(struct udk_device *dev, uint64_t wake_time, uint64_t boundary_time)
{
        struct udk_cycle_stats *st = &dev->shared->stats;
        const struct udk_backend_ops *be = dev->backend;
        void *inst = dev->backend_instance;
        uint64_t t = dev->rt.sample_time;
        uint32_t frames = dev->cfg.period;
        const struct udk_plan *plan;
        uint64_t host_time, busy;

        /* The first cycle (possibly one an xrun found: a late first wake-up) starts the loop. */
        if (dev->rt.dll.period_frames == 0) {
                udk_dll_init(&dev->rt.dll, dev->cfg.rate, frames, UDK_DLL_BANDWIDTH_HZ);
                dev->rt.zts_due = true;
        }

        udk_cycle_take_plan(dev);
        plan = dev->rt.plan;

        host_time = clock_update(dev, t, boundary_time);

        if (be->read(inst, t, frames) < 0)
                stat_add(st->backend_errors, 1);
        if (plan)
                run_handlers(dev, plan, UDK_IO_BEGIN_READ, t, host_time);
        if (plan && (plan->n_nodes > 0 || plan->n_remotes > 0)) {
                run_graph_and_mix(dev, plan, t, host_time, boundary_time);
        } else {
                struct udk_stream *out = udk_device_stream(dev, UDK_DIRECTION_OUTPUT);
                if (out)
                        memset(udk_stream_frames(out, t), 0, (size_t)frames * out->channels * sizeof(float));
        }
        if (plan)
                run_handlers(dev, plan, UDK_IO_WRITE_END, t, host_time);
        if (be->write(inst, t, frames) < 0)
                stat_add(st->backend_errors, 1);

        busy = udk_time_now();
        busy = busy > wake_time ? busy - wake_time : 0;
        udk_histogram_add(&st->busy, busy);
        stat_set(st->last_busy, busy);
        stat_set(st->sample_time, t);
        stat_add(st->cycles, 1);
        dev->rt.sample_time = t + frames;
}

static void count_xrun(struct udk_cycle_stats *st, _Atomic uint64_t *kind, uint64_t lateness)
{
        stat_add(st->xruns, 1);
        stat_add(*kind, 1);
        stat_set(st->last_xrun_lateness, lateness);
        if (lateness > atomic_load_explicit(&st->max_xrun_lateness, memory_order_relaxed))
                stat_set(st->max_xrun_lateness, lateness);
}

/*
 * A backend with its own clock (a sound card) reported @boundary for the
 * period the schedule expected at @deadline: the schedule follows the card
 * (its drift, a late first period).  A boundary a period or more late
 * means the card moved on without us (it ran over, or the backend
 * restarted it after an xrun, @restarted): the sample time jumps over the
 * periods lost and the clock resyncs on the new boundary.
 */
static void follow_backend_clock(struct udk_device *dev, uint64_t deadline, uint64_t boundary, bool restarted)
{
        struct udk_cycle_stats *st = &dev->shared->stats;
        uint32_t frames = dev->cfg.period;
        uint64_t late = boundary > deadline ? boundary - deadline : 0;

        /* The first period sets the grid: a card takes its time to start. */
        if (dev->rt.dll.period_frames == 0)
                late = 0;
        if (restarted || late >= dev->period_ns) {
                uint64_t missed = late / dev->period_ns;

                count_xrun(st, restarted ? &st->xrun_backend : &st->xrun_late_wakes, late);
                dev->rt.sample_time += missed * frames;
                stat_add(st->frames_skipped, missed * frames);
                dev->rt.resync_time = boundary;
                dev->rt.zts_due = true;
        }
        /* Re-anchor: the period of the current sample time ends at @boundary. */
        dev->rt.start_time = boundary - udk_device_frames_to_ns(dev, dev->rt.sample_time + frames);
}

/* The RT thread: wait, cycle, check the deadline, again.  The schedule is
 * absolute, start_time + frames_to_ns(T + period), so it never drifts (a
 * backend with its own clock moves start_time with it). */
void *udk_cycle_thread(void *arg)
{
        struct udk_device *dev = arg;
        struct udk_cycle_stats *st = &dev->shared->stats;
        uint32_t frames = dev->cfg.period;
        uint64_t period_ns = dev->period_ns;

        udk_rt_prefault_stack();
        if (dev->hooks.enter)
                dev->hooks.enter(dev->hooks.data);
        udk_rt_thread_set_current(true);

        while (atomic_load_explicit(&dev->keep_running, memory_order_relaxed)) {
                uint64_t t = dev->rt.sample_time;
                uint64_t deadline = dev->rt.start_time + udk_device_frames_to_ns(dev, t + frames);
                uint64_t wake = 0, boundary = 0, lateness, end, next_deadline;
                bool own_clock = false;
                int r;

                r = dev->backend->wait(dev->backend_instance, deadline, &wake, &boundary);
                if (r == -ENODEV) {
                        /* Gone for good: stop here and let the control thread
                         * remove the device (release: our last cycle is done). */
                        atomic_store_explicit(&dev->failure, r, memory_order_release);
                        break;
                }
                if (r < 0) {
                        stat_add(st->backend_errors, 1);
                        wake = boundary = udk_time_now();
                } else if (boundary != deadline || r == UDK_BACKEND_XRUN) {
                        follow_backend_clock(dev, deadline, boundary, r == UDK_BACKEND_XRUN);
                        t = dev->rt.sample_time;
                        deadline = boundary;
                        own_clock = true;
                }
                lateness = wake > deadline ? wake - deadline : 0;
                udk_histogram_add(&st->lateness, lateness);

                /* A card keeps what a late wake did not read: the next
                 * cycles catch up, and only its own xruns lose frames. */
                if (lateness >= period_ns && !own_clock) {
                        /* Jump over the periods that were missed, staying on
                         * the grid, and restart the DLL from the grid. */
                        uint64_t missed = lateness / period_ns;
                        while (missed > 0 && dev->rt.start_time + udk_device_frames_to_ns(
                                                                   dev, t + (missed + 1) * frames) > wake)
                                missed--;
                        count_xrun(st, &st->xrun_late_wakes, lateness);
                        dev->rt.sample_time = t + missed * frames;
                        stat_add(st->frames_skipped, missed * frames);
                        dev->rt.resync_time = dev->rt.start_time +
                                              udk_device_frames_to_ns(dev, dev->rt.sample_time + frames);
                        dev->rt.zts_due = true;
                }

                udk_cycle_process(dev, wake, boundary);

                end = udk_time_now();
                next_deadline = dev->rt.start_time + udk_device_frames_to_ns(dev, dev->rt.sample_time + frames);
                if (end > next_deadline && !own_clock)
                        count_xrun(st, &st->xrun_overruns, end - next_deadline);
        }

        udk_rt_thread_set_current(false);
        if (dev->hooks.leave)
                dev->hooks.leave(dev->hooks.data);
        return NULL;
}

/* A backend's own RT thread (JACK's process callback) in place of
 * udk_cycle_thread(): the backend is the clock, so a gap it reports is an
 * xrun and the DLL restarts from the boundary it saw. */
int udk_device_run_cycle(struct udk_device *dev, uint64_t wake_time, uint64_t boundary_time,
                         uint64_t skipped_frames)
{
        struct udk_cycle_stats *st = &dev->shared->stats;
        uint32_t frames = dev->cfg.period;
        uint64_t lateness, end;

        if (!atomic_load_explicit(&dev->keep_running, memory_order_relaxed))
                return -EAGAIN;
        if (!dev->rt_entered) {
                udk_rt_prefault_stack();
                if (dev->hooks.enter)
                        dev->hooks.enter(dev->hooks.data);
                dev->rt_entered = true;
        }
        /* The thread is the backend's between cycles: udk's rule holds inside one. */
        udk_rt_thread_set_current(true);
        lateness = wake_time > boundary_time ? wake_time - boundary_time : 0;
        udk_histogram_add(&st->lateness, lateness);
        skipped_frames -= skipped_frames % frames;
        if (skipped_frames > 0 && dev->rt.dll.period_frames != 0) {
                count_xrun(st, &st->xrun_late_wakes, udk_device_frames_to_ns(dev, skipped_frames));
                dev->rt.sample_time += skipped_frames;
                stat_add(st->frames_skipped, skipped_frames);
                dev->rt.resync_time = boundary_time;
                dev->rt.zts_due = true;
        }

        udk_cycle_process(dev, wake_time, boundary_time);

        end = udk_time_now();
        if (end > boundary_time + dev->period_ns)
                count_xrun(st, &st->xrun_overruns, end - boundary_time - dev->period_ns);
        udk_rt_thread_set_current(false);
        return 0;
}
