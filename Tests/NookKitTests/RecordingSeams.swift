import Glibc
import NookCore
import NookKernel
import NookKernelTesting
@testable import NookRuntime
import NookSpec

/// The container's cgroup as a recording fake: each step lands in the kernel
/// fake's timeline (`.step("cgroup ...")`) and fails when the test says so.
final class RecordingCgroups: CgroupSetup {
    let kernel: RecordingKernel
    /// Cgroups made and not yet removed.
    private(set) var existing: Set<String> = []
    var root = "/fake/cgroup"

    init(_ kernel: RecordingKernel) { self.kernel = kernel }

    func create(id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> ContainerCgroup? {
        let path = root + "/nook-" + id
        try kernel.record(.step("cgroup create \(path)"), live: "create cgroup '\(path)'")
        existing.insert(path)
        return ContainerCgroup(path: path)
    }

    func open(_ cgroup: ContainerCgroup) throws -> Int32 {
        try kernel.record(.step("cgroup open \(cgroup.path)"), live: "open cgroup '\(cgroup.path)'")
        return kernel.allocateFD(for: cgroup.path)
    }

    func remove(_ cgroup: ContainerCgroup, tracer: Tracer) throws {
        try kernel.record(.step("cgroup remove \(cgroup.path)"), live: "remove cgroup '\(cgroup.path)'")
        existing.remove(cgroup.path)
    }

    func oomReason(_ cgroup: ContainerCgroup) -> String? { nil }
}

/// The network helper as a recording fake.
final class RecordingNetwork: NetworkSetup {
    let kernel: RecordingKernel
    private(set) var running: Set<pid_t> = []

    init(_ kernel: RecordingKernel) { self.kernel = kernel }

    func check(_ network: NetworkSettings, namespaces: [NamespaceKind]) throws {
        try kernel.record(.step("network check \(network.mode.description)"), live: "network check \(network.mode.description)")
    }

    func prepareFiles(_ network: NetworkSettings, spec: Spec, containerID: String, directory: String) throws -> [MountOp] {
        try kernel.record(.step("network files \(directory)/hosts"), live: "network files \(directory)/hosts")
        return []
    }

    func start(_ network: NetworkSettings, containerPID: pid_t, stateDirectory: String, tracer: Tracer) throws -> RunningNetworkHelper {
        try kernel.record(.step("network start \(network.mode.description) for \(containerPID)"), live: "network start \(network.mode.description) for \(containerPID)")
        let helper = Helper(pid: 5000, network: self)
        running.insert(helper.pid)
        return helper
    }

    final class Helper: RunningNetworkHelper {
        let pid: pid_t
        let network: RecordingNetwork
        init(pid: pid_t, network: RecordingNetwork) { self.pid = pid; self.network = network }
        func finish() { stop() }
        func stop() {
            guard network.running.contains(pid) else { return }
            network.kernel.calls.append(.note("network stop \(pid)"))
            network.running.remove(pid)
        }
    }
}
