// CShims: the only C in Nook (the start waiter, CShims/waiter/waiter.c, is built apart).
//
// Two kinds of code live here:
//  1. The container child: everything that runs between clone() and execve().
//     After clone() in a (possibly multi-threaded) Swift process, only
//     async-signal-safe work is allowed: no malloc, no stdio, no locks.
//     So Swift decides everything beforehand and hands down `struct nook_launch`,
//     plain data only; the child makes syscalls and reports each step over a socket.
//  2. Thin wrappers for calls Swift cannot import (variadic syscall(2), ioctl,
//     prctl, libseccomp's macros).
#ifndef NOOK_CSHIMS_H
#define NOOK_CSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- The launch plan, as plain data -------------------------------------

// Namespace flags for clone3 (sched.h hides them behind _GNU_SOURCE, which
// Swift's importer does not set).
enum {
    NOOK_CLONE_NEWNS = 0x00020000,
    NOOK_CLONE_NEWCGROUP = 0x02000000,
    NOOK_CLONE_NEWUTS = 0x04000000,
    NOOK_CLONE_NEWIPC = 0x08000000,
    NOOK_CLONE_NEWUSER = 0x10000000,
    NOOK_CLONE_NEWPID = 0x20000000,
    NOOK_CLONE_NEWNET = 0x40000000
};

enum nook_mount_kind {
    NOOK_MOUNT_FS = 1,      // a fresh filesystem: mount(source, target, fstype, flags, data)
    NOOK_MOUNT_BIND = 2,    // open_tree(source) + mount_setattr(attr_set) + move_mount(target)
    NOOK_MOUNT_SYMLINK = 3, // symlinkat(source, target); an existing entry is left alone
    NOOK_MOUNT_MASK = 4,    // hide target: /dev/null over a file, an empty read-only tmpfs over a directory
    NOOK_MOUNT_READONLY = 5, // bind target onto itself, read-only
    NOOK_MOUNT_SYSCTL = 6    // write data into the /proc/sys file at target (a namespaced sysctl)
};

// What the child does when a mount's target is not in the rootfs (decided in Swift: MountOp.ifMissing).
enum nook_if_missing {
    NOOK_MISSING_MKDIR = 0,       // create it, and its missing parents, as directories
    NOOK_MISSING_CREATE_FILE = 1, // the last component as an empty file
    NOOK_MISSING_SKIP = 2         // nothing to do there (a mask or read-only path the image lacks)
};

// An absolute path inside the rootfs, split in Swift (NookKernel/RootPath.swift) so the
// child never tokenises: "/a/b" is prefixes {"/a", "/a/b"}, names {"a", "b"}.
struct nook_root_path {
    const char *path;             // the whole path, resolved with RESOLVE_IN_ROOT
    const char *const *prefixes;  // n entries
    const char *const *names;     // n entries: the last component of each prefix
    size_t n;
};

struct nook_mount {
    int kind;            // enum nook_mount_kind
    int if_missing;      // enum nook_if_missing
    int on_procfs;       // the target must be on procfs (a mask under /proc, a sysctl: CVE-2019-16884)
    int optional;        // a failure is reported as skipped, not fatal
    int recursive;       // BIND: AT_RECURSIVE
    const char *source;  // FS: device name; BIND, MASK: absolute host path; SYMLINK: link text
    struct nook_root_path target; // inside the container, resolved under the rootfs
    const char *fstype;  // FS; MASK: the filesystem over a directory
    unsigned long flags; // FS, MASK over a directory: MS_* flags
    const char *data;    // FS, MASK over a directory: filesystem options
    uint64_t attr_set;   // BIND/READONLY, MASK of a file by source: MOUNT_ATTR_* flags
    int source_fd;       // BIND: >= 0, a detached copy of source that nook made before the clone
                         // (open_tree), for a source the container's root may not open itself
};

// Where the seccomp filter is loaded (decided in Swift: ChildPlan.seccompPosition).
// close_range(CLOSE_RANGE_CLOEXEC) goes right before it either way: the filter need not allow it.
enum nook_seccomp_position {
    NOOK_SECCOMP_BEFORE_IDENTITY = 1, // no no_new_privs: loading needs CAP_SYS_ADMIN, which we still have
    NOOK_SECCOMP_BEFORE_EXEC = 2      // no_new_privs: last, so the profile need only allow execve
};

