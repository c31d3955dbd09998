/* SPDX-License-Identifier: MIT */
/* sandbox-probe's selectors, shared with test-driverhost. */
#ifndef UDK_TEST_SANDBOX_PROBE_H
#define UDK_TEST_SANDBOX_PROBE_H

#include <stdint.h>

#define PROBE_PENDING ((int64_t)INT64_MIN)

enum probe_selector {
        PROBE_OPEN = 1,
        PROBE_SOCKET_INET,
        PROBE_SOCKET_UNIX,
        PROBE_EXECVE,
        PROBE_URING_SETUP,
        PROBE_URING_OPENAT,
        PROBE_URING_RESULT,
        PROBE_THREAD,
        PROBE_DATA_QUEUE,
        PROBE_ECHO,
        PROBE_OVERFILL,
        PROBE_FAILING,
        PROBE_PROVIDER,
        PROBE_CONTROL,
        PROBE_PUBLISH,
        PROBE_REMOVE,
        PROBE_DEVICE,
        PROBE_TIMER, /* a 20 ms timer that logs each tick and is never destroyed: the host's to reclaim */
};

#endif
