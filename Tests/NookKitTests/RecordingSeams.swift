import Glibc
import NookCore
import NookKernel
import NookKernelTesting
@testable import NookRuntime
import NookSpec

/// The container's cgroup as a recording fake: each step also lands in the
/// kernel fake's timeline (`.step("cgroup ...")`), fails when the kernel fake
/// says so (`failAt`), and takes its fd from the kernel fake.
final class RecordingCgroups: FakeCgroupBackend, @unchecked Sendable {
    let kernel: RecordingKernel
    /// Cgroups made and not yet removed.
    private(set) var existing: Set<String> = []
    var root = "/fake/cgroup"

    init(_ kernel: RecordingKernel) {
        self.kernel = kernel
        super.init(path: nil)
    }

    override func newContainer(_ id: String) { path = root + "/nook-" + id }

    override func record(_ call: Call) throws {
        try super.record(call)
        guard let path, [.create, .openForClone, .remove].contains(call) else { return }
        let verb = call == .openForClone ? "open" : call.rawValue
        try kernel.record(.step("cgroup \(verb) \(path)"), live: "\(verb) cgroup '\(path)'")
        if call == .create { existing.insert(path) }
        if call == .remove { existing.remove(path) }
    }

    override func openForClone() throws -> Int32 {
        try record(.openForClone)
        return path.map { kernel.allocateFD(for: $0) } ?? -1
    }

    /// Without a cgroup there is nothing to freeze or kill at once.
    override func holdStill() -> Bool { path != nil && super.holdStill() }
    override func killAll() -> Bool { path != nil && super.killAll() }
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