// Where a -t pty goes once it is open (decided in Swift: ChildSteps.consoleMode).
enum nook_console_mode {
    NOOK_CONSOLE_NONE = 0,
    NOOK_CONSOLE_NOW = 1,        // it becomes this process's stdio and controlling terminal before READY
    NOOK_CONSOLE_IN_COMMAND = 2  // --init: the command forked by PID 1 takes it; PID 1's stdio is /dev/null
};

// fds first..last (inclusive) to close before exec'ing the start waiter.
struct nook_fd_range {
    unsigned int first, last;
};

// This process's memory layout as /proc/self/stat gives it: a clone of nook
// still holds nook's argv and environment strings, which the container can
// read in /proc/PID/cmdline and /proc/PID/environ (prctl PR_SET_MM_MAP wants
// the other fields back unchanged). All 0: unknown, nothing to hide.
struct nook_mm_layout {
    uint64_t start_code, end_code, start_data, end_data, start_brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
};

struct nook_rlimit {
    int resource;
    uint64_t soft, hard;
};

struct nook_launch {
    unsigned long clone_flags;  // CLONE_NEW* given to clone3
    int unshare_cgroupns;       // unshare(CLONE_NEWCGROUP) once the parent has placed us in our cgroup
    int sync_fd;                // child's end of the SOCK_SEQPACKET pair
    int parent_sync_fd;         // the parent's end: closed first thing in the child, so EOF means the parent died
    int pdeathsig;              // die with the parent (foreground run); not for OCI create, whose caller supervises
    int fork_after_join;        // a joined PID namespace takes only children made after setns: fork, the child goes on
    const int *join_fds;        // namespaces to enter with setns(), in order (user first)
    const int *join_types;      // their CLONE_NEW* types
    size_t n_join;
    int trace;                  // report every step, not only failures; wait for an ack after READY and EXEC
    int setup_rootfs;           // 0: stay in the caller's root (never with a mount namespace plan)
    const char *rootfs;         // absolute host path
    const char *overlay_dir;    // non-NULL: mount an overlay at rootfs instead of binding it; its layer
                                // paths in overlay_options are relative to this directory (a page at most)
    const char *overlay_options; // lowerdir=...[,upperdir=...,workdir=...],userxattr
    int overlay_readonly;       // MS_RDONLY (no upper layer)
    const struct nook_mount *mounts;
    size_t n_mounts;
    int readonly_rootfs;
    unsigned long root_propagation; // MS_REC|MS_SHARED etc. for "/" after pivot_root; 0: stays private
    int loopback_up;
    const char *hostname;       // NULL: keep
    struct nook_root_path cwd;
    const char *const *argv;    // NULL-terminated
    const char *const *envp;    // NULL-terminated
    const char *const *exec_candidates; // absolute paths to try for argv[0], NULL-terminated
    int exec_fd;                // >= 0: execveat(exec_fd, "", AT_EMPTY_PATH) instead of exec_candidates
                                // (a host file opened before setns: a createContainer hook)
    int exec_fd_keep;           // leave exec_fd open across the exec: a #! script's interpreter reopens it as /dev/fd/N
    int64_t setup_uid;          // >= 0: become this id right after the maps (our host id is unmapped)
    int64_t setup_gid;
    uid_t uid;
    gid_t gid;
    int set_groups;             // 0 when setgroups is denied in this user namespace
    const gid_t *groups;
    size_t n_groups;
    int set_caps;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int cap_last;               // highest capability number the kernel knows
    int no_new_privs;
    int seccomp_position;       // enum nook_seccomp_position (also where fds are marked close-on-exec)
    const void *seccomp_filter; // struct sock_filter[], built in the parent
    size_t seccomp_len;         // number of sock_filter instructions
    const struct nook_rlimit *rlimits;
    size_t n_rlimits;
    int preserve_fds;           // fds 3 .. 3+n-1 are passed to the container
    int waiter_fd;              // >= 0: once set up, wait for `start` by execveat(waiter_fd) (a sealed memfd
                                // holding CShims/waiter/waiter.c) with waiter_argv and envp, instead of exec'ing
                                // the command (which the waiter does); never with init_mode or exec_fd
    const char *const *waiter_argv; // NULL-terminated, built in Swift (StartWaiter.swift)
    const int *waiter_fds;      // the fds the waiter gets, open across its exec (sync socket, exec.fifo...)
    size_t n_waiter_fds;
    const struct nook_fd_range *waiter_close; // every other fd above the preserved ones, closed before that exec
    size_t n_waiter_close;
    int console_mode;           // -t: open a pty in the container's devpts, send its master to the parent (enum nook_console_mode)
    unsigned short console_rows, console_cols; // the pty's size, set before the command starts (0: leave 0x0)
    int new_session;            // setsid() without a pty: leave the caller's terminal session
    int stdio_fds[3];           // >= 0: dup2 onto 0, 1, 2 (captured stdio); -1: inherit
    int init_mode;              // run a minimal init as PID 1 that forks the command
    int child_subreaper;        // no PID namespace of its own: adopt what descendants orphan, as a PID 1 would
    struct nook_mm_layout mm;   // nook's argv and environment: wiped first thing in the child
    const char *title;          // what the child's /proc/PID/cmdline shows instead (truncated to fit)
};

