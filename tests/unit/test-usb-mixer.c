/* SPDX-License-Identifier: MIT */
/*
 * The USB example mixer's vendor request (families/usb/mixer-protocol.c)
 * against a transfer double that checks the exact setup packets and plays
 * the device's replies: the level read at start, its writes, a short
 * reply, a stall.  Real usbfs transfers are not part of this test.
 */
#include <errno.h>

#include "udk-test.h"

#include "mixer-protocol.h"

struct fake {
        unsigned calls;
        uint8_t request_type, request;
        uint16_t value, index, len;
        uint8_t sent[2];  /* an OUT's payload */
        uint8_t reply[2]; /* an IN's */
        int result;       /* what the transfer returns */
};

static int fake_control(void *ctx, uint8_t request_type, uint8_t request, uint16_t value, uint16_t index,
                        void *data, uint16_t len)
{
        struct fake *f = ctx;

        f->calls++;
        f->request_type = request_type;
        f->request = request;
        f->value = value;
        f->index = index;
        f->len = len;
        if (len == 2 && (request_type & 0x80))
                memcpy(data, f->reply, 2);
        else if (len == 2)
                memcpy(f->sent, data, 2);
        return f->result;
}

static void assert_setup(const struct fake *f, uint8_t request_type, uint16_t channel)
{
        ASSERT_UINT_EQ(f->calls, 1);
        ASSERT_UINT_EQ(f->request_type, request_type);
        ASSERT_UINT_EQ(f->request, 0x5a);
        ASSERT_UINT_EQ(f->value, channel);
        ASSERT_UINT_EQ(f->index, 0);
        ASSERT_UINT_EQ(f->len, 2);
}

/* 0xf400 is -12 dB in 1/256 dB, little-endian: 00 f4. */
static void test_read(void)
{
        struct fake f = { .reply = { 0x00, 0xf4 }, .result = 2 };
        char err[160] = "";
        double db = 1;

        ASSERT_OK(udk_usb_mixer_level_read(fake_control, &f, 0, &db, err, sizeof(err)));
        assert_setup(&f, 0xc0, 0);
        ASSERT_FLOAT_EQ(db, -12.0);

        f = (struct fake){ .reply = { 0x80, 0xfd }, .result = 2 }; /* -640/256 = -2.5 dB */
        ASSERT_OK(udk_usb_mixer_level_read(fake_control, &f, 3, &db, err, sizeof(err)));
        assert_setup(&f, 0xc0, 3);
        ASSERT_FLOAT_EQ(db, -2.5);
}

/* A device beyond the control's range is clamped to it. */
static void test_read_clamped(void)
{
        struct fake f = { .reply = { 0x00, 0x06 }, .result = 2 }; /* +6 dB */
        char err[160];
        double db;

        ASSERT_OK(udk_usb_mixer_level_read(fake_control, &f, 0, &db, err, sizeof(err)));
        ASSERT_FLOAT_EQ(db, 0.0);
        f = (struct fake){ .reply = { 0x00, 0x80 }, .result = 2 }; /* -128 dB */
        ASSERT_OK(udk_usb_mixer_level_read(fake_control, &f, 0, &db, err, sizeof(err)));
        ASSERT_FLOAT_EQ(db, -60.0);
}

static void test_read_errors(void)
{
        struct fake f = { .reply = { 0x00, 0xf4 }, .result = 1 };
        char err[160];
        double db = 7;

        ASSERT_ERROR(udk_usb_mixer_level_read(fake_control, &f, 0, &db, err, sizeof(err)), EPROTO);
        ASSERT_STR_EQ(err, "reading the mixer level of channel 0: 1 bytes, not 2");
        ASSERT_FLOAT_EQ(db, 7.0);
        f = (struct fake){ .result = -EPIPE };
        ASSERT_ERROR(udk_usb_mixer_level_read(fake_control, &f, 1, &db, err, sizeof(err)), EPIPE);
        ASSERT_STR_EQ(err, "reading the mixer level of channel 1: Broken pipe");
        ASSERT_FLOAT_EQ(db, 7.0);
}

static void test_write(void)
{
        struct fake f = { .result = 2 };
        char err[160];

        ASSERT_OK(udk_usb_mixer_level_write(fake_control, &f, 0, -12.0, err, sizeof(err)));
        assert_setup(&f, 0x40, 0);
        ASSERT_UINT_EQ(f.sent[0], 0x00);
        ASSERT_UINT_EQ(f.sent[1], 0xf4);

        /* Rounded to 1/256 dB: -0.3 dB is -76.8 -> -77 = 0xffb3. */
        f = (struct fake){ .result = 2 };
        ASSERT_OK(udk_usb_mixer_level_write(fake_control, &f, 2, -0.3, err, sizeof(err)));
        assert_setup(&f, 0x40, 2);
        ASSERT_UINT_EQ(f.sent[0], 0xb3);
        ASSERT_UINT_EQ(f.sent[1], 0xff);

        /* Clamped: -90 dB is written as -60 (0xc400), +3 as 0. */
        f = (struct fake){ .result = 2 };
        ASSERT_OK(udk_usb_mixer_level_write(fake_control, &f, 0, -90.0, err, sizeof(err)));
        ASSERT_UINT_EQ(f.sent[0], 0x00);
        ASSERT_UINT_EQ(f.sent[1], 0xc4);
        f = (struct fake){ .result = 2 };
        ASSERT_OK(udk_usb_mixer_level_write(fake_control, &f, 0, 3.0, err, sizeof(err)));
        ASSERT_UINT_EQ(f.sent[0], 0x00);
        ASSERT_UINT_EQ(f.sent[1], 0x00);
}

static void test_write_errors(void)
{
        struct fake f = { .result = -ENODEV };
        char err[160];

        ASSERT_ERROR(udk_usb_mixer_level_write(fake_control, &f, 0, -6.0, err, sizeof(err)), ENODEV);
        ASSERT_STR_EQ(err, "writing the mixer level of channel 0: No such device");
        f = (struct fake){ .result = 0 };
        ASSERT_ERROR(udk_usb_mixer_level_write(fake_control, &f, 0, -6.0, err, sizeof(err)), EPROTO);
        ASSERT_STR_EQ(err, "writing the mixer level of channel 0: 0 bytes taken, not 2");
}

UDK_TEST_MAIN(test_read, test_read_clamped, test_read_errors, test_write, test_write_errors)
