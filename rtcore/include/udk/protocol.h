/* SPDX-License-Identifier: MIT */
/*
 * The client protocol: binary messages on a SOCK_SEQPACKET Unix socket,
 * one message per packet, shared by udkd and libudk-client.  docs/protocol.md
 * describes it message by message.
 *
 * Every message starts with struct udk_msg_header.  A request carries a
 * sequence number of the client's choosing (non-zero, increasing); the
 * server answers it with zero or more data messages (OBJECT, STATS_*,
 * OPENED) carrying the same number and then exactly one REPLY, the last word
 * on that request.  Events carry sequence 0.  All integers are in host
 * order (the socket is local); strings are fixed-size, NUL-terminated
 * arrays.
 *
 * The first message on a connection must be HELLO; the server answers
 * WELCOME (and a REPLY).  udk_msg_check() validates every message before
 * its body is read: size, type, direction, sequence, NUL-terminated strings,
 * counts within their arrays.  A message that fails closes the session.
 */
#ifndef UDK_PROTOCOL_H
#define UDK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <udk/activation.h>
#include <udk/object.h>

#define UDK_PROTOCOL_VERSION 1
#define UDK_MSG_SIZE_MAX     4096u /* bytes, header included */
#define UDK_MSG_FDS_MAX      8u /* a PCI function's config, six BARs and its UIO node */
#define UDK_MSG_TEXT_MAX     160u
#define UDK_PROP_KEY_MAX     32u
#define UDK_PROP_STRING_MAX  64u
#define UDK_PROPS_MAX        32u
#define UDK_STATS_NODES_MAX  64u /* a device's nodes: UDK_PEER_SLOTS_MAX */

enum udk_msg_type {
        /* client -> server: requests */
        UDK_MSG_HELLO = 1,        /* struct udk_msg_hello */
        UDK_MSG_LIST = 2,         /* struct udk_msg_object_ref (id 0: the whole tree) */
        UDK_MSG_INFO = 3,         /* struct udk_msg_object_ref */
        UDK_MSG_SET_CONTROL = 4,  /* struct udk_msg_set_control */
        UDK_MSG_SUBSCRIBE = 5,    /* struct udk_msg_subscribe */
        UDK_MSG_STATS = 6,        /* struct udk_msg_object_ref (a device) */
        UDK_MSG_OPEN = 7,         /* struct udk_msg_open */
        UDK_MSG_CLOSE = 8,        /* struct udk_msg_object_ref (a node this session opened) */
        UDK_MSG_MOVE = 9,         /* struct udk_msg_move */
        UDK_MSG_PEER_READY = 10,  /* struct udk_msg_peer: mapped; answered by REPLY */
        UDK_MSG_PING = 11,        /* header only */
        UDK_MSG_CALL = 12,        /* struct udk_msg_call: a driver's method; CALL_RESULT then REPLY */
        UDK_MSG_DRIVER_CONTROL = 13, /* struct udk_msg_driver_control: restart, stop, start */
        UDK_MSG_MATCH = 14,       /* struct udk_msg_object_ref (a nub): MATCH_CANDIDATEs then REPLY */
        UDK_MSG_PERSONALITIES = 15, /* header only: a TEXT per personality file that did not load */

        /* server -> client: answers */
        UDK_MSG_REPLY = 64,       /* struct udk_msg_reply: ends every request */
        UDK_MSG_WELCOME = 65,     /* struct udk_msg_welcome */
        UDK_MSG_OBJECT = 66,      /* struct udk_msg_object */
        UDK_MSG_STATS_DEVICE = 67, /* struct udk_msg_stats_device */
        UDK_MSG_STATS_NODE = 68,  /* struct udk_msg_stats_node */
        UDK_MSG_OPENED = 69,      /* struct udk_msg_opened + 3 fds */
        UDK_MSG_CALL_RESULT = 70, /* struct udk_msg_call_result */
        UDK_MSG_TEXT = 71,        /* struct udk_msg_text: one line */
        UDK_MSG_MATCH_CANDIDATE = 72, /* struct udk_msg_match_candidate */

