/* SPDX-License-Identifier: MIT */
/*
 * The remote-node graph (rtcore/graph.c) against clients played by threads
 * of this process: each waits on its activation record like libudk-client's
 * RT thread, computes output = input * gain, and wakes the next.  Cycles run
 * synchronously (udk_device_cycle) with a long period, so timing on a busy
 * machine cannot turn a punctual client late.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <udk/activation.h>
#include <udk/clock.h>
#include <udk/device.h>
#include <udk/util.h>

#include "udk-test.h"

#define PERIOD   4096u /* 85 ms at 48 kHz: the deadline is 64 ms away */
#define CHANNELS 2u
#define MAX_NODES 4u

struct fake_client {
        struct udk_activation act __attribute__((aligned(64)));
        float input[PERIOD * CHANNELS];
        float output[PERIOD * CHANNELS];
        int32_t slot;
        _Atomic bool quit;
        _Atomic uint32_t stall_ms; /* sleep this long in the next callback */
        _Atomic uint64_t callbacks;
        _Atomic uint64_t last_sample_time;
        pthread_t thread;
        bool running;
};

static struct fake_client *clients[MAX_NODES];
static struct udk_activation *graph_record;

static struct udk_activation *record_of(int32_t slot)
{
        if (slot == UDK_ACTIVATION_NEXT_DRIVER)
                return graph_record;
        return slot >= 0 && slot < (int32_t)MAX_NODES && clients[slot] ? &clients[slot]->act : NULL;
}

static void *client_thread(void *arg)
{
        struct fake_client *c = arg;

        while (!atomic_load(&c->quit)) {
                const float *in;
                struct udk_activation *next;
                uint64_t awake;
                float gain;
                uint32_t stall;
                int r = udk_activation_wait_triggered(&c->act, udk_time_now() + 20000000ull, &awake);

                if (r < 0)
                        continue;
                in = c->act.input == UDK_ACTIVATION_INPUT_DEVICE ? c->input : clients[c->act.input]->output;
                gain = udk_float_from_bits(c->act.gain_bits);
                stall = atomic_exchange(&c->stall_ms, 0);
                if (stall)
                        usleep(stall * 1000u);
                for (size_t i = 0; i < (size_t)c->act.frames * CHANNELS; i++)
                        c->output[i] = in[i] * gain;
                atomic_store(&c->last_sample_time, c->act.sample_time);
                atomic_fetch_add(&c->callbacks, 1);
                next = record_of(c->act.next);
                if (udk_activation_finish(&c->act, udk_time_now()))
                        udk_activation_trigger(next, udk_time_now());
                else
                        udk_activation_recover(&c->act);
        }
        return NULL;
}

static void client_stop(struct fake_client *c)
{
        if (!c->running)
                return;
        atomic_store(&c->quit, true);
        udk_futex_wake(&c->act.status);
        pthread_join(c->thread, NULL);
        c->running = false;
}

static void destroy_client(void *data)
{
        struct fake_client *c = data;

        client_stop(c);
        clients[c->slot] = NULL;
        free(c);
}

static struct udk_device *make_device(uint32_t late_limit)
{
        struct udk_device_config cfg;
        struct udk_device *dev = NULL;
        char err[256] = "";

        udk_device_config_defaults(&cfg);
        cfg.period = PERIOD;
        cfg.late_limit = late_limit;
        ASSERT_OK(udk_device_create(&cfg, &udk_backend_virtual, &dev, err, sizeof(err)));
        ASSERT_OK(udk_device_open(dev, err, sizeof(err)));
        ASSERT_OK(udk_control_set_from_string(udk_device_find_control(dev, "source"), "sine"));
        graph_record = mmap(NULL, udk_device_graph_shm_size(dev), PROT_READ | PROT_WRITE, MAP_SHARED,
                            udk_device_graph_shm_fd(dev), 0);
        ASSERT_TRUE(graph_record != MAP_FAILED);
        return dev;
}

static struct udk_remote *add_client(struct udk_device *dev, int32_t slot, bool chain, float gain, bool run)
{
        struct fake_client *c = NULL;
        struct udk_remote *r = NULL;
        struct udk_remote_desc desc;