#include "nook_protocol.h"

/// Clone a child into new namespaces and run the launch plan in it.
/// Returns the child's pid (in the caller's PID namespace) or -errno.
/// *pidfd receives a pidfd for the child (CLONE_PIDFD). cgroup_fd >= 0 places
/// the child in that cgroup atomically (CLONE_INTO_CGROUP).
/// Blocks all signals around the clone; the child resets every handler.
pid_t nook_spawn(const struct nook_launch *plan, int cgroup_fd, int *pidfd);

/// `exec` into a running container: a single-threaded helper child enters the
/// namespaces in plan->join_fds, then clone3(CLONE_PARENT)s the process that
/// runs plan's command there, so that process is the caller's child. The
/// helper reports its pid (NOOK_MSG_PID, in the caller's PID namespace) and exits.
/// Returns the helper's pid or -errno.
pid_t nook_spawn_joined(const struct nook_launch *plan, int cgroup_fd, int *pidfd);

/// Overwrites this process's argv strings with `title` (truncated to fit) and,
/// with `environment`, wipes its environment strings (environ then points to
/// zeroes: only for a process that no longer reads it), then shrinks both areas
/// with prctl(PR_SET_MM_MAP). Async-signal-safe: the container's child calls it.
void nook_hide_args(const struct nook_mm_layout *mm, const char *title, int environment);

/// The start waiter's executable for this architecture (CShims/waiter_image.c,
/// generated by Scripts/build-waiter.sh), or NULL where there is none.
const unsigned char *nook_waiter_image(size_t *len);

/// ioctl(fd, FIONREAD): bytes waiting in a pipe or FIFO (either end), or -1.
int nook_pending_bytes(int fd);

/// Sends fd over the unix socket at path (a --console-socket). Returns 0 or -errno.
int nook_send_fd_to_socket(const char *path, int fd);

// ---- Wrappers for calls Swift cannot import ------------------------------

