/* SPDX-License-Identifier: MIT */
/*
 * udk-bench's helpers (order statistics, JSON, child processes, the readers
 * of cyclictest's and callgrind's output, paths, the machine) and the
 * program's own front: usage errors, the hidden cycle-inner mode and a
 * short `cycle --json` run; chain's options, report, messages, ping-pong
 * and one short real run.  $UDK_BENCH is the udk-bench to run.
 */
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include <udk/clock.h>
#include <udk/stats.h>
#include <udk/util.h>

#include "bench-chain.h"
#include "bench-compare.h"
#include "bench-servers.h"
#include "bench-mtdm.h"
#include "bench.h"
#include "udk-build-config.h"
#include "udk-test.h"
#include "udk-test-udkd.h"

static void test_percentile_sorted(void)
{
        static const double v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 0.5), 5);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 0.99), 10);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 0.1), 1);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 0.11), 2);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 0), 1);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 1), 10);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, -3), 1);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, 7), 10);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 10, NAN), 1);
        ASSERT_FLOAT_EQ(bench_percentile_sorted(v, 1, 0.999), 1);
        ASSERT_TRUE(isnan(bench_percentile_sorted(v, 0, 0.5)));
}

static void test_median(void)
{
        double odd[] = { 5, 1, 4, 2, 3 };
        double even[] = { 40, 10, 30, 20 };

        ASSERT_FLOAT_EQ(bench_median(odd, 5), 3);
        /* Sorted in place. */
        for (int i = 0; i < 5; i++)
                ASSERT_FLOAT_EQ(odd[i], i + 1);
        ASSERT_FLOAT_EQ(bench_median(even, 4), 20);
        ASSERT_TRUE(isnan(bench_median(even, 0)));
}

/* Run @fn on a memory stream and return what it wrote (caller frees). */
static char *json_text(void (*fn)(struct bench_json *j), int *ret_error)
{
        struct bench_json j;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_NOT_NULL(f);
        bench_json_init(&j, f);
        fn(&j);
        ASSERT_INT_EQ(fclose(f), 0);
        *ret_error = j.error;
        return buf;
}

static void json_document(struct bench_json *j)
{
        static const struct bench_latency lat = {
                .count = 7, .p50 = 1.5, .p99 = 2, .p999 = 3.25, .max = 10
        };

        bench_json_begin_object(j, NULL);
        bench_json_begin_array(j, "results");
        bench_json_begin_object(j, NULL);
        bench_json_uint(j, "period", 64);
        bench_json_number(j, "ns", 12.345, 1);
        bench_json_number(j, "none", NAN, 1);
        bench_json_number(j, "inf", INFINITY, 1);
        bench_json_end_object(j);
        bench_json_number(j, NULL, -2, 0);
        bench_json_end_array(j);
        bench_json_begin_array(j, "empty");
        bench_json_end_array(j);
        bench_json_begin_object(j, "nothing");
        bench_json_end_object(j);
        bench_json_latency(j, "lat", &lat);
        bench_json_latency(j, "no_lat", NULL);
        bench_json_bool(j, "yes", true);
        bench_json_bool(j, "no", false);
        bench_json_null(j, "null");
        bench_json_string(j, "text", "a \"q\" \\ b\n\t\x01");
        bench_json_string(j, "missing", NULL);
        bench_json_end_object(j);
}

static void test_json_writer(void)
{
        static const char want[] = "{\n"
                                   "  \"results\": [\n"
                                   "    {\n"
                                   "      \"period\": 64,\n"
                                   "      \"ns\": 12.3,\n"
                                   "      \"none\": null,\n"
                                   "      \"inf\": null\n"
                                   "    },\n"
                                   "    -2\n"
                                   "  ],\n"
                                   "  \"empty\": [],\n"
                                   "  \"nothing\": {},\n"
                                   "  \"lat\": {\n"
                                   "    \"p50\": 1.500,\n"
                                   "    \"p99\": 2.000,\n"
                                   "    \"p999\": 3.250,\n"
                                   "    \"max\": 10.000\n"
                                   "  },\n"
                                   "  \"no_lat\": null,\n"
                                   "  \"yes\": true,\n"
                                   "  \"no\": false,\n"
                                   "  \"null\": null,\n"
                                   "  \"text\": \"a \\\"q\\\" \\\\ b\\n\\t\\u0001\",\n"
                                   "  \"missing\": null\n"
                                   "}\n";
        int error;
        _udk_cleanup_free_ char *text = json_text(json_document, &error);

        ASSERT_INT_EQ(error, 0);
        ASSERT_STR_EQ(text, want);
}

static void json_too_deep(struct bench_json *j)
{
        for (int i = 0; i <= BENCH_JSON_DEPTH_MAX; i++)
                bench_json_begin_array(j, NULL);
        bench_json_uint(j, NULL, 1);
        for (int i = 0; i <= BENCH_JSON_DEPTH_MAX; i++)
                bench_json_end_array(j);
}

static void test_json_depth_limit(void)
{
        int error;
        _udk_cleanup_free_ char *text = json_text(json_too_deep, &error);
        char want[4096] = "[";

        ASSERT_INT_EQ(error, -E2BIG);
        /* The output stops before the array that did not fit; nothing after it is written. */
        for (int d = 1; d < BENCH_JSON_DEPTH_MAX; d++) {
                strcat(want, "\n");
                for (int i = 0; i < d; i++)
                        strcat(want, "  ");
                strcat(want, "[");
        }
        ASSERT_STR_EQ(text, want);
}

static void test_run_captures_both_streams(void)
{
        char *argv[] = { "sh", "-c", "printf 'out\\nput'; printf err >&2; exit 3", NULL };
        struct bench_child_output o;

        ASSERT_OK(bench_run(argv, &o));
        ASSERT_STR_EQ(o.out, "out\nput");
        ASSERT_UINT_EQ(o.out_len, 7);
        ASSERT_STR_EQ(o.err, "err");
        ASSERT_UINT_EQ(o.err_len, 3);
        ASSERT_INT_EQ(o.status, 3);
        bench_child_output_free(&o);
        ASSERT_PTR_EQ(o.out, NULL);
        ASSERT_PTR_EQ(o.err, NULL);
        bench_child_output_free(NULL);
}

static void test_run_large_output_and_stdin(void)
{
        /* More than a pipe holds on both streams at once, and stdin is empty. */
        char *argv[] = { "sh", "-c",
                         "head -c 300000 /dev/zero | tr '\\0' a; head -c 200001 /dev/zero | tr '\\0' b >&2; "
                         "cat; exit 0",
                         NULL };
        struct bench_child_output o;

        ASSERT_OK(bench_run(argv, &o));
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_UINT_EQ(o.out_len, 300000);
        ASSERT_UINT_EQ(strlen(o.out), 300000);
        ASSERT_UINT_EQ(strspn(o.out, "a"), 300000);
        ASSERT_UINT_EQ(o.err_len, 200001);
        ASSERT_UINT_EQ(strspn(o.err, "b"), 200001);
        bench_child_output_free(&o);
}

static void test_run_signal_and_missing_program(void)
{
        char *killed[] = { "sh", "-c", "kill -9 $$", NULL };
        char *missing[] = { "udk-no-such-program-here", NULL };
        char *empty[] = { NULL };
        struct bench_child_output o = { .status = 12345 };

        ASSERT_OK(bench_run(killed, &o));
        ASSERT_INT_EQ(o.status, 128 + 9);
        ASSERT_STR_EQ(o.out, "");
        bench_child_output_free(&o);

        o.status = 12345;
        ASSERT_ERROR(bench_run(missing, &o), ENOENT);
        ASSERT_INT_EQ(o.status, 12345); /* untouched */
        ASSERT_ERROR(bench_run(empty, &o), EINVAL);
}

static void test_find_program(void)
{
        char path[4096];

        ASSERT_OK(setenv("PATH", "/nonexistent::/bin:/usr/bin", 1));
        ASSERT_OK(bench_find_program("sh", path, sizeof(path)));
        ASSERT_STR_EQ(path, "/bin/sh");
        ASSERT_ERROR(bench_find_program("udk-no-such-program-here", path, sizeof(path)), ENOENT);
        ASSERT_OK(bench_find_program("/bin/sh", path, sizeof(path)));
        ASSERT_STR_EQ(path, "/bin/sh");
        ASSERT_ERROR(bench_find_program("/nonexistent/sh", path, sizeof(path)), ENOENT);
        ASSERT_ERROR(bench_find_program("/bin/sh", path, 4), ENAMETOOLONG);
}

static void test_self_and_plugin_path(void)
{
        char self[4096], path[8192], want[8192];
        size_t len;

        ASSERT_OK(bench_self_path(self, sizeof(self)));
        len = strlen(self);
        ASSERT_TRUE(len > strlen("/bench/test-bench"));
        ASSERT_STR_EQ(self + len - strlen("/bench/test-bench"), "/bench/test-bench");
        ASSERT_ERROR(bench_self_path(self, 4), ENAMETOOLONG);

        ASSERT_OK(setenv("UDK_PLUGIN_PATH", "/a:/b", 1));
        ASSERT_OK(bench_plugin_path(path, sizeof(path)));
        ASSERT_STR_EQ(path, "/a:/b");

        /* Unset or empty: the build tree's folder next to the binary's, then the installed one. */
        ASSERT_OK(setenv("UDK_PLUGIN_PATH", "", 1));
        ASSERT_OK(bench_plugin_path(path, sizeof(path)));
        snprintf(want, sizeof(want), "%.*s/plugins/dsp:%s", (int)(len - strlen("/bench/test-bench")), self,
                 UDK_PLUGIN_DIR);
        ASSERT_STR_EQ(path, want);
        ASSERT_OK(unsetenv("UDK_PLUGIN_PATH"));
        ASSERT_OK(bench_plugin_path(path, sizeof(path)));
        ASSERT_STR_EQ(path, want);
        ASSERT_ERROR(bench_plugin_path(path, 8), ENAMETOOLONG);
}

/* The shape of `cyclictest -q -h N -t 1`, as rt-tests 2.x prints it. */
static const char cyclictest_output[] = "# /dev/cpu_dma_latency set to 0us\n"
                                        "# Histogram\n"
                                        "000000 000000\n"
                                        "000009 000000\n"
                                        "000010 000050\n"
                                        "000011 000045\n"
                                        "000012 000004\n"
                                        "000013 000000\n"
                                        "000040 000001\n"
                                        "# Total: 000000100\n"
                                        "# Min Latencies: 00010\n"
                                        "# Avg Latencies: 00011\n"
                                        "# Max Latencies: 00040\n"
                                        "# Histogram Overflows: 00000\n"
                                        "# Histogram Overflow at cycle number:\n"
                                        "# Thread 0:\n";

static void test_cyclictest_parse(void)
{
        struct bench_latency lat;
        char err[256] = "";

        ASSERT_OK(bench_cyclictest_parse(cyclictest_output, &lat, err, sizeof(err)));
        ASSERT_UINT_EQ(lat.count, 100);
        ASSERT_FLOAT_EQ(lat.p50, 10);  /* rank 50: the 50th sample is the last of bucket 10 */
        ASSERT_FLOAT_EQ(lat.p99, 12);  /* rank 99 */
        ASSERT_FLOAT_EQ(lat.p999, 40); /* rank 100 */
        ASSERT_FLOAT_EQ(lat.max, 40);
}

static void test_cyclictest_parse_overflows_and_threads(void)
{
        /* 28 in the histogram, 172 past it: p50 falls among the overflows, so it is the maximum.
         * Two threads' columns are summed; CRs and junk lines are skipped. */
        static const char text[] = "# Histogram\r\n"
                                   "000016 000002 000002\r\n"
                                   "000017 000011 000000\n"
                                   "000018 000009 000000 junk\n"
                                   "000018 000009\n"
                                   "000019 000000 000004\n"
                                   "T: 0 ( 1234) P:80 I:1333 C:    200 Min: 16 Act: 20 Avg: 33 Max: 167\n"
                                   "# Min Latencies: 00016 00017\n"
                                   "# Max Latencies: 00150 00167\n"
                                   "# Histogram Overflows: 00100 00072\n";
        struct bench_latency lat;
        char err[256] = "";

        ASSERT_OK(bench_cyclictest_parse(text, &lat, err, sizeof(err)));
        ASSERT_UINT_EQ(lat.count, 200);
        ASSERT_FLOAT_EQ(lat.p50, 167);
        ASSERT_FLOAT_EQ(lat.p99, 167);
        ASSERT_FLOAT_EQ(lat.max, 167);

        /* Rank 100 of 200 is past buckets 16 and 17 (15 samples), in 18. */
        static const char low[] = "000016 000004\n000017 000011\n000018 000185\n"
                                  "# Max Latencies: 00018\n";
        ASSERT_OK(bench_cyclictest_parse(low, &lat, err, sizeof(err)));
        ASSERT_UINT_EQ(lat.count, 200);
        ASSERT_FLOAT_EQ(lat.p50, 18);
        ASSERT_FLOAT_EQ(lat.max, 18);
}

static void test_cyclictest_parse_errors(void)
{
        struct bench_latency lat = { .count = 99 };
        char err[256] = "";

        ASSERT_ERROR(bench_cyclictest_parse("000010 000005\n", &lat, err, sizeof(err)), EBADMSG);
        ASSERT_STR_EQ(err, "cyclictest printed no \"# Max Latencies\" line (was it run with -h?)");
        ASSERT_ERROR(
                bench_cyclictest_parse("000010 000000\n# Max Latencies: 00000\n", &lat, err, sizeof(err)),
                EBADMSG);
        ASSERT_STR_EQ(err, "cyclictest's histogram has no samples");
        ASSERT_ERROR(bench_cyclictest_parse("", &lat, err, sizeof(err)), EBADMSG);
        ASSERT_ERROR(
                bench_cyclictest_parse("99999999 000001\n# Max Latencies: 00001\n", &lat, err, sizeof(err)),
                EBADMSG);
        ASSERT_STR_EQ(err, "cyclictest's histogram has a bucket past 60000000 us");
        /* A number too long for 64 bits is not a bucket. */
        ASSERT_ERROR(bench_cyclictest_parse("123456789012345678901234 1\n", &lat, err, sizeof(err)),
                     EBADMSG);
        ASSERT_UINT_EQ(lat.count, 99); /* untouched */
}

