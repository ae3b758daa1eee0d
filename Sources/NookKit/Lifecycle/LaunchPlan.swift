import CShims
import Glibc

/// Everything the child needs, resolved in Swift before clone(): absolute
/// paths, id maps, the mount list, capability masks, rlimits, env and argv.
/// `ChildLauncher` copies it into `struct nook_launch` without deciding anything.
public struct LaunchPlan: Sendable {
    public var containerID: String
    public var spec: Spec
    public var bundle: String
    public var rootfs: String
    public var namespaces: [NamespaceKind]
    /// Namespaces to join by path (OCI `linux.namespaces[].path`).
    public var joinNamespaces: [NamespaceKind: String]
    public var mounts: [MountOp]
    public var readonlyRootfs: Bool
    /// `linux.rootfsPropagation` as mount(2) flags; 0: / stays private.
    public var rootPropagation: UInt = 0
    public var hostname: String?
    public var loopbackUp: Bool
    public var cwd: String
    public var argv: [String]
    public var env: [String]
    public var execCandidates: [String]
    /// An fd of the program, opened on the host before the helper enters the
    /// container (a createContainer hook, whose path resolves in the runtime
    /// namespace): the child execs it with `execveat(fd, "", AT_EMPTY_PATH)`
    /// instead of looking `execCandidates` up. -1: none. The caller closes it.
    public var execFD: Int32 = -1
    /// Keep `execFD` open across the exec: a `#!` script's interpreter (which
    /// resolves in the container) reads the script as /dev/fd/N.
    public var keepExecFD = false
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGids: [UInt32]
    public var identity: IDMapping
    public var capabilities: CapabilitySets?
    public var noNewPrivileges: Bool
    public var rlimits: [ResourceLimit]
    public var terminal: Bool
    public var initProcess: Bool = false
    public var preserveFDs: Int32 = 0
    public var seccompFilter: [UInt8] = []
    public var seccompDescription: String = "none"
    /// `process.oomScoreAdj`, written by the parent before the child goes on.
    public var oomScoreAdj: Int? = nil
    /// The container dies with the nook that started it (foreground run), or
    /// outlives it (OCI create: the caller supervises).
    public var pdeathsig = true
    /// Build a root filesystem (a new container) or enter an existing one (`exec`).
    public var setupRootfs = true
    /// `exec`: spawn through a helper that enters `joinNamespaces` and forks.
    public var joinExisting = false
    /// The container starts in a cgroup of its own (for --trace's wording).
    public var hasOwnCgroup = true
    /// A new session even without a pty (foreground `nook run`: the container
    /// must not reach the caller's terminal through /dev/tty).
    public var newSession = false

    /// Ids the child takes right after its maps are written, when the caller's
    /// own ids are not mapped (real root mapped to a sub-range); nil otherwise.
    public var setupIDs: (uid: UInt32, gid: UInt32)? {
        guard identity.writer != .none else { return nil }
        let uidMapped = identity.uidMappings.contains { $0.hostID <= getuid() && UInt64(getuid()) < UInt64($0.hostID) + UInt64($0.size) }
        let gidMapped = identity.gidMappings.contains { $0.hostID <= getgid() && UInt64(getgid()) < UInt64($0.hostID) + UInt64($0.size) }
        return uidMapped && gidMapped ? nil : (0, 0)
    }

    /// Nook clones each bind's source before the clone (`MountPlanner.openBindSources`)
    /// when real root is mapped to a sub-range: the container's root could not
    /// open root-only paths, and nook, root, may clone mounts. A caller who is
    /// not root cannot (open_tree's clone needs CAP_SYS_ADMIN over its mount
    /// namespace): when its own ids are left out of the maps, the child opens the
    /// sources itself, as the container's root, as crun does.
    public var opensBindSourcesFirst: Bool { setupIDs != nil && geteuid() == 0 }

    /// A new container that joins a PID namespace by path: its process is
    /// forked after the setns (see `Supervisor.followIntoPIDNamespace`).
    public var forksIntoJoinedPIDNamespace: Bool { !joinExisting && joinNamespaces[.pid] != nil }

    /// clone3 flags for the namespaces created at clone time. The cgroup
    /// namespace is unshared later, once the child sits in its own cgroup.
    public var cloneFlags: UInt {
        var flags: UInt = 0
        for ns in namespaces where ns != .cgroup { flags |= ns.cloneFlag }
        return flags
    }

