/* SPDX-License-Identifier: MIT */
/*
 * Clients against each other, tried for real (docs/security.md): a client
 * A streams a known signal through a loopback device while a client B, a
 * process forked before A exists (as root like A, or as nobody), names
 * A's objects in every request that takes an id and gets the exact error
 * each time; A's samples stay exact.  B gets no descriptor of A's, cannot
 * reach A's memory by name or through /proc, and cannot connect when the
 * socket's group is not its own.  The limits a client can run into
 * (sessions, streams, a device's nodes, message size, descriptors, an
 * unread socket) each end in a sentence the client or the log has.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/protocol.h>
#include <udk/util.h>

#include "udk-test-udkd.h"
#include "udk-test.h"

#define NOBODY    65534u /* nobody:nogroup */
#define LOOP_DELAY 300u

static const char config[] = "[device]\n"
                             "name = loop\n"
                             "rate = 48000\n"
                             "period = 256\n"
                             "channels = 2\n"
                             "source = loopback\n"
                             "loopback_latency = 300\n"
                             "[device]\n"
                             "name = other\n"
                             "rate = 48000\n"
                             "period = 256\n"
                             "channels = 2\n"
                             "source = silence\n";

union msg {
        struct udk_msg_header h;
        struct udk_msg_reply reply;
        struct udk_msg_welcome welcome;
        struct udk_msg_object object;
        struct udk_msg_opened opened;
        struct udk_msg_closed closed;
        struct udk_msg_stats_node stats_node;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

/* A raw session, counting every descriptor udkd sends it. */
struct conn {
        int fd;
        uint32_t sequence;
        udk_object_id session;
        unsigned fds_received;
        udk_object_id opened; /* the last OPENED's node */
};

static int raw_connect_errno(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), r;

        ASSERT_OK(fd);
        udk_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        r = connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0 ? fd : -errno;
        if (r < 0)
                close(fd);
        return r;
}

/*
 * One message within @timeout_ms, checked as a client checks it; 0 on
 * hang-up, -EAGAIN when none came.  Descriptors are counted, then kept in
 * @ret_fds (when not NULL, for the caller to close) or closed.  A new
 * peer is said to be mapped at once, as libudk-client does.
 */
static ssize_t recv_msg_fds(struct conn *c, union msg *m, int timeout_ms, int *ret_fds, unsigned *ret_n_fds)
{
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds;
        char err[256];
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) == 0)
                return -EAGAIN;
        n = udk_msg_recv(c->fd, m, fds, &n_fds, 0);
        if (n == -ECONNRESET)
                return 0;
        ASSERT_OK(n);
        c->fds_received += n_fds;
        if (ret_fds) {
                memcpy(ret_fds, fds, n_fds * sizeof(int));
                *ret_n_fds = n_fds;
        } else {
                for (unsigned i = 0; i < n_fds; i++)
                        close(fds[i]);
        }
        if (n == 0)
                return 0;
        if (udk_msg_check(m, (size_t)n, n_fds, false, err, sizeof(err)) < 0)
                udk_test_fail("udkd sent a bad message: %s", err);
        if (m->h.type == UDK_MSG_EVENT_PEER_ADDED) {
                struct udk_msg_peer ready = *(const struct udk_msg_peer *)m;

                udk_msg_init(&ready.h, UDK_MSG_PEER_READY, sizeof(ready), ++c->sequence);
                ASSERT_OK(udk_msg_send(c->fd, &ready, sizeof(ready), NULL, 0));
        }
        return n;
}

static ssize_t recv_msg(struct conn *c, union msg *m)
{
        ssize_t n = recv_msg_fds(c, m, 5000, NULL, NULL);

        if (n == -EAGAIN)
                udk_test_fail("udkd sent nothing within 5 s");
        return n;
}

/* Read what udkd sent @c so far (answering its new peers). */
static void drain(struct conn *c)
{
        union msg m;

        while (recv_msg_fds(c, &m, 0, NULL, NULL) > 0)
                ;
}

/* Send @m (its header filled with the next sequence) and return the REPLY; events are skipped. */
static struct udk_msg_reply request(struct conn *c, void *msg, uint32_t type, size_t size)
{
        struct udk_msg_header *h = msg;
        uint32_t sent = ++c->sequence;
        union msg m;