static void test_callgrind_parse(void)
{
        uint64_t ir = 7;

        ASSERT_OK(bench_callgrind_parse("version: 1\nevents: Ir\nsummary: 123\nfn=x\n0 5\ntotals: 456\n",
                                        &ir));
        ASSERT_UINT_EQ(ir, 456);
        ASSERT_OK(bench_callgrind_parse("events: Ir\nsummary: 123\n", &ir));
        ASSERT_UINT_EQ(ir, 123);
        ASSERT_OK(bench_callgrind_parse("events: Ir Dr\ntotals: 100 200\n", &ir));
        ASSERT_UINT_EQ(ir, 100);
        ir = 7;
        ASSERT_ERROR(bench_callgrind_parse("events: Ir\n", &ir), EBADMSG);
        ASSERT_ERROR(bench_callgrind_parse("totals: lots\n", &ir), EBADMSG);
        ASSERT_ERROR(bench_callgrind_parse("", &ir), EBADMSG);
        ASSERT_ERROR(bench_callgrind_parse(" totals: 5\n", &ir), EBADMSG);
        ASSERT_UINT_EQ(ir, 7);
}

static void test_machine(void)
{
        struct bench_machine m;
        struct utsname u;
        cpu_set_t set;

        bench_machine_get(&m);
        ASSERT_OK(sched_getaffinity(0, sizeof(set), &set));
        ASSERT_UINT_EQ(m.cpus, CPU_COUNT(&set));
        ASSERT_OK(uname(&u));
        ASSERT_STR_EQ(m.kernel, u.release);
        ASSERT_TRUE(m.cpu_model[0] != '\0');
        ASSERT_TRUE(strchr(m.cpu_model, '\n') == NULL);
}

static void test_latency_from_histogram_and_merge(void)
{
        static struct udk_histogram a, b;
        struct bench_latency l = { .count = 99, .p50 = 1 };

        udk_histogram_reset(&a);
        udk_histogram_reset(&b);
        bench_latency_from_histogram(&a, &l);
        ASSERT_UINT_EQ(l.count, 0);
        ASSERT_FLOAT_EQ(l.p50, 0);
        ASSERT_FLOAT_EQ(l.max, 0);

        /* Below 16 ns a bucket holds one value: the figures are exact. */
        for (uint64_t v = 1; v <= 10; v++)
                udk_histogram_add(&a, v);
        udk_histogram_add(&b, 12);
        udk_histogram_add(&b, 3000); /* bucket [2944, 3072): reported as 3071 clamped to max 3000 */
        bench_latency_from_histogram(&a, &l);
        ASSERT_UINT_EQ(l.count, 10);
        ASSERT_FLOAT_EQ(l.p50, 0.005);
        ASSERT_FLOAT_EQ(l.p99, 0.010);
        ASSERT_FLOAT_EQ(l.max, 0.010);

        bench_histogram_merge(&a, &b);
        bench_latency_from_histogram(&a, &l);
        ASSERT_UINT_EQ(l.count, 12);
        ASSERT_UINT_EQ(atomic_load(&a.sum), 55 + 12 + 3000);
        ASSERT_UINT_EQ(atomic_load(&a.min), 1);
        ASSERT_FLOAT_EQ(l.p50, 0.006);  /* rank 6 */
        ASSERT_FLOAT_EQ(l.p99, 3.000);  /* rank 12 */
        ASSERT_FLOAT_EQ(l.max, 3.000);

        /* An empty source changes nothing; an empty destination takes the source's min and max. */
        udk_histogram_reset(&b);
        bench_histogram_merge(&a, &b);
        ASSERT_UINT_EQ(atomic_load(&a.count), 12);
        bench_histogram_merge(&b, &a);
        ASSERT_UINT_EQ(atomic_load(&b.count), 12);
        ASSERT_UINT_EQ(atomic_load(&b.min), 1);
        ASSERT_UINT_EQ(atomic_load(&b.max), 3000);
}

static void test_proc_stat_cpu_ticks(void)
{
        /* A command name with spaces and parentheses; utime 250, stime 40. */
        static const char text[] = "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 3 0 "
                                   "12345 1000 200 18446744073709551615\n";
        uint64_t ticks = 7;

        ASSERT_OK(bench_proc_stat_cpu_ticks(text, &ticks));
        ASSERT_UINT_EQ(ticks, 290);
        ticks = 7;
        ASSERT_ERROR(bench_proc_stat_cpu_ticks("4242 no parenthesis S 1 2", &ticks), EBADMSG);
        ASSERT_ERROR(bench_proc_stat_cpu_ticks("4242 (x) S 1 2 3\n", &ticks), EBADMSG);
        ASSERT_ERROR(bench_proc_stat_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 25x 40\n", &ticks), EBADMSG);
        ASSERT_ERROR(bench_proc_stat_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 40\n", &ticks), EBADMSG);
        ASSERT_UINT_EQ(ticks, 7);
}

static uint64_t thread_cpu_ns(void)
{
        struct timespec ts;

        ASSERT_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_process_cpu(void)
{
        enum bench_cpu_method method = BENCH_CPU_STAT;
        uint64_t before, after, own_before, own_after, v = 7;
        volatile uint64_t sink = 0;

        ASSERT_OK(bench_process_cpu_ns(getpid(), &before, &method));
        ASSERT_INT_EQ(method, BENCH_CPU_SCHEDSTAT); /* this kernel has schedstat */
        own_before = thread_cpu_ns();
        while (thread_cpu_ns() - own_before < 50000000u)
                sink++;
        own_after = thread_cpu_ns();
        ASSERT_OK(bench_process_cpu_ns(getpid(), &after, NULL));
        /* The run time the kernel counted, against the process's own clock: within 5 ms. */
        ASSERT_TRUE(after - before + 5000000u >= own_after - own_before);
        ASSERT_TRUE(after - before <= own_after - own_before + 5000000u);

        ASSERT_ERROR(bench_process_cpu_ns(999999999, &v, NULL), ENOENT);
        ASSERT_UINT_EQ(v, 7);
        ASSERT_STR_EQ(bench_cpu_method_name(BENCH_CPU_SCHEDSTAT), "schedstat");
        ASSERT_STR_EQ(bench_cpu_method_name(BENCH_CPU_STAT), "stat");
}

static void test_cpu_mask_format(void)
{
        char buf[64];

        bench_cpu_mask_format(0, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, "-");
        bench_cpu_mask_format(0x2, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, "1");
        bench_cpu_mask_format(0x5, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, "0,2");
        bench_cpu_mask_format(UINT64_C(1) << 63 | 1, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, "0,63+");
        bench_cpu_mask_format(0x7, buf, 4); /* what fits: "0,1" */
        ASSERT_STR_EQ(buf, "0,1");
}

/* Parse @args (argv[0] "chain" added) into @o from the defaults. */
static int parse_chain(struct bench_chain_options *o, const char *const *args)
{
        char *argv[16] = { "chain" };
        int argc = 1;

        for (; *args; args++) {
                ASSERT_TRUE(argc < (int)UDK_ELEMENTSOF(argv) - 1);
                argv[argc++] = (char *)*args;
        }
        bench_chain_options_defaults(o);
        return bench_chain_parse_options(argc, argv, o);
}

static void test_chain_options(void)
{
        static const char *const all[] = { "--clients", "16",  "--period", "128",    "--rate", "96000",
                                           "--seconds", "0.5", "--pin",    "--json", NULL };
        struct bench_chain_options o;

        ASSERT_INT_EQ(parse_chain(&o, (const char *[]){ NULL }), 0);
        ASSERT_UINT_EQ(o.clients, 4);
        ASSERT_UINT_EQ(o.period, 64);
        ASSERT_UINT_EQ(o.rate, 48000);
        ASSERT_FLOAT_EQ(o.seconds, 5);
        ASSERT_FALSE(o.pin);
        ASSERT_FALSE(o.json);

        ASSERT_INT_EQ(parse_chain(&o, all), 0);
        ASSERT_UINT_EQ(o.clients, 16);
        ASSERT_UINT_EQ(o.period, 128);
        ASSERT_UINT_EQ(o.rate, 96000);
        ASSERT_FLOAT_EQ(o.seconds, 0.5);
        ASSERT_TRUE(o.pin);
        ASSERT_TRUE(o.json);

        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--clients", "0", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--clients", "17", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--period", "8", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--period", "4097", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--rate", "fast", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--seconds", "0", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--seconds", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--pin=yes", NULL }), EINVAL);
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "extra", NULL }), EINVAL);
        /* A failed option leaves what was parsed before it. */
        ASSERT_ERROR(parse_chain(&o, (const char *[]){ "--clients", "2", "--period", "x", NULL }), EINVAL);
        ASSERT_UINT_EQ(o.clients, 2);
        ASSERT_UINT_EQ(o.period, 64);
}

/* A report with every figure known: 2 clients, the floor at 2 us. */
static void chain_report_fill(struct bench_chain_report *rep)
{
        static const struct bench_latency hop1 = { .count = 100, .p50 = 3, .p99 = 6, .p999 = 9, .max = 12 };
        static const struct bench_latency hop2 = {
                .count = 100, .p50 = 2.5, .p99 = 5, .p999 = 8, .max = 20
        };

        memset(rep, 0, sizeof(*rep));
        bench_chain_options_defaults(&rep->opt);
        rep->opt.clients = 2;
        rep->opt.seconds = 1;
        rep->machine = (struct bench_machine){ .cpus = 2 };
        udk_strlcpy(rep->machine.cpu_model, "AMD EPYC", sizeof(rep->machine.cpu_model));
        udk_strlcpy(rep->machine.kernel, "6.1.0", sizeof(rep->machine.kernel));
        udk_strlcpy(rep->placement, "same-cpu", sizeof(rep->placement));
        rep->server_cpu = 1;
        rep->client_cpu = 1;
        rep->server_realtime = rep->clients_realtime = rep->floor_realtime = true;
        rep->cpu_method = BENCH_CPU_SCHEDSTAT;
        rep->client[0] = (struct bench_chain_client_report){
                .node = 7, .hop = hop1, .from_start = hop1,
                .udkd_wake = { .count = 700, .p50 = 3.1, .p99 = 6.2, .p999 = 9.3, .max = 14 },
                .udkd_busy = { .count = 700, .p50 = 1, .p99 = 2, .p999 = 3, .max = 4 },
                .cycles = 100, .late = 1, .cpus = 0x2, .realtime = true, .cpu_us_per_cycle = 4.25,
        };
        rep->client[1] = (struct bench_chain_client_report){
                .node = 8, .hop = hop2,
                .from_start = { .count = 100, .p50 = 6.5, .p99 = 11, .p999 = 17, .max = 32 },
                .cycles = 100, .cpus = 0x2, .realtime = true, .cpu_us_per_cycle = 4,
        };
        rep->per_hop = (struct bench_latency){ .count = 200, .p50 = 2.75, .p99 = 6, .p999 = 9, .max = 20 };
        rep->first_wake = hop1;
        rep->cycle = (struct bench_latency){ .count = 750, .p50 = 10, .p99 = 20, .p999 = 30, .max = 40 };
        rep->floor = (struct bench_latency){ .count = 300, .p50 = 2, .p99 = 4, .p999 = 6, .max = 8 };
        rep->floor_cpu = 1;
        rep->cpu_per_cycle_us = 10.5;
        rep->server_cpu_per_cycle_us = 2.25;
        rep->cycles = 750;
        rep->late = 1;
}

static void test_chain_targets(void)
{
        static struct bench_chain_report rep;

        chain_report_fill(&rep);
        ASSERT_FLOAT_EQ(bench_chain_floor_ratio(&rep), 1.375);
        ASSERT_TRUE(bench_chain_hop_pass(&rep));
        ASSERT_TRUE(bench_chain_floor_pass(&rep));

        rep.per_hop.p50 = 3.0; /* exactly 1.5 x: still a pass */
        ASSERT_TRUE(bench_chain_floor_pass(&rep));
        rep.per_hop.p50 = 3.01;
        ASSERT_FALSE(bench_chain_floor_pass(&rep));
        rep.per_hop.p50 = 5.0;
        ASSERT_TRUE(bench_chain_hop_pass(&rep));
        rep.per_hop.p50 = 5.01;
        ASSERT_FALSE(bench_chain_hop_pass(&rep));

        rep.floor.count = 0;
        ASSERT_TRUE(isnan(bench_chain_floor_ratio(&rep)));
        ASSERT_FALSE(bench_chain_floor_pass(&rep));
        rep.per_hop.count = 0;
        ASSERT_FALSE(bench_chain_hop_pass(&rep));
}

static char *chain_output(const struct bench_chain_report *rep, bool json)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_NOT_NULL(f);
        if (json)
                bench_chain_print_json(rep, f);
        else
                bench_chain_print_table(rep, f);
        ASSERT_INT_EQ(fclose(f), 0);
        return buf;
}

static void test_chain_json(void)
{
        static const char want_head[] = "{\n"
                                        "  \"per_hop_us\": {\n"
                                        "    \"p50\": 2.750,\n"
                                        "    \"p99\": 6.000,\n"
                                        "    \"p999\": 9.000,\n"
                                        "    \"max\": 20.000\n"
                                        "  },\n"
                                        "  \"first_wake_us\": {\n"
                                        "    \"p50\": 3.000,\n"
                                        "    \"p99\": 6.000,\n"
                                        "    \"p999\": 9.000,\n"
                                        "    \"max\": 12.000\n"
                                        "  },\n"
                                        "  \"cycle_us\": {\n"
                                        "    \"p50\": 10.000,\n"
                                        "    \"p99\": 20.000,\n"
                                        "    \"p999\": 30.000,\n"
                                        "    \"max\": 40.000\n"
                                        "  },\n"
                                        "  \"cpu_per_cycle_us\": 10.500,\n"
                                        "  \"xruns\": 0,\n"
                                        "  \"late\": 1,\n"
                                        "  \"floor_us\": {\n"
                                        "    \"p50\": 2.000,\n"
                                        "    \"p99\": 4.000,\n"
                                        "    \"p999\": 6.000,\n"
                                        "    \"max\": 8.000\n"
                                        "  },\n"
                                        "  \"floor_ratio\": 1.375,\n"
                                        "  \"cycles\": 750,\n"
                                        "  \"server_cpu_per_cycle_us\": 2.250,\n"
                                        "  \"bad_times\": 0,\n"
                                        "  \"clients\": [\n"
                                        "    {\n"
                                        "      \"client\": 1,\n"
                                        "      \"node\": 7,\n"
                                        "      \"hop_us\": {\n";
        static const char *const want_parts[] = {
                "      \"udkd_wake_us\": {\n        \"p50\": 3.100,\n",
                "      \"cycles\": 100,\n      \"late\": 1,\n      \"cpu_per_cycle_us\": 4.250,\n"
                "      \"cpus\": \"1\",\n      \"realtime\": true\n    },\n",
                "      \"client\": 2,\n      \"node\": 8,\n",
                "      \"after_start_us\": {\n        \"p50\": 6.500,\n",
                /* client 2 has no udkd figures */
                "      \"udkd_wake_us\": null,\n      \"udkd_busy_us\": null,\n",
                "  \"targets\": {\n    \"per_hop_p50\": {\n      \"us\": 2.750,\n      \"limit_us\": 5.0,\n"
                "      \"pass\": true\n    },\n    \"floor_ratio\": {\n      \"ratio\": 1.375,\n"
                "      \"limit\": 1.50,\n      \"pass\": true\n    }\n  },\n",
                "    \"placement\": \"same-cpu\",\n    \"server_cpu\": 1,\n    \"client_cpu\": 1,\n",
                "    \"cpu_method\": \"schedstat\",\n",
                "  \"machine\": {\n    \"cpus\": 2,\n    \"cpu_model\": \"AMD EPYC\",\n"
                "    \"kernel\": \"6.1.0\"\n  }\n}\n",
        };
        static struct bench_chain_report rep;
        char *text;

        chain_report_fill(&rep);
        text = chain_output(&rep, true);
        ASSERT_TRUE(strncmp(text, want_head, strlen(want_head)) == 0);
        for (size_t i = 0; i < UDK_ELEMENTSOF(want_parts); i++)
                ASSERT_STR_CONTAINS(text, want_parts[i]);
        free(text);

        /* Unknown figures are null; without a floor the ratio and its verdict are too. */
        rep.floor.count = 0;
        rep.cycle.count = 0;
        rep.server_cpu = -1;
        text = chain_output(&rep, true);
        ASSERT_STR_CONTAINS(text, "  \"cycle_us\": null,\n");
        ASSERT_STR_CONTAINS(text, "  \"floor_us\": null,\n  \"floor_ratio\": null,\n");
        ASSERT_STR_CONTAINS(text, "      \"ratio\": null,\n      \"limit\": 1.50,\n      \"pass\": null\n");
        ASSERT_STR_CONTAINS(text, "    \"server_cpu\": null,\n");
        free(text);
}

