/* SPDX-License-Identifier: MIT */
/*
 * The serial family end to end on a pseudo-terminal: the test opens a pty,
 * names its slave in the serial bus driver's personality (property.ttys),
 * and plays the fader box on the master.  udkd runs the real bus driver
 * (sandboxed, sandbox = udev) and the example driver fader, which binds
 * the pty's nub, gets the slave opened by udkd and creates its audio
 * device: a line on the master moves the device's control, udkctl set of
 * the control writes a command on the master, noise is a warning only,
 * and closing the master stops the driver cleanly.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pty.h>
#include <stdint.h>
#include <sys/stat.h>
#include <termios.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#define WAIT_MS          15000
#define REGISTRY_WAIT_MS WAIT_MS

#include "udk-test-udkd.h"
#include "udk-test-registry.h"

static const char *env_dir(const char *key)
{
        const char *dir = getenv(key);

        if (!dir || !*dir)
                UDK_TEST_SKIP("%s is not set (run through meson test)", key);
        return dir;
}

struct fixture {
        struct proc udkd;
        struct udk_client *client;
        char drivers[64];
        int master;
        char slave[64]; /* /dev/pts/N */
        char nub[64];   /* pts-N */
        char uid[80];   /* fader:pts-N */
};

/* A pty, and a drivers folder: the serial bus naming its slave, fader matching it (@more appended). */
static void fixture_start(struct fixture *f, const char *more)
{
        const char *args[] = { "--drivers", f->drivers, "--verbose", NULL };
        char path[128], text[2048];
        int slave;

        ASSERT_OK(openpty(&f->master, &slave, f->slave, NULL, NULL));
        /* The driver opens it through udkd; the test keeps only the master. */
        ASSERT_OK(close(slave));
        ASSERT_OK(fcntl(f->master, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(f->master, F_SETFD, FD_CLOEXEC));
        ASSERT_TRUE(strncmp(f->slave, "/dev/pts/", 9) == 0);
        snprintf(f->nub, sizeof(f->nub), "pts-%s", f->slave + 9);
        snprintf(f->uid, sizeof(f->uid), "fader:%s", f->nub);

        snprintf(f->drivers, sizeof(f->drivers), "/tmp/udk-serial-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->drivers) != NULL);
        snprintf(path, sizeof(path), "%s/00-serial-bus.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = serial-bus\nfamily = root\nmatch.bus = serial\n"
                 "driver = %s/udk-driver-serial-bus.so\nsandbox = udev\nproperty.ttys = %s\n",
                 env_dir("UDK_TEST_SERIAL_DIR"), f->slave);
        test_write_file(path, text);
        snprintf(path, sizeof(path), "%s/10-fader.conf", f->drivers);
        snprintf(text, sizeof(text),
                 "[personality]\nname = fader\nfamily = serial\nmatch.devnode = %s\n"
                 "driver = %s/udk-driver-fader.so\n%s",
                 f->slave, env_dir("UDK_TEST_SERIAL_EXAMPLE_DIR"), more);
        test_write_file(path, text);
        proc_start_server(&f->udkd, "[server]\nmlock = no\n", args);
        ASSERT_OK(udk_client_connect("test-serial", f->udkd.socket, &f->client));
}

static void fixture_stop(struct fixture *f)
{
        char path[128];

        f->client = udk_client_disconnect(f->client);
        proc_stop_server(&f->udkd);
        ASSERT_FALSE(strstr(f->udkd.err, "AddressSanitizer"));
        if (f->master >= 0)
                close(f->master);
        snprintf(path, sizeof(path), "%s/00-serial-bus.conf", f->drivers);
        unlink(path);
        snprintf(path, sizeof(path), "%s/10-fader.conf", f->drivers);
        unlink(path);
        rmdir(f->drivers);
}

/* Read from the master until @expect has come whole (bounded); what came must be exactly it. */
static void master_expect(struct fixture *f, const char *expect)
{
        char got[256];
        size_t len = 0, want = strlen(expect);
        uint64_t deadline = now_ms() + WAIT_MS;

        while (len < want) {
                struct pollfd pfd = { .fd = f->master, .events = POLLIN };
                ssize_t n;

                if (now_ms() >= deadline)
                        udk_test_fail("the master got \"%.*s\", not \"%s\", within %d ms; stderr: %s",
                                      (int)len, got, expect, WAIT_MS, f->udkd.err);
                proc_pump(&f->udkd, 0);
                if (poll(&pfd, 1, 5) <= 0)
                        continue;
                n = read(f->master, got + len, want - len);
                if (n > 0)
                        len += (size_t)n;
        }
        got[len] = '\0';
        ASSERT_STR_EQ(got, expect);
        /* Nothing more behind it. */
        usleep(50 * 1000);
        ASSERT_INT_EQ(read(f->master, got, sizeof(got)), -1);
        ASSERT_INT_EQ(errno, EAGAIN);
}

static void master_write(struct fixture *f, const void *buf, size_t len)
{
        ASSERT_INT_EQ(write(f->master, buf, len), (long long)len);
}

/* The control @name of @device: its value as udkctl prints it, and its dB. */
static void control_get(struct fixture *f, udk_object_id device, const char *name, char *value, size_t size,
                        double *db)
{
        struct udk_msg_object *objects = NULL;
        bool found = false;
        size_t n = 0;

        ASSERT_OK(udk_client_list(f->client, device, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                const struct udk_prop *p = udk_msg_object_prop(o, "db");

                if (o->parent != device || strcmp(o->klass, "control") != 0 || strcmp(o->name, name) != 0)
                        continue;
                ASSERT_TRUE(prop_string(o, "value") != NULL && p && p->type == UDK_PROP_DOUBLE);
                udk_strlcpy(value, prop_string(o, "value"), size);
                *db = p->d;
                found = true;
        }
        free(objects);
        if (!found)
                udk_test_fail("device %" PRIu32 " has no control %s", device, name);
}

static void wait_control(struct fixture *f, udk_object_id device, const char *name, const char *value,
                         double db)
{
        char now[64];
        double now_db = 0;

        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                control_get(f, device, name, now, sizeof(now), &now_db);
                if (strcmp(now, value) == 0)
                        break;
                if (now_ms() >= deadline)
                        udk_test_fail("%s is %s, not %s, after %d ms; stderr: %s", name, now, value, WAIT_MS,
                                      f->udkd.err);
                proc_pump(&f->udkd, 2);
        }
        ASSERT_FLOAT_EQ(now_db, db);
}

/* udkctl --socket SOCKET set UID volume VALUE, to its end. */
static int ctl_set(struct fixture *f, const char *value, struct proc *c)
{
        const char *argv[] = {
                env_dir("UDKCTL"), "--socket", f->udkd.socket, "set", f->uid, "volume", value, NULL
        };
        int out[2], err[2];

        memset(c, 0, sizeof(*c));
        ASSERT_OK(pipe2(out, O_CLOEXEC));
        ASSERT_OK(pipe2(err, O_CLOEXEC));
        fflush(NULL);
        c->pid = fork();
        ASSERT_OK(c->pid);
        if (c->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(out[1], STDOUT_FILENO);
                dup2(err[1], STDERR_FILENO);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        c->out_fd = out[0];
        c->err_fd = err[0];
        ASSERT_OK(fcntl(c->out_fd, F_SETFL, O_NONBLOCK));
        ASSERT_OK(fcntl(c->err_fd, F_SETFL, O_NONBLOCK));
        proc_finish(c, WAIT_MS);
        return proc_exit_status(c);
}

static void test_fader_end_to_end(void)
{
        static struct fixture f;
        static struct proc c;
        static const unsigned char noise[] = { 0x00, 0xff, 0x13, 0x9b, 'V',  'O', 'L', 0x07, 0x1b, '[',
                                               '2',  'J',  0x80, 0xfe, 0x01, '-', '6', 0x7f, '\n' };
        char overlong[200];
        udk_object_id driver, device;
        union object o;

        fixture_start(&f, "");
        /* Matched and started on the pty's nub, the slave handed over by udkd. */
        driver = wait_driver(f.client, &f.udkd, f.nub, "running", &o);
        ASSERT_STR_EQ(prop_string(&o.obj, "personality"), "fader");
        device = wait_object(f.client, &f.udkd, "device", f.uid, true);
        /* Its first words to the box. */
        master_expect(&f, "GET VOL\n");
        wait_control(&f, device, "volume", "-12.0 dB", -12.0);

        /* The box's fader moves: the control follows, exactly, and the gain handler with it. */
        master_write(&f, "VOL -6\n", 7);
        wait_control(&f, device, "volume", "-6.0 dB", -6.0);
        wait_control(&f, device, "gain.level", "-6.0 dB", -6.0);
        master_write(&f, "VOL -12.5\r\n", 11);
        wait_control(&f, device, "volume", "-12.5 dB", -12.5);

        /* A client moves the control: the box is told, in exactly these words. */
        ASSERT_INT_EQ(ctl_set(&f, "-20", &c), 0);
        master_expect(&f, "SET VOL -20.0\n");
        wait_control(&f, device, "gain.level", "-20.0 dB", -20.0);

        /* Noise: bytes that are not text, a line too long, a command that is none, a level out of range.
         * Each is a warning; the control stays; the next good line still works. */
        master_write(&f, noise, sizeof(noise));
        proc_wait_stderr(&f.udkd,
                         "driver 'fader': noise on the line (bytes that are not text): a line dropped",
                         WAIT_MS);
        memset(overlong, 'A', sizeof(overlong));
        master_write(&f, overlong, sizeof(overlong));
        master_write(&f, "\n", 1);
        proc_wait_stderr(&f.udkd, "driver 'fader': a line longer than 64 bytes: dropped", WAIT_MS);
        master_write(&f, "HELLO\nVOL -99\n", 14);
        proc_wait_stderr(&f.udkd, "driver 'fader': the box said 'HELLO': not a command: ignored", WAIT_MS);
        proc_wait_stderr(&f.udkd,
                         "driver 'fader': the box said 'VOL -99': not a level in dB (-60..0): ignored",
                         WAIT_MS);
        wait_control(&f, device, "volume", "-20.0 dB", -20.0);
        master_write(&f, "VOL -3\n", 7);
        wait_control(&f, device, "volume", "-3.0 dB", -3.0);
        wait_state(f.client, &f.udkd, driver, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 0);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);

        /* The box goes (the master closes): the driver stops itself, cleanly; its device goes. */
        ASSERT_OK(close(f.master));
        f.master = -1;
        wait_state(f.client, &f.udkd, driver, "stopped", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "crashes"), 0);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "exit 0");
        wait_object(f.client, &f.udkd, "device", f.uid, false);
        proc_wait_stderr(&f.udkd, "driver 'fader': the box is gone (the line hung up)", WAIT_MS);
        fixture_stop(&f);
        ASSERT_FALSE(strstr(f.udkd.err, "a crash"));
}

