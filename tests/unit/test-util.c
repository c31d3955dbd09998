/* SPDX-License-Identifier: MIT */
/* The number parsers, strlcpy, logging and object ids (rtcore's small helpers). */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#include <udk/log.h>
#include <udk/object.h>
#include <udk/util.h>

#include "udk-test.h"

#define SENTINEL_I 0x5a5a5a5aLL
#define SENTINEL_D 123.25

static int64_t parse_i(const char *text, int64_t min, int64_t max, int *ret_r)
{
        int64_t v = SENTINEL_I;

        *ret_r = udk_parse_int64(text, min, max, &v);
        return v;
}

static void expect_int(const char *text, int64_t want)
{
        int r;
        int64_t v = parse_i(text, INT64_MIN, INT64_MAX, &r);

        if (r != 0)
                udk_test_fail("udk_parse_int64(\"%s\") = %d (%s), want %" PRId64, text, r, strerror(-r),
                              want);
        if (v != want)
                udk_test_fail("udk_parse_int64(\"%s\") gave %" PRId64 ", want %" PRId64, text, v, want);
}

static void expect_int_error(const char *text, int64_t min, int64_t max, int err)
{
        int r;
        int64_t v = parse_i(text, min, max, &r);

        if (r != -err)
                udk_test_fail("udk_parse_int64(\"%s\") = %d, want %d", text ? text : "(null)", r, -err);
        if (v != SENTINEL_I)
                udk_test_fail("udk_parse_int64(\"%s\") touched its output on failure: %" PRId64,
                              text ? text : "(null)", v);
}

static void test_parse_int64_valid(void)
{
        expect_int("0", 0);
        expect_int("-0", 0);
        expect_int("42", 42);
        expect_int("+7", 7);
        expect_int("-42", -42);
        expect_int("010", 10); /* decimal, never octal */
        expect_int("0x1f", 31);
        expect_int("0X1F", 31);
        expect_int("0xAbC", 0xabc);
        expect_int("-0x10", -16);
        expect_int("9223372036854775807", INT64_MAX);
        expect_int("-9223372036854775808", INT64_MIN);
        expect_int("0x7fffffffffffffff", INT64_MAX);
        expect_int("-0x8000000000000000", INT64_MIN);
        expect_int("000000000000000000000000000000042", 42);
}

static void test_parse_int64_invalid(void)
{
        static const char *const bad[] = {
                "",   " 1",  "1 ",  "\t1",  "1\n", "1a",  "a1",  "0x",   "-",    "+",   "--1",
                "+-1", "0x-1", "0xg", "0x1g", "1.5", "1e3", "0b1", "- 1",  "0x 1", "\xd9\xa1", "12 34",
        };

        for (size_t i = 0; i < UDK_ELEMENTSOF(bad); i++)
                expect_int_error(bad[i], INT64_MIN, INT64_MAX, EINVAL);
        expect_int_error(NULL, INT64_MIN, INT64_MAX, EINVAL);
        /* Garbage after an overflowing prefix is still garbage, not a range error. */
        expect_int_error("99999999999999999999999x", INT64_MIN, INT64_MAX, EINVAL);
        /* Empty bounds are a caller bug. */
        expect_int_error("5", 10, 0, EINVAL);

        int r = udk_parse_int64("5", 0, 10, NULL);
        ASSERT_ERROR(r, EINVAL);
}

