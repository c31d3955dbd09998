/* SPDX-License-Identifier: MIT */
/*
 * The control plane on the wire: a real udkd, raw SOCK_SEQPACKET sessions
 * built from <udk/protocol.h>.  The handshake, the registry, controls,
 * events, statistics, and every kind of malformed message closing only its
 * own session; a flood throttled while another session is served.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <udk/protocol.h>
#include <udk/util.h>

#include "udk-test-udkd.h"
#include "udk-test.h"

static const char config[] = "[device]\n"
                             "name = studio\n"
                             "backend = virtual\n"
                             "rate = 48000\n"
                             "period = 64\n"
                             "channels = 2\n"
                             "source = sine\n"
                             "level = -12\n";

union msg {
        struct udk_msg_header h;
        struct udk_msg_reply reply;
        struct udk_msg_welcome welcome;
        struct udk_msg_object object;
        struct udk_msg_stats_device stats;
        struct udk_msg_closed closed;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

struct conn {
        int fd;
        uint32_t sequence;
        udk_object_id session;
};

static int raw_connect(const struct proc *p)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        ASSERT_OK(fd);
        udk_strlcpy(sa.sun_path, p->socket, sizeof(sa.sun_path));
        ASSERT_OK(connect(fd, (const struct sockaddr *)&sa, sizeof(sa)));
        return fd;
}

/* One message within 5 s, checked as a client checks it; 0 on hang-up. */
static ssize_t recv_msg(int fd, union msg *m)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds;
        char err[256];
        ssize_t n;

        ASSERT_INT_EQ(poll(&pfd, 1, 5000), 1);
        n = udk_msg_recv(fd, m, fds, &n_fds, 0);
        if (n == -ECONNRESET)
                return 0;
        ASSERT_OK(n);
        if (n == 0)
                return 0;
        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
        if (udk_msg_check(m, (size_t)n, n_fds, false, err, sizeof(err)) < 0)
                udk_test_fail("udkd sent a bad message: %s", err);
        return n;
}

static void send_raw(int fd, const void *msg, size_t len)
{
        ASSERT_OK(udk_msg_send(fd, msg, len, NULL, 0));
}

/* Receive until the REPLY of @sequence; counts the data messages before it. */
static struct udk_msg_reply expect_reply(struct conn *c, uint32_t sequence, union msg *last_data,
                                         uint32_t *ret_n_data)
{
        union msg m;
        uint32_t n_data = 0;

        for (;;) {
                ASSERT_INT_GT(recv_msg(c->fd, &m), 0);
                if (m.h.sequence == 0)
                        continue; /* an event */
                ASSERT_UINT_EQ(m.h.sequence, sequence);
                if (m.h.type == UDK_MSG_REPLY)
                        break;
                n_data++;
                if (last_data)
                        memcpy(last_data, &m, m.h.size);
        }
        if (ret_n_data)
                *ret_n_data = n_data;
        ASSERT_UINT_EQ(m.reply.count, n_data);
        return m.reply;
}

static struct conn hello(const struct proc *p, const char *name)
{
        struct conn c = { .fd = raw_connect(p) };
        struct udk_msg_hello m = { .version = UDK_PROTOCOL_VERSION };
        union msg welcome;
        struct udk_msg_reply r;

        udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m), ++c.sequence);
        udk_strlcpy(m.name, name, sizeof(m.name));
        send_raw(c.fd, &m, sizeof(m));
        r = expect_reply(&c, c.sequence, &welcome, NULL);
        ASSERT_INT_EQ(r.status, 0);
        ASSERT_UINT_EQ(welcome.h.type, UDK_MSG_WELCOME);
        ASSERT_UINT_EQ(welcome.welcome.version, UDK_PROTOCOL_VERSION);
        ASSERT_STR_CONTAINS(welcome.welcome.server, "udkd ");
        c.session = welcome.welcome.session;
        ASSERT_UINT_GE(c.session, 1);
        return c;
}

static struct udk_msg_reply request_ref(struct conn *c, uint32_t type, udk_object_id id, union msg *data,
                                        uint32_t *n_data)
{
        struct udk_msg_object_ref m = { .id = id };

        udk_msg_init(&m.h, type, sizeof(m), ++c->sequence);
        send_raw(c->fd, &m, sizeof(m));
        return expect_reply(c, c->sequence, data, n_data);
}

static void ping_ok(struct conn *c)
{
        struct udk_msg_header h;

        udk_msg_init(&h, UDK_MSG_PING, sizeof(h), ++c->sequence);
        send_raw(c->fd, &h, sizeof(h));
        ASSERT_INT_EQ(expect_reply(c, c->sequence, NULL, NULL).status, 0);
}

