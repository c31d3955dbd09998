/* SPDX-License-Identifier: MIT */
/*
 * Matching a nub against the personalities of its family: which driver
 * binds, and why each candidate won or lost (for `udkctl match NUB`).
 *
 * A personality matches when every rule holds: a missing property fails, a
 * range against a value that is not a number fails.  The matches rank by
 *   1. fallback: a fallback binds only when no other personality matched;
 *   2. specificity tier, from which uniform keys the rules constrain:
 *      4 vendor+product+revision, 3 vendor+product, 2 vendor+class,
 *      1 class, vendor or modalias, 0 none of these;
 *   3. probe_score, higher first;
 *   4. the number of rules, more first;
 *   5. the file's path (strcmp), then the line: deterministic.
 * Nothing here prints; not for the RT thread.
 */
#ifndef UDKD_MATCH_H
#define UDKD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "personality.h"

#define UDKD_NUB_PROPERTIES_MAX 64u
#define UDKD_MATCH_WHY_MAX      192u

/*
 * A nub as matching sees it: a family and string properties.  The uniform
 * keys are vendor, product, revision, class, subclass, protocol, interface
 * and modalias; a family may add its own (bcdDevice, ...).  Numbers are
 * written in decimal or with 0x.  The nub owns nothing: its strings belong
 * to the caller.
 */
struct udkd_nub_property {
        const char *key;
        const char *value;
};

struct udkd_nub {
        enum udkd_family family;
        const struct udkd_nub_property *properties;
        size_t n_properties; /* at most UDKD_NUB_PROPERTIES_MAX */
};

/* The value of @key in @nub (the first if given twice), or NULL. */
const char *udkd_nub_get(const struct udkd_nub *nub, const char *key);

/* The specificity tier of @p, 0..4, as above. */
unsigned udkd_personality_tier(const struct udkd_personality *p);

/*
 * Rank @a against @b, two personalities that matched: negative when @a
 * wins, positive when @b wins, 0 only for the same personality.
 */
int udkd_match_compare(const struct udkd_personality *a, const struct udkd_personality *b);

/*
 * The winner for @nub among @set's personalities: its index in
 * @set->items in *@ret_index.  -ENOENT when none matched, -E2BIG for a nub
 * of more than UDKD_NUB_PROPERTIES_MAX properties.
 */
int udkd_match(const struct udkd_personality_set *set, const struct udkd_nub *nub, size_t *ret_index);

enum udkd_match_verdict {
        UDKD_MATCH_WON,
        UDKD_MATCH_LOST,   /* matched, ranked below the winner */
        UDKD_MATCH_FAILED, /* a rule did not hold */
};

/* One personality of the nub's family, as matching saw it. */
struct udkd_match_candidate {
        size_t index; /* in set->items */
        enum udkd_match_verdict verdict;
        const struct udkd_match_rule *failed_rule; /* FAILED: the first rule that did not hold */
        const char *nub_value;                     /* FAILED: the nub's value of that property, or NULL */
        unsigned tier;
        int64_t probe_score;
        size_t n_rules;
        char why[UDKD_MATCH_WHY_MAX]; /* one sentence, e.g. "lost to 'x': tier 2 below tier 3" */
};

/* Candidates: the winner first, then the losers by rank, then the failed ones in set order. */
struct udkd_match_explanation {
        struct udkd_match_candidate *candidates;
        size_t n_candidates;
        bool has_winner; /* candidates[0] won */
};

/*
 * Explain the matching of @nub against @set into @ret (which owns its
 * candidates; free them with udkd_match_explanation_finish).  Returns 0,
 * -ENOMEM or -E2BIG; @ret is untouched on failure.  Strings in the
 * candidates point into @set and the nub: keep both while reading it.
 */
int udkd_match_explain(const struct udkd_personality_set *set, const struct udkd_nub *nub,
                       struct udkd_match_explanation *ret);

/* Free the candidates and leave @e empty.  Accepts an empty one. */
void udkd_match_explanation_finish(struct udkd_match_explanation *e);

#endif
