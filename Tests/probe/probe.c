/*
 * probe: runs inside a Nook container and attempts forbidden or interesting
 * operations one at a time, printing one machine-readable line per attempt.
 *
 *   probe CHECK [CHECK...]      run the named checks in order
 *   probe all                   run every check marked "all" in the table
 *   probe --help                list the checks (stdout), exit 0
 *
 * Output (stdout, one line per check, nothing else):
 *   NAME result=ok [detail=...]
 *   NAME result=err errno=EPERM [detail=...]
 *   NAME result=killed signal=SIGSYS     (the check's process died by a signal,
 *                                          e.g. a seccomp KILL action or the OOM killer)
 *   NAME result=timeout detail=seconds=N (the check did not finish in time)
 * NAME is the check exactly as given on the command line (e.g. read:/proc/kcore).
 * detail never contains spaces (commas separate items); the fds check adds a
 * second field, targets=.
 *
 * Every check runs in its own forked process (the "runner child"), so a check
 * that changes process state (setuid, unshare, keyrings, chroot, ...) cannot
 * influence later checks, and a check killed by seccomp or by a timeout is
 * reported instead of taking `probe all` down with it. The child writes its
 * line into a pipe; the parent prints it after reaping the child.
 *
 * Exit status: 0 when all checks ran (results are data), 2 on usage errors
 * (unknown check, missing or bad argument) before anything is run.
 *
 * Every attempt is minimal and undone when it succeeds; files are only created
 * under /tmp/probe-* and removed again. See README.md for the check table.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define PROBE_FSOPEN_CLOEXEC 0x00000001 /* <linux/mount.h> clashes with <sys/mount.h> */
#define PROBE_SYSLOG_ACTION_SIZE_BUFFER 10

/* ------------------------------------------------------------------ names */

struct name_entry { int value; const char *name; };

/* First match wins: aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP) come after the
 * canonical name with the same value. */
