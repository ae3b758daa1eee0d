import ArgumentParser
import Glibc
import NookCore
import NookKernel

/// `nook __forward`: the port forwarder `PortForwarder` starts for `-p` with
/// `--network none` (internal). Its fds: 3 the container's user namespace,
/// 4 its network namespace, 5 the pipe that hears "ready", then one listening
/// socket per published port, in `--ports` order.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__forward", abstract: "Forward published ports into a container (internal).",
                                                    shouldDisplay: false)
    /// The container's ports, one for each listening socket.
    @Option var ports: String

    func run() throws {
        let parsed = ports.split(separator: ",").compactMap { UInt16($0) }
        guard !parsed.isEmpty, parsed.count == ports.split(separator: ",").count, parsed.count <= 10 else {
            throw NookError("__forward: --ports must be 1 to 10 port numbers, comma-separated (got '\(ports)')", kind: .invalidInput)
        }
        ProcessMemoryLayout.hideArguments(title: "nook __forward")
        let failure = PortRelay.run(userNamespaceFD: 3, networkNamespaceFD: 4, readyFD: 5,
                                    listeners: parsed.indices.map { Int32(6 + $0) }, ports: parsed)
        throw failure
    }
}
