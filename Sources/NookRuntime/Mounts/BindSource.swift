import Glibc
import NookKernel

/// A bind mount's host source, looked at once: one path resolution (an O_PATH
/// open), then the fd tells whether it is a directory (what its mount point in
/// the container must be) and the flags of the mount it lives on (which the
/// kernel locks in a user namespace, `LockedMountFlags`). Like the open_tree(2)
/// that later clones it, the look follows a symlink: the source is a host path
/// the user named, not a path inside the container (those are resolved in the
/// child, RESOLVE_IN_ROOT).
package struct BindSource: Sendable, Equatable {
    package var path: String
    package var isDirectory: Bool
    /// statvfs(3)'s f_flag of the mount it is on; nil where that cannot be read.
    package var mountFlags: UInt?

    package init(path: String, isDirectory: Bool, mountFlags: UInt?) {
        self.path = path
        self.isDirectory = isDirectory
        self.mountFlags = mountFlags
    }

    /// nil: nothing there that this process can reach; the caller words the error.
    package static func look(_ path: String) -> BindSource? {
        let fd = Syscall.openPath(path)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var fs = statvfs()
        return BindSource(path: path, isDirectory: (st.st_mode & S_IFMT) == S_IFDIR,
                          mountFlags: fstatvfs(fd, &fs) == 0 ? fs.f_flag : nil)
    }
}
