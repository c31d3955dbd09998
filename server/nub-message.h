/* SPDX-License-Identifier: MIT */
/*
 * The checks a driver's PUBLISH_NUB passes before udkd holds the nub,
 * apart from the server's state (handles, free slots) so that a fuzzer can
 * reach them.  Nothing here prints or allocates.
 */
#ifndef UDKD_NUB_MESSAGE_H
#define UDKD_NUB_MESSAGE_H

#include <stddef.h>

#include <udk/driver-protocol.h>

#include "personality.h"

#define UDKD_NUB_PROPS_MAX 16u /* a nub's properties; START adds the personality's 8 */

/*
 * Check @m, which udk_dmsg_check() accepted: a family other than root, a
 * valid object name, at most UDKD_NUB_PROPS_MAX properties.  Returns 0 with
 * the family in @ret_family, or -EINVAL (-E2BIG for the properties) with a
 * sentence naming the nub in @err; @ret_family is then untouched.
 */
int udkd_nub_message_check(const struct udk_dmsg_nub *m, enum udkd_family *ret_family, char *err,
                           size_t err_size);

#endif
