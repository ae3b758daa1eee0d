// The child -> parent protocol of a container's setup, shared by the C shim
// (CShims/child_*.c) and the start waiter (CShims/waiter/waiter.c), which is built
// freestanding: nothing here may need more than <stdint.h>.
#ifndef NOOK_PROTOCOL_H
#define NOOK_PROTOCOL_H

#include <stdint.h>

// ---- Child -> parent protocol -------------------------------------------
// Fixed-size records over a SOCK_SEQPACKET socket. The parent knows the plan,
// so the child only names the step (and the index into plan arrays); the
// parent turns that into words. EOF without NOOK_MSG_FAIL means execve worked.

enum nook_msg_type {
    NOOK_MSG_STEP = 1,  // a step completed (only when tracing)
    NOOK_MSG_SKIP = 2,  // an optional step failed; err says why
    NOOK_MSG_FAIL = 3,  // a step failed; the child exits
    NOOK_MSG_READY = 4, // all set up; waiting for `start` (create) or about to exec
    NOOK_MSG_EXEC = 5,  // trying exec_candidates[index]
    NOOK_MSG_PID = 6,   // init mode: the command's pid (value), as seen by the container
    NOOK_MSG_CONSOLE = 7 // carries the pty master as SCM_RIGHTS
};

enum nook_step {
    NOOK_STEP_WAIT_MAPS = 1,
    NOOK_STEP_CGROUPNS,
    NOOK_STEP_MOUNT_PRIVATE,
    NOOK_STEP_BIND_ROOTFS,
    NOOK_STEP_MOUNT,          // index: mounts[index]
    NOOK_STEP_READONLY_ROOT,
    NOOK_STEP_PIVOT_ROOT,
    NOOK_STEP_DETACH_OLDROOT,
    NOOK_STEP_HOSTNAME,
    NOOK_STEP_LOOPBACK,
    NOOK_STEP_CHDIR,
    NOOK_STEP_RLIMIT,         // index: rlimits[index]
    NOOK_STEP_SETGROUPS,
    NOOK_STEP_SETGID,
    NOOK_STEP_SETUID,
    NOOK_STEP_CAPS,
    NOOK_STEP_NO_NEW_PRIVS,
    NOOK_STEP_SECCOMP,
    NOOK_STEP_CLOSE_FDS,
    NOOK_STEP_CONSOLE,
    NOOK_STEP_WAIT_START,
    NOOK_STEP_INIT_FORK,
    NOOK_STEP_EXEC,           // index: exec_candidates[index]
    NOOK_STEP_SETNS,          // index: join_fds[index]
    NOOK_STEP_FORK,           // exec: the process in the joined namespaces
    NOOK_STEP_ROOT_PROPAGATION,
    NOOK_STEP_SUBREAPER,
    NOOK_STEP_OVERLAY_ROOTFS  // the root is an overlay mounted at rootfs (in place of the bind)
};

// NOOK_STEP_MOUNT's value, for --trace: the O_PATH fd the target was opened as
// beneath the rootfs, which is what the kernel gets (as /proc/self/fd/N, or as
// move_mount's and open_tree's fd), never the path (CVE-2021-30465); 0: none.
// A mask adds NOOK_MASKED_WITH_TMPFS when it covered a directory with a tmpfs
// (without it, it bound /dev/null over a file). fds stay below 2^28 unless
// fs.nr_open was raised that far (its default is 2^20): only the trace would suffer.
#define NOOK_MOUNT_VALUE_FD 0xfffffff
#define NOOK_MASKED_WITH_TMPFS 0x10000000

struct nook_msg {
    int32_t type;
    int32_t step;
    int32_t index;
    int32_t err;   // errno, 0 on success
    int32_t value;
};

// Exit codes of a child that failed before execve (podman's convention).
#define NOOK_EXIT_SETUP_FAILED 125
#define NOOK_EXIT_CANNOT_EXEC 126
#define NOOK_EXIT_NOT_FOUND 127

#endif
