// The container child: everything between clone3() and execve().
//
// Rules (see Docs/architecture.md, "The clone boundary"):
//  - async-signal-safe only: raw syscalls, no malloc, no stdio, no libseccomp/libcap;
//  - every decision was made in Swift; this file follows `struct nook_launch`;
//  - each step is reported to the parent as a fixed-size record, so a failure
//    reaches the user as "mount proc on /proc: permission denied", not "exit 1".
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/limits.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// ---- reporting ------------------------------------------------------------

static void report(const struct nook_launch *l, int type, int step, int index, int err, int value) {
    struct nook_msg m = {type, step, index, err, value};
    ssize_t r;
    do {
        r = send(l->sync_fd, &m, sizeof m, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
}

// Under --trace, wait until the parent printed what we reported, so trace
// lines never interleave with the command's own output.
static void wait_ack(const struct nook_launch *l) {
    if (!l->trace) return;
    char ack;
    ssize_t r;
    do {
        r = read(l->sync_fd, &ack, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) _exit(NOOK_EXIT_SETUP_FAILED);
}

static void step_done(const struct nook_launch *l, int step, int index) {
    if (l->trace) report(l, NOOK_MSG_STEP, step, index, 0, 0);
}

__attribute__((noreturn)) static void fail(const struct nook_launch *l, int step, int index, int err) {
    report(l, NOOK_MSG_FAIL, step, index, err, 0);
    _exit(NOOK_EXIT_SETUP_FAILED);
}

// ---- paths resolved inside the rootfs ------------------------------------

struct open_how_compat {
    uint64_t flags, mode, resolve;
};
#define NOOK_RESOLVE_NO_MAGICLINKS 0x02
#define NOOK_RESOLVE_IN_ROOT 0x10

static int open_in_root(int rootfd, const char *path, int flags) {
    struct open_how_compat how = {(uint64_t)(flags | O_CLOEXEC), 0,
                                  NOOK_RESOLVE_IN_ROOT | NOOK_RESOLVE_NO_MAGICLINKS};
    int fd;
    do {
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return fd;
}

// Open `path` (absolute, inside the rootfs) as O_PATH, creating missing
// components as directories (and the last one as a file when as_file).
// Symlinks are followed, but never out of the rootfs (RESOLVE_IN_ROOT), so a
// destination like `/data -> /` or `../..` lands inside the container (CVE-2021-30465).
static int open_or_create_in_root(int rootfd, const char *path, int as_file) {
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd >= 0 || errno != ENOENT) return fd;

    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
    if (parent < 0) return -1;
    size_t i = 0;
    while (i < len) {
        while (i < len && buf[i] == '/') i++;
        if (i >= len) break;
        size_t start = i;
        while (i < len && buf[i] != '/') i++;
        int last = (i >= len) || (buf[i] == '/' && i + 1 >= len);
        char saved = buf[i];
        buf[i] = '\0';
        int next = open_in_root(rootfd, buf, O_PATH);
        if (next < 0 && errno == ENOENT) {
            const char *name = buf + start;
            if (last && as_file) {
                int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST) goto fail;
                if (f >= 0) close(f);
            } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                goto fail;
            }
            next = open_in_root(rootfd, buf, O_PATH);
        }
        if (next < 0) goto fail;
        buf[i] = saved;
        close(parent);
        parent = next;
        continue;
    fail:
        {
            int e = errno;
            close(parent);
            errno = e;
            return -1;
        }
    }
    return parent;
}

static void fd_path(char *out, int fd) {
    // "/proc/self/fd/<fd>" without snprintf (not async-signal-safe)
    const char *prefix = "/proc/self/fd/";
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    char digits[16];
    int d = 0;
    unsigned v = (unsigned)fd;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (d) out[n++] = digits[--d];
    out[n] = '\0';
}

#define NOOK_MOUNT_ABSENT 1 // mount_one: the path to mask does not exist here

static int do_mount_attr(int fd, uint64_t attr_set, int recursive) {
    if (!attr_set) return 0;
    struct mount_attr attr = {0};
    attr.attr_set = attr_set;
    // The atime mode is one value, not a bit: changing it needs the whole field cleared.
    if (attr_set & MOUNT_ATTR__ATIME) attr.attr_clr = MOUNT_ATTR__ATIME;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                        sizeof attr);
}

