import NookCore
import NookKernel
import NookSpec

/// `nook inspect`: everything Nook knows of one container, in one JSON object
/// (the shape of podman's, with the names Nook's state uses).
package struct ContainerInspection: Codable, Sendable {
    package struct State: Codable, Sendable {
        package var status: String
        /// "exited (3)", "exited (137, out of memory ...)", "running", ...
        package var described: String
        package var pid: Int32
        package var exitCode: Int32?
        package var exitReason: String?
        package var startedAt: String?
        /// When the exit was seen: by the supervisor or monitor when there is
        /// one, else by the first nook command to look (an OCI container's).
        package var finishedAt: String?
        /// `run -d --restart`: the policy, and how often its monitor restarted it.
        package var restartPolicy: String?
        package var restartCount: Int
        /// Why the policy's last restart could not start (podman's `State.Error`).
        package var restartError: String?
    }

    package struct PublishedPort: Codable, Sendable {
        package var containerPort: UInt16
        package var proto: String
        package var hostIP: String
        package var hostPort: UInt16
    }

    package struct Network: Codable, Sendable {
        package var mode: String
        package var ports: [PublishedPort]
    }

    package var id: String
    package var created: String
    package var mode: String
    package var state: State
    package var bundle: String
    package var rootfs: String
    package var command: String?
    package var cgroup: String?
    package var ownNamespaces: [String]?
    package var network: Network
    package var mounts: [Spec.Mount]
    /// `linux.resources` as the container got them (cgroup limits).
    package var limits: Spec.Resources?
    package var rlimits: [Spec.Rlimit]?
    /// The whole OCI config it was created from.
    package var config: Spec
}

extension Runtime {
    package func inspect(id: String) throws -> ContainerInspection {
        let summary = summaries().first { $0.id == id }
        let state = try store.read(id)
        let spec = try loadSpec(id)
        let network = try NetworkSettings.recorded(in: spec) ?? NetworkSettings()
        return ContainerInspection(
            id: id, created: state.created, mode: state.mode.rawValue,
            state: .init(status: summary?.status ?? status(of: state), described: summary?.describedStatus ?? status(of: state),
                         pid: summary?.pid ?? state.pid, exitCode: state.exitCode, exitReason: state.exitReason,
                         startedAt: state.started, finishedAt: state.finished,
                         restartPolicy: state.restartPolicy, restartCount: state.restartCount ?? 0, restartError: state.restartError),
            bundle: state.bundle, rootfs: state.rootfs, command: state.command, cgroup: state.cgroupPath,
            ownNamespaces: state.ownNamespaces,
            network: .init(mode: network.mode.description, ports: network.ports.map {
                .init(containerPort: $0.containerPort, proto: $0.proto.rawValue, hostIP: $0.hostIP ?? "0.0.0.0", hostPort: $0.hostPort)
            }),
            mounts: spec.mounts ?? [], limits: spec.linux?.resources, rlimits: spec.process?.rlimits, config: spec)
    }
}
