/* SPDX-License-Identifier: MIT */
/*
 * Devices on the control thread: configuration, the shared segment and the
 * stream rings, controls, and the handler and node plans handed to the RT
 * thread.  The cycle itself is in cycle.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/log.h>
#include <udk/util.h>

#include "device-private.h"

void udk_device_config_defaults(struct udk_device_config *cfg)
{
        *cfg = (struct udk_device_config){
                .name = "default",
                .rate = 48000,
                .period = 64,
                .ring_periods = 4,
                .input_channels = 2,
                .output_channels = 2,
                .format = UDK_FORMAT_F32,
                .rt_priority = 70,
                .cpu = -1,
                .transport = UDK_TRANSPORT_VIRTUAL,
                .client_deadline = UDK_CLIENT_DEADLINE_DEFAULT,
                .late_limit = UDK_LATE_LIMIT_DEFAULT,
        };
}

static bool name_is_valid(const char *name)
{
        if (!name[0])
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.'))
                        return false;
        return true;
}

#define check_range(field, lo, hi)                                                                           \
        do {                                                                                                 \
                if ((long long)cfg->field < (long long)(lo) || (long long)cfg->field > (long long)(hi)) {    \
                        snprintf(err, err_size, "%s %lld out of range (%lld..%lld)", #field,                 \
                                 (long long)cfg->field, (long long)(lo), (long long)(hi));                   \
                        return -ERANGE;                                                                      \
                }                                                                                            \
        } while (0)

int udk_device_config_check(const struct udk_device_config *cfg, char *err, size_t err_size)
{
        long cpus = sysconf(_SC_NPROCESSORS_CONF);

        if (!name_is_valid(cfg->name)) {
                snprintf(err, err_size, "device name '%s' is empty or has characters other than A-Z a-z 0-9 _ - .",
                         cfg->name);
                return -EINVAL;
        }
        check_range(rate, UDK_RATE_MIN, UDK_RATE_MAX);
        check_range(period, UDK_PERIOD_MIN, UDK_PERIOD_MAX);
        check_range(ring_periods, 2, 64);
        check_range(input_channels, 0, UDK_CHANNELS_MAX);
        check_range(output_channels, 0, UDK_CHANNELS_MAX);
        if (cfg->input_channels == 0 && cfg->output_channels == 0) {
                snprintf(err, err_size, "a device needs input or output channels (both are 0)");
                return -EINVAL;
        }
        if (!udk_format_name(cfg->format)) {
                snprintf(err, err_size, "unknown sample format %d", (int)cfg->format);
                return -EINVAL;
        }
        check_range(rt_priority, 0, 99);
        check_range(cpu, -1, (cpus > 0 ? cpus : 1) - 1);
        check_range(client_deadline, 10, 95);
        check_range(late_limit, 1, 100000);
        return 0;
}

int udk_device_create(const struct udk_device_config *cfg, const struct udk_backend_ops *backend,
                      struct udk_device **ret, char *err, size_t err_size)
{
        _udk_cleanup_free_ struct udk_device *dev = NULL;
        int r;

        if (!cfg || !backend || !ret)
                return -EINVAL;
        r = udk_device_config_check(cfg, err, err_size);
        if (r < 0)
                return r;
        if (backend->version != UDK_BACKEND_ABI_VERSION || backend->reserved != 0) {
                snprintf(err, err_size, "backend '%s' speaks version %u, udk speaks %u", backend->name,
                         backend->version, UDK_BACKEND_ABI_VERSION);
                return -EPROTO;
        }

        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        dev->cfg = *cfg;
        if (!dev->cfg.uid[0])
                snprintf(dev->cfg.uid, sizeof(dev->cfg.uid), "udk:%.59s", cfg->name);
        udk_object_init(&dev->obj, UDK_CLASS_DEVICE, UDK_OBJECT_ID_INVALID, cfg->name);
        dev->backend = backend;
        dev->shm = UDK_SHM_INIT;
        dev->graph_shm = UDK_SHM_INIT;
        dev->ring_frames = cfg->period * cfg->ring_periods;
        dev->period_ns = (uint64_t)cfg->period * UDK_NSEC_PER_SEC / cfg->rate;

        if (backend->instance_size > 0) {
                dev->backend_instance = calloc(1, backend->instance_size);
                if (!dev->backend_instance)
                        return -ENOMEM;
        }
        r = udk_ring_init(&dev->retired, dev->retired_mem, sizeof(dev->retired_mem), UDK_PLAN_RETIRE_SLOTS,
                          sizeof(struct udk_plan *));
        if (r < 0) {
                free(dev->backend_instance);
                return r;
        }
        *ret = UDK_TAKE_PTR(dev);
        return 0;
}

int udk_device_set_backend_option(struct udk_device *dev, const char *key, const char *value, char *err,
                                  size_t err_size)
{
        if (!dev || !key || !value)
                return -EINVAL;
        if (dev->opened)
                return -EBUSY;
        if (!dev->backend->set_option)
                return -ENOENT;
        return dev->backend->set_option(dev->backend_instance, key, value, err, err_size);
}

static size_t ring_bytes(uint32_t frames, uint32_t channels)
{
        return UDK_ALIGN_UP((size_t)frames * channels * sizeof(float), (size_t)UDK_CACHELINE);
}

static void stream_init(struct udk_device *dev, enum udk_direction dir, uint32_t channels, uint32_t offset)
{
        struct udk_stream *s = &dev->streams[dir];

        udk_object_init(&s->obj, UDK_CLASS_STREAM, dev->obj.id, dir == UDK_DIRECTION_INPUT ? "input" : "output");
        s->direction = dir;
        s->format = dev->cfg.format;
        s->rate = dev->cfg.rate;
        s->channels = channels;
        s->starting_channel = 1;
        s->ring_frames = dev->ring_frames;
        s->ring = (float *)((uint8_t *)dev->shm.data + offset);
        dev->has_stream[dir] = channels > 0;
}

static void segments_finish(struct udk_device *dev)
{
        udk_shm_finish(&dev->graph_shm);
        dev->graph = NULL;
        udk_shm_finish(&dev->shm);
        dev->shared = NULL;
}

/* The shared segment (header, rings) and the graph segment for the
 * configuration's rate, period and channels. */
