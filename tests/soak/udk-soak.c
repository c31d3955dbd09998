/* SPDX-License-Identifier: MIT */
/*
 * udk-soak: fault injection against a running udkd, bounded in count and
 * time (docs/reliability.md).  It starts its own udkd on a private socket
 * and folder with two devices: "untouched", a virtual device that no fault
 * is aimed at, and test:knob, the test family's audio driver's device,
 * which every fault is aimed at.  Eight clients: four listeners on the
 * untouched device check every frame; on test:knob two victims are
 * SIGKILLed mid-cycle and started again, a staller is stopped past its
 * deadline, and a malformed client sends messages that break the
 * protocol.  Meanwhile the audio driver's host is SIGKILLed and the bus
 * driver's host too (soak-faults.c says what each is checked for).
 *
 * Before and after: udkd's RSS (VmRSS) and open descriptors, sampled with
 * every client streaming and nothing in flight, after a warm-up of each
 * fault.  The figures are printed as a table; the exit status is 0 when
 * every criterion held, 1 when one did not (each failed line says FAIL),
 * 2 for a usage error, 77 when udkd or the test family are not there.
 *
 * Every child (udkd, the clients) dies with udk-soak (PR_SET_PDEATHSIG,
 * which follows the thread that forked: the fault threads stay until their
 * children are stopped), and udk-soak is their subreaper, so the driver hosts udkd leaves behind
 * are its own to reap; at the end every one that is left is killed by pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/util.h>

#include "soak.h"

#define PROG "udk-soak"

/* AddressSanitizer's quarantine keeps freed memory: RSS says nothing there (its leak check at
 * udkd's exit does, and a leak fails udkd's exit status). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_JUDGED false
#else
#define RSS_JUDGED true
#endif

static volatile sig_atomic_t interrupted;

/* --- failures, times --- */

void soak_fail(struct soak *s, const char *fmt, ...)
{
        va_list ap;

        pthread_mutex_lock(&s->fail_lock);
        if (!s->failure[0]) {
                va_start(ap, fmt);
                vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
                va_end(ap);
                fprintf(stderr, PROG ": FAIL: %s\n", s->failure);
        }
        atomic_store(&s->stop, true);
        pthread_mutex_unlock(&s->fail_lock);
}

bool soak_stopped(struct soak *s)
{
        return atomic_load(&s->stop) || interrupted;
}

void soak_times_add(struct soak_times *t, uint64_t ms)
{
        if (t->n == t->capacity) {
                size_t capacity = t->capacity ? 2 * t->capacity : 256;
                uint32_t *ms_new = realloc(t->ms, capacity * sizeof(*ms_new));

                if (!ms_new)
                        return;
                t->ms = ms_new;
                t->capacity = capacity;
        }
        t->ms[t->n++] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* "p50 12, p99 30, max 45 ms" of @t. */
static void times_format(struct soak_times *t, char *buf, size_t size)
{
        if (!t->n) {
                snprintf(buf, size, "none");
                return;
        }
        qsort(t->ms, t->n, sizeof(*t->ms), cmp_u32);
        snprintf(buf, size, "p50 %" PRIu32 ", p99 %" PRIu32 ", max %" PRIu32 " ms", t->ms[t->n / 2],
                 t->ms[(t->n * 99) / 100 < t->n ? (t->n * 99) / 100 : t->n - 1], t->ms[t->n - 1]);
}

static uint32_t times_max(const struct soak_times *t)
{
        uint32_t m = 0;

        for (size_t i = 0; i < t->n; i++)
                m = t->ms[i] > m ? t->ms[i] : m;
        return m;
}

/* --- children --- */

static void on_signal(int sig)
{
        (void)sig;
        interrupted = 1;
}

int soak_spawn(struct soak *s, unsigned index, enum soak_role role, uint64_t count)
{
        static const char *const roles[] = { [SOAK_ROLE_LISTENER] = "listener",
                                             [SOAK_ROLE_VICTIM] = "victim",
                                             [SOAK_ROLE_STALLER] = "staller",
                                             [SOAK_ROLE_MALFORMED] = "malformed" };
        struct soak_slot *slot = &s->sh->slots[index];
        char count_arg[32], seed_arg[32], slot_arg[16];
        const char *argv[] = { s->self,   "--role",  roles[role], "--slot", slot_arg, "--socket",
                               s->socket, "--count", count_arg,   "--seed", seed_arg, NULL };
        pid_t pid;

        snprintf(slot_arg, sizeof(slot_arg), "%u", index);
        snprintf(count_arg, sizeof(count_arg), "%" PRIu64, count);
        snprintf(seed_arg, sizeof(seed_arg), "%" PRIu64, s->opt.seed + index);
        memset(slot, 0, sizeof(*slot));
        pid = fork();
        if (pid < 0) {
                soak_fail(s, "fork: %s", strerror(errno));
                return -1;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls until exec: the conductor has threads. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* A group of its own, with its parent outside it: never an orphaned group, which
                 * the kernel sends SIGHUP when one of its members is stopped (the staller) and
                 * another exits (a victim, a host). */
                setpgid(0, 0);
                if (dup2(s->shm_fd, SOAK_SHM_FD) < 0)
                        _exit(127);
                execv(s->self, (char *const *)argv);
                _exit(127);
        }
        atomic_store(&slot->pid, pid);
        return 0;
}

bool soak_wait_running(struct soak *s, unsigned index)
{
        struct soak_slot *slot = &s->sh->slots[index];
        uint64_t deadline = soak_now_ms() + SOAK_WAIT_MS;

        while (!atomic_load(&slot->running)) {
                int status;

                if (waitpid(atomic_load(&slot->pid), &status, WNOHANG) == atomic_load(&slot->pid)) {
                        atomic_store(&slot->pid, 0);
                        soak_fail(s, "client %u exited (status 0x%x): %s", index, status, slot->error);
                        return false;
                }
                if (soak_now_ms() >= deadline || soak_stopped(s)) {
                        if (!soak_stopped(s))
                                soak_fail(s, "client %u not streaming within %u ms: %s", index, SOAK_WAIT_MS,
                                          slot->error);
                        return false;
                }
                usleep(1000);
        }
        return true;
}

/* Reap @pid within @timeout_ms (SIGKILL when it is still there then); its status, -1 if it was gone. */
static int reap_pid(pid_t pid, int timeout_ms, bool kill_first)
{
        uint64_t deadline = soak_now_ms() + (uint64_t)timeout_ms;
        int status;

        if (pid <= 0)
                return -1;
        if (kill_first)
                kill(pid, SIGKILL);
        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return status;
                if (r < 0)
                        return -1;
                if (soak_now_ms() >= deadline) {
                        kill(pid, SIGKILL);
                        kill(pid, SIGCONT);
                        waitpid(pid, &status, 0);
                        return -1;
                }
                usleep(1000);
        }
}

