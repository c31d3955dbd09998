/* SPDX-License-Identifier: MIT */
/*
 * The ALSA PCM plugin "udk" (clients/alsa) against a udkd on a private
 * socket whose device "loop" hears its own output LOOP_LATENCY frames later:
 *  - aplay -D udk:loop while arecord -D udk:loop records: every played
 *    sample comes back exactly (S16, S24_3 and FLOAT, and S16 played while
 *    FLOAT is recorded) after the loopback's offset, which a marker finds;
 *    S32 goes through the device's float32 and comes back with an SNR of
 *    at least S32_SNR_DB;
 *  - a rate the device lacks: a 1 kHz FLOAT sine at 44.1 kHz (and at 96
 *    kHz) played while arecord records at the same rate, both converted
 *    by libudk-client, comes back with an SNR of at least CONVERTED_SNR_DB
 *    over the same span of frames as played, within SPAN_TOLERANCE;
 *  - sox plays through the plugin as exactly as aplay; speaker-test -D udk exits 0;
 *  - in this process, through libasound: a non-blocking poll-driven writer
 *    and reader round trip exactly, and -EAGAIN when the buffer is full;
 *    delay, pause and resume, drain, an underrun's XRUN and its recovery;
 *    rates 8000..384000 offered and the rest refused, a period shorter
 *    than a converted cycle refused with its reason, the delay with the
 *    conversion's latency at two qualities; a device that does not exist,
 *    udkd absent, a field the plugin does not know and a bad quality fail
 *    snd_pcm_open() with a message naming them.
 * ALSA_PLUGIN_DIR points at the build's plugin and ALSA_CONFIG_PATH at a
 * configuration this test writes: alsa-lib's own, the plugin's snippet,
 * and the test's socket.
 *
 * Under AddressSanitizer the ALSA utilities (not instrumented) load the
 * instrumented plugin with libasan preloaded ($UDK_TEST_ASAN_PRELOAD).
 */
#include <alsa/asoundlib.h>
#include <sndfile.h>
#include <stdarg.h>

#include "udk-test.h"
#include "udk-test-sine.h"
#include "udk-test-udkd.h"

#define RATE         48000
#define PERIOD       512
#define LOOP_LATENCY 600
#define TIMEOUT_MS   30000
#define S32_SNR_DB   140.0
/* Float32 through two very-high conversions (44.1 or 96 -> 48 kHz and back): 149, 151.5 dB measured. */
#define CONVERTED_SNR_DB 140.0
#define SPAN_TOLERANCE   2 /* frames: the played sine's span against the recorded one's */

static const char udkd_config[] = "[server]\n"
                                  "mlock = no\n"
                                  "\n"
                                  "[device]\n"
                                  "name = loop\n"
                                  "rate = 48000\n"
                                  "period = 512\n"
                                  "channels = 2\n"
                                  "source = loopback\n"
                                  "loopback_latency = 600\n"
                                  "\n"
                                  "[device]\n"
                                  "name = sink\n"
                                  "rate = 48000\n"
                                  "period = 512\n"
                                  "inputs = 0\n"
                                  "outputs = 1\n";

static struct proc udkd;
static char asound_conf[256];

static char *in_dir(char *buf, size_t size, const char *name)
{
        ASSERT_TRUE((size_t)snprintf(buf, size, "%s/%s", udkd.dir, name) < size);
        return buf;
}

static const char *env_or_skip(const char *name)
{
        const char *v = getenv(name);

        if (!v || !*v)
                UDK_TEST_SKIP("%s is not set (run through meson test)", name);
        return v;
}

/* udkd, and the ALSA configuration that points the plugin at its socket. */
static void setup(void)
{
        const char *plugin_dir = env_or_skip("UDK_TEST_ALSA_PLUGIN_DIR");
        const char *snippet = env_or_skip("UDK_TEST_ALSA_CONF");
        char none[256];
        FILE *f;

        proc_start_server(&udkd, udkd_config, (const char *const[]){ "-q", NULL });
        in_dir(asound_conf, sizeof(asound_conf), "asound.conf");
        f = fopen(asound_conf, "w");
        ASSERT_NOT_NULL(f);
        fprintf(f,
                "<%s/alsa.conf>\n"
                "<%s>\n"
                "pcm.udk.@args.SOCKET.default \"%s\"\n"
                "pcm.udkbad { type udk device \"nosuch\" socket \"%s\" }\n"
                "pcm.udkgone { type udk socket \"%s\" }\n"
                "pcm.udkfield { type udk socket \"%s\" colour blue }\n"
                "pcm.udkuid { type udk device \"udk:loop\" socket \"%s\" }\n"
                "pcm.udklow { type udk device loop socket \"%s\" quality low }\n"
                "pcm.udkfast { type udk device loop socket \"%s\" quality fast }\n",
                snd_config_topdir(), snippet, udkd.socket, udkd.socket,
                in_dir(none, sizeof(none), "none.sock"), udkd.socket, udkd.socket, udkd.socket, udkd.socket);
        ASSERT_OK(fclose(f));
        ASSERT_OK(setenv("ALSA_PLUGIN_DIR", plugin_dir, 1));
        ASSERT_OK(setenv("ALSA_CONFIG_PATH", asound_conf, 1));
}

