// Starting a helper program (pasta, slirp4netns) that must die with Nook.
// posix_spawn cannot set PR_SET_PDEATHSIG between fork and exec, so this does.
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t nook_spawn_helper(const char *path, char *const argv[], char *const envp[], const int *fds, int nfds) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid; // parent, or -1 with errno
    // Child: async-signal-safe calls only (the parent may have other threads).
    // Nook blocks the signals it forwards while a container starts; the helper must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    // Its own session: Ctrl-C on the caller's terminal is for the container, not for the helper.
    setsid();
    // Die with Nook, even after SIGKILL; and if Nook died before this line, now.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) _exit(127);
    // fds[i] becomes fd i: 0-2 are stdio, 3.. are passed fds. Move them above
    // the target range first, so a dup2 never overwrites one still to be moved.
    int moved[16];
    if (nfds > 16) _exit(127);
    for (int i = 0; i < nfds; i++) {
        moved[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD, 64);
        if (fds[i] >= 0 && moved[i] < 0) _exit(127);
    }
    for (int i = 0; i < nfds; i++) {
        if (moved[i] < 0) close(i);
        else if (dup2(moved[i], i) < 0) _exit(127);
    }
    syscall(SYS_close_range, (unsigned int)(nfds > 3 ? nfds : 3), ~0U, 0);
    execve(path, argv, envp);
    _exit(127);
}
