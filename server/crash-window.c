/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "crash-window.h"

void udkd_crash_window_forget(struct udkd_crash_window *w)
{
        memset(w, 0, sizeof(*w));
}

/* The @back-th latest crash held (0: the latest); @back < w->n. */
static uint64_t latest(const struct udkd_crash_window *w, uint32_t back)
{
        return w->at[(w->next + UDKD_CRASH_WINDOW_SIZE - 1u - back) % UDKD_CRASH_WINDOW_SIZE];
}

/* A crash "in" the window ending at @now: at most @window before it (both ends in). */
static bool within(uint64_t at, uint64_t now, uint64_t window)
{
        return at > now || now - at <= window;
}

bool udkd_crash_window_add(struct udkd_crash_window *w, uint64_t now_ns, uint32_t limit, uint64_t window_ns)
{
        w->at[w->next] = now_ns;
        w->next = (w->next + 1u) % UDKD_CRASH_WINDOW_SIZE;
        if (w->n < UDKD_CRASH_WINDOW_SIZE)
                w->n++;
        if (limit == 0)
                return false;
        if (limit > UDKD_RESTART_LIMIT_COUNT_MAX)
                limit = UDKD_RESTART_LIMIT_COUNT_MAX;
        /* limit + 1 crashes are held: the oldest of them decides. */
        return w->n > limit && within(latest(w, limit), now_ns, window_ns);
}

uint32_t udkd_crash_window_count(const struct udkd_crash_window *w, uint64_t now_ns, uint64_t window_ns)
{
        uint32_t n = 0;

        while (n < w->n && within(latest(w, n), now_ns, window_ns))
                n++;
        return n;
}
