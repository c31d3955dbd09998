/* SPDX-License-Identifier: MIT */
/*
 * A test's preload for a driver host under umockdev: umockdev emulates a
 * node's ioctls only on a descriptor its preload saw opened in the same
 * process (it connects that descriptor number to the testbed's socket
 * at open()), so the descriptor udkd opened and passed reaches the
 * driver as a plain file, and every usbfs ioctl on it fails with ENOTTY.
 * This library opens $UDK_TEST_UMOCKDEV_DEVNODE at load, before the
 * sandbox, through umockdev's open(), keeps that descriptor and
 * umockdev's socket for it out of the host's close_range() of what it
 * inherited, and when the host receives a descriptor of the same file
 * from udkd it hands over the emulated one in its place, once: the
 * driver's ioctls then reach the testbed's handler.  poll() on that
 * descriptor asks the handler for its revents (udk-test-umockdev-fd.h).
 *
 * Preloaded before libumockdev-preload (LD_PRELOAD=this:$LD_PRELOAD).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "udk-test-umockdev-fd.h"

#define KEEP_MAX 4
#define SCAN_FDS 256

static int emulated = -1;
static int handed = -1; /* the emulated descriptor once handed over */
static struct stat emulated_st;
static int keep[KEEP_MAX]; /* the emulated descriptor and what umockdev opened with it, ascending */
static unsigned n_keep;

__attribute__((constructor)) static void emulated_open(void)
{
        const char *node = getenv("UDK_TEST_UMOCKDEV_DEVNODE");
        bool before[SCAN_FDS];

        if (!node)
                return;
        for (int fd = 0; fd < SCAN_FDS; fd++)
                before[fd] = fcntl(fd, F_GETFD) >= 0;
        emulated = open(node, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (emulated < 0 || fstat(emulated, &emulated_st) < 0) {
                fprintf(stderr, "udk-test-umockdev-fd: %s: %m\n", node);
                if (emulated >= 0)
                        close(emulated);
                emulated = -1;
                return;
        }
        for (int fd = 0; fd < SCAN_FDS && n_keep < KEEP_MAX; fd++)
                if (!before[fd] && fcntl(fd, F_GETFD) >= 0)
                        keep[n_keep++] = fd;
}

/* The host's close_range() of what it inherited, around the kept descriptors. */
int close_range(unsigned first, unsigned last, int flags)
{
        static int (*next)(unsigned, unsigned, int);
        unsigned from = first;

        if (!next)
                next = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
        for (unsigned i = 0; i < n_keep; i++) {
                unsigned k = (unsigned)keep[i];

                if (k < from || k > last)
                        continue;
                if (k > from && next(from, k - 1, flags) < 0)
                        return -1;
                from = k + 1;
        }
        return from > last || from < first ? 0 : next(from, last, flags);
}

static void swap_fds(struct msghdr *msg)
{
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm && emulated >= 0; cm = CMSG_NXTHDR(msg, cm)) {
                size_t n;
                int *fds;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                fds = (int *)CMSG_DATA(cm);
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        struct stat st;

                        if (fstat(fds[i], &st) < 0 || st.st_dev != emulated_st.st_dev ||
                            st.st_ino != emulated_st.st_ino)
                                continue;
                        close(fds[i]);
                        fds[i] = emulated;
                        handed = emulated;
                        emulated = -1;
                        break;
                }
        }
}

ssize_t recvmsg(int sock, struct msghdr *msg, int flags)
{
        static ssize_t (*next)(int, struct msghdr *, int);
        ssize_t n;

        if (!next)
                next = (ssize_t(*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
        n = next(sock, msg, flags);
        if (n >= 0 && emulated >= 0 && msg->msg_controllen)
                swap_fds(msg);
        return n;
}

/*
 * libusb's wait for events: the handed descriptor's revents are the emulation's answer, not those of
 * the testbed's regular file (always ready).  It is asked first; when it has something the others are
 * polled without waiting.
 */
int poll(struct pollfd *fds, nfds_t n, int timeout)
{
        static int (*next)(struct pollfd *, nfds_t, int);
        nfds_t at = n;
        short events;
        int mask, ready;

        if (!next)
                next = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
        for (nfds_t i = 0; i < n && handed >= 0; i++)
                if (fds[i].fd == handed)
                        at = i;
        if (at == n || (mask = ioctl(handed, UDK_TEST_UMOCKDEV_POLL)) < 0)
                return next(fds, n, timeout);
        events = fds[at].events;
        mask &= events | POLLHUP | POLLERR;
        fds[at].events = 0; /* a regular file then gives nothing */
        ready = next(fds, n, mask ? 0 : timeout);
        fds[at].events = events;
        if (ready < 0)
                return ready;
        fds[at].revents = (short)mask;
        return ready + (mask != 0);
}
