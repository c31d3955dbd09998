/* SPDX-License-Identifier: MIT */
/* The SPSC frame ring: edges, wrap-around, a hostile header, and two stresses (threads, processes). */
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <sys/prctl.h>

#include <udk/ring.h>
#include <udk/shm.h>
#include <udk/util.h>

#include "udk-test.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/*
 * Frames moved by each stress, fewer (never under 2 million) when ASan slows
 * every copy.  On a loaded machine a hand-over can cost a time slice, so the
 * time grows with frames / capacity: keep the counts modest.
 */
#ifdef UNDER_ASAN
#define STRESS_THREAD_FRAMES  4000000ull
#define STRESS_PROCESS_FRAMES 2000000ull
#else
#define STRESS_THREAD_FRAMES  10000000ull
#define STRESS_PROCESS_FRAMES 4000000ull
#endif
#define STRESS_CAPACITY 4099u

#define HDR_SIZE sizeof(struct udk_ring_header)

static alignas(64) uint8_t ring_mem[HDR_SIZE + 1000 * 64];

/* A 12-byte frame that says which position it was written at. */
struct frame12 {
        uint32_t a, b, c;
};
_Static_assert(sizeof(struct frame12) == 12, "odd frame size");

static struct frame12 frame12_for(uint64_t pos)
{
        return (struct frame12){ (uint32_t)pos, ~(uint32_t)pos, (uint32_t)(pos * 2654435761u) };
}

static void frame12_check(const struct frame12 *f, uint64_t pos)
{
        struct frame12 want = frame12_for(pos);

        if (memcmp(f, &want, sizeof(want)) != 0)
                udk_test_fail("frame at position %" PRIu64 ": {%u %u %u}, want {%u %u %u}", pos, f->a, f->b,
                              f->c, want.a, want.b, want.c);
}

/* xorshift64*: the same sequence on every libc. */
static uint32_t rng_next(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static void test_ring_memory_size(void)
{
        ASSERT_UINT_EQ(HDR_SIZE, 192);
        ASSERT_UINT_EQ(udk_ring_memory_size(1, 1), 193);
        ASSERT_UINT_EQ(udk_ring_memory_size(7, 12), 192 + 84);
        ASSERT_UINT_EQ(udk_ring_memory_size(4099, 8), 192 + 4099 * 8);
        ASSERT_UINT_EQ(udk_ring_memory_size(UINT32_MAX, 16), 192 + (size_t)UINT32_MAX * 16);
}

static void test_ring_init(void)
{
        struct udk_ring ring, untouched;
        struct udk_ring_header *hdr = (struct udk_ring_header *)ring_mem;
        size_t need = udk_ring_memory_size(7, 12);

        memset(&ring, 0xee, sizeof(ring));
        untouched = ring;
        ASSERT_ERROR(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 0, 12), EINVAL);
        ASSERT_ERROR(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 7, 0), EINVAL);
        ASSERT_ERROR(udk_ring_init(&ring, NULL, sizeof(ring_mem), 7, 12), EINVAL);
        ASSERT_ERROR(udk_ring_init(NULL, ring_mem, sizeof(ring_mem), 7, 12), EINVAL);
        ASSERT_ERROR(udk_ring_init(&ring, ring_mem + 4, sizeof(ring_mem) - 4, 7, 12),
                     EINVAL); /* misaligned */
        ASSERT_ERROR(udk_ring_init(&ring, ring_mem, need - 1, 7, 12), ENOSPC);
        ASSERT_ERROR(udk_ring_init(&ring, ring_mem, HDR_SIZE, 7, 12), ENOSPC);
        ASSERT_TRUE(memcmp(&ring, &untouched, sizeof(ring)) == 0);

        memset(ring_mem, 0xab, sizeof(ring_mem));
        ASSERT_OK(udk_ring_init(&ring, ring_mem, need, 7, 12));
        ASSERT_UINT_EQ(hdr->version, UDK_RING_VERSION);
        ASSERT_UINT_EQ(hdr->frame_size, 12);
        ASSERT_UINT_EQ(hdr->capacity, 7);
        ASSERT_UINT_EQ(hdr->reserved, 0);
        ASSERT_UINT_EQ(atomic_load(&hdr->write_pos), 0);
        ASSERT_UINT_EQ(atomic_load(&hdr->read_pos), 0);
        for (size_t i = 16; i < HDR_SIZE; i++)
                ASSERT_UINT_EQ(ring_mem[i], 0); /* padding and positions cleared */
        ASSERT_PTR_EQ(ring.hdr, ring_mem);
        ASSERT_PTR_EQ(ring.frames, ring_mem + HDR_SIZE);
        ASSERT_UINT_EQ(ring.capacity, 7);
        ASSERT_UINT_EQ(ring.frame_size, 12);
        ASSERT_UINT_EQ(ring.corrupt, 0);
        ASSERT_UINT_EQ(ring_mem[need], 0xab); /* nothing written past the ring */
}

