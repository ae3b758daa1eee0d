// A host program run as root of a new user namespace (and a mount namespace
// of its own), mapped like a container but with the host's file system:
// `nook unshare` and the layer unpacker. The child unshares, says so, waits
// for the parent to write its id maps, takes uid and gid 0 there and execs.
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

static void report_errno(int fd) {
    int err = errno ? errno : EINVAL;
    (void)!write(fd, &err, sizeof err);
}

pid_t nook_spawn_in_userns(const char *path, char *const argv[], char *const envp[], int *go, int *report) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) < 0) return -1;
    if (pipe2(from_child, O_CLOEXEC) < 0) { int e = errno; close(to_child[0]); close(to_child[1]); errno = e; return -1; }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(to_child[0]); close(to_child[1]); close(from_child[0]); close(from_child[1]);
        errno = e;
        return -1;
    }
    if (pid > 0) {
        close(to_child[0]);
        close(from_child[1]);
        // The child's first word: 0 once it is in its namespaces, else the errno of unshare.
        int err = -1;
        ssize_t n;
        do n = read(from_child[0], &err, sizeof err); while (n < 0 && errno == EINTR);
        if (n != sizeof err || err != 0) {
            close(to_child[1]);
            close(from_child[0]);
            waitpid(pid, NULL, 0);
            errno = n == sizeof err ? err : ECHILD;
            return -1;
        }
        *go = to_child[1];
        *report = from_child[0];
        return pid;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    // Dies with nook, even after its SIGKILL.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) goto fail;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) goto fail;
    int ready = 0;
    if (write(from_child[1], &ready, sizeof ready) != sizeof ready) _exit(127);
    // One byte once the maps are written; EOF means the parent gave up.
    char byte;
    ssize_t n;
    do n = read(to_child[0], &byte, 1); while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);
    // Mounts made in here stay in here.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) goto fail;
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) goto fail;
    // Allowed only with a sub-id range (setgroups is denied for a one-id map): the host's groups are not root's here.
    (void)syscall(SYS_setgroups, 0, NULL);
    execve(path, argv, envp);
fail:
    report_errno(from_child[1]);
    _exit(127);
}