/* The whole registry, as a list of objects (at most @max). */
static size_t list_all(struct conn *c, union msg *objects, size_t max)
{
        struct udk_msg_object_ref m = { .id = 0 };
        size_t n = 0;
        union msg r;

        udk_msg_init(&m.h, UDK_MSG_LIST, sizeof(m), ++c->sequence);
        send_raw(c->fd, &m, sizeof(m));
        for (;;) {
                ASSERT_INT_GT(recv_msg(c->fd, &r), 0);
                if (r.h.type == UDK_MSG_REPLY)
                        break;
                ASSERT_UINT_EQ(r.h.type, UDK_MSG_OBJECT);
                ASSERT_TRUE(n < max);
                memcpy(&objects[n++], &r, r.h.size);
        }
        ASSERT_INT_EQ(r.reply.status, 0);
        ASSERT_UINT_EQ(r.reply.count, n);
        return n;
}

static const struct udk_msg_object *find_object(const union msg *objects, size_t n, const char *klass,
                                                const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(objects[i].object.klass, klass) == 0 && strcmp(objects[i].object.name, name) == 0)
                        return &objects[i].object;
        udk_test_fail("no %s '%s' in the registry", klass, name);
}

static void start(struct proc *p)
{
        proc_start_server(p, config, NULL);
}

static void test_hello_and_version(void)
{
        struct proc p;
        struct udk_msg_hello m = { .version = UDK_PROTOCOL_VERSION + 1 };
        union msg r;
        struct conn c;
        struct stat st;

        start(&p);
        ASSERT_OK(stat(p.socket, &st));
        ASSERT_TRUE(S_ISSOCK(st.st_mode));
        ASSERT_UINT_EQ(st.st_mode & 0777, 0660);

        c = hello(&p, "tester");
        ping_ok(&c);

        /* A future version is refused with a sentence, then the session closes. */
        c = (struct conn){ .fd = raw_connect(&p) };
        udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m), 1);
        send_raw(c.fd, &m, sizeof(m));
        ASSERT_INT_GT(recv_msg(c.fd, &r), 0);
        ASSERT_UINT_EQ(r.h.type, UDK_MSG_REPLY);
        ASSERT_INT_EQ(r.reply.status, -EPROTO);
        ASSERT_STR_CONTAINS(r.reply.message, "protocol version 2: udkd");
        ASSERT_INT_GT(recv_msg(c.fd, &r), 0);
        ASSERT_UINT_EQ(r.h.type, UDK_MSG_EVENT_CLOSED);
        ASSERT_STR_EQ(r.closed.reason, "protocol version mismatch");
        ASSERT_INT_EQ(recv_msg(c.fd, &r), 0);
        close(c.fd);
        proc_stop_server(&p);
}

static void test_registry_tree(void)
{
        static union msg objects[64];
        const struct udk_msg_object *root, *backend, *device, *in, *level, *session;
        const struct udk_prop *prop;
        struct proc p;
        struct conn c;
        size_t n;

        start(&p);
        c = hello(&p, "lister");
        n = list_all(&c, objects, UDK_ELEMENTSOF(objects));
        root = &objects[0].object;
        ASSERT_STR_EQ(root->klass, "root");
        ASSERT_STR_EQ(root->name, "udkd");
        ASSERT_UINT_EQ(root->parent, 0);
        ASSERT_STR_EQ(udk_msg_object_prop(root, "socket")->s, p.socket);
        ASSERT_INT_EQ(udk_msg_object_prop(root, "pid")->i, p.pid);

        backend = find_object(objects, n, "backend", "virtual");
        ASSERT_UINT_EQ(backend->parent, root->id);
        device = find_object(objects, n, "device", "studio");
        ASSERT_UINT_EQ(device->parent, backend->id);
        ASSERT_INT_EQ(udk_msg_object_prop(device, "rate")->i, 48000);
        ASSERT_INT_EQ(udk_msg_object_prop(device, "period")->i, 64);
        ASSERT_STR_EQ(udk_msg_object_prop(device, "uid")->s, "udk:studio");
        in = find_object(objects, n, "stream", "input");
        ASSERT_UINT_EQ(in->parent, device->id);
        ASSERT_INT_EQ(udk_msg_object_prop(in, "channels")->i, 2);
        level = find_object(objects, n, "control", "level");
        ASSERT_UINT_EQ(level->parent, device->id);
        prop = udk_msg_object_prop(level, "value");
        ASSERT_STR_EQ(prop->s, "-12.0 dB");
        ASSERT_UINT_EQ(prop->flags, UDK_PROP_SETTABLE);
        ASSERT_NEAR(udk_msg_object_prop(level, "db")->d, -12.0, 1e-6);
        session = find_object(objects, n, "client", "lister");
        ASSERT_UINT_EQ(session->id, c.session);
        ASSERT_INT_EQ(udk_msg_object_prop(session, "pid")->i, getpid());
        ASSERT_INT_EQ(udk_msg_object_prop(session, "uid")->i, getuid());

        /* Parents come before their children. */
        for (size_t i = 1; i < n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen = seen || objects[j].object.id == objects[i].object.parent;
                ASSERT_TRUE(seen);
        }

        /* A subtree, one object, and one that does not exist. */
        {
                union msg one;
                uint32_t n_data;
                size_t n_nubs = 0;
                struct udk_msg_reply r = request_ref(&c, UDK_MSG_LIST, device->id, NULL, &n_data);

                for (size_t i = 0; i < n; i++)
                        n_nubs += strcmp(objects[i].object.klass, "nub") == 0;
                ASSERT_UINT_EQ(n_nubs, 5); /* udkd's root nubs, one a bus: test, usb, pci, hid, serial */
                ASSERT_INT_EQ(r.status, 0);
                ASSERT_UINT_EQ(n_data, n - 3 - n_nubs); /* all but root, backend, the session and the root nubs */
                r = request_ref(&c, UDK_MSG_INFO, level->id, &one, &n_data);
                ASSERT_INT_EQ(r.status, 0);
                ASSERT_UINT_EQ(n_data, 1);
                ASSERT_STR_EQ(one.object.name, "level");
                r = request_ref(&c, UDK_MSG_INFO, 999999, NULL, &n_data);
                ASSERT_INT_EQ(r.status, -ENOENT);
                ASSERT_STR_EQ(r.message, "no object 999999");
        }
        proc_stop_server(&p);
}

