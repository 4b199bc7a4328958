#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

/* No _GNU_SOURCE here: it would change system types shared with Foundation's modules. What needs
 * it is declared or wrapped below. */
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

/* struct ucred is _GNU_SOURCE-only; same layout. */
struct clinux_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/* The peer's credentials of a connected Unix socket (SO_PEERCRED); 0 on success, -1 with errno. */
static inline int clinux_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct clinux_ucred cred;
    socklen_t length = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/* accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. */
static inline int clinux_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* prctl is variadic, which Swift cannot call: the child gets SIGKILL when its parent dies. */
static inline int clinux_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

#endif