        /* server -> client: events (sequence 0) */
        UDK_MSG_EVENT_ADDED = 128,   /* struct udk_msg_object */
        UDK_MSG_EVENT_REMOVED = 129, /* struct udk_msg_object_ref */
        UDK_MSG_EVENT_CHANGED = 130, /* struct udk_msg_object */
        UDK_MSG_EVENT_NODE_STATE = 131, /* struct udk_msg_node_state */
        UDK_MSG_EVENT_PEER_ADDED = 132, /* struct udk_msg_peer + 1 fd */
        UDK_MSG_EVENT_PEER_REMOVED = 133, /* struct udk_msg_peer */
        UDK_MSG_EVENT_CLOSED = 134,     /* struct udk_msg_closed: the server's last word */
};

struct udk_msg_header {
        uint32_t type;     /* enum udk_msg_type */
        uint32_t size;     /* the whole message, header included */
        uint32_t sequence; /* the request's; 0 for events */
        uint32_t reserved; /* 0 */
};

struct udk_msg_hello {
        struct udk_msg_header h;
        uint32_t version; /* UDK_PROTOCOL_VERSION */
        uint32_t reserved;
        char name[UDK_OBJECT_NAME_MAX]; /* the client's name, for the registry */
};

struct udk_msg_welcome {
        struct udk_msg_header h;
        uint32_t version;
        udk_object_id session; /* the client's session object */
        uint32_t max_message;  /* UDK_MSG_SIZE_MAX */
        uint32_t reserved;
        char server[UDK_OBJECT_NAME_MAX]; /* "udkd 0.1.0" */
};

struct udk_msg_reply {
        struct udk_msg_header h;
        int32_t status;  /* 0 or a negative errno */
        uint32_t count;  /* data messages sent before this reply */
        char message[UDK_MSG_TEXT_MAX]; /* a sentence for the user when status < 0 */
};

struct udk_msg_object_ref {
        struct udk_msg_header h;
        udk_object_id id;
        uint32_t reserved;
};

enum udk_prop_type {
        UDK_PROP_INT = 1,
        UDK_PROP_DOUBLE = 2,
        UDK_PROP_STRING = 3,
        UDK_PROP_BOOL = 4,
};

#define UDK_PROP_SETTABLE (1u << 0)

struct udk_prop {
        char key[UDK_PROP_KEY_MAX];
        uint32_t type;  /* enum udk_prop_type */
        uint32_t flags; /* UDK_PROP_SETTABLE */
        union {
                int64_t i; /* INT and BOOL */
                double d;
                char s[UDK_PROP_STRING_MAX];
        };
};

/* One registry object; n_props entries follow (the message is exactly
 * offsetof(props) + n_props * sizeof(struct udk_prop) bytes). */
struct udk_msg_object {
        struct udk_msg_header h;
        udk_object_id id;
        udk_object_id parent; /* 0 for the root */
        char klass[16];       /* "root", "backend", "device", "stream", "control", "handler", "node", "client" */
        char name[UDK_OBJECT_NAME_MAX];
        uint32_t n_props;
        uint32_t reserved;
        struct udk_prop props[];
};

/* Set control @control of object @id (a device's control by name, or a
 * client node's "gain"), or control object @id itself when @control is "".
 * @value is text as udkctl takes it: "-6dB", "0.5", "on", a selector item. */
struct udk_msg_set_control {
        struct udk_msg_header h;
        udk_object_id id;
        uint32_t reserved;
        char control[UDK_OBJECT_NAME_MAX];
        char value[UDK_OBJECT_NAME_MAX];
};

#define UDK_SUBSCRIBE_REGISTRY (1u << 0) /* ADDED, REMOVED, CHANGED */
#define UDK_SUBSCRIBE_ALL      UDK_SUBSCRIBE_REGISTRY

struct udk_msg_subscribe {
        struct udk_msg_header h;
        uint32_t mask; /* UDK_SUBSCRIBE_*; 0 unsubscribes */
        uint32_t reserved;
};

/* Percentiles of a time distribution, ns. */
struct udk_msg_times {
        uint64_t p50, p99, p999, max;
};

