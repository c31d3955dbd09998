/* SPDX-License-Identifier: MIT */
/*
 * libudk-client against a scripted server (a thread of the test that plays
 * udkd byte for byte: handshake errors, bad messages, time-outs, sequence
 * numbers, the data plane cycle by cycle, and the stream thread's rule of
 * no system call but futex, checked by a seccomp filter), then against the
 * real udkd with real client processes: a chain of four on a loopback
 * device, sample-exact; a client killed mid-cycle and one that oversleeps;
 * joins, leaves and moves while others run; clients at 44.1 kHz on a 48
 * kHz device, converted, and rates refused; the
 * example programs.  UDK_TEST_UDKD_VERBOSE=1 runs udkd with -v, for its
 * log in a failure's message.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <udk/activation.h>
#include <udk/client.h>
#include <udk/clock.h>
#include <udk/protocol.h>
#include <udk/shm.h>
#include <udk/util.h>

#if defined(__x86_64__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#endif

#include "udk-test.h"
#include "udk-test-udkd.h"
#include "udk-test-sine.h"

/* ===================== a scripted server ===================== */

#define FAKE_PERIOD  64u
#define FAKE_DEVICE  5u
#define FAKE_SESSION 7u
#define FAKE_WAIT_MS 5000

struct fake {
        char dir[64];
        char path[96];
        int listen_fd, fd;
        pthread_t thread;
        void (*scenario)(struct fake *f);
        _Atomic int step; /* the scenario and the test's thread take turns */
        uint32_t last_sequence;
};

static void *fake_main(void *arg)
{
        struct fake *f = arg;
        struct pollfd pfd = { .fd = f->listen_fd, .events = POLLIN };

        ASSERT_INT_EQ(poll(&pfd, 1, FAKE_WAIT_MS), 1);
        f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        ASSERT_OK(f->fd);
        f->scenario(f);
        return NULL;
}

/* Listen on a fresh socket path and play @scenario to the first client. */
static void fake_start(struct fake *f, void (*scenario)(struct fake *))
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(f, 0, sizeof(*f));
        f->fd = -1;
        f->scenario = scenario;
        snprintf(f->dir, sizeof(f->dir), "/tmp/udk-test-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/udkd.sock", f->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_OK(f->listen_fd);
        ASSERT_OK(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)));
        ASSERT_OK(listen(f->listen_fd, 4));
        ASSERT_INT_EQ(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
        ASSERT_INT_EQ(pthread_join(f->thread, NULL), 0);
        if (f->fd >= 0)
                close(f->fd);
        close(f->listen_fd);
        unlink(f->path);
        rmdir(f->dir);
}

/* Wait (bounded) until the other side moved the step to @step. */
static void step_wait(_Atomic int *word, int step)
{
        uint64_t deadline = now_ms() + FAKE_WAIT_MS;

        while (atomic_load(word) < step) {
                if (now_ms() > deadline)
                        udk_test_fail("step %d not reached within %d ms (at %d)", step, FAKE_WAIT_MS,
                                      atomic_load(word));
                usleep(1000);
        }
}

/* Receive one request of @type (any type when 0); its length.  0 on hang-up. */
static size_t fake_recv(struct fake *f, void *buf, uint32_t type)
{
        struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
        int fds[UDK_MSG_FDS_MAX];
        char err[UDK_MSG_TEXT_MAX];
        const struct udk_msg_header *h = buf;
        unsigned n_fds;
        ssize_t n;

        ASSERT_INT_EQ(poll(&pfd, 1, FAKE_WAIT_MS), 1);
        n = udk_msg_recv(f->fd, buf, fds, &n_fds, 0);
        ASSERT_INT_GE(n, 0);
        if (n == 0)
                return 0;
        if (udk_msg_check(buf, (size_t)n, n_fds, true, err, sizeof(err)) < 0)
                udk_test_fail("the client sent a bad message: %s", err);
        if (type && h->type != type)
                udk_test_fail("expected a %s request, got %s", udk_msg_type_name(type),
                              udk_msg_type_name(h->type));
        /* udkd closes a session whose sequence numbers do not increase. */
        if (h->sequence <= f->last_sequence)
                udk_test_fail("%s request with sequence %u after %u", udk_msg_type_name(h->type),
                              h->sequence, f->last_sequence);
        f->last_sequence = h->sequence;
        return (size_t)n;
}

static void fake_send(struct fake *f, void *msg, size_t size, const int *fds, unsigned n_fds)
{
        ASSERT_OK(udk_msg_send(f->fd, msg, size, fds, n_fds));
}

static void fake_reply(struct fake *f, uint32_t sequence, int status, uint32_t count, const char *text)
{
        struct udk_msg_reply m = { .status = status, .count = count };

        udk_msg_init(&m.h, UDK_MSG_REPLY, sizeof(m), sequence);
        udk_strlcpy(m.message, text ? text : "", sizeof(m.message));
        fake_send(f, &m, sizeof(m), NULL, 0);
}

static void fake_handshake(struct fake *f, uint32_t version)
{
        union {
                struct udk_msg_hello hello;
                uint8_t raw[UDK_MSG_SIZE_MAX];
        } in;
        struct udk_msg_welcome w = { .version = version,
                                     .session = FAKE_SESSION,
                                     .max_message = UDK_MSG_SIZE_MAX };

        ASSERT_UINT_EQ(fake_recv(f, &in, UDK_MSG_HELLO), sizeof(in.hello));
        ASSERT_UINT_EQ(in.hello.version, UDK_PROTOCOL_VERSION);
        ASSERT_STR_EQ(in.hello.name, "test-clients");
        udk_msg_init(&w.h, UDK_MSG_WELCOME, sizeof(w), in.hello.h.sequence);
        udk_strlcpy(w.server, "fake 1.0", sizeof(w.server));
        fake_send(f, &w, sizeof(w), NULL, 0);
        fake_reply(f, in.hello.h.sequence, 0, 1, NULL);
}

/* Wait for the client to hang up. */
static void fake_wait_hangup(struct fake *f)
{
        uint8_t buf[UDK_MSG_SIZE_MAX];

        for (;;)
                if (fake_recv(f, buf, 0) == 0)
                        return;
}

static struct udk_client *fake_connect(struct fake *f)
{
        struct udk_client *c = NULL;

        ASSERT_OK(udk_client_connect("test-clients", f->path, &c));
        ASSERT_UINT_EQ(udk_client_session_id(c), FAKE_SESSION);
        ASSERT_STR_EQ(udk_client_server_name(c), "fake 1.0");
        ASSERT_STR_EQ(udk_client_error(c), "");
        return c;
}

/* --- connecting --- */

static void test_connect_missing(void)
{
        char dir[] = "/tmp/udk-test-XXXXXX", path[128], want[192];
        struct udk_client *c = NULL;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/udkd.sock", dir);
        ASSERT_ERROR(udk_client_connect("x", path, &c), ENOENT);
        ASSERT_PTR_EQ(c, NULL);
        snprintf(want, sizeof(want), "udkd is not running (no socket at %s)", path);
        ASSERT_STR_EQ(udk_client_error(NULL), want);

        /* NULL: $UDK_SOCKET says where. */
        setenv("UDK_SOCKET", path, 1);
        ASSERT_ERROR(udk_client_connect(NULL, NULL, &c), ENOENT);
        ASSERT_STR_EQ(udk_client_error(NULL), want);
        rmdir(dir);
}

static void test_connect_refused(void)
{
        char dir[] = "/tmp/udk-test-XXXXXX", want[192];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct udk_client *c = NULL;
        int fd;

        /* A socket file nobody listens on: what a crashed udkd leaves. */
        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/udkd.sock", dir);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_OK(fd);
        ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
        ASSERT_ERROR(udk_client_connect("x", sa.sun_path, &c), ECONNREFUSED);
        snprintf(want, sizeof(want), "udkd is not running (no socket at %s)", sa.sun_path);
        ASSERT_STR_EQ(udk_client_error(NULL), want);
        close(fd);
        unlink(sa.sun_path);
        rmdir(dir);
}

static void scenario_version(struct fake *f)
{
        fake_handshake(f, UDK_PROTOCOL_VERSION + 1);
        fake_wait_hangup(f);
}

static void test_connect_version(void)
{
        static struct fake f;
        struct udk_client *c = NULL;
        char want[256];

        fake_start(&f, scenario_version);
        ASSERT_ERROR(udk_client_connect("test-clients", f.path, &c), EPROTO);
        ASSERT_PTR_EQ(c, NULL);
        snprintf(want, sizeof(want), "udkd at %s: udkd speaks protocol version %d, this library %d", f.path,
                 UDK_PROTOCOL_VERSION + 1, UDK_PROTOCOL_VERSION);
        ASSERT_STR_EQ(udk_client_error(NULL), want);
        fake_stop(&f);
}

/* --- a server that misbehaves --- */

static void scenario_bad_reply(struct fake *f)
{
        struct udk_msg_header ping;
        struct udk_msg_reply r = {};

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        ASSERT_UINT_EQ(fake_recv(f, &ping, UDK_MSG_PING), sizeof(ping));
        /* A reply four bytes short. */
        udk_msg_init(&r.h, UDK_MSG_REPLY, sizeof(r) - 4, ping.sequence);
        fake_send(f, &r, sizeof(r) - 4, NULL, 0);
        fake_wait_hangup(f);
}

static void test_server_bad_message(void)
{
        static struct fake f;
        struct udk_client *c;
        char want[256];

        fake_start(&f, scenario_bad_reply);
        c = fake_connect(&f);
        ASSERT_ERROR(udk_client_ping(c), ECONNRESET);
        /* The header's size matches the packet; the type's does not. */
        snprintf(want, sizeof(want),
                 "udkd sent a bad message (reply message: %zu bytes, expected %zu): "
                 "connection closed",
                 sizeof(struct udk_msg_reply) - 4, sizeof(struct udk_msg_reply));
        ASSERT_STR_EQ(udk_client_error(c), want);
        /* And from then on: not connected, saying why. */
        ASSERT_ERROR(udk_client_ping(c), ENOTCONN);
        ASSERT_STR_CONTAINS(udk_client_error(c),
                            "not connected to udkd: udkd sent a bad message (reply message: ");
        udk_client_disconnect(c);
        fake_stop(&f);
}

static void scenario_wrong_way(struct fake *f)
{
        struct udk_msg_hello h = { .version = 1 };

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        /* A request, from the server. */
        udk_msg_init(&h.h, UDK_MSG_HELLO, sizeof(h), 1);
        fake_send(f, &h, sizeof(h), NULL, 0);
        fake_wait_hangup(f);
}

static void test_server_wrong_way(void)
{
        static struct fake f;
        struct udk_client *c;
        uint64_t deadline = now_ms() + FAKE_WAIT_MS;
        int r;

        fake_start(&f, scenario_wrong_way);
        c = fake_connect(&f);
        /* The bad event closes the connection on its own, without a call in flight. */
        while ((r = udk_client_ping(c)) != -ENOTCONN) {
                ASSERT_TRUE(r == 0 || r == -ECONNRESET);
                ASSERT_TRUE(now_ms() < deadline);
                usleep(2000);
        }
        ASSERT_STR_EQ(udk_client_error(c),
                      "not connected to udkd: udkd sent a bad message (hello message sent the "
                      "wrong way): connection closed");
        udk_client_disconnect(c);
        fake_stop(&f);
}

static void scenario_silent(struct fake *f)
{
        struct pollfd pfd = { .fd = -1, .events = POLLIN };
        struct udk_msg_header ping;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        ASSERT_UINT_EQ(fake_recv(f, &ping, UDK_MSG_PING), sizeof(ping));
        /* The client gives up after its 5 s, then hangs up. */
        pfd.fd = f->fd;
        ASSERT_INT_EQ(poll(&pfd, 1, 3 * FAKE_WAIT_MS), 1);
        fake_wait_hangup(f);
}

static void test_server_timeout(void)
{
        static struct fake f;
        struct udk_client *c;
        uint64_t start;

        fake_start(&f, scenario_silent);
        c = fake_connect(&f);
        start = now_ms();
        ASSERT_ERROR(udk_client_ping(c), ETIMEDOUT);
        ASSERT_UINT_GE(now_ms() - start, 4900);
        ASSERT_UINT_LE(now_ms() - start, 7000);
        ASSERT_STR_EQ(udk_client_error(c), "udkd did not answer the ping request within 5 s");
        udk_client_disconnect(c);
        fake_stop(&f);
}

static void scenario_hangup(struct fake *f)
{
        struct udk_msg_header ping;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        ASSERT_UINT_EQ(fake_recv(f, &ping, UDK_MSG_PING), sizeof(ping));
        close(f->fd);
        f->fd = -1;
}

static void test_server_hangup(void)
{
        static struct fake f;
        struct udk_client *c;

        fake_start(&f, scenario_hangup);
        c = fake_connect(&f);
        ASSERT_ERROR(udk_client_ping(c), ECONNRESET);
        ASSERT_STR_EQ(udk_client_error(c), "udkd closed the connection");
        ASSERT_ERROR(udk_client_ping(c), ENOTCONN);
        ASSERT_STR_EQ(udk_client_error(c), "not connected to udkd: udkd closed the connection");
        udk_client_disconnect(c);
        fake_stop(&f);
}

