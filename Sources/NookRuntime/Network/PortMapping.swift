import Glibc
import NookCore
import NookKernel
import NookSpec

/// `-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]`: a host port whose traffic
/// the user-mode network helper forwards into the container.
package struct PortMapping: Sendable, Equatable, CustomStringConvertible {
    package enum Proto: String, Sendable { case tcp, udp }

    /// nil: every address of the host (podman's default).
    package var hostIP: String?
    package var hostPort: UInt16
    package var containerPort: UInt16
    package var proto: Proto

    package init(hostIP: String? = nil, hostPort: UInt16, containerPort: UInt16, proto: Proto = .tcp) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// One mapping, as the spec's annotations keep it (a host port chosen).
    package static func parse(_ text: String) throws -> PortMapping {
        let all = try parseAll(text)
        guard all.count == 1, all[0].hostPort != 0 else {
            throw NookError("invalid -p '\(text)': one mapping with both ports expected", kind: .invalidInput)
        }
        return all[0]
    }

    /// `-p` as podman reads it: `[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`,
    /// where each port may be a range (`8000-8002:80-82`, the same length on
    /// both sides). No host port (`-p 80`, `-p 127.0.0.1::80`) gives host port 0:
    /// `withHostPortChosen()` asks the kernel for a free one before the start.
    package static func parseAll(_ text: String) throws -> [PortMapping] {
        func invalid(_ why: String) -> NookError {
            NookError("invalid -p '\(text)': \(why)",
                      hint: "use [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], e.g. -p 127.0.0.1:8080:80, -p 8000-8001:80-81 or -p 80", kind: .invalidInput)
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
            throw invalid("a container port is needed after the address: \(parts[0])::80 lets the kernel pick the host port")
        }
        guard (1...2).contains(parts.count) else { throw invalid("too many ':'") }
        if parts.count == 1 { parts.insert("", at: 0) } // `-p 80`: a host port is picked
        let container = try range(parts[1], "container port", invalid)
        let host = parts[0].isEmpty ? nil : try range(parts[0], "host port", invalid)
        if let host, host.count != container.count {
            throw invalid("the host range has \(host.count) ports, the container range \(container.count)")
        }
        if let ip = hostIP, SocketAddress(ip: ip, port: 1) == nil {
            throw invalid("'\(ip)' is not an IPv4 or IPv6 address")
        }
        return container.enumerated().map { i, port in
            PortMapping(hostIP: hostIP, hostPort: host.map { $0.lowerBound + UInt16(i) } ?? 0, containerPort: port, proto: proto)
        }
    }

    /// "80" or "8000-8002": 1-65535, a range low to high.
    private static func range(_ text: String, _ what: String, _ invalid: (String) -> NookError) throws -> ClosedRange<UInt16> {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(ends.count), let low = UInt16(ends[0]), low > 0,
              let high = ends.count == 2 ? UInt16(ends[1]) : low, high > 0 else {
            throw invalid("\(what) '\(text)' is not 1-65535 or a range such as 8000-8002")
        }
        guard low <= high else { throw invalid("\(what) range '\(text)' goes down") }
        return low...high
    }

    /// A host port of 0 becomes one the kernel picks now, bound and let go (as
    /// podman does), so the spec, `nook port` and the helper all name the same one.
    package func withHostPortChosen() throws -> PortMapping {
        guard hostPort == 0 else { return self }
        guard let address = SocketAddress(ip: hostIP ?? "0.0.0.0", port: 0) else {
            throw NookError("cannot publish -p \(self): '\(hostIP ?? "")' is not an IPv4 or IPv6 address")
        }
        let fd = socket(address.family, (proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NookError.sys("socket for -p \(self)", errno: errno) }
        defer { close(fd) }
        guard address.bind(fd) == 0, let port = SocketAddress.localPort(fd) else {
            throw NookError.sys("cannot pick a host port for -p \(self): bind", errno: errno)
        }
        var chosen = self
        chosen.hostPort = port
        return chosen
    }

    /// 127.0.0.0/8 or ::1 (nil, every address, is not).
    static func isLoopback(_ ip: String?) -> Bool {
        guard let ip else { return false }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        guard inet_pton(AF_INET6, ip, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { $0.dropLast().allSatisfy { $0 == 0 } && $0.last == 1 }
    }

    package var description: String {
        let ip = hostIP.map { $0.contains(":") ? "[\($0)]:" : "\($0):" } ?? ""
        return "\(ip)\(hostPort):\(containerPort)/\(proto.rawValue)"
    }

    /// Binds the host port for a moment, so "already in use" is found before
    /// anything starts, with the kernel's own reason.
    package func checkAvailable() throws {
        close(try bound())
    }

    /// A TCP socket listening on the host port (Nook's own forwarder serves it).
    func listening() throws -> Int32 {
        let fd = try bound()
        guard listen(fd, 128) == 0 else {
            let err = errno
            close(fd)
            throw NookError.sys("cannot publish -p \(self): listen", errno: err)
        }
        return fd
    }

    /// A socket bound to the host address and port, close-on-exec.
    private func bound() throws -> Int32 {
        // parse() checked the address; a PortMapping made in code may not have been.
        guard let address = SocketAddress(ip: hostIP ?? "0.0.0.0", port: hostPort) else {
            throw NookError("cannot publish -p \(self): '\(hostIP ?? "")' is not an IPv4 or IPv6 address",
                            hint: "use an address such as 127.0.0.1 or ::1, or none for every address")
        }
        let fd = socket(address.family, (proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NookError.sys("socket for -p \(self)", errno: errno) }
        if proto == .tcp {
            // As the helpers do: a port left in TIME_WAIT is free to listen on.
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.bind(fd) != 0 else { return fd }
        let err = errno
        close(fd)
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

    /// The port a bound socket got.
    static func localPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { p -> UInt16 in
            if family == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

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
