import Glibc
import NookCore
import NookKernel
import NookSpec

/// `--trace`: one line a step, in the order the steps happen, on stderr.
///
/// Format (fixed; tests and Docs/walkthrough.md rely on it):
///     trace: <step>: <system call and arguments> -- <why>
/// The child cannot use stdio, so it reports each step over the sync socket
/// and the parent formats and prints it here.
package struct Tracer: Sendable {
    package var enabled: Bool
    package var sink: @Sendable (String) -> Void

    package init(enabled: Bool, sink: @escaping @Sendable (String) -> Void = Tracer.standardError) {
        self.enabled = enabled
        self.sink = sink
    }

    package static let standardError: @Sendable (String) -> Void = { line in
        let text = line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    /// Arguments, paths and hostnames in a line come from the command line or
    /// config.json: the line is escaped (`PrintableText`), so none can move the
    /// cursor, recolour the terminal or start a fake line.
    package static func format(step: String, call: String, why: String) -> String {
        PrintableText.escaped("trace: \(step): \(call) -- \(why)")
    }

    package func emit(_ step: String, _ call: String, _ why: String) {
        if enabled { sink(Self.format(step: step, call: call, why: why)) }
    }

    /// A child step, described from the plan.
    package func emit(_ message: ChildMessage, plan: LaunchPlan) {
        guard enabled else { return }
        let d = StepDescription(message, plan: plan)
        if message.kind == .skip, message.errno == ENOENT, let absent = d.absent {
            sink(Self.format(step: d.step, call: absent.call, why: "skipped: " + absent.why))
        } else if message.kind == .skip {
            sink(Self.format(step: d.step, call: d.call + " failed: \(errnoName(message.errno))", why: "skipped: " + d.why))
        } else {
            sink(Self.format(step: d.step, call: d.call, why: d.why))
        }
    }
}

/// Words for a child step: its trace line, and the error a user reads when it fails.
package struct StepDescription: Sendable {
    package var step: String
    package var call: String
    package var why: String
    /// "mount proc on /proc" — prefixed to the errno text on failure.
    package var failure: String
    package var hint: String?
    /// The file the step worked on, where it had one: a failure's `NookError.Kind` carries it.
    package var path: String?
    /// A mask or read-only path the rootfs does not have: the lookup that
    /// found nothing, and why that is fine.
    package var absent: (call: String, why: String)?

    static func quote(_ s: String) -> String { "\"\(s)\"" }

    /// A mount target as the kernel got it. The child opened it beneath the
    /// rootfs (openat2 RESOLVE_IN_ROOT) and hands the kernel that fd, as
    /// "/proc/self/fd/N" where a call takes a path: a symlink swapped in
    /// later cannot redirect the mount (CVE-2021-30465).
    static func targetPath(_ op: MountOp, _ m: ChildMessage) -> String {
        m.mountTargetFD.map { "\(quote("/proc/self/fd/\($0)")) -> \(quote(op.target))" } ?? quote(op.target)
    }

    /// The same, where a call takes the fd itself (move_mount, open_tree).
    static func targetFD(_ op: MountOp, _ m: ChildMessage) -> String {
        (m.mountTargetFD.map { "fd \($0) = " } ?? "") + "\(quote(op.target)) resolved in root"
    }

    static func byFD(_ m: ChildMessage) -> String {
        m.mountTargetFD.map { "; the target is fd \($0), opened inside the rootfs, not a path the container could swap (CVE-2021-30465)" } ?? ""
    }

    package init(_ m: ChildMessage, plan: LaunchPlan) {
        (hint, path) = (nil, nil)
        switch m.step {
        case .none: (step, call, why, failure) = ("?", "?", "?", "setup")
        case .waitMaps: (step, call, why, failure) = ("sync", "read(sync socket)", "the parent wrote the id maps: we are root in our user namespace", "waiting for the id maps")
        case .cgroupNamespace: (step, call, why, failure) = ("cgroupns", "unshare(CLONE_NEWCGROUP)",
                                                             plan.hasOwnCgroup ? "a cgroup namespace: the container sees its own cgroup as /"
                                                             : "a cgroup namespace, rooted at nook's own cgroup (the container has none of its own): it sees that as /",
                                                             "unshare cgroup namespace")
        case .mountPrivate: (step, call, why, failure) = ("mount", "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE)", "nothing mounted in the container propagates to the host", "make / private")
        case .overlayRootfs:
            let overlay = plan.rootOverlay
            (step, call, failure) = ("overlay", "mount(\"overlay\", \(Self.quote(plan.rootfs)), \"overlay\", \(Self.quote(overlay?.options ?? "?"))) in \(Self.quote(overlay?.directory ?? "?"))",
                                     "mount the image's overlay at '\(plan.rootfs)'")
            why = overlay?.readOnly == true ? "the image's layers, read-only (no writable layer: --read-only)"
                : "the image's layers, read-only, under this container's own writable layer (upperdir): its changes stay there"
                + (overlay?.volatile == true ? "; volatile: the layer goes when the container stops, so the host filesystem is not synced when it is unmounted (a crash would leave it unusable)" : "")
            if overlay != nil { hint = "this kernel may not allow overlayfs in a user namespace: run an exported rootfs with --rootfs" }
        case .bindRootfs: (step, call, why, failure) = ("mount", "mount(\(Self.quote(plan.rootfs)), \(Self.quote(plan.rootfs)), MS_BIND|MS_REC)", "pivot_root needs the new root to be a mount point", "bind rootfs '\(plan.rootfs)' onto itself")
        case .mount:
            let i = Int(m.index)
            guard i >= 0 && i < plan.mounts.count else { (step, call, why, failure) = ("mount", "?", "?", "mount"); return }
            let op = plan.mounts[i]
            why = op.why
            path = op.target
            step = "mount"
            switch op.kind {
            case .filesystem:
                call = "mount(\(Self.quote(op.source)), \(Self.targetPath(op, m)), \(Self.quote(op.fstype)), \(MountOptions.describe(flags: op.flags)), \(Self.quote(op.data)))"
                why += Self.byFD(m)
                failure = "mount \(op.fstype) on \(op.target)"
                if op.fstype == "proc" && m.errno == EPERM {
                    hint = "the kernel allows a new /proc in a user namespace only if the host's /proc is fully visible (not over-mounted)"
                }
            case .bind:
                call = "open_tree(\(Self.quote(op.source)), OPEN_TREE_CLONE\(op.recursive ? "|AT_RECURSIVE" : ""))\(op.sourceFD >= 0 ? " by nook before the clone" : "") + mount_setattr(\(MountOptions.describe(attrs: op.attrs))) + move_mount(-> \(Self.targetFD(op, m)))"
                failure = "bind mount \(op.source) on \(op.target)"
            case .symlink:
                call = "symlinkat(\(Self.quote(op.source)), \(Self.quote(op.target)))"
                failure = "symlink \(op.target) -> \(op.source)"
            case .mask:
                step = "mask"
                if m.mountTargetFD == nil {
                    call = "mount an empty read-only \(op.fstype) over a directory, \(op.source) over a file: \(Self.quote(op.target))"
                } else if m.maskedWithTmpfs {
                    call = "mount(\(Self.quote(op.fstype)), \(Self.targetPath(op, m)), \(Self.quote(op.fstype)), \(MountOptions.describe(flags: op.flags)), \(Self.quote(op.data)))"
                    why += " (a directory: an empty read-only \(op.fstype) over it)"
                } else {
                    call = "open_tree(\(Self.quote(op.source)), OPEN_TREE_CLONE) + mount_setattr(\(MountOptions.describe(attrs: op.attrs))) + move_mount(-> \(Self.targetFD(op, m)))"
                    why += " (a file: the host's \(op.source) over it)"
                }
                failure = "mask \(op.target)"
                absent = ("openat2(\(Self.quote(op.target)), RESOLVE_IN_ROOT) = ENOENT", "not present in the container, so there is nothing to hide")
            case .sysctl:
                step = "sysctl"
                call = "write(\(Self.quote(op.target)), \(Self.quote(op.data)))"
                failure = "set \(op.why)"
            case .readonly:
                step = "readonly"
                call = "open_tree(\(Self.targetFD(op, m)), OPEN_TREE_CLONE|AT_RECURSIVE) + mount_setattr(\(MountOptions.describe(attrs: op.attrs | UInt64(MOUNT_ATTR_RDONLY)))) + move_mount onto itself"
                failure = "make \(op.target) read-only"
                absent = ("openat2(\(Self.quote(op.target)), RESOLVE_IN_ROOT) = ENOENT", "not present in the container, so there is nothing to make read-only")
            }
        case .readonlyRoot: (step, call, why, failure) = ("readonly", "mount_setattr(\(Self.quote(plan.rootfs)), MOUNT_ATTR_RDONLY)", "--read-only: the root filesystem cannot be changed", "make the rootfs read-only")
        case .pivotRoot: (step, call, why, failure) = ("pivot_root", "fchdir(rootfs fd); pivot_root(\".\", \".\")", "the rootfs becomes /", "pivot_root into '\(plan.rootfs)'")
        case .detachOldRoot: (step, call, why, failure) = ("pivot_root", "umount2(\".\", MNT_DETACH)", "detach the old root: no path leads back to the host's files", "detach the old root")
        case .rootPropagation: (step, call, why, failure) = ("pivot_root", "mount(NULL, \"/\", NULL, \(RootPropagation.name(plan.rootPropagation)), NULL)",
                                                             "linux.rootfsPropagation: \(plan.spec.linux?.rootfsPropagation ?? "")", "set the propagation of /")
        case .subreaper: (step, call, why, failure) = ("pid", "prctl(PR_SET_CHILD_SUBREAPER, 1)",
                                                       "no PID namespace of its own: the init adopts what its descendants orphan", "become a child subreaper")
        case .hostname: (step, call, why, failure) = ("hostname", "sethostname(\(Self.quote(plan.hostname ?? "")))", "the UTS namespace has its own hostname", "set hostname")
        case .loopback:
            let helper = plan.networkHelper
            (step, call, why, failure) = ("network", "ioctl(SIOCSIFFLAGS, lo, IFF_UP)",
                                          helper ? "lo starts down in a new network namespace (the helper set up the rest); bring it up"
                                                 : "the new network namespace has only lo; bring it up", "bring up lo")
        case .chdir: (step, call, why, failure) = ("chdir", "openat2(\(Self.quote(plan.cwd)), RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) + fchdir",
                                                   "the working directory, looked up inside the container without magic links (CVE-2024-21626)",
                                                   "chdir to working directory '\(plan.cwd)'")
            path = plan.cwd
            if m.errno == ENOENT { hint = "the directory does not exist in the rootfs; create it or mount something there" }
        case .rlimit:
            let i = Int(m.index)
            let r = i >= 0 && i < plan.rlimits.count ? plan.rlimits[i] : nil
            (step, call, why, failure) = ("rlimit", "setrlimit(\(r?.name ?? "?"), \(r?.soft ?? 0), \(r?.hard ?? 0))", "resource limit of the process", "setrlimit \(r?.name ?? "")")
        case .setgroups: (step, call, why, failure) = ("identity", "setgroups(\(plan.additionalGids))", "supplementary groups", "setgroups")
        case .setgid: (step, call, why, failure) = ("identity", "setresgid(\(plan.gid), \(plan.gid), \(plan.gid))", "the container process's group", "setresgid \(plan.gid)")
        case .setuid: (step, call, why, failure) = ("identity", "setresuid(\(plan.uid), \(plan.uid), \(plan.uid))", "the container process's user", "setresuid \(plan.uid)")
        case .capabilities:
            let eff = plan.capabilities.map { Capability.names(in: $0.effective).map { String($0.dropFirst(4)) }.joined(separator: ",") } ?? ""
            (step, call, why, failure) = ("capabilities", "prctl(PR_CAPBSET_DROP...) + capset(effective=\(eff.isEmpty ? "none" : eff))", "keep only the capabilities the process needs", "set capabilities")
            if let left = plan.capabilities?.unraisableAmbient, left != 0 {
                why += "; ambient \(Capability.names(in: left).map { String($0.dropFirst(4)) }.joined(separator: ",")) left out: not both permitted and inheritable, so the kernel cannot raise them"
            }
        case .noNewPrivs: (step, call, why, failure) = ("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS, 1)", "setuid binaries and file capabilities grant nothing from here on", "set no_new_privs")
        case .seccomp: (step, call, why, failure) = ("seccomp", "seccomp(SECCOMP_SET_MODE_FILTER, \(plan.seccompFilter.count / 8) instructions)", "system call filter: \(plan.seccompDescription)", "load the seccomp filter")
        case .closeFDs: (step, call, why, failure) = ("fds", "close_range(\(3 + plan.preserveFDs), ~0, CLOSE_RANGE_CLOEXEC)", "no host file descriptor reaches the container (CVE-2024-21626)", "mark fds close-on-exec")
        case .console: (step, call, why, failure) = ("console", "open(\"/dev/ptmx\") + ioctl(TIOCSWINSZ) + ioctl(TIOCGPTPEER) + sendmsg(SCM_RIGHTS)", "a pty of the container's own devpts, sized before the command starts; its master goes to nook, which relays it to your terminal", "set up the console")
        case .waitStart: (step, call, why, failure) = ("start", "execveat(memfd:nook-wait) + read(exec.fifo)",
                                                       "wait until `nook start` as a small program of its own, non-dumpable: nothing in the container can read or write nook's memory through PID 1",
                                                       "wait for start")
            // Without no_new_privs the filter is loaded before the waiter (as runc
            // does), so the waiter's own few calls go through it too.
            if m.errno == EPERM || m.errno == EACCES, !plan.seccompFilter.isEmpty, !plan.noNewPrivileges {
                hint = "without process.noNewPrivileges the seccomp filter is loaded before the start waiter, and it denies one of the calls the waiter makes (execveat, read, prctl, sendto, fcntl, mmap): allow them in the profile, or set noNewPrivileges"
            }
        case .initFork: (step, call, why, failure) = ("init", "fork()", "a minimal init as PID 1 reaps zombies and forwards signals", "fork the command under init")
        case .setns:
            let i = Int(m.index)
            let joins = plan.joinOrder
            let entry = i >= 0 && i < joins.count ? joins[i] : nil
            (step, call, why, failure) = ("setns", "setns(open(\(Self.quote(entry?.1 ?? "?"))), \(entry?.0.cloneFlagName ?? "?"))",
                                          "enter the \(entry?.0.rawValue ?? "") namespace given by path", "enter namespace \(entry?.1 ?? "")")
        case .fork where plan.joinExisting:
            (step, call, why, failure) = ("fork", "clone3(CLONE_PARENT)" + (m.value > 0 ? " = pid \(m.value)" : ""),
                                          "the process to run: setns(CLONE_NEWPID) moves only children made after it; CLONE_PARENT makes it nook's child, which nook waits for (by a pidfd), and the helper exits",
                                          "fork into the container")
        case .fork: (step, call, why, failure) = ("pidns", "clone3(CLONE_PARENT)", "setns(CLONE_NEWPID) moves only children: the container's process is forked into the joined PID namespace", "fork into the PID namespace given by path")
        case .exec:
            let i = Int(m.index)
            let path = i >= 0 && i < plan.execCandidates.count ? plan.execCandidates[i] : (plan.argv.first ?? "?")
            let args = plan.argv.map { Self.quote($0) }.joined(separator: ", ")
            (step, call, why, failure) = ("exec", "execve(\(Self.quote(path)), [\(args)])", "the container's command replaces the setup code", "exec '\(plan.argv.first ?? "")'")
            self.path = path
            if plan.execFD >= 0 {
                // A createContainer hook: a host file, entered by fd.
                (call, why, failure) = ("execveat(\(plan.execFD) = \(Self.quote(path)) on the host, \"\", [\(args)], AT_EMPTY_PATH)",
                                        "a program whose path resolves on the host runs in the container's namespaces", "exec '\(path)' (opened on the host)")
                if plan.keepExecFD { why += "; a #! script: fd \(plan.execFD) stays open for its interpreter (/dev/fd/\(plan.execFD)), found in the container's root" }
                if m.errno == ENOENT {
                    hint = "the file is on the host; what is missing is in the container's root, where a #! interpreter and an ELF loader (a dynamically linked program's) are looked up"
                } else if m.errno == EACCES {
                    hint = "the file is not executable, or sits on a noexec mount"
                }
            } else if i < 0 && m.errno == ENOENT {
                failure = "exec '\(plan.argv.first ?? "")': not found in the container"
                hint = plan.argv.first?.contains("/") == true ? "no such file in the rootfs" : "looked in PATH=\(plan.env.last(where: { $0.hasPrefix("PATH=") })?.dropFirst(5) ?? "")"
            } else if m.errno == EACCES {
                hint = "the file is not executable, or a directory on its path is not searchable"
            }
        }
        // Maps that leave the caller out: the setup runs as a sub-id, which
        // reaches host paths (rootfs, bind sources) as "other".
        if hint == nil, m.errno == EACCES, plan.setupIDs != nil, !plan.joinExisting,
           let root = plan.identity.uidMappings.first(where: { $0.containerID == 0 }) {
            hint = "the container's root is host uid \(root.hostID), not you (the uid map leaves your ids out): it needs search permission on every directory of the path, like any other user"
        }
    }
}
