/* SPDX-License-Identifier: MIT */
/*
 * The multi-tone delay measurement: the tones' generator and their
 * analysis (see bench-mtdm.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <udk/util.h>

#include "bench-mtdm.h"

#define TONE_TARGET_HZ 3000.0 /* the fastest tone's frequency, roughly */
#define LEVEL_FLOOR_DB (-200.0)

int bench_mtdm_create(uint32_t rate, struct bench_mtdm **ret)
{
        struct bench_mtdm *m;
        uint32_t best = 4;

        if (rate == 0)
                return -EINVAL;
        for (uint32_t p = 8; p <= 64; p *= 2)
                if (fabs(log(rate / (p * TONE_TARGET_HZ))) < fabs(log(rate / (best * TONE_TARGET_HZ))))
                        best = p;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->rate = rate;
        m->period0 = best;
        m->range = best << (BENCH_MTDM_TONES - 1);
        m->table = calloc(m->range, sizeof(*m->table));
        m->ref = calloc(m->range, sizeof(*m->ref));
        if (!m->table || !m->ref) {
                bench_mtdm_destroy(m);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < m->range; i++) {
                m->ref[i] = sin(2.0 * M_PI * (double)i / (double)m->range);
                m->table[i] = (float)m->ref[i];
        }
        *ret = m;
        return 0;
}

struct bench_mtdm *bench_mtdm_destroy(struct bench_mtdm *m)
{
        if (m) {
                free(m->table);
                free(m->ref);
                free(m);
        }
        return NULL;
}

/* Where frame @t of tone @k is in the table: tone k runs 2^(TONES-1-k) times faster than the table. */
static inline uint32_t tone_index(const struct bench_mtdm *m, uint64_t t, unsigned k)
{
        return (uint32_t)(t << (BENCH_MTDM_TONES - 1 - k)) & (m->range - 1);
}

void bench_mtdm_generate(const struct bench_mtdm *m, uint64_t sample_time, float *out, uint32_t frames,
                         uint32_t stride)
{
        for (uint32_t f = 0; f < frames; f++) {
                uint64_t t = sample_time + f;
                float x = 0.0f;

                for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                        x += m->table[tone_index(m, t, k)];
                out[(size_t)f * stride] = BENCH_MTDM_AMPLITUDE * x;
        }
}

/* @a in [0, 2 pi). */
static double wrap_turn(double a)
{
        a = fmod(a, 2.0 * M_PI);
        return a < 0.0 ? a + 2.0 * M_PI : a;
}

/* @a in (-pi, pi]. */
static double wrap_half_turn(double a)
{
        a = wrap_turn(a);
        return a > M_PI ? a - 2.0 * M_PI : a;
}

/*
 * Tone k's phase is 2 pi d / P_k, and P_k is half of P_(k+1): so it is
 * twice the next tone's phase, or half a turn off from that when the
 * signal came back inverted.  The pairs vote.
 */
static bool phases_inverted(const double *phase)
{
        double vote = 0.0;

        for (unsigned k = 0; k + 1 < BENCH_MTDM_TONES; k++)
                vote += cos(wrap_half_turn(phase[k] - 2.0 * phase[k + 1]));
        return vote < 0.0;
}

int bench_mtdm_analyse(const struct bench_mtdm *m, uint64_t sample_time, const float *in, size_t frames,
                       struct bench_mtdm_result *ret)
{
        double sin_sum[BENCH_MTDM_TONES] = { 0 }, cos_sum[BENCH_MTDM_TONES] = { 0 };
        double phase[BENCH_MTDM_TONES];
        size_t n = frames / m->range * m->range;
        uint32_t quarter = m->range / 4;
        struct bench_mtdm_result res = { .status = BENCH_MTDM_OK, .frames = n, .min_level_db = INFINITY };
        double d;

        if (n == 0)
                return -EINVAL;
        /* Over whole periods of every tone the tones are orthogonal: each sum sees only its own. */
        for (size_t i = 0; i < n; i++) {
                double x = in[i];

                for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                        uint32_t at = tone_index(m, sample_time + i, k);
                        sin_sum[k] += x * m->ref[at];
                        cos_sum[k] += x * m->ref[(at + quarter) & (m->range - 1)];
                }
        }
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                struct bench_mtdm_tone *t = &res.tones[k];
                /* a sin(w t - theta) gives sin_sum = a n/2 cos(theta), cos_sum = -a n/2 sin(theta). */
                double amplitude = 2.0 * hypot(sin_sum[k], cos_sum[k]) / (double)n;

                phase[k] = wrap_turn(atan2(-cos_sum[k], sin_sum[k]));
                t->period = m->period0 << k;
                t->frequency = (double)m->rate / t->period;
                t->level_db =
                        amplitude > 0.0 ? 20.0 * log10(amplitude / BENCH_MTDM_AMPLITUDE) : LEVEL_FLOOR_DB;
                t->level_db = UDK_MAX(t->level_db, LEVEL_FLOOR_DB);
                t->phase_deg = phase[k] * 180.0 / M_PI;
                t->delay = NAN;
                res.min_level_db = UDK_MIN(res.min_level_db, t->level_db);
        }
        if (res.min_level_db < BENCH_MTDM_LEVEL_MIN_DB) {
                res.status = BENCH_MTDM_NO_SIGNAL;
                res.delay = NAN;
                *ret = res;
                return 0;
        }

        res.inverted = phases_inverted(phase);
        if (res.inverted)
                for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                        phase[k] = wrap_turn(phase[k] + M_PI);
        /* The slowest tone gives the delay modulo the range; each faster one picks
         * the candidate of its own nearest to the estimate so far. */
        d = phase[BENCH_MTDM_TONES - 1] / (2.0 * M_PI) * m->range;
        res.tones[BENCH_MTDM_TONES - 1].delay = d;
        for (int k = BENCH_MTDM_TONES - 2; k >= 0; k--) {
                struct bench_mtdm_tone *t = &res.tones[k];
                double base = phase[k] / (2.0 * M_PI) * t->period;
                double turns = round((d - base) / t->period);

                t->delay = base + turns * t->period;
                t->step = (t->delay - d) / t->period;
                res.max_step = UDK_MAX(res.max_step, fabs(t->step));
                d = t->delay;
        }
        /* A delay of 0 may come out a hair below the range: give it back as a hair below 0. */
        if (d >= (double)(m->range - m->period0))
                for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                        res.tones[k].delay -= m->range;
        res.delay = res.tones[0].delay;
        if (res.max_step > BENCH_MTDM_STEP_MAX)
                res.status = BENCH_MTDM_PHASES_DISAGREE;
        *ret = res;
        return 0;
}

const char *bench_mtdm_status_name(enum bench_mtdm_status status)
{
        switch (status) {
        case BENCH_MTDM_OK:
                return "ok";
        case BENCH_MTDM_NO_SIGNAL:
                return "no signal";
        case BENCH_MTDM_PHASES_DISAGREE:
                return "phases disagree";
        }
        return "unknown";
}
