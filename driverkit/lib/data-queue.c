/* SPDX-License-Identifier: MIT */
/*
 * Data queues: a udk_ring of fixed-size records in a sealed memfd, and an
 * eventfd that tells the consumer's queue there is something to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <udk/util.h>

#include "dispatch-private.h"

static int data_queue_new(uint32_t capacity, uint32_t record_size, size_t *ret_size,
                          struct udk_data_queue **ret)
{
        struct udk_data_queue *dq;
        size_t size;

        if (capacity == 0 || record_size == 0 || !ret)
                return -EINVAL;
        size = udk_ring_memory_size(capacity, record_size);
        if (size == SIZE_MAX)
                return -E2BIG;
        dq = calloc(1, sizeof(*dq));
        if (!dq)
                return -ENOMEM;
        dq->shm = UDK_SHM_INIT;
        dq->eventfd = -1;
        dq->capacity = capacity;
        dq->record_size = record_size;
        *ret_size = size;
        *ret = dq;
        return 0;
}

UDK_EXPORT void udk_data_queue_destroy(struct udk_data_queue *dq)
{
        if (!dq)
                return;
        udk_shm_finish(&dq->shm);
        if (dq->eventfd >= 0)
                close(dq->eventfd);
        free(dq);
}

UDK_EXPORT int udk_data_queue_create(uint32_t capacity, uint32_t record_size, struct udk_data_queue **ret)
{
        struct udk_data_queue *dq;
        size_t size;
        int r;

        r = data_queue_new(capacity, record_size, &size, &dq);
        if (r < 0)
                return r;
        r = udk_shm_create(&dq->shm, "udk-data-queue", size);
        if (r >= 0)
                r = udk_ring_init(&dq->ring, dq->shm.data, dq->shm.size, capacity, record_size);
        if (r >= 0) {
                dq->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (dq->eventfd < 0)
                        r = -errno;
        }
        if (r < 0) {
                udk_data_queue_destroy(dq);
                return r;
        }
        *ret = dq;
        return 0;
}

UDK_EXPORT int udk_data_queue_attach(int memfd, int eventfd, uint32_t capacity, uint32_t record_size,
                                     struct udk_data_queue **ret)
{
        struct udk_data_queue *dq;
        size_t size;
        int r;

        if (memfd < 0 || eventfd < 0)
                return -EBADF;
        r = data_queue_new(capacity, record_size, &size, &dq);
        if (r < 0)
                return r;
        /* udk_shm_map refuses a segment without its seals; the size we need is ours, not the peer's. */
        r = udk_shm_map(&dq->shm, memfd, 0, true);
        if (r >= 0 && dq->shm.size < size)
                r = -EINVAL;
        if (r >= 0)
                r = udk_ring_attach(&dq->ring, dq->shm.data, dq->shm.size, capacity, record_size);
        if (r >= 0) {
                dq->eventfd = fcntl(eventfd, F_DUPFD_CLOEXEC, 3);
                if (dq->eventfd < 0)
                        r = -errno;
        }
        if (r < 0) {
                udk_data_queue_destroy(dq);
                return r;
        }
        *ret = dq;
        return 0;
}

UDK_EXPORT int udk_data_queue_fds(const struct udk_data_queue *dq, int *ret_memfd, int *ret_eventfd)
{
        if (!dq)
                return -EINVAL;
        if (ret_memfd)
                *ret_memfd = dq->shm.fd;
        if (ret_eventfd)
                *ret_eventfd = dq->eventfd;
        return 0;
}

UDK_EXPORT int udk_data_queue_enqueue(struct udk_data_queue *dq, const void *record)
{
        uint64_t one = 1;
        ssize_t n;

        if (!dq || !record)
                return -EINVAL;
        if (udk_ring_write(&dq->ring, record, 1) != 1)
                return -ENOSPC;
        /* The record is visible (the ring's release) before the wake; EAGAIN: a wake is pending already. */
        do
                n = write(dq->eventfd, &one, sizeof(one));
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN)
                return -errno;
        return 0;
}

UDK_EXPORT int udk_data_queue_dequeue(struct udk_data_queue *dq, void *record)
{
        if (!dq || !record)
                return -EINVAL;
        return udk_ring_read(&dq->ring, record, 1) == 1 ? 0 : -EAGAIN;
}
