import ArgumentParser
import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// `nook port ID [PORT[/PROTO]]`, as podman prints it: which host address and
/// port each published container port is on (the one the kernel picked for `-p 80`).
struct PortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List a container's published ports, or where one of them is.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container name.", completion: Completions.containers) var id: String
    @Argument(help: "A container port, e.g. 80 or 53/udp: print only its host address.") var port: String?

    func run() throws {
        let runtime = try global.runtime()
        let ports = try NetworkSettings.recorded(in: try runtime.loadSpec(id))?.ports ?? []
        func host(_ p: PortMapping) -> String {
            let ip = p.hostIP ?? "0.0.0.0"
            return (ip.contains(":") ? "[\(ip)]" : ip) + ":\(p.hostPort)"
        }
        guard let port else {
            for p in ports { print("\(p.containerPort)/\(p.proto.rawValue) -> \(host(p))") }
            return
        }
        let parts = port.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let number = parts.first.flatMap({ UInt16($0) }), let proto = PortMapping.Proto(rawValue: parts.count > 1 ? parts[1] : "tcp") else {
            throw NookError("'\(port)' is not a container port", hint: "e.g. nook port \(id) 80 or 53/udp")
        }
        let found = ports.filter { $0.containerPort == number && $0.proto == proto }
        guard !found.isEmpty else {
            throw NookError("container '\(id)' publishes no port \(number)/\(proto.rawValue)", hint: "nook port \(id) lists what it publishes")
        }
        for p in found { print(host(p)) }
    }
}
