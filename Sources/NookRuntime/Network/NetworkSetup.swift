import Glibc
import NookCore
import NookKernel
import NookSpec

/// What `run` asks for the container's network, one call per step, so that a
/// recording fake sees (and can fail) each of them: the checks before
/// anything is made, the files (/etc/hosts, resolv.conf) in the state
/// directory, and the network helper (pasta, slirp4netns, or Nook's own port
/// forwarder for `-p` with `--network none`).
package protocol NetworkSetup: AnyObject {
    /// Everything about the network that can fail is checked before anything is made.
    func check(_ network: NetworkSettings, namespaces: [NamespaceKind]) throws
    /// The files the container's /etc gets, written into `directory`; their bind mounts.
    func prepareFiles(_ network: NetworkSettings, spec: Spec, containerID: String, directory: String) throws -> [MountOp]
    /// Starts the helper on the network namespace of `containerPID`, once its
    /// user namespace has its maps; returns once every port is published.
    func start(_ network: NetworkSettings, containerPID: pid_t, stateDirectory: String, tracer: Tracer) throws -> RunningNetworkHelper
}

/// A started network helper: stopped on every way out of a run.
package protocol RunningNetworkHelper: AnyObject {
    var pid: pid_t { get }
    /// Once the container's setup is done (before it counts as running): a
    /// helper that finishes starting meanwhile says whether it did.
    func confirmStarted() throws
    /// After the container ended: lets the last bytes reach their clients, then stops.
    func finish()
    func stop()
}

extension NetworkHelper: RunningNetworkHelper {
    package func finish() { finish(timeout: 2) }
}

extension RunningNetworkHelper {
    package func confirmStarted() throws {}
}

/// The host's helpers, as `NetworkHelper` starts them.
package final class LiveNetworkSetup: NetworkSetup {
    /// The nook binary for `nook __forward`, and the environment to find it in.
    let forwarder: MonitorExecutable
    let environment: [String: String]

    package init(forwarder: MonitorExecutable = .currentProcess, environment: [String: String] = [:]) {
        self.forwarder = forwarder
        self.environment = environment
    }

    package func check(_ network: NetworkSettings, namespaces: [NamespaceKind]) throws {
        try NetworkHelper.checkInstalled(network.mode)
        // The forwarder joins the container's user namespace to reach its network: a new one, owned
        // by us, so that nothing in it holds CAP_SYS_PTRACE over ours (see SealPolicy, Docs/security.md).
        if network.forwardsPorts && !namespaces.contains(.user) {
            throw NookError("-p with --network none needs a user namespace of the container's own: nook's port forwarder joins it",
                            hint: "keep {\"type\": \"user\"} (without a path) in linux.namespaces, or use --network pasta", kind: .invalidInput)
        }
        if network.startsHelper && !namespaces.contains(.network) {
            throw NookError("--network \(network.mode.description) needs a network namespace of the container's own",
                            hint: "keep {\"type\": \"network\"} (without a path) in linux.namespaces", kind: .invalidInput)
        }
        for port in network.ports { try port.checkAvailable() }
    }

    package func prepareFiles(_ network: NetworkSettings, spec: Spec, containerID: String, directory: String) throws -> [MountOp] {
        try NetworkFiles.prepare(mode: network.mode, spec: spec, containerID: containerID, directory: directory)
    }

    package func start(_ network: NetworkSettings, containerPID: pid_t, stateDirectory: String, tracer: Tracer) throws -> RunningNetworkHelper {
        let executable = network.forwardsPorts ? try forwarder.resolve(environment: environment) : "/proc/self/exe"
        return try NetworkHelper.start(network, containerPID: containerPID, stateDirectory: stateDirectory, tracer: tracer,
                                       forwarder: executable)
    }
}
