/* SPDX-License-Identifier: MIT */
/*
 * The HID report descriptor parser (HID 1.11, 6.2.2): a walk over the
 * items keeping the global state (with its Push/Pop stack), the local
 * state (cleared at each main item) and the open collections; each main
 * item with data becomes a field at the running bit offset of its report.
 * Pure: no allocation, no I/O, every count bounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <udk/hid.h>

/* Item types and tags (the prefix byte's bits 3..2 and 7..4). */
enum { ITEM_MAIN = 0, ITEM_GLOBAL = 1, ITEM_LOCAL = 2, ITEM_RESERVED = 3 };
enum {
        MAIN_INPUT = 0x8,
        MAIN_OUTPUT = 0x9,
        MAIN_COLLECTION = 0xa,
        MAIN_FEATURE = 0xb,
        MAIN_END_COLLECTION = 0xc,
};
enum {
        GLOBAL_USAGE_PAGE = 0x0,
        GLOBAL_LOGICAL_MIN = 0x1,
        GLOBAL_LOGICAL_MAX = 0x2,
        GLOBAL_PHYSICAL_MIN = 0x3,
        GLOBAL_PHYSICAL_MAX = 0x4,
        GLOBAL_UNIT_EXPONENT = 0x5,
        GLOBAL_UNIT = 0x6,
        GLOBAL_REPORT_SIZE = 0x7,
        GLOBAL_REPORT_ID = 0x8,
        GLOBAL_REPORT_COUNT = 0x9,
        GLOBAL_PUSH = 0xa,
        GLOBAL_POP = 0xb,
};
enum { LOCAL_USAGE = 0x0, LOCAL_USAGE_MIN = 0x1, LOCAL_USAGE_MAX = 0x2 };
#define LONG_ITEM_PREFIX       0xfe
#define COLLECTION_APPLICATION 0x01

struct globals {
        uint32_t usage_page;
        int32_t logical_min, logical_max;
        uint32_t logical_max_raw, logical_max_size;
        uint32_t report_size, report_count;
        uint8_t report_id;
};

struct locals {
        uint32_t n_usages;
        uint32_t usages[UDK_HID_FIELD_USAGES_MAX];
        bool has_min, has_max;
        uint32_t usage_min, usage_max;
};

struct parser {
        struct udk_hid_descriptor *d;
        char *err;
        size_t err_size;
        struct globals g;
        struct globals stack[UDK_HID_PUSH_MAX];
        unsigned depth;
        struct locals l;
        uint32_t collections[UDK_HID_COLLECTIONS_MAX]; /* usages of the open collections */
        unsigned open;
        bool application_seen;
};

static const char *const type_names[] = { "Input", "Output", "Feature" };

