import NookCore
import NookKernel
import NookSpec

/// `nook inspect`: everything Nook knows of one container, in one JSON object
/// (the shape of podman's, with the names Nook's state uses).
public struct ContainerInspection: Codable, Sendable {
    public struct State: Codable, Sendable {
        public var status: String
        /// "exited (3)", "exited (137, out of memory ...)", "running", ...
        public var described: String
        public var pid: Int32
        public var exitCode: Int32?
        public var exitReason: String?
        public var startedAt: String?
        /// When the exit was seen: by the supervisor or monitor when there is
        /// one, else by the first nook command to look (an OCI container's).
        public var finishedAt: String?
        /// `run -d --restart`: the policy, and how often its monitor restarted it.
        public var restartPolicy: String?
        public var restartCount: Int
    }

    public struct PublishedPort: Codable, Sendable {
        public var containerPort: UInt16
        public var proto: String
        public var hostIP: String
        public var hostPort: UInt16
    }

    public struct Network: Codable, Sendable {
        public var mode: String
        public var ports: [PublishedPort]
    }

    public var id: String
    public var created: String
    public var mode: String
    public var state: State
    public var bundle: String
    public var rootfs: String
    public var command: String?
    public var cgroup: String?
    public var ownNamespaces: [String]?
    public var network: Network
    public var mounts: [Spec.Mount]
    /// `linux.resources` as the container got them (cgroup limits).
    public var limits: Spec.Resources?
    public var rlimits: [Spec.Rlimit]?
    /// The whole OCI config it was created from.
    public var config: Spec
}

extension Runtime {
    public func inspect(id: String) throws -> ContainerInspection {
        let summary = summaries().first { $0.id == id }
        let state = try store.read(id)
        let spec = try loadSpec(id)
        let network = try NetworkSettings.recorded(in: spec) ?? NetworkSettings()
        return ContainerInspection(
            id: id, created: state.created, mode: state.mode.rawValue,
            state: .init(status: summary?.status ?? status(of: state), described: summary?.describedStatus ?? status(of: state),
                         pid: summary?.pid ?? state.pid, exitCode: state.exitCode, exitReason: state.exitReason,
                         startedAt: state.started, finishedAt: state.finished,
                         restartPolicy: state.restartPolicy, restartCount: state.restartCount ?? 0),
            bundle: state.bundle, rootfs: state.rootfs, command: state.command, cgroup: state.cgroupPath,
            ownNamespaces: state.ownNamespaces,
            network: .init(mode: network.mode.description, ports: network.ports.map {
                .init(containerPort: $0.containerPort, proto: $0.proto.rawValue, hostIP: $0.hostIP ?? "0.0.0.0", hostPort: $0.hostPort)
            }),
            mounts: spec.mounts ?? [], limits: spec.linux?.resources, rlimits: spec.process?.rlimits, config: spec)
    }
}
