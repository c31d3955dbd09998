/* SPDX-License-Identifier: MIT */
/*
 * What one IO cycle costs: udk_device_cycle() in a tight loop on a virtual
 * device (64 frames, stereo, float32) with 0..4 gain handlers, timed with
 * CLOCK_MONOTONIC, and its instructions counted under callgrind (or with
 * the CPU's counter).
 *
 * "Work" is the same audio work done without the cycle: the backend's read,
 * each handler for both operations and the backend's write, called directly
 * in a loop.  What the cycle adds on top (clock and DLL, the plan, handler
 * dispatch, the mix step that clears the output, statistics) is its
 * overhead.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/log.h>
#include <udk/util.h>

#include "bench-cycle.h"

#define WARMUP_CYCLES   10000u
#define CALLGRIND_SHORT 1000u /* two counts, so the first cycles' one-off work cancels out */
#define CALLGRIND_LONG  3000u
#define PERF_CYCLES     20000u
#define CHUNK_CYCLES    1000u   /* the cycle and the work alone take turns this often */
#define SLICE_CYCLES    10000u  /* and the configurations this often */
#define PAUSE_NS        4000000 /* 4 ms: about 10 % of a round of slices */

/* A device set up for cycles on the calling thread. */
struct rig {
        struct udk_device *dev;
        const struct udk_dsp_plugin *gain;
        struct udk_handler *handlers[BENCH_HANDLERS_MAX];
        unsigned n_handlers;
        uint64_t period_ns;
        uint64_t host_time; /* the next cycle's wake, on an exact grid */
        uint64_t work_time; /* the next sample time of the direct path */
};

static void rig_destroy(struct rig *rig)
{
        rig->dev = udk_device_destroy(rig->dev);
}

static int set_control(struct udk_device *dev, const char *name, const char *value)
{
        struct udk_control *c = udk_device_find_control(dev, name);
        int r;

        if (!c) {
                udk_error("the virtual device has no control \"%s\"", name);
                return -ENOENT;
        }
        r = udk_control_set_from_string(c, value);
        if (r < 0)
                udk_error("cannot set %s to %s: %s", name, value, strerror(-r));
        return r;
}

static int rig_add_gain(struct rig *rig)
{
        char name[16], control[32], err[256] = "";
        unsigned i = rig->n_handlers;
        int r;

        snprintf(name, sizeof(name), "g%u", i + 1);
        r = udk_dsp_instantiate(rig->gain, rig->dev, name, 0, &rig->handlers[i], err, sizeof(err));
        if (r < 0) {
                udk_error("cannot add gain handler %s: %s", name, err);
                return r;
        }
        rig->n_handlers++;
        snprintf(control, sizeof(control), "%s.level", name);
        return set_control(rig->dev, control, BENCH_GAIN_LEVEL);
}

static int rig_create(struct rig *rig, const struct udk_dsp_plugin *gain, const char *source,
                      unsigned handlers)
{
        struct udk_device_config cfg;
        char err[256] = "";
        int r;

        assert(handlers <= BENCH_HANDLERS_MAX);
        *rig = (struct rig){ .gain = gain };
        udk_device_config_defaults(&cfg);
        udk_strlcpy(cfg.name, "bench", sizeof(cfg.name));
        cfg.rate = BENCH_RATE;
        cfg.period = BENCH_COST_PERIOD;
        cfg.input_channels = cfg.output_channels = 2;
        cfg.format = UDK_FORMAT_F32;
        cfg.rt_priority = 0;

        r = udk_device_create(&cfg, &udk_backend_virtual, &rig->dev, err, sizeof(err));
        if (r == 0)
                r = udk_device_open(rig->dev, err, sizeof(err));
        if (r < 0) {
                udk_error("cannot make the virtual device: %s", err);
                goto fail;
        }
        r = set_control(rig->dev, "source", source);
        for (unsigned i = 0; r == 0 && i < handlers; i++)
                r = rig_add_gain(rig);
        if (r < 0)
                goto fail;
        rig->period_ns = (uint64_t)BENCH_COST_PERIOD * UDK_NSEC_PER_SEC / BENCH_RATE;
        rig->host_time = udk_time_now();
        return 0;
fail:
        rig_destroy(rig);
        return r;
}