static struct udk_msg_reply set_control(struct conn *c, udk_object_id id, const char *control, const char *value)
{
        struct udk_msg_set_control m = { .id = id };

        udk_msg_init(&m.h, UDK_MSG_SET_CONTROL, sizeof(m), ++c->sequence);
        udk_strlcpy(m.control, control, sizeof(m.control));
        udk_strlcpy(m.value, value, sizeof(m.value));
        send_raw(c->fd, &m, sizeof(m));
        return expect_reply(c, c->sequence, NULL, NULL);
}

static void test_controls_and_events(void)
{
        static union msg objects[64];
        const struct udk_msg_object *device, *level, *mute;
        struct udk_msg_subscribe sub = { .mask = UDK_SUBSCRIBE_REGISTRY };
        struct udk_msg_reply r;
        struct proc p;
        struct conn c, watcher;
        union msg m, info;
        size_t n;

        start(&p);
        c = hello(&p, "setter");
        watcher = hello(&p, "watcher");
        udk_msg_init(&sub.h, UDK_MSG_SUBSCRIBE, sizeof(sub), ++watcher.sequence);
        send_raw(watcher.fd, &sub, sizeof(sub));
        ASSERT_INT_EQ(expect_reply(&watcher, watcher.sequence, NULL, NULL).status, 0);

        n = list_all(&c, objects, UDK_ELEMENTSOF(objects));
        device = find_object(objects, n, "device", "studio");
        level = find_object(objects, n, "control", "level");
        mute = find_object(objects, n, "control", "mute");

        r = set_control(&c, device->id, "level", "-6");
        ASSERT_INT_EQ(r.status, 0);
        ASSERT_INT_EQ(request_ref(&c, UDK_MSG_INFO, level->id, &info, NULL).status, 0);
        ASSERT_STR_EQ(udk_msg_object_prop(&info.object, "value")->s, "-6.0 dB");

        /* The watcher hears of it. */
        ASSERT_INT_GT(recv_msg(watcher.fd, &m), 0);
        ASSERT_UINT_EQ(m.h.type, UDK_MSG_EVENT_CHANGED);
        ASSERT_UINT_EQ(m.object.id, level->id);
        ASSERT_STR_EQ(udk_msg_object_prop(&m.object, "value")->s, "-6.0 dB");

        /* The control object itself, with no name. */
        ASSERT_INT_EQ(set_control(&c, mute->id, "", "on").status, 0);
        ASSERT_INT_EQ(request_ref(&c, UDK_MSG_INFO, mute->id, &info, NULL).status, 0);
        ASSERT_STR_EQ(udk_msg_object_prop(&info.object, "value")->s, "on");

        r = set_control(&c, device->id, "level", "-200");
        ASSERT_INT_EQ(r.status, -ERANGE);
        ASSERT_STR_EQ(r.message, "level: -200 is out of range (a level in dB, -96..0)");
        r = set_control(&c, device->id, "level", "loud");
        ASSERT_INT_EQ(r.status, -EINVAL);
        ASSERT_STR_CONTAINS(r.message, "level: 'loud' is not a value it takes");
        r = set_control(&c, device->id, "volume", "-6");
        ASSERT_INT_EQ(r.status, -ENOENT);
        ASSERT_STR_EQ(r.message, "device studio has no control 'volume'");
        r = set_control(&c, 999999, "level", "-6");
        ASSERT_INT_EQ(r.status, -ENOENT);
        ASSERT_STR_EQ(r.message, "no object 999999");
        r = set_control(&c, c.session, "level", "-6");
        ASSERT_INT_EQ(r.status, -ENOENT);
        ASSERT_STR_CONTAINS(r.message, "has no controls");

        /* The watcher's own session going away is an event for the other. */
        close(c.fd);
        for (;;) {
                ASSERT_INT_GT(recv_msg(watcher.fd, &m), 0);
                if (m.h.type == UDK_MSG_EVENT_REMOVED)
                        break;
        }
        ASSERT_UINT_EQ(((struct udk_msg_object_ref *)&m)->id, c.session);
        proc_stop_server(&p);
}

