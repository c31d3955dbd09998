/* SPDX-License-Identifier: MIT */
/*
 * Matching.  The nub's numbers are parsed once per match, not once per
 * rule: a nub meets every personality of its family.
 */
#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "match.h"

/* The nub with its numbers parsed. */
struct nub_view {
        const struct udkd_nub *nub;
        bool numeric[UDKD_NUB_PROPERTIES_MAX];
        int64_t number[UDKD_NUB_PROPERTIES_MAX];
};

static int nub_view_init(struct nub_view *v, const struct udkd_nub *nub)
{
        if (nub->n_properties > UDKD_NUB_PROPERTIES_MAX)
                return -E2BIG;
        v->nub = nub;
        for (size_t i = 0; i < nub->n_properties; i++)
                v->numeric[i] =
                        udk_parse_int64(nub->properties[i].value, INT64_MIN, INT64_MAX, &v->number[i]) == 0;
        return 0;
}

static ssize_t nub_find(const struct udkd_nub *nub, const char *key)
{
        for (size_t i = 0; i < nub->n_properties; i++)
                if (strcmp(nub->properties[i].key, key) == 0)
                        return (ssize_t)i;
        return -1;
}

const char *udkd_nub_get(const struct udkd_nub *nub, const char *key)
{
        ssize_t i = nub_find(nub, key);

        return i < 0 ? NULL : nub->properties[i].value;
}

/* Whether @rule holds for the nub; *@ret_value is the nub's value of its property (NULL if missing). */
static bool rule_holds(const struct udkd_match_rule *rule, const struct nub_view *v, const char **ret_value)
{
        ssize_t i = nub_find(v->nub, rule->property);
        const char *value;

        *ret_value = NULL;
        if (i < 0)
                return false;
        value = v->nub->properties[i].value;
        *ret_value = value;
        switch (rule->kind) {
        case UDKD_RULE_GLOB:
                return fnmatch(rule->value, value, 0) == 0;
        case UDKD_RULE_EQUAL:
                if (rule->numeric && v->numeric[i])
                        return v->number[i] == rule->lo;
                return strcmp(rule->value, value) == 0;
        case UDKD_RULE_RANGE:
                return v->numeric[i] && v->number[i] >= rule->lo && v->number[i] <= rule->hi;
        }
        return false;
}

/* The first rule of @p that does not hold, or NULL when @p matches. */
static const struct udkd_match_rule *first_failure(const struct udkd_personality *p,
                                                   const struct nub_view *v, const char **ret_value)
{
        for (size_t i = 0; i < p->n_rules; i++)
                if (!rule_holds(&p->rules[i], v, ret_value))
                        return &p->rules[i];
        return NULL;
}

unsigned udkd_personality_tier(const struct udkd_personality *p)
{
        bool vendor = false, product = false, revision = false, class = false, modalias = false;

        for (size_t i = 0; i < p->n_rules; i++) {
                const char *prop = p->rules[i].property;

                vendor |= strcmp(prop, "vendor") == 0;
                product |= strcmp(prop, "product") == 0;
                revision |= strcmp(prop, "revision") == 0;
                class |= strcmp(prop, "class") == 0;
                modalias |= strcmp(prop, "modalias") == 0;
        }
        if (vendor && product && revision)
                return 4;
        if (vendor && product)
                return 3;
        if (vendor && class)
                return 2;
        if (vendor || class || modalias)
                return 1;
        return 0;
}

int udkd_match_compare(const struct udkd_personality *a, const struct udkd_personality *b)
{
        unsigned ta, tb;
        int r;

        if (a->fallback != b->fallback)
                return a->fallback ? 1 : -1;
        ta = udkd_personality_tier(a);
        tb = udkd_personality_tier(b);
        if (ta != tb)
                return ta > tb ? -1 : 1;
        if (a->probe_score != b->probe_score)
                return a->probe_score > b->probe_score ? -1 : 1;
        if (a->n_rules != b->n_rules)
                return a->n_rules > b->n_rules ? -1 : 1;
        r = strcmp(a->path, b->path);
        if (r != 0)
                return r < 0 ? -1 : 1;
        if (a->line != b->line)
                return a->line < b->line ? -1 : 1;
        return 0;
}

int udkd_match(const struct udkd_personality_set *set, const struct udkd_nub *nub, size_t *ret_index)
{
        const struct udkd_personality *best = NULL;
        struct nub_view v;
        size_t best_index = 0;
        int r;

        r = nub_view_init(&v, nub);
        if (r < 0)
                return r;
        for (size_t i = 0; i < set->n_items; i++) {
                const struct udkd_personality *p = &set->items[i];
                const char *value;

                if (p->family != nub->family || first_failure(p, &v, &value))
                        continue;
                if (!best || udkd_match_compare(p, best) < 0) {
                        best = p;
                        best_index = i;
                }
        }
        if (!best)
                return -ENOENT;
        *ret_index = best_index;
        return 0;
}

/* snprintf that may cut: a sentence longer than its buffer ends early, on purpose. */
static void say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

