/* SPDX-License-Identifier: MIT */
/*
 * Streams: a node in a device's graph, its segments, and the RT thread
 * that udkd (or the node before it) wakes once per cycle.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/device.h>
#include <udk/log.h>
#include <udk/rt.h>

#include "client-private.h"

#define STREAM_PRIORITY_DEFAULT 60

void udk_client_stream_params_defaults(struct udk_client_stream_params *params)
{
        if (!params)
                return;
        *params = (struct udk_client_stream_params){
                .device = 0,
                .input_channels = 2,
                .output_channels = 2,
                .rate = 0,
                .link = UDK_LINK_DEVICE,
                .gain = 1.0f,
                .name = NULL,
                .rt_priority = 0,
                .cpu = -1,
                .quality = UDK_RESAMPLER_QUALITY_DEFAULT,
        };
}

/* --- the RT thread --- */

/* A peer named by a slot udkd wrote: trusted only if we mapped it.  RT-safe. */
static struct udk_client_peer *stream_peer(struct udk_client_stream *s, int32_t slot)
{
        if (slot < 0 || slot >= (int32_t)UDK_PEER_SLOTS_MAX)
                return NULL;
        return atomic_load_explicit(&s->peers->slots[slot], memory_order_seq_cst);
}

/* The input at T: the node's own buffer, or the chain's previous output.  RT-safe. */
static void stream_copy_input(struct udk_client_stream *s, const struct udk_client_peer *from)
{
        const uint32_t in_ch = s->input_channels, frames = s->period;

        if (!from) {
                memcpy(s->rt.input, s->rt.node_input, sizeof(float) * frames * in_ch);
                return;
        }
        if (from->output_channels == in_ch) {
                memcpy(s->rt.input, from->output, sizeof(float) * frames * in_ch);
                return;
        }
        for (uint32_t f = 0; f < frames; f++) {
                const float *src = from->output + (size_t)f * from->output_channels;
                float *dst = s->rt.input + (size_t)f * in_ch;
                for (uint32_t ch = 0; ch < in_ch; ch++)
                        dst[ch] = ch < from->output_channels ? src[ch] : 0.0f;
        }
}

