/* SPDX-License-Identifier: MIT */
/*
 * udkd's configuration errors, end to end: each test writes a file, runs
 * the real udkd on it (mostly with --check, some for real with --duration)
 * and asserts exit status 1 and the exact "FILE:LINE: problem" line.
 */
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <udk/util.h>

#include "udk-test.h"
#include "udk-test-udkd.h"

/* --- configuration files --- */

static char config_path[PATH_MAX];

static const char *tmp_dir(void)
{
        const char *dir = getenv("TMPDIR");

        return dir && *dir ? dir : "/tmp";
}

static const char *config_write(const char *text)
{
        size_t len = strlen(text), done = 0;
        int fd;

        snprintf(config_path, sizeof(config_path), "%s/udkd-test-XXXXXX.conf", tmp_dir());
        fd = mkstemps(config_path, 5);
        ASSERT_OK(fd);
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                ASSERT_OK(n);
                done += (size_t)n;
        }
        ASSERT_OK(close(fd));
        return config_path;
}

enum mode {
        MODE_CHECK, /* --check: stderr is the error line and nothing else */
        MODE_RUN,   /* --duration 1: the error line among what udkd says */
};

#define TIMEOUT_MS 20000

/*
 * Run udkd on a file holding @text, with @extra arguments (NULL-terminated,
 * may be NULL); expect exit 1 and the error "<file><suffix>".
 */
static void expect_error_with(const char *text, enum mode mode, const char *const *extra, const char *suffix)
{
        static struct proc p;
        const char *args[16] = {"--config", config_write(text)};
        char expected[PATH_MAX + 1024];
        size_t n = 2;
        int status;

        if (mode == MODE_CHECK) {
                args[n++] = "--check";
        } else {
                args[n++] = "--duration";
                args[n++] = "1";
        }
        for (size_t i = 0; extra && extra[i]; i++)
                args[n++] = extra[i];
        args[n] = NULL;

        status = run_udkd(&p, TIMEOUT_MS, args);
        unlink(config_path);
        snprintf(expected, sizeof(expected), "udkd: error: %s%s\n", config_path, suffix);
        if (mode == MODE_CHECK) {
                ASSERT_STR_EQ(p.err, expected);
                ASSERT_STR_EQ(p.out, "");
        } else {
                ASSERT_STR_CONTAINS(p.err, expected);
        }
        ASSERT_INT_EQ(status, 1);
}

#define EXPECT_ERROR(text, suffix)     expect_error_with(text, MODE_CHECK, NULL, suffix)
#define EXPECT_RUN_ERROR(text, suffix) expect_error_with(text, MODE_RUN, NULL, suffix)

/* --- syntax --- */

static void test_unknown_section(void)
{
        EXPECT_ERROR("[devices]\nname = a\n", ":1: unknown section [devices]");
        EXPECT_ERROR("# a comment\n[device]\nname = a\n\n[ server ]\n", ":5: unknown section [ server ]");
        EXPECT_RUN_ERROR("[device]\nname = a\n[Device]\n", ":3: unknown section [Device]");
        EXPECT_ERROR("[device\nname = a\n", ":1: bad section header '[device'");
}

static void test_key_outside_section(void)
{
        EXPECT_ERROR("; rate first\nrate = 48000\n[device]\nname = a\n",
                     ":2: key 'rate' outside any section");
        EXPECT_RUN_ERROR("name=a\n", ":1: key 'name' outside any section");
}

static void test_missing_equals(void)
{
        EXPECT_ERROR("[device]\nname a\n", ":2: expected 'key = value', got 'name a'");
        EXPECT_ERROR("[device]\nname = a\n  rate  \n", ":3: expected 'key = value', got 'rate'");
        EXPECT_ERROR("[device]\n = a\n", ":2: missing key before '='");
}

static void test_empty_value(void)
{
        EXPECT_ERROR("[device]\nname = a\nrate =\n", ":3: empty value for 'rate'");
        EXPECT_ERROR("[device]\nname = a\ngain.level =   \t\n", ":3: empty value for 'gain.level'");
        EXPECT_RUN_ERROR("[device]\nname=\n", ":2: empty value for 'name'");
}

