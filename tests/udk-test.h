/* SPDX-License-Identifier: MIT */
/*
 * udk's test harness: one program per area, each test forked so a crash or
 * an abort fails that test alone, results in TAP (meson reads it), exit 77
 * for a test that cannot run here.  Assertions print both sides.
 *
 *   static void test_ring_empty(void) { ... ASSERT_INT_EQ(r, 0); }
 *   UDK_TEST_MAIN(test_ring_empty, test_ring_full)
 */
#ifndef UDK_TEST_H
#define UDK_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UDK_TEST_EXIT_SKIP 77
#define UDK_TEST_EXIT_RETRY 75 /* EX_TEMPFAIL */
#define UDK_TEST_ATTEMPTS 3
#define UDK_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define UDK_TEST_TIMEOUT_S_DEFAULT 60

struct udk_test_case {
        const char *name;
        void (*fn)(void);
};

#define udk_test_fail(...)                                                                                   \
        do {                                                                                                 \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                              \
                fprintf(stderr, __VA_ARGS__);                                                                \
                fputc('\n', stderr);                                                                         \
                fflush(stderr);                                                                              \
                abort();                                                                                     \
        } while (0)

#define UDK_TEST_SKIP(...)                                                                                   \
        do {                                                                                                 \
                fprintf(stderr, "skip: ");                                                                   \
                fprintf(stderr, __VA_ARGS__);                                                                \
                fputc('\n', stderr);                                                                         \
                exit(UDK_TEST_EXIT_SKIP);                                                                    \
        } while (0)

/*
 * The machine, not the code, spoiled this run (a test that measures
 * real-time behaviour saw the host stall every participant at once): run
 * the test again, at most UDK_TEST_ATTEMPTS times in all.  A fault of the
 * code shows in every attempt and still fails the test.
 */
#define UDK_TEST_RETRY(...)                                                                                  \
        do {                                                                                                 \
                fprintf(stderr, "retry: ");                                                                  \
                fprintf(stderr, __VA_ARGS__);                                                                \
                fputc('\n', stderr);                                                                         \
                fflush(NULL);                                                                                \
                _exit(UDK_TEST_EXIT_RETRY);                                                                  \
        } while (0)

