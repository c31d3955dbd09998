/* SPDX-License-Identifier: MIT */
/*
 * udk-bench's helpers: order statistics, usage errors, paths, the machine.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

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

int bench_plugin_path(char *path, size_t size)
{
        const char *env = getenv("UDK_PLUGIN_PATH");
        char self[4096];
        char *slash;
        int r, n;

        if (env && *env)
                return udk_strlcpy(path, env, size);

        r = bench_self_path(self, sizeof(self));
        if (r < 0)
                return udk_strlcpy(path, UDK_PLUGIN_DIR, size);
        /* <build>/bench/udk-bench -> <build>: drop the file, then its folder. */
        for (int i = 0; i < 2; i++) {
                slash = strrchr(self, '/');
                if (slash)
                        *slash = '\0';
        }
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
