/* SPDX-License-Identifier: MIT */
/*
 * udkctl's command line: options may come before or after the command,
 * "--opt value" or "--opt=value"; an argument like "-6" or "-0.5" is an
 * operand (a value for set), not an option; "--" ends the options.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <udk/util.h>

#include "udk-build-config.h"
#include "udkctl.h"

enum command_bit {
        CMD_LS = 1u << 0,
        CMD_INFO = 1u << 1,
        CMD_SET = 1u << 2,
        CMD_TOP = 1u << 3,
        CMD_PLAY = 1u << 4,
        CMD_RECORD = 1u << 5,
        CMD_DRIVERS = 1u << 6,
        CMD_RESTART = 1u << 7,
        CMD_STOP = 1u << 8,
        CMD_START = 1u << 9,
        CMD_PERSONALITIES = 1u << 10,
        CMD_MATCH = 1u << 11,
        CMD_CALL = 1u << 12,
        CMD_ALL = (1u << 13) - 1,
};

#define COMMAND_NAMES "ls, info, set, top, play, record, drivers, restart, stop, start, personalities, match, call"


struct command {
        const char *name;
        unsigned bit;
        int min_operands, max_operands;
        const char *usage;
        int (*run)(const struct udkctl_options *opts, int argc, char **argv);
};

static const struct command commands[] = {
        { "ls", CMD_LS, 0, 1, "ls [OBJECT]", udkctl_ls },
        { "info", CMD_INFO, 1, 1, "info OBJECT", udkctl_info },
        { "set", CMD_SET, 2, 3, "set OBJECT CONTROL VALUE  or  set CONTROL-OBJECT VALUE", udkctl_set },
        { "top", CMD_TOP, 0, 0, "top [--once] [--interval SECONDS]", udkctl_top },
        { "play", CMD_PLAY, 1, 1, "play FILE [--device DEVICE] [--gain DB] [--quality Q]", udkctl_play },
        { "record", CMD_RECORD, 1, 1, "record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]",
          udkctl_record },
        { "drivers", CMD_DRIVERS, 0, 0, "drivers [--json]", udkctl_drivers },
        { "restart", CMD_RESTART, 1, 1, "restart DRIVER", udkctl_driver_control },
        { "stop", CMD_STOP, 1, 1, "stop DRIVER", udkctl_driver_control },
        { "start", CMD_START, 1, 1, "start DRIVER", udkctl_driver_control },
        { "personalities", CMD_PERSONALITIES, 0, 0, "personalities [--json]", udkctl_personalities },
        { "match", CMD_MATCH, 1, 1, "match NUB [--json]", udkctl_match },
        { "call", CMD_CALL, 2, 2 + UDK_CALL_SCALARS_MAX,
          "call DRIVER SELECTOR [SCALAR]... [--struct HEX] [--struct-out N] [--json]", udkctl_call },
};

enum option_id {
        OPT_SOCKET,
        OPT_JSON,
        OPT_VERBOSE,
        OPT_ONCE,
        OPT_INTERVAL,
        OPT_DEVICE,
        OPT_GAIN,
        OPT_SECONDS,
        OPT_FORMAT,
        OPT_STRUCT,
        OPT_STRUCT_OUT,
        OPT_RATE,
        OPT_QUALITY,
        OPT_HELP,
        OPT_VERSION,
        OPT_MAX,
};

struct option_def {
        const char *name;
        char short_name;
        bool has_arg;
        unsigned commands; /* the commands it applies to */
};

