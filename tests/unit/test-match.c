/* SPDX-License-Identifier: MIT */
/*
 * Matching, table-driven: nub properties -> the personality that must win,
 * for specificity, ranges, globs, equality, probe scores, ties, fallbacks
 * and no match; then the explanation of every candidate.
 */
#include "match.h"
#include "nub-message.h"
#include "udk-test.h"

static const char usb_text[] = "[personality]\n"
                               "name = generic-class\n"
                               "family = usb\n"
                               "match.class = 1\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = vendor-class\n"
                               "family = usb\n"
                               "match.vendor = 0x1234\n"
                               "match.class = 1\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = vendor-product\n"
                               "family = usb\n"
                               "match.vendor = 0x1234\n"
                               "match.product = 0x5678\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = vpr\n"
                               "family = usb\n"
                               "match.vendor = 0x1234\n"
                               "match.product = 0x5678\n"
                               "match.revision = 0x0100-0x01ff\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = modalias-glob\n"
                               "family = usb\n"
                               "match.modalias = usb:v9999p*\n"
                               "probe_score = 10\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = modalias-exact\n"
                               "family = usb\n"
                               "match.modalias = usb:v9999p0001d[0-9]*\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = fallback-any\n"
                               "family = usb\n"
                               "fallback = yes\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = fallback-class\n"
                               "family = usb\n"
                               "match.class = 255\n"
                               "fallback = yes\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = vendor-only-a\n"
                               "family = usb\n"
                               "match.vendor = 0x2222\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = vendor-only-b\n"
                               "family = usb\n"
                               "match.vendor = 0x2222\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = rules-fewer\n"
                               "family = usb\n"
                               "match.vendor = 0x4444\n"
                               "match.class = 2\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = rules-more\n"
                               "family = usb\n"
                               "match.vendor = 0x4444\n"
                               "match.class = 2\n"
                               "match.subclass = 3\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = scored-vp\n"
                               "family = usb\n"
                               "match.vendor = 0x5555\n"
                               "match.product = 1\n"
                               "probe_score = 500\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = plain-vpr\n"
                               "family = usb\n"
                               "match.vendor = 0x5555\n"
                               "match.product = 1\n"
                               "match.revision = 1\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = serial-eq\n"
                               "family = usb\n"
                               "match.vendor = 0x3333\n"
                               "match.serial = ABC-1\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = iface-2\n"
                               "family = usb\n"
                               "match.vendor = 0x6666\n"
                               "match.interface = 2\n"
                               "probe_score = -1\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = iface-any\n"
                               "family = usb\n"
                               "match.vendor = 0x6666\n"
                               "driver = d.so\n"
                               "\n"
                               "[personality]\n"
                               "name = pci-vp\n"
                               "family = pci\n"
                               "match.vendor = 0x1234\n"
                               "match.product = 0x5678\n"
                               "driver = d.so\n";

#define PROPS_MAX 6

struct match_case {
        enum udkd_family family;
        struct udkd_nub_property props[PROPS_MAX]; /* up to the first NULL key */
        const char *winner;                        /* NULL: no match */
};

