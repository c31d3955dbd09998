/* SPDX-License-Identifier: MIT */
/* The HID report descriptor parser on real descriptors and on broken ones. */
#include <udk/hid.h>

#include "udk-test.h"

/* A USB volume knob: Consumer Control with Volume Increment/Decrement buttons, Mute and a relative
 * Volume dial (the descriptor tests/fixtures/hid-knob.umockdev carries). */
static const uint8_t knob[] = {
        0x05, 0x0c, 0x09, 0x01, 0xa1, 0x01,                         /* Consumer, Consumer Control, App */
        0x09, 0xe9, 0x09, 0xea, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, /* Vol+, Vol-, 0..1, 1 bit */
        0x95, 0x02, 0x81, 0x02,                                     /* 2 of them: Input (Data,Var,Abs) */
        0x09, 0xe2, 0x95, 0x01, 0x81, 0x06,                         /* Mute: Input (Data,Var,Rel) */
        0x95, 0x01, 0x75, 0x05, 0x81, 0x03,                         /* 5 bits padding (Const) */
        0x09, 0xe0, 0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x01, /* Volume, -127..127, 8 bits */
        0x81, 0x06,                                                 /* Input (Data,Var,Rel) */
        0xc0,
};

/* The boot keyboard of HID 1.11, appendix B.1. */
static const uint8_t keyboard[] = {
        0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
        0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
        0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
        0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};

/* The boot mouse of HID 1.11, appendix B.2. */
static const uint8_t mouse[] = {
        0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x01, 0xa1, 0x00, 0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15,
        0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02, 0x95, 0x01, 0x75, 0x05, 0x81, 0x01, 0x05, 0x01,
        0x09, 0x30, 0x09, 0x31, 0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x02, 0x81, 0x06, 0xc0, 0xc0,
};

static struct udk_hid_descriptor desc;
static char err[256];

static void assert_field(const struct udk_hid_field *f, enum udk_hid_report_type type, unsigned id,
                         unsigned flags, unsigned offset, unsigned size, unsigned count, int lmin, int lmax)
{
        ASSERT_INT_EQ(f->type, type);
        ASSERT_UINT_EQ(f->report_id, id);
        ASSERT_UINT_EQ(f->flags, flags);
        ASSERT_UINT_EQ(f->bit_offset, offset);
        ASSERT_UINT_EQ(f->bit_size, size);
        ASSERT_UINT_EQ(f->count, count);
        ASSERT_INT_EQ(f->logical_min, lmin);
        ASSERT_INT_EQ(f->logical_max, lmax);
}

