/* SPDX-License-Identifier: MIT */
/*
 * Activation records: how the IO cycle wakes a client's real-time thread in
 * another process, and how that client wakes the next one.
 *
 * One record per participant, at the start of its shared-memory segment.
 * Its status is a futex word that moves only by compare-and-swap:
 *
 *   IDLE --trigger--> TRIGGERED --client wakes--> AWAKE --done--> FINISHED
 *                         \                          /
 *                          `--- deadline passed ---> NEUTRALISED
 *
 * The server resets a record to IDLE at the start of each cycle, writes the
 * cycle's fields, and whoever comes before the client in the graph triggers
 * it.  A client that finishes moves AWAKE -> FINISHED and only then wakes
 * the next participant, so a client the server neutralised (its deadline
 * passed) fails that CAS and wakes nobody: its late finish cannot disturb a
 * later cycle.  When it returns it moves NEUTRALISED -> IDLE to say it is
 * back.
 *
 * Every field is in memory a client can write.  The server reads only the
 * status (compared with these constants, never used as an index) and the
 * times (statistics only); a client checks every slot it reads against its
 * own table before using it.
 */
#ifndef UDK_ACTIVATION_H
#define UDK_ACTIVATION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum udk_activation_status {
        UDK_ACTIVATION_IDLE = 0,
        UDK_ACTIVATION_TRIGGERED = 1,
        UDK_ACTIVATION_AWAKE = 2,
        UDK_ACTIVATION_FINISHED = 3,
        UDK_ACTIVATION_NEUTRALISED = 4,
};

/* Who to wake after finishing: a peer's slot, or the device's cycle. */
#define UDK_ACTIVATION_NEXT_DRIVER (-1)
/* Where a node's input comes from: its own input buffer (the server filled
 * it from the device), or the output buffer of the peer in that slot. */
#define UDK_ACTIVATION_INPUT_DEVICE (-1)

struct udk_activation {
        _Atomic uint32_t status; /* enum udk_activation_status; the futex word */
        uint32_t version;        /* UDK_ACTIVATION_VERSION */

        /* Written by the server before the trigger (the trigger's release
         * publishes them). */
        uint64_t sequence;    /* cycle counter */
        uint64_t sample_time; /* T of the cycle */
        uint64_t host_time;   /* host time of T */
        uint32_t frames;
        int32_t next;         /* peer slot, or UDK_ACTIVATION_NEXT_DRIVER */
        int32_t input;        /* peer slot, or UDK_ACTIVATION_INPUT_DEVICE */
        uint32_t gain_bits;   /* output gain (float bits) the client applies */
        uint32_t reserved[4];

        /* Times (CLOCK_MONOTONIC ns) of this cycle: set by whoever
         * triggered, by the client on waking and on finishing. */
        _Atomic uint64_t signal_time;
        _Atomic uint64_t awake_time;
        _Atomic uint64_t finish_time;
        _Atomic uint64_t cycles; /* cycles the client finished */
} __attribute__((aligned(64)));

#define UDK_ACTIVATION_VERSION 1

/* Both sides of the socket map it: its layout is part of the protocol. */
_Static_assert(sizeof(struct udk_activation) == 128, "activation record layout");
_Static_assert(__builtin_offsetof(struct udk_activation, signal_time) == 64, "activation record layout");

/* Reset to IDLE for a new cycle (the server, at cycle start).  RT-safe. */
void udk_activation_reset(struct udk_activation *a);

/*
 * IDLE -> TRIGGERED with a release, stamp @now as the signal time, and wake
 * the thread waiting on it.  False (nobody woken) when the record was not
 * IDLE.  RT-safe: one futex wake.
 */
bool udk_activation_trigger(struct udk_activation *a, uint64_t now);

/*
 * The client's wait: block until the status is TRIGGERED, then move it to
 * AWAKE and stamp @ret_awake_time.  A record found NEUTRALISED (the server
 * gave up on a trigger before the client woke) is moved back to IDLE first.  Returns 0, -ETIMEDOUT when
 * @deadline_ns (CLOCK_MONOTONIC, 0: none) passed, -EINTR when woken for
 * another reason (check your quit flag and call again).  RT-safe.
 */
int udk_activation_wait_triggered(struct udk_activation *a, uint64_t deadline_ns, uint64_t *ret_awake_time);

/* AWAKE -> FINISHED with a release, stamping @now.  False when the server
 * neutralised the client meanwhile (wake nobody then).  RT-safe. */
bool udk_activation_finish(struct udk_activation *a, uint64_t now);

/* TRIGGERED or AWAKE -> NEUTRALISED.  False when the client finished (or
 * was never triggered) first.  RT-safe. */
bool udk_activation_neutralise(struct udk_activation *a);

/* NEUTRALISED -> IDLE: the late client is back.  RT-safe. */
bool udk_activation_recover(struct udk_activation *a);

/* The status, with acquire.  RT-safe. */
static inline uint32_t udk_activation_status(struct udk_activation *a)
{
        return atomic_load_explicit(&a->status, memory_order_acquire);
}

/*
 * Futex wait on a shared (not process-private) word while it equals @val,
 * until @deadline_ns on CLOCK_MONOTONIC (0: no deadline).  0 on a wake-up
 * or a changed value, -ETIMEDOUT, -EINTR.  RT-safe: one system call.
 */
int udk_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t deadline_ns);

/* Wake every waiter on @word.  RT-safe: one system call. */
void udk_futex_wake(_Atomic uint32_t *word);

#endif