        udk_msg_init(h, type, (uint32_t)size, sent);
        ASSERT_OK(udk_msg_send(c->fd, msg, size, NULL, 0));
        for (;;) {
                ASSERT_INT_GT(recv_msg(c, &m), 0);
                if (m.h.sequence == 0)
                        continue;
                if (m.h.sequence < sent && m.h.type == UDK_MSG_REPLY)
                        continue; /* a PEER_READY's answer */
                ASSERT_UINT_EQ(m.h.sequence, sent);
                if (m.h.type == UDK_MSG_OPENED)
                        c->opened = m.opened.node;
                if (m.h.type == UDK_MSG_REPLY)
                        return m.reply;
        }
}

static struct conn hello(const char *path, const char *name)
{
        struct conn c = { .fd = raw_connect_errno(path) };
        struct udk_msg_hello m = { .version = UDK_PROTOCOL_VERSION };
        struct udk_msg_reply r;

        ASSERT_OK(c.fd);
        udk_strlcpy(m.name, name, sizeof(m.name));
        r = request(&c, &m, UDK_MSG_HELLO, sizeof(m));
        ASSERT_INT_EQ(r.status, 0);
        return c;
}

static struct udk_msg_reply request_ref(struct conn *c, uint32_t type, udk_object_id id)
{
        struct udk_msg_object_ref m = { .id = id };

        return request(c, &m, type, sizeof(m));
}

static void expect_error(struct udk_msg_reply r, int status, const char *message)
{
        if (r.status != status)
                udk_test_fail("status %d (\"%s\"), expected %d (\"%s\")", r.status, r.message, status, message);
        ASSERT_STR_EQ(r.message, message);
}

/* The session's end: udkd's EVENT_CLOSED with @status and @reason, then the hang-up. */
static void expect_closed(struct conn *c, int status, const char *reason)
{
        union msg m;

        for (;;) {
                ASSERT_INT_GT(recv_msg(c, &m), 0);
                if (m.h.type == UDK_MSG_EVENT_CLOSED)
                        break;
                ASSERT_UINT_EQ(m.h.sequence, 0); /* events before it, nothing else */
        }
        ASSERT_INT_EQ(m.closed.status, status);
        ASSERT_STR_EQ(m.closed.reason, reason);
        ASSERT_INT_EQ(recv_msg(c, &m), 0);
        close(c->fd);
        c->fd = -1;
}

static struct udk_msg_reply raw_open(struct conn *c, udk_object_id device, const char *name)
{
        struct udk_msg_open m = { .device = device, .input_channels = 1, .output_channels = 1,
                                  .gain_bits = udk_float_to_bits(1.0f) };

        udk_strlcpy(m.name, name, sizeof(m.name));
        return request(c, &m, UDK_MSG_OPEN, sizeof(m));
}

/* --- A: a known signal through the loopback, every sample checked --- */

static float pattern(uint64_t t)
{
        return (float)((t % 4093u) + 1u) / 8192.0f;
}

struct victim {
        _Atomic uint64_t first; /* the first cycle's sample time, +1 (0: none yet) */
        _Atomic uint64_t checked, wrong, last;
};

/* RT-safe: pattern(t) out on channel 0; the input at t must be the output at t - LOOP_DELAY. */
static int victim_process(void *data, const struct udk_node_cycle *cycle)
{
        struct victim *v = data;
        uint64_t first = atomic_load(&v->first);

        if (first == 0) {
                first = cycle->sample_time + 1;
                atomic_store(&v->first, first);
        }
        for (uint32_t f = 0; f < cycle->frames; f++) {
                uint64_t t = cycle->sample_time + f;

                cycle->output[f * cycle->output_channels] = pattern(t);
                if (t < first - 1 + LOOP_DELAY)
                        continue;
                if (cycle->input[f * cycle->input_channels] != pattern(t - LOOP_DELAY))
                        atomic_fetch_add(&v->wrong, 1);
                atomic_fetch_add(&v->checked, 1);
        }
        atomic_store(&v->last, cycle->sample_time + cycle->frames);
        return 0;
}

struct a_side {
        struct udk_client *client;
        struct udk_client_stream *stream;
        struct victim v;
        udk_object_id loop, other, node, session;
};

