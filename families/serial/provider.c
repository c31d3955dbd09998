/* SPDX-License-Identifier: MIT */
/* The serial family's provider library (<udk/serial.h>): termios, lines in, bytes out, break, modem lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <udk/driver.h>
#include <udk/serial.h>
#include <udk/util.h>

#define SERIAL_LINE_MAX   4096u
#define SERIAL_OUT_MAX    65536u
#define SERIAL_READ_CHUNK 512u

struct udk_serial {
        struct udk_driver *drv;
        int fd;
        char error[160];

        struct udk_dispatch_source *reader;
        udk_serial_line_fn on_line;
        udk_serial_event_fn on_event;
        void *data;
        char *line; /* line_max + 1 */
        size_t line_max, line_len;
        bool overlong; /* dropping up to the next '\n' */
        bool noisy;    /* the line being read holds bytes that are not text */

        struct udk_dispatch_source *writer;
        uint8_t *out;
        size_t out_len, out_cap;
};

static int serial_fail(struct udk_serial *s, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int serial_fail(struct udk_serial *s, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->error, sizeof(s->error), fmt, ap);
        va_end(ap);
        return r;
}

void udk_serial_config_defaults(struct udk_serial_config *config)
{
        *config = (struct udk_serial_config){ .baud = 115200, .data_bits = 8, .stop_bits = 1 };
}

static const struct {
        uint32_t baud;
        speed_t speed;
} bauds[] = {
        { 50, B50 },           { 75, B75 },           { 110, B110 },         { 134, B134 },
        { 150, B150 },         { 200, B200 },         { 300, B300 },         { 600, B600 },
        { 1200, B1200 },       { 1800, B1800 },       { 2400, B2400 },       { 4800, B4800 },
        { 9600, B9600 },       { 19200, B19200 },     { 38400, B38400 },     { 57600, B57600 },
        { 115200, B115200 },   { 230400, B230400 },   { 460800, B460800 },   { 500000, B500000 },
        { 576000, B576000 },   { 921600, B921600 },   { 1000000, B1000000 }, { 1152000, B1152000 },
        { 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
        { 3500000, B3500000 }, { 4000000, B4000000 },
};

static int baud_speed(uint32_t baud, speed_t *ret)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(bauds); i++)
                if (bauds[i].baud == baud) {
                        *ret = bauds[i].speed;
                        return 0;
                }
        return -EINVAL;
}

int udk_serial_config_parse(const char *text, struct udk_serial_config *config, char *err, size_t err_size)
{
        struct udk_serial_config c = *config;
        char buf[128], *save = NULL, *word;
        unsigned n = 0;

        if (!text || strlen(text) >= sizeof(buf)) {
                snprintf(err, err_size, "serial line '%s': too long (at most %zu bytes)", text ? text : "",
                         sizeof(buf) - 1);
                return -EINVAL;
        }
        udk_strlcpy(buf, text, sizeof(buf));
        for (word = strtok_r(buf, " \t,", &save); word; word = strtok_r(NULL, " \t,", &save), n++) {
                speed_t speed;
                int64_t v;

                if (word[0] >= '0' && word[0] <= '9' && strlen(word) > 3) {
                        if (udk_parse_int64(word, 1, 4000000, &v) < 0 ||
                            baud_speed((uint32_t)v, &speed) < 0) {
                                snprintf(err, err_size, "serial line '%s': '%s' is not a standard baud rate",
                                         text, word);
                                return -EINVAL;
                        }
                        c.baud = (uint32_t)v;
                } else if (strlen(word) == 3 && word[0] >= '5' && word[0] <= '8' &&
                           strchr("NEOneo", word[1]) && (word[2] == '1' || word[2] == '2')) {
                        c.data_bits = (uint8_t)(word[0] - '0');
                        c.parity = (word[1] | 0x20) == 'n'   ? UDK_SERIAL_PARITY_NONE
                                   : (word[1] | 0x20) == 'e' ? UDK_SERIAL_PARITY_EVEN
                                                             : UDK_SERIAL_PARITY_ODD;
                        c.stop_bits = (uint8_t)(word[2] - '0');
                } else if (strcmp(word, "none") == 0) {
                        c.flow = UDK_SERIAL_FLOW_NONE;
                } else if (strcmp(word, "rtscts") == 0) {
                        c.flow = UDK_SERIAL_FLOW_RTSCTS;
                } else if (strcmp(word, "xonxoff") == 0) {
                        c.flow = UDK_SERIAL_FLOW_XONXOFF;
                } else {
                        snprintf(err, err_size,
                                 "serial line '%s': '%s' is neither a baud rate, a frame (8N1) nor a flow "
                                 "control "
                                 "(none, rtscts, xonxoff)",
                                 text, word);
                        return -EINVAL;
                }
        }
        *config = c;
        return 0;
}

