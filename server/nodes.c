/* SPDX-License-Identifier: MIT */
/*
 * Clients' nodes in the devices' graphs: a node's segment, its peer slot,
 * the peers every session of a device must map before the node may run,
 * its way out (at once from the graph; its memory once the RT thread let
 * go of it), suspension after too many late cycles, and the statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define BIT(slot) (UINT64_C(1) << (slot))

const char *udkd_node_state_name(enum udk_node_state state)
{
        switch (state) {
        case UDK_NODE_STARTING: return "starting";
        case UDK_NODE_RUNNING: return "running";
        case UDK_NODE_SUSPENDED: return "suspended";
        case UDK_NODE_CLOSED: return "closed";
        }
        return "unknown";
}

static size_t device_index(const struct udkd_server *server, const struct server_device *d)
{
        return (size_t)(d - server->devices);
}

int udkd_node_position(const struct server_node *n)
{
        if (!n->remote)
                return -1;
        return udk_device_remote_position(n->device->dev, n->remote);
}

struct server_node *udkd_node_find(struct udkd_server *server, udk_object_id id)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];
                for (uint32_t k = 0; k < d->n_nodes; k++)
                        if (d->nodes[k]->id == id)
                                return d->nodes[k];
        }
        return NULL;
}

static bool session_on_device(const struct server_session *s, const struct server_device *d)
{
        for (uint32_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i]->device == d)
                        return true;
        return false;
}

static int send_peer(struct udkd_server *server, struct server_session *s, uint32_t type,
                     const struct server_node *n)
{
        struct udk_msg_peer m = {
                .device = udk_device_id(n->device->dev),
                .node = n->id,
                .slot = n->slot,
                .output_channels = n->output_channels,
                .output_offset = n->output_offset,
                .size = (uint32_t)n->shm.size,
        };
        size_t di = device_index(server, n->device);

        udk_msg_init(&m.h, type, sizeof(m), 0);
        if (type == UDK_MSG_EVENT_PEER_ADDED) {
                s->peers_sent[di] |= BIT(n->slot);
                return udkd_session_send(server, s, &m, sizeof(m), &n->shm.fd, 1);
        }
        s->peers_sent[di] &= ~BIT(n->slot);
        s->peers_mapped[di] &= ~BIT(n->slot);
        return udkd_session_send(server, s, &m, sizeof(m), NULL, 0);
}

static void send_state(struct udkd_server *server, struct server_node *n, const char *reason)
{
        struct udk_msg_node_state m = { .node = n->id, .state = n->state };

        if (!n->session)
                return;
        udk_msg_init(&m.h, UDK_MSG_EVENT_NODE_STATE, sizeof(m), 0);
        udk_strlcpy(m.reason, reason, sizeof(m.reason));
        udkd_session_send(server, n->session, &m, sizeof(m), NULL, 0);
}

/* The RT thread let go of the node's last plan. */
static void node_free(struct udkd_server *server, struct server_node *n)
{
        struct server_device *d = n->device;
        size_t di = device_index(server, d);

        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *s = server->sessions[i];
                if (!s)
                        continue;
                if (s->id != n->owner && (s->peers_sent[di] & BIT(n->slot)))
                        send_peer(server, s, UDK_MSG_EVENT_PEER_REMOVED, n);
                s->peers_sent[di] &= ~BIT(n->slot);
                s->peers_mapped[di] &= ~BIT(n->slot);
        }
        d->slots_used &= ~BIT(n->slot);
        udk_shm_finish(&n->shm);
        free(n);
}

struct retire {
        struct udkd_server *server;
        struct server_node *node;
};

/* The node is closed and no cycle can trigger it any more: tell its
 * client, which kept answering triggers until now, and answer its CLOSE. */
static void node_closed(struct udkd_server *server, struct server_node *n)
{
        struct server_session *s = udkd_session_find(server, n->closed_by);
        struct udk_msg_node_state m = { .node = n->id, .state = UDK_NODE_CLOSED };

        if (!s)
                return;
        udk_msg_init(&m.h, UDK_MSG_EVENT_NODE_STATE, sizeof(m), 0);
        udk_strlcpy(m.reason, "closed", sizeof(m.reason));
        if (udkd_session_send(server, s, &m, sizeof(m), NULL, 0) == 0 && n->close_sequence)
                udkd_session_reply(server, s, n->close_sequence, 0, 0, "%s", "");
}

