/* SPDX-License-Identifier: MIT */
/*
 * udk-bench's shared helpers: order statistics, a JSON writer, running a
 * child process and capturing its output, readers for the output of the
 * tools udk is compared with (cyclictest, callgrind), and facts about the
 * machine.  None of this runs on an RT thread.
 *
 * Exit statuses of every subcommand: 0 done (a target that was missed is a
 * result, not an error), 1 a runtime error, 2 a usage error.
 */
#ifndef UDK_BENCH_H
#define UDK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BENCH_EXIT_USAGE 2

/* --- subcommands: argv[0] is the subcommand's name; they return an exit status --- */

int bench_cycle_main(int argc, char **argv);
/* Hidden: the cycle loop alone, for `valgrind --tool=callgrind`. */
int bench_cycle_inner_main(int argc, char **argv);
int bench_chain_main(int argc, char **argv);
int bench_compare_main(int argc, char **argv);
int bench_match_main(int argc, char **argv);
int bench_restart_main(int argc, char **argv);
int bench_resample_main(int argc, char **argv);

/* Print "udk-bench <cmd>: <message>" and the pointer to --help on stderr; returns -EINVAL. */
int bench_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Long options without a short letter take values from here up, so that
 * getopt's optopt tells them from short options. */
#define BENCH_LONG_OPTION_FIRST 0x100

/* Parse @text, the argument of @option, as a whole number in [@min, @max];
 * a usage error naming both (-EINVAL) when it is not. */
int bench_parse_option_int(const char *cmd, const char *option, const char *text, int64_t min, int64_t max,
                           int64_t *ret);

/* getopt_long's complaint (it returned @c, '?' or ':', with opterr 0) as a
 * usage error naming the option; returns -EINVAL. */
int bench_option_error(const char *cmd, int c, char **argv);

/* --- order statistics --- */

/*
 * Percentile @q in [0, 1] of @n values sorted in ascending order, by the
 * rule stats.h uses: the value of rank ceil(q * n), kept in [1, n] (q outside
 * [0, 1] is clamped).  NAN when @n is 0.
 */
double bench_percentile_sorted(const double *sorted, size_t n, double q);

/* Sort @values in place and return their percentile 0.5 (with an even @n,
 * the lower of the two middle values).  NAN when @n is 0. */
double bench_median(double *values, size_t n);

/*
 * Latency figures in microseconds.  "Same percentiles" for every source:
 * p50, p99, p99.9 by the rank rule above, and the maximum.
 */
struct bench_latency {
        uint64_t count;
        double p50, p99, p999, max;
};

struct udk_histogram;

/* The percentiles of @h (nanoseconds) in microseconds, as stats.h computes
 * them (bucket upper bounds clamped to the exact maximum); all 0 when empty. */
void bench_latency_from_histogram(const struct udk_histogram *h, struct bench_latency *ret);

/* Add the samples of @src to @dst (counts, sum, buckets; min and max).  Not
 * for a histogram that is being written. */
void bench_histogram_merge(struct udk_histogram *dst, const struct udk_histogram *src);

/* --- JSON --- */

#define BENCH_JSON_DEPTH_MAX 16

/*
 * Writes JSON to a stream with two-space indentation, commas where they
 * belong.  Inside an object every value needs a @key; inside an array, and
 * for the top-level value, @key is NULL.  A non-finite number is written as
 * null.  Nesting deeper than BENCH_JSON_DEPTH_MAX sets error to -E2BIG and
 * stops the output.
 */
struct bench_json {
        FILE *out;
        unsigned depth;
        bool has_items[BENCH_JSON_DEPTH_MAX];
        int error;
};

void bench_json_init(struct bench_json *j, FILE *out);
void bench_json_begin_object(struct bench_json *j, const char *key);
void bench_json_end_object(struct bench_json *j);
void bench_json_begin_array(struct bench_json *j, const char *key);
void bench_json_end_array(struct bench_json *j);
/* @decimals digits after the point ("%.*f"). */
void bench_json_number(struct bench_json *j, const char *key, double value, int decimals);
void bench_json_uint(struct bench_json *j, const char *key, uint64_t value);
void bench_json_bool(struct bench_json *j, const char *key, bool value);
/* NULL writes null.  Quotes, backslashes and control characters are escaped. */
void bench_json_string(struct bench_json *j, const char *key, const char *value);
void bench_json_null(struct bench_json *j, const char *key);
/* An object {"p50": .., "p99": .., "p999": .., "max": ..}, or null for NULL. */
void bench_json_latency(struct bench_json *j, const char *key, const struct bench_latency *lat);

/* --- child processes --- */

