/* SPDX-License-Identifier: MIT */
/*
 * The time stamps of udk-bench compare: every client, udk's and JACK's
 * alike, writes its callback's entry and exit into its own ring of slots in
 * one shared memfd; udk-bench reads the rings while they run and draws the
 * same statistics from them for every server.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/util.h>

#include "bench-compare.h"

#define COLLECT_LAG 2u /* read a cycle once client 1 is this many cycles past it */

int bench_compare_table_create(unsigned clients, int *ret_fd, struct bench_compare_table **ret)
{
        struct bench_compare_table *t;
        int fd;

        if (clients == 0 || clients > BENCH_CHAIN_CLIENTS_MAX)
                return -EINVAL;
        fd = memfd_create("udk-bench-compare", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, sizeof(*t)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (t == MAP_FAILED) {
                int r = -errno;
                close(fd);
                return r;
        }
        /* A new memfd reads as zeros: every slot empty, every client STARTING. */
        t->version = BENCH_COMPARE_TABLE_VERSION;
        t->clients = clients;
        *ret_fd = fd;
        *ret = t;
        return 0;
}

int bench_compare_table_map(int fd, struct bench_compare_table **ret)
{
        struct bench_compare_table *t;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if ((size_t)st.st_size != sizeof(*t))
                return -EPROTO;
        t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (t == MAP_FAILED)
                return -errno;
        if (t->version != BENCH_COMPARE_TABLE_VERSION || t->clients == 0 ||
            t->clients > BENCH_CHAIN_CLIENTS_MAX) {
                munmap(t, sizeof(*t));
                return -EPROTO;
        }
        *ret = t;
        return 0;
}

struct bench_compare_table *bench_compare_table_unmap(struct bench_compare_table *t)
{
        if (t)
                munmap(t, sizeof(*t));
        return NULL;
}

static uint64_t load_relaxed(const _Atomic uint64_t *v)
{
        return atomic_load_explicit(v, memory_order_relaxed);
}

static void store_relaxed(_Atomic uint64_t *v, uint64_t x)
{
        atomic_store_explicit(v, x, memory_order_relaxed);
}

void bench_compare_stamp(struct bench_compare_table *t, unsigned index, uint32_t key, uint64_t start,
                         uint64_t tick, uint64_t entry, uint64_t exit)
{
        struct bench_compare_client *c;
        struct bench_compare_slot *slot;
        uint64_t seq;
        int cpu;

        if (index >= t->clients)
                return;
        c = &t->client[index];
        if (index == 0) {
                seq = load_relaxed(&c->latest) + 1;
                /* Relaxed: the chain's wake of the next client (a futex or an eventfd,
                 * full barriers in the kernel) orders it before their loads. */
                store_relaxed(&t->current, (uint64_t)key << 32 | (seq & UINT32_MAX));
        } else {
                uint64_t cur = load_relaxed(&t->current);
                if ((uint32_t)(cur >> 32) != key) {
                        store_relaxed(&c->orphans, load_relaxed(&c->orphans) + 1);
                        return;
                }
                /* Client 1's seq for this cycle, widened against its latest. */
                seq = (load_relaxed(&t->client[0].latest) & ~(uint64_t)UINT32_MAX) | (cur & UINT32_MAX);
                if (seq > load_relaxed(&t->client[0].latest))
                        seq -= UINT64_C(1) << 32;
        }
        slot = &c->slots[seq % BENCH_COMPARE_SLOTS];
        store_relaxed(&slot->seq, 0);
        /* Readers that see the times below must see seq 0 first. */
        atomic_thread_fence(memory_order_release);
        store_relaxed(&slot->start, start);
        store_relaxed(&slot->tick, tick);
        store_relaxed(&slot->entry, entry);
        store_relaxed(&slot->exit, exit);
        /* Publishes the times to a reader's acquire of seq. */
        atomic_store_explicit(&slot->seq, seq, memory_order_release);
        atomic_store_explicit(&c->latest, seq, memory_order_release);
        store_relaxed(&c->callbacks, load_relaxed(&c->callbacks) + 1);
        cpu = sched_getcpu();
        if (cpu >= 0)
                store_relaxed(&c->cpus, load_relaxed(&c->cpus) | UINT64_C(1) << UDK_MIN(cpu, 63));
}

void bench_compare_client_ready(struct bench_compare_table *t, unsigned index, bool realtime)
{
        if (index >= t->clients)
                return;
        atomic_store(&t->client[index].realtime, realtime);
        atomic_store(&t->client[index].state, BENCH_COMPARE_CLIENT_READY);
}

void bench_compare_client_fail(struct bench_compare_table *t, unsigned index, const char *fmt, ...)
{
        va_list ap;

        if (index >= t->clients)
                return;
        va_start(ap, fmt);
        vsnprintf(t->client[index].error, sizeof(t->client[index].error), fmt, ap);
        va_end(ap);
        /* The error text before the state that says to read it. */
        atomic_store(&t->client[index].state, BENCH_COMPARE_CLIENT_FAILED);
}

/* --- statistics --- */

void bench_compare_stats_reset(struct bench_compare_stats *s)
{
        udk_histogram_reset(&s->per_hop);
        udk_histogram_reset(&s->first_wake);
        udk_histogram_reset(&s->first_tick);
        udk_histogram_reset(&s->cycle);
        for (size_t i = 0; i < UDK_ELEMENTSOF(s->hop); i++)
                udk_histogram_reset(&s->hop[i]);
        s->cycles = s->incomplete = s->bad_times = s->lost = s->early_starts = s->early_ticks = 0;
}

bool bench_compare_stats_add(struct bench_compare_stats *s, unsigned n, uint64_t start, uint64_t tick,
                             const uint64_t *entry, const uint64_t *exit)
{
        if (n == 0 || n > BENCH_CHAIN_CLIENTS_MAX)
                goto bad;
        for (unsigned i = 0; i < n; i++)
                if (exit[i] < entry[i] || (i > 0 && entry[i] < exit[i - 1]))
                        goto bad;

        /* A server's start or tick may be an estimate that comes after the wake it
         * estimates (JACK2's DLL after an xrun): counted apart, the hops still count. */
        if (entry[0] >= start) {
                udk_histogram_add(&s->first_wake, entry[0] - start);
                udk_histogram_add(&s->hop[0], entry[0] - start);
        } else {
                s->early_starts++;
        }
        if (entry[0] >= tick)
                udk_histogram_add(&s->first_tick, entry[0] - tick);
        else
                s->early_ticks++;
        for (unsigned i = 1; i < n; i++) {
                uint64_t hop = entry[i] - exit[i - 1];
                udk_histogram_add(&s->per_hop, hop);
                udk_histogram_add(&s->hop[i], hop);
        }
        udk_histogram_add(&s->cycle, exit[n - 1] - entry[0]);
        s->cycles++;
        return true;
bad:
        s->bad_times++;
        return false;
}

/* Slot @seq of client @index as one consistent read; false when it holds another cycle. */
static bool read_slot(const struct bench_compare_table *t, unsigned index, uint64_t seq, uint64_t *start,
                      uint64_t *tick, uint64_t *entry, uint64_t *exit)
{
        const struct bench_compare_slot *slot = &t->client[index].slots[seq % BENCH_COMPARE_SLOTS];

        if (atomic_load_explicit(&slot->seq, memory_order_acquire) != seq)
                return false;
        *start = load_relaxed(&slot->start);
        *tick = load_relaxed(&slot->tick);
        *entry = load_relaxed(&slot->entry);
        *exit = load_relaxed(&slot->exit);
        /* The times were read before seq is read again. */
        atomic_thread_fence(memory_order_acquire);
        return load_relaxed(&slot->seq) == seq;
}

static void collect_one(struct bench_compare_collector *c, uint64_t seq)
{
        uint64_t start = 0, tick = 0, entry[BENCH_CHAIN_CLIENTS_MAX], exit[BENCH_CHAIN_CLIENTS_MAX];
        unsigned n = c->table->clients;

        for (unsigned i = 0; i < n; i++) {
                uint64_t s, k;
                if (!read_slot(c->table, i, seq, &s, &k, &entry[i], &exit[i])) {
                        c->stats->incomplete++;
                        return;
                }
                if (i == 0) {
                        start = s;
                        tick = k;
                }
        }
        bench_compare_stats_add(c->stats, n, start, tick, entry, exit);
}

void bench_compare_collect_begin(struct bench_compare_collector *c, struct bench_compare_table *t,
                                 struct bench_compare_stats *s)
{
        *c = (struct bench_compare_collector){
                .table = t,
                .stats = s,
                .next = atomic_load_explicit(&t->client[0].latest, memory_order_acquire) + 1,
        };
}

/* Read every cycle up to @upto (inclusive). */
static void collect_upto(struct bench_compare_collector *c, uint64_t upto)
{
        uint64_t latest = atomic_load_explicit(&c->table->client[0].latest, memory_order_acquire);

        /* Slots a lap behind client 1 may be rewritten while we read: skip them. */
        if (latest >= c->next + BENCH_COMPARE_SLOTS - COLLECT_LAG) {
                uint64_t skip_to = latest - BENCH_COMPARE_SLOTS + 2 * COLLECT_LAG;
                if (skip_to > c->next) {
                        c->stats->lost += skip_to - c->next;
                        c->next = skip_to;
                }
        }
        while (c->next <= upto)
                collect_one(c, c->next++);
}

void bench_compare_collect_poll(struct bench_compare_collector *c)
{
        uint64_t latest = atomic_load_explicit(&c->table->client[0].latest, memory_order_acquire);
        uint64_t upto = latest >= COLLECT_LAG ? latest - COLLECT_LAG : 0;

        if (c->last && upto > c->last)
                upto = c->last;
        collect_upto(c, upto);
}

void bench_compare_collect_end(struct bench_compare_collector *c)
{
        c->last = atomic_load_explicit(&c->table->client[0].latest, memory_order_acquire);
        /* Nothing measured at all: an empty window. */
        if (c->last < c->next)
                c->last = c->next - 1;
}

void bench_compare_collect_finish(struct bench_compare_collector *c, int timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)UDK_MAX(timeout_ms, 0) * 1000000u;
        struct timespec pause = { .tv_nsec = 1000000 };

        if (!c->last)
                bench_compare_collect_end(c);
        /* Wait for client 1 to be COLLECT_LAG cycles past the last one, or give up. */
        while (atomic_load_explicit(&c->table->client[0].latest, memory_order_acquire) <
                       c->last + COLLECT_LAG &&
               udk_time_now() < deadline)
                nanosleep(&pause, NULL);
        collect_upto(c, c->last);
}
