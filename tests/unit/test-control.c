/* SPDX-License-Identifier: MIT */
#include <float.h>
#include <pthread.h>
#include <stdint.h>

#include <udk/control.h>

#include "udk-test.h"

static uint32_t generation(const struct udk_control *c)
{
        return atomic_load(&c->generation);
}

static const char *format(const struct udk_control *c)
{
        static char buf[64];

        ASSERT_INT_GE(udk_control_format(c, buf, sizeof(buf)), 0);
        return buf;
}

static void test_level_init(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_level(&c, 7, "Master", -96.0f, 6.0f, -6.0f));
        ASSERT_INT_EQ(c.kind, UDK_CONTROL_LEVEL);
        ASSERT_INT_EQ(c.obj.klass, UDK_CLASS_CONTROL);
        ASSERT_INT_EQ(c.obj.parent, 7);
        ASSERT_INT_NE(c.obj.id, UDK_OBJECT_ID_INVALID);
        ASSERT_STR_EQ(c.obj.name, "Master");
        ASSERT_UINT_EQ(generation(&c), 0);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -6.0f);
        ASSERT_FLOAT_EQ(udk_control_level_gain(&c), (float)pow(10.0, -6.0 / 20.0));
        ASSERT_FLOAT_EQ(c.level.min_db, -96.0f);
        ASSERT_FLOAT_EQ(c.level.max_db, 6.0f);

        /* Ends of the range are allowed as defaults. */
        ASSERT_OK(udk_control_init_level(&c, 0, "a", -60.0f, 0.0f, -60.0f));
        ASSERT_OK(udk_control_init_level(&c, 0, "a", -60.0f, 0.0f, 0.0f));

        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", 0.0f, 0.0f, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", 6.0f, -6.0f, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", -60.0f, 0.0f, 0.5f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", -60.0f, 0.0f, -60.5f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", -60.0f, 0.0f, NAN), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", NAN, 0.0f, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", -INFINITY, 0.0f, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, "a", -60.0f, INFINITY, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(NULL, 0, "a", -60.0f, 0.0f, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_level(&c, 0, NULL, -60.0f, 0.0f, 0.0f), EINVAL);

        /* Every control gets its own id. */
        struct udk_control d;
        ASSERT_OK(udk_control_init_boolean(&d, 0, "b", false));
        ASSERT_INT_NE(d.obj.id, c.obj.id);
}

static void test_level_mapping(void)
{
        /* Ends and middle, exactly. */
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(0.0f, -96.0f, 6.0f), -96.0f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(1.0f, -96.0f, 6.0f), 6.0f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(0.5f, -96.0f, 6.0f), -45.0f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(0.25f, -60.0f, 0.0f), -45.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(-96.0f, -96.0f, 6.0f), 0.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(6.0f, -96.0f, 6.0f), 1.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(-45.0f, -96.0f, 6.0f), 0.5f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(-15.0f, -60.0f, 0.0f), 0.75f);
        /* Ends stay exact with ranges whose width does not round nicely. */
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(1.0f, -70.3f, 12.1f), 12.1f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(0.0f, -70.3f, 12.1f), -70.3f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(12.1f, -70.3f, 12.1f), 1.0f);
        /* Outside the range clamps. */
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(-0.5f, -60.0f, 0.0f), -60.0f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(1.5f, -60.0f, 0.0f), 0.0f);
        ASSERT_FLOAT_EQ(udk_level_scalar_to_db(NAN, -60.0f, 0.0f), -60.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(-100.0f, -60.0f, 0.0f), 0.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_scalar(10.0f, -60.0f, 0.0f), 1.0f);
        /* Round trip on a fine grid. */
        for (int i = 0; i <= 1000; i++) {
                float s = (float)i / 1000.0f;
                ASSERT_NEAR(udk_level_db_to_scalar(udk_level_scalar_to_db(s, -96.0f, 6.0f), -96.0f, 6.0f), s,
                            1e-6);
        }

        /* Gain is 10^(dB/20). */
        ASSERT_FLOAT_EQ(udk_level_db_to_gain(0.0f, -96.0f), 1.0f);
        ASSERT_NEAR(udk_level_db_to_gain(-6.0f, -96.0f), 0.501187233627, 1e-7);
        ASSERT_NEAR(udk_level_db_to_gain(6.0f, -96.0f), 1.995262314969, 1e-6);
        ASSERT_NEAR(udk_level_db_to_gain(-20.0f, -96.0f), 0.1, 1e-8);
        ASSERT_NEAR(udk_level_db_to_gain(-40.0f, -96.0f), 0.01, 1e-9);
        /* The silent bottom: at or below min_db when min_db <= -96. */
        ASSERT_FLOAT_EQ(udk_level_db_to_gain(-96.0f, -96.0f), 0.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_gain(-120.0f, -120.0f), 0.0f);
        ASSERT_FLOAT_EQ(udk_level_db_to_gain(-130.0f, -120.0f), 0.0f);
        ASSERT_NEAR(udk_level_db_to_gain(-95.9f, -96.0f), pow(10.0, -95.9 / 20.0), 1e-11);
        /* A range that stops above -96 dB has no silent bottom. */
        ASSERT_NEAR(udk_level_db_to_gain(-60.0f, -60.0f), 0.001, 1e-10);
        ASSERT_NEAR(udk_level_db_to_gain(-95.0f, -95.0f), 1.77827941e-5, 1e-12);
}

