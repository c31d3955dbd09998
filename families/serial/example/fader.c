/* SPDX-License-Identifier: MIT */
/*
 * fader: the serial family's example driver.  A fader box on a serial line
 * that speaks a text command protocol, one command per line ("\n", a "\r"
 * before it is dropped):
 *
 *   box -> driver   VOL <dB>        the fader moved (or the answer to GET VOL)
 *   driver -> box   GET VOL         sent at start: where is the fader?
 *                   SET VOL <dB>    a client moved the control: move the fader
 *                                   (one decimal: "SET VOL -20.0")
 *
 * The driver creates an audio device in udkd, "fader:<nub>", on the
 * virtual backend with a gain DSP handler, and a level control `volume`
 * (-60..0 dB) that drives the handler's gain.level: the fader on the box
 * moves the control, and udkctl set of the control moves the fader.
 * Noise on the line (bytes that are not text, overlong lines, lines that
 * are not a command, a level out of range) is a warning and nothing else.
 * When the tty hangs up (the box unplugged, a pseudo-terminal's master
 * closed) the driver stops itself cleanly (udk_driver_terminate).
 *
 * Personality properties: property.line (the serial line, as
 * udk_serial_config_parse takes it; default "115200 8N1 none").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/serial.h>
#include <udk/util.h>

#define VOLUME_MIN_DB     (-60.0)
#define VOLUME_MAX_DB     0.0
#define VOLUME_DEFAULT_DB (-12.0)
#define LINE_MAX_BYTES    64u

struct fader {
        struct udk_driver *drv;
        struct udk_serial *serial;
        udk_object_id device;
        uint64_t noise; /* lines dropped, for the log */
};

/* The fader moved on the box: move the control, and the handler with it (udkd does not echo). */
static void fader_moved(struct fader *f, double db)
{
        char value[32];

        snprintf(value, sizeof(value), "%.3f", db);
        if (udk_driver_device_set_control(f->drv, f->device, "volume", value) < 0 ||
            udk_driver_device_set_control(f->drv, f->device, "gain.level", value) < 0)
                udk_driver_log(f->drv, UDK_LOG_WARN, "volume %s not applied: %s", value,
                               udk_driver_error(f->drv));
}

static void fader_line(void *data, struct udk_serial *s, const char *line, size_t len)
{
        struct fader *f = data;
        double db;

        if (strncmp(line, "VOL ", 4) == 0) {
                if (udk_parse_double(line + 4, VOLUME_MIN_DB, VOLUME_MAX_DB, &db) < 0) {
                        udk_driver_log(f->drv, UDK_LOG_WARN,
                                       "the box said '%s': not a level in dB (%g..%g): ignored", line,
                                       VOLUME_MIN_DB, VOLUME_MAX_DB);
                        return;
                }
                fader_moved(f, db);
                return;
        }
        if (strcmp(line, "OK") == 0 || len == 0)
                return;
        udk_driver_log(f->drv, UDK_LOG_WARN, "the box said '%.40s%s': not a command: ignored", line,
                       len > 40 ? "..." : "");
}

static void fader_event(void *data, struct udk_serial *s, enum udk_serial_event event, int error)
{
        struct fader *f = data;

        switch (event) {
        case UDK_SERIAL_EVENT_NOISE:
                udk_driver_log(f->drv, UDK_LOG_WARN,
                               "noise on the line (bytes that are not text): a line dropped");
                break;
        case UDK_SERIAL_EVENT_OVERLONG:
                udk_driver_log(f->drv, UDK_LOG_WARN, "a line longer than %u bytes: dropped", LINE_MAX_BYTES);
                break;
        case UDK_SERIAL_EVENT_HANGUP:
                udk_driver_log(f->drv, UDK_LOG_INFO, "the box is gone (the line hung up)");
                udk_driver_terminate(f->drv);
                break;
        case UDK_SERIAL_EVENT_ERROR:
                udk_driver_log(f->drv, UDK_LOG_ERROR, "reading the line failed: %s", strerror(error));
                udk_driver_terminate(f->drv);
                break;
        }
}

