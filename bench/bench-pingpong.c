/* SPDX-License-Identifier: MIT */
/*
 * The machine's floor for a chain's hop: two processes that wake each other
 * through futexes in shared memory, paced like a device's cycle.  Process A
 * sleeps until each period boundary, then sends setup->round_trips round
 * trips A -> B -> A.  A send stamps the time, sets the other side's word
 * (release) and calls FUTEX_WAKE, as udk_activation_trigger() does; the
 * receiver, back from FUTEX_WAIT, stamps its wake and counts the difference,
 * as a client's awake time minus its signal time.  Both processes have the
 * chain clients' priority and placement.  The waits have no time-out: a
 * timed FUTEX_WAIT arms a timer, which is not the primitive's cost (udk-bench
 * kills a process that hangs).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <udk/activation.h>
#include <udk/clock.h>
#include <udk/log.h>
#include <udk/stats.h>
#include <udk/util.h>

#include "bench-chain.h"

#define EXIT_GRACE_MS 5000u

struct pingpong_side {
        _Atomic uint32_t word; /* 1: woken; the futex word */
        uint32_t reserved;
        _Atomic uint64_t sent; /* when the other side sent */
        struct udk_histogram hist;
} __attribute__((aligned(64)));

struct pingpong_shared {
        struct pingpong_side side[2];
        _Atomic uint32_t quit;
        _Atomic uint32_t realtime[2];
};

static void send_to(struct pingpong_side *to)
{
        atomic_store_explicit(&to->sent, udk_time_now(), memory_order_relaxed);
        /* The release publishes the time stamp to the receiver's acquire. */
        atomic_store_explicit(&to->word, 1, memory_order_release);
        udk_futex_wake(&to->word);
}

/* Wait for the other side; record the hop unless told to quit. */
static void receive(struct pingpong_shared *sh, unsigned self)
{
        struct pingpong_side *me = &sh->side[self];
        uint64_t awake;

        while (atomic_load_explicit(&me->word, memory_order_acquire) == 0)
                udk_futex_wait(&me->word, 0, 0);
        awake = udk_time_now();
        atomic_store_explicit(&me->word, 0, memory_order_relaxed);
        if (!atomic_load_explicit(&sh->quit, memory_order_relaxed)) {
                uint64_t sent = atomic_load_explicit(&me->sent, memory_order_relaxed);
                udk_histogram_add(&me->hist, awake > sent ? awake - sent : 0);
        }
}

static bool enter_placement(const struct bench_pingpong_setup *setup)
{
        struct sched_param p = { .sched_priority = setup->priority };

        if (setup->cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(setup->cpu, &set);
                sched_setaffinity(0, sizeof(set), &set);
        }
        return setup->priority > 0 && sched_setscheduler(0, SCHED_FIFO, &p) == 0;
}

static void side_a(const struct bench_pingpong_setup *setup, struct pingpong_shared *sh)
{
        uint64_t end = udk_time_now() + (uint64_t)(setup->seconds * 1e9);
        uint64_t next = udk_time_now() + setup->period_ns;

        while (next < end) {
                struct timespec ts = udk_time_to_timespec(next);

                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                        ;
                for (unsigned i = 0; i < setup->round_trips; i++) {
                        send_to(&sh->side[1]);
                        receive(sh, 0);
                }
                next += setup->period_ns;
                /* Behind by more than a period (the machine stalled): skip, as a device's clock does. */
                while (next < udk_time_now())
                        next += setup->period_ns;
        }
        atomic_store_explicit(&sh->quit, 1, memory_order_relaxed);
        send_to(&sh->side[1]);
}

static void side_b(struct pingpong_shared *sh)
{
        for (;;) {
                receive(sh, 1);
                if (atomic_load_explicit(&sh->quit, memory_order_relaxed))
                        return;
                send_to(&sh->side[0]);
        }
}

static pid_t start_side(const struct bench_pingpong_setup *setup, struct pingpong_shared *sh, unsigned self)
{
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid != 0)
                return pid < 0 ? -errno : pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        atomic_store(&sh->realtime[self], enter_placement(setup));
        if (self == 0)
                side_a(setup, sh);
        else
                side_b(sh);
        _exit(0);
}

int bench_pingpong_run(const struct bench_pingpong_setup *setup, struct bench_pingpong_result *ret)
{
        struct pingpong_shared *sh;
        unsigned timeout_ms = (unsigned)(setup->seconds * 1000.0) + EXIT_GRACE_MS;
        pid_t pid[2] = { -1, -1 };
        int r = 0, status[2];

        if (!(setup->seconds > 0) || setup->period_ns == 0 || setup->round_trips == 0)
                return -EINVAL;
        sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (sh == MAP_FAILED)
                return -errno;
        memset(sh, 0, sizeof(*sh));
        for (unsigned i = 0; i < 2; i++)
                udk_histogram_reset(&sh->side[i].hist);

        /* B first, so it waits before A sends. */
        for (unsigned i = 2; i-- > 0 && r == 0;) {
                pid[i] = start_side(setup, sh, i);
                if (pid[i] < 0) {
                        r = pid[i];
                        udk_error("ping-pong: cannot fork: %s", strerror(-r));
                }
        }
        if (r < 0) {
                atomic_store(&sh->quit, 1);
                send_to(&sh->side[1]);
        }
        for (unsigned i = 0; i < 2; i++) {
                if (pid[i] <= 0)
                        continue;
                status[i] = bench_reap(pid[i], timeout_ms);
                if (status[i] != 0 && r == 0) {
                        r = status[i] < 0 ? status[i] : -ECHILD;
                        udk_error("ping-pong: process %c %s", i == 0 ? 'A' : 'B',
                                  status[i] == -ETIMEDOUT ? "did not finish in time" : "failed");
                }
        }
        if (r == 0) {
                struct udk_histogram *all = &sh->side[0].hist;

                bench_histogram_merge(all, &sh->side[1].hist);
                *ret = (struct bench_pingpong_result){
                        .realtime = atomic_load(&sh->realtime[0]) && atomic_load(&sh->realtime[1]),
                };
                bench_latency_from_histogram(all, &ret->hop);
                if (ret->hop.count == 0) {
                        udk_error("ping-pong: no round trip in %g s", setup->seconds);
                        r = -EIO;
                }
        }
        munmap(sh, sizeof(*sh));
        return r;
}
