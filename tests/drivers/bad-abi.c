/* SPDX-License-Identifier: MIT */
/* A test-only driver of a future ABI: udk-driverhost must refuse it (exit 3). */
#include <udk/driver.h>

static int bad_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        return 0;
}

static const struct udk_driver_descriptor bad_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION + 1,
        .name = "bad-abi",
        .start = bad_start,
};

UDK_DRIVER_EXPORT(bad_descriptor);