__attribute__((format(printf, 4, 5))) static int fail(struct parser *p, size_t offset, int r,
                                                      const char *fmt, ...)
{
        va_list ap;
        int n;

        if (!p->err || p->err_size == 0)
                return r;
        n = snprintf(p->err, p->err_size, "byte %zu: ", offset);
        if (n >= 0 && (size_t)n < p->err_size) {
                va_start(ap, fmt);
                vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* A local usage: a 4-byte one carries its page, a shorter one takes the Usage Page in effect. */
static uint32_t usage_extend(const struct parser *p, uint32_t value, uint32_t size)
{
        return size == 4 ? value : UDK_HID_USAGE(p->g.usage_page, value);
}

static int32_t sign_extend(uint32_t value, uint32_t size)
{
        if (size == 1)
                return (int8_t)value;
        if (size == 2)
                return (int16_t)value;
        return (int32_t)value;
}

static int main_item(struct parser *p, size_t at, unsigned tag, uint32_t value, uint32_t size)
{
        enum udk_hid_report_type type;
        struct udk_hid_field *f;
        uint32_t *bits;
        int32_t max;

        switch (tag) {
        case MAIN_COLLECTION: {
                uint32_t usage = p->l.n_usages ? p->l.usages[0] : p->l.has_min ? p->l.usage_min : 0;

                if (p->open >= UDK_HID_COLLECTIONS_MAX)
                        return fail(p, at, -EBADMSG, "collections nested deeper than %u",
                                    UDK_HID_COLLECTIONS_MAX);
                if (value == COLLECTION_APPLICATION && !p->application_seen) {
                        p->application_seen = true;
                        p->d->usage_page = usage >> 16;
                        p->d->usage = usage & 0xffff;
                }
                p->collections[p->open++] = usage;
                goto clear;
        }
        case MAIN_END_COLLECTION:
                if (p->open == 0)
                        return fail(p, at, -EBADMSG, "End Collection without a Collection");
                p->open--;
                goto clear;
        case MAIN_INPUT:
                type = UDK_HID_REPORT_INPUT;
                break;
        case MAIN_OUTPUT:
                type = UDK_HID_REPORT_OUTPUT;
                break;
        case MAIN_FEATURE:
                type = UDK_HID_REPORT_FEATURE;
                break;
        default:
                return fail(p, at, -EBADMSG, "unknown main item tag 0x%x", tag);
        }

        if (p->g.report_count == 0)
                goto clear; /* no data: nothing in the report */
        if (p->g.report_size == 0)
                return fail(p, at, -EBADMSG, "%s item with Report Size 0 (1..%u bits)", type_names[type],
                            UDK_HID_REPORT_SIZE_MAX);
        /* The maximum's sign depends on the minimum: 0..255 is written 0x00, 0xff. */
        max = p->g.logical_max;
        if (p->g.logical_min >= 0 && max < 0)
                max = (int32_t)(p->g.logical_max_raw & 0x7fffffffu);
        if (p->g.logical_min > max)
                return fail(p, at, -EBADMSG,
                            "%s item with Logical Minimum %" PRId32 " above Logical Maximum %" PRId32,
                            type_names[type], p->g.logical_min, max);
        if (p->l.has_min != p->l.has_max)
                return fail(p, at, -EBADMSG, "%s item with a Usage %s without its Usage %s",
                            type_names[type], p->l.has_min ? "Minimum" : "Maximum",
                            p->l.has_min ? "Maximum" : "Minimum");
        if (p->l.has_min && p->l.usage_min > p->l.usage_max)
                return fail(p, at, -EBADMSG, "%s item with Usage Minimum 0x%x above Usage Maximum 0x%x",
                            type_names[type], p->l.usage_min, p->l.usage_max);
        bits = &p->d->report_bits[type][p->g.report_id];
        /* Both factors are bounded (32, 4096): the product fits. */
        if (*bits + p->g.report_size * p->g.report_count > UDK_HID_REPORT_BYTES_MAX * 8u)
                return fail(p, at, -EBADMSG, "%s report %u would be %u bits long, at most %u",
                            type_names[type], p->g.report_id, *bits + p->g.report_size * p->g.report_count,
                            UDK_HID_REPORT_BYTES_MAX * 8u);
        if (p->d->n_fields >= UDK_HID_FIELDS_MAX)
                return fail(p, at, -EBADMSG, "more than %u fields", UDK_HID_FIELDS_MAX);

        f = &p->d->fields[p->d->n_fields++];
        memset(f, 0, sizeof(*f));
        f->type = type;
        f->report_id = p->g.report_id;
        f->flags = (uint16_t)(value & 0x1ff);
        f->bit_offset = *bits;
        f->bit_size = p->g.report_size;
        f->count = p->g.report_count;
        f->usage_page = (uint16_t)p->g.usage_page;
        f->n_usages = p->l.n_usages;
        memcpy(f->usages, p->l.usages, sizeof(f->usages[0]) * p->l.n_usages);
        if (p->l.has_min) {
                f->usage_min = p->l.usage_min;
                f->usage_max = p->l.usage_max;
        }
        f->logical_min = p->g.logical_min;
        f->logical_max = max;
        f->collection_usage = p->open ? p->collections[p->open - 1] : 0;
        *bits += p->g.report_size * p->g.report_count;
clear:
        memset(&p->l, 0, sizeof(p->l));
        return 0;
}

static int global_item(struct parser *p, size_t at, unsigned tag, uint32_t value, uint32_t size)
{
        switch (tag) {
        case GLOBAL_USAGE_PAGE:
                if (value > 0xffff)
                        return fail(p, at, -EBADMSG, "Usage Page 0x%x above 0xffff", value);
                p->g.usage_page = value;
                return 0;
        case GLOBAL_LOGICAL_MIN:
                p->g.logical_min = sign_extend(value, size);
                return 0;
        case GLOBAL_LOGICAL_MAX:
                p->g.logical_max = sign_extend(value, size);
                p->g.logical_max_raw = value;
                p->g.logical_max_size = size;
                return 0;
        case GLOBAL_PHYSICAL_MIN:
        case GLOBAL_PHYSICAL_MAX:
        case GLOBAL_UNIT_EXPONENT:
        case GLOBAL_UNIT:
                return 0; /* not used by the family */
        case GLOBAL_REPORT_SIZE:
                if (value == 0 || value > UDK_HID_REPORT_SIZE_MAX)
                        return fail(p, at, -EBADMSG, "Report Size %u (1..%u bits)", value,
                                    UDK_HID_REPORT_SIZE_MAX);
                p->g.report_size = value;
                return 0;
        case GLOBAL_REPORT_ID:
                if (value == 0 || value > 255)
                        return fail(p, at, -EBADMSG, "Report ID %u (1..255)", value);
                p->g.report_id = (uint8_t)value;
                p->d->report_ids = true;
                return 0;
        case GLOBAL_REPORT_COUNT:
                if (value > UDK_HID_REPORT_COUNT_MAX)
                        return fail(p, at, -EBADMSG, "Report Count %u (at most %u)", value,
                                    UDK_HID_REPORT_COUNT_MAX);
                p->g.report_count = value;
                return 0;
        case GLOBAL_PUSH:
                if (p->depth >= UDK_HID_PUSH_MAX)
                        return fail(p, at, -EBADMSG, "Push nested deeper than %u", UDK_HID_PUSH_MAX);
                p->stack[p->depth++] = p->g;
                return 0;
        case GLOBAL_POP:
                if (p->depth == 0)
                        return fail(p, at, -EBADMSG, "Pop without a Push");
                p->g = p->stack[--p->depth];
                return 0;
        default:
                return fail(p, at, -EBADMSG, "unknown global item tag 0x%x", tag);
        }
}

static int local_item(struct parser *p, size_t at, unsigned tag, uint32_t value, uint32_t size)
{
        switch (tag) {
        case LOCAL_USAGE:
                if (p->l.n_usages >= UDK_HID_FIELD_USAGES_MAX)
                        return fail(p, at, -EBADMSG, "more than %u Usage items before a main item",
                                    UDK_HID_FIELD_USAGES_MAX);
                p->l.usages[p->l.n_usages++] = usage_extend(p, value, size);
                return 0;
        case LOCAL_USAGE_MIN:
                p->l.has_min = true;
                p->l.usage_min = usage_extend(p, value, size);
                return 0;
        case LOCAL_USAGE_MAX:
                p->l.has_max = true;
                p->l.usage_max = usage_extend(p, value, size);
                return 0;
        default:
                return 0; /* designators, strings, delimiters: not used by the family */
        }
}

int udk_hid_descriptor_parse(const uint8_t *bytes, size_t len, struct udk_hid_descriptor *ret, char *err,
                             size_t err_size)
{
        struct parser p = { .d = ret, .err = err, .err_size = err_size };
        size_t at = 0;

        if ((!bytes && len) || !ret)
                return -EINVAL;
        if (err && err_size)
                err[0] = '\0';
        memset(ret, 0, sizeof(*ret));
        if (len == 0)
                return fail(&p, 0, -EBADMSG, "an empty report descriptor");
        if (len > UDK_HID_DESCRIPTOR_SIZE_MAX)
                return fail(&p, 0, -EBADMSG, "a report descriptor of %zu bytes (at most %u)", len,
                            UDK_HID_DESCRIPTOR_SIZE_MAX);

        while (at < len) {
                uint8_t prefix = bytes[at];
                uint32_t size, value = 0;
                unsigned type, tag;
                int r;

                if (prefix == LONG_ITEM_PREFIX) {
                        /* bDataSize, bLongItemTag, then the data: no long item tag is defined, skip it. */
                        if (len - at < 3)
                                return fail(&p, at, -EBADMSG,
                                            "a long item cut short (%zu of 3 header bytes)", len - at);
                        size = bytes[at + 1];
                        if (len - at - 3 < size)
                                return fail(&p, at, -EBADMSG,
                                            "a long item of %u data bytes with only %zu left", size,
                                            len - at - 3);
                        at += 3 + size;
                        continue;
                }
                size = prefix & 3u;
                if (size == 3)
                        size = 4;
                type = (prefix >> 2) & 3u;
                tag = prefix >> 4;
                if (len - at - 1 < size)
                        return fail(&p, at, -EBADMSG, "item 0x%02x needs %u data bytes, only %zu left",
                                    prefix, size, len - at - 1);
                for (uint32_t i = 0; i < size; i++)
                        value |= (uint32_t)bytes[at + 1 + i] << (8 * i);
                switch (type) {
                case ITEM_MAIN:
                        r = main_item(&p, at, tag, value, size);
                        break;
                case ITEM_GLOBAL:
                        r = global_item(&p, at, tag, value, size);
                        break;
                case ITEM_LOCAL:
                        r = local_item(&p, at, tag, value, size);
                        break;
                default:
                        r = fail(&p, at, -EBADMSG, "item 0x%02x of the reserved type 3", prefix);
                        break;
                }
                if (r < 0)
                        return r;
                at += 1 + size;
        }
        if (p.open)
                return fail(&p, len, -EBADMSG, "the descriptor ends inside %u open collection%s", p.open,
                            p.open == 1 ? "" : "s");
        return 0;
}

uint32_t udk_hid_field_usage(const struct udk_hid_field *field, uint32_t index)
{
        if (index >= field->count)
                return 0;
        if (field->n_usages)
                return field->usages[index < field->n_usages ? index : field->n_usages - 1];
        if (field->usage_min || field->usage_max)
                return field->usage_max - field->usage_min < index ? field->usage_max
                                                                   : field->usage_min + index;
        return 0;
}

int udk_hid_descriptor_find(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type,
                            uint32_t usage, const struct udk_hid_field **ret_field, uint32_t *ret_index)
{
        for (size_t i = 0; i < desc->n_fields; i++) {
                const struct udk_hid_field *f = &desc->fields[i];

                if (f->type != type || !(f->flags & UDK_HID_FIELD_VARIABLE) ||
                    (f->flags & UDK_HID_FIELD_CONSTANT))
                        continue;
                for (uint32_t e = 0; e < f->count; e++)
                        if (udk_hid_field_usage(f, e) == usage) {
                                *ret_field = f;
                                *ret_index = e;
                                return 0;
                        }
        }
        return -ENOENT;
}

size_t udk_hid_report_size(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type, uint8_t id)
{
        uint32_t bits = desc->report_bits[type][id];

        if (bits == 0)
                return 0;
        return (bits + 7) / 8 + (desc->report_ids ? 1 : 0);
}

int udk_hid_report_check(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type,
                         const uint8_t *report, size_t len)
{
        size_t size;

        if (!report || len == 0 || (!desc->report_ids && report[0] != 0))
                return -EINVAL;
        size = udk_hid_report_size(desc, type, report[0]);
        if (size == 0)
                return -ENOENT;
        /* Without ids the caller's leading 0 is hidraw's framing, not part of the report. */
        return len == size + (desc->report_ids ? 0 : 1) ? 0 : -EMSGSIZE;
}

int udk_hid_field_value(const struct udk_hid_field *field, uint32_t index, const uint8_t *report, size_t len,
                        int32_t *ret)
{
        uint64_t bit, value = 0;
        size_t skip = field->report_id ? 1 : 0;

        if (index >= field->count)
                return -ERANGE;
        if (field->report_id && (len == 0 || report[0] != field->report_id))
                return -ENOMSG;
        bit = (uint64_t)field->bit_offset + (uint64_t)index * field->bit_size;
        if (bit + field->bit_size > (uint64_t)(len - skip) * 8)
                return -EMSGSIZE;
        for (uint32_t i = 0; i < field->bit_size; i++, bit++)
                value |= (uint64_t)((report[skip + bit / 8] >> (bit % 8)) & 1u) << i;
        if (field->logical_min < 0 && field->bit_size < 32 && (value & (1ull << (field->bit_size - 1))))
                value |= ~0ull << field->bit_size;
        *ret = (int32_t)(uint32_t)value;
        return 0;
}