static void test_chain_table(void)
{
        static const char head[] =
                "udk-bench chain: 2 clients in a chain, 64 frames at 48000 Hz (1333.3 us a cycle)\n"
                "AMD EPYC, 2 CPUs, Linux 6.1.0\n"
                "placement same-cpu: udkd's RT thread on CPU 1, SCHED_FIFO 70; "
                "clients' RT threads placed on CPU 1, ran on CPU 1, SCHED_FIFO 60\n"
                "measured 750 cycles in 1 s\n";
        static const char clients[] =
                "  client  woken by      p50     p99   p99.9     max"
                "      p50     p99   p99.9     max      p50     p99  busy p50  late\n"
                "       1  udkd           3.0     6.0     9.0    12.0"
                "      3.0     6.0     9.0    12.0      3.1     6.2       1.0     1\n"
                "       2  client 1       2.5     5.0     8.0    20.0"
                "      6.5    11.0    17.0    32.0        -       -         -     0\n";
        static const char summary[] =
                "Summary in us                                    p50     p99   p99.9     max\n"
                "  per hop: every client's hop                    2.8     6.0     9.0    20.0\n"
                "  first client's wake after the cycle start      3.0     6.0     9.0    12.0\n"
                "  cycle: udkd's first trigger to last finish    10.0    20.0    30.0    40.0\n"
                "  floor: futex ping-pong hop                     2.0     4.0     6.0     8.0\n";
        static const char cpu[] = "CPU per cycle: 10.50 us (udkd 2.25 us, clients 8.25 us; "
                                  "threads' run time from schedstat); xruns 0; late 1\n";
        static const char pass[] =
                "  per-hop wake p50 <= 5.0 us: 2.75 us  PASS\n"
                "  per-hop wake p50 <= 1.5 x floor p50 (2.00 us) = 3.00 us: 2.75 us, 1.38 x  PASS\n";
        static const char fail[] =
                "  per-hop wake p50 <= 5.0 us: 6.00 us  FAIL\n"
                "  per-hop wake p50 <= 1.5 x floor p50 (2.00 us) = 3.00 us: 6.00 us, 3.00 x  FAIL\n";
        static struct bench_chain_report rep;
        char *text;

        chain_report_fill(&rep);
        text = chain_output(&rep, false);
        ASSERT_TRUE(strncmp(text, head, strlen(head)) == 0);
        ASSERT_STR_CONTAINS(text, clients);
        ASSERT_STR_CONTAINS(text, summary);
        ASSERT_STR_CONTAINS(text, "  floor: two processes, SCHED_FIFO 60, both on CPU 1.\n");
        ASSERT_STR_CONTAINS(text, cpu);
        ASSERT_STR_CONTAINS(text, pass);
        free(text);

        rep.per_hop.p50 = 6;
        rep.floor_realtime = false;
        rep.floor_cpu = -1;
        rep.bad_times = 3;
        text = chain_output(&rep, false);
        ASSERT_STR_CONTAINS(text, "  floor: two processes, normal priority, not pinned.\n");
        ASSERT_STR_CONTAINS(text, "  3 cycles left out: their times were out of order\n");
        ASSERT_STR_CONTAINS(text, fail);
        free(text);

        rep.floor.count = 0;
        text = chain_output(&rep, false);
        ASSERT_STR_CONTAINS(text, "  per-hop wake p50 <= 1.5 x floor p50: no floor  n/a\n");
        free(text);
}

static void test_chain_messages(void)
{
        static struct bench_chain_msg out, in;
        int fds[2];

        ASSERT_OK(pipe2(fds, O_CLOEXEC));
        memset(&out, 0, sizeof(out));
        out.kind = BENCH_CHAIN_MSG_RESULT;
        out.node = 42;
        out.cycles = 1234;
        udk_histogram_reset(&out.hop);
        udk_histogram_add(&out.hop, 5000);
        /* Larger than a pipe's atomic write: the reader puts the pieces together. */
        ASSERT_TRUE(sizeof(out) > 4096);
        if (fork() == 0) {
                close(fds[0]);
                _exit(bench_chain_msg_write(fds[1], &out) == 0 ? 0 : 1);
        }
        close(fds[1]);
        ASSERT_OK(bench_chain_msg_read(fds[0], &in, 5000));
        ASSERT_INT_EQ(memcmp(&in, &out, sizeof(in)), 0);
        /* The writer is gone: end of file. */
        ASSERT_ERROR(bench_chain_msg_read(fds[0], &in, 5000), EPIPE);
        close(fds[0]);

        /* Nothing comes: a time-out. */
        ASSERT_OK(pipe2(fds, O_CLOEXEC));
        ASSERT_ERROR(bench_chain_msg_read(fds[0], &in, 50), ETIMEDOUT);
        close(fds[0]);
        close(fds[1]);
}

static void test_chain_client_no_server(void)
{
        static struct bench_chain_shared shared;
        static struct bench_chain_msg msg;
        struct bench_chain_client_setup setup = {
                .index = 0,
                .socket_path = "/nonexistent/udk-bench/udkd.sock",
                .shared = &shared,
                .timeout_s = 1,
        };
        int control[2], result[2];

        ASSERT_OK(pipe2(control, O_CLOEXEC));
        ASSERT_OK(pipe2(result, O_CLOEXEC));
        setup.control_fd = control[0];
        setup.result_fd = result[1];
        ASSERT_INT_EQ(bench_chain_client_run(&setup), 1);
        ASSERT_OK(bench_chain_msg_read(result[0], &msg, 1000));
        ASSERT_UINT_EQ(msg.kind, BENCH_CHAIN_MSG_ERROR);
        ASSERT_INT_EQ(msg.status, -ENOENT);
        ASSERT_STR_EQ(msg.error, "client 1: cannot connect to udkd at /nonexistent/udk-bench/udkd.sock: "
                                 "No such file or directory");
}

static void test_pingpong(void)
{
        struct bench_pingpong_setup setup = {
                .seconds = 0.2,
                .period_ns = 1000000,
                .round_trips = 2,
                .priority = 0,
                .cpu = 0,
        };
        struct bench_pingpong_result res = { .realtime = true };

        ASSERT_OK(bench_pingpong_run(&setup, &res));
        /* About 200 periods of 4 hops; a loaded machine may skip some periods. */
        ASSERT_TRUE(res.hop.count >= 200);
        ASSERT_TRUE(res.hop.count <= 4 * 200);
        ASSERT_UINT_EQ(res.hop.count % 2, 0);
        ASSERT_TRUE(res.hop.p50 > 0);
        ASSERT_TRUE(res.hop.p50 <= res.hop.p99);
        ASSERT_TRUE(res.hop.p99 <= res.hop.p999);
        ASSERT_TRUE(res.hop.p999 <= res.hop.max);
        ASSERT_FALSE(res.realtime); /* priority 0: normal */

        setup.round_trips = 0;
        res.hop.count = 12345;
        ASSERT_ERROR(bench_pingpong_run(&setup, &res), EINVAL);
        ASSERT_UINT_EQ(res.hop.count, 12345);
        setup.round_trips = 1;
        setup.seconds = 0;
        ASSERT_ERROR(bench_pingpong_run(&setup, &res), EINVAL);
}

/* Run the udk-bench under test with @args. */
static void run_bench(const char *const *args, struct bench_child_output *o)
{
        const char *bench = getenv("UDK_BENCH");
        char *argv[32];
        size_t n = 0;

        if (!bench)
                UDK_TEST_SKIP("UDK_BENCH is not set");
        argv[n++] = (char *)bench;
        for (; *args && n < UDK_ELEMENTSOF(argv) - 1; args++)
                argv[n++] = (char *)*args;
        argv[n] = NULL;
        ASSERT_OK(bench_run(argv, o));
}

static void test_usage_errors(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "cycle", "--bogus", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(o.err, "udk-bench cycle: unknown option '--bogus'\n"
                             "Try 'udk-bench cycle --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "cycle", "--cycles", "0", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench cycle: --cycles '0': not a whole number in 1..1000000000\n"
                             "Try 'udk-bench cycle --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "cycle", "--seconds", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_CONTAINS(o.err, "option '--seconds' needs an argument");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "frobnicate", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench: unknown command 'frobnicate'\n"
                             "Try 'udk-bench --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "  cycle ");
        ASSERT_TRUE(strstr(o.out, "cycle-inner") == NULL); /* hidden */
        bench_child_output_free(&o);
}

static void test_cycle_inner(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "cycle-inner", "--handlers", "4", "--cycles", "100", NULL }, &o);
        ASSERT_STR_EQ(o.err, "");
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_EQ(o.out, "");
        bench_child_output_free(&o);

        /* A plugin that is not there: say where it was looked for, exit 1. */
        run_bench((const char *[]){ "cycle-inner", "--handlers", "1", "--plugin-path", "/nonexistent/dsp",
                                    NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_CONTAINS(o.err, "no DSP plugin \"gain\" (udk-dsp-gain.so) in /nonexistent/dsp");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "cycle-inner", "--source", "noise", NULL }, &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_CONTAINS(o.err, "cannot set source to noise");
        bench_child_output_free(&o);
}