static void test_stats(void)
{
        static union msg objects[64];
        const struct udk_msg_object *device;
        struct udk_msg_reply r;
        union msg data;
        uint32_t n_data;
        struct proc p;
        struct conn c;
        size_t n;

        start(&p);
        c = hello(&p, "stats");
        n = list_all(&c, objects, UDK_ELEMENTSOF(objects));
        device = find_object(objects, n, "device", "studio");
        usleep(100000);
        r = request_ref(&c, UDK_MSG_STATS, device->id, &data, &n_data);
        ASSERT_INT_EQ(r.status, 0);
        ASSERT_UINT_EQ(n_data, 1); /* no nodes */
        ASSERT_UINT_EQ(data.h.type, UDK_MSG_STATS_DEVICE);
        ASSERT_UINT_EQ(data.stats.device, device->id);
        ASSERT_UINT_EQ(data.stats.rate, 48000);
        ASSERT_UINT_EQ(data.stats.period, 64);
        ASSERT_UINT_EQ(data.stats.n_nodes, 0);
        ASSERT_UINT_GE(data.stats.cycles, 10);
        r = request_ref(&c, UDK_MSG_STATS, c.session, NULL, NULL);
        ASSERT_INT_EQ(r.status, -ENOENT);
        ASSERT_STR_CONTAINS(r.message, "no device");
        proc_stop_server(&p);
}

/* Each kind of bad message: its session is closed with the reason logged; another lives on. */
struct bad {
        const char *what;
        const char *logged;
        size_t len;
        bool hello_first;
        bool with_fd;
        void (*make)(uint8_t *buf, size_t *len);
};

static void make_short(uint8_t *buf, size_t *len)
{
        memset(buf, 0, 8);
        *len = 8;
}

static void make_size_mismatch(uint8_t *buf, size_t *len)
{
        struct udk_msg_header *h = (void *)buf;
        udk_msg_init(h, UDK_MSG_PING, 64, 2);
        *len = sizeof(*h);
}

static void make_unknown_type(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, 4242, sizeof(struct udk_msg_header), 2);
        *len = sizeof(struct udk_msg_header);
}

static void make_wrong_way(uint8_t *buf, size_t *len)
{
        struct udk_msg_reply *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_REPLY, sizeof(*m), 2);
        *len = sizeof(*m);
}

static void make_sequence_zero(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, UDK_MSG_PING, sizeof(struct udk_msg_header), 0);
        *len = sizeof(struct udk_msg_header);
}

static void make_out_of_order(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, UDK_MSG_PING, sizeof(struct udk_msg_header), 1); /* hello had 1 */
        *len = sizeof(struct udk_msg_header);
}

static void make_before_hello(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, UDK_MSG_PING, sizeof(struct udk_msg_header), 1);
        *len = sizeof(struct udk_msg_header);
}

static void make_second_hello(uint8_t *buf, size_t *len)
{
        struct udk_msg_hello *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_HELLO, sizeof(*m), 2);
        m->version = UDK_PROTOCOL_VERSION;
        *len = sizeof(*m);
}

static void make_no_nul(uint8_t *buf, size_t *len)
{
        struct udk_msg_set_control *m = (void *)buf;
        memset(m, 'x', sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_SET_CONTROL, sizeof(*m), 2);
        m->id = 1;
        m->reserved = 0;
        *len = sizeof(*m);
}

static void make_oversized(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, UDK_MSG_PING, UDK_MSG_SIZE_MAX + 100, 2);
        *len = UDK_MSG_SIZE_MAX + 100;
}

static void make_reserved(uint8_t *buf, size_t *len)
{
        struct udk_msg_header *h = (void *)buf;
        udk_msg_init(h, UDK_MSG_PING, sizeof(*h), 2);
        h->reserved = 7;
        *len = sizeof(*h);
}

static void make_ping(uint8_t *buf, size_t *len)
{
        udk_msg_init((void *)buf, UDK_MSG_PING, sizeof(struct udk_msg_header), 2);
        *len = sizeof(struct udk_msg_header);
}

static void make_peer_ready_slot(uint8_t *buf, size_t *len)
{
        struct udk_msg_peer *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_PEER_READY, sizeof(*m), 2);
        m->slot = 99;
        *len = sizeof(*m);
}

/* A CALL that says 8 bytes of structure and carries none. */
static void make_call_size(uint8_t *buf, size_t *len)
{
        struct udk_msg_call *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_CALL, sizeof(*m), 2);
        m->driver = 1;
        m->struct_size = 8;
        *len = sizeof(*m);
}

static void make_call_scalars(uint8_t *buf, size_t *len)
{
        struct udk_msg_call *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_CALL, sizeof(*m), 2);
        m->driver = 1;
        m->n_scalars = UDK_CALL_SCALARS_MAX + 1;
        *len = sizeof(*m);
}

/* An answer's message from a client. */
static void make_text_from_client(uint8_t *buf, size_t *len)
{
        struct udk_msg_text *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_TEXT, sizeof(*m), 2);
        *len = sizeof(*m);
}