static const struct name_entry errno_names[] = {
    {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"},
    {EIO, "EIO"}, {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {ENOEXEC, "ENOEXEC"},
    {EBADF, "EBADF"}, {ECHILD, "ECHILD"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {ENOTBLK, "ENOTBLK"}, {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"}, {EMFILE, "EMFILE"},
    {ENOTTY, "ENOTTY"}, {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"}, {ENOSPC, "ENOSPC"},
    {ESPIPE, "ESPIPE"}, {EROFS, "EROFS"}, {EMLINK, "EMLINK"}, {EPIPE, "EPIPE"},
    {EDOM, "EDOM"}, {ERANGE, "ERANGE"}, {EDEADLK, "EDEADLK"},
    {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOLCK, "ENOLCK"}, {ENOSYS, "ENOSYS"},
    {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"}, {ENOMSG, "ENOMSG"}, {EIDRM, "EIDRM"},
    {ENODATA, "ENODATA"}, {ETIME, "ETIME"}, {ENOLINK, "ENOLINK"}, {EPROTO, "EPROTO"},
    {EBADMSG, "EBADMSG"}, {EOVERFLOW, "EOVERFLOW"}, {EILSEQ, "EILSEQ"},
    {EUSERS, "EUSERS"}, {ENOTSOCK, "ENOTSOCK"}, {EDESTADDRREQ, "EDESTADDRREQ"},
    {EMSGSIZE, "EMSGSIZE"}, {EPROTOTYPE, "EPROTOTYPE"}, {ENOPROTOOPT, "ENOPROTOOPT"},
    {EPROTONOSUPPORT, "EPROTONOSUPPORT"}, {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {EPFNOSUPPORT, "EPFNOSUPPORT"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ENETDOWN, "ENETDOWN"},
    {ENETUNREACH, "ENETUNREACH"}, {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"}, {ENOBUFS, "ENOBUFS"}, {EISCONN, "EISCONN"},
    {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"}, {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"}, {ESTALE, "ESTALE"}, {EDQUOT, "EDQUOT"},
    {ECANCELED, "ECANCELED"}, {ENOKEY, "ENOKEY"}, {EKEYEXPIRED, "EKEYEXPIRED"},
    {EKEYREVOKED, "EKEYREVOKED"}, {EKEYREJECTED, "EKEYREJECTED"},
    {EOWNERDEAD, "EOWNERDEAD"}, {ENOTRECOVERABLE, "ENOTRECOVERABLE"},
    {EWOULDBLOCK, "EWOULDBLOCK"}, {EDEADLOCK, "EDEADLOCK"}, {ENOTSUP, "ENOTSUP"},
};

static const struct name_entry signal_names[] = {
    {SIGHUP, "SIGHUP"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"},
    {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},
    {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},
    {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
};

static const char *lookup_name(const struct name_entry *t, size_t n, int v,
                               const char *prefix, char *buf, size_t bufsz) {
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v) return t[i].name;
    snprintf(buf, bufsz, "%s%d", prefix, v);
    return buf;
}

static const char *errno_name(int e) {
    static char buf[32];
    return lookup_name(errno_names, sizeof errno_names / sizeof errno_names[0], e,
                       "E", buf, sizeof buf);
}

static const char *signal_name(int s) {
    static char buf[32];
    return lookup_name(signal_names, sizeof signal_names / sizeof signal_names[0], s,
                       "SIG", buf, sizeof buf);
}

/* -------------------------------------------------------------- reporting */

static const char *g_name = "?";   /* check as given on the command line */
static int g_report_fd = -1;       /* pipe to the parent (runner child only) */
static char g_line[8192];          /* the line the current check produced */
static char g_extra[4096];         /* raw extra fields (fds: targets=...) */

/* Replace whitespace in a detail value so the line stays space-separated. */
static void sanitize(char *s) {
    for (; *s; s++)
        if (isspace((unsigned char)*s) || !isprint((unsigned char)*s)) *s = '_';
}

static void vreport(int e, const char *fmt, va_list ap) {
    char detail[6144] = "";
    size_t n;
    if (fmt) {
        vsnprintf(detail, sizeof detail, fmt, ap);
        sanitize(detail);
    }
    if (e == 0)
        n = (size_t)snprintf(g_line, sizeof g_line, "%s result=ok", g_name);
    else
        n = (size_t)snprintf(g_line, sizeof g_line, "%s result=err errno=%s", g_name,
                             errno_name(e));
    if (n < sizeof g_line && detail[0])
        n += (size_t)snprintf(g_line + n, sizeof g_line - n, " detail=%s", detail);
    if (n < sizeof g_line && g_extra[0])
        n += (size_t)snprintf(g_line + n, sizeof g_line - n, " %s", g_extra);
    if (n >= sizeof g_line - 1) n = sizeof g_line - 2;
    g_line[n] = '\n';
    g_line[n + 1] = '\0';
}

__attribute__((format(printf, 1, 2))) static void OK(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(0, fmt, ap);
    va_end(ap);
}

/* e must be a positive errno value. */
__attribute__((format(printf, 2, 3))) static void ERR(int e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(e > 0 ? e : EINVAL, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- helpers */

/* Called first thing in every process a check forks, so grandchildren never
 * hold the report pipe. */
static void grandchild_setup(pid_t parent) {
    if (g_report_fd >= 0) close(g_report_fd);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
}

static void reap(pid_t pid) {
    int st;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
}

/* Read a small file into buf (NUL-terminated); returns bytes or -1/errno. */
static ssize_t read_small(const char *path, char *buf, size_t sz) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = 0;
    while (n < sz - 1) {
        ssize_t r = read(fd, buf + n, sz - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Value of "Key:" in /proc/self/status, tabs/spaces inside turned into '/'. */
static const char *status_value(const char *status, const char *key, char *out, size_t sz) {
    size_t kl = strlen(key);
    const char *p = status;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            p += kl + 1;
            while (*p == ' ' || *p == '\t') p++;
            size_t n = 0;
            int sep = 0;
            for (; *p && *p != '\n' && n < sz - 1; p++) {
                if (*p == ' ' || *p == '\t') {
                    sep = 1;
                    continue;
                }
                if (sep && n < sz - 1) out[n++] = '/';
                sep = 0;
                if (n < sz - 1) out[n++] = *p;
            }
            out[n] = '\0';
            return out;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    snprintf(out, sz, "NA");
    return out;
}

static int is_number(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* ----------------------------------------------------------------- checks */

static void c_keyctl(const char *arg) {
    (void)arg;
    long r = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "probe");
    if (r < 0) return ERR(errno, NULL);
    /* The new session keyring dies with this (disposable) process. */
    OK(NULL);
}

static void c_add_key(const char *arg) {
    (void)arg;
    long r = syscall(SYS_add_key, "user", "probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
    if (r < 0) return ERR(errno, NULL);
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, r);
    OK(NULL);
}

static void c_bpf(const char *arg) {
    (void)arg;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd < 0) return ERR(errno, "cmd=BPF_MAP_CREATE");
    close((int)fd);
    OK("cmd=BPF_MAP_CREATE");
}

static void c_perf_event_open(const char *arg) {
    (void)arg;
    struct perf_event_attr pa;
    memset(&pa, 0, sizeof pa);
    pa.size = sizeof pa;
    pa.type = PERF_TYPE_SOFTWARE;
    pa.config = PERF_COUNT_SW_CPU_CLOCK;
    pa.disabled = 1;
    pa.exclude_kernel = 1;
    pa.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return ERR(errno, NULL);
    close((int)fd);
    OK(NULL);
}

static void c_userfaultfd(const char *arg) {
    (void)arg;
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
    if (fd < 0) return ERR(errno, NULL);
    close((int)fd);
    OK(NULL);
}

static void c_userfaultfd_user(const char *arg) {
    (void)arg;
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    if (fd < 0) return ERR(errno, NULL);
    close((int)fd);
    OK(NULL);
}

/* The runner child is disposable, so unshare() happens right here. */
static void do_unshare(int flag) {
    if (unshare(flag) < 0) return ERR(errno, NULL);
    OK(NULL);
}
static void c_unshare_user(const char *a) { (void)a; do_unshare(CLONE_NEWUSER); }
static void c_unshare_ns(const char *a) { (void)a; do_unshare(CLONE_NEWNS); }
static void c_unshare_net(const char *a) { (void)a; do_unshare(CLONE_NEWNET); }
static void c_unshare_uts(const char *a) { (void)a; do_unshare(CLONE_NEWUTS); }
static void c_unshare_ipc(const char *a) { (void)a; do_unshare(CLONE_NEWIPC); }
static void c_unshare_pid(const char *a) { (void)a; do_unshare(CLONE_NEWPID); }
static void c_unshare_cgroup(const char *a) { (void)a; do_unshare(CLONE_NEWCGROUP); }
static void c_unshare_time(const char *a) { (void)a; do_unshare(CLONE_NEWTIME); }

static void c_clone_newuser(const char *arg) {
    (void)arg;
    /* x86_64 raw clone: flags, stack, parent_tid, child_tid, tls. No CLONE_VM,
     * so the child runs fork-like on a copy of this stack. */
    long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid < 0) return ERR(errno, NULL);
    reap((pid_t)pid);
    OK(NULL);
}

struct probe_clone_args { /* struct clone_args, CLONE_ARGS_SIZE_VER0 = 64 */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void c_clone3(const char *arg) {
    (void)arg;
    struct probe_clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) _exit(0);
    if (pid < 0) return ERR(errno, NULL);
    reap((pid_t)pid);
    OK(NULL);
}

static void *thread_fn(void *p) { return p; }

static void c_thread(const char *arg) {
    (void)arg;
    pthread_t t;
    void *ret = NULL;
    int e = pthread_create(&t, NULL, thread_fn, (void *)0x42);
    if (e) return ERR(e, "step=create");
    e = pthread_join(t, &ret);
    if (e) return ERR(e, "step=join");
    if (ret != (void *)0x42) return ERR(EFAULT, "step=retval");
    OK(NULL);
}

static void c_mount(const char *arg) {
    (void)arg;
    char dir[] = "/tmp/probe-mnt-XXXXXX";
    if (!mkdtemp(dir)) {
        /* No writable /tmp: a mount with an unknown filesystem type still goes
         * through the permission checks (EPERM) before failing with ENODEV,
         * and can never mount anything. */
        int e0 = errno;
        if (mount("none", "/", "probe-nonexistent-fs", 0, NULL) == 0)
            return OK("target=/,fstype=probe-nonexistent-fs");
        return ERR(errno, "target=/,fstype=probe-nonexistent-fs,mkdtemp=%s", errno_name(e0));
    }
    if (mount("none", dir, "tmpfs", 0, "size=64k") < 0) {
        int e = errno;
        rmdir(dir);
        return ERR(e, "fstype=tmpfs");
    }
    int ue = umount2(dir, MNT_DETACH) < 0 ? errno : 0;
    rmdir(dir);
    if (ue) return OK("fstype=tmpfs,umount=%s", errno_name(ue));
    OK("fstype=tmpfs");
}

static void c_umount(const char *arg) {
    (void)arg;
    /* umount2 of something that is not a mount point: EINVAL means the call
     * got past seccomp and the CAP_SYS_ADMIN check, EPERM means denied. */
    char dir[] = "/tmp/probe-umnt-XXXXXX";
    if (mkdtemp(dir)) {
        int r = umount2(dir, UMOUNT_NOFOLLOW);
        int e = errno;
        rmdir(dir);
        if (r == 0) return OK("target=tmpdir");
        return ERR(e, "target=tmpdir");
    }
    if (umount2("/proc/self/status", UMOUNT_NOFOLLOW) == 0)
        return OK("target=/proc/self/status");
    ERR(errno, "target=/proc/self/status");
}

static void c_ptrace(const char *arg) {
    (void)arg;
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid < 0) return ERR(errno, "step=fork");
    if (pid == 0) {
        grandchild_setup(me);
        alarm(10);
        for (;;) pause();
    }
    long r = ptrace(PTRACE_SEIZE, pid, 0, 0);
    int e = errno;
    kill(pid, SIGKILL); /* a killed tracee is detached automatically */
    reap(pid);
    if (r < 0) return ERR(e, "op=PTRACE_SEIZE");
    OK("op=PTRACE_SEIZE");
}

static void tiocsti_on(int fd, const char *what) {
    int tty = isatty(fd);
    char c = '\0'; /* a NUL byte, flushed again right away */
    /* Turn echo off meanwhile, so the terminal does not print the byte. */
    struct termios saved, quiet;
    int have_termios = tty && tcgetattr(fd, &saved) == 0;
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL);
        tcsetattr(fd, TCSANOW, &quiet);
    }
    int r = ioctl(fd, TIOCSTI, &c);
    int e = errno;
    if (r == 0) tcflush(fd, TCIFLUSH);
    if (have_termios) tcsetattr(fd, TCSANOW, &saved);
    if (r < 0) return ERR(e, "%s,tty=%s", what, tty ? "yes" : "no");
    OK("%s,tty=%s,flushed", what, tty ? "yes" : "no");
}

static void c_tiocsti(const char *arg) {
    (void)arg;
    tiocsti_on(0, "fd=0");
}

static void c_tiocsti_tty(const char *arg) {
    (void)arg;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "step=open_dev_tty");
    tiocsti_on(fd, "dev=/dev/tty");
    close(fd);
}

static void c_reboot(const char *arg) {
    (void)arg;
    /* CAD_OFF only decides what Ctrl-Alt-Del does. In the initial pid
     * namespace it really changes that setting, so restore it; in a child pid
     * namespace the kernel answers EINVAL after the CAP_SYS_BOOT check. */
    char before[16] = "";
    if (read_small("/proc/sys/kernel/ctrl-alt-del", before, sizeof before) < 0) before[0] = 0;
    long r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                     LINUX_REBOOT_CMD_CAD_OFF, 0);
    if (r < 0) return ERR(errno, "cmd=CAD_OFF");
    if (before[0] == '1') {
        syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                LINUX_REBOOT_CMD_CAD_ON, 0);
        return OK("cmd=CAD_OFF,restored=CAD_ON");
    }
    OK("cmd=CAD_OFF,restored=%s", before[0] == '0' ? "unchanged" : "unknown");
}

static void c_swapon(const char *arg) {
    (void)arg;
    if (swapon("/nonexistent", 0) == 0) {
        swapoff("/nonexistent");
        return OK(NULL);
    }
    ERR(errno, NULL); /* ENOENT: permitted; EPERM: denied */
}

static void c_settime(const char *arg) {
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (clock_settime(CLOCK_REALTIME, &ts) < 0) return ERR(errno, NULL);
    OK("set_to_current_time");
}

static void c_kexec_load(const char *arg) {
    (void)arg;
    /* nr_segments = KEXEC_SEGMENT_MAX + 1 makes a permitted call fail with
     * EINVAL; nr_segments = 0 would unload a loaded kexec image. */
    long r = syscall(SYS_kexec_load, 0UL, (unsigned long)(KEXEC_SEGMENT_MAX + 1), NULL, 0UL);
    if (r == 0) return OK(NULL);
    ERR(errno, NULL); /* EINVAL: permitted; EPERM: denied; ENOSYS: no kexec */
}

static void c_init_module(const char *arg) {
    (void)arg;
    long r = syscall(SYS_init_module, NULL, 0UL, "");
    if (r == 0) return OK(NULL);
    ERR(errno, NULL); /* ENOEXEC/EFAULT: permitted; EPERM: denied */
}

static void c_delete_module(const char *arg) {
    (void)arg;
    long r = syscall(SYS_delete_module, "probe_no_such_module", O_NONBLOCK);
    if (r == 0) return OK(NULL);
    ERR(errno, NULL); /* ENOENT: permitted; EPERM: denied */
}

static void c_io_uring(const char *arg) {
    (void)arg;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(SYS_io_uring_setup, 1, &p);
    if (fd < 0) return ERR(errno, NULL);
    close((int)fd);
    OK(NULL);
}

static void c_chown_root(const char *arg) {
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/probe-f-%d", (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ERR(errno, "step=create");
    close(fd);
    int r = chown(path, 0, 0);
    int e = errno;
    unlink(path);
    if (r < 0) return ERR(e, "step=chown");
    OK(NULL);
}

static void c_setuid0(const char *arg) {
    (void)arg;
    if (setuid(0) < 0) return ERR(errno, "uid=%d,euid=%d", (int)getuid(), (int)geteuid());
    OK("uid=%d,euid=%d", (int)getuid(), (int)geteuid());
}

static void c_setgid0(const char *arg) {
    (void)arg;
    if (setgid(0) < 0) return ERR(errno, "gid=%d,egid=%d", (int)getgid(), (int)getegid());
    OK("gid=%d,egid=%d", (int)getgid(), (int)getegid());
}

static void c_setgroups(const char *arg) {
    (void)arg;
    if (setgroups(0, NULL) < 0) return ERR(errno, NULL);
    OK(NULL);
}

static void c_mknod(const char *arg) {
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/probe-null-%d", (int)getpid());
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) < 0) return ERR(errno, "dev=1:3");
    unlink(path);
    OK("dev=1:3");
}

static void c_write_proc_sys(const char *arg) {
    (void)arg;
    /* Writes the current hostname back: the permission is exercised, the
     * value does not change. */
    struct utsname u;
    uname(&u);
    int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "step=open");
    ssize_t w = write(fd, u.nodename, strlen(u.nodename));
    int e = errno;
    close(fd);
    if (w < 0) return ERR(e, "step=write");
    OK("wrote_same_value");
}

static void c_write_sysrq(const char *arg) {
    (void)arg;
    int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "open_only");
    close(fd); /* never write a command */
    OK("open_only");
}

static void c_read(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return ERR(errno, "step=open");
    static char buf[4096];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return ERR(e, "step=read,bytes=%zu", n);
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    OK("bytes=%zu", n);
}

/* tcp_connect:IPV4:PORT connect (3 s timeout), send "ping\n", detail=reply=FIRST_WORD. */
static void c_tcp_connect(const char *arg) {
    char host[64];
    const char *colon = strrchr(arg, ':');
    if (!colon || (size_t)(colon - arg) >= sizeof host) return ERR(EINVAL, "step=parse");
    memcpy(host, arg, (size_t)(colon - arg));
    host[colon - arg] = '\0';
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return ERR(EINVAL, "step=parse");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ERR(errno, "step=socket");
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno == EINPROGRESS ? ETIMEDOUT : errno;
        close(fd);
        return ERR(e, "step=connect");
    }
    if (write(fd, "ping\n", 5) != 5) {
        int e = errno;
        close(fd);
        return ERR(e, "step=write");
    }
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0) return ERR(e, "step=read");
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)buf[i])) buf[i] = '\0';
    OK("reply=%s", buf);
}

