import NookCore
import NookKernel
import NookSpec

/// `--network`: how a container reaches the network.
///
/// Without root, Nook cannot create veth pairs or bridges on the host, so a
/// container that needs the network gets a user-mode TCP/IP stack (pasta or
/// slirp4netns, as rootless podman does) attached to its own network namespace.
public enum NetworkMode: Sendable, Equatable {
    /// A network namespace with only `lo` (the default).
    case none
    /// The caller's own network namespace: no network isolation at all.
    case host
    /// passt's `pasta`: the container gets a copy of the host's addresses and routes.
    /// `options` are extra pasta arguments, passed as given.
    case pasta(allowHostLoopback: Bool, options: [String])
    /// slirp4netns: the container gets 10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3.
    case slirp4netns(allowHostLoopback: Bool, mtu: Int)

    /// Parses podman's spellings: `none`, `host`, `pasta[:OPT,...]`,
    /// `slirp4netns[:allow_host_loopback=true,mtu=N]`.
    package static func parse(_ text: String) throws -> NetworkMode {
        let (name, rest) = text.firstIndex(of: ":").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) }
            ?? (text, "")
        let options = rest.split(separator: ",").map(String.init)
        switch name {
        // A `where` on a case list guards only its last pattern: "none" and
        // "private" need one each.
        case "none" where options.isEmpty, "private" where options.isEmpty: return .none
        case "host" where options.isEmpty: return .host
        case "none", "private", "host":
            throw NookError("invalid --network '\(text)': \(name) takes no options", hint: "use --network \(name)", kind: .invalidInput)
        case "pasta":
            // podman's spelling: --map-gw lets the container reach the host's
            // loopback through the gateway address. Nook passes --no-map-gw otherwise.
            let allow = options.contains("--map-gw")
            return .pasta(allowHostLoopback: allow, options: options.filter { $0 != "--map-gw" && $0 != "--no-map-gw" })
        case "slirp4netns":
            var allow = false
            var mtu = 65520
            for option in options {
                let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
                switch (kv.first ?? "", kv.count == 2 ? kv[1] : "") {
                case ("allow_host_loopback", "true"): allow = true
                case ("allow_host_loopback", "false"): allow = false
                case ("mtu", let value) where Int(value).map({ (1280...65521).contains($0) }) == true: mtu = Int(value) ?? mtu
                case ("port_handler", "slirp4netns"): break
                default:
                    throw NookError("invalid --network option '\(option)' for slirp4netns",
                                    hint: "options are allow_host_loopback=true|false, mtu=1280..65521, port_handler=slirp4netns", kind: .invalidInput)
                }
            }
            return .slirp4netns(allowHostLoopback: allow, mtu: mtu)
        default:
            throw NookError("invalid --network '\(text)'",
                            hint: "use none, host, pasta[:OPTIONS] or slirp4netns[:OPTIONS]", kind: .invalidInput)
        }
    }

    /// The text `parse` reads back (kept in the spec's annotations).
    package var description: String {
        switch self {
        case .none: "none"
        case .host: "host"
        case .pasta(let allow, let options):
            ((allow ? ["--map-gw"] : []) + options).isEmpty ? "pasta"
                : "pasta:" + ((allow ? ["--map-gw"] : []) + options).joined(separator: ",")
        case .slirp4netns(let allow, let mtu):
            "slirp4netns:allow_host_loopback=\(allow),mtu=\(mtu)"
        }
    }

    /// The mode without its options: none, host, pasta, slirp4netns.
    package var name: String { String(description.prefix { $0 != ":" }) }

    /// Whether a user-mode stack runs for this container.
    package var usesHelper: Bool {
        switch self {
        case .pasta, .slirp4netns: true
        case .none, .host: false
        }
    }

    /// The helper program's name, and the Debian package it comes in.
    package var helper: (program: String, package: String)? {
        switch self {
        case .pasta: ("pasta", "passt")
        case .slirp4netns: ("slirp4netns", "slirp4netns")
        case .none, .host: nil
        }
    }
}