static void test_level_set(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_level(&c, 0, "Volume", -96.0f, 0.0f, 0.0f));
        ASSERT_FLOAT_EQ(udk_control_level_gain(&c), 1.0f);
        ASSERT_FLOAT_EQ(udk_control_level_scalar(&c), 1.0f);

        ASSERT_OK(udk_control_level_set_db(&c, -6.0f));
        ASSERT_UINT_EQ(generation(&c), 1);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -6.0f);
        ASSERT_NEAR(udk_control_level_gain(&c), 0.501187233627, 1e-7);
        ASSERT_FLOAT_EQ(udk_control_level_scalar(&c), 0.9375f); /* 90 / 96 */

        ASSERT_OK(udk_control_level_set_db(&c, -96.0f));
        ASSERT_UINT_EQ(generation(&c), 2);
        ASSERT_FLOAT_EQ(udk_control_level_gain(&c), 0.0f);
        ASSERT_FLOAT_EQ(udk_control_level_scalar(&c), 0.0f);

        ASSERT_OK(udk_control_level_set_scalar(&c, 0.5f));
        ASSERT_UINT_EQ(generation(&c), 3);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -48.0f);
        ASSERT_FLOAT_EQ(udk_control_level_scalar(&c), 0.5f);
        ASSERT_NEAR(udk_control_level_gain(&c), pow(10.0, -48.0 / 20.0), 1e-9);
        ASSERT_OK(udk_control_level_set_scalar(&c, 1.0f));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), 0.0f);
        ASSERT_OK(udk_control_level_set_scalar(&c, 0.0f));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -96.0f);
        ASSERT_FLOAT_EQ(udk_control_level_gain(&c), 0.0f);
        ASSERT_UINT_EQ(generation(&c), 5);

        /* Refused values change nothing, not even the generation. */
        ASSERT_OK(udk_control_level_set_db(&c, -10.0f));
        ASSERT_ERROR(udk_control_level_set_db(&c, 0.5f), ERANGE);
        ASSERT_ERROR(udk_control_level_set_db(&c, -96.5f), ERANGE);
        ASSERT_ERROR(udk_control_level_set_db(&c, NAN), EINVAL);
        ASSERT_ERROR(udk_control_level_set_db(&c, INFINITY), EINVAL);
        ASSERT_ERROR(udk_control_level_set_db(&c, -INFINITY), EINVAL);
        ASSERT_ERROR(udk_control_level_set_scalar(&c, 1.01f), ERANGE);
        ASSERT_ERROR(udk_control_level_set_scalar(&c, -0.01f), ERANGE);
        ASSERT_ERROR(udk_control_level_set_scalar(&c, NAN), EINVAL);
        ASSERT_ERROR(udk_control_level_set_db(NULL, 0.0f), EINVAL);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -10.0f);
        ASSERT_UINT_EQ(generation(&c), 6);

        /* Without a silent bottom the lowest level still passes sound. */
        ASSERT_OK(udk_control_init_level(&c, 0, "Trim", -12.0f, 12.0f, -12.0f));
        ASSERT_NEAR(udk_control_level_gain(&c), 0.251188643151, 1e-7);
}

