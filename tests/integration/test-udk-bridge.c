/* SPDX-License-Identifier: MIT */
/*
 * udk-bridge across two clock domains, without hardware: udkd runs two
 * virtual devices, a (a 1 kHz sine at -6 dB, its clock 200 ppm fast) and
 * b (its own output looped back to its input, on the nominal clock);
 * udk-bridge plays a's input on b's output for 20 s while udk-record takes
 * b's input for the last 2.  Asserted: no underflow or overflow after the
 * settling time, the final ratio within 30 ppm of the true 200, the fill
 * within 32 frames of its target after the settling time, the sine arriving
 * on b at -6 dB at a's 1 kHz on b's clock (1000 Hz times the ratio) with an
 * SNR above 60 dB in every 50 ms window; and the usage errors.
 */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udk/client.h>

#include "udk-test-udkd.h"

#define WAIT_MS    60000
#define SECONDS    20
#define SETTLE_S   8
#define TRUE_PPM   200.0
#define PPM_BOUND  30.0
#define FILL_BAND  32.0
#define SNR_MIN_DB 60.0
#define LEVEL      0.5011872 /* -6 dB */
#define RATE       48000
#define RECORD_S   2

static const char config[] = "[device]\n"
                             "name = a\n"
                             "backend = virtual\n"
                             "rate = 48000\n"
                             "period = 256\n"
                             "channels = 2\n"
                             "clock_ppm = +200\n"
                             "source = sine\n"
                             "frequency = 1000\n"
                             "level = -6\n"
                             "\n"
                             "[device]\n"
                             "name = b\n"
                             "backend = virtual\n"
                             "rate = 48000\n"
                             "period = 256\n"
                             "channels = 2\n"
                             "source = loopback\n"
                             "\n"
                             "[device]\n"
                             "name = mono\n"
                             "backend = virtual\n"
                             "rate = 48000\n"
                             "period = 256\n"
                             "inputs = 1\n"
                             "outputs = 0\n";

struct program {
        pid_t pid;
        int out_fd, err_fd;
        char out[16384], err[4096];
        size_t out_len, err_len;
        int status;
};

static const char *program_path(const char *env)
{
        const char *path = getenv(env);

        if (!path || !*path)
                UDK_TEST_SKIP("%s is not set (run through meson test)", env);
        return path;
}

