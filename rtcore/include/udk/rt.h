/* SPDX-License-Identifier: MIT */
/*
 * Real-time threads, for udkd's devices and for clients' streams alike:
 * SCHED_FIFO where the system allows it (one warning per process and a
 * normal thread where it does not), optional pinning, a stack faulted in
 * before the first cycle.
 */
#ifndef UDK_RT_H
#define UDK_RT_H

#include <pthread.h>
#include <stdbool.h>

/*
 * Start @fn(@arg) at SCHED_FIFO @priority (0: normal priority) on @cpu (-1:
 * anywhere) with a 512 KiB stack.  Where SCHED_FIFO is refused (EPERM) it
 * warns once and starts a normal thread; *@ret_realtime tells which.
 * Returns 0 or a negative errno (-EINVAL for a CPU outside the affinity mask).
 */
int udk_rt_thread_start(pthread_t *ret, int priority, int cpu, void *(*fn)(void *), void *arg,
                        bool *ret_realtime);

/* Call first thing on the new thread: touches the 128 KiB of stack a cycle
 * may use, so no page fault happens mid-cycle. */
void udk_rt_prefault_stack(void);

#endif