    public var unshareCgroupNamespace: Bool { namespaces.contains(.cgroup) }

    /// Without a PID namespace of its own, the container's init is made a child
    /// subreaper: what its descendants orphan is reparented to it, as to a PID 1,
    /// not to a process outside, so it stays provably the container's (its
    /// descendant: see `ContainerProcesses`) and dies with `nook kill ID KILL`.
    public var initAdoptsOrphans: Bool { !joinExisting && !namespaces.contains(.pid) }

    /// The child's /proc/PID/cmdline while it is nook's code in the container
    /// (until execve; for ever as --init's PID 1), instead of nook's own.
    public var processTitle: String { initProcess ? "nook-init" : "nook" }

    /// Builds the plan from a spec. `identity` was chosen by the caller (see IDMapping).
    public static func make(spec: Spec, containerID: String, bundle: String, identity: IDMapping) throws -> LaunchPlan {
        guard let process = spec.process else {
            throw NookError("config.json has no \"process\"", hint: "the process to run is required")
        }
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw NookError("no command to run: process.args is empty")
        }
        guard let root = spec.root else { throw NookError("config.json has no \"root\"") }
        try SpecBounds.check(spec)
        let rootfs = root.path.hasPrefix("/") ? root.path : bundle + "/" + root.path
        var st = stat()
        if stat(rootfs, &st) != 0 {
            throw NookError("rootfs '\(rootfs)' does not exist",
                            hint: "make one with: nook rootfs busybox \(rootfs)")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw NookError("rootfs '\(rootfs)' is not a directory",
                            hint: "--rootfs takes an unpacked root filesystem directory, not an image file")
        }
        guard process.cwd.hasPrefix("/") else {
            throw NookError("process.cwd '\(process.cwd)' must be an absolute path")
        }

        var namespaces: [NamespaceKind] = []
        var joins: [NamespaceKind: String] = [:]
        for ns in spec.linux?.namespaces ?? [] {
            guard let kind = NamespaceKind(ociName: ns.type) else {
                throw NookError("unknown namespace type '\(ns.type)' in linux.namespaces",
                                hint: "types are user, mount, pid, network, uts, ipc, cgroup")
            }
            if let path = ns.path {
                try NamespacePath.check(path, type: ns.type)
                joins[kind] = path
            } else {
                namespaces.append(kind)
            }
        }
        if joins[.user] != nil {
            throw NookError("joining a user namespace by path is not supported", hint: "leave the user namespace to Nook, or run nook inside it")
        }
        if identity.writer == .none {
            namespaces.removeAll { $0 == .user }
        } else if !namespaces.contains(.user) {
            throw NookError("linux.namespaces has no user namespace",
                            hint: "a rootless container needs one; add {\"type\": \"user\"}")
        }
        if joins[.pid] != nil && namespaces.contains(.user) {
            // setns(CLONE_NEWPID) needs CAP_SYS_ADMIN over the user namespace that
            // owns the PID namespace, and a user namespace made now owns nothing.
            throw NookError("linux.namespaces joins a PID namespace by path but creates a user namespace: the new user namespace has no privilege over the PID namespace, so the kernel refuses the join",
                            hint: "run nook inside the user namespace that owns that PID namespace, with no user namespace in config.json (as podman does)")
        }
        guard namespaces.contains(.mount) else {
            throw NookError("linux.namespaces has no mount namespace", hint: "add {\"type\": \"mount\"}")
        }

