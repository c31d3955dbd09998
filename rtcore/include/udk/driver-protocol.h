/* SPDX-License-Identifier: MIT */
/*
 * The driver protocol: what udkd and a udk-driverhost say to each other on
 * the SOCK_SEQPACKET socketpair udkd hands the host at its start (fd 3).
 * The framing is the client protocol's (struct udk_msg_header, one message
 * per packet, udk_msg_send/udk_msg_recv); the types are their own range.
 * docs/protocol.md describes them.
 *
 * Requests carry a non-zero sequence of the sender's choosing and are
 * answered by one message with the same sequence (REPLY, STARTED, STOPPED,
 * PONG, CALL_REPLY); events carry 0.  udk_dmsg_check() validates every
 * message before its body is read.  udkd kills a host that sends a message
 * that fails the check, and counts it as a crash.
 *
 * A driver's life on the socket:
 *   host -> READY      the driver loaded (its ABI checked), init() returned
 *   udkd -> START      the provider nub's properties, the personality's
 *                      property.* keys, the fds udkd opened for it
 *   host -> STARTED    start() returned; in between the driver may already
 *                      publish nubs and create devices
 *   udkd -> PING       every heartbeat; a PONG must come back in time
 *   udkd -> STOP       host -> STOPPED after stop(); the host then exits 0
 *
 * A shared host (udk-driverhost --shared, the personality's `host` key)
 * has its channel to udkd on fd 3 instead, and one socket per instance:
 *   udkd -> HOST_ATTACH    run driver N of its command line on the socket
 *                          attached; that socket then carries the life
 *                          above, the host exiting only when udkd closes
 *                          the channel
 *   host -> HOST_DETACHED  the instance of ATTACH's sequence is over, its
 *                          socket closed: its exit code as the process's
 *                          would have been
 */
#ifndef UDK_DRIVER_PROTOCOL_H
#define UDK_DRIVER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/object.h>
#include <udk/protocol.h>

#define UDK_DRIVER_PROTOCOL_VERSION 1
#define UDK_DPROP_KEY_MAX   32u
#define UDK_DPROP_VALUE_MAX 96u
#define UDK_DPROPS_MAX      24u   /* properties in one START or PUBLISH_NUB */
#define UDK_DEVICE_TEXT_MAX 3072u /* bytes of a DEVICE_CREATE's text, its NUL included */
#define UDK_FAMILY_NAME_MAX 16u

enum udk_dmsg_type {
        /* udkd -> host */
        UDK_DMSG_START = 200,           /* struct udk_dmsg_start + n_fds fds */
        UDK_DMSG_STOP = 201,            /* header only */
        UDK_DMSG_PING = 202,            /* header only */
        UDK_DMSG_CONTROL_CHANGED = 203, /* struct udk_dmsg_control (event) */
        UDK_DMSG_CALL = 204,            /* struct udk_dmsg_call: answered by CALL_REPLY */
        UDK_DMSG_REPLY = 205,           /* struct udk_dmsg_reply: answers the host's requests */
        UDK_DMSG_HOST_ATTACH = 206,     /* struct udk_dmsg_host_attach + 1 fd, on a shared host's channel */

        /* host -> udkd */
        UDK_DMSG_READY = 220,        /* struct udk_dmsg_ready (sequence 1) */
        UDK_DMSG_STARTED = 221,      /* struct udk_dmsg_status, START's sequence */
        UDK_DMSG_STOPPED = 222,      /* struct udk_dmsg_status, STOP's sequence */
        UDK_DMSG_PONG = 223,         /* header only, PING's sequence */
        UDK_DMSG_CALL_REPLY = 224,   /* struct udk_dmsg_call_reply, CALL's sequence */
        UDK_DMSG_PUBLISH_NUB = 225,  /* struct udk_dmsg_nub: REPLY's id is the nub's object */
        UDK_DMSG_REMOVE_NUB = 226,   /* struct udk_dmsg_nub_ref */
        UDK_DMSG_DEVICE_CREATE = 227, /* struct udk_dmsg_device: REPLY's id is the device's object */
        UDK_DMSG_CONTROL_ADD = 228,  /* struct udk_dmsg_control_add */
        UDK_DMSG_CONTROL_SET = 229,  /* struct udk_dmsg_control */
        UDK_DMSG_LOG = 230,          /* struct udk_dmsg_log (event) */
        UDK_DMSG_HOST_DETACHED = 231, /* struct udk_dmsg_host_detached, ATTACH's sequence */
};