/* udp_echo:PORT answer one datagram on 0.0.0.0:PORT with "echo:" + its text. */
static void c_udp_echo(const char *arg) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ERR(errno, "step=socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg))};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        return ERR(e, "step=bind");
    }
    char buf[512] = "echo:";
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 6, 0, (struct sockaddr *)&from, &len);
    if (n < 0) {
        int e = errno;
        close(fd);
        return ERR(e, "step=recvfrom");
    }
    if (sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len) < 0) {
        int e = errno;
        close(fd);
        return ERR(e, "step=sendto");
    }
    /* The network helper carries the reply out of this namespace: give it a
     * moment before the container (and with it the namespace) ends. */
    sleep(1);
    close(fd);
    buf[n + 5] = '\0';
    for (ssize_t i = 0; i < n + 5; i++)
        if (!isgraph((unsigned char)buf[i])) buf[i] = '\0';
    char who[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &from.sin_addr, who, sizeof who);
    OK("got=%s,from=%s:%u", buf + 5, who, ntohs(from.sin_port));
}

/* tcp_serve:PORT:MIB[:reset] listen on 0.0.0.0:PORT, send MIB MiB of zeros to
 * the first client in 1 MiB writes, close (a throughput source for
 * benchmarks); with :reset, close with a reset (SO_LINGER 0) instead. */
