/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend end to end, with no sound card: a private jackd on its
 * dummy driver paces two PCMs of libasound2-plugins' jack type (udk_out
 * plays into JACK, udk_in captures from it), and the test patches the
 * playback ports into the capture ports, so that what a client plays
 * through udkd's alsa device comes back on its input.  The path is float
 * all the way (client, ring, FLOAT_LE, JACK ports), so the signal must
 * come back bit-exact, a fixed number of frames later.
 *
 * Also: an xrun (udkd stopped with SIGSTOP while JACK runs on) is
 * recovered and counted, the stream carries on; jackd killed under a
 * running device removes the device (its clients told) and udkd runs on;
 * an unknown PCM leaves its device out with an error naming it; a rate
 * the PCM cannot do is refused with the PCM's range.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/client.h>

#include "udk-test-udkd.h"
#include "udk-test-jack.h"

#define RATE         48000u
#define PERIOD       256u
#define REC_FRAMES   (RATE * 4)
#define MATCH_FRAMES 4096u
#define OFFSET_MAX   (PERIOD * 32)

/* --- the client: plays a known signal, records its input --- */

struct loop {
        _Atomic uint64_t frames; /* callback frames so far */
        float in[REC_FRAMES * 2];
};

/* Sample @n of channel @c: 16-bit values of a multiplicative hash, so that
 * every window is unique, each exactly representable in float. */
static float signal_at(uint64_t n, uint32_t c)
{
        uint32_t h = (uint32_t)((n + 1) * 2654435761u) >> 16;
        return ((float)(int32_t)(h & 0xffff) - 32768.0f) / 65536.0f * (c ? -1.0f : 1.0f);
}

static int loop_process(void *data, const struct udk_node_cycle *cycle)
{
        struct loop *l = data;
        uint64_t n = atomic_load_explicit(&l->frames, memory_order_relaxed);

        for (uint32_t f = 0; f < cycle->frames; f++)
                for (uint32_t c = 0; c < 2; c++) {
                        cycle->output[(size_t)f * cycle->output_channels + c] = signal_at(n + f, c);
                        if (n + f < REC_FRAMES)
                                l->in[(n + f) * 2 + c] = cycle->input[(size_t)f * cycle->input_channels + c];
                }
        atomic_store_explicit(&l->frames, n + cycle->frames, memory_order_release);
        return 0;
}

/* The offset D at which input frame k + D is output frame k, bit for bit,
 * over MATCH_FRAMES frames from @from; -1 if there is none. */
static long offset_at(const struct loop *l, uint64_t from)
{
        for (uint64_t d = 0; d <= OFFSET_MAX; d++) {
                bool same = from + d + MATCH_FRAMES <= REC_FRAMES;
                for (uint64_t k = from; same && k < from + MATCH_FRAMES; k++)
                        for (uint32_t c = 0; c < 2 && same; c++)
                                same = l->in[(k + d) * 2 + c] == signal_at(k, c);
                if (same)
                        return (long)d;
        }
        return -1;
}

/* The offset of the first window from @from on (@step frames apart, 8 of
 * them) that matches: a window an xrun went through does not. */
static long find_offset(const struct loop *l, uint64_t from, long step)
{
        for (int i = 0; i < 8; i++) {
                long d = offset_at(l, (uint64_t)((long)from + i * step));
                if (d >= 0)
                        return d;
        }
        return -1;
}

static void wait_frames(struct loop *l, uint64_t frames, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        while (atomic_load(&l->frames) < frames) {
                if (now_ms() >= deadline)
                        udk_test_fail("the client's callback got %llu frames in %d ms, %llu expected",
                                      (unsigned long long)atomic_load(&l->frames), timeout_ms,
                                      (unsigned long long)frames);
                usleep(5000);
        }
}

static const char card_conf[] = "[device]\n"
                                "name = card\n"
                                "backend = alsa\n"
                                "playback_pcm = udk_out\n"
                                "capture_pcm = udk_in\n"
                                "rate = 48000\n"
                                "period = 256\n"
                                "channels = 2\n"
                                "%s"
                                "\n"
                                "[device]\n"
                                "name = other\n"
                                "backend = virtual\n"
                                "period = 256\n";

static struct udk_client *connect_to(const struct proc *p, udk_object_id *ret_card)
{
        struct udk_client *c = NULL;

        ASSERT_OK(udk_client_connect("test-alsa", p->socket, &c));
        if (ret_card)
                ASSERT_OK(udk_client_find(c, "card", ret_card));
        return c;
}

static uint64_t card_xruns(struct udk_client *c, udk_object_id card)
{
        struct udk_msg_stats_device sd;
        size_t n = 0;

        ASSERT_OK(udk_client_stats(c, card, &sd, NULL, 0, &n));
        return sd.xruns;
}

