/* SPDX-License-Identifier: MIT */
/* udk-driverhost --shared: several driver instances, one dispatch queue, udkd's channel on fd 3. */
#ifndef UDK_DRIVERHOST_SHARED_H
#define UDK_DRIVERHOST_SHARED_H

#include <stddef.h>

#include <udk/driver-host.h>

/* 0 when @fd is a SOCK_SEQPACKET unix socket, else -ENOTSOCK, -EPROTOTYPE or -EAFNOSUPPORT. */
int host_check_socket(int fd);

/*
 * Serve udkd's channel @ctl on @q: each HOST_ATTACH runs an instance of
 * @descs[driver] (NULL: that driver did not load, the instance is detached
 * at once with UDK_DRIVERHOST_EXIT_LOAD) on the socket it carries, and
 * each instance's end is told in a HOST_DETACHED.  Returns once udkd closed
 * the channel (0) or broke its protocol (UDK_DRIVERHOST_EXIT_PROTOCOL) and
 * every instance ended, as an enum udk_driverhost_exit.
 */
int shared_host_run(const struct udk_driver_descriptor *const *descs, size_t n_descs,
                    struct udk_dispatch_queue *q, int ctl);

#endif
