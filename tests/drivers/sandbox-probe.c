/* SPDX-License-Identifier: MIT */
/*
 * A test-only driver (never installed) for test-driverhost: methods that
 * try what the sandbox must deny and answer with the errno each got, and
 * methods that show what the host handed the driver (its provider, a
 * control change) or what udkd answered to its requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/driver-host.h>
#include <udk/driver.h>
#include <udk/util.h>

#include "sandbox-probe.h"

struct probe {
        struct udk_action *uring_action;
        int64_t uring_result; /* PROBE_PENDING until the CQE came */
        char control[3 * UDK_OBJECT_NAME_MAX];
        const struct udk_nub *provider;
        struct udk_driver *drv;
        unsigned ticks;
};

static int errno_of(int r)
{
        return r < 0 ? errno : 0;
}

static int scalar(struct udk_driver_call *call, uint64_t value)
{
        call->scalar_out[0] = value;
        call->n_scalar_out = 1;
        return 0;
}

static int text_out(struct udk_driver_call *call, const char *text)
{
        size_t n = strlen(text) + 1;

        n = UDK_MIN(n, call->struct_out_capacity);
        memcpy(call->struct_out, text, n);
        call->struct_out_size = (uint32_t)n;
        return 0;
}

static int m_open(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        int e = errno_of(fd);

        if (fd >= 0)
                close(fd);
        return scalar(call, (uint64_t)e);
}

/* What a bus driver's --udev adds: reading sysfs, a udev monitor's socket; never writing. */
static int try_open(struct udk_driver_call *call, const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC);
        int e = errno_of(fd);

        if (fd >= 0)
                close(fd);
        return scalar(call, (uint64_t)e);
}

static int m_sysfs_read(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return try_open(call, "/sys/class", O_RDONLY | O_DIRECTORY);
}

static int m_sysfs_write(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return try_open(call, "/sys/kernel/uevent_helper", O_WRONLY);
}

static int m_netlink_uevent(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        int e = errno_of(fd);

        if (fd >= 0)
                close(fd);
        return scalar(call, (uint64_t)e);
}

static int try_socket(struct udk_driver_call *call, int domain)
{
        int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int e = errno_of(fd);

        if (fd >= 0)
                close(fd);
        return scalar(call, (uint64_t)e);
}

static int m_socket_inet(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return try_socket(call, AF_INET);
}

static int m_socket_unix(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return try_socket(call, AF_UNIX);
}

static int m_execve(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        char *const argv[] = { (char *)"true", NULL };
        char *const envp[] = { NULL };

        /* Only ever called sandboxed: without the sandbox this would replace the host. */
        execve("/bin/true", argv, envp);
        return scalar(call, (uint64_t)errno);
}

static int m_uring_setup(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct io_uring ring;
        int r = io_uring_queue_init(4, &ring, 0);

        if (r == 0)
                io_uring_queue_exit(&ring);
        return scalar(call, (uint64_t)-r);
}

static void prep_openat(struct io_uring_sqe *sqe, void *data)
{
        io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC, 0);
}

static void uring_done(void *data, struct udk_action *action, int result)
{
        struct probe *p = data;

        p->uring_result = result;
        if (result >= 0)
                close(result);
}

static int m_uring_openat(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct probe *p = state;
        int r;

        p->uring_result = PROBE_PENDING;
        if (!p->uring_action) {
                r = udk_action_create(udk_driver_queue(drv), uring_done, p, &p->uring_action);
                if (r < 0)
                        return r;
        }
        return udk_dispatch_submit(udk_driver_queue(drv), prep_openat, NULL, p->uring_action);
}

static int m_uring_result(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct probe *p = state;

        return scalar(call, (uint64_t)p->uring_result);
}

static void *thread_main(void *arg)
{
        return arg;
}

static int m_thread(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        pthread_t t;
        void *ret = NULL;
        int r = pthread_create(&t, NULL, thread_main, (void *)(uintptr_t)7);

        if (r == 0)
                pthread_join(t, &ret);
        call->scalar_out[0] = (uint64_t)r;
        call->scalar_out[1] = (uint64_t)(uintptr_t)ret;
        call->n_scalar_out = 2;
        return 0;
}

