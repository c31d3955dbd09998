/* SPDX-License-Identifier: MIT */
/*
 * The HID family: a report descriptor parser (pure: bytes in, a layout
 * out, no allocation, no I/O, so a fuzz target can call it), a field
 * extractor for reports, and the provider a HID driver is handed (its
 * hidraw descriptor: input reports as a dispatch source, output and
 * feature reports).
 *
 * Usages are "extended": (usage page << 16) | usage id, as the HID
 * specification writes a 32-bit usage.
 */
#ifndef UDK_HID_H
#define UDK_HID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDK_HID_DESCRIPTOR_SIZE_MAX 4096u /* the kernel's HID_MAX_DESCRIPTOR_SIZE */
#define UDK_HID_FIELDS_MAX          256u  /* main items that carry data, in one descriptor */
#define UDK_HID_FIELD_USAGES_MAX    32u   /* Usage items before one main item */
#define UDK_HID_PUSH_MAX            8u    /* Push without Pop */
#define UDK_HID_COLLECTIONS_MAX     16u   /* collections open at once */
#define UDK_HID_REPORT_SIZE_MAX     32u   /* bits in one element */
#define UDK_HID_REPORT_COUNT_MAX    4096u /* elements in one main item */
#define UDK_HID_REPORT_BYTES_MAX    4096u /* one report, without its id byte */

enum udk_hid_report_type {
        UDK_HID_REPORT_INPUT,
        UDK_HID_REPORT_OUTPUT,
        UDK_HID_REPORT_FEATURE,
};
#define UDK_HID_REPORT_TYPES 3

/* The main item's data bits (HID 1.11, 6.2.2.5). */
#define UDK_HID_FIELD_CONSTANT       (1u << 0) /* else data */
#define UDK_HID_FIELD_VARIABLE       (1u << 1) /* else array: each element holds a usage index */
#define UDK_HID_FIELD_RELATIVE       (1u << 2) /* else absolute */
#define UDK_HID_FIELD_WRAP           (1u << 3)
#define UDK_HID_FIELD_NONLINEAR      (1u << 4)
#define UDK_HID_FIELD_NO_PREFERRED   (1u << 5)
#define UDK_HID_FIELD_NULL_STATE     (1u << 6)
#define UDK_HID_FIELD_VOLATILE       (1u << 7)
#define UDK_HID_FIELD_BUFFERED_BYTES (1u << 8)

/* Usage pages and usages the family and its example use. */
#define UDK_HID_PAGE_GENERIC_DESKTOP 0x01u
#define UDK_HID_PAGE_KEYBOARD        0x07u
#define UDK_HID_PAGE_BUTTON          0x09u
#define UDK_HID_PAGE_CONSUMER        0x0cu
#define UDK_HID_USAGE(page, id)      (((uint32_t)(page) << 16) | (uint16_t)(id))
#define UDK_HID_CONSUMER_CONTROL     UDK_HID_USAGE(0x0c, 0x01)
#define UDK_HID_CONSUMER_VOLUME      UDK_HID_USAGE(0x0c, 0xe0) /* a relative dial: detents, signed */
#define UDK_HID_CONSUMER_MUTE        UDK_HID_USAGE(0x0c, 0xe2)
#define UDK_HID_CONSUMER_VOLUME_UP   UDK_HID_USAGE(0x0c, 0xe9)
#define UDK_HID_CONSUMER_VOLUME_DOWN UDK_HID_USAGE(0x0c, 0xea)

/*
 * One main item with data (Report Count > 0): @count elements of
 * @bit_size bits from @bit_offset of its report, counted from the first
 * bit after the report id byte (there is none when @report_id is 0).
 * Its usages: the list @usages (element i has usages[min(i, n-1)]), else
 * the range @usage_min..@usage_max (element i has usage_min + i, capped
 * at usage_max), else none (padding).
 */
struct udk_hid_field {
        enum udk_hid_report_type type;
        uint8_t report_id;
        uint16_t flags; /* UDK_HID_FIELD_* */
        uint32_t bit_offset;
        uint32_t bit_size;
        uint32_t count;
        uint16_t usage_page; /* the Usage Page in effect at the main item */
        uint32_t n_usages;
        uint32_t usages[UDK_HID_FIELD_USAGES_MAX];
        uint32_t usage_min, usage_max; /* 0, 0 without a range */
        int32_t logical_min, logical_max;
        uint32_t collection_usage; /* the innermost open collection's usage, 0 outside */
};

