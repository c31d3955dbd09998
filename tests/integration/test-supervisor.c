/* SPDX-License-Identifier: MIT */
/*
 * udkd's supervisor against a fake driver host: this program itself, which
 * udkd runs as $UDK_DRIVERHOST (UDK_FAKE_HOST set in its environment turns
 * it into a host before main).  The "driver" a personality names is an
 * empty file whose name says how the fake behaves: bus (publishes the nub
 * "knob", more on call), audio (creates device test:knob with a level
 * control, answers calls; call 4 kills it), hang (never answers START),
 * garbage (a malformed message after READY), nopong (never answers PING),
 * badtext (a device text with a bad line).  So udkd's side is tested
 * without udk-driverhost: binding, nubs, calls, controls, crashes and
 * restarts, time-outs, reloads and a clean stop.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include <udk/client.h>
#include <udk/driver-protocol.h>
#include <udk/log.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          10000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

/* --- the fake host --- */

static int host_fd = 3;
static uint32_t host_seq;
static double host_level = -6.0;

static void host_send(void *msg, uint32_t type, size_t len, uint32_t sequence)
{
        udk_msg_init(msg, type, (uint32_t)len, sequence);
        if (udk_msg_send(host_fd, msg, len, NULL, 0) < 0)
                _exit(3);
}

/* Read one message from udkd; exits when udkd hung up. */
static ssize_t host_recv(void *buf)
{
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds = 0;
        ssize_t n = udk_msg_recv(host_fd, buf, fds, &n_fds, 0);

        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
        if (n <= 0)
                _exit(4);
        return n;
}

