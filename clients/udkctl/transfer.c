/* SPDX-License-Identifier: MIT */
/* The ring between a stream's RT callback and udkctl's file thread (see transfer.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <udk/activation.h>
#include <udk/clock.h>
#include <udk/util.h>

#include "transfer.h"
#include "udkctl.h"

int udkctl_transfer_init(struct udkctl_transfer *t, uint32_t channels, uint32_t capacity)
{
        uint32_t frame_size = channels * (uint32_t)sizeof(float);
        size_t size = udk_ring_memory_size(capacity, frame_size);
        void *memory;
        int r;

        memset(t, 0, sizeof(*t));
        if (channels == 0 || size == SIZE_MAX)
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
        t->channels = channels;
        t->capacity = capacity;
        return 0;
}

void udkctl_transfer_finish(struct udkctl_transfer *t)
{
        free(t->memory);
        t->memory = NULL;
}

/* RT-safe: one futex wake. */
static void wake_file_thread(struct udkctl_transfer *t)
{
        atomic_fetch_add_explicit(&t->wake, 1, memory_order_release);
        udk_futex_wake(&t->wake);
}

/* Frames of the device's timeline between the previous cycle and this one
 * (cycles this node was not run in); 0 for the first cycle.  RT-safe. */
static uint64_t cycle_gap(struct udkctl_transfer *t, const struct udk_node_cycle *cycle)
{
        uint64_t gap = 0;

        if (!atomic_load_explicit(&t->started, memory_order_relaxed)) {
                atomic_store_explicit(&t->first_sample_time, cycle->sample_time, memory_order_relaxed);
                atomic_store_explicit(&t->started, true, memory_order_release);
        } else if (cycle->sample_time > t->rt.next_sample_time) {
                gap = cycle->sample_time - t->rt.next_sample_time;
        }
        t->rt.next_sample_time = cycle->sample_time + cycle->frames;
        return gap;
}

int udkctl_transfer_play_cycle(void *data, const struct udk_node_cycle *cycle)
{
        struct udkctl_transfer *t = data;
        uint64_t gap;
        bool file_done;
        uint32_t n;

        if (atomic_load_explicit(&t->done, memory_order_relaxed))
                return 0;
        if (UDK_UNLIKELY(!cycle->output || cycle->output_channels != t->channels)) {
                atomic_fetch_add_explicit(&t->bad_cycles, 1, memory_order_relaxed);
                return -EINVAL;
        }
        gap = cycle_gap(t, cycle);

        /* file_done before the ring: the file thread sets it (release) after its last write, so
         * seeing it set means the ring already holds the last frame. */
        file_done = atomic_load_explicit(&t->file_done, memory_order_acquire);
        n = udk_ring_read(&t->ring, cycle->output, cycle->frames);
        atomic_fetch_add_explicit(&t->frames, n, memory_order_relaxed);
        if (!file_done)
                gap += cycle->frames - n;
        if (gap)
                atomic_fetch_add_explicit(&t->lost, gap, memory_order_relaxed);

        if (file_done && n == 0) {
                /* The previous cycle played the last frame, and that cycle is over. */
                atomic_store_explicit(&t->done, true, memory_order_release);
                wake_file_thread(t);
        } else if (!file_done && udk_ring_readable(&t->ring) <= t->capacity / 2) {
                wake_file_thread(t);
        }
        return 0;
}

int udkctl_transfer_record_cycle(void *data, const struct udk_node_cycle *cycle)
{
        struct udkctl_transfer *t = data;
        uint64_t gap, want;
        uint32_t n;

        if (atomic_load_explicit(&t->done, memory_order_relaxed))
                return 0;
        if (UDK_UNLIKELY(!cycle->input || cycle->input_channels != t->channels)) {
                atomic_fetch_add_explicit(&t->bad_cycles, 1, memory_order_relaxed);
                return -EINVAL;
        }

        /* Cycles this node missed are frames of the timeline the file will not have. */
        gap = cycle_gap(t, cycle);
        gap = UDK_MIN(gap, t->limit - t->rt.taken);
        t->rt.taken += gap;
        want = UDK_MIN((uint64_t)cycle->frames, t->limit - t->rt.taken);
        n = udk_ring_write(&t->ring, cycle->input, (uint32_t)want);
        t->rt.taken += want;
        atomic_fetch_add_explicit(&t->frames, n, memory_order_relaxed);
        if (gap + want - n)
                atomic_fetch_add_explicit(&t->lost, gap + want - n, memory_order_relaxed);

        if (t->rt.taken >= t->limit) {
                /* After the ring write: the file thread that sees done finds every frame in the ring. */
                atomic_store_explicit(&t->done, true, memory_order_release);
                wake_file_thread(t);
        } else if (udk_ring_readable(&t->ring) >= t->capacity / 4) {
                wake_file_thread(t);
        }
        return 0;
}

uint32_t udkctl_transfer_wake_seq(struct udkctl_transfer *t)
{
        return atomic_load_explicit(&t->wake, memory_order_acquire);
}

int udkctl_transfer_wait(struct udkctl_transfer *t, uint32_t seq, int timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;
        int r;

        r = udk_futex_wait(&t->wake, seq, deadline);
        return r == -ETIMEDOUT || r == -EINTR ? r : 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int signo)
{
        interrupted = 1;
}

void udkctl_transfer_block_signals(void)
{
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void udkctl_transfer_catch_signals(void)
{
        /* No SA_RESTART: the signal ends the futex wait with EINTR. */
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t set;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

bool udkctl_transfer_interrupted(void)
{
        return interrupted != 0;
}

int udkctl_transfer_check_and_wait(struct udkctl_transfer *t, struct udk_client_stream *stream, uint32_t seq,
                                   const char *what, int timeout_ms)
{
        enum udk_node_state state;

        if (udkctl_transfer_interrupted())
                return -EINTR;
        if (atomic_load_explicit(&t->bad_cycles, memory_order_relaxed)) {
                udkctl_error("the stream's cycles do not have its %" PRIu32 " %s", t->channels, what);
                return -EPROTO;
        }
        state = udk_client_stream_state(stream);
        if (state == UDK_NODE_SUSPENDED || state == UDK_NODE_CLOSED) {
                udkctl_error("udkd %s the stream", state == UDK_NODE_SUSPENDED ? "suspended" : "closed");
                return -ECANCELED;
        }
        udkctl_transfer_wait(t, seq, timeout_ms); /* a time-out only means: look again */
        return 0;
}

int udkctl_transfer_start(struct udk_client *client, const struct udk_client_stream_params *params,
                          udk_client_process_fn process, struct udkctl_transfer *t, const char *device,
                          struct udk_client_stream **ret)
{
        struct udk_client_stream *stream = NULL;
        int r = udk_client_open(client, params, process, t, &stream);

        if (r < 0)
                return udkctl_fail(client, r, "open");
        udkctl_transfer_catch_signals();
        r = udk_client_stream_wait_running(stream, UDKCTL_TRANSFER_START_MS);
        if (r < 0) {
                if (r == -ETIMEDOUT)
                        udkctl_error("the stream on %s did not start within %d s", device,
                                     UDKCTL_TRANSFER_START_MS / 1000);
                else
                        udkctl_fail(client, r, "start");
                udk_client_close(stream);
                return UDKCTL_EXIT_FAILURE;
        }
        *ret = stream;
        return 0;
}