static void a_start(struct a_side *a, const struct proc *p)
{
        struct udk_client_stream_params params;

        memset(a, 0, sizeof(*a));
        ASSERT_OK(udk_client_connect("victim", p->socket, &a->client));
        ASSERT_OK(udk_client_find_class(a->client, "device", "loop", &a->loop));
        ASSERT_OK(udk_client_find_class(a->client, "device", "other", &a->other));
        udk_client_stream_params_defaults(&params);
        params.device = a->loop;
        params.input_channels = 1;
        params.output_channels = 1;
        params.name = "victim-stream";
        ASSERT_OK(udk_client_open(a->client, &params, victim_process, &a->v, &a->stream));
        ASSERT_OK(udk_client_stream_wait_running(a->stream, 5000));
        a->node = udk_client_stream_id(a->stream);
        a->session = udk_client_session_id(a->client);
}

/* A's samples so far, all exact, and at least @min_checked of them. */
static void a_check(struct a_side *a, uint64_t min_checked)
{
        uint64_t deadline = now_ms() + 5000;

        while (atomic_load(&a->v.checked) < min_checked && now_ms() < deadline)
                usleep(10000);
        ASSERT_UINT_GE(atomic_load(&a->v.checked), min_checked);
        ASSERT_UINT_EQ(atomic_load(&a->v.wrong), 0);
        ASSERT_INT_EQ(udk_client_stream_state(a->stream), UDK_NODE_RUNNING);
}

static void a_stop(struct a_side *a)
{
        ASSERT_OK(udk_client_close(a->stream));
        udk_client_disconnect(a->client);
}

/* --- B: a forked process, as root or another user --- */

struct targets {
        const char *socket;
        udk_object_id loop, other, node, session;
        char node_name[UDK_OBJECT_NAME_MAX];
        pid_t udkd, a;
};

/*
 * Another client: a process forked before A exists, so that it holds nothing of A's (no descriptor,
 * no mapping), running as @uid (and its group: nobody's is nogroup) once other_run() tells it A's ids.
 */
struct other {
        pid_t pid;
        int to_child;
};

static struct other other_fork(uid_t uid, void (*fn)(const struct targets *t))
{
        struct other o;
        int fds[2];

        ASSERT_OK(pipe2(fds, O_CLOEXEC));
        fflush(NULL);
        o.pid = fork();
        ASSERT_OK(o.pid);
        if (o.pid == 0) {
                struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
                struct targets t;

                close(fds[1]);
                if (uid != getuid() &&
                    (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0))
                        _exit(3);
                if (poll(&pfd, 1, 30000) != 1 || read(fds[0], &t, sizeof(t)) != (ssize_t)sizeof(t))
                        _exit(4);
                fn(&t);
                _exit(0);
        }
        close(fds[0]);
        o.to_child = fds[1];
        return o;
}

