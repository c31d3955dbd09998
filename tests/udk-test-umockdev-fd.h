/* SPDX-License-Identifier: MIT */
/*
 * What tests/udk-test-umockdev-fd.c asks a test's emulated node: a
 * testbed's node is a regular file, always ready, so poll() on the
 * emulated descriptor asks the emulation (this ioctl, through umockdev to
 * the test's handler) for the revents its kernel driver would give, as
 * the ioctl's result (usbfs: POLLOUT when a URB completed, POLLHUP once
 * the device is disconnected, POLLERR once it is removed).  An emulation
 * that does not know it (ENOTTY) leaves poll() as it was.
 */
#ifndef UDK_TEST_UMOCKDEV_FD_H
#define UDK_TEST_UMOCKDEV_FD_H

#include <sys/ioctl.h>

#define UDK_TEST_UMOCKDEV_POLL _IO('U', 0xf0)

#endif