static void teardown(const char *const *files)
{
        char path[256];

        for (size_t i = 0; files && files[i]; i++)
                unlink(in_dir(path, sizeof(path), files[i]));
        unlink(asound_conf);
        proc_stop_server(&udkd);
}

/* --- the ALSA utilities, as children --- */

static void spawn(struct proc *p, const char *const *argv)
{
        const char *preload = getenv("UDK_TEST_ASAN_PRELOAD");
        int out[2], err[2];

        memset(p, 0, sizeof(*p));
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        p->pid = fork();
        ASSERT_OK(p->pid);
        if (p->pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(null, STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                if (preload && *preload) {
                        /* The utilities are not instrumented: their own leaks are not ours to find. */
                        setenv("LD_PRELOAD", preload, 1);
                        setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
                }
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        p->out_fd = out[0];
        p->err_fd = err[0];
        ASSERT_OK(fcntl(p->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(p->err_fd, F_SETFL, O_NONBLOCK));
}

static int child_wait(struct proc *p)
{
        proc_finish(p, TIMEOUT_MS);
        if (!WIFEXITED(p->status))
                udk_test_fail("%d died of signal %d; stderr: \"%s\"", p->pid, WTERMSIG(p->status), p->err);
        return WEXITSTATUS(p->status);
}

/* An xrun the loaded machine caused spoils the attempt, not the test (aplay says so on stderr). */
static void retry_on_xrun(const struct proc *p, const char *who)
{
        if (strstr(p->err, "underrun!!!") || strstr(p->err, "overrun!!!"))
                UDK_TEST_RETRY("%s met an xrun: \"%s\"", who, p->err);
}

/* --- sound files --- */

/* The rate the files are played and recorded at. */
static int wav_rate = RATE;

/* Played frame @f, channel @c: never 0 (the first non-zero recorded frame marks the offset), a
 * full-scale-ish ramp pattern that fits every format's precision exactly at 16 bits. */
static double played_s16(long f, int c)
{
        double x = (double)(f % 16381 + 1) * 2.0 / 32768.0;

        return c == 0 ? x : -x;
}

/* For S32: a -6 dBFS sine whose first sample is not 0, at full 32-bit resolution. */
static double played_sine(long f, int c)
{
        return 0.5 * sin(2.0 * M_PI * 997.0 * (double)f / RATE + 0.5 + c);
}

static void write_wav(const char *path, int format, long frames, double (*sample)(long, int))
{
        SF_INFO info = { .samplerate = wav_rate, .channels = 2, .format = SF_FORMAT_WAV | format };
        double *data = calloc((size_t)frames * 2, sizeof(double));
        SNDFILE *f;

        /* libsndfile scales by 2^(bits-1) - 1 when it writes and by 2^(bits-1) when it reads: write
         * the integers themselves, x * 2^(bits-1), so that reading gives x back exactly. */
        double scale = format == SF_FORMAT_PCM_16   ? 32768.0
                       : format == SF_FORMAT_PCM_24 ? 8388608.0
                       : format == SF_FORMAT_PCM_32 ? 2147483648.0
                                                    : 1.0;

        ASSERT_NOT_NULL(data);
        for (long k = 0; k < frames; k++)
                for (int c = 0; c < 2; c++)
                        data[k * 2 + c] = sample(k, c) * scale;
        f = sf_open(path, SFM_WRITE, &info);
        if (!f)
                udk_test_fail("sf_open(%s): %s", path, sf_strerror(NULL));
        sf_command(f, SFC_SET_NORM_DOUBLE, NULL, SF_FALSE);
        ASSERT_INT_EQ(sf_writef_double(f, data, frames), frames);
        ASSERT_INT_EQ(sf_close(f), 0);
        free(data);
}

/* The whole file as doubles (x / 2^(bits-1) for integer files: exact); free() it. */
static double *read_wav(const char *path, SF_INFO *info)
{
        double *data;
        SNDFILE *f;

        memset(info, 0, sizeof(*info));
        f = sf_open(path, SFM_READ, info);
        if (!f)
                udk_test_fail("sf_open(%s): %s", path, sf_strerror(NULL));
        data = calloc((size_t)info->frames * (size_t)info->channels + 1, sizeof(double));
        ASSERT_NOT_NULL(data);
        ASSERT_INT_EQ(sf_readf_double(f, data, info->frames), info->frames);
        ASSERT_INT_EQ(sf_close(f), 0);
        return data;
}

/* The first frame of @got that is not silence: where the played file starts. */
static long find_offset(const double *got, long frames)
{
        for (long k = 0; k < frames; k++)
                if (got[k * 2] != 0.0 || got[k * 2 + 1] != 0.0)
                        return k;
        udk_test_fail("the recording is silent: nothing played came back");
}

/* --- aplay into the loop while arecord records it --- */

enum { PLAYED = RATE / 2, RECORDED = 2 * RATE };

/* The PCM the player opens: the snippet's, with the device named. */
static const char *device = "udk:loop";

/*
 * @player ("aplay", "aplay -M": both utilities through mmap access, or
 * "sox") plays @play_format (libsndfile's) through udk:loop while arecord
 * records RECORDED frames as @rec_format (ALSA's name); the recording as
 * doubles.  At wav_rate: PLAYED and RECORDED are for RATE, and scale.
 */
static double *loopback_by(const char *player, int play_format, double (*sample)(long, int),
                           const char *rec_format, long *ret_offset)
{
        static struct proc rec, play;
        char in[256], out[256], frames[32], rate[32], rate_said[64];
        long played = (long)wav_rate / 2, recorded = 2L * wav_rate;
        double *got;
        SF_INFO info;
        uint64_t deadline;

        write_wav(in_dir(in, sizeof(in), "in.wav"), play_format, played, sample);
        in_dir(out, sizeof(out), "out.wav");
        bool mmap = strcmp(player, "aplay -M") == 0;

        snprintf(frames, sizeof(frames), "%ld", recorded);
        snprintf(rate, sizeof(rate), "%d", wav_rate);
        snprintf(rate_said, sizeof(rate_said), "Rate %d Hz, Stereo", wav_rate);
        if (mmap)
                spawn(&rec, (const char *const[]){ "arecord", "-M", "-D", "udkuid", "-f", rec_format, "-c",
                                                   "2", "-r", rate, "-s", frames, out, NULL });
        else
                spawn(&rec, (const char *const[]){ "arecord", "-D", "udkuid", "-f", rec_format, "-c", "2",
                                                   "-r", rate, "-s", frames, out, NULL });
        /* It says so once its stream runs: from then on, all that plays is recorded. */
        for (deadline = now_ms() + TIMEOUT_MS; !strstr(rec.err, "Recording WAVE");) {
                if (now_ms() >= deadline || !proc_pump(&rec, 50)) {
                        proc_kill(&rec);
                        udk_test_fail("arecord did not start: \"%s\"", rec.err);
                }
        }
        if (strcmp(player, "sox") == 0)
                spawn(&play, (const char *const[]){ "sox", "-q", in, "-t", "alsa", device, NULL });
        else
                spawn(&play, mmap ? (const char *const[]){ "aplay", "-M", "-D", device, in, NULL }
                                  : (const char *const[]){ "aplay", "-D", device, in, NULL });
        if (child_wait(&play) != 0)
                udk_test_fail("%s: exit %d; stderr: \"%s\"", player, WEXITSTATUS(play.status), play.err);
        if (child_wait(&rec) != 0)
                udk_test_fail("arecord: exit %d; stderr: \"%s\"", WEXITSTATUS(rec.status), rec.err);
        retry_on_xrun(&play, player);
        retry_on_xrun(&rec, "arecord");
        if (strncmp(player, "aplay", 5) == 0)
                ASSERT_STR_CONTAINS(play.err, rate_said);
        else if (strstr(play.err, "underrun"))
                UDK_TEST_RETRY("sox met an xrun: \"%s\"", play.err);

        got = read_wav(out, &info);
        ASSERT_INT_EQ(info.channels, 2);
        ASSERT_INT_EQ(info.samplerate, wav_rate);
        ASSERT_INT_EQ(info.frames, recorded);
        *ret_offset = find_offset(got, recorded);
        if (*ret_offset + played > recorded)
                udk_test_fail("played from recorded frame %ld on: past the recording's end", *ret_offset);
        unlink(in);
        unlink(out);
        return got;
}

static double *loopback(int play_format, double (*sample)(long, int), const char *rec_format,
                        long *ret_offset)
{
        return loopback_by("aplay", play_format, sample, rec_format, ret_offset);
}

/* Every recorded frame is the played one @offset frames before it, and silence around it. */
static void assert_exact(const double *got, long offset, double (*sample)(long, int), double scale)
{
        for (long k = 0; k < RECORDED; k++)
                for (int c = 0; c < 2; c++) {
                        double want =
                                k >= offset && k < offset + PLAYED ? sample(k - offset, c) * scale : 0.0;

                        if (got[k * 2 + c] != want)
                                udk_test_fail(
                                        "recorded frame %ld channel %d: %.12g, want %.12g (offset %ld)", k,
                                        c, got[k * 2 + c], want, offset);
                }
}

static void test_aplay_arecord_s16(void)
{
        long offset;
        double *got;

        setup();
        got = loopback(SF_FORMAT_PCM_16, played_s16, "S16_LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

static void test_aplay_arecord_float(void)
{
        long offset;
        double *got;

        setup();
        device = "udk:\"udk:loop\""; /* by UID, on the command line */
        got = loopback(SF_FORMAT_FLOAT, played_s16, "FLOAT_LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

/* S24_3 at both ends, and S16 played while FLOAT is recorded: still exact. */
static void test_aplay_arecord_converted(void)
{
        long offset;
        double *got;

        setup();
        got = loopback(SF_FORMAT_PCM_24, played_s16, "S24_3LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        got = loopback(SF_FORMAT_PCM_16, played_s16, "FLOAT_LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

/* S32 through the device's float32: 24 bits of mantissa, an SNR of S32_SNR_DB at least. */
static void test_aplay_arecord_s32_snr(void)
{
        double signal = 0.0, noise = 0.0, snr;
        long offset;
        double *got;

        setup();
        got = loopback(SF_FORMAT_PCM_32, played_sine, "S32_LE", &offset);
        for (long k = 0; k < RECORDED; k++)
                for (int c = 0; c < 2; c++) {
                        double want = k >= offset && k < offset + PLAYED ? played_sine(k - offset, c) : 0.0;
                        double e = got[k * 2 + c] - want;

                        signal += want * want;
                        noise += e * e;
                }
        snr = noise > 0.0 ? 10.0 * log10(signal / noise) : INFINITY;
        printf("# S32 through float32: SNR %.1f dB\n", snr);
        if (!(snr >= S32_SNR_DB))
                udk_test_fail("SNR %.1f dB, want at least %.1f dB (offset %ld)", snr, S32_SNR_DB, offset);
        free(got);
        teardown(NULL);
}

/* A -6 dBFS 1 kHz sine at wav_rate whose first sample is not 0. */
static double sine_1k(long f, int c)
{
        return 0.5 * sin(2.0 * M_PI * 1000.0 * (double)f / wav_rate + 0.5 + c);
}

/* The frames from the first to the last of channel 0 above half the sine's amplitude. */
static long sine_span(const double *x, long frames, long *ret_first)
{
        long first = -1, last = -1;

        for (long k = 0; k < frames; k++)
                if (fabs(x[k * 2]) > 0.25) {
                        if (first < 0)
                                first = k;
                        last = k;
                }
        if (first < 0)
                udk_test_fail("no frame of the sine came back");
        *ret_first = first;
        return last - first + 1;
}

/*
 * aplay plays sine_1k at @rate (FLOAT) into the 48 kHz loop while arecord
 * records it at @rate: both streams convert.  The recorded sine spans as
 * many frames as the played one (nothing lost, nothing added), and past
 * 100 ms from each end a least-squares fit of the 1 kHz sine
 * (<udk-test-sine.h>, as test-resampler does) leaves an SNR of
 * CONVERTED_SNR_DB at least in each channel.
 */
static void converted_round_trip(int rate)
{
        long played = rate / 2, recorded = 2L * rate, offset, first, played_first, span, played_span, skip;
        double *want, *got, snr = INFINITY, amplitude;
        float *x;
        size_t n;

        setup();
        wav_rate = rate;
        got = loopback(SF_FORMAT_FLOAT, sine_1k, "FLOAT_LE", &offset);
        want = calloc((size_t)played * 2, sizeof(double));
        ASSERT_NOT_NULL(want);
        for (long k = 0; k < played; k++)
                for (int c = 0; c < 2; c++)
                        want[k * 2 + c] = sine_1k(k, c);
        played_span = sine_span(want, played, &played_first);
        span = sine_span(got, recorded, &first);
        printf("# %d Hz: played span %ld frames, recorded %ld (from frame %ld)\n", rate, played_span, span,
               first);
        if (labs(span - played_span) > SPAN_TOLERANCE)
                udk_test_fail("%d Hz: the sine spans %ld recorded frames, played %ld (tolerance %d)", rate, span,
                              played_span, SPAN_TOLERANCE);
        skip = rate / 10;
        n = (size_t)(span - 2 * skip);
        x = calloc(n * 2, sizeof(float));
        ASSERT_NOT_NULL(x);
        for (size_t k = 0; k < n * 2; k++)
                x[k] = (float)got[(size_t)(first + skip) * 2 + k];
        for (unsigned c = 0; c < 2; c++) {
                snr = fmin(snr, udk_test_sine_snr_db(x, n, 2, c, 1000.0 / rate, &amplitude));
                ASSERT_TRUE(fabs(amplitude - 0.5) < 1e-4);
        }
        printf("# %d Hz through the 48 kHz loop: SNR %.1f dB\n", rate, snr);
        if (!(snr >= CONVERTED_SNR_DB))
                udk_test_fail("%d Hz: SNR %.1f dB, want at least %.1f dB", rate, snr, CONVERTED_SNR_DB);
        free(x);
        free(want);
        free(got);
        teardown(NULL);
}

static void test_aplay_arecord_44100(void)
{
        converted_round_trip(44100);
}

static void test_aplay_arecord_96000(void)
{
        converted_round_trip(96000);
}

/* sox plays through the plugin as well (16 bits to 16 bits: no dither). */
static void test_sox_arecord_s16(void)
{
        long offset;
        double *got;

        setup();
        got = loopback_by("sox", SF_FORMAT_PCM_16, played_s16, "S16_LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

/* Both utilities through mmap access (ioplug's buffer, then the plugin's transfer): as exact. */
static void test_aplay_arecord_mmap(void)
{
        long offset;
        double *got;

        setup();
        got = loopback_by("aplay -M", SF_FORMAT_PCM_16, played_s16, "S16_LE", &offset);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

static void test_speaker_test(void)
{
        static struct proc p;

        setup();
        spawn(&p, (const char *const[]){ "speaker-test", "-D", "udk", "-l", "1", "-c", "2", "-t", "sine",
                                         NULL });
        if (child_wait(&p) != 0)
                udk_test_fail("speaker-test: exit %d; stderr: \"%s\"; stdout: \"%s\"", WEXITSTATUS(p.status),
                              p.err, p.out);
        ASSERT_STR_CONTAINS(p.out, "Rate set to 48000Hz");
        ASSERT_STR_CONTAINS(p.out, "Time per period");
        teardown(NULL);
}

/* --- libasound in this process --- */

static char alsa_errors[4096];

static void on_alsa_error(const char *file, int line, const char *function, int err, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void on_alsa_error(const char *file, int line, const char *function, int err, const char *fmt, ...)
{
        size_t len = strlen(alsa_errors);
        va_list ap;

        (void)file, (void)line, (void)function, (void)err;
        va_start(ap, fmt);
        vsnprintf(alsa_errors + len, sizeof(alsa_errors) - len, fmt, ap);
        va_end(ap);
        len = strlen(alsa_errors);
        if (len + 1 < sizeof(alsa_errors))
                strcat(alsa_errors, "\n");
}

/* Float stereo at the device's rate, @period and @periods; the buffer size. */
static snd_pcm_uframes_t set_params(snd_pcm_t *pcm, snd_pcm_uframes_t period, unsigned periods)
{
        snd_pcm_hw_params_t *hw;
        snd_pcm_sw_params_t *sw;
        snd_pcm_uframes_t buffer;

        snd_pcm_hw_params_alloca(&hw);
        snd_pcm_sw_params_alloca(&sw);
        ASSERT_OK(snd_pcm_hw_params_any(pcm, hw));
        ASSERT_OK(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED));
        ASSERT_OK(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_FLOAT_LE));
        ASSERT_OK(snd_pcm_hw_params_set_channels(pcm, hw, 2));
        ASSERT_OK(snd_pcm_hw_params_set_rate(pcm, hw, RATE, 0));
        ASSERT_OK(snd_pcm_hw_params_set_period_size(pcm, hw, period, 0));
        ASSERT_OK(snd_pcm_hw_params_set_periods(pcm, hw, periods, 0));
        ASSERT_INT_EQ(snd_pcm_hw_params_can_pause(hw), 1);
        ASSERT_OK(snd_pcm_hw_params(pcm, hw));
        ASSERT_OK(snd_pcm_hw_params_get_buffer_size(hw, &buffer));
        ASSERT_UINT_EQ(buffer, period * periods);
        ASSERT_OK(snd_pcm_sw_params_current(pcm, sw));
        ASSERT_OK(snd_pcm_sw_params_set_start_threshold(pcm, sw, buffer));
        ASSERT_OK(snd_pcm_sw_params(pcm, sw));
        return buffer;
}

static float nb_sample(long f, int c)
{
        return (float)played_s16(f, c);
}

/* Periods and buffers the device allows: whole device periods (6144 = 12 of them), nothing else. */
static void test_params_from_device(void)
{
        snd_pcm_hw_params_t *hw;
        snd_pcm_uframes_t size;
        unsigned int rate, min, max;
        snd_pcm_t *pcm;
        int dir = 0;

        setup();
        snd_pcm_hw_params_alloca(&hw);
        ASSERT_OK(snd_pcm_open(&pcm, "udk:loop", SND_PCM_STREAM_PLAYBACK, 0));
        ASSERT_OK(snd_pcm_hw_params_any(pcm, hw));
        ASSERT_OK(snd_pcm_hw_params_get_rate_min(hw, &min, &dir));
        ASSERT_OK(snd_pcm_hw_params_get_rate_max(hw, &max, &dir));
        ASSERT_UINT_EQ(min, 8000);
        ASSERT_UINT_EQ(max, 384000);
        ASSERT_OK(snd_pcm_hw_params_get_channels_max(hw, &max));
        ASSERT_UINT_EQ(max, 2);
        ASSERT_ERROR(snd_pcm_hw_params_set_rate(pcm, hw, 1000, 0), EINVAL);
        ASSERT_ERROR(snd_pcm_hw_params_set_rate(pcm, hw, 400000, 0), EINVAL);
        ASSERT_ERROR(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_U8), EINVAL);
        ASSERT_OK(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_FLOAT_LE));
        ASSERT_OK(snd_pcm_hw_params_set_channels(pcm, hw, 2));
        ASSERT_OK(snd_pcm_hw_params_get_period_size_min(hw, &size, &dir));
        ASSERT_UINT_EQ(size, 3 * PERIOD);
        size = 1000;
        ASSERT_OK(snd_pcm_hw_params_set_period_size_near(pcm, hw, &size, &dir));
        ASSERT_UINT_EQ(size % PERIOD, 0);
        rate = RATE;
        ASSERT_OK(snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, 0));
        ASSERT_UINT_EQ(rate, RATE);
        ASSERT_OK(snd_pcm_hw_params(pcm, hw));
        ASSERT_OK(snd_pcm_close(pcm));

        /* The sink has one output: mono only, and no capture. */
        ASSERT_OK(snd_pcm_open(&pcm, "udk:sink", SND_PCM_STREAM_PLAYBACK, 0));
        ASSERT_OK(snd_pcm_hw_params_any(pcm, hw));
        ASSERT_OK(snd_pcm_hw_params_get_channels_max(hw, &max));
        ASSERT_UINT_EQ(max, 1);
        ASSERT_OK(snd_pcm_close(pcm));
        snd_lib_error_set_handler(on_alsa_error);
        ASSERT_ERROR(snd_pcm_open(&pcm, "udk:sink", SND_PCM_STREAM_CAPTURE, 0), ENODEV);
        ASSERT_STR_CONTAINS(alsa_errors, "udk: device sink has no inputs\n");
        teardown(NULL);
}

/* Float stereo at @rate with @period frames and 2 periods: snd_pcm_hw_params()'s answer. */
static int try_rate(snd_pcm_t *pcm, unsigned int rate, snd_pcm_uframes_t period)
{
        snd_pcm_hw_params_t *hw;

        snd_pcm_hw_params_alloca(&hw);
        ASSERT_OK(snd_pcm_hw_params_any(pcm, hw));
        ASSERT_OK(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED));
        ASSERT_OK(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_FLOAT_LE));
        ASSERT_OK(snd_pcm_hw_params_set_channels(pcm, hw, 2));
        ASSERT_OK(snd_pcm_hw_params_set_rate(pcm, hw, rate, 0));
        ASSERT_OK(snd_pcm_hw_params_set_period_size(pcm, hw, period, 0));
        ASSERT_OK(snd_pcm_hw_params_set_periods(pcm, hw, 2, 0));
        return snd_pcm_hw_params(pcm, hw);
}

/* The delay of a prepared, empty playback PCM @name at @rate: the stream's latency alone. */
static snd_pcm_sframes_t empty_delay(const char *name, unsigned int rate)
{
        snd_pcm_sframes_t delay;
        snd_pcm_t *pcm;

        ASSERT_OK(snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, 0));
        ASSERT_OK(try_rate(pcm, rate, 3 * PERIOD));
        ASSERT_OK(snd_pcm_prepare(pcm));
        ASSERT_OK(snd_pcm_delay(pcm, &delay));
        ASSERT_OK(snd_pcm_close(pcm));
        return delay;
}

/*
 * Rates the device lacks: a period that a converted cycle does not fit in
 * is refused with its reason; the delay counts the conversion's latency,
 * less at low quality than at very high.
 */
static void test_rates_converted(void)
{
        snd_pcm_sframes_t native, very_high, low;
        snd_pcm_t *pcm;

        setup();
        snd_lib_error_set_handler(on_alsa_error);
        ASSERT_OK(snd_pcm_open(&pcm, "udk:loop", SND_PCM_STREAM_PLAYBACK, 0));
        /* 512 frames at 48 kHz are 4096 at 384 kHz: 1536-frame periods cannot hold a cycle. */
        ASSERT_ERROR(try_rate(pcm, 384000, 3 * PERIOD), EINVAL);
        ASSERT_STR_CONTAINS(alsa_errors, "udk: a period of 1536 frames at 384000 Hz is shorter than a cycle of "
                                         "device loop (512 frames at its 48000 Hz are up to 4096 at 384000 Hz)\n");
        ASSERT_OK(try_rate(pcm, 384000, 9 * PERIOD));
        ASSERT_OK(try_rate(pcm, 8000, 3 * PERIOD));
        ASSERT_OK(snd_pcm_close(pcm));

        native = empty_delay("udk:loop", RATE);
        very_high = empty_delay("udk:loop", 44100);
        low = empty_delay("udklow", 44100);
        printf("# empty playback delay: %ld frames at 48 kHz, at 44.1 kHz %ld (very high) and %ld (low)\n",
               (long)native, (long)very_high, (long)low);
        ASSERT_INT_EQ(native, LOOP_LATENCY);
        ASSERT_INT_GT(low, LOOP_LATENCY * 44100 / RATE);
        ASSERT_INT_GT(very_high, low);
        teardown(NULL);
}

/*
 * A non-blocking writer and reader on one poll loop: the writer fills the
 * buffer until -EAGAIN, the loop carries on through poll() until all
 * PLAYED frames were written and RECORDED read, and the recording holds
 * them exactly.
 */
static void test_nonblock_poll_roundtrip(void)
{
        enum { NB_PERIOD = 1536, NB_PERIODS = 4 };
        static float played[PLAYED * 2], recorded[RECORDED * 2];
        snd_pcm_t *out, *in;
        struct pollfd fds[8];
        int n_out, n_in, eagain = 0, polls = 0;
        long written = 0, read_ = 0, offset;
        snd_pcm_sframes_t delay;
        bool delay_seen = false;
        uint64_t deadline;
        double *got;

        setup();
        for (long f = 0; f < PLAYED; f++)
                for (int c = 0; c < 2; c++)
                        played[f * 2 + c] = nb_sample(f, c);
        ASSERT_OK(snd_pcm_open(&out, "udk:loop", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK));
        ASSERT_OK(snd_pcm_open(&in, "udkuid", SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK));
        set_params(out, NB_PERIOD, NB_PERIODS);
        set_params(in, NB_PERIOD, NB_PERIODS);
        n_out = snd_pcm_poll_descriptors(out, fds, 4);
        ASSERT_INT_EQ(n_out, 1);
        n_in = snd_pcm_poll_descriptors(in, fds + n_out, 4);
        ASSERT_INT_EQ(n_in, 1);
        ASSERT_OK(snd_pcm_start(in));
        ASSERT_INT_EQ(snd_pcm_state(in), SND_PCM_STATE_RUNNING);

        for (deadline = now_ms() + TIMEOUT_MS; read_ < RECORDED;) {
                unsigned short revents;
                int r;

                if (now_ms() >= deadline)
                        udk_test_fail("%ld of %d frames written, %ld of %d read", written, PLAYED, read_,
                                      RECORDED);
                r = poll(fds, (nfds_t)(n_out + n_in), 1000);
                ASSERT_OK(r);
                polls++;
                ASSERT_OK(snd_pcm_poll_descriptors_revents(out, fds, (unsigned)n_out, &revents));
                if (revents & POLLERR)
                        UDK_TEST_RETRY("the writer underran after %ld frames", written);
                while (written < PLAYED) {
                        snd_pcm_sframes_t n = snd_pcm_writei(out, played + written * 2,
                                                             (snd_pcm_uframes_t)(PLAYED - written));
                        if (n == -EAGAIN) {
                                eagain++;
                                break;
                        }
                        if (n == -EPIPE)
                                UDK_TEST_RETRY("the writer underran after %ld frames", written);
                        ASSERT_INT_GT(n, 0);
                        written += n;
                        if (written == PLAYED) {
                                /* Non-blocking: the drain goes on while the loop polls. */
                                ASSERT_ERROR(snd_pcm_drain(out), EAGAIN);
                                ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_DRAINING);
                        }
                }
                if (!delay_seen && snd_pcm_state(out) == SND_PCM_STATE_RUNNING) {
                        /* Frames in the buffer and the device's latency: more than that latency,
                         * not more than the buffer beside it. */
                        ASSERT_OK(snd_pcm_delay(out, &delay));
                        ASSERT_INT_GT(delay, LOOP_LATENCY);
                        ASSERT_INT_LE(delay, NB_PERIOD * NB_PERIODS + LOOP_LATENCY);
                        delay_seen = true;
                }
                ASSERT_OK(snd_pcm_poll_descriptors_revents(in, fds + n_out, (unsigned)n_in, &revents));
                if (revents & POLLERR)
                        UDK_TEST_RETRY("the reader overran after %ld frames", read_);
                while (read_ < RECORDED) {
                        snd_pcm_sframes_t n = snd_pcm_readi(in, recorded + read_ * 2,
                                                            (snd_pcm_uframes_t)(RECORDED - read_));
                        if (n == -EAGAIN)
                                break;
                        if (n == -EPIPE)
                                UDK_TEST_RETRY("the reader overran after %ld frames", read_);
                        ASSERT_INT_GT(n, 0);
                        read_ += n;
                }
        }
        ASSERT_INT_GT(eagain, 0);
        ASSERT_TRUE(delay_seen);
        /* 1.5 s after the last write: the drain is long over. */
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_SETUP);
        /* One poll per device cycle or so: the loop slept in poll(), it did not spin. */
        ASSERT_INT_LE(polls, 4 * (RECORDED / PERIOD) + 100);
        ASSERT_OK(snd_pcm_close(out));
        ASSERT_OK(snd_pcm_close(in));

        got = calloc((size_t)RECORDED * 2, sizeof(double));
        ASSERT_NOT_NULL(got);
        for (long k = 0; k < RECORDED * 2; k++)
                got[k] = recorded[k];
        offset = find_offset(got, RECORDED);
        ASSERT_INT_LE(offset + PLAYED, RECORDED);
        assert_exact(got, offset, played_s16, 1.0);
        free(got);
        teardown(NULL);
}

static snd_pcm_sframes_t avail_after(snd_pcm_t *pcm, int ms)
{
        usleep((useconds_t)ms * 1000u);
        return snd_pcm_avail(pcm);
}

/* Pause holds the buffer where it is, resume moves it on, drain waits for it to empty. */
static void test_pause_resume_drain(void)
{
        enum { P_PERIOD = 1536, P_PERIODS = 8, BUFFER = P_PERIOD * P_PERIODS };
        static float silence[BUFFER * 2];
        snd_pcm_sframes_t a, b, delay;
        snd_pcm_t *out;
        uint64_t t0, took;

        setup();
        ASSERT_OK(snd_pcm_open(&out, "udk:loop", SND_PCM_STREAM_PLAYBACK, 0));
        ASSERT_INT_EQ(set_params(out, P_PERIOD, P_PERIODS), BUFFER);
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_PREPARED);
        /* Delay before the start: the buffer's frames and the device's latency. */
        ASSERT_INT_EQ(snd_pcm_writei(out, silence, P_PERIOD), P_PERIOD);
        ASSERT_OK(snd_pcm_delay(out, &delay));
        ASSERT_INT_EQ(delay, P_PERIOD + LOOP_LATENCY);
        ASSERT_INT_EQ(snd_pcm_writei(out, silence, BUFFER - P_PERIOD), BUFFER - P_PERIOD);
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_RUNNING);

        ASSERT_OK(snd_pcm_pause(out, 1));
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_PAUSED);
        /* A cycle may have been under way: look from the one after it on. */
        a = avail_after(out, 50);
        ASSERT_INT_GE(a, 0);
        b = avail_after(out, 200);
        ASSERT_INT_EQ(b, a);
        ASSERT_OK(snd_pcm_delay(out, &delay));
        ASSERT_INT_EQ(delay, BUFFER - a + LOOP_LATENCY);

        ASSERT_OK(snd_pcm_pause(out, 0));
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_RUNNING);
        b = avail_after(out, 50);
        ASSERT_INT_GT(b, a);
        ASSERT_INT_LE(b, BUFFER);
        if (b == BUFFER)
                UDK_TEST_RETRY("the buffer ran dry before the drain");

        t0 = now_ms();
        ASSERT_OK(snd_pcm_delay(out, &delay));
        ASSERT_OK(snd_pcm_drain(out));
        took = now_ms() - t0;
        ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_SETUP);
        /* It waited for what was in the ring (less a cycle it may have been in). */
        ASSERT_UINT_GE(took + 1000u * PERIOD / RATE + 1, (uint64_t)(delay - LOOP_LATENCY) * 1000u / RATE);
        ASSERT_OK(snd_pcm_close(out));
        teardown(NULL);
}

