/* SPDX-License-Identifier: MIT */
/*
 * udk-soak's malformed client (udk-soak --role malformed): @count messages
 * that break the protocol (docs/protocol.md, "What closes a session"), one
 * session each, in turn through the kinds below with random lengths and
 * contents from @seed.  Each has an expected answer: udkd closes the
 * session (a breach), or refuses the request with an error and keeps the
 * session (a well-formed request about nothing), or, for random bodies
 * under a valid header, either.  Anything else (an answer of success to
 * garbage, no answer within SOAK_WAIT_MS) is counted unexpected and fails
 * the soak.  udkd must close every descriptor sent along: the conductor's
 * fd count at the end shows it did.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <udk/protocol.h>
#include <udk/util.h>

#include "soak.h"

#define BUF_MAX (2 * UDK_MSG_SIZE_MAX)
#define FDS_SENT_MAX (UDK_MSG_FDS_MAX + 4u) /* a message over the limit has up to 4 too many */

enum expect {
        EXPECT_CLOSED,  /* udkd closes the session */
        EXPECT_REFUSED, /* a REPLY with a negative status; the session lives on */
        EXPECT_EITHER,  /* one or the other */
};

enum kind {
        KIND_RANDOM_FIRST,  /* random bytes as the first message */
        KIND_TRUNCATED,     /* shorter than a header */
        KIND_SIZE_MISMATCH, /* the header's size is not the packet's */
        KIND_OVERSIZE,      /* over 4096 bytes, its header agreeing */
        KIND_FDS,           /* a request with 1..UDK_MSG_FDS_MAX descriptors */
        KIND_TOO_MANY_FDS,  /* up to 4 more than that */
        KIND_UNKNOWN_TYPE,
        KIND_WRONG_WAY,   /* a server-to-client type */
        KIND_SEQUENCE,    /* sequence 0, or not above the previous */
        KIND_RESERVED,    /* the header's reserved field set */
        KIND_WRONG_SIZE,  /* a known type at a size not its own */
        KIND_NO_NUL,      /* a string without its NUL */
        KIND_BAD_VERSION, /* a HELLO of another protocol version */
        KIND_SECOND_HELLO,
        KIND_NOTHING,     /* well-formed requests about objects that do not exist */
        KIND_RANDOM_BODY, /* a valid header, random bytes after it */
        KIND_COUNT
};

struct conn {
        int fd;
        uint32_t seq;
        uint64_t rng;
};

static uint64_t rnd(struct conn *c)
{
        /* xorshift64*: reproducible from --seed */
        c->rng ^= c->rng >> 12;
        c->rng ^= c->rng << 25;
        c->rng ^= c->rng >> 27;
        return c->rng * 2685821657736338717ull;
}

static uint32_t rnd_range(struct conn *c, uint32_t lo, uint32_t hi)
{
        return lo + (uint32_t)(rnd(c) % (uint64_t)(hi - lo + 1));
}

static void rnd_fill(struct conn *c, void *buf, size_t len)
{
        uint8_t *p = buf;

        for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)rnd(c);
}

static int conn_open(struct conn *c, const char *socket_path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        udk_strlcpy(sa.sun_path, socket_path, sizeof(sa.sun_path));
        c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        c->seq = 0;
        if (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(c->fd);
                c->fd = -1;
                return r;
        }
        return 0;
}

/* One packet with @n_fds descriptors: sendmsg as it is, no checks (they are the point). */
static int send_raw(struct conn *c, const void *buf, size_t len, const int *fds, unsigned n_fds)
{
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int) * FDS_SENT_MAX)];
        } ctl;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds) {
                memset(&ctl, 0, sizeof(ctl));
                mh.msg_control = ctl.b;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                ctl.h.cmsg_level = SOL_SOCKET;
                ctl.h.cmsg_type = SCM_RIGHTS;
                ctl.h.cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(&ctl.h), fds, sizeof(int) * n_fds);
        }
        /* udkd may have closed the session already (a breach seen in an earlier packet). */
        return sendmsg(c->fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/*
 * The next packet from udkd within SOAK_WAIT_MS: its length (0 at the end
 * of the session, udkd closed it), or a negative errno (-ETIMEDOUT).
 */
static ssize_t recv_one(struct conn *c, void *buf, size_t size)
{
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        ssize_t n;
        int r;

        do
                r = poll(&pfd, 1, SOAK_WAIT_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0)
                return -ETIMEDOUT;
        n = recv(c->fd, buf, size, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return errno == ECONNRESET ? 0 : -errno;
        return n;
}

/* The REPLY to @seq (data messages before it skipped): its status; 1 when the session ended first. */
static int wait_reply(struct conn *c, uint32_t seq, int *ret_status)
{
        union {
                struct udk_msg_header h;
                struct udk_msg_reply reply;
                uint8_t bytes[BUF_MAX];
        } m;

        for (;;) {
                ssize_t n = recv_one(c, &m, sizeof(m));

                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return 1;
                if ((size_t)n >= sizeof(m.reply) && m.h.type == UDK_MSG_REPLY && m.h.sequence == seq) {
                        *ret_status = m.reply.status;
                        return 0;
                }
        }
}

static int hello(struct conn *c, uint32_t version)
{
        struct udk_msg_hello m = { .version = version };
        int status = 0, r;

        snprintf(m.name, sizeof(m.name), "soak-malformed");
        udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m), ++c->seq);
        r = send_raw(c, &m, sizeof(m), NULL, 0);
        if (r < 0)
                return r;
        r = wait_reply(c, c->seq, &status);
        return r < 0 ? r : r > 0 ? -EPIPE : status;
}