int nook_pidfd_open(pid_t pid);
int nook_pidfd_send_signal(int pidfd, int sig);
/// ioctl(nsfd, NS_GET_PARENT): an fd of the namespace's parent, or -1 (EPERM at the top of our scope).
int nook_ns_get_parent(int nsfd);
/// openat2(dirfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), retried on EINTR/EAGAIN.
/// Async-signal-safe: the container's child resolves every path in the rootfs with it.
int nook_openat2_in_root(int dirfd, const char *path, int flags, int mode);
int nook_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int nook_set_winsize(int fd, unsigned short rows, unsigned short cols);
int nook_open_pty(int *master, char *name, size_t name_len);
int nook_fcntl_getfl(int fd);
int nook_fcntl_setfl(int fd, int flags);
int nook_pipe_cloexec(int fds[2]);
/// open(path, O_PATH | O_CLOEXEC): a handle that is not a reader (for exec.fifo).
int nook_open_path(const char *path);
/// fstatfs(fd)'s f_type (NSFS_MAGIC for a namespace file), or -errno.
long nook_fstatfs_type(int fd);
/// close_range(fd, ~0, 0): close every fd from fd up.
int nook_close_from(int fd);
/// O_PATH (a GNU flag the Swift importer does not see).
int nook_o_path(void);
/// fsetxattr(fd, name, value, size, 0) (sys/xattr.h).
int nook_fsetxattr(int fd, const char *name, const void *value, size_t size);
/// getrandom(buffer, length, 0).
long nook_getrandom(void *buffer, size_t length);
/// lgetxattr(2): the value's length, or -1 with errno (Glibc's header is not imported by Swift).
long nook_lgetxattr(const char *path, const char *name, void *value, size_t size);
/// fgetxattr(2): the same for an open file.
long nook_fgetxattr(int fd, const char *name, void *value, size_t size);
/// renameat2(from, to, RENAME_NOREPLACE): fails with EEXIST when `to` exists, even an empty directory.
int nook_rename_noreplace(const char *from, const char *to);
// open_tree(path, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC[|AT_RECURSIVE]): a detached copy of a mount.
int nook_open_tree_clone(const char *path, int recursive);

enum nook_helper_flags {
    NOOK_HELPER_NEW_SESSION = 1,      // setsid(): the caller's Ctrl-C is not for it
    NOOK_HELPER_DIE_WITH_PARENT = 2,  // PR_SET_PDEATHSIG(SIGKILL)
};
// Start a program with fds[i] as its fd i (-1: closed; at most 16) and every
// other fd closed, an empty signal mask and default dispositions. Returns its
// pid, or -1 with errno (a failed execve included: the child reports it).
pid_t nook_spawn_helper(const char *path, char *const argv[], char *const envp[], const int *fds, int nfds, int flags);
// Start a program as root of a new user and mount namespace (the host's
// files, no pivot_root). Returns once the child is in its namespaces, with
// *go: write one byte there once /proc/PID/{uid,gid}_map are written; and
// *report: EOF once the program runs, else an int errno (setresuid, execve).
// Returns -1 with errno when the child could not start or unshare.
pid_t nook_spawn_in_userns(const char *path, char *const argv[], char *const envp[], int *go, int *report);
// fuse-overlayfs as a container's root (the fuse-overlayfs storage driver).
// The FUSE connection is opened and mounted in the container's user and mount
// namespaces, but the program that serves it stays in Nook's mount namespace:
// a daemon inside would pin that namespace, and with it the mount and itself,
// for ever. Here the server only holds /dev/fuse, so it ends when the
// container's mount namespace does (the kernel aborts the connection).
struct nook_fuse_overlay {
    int pidfd;                  // the container's child, in its namespaces with its id maps written
    int join_user;              // setns(CLONE_NEWUSER) first (0: the container shares Nook's user namespace)
    const char *mountpoint;     // absolute, resolved in the container's mount namespace
    const char *mount_options;  // fuse's mount(2) data: fd=NOOK_FUSE_FD,rootmode=...,user_id=0,...
    unsigned long mount_flags;  // MS_RDONLY for a read-only root
    const char *program;        // fuse-overlayfs
    char *const *argv;          // ... /dev/fd/NOOK_FUSE_FD
    char *const *envp;
    int stderr_fd;              // its stderr until it daemonizes (the caller reads its errors there)
    int devnull_fd;             // its stdin and stdout
};
#define NOOK_FUSE_FD 3
enum nook_fuse_step {
    NOOK_FUSE_STEP_SETNS_USER = 1,
    NOOK_FUSE_STEP_IDENTITY,
    NOOK_FUSE_STEP_OPEN_DEV,
    NOOK_FUSE_STEP_SETNS_MNT,
    NOOK_FUSE_STEP_MOUNT,
    NOOK_FUSE_STEP_EXEC,
    NOOK_FUSE_STEP_PRIVATE,
};
// Starts the server (fork, setns, open /dev/fuse, a forked child mounts it in
// the container's mount namespace, exec). Returns its pid, which exits once
// fuse-overlayfs has daemonized (0) or failed; or -1 with errno and *step
// saying which call failed.
pid_t nook_spawn_fuse_overlay(const struct nook_fuse_overlay *f, int *step);
/// recvmsg one nook_msg; *fd receives a passed file descriptor or -1.
/// Returns the bytes read (0 at EOF) or -1.
long nook_recv_msg(int sock, struct nook_msg *m, int *fd);
/// signalfd for the given signals (close-on-exec); they must be blocked.
int nook_signalfd(const int *signals, size_t n);
/// Reads one signal from a signalfd; returns its number, or -1.
int nook_signalfd_read(int fd);

