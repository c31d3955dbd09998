/* SPDX-License-Identifier: MIT */
/*
 * The JACK backend against a private jackd (the dummy driver, 48 kHz, 256
 * frames, a server name of its own so that nothing else meets it): udkd's
 * ports appear in JACK, a signal passes a loop of JACK connections
 * sample-exact with the loop's latency measured, a new JACK buffer size
 * builds the device again (its connections kept, the loop passing the
 * signal a new period later), a SIGKILLed jackd takes the device away while
 * udkd and its virtual device run on; and a server that is not there is a
 * clear error that leaves the other devices running.
 *
 * The test's own JACK client (libjack) lists, connects and resizes; jackd
 * comes from jackd2 (skipped where it is not installed).
 */
#include <fcntl.h>
#include <limits.h>
#include <jack/jack.h>
#include <jack/thread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <udk/client.h>
#include <udk/clock.h>
#include <udk/protocol.h>
#include <udk/util.h>

#include "udk-test.h"
#include "udk-test-udkd.h"

#define RATE       48000u
#define PERIOD     256u
#define WAIT_MS    20000
#define REC_CYCLES 100u

struct jackd {
        char name[64];
        pid_t pid;
};

static const char *jackd_path(void)
{
        static const char *const candidates[] = { "/usr/bin/jackd", "/usr/local/bin/jackd" };

        for (size_t i = 0; i < UDK_ELEMENTSOF(candidates); i++)
                if (access(candidates[i], X_OK) == 0)
                        return candidates[i];
        UDK_TEST_SKIP("jackd is not installed (jackd2)");
}

static void jack_quiet(const char *msg)
{
}

/* Open a client of @server, retrying until @timeout_ms (the server may be starting); NULL then. */
static jack_client_t *client_open(const char *server, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        /* The test's own client: its retries need not say that the server is not up yet. */
        jack_set_error_function(jack_quiet);
        jack_set_info_function(jack_quiet);
        for (;;) {
                jack_status_t status;
                jack_client_t *c =
                        jack_client_open("udk-test", JackNoStartServer | JackServerName, &status, server);

                if (c || now_ms() >= deadline)
                        return c;
                usleep(50000);
        }
}