static void test_ring_empty(void)
{
        struct udk_ring ring;
        struct frame12 out[4];

        ASSERT_OK(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 7, 12));
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 0);
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 7);
        memset(out, 0x77, sizeof(out));
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 4), 0);
        ASSERT_UINT_EQ(out[0].a, 0x77777777u); /* nothing copied */
        ASSERT_UINT_EQ(udk_ring_skip(&ring, 4), 0);
        ASSERT_UINT_EQ(atomic_load(&ring.hdr->read_pos), 0);

        /* Empty again after a round trip. */
        struct frame12 in = frame12_for(0);
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in, 1), 1);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 4), 1);
        frame12_check(&out[0], 0);
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 0);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 4), 0);
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in, 0), 0);
        ASSERT_UINT_EQ(ring.corrupt, 0);
}

static void test_ring_full(void)
{
        struct udk_ring ring;
        struct frame12 in[10], out[10];

        for (unsigned i = 0; i < 10; i++)
                in[i] = frame12_for(i);
        ASSERT_OK(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 7, 12));
        ASSERT_UINT_EQ(udk_ring_write(&ring, in, 10), 7); /* only what fits */
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 0);
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 7);
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in[7], 1), 0);
        ASSERT_UINT_EQ(atomic_load(&ring.hdr->write_pos), 7);

        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 10), 7);
        for (unsigned i = 0; i < 7; i++)
                frame12_check(&out[i], i);
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 7);

        /* Full again, this time straddling the end of the buffer. */
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in[7], 3), 3);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 2), 2);
        ASSERT_UINT_EQ(udk_ring_write(&ring, in, 10), 6);
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 0);
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 7);
        ASSERT_UINT_EQ(ring.corrupt, 0); /* exactly full is not corrupt */
}

/* Random-sized writes and reads through a ring, every frame checked; returns frames moved. */
static uint64_t wrap_round(uint32_t capacity, unsigned iterations, uint64_t seed)
{
        static struct frame12 in[1000], out[1000];
        struct udk_ring ring;
        uint64_t wpos = 0, rpos = 0;

        ASSERT_TRUE(capacity <= 1000);
        ASSERT_OK(udk_ring_init(&ring, ring_mem, udk_ring_memory_size(capacity, 12), capacity, 12));
        for (unsigned it = 0; it < iterations; it++) {
                uint32_t want_w = rng_next(&seed) % (capacity + 1),
                         want_r = rng_next(&seed) % (capacity + 1);
                uint32_t space = capacity - (uint32_t)(wpos - rpos), n;

                ASSERT_UINT_EQ(udk_ring_writable(&ring), space);
                for (uint32_t i = 0; i < want_w; i++)
                        in[i] = frame12_for(wpos + i);
                n = udk_ring_write(&ring, in, want_w);
                ASSERT_UINT_EQ(n, UDK_MIN(want_w, space));
                wpos += n;

                ASSERT_UINT_EQ(udk_ring_readable(&ring), wpos - rpos);
                n = udk_ring_read(&ring, out, want_r);
                ASSERT_UINT_EQ(n, UDK_MIN(want_r, wpos - rpos));
                for (uint32_t i = 0; i < n; i++)
                        frame12_check(&out[i], rpos + i);
                rpos += n;
        }
        ASSERT_UINT_EQ(atomic_load(&ring.hdr->write_pos), wpos);
        ASSERT_UINT_EQ(atomic_load(&ring.hdr->read_pos), rpos);
        ASSERT_UINT_EQ(ring.corrupt, 0);
        return wpos;
}