/* A property of a nub or a personality: "vendor" = "0x1234". */
struct udk_dprop {
        char key[UDK_DPROP_KEY_MAX];
        char value[UDK_DPROP_VALUE_MAX];
};

enum udk_dprop_source {
        UDK_DPROP_NUB = 0,         /* the provider nub's */
        UDK_DPROP_PERSONALITY = 1, /* the personality's property.KEY */
};

struct udk_dmsg_start {
        struct udk_msg_header h;
        udk_object_id nub;          /* the provider */
        uint32_t n_props;           /* 0..UDK_DPROPS_MAX, the nub's first */
        uint32_t n_nub_props;       /* of n_props, how many are the nub's; the rest the personality's */
        uint32_t n_fds;             /* attached, 0..UDK_MSG_FDS_MAX (the nub's device node, granted files) */
        uint32_t restarts;          /* how many times this driver was restarted before */
        char personality[UDK_OBJECT_NAME_MAX];
        char class_name[UDK_OBJECT_NAME_MAX];
        char family[UDK_FAMILY_NAME_MAX]; /* the nub's family */
        char nub_name[UDK_OBJECT_NAME_MAX];
        struct udk_dprop props[UDK_DPROPS_MAX];
};

struct udk_dmsg_ready {
        struct udk_msg_header h;
        uint32_t version;  /* UDK_DRIVER_PROTOCOL_VERSION */
        uint32_t abi;      /* the driver's UDK_DRIVER_ABI_VERSION */
        char driver[UDK_OBJECT_NAME_MAX]; /* the descriptor's name */
};

struct udk_dmsg_status {
        struct udk_msg_header h;
        int32_t status;                 /* 0 or a negative errno */
        uint32_t reserved;
        char message[UDK_MSG_TEXT_MAX]; /* a sentence when status < 0 */
};

struct udk_dmsg_reply {
        struct udk_msg_header h;
        int32_t status;
        uint32_t reserved;
        udk_object_id id; /* PUBLISH_NUB: the nub; DEVICE_CREATE: the device; else 0 */
        uint32_t reserved2;
        char message[UDK_MSG_TEXT_MAX];
};

/* udkd's CALL: the client's request as the driver sees it; exactly
 * udk_dmsg_call_size(struct_size) bytes. */
struct udk_dmsg_call {
        struct udk_msg_header h;
        uint64_t selector;
        uint32_t n_scalars;      /* 0..UDK_CALL_SCALARS_MAX */
        uint32_t struct_size;    /* 0..UDK_CALL_STRUCT_MAX */
        uint32_t struct_out_max; /* 0..UDK_CALL_STRUCT_MAX */
        uint32_t caller_uid;     /* the client's, from its socket's credentials */
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint8_t data[];
};

struct udk_dmsg_call_reply {
        struct udk_msg_header h;
        int32_t status;
        uint32_t n_scalars;   /* 0..UDK_CALL_SCALARS_MAX */
        uint32_t struct_size; /* 0..the CALL's struct_out_max */
        uint32_t reserved;
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint8_t data[];
};

static inline size_t udk_dmsg_call_size(uint32_t struct_size)
{
        return sizeof(struct udk_dmsg_call) + struct_size;
}

static inline size_t udk_dmsg_call_reply_size(uint32_t struct_size)
{
        return sizeof(struct udk_dmsg_call_reply) + struct_size;
}

/* A nub the driver publishes (a bus driver's child); @handle is the
 * driver's own name for it, unique among the nubs it published. */
struct udk_dmsg_nub {
        struct udk_msg_header h;
        uint32_t handle;
        uint32_t n_props; /* 0..UDK_DPROPS_MAX */
        char family[UDK_FAMILY_NAME_MAX];
        char name[UDK_OBJECT_NAME_MAX];
        struct udk_dprop props[UDK_DPROPS_MAX];
};

struct udk_dmsg_nub_ref {
        struct udk_msg_header h;
        uint32_t handle;
        uint32_t reserved;
};

