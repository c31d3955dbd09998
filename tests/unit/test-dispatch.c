/* SPDX-License-Identifier: MIT */
/*
 * The driver SDK's dispatch queue: timers (one-shot, periodic on their
 * grid, re-armed, disarmed), fd sources (level-triggered), eventfd signals
 * from another thread, data queues fed by another thread and another
 * process, actions completed by hand and by io_uring reads and writes,
 * and the ring's opcode restrictions.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <liburing.h>

#include <udk/driver-host.h>
#include <udk/driver.h>
#include <udk/util.h>

#include "udk-test.h"

#define MS 1000000ull

static struct udk_dispatch_queue *queue_new(void)
{
        struct udk_dispatch_queue *q = NULL;

        ASSERT_OK(udk_dispatch_queue_create(&q));
        ASSERT_NOT_NULL(q);
        return q;
}

/* Run @q until *@flag is true, at most @timeout_ms. */
static void run_until(struct udk_dispatch_queue *q, const bool *flag, unsigned timeout_ms)
{
        uint64_t end = udk_dispatch_now() + timeout_ms * MS;

        while (!*flag) {
                uint64_t now = udk_dispatch_now();
                if (now >= end)
                        udk_test_fail("not done after %u ms", timeout_ms);
                ASSERT_OK(udk_dispatch_queue_run_once(q, end - now));
        }
}

/* Run @q for @ms whatever happens. */
static void run_for(struct udk_dispatch_queue *q, unsigned ms)
{
        uint64_t end = udk_dispatch_now() + ms * MS;

        for (uint64_t now = udk_dispatch_now(); now < end; now = udk_dispatch_now())
                ASSERT_OK(udk_dispatch_queue_run_once(q, end - now));
}