/* --- the registry: list, info, find, set, stats, events --- */

struct fake_object {
        udk_object_id id, parent;
        const char *klass, *name, *uid;
};

static const struct fake_object fake_tree[] = {
        { 1, 0, "root", "udkd", NULL },
        { 2, 1, "backend", "virtual", NULL },
        { 3, 2, "device", "studio", "udk:studio" },
        { 4, 3, "control", "level", NULL },
        { 5, 2, "device", "loop", "udk:loop" },
        { 6, 5, "control", "level", NULL },
};

static void fake_send_object(struct fake *f, uint32_t type, uint32_t sequence, const struct fake_object *o)
{
        union {
                struct udk_msg_object obj;
                uint8_t raw[UDK_MSG_SIZE_MAX];
        } m = {};
        size_t size = udk_msg_object_size(o->uid ? 2 : 1);

        udk_msg_init(&m.obj.h, type, (uint32_t)size, sequence);
        m.obj.id = o->id;
        m.obj.parent = o->parent;
        udk_strlcpy(m.obj.klass, o->klass, sizeof(m.obj.klass));
        udk_strlcpy(m.obj.name, o->name, sizeof(m.obj.name));
        m.obj.n_props = o->uid ? 2 : 1;
        udk_prop_int(&m.obj.props[0], "answer", 42, 0);
        if (o->uid)
                udk_prop_string(&m.obj.props[1], "uid", o->uid, 0);
        fake_send(f, &m, size, NULL, 0);
}

static void scenario_registry(struct fake *f)
{
        union {
                struct udk_msg_header h;
                struct udk_msg_object_ref ref;
                struct udk_msg_set_control set;
                struct udk_msg_subscribe sub;
                uint8_t raw[UDK_MSG_SIZE_MAX];
        } in;
        struct udk_msg_stats_device sd = {
                .device = 3, .rate = 48000, .period = 64, .n_nodes = 3, .xruns = 2
        };
        struct udk_msg_stats_node sn = {};

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        for (;;) {
                size_t n = fake_recv(f, &in, 0);

                if (n == 0)
                        return;
                switch (in.h.type) {
                case UDK_MSG_LIST:
                        for (size_t i = 0; i < UDK_ELEMENTSOF(fake_tree); i++)
                                fake_send_object(f, UDK_MSG_OBJECT, in.h.sequence, &fake_tree[i]);
                        fake_reply(f, in.h.sequence, 0, UDK_ELEMENTSOF(fake_tree), NULL);
                        break;
                case UDK_MSG_INFO:
                        if (in.ref.id < 1 || in.ref.id > UDK_ELEMENTSOF(fake_tree)) {
                                char text[64];
                                snprintf(text, sizeof(text), "no object %u", in.ref.id);
                                fake_reply(f, in.h.sequence, -ENOENT, 0, text);
                                break;
                        }
                        fake_send_object(f, UDK_MSG_OBJECT, in.h.sequence, &fake_tree[in.ref.id - 1]);
                        fake_reply(f, in.h.sequence, 0, 1, NULL);
                        break;
                case UDK_MSG_SET_CONTROL:
                        ASSERT_UINT_EQ(in.set.id, 3);
                        ASSERT_STR_EQ(in.set.control, "level");
                        if (strcmp(in.set.value, "-200dB") == 0) {
                                fake_reply(f, in.h.sequence, -ERANGE, 0,
                                           "level: -200 dB is out of range -96..0 dB");
                                break;
                        }
                        ASSERT_STR_EQ(in.set.value, "-6dB");
                        fake_reply(f, in.h.sequence, 0, 0, NULL);
                        break;
                case UDK_MSG_STATS:
                        ASSERT_UINT_EQ(in.ref.id, 3);
                        udk_msg_init(&sd.h, UDK_MSG_STATS_DEVICE, sizeof(sd), in.h.sequence);
                        fake_send(f, &sd, sizeof(sd), NULL, 0);
                        for (uint32_t i = 0; i < 3; i++) {
                                udk_msg_init(&sn.h, UDK_MSG_STATS_NODE, sizeof(sn), in.h.sequence);
                                sn.node = 10 + i;
                                sn.position = i;
                                sn.late = i;
                                snprintf(sn.name, sizeof(sn.name), "node%u", i);
                                fake_send(f, &sn, sizeof(sn), NULL, 0);
                        }
                        fake_reply(f, in.h.sequence, 0, 4, NULL);
                        break;
                case UDK_MSG_SUBSCRIBE:
                        fake_reply(f, in.h.sequence, 0, 0, NULL);
                        if (in.sub.mask == UDK_SUBSCRIBE_REGISTRY)
                                fake_send_object(f, UDK_MSG_EVENT_CHANGED, 0, &fake_tree[3]);
                        break;
                default:
                        udk_test_fail("unexpected %s request", udk_msg_type_name(in.h.type));
                }
        }
}

static _Atomic int events_seen;

static void on_event(void *data, const struct udk_msg_header *event)
{
        const struct udk_msg_object *o = (const void *)event;

        ASSERT_PTR_EQ(data, &events_seen);
        ASSERT_UINT_EQ(event->type, UDK_MSG_EVENT_CHANGED);
        ASSERT_UINT_EQ(o->id, 4);
        ASSERT_STR_EQ(o->name, "level");
        atomic_fetch_add(&events_seen, 1);
}

static void test_registry(void)
{
        static struct fake f;
        union {
                struct udk_msg_object obj;
                uint8_t raw[UDK_MSG_SIZE_MAX];
        } info;
        struct udk_msg_stats_device sd;
        struct udk_msg_stats_node sn[2];
        struct udk_msg_object *objects;
        struct udk_client *c;
        udk_object_id id;
        size_t n;

        fake_start(&f, scenario_registry);
        c = fake_connect(&f);

        ASSERT_OK(udk_client_list(c, 0, &objects, &n));
        ASSERT_UINT_EQ(n, UDK_ELEMENTSOF(fake_tree));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                ASSERT_UINT_EQ(o->id, fake_tree[i].id);
                ASSERT_STR_EQ(o->name, fake_tree[i].name);
                ASSERT_INT_EQ(udk_msg_object_prop(o, "answer")->i, 42);
        }
        free(objects);

        ASSERT_OK(udk_client_info(c, 3, &info.obj));
        ASSERT_STR_EQ(info.obj.name, "studio");
        ASSERT_STR_EQ(udk_msg_object_prop(&info.obj, "uid")->s, "udk:studio");
        ASSERT_ERROR(udk_client_info(c, 42, &info.obj), ENOENT);
        ASSERT_STR_EQ(udk_client_error(c), "no object 42");

        ASSERT_OK(udk_client_find(c, "5", &id));
        ASSERT_UINT_EQ(id, 5);
        ASSERT_OK(udk_client_find(c, "udk:studio", &id));
        ASSERT_UINT_EQ(id, 3);
        ASSERT_OK(udk_client_find(c, "loop", &id));
        ASSERT_UINT_EQ(id, 5);
        ASSERT_OK(udk_client_find(c, "virtual/loop/level", &id));
        ASSERT_UINT_EQ(id, 6);
        ASSERT_OK(udk_client_find(c, "udkd/virtual/studio/level", &id));
        ASSERT_UINT_EQ(id, 4);
        ASSERT_ERROR(udk_client_find(c, "level", &id), EEXIST);
        ASSERT_STR_EQ(udk_client_error(c), "2 objects are named level (ids 4, 6): give an id or a path");
        ASSERT_ERROR(udk_client_find(c, "nope", &id), ENOENT);
        ASSERT_STR_EQ(udk_client_error(c), "no object nope");
        ASSERT_ERROR(udk_client_find(c, "virtual/nope/level", &id), ENOENT);
        ASSERT_STR_EQ(udk_client_error(c), "no object virtual/nope/level (virtual has no child named nope)");
        ASSERT_ERROR(udk_client_find(c, "99", &id), ENOENT);
        ASSERT_STR_EQ(udk_client_error(c), "no object 99");
        ASSERT_UINT_EQ(id, 4); /* untouched on failure */

        ASSERT_OK(udk_client_set_control(c, 3, "level", "-6dB"));
        ASSERT_ERROR(udk_client_set_control(c, 3, "level", "-200dB"), ERANGE);
        ASSERT_STR_EQ(udk_client_error(c), "level: -200 dB is out of range -96..0 dB");

        n = 99;
        ASSERT_OK(udk_client_stats(c, 3, &sd, sn, UDK_ELEMENTSOF(sn), &n));
        ASSERT_UINT_EQ(sd.xruns, 2);
        ASSERT_UINT_EQ(n, 2);
        ASSERT_UINT_EQ(sn[1].node, 11);
        ASSERT_STR_EQ(sn[1].name, "node1");

        ASSERT_OK(udk_client_subscribe(c, UDK_SUBSCRIBE_REGISTRY, on_event, (void *)&events_seen));
        step_wait(&events_seen, 1);
        ASSERT_OK(udk_client_subscribe(c, 0, NULL, NULL));
        ASSERT_INT_EQ(atomic_load(&events_seen), 1);

        udk_client_disconnect(c);
        fake_stop(&f);
}

/* --- the data plane, cycle by cycle --- */

struct fake_node {
        struct udk_shm shm;
        struct udk_node_shm *hdr;
        struct udk_activation *a;
        float *in, *out;
        uint32_t in_off, out_off, in_ch, out_ch;
};

_Static_assert(sizeof(struct udk_node_shm) <= 256, "the fake's buffers start at 256");

static void fake_node_create(struct fake_node *n, const char *name, uint32_t in_ch, uint32_t out_ch)
{
        memset(n, 0, sizeof(*n));
        n->shm = UDK_SHM_INIT;
        n->in_ch = in_ch;
        n->out_ch = out_ch;
        n->in_off = 256;
        n->out_off = n->in_off + (uint32_t)UDK_ALIGN_UP(FAKE_PERIOD * in_ch * sizeof(float), 64);
        ASSERT_OK(udk_shm_create(&n->shm, name, n->out_off + FAKE_PERIOD * out_ch * sizeof(float)));
        n->hdr = n->shm.data;
        n->hdr->magic = UDK_NODE_SHM_MAGIC;
        n->hdr->version = 1;
        n->a = &n->hdr->activation;
        n->a->version = UDK_ACTIVATION_VERSION;
        n->in = (float *)((uint8_t *)n->shm.data + n->in_off);
        n->out = (float *)((uint8_t *)n->shm.data + n->out_off);
}

struct fake_graph {
        struct udk_shm graph, device;
        struct udk_activation *g;
};

#define FAKE_ZTS_OFFSET 64u

static void fake_graph_create(struct fake_graph *fg)
{
        fg->graph = fg->device = UDK_SHM_INIT;
        ASSERT_OK(udk_shm_create(&fg->graph, "fake-graph", 4096));
        ASSERT_OK(udk_shm_create(&fg->device, "fake-device", 4096));
        fg->g = fg->graph.data;
        udk_zts_publish((struct udk_zero_timestamp *)((uint8_t *)fg->device.data + FAKE_ZTS_OFFSET), 0, 1000,
                        48000000);
}

static void fake_graph_finish(struct fake_graph *fg)
{
        udk_shm_finish(&fg->graph);
        udk_shm_finish(&fg->device);
}

/* The CPU udkd names in OPENED. */
static int32_t fake_opened_cpu = -1;

/* Answer the next OPEN with @n as node @id in @slot. */
static void fake_open(struct fake *f, struct fake_graph *fg, struct fake_node *n, udk_object_id id,
                      uint32_t slot, float gain, const char *name, uint32_t link)
{
        union {
                struct udk_msg_open open;
                uint8_t raw[UDK_MSG_SIZE_MAX];
        } in;
        struct udk_msg_opened m = {
                .node = id,
                .device = FAKE_DEVICE,
                .slot = slot,
                .rate = 48000,
                .period = FAKE_PERIOD,
                .input_channels = n->in_ch,
                .output_channels = n->out_ch,
                .input_offset = n->in_off,
                .output_offset = n->out_off,
                .node_size = (uint32_t)n->shm.size,
                .graph_size = (uint32_t)fg->graph.size,
                .device_size = (uint32_t)fg->device.size,
                .input_latency = 3,
                .output_latency = 5,
                .zts_offset = FAKE_ZTS_OFFSET,
                .cpu = fake_opened_cpu,
        };
        int fds[3] = { n->shm.fd, fg->graph.fd, fg->device.fd };

        ASSERT_UINT_EQ(fake_recv(f, &in, UDK_MSG_OPEN), sizeof(in.open));
        ASSERT_UINT_EQ(in.open.device, FAKE_DEVICE);
        ASSERT_UINT_EQ(in.open.input_channels, n->in_ch);
        ASSERT_UINT_EQ(in.open.output_channels, n->out_ch);
        ASSERT_UINT_EQ(in.open.rate, 0);
        ASSERT_UINT_EQ(in.open.link, link);
        ASSERT_UINT_EQ(in.open.gain_bits, udk_float_to_bits(gain));
        ASSERT_STR_EQ(in.open.name, name);
        udk_msg_init(&m.h, UDK_MSG_OPENED, sizeof(m), in.open.h.sequence);
        fake_send(f, &m, sizeof(m), fds, 3);
        fake_reply(f, in.open.h.sequence, 0, 1, NULL);
}