static void remote_destroyed(void *data)
{
        struct retire *rt = data;
        struct server_node *n = rt->node;
        struct udkd_server *server = rt->server;

        free(rt);
        n->in_plan = false;
        if (n->closed) {
                node_closed(server, n);
                node_free(server, n);
        }
}

/* Take @n out of the graph from the next cycle on. */
static void node_leave_graph(struct server_node *n)
{
        struct udk_remote *r = n->remote;

        if (!r)
                return;
        n->remote = NULL;
        udk_device_remove_remote(n->device->dev, r);
}

/* Every session on the device has mapped @n, and @n's session every peer;
 * else *@ret_laggard (when not NULL) is a session that has not. */
static bool node_peers_ready(struct udkd_server *server, const struct server_node *n,
                             struct server_session **ret_laggard)
{
        struct server_device *d = n->device;
        size_t di = device_index(server, d);
        uint64_t need = 0;

        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *s = server->sessions[i];
                if (s && session_on_device(s, d) && !(s->peers_mapped[di] & BIT(n->slot))) {
                        if (ret_laggard)
                                *ret_laggard = s;
                        return false;
                }
        }
        for (uint32_t k = 0; k < d->n_nodes; k++)
                need |= BIT(d->nodes[k]->slot);
        if ((need & ~n->session->peers_mapped[di]) == 0)
                return true;
        if (ret_laggard)
                *ret_laggard = n->session;
        return false;
}

/* 0, 1 when starting closed the node's session (@n may be gone), or a negative errno. */
static int node_start(struct udkd_server *server, struct server_node *n)
{
        struct server_session *s = n->session; /* freed only at the tick, closed or not */
        struct retire *rt = calloc(1, sizeof(*rt));
        struct udk_remote_desc desc = {
                .name = n->name,
                .activation = &n->header->activation,
                .input = (float *)((uint8_t *)n->shm.data + n->input_offset),
                .output = (const float *)((const uint8_t *)n->shm.data + n->output_offset),
                .input_channels = n->input_channels,
                .output_channels = n->output_channels,
                .slot = (int32_t)n->slot,
                .chain = n->link == UDK_LINK_CHAIN,
                .gain = n->gain,
                .destroy = remote_destroyed,
                .data = rt,
        };
        int r;

        if (!rt)
                return -ENOMEM;
        *rt = (struct retire){ server, n };
        r = udk_device_add_remote(n->device->dev, &desc, &n->remote);
        if (r < 0) {
                free(rt);
                return r;
        }
        n->in_plan = true;
        n->state = UDK_NODE_RUNNING;
        udk_info("%s: node %s (client %s, pid %d) running at position %d",
                 udk_device_config(n->device->dev)->name, n->name, s->name, (int)s->pid, udkd_node_position(n));
        send_state(server, n, "running");
        /* A client gone meanwhile (its socket closed or full) had its session closed by that send, and
         * its nodes with it: @n may be freed, the device's lists have changed. */
        if (s->closing)
                return 1;
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, n->id);
        return 0;
}

/* Start the nodes of @d whose peers are all mapped. */
static void device_update(struct udkd_server *server, struct server_device *d)
{
        for (uint32_t k = 0; k < d->n_nodes; k++) {
                struct server_node *n = d->nodes[k];
                if (n->state == UDK_NODE_STARTING && node_peers_ready(server, n, NULL)) {
                        int r = node_start(server, n);
                        if (r < 0)
                                udk_error("node %s: cannot join the graph: %s", n->name, strerror(-r));
                        else if (r > 0)
                                k = UINT32_MAX; /* a session closed: its nodes left the list, look again from 0 */
                }
        }
}