/* The measured loop.  Kept out of line so the work around it stays the same. */
static __attribute__((noinline)) int rig_cycles(struct rig *rig, uint64_t n)
{
        uint64_t t = rig->host_time;
        int r = 0;

        for (uint64_t i = 0; i < n && r == 0; i++) {
                r = udk_device_cycle(rig->dev, t);
                t += rig->period_ns;
        }
        rig->host_time = t;
        return r;
}

/* The cycle's audio work alone: what rig_cycles() does minus the cycle. */
static __attribute__((noinline)) void rig_work(struct rig *rig, uint64_t n)
{
        const struct udk_backend_ops *be = udk_device_backend(rig->dev);
        void *inst = udk_device_backend_instance(rig->dev);
        udk_object_id id = udk_device_id(rig->dev);
        udk_io_handler_fn process = rig->gain->process;
        uint64_t t = rig->work_time, host = rig->host_time;
        uint32_t frames = BENCH_COST_PERIOD;

        for (uint64_t i = 0; i < n; i++) {
                be->read(inst, t, frames);
                for (unsigned h = 0; h < rig->n_handlers; h++)
                        process(udk_handler_context(rig->handlers[h]), id, UDK_IO_BEGIN_READ, frames, t,
                                host);
                for (unsigned h = 0; h < rig->n_handlers; h++)
                        process(udk_handler_context(rig->handlers[h]), id, UDK_IO_WRITE_END, frames, t,
                                host);
                be->write(inst, t, frames);
                t += frames;
        }
        rig->work_time = t;
}

/* Every handler ran without error and the device saw every cycle. */
static int rig_check(struct rig *rig, uint64_t cycles)
{
        const struct udk_cycle_stats *st = udk_device_stats(rig->dev);
        uint64_t n = atomic_load(&st->cycles);
        uint64_t errors = atomic_load(&st->handler_errors) + atomic_load(&st->backend_errors);

        if (n != cycles || errors != 0 || udk_device_n_handlers(rig->dev) != rig->n_handlers) {
                udk_error("the benchmark device misbehaved: %" PRIu64 " cycles of %" PRIu64 ", %" PRIu64
                          " errors, %u handlers of %u",
                          n, cycles, errors, udk_device_n_handlers(rig->dev), rig->n_handlers);
                return -EIO;
        }
        return 0;
}

/*
 * A real-time caller gives the CPU back between slices (a round of slices
 * takes tens of milliseconds), so other tasks get their share in the
 * pauses and the kernel's real-time throttling never has to stop a timed
 * chunk.
 */
static void pause_between_slices(void)
{
        struct timespec ts = { 0, PAUSE_NS };

        nanosleep(&ts, NULL);
}

/* One configuration being timed. */
struct timed {
        struct rig rig;
        uint64_t cycles;              /* run so far, for rig_check() */
        uint64_t cycle_sum, work_sum; /* this repetition's nanoseconds */
        double cycle_ns[BENCH_REPETITIONS_MAX], work_ns[BENCH_REPETITIONS_MAX];
};

static int timed_start(struct timed *t, const struct bench_cost_setup *setup, const struct bench_cost *c)
{
        int r = rig_create(&t->rig, setup->gain, c->source, c->handlers);

        if (r < 0)
                return r;
        r = rig_cycles(&t->rig, WARMUP_CYCLES);
        udk_device_collect(t->rig.dev);
        rig_work(&t->rig, WARMUP_CYCLES);
        t->cycles = WARMUP_CYCLES;
        return r;
}

/* @n cycles of @t, in alternating chunks of the cycle and of the work alone. */
static int timed_slice(struct timed *t, uint64_t n)
{
        int r = 0;

        for (uint64_t done = 0; r == 0 && done < n;) {
                uint64_t chunk = UDK_MIN(n - done, (uint64_t)CHUNK_CYCLES);
                uint64_t t0 = udk_time_now(), t1, t2;

                r = rig_cycles(&t->rig, chunk);
                t1 = udk_time_now();
                rig_work(&t->rig, chunk);
                t2 = udk_time_now();
                t->cycle_sum += t1 - t0;
                t->work_sum += t2 - t1;
                t->cycles += chunk;
                done += chunk;
        }
        return r;
}

/* One repetition: every configuration in turn, a slice at a time, so that
 * whatever else the machine does hits them all alike. */
