// The container child's last steps: the seccomp filter, the program, execve
// (or execveat of the start waiter for `create`).
#include "child_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static int has_filter(const struct nook_launch *l) { return l->seccomp_filter && l->seccomp_len; }

static int load_seccomp(const struct nook_launch *l) {
    struct sock_fprog prog = {(unsigned short)l->seccomp_len, (struct sock_filter *)l->seccomp_filter};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

// Loads the filter if the plan puts it at `position`. BEFORE_EXEC is reported
// before loading (exec_command), since a report after it would need send().
void load_seccomp_at(const struct nook_launch *l, int position) {
    if (!has_filter(l) || l->seccomp_position != position) return;
    if (load_seccomp(l) < 0) step_fail(l, NOOK_STEP_SECCOMP, 0, errno);
    if (position == NOOK_SECCOMP_BEFORE_IDENTITY) step_done(l, NOOK_STEP_SECCOMP, 0);
}

// As in runc and crun, a program missing from the root fails here, as the
// container's user and before `create` returns, not later at `start`.
// The first candidate that exists (execve would look the same way), or 0
// with exec_fd. Looked up before the filter, which need not allow faccessat.
int find_program(const struct nook_launch *l) {
    if (l->exec_fd >= 0) return 0;
    for (int i = 0; l->exec_candidates[i]; i++) {
        if (faccessat(AT_FDCWD, l->exec_candidates[i], F_OK, 0) == 0) return i;
        if (errno != ENOENT && errno != ENOTDIR) return i; // execve says what is wrong
    }
    step_report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, -1, ENOENT, 0);
    _exit(NOOK_EXIT_NOT_FOUND);
}

// Reports the exec, waits for --trace's ack and loads a late filter: after
// it, only execve may depend on what the profile allows.
static void about_to_exec(const struct nook_launch *l, int index) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); // execve keeps the mask
    if (has_filter(l) && l->seccomp_position == NOOK_SECCOMP_BEFORE_EXEC) step_done(l, NOOK_STEP_SECCOMP, 0);
    step_report(l, NOOK_MSG_EXEC, NOOK_STEP_EXEC, index, 0, 0);
    wait_ack(l);
    load_seccomp_at(l, NOOK_SECCOMP_BEFORE_EXEC);
}

// `program`: find_program's answer. Candidates without the file are skipped,
// so --trace shows only the exec that matters.
void exec_command(const struct nook_launch *l, int program) {
    about_to_exec(l, program);
    if (l->exec_fd >= 0) {
        // A file opened by the parent on the host: no lookup in this root.
        syscall(SYS_execveat, l->exec_fd, "", (char *const *)l->argv, (char *const *)l->envp, AT_EMPTY_PATH);
        int e = errno;
        step_report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, 0, e, 0); // best effort: the filter may refuse it
        _exit(e == ENOENT ? NOOK_EXIT_NOT_FOUND : NOOK_EXIT_CANNOT_EXEC);
    }
    int saw_eacces = 0;
    for (int i = program; l->exec_candidates[i]; i++) {
        execve(l->exec_candidates[i], (char *const *)l->argv, (char *const *)l->envp);
        int e = errno;
        if (e == EACCES) saw_eacces = 1;
        else if (e != ENOENT && e != ENOTDIR) {
            step_report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, i, e, 0);
            _exit(NOOK_EXIT_CANNOT_EXEC);
        }
    }
    step_report(l, NOOK_MSG_FAIL, NOOK_STEP_EXEC, -1, saw_eacces ? EACCES : ENOENT, 0);
    _exit(saw_eacces ? NOOK_EXIT_CANNOT_EXEC : NOOK_EXIT_NOT_FOUND);
}

// `create`: wait for `start` as a program of its own (CShims/waiter/waiter.c),
// not as this clone of nook: a process exec'd into the container before
// `start` must find neither nook's memory (host paths, the spec, nook's
// environment) nor a PID 1 it may write. The waiter makes itself
// non-dumpable, reports READY, waits, loads the filter and execs the command.
// Everything but the filter is done.
void wait_for_start(const struct nook_launch *l) {
    if (l->waiter_fd < 0) return;
    // We may wait long after `nook create` is gone: hold nothing of its (the
    // state lock above all, or `nook start` would wait for us forever). Swift
    // listed the ranges around the fds the waiter keeps.
    for (size_t i = 0; i < l->n_waiter_close; i++)
        syscall(SYS_close_range, l->waiter_close[i].first, l->waiter_close[i].last, 0);
    for (size_t i = 0; i < l->n_waiter_fds; i++)
        if (fcntl(l->waiter_fds[i], F_SETFD, 0) < 0) step_fail(l, NOOK_STEP_WAIT_START, 0, errno);
    step_done(l, NOOK_STEP_WAIT_START, 0);
    syscall(SYS_execveat, l->waiter_fd, "", (char *const *)l->waiter_argv, (char *const *)l->envp, AT_EMPTY_PATH);
    step_fail(l, NOOK_STEP_WAIT_START, 0, errno);
}
