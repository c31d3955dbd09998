/* SPDX-License-Identifier: MIT */
/*
 * udk-soak's faults, each followed by the check of what must come after
 * it, through the registry (libudk-client) and the clients' slots:
 *
 *   driver kill   SIGKILL the test audio driver's host: the same driver
 *                 object runs again with a new pid within its policy, one
 *                 more restart and crash counted, never given up, and its
 *                 device is the same object (taken back under its UID);
 *   bus restart   SIGKILL the test family's bus driver's host: it runs again
 *                 within its policy, publishes its nub again, once, and the
 *                 audio driver binds it: one nub, one driver, one device,
 *                 and the victim clients stream on the new device;
 *   client kill   a victim client SIGKILLs itself inside its process callback
 *                 at our word: its node leaves the registry at once after its
 *                 death, a new client streams;
 *   stall         SIGSTOP the staller past its deadline, then SIGCONT: it is
 *                 counted late and, stopped for more than late_limit
 *                 cycles, suspended (and opens its stream again); stopped
 *                 for fewer, it runs on.
 *
 * Every wait is bounded; a failure is reported once (soak_fail) and ends
 * every loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/client.h>
#include <udk/util.h>

#include "soak.h"

union object {
        struct udk_msg_object obj;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

static const char *prop_string(const struct udk_msg_object *o, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(o, key);
        return p && p->type == UDK_PROP_STRING ? p->s : "";
}

static int64_t prop_int(const struct udk_msg_object *o, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(o, key);
        return p && (p->type == UDK_PROP_INT || p->type == UDK_PROP_BOOL) ? p->i : -1;
}

/* The driver bound to nub @nub; 0 when there is none or more than one nub of that name. */
static uint32_t driver_of(struct udk_client *c, const char *nub)
{
        udk_object_id id;
        union object o;

        if (udk_client_find_class(c, "nub", nub, &id) < 0 || udk_client_info(c, id, &o.obj) < 0)
                return 0;
        return prop_int(&o.obj, "bound") > 0 ? (uint32_t)prop_int(&o.obj, "bound") : 0;
}

/* Wait until driver @id is running with a pid other than @old_pid (0: any); its object in @o. */
static bool wait_running(struct soak *s, struct udk_client *c, uint32_t id, int64_t old_pid,
                         uint64_t bound_ms, union object *o, const char *what)
{
        uint64_t deadline = soak_now_ms() + bound_ms + SOAK_WAIT_MS;
        const char *state = "(gone)";

        while (soak_now_ms() < deadline && !soak_stopped(s)) {
                if (udk_client_info(c, id, &o->obj) == 0) {
                        state = prop_string(&o->obj, "state");
                        if (strcmp(state, "failed") == 0) {
                                soak_fail(s, "%s: udkd gave the driver up (%s after %" PRId64 " crashes)",
                                          what, prop_string(&o->obj, "last_exit"),
                                          prop_int(&o->obj, "crashes"));
                                return false;
                        }
                        if (strcmp(state, "running") == 0 && prop_int(&o->obj, "pid") > 0 &&
                            prop_int(&o->obj, "pid") != old_pid)
                                return true;
                }
                usleep(1000);
        }
        if (!soak_stopped(s))
                soak_fail(s, "%s: driver %" PRIu32 " is %s, not running, %u ms after the bound", what, id,
                          state, SOAK_WAIT_MS);
        return false;
}

/*
 * SIGKILL @pid (a host, udkd's child) and wait until it is dead (its pidfd
 * readable: udkd can see it from then on): the time of its death, 0 on a
 * failure.  A dying process may take a while on a loaded machine; a
 * policy's clock starts at the death.
 */
