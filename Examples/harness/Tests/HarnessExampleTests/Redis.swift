import Foundation
import NookKit

/// The Redis image in nook's store: `$REDIS_IMAGE` (run.sh builds it with
/// Tests/images/redis-image.sh and imports it as `nook-example/redis`), nil
/// when it is not set: the Redis tests are then skipped, saying so.
enum RedisImage {
    static let name: String? = ProcessInfo.processInfo.environment["REDIS_IMAGE"].flatMap { $0.isEmpty ? nil : $0 }
    static let missing = "REDIS_IMAGE is not set: no Redis image in nook's store (Examples/harness/run.sh builds one with Tests/images/redis-image.sh and imports it)"
}

/// redis-server from the image, on container port 6379, published on a
/// random port of 127.0.0.1. `start()` returns once the server logged that
/// it is ready and the published port accepts connections.
/// The flags are the image's own Cmd, spelled out: no config file, nothing
/// saved to disk, and no protected mode (a client forwarded by pasta does not
/// come from the container's loopback).
func redisServer(image: String) -> ContainerRequest {
    var request = ContainerRequest(
        image: image,
        command: ["redis-server", "--port", "6379", "--protected-mode", "no", "--save", "", "--appendonly", "no"])
    request.ports = [6379]
    request.readiness = [.logLine(containing: "Ready to accept connections"), .tcpPort(6379)]
    return request
}

/// The smallest Redis client: RESP over one TCP connection to 127.0.0.1,
/// each command sent and its reply read before the next, each printed.
final class RedisClient {
    enum Reply: Equatable, CustomStringConvertible {
        case simple(String), error(String), integer(Int), bulk(String?), array([Reply]?)

        var description: String {
            switch self {
            case .simple(let text): text
            case .error(let text): "(error) \(text)"
            case .integer(let n): "(integer) \(n)"
            case .bulk(let text): text.map { "\"\($0)\"" } ?? "(nil)"
            case .array(let items): items.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "(nil)"
            }
        }
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let label: String
    private let fd: Int32
    private var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; `label` starts each printed line.
    init(port: UInt16, label: String) throws {
        self.label = label
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            let error = errno
            close(fd)
            throw Failed(description: "connect to 127.0.0.1:\(port): errno \(error)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends one command (an array of bulk strings) and returns its reply.
    @discardableResult
    func send(_ arguments: String...) throws -> Reply {
        var request = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments { request += Array("$\(argument.utf8.count)\r\n\(argument)\r\n".utf8) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failed(description: "send: errno \(errno)") }
            sent += n
        }
        let reply = try readReply()
        let shown = arguments.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " ")
        print("\(label)> \(shown)  ->  \(reply)")
        return reply
    }

    private func readReply() throws -> Reply {
        let line = try readLine()
        guard let kind = line.first else { throw Failed(description: "an empty reply line") }
        let rest = String(line.dropFirst())
        switch kind {
        case "+": return .simple(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int(rest) ?? 0)
        case "$":
            guard let length = Int(rest) else { throw Failed(description: "a bad bulk length: \(line)") }
            if length < 0 { return .bulk(nil) }
            let bytes = try readBytes(length + 2)
            return .bulk(String(decoding: bytes.prefix(length), as: UTF8.self))
        case "*":
            guard let count = Int(rest) else { throw Failed(description: "a bad array length: \(line)") }
            if count < 0 { return .array(nil) }
            return .array(try (0..<count).map { _ in try readReply() })
        default:
            throw Failed(description: "not RESP: \(line)")
        }
    }

    /// A line without its CRLF.
    private func readLine() throws -> String {
        while true {
            if let end = received.firstIndex(of: 10), end > 0, received[end - 1] == 13 {
                let line = String(decoding: received[..<(end - 1)], as: UTF8.self)
                received.removeFirst(end + 1)
                return line
            }
            try receive()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while received.count < count { try receive() }
        defer { received.removeFirst(count) }
        return Array(received.prefix(count))
    }

    private func receive() throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        if n < 0 && errno == EINTR { return }
        guard n > 0 else { throw Failed(description: n == 0 ? "the server closed the connection" : "recv: errno \(errno)") }
        received += buffer[0..<n]
    }
}