static void test_ring_wrap(void)
{
        /* Capacities that do not divide 2^64, so index = pos % capacity really wraps mid-copy. */
        ASSERT_UINT_GE(wrap_round(7, 20000, 1), 20 * 7);
        ASSERT_UINT_GE(wrap_round(1000, 5000, 2), 20 * 1000);
        ASSERT_UINT_GE(wrap_round(1, 1000, 3), 20);
        ASSERT_UINT_GE(wrap_round(13, 10000, 4), 20 * 13);
}

static void test_ring_partial(void)
{
        struct udk_ring ring;
        struct frame12 in[20], out[20];

        for (unsigned i = 0; i < 20; i++)
                in[i] = frame12_for(i);
        ASSERT_OK(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 10, 12));
        ASSERT_UINT_EQ(udk_ring_write(&ring, in, 15), 10);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 4), 4);
        for (unsigned i = 0; i < 4; i++)
                frame12_check(&out[i], i);
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 4);
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in[10], 6), 4); /* frames 10..13, at indices 0..3 */
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 20), 10);    /* indices 4..9 then 0..3: two pieces */
        for (unsigned i = 0; i < 10; i++)
                frame12_check(&out[i], 4 + i);
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 0);
}

static void test_ring_skip(void)
{
        struct udk_ring ring;
        struct frame12 in[10], out[10];

        for (unsigned i = 0; i < 10; i++)
                in[i] = frame12_for(i);
        ASSERT_OK(udk_ring_init(&ring, ring_mem, sizeof(ring_mem), 7, 12));
        ASSERT_UINT_EQ(udk_ring_write(&ring, in, 5), 5);
        ASSERT_UINT_EQ(udk_ring_skip(&ring, 2), 2);
        ASSERT_UINT_EQ(udk_ring_readable(&ring), 3);
        ASSERT_UINT_EQ(udk_ring_writable(&ring), 4);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 1), 1);
        frame12_check(&out[0], 2);
        ASSERT_UINT_EQ(udk_ring_write(&ring, &in[5], 5), 5); /* wraps */
        ASSERT_UINT_EQ(udk_ring_skip(&ring, 100), 7);        /* only what is there */
        ASSERT_UINT_EQ(udk_ring_skip(&ring, 1), 0);
        ASSERT_UINT_EQ(atomic_load(&ring.hdr->read_pos), 10);
        ASSERT_UINT_EQ(udk_ring_write(&ring, in, 1), 1);
        ASSERT_UINT_EQ(udk_ring_read(&ring, out, 10), 1);
        frame12_check(&out[0], 0);
}

static void test_ring_attach(void)
{
        struct udk_ring prod, cons, untouched;
        struct udk_ring_header *hdr = (struct udk_ring_header *)ring_mem;
        size_t need = udk_ring_memory_size(7, 12);
        struct frame12 in[3] = { frame12_for(0), frame12_for(1), frame12_for(2) }, out[3];

        ASSERT_OK(udk_ring_init(&prod, ring_mem, need, 7, 12));
        memset(&cons, 0xee, sizeof(cons));
        untouched = cons;

        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need - 1, 7, 12), ENOSPC);
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 0, 12), EINVAL);
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 7, 0), EINVAL);
        ASSERT_ERROR(udk_ring_attach(&cons, NULL, need, 7, 12), EINVAL);
        /* Geometry other than the header announces: the sides disagree. */
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 6, 12), EPROTO);
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 7, 8), EPROTO);
        hdr->version = UDK_RING_VERSION + 1;
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 7, 12), EPROTO);
        hdr->version = 0;
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 7, 12), EPROTO);
        hdr->version = UDK_RING_VERSION;
        hdr->reserved = 1;
        ASSERT_ERROR(udk_ring_attach(&cons, ring_mem, need, 7, 12), EPROTO);
        hdr->reserved = 0;
        ASSERT_TRUE(memcmp(&cons, &untouched, sizeof(cons)) == 0);

        ASSERT_OK(udk_ring_attach(&cons, ring_mem, need, 7, 12));
        ASSERT_UINT_EQ(cons.capacity, 7);
        ASSERT_UINT_EQ(cons.frame_size, 12);
        ASSERT_UINT_EQ(cons.corrupt, 0);
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 3), 3);
        ASSERT_UINT_EQ(udk_ring_readable(&cons), 3);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 3), 3);
        for (unsigned i = 0; i < 3; i++)
                frame12_check(&out[i], i);
        ASSERT_UINT_EQ(udk_ring_writable(&prod), 7);

        /* Once attached, the header's copy of the geometry is never used again. */
        hdr->capacity = 1000000;
        hdr->frame_size = 4096;
        ASSERT_UINT_EQ(udk_ring_writable(&prod), 7);
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 3), 3);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 3), 3);
        frame12_check(&out[2], 2);
}

