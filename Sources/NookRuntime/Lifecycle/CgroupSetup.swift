import Glibc
import NookCore
import NookKernel

/// What `run`, `create` and `delete` ask of the container's cgroup, one call
/// per step, so that a recording fake sees (and can fail) each of them in the
/// same timeline as the kernel calls. `LiveCgroupSetup` hands them to
/// `CgroupManager` and `ContainerCgroup`.
public protocol CgroupSetup: AnyObject {
    /// Creates the container's cgroup and writes its limits; nil: it runs
    /// without one (no limits asked and none to be had; said under --trace).
    func create(id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> ContainerCgroup?
    /// A directory fd for clone3(CLONE_INTO_CGROUP): the child starts inside.
    func open(_ cgroup: ContainerCgroup) throws -> Int32
    /// Kills what is left in it and removes it; nook leaves its supervisor
    /// leaf if it moved into one for this cgroup.
    func remove(_ cgroup: ContainerCgroup, tracer: Tracer) throws
    /// "out of memory (memory.max=64M)" when memory.events counts an OOM kill.
    func oomReason(_ cgroup: ContainerCgroup) -> String?
}

/// cgroup v2 on this host, as delegated to us.
public final class LiveCgroupSetup: CgroupSetup {
    public init() {}

    public func create(id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> ContainerCgroup? {
        try CgroupManager(tracer: tracer).create(id: id, limits: limits, cgroupsPath: cgroupsPath)
    }

    public func open(_ cgroup: ContainerCgroup) throws -> Int32 { try cgroup.openDirectory() }

    public func remove(_ cgroup: ContainerCgroup, tracer: Tracer) throws {
        defer { if let leaf = cgroup.supervisor { CgroupManager.leaveSupervisorLeaf(leaf, tracer: tracer) } }
        try cgroup.remove()
    }

    public func oomReason(_ cgroup: ContainerCgroup) -> String? {
        guard (cgroup.value("memory.events", "oom_kill") ?? 0) > 0 else { return nil }
        let limit = cgroup.read("memory.max").map { "memory.max=\(Runtime.humanBytes($0))" } ?? "memory.max"
        return "out of memory (\(limit))"
    }
}