// ---- The sealed copy of nook's own binary (CVE-2019-5736) ---------------
// memfd_create, its seals and sendfile sit behind _GNU_SOURCE, and prctl is
// variadic: Swift can call none of them. The decisions are in
// Sources/NookKit/Security/SealedBinary.swift.

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC); without
/// MFD_EXEC on kernels older than 6.3, which refuse the flag. Returns an fd or -1.
int nook_memfd_sealable(const char *name);
/// sendfile(out, in, NULL, count): bytes copied, or -1.
long nook_sendfile(int out, int in, size_t count);
/// F_ADD_SEALS: F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE.
int nook_seal_contents(int fd);
/// 1 when fd is a memfd carrying all four seals above; 0 otherwise (any other file: F_GET_SEALS fails).
int nook_contents_sealed(int fd);
/// prctl(PR_SET_DUMPABLE, on).
int nook_set_dumpable(int on);
/// prctl(PR_SET_NAME, name): /proc/self/comm (at most 15 bytes are kept).
int nook_set_process_name(const char *name);
/// prctl(PR_SET_NO_NEW_PRIVS, 1), then capset(2) with every set empty (the
/// ambient set empties with the permitted one). 0, or -1 and errno.
int nook_drop_all_capabilities(void);
/// setns(fd, CLONE_NEWUSER) and setns(fd, CLONE_NEWNET) (behind _GNU_SOURCE).
int nook_setns_user(int fd);
int nook_setns_net(int fd);
/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) (behind _GNU_SOURCE).
int nook_accept_nonblock(int fd);
/// ioctl(fd, SIOCOUTQ): bytes of a TCP socket's send queue the peer has not acknowledged, or -1.
int nook_socket_unsent(int fd);

// ---- Seccomp: compiled in the parent with libseccomp ---------------------

struct nook_seccomp_arg {
    unsigned int index; // 0..5
    int op;             // enum nook_seccomp_op
    uint64_t value;
    uint64_t value_two;
};

enum nook_seccomp_op {
    NOOK_SCMP_NE = 1, NOOK_SCMP_LT, NOOK_SCMP_LE, NOOK_SCMP_EQ, NOOK_SCMP_GE, NOOK_SCMP_GT, NOOK_SCMP_MASKED_EQ
};

enum nook_seccomp_action_kind {
    NOOK_SCMP_ACT_ALLOW = 1, NOOK_SCMP_ACT_ERRNO, NOOK_SCMP_ACT_KILL_THREAD, NOOK_SCMP_ACT_KILL_PROCESS,
    NOOK_SCMP_ACT_TRAP, NOOK_SCMP_ACT_TRACE, NOOK_SCMP_ACT_LOG
};

/// Returns the syscall number for a name on the native architecture, or a negative value.
int nook_seccomp_syscall_number(const char *name);
/// The libseccomp version linked in (0.0.0 when it cannot say).
void nook_seccomp_library_version(unsigned int *major, unsigned int *minor, unsigned int *micro);
/// Returns 0 when libseccomp knows the architecture name (libseccomp's spelling: "x86_64", "x86", "x32").
int nook_seccomp_arch_known(const char *name);

struct nook_seccomp_rule {
    const char *syscall;
    int action;     // nook_seccomp_action_kind
    int errno_ret;
    const struct nook_seccomp_arg *args;
    size_t n_args;
};

/// Build a filter and export it as BPF. Returns the number of bytes written
/// to out (allocated with malloc; caller frees) or -errno; *bad_rule gets the
/// index of a rule libseccomp refused.
long nook_seccomp_compile(int default_action, int default_errno,
                          const char *const *arches, size_t n_arches,
                          const struct nook_seccomp_rule *rules, size_t n_rules,
                          void **out, long *bad_rule);

#ifdef __cplusplus
}
#endif

#endif