/* Why @x ranks where it does against @y: the first criterion that differs, in @x's words. */
static void rank_reason(char *buf, size_t size, const struct udkd_personality *x,
                        const struct udkd_personality *y)
{
        unsigned tx = udkd_personality_tier(x), ty = udkd_personality_tier(y);

        if (x->fallback != y->fallback)
                say(buf, size, x->fallback ? "a fallback, and '%s' is not" : "'%s' is a fallback", y->name);
        else if (tx != ty)
                say(buf, size, "tier %u %s tier %u", tx, tx > ty ? "above" : "below", ty);
        else if (x->probe_score != y->probe_score)
                say(buf, size, "probe_score %lld %s %lld", (long long)x->probe_score,
                    x->probe_score > y->probe_score ? "above" : "below", (long long)y->probe_score);
        else if (x->n_rules != y->n_rules)
                say(buf, size, "%zu rules against %zu", x->n_rules, y->n_rules);
        else
                say(buf, size, "same rank, and %s:%u comes %s %s:%u", x->path, x->line,
                    udkd_match_compare(x, y) < 0 ? "before" : "after", y->path, y->line);
}

static void failure_reason(struct udkd_match_candidate *c)
{
        const struct udkd_match_rule *rule = c->failed_rule;
        char head[UDKD_MATCH_WHY_MAX];

        say(head, sizeof(head), "match.%s = %s (line %u)", rule->property, rule->value, rule->line);
        if (!c->nub_value)
                say(c->why, sizeof(c->why), "%s failed: the nub has no %s", head, rule->property);
        else if (rule->kind == UDKD_RULE_RANGE &&
                 udk_parse_int64(c->nub_value, INT64_MIN, INT64_MAX, &(int64_t){ 0 }) < 0)
                say(c->why, sizeof(c->why), "%s failed: the nub's %s '%s' is not a number", head,
                    rule->property, c->nub_value);
        else
                say(c->why, sizeof(c->why), "%s failed: the nub's %s is %s", head, rule->property,
                    c->nub_value);
}

static int compare_candidates(const void *a, const void *b, void *userdata)
{
        const struct udkd_personality_set *set = userdata;
        const struct udkd_match_candidate *ca = a, *cb = b;

        /* The matched ones by rank, then the failed ones in set order. */
        if ((ca->verdict == UDKD_MATCH_FAILED) != (cb->verdict == UDKD_MATCH_FAILED))
                return ca->verdict == UDKD_MATCH_FAILED ? 1 : -1;
        if (ca->verdict == UDKD_MATCH_FAILED)
                return ca->index < cb->index ? -1 : ca->index > cb->index;
        return udkd_match_compare(&set->items[ca->index], &set->items[cb->index]);
}

int udkd_match_explain(const struct udkd_personality_set *set, const struct udkd_nub *nub,
                       struct udkd_match_explanation *ret)
{
        struct udkd_match_candidate *cands;
        size_t n = 0, n_matched = 0;
        struct nub_view v;
        int r;

        r = nub_view_init(&v, nub);
        if (r < 0)
                return r;
        for (size_t i = 0; i < set->n_items; i++)
                n += set->items[i].family == nub->family;
        cands = calloc(n > 0 ? n : 1, sizeof(*cands));
        if (!cands)
                return -ENOMEM;

        n = 0;
        for (size_t i = 0; i < set->n_items; i++) {
                const struct udkd_personality *p = &set->items[i];
                struct udkd_match_candidate *c;

                if (p->family != nub->family)
                        continue;
                c = &cands[n++];
                c->index = i;
                c->tier = udkd_personality_tier(p);
                c->probe_score = p->probe_score;
                c->n_rules = p->n_rules;
                c->failed_rule = first_failure(p, &v, &c->nub_value);
                if (c->failed_rule) {
                        c->verdict = UDKD_MATCH_FAILED;
                        failure_reason(c);
                } else {
                        c->verdict = UDKD_MATCH_LOST;
                        c->nub_value = NULL;
                        n_matched++;
                }
        }
        qsort_r(cands, n, sizeof(*cands), compare_candidates, (void *)set);

        if (n_matched > 0) {
                const struct udkd_personality *w = &set->items[cands[0].index];
                char reason[UDKD_MATCH_WHY_MAX];

                cands[0].verdict = UDKD_MATCH_WON;
                if (n_matched == 1) {
                        say(cands[0].why, sizeof(cands[0].why), "won: the only match");
                } else {
                        const struct udkd_personality *next = &set->items[cands[1].index];

                        rank_reason(reason, sizeof(reason), w, next);
                        say(cands[0].why, sizeof(cands[0].why), "won over '%s': %s", next->name, reason);
                }
                for (size_t i = 1; i < n_matched; i++) {
                        const struct udkd_personality *l = &set->items[cands[i].index];

                        rank_reason(reason, sizeof(reason), l, w);
                        say(cands[i].why, sizeof(cands[i].why), "lost to '%s': %s", w->name, reason);
                }
        }
        *ret = (struct udkd_match_explanation){ .candidates = cands,
                                                .n_candidates = n,
                                                .has_winner = n_matched > 0 };
        return 0;
}

void udkd_match_explanation_finish(struct udkd_match_explanation *e)
{
        free(e->candidates);
        *e = (struct udkd_match_explanation){ 0 };
}
