// The container child's root filesystem: make every mount private, bind the
// rootfs (or mount an image's overlay there), perform the mount list Swift planned (Mounts/MountPlan.swift), then
// pivot_root into it. Every target is resolved inside the rootfs with
// RESOLVE_IN_ROOT, so a symlink in the image cannot send a mount to the host.
#include "child_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NOOK_MOUNT_ABSENT 1 // open_target: the path to mask does not exist here

// Creates `name` in dir: a directory, or an empty file. An existing entry is fine.
// A name made relative to its parent fd must be one component: with a '/' in
// it, mkdirat/openat/symlinkat would follow a symlink of the image outside
// RESOLVE_IN_ROOT's protection. Swift splits on '/' (RootPath); this holds
// it to that.
static int single_name(const char *name) {
    if (strchr(name, '/') == NULL && name[0] != '\0') return 1;
    errno = EINVAL;
    return 0;
}

static int create_entry(int dir, const char *name, int as_file) {
    if (!single_name(name)) return -1;
    if (!as_file) return mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
    int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0) close(f);
    return f < 0 && errno != EEXIST ? -1 : 0;
}

// Opens the first n components of p (O_PATH), creating the missing ones as
// directories (the last one as a file when as_file). Each prefix is resolved
// from the root again, so a symlink like `/data -> /` or `../..` in the image
// lands inside the container (CVE-2021-30465).
static int open_or_create_in_root(int rootfd, const struct nook_root_path *p, size_t n, int as_file) {
    int fd = nook_openat2_in_root(rootfd, n ? p->prefixes[n - 1] : "/", O_PATH, 0);
    if (fd >= 0 || errno != ENOENT) return fd;
    int parent = nook_openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
    for (size_t i = 0; parent >= 0 && i < n; i++) {
        int next = nook_openat2_in_root(rootfd, p->prefixes[i], O_PATH, 0);
        if (next < 0 && errno == ENOENT && create_entry(parent, p->names[i], as_file && i + 1 == n) == 0)
            next = nook_openat2_in_root(rootfd, p->prefixes[i], O_PATH, 0);
        int e = errno;
        close(parent);
        errno = e;
        parent = next;
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

static int set_mount_attrs(int fd, uint64_t attr_set, int recursive) {
    if (!attr_set) return 0;
    struct mount_attr attr = {0};
    attr.attr_set = attr_set;
    // The atime mode is one value, not a bit: changing it needs the whole field cleared.
    if (attr_set & MOUNT_ATTR__ATIME) attr.attr_clr = MOUNT_ATTR__ATIME;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                        sizeof attr);
}

// Sets attrs on a detached mount tree (open_tree), attaches it onto the
// O_PATH target and closes it: 0, or -1 with errno.
static int attach_tree(int tree, uint64_t attr_set, int recursive, int target) {
    if (tree < 0) return -1;
    int r = set_mount_attrs(tree, attr_set, recursive);
    if (r == 0)
        r = (int)syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int e = errno;
    close(tree);
    errno = e;
    return r;
}

static int is_procfs(int fd) {
    struct statfs sfs;
    return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

static int is_dev_null(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return 0;
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

static int open_tree_clone(int dirfd, const char *path, unsigned int flags) {
    return (int)syscall(SYS_open_tree, dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
}

// A link at the target; an existing entry is left alone.
static int make_symlink(int rootfd, const struct nook_mount *m) {
    if (m->target.n == 0) return -EINVAL;
    int parent = open_or_create_in_root(rootfd, &m->target, m->target.n - 1, 0);
    if (parent < 0) return -errno;
    int r = single_name(m->target.names[m->target.n - 1]) ? symlinkat(m->source, parent, m->target.names[m->target.n - 1]) : -1;
    int e = errno;
    close(parent);
    return (r < 0 && e != EEXIST) ? -e : 0;
}

// A namespaced sysctl: its /proc/sys file, which must be on our procfs.
static int write_sysctl(int rootfd, const struct nook_mount *m) {
    int fd = nook_openat2_in_root(rootfd, m->target.path, O_WRONLY, 0);
    if (fd < 0) return -errno;
    if (m->on_procfs && !is_procfs(fd)) {
        close(fd);
        return -EXDEV;
    }
    ssize_t n = write(fd, m->data, strlen(m->data));
    int e = errno;
    close(fd);
    return n < 0 ? -e : 0;
}

// The target as an O_PATH fd in *fd: 0, NOOK_MOUNT_ABSENT, or -errno.
static int open_target(int rootfd, const struct nook_mount *m, int *fd) {
    *fd = m->if_missing == NOOK_MISSING_SKIP
        ? nook_openat2_in_root(rootfd, m->target.path, O_PATH, 0)
        : open_or_create_in_root(rootfd, &m->target, m->target.n, m->if_missing == NOOK_MISSING_CREATE_FILE);
    if (*fd < 0) return m->if_missing == NOOK_MISSING_SKIP && errno == ENOENT ? NOOK_MOUNT_ABSENT : -errno;
    // Masks under /proc must land on the procfs we mounted, not on
    // something the image put there (CVE-2019-16884).
    if (m->on_procfs && !is_procfs(*fd)) {
        close(*fd);
        return -EXDEV;
    }
    return 0;
}

// Hide the target: an empty read-only filesystem over a directory, the
// source (/dev/null) over anything else, as Swift planned them; *with_tmpfs
// says which, for --trace.
static int mask(const struct nook_mount *m, int target, const char *where, int *with_tmpfs) {
    struct stat st;
    if (fstat(target, &st) < 0) return -1;
    *with_tmpfs = S_ISDIR(st.st_mode);
    if (*with_tmpfs) return mount(m->fstype, where, m->fstype, m->flags, m->data);
    // Bind the real /dev/null, and check that it is one: a container that
    // swapped /dev/null for a symlink must not redirect the mask (CVE-2025-31133).
    int tree = open_tree_clone(AT_FDCWD, m->source, 0);
    if (tree >= 0 && !is_dev_null(tree)) {
        close(tree);
        errno = EPERM;
        return -1;
    }
    return attach_tree(tree, m->attr_set, 0, target);
}

// One entry of the mount list: 0, NOOK_MOUNT_ABSENT, or -errno. *value is
// what --trace says the kernel got (NOOK_MOUNT_VALUE_FD).
static int mount_one(int rootfd, const struct nook_mount *m, int *value) {
    *value = 0;
    if (m->kind == NOOK_MOUNT_SYMLINK) return make_symlink(rootfd, m);
    if (m->kind == NOOK_MOUNT_SYSCTL) return write_sysctl(rootfd, m);
    int target;
    int opened = open_target(rootfd, m, &target);
    if (opened != 0) return opened;

    int r, with_tmpfs = 0;
    char where[32];
    fd_path(where, target);
    switch (m->kind) {
    case NOOK_MOUNT_FS:
        r = mount(m->source, where, m->fstype, m->flags, m->data);
        break;
    case NOOK_MOUNT_BIND: {
        int tree = m->source_fd >= 0 ? m->source_fd
                 : open_tree_clone(AT_FDCWD, m->source, m->recursive ? AT_RECURSIVE : 0);
        r = attach_tree(tree, m->attr_set, m->recursive, target);
        break;
    }
    case NOOK_MOUNT_READONLY:
        r = attach_tree(open_tree_clone(target, "", AT_RECURSIVE | AT_EMPTY_PATH), MOUNT_ATTR_RDONLY | m->attr_set, 1,
                        target);
        break;
    case NOOK_MOUNT_MASK:
        r = mask(m, target, where, &with_tmpfs);
        break;
    default:
        errno = EINVAL;
        r = -1;
    }
    int e = errno;
    close(target);
    *value = (target & NOOK_MOUNT_VALUE_FD) | (with_tmpfs ? NOOK_MASKED_WITH_TMPFS : 0);
    return r < 0 ? -e : 0;
}

static void mount_all(const struct nook_launch *l, int rootfd) {
    for (size_t i = 0; i < l->n_mounts; i++) {
        int value;
        int r = mount_one(rootfd, &l->mounts[i], &value);
        if (r == NOOK_MOUNT_ABSENT) {
            if (l->trace) step_report(l, NOOK_MSG_SKIP, NOOK_STEP_MOUNT, (int)i, ENOENT, 0);
        } else if (r < 0) {
            if (l->mounts[i].optional) step_report(l, NOOK_MSG_SKIP, NOOK_STEP_MOUNT, (int)i, -r, value);
            else step_fail(l, NOOK_STEP_MOUNT, (int)i, -r);
        } else if (l->trace) {
            step_report(l, NOOK_MSG_STEP, NOOK_STEP_MOUNT, (int)i, 0, value);
        }
    }
}

void setup_rootfs(const struct nook_launch *l) {
    if (!l->setup_rootfs) return;
    // Nothing we mount may propagate back to the host.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) step_fail(l, NOOK_STEP_MOUNT_PRIVATE, 0, errno);
    step_done(l, NOOK_STEP_MOUNT_PRIVATE, 0);

    if (l->overlay_options) {
        // An image's layers under the container's own writable one. The layer
        // paths are relative to overlay_dir (short: the options fit a page).
        if (chdir(l->overlay_dir) < 0) step_fail(l, NOOK_STEP_OVERLAY_ROOTFS, 0, errno);
        if (mount("overlay", l->rootfs, "overlay", l->overlay_readonly ? MS_RDONLY : 0, l->overlay_options) < 0)
            step_fail(l, NOOK_STEP_OVERLAY_ROOTFS, 0, errno);
        step_done(l, NOOK_STEP_OVERLAY_ROOTFS, 0);
    } else {
        // pivot_root needs the new root to be a mount point.
        if (mount(l->rootfs, l->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) step_fail(l, NOOK_STEP_BIND_ROOTFS, 0, errno);
        step_done(l, NOOK_STEP_BIND_ROOTFS, 0);
    }

    int rootfd = open(l->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) step_fail(l, NOOK_STEP_BIND_ROOTFS, 0, errno);

    mount_all(l, rootfd);

    // Like runc and podman, a missing working directory is created (inside the rootfs).
    int cwd = open_or_create_in_root(rootfd, &l->cwd, l->cwd.n, 0);
    if (cwd < 0) step_fail(l, NOOK_STEP_CHDIR, 0, errno);
    close(cwd);

    // Only the root mount itself: the mounts on top keep their own flags.
    if (l->readonly_rootfs) {
        if (set_mount_attrs(rootfd, MOUNT_ATTR_RDONLY, 0) < 0) step_fail(l, NOOK_STEP_READONLY_ROOT, 0, errno);
        step_done(l, NOOK_STEP_READONLY_ROOT, 0);
    }

    // pivot_root(".", ".") stacks the old root under the new one; detaching
    // it leaves no path back to the host's filesystem.
    if (fchdir(rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) step_fail(l, NOOK_STEP_PIVOT_ROOT, 0, errno);
    step_done(l, NOOK_STEP_PIVOT_ROOT, 0);
    if (umount2(".", MNT_DETACH) < 0) step_fail(l, NOOK_STEP_DETACH_OLDROOT, 0, errno);
    if (chdir("/") < 0) step_fail(l, NOOK_STEP_DETACH_OLDROOT, 0, errno);
    step_done(l, NOOK_STEP_DETACH_OLDROOT, 0);
    // Only now, as runc does: before pivot_root it would reach the host's mounts.
    if (l->root_propagation) {
        if (mount(NULL, "/", NULL, l->root_propagation, NULL) < 0) step_fail(l, NOOK_STEP_ROOT_PROPAGATION, 0, errno);
        step_done(l, NOOK_STEP_ROOT_PROPAGATION, 0);
    }
    close(rootfd);
}