static void c_tcp_serve(const char *arg) {
    int port = atoi(arg);
    const char *colon = strchr(arg, ':');
    long mib = colon ? atol(colon + 1) : 0;
    int reset = colon && strstr(colon + 1, ":reset") != NULL;
    if (port <= 0 || mib <= 0) return ERR(EINVAL, "step=parse");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ERR(errno, "step=socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        int e = errno;
        close(fd);
        return ERR(e, "step=listen");
    }
    int c = accept(fd, NULL, NULL);
    close(fd);
    if (c < 0) return ERR(errno, "step=accept");
    static char block[1 << 20];
    for (long i = 0; i < mib; i++) {
        size_t off = 0;
        while (off < sizeof block) {
            ssize_t n = write(c, block + off, sizeof block - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int e = errno;
                close(c);
                return ERR(e, "step=write,mib=%ld", i);
            }
            off += (size_t)n;
        }
    }
    if (reset) {
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    close(c);
    OK("mib=%ld%s", mib, reset ? ",reset" : "");
}

static void c_ls(const char *path) {
    DIR *d = opendir(path);
    if (!d) return ERR(errno, "step=opendir");
    long n = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    int e = errno;
    closedir(d);
    if (e) return ERR(e, "step=readdir,entries=%ld", n);
    OK("entries=%ld", n);
}

static void c_write(const char *path) {
    struct stat st;
    int existed = stat(path, &st) == 0;
    int regular = existed && S_ISREG(st.st_mode);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) return ERR(errno, "step=open");
    ssize_t w = write(fd, "x", 1);
    int e = errno;
    /* Undo: remove a file we created, truncate an existing regular file back. */
    const char *undo = "none";
    if (!existed) {
        if (unlink(path) == 0) undo = "removed";
    } else if (regular && w == 1) {
        if (ftruncate(fd, st.st_size) == 0) undo = "truncated";
    }
    close(fd);
    if (w < 0) return ERR(e, "step=write,%s,undo=%s", existed ? "existing" : "created", undo);
    OK("%s,undo=%s", existed ? "existing" : "created", undo);
}

static void c_caps(const char *arg) {
    (void)arg;
    static char st[16384];
    if (read_small("/proc/self/status", st, sizeof st) < 0) return ERR(errno, NULL);
    char a[32], b[32], c[32], d[32], e[32];
    OK("CapInh=%s,CapPrm=%s,CapEff=%s,CapBnd=%s,CapAmb=%s",
       status_value(st, "CapInh", a, sizeof a), status_value(st, "CapPrm", b, sizeof b),
       status_value(st, "CapEff", c, sizeof c), status_value(st, "CapBnd", d, sizeof d),
       status_value(st, "CapAmb", e, sizeof e));
}

static void c_status(const char *arg) {
    (void)arg;
    static char st[16384];
    if (read_small("/proc/self/status", st, sizeof st) < 0) return ERR(errno, NULL);
    char a[32], b[32], c[32], d[64], e[64];
    OK("NoNewPrivs=%s,Seccomp=%s,Seccomp_filters=%s,Uid=%s,Gid=%s",
       status_value(st, "NoNewPrivs", a, sizeof a), status_value(st, "Seccomp", b, sizeof b),
       status_value(st, "Seccomp_filters", c, sizeof c), status_value(st, "Uid", d, sizeof d),
       status_value(st, "Gid", e, sizeof e));
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void c_fds(const char *arg) {
    (void)arg;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return ERR(errno, NULL);
    int skip = dirfd(d);
    int fds[1024], n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        if (!is_number(de->d_name)) continue;
        int fd = atoi(de->d_name);
        if (fd == skip || fd == g_report_fd) continue;
        fds[n++] = fd;
    }
    closedir(d);
    qsort(fds, (size_t)n, sizeof fds[0], cmp_int);
    char list[4096] = "";
    size_t ll = 0, tl = 0;
    tl = (size_t)snprintf(g_extra, sizeof g_extra, "targets=");
    int first_target = 1;
    for (int i = 0; i < n; i++) {
        if (ll < sizeof list)
            ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%d", i ? "," : "", fds[i]);
        if (fds[i] <= 2) continue;
        char p[64], t[PATH_MAX];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fds[i]);
        ssize_t r = readlink(p, t, sizeof t - 1);
        if (r < 0) snprintf(t, sizeof t, "?");
        else t[r] = '\0';
        for (char *q = t; *q; q++)
            if (*q == ',' || isspace((unsigned char)*q) || !isprint((unsigned char)*q)) *q = '_';
        if (tl < sizeof g_extra)
            tl += (size_t)snprintf(g_extra + tl, sizeof g_extra - tl, "%s%d:%s",
                                   first_target ? "" : ",", fds[i], t);
        first_target = 0;
    }
    OK("%s", n ? list : "none");
}

static void c_exe_write(const char *pid) {
    char p[300], t[PATH_MAX];
    snprintf(p, sizeof p, "/proc/%.200s/exe", pid);
    ssize_t r = readlink(p, t, sizeof t - 1);
    if (r < 0) snprintf(t, sizeof t, "?");
    else t[r] = '\0';
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "target=%s", t);
    close(fd); /* opened only, never written */
    OK("target=%s", t);
}

/* "PID:REST" -> the pid as a string in pid (at most 31 chars) and REST; -1 if malformed. */
static int split_pid(const char *arg, char *pid, size_t pidsz, const char **rest) {
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    if (n == 0 || n >= pidsz) return -1;
    memcpy(pid, arg, n);
    pid[n] = '\0';
    if (!is_number(pid) && strcmp(pid, "self") != 0) return -1;
    *rest = colon ? colon + 1 : "";
    return 0;
}

/* First region of /proc/PID/maps whose permissions start with perms (e.g. "r-x"). */
static int first_region(const char *pid, const char *perms, unsigned long *start) {
    char p[64], line[512];
    snprintf(p, sizeof p, "/proc/%s/maps", pid);
    FILE *f = fopen(p, "re");
    if (!f) return -errno;
    int found = -ENOENT;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char pr[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, pr) == 3 && !strncmp(pr, perms, strlen(perms))) {
            *start = a;
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Write one byte of PID's code through /proc/PID/mem: the byte that is there
 * already, so a success changes nothing (but the page is the writer's now). */
static void c_mem_write(const char *pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%s/mem", pid);
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "step=open");
    unsigned long code = 0;
    int r = first_region(pid, "r-x", &code);
    if (r < 0) { close(fd); return ERR(-r, "step=maps"); }
    unsigned char byte;
    if (pread(fd, &byte, 1, (off_t)code) != 1) { int e = errno; close(fd); return ERR(e, "step=read"); }
    if (pwrite(fd, &byte, 1, (off_t)code) != 1) { int e = errno; close(fd); return ERR(e, "step=write"); }
    close(fd);
    OK("wrote=0x%lx", code);
}

/* Search PID's writable memory (heap, stack, data: where a program keeps what
 * it was told) for TEXT through /proc/PID/mem. */
static void c_mem_find(const char *arg) {
    char pid[32];
    const char *text;
    if (split_pid(arg, pid, sizeof pid, &text) < 0 || !*text) return ERR(EINVAL, "usage=mem_find:PID:TEXT");
    char p[64], line[512];
    snprintf(p, sizeof p, "/proc/%s/mem", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "step=open");
    snprintf(p, sizeof p, "/proc/%s/maps", pid);
    FILE *f = fopen(p, "re");
    if (!f) { int e = errno; close(fd); return ERR(e, "step=maps"); }
    size_t tl = strlen(text), chunk = 1 << 20;
    char *buf = malloc(chunk + tl);
    if (!buf) { fclose(f); close(fd); return ERR(ENOMEM, "step=malloc"); }
    unsigned long long bytes = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char pr[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, pr) != 3 || pr[0] != 'r' || pr[1] != 'w') continue;
        size_t carry = 0;
        for (unsigned long at = a; at < b && !found;) {
            size_t want = (size_t)(b - at) < chunk ? (size_t)(b - at) : chunk;
            ssize_t n = pread(fd, buf + carry, want, (off_t)at);
            if (n <= 0) break;
            bytes += (unsigned long long)n;
            size_t have = carry + (size_t)n;
            if (memmem(buf, have, text, tl)) found = 1;
            carry = have >= tl ? tl - 1 : have;
            memmove(buf, buf + have - carry, carry);
            at += (unsigned long)n;
        }
    }
    free(buf);
    fclose(f);
    close(fd);
    OK("found=%s,bytes=%llu", found ? "yes" : "no", bytes);
}

