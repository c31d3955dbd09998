/* SPDX-License-Identifier: MIT */
/* The ring between an ALSA application and its udk stream's RT callback (see pcm-rt.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <udk/activation.h>
#include <udk/clock.h>
#include <udk/util.h>

#include "pcm-rt.h"

int udk_pcm_rt_init(struct udk_pcm_rt *t, bool playback, uint32_t channels, uint32_t capacity,
                    uint32_t max_frames)
{
        uint32_t frame_size = channels * (uint32_t)sizeof(float);
        size_t size;
        void *memory;
        int r;

        memset(t, 0, sizeof(*t));
        if (channels == 0 || capacity == 0 || max_frames == 0 || channels > UINT32_MAX / sizeof(float))
                return -EINVAL;
        size = udk_ring_memory_size(capacity, frame_size);
        if (size == SIZE_MAX)
                return -EINVAL;
        memory = aligned_alloc(UDK_CACHELINE, UDK_ALIGN_UP(size, (size_t)UDK_CACHELINE));
        if (!memory)
                return -ENOMEM;
        /* Touch every page now, so the RT callback never takes a page fault on them. */
        memset(memory, 0, size);
        r = udk_ring_init(&t->ring, memory, size, capacity, frame_size);
        if (r < 0) {
                free(memory);
                return r;
        }
        t->memory = memory;
        t->playback = playback;
        t->channels = channels;
        t->capacity = capacity;
        t->max_frames = max_frames;
        return 0;
}

void udk_pcm_rt_finish(struct udk_pcm_rt *t)
{
        free(t->memory);
        t->memory = NULL;
}

int udk_pcm_rt_process(void *data, const struct udk_node_cycle *cycle)
{
        struct udk_pcm_rt *t = data;
        /* Acquire: a run request orders the reset the application did before it. */
        uint32_t request = atomic_load_explicit(&t->request, memory_order_acquire);
        int r = 0;

        atomic_fetch_add_explicit(&t->cycles, 1, memory_order_relaxed);
        if (request != t->rt.seen) {
                t->rt.seen = request;
                /* Release: the ring accesses of the cycles before happen before a stop's answer. */
                atomic_store_explicit(&t->ack, request, memory_order_release);
                udk_futex_wake(&t->ack);
        }
        if (request & UDK_PCM_RT_RUN) {
                const void *src = t->playback ? NULL : cycle->input;
                uint32_t channels = t->playback ? cycle->output_channels : cycle->input_channels;
                uint32_t n;

                /* The frames vary from cycle to cycle under rate conversion: bounded, never assumed. */
                if (UDK_UNLIKELY(channels != t->channels || cycle->frames > t->max_frames ||
                                 (t->playback ? !cycle->output : !src))) {
                        atomic_fetch_add_explicit(&t->bad_cycles, 1, memory_order_relaxed);
                        r = -EINVAL;
                } else {
                        n = t->playback ? udk_ring_read(&t->ring, cycle->output, cycle->frames)
                                        : udk_ring_write(&t->ring, src, cycle->frames);
                        atomic_fetch_add_explicit(&t->position, n, memory_order_release);
                        if (n < cycle->frames)
                                atomic_fetch_add_explicit(&t->xruns, 1, memory_order_release);
                }
        }
        /* After the ring moved: the notifier's eventfd tells the application there is news. */
        atomic_fetch_add_explicit(&t->wake, 1, memory_order_release);
        udk_futex_wake(&t->wake);
        return r;
}

uint32_t udk_pcm_rt_request(struct udk_pcm_rt *t, bool run)
{
        uint32_t request = atomic_load_explicit(&t->request, memory_order_relaxed);

        /* The sequence makes every request a new value, so each gets its own answer. */
        request = ((request >> 1) + 1) << 1 | (run ? UDK_PCM_RT_RUN : 0);
        /* Release: what the application did to the ring before reaches the RT side with it. */
        atomic_store_explicit(&t->request, request, memory_order_release);
        return request;
}

int udk_pcm_rt_wait_ack(struct udk_pcm_rt *t, uint32_t request, int timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;

        for (;;) {
                uint32_t ack = atomic_load_explicit(&t->ack, memory_order_acquire);
                int r;

                if (ack == request)
                        return 0;
                r = udk_futex_wait(&t->ack, ack, deadline);
                if (r == -ETIMEDOUT && atomic_load_explicit(&t->ack, memory_order_acquire) != request)
                        return -ETIMEDOUT;
        }
}

int udk_pcm_rt_reset(struct udk_pcm_rt *t)
{
        uint32_t request = atomic_load_explicit(&t->request, memory_order_relaxed);
        size_t size = udk_ring_memory_size(t->capacity, t->channels * (uint32_t)sizeof(float));
        int r;

        if ((request & UDK_PCM_RT_RUN) || atomic_load_explicit(&t->ack, memory_order_acquire) != request)
                return -EBUSY;
        r = udk_ring_init(&t->ring, t->memory, size, t->capacity, t->channels * (uint32_t)sizeof(float));
        if (r < 0)
                return r;
        atomic_store_explicit(&t->position, 0, memory_order_relaxed);
        atomic_store_explicit(&t->xruns, 0, memory_order_relaxed);
        return 0;
}
