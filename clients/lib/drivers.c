/* SPDX-License-Identifier: MIT */
/*
 * Drivers as a client sees them: their methods, their control (restart,
 * stop, start), how udkd matched a nub, the personality files that did
 * not load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-private.h"

/* No family has this many personalities, nor a folder this many broken files. */
#define MATCH_CANDIDATES_MAX 65536u
#define TEXT_LINES_MAX       65536u

static void close_all(int *fds, unsigned n_fds)
{
        for (unsigned i = 0; i < n_fds; i++)
                close(fds[i]);
}

static int unexpected(struct udk_client_request *req, const struct udk_msg_header *msg)
{
        snprintf(req->failure_text, sizeof(req->failure_text), "udkd answered %s with a %s message",
                 udk_msg_type_name(req->type), udk_msg_type_name(msg->type));
        return -EBADMSG;
}

struct call_out {
        bool answered;
        void *struct_out;
        uint32_t struct_out_max;
        /* Without its structure; last, as a member that ends in a flexible array must be. */
        struct udk_msg_call_result result;
};

static int call_data(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                     size_t len, int *fds, unsigned n_fds)
{
        struct call_out *out = req->data;
        const struct udk_msg_call_result *m = (const void *)msg;

        close_all(fds, n_fds);
        if (msg->type != UDK_MSG_CALL_RESULT)
                return unexpected(req, msg);
        if (out->answered) {
                snprintf(req->failure_text, sizeof(req->failure_text), "udkd answered call with two results");
                return -EBADMSG;
        }
        /* udk_msg_check() held the counts to their arrays and the size to the structure's. */
        if (m->struct_size > out->struct_out_max) {
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd answered call with %u bytes of structure, %u were asked for", m->struct_size,
                         out->struct_out_max);
                return -EBADMSG;
        }
        memcpy(&out->result, m, sizeof(out->result));
        if (m->struct_size > 0)
                memcpy(out->struct_out, m->data, m->struct_size);
        out->answered = true;
        return 0;
}

int udk_client_call(struct udk_client *c, udk_object_id driver, uint64_t selector, const uint64_t *scalars_in,
                    uint32_t n_scalars_in, const void *struct_in, size_t struct_in_size, uint64_t *scalars_out,
                    uint32_t *ret_n_scalars_out, void *struct_out, size_t struct_out_max,
                    size_t *ret_struct_out_size)
{
        _udk_cleanup_free_ struct udk_msg_call *m = NULL;
        struct call_out out = { .struct_out = struct_out };
        struct udk_client_request req = { .data_fn = call_data, .data = &out, .timeout_ms = CLIENT_CALL_TIMEOUT_MS };
        size_t size;
        int r;

        if (ret_n_scalars_out)
                *ret_n_scalars_out = 0;
        if (ret_struct_out_size)
                *ret_struct_out_size = 0;
        if (!c)
                return -EINVAL;
        if (n_scalars_in > UDK_CALL_SCALARS_MAX)
                return client_set_error(c, -E2BIG, "call: %u scalars in, at most %u", n_scalars_in,
                                        UDK_CALL_SCALARS_MAX);
        if (n_scalars_in > 0 && !scalars_in)
                return client_set_error(c, -EINVAL, "call: %u scalars in and no array holding them",
                                        n_scalars_in);
        if (struct_in_size > UDK_CALL_STRUCT_MAX)
                return client_set_error(c, -E2BIG, "call: %zu bytes of structure in, at most %u",
                                        struct_in_size, UDK_CALL_STRUCT_MAX);
        if (struct_in_size > 0 && !struct_in)
                return client_set_error(c, -EINVAL, "call: %zu bytes of structure in and no buffer holding them",
                                        struct_in_size);
        if (struct_out_max > 0 && !struct_out)
                return client_set_error(c, -EINVAL, "call: %zu bytes of structure out and no buffer for them",
                                        struct_out_max);
        /* More room than the protocol carries is no error: the method never fills it. */
        out.struct_out_max = (uint32_t)UDK_MIN(struct_out_max, (size_t)UDK_CALL_STRUCT_MAX);

        size = udk_msg_call_size((uint32_t)struct_in_size);
        m = calloc(1, size);
        if (!m)
                return client_set_error(c, -ENOMEM, "out of memory");
        m->driver = driver;
        m->selector = selector;
        m->n_scalars = n_scalars_in;
        m->struct_size = (uint32_t)struct_in_size;
        m->struct_out_max = out.struct_out_max;
        if (n_scalars_in > 0)
                memcpy(m->scalars, scalars_in, n_scalars_in * sizeof(uint64_t));
        if (struct_in_size > 0)
                memcpy(m->data, struct_in, struct_in_size);
        udk_msg_init(&m->h, UDK_MSG_CALL, (uint32_t)size, 0);

        r = client_request(c, &m->h, size, &req);
        if (out.answered) {
                if (scalars_out)
                        memcpy(scalars_out, out.result.scalars, out.result.n_scalars * sizeof(uint64_t));
                if (ret_n_scalars_out)
                        *ret_n_scalars_out = scalars_out ? out.result.n_scalars : 0;
                if (ret_struct_out_size)
                        *ret_struct_out_size = out.result.struct_size;
        }
        if (r < 0)
                return r;
        if (!out.answered)
                return client_set_error(c, -EBADMSG, "udkd's reply to call carries no result");
        if (out.result.status > 0)
                return client_set_error(c, -EPROTO, "the driver answered with status %d, not 0 or an error",
                                        out.result.status);
        if (out.result.status < 0)
                return client_set_error(c, out.result.status, "%s", udk_strerror(out.result.status));
        return 0;
}