static void test_cycle_json(void)
{
        static const char *const keys[] = {
                "{\n  \"results\": [\n    {\n      \"period\": 64,\n",
                "      \"period\": 64,\n      \"handlers\": 0,\n      \"ns_per_cycle\": ",
                "\"handlers\": 1,\n      \"ns_per_cycle\": ",
                "\"handlers\": 4,\n      \"ns_per_cycle\": ",
                "\"instructions_per_cycle\": ",
                "\"wake\": [\n    {\n      \"period\": 16,\n      \"udk_us\": {\n        \"p50\": ",
                "\"period\": 64,\n      \"udk_us\"",
                "\"period\": 256,\n      \"udk_us\"",
                "\"p999\": ",
                "\"cyclictest_us\": null",
                "\"cyclictest_note\": \"cyclictest not run (--no-cyclictest)\"",
                "\"bare_loop_ns\": ",
                "\"priority\": 0,",
                "\"gain_level_db\": \"-1\"",
        };
        struct bench_child_output o;

        run_bench((const char *[]){ "cycle", "--json", "--seconds", "0.05", "--cycles", "2000",
                                    "--no-cyclictest", "--no-callgrind", "--priority", "0", NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 0);
        for (size_t i = 0; i < UDK_ELEMENTSOF(keys); i++)
                ASSERT_STR_CONTAINS(o.out, keys[i]);
        ASSERT_TRUE(o.out_len > 2 && strcmp(o.out + o.out_len - 2, "}\n") == 0);
        /* Progress stays on stderr. */
        ASSERT_STR_CONTAINS(o.err, "udk-bench: info: cycle cost: run 1 of 5");
        bench_child_output_free(&o);
}

static void test_chain_usage_errors(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "chain", "--clients", "0", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(o.err, "udk-bench chain: --clients '0': not a whole number in 1..16\n"
                             "Try 'udk-bench chain --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "chain", "--seconds", "forever", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench chain: --seconds 'forever': not a number of seconds (0.1..3600)\n"
                             "Try 'udk-bench chain --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "chain", "--pin", "--bogus", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench chain: unknown option '--bogus'\n"
                             "Try 'udk-bench chain --help' for more information.\n");
        bench_child_output_free(&o);

        ASSERT_OK(setenv("UDKD", "/nonexistent/udkd", 1));
        run_bench((const char *[]){ "chain", "--seconds", "0.1", NULL }, &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(o.err, "udk-bench: error: UDKD=/nonexistent/udkd is not an executable\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "chain", "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "Usage: udk-bench chain [OPTION]...\n");
        ASSERT_STR_CONTAINS(o.out, "      --clients N   clients in the chain (1..16, default 4)\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "  chain      wake times of N clients chained on udkd");
        bench_child_output_free(&o);
}

/* The whole number after @key in @text; fails when there is none. */
static uint64_t json_uint(const char *text, const char *key)
{
        const char *p = strstr(text, key);
        char digits[32];
        int64_t v;
        size_t len;

        ASSERT_NOT_NULL(p);
        p += strlen(key);
        len = strspn(p, "0123456789");
        ASSERT_TRUE(len > 0 && len < sizeof(digits));
        memcpy(digits, p, len);
        digits[len] = '\0';
        ASSERT_OK(udk_parse_int64(digits, 0, INT64_MAX, &v));
        return (uint64_t)v;
}

static void test_chain_run(void)
{
        static const char *const keys[] = {
                "{\n  \"per_hop_us\": {\n    \"p50\": ",
                "  \"first_wake_us\": {\n    \"p50\": ",
                "  \"cycle_us\": {\n    \"p50\": ",
                "  \"cpu_per_cycle_us\": ",
                "  \"floor_us\": {\n    \"p50\": ",
                "    \"p999\": ",
                "      \"client\": 2,\n",
                "    \"clients\": 2,\n",
                "    \"placement\": \"",
        };
        struct bench_child_output o;

        if (!getenv("UDKD"))
                UDK_TEST_SKIP("UDKD is not set (run through meson test)");
        run_bench((const char *[]){ "chain", "--clients", "2", "--seconds", "1", "--json", NULL }, &o);
        if (o.status != 0)
                udk_test_fail("udk-bench chain exited %d; stderr: %s", o.status, o.err);
        for (size_t i = 0; i < UDK_ELEMENTSOF(keys); i++)
                ASSERT_STR_CONTAINS(o.out, keys[i]);
        /* 1 s of 64-frame cycles at 48 kHz is 750; allow for a loaded machine. */
        ASSERT_TRUE(json_uint(o.out, "\n  \"cycles\": ") > 300);
        ASSERT_TRUE(json_uint(o.out, "\n  \"xruns\": ") < 1000000);
        ASSERT_TRUE(json_uint(o.out, "\n  \"late\": ") < 1000000);
        ASSERT_TRUE(o.out_len > 2 && strcmp(o.out + o.out_len - 2, "}\n") == 0);
        ASSERT_STR_CONTAINS(o.err, "udk-bench: info: chain: measuring 1 s");
        bench_child_output_free(&o);
}

/* --- udk-bench latency: the multi-tone analysis, its report, and real runs --- */

/* @n frames of the tones as they come back, frame i captured at @t0 + i: tone k delayed by
 * @delays[k] frames (made analytically, so any fraction), times @gain (-1: inverted), plus
 * uniform white noise of RMS @noise_rms. */
static void mtdm_synth_tones(const struct bench_mtdm *m, uint64_t t0, const double *delays, double gain,
                             double noise_rms, float *out, size_t n)
{
        uint64_t seed = 0x9e3779b97f4a7c15u;

        for (size_t i = 0; i < n; i++) {
                double x = 0.0;

                for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                        double period = (double)(m->period0 << k);
                        x += sin(2.0 * M_PI * fmod((double)(t0 + i) - delays[k], period) / period);
                }
                x *= BENCH_MTDM_AMPLITUDE * gain;
                /* xorshift64: the same noise every run. */
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                x += noise_rms * sqrt(3.0) * ((double)(seed >> 11) / (double)(UINT64_C(1) << 52) - 1.0);
                out[i] = (float)x;
        }
}

static void mtdm_synth(const struct bench_mtdm *m, uint64_t t0, double delay, bool inverted,
                       double noise_rms, float *out, size_t n)
{
        double delays[BENCH_MTDM_TONES];

        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                delays[k] = delay;
        mtdm_synth_tones(m, t0, delays, inverted ? -1.0 : 1.0, noise_rms, out, n);
}

static void test_mtdm_create(void)
{
        static const struct {
                uint32_t rate, period0;
        } cases[] = {
                { 8000, 4 },   { 16000, 4 },  { 22050, 8 },  { 32000, 8 },   { 44100, 16 },
                { 48000, 16 }, { 88200, 32 }, { 96000, 32 }, { 192000, 64 }, { 768000, 64 },
        };
        struct bench_mtdm *m = NULL;

        for (size_t i = 0; i < UDK_ELEMENTSOF(cases); i++) {
                ASSERT_OK(bench_mtdm_create(cases[i].rate, &m));
                ASSERT_UINT_EQ(m->rate, cases[i].rate);
                ASSERT_UINT_EQ(m->period0, cases[i].period0);
                ASSERT_UINT_EQ(m->range, cases[i].period0 * 512);
                ASSERT_FLOAT_EQ(m->table[0], 0.0f);
                ASSERT_FLOAT_EQ(m->table[m->range / 4], 1.0f);
                ASSERT_FLOAT_EQ(m->ref[m->range / 4 * 3], -1.0);
                m = bench_mtdm_destroy(m);
                ASSERT_PTR_EQ(m, NULL);
        }
        ASSERT_ERROR(bench_mtdm_create(0, &m), EINVAL);
        ASSERT_PTR_EQ(m, NULL); /* untouched */
        ASSERT_PTR_EQ(bench_mtdm_destroy(NULL), NULL);
        ASSERT_STR_EQ(bench_mtdm_status_name(BENCH_MTDM_OK), "ok");
        ASSERT_STR_EQ(bench_mtdm_status_name(BENCH_MTDM_NO_SIGNAL), "no signal");
        ASSERT_STR_EQ(bench_mtdm_status_name(BENCH_MTDM_PHASES_DISAGREE), "phases disagree");
        ASSERT_STR_EQ(bench_mtdm_status_name((enum bench_mtdm_status)7), "unknown");
}

static void test_mtdm_generate(void)
{
        static float got[2 * 1000], want[1000];
        struct bench_mtdm *m;

        ASSERT_OK(bench_mtdm_create(48000, &m));
        for (size_t i = 0; i < UDK_ELEMENTSOF(got); i++)
                got[i] = 7.0f;
        /* Interleaved stereo: the first channel only; the sample times past 2^32. */
        bench_mtdm_generate(m, UINT64_C(5000000000), got, 1000, 2);
        mtdm_synth(m, UINT64_C(5000000000), 0.0, false, 0.0, want, 1000);
        for (size_t i = 0; i < 1000; i++) {
                ASSERT_NEAR(got[2 * i], want[i], 1e-6);
                ASSERT_FLOAT_EQ(got[2 * i + 1], 7.0f);
        }
        /* Every tone starts at 0 at sample time 0, and again a range later. */
        bench_mtdm_generate(m, 0, got, 1, 1);
        ASSERT_FLOAT_EQ(got[0], 0.0f);
        bench_mtdm_generate(m, 3 * (uint64_t)m->range, got, 1, 1);
        ASSERT_FLOAT_EQ(got[0], 0.0f);
        bench_mtdm_destroy(m);
}

/* Analyse 4 ranges and a bit of @delay (-1: an integer delay of the generator's own output). */
static void mtdm_check(uint32_t rate, double delay, bool inverted, double noise_rms, double tolerance)
{
        const uint64_t t0 = 1000003;
        struct bench_mtdm_result res;
        struct bench_mtdm *m;
        size_t n;
        float *in;

        ASSERT_OK(bench_mtdm_create(rate, &m));
        n = 4 * (size_t)m->range + 100;
        in = calloc(n, sizeof(*in));
        ASSERT_NOT_NULL(in);
        mtdm_synth(m, t0, delay, inverted, noise_rms, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, t0, in, n, &res));
        if (res.status != BENCH_MTDM_OK || fabs(res.delay - delay) > tolerance || res.inverted != inverted)
                udk_test_fail("%u Hz, delay %g%s, noise %g: status %s, found %.6f%s (max step %.3f)", rate,
                              delay, inverted ? " inverted" : "", noise_rms,
                              bench_mtdm_status_name(res.status), res.delay, res.inverted ? " inverted" : "",
                              res.max_step);
        ASSERT_UINT_EQ(res.frames, 4 * (uint64_t)m->range);
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                ASSERT_UINT_EQ(res.tones[k].period, m->period0 << k);
                ASSERT_FLOAT_EQ(res.tones[k].frequency, (double)rate / (m->period0 << k));
                ASSERT_NEAR(res.tones[k].level_db, 0.0, noise_rms > 0 ? 0.1 : 0.001);
                /* Every tone's own estimate, the slowest's included, is near the delay. */
                ASSERT_NEAR(res.tones[k].delay, delay, noise_rms > 0 ? 2.0 : 0.01);
        }
        ASSERT_FLOAT_EQ(res.tones[BENCH_MTDM_TONES - 1].step, 0.0);
        ASSERT_TRUE(res.max_step < (noise_rms > 0 ? 0.01 : 0.0001));
        ASSERT_NEAR(res.min_level_db, 0.0, noise_rms > 0 ? 0.1 : 0.001);
        free(in);
        bench_mtdm_destroy(m);
}

static const double mtdm_delays[] = { 0, 1, 200, 1234.5, 3000.25 };

static void test_mtdm_delays(void)
{
        for (size_t i = 0; i < UDK_ELEMENTSOF(mtdm_delays); i++) {
                mtdm_check(48000, mtdm_delays[i], false, 0.0, 0.01);
                mtdm_check(48000, mtdm_delays[i], true, 0.0, 0.01);
                mtdm_check(96000, mtdm_delays[i], false, 0.0, 0.01);
                mtdm_check(44100, mtdm_delays[i], true, 0.0, 0.01);
        }
        /* Other fractions, and the far end of the range (8192 - 16 frames at 48 kHz). */
        mtdm_check(48000, 0.125, false, 0.0, 0.01);
        mtdm_check(48000, 77.875, true, 0.0, 0.01);
        mtdm_check(48000, 8175.5, false, 0.0, 0.01);
}

static void test_mtdm_delays_with_noise(void)
{
        /* White noise at -40 dBFS RMS: 21 dB below the tones together, 11 dB below each. */
        for (size_t i = 0; i < UDK_ELEMENTSOF(mtdm_delays); i++) {
                mtdm_check(48000, mtdm_delays[i], false, 0.01, 0.1);
                mtdm_check(48000, mtdm_delays[i], true, 0.01, 0.1);
        }
}

static void test_mtdm_generated_and_delayed(void)
{
        /* The generator's own float output, delayed by a whole number of frames as a loopback does. */
        const uint64_t t0 = 123456789;
        const size_t delay = 333, n = 3 * 8192;
        struct bench_mtdm_result res;
        struct bench_mtdm *m;
        float *out = calloc(n, sizeof(float));

        ASSERT_NOT_NULL(out);
        ASSERT_OK(bench_mtdm_create(48000, &m));
        /* Captured at t0 + i: what was played at t0 + i - delay. */
        bench_mtdm_generate(m, t0 - delay, out, (uint32_t)n, 1);
        ASSERT_OK(bench_mtdm_analyse(m, t0, out, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_OK);
        ASSERT_NEAR(res.delay, 333.0, 0.001);
        ASSERT_FALSE(res.inverted);
        ASSERT_UINT_EQ(res.frames, n);
        free(out);
        bench_mtdm_destroy(m);
}

static void test_mtdm_no_signal(void)
{
        double zero[BENCH_MTDM_TONES] = { 0 }, delays[BENCH_MTDM_TONES];
        struct bench_mtdm_result res = { .delay = 12345 };
        struct bench_mtdm *m;
        const size_t n = 2 * 8192;
        float *in = calloc(n, sizeof(*in));

        ASSERT_NOT_NULL(in);
        ASSERT_OK(bench_mtdm_create(48000, &m));

        /* Shorter than one range: nothing to analyse, and *ret untouched. */
        ASSERT_ERROR(bench_mtdm_analyse(m, 0, in, m->range - 1, &res), EINVAL);
        ASSERT_FLOAT_EQ(res.delay, 12345);

        /* Silence. */
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_NO_SIGNAL);
        ASSERT_TRUE(isnan(res.delay));
        ASSERT_FALSE(res.inverted);
        ASSERT_FLOAT_EQ(res.min_level_db, -200.0);
        ASSERT_FLOAT_EQ(res.tones[0].level_db, -200.0);
        ASSERT_TRUE(isnan(res.tones[3].delay));
        ASSERT_UINT_EQ(res.frames, n);

        /* Noise alone at -40 dBFS. */
        mtdm_synth_tones(m, 0, zero, 0.0, 0.01, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_NO_SIGNAL);
        ASSERT_TRUE(res.min_level_db < BENCH_MTDM_LEVEL_MIN_DB);
        ASSERT_TRUE(res.min_level_db > -80.0);

        /* The tones 50 dB down: too weak.  At 30 dB down they are measured. */
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                delays[k] = 200.0;
        mtdm_synth_tones(m, 0, delays, pow(10.0, -50.0 / 20.0), 0.0, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_NO_SIGNAL);
        ASSERT_NEAR(res.min_level_db, -50.0, 0.001);
        mtdm_synth_tones(m, 0, delays, pow(10.0, -30.0 / 20.0), 0.0, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_OK);
        ASSERT_NEAR(res.min_level_db, -30.0, 0.001);
        ASSERT_NEAR(res.delay, 200.0, 0.01);
        free(in);
        bench_mtdm_destroy(m);
}

static void test_mtdm_phases_disagree(void)
{
        /* The slowest tone 0.4 of the next one's period (0.4 x 4096 frames) away from the others. */
        double delays[BENCH_MTDM_TONES];
        struct bench_mtdm_result res;
        struct bench_mtdm *m;
        const size_t n = 8192;
        float *in = calloc(n, sizeof(*in));

        ASSERT_NOT_NULL(in);
        ASSERT_OK(bench_mtdm_create(48000, &m));
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++)
                delays[k] = 200.0;
        delays[BENCH_MTDM_TONES - 1] = 200.0 + 0.4 * 4096;
        mtdm_synth_tones(m, 0, delays, 1.0, 0.0, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_PHASES_DISAGREE);
        ASSERT_NEAR(res.max_step, 0.4, 1e-4);
        ASSERT_NEAR(res.tones[BENCH_MTDM_TONES - 2].step, -0.4, 1e-4);
        ASSERT_NEAR(res.delay, 200.0, 0.01); /* what the faster tones agree on */

        /* 0.2 of a period is still within BENCH_MTDM_STEP_MAX. */
        delays[BENCH_MTDM_TONES - 1] = 200.0 + 0.2 * 4096;
        mtdm_synth_tones(m, 0, delays, 1.0, 0.0, in, n);
        ASSERT_OK(bench_mtdm_analyse(m, 0, in, n, &res));
        ASSERT_INT_EQ(res.status, BENCH_MTDM_OK);
        ASSERT_NEAR(res.max_step, 0.2, 1e-4);
        free(in);
        bench_mtdm_destroy(m);
}

static void latency_report_fill(struct bench_latency_report *rep)
{
        memset(rep, 0, sizeof(*rep));
        udk_strlcpy(rep->device, "loop", sizeof(rep->device));
        rep->rate = 48000;
        rep->period = 64;
        rep->input_latency = 10;
        rep->output_latency = 190;
        rep->period0 = 16;
        rep->range = 8192;
        rep->result.status = BENCH_MTDM_OK;
        rep->result.delay = 200.2504;
        rep->result.frames = 32768;
        for (unsigned k = 0; k < BENCH_MTDM_TONES; k++) {
                struct bench_mtdm_tone *t = &rep->result.tones[k];

                t->period = 16u << k;
                t->frequency = 48000.0 / t->period;
                t->level_db = -0.5 * k - 0.0001; /* tone 1: -0.0001, printed as 0 */
                t->phase_deg = 10.0 * k + 0.25;
                t->delay = 200.2504 + 0.5 * k;
        }
}

