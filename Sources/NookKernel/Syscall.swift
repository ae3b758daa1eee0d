import CShims
import Glibc

/// The calls the runtime makes that Swift cannot import from Glibc (raw
/// syscalls, ioctls, prctls), each as the kernel answers: a result, and -1
/// with errno on failure. Only this module sees the C shim.
package enum Syscall {
    /// pipe2(O_CLOEXEC) into `fds[0]` (read end) and `fds[1]`.
    package static func pipe(_ fds: inout [Int32]) -> Int32 { nook_pipe_cloexec(&fds) }
    /// open(path, O_PATH | O_CLOEXEC): a handle that is not a reader (for exec.fifo).
    package static func openPath(_ path: String) -> Int32 { nook_open_path(path) }
    /// close_range(fd, ~0, 0): close every fd from fd up.
    package static func closeFrom(_ fd: Int32) -> Int32 { nook_close_from(fd) }
    /// openat2(dirfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
    /// `path` resolved as if dirfd were "/", so no symlink on the way leaves it.
    package static func openInRoot(_ dirfd: Int32, _ path: String, flags: Int32, mode: mode_t = 0) -> Int32 {
        nook_openat2_in_root(dirfd, path, flags, Int32(mode))
    }
    /// O_PATH: a handle to a place in the tree, for *at calls, that reads nothing.
    package static var pathOnlyFlag: Int32 { nook_o_path() }
    /// fsetxattr(fd, name, value, 0).
    package static func setAttribute(_ fd: Int32, _ name: String, _ value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { nook_fsetxattr(fd, name, $0.baseAddress, $0.count) }
    }
    /// `count` random bytes from getrandom(2).
    package static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        _ = bytes.withUnsafeMutableBytes { nook_getrandom($0.baseAddress, count) }
        return bytes
    }
    /// renameat2(from, to, RENAME_NOREPLACE): fails with EEXIST when `to` exists, even an empty directory.
    /// lgetxattr(2) into `value`: the value's length, or -1 with errno (ENODATA: no such attribute).
    package static func lgetxattr(_ path: String, _ name: String, _ value: inout [UInt8]) -> Int {
        value.withUnsafeMutableBytes { nook_lgetxattr(path, name, $0.baseAddress, $0.count) }
    }

    /// fgetxattr(2) into `value` (empty: only the length), the same for an open file.
    package static func fgetxattr(_ fd: Int32, _ name: String, _ value: inout [UInt8]) -> Int {
        value.withUnsafeMutableBytes { nook_fgetxattr(fd, name, $0.baseAddress, $0.count) }
    }

    package static func renameNoReplace(_ from: String, _ to: String) -> Int32 { nook_rename_noreplace(from, to) }
    /// open_tree(path, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC[|AT_RECURSIVE]): a detached copy of a mount.
    package static func openTreeClone(_ path: String, recursive: Bool) -> Int32 { nook_open_tree_clone(path, recursive ? 1 : 0) }
    /// ioctl(fd, FIONREAD): bytes waiting in a pipe or FIFO (either end), or -1.
    package static func pendingBytes(_ fd: Int32) -> Int32 { nook_pending_bytes(fd) }
    /// Sends fd over the unix socket at path (a --console-socket). Returns 0 or -errno.
    package static func sendFD(_ fd: Int32, toSocket path: String) -> Int32 { nook_send_fd_to_socket(path, fd) }
}
