/* SPDX-License-Identifier: MIT */
/*
 * udkctl end to end: each test runs a real udkd on a private socket with
 * three virtual devices, runs $UDKCTL against it and asserts exact output
 * and exit status for every command and every error path.  JSON output is
 * checked by a strict parser (python3's json module, which meson brings).
 * Every child gets SIGKILL if the test dies, and every wait is bounded.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <sndfile.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-build-config.h"
#include "udk-test.h"
#include "udk-test-udkd.h"

#define TIMEOUT_MS   20000
#define RATE         48000
#define LOOP_LATENCY 600

/*
 * loop:   48 kHz, 512 frames, stereo, hears its own output 600 frames later
 *         (a long period: play and record must not lose frames on a loaded
 *         machine, under ASan)
 * studio: a -12 dB 1 kHz sine on 2 inputs, no outputs
 * sink:   1 output, no inputs
 */
static const char config_text[] = "[server]\n"
                                  "mlock = no\n"
                                  "\n"
                                  "[device]\n"
                                  "name = loop\n"
                                  "rate = 48000\n"
                                  "period = 512\n"
                                  "channels = 2\n"
                                  "source = loopback\n"
                                  "loopback_latency = 600\n"
                                  "level = -12\n"
                                  "\n"
                                  "[device]\n"
                                  "name = studio\n"
                                  "rate = 48000\n"
                                  "period = 256\n"
                                  "inputs = 2\n"
                                  "outputs = 0\n"
                                  "source = sine\n"
                                  "frequency = 1000\n"
                                  "level = -12\n"
                                  "\n"
                                  "[device]\n"
                                  "name = sink\n"
                                  "rate = 48000\n"
                                  "period = 1024\n"
                                  "inputs = 0\n"
                                  "outputs = 1\n";

/* --- children: udkd, udkctl, python3; each killed if the test dies --- */

