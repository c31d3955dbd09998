/* SPDX-License-Identifier: MIT */
/*
 * A shared host's channel to udkd.  Every driver the host may run was
 * loaded before the sandbox closed (dlopen needs open and mmap of a file,
 * which seccomp denies afterwards), so an instance that joins later needs
 * nothing the sandbox took away: only its socket, passed on the channel.
 * All instances run on the one dispatch queue, so one that blocks holds
 * them all: the cost of sharing, which the personality's `host` key asks
 * for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udk/driver-protocol.h>
#include <udk/log.h>
#include <udk/util.h>

#include "shared.h"

struct shared_instance {
        struct shared_host *host;
        struct shared_instance *next;
        struct udk_driver *drv; /* valid until its end */
        uint32_t tag;           /* its ATTACH's sequence */
        int sock;
};

struct shared_host {
        const struct udk_driver_descriptor *const *descs;
        size_t n_descs;
        struct udk_dispatch_queue *q;
        int ctl;
        struct udk_dispatch_source *ctl_source;
        struct shared_instance *instances;
        bool ctl_gone; /* closed by udkd, or dropped after a breach: the host ends with its last instance */
        int exit_code;
};

int host_check_socket(int fd)
{
        int type = 0, domain = 0;
        socklen_t len = sizeof(type);
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
                return -EPROTOTYPE;
        len = sizeof(domain);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
                return -EAFNOSUPPORT;
        return 0;
}

static void detached_send(struct shared_host *h, uint32_t tag, int code)
{
        struct udk_dmsg_host_detached m = { .code = code };
        int r;

        if (h->ctl_gone)
                return;
        udk_msg_init(&m.h, UDK_DMSG_HOST_DETACHED, sizeof(m), tag);
        r = udk_msg_send(h->ctl, &m, sizeof(m), NULL, 0);
        /* udkd gone: the channel's hang-up ends the host. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                udk_error("telling udkd that instance %u ended failed: %s", tag, strerror(-r));
}

static void instance_ended(void *data, int code)
{
        struct shared_instance *in = data, **it;
        struct shared_host *h = in->host;

        for (it = &h->instances; *it && *it != in; it = &(*it)->next)
                ;
        if (*it)
                *it = in->next;
        close(in->sock);
        udk_debug("instance %u ended (exit %d)", in->tag, code);
        detached_send(h, in->tag, code);
        free(in);
        if (h->ctl_gone && !h->instances)
                udk_dispatch_queue_quit(h->q, h->exit_code);
}

/* No more instances: end those there are as udkd's hang-up would; the host ends with the last. */
static void ctl_close(struct shared_host *h, int code)
{
        h->ctl_gone = true;
        h->exit_code = code;
        udk_dispatch_source_destroy(h->ctl_source);
        h->ctl_source = NULL;
        for (struct shared_instance *in = h->instances; in; in = in->next)
                udk_driver_host_hang_up(in->drv);
        if (!h->instances)
                udk_dispatch_queue_quit(h->q, code);
}

static void attach(struct shared_host *h, const struct udk_dmsg_host_attach *m, int fd)
{
        const struct udk_driver_descriptor *desc = m->driver < h->n_descs ? h->descs[m->driver] : NULL;
        struct shared_instance *in;
        int code, r;

        if (!desc) {
                udk_error("instance %u: driver %u %s", m->h.sequence, m->driver,
                          m->driver < h->n_descs ? "did not load" : "is not on this host's command line");
                close(fd);
                detached_send(h, m->h.sequence, UDK_DRIVERHOST_EXIT_LOAD);
                return;
        }
        r = host_check_socket(fd);
        if (r < 0) {
                udk_error("instance %u: its descriptor is not a SOCK_SEQPACKET unix socket (%s)",
                          m->h.sequence, strerror(-r));
                close(fd);
                detached_send(h, m->h.sequence, UDK_DRIVERHOST_EXIT_USAGE);
                return;
        }
        in = calloc(1, sizeof(*in));
        if (!in) {
                close(fd);
                detached_send(h, m->h.sequence, UDK_DRIVERHOST_EXIT_FAILURE);
                return;
        }
        *in = (struct shared_instance){ .host = h, .tag = m->h.sequence, .sock = fd, .next = h->instances };
        h->instances = in;
        r = udk_driver_host_attach(desc, h->q, fd, instance_ended, in, &in->drv, &code);
        if (r < 0) {
                h->instances = in->next;
                close(fd);
                free(in);
                detached_send(h, m->h.sequence, code);
                return;
        }
        udk_debug("instance %u of driver '%s' attached", m->h.sequence, desc->name);
}

static void on_ctl(void *data, struct udk_dispatch_source *source)
{
        union {
                struct udk_msg_header h;
                struct udk_dmsg_host_attach attach;
                uint8_t bytes[UDK_MSG_SIZE_MAX];
        } buf;
        struct shared_host *h = data;
        char err[UDK_MSG_TEXT_MAX + 64] = "";
        int fds[UDK_MSG_FDS_MAX];
        unsigned n_fds = 0;
        ssize_t n;

        n = udk_msg_recv(h->ctl, buf.bytes, fds, &n_fds, MSG_DONTWAIT);
        if (n == -EAGAIN || n == -EWOULDBLOCK)
                return;
        if (n == 0 || n == -ECONNRESET) {
                udk_debug("udkd closed the host's channel");
                ctl_close(h, UDK_DRIVERHOST_EXIT_OK);
                return;
        }
        if (n < 0) {
                udk_error("receiving from udkd failed: %s", strerror((int)-n));
                ctl_close(h, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return;
        }
        if (udk_dmsg_check(buf.bytes, (size_t)n, n_fds, false, err, sizeof(err)) == 0 &&
            (buf.h.type != UDK_DMSG_HOST_ATTACH || buf.attach.reserved != 0))
                snprintf(err, sizeof(err), "a %s message on the host's channel%s",
                         udk_dmsg_type_name(buf.h.type),
                         buf.h.type == UDK_DMSG_HOST_ATTACH ? " with its reserved field not 0" : "");
        if (err[0]) {
                udk_error("udkd sent a bad message: %s", err);
                for (unsigned i = 0; i < n_fds; i++)
                        close(fds[i]);
                ctl_close(h, UDK_DRIVERHOST_EXIT_PROTOCOL);
                return;
        }
        for (struct shared_instance *in = h->instances; in; in = in->next)
                if (in->tag == buf.h.sequence) {
                        udk_error("udkd sent a bad message: instance %u is attached already", in->tag);
                        close(fds[0]);
                        ctl_close(h, UDK_DRIVERHOST_EXIT_PROTOCOL);
                        return;
                }
        attach(h, &buf.attach, fds[0]);
}

int shared_host_run(const struct udk_driver_descriptor *const *descs, size_t n_descs,
                    struct udk_dispatch_queue *q, int ctl)
{
        struct shared_host h = { .descs = descs, .n_descs = n_descs, .q = q, .ctl = ctl };
        int r;

        r = udk_dispatch_fd_create(q, ctl, UDK_DISPATCH_READABLE, on_ctl, &h, &h.ctl_source);
        if (r < 0) {
                udk_error("setting up the host's queue failed: %s", strerror(-r));
                return UDK_DRIVERHOST_EXIT_FAILURE;
        }
        r = udk_dispatch_queue_run(q);
        if (r < 0) {
                udk_error("the dispatch queue failed: %s", strerror(-r));
                return UDK_DRIVERHOST_EXIT_FAILURE;
        }
        return r;
}
