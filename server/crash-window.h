/* SPDX-License-Identifier: MIT */
/*
 * restart_limit's sliding window: COUNT crashes are allowed within any
 * WINDOW; the crash that makes COUNT + 1 of them within WINDOW (both ends
 * counted: the first at now - WINDOW is still in) is the one that gives up.
 * The times of the last UDKD_CRASH_WINDOW_SIZE crashes are kept in a fixed
 * ring, enough for any COUNT the personality parser accepts, so that the
 * limit may change (a reloaded personality) and still be judged on the
 * crashes that really happened.  Pure: no clock, no I/O, no allocation.
 */
#ifndef UDKD_CRASH_WINDOW_H
#define UDKD_CRASH_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "personality.h"

#define UDKD_CRASH_WINDOW_SIZE (UDKD_RESTART_LIMIT_COUNT_MAX + 1u)

struct udkd_crash_window {
        uint64_t at[UDKD_CRASH_WINDOW_SIZE]; /* crash times (ns), the oldest overwritten first */
        uint32_t next;                       /* where the next one goes */
        uint32_t n;                          /* how many are held, up to UDKD_CRASH_WINDOW_SIZE */
};

/* Forget every crash (a client's restart, or restart_reset of running well).  A zeroed window is empty. */
void udkd_crash_window_forget(struct udkd_crash_window *w);

/*
 * Record a crash at @now_ns (times never go back) and judge it: true when it
 * is more than @limit crashes within @window_ns, i.e. the @limit crashes
 * before it all happened at or after @now_ns - @window_ns.  @limit 0 means
 * no limit (never true); a @limit above UDKD_RESTART_LIMIT_COUNT_MAX is
 * taken as that.
 */
bool udkd_crash_window_add(struct udkd_crash_window *w, uint64_t now_ns, uint32_t limit, uint64_t window_ns);

/* How many of the held crashes happened at or after @now_ns - @window_ns (for messages). */
uint32_t udkd_crash_window_count(const struct udkd_crash_window *w, uint64_t now_ns, uint64_t window_ns);

#endif