const char *udk_client_driver_action_name(enum udk_driver_action action)
{
        switch (action) {
        case UDK_DRIVER_RESTART: return "restart";
        case UDK_DRIVER_STOP: return "stop";
        case UDK_DRIVER_START: return "start";
        }
        return NULL;
}

int udk_client_driver_control(struct udk_client *c, udk_object_id driver, enum udk_driver_action action)
{
        struct udk_client_request req = {};
        struct udk_msg_driver_control m = { .driver = driver, .action = action };

        if (!c)
                return -EINVAL;
        if (!udk_client_driver_action_name(action))
                return client_set_error(c, -EINVAL, "unknown driver action %d (restart 1, stop 2, start 3)",
                                        (int)action);
        udk_msg_init(&m.h, UDK_MSG_DRIVER_CONTROL, sizeof(m), 0);
        return client_request(c, &m.h, sizeof(m), &req);
}

const char *udk_client_match_verdict_name(uint32_t verdict)
{
        switch (verdict) {
        case UDK_MATCH_VERDICT_WON: return "won";
        case UDK_MATCH_VERDICT_LOST: return "lost";
        case UDK_MATCH_VERDICT_FAILED: return "failed";
        default: return "unknown";
        }
}

struct match_out {
        struct udk_msg_match_candidate *items;
        size_t n, allocated;
};

static int match_data(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                      size_t len, int *fds, unsigned n_fds)
{
        struct match_out *out = req->data;
        const struct udk_msg_match_candidate *m = (const void *)msg;

        close_all(fds, n_fds);
        if (msg->type != UDK_MSG_MATCH_CANDIDATE)
                return unexpected(req, msg);
        if (m->verdict > UDK_MATCH_VERDICT_FAILED) {
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd sent a match candidate with verdict %u", m->verdict);
                return -EBADMSG;
        }
        if (m->verdict == UDK_MATCH_VERDICT_WON && (out->n > 0)) {
                snprintf(req->failure_text, sizeof(req->failure_text),
                         "udkd sent the winner '%s' after %zu other candidates", m->name, out->n);
                return -EBADMSG;
        }
        if (out->n == out->allocated) {
                size_t n = out->allocated ? out->allocated * 2 : 16;
                struct udk_msg_match_candidate *p;

                if (n > MATCH_CANDIDATES_MAX) {
                        snprintf(req->failure_text, sizeof(req->failure_text),
                                 "udkd sent more than %u match candidates", MATCH_CANDIDATES_MAX);
                        return -E2BIG;
                }
                p = realloc(out->items, n * sizeof(*p));
                if (!p) {
                        snprintf(req->failure_text, sizeof(req->failure_text), "out of memory");
                        return -ENOMEM;
                }
                out->items = p;
                out->allocated = n;
        }
        out->items[out->n++] = *m;
        return 0;
}

