import NookCore
import NookKernel
import NookSpec

/// What `nook stats` reports, read from the container's cgroup files.
package struct ContainerStats: Codable, Sendable, Equatable {
    package var id: String
    package var memoryCurrent: UInt64
    package var memoryPeak: UInt64?
    package var memoryMax: String
    package var pidsCurrent: UInt64
    package var pidsMax: String
    package var cpuUsageMicroseconds: UInt64
    package var throttledPeriods: UInt64
    package var throttledMicroseconds: UInt64
}

extension Runtime {
    /// The cgroup of a running container.
    func cgroup(of id: String) throws -> CgroupBackend {
        let state = try store.read(id)
        guard status(of: state) != "stopped" else { throw NookError("container '\(id)' is not running", kind: .wrongState(container: id, state: "stopped")) }
        return cgroups.backend(of: id, recordedPath: state.cgroupPath)
    }

    package func stats(id: String) throws -> ContainerStats {
        try cgroup(of: id).stats(id: id)
    }

    package func freeze(id: String, _ frozen: Bool) throws {
        try cgroup(of: id).freeze(frozen)
    }
}