/* One cycle, from the wake to the next participant's trigger.  RT-safe. */
static void stream_cycle(struct udk_client_stream *s)
{
        struct udk_activation *a = s->rt.own;
        /* Fields udkd wrote before the trigger; read each once. */
        uint64_t sample_time = __atomic_load_n(&a->sample_time, __ATOMIC_RELAXED);
        uint64_t host_time = __atomic_load_n(&a->host_time, __ATOMIC_RELAXED);
        uint32_t frames = __atomic_load_n(&a->frames, __ATOMIC_RELAXED);
        int32_t next = __atomic_load_n(&a->next, __ATOMIC_RELAXED);
        int32_t input = __atomic_load_n(&a->input, __ATOMIC_RELAXED);
        float gain = udk_float_from_bits(__atomic_load_n(&a->gain_bits, __ATOMIC_RELAXED));
        const size_t out_samples = (size_t)s->period * s->output_channels;
        struct udk_client_peer *from = NULL, *to = NULL;
        bool bad = frames != s->period;
        int r = -1;

        if (input != UDK_ACTIVATION_INPUT_DEVICE) {
                from = stream_peer(s, input);
                bad |= !from;
        }
        if (next != UDK_ACTIVATION_NEXT_DRIVER) {
                to = stream_peer(s, next);
                bad |= !to;
        }
        if (bad)
                atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);

        if (frames == s->period) {
                bool convert = s->convert_in || s->convert_out;
                struct udk_node_cycle cycle = {
                        .sample_time = sample_time,
                        .host_time = host_time,
                        .frames = frames,
                        .input_channels = s->input_channels,
                        .output_channels = s->output_channels,
                        .input = s->input_channels ? s->rt.input : NULL,
                        .output = s->output_channels ? s->rt.output : NULL,
                };

                if (s->input_channels)
                        stream_copy_input(s, from);
                if (convert) {
                        /* Both adapters keep the same schedule: either tells this cycle's frames. */
                        cycle.frames = udk_rate_adapter_client_frames(s->convert_in ? s->convert_in : s->convert_out);
                        /* The client's frames, counted on from the first cycle (and
                         * again after a gap), so that each cycle starts where the
                         * last one ended. */
                        if (s->rt.cycles == 0 || sample_time != s->rt.next_device_time)
                                s->rt.client_time =
                                        (uint64_t)((unsigned __int128)sample_time * s->client_rate / s->rate);
                        cycle.sample_time = s->rt.client_time;
                        s->rt.client_time += cycle.frames;
                        s->rt.next_device_time = sample_time + frames;
                        s->rt.cycles++;
                        if (s->input_channels) {
                                udk_rate_adapter_process(s->convert_in, s->rt.input, s->rt.client_input);
                                cycle.input = s->rt.client_input;
                        }
                        if (s->output_channels) {
                                memset(s->rt.client_output, 0,
                                       sizeof(float) * cycle.frames * s->output_channels);
                                cycle.output = s->rt.client_output;
                        }
                } else {
                        memset(s->rt.output, 0, sizeof(float) * out_samples);
                }
                r = s->process(s->data, &cycle);
                if (s->convert_out) {
                        /* A refused cycle still moves the schedule on, as silence. */
                        if (r < 0)
                                memset(s->rt.client_output, 0,
                                       sizeof(float) * cycle.frames * s->output_channels);
                        udk_rate_adapter_process(s->convert_out, s->rt.client_output, s->rt.output);
                }
                if (atomic_fetch_add_explicit(&s->cycles, 1, memory_order_relaxed) == 0) {
                        atomic_store_explicit(&s->running, 1, memory_order_release);
                        udk_futex_wake(&s->running);
                }
        }
        if (r >= 0 && isfinite(gain)) {
                for (size_t i = 0; i < out_samples; i++)
                        s->rt.node_output[i] = s->rt.output[i] * gain;
        } else {
                memset(s->rt.node_output, 0, sizeof(float) * out_samples);
        }

        uint64_t now = udk_time_now();
        if (!udk_activation_finish(a, now)) {
                /* udkd gave up on this cycle: our finish must wake nobody. */
                udk_activation_recover(a);
                atomic_fetch_add_explicit(&s->late, 1, memory_order_relaxed);
                return;
        }
        if (next == UDK_ACTIVATION_NEXT_DRIVER)
                udk_activation_trigger(s->rt.graph, now);
        else if (to)
                udk_activation_trigger(to->activation, now);
}

static void *stream_thread(void *arg)
{
        struct udk_client_stream *s = arg;

        udk_rt_prefault_stack();
        while (!atomic_load_explicit(&s->quit, memory_order_acquire)) {
                uint64_t awake;
                int r;

                /* No time-out: a timed wait arms an hrtimer each cycle, which
                 * on a VM is an exit to the hypervisor.  A close wakes us
                 * (again and again, see stream_stop_thread()). */
                r = udk_activation_wait_triggered(s->rt.own, 0, &awake);
                if (r < 0)
                        continue;
                /* The trigger's release (seen by the wait's acquire) orders its stamp. */
                s->rt.signal_time = atomic_load_explicit(&s->rt.own->signal_time, memory_order_relaxed);
                s->rt.awake_time = awake;
                /* Odd from here: peers this cycle loads stay mapped until it ends. */
                atomic_fetch_add_explicit(&s->epoch, 1, memory_order_seq_cst);
                stream_cycle(s);
                atomic_fetch_add_explicit(&s->epoch, 1, memory_order_release);
        }
        return NULL;
}

/* SCHED_FIFO where permitted (else normal priority and one warning), on
 * the caller's CPU, else udkd's choice. */
static int stream_start_thread(struct udk_client_stream *s, int server_cpu, char *err, size_t err_size)
{
        int cpu = s->cpu >= 0 ? s->cpu : server_cpu;
        int r;

        r = udk_rt_thread_start(&s->thread, s->priority, cpu, stream_thread, s, &s->realtime);
        /* udkd's CPU may be outside our affinity mask: run unpinned then. */
        if (r == -EINVAL && s->cpu < 0 && cpu >= 0)
                return stream_start_thread(s, -1, err, err_size);
        if (r < 0) {
                snprintf(err, err_size, "cannot start the stream's thread%s: %s",
                         cpu >= 0 ? " on that CPU" : "", strerror(-r));
                return r;
        }
        pthread_setname_np(s->thread, "udk-stream");
        s->thread_started = true;
        return 0;
}