        let user = process.user
        guard IDMapping.maps(user.uid, in: identity.uidMappings) else {
            throw NookError("user \(user.uid) has no mapping in this container's user namespace",
                            hint: "only ids in the uid map exist inside; \(identity.reason)")
        }
        guard IDMapping.maps(user.gid, in: identity.gidMappings) else {
            throw NookError("group \(user.gid) has no mapping in this container's user namespace")
        }
        try checkGroupsSettable(user, setgroupsAllowed: identity.setgroupsAllowed)
        let env = process.env ?? []
        var seccompFilter: [UInt8] = []
        var seccompDescription = "none"
        if let seccomp = spec.linux?.seccomp {
            let profile = try SeccompProfile(oci: seccomp, name: "linux.seccomp")
            seccompFilter = try SeccompCache.compile(profile)
            seccompDescription = "\(Set(profile.rules.flatMap(\.names)).count) system calls in \(profile.rules.count) rules, default \(seccomp.defaultAction)"
        }
        var mounts = try MountPlanner.plan(spec: spec, newNetworkNamespace: namespaces.contains(.network) || joins[.network] != nil,
                                           newCgroupNamespace: namespaces.contains(.cgroup),
                                           gidMappings: identity.gidMappings)
        try MountPlanner.addSysctls(spec.linux?.sysctl ?? [:], to: &mounts)
        LockedMountFlags.keep(in: &mounts, newUserNamespace: namespaces.contains(.user))
        return LaunchPlan(
            containerID: containerID, spec: spec, bundle: bundle, rootfs: rootfs, namespaces: namespaces,
            joinNamespaces: joins, mounts: mounts, readonlyRootfs: root.readonly ?? false,
            rootPropagation: try RootPropagation.flags(spec.linux?.rootfsPropagation),
            hostname: namespaces.contains(.uts) ? spec.hostname : nil,
            loopbackUp: namespaces.contains(.network),
            cwd: process.cwd, argv: args, env: env,
            execCandidates: execCandidates(for: first, env: env),
            uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [],
            identity: identity,
            capabilities: try process.capabilities.map(CapabilitySets.init),
            noNewPrivileges: process.noNewPrivileges ?? false,
            rlimits: try (process.rlimits ?? []).map(ResourceLimit.init),
            terminal: process.terminal ?? false,
            seccompFilter: seccompFilter, seccompDescription: seccompDescription,
            oomScoreAdj: try checkedOOMScoreAdj(process.oomScoreAdj)
        )
    }

    /// A plan for `exec`: a new process in the namespaces of the container whose
    /// init is `pid`, with the container's identity rules but its own process spec.
    public static func forExec(containerSpec: Spec, process: Spec.Process, containerID: String, pid: Int32) throws -> LaunchPlan {
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw NookError("no command to run in the container")
        }
        guard process.cwd.hasPrefix("/") else { throw NookError("working directory '\(process.cwd)' must be absolute") }
        // Enter each namespace the container has and we do not share; user first,
        // so the others are entered with the capabilities it grants, mount last.
        let order: [NamespaceKind] = [.user, .cgroup, .ipc, .uts, .network, .pid, .mount]
        var joins: [NamespaceKind: String] = [:]
        for ns in order {
            let theirs = "/proc/\(pid)/ns/\(ns.procName)"
            let ours = "/proc/self/ns/\(ns.procName)"
            var a = stat(), b = stat()
            guard stat(theirs, &a) == 0 else { throw NookError.sys("stat '\(theirs)'", errno: errno, hint: "is the container still running?") }
            if stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev { continue }
            joins[ns] = theirs
        }
        // A single-id user namespace denies setgroups(2) for good (`run` wrote
        // "deny" before its gid map): the new process keeps the groups it has
        // there, and asking for others cannot be honoured.
        let setgroupsAllowed = (try? HostPath.readText("/proc/\(pid)/setgroups"))?.hasPrefix("deny") != true
        try checkGroupsSettable(process.user, setgroupsAllowed: setgroupsAllowed)
        let identity = IDMapping(uidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                                 gidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                                 setgroupsAllowed: setgroupsAllowed, writer: .none,
                                 reason: "exec joins the container's user namespace: its maps are already written")
        var seccompFilter: [UInt8] = []
        var seccompDescription = "none"
        if let seccomp = containerSpec.linux?.seccomp {
            let profile = try SeccompProfile(oci: seccomp, name: "linux.seccomp")
            seccompFilter = try SeccompCache.compile(profile)
            seccompDescription = "the container's filter"
        }
        let env = process.env ?? []
        var plan = LaunchPlan(
            containerID: containerID, spec: containerSpec, bundle: "", rootfs: "", namespaces: [],
            joinNamespaces: joins, mounts: [], readonlyRootfs: false, hostname: nil, loopbackUp: false,
            cwd: process.cwd, argv: args, env: env, execCandidates: execCandidates(for: first, env: env),
            uid: process.user.uid, gid: process.user.gid, additionalGids: process.user.additionalGids ?? [],
            identity: identity, capabilities: try process.capabilities.map(CapabilitySets.init),
            noNewPrivileges: process.noNewPrivileges ?? false,
            rlimits: try (process.rlimits ?? []).map(ResourceLimit.init), terminal: process.terminal ?? false,
            seccompFilter: seccompFilter, seccompDescription: seccompDescription,
            oomScoreAdj: try checkedOOMScoreAdj(process.oomScoreAdj))
        plan.setupRootfs = false
        plan.joinExisting = true
        return plan
    }

    /// Where setgroups(2) is denied (a single-id user namespace), the process
    /// keeps the groups it has; asking for a group besides its primary one
    /// cannot be honoured, and is refused rather than dropped in silence.
    static func checkGroupsSettable(_ user: Spec.User, setgroupsAllowed: Bool) throws {
        guard !setgroupsAllowed else { return }
        let extra = (user.additionalGids ?? []).filter { $0 != user.gid }
        guard !extra.isEmpty else { return }
        throw NookError("process.user.additionalGids \(extra): this container's user namespace denies setgroups (a single-id mapping), so no supplementary group can be set",
                        hint: "leave the groups out, or give the user a sub-id range (/etc/subuid, /etc/subgid) so that containers map more than one id")
    }

    /// Order in which namespaces are entered with setns.
    public var joinOrder: [(NamespaceKind, String)] {
        let order: [NamespaceKind] = [.user, .cgroup, .ipc, .uts, .network, .pid, .mount]
        return order.compactMap { ns in joinNamespaces[ns].map { (ns, $0) } }
    }

    /// Where execve will look for argv[0], decided here from the container's
    /// PATH so the child only tries paths in order (no string work after clone).
    /// The kernel's range for /proc/PID/oom_score_adj, checked before the clone.
    static func checkedOOMScoreAdj(_ value: Int?) throws -> Int? {
        guard let value, !(-1000...1000).contains(value) else { return value }
        throw NookError("field 'process.oomScoreAdj' is \(value): the kernel takes -1000 to 1000")
    }

    public static func execCandidates(for command: String, env: [String]) -> [String] {
        if command.contains("/") { return [command] }
        let pathValue = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? SpecDefaults.path
        return pathValue.split(separator: ":").map { dir in
            dir.hasSuffix("/") ? "\(dir)\(command)" : "\(dir)/\(command)"
        }
    }
}

