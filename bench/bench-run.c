/* SPDX-License-Identifier: MIT */
/*
 * Run a tool (cyclictest, valgrind, udk-bench itself) and keep what it
 * prints.  stdout and stderr come through two pipes read with poll(), so a
 * child that fills one while we wait on the other never blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/util.h>

#include "bench.h"

extern char **environ;

struct capture {
        int fd;
        char *buf;
        size_t len, cap;
};

static int capture_read(struct capture *c)
{
        char chunk[16384];
        ssize_t n = read(c->fd, chunk, sizeof(chunk));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0) {
                close(c->fd);
                c->fd = -1;
                return 0;
        }
        if (c->len + (size_t)n > BENCH_CHILD_OUTPUT_MAX)
                return -EFBIG;
        if (c->len + (size_t)n + 1 > c->cap) {
                size_t cap = UDK_MAX(c->cap * 2, c->len + (size_t)n + 1);
                char *p = realloc(c->buf, cap);
                if (!p)
                        return -ENOMEM;
                c->buf = p;
                c->cap = cap;
        }
        memcpy(c->buf + c->len, chunk, (size_t)n);
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        return 0;
}

/* Read both pipes until both are closed. */
static int capture_all(struct capture *c)
{
        while (c[0].fd >= 0 || c[1].fd >= 0) {
                struct pollfd p[2] = { { .fd = c[0].fd, .events = POLLIN },
                                       { .fd = c[1].fd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < 2; i++) {
                        if (c[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        int r = capture_read(&c[i]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A NUL-terminated copy of what was captured, "" for nothing. */
static char *capture_take(struct capture *c)
{
        char *p = c->buf ? c->buf : strdup("");

        c->buf = NULL;
        return p;
}

static int spawn(char *const argv[], const int out[2], const int err[2], pid_t *ret_pid)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        if (r == 0)
                r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        *ret_pid = pid;
        return 0;
}

static int wait_child(pid_t pid)
{
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int bench_run(char *const argv[], struct bench_child_output *ret)
{
        struct capture c[2] = { { .fd = -1 }, { .fd = -1 } };
        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        struct bench_child_output o;
        pid_t pid = -1;
        int r, status;

        if (!argv || !argv[0])
                return -EINVAL;
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        r = spawn(argv, out, err, &pid);
        close(out[1]);
        close(err[1]);
        c[0].fd = out[0];
        c[1].fd = err[0];
        out[0] = out[1] = err[0] = err[1] = -1;
        if (r < 0)
                goto fail;

        r = capture_all(c);
        if (r < 0)
                kill(pid, SIGKILL);
        status = wait_child(pid);
        if (r == 0 && status < 0)
                r = status;
        if (r < 0)
                goto fail;

        o = (struct bench_child_output){ .out_len = c[0].len, .err_len = c[1].len, .status = status };
        o.out = capture_take(&c[0]);
        o.err = capture_take(&c[1]);
        if (!o.out || !o.err) {
                bench_child_output_free(&o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;

fail:
        for (int i = 0; i < 2; i++) {
                udk_closep(&c[i].fd);
                free(c[i].buf);
                udk_closep(&out[i]);
                udk_closep(&err[i]);
        }
        return r;
}

void bench_child_output_free(struct bench_child_output *o)
{
        if (!o)
                return;
        free(o->out);
        free(o->err);
        o->out = o->err = NULL;
        o->out_len = o->err_len = 0;
}