static void sleep_until(uint64_t ns)
{
        struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

struct timer_log {
        uint64_t at[16];
        unsigned n;
        uint64_t sleep_until; /* the first callback holds the queue until then */
        bool done;
        unsigned want;
        struct udk_dispatch_source *source;
};

static void on_timer(void *data, struct udk_dispatch_source *source)
{
        struct timer_log *log = data;

        ASSERT_PTR_EQ(source, log->source);
        if (log->n < UDK_ELEMENTSOF(log->at))
                log->at[log->n] = udk_dispatch_now();
        log->n++;
        if (log->n == 1 && log->sleep_until)
                sleep_until(log->sleep_until);
        if (log->n >= log->want)
                log->done = true;
}

static void test_timer_oneshot(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct timer_log log = { .want = 1 };
        uint64_t deadline = udk_dispatch_now() + 30 * MS;

        ASSERT_OK(udk_dispatch_timer_create(q, deadline, 0, on_timer, &log, &log.source));
        run_until(q, &log.done, 2000);
        ASSERT_UINT_EQ(log.n, 1);
        ASSERT_UINT_GE(log.at[0], deadline);
        /* Once means once. */
        run_for(q, 80);
        ASSERT_UINT_EQ(log.n, 1);

        /* Re-armed, it fires again; disarmed (deadline 0), never. */
        log.done = false;
        log.want = 2;
        deadline = udk_dispatch_now() + 20 * MS;
        ASSERT_OK(udk_dispatch_timer_set(log.source, deadline, 0));
        run_until(q, &log.done, 2000);
        ASSERT_UINT_GE(log.at[1], deadline);
        ASSERT_OK(udk_dispatch_timer_set(log.source, udk_dispatch_now() + 20 * MS, 0));
        ASSERT_OK(udk_dispatch_timer_set(log.source, 0, 0));
        run_for(q, 80);
        ASSERT_UINT_EQ(log.n, 2);
        udk_dispatch_source_destroy(log.source);
        udk_dispatch_queue_destroy(q);
}

/*
 * A periodic timer on the grid deadline + k * interval: the first callback
 * holds the queue past two grid points; the queue fires once for both,
 * then on the grid again.
 */
static void test_timer_periodic_grid(void)
{
        const uint64_t interval = 50 * MS;
        struct udk_dispatch_queue *q = queue_new();
        struct timer_log log = { .want = 5 };
        uint64_t d = udk_dispatch_now() + 50 * MS;

        log.sleep_until = d + 125 * MS; /* misses d + 50 and d + 100 */
        ASSERT_OK(udk_dispatch_timer_create(q, d, interval, on_timer, &log, &log.source));
        run_until(q, &log.done, 5000);
        udk_dispatch_source_destroy(log.source);
        udk_dispatch_queue_destroy(q);

        ASSERT_UINT_GE(log.at[0], d);
        ASSERT_UINT_GE(log.at[1], d + 125 * MS);
        if (log.at[1] >= d + 150 * MS)
                UDK_TEST_RETRY("the late fire came %.1f ms after the sleep", (log.at[1] - d - 125 * MS) / 1e6);
        /* The missed fires came as one: the next is on the grid, not at once. */
        ASSERT_UINT_GE(log.at[2], d + 3 * interval);
        ASSERT_UINT_GE(log.at[3], d + 4 * interval);
        ASSERT_UINT_GE(log.at[4], d + 5 * interval);
        if (log.at[4] >= d + 6 * interval)
                UDK_TEST_RETRY("the machine held the queue a whole period");
}

struct fd_log {
        int fd;
        unsigned n;
        uint32_t events;
        bool consume;
        bool done;
};

static void on_fd(void *data, struct udk_dispatch_source *source)
{
        struct fd_log *log = data;
        char c;

        log->n++;
        log->events = udk_dispatch_source_events(source);
        ASSERT_INT_EQ(udk_dispatch_source_fd(source), log->fd);
        if (log->consume)
                ASSERT_INT_EQ(read(log->fd, &c, 1), 1);
        log->done = true;
}

static void test_fd_source(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct udk_dispatch_source *rs, *ws;
        struct fd_log r = { 0 }, w = { 0 };
        int p[2];

        ASSERT_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
        r.fd = p[0];
        w.fd = p[1];
        ASSERT_OK(udk_dispatch_fd_create(q, p[0], UDK_DISPATCH_READABLE, on_fd, &r, &rs));
        ASSERT_ERROR(udk_dispatch_fd_create(q, -1, UDK_DISPATCH_READABLE, on_fd, &r, &rs), EBADF);
        ASSERT_ERROR(udk_dispatch_fd_create(q, p[0], 0, on_fd, &r, &rs), EINVAL);

        /* Nothing to read: no callback. */
        run_for(q, 30);
        ASSERT_UINT_EQ(r.n, 0);

        /* Level-triggered: a byte left unread wakes the source again and again. */
        ASSERT_INT_EQ(write(p[1], "x", 1), 1);
        run_until(q, &r.done, 2000);
        ASSERT_UINT_EQ(r.events, UDK_DISPATCH_READABLE);
        r.done = false;
        run_until(q, &r.done, 2000);
        ASSERT_UINT_GE(r.n, 2);
        r.consume = true;
        r.done = false;
        run_until(q, &r.done, 2000);
        {
                unsigned n = r.n;
                run_for(q, 30);
                ASSERT_UINT_EQ(r.n, n);
        }

        /* A pipe with room is writable. */
        ASSERT_OK(udk_dispatch_fd_create(q, p[1], UDK_DISPATCH_WRITABLE, on_fd, &w, &ws));
        run_until(q, &w.done, 2000);
        ASSERT_UINT_EQ(w.events, UDK_DISPATCH_WRITABLE);
        udk_dispatch_source_destroy(ws);

        /* Destroyed with its poll in flight: never called again (ASan watches the free). */
        udk_dispatch_source_destroy(rs);
        ASSERT_INT_EQ(write(p[1], "y", 1), 1);
        {
                unsigned n = r.n;
                run_for(q, 30);
                ASSERT_UINT_EQ(r.n, n);
        }
        udk_dispatch_queue_destroy(q);
        close(p[0]);
        close(p[1]);
}

struct event_log {
        _Atomic unsigned sent;
        unsigned runs;
        bool done;
        struct udk_dispatch_source *source;
};

static void on_event(void *data, struct udk_dispatch_source *source)
{
        struct event_log *log = data;

        log->runs++;
        if (atomic_load(&log->sent) == 3)
                log->done = true;
}

static void *signal_thread(void *arg)
{
        struct event_log *log = arg;

        for (int i = 0; i < 3; i++) {
                usleep(5000);
                ASSERT_OK(udk_dispatch_signal(log->source));
                atomic_fetch_add(&log->sent, 1);
        }
        return NULL;
}

static void test_event_signal_thread(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct event_log log = { 0 };
        pthread_t t;

        ASSERT_OK(udk_dispatch_event_create(q, on_event, &log, &log.source));
        ASSERT_OK(udk_dispatch_source_fd(log.source));
        ASSERT_INT_EQ(pthread_create(&t, NULL, signal_thread, &log), 0);
        run_until(q, &log.done, 5000);
        ASSERT_INT_EQ(pthread_join(t, NULL), 0);
        ASSERT_UINT_GE(log.runs, 1);
        ASSERT_UINT_LE(log.runs, 3);

        /* Signals before the queue runs come as one callback. */
        log.runs = 0;
        for (int i = 0; i < 4; i++)
                ASSERT_OK(udk_dispatch_signal(log.source));
        run_for(q, 30);
        ASSERT_UINT_EQ(log.runs, 1);
        udk_dispatch_source_destroy(log.source);
        udk_dispatch_queue_destroy(q);
}

#define RECORDS 2000

struct record {
        uint32_t seq;
        uint32_t check;
        uint64_t pad;
};

struct data_log {
        struct udk_data_queue *dq;
        uint32_t next;
        unsigned wakes;
        bool done;
};

static void on_data(void *data, struct udk_dispatch_source *source)
{
        struct data_log *log = data;
        struct record r;

        log->wakes++;
        while (udk_data_queue_dequeue(log->dq, &r) == 0) {
                ASSERT_UINT_EQ(r.seq, log->next);
                ASSERT_UINT_EQ(r.check, r.seq * 3u + 1u);
                log->next++;
        }
        if (log->next == RECORDS)
                log->done = true;
}

static void produce(struct udk_data_queue *dq)
{
        for (uint32_t i = 0; i < RECORDS; i++) {
                struct record r = { .seq = i, .check = i * 3u + 1u };
                int e;
                while ((e = udk_data_queue_enqueue(dq, &r)) == -ENOSPC)
                        sched_yield();
                ASSERT_OK(e);
        }
}

static void *producer_thread(void *arg)
{
        produce(arg);
        return NULL;
}

static void test_data_queue_thread(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct udk_dispatch_source *s;
        struct data_log log = { 0 };
        struct record r = { 0 };
        pthread_t t;

        ASSERT_OK(udk_data_queue_create(64, sizeof(struct record), &log.dq));
        ASSERT_ERROR(udk_data_queue_dequeue(log.dq, &r), EAGAIN);
        ASSERT_OK(udk_dispatch_data_create(q, log.dq, on_data, &log, &s));
        ASSERT_INT_EQ(pthread_create(&t, NULL, producer_thread, log.dq), 0);
        run_until(q, &log.done, 10000);
        ASSERT_INT_EQ(pthread_join(t, NULL), 0);
        ASSERT_UINT_EQ(log.next, RECORDS);
        ASSERT_UINT_GE(log.wakes, 1);

        /* Full is -ENOSPC. */
        for (int i = 0; i < 64; i++)
                ASSERT_OK(udk_data_queue_enqueue(log.dq, &r));
        ASSERT_ERROR(udk_data_queue_enqueue(log.dq, &r), ENOSPC);
        udk_dispatch_source_destroy(s);
        udk_data_queue_destroy(log.dq);
        udk_dispatch_queue_destroy(q);
}

static void test_data_queue_process(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct udk_dispatch_source *s;
        struct data_log log = { 0 };
        struct udk_data_queue *other;
        int memfd, efd, status, plain;
        pid_t pid;

        ASSERT_OK(udk_data_queue_create(32, sizeof(struct record), &log.dq));
        ASSERT_OK(udk_data_queue_fds(log.dq, &memfd, &efd));

        /* The attaching side trusts its own sizes: other ones, or an unsealed file, are refused. */
        ASSERT_ERROR(udk_data_queue_attach(memfd, efd, 33, sizeof(struct record), &other), EPROTO);
        ASSERT_ERROR(udk_data_queue_attach(memfd, efd, 32, 8, &other), EPROTO);
        plain = memfd_create("plain", MFD_CLOEXEC);
        ASSERT_OK(plain);
        ASSERT_OK(ftruncate(plain, 65536));
        ASSERT_ERROR(udk_data_queue_attach(plain, efd, 32, sizeof(struct record), &other), EPERM);
        close(plain);

        ASSERT_OK(udk_dispatch_data_create(q, log.dq, on_data, &log, &s));
        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                struct udk_data_queue *dq = NULL;
                if (udk_data_queue_attach(memfd, efd, 32, sizeof(struct record), &dq) < 0)
                        _exit(2);
                produce(dq);
                udk_data_queue_destroy(dq);
                _exit(0);
        }
        run_until(q, &log.done, 10000);
        ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_INT_EQ(WEXITSTATUS(status), 0);
        ASSERT_UINT_EQ(log.next, RECORDS);
        udk_dispatch_source_destroy(s);
        udk_data_queue_destroy(log.dq);
        udk_dispatch_queue_destroy(q);
}