/* An audio device in udkd: @text is the body of a [device] section of
 * udkd's configuration (docs/configuration.md), "key = value" lines: name,
 * uid, rate, period, channels, backend and its options, handlers.  A uid
 * whose device outlived its crashed driver is taken back as it is. */
struct udk_dmsg_device {
        struct udk_msg_header h;
        uint32_t text_size; /* bytes of text, its NUL included, 1..UDK_DEVICE_TEXT_MAX */
        uint32_t reserved;
        char text[UDK_DEVICE_TEXT_MAX];
};

enum udk_dcontrol_kind {
        UDK_DCONTROL_LEVEL = 1,   /* min, max, value in dB */
        UDK_DCONTROL_BOOLEAN = 2, /* value 0 or 1 */
        UDK_DCONTROL_NUMBER = 3,  /* min, max, value */
};

struct udk_dmsg_control_add {
        struct udk_msg_header h;
        udk_object_id device;
        uint32_t kind; /* enum udk_dcontrol_kind */
        uint32_t reserved;
        double min, max, value;
        char name[UDK_OBJECT_NAME_MAX];
};

/* CONTROL_CHANGED (a client moved it) and CONTROL_SET (the driver does):
 * @value as udkctl writes it ("-6.0dB", "on", "0.5"). */
struct udk_dmsg_control {
        struct udk_msg_header h;
        udk_object_id device;
        uint32_t reserved;
        char control[UDK_OBJECT_NAME_MAX];
        char value[UDK_OBJECT_NAME_MAX];
};

struct udk_dmsg_log {
        struct udk_msg_header h;
        uint32_t level; /* enum udk_log_level */
        uint32_t reserved;
        char text[256];
};

/* A shared host's channel: an instance of driver @driver (0-based, in the
 * host's command line's order) on the one socket attached.  The sequence
 * names the instance in its DETACHED. */
struct udk_dmsg_host_attach {
        struct udk_msg_header h;
        uint32_t driver;
        uint32_t reserved;
};

struct udk_dmsg_host_detached {
        struct udk_msg_header h;
        int32_t code; /* enum udk_driverhost_exit (<udk/driver-host.h>): 0 after STOP or udkd's hang-up */
        uint32_t reserved;
};

/* "start", "ready", ...: for logs; "unknown" for anything else. */
const char *udk_dmsg_type_name(uint32_t type);

/*
 * Check driver message @buf of @len bytes as received by udkd
 * (@from_host true) or by the host (false), with @n_fds descriptors
 * attached: size, type, direction, sequence, strings' NULs, counts within
 * their arrays.  Returns 0, or -EBADMSG with a sentence in @err.
 */
int udk_dmsg_check(const void *buf, size_t len, unsigned n_fds, bool from_host, char *err, size_t err_size);

/* The size of a NUB message of @n_props properties, START's likewise. */
static inline size_t udk_dmsg_nub_size(uint32_t n_props)
{
        return offsetof(struct udk_dmsg_nub, props) + (size_t)n_props * sizeof(struct udk_dprop);
}

static inline size_t udk_dmsg_start_size(uint32_t n_props)
{
        return offsetof(struct udk_dmsg_start, props) + (size_t)n_props * sizeof(struct udk_dprop);
}

/* A DEVICE_CREATE carries text_size bytes of text, not the whole array. */
static inline size_t udk_dmsg_device_size(uint32_t text_size)
{
        return offsetof(struct udk_dmsg_device, text) + text_size;
}

_Static_assert(sizeof(struct udk_dmsg_host_attach) == 24, "driver protocol: host-attach layout");
_Static_assert(sizeof(struct udk_dmsg_host_detached) == 24, "driver protocol: host-detached layout");
_Static_assert(sizeof(struct udk_dmsg_start) <= UDK_MSG_SIZE_MAX, "driver protocol: start fits a message");
_Static_assert(sizeof(struct udk_dmsg_nub) <= UDK_MSG_SIZE_MAX, "driver protocol: nub fits a message");
_Static_assert(sizeof(struct udk_dmsg_device) <= UDK_MSG_SIZE_MAX, "driver protocol: device fits a message");
_Static_assert(sizeof(struct udk_dmsg_call) + UDK_CALL_STRUCT_MAX <= UDK_MSG_SIZE_MAX,
               "driver protocol: call fits a message");

#endif