/* Whether the file at PATH (read up to 1 MiB) contains TEXT. */
static void c_find(const char *arg) {
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || !colon[1]) return ERR(EINVAL, "usage=find:PATH:TEXT");
    char path[PATH_MAX];
    size_t pl = (size_t)(colon - arg);
    if (pl >= sizeof path) return ERR(ENAMETOOLONG, NULL);
    memcpy(path, arg, pl);
    path[pl] = '\0';
    const char *text = colon + 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ERR(errno, "step=open");
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (!buf) { close(fd); return ERR(ENOMEM, "step=malloc"); }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(buf); close(fd); return ERR(e, "step=read"); }
        if (r == 0 || (n += (size_t)r) == cap) break;
    }
    close(fd);
    int found = memmem(buf, n, text, strlen(text)) != NULL;
    free(buf);
    OK("found=%s,bytes=%zu", found ? "yes" : "no", n);
}

static void c_exe_write_all(const char *arg) {
    (void)arg;
    DIR *d = opendir("/proc");
    if (!d) return ERR(errno, "step=opendir");
    struct { int e, count; } seen[32];
    int nseen = 0, tried = 0;
    char okpids[2048] = "";
    size_t okl = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_number(de->d_name)) continue;
        char p[300];
        snprintf(p, sizeof p, "/proc/%s/exe", de->d_name);
        tried++;
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            if (okl < sizeof okpids)
                okl += (size_t)snprintf(okpids + okl, sizeof okpids - okl, "%s%s",
                                        okl ? "," : "", de->d_name);
            continue;
        }
        int e = errno, i;
        for (i = 0; i < nseen; i++)
            if (seen[i].e == e) break;
        if (i == nseen && nseen < 32) seen[nseen++].e = e, seen[i].count = 0;
        if (i < 32) seen[i].count++;
    }
    closedir(d);
    if (okl) return OK("writable=%s", okpids);
    if (!tried) return ERR(ENOENT, "tried=0");
    char sum[1024] = "";
    size_t sl = 0;
    int best = 0;
    for (int i = 0; i < nseen; i++) {
        if (seen[i].count > seen[best].count) best = i;
        sl += (size_t)snprintf(sum + sl, sizeof sum - sl, "%s%s:%d", i ? "," : "",
                               errno_name(seen[i].e), seen[i].count);
    }
    ERR(seen[best].e, "tried=%d,%s", tried, sum);
}

/* CVE-2019-5736 the way an attacker in the container does it. For SECONDS,
 * watch /proc for nook processes: argv[0] or /proc/PID/exe is PATH (the nook
 * binary as /proc shows it from here; argv[0] may be its last component
 * alone), or exe is a memfd named nook (the
 * sealed copy). Open each one's /proc/PID/exe with O_PATH and keep it: that
 * needs the process to be dumpable, and holds the binary after the process
 * is gone. Then keep trying to reopen each held file for writing and write
 * 8 bytes at offset 0: ETXTBSY lasts only while some process runs it, so the
 * attacker waits for the runtime to finish. Only PATH and memfds are ever
 * written. stderr gets "exe_hijack: watching" after the first scan.
 * detail: seen=N, then PID:OUTCOME:ERRNO per nook process, OUTCOME one of
 *   denied    O_PATH refused (not dumpable)
 *   sealed    a memfd with F_SEAL_WRITE; ERRNO is the last write attempt's
 *   unsealed  held and writable by permission, but busy (ETXTBSY) throughout
 *   wrote     written: the attack worked
 * result=ok when a held binary was unsealed or written (attack possible). */
#define HIJACK_MAX 64
struct hijack_target {
    pid_t pid;
    int fd;      /* O_PATH on the binary, -1 if denied */
    int sealed;  /* F_GET_SEALS has F_SEAL_WRITE */
    int done;    /* no more attempts: written, or refused for good */
    int wrote;
    int err;     /* last errno */
    int writable_target; /* PATH or a memfd: the only files ever written */
};

static int hijack_is_nook(pid_t pid, const char *path, char *exe, size_t exesz) {
    char p[64], cmd[PATH_MAX];
    exe[0] = '\0';
    snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
    ssize_t r = readlink(p, exe, exesz - 1);
    if (r >= 0) exe[r] = '\0';
    else exe[0] = '\0';
    if (exe[0] && (!strcmp(exe, path) || !strncmp(exe, "/memfd:nook", 11))) return 1;
    /* argv[0]: PATH, or its last component when nook was found through $PATH,
     * or a title nook shows instead of its arguments ("nook-init", "nook __monitor",
     * "nook run" and the other commands' "nook COMMAND"). */
    snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
    if (read_small(p, cmd, sizeof cmd) <= 0) return 0;
    const char *base = strrchr(path, '/');
    if (!strcmp(cmd, path)) return 1;
    if (strchr(cmd, '/') || !base) return 0;
    size_t n = strlen(base + 1);
    return !strncmp(cmd, base + 1, n) && (cmd[n] == '\0' || cmd[n] == ' ' || !strcmp(cmd + n, "-init"));
}

static void hijack_try_write(struct hijack_target *t) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", t->fd);
    int w = open(p, O_WRONLY | O_CLOEXEC);
    if (w < 0) {
        t->err = errno;
        if (errno != ETXTBSY) t->done = 1;
        return;
    }
    ssize_t n = pwrite(w, "NOOKPWND", 8, 0);
    t->err = n == 8 ? 0 : (n < 0 ? errno : EIO);
    close(w);
    t->done = 1;
    t->wrote = n == 8;
}