/* A request to udkd, answered by REPLY: its status (id in *@ret_id), other messages served meanwhile. */
static void host_serve(const void *buf);
static int host_request(void *msg, uint32_t type, size_t len, udk_object_id *ret_id)
{
        union {
                struct udk_msg_header h;
                struct udk_dmsg_reply reply;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        uint32_t seq = ++host_seq;

        host_send(msg, type, len, seq);
        for (;;) {
                host_recv(&buf);
                if (buf.h.type == UDK_DMSG_REPLY && buf.h.sequence == seq) {
                        if (ret_id)
                                *ret_id = buf.reply.id;
                        if (buf.reply.status < 0) {
                                struct udk_dmsg_log l = { .level = UDK_LOG_WARN };
                                snprintf(l.text, sizeof(l.text), "refused: %s", buf.reply.message);
                                host_send(&l, UDK_DMSG_LOG, sizeof(l), 0);
                        }
                        return buf.reply.status;
                }
                host_serve(&buf);
        }
}

static void host_publish(uint32_t handle, const char *name)
{
        struct udk_dmsg_nub m = { .handle = handle, .n_props = 2 };

        udk_strlcpy(m.family, "test", sizeof(m.family));
        udk_strlcpy(m.name, name, sizeof(m.name));
        udk_strlcpy(m.props[0].key, "vendor", sizeof(m.props[0].key));
        udk_strlcpy(m.props[0].value, "0x1234", sizeof(m.props[0].value));
        udk_strlcpy(m.props[1].key, "product", sizeof(m.props[1].key));
        udk_strlcpy(m.props[1].value, "1", sizeof(m.props[1].value));
        host_request(&m, UDK_DMSG_PUBLISH_NUB, udk_dmsg_nub_size(2), NULL);
}

static const char *host_kind;
static udk_object_id host_device;

static void host_start(const struct udk_dmsg_start *start)
{
        struct udk_dmsg_status st = { .status = 0 };

        if (strcmp(host_kind, "hang") == 0)
                for (;;)
                        pause();
        if (strcmp(host_kind, "bus") == 0)
                host_publish(1, "knob");
        if (strcmp(host_kind, "audio") == 0 || strcmp(host_kind, "badtext") == 0) {
                struct udk_dmsg_device d = { 0 };
                struct udk_dmsg_control_add c = { .kind = UDK_DCONTROL_LEVEL, .min = -60, .max = 0, .value = -6 };
                /* The device is named after the nub, as the test family's driver does. */
                if (strcmp(host_kind, "audio") == 0)
                        snprintf(d.text, sizeof(d.text),
                                 "name = %s\nuid = test:%s\nrate = 48000\nperiod = 64\nchannels = 2\n",
                                 start->nub_name, start->nub_name);
                else
                        snprintf(d.text, sizeof(d.text), "name = bad\nrate = 12\n");
                d.text_size = (uint32_t)strlen(d.text) + 1;
                if (host_request(&d, UDK_DMSG_DEVICE_CREATE, udk_dmsg_device_size(d.text_size), &host_device) < 0) {
                        st.status = -EINVAL;
                        snprintf(st.message, sizeof(st.message), "no device");
                } else {
                        c.device = host_device;
                        udk_strlcpy(c.name, "level", sizeof(c.name));
                        host_request(&c, UDK_DMSG_CONTROL_ADD, sizeof(c), NULL);
                }
        }
        host_send(&st, UDK_DMSG_STARTED, sizeof(st), start->h.sequence);
        if (strcmp(host_kind, "garbage") == 0) {
                char junk[10] = "junk";
                (void)!write(host_fd, junk, sizeof(junk));
        }
}

static void host_call(const struct udk_dmsg_call *c)
{
        struct udk_dmsg_call_reply r = { .status = 0 };

        if (c->selector == 1) {
                r.n_scalars = 1;
                r.scalars[0] = (uint64_t)(int64_t)(host_level * 1000);
        } else if (c->selector == 2 && strcmp(host_kind, "bus") == 0) {
                host_publish(2, "knob2");
        } else if (c->selector == 3 && strcmp(host_kind, "bus") == 0) {
                struct udk_dmsg_nub_ref ref = { .handle = 1 };
                r.status = host_request(&ref, UDK_DMSG_REMOVE_NUB, sizeof(ref), NULL);
        } else if (c->selector == 4) {
                kill(getpid(), SIGKILL);
        } else if (c->selector == 5) {
                struct udk_dmsg_control m = { .device = host_device };
                udk_strlcpy(m.control, "level", sizeof(m.control));
                udk_strlcpy(m.value, "-3dB", sizeof(m.value));
                r.status = host_request(&m, UDK_DMSG_CONTROL_SET, sizeof(m), NULL);
        } else {
                r.status = -EOPNOTSUPP;
        }
        host_send(&r, UDK_DMSG_CALL_REPLY, udk_dmsg_call_reply_size(0), c->h.sequence);
}

static void host_serve(const void *buf)
{
        const struct udk_msg_header *h = buf;
        struct udk_msg_header m;

        switch (h->type) {
        case UDK_DMSG_START:
                host_start(buf);
                break;
        case UDK_DMSG_PING:
                if (strcmp(host_kind, "nopong") != 0)
                        host_send(&m, UDK_DMSG_PONG, sizeof(m), h->sequence);
                break;
        case UDK_DMSG_STOP: {
                struct udk_dmsg_status st = { .status = 0 };
                host_send(&st, UDK_DMSG_STOPPED, sizeof(st), h->sequence);
                _exit(0);
        }
        case UDK_DMSG_CALL:
                host_call(buf);
                break;
        case UDK_DMSG_CONTROL_CHANGED: {
                const struct udk_dmsg_control *c = buf;
                host_level = strtod(c->value, NULL);
                break;
        }
        default:
                break;
        }
}

__attribute__((constructor)) static void fake_host(void)
{
        union {
                struct udk_msg_header h;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        struct udk_dmsg_ready r = { .version = UDK_DRIVER_PROTOCOL_VERSION, .abi = 1 };
        const char *driver = NULL, *slash;
        char path[64];
        FILE *f;
        int argc = 0;
        static char args[4096];
        size_t n;

        if (!getenv("UDK_FAKE_HOST") || fcntl(3, F_GETFD) < 0)
                return;
        /* Our argv without main's: /proc/self/cmdline, the driver last. */
        f = fopen("/proc/self/cmdline", "re");
        if (!f)
                _exit(2);
        n = fread(args, 1, sizeof(args) - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i += strlen(args + i) + 1, argc++)
                driver = args + i;
        if (argc < 2 || !driver)
                _exit(2);
        slash = strrchr(driver, '/');
        udk_strlcpy(path, slash ? slash + 1 : driver, sizeof(path));
        *strchrnul(path, '.') = '\0';
        host_kind = strdup(path);
        udk_strlcpy(r.driver, host_kind, sizeof(r.driver));
        host_send(&r, UDK_DMSG_READY, sizeof(r), ++host_seq);
        for (;;) {
                host_recv(&buf);
                host_serve(&buf);
        }
}

/* --- the tests' side --- */

struct fixture {
        struct proc p;
        char drivers[64];
        struct udk_client *client;
};

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
        ASSERT_OK(close(fd));
}

#define BUS_PERSONALITY                                                                                      \
        "[personality]\nname = fake-bus\nfamily = root\nmatch.bus = test\ndriver = bus.so\n"
#define AUDIO_PERSONALITY                                                                                    \
        "[personality]\nname = fake-audio\nfamily = test\nmatch.vendor = 0x1234\ndriver = audio.so\n"

static void fixture_start(struct fixture *f, const char *personalities)
{
        static const char *const kinds[] = { "bus", "audio", "hang", "garbage", "nopong", "badtext" };
        const char *args[] = { "--drivers", f->drivers, "--verbose", NULL };
        char self[512], name[32];
        ssize_t n;

        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-supervisor-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        for (size_t i = 0; i < UDK_ELEMENTSOF(kinds); i++) {
                snprintf(name, sizeof(name), "%s.so", kinds[i]);
                write_file(f->drivers, name, "");
        }
        write_file(f->drivers, "10-fake.conf", personalities);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        ASSERT_INT_GT(n, 0);
        self[n] = '\0';
        setenv("UDK_DRIVERHOST", self, 1);
        setenv("UDK_FAKE_HOST", "1", 1);
        proc_start_server(&f->p, "[server]\nmlock = no\n[device]\nname = main\n", args);
        unsetenv("UDK_FAKE_HOST");
        ASSERT_OK(udk_client_connect("test-supervisor", f->p.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        char cmd[128];

        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->p);
        ASSERT_FALSE(strstr(f->p.err, "AddressSanitizer"));
        ASSERT_FALSE(strstr(f->p.err, "LeakSanitizer"));
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->drivers);
        ASSERT_OK(system(cmd));
}

static void test_tree_calls_controls(void)
{
        static struct fixture f;
        udk_object_id bus, audio, device, knob, root_nub;
        struct udk_msg_match_candidate *cands = NULL;
        union object o;
        size_t n = 0;
        char **errors;

        fixture_start(&f, BUS_PERSONALITY AUDIO_PERSONALITY);
        bus = wait_driver(f.client, &f.p, "root-test", "running", &o);
        ASSERT_STR_EQ(o.obj.name, "fake-bus");
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "fake-bus");
        ASSERT_INT_GT(prop_int(&o.obj, "pid"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "");
        ASSERT_OK(udk_client_find_class(f.client, "nub", "root-test", &root_nub));
        ASSERT_INT_EQ(o.obj.parent, root_nub);
        ASSERT_INT_EQ(prop_int(&o.obj, "nub"), root_nub);

        /* The bus driver's nub, under it; the audio driver on it; its device under that. */
        audio = wait_driver(f.client, &f.p, "knob", "running", &o);
        ASSERT_STR_EQ(o.obj.name, "fake-audio");
        knob = wait_object(f.client, &f.p, "nub", "knob", true);
        ASSERT_INT_EQ(o.obj.parent, knob);
        ASSERT_OK(udk_client_info(f.client, knob, &o.obj));
        ASSERT_INT_EQ(o.obj.parent, bus);
        ASSERT_STR_EQ(prop_string(&o.obj, "family"), "test");
        ASSERT_STR_EQ(prop_string(&o.obj, "vendor"), "0x1234");
        ASSERT_INT_EQ(prop_int(&o.obj, "bound"), audio);
        device = wait_object(f.client, &f.p, "device", "knob", true);
        ASSERT_OK(udk_client_info(f.client, device, &o.obj));
        ASSERT_INT_EQ(o.obj.parent, audio);
        ASSERT_STR_EQ(prop_string(&o.obj, "uid"), "test:knob");

        /* Calls; a client's control move reaches the driver, the driver's own move does not echo. */
        ASSERT_INT_EQ(call_level(f.client, audio), -6000);
        ASSERT_OK(udk_client_set_control(f.client, device, "level", "-12dB"));
        for (uint64_t deadline = now_ms() + WAIT_MS; call_level(f.client, audio) != -12000;) {
                ASSERT_TRUE(now_ms() < deadline);
                usleep(1000);
        }
        ASSERT_OK(udk_client_call(f.client, audio, 5, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL));
        ASSERT_INT_EQ(call_level(f.client, audio), -12000);
        ASSERT_ERROR(udk_client_call(f.client, audio, 99, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL), EOPNOTSUPP);
        ASSERT_ERROR(udk_client_call(f.client, knob, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL), ENOENT);

        /* Matching explained; no broken personality files. */
        ASSERT_OK(udk_client_match(f.client, knob, &cands, &n));
        ASSERT_UINT_EQ(n, 1);
        ASSERT_STR_EQ(cands[0].name, "fake-audio");
        ASSERT_UINT_EQ(cands[0].verdict, UDK_MATCH_VERDICT_WON);
        free(cands);
        ASSERT_OK(udk_client_personality_errors(f.client, &errors, &n));
        ASSERT_UINT_EQ(n, 0);
        free(errors);

        /* Hotplug through the bus driver: a second nub binds a second instance; unplugging the first
         * stops its driver and removes its device. */
        ASSERT_OK(udk_client_call(f.client, bus, 2, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL));
        wait_driver(f.client, &f.p, "knob2", "running", &o);
        ASSERT_OK(udk_client_call(f.client, bus, 3, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL));
        wait_object(f.client, &f.p, "nub", "knob", false);
        wait_object(f.client, &f.p, "device", "knob", false);
        ASSERT_ERROR(udk_client_info(f.client, audio, &o.obj), ENOENT);

        fixture_stop(&f);
        ASSERT_FALSE(strstr(f.p.err, ", a crash")); /* the supervisor's word: not a path's */
        ASSERT_STR_CONTAINS(f.p.err, "driver 'fake-bus' (pid ");
}

static int count_cycles(void *data, const struct udk_node_cycle *cycle)
{
        atomic_fetch_add((_Atomic uint64_t *)data, 1);
        return 0;
}

static void test_crash_restart_reclaim(void)
{
        static struct fixture f;
        static _Atomic uint64_t cycles;
        struct udk_client_stream_params params;
        struct udk_client_stream *stream = NULL;
        udk_object_id audio, device, bus;
        union object o;
        pid_t pid;
        int r;

        fixture_start(&f, BUS_PERSONALITY AUDIO_PERSONALITY "restart_delay = 30ms\n");
        audio = wait_driver(f.client, &f.p, "knob", "running", &o);
        pid = (pid_t)prop_int(&o.obj, "pid");
        device = wait_object(f.client, &f.p, "device", "knob", true);
        ASSERT_OK(udk_client_set_control(f.client, device, "level", "-20dB"));

        /* A call in flight when the driver dies: the distinct error; then a restart at once. */
        r = udk_client_call(f.client, audio, 4, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL);
        ASSERT_INT_EQ(r, -UDK_E_DRIVER_TERMINATED);
        ASSERT_STR_CONTAINS(udk_client_error(f.client), "driver 'fake-audio' terminated (killed by SIGKILL)");
        wait_state(f.client, &f.p, audio, "running", &o);
        ASSERT_INT_NE(prop_int(&o.obj, "pid"), pid);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 1);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 1);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        /* The same device, its control as the client left it. */
        ASSERT_INT_EQ(wait_object(f.client, &f.p, "device", "knob", true), device);
        ASSERT_OK(udk_client_info(f.client, device, &o.obj));
        ASSERT_INT_EQ(o.obj.parent, audio);

        /* The second crash waits restart_delay. */
        ASSERT_OK(udk_client_info(f.client, audio, &o.obj));
        ASSERT_OK(kill((pid_t)prop_int(&o.obj, "pid"), SIGKILL));
        wait_state(f.client, &f.p, audio, "restarting", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        ASSERT_INT_LE(prop_int(&o.obj, "restart_in_ms"), 30);
        wait_state(f.client, &f.p, audio, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);

        /* A bus driver's crash takes its nubs and their drivers (and devices) along; its restart
         * finds them again. */
        bus = wait_driver(f.client, &f.p, "root-test", "running", &o);
        pid = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_OK(kill(pid, SIGKILL));
        do
                wait_state(f.client, &f.p, bus, "running", &o);
        while (prop_int(&o.obj, "pid") == pid);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 1);
        ASSERT_INT_NE(wait_driver(f.client, &f.p, "knob", "running", &o), audio);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);

        /* Stop keeps the object and removes the device, closing its client's stream; start brings
         * both back. */
        audio = wait_driver(f.client, &f.p, "knob", "running", &o);
        device = wait_object(f.client, &f.p, "device", "knob", true);
        udk_client_stream_params_defaults(&params);
        params.device = device;
        params.output_channels = 0;
        ASSERT_OK(udk_client_open(f.client, &params, count_cycles, &cycles, &stream));
        ASSERT_OK(udk_client_stream_wait_running(stream, WAIT_MS));
        ASSERT_OK(udk_client_driver_control(f.client, audio, UDK_DRIVER_STOP));
        wait_state(f.client, &f.p, audio, "stopped", &o);
        for (uint64_t deadline = now_ms() + WAIT_MS; udk_client_stream_state(stream) != UDK_NODE_CLOSED;) {
                ASSERT_TRUE(now_ms() < deadline);
                ASSERT_OK(udk_client_ping(f.client));
                usleep(2000);
        }
        ASSERT_UINT_GE(atomic_load(&cycles), 1);
        udk_client_close(stream);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        wait_object(f.client, &f.p, "device", "knob", false);
        ASSERT_ERROR(udk_client_driver_control(f.client, audio, UDK_DRIVER_STOP), EALREADY);
        ASSERT_OK(udk_client_driver_control(f.client, audio, UDK_DRIVER_START));
        wait_state(f.client, &f.p, audio, "running", &o);
        wait_object(f.client, &f.p, "device", "knob", true);
        pid = (pid_t)prop_int(&o.obj, "pid");
        ASSERT_OK(udk_client_driver_control(f.client, audio, UDK_DRIVER_RESTART));
        do
                wait_state(f.client, &f.p, audio, "running", &o);
        while (prop_int(&o.obj, "pid") == pid);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);

        fixture_stop(&f);
}