static void stream_stop_thread(struct udk_client_stream *s)
{
        if (!s->thread_started)
                return;
        atomic_store_explicit(&s->quit, true, memory_order_release);
        /* A wake can land just before the thread starts to wait: wake it
         * until it has left. */
        for (;;) {
                struct timespec ts;

                udk_futex_wake(&s->rt.own->status);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += STREAM_STOP_POLL_NS;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                if (pthread_timedjoin_np(s->thread, NULL, &ts) == 0)
                        break;
        }
        s->thread_started = false;
}

void stream_free(struct udk_client_stream *s)
{
        if (!s)
                return;
        stream_stop_thread(s);
        udk_shm_finish(&s->node_shm);
        udk_shm_finish(&s->graph_shm);
        udk_shm_finish(&s->device_shm);
        free(s->rt.input);
        free(s->rt.output);
        free(s->rt.client_input);
        free(s->rt.client_output);
        udk_rate_adapter_destroy(s->convert_in);
        udk_rate_adapter_destroy(s->convert_out);
        free(s);
}

/* --- OPENED, on the background thread --- */

static int opened_fail(struct udk_client_request *req, int r, const char *fmt, ...) UDK_PRINTF(3, 4);
static int opened_fail(struct udk_client_request *req, int r, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(req->failure_text, sizeof(req->failure_text), "udkd's open reply: ");

        va_start(ap, fmt);
        vsnprintf(req->failure_text + n, sizeof(req->failure_text) - (size_t)n, fmt, ap);
        va_end(ap);
        return r;
}

static bool fits(uint64_t offset, uint64_t bytes, size_t size)
{
        return offset + bytes <= size;
}

static int opened_check(const struct udk_client_stream *s, const struct udk_msg_opened *m,
                        struct udk_client_request *req)
{
        if (m->period < UDK_PERIOD_MIN || m->period > UDK_PERIOD_MAX)
                return opened_fail(req, -EBADMSG, "period %u frames, outside %u..%u", m->period,
                                   UDK_PERIOD_MIN, UDK_PERIOD_MAX);
        if (m->input_channels != s->input_channels || m->output_channels != s->output_channels)
                return opened_fail(req, -EBADMSG, "%u in and %u out channels, %u and %u asked for",
                                   m->input_channels, m->output_channels, s->input_channels,
                                   s->output_channels);
        if (m->slot >= UDK_PEER_SLOTS_MAX)
                return opened_fail(req, -EBADMSG, "slot %u, there are %u", m->slot, UDK_PEER_SLOTS_MAX);
        if (m->input_offset % sizeof(float) || m->output_offset % sizeof(float) ||
            (m->input_channels && m->input_offset < sizeof(struct udk_node_shm)) ||
            (m->output_channels && m->output_offset < sizeof(struct udk_node_shm)))
                return opened_fail(req, -EBADMSG,
                                   "buffers at offsets %u and %u, inside the header or misaligned",
                                   m->input_offset, m->output_offset);
        if (m->zts_offset % 8)
                return opened_fail(req, -EBADMSG, "zero timestamp at offset %u, misaligned", m->zts_offset);
        return 0;
}

/* Map the three segments of OPENED and check they hold what it says. */
static int opened_map(struct udk_client_stream *s, const struct udk_msg_opened *m, int *fds,
                      struct udk_client_request *req)
{
        size_t in_bytes = sizeof(float) * m->period * m->input_channels;
        size_t out_bytes = sizeof(float) * m->period * m->output_channels;
        const struct udk_node_shm *hdr;
        int r;

        r = udk_shm_map(&s->node_shm, fds[0], 0, true);
        if (r < 0)
                return opened_fail(req, r, "cannot map the node's segment: %s", strerror(-r));
        r = udk_shm_map(&s->graph_shm, fds[1], 0, true);
        if (r < 0)
                return opened_fail(req, r, "cannot map the graph's segment: %s", strerror(-r));
        r = udk_shm_map(&s->device_shm, fds[2], 0, false);
        if (r < 0)
                return opened_fail(req, r, "cannot map the device's segment: %s", strerror(-r));

