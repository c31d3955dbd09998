/* SPDX-License-Identifier: MIT */
/*
 * udk-bench restart: from the SIGKILL of a driver to its device producing
 * its signal again.  udkd runs the test family: its bus driver publishes one
 * nub, the test audio driver binds it and creates a device whose input is a
 * sine.  A client listens to that input; each round kills the driver's host
 * and times how long the device stays silent: udkd silences a device whose
 * driver died and lifts the gate when the restarted driver takes the device
 * back.  The personality restarts at once and without limit, so the figure
 * is the restart path, not the back-off.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-servers.h"
#include "bench.h"
#include "udk-build-config.h"

#define CMD            "restart"
#define DEFAULT_KILLS  100
#define WAIT_MS        10000u
#define TARGET_P50_MS  20.0
#define TARGET_P99_MS  50.0
#define SOUND_LEVEL    0.01f /* the sine is at -6 dB; silence is 0 */

struct restart_options {
        int64_t kills;
        bool json;
};

/* What the listener's RT thread saw; the main thread reads it. */
struct listener {
        _Atomic bool silent;
        _Atomic uint64_t returns;       /* silences that ended */
        _Atomic uint64_t sound_back_ns; /* host time of the cycle that ended the last one */
};

struct restart_run {
        char dir[64], drivers[128], socket[160];
        pid_t udkd;
        struct udk_client *client;
        struct udk_client_stream *stream;
        struct listener listener;
};

static void restart_usage(FILE *out)
{
        fprintf(out,
                "Usage: udk-bench restart [OPTION]...\n"
                "Kill a driver's host with SIGKILL N times and time each restart, from the kill to its\n"
                "device producing its signal again (p50, p99, max).  udkd runs the test family's audio\n"
                "driver under a personality that restarts at once without limit.\n"
                "\n"
                "      --kills N  kills (default %d)\n"
                "      --json     print {\"restart_ms\": {\"p50\", \"p99\", \"max\"}, \"kills\": N} on stdout\n"
                "  -h, --help     print this help and exit\n"
                "\n"
                "udkd is $UDKD, the host $UDK_DRIVERHOST and the test family's drivers are in\n"
                "$UDK_TEST_FAMILY_DIR; each defaults to the build tree next to udk-bench, then to\n"
                "the installed ones.\n",
                DEFAULT_KILLS);
}

enum {
        ARG_KILLS = BENCH_LONG_OPTION_FIRST,
        ARG_JSON,
};