/* What udkd did after the bad packet: the outcome seen, for the expectation. */
static bool outcome_ok(struct conn *c, enum expect expect, int *ret_refused)
{
        struct udk_msg_header ping;
        int status = 0, r;

        udk_msg_init(&ping, UDK_MSG_PING, sizeof(ping), ++c->seq);
        /* A ping after it: answered only when the session is still there. */
        send_raw(c, &ping, sizeof(ping), NULL, 0);
        for (;;) {
                r = wait_reply(c, c->seq, &status);
                if (r < 0)
                        return false; /* no answer, no end: udkd is stuck on us */
                if (r > 0) {
                        *ret_refused = 0;
                        return expect != EXPECT_REFUSED;
                }
                /* The session lived through it: the bad request must have been refused (checked by the
                 * caller). */
                *ret_refused = 1;
                return status == 0 && expect != EXPECT_CLOSED;
        }
}

/* A descriptor of some kind, to be sent along (a pipe, a memfd, an eventfd, our own socket). */
static int some_fd(struct conn *c, int *extra)
{
        int p[2];

        switch (rnd(c) % 4) {
        case 0:
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -1;
                *extra = p[1];
                return p[0];
        case 1:
                return memfd_create("soak", MFD_CLOEXEC);
        case 2:
                return eventfd(0, EFD_CLOEXEC);
        default:
                return fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
        }
}

