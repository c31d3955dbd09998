/* SPDX-License-Identifier: MIT */
/*
 * The zero timestamp's seqlock (the fence-based scheme of Boehm, "Can seqlocks
 * get along with programming language memory models?", 2012) and the
 * delay-locked loop of Fons Adriaensen's "Using a DLL to filter time" (2005),
 * as JACK uses it.
 */
#include <errno.h>
#include <math.h>

#include <udk/clock.h>
#include <udk/util.h>

/* Enough for any live writer (a write is four stores); a dead one must not hang us. */
#define ZTS_READ_TRIES 1000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
        __asm__ __volatile__("yield");
#endif
}

UDK_EXPORT void udk_zts_publish(struct udk_zero_timestamp *zts, uint64_t sample_time, uint64_t host_time,
                                uint64_t rate_milli)
{
        /* Relaxed: we are the only writer, the value is our own. */
        uint32_t seq = atomic_load_explicit(&zts->seq, memory_order_relaxed);
        uint32_t done = seq + 2;

        /* 0 means "never published": step over it when the counter wraps. */
        if (UDK_UNLIKELY(done == 0))
                done = 2;

        atomic_store_explicit(&zts->seq, seq + 1, memory_order_relaxed);
        /*
         * Release fence: a reader that sees any of the field stores below also
         * sees the odd seq above when it re-reads seq after its acquire fence.
         */
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&zts->sample_time, sample_time, memory_order_relaxed);
        atomic_store_explicit(&zts->host_time, host_time, memory_order_relaxed);
        atomic_store_explicit(&zts->rate_milli, rate_milli, memory_order_relaxed);
        /* Release: a reader that sees the even seq also sees every field stored before it. */
        atomic_store_explicit(&zts->seq, done, memory_order_release);
}

UDK_EXPORT int udk_zts_read(const struct udk_zero_timestamp *zts, uint64_t *ret_sample_time,
                            uint64_t *ret_host_time, uint64_t *ret_rate_milli)
{
        for (unsigned i = 0; i < ZTS_READ_TRIES; i++) {
                uint64_t sample_time, host_time, rate_milli;
                uint32_t seq0, seq1;

                /* Acquire: the fields read below are at least those of the write that ended with seq0. */
                seq0 = atomic_load_explicit(&zts->seq, memory_order_acquire);
                if (seq0 == 0)
                        return -ENODATA;
                if (seq0 & 1) {
                        cpu_relax();
                        continue;
                }
                sample_time = atomic_load_explicit(&zts->sample_time, memory_order_relaxed);
                host_time = atomic_load_explicit(&zts->host_time, memory_order_relaxed);
                rate_milli = atomic_load_explicit(&zts->rate_milli, memory_order_relaxed);
                /*
                 * Acquire fence: the field loads above are done before seq is
                 * read again, and if any of them saw a newer write, so does seq1.
                 */
                atomic_thread_fence(memory_order_acquire);
                seq1 = atomic_load_explicit(&zts->seq, memory_order_relaxed);
                if (seq0 != seq1) {
                        cpu_relax();
                        continue;
                }

                if (ret_sample_time)
                        *ret_sample_time = sample_time;
                if (ret_host_time)
                        *ret_host_time = host_time;
                if (ret_rate_milli)
                        *ret_rate_milli = rate_milli;
                return 0;
        }
        return -EAGAIN;
}

UDK_EXPORT void udk_dll_init(struct udk_dll *dll, double nominal_rate, uint32_t period_frames,
                             double bandwidth_hz)
{
        double period_s, omega;

        if (!(nominal_rate > 0.0))
                nominal_rate = 48000.0;
        if (period_frames == 0)
                period_frames = 1;
        if (!(bandwidth_hz > 0.0))
                bandwidth_hz = 1.0;

        period_s = (double)period_frames / nominal_rate;
        omega = 2.0 * M_PI * bandwidth_hz * period_s;

        *dll = (struct udk_dll){
                .b = M_SQRT2 * omega,
                .c = omega * omega,
                .e2 = period_s * 1e9,
                .nominal_period = period_s * 1e9,
                .period_frames = period_frames,
        };
}

UDK_EXPORT void udk_dll_reset(struct udk_dll *dll, uint64_t host_time)
{
        /* @host_time is the first boundary again; the period learnt so far is kept. */
        dll->t0 = (double)host_time;
        dll->t1 = dll->t0 + dll->e2;
        dll->updates = 1;
}

UDK_EXPORT void udk_dll_update(struct udk_dll *dll, uint64_t host_time)
{
        double e;

        if (UDK_UNLIKELY(dll->updates == 0)) {
                dll->e2 = dll->nominal_period;
                udk_dll_reset(dll, host_time);
                return;
        }

        e = (double)host_time - dll->t1;
        dll->t0 = dll->t1;
        dll->t1 += dll->b * e + dll->e2;
        dll->e2 += dll->c * e;
        dll->updates++;
}

UDK_EXPORT double udk_dll_rate(const struct udk_dll *dll)
{
        /* A loop fed nonsense (time going backwards) must not report a negative or infinite rate. */
        double period = dll->e2 > 0.0 ? dll->e2 : dll->nominal_period;

        return (double)dll->period_frames * 1e9 / period;
}

UDK_EXPORT uint64_t udk_dll_time(const struct udk_dll *dll)
{
        return dll->t0 > 0.0 ? (uint64_t)(dll->t0 + 0.5) : 0;
}
