import ArgumentParser
import Glibc
import NookCore
import NookKernel

/// `nook __forward`: the port forwarder `PortForwarder` starts for `-p` with
/// `--network none` (internal). Its fds are `PortRelay.Descriptor`'s: the
/// listening sockets in `--ports` order.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__forward", abstract: "Forward published ports into a container (internal).",
                                                    shouldDisplay: false)
    /// The container's ports, one for each listening socket.
    @Option var ports: String

    func run() throws {
        let parsed = ports.split(separator: ",").compactMap { UInt16($0) }
        guard !parsed.isEmpty, parsed.count == ports.split(separator: ",").count, parsed.count <= PortRelay.maxPorts else {
            throw NookError("__forward: --ports must be 1 to \(PortRelay.maxPorts) port numbers, comma-separated (got '\(ports)')", kind: .invalidInput)
        }
        ProcessMemoryLayout.hideArguments(title: "nook __forward")
        let failure = PortRelay.run(userNamespaceFD: PortRelay.Descriptor.userNamespace,
                                    networkNamespaceFD: PortRelay.Descriptor.networkNamespace, readyFD: PortRelay.Descriptor.ready,
                                    listeners: parsed.indices.map { PortRelay.Descriptor.firstListener + Int32($0) }, ports: parsed)
        throw failure
    }
}