static void make_driver_control_short(uint8_t *buf, size_t *len)
{
        struct udk_msg_driver_control *m = (void *)buf;
        memset(m, 0, sizeof(*m));
        udk_msg_init(&m->h, UDK_MSG_DRIVER_CONTROL, 20, 2);
        m->action = UDK_DRIVER_RESTART;
        *len = 20;
}

static void test_malformed_closes_only_its_session(void)
{
        static const struct bad bads[] = {
                { "truncated", "shorter than its 16-byte header", 0, true, false, make_short },
                { "size mismatch", "header says 64 bytes, packet has 16", 0, true, false, make_size_mismatch },
                { "unknown type", "unknown message type 4242", 0, true, false, make_unknown_type },
                { "wrong way", "reply message sent the wrong way", 0, true, false, make_wrong_way },
                { "sequence 0", "ping message: sequence 0", 0, true, false, make_sequence_zero },
                { "out of order", "out of order: sequence 1 after 1", 0, true, false, make_out_of_order },
                { "before hello", "ping message before hello", 0, false, false, make_before_hello },
                { "second hello", "a second hello", 0, true, false, make_second_hello },
                { "no NUL", "set-control message: control without its NUL", 0, true, false, make_no_nul },
                { "oversized", "a message over the size limit", 0, true, false, make_oversized },
                { "reserved", "reserved header field is 7", 0, true, false, make_reserved },
                { "descriptor", "ping message: 1 descriptors attached, expected 0", 0, true, true, make_ping },
                { "peer-ready slot", "peer-ready for a slot beyond the graph's 64", 0, true, false,
                  make_peer_ready_slot },
                { "call size", "call message: 168 bytes for 8 bytes of structure, expected 176", 0, true, false,
                  make_call_size },
                { "call scalars", "call message: 17 scalars, at most 16", 0, true, false, make_call_scalars },
                { "text from a client", "text message sent the wrong way", 0, true, false,
                  make_text_from_client },
                { "driver-control size", "driver-control message: 20 bytes, expected 24", 0, true, false,
                  make_driver_control_short },
        };
        static uint8_t buf[UDK_MSG_SIZE_MAX + 200];
        struct proc p;
        struct conn other;

        start(&p);
        other = hello(&p, "bystander");
        for (size_t i = 0; i < UDK_ELEMENTSOF(bads); i++) {
                const struct bad *b = &bads[i];
                struct conn c = b->hello_first ? hello(&p, "bad") : (struct conn){ .fd = raw_connect(&p) };
                union msg m;
                size_t len;
                int fd = -1;

                b->make(buf, &len);
                if (b->with_fd)
                        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                ASSERT_OK(udk_msg_send(c.fd, buf, len, b->with_fd ? &fd : NULL, b->with_fd ? 1 : 0));
                if (fd >= 0)
                        close(fd);
                /* udkd's last word says why, to the client as to its log. */
                ASSERT_INT_GT(recv_msg(c.fd, &m), 0);
                if (m.h.type != UDK_MSG_EVENT_CLOSED)
                        udk_test_fail("%s: the session got a %s message instead of being closed", b->what,
                                      udk_msg_type_name(m.h.type));
                ASSERT_INT_EQ(m.closed.status, -ECONNABORTED);
                ASSERT_STR_CONTAINS(m.closed.reason, b->logged);
                if (recv_msg(c.fd, &m) != 0)
                        udk_test_fail("%s: the session got a %s message after its closed event", b->what,
                                      udk_msg_type_name(m.h.type));
                close(c.fd);
                proc_wait_stderr(&p, b->logged, 5000);
                ping_ok(&other);
        }
        proc_stop_server(&p);
}

/* One message for udk_msg_check(): sized, numbered, zeroed elsewhere. */
static void *msg_init(void *buf, uint32_t type, size_t len)
{
        memset(buf, 0, UDK_MSG_SIZE_MAX);
        udk_msg_init(buf, type, (uint32_t)len, 7);
        return buf;
}

static void expect_check(const void *buf, size_t len, bool server_side, const char *expected)
{
        const struct udk_msg_header *h = buf;
        char err[256] = "";
        int r = udk_msg_check(buf, len, 0, server_side, err, sizeof(err));

        if (!expected) {
                if (r < 0)
                        udk_test_fail("a good %s message of %zu bytes failed its check: %s",
                                      udk_msg_type_name(h->type), len, err);
                return;
        }
        ASSERT_INT_EQ(r, -EBADMSG);
        ASSERT_STR_EQ(err, expected);
}