/* Give @o A's ids and wait for it (bounded): fail if it failed. */
static void other_run(struct other *o, const struct targets *t)
{
        uint64_t deadline = now_ms() + 30000;
        int status;

        ASSERT_INT_EQ(write(o->to_child, t, sizeof(*t)), (ssize_t)sizeof(*t));
        close(o->to_child);
        for (;;) {
                pid_t r = waitpid(o->pid, &status, WNOHANG);
                ASSERT_OK(r);
                if (r == o->pid)
                        break;
                if (now_ms() > deadline) {
                        kill(o->pid, SIGKILL);
                        waitpid(o->pid, &status, 0);
                        udk_test_fail("the other client did not finish within 30 s");
                }
                usleep(10000);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                udk_test_fail("the other client failed (status 0x%x)", status);
}

/* INFO on @id: its OBJECT. */
static void info(struct conn *c, udk_object_id id, union msg *ret)
{
        struct udk_msg_object_ref ref = { .id = id };
        union msg m;

        memset(&ret->h, 0, sizeof(ret->h));
        udk_msg_init(&ref.h, UDK_MSG_INFO, sizeof(ref), ++c->sequence);
        ASSERT_OK(udk_msg_send(c->fd, &ref, sizeof(ref), NULL, 0));
        for (;;) {
                ASSERT_INT_GT(recv_msg(c, &m), 0);
                if (m.h.type == UDK_MSG_OBJECT)
                        memcpy(ret, &m, m.h.size);
                if (m.h.type == UDK_MSG_REPLY)
                        break;
        }
        ASSERT_INT_EQ(m.reply.status, 0);
        ASSERT_UINT_EQ(ret->h.type, UDK_MSG_OBJECT);
}

/* Every request that takes an id, naming A's objects, from a client of A's own user. */
static void b_names_a_objects(const struct targets *t)
{
        struct conn b = hello(t->socket, "intruder");
        char text[UDK_MSG_TEXT_MAX];
        struct udk_msg_set_control sc = { .id = t->session };
        struct udk_msg_move mv = { .node = t->node };
        struct udk_msg_call call = { .driver = t->node };
        struct udk_msg_driver_control dc = { .driver = t->node, .action = UDK_DRIVER_STOP };
        struct udk_msg_peer pr = { .node = t->node, .device = t->loop };
        union msg node;

        snprintf(text, sizeof(text), "no stream %u in this session", t->node);
        expect_error(request_ref(&b, UDK_MSG_CLOSE, t->node), -ENOENT, text);
        expect_error(request(&b, &mv, UDK_MSG_MOVE, sizeof(mv)), -ENOENT, text);
        /* A's session and A's node are no device, driver or nub. */
        snprintf(text, sizeof(text), "no device %u", t->node);
        expect_error(request_ref(&b, UDK_MSG_STATS, t->node), -ENOENT, text);
        expect_error(raw_open(&b, t->node, "squat"), -ENOENT, text);
        snprintf(text, sizeof(text), "object %u has no controls", t->session);
        expect_error(request(&b, &sc, UDK_MSG_SET_CONTROL, sizeof(sc)), -ENOENT, text);
        snprintf(text, sizeof(text), "no driver %u", t->node);
        expect_error(request(&b, &call, UDK_MSG_CALL, sizeof(call)), -ENOENT, text);
        expect_error(request(&b, &dc, UDK_MSG_DRIVER_CONTROL, sizeof(dc)), -ENOENT, text);
        snprintf(text, sizeof(text), "no nub %u", t->node);
        expect_error(request_ref(&b, UDK_MSG_MATCH, t->node), -ENOENT, text);
        /* A node's gain is its user's (a mixer of the same user may set it): unity changes nothing. */
        sc.id = t->node;
        udk_strlcpy(sc.control, "gain", sizeof(sc.control));
        udk_strlcpy(sc.value, "0dB", sizeof(sc.value));
        expect_error(request(&b, &sc, UDK_MSG_SET_CONTROL, sizeof(sc)), 0, "");
        /* Reading the registry is everyone's; it carries no descriptor.  A's node there: the pid is
         * the kernel's, the gain what it was. */
        info(&b, t->node, &node);
        ASSERT_INT_EQ(udk_msg_object_prop(&node.object, "pid")->i, t->a);
        ASSERT_FLOAT_EQ(udk_msg_object_prop(&node.object, "gain")->d, 1.0);
        pr.slot = (uint32_t)udk_msg_object_prop(&node.object, "slot")->i;
        ASSERT_INT_EQ(request_ref(&b, UDK_MSG_LIST, 0).status, 0);
        ASSERT_UINT_EQ(b.fds_received, 0);

        /* Claiming to have mapped A's segment, never sent: the session ends, saying why. */
        udk_msg_init(&pr.h, UDK_MSG_PEER_READY, sizeof(pr), ++b.sequence);
        ASSERT_OK(udk_msg_send(b.fd, &pr, sizeof(pr), NULL, 0));
        expect_closed(&b, -ECONNABORTED, "peer-ready for a peer it was never sent (peer-ready message)");
        ASSERT_UINT_EQ(b.fds_received, 0);
}

/* The memfd behind @fd, as /proc names it: "/memfd:udk-node-7 (deleted)". */
static void fd_name(int fd, char *buf, size_t size)
{
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, buf, size - 1);
        ASSERT_OK(n);
        buf[n] = '\0';
}

