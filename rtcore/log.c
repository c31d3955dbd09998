/* SPDX-License-Identifier: MIT */
/*
 * Lines of "<ident>: <level>: <message>\n" on stderr, each built on the stack
 * and written with one write(2) so lines from several threads or processes
 * sharing the descriptor never interleave.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <udk/log.h>

#define LOG_LINE_MAX  1024
#define LOG_IDENT_MAX 64

static _Atomic int log_level = UDK_LOG_INFO;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t ident_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ident[LOG_IDENT_MAX] = "udk"; /* guarded by ident_lock */

static const char *const level_names[] = {
        [UDK_LOG_ERROR] = "error",
        [UDK_LOG_WARN] = "warning",
        [UDK_LOG_INFO] = "info",
        [UDK_LOG_DEBUG] = "debug",
};

static bool level_valid(int level)
{
        return level >= UDK_LOG_ERROR && level <= UDK_LOG_DEBUG;
}

static int level_from_string(const char *s)
{
        static const struct {
                const char *name;
                enum udk_log_level level;
        } table[] = {
                { "error", UDK_LOG_ERROR }, { "err", UDK_LOG_ERROR },    { "warn", UDK_LOG_WARN },
                { "warning", UDK_LOG_WARN }, { "info", UDK_LOG_INFO },   { "debug", UDK_LOG_DEBUG },
        };

        for (size_t i = 0; i < UDK_ELEMENTSOF(table); i++)
                if (strcasecmp(s, table[i].name) == 0)
                        return (int)table[i].level;
        return -EINVAL;
}

static UDK_PRINTF(2, 0) void log_write_line(enum udk_log_level level, const char *fmt, va_list ap)
{
        static const char ellipsis[] = "...\n";
        int saved_errno = errno; /* for %m */
        char line[LOG_LINE_MAX];
        size_t len;
        int n;

        pthread_mutex_lock(&ident_lock);
        n = snprintf(line, sizeof(line), "%s: %s: ", log_ident, level_names[level]);
        pthread_mutex_unlock(&ident_lock);
        len = n < 0 ? 0 : UDK_MIN((size_t)n, sizeof(line) - 1);

        errno = saved_errno;
        n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        if (n < 0)
                n = 0;
        if ((size_t)n >= sizeof(line) - len) {
                /* Cut: end with "...\n" in the last bytes of the buffer. */
                len = sizeof(line) - 1;
                memcpy(line + len - (sizeof(ellipsis) - 1), ellipsis, sizeof(ellipsis) - 1);
        } else {
                len += (size_t)n;
                /* A message that brings its own newline does not get a second one. */
                if (n > 0 && line[len - 1] == '\n')
                        len--;
                line[len++] = '\n';
        }

        while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
                ;
}

/* A line at any level, without the level check or the initialisation. */
static UDK_PRINTF(2, 3) void log_emit(enum udk_log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_write_line(level, fmt, ap);
        va_end(ap);
}

/* UDK_LOG_LEVEL replaces the default once, at first use; udk_log_set_level() still wins. */
static void log_init(void)
{
        const char *env = getenv("UDK_LOG_LEVEL");
        int level;

        if (!env || !*env)
                return;
        level = level_from_string(env);
        if (level < 0) {
                log_emit(UDK_LOG_WARN, "ignoring UDK_LOG_LEVEL=%s (want error, warn, info or debug)", env);
                return;
        }
        atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

static void log_ensure_init(void)
{
        pthread_once(&log_once, log_init);
}

UDK_EXPORT void udk_log_set_level(enum udk_log_level level)
{
        log_ensure_init();
        if (level_valid((int)level))
                atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

UDK_EXPORT enum udk_log_level udk_log_get_level(void)
{
        log_ensure_init();
        return (enum udk_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

UDK_EXPORT void udk_log_set_ident(const char *ident)
{
        pthread_mutex_lock(&ident_lock);
        (void)udk_strlcpy(log_ident, ident && *ident ? ident : "udk", sizeof(log_ident)); /* cut is fine */
        pthread_mutex_unlock(&ident_lock);
}

UDK_EXPORT void udk_log(enum udk_log_level level, const char *fmt, ...)
{
        int saved_errno = errno; /* so %m and the caller's errno survive */
        va_list ap;

        if (!level_valid((int)level) || !fmt)
                return;
        log_ensure_init();
        if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
                return;

        va_start(ap, fmt);
        errno = saved_errno;
        log_write_line(level, fmt, ap);
        va_end(ap);
        errno = saved_errno;
}