static void test_duplicate_key(void)
{
        EXPECT_ERROR("[device]\nname = a\nrate = 48000\n\nrate = 96000\n",
                     ":5: duplicate key 'rate' in [device] (first at line 3)");
        EXPECT_ERROR("[server]\nmlock = no\nmlock = yes\n[device]\nname = a\n",
                     ":3: duplicate key 'mlock' in [server] (first at line 2)");
        /* The same key in another device is no duplicate; in a second [server] the section is. */
        EXPECT_ERROR(
            "[device]\nname = a\nrate = 48000\n[device]\nname = b\nrate = 96000\n[server]\n[server]\n",
            ":8: duplicate section [server] (first at line 7)");
}

static void test_duplicate_device_name(void)
{
        EXPECT_ERROR("[device]\nname = a\n\n[device]\nname = b\n[device]\nname = a\n",
                     ":7: duplicate device name 'a' (first at line 2)");
        EXPECT_RUN_ERROR("[device]\nname = x\n[device]\nname = x\n",
                         ":4: duplicate device name 'x' (first at line 2)");
}

static void test_device_name(void)
{
        EXPECT_ERROR("[device]\nrate = 48000\n[device]\nname = b\n", ":1: [device] without a name");
        EXPECT_ERROR("[device]\nname = b\n[device]\nrate = 48000\n", ":3: [device] without a name");
        EXPECT_ERROR("[device]\nname = a b\n",
                     ":2: bad device name 'a b' (letters, digits, '_', '.', '-'; at most 63)");
        EXPECT_ERROR("[device]\nname = "
                     "a123456789012345678901234567890123456789012345678901234567890123\n",
                     ":2: bad device name "
                     "'a123456789012345678901234567890123456789012345678901234567890123' "
                     "(letters, digits, '_', '.', '-'; at most 63)");
        EXPECT_ERROR("[device]\nname = a\nuid = "
                     "u123456789012345678901234567890123456789012345678901234567890123\n",
                     ":3: uid too long (at most 63 characters)");
}

static void test_control_characters(void)
{
        EXPECT_ERROR("[device]\nname = a\x01\n", ":2: control character 0x01 in line");
}

/* --- values --- */

static void test_rate_out_of_range(void)
{
        EXPECT_ERROR("[device]\nname = a\nrate = 1000\n", ":3: rate 1000 out of range (8000..192000)");
        EXPECT_ERROR("[device]\nname = a\nrate = 192001\n", ":3: rate 192001 out of range (8000..192000)");
        EXPECT_RUN_ERROR("[device]\nname = a\nrate = 1000\n", ":3: rate 1000 out of range (8000..192000)");
}

static void test_rate_refused_by_backend(void)
{
        static struct proc p;
        char expected[PATH_MAX + 1024];
        int status;

        /* In udk's range, not in the virtual backend's: its sentence, on the rate's line. */
        config_write("[device]\nname = a\n\nrate = 22050\n");
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--check");
        unlink(config_path);
        snprintf(expected, sizeof(expected), "udkd: error: %s:4: device 'a': rate 22050 not supported",
                 config_path);
        ASSERT_INT_EQ(status, 1);
        ASSERT_TRUE(strncmp(p.err, expected, strlen(expected)) == 0);
        ASSERT_STR_CONTAINS(p.err, "48000");
}

static void test_period_out_of_range(void)
{
        EXPECT_ERROR("[device]\nname = a\nperiod = 8\n", ":3: period 8 out of range (16..4096)");
        EXPECT_ERROR("[device]\nname = a\nperiod = 8192\n", ":3: period 8192 out of range (16..4096)");
        EXPECT_ERROR("[device]\nname = a\nperiods = 1\n", ":3: periods 1 out of range (2..64)");
        EXPECT_RUN_ERROR("[device]\nname = a\nperiod = 4097\n", ":3: period 4097 out of range (16..4096)");
}

