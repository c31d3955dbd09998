/* SPDX-License-Identifier: MIT */
/*
 * udkctl's parts: each command is one function that takes the parsed
 * options and its operands and returns the process's exit status.
 *
 * Exit status: 0 done, 1 a failure (udkd not running, no such object, a
 * value udkd refused, lost frames), 2 a usage error, 130 interrupted (play,
 * record).  Messages go to stderr as "udkctl: <sentence>"; what a command
 * reads goes to stdout.
 */
#ifndef UDKCTL_H
#define UDKCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <udk/client.h>

#define UDKCTL_EXIT_OK          0
#define UDKCTL_EXIT_FAILURE     1
#define UDKCTL_EXIT_USAGE       2
#define UDKCTL_EXIT_INTERRUPTED 130

struct udkctl_options {
        const char *socket; /* --socket; NULL: $UDK_SOCKET, else the default path */
        bool json;          /* --json */
        bool verbose;       /* -v: ls prints every property */
        bool once;          /* top --once */
        double interval;    /* top --interval, seconds */
        const char *device; /* play/record --device; NULL: the first device */
        double gain_db;     /* play --gain */
        double seconds;     /* record --seconds */
        const char *format; /* record --format: "wav", "flac"; NULL: from the file's name */
        uint32_t rate;      /* record --rate; 0: the device's */
        enum udk_resampler_quality quality; /* play/record --quality; 0: very high */

        /* call: SELECTOR, the SCALARs, --struct HEX, --struct-out N (default UDK_CALL_STRUCT_MAX) */
        uint64_t selector;
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        uint32_t n_scalars;
        uint8_t struct_in[UDK_CALL_STRUCT_MAX];
        uint32_t struct_in_size;
        uint32_t struct_out_max;
        enum udk_driver_action action; /* restart, stop, start */
};

/* --- connect.c: the connection and the errors every command shares --- */

/* "udkctl: <message>" on stderr. */
void udkctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a failed call @r (negative errno): udkd's sentence when it gave
 * one, else "<what>: <strerror>".  Returns UDKCTL_EXIT_FAILURE.
 */
int udkctl_fail(const struct udk_client *client, int r, const char *what);

/*
 * Connect to udkd at --socket, $UDK_SOCKET or the default path.  On
 * failure prints why ("udkd is not running (no socket at PATH)") and
 * returns a negative errno.
 */
int udkctl_connect(const struct udkctl_options *opts, struct udk_client **ret);

/*
 * Resolve @what (id, UID, name or path) into the object, read with INFO
 * into @ret (UDK_MSG_SIZE_MAX bytes).  Prints "no object 'foo'" (or udkd's
 * sentence for an ambiguous name) and returns a negative errno.
 */
int udkctl_lookup(struct udk_client *client, const char *what, struct udk_msg_object *ret);

/*
 * The device @what names (NULL: the first device) into @ret
 * (UDK_MSG_SIZE_MAX bytes).  Prints why not and returns a negative errno:
 * -ENOENT without devices, -ENOTTY when @what is not a device.
 */
int udkctl_lookup_device(struct udk_client *client, const char *what, struct udk_msg_object *ret);

/*
 * udkctl_lookup() among the objects of class @klass ("driver", "nub"): a
 * name a driver and a nub share names the one of @klass.  Prints
 * "no driver 'foo'", "object 42 is a nub, not a driver" or the sentence for
 * an ambiguous name, and returns a negative errno.
 */
int udkctl_lookup_class(struct udk_client *client, const char *klass, const char *what,
                        struct udk_msg_object *ret);

/* --- props.c: properties as text --- */

/* The value of @prop as text: "48000", "-12.0 dB", "yes"/"no", "0.5". */
void udkctl_prop_format(const struct udk_prop *prop, char *buf, size_t size);

/* Integer property @key of @obj, @fallback when it is missing or not an integer. */
int64_t udkctl_prop_int(const struct udk_msg_object *obj, const char *key, int64_t fallback);

/* String property @key of @obj, @fallback when it is missing or not a string. */
const char *udkctl_prop_string(const struct udk_msg_object *obj, const char *key, const char *fallback);

/* "<device, id 3, 48000 Hz, 64 frames, 2 in, 2 out, f32>": the class, the id and the key properties. */
void udkctl_object_summary(const struct udk_msg_object *obj, char *buf, size_t size);

/* --- the commands --- */
int udkctl_ls(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_info(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_set(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_top(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_play(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_record(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_drivers(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_driver_control(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_personalities(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_match(const struct udkctl_options *opts, int argc, char **argv);
int udkctl_call(const struct udkctl_options *opts, int argc, char **argv);

#endif
