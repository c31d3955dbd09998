/* SPDX-License-Identifier: MIT */
/*
 * The other processes of udk-bench compare: jackd and pipewire on private
 * names and folders, their clients, stress-ng.  Each runs in a process group
 * of its own that udk-bench kills on every way out: a normal stop, SIGINT,
 * SIGTERM, SIGHUP, an abort or a crash (a signal handler), and udk-bench's
 * own death (PR_SET_PDEATHSIG).  Not for an RT thread.
 */
#ifndef UDK_BENCH_SERVERS_H
#define UDK_BENCH_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench-compare.h"

#define BENCH_SERVERS_PRIORITY 70 /* jackd -P and pipewire's rt.prio: udkd's */
#define BENCH_SERVERS_ENV_MAX  6

/*
 * Kill every registered process group on SIGINT, SIGTERM and SIGHUP (then
 * note the signal for bench_servers_interrupted()) and on SIGABRT, SIGSEGV,
 * SIGBUS, SIGFPE and SIGILL (then die of the signal).
 */
void bench_servers_install_signal_handlers(void);

/* The SIGINT, SIGTERM or SIGHUP that arrived, else 0. */
int bench_servers_interrupted(void);

/*
 * Remove what a udk-bench that died by SIGKILL left: its private folders
 * and jackd's files in /dev/shm, found by the pid in their names.
 */
void bench_servers_remove_stale(void);

struct bench_spawn {
        char *const *argv;                      /* argv[0] looked up in PATH when it has no '/' */
        const char *env[BENCH_SERVERS_ENV_MAX]; /* "NAME=value" set, or "NAME" unset; NULL ends */
        int stdin_fd;                           /* -1: /dev/null */
        int stdout_fd;                          /* -1: udk-bench's stderr */
        int stderr_fd;                          /* -1: udk-bench's stderr */
        int keep_fd;                            /* kept open across exec; -1: none */
        bool server;                            /* after a crash, stopped after the others */
};

/*
 * Start @s in a new process group, registered for the kill above, dying
 * with udk-bench.  -ENOENT when argv[0] is not found.
 */
int bench_spawn(const struct bench_spawn *s, pid_t *ret);

/*
 * SIGTERM to @pid's group, reap @pid within @timeout_ms, else SIGKILL the
 * group and reap; then unregister it.  Returns @pid's wait status, or
 * -ETIMEDOUT when it had to be killed.
 */
int bench_stop(pid_t pid, unsigned timeout_ms);

/* True with its wait status (unregistered) when @pid has exited. */
bool bench_exited(pid_t pid, int *ret_status);

/* "exited with status 1", "was killed by signal 9". */
void bench_describe_status(int status, char *buf, size_t size);

/* --- threads --- */

struct bench_rt_threads {
        unsigned count;                 /* threads with SCHED_FIFO or SCHED_RR */
        int min_priority, max_priority; /* 0 when count is 0 */
};

/* The RT threads of process @pid now.  -ENOENT when there is no such process. */
int bench_rt_threads_get(pid_t pid, struct bench_rt_threads *ret);

/* Put every RT thread of @pid on @cpu; how many into *@ret_pinned. */
int bench_rt_threads_pin(pid_t pid, int cpu, unsigned *ret_pinned);

/* --- servers --- */

struct bench_server_proc {
        enum bench_server kind;
        pid_t pid;     /* -1: not running */
        char dir[128]; /* private folder; "" when none */
        char name[64]; /* jackd's server name */
        char log[160]; /* the server's stdout and stderr */
        char version[64];
        char wrapper[256]; /* the path of pw-jack for PipeWire's clients; "" for jackd's */
        char env_text[BENCH_SERVERS_ENV_MAX][192];
        const char *env[BENCH_SERVERS_ENV_MAX]; /* for its clients (see struct bench_spawn) */
};

/*
 * Start jackd (dummy driver) or pipewire (a dummy driver node, forced to
 * @rate and @period) on a private name and folder, at SCHED_FIFO
 * BENCH_SERVERS_PRIORITY, and wait until @client_path --probe connects to it
 * (at most @timeout_ms).  -ENOENT when the server is not installed, with
 * how to install it in @why; other errors with what went wrong.  On failure
 * nothing is left running.
 */
int bench_server_start(enum bench_server kind, uint32_t rate, uint32_t period, const char *client_path,
                       unsigned timeout_ms, struct bench_server_proc *ret, char *why, size_t why_size);

/* Stop the server, remove its folder and files.  Safe to call twice. */
void bench_server_stop(struct bench_server_proc *s);

/*
 * stress-ng --cpu @cpus until bench_stop().  -ENOENT when there is no
 * stress-ng.
 */
int bench_stress_start(unsigned cpus, pid_t *ret);

#endif
