/* SPDX-License-Identifier: MIT */
/*
 * udkctl match NUB: every personality of the nub's family as udkd ranked
 * them for it, the winner first, each with why it won, lost or failed:
 *
 *   VERDICT  PERSONALITY     TIER  SCORE  RULES  WHY
 *   won      vendor-product     3      0      2  won over 'vendor-class': tier 3 above tier 2
 *   lost     vendor-class       2      0      2  lost to 'vendor-product': tier 2 below tier 3
 *   failed   revision-range     4      0      3  match.revision = 0x0100-0x01ff (line 26) failed: ...
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

static void print_json(const struct udk_msg_object *nub, const struct udk_msg_match_candidate *cands, size_t n)
{
        struct udkctl_json j;

        udkctl_json_init(&j, stdout);
        udkctl_json_begin_object(&j, NULL);
        udkctl_json_object(&j, "nub", nub);
        udkctl_json_begin_array(&j, "candidates");
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_match_candidate *m = &cands[i];

                udkctl_json_begin_object(&j, NULL);
                udkctl_json_string(&j, "personality", m->name);
                udkctl_json_uint(&j, "id", m->personality);
                udkctl_json_string(&j, "verdict", udk_client_match_verdict_name(m->verdict));
                udkctl_json_uint(&j, "tier", m->tier);
                udkctl_json_int(&j, "probe_score", m->probe_score);
                udkctl_json_uint(&j, "rules", m->n_rules);
                udkctl_json_string(&j, "why", m->why);
                udkctl_json_end_object(&j);
        }
        udkctl_json_end_array(&j);
        udkctl_json_end_object(&j);
        udkctl_json_finish(&j);
}

static int print_text(const struct udk_msg_object *nub, const struct udk_msg_match_candidate *cands, size_t n)
{
        static const char *const spec[] = { "VERDICT", "PERSONALITY", ">TIER", ">SCORE", ">RULES", "WHY" };
        struct udkctl_table t;

        if (n == 0) {
                printf("no personality of nub %s's family\n", nub->name);
                return 0;
        }
        udkctl_table_init(&t, UDK_ELEMENTSOF(spec), spec);
        for (size_t i = 0; i < n; i++) {
                const struct udk_msg_match_candidate *m = &cands[i];
                char tier[16], score[24], rules[16];

                snprintf(tier, sizeof(tier), "%" PRIu32, m->tier);
                snprintf(score, sizeof(score), "%" PRId64, m->probe_score);
                snprintf(rules, sizeof(rules), "%" PRIu32, m->n_rules);
                if (udkctl_table_add(&t, (const char *const[]){ udk_client_match_verdict_name(m->verdict),
                                                                m->name, tier, score, rules, m->why }) < 0) {
                        udkctl_table_free(&t);
                        udkctl_error("out of memory");
                        return -ENOMEM;
                }
        }
        udkctl_table_print(&t, stdout);
        udkctl_table_free(&t);
        return 0;
}

int udkctl_match(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *nub = malloc(UDK_MSG_SIZE_MAX);
        _udk_cleanup_free_ struct udk_msg_match_candidate *cands = NULL;
        struct udk_client *client;
        size_t n;
        int r;

        if (!nub) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup_class(client, "nub", argv[0], nub) < 0) {
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        r = udk_client_match(client, nub->id, &cands, &n);
        if (r < 0) {
                udkctl_error("match %s: %s", nub->name,
                             *udk_client_error(client) ? udk_client_error(client) : udk_strerror(r));
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        udk_client_disconnect(client);

        if (opts->json)
                print_json(nub, cands, n);
        else if (print_text(nub, cands, n) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}
