/* SPDX-License-Identifier: MIT */
/*
 * udk-driverhost as udkd sees it: this test plays udkd on the socketpair's
 * other end.  The life (READY, START, STARTED, STOP, STOPPED, exit 0), the
 * heartbeat, control changes, method calls and their size checks, the
 * driver's requests (PUBLISH_NUB, DEVICE_CREATE, CONTROL_ADD) answered by
 * the test, the sandbox's denials, and the refusals: a driver of another
 * ABI, a malformed message, a socket that is not one, udkd hanging up.
 */
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <udk/driver-protocol.h>
#include <udk/log.h>
#include <udk/util.h>

#include "sandbox-probe.h"
#include "udk-test.h"

#define WAIT_MS 10000
#define NO_SANDBOX true

struct host {
        pid_t pid;
        int sock;
        int err_fd;
        char err[65536];
        size_t err_len;
        uint32_t sequence;
        char last_log[256];
        unsigned logs;
};

union msg {
        struct udk_msg_header h;
        struct udk_dmsg_ready ready;
        struct udk_dmsg_status status;
        struct udk_dmsg_call_reply call_reply;
        struct udk_dmsg_nub nub;
        struct udk_dmsg_device device;
        struct udk_dmsg_control_add control_add;
        struct udk_dmsg_control control;
        struct udk_dmsg_log log;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void driver_path(char *buf, size_t size, const char *name)
{
        const char *dir = getenv("UDK_TEST_DRIVERS_DIR");

        if (!dir || !getenv("UDK_DRIVERHOST"))
                UDK_TEST_SKIP("UDK_TEST_DRIVERS_DIR and UDK_DRIVERHOST are set by meson");
        snprintf(buf, size, "%s/%s.so", dir, name);
}

/* Start udk-driverhost with @fd3 (or a fresh socketpair's end) on fd 3 and @args before the driver. */
static void host_spawn_fd(struct host *h, const char *driver, bool no_sandbox, int fd3)
{
        char path[PATH_MAX];
        int sv[2] = { -1, -1 }, ep[2];

        driver_path(path, sizeof(path), driver);
        memset(h, 0, sizeof(*h));
        h->sequence = 100;
        if (fd3 < 0)
                ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(pipe2(ep, O_CLOEXEC));
        h->pid = fork();
        ASSERT_OK(h->pid);
        if (h->pid == 0) {
                const char *host = getenv("UDK_DRIVERHOST");
                int child = fd3 >= 0 ? fd3 : sv[1];
                const char *argv[] = { host, "--verbose", no_sandbox ? "--no-sandbox" : path,
                                       no_sandbox ? path : NULL, NULL };

                /* A descriptor the host must close (it closes all above 3). */
                if (open("/dev/null", O_RDONLY) < 0 || dup2(ep[1], 2) < 0 || dup2(child, 3) < 0)
                        _exit(127);
                execv(host, (char *const *)argv);
                _exit(127);
        }
        close(ep[1]);
        if (sv[1] >= 0)
                close(sv[1]);
        h->sock = sv[0];
        h->err_fd = ep[0];
}

static void host_spawn(struct host *h, const char *driver, bool no_sandbox)
{
        host_spawn_fd(h, driver, no_sandbox, -1);
}

static void host_read_stderr(struct host *h, int timeout_ms)
{
        struct pollfd pfd = { .fd = h->err_fd, .events = POLLIN };

        while (h->err_fd >= 0 && poll(&pfd, 1, timeout_ms) > 0) {
                ssize_t n = read(h->err_fd, h->err + h->err_len, sizeof(h->err) - 1 - h->err_len);
                if (n <= 0) {
                        close(h->err_fd);
                        h->err_fd = -1;
                        break;
                }
                h->err_len += (size_t)n;
                h->err[h->err_len] = '\0';
                if (h->err_len == sizeof(h->err) - 1)
                        break;
        }
}

/* Wait for the host to exit; its exit status (a signal fails the test). */
static int host_wait(struct host *h)
{
        uint64_t end = now_ms() + WAIT_MS;
        int status;
        pid_t r;

        while ((r = waitpid(h->pid, &status, WNOHANG)) == 0) {
                if (now_ms() > end) {
                        kill(h->pid, SIGKILL);
                        waitpid(h->pid, &status, 0);
                        host_read_stderr(h, 0);
                        udk_test_fail("udk-driverhost did not exit; its stderr:\n%s", h->err);
                }
                host_read_stderr(h, 10);
        }
        ASSERT_INT_EQ(r, h->pid);
        host_read_stderr(h, 1000);
        if (!WIFEXITED(status))
                udk_test_fail("udk-driverhost died of signal %d; its stderr:\n%s", WTERMSIG(status), h->err);
        if (h->sock >= 0)
                close(h->sock);
        h->sock = -1;
        return WEXITSTATUS(status);
}

/* The host's next message other than LOG (kept in last_log), checked as udkd checks it; 0 on hang-up. */
static ssize_t host_recv(struct host *h, union msg *m, int *fds, unsigned *n_fds)
{
        char err[256];

        for (;;) {
                struct pollfd pfd = { .fd = h->sock, .events = POLLIN };
                ssize_t n;

                if (poll(&pfd, 1, WAIT_MS) <= 0) {
                        host_read_stderr(h, 0);
                        udk_test_fail("no message from udk-driverhost in %d ms; its stderr:\n%s", WAIT_MS, h->err);
                }
                n = udk_msg_recv(h->sock, m->bytes, fds, n_fds, 0);
                if (n == 0 || n == -ECONNRESET)
                        return 0;
                ASSERT_OK(n);
                if (udk_dmsg_check(m->bytes, (size_t)n, *n_fds, true, err, sizeof(err)) < 0)
                        udk_test_fail("the host sent a bad message: %s", err);
                if (m->h.type == UDK_DMSG_LOG) {
                        udk_strlcpy(h->last_log, m->log.text, sizeof(h->last_log));
                        h->logs++;
                        continue;
                }
                return n;
        }
}

static void host_expect(struct host *h, union msg *m, uint32_t type, uint32_t sequence)
{
        unsigned n_fds = 0;
        int fds[UDK_MSG_FDS_MAX];
        ssize_t n = host_recv(h, m, fds, &n_fds);

        if (n == 0) {
                host_read_stderr(h, 1000);
                udk_test_fail("the host hung up, expected %s; its stderr:\n%s", udk_dmsg_type_name(type), h->err);
        }
        ASSERT_STR_EQ(udk_dmsg_type_name(m->h.type), udk_dmsg_type_name(type));
        ASSERT_UINT_EQ(n_fds, 0);
        if (sequence)
                ASSERT_UINT_EQ(m->h.sequence, sequence);
}

static void host_send(struct host *h, void *msg, size_t len, const int *fds, unsigned n_fds)
{
        ASSERT_OK(udk_msg_send(h->sock, msg, len, fds, n_fds));
}

static uint32_t host_next(struct host *h)
{
        return ++h->sequence;
}

static void expect_ready(struct host *h, const char *driver)
{
        union msg m;

        host_expect(h, &m, UDK_DMSG_READY, 1);
        ASSERT_UINT_EQ(m.ready.version, UDK_DRIVER_PROTOCOL_VERSION);
        ASSERT_UINT_EQ(m.ready.abi, 1);
        ASSERT_STR_EQ(m.ready.driver, driver);
}

static void add_prop(struct udk_dmsg_start *s, const char *key, const char *value)
{
        ASSERT_OK(udk_strlcpy(s->props[s->n_props].key, key, UDK_DPROP_KEY_MAX));
        ASSERT_OK(udk_strlcpy(s->props[s->n_props].value, value, UDK_DPROP_VALUE_MAX));
        s->n_props++;
}

/* START on nub 12 "knob" with two nub properties, personality property mode=@mode (and more), a granted
 * file; returns STARTED's status. */
static int host_start_with(struct host *h, const char *mode, const char *fail_start)
{
        struct udk_dmsg_start s;
        union msg m;
        int fd, status;
        uint32_t seq = host_next(h);

        memset(&s, 0, sizeof(s));
        s.nub = 12;
        udk_strlcpy(s.personality, "probe-personality", sizeof(s.personality));
        udk_strlcpy(s.class_name, "ProbeDriver", sizeof(s.class_name));
        udk_strlcpy(s.family, "test", sizeof(s.family));
        udk_strlcpy(s.nub_name, "knob", sizeof(s.nub_name));
        s.restarts = 2;
        add_prop(&s, "vendor", "0x1234");
        add_prop(&s, "product", "0x0001");
        s.n_nub_props = 2;
        add_prop(&s, "mode", mode);
        if (fail_start)
                add_prop(&s, "fail_start", fail_start);
        fd = memfd_create("granted", MFD_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, "granted file", 12), 12);
        s.n_fds = 1;
        s.h = (struct udk_msg_header){ .type = UDK_DMSG_START, .size = (uint32_t)udk_dmsg_start_size(s.n_props),
                                       .sequence = seq };
        host_send(h, &s, udk_dmsg_start_size(s.n_props), &fd, 1);
        close(fd);
        host_expect(h, &m, UDK_DMSG_STARTED, seq);
        status = m.status.status;
        if (status < 0)
                snprintf(h->last_log, sizeof(h->last_log), "%s", m.status.message);
        return status;
}