static void c_exe_hijack(const char *arg) {
    char *end;
    long seconds = strtol(arg, &end, 10);
    if (*end != ':' || seconds <= 0 || seconds > 100 || end[1] != '/')
        return ERR(EINVAL, "usage=exe_hijack:SECONDS:PATH");
    const char *path = end + 1;
    struct hijack_target t[HIJACK_MAX];
    int n = 0;
    pid_t self = getpid(), runner = getppid();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int round = 0;; round++) {
        DIR *d = opendir("/proc");
        if (!d) return ERR(errno, "step=opendir");
        struct dirent *de;
        while ((de = readdir(d)) && n < HIJACK_MAX) {
            if (!is_number(de->d_name)) continue;
            pid_t pid = (pid_t)atoi(de->d_name);
            int known = pid == self || pid == runner;
            for (int i = 0; i < n && !known; i++) known = t[i].pid == pid;
            char exe[PATH_MAX];
            if (known || !hijack_is_nook(pid, path, exe, sizeof exe)) continue;
            struct hijack_target *x = &t[n++];
            memset(x, 0, sizeof *x);
            x->pid = pid;
            char p[64];
            snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
            x->fd = open(p, O_PATH | O_CLOEXEC);
            if (x->fd < 0) {
                x->err = errno;
                x->done = 1;
                continue;
            }
            /* What the held fd is now, not what the name said a moment ago. */
            snprintf(p, sizeof p, "/proc/self/fd/%d", x->fd);
            ssize_t r = readlink(p, exe, sizeof exe - 1);
            exe[r > 0 ? r : 0] = '\0';
            x->writable_target = !strcmp(exe, path) || !strncmp(exe, "/memfd:nook", 11);
            int rd = open(p, O_RDONLY | O_CLOEXEC);
            if (rd >= 0) {
                int seals = fcntl(rd, F_GET_SEALS);
                x->sealed = seals >= 0 && (seals & F_SEAL_WRITE);
                close(rd);
            }
            if (!x->writable_target) x->done = 1;
        }
        closedir(d);
        if (round == 0) {
            fprintf(stderr, "exe_hijack: watching (%d nook processes seen)\n", n);
            fflush(stderr);
        }
        for (int i = 0; i < n; i++)
            if (!t[i].done) hijack_try_write(&t[i]);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= seconds) break;
        usleep(20000);
    }
    char detail[4096];
    size_t dl = (size_t)snprintf(detail, sizeof detail, "seen=%d", n);
    int attack = 0, first_err = 0;
    for (int i = 0; i < n && dl < sizeof detail; i++) {
        const char *outcome = t[i].fd < 0 ? "denied" : t[i].wrote ? "wrote" : t[i].sealed ? "sealed" : "unsealed";
        if (t[i].wrote || (t[i].fd >= 0 && !t[i].sealed && t[i].writable_target)) attack = 1;
        if (!first_err && t[i].err) first_err = t[i].err;
        dl += (size_t)snprintf(detail + dl, sizeof detail - dl, ",%d:%s:%s", (int)t[i].pid, outcome,
                               t[i].err ? errno_name(t[i].err) : "0");
    }
    if (attack) return OK("%s", detail);
    ERR(n ? (first_err ? first_err : EPERM) : ENOENT, "%s", detail);
}

static void c_setuid_helper(const char *arg) {
    (void)arg;
    OK("ruid=%d,euid=%d,rgid=%d,egid=%d", (int)getuid(), (int)geteuid(), (int)getgid(),
       (int)getegid());
}

static void c_net_raw(const char *arg) {
    (void)arg;
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (s < 0) return ERR(errno, NULL);
    close(s);
    OK(NULL);
}

static void c_bind_low(const char *arg) {
    (void)arg;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return ERR(errno, "step=socket");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *addr = "127.0.0.1";
    int r = bind(s, (struct sockaddr *)&sa, sizeof sa);
    if (r < 0 && errno == EADDRNOTAVAIL) {
        /* loopback down (fresh network namespace): the address check comes
         * before the port check, so retry on the wildcard address. */
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        addr = "0.0.0.0";
        r = bind(s, (struct sockaddr *)&sa, sizeof sa);
    }
    int e = errno;
    close(s);
    if (r < 0) return ERR(e, "addr=%s:80", addr);
    OK("addr=%s:80", addr);
}

static void c_chroot(const char *arg) {
    (void)arg;
    if (chroot("/") < 0) return ERR(errno, NULL);
    OK(NULL);
}

static void c_sethostname(const char *arg) {
    (void)arg;
    /* Set the current name again: same permission checks, nothing changes. */
    struct utsname u;
    uname(&u);
    if (sethostname(u.nodename, strlen(u.nodename)) < 0) return ERR(errno, "same_name");
    OK("same_name");
}

static void c_personality(const char *arg) {
    (void)arg;
    int old = personality(0xffffffff);
    if (personality(ADDR_NO_RANDOMIZE) < 0) return ERR(errno, "persona=ADDR_NO_RANDOMIZE");
    personality((unsigned long)old);
    OK("persona=ADDR_NO_RANDOMIZE");
}

static void c_open_by_handle_at(const char *arg) {
    (void)arg;
    struct {
        struct file_handle fh;
        unsigned char buf[MAX_HANDLE_SZ];
    } h;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    const char *how = "handle=root";
    if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0) {
        /* An empty handle fails with EINVAL after the permission check. */
        h.fh.handle_bytes = 0;
        how = "handle=bogus";
    }
    int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0) return ERR(errno, "step=open_root");
    int fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
    int e = errno;
    close(mfd);
    if (fd < 0) return ERR(e, "%s", how);
    close(fd);
    OK("%s", how);
}

static void c_acct(const char *arg) {
    (void)arg;
    if (acct("/nonexistent-probe-acct") == 0) {
        acct(NULL);
        return OK(NULL);
    }
    ERR(errno, NULL); /* ENOENT: permitted; EPERM: denied */
}

static void c_syslog(const char *arg) {
    (void)arg;
    long r = syscall(SYS_syslog, PROBE_SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
    if (r < 0) return ERR(errno, "action=SIZE_BUFFER");
    OK("action=SIZE_BUFFER,size=%ld", r);
}

static void c_ioperm(const char *arg) {
    (void)arg;
    if (ioperm(0x80, 1, 1) < 0) return ERR(errno, "port=0x80");
    ioperm(0x80, 1, 0);
    OK("port=0x80");
}

static void c_fsopen(const char *arg) {
    (void)arg;
    long fd = syscall(SYS_fsopen, "tmpfs", PROBE_FSOPEN_CLOEXEC);
    if (fd < 0) return ERR(errno, "fstype=tmpfs");
    close((int)fd);
    OK("fstype=tmpfs");
}

static void c_modify_ldt(const char *arg) {
    (void)arg;
    static unsigned char buf[64];
    long r = syscall(SYS_modify_ldt, 0, buf, sizeof buf); /* func 0 = read */
    if (r < 0) return ERR(errno, "func=read");
    OK("func=read,bytes=%ld", r);
}

static void c_kill_init(const char *arg) {
    (void)arg;
    if (kill(1, 0) < 0) return ERR(errno, "sig=0");
    OK("sig=0");
}

static void c_nice_neg(const char *arg) {
    (void)arg;
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    if (cur == -1 && errno) return ERR(errno, "step=get");
    if (setpriority(PRIO_PROCESS, 0, cur - 1) < 0) return ERR(errno, "from=%d,to=%d", cur, cur - 1);
    OK("from=%d,to=%d", cur, cur - 1);
}

static void c_fork_many(const char *arg) {
    long n = strtol(arg, NULL, 10);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!pids) return ERR(ENOMEM, "forked=0");
    pid_t me = getpid();
    long k = 0;
    int e = 0;
    for (; k < n; k++) {
        pid_t p = fork();
        if (p < 0) {
            e = errno;
            break;
        }
        if (p == 0) {
            grandchild_setup(me);
            sleep(5);
            _exit(0);
        }
        pids[k] = p;
    }
    for (long i = 0; i < k; i++) kill(pids[i], SIGKILL);
    for (long i = 0; i < k; i++) reap(pids[i]);
    free(pids);
    if (e) return ERR(e, "forked=%ld", k);
    OK("forked=%ld", k);
}

static void c_alloc(const char *arg) {
    size_t mb = strtoul(arg, NULL, 10);
    char **chunks = calloc(mb, sizeof *chunks);
    if (!chunks) return ERR(ENOMEM, "mb=0");
    size_t i;
    for (i = 0; i < mb; i++) {
        chunks[i] = malloc(1 << 20);
        if (!chunks[i]) break;
        memset(chunks[i], 0xa5, 1 << 20);
        fprintf(stderr, "probe: alloc %zu MiB\n", i + 1);
    }
    for (size_t j = 0; j < i; j++) free(chunks[j]);
    free(chunks);
    if (i < mb) return ERR(ENOMEM, "mb=%zu", i);
    OK("mb=%zu", i);
}

