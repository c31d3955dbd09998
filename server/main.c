/* SPDX-License-Identifier: MIT */
/*
 * udkd: options and wiring.  The configuration is config.c's, the devices
 * and the event loop server.c's.
 *
 * Exit status: 0 done, 1 a configuration or runtime error, 2 a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/device.h>
#include <udk/log.h>
#include <udk/util.h>

#include "config.h"
#include "server.h"
#include "udk-build-config.h"

#define EXIT_USAGE          2
#define DEFAULT_CONFIG_NAME "<default>"
#define SECONDS_MAX         31536000.0 /* a year */

enum {
        ARG_CHECK = 0x100,
        ARG_SOCKET,
        ARG_DRIVERS,
};

#define DRIVERS_DIRS_MAX 8

struct options {
        const char *config;
        const char *plugin_path;
        const char *socket;
        const char *drivers[DRIVERS_DIRS_MAX];
        size_t n_drivers;
        double stats;    /* seconds, 0: off */
        double duration; /* seconds, 0: until a signal */
        bool check;
        int level; /* an enum udk_log_level, or -1 to keep the default (UDK_LOG_LEVEL or info) */
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: udkd [OPTION]...\n"
                "The udk audio server: runs the devices a configuration declares, or one virtual\n"
                "device \"default\" (48 kHz, 64 frames, stereo in and out, f32, a gain handler).\n"
                "\n"
                "  -c, --config FILE        declare the devices in FILE instead\n"
                "  -p, --plugin-path PATH   DSP plugin folders, colon-separated (default: [server]\n"
                "                           plugin_path, else $UDK_PLUGIN_PATH, else %s)\n"
                "  -s, --stats[=SECONDS]    print a statistics line per device every SECONDS\n"
                "                           (default 1; \"--stats 2\" works too)\n"
                "  -d, --duration SECONDS   stop after SECONDS and exit 0\n"
                "      --socket PATH        listen for clients on PATH (default: $UDK_SOCKET, else\n"
                "                           $XDG_RUNTIME_DIR/udk/udkd.sock, else /run/udk/udkd.sock)\n"
                "      --drivers DIR        load driver personalities from DIR (may be given up to\n"
                "                           8 times; default: %s and\n"
                "                           $XDG_CONFIG_HOME/udk/drivers); the folders are watched\n"
                "                           and reloaded when they change\n"
                "      --check              check the configuration, load the plugins, open the\n"
                "                           devices, print a summary and exit without running\n"
                "  -v, --verbose            print debug messages\n"
                "  -q, --quiet              print only warnings and errors\n"
                "  -h, --help               print this help and exit\n"
                "  -V, --version            print the version and exit\n"
                "\n"
                "Drivers: udkd publishes a root nub per bus (root-test, root-usb, ...), matches\n"
                "every nub against the personalities and runs each matching driver in a\n"
                "udk-driverhost process of its own ($UDK_DRIVERHOST, default %s),\n"
                "restarting it when it crashes (docs/personalities.md).  SIGTERM stops the\n"
                "drivers first (a second one does not wait).\n"
                "\n"
                "Exit status: 0 done, 1 configuration or runtime error, 2 usage error.\n"
                "\n"
                "Example configuration (see docs/configuration.md):\n"
                "\n"
                "  [server]\n"
                "  priority = 70\n"
                "\n"
                "  [device]\n"
                "  name = studio\n"
                "  backend = virtual\n"
                "  rate = 48000\n"
                "  period = 64\n"
                "  channels = 2\n"
                "  handlers = gain, meter\n"
                "  gain.level = -6\n",
                UDK_PLUGIN_DIR, UDK_DRIVERS_DIR, UDK_DRIVERHOST);
}

UDK_PRINTF(1, 2) static int usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "udkd: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'udkd --help' for more information.\n");
        return -EINVAL;
}