static uint64_t kill_host(struct soak *s, int64_t pid, const char *what, struct soak_times *dead)
{
        int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        uint64_t t0 = soak_now_ms(), t;
        int r;

        if (fd < 0) {
                soak_fail(s, "%s: pidfd_open(%" PRId64 "): %s", what, pid, strerror(errno));
                return 0;
        }
        if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0) {
                soak_fail(s, "%s: kill %" PRId64 ": %s", what, pid, strerror(errno));
                close(fd);
                return 0;
        }
        do
                r = poll(&pfd, 1, SOAK_WAIT_MS);
        while (r < 0 && errno == EINTR);
        close(fd);
        t = soak_now_ms();
        if (r <= 0) {
                soak_fail(s, "%s: host %" PRId64 " not dead %u ms after SIGKILL", what, pid, SOAK_WAIT_MS);
                return 0;
        }
        soak_times_add(dead, t - t0);
        return t;
}

bool soak_registry_ready(struct soak *s, struct udk_client *c)
{
        uint64_t deadline = soak_now_ms() + SOAK_WAIT_MS;
        union object o;
        uint32_t bus = 0, audio = 0;
        udk_object_id device = 0, untouched = 0;

        while (soak_now_ms() < deadline && !soak_stopped(s)) {
                bus = driver_of(c, "root-test");
                audio = driver_of(c, "knob");
                if (bus && audio && udk_client_find_class(c, "device", SOAK_VICTIM_DEVICE, &device) == 0 &&
                    udk_client_find_class(c, "device", SOAK_UNTOUCHED, &untouched) == 0)
                        break;
                usleep(2000);
        }
        if (!device || !untouched) {
                soak_fail(s, "the registry never had the bus driver, the audio driver and both devices");
                return false;
        }
        if (!wait_running(s, c, bus, 0, 0, &o, "bus driver") ||
            !wait_running(s, c, audio, 0, 0, &o, "audio driver"))
                return false;
        if (udk_client_info(c, device, &o.obj) < 0) {
                soak_fail(s, "device %s went", SOAK_VICTIM_DEVICE);
                return false;
        }
        pthread_mutex_lock(&s->ids_lock);
        s->bus_driver = bus;
        s->audio_driver = audio;
        s->victim_device = device;
        s->untouched_device = untouched;
        s->victim_period = (uint32_t)prop_int(&o.obj, "period");
        s->victim_late_limit = (uint32_t)prop_int(&o.obj, "late_limit");
        pthread_mutex_unlock(&s->ids_lock);
        return true;
}

bool soak_driver_kill(struct soak *s, struct udk_client *c)
{
        union object o;
        uint32_t id, device;
        udk_object_id now_device = 0;
        int64_t pid, restarts, crashes;
        uint64_t t0, back;

        pthread_mutex_lock(&s->ids_lock);
        id = s->audio_driver;
        device = s->victim_device;
        pthread_mutex_unlock(&s->ids_lock);
        if (!wait_running(s, c, id, 0, 0, &o, "audio driver"))
                return false;
        pid = prop_int(&o.obj, "pid");
        restarts = prop_int(&o.obj, "restarts");
        crashes = prop_int(&o.obj, "crashes");
        if (!(t0 = kill_host(s, pid, "driver kill", &s->driver_dead)))
                return false;
        if (!wait_running(s, c, id, pid, SOAK_POLICY_MS, &o, "audio driver after SIGKILL"))
                return false;
        back = soak_now_ms() - t0;
        soak_times_add(&s->driver_back, back);
        s->driver_kills++;
        if (back > SOAK_POLICY_MS) {
                soak_fail(s,
                          "driver kill %" PRIu64 ": back %" PRIu64
                          " ms after its host died, its policy allows %u ms",
                          s->driver_kills, back, SOAK_POLICY_MS);
                return false;
        }
        if (prop_int(&o.obj, "restarts") != restarts + 1 || prop_int(&o.obj, "crashes") != crashes + 1 ||
            strcmp(prop_string(&o.obj, "last_exit"), "killed by SIGKILL") != 0) {
                soak_fail(s,
                          "driver kill %" PRIu64 ": restarts %" PRId64 " -> %" PRId64 ", crashes %" PRId64
                          " -> %" PRId64 ", last exit '%s' (one SIGKILL each expected)",
                          s->driver_kills, restarts, prop_int(&o.obj, "restarts"), crashes,
                          prop_int(&o.obj, "crashes"), prop_string(&o.obj, "last_exit"));
                return false;
        }
        if (udk_client_find_class(c, "device", SOAK_VICTIM_DEVICE, &now_device) < 0 ||
            now_device != device) {
                soak_fail(s,
                          "driver kill %" PRIu64 ": device %s is object %" PRIu32 ", was %" PRIu32
                          " (not taken back under its UID)",
                          s->driver_kills, SOAK_VICTIM_DEVICE, now_device, device);
                return false;
        }
        return true;
}

