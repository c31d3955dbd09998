/* SPDX-License-Identifier: MIT */
/*
 * The test bus driver: a bus without hardware.  It binds udkd's root nub
 * of the test bus (family root, bus = test), reads the description file
 * its personality grants it (grant = nubs.ini: udkd opens the file and
 * hands the descriptor in START) and publishes one nub of family "test"
 * per [nub] section, which udkd then matches to device drivers.
 *
 * Hotplug: the driver watches the file with inotify (through
 * /proc/self/fd/N: the sandbox lets it open nothing by name) and, each
 * time a writer closes it, reads it again from offset 0 and applies the
 * difference: a new handle is plugged in, a vanished one unplugged, a
 * changed one unplugged and plugged in again.  Edit the file in place
 * (an editor that saves by renaming leaves the driver watching the old
 * file).  See description.h for the format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/driver.h>

#include "description.h"

struct bus {
        struct udk_driver *drv;
        int file;    /* the granted description file: the host's, not ours to close */
        int inotify; /* ours */
        struct udk_dispatch_source *watch;
        struct test_description nubs; /* what is published now */
};

static void bus_warn(void *data, unsigned line, const char *sentence)
{
        struct bus *bus = data;
        udk_driver_log(bus->drv, UDK_LOG_WARN, "description file:%u: %s", line, sentence);
}

/* The whole file, from offset 0 (a writer may have made it shorter). */
static int bus_read(struct bus *bus, char **ret_text, size_t *ret_size)
{
        struct stat st;
        size_t size = 0, cap;
        char *text;

        if (fstat(bus->file, &st) < 0)
                return -errno;
        if (st.st_size > TEST_DESCRIPTION_SIZE_MAX) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "description file: %lld bytes, at most %u: not read",
                               (long long)st.st_size, TEST_DESCRIPTION_SIZE_MAX);
                return -EFBIG;
        }
        cap = (size_t)st.st_size + 1; /* +1: see the end of a file that grew since */
        text = malloc(cap);
        if (!text)
                return -ENOMEM;
        for (;;) {
                ssize_t n = pread(bus->file, text + size, cap - size, (off_t)size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(text);
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
                if (size == cap) {
                        char *more;
                        if (cap > TEST_DESCRIPTION_SIZE_MAX) {
                                free(text);
                                return -EFBIG;
                        }
                        more = realloc(text, cap * 2);
                        if (!more) {
                                free(text);
                                return -ENOMEM;
                        }
                        text = more;
                        cap *= 2;
                }
        }
        *ret_text = text;
        *ret_size = size;
        return 0;
}

static int bus_publish(struct bus *bus, const struct test_nub *n)
{
        struct udk_nub_property props[TEST_NUB_PROPS_MAX];
        int r;

        for (size_t i = 0; i < n->n_props; i++)
                props[i] = (struct udk_nub_property){ n->keys[i], n->values[i] };
        r = udk_driver_publish_nub(bus->drv, n->handle, "test", n->name, props, n->n_props, NULL);
        if (r < 0)
                udk_driver_log(bus->drv, UDK_LOG_WARN, "description file:%u: nub '%s' (handle %u) not published: %s",
                               n->line, n->name, n->handle, udk_driver_error(bus->drv)[0] ? udk_driver_error(bus->drv)
                                                                                          : strerror(-r));
        else
                udk_driver_log(bus->drv, UDK_LOG_INFO, "nub '%s' (handle %u) plugged in", n->name, n->handle);
        return r;
}