static int segments_create(struct udk_device *dev, char *err, size_t err_size)
{
        size_t header = UDK_ALIGN_UP(sizeof(struct udk_device_shm), (size_t)UDK_CACHELINE);
        size_t in_bytes = ring_bytes(dev->ring_frames, dev->cfg.input_channels);
        size_t out_bytes = ring_bytes(dev->ring_frames, dev->cfg.output_channels);
        char shm_name[UDK_OBJECT_NAME_MAX + 16];
        struct udk_device_shm *sh;
        int r;

        snprintf(shm_name, sizeof(shm_name), "udk-device-%s", dev->cfg.name);
        /* Clients map it to read the clock and the statistics: read-only. */
        r = udk_shm_create_guarded(&dev->shm, shm_name, header + in_bytes + out_bytes);
        if (r < 0) {
                snprintf(err, err_size, "cannot create the shared segment: %s", strerror(-r));
                return r;
        }
        sh = dev->shared = dev->shm.data;
        sh->version = UDK_DEVICE_SHM_VERSION;
        sh->header_size = (uint32_t)sizeof(*sh);
        sh->rate = dev->cfg.rate;
        sh->period = dev->cfg.period;
        sh->ring_frames = dev->ring_frames;
        sh->input_channels = dev->cfg.input_channels;
        sh->output_channels = dev->cfg.output_channels;
        sh->input_offset = (uint32_t)header;
        sh->output_offset = (uint32_t)(header + in_bytes);
        sh->stats.version = UDK_CYCLE_STATS_VERSION;
        udk_histogram_reset(&sh->stats.lateness);
        udk_histogram_reset(&sh->stats.busy);
        atomic_store_explicit(&sh->stats.period_ns, dev->period_ns, memory_order_relaxed);

        snprintf(shm_name, sizeof(shm_name), "udk-graph-%s", dev->cfg.name);
        r = udk_shm_create(&dev->graph_shm, shm_name, sizeof(struct udk_activation));
        if (r < 0) {
                snprintf(err, err_size, "cannot create the graph segment: %s", strerror(-r));
                segments_finish(dev);
                return r;
        }
        dev->graph = dev->graph_shm.data;
        dev->graph->version = UDK_ACTIVATION_VERSION;
        udk_histogram_reset(&dev->graph_times);

        stream_init(dev, UDK_DIRECTION_INPUT, dev->cfg.input_channels, sh->input_offset);
        stream_init(dev, UDK_DIRECTION_OUTPUT, dev->cfg.output_channels, sh->output_offset);
        return 0;
}