static void test_time_outs_and_breaches(void)
{
        static struct fixture f;
        union object o;

        fixture_start(&f, BUS_PERSONALITY
                      "[personality]\nname = fake-hang\nfamily = test\nmatch.vendor = 0x1234\n"
                      "driver = hang.so\nstart_timeout = 100ms\nrestart_limit = 1/10min\n");
        wait_driver(f.client, &f.p, "knob", "failed", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 2);
        ASSERT_INT_EQ(prop_int(&o.obj, "pid"), 0);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "start time-out");
        fixture_stop(&f);

        fixture_start(&f, BUS_PERSONALITY
                      "[personality]\nname = fake-nopong\nfamily = test\nmatch.vendor = 0x1234\n"
                      "driver = nopong.so\nheartbeat = 20ms\nrestart = no\n");
        wait_driver(f.client, &f.p, "knob", "failed", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "heartbeat time-out");
        fixture_stop(&f);

        fixture_start(&f, BUS_PERSONALITY
                      "[personality]\nname = fake-garbage\nfamily = test\nmatch.vendor = 0x1234\n"
                      "driver = garbage.so\nrestart = no\n");
        wait_driver(f.client, &f.p, "knob", "failed", &o);
        ASSERT_STR_CONTAINS(prop_string(&o.obj, "last_exit"), "a malformed message");
        fixture_stop(&f);

        /* A device text with a bad line: refused with the line, the driver's start fails. */
        fixture_start(&f, BUS_PERSONALITY
                      "[personality]\nname = fake-badtext\nfamily = test\nmatch.vendor = 0x1234\n"
                      "driver = badtext.so\nrestart = no\n");
        wait_driver(f.client, &f.p, "knob", "failed", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "start failed: no device");
        fixture_stop(&f);
        ASSERT_STR_CONTAINS(f.p.err, "driver 'fake-badtext': refused: device text:2: rate 12 out of range (8000..192000)");
}