        hdr = s->node_shm.data;
        if (s->node_shm.size < sizeof(*hdr) || !fits(m->input_offset, in_bytes, s->node_shm.size) ||
            !fits(m->output_offset, out_bytes, s->node_shm.size))
                return opened_fail(req, -EBADMSG, "node segment of %zu bytes, too small for its buffers",
                                   s->node_shm.size);
        if (hdr->magic != UDK_NODE_SHM_MAGIC)
                return opened_fail(req, -EBADMSG, "node segment magic 0x%08x, not a node's", hdr->magic);
        if (s->graph_shm.size < sizeof(struct udk_activation))
                return opened_fail(req, -EBADMSG, "graph segment of %zu bytes, too small",
                                   s->graph_shm.size);
        if (!fits(m->zts_offset, sizeof(struct udk_zero_timestamp), s->device_shm.size))
                return opened_fail(req, -EBADMSG, "device segment of %zu bytes, no zero timestamp at %u",
                                   s->device_shm.size, m->zts_offset);

        s->rt.own = s->node_shm.data;
        s->rt.graph = s->graph_shm.data;
        s->rt.node_input = (const float *)((uint8_t *)s->node_shm.data + m->input_offset);
        s->rt.node_output = (float *)((uint8_t *)s->node_shm.data + m->output_offset);
        s->zts = (const struct udk_zero_timestamp *)((const uint8_t *)s->device_shm.data + m->zts_offset);

        /* At least one float each, so the RT thread never checks for NULL;
         * calloc'd and touched now, locked by mlockall(MCL_FUTURE). */
        s->rt.input = calloc(UDK_MAX(in_bytes, sizeof(float)), 1);
        s->rt.output = calloc(UDK_MAX(out_bytes, sizeof(float)), 1);
        if (!s->rt.input || !s->rt.output)
                return opened_fail(req, -ENOMEM, "out of memory");
        memset(s->rt.input, 0, UDK_MAX(in_bytes, sizeof(float)));
        memset(s->rt.output, 0, UDK_MAX(out_bytes, sizeof(float)));
        return 0;
}

/*
 * A client rate other than the device's: one adapter per direction and the
 * buffers at the client's rate, made before the OPEN request from the
 * device's rate and period in the registry (the adapters' priming takes a
 * tenth of a second or so, and udkd runs the node from OPENED on).
 * Caller's thread, lock not held.
 */
static int stream_convert_prepare(struct udk_client *c, struct udk_client_stream *s, udk_object_id device)
{
        _udk_cleanup_free_ struct udk_msg_object *info = malloc(UDK_MSG_SIZE_MAX);
        const struct udk_prop *rate, *period;
        char why[160];
        int r;

        if (s->client_rate == 0)
                return 0;
        if (!info)
                return client_set_error(c, -ENOMEM, "out of memory");
        r = udk_client_info(c, device, info);
        if (r < 0)
                return r;
        rate = udk_msg_object_prop(info, "rate");
        period = udk_msg_object_prop(info, "period");
        if (!rate || !period || rate->type != UDK_PROP_INT || period->type != UDK_PROP_INT || rate->i <= 0 ||
            rate->i > UINT32_MAX || period->i <= 0 || period->i > UINT32_MAX)
                return client_set_error(c, -ENODEV, "object %u has no rate and period: not a device", device);
        s->convert_rate = (uint32_t)rate->i;
        s->convert_period = (uint32_t)period->i;
        if (s->client_rate == s->convert_rate)
                return 0;
        if (s->input_channels) {
                r = udk_rate_adapter_create(UDK_DIRECTION_INPUT, s->convert_rate, s->client_rate, s->convert_period,
                                            s->input_channels, s->quality, &s->convert_in, why, sizeof(why));
                if (r < 0)
                        goto fail;
                s->client_period = udk_rate_adapter_client_period(s->convert_in);
        }
        if (s->output_channels) {
                r = udk_rate_adapter_create(UDK_DIRECTION_OUTPUT, s->convert_rate, s->client_rate, s->convert_period,
                                            s->output_channels, s->quality, &s->convert_out, why, sizeof(why));
                if (r < 0)
                        goto fail;
                s->client_period = udk_rate_adapter_client_period(s->convert_out);
        }
        s->rt.client_input = calloc((size_t)s->client_period * UDK_MAX(s->input_channels, 1u), sizeof(float));
        s->rt.client_output = calloc((size_t)s->client_period * UDK_MAX(s->output_channels, 1u), sizeof(float));
        if (!s->rt.client_input || !s->rt.client_output)
                return client_set_error(c, -ENOMEM, "out of memory for the rate conversion");
        return 0;

fail:
        return client_set_error(c, r, "cannot convert %u Hz to the device's %u Hz: %s", s->client_rate,
                                s->convert_rate, why);
}