/* A writer that stops writing underruns: XRUN, -EPIPE, and snd_pcm_prepare() recovers. */
static void test_underrun_recovers(void)
{
        enum { U_PERIOD = 1536, U_PERIODS = 2, BUFFER = U_PERIOD * U_PERIODS };
        static float frames[BUFFER * 2];
        snd_pcm_t *out;

        setup();
        ASSERT_OK(snd_pcm_open(&out, "udk:loop", SND_PCM_STREAM_PLAYBACK, 0));
        set_params(out, U_PERIOD, U_PERIODS);
        for (int round = 0; round < 2; round++) {
                ASSERT_INT_EQ(snd_pcm_writei(out, frames, BUFFER), BUFFER);
                ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_RUNNING);
                /* 64 ms of buffer, 500 ms of nothing. */
                usleep(500000);
                ASSERT_INT_EQ(snd_pcm_avail_update(out), -EPIPE);
                ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_XRUN);
                ASSERT_ERROR(snd_pcm_writei(out, frames, U_PERIOD), EPIPE);
                ASSERT_OK(snd_pcm_prepare(out));
                ASSERT_INT_EQ(snd_pcm_state(out), SND_PCM_STATE_PREPARED);
                ASSERT_INT_EQ(snd_pcm_avail(out), BUFFER);
        }
        ASSERT_OK(snd_pcm_close(out));
        teardown(NULL);
}