static void fake_node_state(struct fake *f, udk_object_id node, uint32_t state)
{
        struct udk_msg_node_state m = { .node = node, .state = state };

        udk_msg_init(&m.h, UDK_MSG_EVENT_NODE_STATE, sizeof(m), 0);
        fake_send(f, &m, sizeof(m), NULL, 0);
}

/* Receive CLOSE for @node; say CLOSED, then reply, as udkd does. */
static void fake_close(struct fake *f, udk_object_id node)
{
        struct udk_msg_object_ref in;

        ASSERT_UINT_EQ(fake_recv(f, &in, UDK_MSG_CLOSE), sizeof(in));
        ASSERT_UINT_EQ(in.id, node);
        fake_node_state(f, node, UDK_NODE_CLOSED);
        fake_reply(f, in.h.sequence, 0, 0, NULL);
}

/* udkd's part of a cycle for node @n: reset, the fields, the trigger. */
static void fake_cycle(struct fake_node *n, struct fake_graph *fg, uint64_t t, int32_t next, int32_t input,
                       float gain, uint32_t frames)
{
        struct udk_activation *a = n->a;

        udk_activation_reset(a);
        udk_activation_reset(fg->g);
        a->sequence = t / FAKE_PERIOD;
        a->sample_time = t;
        a->host_time = udk_time_now();
        a->frames = frames;
        a->next = next;
        a->input = input;
        a->gain_bits = udk_float_to_bits(gain);
        ASSERT_TRUE(udk_activation_trigger(a, udk_time_now()));
}

static int fake_wait(struct udk_activation *a, unsigned ms)
{
        uint64_t awake;

        for (;;) {
                int r = udk_activation_wait_triggered(a, udk_time_now() + (uint64_t)ms * 1000000u, &awake);
                if (r != -EINTR)
                        return r;
        }
}

/* Lines of /proc/self/maps that map the memfd @name. */
static int maps_count(pid_t pid, const char *name)
{
        char path[64], line[512], needle[96];
        int n = 0;
        FILE *fp;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        snprintf(needle, sizeof(needle), "/memfd:%s", name);
        fp = fopen(path, "re");
        ASSERT_NOT_NULL(fp);
        while (fgets(line, sizeof(line), fp))
                n += strstr(line, needle) != NULL;
        fclose(fp);
        return n;
}

static void maps_wait(pid_t pid, const char *name, int want)
{
        uint64_t deadline = now_ms() + FAKE_WAIT_MS;

        while (maps_count(pid, name) != want) {
                if (now_ms() > deadline)
                        udk_test_fail("%d mappings of %s, %d expected", maps_count(pid, name), name, want);
                usleep(1000);
        }
}

static struct {
        _Atomic int step;
        _Atomic uint64_t calls;
        _Atomic uint64_t refuse_at; /* the callback returns -1 at this sample time */
        _Atomic uint64_t sleep_at;  /* and oversleeps at this one */
        _Atomic(struct udk_client_stream *) stream;
        _Atomic uint64_t signal_time, awake_time; /* udk_client_stream_cycle_times() in the callback */
} dp = { .refuse_at = UINT64_MAX, .sleep_at = UINT64_MAX };

/* out = in + 1, in channels = out channels. */
static int dp_process(void *data, const struct udk_node_cycle *cycle)
{
        float add = data ? *(const float *)data : 1.0f;

        ASSERT_UINT_EQ(cycle->frames, FAKE_PERIOD);
        ASSERT_UINT_EQ(cycle->input_channels, cycle->output_channels);
        for (size_t i = 0; i < (size_t)cycle->frames * cycle->output_channels; i++)
                cycle->output[i] = cycle->input[i] + add;
        atomic_fetch_add(&dp.calls, 1);
        if (atomic_load(&dp.stream)) {
                uint64_t signal, awake;

                udk_client_stream_cycle_times(atomic_load(&dp.stream), &signal, &awake);
                atomic_store(&dp.signal_time, signal);
                atomic_store(&dp.awake_time, awake);
        }
        if (cycle->sample_time == atomic_load(&dp.sleep_at)) {
                struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return cycle->sample_time == atomic_load(&dp.refuse_at) ? -1 : 0;
}

static void fill(float *buf, size_t n, float first, float step)
{
        for (size_t i = 0; i < n; i++)
                buf[i] = first + step * (float)i;
}

static void assert_buffer(const float *buf, size_t n, float first, float step, float add, float gain)
{
        for (size_t i = 0; i < n; i++)
                if (buf[i] != (first + step * (float)i + add) * gain)
                        udk_test_fail("sample %zu: %.9g, expected %.9g", i, (double)buf[i],
                                      (double)((first + step * (float)i + add) * gain));
}

static void assert_zero(const float *buf, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (buf[i] != 0.0f)
                        udk_test_fail("sample %zu: %.9g, expected 0", i, (double)buf[i]);
}

static void fake_peer(struct fake *f, uint32_t type, struct fake_node *peer, udk_object_id id, uint32_t slot)
{
        struct udk_msg_peer m = {
                .node = id,
                .slot = slot,
                .output_channels = peer->out_ch,
                .output_offset = peer->out_off,
                .size = (uint32_t)peer->shm.size,
                .device = FAKE_DEVICE,
        };

        udk_msg_init(&m.h, type, sizeof(m), 0);
        fake_send(f, &m, sizeof(m), &peer->shm.fd, type == UDK_MSG_EVENT_PEER_ADDED ? 1 : 0);
        if (type == UDK_MSG_EVENT_PEER_ADDED) {
                struct udk_msg_peer ready;

                ASSERT_UINT_EQ(fake_recv(f, &ready, UDK_MSG_PEER_READY), sizeof(ready));
                ASSERT_UINT_EQ(ready.node, id);
                ASSERT_UINT_EQ(ready.slot, slot);
                fake_reply(f, ready.h.sequence, 0, 0, NULL);
        }
}

#define N2 (FAKE_PERIOD * 2)

static void scenario_dataplane(struct fake *f)
{
        static struct fake_node node, peer;
        static struct fake_graph fg;
        const uint64_t P = FAKE_PERIOD;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_graph_create(&fg);
        fake_node_create(&node, "fake-node", 2, 2);
        fake_open(f, &fg, &node, 42, 1, 0.5f, "fake-stream", UDK_LINK_DEVICE);
        fake_node_state(f, 42, UDK_NODE_RUNNING);
        for (uint64_t deadline = now_ms() + FAKE_WAIT_MS; !atomic_load(&dp.stream);)
                ASSERT_TRUE(now_ms() < deadline);

        /* A cycle: (in + 1) * gain, and the graph record triggered. */
        fill(node.in, N2, 0.0f, 0.25f);
        fake_cycle(&node, &fg, 0, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 0.5f,
                   FAKE_PERIOD);
        ASSERT_OK(fake_wait(fg.g, 2000));
        assert_buffer(node.out, N2, 0.0f, 0.25f, 1.0f, 0.5f);
        ASSERT_UINT_EQ(udk_activation_status(node.a), UDK_ACTIVATION_FINISHED);
        ASSERT_UINT_EQ(atomic_load(&node.a->cycles), 1);
        ASSERT_UINT_GE(atomic_load(&node.a->finish_time), atomic_load(&node.a->awake_time));
        /* The callback saw this cycle's trigger and wake times. */
        ASSERT_UINT_EQ(atomic_load(&dp.signal_time), atomic_load(&node.a->signal_time));
        ASSERT_UINT_EQ(atomic_load(&dp.awake_time), atomic_load(&node.a->awake_time));
        ASSERT_UINT_GE(atomic_load(&dp.awake_time), atomic_load(&dp.signal_time));

        /* The gain is udkd's to change, cycle by cycle. */
        fake_cycle(&node, &fg, P, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 2.0f,
                   FAKE_PERIOD);
        ASSERT_OK(fake_wait(fg.g, 1000));
        assert_buffer(node.out, N2, 0.0f, 0.25f, 1.0f, 2.0f);

        /* The callback refuses: silence, and the graph goes on. */
        atomic_store(&dp.refuse_at, 2 * P);
        fake_cycle(&node, &fg, 2 * P, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 0.5f,
                   FAKE_PERIOD);
        ASSERT_OK(fake_wait(fg.g, 1000));
        assert_zero(node.out, N2);

        /* A frame count other than the period: no callback, silence, the graph goes on. */
        fill(node.out, N2, 7.0f, 0.0f);
        fake_cycle(&node, &fg, 3 * P, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 0.5f,
                   FAKE_PERIOD - 1);
        ASSERT_OK(fake_wait(fg.g, 1000));
        assert_zero(node.out, N2);
        ASSERT_UINT_EQ(atomic_load(&dp.calls), 3);

        /* A next slot nobody mapped: nobody is woken. */
        fake_cycle(&node, &fg, 4 * P, 9, UDK_ACTIVATION_INPUT_DEVICE, 0.5f, FAKE_PERIOD);
        ASSERT_ERROR(fake_wait(fg.g, 100), ETIMEDOUT);
        ASSERT_UINT_EQ(udk_activation_status(node.a), UDK_ACTIVATION_FINISHED);
        assert_buffer(node.out, N2, 0.0f, 0.25f, 1.0f, 0.5f);

        /* Late: neutralised mid-callback, its finish wakes nobody and it comes back to IDLE. */
        atomic_store(&dp.sleep_at, 5 * P);
        fake_cycle(&node, &fg, 5 * P, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 0.5f,
                   FAKE_PERIOD);
        ASSERT_ERROR(fake_wait(fg.g, 20), ETIMEDOUT);
        ASSERT_TRUE(udk_activation_neutralise(node.a));
        ASSERT_ERROR(fake_wait(fg.g, 300), ETIMEDOUT);
        ASSERT_UINT_EQ(udk_activation_status(node.a), UDK_ACTIVATION_IDLE);
        ASSERT_UINT_EQ(atomic_load(&node.a->cycles), 5);

        /* A peer: mapped before PEER_READY, read as a chain input, woken as next. */
        fake_node_create(&peer, "fake-peer", 0, 2);
        fill(peer.out, N2, 100.0f, 1.0f);
        ASSERT_INT_EQ(maps_count(getpid(), "fake-peer"), 1);
        fake_peer(f, UDK_MSG_EVENT_PEER_ADDED, &peer, 77, 3);
        ASSERT_INT_EQ(maps_count(getpid(), "fake-peer"), 2);
        fake_cycle(&node, &fg, 6 * P, 3, 3, 0.5f, FAKE_PERIOD);
        ASSERT_OK(fake_wait(peer.a, 1000));
        ASSERT_UINT_EQ(udk_activation_status(fg.g), UDK_ACTIVATION_IDLE);
        assert_buffer(node.out, N2, 100.0f, 1.0f, 1.0f, 0.5f);

        /* Removed: unmapped once the stream's thread is past its cycle. */
        fake_peer(f, UDK_MSG_EVENT_PEER_REMOVED, &peer, 77, 3);
        maps_wait(getpid(), "fake-peer", 1);

        /* Its slot now means nothing: the node's own input, and the graph is woken. */
        fake_cycle(&node, &fg, 7 * P, UDK_ACTIVATION_NEXT_DRIVER, 3, 0.5f, FAKE_PERIOD);
        ASSERT_OK(fake_wait(fg.g, 1000));
        assert_buffer(node.out, N2, 0.0f, 0.25f, 1.0f, 0.5f);
        atomic_store(&dp.step, 1);

        fake_close(f, 42);
        fake_wait_hangup(f);
        ASSERT_INT_EQ(maps_count(getpid(), "fake-node"), 1);
        udk_shm_finish(&peer.shm);
        udk_shm_finish(&node.shm);
        fake_graph_finish(&fg);
}

static void wait_state(struct udk_client_stream *s, enum udk_node_state state)
{
        uint64_t deadline = now_ms() + FAKE_WAIT_MS;

        while (udk_client_stream_state(s) != state) {
                if (now_ms() > deadline)
                        udk_test_fail("stream %u in state %d, %d expected", udk_client_stream_id(s),
                                      udk_client_stream_state(s), state);
                usleep(1000);
        }
}

static void test_dataplane(void)
{
        static struct fake f;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        uint64_t sample_time, host_time;
        struct udk_client *c;

        fake_start(&f, scenario_dataplane);
        c = fake_connect(&f);
        udk_client_stream_params_defaults(&params);
        ASSERT_UINT_EQ(params.input_channels, 2);
        ASSERT_UINT_EQ(params.output_channels, 2);
        ASSERT_INT_EQ(params.cpu, -1);
        params.device = FAKE_DEVICE;
        params.gain = 0.5f;
        params.name = "fake-stream";
        ASSERT_OK(udk_client_open(c, &params, dp_process, NULL, &s));
        atomic_store(&dp.stream, s);
        ASSERT_UINT_EQ(udk_client_stream_id(s), 42);
        ASSERT_UINT_EQ(udk_client_stream_rate(s), 48000);
        ASSERT_UINT_EQ(udk_client_stream_period(s), FAKE_PERIOD);
        ASSERT_UINT_EQ(udk_client_stream_input_channels(s), 2);
        ASSERT_UINT_EQ(udk_client_stream_output_channels(s), 2);
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_INPUT), 3);
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_OUTPUT), 5);
        ASSERT_OK(udk_zts_read(udk_client_stream_zero_timestamp(s), &sample_time, &host_time, NULL));
        ASSERT_UINT_EQ(host_time, 1000);
        ASSERT_OK(udk_client_stream_wait_running(s, FAKE_WAIT_MS));
        wait_state(s, UDK_NODE_RUNNING);

        step_wait(&dp.step, 1);
        atomic_store(&dp.stream, NULL);
        /* Every cycle but the one with the wrong frame count reached the callback. */
        ASSERT_UINT_EQ(udk_client_stream_cycles(s), 7);
        ASSERT_UINT_EQ(atomic_load(&dp.calls), 7);
        ASSERT_OK(udk_client_close(s));
        udk_client_disconnect(c);
        fake_stop(&f);
}