static void test_parse_int64_range(void)
{
        int r;

        expect_int_error("9223372036854775808", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("-9223372036854775809", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("18446744073709551616", INT64_MIN, INT64_MAX, ERANGE); /* 2^64: wraps a u64 */
        expect_int_error("99999999999999999999999999999", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("0x8000000000000000", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("0xffffffffffffffff", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("0x10000000000000000", INT64_MIN, INT64_MAX, ERANGE);
        expect_int_error("-0x8000000000000001", INT64_MIN, INT64_MAX, ERANGE);

        /* The caller's bounds, both inclusive. */
        ASSERT_INT_EQ(parse_i("10", 0, 10, &r), 10);
        ASSERT_INT_EQ(r, 0);
        ASSERT_INT_EQ(parse_i("0", 0, 10, &r), 0);
        ASSERT_INT_EQ(r, 0);
        ASSERT_INT_EQ(parse_i("-3", -3, -3, &r), -3);
        ASSERT_INT_EQ(r, 0);
        expect_int_error("11", 0, 10, ERANGE);
        expect_int_error("-1", 0, 10, ERANGE);
        expect_int_error("0x100", 0, 255, ERANGE);
        expect_int_error("-4", -3, -3, ERANGE);
}

static void expect_double(const char *text, double want)
{
        double v = SENTINEL_D;
        int r = udk_parse_double(text, -1e300, 1e300, &v);

        if (r != 0)
                udk_test_fail("udk_parse_double(\"%s\") = %d (%s)", text, r, strerror(-r));
        if (v != want)
                udk_test_fail("udk_parse_double(\"%s\") gave %.17g, want %.17g", text, v, want);
}

static void expect_double_error(const char *text, double min, double max, int err)
{
        double v = SENTINEL_D;
        int r = udk_parse_double(text, min, max, &v);

        if (r != -err)
                udk_test_fail("udk_parse_double(\"%s\") = %d, want %d", text ? text : "(null)", r, -err);
        if (v != SENTINEL_D)
                udk_test_fail("udk_parse_double(\"%s\") touched its output on failure: %g",
                              text ? text : "(null)", v);
}

static void test_parse_double_valid(void)
{
        expect_double("0", 0.0);
        expect_double("0.5", 0.5);
        expect_double("-0.25", -0.25);
        expect_double("+2", 2.0);
        expect_double("1e3", 1000.0);
        expect_double("-1.5E-3", -1.5e-3);
        expect_double(".5", 0.5);
        expect_double("5.", 5.0);
        expect_double("0x1p3", 8.0);
        expect_double("48000", 48000.0);
        /* Underflow keeps its (tiny) value: it is a number, inside the bounds. */
        double v = SENTINEL_D;
        ASSERT_OK(udk_parse_double("1e-400", -1.0, 1.0, &v));
        ASSERT_TRUE(v >= 0.0 && v < 1e-300);
}

static void test_parse_double_invalid(void)
{
        static const char *const bad[] = {
                "",   " 1",       "1 ",   "\t0.5", "0.5\n", "1x",  "x1",   ".",   "e5",  "-",
                "1e", "1.2.3",    "nan",  "NAN",   "-nan",  "inf", "-inf", "INF", "infinity",
                "nan(123)",       "0,5",  "1e5e5", "++1",   "0x",
        };
        double v = SENTINEL_D;

        for (size_t i = 0; i < UDK_ELEMENTSOF(bad); i++)
                expect_double_error(bad[i], -1e300, 1e300, EINVAL);
        expect_double_error(NULL, 0.0, 1.0, EINVAL);
        expect_double_error("0.5", 1.0, 0.0, EINVAL); /* empty bounds */
        expect_double_error("0.5", NAN, 1.0, EINVAL);
        ASSERT_ERROR(udk_parse_double("0.5", 0.0, 1.0, NULL), EINVAL);
        /* Infinite bounds are fine; an infinite value is not. */
        ASSERT_OK(udk_parse_double("1e300", -INFINITY, INFINITY, &v));
        ASSERT_FLOAT_EQ(v, 1e300);
        expect_double_error("inf", -INFINITY, INFINITY, EINVAL);
}

static void test_parse_double_range(void)
{
        double v = SENTINEL_D;

        expect_double_error("1e999", -INFINITY, INFINITY, ERANGE);
        expect_double_error("-1e999", -INFINITY, INFINITY, ERANGE);
        expect_double_error("1.0000001", 0.0, 1.0, ERANGE);
        expect_double_error("-0.001", 0.0, 1.0, ERANGE);
        expect_double_error("2e6", 1.0, 768000.0, ERANGE);

        ASSERT_OK(udk_parse_double("1", 0.0, 1.0, &v));
        ASSERT_FLOAT_EQ(v, 1.0);
        ASSERT_OK(udk_parse_double("0", 0.0, 1.0, &v));
        ASSERT_FLOAT_EQ(v, 0.0);
}

/* Hex bytes, as udkctl --struct and a HID nub's report_descriptor give them. */
static void test_parse_hex(void)
{
        static const char *const bad[] = { "0", "abc", "0g", "g0", " 00", "00 ", "0x00", "-1", "\xd9\xa1" };
        uint8_t buf[4];
        size_t len = 99;

        ASSERT_OK(udk_parse_hex("", buf, sizeof(buf), &len));
        ASSERT_UINT_EQ(len, 0);
        ASSERT_OK(udk_parse_hex("00fFa59C", buf, sizeof(buf), &len));
        ASSERT_UINT_EQ(len, 4);
        ASSERT_UINT_EQ(buf[0], 0x00);
        ASSERT_UINT_EQ(buf[1], 0xff);
        ASSERT_UINT_EQ(buf[2], 0xa5);
        ASSERT_UINT_EQ(buf[3], 0x9c);
        for (size_t i = 0; i < UDK_ELEMENTSOF(bad); i++) {
                len = 99;
                ASSERT_ERROR(udk_parse_hex(bad[i], buf, sizeof(buf), &len), EINVAL);
                ASSERT_UINT_EQ(len, 99);
        }
        /* One byte more than the buffer holds. */
        ASSERT_ERROR(udk_parse_hex("0011223344", buf, sizeof(buf), &len), EINVAL);
}

static void test_strlcpy(void)
{
        char buf[8];

        memset(buf, 'z', sizeof(buf));
        ASSERT_OK(udk_strlcpy(buf, "abc", sizeof(buf)));
        ASSERT_STR_EQ(buf, "abc");

        ASSERT_OK(udk_strlcpy(buf, "1234567", sizeof(buf))); /* exactly fits */
        ASSERT_STR_EQ(buf, "1234567");

        memset(buf, 'z', sizeof(buf));
        ASSERT_ERROR(udk_strlcpy(buf, "12345678", sizeof(buf)), ENAMETOOLONG);
        ASSERT_STR_EQ(buf, "1234567");
        ASSERT_ERROR(udk_strlcpy(buf, "a much longer string", 4), ENAMETOOLONG);
        ASSERT_STR_EQ(buf, "a m");
        ASSERT_INT_EQ(buf[4], '5'); /* nothing past @size touched */

        ASSERT_ERROR(udk_strlcpy(buf, "x", 1), ENAMETOOLONG);
        ASSERT_STR_EQ(buf, "");
        ASSERT_OK(udk_strlcpy(buf, "", 1));
        ASSERT_STR_EQ(buf, "");

        memset(buf, 'z', sizeof(buf));
        ASSERT_ERROR(udk_strlcpy(buf, "abc", 0), EINVAL);
        ASSERT_INT_EQ(buf[0], 'z');
        ASSERT_ERROR(udk_strlcpy(NULL, "abc", 4), EINVAL);
        ASSERT_ERROR(udk_strlcpy(buf, NULL, 4), EINVAL);
}

static int saved_stderr = -1;

/*
 * Point stderr at a fresh memfd; returns it, to read back with
 * log_capture_read(), which gives the test its stderr back for assertions.
 */
static int log_capture_start(void)
{
        int memfd = memfd_create("log", MFD_CLOEXEC), fd;
        char path[64];

        /*
         * Reopened with O_APPEND, as a log file would be: a memfd's own
         * description does not serialise its file position between threads.
         */
        ASSERT_OK(memfd);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
        ASSERT_OK(fd);
        close(memfd);
        saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ASSERT_OK(saved_stderr);
        ASSERT_OK(dup2(fd, STDERR_FILENO));
        return fd;
}

static char *log_capture_read(int fd)
{
        static char buf[1 << 20];
        ssize_t n;

        ASSERT_OK(dup2(saved_stderr, STDERR_FILENO));
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        ASSERT_OK(n);
        buf[n] = '\0';
        return buf;
}

static void test_log_format(void)
{
        int fd = log_capture_start();
        enum udk_log_level initial = udk_log_get_level(), after_bad_set;

        udk_info("hello %d", 5);
        udk_debug("dropped at the default level");
        udk_log_set_ident("udk-test[x]");
        udk_warn("careful");
        udk_error("bad %s", "thing");
        udk_info("own newline\n");
        udk_log_set_level(UDK_LOG_DEBUG);
        udk_debug("now shown");
        udk_log_set_level(UDK_LOG_ERROR);
        udk_warn("dropped");
        udk_info("dropped");
        udk_error("kept");
        udk_log_set_level((enum udk_log_level)17); /* ignored */
        after_bad_set = udk_log_get_level();
        udk_log((enum udk_log_level)-1, "never");
        udk_log_set_ident(NULL); /* back to the default */
        udk_error("default ident");

        ASSERT_STR_EQ(log_capture_read(fd), "udk: info: hello 5\n"
                                            "udk-test[x]: warning: careful\n"
                                            "udk-test[x]: error: bad thing\n"
                                            "udk-test[x]: info: own newline\n"
                                            "udk-test[x]: debug: now shown\n"
                                            "udk-test[x]: error: kept\n"
                                            "udk: error: default ident\n");
        ASSERT_INT_EQ(initial, UDK_LOG_INFO);
        ASSERT_INT_EQ(after_bad_set, UDK_LOG_ERROR);
}

static void test_log_errno_kept(void)
{
        int fd = log_capture_start();

        errno = ENOENT;
        udk_error("open: %m");
        ASSERT_INT_EQ(errno, ENOENT);
        ASSERT_STR_EQ(log_capture_read(fd), "udk: error: open: No such file or directory\n");
}

static void test_log_truncate(void)
{
        static char msg[5000];
        int fd = log_capture_start();
        const char *out;
        size_t len;

        memset(msg, 'x', sizeof(msg) - 1);
        udk_info("%s", msg);
        udk_info("after");
        out = log_capture_read(fd);
        len = strlen(out);

        /* One cut line (the stack buffer less its terminator) and the next line whole. */
        ASSERT_UINT_EQ(len, 1023 + strlen("udk: info: after\n"));
        ASSERT_TRUE(strncmp(out, "udk: info: xxxx", 15) == 0);
        ASSERT_TRUE(strncmp(out + 1023 - 4, "...\nudk: info: after\n", 21) == 0);
        ASSERT_INT_EQ(out[1023 - 5], 'x');
}

static void test_log_env(void)
{
        int fd;

        ASSERT_OK(setenv("UDK_LOG_LEVEL", "debug", 1));
        enum udk_log_level initial;

        fd = log_capture_start();
        initial = udk_log_get_level();
        udk_debug("seen");
        /* The program's own choice still wins over the environment. */
        udk_log_set_level(UDK_LOG_WARN);
        udk_info("dropped");
        udk_warn("seen too");
        ASSERT_STR_EQ(log_capture_read(fd), "udk: debug: seen\nudk: warning: seen too\n");
        ASSERT_INT_EQ(initial, UDK_LOG_DEBUG);
}

static void test_log_env_error(void)
{
        int fd;

        ASSERT_OK(setenv("UDK_LOG_LEVEL", "ERROR", 1));
        fd = log_capture_start();
        udk_warn("dropped");
        udk_error("seen");
        ASSERT_STR_EQ(log_capture_read(fd), "udk: error: seen\n");
        ASSERT_INT_EQ(udk_log_get_level(), UDK_LOG_ERROR);
}

static void test_log_env_invalid(void)
{
        int fd;

        ASSERT_OK(setenv("UDK_LOG_LEVEL", "loud", 1));
        fd = log_capture_start();
        udk_info("hi");
        ASSERT_STR_EQ(log_capture_read(fd),
                      "udk: warning: ignoring UDK_LOG_LEVEL=loud (want error, warn, info "
                      "or debug)\nudk: info: hi\n");
        ASSERT_INT_EQ(udk_log_get_level(), UDK_LOG_INFO);
}

#define LOG_THREADS 4
#define LOG_LINES   2000

static void *log_thread(void *arg)
{
        int t = (int)(intptr_t)arg;

        for (int i = 0; i < LOG_LINES; i++)
                udk_info("thread %d line %d %s", t, i, "padding padding padding padding padding padding");
        return NULL;
}

static void test_log_threads(void)
{
        pthread_t threads[LOG_THREADS];
        int next[LOG_THREADS] = { 0 };
        int fd = log_capture_start();
        char *out, *line, *save = NULL;
        int lines = 0;

        for (int t = 0; t < LOG_THREADS; t++)
                ASSERT_INT_EQ(pthread_create(&threads[t], NULL, log_thread, (void *)(intptr_t)t), 0);
        for (int t = 0; t < LOG_THREADS; t++)
                ASSERT_INT_EQ(pthread_join(threads[t], NULL), 0);

        /* Every line whole, and each thread's lines in its own order. */
        out = log_capture_read(fd);
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                int t = -1, i = -1, used = 0;

                if (sscanf(line, "udk: info: thread %d line %d padding padding padding padding padding "
                                 "padding%n",
                           &t, &i, &used) != 2 ||
                    line[used] != '\0')
                        udk_test_fail("torn log line: \"%s\"", line);
                ASSERT_TRUE(t >= 0 && t < LOG_THREADS);
                ASSERT_INT_EQ(i, next[t]);
                next[t]++;
                lines++;
        }
        ASSERT_INT_EQ(lines, LOG_THREADS * LOG_LINES);
}

static void test_object_init(void)
{
        struct udk_object obj, child;
        char long_name[200];

        memset(&obj, 0xff, sizeof(obj));
        udk_object_init(&obj, UDK_CLASS_DEVICE, UDK_OBJECT_ID_INVALID, "dev0");
        ASSERT_INT_NE(obj.id, UDK_OBJECT_ID_INVALID);
        ASSERT_INT_EQ(obj.klass, UDK_CLASS_DEVICE);
        ASSERT_INT_EQ(obj.parent, UDK_OBJECT_ID_INVALID);
        ASSERT_STR_EQ(obj.name, "dev0");
        ASSERT_INT_EQ(obj.name[sizeof(obj.name) - 1], 0); /* the rest cleared */

        memset(long_name, 'n', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        udk_object_init(&child, UDK_CLASS_STREAM, obj.id, long_name);
        ASSERT_INT_EQ(child.id, obj.id + 1);
        ASSERT_INT_EQ(child.parent, obj.id);
        ASSERT_UINT_EQ(strlen(child.name), UDK_OBJECT_NAME_MAX - 1);
        ASSERT_TRUE(strncmp(child.name, long_name, UDK_OBJECT_NAME_MAX - 1) == 0);

        udk_object_init(&child, UDK_CLASS_ROOT, UDK_OBJECT_ID_INVALID, NULL);
        ASSERT_STR_EQ(child.name, "");
        udk_object_init(NULL, UDK_CLASS_ROOT, 0, "x"); /* no crash */
}

static void test_object_class_name(void)
{
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_ROOT), "root");
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_DRIVER), "driver");
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_DEVICE), "device");
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_STREAM), "stream");
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_CONTROL), "control");
        ASSERT_STR_EQ(udk_object_class_name(UDK_CLASS_HANDLER), "handler");
        ASSERT_STR_EQ(udk_object_class_name((enum udk_object_class)6), "unknown");
        ASSERT_STR_EQ(udk_object_class_name((enum udk_object_class)-1), "unknown");
}

