/* SPDX-License-Identifier: MIT */
/*
 * Writes the protocol targets' seed corpora: one well-formed message of each
 * type, built with the same structures and helpers udkd, libudk-client and
 * the driver hosts use, behind the framing byte the targets read first
 * (bit 0: the receiving side, bits 1-3: descriptors attached).
 *
 *   make-corpus DIR     writes DIR/protocol/ and DIR/driver-protocol/
 *
 * Each message comes twice: NAME with its strings as written, and
 * NAME-full with every string filled to its array's last byte, so that one
 * mutated byte (the NUL) tests each string's check.
 *
 * tests/fuzz/make-corpus.sh runs it and adds the configuration and
 * personality seeds; the output is checked in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <udk/driver-protocol.h>
#include <udk/protocol.h>
#include <udk/util.h>

static const char *out_dir;
static int failures;
static bool full; /* the -full variants */

/* udk_strlcpy, or with full, @value padded to fill @size - 1 bytes. */
static void str(char *dst, const char *value, size_t size)
{
        size_t n = strlen(value);

        if (!full) {
                udk_strlcpy(dst, value, size);
                return;
        }
        for (size_t i = 0; i + 1 < size; i++)
                dst[i] = i < n ? value[i] : (char)('a' + i % 26);
        dst[size - 1] = '\0';
}

static void emit(const char *target, const char *name, unsigned framing, const void *msg, size_t len)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s%s", out_dir, target, name, full ? "-full" : "");
        f = fopen(path, "wb");
        if (!f || fputc((int)framing, f) == EOF || fwrite(msg, 1, len, f) != len || fclose(f) != 0) {
                fprintf(stderr, "make-corpus: %s: %s\n", path, strerror(errno));
                failures++;
        }
}

/* Client protocol: framing bit 0 set when udkd receives it. */
static void request(const char *name, void *msg, uint32_t type, size_t len)
{
        udk_msg_init(msg, type, (uint32_t)len, 7);
        emit("protocol", name, 1, msg, len);
}

static void answer(const char *name, void *msg, uint32_t type, size_t len, uint32_t sequence, unsigned n_fds)
{
        udk_msg_init(msg, type, (uint32_t)len, sequence);
        emit("protocol", name, n_fds << 1, msg, len);
}

