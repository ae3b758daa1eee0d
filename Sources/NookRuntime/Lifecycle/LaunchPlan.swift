import Glibc
import NookCore
import SystemPackage
import NookKernel
import NookSpec

/// Everything the child needs, resolved in Swift before clone(): absolute
/// paths, id maps, the mount list, capability masks, rlimits, env and argv.
/// `ChildLauncher` copies it into `struct nook_launch` without deciding anything.
@dynamicMemberLookup
package struct LaunchPlan: Sendable {
    package var containerID: String
    package var spec: Spec
    package var bundle: String
    /// What the child does, handed to the kernel seam as plain data; its
    /// fields read as the plan's own (`plan.argv`).
    package var child: ChildPlan
    package var identity: IDMapping
    package var terminal: Bool
    package var seccompDescription: String = "none"
    /// `process.oomScoreAdj`, written by the parent before the child goes on.
    package var oomScoreAdj: Int? = nil
    /// The container starts in a cgroup of its own (for --trace's wording).
    package var hasOwnCgroup = true
    /// A network helper (pasta, slirp4netns) sets up the network namespace (for --trace's wording).
    package var networkHelper = false
    /// The root is fuse-overlayfs, mounted by the parent at `rootfs` before the
    /// child goes on (`Supervisor`); the child then binds it like a plain root.
    package var fuseOverlay: FuseOverlayMount? = nil

    package subscript<T>(dynamicMember field: WritableKeyPath<ChildPlan, T>) -> T {
        get { child[keyPath: field] }
        set { child[keyPath: field] = newValue }
    }

    package subscript<T>(dynamicMember field: KeyPath<ChildPlan, T>) -> T { child[keyPath: field] }

    /// The child's part, with the identity decisions that depend on the maps.
    package var childPlan: ChildPlan {
        var plan = child
        plan.setupIDs = setupIDs
        plan.setgroupsAllowed = identity.setgroupsAllowed
        return plan
    }

    /// Ids the child takes right after its maps are written, when the caller's
    /// own ids are not mapped (real root mapped to a sub-range); nil otherwise.
    package var setupIDs: (uid: UInt32, gid: UInt32)? {
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
    package var opensBindSourcesFirst: Bool { setupIDs != nil && geteuid() == 0 }

    /// Builds the plan from a spec. `identity` was chosen by the caller (see IDMapping).
    /// `ownCgroup`: the container's cgroup backend gives it a cgroup of its
    /// own; `network`: the run's `--network` and `-p` (nil: the spec decides);
    /// `parsed`: the spec's mounts, rlimits and capabilities, typed by `nook run --rootfs`
    /// (nil: parsed from the spec here).
    package static func make(spec: Spec, containerID: String, bundle: String, identity: IDMapping, ownCgroup: Bool = true,
                            network: NetworkSettings? = nil, parsed: ParsedSpec? = nil,
                            seccompCache: SeccompCache = SeccompCache()) throws -> LaunchPlan {
        guard let process = spec.process else {
            throw NookError("config.json has no \"process\"", hint: "the process to run is required", kind: .invalidInput)
        }
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw NookError("no command to run: process.args is empty", kind: .invalidInput)
        }
        guard let root = spec.root else { throw NookError("config.json has no \"root\"", kind: .invalidInput) }
        try SpecBounds.check(spec)
        let rootfs = root.path.hasPrefix("/") ? root.path : bundle + "/" + root.path
        var st = stat()
        if stat(rootfs, &st) != 0 {
            let err = errno
            // The root of `nook run IMAGE`'s container: its layer in the image store, which nothing makes again.
            if let layer = spec.annotations?[RootOverlay.ownedLayerAnnotation], root.path == layer + "/merged" {
                let what = access(layer, F_OK) == 0 ? "has no 'merged' directory" : "was removed: its files are gone"
                throw NookError("the container's writable layer '\(layer)' \(what)",
                                hint: "remove the container with: nook rm \(containerID), then run its image again",
                                kind: .systemCall(step: "stat rootfs '\(rootfs)'", path: rootfs, errno: Errno(rawValue: err)))
            }
            throw NookError("rootfs '\(rootfs)' does not exist",
                            hint: "make one with: nook rootfs busybox \(rootfs)",
                            kind: .systemCall(step: "stat rootfs '\(rootfs)'", path: rootfs, errno: Errno(rawValue: err)))
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw NookError("rootfs '\(rootfs)' is not a directory",
                            hint: "--rootfs takes an unpacked root filesystem directory, not an image file", kind: .invalidInput)
        }
        guard process.cwd.hasPrefix("/") else {
            throw NookError("process.cwd '\(process.cwd)' must be an absolute path", kind: .invalidInput)
        }

        var namespaces: [NamespaceKind] = []
        var joins: [NamespaceKind: String] = [:]
        for ns in spec.linux?.namespaces ?? [] {
            guard let kind = NamespaceKind(ociName: ns.type) else {
                throw NookError("unknown namespace type '\(ns.type)' in linux.namespaces",
                                hint: "types are user, mount, pid, network, uts, ipc, cgroup", kind: .invalidInput)
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
                            hint: "a rootless container needs one; add {\"type\": \"user\"}", kind: .invalidInput)
        }
        if joins[.pid] != nil && namespaces.contains(.user) {
            // setns(CLONE_NEWPID) needs CAP_SYS_ADMIN over the user namespace that
            // owns the PID namespace, and a user namespace made now owns nothing.
            throw NookError("linux.namespaces joins a PID namespace by path but creates a user namespace: the new user namespace has no privilege over the PID namespace, so the kernel refuses the join",
                            hint: "run nook inside the user namespace that owns that PID namespace, with no user namespace in config.json (as podman does)")
        }
        guard namespaces.contains(.mount) else {
            throw NookError("linux.namespaces has no mount namespace", hint: "add {\"type\": \"mount\"}", kind: .invalidInput)
        }

        let user = process.user
        guard IDMapping.maps(user.uid, in: identity.uidMappings) else {
            throw NookError("user \(user.uid) has no mapping in this container's user namespace",
                            hint: "only ids in the uid map exist inside; \(identity.reason)", kind: .invalidInput)
        }
        guard IDMapping.maps(user.gid, in: identity.gidMappings) else {
            throw NookError("group \(user.gid) has no mapping in this container's user namespace", kind: .invalidInput)
        }
        try checkGroupsSettable(user, setgroupsAllowed: identity.setgroupsAllowed)
        let env = process.env ?? []
        let parsed = try parsed ?? ParsedSpec(spec)
        let (seccompFilter, seccompDescription) = try compiledFilter(spec.linux?.seccomp, cache: seccompCache)
        // The root overlay is mounted at the rootfs, not inside it.
        let overlay = try RootOverlayPlan.find(in: spec)
        let rootOverlay = try overlay.flatMap { $0.fuseProgram == nil ? $0 : nil }.map(RootOverlayPlan.mount(for:))
        let fuseOverlay = overlay.flatMap { o in
            o.fuseProgram.map { RootOverlayPlan.fuseMount(for: o, program: $0, at: rootfs, serverUID: namespaces.contains(.user) ? 0 : geteuid()) }
        }
        var mounts = try MountPlanner.plan(spec: spec, mounts: parsed.mounts.filter { !RootOverlay.isRootOverlay(destination: $0.destination, type: $0.type) },
                                           newNetworkNamespace: namespaces.contains(.network) || joins[.network] != nil,
                                           newCgroupNamespace: namespaces.contains(.cgroup), gidMappings: identity.gidMappings,
                                           keepLockedFlags: LockedMountFlags.locked(newUserNamespace: namespaces.contains(.user)))
        try MountPlanner.addSysctls(spec.linux?.sysctl ?? [:], to: &mounts)
        var child = ChildPlan()
        child.rootfs = rootfs
        child.rootOverlay = rootOverlay
        child.namespaces = namespaces
        child.joinNamespaces = joins
        child.mounts = mounts
        child.readonlyRootfs = root.readonly ?? false
        child.rootPropagation = try RootPropagation.flags(spec.linux?.rootfsPropagation)
        child.hostname = namespaces.contains(.uts) ? spec.hostname : nil
        child.loopbackUp = namespaces.contains(.network)
        child.take(process, args: args, env: env, rlimits: parsed.rlimits, capabilities: parsed.capabilities)
        child.seccompFilter = seccompFilter
        var plan = LaunchPlan(containerID: containerID, spec: spec, bundle: bundle, child: child, identity: identity,
                              terminal: process.terminal ?? false, seccompDescription: seccompDescription,
                              oomScoreAdj: try checkedOOMScoreAdj(process.oomScoreAdj), hasOwnCgroup: ownCgroup,
                              networkHelper: network?.mode.usesHelper == true)
        plan.fuseOverlay = fuseOverlay
        return plan
    }

    /// A plan for `exec`: a new process in the namespaces of the container whose
    /// init is `pid`, with the container's identity rules but its own process spec.
    package static func forExec(containerSpec: Spec, process: Spec.Process, containerID: String, pid: Int32,
                               seccompCache: SeccompCache = SeccompCache()) throws -> LaunchPlan {
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw NookError("no command to run in the container", kind: .invalidInput)
        }
        guard process.cwd.hasPrefix("/") else { throw NookError("working directory '\(process.cwd)' must be absolute", kind: .invalidInput) }
        // Enter each namespace the container has and we do not share; user first,
        // so the others are entered with the capabilities it grants, mount last.
        let order: [NamespaceKind] = [.user, .cgroup, .ipc, .uts, .network, .pid, .mount]
        var joins: [NamespaceKind: String] = [:]
        for ns in order {
            let theirs = "/proc/\(pid)/ns/\(ns.procName)"
            let ours = "/proc/self/ns/\(ns.procName)"
            var a = stat(), b = stat()
            guard stat(theirs, &a) == 0 else { throw NookError.sys("stat '\(theirs)'", path: theirs, errno: errno, hint: "is the container still running?") }
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
        let (seccompFilter, _) = try compiledFilter(containerSpec.linux?.seccomp, cache: seccompCache)
        let seccompDescription = seccompFilter.isEmpty ? "none" : "the container's filter"
        let env = process.env ?? []
        var child = ChildPlan()
        child.joinNamespaces = joins
        child.setupRootfs = false
        child.joinExisting = true
        child.take(process, args: args, env: env, rlimits: try (process.rlimits ?? []).map(ResourceLimit.init),
                   capabilities: try process.capabilities.map(CapabilitySets.init))
        child.seccompFilter = seccompFilter
        return LaunchPlan(containerID: containerID, spec: containerSpec, bundle: "", child: child, identity: identity,
                          terminal: process.terminal ?? false, seccompDescription: seccompDescription,
                          oomScoreAdj: try checkedOOMScoreAdj(process.oomScoreAdj))
    }

    /// `linux.seccomp` compiled to BPF (from the cache when it was compiled
    /// before), with a line for --trace; none: an empty program.
    static func compiledFilter(_ seccomp: Spec.Seccomp?, cache: SeccompCache) throws -> (program: [UInt8], description: String) {
        guard let seccomp else { return ([], "none") }
        let profile = try SeccompProfile(oci: seccomp, name: "linux.seccomp")
        let names = Set(profile.rules.flatMap(\.names)).count
        return (try cache.compile(profile), "\(names) system calls in \(profile.rules.count) rules, default \(seccomp.defaultAction)")
    }

    /// Where setgroups(2) is denied (a single-id user namespace), the process
    /// keeps the groups it has; asking for a group besides its primary one
    /// cannot be honoured, and is refused rather than dropped in silence.
    static func checkGroupsSettable(_ user: Spec.User, setgroupsAllowed: Bool) throws {
        guard !setgroupsAllowed else { return }
        let extra = (user.additionalGids ?? []).filter { $0 != user.gid }
        guard !extra.isEmpty else { return }
        throw NookError("process.user.additionalGids \(extra): this container's user namespace denies setgroups (a single-id mapping), so no supplementary group can be set",
                        hint: "leave the groups out, or give the user a sub-id range (/etc/subuid, /etc/subgid) so that containers map more than one id", kind: .invalidInput)
    }

    /// Where execve will look for argv[0], decided here from the container's
    /// PATH so the child only tries paths in order (no string work after clone).
    /// The kernel's range for /proc/PID/oom_score_adj, checked before the clone.
    static func checkedOOMScoreAdj(_ value: Int?) throws -> Int? {
        guard let value, !(-1000...1000).contains(value) else { return value }
        throw NookError("field 'process.oomScoreAdj' is \(value): the kernel takes -1000 to 1000", kind: .invalidInput)
    }

    package static func execCandidates(for command: String, env: [String]) -> [String] {
        if command.contains("/") { return [command] }
        let pathValue = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? SpecDefaults.path
        return pathValue.split(separator: ":").map { dir in
            dir.hasSuffix("/") ? "\(dir)\(command)" : "\(dir)/\(command)"
        }
    }
}

extension ChildPlan {
    /// The process part, shared by a new container and `exec`: what to run, as whom, with what.
    mutating func take(_ process: Spec.Process, args: [String], env: [String], rlimits: [ResourceLimit],
                       capabilities: CapabilitySets?) {
        cwd = process.cwd
        argv = args
        self.env = env
        execCandidates = LaunchPlan.execCandidates(for: args[0], env: env)
        uid = process.user.uid
        gid = process.user.gid
        additionalGids = process.user.additionalGids ?? []
        self.capabilities = capabilities
        noNewPrivileges = process.noNewPrivileges ?? false
        self.rlimits = rlimits
    }
}
