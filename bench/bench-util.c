/* SPDX-License-Identifier: MIT */
/*
 * udk-bench's helpers: order statistics, usage errors, paths, the machine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/stats.h>
#include <udk/util.h>

#include "bench.h"
#include "udk-build-config.h"

int bench_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "udk-bench%s%s: ", cmd ? " " : "", cmd ? cmd : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'udk-bench %s%s--help' for more information.\n", cmd ? cmd : "",
                cmd ? " " : "");
        return -EINVAL;
}

int bench_parse_option_int(const char *cmd, const char *option, const char *text, int64_t min, int64_t max,
                           int64_t *ret)
{
        if (udk_parse_int64(text, min, max, ret) < 0)
                return bench_usage_error(cmd, "%s '%s': not a whole number in %" PRId64 "..%" PRId64, option,
                                         text, min, max);
        return 0;
}

int bench_option_error(const char *cmd, int c, char **argv)
{
        char opt_text[3] = { '-', (char)optopt, '\0' };
        /* optopt is a short option's letter, or a long option's value (or 0): then argv names it. */
        const char *name = optopt > 0 && optopt < BENCH_LONG_OPTION_FIRST ? opt_text : argv[optind - 1];

        if (c == ':')
                return bench_usage_error(cmd, "option '%s' needs an argument", name);
        return bench_usage_error(cmd, "unknown option '%s'", name);
}

double bench_percentile_sorted(const double *sorted, size_t n, double q)
{
        double rank;
        size_t k;

        if (n == 0)
                return NAN;
        if (!(q >= 0.0))
                q = 0.0;
        if (q > 1.0)
                q = 1.0;
        rank = ceil(q * (double)n);
        k = rank < 1.0 ? 1 : rank > (double)n ? n : (size_t)rank;
        return sorted[k - 1];
}

static int double_cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

double bench_median(double *values, size_t n)
{
        if (n == 0)
                return NAN;
        qsort(values, n, sizeof(*values), double_cmp);
        return bench_percentile_sorted(values, n, 0.5);
}

void bench_latency_from_histogram(const struct udk_histogram *h, struct bench_latency *ret)
{
        struct udk_histogram_summary s;

        udk_histogram_summarize(h, &s);
        *ret = (struct bench_latency){
                .count = s.count,
                .p50 = (double)s.p50 / 1000.0,
                .p99 = (double)s.p99 / 1000.0,
                .p999 = (double)s.p999 / 1000.0,
                .max = (double)s.max / 1000.0,
        };
}

static uint64_t load_relaxed(const _Atomic uint64_t *v)
{
        return atomic_load_explicit(v, memory_order_relaxed);
}

static void store_relaxed(_Atomic uint64_t *dst, uint64_t v)
{
        atomic_store_explicit(dst, v, memory_order_relaxed);
}

void bench_histogram_merge(struct udk_histogram *dst, const struct udk_histogram *src)
{
        uint64_t n = load_relaxed(&src->count);

        if (n == 0)
                return;
        for (size_t i = 0; i < UDK_HIST_BUCKETS; i++) {
                uint64_t sum = load_relaxed(&dst->buckets[i]) + load_relaxed(&src->buckets[i]);
                store_relaxed(&dst->buckets[i], sum);
        }
        store_relaxed(&dst->sum, load_relaxed(&dst->sum) + load_relaxed(&src->sum));
        store_relaxed(&dst->count, load_relaxed(&dst->count) + n);
        store_relaxed(&dst->min, UDK_MIN(load_relaxed(&dst->min), load_relaxed(&src->min)));
        store_relaxed(&dst->max, UDK_MAX(load_relaxed(&dst->max), load_relaxed(&src->max)));
}

static bool is_executable(const char *path)
{
        return access(path, X_OK) == 0;
}

