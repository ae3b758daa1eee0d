import Glibc
import NookCore

/// An exclusive flock(2) on a directory itself (no lock file in it): an
/// image container's layer (`containers/<id>-<hex>/`) is locked by the
/// process that owns it, the foreground `nook run` or the detached
/// container's monitor, for the container's whole life. Released by
/// `release()`, or when the last process holding the descriptor dies (the
/// kernel drops flocks), which is what tells a sweep the owner is gone.
package final class DirectoryLock: @unchecked Sendable {
    /// The open directory (O_CLOEXEC): the lock lives as long as it is open.
    package private(set) var fd: Int32

    /// nil when another holds it and `wait` is false; throws when the
    /// directory cannot be opened (or is a symlink) or flock fails otherwise.
    package init?(_ path: String, wait: Bool) throws {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("open '\(path)'", path: path, errno: errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let err = errno
            if err == EINTR { continue }
            close(fd)
            fd = -1
            if err == EWOULDBLOCK { return nil }
            throw NookError.sys("flock '\(path)'", path: path, errno: err)
        }
    }

    /// A lock already held through `fd` (inherited from the process that
    /// took it): this process holds it too from now on, and closes it.
    package init(adopting fd: Int32) {
        self.fd = fd
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // never passed on to the container or a helper
    }

    package func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