static void host_start(struct host *h, bool no_sandbox)
{
        host_spawn(h, "sandbox-probe", no_sandbox);
        expect_ready(h, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(h, "loud", NULL), 0);
        ASSERT_STR_EQ(h->last_log, "probing on knob");
}

/* STOP, a clean exit, and on stderr no error but @error (NULL: none at all). */
static void host_stop_with(struct host *h, const char *error)
{
        union msg m;
        uint32_t seq = host_next(h);
        struct udk_msg_header stop = { .type = UDK_DMSG_STOP, .size = sizeof(stop), .sequence = seq };

        host_send(h, &stop, sizeof(stop), NULL, 0);
        host_expect(h, &m, UDK_DMSG_STOPPED, seq);
        ASSERT_INT_EQ(m.status.status, 0);
        ASSERT_INT_EQ(host_wait(h), 0);
        if (error) {
                char *at = strstr(h->err, error);

                ASSERT_NOT_NULL(at);
                memset(at, '.', strlen(error)); /* this one said, no other */
        }
        if (strstr(h->err, "error"))
                udk_test_fail("the host said an error; its stderr:\n%s", h->err);
}

static void host_stop(struct host *h)
{
        host_stop_with(h, NULL);
}

struct call_out {
        int status;
        uint32_t n_scalars;
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint32_t struct_size;
        char data[UDK_CALL_STRUCT_MAX + 1];
};

static uint32_t call_send(struct host *h, uint64_t selector, const uint64_t *scalars, uint32_t n_scalars,
                          const void *in, uint32_t in_size, uint32_t out_max)
{
        union {
                struct udk_dmsg_call c;
                uint8_t bytes[sizeof(struct udk_dmsg_call) + UDK_CALL_STRUCT_MAX];
        } m;
        uint32_t seq = host_next(h);

        memset(&m, 0, sizeof(m));
        m.c.h = (struct udk_msg_header){ .type = UDK_DMSG_CALL, .size = (uint32_t)udk_dmsg_call_size(in_size),
                                         .sequence = seq };
        m.c.selector = selector;
        m.c.n_scalars = n_scalars;
        if (n_scalars)
                memcpy(m.c.scalars, scalars, n_scalars * sizeof(uint64_t));
        m.c.struct_size = in_size;
        m.c.struct_out_max = out_max;
        m.c.caller_uid = 1000;
        if (in_size)
                memcpy(m.c.data, in, in_size);
        host_send(h, &m, udk_dmsg_call_size(in_size), NULL, 0);
        return seq;
}

static void call_reply(struct host *h, uint32_t seq, struct call_out *out)
{
        union msg m;

        host_expect(h, &m, UDK_DMSG_CALL_REPLY, seq);
        memset(out, 0, sizeof(*out));
        out->status = m.call_reply.status;
        out->n_scalars = m.call_reply.n_scalars;
        memcpy(out->scalars, m.call_reply.scalars, sizeof(out->scalars));
        out->struct_size = m.call_reply.struct_size;
        memcpy(out->data, m.call_reply.data, m.call_reply.struct_size);
}

static void call(struct host *h, uint64_t selector, const uint64_t *scalars, uint32_t n_scalars, const void *in,
                 uint32_t in_size, uint32_t out_max, struct call_out *out)
{
        call_reply(h, call_send(h, selector, scalars, n_scalars, in, in_size, out_max), out);
}