static int node_segment(struct server_node *n, uint32_t period)
{
        size_t header = UDK_ALIGN_UP(sizeof(struct udk_node_shm), (size_t)UDK_CACHELINE);
        size_t in_bytes = UDK_ALIGN_UP((size_t)period * n->input_channels * sizeof(float), (size_t)UDK_CACHELINE);
        size_t out_bytes = (size_t)period * n->output_channels * sizeof(float);
        char name[64];
        int r;

        snprintf(name, sizeof(name), "udk-node-%" PRIu32, n->id);
        r = udk_shm_create(&n->shm, name, header + in_bytes + out_bytes);
        if (r < 0)
                return r;
        n->header = n->shm.data;
        n->header->activation.version = UDK_ACTIVATION_VERSION;
        n->header->magic = UDK_NODE_SHM_MAGIC;
        n->header->version = UDK_NODE_SHM_VERSION;
        n->input_offset = (uint32_t)header;
        n->output_offset = (uint32_t)(header + in_bytes);
        return 0;
}

/* A descriptor of @fd that can only read: clients map the device read-only. */
static int reopen_read_only(int fd)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        return open(path, O_RDONLY | O_CLOEXEC);
}

static int open_check(struct udkd_server *server, struct server_session *s, const struct udk_msg_open *m,
                      struct server_device **ret, char *err, size_t err_size)
{
        struct server_device *d = m->device ? udkd_registry_device(server, m->device) : NULL;

        /* No device named: the first one there. */
        for (size_t i = 0; !m->device && !d && i < server->n_devices; i++)
                if (server->devices[i].dev)
                        d = &server->devices[i];
        const struct udk_device_config *cfg;
        float gain = udk_float_from_bits(m->gain_bits);

        if (!d) {
                snprintf(err, err_size, "no device %" PRIu32, m->device);
                return -ENOENT;
        }
        cfg = udk_device_config(d->dev);
        if (m->input_channels > cfg->input_channels || m->output_channels > cfg->output_channels) {
                snprintf(err, err_size, "%" PRIu32 " in, %" PRIu32 " out: device %s has %" PRIu32 " in, %" PRIu32
                         " out",
                         m->input_channels, m->output_channels, cfg->name, cfg->input_channels,
                         cfg->output_channels);
                return -EINVAL;
        }
        if (m->input_channels == 0 && m->output_channels == 0) {
                snprintf(err, err_size, "a stream needs input or output channels (both are 0)");
                return -EINVAL;
        }
        if (m->rate != 0 && m->rate != cfg->rate) {
                snprintf(err, err_size,
                         "rate %" PRIu32 ": device %s runs at %" PRIu32 " Hz (clients convert other rates themselves)",
                         m->rate, cfg->name, cfg->rate);
                return -EINVAL;
        }
        if (m->link != UDK_LINK_DEVICE && m->link != UDK_LINK_CHAIN) {
                snprintf(err, err_size, "unknown link %" PRIu32 " (0 device, 1 chain)", m->link);
                return -EINVAL;
        }
        if (!isfinite(gain) || gain < 0.0f || gain > 4.0f) {
                snprintf(err, err_size, "gain %g is out of range (0..4)", (double)gain);
                return -ERANGE;
        }
        /* The clients of a device map each other's segments (activation records and outputs): one
         * user's clients share a device, and root may join any; nobody else's buffers are reachable. */
        for (uint32_t k = 0; s->uid != 0 && k < d->n_nodes; k++) {
                const struct server_session *other = d->nodes[k]->session;

                if (other && other->uid != s->uid) {
                        snprintf(err, err_size,
                                 "device %s has streams of another user (uid %d): the clients of a device share "
                                 "their buffers",
                                 cfg->name, (int)other->uid);
                        return -EPERM;
                }
        }
        if (s->n_nodes >= UDKD_SESSION_NODES_MAX) {
                snprintf(err, err_size, "this session has %u streams already, the limit", UDKD_SESSION_NODES_MAX);
                return -ENOSPC;
        }
        if (d->slots_used == UINT64_MAX) {
                snprintf(err, err_size, "device %s has %u nodes already, the limit", cfg->name,
                         UDK_PEER_SLOTS_MAX);
                return -ENOSPC;
        }
        *ret = d;
        return 0;
}