/* How many objects of @klass named @name, and drivers of personality @personality, the registry has. */
static int count_objects(struct udk_client *c, const char *klass, const char *name, const char *personality)
{
        struct udk_msg_object *all = NULL;
        size_t n = 0;
        int count = 0;

        if (udk_client_list(c, 0, &all, &n) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(all, i);

                if (strcmp(o->klass, klass) != 0)
                        continue;
                if (name && strcmp(o->name, name) == 0)
                        count++;
                if (personality && strcmp(prop_string(o, "personality"), personality) == 0)
                        count++;
        }
        free(all);
        return count;
}

static bool victims_back(struct soak *s, uint32_t old_nodes[3])
{
        static const unsigned slots[3] = { SOAK_VICTIM_A, SOAK_VICTIM_B, SOAK_STALLER };
        uint64_t deadline = soak_now_ms() + SOAK_WAIT_MS;

        for (unsigned i = 0; i < 3; i++) {
                struct soak_slot *slot = &s->sh->slots[slots[i]];

                while (!(atomic_load(&slot->running) && atomic_load(&slot->node) != old_nodes[i])) {
                        if (soak_now_ms() >= deadline || soak_stopped(s)) {
                                soak_fail(s,
                                          "bus restart %" PRIu64
                                          ": client %u not streaming on the new device "
                                          "within %u ms (%s)",
                                          s->bus_restarts, slots[i], SOAK_WAIT_MS, slot->error);
                                return false;
                        }
                        usleep(1000);
                }
        }
        return true;
}