/* A method answering one scalar: that scalar (the test fails on any other status). */
static uint64_t call_scalar(struct host *h, uint64_t selector)
{
        struct call_out out;

        call(h, selector, NULL, 0, NULL, 0, 0, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.n_scalars, 1);
        return out.scalars[0];
}

static void reply_send(struct host *h, uint32_t seq, int status, udk_object_id id, const char *message)
{
        struct udk_dmsg_reply r;

        memset(&r, 0, sizeof(r));
        r.h = (struct udk_msg_header){ .type = UDK_DMSG_REPLY, .size = sizeof(r), .sequence = seq };
        r.status = status;
        r.id = id;
        if (message)
                udk_strlcpy(r.message, message, sizeof(r.message));
        host_send(h, &r, sizeof(r), NULL, 0);
}

/* --- the tests --- */

static void test_life(void)
{
        struct host h;
        struct call_out out;

        host_start(&h, false);
        call(&h, PROBE_PROVIDER, NULL, 0, NULL, 0, 1024, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_STR_EQ(out.data, "knob test 12 | vendor=0x1234 product=0x0001 | personality probe-personality "
                                "class ProbeDriver restarts 2 mode=loud | fds 1: granted file");
        ASSERT_UINT_EQ(out.struct_size, strlen(out.data) + 1);
        host_stop(&h);
        /* --verbose: the debug lines are there; the fd the test leaked to the host was closed, so the
         * dispatch queue's and the socket's are all it has (nothing to check from outside but exit 0). */
        ASSERT_STR_CONTAINS(h.err, "udk-driverhost[sandbox-probe]: debug: driver 'sandbox-probe' started on nub 12");
        ASSERT_STR_CONTAINS(h.err, "udk-driverhost[sandbox-probe]: info: probing on knob\n");
}

static void test_sandbox_denials(void)
{
        struct host h;
        struct call_out out;
        uint64_t result = (uint64_t)PROBE_PENDING;

        host_start(&h, false);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_OPEN), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_INET), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_UNIX), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_EXECVE), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_URING_SETUP), EPERM);

        /* OPENAT on the queue's own ring: the ring's restrictions refuse it. */
        call(&h, PROBE_URING_OPENAT, NULL, 0, NULL, 0, 0, &out);
        ASSERT_INT_EQ(out.status, 0);
        for (int i = 0; i < 100 && result == (uint64_t)PROBE_PENDING; i++) {
                result = call_scalar(&h, PROBE_URING_RESULT);
                if (result == (uint64_t)PROBE_PENDING)
                        usleep(10000);
        }
        ASSERT_INT_EQ((int64_t)result, -EACCES);

        /* What a driver may do: threads, data queues (a memfd of its own). */
        call(&h, PROBE_THREAD, NULL, 0, NULL, 0, 0, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.n_scalars, 2);
        ASSERT_UINT_EQ(out.scalars[0], 0);
        ASSERT_UINT_EQ(out.scalars[1], 7);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_DATA_QUEUE), 0);
        host_stop(&h);
        ASSERT_FALSE(strstr(h.err, "warning"));
}

static bool landlock_present(void)
{
        return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) >= 1;
}

/* sandbox-probe in a host with --udev, started. */
static void host_start_udev(struct host *h)
{
        char path[PATH_MAX];
        int sv[2], ep[2];

        driver_path(path, sizeof(path), "sandbox-probe");
        memset(h, 0, sizeof(*h));
        h->sequence = 100;
        ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(pipe2(ep, O_CLOEXEC));
        h->pid = fork();
        ASSERT_OK(h->pid);
        if (h->pid == 0) {
                const char *argv[] = { getenv("UDK_DRIVERHOST"), "--verbose", "--udev", path, NULL };

                if (dup2(ep[1], 2) < 0 || dup2(sv[1], 3) < 0)
                        _exit(127);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(ep[1]);
        close(sv[1]);
        h->sock = sv[0];
        h->err_fd = ep[0];
        expect_ready(h, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(h, "loud", NULL), 0);
}

/* --udev (a bus driver's sandbox = udev): sysfs read-only and a uevent socket; nothing else more. */
static void test_sandbox_udev(void)
{
        struct host h;

        host_start_udev(&h);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SYSFS_READ), 0);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_NETLINK_UEVENT), 0);
        /* Writing is refused by seccomp (a write flag), whatever Landlock would say. */
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SYSFS_WRITE), EPERM);
        /* Read-only outside /sys, /run/udev, /etc/udev: Landlock refuses it. */
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_OPEN), landlock_present() ? EACCES : 0);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_UNIX), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_INET), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_EXECVE), EPERM);
        host_stop(&h);

        /* Without --udev, neither. */
        host_start(&h, false);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SYSFS_READ), EPERM);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_NETLINK_UEVENT), EPERM);
        host_stop(&h);
}

/* One PROBE_TRY: the errno the host got. */
static uint64_t try_in_host(struct host *h, enum probe_try what, uint64_t a, uint64_t b, const char *path)
{
        uint64_t scalars[3] = { what, a, b };
        struct call_out out;

        call(h, PROBE_TRY, scalars, 3, path, path ? (uint32_t)strlen(path) : 0, 0, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.n_scalars, 1);
        return out.scalars[0];
}

/* What a driver could reach that nobody gave it: the test plays udkd, so its pid is "udkd's". */
struct escape_targets {
        char dir[64];          /* a private folder standing for udkd's configuration */
        char conf[96];
        char client_socket[96]; /* a listening unix socket standing for udkd's client socket */
        int listen_fd;
        char proc_mem[64], proc_fd[64], proc_environ[64];
};

static uint64_t secret = 0x5ec2e7; /* what process_vm_readv would read */

static void escape_targets_make(struct escape_targets *t)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        FILE *f;

        snprintf(t->dir, sizeof(t->dir), "/tmp/udk-test-escape-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(t->dir));
        snprintf(t->conf, sizeof(t->conf), "%s/udkd.conf", t->dir);
        f = fopen(t->conf, "w");
        ASSERT_NOT_NULL(f);
        fputs("[device]\nname = secret\n", f);
        ASSERT_OK(fclose(f));
        snprintf(t->client_socket, sizeof(t->client_socket), "%s/udkd.sock", t->dir);
        udk_strlcpy(sa.sun_path, t->client_socket, sizeof(sa.sun_path));
        t->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_OK(t->listen_fd);
        ASSERT_OK(bind(t->listen_fd, (const struct sockaddr *)&sa, sizeof(sa)));
        ASSERT_OK(listen(t->listen_fd, 4));
        snprintf(t->proc_mem, sizeof(t->proc_mem), "/proc/%d/mem", (int)getpid());
        snprintf(t->proc_fd, sizeof(t->proc_fd), "/proc/%d/fd/%d", (int)getpid(), t->listen_fd);
        snprintf(t->proc_environ, sizeof(t->proc_environ), "/proc/%d/environ", (int)getpid());
}