        ASSERT_OK(posix_memalign((void **)&c, 64, sizeof(*c)));
        memset(c, 0, sizeof(*c));
        c->slot = slot;
        clients[slot] = c;
        desc = (struct udk_remote_desc){
                .name = "fake",
                .activation = &c->act,
                .input = c->input,
                .output = c->output,
                .input_channels = CHANNELS,
                .output_channels = CHANNELS,
                .slot = slot,
                .chain = chain,
                .gain = gain,
                .destroy = destroy_client,
                .data = c,
        };
        if (run) {
                ASSERT_INT_EQ(pthread_create(&c->thread, NULL, client_thread, c), 0);
                c->running = true;
        }
        ASSERT_OK(udk_device_add_remote(dev, &desc, &r));
        return r;
}

/* Run one cycle; return the device's input and output at its sample time. */
static void cycle(struct udk_device *dev, const float **ret_in, const float **ret_out)
{
        const struct udk_cycle_stats *st = udk_device_stats(dev);
        uint64_t t;

        ASSERT_OK(udk_device_cycle(dev, udk_time_now()));
        t = atomic_load(&st->sample_time);
        *ret_in = udk_stream_frames(udk_device_stream(dev, UDK_DIRECTION_INPUT), t);
        *ret_out = udk_stream_frames(udk_device_stream(dev, UDK_DIRECTION_OUTPUT), t);
}

static void assert_output(const float *in, const float *out, const float *gains, size_t n_gains)
{
        size_t nonzero = 0;

        for (size_t i = 0; i < PERIOD * CHANNELS; i++) {
                float expect = in[i];
                for (size_t g = 0; g < n_gains; g++)
                        expect *= gains[g];
                if (out[i] != expect)
                        udk_test_fail("sample %zu: %.9g, expected %.9g (input %.9g)", i, (double)out[i],
                                      (double)expect, (double)in[i]);
                nonzero += in[i] != 0.0f;
        }
        ASSERT_UINT_GE(nonzero, PERIOD); /* the sine is really there */
}

static void finish(struct udk_device *dev)
{
        udk_device_destroy(dev);
        for (unsigned i = 0; i < MAX_NODES; i++)
                ASSERT_PTR_EQ(clients[i], NULL);
}

static void test_chain_applies_every_gain(void)
{
        struct udk_device *dev = make_device(50);
        const float *in, *out;

        add_client(dev, 0, false, 0.5f, true);
        add_client(dev, 1, true, 0.25f, true);
        add_client(dev, 2, true, 2.0f, true);
        for (int c = 0; c < 5; c++) {
                cycle(dev, &in, &out);
                assert_output(in, out, (const float[]){ 0.5f, 0.25f, 2.0f }, 3);
        }
        for (int i = 0; i < 3; i++)
                ASSERT_UINT_EQ(atomic_load(&clients[i]->callbacks), 5);
        finish(dev);
}

static void test_parallel_nodes_are_mixed(void)
{
        struct udk_device *dev = make_device(50);
        const float *in, *out;

        add_client(dev, 0, false, 0.5f, true);
        add_client(dev, 1, false, 0.25f, true);
        cycle(dev, &in, &out);
        for (size_t i = 0; i < PERIOD * CHANNELS; i++)
                ASSERT_FLOAT_EQ(out[i], in[i] * 0.5f + in[i] * 0.25f);
        finish(dev);
}

static void test_nan_output_is_not_mixed(void)
{
        struct udk_device *dev = make_device(50);
        struct udk_remote *b;
        const float *in, *out;

        add_client(dev, 0, false, 0.5f, true);
        b = add_client(dev, 1, false, 1.0f, true);
        udk_remote_set_gain(b, NAN); /* its output: all NaN */
        cycle(dev, &in, &out);
        assert_output(in, out, (const float[]){ 0.5f }, 1);
        finish(dev);
}