static int m_data_queue(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct udk_data_queue *dq;
        uint32_t in = 0xabcd, out = 0;
        int r = udk_data_queue_create(8, sizeof(uint32_t), &dq);

        if (r < 0)
                return scalar(call, (uint64_t)-r);
        r = udk_data_queue_enqueue(dq, &in);
        if (r >= 0)
                r = udk_data_queue_dequeue(dq, &out);
        udk_data_queue_destroy(dq);
        if (r >= 0 && out != in)
                r = -EIO;
        return scalar(call, (uint64_t)-r);
}

/* a + b, a * b; the four bytes in, reversed, as far as the caller takes them. */
static int m_echo(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        const uint8_t *in = call->struct_in;
        uint8_t *out = call->struct_out;
        uint32_t n = UDK_MIN(call->struct_out_capacity, 4u);

        call->scalar_out[0] = call->scalar_in[0] + call->scalar_in[1];
        call->scalar_out[1] = call->scalar_in[0] * call->scalar_in[1];
        call->n_scalar_out = 2;
        for (uint32_t i = 0; i < n; i++)
                out[i] = in[3 - i];
        call->struct_out_size = n;
        return 0;
}

static int m_overfill(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        call->n_scalar_out = 3; /* its entry allows 1 */
        return 0;
}

static int m_failing(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return -ENOSPC;
}

/* "name family id | k=v k=v | personality k=v | fds N: <fd 0's first bytes>". */
static int m_provider(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct probe *p = state;
        const struct udk_nub *nub = p->provider;
        char text[1024], data[64] = "";
        const char *key, *value;
        size_t len;
        ssize_t n;

        len = (size_t)snprintf(text, sizeof(text), "%s %s %u |", udk_nub_name(nub), udk_nub_family(nub),
                               udk_nub_id(nub));
        for (size_t i = 0; udk_nub_property_at(nub, i, &key, &value) == 0; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, " %s=%s", key, value);
        n = udk_nub_fd(nub, 0) >= 0 ? pread(udk_nub_fd(nub, 0), data, sizeof(data) - 1, 0) : 0;
        if (n > 0)
                data[n] = '\0';
        snprintf(text + len, sizeof(text) - len, " | personality %s class %s restarts %u mode=%s | fds %u: %s",
                 udk_driver_personality(drv), udk_driver_class(drv), udk_driver_restarts(drv),
                 udk_driver_personality_property(drv, "mode") ? udk_driver_personality_property(drv, "mode")
                                                              : "(none)",
                 udk_nub_n_fds(nub), data);
        return text_out(call, text);
}

static void probe_control_changed(struct udk_driver *drv, void *state, udk_object_id device, const char *control,
                                  const char *value)
{
        struct probe *p = state;

        snprintf(p->control, sizeof(p->control), "%u %s %s", device, control, value);
}

static int m_control(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct probe *p = state;

        return text_out(call, p->control);
}

/* Publish nub "struct in" with handle scalar 0: scalars out status and id, structure out udkd's sentence. */
static int m_publish(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        static const struct udk_nub_property props[] = {
                { "vendor", "0x1234" },
                { "modalias", "test:v1234p0001" },
        };
        char name[UDK_OBJECT_NAME_MAX] = "";
        udk_object_id id = 0;
        int r;

        memcpy(name, call->struct_in, UDK_MIN(call->struct_in_size, sizeof(name) - 1));
        r = udk_driver_publish_nub(drv, (uint32_t)call->scalar_in[0], "test", name, props, UDK_ELEMENTSOF(props),
                                   &id);
        call->scalar_out[0] = (uint64_t)(int64_t)r;
        call->scalar_out[1] = id;
        call->n_scalar_out = 2;
        return text_out(call, udk_driver_error(drv));
}

static int m_remove(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        return scalar(call, (uint64_t)(int64_t)udk_driver_remove_nub(drv, (uint32_t)call->scalar_in[0]));
}

