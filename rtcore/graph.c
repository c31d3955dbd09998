/* SPDX-License-Identifier: MIT */
/*
 * Step 5 of the IO cycle for the remote nodes (clients in other processes),
 * on the device's RT thread.  RT-safe: no allocation, no lock, no output;
 * the only system calls are futex wake (the trigger) and futex wait.
 *
 * The cycle writes each node's activation record, triggers the first node
 * and waits on its own graph record; each node wakes the next, the last one
 * wakes the cycle.  Past the deadline the cycle neutralises the node that
 * holds the chain up (by CAS, so its late finish wakes nobody), lets the
 * node after it read what the late one would have read, triggers it itself,
 * and waits again until the hard deadline (halfway from the deadline to the
 * period's end).  Only nodes that finished are mixed.
 *
 * A client can write its record and its buffers at any time: the cycle
 * reads only statuses (compared with constants) and times (statistics)
 * there; the order, the slots and the channel counts are its own.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <udk/util.h>

#include "device-private.h"

#define stat_add(field, n)                                                                                   \
        atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (n),          \
                              memory_order_relaxed)
#define stat_set(field, v) atomic_store_explicit(&(field), (v), memory_order_relaxed)

struct graph_run {
        struct udk_remote *node[UDK_DEVICE_REMOTES_MAX];
        int32_t input[UDK_DEVICE_REMOTES_MAX];  /* slot, or UDK_ACTIVATION_INPUT_DEVICE */
        bool consumed[UDK_DEVICE_REMOTES_MAX];  /* a chain link reads its output: not mixed */
        uint32_t n;
};

static void note_late(struct udk_device *dev, struct udk_remote *r)
{
        uint64_t run = atomic_load_explicit(&r->stats.late_run, memory_order_relaxed) + 1;

        stat_add(r->stats.late, 1);
        stat_set(r->stats.late_run, run);
        stat_add(dev->shared->stats.clients_late, 1);
        if (run >= dev->cfg.late_limit)
                stat_set(r->stats.suspended, true);
}

/* The device's first input channels at T into the node's input buffer. */
static void fill_input(struct udk_device *dev, const struct udk_remote *r, uint64_t sample_time)
{
        const struct udk_stream *in = udk_device_stream(dev, UDK_DIRECTION_INPUT);
        uint32_t frames = dev->cfg.period, ch = r->desc.input_channels;
        const float *src;
        float *dst = r->desc.input;

        if (ch == 0)
                return;
        if (!in) {
                memset(dst, 0, (size_t)frames * ch * sizeof(float));
                return;
        }
        src = udk_stream_frames(in, sample_time);
        if (ch == in->channels) {
                memcpy(dst, src, (size_t)frames * ch * sizeof(float));
                return;
        }
        for (uint32_t f = 0; f < frames; f++)
                memcpy(dst + (size_t)f * ch, src + (size_t)f * in->channels, ch * sizeof(float));
}

static void mix_output(struct udk_device *dev, const struct udk_remote *r, float *mix)
{
        uint32_t frames = dev->cfg.period, ch = r->desc.output_channels, dev_ch = dev->cfg.output_channels;
        const float *src = r->desc.output;

        /* A client's NaN or infinity must not reach the others (or a
         * filter's state downstream): it becomes silence. */
        for (uint32_t f = 0; f < frames; f++)
                for (uint32_t c = 0; c < ch; c++) {
                        float v = src[(size_t)f * ch + c];
                        mix[(size_t)f * dev_ch + c] += isfinite(v) ? v : 0.0f;
                }
}

/* Pick the nodes of this cycle and write their records. */
static void graph_prepare(struct udk_device *dev, const struct udk_plan *plan, struct graph_run *g,
                          uint64_t sample_time, uint64_t host_time)
{
        uint64_t sequence = ++dev->rt.graph_sequence;

        g->n = 0;
        for (uint32_t i = 0; i < plan->n_remotes; i++) {
                struct udk_remote *r = plan->remotes[i];

                if (atomic_load_explicit(&r->stats.suspended, memory_order_relaxed))
                        continue;
                /* Still in an earlier cycle's callback: skip it again. */
                if (udk_activation_status(r->desc.activation) == UDK_ACTIVATION_NEUTRALISED) {
                        stat_add(r->stats.cycles, 1);
                        note_late(dev, r);
                        continue;
                }
                g->node[g->n++] = r;
        }

        for (uint32_t k = 0; k < g->n; k++) {
                struct udk_remote *r = g->node[k];
                struct udk_activation *a = r->desc.activation;

                g->consumed[k] = false;
                if (r->desc.chain && k > 0) {
                        g->input[k] = g->node[k - 1]->desc.slot;
                        g->consumed[k - 1] = true;
                } else {
                        g->input[k] = UDK_ACTIVATION_INPUT_DEVICE;
                        fill_input(dev, r, sample_time);
                }
                udk_activation_reset(a);
                a->sequence = sequence;
                a->sample_time = sample_time;
                a->host_time = host_time;
                a->frames = dev->cfg.period;
                a->next = k + 1 < g->n ? g->node[k + 1]->desc.slot : UDK_ACTIVATION_NEXT_DRIVER;
                a->input = g->input[k];
                a->gain_bits = atomic_load_explicit(&r->gain_bits, memory_order_relaxed);
                stat_add(r->stats.cycles, 1);
        }
}