struct udk_hid_descriptor {
        uint32_t usage_page, usage; /* of the first application collection; 0, 0 without one */
        bool report_ids;            /* reports start with their id byte */
        size_t n_fields;
        struct udk_hid_field fields[UDK_HID_FIELDS_MAX];
        /* Bits of each report, by type and id (id 0 when the device uses none). */
        uint32_t report_bits[UDK_HID_REPORT_TYPES][256];
};

/*
 * Parse the report descriptor @bytes (@len bytes) into *@ret.  Short and
 * long items (long items are skipped, as no tag for them is defined), Push
 * and Pop, collections, local usages and ranges (with extended 32-bit
 * usages), Report ID, Report Size and Count, Logical Minimum and Maximum
 * (signed; a maximum that reads negative above a non-negative minimum is
 * taken as unsigned, as devices write 0..255 as 0x00, 0xff).  Every count
 * is bounded by the UDK_HID_*_MAX above.
 *
 * -EBADMSG for a descriptor that breaks the rules, with one sentence in
 * @err (may be NULL) naming the byte offset and what was wrong: "byte 12:
 * Pop without a Push".  *@ret is then undefined.  -EINVAL for NULL
 * arguments.  Allocates nothing; safe on any bytes.
 */
int udk_hid_descriptor_parse(const uint8_t *bytes, size_t len, struct udk_hid_descriptor *ret, char *err,
                             size_t err_size);

/* The usage of element @index of @field: 0 for padding or an index past it. */
uint32_t udk_hid_field_usage(const struct udk_hid_field *field, uint32_t index);

/* The first field of @type whose elements include @usage (variable fields only), with the element's
 * index: -ENOENT without one. */
int udk_hid_descriptor_find(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type,
                            uint32_t usage, const struct udk_hid_field **ret_field, uint32_t *ret_index);

/* The length in bytes of report @id of @type as the device sends it (with the id byte when the
 * device uses ids); 0 for a report the descriptor does not have. */
size_t udk_hid_report_size(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type, uint8_t id);

/*
 * Check @report (@len bytes) as hidraw takes a report to send: its id byte
 * first (0 for a device without ids), then exactly the bytes the
 * descriptor gives a report of @type with that id.  -EINVAL for a nonzero
 * id on a device without ids (or an empty report), -ENOENT for an id the
 * descriptor has no such report for, -EMSGSIZE for another length.
 */
int udk_hid_report_check(const struct udk_hid_descriptor *desc, enum udk_hid_report_type type,
                         const uint8_t *report, size_t len);

/*
 * Element @index of @field in @report (@len bytes as read from hidraw:
 * with the id byte first when the field has a report id), sign-extended
 * when the field's logical minimum is negative.  -ENOMSG when the report
 * has another id, -EMSGSIZE when it is too short for the element, -ERANGE
 * for an index past the field.
 */
int udk_hid_field_value(const struct udk_hid_field *field, uint32_t index, const uint8_t *report, size_t len,
                        int32_t *ret);

/* --- the provider: what a HID driver is handed --- */

struct udk_driver;
struct udk_nub;
struct udk_hid_device;

/* One input report, whole, as the device sent it (with its id byte when it uses ids). */
typedef void (*udk_hid_report_fn)(void *data, const uint8_t *report, size_t len);

/*
 * Open the HID provider of @nub (a nub of family hid, its hidraw device
 * handed by udkd as the nub's first descriptor): reads its report
 * descriptor (HIDIOCGRDESC; else the nub's report_descriptor property)
 * and parses it.  @fn gets each input report on the driver's queue.
 * Logs what went wrong.
 */
int udk_hid_device_open(struct udk_driver *drv, const struct udk_nub *nub, udk_hid_report_fn fn, void *data,
                        struct udk_hid_device **ret);
void udk_hid_device_close(struct udk_hid_device *dev); /* accepts NULL */
const struct udk_hid_descriptor *udk_hid_device_descriptor(const struct udk_hid_device *dev);
/* The raw descriptor bytes. */
const uint8_t *udk_hid_device_descriptor_bytes(const struct udk_hid_device *dev, size_t *ret_len);
/* Send output report @report (id byte first, 0 for a device without ids): -EMSGSIZE when its length is
 * not what the descriptor says. */
int udk_hid_device_write_output(struct udk_hid_device *dev, const uint8_t *report, size_t len);
/* Feature reports: set (id byte first) and get (into @buf, @buf[0] the id; returns its length). */
int udk_hid_device_set_feature(struct udk_hid_device *dev, const uint8_t *report, size_t len);
int udk_hid_device_get_feature(struct udk_hid_device *dev, uint8_t id, uint8_t *buf, size_t size);

#endif
