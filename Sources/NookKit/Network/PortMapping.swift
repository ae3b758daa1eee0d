import Glibc

/// `-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]`: a host port whose traffic
/// the user-mode network helper forwards into the container.
public struct PortMapping: Sendable, Equatable, CustomStringConvertible {
    public enum Proto: String, Sendable { case tcp, udp }

    /// nil: every address of the host (podman's default).
    public var hostIP: String?
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: Proto

    public init(hostIP: String? = nil, hostPort: UInt16, containerPort: UInt16, proto: Proto = .tcp) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    public static func parse(_ text: String) throws -> PortMapping {
        func invalid(_ why: String) -> NookError {
            NookError("invalid -p '\(text)': \(why)",
                      hint: "use [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|/udp], e.g. -p 127.0.0.1:8080:80")
        }
        var body = Substring(text)
        var proto = Proto.tcp
        if let slash = body.lastIndex(of: "/") {
            guard let p = Proto(rawValue: String(body[body.index(after: slash)...])) else {
                throw invalid("protocol must be tcp or udp")
            }
            proto = p
            body = body[..<slash]
        }
        var hostIP: String?
        if body.hasPrefix("[") {
            // [IPv6]:HOSTPORT:CONTAINERPORT
            guard let close = body.firstIndex(of: "]"), body[body.index(after: close)...].hasPrefix(":") else {
                throw invalid("an IPv6 address goes in brackets: [::1]:8080:80")
            }
            hostIP = String(body[body.index(after: body.startIndex)..<close])
            body = body[body.index(close, offsetBy: 2)...]
        }
        var parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if hostIP == nil && parts.count == 3 {
            let ip = parts.removeFirst()
            hostIP = ip.isEmpty ? nil : ip
        }
        if parts.count == 2 && hostIP == nil && SocketAddress(ip: parts[0], port: 1) != nil {
            throw invalid("both ports are needed after the address (Nook does not pick a random host port)")
        }
        guard parts.count == 2 else {
            throw invalid(parts.count < 2 ? "both ports are needed (Nook does not pick a random host port)" : "too many ':'")
        }
        guard let host = UInt16(parts[0]), host > 0 else { throw invalid("host port '\(parts[0])' is not 1-65535") }
        guard let container = UInt16(parts[1]), container > 0 else { throw invalid("container port '\(parts[1])' is not 1-65535") }
        if let ip = hostIP, SocketAddress(ip: ip, port: host) == nil {
            throw invalid("'\(ip)' is not an IPv4 or IPv6 address")
        }
        return PortMapping(hostIP: hostIP, hostPort: host, containerPort: container, proto: proto)
    }

    public var description: String {
        let ip = hostIP.map { $0.contains(":") ? "[\($0)]:" : "\($0):" } ?? ""
        return "\(ip)\(hostPort):\(containerPort)/\(proto.rawValue)"
    }

    /// Binds the host port for a moment, so "already in use" is found before
    /// anything starts, with the kernel's own reason.
    public func checkAvailable() throws {
        // parse() checked the address; a PortMapping made in code may not have been.
        guard let address = SocketAddress(ip: hostIP ?? "0.0.0.0", port: hostPort) else {
            throw NookError("cannot publish -p \(self): '\(hostIP ?? "")' is not an IPv4 or IPv6 address",
                            hint: "use an address such as 127.0.0.1 or ::1, or none for every address")
        }
        let fd = socket(address.family, (proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NookError.sys("socket for -p \(self)", errno: errno) }
        defer { close(fd) }
        if proto == .tcp {
            // As the helpers do: a port left in TIME_WAIT is free to listen on.
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.bind(fd) != 0 else { return }
        let err = errno
        let ip = hostIP ?? "all addresses"
        switch err {
        case EADDRINUSE:
            throw NookError("cannot publish -p \(self): host port \(hostPort)/\(proto.rawValue) on \(ip) is already in use",
                            hint: "stop what listens there, or pick another host port")
        case EACCES:
            throw NookError("cannot publish -p \(self): host port \(hostPort) is privileged",
                            hint: "use a port of 1024 or more (or lower net.ipv4.ip_unprivileged_port_start)")
        case EADDRNOTAVAIL:
            throw NookError("cannot publish -p \(self): \(ip) is not an address of this host")
        default:
            throw NookError.sys("cannot publish -p \(self): bind", errno: err)
        }
    }
}

/// An IPv4 or IPv6 socket address, for bind(2).
struct SocketAddress {
    var family: Int32
    private var v4 = sockaddr_in()
    private var v6 = sockaddr_in6()

    init?(ip: String, port: UInt16) {
        if inet_pton(AF_INET, ip, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
        } else if inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
        } else {
            return nil
        }
    }

    func bind(_ fd: Int32) -> Int32 {
        if family == AF_INET {
            var a = v4
            return withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var a = v6
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }
}