static void test_boolean(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_boolean(&c, 3, "Mute", true));
        ASSERT_INT_EQ(c.kind, UDK_CONTROL_BOOLEAN);
        ASSERT_TRUE(udk_control_boolean_get(&c));
        ASSERT_UINT_EQ(generation(&c), 0);
        ASSERT_OK(udk_control_boolean_set(&c, false));
        ASSERT_FALSE(udk_control_boolean_get(&c));
        ASSERT_UINT_EQ(generation(&c), 1);
        ASSERT_OK(udk_control_boolean_set(&c, true));
        ASSERT_TRUE(udk_control_boolean_get(&c));
        ASSERT_UINT_EQ(generation(&c), 2);
        ASSERT_ERROR(udk_control_init_boolean(NULL, 0, "x", false), EINVAL);
        ASSERT_ERROR(udk_control_boolean_set(NULL, true), EINVAL);
}

static const struct udk_selector_item inputs[] = {
    {1, "Line"},
    {2, "Mic"},
    {10, "Instrument"},
    {-3, "S/PDIF"},
};

static void test_selector(void)
{
        struct udk_selector_item many[UDK_SELECTOR_ITEMS_MAX + 1], items[2];
        struct udk_control c;

        ASSERT_OK(udk_control_init_selector(&c, 0, "Input", inputs, 4, 2));
        ASSERT_INT_EQ(c.kind, UDK_CONTROL_SELECTOR);
        ASSERT_UINT_EQ(c.selector.n_items, 4);
        ASSERT_STR_EQ(c.selector.items[3].name, "S/PDIF");
        ASSERT_INT_EQ(udk_control_selector_get(&c), 2);
        ASSERT_OK(udk_control_selector_set(&c, -3));
        ASSERT_INT_EQ(udk_control_selector_get(&c), -3);
        ASSERT_UINT_EQ(generation(&c), 1);
        ASSERT_ERROR(udk_control_selector_set(&c, 3), EINVAL);
        ASSERT_ERROR(udk_control_selector_set(&c, 0), EINVAL);
        ASSERT_INT_EQ(udk_control_selector_get(&c), -3);
        ASSERT_UINT_EQ(generation(&c), 1);

        /* The default must be an item. */
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "Input", inputs, 4, 5), EINVAL);
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "Input", inputs, 0, 1), EINVAL);
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "Input", NULL, 4, 1), EINVAL);
        /* Duplicate values, or names equal ignoring case. */
        items[0] = (struct udk_selector_item){1, "A"};
        items[1] = (struct udk_selector_item){1, "B"};
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "x", items, 2, 1), EINVAL);
        items[1] = (struct udk_selector_item){2, "a"};
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "x", items, 2, 1), EINVAL);
        items[1] = (struct udk_selector_item){2, ""};
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "x", items, 2, 1), EINVAL);
        memset(items[1].name, 'z', sizeof(items[1].name)); /* unterminated */
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "x", items, 2, 1), EINVAL);
        items[1] = (struct udk_selector_item){2, "B"};
        ASSERT_OK(udk_control_init_selector(&c, 0, "x", items, 2, 2));

        /* Up to UDK_SELECTOR_ITEMS_MAX items. */
        for (int i = 0; i <= UDK_SELECTOR_ITEMS_MAX; i++) {
                many[i].value = i * 10;
                snprintf(many[i].name, sizeof(many[i].name), "Item %d", i);
        }
        ASSERT_OK(udk_control_init_selector(&c, 0, "x", many, UDK_SELECTOR_ITEMS_MAX, 310));
        ASSERT_OK(udk_control_selector_set(&c, 0));
        ASSERT_ERROR(udk_control_init_selector(&c, 0, "x", many, UDK_SELECTOR_ITEMS_MAX + 1, 0), EINVAL);
}