static void program_start(struct program *p, const char *env, const char *const *args)
{
        const char *argv[24];
        int out[2], err[2];
        size_t n = 0;

        memset(p, 0, sizeof(*p));
        argv[n++] = program_path(env);
        for (; args[n - 1]; n++) {
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
}

/* Read both pipes for up to @ms; false once both are closed. */
static bool program_pump(struct program *p, int ms)
{
        struct pollfd pfd[2] = { { .fd = p->out_fd, .events = POLLIN },
                                 { .fd = p->err_fd, .events = POLLIN } };
        int *fds[2] = { &p->out_fd, &p->err_fd };
        char *bufs[2] = { p->out, p->err };
        size_t caps[2] = { sizeof(p->out), sizeof(p->err) };
        size_t *lens[2] = { &p->out_len, &p->err_len };

        if (p->out_fd < 0 && p->err_fd < 0)
                return false;
        if (poll(pfd, 2, ms) <= 0)
                return true;
        for (int i = 0; i < 2; i++) {
                ssize_t n;

                if (*fds[i] < 0 || !pfd[i].revents)
                        continue;
                n = read(*fds[i], bufs[i] + *lens[i], caps[i] - 1 - *lens[i]);
                if (n <= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                        continue;
                }
                *lens[i] += (size_t)n;
                bufs[i][*lens[i]] = '\0';
        }
        return true;
}

static int program_finish(struct program *p, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        while (program_pump(p, 50))
                if (now_ms() > deadline) {
                        kill(p->pid, SIGKILL);
                        udk_test_fail("a program did not finish within %d ms; stderr: \"%s\"", timeout_ms,
                                      p->err);
                }
        ASSERT_INT_EQ(waitpid(p->pid, &p->status, 0), p->pid);
        if (!WIFEXITED(p->status))
                udk_test_fail("the program died of signal %d; stderr: \"%s\"", WTERMSIG(p->status), p->err);
        return WEXITSTATUS(p->status);
}

#define RUN(p, ...)                                                                          \
        (program_start(p, "UDK_EXAMPLE_BRIDGE", (const char *const[]){ __VA_ARGS__, NULL }), \
         program_finish(p, WAIT_MS))

struct stats_line {
        double ppm, fill;
        unsigned target, queued;
        unsigned long long underflows, overflows, resyncs;
};

/* The --stats lines of @out, in order; their number. */
static size_t parse_stats(const char *out, struct stats_line *ret, size_t max)
{
        size_t n = 0;

        for (const char *line = out; line && *line && n < max;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                struct stats_line s;
                if (sscanf(line,
                           "ratio %lf ppm fill %lf frames (target %u) queued %u underflows %llu "
                           "overflows %llu resyncs %llu",
                           &s.ppm, &s.fill, &s.target, &s.queued, &s.underflows, &s.overflows,
                           &s.resyncs) == 7)
                        ret[n++] = s;
        }
        return n;
}

/*
 * The least-squares fit of a + b sin(wt) + c cos(wt) to @n samples of
 * channel 0 of @buf from frame @at: its amplitude and the SNR of the fit
 * against the residual.
 */
static void fit_window(const float *buf, sf_count_t at, sf_count_t n, double freq, double *ret_amplitude,
                       double *ret_snr_db)
{
        double m[3][3] = {}, v[3] = {}, x[3], res = 0, sig = 0;

        for (sf_count_t i = at; i < at + n; i++) {
                double w = 2 * M_PI * freq * (double)i / RATE, b[3] = { 1, sin(w), cos(w) };
                for (int r = 0; r < 3; r++) {
                        v[r] += b[r] * buf[i * 2];
                        for (int c = 0; c < 3; c++)
                                m[r][c] += b[r] * b[c];
                }
        }
        /* Gauss-Jordan on the 3x3 normal equations (nearly diagonal). */
        for (int p = 0; p < 3; p++)
                for (int r = 0; r < 3; r++) {
                        double k = m[r][p] / m[p][p];
                        if (r == p)
                                continue;
                        for (int c = 0; c < 3; c++)
                                m[r][c] -= k * m[p][c];
                        v[r] -= k * v[p];
                }
        for (int r = 0; r < 3; r++)
                x[r] = v[r] / m[r][r];
        for (sf_count_t i = at; i < at + n; i++) {
                double w = 2 * M_PI * freq * (double)i / RATE;
                double fit = x[0] + x[1] * sin(w) + x[2] * cos(w);
                sig += fit * fit;
                res += (buf[i * 2] - fit) * (buf[i * 2] - fit);
        }
        *ret_amplitude = hypot(x[1], x[2]);
        *ret_snr_db = 10 * log10(sig / fmax(res, 1e-30));
}

/*
 * The recording in 50 ms windows (the ratio still moves by a ppm or so over
 * the 2 s: too little within a window to matter): the least and the most
 * amplitude, and the worst SNR.
 */
static void check_recording(const char *path, double freq, double *ret_amp_min, double *ret_amp_max,
                            double *ret_snr_db)
{
        const sf_count_t window = RATE / 20;
        static float buf[RATE * RECORD_S * 2];
        SF_INFO info = {};
        SNDFILE *f = sf_open(path, SFM_READ, &info);
        sf_count_t n;

        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(info.channels, 2);
        ASSERT_INT_EQ(info.samplerate, RATE);
        ASSERT_TRUE(info.frames <= RATE * RECORD_S);
        n = sf_readf_float(f, buf, info.frames);
        sf_close(f);
        ASSERT_INT_EQ(n, RATE * RECORD_S);
        for (sf_count_t i = 0; i < n; i++)
                ASSERT_FLOAT_EQ(buf[i * 2], buf[i * 2 + 1]);
        *ret_amp_min = INFINITY;
        *ret_amp_max = 0;
        *ret_snr_db = INFINITY;
        for (sf_count_t at = 0; at + window <= n; at += window) {
                double amp, snr;
                fit_window(buf, at, window, freq, &amp, &snr);
                *ret_amp_min = fmin(*ret_amp_min, amp);
                *ret_amp_max = fmax(*ret_amp_max, amp);
                *ret_snr_db = fmin(*ret_snr_db, snr);
        }
}

/*
 * The xruns of @device and the late cycles of its nodes, from udkd: a stall
 * of this shared machine (a period or more without CPU) shows there, and
 * steps the fill by a period that the loop then works off for seconds.
 */
static uint64_t device_stalls(struct udk_client *c, const char *device)
{
        struct udk_msg_stats_node nodes[8];
        struct udk_msg_stats_device sd;
        udk_object_id id;
        uint64_t stalls;
        size_t n = 0;

        ASSERT_OK(udk_client_find(c, device, &id));
        ASSERT_OK(udk_client_stats(c, id, &sd, nodes, UDK_ELEMENTSOF(nodes), &n));
        stalls = sd.xruns;
        for (size_t i = 0; i < n; i++)
                stalls += nodes[i].late;
        return stalls;
}

/* A failed check fails the test, unless the machine stalled udkd during the
 * run (@stalls): then the run proves nothing and runs again. */
#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        if (stalls > 0)                                                            \
                                UDK_TEST_RETRY("%" PRIu64                                          \
                                               " xruns and late cycles: the machine stalled udkd", \
                                               stalls);                                            \
                        udk_test_fail(__VA_ARGS__);                                                \
                }                                                                                  \
        } while (0)

