import Glibc
import NookCore
import NookKernel
import NookSpec

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

/// What the placement decision reads: the live cgroup filesystem, or a fake in unit tests.
public protocol CgroupView {
    func writable(_ path: String) -> Bool
    func read(_ path: String) -> String?
}

public struct LiveCgroupView: CgroupView {
    public init() {}
    public func writable(_ path: String) -> Bool { CgroupEnvironment.writable(path) }
    public func read(_ path: String) -> String? { try? HostPath.readText(path) }
}

/// Where a container's cgroup goes, decided before anything is written.
public enum CgroupPlacement: Sendable, Equatable {
    /// No cgroup of its own; the reason is said under --trace.
    case none(reason: String)
    /// `dir` is created (its parent is `parent`); with `leaveOwn`, nook first
    /// moves itself from that cgroup (its own) into `<leaveOwn>/nook-supervisor`.
    case create(dir: String, parent: String, leaveOwn: String?)
}

/// One cgroup per container, a leaf, created before the container runs and
/// removed after it. Placement, decided by what was delegated to us:
///  - next to our own cgroup (its parent is ours: systemd's Delegate=yes on a
///    unit we run in, or an administrator's chown), as `<parent>/nook-<id>`;
///  - otherwise below our own cgroup, if that one is ours and nook is alone in
///    it: we first move ourselves into `<own>/nook-supervisor`, because a
///    cgroup with processes cannot give controllers to children (the
///    no-internal-processes rule), and move back when the container is gone;
///  - `linux.cgroupsPath`, when given: relative to that base, or, absolute,
///    relative to the cgroup2 mount.
public final class CgroupManager {
    public let environment: CgroupEnvironment
    public let tracer: Tracer

    public init(environment: CgroupEnvironment = .detect(), tracer: Tracer) {
        self.environment = environment
        self.tracer = tracer
    }

    /// Controllers that ration something (hugetlb alone, as on hybrid hosts, is not worth a cgroup).
    static let resourceControllers: Set<String> = ["cpu", "cpuset", "io", "memory", "pids"]