static const struct match_case table[] = {
        /* Specificity. */
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x0150" }, { "class", "1" } },
          "vpr" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "class", "1" } },
          "vendor-product" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x9999" }, { "class", "1" } },
          "vendor-class" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1235" }, { "product", "0x5678" }, { "class", "1" } },
          "generic-class" },
        { UDKD_FAMILY_USB, { { "class", "1" } }, "generic-class" },
        /* Numbers compare as numbers: 4660 is 0x1234. */
        { UDKD_FAMILY_USB, { { "vendor", "4660" }, { "class", "1" } }, "vendor-class" },
        /* Ranges: both bounds inclusive, decimal or hex, a non-number fails. */
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x0100" } },
          "vpr" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x01ff" } },
          "vpr" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "256" } },
          "vpr" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x0200" } },
          "vendor-product" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x00ff" } },
          "vendor-product" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "1.0" } },
          "vendor-product" },
        /* Globs, then the probe score between two of one tier. */
        { UDKD_FAMILY_USB, { { "modalias", "usb:v9999p0001d0100" } }, "modalias-glob" },
        { UDKD_FAMILY_USB, { { "modalias", "usb:v9999p0002" } }, "modalias-glob" },
        { UDKD_FAMILY_USB, { { "modalias", "usb:v8888p0001" } }, "fallback-any" },
        /* Fallbacks bind only when nothing else does; between fallbacks, rank as usual. */
        { UDKD_FAMILY_USB, { { "class", "255" } }, "fallback-class" },
        { UDKD_FAMILY_USB, { { "class", "7" } }, "fallback-any" },
        { UDKD_FAMILY_USB, {}, "fallback-any" },
        /* Ties: same rank, the earlier line wins. */
        { UDKD_FAMILY_USB, { { "vendor", "0x2222" } }, "vendor-only-a" },
        /* More rules win within a tier and score. */
        { UDKD_FAMILY_USB, { { "vendor", "0x4444" }, { "class", "2" }, { "subclass", "3" } }, "rules-more" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x4444" }, { "class", "2" }, { "subclass", "4" } },
          "rules-fewer" },
        /* The tier outranks the probe score; the probe score outranks the rule count. */
        { UDKD_FAMILY_USB,
          { { "vendor", "0x5555" }, { "product", "1" }, { "revision", "1" } },
          "plain-vpr" },
        { UDKD_FAMILY_USB,
          { { "vendor", "0x5555" }, { "product", "1" }, { "revision", "2" } },
          "scored-vp" },
        { UDKD_FAMILY_USB, { { "vendor", "0x6666" }, { "interface", "2" } }, "iface-any" },
        /* String equality is exact. */
        { UDKD_FAMILY_USB, { { "vendor", "0x3333" }, { "serial", "ABC-1" } }, "serial-eq" },
        { UDKD_FAMILY_USB, { { "vendor", "0x3333" }, { "serial", "abc-1" } }, "fallback-any" },
        /* Families are apart. */
        { UDKD_FAMILY_PCI, { { "vendor", "0x1234" }, { "product", "0x5678" } }, "pci-vp" },
        { UDKD_FAMILY_PCI, { { "vendor", "0x1234" }, { "product", "0x5679" } }, NULL },
        { UDKD_FAMILY_HID, { { "vendor", "0x1234" }, { "product", "0x5678" } }, NULL },
};

static size_t count_props(const struct udkd_nub_property *props)
{
        size_t n = 0;

        while (n < PROPS_MAX && props[n].key)
                n++;
        return n;
}

static void load(struct udkd_personality_set *set, const char *path, const char *text)
{
        char err[UDKD_PERSONALITY_ERR_MAX] = "";
        int r = udkd_personalities_parse(set, path, text, strlen(text), false, err, sizeof(err));

        if (r < 0)
                udk_test_fail("%s", err);
}

static void test_table(void)
{
        struct udkd_personality_set set;

        udkd_personality_set_init(&set);
        load(&set, "usb.conf", usb_text);
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                const struct match_case *c = &table[i];
                struct udkd_nub nub = { c->family, c->props, count_props(c->props) };
                struct udkd_match_explanation e;
                size_t index = 12345;
                int r = udkd_match(&set, &nub, &index);

                fprintf(stderr, "case %zu\n", i);
                if (!c->winner) {
                        ASSERT_ERROR(r, ENOENT);
                        ASSERT_UINT_EQ(index, 12345); /* untouched */
                } else {
                        ASSERT_OK(r);
                        ASSERT_STR_EQ(set.items[index].name, c->winner);
                }
                /* The explanation agrees. */
                ASSERT_OK(udkd_match_explain(&set, &nub, &e));
                ASSERT_INT_EQ(e.has_winner, c->winner != NULL);
                if (c->winner) {
                        ASSERT_UINT_EQ(e.candidates[0].index, index);
                        ASSERT_INT_EQ(e.candidates[0].verdict, UDKD_MATCH_WON);
                }
                udkd_match_explanation_finish(&e);
        }
        udkd_personality_set_finish(&set);
}

/* The same rank in two files: the path decides, not the load order. */
static void test_tie_by_path(void)
{
        static const struct udkd_nub_property props[] = { { "vendor", "7" } };
        struct udkd_nub nub = { UDKD_FAMILY_SERIAL, props, 1 };
        struct udkd_personality_set set;
        size_t index;

        udkd_personality_set_init(&set);
        load(&set, "/d/b.conf",
             "[personality]\nname = from-b\nfamily = serial\nmatch.vendor = 7\ndriver = d.so\n");
        load(&set, "/d/a.conf",
             "\n\n[personality]\nname = from-a\nfamily = serial\nmatch.vendor = 7\ndriver = d.so\n");
        ASSERT_OK(udkd_match(&set, &nub, &index));
        ASSERT_STR_EQ(set.items[index].name, "from-a");
        ASSERT_INT_LT(udkd_match_compare(&set.items[1], &set.items[0]), 0);
        ASSERT_INT_GT(udkd_match_compare(&set.items[0], &set.items[1]), 0);
        ASSERT_INT_EQ(udkd_match_compare(&set.items[0], &set.items[0]), 0);
        udkd_personality_set_finish(&set);
}

