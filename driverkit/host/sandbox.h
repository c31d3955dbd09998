/* SPDX-License-Identifier: MIT */
/* udk-driverhost's sandbox: Landlock before the driver loads, seccomp after. */
#ifndef UDK_DRIVERHOST_SANDBOX_H
#define UDK_DRIVERHOST_SANDBOX_H

#include <stddef.h>

/*
 * Confine the file system to reading and executing where loading the
 * @n_drivers @drivers needs (their folders, the loaded libraries' folders, the system's library
 * folders, /etc/ld.so.cache), deny TCP bind and connect (ABI 4) and scope
 * abstract unix sockets and signals to the sandbox (ABI 6).  Sets
 * no_new_privs first.  A kernel without Landlock gets a warning and 0.
 * Returns 0 or a negative errno with a message logged.
 */
int sandbox_landlock(const char *const *drivers, size_t n_drivers);

/* The Landlock ABI the kernel offers, 0 without it. */
int sandbox_landlock_abi(void);

/*
 * Install the seccomp allow-list: everything else fails with EPERM
 * (clone3 with ENOSYS, so glibc falls back to clone, allowed with
 * CLONE_THREAD only).  Returns 0 or a negative errno with a message logged.
 */
int sandbox_seccomp(void);

#endif
