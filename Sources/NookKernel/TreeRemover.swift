import Glibc
import NookCore

/// `rm -rf` without following a symlink: every directory is opened relative
/// to its parent with O_NOFOLLOW, so a tree holding `x -> /` loses the link,
/// never the host's files. A directory of ours without write or search
/// permission (overlayfs's `work/work` is mode 0, an image's 0500) is opened
/// up first. Files of other owners (a container's sub-ids) fail here as the
/// caller: `OwnedLayer` and the layer store remove those inside a user
/// namespace, where they are root's.
package enum TreeRemover {
    /// Removes `path` and everything under it; a missing path is not an error.
    package static func remove(_ path: String) throws {
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else {
            throw NookError("cannot remove '\(path)': not an absolute path to an entry")
        }
        let parentPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw NookError.sys("open '\(parentPath)'", path: parentPath, errno: errno)
        }
        defer { close(parent) }
        try remove(String(path[path.index(after: slash)...]), in: parent, label: path)
    }

    /// Removes the entry `name` of the directory `parent`, a directory with all it holds.
    package static func remove(_ name: String, in parent: Int32, label: String) throws {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw NookError.sys("remove '\(label)'", path: label, errno: errno) }
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw NookError.sys("remove '\(label)'", path: label, errno: EPERM)
        }
        if st.st_mode & 0o700 != 0o700 { _ = fchmodat(parent, name, 0o700, 0) } // not ours: EPERM, and the reads below say so
        let dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { throw NookError.sys("open '\(label)'", path: label, errno: errno) }
        defer { close(dir) }
        for child in try DirectoryEntries.read(dir, label: label) { try remove(child.name, in: dir, label: label + "/" + child.name) }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw NookError.sys("remove '\(label)'", path: label, errno: errno) }
    }
}