/* Send one bad message of @kind on the session (after a HELLO where the kind needs one). */
static int send_bad(struct conn *c, enum kind kind, enum expect *ret_expect, uint32_t *ret_seq)
{
        static const uint32_t client_types[] = {
                UDK_MSG_LIST,           UDK_MSG_INFO,  UDK_MSG_SET_CONTROL, UDK_MSG_SUBSCRIBE,
                UDK_MSG_STATS,          UDK_MSG_CLOSE, UDK_MSG_MOVE,        UDK_MSG_CALL,
                UDK_MSG_DRIVER_CONTROL, UDK_MSG_MATCH, UDK_MSG_PEER_READY
        };
        union {
                struct udk_msg_header h;
                struct udk_msg_object_ref ref;
                struct udk_msg_set_control set;
                struct udk_msg_hello hello;
                struct udk_msg_driver_control drv;
                uint8_t bytes[BUF_MAX];
        } m;
        int fds[FDS_SENT_MAX], extra[FDS_SENT_MAX], r = 0;
        unsigned n_fds = 0;
        size_t len;

        memset(&m, 0, sizeof(m));
        *ret_expect = EXPECT_CLOSED;
        *ret_seq = 0;
        if (kind != KIND_RANDOM_FIRST && kind != KIND_BAD_VERSION) {
                r = hello(c, UDK_PROTOCOL_VERSION);
                if (r < 0)
                        return r;
        }
        switch (kind) {
        case KIND_RANDOM_FIRST:
                len = rnd_range(c, 1, UDK_MSG_SIZE_MAX);
                rnd_fill(c, &m, len);
                if (len >= 4 && m.h.type == UDK_MSG_HELLO)
                        m.h.type = UDK_MSG_PING; /* not a hello by chance */
                return send_raw(c, &m, len, NULL, 0);
        case KIND_TRUNCATED:
                len = rnd_range(c, 1, sizeof(m.h) - 1);
                udk_msg_init(&m.h, UDK_MSG_PING, sizeof(m.h), ++c->seq);
                return send_raw(c, &m, len, NULL, 0);
        case KIND_SIZE_MISMATCH:
                udk_msg_init(&m.h, UDK_MSG_PING, rnd_range(c, 0, UDK_MSG_SIZE_MAX), ++c->seq);
                if (m.h.size == sizeof(m.h))
                        m.h.size++;
                return send_raw(c, &m, sizeof(m.h), NULL, 0);
        case KIND_OVERSIZE:
                len = rnd_range(c, UDK_MSG_SIZE_MAX + 1, BUF_MAX);
                rnd_fill(c, &m, len);
                udk_msg_init(&m.h, UDK_MSG_INFO, (uint32_t)len, ++c->seq);
                return send_raw(c, &m, len, NULL, 0);
        case KIND_FDS:
        case KIND_TOO_MANY_FDS:
                n_fds = kind == KIND_FDS ? rnd_range(c, 1, UDK_MSG_FDS_MAX)
                                         : rnd_range(c, UDK_MSG_FDS_MAX + 1, FDS_SENT_MAX);
                for (unsigned i = 0; i < n_fds; i++) {
                        extra[i] = -1;
                        fds[i] = some_fd(c, &extra[i]);
                        if (fds[i] < 0) {
                                r = -errno;
                                n_fds = i;
                                break;
                        }
                }
                if (r == 0) {
                        udk_msg_init(&m.h, UDK_MSG_PING, sizeof(m.h), ++c->seq);
                        r = send_raw(c, &m, sizeof(m.h), fds, n_fds);
                }
                /* Ours are closed: udkd's copies are its to close. */
                for (unsigned i = 0; i < n_fds; i++) {
                        close(fds[i]);
                        if (extra[i] >= 0)
                                close(extra[i]);
                }
                return r;
        case KIND_UNKNOWN_TYPE:
                udk_msg_init(&m.h, rnd_range(c, UDK_MSG_PERSONALITIES + 1, UDK_MSG_REPLY - 1), sizeof(m.h),
                             ++c->seq);
                if (rnd(c) & 1)
                        m.h.type = rnd_range(c, UDK_MSG_EVENT_PEER_REMOVED + 1, UINT32_MAX);
                return send_raw(c, &m, sizeof(m.h), NULL, 0);
        case KIND_WRONG_WAY:
                udk_msg_init(&m.h, rnd_range(c, UDK_MSG_REPLY, UDK_MSG_EVENT_PEER_REMOVED), sizeof(m.h),
                             ++c->seq);
                if (m.h.type > UDK_MSG_MATCH_CANDIDATE && m.h.type < UDK_MSG_EVENT_ADDED)
                        m.h.type = UDK_MSG_REPLY;
                return send_raw(c, &m, sizeof(m.h), NULL, 0);
        case KIND_SEQUENCE:
                udk_msg_init(&m.h, UDK_MSG_PING, sizeof(m.h), (rnd(c) & 1) ? 0 : rnd_range(c, 1, c->seq));
                return send_raw(c, &m, sizeof(m.h), NULL, 0);
        case KIND_RESERVED:
                udk_msg_init(&m.h, UDK_MSG_PING, sizeof(m.h), ++c->seq);
                m.h.reserved = rnd_range(c, 1, UINT32_MAX);
                return send_raw(c, &m, sizeof(m.h), NULL, 0);
        case KIND_WRONG_SIZE:
                len = rnd_range(c, sizeof(m.h), sizeof(m.ref) * 4);
                if (len == sizeof(m.ref))
                        len++;
                udk_msg_init(&m.h, UDK_MSG_INFO, (uint32_t)len, ++c->seq);
                return send_raw(c, &m, len, NULL, 0);
        case KIND_NO_NUL:
                udk_msg_init(&m.h, UDK_MSG_SET_CONTROL, sizeof(m.set), ++c->seq);
                memset(m.set.control, 'c', sizeof(m.set.control));
                memset(m.set.value, 'v', sizeof(m.set.value));
                if (rnd(c) & 1)
                        m.set.control[0] = '\0';
                return send_raw(c, &m, sizeof(m.set), NULL, 0);
        case KIND_BAD_VERSION:
                /* Refused with -EPROTO, then the session is closed: the end is what is checked. */
                udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m.hello), ++c->seq);
                m.hello.version = rnd_range(c, UDK_PROTOCOL_VERSION + 1, UINT32_MAX);
                return send_raw(c, &m, sizeof(m.hello), NULL, 0);
        case KIND_SECOND_HELLO:
                udk_msg_init(&m.h, UDK_MSG_HELLO, sizeof(m.hello), ++c->seq);
                m.hello.version = UDK_PROTOCOL_VERSION;
                return send_raw(c, &m, sizeof(m.hello), NULL, 0);
        case KIND_NOTHING:
                /* Ids far above any the registry has given. */
                *ret_expect = EXPECT_REFUSED;
                switch (rnd(c) % 4) {
                case 0:
                case 1:
                        udk_msg_init(&m.h, (rnd(c) & 1) ? UDK_MSG_INFO : UDK_MSG_STATS, sizeof(m.ref),
                                     ++c->seq);
                        m.ref.id = rnd_range(c, 1000000, UINT32_MAX);
                        len = sizeof(m.ref);
                        break;
                case 2:
                        udk_msg_init(&m.h, UDK_MSG_SET_CONTROL, sizeof(m.set), ++c->seq);
                        m.set.id = rnd_range(c, 1000000, UINT32_MAX);
                        snprintf(m.set.control, sizeof(m.set.control), "level");
                        snprintf(m.set.value, sizeof(m.set.value), "-6dB");
                        len = sizeof(m.set);
                        break;
                default:
                        udk_msg_init(&m.h, UDK_MSG_DRIVER_CONTROL, sizeof(m.drv), ++c->seq);
                        m.drv.driver = rnd_range(c, 1000000, UINT32_MAX);
                        m.drv.action = (uint32_t)rnd(c);
                        len = sizeof(m.drv);
                        break;
                }
                *ret_seq = c->seq;
                return send_raw(c, &m, len, NULL, 0);
        case KIND_RANDOM_BODY:
        default: {
                /* The right size for its type, garbage after the header: refused or closed, never more. */
                static const size_t sizes[] = {
                        [UDK_MSG_LIST] = sizeof(struct udk_msg_object_ref),
                        [UDK_MSG_INFO] = sizeof(struct udk_msg_object_ref),
                        [UDK_MSG_SET_CONTROL] = sizeof(struct udk_msg_set_control),
                        [UDK_MSG_SUBSCRIBE] = sizeof(struct udk_msg_subscribe),
                        [UDK_MSG_STATS] = sizeof(struct udk_msg_object_ref),
                        [UDK_MSG_CLOSE] = sizeof(struct udk_msg_object_ref),
                        [UDK_MSG_MOVE] = sizeof(struct udk_msg_move),
                        [UDK_MSG_PEER_READY] = sizeof(struct udk_msg_peer),
                        [UDK_MSG_CALL] = sizeof(struct udk_msg_call),
                        [UDK_MSG_DRIVER_CONTROL] = sizeof(struct udk_msg_driver_control),
                        [UDK_MSG_MATCH] = sizeof(struct udk_msg_object_ref),
                };
                uint32_t type = client_types[rnd(c) % UDK_ELEMENTSOF(client_types)];

                len = sizes[type];
                rnd_fill(c, &m, len);
                udk_msg_init(&m.h, type, (uint32_t)len, ++c->seq);
                if (type == UDK_MSG_CALL)
                        ((struct udk_msg_call *)&m)->struct_size = 0;
                *ret_expect = EXPECT_EITHER;
                *ret_seq = c->seq;
                return send_raw(c, &m, len, NULL, 0);
        }
        }
}

