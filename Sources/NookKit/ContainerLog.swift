import Glibc
import NookCore

/// A detached container's output, as its monitor writes it: container.log,
/// after container.log.1 once it was rotated (each at most 1 MiB), and beside
/// each the map of which stream every piece came from (`LogStreamMap`).
struct ContainerLog: Sendable {
    let directory: String
    static let limit = 4 << 20

    /// Both streams, in the order they were written.
    func read() -> [UInt8] {
        Self.readFile(directory + "/container.log.1") + Self.readFile(directory + "/container.log")
    }

    /// The output cut into pieces by stream, oldest first, as far as the
    /// stream maps cover it (a piece being written comes on the next read).
    func pieces() -> [(stream: LogStreamMap.Stream, bytes: ArraySlice<UInt8>)] {
        ["/container.log.1", "/container.log"].flatMap { name in
            let path = directory + name
            // The map first: what it describes is in the log already.
            let map = Self.readFile(LogStreamMap.path(of: path), limit: 8 * Self.limit)
            return LogStreamMap.pieces(log: Self.readFile(path), map: map)
        }
    }

    /// Everything one stream wrote so far.
    func text(of stream: LogStreamMap.Stream) -> String {
        String(decoding: pieces().filter { $0.stream == stream }.flatMap(\.bytes), as: UTF8.self)
    }

    /// Missing: nothing yet.
    private static func readFile(_ path: String, limit: Int = limit) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let n = Glibc.read(fd, &buffer, min(buffer.count, limit - bytes.count))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}