/* Node @k is late: neutralise it and hand its place to the next one.
 * False when it finished first after all. */
static bool graph_skip(struct udk_device *dev, struct graph_run *g, uint32_t k, uint64_t sample_time)
{
        struct udk_remote *r = g->node[k];

        /* Never triggered (its predecessor finished without waking it, and
         * the hard deadline has passed): nothing runs it, so skip it as it
         * is.  Should a late trigger still start it, its wake may reach the
         * next cycle's graph record: graph_wait() checks who woke it. */
        if (!udk_activation_neutralise(r->desc.activation) &&
            udk_activation_status(r->desc.activation) != UDK_ACTIVATION_IDLE)
                return false;
        if (k + 1 < g->n) {
                struct udk_remote *next = g->node[k + 1];

                if (g->input[k + 1] == r->desc.slot) {
                        /* The next one reads what the late one would have. */
                        g->input[k + 1] = g->input[k];
                        next->desc.activation->input = g->input[k];
                        if (g->input[k] == UDK_ACTIVATION_INPUT_DEVICE)
                                fill_input(dev, next, sample_time);
                }
                udk_activation_trigger(next->desc.activation, udk_time_now());
        }
        return true;
}

/* Wait for the last node, skipping late ones; returns when every node
 * finished, was neutralised or the hard deadline passed. */
static void graph_wait(struct udk_device *dev, struct graph_run *g, uint64_t deadline, uint64_t hard,
                       uint64_t sample_time)
{
        struct udk_activation *last = g->node[g->n - 1]->desc.activation;
        uint32_t k = 0;

        for (;;) {
                uint32_t s;

                if (udk_activation_status(dev->graph) != UDK_ACTIVATION_IDLE) {
                        /* Woken by the last node, or by a stale wake from a
                         * cycle that is over: only the first ends the wait. */
                        if (udk_activation_status(last) == UDK_ACTIVATION_FINISHED)
                                return;
                        udk_activation_reset(dev->graph);
                        if (udk_time_now() < hard)
                                continue;
                }
                if (udk_futex_wait(&dev->graph->status, UDK_ACTIVATION_IDLE, deadline) != -ETIMEDOUT)
                        continue;
                while (k < g->n && udk_activation_status(g->node[k]->desc.activation) == UDK_ACTIVATION_FINISHED)
                        k++;
                if (k == g->n)
                        return; /* the last one finished; its wake is on its way */
                deadline = hard;
                s = udk_activation_status(g->node[k]->desc.activation);
                if (s == UDK_ACTIVATION_IDLE && udk_time_now() < hard) {
                        /* Its predecessor finished without waking it. */
                        udk_activation_trigger(g->node[k]->desc.activation, udk_time_now());
                        continue;
                }
                if (graph_skip(dev, g, k, sample_time)) {
                        if (++k == g->n)
                                return;
                }
        }
}

void udk_graph_run(struct udk_device *dev, const struct udk_plan *plan, uint64_t sample_time,
                   uint64_t host_time, uint64_t boundary_time, float *mix)
{
        struct graph_run g;
        uint64_t period_ns = dev->period_ns, start, deadline, hard;

        graph_prepare(dev, plan, &g, sample_time, host_time);
        if (g.n == 0)
                return;

        deadline = boundary_time + period_ns * dev->cfg.client_deadline / 100;
        hard = boundary_time + period_ns * (dev->cfg.client_deadline + 100) / 200;
        udk_activation_reset(dev->graph);
        start = udk_time_now();
        /* A late wake still leaves the clients a quarter period: better an
         * overrun the cycle counts than every client cut off. */
        deadline = UDK_MAX(deadline, start + period_ns / 4);
        hard = UDK_MAX(hard, deadline + period_ns / 8);
        udk_activation_trigger(g.node[0]->desc.activation, start);
        graph_wait(dev, &g, deadline, hard, sample_time);
        udk_histogram_add(&dev->graph_times, udk_time_now() - start);

        for (uint32_t k = 0; k < g.n; k++) {
                struct udk_remote *r = g.node[k];
                struct udk_activation *a = r->desc.activation;
                uint64_t signal, awake, finish;

                if (udk_activation_status(a) != UDK_ACTIVATION_FINISHED) {
                        /* Never reached, or still running: out of this cycle. */
                        udk_activation_neutralise(a);
                        note_late(dev, r);
                        continue;
                }
                signal = atomic_load_explicit(&a->signal_time, memory_order_relaxed);
                awake = atomic_load_explicit(&a->awake_time, memory_order_relaxed);
                finish = atomic_load_explicit(&a->finish_time, memory_order_relaxed);
                if (awake >= signal && finish >= awake) {
                        udk_histogram_add(&r->stats.wake, awake - signal);
                        udk_histogram_add(&r->stats.busy, finish - awake);
                }
                stat_add(r->stats.finished, 1);
                stat_set(r->stats.late_run, 0);
                if (mix && !g.consumed[k] && r->desc.output_channels > 0)
                        mix_output(dev, r, mix);
        }
}
