import CShims
import Glibc
import NookCore
import SystemPackage

/// The file system half of the real kernel: each call is the syscall, and a
/// failure is its errno.
extension LiveKernel {
    package func makeDirectory(_ path: String, mode: mode_t) throws {
        guard mkdir(path, mode) == 0 else { throw Errno(rawValue: errno) }
    }

    package func status(_ path: String, followLinks: Bool) throws -> FileStatus {
        var st = stat()
        guard (followLinks ? stat(path, &st) : lstat(path, &st)) == 0 else { throw Errno(rawValue: errno) }
        return FileStatus(type: st.st_mode & S_IFMT, permissions: st.st_mode & 0o7777, owner: st.st_uid, size: Int(st.st_size))
    }

    package func createFile(_ path: String, _ bytes: [UInt8], mode: mode_t, sync: Bool) throws {
        let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                         permissions: FilePermissions(rawValue: mode))
        defer { try? fd.close() } // a close after a complete write loses nothing
        _ = try fd.writeAll(bytes)
        if sync { _ = fsync(fd.rawValue) }
    }

    package func createNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
            Glibc.close(fd)
        } catch {
            Glibc.close(fd)
            Glibc.unlink(path)
            throw error
        }
    }

    package func readFile(_ path: String, as kind: FileKind, noFollow: Bool) throws -> [UInt8] {
        try HostPath.readBytes(path, as: kind, noFollow: noFollow)
    }

    package func rename(_ from: String, to: String, noReplace: Bool) throws {
        let r = noReplace ? Syscall.renameNoReplace(from, to) : Glibc.rename(from, to)
        guard r == 0 else { throw Errno(rawValue: errno) }
    }

    package func removeFile(_ path: String) throws {
        guard unlink(path) == 0 else { throw Errno(rawValue: errno) }
    }

    package func removeTree(_ path: String) {
        for name in listDirectory(path) ?? [] { unlink(path + "/" + name) }
        rmdir(path)
    }

    package func listDirectory(_ path: String) -> [String]? {
        DirectoryEntries.names(atPath: path)
    }

    package func lock(_ path: String, wait: Bool, create: Bool) throws -> Int32? {
        let fd = Glibc.open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let e = errno
            if e == EINTR { continue }
            Glibc.close(fd)
            if e == EWOULDBLOCK { return nil }
            throw Errno(rawValue: e)
        }
        return fd
    }

    package func makeFIFO(_ path: String, mode: mode_t) throws {
        guard mkfifo(path, mode) == 0 else { throw Errno(rawValue: errno) }
    }

    package func open(_ path: String, flags: Int32, mode: mode_t) throws -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        return fd
    }

    package func write(_ fd: Int32, _ bytes: [UInt8]) throws -> Int {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw Errno(rawValue: errno) }
        return n
    }

    package func poll(_ fd: Int32, events: Int16, milliseconds: Int32) throws -> Int16 {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let r = Glibc.poll(&p, 1, milliseconds)
        if r < 0 && errno == EINTR { return 0 }
        guard r >= 0 else { throw Errno(rawValue: errno) }
        return r == 0 ? 0 : p.revents
    }

    package func pendingBytes(_ fd: Int32) -> Int32 { nook_pending_bytes(fd) }
}
