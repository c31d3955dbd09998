/* SPDX-License-Identifier: MIT */
/* The test family's description parser: nubs out of text, bad sections skipped with one warning each. */
#include <stdio.h>
#include <string.h>

#include "description.h"
#include "udk-test.h"

struct warnings {
        char text[8][512];
        unsigned lines[8];
        size_t n;
};

static void collect(void *data, unsigned line, const char *sentence)
{
        struct warnings *w = data;

        ASSERT_TRUE(w->n < 8);
        w->lines[w->n] = line;
        snprintf(w->text[w->n], sizeof(w->text[0]), "%s", sentence);
        w->n++;
}

static void parse(const char *text, struct test_description *d, struct warnings *w)
{
        memset(w, 0, sizeof(*w));
        ASSERT_OK(test_description_parse(text, strlen(text), d, collect, w));
}

static void test_good(void)
{
        struct test_description d = { 0 };
        struct warnings w;

        parse("# two nubs\n"
              "[nub]\n"
              "handle = 1\n"
              "name = knob\n"
              "vendor = 0x1234\n"
              "  product=0x0001  \r\n"
              "modalias = test:v1234p0001\n"
              "\n"
              "; the second one without a name\n"
              "[nub]\n"
              "handle = 0xffffffff\n"
              "path = a=b",
              &d, &w);
        ASSERT_UINT_EQ(w.n, 0);
        ASSERT_UINT_EQ(d.n, 2);
        ASSERT_UINT_EQ(d.nubs[0].handle, 1);
        ASSERT_UINT_EQ(d.nubs[0].line, 2);
        ASSERT_STR_EQ(d.nubs[0].name, "knob");
        ASSERT_UINT_EQ(d.nubs[0].n_props, 3);
        ASSERT_STR_EQ(d.nubs[0].keys[1], "product");
        ASSERT_STR_EQ(d.nubs[0].values[1], "0x0001");
        ASSERT_STR_EQ(d.nubs[0].values[2], "test:v1234p0001");
        ASSERT_UINT_EQ(d.nubs[1].handle, 4294967295u);
        ASSERT_STR_EQ(d.nubs[1].name, "test-4294967295");
        ASSERT_STR_EQ(d.nubs[1].keys[0], "path");
        ASSERT_STR_EQ(d.nubs[1].values[0], "a=b");
        ASSERT_PTR_EQ(test_description_find(&d, 4294967295u), &d.nubs[1]);
        ASSERT_PTR_EQ(test_description_find(&d, 2), NULL);
        test_description_clear(&d);

        parse("", &d, &w);
        ASSERT_UINT_EQ(d.n, 0);
        ASSERT_UINT_EQ(w.n, 0);
}

/* Each bad section is skipped with one warning at its line; the good ones around it are kept. */
static void test_bad_sections(void)
{
        struct test_description d = { 0 };
        struct warnings w;

        parse("[nub]\n"                    /* 1 */
              "handle = 1\n"               /* 2 */
              "name = one\n"               /* 3 */
              "[nub]\n"                    /* 4 */
              "name = no-handle\n"         /* 5 */
              "[nub]\n"                    /* 6 */
              "handle = 1\n"               /* 7 */
              "name = again\n"             /* 8 */
              "[nub]\n"                    /* 9 */
              "handle = 3\n"               /* 10 */
              "vendor 0x1234\n"            /* 11 */
              "also bad, not warned\n"     /* 12 */
              "[nub]\n"                    /* 13 */
              "handle = 4\n"               /* 14 */
              "name = four\n"              /* 15 */
              "[nub]\n"                    /* 16 */
              "handle = five\n"            /* 17 */
              "[nub]\n"                    /* 18 */
              "handle = 6\n"               /* 19 */
              "vendor = 1\n"               /* 20 */
              "vendor = 2\n",              /* 21 */
              &d, &w);
        ASSERT_UINT_EQ(d.n, 2);
        ASSERT_STR_EQ(d.nubs[0].name, "one");
        ASSERT_STR_EQ(d.nubs[1].name, "four");
        ASSERT_UINT_EQ(w.n, 5);
        ASSERT_UINT_EQ(w.lines[0], 4);
        ASSERT_STR_EQ(w.text[0], "[nub] without a handle: [nub] skipped");
        ASSERT_UINT_EQ(w.lines[1], 7);
        ASSERT_STR_EQ(w.text[1], "handle 1 given twice (first in the [nub] at line 1): [nub] at line 6 skipped");
        ASSERT_UINT_EQ(w.lines[2], 11);
        ASSERT_STR_EQ(w.text[2], "expected 'key = value', got 'vendor 0x1234': [nub] at line 9 skipped");
        ASSERT_UINT_EQ(w.lines[3], 17);
        ASSERT_STR_EQ(w.text[3], "bad handle 'five' (a number, 0..4294967295): [nub] at line 16 skipped");
        ASSERT_UINT_EQ(w.lines[4], 21);
        ASSERT_STR_EQ(w.text[4], "duplicate key 'vendor' (first at line 20): [nub] at line 18 skipped");
        test_description_clear(&d);
}