/* Two streams of one client, the second chained to the first: the first
 * wakes the second directly, through its own slot. */
static void scenario_own_chain(struct fake *f)
{
        static struct fake_node a, b;
        static struct fake_graph fg;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_graph_create(&fg);
        fake_node_create(&a, "fake-a", 2, 2);
        fake_node_create(&b, "fake-b", 2, 2);
        fake_open(f, &fg, &a, 50, 4, 0.5f, "a", UDK_LINK_DEVICE);
        fake_open(f, &fg, &b, 51, 6, 0.25f, "b", UDK_LINK_CHAIN);
        fill(a.in, N2, 1.0f, 1.0f);
        fill(b.in, N2, -1000.0f, 0.0f); /* never read: b's input is a's output */
        /* As udkd does, put b in the graph only once its open is done. */
        step_wait(&f->step, 1);

        for (uint64_t k = 0; k < 4; k++) {
                udk_activation_reset(b.a);
                b.a->sample_time = k * FAKE_PERIOD;
                b.a->frames = FAKE_PERIOD;
                b.a->next = UDK_ACTIVATION_NEXT_DRIVER;
                b.a->input = 4;
                b.a->gain_bits = udk_float_to_bits(0.25f);
                fake_cycle(&a, &fg, k * FAKE_PERIOD, 6, UDK_ACTIVATION_INPUT_DEVICE, 0.5f, FAKE_PERIOD);
                ASSERT_OK(fake_wait(fg.g, 2000));
                assert_buffer(a.out, N2, 1.0f, 1.0f, 1.0f, 0.5f);
                /* ((in + 1) * 0.5 + 1) * 0.25 */
                for (size_t i = 0; i < N2; i++)
                        ASSERT_FLOAT_EQ(b.out[i], (((1.0f + (float)i) + 1.0f) * 0.5f + 1.0f) * 0.25f);
                ASSERT_UINT_EQ(udk_activation_status(b.a), UDK_ACTIVATION_FINISHED);
        }
        atomic_store(&f->step, 2);
        fake_close(f, 51);
        fake_close(f, 50);
        fake_wait_hangup(f);
        udk_shm_finish(&a.shm);
        udk_shm_finish(&b.shm);
        fake_graph_finish(&fg);
}

static void test_own_chain(void)
{
        static struct fake f;
        struct udk_client_stream_params params;
        struct udk_client_stream *a = NULL, *b = NULL;
        struct udk_client *c;

        fake_start(&f, scenario_own_chain);
        c = fake_connect(&f);
        udk_client_stream_params_defaults(&params);
        params.device = FAKE_DEVICE;
        params.gain = 0.5f;
        params.name = "a";
        ASSERT_OK(udk_client_open(c, &params, dp_process, NULL, &a));
        params.gain = 0.25f;
        params.name = "b";
        params.link = UDK_LINK_CHAIN;
        ASSERT_OK(udk_client_open(c, &params, dp_process, NULL, &b));
        atomic_store(&f.step, 1);
        step_wait(&f.step, 2);
        ASSERT_UINT_EQ(udk_client_stream_cycles(a), 4);
        ASSERT_UINT_EQ(udk_client_stream_cycles(b), 4);
        ASSERT_OK(udk_client_close(b));
        /* Disconnect closes what is left. */
        udk_client_disconnect(c);
        fake_stop(&f);
}

/* udkd goes away while a stream runs: its thread stops being woken, close
 * and disconnect still end it promptly. */
static void scenario_gone(struct fake *f)
{
        static struct fake_node n;
        static struct fake_graph fg;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_graph_create(&fg);
        fake_node_create(&n, "fake-gone", 2, 2);
        fake_open(f, &fg, &n, 60, 0, 1.0f, "gone", UDK_LINK_DEVICE);
        fake_cycle(&n, &fg, 0, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 1.0f, FAKE_PERIOD);
        ASSERT_OK(fake_wait(fg.g, 2000));
        close(f->fd);
        f->fd = -1;
        udk_shm_finish(&n.shm);
        fake_graph_finish(&fg);
}

static void test_server_gone(void)
{
        static struct fake f;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        struct udk_client *c;
        uint64_t start;
        int r;

        fake_start(&f, scenario_gone);
        c = fake_connect(&f);
        udk_client_stream_params_defaults(&params);
        params.device = FAKE_DEVICE;
        params.name = "gone";
        ASSERT_OK(udk_client_open(c, &params, dp_process, NULL, &s));
        ASSERT_OK(udk_client_stream_wait_running(s, FAKE_WAIT_MS));
        fake_stop(&f);
        start = now_ms();
        while ((r = udk_client_ping(c)) != -ENOTCONN) {
                ASSERT_INT_EQ(r, -ECONNRESET);
                ASSERT_TRUE(now_ms() - start < FAKE_WAIT_MS);
                usleep(1000);
        }
        ASSERT_STR_EQ(udk_client_error(c), "not connected to udkd: udkd closed the connection");
        ASSERT_UINT_EQ(udk_client_stream_cycles(s), 1);
        start = now_ms();
        ASSERT_OK(udk_client_close(s));
        ASSERT_UINT_LE(now_ms() - start, 500);
        ASSERT_INT_EQ(maps_count(getpid(), "fake-gone"), 0);
        udk_client_disconnect(c);
}

/* --- parameters, priority and placement --- */

static struct {
        _Atomic int policy;
        _Atomic int cpu;
} where = { .policy = -1, .cpu = -1 };

static int where_process(void *data, const struct udk_node_cycle *cycle)
{
        atomic_store(&where.policy, sched_getscheduler(0));
        atomic_store(&where.cpu, sched_getcpu());
        return 0;
}

static void scenario_placement(struct fake *f)
{
        static struct fake_node a, b;
        static struct fake_graph fg;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_graph_create(&fg);
        for (int i = 0; i < 2; i++) {
                struct fake_node *n = i ? &b : &a;

                fake_node_create(n, "fake-where", 2, 2);
                fake_opened_cpu = i ? 0 : 1;
                fake_open(f, &fg, n, 80 + i, 1, 1.0f, "where", UDK_LINK_DEVICE);
                fake_cycle(n, &fg, 0, UDK_ACTIVATION_NEXT_DRIVER, UDK_ACTIVATION_INPUT_DEVICE, 1.0f,
                           FAKE_PERIOD);
                ASSERT_OK(fake_wait(fg.g, 2000));
                atomic_store(&f->step, 2 * i + 1);
                step_wait(&f->step, 2 * i + 2);
                fake_close(f, 80 + i);
        }
        fake_wait_hangup(f);
        udk_shm_finish(&a.shm);
        udk_shm_finish(&b.shm);
        fake_graph_finish(&fg);
}

static void test_params_and_placement(void)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        static struct fake f;
        struct udk_client *c;
        bool fifo_allowed;

        if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
                UDK_TEST_SKIP("placement needs two CPUs");
        fake_start(&f, scenario_placement);
        c = fake_connect(&f);

        /* Refused before anything is sent. */
        udk_client_stream_params_defaults(&params);
        params.device = FAKE_DEVICE;
        params.input_channels = 33;
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "33 in and 2 out channels: at most 32 each");
        params.input_channels = params.output_channels = 0;
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "a stream needs input or output channels");
        udk_client_stream_params_defaults(&params);
        params.device = FAKE_DEVICE;
        params.link = 7;
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "unknown link 7");
        params.link = UDK_LINK_DEVICE;
        params.gain = NAN;
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "gain nan is not a number");
        params.gain = 1.0f;
        params.rt_priority = 100;
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "rt_priority 100 out of range (0..99)");
        params.rt_priority = 0;
        setenv("UDK_RT_PRIORITY", "high", 1);
        ASSERT_ERROR(udk_client_open(c, &params, where_process, NULL, &s), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "UDK_RT_PRIORITY 'high' is not a priority (0..99, 0: normal)");
        ASSERT_PTR_EQ(s, NULL);

        /* Priority from the environment, CPU from udkd (it says 1). */
        setenv("UDK_RT_PRIORITY", "10", 1);
        params.name = "where";
        ASSERT_OK(udk_client_open(c, &params, where_process, NULL, &s));
        step_wait(&f.step, 1);
        fifo_allowed = udk_client_stream_is_realtime(s);
        ASSERT_INT_EQ(atomic_load(&where.policy), fifo_allowed ? SCHED_FIFO : SCHED_OTHER);
        ASSERT_INT_EQ(atomic_load(&where.cpu), 1);
        atomic_store(&f.step, 2);
        ASSERT_OK(udk_client_close(s));

        /* Normal priority when asked, and the caller's CPU over udkd's (it says 0). */
        setenv("UDK_RT_PRIORITY", "0", 1);
        params.cpu = 1;
        ASSERT_OK(udk_client_open(c, &params, where_process, NULL, &s));
        step_wait(&f.step, 3);
        ASSERT_FALSE(udk_client_stream_is_realtime(s));
        ASSERT_INT_EQ(atomic_load(&where.policy), SCHED_OTHER);
        ASSERT_INT_EQ(atomic_load(&where.cpu), 1);
        atomic_store(&f.step, 4);
        ASSERT_OK(udk_client_close(s));
        udk_client_disconnect(c);
        fake_stop(&f);
}

/* --- sequence numbers increase, whichever thread sends --- */

#define SEQ_COUNT 3000

static void scenario_sequences(struct fake *f)
{
        static struct fake_node peer;
        unsigned pings = 0, readies = 0, sent = 0;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_node_create(&peer, "fake-seq", 0, 2);
        /* Announcements the background thread answers, while the test's
         * thread pings; a few in flight at a time, so no buffer fills. */
        while (pings < SEQ_COUNT || readies < SEQ_COUNT) {
                bool more = sent < SEQ_COUNT && sent - readies < 16;
                struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
                union {
                        struct udk_msg_header h;
                        uint8_t raw[UDK_MSG_SIZE_MAX];
                } in;

                if (more) {
                        struct udk_msg_peer m = { .node = 100 + sent,
                                                  .slot = sent % UDK_PEER_SLOTS_MAX,
                                                  .output_channels = 2,
                                                  .output_offset = peer.out_off,
                                                  .size = (uint32_t)peer.shm.size,
                                                  .device = FAKE_DEVICE };

                        udk_msg_init(&m.h, UDK_MSG_EVENT_PEER_ADDED, sizeof(m), 0);
                        fake_send(f, &m, sizeof(m), &peer.shm.fd, 1);
                        sent++;
                }
                if (poll(&pfd, 1, more ? 0 : FAKE_WAIT_MS) == 0) {
                        ASSERT_TRUE(more);
                        continue;
                }
                ASSERT_TRUE(fake_recv(f, &in, 0) > 0);
                if (in.h.type == UDK_MSG_PING)
                        pings++;
                else if (in.h.type == UDK_MSG_PEER_READY)
                        readies++;
                else
                        udk_test_fail("unexpected %s request", udk_msg_type_name(in.h.type));
                fake_reply(f, in.h.sequence, 0, 0, NULL);
        }
        fake_wait_hangup(f);
        udk_shm_finish(&peer.shm);
}

static void test_sequences(void)
{
        static struct fake f;
        struct udk_client *c;

        fake_start(&f, scenario_sequences);
        c = fake_connect(&f);
        for (int i = 0; i < SEQ_COUNT; i++)
                ASSERT_OK(udk_client_ping(c));
        udk_client_disconnect(c);
        fake_stop(&f);
}

/* --- the RT thread's rule: no system call but futex --- */

#if defined(__x86_64__)

static __thread bool rt_watched;
static _Atomic uint64_t rt_breaches;
static _Atomic long rt_last_breach = -1;

/* A trapped call: count it and fail it with ENOSYS. */
static void on_sigsys(int sig, siginfo_t *si, void *context)
{
        ucontext_t *uc = context;

        if (rt_watched) {
                atomic_fetch_add(&rt_breaches, 1);
                atomic_store(&rt_last_breach, (long)si->si_syscall);
        }
        uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

/* On the calling thread alone: trap every system call but futex and the
 * vDSO's clock_gettime fallback (and rt_sigreturn, to come back from the
 * trap). */
static void rt_watch_this_thread(void)
{
#define ALLOW(nr) \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
        static struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                ALLOW(__NR_futex),
                ALLOW(__NR_clock_gettime),
                ALLOW(__NR_rt_sigreturn),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        };
#undef ALLOW
        struct sock_fprog prog = { .len = UDK_ELEMENTSOF(filter), .filter = filter };
        sigset_t sys;

        /* The library's threads block every signal; a blocked SIGSYS kills. */
        sigemptyset(&sys);
        sigaddset(&sys, SIGSYS);
        ASSERT_INT_EQ(pthread_sigmask(SIG_UNBLOCK, &sys, NULL), 0);
        ASSERT_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        ASSERT_OK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
        rt_watched = true;
}

