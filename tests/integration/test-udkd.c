/* SPDX-License-Identifier: MIT */
/*
 * udkd as a process: the embedded default device runs and reports its
 * statistics, signals stop it cleanly and in bounded time, and the command
 * line behaves (help, version, usage errors with exit 2).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <udk/util.h>

#include "udk-build-config.h"
#include "udk-test.h"
#include "udk-test-udkd.h"

#define TIMEOUT_MS 20000
#define STARTED    "udkd: info: default: backend virtual"

/* The "cycles N" of each statistics line of @device in @out, in order; how many. */
static size_t stats_cycles(const char *out, const char *device, uint64_t *cycles, size_t max)
{
        char prefix[128];
        size_t n = 0;

        snprintf(prefix, sizeof(prefix), "%s: cycles ", device);
        for (const char *line = out; line && *line;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                if (strncmp(line, prefix, strlen(prefix)) != 0)
                        continue;
                ASSERT_TRUE(n < max);
                ASSERT_INT_EQ(sscanf(line + strlen(prefix), "%" SCNu64, &cycles[n]), 1);
                n++;
        }
        return n;
}

static void test_default_stats(void)
{
        static struct proc p;
        uint64_t cycles[8], start = now_ms(), elapsed;
        int status;

        status = RUN_UDKD(&p, TIMEOUT_MS, "--duration", "2", "--stats", "1");
        elapsed = now_ms() - start;
        ASSERT_INT_EQ(status, 0);
        ASSERT_STR_CONTAINS(p.err, STARTED ", 48000 Hz, 64 frames, 2 in, 2 out, f32, latency in ");
        ASSERT_STR_CONTAINS(p.err, ", handlers: gain\n");
        ASSERT_STR_CONTAINS(p.err, "udkd: info: duration over, stopping\n");
        ASSERT_FALSE(strstr(p.err, "error"));

        /* One line a second for two seconds: the one at 2 s comes before the stop. */
        ASSERT_UINT_EQ(stats_cycles(p.out, "default", cycles, UDK_ELEMENTSOF(cycles)), 2);
        ASSERT_STR_CONTAINS(p.out, " period 1333.3 us late p50 ");
        ASSERT_STR_CONTAINS(p.out, " us busy avg ");
        ASSERT_STR_CONTAINS(p.out, "%) xruns ");
        /* 750 periods a second: never more than the clock allows, advancing between lines. */
        ASSERT_UINT_GE(cycles[0], 100);
        ASSERT_UINT_LE(cycles[0], 760);
        ASSERT_UINT_GE(cycles[1], cycles[0] + 100);
        ASSERT_UINT_LE(cycles[1], 1510);
        ASSERT_UINT_GE(elapsed, 2000);
        ASSERT_UINT_LE(elapsed, 10000);
}

static void test_stats_meter(void)
{
        static struct proc p;
        char path[PATH_MAX];
        uint64_t cycles[8];
        const char *dir = getenv("TMPDIR");
        int fd, status;
        /* The virtual sine peaks at its level, -12 dB; a gain of -6 before the meter makes it -18. */
        static const char text[] = "[device]\n"
                                   "name = m\n"
                                   "channels = 2\n"
                                   "handlers = gain, meter\n"
                                   "gain.level = -6\n";

        snprintf(path, sizeof(path), "%s/udkd-test-XXXXXX.conf", dir && *dir ? dir : "/tmp");
        fd = mkstemps(path, 5);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, text, sizeof(text) - 1), (long long)sizeof(text) - 1);
        ASSERT_OK(close(fd));
        status = RUN_UDKD(&p, TIMEOUT_MS, "-c", path, "-d", "1", "-s0.5", "-q");
        unlink(path);
        ASSERT_INT_EQ(status, 0);
        ASSERT_UINT_EQ(stats_cycles(p.out, "m", cycles, UDK_ELEMENTSOF(cycles)), 2);
        ASSERT_STR_CONTAINS(p.out, " | meter.input_peak -18.0 -18.0 dBFS | meter.output_peak ");
        /* -q keeps the statistics (stdout) and drops the info lines. */
        ASSERT_FALSE(strstr(p.err, "info:"));
}

static void stop_with(int signo, const char *message)
{
        static struct proc p;
        uint64_t sent;

        proc_start(&p, (const char *const[]){NULL});
        proc_wait_stderr(&p, STARTED, TIMEOUT_MS);
        usleep(1000000);
        ASSERT_OK(kill(p.pid, signo));
        sent = now_ms();
        proc_finish(&p, 5000);
        ASSERT_INT_EQ(proc_exit_status(&p), 0);
        ASSERT_UINT_LE(now_ms() - sent, 5000);
        ASSERT_STR_CONTAINS(p.err, message);
        ASSERT_FALSE(strstr(p.err, "error"));
}

static void test_sigterm(void)
{
        char message[128];

        snprintf(message, sizeof(message), "udkd: info: %s, stopping\n", strsignal(SIGTERM));
        stop_with(SIGTERM, message);
}

static void test_sigint(void)
{
        char message[128];

        snprintf(message, sizeof(message), "udkd: info: %s, stopping\n", strsignal(SIGINT));
        stop_with(SIGINT, message);
}

