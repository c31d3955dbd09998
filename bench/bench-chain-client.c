/* SPDX-License-Identifier: MIT */
/*
 * One client of udk-bench chain, in its own process: a libudk-client stream
 * whose callback copies its input to its output at -1 dB and records, for
 * each cycle measured, the RT thread's wake after its own trigger (awake
 * minus signal time) and after the cycle start (awake minus the first
 * client's signal time, passed along in struct bench_chain_shared).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/clock.h>
#include <udk/util.h>

#include "bench-chain.h"
#include "bench-compare.h"

#define RUNNING_TIMEOUT_MS 5000

struct chain_client {
        const struct bench_chain_client_setup *setup;
        /* Set once udk_client_open() returned; the callback may run before. */
        struct udk_client_stream *_Atomic stream;

        /* Written by the stream's RT thread only; read after udk_client_close() joined it. */
        struct udk_histogram hop;
        struct udk_histogram from_start;
        uint64_t cycles;
        uint64_t bad_times;
        uint64_t cpus;
        _Atomic uint64_t period_ns; /* compare: the nominal period, set once the stream is open */
};

static void copy_with_gain(const struct udk_node_cycle *c)
{
        uint32_t channels = UDK_MIN(c->input_channels, c->output_channels);

        if (!c->input || !c->output)
                return;
        for (uint32_t f = 0; f < c->frames; f++)
                for (uint32_t ch = 0; ch < channels; ch++)
                        c->output[f * c->output_channels + ch] =
                                c->input[f * c->input_channels + ch] * BENCH_CHAIN_GAIN;
}

/* The cycle's start as the first client saw it; false when this cycle is not measured. */
static bool cycle_start(struct chain_client *cl, const struct udk_node_cycle *c, uint64_t signal,
                        uint64_t *ret_start)
{
        struct bench_chain_shared *sh = cl->setup->shared;
        bool measured;

        /* Relaxed is enough: the chain's trigger (release) and wake (acquire) order these
         * stores of the first client before the loads of the clients after it. */
        if (cl->setup->index == 0) {
                measured = atomic_load_explicit(&sh->measuring, memory_order_relaxed);
                atomic_store_explicit(&sh->start_sample_time, c->sample_time, memory_order_relaxed);
                atomic_store_explicit(&sh->start_signal_time, signal, memory_order_relaxed);
                atomic_store_explicit(&sh->start_measured, measured, memory_order_relaxed);
                *ret_start = signal;
                return measured;
        }
        if (!atomic_load_explicit(&sh->start_measured, memory_order_relaxed) ||
            atomic_load_explicit(&sh->start_sample_time, memory_order_relaxed) != c->sample_time)
                return false;
        *ret_start = atomic_load_explicit(&sh->start_signal_time, memory_order_relaxed);
        return true;
}

/*
 * udk-bench compare's stamps, as its JACK client makes them: entry and exit
 * of the work, then the cycle's start (udkd's trigger of client 1) and tick
 * (the period boundary the device's clock estimates: the cycle's host time,
 * which is its sample time's, plus one period).  RT-safe.
 */
static void compare_stamp(struct chain_client *cl, struct udk_client_stream *stream,
                          const struct udk_node_cycle *c, uint64_t entry, uint64_t exit)
{
        uint64_t signal = 0, awake = 0;

        if (!stream)
                return;
        if (cl->setup->index == 0)
                udk_client_stream_cycle_times(stream, &signal, &awake);
        bench_compare_stamp(cl->setup->table, cl->setup->index, (uint32_t)c->sample_time, signal,
                            c->host_time + atomic_load_explicit(&cl->period_ns, memory_order_relaxed), entry,
                            exit);
}

/* RT-safe: arithmetic, atomics, vDSO/rseq reads of the clock and the CPU. */
static int chain_process(void *data, const struct udk_node_cycle *c)
{
        struct chain_client *cl = data;
        uint64_t entry = cl->setup->table ? udk_time_now() : 0;
        struct udk_client_stream *stream = atomic_load_explicit(&cl->stream, memory_order_acquire);
        uint64_t signal, awake, start;
        int cpu;

        copy_with_gain(c);
        if (cl->setup->table) {
                compare_stamp(cl, stream, c, entry, udk_time_now());
                return 0;
        }
        if (!stream)
                return 0;
        udk_client_stream_cycle_times(stream, &signal, &awake);
        if (!cycle_start(cl, c, signal, &start))
                return 0;
        if (awake < signal || signal < start) {
                cl->bad_times++;
                return 0;
        }
        udk_histogram_add(&cl->hop, awake - signal);
        udk_histogram_add(&cl->from_start, awake - start);
        cl->cycles++;
        cpu = sched_getcpu();
        if (cpu >= 0)
                cl->cpus |= UINT64_C(1) << UDK_MIN(cpu, 63);
        return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int bench_chain_msg_write(int fd, const struct bench_chain_msg *msg)
{
        return write_all(fd, msg, sizeof(*msg));
}

int bench_chain_msg_read(int fd, struct bench_chain_msg *msg, int timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;
        char *p = (char *)msg;
        size_t len = 0;

        while (len < sizeof(*msg)) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                uint64_t now = udk_time_now();
                ssize_t n;
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)UDK_MAX((deadline - now) / 1000000u, 1u));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                n = read(fd, p + len, sizeof(*msg) - len);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EPIPE;
                len += (size_t)n;
        }
        return 0;
}