static struct {
        _Atomic uint64_t calls;
        _Atomic uint64_t breach_at; /* the callback makes a system call there: the net must catch it */
        _Atomic uint64_t spin_at;   /* the callback spins there until released */
        _Atomic bool released;
} rr = { .breach_at = UINT64_MAX, .spin_at = UINT64_MAX };

static int rr_process(void *data, const struct udk_node_cycle *cycle)
{
        if (atomic_fetch_add(&rr.calls, 1) == 0)
                rt_watch_this_thread();
        for (size_t i = 0; i < (size_t)cycle->frames * cycle->output_channels; i++)
                cycle->output[i] = cycle->input[i] + 1.0f;
        if (cycle->sample_time == atomic_load(&rr.breach_at))
                syscall(SYS_getppid);
        if (cycle->sample_time == atomic_load(&rr.spin_at))
                while (!atomic_load(&rr.released))
                        ;
        return 0;
}

#define RR_CYCLES 300u

static void scenario_rt_rules(struct fake *f)
{
        static struct fake_node node, peers[2];
        static struct fake_graph fg;
        bool mapped = false;

        fake_handshake(f, UDK_PROTOCOL_VERSION);
        fake_graph_create(&fg);
        fake_node_create(&node, "fake-node", 2, 2);
        fake_node_create(&peers[0], "fake-peer-a", 0, 2);
        fake_node_create(&peers[1], "fake-peer-b", 0, 2);
        fill(peers[0].out, N2, 10.0f, 1.0f);
        fill(peers[1].out, N2, 20.0f, 1.0f);
        fill(node.in, N2, 0.0f, 1.0f);
        fake_open(f, &fg, &node, 42, 1, 1.0f, "rt", UDK_LINK_DEVICE);

        for (uint64_t k = 0; k < RR_CYCLES; k++) {
                uint64_t t = k * FAKE_PERIOD;
                const struct fake_node *from = mapped ? &peers[(k / 20) % 2] : NULL;

                /* Peers come, replace each other and go between cycles: the
                 * background thread maps and unmaps, the RT thread only reads. */
                if (k % 20 == 0 && k % 60 != 40) {
                        struct fake_node *p = &peers[(k / 20) % 2];
                        fake_peer(f, UDK_MSG_EVENT_PEER_ADDED, p, 77 + (uint32_t)(k / 20), 3);
                        mapped = true;
                        from = p;
                } else if (k % 60 == 40) {
                        fake_peer(f, UDK_MSG_EVENT_PEER_REMOVED, &peers[(k / 20) % 2 ? 0 : 1],
                                  77 + (uint32_t)(k / 20) - 1, 3);
                        mapped = false;
                        from = NULL;
                }
                fake_cycle(&node, &fg, t, UDK_ACTIVATION_NEXT_DRIVER, from ? 3 : UDK_ACTIVATION_INPUT_DEVICE,
                           1.0f, FAKE_PERIOD);
                if (t == atomic_load(&rr.spin_at)) {
                        /* Late: neutralised mid-callback, then let go. */
                        ASSERT_ERROR(fake_wait(fg.g, 5), ETIMEDOUT);
                        ASSERT_TRUE(udk_activation_neutralise(node.a));
                        atomic_store(&rr.released, true);
                        for (uint64_t deadline = now_ms() + FAKE_WAIT_MS;
                             udk_activation_status(node.a) != UDK_ACTIVATION_IDLE;)
                                ASSERT_TRUE(now_ms() < deadline);
                        continue;
                }
                ASSERT_OK(fake_wait(fg.g, 2000));
                if (from)
                        assert_buffer(node.out, N2, from == &peers[0] ? 10.0f : 20.0f, 1.0f, 1.0f, 1.0f);
                else
                        assert_buffer(node.out, N2, 0.0f, 1.0f, 1.0f, 1.0f);
        }
        atomic_store(&f->step, 1);
}

static void test_rt_thread_rules(void)
{
        struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        static struct fake f;
        struct udk_client *c;

        ASSERT_OK(sigaction(SIGSYS, &sa, NULL));
        atomic_store(&rr.breach_at, 100 * FAKE_PERIOD);
        atomic_store(&rr.spin_at, 200 * FAKE_PERIOD);
        fake_start(&f, scenario_rt_rules);
        c = fake_connect(&f);
        udk_client_stream_params_defaults(&params);
        params.device = FAKE_DEVICE;
        params.name = "rt";
        ASSERT_OK(udk_client_open(c, &params, rr_process, NULL, &s));
        step_wait(&f.step, 1);
        ASSERT_UINT_EQ(atomic_load(&rr.calls), RR_CYCLES);
        /* The one the callback made on purpose, and nothing else. */
        ASSERT_UINT_EQ(atomic_load(&rt_breaches), 1);
        ASSERT_INT_EQ(atomic_load(&rt_last_breach), SYS_getppid);
        /* The watched thread cannot exit cleanly (exit is trapped): end here. */
        fflush(NULL);
        _exit(0);
}
#else
static void test_rt_thread_rules(void)
{
        UDK_TEST_SKIP("the seccomp net is written for x86-64");
}
#endif

/* ===================== the real udkd, real client processes ===================== */

#define RATE       48000u
#define PERIOD     256u
#define LOOP_DELAY 300u /* frames: not a whole number of periods */
#define WAIT_MS    5000

/* A known signal: every value exact in float, none of them 0. */
static float pattern(uint64_t t)
{
        return (float)((t % 4093u) + 1u) / 8192.0f;
}

static const char loop_conf[] = "[device]\n"
                                "name = loop\n"
                                "rate = 48000\n"
                                "period = 256\n"
                                "channels = 2\n"
                                "source = loopback\n"
                                "loopback_latency = 300\n";

static struct proc *udkd_current; /* for the messages of failures */

/* udkd's stderr so far, to explain a failure. */
static const char *udkd_log(void)
{
        if (!udkd_current)
                return "";
        proc_pump(udkd_current, 0);
        return udkd_current->err;
}

/* What a failing test leaves behind is killed: udkd and the workers. */
static pid_t children[16];

static void children_add(pid_t pid)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(children); i++)
                if (children[i] == 0) {
                        children[i] = pid;
                        return;
                }
        udk_test_fail("more than %zu children", UDK_ELEMENTSOF(children));
}

static void children_kill(int sig)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(children); i++)
                if (children[i] > 0)
                        kill(children[i], SIGKILL);
        signal(sig, SIG_DFL);
        raise(sig);
}

static void children_guard(void)
{
        signal(SIGABRT, children_kill);
        signal(SIGALRM, children_kill);
}

static bool udkd_serves_clients(void)
{
        static struct proc p;

        proc_start(&p, (const char *const[]){ "--help", NULL });
        proc_finish(&p, 10000);
        return strstr(p.out, "--socket") != NULL;
}

/* udkd with one 2-channel loopback device "loop" on a private socket. */
static void udkd_start(struct proc *p)
{
        if (!udkd_serves_clients())
                UDK_TEST_SKIP("this udkd does not serve clients yet (no --socket)");
        children_guard();
        /* -q: udkd's stderr is read only at the end, a pipe's worth must do. */
        proc_start_server(p, loop_conf,
                          (const char *const[]){ getenv("UDK_TEST_UDKD_VERBOSE") ? "-v" : "-q", NULL });
        children_add(p->pid);
        udkd_current = p;
}

static void udkd_stop(struct proc *p)
{
        proc_stop_server(p);
        udkd_current = NULL;
}

/* --- workers: client processes the test drives over a pipe --- */

enum role {
        ROLE_SIGNAL,  /* pattern(t) on channel 0 */
        ROLE_PASS,    /* input channel 0 to output channel 1 */
        ROLE_COPY,    /* input to output */
        ROLE_SILENT,  /* nothing (zeros) */
        ROLE_VICTIM,  /* from its cycle @trigger on, sleeps in the callback (to be killed there) */
        ROLE_SLEEPER, /* in its cycles @trigger..@trigger+2, sleeps two periods in the callback */
};

/* Shared (MAP_SHARED) between the test and one worker. */
struct worker_shared {
        int role;
        uint64_t trigger;
        uint32_t position; /* for 'm' */
        char socket[96];
        char name[UDK_OBJECT_NAME_MAX];
        enum udk_link link;
        float gain;
        uint32_t input_channels, output_channels;

        _Atomic uint64_t cycles;
        _Atomic uint64_t first_time;
        _Atomic int stuck; /* the victim is inside its callback for good */
};

struct worker_status {
        int32_t r;
        uint32_t node;
        char text[200];
};

struct worker {
        pid_t pid;
        int cmd, status; /* the test's ends of the pipes */
        struct worker_shared *sh;
};

static int worker_process(void *data, const struct udk_node_cycle *cycle)
{
        struct worker_shared *sh = data;
        uint64_t n = atomic_fetch_add(&sh->cycles, 1);
        const uint32_t ic = cycle->input_channels, oc = cycle->output_channels;

        if (n == 0)
                atomic_store(&sh->first_time, cycle->sample_time);
        switch (sh->role) {
        case ROLE_SIGNAL:
                for (uint32_t f = 0; f < cycle->frames; f++)
                        cycle->output[(size_t)f * oc] = pattern(cycle->sample_time + f);
                break;
        case ROLE_PASS:
                for (uint32_t f = 0; f < cycle->frames; f++)
                        cycle->output[(size_t)f * oc + 1] = cycle->input[(size_t)f * ic];
                break;
        case ROLE_COPY:
                memcpy(cycle->output, cycle->input, sizeof(float) * cycle->frames * oc);
                break;
        case ROLE_VICTIM:
                if (n >= sh->trigger) {
                        struct timespec ts = { .tv_sec = 30 };
                        atomic_store(&sh->stuck, 1);
                        nanosleep(&ts, NULL);
                }
                break;
        case ROLE_SLEEPER:
                if (n >= sh->trigger && n < sh->trigger + 3) {
                        struct timespec ts = { .tv_nsec = 2 * (long)PERIOD * 1000000000L / RATE };
                        nanosleep(&ts, NULL);
                }
                break;
        default:
                break;
        }
        return 0;
}

static void worker_reply(int fd, int r, uint32_t node, const char *text)
{
        struct worker_status st = { .r = r, .node = node };

        udk_strlcpy(st.text, text, sizeof(st.text));
        if (write(fd, &st, sizeof(st)) != sizeof(st))
                _exit(3);
}

static _Noreturn void worker_main(struct worker_shared *sh, int cmd_fd, int status_fd)
{
        struct udk_client_stream *s = NULL;
        struct udk_client *c = NULL;
        char cmd;

        while (read(cmd_fd, &cmd, 1) == 1) {
                struct udk_client_stream_params params;
                int r = 0;

                switch (cmd) {
                case 'o':
                        if (!c && udk_client_connect(sh->name, sh->socket, &c) < 0) {
                                worker_reply(status_fd, -ECONNREFUSED, 0, udk_client_error(NULL));
                                break;
                        }
                        udk_client_stream_params_defaults(&params);
                        params.input_channels = sh->input_channels;
                        params.output_channels = sh->output_channels;
                        params.link = sh->link;
                        params.gain = sh->gain;
                        params.name = sh->name;
                        atomic_store(&sh->cycles, 0);
                        r = udk_client_open(c, &params, worker_process, sh, &s);
                        if (r == 0)
                                r = udk_client_stream_wait_running(s, WAIT_MS);
                        worker_reply(status_fd, r, udk_client_stream_id(s), udk_client_error(c));
                        break;
                case 'm':
                        r = udk_client_stream_move(s, sh->position);
                        worker_reply(status_fd, r, udk_client_stream_id(s), udk_client_error(c));
                        break;
                case 'c':
                        r = udk_client_close(s);
                        s = NULL;
                        worker_reply(status_fd, r, 0, udk_client_error(c));
                        break;
                case 'q':
                        udk_client_disconnect(c);
                        _exit(0);
                default:
                        _exit(4);
                }
        }
        udk_client_disconnect(c);
        _exit(0);
}

/* Fork a worker; call before this process has threads. */
static void worker_fork(struct worker *w, const struct proc *u, const char *name, int role,
                        enum udk_link link, float gain, uint32_t in, uint32_t out)
{
        int cmd[2], status[2];

