/* SPDX-License-Identifier: MIT */
/*
 * A private jackd for tests of the ALSA backend: JACK's dummy driver at
 * 48 kHz, 256 frames a period, and an ALSA configuration (ALSA_CONFIG_PATH)
 * with two PCMs of libasound2-plugins' jack type on it: udk_out plays into
 * JACK (client udkout), udk_in captures from it (client udkin).  Every
 * wait is bounded; the server dies with the test (PR_SET_PDEATHSIG).
 */
#ifndef UDK_TEST_JACK_H
#define UDK_TEST_JACK_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "udk-test.h"

#define JACK_WAIT_MS 20000

static inline uint64_t jack_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define JACK_NAMES 4u

struct jack {
        pid_t pid;
        unsigned index;
        char name[64];
        char dir[64];
        char conf[128];
        char log[128];
};

static inline bool in_path(const char *prog)
{
        const char *path = getenv("PATH");
        char buf[512];

        for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
                size_t len = strcspn(p, ":");
                snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, prog);
                if (access(buf, X_OK) == 0)
                        return true;
                p += len;
                if (*p == ':')
                        p++;
        }
        return false;
}

/* Run @argv to its end within @timeout_ms, its output discarded: the exit status, -1 when killed. */
static inline int run_cmd(const char *const *argv, int timeout_ms)
{
        uint64_t deadline = jack_now_ms() + (uint64_t)timeout_ms;
        int status;
        pid_t pid = fork();

        ASSERT_OK(pid);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                ASSERT_OK(r);
                if (r == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                if (jack_now_ms() >= deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return -1;
                }
                usleep(10000);
        }
}

static const char alsa_conf[] = "pcm.udk_out {\n"
                                "  type jack\n"
                                "  name \"udkout\"\n"
                                "  playback_ports { 0 system:playback_1 1 system:playback_2 }\n"
                                "}\n"
                                "pcm.udk_in {\n"
                                "  type jack\n"
                                "  name \"udkin\"\n"
                                "  capture_ports { 0 system:capture_1 1 system:capture_2 }\n"
                                "}\n";

/*
 * Start jackd as udk-test-alsa-@index.  A few fixed names, not one per
 * process: JACK keeps a server's slot (of 8) until a server of the same
 * name starts again, so a jackd killed with its test must not leak one.
 */
static inline void jack_spawn(struct jack *j, unsigned index)
{
        j->index = index;
        snprintf(j->name, sizeof(j->name), "udk-test-alsa-%u", index);
        setenv("JACK_DEFAULT_SERVER", j->name, 1);
        j->pid = fork();
        ASSERT_OK(j->pid);
        if (j->pid == 0) {
                int log = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
                /* -t: a udkd held by SIGSTOP must not be thrown out as a dead client. */
                execlp("jackd", "jackd", "-n", j->name, "-t", "10000", "-d", "dummy", "-r", "48000", "-p",
                       "256", (char *)NULL);
                _exit(127);
        }
}

/* A private jackd (dummy driver, 48 kHz, 256 frames) and the ALSA configuration naming its PCMs;
 * the environment points every child (udkd, jack_*) at both. */
static inline void jack_start(struct jack *j)
{
        const char *lsp[] = { "jack_lsp", NULL };
        uint64_t deadline;
        FILE *f;

        if (!in_path("jackd") || !in_path("jack_lsp") || !in_path("jack_connect"))
                UDK_TEST_SKIP("jackd2 is not installed (scripts/deps installs it)");
        memset(j, 0, sizeof(*j));
        snprintf(j->dir, sizeof(j->dir), "/tmp/udk-test-alsa-XXXXXX");
        ASSERT_TRUE(mkdtemp(j->dir) != NULL);
        snprintf(j->conf, sizeof(j->conf), "%s/asound.conf", j->dir);
        snprintf(j->log, sizeof(j->log), "%s/jackd.log", j->dir);
        f = fopen(j->conf, "w");
        ASSERT_TRUE(f != NULL);
        fputs(alsa_conf, f);
        ASSERT_OK(fclose(f));
        setenv("ALSA_CONFIG_PATH", j->conf, 1);
        setenv("JACK_NO_START_SERVER", "1", 1);
        setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);

        jack_spawn(j, 0);
        deadline = jack_now_ms() + JACK_WAIT_MS;
        for (;;) {
                bool up = run_cmd(lsp, 2000) == 0;
                int status;

                /* jack_lsp may have reached another run's server of that name before ours gave up
                 * on it: ours must still be there once a server answered. */
                if (up)
                        usleep(200000);
                /* Ours exited: another server has the name (a test of another build), or JACK's 8
                 * slots are all taken by other programs' servers: the next name, a bit later. */
                if (waitpid(j->pid, &status, WNOHANG) == j->pid && jack_now_ms() < deadline) {
                        usleep(300000);
                        jack_spawn(j, (j->index + 1) % JACK_NAMES);
                        continue;
                }
                if (up && kill(j->pid, 0) == 0)
                        return;
                if (jack_now_ms() >= deadline) {
                        char text[4096] = "";
                        FILE *lf = fopen(j->log, "r");
                        if (lf) {
                                text[fread(text, 1, sizeof(text) - 1, lf)] = '\0';
                                fclose(lf);
                        }
                        kill(j->pid, SIGKILL);
                        udk_test_fail("jackd -n %s did not come up within %d ms: %s", j->name, JACK_WAIT_MS,
                                      text);
                }
                usleep(50000);
        }
}

static inline void jack_kill(struct jack *j, int sig)
{
        uint64_t deadline = jack_now_ms() + 5000;
        int status;

        if (j->pid <= 0)
                return;
        kill(j->pid, sig);
        while (waitpid(j->pid, &status, WNOHANG) == 0) {
                if (jack_now_ms() >= deadline) {
                        kill(j->pid, SIGKILL);
                        waitpid(j->pid, &status, 0);
                        break;
                }
                usleep(10000);
        }
        j->pid = 0;
}

static inline void jack_stop(struct jack *j)
{
        jack_kill(j, SIGTERM);
        unlink(j->conf);
        unlink(j->log);
        rmdir(j->dir);
}

/* Patch udkd's playback ports into its capture ports (bounded: they appear once udkd runs). */
static inline void jack_loop(void)
{
        uint64_t deadline = jack_now_ms() + JACK_WAIT_MS;

        for (int c = 0; c < 2; c++) {
                char out[32], in[32];
                const char *argv[] = { "jack_connect", out, in, NULL };

                snprintf(out, sizeof(out), "udkout:out_%03d", c);
                snprintf(in, sizeof(in), "udkin:in_%03d", c);
                while (run_cmd(argv, 2000) != 0) {
                        if (jack_now_ms() >= deadline)
                                udk_test_fail("jack_connect %s %s failed for %d ms", out, in, JACK_WAIT_MS);
                        usleep(50000);
                }
        }
}

#endif
