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
/// saved to disk, and no protected mode (a client published through pasta
/// does not come from the container's loopback; through Nook's forwarder it does).
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
    private let socket: LoopbackSocket
    private var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; `label` starts each printed line.
    init(port: UInt16, label: String) throws {
        self.label = label
        socket = try LoopbackSocket(port: port)
    }

    /// Sends one command (an array of bulk strings) and returns its reply.
    @discardableResult
    func send(_ arguments: String...) throws -> Reply {
        var request = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments { request += Array("$\(argument.utf8.count)\r\n\(argument)\r\n".utf8) }
        try socket.send(request)
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
            guard let length = Int(rest), length <= 1 << 20 else { throw Failed(description: "a bad bulk length (at most 1 MiB here): \(line)") }
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
        let bytes = try socket.receive()
        guard !bytes.isEmpty else { throw Failed(description: "the server closed the connection") }
        received += bytes
    }
}