        w->sh = mmap(NULL, sizeof(*w->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(w->sh != MAP_FAILED);
        memset(w->sh, 0, sizeof(*w->sh));
        w->sh->role = role;
        w->sh->link = link;
        w->sh->gain = gain;
        w->sh->input_channels = in;
        w->sh->output_channels = out;
        udk_strlcpy(w->sh->socket, u->socket, sizeof(w->sh->socket));
        udk_strlcpy(w->sh->name, name, sizeof(w->sh->name));
        ASSERT_OK(pipe2(cmd, O_CLOEXEC));
        ASSERT_OK(pipe2(status, O_CLOEXEC));
        fflush(NULL);
        w->pid = fork();
        ASSERT_OK(w->pid);
        if (w->pid == 0) {
                /* Only its own pipes: the test's ends of the others' must
                 * close when the test closes them. */
                for (int fd = 3; fd < 1024; fd++)
                        if (fd != cmd[0] && fd != status[1])
                                close(fd);
                worker_main(w->sh, cmd[0], status[1]);
        }
        children_add(w->pid);
        close(cmd[0]);
        close(status[1]);
        w->cmd = cmd[1];
        w->status = status[0];
}

/* Send @cmd and wait (bounded) for the worker's answer. */
static struct worker_status worker_do(struct worker *w, char cmd)
{
        struct pollfd pfd = { .fd = w->status, .events = POLLIN };
        struct worker_status st;

        ASSERT_INT_EQ(write(w->cmd, &cmd, 1), 1);
        ASSERT_INT_EQ(poll(&pfd, 1, 3 * WAIT_MS), 1);
        ASSERT_INT_EQ(read(w->status, &st, sizeof(st)), sizeof(st));
        return st;
}

static uint32_t worker_open(struct worker *w)
{
        struct worker_status st = worker_do(w, 'o');

        if (st.r < 0)
                udk_test_fail("worker %s: open: %s (%s)", w->sh->name, strerror(-st.r), st.text);
        return st.node;
}

static void worker_move(struct worker *w, uint32_t position)
{
        struct worker_status st;

        w->sh->position = position;
        st = worker_do(w, 'm');
        if (st.r < 0)
                udk_test_fail("worker %s: move: %s (%s)", w->sh->name, strerror(-st.r), st.text);
}

static void worker_close(struct worker *w)
{
        struct worker_status st = worker_do(w, 'c');

        if (st.r < 0)
                udk_test_fail("worker %s: close: %s (%s)", w->sh->name, strerror(-st.r), st.text);
}

/* Let it disconnect and exit; reap it (bounded). */
static void worker_quit(struct worker *w)
{
        uint64_t deadline = now_ms() + WAIT_MS;
        int status;

        ASSERT_INT_EQ(write(w->cmd, "q", 1), 1);
        close(w->cmd);
        close(w->status);
        while (waitpid(w->pid, &status, WNOHANG) == 0) {
                if (now_ms() > deadline) {
                        kill(w->pid, SIGKILL);
                        waitpid(w->pid, &status, 0);
                        udk_test_fail("worker %s did not exit; udkd: \"%s\"", w->sh->name, udkd_log());
                }
                usleep(1000);
        }
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_INT_EQ(WEXITSTATUS(status), 0);
        munmap(w->sh, sizeof(*w->sh));
}

static void wait_cycles(_Atomic uint64_t *cycles, uint64_t n)
{
        uint64_t deadline = now_ms() + WAIT_MS;

        while (atomic_load(cycles) < n) {
                if (now_ms() > deadline)
                        udk_test_fail("%llu cycles of %llu within %d ms",
                                      (unsigned long long)atomic_load(cycles), (unsigned long long)n,
                                      WAIT_MS);
                usleep(1000);
        }
}

/* --- the recorder: this process's own node, every cycle's input kept --- */

#define REC_CYCLES 1200u /* 6.4 s */

static struct {
        _Atomic bool on;
        _Atomic uint32_t n;
        _Atomic uint64_t cycles;
        uint64_t times[REC_CYCLES];
        float data[REC_CYCLES][PERIOD * 2];
} rec;

static int rec_process(void *data, const struct udk_node_cycle *cycle)
{
        uint32_t i = atomic_load_explicit(&rec.n, memory_order_relaxed);

        atomic_fetch_add(&rec.cycles, 1);
        if (!atomic_load(&rec.on) || i >= REC_CYCLES)
                return 0;
        rec.times[i] = cycle->sample_time;
        memcpy(rec.data[i], cycle->input, sizeof(rec.data[i]));
        atomic_store_explicit(&rec.n, i + 1, memory_order_release);
        return 0;
}

static struct udk_client_stream *rec_open(struct udk_client *c)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;

        udk_client_stream_params_defaults(&params);
        params.output_channels = 0;
        params.name = "recorder";
        ASSERT_OK(udk_client_open(c, &params, rec_process, NULL, &s));
        ASSERT_OK(udk_client_stream_wait_running(s, WAIT_MS));
        ASSERT_UINT_EQ(udk_client_stream_period(s), PERIOD);
        ASSERT_UINT_EQ(udk_client_stream_rate(s), RATE);
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_INPUT), 0);
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_OUTPUT), LOOP_DELAY);
        return s;
}

/* Record until @n cycles are in. */
static void rec_until(uint32_t n)
{
        uint64_t deadline = now_ms() + 2 * WAIT_MS;

        ASSERT_TRUE(n <= REC_CYCLES);
        while (atomic_load(&rec.n) < n) {
                if (now_ms() > deadline)
                        udk_test_fail("%u cycles recorded of %u", atomic_load(&rec.n), n);
                usleep(2000);
        }
}

/* The device's and its nodes' figures, to explain a failure. */
static struct udk_client *stats_client;

static const char *graph_stats(void)
{
        static char text[1024];
        struct udk_msg_stats_node nodes[16];
        struct udk_msg_stats_device sd;
        udk_object_id device = 0;
        size_t n = 0, len;

        if (!stats_client || udk_client_find(stats_client, "loop", &device) < 0 ||
            udk_client_stats(stats_client, device, &sd, nodes, UDK_ELEMENTSOF(nodes), &n) < 0)
                return "(no statistics)";
        len = (size_t)snprintf(text, sizeof(text), "xruns %llu;", (unsigned long long)sd.xruns);
        for (size_t i = 0; i < n && len < sizeof(text); i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, " %s: cycles %llu late %llu;",
                                        nodes[i].name, (unsigned long long)nodes[i].cycles,
                                        (unsigned long long)nodes[i].late);
        return text;
}

/*
 * Did the host stall the whole graph?  The device's clock missed a period
 * (an xrun: clients cannot cause one, udkd cuts them off before the
 * period ends), or every node of the graph was late at once.  A fault of
 * udk's own shows in every attempt; a stall of this shared machine does
 * not, so the test runs again (UDK_TEST_RETRY).
 */
static const char *late_on_purpose; /* the node a test makes late, NULL for none */

static void retry_if_host_stalled(void)
{
        struct udk_msg_stats_node nodes[16];
        struct udk_msg_stats_device sd;
        udk_object_id device = 0;
        bool all_late = true, stray_late = false;
        size_t n = 0;

        if (!stats_client || udk_client_find(stats_client, "loop", &device) < 0 ||
            udk_client_stats(stats_client, device, &sd, nodes, UDK_ELEMENTSOF(nodes), &n) < 0 || n == 0)
                return;
        for (size_t i = 0; i < n; i++) {
                all_late = all_late && nodes[i].late > 0;
                /* These clients do a few microseconds of work: late, their RT thread was not
                 * scheduled (ASan on a loaded machine), which an attempt of its own tells apart. */
                if (nodes[i].late > 0 && !(late_on_purpose && strcmp(nodes[i].name, late_on_purpose) == 0))
                        stray_late = true;
        }
        if (sd.xruns == 0 && !all_late && !stray_late)
                return;
        fprintf(stderr, "the host stalled the graph (%s)\n", graph_stats());
        for (size_t i = 0; i < UDK_ELEMENTSOF(children); i++)
                if (children[i] > 0)
                        kill(children[i], SIGKILL);
        UDK_TEST_RETRY("every participant late at once: the machine, not udk");
}

/*
 * Every recorded cycle follows the one before (no cycle lost), and from
 * frame @valid_from on channel 0 is the pattern @delay frames late, channel
 * 1 the pattern 2 x @delay late times @gain (0: silence).  Returns the
 * number of frames checked.
 */
static uint64_t rec_check(uint64_t delay, float gain, uint64_t valid_from)
{
        uint32_t n = atomic_load(&rec.n);
        uint64_t checked = 0;

        ASSERT_UINT_GE(n, 2);
        for (uint32_t i = 0; i < n; i++) {
                if (i > 0 && rec.times[i] != rec.times[i - 1] + PERIOD) {
                        retry_if_host_stalled();
                        udk_test_fail("cycle %u (of %u) at %llu after %llu: %lld frames lost (%s)", i, n,
                                      (unsigned long long)rec.times[i], (unsigned long long)rec.times[i - 1],
                                      (long long)(rec.times[i] - rec.times[i - 1] - PERIOD), graph_stats());
                }
                for (uint32_t f = 0; f < PERIOD; f++) {
                        uint64_t t = rec.times[i] + f;
                        float ch0 = rec.data[i][f * 2], ch1 = rec.data[i][f * 2 + 1];
                        float want1 = gain == 0.0f ? 0.0f : pattern(t - 2 * delay) * gain;

                        if (t < valid_from)
                                continue;
                        if (ch0 != pattern(t - delay) || ch1 != want1) {
                                retry_if_host_stalled();
                                udk_test_fail("frame %llu (cycle %u): %.9g %.9g, expected %.9g %.9g",
                                              (unsigned long long)t, i, (double)ch0, (double)ch1,
                                              (double)pattern(t - delay), (double)want1);
                        }
                        checked++;
                }
        }
        return checked;
}

/* The nodes of the device in graph order, by name. */
static void assert_graph_order(struct udk_client *c, udk_object_id device, const char *const *names,
                               size_t n)
{
        struct udk_msg_stats_node nodes[16];
        struct udk_msg_stats_device sd;
        size_t got;

        ASSERT_OK(udk_client_stats(c, device, &sd, nodes, UDK_ELEMENTSOF(nodes), &got));
        ASSERT_UINT_EQ(got, n);
        for (size_t i = 0; i < n; i++) {
                ASSERT_STR_EQ(nodes[i].name, names[i]);
                ASSERT_UINT_EQ(nodes[i].position, i);
        }
}

static udk_object_id loop_device(struct udk_client *c)
{
        udk_object_id id = 0;

        ASSERT_OK(udk_client_find(c, "loop", &id));
        return id;
}

static bool registry_has(struct udk_client *c, udk_object_id id)
{
        struct udk_msg_object *objects;
        bool found = false;
        size_t n;

        ASSERT_OK(udk_client_list(c, 0, &objects, &n));
        for (size_t i = 0; i < n; i++)
                found |= udk_client_objects_at(objects, i)->id == id;
        free(objects);
        return found;
}