static void test_ring_corrupt(void)
{
        struct udk_ring prod, cons;
        struct udk_ring_header *hdr = (struct udk_ring_header *)ring_mem;
        size_t need = udk_ring_memory_size(7, 12);
        struct frame12 in[7], out[7];

        for (unsigned i = 0; i < 7; i++)
                in[i] = frame12_for(i);
        ASSERT_OK(udk_ring_init(&prod, ring_mem, need, 7, 12));
        ASSERT_OK(udk_ring_attach(&cons, ring_mem, need, 7, 12));
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 3), 3);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 1), 1);

        /* A producer that claims more than the ring holds: the consumer reads nothing. */
        atomic_store(&hdr->write_pos, 1 + 7 + 1);
        memset(out, 0x77, sizeof(out));
        ASSERT_UINT_EQ(udk_ring_readable(&cons), 0);
        ASSERT_UINT_EQ(cons.corrupt, 1);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 7), 0);
        ASSERT_UINT_EQ(out[0].a, 0x77777777u);
        ASSERT_UINT_EQ(udk_ring_skip(&cons, 7), 0);
        ASSERT_UINT_EQ(cons.corrupt, 3);
        ASSERT_UINT_EQ(atomic_load(&hdr->read_pos), 1);

        /* Far ahead, and behind (the difference wraps to a huge number). */
        atomic_store(&hdr->write_pos, UINT64_MAX / 2);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 7), 0);
        atomic_store(&hdr->write_pos, 0);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 7), 0);
        ASSERT_UINT_EQ(cons.corrupt, 5);
        ASSERT_UINT_EQ(out[0].a, 0x77777777u);

        /* Exactly full is fine again. */
        atomic_store(&hdr->write_pos, 1 + 7);
        ASSERT_UINT_EQ(udk_ring_readable(&cons), 7);
        ASSERT_UINT_EQ(cons.corrupt, 5);

        /* A consumer that runs ahead of the producer, or far behind it: the producer writes nothing. */
        ASSERT_UINT_EQ(prod.corrupt, 0);
        atomic_store(&hdr->write_pos, 3);
        atomic_store(&hdr->read_pos, 5);
        ASSERT_UINT_EQ(udk_ring_writable(&prod), 0);
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 7), 0);
        ASSERT_UINT_EQ(atomic_load(&hdr->write_pos), 3);
        atomic_store(&hdr->write_pos, 100);
        atomic_store(&hdr->read_pos, 92);
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 7), 0);
        ASSERT_UINT_EQ(prod.corrupt, 3);
        ASSERT_UINT_EQ(atomic_load(&hdr->write_pos), 100);

        /* A sane header again: back to work, from wherever the positions are. */
        atomic_store(&hdr->read_pos, 98);
        ASSERT_UINT_EQ(udk_ring_write(&prod, in, 7), 5);
        ASSERT_UINT_EQ(udk_ring_read(&cons, out, 7), 7);
        for (unsigned i = 2; i < 7; i++)
                frame12_check(&out[i], i - 2);
        ASSERT_UINT_EQ(prod.corrupt, 3);
        ASSERT_UINT_EQ(cons.corrupt, 5);
}

struct stress {
        struct udk_ring *ring;
        uint64_t frames;
        uint64_t seed;
};

/* Half of the batches tiny (many hand-overs, many wraps), half up to a third of the ring. */
static uint32_t stress_batch(uint64_t *seed)
{
        uint32_t x = rng_next(seed);

        return x & 1 ? 1 + (x >> 1) % 8 : 1 + (x >> 1) % (STRESS_CAPACITY / 3);
}

