/* SPDX-License-Identifier: MIT */
/*
 * The test family's description file: the nubs the test bus driver
 * publishes.  INI, one [nub] section a nub:
 *
 *   [nub]
 *   handle = 1              required, 0..4294967295, unique in the file
 *   name = knob             optional: "test-<handle>" without it
 *   vendor = 0x1234         any other key: a property of the nub
 *   modalias = test:v1234p0001
 *
 * Comments (# or ;) and blank lines as in udkd's files.  Bad input never
 * stops the parse: a section with a bad line, without a handle, with a
 * handle seen before or with too many properties is skipped with one
 * warning naming the line, and the others are kept.  Nothing here prints
 * or touches a file, so it can be tested on strings.
 */
#ifndef TEST_DESCRIPTION_H
#define TEST_DESCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <udk/driver-protocol.h>

#define TEST_NUB_PROPS_MAX      UDK_DPROPS_MAX /* what one PUBLISH_NUB carries */
#define TEST_DESCRIPTION_NUBS_MAX 1024u
#define TEST_DESCRIPTION_SIZE_MAX (1u << 20)

struct test_nub {
        uint32_t handle;
        unsigned line; /* of its [nub] header */
        char name[UDK_OBJECT_NAME_MAX];
        size_t n_props;
        char keys[TEST_NUB_PROPS_MAX][UDK_DPROP_KEY_MAX];
        char values[TEST_NUB_PROPS_MAX][UDK_DPROP_VALUE_MAX];
};

struct test_description {
        struct test_nub *nubs;
        size_t n;
};

/* One problem: @line of the file and a sentence ("expected 'key = value', got 'x': [nub] at line 3 skipped"). */
typedef void (*test_description_warn_fn)(void *data, unsigned line, const char *sentence);

/* Parse @size bytes of @text (need not be terminated) into *@ret (cleared first).  -ENOMEM only. */
int test_description_parse(const char *text, size_t size, struct test_description *ret,
                           test_description_warn_fn warn, void *data);
void test_description_clear(struct test_description *d);

/* The nub of @handle, NULL without it. */
const struct test_nub *test_description_find(const struct test_description *d, uint32_t handle);
/* Same name and properties, in the same order (the line does not count). */
bool test_nub_equal(const struct test_nub *a, const struct test_nub *b);

#endif