static int parse_seconds(const char *option, const char *text, double min, double *ret)
{
        double v;

        if (udk_parse_double(text, min, SECONDS_MAX, &v) < 0) {
                fprintf(stderr, "udkd: %s '%s': not a number of seconds (%g..%g)\n", option, text, min,
                        SECONDS_MAX);
                fprintf(stderr, "Try 'udkd --help' for more information.\n");
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* The option getopt_long() just refused, as the user wrote it: "--config" or "-x". */
static const char *option_text(char **argv, char buf[static 3])
{
        const char *arg = argv[optind - 1];

        if (strncmp(arg, "--", 2) == 0 || !optopt)
                return arg;
        buf[0] = '-';
        buf[1] = (char)optopt;
        buf[2] = '\0';
        return buf;
}

/* 1 to exit 0 at once (help, version), 0 to go on, -EINVAL for a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
        static const struct option long_options[] = {
            {"config", required_argument, NULL, 'c'}, {"plugin-path", required_argument, NULL, 'p'},
            {"stats", optional_argument, NULL, 's'},  {"duration", required_argument, NULL, 'd'},
            {"check", no_argument, NULL, ARG_CHECK},  {"verbose", no_argument, NULL, 'v'},
            {"socket", required_argument, NULL, ARG_SOCKET},
            {"drivers", required_argument, NULL, ARG_DRIVERS},
            {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},      {},
        };
        char opt_text[3];
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:p:s::d:vqhV", long_options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        o->config = optarg;
                        break;
                case 'p':
                        o->plugin_path = optarg;
                        break;
                case 's':
                        /* udkd takes no operands, so "--stats 2" can mean "--stats=2". */
                        if (!optarg && optind < argc && argv[optind][0] != '-')
                                optarg = argv[optind++];
                        o->stats = 1.0;
                        if (optarg && parse_seconds("--stats", optarg, 0.01, &o->stats) < 0)
                                return -EINVAL;
                        break;
                case 'd':
                        if (parse_seconds("--duration", optarg, 0.001, &o->duration) < 0)
                                return -EINVAL;
                        break;
                case ARG_CHECK:
                        o->check = true;
                        break;
                case ARG_DRIVERS:
                        if (!optarg[0])
                                return usage_error("--drivers needs a folder");
                        if (o->n_drivers == DRIVERS_DIRS_MAX)
                                return usage_error("--drivers given more than %d times", DRIVERS_DIRS_MAX);
                        o->drivers[o->n_drivers++] = optarg;
                        break;
                case ARG_SOCKET:
                        if (!optarg[0])
                                return usage_error("--socket needs a path");
                        o->socket = optarg;
                        break;
                case 'v':
                        o->level = UDK_LOG_DEBUG;
                        break;
                case 'q':
                        o->level = UDK_LOG_WARN;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                case 'V':
                        printf("udkd %s\n", UDK_VERSION);
                        return 1;
                case ':':
                        return usage_error("option '%s' needs an argument", option_text(argv, opt_text));
                default:
                        return usage_error("unknown option '%s'", option_text(argv, opt_text));
                }
        }
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        return 0;
}

static const char *plugin_path(const struct options *o, const struct udkd_config *cfg)
{
        const char *env = getenv("UDK_PLUGIN_PATH");

        if (o->plugin_path)
                return o->plugin_path;
        if (cfg->plugin_path)
                return cfg->plugin_path;
        if (env && *env)
                return env;
        return UDK_PLUGIN_DIR;
}

static int check(struct udkd_server *server, const struct udkd_config *cfg)
{
        char line[1024];
        size_t n = 0;

        for (size_t i = 0; i < udkd_server_n_devices(server); i++) {
                if (udkd_server_describe(server, i, line, sizeof(line)) < 0)
                        continue; /* left out: its hardware is not there */
                printf("%s\n", line);
                n++;
        }
        printf("%s: configuration OK, %zu device%s\n", cfg->path, n, n == 1 ? "" : "s");
        return 0;
}

static int run(const struct options *o, const sigset_t *signals)
{
        struct udkd_config cfg;
        struct udkd_server *server = NULL;
        char err[UDKD_CONFIG_ERR_MAX];
        int r;

        udkd_config_init(&cfg);
        if (o->config)
                r = udkd_config_load(&cfg, o->config, err, sizeof(err));
        else
                r = udkd_config_parse(&cfg, DEFAULT_CONFIG_NAME, udkd_config_default_text,
                                      strlen(udkd_config_default_text), err, sizeof(err));
        if (r < 0) {
                udk_error("%s", err);
                return r;
        }

        if (!o->check && cfg.mlock)
                udk_rt_lock_memory(); /* warns once itself where it is refused */

        r = udkd_server_create(&cfg, plugin_path(o, &cfg), &server);
        if (r < 0)
                goto out;
        r = udkd_server_load_personalities(server, o->drivers, o->n_drivers);
        if (r < 0)
                goto out;
        /* Devices may all come from drivers: then a folder of personalities is needed to make them. */
        if (cfg.n_devices == 0 && r == 0 && o->n_drivers == 0) {
                udk_error("%s: no [device] section and no driver personality: nothing to run", cfg.path);
                r = -EINVAL;
                goto out;
        }
        if (o->check) {
                r = check(server, &cfg);
                goto out;
        }
        r = udkd_server_listen(server, o->socket);
        if (r < 0)
                goto out;
        r = udkd_server_start(server);
        if (r < 0)
                goto out;
        r = udkd_server_run(server, signals, (uint64_t)(o->stats * 1e9), (uint64_t)(o->duration * 1e9));
out:
        udkd_server_destroy(server);
        udkd_config_finish(&cfg);
        return r;
}

int main(int argc, char **argv)
{
        struct options o = {.level = -1};
        sigset_t signals;
        int r;

        r = parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;

        udk_log_set_ident("udkd");
        if (o.level >= 0)
                udk_log_set_level((enum udk_log_level)o.level);

        /* Blocked before any thread exists, so the RT threads inherit the mask and the signalfd gets them.
         */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &signals, NULL) < 0) {
                udk_error("sigprocmask: %s", strerror(errno));
                return EXIT_FAILURE;
        }
        signal(SIGPIPE, SIG_IGN);

        return run(&o, &signals) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