/* ------------------------------------------------------------------ table */

enum { NOARG = 0, ARG_PATH, ARG_PID, ARG_COUNT };

struct check {
    const char *name;
    void (*fn)(const char *arg);
    int argkind;
    int in_all;
    unsigned timeout; /* seconds, for the runner child */
    const char *help;
};

static const struct check checks[] = {
    {"fds", c_fds, NOARG, 1, 10, "open fds (/proc/self/fd) and targets of fds > 2"},
    {"status", c_status, NOARG, 1, 10, "NoNewPrivs, Seccomp, Seccomp_filters, Uid, Gid"},
    {"caps", c_caps, NOARG, 1, 10, "CapInh/Prm/Eff/Bnd/Amb from /proc/self/status"},
    {"setuid_helper", c_setuid_helper, NOARG, 1, 10, "report real/effective uid and gid"},
    {"keyctl", c_keyctl, NOARG, 1, 10, "keyctl(JOIN_SESSION_KEYRING, \"probe\")"},
    {"add_key", c_add_key, NOARG, 1, 10, "add_key(user key to process keyring)"},
    {"bpf", c_bpf, NOARG, 1, 10, "bpf(BPF_MAP_CREATE, 1-entry array map)"},
    {"perf_event_open", c_perf_event_open, NOARG, 1, 10, "software cpu-clock counter on self"},
    {"userfaultfd", c_userfaultfd, NOARG, 1, 10, "userfaultfd(O_CLOEXEC)"},
    {"userfaultfd_user", c_userfaultfd_user, NOARG, 1, 10, "userfaultfd(UFFD_USER_MODE_ONLY)"},
    {"unshare_user", c_unshare_user, NOARG, 1, 10, "unshare(CLONE_NEWUSER)"},
    {"unshare_ns", c_unshare_ns, NOARG, 1, 10, "unshare(CLONE_NEWNS)"},
    {"unshare_net", c_unshare_net, NOARG, 1, 10, "unshare(CLONE_NEWNET)"},
    {"unshare_uts", c_unshare_uts, NOARG, 1, 10, "unshare(CLONE_NEWUTS)"},
    {"unshare_ipc", c_unshare_ipc, NOARG, 1, 10, "unshare(CLONE_NEWIPC)"},
    {"unshare_pid", c_unshare_pid, NOARG, 1, 10, "unshare(CLONE_NEWPID)"},
    {"unshare_cgroup", c_unshare_cgroup, NOARG, 1, 10, "unshare(CLONE_NEWCGROUP)"},
    {"unshare_time", c_unshare_time, NOARG, 1, 10, "unshare(CLONE_NEWTIME)"},
    {"clone_newuser", c_clone_newuser, NOARG, 1, 10, "raw clone(CLONE_NEWUSER|SIGCHLD)"},
    {"clone3", c_clone3, NOARG, 1, 10, "raw clone3 with exit_signal=SIGCHLD"},
    {"thread", c_thread, NOARG, 1, 10, "pthread_create + pthread_join"},
    {"mount", c_mount, NOARG, 1, 10, "mount tmpfs on a /tmp/probe-mnt-* dir (then umount)"},
    {"umount", c_umount, NOARG, 1, 10, "umount2 of a non-mount-point (EINVAL = allowed)"},
    {"ptrace", c_ptrace, NOARG, 1, 10, "PTRACE_SEIZE a paused child, then kill it"},
    {"tiocsti", c_tiocsti, NOARG, 1, 10, "ioctl(0, TIOCSTI) (NUL byte, flushed)"},
    {"tiocsti_tty", c_tiocsti_tty, NOARG, 1, 10, "ioctl(open(/dev/tty), TIOCSTI)"},
    {"reboot", c_reboot, NOARG, 1, 10, "reboot(CAD_OFF), restored"},
    {"swapon", c_swapon, NOARG, 1, 10, "swapon(/nonexistent) (ENOENT = allowed)"},
    {"settime", c_settime, NOARG, 1, 10, "clock_settime(REALTIME, now)"},
    {"kexec_load", c_kexec_load, NOARG, 1, 10, "kexec_load(17 segments) (EINVAL = allowed)"},
    {"init_module", c_init_module, NOARG, 1, 10, "init_module(NULL, 0) (ENOEXEC = allowed)"},
    {"delete_module", c_delete_module, NOARG, 1, 10, "delete_module(no such) (ENOENT = allowed)"},
    {"io_uring", c_io_uring, NOARG, 1, 10, "io_uring_setup(1)"},
    {"chown_root", c_chown_root, NOARG, 1, 10, "chown /tmp/probe-f-PID to 0:0"},
    {"setuid0", c_setuid0, NOARG, 1, 10, "setuid(0)"},
    {"setgid0", c_setgid0, NOARG, 1, 10, "setgid(0)"},
    {"setgroups", c_setgroups, NOARG, 1, 10, "setgroups(0, NULL)"},
    {"mknod", c_mknod, NOARG, 1, 10, "mknod /tmp/probe-null-PID c 1 3"},
    {"write_proc_sys", c_write_proc_sys, NOARG, 1, 10, "write current name to /proc/sys/kernel/hostname"},
    {"write_sysrq", c_write_sysrq, NOARG, 1, 10, "open /proc/sysrq-trigger O_WRONLY (no write)"},
    {"exe_write_all", c_exe_write_all, NOARG, 1, 10, "open /proc/*/exe O_WRONLY for every pid"},
    {"net_raw", c_net_raw, NOARG, 1, 10, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)"},
    {"bind_low", c_bind_low, NOARG, 1, 10, "bind TCP 127.0.0.1:80"},
    {"chroot", c_chroot, NOARG, 1, 10, "chroot(\"/\")"},
    {"sethostname", c_sethostname, NOARG, 1, 10, "sethostname(current name)"},
    {"personality", c_personality, NOARG, 1, 10, "personality(ADDR_NO_RANDOMIZE)"},
    {"open_by_handle_at", c_open_by_handle_at, NOARG, 1, 10, "open_by_handle_at on / (shocker)"},
    {"acct", c_acct, NOARG, 1, 10, "acct(/nonexistent-probe-acct) (ENOENT = allowed)"},
    {"syslog", c_syslog, NOARG, 1, 10, "syslog(SIZE_BUFFER)"},
    {"ioperm", c_ioperm, NOARG, 1, 10, "ioperm(0x80, 1, 1), dropped again"},
    {"fsopen", c_fsopen, NOARG, 1, 10, "fsopen(\"tmpfs\") (new mount API)"},
    {"modify_ldt", c_modify_ldt, NOARG, 1, 10, "modify_ldt(read)"},
    {"kill_init", c_kill_init, NOARG, 1, 10, "kill(1, 0)"},
    {"nice_neg", c_nice_neg, NOARG, 1, 10, "setpriority(current - 1)"},
    {"read", c_read, ARG_PATH, 0, 10, "read:PATH read up to 4 KiB, detail=bytes=N"},
    {"ls", c_ls, ARG_PATH, 0, 10, "ls:PATH count directory entries, detail=entries=N"},
    {"write", c_write, ARG_PATH, 0, 10, "write:PATH append one byte (undone)"},
    {"exe_write", c_exe_write, ARG_PID, 0, 10, "exe_write:PID open /proc/PID/exe O_WRONLY"},
    {"mem_write", c_mem_write, ARG_PID, 0, 10, "mem_write:PID write one byte of PID's code (the same) through /proc/PID/mem"},
    {"mem_find", c_mem_find, ARG_PATH, 0, 30, "mem_find:PID:TEXT search PID's writable memory for TEXT, detail=found=yes|no"},
    {"find", c_find, ARG_PATH, 0, 10, "find:PATH:TEXT whether PATH (first MiB) contains TEXT, detail=found=yes|no"},
    {"exe_hijack", c_exe_hijack, ARG_PATH, 0, 120, "exe_hijack:SECONDS:PATH hold nook's /proc/PID/exe, then write it"},
    {"fork_many", c_fork_many, ARG_COUNT, 0, 60, "fork_many:N fork N sleeping children"},
    {"alloc", c_alloc, ARG_COUNT, 0, 600, "alloc:MB allocate and touch MB MiB"},
    {"tcp_connect", c_tcp_connect, ARG_PATH, 0, 10, "tcp_connect:IPV4:PORT connect, send ping, detail=reply=WORD"},
    {"tcp_serve", c_tcp_serve, ARG_PATH, 0, 600, "tcp_serve:PORT:MIB[:reset] send MIB MiB of zeros to the first client, then close (:reset: with a reset)"},
    {"udp_echo", c_udp_echo, ARG_PATH, 0, 60, "udp_echo:PORT answer one datagram with echo:TEXT (then wait 1 s), detail=got=TEXT"},
};
#define NCHECKS (sizeof checks / sizeof checks[0])