    /// The placement decision, from what `view` shows. Throws when limits were
    /// asked for and cannot be had, or when the cgroupsPath is unusable.
    public static func placement(environment: CgroupEnvironment, id: String, limits: CgroupLimits,
                                 cgroupsPath: String? = nil, pid: Int32 = getpid(),
                                 view: CgroupView = LiveCgroupView()) throws -> CgroupPlacement {
        guard let mount = environment.mount, let own = environment.ownPath else {
            if limits.isEmpty { return .none(reason: "no cgroup2 mount here: the container runs without resource limits") }
            throw NookError("resource limits need cgroup v2, and this host has no cgroup2 mount",
                            hint: "boot with systemd.unified_cgroup_hierarchy=1, or run without limits")
        }
        func controllers(_ dir: String) -> Set<String> {
            Set((view.read(dir + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }
        // A hybrid host's cgroup2 tree (systemd's, at /sys/fs/cgroup/unified)
        // rations nothing: without limits, create nothing there, even as root.
        if limits.isEmpty && environment.hybrid && controllers(mount).isDisjoint(with: resourceControllers) {
            return .none(reason: "hybrid host: the cgroup2 tree at \(mount) has no resource controllers, so nook creates nothing there; the container runs without resource limits")
        }
        let ownDir = mount + (own == "/" ? "" : own)
        let parentDir = ownDir == mount ? nil : String(ownDir[..<ownDir.lastIndex(of: "/")!])
        var base: String?
        var belowOwn = false
        var refusal: NookError?
        if let parentDir, view.writable(parentDir), view.writable(parentDir + "/cgroup.procs") {
            base = parentDir
        } else if view.writable(ownDir), view.writable(ownDir + "/cgroup.procs"), view.writable(ownDir + "/cgroup.subtree_control") {
            // We must be alone in our cgroup to move into a leaf and enable controllers for children.
            let others = (view.read(ownDir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }.filter { $0 != pid }
            if others.isEmpty {
                base = ownDir
                belowOwn = true
            } else {
                refusal = NookError("nook's cgroup \(own) is delegated to you, but other processes share it (pids \(others.prefix(5).map(String.init).joined(separator: ", "))\(others.count > 5 ? ", ..." : "")): a cgroup with processes cannot hand controllers to a container's cgroup below it (cgroup v2's no-internal-processes rule)",
                                    hint: "start nook in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nook run ..., or move the other processes out of \(ownDir)")
            }
        }
        let dir = base.map { $0 + "/nook-" + id }
        if let path = cgroupsPath, !path.isEmpty {
            if path.contains(":") {
                // "slice:prefix:name" is for a systemd cgroup manager, which nook does not have.
            } else {
                let parts = path.split(separator: "/")
                guard !parts.contains(".."), !parts.contains("."), !parts.isEmpty else {
                    throw NookError("invalid linux.cgroupsPath '\(path)'", hint: "use a path without '.' or '..' components")
                }
                let target: String
                if path.hasPrefix("/") {
                    target = mount + "/" + parts.joined(separator: "/")
                } else if let base {
                    target = base + "/" + parts.joined(separator: "/")
                } else {
                    if limits.isEmpty { return .none(reason: refusal?.message ?? "cgroup \(own) is not delegated to this user: linux.cgroupsPath '\(path)' is not used and the container runs without resource limits") }
                    throw refusal ?? notDelegated(environment, own: own, mount: mount, view: view)
                }
                let parent = String(target[..<target.lastIndex(of: "/")!])
                guard view.writable(parent), view.writable(parent + "/cgroup.procs") || parent == ownDir else {
                    if limits.isEmpty {
                        return .none(reason: "linux.cgroupsPath '\(path)': \(parent) is not writable by you (not delegated): the container runs without a cgroup of its own")
                    }
                    throw NookError("linux.cgroupsPath '\(path)' means \(target), but \(parent) is not writable by you: it was not delegated to you",
                                    hint: "use a path inside your delegated cgroup (a relative path is placed next to nook's own cgroup), or remove linux.cgroupsPath")
                }
                let under = target.hasPrefix(ownDir + "/")
                if under && !belowOwn {
                    // Below our own cgroup: we must leave it first, as above.
                    guard refusal == nil, view.writable(ownDir + "/cgroup.subtree_control") else {
                        throw refusal ?? NookError("linux.cgroupsPath '\(path)' is below nook's own cgroup \(own), which is not delegated to you")
                    }
                    let others = (view.read(ownDir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }.filter { $0 != pid }
                    if !others.isEmpty {
                        throw NookError("linux.cgroupsPath '\(path)' is below nook's own cgroup \(own), which other processes share (pids \(others.prefix(5).map(String.init).joined(separator: ", "))): a cgroup with processes cannot hand controllers to children",
                                        hint: "start nook in a cgroup of its own, or choose a path elsewhere")
                    }
                }
                return .create(dir: target, parent: parent, leaveOwn: under ? ownDir : nil)
            }
        }
        guard let base, let dir else {
            if limits.isEmpty {
                return .none(reason: refusal.map { "\($0.message): the container runs without resource limits" }
                             ?? "cgroup \(own) is not delegated to this user: the container runs without resource limits")
            }
            throw refusal ?? notDelegated(environment, own: own, mount: mount, view: view)
        }
        return .create(dir: dir, parent: base, leaveOwn: belowOwn ? ownDir : nil)
    }

    /// Creates the container's cgroup and writes its limits. Returns nil when
    /// no limits were asked for and none can be had here (said under --trace).
    public func create(id: String, limits: CgroupLimits, cgroupsPath: String? = nil) throws -> ContainerCgroup? {
        let decision = try Self.placement(environment: environment, id: id, limits: limits, cgroupsPath: cgroupsPath)
        guard case let .create(dir, base, leaveOwn) = decision else {
            if case let .none(reason) = decision { tracer.emit("cgroup", "(none)", reason) }
            return nil
        }
        var supervisor: ContainerCgroup.SupervisorLeaf?
        if let leaveOwn { supervisor = try moveSelfIntoLeaf(leaveOwn) }
        do {
            return try createLeaf(dir, base: base, limits: limits, supervisor: supervisor)
        } catch {
            if let supervisor { Self.leaveSupervisorLeaf(supervisor, tracer: tracer) }
            throw error
        }
    }

    private func createLeaf(_ dir: String, base: String, limits: CgroupLimits,
                            supervisor: ContainerCgroup.SupervisorLeaf?) throws -> ContainerCgroup {
        // Children of `base` get the controllers listed in its subtree_control.
        let missing = limits.controllers.subtracting(Self.enabled(base))
        if !missing.isEmpty {
            try? HostPath.writeText(base + "/cgroup.subtree_control", missing.sorted().map { "+" + $0 }.joined(separator: " "))
            let still = limits.controllers.subtracting(Self.enabled(base))
            if !still.isEmpty { throw missingControllers(still.sorted(), base: base) }
        }
        if mkdir(dir, 0o755) != 0 {
            guard errno == EEXIST else { throw NookError.sys("create cgroup '\(dir)'", errno: errno) }
            // Ours only if nothing runs in it: the same name under another
            // --root (another state directory) must not kill that container.
            if Self.isPopulated(dir, view: LiveCgroupView()) {
                throw NookError("cgroup '\(dir)' already exists and has processes: another container with this name is running (perhaps under another --root)",
                                hint: "choose another name, or stop that container first")
            }
            try ContainerCgroup(path: dir).remove()
            tracer.emit("cgroup", "rmdir \(dir)", "a stale, empty cgroup of an earlier container with this name")
            guard mkdir(dir, 0o755) == 0 else { throw NookError.sys("create cgroup '\(dir)'", errno: errno) }
        }
        var cgroup = ContainerCgroup(path: dir)
        cgroup.supervisor = supervisor
        tracer.emit("cgroup", "mkdir \(dir)", supervisor == nil ? "the container's own cgroup, a leaf next to nook's" : "the container's own cgroup, a leaf below nook's")
        do {
            for file in limits.files {
                do { try HostPath.writeText(dir + "/" + file.name, file.value) } catch let e as NookError {
                    if file.name == "memory.swap.max" && !HostPath.exists(dir + "/" + file.name) {
                        // As docker and podman do: a kernel without swap accounting cannot limit swap.
                        Tracer.standardError("nook: warning: this kernel has no swap accounting (no memory.swap.max): the swap limit is not applied")
                        tracer.emit("cgroup", "(skip) \(file.name)", "no swap accounting in this kernel")
                        continue
                    }
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

    /// Whether a cgroup has live processes (itself or below).
    public static func isPopulated(_ dir: String, view: CgroupView) -> Bool {
        if let procs = view.read(dir + "/cgroup.procs"), !procs.trimmingCharacters(in: " \n").isEmpty { return true }
        return (view.read(dir + "/cgroup.events") ?? "").split(separator: "\n").contains("populated 1")
    }

    /// Controllers enabled for children of `dir` (its cgroup.subtree_control).
    static func enabled(_ dir: String) -> Set<String> {
        guard let text = try? HostPath.readText(dir + "/cgroup.subtree_control") else { return [] }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    /// Moves this process into `<own>/nook-supervisor` so `<own>` may have
    /// controller-bearing children.
    func moveSelfIntoLeaf(_ ownDir: String) throws -> ContainerCgroup.SupervisorLeaf {
        let leaf = ownDir + "/nook-supervisor"
        if mkdir(leaf, 0o755) != 0 && errno != EEXIST { throw NookError.sys("create cgroup '\(leaf)'", errno: errno) }
        do { try HostPath.writeText(leaf + "/cgroup.procs", "\(getpid())") } catch let e as NookError {
            _ = rmdir(leaf)
            throw NookError("move nook into \(leaf): \(e.message)",
                            hint: "nook needs a cgroup of its own to place containers below it: systemd-run --user --scope -p Delegate=yes nook run ...")
        }
        tracer.emit("cgroup", "write \(leaf)/cgroup.procs \(getpid())",
                    "a cgroup with processes cannot hand controllers to children: nook moves into a leaf first")
        let before = Self.enabled(ownDir)
        let wanted = CgroupEnvironment.controllers(ownDir).subtracting(before).sorted().map { "+" + $0 }.joined(separator: " ")
        var record = ContainerCgroup.SupervisorLeaf(own: ownDir, added: [])
        if !wanted.isEmpty {
            do { try HostPath.writeText(ownDir + "/cgroup.subtree_control", wanted) } catch let e as NookError {
                Self.leaveSupervisorLeaf(record, tracer: tracer)
                let others = ((try? HostPath.readText(ownDir + "/cgroup.procs")) ?? "").split(separator: "\n")
                if !others.isEmpty {
                    throw NookError("enable controllers in \(ownDir): \(e.message): other processes joined nook's cgroup (pids \(others.prefix(5).joined(separator: ", "))), and a cgroup with processes cannot hand controllers to children",
                                    hint: "start nook in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nook run ...")
                }
                throw NookError("enable controllers in \(ownDir): \(e.message)", hint: e.hint)
            }
            record.added = Self.enabled(ownDir).subtracting(before).sorted()
        }
        return record
    }

    /// Undoes `moveSelfIntoLeaf` once no container is left below our cgroup:
    /// disable the controllers we enabled, move back, remove the leaf. With
    /// other containers still there (their limits need the controllers), stay.
    public static func leaveSupervisorLeaf(_ leaf: ContainerCgroup.SupervisorLeaf, tracer: Tracer) {
        let own = leaf.own
        let children = HostPath.subdirectories(own).filter { $0 != "nook-supervisor" }
        guard children.isEmpty else {
            tracer.emit("cgroup", "(stay) \(own)/nook-supervisor", "other cgroups below \(own) (\(children.joined(separator: ", "))) still need its controllers")
            return
        }
        if !leaf.added.isEmpty { try? HostPath.writeText(own + "/cgroup.subtree_control", leaf.added.map { "-" + $0 }.joined(separator: " ")) }
        guard (try? HostPath.writeText(own + "/cgroup.procs", "\(getpid())")) != nil else {
            tracer.emit("cgroup", "(stay) \(own)/nook-supervisor", "could not move back into \(own)")
            return
        }
        _ = rmdir(own + "/nook-supervisor")
        tracer.emit("cgroup", "write \(own)/cgroup.procs \(getpid()) + rmdir \(own)/nook-supervisor", "the container is gone: nook moves back where it started")
    }

    static func notDelegated(_ environment: CgroupEnvironment, own: String, mount: String, view: CgroupView) -> NookError {
        let rootControllers = Set((view.read(mount + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        if environment.hybrid && !rootControllers.contains("memory") {
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
    /// Set when nook moved itself into `<own>/nook-supervisor` to place this cgroup below its own.
    public var supervisor: SupervisorLeaf?

    public struct SupervisorLeaf: Sendable, Equatable {
        public var own: String
        /// Controllers nook enabled in `<own>/cgroup.subtree_control` (disabled again when it leaves).
        public var added: [String]
    }

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