static int count_fds(pid_t pid)
{
        char path[64];
        struct dirent *e;
        int n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        d = opendir(path);
        ASSERT_NOT_NULL(d);
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

/* (a) Four clients in a chain: signal -> x g1 (device link) -> x g2 -> x g3 -> x g4 (chain links). */
static void test_chain_of_four(void)
{
        static const float gains[4] = { 0.5f, 2.0f, 0.25f, 0.5f };
        static const char *const order[] = { "signal", "chain1", "chain2", "chain3", "chain4", "recorder" };
        static struct proc u;
        static struct worker sig, chain[4];
        struct udk_msg_stats_node nodes[8];
        struct udk_msg_stats_device sd;
        struct udk_client_stream *s;
        struct udk_client *c = NULL;
        uint64_t ts, tc = 0, valid_from;
        size_t n_nodes;
        char name[16];

        udkd_start(&u);
        worker_fork(&sig, &u, "signal", ROLE_SIGNAL, UDK_LINK_DEVICE, 1.0f, 0, 2);
        for (int i = 0; i < 4; i++) {
                snprintf(name, sizeof(name), "chain%d", i + 1);
                worker_fork(&chain[i], &u, name, i == 0 ? ROLE_PASS : ROLE_COPY,
                            i == 0 ? UDK_LINK_DEVICE : UDK_LINK_CHAIN, gains[i], 2, 2);
        }
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;

        worker_open(&sig);
        for (int i = 0; i < 4; i++)
                worker_open(&chain[i]);
        s = rec_open(c);
        assert_graph_order(c, loop_device(c), order, UDK_ELEMENTSOF(order));

        atomic_store(&rec.on, true);
        rec_until(400);
        atomic_store(&rec.on, false);

        /* Exact from the first frame every node had a hand in. */
        ts = atomic_load(&sig.sh->first_time);
        for (int i = 0; i < 4; i++)
                tc = max_u64(tc, atomic_load(&chain[i].sh->first_time));
        valid_from = max_u64(ts + 2 * LOOP_DELAY, tc + LOOP_DELAY);
        ASSERT_UINT_GE(rec_check(LOOP_DELAY, gains[0] * gains[1] * gains[2] * gains[3], valid_from),
                       300 * PERIOD);

        ASSERT_OK(udk_client_stats(c, loop_device(c), &sd, nodes, UDK_ELEMENTSOF(nodes), &n_nodes));
        if (sd.xruns > 0)
                retry_if_host_stalled();
        ASSERT_UINT_EQ(sd.xruns, 0);
        ASSERT_UINT_EQ(n_nodes, 6);
        for (size_t i = 0; i < n_nodes; i++)
                if (nodes[i].late > 0)
                        retry_if_host_stalled();
        for (size_t i = 0; i < n_nodes; i++)
                ASSERT_UINT_EQ(nodes[i].late, 0);

        ASSERT_OK(udk_client_close(s));
        worker_quit(&sig);
        for (int i = 0; i < 4; i++)
                worker_quit(&chain[i]);
        udk_client_disconnect(c);
        udkd_stop(&u);
}

static int udkd_node_maps(pid_t pid)
{
        return maps_count(pid, "udk-node-");
}

/* (b) A client killed mid-cycle and one that oversleeps: the others lose nothing. */
static void test_dead_and_late(void)
{
        static const char *const order[] = { "signal", "victim", "sleeper", "recorder" };
        static struct worker sig, victim, sleeper;
        static struct proc u;
        struct udk_msg_stats_node nodes[8];
        struct udk_msg_stats_device sd;
        struct udk_client_stream *s;
        struct udk_client *c = NULL;
        int fds_before, maps_before;
        uint64_t deadline;
        udk_object_id victim_node;
        size_t n_nodes;
        int status;

        udkd_start(&u);
        worker_fork(&sig, &u, "signal", ROLE_SIGNAL, UDK_LINK_DEVICE, 1.0f, 0, 2);
        worker_fork(&sleeper, &u, "sleeper", ROLE_SLEEPER, UDK_LINK_DEVICE, 1.0f, 2, 2);
        worker_fork(&victim, &u, "victim", ROLE_VICTIM, UDK_LINK_DEVICE, 1.0f, 2, 2);
        sleeper.sh->trigger = 150;
        victim.sh->trigger = 60;
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;
        late_on_purpose = "sleeper";

        worker_open(&sig);
        worker_open(&sleeper);
        s = rec_open(c);
        atomic_store(&rec.on, true);
        fds_before = count_fds(u.pid);
        maps_before = udkd_node_maps(u.pid);
        ASSERT_INT_EQ(maps_before, 3);

        /* The victim joins in the middle of the graph, then dies there. */
        victim_node = worker_open(&victim);
        worker_move(&victim, 1);
        assert_graph_order(c, loop_device(c), order, UDK_ELEMENTSOF(order));
        ASSERT_INT_EQ(udkd_node_maps(u.pid), 4);
        deadline = now_ms() + WAIT_MS;
        while (!atomic_load(&victim.sh->stuck)) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(500);
        }
        ASSERT_OK(kill(victim.pid, SIGKILL));
        ASSERT_INT_EQ(waitpid(victim.pid, &status, 0), victim.pid);
        ASSERT_TRUE(WIFSIGNALED(status));

        /* Its node, descriptors and memory go. */
        deadline = now_ms() + WAIT_MS;
        while (registry_has(c, victim_node) || count_fds(u.pid) != fds_before ||
               udkd_node_maps(u.pid) != maps_before) {
                if (now_ms() > deadline)
                        udk_test_fail("victim's node %s, udkd has %d fds (%d before) and %d node mappings "
                                      "(%d before)",
                                      registry_has(c, victim_node) ? "still listed" : "gone",
                                      count_fds(u.pid), fds_before, udkd_node_maps(u.pid), maps_before);
                usleep(5000);
        }

        /* The sleeper oversleeps three times, then comes back. */
        wait_cycles(&sleeper.sh->cycles, sleeper.sh->trigger + 60);
        rec_until(atomic_load(&rec.n) + 50);
        atomic_store(&rec.on, false);
        ASSERT_UINT_GE(rec_check(LOOP_DELAY, 0.0f, atomic_load(&sig.sh->first_time) + LOOP_DELAY),
                       200 * PERIOD);

        ASSERT_OK(udk_client_stats(c, loop_device(c), &sd, nodes, UDK_ELEMENTSOF(nodes), &n_nodes));
        if (sd.xruns > 0 || (n_nodes == 3 && (nodes[0].late > 0 || nodes[2].late > 0)))
                retry_if_host_stalled();
        ASSERT_UINT_EQ(sd.xruns, 0);
        ASSERT_UINT_EQ(n_nodes, 3);
        ASSERT_STR_EQ(nodes[0].name, "signal");
        ASSERT_UINT_EQ(nodes[0].late, 0);
        ASSERT_STR_EQ(nodes[1].name, "sleeper");
        ASSERT_UINT_GE(nodes[1].late, 1);
        ASSERT_UINT_EQ(nodes[1].late_run, 0);
        ASSERT_UINT_EQ(nodes[1].state, UDK_NODE_RUNNING);
        ASSERT_STR_EQ(nodes[2].name, "recorder");
        ASSERT_UINT_EQ(nodes[2].late, 0);

        ASSERT_OK(udk_client_close(s));
        worker_quit(&sig);
        worker_quit(&sleeper);
        munmap(victim.sh, sizeof(*victim.sh));
        udk_client_disconnect(c);
        udkd_stop(&u);
}

/* (c) Clients come and go, at the head and at the tail, while three run. */
static void test_join_leave(void)
{
        static const char *const order[] = { "signal", "pass", "recorder" };
        static struct worker sig, pass, head, tail;
        static struct proc u;
        struct udk_msg_stats_device sd;
        struct udk_client_stream *s;
        struct udk_client *c = NULL;
        uint64_t valid_from;

        udkd_start(&u);
        worker_fork(&sig, &u, "signal", ROLE_SIGNAL, UDK_LINK_DEVICE, 1.0f, 0, 2);
        worker_fork(&pass, &u, "pass", ROLE_PASS, UDK_LINK_DEVICE, 0.5f, 2, 2);
        worker_fork(&head, &u, "head", ROLE_SILENT, UDK_LINK_DEVICE, 1.0f, 2, 2);
        worker_fork(&tail, &u, "tail", ROLE_COPY, UDK_LINK_CHAIN, 1.0f, 2, 2);
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;

        worker_open(&sig);
        worker_open(&pass);
        s = rec_open(c);
        atomic_store(&rec.on, true);
        for (int i = 0; i < 4; i++) {
                static const char *const joined[] = { "head", "signal", "pass", "recorder", "tail" };

                worker_open(&head);
                worker_move(&head, 0);
                worker_open(&tail);
                assert_graph_order(c, loop_device(c), joined, UDK_ELEMENTSOF(joined));
                usleep(30000);
                worker_close(&head);
                usleep(20000);
                worker_close(&tail);
                assert_graph_order(c, loop_device(c), order, UDK_ELEMENTSOF(order));
        }
        rec_until(UDK_MAX(atomic_load(&rec.n) + 20, 150u));
        atomic_store(&rec.on, false);

        valid_from = max_u64(atomic_load(&sig.sh->first_time) + 2 * LOOP_DELAY,
                             atomic_load(&pass.sh->first_time) + LOOP_DELAY);
        ASSERT_UINT_GE(rec_check(LOOP_DELAY, 0.5f, valid_from), 140 * PERIOD);
        ASSERT_OK(udk_client_stats(c, loop_device(c), &sd, NULL, 0, NULL));
        if (sd.xruns > 0)
                retry_if_host_stalled();
        ASSERT_UINT_EQ(sd.xruns, 0);

        ASSERT_OK(udk_client_close(s));
        worker_quit(&sig);
        worker_quit(&pass);
        worker_quit(&head);
        worker_quit(&tail);
        udk_client_disconnect(c);
        udkd_stop(&u);
}

/* (d) Rates: a player and a recorder at 44.1 kHz on the 48 kHz loopback device. */
#define CONV_RATE    44100u
#define CONV_SECONDS 4u
#define CONV_FRAMES  (CONV_RATE * CONV_SECONDS)

static struct {
        uint64_t played;              /* the player's frames so far */
        _Atomic uint64_t recorded;    /* the recorder's */
        _Atomic uint64_t bad_cycles;  /* cycles with a frame count outside floor..ceil */
        _Atomic uint64_t gaps;        /* cycles that did not start where the last ended */
        uint64_t gap_at;              /* the first gap: after how many frames, how long */
        int64_t gap_frames;
        uint64_t next_time;
        float data[CONV_FRAMES * 2];
} conv;

static int conv_play(void *data, const struct udk_node_cycle *cycle)
{
        for (uint32_t f = 0; f < cycle->frames; f++) {
                double t = (double)(conv.played + f) / CONV_RATE;
                cycle->output[f * 2] = (float)(0.5 * sin(2 * M_PI * 1000.0 * t));
                cycle->output[f * 2 + 1] = (float)(0.25 * cos(2 * M_PI * 1000.0 * t));
        }
        conv.played += cycle->frames;
        return 0;
}

static int conv_record(void *data, const struct udk_node_cycle *cycle)
{
        uint64_t n = atomic_load_explicit(&conv.recorded, memory_order_relaxed);
        /* 256 frames at 48 kHz are 235.2 at 44.1: 235 or 236. */
        if (cycle->frames != 235 && cycle->frames != 236)
                atomic_fetch_add(&conv.bad_cycles, 1);
        /* A cycle udkd skipped (the host stalled us) leaves a gap. */
        if (n > 0 && cycle->sample_time != conv.next_time) {
                if (atomic_fetch_add(&conv.gaps, 1) == 0) {
                        conv.gap_at = n;
                        conv.gap_frames = (int64_t)(cycle->sample_time - conv.next_time);
                }
        }
        conv.next_time = cycle->sample_time + cycle->frames;
        if (n + cycle->frames > CONV_FRAMES)
                return 0;
        memcpy(conv.data + n * 2, cycle->input, sizeof(float) * 2 * cycle->frames);
        atomic_store_explicit(&conv.recorded, n + cycle->frames, memory_order_release);
        return 0;
}

static void test_rates(void)
{
        static struct proc u;
        struct udk_client_stream_params params;
        struct udk_client_stream *play = NULL, *record = NULL;
        struct udk_client *c = NULL;
        uint64_t deadline;
        double snr[2], amp[2];

        udkd_start(&u);
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;

        /* An absurd rate, or quality: refused, saying what was wrong. */
        udk_client_stream_params_defaults(&params);
        ASSERT_INT_EQ(params.quality, UDK_RESAMPLER_QUALITY_DEFAULT);
        params.rate = 4000;
        ASSERT_ERROR(udk_client_open(c, &params, conv_play, NULL, &play), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "rate 4000 Hz: outside 8000..768000");
        params.rate = 1000000;
        ASSERT_ERROR(udk_client_open(c, &params, conv_play, NULL, &play), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "rate 1000000 Hz: outside 8000..768000");
        params.rate = CONV_RATE;
        params.quality = (enum udk_resampler_quality)42;
        ASSERT_ERROR(udk_client_open(c, &params, conv_play, NULL, &play), EINVAL);
        ASSERT_STR_EQ(udk_client_error(c), "quality 42: not one of quick, low, medium, high, very-high");
        ASSERT_PTR_EQ(play, NULL);

        /* The device's own rate, asked for by number: no conversion. */
        udk_client_stream_params_defaults(&params);
        params.rate = RATE;
        params.output_channels = 0;
        ASSERT_OK(udk_client_open(c, &params, rec_process, NULL, &record));
        ASSERT_UINT_EQ(udk_client_stream_rate(record), RATE);
        ASSERT_UINT_EQ(udk_client_stream_period(record), PERIOD);
        ASSERT_OK(udk_client_close(record));

        /* The player, then the recorder, both at 44.1 kHz. */
        udk_client_stream_params_defaults(&params);
        params.rate = CONV_RATE;
        params.input_channels = 0;
        params.name = "player";
        ASSERT_OK(udk_client_open(c, &params, conv_play, NULL, &play));
        params.input_channels = 2;
        params.output_channels = 0;
        params.name = "recorder";
        ASSERT_OK(udk_client_open(c, &params, conv_record, NULL, &record));
        ASSERT_OK(udk_client_stream_wait_running(play, WAIT_MS));
        ASSERT_OK(udk_client_stream_wait_running(record, WAIT_MS));
        ASSERT_UINT_EQ(udk_client_stream_rate(play), CONV_RATE);
        ASSERT_UINT_EQ(udk_client_stream_device_rate(play), RATE);
        ASSERT_UINT_EQ(udk_client_stream_period(play), 236);
        ASSERT_UINT_EQ(udk_client_stream_device_period(play), PERIOD);
        /* The loop's 300 frames at 48 kHz are 276 at 44.1, and the conversion adds its own. */
        ASSERT_UINT_GE(udk_client_stream_latency(play, UDK_DIRECTION_OUTPUT), 276 + 100);
        ASSERT_UINT_GE(udk_client_stream_latency(record, UDK_DIRECTION_INPUT), 100);
        fprintf(stderr, "# latency: play %u, record %u frames at 44.1 kHz\n",
                udk_client_stream_latency(play, UDK_DIRECTION_OUTPUT),
                udk_client_stream_latency(record, UDK_DIRECTION_INPUT));

        deadline = now_ms() + 3 * WAIT_MS;
        while (atomic_load_explicit(&conv.recorded, memory_order_acquire) < CONV_FRAMES) {
                if (now_ms() > deadline)
                        udk_test_fail("%llu frames recorded of %u within %d ms (%s)",
                                      (unsigned long long)atomic_load(&conv.recorded), CONV_FRAMES, 3 * WAIT_MS,
                                      graph_stats());
                usleep(10000);
        }
        ASSERT_UINT_EQ(udk_client_stream_conversion_xruns(play), 0);
        ASSERT_UINT_EQ(udk_client_stream_conversion_xruns(record), 0);
        /* Before the close: a stalled host shows in the nodes' figures. */
        if (atomic_load(&conv.gaps)) {
                fprintf(stderr, "# %llu gaps, the first after %llu frames, of %lld frames (%s)\n",
                        (unsigned long long)atomic_load(&conv.gaps), (unsigned long long)conv.gap_at,
                        (long long)conv.gap_frames, graph_stats());
                retry_if_host_stalled();
        }
        ASSERT_UINT_EQ(atomic_load(&conv.gaps), 0);
        ASSERT_UINT_EQ(atomic_load(&conv.bad_cycles), 0);

        /* From 1.5 s on (past both conversions' and the loop's delay, and the
         * start), 2 s of both channels: the 1 kHz sine, clean. */
        for (unsigned ch = 0; ch < 2; ch++) {
                snr[ch] = udk_test_sine_snr_db(conv.data + (size_t)CONV_RATE * 3 / 2 * 2, 2 * CONV_RATE, 2, ch,
                                               1000.0 / CONV_RATE, &amp[ch]);
                fprintf(stderr, "# channel %u: SNR %.1f dB, amplitude %.6f\n", ch, snr[ch], amp[ch]);
        }
        if (snr[0] < 120.0 || snr[1] < 120.0)
                retry_if_host_stalled();
        ASSERT_TRUE(snr[0] >= 120.0);
        ASSERT_TRUE(snr[1] >= 120.0);
        ASSERT_NEAR(amp[0], 0.5, 0.001);
        ASSERT_NEAR(amp[1], 0.25, 0.001);
        ASSERT_OK(udk_client_close(record));
        ASSERT_OK(udk_client_close(play));
        udk_client_disconnect(c);
        udkd_stop(&u);
}

