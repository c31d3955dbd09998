/* SPDX-License-Identifier: MIT */
/*
 * udk-driverhost: runs one driver for udkd, sandboxed.  udkd starts it
 * with the socket to itself on fd 3 and nothing else but 0, 1 and 2.
 * With --shared it runs instances of several drivers (a personality's
 * `host` key): fd 3 is then udkd's channel, over which each instance's
 * socket comes (shared.c).
 *
 * The order matters: close every other fd; no_new_privs and Landlock
 * (the drivers load under it); dlopen and the descriptors' checks (every
 * driver a shared host may run, before any instance comes); the dispatch
 * queue's io_uring, restricted to its opcodes; the seccomp filter, which
 * denies making another ring and opening files; then init() and the loop.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/driver-host.h>
#include <udk/log.h>
#include <udk/util.h>

#include "sandbox.h"
#include "shared.h"

#define HOST_SOCKET_FD 3
#define SHARED_DRIVERS_MAX 16

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-driverhost [--no-sandbox] [--verbose] [--help] DRIVER.so\n"
                "       udk-driverhost --shared=KEY [--no-sandbox] [--verbose] DRIVER.so...\n"
                "Run one udk driver for udkd, which passes the socket to itself on fd 3.\n"
                "\n"
                "  --shared=KEY  a shared host (the personalities' host key): fd 3 is udkd's channel,\n"
                "                which passes a socket per instance of one of the (at most 16) drivers\n"
                "  --no-sandbox  skip Landlock and seccomp (for debugging; warns)\n"
                "  --udev        let the driver read /sys, /run/udev and /etc/udev and open a udev\n"
                "                monitor (a bus driver's personality with sandbox = udev)\n"
                "  --verbose     log debug lines\n"
                "  --help        print this help\n"
                "\n"
                "Exit status:\n"
                "  0  stopped by udkd (STOP), or udkd hung up and the driver was stopped\n"
                "     (--shared: udkd closed the channel and every instance ended; an instance's\n"
                "     own end is told to udkd with the code below it would have exited with)\n"
                "  1  the host failed (out of memory, io_uring)\n"
                "  2  usage: bad arguments, or fd 3 is not a SOCK_SEQPACKET unix socket\n"
                "  3  the driver did not load: dlopen, no descriptor, wrong ABI version, reserved not 0\n"
                "  4  udkd sent a malformed or unexpected message, or sending to it failed\n"
                "  5  the sandbox could not be set up (no_new_privs, Landlock, seccomp)\n"
                "  6  the driver's init() failed\n"
                "  7  the driver's start() failed (STARTED carried its status)\n"
                "\n"
                "Environment: UDK_LOG_LEVEL (error, warn, info, debug) sets the log level.\n");
}

/* The driver's descriptor, or NULL with the reason logged. */
static const struct udk_driver_descriptor *load_driver(const char *path)
{
        const struct udk_driver_descriptor *const *symbol;
        const struct udk_driver_descriptor *desc;
        char err[256];
        void *handle;

        handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
                udk_error("%s: cannot load: %s", path, dlerror());
                return NULL;
        }
        symbol = dlsym(handle, UDK_DRIVER_DESCRIPTOR_NAME);
        if (!symbol) {
                udk_error("%s: no %s symbol (a driver exports one with UDK_DRIVER_EXPORT)", path,
                          UDK_DRIVER_DESCRIPTOR_NAME);
                return NULL;
        }
        desc = *symbol;
        if (udk_driver_descriptor_check(desc, err, sizeof(err)) < 0) {
                udk_error("%s: %s", path, err);
                return NULL;
        }
        /* The handle stays open for the process's life: the driver's code runs until exit. */
        return desc;
}

/*
 * Once Landlock holds, leave without exit()'s handlers: a leak checker's
 * (it reads /proc and ptraces) could only fail in the sandbox.
 */