static pid_t jackd_spawn(const struct jackd *j, uint32_t period, const char *log)
{
        char p[16];
        pid_t pid;

        snprintf(p, sizeof(p), "%u", period);
        fflush(NULL);
        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                execl(jackd_path(), "jackd", "-n", j->name, "-R", "-P", "80", "-d", "dummy", "-r", "48000",
                      "-p", p, (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* jackd up, or the test failed with what jackd said. */
static void jackd_wait_up(struct jackd *j, const char *log)
{
        jack_client_t *c = client_open(j->name, WAIT_MS);
        char said[1024] = "";
        FILE *f;

        if (c) {
                jack_client_close(c);
                return;
        }
        f = fopen(log, "r");
        if (f) {
                size_t n = fread(said, 1, sizeof(said) - 1, f);
                said[n] = '\0';
                fclose(f);
        }
        kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
        udk_test_fail("jackd -n %s did not come up within %d ms; it said: \"%s\"", j->name, WAIT_MS, said);
}

static void jackd_start(struct jackd *j, uint32_t period)
{
        char log[96];

        char cwd[PATH_MAX], *base;

        /* One name per build folder (meson runs tests there), not per run:
         * JACK's registry has slots for only a few names on the machine. */
        ASSERT_NOT_NULL(getcwd(cwd, sizeof(cwd)));
        base = strrchr(cwd, '/');
        snprintf(j->name, sizeof(j->name), "udk-test-jack-%.40s", base ? base + 1 : cwd);
        snprintf(log, sizeof(log), "/tmp/%s.log", j->name);
        j->pid = jackd_spawn(j, period, log);
        jackd_wait_up(j, log);
        unlink(log);
}

/*
 * SIGKILL and reap.  A killed jackd leaves its entry in JACK's server
 * registry (a handful of slots for the whole machine) and its files in
 * /dev/shm; only a server of the same name reclaims them: one is started
 * and stopped cleanly.
 */
static void jackd_kill(struct jackd *j)
{
        char log[96], cmd[256];

        if (j->pid <= 0)
                return;
        kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
        snprintf(log, sizeof(log), "/tmp/%s.log", j->name);
        j->pid = jackd_spawn(j, PERIOD, log);
        jackd_wait_up(j, log);
        kill(j->pid, SIGTERM);
        waitpid(j->pid, NULL, 0);
        j->pid = 0;
        unlink(log);
        /* The semaphores of the clients it had when it was killed. */
        snprintf(cmd, sizeof(cmd), "rm -f /dev/shm/jack_sem.*_%s_*", j->name);
        if (system(cmd) != 0)
                udk_test_fail("%s failed", cmd);
}

/* udkd with @conf (written into a folder of its own), up and listening. */
static void udkd_start(struct proc *p, char *conf_path, size_t size, const char *conf)
{
        char dir[64] = "/tmp/udk-test-conf-XXXXXX";
        FILE *f;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(conf_path, size, "%s/udkd.conf", dir);
        f = fopen(conf_path, "w");
        ASSERT_NOT_NULL(f);
        fputs(conf, f);
        ASSERT_OK(fclose(f));
        proc_start(p, (const char *const[]){ "-c", conf_path, NULL });
        proc_wait_stderr(p, "listening on", WAIT_MS);
}

static void conf_remove(const char *conf_path)
{
        char dir[PATH_MAX];

        udk_strlcpy(dir, conf_path, sizeof(dir));
        unlink(conf_path);
        *strrchr(dir, '/') = '\0';
        rmdir(dir);
}

static int64_t device_prop(struct udk_client *c, const char *device, const char *key)
{
        static _Alignas(8) char buf[UDK_MSG_SIZE_MAX];
        struct udk_msg_object *o = (struct udk_msg_object *)buf;
        udk_object_id id;

        ASSERT_OK(udk_client_find(c, device, &id));
        ASSERT_OK(udk_client_info(c, id, o));
        for (uint32_t i = 0; i < o->n_props; i++)
                if (strcmp(o->props[i].key, key) == 0)
                        return o->props[i].i;
        udk_test_fail("device %s has no property %s", device, key);
}

/* --- the signal: sample t of channel c, every sample non-zero and telling its t mod 4093 --- */

static float signal_at(uint64_t t, uint32_t c)
{
        float x = (float)(t % 4093 + 1) / 8192.0f;

        return c == 0 ? x : -0.5f * x;
}

static int idle(void *data, const struct udk_node_cycle *cy)
{
        return 0;
}

static int play(void *data, const struct udk_node_cycle *cy)
{
        for (uint32_t f = 0; f < cy->frames; f++)
                for (uint32_t c = 0; c < cy->output_channels; c++)
                        cy->output[f * cy->output_channels + c] = signal_at(cy->sample_time + f, c);
        return 0;
}

#define REC_PERIOD_MAX 512u

struct recording {
        uint32_t period; /* the device's: other cycles are not recorded */
        uint64_t start[REC_CYCLES];
        float data[REC_CYCLES][REC_PERIOD_MAX * 2];
        _Atomic uint32_t n;
};

static int record(void *data, const struct udk_node_cycle *cy)
{
        struct recording *r = data;
        uint32_t i = atomic_load_explicit(&r->n, memory_order_relaxed);

        if (i >= REC_CYCLES || cy->frames != r->period || cy->input_channels != 2)
                return 0;
        r->start[i] = cy->sample_time;
        memcpy(r->data[i], cy->input, (size_t)r->period * 2 * sizeof(float));
        atomic_store_explicit(&r->n, i + 1, memory_order_release);
        return 0;
}

static struct udk_client_stream *stream_open(struct udk_client *c, const char *device, uint32_t in,
                                             uint32_t out, udk_client_process_fn fn, void *data)
{
        struct udk_client_stream_params params;
        struct udk_client_stream *s;

        udk_client_stream_params_defaults(&params);
        ASSERT_OK(udk_client_find(c, device, &params.device));
        params.input_channels = in;
        params.output_channels = out;
        if (udk_client_open(c, &params, fn, data, &s) < 0)
                udk_test_fail("cannot open a stream on %s: %s", device, udk_client_error(c));
        ASSERT_OK(udk_client_stream_wait_running(s, WAIT_MS));
        return s;
}

/*
 * Check @r: silence, then the signal at a fixed latency L, every sample of
 * every cycle after its start exact.  Returns L.
 */
static bool recording_skipped(const struct recording *r)
{
        for (uint32_t i = 1; i < atomic_load(&r->n); i++)
                if (r->start[i] != r->start[i - 1] + r->period) {
                        fprintf(stderr,
                                "JACK skipped frames (an xrun) between sample times %" PRIu64 " and %" PRIu64
                                "\n",
                                r->start[i - 1], r->start[i]);
                        return true;
                }
        return false;
}

static uint64_t loop_latency(const struct recording *r)
{
        uint32_t n = atomic_load(&r->n);
        uint64_t first = 0, latency = 0;
        bool found = false;

        ASSERT_UINT_EQ(n, REC_CYCLES);
        for (uint32_t i = 0; i < n && !found; i++)
                for (uint32_t f = 0; f < r->period && !found; f++)
                        if (r->data[i][f * 2] != 0.0f) {
                                uint64_t t = r->start[i] + f;
                                uint64_t k = (uint64_t)(r->data[i][f * 2] * 8192.0f) - 1;
                                first = t;
                                /* The first played sample tells its own time mod 4093. */
                                latency = (t % 4093 + 4093 - k) % 4093;
                                found = true;
                        }
        if (!found)
                udk_test_fail("the loop brought no signal back in %u cycles", n);
        for (uint32_t i = 0; i < n; i++)
                for (uint32_t f = 0; f < r->period; f++)
                        for (uint32_t c = 0; c < 2; c++) {
                                uint64_t t = r->start[i] + f;
                                float want = t >= first ? signal_at(t - latency, c) : 0.0f;
                                float got = r->data[i][f * 2 + c];
                                if (got != want)
                                        udk_test_fail("sample time %" PRIu64 " channel %u: %.9g, want %.9g "
                                                      "(loop latency %" PRIu64 ", first at %" PRIu64 ")",
                                                      t, c, (double)got, (double)want, latency, first);
                        }
        return latency;
}

/*
 * Record the loop while a player plays into it; the latency it measured, or
 * -1 when JACK had an xrun or a client was late meanwhile (the machine was too busy).
 */
/* How many cycles the streams of device jk missed their deadline in. */
static uint64_t streams_late(struct udk_client *c)
{
        struct udk_msg_stats_node nodes[8];
        struct udk_msg_stats_device sd;
        udk_object_id device;
        uint64_t late = 0;
        size_t n = 0;

        ASSERT_OK(udk_client_find(c, "jk", &device));
        ASSERT_OK(udk_client_stats(c, device, &sd, nodes, UDK_ELEMENTSOF(nodes), &n));
        for (size_t i = 0; i < n; i++)
                late += nodes[i].late;
        return late;
}

static int64_t loop_run(struct udk_client *c, struct recording *rec, uint32_t period)
{
        struct udk_client_stream *player, *recorder;
        uint64_t deadline, latency, late;

        memset(rec, 0, sizeof(*rec));
        rec->period = period;
        recorder = stream_open(c, "jk", 2, 0, record, rec);
        player = stream_open(c, "jk", 0, 2, play, NULL);
        ASSERT_UINT_EQ(udk_client_stream_period(player), period);
        deadline = now_ms() + WAIT_MS;
        while (atomic_load(&rec->n) < REC_CYCLES) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(20000);
        }
        late = streams_late(c);
        ASSERT_OK(udk_client_close(player));
        ASSERT_OK(udk_client_close(recorder));
        if (recording_skipped(rec))
                return -1;
        if (late) {
                /* A client's RT thread not scheduled in time (ASan on a loaded machine): its cycle is
                 * silence, which an attempt of its own tells from a fault. */
                fprintf(stderr, "a client of jk was late %" PRIu64 " times while the loop was recorded\n", late);
                return -1;
        }
        latency = loop_latency(rec);
        printf("# loop latency through JACK at %u frames: %" PRIu64 " frames\n", period, latency);
        return (int64_t)latency;
}

/*
 * Where udk's clock says the device is now, less where JACK's says it is:
 * constant while the zero timestamps follow JACK's clock.  The rate the
 * DLL found into *@ret_rate_milli.
 */
static int64_t clock_offset(jack_client_t *jc, struct udk_client_stream *s, uint64_t *ret_rate_milli)
{
        uint64_t st, ht, now = 0, best = UINT64_MAX;
        jack_nframes_t jack_pos = 0;

        ASSERT_OK(udk_zts_read(udk_client_stream_zero_timestamp(s), &st, &ht, ret_rate_milli));
        /* JACK's frame time and udk's "now" as close together as this thread gets them: of 16 tries,
         * the one least spread (a try this thread was preempted in, under ASan on a loaded machine,
         * would be off by the time it waited). */
        for (int i = 0; i < 16; i++) {
                uint64_t t0 = udk_time_now();
                jack_nframes_t pos = jack_frame_time(jc);
                uint64_t t1 = udk_time_now();

                if (t1 - t0 < best) {
                        best = t1 - t0;
                        now = t0 + (t1 - t0) / 2;
                        jack_pos = pos;
                }
        }
        ASSERT_UINT_GE(now, ht);
        return (int64_t)(st + (uint64_t)((double)(now - ht) * (double)*ret_rate_milli / 1e12)) -
               (int64_t)jack_pos;
}

static void ports_expect(jack_client_t *jc, const char *const *want)
{
        const char **ports = jack_get_ports(jc, "^udkd:", NULL, 0);
        size_t n = 0;

        ASSERT_NOT_NULL(ports);
        for (; ports[n]; n++) {
                ASSERT_NOT_NULL(want[n]);
                ASSERT_STR_EQ(ports[n], want[n]);
        }
        ASSERT_PTR_EQ(want[n], NULL);
        jack_free(ports);
}

/* jack_lsp itself, the command a user types: exactly @ports (any order) of udkd's. */
static void jack_lsp_expect(const char *server, const char *const *ports)
{
        char cmd[256], line[256];
        size_t n = 0, want = 0;
        FILE *f;

        while (ports[want])
                want++;
        snprintf(cmd, sizeof(cmd), "jack_lsp -s '%s' udkd: 2>/dev/null", server);
        f = popen(cmd, "r");
        ASSERT_NOT_NULL(f);
        while (fgets(line, sizeof(line), f)) {
                bool known = false;

                line[strcspn(line, "\n")] = '\0';
                for (size_t i = 0; ports[i]; i++)
                        known = known || strcmp(line, ports[i]) == 0;
                if (!known)
                        udk_test_fail("jack_lsp lists %s, not a port of device jk", line);
                n++;
        }
        ASSERT_INT_EQ(pclose(f), 0);
        ASSERT_UINT_EQ(n, want);
}

static void test_jack_device(void)
{
        static struct proc p;
        static struct recording rec;
        static const char *const ports[] = { "udkd:jk_in_1", "udkd:jk_in_2", "udkd:jk_out_1",
                                             "udkd:jk_out_2", NULL };
        struct udk_msg_stats_device before, after;
        struct udk_client_stream *s;
        char conf[1024], conf_path[PATH_MAX], needle[256];
        struct udk_client *c;
        struct jackd jd;
        jack_client_t *jc;
        udk_object_id vid, jid;
        uint64_t deadline, rate_milli;
        int64_t latency, offset0, offset1;
        size_t n_nodes;

        jackd_start(&jd, PERIOD);
        /* The configuration's period is not JACK's: the device follows JACK. */
        snprintf(conf, sizeof(conf),
                 "[device]\nname = jk\nbackend = jack\nserver = %s\nchannels = 2\nperiod = 64\n\n"
                 "[device]\nname = v\nbackend = virtual\nperiod = 1024\n",
                 jd.name);
        udkd_start(&p, conf_path, sizeof(conf_path), conf);
        snprintf(needle, sizeof(needle),
                 "device jk: JACK client 'udkd' of server '%s', 48000 Hz, 256 frames", jd.name);
        ASSERT_STR_CONTAINS(p.err, needle);
        ASSERT_OK(udk_client_connect("test-jack", p.socket, &c));
        jc = client_open(jd.name, WAIT_MS);
        ASSERT_NOT_NULL(jc);
        ASSERT_INT_EQ(device_prop(c, "jk", "period"), PERIOD);
        ASSERT_INT_EQ(device_prop(c, "jk", "rate"), RATE);
        ASSERT_INT_EQ(device_prop(c, "jk", "running"), 1);
        /* jackd -R -P 80: JACK's client thread is SCHED_FIFO, the device says at which priority. */
        ASSERT_INT_EQ(device_prop(c, "jk", "realtime"), 1);
        ASSERT_INT_EQ(device_prop(c, "jk", "priority"), jack_client_real_time_priority(jc));

        /* The ports, as jack_lsp lists them. */
        ports_expect(jc, ports);
        jack_lsp_expect(jd.name, ports);
        ASSERT_INT_EQ(jack_port_flags(jack_port_by_name(jc, "udkd:jk_in_1")) &
                              (JackPortIsInput | JackPortIsOutput),
                      JackPortIsInput);
        ASSERT_INT_EQ(jack_port_flags(jack_port_by_name(jc, "udkd:jk_out_2")) &
                              (JackPortIsInput | JackPortIsOutput),
                      JackPortIsOutput);

        /* The loop: udk's outputs into its inputs, through JACK. */
        ASSERT_INT_EQ(jack_connect(jc, "udkd:jk_out_1", "udkd:jk_in_1"), 0);
        ASSERT_INT_EQ(jack_connect(jc, "udkd:jk_out_2", "udkd:jk_in_2"), 0);
        latency = loop_run(c, &rec, PERIOD);
        if (latency < 0) {
                /* The machine was too busy for JACK: another attempt, with this one's servers gone. */
                jackd_kill(&jd);
                proc_kill(&p);
                conf_remove(conf_path);
                UDK_TEST_RETRY("JACK had an xrun, or a client was late, while the loop was recorded");
        }
        /* A JACK client's output into its own input is a feedback connection:
         * JACK hands it over one cycle later.  udk adds nothing to that. */
        ASSERT_INT_EQ(latency, PERIOD);

        /* The zero timestamps follow JACK's clock: udk's position of "now" stays at one distance from
         * JACK's frame time, to within 32 frames (0.67 ms). */
        s = stream_open(c, "jk", 2, 0, idle, NULL);
        usleep(300000);
        ASSERT_OK(udk_client_find(c, "jk", &jid));
        for (int attempt = 0;; attempt++) {
                /* A JACK xrun meanwhile restarts the DLL: that second says nothing, take another. */
                ASSERT_OK(udk_client_stats(c, jid, &before, NULL, 0, &n_nodes));
                offset0 = clock_offset(jc, s, &rate_milli);
                usleep(1000000);
                offset1 = clock_offset(jc, s, &rate_milli);
                ASSERT_OK(udk_client_stats(c, jid, &after, NULL, 0, &n_nodes));
                /* A second in which this thread or JACK's waited for a CPU (ASan, a loaded machine) moves
                 * the figures below: the clock's fault would move them in every one of 4. */
                if (after.xruns == before.xruns &&
                    (attempt == 3 || (llabs(offset1 - offset0) <= 32 &&
                                      llabs((int64_t)rate_milli - (int64_t)RATE * 1000) <= RATE)))
                        break;
                if (attempt == 3) {
                        jackd_kill(&jd);
                        proc_kill(&p);
                        conf_remove(conf_path);
                        UDK_TEST_RETRY("JACK had xruns in each second the clock was watched");
                }
                usleep(500000);
        }
        printf("# udk's clock less JACK's: %" PRId64 " then %" PRId64 " frames, rate %.3f Hz\n", offset0,
               offset1, rate_milli / 1000.0);
        ASSERT_INT_LE(llabs(offset1 - offset0), 32);
        /* And the boundaries are JACK's: the two positions differ by whole periods (both counts
         * moved by whole periods since they began), so the zero timestamps' host times are JACK's
         * cycle starts. */
        ASSERT_INT_LE(llabs(offset0 - (int64_t)llround((double)offset0 / PERIOD) * PERIOD), 32);
        ASSERT_INT_LE(llabs((int64_t)rate_milli - (int64_t)RATE * 1000), RATE);
        ASSERT_OK(udk_client_close(s));

        /* A new buffer size: the device is built again at JACK's new period. */
        ASSERT_INT_EQ(jack_set_buffer_size(jc, 512), 0);
        proc_wait_stderr(&p, "device jk: built again, 48000 Hz, 512 frames", WAIT_MS);
        ASSERT_INT_EQ(device_prop(c, "jk", "period"), 512);
        s = stream_open(c, "jk", 2, 2, play, NULL);
        ASSERT_UINT_EQ(udk_client_stream_period(s), 512);
        ASSERT_UINT_EQ(udk_client_stream_rate(s), RATE);
        ports_expect(jc, ports);
        /* The loop's connections came back with the device. */
        ASSERT_TRUE(jack_port_connected_to(jack_port_by_name(jc, "udkd:jk_out_1"), "udkd:jk_in_1"));
        ASSERT_TRUE(jack_port_connected_to(jack_port_by_name(jc, "udkd:jk_out_2"), "udkd:jk_in_2"));
        ASSERT_FALSE(jack_port_connected_to(jack_port_by_name(jc, "udkd:jk_out_1"), "udkd:jk_in_2"));
        jack_client_close(jc);
        ASSERT_OK(udk_client_close(s));
        /* And the signal passes them again, a JACK period later. */
        latency = loop_run(c, &rec, 512);
        if (latency < 0) {
                jackd_kill(&jd);
                proc_kill(&p);
                conf_remove(conf_path);
                UDK_TEST_RETRY("JACK had an xrun, or a client was late, while the loop was recorded");
        }
        ASSERT_INT_EQ(latency, 512);
        s = stream_open(c, "jk", 2, 2, play, NULL);

        /* jackd killed: the device goes, udkd and the virtual device stay. */
        ASSERT_OK(udk_client_find(c, "v", &vid));
        ASSERT_OK(udk_client_stats(c, vid, &before, NULL, 0, &n_nodes));
        jackd_kill(&jd);
        snprintf(needle, sizeof(needle), "device jk: removed: the JACK server '%s' went away", jd.name);
        proc_wait_stderr(&p, needle, WAIT_MS);
        /* The stream still open on it is told. */
        deadline = now_ms() + WAIT_MS;
        while (udk_client_stream_state(s) != UDK_NODE_CLOSED) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(10000);
        }
        /* udkd closed it already: freeing it says so. */
        ASSERT_ERROR(udk_client_close(s), ENOENT);
        ASSERT_OK(udk_client_ping(c));
        ASSERT_ERROR(udk_client_find(c, "jk", &vid), ENOENT);
        ASSERT_OK(udk_client_find(c, "v", &vid));
        usleep(300000);
        ASSERT_OK(udk_client_stats(c, vid, &after, NULL, 0, &n_nodes));
        ASSERT_UINT_GE(after.cycles, before.cycles + 5);
        ASSERT_UINT_EQ(after.xruns, 0);

        udk_client_disconnect(c);
        kill(p.pid, SIGTERM);
        proc_finish(&p, WAIT_MS);
        ASSERT_INT_EQ(WEXITSTATUS(p.status), 0);
        conf_remove(conf_path);
}

/* No JACK server by that name: a clear error naming it, the other device runs. */
static void test_jack_absent(void)
{
        static struct proc p;
        struct udk_msg_stats_device st;
        char conf[1024], conf_path[PATH_MAX], needle[PATH_MAX + 256], server[64];
        struct udk_client *c;
        udk_object_id vid;
        size_t n_nodes;

        snprintf(server, sizeof(server), "udk-test-absent-%d", (int)getpid());
        snprintf(conf, sizeof(conf),
                 "[device]\nname = jk\nbackend = jack\nserver = %s\n\n"
                 "[device]\nname = v\nbackend = virtual\nperiod = 1024\n",
                 server);
        udkd_start(&p, conf_path, sizeof(conf_path), conf);
        snprintf(needle, sizeof(needle),
                 "%s:1: device 'jk': cannot connect to the JACK server '%s': no such server is running",
                 conf_path, server);
        ASSERT_STR_CONTAINS(p.err, needle);
        ASSERT_OK(udk_client_connect("test-jack", p.socket, &c));
        ASSERT_ERROR(udk_client_find(c, "jk", &vid), ENOENT);
        ASSERT_OK(udk_client_find(c, "v", &vid));
        usleep(200000);
        ASSERT_OK(udk_client_stats(c, vid, &st, NULL, 0, &n_nodes));
        ASSERT_UINT_GE(st.cycles, 2);
        ASSERT_UINT_EQ(st.xruns, 0);
        udk_client_disconnect(c);
        kill(p.pid, SIGTERM);
        proc_finish(&p, WAIT_MS);
        ASSERT_INT_EQ(WEXITSTATUS(p.status), 0);

        /* --check passes only when every device opens. */
        proc_start(&p, (const char *const[]){ "--check", "-c", conf_path, NULL });
        proc_finish(&p, WAIT_MS);
        ASSERT_INT_EQ(WEXITSTATUS(p.status), 1);
        ASSERT_STR_CONTAINS(p.err, needle);
        snprintf(needle, sizeof(needle), "udkd: error: %s: 1 device could not be opened\n", conf_path);
        ASSERT_STR_CONTAINS(p.err, needle);
        ASSERT_STR_EQ(
                p.out,
                "v: backend virtual, 48000 Hz, 1024 frames, 2 in, 2 out, f32, latency in 0 out 1024 frames "
                "(0.00/21.33 ms), priority 70, handlers: none\n");
        conf_remove(conf_path);
}

UDK_TEST_MAIN(test_jack_absent, test_jack_device)