int udkd_node_open(struct udkd_server *server, struct server_session *s, const struct udk_msg_open *m,
                   char *err, size_t err_size)
{
        struct server_device *d;
        const struct udk_device_config *cfg;
        struct server_node *n;
        struct udk_msg_opened o;
        int fds[3], ro, r;
        size_t di;

        r = open_check(server, s, m, &d, err, err_size);
        if (r < 0)
                return r;
        cfg = udk_device_config(d->dev);
        di = device_index(server, d);
        n = calloc(1, sizeof(*n));
        if (!n) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        n->id = udk_object_id_next();
        udk_strlcpy(n->name, m->name[0] ? m->name : s->name, sizeof(n->name));
        n->session = s;
        n->owner = s->id;
        n->device = d;
        n->slot = (uint32_t)__builtin_ctzll(~d->slots_used);
        n->input_channels = m->input_channels;
        n->output_channels = m->output_channels;
        n->link = (enum udk_link)m->link;
        n->gain = udk_float_from_bits(m->gain_bits);
        n->state = UDK_NODE_STARTING;
        n->created = udk_time_now();
        n->shm = UDK_SHM_INIT;
        r = node_segment(n, cfg->period);
        if (r < 0) {
                snprintf(err, err_size, "cannot create the node's segment: %s", strerror(-r));
                free(n);
                return r;
        }
        ro = reopen_read_only(udk_device_shm_fd(d->dev));
        if (ro < 0) {
                r = -errno;
                snprintf(err, err_size, "cannot share the device's segment: %s", strerror(-r));
                udk_shm_finish(&n->shm);
                free(n);
                return r;
        }

        d->slots_used |= BIT(n->slot);
        d->nodes[d->n_nodes++] = n;
        s->nodes[s->n_nodes++] = n;
        s->peers_sent[di] |= BIT(n->slot);
        s->peers_mapped[di] |= BIT(n->slot);

        o = (struct udk_msg_opened){
                .node = n->id,
                .device = udk_device_id(d->dev),
                .slot = n->slot,
                .rate = cfg->rate,
                .period = cfg->period,
                .input_channels = n->input_channels,
                .output_channels = n->output_channels,
                .input_offset = n->input_offset,
                .output_offset = n->output_offset,
                .node_size = (uint32_t)n->shm.size,
                .graph_size = (uint32_t)udk_device_graph_shm_size(d->dev),
                .device_size = (uint32_t)udk_device_shm_size(d->dev),
                .input_latency = udk_device_latency(d->dev, UDK_DIRECTION_INPUT) +
                                 udk_device_safety_offset(d->dev, UDK_DIRECTION_INPUT),
                .output_latency = udk_device_latency(d->dev, UDK_DIRECTION_OUTPUT) +
                                  udk_device_safety_offset(d->dev, UDK_DIRECTION_OUTPUT),
                .zts_offset = (uint32_t)udk_device_zts_offset(),
                .cpu = d->client_cpu,
        };
        udk_msg_init(&o.h, UDK_MSG_OPENED, sizeof(o), m->h.sequence);
        fds[0] = n->shm.fd;
        fds[1] = udk_device_graph_shm_fd(d->dev);
        fds[2] = ro;
        r = udkd_session_send(server, s, &o, sizeof(o), fds, 3);
        close(ro);
        if (r < 0)
                return r; /* the session is closed, the node with it */
        r = udkd_session_reply(server, s, m->h.sequence, 0, 1, "%s", "");
        if (r < 0)
                return r;

        udk_info("%s: client %s (pid %d) opened node %s: %" PRIu32 " in, %" PRIu32 " out, %s link, slot %" PRIu32,
                 cfg->name, s->name, (int)s->pid, n->name, n->input_channels, n->output_channels,
                 n->link == UDK_LINK_CHAIN ? "chain" : "device", n->slot);

        /* Each side maps the other's segments before the node may run. */
        for (uint32_t k = 0; k + 1 < d->n_nodes; k++) {
                struct server_node *peer = d->nodes[k];
                if (peer->session != s && !(s->peers_sent[di] & BIT(peer->slot)) &&
                    send_peer(server, s, UDK_MSG_EVENT_PEER_ADDED, peer) < 0)
                        return -EPIPE;
        }
        for (uint32_t i = 0; i < UDKD_SESSIONS_MAX; i++) {
                struct server_session *other = server->sessions[i];
                if (other && other != s && session_on_device(other, d))
                        send_peer(server, other, UDK_MSG_EVENT_PEER_ADDED, n);
        }
        udkd_registry_event(server, UDK_MSG_EVENT_ADDED, n->id);
        device_update(server, d);
        return 0;
}