static int timed_repetition(struct timed *t, size_t n, uint64_t cycles, unsigned rep)
{
        int r = 0;

        for (size_t i = 0; i < n; i++)
                t[i].cycle_sum = t[i].work_sum = 0;
        for (uint64_t done = 0; r == 0 && done < cycles;) {
                uint64_t slice = UDK_MIN(cycles - done, (uint64_t)SLICE_CYCLES);
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = timed_slice(&t[(i + rep) % n], slice);
                done += slice;
                pause_between_slices();
        }
        for (size_t i = 0; i < n; i++) {
                t[i].cycle_ns[rep] = (double)t[i].cycle_sum / (double)cycles;
                t[i].work_ns[rep] = (double)t[i].work_sum / (double)cycles;
        }
        return r;
}

int bench_cost_measure(const struct bench_cost_setup *setup, struct bench_cost *costs, size_t n)
{
        _udk_cleanup_free_ struct timed *t = calloc(n, sizeof(*t));
        int r = 0;

        assert(setup->repetitions >= 1 && setup->repetitions <= BENCH_REPETITIONS_MAX);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = timed_start(&t[i], setup, &costs[i]);
        for (unsigned rep = 0; r == 0 && rep < setup->repetitions; rep++) {
                udk_info("cycle cost: run %u of %u, %" PRIu64 " cycles of each configuration", rep + 1,
                         setup->repetitions, setup->cycles);
                r = timed_repetition(t, n, setup->cycles, rep);
        }
        if (r < 0)
                udk_error("udk_device_cycle: %s", strerror(-r));
        for (size_t i = 0; r == 0 && i < n; i++) {
                r = rig_check(&t[i].rig, t[i].cycles);
                costs[i].ns_per_cycle = bench_median(t[i].cycle_ns, setup->repetitions);
                costs[i].work_ns = bench_median(t[i].work_ns, setup->repetitions);
        }
        for (size_t i = 0; i < n; i++)
                if (t[i].rig.dev)
                        rig_destroy(&t[i].rig);
        return r;
}

int bench_cost_inner(const struct udk_dsp_plugin *gain, const char *source, unsigned handlers,
                     uint64_t cycles)
{
        struct rig rig;
        int r;

        r = rig_create(&rig, gain, source, handlers);
        if (r < 0)
                return r;
        r = rig_cycles(&rig, cycles);
        if (r < 0)
                udk_error("udk_device_cycle: %s", strerror(-r));
        else
                r = rig_check(&rig, cycles);
        rig_destroy(&rig);
        return r;
}

/* --- instructions under callgrind --- */

static int read_text_file(const char *path, char **ret)
{
        _udk_cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f)
                return -errno;
        for (;;) {
                if (cap - len < 4096) {
                        char *p = realloc(buf, cap = cap ? cap * 2 : 65536);
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = p;
                }
                size_t n = fread(buf + len, 1, cap - len - 1, f);
                len += n;
                if (n == 0)
                        break;
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        fclose(f);
        if (r < 0)
                return r;
        buf[len] = '\0';
        *ret = UDK_TAKE_PTR(buf);
        return 0;
}

/* Show the end of a failed child's stderr, where its reason is. */
static void log_child_failure(const char *what, const struct bench_child_output *o)
{
        const char *tail = o->err_len > 800 ? o->err + o->err_len - 800 : o->err;

        udk_error("%s exited with status %d%s%s", what, o->status, *tail ? ": " : "", tail);
}

