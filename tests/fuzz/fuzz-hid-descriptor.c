/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the HID family's report descriptor parser
 * (families/hid/report-descriptor.c), the one parser of bytes a device
 * sends that the bus driver and every HID driver run.  The input is
 * LEN (2 bytes, little-endian), a descriptor of LEN bytes (at most what
 * is there), then a report: a descriptor that parses has every field
 * checked against the bounds its header promises, every element of every
 * field read from the report as a driver would, and the report checked
 * as one to send.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udk/hid.h>

#include "fuzz-common.h"

/* 50 KB: static, as drivers keep it off their stacks too. */
static struct udk_hid_descriptor desc;

static void read_field(const struct udk_hid_field *f, const uint8_t *report, size_t len)
{
        require(f->bit_size >= 1 && f->bit_size <= UDK_HID_REPORT_SIZE_MAX);
        require(f->count >= 1 && f->count <= UDK_HID_REPORT_COUNT_MAX);
        require(f->n_usages <= UDK_HID_FIELD_USAGES_MAX);
        require(f->type < UDK_HID_REPORT_TYPES);
        /* The field lies inside its report as the descriptor sized it. */
        require((uint64_t)f->bit_offset + (uint64_t)f->bit_size * f->count <= desc.report_bits[f->type][f->report_id]);
        for (uint32_t i = 0; i <= f->count; i++) {
                int32_t v;
                int r = udk_hid_field_value(f, i, report, len, &v);

                if (i == f->count)
                        require(r == -ERANGE);
                else
                        require(r == 0 || r == -ENOMSG || r == -EMSGSIZE);
                if (r == 0)
                        sink += v;
                sink += udk_hid_field_usage(f, i);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[256];
        const struct udk_hid_field *found;
        uint32_t index;
        size_t len, report_len;
        const uint8_t *report;
        uint8_t *copy;
        int r;

        if (size < 2)
                return 0;
        len = (size_t)data[0] | (size_t)data[1] << 8;
        if (len > size - 2)
                len = size - 2;
        /* An exact-size copy, so that a read past the descriptor is caught. */
        copy = fuzz_copy(data + 2, len);
        if (!copy)
                return 0;
        report = data + 2 + len;
        report_len = size - 2 - len;

        err[0] = '\0';
        r = udk_hid_descriptor_parse(copy, len, &desc, err, sizeof(err));
        if (r < 0) {
                require(r == -EBADMSG);
                require(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
                free(copy);
                return 0;
        }
        require(desc.n_fields <= UDK_HID_FIELDS_MAX);
        for (size_t i = 0; i < desc.n_fields; i++)
                read_field(&desc.fields[i], report, report_len);
        for (int t = 0; t < UDK_HID_REPORT_TYPES; t++) {
                if (report_len)
                        sink += udk_hid_report_size(&desc, t, report[0]);
                r = udk_hid_report_check(&desc, t, report, report_len);
                require(r == 0 || r == -EINVAL || r == -ENOENT || r == -EMSGSIZE);
                if (udk_hid_descriptor_find(&desc, t, 0x000c00e0, &found, &index) == 0)
                        require(index < found->count);
        }
        free(copy);
        return 0;
}