/* The drivers' messages as udk_msg_check() takes them: sizes, counts, strings, directions. */
static void test_driver_messages_checked(void)
{
        static union msg u;
        struct udk_msg_call *call = (void *)&u;
        struct udk_msg_call_result *result = (void *)&u;
        struct udk_msg_text *text = (void *)&u;
        struct udk_msg_match_candidate *cand = (void *)&u;
        struct udk_msg_driver_control *control = (void *)&u;
        size_t len;

        /* The layouts docs/protocol.md gives. */
        ASSERT_UINT_EQ(sizeof(struct udk_msg_call), 168);
        ASSERT_UINT_EQ(sizeof(struct udk_msg_call_result), 160);
        ASSERT_UINT_EQ(sizeof(struct udk_msg_driver_control), 24);
        ASSERT_UINT_EQ(sizeof(struct udk_msg_text), 528);
        ASSERT_UINT_EQ(sizeof(struct udk_msg_match_candidate), 304);
        ASSERT_UINT_EQ(udk_msg_call_size(UDK_CALL_STRUCT_MAX), 2216);

        /* CALL: a good one, with scalars and a structure. */
        len = udk_msg_call_size(8);
        msg_init(&u, UDK_MSG_CALL, len);
        call->n_scalars = 3;
        call->struct_size = 8;
        call->struct_out_max = UDK_CALL_STRUCT_MAX;
        expect_check(&u, len, true, NULL);
        expect_check(&u, len, false, "call message sent the wrong way");
        /* Its size is exactly its structure's. */
        expect_check(msg_init(&u, UDK_MSG_CALL, 100), 100, true, "call message: 100 bytes, at least 168 expected");
        len = udk_msg_call_size(8);
        msg_init(&u, UDK_MSG_CALL, len);
        call->struct_size = 4;
        expect_check(&u, len, true, "call message: 176 bytes for 4 bytes of structure, expected 172");
        call->struct_size = 16;
        expect_check(&u, len, true, "call message: 176 bytes for 16 bytes of structure, expected 184");
        /* Counts beyond their arrays. */
        call->struct_size = 8;
        call->n_scalars = UDK_CALL_SCALARS_MAX + 1;
        expect_check(&u, len, true, "call message: 17 scalars, at most 16");
        call->n_scalars = UINT32_MAX;
        expect_check(&u, len, true, "call message: 4294967295 scalars, at most 16");
        call->n_scalars = UDK_CALL_SCALARS_MAX;
        call->struct_out_max = UDK_CALL_STRUCT_MAX + 1;
        expect_check(&u, len, true, "call message: 2049 bytes of structure out asked, at most 2048");
        len = udk_msg_call_size(UDK_CALL_STRUCT_MAX + 1);
        msg_init(&u, UDK_MSG_CALL, len);
        call->struct_size = UDK_CALL_STRUCT_MAX + 1;
        expect_check(&u, len, true, "call message: 2049 bytes of structure, at most 2048");
        len = udk_msg_call_size(UDK_CALL_STRUCT_MAX);
        msg_init(&u, UDK_MSG_CALL, len);
        call->struct_size = UDK_CALL_STRUCT_MAX;
        call->n_scalars = UDK_CALL_SCALARS_MAX;
        expect_check(&u, len, true, NULL);

        /* CALL_RESULT: udkd's answer. */
        len = udk_msg_call_result_size(4);
        msg_init(&u, UDK_MSG_CALL_RESULT, len);
        result->status = -EINVAL;
        result->n_scalars = 2;
        result->struct_size = 4;
        expect_check(&u, len, false, NULL);
        expect_check(&u, len, true, "call-result message sent the wrong way");
        result->reserved = 1;
        expect_check(&u, len, false, "call-result message: reserved field is 1, not 0");
        result->reserved = 0;
        result->n_scalars = 20;
        expect_check(&u, len, false, "call-result message: 20 scalars, at most 16");
        result->n_scalars = 0;
        result->struct_size = 0;
        expect_check(&u, len, false, "call-result message: 164 bytes for 0 bytes of structure, expected 160");
        result->struct_size = 5000;
        expect_check(&u, len, false, "call-result message: 5000 bytes of structure, at most 2048");
        expect_check(msg_init(&u, UDK_MSG_CALL_RESULT, 40), 40, false,
                     "call-result message: 40 bytes, at least 160 expected");

        /* DRIVER_CONTROL, MATCH and PERSONALITIES: fixed sizes. */
        msg_init(&u, UDK_MSG_DRIVER_CONTROL, sizeof(*control));
        control->driver = 5;
        control->action = UDK_DRIVER_STOP;
        expect_check(&u, sizeof(*control), true, NULL);
        expect_check(&u, sizeof(*control), false, "driver-control message sent the wrong way");
        expect_check(msg_init(&u, UDK_MSG_DRIVER_CONTROL, 32), 32, true, "driver-control message: 32 bytes, expected 24");
        expect_check(msg_init(&u, UDK_MSG_MATCH, sizeof(struct udk_msg_object_ref)), sizeof(struct udk_msg_object_ref),
                     true, NULL);
        expect_check(msg_init(&u, UDK_MSG_MATCH, 16), 16, true, "match message: 16 bytes, expected 24");
        expect_check(msg_init(&u, UDK_MSG_PERSONALITIES, 16), 16, true, NULL);
        expect_check(msg_init(&u, UDK_MSG_PERSONALITIES, 24), 24, true, "personalities message: 24 bytes, expected 16");

        /* TEXT: one line, its NUL within its array. */
        msg_init(&u, UDK_MSG_TEXT, sizeof(*text));
        udk_strlcpy(text->text, "/x/broken.conf:4: unknown key 'colour' in [personality]", sizeof(text->text));
        expect_check(&u, sizeof(*text), false, NULL);
        expect_check(&u, sizeof(*text), true, "text message sent the wrong way");
        memset(text->text, 'x', sizeof(text->text));
        expect_check(&u, sizeof(*text), false, "text message: text without its NUL");
        expect_check(msg_init(&u, UDK_MSG_TEXT, 100), 100, false, "text message: 100 bytes, expected 528");

        /* MATCH_CANDIDATE: its name and its sentence. */
        msg_init(&u, UDK_MSG_MATCH_CANDIDATE, sizeof(*cand));
        udk_strlcpy(cand->name, "vendor-product", sizeof(cand->name));
        udk_strlcpy(cand->why, "won over 'vendor-class': tier 3 above tier 2", sizeof(cand->why));
        cand->verdict = UDK_MATCH_VERDICT_WON;
        cand->tier = 3;
        cand->probe_score = -5;
        expect_check(&u, sizeof(*cand), false, NULL);
        expect_check(&u, sizeof(*cand), true, "match-candidate message sent the wrong way");
        memset(cand->why, 'w', sizeof(cand->why));
        expect_check(&u, sizeof(*cand), false, "match-candidate message: why without its NUL");
        memset(cand->name, 'n', sizeof(cand->name));
        expect_check(&u, sizeof(*cand), false, "match-candidate message: name without its NUL");
        cand->why[0] = '\0';
        expect_check(&u, sizeof(*cand), false, "match-candidate message: name without its NUL");

        /* The names in logs, and udk's own error. */
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_CALL), "call");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_CALL_RESULT), "call-result");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_DRIVER_CONTROL), "driver-control");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_MATCH), "match");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_MATCH_CANDIDATE), "match-candidate");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_PERSONALITIES), "personalities");
        ASSERT_STR_EQ(udk_msg_type_name(UDK_MSG_TEXT), "text");
        ASSERT_STR_EQ(udk_strerror(-UDK_E_DRIVER_TERMINATED), "the driver terminated before it answered");
        ASSERT_STR_EQ(udk_strerror(UDK_E_DRIVER_TERMINATED), "the driver terminated before it answered");
        ASSERT_STR_EQ(udk_strerror(-ENOENT), strerror(ENOENT));
}