struct action_log {
        int result;
        unsigned n;
        bool done;
        struct udk_action *action;
};

static void on_action(void *data, struct udk_action *action, int result)
{
        struct action_log *log = data;

        ASSERT_PTR_EQ(action, log->action);
        log->result = result;
        log->n++;
        log->done = true;
}

static void *complete_thread(void *arg)
{
        struct action_log *log = arg;

        usleep(10000);
        ASSERT_OK(udk_action_complete(log->action, 42));
        return NULL;
}

static void test_action_complete(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct action_log log = { 0 }, other = { 0 };
        pthread_t t;

        ASSERT_OK(udk_action_create(q, on_action, &log, &log.action));
        ASSERT_INT_EQ(pthread_create(&t, NULL, complete_thread, &log), 0);
        run_until(q, &log.done, 5000);
        ASSERT_INT_EQ(pthread_join(t, NULL), 0);
        ASSERT_INT_EQ(log.result, 42);
        ASSERT_UINT_EQ(log.n, 1);

        /* One completion at a time: a second before the first ran is -EBUSY. */
        log.done = false;
        ASSERT_OK(udk_action_complete(log.action, -EIO));
        ASSERT_ERROR(udk_action_complete(log.action, 7), EBUSY);
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, -EIO);
        ASSERT_UINT_EQ(log.n, 2);

        /* Destroyed while queued: its callback never runs. */
        ASSERT_OK(udk_action_create(q, on_action, &other, &other.action));
        ASSERT_OK(udk_action_complete(other.action, 1));
        udk_action_destroy(other.action);
        run_for(q, 30);
        ASSERT_UINT_EQ(other.n, 0);

        udk_action_destroy(log.action);
        udk_dispatch_queue_destroy(q);
}

