/* SPDX-License-Identifier: MIT */
/*
 * The test hang: a driver whose start() never returns, as one stuck on
 * hardware that does not answer.  Its queue is held, so it sends neither
 * STARTED nor a heartbeat: udkd kills the host at the personality's
 * start_timeout and counts a crash ("start time-out").
 */
#include <unistd.h>

#include <udk/driver.h>

static int hang_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        udk_driver_log(drv, UDK_LOG_INFO, "hanging in start(), as asked");
        for (;;)
                sleep(1);
        return 0;
}

static const struct udk_driver_descriptor hang_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "test-hang",
        .description = "the test family's hang: start() never returns",
        .start = hang_start,
};

UDK_DRIVER_EXPORT(hang_descriptor);