static char *latency_output(const struct bench_latency_report *rep, bool json)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_NOT_NULL(f);
        if (json)
                bench_latency_print_json(rep, f);
        else
                bench_latency_print_table(rep, f);
        ASSERT_INT_EQ(fclose(f), 0);
        return buf;
}

static void test_latency_json(void)
{
        static const char head[] = "{\n"
                                   "  \"device\": \"loop\",\n"
                                   "  \"rate\": 48000,\n"
                                   "  \"measured_frames\": 200.250,\n"
                                   "  \"reported_frames\": 200,\n"
                                   "  \"difference_frames\": 0.250,\n"
                                   "  \"measured_ms\": 4.172,\n"
                                   "  \"inverted\": false,\n"
                                   "  \"tones\": [\n"
                                   "    {\n"
                                   "      \"frequency_hz\": 3000.000,\n"
                                   "      \"period_frames\": 16,\n"
                                   "      \"level_db\": 0.00,\n"
                                   "      \"phase_deg\": 0.250,\n"
                                   "      \"delay_frames\": 200.250\n"
                                   "    },\n"
                                   "    {\n"
                                   "      \"frequency_hz\": 1500.000,\n";
        static const char tail[] = "    {\n"
                                   "      \"frequency_hz\": 5.859,\n"
                                   "      \"period_frames\": 8192,\n"
                                   "      \"level_db\": -4.50,\n"
                                   "      \"phase_deg\": 90.250,\n"
                                   "      \"delay_frames\": 204.750\n"
                                   "    }\n"
                                   "  ],\n"
                                   "  \"reported_ms\": 4.167,\n"
                                   "  \"input_latency_frames\": 10,\n"
                                   "  \"output_latency_frames\": 190,\n"
                                   "  \"period\": 64,\n"
                                   "  \"range_frames\": 8192,\n"
                                   "  \"analysed_frames\": 32768,\n"
                                   "  \"missed_cycles\": 0\n"
                                   "}\n";
        static struct bench_latency_report rep;
        char *text;
        size_t len;

        latency_report_fill(&rep);
        text = latency_output(&rep, true);
        len = strlen(text);
        ASSERT_TRUE(strncmp(text, head, strlen(head)) == 0);
        ASSERT_TRUE(len > strlen(tail));
        ASSERT_STR_EQ(text + len - strlen(tail), tail);
        free(text);

        /* Inverted, measured a hair under the reported, cycles missed. */
        rep.result.inverted = true;
        rep.result.delay = 199.9999;
        rep.missed_cycles = 3;
        text = latency_output(&rep, true);
        ASSERT_STR_CONTAINS(text, "  \"measured_frames\": 200.000,\n  \"reported_frames\": 200,\n"
                                  "  \"difference_frames\": 0.000,\n  \"measured_ms\": 4.167,\n"
                                  "  \"inverted\": true,\n");
        ASSERT_STR_CONTAINS(text, "  \"missed_cycles\": 3\n}\n");
        free(text);
}

static void test_latency_table(void)
{
        static const char head[] =
                "udk-bench latency: device loop, 48000 Hz, 64 frames a cycle\n"
                "10 tones, 3000.0 Hz down to 5.9 Hz: range 8192 frames (170.667 ms); 32768 frames analysed\n"
                "\n"
                "                  frames          ms\n"
                "  measured       200.250       4.172\n"
                "  reported           200       4.167   input 10 + output 190\n"
                "  difference       0.250       0.005   measured - reported\n"
                "\n"
                "polarity: normal\n"
                "\n"
                "  tone        Hz  period  level dB  phase deg  delay frames\n"
                "     1    3000.0      16      0.00        0.2       200.250\n"
                "     2    1500.0      32     -0.50       10.2       200.750\n";
        static const char last[] = "    10       5.9    8192     -4.50       90.2       204.750\n";
        static struct bench_latency_report rep;
        char *text;
        size_t len;

        latency_report_fill(&rep);
        text = latency_output(&rep, false);
        len = strlen(text);
        ASSERT_TRUE(strncmp(text, head, strlen(head)) == 0);
        ASSERT_STR_EQ(text + len - strlen(last), last);
        ASSERT_TRUE(strstr(text, "missed") == NULL);
        free(text);

        rep.result.inverted = true;
        rep.result.delay = -0.0001;
        rep.missed_cycles = 2;
        text = latency_output(&rep, false);
        ASSERT_STR_CONTAINS(text, "  measured         0.000       0.000\n");
        ASSERT_STR_CONTAINS(text, "  difference    -200.000      -4.167   measured - reported\n");
        ASSERT_STR_CONTAINS(text, "\npolarity: inverted (the signal came back upside down)\n"
                                  "2 cycles missed while recording: the result may be off\n");
        free(text);
}

static void test_latency_usage_errors(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "latency", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(o.err, "udk-bench latency: no DEVICE to measure\n"
                             "Try 'udk-bench latency --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "latency", "loop", "extra", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench latency: unexpected argument 'extra'\n"
                             "Try 'udk-bench latency --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "latency", "loop", "--seconds", "0", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench latency: --seconds '0': not a number of seconds (0.1..3600)\n"
                             "Try 'udk-bench latency --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "latency", "loop", "--socket", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench latency: option '--socket' needs an argument\n"
                             "Try 'udk-bench latency --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "latency", "loop", "--loud", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench latency: unknown option '--loud'\n"
                             "Try 'udk-bench latency --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench(
                (const char *[]){ "latency", "loop", "--socket", "/nonexistent/udk-bench/udkd.sock", NULL },
                &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(o.err, "udk-bench: error: udkd is not running (no socket at "
                             "/nonexistent/udk-bench/udkd.sock)\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "latency", "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "Usage: udk-bench latency DEVICE [OPTION]...\n");
        ASSERT_STR_CONTAINS(o.out, "      --seconds S   record S seconds of the returned tones (0.1..3600, "
                                   "default 2)\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "  latency    a device's round trip through a loopback");
        bench_child_output_free(&o);
}

/* The number after @key in @text (fails when there is none). */
static double latency_json_number(const char *text, const char *key)
{
        const char *p = strstr(text, key);
        char digits[64];
        double v;
        size_t len;

        if (!p)
                udk_test_fail("no %s in \"%s\"", key, text);
        p += strlen(key);
        len = strspn(p, "-0123456789.");
        ASSERT_TRUE(len > 0 && len < sizeof(digits));
        memcpy(digits, p, len);
        digits[len] = '\0';
        ASSERT_OK(udk_parse_double(digits, -1e9, 1e9, &v));
        return v;
}

/* `udk-bench latency @device --seconds 1 --json` on @p: measured and reported within 0.1 frame of @want. */
static void latency_run_check(struct proc *p, const char *device, uint32_t rate, double want)
{
        struct bench_child_output o;
        char rate_text[64];
        double measured;

        run_bench((const char *[]){ "latency", device, "--seconds", "1", "--json", "--socket", p->socket,
                                    NULL },
                  &o);
        /* A stream the host stalled for long enough (udkd suspended it) is the machine's doing. */
        if (o.status != 0 && strstr(o.err, "the stream stalled"))
                UDK_TEST_RETRY("udk-bench latency %s: %s", device, o.err);
        if (o.status != 0)
                udk_test_fail("udk-bench latency %s exited %d; stderr: %s; udkd: %s", device, o.status,
                              o.err, p->err);
        measured = latency_json_number(o.out, "\n  \"measured_frames\": ");
        ASSERT_NEAR(measured, want, 0.1);
        ASSERT_NEAR(measured, latency_json_number(o.out, "\n  \"reported_frames\": "), 0.1);
        ASSERT_NEAR(latency_json_number(o.out, "\n  \"difference_frames\": "), 0.0, 0.1);
        ASSERT_NEAR(latency_json_number(o.out, "\n  \"measured_ms\": "), want * 1000.0 / rate, 0.01);
        snprintf(rate_text, sizeof(rate_text), "\n  \"rate\": %u,\n", rate);
        ASSERT_STR_CONTAINS(o.out, rate_text);
        ASSERT_STR_CONTAINS(o.out, "\n  \"inverted\": false,\n  \"tones\": [\n");
        /* A missed cycle (a loaded machine) is counted, not a failure: the phases are taken
         * against the sample times, which a gap does not shift. */
        ASSERT_STR_CONTAINS(o.out, "\n  \"missed_cycles\": ");
        ASSERT_STR_CONTAINS(o.err, "udk-bench: info: latency: playing 10 tones on ");
        bench_child_output_free(&o);
}

static void test_latency_run(void)
{
        static const char config[] = "[device]\n"
                                     "name = loop48\n"
                                     "rate = 48000\n"
                                     "period = 128\n"
                                     "channels = 2\n"
                                     "late_limit = 100000\n"
                                     "source = loopback\n"
                                     "loopback_latency = 200\n"
                                     "\n"
                                     "[device]\n"
                                     "name = loop96\n"
                                     "rate = 96000\n"
                                     "period = 128\n"
                                     "channels = 2\n"
                                     "late_limit = 100000\n"
                                     "source = loopback\n"
                                     "loopback_latency = 333\n"
                                     "\n"
                                     "[device]\n"
                                     "name = quiet\n"
                                     "rate = 48000\n"
                                     "period = 128\n"
                                     "channels = 2\n"
                                     "late_limit = 100000\n"
                                     "source = silence\n";
        static struct proc p;
        struct bench_child_output o;

        if (!getenv("UDK_BENCH"))
                UDK_TEST_SKIP("UDK_BENCH is not set");
        proc_start_server(&p, config, NULL);
        latency_run_check(&p, "loop48", 48000, 200.0);
        latency_run_check(&p, "loop96", 96000, 333.0);

        /* Nothing comes back: a clear "no signal", nothing on stdout. */
        run_bench((const char *[]){ "latency", "quiet", "--seconds", "0.5", "--socket", p.socket, NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.out, "");
        /* (A busy machine may add a warning of missed cycles between the two lines.) */
        ASSERT_TRUE(strncmp(o.err, "udk-bench: info: latency: playing 10 tones on quiet and recording 0.5 s\n",
                            strlen("udk-bench: info: latency: playing 10 tones on quiet and recording 0.5 s\n")) ==
                    0);
        ASSERT_STR_CONTAINS(o.err,
                            "\nudk-bench: error: no signal: the weakest tone came back at -200.0 dB of what was "
                            "sent (at least -40 dB needed): is output 1 of quiet looped back to its input 1?\n");
        bench_child_output_free(&o);

        /* Too short to leave out the first range and analyse one more. */
        run_bench((const char *[]){ "latency", "loop48", "--seconds", "0.3", "--socket", p.socket, NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.err,
                      "udk-bench: error: --seconds 0.3 is too short: at 48000 Hz the measurement needs "
                      "at least 0.341 s\n");
        bench_child_output_free(&o);

        /* Not a device. */
        run_bench((const char *[]){ "latency", "virtual/loop48/source", "--socket", p.socket, NULL }, &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.err, "udk-bench: error: virtual/loop48/source is a control, not a device\n");
        bench_child_output_free(&o);
        run_bench((const char *[]){ "latency", "nope", "--socket", p.socket, NULL }, &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.err, "udk-bench: error: no object nope\n");
        bench_child_output_free(&o);

        proc_stop_server(&p);
}

/* --- compare --- */

static void test_compare_stats(void)
{
        static struct bench_compare_stats s;
        /* start 1000, tick 900; client 1 in at 1010 out 1013; client 2 in 1018 out 1020;
         * client 3 in 1027 out 1030: hops 5 and 7, first wake 10 (110 after the tick), cycle 20. */
        const uint64_t entry[] = { 1010, 1018, 1027 }, exit[] = { 1013, 1020, 1030 };
        const uint64_t bad_entry[] = { 1010, 1012, 1027 }; /* client 2 in before client 1 was out */
        struct bench_latency l;

        bench_compare_stats_reset(&s);
        ASSERT_TRUE(bench_compare_stats_add(&s, 3, 1000, 900, entry, exit));
        ASSERT_UINT_EQ(s.cycles, 1);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.count), 2);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.min), 5);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.max), 7);
        ASSERT_UINT_EQ(atomic_load(&s.first_wake.max), 10);
        ASSERT_UINT_EQ(atomic_load(&s.first_tick.max), 110);
        ASSERT_UINT_EQ(atomic_load(&s.cycle.max), 20);
        ASSERT_UINT_EQ(atomic_load(&s.hop[0].max), 10);
        ASSERT_UINT_EQ(atomic_load(&s.hop[1].max), 5);
        ASSERT_UINT_EQ(atomic_load(&s.hop[2].max), 7);

        /* Clients that overlap: counted apart, nothing added. */
        ASSERT_FALSE(bench_compare_stats_add(&s, 3, 1000, 900, bad_entry, exit));
        ASSERT_FALSE(bench_compare_stats_add(&s, 0, 1000, 900, entry, exit));
        ASSERT_UINT_EQ(s.bad_times, 2);
        ASSERT_UINT_EQ(s.cycles, 1);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.count), 2);

        /* A start after client 1's entry: the cycle counts, first_wake does not. */
        ASSERT_TRUE(bench_compare_stats_add(&s, 3, 1011, 900, entry, exit));
        ASSERT_UINT_EQ(s.early_starts, 1);
        ASSERT_UINT_EQ(atomic_load(&s.first_wake.count), 1);
        ASSERT_UINT_EQ(atomic_load(&s.hop[0].count), 1);
        ASSERT_UINT_EQ(atomic_load(&s.first_tick.count), 2);

        /* The same for a tick. */
        ASSERT_TRUE(bench_compare_stats_add(&s, 3, 1000, 1011, entry, exit));
        ASSERT_UINT_EQ(s.early_ticks, 1);
        ASSERT_UINT_EQ(atomic_load(&s.first_tick.count), 2);
        ASSERT_UINT_EQ(atomic_load(&s.first_wake.count), 2);
        ASSERT_UINT_EQ(s.cycles, 3);
        ASSERT_UINT_EQ(atomic_load(&s.cycle.count), 3);

        /* Microseconds, by the histogram's rule: p50 of {5, 7, 5, 7, 5, 7} is 5 ns. */
        bench_latency_from_histogram(&s.per_hop, &l);
        ASSERT_UINT_EQ(l.count, 6);
        ASSERT_FLOAT_EQ(l.p50, 0.005);
        ASSERT_FLOAT_EQ(l.max, 0.007);

        /* One client: no hop, the rest as before. */
        bench_compare_stats_reset(&s);
        ASSERT_TRUE(bench_compare_stats_add(&s, 1, 1000, 1000, entry, exit));
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.count), 0);
        ASSERT_UINT_EQ(atomic_load(&s.cycle.max), 3);
}