static void test_bridge_two_clocks(void)
{
        static struct program bridge, rec;
        static struct proc u;
        static struct stats_line st[64];
        char wav[128], seconds[16];
        double amp_min, amp_max, snr;
        struct udk_client *c = NULL;
        uint64_t stalls;
        size_t n;

        proc_start_server(&u, config, NULL);
        snprintf(seconds, sizeof(seconds), "%d", SECONDS);
        program_start(&bridge, "UDK_EXAMPLE_BRIDGE",
                      (const char *const[]){ "--socket", u.socket, "--from", "a", "--to", "b", "--seconds",
                                             seconds, "--stats", NULL });
        /* The recording: b's input, the last RECORD_S seconds of the bridge. */
        {
                uint64_t until = now_ms() + (SECONDS - RECORD_S - 1) * 1000u;
                while (now_ms() < until)
                        program_pump(&bridge, 100);
        }
        snprintf(wav, sizeof(wav), "%s/b.wav", u.dir);
        snprintf(seconds, sizeof(seconds), "%d", RECORD_S);
        program_start(&rec, "UDK_EXAMPLE_RECORD",
                      (const char *const[]){ "--socket", u.socket, "--device", "b", "--seconds", seconds,
                                             wav, NULL });
        ASSERT_INT_EQ(program_finish(&rec, WAIT_MS), 0);
        ASSERT_OK(udk_client_connect("test-udk-bridge", u.socket, &c));
        stalls = device_stalls(c, "a") + device_stalls(c, "b");
        ASSERT_INT_EQ(program_finish(&bridge, WAIT_MS), 0);
        udk_client_disconnect(c);
        ASSERT_STR_CONTAINS(bridge.err, "udk-bridge: a (48000 Hz, 256 frames) -> b (48000 Hz, 256 frames), "
                                        "2 channels, high quality\n");

        n = parse_stats(bridge.out, st, UDK_ELEMENTSOF(st));
        for (size_t i = 0; i < n; i++)
                printf("# %2zu s: ratio %+8.2f ppm  fill %7.1f  queued %4u  underflows %llu  overflows %llu "
                       " resyncs %llu\n",
                       i + 1, st[i].ppm, st[i].fill, st[i].queued, st[i].underflows, st[i].overflows,
                       st[i].resyncs);
        printf("# %zu stats lines; last: ratio %+.2f ppm, fill %.1f (target %u), underflows %llu, overflows "
               "%llu\n",
               n, st[n ? n - 1 : 0].ppm, st[n ? n - 1 : 0].fill, st[n ? n - 1 : 0].target,
               st[n ? n - 1 : 0].underflows, st[n ? n - 1 : 0].overflows);
        printf("# %" PRIu64 " xruns and late cycles on a and b\n", stalls);
        /* One a second (a loaded machine may lose one), and the final one. */
        ASSERT_UINT_GE(n, SECONDS - 1);
        ASSERT_UINT_EQ(st[n - 1].target, 576); /* 256 + 256 + 64 */
        for (size_t i = SETTLE_S - 1; i < n; i++)
                CHECK(fabs(st[i].fill - st[i].target) <= FILL_BAND, "second %zu: fill %.1f, want %u +- %.0f",
                      i + 1, st[i].fill, st[i].target, FILL_BAND);
        CHECK(st[n - 1].underflows == st[SETTLE_S - 1].underflows &&
                      st[n - 1].overflows == st[SETTLE_S - 1].overflows &&
                      st[n - 1].resyncs == st[SETTLE_S - 1].resyncs,
              "after %d s: %llu underflows, %llu overflows, %llu resyncs", SETTLE_S,
              st[n - 1].underflows - st[SETTLE_S - 1].underflows,
              st[n - 1].overflows - st[SETTLE_S - 1].overflows,
              st[n - 1].resyncs - st[SETTLE_S - 1].resyncs);
        CHECK(fabs(st[n - 1].ppm - TRUE_PPM) <= PPM_BOUND, "final ratio %+.2f ppm, want %.0f +- %.0f",
              st[n - 1].ppm, TRUE_PPM, PPM_BOUND);

        /* a's 1 kHz, on a clock 200 ppm fast, is 1000.2 Hz on b's; while the
         * loop still settles it plays at the ratio in force (its last figure). */
        check_recording(wav, 1000.0 * (1 + st[n - 1].ppm * 1e-6), &amp_min, &amp_max, &snr);
        printf("# on b, 50 ms windows: amplitude %.6f..%.6f, worst SNR %.1f dB\n", amp_min, amp_max, snr);
        CHECK(fabs(amp_min - LEVEL) <= 1e-3 && fabs(amp_max - LEVEL) <= 1e-3,
              "amplitude %.6f..%.6f, want %.6f", amp_min, amp_max, LEVEL);
        CHECK(snr >= SNR_MIN_DB, "SNR %.1f dB in a 50 ms window, want at least %.0f", snr, SNR_MIN_DB);
        unlink(wav);
        proc_stop_server(&u);
}