/* (e) Moves reorder the graph at a cycle start, without a glitch. */
static void test_move(void)
{
        static struct worker sig, pass;
        static struct proc u;
        struct udk_msg_stats_device sd;
        struct udk_client_stream *s;
        struct udk_client *c = NULL;
        udk_object_id device;
        uint64_t valid_from;

        udkd_start(&u);
        worker_fork(&sig, &u, "signal", ROLE_SIGNAL, UDK_LINK_DEVICE, 1.0f, 0, 2);
        worker_fork(&pass, &u, "pass", ROLE_PASS, UDK_LINK_DEVICE, 0.25f, 2, 2);
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;
        device = loop_device(c);

        worker_open(&sig);
        worker_open(&pass);
        s = rec_open(c);
        atomic_store(&rec.on, true);
        rec_until(20);

        ASSERT_OK(udk_client_stream_move(s, 0));
        assert_graph_order(c, device, (const char *const[]){ "recorder", "signal", "pass" }, 3);
        rec_until(atomic_load(&rec.n) + 20);
        worker_move(&sig, 7); /* past the end: last */
        assert_graph_order(c, device, (const char *const[]){ "recorder", "pass", "signal" }, 3);
        rec_until(atomic_load(&rec.n) + 20);
        worker_move(&pass, 0);
        assert_graph_order(c, device, (const char *const[]){ "pass", "recorder", "signal" }, 3);
        rec_until(atomic_load(&rec.n) + 20);
        ASSERT_OK(udk_client_stream_move(s, 2));
        assert_graph_order(c, device, (const char *const[]){ "pass", "signal", "recorder" }, 3);
        rec_until(atomic_load(&rec.n) + 20);
        atomic_store(&rec.on, false);

        valid_from = max_u64(atomic_load(&sig.sh->first_time) + 2 * LOOP_DELAY,
                             atomic_load(&pass.sh->first_time) + LOOP_DELAY);
        ASSERT_UINT_GE(rec_check(LOOP_DELAY, 0.25f, valid_from), 60 * PERIOD);
        ASSERT_OK(udk_client_stats(c, device, &sd, NULL, 0, NULL));
        if (sd.xruns > 0)
                retry_if_host_stalled();
        ASSERT_UINT_EQ(sd.xruns, 0);

        ASSERT_OK(udk_client_close(s));
        worker_quit(&sig);
        worker_quit(&pass);
        udk_client_disconnect(c);
        udkd_stop(&u);
}

/* --- the example programs --- */

struct program {
        pid_t pid;
        int out_fd, err_fd;
        char out[4096], err[4096];
        size_t out_len, err_len;
        int status;
};

static const char *program_path(const char *env)
{
        const char *path = getenv(env);

        if (!path || !*path)
                UDK_TEST_SKIP("%s is not set (run through meson test)", env);
        return path;
}

static void program_start(struct program *p, const char *env, const char *const *args)
{
        const char *argv[16];
        int out[2], err[2];
        size_t n = 0;

        memset(p, 0, sizeof(*p));
        argv[n++] = program_path(env);
        for (; args[n - 1]; n++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(argv) - 1);
                argv[n] = args[n - 1];
        }
        argv[n] = NULL;
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        children_add(p->pid);
        close(out[1]);
        close(err[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
}

/* Read its output until it exits (bounded); its exit status. */
static int program_finish(struct program *p, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        while (p->out_fd >= 0 || p->err_fd >= 0) {
                struct pollfd pfd[2] = { { .fd = p->out_fd, .events = POLLIN },
                                         { .fd = p->err_fd, .events = POLLIN } };
                int *fds[2] = { &p->out_fd, &p->err_fd };
                char *bufs[2] = { p->out, p->err };
                size_t *lens[2] = { &p->out_len, &p->err_len };

                if (now_ms() > deadline) {
                        kill(p->pid, SIGKILL);
                        udk_test_fail("%s did not finish within %d ms; stderr: \"%s\"", p->out, timeout_ms,
                                      p->err);
                }
                if (poll(pfd, 2, 50) <= 0)
                        continue;
                for (int i = 0; i < 2; i++) {
                        ssize_t n;

                        if (*fds[i] < 0 || !pfd[i].revents)
                                continue;
                        n = read(*fds[i], bufs[i] + *lens[i], sizeof(p->out) - 1 - *lens[i]);
                        if (n <= 0) {
                                close(*fds[i]);
                                *fds[i] = -1;
                                continue;
                        }
                        *lens[i] += (size_t)n;
                        bufs[i][*lens[i]] = '\0';
                }
        }
        ASSERT_INT_EQ(waitpid(p->pid, &p->status, 0), p->pid);
        if (!WIFEXITED(p->status))
                udk_test_fail("the program died of signal %d; stderr: \"%s\"", WTERMSIG(p->status), p->err);
        return WEXITSTATUS(p->status);
}

static int program_run(struct program *p, const char *env, const char *const *args)
{
        program_start(p, env, args);
        return program_finish(p, WAIT_MS);
}

#define RUN(p, env, ...) program_run(p, env, (const char *const[]){ __VA_ARGS__, NULL })

/* Wait until a node named @name runs on udkd. */
static void wait_node_running(struct udk_client *c, const char *name)
{
        uint64_t deadline = now_ms() + WAIT_MS;

        for (;;) {
                struct udk_msg_object *objects;
                bool running = false;
                size_t n;

                ASSERT_OK(udk_client_list(c, 0, &objects, &n));
                for (size_t i = 0; i < n; i++) {
                        const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                        const struct udk_prop *state = udk_msg_object_prop(o, "state");

                        running |= strcmp(o->klass, "node") == 0 && strcmp(o->name, name) == 0 && state &&
                                   state->type == UDK_PROP_STRING && strcmp(state->s, "running") == 0;
                }
                free(objects);
                if (running)
                        return;
                if (now_ms() > deadline)
                        udk_test_fail("no node %s running within %d ms", name, WAIT_MS);
                usleep(10000);
        }
}

/* The file's frames; its peak and its zero crossings on channel 0. */
static sf_count_t read_sound(const char *path, int channels, float *ret_peak, int *ret_crossings)
{
        SF_INFO info = {};
        SNDFILE *f = sf_open(path, SFM_READ, &info);
        static float buf[RATE * 2];
        float peak = 0.0f;
        int crossings = 0;
        sf_count_t n;

        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(info.channels, channels);
        ASSERT_INT_EQ(info.samplerate, RATE);
        ASSERT_TRUE(info.frames <= RATE);
        n = sf_readf_float(f, buf, info.frames);
        ASSERT_INT_EQ(n, info.frames);
        for (sf_count_t i = 0; i < n; i++) {
                ASSERT_FLOAT_EQ(buf[i * 2], buf[i * 2 + 1]);
                peak = fmaxf(peak, fabsf(buf[i * 2]));
                if (i > 0 && (buf[i * 2] >= 0.0f) != (buf[(i - 1) * 2] >= 0.0f))
                        crossings++;
        }
        sf_close(f);
        *ret_peak = peak;
        *ret_crossings = crossings;
        return n;
}

static void test_examples(void)
{
        static struct program tone, pass, p;
        static struct proc u;
        struct udk_client *c = NULL;
        char wav[128], flac[128], want[256];
        int crossings;
        float peak;

        /* Usage: help, bad options, no udkd. */
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_TONE", "--help"), 0);
        ASSERT_STR_CONTAINS(p.out, "Usage: udk-tone [OPTION]...\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_PASSTHROUGH", "--help"), 0);
        ASSERT_STR_CONTAINS(p.out, "      --chain            take the input from the node before this one");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "--help"), 0);
        ASSERT_STR_CONTAINS(p.out, "Usage: udk-record [OPTION]... FILE\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_TONE", "--level", "3"), 2);
        ASSERT_STR_EQ(p.err,
                      "udk-tone: error: --level 3: out of range (-96..0 dB)\nTry 'udk-tone --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_PASSTHROUGH", "--gain", "loud"), 2);
        ASSERT_STR_EQ(p.err, "udk-passthrough: error: --gain 'loud' is not a number\n"
                             "Try 'udk-passthrough --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "--seconds", "1"), 2);
        ASSERT_STR_EQ(p.err, "udk-record: error: no FILE to record to\nTry 'udk-record --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "take.mp3"), 2);
        ASSERT_STR_EQ(p.err, "udk-record: error: take.mp3: the name must end in .wav or .flac\n"
                             "Try 'udk-record --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_TONE", "--socket", "/nonexistent/udkd.sock"), 1);
        ASSERT_STR_EQ(p.err, "udk-tone: error: udkd is not running (no socket at /nonexistent/udkd.sock)\n");

        udkd_start(&u);
        ASSERT_OK(udk_client_connect("test-clients", u.socket, &c));
        stats_client = c;
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_PASSTHROUGH", "--socket", u.socket, "--device", "nope"), 1);
        ASSERT_STR_EQ(p.err, "udk-passthrough: error: no object nope\n");

        /* A tone at -6 dB, recorded from the loopback: WAV, then FLAC. */
        snprintf(wav, sizeof(wav), "%s/tone.wav", u.dir);
        snprintf(flac, sizeof(flac), "%s/tone.flac", u.dir);
        program_start(&tone, "UDK_EXAMPLE_TONE",
                      (const char *const[]){ "--socket", u.socket, "--frequency", "1000", "--level", "-6",
                                             "--seconds", "2", NULL });
        wait_node_running(c, "tone");
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "--socket", u.socket, "--device", "loop", "--seconds",
                          "0.5", wav),
                      0);
        snprintf(want, sizeof(want), "%s: 24000 frames (0.500 s) of 2 channels at 48000 Hz\n", wav);
        ASSERT_STR_EQ(p.out, want);
        ASSERT_INT_EQ(read_sound(wav, 2, &peak, &crossings), 24000);
        ASSERT_NEAR(peak, 0.5011872, 1e-4);
        ASSERT_NEAR(crossings, 1000, 2);
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "--socket", u.socket, "--seconds", "0.2", flac), 0);
        ASSERT_INT_EQ(read_sound(flac, 2, &peak, &crossings), 9600);
        ASSERT_NEAR(peak, 0.5011872, 1e-4);

        /* A passthrough chained after the tone: only its output, 6 dB down, is heard. */
        program_start(&pass, "UDK_EXAMPLE_PASSTHROUGH",
                      (const char *const[]){ "--socket", u.socket, "--chain", "--gain", "-6", "--seconds",
                                             "1", NULL });
        wait_node_running(c, "passthrough-chain");
        usleep(20000); /* the loopback's delay */
        ASSERT_INT_EQ(RUN(&p, "UDK_EXAMPLE_RECORD", "--socket", u.socket, "--seconds", "0.2", wav), 0);
        ASSERT_INT_EQ(read_sound(wav, 2, &peak, &crossings), 9600);
        ASSERT_NEAR(peak, 0.5011872 * 0.5011872, 1e-4);

        /* (Without CAP_SYS_NICE they warn that they run at normal priority.) */
        ASSERT_INT_EQ(program_finish(&pass, WAIT_MS), 0);
        ASSERT_FALSE(strstr(pass.err, "error"));
        ASSERT_INT_EQ(program_finish(&tone, WAIT_MS), 0);
        ASSERT_FALSE(strstr(tone.err, "error"));
        unlink(wav);
        unlink(flac);
        udk_client_disconnect(c);
        udkd_stop(&u);
}

UDK_TEST_MAIN(test_connect_missing, test_connect_refused, test_connect_version, test_server_bad_message,
              test_server_wrong_way, test_server_timeout, test_server_hangup, test_sequences,
              test_params_and_placement, test_registry, test_dataplane, test_own_chain, test_server_gone,
              test_rt_thread_rules, test_chain_of_four, test_dead_and_late, test_join_leave,
              test_rates, test_move, test_examples)