static const struct option_def option_defs[OPT_MAX] = {
        [OPT_SOCKET] = { "socket", 0, true, CMD_ALL },
        [OPT_JSON] = { "json", 0, false,
                       CMD_LS | CMD_INFO | CMD_TOP | CMD_DRIVERS | CMD_PERSONALITIES | CMD_MATCH | CMD_CALL },
        [OPT_VERBOSE] = { "verbose", 'v', false, CMD_LS },
        [OPT_ONCE] = { "once", 0, false, CMD_TOP },
        [OPT_INTERVAL] = { "interval", 0, true, CMD_TOP },
        [OPT_DEVICE] = { "device", 'd', true, CMD_PLAY | CMD_RECORD },
        [OPT_GAIN] = { "gain", 0, true, CMD_PLAY },
        [OPT_SECONDS] = { "seconds", 0, true, CMD_RECORD },
        [OPT_FORMAT] = { "format", 0, true, CMD_RECORD },
        [OPT_STRUCT] = { "struct", 0, true, CMD_CALL },
        [OPT_STRUCT_OUT] = { "struct-out", 0, true, CMD_CALL },
        [OPT_RATE] = { "rate", 0, true, CMD_RECORD },
        [OPT_QUALITY] = { "quality", 0, true, CMD_PLAY | CMD_RECORD },
        [OPT_HELP] = { "help", 'h', false, CMD_ALL },
        [OPT_VERSION] = { "version", 'V', false, CMD_ALL },
};

static const char help_text[] =
        "Usage: udkctl [OPTION]... COMMAND [ARG]...\n"
        "The command line for udkd, the udk audio server.\n"
        "\n"
        "Commands:\n"
        "  ls [OBJECT]               the registry as a tree (from OBJECT down)\n"
        "  info OBJECT               every property of one object\n"
        "  set OBJECT CONTROL VALUE  set a device's control, or a node's gain\n"
        "  set CONTROL-OBJECT VALUE  set a control object\n"
        "  top                       each device's cycle and each node's times, every second\n"
        "                            (q or Ctrl-C quits)\n"
        "  play FILE                 play a WAV or FLAC file through a device\n"
        "  record FILE --seconds N   record a device's input into a WAV or FLAC file\n"
        "  drivers                   every driver: its state, process, restarts and crashes\n"
        "  restart DRIVER            restart a driver, its crash count forgotten\n"
        "  stop DRIVER               stop a driver and keep it stopped\n"
        "  start DRIVER              start a stopped or failed driver\n"
        "  personalities             every personality loaded, and the files that did not load\n"
        "  match NUB                 every personality of a nub's family, ranked, and why\n"
        "  call DRIVER SELECTOR [SCALAR]...\n"
        "                            call a driver's method; print its scalars and structure out\n"
        "\n"
        "OBJECT is an id (42), a UID (udk:studio), a name (studio) or a path of names\n"
        "from the root (virtual/studio/level).  VALUE is text as udkd takes it: -6dB,\n"
        "0.5, on, off, a selector item.  DRIVER and NUB are an id or a name, looked for\n"
        "among the drivers and the nubs.  SELECTOR and SCALAR are integers, decimal or\n"
        "0x hexadecimal (a negative SCALAR is its 64-bit two's complement).\n"
        "\n"
        "Options:\n"
        "      --socket PATH         udkd's socket (default: $UDK_SOCKET, else\n"
        "                            $XDG_RUNTIME_DIR/udk/udkd.sock, else /run/udk/udkd.sock)\n"
        "      --json                ls, info, top --once, drivers, personalities, match,\n"
        "                            call: print JSON\n"
        "  -v, --verbose             ls: every property under each object\n"
        "      --once                top: print one snapshot and exit\n"
        "      --interval SECONDS    top: time between refreshes (default 1)\n"
        "  -d, --device DEVICE       play, record: the device (default: the first)\n"
        "      --gain DB             play: output gain in dB, -96..24 (default 0)\n"
        "      --seconds N           record: how long to record\n"
        "      --format wav|flac     record: the file's format (default: from its name)\n"
        "      --rate HZ             record: the file's rate, 8000..768000 (default: the device's)\n"
        "      --quality Q           play, record: rate conversion's quality, quick, low, medium,\n"
        "                            high or very-high (default)\n"
        "      --struct HEX          call: the structure in, as hex digits (0a1b2c)\n"
        "      --struct-out N        call: at most N bytes of structure out, 0..2048\n"
        "                            (default 2048)\n"
        "  -h, --help                print this help\n"
        "  -V, --version             print the version\n"
        "\n"
        "Exit status: 0 done, 1 failure (udkd not running, no such object, a value\n"
        "udkd refused, lost frames, a method that failed), 2 usage error, 130\n"
        "interrupted by a signal.\n";

