/* SPDX-License-Identifier: MIT */
/*
 * udkctl drivers: every driver udkd runs, one a line, with its state, its
 * process and its supervisor's counts; udkctl restart|stop|start DRIVER,
 * which wait until the driver runs (restart, start) or has stopped (stop).
 *
 *   NAME     ID  STATE       PID  RESTARTS  CRASHES  NOTE
 *   bus       9  running    4242         0        0
 *   crasher  12  restarting    -         3        3  restart in 400 ms, last exit: killed by signal 9
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udk/clock.h>
#include <udk/util.h>

#include "json.h"
#include "table.h"
#include "udkctl.h"

/* How long restart, stop and start wait for the driver: more than a stop's
 * and a start's time-outs (5 s each by default). */
#define DRIVER_WAIT_MS 15000
#define DRIVER_POLL_MS 20

/* "shared host pair, restart in 400 ms, last exit: killed by SIGKILL": what the state alone does not say. */
static void driver_note(const struct udk_msg_object *obj, char *buf, size_t size)
{
        const char *state = udkctl_prop_string(obj, "state", "");
        const char *last_exit = udkctl_prop_string(obj, "last_exit", "");
        const char *host = udkctl_prop_string(obj, "host", "");
        size_t len;

        buf[0] = '\0';
        if (*host)
                snprintf(buf, size, "shared host %s", host);
        len = strlen(buf);
        if (strcmp(state, "restarting") == 0 && udk_msg_object_prop(obj, "restart_in_ms"))
                snprintf(buf + len, size - len, "%srestart in %" PRId64 " ms", len ? ", " : "",
                         udkctl_prop_int(obj, "restart_in_ms", 0));
        len = strlen(buf);
        if (*last_exit)
                snprintf(buf + len, size - len, "%slast exit: %s", len ? ", " : "", last_exit);
}

static void int_cell(char *buf, size_t size, const struct udk_msg_object *obj, const char *key, bool zero_is_none)
{
        const struct udk_prop *p = udk_msg_object_prop(obj, key);

        if (!p || p->type != UDK_PROP_INT || (zero_is_none && p->i <= 0))
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%" PRId64, p->i);
}

int udkctl_drivers(const struct udkctl_options *opts, int argc, char **argv)
{
        static const char *const spec[] = { "NAME", ">ID", "STATE", ">PID", ">RESTARTS", ">CRASHES", "NOTE" };
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        struct udk_client *client;
        struct udkctl_table t;
        struct udkctl_json j;
        size_t n, n_drivers = 0;
        int r;

        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        r = udk_client_list(client, 0, &objects, &n);
        if (r < 0) {
                udkctl_fail(client, r, "list");
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        udk_client_disconnect(client);

        if (opts->json) {
                udkctl_json_init(&j, stdout);
                udkctl_json_begin_array(&j, NULL);
                for (size_t i = 0; i < n; i++)
                        if (strcmp(udk_client_objects_at(objects, i)->klass, "driver") == 0)
                                udkctl_json_object(&j, NULL, udk_client_objects_at(objects, i));
                udkctl_json_end_array(&j);
                udkctl_json_finish(&j);
                return fflush(stdout) == 0 ? UDKCTL_EXIT_OK : UDKCTL_EXIT_FAILURE;
        }

        udkctl_table_init(&t, UDK_ELEMENTSOF(spec), spec);
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);
                char id[16], pid[24], restarts[24], crashes[24], note[UDKCTL_TABLE_CELL_MAX];

                if (strcmp(obj->klass, "driver") != 0)
                        continue;
                n_drivers++;
                snprintf(id, sizeof(id), "%" PRIu32, obj->id);
                int_cell(pid, sizeof(pid), obj, "pid", true);
                int_cell(restarts, sizeof(restarts), obj, "restarts", false);
                int_cell(crashes, sizeof(crashes), obj, "crashes", false);
                driver_note(obj, note, sizeof(note));
                if (udkctl_table_add(&t, (const char *const[]){ obj->name, id,
                                                                udkctl_prop_string(obj, "state", "?"), pid,
                                                                restarts, crashes, note }) < 0) {
                        udkctl_table_free(&t);
                        udkctl_error("out of memory");
                        return UDKCTL_EXIT_FAILURE;
                }
        }
        if (n_drivers == 0)
                printf("no drivers\n");
        else
                udkctl_table_print(&t, stdout);
        udkctl_table_free(&t);
        return fflush(stdout) == 0 ? UDKCTL_EXIT_OK : UDKCTL_EXIT_FAILURE;
}

/* The state a restart, a stop or a start ends in. */
static const char *target_state(enum udk_driver_action action)
{
        return action == UDK_DRIVER_STOP ? "stopped" : "running";
}

/*
 * Wait for @obj to reach the state of @action, or to fail, reading it every
 * DRIVER_POLL_MS: udkd answers once it began the action.  Returns 0 in
 * the target state, else prints why and returns a negative errno.
 */
static int driver_wait(struct udk_client *client, enum udk_driver_action action, struct udk_msg_object *obj)
{
        const char *verb = udk_client_driver_action_name(action);
        uint64_t deadline = udk_time_now() + DRIVER_WAIT_MS * 1000000ull;
        char name[UDK_OBJECT_NAME_MAX], note[UDKCTL_TABLE_CELL_MAX];
        udk_object_id id = obj->id;
        const char *state;
        int r;

        udk_strlcpy(name, obj->name, sizeof(name));
        for (;;) {
                r = udk_client_info(client, id, obj);
                if (r == -ENOENT) {
                        udkctl_error("%s %s: the driver is gone (its nub was removed)", verb, name);
                        return r;
                }
                if (r < 0) {
                        udkctl_fail(client, r, verb);
                        return r;
                }
                state = udkctl_prop_string(obj, "state", "");
                if (strcmp(state, target_state(action)) == 0)
                        return 0;
                if (strcmp(state, "failed") == 0 || (action == UDK_DRIVER_STOP && strcmp(state, "stopped") == 0))
                        break;
                if (udk_time_now() >= deadline) {
                        driver_note(obj, note, sizeof(note));
                        udkctl_error("%s %s: still %s after %d s%s%s%s", verb, name, state, DRIVER_WAIT_MS / 1000,
                                     *note ? " (" : "", note, *note ? ")" : "");
                        return -ETIMEDOUT;
                }
                usleep(DRIVER_POLL_MS * 1000);
        }
        driver_note(obj, note, sizeof(note));
        udkctl_error("%s %s: the driver is now %s%s%s%s", verb, name, state, *note ? " (" : "", note,
                     *note ? ")" : "");
        return -EIO;
}

int udkctl_driver_control(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *obj = malloc(UDK_MSG_SIZE_MAX);
        const char *verb = udk_client_driver_action_name(opts->action);
        struct udk_client *client;
        int r, status = UDKCTL_EXIT_FAILURE;

        if (!obj) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup_class(client, "driver", argv[0], obj) < 0)
                goto out;
        r = udk_client_driver_control(client, obj->id, opts->action);
        if (r < 0) {
                udkctl_error("%s %s: %s", verb, obj->name,
                             *udk_client_error(client) ? udk_client_error(client) : udk_strerror(r));
                goto out;
        }
        if (driver_wait(client, opts->action, obj) < 0)
                goto out;
        printf("%s: %s\n", obj->name, target_state(opts->action));
        status = fflush(stdout) == 0 ? UDKCTL_EXIT_OK : UDKCTL_EXIT_FAILURE;
out:
        udk_client_disconnect(client);
        return status;
}