/* OPENED's rate and period against those the conversion was made for.  Background thread. */
static int stream_convert_check(struct udk_client_stream *s, const struct udk_msg_opened *m, char *err,
                                size_t err_size)
{
        bool converting = s->convert_in || s->convert_out;

        if (s->client_rate == 0 || (!converting && s->client_rate == m->rate)) {
                s->client_rate = m->rate;
                s->client_period = m->period;
                return 0;
        }
        if (!converting || m->rate != s->convert_rate || m->period != s->convert_period) {
                snprintf(err, err_size, "the device changed to %u Hz and %u frames while the stream opened",
                         m->rate, m->period);
                return -EAGAIN;
        }
        return 0;
}

int stream_opened(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                  size_t len, int *fds, unsigned n_fds)
{
        const struct udk_msg_opened *m = (const void *)msg;
        struct udk_client_stream *s = req->data;
        char err[CLIENT_ERROR_MAX];
        int r;

        if (msg->type != UDK_MSG_OPENED || s->opened) {
                for (unsigned i = 0; i < n_fds; i++)
                        close(fds[i]);
                return opened_fail(req, -EBADMSG, "a %s message where OPENED belongs",
                                   udk_msg_type_name(msg->type));
        }
        s->node = m->node;
        r = opened_check(s, m, req);
        if (r == 0)
                r = opened_map(s, m, fds, req);
        if (r == 0) {
                r = peers_table_ref(c, m->device, m->period, &s->peers, err, sizeof(err));
                if (r < 0) {
                        s->peers = NULL;
                        opened_fail(req, r, "%s", err);
                }
        }
        if (r == 0) {
                /* Our own slot, for our other streams that chain to this one. */
                r = peers_add(c, s->peers, m->node, m->slot, fds[0], m->output_channels, m->output_offset,
                              err, sizeof(err));
                if (r < 0)
                        opened_fail(req, r, "%s", err);
        }
        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
        if (r < 0)
                goto fail;

        s->device = m->device;
        s->slot = m->slot;
        s->rate = m->rate;
        s->period = m->period;
        s->input_latency = m->input_latency;
        s->output_latency = m->output_latency;

        r = stream_convert_check(s, m, err, sizeof(err));
        if (r < 0) {
                opened_fail(req, r, "%s", err);
                goto fail;
        }
        r = stream_start_thread(s, m->cpu, err, sizeof(err));
        if (r < 0) {
                opened_fail(req, r, "%s", err);
                goto fail;
        }
        s->opened = true;
        s->next = c->streams;
        c->streams = s;
        return 0;

fail:
        if (s->peers) {
                peers_remove(c, s->peers, m->node, m->slot);
                peers_table_unref(c, s->peers);
                s->peers = NULL;
        }
        return r;
}

void stream_state_changed(struct udk_client *c, const struct udk_msg_node_state *m)
{
        for (struct udk_client_stream *s = c->streams; s; s = s->next)
                if (s->node == m->node && m->state <= UDK_NODE_CLOSED) {
                        atomic_store(&s->state, m->state);
                        pthread_cond_broadcast(&c->cond);
                }
}

/* --- the caller's side --- */