/* Ir of @cycles cycles of @c's configuration, under callgrind. */
static int callgrind_count(const struct bench_cost_setup *setup, const char *valgrind,
                           const struct bench_cost *c, unsigned cycles, uint64_t *ret)
{
        char self[4096], out_file[] = "/tmp/udk-bench-callgrind-XXXXXX", out_arg[64], handlers[16], n[24];
        _udk_cleanup_free_ char *text = NULL;
        struct bench_child_output o;
        int fd, r;

        r = bench_self_path(self, sizeof(self));
        if (r < 0) {
                udk_error("cannot find udk-bench itself in /proc/self/exe: %s", strerror(-r));
                return r;
        }
        fd = mkostemp(out_file, O_CLOEXEC);
        if (fd < 0) {
                udk_error("cannot make a file in /tmp for callgrind: %s", strerror(errno));
                return -errno;
        }
        close(fd);
        snprintf(out_arg, sizeof(out_arg), "--callgrind-out-file=%s", out_file);
        snprintf(handlers, sizeof(handlers), "%u", c->handlers);
        snprintf(n, sizeof(n), "%u", cycles);
        char *argv[] = {
                (char *)valgrind,
                "--tool=callgrind",
                "-q",
                out_arg,
                "--toggle-collect=udk_device_cycle",
                self,
                "cycle-inner",
                "--handlers",
                handlers,
                "--cycles",
                n,
                "--source",
                (char *)c->source,
                "--plugin-path",
                (char *)setup->plugin_path,
                NULL,
        };

        r = bench_run(argv, &o);
        if (r < 0) {
                udk_error("cannot run %s: %s", valgrind, strerror(-r));
                goto out;
        }
        if (o.status != 0) {
                log_child_failure("valgrind --tool=callgrind", &o);
                r = -ECHILD;
        }
        bench_child_output_free(&o);
        if (r < 0)
                goto out;
        r = read_text_file(out_file, &text);
        if (r < 0)
                udk_error("cannot read callgrind's output %s: %s", out_file, strerror(-r));
        else if ((r = bench_callgrind_parse(text, ret)) < 0)
                udk_error("callgrind's output %s has no \"totals:\" or \"summary:\" line", out_file);
out:
        unlink(out_file);
        return r;
}

/* Steady-state instructions per cycle: the difference of a long and a short run. */
static double callgrind_per_cycle(const struct bench_cost_setup *setup, const char *valgrind,
                                  const struct bench_cost *c)
{
        uint64_t short_ir, long_ir;

        if (callgrind_count(setup, valgrind, c, CALLGRIND_SHORT, &short_ir) < 0 ||
            callgrind_count(setup, valgrind, c, CALLGRIND_LONG, &long_ir) < 0)
                return NAN;
        if (long_ir < short_ir) {
                udk_error("callgrind counted fewer instructions for %u cycles than for %u", CALLGRIND_LONG,
                          CALLGRIND_SHORT);
                return NAN;
        }
        return (double)(long_ir - short_ir) / (double)(CALLGRIND_LONG - CALLGRIND_SHORT);
}

/* --- instructions with the CPU's counter --- */

static int perf_open_instructions(void)
{
        struct perf_event_attr attr = {
                .type = PERF_TYPE_HARDWARE,
                .size = sizeof(attr),
                .config = PERF_COUNT_HW_INSTRUCTIONS,
                .disabled = 1,
                .exclude_kernel = 1,
                .exclude_hv = 1,
        };
        long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);

        return fd < 0 ? -errno : (int)fd;
}

int bench_cost_perf_probe(void)
{
        _udk_cleanup_close_ int fd = perf_open_instructions();

        return fd < 0 ? fd : 0;
}

static double perf_per_cycle(const struct bench_cost_setup *setup, const struct bench_cost *c)
{
        _udk_cleanup_close_ int fd = perf_open_instructions();
        struct rig rig;
        uint64_t count = 0;
        int r;

        if (fd < 0) {
                udk_warn("no instruction counter (perf_event_open: %s)", strerror(-fd));
                return NAN;
        }
        r = rig_create(&rig, setup->gain, c->source, c->handlers);
        if (r < 0)
                return NAN;
        r = rig_cycles(&rig, WARMUP_CYCLES);
        if (r == 0 && (ioctl(fd, PERF_EVENT_IOC_RESET, 0) < 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0))
                r = -errno;
        if (r == 0) {
                r = rig_cycles(&rig, PERF_CYCLES);
                ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        }
        if (r == 0 && read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
                r = -EIO;
        rig_destroy(&rig);
        if (r < 0) {
                udk_warn("cannot count instructions with perf: %s", strerror(-r));
                return NAN;
        }
        return (double)count / PERF_CYCLES;
}

void bench_cost_instructions(const struct bench_cost_setup *setup, enum bench_instr_method method,
                             const char *valgrind, struct bench_cost *c)
{
        for (unsigned i = 0; i < UDK_ELEMENTSOF(c->instructions); i++) {
                c->instructions[i] = NAN;
                if (method == BENCH_INSTR_CALLGRIND)
                        c->instructions[i] = callgrind_per_cycle(setup, valgrind, c);
                else if (method == BENCH_INSTR_PERF)
                        c->instructions[i] = perf_per_cycle(setup, c);
        }
}