static void escape_targets_remove(struct escape_targets *t)
{
        close(t->listen_fd);
        unlink(t->client_socket);
        unlink(t->conf);
        rmdir(t->dir);
}

/* Every way out, tried from inside: @open_denial is what opening a file to read gets (EPERM from
 * seccomp without --udev, EACCES from Landlock with it, 0 with --udev on a kernel without Landlock:
 * not checked then). */
static void expect_no_escape(struct host *h, const struct escape_targets *t, uint64_t open_denial)
{
        const char *const files[] = { "/etc/shadow", "/etc/passwd", t->conf, t->proc_mem, t->proc_fd,
                                      t->proc_environ, "/dev/mem", "/dev/tty", "/dev/null", "/dev/zero",
                                      "/root", "/home" };
        struct {
                int domain, type, protocol;
        } const sockets[] = {
                { AF_INET, SOCK_STREAM, 0 },   { AF_INET, SOCK_DGRAM, 0 },
                { AF_INET6, SOCK_STREAM, 0 },  { AF_INET6, SOCK_DGRAM, 0 },
                { AF_UNIX, SOCK_DGRAM, 0 },    { AF_PACKET, SOCK_RAW, 0 },
                { AF_NETLINK, SOCK_RAW, NETLINK_ROUTE }, { AF_NETLINK, SOCK_RAW, NETLINK_AUDIT },
        };
        pid_t udkd = getpid();

        for (size_t i = 0; i < UDK_ELEMENTSOF(files); i++) {
                uint64_t e;

                if (access(files[i], F_OK) < 0)
                        continue; /* a container without /dev/mem: ENOENT would say nothing */
                e = try_in_host(h, TRY_OPEN, O_RDONLY, 0, files[i]);
                if (open_denial && e != open_denial) /* 0: no Landlock, reading is not confined */
                        udk_test_fail("opening %s from the host: errno %d, expected %d", files[i], (int)e,
                                      (int)open_denial);
                ASSERT_UINT_EQ(try_in_host(h, TRY_OPEN, O_RDWR, 0, files[i]), EPERM);
        }
        for (size_t i = 0; i < UDK_ELEMENTSOF(sockets); i++) {
                uint64_t e = try_in_host(h, TRY_SOCKET, (uint64_t)sockets[i].domain,
                                         (uint64_t)sockets[i].type | (uint64_t)sockets[i].protocol << 16, NULL);
                if (e != EPERM)
                        udk_test_fail("socket(%d, %d, %d) from the host: errno %d, expected EPERM",
                                      sockets[i].domain, sockets[i].type, sockets[i].protocol, (int)e);
        }
        /* connect() itself, on the uevent socket a bus driver has: denied before any address is looked at. */
        ASSERT_UINT_EQ(try_in_host(h, TRY_CONNECT_UNIX, 0, 0, t->client_socket), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_CONNECT_UNIX, 0, 0, "@udk-test-abstract"), EPERM);
        /* udkd's memory and life. */
        ASSERT_UINT_EQ(try_in_host(h, TRY_PTRACE, (uint64_t)udkd, 0, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_VM_READV, (uint64_t)udkd, (uintptr_t)&secret, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_KILL, (uint64_t)udkd, 0, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_TGKILL, (uint64_t)udkd, 0, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_TGKILL, 1, 0, NULL), EPERM);
        /* New processes, namespaces, mounts, programs. */
        ASSERT_UINT_EQ(try_in_host(h, TRY_FORK, 0, 0, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_UNSHARE, 0, 0, NULL), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_MOUNT, 0, 0, t->dir), EPERM);
        ASSERT_UINT_EQ(try_in_host(h, TRY_EXECVEAT, 0, 0, "/bin/true"), EPERM);
        /* Its stderr is a pipe here: allowed, TIOCSTI would get ENOTTY; the filter answers first. */
        ASSERT_UINT_EQ(try_in_host(h, TRY_TIOCSTI, 2, 0, NULL), EPERM);
        /* And no terminal to type into: the host leads its own session. */
        ASSERT_UINT_EQ(try_in_host(h, TRY_SESSION, 0, 0, NULL), 0);
}

/* What is not tried above: files outside the grant, sockets of every kind, connect(), udkd's memory
 * and signals, processes, namespaces, mounts, execveat, a terminal; in both sandboxes. */
static void test_sandbox_no_escape(void)
{
        struct escape_targets t;
        struct host h;

        escape_targets_make(&t);
        host_start(&h, false);
        expect_no_escape(&h, &t, EPERM);
        host_stop(&h);
        ASSERT_FALSE(strstr(h.err, "warning"));

        host_start_udev(&h);
        expect_no_escape(&h, &t, landlock_present() ? EACCES : 0);
        host_stop(&h);
        ASSERT_FALSE(strstr(h.err, "warning"));
        escape_targets_remove(&t);
}

/* The same probes without the sandbox succeed: the denials above are the sandbox's. */
static void test_no_sandbox(void)
{
        struct host h;

        host_start(&h, NO_SANDBOX);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_OPEN), 0);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_UNIX), 0);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_URING_SETUP), 0);
        host_stop(&h);
        ASSERT_STR_CONTAINS(h.err, "udk-driverhost: warning: --no-sandbox: the driver runs with this process's "
                                   "full rights\n");
}