void soak_reap(struct soak *s, unsigned index)
{
        struct soak_slot *slot = &s->sh->slots[index];

        reap_pid(atomic_exchange(&slot->pid, 0), SOAK_WAIT_MS, true);
        atomic_store(&slot->running, 0);
}

/* Ask a client to close its stream and exit; true when it exited 0. */
static bool client_stop(struct soak *s, unsigned index)
{
        struct soak_slot *slot = &s->sh->slots[index];
        pid_t pid = atomic_exchange(&slot->pid, 0);
        int status;

        if (pid <= 0)
                return true;
        atomic_store(&slot->quit, 1);
        kill(pid, SIGCONT);
        status = reap_pid(pid, SOAK_WAIT_MS, false);
        return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* --- udkd --- */

static int write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

/* The private folder: udkd's configuration, the drivers folder with the two personalities and the nubs. */
static int udkd_files(struct soak *s)
{
        char path[256], text[2048], drivers[160], policy[192];
        int r;

        snprintf(s->dir, sizeof(s->dir), "/tmp/udk-soak-XXXXXX");
        if (!mkdtemp(s->dir))
                return -errno;
        snprintf(s->socket, sizeof(s->socket), "%s/udkd.sock", s->dir);
        snprintf(s->log, sizeof(s->log), "%s/udkd.log", s->dir);
        snprintf(drivers, sizeof(drivers), "%s/drivers", s->dir);
        if (mkdir(drivers, 0755) < 0)
                return -errno;
        snprintf(path, sizeof(path), "%s/udkd.conf", s->dir);
        snprintf(text, sizeof(text),
                 "[server]\nmlock = no\n"
                 "[device]\nname = %s\nrate = %u\nperiod = %" PRIu32 "\n"
                 "source = sine\nfrequency = %u\nlevel = 0\n",
                 SOAK_UNTOUCHED, SOAK_RATE, s->opt.period, SOAK_FREQUENCY);
        if ((r = write_text(path, text)) < 0)
                return r;
        snprintf(path, sizeof(path), "%s/nubs.ini", drivers);
        r = write_text(path, "[nub]\nhandle = 1\nname = knob\nvendor = 0x1234\nproduct = 0x0001\n");
        if (r < 0)
                return r;
        snprintf(policy, sizeof(policy),
                 "restart_delay = %dms\nrestart_delay_max = %dms\n"
                 "start_timeout = %dms\nrestart_limit = %s\n",
                 SOAK_RESTART_DELAY_MS, SOAK_RESTART_DELAY_MAX_MS, SOAK_START_TIMEOUT_MS,
                 SOAK_RESTART_LIMIT);
        snprintf(path, sizeof(path), "%s/00-test-bus.conf", drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = test-bus\nfamily = root\nmatch.bus = test\n"
                 "driver = %s/udk-driver-test-bus.so\ngrant = nubs.ini\n%s",
                 s->opt.family_dir, policy);
        if ((r = write_text(path, text)) < 0)
                return r;
        snprintf(path, sizeof(path), "%s/10-test-audio.conf", drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = test-audio\nfamily = test\n"
                 "match.vendor = 0x1234\nmatch.product = 0x0001\n"
                 "driver = %s/udk-driver-test-audio.so\n%s",
                 s->opt.family_dir, policy);
        return write_text(path, text);
}

static void udkd_files_remove(struct soak *s)
{
        static const char *const files[] = { "udkd.sock",
                                             "udkd.conf",
                                             "udkd.log",
                                             "drivers/nubs.ini",
                                             "drivers/00-test-bus.conf",
                                             "drivers/10-test-audio.conf",
                                             "drivers" };
        char path[256];

        if (!s->dir[0])
                return;
        for (size_t i = 0; i < UDK_ELEMENTSOF(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
                if (unlink(path) < 0)
                        rmdir(path); /* the drivers folder */
        }
        rmdir(s->dir);
}

static int udkd_start(struct soak *s)
{
        char conf[192], drivers[160];
        /* --stats: a line per device each second in the log, to place an xrun if one comes. */
        const char *argv[] = { s->opt.udkd, "--config", conf, "--drivers", drivers, "--stats", "1", NULL };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        uint64_t deadline;
        int log;

        snprintf(conf, sizeof(conf), "%s/udkd.conf", s->dir);
        snprintf(drivers, sizeof(drivers), "%s/drivers", s->dir);
        log = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log < 0)
                return -errno;
        setenv("UDK_SOCKET", s->socket, 1);
        setenv("UDK_DRIVERHOST", s->opt.driverhost, 1);
        s->udkd = fork();
        if (s->udkd < 0) {
                close(log);
                return -errno;
        }
        if (s->udkd == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(log);
        udk_strlcpy(sa.sun_path, s->socket, sizeof(sa.sun_path));
        for (deadline = soak_now_ms() + SOAK_WAIT_MS; soak_now_ms() < deadline;) {
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                bool ok = fd >= 0 && connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;

                if (fd >= 0)
                        close(fd);
                if (ok)
                        return 0;
                if (waitpid(s->udkd, &s->udkd_status, WNOHANG) == s->udkd) {
                        s->udkd_exited = true;
                        return -ECHILD;
                }
                usleep(5000);
        }
        return -ETIMEDOUT;
}

static bool udkd_alive(struct soak *s)
{
        if (!s->udkd_exited && waitpid(s->udkd, &s->udkd_status, WNOHANG) == s->udkd)
                s->udkd_exited = true;
        return !s->udkd_exited;
}

/* SIGTERM, then (bounded) SIGKILL; true when it exited 0 on its own. */
static bool udkd_stop(struct soak *s)
{
        int status;

        if (s->udkd <= 0)
                return false;
        if (!udkd_alive(s))
                return false;
        kill(s->udkd, SIGTERM);
        status = reap_pid(s->udkd, SOAK_WAIT_MS, false);
        s->udkd_exited = true;
        s->udkd_status = status;
        return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void udkd_log_tail(struct soak *s, int lines)
{
        char buf[8192];
        ssize_t n;
        int fd = open(s->log, O_RDONLY | O_CLOEXEC), count = 0;
        off_t end;
        char *p;

        if (fd < 0)
                return;
        end = lseek(fd, 0, SEEK_END);
        n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = '\0';
        for (p = buf + n; p > buf && count <= lines; p--)
                if (p[-1] == '\n')
                        count++;
        fprintf(stderr, PROG ": the end of udkd's log (%s):\n%s", s->log, p);
}

/* udkd's VmRSS in KiB and open descriptors; -1 when it is gone. */
static int udkd_sample(struct soak *s, int64_t *ret_rss_kib, int64_t *ret_fds)
{
        char path[64], line[256];
        FILE *f;
        DIR *d;
        struct dirent *e;

        *ret_rss_kib = *ret_fds = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)s->udkd);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        *ret_rss_kib = strtoll(line + 6, NULL, 10);
        fclose(f);
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->udkd);
        d = opendir(path);
        if (!d)
                return -1;
        *ret_fds = 0;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        (*ret_fds)++;
        closedir(d);
        return *ret_rss_kib >= 0 ? 0 : -1;
}

