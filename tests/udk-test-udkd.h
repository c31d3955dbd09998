/* SPDX-License-Identifier: MIT */
/*
 * Running udkd from a test: a child with its stdout and stderr in pipes,
 * every wait bounded by a deadline, a child that hangs killed with SIGKILL
 * and the test failed.  The binary is $UDKD (set by tests/meson.build).
 */
#ifndef UDK_TEST_UDKD_H
#define UDK_TEST_UDKD_H

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>

#include <udk/util.h>

#include "udk-test.h"

/* --- running udkd: a child with its stdout and stderr in pipes, every wait bounded --- */

#define OUTPUT_MAX 65536

struct proc {
        char dir[64];     /* a private folder for its socket and files */
        char socket[128]; /* where it listens: $UDK_SOCKET in the child */
        pid_t pid;
        int out_fd, err_fd;
        int status;
        bool exited;
        char out[OUTPUT_MAX];
        char err[OUTPUT_MAX];
        size_t out_len, err_len;
};

static inline uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline const char *udkd_path(void)
{
        const char *path = getenv("UDKD");

        if (!path || !*path)
                UDK_TEST_SKIP("UDKD is not set (run through meson test)");
        return path;
}

/* Start $UDKD with @args (NULL-terminated, without argv[0]). */
/* @text into @path, in place (a truncating write, not a rename): the test bus driver follows the file
 * it was handed. */
static inline void test_write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t len = strlen(text);

        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, text, len), (long long)len);
        ASSERT_OK(close(fd));
}

static inline void proc_start(struct proc *p, const char *const *args)
{
        const char *argv[64];
        int out[2], err[2];
        size_t n = 0;

        memset(p, 0, sizeof(*p));
        /* Every udkd a test starts listens in a folder of its own, so that
         * tests never meet each other's (or a real) server. */
        snprintf(p->dir, sizeof(p->dir), "/tmp/udk-test-XXXXXX");
        ASSERT_TRUE(mkdtemp(p->dir) != NULL);
        snprintf(p->socket, sizeof(p->socket), "%s/udkd.sock", p->dir);
        argv[n++] = udkd_path();
        for (; args && args[n - 1]; n++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(argv) - 1);
                argv[n] = args[n - 1];
        }
        argv[n] = NULL;

        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                /* A test that dies (a failed assertion aborts) takes its udkd along. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setenv("UDK_SOCKET", p->socket, 1);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
        ASSERT_OK(fcntl(p->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(p->err_fd, F_SETFL, O_NONBLOCK));
}

/* Remove the private folder and what udkd left in it (its socket is gone
 * when it exited cleanly). */
static inline void proc_cleanup(struct proc *p)
{
        char path[256];

        if (!p->dir[0])
                return;
        snprintf(path, sizeof(path), "%s/udkd.conf", p->dir);
        unlink(path);
        unlink(p->socket);
        rmdir(p->dir);
        p->dir[0] = '\0';
}

static inline void proc_kill(struct proc *p)
{
        if (p->pid > 0 && !p->exited) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &p->status, 0);
                p->exited = true;
        }
        proc_cleanup(p);
}

/* Read what the child wrote, for at most @timeout_ms; false once both pipes are at EOF. */
static inline bool proc_pump(struct proc *p, int timeout_ms)
{
        struct pollfd fds[2] = {
            {.fd = p->out_fd, .events = POLLIN},
            {.fd = p->err_fd, .events = POLLIN},
        };
        char *bufs[2] = {p->out, p->err};
        size_t *lens[2] = {&p->out_len, &p->err_len};
        int r;

        if (p->out_fd < 0 && p->err_fd < 0)
                return false;
        r = poll(fds, 2, timeout_ms);
        if (r < 0 && errno == EINTR)
                return true;
        ASSERT_OK(r);
        for (int i = 0; i < 2; i++) {
                ssize_t n;

                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                if (*lens[i] >= OUTPUT_MAX - 1) {
                        proc_kill(p);
                        /* Its last lines say what it repeated. */
                        udk_test_fail("udkd wrote more than %d bytes, ending with:\n%s", OUTPUT_MAX,
                                      bufs[i] + *lens[i] - 1500);
                }
                n = read(fds[i].fd, bufs[i] + *lens[i], OUTPUT_MAX - 1 - *lens[i]);
                if (n > 0) {
                        *lens[i] += (size_t)n;
                        bufs[i][*lens[i]] = '\0';
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        close(fds[i].fd);
                        if (i == 0)
                                p->out_fd = -1;
                        else
                                p->err_fd = -1;
                }
        }
        return true;
}