static int restart_parse_options(int argc, char **argv, struct restart_options *o)
{
        static const struct option long_options[] = {
                { "kills", required_argument, NULL, ARG_KILLS },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, r;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
                switch (c) {
                case ARG_KILLS:
                        r = bench_parse_option_int(CMD, "--kills", optarg, 1, 100000, &o->kills);
                        if (r < 0)
                                return r;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case 'h':
                        restart_usage(stdout);
                        return 1;
                default:
                        return bench_option_error(CMD, c, argv);
                }
        }
        if (optind < argc)
                return bench_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* RT-safe: atomics only. */
static int listen_process(void *data, const struct udk_node_cycle *cycle)
{
        struct listener *l = data;
        float peak = 0.0f;

        for (uint32_t i = 0; i < cycle->frames * cycle->input_channels; i++)
                peak = fmaxf(peak, fabsf(cycle->input[i]));
        if (peak < SOUND_LEVEL) {
                atomic_store(&l->silent, true);
        } else if (atomic_load(&l->silent)) {
                atomic_store(&l->sound_back_ns, cycle->host_time);
                atomic_store(&l->silent, false);
                atomic_fetch_add(&l->returns, 1); /* after the time: the reader sees both */
        }
        return 0;
}

/* The test family's drivers: $UDK_TEST_FAMILY_DIR, the build tree's, or the installed ones. */
static void family_dir(char *buf, size_t size)
{
        const char *env = getenv("UDK_TEST_FAMILY_DIR");
        char self[4096];

        if (env && *env) {
                udk_strlcpy(buf, env, size);
                return;
        }
        if (bench_build_root(self, sizeof(self)) == 0 &&
            (size_t)snprintf(buf, size, "%s/families/test/udk-driver-test-audio.so", self) < size &&
            access(buf, R_OK) == 0) {
                /* Shorter than what just fitted. */
                *strrchr(buf, '/') = '\0';
                return;
        }
        udk_strlcpy(buf, UDK_DRIVERS_DIR "/test", size); /* families/test installs there */
}

static int write_text(const char *dir, const char *name, const char *text)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static int write_drivers(struct restart_run *run)
{
        char family[4096], text[9000];
        int r;

        family_dir(family, sizeof(family));
        snprintf(run->drivers, sizeof(run->drivers), "%s/drivers", run->dir);
        if (mkdir(run->drivers, 0700) < 0)
                return -errno;
        r = write_text(run->drivers, "nubs.ini", "[nub]\nhandle = 1\nname = bench\nvendor = 0x1234\nproduct = 0x0001\n");
        if (r < 0)
                return r;
        snprintf(text, sizeof(text),
                 "[personality]\nname = test-bus\nfamily = root\nmatch.bus = test\n"
                 "driver = %s/udk-driver-test-bus.so\ngrant = nubs.ini\n"
                 "\n"
                 "[personality]\nname = test-audio\nfamily = test\nmatch.vendor = 0x1234\nmatch.product = 0x0001\n"
                 "driver = %s/udk-driver-test-audio.so\nrestart = always\nrestart_delay = 0\n"
                 "restart_limit = none\n",
                 family, family);
        return write_text(run->drivers, "bench.conf", text);
}

static int start_udkd(struct restart_run *run)
{
        char udkd[4096], host[4096], plugins[4096], env_socket[200], env_host[4200], conf[128];
        int r;

        r = bench_find_built("UDKD", "server/udkd", udkd, sizeof(udkd));
        if (r == 0)
                r = bench_find_built("UDK_DRIVERHOST", "driverkit/udk-driverhost", host, sizeof(host));
        if (r == 0)
                r = bench_plugin_path(plugins, sizeof(plugins)); /* the device's gain handler */
        if (r < 0)
                return r;
        snprintf(conf, sizeof(conf), "%s/udkd.conf", run->dir);
        r = write_text(run->dir, "udkd.conf", "[server]\nmlock = no\n");
        if (r < 0)
                return r;
        snprintf(env_socket, sizeof(env_socket), "UDK_SOCKET=%s", run->socket);
        snprintf(env_host, sizeof(env_host), "UDK_DRIVERHOST=%s", host);
        {
                char *const argv[] = { udkd, "--config", conf, "--drivers", run->drivers, "--plugin-path", plugins,
                                       NULL };
                struct bench_spawn sp = {
                        .argv = argv,
                        /* Each kill is a crash udkd and the host warn about: errors only. */
                        .env = { env_socket, env_host, "UDK_LOG_LEVEL=error", NULL },
                        .stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                        .keep_fd = -1,
                        .server = true,
                };
                r = bench_spawn(&sp, &run->udkd);
        }
        if (r < 0) {
                udk_error("cannot start %s: %s", udkd, strerror(-r));
                return r;
        }
        for (uint64_t deadline = udk_time_now() + WAIT_MS * 1000000ull; udk_time_now() < deadline;) {
                if (udk_client_connect("udk-bench restart", run->socket, &run->client) == 0)
                        return 0;
                if (bench_exited(run->udkd, NULL)) {
                        run->udkd = -1;
                        udk_error("udkd exited before it listened");
                        return -ECHILD;
                }
                usleep(5000);
        }
        udk_error("udkd did not listen on %s within %u ms", run->socket, WAIT_MS);
        return -ETIMEDOUT;
}

/* The bench nub's driver and its host's pid, once it runs; -ETIMEDOUT. */
static int driver_running(struct restart_run *run, pid_t not_pid, udk_object_id *ret_driver, pid_t *ret_pid)
{
        union {
                struct udk_msg_object obj;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } o;

        for (uint64_t deadline = udk_time_now() + WAIT_MS * 1000000ull; udk_time_now() < deadline; usleep(500)) {
                const struct udk_prop *bound, *state, *pid;
                udk_object_id nub;

                if (udk_client_find_class(run->client, "nub", "bench", &nub) < 0 ||
                    udk_client_info(run->client, nub, &o.obj) < 0)
                        continue;
                bound = udk_msg_object_prop(&o.obj, "bound");
                if (!bound || bound->type != UDK_PROP_INT || bound->i == 0)
                        continue;
                if (udk_client_info(run->client, (udk_object_id)bound->i, &o.obj) < 0)
                        continue;
                state = udk_msg_object_prop(&o.obj, "state");
                pid = udk_msg_object_prop(&o.obj, "pid");
                if (!state || state->type != UDK_PROP_STRING || strcmp(state->s, "running") != 0 || !pid ||
                    pid->i <= 0 || (pid_t)pid->i == not_pid)
                        continue;
                *ret_driver = (udk_object_id)bound->i;
                *ret_pid = (pid_t)pid->i;
                return 0;
        }
        udk_error("the test audio driver is not running after %u ms", WAIT_MS);
        return -ETIMEDOUT;
}

static int open_listener(struct restart_run *run)
{
        struct udk_client_stream_params params;
        udk_object_id device = 0;
        int r = -ENOENT;

        for (uint64_t deadline = udk_time_now() + WAIT_MS * 1000000ull; udk_time_now() < deadline && r < 0;
             usleep(1000))
                r = udk_client_find_class(run->client, "device", "test:bench", &device);
        if (r < 0) {
                udk_error("no device test:bench after %u ms: %s", WAIT_MS, udk_client_error(run->client));
                return r;
        }
        udk_client_stream_params_defaults(&params);
        params.device = device;
        params.output_channels = 0;
        params.name = "udk-bench restart";
        atomic_store(&run->listener.silent, true);
        r = udk_client_open(run->client, &params, listen_process, &run->listener, &run->stream);
        if (r == 0)
                r = udk_client_stream_wait_running(run->stream, (int)WAIT_MS);
        if (r < 0)
                udk_error("cannot listen to test:bench: %s", udk_client_error(run->client));
        return r;
}

/* One kill: ms from the SIGKILL to the first cycle with sound again. */
static int kill_once(struct restart_run *run, pid_t *pid, double *ret_ms)
{
        uint64_t returns = atomic_load(&run->listener.returns), t0, back;
        udk_object_id driver;

        /* Sound first, so that the silence that follows is the kill's. */
        for (uint64_t deadline = udk_time_now() + WAIT_MS * 1000000ull; atomic_load(&run->listener.silent);
             usleep(200))
                if (udk_time_now() > deadline) {
                        udk_error("no signal on test:bench before the kill");
                        return -ETIMEDOUT;
                }
        returns = atomic_load(&run->listener.returns);
        t0 = udk_time_now();
        if (kill(*pid, SIGKILL) < 0)
                return -errno;
        while (atomic_load(&run->listener.returns) == returns) {
                if (udk_time_now() - t0 > WAIT_MS * 1000000ull) {
                        udk_error("test:bench still silent %u ms after the kill", WAIT_MS);
                        return -ETIMEDOUT;
                }
                usleep(100);
        }
        back = atomic_load(&run->listener.sound_back_ns);
        *ret_ms = back > t0 ? (double)(back - t0) / 1e6 : 0.0;
        /* The next round kills the new host. */
        return driver_running(run, *pid, &driver, pid);
}

static void restart_stop(struct restart_run *run)
{
        char path[256];

        if (run->stream)
                udk_client_close(run->stream);
        run->client = udk_client_disconnect(run->client);
        if (run->udkd > 0)
                bench_stop(run->udkd, 10000);
        for (const char *const *f = (const char *const[]){ "drivers/nubs.ini", "drivers/bench.conf", "drivers",
                                                           "udkd.conf", "udkd.sock", NULL };
             *f; f++) {
                snprintf(path, sizeof(path), "%s/%s", run->dir, *f);
                if (remove(path) < 0 && errno != ENOENT)
                        udk_warn("cannot remove %s: %s", path, strerror(errno));
        }
        rmdir(run->dir);
}

int bench_restart_main(int argc, char **argv)
{
        struct restart_options o = { DEFAULT_KILLS, false };
        struct restart_run run = { .udkd = -1 };
        _udk_cleanup_free_ double *ms = NULL;
        double p50, p99, max;
        udk_object_id driver;
        pid_t pid;
        int r;

        r = restart_parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : BENCH_EXIT_USAGE;
        ms = calloc((size_t)o.kills, sizeof(*ms));
        if (!ms)
                return EXIT_FAILURE;
        snprintf(run.dir, sizeof(run.dir), "/tmp/udk-bench-restart-XXXXXX");
        if (!mkdtemp(run.dir)) {
                udk_error("cannot make a folder: %s", strerror(errno));
                return EXIT_FAILURE;
        }
        snprintf(run.socket, sizeof(run.socket), "%s/udkd.sock", run.dir);
        bench_servers_install_signal_handlers();

        r = write_drivers(&run);
        if (r < 0)
                udk_error("cannot write the drivers folder in %s: %s", run.dir, strerror(-r));
        if (r == 0)
                r = start_udkd(&run);
        if (r == 0)
                r = driver_running(&run, 0, &driver, &pid);
        if (r == 0)
                r = open_listener(&run);
        for (int64_t k = 0; r == 0 && k < o.kills; k++) {
                if (bench_servers_interrupted()) {
                        r = -EINTR;
                        break;
                }
                r = kill_once(&run, &pid, &ms[k]);
                if (!o.json && (k + 1) % 10 == 0)
                        fprintf(stderr, "restart: %lld of %lld kills\n", (long long)(k + 1), (long long)o.kills);
        }
        restart_stop(&run);
        if (r < 0)
                return EXIT_FAILURE;

        p50 = bench_median(ms, (size_t)o.kills); /* sorts */
        p99 = bench_percentile_sorted(ms, (size_t)o.kills, 0.99);
        max = ms[o.kills - 1];
        if (o.json) {
                struct bench_json j;

                bench_json_init(&j, stdout);
                bench_json_begin_object(&j, NULL);
                bench_json_begin_object(&j, "restart_ms");
                bench_json_number(&j, "p50", p50, 2);
                bench_json_number(&j, "p99", p99, 2);
                bench_json_number(&j, "max", max, 2);
                bench_json_end_object(&j);
                bench_json_uint(&j, "kills", (uint64_t)o.kills);
                bench_json_end_object(&j);
        } else {
                printf("restart: %lld SIGKILLs of the test audio driver, until its device's signal is back\n",
                       (long long)o.kills);
                printf("  %-16s %10s %10s %10s\n", "", "p50", "p99", "max");
                printf("  %-16s %10.2f %10.2f %10.2f\n", "restart (ms)", p50, p99, max);
                printf("  target: p50 <= %.0f ms %s, p99 <= %.0f ms %s\n", TARGET_P50_MS,
                       p50 <= TARGET_P50_MS ? "met" : "missed", TARGET_P99_MS, p99 <= TARGET_P99_MS ? "met" : "missed");
        }
        return EXIT_SUCCESS;
}