struct udk_msg_stats_device {
        struct udk_msg_header h;
        udk_object_id device;
        uint32_t rate;
        uint32_t period;
        uint32_t n_nodes;
        uint64_t cycles;
        uint64_t xruns;
        uint64_t sample_time;
        double load_avg;          /* busy / period, 0..1+ */
        double load_max;
        struct udk_msg_times busy;     /* cycle start to end */
        struct udk_msg_times lateness; /* wake after the period boundary */
        struct udk_msg_times graph;    /* first trigger to last finish */
};

enum udk_node_state {
        UDK_NODE_STARTING = 0, /* joined, waiting for peers to map it */
        UDK_NODE_RUNNING = 1,
        UDK_NODE_SUSPENDED = 2, /* late too many cycles in a row */
        UDK_NODE_CLOSED = 3,
};

struct udk_msg_stats_node {
        struct udk_msg_header h;
        udk_object_id node;
        uint32_t state;  /* enum udk_node_state */
        int32_t pid;     /* from SO_PEERCRED */
        uint32_t position; /* in graph order */
        char name[UDK_OBJECT_NAME_MAX];
        uint64_t cycles;   /* cycles it was triggered in */
        uint64_t late;     /* cycles it missed the deadline */
        uint64_t late_run; /* the current run of consecutive late cycles */
        struct udk_msg_times wake; /* signal to awake */
        struct udk_msg_times busy; /* awake to finish */
};

/* How a node's input is fed. */
enum udk_link {
        UDK_LINK_DEVICE = 0, /* the device's input; its output is mixed into the device's */
        UDK_LINK_CHAIN = 1,  /* the output of the node before it, which is then not mixed */
};

struct udk_msg_open {
        struct udk_msg_header h;
        udk_object_id device;
        uint32_t input_channels;  /* 0..the device's */
        uint32_t output_channels; /* 0..the device's */
        uint32_t rate;            /* 0 or the device's rate */
        uint32_t link;            /* enum udk_link */
        uint32_t gain_bits;       /* initial output gain (float bits), 0..4; libudk-client sends 1.0f by default */
        char name[UDK_OBJECT_NAME_MAX];
};

/*
 * The node's segment (fd 0, struct udk_node_shm then the buffers), the device's graph segment holding the cycle's
 * own activation record (fd 1), and the device's segment with its zero
 * timestamp and statistics (fd 2, read-only).  Offsets are bytes from the
 * start of the node's segment.
 */
struct udk_msg_opened {
        struct udk_msg_header h;
        udk_object_id node;
        udk_object_id device;
        uint32_t slot;         /* the node's peer slot */
        uint32_t rate;
        uint32_t period;       /* frames per cycle */
        uint32_t input_channels;
        uint32_t output_channels;
        uint32_t input_offset;
        uint32_t output_offset;
        uint32_t node_size;    /* bytes of fd 0 */
        uint32_t graph_size;   /* bytes of fd 1; the record is at offset 0 */
        uint32_t device_size;  /* bytes of fd 2 */
        uint32_t input_latency;  /* frames, the device's plus its safety offset */
        uint32_t output_latency;
        uint32_t zts_offset;   /* where the zero timestamp is in fd 2 */
        int32_t cpu;           /* the CPU udkd places the node's RT thread on; -1: anywhere */
};

/* A peer of the same device: its segment (1 fd with PEER_ADDED) holds its
 * activation record at 0 and @output_channels * period floats of output at
 * @output_offset. */
struct udk_msg_peer {
        struct udk_msg_header h;
        udk_object_id node;
        uint32_t slot;
        uint32_t output_channels;
        uint32_t output_offset;
        uint32_t size;
        udk_object_id device; /* the device the node is on (slots are per device) */
};

struct udk_msg_move {
        struct udk_msg_header h;
        udk_object_id node;
        uint32_t position; /* 0-based place in the device's graph order; past the end: last */
};

struct udk_msg_node_state {
        struct udk_msg_header h;
        udk_object_id node;
        uint32_t state; /* enum udk_node_state */
        char reason[UDK_MSG_TEXT_MAX];
};