/* Nothing in flight: the drivers running, every streaming client running, udkd's sessions as expected. */
static bool quiesce(struct soak *s, struct udk_client *c, unsigned sessions)
{
        union {
                struct udk_msg_object obj;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } root;
        uint64_t deadline = soak_now_ms() + SOAK_WAIT_MS;
        int64_t n = -1;

        if (!soak_registry_ready(s, c))
                return false;
        for (unsigned i = 0; i < SOAK_MALFORMED; i++)
                if (!soak_wait_running(s, i))
                        return false;
        while (soak_now_ms() < deadline) {
                const struct udk_prop *p;

                if (udk_client_info(c, 1, &root.obj) == 0 &&
                    (p = udk_msg_object_prop(&root.obj, "sessions")))
                        n = p->i;
                if (n == (int64_t)sessions)
                        break;
                usleep(5000);
        }
        if (n != (int64_t)sessions) {
                struct udk_msg_object *all = NULL;
                char names[512] = "";
                size_t count = 0, len = 0;

                /* Say which: the registry's client objects. */
                if (udk_client_list(c, 0, &all, &count) == 0)
                        for (size_t i = 0; i < count && len < sizeof(names) - 1; i++) {
                                const struct udk_msg_object *o = udk_client_objects_at(all, i);
                                if (strcmp(o->klass, "client") == 0)
                                        len += (size_t)snprintf(names + len, sizeof(names) - len, " %s",
                                                                o->name);
                        }
                free(all);
                soak_fail(s, "udkd has %" PRId64 " sessions, expected %u; its clients:%s", n, sessions,
                          names);
                return false;
        }
        /* Closed nodes are freed at udkd's next ticks (10 ms): leave it a few. */
        usleep(300 * 1000);
        return true;
}