/// The network of one `nook run`: the mode and the published ports, carried
/// typed from the flags to the runtime (`RunSettings.network`). On disk (the
/// spec a detached container's monitor reads, its config.json for a restart,
/// `nook port` and `inspect`) it is the spec's annotations, read back in one
/// place: `recorded(in:)`.
package struct NetworkSettings: Sendable, Equatable {
    package var mode: NetworkMode = .none
    package var ports: [PortMapping] = []

    package static let modeAnnotation = "org.nook.network"
    package static let portsAnnotation = "org.nook.publish"

    package init(mode: NetworkMode = .none, ports: [PortMapping] = []) {
        self.mode = mode
        self.ports = ports
    }

    /// What a spec's annotations record (`apply(to:)` wrote them); nil when
    /// they record nothing: a bundle's config.json then decides alone.
    package static func recorded(in spec: Spec) throws -> NetworkSettings? {
        guard let annotations = spec.annotations, let mode = annotations[modeAnnotation] else { return nil }
        let settings = NetworkSettings(mode: try NetworkMode.parse(mode),
                                       ports: try (annotations[portsAnnotation] ?? "").split(separator: " ").map { try PortMapping.parse(String($0)) })
        try settings.validate()
        return settings
    }

    package var annotations: [String: String] {
        var result = [Self.modeAnnotation: mode.description]
        if !ports.isEmpty { result[Self.portsAnnotation] = ports.map(\.description).joined(separator: " ") }
        return result
    }

    /// Puts these settings into a spec: the annotations, and for `host` no
    /// network namespace of its own.
    package func apply(to spec: inout Spec) throws {
        try validate()
        if mode == .host { spec.linux?.namespaces?.removeAll { $0.type == "network" } }
        spec.annotations = (spec.annotations ?? [:]).merging(annotations) { _, new in new }
    }

    /// `-p` with `--network none`: Nook's own forwarder carries the published
    /// TCP ports to the container's loopback (`PortForwarder`).
    package var forwardsPorts: Bool { mode == .none && !ports.isEmpty }

    /// Whether a helper process serves the container's network: a user-mode
    /// stack, or the port forwarder.
    package var startsHelper: Bool { mode.usesHelper || forwardsPorts }

    package func validate() throws {
        if !ports.isEmpty && mode == .host {
            throw NookError("-p needs a network namespace: with --network host the container's ports are the host's already",
                            hint: "leave out -p, or use --network none (only the published ports) or pasta", kind: .invalidInput)
        }
        if forwardsPorts, let udp = ports.first(where: { $0.proto == .udp }) {
            throw NookError("-p \(udp): with --network none, nook's port forwarder publishes TCP ports only",
                            hint: "use --network pasta (or slirp4netns) for UDP", kind: .invalidInput)
        }
        if forwardsPorts && ports.count > PortRelay.maxPorts {
            throw NookError("with --network none, nook's port forwarder publishes at most \(PortRelay.maxPorts) ports (\(ports.count) given)",
                            hint: "use --network pasta for more", kind: .invalidInput)
        }
        // The server inside sees each forwarded client as 127.0.0.1: on another
        // address a remote client would pass for a local one.
        if forwardsPorts, let open = ports.first(where: { !PortMapping.isLoopback($0.hostIP) }) {
            let local = "127.0.0.1:\(open.hostPort == 0 ? "" : String(open.hostPort)):\(open.containerPort)"
            throw NookError("-p \(open): with --network none, nook's port forwarder publishes on the host's loopback only "
                            + "(the server inside sees every client as 127.0.0.1)",
                            hint: "give the address, -p \(local) (or ::1), or use --network pasta to publish on \(open.hostIP ?? "every address")",
                            kind: .invalidInput)
        }
        if case .slirp4netns = mode, let v6 = ports.first(where: { $0.hostIP?.contains(":") == true }) {
            throw NookError("-p \(v6): slirp4netns publishes on IPv4 addresses only",
                            hint: "use an IPv4 address (127.0.0.1), or --network pasta", kind: .invalidInput)
        }
        var seen = Set<String>()
        for port in ports where !seen.insert("\(port.hostPort)/\(port.proto.rawValue)").inserted {
            throw NookError("host port \(port.hostPort)/\(port.proto.rawValue) is published twice")
        }
    }
}