int udk_serial_open(struct udk_driver *drv, int fd, struct udk_serial **ret)
{
        struct termios t;
        struct udk_serial *s;
        int flags;

        if (!drv || fd < 0 || !ret)
                return -EINVAL;
        if (tcgetattr(fd, &t) < 0)
                return errno == ENOTTY ? -ENOTTY : -errno;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return -errno;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->drv = drv;
        s->fd = fd;
        *ret = s;
        return 0;
}

void udk_serial_close(struct udk_serial *s)
{
        if (!s)
                return;
        udk_dispatch_source_destroy(s->reader);
        udk_dispatch_source_destroy(s->writer);
        free(s->line);
        free(s->out);
        free(s);
}

const char *udk_serial_error(const struct udk_serial *s)
{
        return s ? s->error : "";
}

static const tcflag_t sizes[] = { CS5, CS6, CS7, CS8 }; /* 5..8 data bits */
static const char *const parity_names[] = { "none", "even", "odd" };
static const char *const flow_names[] = { "none", "rtscts", "xonxoff" };

static int serial_check(struct udk_serial *s, const struct udk_serial_config *c, speed_t speed)
{
        unsigned bits = 8, parity, stop;
        struct termios t;

        if (tcgetattr(s->fd, &t) < 0)
                return serial_fail(s, -errno, "tcgetattr: %s", strerror(errno));
        for (unsigned i = 0; i < UDK_ELEMENTSOF(sizes); i++)
                if ((t.c_cflag & CSIZE) == sizes[i])
                        bits = 5 + i;
        parity = !(t.c_cflag & PARENB)  ? UDK_SERIAL_PARITY_NONE
                 : (t.c_cflag & PARODD) ? UDK_SERIAL_PARITY_ODD
                                        : UDK_SERIAL_PARITY_EVEN;
        stop = t.c_cflag & CSTOPB ? 2 : 1;
        if (cfgetospeed(&t) != speed)
                return serial_fail(s, -EINVAL, "the tty did not take baud %u", c->baud);
        if (bits != c->data_bits)
                return serial_fail(s, -EINVAL, "the tty kept %u data bits (asked for %u)", bits,
                                   c->data_bits);
        if (parity != (unsigned)c->parity)
                return serial_fail(s, -EINVAL, "the tty kept parity %s (asked for %s)", parity_names[parity],
                                   parity_names[c->parity]);
        if (stop != c->stop_bits)
                return serial_fail(s, -EINVAL, "the tty kept %u stop bits (asked for %u)", stop,
                                   c->stop_bits);
        if (!!(t.c_cflag & CRTSCTS) != (c->flow == UDK_SERIAL_FLOW_RTSCTS) ||
            !!(t.c_iflag & IXON) != (c->flow == UDK_SERIAL_FLOW_XONXOFF))
                return serial_fail(s, -EINVAL, "the tty did not take flow control %s", flow_names[c->flow]);
        return 0;
}

