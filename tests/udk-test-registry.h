/* SPDX-License-Identifier: MIT */
/*
 * Watching udkd's registry from a test through libudk-client: drivers,
 * nubs and devices as the supervisor moves them.  Every wait is bounded
 * by REGISTRY_WAIT_MS (an includer may define it first) and pumps udkd's
 * stderr meanwhile, so a chatty udkd never blocks on a full pipe and a
 * failure shows what it said.
 */
#ifndef UDK_TEST_REGISTRY_H
#define UDK_TEST_REGISTRY_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udk/client.h>
#include <udk/util.h>

#include "udk-test.h"
#include "udk-test-udkd.h"

#ifndef REGISTRY_WAIT_MS
#define REGISTRY_WAIT_MS 10000
#endif

union object {
        struct udk_msg_object obj;
        uint8_t bytes[UDK_MSG_SIZE_MAX];
};

static inline const char *prop_string(const struct udk_msg_object *o, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(o, key);
        return p && p->type == UDK_PROP_STRING ? p->s : NULL;
}

static inline int64_t prop_int(const struct udk_msg_object *o, const char *key)
{
        const struct udk_prop *p = udk_msg_object_prop(o, key);

        if (!p || (p->type != UDK_PROP_INT && p->type != UDK_PROP_BOOL))
                udk_test_fail("object %" PRIu32 " (%s) has no integer property %s", o->id, o->name, key);
        return p->i;
}

/* The driver bound to the nub named @nub, 0 when there is none (yet). */
static inline udk_object_id driver_of(struct udk_client *client, const char *nub)
{
        udk_object_id id;
        union object o;
        const struct udk_prop *bound;

        if (udk_client_find_class(client, "nub", nub, &id) < 0 || udk_client_info(client, id, &o.obj) < 0)
                return 0;
        bound = udk_msg_object_prop(&o.obj, "bound");
        return bound && bound->type == UDK_PROP_INT ? (udk_object_id)bound->i : 0;
}

/* Wait until nub @nub's driver is in @state; its object in @o. */
static inline udk_object_id wait_driver(struct udk_client *client, struct proc *udkd, const char *nub,
                                        const char *state, union object *o)
{
        uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;
        const char *now = NULL;

        while (now_ms() < deadline) {
                udk_object_id id = driver_of(client, nub);

                if (id && udk_client_info(client, id, &o->obj) == 0) {
                        now = prop_string(&o->obj, "state");
                        if (now && strcmp(now, state) == 0)
                                return id;
                }
                proc_pump(udkd, 2);
        }
        udk_test_fail("nub %s's driver is %s, not %s, after %d ms; stderr: %s", nub, now ? now : "(none)", state,
                      REGISTRY_WAIT_MS, udkd->err);
}

/* Wait until the driver @driver is in @state (e.g. after a crash); its object in @o. */
static inline void wait_state(struct udk_client *client, struct proc *udkd, udk_object_id driver, const char *state,
                              union object *o)
{
        uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;
        const char *now = NULL;

        while (now_ms() < deadline) {
                if (udk_client_info(client, driver, &o->obj) == 0) {
                        now = prop_string(&o->obj, "state");
                        if (now && strcmp(now, state) == 0)
                                return;
                }
                proc_pump(udkd, 2);
        }
        udk_test_fail("driver %" PRIu32 " is %s, not %s, after %d ms; stderr: %s", driver, now ? now : "(gone)",
                      state, REGISTRY_WAIT_MS, udkd->err);
}

/* Wait until the object of class @klass named @name exists (or, with @present false, is gone); its id. */
static inline udk_object_id wait_object(struct udk_client *client, struct proc *udkd, const char *klass,
                                        const char *name, bool present)
{
        uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;
        udk_object_id id = 0;

        while (now_ms() < deadline) {
                bool found = udk_client_find_class(client, klass, name, &id) == 0;
                if (found == present)
                        return id;
                proc_pump(udkd, 2);
        }
        udk_test_fail("%s %s %s after %d ms; stderr: %s", klass, name, present ? "never came" : "never went",
                      REGISTRY_WAIT_MS, udkd->err);
}

/* Every string property of nub @name as "key=value\n" lines, in the order its bus driver gave them. */
static inline void nub_string_props(struct udk_client *client, const char *name, char *buf, size_t size)
{
        union object o;
        udk_object_id id;
        size_t len = 0;

        ASSERT_OK(udk_client_find_class(client, "nub", name, &id));
        ASSERT_OK(udk_client_info(client, id, &o.obj));
        buf[0] = '\0';
        for (uint32_t i = 0; i < o.obj.n_props; i++) {
                const struct udk_prop *p = &o.obj.props[i];

                if (p->type != UDK_PROP_STRING)
                        continue;
                len += (size_t)snprintf(buf + len, size - len, "%s=%s\n", p->key, p->s);
                ASSERT_TRUE(len < size);
        }
}

/* The value of control @name of @device, as udkctl prints it ("-12.0 dB"), into @buf: "" for none. */
static inline const char *control_value(struct udk_client *client, udk_object_id device, const char *name,
                                        char *buf, size_t size)
{
        struct udk_msg_object *objects = NULL;
        size_t n = 0;

        ASSERT_OK(udk_client_list(client, device, &objects, &n));
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *o = udk_client_objects_at(objects, i);

                if (o->parent == device && strcmp(o->klass, "control") == 0 && strcmp(o->name, name) == 0 &&
                    prop_string(o, "value"))
                        udk_strlcpy(buf, prop_string(o, "value"), size);
        }
        free(objects);
        return buf;
}

/* Wait until control @name of @device shows @value. */
static inline void wait_control_value(struct udk_client *client, struct proc *udkd, udk_object_id device,
                                      const char *name, const char *value)
{
        char now[64];

        for (uint64_t deadline = now_ms() + REGISTRY_WAIT_MS;
             strcmp(control_value(client, device, name, now, sizeof(now)), value) != 0;) {
                if (now_ms() >= deadline)
                        udk_test_fail("%s is '%s', not '%s', after %d ms; stderr: %s", name, now, value,
                                      REGISTRY_WAIT_MS, udkd->err);
                proc_pump(udkd, 2);
        }
}

/* Selector 1 of the test drivers: the level, in milli-dB. */
static inline int64_t call_level(struct udk_client *client, udk_object_id driver)
{
        uint64_t out[UDK_CALL_SCALARS_MAX];
        uint32_t n_out = 0;

        ASSERT_OK(udk_client_call(client, driver, 1, NULL, 0, NULL, 0, out, &n_out, NULL, 0, NULL));
        ASSERT_UINT_EQ(n_out, 1);
        return (int64_t)out[0];
}

#endif