/* Producer: the counter 0, 1, 2, ... in batches of random size. Returns 0 or a failure code. */
static int stress_produce(struct udk_ring *ring, uint64_t frames, uint64_t seed)
{
        static uint64_t buf[STRESS_CAPACITY];
        uint64_t pos = 0;

        while (pos < frames) {
                uint32_t want = stress_batch(&seed), n;

                want = (uint32_t)UDK_MIN((uint64_t)want, frames - pos);
                for (uint32_t i = 0; i < want; i++)
                        buf[i] = pos + i;
                n = udk_ring_write(ring, buf, want);
                if (n > want)
                        return 1;
                if (n == 0)
                        sched_yield(); /* a shared, loaded machine: let the consumer run */
                pos += n;
        }
        return ring->corrupt == 0 ? 0 : 2;
}

/* Consumer: every frame checked, in order. */
static void stress_consume(struct udk_ring *ring, uint64_t frames, uint64_t seed)
{
        static uint64_t buf[STRESS_CAPACITY];
        uint64_t pos = 0, empty = 0;

        while (pos < frames) {
                uint32_t want = stress_batch(&seed), n;

                n = udk_ring_read(ring, buf, want);
                ASSERT_UINT_LE(n, want);
                for (uint32_t i = 0; i < n; i++)
                        if (UDK_UNLIKELY(buf[i] != pos + i))
                                udk_test_fail("frame %" PRIu64 " holds %" PRIu64, pos + i, buf[i]);
                if (n == 0) {
                        empty++;
                        sched_yield();
                }
                pos += n;
        }
        ASSERT_UINT_EQ(pos, frames);
        ASSERT_UINT_EQ(udk_ring_readable(ring), 0);
        ASSERT_UINT_EQ(ring->corrupt, 0);
}

static void *stress_thread(void *arg)
{
        struct stress *s = arg;

        return (void *)(intptr_t)stress_produce(s->ring, s->frames, s->seed);
}

static void test_ring_stress_threads(void)
{
        size_t need = udk_ring_memory_size(STRESS_CAPACITY, 8);
        _udk_cleanup_free_ void *mem = aligned_alloc(64, UDK_ALIGN_UP(need, 64));
        struct udk_ring prod, cons;
        struct stress s = { .ring = &prod, .frames = STRESS_THREAD_FRAMES, .seed = 11 };
        pthread_t thread;
        void *result = NULL;

        ASSERT_NOT_NULL(mem);
        ASSERT_OK(udk_ring_init(&cons, mem, need, STRESS_CAPACITY, 8));
        ASSERT_OK(udk_ring_attach(&prod, mem, need, STRESS_CAPACITY, 8));
        ASSERT_INT_EQ(pthread_create(&thread, NULL, stress_thread, &s), 0);
        stress_consume(&cons, STRESS_THREAD_FRAMES, 12);
        ASSERT_INT_EQ(pthread_join(thread, &result), 0);
        ASSERT_INT_EQ((intptr_t)result, 0);
        ASSERT_UINT_EQ(atomic_load(&cons.hdr->write_pos), STRESS_THREAD_FRAMES);
}

static void test_ring_stress_processes(void)
{
        size_t need = udk_ring_memory_size(STRESS_CAPACITY, 8);
        struct udk_shm shm = UDK_SHM_INIT;
        struct udk_ring cons;
        int status = 0;
        pid_t pid;

        ASSERT_OK(udk_shm_create(&shm, "udk-test-ring", need));
        ASSERT_OK(udk_ring_init(&cons, shm.data, shm.size, STRESS_CAPACITY, 8));

        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                /* The producer maps the segment afresh from its fd, as a client process would. */
                struct udk_shm peer = UDK_SHM_INIT;
                struct udk_ring prod;

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (udk_shm_map(&peer, shm.fd, shm.size, true) < 0)
                        _exit(10);
                if (udk_ring_attach(&prod, peer.data, peer.size, STRESS_CAPACITY, 8) < 0)
                        _exit(11);
                _exit(stress_produce(&prod, STRESS_PROCESS_FRAMES, 21));
        }
        stress_consume(&cons, STRESS_PROCESS_FRAMES, 22);
        ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_INT_EQ(WEXITSTATUS(status), 0);
        udk_shm_finish(&shm);
}

UDK_TEST_MAIN(test_ring_memory_size, test_ring_init, test_ring_empty, test_ring_full, test_ring_wrap,
              test_ring_partial, test_ring_skip, test_ring_attach, test_ring_corrupt,
              test_ring_stress_threads, test_ring_stress_processes)
