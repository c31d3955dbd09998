/* SPDX-License-Identifier: MIT */
/*
 * udk-soak's parts: the conductor (udk-soak.c) runs udkd and the faults
 * (soak-faults.c), its clients are the same program started again in a
 * role (soak-clients.c, soak-malformed.c).  They share one memfd, mapped
 * by every process at fd SOAK_SHM_FD: a slot per client, written by the
 * client, read by the conductor.
 */
#ifndef UDK_SOAK_H
#define UDK_SOAK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <udk/client.h>

#define SOAK_SHM_FD  3
#define SOAK_SLOTS   8
#define SOAK_WAIT_MS 15000 /* the most any step waits for udkd or a client */

/* The 8 clients: 4 on the device nobody touches, 4 aimed at. */
enum soak_slot_index {
        SOAK_LISTENER_FIRST = 0, /* 0..3: check every frame of the untouched device */
        SOAK_LISTENER_LAST = 3,
        SOAK_VICTIM_A = 4, /* killed mid-cycle, respawned */
        SOAK_VICTIM_B = 5,
        SOAK_STALLER = 6,   /* stopped past its deadline, continued */
        SOAK_MALFORMED = 7, /* sends malformed messages */
};

enum soak_role {
        SOAK_ROLE_LISTENER = 1,
        SOAK_ROLE_VICTIM,
        SOAK_ROLE_STALLER,
        SOAK_ROLE_MALFORMED,
};

struct soak_slot {
        _Atomic int32_t pid;
        _Atomic uint32_t running;  /* its stream is running */
        _Atomic uint32_t node;     /* its stream's node id */
        _Atomic uint32_t in_cycle; /* inside its process callback */
        _Atomic uint32_t die;      /* victim: SIGKILL yourself inside the next process callback */
        _Atomic uint32_t realtime; /* its RT thread got SCHED_FIFO */
        _Atomic uint32_t done;     /* the malformed client sent all */
        _Atomic uint32_t quit;     /* the conductor asks it to close and exit 0 */
        _Atomic uint64_t cycles;
        _Atomic uint64_t frames;     /* frames checked */
        _Atomic uint64_t lost;       /* frames that did not come, or came wrong */
        _Atomic uint64_t gaps;       /* cycles whose sample time skipped */
        _Atomic uint64_t bad;        /* samples that were not the sine's */
        _Atomic uint64_t reopens;    /* streams opened again (suspended, or the device went) */
        _Atomic uint64_t suspended;  /* of those, suspended by udkd for lateness */
        _Atomic uint64_t sent;       /* malformed: messages sent */
        _Atomic uint64_t closed;     /* malformed: sessions udkd closed, as it must */
        _Atomic uint64_t refused;    /* malformed: requests refused with an error, session kept */
        _Atomic uint64_t unexpected; /* malformed: anything else (a failure) */
        char error[256];             /* the client's failure, when it exits 1 */
};

struct soak_shared {
        struct soak_slot slots[SOAK_SLOTS];
};

/* The untouched device's sine: what the listeners check. */
#define SOAK_UNTOUCHED     "untouched"
#define SOAK_VICTIM_DEVICE "test:knob"
#define SOAK_RATE          48000u
#define SOAK_FREQUENCY     440u

/* soak-clients.c: run a client role; its exit status. */
int soak_client_main(enum soak_role role, struct soak_slot *slot, const char *socket_path);

/* soak-malformed.c: @count malformed messages on fresh sessions; its exit status. */
int soak_malformed_main(struct soak_slot *slot, const char *socket_path, uint64_t count, uint64_t seed);

static inline void soak_slot_error(struct soak_slot *slot, const char *text)
{
        size_t i = 0;

        for (; text[i] && i < sizeof(slot->error) - 1; i++)
                slot->error[i] = text[i];
        slot->error[i] = '\0';
}

uint64_t soak_now_ms(void);

/* --- the conductor (udk-soak.c, soak-faults.c) --- */

#include <pthread.h>

/* Times of one kind of event, ms: their count, median, 99th percentile and maximum. */
struct soak_times {
        uint32_t *ms;
        size_t n, capacity;
};

