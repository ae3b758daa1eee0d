// The fuse-overlayfs storage driver's server (see struct nook_fuse_overlay).
// Between fork and execve: syscalls only (the parent may have threads).
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct fuse_report { int step; int err; };

__attribute__((noreturn)) static void fail(int report, int step) {
    struct fuse_report r = { step, errno ? errno : EINVAL };
    (void)!write(report, &r, sizeof r);
    _exit(127);
}

// The one process that enters the container's mount namespace: it mounts,
// reports a failure itself, and exits. Returns its exit status (0: mounted).
static int mount_in_container(const struct nook_fuse_overlay *f, int report) {
    pid_t pid = fork();
    if (pid < 0) fail(report, NOOK_FUSE_STEP_MOUNT);
    if (pid == 0) {
        if (setns(f->pidfd, CLONE_NEWNS) < 0) fail(report, NOOK_FUSE_STEP_SETNS_MNT);
        // The child has not yet made its mounts private (setup_rootfs does, after
        // this): without a user namespace its mount namespace is still a peer of
        // Nook's, and the FUSE mount would propagate out and outlive the container.
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(report, NOOK_FUSE_STEP_PRIVATE);
        if (mount("fuse-overlayfs", f->mountpoint, "fuse.fuse-overlayfs", f->mount_flags, f->mount_options) < 0)
            fail(report, NOOK_FUSE_STEP_MOUNT);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) fail(report, NOOK_FUSE_STEP_MOUNT);
    return status;
}

pid_t nook_spawn_fuse_overlay(const struct nook_fuse_overlay *f, int *step) {
    *step = 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(report[0]); close(report[1]); errno = e; return -1; }
    if (pid > 0) {
        close(report[1]);
        struct fuse_report r;
        ssize_t n;
        do n = read(report[0], &r, sizeof r); while (n < 0 && errno == EINTR);
        close(report[0]);
        if (n != sizeof r) return pid;  // exec'd
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        *step = r.step;
        errno = r.err;
        return -1;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    // Until fuse-overlayfs daemonizes it dies with Nook; its daemon does not
    // inherit this and ends with the container's mount namespace instead.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) fail(report[1], NOOK_FUSE_STEP_EXEC);
    // Ours, moved above NOOK_FUSE_FD so that placing /dev/fuse there overwrites none of them.
    struct nook_fuse_overlay g = *f;
    int *fds[] = { &g.pidfd, &g.stderr_fd, &g.devnull_fd };
    for (unsigned i = 0; i < sizeof fds / sizeof *fds; i++)
        if ((*fds[i] = fcntl(*fds[i], F_DUPFD_CLOEXEC, 64)) < 0) fail(report[1], NOOK_FUSE_STEP_EXEC);
    if (g.join_user) {
        if (setns(g.pidfd, CLONE_NEWUSER) < 0) fail(report[1], NOOK_FUSE_STEP_SETNS_USER);
        // Root there: its files in the upper layer get the ids the container asks for.
        if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) fail(report[1], NOOK_FUSE_STEP_IDENTITY);
        (void)syscall(SYS_setgroups, 0, NULL);  // denied for a one-id map: nothing to drop then
    }
    // Opened in the container's user namespace: the kernel mounts a FUSE
    // connection only in the user namespace that opened it.
    int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (dev < 0) fail(report[1], NOOK_FUSE_STEP_OPEN_DEV);
    if (dup2(dev, NOOK_FUSE_FD) < 0) fail(report[1], NOOK_FUSE_STEP_OPEN_DEV);  // dup2 clears CLOEXEC: the server keeps it
    if (dev != NOOK_FUSE_FD) close(dev);
    int status = mount_in_container(&g, report[1]);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) _exit(127);  // it reported why
    if (status != 0) { errno = EINTR; fail(report[1], NOOK_FUSE_STEP_MOUNT); }  // killed
    if (dup2(g.devnull_fd, 0) < 0 || dup2(g.devnull_fd, 1) < 0 || dup2(g.stderr_fd, 2) < 0) fail(report[1], NOOK_FUSE_STEP_EXEC);
    if (syscall(SYS_close_range, NOOK_FUSE_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail(report[1], NOOK_FUSE_STEP_EXEC);
    execve(g.program, g.argv, g.envp);
    fail(report[1], NOOK_FUSE_STEP_EXEC);
    return -1;
}