static void test_flood_is_throttled(void)
{
        enum { N = 3000 };
        struct proc p;
        struct conn flood, other;
        uint32_t sent = 0, replies = 0;
        union msg m;

        start(&p);
        flood = hello(&p, "flood");
        other = hello(&p, "other");
        /* Send pings as fast as the socket takes them, reading replies as they come. */
        while (replies < N) {
                struct pollfd pfd = { .fd = flood.fd, .events = POLLIN | (sent < N ? POLLOUT : 0) };
                ASSERT_INT_EQ(poll(&pfd, 1, 5000), 1);
                if ((pfd.revents & POLLOUT) && sent < N) {
                        struct udk_msg_header h;
                        udk_msg_init(&h, UDK_MSG_PING, sizeof(h), ++flood.sequence);
                        ASSERT_OK(udk_msg_send(flood.fd, &h, sizeof(h), NULL, 0));
                        sent++;
                        if (sent % 500 == 0)
                                ping_ok(&other); /* served meanwhile */
                }
                if (pfd.revents & POLLIN) {
                        ASSERT_INT_GT(recv_msg(flood.fd, &m), 0);
                        ASSERT_UINT_EQ(m.h.type, UDK_MSG_REPLY);
                        ASSERT_UINT_EQ(m.h.sequence, 1 + 1 + replies); /* hello was 1 */
                        replies++;
                }
        }
        ASSERT_UINT_EQ(replies, N); /* throttled, nothing dropped */
        proc_wait_stderr(&p, "more than 2000 requests a second, throttled", 5000);
        ping_ok(&other);
        proc_stop_server(&p);
}

static void raw_open(struct conn *c, udk_object_id device)
{
        struct udk_msg_open m = { .device = device, .input_channels = 1, .output_channels = 1,
                                  .gain_bits = udk_float_to_bits(1.0f) };
        union msg opened;
        uint32_t n_data;

        udk_msg_init(&m.h, UDK_MSG_OPEN, sizeof(m), ++c->sequence);
        udk_strlcpy(m.name, "raw", sizeof(m.name));
        send_raw(c->fd, &m, sizeof(m));
        ASSERT_INT_EQ(expect_reply(c, c->sequence, &opened, &n_data).status, 0);
        ASSERT_UINT_EQ(n_data, 1);
        ASSERT_UINT_EQ(opened.h.type, UDK_MSG_OPENED);
}