static void test_number(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_number(&c, 0, "Frequency", 20.0f, 20000.0f, 1000.0f));
        ASSERT_INT_EQ(c.kind, UDK_CONTROL_NUMBER);
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 1000.0f);
        ASSERT_OK(udk_control_number_set(&c, 20.0f));
        ASSERT_OK(udk_control_number_set(&c, 20000.0f));
        ASSERT_OK(udk_control_number_set(&c, 440.5f));
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 440.5f);
        ASSERT_UINT_EQ(generation(&c), 3);
        ASSERT_ERROR(udk_control_number_set(&c, 19.9f), ERANGE);
        ASSERT_ERROR(udk_control_number_set(&c, 20001.0f), ERANGE);
        ASSERT_ERROR(udk_control_number_set(&c, NAN), EINVAL);
        ASSERT_ERROR(udk_control_number_set(&c, INFINITY), EINVAL);
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 440.5f);
        ASSERT_UINT_EQ(generation(&c), 3);

        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", 1.0f, 1.0f, 1.0f), EINVAL);
        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", 2.0f, 1.0f, 1.5f), EINVAL);
        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", 0.0f, 1.0f, 1.5f), EINVAL);
        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", 0.0f, 1.0f, NAN), EINVAL);
        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", NAN, 1.0f, 0.5f), EINVAL);
        ASSERT_ERROR(udk_control_init_number(&c, 0, "x", 0.0f, INFINITY, 0.5f), EINVAL);
}

/* A setter of one kind refuses a control of another; getters read it as 0. */
static void test_wrong_kind(void)
{
        struct udk_control b, l;

        ASSERT_OK(udk_control_init_boolean(&b, 0, "Mute", true));
        ASSERT_OK(udk_control_init_level(&l, 0, "Volume", -96.0f, 0.0f, -6.0f));
        ASSERT_ERROR(udk_control_level_set_db(&b, 0.0f), EINVAL);
        ASSERT_ERROR(udk_control_level_set_scalar(&b, 0.5f), EINVAL);
        ASSERT_ERROR(udk_control_selector_set(&b, 1), EINVAL);
        ASSERT_ERROR(udk_control_number_set(&b, 1.0f), EINVAL);
        ASSERT_ERROR(udk_control_boolean_set(&l, false), EINVAL);
        ASSERT_FLOAT_EQ(udk_control_level_gain(&b), 0.0f);
        ASSERT_FLOAT_EQ(udk_control_level_db(&b), 0.0f);
        ASSERT_FLOAT_EQ(udk_control_level_scalar(&b), 0.0f);
        ASSERT_FLOAT_EQ(udk_control_number_get(&b), 0.0f);
        ASSERT_INT_EQ(udk_control_selector_get(&b), 0);
        ASSERT_FALSE(udk_control_boolean_get(&l));
        ASSERT_TRUE(udk_control_boolean_get(&b));
        ASSERT_UINT_EQ(generation(&b), 0);
        ASSERT_UINT_EQ(generation(&l), 0);
}

static void test_kind_name(void)
{
        ASSERT_STR_EQ(udk_control_kind_name(UDK_CONTROL_LEVEL), "level");
        ASSERT_STR_EQ(udk_control_kind_name(UDK_CONTROL_BOOLEAN), "boolean");
        ASSERT_STR_EQ(udk_control_kind_name(UDK_CONTROL_SELECTOR), "selector");
        ASSERT_STR_EQ(udk_control_kind_name(UDK_CONTROL_NUMBER), "number");
        ASSERT_TRUE(udk_control_kind_name((enum udk_control_kind)42) == NULL);
}