static void test_knob(void)
{
        const struct udk_hid_field *f;
        uint32_t index;
        int32_t v;

        ASSERT_OK(udk_hid_descriptor_parse(knob, sizeof(knob), &desc, err, sizeof(err)));
        ASSERT_STR_EQ(err, "");
        ASSERT_UINT_EQ(desc.usage_page, 0x0c);
        ASSERT_UINT_EQ(desc.usage, 0x01);
        ASSERT_FALSE(desc.report_ids);
        ASSERT_UINT_EQ(desc.n_fields, 4);
        assert_field(&desc.fields[0], UDK_HID_REPORT_INPUT, 0, UDK_HID_FIELD_VARIABLE, 0, 1, 2, 0, 1);
        ASSERT_UINT_EQ(desc.fields[0].n_usages, 2);
        ASSERT_UINT_EQ(desc.fields[0].usages[0], UDK_HID_CONSUMER_VOLUME_UP);
        ASSERT_UINT_EQ(desc.fields[0].usages[1], UDK_HID_CONSUMER_VOLUME_DOWN);
        ASSERT_UINT_EQ(desc.fields[0].usage_page, 0x0c);
        ASSERT_UINT_EQ(desc.fields[0].collection_usage, UDK_HID_CONSUMER_CONTROL);
        assert_field(&desc.fields[1], UDK_HID_REPORT_INPUT, 0,
                     UDK_HID_FIELD_VARIABLE | UDK_HID_FIELD_RELATIVE, 2, 1, 1, 0, 1);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[1], 0), UDK_HID_CONSUMER_MUTE);
        assert_field(&desc.fields[2], UDK_HID_REPORT_INPUT, 0,
                     UDK_HID_FIELD_CONSTANT | UDK_HID_FIELD_VARIABLE, 3, 5, 1, 0, 1);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[2], 0), 0);
        assert_field(&desc.fields[3], UDK_HID_REPORT_INPUT, 0,
                     UDK_HID_FIELD_VARIABLE | UDK_HID_FIELD_RELATIVE, 8, 8, 1, -127, 127);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[3], 0), UDK_HID_CONSUMER_VOLUME);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_INPUT, 0), 2);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_OUTPUT, 0), 0);

        /* Volume Down pressed, the dial turned two detents down. */
        const uint8_t report[] = { 0x02, 0xfe };
        ASSERT_OK(udk_hid_descriptor_find(&desc, UDK_HID_REPORT_INPUT, UDK_HID_CONSUMER_VOLUME_DOWN, &f,
                                          &index));
        ASSERT_PTR_EQ(f, &desc.fields[0]);
        ASSERT_UINT_EQ(index, 1);
        ASSERT_OK(udk_hid_field_value(f, index, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 1);
        ASSERT_OK(udk_hid_field_value(f, 0, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 0);
        ASSERT_OK(udk_hid_descriptor_find(&desc, UDK_HID_REPORT_INPUT, UDK_HID_CONSUMER_VOLUME, &f, &index));
        ASSERT_OK(udk_hid_field_value(f, index, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, -2);
        ASSERT_ERROR(udk_hid_field_value(f, index, report, 1, &v), EMSGSIZE);
        ASSERT_ERROR(udk_hid_field_value(f, 1, report, sizeof(report), &v), ERANGE);
        ASSERT_ERROR(
                udk_hid_descriptor_find(&desc, UDK_HID_REPORT_INPUT, UDK_HID_USAGE(0x0c, 0xcd), &f, &index),
                ENOENT);
}

static void test_keyboard(void)
{
        const struct udk_hid_field *f;
        uint32_t index;
        int32_t v;

        ASSERT_OK(udk_hid_descriptor_parse(keyboard, sizeof(keyboard), &desc, err, sizeof(err)));
        ASSERT_UINT_EQ(desc.usage_page, 0x01);
        ASSERT_UINT_EQ(desc.usage, 0x06);
        ASSERT_UINT_EQ(desc.n_fields, 5);
        assert_field(&desc.fields[0], UDK_HID_REPORT_INPUT, 0, UDK_HID_FIELD_VARIABLE, 0, 1, 8, 0, 1);
        ASSERT_UINT_EQ(desc.fields[0].usage_min, 0x700e0);
        ASSERT_UINT_EQ(desc.fields[0].usage_max, 0x700e7);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[0], 7), 0x700e7);
        assert_field(&desc.fields[1], UDK_HID_REPORT_INPUT, 0, UDK_HID_FIELD_CONSTANT, 8, 8, 1, 0, 1);
        assert_field(&desc.fields[2], UDK_HID_REPORT_OUTPUT, 0, UDK_HID_FIELD_VARIABLE, 0, 1, 5, 0, 1);
        ASSERT_UINT_EQ(desc.fields[2].usage_min, 0x80001);
        ASSERT_UINT_EQ(desc.fields[2].usage_max, 0x80005);
        assert_field(&desc.fields[3], UDK_HID_REPORT_OUTPUT, 0, UDK_HID_FIELD_CONSTANT, 5, 3, 1, 0, 1);
        assert_field(&desc.fields[4], UDK_HID_REPORT_INPUT, 0, 0, 16, 8, 6, 0, 0x65);
        ASSERT_UINT_EQ(desc.fields[4].usage_min, 0x70000);
        ASSERT_UINT_EQ(desc.fields[4].usage_max, 0x70065);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_INPUT, 0), 8);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_OUTPUT, 0), 1);

        /* Left Shift held, 'a' (0x04) and 'b' (0x05) down. */
        const uint8_t report[] = { 0x02, 0x00, 0x04, 0x05, 0, 0, 0, 0 };
        ASSERT_OK(udk_hid_descriptor_find(&desc, UDK_HID_REPORT_INPUT, 0x700e1, &f, &index));
        ASSERT_UINT_EQ(index, 1);
        ASSERT_OK(udk_hid_field_value(f, index, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 1);
        ASSERT_OK(udk_hid_field_value(&desc.fields[4], 1, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 5);
        /* The key array is not a variable field: no usage is found in it. */
        ASSERT_ERROR(udk_hid_descriptor_find(&desc, UDK_HID_REPORT_INPUT, 0x70004, &f, &index), ENOENT);
}

static void test_mouse(void)
{
        int32_t v;

        ASSERT_OK(udk_hid_descriptor_parse(mouse, sizeof(mouse), &desc, err, sizeof(err)));
        ASSERT_UINT_EQ(desc.usage_page, 0x01);
        ASSERT_UINT_EQ(desc.usage, 0x02);
        ASSERT_UINT_EQ(desc.n_fields, 3);
        assert_field(&desc.fields[0], UDK_HID_REPORT_INPUT, 0, UDK_HID_FIELD_VARIABLE, 0, 1, 3, 0, 1);
        ASSERT_UINT_EQ(desc.fields[0].usage_min, 0x90001);
        ASSERT_UINT_EQ(desc.fields[0].usage_max, 0x90003);
        ASSERT_UINT_EQ(desc.fields[0].collection_usage, 0x10001); /* Pointer, inside Mouse */
        assert_field(&desc.fields[1], UDK_HID_REPORT_INPUT, 0, UDK_HID_FIELD_CONSTANT, 3, 5, 1, 0, 1);
        assert_field(&desc.fields[2], UDK_HID_REPORT_INPUT, 0,
                     UDK_HID_FIELD_VARIABLE | UDK_HID_FIELD_RELATIVE, 8, 8, 2, -127, 127);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[2], 0), 0x10030);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[2], 1), 0x10031);
        ASSERT_UINT_EQ(udk_hid_field_usage(&desc.fields[2], 2), 0);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_INPUT, 0), 3);

        const uint8_t report[] = { 0x05, 0x81, 0x7f };
        ASSERT_OK(udk_hid_field_value(&desc.fields[2], 0, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, -127);
        ASSERT_OK(udk_hid_field_value(&desc.fields[2], 1, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 127);
        ASSERT_OK(udk_hid_field_value(&desc.fields[0], 2, report, sizeof(report), &v));
        ASSERT_INT_EQ(v, 1);
}

/* Two reports by id: each has its own offsets; a report of the other id is not read. */
static void test_report_ids(void)
{
        static const uint8_t d[] = {
                0x05, 0x0c, 0x09, 0x01, 0xa1, 0x01, 0x85, 0x01, 0x09, 0xe0, 0x15,
                0x00, 0x26, 0xff, 0x00, 0x75, 0x10, 0x95, 0x01, 0x81, 0x02, 0x85,
                0x02, 0x09, 0xe2, 0x25, 0xff, 0x75, 0x08, 0xb1, 0x02, 0xc0,
        };
        int32_t v;

        ASSERT_OK(udk_hid_descriptor_parse(d, sizeof(d), &desc, err, sizeof(err)));
        ASSERT_TRUE(desc.report_ids);
        ASSERT_UINT_EQ(desc.n_fields, 2);
        assert_field(&desc.fields[0], UDK_HID_REPORT_INPUT, 1, UDK_HID_FIELD_VARIABLE, 0, 16, 1, 0, 255);
        /* 0xff in one byte over a minimum of 0: 255, not -1. */
        assert_field(&desc.fields[1], UDK_HID_REPORT_FEATURE, 2, UDK_HID_FIELD_VARIABLE, 0, 8, 1, 0, 255);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_INPUT, 1), 3);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_FEATURE, 2), 2);
        ASSERT_UINT_EQ(udk_hid_report_size(&desc, UDK_HID_REPORT_INPUT, 2), 0);

        const uint8_t r1[] = { 0x01, 0x34, 0x92 }, r2[] = { 0x02, 0x34, 0x12 };
        ASSERT_OK(udk_hid_field_value(&desc.fields[0], 0, r1, sizeof(r1), &v));
        ASSERT_INT_EQ(v, 0x9234); /* unsigned: the minimum is 0 */
        ASSERT_ERROR(udk_hid_field_value(&desc.fields[0], 0, r2, sizeof(r2), &v), ENOMSG);
        ASSERT_ERROR(udk_hid_field_value(&desc.fields[0], 0, r1, 0, &v), ENOMSG);
}

