/*
 * floor: the least a rootless container start can cost on this kernel.
 *
 *   floor ROOTFS [CMD [ARG...]]      (CMD defaults to /bin/true)
 *
 * What every rootless runtime must do, and nothing more:
 *   clone() with new user, mount, pid, network, uts and ipc namespaces;
 *   the parent writes a single id mapping (container 0 -> the caller), which
 *   an unprivileged process may do without newuidmap;
 *   the child makes its mounts private, bind mounts the rootfs on itself,
 *   mounts /proc, pivot_root(".", "."), detaches the old root and execs CMD;
 *   the parent waits and exits with the child's status.
 * No seccomp, no capabilities, no masked paths, no /dev, no state on disk:
 * the figure the Benchmarks/run.sh table divides by ("nook/floor").
 *
 * Build: gcc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *rootfs;
static char **command;
static int sync_pipe[2]; /* parent -> child: "the id maps are written" */

static void die(const char *what, const char *path) {
    fprintf(stderr, "floor: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(errno));
    _exit(125);
}

static int child(void *arg) {
    (void)arg;
    char c;
    close(sync_pipe[1]);
    if (read(sync_pipe[0], &c, 1) != 1) die("wait for id maps", NULL);
    close(sync_pipe[0]);

    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private", NULL);
    /* pivot_root needs the new root to be a mount point. */
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind mount", rootfs);
    if (chdir(rootfs) < 0) die("chdir", rootfs);
    /* /proc before pivot_root: the kernel lets a user namespace mount proc only
     * while a fully visible proc exists in its mount namespace (the host's,
     * which leaves with the old root). runc, crun and bwrap do the same. */
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount proc on", "proc");
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", rootfs);
    if (umount2(".", MNT_DETACH) < 0) die("detach old root", NULL);
    if (chdir("/") < 0) die("chdir", "/");

    execv(command[0], command);
    die("execv", command[0]);
    return 125;
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open", path);
    ssize_t n = write(fd, text, strlen(text));
    if (n != (ssize_t)strlen(text)) die("write", path);
    close(fd);
}

int main(int argc, char **argv) {
    static char *default_command[] = {"/bin/true", NULL};
    if (argc < 2) {
        fprintf(stderr, "usage: floor ROOTFS [CMD [ARG...]]\n");
        return 125;
    }
    rootfs = realpath(argv[1], NULL);
    if (!rootfs) die("realpath", argv[1]);
    command = argc > 2 ? &argv[2] : default_command;
    if (pipe2(sync_pipe, O_CLOEXEC) < 0) die("pipe", NULL);

    static char stack[64 * 1024] __attribute__((aligned(16)));
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    pid_t pid = clone(child, stack + sizeof stack, flags, NULL);
    if (pid < 0) die("clone", NULL);
    close(sync_pipe[0]);

    /* A single mapping of the caller: allowed without privilege once setgroups is denied. */
    char path[64], map[64];
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)getuid());
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    write_file(path, map);
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    write_file(path, "deny\n");
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)getgid());
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    write_file(path, map);
    if (write(sync_pipe[1], "x", 1) != 1) die("signal child", NULL);
    close(sync_pipe[1]);

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid", NULL);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