int udkd_node_peer_ready(struct udkd_server *server, struct server_session *s, const struct udk_msg_peer *m)
{
        struct server_node *n = udkd_node_find(server, m->node);
        size_t di;

        /* The node may have left since: not the client's fault. */
        if (!n || n->slot != m->slot)
                return -ENOENT;
        di = device_index(server, n->device);
        if (!(s->peers_sent[di] & BIT(n->slot)))
                return -EINVAL;
        s->peers_mapped[di] |= BIT(n->slot);
        device_update(server, n->device);
        return 0;
}

int udkd_node_close(struct udkd_server *server, struct server_node *n, uint32_t sequence)
{
        struct server_device *d = n->device;
        struct server_session *s = n->session;
        uint32_t i;

        for (i = 0; i < d->n_nodes && d->nodes[i] != n; i++)
                ;
        if (i < d->n_nodes) {
                memmove(&d->nodes[i], &d->nodes[i + 1], (d->n_nodes - i - 1) * sizeof(d->nodes[0]));
                d->n_nodes--;
        }
        if (s) {
                for (i = 0; i < s->n_nodes && s->nodes[i] != n; i++)
                        ;
                if (i < s->n_nodes) {
                        memmove(&s->nodes[i], &s->nodes[i + 1], (s->n_nodes - i - 1) * sizeof(s->nodes[0]));
                        s->n_nodes--;
                }
        }
        udk_info("%s: node %s left", udk_device_config(d->dev)->name, n->name);
        n->closed_by = s && !s->closing ? s->id : 0;
        n->close_sequence = sequence;
        n->closed = true;
        n->state = UDK_NODE_CLOSED;
        n->session = NULL;
        udkd_registry_event(server, UDK_MSG_EVENT_REMOVED, n->id);
        if (n->remote) {
                /* Freed by remote_destroyed(), now (a plan the RT thread
                 * never took) or once the RT thread let go: not ours to touch. */
                node_leave_graph(n);
        } else if (!n->in_plan) {
                node_closed(server, n);
                node_free(server, n);
        }
        /* Nodes waiting for this one's peers to map it need not wait any more. */
        device_update(server, d);
        return 0;
}

int udkd_node_move(struct udkd_server *server, struct server_node *n, uint32_t position)
{
        int r;

        if (!n->remote)
                return -EBUSY;
        r = udk_device_move_remote(n->device->dev, n->remote, position);
        if (r == 0)
                for (uint32_t k = 0; k < n->device->n_nodes; k++)
                        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, n->device->nodes[k]->id);
        return r;
}

static void node_suspend(struct udkd_server *server, struct server_node *n)
{
        char reason[UDK_MSG_TEXT_MAX];
        uint32_t limit = udk_device_config(n->device->dev)->late_limit;

        snprintf(reason, sizeof(reason),
                 "late %" PRIu32 " cycles in a row: out of the graph until the stream is closed", limit);
        udk_warn("%s: node %s (client %s, pid %d) suspended: %s", udk_device_config(n->device->dev)->name,
                 n->name, n->session ? n->session->name : "?", n->session ? (int)n->session->pid : 0, reason);
        n->late_at_suspend = atomic_load(&udk_remote_stats(n->remote)->late);
        n->cycles_at_suspend = atomic_load(&udk_remote_stats(n->remote)->cycles);
        n->state = UDK_NODE_SUSPENDED;
        node_leave_graph(n);
        send_state(server, n, reason);
        udkd_registry_event(server, UDK_MSG_EVENT_CHANGED, n->id);
}

