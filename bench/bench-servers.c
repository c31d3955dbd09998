/* SPDX-License-Identifier: MIT */
/*
 * jackd, pipewire and stress-ng for udk-bench compare: started in process
 * groups of their own on private names and folders, killed on every way
 * out.  See bench-servers.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-servers.h"

#define GROUPS_MAX      32
#define STOP_TIMEOUT_MS 5000u
#define PROBE_GRACE_MS  2000u

extern char **environ;

/* Process groups to kill from a signal handler: pids (0 for a free slot), and
 * which of them are servers (stopped after their clients). */
static volatile sig_atomic_t groups[GROUPS_MAX];
static volatile sig_atomic_t group_is_server[GROUPS_MAX];
static volatile sig_atomic_t interrupted;

enum { KILL_CLIENTS, KILL_SERVERS, KILL_ALL };

static void kill_groups(int sig, int which)
{
        for (size_t i = 0; i < GROUPS_MAX; i++) {
                pid_t g = groups[i];
                if (g > 0 && (which == KILL_ALL || group_is_server[i] == (which == KILL_SERVERS)))
                        kill(-g, sig);
        }
}

/*
 * A stop signal only says so: the run stops its clients, then its servers,
 * in order (a jackd whose clients die under it dies of SIGPIPE and leaves
 * 100 MB and more in /dev/shm).  A second one kills everything at once.
 * After a crash there is no run left: the clients get SIGTERM (they close on
 * it), then the servers, then whatever is left is killed.
 */
static void on_signal(int sig)
{
        struct timespec grace = { .tv_nsec = 300000000 };
        int saved = errno;

        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
                if (interrupted)
                        kill_groups(SIGKILL, KILL_ALL);
                interrupted = sig;
                errno = saved;
                return;
        }
        kill_groups(SIGTERM, KILL_CLIENTS);
        nanosleep(&grace, NULL);
        kill_groups(SIGTERM, KILL_SERVERS);
        nanosleep(&grace, NULL);
        kill_groups(SIGKILL, KILL_ALL);
        /* SA_RESETHAND restored the default: die of it. */
        raise(sig);
}

void bench_servers_install_signal_handlers(void)
{
        static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
        static const int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        /* No SA_RESTART: a wait in progress returns early and sees the flag. */
        for (size_t i = 0; i < UDK_ELEMENTSOF(stop); i++)
                sigaction(stop[i], &sa, NULL);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        for (size_t i = 0; i < UDK_ELEMENTSOF(fatal); i++)
                sigaction(fatal[i], &sa, NULL);
}

int bench_servers_interrupted(void)
{
        return interrupted;
}

static void group_add(pid_t pid, bool server)
{
        for (size_t i = 0; i < GROUPS_MAX; i++)
                if (groups[i] == 0) {
                        group_is_server[i] = server;
                        groups[i] = pid;
                        return;
                }
        udk_warn("more than %d process groups: %d is not killed on a signal", GROUPS_MAX, (int)pid);
}

static void group_remove(pid_t pid)
{
        for (size_t i = 0; i < GROUPS_MAX; i++)
                if (groups[i] == pid)
                        groups[i] = 0;
}

/* --- processes --- */

/* Whether environment entry @entry sets variable @spec names ("NAME" or "NAME=..."). */
static bool env_names_match(const char *entry, const char *spec)
{
        size_t len = strcspn(spec, "=");

        return strncmp(entry, spec, len) == 0 && entry[len] == '=';
}

/* environ without the names @env sets or unsets, plus its settings; free() the array only. */
static char **make_env(const char *const *env)
{
        size_t n = 0, k = 0;
        char **out;

        while (environ[n])
                n++;
        out = calloc(n + BENCH_SERVERS_ENV_MAX + 1, sizeof(*out));
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                bool replaced = false;
                for (size_t e = 0; e < BENCH_SERVERS_ENV_MAX && env[e]; e++)
                        replaced |= env_names_match(environ[i], env[e]);
                if (!replaced)
                        out[k++] = environ[i];
        }
        for (size_t e = 0; e < BENCH_SERVERS_ENV_MAX && env[e]; e++)
                if (strchr(env[e], '='))
                        out[k++] = (char *)env[e];
        return out;
}

/* The defaults, but for a server SIGPIPE ignored (inherited across exec): jackd
 * writing to a client that died under it must see EPIPE, not die of it. */
