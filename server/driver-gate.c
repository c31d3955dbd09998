/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "driver-gate.h"

/* RT-safe: one atomic load a cycle, and a memset of the period while closed. */
static int gate_run(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                    uint64_t sample_time, uint64_t host_time)
{
        struct udkd_gate *g = ctx;
        struct udk_stream *in;

        /* Acquire: pairs with the control thread's release, as any later state it publishes would. */
        if (!atomic_load_explicit(&g->closed, memory_order_acquire))
                return 0;
        in = udk_device_stream(g->dev, UDK_DIRECTION_INPUT);
        if (in)
                memset(udk_stream_frames(in, sample_time), 0, (size_t)frames * in->channels * sizeof(float));
        /* Only this thread writes it: a plain increment, published for readers. */
        atomic_store_explicit(&g->silenced, atomic_load_explicit(&g->silenced, memory_order_relaxed) + 1,
                              memory_order_release);
        return 0;
}

int udkd_gate_attach(struct udkd_gate *g, struct udk_device *dev, struct udk_handler **ret)
{
        g->dev = dev;
        atomic_store(&g->closed, false);
        atomic_store(&g->silenced, 0);
        return udk_device_add_handler(dev, "driver-gate", gate_run, g, UDK_IO_OPS_INPUT, NULL, ret);
}

void udkd_gate_close(struct udkd_gate *g)
{
        atomic_store_explicit(&g->closed, true, memory_order_release);
}

void udkd_gate_open(struct udkd_gate *g)
{
        atomic_store_explicit(&g->closed, false, memory_order_release);
}

bool udkd_gate_is_closed(const struct udkd_gate *g)
{
        return atomic_load_explicit(&g->closed, memory_order_acquire);
}

uint64_t udkd_gate_silenced(const struct udkd_gate *g)
{
        return atomic_load_explicit(&g->silenced, memory_order_acquire);
}