/*
 * Sent just before udkd closes a session for a reason of its own (a
 * malformed or oversized message, a limit, a peer it did not map), and to
 * a connection it refuses (-EUSERS: every session slot taken), so that the
 * client can say why instead of "connection closed".  Nothing follows it.
 */
struct udk_msg_closed {
        struct udk_msg_header h;
        int32_t status; /* a negative errno */
        uint32_t reserved;
        char reason[UDK_MSG_TEXT_MAX];
};

/*
 * Errors beyond errno's range, as negative numbers like the others.
 * UDK_E_DRIVER_TERMINATED: the driver that was to answer crashed, exited or
 * was stopped before it did (a CALL in flight, a request to its device).
 */
#define UDK_E_DRIVER_TERMINATED 4096

/* strerror(-error), or a sentence for udk's own errors. */
const char *udk_strerror(int error);

/* A driver's method (IOUserClient's ExternalMethod): @selector with
 * @n_scalars scalars and @struct_size bytes of structure in, asking for up
 * to @struct_out_max bytes of structure out.  The message is exactly
 * udk_msg_call_size(struct_size) bytes. */
#define UDK_CALL_SCALARS_MAX 16u
#define UDK_CALL_STRUCT_MAX  2048u

struct udk_msg_call {
        struct udk_msg_header h;
        udk_object_id driver;
        uint32_t n_scalars;      /* 0..UDK_CALL_SCALARS_MAX */
        uint64_t selector;
        uint32_t struct_size;    /* 0..UDK_CALL_STRUCT_MAX */
        uint32_t struct_out_max; /* 0..UDK_CALL_STRUCT_MAX */
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint8_t data[];          /* struct_size bytes */
};

/* The method's answer, sent before the REPLY that carries its status;
 * exactly udk_msg_call_result_size(struct_size) bytes. */
struct udk_msg_call_result {
        struct udk_msg_header h;
        int32_t status;
        uint32_t n_scalars;   /* 0..UDK_CALL_SCALARS_MAX */
        uint32_t struct_size; /* 0..UDK_CALL_STRUCT_MAX */
        uint32_t reserved;
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint8_t data[];
};

static inline size_t udk_msg_call_size(uint32_t struct_size)
{
        return sizeof(struct udk_msg_call) + struct_size;
}

static inline size_t udk_msg_call_result_size(uint32_t struct_size)
{
        return sizeof(struct udk_msg_call_result) + struct_size;
}

enum udk_driver_action {
        UDK_DRIVER_RESTART = 1, /* stop it (or give up waiting) and start it again, its count forgotten */
        UDK_DRIVER_STOP = 2,    /* stop it and keep it stopped */
        UDK_DRIVER_START = 3,   /* start a stopped or failed driver, its count forgotten */
};

struct udk_msg_driver_control {
        struct udk_msg_header h;
        udk_object_id driver;
        uint32_t action; /* enum udk_driver_action */
};

#define UDK_TEXT_MAX 512u

struct udk_msg_text {
        struct udk_msg_header h;
        char text[UDK_TEXT_MAX];
};

enum udk_match_verdict {
        UDK_MATCH_VERDICT_WON = 0,
        UDK_MATCH_VERDICT_LOST = 1,   /* matched, ranked below the winner */
        UDK_MATCH_VERDICT_FAILED = 2, /* a rule did not hold */
};

/* One personality of the nub's family, winner first, as udkd ranked them. */
struct udk_msg_match_candidate {
        struct udk_msg_header h;
        udk_object_id personality;
        uint32_t verdict; /* enum udk_match_verdict */
        uint32_t tier;
        uint32_t reserved0; /* 0: probe_score's alignment, spelt out */
        int64_t probe_score;
        uint32_t n_rules;
        uint32_t reserved;
        char name[UDK_OBJECT_NAME_MAX];
        char why[192];
};

/* The node's segment: this header at offset 0, then its buffers. */
struct udk_node_shm {
        struct udk_activation activation;
        uint32_t magic; /* UDK_NODE_SHM_MAGIC */
        uint32_t version;
        uint32_t reserved[14];
};

#define UDK_NODE_SHM_MAGIC   0x756b6e64u /* "udkn" */
#define UDK_NODE_SHM_VERSION 1