static void test_level_from_string(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_level(&c, 0, "Volume", -96.0f, 6.0f, 0.0f));
        ASSERT_OK(udk_control_set_from_string(&c, "-6"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -6.0f);
        ASSERT_OK(udk_control_set_from_string(&c, "-12dB"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -12.0f);
        ASSERT_OK(udk_control_set_from_string(&c, "-3.5 dB"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -3.5f);
        ASSERT_OK(udk_control_set_from_string(&c, "  +4.25DB  "));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), 4.25f);
        ASSERT_OK(udk_control_set_from_string(&c, "0 db"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), 0.0f);
        ASSERT_OK(udk_control_set_from_string(&c, "-inf"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -96.0f);
        ASSERT_FLOAT_EQ(udk_control_level_gain(&c), 0.0f);
        ASSERT_OK(udk_control_set_from_string(&c, "0"));
        ASSERT_OK(udk_control_set_from_string(&c, "-INF dB"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -96.0f);
        ASSERT_UINT_EQ(generation(&c), 8);

        ASSERT_ERROR(udk_control_set_from_string(&c, "-97"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, "7 dB"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, "1e300"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, ""), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "   "), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "dB"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, " dB"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "loud"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "-6 dBFS"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "-6 d B"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "- 6"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "nan"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "inf"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "-6dBdB"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, NULL), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(NULL, "0"), EINVAL);
        /* Text longer than any value. */
        char long_text[80];
        memset(long_text, '0', sizeof(long_text));
        long_text[0] = '-';
        long_text[sizeof(long_text) - 2] = '6';
        long_text[sizeof(long_text) - 1] = '\0';
        ASSERT_ERROR(udk_control_set_from_string(&c, long_text), EINVAL);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -96.0f);
        ASSERT_UINT_EQ(generation(&c), 8);

        /* "-inf" needs a silent bottom. */
        ASSERT_OK(udk_control_init_level(&c, 0, "Trim", -12.0f, 12.0f, 0.0f));
        ASSERT_ERROR(udk_control_set_from_string(&c, "-inf"), ERANGE);
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), 0.0f);
}

static void test_boolean_from_string(void)
{
        static const char *const on[] = {"on", "ON", "true", "True", "yes", "YES", "1", " on "};
        static const char *const off[] = {"off", "Off", "false", "FALSE", "no", "No", "0", "\toff\n"};
        static const char *const bad[] = {"", "2", "onn", "of", "enabled", "-1", "y", "t", "0x1"};
        struct udk_control c;

        ASSERT_OK(udk_control_init_boolean(&c, 0, "Mute", false));
        for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
                ASSERT_OK(udk_control_boolean_set(&c, false));
                ASSERT_OK(udk_control_set_from_string(&c, on[i]));
                if (!udk_control_boolean_get(&c))
                        udk_test_fail("\"%s\" did not switch on", on[i]);
                ASSERT_OK(udk_control_set_from_string(&c, off[i]));
                if (udk_control_boolean_get(&c))
                        udk_test_fail("\"%s\" did not switch off", off[i]);
        }
        ASSERT_OK(udk_control_boolean_set(&c, true));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (udk_control_set_from_string(&c, bad[i]) != -EINVAL)
                        udk_test_fail("\"%s\" was not refused", bad[i]);
        ASSERT_TRUE(udk_control_boolean_get(&c));
}