/* Kill (by pid) and reap every child left: driver hosts orphaned to us, as our subreaper. */
static void reap_orphans(void)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        pid_t self = getpid();

        while (d && (e = readdir(d))) {
                char path[320], buf[512], *p;
                int64_t pid;
                FILE *f;

                if (udk_parse_int64(e->d_name, 1, INT_MAX, &pid) < 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
                fclose(f);
                /* "pid (comm) state ppid ..." */
                if (p && strtol(p + 4, NULL, 10) == self)
                        kill((pid_t)pid, SIGKILL);
        }
        if (d)
                closedir(d);
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* --- the report --- */

static bool row(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool row(bool ok, const char *name, const char *fmt, ...)
{
        char value[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(value, sizeof(value), fmt, ap);
        va_end(ap);
        printf("  %-30s %-4s %s\n", name, ok ? "ok" : "FAIL", value);
        return ok;
}

/* --- options --- */

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: " PROG " [OPTION]...\n"
                "Run udkd with 2 devices and 8 clients and inject faults: driver kills, client kills\n"
                "mid-cycle, malformed messages, stalled clients, bus driver restarts.  Print the figures;\n"
                "fail if udkd died, its descriptors or (beyond a bound) its RSS grew, the untouched device\n"
                "or its clients lost a frame, or a killed component was not back within its policy.\n"
                "\n"
                "  --driver-kills N      SIGKILL the audio driver's host N times (default 1000)\n"
                "  --client-kills N      SIGKILL a client inside its process callback N times (default "
                "1000)\n"
                "  --malformed N         malformed messages, one session each (default 1000)\n"
                "  --stalls N            SIGSTOP/SIGCONT of a client past its deadline (default 100)\n"
                "  --bus-restarts N      SIGKILL the test family's bus driver's host N times (default 10)\n"
                "  --warmup N            faults of each kind before the first sample (default 10)\n"
                "  --seconds S           the whole run's bound: past it, the faults stop and the run\n"
                "                        fails (default 1800)\n"
                "  --period N            the untouched device's period, 16..4096 frames (default 1024)\n"
                "  --rss-bound KIB       RSS growth allowed from the first sample to the last (default "
                "512)\n"
                "  --seed N              the malformed messages' random seed (default 1)\n"
                "  --udkd PATH           udkd (default $UDKD)\n"
                "  --driverhost PATH     udk-driverhost (default $UDK_DRIVERHOST)\n"
                "  --family-dir DIR      the test family's drivers (default $UDK_TEST_FAMILY_DIR)\n"
                "  -v, --verbose         say each phase\n"
                "  -h, --help            print this help and exit\n"
                "\n"
                "Example (the short run of the 'soak' suite):\n"
                "  " PROG " --driver-kills 50 --client-kills 50 --malformed 300 --stalls 6 --bus-restarts 2 "
                "--warmup 3\n"
                "\n"
                "Exit status: 0 every criterion held, 1 one did not, 2 usage error, 77 cannot run here.\n");
}

static bool parse_u64(const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *ret)
{
        int64_t v;

        if (udk_parse_int64(text, (int64_t)min, (int64_t)max, &v) < 0) {
                fprintf(stderr, PROG ": %s '%s': not a number in %" PRIu64 "..%" PRIu64 "\n", opt, text, min,
                        max);
                return false;
        }
        *ret = (uint64_t)v;
        return true;
}

static const char *env_or(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

/* The hidden role options: a client of the soak, started by it. */
static int role_main(const char *role, uint64_t index, const char *socket_path, uint64_t count,
                     uint64_t seed)
{
        struct soak_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, SOAK_SHM_FD, 0);
        struct soak_slot *slot;

        if (sh == MAP_FAILED || !socket_path || index >= SOAK_SLOTS) {
                fprintf(stderr, PROG ": --role needs --slot 0..%u, --socket and the slots at fd %d\n",
                        SOAK_SLOTS - 1, SOAK_SHM_FD);
                return 2;
        }
        close(SOAK_SHM_FD);
        slot = &sh->slots[index];
        if (strcmp(role, "listener") == 0)
                return soak_client_main(SOAK_ROLE_LISTENER, slot, socket_path);
        if (strcmp(role, "victim") == 0)
                return soak_client_main(SOAK_ROLE_VICTIM, slot, socket_path);
        if (strcmp(role, "staller") == 0)
                return soak_client_main(SOAK_ROLE_STALLER, slot, socket_path);
        if (strcmp(role, "malformed") == 0)
                return soak_malformed_main(slot, socket_path, count, seed);
        return 2;
}

static bool parse_options(int argc, char **argv, struct soak_options *o, int *ret_status)
{
        enum {
                O_DRIVER = 256,
                O_CLIENT,
                O_MALFORMED,
                O_STALLS,
                O_BUS,
                O_WARMUP,
                O_SECONDS,
                O_PERIOD,
                O_RSS,
                O_SEED,
                O_UDKD,
                O_HOST,
                O_FAMILY,
                O_ROLE,
                O_SOCKET,
                O_COUNT,
                O_SLOT
        };
        static const struct option options[] = {
                { "driver-kills", required_argument, NULL, O_DRIVER },
                { "client-kills", required_argument, NULL, O_CLIENT },
                { "malformed", required_argument, NULL, O_MALFORMED },
                { "stalls", required_argument, NULL, O_STALLS },
                { "bus-restarts", required_argument, NULL, O_BUS },
                { "warmup", required_argument, NULL, O_WARMUP },
                { "seconds", required_argument, NULL, O_SECONDS },
                { "period", required_argument, NULL, O_PERIOD },
                { "rss-bound", required_argument, NULL, O_RSS },
                { "seed", required_argument, NULL, O_SEED },
                { "udkd", required_argument, NULL, O_UDKD },
                { "driverhost", required_argument, NULL, O_HOST },
                { "family-dir", required_argument, NULL, O_FAMILY },
                { "role", required_argument, NULL, O_ROLE },
                { "socket", required_argument, NULL, O_SOCKET },
                { "count", required_argument, NULL, O_COUNT },
                { "slot", required_argument, NULL, O_SLOT },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *role = NULL, *socket_path = NULL;
        uint64_t count = 0, period = 1024, index = SOAK_SLOTS;
        int c;

        *o = (struct soak_options){ .driver_kills = 1000,
                                    .client_kills = 1000,
                                    .malformed = 1000,
                                    .stalls = 100,
                                    .bus_restarts = 10,
                                    .warmup = 10,
                                    .seconds = 1800,
                                    .seed = 1,
                                    .rss_bound_kib = 512,
                                    .udkd = env_or("UDKD"),
                                    .driverhost = env_or("UDK_DRIVERHOST"),
                                    .family_dir = env_or("UDK_TEST_FAMILY_DIR") };
        *ret_status = 2;
        while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
                bool ok = true;

                switch (c) {
                case O_DRIVER:
                        ok = parse_u64("--driver-kills", optarg, 0, 100000000, &o->driver_kills);
                        break;
                case O_CLIENT:
                        ok = parse_u64("--client-kills", optarg, 0, 100000000, &o->client_kills);
                        break;
                case O_MALFORMED:
                        ok = parse_u64("--malformed", optarg, 0, 100000000, &o->malformed);
                        break;
                case O_STALLS:
                        ok = parse_u64("--stalls", optarg, 0, 100000000, &o->stalls);
                        break;
                case O_BUS:
                        ok = parse_u64("--bus-restarts", optarg, 0, 100000000, &o->bus_restarts);
                        break;
                case O_WARMUP:
                        ok = parse_u64("--warmup", optarg, 0, 100000, &o->warmup);
                        break;
                case O_SECONDS:
                        ok = parse_u64("--seconds", optarg, 1, 7 * 86400, &o->seconds);
                        break;
                case O_PERIOD:
                        ok = parse_u64("--period", optarg, 16, 4096, &period);
                        break;
                case O_RSS:
                        ok = parse_u64("--rss-bound", optarg, 0, 1u << 30, &o->rss_bound_kib);
                        break;
                case O_SEED:
                        ok = parse_u64("--seed", optarg, 0, INT64_MAX, &o->seed);
                        break;
                case O_COUNT:
                        ok = parse_u64("--count", optarg, 0, INT64_MAX, &count);
                        break;
                case O_SLOT:
                        ok = parse_u64("--slot", optarg, 0, SOAK_SLOTS - 1, &index);
                        break;
                case O_UDKD:
                        o->udkd = optarg;
                        break;
                case O_HOST:
                        o->driverhost = optarg;
                        break;
                case O_FAMILY:
                        o->family_dir = optarg;
                        break;
                case O_ROLE:
                        role = optarg;
                        break;
                case O_SOCKET:
                        socket_path = optarg;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        *ret_status = 0;
                        return false;
                default:
                        usage(stderr);
                        return false;
                }
                if (!ok)
                        return false;
        }
        if (optind < argc) {
                fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
                return false;
        }
        if (role) {
                *ret_status = role_main(role, index, socket_path, count, o->seed);
                return false;
        }
        o->period = (uint32_t)period;
        if (!o->udkd || !o->driverhost || !o->family_dir) {
                fprintf(stderr,
                        PROG ": skip: %s is not set (run through meson test, or give --udkd, "
                             "--driverhost and --family-dir)\n",
                        !o->udkd         ? "UDKD"
                        : !o->driverhost ? "UDK_DRIVERHOST"
                                         : "UDK_TEST_FAMILY_DIR");
                *ret_status = 77;
                return false;
        }
        return true;
}

/* --- the run --- */

static void say(const struct soak *s, const char *what)
{
        if (s->opt.verbose)
                fprintf(stderr, PROG ": %.1f s: %s\n", (double)(soak_now_ms() - s->start_ms) / 1000.0, what);
}

/* A warm-up of each fault, synchronous: udkd's allocations reach their steady state. */
static bool warmup(struct soak *s, struct udk_client *c)
{
        for (uint64_t i = 0; i < s->opt.warmup && !soak_stopped(s); i++)
                if (!soak_driver_kill(s, c) ||
                    !soak_client_kill(s, c, i % 2 ? SOAK_VICTIM_A : SOAK_VICTIM_B))
                        return false;
        if (s->opt.warmup && (!soak_stall(s, c, false) || !soak_stall(s, c, true)))
                return false;
        if (s->opt.warmup && s->opt.bus_restarts && !soak_bus_restart(s, c))
                return false;
        if (s->opt.warmup && s->opt.malformed) {
                struct soak_slot *slot = &s->sh->slots[SOAK_MALFORMED];
                int status;

                if (soak_spawn(s, SOAK_MALFORMED, SOAK_ROLE_MALFORMED, s->opt.warmup * 16) < 0)
                        return false;
                status = reap_pid(atomic_exchange(&slot->pid, 0), SOAK_WAIT_MS * 4, false);
                if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        soak_fail(s, "warm-up malformed client: %s",
                                  slot->error[0] ? slot->error : "did not exit 0");
                        return false;
                }
        }
        /* The figures count the main run only. */
        s->driver_kills = s->bus_restarts = s->client_kills = s->stalls_short = s->stalls_long = 0;
        s->stall_late_cycles = 0;
        s->driver_dead.n = s->bus_dead.n = 0;
        s->driver_back.n = s->bus_back.n = s->bus_audio_back.n = s->client_dead.n = s->client_gone.n = 0;
        s->client_back.n = 0;
        return true;
}