/* Push saves the globals, Pop restores them; long items are skipped; 4-byte usages carry their page. */
static void test_push_pop_long_extended(void)
{
        static const uint8_t d[] = {
                0xfe, 0x02, 0x10, 0xaa, 0xbb,       /* a long item */
                0x05, 0x01, 0xa4, 0x05, 0x0c, 0xb4, /* page 1, Push, page 0x0c, Pop: page 1 */
                0x09, 0x02, 0xa1, 0x01,             /* Mouse */
                0x0b, 0xe9, 0x00, 0x0c, 0x00,       /* Usage 0x000c00e9 (extended) */
                0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02, 0xc0,
        };

        ASSERT_OK(udk_hid_descriptor_parse(d, sizeof(d), &desc, err, sizeof(err)));
        ASSERT_UINT_EQ(desc.usage_page, 0x01);
        ASSERT_UINT_EQ(desc.usage, 0x02);
        ASSERT_UINT_EQ(desc.n_fields, 1);
        ASSERT_UINT_EQ(desc.fields[0].usages[0], UDK_HID_CONSUMER_VOLUME_UP);
        ASSERT_UINT_EQ(desc.fields[0].usage_page, 0x01);
}

/* Reports to send, as hidraw frames them: checked against the descriptor's sizes. */
static void test_report_check(void)
{
        ASSERT_OK(udk_hid_descriptor_parse(keyboard, sizeof(keyboard), &desc, err, sizeof(err)));
        /* The LEDs: one byte of output, after hidraw's 0 for a device without ids. */
        ASSERT_OK(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, (const uint8_t[]){ 0, 0x02 }, 2));
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, (const uint8_t[]){ 0, 1, 2 }, 3),
                     EMSGSIZE);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, (const uint8_t[]){ 0 }, 1),
                     EMSGSIZE);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, (const uint8_t[]){ 1, 2 }, 2),
                     EINVAL);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, NULL, 0), EINVAL);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_FEATURE, (const uint8_t[]){ 0, 1 }, 2),
                     ENOENT);

        /* With ids: the id byte is the report's own; a feature report of id 2, one byte. */
        static const uint8_t d[] = {
                0x05, 0x0c, 0x09, 0x01, 0xa1, 0x01, 0x85, 0x02, 0x09, 0xe2, 0x15,
                0x00, 0x25, 0x01, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02, 0xc0,
        };
        ASSERT_OK(udk_hid_descriptor_parse(d, sizeof(d), &desc, err, sizeof(err)));
        ASSERT_OK(udk_hid_report_check(&desc, UDK_HID_REPORT_FEATURE, (const uint8_t[]){ 2, 1 }, 2));
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_FEATURE, (const uint8_t[]){ 2, 1, 0 }, 3),
                     EMSGSIZE);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_FEATURE, (const uint8_t[]){ 3, 1 }, 2),
                     ENOENT);
        ASSERT_ERROR(udk_hid_report_check(&desc, UDK_HID_REPORT_OUTPUT, (const uint8_t[]){ 2, 1 }, 2),
                     ENOENT);
}

