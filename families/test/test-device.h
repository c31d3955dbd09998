/* SPDX-License-Identifier: MIT */
/* The audio device the test family's example drivers create in udkd. */
#ifndef TEST_DEVICE_H
#define TEST_DEVICE_H

#include <udk/driver.h>

/* "level = -6": the virtual backend's sine starts at this level, in dB. */
#define TEST_DEVICE_LEVEL_DB (-6.0)

/*
 * Create the device of @provider: named after the nub, uid "test:<nub
 * name>", on udkd's virtual backend with a 440 Hz sine at
 * TEST_DEVICE_LEVEL_DB on its input and a gain handler (controls
 * gain.level and gain.mute).  After a restart udkd hands back the device
 * of the same uid, as it was.  Logs udkd's refusal.
 */
int test_device_create(struct udk_driver *drv, const struct udk_nub *provider, udk_object_id *ret_device);

/* A level as udkd writes it ("-12.0 dB", "-inf dB") in milli-dB; INT64_MIN for -inf.  -EINVAL for
 * anything else. */
int test_device_parse_level(const char *value, int64_t *ret_mdb);

#endif
