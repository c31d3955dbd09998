/* SPDX-License-Identifier: MIT */
/*
 * The SPSC frame ring.  Each side owns one position and only reads the
 * other's; both only grow, and index = position % capacity.  The shared
 * header is peer-writable, so every size and index comes from this side's
 * private struct udk_ring, and positions that cannot happen (more frames
 * in flight than the ring holds) are counted and treated as "nothing to do".
 */
#include <string.h>

#include <udk/ring.h>
#include <udk/util.h>

UDK_EXPORT size_t udk_ring_memory_size(uint32_t capacity, uint32_t frame_size)
{
        size_t frames, total;

        if (__builtin_mul_overflow((size_t)capacity, (size_t)frame_size, &frames) ||
            __builtin_add_overflow(frames, sizeof(struct udk_ring_header), &total))
                return SIZE_MAX;
        return total;
}

static int ring_check_args(const struct udk_ring *ring, const void *mem, size_t mem_size, uint32_t capacity,
                           uint32_t frame_size)
{
        if (!ring || !mem || capacity == 0 || frame_size == 0)
                return -EINVAL;
        /* The positions are 64-bit atomics: they need their natural alignment. */
        if ((uintptr_t)mem % _Alignof(struct udk_ring_header) != 0)
                return -EINVAL;
        if (mem_size < udk_ring_memory_size(capacity, frame_size))
                return -ENOSPC;
        return 0;
}

static void ring_set(struct udk_ring *ring, void *mem, uint32_t capacity, uint32_t frame_size)
{
        *ring = (struct udk_ring){
                .hdr = mem,
                .frames = (uint8_t *)mem + sizeof(struct udk_ring_header),
                .capacity = capacity,
                .frame_size = frame_size,
        };
}

UDK_EXPORT int udk_ring_init(struct udk_ring *ring, void *mem, size_t mem_size, uint32_t capacity,
                             uint32_t frame_size)
{
        struct udk_ring_header *hdr = mem;
        int r;

        r = ring_check_args(ring, mem, mem_size, capacity, frame_size);
        if (r < 0)
                return r;

        memset(hdr, 0, sizeof(*hdr));
        hdr->version = UDK_RING_VERSION;
        hdr->frame_size = frame_size;
        hdr->capacity = capacity;
        /* Relaxed: the peer learns of the ring later, through a system call (fd passing) that orders it. */
        atomic_store_explicit(&hdr->write_pos, 0, memory_order_relaxed);
        atomic_store_explicit(&hdr->read_pos, 0, memory_order_relaxed);

        ring_set(ring, mem, capacity, frame_size);
        return 0;
}

UDK_EXPORT int udk_ring_attach(struct udk_ring *ring, void *mem, size_t mem_size, uint32_t capacity,
                               uint32_t frame_size)
{
        const struct udk_ring_header *hdr = mem;
        int r;

        r = ring_check_args(ring, mem, mem_size, capacity, frame_size);
        if (r < 0)
                return r;

        /*
         * The geometry the two sides agreed on must be the one the header
         * announces: a mismatch means they would read each other's frames
         * wrong.  From here on the header's copy is never looked at again.
         */
        if (hdr->version != UDK_RING_VERSION || hdr->reserved != 0 || hdr->capacity != capacity ||
            hdr->frame_size != frame_size)
                return -EPROTO;

        ring_set(ring, mem, capacity, frame_size);
        return 0;
}

/*
 * Frames in flight, or -1 when the peer's position is impossible (a corrupt
 * or malicious peer: more in flight than the ring holds, or a position that
 * went backwards, which wraps to a huge difference).
 */
static int64_t ring_fill(struct udk_ring *ring, uint64_t write_pos, uint64_t read_pos)
{
        uint64_t fill = write_pos - read_pos;

        if (UDK_UNLIKELY(fill > ring->capacity)) {
                ring->corrupt++;
                return -1;
        }
        return (int64_t)fill;
}