static void client_protocol(void)
{
        union {
                struct udk_msg_header h;
                struct udk_msg_hello hello;
                struct udk_msg_object_ref ref;
                struct udk_msg_set_control set_control;
                struct udk_msg_subscribe subscribe;
                struct udk_msg_open open;
                struct udk_msg_move move;
                struct udk_msg_peer peer;
                struct udk_msg_call call;
                struct udk_msg_call_result call_result;
                struct udk_msg_driver_control driver_control;
                struct udk_msg_reply reply;
                struct udk_msg_welcome welcome;
                struct udk_msg_object object;
                struct udk_msg_stats_device stats_device;
                struct udk_msg_stats_node stats_node;
                struct udk_msg_opened opened;
                struct udk_msg_text text;
                struct udk_msg_match_candidate candidate;
                struct udk_msg_node_state node_state;
                struct udk_msg_closed closed;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } m;

#define CLEAR() memset(&m, 0, sizeof(m))
        CLEAR();
        m.hello.version = UDK_PROTOCOL_VERSION;
        str(m.hello.name, "udkctl", sizeof(m.hello.name));
        request("hello", &m, UDK_MSG_HELLO, sizeof(m.hello));
        CLEAR();
        request("list-all", &m, UDK_MSG_LIST, sizeof(m.ref));
        CLEAR();
        m.ref.id = 3;
        request("info", &m, UDK_MSG_INFO, sizeof(m.ref));
        CLEAR();
        m.ref.id = 3;
        request("stats", &m, UDK_MSG_STATS, sizeof(m.ref));
        CLEAR();
        m.ref.id = 12;
        request("close", &m, UDK_MSG_CLOSE, sizeof(m.ref));
        CLEAR();
        m.ref.id = 9;
        request("match", &m, UDK_MSG_MATCH, sizeof(m.ref));
        CLEAR();
        m.set_control.id = 3;
        str(m.set_control.control, "volume", sizeof(m.set_control.control));
        str(m.set_control.value, "-6dB", sizeof(m.set_control.value));
        request("set-control", &m, UDK_MSG_SET_CONTROL, sizeof(m.set_control));
        CLEAR();
        m.subscribe.mask = UDK_SUBSCRIBE_ALL;
        request("subscribe", &m, UDK_MSG_SUBSCRIBE, sizeof(m.subscribe));
        CLEAR();
        m.open = (struct udk_msg_open){ .device = 3, .input_channels = 2, .output_channels = 2, .rate = 48000,
                                        .link = UDK_LINK_CHAIN, .gain_bits = 0x3f800000 };
        str(m.open.name, "tone", sizeof(m.open.name));
        request("open", &m, UDK_MSG_OPEN, sizeof(m.open));
        CLEAR();
        m.move = (struct udk_msg_move){ .node = 12, .position = 1 };
        request("move", &m, UDK_MSG_MOVE, sizeof(m.move));
        CLEAR();
        m.peer = (struct udk_msg_peer){ .node = 13, .slot = 2, .output_channels = 2, .output_offset = 192,
                                        .size = 4096, .device = 3 };
        request("peer-ready", &m, UDK_MSG_PEER_READY, sizeof(m.peer));
        CLEAR();
        request("ping", &m, UDK_MSG_PING, sizeof(m.h));
        CLEAR();
        request("personalities", &m, UDK_MSG_PERSONALITIES, sizeof(m.h));
        CLEAR();
        m.call = (struct udk_msg_call){ .driver = 20, .n_scalars = 2, .selector = 1, .struct_size = 8,
                                        .struct_out_max = 64, .scalars = { 5, 6 } };
        memcpy(m.call.data, "abcdefgh", 8);
        request("call", &m, UDK_MSG_CALL, udk_msg_call_size(8));
        CLEAR();
        m.driver_control = (struct udk_msg_driver_control){ .driver = 20, .action = UDK_DRIVER_RESTART };
        request("driver-control", &m, UDK_MSG_DRIVER_CONTROL, sizeof(m.driver_control));

        CLEAR();
        m.reply.status = -ENOENT;
        m.reply.count = 0;
        str(m.reply.message, "no object 42", sizeof(m.reply.message));
        answer("reply", &m, UDK_MSG_REPLY, sizeof(m.reply), 7, 0);
        CLEAR();
        m.welcome = (struct udk_msg_welcome){ .version = UDK_PROTOCOL_VERSION, .session = 5,
                                              .max_message = UDK_MSG_SIZE_MAX };
        str(m.welcome.server, "udkd 0.1.0", sizeof(m.welcome.server));
        answer("welcome", &m, UDK_MSG_WELCOME, sizeof(m.welcome), 1, 0);
        CLEAR();
        m.object.id = 3;
        m.object.parent = 2;
        str(m.object.klass, "device", sizeof(m.object.klass));
        str(m.object.name, "studio", sizeof(m.object.name));
        m.object.n_props = 4;
        udk_prop_int(&m.object.props[0], "rate", 48000, 0);
        udk_prop_double(&m.object.props[1], "load", 0.25, 0);
        udk_prop_string(&m.object.props[2], "backend", "virtual", 0);
        udk_prop_bool(&m.object.props[3], "running", true, UDK_PROP_SETTABLE);
        for (int i = 0; i < 4; i++)
                str(m.object.props[i].key, m.object.props[i].key, sizeof(m.object.props[i].key));
        str(m.object.props[2].s, "virtual", sizeof(m.object.props[2].s));
        answer("object", &m, UDK_MSG_OBJECT, udk_msg_object_size(4), 7, 0);
        answer("added", &m, UDK_MSG_EVENT_ADDED, udk_msg_object_size(4), 0, 0);
        m.object.n_props = 0;
        answer("changed", &m, UDK_MSG_EVENT_CHANGED, udk_msg_object_size(0), 0, 0);
        CLEAR();
        m.ref.id = 3;
        answer("removed", &m, UDK_MSG_EVENT_REMOVED, sizeof(m.ref), 0, 0);
        CLEAR();
        m.stats_device = (struct udk_msg_stats_device){ .device = 3, .rate = 48000, .period = 64, .n_nodes = 1,
                                                        .cycles = 1000, .load_avg = 0.1, .load_max = 0.3 };
        answer("stats-device", &m, UDK_MSG_STATS_DEVICE, sizeof(m.stats_device), 7, 0);
        CLEAR();
        m.stats_node = (struct udk_msg_stats_node){ .node = 12, .state = UDK_NODE_RUNNING, .pid = 100,
                                                    .cycles = 1000 };
        str(m.stats_node.name, "tone", sizeof(m.stats_node.name));
        answer("stats-node", &m, UDK_MSG_STATS_NODE, sizeof(m.stats_node), 7, 0);
        CLEAR();
        m.opened = (struct udk_msg_opened){ .node = 12, .device = 3, .slot = 1, .rate = 48000, .period = 64,
                                            .input_channels = 2, .output_channels = 2, .input_offset = 192,
                                            .output_offset = 704, .node_size = 4096, .graph_size = 4096,
                                            .device_size = 4096, .cpu = -1 };
        answer("opened", &m, UDK_MSG_OPENED, sizeof(m.opened), 7, 3);
        CLEAR();
        m.call_result = (struct udk_msg_call_result){ .status = 0, .n_scalars = 1, .struct_size = 4,
                                                      .scalars = { 9 } };
        memcpy(m.call_result.data, "wxyz", 4);
        answer("call-result", &m, UDK_MSG_CALL_RESULT, udk_msg_call_result_size(4), 7, 0);
        CLEAR();
        str(m.text.text, "/usr/lib/udk/drivers/x.conf:3: unknown key 'nme'", sizeof(m.text.text));
        answer("text", &m, UDK_MSG_TEXT, sizeof(m.text), 7, 0);
        CLEAR();
        m.candidate = (struct udk_msg_match_candidate){ .personality = 30, .verdict = UDK_MATCH_VERDICT_WON,
                                                        .tier = 3, .probe_score = 10, .n_rules = 2 };
        str(m.candidate.name, "test-audio", sizeof(m.candidate.name));
        str(m.candidate.why, "won over 'vendor-class': tier 3 above tier 2", sizeof(m.candidate.why));
        answer("match-candidate", &m, UDK_MSG_MATCH_CANDIDATE, sizeof(m.candidate), 7, 0);
        CLEAR();
        m.node_state = (struct udk_msg_node_state){ .node = 12, .state = UDK_NODE_SUSPENDED };
        str(m.node_state.reason, "late 50 cycles in a row", sizeof(m.node_state.reason));
        answer("node-state", &m, UDK_MSG_EVENT_NODE_STATE, sizeof(m.node_state), 0, 0);
        CLEAR();
        m.peer = (struct udk_msg_peer){ .node = 13, .slot = 2, .output_channels = 2, .output_offset = 192,
                                        .size = 4096, .device = 3 };
        answer("peer-added", &m, UDK_MSG_EVENT_PEER_ADDED, sizeof(m.peer), 0, 1);
        answer("peer-removed", &m, UDK_MSG_EVENT_PEER_REMOVED, sizeof(m.peer), 0, 0);
        CLEAR();
        m.closed = (struct udk_msg_closed){ .status = -EUSERS };
        str(m.closed.reason, "udkd serves 64 clients already, the limit: try again when one leaves",
            sizeof(m.closed.reason));
        answer("closed", &m, UDK_MSG_EVENT_CLOSED, sizeof(m.closed), 0, 0);
#undef CLEAR
}