int udk_device_open(struct udk_device *dev, char *err, size_t err_size)
{
        int r;

        if (dev->opened)
                return -EALREADY;
        r = segments_create(dev, err, err_size);
        if (r < 0)
                return r;
        dev->opening = true;
        if (dev->backend->open) {
                r = dev->backend->open(dev->backend_instance, dev, err, err_size);
                if (r < 0) {
                        dev->opening = false;
                        segments_finish(dev);
                        return r;
                }
        }
        dev->opening = false;
        dev->opened = true;
        return 0;
}

int udk_device_set_timing(struct udk_device *dev, uint32_t rate, uint32_t period, char *err, size_t err_size)
{
        struct udk_device_config cfg;
        uint32_t old_rate, old_period;
        int r;

        if (!dev || !dev->opening)
                return -EBUSY;
        if (rate == dev->cfg.rate && period == dev->cfg.period)
                return 0;
        cfg = dev->cfg;
        cfg.rate = rate;
        cfg.period = period;
        r = udk_device_config_check(&cfg, err, err_size);
        if (r < 0)
                return r;
        old_rate = dev->cfg.rate;
        old_period = dev->cfg.period;
        /* Nothing has mapped the segments yet: they are made anew for the new sizes. */
        segments_finish(dev);
        dev->cfg.rate = rate;
        dev->cfg.period = period;
        dev->ring_frames = period * dev->cfg.ring_periods;
        dev->period_ns = (uint64_t)period * UDK_NSEC_PER_SEC / rate;
        r = segments_create(dev, err, err_size);
        if (r < 0) {
                char ignored[256];
                dev->cfg.rate = old_rate;
                dev->cfg.period = old_period;
                dev->ring_frames = old_period * dev->cfg.ring_periods;
                dev->period_ns = (uint64_t)old_period * UDK_NSEC_PER_SEC / old_rate;
                /* udk_device_open() finishes what it made when open fails. */
                segments_create(dev, ignored, sizeof(ignored));
                return r;
        }
        return 0;
}

void udk_device_use_backend_thread(struct udk_device *dev, bool realtime, int priority)
{
        dev->backend_thread = true;
        dev->realtime = realtime;
        if (realtime && priority >= 1 && priority <= 99)
                dev->cfg.rt_priority = priority;
}

void udk_device_request(struct udk_device *dev, uint32_t requests, const char *reason)
{
        uint32_t zero = 0;

        /* The first reason stays: the claim (0 free, 1 being written, 2 written)
         * makes sure only one writer copies. */
        if (reason && atomic_compare_exchange_strong_explicit(&dev->request_reason_claimed, &zero, 1,
                                                              memory_order_relaxed, memory_order_relaxed)) {
                size_t i;
                for (i = 0; i + 1 < sizeof(dev->request_reason) && reason[i]; i++)
                        dev->request_reason[i] = reason[i];
                dev->request_reason[i] = '\0';
                /* Release: the reader takes the text only once it is whole. */
                atomic_store_explicit(&dev->request_reason_claimed, 2, memory_order_release);
        }
        /* Release: the reason is there before the control thread sees the bits. */
        atomic_fetch_or_explicit(&dev->requests, requests, memory_order_release);
}

uint32_t udk_device_take_requests(struct udk_device *dev, char *reason, size_t reason_size)
{
        /* Acquire: pairs with udk_device_request()'s release. */
        uint32_t r = atomic_exchange_explicit(&dev->requests, 0, memory_order_acquire);

        if (reason && reason_size) {
                reason[0] = '\0';
                if (r && atomic_load_explicit(&dev->request_reason_claimed, memory_order_acquire) == 2)
                        udk_strlcpy(reason, dev->request_reason, reason_size);
        }
        return r;
}

