/* SPDX-License-Identifier: MIT */
/*
 * udk-soak's streaming clients, one process each (udk-soak --role ...):
 *
 *   listener  on the untouched device: checks every frame it is given
 *             against the virtual backend's sine, sample for sample, and
 *             that each cycle's sample time follows the last; a stream
 *             that leaves "running" is a failure;
 *   victim    on the device the faults are aimed at: spends a little of
 *             each cycle in its callback and, when the conductor asks
 *             (die), SIGKILLs itself there, mid-cycle: a kill from outside
 *             would need the conductor to run while the victim's RT thread
 *             holds its CPU, which a loaded machine does not promise;
 *   staller   on the same device: the conductor SIGSTOPs and SIGCONTs it.
 *
 * A victim or staller whose stream ends (suspended for lateness, or its
 * device removed by a bus restart) opens it again on the device that has
 * the same UID.  Every wait is bounded by SOAK_WAIT_MS.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define VICTIM_SPIN_NS 100000u /* 0.1 ms of the victim's 1.33 ms period */
#define SINE_STEP      80u     /* gcd(440, 48000): the phases a 440 Hz sine visits */

struct soak_client {
        enum soak_role role;
        struct soak_slot *slot;
        /* listener: the sine as the virtual backend makes it, at level 0 dB (gain 1) */
        float sine[SOAK_RATE];
        bool locked;        /* the phase is known */
        uint32_t phase;     /* of the next frame */
        uint64_t next_time; /* sample time of the next cycle */
};

uint64_t soak_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool frame_is(const struct soak_client *sc, const float *frame, uint32_t channels, uint32_t phase)
{
        for (uint32_t ch = 0; ch < channels; ch++)
                if (frame[ch] != sc->sine[phase])
                        return false;
        return true;
}

/* The phase whose next 4 frames are @input's first 4 (a sine's value alone has two), or -1. RT-safe. */
static int64_t phase_find(const struct soak_client *sc, const float *input, uint32_t frames,
                          uint32_t channels)
{
        for (uint32_t p = 0; p < SOAK_RATE; p += SINE_STEP) {
                uint32_t q = p, f = 0;

                for (; f < 4 && f < frames; f++) {
                        if (!frame_is(sc, input + (size_t)f * channels, channels, q))
                                break;
                        q = (q + SOAK_FREQUENCY) % SOAK_RATE;
                }
                if (f == 4 || f == frames)
                        return p;
        }
        return -1;
}

/* RT-safe: compares, counts, no calls but the atomics. */
static int listen_process(void *data, const struct udk_node_cycle *cycle)
{
        struct soak_client *sc = data;
        struct soak_slot *slot = sc->slot;
        uint64_t bad = 0;

        if (sc->locked && cycle->sample_time != sc->next_time) {
                /* Cycles this client never saw: their frames are lost to it; the sine is found again. */
                atomic_fetch_add(&slot->gaps, 1);
                if (cycle->sample_time > sc->next_time)
                        atomic_fetch_add(&slot->lost, cycle->sample_time - sc->next_time);
                sc->locked = false;
        }
        if (!sc->locked) {
                int64_t p = phase_find(sc, cycle->input, cycle->frames, cycle->input_channels);

                if (p < 0) {
                        /* Not the sine at all: the whole cycle is lost. */
                        atomic_fetch_add(&slot->lost, cycle->frames);
                        atomic_fetch_add(&slot->bad, (uint64_t)cycle->frames * cycle->input_channels);
                        atomic_fetch_add(&slot->cycles, 1);
                        return 0;
                }
                sc->phase = (uint32_t)p;
                sc->next_time = cycle->sample_time;
                sc->locked = true;
        }
        for (uint32_t f = 0; f < cycle->frames; f++) {
                const float *frame = cycle->input + (size_t)f * cycle->input_channels;

                for (uint32_t ch = 0; ch < cycle->input_channels; ch++)
                        bad += frame[ch] != sc->sine[sc->phase];
                sc->phase = (sc->phase + SOAK_FREQUENCY) % SOAK_RATE;
        }
        if (bad) {
                atomic_fetch_add(&slot->bad, bad);
                atomic_fetch_add(&slot->lost, cycle->frames);
        }
        sc->next_time = cycle->sample_time + cycle->frames;
        atomic_fetch_add(&slot->frames, cycle->frames);
        atomic_fetch_add(&slot->cycles, 1);
        return 0;
}

/* RT-safe: clock_gettime is the vDSO's. */
static int victim_process(void *data, const struct udk_node_cycle *cycle)
{
        struct soak_client *sc = data;
        struct soak_slot *slot = sc->slot;

        atomic_store(&slot->in_cycle, 1);
        if (sc->role == SOAK_ROLE_VICTIM) {
                for (uint64_t end = now_ns() + VICTIM_SPIN_NS; now_ns() < end;)
                        ;
                /* kill() does not block; the process ends here, half-way through its cycle. */
                if (atomic_load(&slot->die))
                        kill(getpid(), SIGKILL);
        }
        atomic_fetch_add(&slot->cycles, 1);
        atomic_fetch_add(&slot->frames, cycle->frames);
        atomic_store(&slot->in_cycle, 0);
        return 0;
}