/* Read the file again and make the published nubs what it says. */
static int bus_sync(struct bus *bus)
{
        struct test_description next = { 0 };
        char *text = NULL;
        size_t size = 0, kept = 0;
        int r;

        r = bus_read(bus, &text, &size);
        if (r < 0) {
                udk_driver_log(bus->drv, UDK_LOG_WARN, "description file: cannot read: %s", strerror(-r));
                return r;
        }
        r = test_description_parse(text, size, &next, bus_warn, bus);
        free(text);
        if (r < 0)
                return r;

        /* Unplug first: a changed nub goes out before it comes back under the same handle. */
        for (size_t i = 0; i < bus->nubs.n; i++) {
                const struct test_nub *old = &bus->nubs.nubs[i], *now = test_description_find(&next, old->handle);

                if (now && test_nub_equal(old, now))
                        continue;
                r = udk_driver_remove_nub(bus->drv, old->handle);
                if (r < 0)
                        udk_driver_log(bus->drv, UDK_LOG_WARN, "nub '%s' (handle %u) not removed: %s", old->name,
                                       old->handle, strerror(-r));
                else
                        udk_driver_log(bus->drv, UDK_LOG_INFO, "nub '%s' (handle %u) unplugged", old->name,
                                       old->handle);
        }
        /* Then plug in what is new or changed; one udkd refused is left out, to be tried at the next change. */
        for (size_t i = 0; i < next.n; i++) {
                const struct test_nub *now = &next.nubs[i], *old = test_description_find(&bus->nubs, now->handle);

                if ((old && test_nub_equal(old, now)) || bus_publish(bus, now) == 0)
                        next.nubs[kept++] = *now;
        }
        next.n = kept;
        test_description_clear(&bus->nubs);
        bus->nubs = next;
        return 0;
}

/* inotify says a writer closed the file: drain the events, then read it once. */
static void bus_changed(void *data, struct udk_dispatch_source *source)
{
        struct bus *bus = data;
        char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false;
        ssize_t n;

        while ((n = read(bus->inotify, events, sizeof(events))) > 0)
                for (char *at = events; at < events + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)at;

                        if (ev->mask & (IN_CLOSE_WRITE | IN_Q_OVERFLOW))
                                changed = true;
                        if (ev->mask & IN_IGNORED)
                                udk_driver_log(bus->drv, UDK_LOG_WARN,
                                               "description file: deleted or unmounted: its changes are no "
                                               "longer followed");
                        at += sizeof(*ev) + ev->len;
                }
        if (changed)
                bus_sync(bus);
}

static void bus_stop(struct udk_driver *drv, void *state)
{
        struct bus *bus = state;

        /* The nubs go with the host: udkd removes them and stops their drivers. */
        udk_dispatch_source_destroy(bus->watch);
        bus->watch = NULL;
        if (bus->inotify >= 0)
                close(bus->inotify);
        bus->inotify = -1;
        test_description_clear(&bus->nubs);
}

static int bus_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct bus *bus = state;
        char path[64];
        int r;

        bus->drv = drv;
        bus->inotify = -1;
        bus->file = udk_nub_fd(provider, 0);
        if (bus->file < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "no description file: the personality needs 'grant = FILE'");
                return -EBADF;
        }

        /* Watch before reading: a change in between is then read again, never missed. */
        bus->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (bus->inotify < 0)
                return -errno;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", bus->file);
        r = inotify_add_watch(bus->inotify, path, IN_CLOSE_WRITE) < 0 ? -errno : 0;
        if (r < 0)
                udk_driver_log(drv, UDK_LOG_ERROR, "cannot watch the description file (%s): %s", path,
                               strerror(-r));
        if (r == 0)
                r = udk_dispatch_fd_create(udk_driver_queue(drv), bus->inotify, UDK_DISPATCH_READABLE, bus_changed,
                                           bus, &bus->watch);
        if (r == 0)
                r = bus_sync(bus);
        if (r < 0)
                bus_stop(drv, bus); /* the host calls stop() only after a start() that succeeded */
        return r;
}

static const struct udk_driver_descriptor bus_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "test-bus",
        .description = "the test family's bus: nubs from a description file, hotplugged as it changes",
        .state_size = sizeof(struct bus),
        .start = bus_start,
        .stop = bus_stop,
};

UDK_DRIVER_EXPORT(bus_descriptor);