/* The layouts both sides of the socket rely on. */
_Static_assert(sizeof(struct udk_msg_header) == 16, "protocol layout: header");
_Static_assert(sizeof(struct udk_msg_hello) == 88, "protocol layout: hello");
_Static_assert(sizeof(struct udk_msg_reply) == 184, "protocol layout: reply");
_Static_assert(sizeof(struct udk_prop) == 104, "protocol layout: property");
_Static_assert(sizeof(struct udk_msg_object) == 112, "protocol layout: object");
_Static_assert(sizeof(struct udk_msg_opened) == 80, "protocol layout: opened");
_Static_assert(sizeof(struct udk_msg_match_candidate) == 304, "protocol layout: match candidate");
_Static_assert(sizeof(struct udk_msg_call) == 168, "protocol layout: call");
_Static_assert(sizeof(struct udk_msg_call_result) == 160, "protocol layout: call result");
_Static_assert(sizeof(struct udk_msg_closed) == 184, "protocol layout: closed");
_Static_assert(sizeof(struct udk_node_shm) == 192, "protocol layout: node segment header");

/* Peer slots per device (the graph's size). */
#define UDK_PEER_SLOTS_MAX 64u

/* "hello", "reply", ...: for logs; "unknown" for anything else. */
const char *udk_msg_type_name(uint32_t type);

/*
 * Check message @buf of @len bytes as received by @server_side (true: a
 * request from a client; false: an answer or event from the server) with
 * @n_fds descriptors attached.  Returns 0, or -EBADMSG with a sentence in
 * @err naming what was wrong (size, type, direction, sequence, a string
 * without its NUL, a count beyond its array, descriptors it should not
 * carry).
 */
int udk_msg_check(const void *buf, size_t len, unsigned n_fds, bool server_side, char *err, size_t err_size);

/* The size a message of @type must have; for OBJECT-like ones, the size
 * without properties.  0 for an unknown type. */
size_t udk_msg_base_size(uint32_t type);

/* Fill @h for a message of @type and @size. */
void udk_msg_init(struct udk_msg_header *h, uint32_t type, uint32_t size, uint32_t sequence);

/*
 * Send one message with up to UDK_MSG_FDS_MAX descriptors (MSG_NOSIGNAL).
 * Returns 0 or a negative errno (-EPIPE when the peer is gone).
 */
int udk_msg_send(int sock, const void *msg, size_t len, const int *fds, unsigned n_fds);

/*
 * Receive one message into @buf (UDK_MSG_SIZE_MAX bytes) with its
 * descriptors into @fds (UDK_MSG_FDS_MAX, set O_CLOEXEC).  Returns the
 * length, 0 on hang-up, -EMSGSIZE for a truncated (oversized) message or
 * descriptors beyond UDK_MSG_FDS_MAX (those received are closed), or a
 * negative errno.  @ret_n_fds is set in every case.
 */
ssize_t udk_msg_recv(int sock, void *buf, int *fds, unsigned *ret_n_fds, int flags);

/*
 * Where clients find udkd: $UDK_SOCKET, else
 * $XDG_RUNTIME_DIR/udk/udkd.sock, else /run/udk/udkd.sock.
 * -ENAMETOOLONG when it does not fit a sockaddr_un.
 */
int udk_socket_default_path(char *buf, size_t size);

/* A property, for those who build OBJECT messages. */
void udk_prop_int(struct udk_prop *p, const char *key, int64_t value, uint32_t flags);
void udk_prop_double(struct udk_prop *p, const char *key, double value, uint32_t flags);
void udk_prop_string(struct udk_prop *p, const char *key, const char *value, uint32_t flags);
void udk_prop_bool(struct udk_prop *p, const char *key, bool value, uint32_t flags);

/* The property @key of @obj, NULL when it has none. */
const struct udk_prop *udk_msg_object_prop(const struct udk_msg_object *obj, const char *key);

/* The size of an OBJECT message with @n_props properties. */
static inline size_t udk_msg_object_size(uint32_t n_props)
{
        return sizeof(struct udk_msg_object) + (size_t)n_props * sizeof(struct udk_prop);
}

#endif