static void test_usage_and_device_errors(void)
{
        static struct program p;
        static struct proc u;

        ASSERT_INT_EQ(RUN(&p, "--help"), 0);
        ASSERT_STR_CONTAINS(p.out, "Usage: udk-bridge --from DEVICE --to DEVICE [OPTION]...\n");
        ASSERT_INT_EQ(RUN(&p, "--from", "a"), 2);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: --to DEVICE is required\nTry 'udk-bridge --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "--from", "a", "--to", "b", "--quality", "very-high"), 2);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: --quality 'very-high': quick, low, medium or high\n"
                             "Try 'udk-bridge --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "--from", "a", "--to", "b", "--channels", "1.5"), 2);
        ASSERT_STR_EQ(p.err,
                      "udk-bridge: error: --channels 1.5 is not a whole number\nTry 'udk-bridge --help'.\n");
        ASSERT_INT_EQ(RUN(&p, "--from", "a", "--to", "b", "--target-fill", "0"), 2);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: --target-fill 0: out of range (1..65536 frames)\n"
                             "Try 'udk-bridge --help'.\n");

        proc_start_server(&u, config, NULL);
        ASSERT_INT_EQ(RUN(&p, "--socket", u.socket, "--from", "nope", "--to", "b"), 1);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: no object nope\n");
        ASSERT_INT_EQ(RUN(&p, "--socket", u.socket, "--from", "a", "--to", "a"), 1);
        ASSERT_STR_EQ(p.err,
                      "udk-bridge: error: --from and --to are the same device (a): nothing to bridge\n");
        ASSERT_INT_EQ(RUN(&p, "--socket", u.socket, "--from", "a", "--to", "b", "--channels", "3"), 1);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: --channels 3: device a has 2 input channels\n");
        ASSERT_INT_EQ(RUN(&p, "--socket", u.socket, "--from", "mono", "--to", "b", "--channels", "2"), 1);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: --channels 2: device mono has 1 input channels\n");
        ASSERT_INT_EQ(RUN(&p, "--socket", u.socket, "--from", "a", "--to", "mono"), 1);
        ASSERT_STR_EQ(p.err, "udk-bridge: error: device mono has no output channels\n");
        proc_stop_server(&u);
}

UDK_TEST_MAIN(test_usage_and_device_errors, test_bridge_two_clocks)