static int fader_send(struct fader *f, const char *command)
{
        int r = udk_serial_write(f->serial, command, strlen(command));

        if (r < 0)
                udk_driver_log(f->drv, UDK_LOG_WARN, "'%.*s' not sent: %s", (int)strcspn(command, "\n"),
                               command, udk_serial_error(f->serial));
        return r;
}

static void fader_stop(struct udk_driver *drv, void *state)
{
        struct fader *f = state;

        udk_serial_close(f->serial);
        f->serial = NULL;
}

static int fader_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct fader *f = state;
        const char *line = udk_driver_personality_property(drv, "line");
        struct udk_serial_config config;
        char text[512], err[200];
        int r;

        f->drv = drv;
        udk_serial_config_defaults(&config);
        if (line && udk_serial_config_parse(line, &config, err, sizeof(err)) < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.line: %s", err);
                return -EINVAL;
        }
        r = udk_serial_open(drv, udk_nub_fd(provider, 0), &f->serial);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR,
                               "nub '%s': its device node (%s) is not a tty I can use: %s",
                               udk_nub_name(provider), udk_nub_property(provider, "devnode") ?: "none",
                               strerror(-r));
                return r;
        }
        r = udk_serial_configure(f->serial, &config);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "%s: %s", udk_nub_property(provider, "devnode") ?: "tty",
                               udk_serial_error(f->serial));
                goto fail;
        }

        /* The nub's name is checked by udkd (letters, digits, '_', '.', '-'): no line can ride in on it. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = fader:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = 512\n"
                 "channels = 2\n"
                 "source = sine\n"
                 "handlers = gain\n"
                 "gain.level = %g\n",
                 udk_nub_name(provider), udk_nub_name(provider), VOLUME_DEFAULT_DB);
        r = udk_driver_device_create(drv, text, &f->device);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "device fader:%s not created: %s", udk_nub_name(provider),
                               udk_driver_error(drv));
                goto fail;
        }
        r = udk_driver_device_add_level(drv, f->device, "volume", VOLUME_MIN_DB, VOLUME_MAX_DB,
                                        VOLUME_DEFAULT_DB);
        if (r == 0)
                r = udk_serial_read_lines(f->serial, LINE_MAX_BYTES, fader_line, fader_event, f);
        /* Ask where the fader is: its answer moves the control. */
        if (r == 0)
                r = fader_send(f, "GET VOL\n");
        if (r < 0)
                goto fail;
        udk_driver_log(drv, UDK_LOG_INFO, "fader:%s on %s, %u baud", udk_nub_name(provider),
                       udk_nub_property(provider, "devnode") ?: "?", config.baud);
        return 0;
fail:
        fader_stop(drv, f); /* stop() runs only after a start() that succeeded */
        return r;
}

/* A client moved a control ("-20.0 dB"): the box's fader follows, and so does the gain handler. */
static void fader_control_changed(struct udk_driver *drv, void *state, udk_object_id device,
                                  const char *control, const char *value)
{
        struct fader *f = state;
        char command[48];
        char *end = NULL;
        double db;

        if (strcmp(control, "volume") != 0)
                return;
        db = strtod(value, &end);
        if (end == value) {
                udk_driver_log(drv, UDK_LOG_WARN, "volume '%s': not a level", value);
                return;
        }
        if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "gain.level %s not applied: %s", value,
                               udk_driver_error(drv));
        snprintf(command, sizeof(command), "SET VOL %.1f\n", db);
        fader_send(f, command);
}

static const struct udk_driver_descriptor fader_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "fader",
        .description = "the serial family's example: a fader box's text protocol mapped to a level control",
        .state_size = sizeof(struct fader),
        .start = fader_start,
        .stop = fader_stop,
        .control_changed = fader_control_changed,
};

UDK_DRIVER_EXPORT(fader_descriptor);
