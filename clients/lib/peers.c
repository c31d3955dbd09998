/* SPDX-License-Identifier: MIT */
/*
 * The peer tables: for each device the client has streams on, the nodes
 * of its graph by slot, mapped so that a stream's RT thread can read the
 * output of the node before it (a chain) and trigger the node after it.
 *
 * Publishing: the background thread maps a segment, then stores the
 * pointer in its slot (seq_cst); an RT thread loads a slot only inside a
 * cycle.  Retiring: the background thread takes the pointer out of its
 * slot, then notes every stream of the device that is inside a cycle (its
 * epoch is odd); the mapping is freed once each of those epochs moved on.
 * The epoch's increment and the slot's load are both seq_cst, so a stream
 * seen outside a cycle loads the new pointer when it next enters one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-private.h"

struct udk_client_peer_table *peers_table(struct udk_client *c, udk_object_id device)
{
        for (struct udk_client_peer_table *t = c->tables; t; t = t->next)
                if (t->device == device)
                        return t;
        return NULL;
}

int peers_table_ref(struct udk_client *c, udk_object_id device, uint32_t period,
                    struct udk_client_peer_table **ret, char *err, size_t err_size)
{
        struct udk_client_peer_table *t = peers_table(c, device);

        if (t) {
                if (t->period != period) {
                        snprintf(err, err_size, "device %u: period %u frames, %u for an earlier stream",
                                 device, period, t->period);
                        return -EPROTO;
                }
                t->n_streams++;
                *ret = t;
                return 0;
        }
        t = calloc(1, sizeof(*t));
        if (!t) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        t->device = device;
        t->period = period;
        t->n_streams = 1;
        t->next = c->tables;
        c->tables = t;
        *ret = t;
        return 0;
}

static void peer_free(struct udk_client_peer *p)
{
        udk_shm_finish(&p->shm);
        free(p);
}

static struct udk_client_stream *stream_by_node(struct udk_client *c, udk_object_id node)
{
        for (struct udk_client_stream *s = c->streams; s; s = s->next)
                if (s->node == node)
                        return s;
        return NULL;
}

/* @p is out of its slot: free it now, or once the streams in a cycle moved on. */
static void peer_retire(struct udk_client *c, struct udk_client_peer_table *t, struct udk_client_peer *p)
{
        p->n_waits = 0;
        for (struct udk_client_stream *s = c->streams; s; s = s->next) {
                uint64_t epoch;

                if (s->peers != t || !s->thread_started)
                        continue;
                epoch = atomic_load_explicit(&s->epoch, memory_order_seq_cst);
                if ((epoch & 1) && p->n_waits < UDK_ELEMENTSOF(p->waits)) {
                        p->waits[p->n_waits].node = s->node;
                        p->waits[p->n_waits].epoch = epoch;
                        p->n_waits++;
                }
        }
        if (p->n_waits == 0) {
                peer_free(p);
                return;
        }
        p->retired_next = c->retired;
        c->retired = p;
}

bool peers_collect(struct udk_client *c)
{
        struct udk_client_peer **link = &c->retired;

        while (*link) {
                struct udk_client_peer *p = *link;
                bool waiting = false;

                for (uint32_t i = 0; i < p->n_waits && !waiting; i++) {
                        struct udk_client_stream *s = stream_by_node(c, p->waits[i].node);
                        /* A stream that closed joined its thread: nothing to wait for. */
                        waiting = s &&
                                  atomic_load_explicit(&s->epoch, memory_order_acquire) == p->waits[i].epoch;
                }
                if (waiting) {
                        link = &p->retired_next;
                        continue;
                }
                *link = p->retired_next;
                peer_free(p);
        }
        return c->retired != NULL;
}

void peers_table_unref(struct udk_client *c, struct udk_client_peer_table *t)
{
        if (!t || --t->n_streams > 0)
                return;
        /* No RT thread reads this table any more. */
        for (uint32_t i = 0; i < UDK_PEER_SLOTS_MAX; i++) {
                struct udk_client_peer *p = atomic_exchange(&t->slots[i], NULL);
                if (p)
                        peer_free(p);
        }
        for (struct udk_client_peer_table **link = &c->tables; *link; link = &(*link)->next)
                if (*link == t) {
                        *link = t->next;
                        break;
                }
        free(t);
}