int udk_device_start(struct udk_device *dev)
{
        int r;

        if (!dev || !dev->opened)
                return -EINVAL;
        if (dev->thread_started)
                return -EALREADY;
        if (dev->backend_thread) {
                /* The backend's thread runs the cycle from its start on. */
                atomic_store(&dev->keep_running, true);
                r = dev->backend->start(dev->backend_instance, &dev->rt.start_time);
                if (r < 0) {
                        atomic_store(&dev->keep_running, false);
                        return r;
                }
                dev->backend_started = true;
                dev->thread_started = true;
                return 0;
        }
        if (!dev->backend_started) {
                r = dev->backend->start(dev->backend_instance, &dev->rt.start_time);
                if (r < 0)
                        return r;
                dev->backend_started = true;
        }
        atomic_store(&dev->keep_running, true);
        atomic_store(&dev->failure, 0);
        r = udk_rt_thread_start(&dev->thread, dev->cfg.rt_priority, dev->cfg.cpu, udk_cycle_thread, dev,
                                &dev->realtime);
        if (r < 0)
                return r;
        dev->thread_started = true;
        return 0;
}

int udk_device_failure(const struct udk_device *dev)
{
        /* Acquire: pairs with the RT thread's release, its last cycle done. */
        return atomic_load_explicit(&dev->failure, memory_order_acquire);
}

void udk_device_stop(struct udk_device *dev)
{
        if (!dev)
                return;
        if (dev->backend_thread) {
                /* The backend's stop waits for its thread's cycle to end. */
                atomic_store(&dev->keep_running, false);
                dev->thread_started = false;
        }
        if (dev->thread_started) {
                atomic_store(&dev->keep_running, false);
                pthread_join(dev->thread, NULL);
                dev->thread_started = false;
        }
        if (dev->backend_started) {
                if (dev->backend->stop)
                        dev->backend->stop(dev->backend_instance);
                dev->backend_started = false;
        }
}

int udk_device_cycle(struct udk_device *dev, uint64_t host_time)
{
        int r;

        if (!dev || !dev->opened)
                return -EINVAL;
        if (dev->thread_started || dev->backend_thread)
                return -EBUSY;
        if (!dev->backend_started) {
                r = dev->backend->start(dev->backend_instance, &dev->rt.start_time);
                if (r < 0)
                        return r;
                dev->backend_started = true;
        }
        udk_cycle_process(dev, host_time, host_time);
        return 0;
}

/* --- plans --- */

static void handler_unref(struct udk_handler *h)
{
        if (--h->refs > 0 || !h->removed)
                return;
        if (h->destroy)
                h->destroy(h->ctx);
        free(h);
}

static void node_unref(struct udk_node *n)
{
        if (--n->refs > 0 || !n->removed)
                return;
        if (n->destroy)
                n->destroy(n->data);
        free(n->output);
        free(n);
}

static void plan_free(struct udk_plan *plan)
{
        if (!plan)
                return;
        for (uint32_t i = 0; i < plan->n_handlers; i++)
                handler_unref(plan->handlers[i].handler);
        for (uint32_t i = 0; i < plan->n_nodes; i++)
                node_unref(plan->nodes[i].node);
        for (uint32_t i = 0; i < plan->n_remotes; i++)
                udk_remote_unref(plan->remotes[i]);
        free(plan);
}

void udk_device_collect(struct udk_device *dev)
{
        struct udk_plan *plan;

        /* Acquire in udk_ring_read: the RT thread is done with what it pushed. */
        while (udk_ring_read(&dev->retired, &plan, 1) == 1)
                plan_free(plan);
}

