// nook-wait: a created container's PID 1 until `nook start` (issue 15/16).
//
// `nook create` sets the container up in a clone of nook, which then execs
// this program from a sealed memfd (CShims/child_exec.c, wait_for_start), so that
// what waits in the container holds no nook memory (host paths, the spec,
// nook's environment) and can be made non-dumpable: after an execve inside
// the container's user namespace, the kernel counts this memory as the
// container's (mm->user_ns), so the namespace's owner on the host keeps its
// access (/proc/PID/ns for `exec`, hooks, podman, pasta) while a process in
// the container without CAP_SYS_PTRACE cannot read or write it.
//
// Freestanding: no libc, no dynamic loader (a dynamic binary would run the
// container's ld.so), raw system calls only. Scripts/build-waiter.sh builds it
// and writes the bytes nook embeds (CShims/waiter_image.c).
//
// Everything was decided in Swift (Sources/NookKit/Lifecycle/StartWaiter.swift)
// and arrives as the arguments:
//   nook-wait SYNC FIFO SECCOMP INSTRUCTIONS TRACE K CANDIDATE... ARGV...
// SYNC: the setup socket (READY goes there); FIFO: exec.fifo, open read-write
// (`start` writes one byte into it); SECCOMP: a memfd holding INSTRUCTIONS
// sock_filter records to load last, or -1; TRACE: 1 to wait for nook's ack
// after READY; K paths to try execve on in order, then the command's argv.
// The environment is the command's.
#include "../include/nook_protocol.h"

typedef unsigned long size_t;
typedef long ssize_t;

#if defined(__x86_64__)
enum { SYS_read = 0, SYS_close = 3, SYS_mmap = 9, SYS_rt_sigprocmask = 14, SYS_sendto = 44, SYS_execve = 59,
       SYS_fcntl = 72, SYS_prctl = 157, SYS_exit_group = 231, SYS_seccomp = 317 };

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call waiter_main\n"
        "  hlt\n");
#elif defined(__aarch64__)
enum { SYS_fcntl = 25, SYS_close = 57, SYS_read = 63, SYS_exit_group = 94, SYS_rt_sigprocmask = 135,
       SYS_prctl = 167, SYS_sendto = 206, SYS_execve = 221, SYS_mmap = 222, SYS_seccomp = 277 };

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  bl waiter_main\n"
        "  brk #0\n");
#else
#error "nook-wait: no system call table for this architecture"
#endif

// The kernel's ABI values (the same on both architectures).
enum {
    EINTR = 4, ENOENT = 2, EACCES = 13, ENOTDIR = 20, EINVAL = 22,
    PR_SET_DUMPABLE = 4, PR_SET_NAME = 15, F_SETFD = 2, FD_CLOEXEC = 1, MSG_NOSIGNAL = 0x4000,
    PROT_READ = 1, MAP_PRIVATE = 2, SIG_SETMASK = 2, SECCOMP_SET_MODE_FILTER = 1
};

struct sock_fprog {
    unsigned short len;
    const void *filter;
};

static long sys(long n, long a, long b, long c) { return sys6(n, a, b, c, 0, 0, 0); }

__attribute__((noreturn)) static void exit_now(int code) {
    for (;;) sys(SYS_exit_group, code, 0, 0);
}

// Best effort: after READY, `nook create` may be gone (MSG_NOSIGNAL: no SIGPIPE).
static void report(int sync, int type, int step, int index, int err) {
    struct nook_msg m = {type, step, index, err, 0};
    long r;
    do {
        r = sys6(SYS_sendto, sync, (long)&m, sizeof m, MSG_NOSIGNAL, 0, 0);
    } while (r == -EINTR);
}

__attribute__((noreturn)) static void fail(int sync, int step, int index, int err, int code) {
    report(sync, NOOK_MSG_FAIL, step, index, err);
    exit_now(code);
}

// A decimal number, maybe negative; 0 for anything else (never a valid fd here).
static long number(const char *s) {
    long sign = 1, v = 0;
    if (*s == '-') { sign = -1; s++; }
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
    return sign * v;
}

static int read_byte(int fd) {
    char c;
    long r;
    do {
        r = sys(SYS_read, fd, (long)&c, 1);
    } while (r == -EINTR);
    return r == 1 ? 0 : (r < 0 ? (int)-r : EINVAL);
}

__attribute__((noreturn, used)) void waiter_main(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;

    // First: until now the kernel lets a process of the container with the
    // same capabilities read and write this one.
    long dumpable = sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0);
    sys(SYS_prctl, PR_SET_NAME, (long)"nook-wait", 0); // execveat named us after the fd
    if (argc < 7) exit_now(NOOK_EXIT_SETUP_FAILED);
    int sync = (int)number(argv[1]), fifo = (int)number(argv[2]), seccomp = (int)number(argv[3]);
    long instructions = number(argv[4]), trace = number(argv[5]), k = number(argv[6]);
    if (dumpable < 0) fail(sync, NOOK_STEP_WAIT_START, 0, (int)-dumpable, NOOK_EXIT_SETUP_FAILED);
    if (k < 1 || 7 + k >= argc) fail(sync, NOOK_STEP_WAIT_START, 0, EINVAL, NOOK_EXIT_SETUP_FAILED);
    char **candidates = argv + 7;
    char **command = candidates + k;

    // Only now may `create` return.
    report(sync, NOOK_MSG_READY, 0, 0, 0);
    if (trace && read_byte(sync) != 0) exit_now(NOOK_EXIT_SETUP_FAILED);

    // `start` writes one byte; we hold the FIFO read-write, so no EOF comes first.
    int err = read_byte(fifo);
    if (err) fail(sync, NOOK_STEP_WAIT_START, 0, err, NOOK_EXIT_SETUP_FAILED);
    sys(SYS_close, fifo, 0, 0); // `start` sees the FIFO without a reader: the byte was taken
    sys(SYS_fcntl, sync, F_SETFD, FD_CLOEXEC);

    const void *filter = 0;
    if (seccomp >= 0) {
        long at = sys6(SYS_mmap, 0, instructions * 8, PROT_READ, MAP_PRIVATE, seccomp, 0);
        if (at < 0 && at > -4096) fail(sync, NOOK_STEP_SECCOMP, 0, (int)-at, NOOK_EXIT_SETUP_FAILED);
        filter = (const void *)at;
        sys(SYS_close, seccomp, 0, 0);
    }
    unsigned long none = 0;
    sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, sizeof none, 0, 0);
    // The filter last: after it, nothing but execve depends on what the profile allows.
    if (filter) {
        struct sock_fprog prog = {(unsigned short)instructions, filter};
        long r = sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
        if (r < 0) fail(sync, NOOK_STEP_SECCOMP, 0, (int)-r, NOOK_EXIT_SETUP_FAILED);
    }
    // As execvp does: a candidate that is missing is skipped, EACCES remembered.
    int saw_eacces = 0;
    for (long i = 0; i < k; i++) {
        long r = sys(SYS_execve, (long)candidates[i], (long)command, (long)envp);
        if (r == -EACCES) { saw_eacces = 1; continue; }
        if (r == -ENOENT || r == -ENOTDIR) continue;
        fail(sync, NOOK_STEP_EXEC, (int)i, (int)-r, NOOK_EXIT_CANNOT_EXEC);
    }
    fail(sync, NOOK_STEP_EXEC, -1, saw_eacces ? EACCES : ENOENT, saw_eacces ? NOOK_EXIT_CANNOT_EXEC : NOOK_EXIT_NOT_FOUND);
}