static void test_reload(void)
{
        static struct fixture f;
        udk_object_id knob, audio;
        union object o;
        char **errors;
        size_t n;

        /* No driver for the knob at first. */
        fixture_start(&f, BUS_PERSONALITY);
        wait_driver(f.client, &f.p, "root-test", "running", &o);
        knob = wait_object(f.client, &f.p, "nub", "knob", true);
        ASSERT_OK(udk_client_info(f.client, knob, &o.obj));
        ASSERT_INT_EQ(prop_int(&o.obj, "bound"), 0);

        /* A personality appears: the unbound nub is matched again. */
        write_file(f.drivers, "20-audio.conf", AUDIO_PERSONALITY);
        audio = wait_driver(f.client, &f.p, "knob", "running", &o);
        wait_object(f.client, &f.p, "device", "knob", true);
        wait_object(f.client, &f.p, "personality", "fake-audio", true);

        /* A broken file is reported with its line; the running drivers are untouched. */
        write_file(f.drivers, "30-broken.conf", "[personality]\nname = b\nfamily = firewire\n");
        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                ASSERT_OK(udk_client_personality_errors(f.client, &errors, &n));
                if (n == 1)
                        break;
                free(errors);
                ASSERT_TRUE(now_ms() < deadline);
                usleep(2000);
        }
        ASSERT_STR_CONTAINS(errors[0], "30-broken.conf:3: unknown family 'firewire'");
        free(errors);
        wait_state(f.client, &f.p, audio, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);

        /* Its personality gone, the driver stops and goes, with its device. */
        write_file(f.drivers, "20-audio.conf", "# nothing\n[personality]\nname = x\nfamily = usb\ndriver = bus.so\n");
        wait_object(f.client, &f.p, "device", "knob", false);
        ASSERT_ERROR(udk_client_info(f.client, audio, &o.obj), ENOENT);
        ASSERT_OK(udk_client_info(f.client, knob, &o.obj));
        ASSERT_INT_EQ(prop_int(&o.obj, "bound"), 0);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_tree_calls_controls, test_crash_restart_reclaim, test_time_outs_and_breaches, test_reload)
