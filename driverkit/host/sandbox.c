/* SPDX-License-Identifier: MIT */
/*
 * udk-driverhost's sandbox.  Landlock goes on before dlopen, so the driver
 * loads under it; seccomp after the dispatch queue's io_uring exists, so
 * the filter can deny io_uring_setup and io_uring_register outright.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <udk/log.h>
#include <udk/util.h>

#include "sandbox.h"

/* What the system's <linux/landlock.h> may be too old to name (the kernel's ABI 3 to 6). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes the size we pass. */
struct sandbox_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

#define FS_ABI1                                                                                              \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |          \
         LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |       \
         LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |           \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |        \
         LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FS_READ_DIR  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE)
#define FS_READ_FILE (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE)

#define SANDBOX_PATHS_MAX 64

/* --udev: a family's bus driver that enumerates and monitors devices with libudev. */
static bool udev_allowed;
static const char *const udev_paths[] = { "/sys", "/run/udev", "/etc/udev" };

void sandbox_allow_udev(void)
{
        udev_allowed = true;
}

struct sandbox_paths {
        char *paths[SANDBOX_PATHS_MAX];
        size_t n;
};

static void paths_add(struct sandbox_paths *p, const char *path)
{
        if (!path || path[0] != '/' || p->n == SANDBOX_PATHS_MAX)
                return;
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->paths[i], path) == 0)
                        return;
        p->paths[p->n] = strdup(path);
        if (p->paths[p->n])
                p->n++;
}

/* The folder of @file, resolved. */
static void paths_add_folder_of(struct sandbox_paths *p, const char *file)
{
        char real[PATH_MAX];

        if (!file || !file[0] || !realpath(file, real))
                return;
        paths_add(p, dirname(real));
}

static int add_loaded(struct dl_phdr_info *info, size_t size, void *data)
{
        paths_add_folder_of(data, info->dlpi_name);
        return 0;
}

int sandbox_landlock_abi(void)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        return abi < 0 ? 0 : (int)abi;
}

static int add_rule(int ruleset, const char *path, uint64_t handled)
{
        struct landlock_path_beneath_attr rule = { 0 };
        _udk_cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno; /* a system without /lib64 */
        if (fstat(fd, &st) < 0)
                return -errno;
        rule.parent_fd = fd;
        rule.allowed_access = (S_ISDIR(st.st_mode) ? FS_READ_DIR : FS_READ_FILE) & handled;
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
                return -errno;
        return 0;
}

void sandbox_session(void)
{
        /* A terminal udkd was started from must not be typed into (TIOCSTI) by a driver nor send
         * it its signals: the host leads a session of its own, without a controlling terminal. */
        if (getsid(0) != getpid() && setsid() < 0)
                udk_warn("cannot leave udkd's session (%s): the driver shares its terminal", strerror(errno));
}

int sandbox_landlock(const char *const *drivers, size_t n_drivers)
{
        static const char *const system_paths[] = { "/usr/lib", "/lib", "/lib64", "/usr/local/lib",
                                                    "/etc/ld.so.cache" };
        struct sandbox_ruleset_attr attr = { 0 };
        struct sandbox_paths paths = { 0 };
        _udk_cleanup_close_ int ruleset = -1;
        size_t attr_size;
        int abi, r = 0;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = -errno;
                udk_error("cannot set no_new_privs: %s", strerror(-r));
                return r;
        }
        abi = sandbox_landlock_abi();
        if (abi < 1) {
                udk_warn("this kernel has no Landlock: the driver runs without file system confinement");
                return 0;
        }

        attr.handled_access_fs = FS_ABI1;
        if (abi >= 2)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        attr_size = offsetof(struct sandbox_ruleset_attr, handled_access_net);
        if (abi >= 4) {
                attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
                attr_size = offsetof(struct sandbox_ruleset_attr, scoped);
        }
        if (abi >= 6) {
                attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
                attr_size = sizeof(attr);
        }
        ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
        if (ruleset < 0) {
                r = -errno;
                udk_error("cannot create a Landlock ruleset (ABI %d): %s", abi, strerror(-r));
                return r;
        }

        for (size_t i = 0; i < n_drivers; i++)
                paths_add_folder_of(&paths, drivers[i]);
        dl_iterate_phdr(add_loaded, &paths);
        for (size_t i = 0; i < UDK_ELEMENTSOF(system_paths); i++)
                paths_add(&paths, system_paths[i]);
        for (size_t i = 0; udev_allowed && i < UDK_ELEMENTSOF(udev_paths); i++)
                paths_add(&paths, udev_paths[i]);
        for (size_t i = 0; i < paths.n && r >= 0; i++) {
                r = add_rule(ruleset, paths.paths[i], attr.handled_access_fs);
                if (r < 0)
                        udk_error("cannot allow %s in the Landlock ruleset: %s", paths.paths[i], strerror(-r));
                else
                        udk_debug("landlock: read and execute under %s", paths.paths[i]);
        }
        for (size_t i = 0; i < paths.n; i++)
                free(paths.paths[i]);
        if (r < 0)
                return r;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
                r = -errno;
                udk_error("cannot enforce the Landlock ruleset: %s", strerror(-r));
                return r;
        }
        udk_debug("landlock ABI %d enforced", abi);
        return 0;
}