static void test_tiers(void)
{
        static const struct {
                const char *rules;
                unsigned tier;
        } cases[] = {
                { "match.vendor = 1\nmatch.product = 2\nmatch.revision = 3\n", 4 },
                { "match.revision = 3\nmatch.product = 2\nmatch.vendor = 1\nmatch.class = 4\n", 4 },
                { "match.vendor = 1\nmatch.product = 2\n", 3 },
                { "match.vendor = 1\nmatch.class = 2\nmatch.subclass = 2\n", 2 },
                { "match.class = 1\nmatch.protocol = 2\n", 1 },
                { "match.modalias = pci:*\n", 1 },
                { "match.vendor = 1\n", 1 },
                { "match.product = 1\nmatch.revision = 2\n", 0 },
                { "match.interface = 1\nmatch.bcdDevice = 1-2\n", 0 },
                { "", 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct udkd_personality_set set;
                char text[512];

                snprintf(text, sizeof(text), "[personality]\nname = a\nfamily = test\ndriver = d.so\n%s",
                         cases[i].rules);
                udkd_personality_set_init(&set);
                load(&set, "t.conf", text);
                ASSERT_UINT_EQ(udkd_personality_tier(&set.items[0]), cases[i].tier);
                udkd_personality_set_finish(&set);
        }
}

/* The line of the first line of @text that starts with @start, counted apart from the parser. */
static unsigned line_of(const char *text, const char *name, const char *start)
{
        const char *s = strstr(text, name);
        unsigned line = 1;

        ASSERT_NOT_NULL(s);
        s = strstr(s, start);
        ASSERT_NOT_NULL(s);
        for (const char *c = text; c < s; c++)
                line += *c == '\n';
        return line;
}

static const struct udkd_match_candidate *find(const struct udkd_personality_set *set,
                                               const struct udkd_match_explanation *e, const char *name)
{
        for (size_t i = 0; i < e->n_candidates; i++)
                if (strcmp(set->items[e->candidates[i].index].name, name) == 0)
                        return &e->candidates[i];
        udk_test_fail("no candidate '%s'", name);
}

static void test_explain(void)
{
        static const struct udkd_nub_property props[] = {
                { "vendor", "0x1234" }, { "product", "0x5678" }, { "revision", "0x0200" }, { "class", "1" }
        };
        struct udkd_nub nub = { UDKD_FAMILY_USB, props, 4 };
        const struct udkd_match_candidate *c;
        struct udkd_personality_set set;
        struct udkd_match_explanation e;
        char expect[256];

        udkd_personality_set_init(&set);
        load(&set, "usb.conf", usb_text);
        ASSERT_OK(udkd_match_explain(&set, &nub, &e));
        ASSERT_UINT_EQ(e.n_candidates, set.n_items - 1); /* every usb personality, not the pci one */
        ASSERT_TRUE(e.has_winner);

        /* The winner, then the losers by rank, then the failed ones in file order. */
        ASSERT_STR_EQ(set.items[e.candidates[0].index].name, "vendor-product");
        ASSERT_STR_EQ(e.candidates[0].why, "won over 'vendor-class': tier 3 above tier 2");
        ASSERT_UINT_EQ(e.candidates[0].tier, 3);
        ASSERT_UINT_EQ(e.candidates[0].n_rules, 2);
        ASSERT_PTR_EQ(e.candidates[0].failed_rule, NULL);
        ASSERT_STR_EQ(set.items[e.candidates[1].index].name, "vendor-class");
        ASSERT_INT_EQ(e.candidates[1].verdict, UDKD_MATCH_LOST);
        ASSERT_STR_EQ(e.candidates[1].why, "lost to 'vendor-product': tier 2 below tier 3");
        ASSERT_STR_EQ(set.items[e.candidates[2].index].name, "generic-class");
        ASSERT_STR_EQ(e.candidates[2].why, "lost to 'vendor-product': tier 1 below tier 3");
        ASSERT_STR_EQ(set.items[e.candidates[3].index].name, "fallback-any");
        ASSERT_STR_EQ(e.candidates[3].why,
                      "lost to 'vendor-product': a fallback, and 'vendor-product' is not");
        ASSERT_STR_EQ(set.items[e.candidates[4].index].name, "vpr");
        ASSERT_INT_EQ(e.candidates[4].verdict, UDKD_MATCH_FAILED);
        ASSERT_STR_EQ(e.candidates[4].failed_rule->property, "revision");
        ASSERT_STR_EQ(e.candidates[4].nub_value, "0x0200");
        ASSERT_UINT_EQ(e.candidates[4].tier, 4);
        snprintf(expect, sizeof(expect),
                 "match.revision = 0x0100-0x01ff (line %u) failed: the nub's revision is 0x0200",
                 line_of(usb_text, "name = vpr", "match.revision"));
        ASSERT_STR_EQ(e.candidates[4].why, expect);
        ASSERT_STR_EQ(set.items[e.candidates[5].index].name, "modalias-glob");
        ASSERT_PTR_EQ(e.candidates[5].nub_value, NULL);
        ASSERT_INT_EQ(e.candidates[5].probe_score, 10);
        snprintf(expect, sizeof(expect),
                 "match.modalias = usb:v9999p* (line %u) failed: the nub has no modalias",
                 line_of(usb_text, "name = modalias-glob", "match.modalias"));
        ASSERT_STR_EQ(e.candidates[5].why, expect);
        for (size_t i = 5; i + 1 < e.n_candidates; i++)
                ASSERT_INT_LT(e.candidates[i].index, e.candidates[i + 1].index);
        udkd_match_explanation_finish(&e);
        ASSERT_PTR_EQ(e.candidates, NULL);

        /* A range against a value that is not a number; a probe score; the rule count; the line. */
        {
                static const struct udkd_nub_property p2[] = { { "vendor", "0x1234" },
                                                               { "product", "0x5678" },
                                                               { "revision", "v1" } };
                struct udkd_nub n2 = { UDKD_FAMILY_USB, p2, 3 };

                ASSERT_OK(udkd_match_explain(&set, &n2, &e));
                c = find(&set, &e, "vpr");
                snprintf(expect, sizeof(expect),
                         "match.revision = 0x0100-0x01ff (line %u) failed: the nub's revision 'v1' is not a "
                         "number",
                         line_of(usb_text, "name = vpr", "match.revision"));
                ASSERT_STR_EQ(c->why, expect);
                c = find(&set, &e, "vendor-product");
                ASSERT_STR_EQ(c->why, "won over 'fallback-any': 'fallback-any' is a fallback");
                udkd_match_explanation_finish(&e);
        }
        {
                static const struct udkd_nub_property p3[] = { { "modalias", "usb:v9999p0001d0100" } };
                struct udkd_nub n3 = { UDKD_FAMILY_USB, p3, 1 };

                ASSERT_OK(udkd_match_explain(&set, &n3, &e));
                ASSERT_STR_EQ(find(&set, &e, "modalias-glob")->why,
                              "won over 'modalias-exact': probe_score 10 above 0");
                ASSERT_STR_EQ(find(&set, &e, "modalias-exact")->why,
                              "lost to 'modalias-glob': probe_score 0 below 10");
                udkd_match_explanation_finish(&e);
        }
        {
                static const struct udkd_nub_property p4[] = { { "vendor", "0x4444" },
                                                               { "class", "2" },
                                                               { "subclass", "3" } };
                struct udkd_nub n4 = { UDKD_FAMILY_USB, p4, 3 };

                ASSERT_OK(udkd_match_explain(&set, &n4, &e));
                ASSERT_STR_EQ(find(&set, &e, "rules-fewer")->why, "lost to 'rules-more': 2 rules against 3");
                udkd_match_explanation_finish(&e);
        }
        {
                static const struct udkd_nub_property p5[] = { { "vendor", "0x2222" } };
                struct udkd_nub n5 = { UDKD_FAMILY_USB, p5, 1 };

                ASSERT_OK(udkd_match_explain(&set, &n5, &e));
                snprintf(expect, sizeof(expect),
                         "lost to 'vendor-only-a': same rank, and usb.conf:%u comes after usb.conf:%u",
                         line_of(usb_text, "name = vendor-only-b", "name") - 1,
                         line_of(usb_text, "name = vendor-only-a", "name") - 1);
                ASSERT_STR_EQ(find(&set, &e, "vendor-only-b")->why, expect);
                udkd_match_explanation_finish(&e);
        }
        {
                static const struct udkd_nub_property p6[] = { { "modalias", "usb:v1" } };
                struct udkd_nub n6 = { UDKD_FAMILY_PCI, p6, 1 };

                ASSERT_OK(udkd_match_explain(&set, &n6, &e));
                ASSERT_UINT_EQ(e.n_candidates, 1);
                ASSERT_FALSE(e.has_winner);
                snprintf(expect, sizeof(expect),
                         "match.vendor = 0x1234 (line %u) failed: the nub has no vendor",
                         line_of(usb_text, "name = pci-vp", "match.vendor"));
                ASSERT_STR_EQ(e.candidates[0].why, expect);
                udkd_match_explanation_finish(&e);
        }
        {
                struct udkd_nub n7 = { UDKD_FAMILY_TEST, NULL, 0 };

                ASSERT_OK(udkd_match_explain(&set, &n7, &e));
                ASSERT_UINT_EQ(e.n_candidates, 0);
                ASSERT_FALSE(e.has_winner);
                udkd_match_explanation_finish(&e);
        }
        udkd_personality_set_finish(&set);
}

static void test_nub(void)
{
        static struct udkd_nub_property many[UDKD_NUB_PROPERTIES_MAX + 1];
        static const struct udkd_nub_property props[] = { { "vendor", "1" },
                                                          { "class", "2" },
                                                          { "vendor", "3" } };
        struct udkd_nub nub = { UDKD_FAMILY_TEST, props, 3 };
        struct udkd_personality_set set;
        struct udkd_match_explanation e = { 0 };
        size_t index = 99;

        ASSERT_STR_EQ(udkd_nub_get(&nub, "vendor"), "1");
        ASSERT_STR_EQ(udkd_nub_get(&nub, "class"), "2");
        ASSERT_PTR_EQ(udkd_nub_get(&nub, "product"), NULL);

        for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
                many[i] = (struct udkd_nub_property){ "k", "v" };
        udkd_personality_set_init(&set);
        load(&set, "t.conf", "[personality]\nname = a\nfamily = test\ndriver = d.so\n");
        nub = (struct udkd_nub){ UDKD_FAMILY_TEST, many, UDKD_NUB_PROPERTIES_MAX };
        ASSERT_OK(udkd_match(&set, &nub, &index));
        ASSERT_UINT_EQ(index, 0);
        nub.n_properties = UDKD_NUB_PROPERTIES_MAX + 1;
        ASSERT_ERROR(udkd_match(&set, &nub, &index), E2BIG);
        ASSERT_ERROR(udkd_match_explain(&set, &nub, &e), E2BIG);
        ASSERT_PTR_EQ(e.candidates, NULL);
        udkd_personality_set_finish(&set);
}

/* A driver's PUBLISH_NUB: its family, name and property count, before udkd holds the nub. */
static void test_nub_message(void)
{
        struct udk_dmsg_nub m = { .handle = 1, .n_props = UDKD_NUB_PROPS_MAX };
        enum udkd_family family = UDKD_FAMILY_COUNT;
        char err[UDK_MSG_TEXT_MAX];

        strcpy(m.family, "usb");
        strcpy(m.name, "knob-1.a_b");
        ASSERT_OK(udkd_nub_message_check(&m, &family, err, sizeof(err)));
        ASSERT_INT_EQ(family, UDKD_FAMILY_USB);

        family = UDKD_FAMILY_COUNT;
        strcpy(m.family, "root");
        ASSERT_ERROR(udkd_nub_message_check(&m, &family, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "nub 'knob-1.a_b': unknown family 'root' (test, usb, pci, hid, serial)");
        ASSERT_INT_EQ(family, UDKD_FAMILY_COUNT);
        strcpy(m.family, "scsi");
        ASSERT_ERROR(udkd_nub_message_check(&m, &family, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "nub 'knob-1.a_b': unknown family 'scsi' (test, usb, pci, hid, serial)");

        strcpy(m.family, "test");
        strcpy(m.name, "a b");
        ASSERT_ERROR(udkd_nub_message_check(&m, &family, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "nub 'a b': a bad name (letters, digits, '_', '.', '-'; at most 63)");
        m.name[0] = '\0';
        ASSERT_ERROR(udkd_nub_message_check(&m, &family, err, sizeof(err)), EINVAL);
        ASSERT_STR_EQ(err, "nub '': a bad name (letters, digits, '_', '.', '-'; at most 63)");

        strcpy(m.name, "knob");
        m.n_props = UDKD_NUB_PROPS_MAX + 1;
        ASSERT_ERROR(udkd_nub_message_check(&m, &family, err, sizeof(err)), E2BIG);
        ASSERT_STR_EQ(err, "nub 'knob': 17 properties, at most 16");
        ASSERT_INT_EQ(family, UDKD_FAMILY_COUNT);
}

UDK_TEST_MAIN(test_table, test_tie_by_path, test_tiers, test_explain, test_nub, test_nub_message)
