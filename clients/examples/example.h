/* SPDX-License-Identifier: MIT */
/*
 * What the example clients share: messages in udkd's manner
 * ("udk-tone: error: ..."), checked numbers, finding the device, and the
 * wait for Ctrl-C or the end of --seconds.
 *
 * Exit status of every example: 0 done, 1 an error, 2 a usage error.
 */
#ifndef UDK_EXAMPLE_H
#define UDK_EXAMPLE_H

#include <stdint.h>
#include <stdio.h>

#include <udk/client.h>
#include <udk/util.h>

#define EXAMPLE_EXIT_USAGE 2

/* The program's name, for messages; set it first. */
extern const char *example_prog;

/* "PROG: error: ..." and "Try 'PROG --help'." on stderr; returns 2. */
int example_usage_error(const char *fmt, ...) UDK_PRINTF(1, 2);

/* "PROG: error: ..." on stderr; returns 1. */
int example_fail(const char *fmt, ...) UDK_PRINTF(1, 2);

/* Parse @text for option @opt in [@min, @max] (@unit for the message); 0 or 2. */
int example_parse_number(const char *opt, const char *text, double min, double max, const char *unit,
                         double *ret);

struct example_device {
        udk_object_id id;
        char name[UDK_OBJECT_NAME_MAX];
        uint32_t rate, input_channels, output_channels;
};

/* The device @what names (NULL: the first one); 0, or 1 with a message. */
int example_find_device(struct udk_client *client, const char *what, struct example_device *ret);

/* Block SIGINT and SIGTERM: call before connecting, so that every thread
 * leaves them to example_run(). */
void example_block_signals(void);

/*
 * Wait for SIGINT, SIGTERM or the end of @seconds (0: no end) while
 * udkd keeps @stream running.  With @done, poll it every 10 ms instead of
 * counting seconds: it returns 0 to go on, > 0 to stop, < 0 to stop with
 * an error it printed.  0, or 1 with a message.
 */
int example_run(struct udk_client_stream *stream, double seconds, int (*done)(void *data), void *data);

#endif