static void test_sighup_ignored(void)
{
        static struct proc p;

        proc_start(&p, (const char *const[]){"--stats=0.2", NULL});
        proc_wait_stderr(&p, STARTED, TIMEOUT_MS);
        ASSERT_OK(kill(p.pid, SIGHUP));
        proc_wait_stderr(&p, "udkd: info: SIGHUP ignored (no reload yet)\n", TIMEOUT_MS);
        /* Still running: more statistics come. */
        {
                uint64_t deadline = now_ms() + TIMEOUT_MS;
                size_t before = strlen(p.out);

                while (strlen(p.out) == before && now_ms() < deadline)
                        ASSERT_TRUE(proc_pump(&p, 100));
                ASSERT_UINT_GE(strlen(p.out), before + 1);
        }
        ASSERT_OK(kill(p.pid, SIGTERM));
        proc_finish(&p, 5000);
        ASSERT_INT_EQ(proc_exit_status(&p), 0);
}

static void test_check_default(void)
{
        static struct proc p;
        int status;

        status = RUN_UDKD(&p, TIMEOUT_MS, "--check");
        ASSERT_INT_EQ(status, 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_TRUE(
            strncmp(
                p.out, "default: backend virtual, 48000 Hz, 64 frames, 2 in, 2 out, f32, latency in ",
                strlen("default: backend virtual, 48000 Hz, 64 frames, 2 in, 2 out, f32, latency in ")) ==
            0);
        ASSERT_STR_CONTAINS(p.out, ", priority 70, handlers: gain\n<default>: configuration OK, 1 device\n");
}

static void test_help(void)
{
        static const char *const options[] = {
            "-c, --config FILE",
            "-p, --plugin-path PATH",
            "-s, --stats[=SECONDS]",
            "-d, --duration SECONDS",
            "--check",
            "-v, --verbose",
            "-q, --quiet",
            "-h, --help",
            "-V, --version",
            "[device]",
            "handlers = gain",
        };
        static struct proc p;

        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--help"), 0);
        ASSERT_TRUE(strncmp(p.out, "Usage: udkd [OPTION]...\n", 24) == 0);
        for (size_t i = 0; i < UDK_ELEMENTSOF(options); i++)
                ASSERT_STR_CONTAINS(p.out, options[i]);
        ASSERT_STR_EQ(p.err, "");

        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-h"), 0);
        ASSERT_TRUE(strncmp(p.out, "Usage: udkd [OPTION]...\n", 24) == 0);
}

static void test_version(void)
{
        static struct proc p;

        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--version"), 0);
        ASSERT_STR_EQ(p.out, "udkd " UDK_VERSION "\n");
        ASSERT_STR_EQ(p.err, "");
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-V"), 0);
        ASSERT_STR_EQ(p.out, "udkd " UDK_VERSION "\n");
}

#define HINT "\nTry 'udkd --help' for more information.\n"

static void test_usage_errors(void)
{
        static struct proc p;

        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--bogus"), 2);
        ASSERT_STR_EQ(p.err, "udkd: unknown option '--bogus'" HINT);
        ASSERT_STR_EQ(p.out, "");
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-x"), 2);
        ASSERT_STR_EQ(p.err, "udkd: unknown option '-x'" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--config"), 2);
        ASSERT_STR_EQ(p.err, "udkd: option '--config' needs an argument" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-d"), 2);
        ASSERT_STR_EQ(p.err, "udkd: option '-d' needs an argument" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-vx"), 2);
        ASSERT_STR_EQ(p.err, "udkd: unknown option '-x'" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--duration", "soon"), 2);
        ASSERT_STR_EQ(p.err, "udkd: --duration 'soon': not a number of seconds (0.001..3.1536e+07)" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--stats=0"), 2);
        ASSERT_STR_EQ(p.err, "udkd: --stats '0': not a number of seconds (0.01..3.1536e+07)" HINT);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--check", "studio.conf"), 2);
        ASSERT_STR_EQ(p.err, "udkd: unexpected argument 'studio.conf'" HINT);
        /* Eight personality folders at most (docs/security.md's limits). */
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "--drivers", "/a", "--drivers", "/b", "--drivers", "/c", "--drivers",
                               "/d", "--drivers", "/e", "--drivers", "/f", "--drivers", "/g", "--drivers", "/h",
                               "--drivers", "/i"),
                      2);
        ASSERT_STR_EQ(p.err, "udkd: --drivers given more than 8 times" HINT);
}

static void test_verbose(void)
{
        static struct proc p;

        /* -v after -q wins; the run is the same. */
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-q", "-v", "-d", "0.2"), 0);
        ASSERT_STR_CONTAINS(p.err, STARTED);
        ASSERT_INT_EQ(RUN_UDKD(&p, TIMEOUT_MS, "-v", "-q", "-d", "0.2"), 0);
        ASSERT_FALSE(strstr(p.err, "info:"));
}

UDK_TEST_MAIN(test_default_stats, test_stats_meter, test_sigterm, test_sigint, test_sighup_ignored,
              test_check_default, test_help, test_version, test_usage_errors, test_verbose)
