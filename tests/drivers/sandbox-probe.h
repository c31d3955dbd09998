/* SPDX-License-Identifier: MIT */
/* sandbox-probe's selectors, shared with test-driverhost. */
#ifndef UDK_TEST_SANDBOX_PROBE_H
#define UDK_TEST_SANDBOX_PROBE_H

#include <stdint.h>

#define PROBE_PENDING ((int64_t)INT64_MIN)

enum probe_selector {
        PROBE_OPEN = 1,
        PROBE_SOCKET_INET,
        PROBE_SOCKET_UNIX,
        PROBE_EXECVE,
        PROBE_URING_SETUP,
        PROBE_URING_OPENAT,
        PROBE_URING_RESULT,
        PROBE_THREAD,
        PROBE_DATA_QUEUE,
        PROBE_ECHO,
        PROBE_OVERFILL,
        PROBE_FAILING,
        PROBE_PROVIDER,
        PROBE_CONTROL,
        PROBE_PUBLISH,
        PROBE_REMOVE,
        PROBE_DEVICE,
        PROBE_TIMER, /* a 20 ms timer that logs each tick and is never destroyed: the host's to reclaim */
        PROBE_SYSFS_READ,      /* open /sys/class read-only: the errno */
        PROBE_SYSFS_WRITE,     /* open /sys/kernel/uevent_helper for writing: the errno */
        PROBE_NETLINK_UEVENT,  /* socket(AF_NETLINK, ..., NETLINK_KOBJECT_UEVENT): the errno */
        PROBE_TRY,             /* scalars (enum probe_try, a, b), a path as the structure: the errno */
};

/* PROBE_TRY's attempts: each answers the errno it got, 0 when it succeeded. */
enum probe_try {
        TRY_OPEN = 1,     /* open(path, a) */
        TRY_SOCKET,       /* socket(a, b & 0xffff, b >> 16) */
        TRY_CONNECT_UNIX, /* connect() to path ("@name": abstract) on an AF_UNIX socket, else on a uevent one */
        TRY_PTRACE,       /* ptrace(PTRACE_SEIZE, a) */
        TRY_VM_READV,     /* process_vm_readv(a) of 8 bytes at address b */
        TRY_KILL,         /* kill(a, 0) */
        TRY_TGKILL,       /* tgkill(a, a, 0) */
        TRY_MOUNT,        /* mount a tmpfs on path */
        TRY_EXECVEAT,     /* execveat(path) */
        TRY_FORK,         /* fork() (a child that got through exits at once) */
        TRY_UNSHARE,      /* unshare(CLONE_NEWUSER | CLONE_NEWNS) */
        TRY_TIOCSTI,      /* ioctl(a, TIOCSTI, " ") */
        TRY_SESSION,      /* not an attempt: 0 when the host leads its own session (no controlling terminal) */
};

#endif