/* Build a plan from the control thread's view and hand it to the RT thread. */
int udk_device_plan_publish(struct udk_device *dev)
{
        struct udk_plan *plan = calloc(1, sizeof(*plan)), *stale;

        if (!plan)
                return -ENOMEM;
        for (uint32_t i = 0; i < dev->n_handlers; i++) {
                struct udk_handler *h = dev->handlers[i];
                plan->handlers[i] = (struct udk_plan_handler){ h->fn, h->ctx, h->ops, h };
                h->refs++;
        }
        plan->n_handlers = dev->n_handlers;
        for (uint32_t i = 0; i < dev->n_nodes; i++) {
                struct udk_node *n = dev->nodes[i];
                plan->nodes[i] = (struct udk_plan_node){ n->process, n->data, n->output, n };
                n->refs++;
        }
        plan->n_nodes = dev->n_nodes;
        for (uint32_t i = 0; i < dev->n_remotes; i++) {
                plan->remotes[i] = dev->remotes[i];
                dev->remotes[i]->refs++;
        }
        plan->n_remotes = dev->n_remotes;

        /* Release: the plan's contents are visible before the pointer.  A
         * plan still pending was never seen by the RT thread: ours to free. */
        stale = atomic_exchange_explicit(&dev->pending, plan, memory_order_acq_rel);
        plan_free(stale);
        return 0;
}

int udk_device_add_handler(struct udk_device *dev, const char *name, udk_io_handler_fn fn, void *ctx,
                           uint32_t ops, void (*destroy)(void *ctx), struct udk_handler **ret)
{
        struct udk_handler *h;
        int r;

        if (!dev || !name || !fn || (ops & ~UDK_IO_OPS_ALL) || ops == 0)
                return -EINVAL;
        if (dev->n_handlers >= UDK_DEVICE_HANDLERS_MAX)
                return -ENOSPC;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        udk_object_init(&h->obj, UDK_CLASS_HANDLER, dev->obj.id, name);
        *h = (struct udk_handler){ .obj = h->obj, .dev = dev, .fn = fn, .ctx = ctx, .ops = ops, .destroy = destroy };
        dev->handlers[dev->n_handlers++] = h;
        r = udk_device_plan_publish(dev);
        if (r < 0) {
                dev->n_handlers--;
                free(h);
                return r;
        }
        if (ret)
                *ret = h;
        return 0;
}

int udk_device_remove_handler(struct udk_device *dev, struct udk_handler *handler)
{
        uint32_t i;

        if (!dev || !handler)
                return -EINVAL;
        for (i = 0; i < dev->n_handlers && dev->handlers[i] != handler; i++)
                ;
        if (i == dev->n_handlers)
                return -ENOENT;
        memmove(&dev->handlers[i], &dev->handlers[i + 1], (dev->n_handlers - i - 1) * sizeof(dev->handlers[0]));
        dev->n_handlers--;
        handler->removed = true;
        /* The handler lives on in the plans that hold it until they retire. */
        handler->refs++;
        int r = udk_device_plan_publish(dev);
        handler_unref(handler);
        return r;
}

uint32_t udk_device_n_handlers(const struct udk_device *dev)
{
        return dev->n_handlers;
}

struct udk_handler *udk_device_handler(struct udk_device *dev, uint32_t index)
{
        return index < dev->n_handlers ? dev->handlers[index] : NULL;
}

const char *udk_handler_name(const struct udk_handler *handler)
{
        return handler->obj.name;
}

udk_object_id udk_handler_id(const struct udk_handler *handler)
{
        return handler->obj.id;
}

void *udk_handler_context(const struct udk_handler *handler)
{
        return handler->ctx;
}

void udk_handler_set_tag(struct udk_handler *handler, const void *tag)
{
        handler->tag = tag;
}

const void *udk_handler_tag(const struct udk_handler *handler)
{
        return handler->tag;
}