/* A session that never maps a new peer holds that peer back: after 2 s it is closed, and the peer runs. */
static void test_peer_not_mapped_closes_the_laggard(void)
{
        static union msg objects[64];
        const struct udk_msg_object *device;
        struct proc p;
        struct conn a, b;
        union msg m;
        size_t n;

        start(&p);
        a = hello(&p, "never-maps");
        b = hello(&p, "newcomer");
        n = list_all(&a, objects, UDK_ELEMENTSOF(objects));
        device = find_object(objects, n, "device", "studio");
        raw_open(&a, device->id);
        raw_open(&b, device->id); /* a is told of b's node (PEER_ADDED) and never answers */
        proc_wait_stderr(&p, "(never-maps, pid", 5000);
        proc_wait_stderr(&p, "closed: did not map its peers within 2 s", 5000);
        for (;;) {
                ssize_t r = recv_msg(a.fd, &m);
                if (r == 0)
                        break; /* closed */
        }
        close(a.fd);
        ping_ok(&b); /* the other session lives on */
        close(b.fd);
        proc_stop_server(&p);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs(text, f);
        ASSERT_OK(fclose(f));
}

/* udkd loads the drivers folder: the personalities are in the registry, a broken file is named. */
static void test_personalities_in_registry(void)
{
        static union msg objects[64];
        const struct udk_msg_object *root, *acme;
        char dir[64], arg[80], broken[128];
        struct proc p, q;
        struct conn c;
        size_t n;

        snprintf(dir, sizeof(dir), "/tmp/udk-test-drivers-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(dir));
        write_file(dir, "acme.so", "");
        write_file(dir, "acme.conf",
                   "[personality]\n"
                   "name = acme-usb-audio\n"
                   "family = usb\n"
                   "match.vendor = 0x1234\n"
                   "match.product = 0x5678\n"
                   "driver = acme.so\n"
                   "class = AcmeAudio\n");
        write_file(dir, "broken.conf", "[personality]\nname = b\nfamily = usb\ncolour = blue\n");
        snprintf(arg, sizeof(arg), "%s", dir);
        proc_start_server(&p, config, (const char *const[]){ "--drivers", arg, NULL });
        snprintf(broken, sizeof(broken), "%s/broken.conf:4: unknown key 'colour' in [personality]", dir);
        proc_wait_stderr(&p, broken, 5000);
        proc_wait_stderr(&p, "1 personality loaded, 1 file with errors", 5000);

        c = hello(&p, "lister");
        n = list_all(&c, objects, UDK_ELEMENTSOF(objects));
        root = &objects[0].object;
        ASSERT_INT_EQ(udk_msg_object_prop(root, "personalities")->i, 1);
        ASSERT_INT_EQ(udk_msg_object_prop(root, "personality_errors")->i, 1);
        acme = find_object(objects, n, "personality", "acme-usb-audio");
        ASSERT_UINT_EQ(acme->parent, root->id);
        ASSERT_STR_EQ(udk_msg_object_prop(acme, "family")->s, "usb");
        ASSERT_STR_EQ(udk_msg_object_prop(acme, "class")->s, "AcmeAudio");
        ASSERT_INT_EQ(udk_msg_object_prop(acme, "rules")->i, 2);
        ASSERT_INT_EQ(udk_msg_object_prop(acme, "line")->i, 1);
        ASSERT_STR_EQ(udk_msg_object_prop(acme, "restart")->s, "on-failure");
        ASSERT_STR_EQ(udk_msg_object_prop(acme, "restart_limit")->s, "5/1800s");
        close(c.fd);
        proc_stop_server(&p);

        /* A folder named with --drivers must exist. */
        snprintf(arg, sizeof(arg), "%s/nowhere", dir);
        ASSERT_INT_EQ(RUN_UDKD(&q, 10000, "--drivers", arg, "--duration", "1"), 1);
        ASSERT_STR_CONTAINS(q.err, "drivers folder ");
        ASSERT_STR_CONTAINS(q.err, "/nowhere");

        snprintf(broken, sizeof(broken), "%s/acme.so", dir);
        unlink(broken);
        snprintf(broken, sizeof(broken), "%s/acme.conf", dir);
        unlink(broken);
        snprintf(broken, sizeof(broken), "%s/broken.conf", dir);
        unlink(broken);
        rmdir(dir);
}

static void test_second_server_refused(void)
{
        struct proc p, q;

        char file[64];
        int fd;

        start(&p);
        ASSERT_INT_EQ(RUN_UDKD(&q, 10000, "--socket", p.socket, "--duration", "1"), 1);
        ASSERT_STR_CONTAINS(q.err, "another udkd is listening there");
        proc_stop_server(&p);

        /* A path that is not a socket is never removed. */
        snprintf(file, sizeof(file), "/tmp/udk-test-file-XXXXXX");
        fd = mkstemp(file);
        ASSERT_OK(fd);
        close(fd);
        ASSERT_INT_EQ(RUN_UDKD(&q, 10000, "--socket", file, "--duration", "1"), 1);
        ASSERT_STR_CONTAINS(q.err, "the path exists and is not a socket");
        ASSERT_OK(access(file, F_OK));
        unlink(file);
}

UDK_TEST_MAIN(test_hello_and_version, test_registry_tree, test_controls_and_events, test_stats,
              test_malformed_closes_only_its_session, test_driver_messages_checked, test_flood_is_throttled,
              test_peer_not_mapped_closes_the_laggard, test_personalities_in_registry, test_second_server_refused)