/* Client @index's callback of the cycle at frame @frame, at @t (entry t, exit t + 2). */
static void stamp_at(struct bench_compare_table *t, unsigned index, uint32_t frame, uint64_t time)
{
        bench_compare_stamp(t, index, frame, time - 5, time - 10, time, time + 2);
}

static void test_compare_table(void)
{
        static struct bench_compare_stats s;
        struct bench_compare_collector c;
        struct bench_compare_table *t = NULL, *t2 = NULL;
        int fd = -1;

        ASSERT_ERROR(bench_compare_table_create(0, &fd, &t), EINVAL);
        ASSERT_ERROR(bench_compare_table_create(BENCH_CHAIN_CLIENTS_MAX + 1, &fd, &t), EINVAL);
        ASSERT_OK(bench_compare_table_create(3, &fd, &t));
        ASSERT_UINT_EQ(t->clients, 3);
        ASSERT_TRUE((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        /* A second mapping (an exec'd client's) sees the same memory. */
        ASSERT_OK(bench_compare_table_map(fd, &t2));
        ASSERT_UINT_EQ(t2->clients, 3);

        /* Two cycles before the collector starts: not counted. */
        for (uint32_t k = 0; k < 2; k++)
                for (unsigned i = 0; i < 3; i++)
                        stamp_at(t2, i, 64 * k, 1000000 * (k + 1) + 10 * i);
        bench_compare_stats_reset(&s);
        bench_compare_collect_begin(&c, t, &s);
        ASSERT_UINT_EQ(c.next, 3);
        /* Cycles 3..12: in cycle 5 client 3 is missing; in cycle 7 client 2 runs with another
         * frame (out of chain order): an orphan, and the cycle is incomplete. */
        for (uint32_t k = 2; k < 12; k++)
                for (unsigned i = 0; i < 3; i++) {
                        if (k == 4 && i == 2)
                                continue;
                        stamp_at(t2, i, k == 6 && i == 1 ? 12345 : 64 * k, 1000000 * (k + 1) + 10 * i);
                }
        bench_compare_collect_poll(&c);
        ASSERT_UINT_EQ(c.next, 11); /* up to client 1's latest (12) minus two */
        bench_compare_collect_end(&c);
        ASSERT_UINT_EQ(c.last, 12);
        bench_compare_collect_finish(&c, 0);
        ASSERT_UINT_EQ(s.cycles, 8);
        ASSERT_UINT_EQ(s.incomplete, 2);
        ASSERT_UINT_EQ(s.bad_times, 0);
        ASSERT_UINT_EQ(s.lost, 0);
        ASSERT_UINT_EQ(atomic_load(&t->client[1].orphans), 1);
        ASSERT_UINT_EQ(atomic_load(&t->client[0].latest), 12);
        ASSERT_UINT_EQ(atomic_load(&t->client[2].callbacks), 11);
        /* Each hop is 10 - 2 = 8 ns, client 1's wake 5 ns after its start, 10 after its tick. */
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.count), 16);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.min), 8);
        ASSERT_UINT_EQ(atomic_load(&s.per_hop.max), 8);
        ASSERT_UINT_EQ(atomic_load(&s.first_wake.max), 5);
        ASSERT_UINT_EQ(atomic_load(&s.first_tick.max), 10);
        ASSERT_UINT_EQ(atomic_load(&s.cycle.max), 22);

        /* A reader more than a ring behind skips what was overwritten and counts it lost. */
        bench_compare_stats_reset(&s);
        bench_compare_collect_begin(&c, t, &s);
        for (uint32_t k = 12; k < 12 + BENCH_COMPARE_SLOTS + 100; k++)
                for (unsigned i = 0; i < 3; i++)
                        stamp_at(t2, i, 64 * k, 1000000 * (uint64_t)(k + 1) + 10 * i);
        bench_compare_collect_end(&c);
        bench_compare_collect_finish(&c, 0);
        ASSERT_TRUE(s.lost > 0);
        ASSERT_UINT_EQ(s.lost + s.cycles + s.incomplete, BENCH_COMPARE_SLOTS + 100);
        ASSERT_UINT_EQ(s.incomplete, 0);

        /* READY, FAILED and the reason. */
        bench_compare_client_ready(t2, 0, true);
        ASSERT_UINT_EQ(atomic_load(&t->client[0].state), BENCH_COMPARE_CLIENT_READY);
        ASSERT_UINT_EQ(atomic_load(&t->client[0].realtime), 1);
        bench_compare_client_fail(t2, 2, "cannot %s", "connect");
        ASSERT_UINT_EQ(atomic_load(&t->client[2].state), BENCH_COMPARE_CLIENT_FAILED);
        ASSERT_STR_EQ(t->client[2].error, "cannot connect");

        t2 = bench_compare_table_unmap(t2);
        ASSERT_PTR_EQ(t2, NULL);
        t = bench_compare_table_unmap(t);
        close(fd);

        /* Not a table: a memfd of another size. */
        fd = memfd_create("not-a-table", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(ftruncate(fd, 4096));
        ASSERT_ERROR(bench_compare_table_map(fd, &t2), EPROTO);
        close(fd);
}

static int parse_compare(struct bench_compare_options *o, const char *const *args)
{
        char *argv[24] = { "compare" };
        int argc = 1;

        for (; *args; args++) {
                ASSERT_TRUE(argc < (int)UDK_ELEMENTSOF(argv) - 1);
                argv[argc++] = (char *)*args;
        }
        bench_compare_options_defaults(o);
        return bench_compare_parse_options(argc, argv, o);
}

static void test_compare_options(void)
{
        static const char *const all[] = { "--clients", "2",         "--period",     "16",
                                           "--rate",    "96000",     "--seconds",    "2",
                                           "--pin",     "--load",    "--json",       "--plot",
                                           "out.svg",   "--servers", "pipewire,udk", NULL };
        struct bench_compare_options o;

        ASSERT_INT_EQ(parse_compare(&o, (const char *[]){ NULL }), 0);
        ASSERT_UINT_EQ(o.chain.clients, 4);
        ASSERT_UINT_EQ(o.chain.period, 64);
        ASSERT_UINT_EQ(o.chain.rate, 48000);
        ASSERT_FLOAT_EQ(o.chain.seconds, 5);
        ASSERT_FALSE(o.chain.pin || o.load || o.chain.json);
        ASSERT_PTR_EQ(o.plot, NULL);
        ASSERT_TRUE(o.servers[BENCH_SERVER_UDK] && o.servers[BENCH_SERVER_JACK2] &&
                    o.servers[BENCH_SERVER_PIPEWIRE]);

        ASSERT_INT_EQ(parse_compare(&o, all), 0);
        ASSERT_UINT_EQ(o.chain.clients, 2);
        ASSERT_UINT_EQ(o.chain.period, 16);
        ASSERT_UINT_EQ(o.chain.rate, 96000);
        ASSERT_FLOAT_EQ(o.chain.seconds, 2);
        ASSERT_TRUE(o.chain.pin && o.load && o.chain.json);
        ASSERT_STR_EQ(o.plot, "out.svg");
        ASSERT_TRUE(o.servers[BENCH_SERVER_UDK]);
        ASSERT_FALSE(o.servers[BENCH_SERVER_JACK2]);
        ASSERT_TRUE(o.servers[BENCH_SERVER_PIPEWIRE]);

        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--servers", "udk,oss", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--servers", "udk,udk", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--servers", "", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--servers", "jack2,", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--seconds", "0.1", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--clients", "17", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--plot", "", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "--load=1", NULL }), EINVAL);
        ASSERT_ERROR(parse_compare(&o, (const char *[]){ "udk", NULL }), EINVAL);
}

static void test_compare_ratio(void)
{
        ASSERT_FLOAT_EQ(bench_compare_ratio(12, 4), 3);
        ASSERT_FLOAT_EQ(bench_compare_ratio(2, 4), 0.5);
        ASSERT_TRUE(isnan(bench_compare_ratio(12, 0)));
        ASSERT_TRUE(isnan(bench_compare_ratio(12, -1)));
        ASSERT_TRUE(isnan(bench_compare_ratio(NAN, 4)));
        ASSERT_TRUE(isnan(bench_compare_ratio(4, NAN)));
        ASSERT_TRUE(isnan(bench_compare_ratio(INFINITY, 4)));
        ASSERT_STR_EQ(bench_server_name(BENCH_SERVER_UDK), "udk");
        ASSERT_STR_EQ(bench_server_name(BENCH_SERVER_JACK2), "jack2");
        ASSERT_STR_EQ(bench_server_name(BENCH_SERVER_PIPEWIRE), "pipewire");
        ASSERT_STR_EQ(bench_server_install_hint(BENCH_SERVER_JACK2), "apt-get install jackd2");
        ASSERT_STR_EQ(bench_server_install_hint(BENCH_SERVER_PIPEWIRE),
                      "apt-get install pipewire pipewire-jack");
}

static void compare_latency(struct bench_latency *l, double p50, double p99, double p999, double max)
{
        *l = (struct bench_latency){ .count = 1000, .p50 = p50, .p99 = p99, .p999 = p999, .max = max };
}

/* udk ok (hop p50 4), JACK2 ok (hop p50 13), PipeWire missing. */
static void compare_report_fill(struct bench_compare_report *rep)
{
        struct bench_compare_result *u = &rep->result[BENCH_SERVER_UDK],
                                    *j = &rep->result[BENCH_SERVER_JACK2],
                                    *p = &rep->result[BENCH_SERVER_PIPEWIRE];

        memset(rep, 0, sizeof(*rep));
        bench_compare_options_defaults(&rep->opt);
        rep->opt.chain.seconds = 10;
        rep->machine = (struct bench_machine){ .cpus = 2 };
        udk_strlcpy(rep->machine.cpu_model, "AMD EPYC", sizeof(rep->machine.cpu_model));
        udk_strlcpy(rep->machine.kernel, "6.1.0", sizeof(rep->machine.kernel));
        *u = (struct bench_compare_result){ .server = BENCH_SERVER_UDK,
                                            .status = BENCH_COMPARE_OK,
                                            .cpu = 1,
                                            .cpu_per_cycle_us = 40,
                                            .server_cpu_per_cycle_us = 20,
                                            .xruns = 0,
                                            .late_known = true,
                                            .late = 2,
                                            .cycles = 7500,
                                            .server_priority = 70,
                                            .client_priority = 60,
                                            .client_cpus = 2 };
        udk_strlcpy(u->version, "udkd 0.1.0", sizeof(u->version));
        compare_latency(&u->per_hop, 4, 8, 10, 20);
        compare_latency(&u->first_wake, 10, 20, 30, 40);
        compare_latency(&u->first_tick, 30, 60, 90, 120);
        compare_latency(&u->cycle, 14, 28, 42, 56);
        *j = (struct bench_compare_result){ .server = BENCH_SERVER_JACK2,
                                            .status = BENCH_COMPARE_OK,
                                            .cpu = -1,
                                            .cpu_per_cycle_us = 100,
                                            .server_cpu_per_cycle_us = 30,
                                            .xruns = 3,
                                            .cycles = 7490,
                                            .incomplete = 10,
                                            .server_priority = 70,
                                            .client_priority = 65,
                                            .client_cpus = 3 };
        udk_strlcpy(j->version, "jackd 1.9.21", sizeof(j->version));
        compare_latency(&j->per_hop, 13, 24, 50, 15);
        compare_latency(&j->first_wake, 200, 300, 400, 500);
        compare_latency(&j->first_tick, 200, 300, 400, 500);
        compare_latency(&j->cycle, 60, 80, 100, 120);
        *p = (struct bench_compare_result){ .server = BENCH_SERVER_PIPEWIRE,
                                            .status = BENCH_COMPARE_MISSING,
                                            .cpu = -1 };
        udk_strlcpy(p->why, "no pipewire in PATH: apt-get install pipewire pipewire-jack", sizeof(p->why));
}

static void test_compare_targets(void)
{
        static struct bench_compare_report rep;
        struct bench_compare_target t[BENCH_COMPARE_TARGETS_MAX];
        size_t n;

        compare_report_fill(&rep);
        n = bench_compare_targets(&rep, t, UDK_ELEMENTSOF(t));
        ASSERT_UINT_EQ(n, 8);
        ASSERT_STR_EQ(t[0].text, "udk per-hop p50 <= 1/3 of JACK2's (13.00 us): 4.00 us, 1/3.25");
        ASSERT_INT_EQ(t[0].verdict, BENCH_TARGET_PASS);
        ASSERT_STR_EQ(t[1].text, "udk per-hop p50 <= 1/5 of PipeWire's: PipeWire not measured");
        ASSERT_INT_EQ(t[1].verdict, BENCH_TARGET_NA);
        ASSERT_STR_EQ(t[2].text, "udk per-hop p99.9 below JACK2's: 10.0 us against 50.0 us");
        ASSERT_INT_EQ(t[2].verdict, BENCH_TARGET_PASS);
        ASSERT_STR_EQ(t[3].text, "udk per-hop max below JACK2's: 20.0 us against 15.0 us");
        ASSERT_INT_EQ(t[3].verdict, BENCH_TARGET_FAIL);
        ASSERT_STR_EQ(t[4].text, "udk per-hop p99.9 and max below PipeWire's: PipeWire not measured");
        ASSERT_INT_EQ(t[4].verdict, BENCH_TARGET_NA);
        ASSERT_STR_EQ(t[5].text,
                      "udk xruns <= JACK2's: 0 against 3 (the target counts 60 s; this run 10 s)");
        ASSERT_INT_EQ(t[5].verdict, BENCH_TARGET_PASS);
        ASSERT_STR_EQ(t[6].text, "udk xruns <= PipeWire's: not measured");
        ASSERT_STR_EQ(t[7].text, "udk CPU per cycle <= JACK2's: 40.00 us against 100.00 us");
        ASSERT_INT_EQ(t[7].verdict, BENCH_TARGET_PASS);

        /* Pinned: 1/2 of JACK2's, no PipeWire fraction; 4 * 2 > 7.9 fails. */
        rep.opt.chain.pin = true;
        rep.result[BENCH_SERVER_JACK2].per_hop.p50 = 7.9;
        n = bench_compare_targets(&rep, t, UDK_ELEMENTSOF(t));
        ASSERT_UINT_EQ(n, 7);
        ASSERT_STR_EQ(t[0].text, "udk per-hop p50 <= 1/2 of JACK2's (7.90 us): 4.00 us, 1/1.98");
        ASSERT_INT_EQ(t[0].verdict, BENCH_TARGET_FAIL);
        ASSERT_STR_EQ(t[1].text, "udk per-hop p99.9 below JACK2's: 10.0 us against 50.0 us");

        /* Only udk asked for: no target at all. */
        rep.opt.servers[BENCH_SERVER_JACK2] = rep.opt.servers[BENCH_SERVER_PIPEWIRE] = false;
        ASSERT_UINT_EQ(bench_compare_targets(&rep, t, UDK_ELEMENTSOF(t)), 0);
        /* At most @max. */
        rep.opt.servers[BENCH_SERVER_JACK2] = true;
        ASSERT_UINT_EQ(bench_compare_targets(&rep, t, 2), 2);

        /* One client: both ran, but there is no hop to compare. */
        rep.result[BENCH_SERVER_UDK].per_hop.count = 0;
        ASSERT_UINT_EQ(bench_compare_targets(&rep, t, UDK_ELEMENTSOF(t)), 4);
        ASSERT_STR_EQ(t[0].text, "udk per-hop p50 <= 1/2 of JACK2's: no hop (one client)");
        ASSERT_INT_EQ(t[0].verdict, BENCH_TARGET_NA);
        ASSERT_STR_EQ(t[1].text, "udk per-hop p99.9 and max below JACK2's: no hop (one client)");
}

