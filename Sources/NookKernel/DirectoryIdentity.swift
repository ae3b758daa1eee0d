import Glibc
import NookCore

/// A directory's device and inode: what the walks of deep trees
/// (`TreeRemover`, the copy driver's `LayerFlattener`) check when they
/// reopen a directory they had closed. Both keep only the deepest
/// `openLevels` directories open (a tree can be as deep as its paths allow,
/// far deeper than the descriptors a process may have) and, going back up
/// past them, reopen the parent as `..` of the child: no path is resolved,
/// no symlink followed, and a directory moved meanwhile is refused.
package struct DirectoryIdentity: Hashable, Sendable {
    package var device: UInt64
    package var inode: UInt64

    /// How many levels of a walk keep their directories open.
    package static let openLevels = 32

    /// The identity of the open directory `fd`.
    package init(_ fd: Int32, label: @autoclosure () -> String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NookError.sys("stat '\(label())'", errno: errno) }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// `..` of the open directory `child`, opened, and checked to be this directory.
    package func reopen(asParentOf child: Int32, label: @autoclosure () -> String) throws -> Int32 {
        let fd = openat(child, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("open '\(label())' again", errno: errno) }
        do {
            guard try DirectoryIdentity(fd, label: label()) == self else {
                throw NookError("'\(label())' was moved while nook walked it", hint: "nothing else may change the tree meanwhile")
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }
}