// Attach a detached mount tree (from open_tree/fsmount) onto an O_PATH target fd.
static int attach(int tree, int target) {
    return (int)syscall(SYS_move_mount, tree, "", target, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int is_dev_null(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return 0;
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

static int mount_one(int rootfd, const struct nook_mount *m) {
    if (m->kind == NOOK_MOUNT_SYMLINK) {
        // Resolve the parent inside the root, then create the link there.
        char dir[PATH_MAX];
        size_t len = strlen(m->target);
        if (len >= sizeof dir) return -ENAMETOOLONG;
        memcpy(dir, m->target, len + 1);
        char *slash = strrchr(dir, '/');
        if (!slash) return -EINVAL;
        const char *base = m->target + (slash - dir) + 1;
        if (slash == dir) dir[1] = '\0'; else *slash = '\0';
        int parent = open_or_create_in_root(rootfd, dir, 0);
        if (parent < 0) return -errno;
        int r = symlinkat(m->source, parent, base);
        int e = errno;
        close(parent);
        return (r < 0 && e != EEXIST) ? -e : 0;
    }

    if (m->kind == NOOK_MOUNT_SYSCTL) {
        int fd = open_in_root(rootfd, m->target, O_WRONLY);
        if (fd < 0) return -errno;
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
            close(fd);
            return -EXDEV;
        }
        ssize_t n = write(fd, m->data, strlen(m->data));
        int e = errno;
        close(fd);
        return n < 0 ? -e : 0;
    }

    int target;
    if (m->kind == NOOK_MOUNT_MASK || m->kind == NOOK_MOUNT_READONLY) {
        target = open_in_root(rootfd, m->target, O_PATH);
        if (target < 0) return errno == ENOENT ? NOOK_MOUNT_ABSENT : -errno; // nothing to hide
        // Masks under /proc must land on the procfs we mounted, not on
        // something the image put there (CVE-2019-16884).
        if (strncmp(m->target, "/proc/", 6) == 0) {
            struct statfs sfs;
            if (fstatfs(target, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
                close(target);
                return -EXDEV;
            }
        }
    } else {
        target = open_or_create_in_root(rootfd, m->target, m->target_kind == NOOK_TARGET_FILE);
        if (target < 0) return -errno;
    }

    int r = 0, e = 0;
    char where[32];
    fd_path(where, target);
    switch (m->kind) {
    case NOOK_MOUNT_FS:
        r = mount(m->source, where, m->fstype, m->flags, m->data);
        break;
    case NOOK_MOUNT_BIND: {
        int tree = m->source_fd >= 0 ? m->source_fd
                 : (int)syscall(SYS_open_tree, AT_FDCWD, m->source,
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
        if (tree < 0) { r = -1; break; }
        r = do_mount_attr(tree, m->attr_set, m->recursive);
        if (r == 0) r = attach(tree, target);
        e = errno;
        close(tree);
        errno = e;
        break;
    }
    case NOOK_MOUNT_READONLY: {
        int tree = (int)syscall(SYS_open_tree, target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0) { r = -1; break; }
        r = do_mount_attr(tree, MOUNT_ATTR_RDONLY | m->attr_set, 1);
        if (r == 0) r = attach(tree, target);
        e = errno;
        close(tree);
        errno = e;
        break;
    }
    case NOOK_MOUNT_MASK: {
        struct stat st;
        if (fstat(target, &st) < 0) { r = -1; break; }
        if (S_ISDIR(st.st_mode)) {
            r = mount("tmpfs", where, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555");
        } else {
            // Bind the real /dev/null, and check that it is one: a container
            // that swapped /dev/null for a symlink must not redirect the mask (CVE-2025-31133).
            int tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
            if (tree < 0) { r = -1; break; }
            if (!is_dev_null(tree)) { close(tree); errno = EPERM; r = -1; break; }
            r = do_mount_attr(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
            if (r == 0) r = attach(tree, target);
            e = errno;
            close(tree);
            errno = e;
        }
        break;
    }
    default:
        errno = EINVAL;
        r = -1;
    }
    e = errno;
    close(target);
    return r < 0 ? -e : 0;
}

// ---- the steps ------------------------------------------------------------

static void setup_rootfs(const struct nook_launch *l) {
    // Nothing we mount may propagate back to the host.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(l, NOOK_STEP_MOUNT_PRIVATE, 0, errno);
    step_done(l, NOOK_STEP_MOUNT_PRIVATE, 0);

    // pivot_root needs the new root to be a mount point.
    if (mount(l->rootfs, l->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) fail(l, NOOK_STEP_BIND_ROOTFS, 0, errno);
    step_done(l, NOOK_STEP_BIND_ROOTFS, 0);

    int rootfd = open(l->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) fail(l, NOOK_STEP_BIND_ROOTFS, 0, errno);

    for (size_t i = 0; i < l->n_mounts; i++) {
        int r = mount_one(rootfd, &l->mounts[i]);
        if (r == NOOK_MOUNT_ABSENT) {
            if (l->trace) report(l, NOOK_MSG_SKIP, NOOK_STEP_MOUNT, (int)i, ENOENT, 0);
        } else if (r < 0) {
            if (l->mounts[i].optional) report(l, NOOK_MSG_SKIP, NOOK_STEP_MOUNT, (int)i, -r, 0);
            else fail(l, NOOK_STEP_MOUNT, (int)i, -r);
        } else {
            step_done(l, NOOK_STEP_MOUNT, (int)i);
        }
    }

    // Like runc and podman, a missing working directory is created (inside the rootfs).
    int cwd = open_or_create_in_root(rootfd, l->cwd, 0);
    if (cwd < 0) fail(l, NOOK_STEP_CHDIR, 0, errno);
    close(cwd);

    if (l->readonly_rootfs) {
        // Only the root mount itself: the mounts on top keep their own flags.
        struct mount_attr attr = {0};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        int dir = open(l->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0 || syscall(SYS_mount_setattr, dir, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
            fail(l, NOOK_STEP_READONLY_ROOT, 0, errno);
        close(dir);
        step_done(l, NOOK_STEP_READONLY_ROOT, 0);
    }

    // pivot_root(".", ".") stacks the old root under the new one; detaching
    // it leaves no path back to the host's filesystem.
    if (fchdir(rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) fail(l, NOOK_STEP_PIVOT_ROOT, 0, errno);
    step_done(l, NOOK_STEP_PIVOT_ROOT, 0);
    if (umount2(".", MNT_DETACH) < 0) fail(l, NOOK_STEP_DETACH_OLDROOT, 0, errno);
    if (chdir("/") < 0) fail(l, NOOK_STEP_DETACH_OLDROOT, 0, errno);
    step_done(l, NOOK_STEP_DETACH_OLDROOT, 0);
    // Only now, as runc does: before pivot_root it would reach the host's mounts.
    if (l->root_propagation) {
        if (mount(NULL, "/", NULL, l->root_propagation, NULL) < 0) fail(l, NOOK_STEP_ROOT_PROPAGATION, 0, errno);
        step_done(l, NOOK_STEP_ROOT_PROPAGATION, 0);
    }
    close(rootfd);
}

static void loopback_up(const struct nook_launch *l) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    close(s);
    step_done(l, NOOK_STEP_LOOPBACK, 0);
}

static int load_seccomp(const struct nook_launch *l) {
    struct sock_fprog prog = {(unsigned short)l->seccomp_len, (struct sock_filter *)l->seccomp_filter};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void apply_seccomp(const struct nook_launch *l) {
    if (!l->seccomp_filter || !l->seccomp_len) return;
    if (load_seccomp(l) < 0) fail(l, NOOK_STEP_SECCOMP, 0, errno);
    step_done(l, NOOK_STEP_SECCOMP, 0);
}

static void apply_identity_and_caps(const struct nook_launch *l) {
    if (l->set_caps) {
        // Bounding set first: dropping from it needs CAP_SETPCAP, which we still have.
        for (int cap = 0; cap <= l->cap_last; cap++) {
            if (!(l->cap_bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                fail(l, NOOK_STEP_CAPS, cap, errno);
        }
        // Keep permitted caps across the uid change below.
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(l, NOOK_STEP_CAPS, -1, errno);
    }
    if (l->set_groups) {
        if (syscall(SYS_setgroups, l->n_groups, l->groups) < 0) fail(l, NOOK_STEP_SETGROUPS, 0, errno);
        step_done(l, NOOK_STEP_SETGROUPS, 0);
    }
    // Raw syscalls: glibc's wrappers would signal the parent's other threads,
    // which do not exist in this child.
    if (syscall(SYS_setresgid, l->gid, l->gid, l->gid) < 0) fail(l, NOOK_STEP_SETGID, 0, errno);
    step_done(l, NOOK_STEP_SETGID, 0);
    if (syscall(SYS_setresuid, l->uid, l->uid, l->uid) < 0) fail(l, NOOK_STEP_SETUID, 0, errno);
    step_done(l, NOOK_STEP_SETUID, 0);
    if (l->set_caps) {
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2];
        data[0].effective = (uint32_t)l->cap_effective;
        data[1].effective = (uint32_t)(l->cap_effective >> 32);
        data[0].permitted = (uint32_t)l->cap_permitted;
        data[1].permitted = (uint32_t)(l->cap_permitted >> 32);
        data[0].inheritable = (uint32_t)l->cap_inheritable;
        data[1].inheritable = (uint32_t)(l->cap_inheritable >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0) fail(l, NOOK_STEP_CAPS, -1, errno);
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (int cap = 0; cap <= l->cap_last; cap++) {
            if ((l->cap_ambient & (1ULL << cap)) &&
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                fail(l, NOOK_STEP_CAPS, cap, errno);
        }
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        step_done(l, NOOK_STEP_CAPS, -1);
    }
}

static int forward_signals_as_init(const struct nook_launch *l, pid_t child);

// The last step before execve under no_new_privs: after it, only execve may
// depend on what the profile allows. Reported before loading, since a report
// after it would need send().
static void announce_seccomp(const struct nook_launch *l) {
    if (l->no_new_privs && l->seccomp_filter && l->seccomp_len) step_done(l, NOOK_STEP_SECCOMP, 0);
}

static void load_seccomp_last(const struct nook_launch *l) {
    if (l->no_new_privs && l->seccomp_filter && l->seccomp_len && load_seccomp(l) < 0)
        fail(l, NOOK_STEP_SECCOMP, 0, errno);
}

// The first candidate that exists (execve would look the same way): -1 if
// none does. Looked up before the filter, which need not allow faccessat.
static int find_program(const struct nook_launch *l) {
    for (int i = 0; l->exec_candidates[i]; i++) {
        if (faccessat(AT_FDCWD, l->exec_candidates[i], F_OK, 0) == 0) return i;
        if (errno != ENOENT && errno != ENOTDIR) return i; // execve says what is wrong
    }
    return -1;
}

// `program`: find_program's answer, or 0 with exec_fd.
static void exec_command(const struct nook_launch *l, int program) {
    if (l->exec_fd >= 0) {
        // A file opened by the parent on the host: no lookup in this root.
        announce_seccomp(l);
        report(l, NOOK_MSG_EXEC, NOOK_STEP_EXEC, 0, 0, 0);
        wait_ack(l);
        load_seccomp_last(l);
        syscall(SYS_execveat, l->exec_fd, "", (char *const *)l->argv, (char *const *)l->envp, AT_EMPTY_PATH);
        int e = errno;
        report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, 0, e, 0); // best effort: the filter may refuse it
        _exit(e == ENOENT ? NOOK_EXIT_NOT_FOUND : NOOK_EXIT_CANNOT_EXEC);
    }
    // PATH entries without the file are skipped, so --trace shows only the exec that matters.
    int i = program;
    announce_seccomp(l);
    report(l, NOOK_MSG_EXEC, NOOK_STEP_EXEC, i, 0, 0);
    wait_ack(l);
    load_seccomp_last(l);
    int saw_eacces = 0;
    for (; l->exec_candidates[i]; i++) {
        execve(l->exec_candidates[i], (char *const *)l->argv, (char *const *)l->envp);
        int e = errno;
        if (e == EACCES) {
            saw_eacces = 1;
            continue;
        }
        if (e == ENOENT || e == ENOTDIR) continue;
        report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, i, e, 0);
        _exit(NOOK_EXIT_CANNOT_EXEC);
    }
    report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, -1, saw_eacces ? EACCES : ENOENT, 0);
    _exit(saw_eacces ? NOOK_EXIT_CANNOT_EXEC : NOOK_EXIT_NOT_FOUND);
}

// Close every fd from `first` up, except those in keep[] (unsorted, -1 ignored).
static void close_all_but(unsigned int first, const int *keep, int n) {
    unsigned int from = first;
    for (;;) {
        int next = -1; // the smallest kept fd >= from
        for (int i = 0; i < n; i++)
            if (keep[i] >= (int)from && (next < 0 || keep[i] < next)) next = keep[i];
        if (next < 0) { syscall(SYS_close_range, from, ~0U, 0); return; }
        if ((unsigned int)next > from) syscall(SYS_close_range, from, (unsigned int)next - 1, 0);
        from = (unsigned int)next + 1;
    }
}

// Wait for `start` as a program of its own (CShims/waiter/waiter.c), not as this
// clone of nook: a process exec'd into the container before `start` must find
// neither nook's memory (host paths, the spec, nook's environment) nor a PID 1
// it may write. The waiter makes itself non-dumpable, reports READY, waits,
// loads the filter and execs the command. Everything but the filter is done.
__attribute__((noreturn)) static void exec_waiter(const struct nook_launch *l) {
    // We may wait long after `nook create` is gone: hold nothing of its
    // (the state lock above all, or `nook start` would wait for us forever).
    int keep[8];
    int n = 0;
    for (size_t i = 0; i < l->n_waiter_fds && n < 8; i++) keep[n++] = l->waiter_fds[i];
    keep[n < 8 ? n++ : 7] = l->waiter_fd;
    close_all_but(3 + (unsigned int)(l->preserve_fds > 0 ? l->preserve_fds : 0), keep, n);
    for (size_t i = 0; i < l->n_waiter_fds; i++)
        if (fcntl(l->waiter_fds[i], F_SETFD, 0) < 0) fail(l, NOOK_STEP_WAIT_START, 0, errno);
    step_done(l, NOOK_STEP_WAIT_START, 0);
    syscall(SYS_execveat, l->waiter_fd, "", (char *const *)l->waiter_argv, (char *const *)l->envp, AT_EMPTY_PATH);
    fail(l, NOOK_STEP_WAIT_START, 0, errno);
}

// sendmsg(buf) with fd attached as SCM_RIGHTS (async-signal-safe: no allocation).
static int send_with_fd(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = {(void *)buf, len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return (int)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

// -t: the pty comes from the container's own devpts instance (so `tty` and
// ttyname() work inside); its master goes to the parent over the sync socket.
static int open_console(const struct nook_launch *l) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail(l, NOOK_STEP_CONSOLE, 0, errno);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(l, NOOK_STEP_CONSOLE, 0, errno);
    // The size goes on now, while nothing runs on the pty: the parent copies
    // the caller's size only once it relays, which can be after the command
    // asked (a 0x0 size: `stty size` fails, full-screen programs draw wrong).
    if (l->console_rows && l->console_cols) {
        struct winsize ws = {l->console_rows, l->console_cols, 0, 0};
        if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail(l, NOOK_STEP_CONSOLE, 0, errno);
    }
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) fail(l, NOOK_STEP_CONSOLE, 0, errno);

    struct nook_msg m = {NOOK_MSG_CONSOLE, NOOK_STEP_CONSOLE, 0, 0, 0};
    if (send_with_fd(l->sync_fd, &m, sizeof m, master) < 0) fail(l, NOOK_STEP_CONSOLE, 0, errno);
    close(master);
    step_done(l, NOOK_STEP_CONSOLE, 0);
    return slave;
}

// Become a session leader with the pty as controlling terminal and stdio.
static void take_console(const struct nook_launch *l, int slave) {
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) fail(l, NOOK_STEP_CONSOLE, 1, errno);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) fail(l, NOOK_STEP_CONSOLE, 1, errno);
    if (slave > 2) close(slave);
}

static int finish_and_exec(const struct nook_launch *l);
static pid_t spawn_with(const struct nook_launch *plan, int cgroup_fd, int *pidfd,
                        int (*body)(const struct nook_launch *));
static int joined_main(const struct nook_launch *l);

static void join_namespaces(const struct nook_launch *l) {
    for (size_t i = 0; i < l->n_join; i++) {
        if (setns(l->join_fds[i], l->join_types[i]) < 0) fail(l, NOOK_STEP_SETNS, (int)i, errno);
        close(l->join_fds[i]);
        step_done(l, NOOK_STEP_SETNS, (int)i);
    }
}

// Wait for the parent's go-ahead; EOF means the parent is gone: stop here.
static void wait_for_parent(const struct nook_launch *l) {
    char go = 0;
    ssize_t r;
    do {
        r = read(l->sync_fd, &go, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) _exit(NOOK_EXIT_SETUP_FAILED);
}

static int joins_pid_namespace(const struct nook_launch *l) {
    for (size_t i = 0; i < l->n_join; i++)
        if (l->join_types[i] == CLONE_NEWPID) return 1;
    return 0;
}

// setns(CLONE_NEWPID) moves only the children made after it (runc and crun
// fork for the same reason): the container's process is such a child, made a
// child of nook's (CLONE_PARENT) so that nook waits for it. We report its pid
// and leave; it waits until nook has recorded that pid.
static void fork_into_pid_namespace(const struct nook_launch *l) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PARENT;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) fail(l, NOOK_STEP_FORK, 0, errno);
    if (pid > 0) {
        report(l, NOOK_MSG_PID, NOOK_STEP_FORK, 0, 0, (int)pid);
        _exit(0);
    }
    if (l->pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); // not inherited
    wait_for_parent(l);
}

static int child_main(const struct nook_launch *l) {
    // clone3 copied the parent's end of the socket: without closing it, the
    // read below could never see EOF if the parent died.
    close(l->parent_sync_fd);
    // If the supervisor dies, so do we (and with PID 1 gone, the whole PID namespace).
    if (l->pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    // Wait until the parent has written our uid/gid maps (and placed us in a cgroup).
    wait_for_parent(l);
    step_done(l, NOOK_STEP_WAIT_MAPS, 0);

    // Real root's own ids are not in the map (root maps to a sub-range), so
    // files we create would be EOVERFLOW: become the namespace's root first.
    if (l->setup_gid >= 0 && syscall(SYS_setresgid, (gid_t)l->setup_gid, (gid_t)l->setup_gid, (gid_t)l->setup_gid) < 0)
        fail(l, NOOK_STEP_SETGID, 0, errno);
    if (l->setup_uid >= 0 && syscall(SYS_setresuid, (uid_t)l->setup_uid, (uid_t)l->setup_uid, (uid_t)l->setup_uid) < 0)
        fail(l, NOOK_STEP_SETUID, 0, errno);
    // A new euid made us non-dumpable, and then nook, whose ids are not ours,
    // could not open our /proc/PID/ns to `exec` into a created container. Back
    // to how a mapped caller's child is (its euid never changes): dumpable.
    if (l->setup_uid >= 0) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);

    join_namespaces(l);
    if (joins_pid_namespace(l)) fork_into_pid_namespace(l);

    if (l->unshare_cgroupns) {
        // Now that we are in our own cgroup, a new cgroup namespace is rooted there.
        if (unshare(CLONE_NEWCGROUP) < 0) fail(l, NOOK_STEP_CGROUPNS, 0, errno);
        step_done(l, NOOK_STEP_CGROUPNS, 0);
    }

    if (l->setup_rootfs) setup_rootfs(l);

    if (l->hostname) {
        if (sethostname(l->hostname, strlen(l->hostname)) < 0) fail(l, NOOK_STEP_HOSTNAME, 0, errno);
        step_done(l, NOOK_STEP_HOSTNAME, 0);
    }
    if (l->loopback_up) loopback_up(l);
    return finish_and_exec(l);
}

// No host fd may reach the container (CVE-2024-21626): everything above 0-2
// and the preserved fds closes on exec, the sync socket included, which is
// how the parent learns that execve worked. Always before the filter, which
// need not allow close_range.
static void mark_fds_cloexec(const struct nook_launch *l) {
    unsigned int first = 3 + (unsigned int)(l->preserve_fds > 0 ? l->preserve_fds : 0);
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail(l, NOOK_STEP_CLOSE_FDS, 0, errno);
    for (int fd = 3; fd < (int)first; fd++) fcntl(fd, F_SETFD, 0);
    if (l->exec_fd >= 0 && l->exec_fd_keep && fcntl(l->exec_fd, F_SETFD, 0) < 0) fail(l, NOOK_STEP_CLOSE_FDS, 0, errno);
    step_done(l, NOOK_STEP_CLOSE_FDS, 0);
}

// The common end of a container's process and of one started by `exec`:
// limits, stdio, working directory, privileges, then execve.
static int finish_and_exec(const struct nook_launch *l) {
    for (size_t i = 0; i < l->n_rlimits; i++) {
        struct rlimit rl = {l->rlimits[i].soft, l->rlimits[i].hard};
        if (setrlimit(l->rlimits[i].resource, &rl) < 0) fail(l, NOOK_STEP_RLIMIT, (int)i, errno);
        step_done(l, NOOK_STEP_RLIMIT, (int)i);
    }

    for (int fd = 0; fd < 3; fd++) {
        if (l->stdio_fds[fd] >= 0 && l->stdio_fds[fd] != fd && dup2(l->stdio_fds[fd], fd) < 0)
            fail(l, NOOK_STEP_CONSOLE, fd, errno);
    }
    int console = l->create_console ? open_console(l) : -1;
    // Without a pty of its own, the container still leaves the caller's
    // session: /dev/tty then opens nothing, and the kernel refuses TIOCSTI
    // on a terminal that is not our controlling one (CVE-2017-5226).
    if (console < 0 && l->new_session) setsid();

    // Resolved without magic links, so a cwd like /proc/self/fd/N cannot lead
    // through a leaked fd out of the container (CVE-2024-21626).
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) fail(l, NOOK_STEP_CHDIR, 0, errno);
    int cwd = open_in_root(root, l->cwd, O_PATH | O_DIRECTORY);
    if (cwd < 0 || fchdir(cwd) < 0) fail(l, NOOK_STEP_CHDIR, 0, errno);
    close(cwd);
    close(root);
    step_done(l, NOOK_STEP_CHDIR, 0);
    // Before any filter: its orphans stay its descendants (preserved across
    // execve), which is how Nook tells the container's processes from others.
    if (l->child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail(l, NOOK_STEP_SUBREAPER, 0, errno);

    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while
    // we have it (as runc does; the profile must then allow what follows).
    // With it, the filter is loaded just before execve (exec_command).
    if (!l->no_new_privs) {
        mark_fds_cloexec(l);
        apply_seccomp(l);
    }
    apply_identity_and_caps(l);
    if (l->no_new_privs) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(l, NOOK_STEP_NO_NEW_PRIVS, 0, errno);
        step_done(l, NOOK_STEP_NO_NEW_PRIVS, 0);
        mark_fds_cloexec(l);
    }
    // As in runc and crun, a program missing from the root fails here, as the
    // container's user and before `create` returns, not later at `start`.
    int program = 0;
    if (l->exec_fd < 0 && (program = find_program(l)) < 0) {
        report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, -1, ENOENT, 0);
        _exit(NOOK_EXIT_NOT_FOUND);
    }

    // With a terminal, the container's stdio is the pty from here on: let go
    // of the caller's before waiting for `start` (its pipes would never see EOF).
    if (console >= 0 && !l->init_mode) {
        take_console(l, console);
        console = -1;
    } else if (console >= 0) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); close(devnull); }
    }

    if (l->waiter_fd >= 0) exec_waiter(l);
    report(l, NOOK_MSG_READY, 0, 0, 0, 0);
    wait_ack(l);

    sigset_t none;
    sigemptyset(&none);
    if (l->init_mode) {
        // Non-dumpable before the command exists, not after: from its first
        // instruction it could open /proc/1/exe (CVE-2019-5736). The command
        // is dumpable again once it has exec'd.
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        pid_t child = fork();
        if (child < 0) fail(l, NOOK_STEP_INIT_FORK, 0, errno);
        if (child == 0) {
            if (console >= 0) take_console(l, console);
            sigprocmask(SIG_SETMASK, &none, NULL);
            exec_command(l, program);
        }
        if (console >= 0) close(console);
        // The init holds no stdio of the container's: its command does.
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
        report(l, NOOK_MSG_PID, NOOK_STEP_INIT_FORK, 0, 0, child);
        close(l->sync_fd);
        _exit(forward_signals_as_init(l, child));
    }
    if (console >= 0) take_console(l, console);
    sigprocmask(SIG_SETMASK, &none, NULL);
    exec_command(l, program);
    return NOOK_EXIT_SETUP_FAILED;
}

// PID 1 with --init: forward signals to the command, reap every zombie, and
// exit with the command's status. It never returns to Swift and never execs
// anything else; it is non-dumpable (since before the fork), so the container
// cannot open /proc/1/exe.
static int forward_signals_as_init(const struct nook_launch *l, pid_t child) {
    (void)l;
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t p = waitpid(-1, &status, WNOHANG);
            if (p <= 0) break;
            if (p == child) {
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            }
        }
    }
}