static void reset_signals(bool server)
{
        static const int sigs[] = { SIGINT,  SIGTERM, SIGHUP, SIGPIPE, SIGABRT,
                                    SIGSEGV, SIGBUS,  SIGFPE, SIGILL };
        sigset_t none;

        for (size_t i = 0; i < UDK_ELEMENTSOF(sigs); i++)
                signal(sigs[i], sigs[i] == SIGPIPE && server ? SIG_IGN : SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

int bench_spawn(const struct bench_spawn *s, pid_t *ret)
{
        pid_t parent = getpid(), pid;
        char path[4096];
        char **envp;
        int r;

        r = bench_find_program(s->argv[0], path, sizeof(path));
        if (r < 0)
                return r;
        envp = make_env(s->env);
        if (!envp)
                return -ENOMEM;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                free(envp);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                setpgid(0, 0);
                /* SIGTERM: each of them stops cleanly on it (see on_signal()). */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(127);
                reset_signals(s->server);
                dup2(s->stdin_fd >= 0 ? s->stdin_fd : null, STDIN_FILENO);
                dup2(s->stdout_fd >= 0 ? s->stdout_fd : STDERR_FILENO, STDOUT_FILENO);
                if (s->stderr_fd >= 0)
                        dup2(s->stderr_fd, STDERR_FILENO);
                if (s->keep_fd >= 0)
                        fcntl(s->keep_fd, F_SETFD, 0);
                execve(path, s->argv, envp);
                fprintf(stderr, "udk-bench: cannot run %s: %s\n", path, strerror(errno));
                _exit(127);
        }
        free(envp);
        /* Also here: the group must exist before anyone signals it. */
        setpgid(pid, pid);
        group_add(pid, s->server);
        *ret = pid;
        return 0;
}

void bench_describe_status(int status, char *buf, size_t size)
{
        if (status == -ETIMEDOUT)
                snprintf(buf, size, "did not stop in time and was killed");
        else if (status < 0)
                snprintf(buf, size, "could not be waited for (%s)", strerror(-status));
        else if (WIFEXITED(status))
                snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        else
                snprintf(buf, size, "was killed by signal %d", WTERMSIG(status));
}

/* Has @pid exited?  Leaves it a zombie, so its group id stays reserved. */
static bool has_exited(pid_t pid)
{
        siginfo_t info = { .si_pid = 0 };

        return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 ? info.si_pid == pid
                                                                                 : errno == ECHILD;
}

/* Kill what is left of the group, reap the leader, forget the group. */
static int finish(pid_t pid)
{
        int status = 0;

        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        group_remove(pid);
        return status;
}

bool bench_exited(pid_t pid, int *ret_status)
{
        if (!has_exited(pid))
                return false;
        *ret_status = finish(pid);
        return true;
}

int bench_stop(pid_t pid, unsigned timeout_ms)
{
        uint64_t deadline = udk_time_now() + (uint64_t)timeout_ms * 1000000u;
        struct timespec pause = { .tv_nsec = 10000000 };
        bool timed_out = false;
        int status;

        if (pid <= 0)
                return -EINVAL;
        kill(-pid, SIGTERM);
        while (!has_exited(pid)) {
                if (udk_time_now() >= deadline) {
                        timed_out = true;
                        break;
                }
                nanosleep(&pause, NULL);
        }
        status = finish(pid);
        return timed_out ? -ETIMEDOUT : status;
}

/* --- threads --- */

/* Calls @fn for each thread of @pid; stops at its first error. */

/* The thread's RT priority, or 0 when it is not SCHED_FIFO/RR (or gone). */
static int thread_rt_priority(pid_t tid)
{
        struct sched_param p;
        int policy = sched_getscheduler(tid);

        if (policy < 0)
                return 0;
        policy &= ~SCHED_RESET_ON_FORK;
        if (policy != SCHED_FIFO && policy != SCHED_RR)
                return 0;
        if (sched_getparam(tid, &p) < 0)
                return 0;
        return UDK_MAX(p.sched_priority, 1);
}

static int count_rt(pid_t tid, void *data)
{
        struct bench_rt_threads *t = data;
        int prio = thread_rt_priority(tid);

        if (prio == 0)
                return 0;
        t->min_priority = t->count ? UDK_MIN(t->min_priority, prio) : prio;
        t->max_priority = t->count ? UDK_MAX(t->max_priority, prio) : prio;
        t->count++;
        return 0;
}

int bench_rt_threads_get(pid_t pid, struct bench_rt_threads *ret)
{
        struct bench_rt_threads t = { 0 };
        int r = bench_for_each_thread(pid, count_rt, &t);

        if (r < 0)
                return r;
        *ret = t;
        return 0;
}

struct pin {
        int cpu;
        unsigned pinned;
};

static int pin_rt(pid_t tid, void *data)
{
        struct pin *p = data;
        cpu_set_t set;

        if (thread_rt_priority(tid) == 0)
                return 0;
        CPU_ZERO(&set);
        CPU_SET(p->cpu, &set);
        if (sched_setaffinity(tid, sizeof(set), &set) < 0)
                return errno == ESRCH ? 0 : -errno;
        p->pinned++;
        return 0;
}

int bench_rt_threads_pin(pid_t pid, int cpu, unsigned *ret_pinned)
{
        struct pin p = { .cpu = cpu };
        int r;

        if (cpu < 0 || cpu >= CPU_SETSIZE)
                return -EINVAL;
        r = bench_for_each_thread(pid, pin_rt, &p);
        if (r == 0 && ret_pinned)
                *ret_pinned = p.pinned;
        return r;
}

/* --- servers --- */

static int make_dir(struct bench_server_proc *s)
{
        const char *tmp = getenv("TMPDIR");
        char dir[sizeof(s->dir)];

        if (!tmp || !*tmp || strlen(tmp) > 64)
                tmp = "/tmp";
        /* The pid in the name tells a stale folder from a live one (bench_servers_remove_stale()). */
        snprintf(dir, sizeof(dir), "%s/udk-bench-%s-%d-XXXXXX", tmp, bench_server_name(s->kind),
                 (int)getpid());
        if (!mkdtemp(dir))
                return -errno;
        udk_strlcpy(s->dir, dir, sizeof(s->dir));
        snprintf(s->log, sizeof(s->log), "%s/server.log", dir);
        return 0;
}

/* Remove the files of @dir (one level: the servers make no subfolders there) and @dir. */
static void remove_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (d) {
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                unlinkat(dirfd(d), de->d_name, 0);
                closedir(d);
        }
        if (rmdir(dir) < 0 && errno != ENOENT)
                udk_warn("cannot remove %s: %s", dir, strerror(errno));
}

