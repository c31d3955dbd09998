/* SPDX-License-Identifier: MIT */
/*
 * udkd's configuration file: a small, strict INI dialect parsed into a plain
 * model.  The parser checks everything it can check alone (syntax, known
 * keys, ranges, names, backends); what only an open device can tell (backend
 * options, controls, plugins) is kept with its line number so that the
 * server still names the line when it fails later.
 *
 *   # comment            ; comment
 *   [server]             plugin_path, priority, mlock (at most once)
 *   [device]             one per device
 *   key = value          values trimmed, no quotes, no trailing comments
 *
 * Errors are one sentence, "FILE:LINE: problem" (or "FILE: problem" for the
 * file as a whole), in the caller's buffer: the parser never prints, so it
 * can be fuzzed.
 */
#ifndef UDKD_CONFIG_H
#define UDKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <udk/backend.h>
#include <udk/device.h>

#include "ini.h"

#define UDKD_CONFIG_SIZE_MAX    UDKD_INI_SIZE_MAX /* bytes in a file */
#define UDKD_CONFIG_DEVICES_MAX 64u
#define UDKD_CONFIG_KEYS_MAX    256u /* keys in one section */
#define UDKD_CONFIG_ERR_MAX     512u /* a good size for the error buffer */

/* A key of a [device] section, in file order. */
struct udkd_config_key {
        char *key;
        char *value;
        unsigned line;
        bool known; /* false: a backend option or a control, for the opened device to tell */
};

/* One item of "handlers =": "gain" or "gain:post". */
struct udkd_config_handler {
        char plugin[UDK_OBJECT_NAME_MAX];
        char instance[UDK_OBJECT_NAME_MAX];
        char *spec; /* as written, for messages */
};

/* Where the clients' RT threads go (and the device's, when its cpu is not set). */
enum udkd_placement {
        UDKD_PLACEMENT_AUTO = 0, /* same-cpu on machines of 4 CPUs or fewer, else free */
        UDKD_PLACEMENT_SAME_CPU, /* the device's RT thread and its clients on one CPU */
        UDKD_PLACEMENT_FREE,     /* the scheduler's choice */
        UDKD_PLACEMENT_COUNT,
};

/* "auto", "same-cpu", "free"; NULL for anything else. */
const char *udkd_placement_name(enum udkd_placement placement);

struct udkd_config_device {
        unsigned line; /* of its [device] header */
        unsigned name_line;
        struct udk_device_config cfg; /* defaults, then the file's keys */
        enum udkd_placement placement;
        const struct udk_backend_ops *backend;
        bool priority_set; /* else [server] priority applies */
        unsigned handlers_line;
        struct udkd_config_handler *handlers;
        size_t n_handlers;
        struct udkd_config_key *keys;
        size_t n_keys;
};

struct udkd_config {
        char *path;        /* as given, for messages */
        char *plugin_path; /* NULL unless [server] says */
        int priority; /* [server] priority, -1 when not given */
        bool mlock;   /* default true */
        struct udkd_config_device *devices;
        size_t n_devices;
};

/* The configuration udkd runs without --config, as a file would say it. */
extern const char udkd_config_default_text[];

/* An empty model (no devices, mlock on).  No allocation. */
void udkd_config_init(struct udkd_config *cfg);

/* Free what the model holds and leave it empty.  Accepts an initialised or finished model. */
void udkd_config_finish(struct udkd_config *cfg);

/*
 * Parse @size bytes of @text (need not be terminated) named @path into
 * @cfg, which must be empty.  Returns 0, or -EINVAL (-ENOMEM, -EFBIG) with
 * "PATH:LINE: problem" in @err; @cfg is then empty again.
 */
int udkd_config_parse(struct udkd_config *cfg, const char *path, const char *text, size_t size, char *err,
                      size_t err_size);

/*
 * Parse @text as the body of one [device] section (a driver's device, its
 * lines numbered from 1, no section headers) into @cfg, which must be
 * empty: one device, or -EINVAL with "PATH:LINE: problem" in @err.
 */
int udkd_config_parse_device(struct udkd_config *cfg, const char *path, const char *text, size_t size, char *err,
                             size_t err_size);

/* Read the file @path and parse it; "PATH: strerror" in @err when it cannot be read. */
int udkd_config_load(struct udkd_config *cfg, const char *path, char *err, size_t err_size);

/*
 * The line a late error about @device names: that of the key @sentence
 * starts with ("rate 22050 not supported ..." names the rate's line), else
 * that of the [device] header.
 */
unsigned udkd_config_device_line_for(const struct udkd_config_device *device, const char *sentence);

/* The backends udk_backend_find() knows, "virtual, alsa", for messages. */
const char *udkd_config_backend_names(void);

#endif
