import Glibc

/// Where cgroup v2 lives on this host and what the caller may do with it.
public struct CgroupEnvironment: Sendable, Equatable {
    /// The cgroup2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts.
    public var mount: String?
    /// cgroup v1 hierarchies are mounted too (memory, cpu, pids live there).
    public var hybrid: Bool
    /// Our own cgroup, from /proc/self/cgroup ("0::/user.slice/...").
    public var ownPath: String?

    public static func detect() -> CgroupEnvironment {
        var mount: String?
        var hybrid = false
        if let text = try? HostPath.readText("/proc/self/mountinfo") {
            for line in text.split(separator: "\n") {
                // id parent dev root mountpoint options [optional...] - fstype source options
                let fields = line.split(separator: " ")
                guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
                let fstype = fields[dash + 1]
                if fstype == "cgroup2" && mount == nil { mount = String(fields[4]) }
                if fstype == "cgroup" { hybrid = true }
            }
        }
        var own: String?
        if let text = try? HostPath.readText("/proc/self/cgroup") {
            for line in text.split(separator: "\n") where line.hasPrefix("0::") { own = String(line.dropFirst(3)) }
        }
        return CgroupEnvironment(mount: mount, hybrid: hybrid, ownPath: own)
    }

    /// The controllers a cgroup directory offers its children.
    public static func controllers(_ dir: String) -> Set<String> {
        guard let text = try? HostPath.readText(dir + "/cgroup.controllers") else { return [] }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    static func writable(_ path: String) -> Bool { access(path, W_OK) == 0 }
}

/// One cgroup per container, a leaf, created before the container runs and
/// removed after it. Placement, decided by what was delegated to us:
///  - next to our own cgroup (its parent is ours: systemd's Delegate=yes on a
///    unit we run in, or an administrator's chown), as `<parent>/nook-<id>`;
///  - otherwise below our own cgroup, if that one is ours: we first move
///    ourselves into `<own>/nook-supervisor`, because a cgroup with processes
///    cannot give controllers to children (the no-internal-processes rule).
public final class CgroupManager {
    public let environment: CgroupEnvironment
    public let tracer: Tracer

    public init(environment: CgroupEnvironment = .detect(), tracer: Tracer) {
        self.environment = environment
        self.tracer = tracer
    }

    /// Creates the container's cgroup and writes its limits. Returns nil when
    /// no limits were asked for and none can be had here (said under --trace).
    public func create(id: String, limits: CgroupLimits) throws -> ContainerCgroup? {
        guard let mount = environment.mount, let own = environment.ownPath else {
            if limits.isEmpty {
                tracer.emit("cgroup", "(none)", "no cgroup2 mount here: the container runs without resource limits")
                return nil
            }
            throw NookError("resource limits need cgroup v2, and this host has no cgroup2 mount",
                            hint: "boot with systemd.unified_cgroup_hierarchy=1, or run without limits")
        }
        let ownDir = mount + (own == "/" ? "" : own)
        let parentDir = ownDir == mount ? nil : String(ownDir[..<ownDir.lastIndex(of: "/")!])
        var base: String?
        if let parentDir, CgroupEnvironment.writable(parentDir), CgroupEnvironment.writable(parentDir + "/cgroup.procs") {
            base = parentDir
        } else if CgroupEnvironment.writable(ownDir), CgroupEnvironment.writable(ownDir + "/cgroup.procs"),
                  CgroupEnvironment.writable(ownDir + "/cgroup.subtree_control") {
            base = try moveSelfIntoLeaf(ownDir)
        }
        guard let base else {
            if limits.isEmpty {
                tracer.emit("cgroup", "(none)", "cgroup \(own) is not delegated to this user: the container runs without resource limits")
                return nil
            }
            throw notDelegated(own: own, mount: mount)
        }
        // Children of `base` get the controllers listed in its subtree_control.
        let missing = limits.controllers.subtracting(Self.enabled(base))
        if !missing.isEmpty {
            try? HostPath.writeText(base + "/cgroup.subtree_control", missing.sorted().map { "+" + $0 }.joined(separator: " "))
            let still = limits.controllers.subtracting(Self.enabled(base))
            if !still.isEmpty { throw missingControllers(still.sorted(), base: base) }
        }
        let dir = base + "/nook-" + id
        if mkdir(dir, 0o755) != 0 {
            if errno == EEXIST { try? ContainerCgroup(path: dir).remove() ; _ = mkdir(dir, 0o755) } else {
                throw NookError.sys("create cgroup '\(dir)'", errno: errno)
            }
        }
        let cgroup = ContainerCgroup(path: dir)
        tracer.emit("cgroup", "mkdir \(dir)", "the container's own cgroup, a leaf next to nook's")
        do {
            for file in limits.files {
                do { try HostPath.writeText(dir + "/" + file.name, file.value) } catch let e as NookError {
                    throw NookError("set \(file.name)=\(file.value): \(e.message)", hint: e.hint)
                }
                tracer.emit("cgroup", "write \(dir)/\(file.name) \"\(file.value)\"", "resource limit")
            }
        } catch {
            try? cgroup.remove()
            throw error
        }
        return cgroup
    }

