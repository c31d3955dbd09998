/* SPDX-License-Identifier: MIT */
/*
 * The device's insides, shared by device.c (control thread) and cycle.c
 * (the RT thread).  Not for other components.
 */
#ifndef UDK_DEVICE_PRIVATE_H
#define UDK_DEVICE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include <udk/device.h>
#include <udk/ring.h>
#include <udk/rt.h>
#include <udk/shm.h>

#define UDK_DEVICE_SHM_VERSION 1
#define UDK_PLAN_RETIRE_SLOTS  16

/*
 * The device's shared-memory segment: this header, then the input ring,
 * then the output ring (each 64-byte aligned).  Other processes may map it
 * read-only to read the clock, the statistics and the rings.
 */
struct udk_device_shm {
        uint32_t version; /* UDK_DEVICE_SHM_VERSION */
        uint32_t header_size;
        uint32_t rate;
        uint32_t period;
        uint32_t ring_frames;
        uint32_t input_channels;
        uint32_t output_channels;
        uint32_t input_offset;  /* bytes from the segment start */
        uint32_t output_offset;
        uint32_t reserved[7];   /* must be 0 */
        struct udk_zero_timestamp zts;
        uint8_t pad[32];
        struct udk_cycle_stats stats;
};

_Static_assert(offsetof(struct udk_device_shm, zts) == 64, "device shm layout: zts");
_Static_assert(offsetof(struct udk_device_shm, stats) == 128, "device shm layout: stats");

struct udk_handler {
        struct udk_object obj;
        struct udk_device *dev;
        udk_io_handler_fn fn;
        void *ctx;
        uint32_t ops;
        void (*destroy)(void *ctx);
        const void *tag;
        unsigned refs; /* plans that hold it; control thread only */
        bool removed;
};

struct udk_node {
        struct udk_object obj;
        struct udk_device *dev;
        udk_node_process_fn process;
        void *data;
        void (*destroy)(void *data);
        float *output; /* period * output channels, the node's own */
        unsigned refs;
        bool removed;
};

struct udk_remote {
        struct udk_object obj;
        struct udk_device *dev;
        struct udk_remote_desc desc;   /* name points into obj */
        _Atomic uint32_t gain_bits;
        struct udk_remote_stats stats; /* the RT thread writes, the control thread reads */
        unsigned refs;
        bool removed;
};

/*
 * What the RT thread runs: an immutable snapshot of the handlers and nodes
 * in order, built by the control thread and swapped in at a cycle start.
 * Function pointers are copied in so the cycle follows no pointer the
 * control thread may change.
 */
struct udk_plan_handler {
        udk_io_handler_fn fn;
        void *ctx;
        uint32_t ops;
        struct udk_handler *handler;
};

struct udk_plan_node {
        udk_node_process_fn process;
        void *data;
        float *output;
        struct udk_node *node;
};

struct udk_plan {
        uint32_t n_handlers;
        uint32_t n_nodes;
        uint32_t n_remotes;
        struct udk_plan_handler handlers[UDK_DEVICE_HANDLERS_MAX];
        struct udk_plan_node nodes[UDK_DEVICE_NODES_MAX];
        struct udk_remote *remotes[UDK_DEVICE_REMOTES_MAX];
};

struct udk_device {
        struct udk_object obj;
        struct udk_device_config cfg;
        const struct udk_backend_ops *backend;
        void *backend_instance;
        bool opened;

        struct udk_shm shm;
        struct udk_device_shm *shared;
        struct udk_stream streams[2];
        bool has_stream[2];
        uint32_t ring_frames;
        uint32_t latency[2];
        uint32_t safety_offset[2];
        uint64_t period_ns; /* rounded, for statistics */

        struct udk_control *controls[UDK_DEVICE_CONTROLS_MAX];
        uint32_t n_controls;

        /* The control thread's view: the order the next plan will have. */
        struct udk_handler *handlers[UDK_DEVICE_HANDLERS_MAX];
        uint32_t n_handlers;
        struct udk_node *nodes[UDK_DEVICE_NODES_MAX];
        uint32_t n_nodes;
        struct udk_remote *remotes[UDK_DEVICE_REMOTES_MAX];
        uint32_t n_remotes;

        /* The graph segment: the cycle's own activation record. */
        struct udk_shm graph_shm;
        struct udk_activation *graph;
        struct udk_histogram graph_times;

        /* Control -> RT: the next plan; RT -> control: plans it let go of. */
        _Atomic(struct udk_plan *) pending;
        struct udk_ring retired;
        uint8_t retired_mem[sizeof(struct udk_ring_header) + UDK_PLAN_RETIRE_SLOTS * sizeof(void *)]
                __attribute__((aligned(64)));

        struct udk_rt_hooks hooks;
        pthread_t thread;
        bool thread_started;
        bool realtime;
        _Atomic bool keep_running;
        bool backend_started;
        bool opening;        /* inside the backend's open: udk_device_set_timing() may run */
        bool backend_thread; /* the backend's own thread runs udk_device_run_cycle() */
        bool rt_entered;     /* that thread ran its first cycle (the hooks' enter) */

        /* Backend -> control thread: UDK_DEVICE_REQUEST_* bits and the first reason. */
        _Atomic uint32_t requests;
        _Atomic uint32_t request_reason_claimed; /* 0 free, 1 being written, 2 written */
        char request_reason[256];
        /* RT -> control: the backend failed for good (its negative errno),
         * the RT thread stopped; 0 while it runs. */
        _Atomic int failure;

        /* Only the RT thread touches these (or udk_device_cycle() while it
         * does not run). */
        struct {
                struct udk_plan *plan;
                uint64_t start_time;   /* host time of sample time 0 */
                uint64_t sample_time;  /* of the cycle about to run */
                bool zts_due;          /* publish at the next boundary we reach */
                uint64_t resync_time;  /* after an xrun: the grid time of the next boundary, 0 if none */
                uint64_t graph_sequence; /* cycles with remote nodes */
                struct udk_dll dll;
        } rt;
};

/* device.c */
int udk_device_plan_publish(struct udk_device *dev);

/* remote.c */
void udk_remote_unref(struct udk_remote *r);

/* graph.c: step 5 for the remote nodes; sums their outputs into @mix. */
void udk_graph_run(struct udk_device *dev, const struct udk_plan *plan, uint64_t sample_time,
                   uint64_t host_time, uint64_t boundary_time, float *mix);

/* cycle.c */
void udk_cycle_take_plan(struct udk_device *dev);
void udk_cycle_process(struct udk_device *dev, uint64_t wake_time, uint64_t boundary_time);
void *udk_cycle_thread(void *arg);
uint64_t udk_device_frames_to_ns(const struct udk_device *dev, uint64_t frames);

/* rt.c */
void udk_rt_thread_set_current(bool on);

#endif
