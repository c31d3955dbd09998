/* SPDX-License-Identifier: MIT */
/*
 * What the example clients share (see example.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "example.h"

const char *example_prog = "udk-example";

int example_usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: error: ", example_prog);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '%s --help'.\n", example_prog);
        return EXAMPLE_EXIT_USAGE;
}

int example_fail(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: error: ", example_prog);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

int example_parse_number(const char *opt, const char *text, double min, double max, const char *unit,
                         double *ret)
{
        int r = udk_parse_double(text, min, max, ret);

        if (r == -ERANGE)
                return example_usage_error("%s %s: out of range (%g..%g%s)", opt, text, min, max, unit);
        if (r < 0)
                return example_usage_error("%s '%s' is not a number", opt, text);
        return 0;
}

static uint32_t prop_u32(const struct udk_msg_object *o, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(o, key);

        return p && p->type == UDK_PROP_INT && p->i >= 0 && p->i <= UINT32_MAX ? (uint32_t)p->i : 0;
}

int example_find_device(struct udk_client *c, const char *what, struct example_device *ret)
{
        const struct udk_msg_object *dev = NULL;
        struct udk_msg_object *objects;
        udk_object_id id = 0;
        size_t n;

        if (what && udk_client_find(c, what, &id) < 0)
                return example_fail("%s", udk_client_error(c));
        if (udk_client_list(c, 0, &objects, &n) < 0)
                return example_fail("%s", udk_client_error(c));
        for (size_t i = 0; i < n && !dev; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);
                if ((id == 0 || o->id == id) && strcmp(o->klass, "device") == 0)
                        dev = o;
        }
        if (!dev) {
                free(objects);
                return what ? example_fail("%s is not a device", what) : example_fail("udkd has no device");
        }
        ret->id = dev->id;
        udk_strlcpy(ret->name, dev->name, sizeof(ret->name));
        ret->rate = prop_u32(dev, "rate");
        ret->input_channels = prop_u32(dev, "input_channels");
        ret->output_channels = prop_u32(dev, "output_channels");
        free(objects);
        if (ret->rate == 0)
                return example_fail("device %s does not say its rate", ret->name);
        return 0;
}

static void stop_signals(sigset_t *set)
{
        sigemptyset(set);
        sigaddset(set, SIGINT);
        sigaddset(set, SIGTERM);
}

void example_block_signals(void)
{
        sigset_t set;

        stop_signals(&set);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int example_run(struct udk_client_stream *s, double seconds, int (*done)(void *data), void *data)
{
        uint64_t end = seconds > 0 ? now_ns() + (uint64_t)(seconds * 1e9) : UINT64_MAX;
        sigset_t set;

        stop_signals(&set);
        for (;;) {
                enum udk_node_state state = udk_client_stream_state(s);
                struct timespec slice = { .tv_nsec = 10 * 1000 * 1000 };
                uint64_t now = now_ns();

                if (state == UDK_NODE_CLOSED)
                        return example_fail("udkd closed the stream (did udkd stop?)");
                if (state == UDK_NODE_SUSPENDED)
                        return example_fail("udkd suspended the stream: it missed its deadline too often");
                if (done) {
                        int r = done(data);
                        if (r != 0)
                                return r > 0 ? 0 : 1;
                } else if (now >= end) {
                        return 0;
                }
                if (!done && end - now < (uint64_t)slice.tv_nsec)
                        slice.tv_nsec = (long)(end - now);
                if (sigtimedwait(&set, NULL, &slice) > 0)
                        return 0;
        }
}