static void test_channels_out_of_range(void)
{
        EXPECT_ERROR("[device]\nname = a\nchannels = 33\n", ":3: channels 33 out of range (0..32)");
        EXPECT_ERROR("[device]\nname = a\ninputs = -1\n", ":3: inputs -1 out of range (0..32)");
        EXPECT_ERROR("[device]\nname = a\noutputs = 64\n", ":3: outputs 64 out of range (0..32)");
}

static void test_bad_number_text(void)
{
        EXPECT_ERROR("[device]\nname = a\nperiod = 64x\n", ":3: period '64x' is not a number");
        EXPECT_ERROR("[device]\nname = a\nrate = 48 kHz\n", ":3: rate '48 kHz' is not a number");
        EXPECT_ERROR("[device]\nname = a\nrate = 48000 # inline comments are not comments\n",
                     ":3: rate '48000 # inline comments are not comments' is not a number");
        EXPECT_ERROR("[device]\nname = a\npriority = high\n", ":3: priority 'high' is not a number");
        EXPECT_RUN_ERROR("[device]\nname = a\nperiod = 64x\n", ":3: period '64x' is not a number");
}

static void test_priority_and_cpu(void)
{
        long n_cpus = sysconf(_SC_NPROCESSORS_CONF);
        char text[128], suffix[128];

        EXPECT_ERROR("[device]\nname = a\npriority = 100\n", ":3: priority 100 out of range (0..99)");
        EXPECT_ERROR("[server]\npriority = -1\n[device]\nname = a\n",
                     ":2: priority -1 out of range (0..99)");

        ASSERT_INT_GT(n_cpus, 0);
        snprintf(text, sizeof(text), "[device]\nname = a\ncpu = %ld\n", n_cpus);
        snprintf(suffix, sizeof(suffix), ":3: cpu %ld out of range (-1..%ld)", n_cpus, n_cpus - 1);
        EXPECT_ERROR(text, suffix);
        snprintf(suffix, sizeof(suffix), ":3: cpu -2 out of range (-1..%ld)", n_cpus - 1);
        EXPECT_ERROR("[device]\nname = a\ncpu = -2\n", suffix);
}

static void test_bad_format(void)
{
        EXPECT_ERROR("[device]\nname = a\nformat = f64\n",
                     ":3: unknown format 'f64' (f32, s16, s24_3, s24_4, s32)");
}

static void test_unknown_backend(void)
{
        static struct proc p;
        char expected[PATH_MAX + 1024];
        int status;

        config_write("[device]\nname = a\nbackend = nosuch\n");
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--check");
        unlink(config_path);
        /* The list is what this build has: virtual always. */
        snprintf(expected, sizeof(expected), "udkd: error: %s:3: unknown backend 'nosuch' (known: virtual",
                 config_path);
        ASSERT_INT_EQ(status, 1);
        ASSERT_TRUE(strncmp(p.err, expected, strlen(expected)) == 0);
        ASSERT_TRUE(strcmp(p.err + strlen(p.err) - 2, ")\n") == 0);
}

static void test_server_section(void)
{
        EXPECT_ERROR("[server]\nmlock = maybe\n[device]\nname = a\n",
                     ":2: mlock 'maybe' is neither yes nor no");
        EXPECT_ERROR("[server]\nplugins = /usr/lib\n[device]\nname = a\n",
                     ":2: unknown key 'plugins' in [server]");
}

static void test_no_devices(void)
{
        EXPECT_ERROR("", ": no [device] section and no driver personality: nothing to run");
        EXPECT_ERROR("# only comments\n; and blank lines\n\n", ": no [device] section and no driver personality: nothing to run");
        EXPECT_RUN_ERROR("[server]\nmlock = no\n", ": no [device] section and no driver personality: nothing to run");
}