static void test_selector_from_string(void)
{
        static const struct udk_selector_item tricky[] = {
            {1, "2"}, /* a name that reads as another item's value */
            {2, "Two"},
            {3, "7"},
        };
        struct udk_control c;

        ASSERT_OK(udk_control_init_selector(&c, 0, "Input", inputs, 4, 1));
        ASSERT_OK(udk_control_set_from_string(&c, "10"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 10);
        ASSERT_OK(udk_control_set_from_string(&c, "-3"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), -3);
        ASSERT_OK(udk_control_set_from_string(&c, "mic"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 2);
        ASSERT_OK(udk_control_set_from_string(&c, "INSTRUMENT"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 10);
        ASSERT_OK(udk_control_set_from_string(&c, "s/pdif"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), -3);
        ASSERT_OK(udk_control_set_from_string(&c, " Line "));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 1);
        ASSERT_OK(udk_control_set_from_string(&c, "0xa"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 10);
        ASSERT_UINT_EQ(generation(&c), 7);

        ASSERT_ERROR(udk_control_set_from_string(&c, "3"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "Guitar"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "99999999999"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "Mic2"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, ""), EINVAL);
        ASSERT_INT_EQ(udk_control_selector_get(&c), 10);
        ASSERT_UINT_EQ(generation(&c), 7);

        /* A value wins over a name; a name that is no item's value still selects. */
        ASSERT_OK(udk_control_init_selector(&c, 0, "x", tricky, 3, 3));
        ASSERT_OK(udk_control_set_from_string(&c, "2"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 2);
        ASSERT_OK(udk_control_set_from_string(&c, "7"));
        ASSERT_INT_EQ(udk_control_selector_get(&c), 3);
}

static void test_number_from_string(void)
{
        struct udk_control c;

        ASSERT_OK(udk_control_init_number(&c, 0, "Q", 0.1f, 10.0f, 0.707f));
        ASSERT_OK(udk_control_set_from_string(&c, "2.5"));
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 2.5f);
        ASSERT_OK(udk_control_set_from_string(&c, " 1e1 "));
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 10.0f);
        ASSERT_OK(udk_control_set_from_string(&c, "0.1"));
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 0.1f);
        ASSERT_ERROR(udk_control_set_from_string(&c, "11"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, "-1"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, "1e40"), ERANGE);
        ASSERT_ERROR(udk_control_set_from_string(&c, "two"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "2.5 dB"), EINVAL);
        ASSERT_ERROR(udk_control_set_from_string(&c, "nan"), EINVAL);
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 0.1f);
        ASSERT_UINT_EQ(generation(&c), 3);
}

static void test_format(void)
{
        struct udk_control c;
        char small[4];

        ASSERT_OK(udk_control_init_level(&c, 0, "Volume", -96.0f, 6.0f, -6.0f));
        ASSERT_STR_EQ(format(&c), "-6.0 dB");
        ASSERT_OK(udk_control_level_set_db(&c, 0.0f));
        ASSERT_STR_EQ(format(&c), "0.0 dB");
        ASSERT_OK(udk_control_level_set_db(&c, -0.04f));
        ASSERT_STR_EQ(format(&c), "0.0 dB");
        ASSERT_OK(udk_control_level_set_db(&c, 3.25f));
        ASSERT_STR_EQ(format(&c), "3.3 dB");
        ASSERT_OK(udk_control_level_set_db(&c, -95.5f));
        ASSERT_STR_EQ(format(&c), "-95.5 dB");
        ASSERT_OK(udk_control_level_set_db(&c, -96.0f));
        ASSERT_STR_EQ(format(&c), "-inf dB");
        /* What it prints reads back. */
        ASSERT_OK(udk_control_level_set_db(&c, -6.0f));
        ASSERT_OK(udk_control_set_from_string(&c, "-inf dB"));
        ASSERT_FLOAT_EQ(udk_control_level_db(&c), -96.0f);
        ASSERT_OK(udk_control_init_level(&c, 0, "Trim", -12.0f, 12.0f, -12.0f));
        ASSERT_STR_EQ(format(&c), "-12.0 dB");
        ASSERT_OK(udk_control_set_from_string(&c, format(&c)));

        /* snprintf's count, truncated output. */
        ASSERT_INT_EQ(udk_control_format(&c, small, sizeof(small)), 8);
        ASSERT_STR_EQ(small, "-12");
        ASSERT_INT_EQ(udk_control_format(&c, NULL, 0), 8);
        ASSERT_ERROR(udk_control_format(&c, NULL, 5), EINVAL);
        ASSERT_ERROR(udk_control_format(NULL, small, sizeof(small)), EINVAL);

        ASSERT_OK(udk_control_init_boolean(&c, 0, "Mute", true));
        ASSERT_STR_EQ(format(&c), "on");
        ASSERT_OK(udk_control_boolean_set(&c, false));
        ASSERT_STR_EQ(format(&c), "off");
        ASSERT_OK(udk_control_set_from_string(&c, format(&c)));

        ASSERT_OK(udk_control_init_selector(&c, 0, "Input", inputs, 4, 10));
        ASSERT_STR_EQ(format(&c), "Instrument");
        ASSERT_OK(udk_control_selector_set(&c, -3));
        ASSERT_STR_EQ(format(&c), "S/PDIF");
        ASSERT_OK(udk_control_set_from_string(&c, format(&c)));
        ASSERT_INT_EQ(udk_control_selector_get(&c), -3);

        ASSERT_OK(udk_control_init_number(&c, 0, "Frequency", 20.0f, 20000.0f, 1000.0f));
        ASSERT_STR_EQ(format(&c), "1000");
        ASSERT_OK(udk_control_number_set(&c, 440.5f));
        ASSERT_STR_EQ(format(&c), "440.5");
        ASSERT_OK(udk_control_number_set(&c, 20000.0f));
        ASSERT_STR_EQ(format(&c), "20000");
        ASSERT_OK(udk_control_set_from_string(&c, format(&c)));
        ASSERT_FLOAT_EQ(udk_control_number_get(&c), 20000.0f);
}