struct parsed {
        const char *values[OPT_MAX];  /* the last value given; "" for flags */
        const char *spelled[OPT_MAX]; /* as the user wrote it, for messages */
        char *operands[64];
        int n_operands;
};

static int usage_error(const struct command *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *cmd, const char *fmt, ...)
{
        va_list ap;

        fputs("udkctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (cmd)
                fprintf(stderr, "Usage: udkctl %s\n", cmd->usage);
        else
                fputs("Usage: udkctl [OPTION]... COMMAND [ARG]...\n", stderr);
        fputs("Try 'udkctl --help' for more information.\n", stderr);
        return UDKCTL_EXIT_USAGE;
}

static const struct option_def *option_by_long(const char *name, size_t len, enum option_id *ret)
{
        for (size_t i = 0; i < OPT_MAX; i++)
                if (strlen(option_defs[i].name) == len && strncmp(option_defs[i].name, name, len) == 0) {
                        *ret = (enum option_id)i;
                        return &option_defs[i];
                }
        return NULL;
}

static const struct option_def *option_by_short(char c, enum option_id *ret)
{
        for (size_t i = 0; i < OPT_MAX; i++)
                if (option_defs[i].short_name == c) {
                        *ret = (enum option_id)i;
                        return &option_defs[i];
                }
        return NULL;
}

/* "-6", "-0.5", "-.5": a negative number, hence an operand. */
static bool is_negative_number(const char *arg)
{
        return arg[0] == '-' && (arg[1] == '.' || (arg[1] >= '0' && arg[1] <= '9'));
}

static int add_operand(struct parsed *p, char *arg)
{
        if ((size_t)p->n_operands >= UDK_ELEMENTSOF(p->operands))
                return usage_error(NULL, "too many arguments");
        p->operands[p->n_operands++] = arg;
        return 0;
}

/* Returns 0 or an exit status. */
static int parse_args(int argc, char **argv, struct parsed *p)
{
        bool options_done = false;

        for (int i = 1; i < argc; i++) {
                char *arg = argv[i];
                const struct option_def *def;
                enum option_id id;
                int r;

                if (options_done || arg[0] != '-' || arg[1] == '\0' || is_negative_number(arg)) {
                        r = add_operand(p, arg);
                        if (r)
                                return r;
                        continue;
                }
                if (strcmp(arg, "--") == 0) {
                        options_done = true;
                        continue;
                }
                if (arg[1] == '-') {
                        const char *name = arg + 2, *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);

                        def = option_by_long(name, len, &id);
                        if (!def)
                                return usage_error(NULL, "unknown option '--%.*s'", (int)len, name);
                        p->spelled[id] = def->name;
                        if (!def->has_arg) {
                                if (eq)
                                        return usage_error(NULL, "option '--%s' takes no value", def->name);
                                p->values[id] = "";
                        } else if (eq) {
                                p->values[id] = eq + 1;
                        } else if (i + 1 < argc) {
                                p->values[id] = argv[++i];
                        } else {
                                return usage_error(NULL, "option '--%s' needs a value", def->name);
                        }
                        continue;
                }
                /* A cluster of short options: -vh, -dstudio, -d studio. */
                for (const char *c = arg + 1; *c; c++) {
                        def = option_by_short(*c, &id);
                        if (!def)
                                return usage_error(NULL, "unknown option '-%c'", *c);
                        p->spelled[id] = def->name;
                        if (!def->has_arg) {
                                p->values[id] = "";
                                continue;
                        }
                        if (c[1])
                                p->values[id] = c + 1;
                        else if (i + 1 < argc)
                                p->values[id] = argv[++i];
                        else
                                return usage_error(NULL, "option '-%c' needs a value", *c);
                        break;
                }
        }
        return 0;
}

/*
 * A 64-bit integer, decimal or 0x hex, the whole of @text: 0..2^64-1, and
 * with @negative -2^63..-1 as its two's complement.
 */