int udk_serial_configure(struct udk_serial *s, const struct udk_serial_config *c)
{
        struct termios t;
        speed_t speed;

        if (!s || !c)
                return -EINVAL;
        s->error[0] = '\0';
        if (baud_speed(c->baud, &speed) < 0)
                return serial_fail(
                        s, -EINVAL,
                        "baud %u is not a standard rate (50, 75, 110, ... 9600, 19200, 38400, 57600, "
                        "115200, 230400, ... 4000000)",
                        c->baud);
        if (c->data_bits < 5 || c->data_bits > 8)
                return serial_fail(s, -EINVAL, "%u data bits (5 to 8)", c->data_bits);
        if (c->stop_bits != 1 && c->stop_bits != 2)
                return serial_fail(s, -EINVAL, "%u stop bits (1 or 2)", c->stop_bits);
        if ((unsigned)c->parity > UDK_SERIAL_PARITY_ODD)
                return serial_fail(s, -EINVAL, "parity %u (none, even or odd)", (unsigned)c->parity);
        if ((unsigned)c->flow > UDK_SERIAL_FLOW_XONXOFF)
                return serial_fail(s, -EINVAL, "flow control %u (none, rtscts or xonxoff)",
                                   (unsigned)c->flow);
        if (tcgetattr(s->fd, &t) < 0)
                return serial_fail(s, -errno, "tcgetattr: %s", strerror(errno));
        t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
        t.c_cflag |= sizes[c->data_bits - 5] | CLOCAL | CREAD;
        if (c->parity != UDK_SERIAL_PARITY_NONE)
                t.c_cflag |= PARENB | (c->parity == UDK_SERIAL_PARITY_ODD ? PARODD : 0);
        if (c->stop_bits == 2)
                t.c_cflag |= CSTOPB;
        t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
        if (c->flow == UDK_SERIAL_FLOW_RTSCTS)
                t.c_cflag |= CRTSCTS;
        else if (c->flow == UDK_SERIAL_FLOW_XONXOFF)
                t.c_iflag |= IXON | IXOFF;
        if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
                return serial_fail(s, -EINVAL, "baud %u: %s", c->baud, strerror(errno));
        if (tcsetattr(s->fd, TCSANOW, &t) < 0)
                return serial_fail(s, -errno, "tcsetattr (baud %u): %s", c->baud, strerror(errno));
        /* tcsetattr succeeds when any part was taken: read back what the tty does now. */
        return serial_check(s, c, speed);
}

/* --- reading --- */

static void serial_event(struct udk_serial *s, enum udk_serial_event event, int error)
{
        if (s->on_event)
                s->on_event(s->data, s, event, error);
}

static bool is_text(unsigned char c)
{
        return c == '\t' || c == '\r' || (c >= 0x20 && c < 0x7f);
}

/* The end of a line: hand it over, or say why not. */
static void serial_line_end(struct udk_serial *s)
{
        size_t len = s->line_len;

        if (s->overlong)
                serial_event(s, UDK_SERIAL_EVENT_OVERLONG, 0);
        else if (s->noisy)
                serial_event(s, UDK_SERIAL_EVENT_NOISE, 0);
        else {
                if (len > 0 && s->line[len - 1] == '\r')
                        len--;
                s->line[len] = '\0';
                s->on_line(s->data, s, s->line, len);
        }
        s->line_len = 0;
        s->overlong = s->noisy = false;
}

static void serial_stop_reading(struct udk_serial *s, enum udk_serial_event event, int error)
{
        udk_dispatch_source_destroy(s->reader);
        s->reader = NULL;
        serial_event(s, event, error);
}

static void serial_readable(void *data, struct udk_dispatch_source *source)
{
        struct udk_serial *s = data;
        unsigned char buf[SERIAL_READ_CHUNK];

        for (unsigned rounds = 0; rounds < 16 && s->reader; rounds++) {
                ssize_t n = read(s->fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n == 0 || (n < 0 && errno == EIO)) {
                        /* A hung-up tty reads 0 or EIO for ever: the device is gone. */
                        serial_stop_reading(s, UDK_SERIAL_EVENT_HANGUP, 0);
                        return;
                }
                if (n < 0) {
                        serial_stop_reading(s, UDK_SERIAL_EVENT_ERROR, errno);
                        return;
                }
                for (ssize_t i = 0; i < n && s->reader; i++) {
                        unsigned char c = buf[i];

                        if (c == '\n') {
                                serial_line_end(s);
                                continue;
                        }
                        if (s->overlong)
                                continue;
                        if (s->line_len == s->line_max) {
                                s->overlong = true;
                                continue;
                        }
                        if (!is_text(c))
                                s->noisy = true;
                        s->line[s->line_len++] = (char)c;
                }
        }
}

int udk_serial_read_lines(struct udk_serial *s, size_t line_max, udk_serial_line_fn line,
                          udk_serial_event_fn event, void *data)
{
        int r;

        if (!s || !line || line_max < 1 || line_max > SERIAL_LINE_MAX)
                return -EINVAL;
        if (s->reader || s->line)
                return -EBUSY;
        s->line = malloc(line_max + 1);
        if (!s->line)
                return -ENOMEM;
        s->line_max = line_max;
        s->on_line = line;
        s->on_event = event;
        s->data = data;
        r = udk_dispatch_fd_create(udk_driver_queue(s->drv), s->fd, UDK_DISPATCH_READABLE, serial_readable,
                                   s, &s->reader);
        if (r < 0) {
                free(s->line);
                s->line = NULL;
        }
        return r;
}