/* ----------------------------------------------------------------- runner */

struct job {
    const struct check *c;
    const char *full; /* as given */
    const char *arg;  /* after ':' or NULL */
};

static void run_job(const struct job *j) {
    int p[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe2(p, O_CLOEXEC) < 0) {
        printf("%s result=err errno=%s detail=runner_pipe_failed\n", j->full, errno_name(errno));
        fflush(stdout);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        printf("%s result=err errno=%s detail=runner_fork_failed\n", j->full, errno_name(e));
        fflush(stdout);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        g_report_fd = p[1];
        g_name = j->full;
        alarm(j->c->timeout);
        j->c->fn(j->arg);
        if (!g_line[0]) ERR(EINVAL, "internal_no_report");
        size_t len = strlen(g_line), off = 0;
        while (off < len) {
            ssize_t w = write(p[1], g_line + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) _exit(3);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    /* Reap first, read afterwards: grandchildren can never block us, and one
     * line always fits into the pipe buffer. */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    static char buf[sizeof g_line + 1];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(p[0], buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n >= sizeof buf - 1) break;
    }
    buf[n] = '\0';
    close(p[0]);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && n > 0 && buf[n - 1] == '\n') {
        fputs(buf, stdout);
    } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
        printf("%s result=timeout detail=seconds=%u\n", j->full, j->c->timeout);
    } else if (WIFSIGNALED(st)) {
        printf("%s result=killed signal=%s\n", j->full, signal_name(WTERMSIG(st)));
    } else {
        printf("%s result=err errno=E0 detail=runner_exit=%d\n", j->full,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    fflush(stdout);
}

static void usage(FILE *f) {
    fprintf(f, "usage: probe CHECK [CHECK...] | probe all\n"
               "checks (* = part of 'all'):\n");
    for (size_t i = 0; i < NCHECKS; i++)
        fprintf(f, "  %c %-18s %s\n", checks[i].in_all ? '*' : ' ', checks[i].name,
                checks[i].help);
    fprintf(f, "launchers (they exec, see README.md):\n"
               "    exec-new-userns PROG [ARG...]\n"
               "    sibling-new-userns PROG [ARG...] -- PROG2 [ARG...]\n");
}

static const struct check *find_check(const char *name, size_t len) {
    for (size_t i = 0; i < NCHECKS; i++)
        if (strlen(checks[i].name) == len && strncmp(checks[i].name, name, len) == 0)
            return &checks[i];
    return NULL;
}

/* ------------------------------------------------------------- launchers */

/* Ways out of a container's processes that a runtime must still follow; each
 * replaces the probe (execv), so they are not checks. 127 if a step fails. */

static int fail(const char *what) {
    fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
    return 127;
}

/* exec-new-userns PROG [ARG...]: unshare(CLONE_NEWUSER), then exec PROG. */
static int exec_new_userns(char **argv) {
    if (unshare(CLONE_NEWUSER) < 0) return fail("unshare(CLONE_NEWUSER)");
    execv(argv[0], argv);
    return fail(argv[0]);
}

/* sibling-new-userns PROG [ARG...] -- PROG2 [ARG...]: clone(CLONE_PARENT |
 * CLONE_NEWUSER) a child that execs PROG (a child of our parent, not ours),
 * then exec PROG2. */
static int sibling_new_userns(int argc, char **argv) {
    int sep = 0;
    while (sep < argc && strcmp(argv[sep], "--") != 0) sep++;
    if (sep == 0 || sep >= argc - 1) {
        fprintf(stderr, "usage: probe sibling-new-userns PROG [ARG...] -- PROG2 [ARG...]\n");
        return 2;
    }
    argv[sep] = NULL;
    long pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | CLONE_NEWUSER), 0, 0, 0, 0);
    if (pid < 0) return fail("clone(CLONE_PARENT|CLONE_NEWUSER)");
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(fail(argv[0]));
    }
    execv(argv[sep + 1], argv + sep + 1);
    return fail(argv[sep + 1]);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "exec-new-userns")) {
        if (argc < 3) return fprintf(stderr, "usage: probe exec-new-userns PROG [ARG...]\n"), 2;
        return exec_new_userns(argv + 2);
    }
    if (!strcmp(argv[1], "sibling-new-userns")) return sibling_new_userns(argc - 2, argv + 2);
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);

    size_t cap = (size_t)argc * NCHECKS, nj = 0;
    struct job *jobs = calloc(cap, sizeof *jobs);
    if (!jobs) return 2;
    /* Validate everything before running anything. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "all")) {
            for (size_t k = 0; k < NCHECKS; k++)
                if (checks[k].in_all) jobs[nj++] = (struct job){&checks[k], checks[k].name, NULL};
            continue;
        }
        const char *colon = strchr(a, ':');
        size_t len = colon ? (size_t)(colon - a) : strlen(a);
        const struct check *c = find_check(a, len);
        if (!c) {
            fprintf(stderr, "probe: unknown check '%s' (see probe --help)\n", a);
            return 2;
        }
        const char *arg = colon ? colon + 1 : NULL;
        if (c->argkind == NOARG && arg) {
            fprintf(stderr, "probe: check '%.*s' takes no argument\n", (int)len, a);
            return 2;
        }
        if (c->argkind != NOARG && (!arg || !*arg)) {
            fprintf(stderr, "probe: check '%s' needs an argument (%s)\n", c->name, c->help);
            return 2;
        }
        if (c->argkind == ARG_PID && !is_number(arg) && strcmp(arg, "self") != 0) {
            fprintf(stderr, "probe: '%s': PID must be a number or 'self'\n", a);
            return 2;
        }
        if (c->argkind == ARG_COUNT) {
            char *end;
            long v = strtol(arg, &end, 10);
            if (*end || v <= 0 || v > 1000000) {
                fprintf(stderr, "probe: '%s': expected a positive count\n", a);
                return 2;
            }
        }
        jobs[nj++] = (struct job){c, a, arg};
    }
    for (size_t i = 0; i < nj; i++) run_job(&jobs[i]);
    free(jobs);
    return 0;
}
