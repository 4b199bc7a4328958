#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

/* No _GNU_SOURCE here: it would change system types shared with Foundation's modules. What needs
 * it is declared or wrapped below. */
#include <signal.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

/* dladdr is _GNU_SOURCE-only: its Dl_info, same layout, and a wrapper. The file of the loaded object
 * that `address` is in (a runtime library: its version is read from it), or NULL. */
struct clinux_dl_info {
    const char *dli_fname;
    void *dli_fbase;
    const char *dli_sname;
    void *dli_saddr;
};
extern int dladdr(const void *address, struct clinux_dl_info *info);
static inline const char *clinux_object_path(const void *address) {
    struct clinux_dl_info info;
    return dladdr(address, &info) != 0 ? info.dli_fname : NULL;
}

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

extern int memfd_create(const char *name, unsigned int flags);
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/* accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. */
static inline int clinux_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* prctl is variadic, which Swift cannot call: the child gets SIGKILL when its parent dies. */
static inline int clinux_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Sets another process's descriptor limit (soft and hard), as prlimit(2) (_GNU_SOURCE-only). */
#include <sys/resource.h>
#include <sys/syscall.h>
static inline int clinux_set_file_limit(pid_t pid, unsigned long limit) {
    struct rlimit value = {limit, limit};
    return (int)syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, &value, NULL);
}

/* A memfd that allows sealing (MFD_ALLOW_SEALING), as the daemon wants memory the runtime maps. */
static inline int clinux_sealable_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 0x0002U /* MFD_ALLOW_SEALING */);
}

/* CMSG_* are macros Swift cannot import: file descriptors beside stream data (SCM_RIGHTS). */
#define CLINUX_MAX_FDS 16

/* recvmsg into buf; up to max_fds received descriptors (made close-on-exec) go to fds and their
 * number to *nfds. Returns what recvmsg returns. *truncated is set when descriptors were lost. */
static inline ssize_t clinux_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max_fds, int *nfds, int *truncated) {
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * CLINUX_MAX_FDS)];
    } control;
    struct iovec iov = { buf, len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    *nfds = 0;
    *truncated = 0;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    if (msg.msg_flags & MSG_CTRUNC) *truncated = 1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*nfds < max_fds) fds[(*nfds)++] = received[i];
            else { close(received[i]); *truncated = 1; }
        }
    }
    return n;
}

/* sendmsg of buf with up to CLINUX_MAX_FDS descriptors attached to its first byte. */
static inline ssize_t clinux_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    /* Nearly every write carries no descriptor: send(2) spares the kernel the message header. */
    if (nfds == 0) return send(sock, buf, len, MSG_NOSIGNAL);
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * CLINUX_MAX_FDS)];
    } control;
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        if (nfds > CLINUX_MAX_FDS) { errno = EINVAL; return -1; }
        memset(&control, 0, sizeof control);
        msg.msg_control = control.space;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

#include "uring.h"

#endif
