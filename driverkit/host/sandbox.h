/* SPDX-License-Identifier: MIT */
/* udk-driverhost's sandbox: Landlock before the driver loads, seccomp after. */
#ifndef UDK_DRIVERHOST_SANDBOX_H
#define UDK_DRIVERHOST_SANDBOX_H

#include <stddef.h>

/* Leave udkd's session, and with it its controlling terminal (a warning if it cannot). */
void sandbox_session(void);

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

/*
 * Before sandbox_landlock(): a bus driver that enumerates with libudev
 * (udkd passes --udev for a personality's `sandbox = udev`).  Landlock
 * then also lets it read /sys, /run/udev and /etc/udev; seccomp lets it
 * open files read-only (Landlock still says where), read folders and
 * links, and make a NETLINK_KOBJECT_UEVENT socket for the udev monitor.
 */
void sandbox_allow_udev(void);

#endif