static void test_unreadable_file(void)
{
        static struct proc p;
        char path[PATH_MAX], expected[PATH_MAX + 128];
        int status;

        snprintf(path, sizeof(path), "%s/udkd-test-no-such-dir-%d/studio.conf", tmp_dir(), (int)getpid());
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", path, "--check");
        snprintf(expected, sizeof(expected), "udkd: error: %s: cannot read: %s\n", path, strerror(ENOENT));
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_INT_EQ(status, 1);

        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", tmp_dir(), "--duration", "1");
        snprintf(expected, sizeof(expected), "udkd: error: %s: cannot read: %s\n", tmp_dir(),
                 strerror(EISDIR));
        ASSERT_STR_EQ(p.err, expected);
        ASSERT_INT_EQ(status, 1);
}

/* --- what only the opened device can tell --- */

static void test_unknown_key(void)
{
        EXPECT_ERROR("[device]\nname = a\nrate = 48000\n\nperod = 64\n",
                     ":5: unknown key 'perod' in [device]");
        EXPECT_RUN_ERROR("[device]\nname = a\nperod = 64\n", ":3: unknown key 'perod' in [device]");
}

static void test_handlers_syntax(void)
{
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain,,meter\n", ":3: empty item in handlers list");
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain, meter, gain\n",
                     ":3: handler instance 'gain' given twice (name another one as in gain:gain2)");
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain:post, meter:post\n",
                     ":3: handler instance 'post' given twice (name another one as in meter:post2)");
        EXPECT_ERROR(
            "[device]\nname = a\nhandlers = gain:\n",
            ":3: bad instance name in handler 'gain:' (letters, digits, '_', '.', '-'; at most 63)");
        EXPECT_ERROR(
            "[device]\nname = a\nhandlers = ../gain\n",
            ":3: bad plugin name in handler '../gain' (letters, digits, '_', '.', '-'; at most 63)");
}

