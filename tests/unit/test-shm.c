/* SPDX-License-Identifier: MIT */
/* Sealed memfd segments: creation, seals, mapping in another process, refusals. */
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/shm.h>
#include <udk/util.h>

#include "udk-test.h"

static size_t page_size(void)
{
        return (size_t)sysconf(_SC_PAGESIZE);
}

static void assert_untouched(const struct udk_shm *shm)
{
        ASSERT_INT_EQ(shm->fd, -1);
        ASSERT_PTR_EQ(shm->data, NULL);
        ASSERT_UINT_EQ(shm->size, 0);
        ASSERT_FALSE(shm->writable);
}

static int child_wait(pid_t pid)
{
        int status = 0;

        ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                udk_test_fail("child killed by signal %d", WTERMSIG(status));
        ASSERT_TRUE(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_shm_create(void)
{
        struct udk_shm shm = UDK_SHM_INIT;
        size_t ps = page_size();
        struct stat st;
        uint8_t *p;

        ASSERT_OK(udk_shm_create(&shm, "udk-test", 1));
        ASSERT_INT_GE(shm.fd, 0);
        ASSERT_NOT_NULL(shm.data);
        ASSERT_UINT_EQ(shm.size, ps);
        ASSERT_TRUE(shm.writable);
        ASSERT_INT_EQ(fcntl(shm.fd, F_GETFD), FD_CLOEXEC);
        ASSERT_OK(fstat(shm.fd, &st));
        ASSERT_INT_EQ(st.st_size, (off_t)ps);
        udk_shm_finish(&shm);
        assert_untouched(&shm);
        udk_shm_finish(&shm); /* twice is fine */
        udk_shm_finish(NULL);

        ASSERT_OK(udk_shm_create(&shm, "udk-test", 3 * ps + 1));
        ASSERT_UINT_EQ(shm.size, 4 * ps);
        p = shm.data;
        for (size_t i = 0; i < shm.size; i++)
                if (p[i] != 0)
                        udk_test_fail("byte %zu is %u, want 0", i, p[i]);
        p[shm.size - 1] = 0xaa; /* the whole size is mapped and writable */
        udk_shm_finish(&shm);

        ASSERT_OK(udk_shm_create(&shm, "udk-test", 2 * ps));
        ASSERT_UINT_EQ(shm.size, 2 * ps); /* already a multiple: not rounded further */
        udk_shm_finish(&shm);
}

static void test_shm_create_invalid(void)
{
        struct udk_shm shm = UDK_SHM_INIT;

        ASSERT_ERROR(udk_shm_create(&shm, "udk-test", 0), EINVAL);
        assert_untouched(&shm);
        ASSERT_ERROR(udk_shm_create(&shm, NULL, 4096), EINVAL);
        assert_untouched(&shm);
        ASSERT_ERROR(udk_shm_create(NULL, "udk-test", 4096), EINVAL);
        ASSERT_ERROR(udk_shm_create(&shm, "udk-test", SIZE_MAX), ENOMEM);
        assert_untouched(&shm);
}

static void test_shm_sealed(void)
{
        struct udk_shm shm = UDK_SHM_INIT;
        size_t ps = page_size();
        struct stat st;

        ASSERT_OK(udk_shm_create(&shm, "udk-test", ps));
        ASSERT_INT_EQ(fcntl(shm.fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

        ASSERT_INT_EQ(ftruncate(shm.fd, 0), -1);
        ASSERT_INT_EQ(errno, EPERM);
        ASSERT_INT_EQ(ftruncate(shm.fd, (off_t)(2 * ps)), -1);
        ASSERT_INT_EQ(errno, EPERM);
        ASSERT_INT_EQ(fallocate(shm.fd, 0, 0, (off_t)(4 * ps)), -1);
        ASSERT_INT_EQ(errno, EPERM);
        /* F_SEAL_SEAL: nobody can add a write seal under the writers' feet. */
        ASSERT_INT_EQ(fcntl(shm.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
        ASSERT_INT_EQ(errno, EPERM);

        ASSERT_OK(fstat(shm.fd, &st));
        ASSERT_INT_EQ(st.st_size, (off_t)ps);
        udk_shm_finish(&shm);
}

/* A guarded segment: its creator keeps writing; nobody else can, by any descriptor. */
static void test_shm_guarded(void)
{
        struct udk_shm shm = UDK_SHM_INIT, other = UDK_SHM_INIT;
        size_t ps = page_size();
        char path[64];
        void *p;
        int fd;

        ASSERT_OK(udk_shm_create_guarded(&shm, "udk-test", ps));
        ASSERT_INT_EQ(fcntl(shm.fd, F_GET_SEALS),
                      F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
        ((volatile uint8_t *)shm.data)[0] = 42; /* the creator's mapping still writes */

        /* Reopened read-write through /proc, as a client could: still no writable mapping. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", shm.fd);
        fd = open(path, O_RDWR | O_CLOEXEC);
        ASSERT_OK(fd);
        p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ASSERT_PTR_EQ(p, MAP_FAILED);
        ASSERT_INT_EQ(errno, EPERM);
        ASSERT_INT_EQ(write(fd, "x", 1), -1);
        ASSERT_INT_EQ(errno, EPERM);
        ASSERT_ERROR(udk_shm_map(&other, fd, ps, true), EPERM);
        /* Read-only is what others get. */
        ASSERT_OK(udk_shm_map(&other, fd, ps, false));
        ASSERT_UINT_EQ(((const uint8_t *)other.data)[0], 42);
        close(fd);
        udk_shm_finish(&other);
        udk_shm_finish(&shm);
}

/* The pages are in memory before anyone touches them (no fault on the RT thread). */
static void test_shm_prefaulted(void)
{
        struct udk_shm shm = UDK_SHM_INIT;
        size_t ps = page_size(), pages = 64;
        unsigned char vec[64];

        ASSERT_OK(udk_shm_create(&shm, "udk-test", pages * ps));
        ASSERT_OK(mincore(shm.data, shm.size, vec));
        for (size_t i = 0; i < pages; i++)
                if (!(vec[i] & 1))
                        udk_test_fail("page %zu not resident", i);
        udk_shm_finish(&shm);
}

static void test_shm_map_child(void)
{
        struct udk_shm shm = UDK_SHM_INIT, again = UDK_SHM_INIT;
        size_t ps = page_size();
        uint32_t *words;
        pid_t pid;

        ASSERT_OK(udk_shm_create(&shm, "udk-test", 2 * ps));
        words = shm.data;
        words[0] = 0x11223344;

        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                /* A fresh mapping of the passed fd, as a peer process makes it. */
                struct udk_shm peer = UDK_SHM_INIT;
                uint32_t *w;
                int fd = shm.fd;

                if (udk_shm_map(&peer, fd, 2 * ps, true) < 0)
                        _exit(10);
                if (peer.fd == fd || peer.data == shm.data || peer.size != 2 * ps || !peer.writable)
                        _exit(11);
                if (!(fcntl(peer.fd, F_GETFD) & FD_CLOEXEC))
                        _exit(12);
                w = peer.data;
                if (w[0] != 0x11223344)
                        _exit(13);
                for (size_t i = 1; i < peer.size / sizeof(*w); i++)
                        w[i] = (uint32_t)i * 2654435761u;
                udk_shm_finish(&peer);
                /* The caller's fd is still its own. */
                _exit(fcntl(fd, F_GETFD) < 0 ? 14 : 0);
        }
        ASSERT_INT_EQ(child_wait(pid), 0);
        for (size_t i = 1; i < shm.size / sizeof(*words); i++)
                if (words[i] != (uint32_t)i * 2654435761u)
                        udk_test_fail("word %zu: %08x, want %08x", i, words[i], (uint32_t)i * 2654435761u);

        /* Two mappings in one process share the pages too. */
        ASSERT_OK(udk_shm_map(&again, shm.fd, 0, true));
        ASSERT_UINT_EQ(again.size, shm.size);
        ((uint32_t *)again.data)[5] = 77;
        ASSERT_UINT_EQ(words[5], 77);
        udk_shm_finish(&again);
        udk_shm_finish(&shm);
}

static void test_shm_map_unsealed(void)
{
        struct udk_shm shm = UDK_SHM_INIT;
        size_t ps = page_size();
        char path[] = "/tmp/udk-test-shm-XXXXXX";
        int fd;

        /* No sealing at all: F_SEAL_SEAL from birth, but nothing against shrinking. */
        fd = memfd_create("unsealed", MFD_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_OK(ftruncate(fd, (off_t)ps));
        ASSERT_ERROR(udk_shm_map(&shm, fd, ps, true), EPERM);
        ASSERT_ERROR(udk_shm_map(&shm, fd, 0, false), EPERM);
        assert_untouched(&shm);
        close(fd);

        /* Half sealed is not sealed: it could still grow, or shrink. */
        fd = memfd_create("half", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        ASSERT_OK(fd);
        ASSERT_OK(ftruncate(fd, (off_t)ps));
        ASSERT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
        ASSERT_ERROR(udk_shm_map(&shm, fd, ps, true), EPERM);
        assert_untouched(&shm);
        ASSERT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
        ASSERT_OK(udk_shm_map(&shm, fd, ps, true));
        udk_shm_finish(&shm);
        close(fd);

        /* A plain file cannot carry the seals at all. */
        fd = mkostemp(path, O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_OK(unlink(path));
        ASSERT_OK(ftruncate(fd, (off_t)ps));
        ASSERT_ERROR(udk_shm_map(&shm, fd, ps, false), EPERM);
        assert_untouched(&shm);
        close(fd);
}

static void test_shm_map_invalid(void)
{
        struct udk_shm shm = UDK_SHM_INIT, seg = UDK_SHM_INIT;
        size_t ps = page_size();
        int pipefd[2];

        ASSERT_OK(udk_shm_create(&seg, "udk-test", 2 * ps));
        ASSERT_ERROR(udk_shm_map(&shm, seg.fd, ps, true), EINVAL);
        ASSERT_ERROR(udk_shm_map(&shm, seg.fd, 3 * ps, true), EINVAL);
        ASSERT_ERROR(udk_shm_map(&shm, seg.fd, 2 * ps + 1, false), EINVAL);
        assert_untouched(&shm);
        ASSERT_ERROR(udk_shm_map(&shm, -1, 0, true), EBADF);
        ASSERT_ERROR(udk_shm_map(NULL, seg.fd, 0, true), EINVAL);
        assert_untouched(&shm);

        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        ASSERT_ERROR(udk_shm_map(&shm, pipefd[0], 0, false), EINVAL);
        assert_untouched(&shm);
        close(pipefd[0]);
        close(pipefd[1]);

        ASSERT_OK(udk_shm_map(&shm, seg.fd, 2 * ps, false));
        ASSERT_UINT_EQ(shm.size, 2 * ps);
        ASSERT_FALSE(shm.writable);
        udk_shm_finish(&shm);
        udk_shm_finish(&seg);
}

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
        /* SEGV_ACCERR: the page is mapped, writing it is not allowed. */
        _exit(si->si_code == SEGV_ACCERR ? 42 : 43);
}

static void test_shm_map_readonly(void)
{
        struct udk_shm shm = UDK_SHM_INIT, ro = UDK_SHM_INIT;
        size_t ps = page_size();
        char path[64];
        pid_t pid;
        int fd;

        ASSERT_OK(udk_shm_create(&shm, "udk-test", ps));
        ((volatile uint8_t *)shm.data)[100] = 0x5c;
        ASSERT_OK(udk_shm_map(&ro, shm.fd, ps, false));
        ASSERT_FALSE(ro.writable);
        ASSERT_INT_EQ(((volatile uint8_t *)ro.data)[100], 0x5c);

        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                struct sigaction sa = { .sa_sigaction = segv_handler, .sa_flags = SA_SIGINFO };

                sigemptyset(&sa.sa_mask);
                if (sigaction(SIGSEGV, &sa, NULL) < 0)
                        _exit(44);
                ((volatile uint8_t *)ro.data)[100] = 1;
                _exit(0); /* the write went through: wrong */
        }
        ASSERT_INT_EQ(child_wait(pid), 42);
        ASSERT_INT_EQ(((volatile uint8_t *)shm.data)[100], 0x5c);
        udk_shm_finish(&ro);

        /* Through a read-only descriptor, a writable mapping is refused, and cannot be made later. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", shm.fd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_ERROR(udk_shm_map(&ro, fd, ps, true), EACCES);
        assert_untouched(&ro);
        ASSERT_OK(udk_shm_map(&ro, fd, ps, false));
        ASSERT_INT_EQ(mprotect(ro.data, ro.size, PROT_READ | PROT_WRITE), -1);
        ASSERT_INT_EQ(errno, EACCES);
        udk_shm_finish(&ro);
        close(fd);
        udk_shm_finish(&shm);
}

UDK_TEST_MAIN(test_shm_create, test_shm_create_invalid, test_shm_sealed, test_shm_guarded, test_shm_prefaulted,
              test_shm_map_child, test_shm_map_unsealed, test_shm_map_invalid, test_shm_map_readonly)
