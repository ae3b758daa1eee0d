import NookCore
import NookKernel
import NookSpec

/// What `nook stats` reports, read from the container's cgroup files.
public struct ContainerStats: Codable, Sendable, Equatable {
    public var id: String
    public var memoryCurrent: UInt64
    public var memoryPeak: UInt64?
    public var memoryMax: String
    public var pidsCurrent: UInt64
    public var pidsMax: String
    public var cpuUsageMicroseconds: UInt64
    public var throttledPeriods: UInt64
    public var throttledMicroseconds: UInt64
}

extension Runtime {
    func cgroup(of id: String) throws -> ContainerCgroup {
        let state = try store.read(id)
        guard status(of: state) != "stopped" else { throw NookError("container '\(id)' is not running") }
        guard let path = state.cgroupPath else {
            throw NookError("container '\(id)' has no cgroup", hint: "cgroup v2 was not delegated when it started; see Docs/cgroups.md")
        }
        return ContainerCgroup(path: path)
    }

    public func stats(id: String) throws -> ContainerStats {
        let c = try cgroup(of: id)
        return ContainerStats(
            id: id,
            memoryCurrent: c.read("memory.current").flatMap { UInt64($0) } ?? 0,
            memoryPeak: c.read("memory.peak").flatMap { UInt64($0) },
            memoryMax: c.read("memory.max") ?? "max",
            pidsCurrent: c.read("pids.current").flatMap { UInt64($0) } ?? 0,
            pidsMax: c.read("pids.max") ?? "max",
            cpuUsageMicroseconds: c.value("cpu.stat", "usage_usec") ?? 0,
            throttledPeriods: c.value("cpu.stat", "nr_throttled") ?? 0,
            throttledMicroseconds: c.value("cpu.stat", "throttled_usec") ?? 0)
    }

    public func freeze(id: String, _ frozen: Bool) throws {
        try cgroup(of: id).freeze(frozen)
    }
}