int udk_device_add_node(struct udk_device *dev, const char *name, udk_node_process_fn process, void *data,
                        void (*destroy)(void *data), struct udk_node **ret)
{
        struct udk_node *n;
        int r;

        if (!dev || !name || !process)
                return -EINVAL;
        if (dev->n_nodes >= UDK_DEVICE_NODES_MAX)
                return -ENOSPC;
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        if (dev->cfg.output_channels > 0) {
                n->output = calloc((size_t)dev->cfg.period * dev->cfg.output_channels, sizeof(float));
                if (!n->output) {
                        free(n);
                        return -ENOMEM;
                }
        }
        udk_object_init(&n->obj, UDK_CLASS_HANDLER, dev->obj.id, name);
        n->dev = dev;
        n->process = process;
        n->data = data;
        n->destroy = destroy;
        dev->nodes[dev->n_nodes++] = n;
        r = udk_device_plan_publish(dev);
        if (r < 0) {
                dev->n_nodes--;
                free(n->output);
                free(n);
                return r;
        }
        if (ret)
                *ret = n;
        return 0;
}

int udk_device_remove_node(struct udk_device *dev, struct udk_node *node)
{
        uint32_t i;
        int r;

        if (!dev || !node)
                return -EINVAL;
        for (i = 0; i < dev->n_nodes && dev->nodes[i] != node; i++)
                ;
        if (i == dev->n_nodes)
                return -ENOENT;
        memmove(&dev->nodes[i], &dev->nodes[i + 1], (dev->n_nodes - i - 1) * sizeof(dev->nodes[0]));
        dev->n_nodes--;
        node->removed = true;
        node->refs++;
        r = udk_device_plan_publish(dev);
        node_unref(node);
        return r;
}

uint32_t udk_device_n_nodes(const struct udk_device *dev)
{
        return dev->n_nodes;
}

struct udk_device *udk_device_destroy(struct udk_device *dev)
{
        if (!dev)
                return NULL;
        udk_device_stop(dev);
        udk_device_collect(dev);
        plan_free(atomic_exchange(&dev->pending, NULL));
        plan_free(dev->rt.plan);
        dev->rt.plan = NULL;
        /* Handlers and nodes still listed were never removed: remove them
         * now; with no plan left holding them they go at once. */
        while (dev->n_handlers > 0) {
                struct udk_handler *h = dev->handlers[--dev->n_handlers];
                h->removed = true;
                h->refs++;
                handler_unref(h);
        }
        while (dev->n_nodes > 0) {
                struct udk_node *n = dev->nodes[--dev->n_nodes];
                n->removed = true;
                n->refs++;
                node_unref(n);
        }
        while (dev->n_remotes > 0) {
                struct udk_remote *r = dev->remotes[--dev->n_remotes];
                r->removed = true;
                r->refs++;
                udk_remote_unref(r);
        }
        udk_shm_finish(&dev->graph_shm);
        if (dev->opened && dev->backend->close)
                dev->backend->close(dev->backend_instance);
        for (uint32_t i = 0; i < dev->n_controls; i++)
                free(dev->controls[i]);
        free(dev->backend_instance);
        udk_shm_finish(&dev->shm);
        free(dev);
        return NULL;
}

/* --- properties --- */

udk_object_id udk_device_id(const struct udk_device *dev)
{
        return dev->obj.id;
}

const struct udk_object *udk_device_object(const struct udk_device *dev)
{
        return &dev->obj;
}

const struct udk_device_config *udk_device_config(const struct udk_device *dev)
{
        return &dev->cfg;
}

const char *udk_device_uid(const struct udk_device *dev)
{
        return dev->cfg.uid;
}

const struct udk_backend_ops *udk_device_backend(const struct udk_device *dev)
{
        return dev->backend;
}

void *udk_device_backend_instance(const struct udk_device *dev)
{
        return dev->backend_instance;
}

uint32_t udk_device_ring_frames(const struct udk_device *dev)
{
        return dev->ring_frames;
}

bool udk_device_is_running(const struct udk_device *dev)
{
        return dev->thread_started;
}

bool udk_device_is_realtime(const struct udk_device *dev)
{
        return dev->thread_started && dev->realtime;
}

void udk_device_set_latency(struct udk_device *dev, enum udk_direction dir, uint32_t latency,
                            uint32_t safety_offset)
{
        dev->latency[dir] = latency;
        dev->safety_offset[dir] = safety_offset;
        dev->streams[dir].latency = latency;
}

uint32_t udk_device_latency(const struct udk_device *dev, enum udk_direction dir)
{
        return dev->latency[dir];
}