static char *compare_output(const struct bench_compare_report *rep, bool json)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_NOT_NULL(f);
        if (json)
                bench_compare_print_json(rep, f);
        else
                bench_compare_print_table(rep, f);
        ASSERT_INT_EQ(fclose(f), 0);
        return buf;
}

static void test_compare_json(void)
{
        static const char *const want[] = {
                "{\n  \"servers\": [\n    {\n      \"server\": \"udk\",\n      \"status\": \"ok\",\n"
                "      \"version\": \"udkd 0.1.0\",\n      \"per_hop_us\": {\n        \"p50\": 4.000,\n"
                "        \"p99\": 8.000,\n        \"p999\": 10.000,\n        \"max\": 20.000\n      },\n",
                "      \"cpu_per_cycle_us\": 40.000,\n      \"server_cpu_per_cycle_us\": 20.000,\n"
                "      \"xruns\": 0,\n      \"late\": 2,\n      \"ratio_to_udk\": {\n"
                "        \"per_hop_p50\": 1.000,\n",
                "      \"server\": \"jack2\",\n      \"status\": \"ok\",\n      \"version\": \"jackd "
                "1.9.21\",\n",
                "      \"xruns\": 3,\n      \"late\": null,\n      \"ratio_to_udk\": {\n"
                "        \"per_hop_p50\": 3.250,\n        \"per_hop_p99\": 3.000,\n        "
                "\"per_hop_p999\": 5.000,\n"
                "        \"per_hop_max\": 0.750,\n        \"first_wake_p50\": 20.000,\n"
                "        \"first_wake_tick_p50\": 6.667,\n        \"cycle_p50\": 4.286,\n"
                "        \"cpu_per_cycle\": 2.500,\n        \"xruns\": null\n      },\n",
                "      \"incomplete_cycles\": 10,\n",
                "      \"server_priority\": 70,\n      \"client_priority\": 65,\n      \"cpu\": null,\n"
                "      \"client_cpus\": \"0,1\"\n",
                "      \"server\": \"pipewire\",\n      \"status\": \"missing\",\n"
                "      \"why\": \"no pipewire in PATH: apt-get install pipewire pipewire-jack\",\n"
                "      \"install\": \"apt-get install pipewire pipewire-jack\",\n      \"version\": null,\n"
                "      \"per_hop_us\": null,\n      \"first_wake_us\": null,\n      \"first_wake_tick_us\": "
                "null,\n"
                "      \"cycle_us\": null,\n      \"cpu_per_cycle_us\": null,\n"
                "      \"server_cpu_per_cycle_us\": null,\n      \"xruns\": null,\n      \"late\": null,\n"
                "      \"ratio_to_udk\": null,\n",
                "  \"targets\": [\n    {\n      \"target\": \"udk per-hop p50 <= 1/3 of JACK2's (13.00 us): "
                "4.00 us, 1/3.25\",\n      \"pass\": true\n    },\n",
                "      \"target\": \"udk per-hop p99.9 and max below PipeWire's: PipeWire not measured\",\n"
                "      \"pass\": null\n",
                "  \"settings\": {\n    \"clients\": 4,\n    \"period\": 64,\n    \"rate\": 48000,\n"
                "    \"seconds\": 10.000,\n    \"pin\": false,\n    \"load\": false,\n    \"load_note\": "
                "null,\n",
                "  \"machine\": {\n    \"cpus\": 2,\n    \"cpu_model\": \"AMD EPYC\",\n    \"kernel\": "
                "\"6.1.0\"\n"
                "  }\n}\n",
        };
        static struct bench_compare_report rep;
        char *text;

        compare_report_fill(&rep);
        text = compare_output(&rep, true);
        for (size_t i = 0; i < UDK_ELEMENTSOF(want); i++)
                ASSERT_STR_CONTAINS(text, want[i]);
        free(text);

        /* A failure says why in its status; a server not asked for is left out. */
        rep.result[BENCH_SERVER_JACK2].status = BENCH_COMPARE_FAILED;
        udk_strlcpy(rep.result[BENCH_SERVER_JACK2].why, "jackd exited with status 1: no driver",
                    sizeof(rep.result[BENCH_SERVER_JACK2].why));
        rep.opt.servers[BENCH_SERVER_PIPEWIRE] = false;
        text = compare_output(&rep, true);
        ASSERT_STR_CONTAINS(text, "      \"status\": \"failed: jackd exited with status 1: no driver\",\n"
                                  "      \"version\": \"jackd 1.9.21\",\n      \"per_hop_us\": null,\n");
        ASSERT_TRUE(strstr(text, "pipewire") == NULL);
        free(text);
}

static void test_compare_table_output(void)
{
        static const char *const want[] = {
                "udk-bench compare: 4 clients in a chain, 64 frames at 48000 Hz (1333.3 us a cycle), 10 s a "
                "server\n"
                "AMD EPYC, 2 CPUs, Linux 6.1.0\n"
                "placement: each server's default; load: none\n\n",
                "                                 udk                  jack2                pipewire        "
                "    \n"
                "  status                         ok                   ok                   missing         "
                "    \n"
                "  server                         udkd 0.1.0           jackd 1.9.21         -               "
                "    \n"
                "  RT priority: server / clients  70 / 60              70 / 65              -               "
                "    \n"
                "  clients' callbacks on CPU      1                    0,1                  -               "
                "    \n"
                "  cycles measured (left out)     7500 (0)             7490 (10)            -               "
                "    \n",
                "  per hop                  p50   4.0                  13.0 (3.25x)         -               "
                "    \n",
                "  first wake after start   p50   10.0                 200.0 (20.00x)       -               "
                "    \n",
                "  CPU per cycle, all             40.00                100.00 (2.50x)       -               "
                "    \n",
                "  xruns                          0                    3                    -               "
                "    \n"
                "  late                           2                    -                    -               "
                "    \n",
                "  pipewire: missing: no pipewire in PATH: apt-get install pipewire pipewire-jack\n",
                "Targets\n  udk per-hop p50 <= 1/3 of JACK2's (13.00 us): 4.00 us, 1/3.25  PASS\n",
                "  udk per-hop max below JACK2's: 20.0 us against 15.0 us  FAIL\n",
                "  udk xruns <= PipeWire's: not measured  n/a\n",
        };
        static struct bench_compare_report rep;
        char *text;

        compare_report_fill(&rep);
        text = compare_output(&rep, false);
        for (size_t i = 0; i < UDK_ELEMENTSOF(want); i++)
                ASSERT_STR_CONTAINS(text, want[i]);
        free(text);

        rep.result[BENCH_SERVER_JACK2].status = BENCH_COMPARE_FAILED;
        udk_strlcpy(rep.result[BENCH_SERVER_JACK2].why, "client 2 did not join within 15000 ms",
                    sizeof(rep.result[BENCH_SERVER_JACK2].why));
        rep.opt.chain.pin = true;
        udk_strlcpy(rep.load_note, "stress-ng --cpu 2", sizeof(rep.load_note));
        text = compare_output(&rep, false);
        ASSERT_STR_CONTAINS(text, "placement: --pin, every RT thread of server and clients on one CPU; "
                                  "load: stress-ng --cpu 2\n");
        ASSERT_STR_CONTAINS(
                text, "  status                         ok                   failed (see below)   missing");
        ASSERT_STR_CONTAINS(text,
                            "  per hop                  p50   4.0                  -                    -");
        ASSERT_STR_CONTAINS(text, "  jack2: failed: client 2 did not join within 15000 ms\n");
        ASSERT_STR_CONTAINS(text, "  udk per-hop p50 <= 1/2 of JACK2's: JACK2 not measured  n/a\n");
        free(text);
}

static void test_svg(void)
{
        static struct udk_histogram a, b, empty;
        const struct bench_svg_series series[] = {
                { .name = "udk", .hist = &a },
                { .name = "jack2", .hist = &b },
                { .name = "pipewire", .hist = &empty },
        };
        char *buf = NULL;
        size_t len = 0, lines = 0;
        FILE *f;

        udk_histogram_reset(&a);
        udk_histogram_reset(&b);
        udk_histogram_reset(&empty);
        for (unsigned i = 0; i < 1000; i++) {
                udk_histogram_add(&a, 4000 + i);        /* 4 to 5 us */
                udk_histogram_add(&b, 20000 + 100 * i); /* 20 to 120 us */
        }
        f = open_memstream(&buf, &len);
        ASSERT_NOT_NULL(f);
        ASSERT_OK(bench_svg_write_ccdf(f, "Per-hop <wake> & more", series, UDK_ELEMENTSOF(series)));
        ASSERT_INT_EQ(fclose(f), 0);
        ASSERT_TRUE(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
        ASSERT_TRUE(len > 7 && strcmp(buf + len - 7, "</svg>\n") == 0);
        ASSERT_STR_CONTAINS(buf, ">Per-hop &lt;wake> &amp; more</text>");
        ASSERT_STR_CONTAINS(buf, ">per-hop wake (µs, log scale)</text>");
        ASSERT_STR_CONTAINS(buf, ">fraction of hops longer (log scale)</text>");
        /* x from 1 to 1000 us (decades around 4 and 120), y from 1 to 1e-3 (1000 samples). */
        ASSERT_STR_CONTAINS(buf, ">1</text>");
        ASSERT_STR_CONTAINS(buf, ">1000</text>");
        ASSERT_STR_CONTAINS(buf, ">1e-3</text>");
        ASSERT_TRUE(strstr(buf, ">1e-4</text>") == NULL);
        /* p50: 4499 ns, in the bucket up to 4607 ns (bucket bounds, as in the tables). */
        ASSERT_STR_CONTAINS(buf, ">p50 4.6 µs, p99.9 5.0 µs, 1000 hops</text>");
        ASSERT_STR_CONTAINS(buf, ">pipewire</text>");
        ASSERT_STR_CONTAINS(buf, ">no samples</text>");
        /* One curve per series with samples. */
        for (const char *p = buf; (p = strstr(p, "<polyline")); p++)
                lines++;
        ASSERT_UINT_EQ(lines, 2);
        free(buf);
}

static void test_servers_spawn(void)
{
        char *sleeper[] = { "sleep", "30", NULL };
        char *env_check[] = { "sh", "-c", "test \"$UDK_T_SET\" = yes && test -z \"${UDK_T_UNSET+x}\"",
                              NULL };
        char *missing[] = { "udk-no-such-program-here", NULL };
        struct bench_spawn sp = {
                .argv = sleeper, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .keep_fd = -1
        };
        uint64_t t0 = udk_time_now();
        struct bench_rt_threads rt;
        int status = -1;
        pid_t pid;

        ASSERT_OK(bench_spawn(&sp, &pid));
        ASSERT_INT_EQ(getpgid(pid), pid); /* a group of its own */
        ASSERT_FALSE(bench_exited(pid, &status));
        status = bench_stop(pid, 5000);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        ASSERT_TRUE(udk_time_now() - t0 < 4 * UDK_NSEC_PER_SEC);

        ASSERT_OK(setenv("UDK_T_UNSET", "x", 1));
        sp.argv = env_check;
        sp.env[0] = "UDK_T_SET=yes";
        sp.env[1] = "UDK_T_UNSET";
        ASSERT_OK(bench_spawn(&sp, &pid));
        while (!bench_exited(pid, &status))
                usleep(10000);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_INT_EQ(WEXITSTATUS(status), 0);

        sp.argv = missing;
        ASSERT_ERROR(bench_spawn(&sp, &pid), ENOENT);

        /* This test process: no RT thread; pinning none of them succeeds. */
        ASSERT_OK(bench_rt_threads_get(getpid(), &rt));
        ASSERT_UINT_EQ(rt.count, 0);
        ASSERT_INT_EQ(rt.max_priority, 0);
        ASSERT_ERROR(bench_rt_threads_pin(getpid(), -1, NULL), EINVAL);
        ASSERT_ERROR(bench_rt_threads_get(INT32_MAX, &rt), ENOENT);

        {
                char buf[64];
                bench_describe_status(256, buf, sizeof(buf));
                ASSERT_STR_EQ(buf, "exited with status 1");
                bench_describe_status(9, buf, sizeof(buf));
                ASSERT_STR_EQ(buf, "was killed by signal 9");
                bench_describe_status(-ETIMEDOUT, buf, sizeof(buf));
                ASSERT_STR_EQ(buf, "did not stop in time and was killed");
        }
}

static void test_servers_remove_stale(void)
{
        char tmp[] = "/tmp/udk-test-stale-XXXXXX", dead[128], live[128], other[128], file[192];
        pid_t gone = fork();

        ASSERT_TRUE(gone >= 0);
        if (gone == 0)
                _exit(0);
        ASSERT_INT_EQ(waitpid(gone, NULL, 0), gone);
        ASSERT_NOT_NULL(mkdtemp(tmp));
        ASSERT_OK(setenv("TMPDIR", tmp, 1));
        snprintf(dead, sizeof(dead), "%s/udk-bench-jack2-%d-abcdef", tmp, (int)gone);
        snprintf(live, sizeof(live), "%s/udk-bench-pipewire-%d-abcdef", tmp, (int)getpid());
        snprintf(other, sizeof(other), "%s/udk-bench-jack2-notapid", tmp);
        ASSERT_OK(mkdir(dead, 0700));
        ASSERT_OK(mkdir(live, 0700));
        ASSERT_OK(mkdir(other, 0700));
        snprintf(file, sizeof(file), "%s/server.log", dead);
        ASSERT_OK(close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)));

        bench_servers_remove_stale();
        ASSERT_ERROR(access(dead, F_OK) < 0 ? -errno : 0, ENOENT);
        ASSERT_OK(access(live, F_OK));
        ASSERT_OK(access(other, F_OK));
        ASSERT_OK(rmdir(live));
        ASSERT_OK(rmdir(other));
        ASSERT_OK(rmdir(tmp));
}