/* The bus driver killed: it comes back, publishes the pty once more (once), and fader binds it again. */
static void test_bus_crash(void)
{
        static struct fixture f;
        udk_object_id bus, first, again;
        struct udk_msg_object *objects = NULL;
        size_t n = 0, named = 0;
        union object o;

        fixture_start(&f, "");
        bus = wait_driver(f.client, &f.udkd, "root-serial", "running", &o);
        first = wait_driver(f.client, &f.udkd, f.nub, "running", &o);
        master_expect(&f, "GET VOL\n");
        ASSERT_OK(udk_client_info(f.client, bus, &o.obj));
        ASSERT_OK(kill((pid_t)prop_int(&o.obj, "pid"), SIGKILL));
        for (uint64_t deadline = now_ms() + WAIT_MS;;) {
                again = driver_of(f.client, f.nub);
                if (again && again != first && udk_client_info(f.client, again, &o.obj) == 0 &&
                    strcmp(prop_string(&o.obj, "state"), "running") == 0)
                        break;
                if (now_ms() >= deadline)
                        udk_test_fail("no fader running on the nub again after %d ms; stderr: %s", WAIT_MS,
                                      f.udkd.err);
                proc_pump(&f.udkd, 2);
        }
        wait_state(f.client, &f.udkd, bus, "running", &o);
        ASSERT_INT_EQ(prop_int(&o.obj, "restarts"), 1);
        ASSERT_STR_EQ(prop_string(&o.obj, "last_exit"), "killed by SIGKILL");
        /* The new fader asks again. */
        master_expect(&f, "GET VOL\n");
        /* One nub for the pty, not two. */
        ASSERT_OK(udk_client_list(f.client, 1, &objects, &n));
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);

                named += strcmp(obj->klass, "nub") == 0 && strcmp(obj->name, f.nub) == 0;
        }
        free(objects);
        ASSERT_UINT_EQ(named, 1);
        wait_object(f.client, &f.udkd, "device", f.uid, true);
        fixture_stop(&f);
}