int udk_client_match(struct udk_client *c, udk_object_id nub, struct udk_msg_match_candidate **ret,
                     size_t *ret_n)
{
        struct match_out out = {};
        struct udk_client_request req = { .data_fn = match_data, .data = &out };
        struct udk_msg_object_ref m = { .id = nub };
        int r;

        if (!c)
                return -EINVAL;
        if (!ret || !ret_n)
                return client_set_error(c, -EINVAL, "match needs a place for the candidates and their number");
        udk_msg_init(&m.h, UDK_MSG_MATCH, sizeof(m), 0);
        r = client_request(c, &m.h, sizeof(m), &req);
        if (r < 0) {
                free(out.items);
                return r;
        }
        if (!out.items) {
                /* calloc(0) may return NULL: give the caller something to free. */
                out.items = calloc(1, sizeof(*out.items));
                if (!out.items)
                        return client_set_error(c, -ENOMEM, "out of memory");
        }
        *ret = out.items;
        *ret_n = out.n;
        return 0;
}

struct text_out {
        struct udk_msg_text *lines;
        size_t n, allocated;
};

static int text_data(struct udk_client *c, struct udk_client_request *req, const struct udk_msg_header *msg,
                     size_t len, int *fds, unsigned n_fds)
{
        struct text_out *out = req->data;

        close_all(fds, n_fds);
        if (msg->type != UDK_MSG_TEXT)
                return unexpected(req, msg);
        if (out->n == out->allocated) {
                size_t n = out->allocated ? out->allocated * 2 : 8;
                struct udk_msg_text *p;

                if (n > TEXT_LINES_MAX) {
                        snprintf(req->failure_text, sizeof(req->failure_text), "udkd sent more than %u lines",
                                 TEXT_LINES_MAX);
                        return -E2BIG;
                }
                p = realloc(out->lines, n * sizeof(*p));
                if (!p) {
                        snprintf(req->failure_text, sizeof(req->failure_text), "out of memory");
                        return -ENOMEM;
                }
                out->lines = p;
                out->allocated = n;
        }
        memcpy(&out->lines[out->n++], msg, sizeof(struct udk_msg_text));
        return 0;
}

int udk_client_personality_errors(struct udk_client *c, char ***ret, size_t *ret_n)
{
        _udk_cleanup_free_ struct udk_msg_text *lines = NULL;
        struct text_out out = {};
        struct udk_client_request req = { .data_fn = text_data, .data = &out };
        struct udk_msg_header m;
        size_t bytes;
        char **array, *text;
        int r;

        if (!c)
                return -EINVAL;
        if (!ret || !ret_n)
                return client_set_error(c, -EINVAL,
                                        "personality_errors needs a place for the lines and their number");
        udk_msg_init(&m, UDK_MSG_PERSONALITIES, sizeof(m), 0);
        r = client_request(c, &m, sizeof(m), &req);
        lines = out.lines;
        if (r < 0)
                return r;

        /* The pointers, then the strings, in one block. */
        bytes = (out.n + 1) * sizeof(char *);
        for (size_t i = 0; i < out.n; i++)
                bytes += strlen(lines[i].text) + 1;
        array = malloc(bytes);
        if (!array)
                return client_set_error(c, -ENOMEM, "out of memory");
        text = (char *)(array + out.n + 1);
        for (size_t i = 0; i < out.n; i++) {
                size_t l = strlen(lines[i].text) + 1;

                memcpy(text, lines[i].text, l);
                array[i] = text;
                text += l;
        }
        array[out.n] = NULL;
        *ret = array;
        *ret_n = out.n;
        return 0;
}
