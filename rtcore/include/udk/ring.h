/* SPDX-License-Identifier: MIT */
/*
 * A lock-free single-producer/single-consumer ring of fixed-size frames, for
 * any capacity (not only powers of two), placed in memory the two sides may
 * share across processes.
 *
 * The positions are 64-bit counters that only grow; the frame index is
 * position % capacity, so a full ring and an empty ring are never confused.
 * Each side keeps its own trusted copy of the capacity and frame size: what
 * the peer can write (the header) is never used as an index or a length, and
 * a header whose positions do not make sense is reported, not followed.
 */
#ifndef UDK_RING_H
#define UDK_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define UDK_RING_VERSION 1

/* The shared part, at the start of the ring's memory; frames follow it. */
struct udk_ring_header {
        uint32_t version;    /* UDK_RING_VERSION */
        uint32_t frame_size; /* informative only: never trusted */
        uint32_t capacity;   /* informative only: never trusted */
        uint32_t reserved;   /* must be 0 */
        uint8_t pad0[48];
        _Atomic uint64_t write_pos; /* written by the producer only */
        uint8_t pad1[56];
        _Atomic uint64_t read_pos;  /* written by the consumer only */
        uint8_t pad2[56];
};

_Static_assert(sizeof(struct udk_ring_header) == 192, "ring header layout");
_Static_assert(offsetof(struct udk_ring_header, write_pos) == 64, "write_pos on its own cache line");
_Static_assert(offsetof(struct udk_ring_header, read_pos) == 128, "read_pos on its own cache line");

/* One side's view: private, trusted. */
struct udk_ring {
        struct udk_ring_header *hdr;
        uint8_t *frames;
        uint32_t capacity;   /* frames */
        uint32_t frame_size; /* bytes */
        uint64_t corrupt;    /* times the peer's positions made no sense */
};

/* Bytes needed for a ring of @capacity frames of @frame_size bytes (SIZE_MAX if that overflows). */
size_t udk_ring_memory_size(uint32_t capacity, uint32_t frame_size);

/*
 * Format @mem (at least udk_ring_memory_size() bytes, 8-byte aligned) as an
 * empty ring.  -EINVAL for a zero capacity or frame size or a misaligned
 * @mem, -ENOSPC if @mem_size is short.  Not RT-safe (it is set up once).
 */
int udk_ring_init(struct udk_ring *ring, void *mem, size_t mem_size, uint32_t capacity, uint32_t frame_size);

/*
 * Attach to a ring another side formatted.  @capacity and @frame_size are
 * what this side agreed to, not read from @mem; -EPROTO if the header's
 * version differs, or its reserved field is not 0, or its capacity or frame
 * size is not the agreed one (the sides disagree; after attaching, the
 * header's copy is never read again).  -EINVAL and -ENOSPC as for init.
 */
int udk_ring_attach(struct udk_ring *ring, void *mem, size_t mem_size, uint32_t capacity, uint32_t frame_size);

/* Frames the consumer can read now.  RT-safe. */
uint32_t udk_ring_readable(struct udk_ring *ring);

/* Frames the producer can write now.  RT-safe. */
uint32_t udk_ring_writable(struct udk_ring *ring);

/* Producer: copy up to @n frames in; returns how many went in.  RT-safe. */
uint32_t udk_ring_write(struct udk_ring *ring, const void *src, uint32_t n);

/* Consumer: copy up to @n frames out; returns how many came out.  RT-safe. */
uint32_t udk_ring_read(struct udk_ring *ring, void *dst, uint32_t n);

/* Consumer: drop up to @n frames; returns how many were dropped.  RT-safe. */
uint32_t udk_ring_skip(struct udk_ring *ring, uint32_t n);

#endif