static int parse_u64(const char *text, bool negative, uint64_t *ret)
{
        unsigned base = 10;
        uint64_t value = 0;
        int64_t signed_value;
        const char *p = text;

        if (text[0] == '-') {
                if (!negative || udk_parse_int64(text, INT64_MIN, -1, &signed_value) < 0)
                        return -EINVAL;
                *ret = (uint64_t)signed_value;
                return 0;
        }
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                base = 16;
                p += 2;
        }
        if (*p == '\0')
                return -EINVAL;
        for (; *p; p++) {
                unsigned d;

                if (*p >= '0' && *p <= '9')
                        d = (unsigned)(*p - '0');
                else if (base == 16 && isxdigit((unsigned char)*p))
                        d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
                else
                        return -EINVAL;
                if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, d, &value))
                        return -ERANGE;
        }
        *ret = value;
        return 0;
}

static int parse_number(const struct command *cmd, const char *option, const char *text, double min,
                        double max, const char *what, double *ret)
{
        if (udk_parse_double(text, min, max, ret) < 0)
                return usage_error(cmd, "bad --%s '%s' (%s)", option, text, what);
        return 0;
}

/* Returns 0 or an exit status. */
static int options_from(const struct command *cmd, const struct parsed *p, struct udkctl_options *opts)
{
        int r;

        for (size_t i = 0; i < OPT_MAX; i++)
                if (p->values[i] && !(option_defs[i].commands & cmd->bit))
                        return usage_error(cmd, "option '--%s' does not apply to '%s'", p->spelled[i],
                                           cmd->name);

        *opts = (struct udkctl_options){ .interval = 1.0 };
        opts->socket = p->values[OPT_SOCKET];
        if (opts->socket && !*opts->socket)
                return usage_error(cmd, "empty --socket");
        opts->json = p->values[OPT_JSON] != NULL;
        opts->verbose = p->values[OPT_VERBOSE] != NULL;
        opts->once = p->values[OPT_ONCE] != NULL;
        opts->device = p->values[OPT_DEVICE];
        if (opts->device && !*opts->device)
                return usage_error(cmd, "empty --device");
        if (p->values[OPT_INTERVAL]) {
                r = parse_number(cmd, "interval", p->values[OPT_INTERVAL], 0.05, 3600.0,
                                 "seconds, 0.05..3600", &opts->interval);
                if (r)
                        return r;
        }
        if (p->values[OPT_GAIN]) {
                r = parse_number(cmd, "gain", p->values[OPT_GAIN], -96.0, 24.0, "dB, -96..24",
                                 &opts->gain_db);
                if (r)
                        return r;
        }
        if (p->values[OPT_SECONDS]) {
                r = parse_number(cmd, "seconds", p->values[OPT_SECONDS], 0.001, 86400.0,
                                 "seconds, 0.001..86400", &opts->seconds);
                if (r)
                        return r;
        } else if (cmd->bit == CMD_RECORD) {
                return usage_error(cmd, "record needs --seconds N");
        }
        if (p->values[OPT_RATE]) {
                double rate;

                r = parse_number(cmd, "rate", p->values[OPT_RATE], UDK_RESAMPLER_RATE_MIN, UDK_RESAMPLER_RATE_MAX,
                                 "Hz, 8000..768000", &rate);
                if (r)
                        return r;
                if (rate != floor(rate))
                        return usage_error(cmd, "bad --rate '%s' (a whole number of Hz)", p->values[OPT_RATE]);
                opts->rate = (uint32_t)rate;
        }
        if (p->values[OPT_QUALITY] &&
            udk_resampler_quality_from_name(p->values[OPT_QUALITY], &opts->quality) < 0)
                return usage_error(cmd, "bad --quality '%s' (quick, low, medium, high or very-high)",
                                   p->values[OPT_QUALITY]);
        if (p->values[OPT_FORMAT]) {
                if (strcasecmp(p->values[OPT_FORMAT], "wav") == 0)
                        opts->format = "wav";
                else if (strcasecmp(p->values[OPT_FORMAT], "flac") == 0)
                        opts->format = "flac";
                else
                        return usage_error(cmd, "bad --format '%s' (wav or flac)", p->values[OPT_FORMAT]);
        }
        if (opts->json && cmd->bit == CMD_TOP && !opts->once)
                return usage_error(cmd, "top --json needs --once");
        opts->struct_out_max = UDK_CALL_STRUCT_MAX;
        if (p->values[OPT_STRUCT]) {
                size_t n;

                if (udk_parse_hex(p->values[OPT_STRUCT], opts->struct_in, sizeof(opts->struct_in), &n) < 0)
                        return usage_error(cmd, "bad --struct '%.40s%s' (hex digits, two a byte, at most %u bytes)",
                                           p->values[OPT_STRUCT], strlen(p->values[OPT_STRUCT]) > 40 ? "..." : "",
                                           UDK_CALL_STRUCT_MAX);
                opts->struct_in_size = (uint32_t)n;
        }
        if (p->values[OPT_STRUCT_OUT]) {
                int64_t n;

                if (udk_parse_int64(p->values[OPT_STRUCT_OUT], 0, UDK_CALL_STRUCT_MAX, &n) < 0)
                        return usage_error(cmd, "bad --struct-out '%s' (bytes, 0..%u)", p->values[OPT_STRUCT_OUT],
                                           UDK_CALL_STRUCT_MAX);
                opts->struct_out_max = (uint32_t)n;
        }
        if (cmd->bit == CMD_RESTART)
                opts->action = UDK_DRIVER_RESTART;
        else if (cmd->bit == CMD_STOP)
                opts->action = UDK_DRIVER_STOP;
        else if (cmd->bit == CMD_START)
                opts->action = UDK_DRIVER_START;
        return 0;
}

