/* SPDX-License-Identifier: MIT */
/*
 * Drivers' personalities: which driver binds to which nub.  A personality
 * file in a drivers folder holds one or more [personality] sections in the
 * INI dialect of ini.h; docs/personalities.md describes every key.
 *
 *   [personality]
 *   name = acme-usb-audio
 *   family = usb
 *   match.vendor = 0x1234
 *   match.product = 0x5678
 *   match.bcdDevice = 0x0100-0x01ff
 *   driver = acme.so
 *   class = AcmeAudio
 *
 * A file loads whole or not at all; a folder loads every good file and keeps
 * the sentences of the broken ones in the set.  Nothing here prints.  Not
 * for the RT thread: everything allocates.
 */
#ifndef UDKD_PERSONALITY_H
#define UDKD_PERSONALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDKD_PERSONALITIES_PER_FILE_MAX 256u
#define UDKD_PERSONALITY_RULES_MAX      32u   /* match.* keys in one personality */
#define UDKD_PERSONALITY_KEYS_MAX       64u   /* keys in one [personality] section */
#define UDKD_PERSONALITY_VALUE_MAX      256u  /* bytes of a value, its terminator included */
#define UDKD_PERSONALITY_FILES_MAX      1024u /* *.conf files in one folder */
#define UDKD_PERSONALITY_ERR_MAX        512u  /* a good size for an error buffer */
#define UDKD_PERSONALITY_PROPS_MAX      8u    /* property.* keys in one personality */
#define UDKD_PERSONALITY_PROP_KEY_MAX   32u   /* UDK_DPROP_KEY_MAX: a key's bytes, its NUL included */
#define UDKD_PERSONALITY_PROP_VALUE_MAX 96u   /* UDK_DPROP_VALUE_MAX */
#define UDKD_PERSONALITY_GRANTS_MAX     3u    /* grant keys in one personality */

/* Where nubs come from. */
enum udkd_family {
        UDKD_FAMILY_TEST = 0,
        UDKD_FAMILY_USB,
        UDKD_FAMILY_PCI,
        UDKD_FAMILY_HID,
        UDKD_FAMILY_SERIAL,
        UDKD_FAMILY_ROOT, /* udkd's own nubs, one per family above: what bus drivers bind to */
        UDKD_FAMILY_COUNT,
};

/* "test", "usb", "pci", "hid", "serial", "root"; NULL for anything else. */
const char *udkd_family_name(enum udkd_family family);
/* The family named @name; -EINVAL for an unknown name. */
int udkd_family_from_name(const char *name, enum udkd_family *ret);

enum udkd_restart {
        UDKD_RESTART_NO = 0,
        UDKD_RESTART_ON_FAILURE,
        UDKD_RESTART_ALWAYS,
        UDKD_RESTART_COUNT,
};

/* "no", "on-failure", "always"; NULL for anything else. */
const char *udkd_restart_name(enum udkd_restart restart);

enum udkd_rule_kind {
        UDKD_RULE_GLOB,  /* match.modalias: fnmatch(3) */
        UDKD_RULE_EQUAL, /* numerically when both sides are numbers, else byte for byte */
        UDKD_RULE_RANGE, /* LO-HI, both inclusive; a nub value that is not a number fails */
};

struct udkd_match_rule {
        enum udkd_rule_kind kind;
        char *property; /* "modalias", "vendor", "bcdDevice", ... */
        char *value;    /* as written, for messages */
        bool numeric;   /* EQUAL: the value is a number, in lo */
        int64_t lo, hi; /* RANGE; EQUAL when numeric (lo only) */
        unsigned line;
};

#define UDKD_RESTART_LIMIT_DEFAULT_COUNT     5u
#define UDKD_RESTART_LIMIT_COUNT_MAX         100u /* crash-window.h keeps this many + 1 crash times */
#define UDKD_RESTART_LIMIT_DEFAULT_WINDOW_MS (30u * 60u * 1000u)
#define UDKD_START_TIMEOUT_DEFAULT_MS       5000u
#define UDKD_STOP_TIMEOUT_DEFAULT_MS        5000u
#define UDKD_HEARTBEAT_DEFAULT_MS           1000u
#define UDKD_RESTART_DELAY_DEFAULT_MS       100u
#define UDKD_RESTART_DELAY_MAX_DEFAULT_MS   30000u
#define UDKD_RESTART_RESET_DEFAULT_MS       60000u

/* A property.KEY = VALUE of a personality, handed to the driver at its start. */
struct udkd_personality_property {
        char *key;
        char *value;
};

struct udkd_personality {
        char *path;    /* the file, as given */
        unsigned line; /* of its [personality] header */
        char *name;
        enum udkd_family family;
        struct udkd_match_rule *rules;
        size_t n_rules;
        int64_t probe_score;          /* default 0 */
        char *driver;                 /* the shared object; a relative one is joined to the file's folder */
        char *class_name;             /* NULL when not given */
        enum udkd_restart restart;    /* default on-failure */
        uint32_t restart_limit_count; /* 0: no limit ("restart_limit = none") */
        uint64_t restart_limit_window_ms;
        char *host; /* NULL: a host process of its own */
        bool fallback;
        struct udkd_personality_property *properties; /* property.KEY, in file order */
        size_t n_properties;
        char *grants[UDKD_PERSONALITY_GRANTS_MAX]; /* files udkd opens for the driver; relative ones joined */
        size_t n_grants;
        uint64_t start_timeout_ms;     /* READY and STARTED within this */
        uint64_t stop_timeout_ms;      /* STOPPED and the exit within this */
        uint64_t heartbeat_ms;         /* a PING this often; a PONG within 3 of them */
        uint64_t restart_delay_ms;     /* the back-off's base; 0: always at once */
        uint64_t restart_delay_max_ms; /* its cap */
        uint64_t restart_reset_ms;     /* this long without a crash forgets the count */
};

struct udkd_personality_set {
        struct udkd_personality *items;
        size_t n_items;
        char **errors; /* "FILE:LINE: sentence" of each file that did not load, in load order */
        size_t n_errors;
};

/* An empty set.  No allocation. */
void udkd_personality_set_init(struct udkd_personality_set *set);

/* Free what @set holds and leave it empty.  Accepts an initialised or finished set. */
void udkd_personality_set_finish(struct udkd_personality_set *set);

/*
 * Parse @size bytes of @text (need not be terminated), the file @path, and
 * add its personalities to @set: all of them, or none and -EINVAL (-ENOMEM,
 * -EFBIG) with "PATH:LINE: problem" in @err.  A relative driver is joined
 * to @path's folder; with @check_driver it must then be an existing regular
 * file.  A name that @set already holds is an error.
 * @set's error list is not touched.
 */
int udkd_personalities_parse(struct udkd_personality_set *set, const char *path, const char *text,
                             size_t size, bool check_driver, char *err, size_t err_size);

/* Read the file @path and parse it, drivers checked; "PATH: cannot read: reason" in @err when it cannot be
 * read. */
int udkd_personalities_load_file(struct udkd_personality_set *set, const char *path, char *err,
                                 size_t err_size);

/*
 * Load every "*.conf" regular file of the folder @dir (hidden files
 * skipped) in name order (strcmp).  A file that does not load adds its
 * sentence to @set->errors and the others still load.  Returns the number
 * of files that loaded, or a negative errno when the folder itself cannot
 * be read, with "DIR: reason" in @err.  More than UDKD_PERSONALITY_FILES_MAX
 * files: the first ones in name order load and one error says how many
 * were left out.
 */
int udkd_personalities_load_folder(struct udkd_personality_set *set, const char *dir, char *err,
                                   size_t err_size);

#endif
