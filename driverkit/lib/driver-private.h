/* SPDX-License-Identifier: MIT */
/* The running driver instance, shared by driverkit/lib/'s driver files. */
#ifndef UDK_DRIVER_PRIVATE_H
#define UDK_DRIVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/driver-protocol.h>
#include <udk/driver.h>

#include "dispatch-private.h"

struct udk_nub {
        udk_object_id id;
        char name[UDK_OBJECT_NAME_MAX];
        char family[UDK_FAMILY_NAME_MAX];
        struct udk_dprop props[UDK_DPROPS_MAX];
        size_t n_props;
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds;
};

/* A message from udkd that came while a request waited for its REPLY. */
struct driver_pending {
        struct driver_pending *next;
        size_t len;
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds;
        /* Read back as driver.c's union of messages: aligned as any of them. */
        _Alignas(max_align_t) union {
                struct udk_msg_header h;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } msg;
};

enum driver_phase {
        PHASE_LOADED,  /* init() done, READY sent, waiting for START */
        PHASE_RUNNING, /* start() succeeded */
        PHASE_DONE,    /* stopped, failed or hung up: no more callbacks */
};

struct udk_driver {
        const struct udk_driver_descriptor *desc;
        void *state;
        struct udk_dispatch_queue *q;
        int sock;
        enum driver_phase phase;
        int exit_code; /* enum udk_driverhost_exit, once done */
        bool hung_up;  /* udkd closed the socket */
        bool terminated; /* udk_driver_terminate(): stop() runs at the end */
        bool done;     /* over: its owner muted, end_source signalled */
        unsigned logs_dropped; /* LOG lines udkd's full socket had no room for, since the last that went */

        /* What the driver's code made on the queue is this owner's: muted and reclaimed at the end. */
        struct dispatch_owner owner;
        struct udk_dispatch_source *end_source; /* the host's: runs the end outside the driver's callbacks */
        void (*ended)(void *data, int code);
        void *ended_data;

        struct udk_dispatch_source *sock_source;
        struct udk_dispatch_source *pending_source;
        struct driver_pending *pending_head, *pending_tail;
        uint32_t next_sequence;
        bool in_request;

        struct udk_nub provider;
        struct udk_dprop personality_props[UDK_DPROPS_MAX];
        size_t n_personality_props;
        char personality[UDK_OBJECT_NAME_MAX];
        char class_name[UDK_OBJECT_NAME_MAX];
        uint32_t restarts;
        char error[UDK_MSG_TEXT_MAX];

        uint32_t *handles; /* published nubs' */
        size_t n_handles, handles_cap;
};

/* Send @msg (its header's type and size set, sequence set here) and wait for its REPLY: the status,
 * udkd's sentence in drv->error, *@ret_id (may be NULL) the REPLY's id. */
int driver_request(struct udk_driver *drv, struct udk_msg_header *msg, size_t len, udk_object_id *ret_id);

/* End the instance with @code: nothing of it runs after the callback that runs now; the end follows on
 * the queue (stop() after a hang-up, free(), the reclaim, the host's ended callback). */
void driver_fail(struct udk_driver *drv, int code);

#endif
