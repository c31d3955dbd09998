/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory segments: a memfd, sealed against resize, mapped by its
 * creator and passed to other processes (SCM_RIGHTS) that map it again,
 * read-only where they must not write.
 */
#ifndef UDK_SHM_H
#define UDK_SHM_H

#include <stdbool.h>
#include <stddef.h>

struct udk_shm {
        int fd;       /* memfd, O_CLOEXEC; -1 when not set */
        void *data;   /* the mapping */
        size_t size;  /* bytes mapped, a multiple of the page size */
        bool writable;
};

#define UDK_SHM_INIT ((struct udk_shm){ .fd = -1 })

/*
 * Create a zero-filled segment of at least @size bytes (rounded up to the
 * page size) named @name (shown in /proc/PID/fd), map it read-write, fault
 * its pages in so that the RT thread never takes a page fault on it, and
 * seal it with F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL.
 * Returns 0 or a negative errno; @shm is untouched on failure.  Not RT-safe.
 */
int udk_shm_create(struct udk_shm *shm, const char *name, size_t size);

/*
 * The same, also sealed with F_SEAL_FUTURE_WRITE: our mapping stays
 * writable, but no other process can map it writable or write(2) to it,
 * whatever descriptor it gets.  For segments others may only read.
 */
int udk_shm_create_guarded(struct udk_shm *shm, const char *name, size_t size);

/*
 * Map a segment received from another process.  @fd is duplicated, the
 * caller keeps its own.  Fails with -EPERM unless the segment carries the
 * grow and shrink seals (an unsealed one could be truncated under us and
 * fault), and with -EINVAL when @expected_size is not 0 and differs from
 * the segment's size.  Not RT-safe.
 */
int udk_shm_map(struct udk_shm *shm, int fd, size_t expected_size, bool writable);

/* Unmap and close; accepts a segment that was never set.  Not RT-safe. */
void udk_shm_finish(struct udk_shm *shm);

#endif