/* Through the card and back through JACK, with @extra keys; the offset it came back at. */
static long loop_through(const char *extra, bool provoke_xrun)
{
        static struct jack j;
        static struct proc p;
        static struct loop l;
        char conf[1024];
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL;
        struct udk_client *c;
        udk_object_id card;
        uint64_t xruns_before, xruns;
        long d, d_after;

        jack_start(&j);
        snprintf(conf, sizeof(conf), card_conf, extra);
        proc_start_server(&p, conf, (const char *const[]){ "--stats", "0.5", NULL });
        jack_loop();
        c = connect_to(&p, &card);

        udk_client_stream_params_defaults(&params);
        params.device = card;
        params.name = "loop";
        memset(&l, 0, sizeof(l));
        ASSERT_OK(udk_client_open(c, &params, loop_process, &l, &s));
        /* Output: the cycle's period and ALSA's queue ahead of it, the 2-period buffer. */
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_INPUT), 0);
        ASSERT_UINT_EQ(udk_client_stream_latency(s, UDK_DIRECTION_OUTPUT), 2 * PERIOD);
        ASSERT_OK(udk_client_stream_wait_running(s, 10000));

        wait_frames(&l, RATE, 10000); /* a second */
        xruns_before = card_xruns(c, card);
        if (provoke_xrun) {
                /* udkd stopped for 300 ms, JACK running on: the capture buffer overflows. */
                ASSERT_OK(kill(p.pid, SIGSTOP));
                usleep(300000);
                ASSERT_OK(kill(p.pid, SIGCONT));
        }
        wait_frames(&l, REC_FRAMES, 20000);

        d = find_offset(&l, RATE / 4, MATCH_FRAMES);
        if (d < 0)
                udk_test_fail("the signal did not come back bit-exact within %u frames (input %.9g %.9g)",
                              OFFSET_MAX, (double)l.in[RATE / 2], (double)l.in[RATE / 2 + 1]);
        /* A whole number of periods: everything on the way moves periods. */
        ASSERT_INT_EQ(d % PERIOD, 0);
        /* It comes back to the end (after the xrun, once the card restarted). */
        d_after = find_offset(&l, REC_FRAMES - MATCH_FRAMES - OFFSET_MAX, -(long)MATCH_FRAMES);
        if (d_after < 0)
                udk_test_fail("the signal did not come back at the end of the recording");
        ASSERT_INT_EQ(d_after % PERIOD, 0);
        xruns = card_xruns(c, card) - xruns_before;
        if (provoke_xrun) {
                ASSERT_UINT_GE(xruns, 1);
                printf("# %llu xruns; offset %ld frames before, %ld after\n", (unsigned long long)xruns, d,
                       d_after);
        } else if (xruns == 0) {
                /* Nothing lost in between: the same offset all along, at most the latency reported.
                 * The jack PCM standing in for a card has a ring of its own between JACK's thread
                 * and udkd's poll, which a slow start (ASan) can leave a period shorter. */
                if (d != 2 * PERIOD)
                        ASSERT_INT_EQ(d, PERIOD);
                ASSERT_INT_EQ(d_after, d);
        } else {
                /* JACK's dummy driver stalls when the machine does (its own xruns). */
                printf("# %llu xruns on a loaded machine; offset %ld frames before, %ld after\n",
                       (unsigned long long)xruns, d, d_after);
        }

        ASSERT_OK(udk_client_close(s));
        udk_client_disconnect(c);
        proc_stop_server(&p);
        jack_stop(&j);
        return d;
}

static void test_loop_mmap(void)
{
        long d = loop_through("", false);

        printf("# mmap interleaved: back after %ld frames\n", d);
}

static void test_loop_rw_noninterleaved(void)
{
        long d = loop_through("access = rw\ninterleaved = no\npcm_periods = 2\n", false);

        printf("# rw non-interleaved: back after %ld frames\n", d);
}

static void test_xrun_recovered(void)
{
        loop_through("", true);
}

/* --- the card goes away --- */

struct removal {
        udk_object_id card;
        _Atomic bool removed;
};

static void removal_event(void *data, const struct udk_msg_header *event)
{
        struct removal *rm = data;
        const struct udk_msg_object_ref *ref = (const struct udk_msg_object_ref *)event;

        if (event->type == UDK_MSG_EVENT_REMOVED && event->size >= sizeof(*ref) && ref->id == rm->card)
                atomic_store(&rm->removed, true);
}