static int fail(struct soak_slot *slot, const char *what, const char *why)
{
        char text[256];

        snprintf(text, sizeof(text), "%s: %s", what, why);
        soak_slot_error(slot, text);
        fprintf(stderr, "udk-soak client %d: %s\n", (int)getpid(), text);
        return 1;
}

/* Open the stream on the device with @uid, bounded by SOAK_WAIT_MS; *@ret. */
static int stream_open(struct soak_client *sc, struct udk_client *c, const char *uid,
                       struct udk_client_stream **ret)
{
        uint64_t deadline = soak_now_ms() + SOAK_WAIT_MS;
        int r = -ETIMEDOUT;

        while (soak_now_ms() < deadline) {
                struct udk_client_stream_params params;
                udk_object_id device;

                if (atomic_load(&sc->slot->quit))
                        return -ECANCELED;
                r = udk_client_find_class(c, "device", uid, &device);
                if (r == 0) {
                        udk_client_stream_params_defaults(&params);
                        params.device = device;
                        params.input_channels = 2;
                        params.output_channels = sc->role == SOAK_ROLE_LISTENER ? 0 : 2;
                        r = udk_client_open(c, &params,
                                            sc->role == SOAK_ROLE_LISTENER ? listen_process : victim_process,
                                            sc, ret);
                }
                if (r == 0) {
                        r = udk_client_stream_wait_running(*ret, SOAK_WAIT_MS);
                        if (r == 0)
                                return 0;
                        udk_client_close(*ret);
                        *ret = NULL;
                }
                if (r == -ENOTCONN || r == -ECONNRESET)
                        return r;
                usleep(5000);
        }
        return r;
}

int soak_client_main(enum soak_role role, struct soak_slot *slot, const char *socket_path)
{
        const char *uid = role == SOAK_ROLE_LISTENER ? SOAK_UNTOUCHED : SOAK_VICTIM_DEVICE;
        struct soak_client *sc = calloc(1, sizeof(*sc));
        struct udk_client_stream *stream = NULL;
        struct udk_client *c = NULL;
        char name[64];
        uint64_t deadline;
        int r;

        if (!sc)
                return fail(slot, "start", "out of memory");
        sc->role = role;
        sc->slot = slot;
        for (uint32_t i = 0; i < SOAK_RATE; i++)
                sc->sine[i] = (float)sin(2.0 * M_PI * (double)i / (double)SOAK_RATE);
        snprintf(name, sizeof(name), "soak-%s-%d",
                 role == SOAK_ROLE_LISTENER ? "listener"
                 : role == SOAK_ROLE_VICTIM ? "victim"
                                            : "staller",
                 (int)getpid());
        for (deadline = soak_now_ms() + SOAK_WAIT_MS; (r = udk_client_connect(name, socket_path, &c)) < 0;) {
                if (soak_now_ms() >= deadline)
                        return fail(slot, "connect", udk_client_error(NULL));
                usleep(5000);
        }
        for (;;) {
                r = stream_open(sc, c, uid, &stream);
                if (r == -ECANCELED)
                        break;
                if (r < 0)
                        return fail(slot, "open",
                                    udk_client_error(c)[0] ? udk_client_error(c) : strerror(-r));
                atomic_store(&slot->realtime, udk_client_stream_is_realtime(stream));
                atomic_store(&slot->node, udk_client_stream_id(stream));
                atomic_store(&slot->running, 1);
                /* Running (udkd's RUNNING may come after the first cycle: STARTING until then). */
                while (!atomic_load(&slot->quit) && udk_client_stream_state(stream) != UDK_NODE_SUSPENDED &&
                       udk_client_stream_state(stream) != UDK_NODE_CLOSED)
                        usleep(2000);
                atomic_store(&slot->running, 0);
                if (atomic_load(&slot->quit))
                        break;
                if (role == SOAK_ROLE_LISTENER) {
                        char why[96];

                        snprintf(why, sizeof(why), "the untouched device's stream left running (state %d)",
                                 (int)udk_client_stream_state(stream));
                        return fail(slot, "stream", why);
                }
                /* Suspended for lateness, or the device went with its bus driver: again. */
                if (udk_client_stream_state(stream) == UDK_NODE_SUSPENDED)
                        atomic_fetch_add(&slot->suspended, 1);
                udk_client_close(stream);
                stream = NULL;
                atomic_fetch_add(&slot->reopens, 1);
        }
        if (stream && (r = udk_client_close(stream)) < 0)
                return fail(slot, "close", strerror(-r));
        udk_client_disconnect(c);
        free(sc);
        return 0;
}
