/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share: require(), which makes a broken
 * promise of the code under test a finding; a sink that keeps their reads
 * from being optimised away; the read of a fixed string as the receivers
 * read it; and what the protocol targets share: the framing of an input
 * and the promises of a protocol check's verdict.
 */
#ifndef UDK_FUZZ_COMMON_H
#define UDK_FUZZ_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: a finding, like a crash. */
#define require(cond)                        \
        do {                                 \
                if (!(cond))                 \
                        __builtin_trap();    \
        } while (0)

static volatile size_t sink; /* keeps the targets' reads from being optimised away */

/*
 * Read a fixed string as the receivers do (strlen, udk_strlcpy): its NUL
 * must lie within.  Counted by hand, not with strlen: the loop's hit counts
 * tell libFuzzer how long the string got, which leads it to fill arrays to
 * their last byte, where a missing NUL check shows.
 */
static inline void read_string(const char *s, size_t size)
{
        size_t n = 0;

        while (n < size && s[n] != '\0')
                n++;
        require(n < size);
        sink += n;
}

/* @len bytes of @data in a buffer of exactly that size, so that ASan catches any read past it; NULL: no memory. */
static inline void *fuzz_copy(const uint8_t *data, size_t len)
{
        void *buf = malloc(len ? len : 1); /* malloc's alignment, as the receivers' buffers have */

        if (buf && len)
                memcpy(buf, data, len);
        return buf;
}

/*
 * The protocol targets' input: one byte of framing, then the packet.
 *
 *   byte 0, bit 0    the receiving side (1: udkd)
 *   byte 0, bits 1-3 descriptors said to be attached, 0..7
 *
 * The packet goes to *@ret_buf, an exact-size copy the caller frees.
 * false: no input to run (empty, or no memory).
 */
static inline bool fuzz_frame(const uint8_t *data, size_t size, bool *ret_side, unsigned *ret_n_fds, void **ret_buf,
                              size_t *ret_len)
{
        if (size < 1)
                return false;
        *ret_buf = fuzz_copy(data + 1, size - 1);
        if (!*ret_buf)
                return false;
        *ret_side = data[0] & 1;
        *ret_n_fds = (data[0] >> 1) & 7;
        *ret_len = size - 1;
        return true;
}

/* A protocol's check: udk_msg_check() (@side: udkd receives it) or udk_dmsg_check() (@side: from a host). */
typedef int (*fuzz_check_fn)(const void *buf, size_t len, unsigned n_fds, bool side, char *err, size_t err_size);

/*
 * @check's verdict on @buf, 0 or -EBADMSG, and the promises every verdict
 * keeps: a refusal says why, in a terminated sentence; the verdict does not
 * depend on the sentence's buffer; a type accepted one way is refused the
 * other.
 */
static inline int fuzz_check(fuzz_check_fn check, const void *buf, size_t len, unsigned n_fds, bool side)
{
        char err[256];
        int r;

        err[0] = '\0';
        r = check(buf, len, n_fds, side, err, sizeof(err));
        require(r == 0 || r == -EBADMSG);
        require(memchr(err, '\0', sizeof(err)) != NULL);
        require(r == 0 || err[0] != '\0');
        require(check(buf, len, n_fds, side, NULL, 0) == r);
        require(r < 0 || check(buf, len, n_fds, !side, NULL, 0) == -EBADMSG);
        return r;
}

#endif