static void assert_bad(const uint8_t *d, size_t len, const char *sentence)
{
        memset(err, 'x', sizeof(err));
        ASSERT_ERROR(udk_hid_descriptor_parse(d, len, &desc, err, sizeof(err)), EBADMSG);
        ASSERT_STR_EQ(err, sentence);
}

#define BAD(sentence, ...)                                   \
        do {                                                 \
                static const uint8_t d_[] = { __VA_ARGS__ }; \
                assert_bad(d_, sizeof(d_), sentence);        \
        } while (0)

static void test_errors(void)
{
        uint8_t many[64];

        assert_bad(NULL, 0, "byte 0: an empty report descriptor");
        BAD("byte 2: item 0x09 needs 1 data bytes, only 0 left", 0x05, 0x0c, 0x09);
        BAD("byte 0: item 0x27 needs 4 data bytes, only 2 left", 0x27, 0x01, 0x02);
        BAD("byte 0: a long item of 5 data bytes with only 1 left", 0xfe, 0x05, 0x00, 0x01);
        BAD("byte 1: a long item cut short (2 of 3 header bytes)", 0xa4, 0xfe, 0x05);
        BAD("byte 2: Pop without a Push", 0x05, 0x01, 0xb4);
        BAD("byte 0: End Collection without a Collection", 0xc0);
        BAD("byte 6: the descriptor ends inside 1 open collection", 0x05, 0x01, 0x09, 0x02, 0xa1, 0x01);
        BAD("byte 4: the descriptor ends inside 2 open collections", 0xa1, 0x01, 0xa1, 0x00);
        BAD("byte 0: Report Size 0 (1..32 bits)", 0x75, 0x00);
        BAD("byte 2: Report Size 33 (1..32 bits)", 0x95, 0x01, 0x75, 0x21);
        BAD("byte 2: Input item with Report Size 0 (1..32 bits)", 0x95, 0x01, 0x81, 0x02);
        BAD("byte 0: Report Count 4097 (at most 4096)", 0x96, 0x01, 0x10);
        /* 1024 elements of 32 bits fill a report of 4096 bytes; the next item overflows it. */
        BAD("byte 7: Input report 0 would be 65536 bits long, at most 32768", 0x75, 0x20, 0x96, 0x00, 0x04,
            0x81, 0x02, 0x81, 0x02);
        BAD("byte 13: Feature report 3 would be 32776 bits long, at most 32768", 0x85, 0x03, 0x75, 0x20,
            0x96, 0x00, 0x04, 0xb1, 0x02, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02);
        BAD("byte 0: Report ID 0 (1..255)", 0x85, 0x00);
        BAD("byte 0: Report ID 256 (1..255)", 0x86, 0x00, 0x01);
        BAD("byte 0: item 0x0c of the reserved type 3", 0x0c);
        BAD("byte 0: unknown global item tag 0xc", 0xc4);
        BAD("byte 0: unknown main item tag 0xd", 0xd0);
        BAD("byte 0: Usage Page 0x10000 above 0xffff", 0x07, 0x00, 0x00, 0x01, 0x00);
        BAD("byte 8: Input item with Logical Minimum 5 above Logical Maximum 1", 0x15, 0x05, 0x25, 0x01,
            0x75, 0x01, 0x95, 0x01, 0x81, 0x02);
        BAD("byte 10: Input item with a Usage Minimum without its Usage Maximum", 0x19, 0x01, 0x15, 0x00,
            0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02);
        BAD("byte 12: Input item with Usage Minimum 0x10005 above Usage Maximum 0x10001", 0x05, 0x01, 0x19,
            0x05, 0x29, 0x01, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02);

        memset(many, 0xa4, sizeof(many)); /* Push after Push */
        assert_bad(many, 9, "byte 8: Push nested deeper than 8");
        for (size_t i = 0; i < 34; i += 2) {
                many[i] = 0xa1;
                many[i + 1] = 0x00;
        }
        assert_bad(many, 34, "byte 32: collections nested deeper than 16");
}

