/* SPDX-License-Identifier: MIT */
/*
 * Logging for the control thread, driver hosts and tools.  Never call these
 * on an RT thread: they format and write(2).  The RT thread counts failures
 * instead (see stats.h) and the control thread reports them.
 */
#ifndef UDK_LOG_H
#define UDK_LOG_H

#include <stdarg.h>

#include <udk/util.h>

enum udk_log_level {
        UDK_LOG_ERROR = 0,
        UDK_LOG_WARN,
        UDK_LOG_INFO,
        UDK_LOG_DEBUG,
};

/* Messages above @level are dropped; the default is UDK_LOG_INFO. */
void udk_log_set_level(enum udk_log_level level);
enum udk_log_level udk_log_get_level(void);

/* Prefix each line with @ident ("udkd", "udk-driverhost[usb]"). */
void udk_log_set_ident(const char *ident);

void udk_log(enum udk_log_level level, const char *fmt, ...) UDK_PRINTF(2, 3);

#define udk_error(...) udk_log(UDK_LOG_ERROR, __VA_ARGS__)
#define udk_warn(...)  udk_log(UDK_LOG_WARN, __VA_ARGS__)
#define udk_info(...)  udk_log(UDK_LOG_INFO, __VA_ARGS__)
#define udk_debug(...) udk_log(UDK_LOG_DEBUG, __VA_ARGS__)

#endif