#define ASSERT_TRUE(x)                                                                                       \
        do {                                                                                                 \
                if (!(x))                                                                                    \
                        udk_test_fail("ASSERT_TRUE(%s) failed", #x);                                         \
        } while (0)

#define ASSERT_FALSE(x)                                                                                      \
        do {                                                                                                 \
                if (x)                                                                                       \
                        udk_test_fail("ASSERT_FALSE(%s) failed", #x);                                        \
        } while (0)

/* A call returning 0 (or >= 0) or a negative errno. */
#define ASSERT_OK(expr)                                                                                      \
        do {                                                                                                 \
                long long _r = (long long)(expr);                                                            \
                if (_r < 0)                                                                                  \
                        udk_test_fail("ASSERT_OK(%s) failed: %lld (%s)", #expr, _r, strerror((int)-_r));     \
        } while (0)

#define ASSERT_ERROR(expr, err)                                                                              \
        do {                                                                                                 \
                long long _r = (long long)(expr);                                                            \
                if (_r != -(long long)(err))                                                                 \
                        udk_test_fail("ASSERT_ERROR(%s, %s) failed: got %lld (%s), want %lld (%s)", #expr,   \
                                      #err, _r, _r < 0 ? strerror((int)-_r) : "no error",                   \
                                      -(long long)(err), strerror(err));                                     \
        } while (0)

#define UDK_ASSERT_CMP_(a, op, b, type, fmt)                                                                 \
        do {                                                                                                 \
                type _a = (type)(a);                                                                         \
                type _b = (type)(b);                                                                         \
                if (!(_a op _b))                                                                             \
                        udk_test_fail("%s %s %s failed: " fmt " vs " fmt, #a, #op, #b, _a, _b);              \
        } while (0)

#define ASSERT_INT_EQ(a, b)  UDK_ASSERT_CMP_(a, ==, b, long long, "%lld")
#define ASSERT_INT_NE(a, b)  UDK_ASSERT_CMP_(a, !=, b, long long, "%lld")
#define ASSERT_INT_LT(a, b)  UDK_ASSERT_CMP_(a, <, b, long long, "%lld")
#define ASSERT_INT_LE(a, b)  UDK_ASSERT_CMP_(a, <=, b, long long, "%lld")
#define ASSERT_INT_GT(a, b)  UDK_ASSERT_CMP_(a, >, b, long long, "%lld")
#define ASSERT_INT_GE(a, b)  UDK_ASSERT_CMP_(a, >=, b, long long, "%lld")
#define ASSERT_UINT_EQ(a, b) UDK_ASSERT_CMP_(a, ==, b, unsigned long long, "%llu")
#define ASSERT_UINT_LE(a, b) UDK_ASSERT_CMP_(a, <=, b, unsigned long long, "%llu")
#define ASSERT_UINT_GE(a, b) UDK_ASSERT_CMP_(a, >=, b, unsigned long long, "%llu")
#define ASSERT_PTR_EQ(a, b)  UDK_ASSERT_CMP_(a, ==, b, const void *, "%p")
#define ASSERT_PTR_NE(a, b)  UDK_ASSERT_CMP_(a, !=, b, const void *, "%p")
#define ASSERT_NOT_NULL(a)   UDK_ASSERT_CMP_(a, !=, NULL, const void *, "%p")

/* Bit-exact float equality (NaN never equal), printed with full precision. */
#define ASSERT_FLOAT_EQ(a, b) UDK_ASSERT_CMP_(a, ==, b, double, "%.9g")

#define ASSERT_NEAR(a, b, tol)                                                                               \
        do {                                                                                                 \
                double _a = (double)(a), _b = (double)(b), _t = (double)(tol);                               \
                if (!(fabs(_a - _b) <= _t))                                                                  \
                        udk_test_fail("|%s - %s| <= %s failed: %.12g vs %.12g (diff %.3g)", #a, #b, #tol,    \
                                      _a, _b, fabs(_a - _b));                                                \
        } while (0)

#define ASSERT_STR_EQ(a, b)                                                                                  \
        do {                                                                                                 \
                const char *_a = (a), *_b = (b);                                                             \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                                       \
                        udk_test_fail("%s == %s failed: \"%s\" vs \"%s\"", #a, #b, _a ? _a : "(null)",       \
                                      _b ? _b : "(null)");                                                   \
        } while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                                                     \
        do {                                                                                                 \
                const char *_h = (hay), *_n = (needle);                                                      \
                if (!_h || !strstr(_h, _n))                                                                  \
                        udk_test_fail("%s does not contain \"%s\": \"%s\"", #hay, _n, _h ? _h : "(null)");   \
        } while (0)

/*
 * Run each test in a child with an alarm (UDK_TEST_TIMEOUT_S seconds, or
 * the default).  Argument: a test name runs that test alone, in-process
 * (for gdb).  A test that exits UDK_TEST_EXIT_RETRY (UDK_TEST_RETRY) runs
 * again, UDK_TEST_ATTEMPTS times at most, and fails if every attempt did.
 * Prints TAP; exits 0 if no test failed and one passed, 77 if every test
 * skipped, 1 otherwise.
 */
static inline int udk_test_run(int argc, char **argv, const struct udk_test_case *tests, size_t n)
{
        unsigned timeout = UDK_TEST_TIMEOUT_S_DEFAULT;
        const char *env = getenv("UDK_TEST_TIMEOUT_S");
        size_t passed = 0, failed = 0, skipped = 0;

        if (env && atoi(env) > 0)
                timeout = (unsigned)atoi(env);
        if (argc > 1) {
                for (size_t i = 0; i < n; i++)
                        if (strcmp(argv[1], tests[i].name) == 0) {
                                tests[i].fn();
                                return 0;
                        }
                fprintf(stderr, "no test named %s\n", argv[1]);
                return 1;
        }

        setvbuf(stdout, NULL, _IONBF, 0);
        printf("TAP version 13\n1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                int status = 0;

                for (int attempt = 1; attempt <= UDK_TEST_ATTEMPTS; attempt++) {
                        pid_t pid = fork();
                        if (pid < 0) {
                                perror("fork");
                                return 1;
                        }
                        if (pid == 0) {
                                alarm(timeout);
                                tests[i].fn();
                                fflush(NULL);
                                _exit(0);
                        }
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        if (!WIFEXITED(status) || WEXITSTATUS(status) != UDK_TEST_EXIT_RETRY)
                                break;
                        printf("# %s: attempt %d of %d spoiled by the machine\n", tests[i].name, attempt,
                               UDK_TEST_ATTEMPTS);
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                        printf("ok %zu - %s\n", i + 1, tests[i].name);
                        passed++;
                } else if (WIFEXITED(status) && WEXITSTATUS(status) == UDK_TEST_EXIT_SKIP) {
                        printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
                        skipped++;
                } else {
                        if (WIFSIGNALED(status))
                                printf("not ok %zu - %s (signal %d%s)\n", i + 1, tests[i].name,
                                       WTERMSIG(status), WTERMSIG(status) == SIGALRM ? ", timed out" : "");
                        else if (WEXITSTATUS(status) == UDK_TEST_EXIT_RETRY)
                                printf("not ok %zu - %s (spoiled in all %d attempts)\n", i + 1, tests[i].name,
                                       UDK_TEST_ATTEMPTS);
                        else
                                printf("not ok %zu - %s (exit %d)\n", i + 1, tests[i].name,
                                       WEXITSTATUS(status));
                        failed++;
                }
        }
        if (failed)
                return 1;
        return passed == 0 && skipped > 0 ? UDK_TEST_EXIT_SKIP : 0;
}


/*
 * UDK_TEST_MAIN(a, b, c): a main() that runs the listed tests.  Written out
 * with a compound literal of entries built by the caller's list.
 */
#define UDK_TEST_MAIN(...)                                                                                   \
        int main(int argc, char **argv)                                                                      \
        {                                                                                                    \
                static void (*const fns[])(void) = { __VA_ARGS__ };                                          \
                static const char names[] = #__VA_ARGS__;                                                    \
                struct udk_test_case cases[sizeof(fns) / sizeof(fns[0])];                                    \
                static char buf[sizeof(names)];                                                              \
                char *save = NULL, *tok;                                                                     \
                size_t i = 0;                                                                                \
                memcpy(buf, names, sizeof(names));                                                           \
                for (tok = strtok_r(buf, ", \t\n", &save); tok && i < sizeof(fns) / sizeof(fns[0]);          \
                     tok = strtok_r(NULL, ", \t\n", &save))                                                  \
                        cases[i] = (struct udk_test_case){ tok, fns[i] }, i++;                               \
                return udk_test_run(argc, argv, cases, i);                                                   \
        }

#endif