/* Every bound of the file, with the line and the limit (docs/security.md's table). */
static void test_config_limits(void)
{
        static char text[(1u << 20) + 64], expected[64];
        size_t len;

        len = (size_t)snprintf(text, sizeof(text), "[device]\nname = a\nhandlers = ");
        for (int i = 1; i <= 33; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%sgain:g%d", i > 1 ? ", " : "", i);
        snprintf(text + len, sizeof(text) - len, "\n");
        EXPECT_ERROR(text, ":3: too many handlers (at most 32)");

        len = 0;
        for (int i = 1; i <= 65; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "[device]\nname = d%d\n", i);
        EXPECT_ERROR(text, ":129: too many devices (at most 64)");

        len = (size_t)snprintf(text, sizeof(text), "[device]\nname = a\n");
        for (int i = 1; i <= 256; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "x%d = 1\n", i);
        EXPECT_ERROR(text, ":258: too many keys in [device] (at most 256)");

        /* A byte over 1 MiB, comments that would parse: refused before it is read. */
        len = (size_t)snprintf(text, sizeof(text), "[device]\nname = a\n");
        memset(text + len, '#', (1u << 20) + 1 - len);
        text[(1u << 20)] = '\n';
        text[(1u << 20) + 1] = '\0';
        snprintf(expected, sizeof(expected), ": file too large (%u bytes, at most %u)", (1u << 20) + 1, 1u << 20);
        EXPECT_ERROR(text, expected);
}

static void test_missing_plugin(void)
{
        static const char text[] = "[device]\nname = a\nhandlers = gain, eq\n";
        const char *env = getenv("UDK_PLUGIN_PATH");
        char suffix[PATH_MAX + 128];

        /* The first handler that is missing names the folders searched: -p first, */
        expect_error_with(text, MODE_CHECK,
                          (const char *const[]){"-p", "/nonexistent/a:/nonexistent/b", NULL},
                          ":3: handler 'gain': no plugin udk-dsp-gain.so in /nonexistent/a:/nonexistent/b");
        /* then [server] plugin_path, */
        EXPECT_ERROR("[server]\nplugin_path = /nonexistent/c\n[device]\nname = a\nhandlers = meter\n",
                     ":5: handler 'meter': no plugin udk-dsp-meter.so in /nonexistent/c");
        expect_error_with("[server]\nplugin_path = /nonexistent/c\n[device]\nname = a\nhandlers = meter\n",
                          MODE_CHECK, (const char *const[]){"--plugin-path", "/nonexistent/d", NULL},
                          ":5: handler 'meter': no plugin udk-dsp-meter.so in /nonexistent/d");
        /* then $UDK_PLUGIN_PATH, where gain is. */
        if (!env || !*env)
                UDK_TEST_SKIP("UDK_PLUGIN_PATH is not set (run through meson test)");
        snprintf(suffix, sizeof(suffix), ":3: handler 'eq': no plugin udk-dsp-eq.so in %s", env);
        EXPECT_ERROR(text, suffix);
        EXPECT_RUN_ERROR(text, suffix);
}

static void test_wrong_version_plugin(void)
{
        const char *dir = getenv("UDK_TEST_PLUGIN_DIR");
        char suffix[PATH_MAX + 128];

        if (!dir || !*dir)
                UDK_TEST_SKIP("UDK_TEST_PLUGIN_DIR is not set: tests/meson.build does not build "
                              "udk-dsp-badversion yet");
        /* The message names the item of the list that failed, on the list's line. */
        snprintf(suffix, sizeof(suffix),
                 ":4: handler 'badversion:b': %s/udk-dsp-badversion.so: plugin version 7, udk speaks 1",
                 dir);
        expect_error_with("[device]\nname = a\n\nhandlers = badversion:b\n", MODE_CHECK,
                          (const char *const[]){"-p", dir, NULL}, suffix);
}

static void test_backend_option(void)
{
        EXPECT_ERROR("[device]\nname = a\nloopback_latency = soon\n",
                     ":3: loopback_latency 'soon' is not a number (frames, period..65536)");
        /* Accepted as an option, refused when the device opens: still its own line. */
        EXPECT_ERROR("[device]\nname = a\nperiod = 128\nloopback_latency = 64\n",
                     ":4: device 'a': loopback_latency 64 is shorter than the period (128 frames)");
}

static void test_device_refused(void)
{
        static struct proc p;
        char expected[PATH_MAX + 1024];
        int status;

        /* A refusal that names no key of the file: the [device] header's line. */
        config_write("[device]\nname = a\n\n[device]\nname = b\ninputs = 0\noutputs = 0\n");
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--check");
        unlink(config_path);
        snprintf(expected, sizeof(expected), "udkd: error: %s:4: device 'b': ", config_path);
        ASSERT_INT_EQ(status, 1);
        ASSERT_TRUE(strncmp(p.err, expected, strlen(expected)) == 0);
        ASSERT_STR_EQ(p.out, "");
}

static void test_bad_control_value(void)
{
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain\ngain.level = loud\n",
                     ":4: bad value 'loud' for gain.level (a level in dB, -96..24)");
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain:post\npost.level = 30\n",
                     ":4: post.level 30 out of range (a level in dB, -96..24)");
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain\ngain.mute = perhaps\n",
                     ":4: bad value 'perhaps' for gain.mute (on or off)");
        /* The virtual backend's own controls take values the same way. */
        EXPECT_ERROR("[device]\nname = a\nsource = square\n",
                     ":3: bad value 'square' for source (one of sine, silence, loopback)");
        EXPECT_RUN_ERROR("[device]\nname = a\nhandlers = gain\ngain.level = loud\n",
                         ":4: bad value 'loud' for gain.level (a level in dB, -96..24)");
}

static void test_unknown_control(void)
{
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain\ngain.volume = -6\n",
                     ":4: unknown key 'gain.volume' in [device]");
        /* A handler's controls exist only with the handler. */
        EXPECT_ERROR("[device]\nname = a\ngain.level = -6\n", ":3: unknown key 'gain.level' in [device]");
        EXPECT_ERROR("[device]\nname = a\nhandlers = gain:post\ngain.level = -6\n",
                     ":4: unknown key 'gain.level' in [device]");
}

/* --- valid files --- */