/* property.line reaches the tty: the slave's termios (shared by every open of it) say so. */
static void test_line_config(void)
{
        static struct fixture f;
        struct termios t;
        union object o;
        int fd;

        fixture_start(&f, "property.line = 57600 8N2 rtscts\n");
        wait_driver(f.client, &f.udkd, f.nub, "running", &o);
        master_expect(&f, "GET VOL\n");
        fd = open(f.slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_OK(tcgetattr(fd, &t));
        ASSERT_UINT_EQ(cfgetospeed(&t), B57600);
        ASSERT_UINT_EQ(cfgetispeed(&t), B57600);
        ASSERT_UINT_EQ(t.c_cflag & CSIZE, CS8);
        ASSERT_UINT_EQ(t.c_cflag & PARENB, 0);
        ASSERT_UINT_EQ(t.c_cflag & CSTOPB, CSTOPB);
        ASSERT_UINT_EQ(t.c_cflag & CRTSCTS, CRTSCTS);
        ASSERT_UINT_EQ(t.c_iflag & (IXON | IXOFF), 0);
        /* Raw: no echo, no line editing, no signals, no output processing. */
        ASSERT_UINT_EQ(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0);
        ASSERT_UINT_EQ(t.c_oflag & OPOST, 0);
        ASSERT_OK(close(fd));
        fixture_stop(&f);
}

/* What the tty did not take is refused, not ignored: a pseudo-terminal keeps 8 data bits. */
static void test_line_not_taken(void)
{
        static struct fixture f;
        char sentence[160];
        union object o;

        fixture_start(&f, "property.line = 57600 7E1\nrestart = no\n");
        wait_driver(f.client, &f.udkd, f.nub, "failed", &o);
        snprintf(sentence, sizeof(sentence), "driver 'fader': %s: the tty kept 8 data bits (asked for 7)\n",
                 f.slave);
        proc_wait_stderr(&f.udkd, sentence, WAIT_MS);
        fixture_stop(&f);
}

/* A serial line termios cannot do: the driver's start fails with a sentence that names it. */
static void test_bad_line(void)
{
        static struct fixture f;
        union object o;

        fixture_start(&f, "property.line = 12345 8N1\nrestart = no\n");
        wait_driver(f.client, &f.udkd, f.nub, "failed", &o);
        proc_wait_stderr(&f.udkd,
                         "property.line: serial line '12345 8N1': '12345' is not a standard baud rate",
                         WAIT_MS);
        fixture_stop(&f);
}

UDK_TEST_MAIN(test_fader_end_to_end, test_bus_crash, test_line_config, test_line_not_taken, test_bad_line)
