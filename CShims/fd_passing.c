// Passing a file descriptor over a unix socket (SCM_RIGHTS): the child sends
// a pty master to nook, nook receives it and sends it on to a --console-socket.
// sendmsg/recvmsg need macros Swift cannot import. No allocation: the child uses send_with_fd.
#include "child_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

// One message of len bytes at buf, with room for one fd beside it.
struct fd_message {
    struct msghdr msg;
    struct iovec iov;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
};

static void fd_message_init(struct fd_message *m, void *buf, size_t len) {
    memset(m, 0, sizeof *m);
    m->iov.iov_base = buf;
    m->iov.iov_len = len;
    m->msg.msg_iov = &m->iov;
    m->msg.msg_iovlen = 1;
    m->msg.msg_control = m->control.buf;
    m->msg.msg_controllen = sizeof m->control.buf;
}

int send_with_fd(int sock, const void *buf, size_t len, int fd) {
    struct fd_message m;
    fd_message_init(&m, (void *)buf, len);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return (int)sendmsg(sock, &m.msg, MSG_NOSIGNAL);
}

long nook_recv_msg(int sock, struct nook_msg *msg, int *fd) {
    *fd = -1;
    struct fd_message m;
    fd_message_init(&m, msg, sizeof *msg);
    ssize_t n;
    do {
        n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg); c; c = CMSG_NXTHDR(&m.msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
    return n;
}

int nook_send_fd_to_socket(const char *path, int fd) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) { close(s); return -ENAMETOOLONG; }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) { int e = errno; close(s); return -e; }
    char byte = 0;
    int r = send_with_fd(s, &byte, 1, fd) < 0 ? -errno : 0;
    close(s);
    return r;
}
