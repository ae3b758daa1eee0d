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
    /// The cgroup of a running container.
    func cgroup(of id: String) throws -> CgroupBackend {
        let state = try store.read(id)
        guard status(of: state) != "stopped" else { throw NookError("container '\(id)' is not running", kind: .wrongState(container: id, state: "stopped")) }
        return cgroups.backend(of: id, recordedPath: state.cgroupPath)
    }

    public func stats(id: String) throws -> ContainerStats {
        try cgroup(of: id).stats(id: id)
    }

    public func freeze(id: String, _ frozen: Bool) throws {
        try cgroup(of: id).freeze(frozen)
    }
}
