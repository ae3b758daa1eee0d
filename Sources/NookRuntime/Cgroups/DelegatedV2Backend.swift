import Glibc
import NookCore
import NookKernel
import NookSpec

/// Today's cgroup: a leaf directory in a cgroup v2 tree delegated to the
/// caller, where `CgroupPlacement` decided (next to or below nook's own
/// cgroup, or at linux.cgroupsPath), with one file per limit. Its files are
/// written through HostPath.
package final class DelegatedV2Backend: CgroupBackend {
    /// Where a new container's cgroup goes; nil for one recorded in a state.
    let placement: (dir: String, parent: String, leaveOwn: String?)?
    let limits: CgroupLimits
    let environment: CgroupEnvironment
    let tracer: Tracer
    var cgroup: ContainerCgroup
    /// Only what this backend made (or a state recorded) is ever removed.
    var owned: Bool

    init(dir: String, parent: String, leaveOwn: String?, limits: CgroupLimits, environment: CgroupEnvironment, tracer: Tracer) {
        placement = (dir, parent, leaveOwn)
        self.limits = limits
        self.environment = environment
        self.tracer = tracer
        cgroup = ContainerCgroup(path: dir)
        owned = false
    }

    /// The cgroup of a container that exists.
    init(recorded path: String) {
        placement = nil
        limits = CgroupLimits()
        environment = CgroupEnvironment(mount: nil, hybrid: false, ownPath: nil)
        tracer = Tracer(enabled: false)
        cgroup = ContainerCgroup(path: path)
        owned = true
    }

    package var path: String? { cgroup.path }

    package func create() throws {
        guard let (dir, base, leaveOwn) = placement, !owned else { return }
        var supervisor: ContainerCgroup.SupervisorLeaf?
        if let leaveOwn { supervisor = try moveSelfIntoLeaf(leaveOwn) }
        do {
            cgroup = try createLeaf(dir, base: base, limits: limits, supervisor: supervisor)
            owned = true
        } catch {
            if let supervisor { Self.leaveSupervisorLeaf(supervisor, tracer: tracer) }
            throw error
        }
    }

    package func openForClone() throws -> Int32 { try cgroup.openDirectory() }

    package func oomKilled() -> Bool { (cgroup.value("memory.events", "oom_kill") ?? 0) > 0 }

    package func stats(id: String) throws -> ContainerStats {
        ContainerStats(
            id: id,
            memoryCurrent: cgroup.read("memory.current").flatMap { UInt64($0) } ?? 0,
            memoryPeak: cgroup.read("memory.peak").flatMap { UInt64($0) },
            memoryMax: cgroup.read("memory.max") ?? "max",
            pidsCurrent: cgroup.read("pids.current").flatMap { UInt64($0) } ?? 0,
            pidsMax: cgroup.read("pids.max") ?? "max",
            cpuUsageMicroseconds: cgroup.value("cpu.stat", "usage_usec") ?? 0,
            throttledPeriods: cgroup.value("cpu.stat", "nr_throttled") ?? 0,
            throttledMicroseconds: cgroup.value("cpu.stat", "throttled_usec") ?? 0)
    }

    package func freeze(_ frozen: Bool) throws { try cgroup.freeze(frozen) }

    package var isFrozen: Bool { cgroup.value("cgroup.events", "frozen") == 1 }

    package func holdStill() -> Bool {
        guard cgroup.read("cgroup.freeze") == "0" else { return false } // not if the user paused it
        guard (try? cgroup.freeze(true)) != nil else { return false }  // cannot freeze: the caller stops processes one by one instead
        let start = Monotonic.now()
        while !isFrozen && Monotonic.now() - start < 2 { usleep(2_000) }
        return true
    }

    // false: the caller kills each process by pidfd instead
    package func killAll() -> Bool { (try? HostPath.writeText(cgroup.path + "/cgroup.kill", "1")) != nil }

    package func pids() -> Set<Int32> {
        var result = Set<Int32>()
        var dirs = [cgroup.path]
        while let dir = dirs.popLast() {
            // A cgroup below that went meanwhile has no processes to count.
            let procs = (try? HostPath.readText(dir + "/cgroup.procs")) ?? ""
            for line in procs.split(separator: "\n") { if let pid = Int32(line) { result.insert(pid) } }
            dirs += HostPath.subdirectories(dir).map { dir + "/" + $0 }
        }
        return result
    }

    package func remove() throws {
        guard owned else { return }
        defer { if let leaf = cgroup.supervisor { Self.leaveSupervisorLeaf(leaf, tracer: tracer) } }
        try cgroup.remove()
    }

    private func createLeaf(_ dir: String, base: String, limits: CgroupLimits,
                            supervisor: ContainerCgroup.SupervisorLeaf?) throws -> ContainerCgroup {
        // Children of `base` get the controllers listed in its subtree_control.
        let missing = limits.controllers.subtracting(Self.enabled(base))
        if !missing.isEmpty {
            // checked just below: a controller still missing is an error that names it
            try? HostPath.writeText(base + "/cgroup.subtree_control", missing.sorted().map { "+" + $0 }.joined(separator: " "))
            let still = limits.controllers.subtracting(Self.enabled(base))
            if !still.isEmpty { throw missingControllers(still.sorted(), base: base) }
        }
        if mkdir(dir, 0o755) != 0 {
            guard errno == EEXIST else { throw NookError.sys("create cgroup '\(dir)'", path: dir, errno: errno) }
            // Ours only if nothing runs in it: the same name under another
            // --root (another state directory) must not kill that container.
            if Self.isPopulated(dir, view: LiveCgroupView()) {
                throw NookError("cgroup '\(dir)' already exists and has processes: another container with this name is running (perhaps under another --root)",
                                hint: "choose another name, or stop that container first")
            }
            try ContainerCgroup(path: dir).remove()
            tracer.emit("cgroup", "rmdir \(dir)", "a stale, empty cgroup of an earlier container with this name")
            guard mkdir(dir, 0o755) == 0 else { throw NookError.sys("create cgroup '\(dir)'", path: dir, errno: errno) }
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
                    throw e.within("set \(file.name)=\(file.value)")
                }
                tracer.emit("cgroup", "write \(dir)/\(file.name) \"\(file.value)\"", "resource limit")
            }
        } catch {
            try? cgroup.remove()  // the error being thrown is the one to report; this only undoes a half-made cgroup
            throw error
        }
        return cgroup
    }

    /// Whether a cgroup has live processes (itself or below).
    package static func isPopulated(_ dir: String, view: CgroupView) -> Bool {
        if let procs = view.read(dir + "/cgroup.procs"), !procs.trimmingCharacters(in: " \n").isEmpty { return true }
        return (view.read(dir + "/cgroup.events") ?? "").split(separator: "\n").contains("populated 1")
    }

    /// Controllers enabled for children of `dir` (its cgroup.subtree_control).
    static func enabled(_ dir: String) -> Set<String> {
        // unreadable: no controllers enabled there
        guard let text = try? HostPath.readText(dir + "/cgroup.subtree_control") else { return [] }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    /// Moves this process into `<own>/nook-supervisor` so `<own>` may have
    /// controller-bearing children.
    func moveSelfIntoLeaf(_ ownDir: String) throws -> ContainerCgroup.SupervisorLeaf {
        let leaf = ownDir + "/nook-supervisor"
        if mkdir(leaf, 0o755) != 0 && errno != EEXIST { throw NookError.sys("create cgroup '\(leaf)'", path: leaf, errno: errno) }
        do { try HostPath.writeText(leaf + "/cgroup.procs", "\(getpid())") } catch let e as NookError {
            _ = rmdir(leaf)
            throw e.within("move nook into \(leaf)",
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
                // unreadable: treated as empty; the move below fails with its own error if it matters
                let others = ((try? HostPath.readText(ownDir + "/cgroup.procs")) ?? "").split(separator: "\n")
                if !others.isEmpty {
                    throw NookError("enable controllers in \(ownDir): \(e.message): other processes joined nook's cgroup (pids \(others.prefix(5).joined(separator: ", "))), and a cgroup with processes cannot hand controllers to children",
                                    hint: "start nook in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nook run ...", kind: e.kind)
                }
                throw e.within("enable controllers in \(ownDir)")
            }
            record.added = Self.enabled(ownDir).subtracting(before).sorted()
        }
        return record
    }

    /// Undoes `moveSelfIntoLeaf` once no container is left below our cgroup:
    /// disable the controllers we enabled, move back, remove the leaf. With
    /// other containers still there (their limits need the controllers), stay.
    package static func leaveSupervisorLeaf(_ leaf: ContainerCgroup.SupervisorLeaf, tracer: Tracer) {
        let own = leaf.own
        let children = HostPath.subdirectories(own).filter { $0 != "nook-supervisor" }
        guard children.isEmpty else {
            tracer.emit("cgroup", "(stay) \(own)/nook-supervisor", "other cgroups below \(own) (\(children.joined(separator: ", "))) still need its controllers")
            return
        }
        // best effort on the way out: the leaf cgroup is removed next anyway
        if !leaf.added.isEmpty { try? HostPath.writeText(own + "/cgroup.subtree_control", leaf.added.map { "-" + $0 }.joined(separator: " ")) }
        // the failure is handled just below (we stay where we are, and say so)
        guard (try? HostPath.writeText(own + "/cgroup.procs", "\(getpid())")) != nil else {
            tracer.emit("cgroup", "(stay) \(own)/nook-supervisor", "could not move back into \(own)")
            return
        }
        _ = rmdir(own + "/nook-supervisor")
        tracer.emit("cgroup", "write \(own)/cgroup.procs \(getpid()) + rmdir \(own)/nook-supervisor", "the container is gone: nook moves back where it started")
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