/* A stream of B's own on the other device: its three segments and none of A's; the device's read-only. */
static void b_opens_elsewhere(const struct targets *t)
{
        struct conn b = hello(t->socket, "neighbour");
        struct udk_msg_open m = { .device = t->other, .input_channels = 1, .output_channels = 1,
                                  .gain_bits = udk_float_to_bits(1.0f) };
        char name[128], want[64];
        int fds[UDK_MSG_FDS_MAX];
        udk_object_id node;
        unsigned n_fds = 0;
        union msg r;

        udk_msg_init(&m.h, UDK_MSG_OPEN, sizeof(m), ++b.sequence);
        udk_strlcpy(m.name, "elsewhere", sizeof(m.name));
        ASSERT_OK(udk_msg_send(b.fd, &m, sizeof(m), NULL, 0));
        do
                ASSERT_INT_GT(recv_msg_fds(&b, &r, 5000, fds, &n_fds), 0);
        while (r.h.type != UDK_MSG_OPENED);
        ASSERT_UINT_EQ(n_fds, 3);
        snprintf(want, sizeof(want), "/memfd:udk-node-%u (deleted)", r.opened.node);
        fd_name(fds[0], name, sizeof(name));
        ASSERT_STR_EQ(name, want);
        fd_name(fds[1], name, sizeof(name));
        ASSERT_STR_EQ(name, "/memfd:udk-graph-other (deleted)");
        fd_name(fds[2], name, sizeof(name));
        ASSERT_STR_EQ(name, "/memfd:udk-device-other (deleted)");
        ASSERT_INT_EQ(fcntl(fds[2], F_GETFL) & O_ACCMODE, O_RDONLY);
        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
        node = r.opened.node;
        ASSERT_INT_EQ(recv_msg(&b, &r), (ssize_t)sizeof(struct udk_msg_reply));
        ASSERT_INT_EQ(r.reply.status, 0);
        /* Nothing more: A's node is on another device, so is no peer of B's. */
        drain(&b);
        ASSERT_UINT_EQ(b.fds_received, 3);
        expect_error(request_ref(&b, UDK_MSG_CLOSE, node), 0, "");
        drain(&b);
        ASSERT_UINT_EQ(b.fds_received, 3);
        close(b.fd);
}

/* /dev/shm holds nothing of udkd's: its segments are memfds, reachable by no name. */
static void expect_no_shm_names(void)
{
        DIR *d = opendir("/dev/shm");
        struct dirent *e;

        if (!d)
                return; /* no /dev/shm at all */
        while ((e = readdir(d)))
                if (strncmp(e->d_name, "udk", 3) == 0)
                        udk_test_fail("/dev/shm/%s: a segment reachable by its name", e->d_name);
        closedir(d);
}

/* A streaming; @t its ids. */
static void victim_start(struct proc *p, struct a_side *a, struct targets *t)
{
        a_start(a, p);
        *t = (struct targets){ .socket = p->socket, .loop = a->loop, .other = a->other, .node = a->node,
                               .session = a->session, .udkd = p->pid, .a = getpid() };
        udk_strlcpy(t->node_name, "victim-stream", sizeof(t->node_name));
        a_check(a, 4800);
}

static void test_objects_of_another_client(void)
{
        struct other names, elsewhere;
        struct targets t;
        struct a_side a;
        struct proc p;
        uint64_t checked;

        proc_start_server(&p, config, NULL);
        names = other_fork(getuid(), b_names_a_objects);
        elsewhere = other_fork(getuid(), b_opens_elsewhere);
        victim_start(&p, &a, &t);
        other_run(&names, &t);
        other_run(&elsewhere, &t);
        expect_no_shm_names();
        /* A never noticed: every sample through the loop exact, before, during and after. */
        checked = atomic_load(&a.v.checked);
        a_check(&a, checked + 9600);
        a_stop(&a);
        proc_stop_server(&p);
}

/* --- another user --- */

static void b_cannot_connect(const struct targets *t)
{

        ASSERT_INT_EQ(raw_connect_errno(t->socket), -EACCES);
}

/* Every /proc/<pid>/fd/N of @pid, and its memory, closed to another user. */
static void expect_proc_closed(pid_t pid)
{
        char path[64];

        for (int fd = 0; fd < 64; fd++) {
                int r;

                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
                r = open(path, O_RDONLY | O_CLOEXEC);
                if (r >= 0)
                        udk_test_fail("%s: opened by another user", path);
                ASSERT_INT_EQ(errno, EACCES);
        }
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
        ASSERT_INT_EQ(open(path, O_RDONLY | O_CLOEXEC), -1);
        ASSERT_INT_EQ(errno, EACCES);
        snprintf(path, sizeof(path), "/proc/%d/map_files", (int)pid);
        ASSERT_INT_EQ(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1);
        ASSERT_INT_EQ(errno, EACCES);
}

