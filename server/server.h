/* SPDX-License-Identifier: MIT */
/*
 * udkd's device set and its control thread's event loop.
 *
 * udkd_server_create() turns a parsed configuration into open devices with
 * their handlers and control values; udkd_server_start() starts their RT
 * threads; udkd_server_run() is the io_uring loop (signalfd, timerfd) that
 * collects retired plans, prints statistics and returns on SIGTERM/SIGINT
 * or when the duration is over.  All of it runs on the control thread.
 *
 * Errors are logged with udk_error() as "FILE:LINE: problem", naming the
 * configuration line that caused them, and returned as a negative errno.
 */
#ifndef UDKD_SERVER_H
#define UDKD_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define UDKD_TICK_NS 10000000ull /* the control thread's housekeeping tick */

struct udkd_server;

/*
 * Create, configure and open every device of @cfg, load the plugins its
 * handlers name from @plugin_path (colon-separated), instantiate them and
 * set the control values.  @cfg must outlive the server.
 */
int udkd_server_create(const struct udkd_config *cfg, const char *plugin_path, struct udkd_server **ret);

/*
 * Listen for clients on @path (NULL: udk_socket_default_path()), creating
 * its folder (0750) and the socket (0660); a stale socket file is replaced,
 * a live one (another udkd) refused with -EADDRINUSE.  Logs its errors.
 */
int udkd_server_listen(struct udkd_server *server, const char *path);

/* Close the socket and remove its file.  Idempotent. */
void udkd_server_unlisten(struct udkd_server *server);

/*
 * Load the personalities of the drivers folders: @dirs (--drivers), else
 * the system folder and the user's ($XDG_CONFIG_HOME/udk/drivers); a
 * folder that does not exist is skipped.  A file that does not load is
 * logged as "PATH:LINE: reason" and the others still load.  Returns the
 * number of personalities, or a negative errno when a folder given with
 * --drivers cannot be read.
 */
int udkd_server_load_personalities(struct udkd_server *server, const char *const *dirs, size_t n_dirs);

/* Start every device; logs one line per device (udkd_server_describe()). */
int udkd_server_start(struct udkd_server *server);

/*
 * Run the event loop until a signal of @signals (SIGTERM, SIGINT: stop;
 * SIGHUP: ignored) arrives or @duration_ns (0: no limit) has passed; every
 * @stats_interval_ns (0: never) print one statistics line per device on
 * stdout.  The caller blocked @signals in every thread before starting any.
 * Returns 0 or a negative errno when the loop itself failed.
 */
int udkd_server_run(struct udkd_server *server, const sigset_t *signals, uint64_t stats_interval_ns,
                    uint64_t duration_ns);

size_t udkd_server_n_devices(const struct udkd_server *server);

/* One line about device @index: backend, rate, period, channels, format, latency, realtime, handlers;
 * -ENODEV for a device left out (its hardware was not there). */
int udkd_server_describe(struct udkd_server *server, size_t index, char *buf, size_t size);

/* Its statistics line: cycles, period, lateness, busy time, load, xruns and meter readouts. */
int udkd_server_format_stats(struct udkd_server *server, size_t index, char *buf, size_t size);

/* Stop and destroy the devices, then unload the plugins.  Accepts NULL; returns NULL. */
struct udkd_server *udkd_server_destroy(struct udkd_server *server);

#endif