static void test_limits(void)
{
        struct test_description d = { 0 };
        struct warnings w;
        char text[8192];
        int at;

        /* 24 properties are fine, the 25th is one too many. */
        at = snprintf(text, sizeof(text), "[nub]\nhandle = 1\n");
        for (unsigned i = 0; i < TEST_NUB_PROPS_MAX + 1; i++)
                at += snprintf(text + at, sizeof(text) - (size_t)at, "p%u = %u\n", i, i);
        at += snprintf(text + at, sizeof(text) - (size_t)at, "[nub]\nhandle = 2\n");
        parse(text, &d, &w);
        ASSERT_UINT_EQ(d.n, 1);
        ASSERT_UINT_EQ(d.nubs[0].handle, 2);
        ASSERT_UINT_EQ(w.n, 1);
        ASSERT_UINT_EQ(w.lines[0], 3 + TEST_NUB_PROPS_MAX);
        ASSERT_STR_EQ(w.text[0], "too many properties (at most 24 besides handle and name): [nub] at line 1 skipped");

        /* A name of 64 bytes, a value of 96: one byte over each limit. */
        snprintf(text, sizeof(text), "[nub]\nhandle = 1\nname = %064d\n[nub]\nhandle = 2\nbad-key = 1\n"
                 "[nub]\nhandle = 3\nk = %096d\n[nub]\nhandle = 4\nempty =\n", 0, 0);
        parse(text, &d, &w);
        ASSERT_UINT_EQ(d.n, 0);
        ASSERT_UINT_EQ(w.n, 4);
        ASSERT_STR_CONTAINS(w.text[0], "too long (at most 63 bytes)");
        ASSERT_STR_EQ(w.text[1], "bad property name 'bad-key' (letters, digits, '_'; at most 31): [nub] at line 4 "
                                 "skipped");
        ASSERT_STR_EQ(w.text[2], "value of 'k' too long (96 bytes, at most 95): [nub] at line 7 skipped");
        ASSERT_STR_EQ(w.text[3], "empty value for 'empty': [nub] at line 10 skipped");
}

/* What is not a [nub] is ignored with a warning; the nubs after it still count. */
static void test_other_sections(void)
{
        struct test_description d = { 0 };
        struct warnings w;

        parse("stray = 1\n[device]\nname = x\n[nub\nhandle = 9\n[nub]\nhandle = 2\nctl = a\x01z\n[nub]\nhandle = 5\n",
              &d, &w);
        ASSERT_UINT_EQ(d.n, 1);
        ASSERT_UINT_EQ(d.nubs[0].handle, 5);
        ASSERT_UINT_EQ(w.n, 4);
        ASSERT_STR_EQ(w.text[0], "'stray = 1' outside any [nub] section: ignored");
        ASSERT_STR_EQ(w.text[1], "unknown section [device] (only [nub]): ignored");
        ASSERT_STR_EQ(w.text[2], "bad section header '[nub': ignored up to the next section");
        ASSERT_UINT_EQ(w.lines[3], 8);
        ASSERT_STR_EQ(w.text[3], "a control character (0x01): [nub] at line 6 skipped");
}

static void test_equal(void)
{
        struct test_description a = { 0 }, b = { 0 };
        struct warnings w;

        parse("[nub]\nhandle = 1\nname = x\nv = 1\n[nub]\nhandle = 2\nv = 1\n", &a, &w);
        parse("\n\n[nub]\nhandle = 1\nname = x\nv = 1\n[nub]\nhandle = 2\nv = 2\n", &b, &w);
        ASSERT_TRUE(test_nub_equal(&a.nubs[0], &b.nubs[0])); /* only its line moved */
        ASSERT_FALSE(test_nub_equal(&a.nubs[1], &b.nubs[1]));
        test_description_clear(&a);
        test_description_clear(&b);
}

UDK_TEST_MAIN(test_good, test_bad_sections, test_limits, test_other_sections, test_equal)
