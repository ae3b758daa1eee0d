import Glibc
import NookCore
import NookKernel
import NookSpec

/// `--network pasta`: passt's pasta joins the container's user and network
/// namespaces, creates a tap device there with a copy of the host's address
/// and routes, and carries the container's traffic over ordinary host sockets.
enum Pasta {
    /// The address pasta answers DNS on when the host's resolvers are on its
    /// own loopback (unreachable from the container's namespace).
    static let dnsForwardAddress = "169.254.1.1"

    /// Resolvers for the container: the host's, unless they sit on the host's
    /// loopback; then pasta's DNS forwarder.
    static func nameservers(host: HostNetwork) -> [String] {
        let reachable = host.nameservers.filter { !$0.hasPrefix("127.") && $0 != "::1" }
        return reachable.isEmpty ? [dnsForwardAddress] : reachable
    }

    static func arguments(containerPID: pid_t, ports: [PortMapping], allowHostLoopback: Bool,
                          extraOptions: [String], host: HostNetwork) -> [String] {
        var args = ["--foreground", "--quiet", "--config-net"]
        // Inbound: only the published ports (pasta's default, "auto", would follow
        // whatever the container binds).
        for proto in [PortMapping.Proto.tcp, .udp] {
            let flag = proto == .tcp ? "-t" : "-u"
            let mine = ports.filter { $0.proto == proto }
            if mine.isEmpty { args += [flag, "none"] }
            for p in mine { args += [flag, (p.hostIP.map { "\($0)/" } ?? "") + "\(p.hostPort):\(p.containerPort)"] }
        }
        // Outbound to the host's loopback: -T/-U would forward the container's
        // own 127.0.0.1 ports to the host's, and the gateway address would map
        // to the host's loopback. Both are off unless asked for.
        args += ["-T", "none", "-U", "none"]
        if !allowHostLoopback { args.append("--no-map-gw") }
        if nameservers(host: host) == [dnsForwardAddress] { args += ["--dns-forward", dnsForwardAddress] }
        args += extraOptions
        args += ["--netns", "/proc/\(containerPID)/ns/net", "--userns", "/proc/\(containerPID)/ns/user"]
        return args
    }

    static func start(containerPID: pid_t, ports: [PortMapping], allowHostLoopback: Bool, extraOptions: [String],
                      host: HostNetwork, stateDirectory: String, tracer: Tracer) throws -> NetworkHelper {
        let args = arguments(containerPID: containerPID, ports: ports, allowHostLoopback: allowHostLoopback,
                             extraOptions: extraOptions, host: host)
        let helper = try NetworkHelper(program: "pasta", arguments: args, passing: [], stateDirectory: stateDirectory)
        // pasta says nothing when it is ready: the default route it adds in the
        // container's namespace is the sign (it binds the host ports before).
        let deadline = Monotonic.now() + 10
        while !hasDefaultRoute(pid: containerPID) {
            if let status = helper.exited() {
                throw helper.failure("could not set up the network", status: status,
                                     hint: extraOptions.isEmpty ? nil : "check the options given after --network pasta: (pasta --help lists them)")
            }
            guard Monotonic.now() < deadline else {
                throw helper.failure("did not configure the container's network within 10 s")
            }
            usleep(1000)
        }
        tracer.emit("network", "\(helper.commandLine) = pid \(helper.pid)",
                    "a user-mode TCP/IP stack for the container's network namespace"
                        + (ports.isEmpty ? "" : "; it listens on the published host ports")
                        + (allowHostLoopback ? "; the host's loopback is reachable through the gateway address" : ""))
        return helper
    }

    /// A default route (IPv4 or IPv6) in the network namespace of `pid`.
    static func hasDefaultRoute(pid: pid_t) -> Bool {
        if let v4 = try? HostPath.readText("/proc/\(pid)/net/route"),  // the process may be gone: no route
           v4.split(separator: "\n").dropFirst().contains(where: { $0.split(separator: "\t").dropFirst().first == "00000000" }) {
            return true
        }
        if let v6 = try? HostPath.readText("/proc/\(pid)/net/ipv6_route"),  // as above
           v6.split(separator: "\n").contains(where: { $0.hasPrefix(String(repeating: "0", count: 32) + " 00 ") && !$0.hasSuffix(" lo") }) {
            return true
        }
        return false
    }
}
