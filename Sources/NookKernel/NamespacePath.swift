import CShims
import Glibc
import NookCore

/// A namespace to join, named by path in config.json (`linux.namespaces[].path`).
/// It must be a namespace file (nsfs): a FIFO there would block the open for
/// ever, and a device or a plain file would only fail at setns, in the child.
package enum NamespacePath {
    /// NSFS_MAGIC, statfs(2)'s f_type of /proc/PID/ns/* and of their bind mounts.
    static let nsfsMagic = 0x6e73_6673

    /// Refuses an existing file that is not a namespace, before anything is set
    /// up; one that cannot be looked at (another user's /proc/PID/ns) is left to `open`.
    package static func check(_ path: String, type: String) throws {
        let handle = nook_open_path(path) // O_PATH: never blocks, reads nothing
        guard handle >= 0 else { return }
        defer { close(handle) }
        try checkOpened(handle, path: path, type: type)
    }

    /// Opens without blocking, and checks what was opened (the path may have changed since `check`).
    static func open(_ path: String, type: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("open namespace '\(path)'", path: path, errno: errno) }
        do { try checkOpened(fd, path: path, type: type) } catch { close(fd); throw error }
        return fd
    }

    static func checkOpened(_ fd: Int32, path: String, type: String) throws {
        guard nook_fstatfs_type(fd) != nsfsMagic else { return }
        var st = stat()
        let what = fstat(fd, &st) == 0 ? HostPath.fileType(st.st_mode) : "not a namespace"
        throw NookError("linux.namespaces: the \(type) namespace path '\(path)' is \(what), not a namespace file",
                        hint: "give a /proc/PID/ns/* file, or a bind mount of one")
    }
}