/* call's SELECTOR and SCALARs (operands 1...).  Returns 0 or an exit status. */
static int call_operands(const struct command *cmd, int n, char **operands, struct udkctl_options *opts)
{
        if (parse_u64(operands[1], false, &opts->selector) < 0)
                return usage_error(cmd, "bad SELECTOR '%s' (an integer, 0..2^64-1, decimal or 0x hex)", operands[1]);
        for (int i = 2; i < n; i++)
                if (parse_u64(operands[i], true, &opts->scalars[opts->n_scalars++]) < 0)
                        return usage_error(cmd, "bad SCALAR '%s' (a 64-bit integer, decimal or 0x hex)",
                                           operands[i]);
        return 0;
}

int main(int argc, char **argv)
{
        static struct parsed p;
        const struct command *cmd = NULL;
        struct udkctl_options opts;
        int r, n;

        r = parse_args(argc, argv, &p);
        if (r)
                return r;
        if (p.values[OPT_HELP]) {
                fputs(help_text, stdout);
                return UDKCTL_EXIT_OK;
        }
        if (p.values[OPT_VERSION]) {
                printf("udkctl %s\n", UDK_VERSION);
                return UDKCTL_EXIT_OK;
        }
        if (p.n_operands == 0)
                return usage_error(NULL, "no command (" COMMAND_NAMES ")");
        for (size_t i = 0; i < UDK_ELEMENTSOF(commands); i++)
                if (strcmp(p.operands[0], commands[i].name) == 0)
                        cmd = &commands[i];
        if (!cmd)
                return usage_error(NULL, "unknown command '%s' (" COMMAND_NAMES ")", p.operands[0]);

        n = p.n_operands - 1;
        if (n < cmd->min_operands)
                return usage_error(cmd, "'%s' needs more arguments", cmd->name);
        if (n > cmd->max_operands)
                return usage_error(cmd, "too many arguments for '%s'", cmd->name);
        r = options_from(cmd, &p, &opts);
        if (r)
                return r;
        if (cmd->bit == CMD_CALL) {
                r = call_operands(cmd, n, p.operands + 1, &opts);
                if (r)
                        return r;
        }
        return cmd->run(&opts, n, p.operands + 1);
}