static void spawn(struct proc *p, const char *const *argv, const char *env, int *ret_stdin)
{
        int out[2], err[2], in[2] = { -1, -1 };

        memset(p, 0, sizeof(*p));
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        if (ret_stdin)
                ASSERT_OK(pipe2(in, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(ret_stdin ? in[0] : null, STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                if (env)
                        putenv((char *)env);
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        if (ret_stdin) {
                close(in[0]);
                *ret_stdin = in[1];
        }
        p->out_fd = out[0];
        p->err_fd = err[0];
        ASSERT_OK(fcntl(p->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(p->err_fd, F_SETFL, O_NONBLOCK));
}

static const char *udkctl_path(void)
{
        const char *path = getenv("UDKCTL");

        if (!path || !*path)
                UDK_TEST_SKIP("UDKCTL is not set (run through meson test)");
        return path;
}

/* argv for udkctl: $UDKCTL, @args, then @extra (both NULL-terminated, may be NULL). */
static void ctl_argv(const char **argv, size_t max, const char *const *args, const char *const *extra)
{
        size_t n = 0;

        argv[n++] = udkctl_path();
        for (size_t i = 0; args && args[i]; i++) {
                ASSERT_TRUE(n < max - 1);
                argv[n++] = args[i];
        }
        for (size_t i = 0; extra && extra[i]; i++) {
                ASSERT_TRUE(n < max - 1);
                argv[n++] = extra[i];
        }
        argv[n] = NULL;
}

/* Run udkctl with @args (and @extra) to its end, bounded; its exit status. */
static int ctl_run(struct proc *p, const char *env, const char *const *args, const char *const *extra)
{
        const char *argv[64];

        ctl_argv(argv, UDK_ELEMENTSOF(argv), args, extra);
        spawn(p, argv, env, NULL);
        proc_finish(p, TIMEOUT_MS);
        return proc_exit_status(p);
}

/* --- the test's udkd --- */

static struct {
        char dir[PATH_MAX];
        char sock[PATH_MAX];
        char conf[PATH_MAX];
        struct proc udkd;
} E;

static const char *tmp_dir(void)
{
        const char *dir = getenv("TMPDIR");

        return dir && *dir ? dir : "/tmp";
}

static const char *in_dir(char *buf, size_t size, const char *name)
{
        ASSERT_TRUE((size_t)snprintf(buf, size, "%s/%s", E.dir, name) < size);
        return buf;
}

static void write_text(const char *path, const char *text)
{
        size_t len = strlen(text), done = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        ASSERT_OK(fd);
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                ASSERT_OK(n);
                done += (size_t)n;
        }
        ASSERT_OK(close(fd));
}

static bool socket_accepts(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        bool ok;

        ASSERT_OK(fd);
        udk_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

/* The folder's drivers/ subfolder, for env_start_drivers(). */
static const char *drivers_dir(char *buf, size_t size)
{
        return in_dir(buf, size, "drivers");
}

/* udkd on the private folder's socket, with --drivers @drivers when not NULL. */
static void env_start(const char *drivers)
{
        write_text(E.conf, config_text);
        if (drivers)
                /* No host to run: every driver fails at once, and nothing but udkd runs. */
                spawn(&E.udkd,
                      (const char *const[]){ udkd_path(), "--config", E.conf, "--socket", E.sock, "--drivers",
                                             drivers, "-q", NULL },
                      "UDK_DRIVERHOST=/nonexistent/udk-driverhost", NULL);
        else
                spawn(&E.udkd,
                      (const char *const[]){ udkd_path(), "--config", E.conf, "--socket", E.sock, "-q", NULL },
                      NULL, NULL);
        for (uint64_t deadline = now_ms() + 5000; !socket_accepts(E.sock);) {
                int status;

                proc_pump(&E.udkd, 0);
                if (waitpid(E.udkd.pid, &status, WNOHANG) == E.udkd.pid) {
                        E.udkd.exited = true;
                        udk_test_fail("udkd exited (status 0x%x) before its socket accepted; stderr: \"%s\"",
                                      status, E.udkd.err);
                }
                if (now_ms() >= deadline) {
                        proc_kill(&E.udkd);
                        udk_test_fail("udkd's socket %s did not accept within 5 s; stderr: \"%s\"", E.sock,
                                      E.udkd.err);
                }
                usleep(10000);
        }
}

/* A private folder; udkd on its socket there when @start. */
static void env_setup(bool start)
{
        snprintf(E.dir, sizeof(E.dir), "%s/udkctl-test-XXXXXX", tmp_dir());
        ASSERT_NOT_NULL(mkdtemp(E.dir));
        in_dir(E.sock, sizeof(E.sock), "udkd.sock");
        in_dir(E.conf, sizeof(E.conf), "udkd.conf");
        if (start)
                env_start(NULL);
}

/* Stop udkd (SIGTERM, exit 0 within 5 s) and remove the folder with what the test put in it. */
static void env_teardown(const char *const *files)
{
        char path[PATH_MAX];

        if (E.udkd.pid > 0 && !E.udkd.exited) {
                ASSERT_OK(kill(E.udkd.pid, SIGTERM));
                proc_finish(&E.udkd, 5000);
                ASSERT_INT_EQ(proc_exit_status(&E.udkd), 0);
        }
        for (size_t i = 0; files && files[i]; i++)
                unlink(in_dir(path, sizeof(path), files[i]));
        rmdir(drivers_dir(path, sizeof(path))); /* when a test made it */
        unlink(E.sock);
        unlink(E.conf);
        ASSERT_OK(rmdir(E.dir));
}

/* Run a child to its end and check its exit status, showing what it said when it differs. */
#define ASSERT_EXIT(p, call, want)                                                                       \
        do {                                                                                             \
                int _s = (call);                                                                         \
                if (_s != (want))                                                                        \
                        udk_test_fail("%s: exit %d, want %d; stderr: \"%s\"; stdout: \"%s\"", #call, _s, \
                                      (int)(want), (p)->err, (p)->out);                                  \
        } while (0)

/* udkctl ARGS... --socket SOCK; its exit status. */
#define CTL(p, ...)                                                  \
        ctl_run(p, NULL, (const char *const[]){ __VA_ARGS__, NULL }, \
                (const char *const[]){ "--socket", E.sock, NULL })
/* udkctl ARGS... as given. */
#define CTL_RAW(p, ...) ctl_run(p, NULL, (const char *const[]){ __VA_ARGS__, NULL }, NULL)

/*
 * Frames a busy machine made udkd lose (an xrun: "udkctl: lost N frames",
 * exit 1, as it must) fail an attempt, not the test: play and record get
 * this many attempts.
 */
#define LOSS_ATTEMPTS 3

static bool said_lost(int status, const struct proc *p)
{
        if (status != 1 || !strstr(p->err, "udkctl: lost "))
                return false;
        fprintf(stderr, "frames lost, trying again: \"%s\"\n", p->err);
        return true;
}

/* CTL for play and record, again while it lost frames. */
static int ctl_run_lossless(struct proc *p, const char *const *args)
{
        for (int i = 0; i < LOSS_ATTEMPTS; i++) {
                int status = ctl_run(p, NULL, args, (const char *const[]){ "--socket", E.sock, NULL });

                if (!said_lost(status, p))
                        return status;
        }
        udk_test_fail("frames lost in each of %d attempts", LOSS_ATTEMPTS);
}

#define CTL_LOSSLESS(p, ...) ctl_run_lossless(p, (const char *const[]){ __VA_ARGS__, NULL })

/* --- JSON, read by python3's strict parser --- */

/*
 * Parse @json (NaN and Infinity refused), run @script with it as `d`, and
 * expect @expected on its stdout.
 */
static void json_check(const char *json, const char *script, const char *expected)
{
        static struct proc py;
        static char prog[16384];
        size_t len = strlen(json), done = 0;
        int in, status;

        snprintf(prog, sizeof(prog),
                 "import json, sys\n"
                 "def refuse(c):\n"
                 "    raise ValueError('not JSON: ' + c)\n"
                 "d = json.loads(sys.stdin.read(), parse_constant=refuse)\n"
                 "%s",
                 script);
        spawn(&py, (const char *const[]){ "python3", "-c", prog, NULL }, NULL, &in);
        signal(SIGPIPE, SIG_IGN);
        while (done < len) {
                ssize_t n = write(in, json + done, len - done);
                if (n < 0)
                        break;
                done += (size_t)n;
        }
        close(in);
        proc_finish(&py, TIMEOUT_MS);
        status = proc_exit_status(&py);
        if (status == 127)
                UDK_TEST_SKIP("no python3 to check the JSON with");
        if (status != 0)
                udk_test_fail("the JSON check failed (exit %d): %s\nJSON: %s", status, py.err, json);
        ASSERT_STR_EQ(py.out, expected);
}

/* --- sound files --- */

static void write_sound(const char *path, int format, int rate, int channels, const float *data,
                        sf_count_t frames)
{
        SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
        SNDFILE *f = sf_open(path, SFM_WRITE, &info);

        if (!f)
                udk_test_fail("sf_open(%s): %s", path, sf_strerror(NULL));
        ASSERT_INT_EQ(sf_writef_float(f, data, frames), frames);
        ASSERT_INT_EQ(sf_close(f), 0);
}

/* The whole file, interleaved; free() it. */
static float *read_sound(const char *path, SF_INFO *info)
{
        SNDFILE *f;
        float *data;

        memset(info, 0, sizeof(*info));
        f = sf_open(path, SFM_READ, info);
        if (!f)
                udk_test_fail("sf_open(%s): %s", path, sf_strerror(NULL));
        data = calloc((size_t)info->frames * (size_t)info->channels + 1, sizeof(float));
        ASSERT_NOT_NULL(data);
        ASSERT_INT_EQ(sf_readf_float(f, data, info->frames), info->frames);
        ASSERT_INT_EQ(sf_close(f), 0);
        return data;
}

/* --- a stream of the test's own, for top and a node's gain --- */

static int silent_process(void *data, const struct udk_node_cycle *cycle)
{
        return 0;
}

static struct udk_client_stream *open_node(struct udk_client **ret_client, const char *name)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *stream;
        udk_object_id loop;

        ASSERT_OK(udk_client_connect("udkctl-test", E.sock, ret_client));
        ASSERT_OK(udk_client_find(*ret_client, "loop", &loop));
        udk_client_stream_params_defaults(&params);
        params.device = loop;
        params.input_channels = 2;
        params.output_channels = 2;
        params.name = name;
        ASSERT_OK(udk_client_open(*ret_client, &params, silent_process, NULL, &stream));
        ASSERT_OK(udk_client_stream_wait_running(stream, 5000));
        return stream;
}

/* The id of the object @what names (through udkctl info --json). */
static unsigned object_id(const char *what)
{
        static struct proc p;
        unsigned id;

        ASSERT_EXIT(&p, CTL(&p, "info", what, "--json"), 0);
        ASSERT_INT_EQ(sscanf(strstr(p.out, "\"id\": "), "\"id\": %u", &id), 1);
        return id;
}

/* The value after "KEY" padded to the key column in udkctl info's output. */
static const char *info_value(const char *out, const char *key, char *buf, size_t size)
{
        size_t width = strcspn(out, " "), klen = strlen(key);

        /* "name" is first: its padding gives the column. */
        while (out[width] == ' ')
                width++;
        for (const char *line = out; line && *line;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                size_t len = strcspn(line, "\n");

                if (len > width && strncmp(line, key, klen) == 0 && line[klen] == ' ') {
                        for (size_t i = klen; i < width; i++)
                                ASSERT_TRUE(line[i] == ' ');
                        snprintf(buf, size, "%.*s", (int)(len - width), line + width);
                        return buf;
                }
        }
        udk_test_fail("no '%s' line in: %s", key, out);
}

/* ================================ tests ================================ */

static void test_help(void)
{
        static const char *const lines[] = {
                "  ls [OBJECT]",
                "  info OBJECT",
                "  set OBJECT CONTROL VALUE",
                "  set CONTROL-OBJECT VALUE",
                "  top ",
                "  play FILE",
                "  record FILE --seconds N",
                "  drivers ",
                "  restart DRIVER ",
                "  stop DRIVER ",
                "  start DRIVER ",
                "  personalities ",
                "  match NUB ",
                "  call DRIVER SELECTOR [SCALAR]...",
                "--socket PATH",
                "--json",
                "--verbose",
                "--once",
                "--interval SECONDS",
                "--device DEVICE",
                "--gain DB",
                "--seconds N",
                "--format wav|flac",
                "--struct HEX",
                "--struct-out N",
                "--help",
                "--version",
                "Exit status:",
        };
        static struct proc p;

        ASSERT_EXIT(&p, CTL_RAW(&p, "--help"), 0);
        ASSERT_TRUE(strncmp(p.out, "Usage: udkctl [OPTION]... COMMAND [ARG]...\n", 43) == 0);
        for (size_t i = 0; i < UDK_ELEMENTSOF(lines); i++)
                ASSERT_STR_CONTAINS(p.out, lines[i]);
        ASSERT_STR_EQ(p.err, "");

        /* -h, and --help after a command, print the same. */
        {
                static struct proc q;

                ASSERT_EXIT(&q, CTL_RAW(&q, "-h"), 0);
                ASSERT_STR_EQ(q.out, p.out);
                ASSERT_EXIT(&q, CTL_RAW(&q, "set", "--help"), 0);
                ASSERT_STR_EQ(q.out, p.out);
        }
}

static void test_version(void)
{
        static struct proc p;

        ASSERT_EXIT(&p, CTL_RAW(&p, "--version"), 0);
        ASSERT_STR_EQ(p.out, "udkctl " UDK_VERSION "\n");
        ASSERT_STR_EQ(p.err, "");
        ASSERT_EXIT(&p, CTL_RAW(&p, "-V"), 0);
        ASSERT_STR_EQ(p.out, "udkctl " UDK_VERSION "\n");
}

#define HINT          "Try 'udkctl --help' for more information.\n"
#define COMMANDS      "ls, info, set, top, play, record, drivers, restart, stop, start, personalities, match, call"
#define GENERAL_USAGE "Usage: udkctl [OPTION]... COMMAND [ARG]...\n" HINT

static void expect_usage(const char *const *args, const char *expected_err)
{
        static struct proc p;

        ASSERT_EXIT(&p, ctl_run(&p, NULL, args, NULL), 2);
        ASSERT_STR_EQ(p.err, expected_err);
        ASSERT_STR_EQ(p.out, "");
}

#define EXPECT_USAGE(err, ...) expect_usage((const char *const[]){ __VA_ARGS__, NULL }, err)

static void test_usage_errors(void)
{
        static struct proc p;

        ASSERT_EXIT(&p, ctl_run(&p, NULL, NULL, NULL), 2);
        ASSERT_STR_EQ(p.err, "udkctl: no command (" COMMANDS ")\n" GENERAL_USAGE);

        EXPECT_USAGE("udkctl: unknown command 'frob' (" COMMANDS ")\n" GENERAL_USAGE, "frob");
        EXPECT_USAGE("udkctl: unknown option '--bogus'\n" GENERAL_USAGE, "ls", "--bogus");
        EXPECT_USAGE("udkctl: unknown option '-x'\n" GENERAL_USAGE, "-x", "ls");
        EXPECT_USAGE("udkctl: option '--socket' needs a value\n" GENERAL_USAGE, "ls", "--socket");
        EXPECT_USAGE("udkctl: option '-d' needs a value\n" GENERAL_USAGE, "play", "f.wav", "-d");
        EXPECT_USAGE("udkctl: option '--json' takes no value\n" GENERAL_USAGE, "ls", "--json=yes");
        EXPECT_USAGE("udkctl: 'info' needs more arguments\nUsage: udkctl info OBJECT\n" HINT, "info");
        EXPECT_USAGE("udkctl: 'set' needs more arguments\n"
                     "Usage: udkctl set OBJECT CONTROL VALUE  or  set CONTROL-OBJECT VALUE\n" HINT,
                     "set", "loop");
        EXPECT_USAGE("udkctl: too many arguments for 'set'\n"
                     "Usage: udkctl set OBJECT CONTROL VALUE  or  set CONTROL-OBJECT VALUE\n" HINT,
                     "set", "a", "b", "c", "d");
        EXPECT_USAGE("udkctl: too many arguments for 'ls'\nUsage: udkctl ls [OBJECT]\n" HINT, "ls", "a",
                     "b");
        EXPECT_USAGE("udkctl: 'play' needs more arguments\n"
                     "Usage: udkctl play FILE [--device DEVICE] [--gain DB] [--quality Q]\n" HINT,
                     "play");
        EXPECT_USAGE("udkctl: option '--seconds' does not apply to 'ls'\nUsage: udkctl ls [OBJECT]\n" HINT,
                     "ls", "--seconds", "1");
        EXPECT_USAGE("udkctl: option '--json' does not apply to 'set'\n"
                     "Usage: udkctl set OBJECT CONTROL VALUE  or  set CONTROL-OBJECT VALUE\n" HINT,
                     "--json", "set", "loop", "level", "-6");
        EXPECT_USAGE("udkctl: bad --interval '0' (seconds, 0.05..3600)\n"
                     "Usage: udkctl top [--once] [--interval SECONDS]\n" HINT,
                     "top", "--interval", "0");
        EXPECT_USAGE("udkctl: bad --interval 'soon' (seconds, 0.05..3600)\n"
                     "Usage: udkctl top [--once] [--interval SECONDS]\n" HINT,
                     "top", "--interval=soon");
        EXPECT_USAGE(
                "udkctl: top --json needs --once\nUsage: udkctl top [--once] [--interval SECONDS]\n" HINT,
                "top", "--json");
        EXPECT_USAGE("udkctl: bad --gain '30' (dB, -96..24)\n"
                     "Usage: udkctl play FILE [--device DEVICE] [--gain DB] [--quality Q]\n" HINT,
                     "play", "f.wav", "--gain", "30");
        EXPECT_USAGE("udkctl: record needs --seconds N\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.wav");
        EXPECT_USAGE("udkctl: bad --seconds '0' (seconds, 0.001..86400)\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.wav", "--seconds", "0");
        EXPECT_USAGE("udkctl: bad --format 'mp3' (wav or flac)\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.wav", "--seconds", "1", "--format", "mp3");
        EXPECT_USAGE("udkctl: cannot tell the format of 'f.raw' from its name: use --format wav|flac\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.raw", "--seconds", "1", "--socket", "/nonexistent/udkd.sock");
        EXPECT_USAGE("udkctl: bad --rate '4000' (Hz, 8000..768000)\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.wav", "--seconds", "1", "--rate", "4000");
        EXPECT_USAGE("udkctl: bad --rate '44100.5' (a whole number of Hz)\n"
                     "Usage: udkctl record FILE --seconds N [--device DEVICE] [--format wav|flac] [--rate HZ] [--quality Q]\n" HINT,
                     "record", "f.wav", "--seconds", "1", "--rate", "44100.5");
        EXPECT_USAGE("udkctl: bad --quality 'ultra' (quick, low, medium, high or very-high)\n"
                     "Usage: udkctl play FILE [--device DEVICE] [--gain DB] [--quality Q]\n" HINT,
                     "play", "f.wav", "--quality", "ultra");
        EXPECT_USAGE("udkctl: option '--rate' does not apply to 'play'\n"
                     "Usage: udkctl play FILE [--device DEVICE] [--gain DB] [--quality Q]\n" HINT,
                     "play", "f.wav", "--rate", "44100");
}

#define CALL_USAGE "Usage: udkctl call DRIVER SELECTOR [SCALAR]... [--struct HEX] [--struct-out N] [--json]\n" HINT

/* The drivers' commands: operands, SELECTOR, SCALARs, --struct and --struct-out, before any connection. */
static void test_driver_usage_errors(void)
{
        EXPECT_USAGE("udkctl: too many arguments for 'drivers'\nUsage: udkctl drivers [--json]\n" HINT, "drivers",
                     "x");
        EXPECT_USAGE("udkctl: 'restart' needs more arguments\nUsage: udkctl restart DRIVER\n" HINT, "restart");
        EXPECT_USAGE("udkctl: too many arguments for 'stop'\nUsage: udkctl stop DRIVER\n" HINT, "stop", "a", "b");
        EXPECT_USAGE("udkctl: 'start' needs more arguments\nUsage: udkctl start DRIVER\n" HINT, "start");
        EXPECT_USAGE("udkctl: option '--json' does not apply to 'start'\nUsage: udkctl start DRIVER\n" HINT, "start",
                     "x", "--json");
        EXPECT_USAGE("udkctl: too many arguments for 'personalities'\nUsage: udkctl personalities [--json]\n" HINT,
                     "personalities", "x");
        EXPECT_USAGE("udkctl: option '--struct' does not apply to 'personalities'\n"
                     "Usage: udkctl personalities [--json]\n" HINT,
                     "personalities", "--struct", "00");
        EXPECT_USAGE("udkctl: 'match' needs more arguments\nUsage: udkctl match NUB [--json]\n" HINT, "match");
        EXPECT_USAGE("udkctl: too many arguments for 'match'\nUsage: udkctl match NUB [--json]\n" HINT, "match", "a",
                     "b");
        EXPECT_USAGE("udkctl: 'call' needs more arguments\n" CALL_USAGE, "call", "level");
        EXPECT_USAGE("udkctl: too many arguments for 'call'\n" CALL_USAGE, "call", "level", "1", "1", "2", "3", "4",
                     "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17");
        EXPECT_USAGE("udkctl: bad SELECTOR 'up' (an integer, 0..2^64-1, decimal or 0x hex)\n" CALL_USAGE, "call",
                     "level", "up");
        EXPECT_USAGE("udkctl: bad SELECTOR '-1' (an integer, 0..2^64-1, decimal or 0x hex)\n" CALL_USAGE, "call",
                     "level", "-1");
        EXPECT_USAGE("udkctl: bad SCALAR '0x10000000000000000' (a 64-bit integer, decimal or 0x hex)\n" CALL_USAGE,
                     "call", "level", "1", "0x10000000000000000");
        EXPECT_USAGE("udkctl: bad SCALAR '1.5' (a 64-bit integer, decimal or 0x hex)\n" CALL_USAGE, "call", "level",
                     "1", "1.5");
        EXPECT_USAGE("udkctl: bad SCALAR '-9223372036854775809' (a 64-bit integer, decimal or 0x hex)\n" CALL_USAGE,
                     "call", "level", "1", "-9223372036854775809");
        EXPECT_USAGE("udkctl: bad --struct 'abc' (hex digits, two a byte, at most 2048 bytes)\n" CALL_USAGE, "call",
                     "level", "1", "--struct", "abc");
        EXPECT_USAGE("udkctl: bad --struct '0xab' (hex digits, two a byte, at most 2048 bytes)\n" CALL_USAGE, "call",
                     "level", "1", "--struct=0xab");
        EXPECT_USAGE("udkctl: bad --struct-out '2049' (bytes, 0..2048)\n" CALL_USAGE, "call", "level", "1",
                     "--struct-out", "2049");
        EXPECT_USAGE("udkctl: bad --struct-out 'all' (bytes, 0..2048)\n" CALL_USAGE, "call", "level", "1",
                     "--struct-out", "all");
        EXPECT_USAGE("udkctl: option '--struct-out' does not apply to 'ls'\nUsage: udkctl ls [OBJECT]\n" HINT, "ls",
                     "--struct-out", "4");

        /* 2048 bytes of structure is the limit, not beyond it; the largest scalars parse. */
        {
                static char big[2 * UDK_CALL_STRUCT_MAX + 3];
                static struct proc p;

                memset(big, 'a', 2 * UDK_CALL_STRUCT_MAX);
                ASSERT_EXIT(&p,
                            CTL_RAW(&p, "call", "level", "0xffffffffffffffff", "18446744073709551615",
                                    "-9223372036854775808", "--struct", big, "--socket", "/nonexistent/udkd.sock"),
                            1);
                ASSERT_STR_EQ(p.err, "udkctl: udkd is not running (no socket at /nonexistent/udkd.sock)\n");
                memcpy(big + 2 * UDK_CALL_STRUCT_MAX, "ab", 3);
                EXPECT_USAGE("udkctl: bad --struct 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (hex digits, two a "
                             "byte, at most 2048 bytes)\n" CALL_USAGE,
                             "call", "level", "1", "--struct", big);
        }
}

/* DRIVER and NUB are looked for among the drivers and the nubs only: a device by the name is not one. */
static void test_driver_lookups(void)
{
        static struct proc p;
        unsigned loop;

        env_setup(true);
        loop = object_id("loop");

        ASSERT_EXIT(&p, CTL(&p, "drivers"), 0);
        ASSERT_STR_EQ(p.out, "no drivers\n");
        ASSERT_STR_EQ(p.err, "");
        ASSERT_EXIT(&p, CTL(&p, "drivers", "--json"), 0);
        json_check(p.out, "print(len(d))\n", "0\n");

        ASSERT_EXIT(&p, CTL(&p, "call", "loop", "1"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no driver 'loop'\n");
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "restart", "loop"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no driver 'loop'\n");
        ASSERT_EXIT(&p, CTL(&p, "match", "loop"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no nub 'loop'\n");
        {
                char want[160];
                char id[16];

                snprintf(id, sizeof(id), "%u", loop);
                snprintf(want, sizeof(want), "udkctl: object %u is a device, not a driver\n", loop);
                ASSERT_EXIT(&p, CTL(&p, "stop", id), 1);
                ASSERT_STR_EQ(p.err, want);
                snprintf(want, sizeof(want), "udkctl: object virtual/loop is a device, not a nub\n");
                ASSERT_EXIT(&p, CTL(&p, "match", "virtual/loop"), 1);
                ASSERT_STR_EQ(p.err, want);
        }
        env_teardown(NULL);
}

/*
 * Personalities of the root family bind to udkd's root nubs; no host can
 * run, so each driver fails, and the commands see them all: personalities
 * with a broken file, match with a winner, a loser and a failure, names a
 * personality, a driver and nubs share.
 */
static const char bus_personalities[] = "[personality]\n"
                                        "name = test-bus\n"
                                        "family = root\n"
                                        "match.bus = test\n"
                                        "driver = bus.so\n"
                                        "class = TestBus\n"
                                        "probe_score = 5\n"
                                        "\n"
                                        "[personality]\n"
                                        "name = any-bus\n"
                                        "family = root\n"
                                        "driver = bus.so\n"
                                        "fallback = yes\n"
                                        "\n"
                                        "[personality]\n"
                                        "name = usb-bus\n"
                                        "family = root\n"
                                        "match.bus = usb\n"
                                        "driver = bus.so\n";

static void test_personalities_and_match(void)
{
        static struct proc p;
        static char dir[PATH_MAX], path[PATH_MAX], expected[4 * PATH_MAX + 1024];
        unsigned test_bus;

        env_setup(false);
        ASSERT_OK(mkdir(drivers_dir(dir, sizeof(dir)), 0700));
        write_text(in_dir(path, sizeof(path), "drivers/bus.so"), "");
        write_text(in_dir(path, sizeof(path), "drivers/10-bus.conf"), bus_personalities);
        write_text(in_dir(path, sizeof(path), "drivers/20-broken.conf"),
                   "[personality]\nname = b\nfamily = usb\ncolour = blue\n");
        env_start(dir);

        ASSERT_EXIT(&p, CTL(&p, "personalities"), 0);
        ASSERT_STR_EQ(p.err, "");
        {
                size_t w = strlen(dir) + strlen("/bus.so");
                char driver[PATH_MAX];

                in_dir(driver, sizeof(driver), "drivers/bus.so");
                snprintf(expected, sizeof(expected),
                         "NAME      FAMILY  %-*s  CLASS    RULES  SCORE  FALLBACK  FILE\n"
                         "test-bus  root    %-*s  TestBus      1      5  no        %s/10-bus.conf:1\n"
                         "any-bus   root    %-*s  -            0      0  yes       %s/10-bus.conf:9\n"
                         "usb-bus   root    %-*s  -            1      0  no        %s/10-bus.conf:15\n"
                         "\n"
                         "3 personalities loaded, 1 file with errors:\n"
                         "%s/20-broken.conf:4: unknown key 'colour' in [personality]\n",
                         (int)w, "DRIVER", (int)w, driver, dir, (int)w, driver, dir, (int)w, driver, dir, dir);
        }
        ASSERT_STR_EQ(p.out, expected);
        ASSERT_EXIT(&p, CTL(&p, "personalities", "--json"), 0);
        snprintf(expected, sizeof(expected), "3 test-bus TestBus 5 1 %s/20-broken.conf:4: unknown key 'colour' in [personality]\n",
                 dir);
        json_check(p.out,
                   "ps = d['personalities']\n"
                   "print(len(ps), ps[0]['name'], ps[0]['properties']['class'], ps[0]['properties']['probe_score'],"
                   " len(d['errors']), d['errors'][0])\n",
                   expected);

        /* The root nub of the test bus: test-bus wins, the fallback loses, usb-bus fails. */
        ASSERT_EXIT(&p, CTL(&p, "match", "root-test"), 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_STR_EQ(p.out, "VERDICT  PERSONALITY  TIER  SCORE  RULES  WHY\n"
                             "won      test-bus        0      5      1  won over 'any-bus': 'any-bus' is a fallback\n"
                             "lost     any-bus         0      0      0  lost to 'test-bus': a fallback, and 'test-bus' is not\n"
                             "failed   usb-bus         0      0      1  match.bus = usb (line 18) failed: the nub's bus is test\n");
        ASSERT_EXIT(&p, CTL(&p, "match", "root-test", "--json"), 0);
        json_check(p.out,
                   "print(d['nub']['name'], d['nub']['class'], [(c['personality'], c['verdict'], c['probe_score'],"
                   " c['rules']) for c in d['candidates']])\n",
                   "root-test nub [('test-bus', 'won', 5, 1), ('any-bus', 'lost', 0, 0), ('usb-bus', 'failed', 0, 1)]\n");

        /* test-bus is a personality and a driver: the driver's commands take the driver. */
        test_bus = 0;
        ASSERT_EXIT(&p, CTL(&p, "drivers", "--json"), 0);
        json_check(p.out, "print(sorted(set(o['name'] for o in d)))\n", "['any-bus', 'test-bus', 'usb-bus']\n");
        {
                const char *at = strstr(p.out, "\"name\": \"test-bus\"");
                const char *id;

                ASSERT_NOT_NULL(at);
                /* "id" comes first in each object: the last one before the name. */
                for (id = at; id > p.out && strncmp(id, "\"id\": ", 6) != 0; id--)
                        ;
                ASSERT_INT_EQ(sscanf(id, "\"id\": %u", &test_bus), 1);
        }
        ASSERT_EXIT(&p, CTL(&p, "drivers"), 0);
        ASSERT_TRUE(strncmp(p.out, "NAME      ", 10) == 0);
        ASSERT_STR_CONTAINS(p.out, "  STATE ");
        snprintf(expected, sizeof(expected), "\ntest-bus  %2u  failed ", test_bus);
        ASSERT_STR_CONTAINS(p.out, expected);
        ASSERT_EXIT(&p, CTL(&p, "call", "test-bus", "1"), 1);
        ASSERT_STR_CONTAINS(p.err, "udkctl: call: driver 'test-bus' is failed");
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "stop", "test-bus"), 0);
        ASSERT_STR_EQ(p.out, "test-bus: stopped\n");
        ASSERT_EXIT(&p, CTL(&p, "stop", "test-bus"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: stop test-bus: driver 'test-bus' is stopped already\n");
        ASSERT_EXIT(&p, CTL(&p, "start", "test-bus"), 1);
        ASSERT_STR_CONTAINS(p.err, "udkctl: start test-bus: the driver is now failed (last exit: cannot run ");
        /* any-bus is bound to the three root nubs nothing else matched: three drivers by that name. */
        ASSERT_EXIT(&p, CTL(&p, "restart", "any-bus"), 1);
        ASSERT_STR_CONTAINS(p.err, "udkctl: 3 drivers are named any-bus (ids ");
        ASSERT_STR_CONTAINS(p.err, "): give an id or a path\n");
        ASSERT_EXIT(&p, CTL(&p, "match", "test-bus"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no nub 'test-bus'\n");

        env_teardown((const char *const[]){ "drivers/bus.so", "drivers/10-bus.conf", "drivers/20-broken.conf",
                                            NULL });
}

/* Every command that talks to udkd says the same when nobody is there. */
static void test_not_running(void)
{
        static struct proc p;
        char expected[PATH_MAX + 128], env[PATH_MAX + 16], wav[PATH_MAX], rec[PATH_MAX];
        static const float frame[2] = { 0.25f, -0.25f };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        env_setup(false);
        write_sound(in_dir(wav, sizeof(wav), "in.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, frame, 1);
        in_dir(rec, sizeof(rec), "rec.wav");
        snprintf(expected, sizeof(expected), "udkctl: udkd is not running (no socket at %s)\n", E.sock);

        ASSERT_EXIT(&p, CTL(&p, "ls"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "ls", "--json"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "info", "loop"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "level", "-6"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "top", "--once"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "top"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "play", wav), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "record", rec, "--seconds", "1"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_INT_EQ(access(rec, F_OK), -1);
        ASSERT_EXIT(&p, CTL(&p, "drivers"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "restart", "bus"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "stop", "bus"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "start", "bus"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "personalities"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "match", "knob"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_EXIT(&p, CTL(&p, "call", "level", "1", "2", "--struct", "0a0b"), 1);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_STR_EQ(p.out, "");

        /* UDK_SOCKET when there is no --socket. */
        snprintf(env, sizeof(env), "UDK_SOCKET=%s", E.sock);
        ASSERT_EXIT(&p, ctl_run(&p, env, (const char *const[]){ "ls", NULL }, NULL), 1);
        ASSERT_STR_EQ(p.err, expected);

        /* A socket file nobody listens on (udkd died without removing it). */
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_OK(fd);
        udk_strlcpy(sa.sun_path, E.sock, sizeof(sa.sun_path));
        ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
        ASSERT_OK(close(fd));
        ASSERT_EXIT(&p, CTL(&p, "ls"), 1);
        snprintf(expected, sizeof(expected), "udkctl: udkd is not running (nothing listens at %s)\n",
                 E.sock);
        ASSERT_STR_EQ(p.err, expected);

        /* A path no socket address can hold. */
        {
                char longer[200];

                memset(longer, 'x', sizeof(longer) - 1);
                longer[0] = '/';
                longer[sizeof(longer) - 1] = '\0';
                ASSERT_EXIT(&p, CTL_RAW(&p, "ls", "--socket", longer), 1);
                snprintf(expected, sizeof(expected),
                         "udkctl: socket path too long (at most 107 bytes): %s\n", longer);
                ASSERT_STR_EQ(p.err, expected);
        }

        env_teardown((const char *const[]){ "in.wav", NULL });
}

static void test_ls(void)
{
        static struct proc p, q;
        char line[512], env[PATH_MAX + 16];
        unsigned loop = 0;

        env_setup(true);
        loop = object_id("loop");

        ASSERT_EXIT(&p, CTL(&p, "ls"), 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_TRUE(strncmp(p.out, "+-o udkd  <root, id ", 20) == 0);
        ASSERT_STR_CONTAINS(p.out, "\n  +-o virtual  <backend, id ");
        /* The backend is not the root's last child (our own session follows it). */
        snprintf(line, sizeof(line),
                 "\n  | +-o loop  <device, id %u, 48000 Hz, 512 frames, 2 in, 2 out, f32>\n", loop);
        ASSERT_STR_CONTAINS(p.out, line);
        ASSERT_STR_CONTAINS(p.out, "+-o studio  <device, id ");
        ASSERT_STR_CONTAINS(p.out, ", 48000 Hz, 256 frames, 2 in, 0 out, f32>\n");
        ASSERT_STR_CONTAINS(p.out, "+-o sink  <device, id ");
        ASSERT_STR_CONTAINS(p.out, ", 48000 Hz, 1024 frames, 0 in, 1 out, f32>\n");
        ASSERT_STR_CONTAINS(p.out, "+-o input  <stream, id ");
        ASSERT_STR_CONTAINS(p.out, "+-o output  <stream, id ");
        ASSERT_STR_CONTAINS(p.out, "+-o source  <control, id ");
        ASSERT_STR_CONTAINS(p.out, ", loopback>\n");
        ASSERT_STR_CONTAINS(p.out, "+-o level  <control, id ");
        ASSERT_STR_CONTAINS(p.out, ", -12.0 dB>\n");
        /* This very session, named udkctl, with its pid. */
        snprintf(line, sizeof(line), ", pid %d>\n", (int)p.pid);
        ASSERT_STR_CONTAINS(p.out, "\n  +-o udkctl  <client, id ");
        ASSERT_STR_CONTAINS(p.out, line);

        /* -v: every property in a block under its object. */
        ASSERT_EXIT(&q, CTL(&q, "ls", "-v"), 0);
        ASSERT_STR_CONTAINS(q.out, "\"rate\" = 48000\n");
        ASSERT_STR_CONTAINS(q.out, "\"uid\" = \"udk:loop\"\n");
        ASSERT_STR_CONTAINS(q.out, "  | | {\n");
        ASSERT_STR_CONTAINS(q.out, "\"value\" = \"-12.0 dB\"\n");

        /* A subtree, by name and through $UDK_SOCKET. */
        snprintf(env, sizeof(env), "UDK_SOCKET=%s", E.sock);
        ASSERT_EXIT(&q, ctl_run(&q, env, (const char *const[]){ "ls", "loop", NULL }, NULL), 0);
        snprintf(line, sizeof(line), "+-o loop  <device, id %u, 48000 Hz, 512 frames, 2 in, 2 out, f32>\n",
                 loop);
        ASSERT_TRUE(strncmp(q.out, line, strlen(line)) == 0);
        ASSERT_FALSE(strstr(q.out, "udkd"));
        ASSERT_FALSE(strstr(q.out, "studio"));
        ASSERT_STR_CONTAINS(q.out, "\n  +-o input  <stream, id ");

        /* JSON: every object with its properties. */
        ASSERT_EXIT(&q, CTL(&q, "ls", "--json"), 0);
        ASSERT_STR_EQ(q.err, "");
        json_check(
                q.out,
                "assert isinstance(d, list)\n"
                "for o in d:\n"
                "    assert sorted(o) == ['class', 'id', 'name', 'parent', 'properties'], o\n"
                "ids = {o['id'] for o in d}\n"
                "assert all(o['parent'] in ids for o in d if o['parent']), 'orphan'\n"
                "print(d[0]['class'], d[0]['name'], d[0]['parent'])\n"
                "dev = [o for o in d if o['class'] == 'device']\n"
                "print(' '.join(o['name'] for o in dev))\n"
                "loop = dev[0]['properties']\n"
                "print(loop['rate'], loop['period'], loop['input_channels'], loop['output_channels'],"
                " loop['format'], loop['uid'])\n"
                "ctl = [o['name'] for o in d if o['class'] == 'control' and o['parent'] == dev[0]['id']]\n"
                "print('source' in ctl, 'level' in ctl)\n"
                "st = sorted(o['name'] for o in d if o['class'] == 'stream' and o['parent'] == "
                "dev[0]['id'])\n"
                "print(st)\n"
                "print(sorted({o['class'] for o in d}))\n",
                "root udkd 0\n"
                "loop studio sink\n"
                "48000 512 2 2 f32 udk:loop\n"
                "True True\n"
                "['input', 'output']\n"
                "['backend', 'client', 'control', 'device', 'nub', 'root', 'stream']\n");

        ASSERT_EXIT(&q, CTL(&q, "ls", "nosuch"), 1);
        ASSERT_STR_EQ(q.err, "udkctl: no object 'nosuch'\n");
        ASSERT_STR_EQ(q.out, "");
        env_teardown(NULL);
}

static void test_info(void)
{
        static struct proc p;
        char value[256], expected[128];
        unsigned loop, level;

        env_setup(true);
        loop = object_id("loop");
        level = object_id("virtual/loop/level");

        ASSERT_EXIT(&p, CTL(&p, "info", "virtual/loop/level"), 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_TRUE(strncmp(p.out, "name ", 5) == 0);
        ASSERT_STR_EQ(info_value(p.out, "name", value, sizeof(value)), "level");
        snprintf(expected, sizeof(expected), "%u", level);
        ASSERT_STR_EQ(info_value(p.out, "id", value, sizeof(value)), expected);
        ASSERT_STR_EQ(info_value(p.out, "class", value, sizeof(value)), "control");
        snprintf(expected, sizeof(expected), "loop (id %u)", loop);
        ASSERT_STR_EQ(info_value(p.out, "parent", value, sizeof(value)), expected);
        ASSERT_STR_EQ(info_value(p.out, "path", value, sizeof(value)), "virtual/loop/level");
        ASSERT_STR_EQ(info_value(p.out, "kind", value, sizeof(value)), "level");
        ASSERT_STR_EQ(info_value(p.out, "value", value, sizeof(value)), "-12.0 dB  (settable)");

        /* The same object by id; a device by its UID. */
        snprintf(expected, sizeof(expected), "%u", level);
        ASSERT_EXIT(&p, CTL(&p, "info", expected), 0);
        ASSERT_STR_EQ(info_value(p.out, "path", value, sizeof(value)), "virtual/loop/level");
        ASSERT_EXIT(&p, CTL(&p, "info", "udk:loop"), 0);
        ASSERT_STR_EQ(info_value(p.out, "name", value, sizeof(value)), "loop");
        ASSERT_STR_EQ(info_value(p.out, "class", value, sizeof(value)), "device");
        ASSERT_STR_EQ(info_value(p.out, "path", value, sizeof(value)), "virtual/loop");
        ASSERT_STR_EQ(info_value(p.out, "rate", value, sizeof(value)), "48000");
        ASSERT_STR_EQ(info_value(p.out, "output_latency", value, sizeof(value)), "600");

        ASSERT_EXIT(&p, CTL(&p, "info", "virtual/loop/level", "--json"), 0);
        ASSERT_STR_EQ(p.err, "");
        json_check(p.out,
                   "assert sorted(d) == ['class', 'id', 'name', 'parent', 'properties'], d\n"
                   "print(d['class'], d['name'], d['properties']['kind'], d['properties']['value'])\n",
                   "control level level -12.0 dB\n");

        ASSERT_EXIT(&p, CTL(&p, "info", "nosuch"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no object 'nosuch'\n");
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "info", "999999"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no object '999999'\n");
        /* Every virtual device has a level: the name alone is ambiguous. */
        ASSERT_EXIT(&p, CTL(&p, "info", "level"), 1);
        snprintf(expected, sizeof(expected),
                 "udkctl: 3 objects are named level (ids %u, %u, %u): give an id or a path\n", level,
                 object_id("virtual/studio/level"), object_id("virtual/sink/level"));
        ASSERT_STR_EQ(p.err, expected);
        env_teardown(NULL);
}

static void test_set(void)
{
        static struct proc p;
        char value[256];

        env_setup(true);
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "level", "-6"), 0);
        ASSERT_STR_EQ(p.out, "loop: level = -6.0 dB\n");
        ASSERT_STR_EQ(p.err, "");
        ASSERT_EXIT(&p, CTL(&p, "info", "virtual/loop/level"), 0);
        ASSERT_STR_EQ(info_value(p.out, "value", value, sizeof(value)), "-6.0 dB  (settable)");

        /* The control object itself, by path. */
        ASSERT_EXIT(&p, CTL(&p, "set", "virtual/loop/level", "-3dB"), 0);
        ASSERT_STR_EQ(p.out, "loop: level = -3.0 dB\n");
        ASSERT_EXIT(&p, CTL(&p, "info", "virtual/loop/level"), 0);
        ASSERT_STR_EQ(info_value(p.out, "value", value, sizeof(value)), "-3.0 dB  (settable)");

        /* A selector and a boolean. */
        ASSERT_EXIT(&p, CTL(&p, "set", "studio", "source", "silence"), 0);
        ASSERT_STR_EQ(p.out, "studio: source = silence\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "studio", "mute", "on"), 0);
        ASSERT_STR_EQ(p.out, "studio: mute = on\n");

        /* Refusals: udkd's sentence, exit 1, and the value unchanged. */
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "level", "-200"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: level: -200 is out of range (a level in dB, -96..0)\n");
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "info", "virtual/loop/level"), 0);
        ASSERT_STR_EQ(info_value(p.out, "value", value, sizeof(value)), "-3.0 dB  (settable)");
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "source", "square"), 1);
        ASSERT_STR_EQ(p.err,
                      "udkctl: source: 'square' is not a value it takes (one of sine, silence, loopback)\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "level", "loud"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: level: 'loud' is not a value it takes (a level in dB, -96..0)\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "foo", "1"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: device loop has no control 'foo'\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "nosuch", "level", "1"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no object 'nosuch'\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "loop", "-6"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: 'loop' is a device, not a control: say which control, as in "
                             "'udkctl set loop CONTROL -6'\n");
        ASSERT_STR_EQ(p.out, "");
        env_teardown(NULL);
}

static void test_set_node_gain(void)
{
        static struct proc p;
        struct udk_client *client;
        struct udk_client_stream *stream;
        char id[32], line[256];

        env_setup(true);
        stream = open_node(&client, "gain-test");
        snprintf(id, sizeof(id), "%" PRIu32, udk_client_stream_id(stream));

        /* The node in the tree, under its device. */
        ASSERT_EXIT(&p, CTL(&p, "ls", "loop"), 0);
        snprintf(line, sizeof(line), "\n  +-o gain-test  <node, id %s, running, 2 in, 2 out, pid %d>\n", id,
                 (int)getpid());
        ASSERT_STR_CONTAINS(p.out, line);

        ASSERT_EXIT(&p, CTL(&p, "set", id, "gain", "0.5"), 0);
        ASSERT_STR_EQ(p.out, "gain-test: gain = 0.5\n");
        ASSERT_EXIT(&p, CTL(&p, "set", "gain-test", "gain", "-6dB"), 0);
        ASSERT_STR_EQ(p.out, "gain-test: gain = 0.501187\n");
        ASSERT_EXIT(&p, CTL(&p, "set", id, "gain", "5"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: gain: 5 is out of range (a linear gain 0..4, or -96..12 dB)\n");
        ASSERT_STR_EQ(p.out, "");
        ASSERT_EXIT(&p, CTL(&p, "info", id, "--json"), 0);
        json_check(p.out, "print(d['class'], d['name'], round(d['properties']['gain'], 6))\n",
                   "node gain-test 0.501187\n");

        ASSERT_OK(udk_client_close(stream));
        udk_client_disconnect(client);
        env_teardown(NULL);
}

static void test_top_once(void)
{
        static struct proc p;
        struct udk_client *client;
        struct udk_client_stream *stream;
        char line[256], script[4096];
        unsigned loop;

        env_setup(true);
        loop = object_id("loop");

        /* Without clients: the header and one line a device. */
        ASSERT_EXIT(&p, CTL(&p, "top", "--once"), 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_TRUE(
                strncmp(p.out,
                        "NAME            ID   RATE PERIOD   LOAD    MAX  WAIT50  WAIT99  BUSY50  BUSY99  "
                        "XRUNS   LATE  STATE\n",
                        strlen("NAME            ID   RATE PERIOD   LOAD    MAX  WAIT50  WAIT99  BUSY50  "
                               "BUSY99  XRUNS   LATE  STATE\n")) == 0);
        snprintf(line, sizeof(line), "\nloop         %5u  48000    512 ", loop);
        ASSERT_STR_CONTAINS(p.out, line);
        ASSERT_STR_CONTAINS(p.out, "\nstudio       ");
        ASSERT_STR_CONTAINS(p.out, "  48000    256 ");
        ASSERT_STR_CONTAINS(p.out, "\nsink         ");
        ASSERT_STR_CONTAINS(p.out, "  48000   1024 ");

        /* A node of our own shows under its device. */
        stream = open_node(&client, "top-test");
        ASSERT_EXIT(&p, CTL(&p, "top", "--once"), 0);
        snprintf(line, sizeof(line), "\n  top-test   %5" PRIu32 "      -      - ",
                 udk_client_stream_id(stream));
        ASSERT_STR_CONTAINS(p.out, line);
        ASSERT_STR_CONTAINS(p.out, "  running\n");
        /* Its line comes right after its device's. */
        ASSERT_TRUE(strstr(p.out, "\nloop ") < strstr(p.out, "\n  top-test "));
        ASSERT_TRUE(strstr(p.out, "\n  top-test ") < strstr(p.out, "\nstudio "));

        ASSERT_EXIT(&p, CTL(&p, "top", "--once", "--json"), 0);
        ASSERT_STR_EQ(p.err, "");
        snprintf(script, sizeof(script),
                 "keys = ['busy_us', 'cycles', 'graph_us', 'id', 'load', 'load_max', 'name', 'nodes', "
                 "'period',"
                 " 'period_us', 'rate', 'sample_time', 'wait_us', 'xruns']\n"
                 "nkeys = ['busy_us', 'cycles', 'id', 'late', 'late_run', 'load', 'name', 'pid', 'position',"
                 " 'state', 'wait_us']\n"
                 "tkeys = ['max', 'p50', 'p99', 'p999']\n"
                 "assert sorted(d) == ['devices']\n"
                 "for dev in d['devices']:\n"
                 "    assert sorted(dev) == keys, sorted(dev)\n"
                 "    for t in ('busy_us', 'wait_us', 'graph_us'):\n"
                 "        assert sorted(dev[t]) == tkeys\n"
                 "    for n in dev['nodes']:\n"
                 "        assert sorted(n) == nkeys, sorted(n)\n"
                 "        assert sorted(n['wait_us']) == tkeys and sorted(n['busy_us']) == tkeys\n"
                 "print([dev['name'] for dev in d['devices']])\n"
                 "loop = d['devices'][0]\n"
                 "print(loop['id'] == %u, loop['rate'], loop['period'], round(loop['period_us'], 3),"
                 " loop['cycles'] > 0)\n"
                 "n = loop['nodes'][0]\n"
                 "print(len(loop['nodes']), n['id'] == %u, n['name'], n['state'], n['pid'] == %d, "
                 "n['position'])\n",
                 loop, (unsigned)udk_client_stream_id(stream), (int)getpid());
        json_check(p.out, script,
                   "['loop', 'studio', 'sink']\n"
                   "True 48000 512 10666.667 True\n"
                   "1 True top-test running True 0\n");

        ASSERT_OK(udk_client_close(stream));
        udk_client_disconnect(client);
        env_teardown(NULL);
}

/* The example passthrough client, when the build has it, shows as a node of its device. */
static void test_top_example_client(void)
{
        static struct proc ex, p;
        const char *example = getenv("UDK_EXAMPLE_PASSTHROUGH");
        uint64_t deadline;
        unsigned node;
        char line[256];

        if (!example || !*example)
                UDK_TEST_SKIP("UDK_EXAMPLE_PASSTHROUGH is not set");
        env_setup(true);
        spawn(&ex,
              (const char *const[]){ example, "--device", "loop", "--socket", E.sock, "--seconds", "30",
                                     NULL },
              NULL, NULL);
        deadline = now_ms() + TIMEOUT_MS;
        for (;;) {
                ASSERT_EXIT(&p, CTL(&p, "top", "--once"), 0);
                if (strstr(p.out, "\n  passthrough ") && strstr(p.out, "  running\n"))
                        break;
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&ex, 50);
        }
        node = object_id("passthrough");
        snprintf(line, sizeof(line), "\n  passthrough%*s%5u      -      - ", 1, "", node);
        ASSERT_STR_CONTAINS(p.out, line);
        ASSERT_TRUE(strstr(p.out, "\nloop ") < strstr(p.out, "\n  passthrough "));
        ASSERT_TRUE(strstr(p.out, "\n  passthrough ") < strstr(p.out, "\nstudio "));

        ASSERT_OK(kill(ex.pid, SIGINT));
        proc_finish(&ex, 5000);
        env_teardown(NULL);
}

static void test_top_live(void)
{
        static struct proc p;
        const char *argv[16];
        uint64_t deadline;
        int in;

        env_setup(true);

        /* q on stdin ends it. */
        ctl_argv(argv, UDK_ELEMENTSOF(argv), (const char *const[]){ "top", "--interval", "0.1", NULL },
                 (const char *const[]){ "--socket", E.sock, NULL });
        spawn(&p, argv, NULL, &in);
        deadline = now_ms() + TIMEOUT_MS;
        while (!strstr(p.out, "\n\n") || !strstr(strstr(p.out, "\n\n") + 2, "\n\n")) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&p, 100);
        }
        ASSERT_INT_EQ(write(in, "q", 1), 1);
        proc_finish(&p, 5000);
        close(in);
        ASSERT_EXIT(&p, proc_exit_status(&p), 0);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_TRUE(strncmp(p.out, "udkd ", 5) == 0);
        ASSERT_STR_CONTAINS(p.out, ": 3 devices, 0 nodes (times in us; every 0.1 s; q quits)\nNAME ");
        ASSERT_STR_CONTAINS(p.out, "\nloop ");

        /* So does SIGINT, with stdin at its end. */
        spawn(&p, argv, NULL, NULL);
        deadline = now_ms() + TIMEOUT_MS;
        while (!strstr(p.out, "\nsink ")) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&p, 100);
        }
        ASSERT_OK(kill(p.pid, SIGINT));
        proc_finish(&p, 5000);
        ASSERT_EXIT(&p, proc_exit_status(&p), 0);
        ASSERT_STR_EQ(p.err, "");
        env_teardown(NULL);
}

/* udkd stopping under a live top and a recording: both say so and exit 1. */
static void test_udkd_goes_away(void)
{
        static struct proc top, rec;
        char out[PATH_MAX];
        const char *argv[16];
        uint64_t deadline;

        env_setup(true);
        in_dir(out, sizeof(out), "away.wav");
        ctl_argv(argv, UDK_ELEMENTSOF(argv), (const char *const[]){ "top", "--interval", "0.1", NULL },
                 (const char *const[]){ "--socket", E.sock, NULL });
        spawn(&top, argv, NULL, NULL);
        ctl_argv(argv, UDK_ELEMENTSOF(argv),
                 (const char *const[]){ "record", out, "--seconds", "60", "--device", "studio", NULL },
                 (const char *const[]){ "--socket", E.sock, NULL });
        spawn(&rec, argv, NULL, NULL);
        deadline = now_ms() + TIMEOUT_MS;
        while (!strstr(rec.err, "Recording ") || !strstr(top.out, "\nsink ")) {
                ASSERT_TRUE(now_ms() < deadline);
                proc_pump(&rec, 20);
                proc_pump(&top, 20);
        }

        ASSERT_OK(kill(E.udkd.pid, SIGTERM));
        proc_finish(&E.udkd, 5000);
        ASSERT_INT_EQ(proc_exit_status(&E.udkd), 0);

        proc_finish(&top, 5000);
        ASSERT_EXIT(&top, proc_exit_status(&top), 1);
        ASSERT_STR_EQ(top.err, "udkctl: not connected to udkd: udkd closed the connection\n");
        proc_finish(&rec, 5000);
        ASSERT_EXIT(&rec, proc_exit_status(&rec), 1);
        ASSERT_TRUE(strlen(rec.err) > strlen("udkctl: udkd closed the stream\n"));
        ASSERT_STR_EQ(rec.err + strlen(rec.err) - strlen("udkctl: udkd closed the stream\n"),
                      "udkctl: udkd closed the stream\n");
        ASSERT_STR_EQ(rec.out, "");
        env_teardown((const char *const[]){ "away.wav", NULL });
}

/* The test signal: every sample non-zero and distinct between the channels. */
static float played_sample(sf_count_t frame, int channel)
{
        float x = (float)(frame % 4093 + 1) / 8192.0f;

        return channel == 0 ? x : -0.5f * x;
}

/* "... from sample time N\n" at the end of @out. */
static uint64_t reported_sample_time(const char *out)
{
        const char *at = strstr(out, " from sample time ");
        uint64_t t;

        ASSERT_NOT_NULL(at);
        ASSERT_INT_EQ(sscanf(at, " from sample time %" SCNu64, &t), 1);
        return t;
}

/*
 * Record @out from the loop for @seconds while playing @wav (with @play_args
 * after it) once the recording runs.  False when either said it lost frames
 * (exit 1, "udkctl: lost ..."): the machine was too busy for that attempt,
 * and udkctl said so as it must.  Anything else must be a success.
 */
static bool loopback_attempt(const char *wav, const char *out, const char *seconds,
                             const char *const *play_args, struct proc *rec, struct proc *play)
{
        const char *argv[16], *args[16] = { "play", wav };
        uint64_t deadline;
        int rs, ps;
        size_t n = 2;

        for (size_t i = 0; play_args && play_args[i]; i++) {
                ASSERT_TRUE(n < UDK_ELEMENTSOF(args) - 1);
                args[n++] = play_args[i];
        }
        args[n] = NULL;
        ctl_argv(argv, UDK_ELEMENTSOF(argv),
                 (const char *const[]){ "record", out, "--seconds", seconds, "--device", "loop", NULL },
                 (const char *const[]){ "--socket", E.sock, NULL });
        spawn(rec, argv, NULL, NULL);
        deadline = now_ms() + TIMEOUT_MS;
        while (!strstr(rec->err, "Recording ")) {
                ASSERT_TRUE(now_ms() < deadline);
                ASSERT_TRUE(proc_pump(rec, 100));
        }
        ps = ctl_run(play, NULL, args, (const char *const[]){ "--socket", E.sock, NULL });
        proc_finish(rec, TIMEOUT_MS);
        rs = proc_exit_status(rec);
        if (said_lost(ps, play) || said_lost(rs, rec))
                return false;
        ASSERT_EXIT(play, ps, 0);
        ASSERT_EXIT(rec, rs, 0);
        return true;
}

static void loopback(const char *wav, const char *out, const char *seconds, const char *const *play_args,
                     struct proc *rec, struct proc *play)
{
        for (int i = 0; i < LOSS_ATTEMPTS; i++)
                if (loopback_attempt(wav, out, seconds, play_args, rec, play))
                        return;
        udk_test_fail("frames lost in each of %d attempts", LOSS_ATTEMPTS);
}

static void test_play_record_loopback(void)
{
        enum { PLAYED = 12000, RECORDED = 2 * RATE };
        static struct proc rec, play, q;
        static float data[PLAYED * 2];
        char wav[PATH_MAX], out[PATH_MAX], expected[PATH_MAX + 128], value[64];
        uint64_t t_play, t_rec, offset, latency;
        float *got;
        SF_INFO info;

        env_setup(true);
        for (sf_count_t f = 0; f < PLAYED; f++)
                for (int c = 0; c < 2; c++)
                        data[f * 2 + c] = played_sample(f, c);
        write_sound(in_dir(wav, sizeof(wav), "in.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, data,
                    PLAYED);
        in_dir(out, sizeof(out), "out.wav");

        /* The latency udkd reports for the loop: output plus input. */
        ASSERT_EXIT(&q, CTL(&q, "info", "loop"), 0);
        latency = strtoull(info_value(q.out, "output_latency", value, sizeof(value)), NULL, 10) +
                  strtoull(info_value(q.out, "input_latency", value, sizeof(value)), NULL, 10);
        ASSERT_UINT_EQ(latency, LOOP_LATENCY);

        loopback(wav, out, "2", (const char *const[]){ "--device", "loop", NULL }, &rec, &play);
        snprintf(expected, sizeof(expected), "Playing %s on loop: 2 channels, 48000 Hz\n", wav);
        ASSERT_STR_EQ(play.err, expected);
        snprintf(expected, sizeof(expected), "played %s: 12000 frames (0.250 s) on loop from sample time ",
                 wav);
        ASSERT_TRUE(strncmp(play.out, expected, strlen(expected)) == 0);
        t_play = reported_sample_time(play.out);
        snprintf(expected, sizeof(expected), "Recording %s from loop: 2 channels, 48000 Hz, 96000 frames\n",
                 out);
        ASSERT_STR_EQ(rec.err, expected);
        snprintf(expected, sizeof(expected),
                 "recorded %s: 96000 frames (2.000 s) from loop from sample time ", out);
        ASSERT_TRUE(strncmp(rec.out, expected, strlen(expected)) == 0);
        t_rec = reported_sample_time(rec.out);

        /* Played frame f is recorded frame f + offset: the device's latency after the two streams' starts.
         */
        ASSERT_UINT_GE(t_play + latency, t_rec);
        offset = t_play + latency - t_rec;
        ASSERT_UINT_LE(offset + PLAYED, RECORDED);
        got = read_sound(out, &info);
        ASSERT_INT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        ASSERT_INT_EQ(info.channels, 2);
        ASSERT_INT_EQ(info.samplerate, RATE);
        ASSERT_INT_EQ(info.frames, RECORDED);
        for (uint64_t k = 0; k < RECORDED; k++)
                for (int c = 0; c < 2; c++) {
                        float want = k >= offset && k < offset + PLAYED
                                             ? played_sample((sf_count_t)(k - offset), c)
                                             : 0.0f;
                        if (got[k * 2 + c] != want)
                                udk_test_fail("recorded frame %" PRIu64
                                              " channel %d: %.9g, want %.9g (offset %" PRIu64 ")",
                                              k, c, got[k * 2 + c], want, offset);
                }
        free(got);
        env_teardown((const char *const[]){ "in.wav", "out.wav", NULL });
}

/* A mono file plays on every output, with --gain. */
static void test_play_mono_gain(void)
{
        enum { PLAYED = 4800, RECORDED = RATE };
        static struct proc rec, play;
        static float data[PLAYED];
        char wav[PATH_MAX], out[PATH_MAX];
        uint64_t offset;
        float *got;
        SF_INFO info;

        env_setup(true);
        for (sf_count_t f = 0; f < PLAYED; f++)
                data[f] = played_sample(f, 0);
        write_sound(in_dir(wav, sizeof(wav), "mono.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 1, data,
                    PLAYED);
        in_dir(out, sizeof(out), "out.wav");

        /* -6.0206 dB is a gain of 0.5 to within a float's precision. */
        loopback(wav, out, "1", (const char *const[]){ "-d", "loop", "--gain", "-6.020599913", NULL }, &rec,
                 &play);
        offset = reported_sample_time(play.out) + LOOP_LATENCY - reported_sample_time(rec.out);

        got = read_sound(out, &info);
        ASSERT_INT_EQ(info.frames, RECORDED);
        ASSERT_UINT_LE(offset + PLAYED, RECORDED);
        for (uint64_t k = 0; k < RECORDED; k++) {
                float want = k >= offset && k < offset + PLAYED ? played_sample((sf_count_t)(k - offset), 0)
                                                                : 0.0f;

                ASSERT_NEAR(got[k * 2], 0.5f * want, 1e-7);
                ASSERT_FLOAT_EQ(got[k * 2 + 1], got[k * 2]);
        }
        free(got);
        env_teardown((const char *const[]){ "mono.wav", "out.wav", NULL });
}

static void test_record_seconds(void)
{
        static struct proc p;
        char out[PATH_MAX], flac[PATH_MAX], expected[PATH_MAX + 128];
        float *got, peak = 0.0f;
        SF_INFO info;

        env_setup(true);
        in_dir(out, sizeof(out), "sine.wav");
        in_dir(flac, sizeof(flac), "sine.flac");

        ASSERT_EXIT(&p, CTL_LOSSLESS(&p, "record", out, "--seconds", "1", "--device", "studio"), 0);
        snprintf(expected, sizeof(expected),
                 "recorded %s: 48000 frames (1.000 s) from studio from sample time ", out);
        ASSERT_TRUE(strncmp(p.out, expected, strlen(expected)) == 0);
        got = read_sound(out, &info);
        ASSERT_INT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        ASSERT_INT_EQ(info.channels, 2);
        ASSERT_INT_EQ(info.samplerate, RATE);
        ASSERT_INT_EQ(info.frames, RATE);
        /* The studio's -12 dB sine on both channels. */
        for (sf_count_t k = 0; k < info.frames; k++) {
                ASSERT_FLOAT_EQ(got[k * 2], got[k * 2 + 1]);
                peak = UDK_MAX(peak, fabsf(got[k * 2]));
        }
        ASSERT_NEAR(peak, pow(10.0, -12.0 / 20.0), 1e-4);
        free(got);

        /* FLAC by --format, whatever the name says; 24 bits from a float device. */
        ASSERT_EXIT(&p,
                    CTL_LOSSLESS(&p, "record", flac, "--seconds", "0.5", "--device", "studio", "--format",
                                 "flac"),
                    0);
        snprintf(expected, sizeof(expected),
                 "recorded %s: 24000 frames (0.500 s) from studio from sample time ", flac);
        ASSERT_TRUE(strncmp(p.out, expected, strlen(expected)) == 0);
        got = read_sound(flac, &info);
        ASSERT_INT_EQ(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
        ASSERT_INT_EQ(info.frames, RATE / 2);
        ASSERT_INT_EQ(info.channels, 2);
        free(got);

        /* At 44.1 kHz from the 48 kHz studio, converted: N x 44100 frames, the same sine's level. */
        ASSERT_EXIT(&p,
                    CTL_LOSSLESS(&p, "record", out, "--seconds", "0.5", "--device", "studio", "--rate", "44100",
                                 "--quality", "high"),
                    0);
        snprintf(expected, sizeof(expected),
                 "recorded %s: 22050 frames (0.500 s) from studio from sample time ", out);
        ASSERT_TRUE(strncmp(p.out, expected, strlen(expected)) == 0);
        got = read_sound(out, &info);
        ASSERT_INT_EQ(info.samplerate, 44100);
        ASSERT_INT_EQ(info.frames, 22050);
        peak = 0.0f;
        /* Past the conversion's delay (silence while the filter fills). */
        for (sf_count_t k = 11025; k < info.frames; k++)
                peak = UDK_MAX(peak, fabsf(got[k * 2]));
        ASSERT_NEAR(peak, pow(10.0, -12.0 / 20.0), 1e-3);
        free(got);
        env_teardown((const char *const[]){ "sine.wav", "sine.flac", NULL });
}

static void test_play_record_errors(void)
{
        static struct proc p;
        static const float frames[4] = { 0.1f, 0.2f, 0.3f, 0.4f };
        char wav44[PATH_MAX], wav[PATH_MAX], missing[PATH_MAX], out[PATH_MAX], expected[2 * PATH_MAX];

        env_setup(true);
        write_sound(in_dir(wav44, sizeof(wav44), "44k.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2,
                    frames, 2);
        write_sound(in_dir(wav, sizeof(wav), "in.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, frames, 2);
        in_dir(missing, sizeof(missing), "missing.wav");
        in_dir(out, sizeof(out), "out.wav");

        /* Another rate is converted; an absurd one is refused. */
        ASSERT_EXIT(&p, CTL_LOSSLESS(&p, "play", wav44, "--device", "loop"), 0);
        snprintf(expected, sizeof(expected), "played %s: 2 frames (0.000 s) on loop from sample time ", wav44);
        ASSERT_TRUE(strncmp(p.out, expected, strlen(expected)) == 0);
        write_sound(wav44, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 4000, 2, frames, 2);
        ASSERT_EXIT(&p, CTL(&p, "play", wav44, "--device", "loop"), 1);
        snprintf(expected, sizeof(expected),
                 "udkctl: %s is at 4000 Hz: udk converts 8000..768000 Hz to device loop's 48000 Hz\n", wav44);
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_STR_EQ(p.out, "");

        ASSERT_EXIT(&p, CTL(&p, "play", missing), 1);
        snprintf(expected, sizeof(expected), "udkctl: %s: %s\n", missing,
                 "System error : No such file or directory.");
        ASSERT_STR_EQ(p.err, expected);

        ASSERT_EXIT(&p, CTL(&p, "play", wav, "--device", "nosuch"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no object 'nosuch'\n");
        ASSERT_EXIT(&p, CTL(&p, "play", wav, "--device", "virtual/loop/level"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: 'virtual/loop/level' is a control, not a device\n");
        ASSERT_EXIT(&p, CTL(&p, "play", wav, "--device", "studio"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: device studio has no outputs\n");

        ASSERT_EXIT(&p, CTL(&p, "record", out, "--seconds", "1", "--device", "sink"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: device sink has no inputs\n");
        ASSERT_INT_EQ(access(out, F_OK), -1);
        ASSERT_EXIT(&p, CTL(&p, "record", out, "--seconds", "1", "--device", "nosuch"), 1);
        ASSERT_STR_EQ(p.err, "udkctl: no object 'nosuch'\n");
        ASSERT_INT_EQ(access(out, F_OK), -1);

        /* A short file on the first device, without --device: exit 0, every frame played. */
        ASSERT_EXIT(&p, CTL_LOSSLESS(&p, "play", wav), 0);
        snprintf(expected, sizeof(expected), "played %s: 2 frames (0.000 s) on loop from sample time ", wav);
        ASSERT_TRUE(strncmp(p.out, expected, strlen(expected)) == 0);
        env_teardown((const char *const[]){ "44k.wav", "in.wav", NULL });
}

/* SIGINT stops a recording early: the file keeps what came, exit 130. */
static void test_record_interrupted(void)
{
        static struct proc rec;
        char out[PATH_MAX];
        const char *argv[16];
        uint64_t deadline;
        float *got;
        SF_INFO info;

        env_setup(true);
        in_dir(out, sizeof(out), "long.wav");
        ctl_argv(argv, UDK_ELEMENTSOF(argv),
                 (const char *const[]){ "record", out, "--seconds", "60", "--device", "studio", NULL },
                 (const char *const[]){ "--socket", E.sock, NULL });
        spawn(&rec, argv, NULL, NULL);
        deadline = now_ms() + TIMEOUT_MS;
        while (!strstr(rec.err, "Recording ")) {
                ASSERT_TRUE(now_ms() < deadline);
                ASSERT_TRUE(proc_pump(&rec, 100));
        }
        usleep(300000);
        ASSERT_OK(kill(rec.pid, SIGINT));
        proc_finish(&rec, 5000);
        ASSERT_EXIT(&rec, proc_exit_status(&rec), 130);
        ASSERT_STR_CONTAINS(rec.err, "udkctl: interrupted after ");
        ASSERT_STR_CONTAINS(rec.err, " of 2880000 frames\n");
        got = read_sound(out, &info);
        ASSERT_INT_GT(info.frames, 0);
        ASSERT_INT_LT(info.frames, 2880000);
        free(got);
        env_teardown((const char *const[]){ "long.wav", NULL });
}

UDK_TEST_MAIN(test_help, test_version, test_usage_errors, test_driver_usage_errors, test_not_running,
              test_driver_lookups, test_personalities_and_match, test_ls, test_info, test_set,
              test_set_node_gain, test_top_once, test_top_example_client, test_top_live, test_udkd_goes_away,
              test_play_record_loopback, test_play_mono_gain, test_record_seconds, test_play_record_errors,
              test_record_interrupted)
