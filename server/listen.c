/* SPDX-License-Identifier: MIT */
/*
 * udkd's listening socket: SOCK_SEQPACKET at $XDG_RUNTIME_DIR/udk/udkd.sock
 * (or where --socket says).  Access is the socket's mode (0660) and its
 * folder's: a system instance uses a folder owned by the audio group
 * (docs/protocol.md says how).  A socket file left by a udkd that died is
 * replaced; one that a live udkd answers on is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <udk/log.h>
#include <udk/util.h>

#include "server-private.h"

#define LISTEN_BACKLOG 64

static int make_folder(const char *socket_path)
{
        char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
        const char *dir;

        udk_strlcpy(copy, socket_path, sizeof(copy));
        dir = dirname(copy);
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* True when a udkd answers on @sa. */
static bool socket_is_live(const struct sockaddr_un *sa)
{
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        bool live;

        if (fd < 0)
                return false;
        live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
        close(fd);
        return live;
}

int udkd_server_listen(struct udkd_server *server, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old_mask;
        int fd, r;

        if (path)
                r = udk_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0 ? -ENAMETOOLONG : 0;
        else
                r = udk_socket_default_path(sa.sun_path, sizeof(sa.sun_path));
        if (r < 0 || !sa.sun_path[0]) {
                udk_error("socket path %s: too long for a Unix socket (%zu bytes at most)",
                          path ? path : "from $UDK_SOCKET or $XDG_RUNTIME_DIR", sizeof(sa.sun_path) - 1);
                return -ENAMETOOLONG;
        }
        r = make_folder(sa.sun_path);
        if (r < 0) {
                udk_error("socket %s: cannot create its folder: %s", sa.sun_path, strerror(-r));
                return r;
        }
        if (lstat(sa.sun_path, &st) == 0) {
                /* Replace a dead udkd's socket, never anything else. */
                if (!S_ISSOCK(st.st_mode)) {
                        udk_error("socket %s: the path exists and is not a socket", sa.sun_path);
                        return -EEXIST;
                }
                if (socket_is_live(&sa)) {
                        udk_error("socket %s: another udkd is listening there", sa.sun_path);
                        return -EADDRINUSE;
                }
                unlink(sa.sun_path);
        }

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = -errno;
                udk_error("socket: %s", strerror(-r));
                return r;
        }
        old_mask = umask(0117); /* the socket comes out 0660 */
        r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        umask(old_mask);
        if (r == 0 && listen(fd, LISTEN_BACKLOG) < 0)
                r = -errno;
        if (r < 0) {
                udk_error("socket %s: %s", sa.sun_path, strerror(-r));
                close(fd);
                return r;
        }
        server->listen_fd = fd;
        server->socket_created = true;
        udk_strlcpy(server->socket_path, sa.sun_path, sizeof(server->socket_path));
        udk_info("listening on %s", sa.sun_path);
        return 0;
}

void udkd_server_unlisten(struct udkd_server *server)
{
        if (server->listen_fd >= 0)
                close(server->listen_fd);
        server->listen_fd = -1;
        if (server->socket_created)
                unlink(server->socket_path);
        server->socket_created = false;
}
