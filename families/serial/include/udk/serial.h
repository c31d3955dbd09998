/* SPDX-License-Identifier: MIT */
/*
 * The serial family's provider library: what a driver bound to a serial
 * nub uses to talk to its tty.  udkd opened the nub's device node and
 * handed it over (udk_nub_fd(nub, 0)); this library configures it with
 * termios, reads it line by line through an fd source on the driver's
 * dispatch queue, writes to it without blocking the queue, and sends
 * breaks and moves the modem lines.  docs/families.md describes it.
 *
 *   struct udk_serial *s;
 *   struct udk_serial_config c;
 *   udk_serial_config_defaults(&c);              // 115200 8N1, no flow control
 *   r = udk_serial_open(drv, udk_nub_fd(nub, 0), &s);
 *   r = udk_serial_configure(s, &c);             // -EINVAL with a sentence
 *   r = udk_serial_read_lines(s, 256, on_line, on_event, state);
 *   r = udk_serial_write(s, "GET VOL\n", 8);
 *
 * Functions return 0 or a negative errno; a refusal leaves its sentence in
 * udk_serial_error().  Everything runs on the driver's dispatch queue; none
 * of it is for an RT thread.
 */
#ifndef UDK_SERIAL_H
#define UDK_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct udk_driver;
struct udk_serial;

enum udk_serial_parity {
        UDK_SERIAL_PARITY_NONE = 0,
        UDK_SERIAL_PARITY_EVEN,
        UDK_SERIAL_PARITY_ODD,
};

enum udk_serial_flow {
        UDK_SERIAL_FLOW_NONE = 0,
        UDK_SERIAL_FLOW_RTSCTS,  /* hardware: RTS/CTS */
        UDK_SERIAL_FLOW_XONXOFF, /* software: XON/XOFF */
};

struct udk_serial_config {
        uint32_t baud;     /* a standard rate: 50 .. 4000000 (udk_serial_configure lists them) */
        uint8_t data_bits; /* 5..8 */
        uint8_t stop_bits; /* 1 or 2 */
        enum udk_serial_parity parity;
        enum udk_serial_flow flow;
};

/* 115200 baud, 8 data bits, no parity, 1 stop bit, no flow control. */
void udk_serial_config_defaults(struct udk_serial_config *config);

/*
 * Parse "BAUD [FRAME] [FLOW]" as a personality property may give it:
 * "9600", "115200 8N1", "31250 8N1 none", "57600 7E2 rtscts", "xonxoff".
 * FRAME is data bits 5-8, parity N/E/O, stop bits 1-2.  Fields not given
 * keep @config's values.  -EINVAL with a sentence naming the bad word in
 * @err.
 */
int udk_serial_config_parse(const char *text, struct udk_serial_config *config, char *err, size_t err_size);

/*
 * Take the tty @fd (the driver's, from udk_nub_fd(); it stays the
 * caller's to close, and the host closes nub descriptors itself): check it
 * is a tty, make it non-blocking and raw (no echo, no line editing, no
 * output processing, no signals).  Log lines go through @drv.
 */
int udk_serial_open(struct udk_driver *drv, int fd, struct udk_serial **ret);

/* Stop reading and writing (pending output is dropped) and free @s.  Accepts NULL. */
void udk_serial_close(struct udk_serial *s);

/* The last refusal's sentence, "" when there was none. */
const char *udk_serial_error(const struct udk_serial *s);

/* Apply @config (tcsetattr): -EINVAL for a rate, frame or flow control termios cannot express, or
 * that the tty did not take (read back: a pseudo-terminal keeps 8 data bits without parity), with a
 * sentence; the tty's own refusal as its errno. */
int udk_serial_configure(struct udk_serial *s, const struct udk_serial_config *config);

/* What happened to the input besides a line. */
enum udk_serial_event {
        /* a line with bytes that are not text (text: tab, CR, 0x20-0x7e): dropped */
        UDK_SERIAL_EVENT_NOISE = 1,
        UDK_SERIAL_EVENT_OVERLONG = 2, /* a line longer than line_max: dropped up to its end */
        UDK_SERIAL_EVENT_HANGUP = 3,   /* the device is gone (hang-up, EIO): reading stopped */
        UDK_SERIAL_EVENT_ERROR = 4,    /* read() failed otherwise (its errno): reading stopped */
};

/* A line without its "\n" (and a "\r" before it), NUL-terminated, @len bytes of text. */
typedef void (*udk_serial_line_fn)(void *data, struct udk_serial *s, const char *line, size_t len);
/* @error: the errno of UDK_SERIAL_EVENT_ERROR, else 0. */
typedef void (*udk_serial_event_fn)(void *data, struct udk_serial *s, enum udk_serial_event event,
                                    int error);

/*
 * Read the tty line by line on the driver's dispatch queue: an fd source
 * wakes when bytes come; each complete line goes to @line, what is not a
 * line of text to @event (which may be NULL).  @line_max (1..4096) is the
 * longest line taken, in bytes.  Once only: -EBUSY when reading already.
 */
int udk_serial_read_lines(struct udk_serial *s, size_t line_max, udk_serial_line_fn line,
                          udk_serial_event_fn event, void *data);

/*
 * Write @len bytes without blocking the queue: what the tty does not take
 * now is kept (up to 64 KiB in all, else -ENOBUFS and nothing kept) and
 * written as it drains, in order.  A failure later is logged.
 */
int udk_serial_write(struct udk_serial *s, const void *buf, size_t len);
/* Bytes written but not yet taken by the tty. */
size_t udk_serial_write_pending(const struct udk_serial *s);

/* A break of about @duration_ms (0: the tty's default, 250-500 ms); tcsendbreak(). */
int udk_serial_send_break(struct udk_serial *s, unsigned duration_ms);

/* Modem lines, as TIOCM_* of <termios.h>: TIOCM_DTR, TIOCM_RTS (outputs), TIOCM_CTS, TIOCM_DSR,
 * TIOCM_CAR, TIOCM_RNG (inputs). */
int udk_serial_modem_get(struct udk_serial *s, unsigned *ret_lines);
/* Set the output lines in @mask (TIOCM_DTR, TIOCM_RTS) to their bits in @lines; others untouched. */
int udk_serial_modem_set(struct udk_serial *s, unsigned lines, unsigned mask);

#endif
