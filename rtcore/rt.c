/* SPDX-License-Identifier: MIT */
/*
 * Real-time threads: SCHED_FIFO where the system allows it (one warning and
 * a normal thread where it does not), optional pinning, memory locked and
 * the stack faulted in before the first cycle.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include <udk/log.h>
#include <udk/rt.h>
#include <udk/util.h>

#include "device-private.h"

#define UDK_RT_STACK_SIZE     (512 * 1024)
#define UDK_RT_STACK_PREFAULT (128 * 1024)

/* initial-exec: a plain %fs-relative load, never __tls_get_addr (which may
 * allocate the first time a thread calls it). */
static __thread bool rt_current __attribute__((tls_model("initial-exec")));
static atomic_bool warned_fifo;

bool udk_rt_thread_is_current(void)
{
        return rt_current;
}

void udk_rt_thread_set_current(bool on)
{
        rt_current = on;
}

/* Touch the stack the cycle will use, so no page fault happens mid-cycle. */
__attribute__((noinline)) void udk_rt_prefault_stack(void)
{
        volatile uint8_t buf[UDK_RT_STACK_PREFAULT];

        for (size_t i = 0; i < sizeof(buf); i += 4096)
                buf[i] = 0;
}

static int create(pthread_t *ret, int priority, int cpu, void *(*fn)(void *), void *arg)
{
        pthread_attr_t attr;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        r = pthread_attr_setstacksize(&attr, UDK_RT_STACK_SIZE);
        if (r == 0 && priority > 0) {
                struct sched_param param = { .sched_priority = priority };
                r = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
                if (r == 0)
                        r = pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
                if (r == 0)
                        r = pthread_attr_setschedparam(&attr, &param);
        }
        if (r == 0 && cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                r = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
        }
        if (r == 0)
                r = pthread_create(ret, &attr, fn, arg);
        pthread_attr_destroy(&attr);
        return -r;
}

int udk_rt_thread_start(pthread_t *ret, int priority, int cpu, void *(*fn)(void *), void *arg,
                        bool *ret_realtime)
{
        int r = create(ret, priority, cpu, fn, arg);

        if (r == -EPERM && priority > 0) {
                if (!atomic_exchange(&warned_fifo, true))
                        udk_warn("SCHED_FIFO priority %d refused (%s): real-time threads run at normal "
                                 "priority; grant CAP_SYS_NICE or an rtprio limit for low latency",
                                 priority, strerror(-r));
                r = create(ret, 0, cpu, fn, arg);
                if (r == 0)
                        *ret_realtime = false;
                return r;
        }
        if (r == 0)
                *ret_realtime = priority > 0;
        return r;
}

int udk_rt_lock_memory(void)
{
#if UDK_HAVE_ASAN
        /* ASan reserves terabytes of shadow memory: locking it cannot work. */
        udk_debug("memory not locked: built with AddressSanitizer");
        return 0;
#else
        static atomic_bool warned;

        if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0)
                return 0;
        int r = -errno;
        if (!atomic_exchange(&warned, true))
                udk_warn("cannot lock memory (%s): the RT thread may wait for paging; raise RLIMIT_MEMLOCK",
                         strerror(-r));
        return r;
#endif
}
