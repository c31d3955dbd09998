/* SPDX-License-Identifier: MIT */
/*
 * udkctl personalities: every personality udkd loaded, one a line, then
 * how many loaded and the sentence of each file that did not:
 *
 *   NAME            FAMILY  DRIVER             CLASS      RULES  SCORE  FALLBACK  FILE
 *   acme-usb-audio  usb     /x/drivers/acme.so AcmeAudio      2      0  no        /x/drivers/acme.conf:1
 *
 *   1 personality loaded, 1 file with errors:
 *   /x/drivers/broken.conf:4: unknown key 'colour' in [personality]
 *
 * Files with errors are no failure: the exit status is 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "json.h"
#include "table.h"
#include "udkctl.h"

static void print_json(const struct udk_msg_object *objects, size_t n, char **errors, size_t n_errors)
{
        struct udkctl_json j;

        udkctl_json_init(&j, stdout);
        udkctl_json_begin_object(&j, NULL);
        udkctl_json_begin_array(&j, "personalities");
        for (size_t i = 0; i < n; i++)
                if (strcmp(udk_client_objects_at(objects, i)->klass, "personality") == 0)
                        udkctl_json_object(&j, NULL, udk_client_objects_at(objects, i));
        udkctl_json_end_array(&j);
        udkctl_json_begin_array(&j, "errors");
        for (size_t i = 0; i < n_errors; i++)
                udkctl_json_string(&j, NULL, errors[i]);
        udkctl_json_end_array(&j);
        udkctl_json_end_object(&j);
        udkctl_json_finish(&j);
}

static int print_text(const struct udk_msg_object *objects, size_t n, char **errors, size_t n_errors)
{
        static const char *const spec[] = { "NAME", "FAMILY", "DRIVER", "CLASS", ">RULES", ">SCORE", "FALLBACK",
                                            "FILE" };
        struct udkctl_table t;
        size_t n_loaded = 0;

        udkctl_table_init(&t, UDK_ELEMENTSOF(spec), spec);
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_object *obj = udk_client_objects_at(objects, i);
                const char *klass = udkctl_prop_string(obj, "class", "");
                char rules[24], score[24], where[UDKCTL_TABLE_CELL_MAX];

                if (strcmp(obj->klass, "personality") != 0)
                        continue;
                n_loaded++;
                snprintf(rules, sizeof(rules), "%" PRId64, udkctl_prop_int(obj, "rules", 0));
                snprintf(score, sizeof(score), "%" PRId64, udkctl_prop_int(obj, "probe_score", 0));
                snprintf(where, sizeof(where), "%s:%" PRId64, udkctl_prop_string(obj, "file", "?"),
                         udkctl_prop_int(obj, "line", 0));
                if (udkctl_table_add(&t, (const char *const[]){ obj->name, udkctl_prop_string(obj, "family", "?"),
                                                                udkctl_prop_string(obj, "driver", "?"),
                                                                *klass ? klass : "-", rules, score,
                                                                udkctl_prop_int(obj, "fallback", 0) ? "yes" : "no",
                                                                where }) < 0) {
                        udkctl_table_free(&t);
                        udkctl_error("out of memory");
                        return -ENOMEM;
                }
        }
        if (n_loaded > 0) {
                udkctl_table_print(&t, stdout);
                putchar('\n');
        }
        udkctl_table_free(&t);
        printf("%zu personalit%s loaded, %zu file%s with errors%s\n", n_loaded, n_loaded == 1 ? "y" : "ies",
               n_errors, n_errors == 1 ? "" : "s", n_errors ? ":" : "");
        for (size_t i = 0; i < n_errors; i++)
                printf("%s\n", errors[i]);
        return 0;
}

int udkctl_personalities(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *objects = NULL;
        _udk_cleanup_free_ char **errors = NULL;
        struct udk_client *client;
        size_t n, n_errors;
        int r;

        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        r = udk_client_list(client, 0, &objects, &n);
        if (r < 0) {
                udkctl_fail(client, r, "list");
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        r = udk_client_personality_errors(client, &errors, &n_errors);
        if (r < 0) {
                udkctl_fail(client, r, "personalities");
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        udk_client_disconnect(client);

        if (opts->json)
                print_json(objects, n, errors, n_errors);
        else if (print_text(objects, n, errors, n_errors) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}