/* jackd leaves its sockets and semaphores in /dev/shm when it is killed: those of our name. */
static void remove_jack_files(const char *name)
{
        char sem[96], sock[96];
        DIR *d = opendir("/dev/shm");
        struct dirent *de;

        if (!d)
                return;
        snprintf(sem, sizeof(sem), "jack_sem.%u_%s_", (unsigned)getuid(), name);
        snprintf(sock, sizeof(sock), "jack_%s_%u_", name, (unsigned)getuid());
        while ((de = readdir(d)))
                if (strncmp(de->d_name, sem, strlen(sem)) == 0 ||
                    strncmp(de->d_name, sock, strlen(sock)) == 0)
                        unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

/* "NAME=value" for the environment of its clients; a NULL @value unsets NAME. */
/* The pid after @prefix in @name, when @name starts with it and that process is gone. */
static bool stale_name(const char *name, const char *prefix)
{
        size_t len = strlen(prefix), digits;
        char text[16];
        int64_t pid;

        if (strncmp(name, prefix, len) != 0)
                return false;
        digits = strspn(name + len, "0123456789");
        if (digits == 0 || digits >= sizeof(text) || name[len + digits] != '-')
                return false;
        memcpy(text, name + len, digits);
        text[digits] = '\0';
        if (udk_parse_int64(text, 1, INT32_MAX, &pid) < 0)
                return false;
        return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void bench_servers_remove_stale(void)
{
        const char *tmp = getenv("TMPDIR");
        char sem[64], path[512];
        struct dirent *de;
        DIR *d;

        if (!tmp || !*tmp || strlen(tmp) > 64)
                tmp = "/tmp";
        d = opendir(tmp);
        while (d && (de = readdir(d))) {
                if (!stale_name(de->d_name, "udk-bench-jack2-") &&
                    !stale_name(de->d_name, "udk-bench-pipewire-"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
                udk_info("removing %s, left by a udk-bench that is gone", path);
                remove_dir(path);
        }
        if (d)
                closedir(d);
        /* jackd's semaphores and sockets of a server name "udk-bench-<pid>-...". */
        snprintf(sem, sizeof(sem), "jack_sem.%u_udk-bench-", (unsigned)getuid());
        d = opendir("/dev/shm");
        while (d && (de = readdir(d)))
                if (stale_name(de->d_name, sem) || stale_name(de->d_name, "jack_udk-bench-"))
                        unlinkat(dirfd(d), de->d_name, 0);
        if (d)
                closedir(d);
}

static void set_env(struct bench_server_proc *s, size_t i, const char *name, const char *value)
{
        snprintf(s->env_text[i], sizeof(s->env_text[i]), "%s%s%s", name, value ? "=" : "",
                 value ? value : "");
        s->env[i] = s->env_text[i];
}

/* The last non-empty line of @path, for a reason. */
static void last_line(const char *path, char *buf, size_t size)
{
        char text[4096];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *end, *start;

        buf[0] = '\0';
        if (fd < 0)
                return;
        /* The end of the file is enough for its last line. */
        if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(text) - 1)
                lseek(fd, -(off_t)(sizeof(text) - 1), SEEK_END);
        else
                lseek(fd, 0, SEEK_SET);
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n <= 0)
                return;
        text[n] = '\0';
        end = text + n;
        while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(text, '\n');
        udk_strlcpy(buf, start ? start + 1 : text, size);
}

/* "jackd 1.9.21", "pipewire 0.3.65": the word after @marker in `@prog --version`. */
static void read_version(const char *prog, const char *marker, const char *label, char *buf, size_t size)
{
        char *argv[] = { (char *)prog, "--version", NULL };
        struct bench_child_output o;
        const char *p;

        snprintf(buf, size, "%s", label);
        if (bench_run(argv, &o) < 0)
                return;
        p = strstr(o.out, marker);
        if (p) {
                p += strlen(marker);
                snprintf(buf, size, "%s %.*s", label, (int)strcspn(p, " \n"), p);
        }
        bench_child_output_free(&o);
}

static int write_pipewire_config(const struct bench_server_proc *s, uint32_t rate, uint32_t period)
{
        char path[192];
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/pipewire.conf", s->dir);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        /* Only what the chain needs: the native protocol, client nodes, links, a
         * dummy driver; the quantum pinned to the period (min = max, and over
         * the VM override that raises the minimum to 1024). */
        fprintf(f,
                "# Written by udk-bench compare.\n"
                "context.properties = {\n"
                "    core.daemon = true\n"
                "    core.name = pipewire-0\n"
                "    default.clock.rate = %u\n"
                "    default.clock.allowed-rates = [ %u ]\n"
                "    default.clock.quantum = %u\n"
                "    default.clock.min-quantum = %u\n"
                "    default.clock.max-quantum = %u\n"
                "    vm.overrides = { default.clock.min-quantum = %u }\n"
                "    settings.check-quantum = false\n"
                "    settings.check-rate = false\n"
                "    log.level = 2\n"
                "}\n"
                "context.spa-libs = {\n"
                "    support.* = support/libspa-support\n"
                "}\n"
                "context.modules = [\n"
                "    { name = libpipewire-module-rt\n"
                "      args = { rt.prio = %d nice.level = -11 rt.time.soft = -1 rt.time.hard = -1 } }\n"
                "    { name = libpipewire-module-protocol-native }\n"
                "    { name = libpipewire-module-metadata }\n"
                "    { name = libpipewire-module-spa-node-factory }\n"
                "    { name = libpipewire-module-client-node }\n"
                "    { name = libpipewire-module-access }\n"
                "    { name = libpipewire-module-adapter }\n"
                "    { name = libpipewire-module-link-factory }\n"
                "]\n"
                "context.objects = [\n"
                "    { factory = metadata args = { metadata.name = default } }\n"
                "    { factory = spa-node-factory\n"
                "      args = {\n"
                "          factory.name = support.node.driver\n"
                "          node.name = udk-bench-dummy\n"
                "          node.group = pipewire.dummy\n"
                "          priority.driver = 20000\n"
                "      }\n"
                "    }\n"
                "]\n",
                rate, rate, period, period, period, period, BENCH_SERVERS_PRIORITY);
        r = ferror(f) ? -EIO : 0;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

/* Run @client_path --probe against the server until it answers; fail when the server dies first. */
static int wait_ready(struct bench_server_proc *s, const char *client_path, uint32_t rate, uint32_t period,
                      unsigned timeout_ms, char *why, size_t why_size)
{
        char rate_text[16], period_text[16], timeout_text[32], probe_log[192], line[160];
        char *argv[10];
        struct bench_spawn sp = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .keep_fd = -1 };
        uint64_t deadline = udk_time_now() + (uint64_t)(timeout_ms + PROBE_GRACE_MS) * 1000000u;
        struct timespec pause = { .tv_nsec = 20000000 };
        size_t n = 0;
        pid_t probe;
        int status, fd, r;

        snprintf(rate_text, sizeof(rate_text), "%u", rate);
        snprintf(period_text, sizeof(period_text), "%u", period);
        snprintf(timeout_text, sizeof(timeout_text), "%.3f", timeout_ms / 1000.0);
        snprintf(probe_log, sizeof(probe_log), "%s/probe.log", s->dir);
        if (s->wrapper[0])
                argv[n++] = s->wrapper;
        argv[n++] = (char *)client_path;
        argv[n++] = "--probe";
        argv[n++] = "--rate";
        argv[n++] = rate_text;
        argv[n++] = "--period";
        argv[n++] = period_text;
        argv[n++] = "--timeout";
        argv[n++] = timeout_text;
        argv[n] = NULL;
        memcpy(sp.env, s->env, sizeof(sp.env));
        fd = open(probe_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        sp.stdout_fd = sp.stderr_fd = fd;
        r = bench_spawn(&sp, &probe);
        close(fd);
        if (r < 0) {
                snprintf(why, why_size, "cannot run %s: %s", client_path, strerror(-r));
                return r;
        }
        for (;;) {
                if (bench_exited(probe, &status))
                        break;
                if (s->pid > 0 && has_exited(s->pid)) {
                        char how[64];
                        bench_stop(probe, STOP_TIMEOUT_MS);
                        status = finish(s->pid);
                        s->pid = -1;
                        bench_describe_status(status, how, sizeof(how));
                        last_line(s->log, line, sizeof(line));
                        snprintf(why, why_size, "%s %s: %s", bench_server_name(s->kind), how, line);
                        return -ECHILD;
                }
                if (udk_time_now() >= deadline || bench_servers_interrupted()) {
                        bench_stop(probe, STOP_TIMEOUT_MS);
                        snprintf(why, why_size, "%s did not answer within %u ms", bench_server_name(s->kind),
                                 timeout_ms);
                        return -ETIMEDOUT;
                }
                nanosleep(&pause, NULL);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                last_line(probe_log, line, sizeof(line));
                snprintf(why, why_size, "no JACK client could join %s: %s", bench_server_name(s->kind),
                         line[0] ? line : "the probe failed");
                return -EIO;
        }
        return 0;
}

static int start_jackd(struct bench_server_proc *s, uint32_t rate, uint32_t period, char *why,
                       size_t why_size)
{
        char rate_text[16], period_text[16], prio_text[16], path[4096];
        char *argv[] = { "jackd", "-n", s->name,   "-R", "-P",        prio_text, "-d",
                         "dummy", "-r", rate_text, "-p", period_text, NULL };
        struct bench_spawn sp = { .argv = argv, .stdin_fd = -1, .keep_fd = -1 };
        int fd, r;

        if (bench_find_program("jackd", path, sizeof(path)) < 0) {
                snprintf(why, why_size, "no jackd in PATH: %s", bench_server_install_hint(s->kind));
                return -ENOENT;
        }
        read_version(path, "version ", "jackd", s->version, sizeof(s->version));
        snprintf(rate_text, sizeof(rate_text), "%u", rate);
        snprintf(period_text, sizeof(period_text), "%u", period);
        snprintf(prio_text, sizeof(prio_text), "%d", BENCH_SERVERS_PRIORITY);
        /* A name of its own: never another jackd's. */
        snprintf(s->name, sizeof(s->name), "udk-bench-%d-%s", (int)getpid(), strrchr(s->dir, '-') + 1);
        set_env(s, 0, "JACK_DEFAULT_SERVER", s->name);
        set_env(s, 1, "JACK_NO_START_SERVER", "1");
        set_env(s, 2, "JACK_NO_AUDIO_RESERVATION", "1");
        /* Should PipeWire's libjack be on the library path, it must not find a PipeWire. */
        set_env(s, 3, "PIPEWIRE_RUNTIME_DIR", s->dir);
        memcpy(sp.env, s->env, sizeof(sp.env));
        fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        sp.stdout_fd = sp.stderr_fd = fd;
        sp.server = true;
        r = bench_spawn(&sp, &s->pid);
        close(fd);
        if (r < 0)
                snprintf(why, why_size, "cannot run jackd: %s", strerror(-r));
        return r;
}

static int start_pipewire(struct bench_server_proc *s, uint32_t rate, uint32_t period, char *why,
                          size_t why_size)
{
        char path[4096], quantum[32], config_env[192];
        char *argv[] = { "pipewire", "-c", "pipewire.conf", NULL };
        struct bench_spawn sp = { .argv = argv, .stdin_fd = -1, .keep_fd = -1 };
        int fd, r;

        if (bench_find_program("pipewire", path, sizeof(path)) < 0) {
                snprintf(why, why_size, "no pipewire in PATH: %s",
                         bench_server_install_hint(BENCH_SERVER_PIPEWIRE));
                return -ENOENT;
        }
        if (bench_find_program("pw-jack", s->wrapper, sizeof(s->wrapper)) < 0) {
                s->wrapper[0] = '\0';
                snprintf(why, why_size, "no pw-jack in PATH: %s",
                         bench_server_install_hint(BENCH_SERVER_PIPEWIRE));
                return -ENOENT;
        }
        read_version(path, "Linked with libpipewire ", "pipewire", s->version, sizeof(s->version));
        r = write_pipewire_config(s, rate, period);
        if (r < 0) {
                snprintf(why, why_size, "cannot write pipewire's configuration: %s", strerror(-r));
                return r;
        }
        /* The server: its configuration, socket and lock in the private folder alone. */
        snprintf(config_env, sizeof(config_env), "PIPEWIRE_CONFIG_DIR=%s", s->dir);
        set_env(s, 0, "PIPEWIRE_RUNTIME_DIR", s->dir);
        set_env(s, 1, "XDG_RUNTIME_DIR", s->dir);
        set_env(s, 2, "PIPEWIRE_REMOTE", NULL);
        memcpy(sp.env, s->env, sizeof(sp.env));
        sp.env[3] = config_env;
        fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        sp.stdout_fd = sp.stderr_fd = fd;
        sp.server = true;
        r = bench_spawn(&sp, &s->pid);
        close(fd);
        if (r < 0) {
                snprintf(why, why_size, "cannot run pipewire: %s", strerror(-r));
                return r;
        }
        /* Its clients: the same folder, the period as their latency, no JACK server name. */
        snprintf(quantum, sizeof(quantum), "%u/%u", period, rate);
        set_env(s, 3, "PIPEWIRE_QUANTUM", quantum);
        set_env(s, 4, "JACK_DEFAULT_SERVER", NULL);
        return 0;
}

int bench_server_start(enum bench_server kind, uint32_t rate, uint32_t period, const char *client_path,
                       unsigned timeout_ms, struct bench_server_proc *ret, char *why, size_t why_size)
{
        struct bench_server_proc *s = ret;
        int r;

        *s = (struct bench_server_proc){ .kind = kind, .pid = -1 };
        why[0] = '\0';
        if (kind != BENCH_SERVER_JACK2 && kind != BENCH_SERVER_PIPEWIRE)
                return -EINVAL;
        r = make_dir(s);
        if (r < 0) {
                snprintf(why, why_size, "cannot make a private folder: %s", strerror(-r));
                return r;
        }
        r = kind == BENCH_SERVER_JACK2 ? start_jackd(s, rate, period, why, why_size)
                                       : start_pipewire(s, rate, period, why, why_size);
        if (r == 0)
                r = wait_ready(s, client_path, rate, period, timeout_ms, why, why_size);
        if (r < 0)
                bench_server_stop(s);
        return r;
}

void bench_server_stop(struct bench_server_proc *s)
{
        char how[64];
        int status;

        if (s->pid > 0) {
                status = bench_stop(s->pid, STOP_TIMEOUT_MS);
                /* SIGTERM is how it is stopped: only another end is news. */
                if (status < 0 || (WIFEXITED(status) && WEXITSTATUS(status) != 0) ||
                    (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)) {
                        bench_describe_status(status, how, sizeof(how));
                        udk_warn("%s %s", bench_server_name(s->kind), how);
                }
                s->pid = -1;
        }
        if (s->kind == BENCH_SERVER_JACK2 && s->name[0])
                remove_jack_files(s->name);
        if (s->dir[0]) {
                remove_dir(s->dir);
                s->dir[0] = '\0';
        }
}

int bench_stress_start(unsigned cpus, pid_t *ret)
{
        char n[16];
        char *argv[] = { "stress-ng", "--cpu", n, "--quiet", NULL };
        struct bench_spawn sp = {
                .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .keep_fd = -1
        };

        snprintf(n, sizeof(n), "%u", UDK_MAX(cpus, 1u));
        return bench_spawn(&sp, ret);
}