    /// Controllers enabled for children of `dir` (its cgroup.subtree_control).
    static func enabled(_ dir: String) -> Set<String> {
        guard let text = try? HostPath.readText(dir + "/cgroup.subtree_control") else { return [] }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    /// Moves this process into `<own>/nook-supervisor` so `<own>` may have
    /// controller-bearing children; returns `<own>`.
    func moveSelfIntoLeaf(_ ownDir: String) throws -> String {
        let leaf = ownDir + "/nook-supervisor"
        if mkdir(leaf, 0o755) != 0 && errno != EEXIST { throw NookError.sys("create cgroup '\(leaf)'", errno: errno) }
        try HostPath.writeText(leaf + "/cgroup.procs", "\(getpid())")
        let wanted = CgroupEnvironment.controllers(ownDir).sorted().map { "+" + $0 }.joined(separator: " ")
        if !wanted.isEmpty { try? HostPath.writeText(ownDir + "/cgroup.subtree_control", wanted) }
        tracer.emit("cgroup", "write \(leaf)/cgroup.procs \(getpid())",
                    "a cgroup with processes cannot hand controllers to children: nook moves into a leaf first")
        return ownDir
    }

    func notDelegated(own: String, mount: String) -> NookError {
        if environment.hybrid && !CgroupEnvironment.controllers(mount).contains("memory") {
            return NookError("resource limits need cgroup v2 controllers, but this host is hybrid: memory, cpu and pids live in cgroup v1, which an unprivileged user cannot use",
                             hint: "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2), or run without limits")
        }
        return NookError("resource limits need a delegated cgroup, and \(own) is not writable by you",
                         hint: "run under systemd with delegation: systemd-run --user -p Delegate=yes --scope nook run ..., or have an administrator chown a cgroup subtree to you")
    }

    func missingControllers(_ names: [String], base: String) -> NookError {
        if environment.hybrid {
            return NookError("resource limits need the \(names.joined(separator: ", ")) controller(s) in cgroup v2, but this host is hybrid: they live in cgroup v1, which an unprivileged user cannot use",
                             hint: "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2), or run without limits")
        }
        return NookError("the \(names.joined(separator: ", ")) controller(s) are not enabled for \(base)",
                         hint: "the delegating parent must list them in cgroup.subtree_control (systemd: Delegate=yes)")
    }
}

/// A container's cgroup directory.
public struct ContainerCgroup: Sendable, Equatable {
    public var path: String

    public init(path: String) { self.path = path }

    /// For clone3(CLONE_INTO_CGROUP): the child starts inside, no race.
    public func openDirectory() throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("open cgroup '\(path)'", errno: errno) }
        return fd
    }

    public func read(_ file: String) -> String? {
        (try? HostPath.readText(path + "/" + file))?.trimmingCharacters(in: " \n")
    }

    /// A key from a flat-keyed file like memory.events ("oom_kill 1").
    public func value(_ file: String, _ key: String) -> UInt64? {
        guard let text = read(file) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 && parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }

    /// Kills anything left, then removes the directory.
    public func remove() throws {
        guard HostPath.isDirectory(path) else { return }
        try? HostPath.writeText(path + "/cgroup.kill", "1")
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            if errno != EBUSY { break }
            usleep(5_000)
        }
        if rmdir(path) != 0 && errno != ENOENT { throw NookError.sys("remove cgroup '\(path)'", errno: errno) }
    }

    public func freeze(_ frozen: Bool) throws {
        try HostPath.writeText(path + "/cgroup.freeze", frozen ? "1" : "0")
    }
}