int bench_find_program(const char *name, char *path, size_t size)
{
        const char *p = getenv("PATH");

        if (strchr(name, '/')) {
                if (!is_executable(name))
                        return -ENOENT;
                return udk_strlcpy(path, name, size);
        }
        if (!p || !*p)
                p = "/usr/local/bin:/usr/bin:/bin";
        while (*p) {
                size_t len = strcspn(p, ":");
                /* An empty entry is the current folder, as execvp reads it. */
                int n = len ? snprintf(path, size, "%.*s/%s", (int)len, p, name)
                            : snprintf(path, size, "%s", name);

                if (n > 0 && (size_t)n < size && is_executable(path))
                        return 0;
                p += len;
                if (*p == ':')
                        p++;
        }
        return -ENOENT;
}

int bench_self_path(char *path, size_t size)
{
        ssize_t n;

        if (size == 0)
                return -ENAMETOOLONG;
        n = readlink("/proc/self/exe", path, size);
        if (n < 0)
                return -errno;
        if ((size_t)n >= size)
                return -ENAMETOOLONG;
        path[n] = '\0';
        return 0;
}

int bench_build_root(char *path, size_t size)
{
        int r = bench_self_path(path, size);

        if (r < 0)
                return r;
        /* <build>/bench/udk-bench -> <build>: drop the file, then its folder. */
        for (int i = 0; i < 2; i++) {
                char *slash = strrchr(path, '/');
                if (slash)
                        *slash = '\0';
        }
        return 0;
}

int bench_plugin_path(char *path, size_t size)
{
        const char *env = getenv("UDK_PLUGIN_PATH");
        char self[4096];
        int n;

        if (env && *env)
                return udk_strlcpy(path, env, size);

        if (bench_build_root(self, sizeof(self)) < 0)
                return udk_strlcpy(path, UDK_PLUGIN_DIR, size);
        n = snprintf(path, size, "%s/plugins/dsp:%s", self, UDK_PLUGIN_DIR);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The value of the first "@key<spaces>: value" line of @f, without its newline. */
static bool cpuinfo_field(FILE *f, const char *key, char *value, size_t size)
{
        char line[512];
        size_t len = strlen(key);

        while (fgets(line, sizeof(line), f)) {
                char *colon;
                if (strncmp(line, key, len) != 0 || !(colon = strchr(line + len, ':')))
                        continue;
                colon++;
                colon += strspn(colon, " \t");
                colon[strcspn(colon, "\n")] = '\0';
                udk_strlcpy(value, colon, size);
                return true;
        }
        return false;
}

void bench_machine_get(struct bench_machine *ret)
{
        struct bench_machine m = { .cpus = 0 };
        struct utsname u;
        cpu_set_t set;
        FILE *f;

        if (sched_getaffinity(0, sizeof(set), &set) == 0)
                m.cpus = (unsigned)CPU_COUNT(&set);
        else
                m.cpus = (unsigned)UDK_MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L);

        udk_strlcpy(m.cpu_model, "unknown", sizeof(m.cpu_model));
        f = fopen("/proc/cpuinfo", "re");
        if (f) {
                cpuinfo_field(f, "model name", m.cpu_model, sizeof(m.cpu_model));
                fclose(f);
        }

        udk_strlcpy(m.kernel, uname(&u) == 0 ? u.release : "unknown", sizeof(m.kernel));
        *ret = m;
}

/* The whole of a small /proc file, NUL-terminated; the length or a negative errno. */
static ssize_t read_proc_file(const char *path, char *buf, size_t size)
{
        _udk_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        while (len < size - 1) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        return (ssize_t)len;
}

int bench_for_each_thread(pid_t pid, int (*fn)(pid_t tid, void *data), void *data)
{
        char path[64];
        struct dirent *de;
        DIR *d;
        int r = 0;

        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        d = opendir(path);
        if (!d)
                return -errno;
        while (r == 0 && (de = readdir(d))) {
                int64_t tid;
                if (udk_parse_int64(de->d_name, 1, INT32_MAX, &tid) < 0)
                        continue;
                r = fn((pid_t)tid, data);
        }
        closedir(d);
        return r;
}

struct schedstat_sum {
        pid_t pid;
        uint64_t total;
};

