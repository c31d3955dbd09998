/* SPDX-License-Identifier: MIT */
/*
 * The input gate of a driver's device.  While its driver is gone the device
 * runs on (its clock, its clients, their output to it), its input silenced:
 * the gate is the device's first IO handler (UDK_IO_BEGIN_READ), so that
 * the handlers after it and the clients see silence, from the first whole
 * period after it closes to the last one before it opens, never part of one.
 *
 *   open --udkd_gate_close()--> closed --udkd_gate_open()--> open
 *        (its driver's host is gone)     (a new run took the device back)
 *
 * The control thread opens and closes it; the RT thread reads it once per
 * cycle.  Not RT state otherwise: no allocation, no I/O.
 */
#ifndef UDKD_DRIVER_GATE_H
#define UDKD_DRIVER_GATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <udk/device.h>

struct udkd_gate {
        _Atomic bool closed;       /* control thread writes, RT thread reads */
        _Atomic uint64_t silenced; /* periods it silenced: RT thread writes, anyone reads */
        struct udk_device *dev;
};

/* Put @g, open, on @dev as its next IO handler (udkd: its first).  Control thread. */
int udkd_gate_attach(struct udkd_gate *g, struct udk_device *dev, struct udk_handler **ret);

/* From the next cycle on (the one running finishes as it began).  Control thread. */
void udkd_gate_close(struct udkd_gate *g);
void udkd_gate_open(struct udkd_gate *g);
bool udkd_gate_is_closed(const struct udkd_gate *g);

/* The periods the gate silenced so far: one more each cycle it found closed.  RT-safe. */
uint64_t udkd_gate_silenced(const struct udkd_gate *g);

#endif