#define ID_THREADS 4
#define ID_COUNT   100000

static udk_object_id ids[ID_THREADS][ID_COUNT];

static void *id_thread(void *arg)
{
        udk_object_id *out = arg;

        for (int i = 0; i < ID_COUNT; i++)
                out[i] = udk_object_id_next();
        return NULL;
}

static int id_cmp(const void *a, const void *b)
{
        udk_object_id x = *(const udk_object_id *)a, y = *(const udk_object_id *)b;

        return (x > y) - (x < y);
}

static void test_object_id_unique(void)
{
        pthread_t threads[ID_THREADS];
        udk_object_id *all = &ids[0][0];
        size_t n = (size_t)ID_THREADS * ID_COUNT;

        /* The first id of a fresh process is 1, never 0. */
        ASSERT_UINT_EQ(udk_object_id_next(), 1);
        ASSERT_UINT_EQ(udk_object_id_next(), 2);

        for (int t = 0; t < ID_THREADS; t++)
                ASSERT_INT_EQ(pthread_create(&threads[t], NULL, id_thread, ids[t]), 0);
        for (int t = 0; t < ID_THREADS; t++)
                ASSERT_INT_EQ(pthread_join(threads[t], NULL), 0);

        /* Each thread saw its own ids grow; together they are exactly 3 .. n + 2. */
        for (int t = 0; t < ID_THREADS; t++)
                for (int i = 1; i < ID_COUNT; i++)
                        ASSERT_UINT_LE(ids[t][i - 1] + 1, ids[t][i]);
        qsort(all, n, sizeof(*all), id_cmp);
        for (size_t i = 0; i < n; i++)
                if (all[i] != i + 3)
                        udk_test_fail("id %zu is %u, want %zu (duplicate or gap)", i, all[i], i + 3);
        ASSERT_UINT_EQ(udk_object_id_next(), n + 3);
}

UDK_TEST_MAIN(test_parse_int64_valid, test_parse_int64_invalid, test_parse_int64_range,
              test_parse_double_valid, test_parse_double_invalid, test_parse_double_range, test_parse_hex, test_strlcpy,
              test_log_format, test_log_errno_kept, test_log_truncate, test_log_env, test_log_env_error,
              test_log_env_invalid, test_log_threads, test_object_init, test_object_class_name,
              test_object_id_unique)