static void test_card_gone(void)
{
        static struct jack j;
        static struct proc p;
        static struct loop l;
        static struct removal rm;
        struct udk_client_stream_params params;
        struct udk_client_stream *s = NULL, *o = NULL;
        struct udk_client *c;
        char conf[1024];
        uint64_t deadline, other_frames;
        udk_object_id other, id;

        jack_start(&j);
        snprintf(conf, sizeof(conf), card_conf, "");
        proc_start_server(&p, conf, NULL);
        c = connect_to(&p, &rm.card);
        ASSERT_OK(udk_client_find(c, "other", &other));
        ASSERT_OK(udk_client_subscribe(c, UDK_SUBSCRIBE_REGISTRY, removal_event, &rm));

        udk_client_stream_params_defaults(&params);
        params.device = rm.card;
        memset(&l, 0, sizeof(l));
        ASSERT_OK(udk_client_open(c, &params, loop_process, &l, &s));
        ASSERT_OK(udk_client_stream_wait_running(s, 10000));
        wait_frames(&l, RATE / 4, 10000);

        /* The "card" disappears: its PCMs will not run again. */
        jack_kill(&j, SIGTERM);
        proc_wait_stderr(&p, "udkd: error: device card: its alsa backend is gone (No such device): removed",
                         15000);
        deadline = now_ms() + 10000;
        while (!atomic_load(&rm.removed) || udk_client_stream_state(s) != UDK_NODE_CLOSED) {
                if (now_ms() >= deadline)
                        udk_test_fail("removed %d, stream state %d after the card went",
                                      atomic_load(&rm.removed), udk_client_stream_state(s));
                usleep(5000);
        }
        ASSERT_ERROR(udk_client_find(c, "card", &id), ENOENT);

        /* udkd runs on, and so does its other device. */
        ASSERT_ERROR(udk_client_close(s), ENOENT); /* udkd closed it already */
        params.device = other;
        params.name = "other-stream";
        memset(&l, 0, sizeof(l));
        ASSERT_OK(udk_client_open(c, &params, loop_process, &l, &o));
        ASSERT_OK(udk_client_stream_wait_running(o, 10000));
        other_frames = atomic_load(&l.frames);
        wait_frames(&l, other_frames + RATE / 4, 10000);
        ASSERT_OK(udk_client_close(o));
        udk_client_disconnect(c);
        proc_stop_server(&p);
        jack_stop(&j);
}

/* --- bad input --- */

static void test_unknown_pcm(void)
{
        static struct jack j;
        static struct proc p;
        struct udk_client *c;
        udk_object_id id;

        jack_start(&j);
        proc_start_server(&p,
                          "[device]\nname = ghost\nbackend = alsa\n\npcm = udk_nosuch\n\n"
                          "[device]\nname = other\nbackend = virtual\n",
                          NULL);
        ASSERT_STR_CONTAINS(p.err, ":5: device 'ghost': pcm 'udk_nosuch': cannot open it for capture: "
                                   "No such file or directory");
        ASSERT_STR_CONTAINS(p.err,
                            "device 'ghost' left out: its hardware is not there; the other devices run");
        c = connect_to(&p, NULL);
        ASSERT_ERROR(udk_client_find(c, "ghost", &id), ENOENT);
        ASSERT_OK(udk_client_find(c, "other", &id));
        udk_client_disconnect(c);
        proc_stop_server(&p);
        jack_stop(&j);
}

static void expect_refusal(const char *keys, const char *expected)
{
        static struct proc p;
        char conf[1024];
        int fd;
        FILE *f;
        char path[] = "/tmp/udk-test-alsa-conf-XXXXXX";

        snprintf(conf, sizeof(conf),
                 "[device]\nname = card\nbackend = alsa\ncapture_pcm = udk_in\n"
                 "playback_pcm = udk_out\nchannels = 2\n%s",
                 keys);
        fd = mkstemp(path);
        ASSERT_OK(fd);
        f = fdopen(fd, "w");
        ASSERT_TRUE(f != NULL);
        fputs(conf, f);
        ASSERT_OK(fclose(f));
        ASSERT_INT_EQ(RUN_UDKD(&p, 20000, "--config", path), 1);
        unlink(path);
        ASSERT_STR_CONTAINS(p.err, expected);
}

static void test_unsupported_params(void)
{
        static struct jack j;

        jack_start(&j);
        /* JACK runs at 48 kHz: the PCM can do nothing else, and says so on the rate's line. */
        expect_refusal("rate = 44100\n",
                       ":7: device 'card': rate 44100 not supported by capture PCM 'udk_in' "
                       "(it takes 48000..48000 Hz)");
        /* JACK's period is the shortest the PCM takes. */
        expect_refusal(
                "period = 128\n",
                ":7: device 'card': period 128 not supported by capture PCM 'udk_in' (it takes 256..");
        expect_refusal("access = dma\n", ":7: access 'dma' is neither mmap nor rw");
        expect_refusal("pcm_periods = 1\n", ":7: pcm_periods '1' out of range (2..32)");
        jack_stop(&j);
}

UDK_TEST_MAIN(test_loop_mmap, test_loop_rw_noninterleaved, test_xrun_recovered, test_card_gone,
              test_unknown_pcm, test_unsupported_params)