static void test_gain_moves_and_order_switches(void)
{
        struct udk_device *dev = make_device(50);
        struct udk_remote *a, *b;
        const float *in, *out;

        a = add_client(dev, 0, false, 0.5f, true);
        b = add_client(dev, 1, false, 1.0f, true);
        cycle(dev, &in, &out);
        udk_remote_set_gain(b, 0.125f);
        cycle(dev, &in, &out);
        for (size_t i = 0; i < PERIOD * CHANNELS; i++)
                ASSERT_FLOAT_EQ(out[i], in[i] * 0.5f + in[i] * 0.125f);
        /* b goes first: the order the cycle triggers them in follows. */
        ASSERT_OK(udk_device_move_remote(dev, b, 0));
        ASSERT_INT_EQ(udk_device_remote_position(dev, b), 0);
        ASSERT_INT_EQ(udk_device_remote_position(dev, a), 1);
        cycle(dev, &in, &out);
        ASSERT_INT_EQ(clients[1]->act.next, 0);
        ASSERT_INT_EQ(clients[0]->act.next, UDK_ACTIVATION_NEXT_DRIVER);
        finish(dev);
}

static void test_late_node_is_skipped_and_bypassed(void)
{
        struct udk_device *dev = make_device(50);
        struct udk_remote *late;
        const float *in, *out;

        add_client(dev, 0, false, 0.5f, true);
        late = add_client(dev, 1, true, 0.25f, true);
        add_client(dev, 2, true, 2.0f, true);
        cycle(dev, &in, &out);
        assert_output(in, out, (const float[]){ 0.5f, 0.25f, 2.0f }, 3);

        /* Past the deadline: the chain goes on without it, reading what it would have. */
        atomic_store(&clients[1]->stall_ms, 150);
        cycle(dev, &in, &out);
        assert_output(in, out, (const float[]){ 0.5f, 2.0f }, 2);
        ASSERT_UINT_EQ(atomic_load(&udk_remote_stats(late)->late), 1);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->clients_late), 1);
        ASSERT_UINT_EQ(atomic_load(&clients[2]->callbacks), 2);

        /* Still inside its callback at the next cycle start: skipped again. */
        cycle(dev, &in, &out);
        assert_output(in, out, (const float[]){ 0.5f, 2.0f }, 2);
        ASSERT_UINT_EQ(atomic_load(&udk_remote_stats(late)->late), 2);

        /* Back: its late finish woke nobody, and it runs again. */
        usleep(150000);
        ASSERT_UINT_EQ(udk_activation_status(&clients[1]->act), UDK_ACTIVATION_IDLE);
        cycle(dev, &in, &out);
        assert_output(in, out, (const float[]){ 0.5f, 0.25f, 2.0f }, 3);
        ASSERT_UINT_EQ(atomic_load(&udk_remote_stats(late)->late_run), 0);
        ASSERT_UINT_EQ(atomic_load(&clients[2]->callbacks), 4);
        ASSERT_FALSE(udk_remote_is_suspended(late));
        finish(dev);
}

static void test_dead_node_is_suspended_after_the_limit(void)
{
        struct udk_device *dev = make_device(3);
        struct udk_remote *dead;
        const float *in, *out;
        uint64_t first_signal = 0;

        add_client(dev, 0, false, 0.5f, true);
        dead = add_client(dev, 1, false, 1.0f, false); /* never answers */
        add_client(dev, 2, false, 0.25f, true);
        for (int c = 0; c < 3; c++) {
                cycle(dev, &in, &out);
                if (c == 0)
                        first_signal = atomic_load(&clients[1]->act.signal_time);
                /* The dead one's output is not mixed; the others lose nothing. */
                for (size_t i = 0; i < PERIOD * CHANNELS; i++)
                        ASSERT_FLOAT_EQ(out[i], in[i] * 0.5f + in[i] * 0.25f);
        }
        ASSERT_TRUE(udk_remote_is_suspended(dead));
        ASSERT_UINT_EQ(atomic_load(&udk_remote_stats(dead)->late), 3);
        /* Neutralised in the first cycle and never back: skipped untouched since. */
        ASSERT_UINT_EQ(udk_activation_status(&clients[1]->act), UDK_ACTIVATION_NEUTRALISED);
        /* Suspended: not due in any cycle any more. */
        cycle(dev, &in, &out);
        ASSERT_UINT_EQ(atomic_load(&udk_remote_stats(dead)->cycles), 3);
        ASSERT_UINT_EQ(atomic_load(&clients[1]->act.signal_time), first_signal);
        ASSERT_UINT_EQ(atomic_load(&clients[0]->callbacks), 4);
        ASSERT_UINT_EQ(atomic_load(&clients[2]->callbacks), 4);
        finish(dev);
}

