// Thin wrappers for calls Swift cannot import: the variadic syscall(2),
// ioctl(2), prctl(2) and fcntl(2); and memfd_create(2), sendfile(2), setns(2)
// and accept4(2), behind _GNU_SOURCE.
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <termios.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <unistd.h>

int nook_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int nook_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int nook_ns_get_parent(int nsfd) { return ioctl(nsfd, NS_GET_PARENT); }

// The one openat2 call: HostPath reads through it, and the container's child
// resolves every path inside the rootfs with it.
int nook_openat2_in_root(int dirfd, const char *path, int flags, int mode) {
    struct open_how how = {(uint64_t)(flags | O_CLOEXEC), (uint64_t)mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int fd;
    do {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return fd;
}

int nook_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

int nook_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = {rows, cols, 0, 0};
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int nook_open_pty(int *master, char *name, size_t name_len) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, name_len) != 0) {
        int e = errno;
        close(m);
        errno = e;
        return -1;
    }
    *master = m;
    return 0;
}

int nook_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
int nook_fcntl_setfl(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }
int nook_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int nook_signalfd(const int *signals, size_t n) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++) sigaddset(&set, signals[i]);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int nook_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do {
        n = read(fd, &info, sizeof info);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

int nook_open_path(const char *path) { return open(path, O_PATH | O_CLOEXEC); }

long nook_fstatfs_type(int fd) {
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0) return -errno;
    return (long)fs.f_type;
}

int nook_rename_noreplace(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
}

long nook_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return (long)syscall(SYS_lgetxattr, path, name, value, size);
}

long nook_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return (long)syscall(SYS_fgetxattr, fd, name, value, size);
}

int nook_close_from(int fd) { return (int)syscall(SYS_close_range, (unsigned int)fd, ~0U, 0); }

int nook_open_tree_clone(const char *path, int recursive) {
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#define NOOK_CONTENT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int nook_memfd_sealable(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd;
}

long nook_sendfile(int out, int in, size_t count) { return (long)sendfile(out, in, NULL, count); }

int nook_seal_contents(int fd) { return fcntl(fd, F_ADD_SEALS, NOOK_CONTENT_SEALS); }

int nook_contents_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & NOOK_CONTENT_SEALS) == NOOK_CONTENT_SEALS;
}

int nook_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0); }

int nook_set_process_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

int nook_drop_all_capabilities(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    return (int)syscall(SYS_capset, &hdr, data);
}

int nook_setns_user(int fd) { return setns(fd, CLONE_NEWUSER); }
int nook_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
int nook_accept_nonblock(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int nook_socket_unsent(int fd) {
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

int nook_pending_bytes(int fd) {
    int n = 0;
    return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

int nook_o_path(void) { return O_PATH; }

int nook_fsetxattr(int fd, const char *name, const void *value, size_t size) { return fsetxattr(fd, name, value, size, 0); }

long nook_getrandom(void *buffer, size_t length) { return getrandom(buffer, length, 0); }
