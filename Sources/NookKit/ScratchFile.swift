import Glibc
import NookCore

/// An unlinked file in the (private) state root: what an exec'd process
/// writes its output to (a file, not a pipe, so a process that writes much
/// never blocks on a reader). Nothing is left if we die.
final class ScratchFile {
    let fd: Int32
    /// More output than this is cut: a test reads what it asked for.
    static let limit = 16 << 20

    init(in directory: String) throws {
        // Close-on-exec from the start (mkstemp's fd is not, until an fcntl):
        // no process started meanwhile on another thread inherits it.
        var fd: Int32 = -1
        var path = ""
        for _ in 0..<100 where fd < 0 {
            path = directory + "/.scratch-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 && errno != EEXIST { break }
        }
        guard fd >= 0 else { throw NookError.sys("create a capture file in '\(directory)'", path: directory, errno: errno) }
        unlink(path)
        self.fd = fd
    }

    func text() -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while bytes.count < Self.limit {
            let n = pread(fd, &buffer, min(buffer.count, Self.limit - bytes.count), offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { close(fd) }
}