/* Create the device the text in describes: scalars out status and id, structure out udkd's sentence. */
static void on_tick(void *data, struct udk_dispatch_source *source)
{
        struct probe *p = data;

        udk_driver_log(p->drv, UDK_LOG_DEBUG, "timer tick %u of %s", ++p->ticks, p->control[0] ? p->control : "?");
}

/* Left running on purpose: a shared host must destroy it when the instance ends. */
static int m_timer(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        struct probe *p = state;
        struct udk_dispatch_source *timer;
        uint64_t now = udk_dispatch_now();

        p->drv = drv;
        snprintf(p->control, sizeof(p->control), "%s", udk_driver_personality_property(drv, "mode"));
        /* 100 ms: the tests read every tick from the host's stderr, into a bounded buffer. */
        return scalar(call, (uint64_t)-udk_dispatch_timer_create(udk_driver_queue(drv), now + 100000000, 100000000,
                                                                 on_tick, p, &timer));
}

static int m_device(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        char text[UDK_DRIVER_METHOD_STRUCT_MAX + 1];
        udk_object_id id = 0;
        int r;

        if (call->struct_in_size == 0 || call->struct_in_size >= sizeof(text))
                return -EINVAL;
        memcpy(text, call->struct_in, call->struct_in_size);
        text[call->struct_in_size] = '\0';
        r = udk_driver_device_create(drv, text, &id);
        if (r == 0)
                r = udk_driver_device_add_level(drv, id, "gain", -60, 0, -6);
        call->scalar_out[0] = (uint64_t)(int64_t)r;
        call->scalar_out[1] = id;
        call->n_scalar_out = 2;
        return text_out(call, udk_driver_error(drv));
}

/* connect() to @path: on an AF_UNIX socket if the sandbox gives one, else on the uevent socket
 * a bus driver may have, so that connect() itself is what is tried. */
static int try_connect_unix(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        int e;

        if (fd < 0)
                fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0)
                return errno;
        udk_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        if (path[0] == '@') {
                sa.sun_path[0] = '\0';
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
        }
        e = errno_of(connect(fd, (const struct sockaddr *)&sa, len));
        close(fd);
        return e;
}

static int try_one(uint64_t what, uint64_t a, uint64_t b, const char *path)
{
        char *const argv[] = { (char *)"true", NULL };
        char *const envp[] = { NULL };
        char byte = ' ';
        uint64_t word;
        int fd;

        switch (what) {
        case TRY_OPEN:
                fd = open(path, (int)a | O_CLOEXEC);
                if (fd < 0)
                        return errno;
                close(fd);
                return 0;
        case TRY_SOCKET:
                fd = socket((int)a, (int)(b & 0xffff) | SOCK_CLOEXEC, (int)(b >> 16));
                if (fd < 0)
                        return errno;
                close(fd);
                return 0;
        case TRY_CONNECT_UNIX:
                return try_connect_unix(path);
        case TRY_PTRACE:
                if (ptrace(PTRACE_SEIZE, (pid_t)a, NULL, NULL) < 0)
                        return errno;
                ptrace(PTRACE_DETACH, (pid_t)a, NULL, NULL);
                return 0;
        case TRY_VM_READV: {
                struct iovec local = { &word, sizeof(word) }, remote = { (void *)(uintptr_t)b, sizeof(word) };
                return errno_of((int)process_vm_readv((pid_t)a, &local, 1, &remote, 1, 0));
        }
        case TRY_KILL:
                return errno_of(kill((pid_t)a, 0));
        case TRY_TGKILL:
                return errno_of((int)syscall(SYS_tgkill, (pid_t)a, (pid_t)a, 0));
        case TRY_MOUNT:
                return errno_of(mount("none", path, "tmpfs", 0, NULL));
        case TRY_EXECVEAT:
                /* Only ever called sandboxed: without the sandbox this would replace the host. */
                syscall(SYS_execveat, AT_FDCWD, path, argv, envp, 0);
                return errno;
        case TRY_FORK: {
                pid_t pid = fork();
                if (pid == 0)
                        _exit(0);
                if (pid < 0)
                        return errno;
                waitpid(pid, NULL, 0);
                return 0;
        }
        case TRY_UNSHARE:
                return errno_of(unshare(CLONE_NEWUSER | CLONE_NEWNS));
        case TRY_TIOCSTI:
                return errno_of(ioctl((int)a, TIOCSTI, &byte));
        case TRY_SESSION:
                return getsid(0) == getpid() ? 0 : 1;
        }
        return EINVAL;
}