/* Block until udk-bench says stop (a byte or EOF) or @timeout_s passed. */
static int wait_for_stop(int fd, double timeout_s)
{
        uint64_t deadline = udk_time_now() + (uint64_t)(timeout_s * 1e9);

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                uint64_t now = udk_time_now();
                char byte;
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)UDK_MIN((deadline - now) / 1000000u + 1, 60000u));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0 && read(fd, &byte, 1) >= 0)
                        return 0;
        }
}

static int fail(const struct bench_chain_client_setup *setup, struct bench_chain_msg *msg, int r,
                const char *what, const char *why)
{
        msg->kind = BENCH_CHAIN_MSG_ERROR;
        msg->status = r;
        snprintf(msg->error, sizeof(msg->error), "client %u: %s: %s", setup->index + 1, what,
                 why && *why ? why : strerror(-r));
        bench_chain_msg_write(setup->result_fd, msg);
        return 1;
}

static int open_stream(struct udk_client *client, struct chain_client *cl, struct udk_client_stream **ret)
{
        struct udk_client_stream_params params;
        char name[32];

        snprintf(name, sizeof(name), "chain-%u", cl->setup->index + 1);
        udk_client_stream_params_defaults(&params);
        params.input_channels = BENCH_CHAIN_CHANNELS;
        params.output_channels = BENCH_CHAIN_CHANNELS;
        params.link = cl->setup->index == 0 ? UDK_LINK_DEVICE : UDK_LINK_CHAIN;
        params.gain = 1.0f; /* the callback applies the gain itself */
        params.name = name;
        params.rt_priority = BENCH_CHAIN_PRIORITY;
        params.cpu = -1; /* udkd's placement */
        return udk_client_open(client, &params, chain_process, cl, ret);
}

int bench_chain_client_run(const struct bench_chain_client_setup *setup)
{
        static struct chain_client cl; /* histograms: too large for a thread's stack */
        static struct bench_chain_msg msg;
        struct udk_client *client = NULL;
        struct udk_client_stream *stream = NULL;
        char name[32];
        int r;

        cl = (struct chain_client){ .setup = setup };
        udk_histogram_reset(&cl.hop);
        udk_histogram_reset(&cl.from_start);
        memset(&msg, 0, sizeof(msg));

        snprintf(name, sizeof(name), "udk-bench-chain-%u", setup->index + 1);
        r = udk_client_connect(name, setup->socket_path, &client);
        if (r < 0) {
                char what[192];
                snprintf(what, sizeof(what), "cannot connect to udkd at %s", setup->socket_path);
                return fail(setup, &msg, r, what, NULL);
        }
        r = open_stream(client, &cl, &stream);
        if (r < 0) {
                fail(setup, &msg, r, "cannot open a stream", udk_client_error(client));
                udk_client_disconnect(client);
                return 1;
        }
        atomic_store_explicit(&cl.period_ns,
                              (uint64_t)udk_client_stream_period(stream) * UDK_NSEC_PER_SEC /
                                      UDK_MAX(udk_client_stream_rate(stream), 1u),
                              memory_order_relaxed);
        atomic_store_explicit(&cl.stream, stream, memory_order_release);
        r = udk_client_stream_wait_running(stream, RUNNING_TIMEOUT_MS);
        if (r < 0) {
                fail(setup, &msg, r, "the stream did not start running", NULL);
                udk_client_disconnect(client);
                return 1;
        }

        msg.kind = BENCH_CHAIN_MSG_READY;
        msg.node = udk_client_stream_id(stream);
        msg.realtime = udk_client_stream_is_realtime(stream);
        r = bench_chain_msg_write(setup->result_fd, &msg);
        if (r == 0)
                r = wait_for_stop(setup->control_fd, setup->timeout_s);
        udk_client_close(stream);
        if (r < 0) {
                udk_client_disconnect(client);
                return fail(setup, &msg, r, "udk-bench did not say stop", NULL);
        }

        msg.kind = BENCH_CHAIN_MSG_RESULT;
        msg.cycles = cl.cycles;
        msg.bad_times = cl.bad_times;
        msg.cpus = cl.cpus;
        memcpy(&msg.hop, &cl.hop, sizeof(msg.hop));
        memcpy(&msg.from_start, &cl.from_start, sizeof(msg.from_start));
        udk_client_disconnect(client);
        return bench_chain_msg_write(setup->result_fd, &msg) < 0 ? 1 : 0;
}