static int host_exit(bool sandboxed, int code)
{
        fflush(NULL);
        if (sandboxed)
                _exit(code);
        return code;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "shared", required_argument, NULL, 's' },
                { "no-sandbox", no_argument, NULL, 'n' },
                { "verbose", no_argument, NULL, 'v' },
                { "udev", no_argument, NULL, 'u' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const struct udk_driver_descriptor *descs[SHARED_DRIVERS_MAX] = { 0 };
        struct udk_dispatch_queue *q = NULL;
        bool sandbox = true;
        char ident[UDK_OBJECT_NAME_MAX + 32];
        const char *shared = NULL;
        const char *const *drivers;
        size_t n_drivers;
        int c, r, code;

        udk_log_set_ident("udk-driverhost");
        /* Out of udkd's session (and terminal) before anything else, sandboxed or not: udkd does
         * not spawn it with POSIX_SPAWN_SETSID (server/supervisor.c says why). */
        sandbox_session();
        while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (c) {
                case 's':
                        shared = optarg;
                        break;
                case 'n':
                        sandbox = false;
                        break;
                case 'v':
                        udk_log_set_level(UDK_LOG_DEBUG);
                        break;
                case 'u':
                        sandbox_allow_udev();
                        break;
                case 'h':
                        usage(stdout);
                        return UDK_DRIVERHOST_EXIT_OK;
                default:
                        usage(stderr);
                        return UDK_DRIVERHOST_EXIT_USAGE;
                }
        }
        drivers = (const char *const *)argv + optind;
        n_drivers = (size_t)(argc - optind);
        if (n_drivers == 0 || (!shared && n_drivers > 1) || n_drivers > SHARED_DRIVERS_MAX ||
            (shared && !shared[0])) {
                udk_error(n_drivers == 0               ? "no driver given"
                          : shared && !shared[0]       ? "--shared needs a key"
                          : !shared                    ? "one driver only (--shared runs several)"
                                                       : "at most 16 drivers in one shared host");
                usage(stderr);
                return UDK_DRIVERHOST_EXIT_USAGE;
        }
        r = host_check_socket(HOST_SOCKET_FD);
        if (r < 0) {
                udk_error("fd %d is not a SOCK_SEQPACKET unix socket (%s): udkd starts this program with "
                          "the socket to itself there",
                          HOST_SOCKET_FD, strerror(-r));
                return UDK_DRIVERHOST_EXIT_USAGE;
        }
        /* Whatever the parent leaked stays out of the driver's reach. */
        if (close_range(HOST_SOCKET_FD + 1, ~0U, 0) < 0) {
                udk_error("cannot close inherited descriptors: %m");
                return UDK_DRIVERHOST_EXIT_SANDBOX;
        }

        if (sandbox) {
                if (sandbox_landlock(drivers, n_drivers) < 0)
                        return UDK_DRIVERHOST_EXIT_SANDBOX;
        } else {
                udk_warn("--no-sandbox: the driver runs with this process's full rights");
        }

        /* A shared host runs what loaded: an instance of a driver that did not is told so at its attach. */
        for (size_t i = 0; i < n_drivers; i++) {
                descs[i] = load_driver(drivers[i]);
                if (!descs[i] && !shared)
                        return host_exit(sandbox, UDK_DRIVERHOST_EXIT_LOAD);
        }
        snprintf(ident, sizeof(ident), "udk-driverhost[%s]", shared ? shared : descs[0]->name);
        udk_log_set_ident(ident);

        r = udk_dispatch_queue_create(&q);
        if (r < 0) {
                udk_error("cannot create the dispatch queue: %s", strerror(-r));
                return host_exit(sandbox, UDK_DRIVERHOST_EXIT_FAILURE);
        }
        if (sandbox && sandbox_seccomp() < 0) {
                udk_dispatch_queue_destroy(q);
                return host_exit(sandbox, UDK_DRIVERHOST_EXIT_SANDBOX);
        }

        if (shared)
                code = shared_host_run(descs, n_drivers, q, HOST_SOCKET_FD);
        else
                code = udk_driver_host_run(descs[0], q, HOST_SOCKET_FD);
        udk_dispatch_queue_destroy(q);
        return host_exit(sandbox, code);
}
