/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <udk/util.h>

#include "test-device.h"

int test_device_create(struct udk_driver *drv, const struct udk_nub *provider, udk_object_id *ret_device)
{
        char text[512];
        int r;

        /* The body of a [device] section, exactly as in udkd's configuration (docs/configuration.md):
         * source, frequency and level are the virtual backend's controls, set like any control. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = test:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = 64\n"
                 "channels = 2\n"
                 "source = sine\n"
                 "frequency = 440\n"
                 "level = %g\n"
                 "handlers = gain\n",
                 udk_nub_name(provider), udk_nub_name(provider), TEST_DEVICE_LEVEL_DB);
        r = udk_driver_device_create(drv, text, ret_device);
        if (r < 0)
                udk_driver_log(drv, UDK_LOG_ERROR, "device test:%s not created: %s", udk_nub_name(provider),
                               udk_driver_error(drv)[0] ? udk_driver_error(drv) : strerror(-r));
        return r;
}

int test_device_parse_level(const char *value, int64_t *ret_mdb)
{
        char number[32];
        size_t len = strlen(value);
        double db;

        if (len >= 2 && strcmp(value + len - 2, "dB") == 0)
                len -= 2;
        while (len > 0 && value[len - 1] == ' ')
                len--;
        if (len == 0 || len >= sizeof(number))
                return -EINVAL;
        memcpy(number, value, len);
        number[len] = '\0';
        if (strcmp(number, "-inf") == 0) {
                *ret_mdb = INT64_MIN;
                return 0;
        }
        if (udk_parse_double(number, -1000.0, 1000.0, &db) < 0)
                return -EINVAL;
        *ret_mdb = (int64_t)llround(db * 1000.0);
        return 0;
}