static void test_call_checks(void)
{
        static const uint8_t bytes[4] = { 1, 2, 3, 4 };
        uint64_t two[2] = { 6, 7 };
        struct host h;
        struct call_out out;

        host_start(&h, false);
        call(&h, PROBE_ECHO, two, 2, bytes, 4, 64, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.n_scalars, 2);
        ASSERT_UINT_EQ(out.scalars[0], 13);
        ASSERT_UINT_EQ(out.scalars[1], 42);
        ASSERT_UINT_EQ(out.struct_size, 4);
        ASSERT_TRUE(memcmp(out.data, "\4\3\2\1", 4) == 0);

        /* The caller takes 2 bytes only: the method sees that capacity. */
        call(&h, PROBE_ECHO, two, 2, bytes, 4, 2, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.struct_size, 2);
        ASSERT_TRUE(memcmp(out.data, "\4\3", 2) == 0);

        /* Sizes other than the entry's: -EINVAL, the method never runs. */
        call(&h, PROBE_ECHO, two, 1, bytes, 4, 64, &out);
        ASSERT_INT_EQ(out.status, -EINVAL);
        ASSERT_UINT_EQ(out.n_scalars, 0);
        ASSERT_UINT_EQ(out.struct_size, 0);
        call(&h, PROBE_ECHO, two, 2, bytes, 3, 64, &out);
        ASSERT_INT_EQ(out.status, -EINVAL);

        /* An unknown selector: -EOPNOTSUPP. */
        call(&h, 999, NULL, 0, NULL, 0, 0, &out);
        ASSERT_INT_EQ(out.status, -EOPNOTSUPP);

        /* A method that claims more than its entry allows: -EIO, nothing returned. */
        call(&h, PROBE_OVERFILL, NULL, 0, NULL, 0, 0, &out);
        ASSERT_INT_EQ(out.status, -EIO);
        ASSERT_UINT_EQ(out.n_scalars, 0);
        ASSERT_STR_EQ(h.last_log, "method overfill: filled 3 scalars and 0 bytes, at most 1 and 0");

        /* A method's own error is the status; any sizes go to a SIZE_ANY entry. */
        call(&h, PROBE_FAILING, two, 2, bytes, 3, 0, &out);
        ASSERT_INT_EQ(out.status, -ENOSPC);
        host_stop_with(&h, "error: method overfill");
}

static void test_ping_pong(void)
{
        struct host h;
        union msg m;
        struct udk_msg_header ping = { .type = UDK_DMSG_PING, .size = sizeof(ping) };

        host_start(&h, false);
        for (uint32_t seq = 500; seq < 503; seq++) {
                ping.sequence = seq;
                host_send(&h, &ping, sizeof(ping), NULL, 0);
                host_expect(&h, &m, UDK_DMSG_PONG, seq);
                ASSERT_UINT_EQ(m.h.size, sizeof(struct udk_msg_header));
        }
        host_stop(&h);
}

static void test_control_changed(void)
{
        struct udk_dmsg_control c;
        struct host h;
        struct call_out out;

        host_start(&h, false);
        memset(&c, 0, sizeof(c));
        c.h = (struct udk_msg_header){ .type = UDK_DMSG_CONTROL_CHANGED, .size = sizeof(c) };
        c.device = 33;
        udk_strlcpy(c.control, "gain", sizeof(c.control));
        udk_strlcpy(c.value, "-6.0dB", sizeof(c.value));
        host_send(&h, &c, sizeof(c), NULL, 0);
        call(&h, PROBE_CONTROL, NULL, 0, NULL, 0, 256, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_STR_EQ(out.data, "33 gain -6.0dB");
        host_stop(&h);
}

static void test_publish_nub(void)
{
        struct host h;
        struct call_out out;
        union msg m;
        uint64_t handle = 7;
        uint32_t seq;

        host_start(&h, false);
        seq = call_send(&h, PROBE_PUBLISH, &handle, 1, "knob-child", 10, 256);
        host_expect(&h, &m, UDK_DMSG_PUBLISH_NUB, 0);
        ASSERT_UINT_EQ(m.nub.handle, 7);
        ASSERT_STR_EQ(m.nub.family, "test");
        ASSERT_STR_EQ(m.nub.name, "knob-child");
        ASSERT_UINT_EQ(m.nub.n_props, 2);
        ASSERT_UINT_EQ(m.h.size, udk_dmsg_nub_size(2));
        ASSERT_STR_EQ(m.nub.props[0].key, "vendor");
        ASSERT_STR_EQ(m.nub.props[0].value, "0x1234");
        ASSERT_STR_EQ(m.nub.props[1].key, "modalias");
        ASSERT_STR_EQ(m.nub.props[1].value, "test:v1234p0001");
        ASSERT_UINT_GE(m.h.sequence, 2);

        /* A PING while the host waits for the REPLY: answered after the request is done, in order. */
        {
                struct udk_msg_header ping = { .type = UDK_DMSG_PING, .size = sizeof(ping), .sequence = 900 };
                host_send(&h, &ping, sizeof(ping), NULL, 0);
        }
        reply_send(&h, m.h.sequence, 0, 42, NULL);
        call_reply(&h, seq, &out);
        ASSERT_INT_EQ(out.status, 0);
        ASSERT_UINT_EQ(out.scalars[0], 0);
        ASSERT_UINT_EQ(out.scalars[1], 42);
        ASSERT_STR_EQ(out.data, "");
        host_expect(&h, &m, UDK_DMSG_PONG, 900);

        /* The same handle again: -EEXIST, udkd never asked. */
        call(&h, PROBE_PUBLISH, &handle, 1, "again", 5, 256, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], -EEXIST);

        /* udkd's refusal: its status and its sentence reach the driver. */
        handle = 8;
        seq = call_send(&h, PROBE_PUBLISH, &handle, 1, "bad", 3, 256);
        host_expect(&h, &m, UDK_DMSG_PUBLISH_NUB, 0);
        reply_send(&h, m.h.sequence, -EINVAL, 0, "nub 'bad': no such family 'test'");
        call_reply(&h, seq, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], -EINVAL);
        ASSERT_UINT_EQ(out.scalars[1], 0);
        ASSERT_STR_EQ(out.data, "nub 'bad': no such family 'test'");

        /* Remove: an unknown handle is -ENOENT without asking; a known one asks udkd. */
        handle = 8;
        call(&h, PROBE_REMOVE, &handle, 1, NULL, 0, 0, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], -ENOENT);
        handle = 7;
        seq = call_send(&h, PROBE_REMOVE, &handle, 1, NULL, 0, 0);
        host_expect(&h, &m, UDK_DMSG_REMOVE_NUB, 0);
        ASSERT_UINT_EQ(((struct udk_dmsg_nub_ref *)&m)->handle, 7);
        reply_send(&h, m.h.sequence, 0, 0, NULL);
        call_reply(&h, seq, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], 0);
        host_stop(&h);
}