static void test_remove_is_glitch_free(void)
{
        struct udk_device *dev = make_device(50);
        struct udk_remote *middle;
        const float *in, *out;

        add_client(dev, 0, false, 0.5f, true);
        middle = add_client(dev, 1, false, 0.25f, true);
        add_client(dev, 2, false, 2.0f, true);
        cycle(dev, &in, &out);
        ASSERT_OK(udk_device_remove_remote(dev, middle));
        /* Still held by the running plan until the next cycle start. */
        ASSERT_NOT_NULL(clients[1]);
        cycle(dev, &in, &out);
        for (size_t i = 0; i < PERIOD * CHANNELS; i++)
                ASSERT_FLOAT_EQ(out[i], in[i] * 0.5f + in[i] * 2.0f);
        udk_device_collect(dev);
        ASSERT_PTR_EQ(clients[1], NULL);
        ASSERT_UINT_EQ(atomic_load(&udk_device_stats(dev)->clients_late), 0);
        finish(dev);
}

static void test_add_remote_checks(void)
{
        struct udk_device *dev = make_device(50);
        struct udk_activation act = { 0 };
        float buf[8];
        struct udk_remote_desc desc = {
                .name = "x", .activation = &act, .input = buf, .output = buf,
                .input_channels = 3, .output_channels = 2, .slot = 0,
        };

        ASSERT_ERROR(udk_device_add_remote(dev, &desc, NULL), EINVAL); /* 3 > 2 channels */
        desc.input_channels = 2;
        desc.slot = 64;
        ASSERT_ERROR(udk_device_add_remote(dev, &desc, NULL), EINVAL);
        desc.slot = 0;
        desc.activation = NULL;
        ASSERT_ERROR(udk_device_add_remote(dev, &desc, NULL), EINVAL);
        udk_device_destroy(dev);
}

static void test_activation_state_machine(void)
{
        struct udk_activation a = { 0 };
        uint64_t awake;

        ASSERT_FALSE(udk_activation_finish(&a, 1));      /* not awake */
        ASSERT_FALSE(udk_activation_neutralise(&a));     /* never triggered */
        ASSERT_TRUE(udk_activation_trigger(&a, 10));
        ASSERT_FALSE(udk_activation_trigger(&a, 11));    /* once */
        ASSERT_UINT_EQ(atomic_load(&a.signal_time), 11); /* stamped even so */
        ASSERT_OK(udk_activation_wait_triggered(&a, 0, &awake));
        ASSERT_UINT_EQ(udk_activation_status(&a), UDK_ACTIVATION_AWAKE);
        ASSERT_TRUE(udk_activation_neutralise(&a));
        ASSERT_FALSE(udk_activation_finish(&a, 20));     /* too late: wakes nobody */
        ASSERT_TRUE(udk_activation_recover(&a));
        ASSERT_UINT_EQ(udk_activation_status(&a), UDK_ACTIVATION_IDLE);
        ASSERT_ERROR(udk_activation_wait_triggered(&a, udk_time_now() + 1000000, &awake), ETIMEDOUT);
        ASSERT_TRUE(udk_activation_trigger(&a, 30));
        ASSERT_OK(udk_activation_wait_triggered(&a, 0, &awake));
        ASSERT_TRUE(udk_activation_finish(&a, 40));
        ASSERT_UINT_EQ(atomic_load(&a.cycles), 1);
        ASSERT_FALSE(udk_activation_neutralise(&a));     /* finished first */

        /* Given up on before it woke: its next wait puts it back at once. */
        udk_activation_reset(&a);
        ASSERT_TRUE(udk_activation_trigger(&a, 50));
        ASSERT_TRUE(udk_activation_neutralise(&a));
        ASSERT_ERROR(udk_activation_wait_triggered(&a, udk_time_now() + 1000000, &awake), ETIMEDOUT);
        ASSERT_UINT_EQ(udk_activation_status(&a), UDK_ACTIVATION_IDLE);
}

UDK_TEST_MAIN(test_activation_state_machine, test_chain_applies_every_gain, test_parallel_nodes_are_mixed,
              test_nan_output_is_not_mixed, test_gain_moves_and_order_switches, test_late_node_is_skipped_and_bypassed,
              test_dead_node_is_suspended_after_the_limit, test_remove_is_glitch_free, test_add_remote_checks)
