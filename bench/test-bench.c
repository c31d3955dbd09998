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
#include <sys/utsname.h>
#include <time.h>

#include <udk/stats.h>
#include <udk/util.h>

#include "bench-chain.h"
#include "bench.h"
#include "udk-build-config.h"
#include "udk-test.h"

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

UDK_TEST_MAIN(test_percentile_sorted, test_median, test_json_writer, test_json_depth_limit,
              test_run_captures_both_streams, test_run_large_output_and_stdin,
              test_run_signal_and_missing_program, test_find_program, test_self_and_plugin_path,
              test_cyclictest_parse, test_cyclictest_parse_overflows_and_threads,
              test_cyclictest_parse_errors, test_callgrind_parse, test_machine, test_usage_errors,
              test_cycle_inner, test_cycle_json, test_latency_from_histogram_and_merge,
              test_proc_stat_cpu_ticks, test_process_cpu, test_cpu_mask_format, test_chain_options,
              test_chain_targets, test_chain_json, test_chain_table, test_chain_messages,
              test_chain_client_no_server, test_pingpong, test_chain_usage_errors, test_chain_run)