static void test_device_create(void)
{
        static const char text[] = "name = knob\nuid = acme:knob\nrate = 48000\nbackend = virtual\n";
        struct host h;
        struct call_out out;
        union msg m;
        uint32_t seq;

        host_start(&h, false);
        seq = call_send(&h, PROBE_DEVICE, NULL, 0, text, sizeof(text), 256);
        host_expect(&h, &m, UDK_DMSG_DEVICE_CREATE, 0);
        ASSERT_UINT_EQ(m.device.text_size, sizeof(text));
        ASSERT_UINT_EQ(m.h.size, udk_dmsg_device_size(sizeof(text)));
        ASSERT_STR_EQ(m.device.text, text);
        reply_send(&h, m.h.sequence, 0, 9, NULL);

        /* Then its control. */
        host_expect(&h, &m, UDK_DMSG_CONTROL_ADD, 0);
        ASSERT_UINT_EQ(m.control_add.device, 9);
        ASSERT_UINT_EQ(m.control_add.kind, UDK_DCONTROL_LEVEL);
        ASSERT_STR_EQ(m.control_add.name, "gain");
        ASSERT_FLOAT_EQ(m.control_add.min, -60);
        ASSERT_FLOAT_EQ(m.control_add.max, 0);
        ASSERT_FLOAT_EQ(m.control_add.value, -6);
        reply_send(&h, m.h.sequence, 0, 0, NULL);
        call_reply(&h, seq, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], 0);
        ASSERT_UINT_EQ(out.scalars[1], 9);

        /* Refused: udkd's sentence. */
        seq = call_send(&h, PROBE_DEVICE, NULL, 0, "rate = x\n", 10, 256);
        host_expect(&h, &m, UDK_DMSG_DEVICE_CREATE, 0);
        ASSERT_STR_EQ(m.device.text, "rate = x\n");
        reply_send(&h, m.h.sequence, -EINVAL, 0, "device:1: rate 'x' is not a number");
        call_reply(&h, seq, &out);
        ASSERT_INT_EQ((int64_t)out.scalars[0], -EINVAL);
        ASSERT_STR_EQ(out.data, "device:1: rate 'x' is not a number");
        host_stop(&h);
}

/* A request udkd never answers times out after 5 s; the host goes on. */
static void test_request_timeout(void)
{
        struct host h;
        struct call_out out;
        union msg m;
        uint64_t handle = 3, start;
        uint32_t seq;

        host_start(&h, false);
        start = now_ms();
        seq = call_send(&h, PROBE_PUBLISH, &handle, 1, "late", 4, 256);
        host_expect(&h, &m, UDK_DMSG_PUBLISH_NUB, 0);
        call_reply(&h, seq, &out);
        ASSERT_UINT_GE(now_ms() - start, 5000);
        ASSERT_INT_EQ((int64_t)out.scalars[0], -ETIMEDOUT);
        ASSERT_STR_EQ(out.data, "udkd did not answer the publish-nub request in 5000 ms");
        /* Its late REPLY is forgiven. */
        reply_send(&h, m.h.sequence, 0, 5, NULL);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_OPEN), EPERM);
        host_stop(&h);
        ASSERT_STR_CONTAINS(h.err, "after its time-out; ignored");
}

static void test_bad_abi(void)
{
        struct host h;
        union msg m;
        unsigned n_fds;
        int fds[UDK_MSG_FDS_MAX];

        host_spawn(&h, "bad-abi", false);
        ASSERT_INT_EQ(host_recv(&h, &m, fds, &n_fds), 0); /* no READY: a hang-up */
        ASSERT_INT_EQ(host_wait(&h), 3);
        ASSERT_STR_CONTAINS(h.err, "bad-abi.so: driver ABI version 2, this host runs version 1\n");
}

static void test_malformed(void)
{
        struct host h;
        union msg m;
        unsigned n_fds;
        int fds[UDK_MSG_FDS_MAX];
        /* A PING whose header claims more bytes than the packet has. */
        struct udk_msg_header ping = { .type = UDK_DMSG_PING, .size = 20, .sequence = 5 };

        host_start(&h, false);
        host_send(&h, &ping, sizeof(ping), NULL, 0);
        ASSERT_INT_EQ(host_recv(&h, &m, fds, &n_fds), 0);
        ASSERT_INT_EQ(host_wait(&h), 4);
        ASSERT_STR_CONTAINS(h.err, "error: udkd sent a bad message: ping message: header says 20 bytes, packet has 16\n");
}

/* A host-only type from "udkd", and a REPLY to nothing: refused the same way. */
static void test_wrong_way(void)
{
        struct host h;
        union msg m;
        unsigned n_fds;
        int fds[UDK_MSG_FDS_MAX];
        struct udk_msg_header pong = { .type = UDK_DMSG_PONG, .size = sizeof(pong), .sequence = 5 };

        host_start(&h, false);
        host_send(&h, &pong, sizeof(pong), NULL, 0);
        ASSERT_INT_EQ(host_recv(&h, &m, fds, &n_fds), 0);
        ASSERT_INT_EQ(host_wait(&h), 4);
        ASSERT_STR_CONTAINS(h.err, "udkd sent a bad message: pong message sent the wrong way\n");

        host_start(&h, false);
        reply_send(&h, 77, 0, 0, NULL);
        ASSERT_INT_EQ(host_recv(&h, &m, fds, &n_fds), 0);
        ASSERT_INT_EQ(host_wait(&h), 4);
        ASSERT_STR_CONTAINS(h.err, "udkd sent a reply to request 77, which this host never sent\n");
}

static void test_hang_up(void)
{
        struct host h;

        host_start(&h, false);
        close(h.sock);
        h.sock = -1;
        ASSERT_INT_EQ(host_wait(&h), 0);
        ASSERT_STR_CONTAINS(h.err, "info: udkd closed the connection: stopping the driver\n");
}

static void test_start_fails(void)
{
        struct host h;

        host_spawn(&h, "sandbox-probe", false);
        expect_ready(&h, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(&h, "quiet", "yes"), -ENODEV);
        ASSERT_STR_EQ(h.last_log, "driver 'sandbox-probe': start() failed: No such device");
        ASSERT_INT_EQ(host_wait(&h), 7);
}

static void test_not_a_socket(void)
{
        struct host h;
        int p[2];

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        host_spawn_fd(&h, "sandbox-probe", false, p[0]);
        close(p[0]);
        close(p[1]);
        ASSERT_INT_EQ(host_wait(&h), 2);
        ASSERT_STR_CONTAINS(h.err, "udk-driverhost: error: fd 3 is not a SOCK_SEQPACKET unix socket (Socket "
                                   "operation on non-socket): udkd starts this program with the socket to "
                                   "itself there\n");
}

