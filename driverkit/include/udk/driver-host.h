/* SPDX-License-Identifier: MIT */
/*
 * The host's side of libudk-driver (not installed, not for drivers):
 * what udk-driverhost and the tests use to make a dispatch queue, run it
 * and run a driver on the socket to udkd.  A driver sees only
 * <udk/driver.h>.
 */
#ifndef UDK_DRIVER_HOST_H
#define UDK_DRIVER_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <udk/driver.h>

/* udk-driverhost's exit codes (its --help prints them). */
enum udk_driverhost_exit {
        UDK_DRIVERHOST_EXIT_OK = 0,       /* STOP handled, or udkd hung up and the driver was stopped */
        UDK_DRIVERHOST_EXIT_FAILURE = 1,  /* the host itself failed (memory, io_uring) */
        UDK_DRIVERHOST_EXIT_USAGE = 2,    /* bad command line, or fd 3 is not a SOCK_SEQPACKET unix socket */
        UDK_DRIVERHOST_EXIT_LOAD = 3,     /* the driver did not load: dlopen, descriptor, ABI, reserved */
        UDK_DRIVERHOST_EXIT_PROTOCOL = 4, /* udkd sent a malformed or unexpected message, or a send failed */
        UDK_DRIVERHOST_EXIT_SANDBOX = 5,  /* no_new_privs, Landlock or seccomp could not be set up */
        UDK_DRIVERHOST_EXIT_INIT = 6,     /* the driver's init() failed */
        UDK_DRIVERHOST_EXIT_START = 7,    /* the driver's start() failed (after STARTED with its status) */
};

/* How long a request to udkd waits for its REPLY. */
#define UDK_DRIVER_REQUEST_TIMEOUT_MS 5000

/*
 * A dispatch queue: an io_uring created disabled, restricted to the
 * opcodes the queue uses (POLL_ADD, POLL_REMOVE, READ, WRITE,
 * ASYNC_CANCEL, TIMEOUT, NOP; no register operation at all), then
 * enabled.  Create it before a seccomp filter that denies io_uring_setup
 * and io_uring_register.  One thread runs it.
 */
int udk_dispatch_queue_create(struct udk_dispatch_queue **ret);
/* Frees the queue with every source and action still on it.  Accepts NULL. */
void udk_dispatch_queue_destroy(struct udk_dispatch_queue *q);

/*
 * Submit what is pending, wait up to @timeout_ns (UINT64_MAX: without
 * limit) for a completion, and run the callbacks of every completion
 * there is.  Returns how many completions it handled (0: timed out), or a
 * negative errno.  Stops early once udk_dispatch_queue_quit() was called.
 */
int udk_dispatch_queue_run_once(struct udk_dispatch_queue *q, uint64_t timeout_ns);
/* Run until udk_dispatch_queue_quit(); returns its @code, or a negative errno when the ring fails. */
int udk_dispatch_queue_run(struct udk_dispatch_queue *q);
void udk_dispatch_queue_quit(struct udk_dispatch_queue *q, int code);

/*
 * Submit one raw SQE that @prep fills (the queue sets its user data
 * afterwards) and complete @action (idle, of @q) with its CQE's result.
 * For tests of the ring's restrictions: an opcode the queue does not
 * allow completes with -EACCES.
 */
struct io_uring_sqe;
int udk_dispatch_submit(struct udk_dispatch_queue *q, void (*prep)(struct io_uring_sqe *sqe, void *data),
                        void *data, struct udk_action *action);

/*
 * Check a driver's descriptor before anything of it runs: ABI version,
 * reserved 0, a name, start(), a sane method table.  Returns 0, or -EINVAL
 * (-EPROTO for a wrong ABI version) with a one-line sentence in @err.
 */
int udk_driver_descriptor_check(const struct udk_driver_descriptor *desc, char *err, size_t err_size);

/*
 * Run the driver of @desc (checked) on @q with the socket to udkd @sock:
 * init(), READY, then every message until STOP or udkd's hang-up.
 * Returns an enum udk_driverhost_exit.  @sock stays the caller's.
 */
int udk_driver_host_run(const struct udk_driver_descriptor *desc, struct udk_dispatch_queue *q, int sock);

/*
 * One driver instance among others on a shared host's @q: init() and
 * READY now, then its messages as @q runs.  Its end (STOP, udkd's hang-up,
 * a failure) calls @ended with its enum udk_driverhost_exit from @q, after
 * stop()/free() and after what the driver left on @q (timers, sources,
 * actions) was destroyed; the instance is freed by then.  @sock stays the
 * caller's: close it in @ended.  Returns 0 (*@ret the instance, may be
 * NULL), or a negative errno with *@ret_code the exit code (init() failed:
 * UDK_DRIVERHOST_EXIT_INIT) and no callback to come.
 */
int udk_driver_host_attach(const struct udk_driver_descriptor *desc, struct udk_dispatch_queue *q, int sock,
                           void (*ended)(void *data, int code), void *data, struct udk_driver **ret,
                           int *ret_code);
/* End @drv as if udkd had hung up on its socket (a running driver is stopped).  Accepts NULL. */
void udk_driver_host_hang_up(struct udk_driver *drv);

#endif