void udkd_nodes_tick(struct udkd_server *server, uint64_t now)
{
        for (size_t i = 0; i < server->n_devices; i++) {
                struct server_device *d = &server->devices[i];

                for (uint32_t k = 0; k < d->n_nodes; k++) {
                        struct server_node *n = d->nodes[k];
                        struct server_session *laggard = NULL;
                        char reason[UDK_MSG_TEXT_MAX];

                        if (n->state == UDK_NODE_RUNNING && n->remote && udk_remote_is_suspended(n->remote)) {
                                node_suspend(server, n);
                                continue;
                        }
                        if (n->state != UDK_NODE_STARTING || now - n->created < UDKD_PEER_ACK_TIMEOUT_NS)
                                continue;
                        if (node_peers_ready(server, n, &laggard))
                                continue;
                        snprintf(reason, sizeof(reason), "did not map its peers within %llu s",
                                 UDKD_PEER_ACK_TIMEOUT_NS / 1000000000ull);
                        udkd_session_close(server, laggard, reason);
                        return; /* the lists changed: look again at the next tick */
                }
        }
}

/* @d's nodes in graph order: those in the graph as the cycle runs them,
 * then the others (starting, suspended) as they opened.  @ret holds d->n_nodes. */
static void nodes_in_graph_order(struct server_device *d, const struct server_node **ret)
{
        uint32_t n = 0;

        for (uint32_t k = 0; k < udk_device_n_remotes(d->dev); k++) {
                struct udk_remote *r = udk_device_remote(d->dev, k);
                for (uint32_t i = 0; i < d->n_nodes; i++)
                        if (d->nodes[i]->remote == r)
                                ret[n++] = d->nodes[i];
        }
        for (uint32_t i = 0; i < d->n_nodes; i++)
                if (!d->nodes[i]->remote)
                        ret[n++] = d->nodes[i];
}

static void times_of(const struct udk_histogram *h, struct udk_msg_times *t)
{
        struct udk_histogram_summary s;

        udk_histogram_summarize(h, &s);
        *t = (struct udk_msg_times){ s.p50, s.p99, s.p999, s.max };
}

int udkd_node_stats(struct udkd_server *server, struct server_session *s, uint32_t sequence,
                    struct server_device *d)
{
        const struct udk_cycle_stats *st = udk_device_stats(d->dev);
        const struct udk_device_config *cfg = udk_device_config(d->dev);
        struct udk_msg_stats_device dm = {
                .device = udk_device_id(d->dev),
                .rate = cfg->rate,
                .period = cfg->period,
                .n_nodes = d->n_nodes,
                .cycles = atomic_load(&st->cycles),
                .xruns = atomic_load(&st->xruns),
                .sample_time = atomic_load(&st->sample_time),
                .load_avg = udk_cycle_stats_load_avg(st) / 100.0,
                .load_max = udk_cycle_stats_load_max(st) / 100.0,
        };
        const struct server_node *ordered[UDK_PEER_SLOTS_MAX];
        uint32_t count = 1;
        int r;

        udk_msg_init(&dm.h, UDK_MSG_STATS_DEVICE, sizeof(dm), sequence);
        times_of(&st->busy, &dm.busy);
        times_of(&st->lateness, &dm.lateness);
        times_of(udk_device_graph_times(d->dev), &dm.graph);
        r = udkd_session_send(server, s, &dm, sizeof(dm), NULL, 0);
        if (r < 0)
                return r;

        nodes_in_graph_order(d, ordered);
        for (uint32_t k = 0; k < d->n_nodes; k++) {
                const struct server_node *n = ordered[k];
                struct udk_msg_stats_node nm = {
                        .node = n->id,
                        .state = n->state,
                        .pid = n->session ? n->session->pid : 0,
                        .position = (uint32_t)udkd_node_position(n),
                        .cycles = n->cycles_at_suspend,
                        .late = n->late_at_suspend,
                };

                udk_msg_init(&nm.h, UDK_MSG_STATS_NODE, sizeof(nm), sequence);
                udk_strlcpy(nm.name, n->name, sizeof(nm.name));
                if (n->remote) {
                        const struct udk_remote_stats *rs = udk_remote_stats(n->remote);
                        nm.cycles = atomic_load(&rs->cycles);
                        nm.late = atomic_load(&rs->late);
                        nm.late_run = atomic_load(&rs->late_run);
                        times_of(&rs->wake, &nm.wake);
                        times_of(&rs->busy, &nm.busy);
                }
                r = udkd_session_send(server, s, &nm, sizeof(nm), NULL, 0);
                if (r < 0)
                        return r;
                count++;
        }
        return udkd_session_reply(server, s, sequence, 0, count, "%s", "");
}
