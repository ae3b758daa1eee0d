import Glibc

/// A detached container's output, as its monitor writes it: container.log,
/// after container.log.1 once it was rotated (each at most 1 MiB).
struct ContainerLog: Sendable {
    let directory: String
    static let limit = 4 << 20

    func read() -> [UInt8] {
        Self.readFile(directory + "/container.log.1") + Self.readFile(directory + "/container.log")
    }

    /// Missing: nothing yet.
    private static func readFile(_ path: String) -> [UInt8] {
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