static void test_async_read_write(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct action_log log = { 0 };
        char buf[16] = "";
        int fd, p[2];

        fd = memfd_create("dispatch-read", MFD_CLOEXEC);
        ASSERT_OK(fd);
        ASSERT_INT_EQ(write(fd, "hello, queue", 12), 12);
        ASSERT_OK(udk_action_create(q, on_action, &log, &log.action));

        /* At an offset. */
        ASSERT_OK(udk_dispatch_read(q, fd, buf, 5, 7, log.action));
        ASSERT_ERROR(udk_dispatch_read(q, fd, buf, 5, 0, log.action), EBUSY);
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, 5);
        ASSERT_TRUE(memcmp(buf, "queue", 5) == 0);

        /* At the file's position (-1), which the read moves. */
        ASSERT_INT_EQ(lseek(fd, 0, SEEK_SET), 0);
        log.done = false;
        ASSERT_OK(udk_dispatch_read(q, fd, buf, 5, -1, log.action));
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, 5);
        ASSERT_TRUE(memcmp(buf, "hello", 5) == 0);
        ASSERT_INT_EQ(lseek(fd, 0, SEEK_CUR), 5);

        /* A write into a pipe, read back. */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        log.done = false;
        ASSERT_OK(udk_dispatch_write(q, p[1], "abc", 3, -1, log.action));
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, 3);
        memset(buf, 0, sizeof(buf));
        ASSERT_INT_EQ(read(p[0], buf, sizeof(buf)), 3);
        ASSERT_STR_EQ(buf, "abc");

        /* An error is the result: a read of a write-only end. */
        log.done = false;
        ASSERT_OK(udk_dispatch_read(q, p[1], buf, 1, -1, log.action));
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, -EBADF);

        /* Destroyed with a read in flight (a pipe with nothing in it): cancelled, freed, never called. */
        log.n = 0;
        ASSERT_OK(udk_dispatch_read(q, p[0], buf, 1, -1, log.action));
        run_for(q, 10);
        udk_action_destroy(log.action);
        run_for(q, 30);
        ASSERT_UINT_EQ(log.n, 0);

        udk_dispatch_queue_destroy(q);
        close(fd);
        close(p[0]);
        close(p[1]);
}