int soak_malformed_main(struct soak_slot *slot, const char *socket_path, uint64_t count, uint64_t seed)
{
        struct conn c = { .fd = -1, .rng = seed ? seed : 1 };

        for (uint64_t i = 0; i < count && !atomic_load(&slot->quit); i++) {
                enum kind kind = (enum kind)(i % KIND_COUNT);
                enum expect expect;
                uint32_t seq;
                int r, refused = 0, status = 0;
                bool ok;

                r = conn_open(&c, socket_path);
                if (r < 0) {
                        char text[128];
                        snprintf(text, sizeof(text), "connect: %s", strerror(-r));
                        soak_slot_error(slot, text);
                        return 1;
                }
                r = send_bad(&c, kind, &expect, &seq);
                atomic_fetch_add(&slot->sent, 1);
                if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
                        char text[128];
                        snprintf(text, sizeof(text), "message %" PRIu64 " (kind %d): send: %s", i, (int)kind,
                                 strerror(-r));
                        soak_slot_error(slot, text);
                        close(c.fd);
                        return 1;
                }
                /* A refusal is a REPLY to the bad request with a negative status, before the ping's. */
                if (seq && wait_reply(&c, seq, &status) == 0 && status >= 0) {
                        ok = false;
                } else {
                        ok = outcome_ok(&c, expect, &refused);
                }
                if (!ok) {
                        char text[160];

                        atomic_fetch_add(&slot->unexpected, 1);
                        snprintf(text, sizeof(text), "message %" PRIu64 " (kind %d): udkd %s", i, (int)kind,
                                 status >= 0 && seq ? "answered it with success"
                                 : refused          ? "kept the session"
                                                    : "closed the session, or did not answer");
                        soak_slot_error(slot, text);
                } else if (refused) {
                        atomic_fetch_add(&slot->refused, 1);
                } else {
                        atomic_fetch_add(&slot->closed, 1);
                }
                close(c.fd);
                c.fd = -1;
        }
        atomic_store(&slot->done, 1);
        return atomic_load(&slot->unexpected) ? 1 : 0;
}