/* Every 20 ms, the untouched device's xruns and its clients' late cycles: each change is said, with
 * its time, to match against udkd's log and the faults. */
struct watch {
        struct soak *s;
        _Atomic bool quit;
        uint64_t xruns, late;
};

static void *watch_thread(void *data)
{
        static struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        struct watch *w = data;
        struct soak *s = w->s;
        struct udk_client *c = NULL;

        if (udk_client_connect("soak-watch", s->socket, &c) < 0) {
                soak_fail(s, "watch: connect: %s", udk_client_error(NULL));
                return NULL;
        }
        while (!atomic_load(&w->quit)) {
                struct udk_msg_stats_device dev;
                uint64_t late = 0;
                size_t n = 0;

                if (udk_client_stats(c, s->untouched_device, &dev, nodes, UDK_ELEMENTSOF(nodes), &n) == 0) {
                        for (size_t i = 0; i < n; i++)
                                late += nodes[i].late;
                        if (dev.xruns != w->xruns || late != w->late)
                                fprintf(stderr,
                                        PROG ": %.3f s: the untouched device: %" PRIu64 " xruns, its "
                                             "clients %" PRIu64 " late cycles\n",
                                        (double)(soak_now_ms() - s->start_ms) / 1000.0, dev.xruns, late);
                        w->xruns = dev.xruns;
                        w->late = late;
                }
                usleep(20000);
        }
        udk_client_disconnect(c);
        return NULL;
}