static void stream_unlink(struct udk_client *c, struct udk_client_stream *s)
{
        for (struct udk_client_stream **link = &c->streams; *link; link = &(*link)->next)
                if (*link == s) {
                        *link = s->next;
                        break;
                }
}

/* Take @s out of the client's tables and free it.  Lock not held. */
static void stream_destroy(struct udk_client *c, struct udk_client_stream *s)
{
        stream_stop_thread(s);
        pthread_mutex_lock(&c->lock);
        stream_unlink(c, s);
        if (s->peers) {
                peers_remove(c, s->peers, s->node, s->slot);
                peers_table_unref(c, s->peers);
                s->peers = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        stream_free(s);
}

static int send_close(struct udk_client *c, udk_object_id node)
{
        struct udk_client_request req = {};
        struct udk_msg_object_ref m = { .id = node };

        udk_msg_init(&m.h, UDK_MSG_CLOSE, sizeof(m), 0);
        return client_request(c, &m.h, sizeof(m), &req);
}

static int resolve_priority(struct udk_client *c, int priority, int *ret)
{
        const char *env = getenv("UDK_RT_PRIORITY");
        int64_t n;

        if (priority < 0 || priority > 99)
                return client_set_error(c, -EINVAL, "rt_priority %d out of range (0..99)", priority);
        if (priority > 0) {
                *ret = priority;
                return 0;
        }
        if (!env || !*env) {
                *ret = STREAM_PRIORITY_DEFAULT;
                return 0;
        }
        if (udk_parse_int64(env, 0, 99, &n) < 0)
                return client_set_error(c, -EINVAL,
                                        "UDK_RT_PRIORITY '%s' is not a priority (0..99, 0: normal)", env);
        *ret = (int)n;
        return 0;
}

static int check_params(struct udk_client *c, const struct udk_client_stream_params *p)
{
        if (p->input_channels > UDK_CHANNELS_MAX || p->output_channels > UDK_CHANNELS_MAX)
                return client_set_error(c, -EINVAL, "%u in and %u out channels: at most %u each",
                                        p->input_channels, p->output_channels, UDK_CHANNELS_MAX);
        if (p->input_channels == 0 && p->output_channels == 0)
                return client_set_error(c, -EINVAL, "a stream needs input or output channels");
        if (p->link != UDK_LINK_DEVICE && p->link != UDK_LINK_CHAIN)
                return client_set_error(c, -EINVAL, "unknown link %d", (int)p->link);
        if (!isfinite(p->gain))
                return client_set_error(c, -EINVAL, "gain %g is not a number", (double)p->gain);
        if (p->cpu < -1 || p->cpu >= CPU_SETSIZE)
                return client_set_error(c, -EINVAL, "cpu %d out of range (-1..%d)", p->cpu, CPU_SETSIZE - 1);
        if (p->rate && (p->rate < UDK_RESAMPLER_RATE_MIN || p->rate > UDK_RESAMPLER_RATE_MAX))
                return client_set_error(c, -EINVAL, "rate %u Hz: outside %u..%u", p->rate, UDK_RESAMPLER_RATE_MIN,
                                        UDK_RESAMPLER_RATE_MAX);
        if ((unsigned)p->quality >= UDK_RESAMPLER_QUALITY_COUNT)
                return client_set_error(c, -EINVAL, "quality %d: not one of quick, low, medium, high, very-high",
                                        (int)p->quality);
        if (p->name && strlen(p->name) >= UDK_OBJECT_NAME_MAX)
                return client_set_error(c, -ENAMETOOLONG, "stream name '%s' is longer than %d characters",
                                        p->name, UDK_OBJECT_NAME_MAX - 1);
        return 0;
}

static void lock_memory_once(void)
{
        static atomic_bool locked;

        /* Current and future pages: the private buffers and the segments
         * mapped later are locked as they come. */
        if (!atomic_exchange(&locked, true))
                udk_rt_lock_memory();
}

int udk_client_open(struct udk_client *c, const struct udk_client_stream_params *params,
                    udk_client_process_fn process, void *data, struct udk_client_stream **ret)
{
        struct udk_client_request req = { .data_fn = stream_opened };
        struct udk_msg_open m = {};
        struct udk_client_stream *s;
        udk_object_id device;
        int priority = 0, r;

        if (!c)
                return -EINVAL;
        if (!params || !process || !ret)
                return client_set_error(c, -EINVAL,
                                        "open needs parameters, a process callback and a place for "
                                        "the stream");
        r = check_params(c, params);
        if (r < 0)
                return r;
        r = resolve_priority(c, params->rt_priority, &priority);
        if (r < 0)
                return r;
        device = params->device;
        if (device == 0) {
                r = registry_first_device(c, &device);
                if (r < 0)
                        return r;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return client_set_error(c, -ENOMEM, "out of memory");
        s->client = c;
        s->node_shm = s->graph_shm = s->device_shm = UDK_SHM_INIT;
        s->input_channels = params->input_channels;
        s->output_channels = params->output_channels;
        s->link = params->link;
        s->process = process;
        s->data = data;
        s->priority = priority;
        s->cpu = params->cpu;
        s->client_rate = params->rate;
        s->quality = params->quality;
        udk_strlcpy(s->name, params->name ? params->name : program_invocation_short_name, sizeof(s->name));
        atomic_init(&s->state, UDK_NODE_STARTING);

        r = stream_convert_prepare(c, s, device);
        if (r < 0) {
                stream_free(s);
                return r;
        }
        lock_memory_once();

        m.device = device;
        m.input_channels = params->input_channels;
        m.output_channels = params->output_channels;
        /* udkd serves the device's rate; other rates are converted here. */
        m.rate = 0;
        m.link = params->link;
        m.gain_bits = udk_float_to_bits(params->gain == 0.0f ? 1.0f : params->gain);
        udk_strlcpy(m.name, s->name, sizeof(m.name));
        udk_msg_init(&m.h, UDK_MSG_OPEN, sizeof(m), 0);
        req.data = s;
        r = client_request(c, &m.h, sizeof(m), &req);
        if (r == 0 && !s->opened)
                r = client_set_error(c, -EBADMSG, "udkd accepted the open request but sent no OPENED");
        if (r < 0) {
                char saved[CLIENT_ERROR_MAX];

                /* udkd made the node: take it back out of its graph. */
                memcpy(saved, c->error, sizeof(saved));
                if (s->node && r != -ECONNRESET && r != -ENOTCONN && req.status == 0)
                        send_close(c, s->node);
                memcpy(c->error, saved, sizeof(saved));
                if (s->opened)
                        stream_destroy(c, s);
                else
                        stream_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int udk_client_close(struct udk_client_stream *s)
{
        struct udk_client *c;
        int r;

        if (!s)
                return 0;
        c = s->client;
        r = send_close(c, s->node);
        if (r == 0) {
                /* Keep answering triggers until udkd let go of the node, so
                 * a chain after it never misses a wake. */
                uint64_t deadline = udk_time_now() + (uint64_t)CLIENT_CLOSE_WAIT_MS * 1000000u;

                pthread_mutex_lock(&c->lock);
                while (atomic_load(&s->state) != UDK_NODE_CLOSED && c->connected)
                        if (!client_wait(c, deadline))
                                break;
                pthread_mutex_unlock(&c->lock);
        }
        stream_destroy(c, s);
        /* Without a connection the node is gone from udkd's graph anyway. */
        return r == -ENOTCONN || r == -ECONNRESET ? 0 : r;
}

int udk_client_stream_wait_running(struct udk_client_stream *s, int timeout_ms)
{
        struct udk_client *c;
        uint64_t deadline;

        if (!s)
                return -EINVAL;
        c = s->client;
        deadline = udk_time_now() + (uint64_t)UDK_MAX(timeout_ms, 0) * 1000000u;
        for (;;) {
                uint64_t now = udk_time_now(), slice;
                uint32_t state;
                bool connected;

                if (atomic_load_explicit(&s->running, memory_order_acquire))
                        return 0;
                pthread_mutex_lock(&c->lock);
                connected = c->connected;
                pthread_mutex_unlock(&c->lock);
                if (!connected)
                        return client_set_error(c, -ENOTCONN, "not connected to udkd: %s", c->lost);
                state = atomic_load(&s->state);
                if (state == UDK_NODE_SUSPENDED || state == UDK_NODE_CLOSED)
                        return client_set_error(c, -ESHUTDOWN,
                                                "node %u was %s by udkd before its first cycle", s->node,
                                                state == UDK_NODE_CLOSED ? "closed" : "suspended");
                if (now >= deadline)
                        return client_set_error(c, -ETIMEDOUT, "node %u did not run within %d ms", s->node,
                                                timeout_ms);
                /* The RT thread wakes us on its first cycle; look at the
                 * connection every 10 ms meanwhile. */
                slice = UDK_MIN(deadline, now + 10000000u);
                udk_futex_wait(&s->running, 0, slice);
        }
}

int udk_client_stream_move(struct udk_client_stream *s, uint32_t position)
{
        struct udk_client_request req = {};
        struct udk_msg_move m = {};

        if (!s)
                return -EINVAL;
        m.node = s->node;
        m.position = position;
        udk_msg_init(&m.h, UDK_MSG_MOVE, sizeof(m), 0);
        return client_request(s->client, &m.h, sizeof(m), &req);
}

udk_object_id udk_client_stream_id(const struct udk_client_stream *s)
{
        return s ? s->node : 0;
}

uint32_t udk_client_stream_rate(const struct udk_client_stream *s)
{
        return s ? s->client_rate : 0;
}

uint32_t udk_client_stream_period(const struct udk_client_stream *s)
{
        return s ? s->client_period : 0;
}

uint32_t udk_client_stream_device_rate(const struct udk_client_stream *s)
{
        return s ? s->rate : 0;
}

uint32_t udk_client_stream_device_period(const struct udk_client_stream *s)
{
        return s ? s->period : 0;
}

uint64_t udk_client_stream_conversion_xruns(const struct udk_client_stream *s)
{
        if (!s)
                return 0;
        /* The counters are the RT thread's; a torn read of a 64-bit counter cannot happen on the
         * platforms udk runs on, and the figure is informative. */
        return (s->convert_in ? udk_rate_adapter_xruns(s->convert_in) : 0) +
               (s->convert_out ? udk_rate_adapter_xruns(s->convert_out) : 0);
}

uint32_t udk_client_stream_input_channels(const struct udk_client_stream *s)
{
        return s ? s->input_channels : 0;
}

uint32_t udk_client_stream_output_channels(const struct udk_client_stream *s)
{
        return s ? s->output_channels : 0;
}

uint32_t udk_client_stream_latency(const struct udk_client_stream *s, enum udk_direction dir)
{
        uint32_t device, convert;

        if (!s)
                return 0;
        device = dir == UDK_DIRECTION_INPUT ? s->input_latency : s->output_latency;
        if (s->client_rate == s->rate)
                return device;
        convert = dir == UDK_DIRECTION_INPUT ? (s->convert_in ? udk_rate_adapter_latency(s->convert_in) : 0)
                                             : (s->convert_out ? udk_rate_adapter_latency(s->convert_out) : 0);
        return (uint32_t)(((uint64_t)device * s->client_rate + s->rate / 2) / s->rate) + convert;
}

enum udk_node_state udk_client_stream_state(const struct udk_client_stream *s)
{
        return s ? (enum udk_node_state)atomic_load(&((struct udk_client_stream *)s)->state)
                 : UDK_NODE_CLOSED;
}

uint64_t udk_client_stream_cycles(const struct udk_client_stream *s)
{
        return s ? atomic_load_explicit(&((struct udk_client_stream *)s)->cycles, memory_order_relaxed) : 0;
}

void udk_client_stream_cycle_times(const struct udk_client_stream *s, uint64_t *ret_signal_time,
                                   uint64_t *ret_awake_time)
{
        if (ret_signal_time)
                *ret_signal_time = s ? s->rt.signal_time : 0;
        if (ret_awake_time)
                *ret_awake_time = s ? s->rt.awake_time : 0;
}

bool udk_client_stream_is_realtime(const struct udk_client_stream *s)
{
        return s && s->realtime;
}

const struct udk_zero_timestamp *udk_client_stream_zero_timestamp(const struct udk_client_stream *s)
{
        return s ? s->zts : NULL;
}
