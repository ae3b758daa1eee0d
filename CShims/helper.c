// Starting a program of Nook's own choosing (newuidmap, getent, pasta,
// slirp4netns, a hook, the monitor): the one way, for all of them. posix_spawn
// cannot set PR_SET_PDEATHSIG between fork and exec, so this does it itself.
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

pid_t nook_spawn_helper(const char *path, char *const argv[], char *const envp[], const int *fds, int nfds, int flags) {
    if (nfds > 16) { errno = EINVAL; return -1; }
    // The child reports a failed execve through this pipe (closed on a good one).
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(report[0]); close(report[1]); errno = e; return -1; }
    if (pid > 0) {
        close(report[1]);
        int err = 0;
        ssize_t n;
        do n = read(report[0], &err, sizeof err); while (n < 0 && errno == EINTR);
        close(report[0]);
        if (n != sizeof err) return pid; // exec'd
        waitpid(pid, NULL, 0);
        errno = err;
        return -1;
    }
    // Child: async-signal-safe calls only (the parent may have other threads).
    // Nook blocks the signals it forwards while a container starts; the helper must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    int err = 0;
    // Its own session: Ctrl-C on the caller's terminal is for the container, not for the helper.
    if ((flags & NOOK_HELPER_NEW_SESSION) && setsid() < 0) goto fail;
    // Die with Nook, even after SIGKILL; and if Nook died before this line, now.
    if ((flags & NOOK_HELPER_DIE_WITH_PARENT) && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)) goto fail;
    // fds[i] becomes fd i: 0-2 are stdio, 3.. are passed fds. Move them above
    // the target range first, so a dup2 never overwrites one still to be moved.
    int moved[16];
    for (int i = 0; i < nfds; i++) {
        moved[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
        if (fds[i] >= 0 && moved[i] < 0) goto fail;
    }
    for (int i = 0; i < nfds; i++) {
        if (moved[i] < 0) close(i);
        else if (dup2(moved[i], i) < 0) goto fail;
    }
    // Everything else closes on exec, the report pipe included.
    if (syscall(SYS_close_range, (unsigned int)(nfds > 3 ? nfds : 3), ~0U, CLOSE_RANGE_CLOEXEC) < 0) goto fail;
    execve(path, argv, envp);
fail:
    err = errno;
    (void)!write(report[1], &err, sizeof err);
    _exit(127);
}