static void b_other_user(const struct targets *t)
{
        struct conn b = hello(t->socket, "other-user");
        struct udk_msg_set_control sc = { .id = t->node };
        char text[UDK_MSG_TEXT_MAX];
        union msg m;
        bool seen = false;

        ASSERT_UINT_EQ(getuid(), NOBODY);
        udk_strlcpy(sc.control, "gain", sizeof(sc.control));
        udk_strlcpy(sc.value, "-20dB", sizeof(sc.value));
        snprintf(text, sizeof(text), "node %s belongs to another user's client", t->node_name);
        expect_error(request(&b, &sc, UDK_MSG_SET_CONTROL, sizeof(sc)), -EPERM, text);
        snprintf(text, sizeof(text), "no stream %u in this session", t->node);
        expect_error(request_ref(&b, UDK_MSG_CLOSE, t->node), -ENOENT, text);

        /* The pid udkd reports is the kernel's (SO_PEERCRED), not a client's claim. */
        {
                struct udk_msg_object_ref ref = { .id = t->loop };

                udk_msg_init(&ref.h, UDK_MSG_STATS, sizeof(ref), ++b.sequence);
                ASSERT_OK(udk_msg_send(b.fd, &ref, sizeof(ref), NULL, 0));
                do {
                        ASSERT_INT_GT(recv_msg(&b, &m), 0);
                        if (m.h.type == UDK_MSG_STATS_NODE && m.stats_node.node == t->node) {
                                ASSERT_INT_EQ(m.stats_node.pid, t->a);
                                seen = true;
                        }
                } while (m.h.type != UDK_MSG_REPLY);
                ASSERT_INT_EQ(m.reply.status, 0);
                ASSERT_TRUE(seen);
        }
        expect_proc_closed(t->udkd);
        expect_proc_closed(t->a);
        ASSERT_UINT_EQ(b.fds_received, 0);

        /* A's device is A's user's: joining its graph would map A's segment. */
        expect_error(raw_open(&b, t->loop, "join"), -EPERM,
                     "device loop has streams of another user (uid 0): the clients of a device share their buffers");
        ASSERT_UINT_EQ(b.fds_received, 0);
        /* A device of its own is B's to use: its three segments, none of A's. */
        expect_error(raw_open(&b, t->other, "own"), 0, "");
        drain(&b);
        ASSERT_UINT_EQ(b.fds_received, 3);
        close(b.fd);
}

/* The socket is 0660: another user gets in only through its group, and then only to its own. */
static void test_another_user(void)
{
        struct other outsider, member;
        char logged[128];
        struct targets t;
        struct a_side a;
        struct proc p;
        struct stat st;
        uint64_t checked;

        if (getuid() != 0)
                UDK_TEST_SKIP("needs root to be another user (setresuid to nobody)");
        proc_start_server(&p, config, NULL);
        outsider = other_fork(NOBODY, b_cannot_connect);
        member = other_fork(NOBODY, b_other_user);
        victim_start(&p, &a, &t);
        ASSERT_OK(stat(p.socket, &st));
        ASSERT_UINT_EQ(st.st_mode & 0777, 0660);
        /* Its folder open for the search, so that the socket's own mode decides. */
        ASSERT_OK(chmod(p.dir, 0711));
        other_run(&outsider, &t);
        ASSERT_OK(chown(p.socket, (uid_t)-1, NOBODY));
        other_run(&member, &t);
        snprintf(logged, sizeof(logged), "client other-user (pid ");
        proc_wait_stderr(&p, logged, 5000);
        proc_wait_stderr(&p, ", uid 65534)", 5000);
        checked = atomic_load(&a.v.checked);
        a_check(&a, checked + 4800);
        a_stop(&a);
        proc_stop_server(&p);
}

/* --- limits: each refusal says which, to the client that ran into it --- */