struct untouched {
        struct udk_msg_stats_device dev;
        uint64_t late, cycles, frames, lost, gaps, bad;
        unsigned listeners, realtime;
};

static bool untouched_figures(struct soak *s, struct udk_client *c, struct untouched *u)
{
        static struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        size_t n = 0;

        memset(u, 0, sizeof(*u));
        if (udk_client_stats(c, s->untouched_device, &u->dev, nodes, UDK_ELEMENTSOF(nodes), &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                u->late += nodes[i].late;
        for (unsigned i = SOAK_LISTENER_FIRST; i <= SOAK_LISTENER_LAST; i++) {
                struct soak_slot *slot = &s->sh->slots[i];

                u->cycles += atomic_load(&slot->cycles);
                u->frames += atomic_load(&slot->frames);
                u->lost += atomic_load(&slot->lost);
                u->gaps += atomic_load(&slot->gaps);
                u->bad += atomic_load(&slot->bad);
                u->realtime += atomic_load(&slot->realtime);
                u->listeners++;
        }
        return true;
}

int main(int argc, char **argv)
{
        static struct soak soak = { .fail_lock = PTHREAD_MUTEX_INITIALIZER,
                                    .bus_lock = PTHREAD_MUTEX_INITIALIZER,
                                    .ids_lock = PTHREAD_MUTEX_INITIALIZER };
        static char udkd_path[PATH_MAX], host_path[PATH_MAX], family_path[PATH_MAX];
        struct soak *s = &soak;
        struct udk_client *c = NULL;
        struct untouched u;
        struct soak_slot *mal = NULL;
        struct watch watch = { .s = s };
        pthread_t drivers, clients, watcher;
        bool watching = false;
        bool threads = false, ok = true, udkd_clean = false, clients_clean = true, have_end = false;
        int64_t rss0 = -1, fds0 = -1, rss1 = -1, fds1 = -1;
        char t1[96], t2[96], t3[96];
        uint64_t wall_ms;
        int status, r;
        ssize_t len;

        if (!parse_options(argc, argv, &s->opt, &status))
                return status;
        /* Absolute: the personalities name the drivers from a folder of their own. */
        if (!realpath(s->opt.udkd, udkd_path) || !realpath(s->opt.driverhost, host_path) ||
            !realpath(s->opt.family_dir, family_path)) {
                fprintf(stderr, PROG ": skip: %s: %s\n",
                        !realpath(s->opt.udkd, udkd_path)         ? s->opt.udkd
                        : !realpath(s->opt.driverhost, host_path) ? s->opt.driverhost
                                                                  : s->opt.family_dir,
                        strerror(errno));
                return 77;
        }
        s->opt.udkd = udkd_path;
        s->opt.driverhost = host_path;
        s->opt.family_dir = family_path;
        if (access(s->opt.udkd, X_OK) < 0 || access(s->opt.driverhost, X_OK) < 0) {
                fprintf(stderr, PROG ": skip: %s is not an executable\n",
                        access(s->opt.udkd, X_OK) < 0 ? s->opt.udkd : s->opt.driverhost);
                return 77;
        }
        len = readlink("/proc/self/exe", s->self, sizeof(s->self) - 1);
        if (len <= 0) {
                fprintf(stderr, PROG ": /proc/self/exe: %s\n", strerror(errno));
                return 1;
        }
        s->self[len] = '\0';
        s->start_ms = soak_now_ms();
        s->deadline_ms = s->start_ms + s->opt.seconds * 1000u;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        prctl(PR_SET_CHILD_SUBREAPER, 1);

        /* The shared slots: a memfd above fd 3, so that dup2 to 3 in a child clears its close-on-exec. */
        r = memfd_create("udk-soak", MFD_CLOEXEC);
        s->shm_fd = r >= 0 ? fcntl(r, F_DUPFD_CLOEXEC, 10) : -1;
        if (r >= 0)
                close(r);
        if (s->shm_fd < 0 || ftruncate(s->shm_fd, sizeof(*s->sh)) < 0 ||
            (s->sh = mmap(NULL, sizeof(*s->sh), PROT_READ | PROT_WRITE, MAP_SHARED, s->shm_fd, 0)) ==
                    MAP_FAILED) {
                fprintf(stderr, PROG ": shared memory: %s\n", strerror(errno));
                return 1;
        }
        mal = &s->sh->slots[SOAK_MALFORMED];

        if ((r = udkd_files(s)) < 0) {
                fprintf(stderr, PROG ": %s: %s\n", s->dir, strerror(-r));
                udkd_files_remove(s);
                return 1;
        }
        say(s, "starting udkd");
        if ((r = udkd_start(s)) < 0) {
                soak_fail(s, "udkd did not start: %s", r == -ECHILD ? "it exited" : strerror(-r));
                goto end;
        }
        if ((r = udk_client_connect("soak-monitor", s->socket, &c)) < 0) {
                soak_fail(s, "connect: %s", udk_client_error(NULL));
                goto end;
        }
        if (!soak_registry_ready(s, c))
                goto end;
        if (pthread_create(&watcher, NULL, watch_thread, &watch) != 0) {
                soak_fail(s, "pthread_create failed");
                goto end;
        }
        watching = true;
        say(s, "starting the clients");
        for (unsigned i = 0; i < SOAK_MALFORMED; i++) {
                enum soak_role role = i <= SOAK_LISTENER_LAST ? SOAK_ROLE_LISTENER
                                      : i == SOAK_STALLER     ? SOAK_ROLE_STALLER
                                                              : SOAK_ROLE_VICTIM;
                if (soak_spawn(s, i, role, 0) < 0)
                        goto end;
        }
        for (unsigned i = 0; i < SOAK_MALFORMED; i++)
                if (!soak_wait_running(s, i))
                        goto end;
        say(s, "warm-up");
        if (!warmup(s, c))
                goto end;
        /* The monitor, the watch and the 7 streaming clients. */
        if (!quiesce(s, c, 2 + SOAK_MALFORMED) || udkd_sample(s, &rss0, &fds0) < 0)
                goto end;
        say(s, "the main run");
        if (s->opt.malformed && soak_spawn(s, SOAK_MALFORMED, SOAK_ROLE_MALFORMED, s->opt.malformed) < 0)
                goto end;
        if (pthread_create(&drivers, NULL, soak_drivers_thread, s) != 0) {
                soak_fail(s, "pthread_create failed");
                goto end;
        }
        if (pthread_create(&clients, NULL, soak_clients_thread, s) != 0) {
                soak_fail(s, "pthread_create failed");
                atomic_store(&s->stop, true);
                atomic_store(&s->release, true);
                pthread_join(drivers, NULL);
                goto end;
        }
        threads = true;
        /* Watch udkd, the clients that are not faulted, the clock. */
        while (atomic_load(&s->threads_done) < 2) {
                if (!udkd_alive(s))
                        soak_fail(s, "udkd died (status 0x%x)", s->udkd_status);
                for (unsigned i = SOAK_LISTENER_FIRST; i <= SOAK_LISTENER_LAST; i++)
                        if (!atomic_load(&s->sh->slots[i].running))
                                soak_fail(s, "listener %u stopped streaming: %s", i, s->sh->slots[i].error);
                if (soak_now_ms() > s->deadline_ms && !soak_stopped(s))
                        soak_fail(s, "the run passed its bound of %" PRIu64 " s", s->opt.seconds);
                if (interrupted && !atomic_load(&s->stop))
                        soak_fail(s, "interrupted");
                usleep(10000);
        }
        /* The malformed client ends on its own (bounded). */
        for (; atomic_load(&mal->pid) && !atomic_load(&mal->done) && !soak_stopped(s);) {
                int st;

                if (waitpid(atomic_load(&mal->pid), &st, WNOHANG) == atomic_load(&mal->pid)) {
                        atomic_store(&mal->pid, 0);
                        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                soak_fail(s, "malformed client: %s", mal->error[0] ? mal->error : "died");
                        break;
                }
                if (soak_now_ms() > s->deadline_ms)
                        soak_fail(s, "the run passed its bound of %" PRIu64 " s", s->opt.seconds);
                usleep(10000);
        }
        if (atomic_load(&mal->pid)) {
                status = reap_pid(atomic_exchange(&mal->pid, 0), SOAK_WAIT_MS, soak_stopped(s));
                if (!soak_stopped(s) && (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        soak_fail(s, "malformed client: %s", mal->error[0] ? mal->error : "did not exit 0");
        }
        if (!soak_stopped(s)) {
                say(s, "sampling");
                have_end = quiesce(s, c, 2 + SOAK_MALFORMED) && udkd_sample(s, &rss1, &fds1) == 0;
        }
end:
        if (threads && atomic_load(&s->threads_done) < 2) {
                /* Their faults end; they stay until their children are stopped. */
                atomic_store(&s->stop, true);
                while (atomic_load(&s->threads_done) < 2)
                        usleep(1000);
        }
        for (unsigned i = 0; i < SOAK_MALFORMED; i++)
                atomic_store(&s->sh->slots[i].quit, 1);
        if (c && s->untouched_device && udkd_alive(s))
                untouched_figures(s, c, &u);
        else
                memset(&u, 0, sizeof(u));
        say(s, "stopping");
        for (unsigned i = 0; i < SOAK_SLOTS; i++) {
                bool clean = client_stop(s, i);
                /* A client still there after a failure may be mid-fault; only a clean run judges them. */
                if (!clean && !soak_stopped(s)) {
                        clients_clean = false;
                        soak_fail(s, "client %u did not close and exit 0: %s", i, s->sh->slots[i].error);
                }
        }
        if (threads) {
                atomic_store(&s->release, true);
                pthread_join(drivers, NULL);
                pthread_join(clients, NULL);
        }
        if (watching) {
                atomic_store(&watch.quit, true);
                pthread_join(watcher, NULL);
        }
        c = udk_client_disconnect(c);
        ok = !soak_stopped(s);
        udkd_clean = udkd_stop(s);
        reap_orphans();
        wall_ms = soak_now_ms() - s->start_ms;

        printf(PROG ": %" PRIu64 " driver kills, %" PRIu64 " client kills, %" PRIu64 " malformed, %" PRIu64
                    " stalls, %" PRIu64 " bus restarts (warm-up %" PRIu64
                    " of each); untouched period %" PRIu32 " frames\n",
               s->opt.driver_kills, s->opt.client_kills, s->opt.malformed, s->opt.stalls,
               s->opt.bus_restarts, s->opt.warmup, s->opt.period);
        row(true, "wall time", "%.1f s", (double)wall_ms / 1000.0);
        ok &= row(udkd_clean, "udkd", "%s",
                  udkd_clean        ? "alive throughout, exit 0 on SIGTERM"
                  : !s->udkd_exited ? "not stopped"
                  : s->udkd_status >= 0 && WIFSIGNALED(s->udkd_status) ? strsignal(WTERMSIG(s->udkd_status))
                                                                       : "exit not 0 (see its log)");
        ok &= row(have_end && fds1 == fds0, "udkd open fds",
                  "%" PRId64 " after warm-up, %" PRId64 " at the end", fds0, fds1);
        ok &= row(have_end && (!RSS_JUDGED || rss1 - rss0 <= (int64_t)s->opt.rss_bound_kib), "udkd RSS",
                  "%" PRId64 " KiB after warm-up, %" PRId64 " KiB at the end (%+" PRId64
                  " KiB, bound %" PRIu64 " KiB%s)",
                  rss0, rss1, rss1 - rss0, s->opt.rss_bound_kib,
                  RSS_JUDGED ? ""
                             : "; not judged under AddressSanitizer, whose leak check judges udkd's exit");
        ok &= row(u.dev.cycles > 0 && u.dev.xruns == 0, "untouched device xruns",
                  "%" PRIu64 " in %" PRIu64 " cycles (wake after the boundary: p99 %.0f us, max %.0f us; "
                  "a wake a period late is an xrun)",
                  u.dev.xruns, u.dev.cycles, (double)u.dev.lateness.p99 / 1e3,
                  (double)u.dev.lateness.max / 1e3);
        ok &= row(u.dev.cycles > 0 && u.late == 0, "untouched clients late",
                  "%" PRIu64 " cycles (udkd's count)", u.late);
        ok &= row(u.frames > 0 && u.lost == 0 && u.gaps == 0 && u.bad == 0, "untouched lost frames",
                  "%" PRIu64 " of %" PRIu64 " checked by %u listeners (%" PRIu64 " gaps, %" PRIu64
                  " wrong samples; %u on SCHED_FIFO)",
                  u.lost, u.frames, u.listeners, u.gaps, u.bad, u.realtime);
        times_format(&s->driver_dead, t3, sizeof(t3));
        times_format(&s->driver_back, t1, sizeof(t1));
        ok &= row(s->driver_kills == s->opt.driver_kills && times_max(&s->driver_back) <= SOAK_POLICY_MS,
                  "driver kills",
                  "%" PRIu64 " of %" PRIu64 ", host dead in %s; running again %s after that "
                  "(policy %u ms)",
                  s->driver_kills, s->opt.driver_kills, t3, t1, SOAK_POLICY_MS);
        times_format(&s->bus_dead, t3, sizeof(t3));
        times_format(&s->bus_back, t1, sizeof(t1));
        times_format(&s->bus_audio_back, t2, sizeof(t2));
        ok &= row(s->bus_restarts == s->opt.bus_restarts && times_max(&s->bus_back) <= SOAK_POLICY_MS &&
                          times_max(&s->bus_audio_back) <= SOAK_POLICY_MS + SOAK_START_TIMEOUT_MS,
                  "bus driver restarts",
                  "%" PRIu64 " of %" PRIu64 ", host dead in %s; running again %s after that (policy %u ms); "
                  "its nub bound again, no duplicates, %s after the death",
                  s->bus_restarts, s->opt.bus_restarts, t3, t1, SOAK_POLICY_MS, t2);
        times_format(&s->client_dead, t3, sizeof(t3));
        times_format(&s->client_gone, t1, sizeof(t1));
        times_format(&s->client_back, t2, sizeof(t2));
        ok &= row(s->client_kills == s->opt.client_kills &&
                          times_max(&s->client_gone) <= SOAK_CLIENT_GONE_MS,
                  "client kills mid-cycle",
                  "%" PRIu64 " of %" PRIu64 ", dead in %s; its node gone %s after that (bound %u ms); "
                  "a new client streaming %s after that",
                  s->client_kills, s->opt.client_kills, t3, t1, SOAK_CLIENT_GONE_MS, t2);
        ok &= row(s->stalls_short + s->stalls_long == s->opt.stalls, "stalls past the deadline",
                  "%" PRIu64 " of %" PRIu64 ": %" PRIu64 " below late_limit %" PRIu32 " (late %" PRIu64
                  " cycles, still running), %" PRIu64 " past it (suspended, reopened)",
                  s->stalls_short + s->stalls_long, s->opt.stalls, s->stalls_short, s->victim_late_limit,
                  s->stall_late_cycles, s->stalls_long);
        ok &= row(atomic_load(&mal->sent) == s->opt.malformed && atomic_load(&mal->unexpected) == 0,
                  "malformed messages",
                  "%" PRIu64 " of %" PRIu64 ": %" PRIu64 " sessions closed, %" PRIu64 " refused, %" PRIu64
                  " unexpected",
                  (uint64_t)atomic_load(&mal->sent), s->opt.malformed, (uint64_t)atomic_load(&mal->closed),
                  (uint64_t)atomic_load(&mal->refused), (uint64_t)atomic_load(&mal->unexpected));
        ok &= clients_clean;
        if (s->failure[0])
                printf(PROG ": first failure: %s\n", s->failure);
        printf(PROG ": %s\n", ok ? "PASS" : "FAIL");
        if (!ok) {
                /* The log stays, with the folder, for the whole story. */
                udkd_log_tail(s, 30);
                fprintf(stderr, PROG ": udkd's log is kept: %s\n", s->log);
        } else {
                udkd_files_remove(s);
        }
        return ok ? 0 : 1;
}