/* More Usage items before one main item than a field holds. */
static void test_too_many_usages(void)
{
        uint8_t d[2 * (UDK_HID_FIELD_USAGES_MAX + 1)];

        for (size_t i = 0; i < sizeof(d); i += 2) {
                d[i] = 0x09;
                d[i + 1] = (uint8_t)i;
        }
        assert_bad(d, sizeof(d), "byte 64: more than 32 Usage items before a main item");
}

/* Too many fields, too long a descriptor. */
static void test_bounds(void)
{
        static uint8_t d[UDK_HID_DESCRIPTOR_SIZE_MAX + 1];
        size_t n = 0;

        d[n++] = 0x75, d[n++] = 0x01, d[n++] = 0x95, d[n++] = 0x01;
        for (unsigned i = 0; i <= UDK_HID_FIELDS_MAX; i++)
                d[n++] = 0x81, d[n++] = 0x02;
        assert_bad(d, n, "byte 516: more than 256 fields");
        assert_bad(d, sizeof(d), "byte 0: a report descriptor of 4097 bytes (at most 4096)");
}

/* Every prefix and every one-byte corruption of the real descriptors parses or fails with a sentence. */
static void test_mangled(void)
{
        const struct {
                const uint8_t *d;
                size_t len;
        } all[] = {
                { knob, sizeof(knob) },
                { keyboard, sizeof(keyboard) },
                { mouse, sizeof(mouse) },
        };
        uint8_t copy[128];

        for (size_t k = 0; k < 3; k++) {
                for (size_t len = 0; len < all[k].len; len++) {
                        int r = udk_hid_descriptor_parse(all[k].d, len, &desc, err, sizeof(err));
                        /* Past the application collection's opening, a prefix leaves it open or an item cut.
                         */
                        if (len >= 6)
                                ASSERT_INT_EQ(r, -EBADMSG);
                        ASSERT_TRUE(r == 0 || strncmp(err, "byte ", 5) == 0);
                }
                for (size_t at = 0; at < all[k].len; at++)
                        for (unsigned b = 0; b < 256; b += 7) {
                                int r;

                                memcpy(copy, all[k].d, all[k].len);
                                copy[at] = (uint8_t)b;
                                r = udk_hid_descriptor_parse(copy, all[k].len, &desc, err, sizeof(err));
                                ASSERT_TRUE(r == 0 || (r == -EBADMSG && strncmp(err, "byte ", 5) == 0));
                        }
        }
}

UDK_TEST_MAIN(test_knob, test_keyboard, test_mouse, test_report_ids, test_report_check,
              test_push_pop_long_extended, test_errors, test_too_many_usages, test_bounds, test_mangled)