/* Add the first number of /proc/PID/task/TID/schedstat: the thread's time on a CPU, ns. */
static int add_thread_schedstat(pid_t tid, void *data)
{
        struct schedstat_sum *sum = data;
        char path[96], text[256];
        int64_t v;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)sum->pid, (int)tid);
        n = read_proc_file(path, text, sizeof(text));
        /* A thread that ended between readdir and open took its time with it. */
        if (n == -ENOENT || n == -ESRCH)
                return 0;
        if (n < 0)
                return (int)n;
        text[strcspn(text, " \n")] = '\0';
        if (udk_parse_int64(text, 0, INT64_MAX, &v) < 0)
                return -EBADMSG;
        sum->total += (uint64_t)v;
        return 0;
}

static int process_schedstat_ns(pid_t pid, uint64_t *ret)
{
        struct schedstat_sum sum = { pid, 0 };
        int r = bench_for_each_thread(pid, add_thread_schedstat, &sum);

        if (r == 0)
                *ret = sum.total;
        return r;
}

int bench_proc_stat_cpu_ticks(const char *text, uint64_t *ret)
{
        /* The command name may hold spaces and parentheses: fields count from its last ')'. */
        const char *p = strrchr(text, ')');
        int64_t ticks[2];

        if (!p)
                return -EBADMSG;
        p++;
        /* Field 3 (state) comes first after ")"; utime is field 14, stime 15. */
        for (int field = 3, k = 0; k < 2; field++) {
                char word[32];
                size_t len;

                p += strspn(p, " ");
                len = strcspn(p, " \n");
                if (len == 0)
                        return -EBADMSG;
                if (field >= 14) {
                        if (len >= sizeof(word))
                                return -EBADMSG;
                        memcpy(word, p, len);
                        word[len] = '\0';
                        if (udk_parse_int64(word, 0, INT64_MAX / 2, &ticks[k]) < 0)
                                return -EBADMSG;
                        k++;
                }
                p += len;
        }
        *ret = (uint64_t)(ticks[0] + ticks[1]);
        return 0;
}

static int process_stat_ns(pid_t pid, uint64_t *ret)
{
        char path[64], text[1024];
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ticks;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        n = read_proc_file(path, text, sizeof(text));
        if (n < 0)
                return (int)n;
        r = bench_proc_stat_cpu_ticks(text, &ticks);
        if (r < 0)
                return r;
        if (hz <= 0 || ticks > UINT64_MAX / 1000000000u)
                return -EBADMSG;
        *ret = ticks * 1000000000u / (uint64_t)hz;
        return 0;
}

int bench_process_cpu_ns(pid_t pid, uint64_t *ret, enum bench_cpu_method *ret_method)
{
        char path[64];
        uint64_t ns = 0;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
        if (access(path, R_OK) == 0) {
                r = process_schedstat_ns(pid, &ns);
                if (r == 0) {
                        *ret = ns;
                        if (ret_method)
                                *ret_method = BENCH_CPU_SCHEDSTAT;
                }
                return r;
        }
        if (errno != ENOENT)
                return -errno;
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        if (access(path, F_OK) < 0)
                return -ENOENT;
        r = process_stat_ns(pid, &ns);
        if (r == 0) {
                *ret = ns;
                if (ret_method)
                        *ret_method = BENCH_CPU_STAT;
        }
        return r;
}

const char *bench_cpu_method_name(enum bench_cpu_method method)
{
        return method == BENCH_CPU_SCHEDSTAT ? "schedstat" : "stat";
}

int bench_reap(pid_t pid, unsigned timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (udk_time_now() >= deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return -ETIMEDOUT;
                }
                usleep(10000);
        }
}

int bench_find_built(const char *env_name, const char *build_path, char *path, size_t size)
{
        const char *env = getenv(env_name), *name = strrchr(build_path, '/');
        char self[4096];
        int r;

        name = name ? name + 1 : build_path;
        if (env && *env) {
                r = bench_find_program(env, path, size);
                if (r < 0)
                        udk_error("%s=%s is not an executable", env_name, env);
                return r;
        }
        if (bench_build_root(self, sizeof(self)) == 0 &&
            (size_t)snprintf(path, size, "%s/%s", self, build_path) < size && access(path, X_OK) == 0)
                return 0;
        r = bench_find_program(name, path, size);
        if (r < 0)
                udk_error("no %s: not in the build tree next to udk-bench nor in PATH; set %s", name, env_name);
        return r;
}