/* What glibc, threads, the dispatch queue and a driver's own work need; nothing that opens or spawns. */
static const char *const allowed_syscalls[] = {
        /* descriptors handed in or made here */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
        "lseek", "close", "dup", "dup2", "dup3", "fcntl", "fstat", "newfstatat", "statx", "ftruncate",
        "fallocate", "fsync", "fdatasync", "pipe2",
        /* memory */
        "mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "mincore", "msync", "membarrier",
        /* threads and time */
        "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "exit",
        "exit_group", "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler", "getcpu",
        "getpriority", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
        "getrandom", "uname", "sysinfo", "prlimit64", "getrlimit",
        /* signals: within the process */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigtimedwait",
        /* a poll, sleep or futex wait with a time-out stopped and continued (SIGSTOP, a freezer, a
         * debugger) resumes through it: denied, the wait fails with EPERM */
        "restart_syscall",
        "getpid", "gettid", "getppid", "getsid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
        "getgroups",
        /* waiting */
        "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
        "epoll_pwait2", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd4",
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "io_uring_enter",
        /* the socket to udkd and sockets handed in */
        "sendmsg", "recvmsg", "sendto", "recvfrom", "sendmmsg", "recvmmsg", "getsockopt", "setsockopt",
        "shutdown", "getsockname", "getpeername",
        /* shared memory: data queues */
        "memfd_create",
};

/* What libudev needs to read sysfs and the udev database by name, and its netlink monitor: opening
 * read-only (Landlock says where), reading folders and links, a NETLINK_KOBJECT_UEVENT socket. */
static const char *const udev_syscalls[] = {
        "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "statfs", "fstatfs",
        "bind", "stat", "lstat",
};

static int seccomp_add_udev(scmp_filter_ctx ctx)
{
        const scmp_datum_t write_flags = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (__O_TMPFILE & ~O_DIRECTORY);
        int r = 0;

        for (size_t i = 0; i < UDK_ELEMENTSOF(udev_syscalls) && r >= 0; i++) {
                int nr = seccomp_syscall_resolve_name(udev_syscalls[i]);
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, O_RDONLY));
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, write_flags, O_RDONLY));
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                                     SCMP_A2(SCMP_CMP_EQ, NETLINK_KOBJECT_UEVENT));
        return r;
}

/*
 * ioctl on what the driver holds, except typing into a terminal (TIOCSTI) or pasting into a
 * console (TIOCLINUX): udkd's stderr may be one, and a driver running as root could use any.
 * The kernel reads the request's low 32 bits, a filter compares all 64 and one rule may compare
 * an argument once: so allow a request whose low 32 bits differ from both on a bit where the two
 * agree, or whose bits where they differ make neither.  Upper bits never make it either.
 */
static int seccomp_allow_ioctl(scmp_filter_ctx ctx)
{
        const uint32_t x = (uint32_t)TIOCSTI, y = (uint32_t)TIOCLINUX, differ = x ^ y;
        int r = 0;

        for (unsigned bit = 0; bit < 32 && r >= 0; bit++) {
                uint32_t b = UINT32_C(1) << bit;
                if (!(differ & b))
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, b, ~x & b));
        }
        /* Every pattern of the differing bits, as a subset of them, but x's and y's. */
        for (uint32_t p = differ;; p = (p - 1) & differ) {
                if (r >= 0 && p != (x & differ) && p != (y & differ))
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, differ, p));
                if (p == 0)
                        break;
        }
        return r;
}

int sandbox_seccomp(void)
{
        static const int prctl_options[] = { PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS,
                                             0x53564d41 /* PR_SET_VMA, naming anonymous mappings */ };
        scmp_filter_ctx ctx;
        int r = 0;

        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx) {
                udk_error("cannot make a seccomp filter");
                return -ENOMEM;
        }
        for (size_t i = 0; i < UDK_ELEMENTSOF(allowed_syscalls) && r >= 0; i++) {
                int nr = seccomp_syscall_resolve_name(allowed_syscalls[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        if (r >= 0)
                r = seccomp_allow_ioctl(ctx);
        /* Signals to its own threads only (raise, pthread_kill, abort): tgkill with its own tgid;
         * tkill, which names any thread of the system, not at all. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
        /* Threads yes, processes no. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        /* clone3's flags sit behind a pointer a filter cannot read: ENOSYS sends glibc back to clone. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        for (size_t i = 0; i < UDK_ELEMENTSOF(prctl_options) && r >= 0; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_options[i]));
        if (r >= 0 && udev_allowed)
                r = seccomp_add_udev(ctx);
        if (r >= 0)
                r = seccomp_load(ctx);
        if (r < 0)
                udk_error("cannot install the seccomp filter: %s", strerror(-r));
        seccomp_release(ctx);
        return r;
}