static int m_try(struct udk_driver *drv, void *state, struct udk_driver_call *call)
{
        char path[256] = "";

        if (call->struct_in_size >= sizeof(path))
                return -EINVAL;
        if (call->struct_in_size) /* no structure: struct_in may be NULL */
                memcpy(path, call->struct_in, call->struct_in_size);
        path[call->struct_in_size] = '\0';
        return scalar(call, (uint64_t)try_one(call->scalar_in[0], call->scalar_in[1], call->scalar_in[2], path));
}

static const struct udk_driver_method probe_methods[] = {
        { PROBE_OPEN, "open", 0, 0, 1, 0, m_open },
        { PROBE_SOCKET_INET, "socket-inet", 0, 0, 1, 0, m_socket_inet },
        { PROBE_SOCKET_UNIX, "socket-unix", 0, 0, 1, 0, m_socket_unix },
        { PROBE_EXECVE, "execve", 0, 0, 1, 0, m_execve },
        { PROBE_URING_SETUP, "uring-setup", 0, 0, 1, 0, m_uring_setup },
        { PROBE_URING_OPENAT, "uring-openat", 0, 0, 0, 0, m_uring_openat },
        { PROBE_URING_RESULT, "uring-result", 0, 0, 1, 0, m_uring_result },
        { PROBE_THREAD, "thread", 0, 0, 2, 0, m_thread },
        { PROBE_DATA_QUEUE, "data-queue", 0, 0, 1, 0, m_data_queue },
        { PROBE_ECHO, "echo", 2, 4, 2, 4, m_echo },
        { PROBE_OVERFILL, "overfill", 0, 0, 1, 0, m_overfill },
        { PROBE_FAILING, "failing", UDK_DRIVER_SIZE_ANY, UDK_DRIVER_SIZE_ANY, 0, 0, m_failing },
        { PROBE_PROVIDER, "provider", 0, 0, 0, 1024, m_provider },
        { PROBE_CONTROL, "control", 0, 0, 0, 256, m_control },
        { PROBE_PUBLISH, "publish", 1, UDK_DRIVER_SIZE_ANY, 2, 256, m_publish },
        { PROBE_REMOVE, "remove", 1, 0, 1, 0, m_remove },
        { PROBE_DEVICE, "device", 0, UDK_DRIVER_SIZE_ANY, 2, 256, m_device },
        { PROBE_TIMER, "timer", 0, 0, 1, 0, m_timer },
        { PROBE_SYSFS_READ, "sysfs-read", 0, 0, 1, 0, m_sysfs_read },
        { PROBE_SYSFS_WRITE, "sysfs-write", 0, 0, 1, 0, m_sysfs_write },
        { PROBE_NETLINK_UEVENT, "netlink-uevent", 0, 0, 1, 0, m_netlink_uevent },
        { PROBE_TRY, "try", 3, UDK_DRIVER_SIZE_ANY, 1, 0, m_try },
};

static int probe_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct probe *p = state;
        const char *fail = udk_driver_personality_property(drv, "fail_start");

        if (fail && strcmp(fail, "yes") == 0)
                return -ENODEV;
        p->provider = provider;
        udk_driver_log(drv, UDK_LOG_INFO, "probing on %s", udk_nub_name(provider));
        return 0;
}

static void probe_free(struct udk_driver *drv, void *state)
{
        struct probe *p = state;

        udk_action_destroy(p->uring_action);
}

static const struct udk_driver_descriptor probe_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "sandbox-probe",
        .description = "test-driverhost's probe of the sandbox and the protocol",
        .state_size = sizeof(struct probe),
        .start = probe_start,
        .free = probe_free,
        .control_changed = probe_control_changed,
        .methods = probe_methods,
        .n_methods = UDK_ELEMENTSOF(probe_methods),
};

UDK_DRIVER_EXPORT(probe_descriptor);