struct soak_options {
        uint64_t driver_kills, client_kills, malformed, stalls, bus_restarts;
        uint64_t warmup;  /* faults of each kind before the first sample of RSS and fds */
        uint64_t seconds; /* the whole run's bound */
        uint64_t seed;
        uint32_t period; /* the untouched device's */
        uint64_t rss_bound_kib;
        const char *udkd, *driverhost, *family_dir;
        bool verbose;
};

/* The restart policy of the personalities the soak writes (both drivers). */
#define SOAK_RESTART_DELAY_MS     5
#define SOAK_RESTART_DELAY_MAX_MS 20
#define SOAK_START_TIMEOUT_MS     1000
#define SOAK_RESTART_LIMIT        "100/1s"
/* The most a killed driver may take to run again under that policy: the
 * back-off's cap, then a start within its time-out. */
#define SOAK_POLICY_MS (SOAK_RESTART_DELAY_MAX_MS + SOAK_START_TIMEOUT_MS)
/* udkd takes a dead client's node out at its hang-up, when its control thread
 * next runs: at most 9 ms (p99 3 ms) in full runs on the loaded 2-CPU machine
 * of docs/reliability.md, 17 ms under ASan, since that thread no longer waits
 * in posix_spawn on a new driver host's scheduling and the soak reaps the
 * zombie only after.  The bound leaves room for this process's own wake-ups on
 * a loaded machine; a node that stays longer is udkd's doing. */
#define SOAK_CLIENT_GONE_MS 1000u

struct soak {
        struct soak_options opt;
        struct soak_shared *sh;
        int shm_fd;
        char self[4096]; /* this program, for the clients */
        char dir[64];    /* the private folder: socket, config, drivers, log */
        char socket[128];
        char log[128];
        pid_t udkd;
        int udkd_status;
        bool udkd_exited;
        uint64_t start_ms, deadline_ms;

        _Atomic bool stop; /* a failure or the time bound: every loop ends */
        /* A thread's children die with the thread that forked them (PR_SET_PDEATHSIG is per
         * thread): the fault threads say they are done, and live until the conductor releases them. */
        _Atomic unsigned threads_done;
        _Atomic bool release;
        pthread_mutex_t fail_lock;
        char failure[1024];

        /* Held by a bus restart until the victim device and its clients are back,
         * and by each client kill and stall (whose verdicts need the device). */
        pthread_mutex_t bus_lock;
        pthread_mutex_t ids_lock;
        uint32_t bus_driver, audio_driver, victim_device, untouched_device;
        uint32_t victim_period, victim_late_limit;

        /* figures */
        uint64_t driver_kills, bus_restarts, client_kills, stalls_short, stalls_long;
        struct soak_times driver_dead, driver_back, bus_dead, bus_back, bus_audio_back;
        struct soak_times client_dead, client_gone, client_back;
        uint64_t stall_late_cycles;
};

void soak_fail(struct soak *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool soak_stopped(struct soak *s);
void soak_times_add(struct soak_times *t, uint64_t ms);

/* Start client @slot in @role (the malformed one sends @count messages); 0 or -1 (failed). */
int soak_spawn(struct soak *s, unsigned slot, enum soak_role role, uint64_t count);
/* Wait (bounded) until the client of @slot streams; false (failed) if it does not. */
bool soak_wait_running(struct soak *s, unsigned slot);
/* SIGKILL and reap the client of @slot (bounded). */
void soak_reap(struct soak *s, unsigned slot);

/* soak-faults.c: each does one fault and checks what came after; false on a failure (soak_fail). */
bool soak_registry_ready(struct soak *s, struct udk_client *c);
bool soak_driver_kill(struct soak *s, struct udk_client *c);
bool soak_bus_restart(struct soak *s, struct udk_client *c);
bool soak_client_kill(struct soak *s, struct udk_client *c, unsigned slot);
bool soak_stall(struct soak *s, struct udk_client *c, bool past_limit);
/* The faults of the main run: drivers and bus in one thread, clients and stalls in another. */
void *soak_drivers_thread(void *data);
void *soak_clients_thread(void *data);

#endif
