/* SPDX-License-Identifier: MIT */
/*
 * IO operation handlers: AudioDriverKit's IOOperationHandler.  A device runs
 * its handlers, in the order they were added, at two points of every cycle:
 *
 *   UDK_IO_BEGIN_READ  after the backend read the hardware into the input
 *                      stream rings at sample time T, before clients see it;
 *   UDK_IO_WRITE_END   after the client outputs were mixed into the output
 *                      stream rings at T, before the backend writes them.
 *
 * A handler reaches the stream rings through the device it was given
 * (udk_device_stream(), udk_stream_frames()).  It runs on the RT thread: it
 * must be RT-safe, and a negative return is counted, never printed.
 */
#ifndef UDK_IO_H
#define UDK_IO_H

#include <stdint.h>

#include <udk/object.h>

enum udk_io_operation {
        UDK_IO_BEGIN_READ = 1,
        UDK_IO_WRITE_END = 2,
};

/* A set of operations, for the ops a handler wants. */
#define UDK_IO_OPS_INPUT  (1u << UDK_IO_BEGIN_READ)
#define UDK_IO_OPS_OUTPUT (1u << UDK_IO_WRITE_END)
#define UDK_IO_OPS_ALL    (UDK_IO_OPS_INPUT | UDK_IO_OPS_OUTPUT)

typedef int (*udk_io_handler_fn)(void *ctx, udk_object_id device, enum udk_io_operation op, uint32_t frames,
                                 uint64_t sample_time, uint64_t host_time);

#endif