static void test_sessions_limit(void)
{
        static struct conn sessions[64];
        struct udk_client *c = NULL;
        struct proc p;
        struct conn extra;
        char want[256];
        uint64_t deadline;
        int r;

        proc_start_server(&p, config, (const char *const[]){ "-q", NULL });
        for (size_t i = 0; i < UDK_ELEMENTSOF(sessions); i++)
                sessions[i] = hello(p.socket, "filler");
        /* The 65th: udkd's last word, then the hang-up. */
        extra = (struct conn){ .fd = raw_connect_errno(p.socket) };
        ASSERT_OK(extra.fd);
        expect_closed(&extra, -EUSERS, "udkd serves 64 clients already, the limit: try again when one leaves");
        /* libudk-client says it too. */
        ASSERT_INT_EQ(udk_client_connect("one-too-many", p.socket, &c), -EUSERS);
        snprintf(want, sizeof(want),
                 "udkd at %s: udkd closed the connection: udkd serves 64 clients already, the limit: try again when "
                 "one leaves",
                 p.socket);
        ASSERT_STR_EQ(udk_client_error(NULL), want);
        /* One leaves, one more gets in. */
        close(sessions[0].fd);
        deadline = now_ms() + 5000;
        while ((r = udk_client_connect("next", p.socket, &c)) == -EUSERS && now_ms() < deadline)
                usleep(10000);
        ASSERT_OK(r);
        udk_client_disconnect(c);
        for (size_t i = 1; i < UDK_ELEMENTSOF(sessions); i++)
                close(sessions[i].fd);
        proc_stop_server(&p);
}

static void test_streams_limit(void)
{
        static struct conn s[5];
        struct udk_msg_object_ref ref = { 0 };
        udk_object_id other = 0;
        struct proc p;
        union msg m;

        proc_start_server(&p, config, (const char *const[]){ "-q", NULL });
        s[0] = hello(p.socket, "streams-0");
        /* The other device's id: the registry's device objects by name. */
        udk_msg_init(&ref.h, UDK_MSG_LIST, sizeof(ref), ++s[0].sequence);
        ASSERT_OK(udk_msg_send(s[0].fd, &ref, sizeof(ref), NULL, 0));
        do {
                ASSERT_INT_GT(recv_msg(&s[0], &m), 0);
                if (m.h.type == UDK_MSG_OBJECT && strcmp(m.object.klass, "device") == 0 &&
                    strcmp(m.object.name, "other") == 0)
                        other = m.object.id;
        } while (m.h.type != UDK_MSG_REPLY);
        ASSERT_UINT_GE(other, 1);

        /* 16 streams a session, then a sentence. */
        for (int i = 0; i < 16; i++)
                expect_error(raw_open(&s[0], other, "stream"), 0, "");
        expect_error(raw_open(&s[0], other, "stream"), -ENOSPC, "this session has 16 streams already, the limit");
        /* 64 nodes a device, whatever the sessions. */
        for (int k = 1; k < 4; k++) {
                char name[32];

                snprintf(name, sizeof(name), "streams-%d", k);
                s[k] = hello(p.socket, name);
                for (int i = 0; i < 16; i++) {
                        expect_error(raw_open(&s[k], other, "stream"), 0, "");
                        for (int j = 0; j < k; j++)
                                drain(&s[j]);
                }
        }
        s[4] = hello(p.socket, "streams-4");
        expect_error(raw_open(&s[4], other, "stream"), -ENOSPC, "device other has 64 nodes already, the limit");
        /* Every session is still served. */
        for (int k = 0; k < 5; k++) {
                struct udk_msg_header ping;

                ASSERT_INT_EQ(request(&s[k], &ping, UDK_MSG_PING, sizeof(ping)).status, 0);
                close(s[k].fd);
        }
        proc_stop_server(&p);
}