/* Driver protocol: framing bit 0 set when udkd receives it (from the host). */
static void dmsg(const char *name, void *msg, uint32_t type, size_t len, uint32_t sequence, bool from_host,
                 unsigned n_fds)
{
        udk_msg_init(msg, type, (uint32_t)len, sequence);
        emit("driver-protocol", name, (n_fds << 1) | (from_host ? 1u : 0u), msg, len);
}

static void prop(struct udk_dprop *p, const char *key, const char *value)
{
        str(p->key, key, sizeof(p->key));
        str(p->value, value, sizeof(p->value));
}

static void driver_protocol(void)
{
        static const char device_text[] = "name = knob\n"
                                          "uid = test:knob\n"
                                          "backend = virtual\n"
                                          "rate = 48000\n"
                                          "period = 256\n"
                                          "channels = 2\n"
                                          "source = sine\n"
                                          "handlers = gain\n"
                                          "gain.level = -6\n";
        union {
                struct udk_msg_header h;
                struct udk_dmsg_start start;
                struct udk_dmsg_ready ready;
                struct udk_dmsg_status status;
                struct udk_dmsg_reply reply;
                struct udk_dmsg_call call;
                struct udk_dmsg_call_reply call_reply;
                struct udk_dmsg_nub nub;
                struct udk_dmsg_nub_ref nub_ref;
                struct udk_dmsg_device device;
                struct udk_dmsg_control_add control_add;
                struct udk_dmsg_control control;
                struct udk_dmsg_log log;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } m;

#define CLEAR() memset(&m, 0, sizeof(m))
        CLEAR();
        m.start.nub = 9;
        m.start.n_props = 3;
        m.start.n_nub_props = 2;
        m.start.n_fds = 1;
        m.start.restarts = 1;
        str(m.start.personality, "test-audio", sizeof(m.start.personality));
        str(m.start.class_name, "TestAudio", sizeof(m.start.class_name));
        str(m.start.family, "test", sizeof(m.start.family));
        str(m.start.nub_name, "knob", sizeof(m.start.nub_name));
        prop(&m.start.props[0], "vendor", "0x1234");
        prop(&m.start.props[1], "product", "0x0001");
        prop(&m.start.props[2], "channels", "2");
        dmsg("start", &m, UDK_DMSG_START, udk_dmsg_start_size(3), 2, false, 1);
        CLEAR();
        dmsg("stop", &m, UDK_DMSG_STOP, sizeof(m.h), 4, false, 0);
        CLEAR();
        dmsg("ping", &m, UDK_DMSG_PING, sizeof(m.h), 3, false, 0);
        CLEAR();
        m.control.device = 3;
        str(m.control.control, "volume", sizeof(m.control.control));
        str(m.control.value, "-6.0dB", sizeof(m.control.value));
        dmsg("control-changed", &m, UDK_DMSG_CONTROL_CHANGED, sizeof(m.control), 0, false, 0);
        dmsg("control-set", &m, UDK_DMSG_CONTROL_SET, sizeof(m.control), 6, true, 0);
        CLEAR();
        m.call = (struct udk_dmsg_call){ .selector = 1, .n_scalars = 2, .struct_size = 8, .struct_out_max = 64,
                                         .caller_uid = 1000, .scalars = { 5, 6 } };
        memcpy(m.call.data, "abcdefgh", 8);
        dmsg("call", &m, UDK_DMSG_CALL, udk_dmsg_call_size(8), 5, false, 0);
        CLEAR();
        m.reply.id = 40;
        dmsg("reply", &m, UDK_DMSG_REPLY, sizeof(m.reply), 2, false, 0);

        CLEAR();
        m.ready = (struct udk_dmsg_ready){ .version = UDK_DRIVER_PROTOCOL_VERSION, .abi = 1 };
        str(m.ready.driver, "test-audio", sizeof(m.ready.driver));
        dmsg("ready", &m, UDK_DMSG_READY, sizeof(m.ready), 1, true, 0);
        CLEAR();
        dmsg("started", &m, UDK_DMSG_STARTED, sizeof(m.status), 2, true, 0);
        m.status.status = -ENODEV;
        str(m.status.message, "no such device", sizeof(m.status.message));
        dmsg("stopped", &m, UDK_DMSG_STOPPED, sizeof(m.status), 4, true, 0);
        CLEAR();
        dmsg("pong", &m, UDK_DMSG_PONG, sizeof(m.h), 3, true, 0);
        CLEAR();
        m.call_reply = (struct udk_dmsg_call_reply){ .n_scalars = 1, .struct_size = 4, .scalars = { 9 } };
        memcpy(m.call_reply.data, "wxyz", 4);
        dmsg("call-reply", &m, UDK_DMSG_CALL_REPLY, udk_dmsg_call_reply_size(4), 5, true, 0);
        CLEAR();
        m.nub.handle = 1;
        m.nub.n_props = 3;
        str(m.nub.family, "test", sizeof(m.nub.family));
        str(m.nub.name, "knob", sizeof(m.nub.name));
        prop(&m.nub.props[0], "vendor", "0x1234");
        prop(&m.nub.props[1], "product", "0x0001");
        prop(&m.nub.props[2], "modalias", "test:v1234p0001");
        dmsg("publish-nub", &m, UDK_DMSG_PUBLISH_NUB, udk_dmsg_nub_size(3), 2, true, 0);
        CLEAR();
        m.nub_ref.handle = 1;
        dmsg("remove-nub", &m, UDK_DMSG_REMOVE_NUB, sizeof(m.nub_ref), 3, true, 0);
        CLEAR();
        memcpy(m.device.text, device_text, sizeof(device_text));
        m.device.text_size = sizeof(device_text);
        if (full) { /* a comment fills the text to its limit */
                memset(m.device.text + sizeof(device_text) - 1, 'c', UDK_DEVICE_TEXT_MAX - sizeof(device_text));
                m.device.text[sizeof(device_text) - 1] = '#';
                m.device.text[UDK_DEVICE_TEXT_MAX - 1] = '\0';
                m.device.text_size = UDK_DEVICE_TEXT_MAX;
        }
        dmsg("device-create", &m, UDK_DMSG_DEVICE_CREATE, udk_dmsg_device_size(m.device.text_size), 4, true, 0);
        CLEAR();
        m.control_add = (struct udk_dmsg_control_add){ .device = 3, .kind = UDK_DCONTROL_LEVEL, .min = -60,
                                                       .max = 0, .value = -6 };
        str(m.control_add.name, "volume", sizeof(m.control_add.name));
        dmsg("control-add", &m, UDK_DMSG_CONTROL_ADD, sizeof(m.control_add), 5, true, 0);
        CLEAR();
        m.log.level = 2;
        str(m.log.text, "started on nub knob", sizeof(m.log.text));
        dmsg("log", &m, UDK_DMSG_LOG, sizeof(m.log), 0, true, 0);
#undef CLEAR
}

int main(int argc, char **argv)
{
        char path[512];

        if (argc != 2) {
                fprintf(stderr, "usage: make-corpus DIR\n");
                return 2;
        }
        out_dir = argv[1];
        for (int i = 0; i < 2; i++) {
                snprintf(path, sizeof(path), "%s/%s", out_dir, i ? "driver-protocol" : "protocol");
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        fprintf(stderr, "make-corpus: %s: %s\n", path, strerror(errno));
                        return 1;
                }
        }
        for (int i = 0; i < 2; i++) {
                full = i == 1;
                client_protocol();
                driver_protocol();
        }
        return failures ? 1 : 0;
}