/* udkd killed under a playing aplay: aplay ends, with the reason, rather than waiting forever. */
static void test_udkd_gone_mid_stream(void)
{
        static struct proc play;
        char in[256];
        uint64_t deadline;

        setup();
        write_wav(in_dir(in, sizeof(in), "long.wav"), SF_FORMAT_PCM_16, 10 * RATE, played_s16);
        spawn(&play, (const char *const[]){ "aplay", "-D", "udk:loop", in, NULL });
        for (deadline = now_ms() + TIMEOUT_MS; !strstr(play.err, "Playing WAVE");)
                if (now_ms() >= deadline || !proc_pump(&play, 50)) {
                        proc_kill(&play);
                        udk_test_fail("aplay did not start: \"%s\"", play.err);
                }
        usleep(300000);
        kill(udkd.pid, SIGKILL);
        waitpid(udkd.pid, &udkd.status, 0);
        udkd.exited = true;

        /* Long before the file's 10 s are over. */
        proc_finish(&play, 5000);
        ASSERT_TRUE(WIFEXITED(play.status));
        ASSERT_INT_EQ(WEXITSTATUS(play.status), 1);
        ASSERT_STR_CONTAINS(play.err, "udk: the stream on device loop stopped cycling (udkd closed it)");
        unlink(in);
        unlink(asound_conf);
        proc_cleanup(&udkd);
}

