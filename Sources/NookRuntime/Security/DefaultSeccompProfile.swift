import Glibc
import NookCore
import NookKernel
import NookSpec

/// Nook's default seccomp profile: an allowlist modelled on Docker's default
/// (moby's profiles/seccomp/default.json), adjusted for a rootless container.
/// Docs/security.md lists what it denies and why, and where it differs from Docker.
/// Denied calls fail with EPERM; clone3 fails with ENOSYS so glibc falls back
/// to clone, whose namespace flags seccomp can see.
package enum DefaultSeccompProfile {
    /// Always allowed: what ordinary programs use.
    static let allowed: [String] = [
        "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "capget", "capset",
        "chdir", "chmod", "chown", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep", "close",
        "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
        "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate",
        "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync",
        "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync",
        "ftruncate", "futex", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
        "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
        "getppid", "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "get_robust_list",
        "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
        "getuid", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
        "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "ioprio_get", "ioprio_set", "io_setup",
        "io_submit", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
        "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
        "lstat", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
        "mknodat", "mlock", "mlock2", "mlockall", "mmap", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify",
        "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
        "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
        "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
        "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
        "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
        "semget", "semop", "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsuid",
        "setgid", "setgroups", "setitimer", "setpgid", "setpriority", "setregid", "setresgid", "setresuid",
        "setreuid", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address",
        "setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
        "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime",
        "timerfd_settime", "times", "tkill", "truncate", "umask", "uname", "unlink", "unlinkat", "utime",
        "utimensat", "utimes", "vfork", "vmsplice", "wait4", "waitid", "write", "writev", "time",
        // The same calls under their 32-bit x86 names, so i386 programs run too (as in Docker's profile).
        "_llseek", "_newselect", "chown32", "clock_adjtime64", "clock_getres_time64", "clock_gettime64",
        "clock_nanosleep_time64", "fadvise64_64", "fchown32", "fcntl64", "fstat64", "fstatat64", "fstatfs64",
        "ftruncate64", "futex_time64", "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32",
        "getresuid32", "getuid32", "io_pgetevents_time64", "ipc", "lchown32", "lstat64", "mmap2",
        "mq_timedreceive_time64", "mq_timedsend_time64", "ppoll_time64", "pselect6_time64", "recv",
        "recvmmsg_time64", "rt_sigtimedwait_time64", "sched_rr_get_interval_time64", "semtimedop_time64",
        "send", "sendfile64", "setfsgid32", "setfsuid32", "setgid32", "setgroups32", "setregid32",
        "setresgid32", "setresuid32", "setreuid32", "setuid32", "sigprocmask", "sigreturn", "socketcall",
        "stat64", "statfs64", "timer_gettime64", "timer_settime64", "timerfd_gettime64", "timerfd_settime64",
        "truncate64", "ugetrlimit", "utimensat_time64", "waitpid",
    ]

    /// Namespace flags: clone may not create namespaces (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).
    static let namespaceFlags: UInt64 = 0x7E02_0000
    static let tiocsti: UInt64 = 0x5412
    static let afVsock: UInt64 = 40

    /// Calls allowed only when the container keeps the capability that guards them anyway.
    static let byCapability: [(String, [String])] = [
        ("CAP_SYS_ADMIN", ["bpf", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                           "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                           "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount2",
                           "unshare"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "clock_settime"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ]

    /// The profile for a process whose bounding set holds `capabilities` (CAP_ names).
    package static func profile(capabilities: Set<String>) -> SeccompProfile {
        var rules: [SeccompProfile.Rule] = [SeccompProfile.Rule(names: allowed, action: .allow)]
        // ioctl: everything but TIOCSTI, which pushes input into a terminal (CVE-2017-5226).
        // libseccomp cannot combine "allow ioctl" with "deny this command", and the
        // kernel reads the command as 32 bits (high bits could smuggle it past a
        // plain comparison). So: allow when any one of the low 32 bits differs
        // from TIOCSTI's, one rule per bit; only TIOCSTI itself matches none.
        for bit in 0..<32 {
            let mask: UInt64 = 1 << UInt64(bit)
            rules.append(.init(names: ["ioctl"], action: .allow,
                               args: [.init(index: 1, op: .maskedEq, value: mask, valueTwo: ~tiocsti & mask)]))
        }
        rules.append(.init(names: ["socket"], action: .allow, args: [.init(index: 0, op: .ne, value: afVsock)]))
        for persona: UInt64 in [0, 8, 0x20000, 0x20008, 0xFFFF_FFFF] {
            rules.append(.init(names: ["personality"], action: .allow, args: [.init(index: 0, op: .eq, value: persona)]))
        }
        var granted = Set<String>()
        for (cap, names) in byCapability where capabilities.contains(cap) { granted.formUnion(names) }
        if !capabilities.contains("CAP_SYS_ADMIN") {
            rules.append(.init(names: ["clone"], action: .allow,
                               args: [.init(index: 0, op: .maskedEq, value: namespaceFlags, valueTwo: 0)]))
            rules.append(.init(names: ["clone3"], action: .errno(ENOSYS)))
        } else {
            granted.insert("clone")
        }
        if !granted.isEmpty { rules.append(.init(names: granted.sorted(), action: .allow)) }
        return SeccompProfile(defaultAction: .errno(EPERM), architectures: ["x86_64", "x86", "x32"], rules: rules,
                              name: "the default profile")
    }
}