/* A message over 4096 bytes, or with more than 8 descriptors: the session ends, saying which limit. */
static void test_message_limits(void)
{
        static const char reason[] = "a message over the size limit (4096 bytes, 8 descriptors)";
        static uint8_t big[UDK_MSG_SIZE_MAX + 1];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * (UDK_MSG_FDS_MAX + 1))];
        } control;
        struct udk_msg_header ping;
        struct iovec iov = { &ping, sizeof(ping) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        int fds[UDK_MSG_FDS_MAX + 1];
        struct conn c, bystander;
        struct proc p;

        proc_start_server(&p, config, (const char *const[]){ "-q", NULL });
        bystander = hello(p.socket, "bystander");

        c = hello(p.socket, "too-big");
        udk_msg_init((struct udk_msg_header *)big, UDK_MSG_PING, sizeof(big), ++c.sequence);
        ASSERT_INT_EQ(send(c.fd, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
        expect_closed(&c, -ECONNABORTED, reason);

        c = hello(p.socket, "too-many-fds");
        for (unsigned i = 0; i < UDK_ELEMENTSOF(fds); i++)
                fds[i] = STDIN_FILENO;
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(fds));
        memcpy(CMSG_DATA(cm), fds, sizeof(fds));
        udk_msg_init(&ping, UDK_MSG_PING, sizeof(ping), ++c.sequence);
        ASSERT_INT_EQ(sendmsg(c.fd, &mh, MSG_NOSIGNAL), (ssize_t)sizeof(ping));
        expect_closed(&c, -ECONNABORTED, reason);

        /* Requests whose answers it never reads: once its 1 MiB send buffer is full, it is closed
         * (no room for an EVENT_CLOSED: the log says it). */
        c = hello(p.socket, "never-reads");
        for (int i = 0; i < 256; i++) {
                struct udk_msg_object_ref list = { .id = 0 };

                udk_msg_init(&list.h, UDK_MSG_LIST, sizeof(list), ++c.sequence);
                if (udk_msg_send(c.fd, &list, sizeof(list), NULL, 0) < 0)
                        break; /* closed already */
        }
        proc_wait_stderr(&p, "(never-reads, pid ", 5000);
        proc_wait_stderr(&p, ") closed: does not read its socket (send buffer full)", 5000);
        close(c.fd);

        ASSERT_INT_EQ(request(&bystander, &ping, UDK_MSG_PING, sizeof(ping)).status, 0);
        close(bystander.fd);
        proc_stop_server(&p);
}

/* Receive until a message of @type (answering new peers on the way). */
static void expect_type(struct conn *c, uint32_t type, union msg *m)
{
        do
                ASSERT_INT_GT(recv_msg(c, m), 0);
        while (m->h.type != type);
}

/*
 * A client that stops reading while its stream waits for its peers: when the stream starts, udkd's
 * NODE_STATE finds the socket shut (EPIPE), which closes the session and its stream from inside
 * the start.  udkd carries on (under ASan: without touching the freed node), the peer is served.
 */
static void test_client_gone_as_its_stream_starts(void)
{
        struct udk_msg_header ping;
        udk_object_id other = 0;
        struct conn a, b;
        struct proc p;
        union msg m;

        proc_start_server(&p, config, NULL);
        b = hello(p.socket, "peer");
        {
                struct udk_msg_object_ref ref = { .id = 0 };

                udk_msg_init(&ref.h, UDK_MSG_LIST, sizeof(ref), ++b.sequence);
                ASSERT_OK(udk_msg_send(b.fd, &ref, sizeof(ref), NULL, 0));
                do {
                        ASSERT_INT_GT(recv_msg(&b, &m), 0);
                        if (m.h.type == UDK_MSG_OBJECT && strcmp(m.object.name, "other") == 0)
                                other = m.object.id;
                } while (m.h.type != UDK_MSG_REPLY);
        }
        expect_error(raw_open(&b, other, "first"), 0, "");
        expect_type(&b, UDK_MSG_EVENT_NODE_STATE, &m); /* running, alone */

        a = hello(p.socket, "leaver");
        expect_error(raw_open(&a, other, "second"), 0, "");
        /* a maps b's node (the PEER_READY goes out as the event comes) and is answered... */
        expect_type(&a, UDK_MSG_EVENT_PEER_ADDED, &m);
        expect_type(&a, UDK_MSG_REPLY, &m);
        ASSERT_INT_EQ(m.reply.status, 0);
        /* ...then reads no more: its node starts once b has mapped it. */
        ASSERT_OK(shutdown(a.fd, SHUT_RD));
        expect_type(&b, UDK_MSG_EVENT_PEER_ADDED, &m);
        expect_type(&b, UDK_MSG_REPLY, &m);
        proc_wait_stderr(&p, "(leaver, pid ", 5000);
        proc_wait_stderr(&p, ") disconnected", 5000);
        ASSERT_INT_EQ(request(&b, &ping, UDK_MSG_PING, sizeof(ping)).status, 0);
        close(a.fd);
        close(b.fd);
        proc_stop_server(&p);
        ASSERT_FALSE(strstr(p.err, "AddressSanitizer"));
}

UDK_TEST_MAIN(test_objects_of_another_client, test_another_user, test_sessions_limit, test_streams_limit,
              test_message_limits, test_client_gone_as_its_stream_starts)