bool soak_bus_restart(struct soak *s, struct udk_client *c)
{
        uint32_t bus, old_audio, audio = 0, old_device, old_nodes[3];
        udk_object_id device = 0;
        union object o;
        uint64_t t0, back, deadline;
        int64_t pid;
        int nubs = -1, drivers = -1, devices = -1;
        bool ok = false;

        pthread_mutex_lock(&s->bus_lock);
        pthread_mutex_lock(&s->ids_lock);
        bus = s->bus_driver;
        old_audio = s->audio_driver;
        old_device = s->victim_device;
        pthread_mutex_unlock(&s->ids_lock);
        old_nodes[0] = atomic_load(&s->sh->slots[SOAK_VICTIM_A].node);
        old_nodes[1] = atomic_load(&s->sh->slots[SOAK_VICTIM_B].node);
        old_nodes[2] = atomic_load(&s->sh->slots[SOAK_STALLER].node);
        if (!wait_running(s, c, bus, 0, 0, &o, "bus driver"))
                goto out;
        pid = prop_int(&o.obj, "pid");
        if (!(t0 = kill_host(s, pid, "bus restart", &s->bus_dead)))
                goto out;
        if (!wait_running(s, c, bus, pid, SOAK_POLICY_MS, &o, "bus driver after SIGKILL"))
                goto out;
        back = soak_now_ms() - t0;
        soak_times_add(&s->bus_back, back);
        s->bus_restarts++;
        if (back > SOAK_POLICY_MS) {
                soak_fail(s,
                          "bus restart %" PRIu64 ": back %" PRIu64
                          " ms after its host died, its policy allows %u ms",
                          s->bus_restarts, back, SOAK_POLICY_MS);
                goto out;
        }
        /* Its nub again, and a new instance of the audio driver on it (the old one was stopped with the
         * nub). */
        for (deadline = soak_now_ms() + SOAK_POLICY_MS + SOAK_WAIT_MS; soak_now_ms() < deadline;) {
                audio = driver_of(c, "knob");
                if (audio && audio != old_audio && udk_client_info(c, audio, &o.obj) == 0 &&
                    strcmp(prop_string(&o.obj, "state"), "running") == 0 &&
                    udk_client_find_class(c, "device", SOAK_VICTIM_DEVICE, &device) == 0)
                        break;
                audio = 0;
                usleep(500);
        }
        back = soak_now_ms() - t0;
        if (!audio) {
                soak_fail(s,
                          "bus restart %" PRIu64 ": no new audio driver running on nub knob with its device",
                          s->bus_restarts);
                goto out;
        }
        soak_times_add(&s->bus_audio_back, back);
        /* The bus's policy, then the new instance's first start. */
        if (back > SOAK_POLICY_MS + SOAK_START_TIMEOUT_MS) {
                soak_fail(s,
                          "bus restart %" PRIu64 ": the audio driver ran again after %" PRIu64
                          " ms, the policies allow %u ms",
                          s->bus_restarts, back, SOAK_POLICY_MS + SOAK_START_TIMEOUT_MS);
                goto out;
        }
        /* No duplicates: one nub, one audio driver (the old one leaves once its host exited), one device. */
        for (deadline = soak_now_ms() + SOAK_WAIT_MS; soak_now_ms() < deadline;) {
                nubs = count_objects(c, "nub", "knob", NULL);
                drivers = count_objects(c, "driver", NULL, "test-audio");
                devices = count_objects(c, "device", "knob", NULL);
                if (nubs == 1 && drivers == 1 && devices == 1)
                        break;
                usleep(2000);
        }
        if (nubs != 1 || drivers != 1 || devices != 1) {
                soak_fail(s,
                          "bus restart %" PRIu64
                          ": %d nubs 'knob', %d test-audio drivers, %d devices 'knob' "
                          "(one of each expected)",
                          s->bus_restarts, nubs, drivers, devices);
                goto out;
        }
        pthread_mutex_lock(&s->ids_lock);
        s->audio_driver = audio;
        s->victim_device = device;
        pthread_mutex_unlock(&s->ids_lock);
        (void)old_device;
        ok = victims_back(s, old_nodes);
out:
        pthread_mutex_unlock(&s->bus_lock);
        return ok;
}

