/* SPDX-License-Identifier: MIT */
/*
 * udk-bench's helpers (order statistics, JSON, child processes, the readers
 * of cyclictest's and callgrind's output, paths, the machine) and the
 * program's own front: usage errors, the hidden cycle-inner mode and a
 * short `cycle --json` run.  $UDK_BENCH is the udk-bench to run.
 */
#include <math.h>
#include <sched.h>
#include <sys/utsname.h>

#include <udk/util.h>

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

UDK_TEST_MAIN(test_percentile_sorted, test_median, test_json_writer, test_json_depth_limit,
              test_run_captures_both_streams, test_run_large_output_and_stdin,
              test_run_signal_and_missing_program, test_find_program, test_self_and_plugin_path,
              test_cyclictest_parse, test_cyclictest_parse_overflows_and_threads,
              test_cyclictest_parse_errors, test_callgrind_parse, test_machine, test_usage_errors,
              test_cycle_inner, test_cycle_json)
