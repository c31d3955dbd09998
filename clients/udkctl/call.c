/* SPDX-License-Identifier: MIT */
/*
 * udkctl call DRIVER SELECTOR [SCALAR...] [--struct HEX] [--struct-out N]:
 * one of a driver's methods, its scalars out one a line and its structure
 * out in hex (as --struct takes it):
 *
 *   scalar[0] = 12 (0xc)
 *   struct = 0a0b0c0d (4 bytes)
 *
 * A method that fails, and a driver that terminated before it answered,
 * make exit status 1: "udkctl: call: the driver terminated before it answered".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "json.h"
#include "udkctl.h"

static void hex(const uint8_t *data, size_t size, char *buf)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                buf[2 * i] = digits[data[i] >> 4];
                buf[2 * i + 1] = digits[data[i] & 0xf];
        }
        buf[2 * size] = '\0';
}

static void print_json(const struct udk_msg_object *driver, const struct udkctl_options *opts,
                       const uint64_t *scalars, uint32_t n_scalars, const char *struct_hex, size_t struct_size)
{
        struct udkctl_json j;

        udkctl_json_init(&j, stdout);
        udkctl_json_begin_object(&j, NULL);
        udkctl_json_string(&j, "driver", driver->name);
        udkctl_json_uint(&j, "id", driver->id);
        udkctl_json_uint(&j, "selector", opts->selector);
        udkctl_json_int(&j, "status", 0);
        udkctl_json_begin_array(&j, "scalars");
        for (uint32_t i = 0; i < n_scalars; i++)
                udkctl_json_uint(&j, NULL, scalars[i]);
        udkctl_json_end_array(&j);
        udkctl_json_string(&j, "struct", struct_hex);
        udkctl_json_uint(&j, "struct_size", struct_size);
        udkctl_json_end_object(&j);
        udkctl_json_finish(&j);
}

int udkctl_call(const struct udkctl_options *opts, int argc, char **argv)
{
        _udk_cleanup_free_ struct udk_msg_object *driver = malloc(UDK_MSG_SIZE_MAX);
        static uint8_t struct_out[UDK_CALL_STRUCT_MAX];
        static char struct_hex[2 * UDK_CALL_STRUCT_MAX + 1];
        uint64_t scalars[UDK_CALL_SCALARS_MAX];
        struct udk_client *client;
        uint32_t n_scalars;
        size_t struct_size;
        int r;

        if (!driver) {
                udkctl_error("out of memory");
                return UDKCTL_EXIT_FAILURE;
        }
        if (udkctl_connect(opts, &client) < 0)
                return UDKCTL_EXIT_FAILURE;
        if (udkctl_lookup_class(client, "driver", argv[0], driver) < 0) {
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        r = udk_client_call(client, driver->id, opts->selector, opts->scalars, opts->n_scalars, opts->struct_in,
                            opts->struct_in_size, scalars, &n_scalars, struct_out, opts->struct_out_max,
                            &struct_size);
        if (r < 0) {
                udkctl_error("call: %s", *udk_client_error(client) ? udk_client_error(client) : udk_strerror(r));
                udk_client_disconnect(client);
                return UDKCTL_EXIT_FAILURE;
        }
        udk_client_disconnect(client);

        hex(struct_out, struct_size, struct_hex);
        if (opts->json) {
                print_json(driver, opts, scalars, n_scalars, struct_hex, struct_size);
        } else {
                for (uint32_t i = 0; i < n_scalars; i++)
                        printf("scalar[%" PRIu32 "] = %" PRIu64 " (0x%" PRIx64 ")\n", i, scalars[i], scalars[i]);
                if (struct_size > 0)
                        printf("struct = %s (%zu byte%s)\n", struct_hex, struct_size, struct_size == 1 ? "" : "s");
        }
        if (fflush(stdout) != 0) {
                udkctl_error("cannot write: %s", strerror(errno));
                return UDKCTL_EXIT_FAILURE;
        }
        return UDKCTL_EXIT_OK;
}
