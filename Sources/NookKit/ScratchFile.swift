import Glibc
import NookCore

/// An unlinked file in the (private) state root: what an exec'd process
/// writes its output to (a file, not a pipe, so a process that writes much
/// never blocks on a reader), or a container's input. Nothing is left if we die.
final class ScratchFile {
    let fd: Int32
    /// More output than this is cut: a test reads what it asked for.
    static let limit = 16 << 20

    init(in directory: String) throws {
        var template = Array((directory + "/.scratch-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw NookError.sys("create a capture file in '\(directory)'", path: directory, errno: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
    }

    /// `bytes`, from the start (the offset stays 0: a reader starts there).
    func fill(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, bytes.count - offset, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw NookError.sys("write a container's input", errno: errno) }
            offset += n
        }
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