int peers_add(struct udk_client *c, struct udk_client_peer_table *t, udk_object_id node, uint32_t slot,
              int fd, uint32_t output_channels, uint32_t output_offset, char *err, size_t err_size)
{
        uint64_t end = (uint64_t)output_offset + (uint64_t)output_channels * t->period * sizeof(float);
        const struct udk_node_shm *hdr;
        struct udk_client_peer *p, *old;
        int r;

        if (slot >= UDK_PEER_SLOTS_MAX) {
                snprintf(err, err_size, "node %u: slot %u, there are %u", node, slot, UDK_PEER_SLOTS_MAX);
                return -EBADMSG;
        }
        if (output_channels > UDK_CHANNELS_MAX) {
                snprintf(err, err_size, "node %u: %u output channels, at most %u", node, output_channels,
                         UDK_CHANNELS_MAX);
                return -EBADMSG;
        }
        if (output_channels > 0 &&
            (output_offset < sizeof(struct udk_node_shm) || output_offset % sizeof(float))) {
                snprintf(err, err_size, "node %u: output at offset %u, inside the header or misaligned",
                         node, output_offset);
                return -EBADMSG;
        }
        p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        p->shm = UDK_SHM_INIT;
        r = udk_shm_map(&p->shm, fd, 0, true);
        if (r < 0) {
                snprintf(err, err_size, "node %u: %s", node,
                         r == -EPERM ? "its segment is not sealed against resizing" : strerror(-r));
                free(p);
                return r;
        }
        hdr = p->shm.data;
        if (p->shm.size < sizeof(*hdr) || p->shm.size < end) {
                snprintf(err, err_size, "node %u: segment of %zu bytes, %llu needed", node, p->shm.size,
                         (unsigned long long)UDK_MAX(end, sizeof(*hdr)));
                peer_free(p);
                return -EBADMSG;
        }
        if (hdr->magic != UDK_NODE_SHM_MAGIC) {
                snprintf(err, err_size, "node %u: segment magic 0x%08x, not a node's", node, hdr->magic);
                peer_free(p);
                return -EBADMSG;
        }
        p->node = node;
        p->slot = slot;
        p->activation = p->shm.data;
        p->output = (const float *)((const uint8_t *)p->shm.data + output_offset);
        p->output_channels = output_channels;

        old = atomic_exchange_explicit(&t->slots[slot], p, memory_order_seq_cst);
        if (old)
                peer_retire(c, t, old);
        return 0;
}

void peers_remove(struct udk_client *c, struct udk_client_peer_table *t, udk_object_id node, uint32_t slot)
{
        struct udk_client_peer *p;

        if (slot >= UDK_PEER_SLOTS_MAX)
                return;
        p = atomic_load_explicit(&t->slots[slot], memory_order_relaxed);
        if (!p || p->node != node)
                return;
        atomic_store_explicit(&t->slots[slot], NULL, memory_order_seq_cst);
        peer_retire(c, t, p);
}

/* The table of the device in @m: named by udkd, else the only one we have. */
static int event_table(struct udk_client *c, const struct udk_msg_peer *m,
                       struct udk_client_peer_table **ret)
{
        udk_object_id device = m->device;

        if (device != 0) {
                *ret = peers_table(c, device);
                return 0;
        }
        if (c->tables && c->tables->next)
                return -ENXIO;
        *ret = c->tables;
        return 0;
}

int peers_event_added(struct udk_client *c, const struct udk_msg_peer *m, int fd, char *err, size_t err_size)
{
        struct udk_client_peer_table *t;

        if (event_table(c, m, &t) < 0) {
                snprintf(err, err_size,
                         "the announcement does not name its device and this client has streams "
                         "on several");
                return -EBADMSG;
        }
        /* No stream of ours on that device (any more): nothing to map. */
        if (!t)
                return 0;
        return peers_add(c, t, m->node, m->slot, fd, m->output_channels, m->output_offset, err, err_size);
}

void peers_event_removed(struct udk_client *c, const struct udk_msg_peer *m)
{
        struct udk_client_peer_table *t;

        if (event_table(c, m, &t) == 0 && t)
                peers_remove(c, t, m->node, m->slot);
}

void peers_free_all(struct udk_client *c)
{
        while (c->retired) {
                struct udk_client_peer *p = c->retired;
                c->retired = p->retired_next;
                peer_free(p);
        }
        while (c->tables) {
                c->tables->n_streams = 1;
                peers_table_unref(c, c->tables);
        }
}
