/* SPDX-License-Identifier: MIT */
/*
 * Audio between a stream's RT callback and udkctl's file thread (the main
 * thread), through a lock-free single-producer/single-consumer ring: the RT
 * callback never touches libsndfile, never allocates and never blocks.
 *
 * play:   file thread --ring--> RT callback --> the node's output
 * record: the node's input --> RT callback --ring--> file thread
 *
 * The RT side wakes the file thread through a futex word when the ring
 * wants attention (play: half empty; record: a quarter full) and when the
 * transfer is done.  Frames the RT side could not move (ring empty while the
 * file still had frames, ring full, cycles that never came) are counted as
 * lost.
 */
#ifndef UDKCTL_TRANSFER_H
#define UDKCTL_TRANSFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <udk/client.h>
#include <udk/device.h>
#include <udk/ring.h>

struct udkctl_transfer {
        struct udk_ring ring;
        void *memory;
        uint32_t channels;
        uint32_t capacity; /* frames */
        uint64_t limit;    /* record: frames of the device's timeline to take */

        _Atomic uint32_t wake;  /* futex word, bumped by the RT side */
        _Atomic bool file_done; /* play: the file thread put in its last frame */
        _Atomic bool done;      /* play: all played; record: limit reached */
        _Atomic bool started;   /* first_sample_time is valid */
        _Atomic uint64_t first_sample_time;
        _Atomic uint64_t frames;     /* frames moved by the RT side */
        _Atomic uint64_t lost;       /* frames that went missing */
        _Atomic uint64_t bad_cycles; /* cycles whose layout was not the stream's */

        struct {
                uint64_t next_sample_time;
                uint64_t taken; /* record: frames of the timeline taken so far */
        } rt;                   /* only the RT callback touches these */
};

/* A ring of @capacity frames of @channels floats.  -ENOMEM. */
int udkctl_transfer_init(struct udkctl_transfer *t, uint32_t channels, uint32_t capacity);

/* Free the ring.  Call after the stream is closed. */
void udkctl_transfer_finish(struct udkctl_transfer *t);

/* The process callback of play: the ring into the output.  RT-safe. */
int udkctl_transfer_play_cycle(void *data, const struct udk_node_cycle *cycle);

/* The process callback of record: the input into the ring, up to @limit frames.  RT-safe. */
int udkctl_transfer_record_cycle(void *data, const struct udk_node_cycle *cycle);

/*
 * Between two looks at the ring: -EINTR on Ctrl-C, -EPROTO when cycles came
 * without the stream's @channels (@what: "inputs" or "outputs"),
 * -ECANCELED when udkd suspended or closed @stream (each said on stderr),
 * else 0 after waiting up to @timeout_ms for the RT side's next wake after @seq.
 */
int udkctl_transfer_check_and_wait(struct udkctl_transfer *t, struct udk_client_stream *stream, uint32_t seq,
                                   const char *what, int timeout_ms);

#define UDKCTL_TRANSFER_START_MS 5000

/*
 * Open the stream of @params with @process on @t and wait (bounded) for its
 * first cycle, catching SIGINT/SIGTERM from then on.  0, or an exit status
 * after saying why on stderr (nothing left open).
 */
int udkctl_transfer_start(struct udk_client *client, const struct udk_client_stream_params *params,
                          udk_client_process_fn process, struct udkctl_transfer *t, const char *device,
                          struct udk_client_stream **ret);

/* The wake word's value, to pass to udkctl_transfer_wait() after looking at the ring. */
uint32_t udkctl_transfer_wake_seq(struct udkctl_transfer *t);

/*
 * The file thread's wait: until the RT side wakes it after @seq, or
 * @timeout_ms passes, or a signal arrives.  Returns 0, -ETIMEDOUT or -EINTR.
 */
int udkctl_transfer_wait(struct udkctl_transfer *t, uint32_t seq, int timeout_ms);

/*
 * SIGINT and SIGTERM stop a transfer.  Block them before connecting (the
 * client's threads, created meanwhile, inherit the block and never see
 * them), then catch them on the calling thread only, where they set the
 * flag udkctl_transfer_interrupted() reads and cut udkctl_transfer_wait()
 * short.
 */
void udkctl_transfer_block_signals(void);
void udkctl_transfer_catch_signals(void);
bool udkctl_transfer_interrupted(void);

#endif