static void test_compare_usage_errors(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "compare", "--servers", "udk,oss", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_EQ(
                o.err,
                "udk-bench compare: --servers 'udk,oss': a list of udk, jack2 and pipewire, each once\n"
                "Try 'udk-bench compare --help' for more information.\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "compare", "--help", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "Usage: udk-bench compare [OPTION]...\n");
        ASSERT_STR_CONTAINS(
                o.out,
                "apt-get install jackd2 (JACK2), apt-get install pipewire pipewire-jack (PipeWire).\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "--help", NULL }, &o);
        ASSERT_STR_CONTAINS(o.out, "  compare    the chain on udkd, JACK2 and PipeWire side by side");
        bench_child_output_free(&o);
}

/* Servers that are not installed are rows that say so, with how to install them; exit 0. */
static void test_compare_missing(void)
{
        bool with_jack = getenv("UDK_BENCH_JACK_CLIENT") != NULL; /* set by meson when libjack was found */
        struct bench_child_output o;

        ASSERT_OK(setenv("PATH", "/nonexistent", 1));
        ASSERT_OK(setenv("UDK_BENCH_JACK_CLIENT", "/bin/true", 1));
        run_bench((const char *[]){ "compare", "--servers", "jack2,pipewire", "--seconds", "1", "--json",
                                    NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 0);
        if (with_jack) {
                ASSERT_STR_CONTAINS(o.out, "      \"server\": \"jack2\",\n      \"status\": \"missing\",\n"
                                           "      \"why\": \"no jackd in PATH: apt-get install jackd2\",\n"
                                           "      \"install\": \"apt-get install jackd2\",\n");
                ASSERT_STR_CONTAINS(o.out,
                                    "      \"server\": \"pipewire\",\n      \"status\": \"missing\",\n"
                                    "      \"why\": \"no pipewire in PATH: apt-get install pipewire "
                                    "pipewire-jack\",\n");
        } else {
                ASSERT_STR_CONTAINS(o.out,
                                    "      \"server\": \"jack2\",\n      \"status\": \"missing\",\n"
                                    "      \"why\": \"udk-bench was built without libjack: apt-get install "
                                    "libjack-jackd2-dev, then rebuild\",\n");
        }
        bench_child_output_free(&o);

        /* --load without stress-ng: said, exit 1, nothing measured. */
        run_bench((const char *[]){ "compare", "--servers", "jack2", "--load", NULL }, &o);
        ASSERT_INT_EQ(o.status, 1);
        ASSERT_STR_EQ(o.out, "");
        ASSERT_STR_CONTAINS(o.err,
                            "--load needs stress-ng, which is not installed: apt-get install stress-ng\n");
        bench_child_output_free(&o);
}

/* The number after the first @key after @from in @text, and a pointer past it. */
static double compare_json_number(const char *text, const char *from, const char *key)
{
        const char *p = strstr(text, from);
        double v;

        ASSERT_NOT_NULL(p);
        p = strstr(p, key);
        ASSERT_NOT_NULL(p);
        p += strlen(key);
        {
                char num[32];
                size_t len = strspn(p, "0123456789.");
                ASSERT_TRUE(len > 0 && len < sizeof(num));
                memcpy(num, p, len);
                num[len] = '\0';
                ASSERT_OK(udk_parse_double(num, 0, 1e12, &v));
        }
        return v;
}

static void compare_check_row(const char *out, const char *server)
{
        char from[64];

        snprintf(from, sizeof(from), "\"server\": \"%s\",\n      \"status\": \"ok\",\n", server);
        if (!strstr(out, from))
                udk_test_fail("%s's row is not ok:\n%s", server, out);
        ASSERT_TRUE(compare_json_number(out, from, "\"per_hop_us\": {\n        \"p50\": ") > 0);
        ASSERT_TRUE(compare_json_number(out, from, "        \"max\": ") > 0);
        ASSERT_TRUE(compare_json_number(out, from, "\"first_wake_us\": {\n        \"p50\": ") > 0);
        ASSERT_TRUE(compare_json_number(out, from, "\"cycle_us\": {\n        \"p50\": ") > 0);
        ASSERT_TRUE(compare_json_number(out, from, "\"cpu_per_cycle_us\": ") > 0);
        /* 2 s of 64-frame cycles is 1500; allow for a loaded machine. */
        ASSERT_TRUE(compare_json_number(out, from, "\"cycles\": ") > 500);
}

static void test_compare_run_udk(void)
{
        struct bench_child_output o;

        if (!getenv("UDKD"))
                UDK_TEST_SKIP("UDKD is not set (run through meson test)");
        run_bench((const char *[]){ "compare", "--servers", "udk", "--clients", "3", "--seconds", "2",
                                    "--json", NULL },
                  &o);
        if (o.status != 0)
                udk_test_fail("udk-bench compare exited %d; stderr: %s", o.status, o.err);
        compare_check_row(o.out, "udk");
        ASSERT_STR_CONTAINS(o.out, "      \"late\": ");
        ASSERT_TRUE(strstr(o.out, "\"server\": \"jack2\"") == NULL);
        ASSERT_STR_CONTAINS(o.out, "  \"targets\": [],\n");
        ASSERT_STR_CONTAINS(o.out, "    \"clients\": 3,\n");
        ASSERT_TRUE(o.out_len > 2 && strcmp(o.out + o.out_len - 2, "}\n") == 0);
        ASSERT_STR_CONTAINS(o.err, "udk-bench: info: compare: udk: measuring 2 s");
        bench_child_output_free(&o);
}

static void test_compare_run_jack2(void)
{
        char jackd[4096];
        struct bench_child_output o;

        if (!getenv("UDKD"))
                UDK_TEST_SKIP("UDKD is not set (run through meson test)");
        if (!getenv("UDK_BENCH_JACK_CLIENT"))
                UDK_TEST_SKIP("built without libjack");
        if (bench_find_program("jackd", jackd, sizeof(jackd)) < 0)
                UDK_TEST_SKIP("no jackd in PATH (apt-get install jackd2)");
        run_bench((const char *[]){ "compare", "--servers", "udk,jack2", "--seconds", "2", "--json", NULL },
                  &o);
        if (o.status != 0)
                udk_test_fail("udk-bench compare exited %d; stderr: %s", o.status, o.err);
        compare_check_row(o.out, "udk");
        compare_check_row(o.out, "jack2");
        ASSERT_TRUE(compare_json_number(o.out, "\"server\": \"jack2\"", "\"server_priority\": ") > 0);
        ASSERT_STR_CONTAINS(o.out, "\"target\": \"udk per-hop p50 <= 1/3 of JACK2's (");
        bench_child_output_free(&o);
}

/* A short udk-bench match: its JSON and table, and a usage error. */
static void test_match_run(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "match", "--nubs", "200", "--personalities", "50", "--runs", "3", "--json",
                                    NULL },
                  &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "\"nubs\": 200,\n");
        ASSERT_STR_CONTAINS(o.out, "\"personalities\": 50,\n");
        ASSERT_STR_CONTAINS(o.out, "\"runs\": 3,\n");
        ASSERT_STR_CONTAINS(o.out, "\"matched\": 200,\n"); /* the last personality is a fallback */
        ASSERT_STR_CONTAINS(o.out, "\"match_us_per_nub\": {\n    \"median\": ");
        ASSERT_STR_CONTAINS(o.out, "\"min\": ");
        ASSERT_STR_CONTAINS(o.out, "\"max\": ");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "match", "--nubs", "20", "--personalities", "5", "--runs", "1", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "match: 20 nubs against 5 personalities, 1 runs\n");
        ASSERT_STR_CONTAINS(o.out, "  matched: 20 of 20 nubs\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "match", "--personalities", "0", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench match: --personalities '0': not a whole number in 1..100000\n"
                             "Try 'udk-bench match --help' for more information.\n");
        bench_child_output_free(&o);
}

/* A number after @key in the JSON object that @anchor opens (negative numbers too). */
static double resample_json_number(const char *text, const char *anchor, const char *key)
{
        const char *p = strstr(text, anchor);
        char *end;
        double v;

        ASSERT_NOT_NULL(p);
        p = strstr(p, key);
        ASSERT_NOT_NULL(p);
        v = strtod(p + strlen(key), &end);
        ASSERT_TRUE(end > p + strlen(key));
        return v;
}

/* A short udk-bench resample: every converter measured, the qualities told apart, a usage error. */
static void test_resample_run(void)
{
        static const char *const soxr[] = { "quick", "low", "medium", "high", "very-high" };
        static const char *const src[] = { "zero-order-hold", "linear", "sinc-fastest", "sinc-medium", "sinc-best" };
        struct bench_child_output o;
        char anchor[96];

        run_bench((const char *[]){ "resample", "--seconds", "3", "--runs", "1", "--json", NULL }, &o);
        if (o.status != 0)
                udk_test_fail("udk-bench resample: exit %d; stderr: %s", o.status, o.err);
        ASSERT_STR_CONTAINS(o.out, "\"in_rate\": 44100,\n");
        ASSERT_STR_CONTAINS(o.out, "\"out_rate\": 48000,\n");
        for (size_t i = 0; i < UDK_ELEMENTSOF(soxr); i++) {
                snprintf(anchor, sizeof(anchor), "\"library\": \"libsoxr\",\n      \"quality\": \"%s\"", soxr[i]);
                ASSERT_TRUE(resample_json_number(o.out, anchor, "\"cpu_ns_per_channel_second\": ") > 0);
                /* Every libsoxr quality is better than 100 dB on a 1 kHz tone. */
                ASSERT_TRUE(resample_json_number(o.out, anchor, "\"thd_n_db\": ") < -100);
        }
        ASSERT_TRUE(resample_json_number(o.out, "\"quality\": \"very-high\"", "\"thd_n_db\": ") < -140);
        for (size_t i = 0; i < UDK_ELEMENTSOF(src); i++) {
                snprintf(anchor, sizeof(anchor), "\"quality\": \"%s\"", src[i]);
                ASSERT_STR_CONTAINS(o.out, anchor);
#if BENCH_HAVE_SAMPLERATE
                ASSERT_TRUE(resample_json_number(o.out, anchor, "\"cpu_ns_per_channel_second\": ") > 0);
#endif
        }
#if BENCH_HAVE_SAMPLERATE
        /* A zero-order hold is audibly dirty: the measure tells it from a sinc. */
        ASSERT_TRUE(resample_json_number(o.out, "\"quality\": \"zero-order-hold\"", "\"thd_n_db\": ") > -40);
        ASSERT_TRUE(resample_json_number(o.out, "\"quality\": \"sinc-best\"", "\"thd_n_db\": ") < -140);
#endif
        bench_child_output_free(&o);

        run_bench((const char *[]){ "resample", "--seconds", "3", "--runs", "1", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "resample: 44100 -> 48000 Hz, 1 kHz sine at -6 dBFS, 2 channels, 3 s of audio, 1 runs\n");
        ASSERT_STR_CONTAINS(o.out, "  libsoxr        very-high ");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "resample", "--seconds", "1", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench resample: --seconds '1': not a whole number in 3..3600\n"
                             "Try 'udk-bench resample --help' for more information.\n");
        bench_child_output_free(&o);
}

/* A short udk-bench restart on the test family: its JSON, its table, and a usage error. */
static void test_restart_run(void)
{
        struct bench_child_output o;

        run_bench((const char *[]){ "restart", "--kills", "3", "--json", NULL }, &o);
        if (o.status != 0)
                udk_test_fail("udk-bench restart: exit %d; stderr: %s", o.status, o.err);
        ASSERT_STR_CONTAINS(o.out, "{\n  \"restart_ms\": {\n    \"p50\": ");
        ASSERT_STR_CONTAINS(o.out, "\"p99\": ");
        ASSERT_STR_CONTAINS(o.out, "\"max\": ");
        ASSERT_STR_CONTAINS(o.out, "\"kills\": 3\n}\n");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "restart", "--kills", "2", NULL }, &o);
        ASSERT_INT_EQ(o.status, 0);
        ASSERT_STR_CONTAINS(o.out, "restart: 2 SIGKILLs of the test audio driver, until its device's signal is back\n");
        ASSERT_STR_CONTAINS(o.out, "  restart (ms) ");
        ASSERT_STR_CONTAINS(o.out, "  target: p50 <= 20 ms ");
        bench_child_output_free(&o);

        run_bench((const char *[]){ "restart", "--kills", "0", NULL }, &o);
        ASSERT_INT_EQ(o.status, 2);
        ASSERT_STR_EQ(o.err, "udk-bench restart: --kills '0': not a whole number in 1..100000\n"
                             "Try 'udk-bench restart --help' for more information.\n");
        bench_child_output_free(&o);
}

UDK_TEST_MAIN(test_resample_run, test_percentile_sorted, test_median, test_json_writer, test_json_depth_limit,
              test_run_captures_both_streams, test_run_large_output_and_stdin,
              test_run_signal_and_missing_program, test_find_program, test_self_and_plugin_path,
              test_cyclictest_parse, test_cyclictest_parse_overflows_and_threads,
              test_cyclictest_parse_errors, test_callgrind_parse, test_machine, test_usage_errors,
              test_cycle_inner, test_cycle_json, test_latency_from_histogram_and_merge,
              test_proc_stat_cpu_ticks, test_process_cpu, test_cpu_mask_format, test_chain_options,
              test_chain_targets, test_chain_json, test_chain_table, test_chain_messages,
              test_chain_client_no_server, test_pingpong, test_chain_usage_errors, test_chain_run,
              test_mtdm_create, test_mtdm_generate, test_mtdm_delays, test_mtdm_delays_with_noise,
              test_mtdm_generated_and_delayed, test_mtdm_no_signal, test_mtdm_phases_disagree,
              test_latency_json, test_latency_table, test_latency_usage_errors, test_latency_run,
              test_compare_stats, test_compare_table, test_compare_options, test_compare_ratio,
              test_compare_targets, test_compare_json, test_compare_table_output, test_svg,
              test_servers_spawn, test_servers_remove_stale, test_compare_usage_errors, test_compare_missing,
              test_compare_run_udk, test_compare_run_jack2, test_match_run, test_restart_run)