public enum NamespaceKind: String, Sendable, CaseIterable, Hashable {
    case user, mount, pid, network, uts, ipc, cgroup

    public init?(ociName: String) { self.init(rawValue: ociName) }
    public var ociName: String { rawValue }

    public var cloneFlag: UInt {
        switch self {
        case .user: UInt(NOOK_CLONE_NEWUSER)
        case .mount: UInt(NOOK_CLONE_NEWNS)
        case .pid: UInt(NOOK_CLONE_NEWPID)
        case .network: UInt(NOOK_CLONE_NEWNET)
        case .uts: UInt(NOOK_CLONE_NEWUTS)
        case .ipc: UInt(NOOK_CLONE_NEWIPC)
        case .cgroup: UInt(NOOK_CLONE_NEWCGROUP)
        }
    }

    public var cloneFlagName: String {
        switch self {
        case .user: "CLONE_NEWUSER"
        case .mount: "CLONE_NEWNS"
        case .pid: "CLONE_NEWPID"
        case .network: "CLONE_NEWNET"
        case .uts: "CLONE_NEWUTS"
        case .ipc: "CLONE_NEWIPC"
        case .cgroup: "CLONE_NEWCGROUP"
        }
    }

    /// The /proc/PID/ns entry.
    public var procName: String {
        switch self {
        case .mount: "mnt"
        case .network: "net"
        default: rawValue
        }
    }
}

/// One rlimit (`RLIMIT_NOFILE` etc.).
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    static let table: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    public init(_ r: Spec.Rlimit) throws {
        var name = r.type.uppercased()
        if !name.hasPrefix("RLIMIT_") { name = "RLIMIT_" + name }
        guard let n = Self.table[name] else {
            throw NookError("unknown rlimit '\(r.type)'", hint: "names look like RLIMIT_NOFILE; see setrlimit(2)")
        }
        guard r.soft <= r.hard else {
            throw NookError("rlimit \(name): soft limit \(r.soft) is above hard limit \(r.hard)")
        }
        resource = n
        self.name = name
        soft = r.soft
        hard = r.hard
    }
}