pid_t nook_spawn(const struct nook_launch *plan, int cgroup_fd, int *pidfd) {
    return spawn_with(plan, cgroup_fd, pidfd, child_main);
}

// The helper of `exec`: enter the container's namespaces (setns into a user
// namespace needs a single-threaded process: this fresh child is one), then
// create the real process as a sibling, so the caller can wait for it.
static int joined_main(const struct nook_launch *l) {
    close(l->parent_sync_fd);
    // While it is the nook binary inside the container's namespaces, nobody
    // there may open /proc/PID/exe of it (CVE-2019-5736).
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    wait_for_parent(l);
    join_namespaces(l);

    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PARENT;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) fail(l, NOOK_STEP_FORK, 0, errno);
    if (pid == 0) _exit(finish_and_exec(l));
    report(l, NOOK_MSG_PID, NOOK_STEP_FORK, 0, 0, (int)pid);
    return 0;
}

void nook_hide_args(const struct nook_mm_layout *mm, const char *title, int environment) {
    if (!mm->arg_start || mm->arg_end <= mm->arg_start || mm->env_end < mm->env_start) return;
    memset((void *)(uintptr_t)mm->arg_start, 0, mm->arg_end - mm->arg_start);
    if (environment) memset((void *)(uintptr_t)mm->env_start, 0, mm->env_end - mm->env_start);
    size_t n = title ? strlen(title) : 0;
    if (n > mm->arg_end - mm->arg_start - 1) n = mm->arg_end - mm->arg_start - 1;
    if (n) memcpy((void *)(uintptr_t)mm->arg_start, title, n);

    // Shrink the areas to what is left (PR_SET_MM_MAP needs no privilege;
    // where it fails, zeroes are all there is to read).
    struct prctl_mm_map map;
    memset(&map, 0, sizeof map);
    map.start_code = mm->start_code;
    map.end_code = mm->end_code;
    map.start_data = mm->start_data;
    map.end_data = mm->end_data;
    map.start_brk = mm->start_brk;
    map.brk = (uint64_t)syscall(SYS_brk, 0);
    map.start_stack = mm->start_stack;
    map.arg_start = mm->arg_start;
    map.arg_end = mm->arg_start + n + 1;
    map.env_start = mm->env_start;
    map.env_end = environment ? mm->env_start : mm->env_end;
    map.exe_fd = (uint32_t)-1;
    prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof map, 0);
}

static pid_t spawn_with(const struct nook_launch *plan, int cgroup_fd, int *pidfd, int (*body)(const struct nook_launch *)) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    int pfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = plan->clone_flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pfd;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        // Child. Reset every handler (Swift installs its own) before anything
        // can deliver a signal; the mask stays full until execve.
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < 65; sig++) sigaction(sig, &dfl, NULL);
        // We are a copy of nook, argv and environment included: the host
        // command line (paths, -e SECRET=...) and the caller's environment,
        // readable in the container through /proc/PID/cmdline and environ
        // for as long as we run there (until execve; for ever as --init's PID 1).
        nook_hide_args(&plan->mm, plan->title, 1);
        _exit(body(plan));
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) return -e;
    *pidfd = pfd;
    return (pid_t)pid;
}

pid_t nook_spawn_joined(const struct nook_launch *plan, int cgroup_fd, int *pidfd) {
    return spawn_with(plan, cgroup_fd, pidfd, joined_main);
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
