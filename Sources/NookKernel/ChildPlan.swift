import CShims

/// What the child does between clone and execve, as plain data decided in
/// Swift (`LaunchPlan.make`): `ChildLauncher` copies it into `struct nook_launch`
/// and the C shim follows it without deciding anything.
package struct ChildPlan: Sendable {
    package var rootfs: String = ""
    /// The root is an overlay mounted at `rootfs` (an image's layers), not a bind of it.
    package var rootOverlay: OverlayMount?
    package var namespaces: [NamespaceKind] = []
    /// Namespaces to join by path (OCI `linux.namespaces[].path`).
    package var joinNamespaces: [NamespaceKind: String] = [:]
    package var mounts: [MountOp] = []
    package var readonlyRootfs = false
    /// `linux.rootfsPropagation` as mount(2) flags; 0: / stays private.
    package var rootPropagation: UInt = 0
    package var hostname: String?
    package var loopbackUp = false
    package var cwd: String = "/"
    package var argv: [String] = []
    package var env: [String] = []
    package var execCandidates: [String] = []
    /// An fd of the program, opened on the host before the helper enters the
    /// container (a createContainer hook, whose path resolves in the runtime
    /// namespace): the child execs it with `execveat(fd, "", AT_EMPTY_PATH)`
    /// instead of looking `execCandidates` up. -1: none. The caller closes it.
    package var execFD: Int32 = -1
    /// Keep `execFD` open across the exec: a `#!` script's interpreter (which
    /// resolves in the container) reads the script as /dev/fd/N.
    package var keepExecFD = false
    package var uid: UInt32 = 0
    package var gid: UInt32 = 0
    package var additionalGids: [UInt32] = []
    /// Ids the child takes right after its maps are written, when the caller's
    /// own ids are not mapped (real root mapped to a sub-range); nil otherwise.
    package var setupIDs: (uid: UInt32, gid: UInt32)?
    /// setgroups(2) is allowed in the user namespace (not a single-id map).
    package var setgroupsAllowed = false
    package var capabilities: CapabilitySets?
    package var noNewPrivileges = false
    package var rlimits: [ResourceLimit] = []
    /// `--init`: PID 1 is a small reaper and the command its child.
    package var initProcess = false
    package var preserveFDs: Int32 = 0
    /// The compiled seccomp program (struct sock_filter[]); empty: none.
    package var seccompFilter: [UInt8] = []
    /// The container dies with the nook that started it (foreground run), or
    /// outlives it (OCI create: the caller supervises).
    package var pdeathsig = true
    /// Build a root filesystem (a new container) or enter an existing one (`exec`).
    package var setupRootfs = true
    /// `exec`: spawn through a helper that enters `joinNamespaces` and forks.
    package var joinExisting = false
    /// A new session even without a pty (foreground `nook run`: the container
    /// must not reach the caller's terminal through /dev/tty).
    package var newSession = false

    package init() {}

    /// A new container that joins a PID namespace by path: its process is
    /// forked after the setns (see `Supervisor.followIntoPIDNamespace`).
    package var forksIntoJoinedPIDNamespace: Bool { !joinExisting && joinNamespaces[.pid] != nil }

    /// clone3 flags for the namespaces created at clone time. The cgroup
    /// namespace is unshared later, once the child sits in its own cgroup.
    package var cloneFlags: UInt {
        var flags: UInt = 0
        for ns in namespaces where ns != .cgroup { flags |= ns.cloneFlag }
        return flags
    }

    package var unshareCgroupNamespace: Bool { namespaces.contains(.cgroup) }

    /// Where the child loads the seccomp filter (and marks fds close-on-exec).
    package var seccompPosition: ChildSteps.SeccompPosition {
        ChildSteps.seccompPosition(noNewPrivileges: noNewPrivileges)
    }

    /// Without a PID namespace of its own, the container's init is made a child
    /// subreaper: what its descendants orphan is reparented to it, as to a PID 1,
    /// not to a process outside, so it stays provably the container's (its
    /// descendant: see `ContainerProcesses`) and dies with `nook kill ID KILL`.
    package var initAdoptsOrphans: Bool { !joinExisting && !namespaces.contains(.pid) }

    /// The child's /proc/PID/cmdline while it is nook's code in the container
    /// (until execve; for ever as --init's PID 1), instead of nook's own.
    package var processTitle: String { initProcess ? "nook-init" : "nook" }

    /// Order in which namespaces are entered with setns.
    package var joinOrder: [(NamespaceKind, String)] {
        let order: [NamespaceKind] = [.user, .cgroup, .ipc, .uts, .network, .pid, .mount]
        return order.compactMap { ns in joinNamespaces[ns].map { (ns, $0) } }
    }
}