struct bench_child_output {
        char *out; /* the child's stdout, NUL-terminated */
        size_t out_len;
        char *err; /* its stderr, NUL-terminated */
        size_t err_len;
        int status; /* exit status, or 128 + the signal that killed it */
};

/* What a child may write on each stream before bench_run() gives up (-EFBIG). */
#define BENCH_CHILD_OUTPUT_MAX (64u << 20)

/*
 * Run @argv (argv[0] looked up in PATH when it has no '/') with stdin on
 * /dev/null and wait for it, capturing its stdout and stderr.  Returns 0
 * whatever the child's exit status, or a negative errno when it could not
 * be started or read (-ENOENT: no such program); *@ret is untouched on
 * failure.  Free the output with bench_child_output_free().
 */
int bench_run(char *const argv[], struct bench_child_output *ret);
void bench_child_output_free(struct bench_child_output *o);

/* The path of an executable @name in PATH (or @name itself when it has a
 * '/'), copied into @path.  -ENOENT when there is none, -ENAMETOOLONG. */
int bench_find_program(const char *name, char *path, size_t size);

/* The path of the running udk-bench (readlink of /proc/self/exe). */
int bench_self_path(char *path, size_t size);

/* The build tree udk-bench runs from: its own path less bench/udk-bench.  0 or -errno. */
int bench_build_root(char *path, size_t size);

/*
 * One of udk's programs: $@env_name, else @build_path ("server/udkd")
 * under the build tree udk-bench runs from, else its file name in PATH.
 * Logs what it could not find.
 */
int bench_find_built(const char *env_name, const char *build_path, char *path, size_t size);

/*
 * The DSP plugin search path: $UDK_PLUGIN_PATH when set and not empty, else
 * "<dir>/plugins/dsp:UDK_PLUGIN_DIR" where <dir> is the folder above the
 * one udk-bench lives in, so a build tree finds its own plugins.
 */
int bench_plugin_path(char *path, size_t size);

/* --- readers of other tools' output --- */

/*
 * cyclictest's histogram output (-h): lines "NNNNNN CCCCCC..." (a bucket of
 * one microsecond and a count per thread), "# Histogram Overflows:" and
 * "# Min Latencies:" / "# Max Latencies:" (per thread).  Latencies are
 * whole microseconds as cyclictest measures them (truncated); a percentile
 * is the value of the bucket where the rank falls, kept in [min, max], and
 * a rank among the overflows gives the maximum.  -EBADMSG with a sentence in
 * @err when the text has no maximum, no samples or a bucket past a minute;
 * -ENOMEM.  Lines that are neither buckets nor those summaries are skipped.
 */
int bench_cyclictest_parse(const char *text, struct bench_latency *ret, char *err, size_t err_size);

/*
 * The instruction count (Ir, the first event) of a callgrind output file's
 * "totals:" line, else its "summary:" line.  -EBADMSG when it has neither.
 */
int bench_callgrind_parse(const char *text, uint64_t *ret);

/* --- the machine --- */

struct bench_machine {
        unsigned cpus;       /* CPUs this process may run on, as nproc says */
        char cpu_model[128]; /* /proc/cpuinfo's first "model name", or "unknown" */
        char kernel[128];    /* uname -r */
};

void bench_machine_get(struct bench_machine *ret);

/* Reap @pid within @timeout_ms, else SIGKILL it: its wait status (0: exited 0),
 * -ETIMEDOUT, or a negative errno. */
int bench_reap(pid_t pid, unsigned timeout_ms);

/* Call @fn for each thread of @pid until it returns non-zero (returned). */
int bench_for_each_thread(pid_t pid, int (*fn)(pid_t tid, void *data), void *data);

/* How bench_process_cpu_ns() counted. */
enum bench_cpu_method {
        BENCH_CPU_SCHEDSTAT = 0, /* each thread's run time, ns (/proc/PID/task/TID/schedstat) */
        BENCH_CPU_STAT,          /* the process's utime + stime, clock ticks (/proc/PID/stat) */
};

/*
 * CPU time process @pid (all its threads) has used so far, ns: the sum of
 * its threads' schedstat run times, or where the kernel has no schedstat,
 * utime + stime from /proc/PID/stat (tick resolution).  -ENOENT when there
 * is no such process, -EBADMSG for text it cannot read.
 */
int bench_process_cpu_ns(pid_t pid, uint64_t *ret, enum bench_cpu_method *ret_method);

/* utime + stime (fields 14 and 15) of the text of a /proc/PID/stat, clock
 * ticks.  -EBADMSG when the text is not that. */
int bench_proc_stat_cpu_ticks(const char *text, uint64_t *ret);

/* "schedstat" or "stat". */
const char *bench_cpu_method_name(enum bench_cpu_method method);

#endif