static void test_open_errors(void)
{
        char want[512];
        snd_pcm_t *pcm;

        setup();
        snd_lib_error_set_handler(on_alsa_error);
        ASSERT_ERROR(snd_pcm_open(&pcm, "udkbad", SND_PCM_STREAM_PLAYBACK, 0), ENOENT);
        ASSERT_STR_CONTAINS(alsa_errors, "udk: no device nosuch\n");
        alsa_errors[0] = '\0';
        ASSERT_ERROR(snd_pcm_open(&pcm, "udk:nosuch", SND_PCM_STREAM_CAPTURE, 0), ENOENT);
        ASSERT_STR_CONTAINS(alsa_errors, "udk: no device nosuch\n");
        alsa_errors[0] = '\0';
        ASSERT_ERROR(snd_pcm_open(&pcm, "udkfield", SND_PCM_STREAM_PLAYBACK, 0), EINVAL);
        ASSERT_STR_CONTAINS(alsa_errors,
                            "udk: unknown field colour (the fields are device, socket and quality)\n");
        alsa_errors[0] = '\0';
        ASSERT_ERROR(snd_pcm_open(&pcm, "udkfast", SND_PCM_STREAM_PLAYBACK, 0), EINVAL);
        ASSERT_STR_CONTAINS(alsa_errors, "udk: quality fast is not one of quick, low, medium, high, very-high\n");
        alsa_errors[0] = '\0';
        ASSERT_ERROR(snd_pcm_open(&pcm, "udkgone", SND_PCM_STREAM_PLAYBACK, 0), ENOENT);
        snprintf(want, sizeof(want),
                 "udk: cannot connect to udkd: udkd is not running (no socket at %s/none.sock)\n", udkd.dir);
        ASSERT_STR_CONTAINS(alsa_errors, want);
        teardown(NULL);
}

UDK_TEST_MAIN(test_aplay_arecord_s16, test_aplay_arecord_float, test_aplay_arecord_converted,
              test_aplay_arecord_s32_snr, test_aplay_arecord_44100, test_aplay_arecord_96000,
              test_sox_arecord_s16, test_aplay_arecord_mmap, test_speaker_test,
              test_params_from_device, test_rates_converted, test_nonblock_poll_roundtrip, test_pause_resume_drain,
              test_underrun_recovers, test_udkd_gone_mid_stream, test_open_errors)
