/* SPDX-License-Identifier: MIT */
/*
 * Round-trip delay by the phases of several tones, the multi-tone method of
 * jack_iodelay (Fons Adriaensen's MTDM), and `udk-bench latency`, which
 * plays them through a device's loopback.
 *
 * BENCH_MTDM_TONES sines are played at once; tone k repeats every
 * period0 << k frames, so each is an octave below the one before.  The
 * returned signal is demodulated against each tone (the sums of the input
 * times the tone's cosine and sine) over whole periods of the slowest
 * tone, where the tones are exactly orthogonal.  A tone's phase gives the
 * delay modulo its period: the slowest tone's gives it within the range
 * (its period), and each faster tone, an octave up, refines it by choosing
 * among its two candidates the one nearest the estimate so far.  The
 * fastest tone's phase sets the resolution, a small fraction of a frame.
 *
 * Both sides use the device's sample times: the tones played at frame T are
 * a function of T alone, and the input captured at frame T is compared with
 * them, so the delay is that of the output at T coming back on the input.
 *
 * An inverted signal turns every phase by half a turn: tone k's phase is
 * then twice tone k+1's plus half a turn rather than twice it, which the
 * analysis detects and corrects before unwrapping.
 */
#ifndef UDK_BENCH_MTDM_H
#define UDK_BENCH_MTDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <udk/object.h>

#define BENCH_MTDM_TONES 10
/* Each tone's peak; together they peak at 0.5 (-6 dBFS). */
#define BENCH_MTDM_AMPLITUDE 0.05f
/* A tone that comes back weaker than this (dB against what was sent) is no signal. */
#define BENCH_MTDM_LEVEL_MIN_DB (-40.0)
/* Most a slower tone's estimate may differ from the faster one's, as a
 * fraction of the faster one's period (half of it would be ambiguous). */
#define BENCH_MTDM_STEP_MAX 0.25

struct bench_mtdm {
        uint32_t rate;
        uint32_t period0; /* frames: the fastest tone's period, a power of 2 */
        uint32_t range;   /* frames: the slowest tone's period, period0 << (BENCH_MTDM_TONES - 1) */
        float *table;     /* range frames of sin(2 pi i / range): the generator's */
        double *ref;      /* the same in double: the analysis's */
};

enum bench_mtdm_status {
        BENCH_MTDM_OK = 0,
        BENCH_MTDM_NO_SIGNAL,       /* a tone came back below BENCH_MTDM_LEVEL_MIN_DB */
        BENCH_MTDM_PHASES_DISAGREE, /* a step of the unwrapping was past BENCH_MTDM_STEP_MAX */
};

struct bench_mtdm_tone {
        uint32_t period;  /* frames */
        double frequency; /* Hz */
        double level_db;  /* the returned amplitude against the one sent */
        double phase_deg; /* [0, 360): the returned tone's lag, as measured (before any inversion) */
        double delay;     /* frames: the delay as this tone refined it; NAN with no signal */
        double step;      /* this tone's change of the estimate, fraction of its period; 0 for the slowest */
};

struct bench_mtdm_result {
        enum bench_mtdm_status status;
        double delay; /* frames, in [-period0, range - period0); NAN with no signal */
        bool inverted;
        double min_level_db;
        double max_step;                                /* the largest |step| of the tones */
        uint64_t frames;                                /* analysed: a whole number of ranges */
        struct bench_mtdm_tone tones[BENCH_MTDM_TONES]; /* fastest first */
};

/*
 * The tones for @rate: period0 is the power of 2 in 4..64 that puts the
 * fastest tone nearest 3 kHz (16 frames at 44.1 and 48 kHz, 32 at 96 kHz),
 * so the range is about 170 ms (8192 frames at 48 kHz).  -EINVAL for a rate
 * of 0, -ENOMEM.  Not RT-safe.
 */
int bench_mtdm_create(uint32_t rate, struct bench_mtdm **ret);

/* Accepts NULL; returns NULL. */
struct bench_mtdm *bench_mtdm_destroy(struct bench_mtdm *m);

/*
 * Write the sum of the tones for frames @sample_time .. @sample_time +
 * @frames - 1 into @out, one sample every @stride floats (the first channel
 * of an interleaved buffer of @stride channels).  RT-safe: table lookups.
 */
void bench_mtdm_generate(const struct bench_mtdm *m, uint64_t sample_time, float *out, uint32_t frames,
                         uint32_t stride);

/*
 * Analyse @frames of input, @in[i] captured at frame @sample_time + i: the
 * first whole number of ranges of it (the rest is left out).  0 with the
 * outcome in *@ret (its status says whether the delay is to be trusted);
 * -EINVAL when @frames is shorter than one range.
 */
int bench_mtdm_analyse(const struct bench_mtdm *m, uint64_t sample_time, const float *in, size_t frames,
                       struct bench_mtdm_result *ret);

/* "ok", "no signal", "phases disagree". */
const char *bench_mtdm_status_name(enum bench_mtdm_status status);

/* --- udk-bench latency (bench-latency.c) --- */

struct bench_latency_report {
        char device[UDK_OBJECT_NAME_MAX];
        uint32_t rate;
        uint32_t period;        /* frames a cycle */
        uint32_t input_latency; /* frames: the device's, as udk_client_stream_latency() reports them */
        uint32_t output_latency;
        uint32_t period0, range; /* the tones' (struct bench_mtdm) */
        uint64_t missed_cycles;  /* cycles that did not reach the callback while it recorded */
        struct bench_mtdm_result result;
};

/* The report as a table, or as JSON: {"device", "rate", "measured_frames",
 * "reported_frames", "difference_frames", "measured_ms", "inverted",
 * "tones", ...}.  For a result whose status is BENCH_MTDM_OK. */
void bench_latency_print_table(const struct bench_latency_report *rep, FILE *out);
void bench_latency_print_json(const struct bench_latency_report *rep, FILE *out);

/* The subcommand: argv[0] is "latency"; returns the exit status. */
int bench_latency_main(int argc, char **argv);

#endif