/* Two threads: every dB value the reader sees is one the writer wrote, whole. */
enum { WRITES = 1000000, VALUES = 1000 };

struct level_race {
        struct udk_control c;
        float values[VALUES];
        atomic_bool done;
        atomic_bool started;
};

static void *level_writer(void *arg)
{
        struct level_race *r = arg;

        atomic_store(&r->started, true);
        for (int i = 0; i < WRITES; i++)
                if (udk_control_level_set_db(&r->c, r->values[i % VALUES]) < 0)
                        abort();
        atomic_store(&r->done, true);
        return NULL;
}

static bool level_known(const struct level_race *r, float db)
{
        /* values[k] = -(k + 1) * 0.09: look near the index first, then everywhere. */
        long k = lrintf(-db / 0.09f) - 1;
        uint32_t want, got;

        memcpy(&got, &db, sizeof(got));
        for (long j = k - 1; j <= k + 1; j++) {
                if (j < 0 || j >= VALUES)
                        continue;
                memcpy(&want, &r->values[j], sizeof(want));
                if (want == got)
                        return true;
        }
        for (int j = 0; j < VALUES; j++) {
                memcpy(&want, &r->values[j], sizeof(want));
                if (want == got)
                        return true;
        }
        return false;
}

static void test_level_two_threads(void)
{
        static struct level_race r;
        uint64_t reads = 0, changes = 0;
        float last = 0.0f;
        pthread_t t;

        /* Values spread over the range, so their bytes differ everywhere. */
        for (int k = 0; k < VALUES; k++)
                r.values[k] = -(float)(k + 1) * 0.09f;
        ASSERT_OK(udk_control_init_level(&r.c, 0, "Race", -96.0f, 0.0f, r.values[VALUES - 1]));
        ASSERT_INT_EQ(pthread_create(&t, NULL, level_writer, &r), 0);
        while (!atomic_load(&r.started))
                ;
        while (!atomic_load(&r.done)) {
                float db = udk_control_level_db(&r.c);
                float gain = udk_control_level_gain(&r.c);

                if (!level_known(&r, db))
                        udk_test_fail("read %a, never written", db);
                if (!(gain >= 0.0f && gain <= 1.0f))
                        udk_test_fail("gain %a out of range", gain);
                changes += db != last;
                last = db;
                reads++;
        }
        ASSERT_INT_EQ(pthread_join(t, NULL), 0);
        ASSERT_UINT_EQ(generation(&r.c), WRITES);
        ASSERT_FLOAT_EQ(udk_control_level_db(&r.c), r.values[(WRITES - 1) % VALUES]);
        ASSERT_UINT_GE(reads, 1);
        fprintf(stderr, "%" PRIu64 " reads, %" PRIu64 " changes seen\n", reads, changes);
}

UDK_TEST_MAIN(test_level_init, test_level_mapping, test_level_set, test_boolean, test_selector, test_number,
              test_wrong_kind, test_kind_name, test_level_from_string, test_boolean_from_string,
              test_selector_from_string, test_number_from_string, test_format, test_level_two_threads)