/* True once the client of @slot is dead (a zombie, left for soak_reap); how in @info. */
static bool slot_dead(struct soak_slot *slot, siginfo_t *info)
{
        memset(info, 0, sizeof(*info));
        return waitid(P_PID, (id_t)atomic_load(&slot->pid), info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info->si_pid != 0;
}

bool soak_client_kill(struct soak *s, struct udk_client *c, unsigned index)
{
        struct soak_slot *slot = &s->sh->slots[index];
        union object o;
        uint64_t t0, t, deadline, cycles;
        siginfo_t info;
        uint32_t node;
        bool ok = false;
        int r;

        pthread_mutex_lock(&s->bus_lock);
        if (!soak_wait_running(s, index))
                goto out;
        node = atomic_load(&slot->node);
        /* Mid-cycle: it kills itself inside its process callback, at our word. */
        cycles = atomic_load(&slot->cycles);
        t = soak_now_ms();
        atomic_store(&slot->die, 1);
        for (deadline = t + SOAK_WAIT_MS; !slot_dead(slot, &info);) {
                if (soak_now_ms() >= deadline) {
                        soak_fail(s,
                                  "client %u did not die in its process callback within %u ms (%" PRIu64
                                  " callbacks meanwhile)",
                                  index, SOAK_WAIT_MS, atomic_load(&slot->cycles) - cycles);
                        goto out;
                }
                usleep(100);
        }
        t0 = soak_now_ms();
        soak_times_add(&s->client_dead, t0 - t);
        if (info.si_code != CLD_KILLED || info.si_status != SIGKILL || !atomic_load(&slot->in_cycle)) {
                soak_fail(
                        s,
                        "client %u ended otherwise than by SIGKILL in its callback (code %d, status %d): %s",
                        index, info.si_code, info.si_status, slot->error);
                goto out;
        }
        /* From its death (its socket closed with it) to udkd's removal of its node.  The zombie is
         * reaped after: freeing it can keep this thread in the kernel for 100 ms and more (its /proc
         * dentries, docs/reliability.md), which is not udkd's time. */
        while ((r = udk_client_info(c, node, &o.obj)) != -ENOENT) {
                if (r < 0 || soak_now_ms() - t0 > SOAK_CLIENT_GONE_MS)
                        break;
                usleep(1000);
        }
        t = soak_now_ms();
        soak_reap(s, index);
        if (r != -ENOENT || t - t0 > SOAK_CLIENT_GONE_MS) {
                soak_fail(s,
                          "client kill %" PRIu64 ": node %" PRIu32
                          " of the killed client still there %" PRIu64 " ms after its death (bound %u ms)",
                          s->client_kills + 1, node, t - t0, SOAK_CLIENT_GONE_MS);
                goto out;
        }
        soak_times_add(&s->client_gone, t - t0);
        if (soak_spawn(s, index, SOAK_ROLE_VICTIM, 0) < 0 || !soak_wait_running(s, index))
                goto out;
        soak_times_add(&s->client_back, soak_now_ms() - t0);
        s->client_kills++;
        ok = true;
out:
        pthread_mutex_unlock(&s->bus_lock);
        return ok;
}

/* The staller's node figures on the victim device; false when udkd does not list it. */
static bool node_stats(struct udk_client *c, uint32_t device, uint32_t node, struct udk_msg_stats_node *ret)
{
        static struct udk_msg_stats_node nodes[UDK_STATS_NODES_MAX];
        struct udk_msg_stats_device dev;
        size_t n = 0;

        if (udk_client_stats(c, device, &dev, nodes, UDK_ELEMENTSOF(nodes), &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (nodes[i].node == node) {
                        *ret = nodes[i];
                        return true;
                }
        return false;
}

bool soak_stall(struct soak *s, struct udk_client *c, bool past_limit)
{
        struct soak_slot *slot = &s->sh->slots[SOAK_STALLER];
        struct udk_msg_stats_node before, after;
        uint64_t period_us, stall_us, cycles, suspended, deadline;
        uint32_t device, node;
        bool ok = false;

        pthread_mutex_lock(&s->bus_lock);
        pthread_mutex_lock(&s->ids_lock);
        device = s->victim_device;
        period_us = (uint64_t)s->victim_period * 1000000u / SOAK_RATE;
        pthread_mutex_unlock(&s->ids_lock);
        /* Below the limit: a fifth of late_limit's cycles; past it: three times them. */
        cycles = past_limit ? 3u * s->victim_late_limit : s->victim_late_limit / 5u;
        if (cycles < 2)
                cycles = 2;
        stall_us = cycles * period_us;
        if (!soak_wait_running(s, SOAK_STALLER))
                goto out;
        node = atomic_load(&slot->node);
        suspended = atomic_load(&slot->suspended);
        if (!node_stats(c, device, node, &before)) {
                soak_fail(s, "stall: no figures for the staller's node %" PRIu32, node);
                goto out;
        }
        kill(atomic_load(&slot->pid), SIGSTOP);
        usleep((useconds_t)stall_us);
        kill(atomic_load(&slot->pid), SIGCONT);
        if (past_limit) {
                /* Suspended: its client is told and opens a stream again. */
                for (deadline = soak_now_ms() + SOAK_WAIT_MS; atomic_load(&slot->suspended) == suspended;) {
                        int status;

                        if (waitpid(atomic_load(&slot->pid), &status, WNOHANG) == atomic_load(&slot->pid)) {
                                atomic_store(&slot->pid, 0);
                                soak_fail(s, "stall of %" PRIu64 " cycles: the staller died (%s %d): %s",
                                          cycles, WIFSIGNALED(status) ? "signal" : "exit",
                                          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                                          slot->error);
                                goto out;
                        }
                        if (soak_now_ms() >= deadline) {
                                soak_fail(s,
                                          "stall of %" PRIu64 " cycles (late_limit %" PRIu32
                                          "): the staller "
                                          "was not suspended",
                                          cycles, s->victim_late_limit);
                                goto out;
                        }
                        usleep(1000);
                }
                s->stalls_long++;
                ok = soak_wait_running(s, SOAK_STALLER);
                goto out;
        }
        /* Below the limit: late, then running on; a few cycles for the figures to settle. */
        usleep((useconds_t)(4 * period_us));
        if (!node_stats(c, device, node, &after) || after.state != UDK_NODE_RUNNING) {
                soak_fail(s,
                          "stall of %" PRIu64 " cycles (late_limit %" PRIu32 "): the staller's node is %s",
                          cycles, s->victim_late_limit,
                          node_stats(c, device, node, &after) ? "not running" : "gone");
                goto out;
        }
        if (after.late <= before.late) {
                soak_fail(s, "stall of %" PRIu64 " cycles: the staller's late count stayed at %" PRIu64,
                          cycles, after.late);
                goto out;
        }
        s->stall_late_cycles += after.late - before.late;
        s->stalls_short++;
        ok = true;
out:
        pthread_mutex_unlock(&s->bus_lock);
        return ok;
}

/* --- the main run's threads, each with its own connection --- */

/* Done: then wait for the release (bounded only by the conductor, which always gives it). */
static void thread_done(struct soak *s, struct udk_client *c)
{
        udk_client_disconnect(c);
        atomic_fetch_add(&s->threads_done, 1);
        while (!atomic_load(&s->release))
                usleep(1000);
}

static struct udk_client *thread_connect(struct soak *s, const char *name)
{
        struct udk_client *c = NULL;
        int r = udk_client_connect(name, s->socket, &c);

        if (r < 0) {
                soak_fail(s, "%s: connect: %s", name, udk_client_error(NULL));
                return NULL;
        }
        return c;
}

void *soak_drivers_thread(void *data)
{
        struct soak *s = data;
        struct udk_client *c = thread_connect(s, "soak-drivers");
        uint64_t kills = s->opt.driver_kills, buses = s->opt.bus_restarts;
        uint64_t every = buses ? kills / (buses + 1) + 1 : 0, done_buses = 0;

        for (uint64_t i = 1; c && i <= kills && !soak_stopped(s); i++) {
                if (!soak_driver_kill(s, c))
                        break;
                if (every && i % every == 0 && done_buses < buses) {
                        if (!soak_bus_restart(s, c))
                                break;
                        done_buses++;
                }
        }
        while (c && done_buses < buses && !soak_stopped(s) && soak_bus_restart(s, c))
                done_buses++;
        thread_done(s, c);
        return NULL;
}

void *soak_clients_thread(void *data)
{
        struct soak *s = data;
        struct udk_client *c = thread_connect(s, "soak-clients");
        uint64_t kills = s->opt.client_kills, stalls = s->opt.stalls;
        uint64_t every = stalls ? kills / (stalls + 1) + 1 : 0, done_stalls = 0;

        for (uint64_t i = 1; c && i <= kills && !soak_stopped(s); i++) {
                if (!soak_client_kill(s, c, i % 2 ? SOAK_VICTIM_A : SOAK_VICTIM_B))
                        break;
                if (every && i % every == 0 && done_stalls < stalls) {
                        if (!soak_stall(s, c, done_stalls % 2 == 1))
                                break;
                        done_stalls++;
                }
        }
        while (c && done_stalls < stalls && !soak_stopped(s) && soak_stall(s, c, done_stalls % 2 == 1))
                done_stalls++;
        thread_done(s, c);
        return NULL;
}