/* Consumer side: how many frames can be read, and from which position. */
static uint32_t ring_read_avail(struct udk_ring *ring, uint64_t *ret_read_pos)
{
        /* Relaxed: read_pos is ours, nobody else writes it. */
        uint64_t r = atomic_load_explicit(&ring->hdr->read_pos, memory_order_relaxed);
        /* Acquire: pairs with the producer's release; the frames it published are visible before we copy. */
        uint64_t w = atomic_load_explicit(&ring->hdr->write_pos, memory_order_acquire);
        int64_t fill = ring_fill(ring, w, r);

        *ret_read_pos = r;
        return fill < 0 ? 0 : (uint32_t)fill;
}

/* Producer side: how many frames can be written, and from which position. */
static uint32_t ring_write_avail(struct udk_ring *ring, uint64_t *ret_write_pos)
{
        /* Relaxed: write_pos is ours, nobody else writes it. */
        uint64_t w = atomic_load_explicit(&ring->hdr->write_pos, memory_order_relaxed);
        /*
         * Acquire: pairs with the consumer's release, so its copies out of the
         * slots it freed are complete before we overwrite them.
         */
        uint64_t r = atomic_load_explicit(&ring->hdr->read_pos, memory_order_acquire);
        int64_t fill = ring_fill(ring, w, r);

        *ret_write_pos = w;
        return fill < 0 ? 0 : ring->capacity - (uint32_t)fill;
}

UDK_EXPORT uint32_t udk_ring_readable(struct udk_ring *ring)
{
        uint64_t r;

        return ring_read_avail(ring, &r);
}

UDK_EXPORT uint32_t udk_ring_writable(struct udk_ring *ring)
{
        uint64_t w;

        return ring_write_avail(ring, &w);
}

UDK_EXPORT uint32_t udk_ring_write(struct udk_ring *ring, const void *src, uint32_t n)
{
        size_t fs = ring->frame_size;
        uint64_t w;
        uint32_t avail, idx, first;

        avail = ring_write_avail(ring, &w);
        n = UDK_MIN(n, avail);
        if (n == 0)
                return 0;

        idx = (uint32_t)(w % ring->capacity);
        first = UDK_MIN(n, ring->capacity - idx);
        memcpy(ring->frames + idx * fs, src, first * fs);
        if (n > first)
                memcpy(ring->frames, (const uint8_t *)src + first * fs, (n - first) * fs);

        /* Release: the frames copied above reach the consumer before the position that covers them. */
        atomic_store_explicit(&ring->hdr->write_pos, w + n, memory_order_release);
        return n;
}

UDK_EXPORT uint32_t udk_ring_read(struct udk_ring *ring, void *dst, uint32_t n)
{
        size_t fs = ring->frame_size;
        uint64_t r;
        uint32_t avail, idx, first;

        avail = ring_read_avail(ring, &r);
        n = UDK_MIN(n, avail);
        if (n == 0)
                return 0;

        idx = (uint32_t)(r % ring->capacity);
        first = UDK_MIN(n, ring->capacity - idx);
        memcpy(dst, ring->frames + idx * fs, first * fs);
        if (n > first)
                memcpy((uint8_t *)dst + first * fs, ring->frames, (n - first) * fs);

        /* Release: our copies out are complete before the producer may reuse these slots. */
        atomic_store_explicit(&ring->hdr->read_pos, r + n, memory_order_release);
        return n;
}

UDK_EXPORT uint32_t udk_ring_skip(struct udk_ring *ring, uint32_t n)
{
        uint64_t r;
        uint32_t avail;

        avail = ring_read_avail(ring, &r);
        n = UDK_MIN(n, avail);
        if (n == 0)
                return 0;

        /* Release: as for a read, though nothing was copied; it keeps the two paths alike. */
        atomic_store_explicit(&ring->hdr->read_pos, r + n, memory_order_release);
        return n;
}
