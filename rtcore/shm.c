/* SPDX-License-Identifier: MIT */
/* memfd segments, sealed against resize, mapped by their creator and their peers. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <udk/shm.h>
#include <udk/util.h>

#define SHM_REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

static int page_round(size_t size, size_t *ret)
{
        long page = sysconf(_SC_PAGESIZE);
        size_t p = page > 0 ? (size_t)page : 4096;
        size_t rounded;

        if (__builtin_add_overflow(size, p - 1, &rounded))
                return -ENOMEM;
        *ret = rounded / p * p;
        return 0;
}

static int shm_create(struct udk_shm *shm, const char *name, size_t size, unsigned extra_seals)
{
        _udk_cleanup_close_ int fd = -1;
        size_t rounded;
        void *data;
        int r;

        if (!shm || !name || size == 0)
                return -EINVAL;
        r = page_round(size, &rounded);
        if (r < 0)
                return r;
        if (rounded > (size_t)INT64_MAX)
                return -ENOMEM;

        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t)rounded) < 0)
                return -errno;

        data = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (data == MAP_FAILED)
                return -errno;
        /* Fault every page in now, so the RT thread never does it later. */
        memset(data, 0, rounded);

        /* The segment's size is fixed from here on, for every process that maps it. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | extra_seals | F_SEAL_SEAL) < 0) {
                r = -errno;
                munmap(data, rounded);
                return r;
        }

        *shm = (struct udk_shm){
                .fd = UDK_TAKE_FD(fd),
                .data = data,
                .size = rounded,
                .writable = true,
        };
        return 0;
}

UDK_EXPORT int udk_shm_create(struct udk_shm *shm, const char *name, size_t size)
{
        return shm_create(shm, name, size, 0);
}

UDK_EXPORT int udk_shm_create_guarded(struct udk_shm *shm, const char *name, size_t size)
{
        return shm_create(shm, name, size, F_SEAL_FUTURE_WRITE);
}

UDK_EXPORT int udk_shm_map(struct udk_shm *shm, int fd, size_t expected_size, bool writable)
{
        _udk_cleanup_close_ int dup_fd = -1;
        struct stat st;
        size_t size;
        void *data;
        int seals;

        if (!shm)
                return -EINVAL;
        if (fd < 0)
                return -EBADF;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size <= 0)
                return -EINVAL;
        size = (size_t)st.st_size;

        /* An unsealed segment could be truncated under us and fault the RT thread. */
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0)
                return errno == EINVAL ? -EPERM : -errno; /* EINVAL: a file that cannot be sealed */
        if ((seals & SHM_REQUIRED_SEALS) != SHM_REQUIRED_SEALS)
                return -EPERM;
        if (expected_size != 0 && expected_size != size)
                return -EINVAL;

        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;

        data = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, dup_fd, 0);
        if (data == MAP_FAILED)
                return -errno;

        *shm = (struct udk_shm){
                .fd = UDK_TAKE_FD(dup_fd),
                .data = data,
                .size = size,
                .writable = writable,
        };
        return 0;
}

UDK_EXPORT void udk_shm_finish(struct udk_shm *shm)
{
        if (!shm)
                return;
        if (shm->data && shm->data != MAP_FAILED)
                munmap(shm->data, shm->size);
        if (shm->fd >= 0)
                close(shm->fd);
        *shm = UDK_SHM_INIT;
}