static const char two_devices[] = "# two devices\n"
                                  "[server]\n"
                                  "priority = 0\n"
                                  "mlock = no\n"
                                  "\n"
                                  "[device]\n"
                                  "name = studio\n"
                                  "uid = udk:studio-1\n"
                                  "backend = virtual\n"
                                  "rate = 96000\n"
                                  "period = 128\n"
                                  "periods = 3\n"
                                  "inputs = 1\n"
                                  "outputs = 4\n"
                                  "format = S24_3\n"
                                  "handlers = gain, meter, gain:post\n"
                                  "gain.level = -6\n"
                                  "post.mute = on\n"
                                  "source = silence\n"
                                  "\n"
                                  "; the second one\n"
                                  "[device]\n"
                                  "name=stage.left_2\n"
                                  "priority=50\n"
                                  "cpu=0\n"
                                  "channels=8\n"
                                  "format=s16\n";

static void test_valid_two_devices(void)
{
        static struct proc p;
        char expected[PATH_MAX + 64];
        int status;

        config_write(two_devices);
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--check");
        unlink(config_path);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_INT_EQ(status, 0);
        ASSERT_STR_CONTAINS(
            p.out, "studio: backend virtual, 96000 Hz, 128 frames, 1 in, 4 out, s24_3, latency in ");
        ASSERT_STR_CONTAINS(p.out, ", priority 0, handlers: gain, meter, gain:post\n");
        ASSERT_STR_CONTAINS(
            p.out, "stage.left_2: backend virtual, 48000 Hz, 64 frames, 8 in, 8 out, s16, latency in ");
        ASSERT_STR_CONTAINS(p.out, ", priority 50, handlers: none\n");
        snprintf(expected, sizeof(expected), "%s: configuration OK, 2 devices\n", config_path);
        ASSERT_STR_CONTAINS(p.out, expected);
        /* In file order, the summary last. */
        ASSERT_TRUE(strstr(p.out, "studio:") < strstr(p.out, "stage.left_2:"));
        ASSERT_TRUE(strstr(p.out, "stage.left_2:") < strstr(p.out, expected));
}

static void test_valid_config_runs(void)
{
        static struct proc p;
        int status;

        config_write(two_devices);
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--duration", "0.5", "--stats=0.25");
        unlink(config_path);
        ASSERT_INT_EQ(status, 0);
        ASSERT_FALSE(strstr(p.err, "error"));
        ASSERT_STR_CONTAINS(p.err,
                            "udkd: info: studio: backend virtual, 96000 Hz, 128 frames, 1 in, 4 out, s24_3");
        ASSERT_STR_CONTAINS(p.err,
                            "udkd: info: stage.left_2: backend virtual, 48000 Hz, 64 frames, 8 in, 8 out");
        /* source = silence, and the meter sits after a gain: no peak at all on the way in. */
        ASSERT_STR_CONTAINS(p.out, "studio: cycles ");
        ASSERT_STR_CONTAINS(p.out, " | meter.input_peak -144.0 dBFS");
}

static void test_crlf_and_whitespace(void)
{
        static struct proc p;
        int status;

        config_write("  [device]  \r\n\tname\t=\tcrlf\t\r\n  rate=44100\r\n;\r\n");
        status = RUN_UDKD(&p, TIMEOUT_MS, "--config", config_path, "--check");
        unlink(config_path);
        ASSERT_STR_EQ(p.err, "");
        ASSERT_INT_EQ(status, 0);
        ASSERT_STR_CONTAINS(p.out, "crlf: backend virtual, 44100 Hz, 64 frames, 2 in, 2 out, f32,");
}

UDK_TEST_MAIN(test_unknown_section, test_key_outside_section, test_missing_equals, test_empty_value,
              test_duplicate_key, test_duplicate_device_name, test_device_name, test_control_characters,
              test_rate_out_of_range, test_rate_refused_by_backend, test_period_out_of_range,
              test_channels_out_of_range, test_bad_number_text, test_priority_and_cpu, test_bad_format,
              test_unknown_backend, test_server_section, test_no_devices, test_unreadable_file,
              test_unknown_key, test_handlers_syntax, test_config_limits, test_missing_plugin, test_wrong_version_plugin,
              test_backend_option, test_device_refused, test_bad_control_value, test_unknown_control,
              test_valid_two_devices, test_valid_config_runs, test_crlf_and_whitespace)