static void prep_openat(struct io_uring_sqe *sqe, void *data)
{
        io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC, 0);
}

static void prep_nop(struct io_uring_sqe *sqe, void *data)
{
        io_uring_prep_nop(sqe);
}

static void test_ring_restricted(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct action_log log = { 0 };

        ASSERT_OK(udk_action_create(q, on_action, &log, &log.action));
        ASSERT_OK(udk_dispatch_submit(q, prep_nop, NULL, log.action));
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, 0);

        /* OPENAT is not among the queue's opcodes. */
        log.done = false;
        ASSERT_OK(udk_dispatch_submit(q, prep_openat, NULL, log.action));
        run_until(q, &log.done, 2000);
        ASSERT_INT_EQ(log.result, -EACCES);
        udk_action_destroy(log.action);
        udk_dispatch_queue_destroy(q);
}

struct self_destroy {
        struct udk_dispatch_source *source;
        unsigned n;
        bool done;
};

static void on_self_destroy(void *data, struct udk_dispatch_source *source)
{
        struct self_destroy *sd = data;

        sd->n++;
        udk_dispatch_source_destroy(source);
        sd->done = true;
}

static void test_source_destroy_in_callback(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct self_destroy sd = { 0 };
        struct udk_dispatch_source *forgotten;
        struct timer_log log = { .want = 1 };

        ASSERT_OK(udk_dispatch_event_create(q, on_self_destroy, &sd, &sd.source));
        ASSERT_OK(udk_dispatch_signal(sd.source));
        run_until(q, &sd.done, 2000);
        run_for(q, 20);
        ASSERT_UINT_EQ(sd.n, 1);
        /* A source left on the queue dies with it. */
        ASSERT_OK(udk_dispatch_timer_create(q, udk_dispatch_now() + 1000 * MS, 0, on_timer, &log, &forgotten));
        udk_dispatch_queue_destroy(q);
}

static void on_quit(void *data, struct udk_dispatch_source *source)
{
        udk_dispatch_queue_quit(data, 17);
}

static void test_queue_run_quit(void)
{
        struct udk_dispatch_queue *q = queue_new();
        struct udk_dispatch_source *t;

        ASSERT_OK(udk_dispatch_timer_create(q, udk_dispatch_now() + 10 * MS, 0, on_quit, q, &t));
        ASSERT_INT_EQ(udk_dispatch_queue_run(q), 17);
        udk_dispatch_source_destroy(t);
        udk_dispatch_queue_destroy(q);
}

UDK_TEST_MAIN(test_timer_oneshot, test_timer_periodic_grid, test_fd_source, test_event_signal_thread,
              test_data_queue_thread, test_data_queue_process, test_action_complete, test_async_read_write,
              test_ring_restricted, test_source_destroy_in_callback, test_queue_run_quit)