static void test_help(void)
{
        const char *host = getenv("UDK_DRIVERHOST");
        char cmd[PATH_MAX + 32], out[4096];
        size_t n;
        FILE *f;

        if (!host)
                UDK_TEST_SKIP("UDK_DRIVERHOST is set by meson");
        snprintf(cmd, sizeof(cmd), "'%s' --help", host);
        f = popen(cmd, "r");
        ASSERT_NOT_NULL(f);
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        ASSERT_INT_EQ(pclose(f), 0);
        ASSERT_STR_CONTAINS(out, "Usage: udk-driverhost [--no-sandbox] [--verbose] [--help] DRIVER.so\n");
        ASSERT_STR_CONTAINS(out, "  3  the driver did not load: dlopen, no descriptor, wrong ABI version, reserved not 0\n");
        snprintf(cmd, sizeof(cmd), "'%s' 2>/dev/null", host);
        ASSERT_INT_EQ(WEXITSTATUS(system(cmd)), 2);
}

/* --- a shared host (--shared): udkd's channel on fd 3, a socket per instance --- */

/* udk-driverhost --shared=pair over @drivers, sandboxed; h->sock is the channel. */
static void shared_spawn(struct host *h, const char *const *drivers, size_t n)
{
        char paths[4][PATH_MAX];
        const char *argv[8];
        size_t argc = 0;
        int sv[2], ep[2];

        ASSERT_UINT_LE(n, 4);
        argv[argc++] = getenv("UDK_DRIVERHOST");
        argv[argc++] = "--verbose";
        argv[argc++] = "--shared=pair";
        for (size_t i = 0; i < n; i++) {
                driver_path(paths[i], sizeof(paths[i]), drivers[i]);
                argv[argc++] = paths[i];
        }
        argv[argc] = NULL;
        memset(h, 0, sizeof(*h));
        h->sequence = 100;
        ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(pipe2(ep, O_CLOEXEC));
        h->pid = fork();
        ASSERT_OK(h->pid);
        if (h->pid == 0) {
                if (dup2(ep[1], 2) < 0 || dup2(sv[1], 3) < 0)
                        _exit(127);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(ep[1]);
        close(sv[1]);
        h->sock = sv[0];
        h->err_fd = ep[0];
}

/* HOST_ATTACH of driver @driver on @fd (a fresh socketpair's end when -1); the instance as a host view
 * on the test's end (its sock -1 when @fd was given). */
static struct host shared_attach(struct host *h, uint32_t driver, int fd, uint32_t *ret_tag)
{
        struct udk_dmsg_host_attach m = { .driver = driver };
        struct host in = *h;
        int sv[2] = { -1, -1 };

        if (fd < 0) {
                ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
                fd = sv[1];
        }
        *ret_tag = host_next(h);
        m.h = (struct udk_msg_header){ .type = UDK_DMSG_HOST_ATTACH, .size = sizeof(m), .sequence = *ret_tag };
        host_send(h, &m, sizeof(m), &fd, 1);
        if (sv[1] >= 0)
                close(sv[1]);
        in.sock = sv[0];
        in.err_fd = -1; /* the host's stderr is read through @h */
        return in;
}

static void shared_expect_detached(struct host *h, uint32_t tag, int code)
{
        union msg m;

        host_expect(h, &m, UDK_DMSG_HOST_DETACHED, tag);
        ASSERT_INT_EQ(((struct udk_dmsg_host_detached *)&m)->code, code);
}

static void test_shared_host(void)
{
        static const char *const drivers[] = { "sandbox-probe", "bad-abi" };
        struct host h, a, b, c, none;
        struct call_out out;
        uint32_t ta, tb, tc, t;
        union msg m;
        unsigned n_fds;
        int fds[UDK_MSG_FDS_MAX], p[2];
        struct udk_msg_header stop = { .type = UDK_DMSG_STOP, .size = sizeof(stop) };

        shared_spawn(&h, drivers, 2);
        /* Two instances of one driver, each on its own socket, sandboxed as a host of its own is. */
        a = shared_attach(&h, 0, -1, &ta);
        expect_ready(&a, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(&a, "loud", NULL), 0);
        b = shared_attach(&h, 0, -1, &tb);
        expect_ready(&b, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(&b, "quiet", NULL), 0);
        ASSERT_UINT_EQ(call_scalar(&a, PROBE_OPEN), EPERM);
        ASSERT_UINT_EQ(call_scalar(&b, PROBE_EXECVE), EPERM);
        call(&b, PROBE_PROVIDER, NULL, 0, NULL, 0, 1024, &out);
        ASSERT_STR_CONTAINS(out.data, "mode=quiet");

        /* Refused at once, the others untouched: a driver that did not load, one not on the command
         * line, a descriptor that is not a socket. */
        none = shared_attach(&h, 1, -1, &t);
        shared_expect_detached(&h, t, 3);
        ASSERT_INT_EQ(host_recv(&none, &m, fds, &n_fds), 0);
        close(none.sock);
        none = shared_attach(&h, 7, -1, &t);
        shared_expect_detached(&h, t, 3);
        close(none.sock);
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        shared_attach(&h, 0, p[0], &t);
        shared_expect_detached(&h, t, 2);
        close(p[0]);
        close(p[1]);

        /* A failed start ends that instance alone (code 7). */
        c = shared_attach(&h, 0, -1, &tc);
        expect_ready(&c, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(&c, "quiet", "yes"), -ENODEV);
        shared_expect_detached(&h, tc, 7);
        ASSERT_INT_EQ(host_recv(&c, &m, fds, &n_fds), 0);
        close(c.sock);

        /* A's timer ticks (its callback reaches A's state) until A ends; then it is gone, B's ticks on. */
        ASSERT_UINT_EQ(call_scalar(&a, PROBE_TIMER), 0);
        ASSERT_UINT_EQ(call_scalar(&b, PROBE_TIMER), 0);
        for (uint64_t end = now_ms() + WAIT_MS; !strstr(h.err, "timer tick 3 of loud");) {
                ASSERT_TRUE(now_ms() < end);
                host_read_stderr(&h, 10);
        }

        /* STOP of one: STOPPED, its socket closed, DETACHED 0; the other runs on. */
        stop.sequence = host_next(&a);
        host_send(&a, &stop, sizeof(stop), NULL, 0);
        host_expect(&a, &m, UDK_DMSG_STOPPED, stop.sequence);
        ASSERT_INT_EQ(host_recv(&a, &m, fds, &n_fds), 0);
        close(a.sock);
        shared_expect_detached(&h, ta, 0);
        ASSERT_UINT_EQ(call_scalar(&b, PROBE_SOCKET_INET), EPERM);
        ASSERT_OK(kill(h.pid, 0));
        {
                size_t mark;
                const char *quiet;

                host_read_stderr(&h, 20);
                mark = h.err_len;
                /* Three of B's 100 ms ticks, at least one whatever the machine's load. */
                usleep(350 * 1000);
                host_read_stderr(&h, 20);
                ASSERT_FALSE(strstr(h.err + mark, "of loud"));
                quiet = strstr(h.err + mark, "timer tick ");
                if (!quiet)
                        udk_test_fail("no tick of quiet in 350 ms (stderr %zu bytes, %zu new):\n%s", h.err_len,
                                      h.err_len - mark, h.err_len > 2000 ? h.err + h.err_len - 2000 : h.err);
                ASSERT_STR_CONTAINS(quiet, " of quiet");
        }

        /* udkd closes the channel: the last instance is stopped as on a hang-up, DETACHED unsaid, exit 0. */
        close(h.sock);
        h.sock = -1;
        ASSERT_INT_EQ(host_recv(&b, &m, fds, &n_fds), 0);
        close(b.sock);
        ASSERT_INT_EQ(host_wait(&h), 0);
        ASSERT_STR_CONTAINS(h.err, "bad-abi.so: driver ABI version 2, this host runs version 1\n");
        ASSERT_STR_CONTAINS(h.err, "udk-driverhost[pair]: error: instance 103: driver 1 did not load\n");
        ASSERT_STR_CONTAINS(h.err, "error: instance 104: driver 7 is not on this host's command line\n");
        ASSERT_STR_CONTAINS(h.err, "info: udkd closed the connection: stopping the driver\n");
        ASSERT_FALSE(strstr(h.err, "Sanitizer"));
}

static void test_shared_bad_channel(void)
{
        static const char *const drivers[] = { "sandbox-probe" };
        struct udk_msg_header ping = { .type = UDK_DMSG_PING, .size = sizeof(ping), .sequence = 5 };
        struct host h, a;
        uint32_t ta;
        union msg m;
        unsigned n_fds;
        int fds[UDK_MSG_FDS_MAX];

        /* Anything but HOST_ATTACH on the channel is a breach: the instances are stopped, exit 4. */
        shared_spawn(&h, drivers, 1);
        a = shared_attach(&h, 0, -1, &ta);
        expect_ready(&a, "sandbox-probe");
        host_send(&h, &ping, sizeof(ping), NULL, 0);
        ASSERT_INT_EQ(host_recv(&a, &m, fds, &n_fds), 0);
        close(a.sock);
        ASSERT_INT_EQ(host_wait(&h), 4);
        ASSERT_STR_CONTAINS(h.err, "error: udkd sent a bad message: a ping message on the host's channel\n");

        /* An attach without its socket fails the protocol's check. */
        shared_spawn(&h, drivers, 1);
        {
                struct udk_dmsg_host_attach at = { .driver = 0 };

                at.h = (struct udk_msg_header){ .type = UDK_DMSG_HOST_ATTACH, .size = sizeof(at), .sequence = 9 };
                host_send(&h, &at, sizeof(at), NULL, 0);
        }
        ASSERT_INT_EQ(host_wait(&h), 4);
        ASSERT_STR_CONTAINS(h.err, "udkd sent a bad message: host-attach message: 0 descriptors attached, "
                                   "expected 1\n");
}

/*
 * udkd slow to read: the driver's log lines must not stall its queue (in a
 * shared host, every instance's).  The host's end gets the smallest send
 * buffer, a few LOGs' worth; its timer logs on while nothing is read, and
 * the drop is said once the socket has room again.
 */
static void test_log_full_socket(void)
{
        struct host h;
        union msg m;
        int sv[2], one = 1;
        bool said = false;

        ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)));
        host_spawn_fd(&h, "sandbox-probe", false, sv[1]);
        close(sv[1]);
        h.sock = sv[0];
        expect_ready(&h, "sandbox-probe");
        ASSERT_INT_EQ(host_start_with(&h, "loud", NULL), 0);
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_TIMER), 0);

        /* Nothing read from the socket: 20 ticks are far more than its buffer holds. */
        for (uint64_t end = now_ms() + WAIT_MS; !strstr(h.err, "timer tick 20 of loud");) {
                if (now_ms() > end)
                        udk_test_fail("the host stopped logging with its socket full; its stderr:\n%s", h.err);
                host_read_stderr(&h, 10);
        }
        ASSERT_STR_CONTAINS(h.err, "warning: udkd's socket is full: log lines go to stderr only until it reads them\n");

        /* Still answering; and once there is room, udkd hears how many lines it missed. */
        ASSERT_UINT_EQ(call_scalar(&h, PROBE_SOCKET_INET), EPERM);
        for (uint64_t end = now_ms() + WAIT_MS; !said;) {
                struct pollfd pfd = { .fd = h.sock, .events = POLLIN };
                unsigned n_fds = 0;
                int fds[UDK_MSG_FDS_MAX];
                ssize_t n;

                ASSERT_TRUE(now_ms() < end);
                if (poll(&pfd, 1, 100) <= 0)
                        continue;
                n = udk_msg_recv(h.sock, m.bytes, fds, &n_fds, 0);
                ASSERT_TRUE(n > 0);
                if (m.h.type == UDK_DMSG_LOG && strstr(m.log.text, " log lines dropped: udkd's socket was full")) {
                        ASSERT_UINT_EQ(m.log.level, UDK_LOG_WARN);
                        said = true;
                }
        }
        host_stop_with(&h, "udkd's socket is full");
}

UDK_TEST_MAIN(test_life, test_sandbox_denials, test_sandbox_udev, test_sandbox_no_escape, test_no_sandbox, test_call_checks, test_ping_pong,
              test_control_changed, test_publish_nub, test_device_create, test_request_timeout, test_bad_abi,
              test_malformed, test_wrong_way, test_hang_up, test_start_fails, test_not_a_socket, test_help,
              test_shared_host, test_shared_bad_channel, test_log_full_socket)