/* Read until @needle shows on stderr; fail (killing the child) after @timeout_ms. */
static inline void proc_wait_stderr(struct proc *p, const char *needle, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        while (!strstr(p->err, needle)) {
                uint64_t now = now_ms();

                if (now >= deadline || !proc_pump(p, (int)(deadline - now))) {
                        if (strstr(p->err, needle))
                                return;
                        proc_kill(p);
                        udk_test_fail("no \"%s\" from udkd within %d ms; stderr: \"%s\"", needle, timeout_ms,
                                      p->err);
                }
        }
}

/* Read until EOF and reap the child within @timeout_ms, else kill -9 and fail. */
static inline void proc_finish(struct proc *p, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        for (;;) {
                uint64_t now = now_ms();
                pid_t r;

                if (now >= deadline) {
                        proc_kill(p);
                        udk_test_fail("udkd did not exit within %d ms; stderr: \"%s\"", timeout_ms, p->err);
                }
                if (proc_pump(p, (int)UDK_MIN(deadline - now, 50u)))
                        continue;
                r = waitpid(p->pid, &p->status, WNOHANG);
                ASSERT_OK(r);
                if (r == p->pid) {
                        p->exited = true;
                        proc_cleanup(p);
                        return;
                }
                usleep(10000);
        }
}

/* The exit status, failing for a child killed by a signal. */
static inline int proc_exit_status(const struct proc *p)
{
        if (!WIFEXITED(p->status))
                udk_test_fail("udkd did not exit normally (status 0x%x, signal %d); stderr: \"%s\"",
                              p->status, WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0, p->err);
        return WEXITSTATUS(p->status);
}

/* Run $UDKD with @args to the end (bounded by @timeout_ms) and return its exit status. */
static inline int run_udkd(struct proc *p, int timeout_ms, const char *const *args)
{
        proc_start(p, args);
        proc_finish(p, timeout_ms);
        return proc_exit_status(p);
}

/* Wait until udkd accepts connections on its socket (bounded), failing with its stderr. */
static inline void proc_wait_socket(struct proc *p, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        udk_strlcpy(sa.sun_path, p->socket, sizeof(sa.sun_path));
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                bool ok;

                ASSERT_OK(fd);
                ok = connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
                close(fd);
                if (ok)
                        return;
                if (now_ms() >= deadline) {
                        proc_kill(p);
                        udk_test_fail("udkd did not listen on %s within %d ms; stderr: \"%s\"", p->socket,
                                      timeout_ms, p->err);
                }
                proc_pump(p, 10);
        }
}

/*
 * Write @config into the private folder and start udkd on it with @args
 * (NULL-terminated, may be NULL) after --config; return once it listens.
 */
static inline void proc_start_server(struct proc *p, const char *config, const char *const *args)
{
        const char *argv[32] = { "--config", NULL };
        char conf[96];
        size_t n = 2;
        FILE *f;

        snprintf(conf, sizeof(conf), "/tmp/udk-test-conf-XXXXXX");
        {
                int fd = mkstemp(conf);
                ASSERT_OK(fd);
                f = fdopen(fd, "w");
                ASSERT_TRUE(f != NULL);
                fputs(config, f);
                ASSERT_OK(fclose(f));
        }
        argv[1] = conf;
        for (; args && *args; args++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        proc_start(p, argv);
        proc_wait_socket(p, 10000);
        unlink(conf); /* udkd has read it */
}

/* SIGTERM, wait (bounded), check it exited 0, clean up. */
static inline void proc_stop_server(struct proc *p)
{
        kill(p->pid, SIGTERM);
        proc_finish(p, 10000);
        ASSERT_INT_EQ(proc_exit_status(p), 0);
}

#define RUN_UDKD(p, timeout_ms, ...) run_udkd(p, timeout_ms, (const char *const[]){__VA_ARGS__, NULL})

/* --- udkctl against a udkd --- */

/* Run $UDKCTL --socket @socket @args (NULL-terminated) to its end, within 10 s; its exit status, its
 * output in @p (p->out, p->err). */
static inline int udkctl_run(struct proc *p, const char *socket, const char *const *args)
{
        const char *argv[16] = { getenv("UDKCTL"), "--socket", socket };
        size_t n = 3;
        int out[2], err[2];

        if (!argv[0] || !*argv[0])
                UDK_TEST_SKIP("UDKCTL is not set (run through meson test)");
        for (; *args; args++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        memset(p, 0, sizeof(*p));
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
        ASSERT_OK(fcntl(p->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(p->err_fd, F_SETFL, O_NONBLOCK));
        proc_finish(p, 10000);
        return proc_exit_status(p);
}

#define UDKCTL(p, socket, ...) udkctl_run(p, socket, (const char *const[]){ __VA_ARGS__, NULL })

#endif