uint32_t udk_device_safety_offset(const struct udk_device *dev, enum udk_direction dir)
{
        return dev->safety_offset[dir];
}

struct udk_stream *udk_device_stream(struct udk_device *dev, enum udk_direction dir)
{
        return dev->has_stream[dir] ? &dev->streams[dir] : NULL;
}

const struct udk_zero_timestamp *udk_device_zero_timestamp(const struct udk_device *dev)
{
        return dev->shared ? &dev->shared->zts : NULL;
}

const struct udk_cycle_stats *udk_device_stats(const struct udk_device *dev)
{
        return dev->shared ? &dev->shared->stats : NULL;
}

int udk_device_shm_fd(const struct udk_device *dev)
{
        return dev->shm.fd;
}

size_t udk_device_shm_size(const struct udk_device *dev)
{
        return dev->shm.size;
}

void udk_device_set_rt_hooks(struct udk_device *dev, const struct udk_rt_hooks *hooks)
{
        dev->hooks = hooks ? *hooks : (struct udk_rt_hooks){ 0 };
}

/* --- controls --- */

static struct udk_control *control_add(struct udk_device *dev, const char *name, int *ret_error)
{
        struct udk_control *c;
        int r = 0;

        if (!name || !name[0] || strlen(name) >= UDK_OBJECT_NAME_MAX)
                r = -EINVAL;
        else if (udk_device_find_control(dev, name))
                r = -EEXIST;
        else if (dev->n_controls >= UDK_DEVICE_CONTROLS_MAX)
                r = -ENOSPC;
        if (r < 0) {
                if (ret_error)
                        *ret_error = r;
                return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (!c && ret_error)
                *ret_error = -ENOMEM;
        return c;
}

static struct udk_control *control_commit(struct udk_device *dev, struct udk_control *c, int r, int *ret_error)
{
        if (r < 0) {
                free(c);
                if (ret_error)
                        *ret_error = r;
                return NULL;
        }
        dev->controls[dev->n_controls++] = c;
        return c;
}

struct udk_control *udk_device_add_level_control(struct udk_device *dev, const char *name, float min_db,
                                                 float max_db, float default_db, int *ret_error)
{
        struct udk_control *c = control_add(dev, name, ret_error);
        if (!c)
                return NULL;
        return control_commit(dev, c, udk_control_init_level(c, dev->obj.id, name, min_db, max_db, default_db),
                              ret_error);
}

struct udk_control *udk_device_add_boolean_control(struct udk_device *dev, const char *name, bool value,
                                                   int *ret_error)
{
        struct udk_control *c = control_add(dev, name, ret_error);
        if (!c)
                return NULL;
        return control_commit(dev, c, udk_control_init_boolean(c, dev->obj.id, name, value), ret_error);
}

struct udk_control *udk_device_add_selector_control(struct udk_device *dev, const char *name,
                                                    const struct udk_selector_item *items, uint32_t n_items,
                                                    int32_t value, int *ret_error)
{
        struct udk_control *c = control_add(dev, name, ret_error);
        if (!c)
                return NULL;
        return control_commit(dev, c, udk_control_init_selector(c, dev->obj.id, name, items, n_items, value),
                              ret_error);
}

struct udk_control *udk_device_add_number_control(struct udk_device *dev, const char *name, float min,
                                                  float max, float value, int *ret_error)
{
        struct udk_control *c = control_add(dev, name, ret_error);
        if (!c)
                return NULL;
        return control_commit(dev, c, udk_control_init_number(c, dev->obj.id, name, min, max, value),
                              ret_error);
}

struct udk_control *udk_device_find_control(struct udk_device *dev, const char *name)
{
        for (uint32_t i = 0; i < dev->n_controls; i++)
                if (strcmp(dev->controls[i]->obj.name, name) == 0)
                        return dev->controls[i];
        return NULL;
}

uint32_t udk_device_n_controls(const struct udk_device *dev)
{
        return dev->n_controls;
}

struct udk_control *udk_device_control(struct udk_device *dev, uint32_t index)
{
        return index < dev->n_controls ? dev->controls[index] : NULL;
}