/* --- writing --- */

/* Write what the tty takes now; 0 (perhaps with bytes left) or a negative errno. */
static int serial_drain(struct udk_serial *s)
{
        while (s->out_len > 0) {
                ssize_t n = write(s->fd, s->out, s->out_len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0)
                        return -errno;
                memmove(s->out, s->out + n, s->out_len - (size_t)n);
                s->out_len -= (size_t)n;
        }
        return 0;
}

static void serial_writable(void *data, struct udk_dispatch_source *source)
{
        struct udk_serial *s = data;
        int r = serial_drain(s);

        if (r < 0) {
                udk_driver_log(s->drv, UDK_LOG_WARN, "serial: write failed: %s; %zu bytes dropped",
                               strerror(-r), s->out_len);
                s->out_len = 0;
        }
        if (s->out_len == 0) {
                udk_dispatch_source_destroy(s->writer);
                s->writer = NULL;
        }
}

int udk_serial_write(struct udk_serial *s, const void *buf, size_t len)
{
        int r;

        if (!s || (!buf && len))
                return -EINVAL;
        if (len > SERIAL_OUT_MAX - s->out_len)
                return serial_fail(s, -ENOBUFS, "%zu bytes to write, %zu pending: more than %u", len,
                                   s->out_len, SERIAL_OUT_MAX);
        if (s->out_cap < s->out_len + len) {
                size_t cap = UDK_MAX(s->out_len + len, s->out_cap * 2);
                uint8_t *more = realloc(s->out, cap);

                if (!more)
                        return -ENOMEM;
                s->out = more;
                s->out_cap = cap;
        }
        memcpy(s->out + s->out_len, buf, len);
        s->out_len += len;
        r = serial_drain(s);
        if (r < 0) {
                s->out_len = 0;
                return serial_fail(s, r, "write: %s", strerror(-r));
        }
        if (s->out_len > 0 && !s->writer)
                return udk_dispatch_fd_create(udk_driver_queue(s->drv), s->fd, UDK_DISPATCH_WRITABLE,
                                              serial_writable, s, &s->writer);
        return 0;
}

size_t udk_serial_write_pending(const struct udk_serial *s)
{
        return s ? s->out_len : 0;
}

/* --- break and modem lines --- */

int udk_serial_send_break(struct udk_serial *s, unsigned duration_ms)
{
        if (!s)
                return -EINVAL;
        /* Linux's tcsendbreak takes its duration in units of 100 ms (0: 250 ms or more). */
        if (tcsendbreak(s->fd, (int)((duration_ms + 99) / 100)) < 0)
                return serial_fail(s, -errno, "break: %s", strerror(errno));
        return 0;
}

int udk_serial_modem_get(struct udk_serial *s, unsigned *ret_lines)
{
        int lines = 0;

        if (!s || !ret_lines)
                return -EINVAL;
        if (ioctl(s->fd, TIOCMGET, &lines) < 0)
                return serial_fail(s, -errno, "TIOCMGET: %s", strerror(errno));
        *ret_lines = (unsigned)lines;
        return 0;
}

int udk_serial_modem_set(struct udk_serial *s, unsigned lines, unsigned mask)
{
        int set = (int)(lines & mask & (TIOCM_DTR | TIOCM_RTS)),
            clear = (int)(~lines & mask & (TIOCM_DTR | TIOCM_RTS));

        if (!s)
                return -EINVAL;
        if (mask & ~(unsigned)(TIOCM_DTR | TIOCM_RTS))
                return serial_fail(s, -EINVAL, "modem lines 0x%x: only DTR and RTS are outputs", mask);
        if (set && ioctl(s->fd, TIOCMBIS, &set) < 0)
                return serial_fail(s, -errno, "TIOCMBIS: %s", strerror(errno));
        if (clear && ioctl(s->fd, TIOCMBIC, &clear) < 0)
                return serial_fail(s, -errno, "TIOCMBIC: %s", strerror(errno));
        return 0;
}
