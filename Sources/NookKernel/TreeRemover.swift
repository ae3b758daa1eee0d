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
    /// Iterative, with at most `DirectoryIdentity.openLevels` directories open at once:
    /// a tree of any depth is removed with a few descriptors and no deep stack.
    package static func remove(_ name: String, in parent: Int32, label: String) throws {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw NookError.sys("remove '\(label)'", path: label, errno: errno) }
        var stack = [try level(name, in: parent, label: label)]
        /// The first level whose directory is open: those above it are closed.
        var firstOpen = 0
        defer { for level in stack where level.fd >= 0 { close(level.fd) } }
        /// The path of `child` of the deepest level (or of that level), for messages.
        func path(_ child: String? = nil) -> String {
            ([label] + stack.dropFirst().map(\.name) + (child.map { [$0] } ?? [])).joined(separator: "/")
        }
        while !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].next < stack[top].entries.count {
                let child = stack[top].entries[stack[top].next]
                stack[top].next += 1
                if unlinkat(stack[top].fd, child, 0) == 0 || errno == ENOENT { continue }
                guard errno == EISDIR || errno == EPERM else { throw NookError.sys("remove '\(path(child))'", path: path(child), errno: errno) }
                stack.append(try level(child, in: stack[top].fd, label: path(child)))
                if stack.count - firstOpen > DirectoryIdentity.openLevels {
                    close(stack[firstOpen].fd)
                    stack[firstOpen].fd = -1
                    firstOpen += 1
                }
                continue
            }
            // Empty now: it goes from its parent, reopened first if it was closed.
            let here = path()
            if top > 0 && stack[top - 1].fd < 0 {
                stack[top - 1].fd = try stack[top - 1].identity.reopen(asParentOf: stack[top].fd, label: here + "/..")
                firstOpen = top - 1
            }
            let done = stack.removeLast()
            close(done.fd)
            let from = stack.last?.fd ?? parent
            guard unlinkat(from, done.name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw NookError.sys("remove '\(here)'", path: here, errno: errno) }
        }
    }

    /// One directory being emptied: open, its entries read.
    private struct Level {
        let name: String
        /// -1 while closed (a level above the open ones).
        var fd: Int32
        let identity: DirectoryIdentity
        let entries: [String]
        var next = 0
    }

    /// The directory `name` of `parent`, opened up if it is ours without
    /// write or search permission, opened, and its entries read.
    private static func level(_ name: String, in parent: Int32, label: String) throws -> Level {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw NookError.sys("remove '\(label)'", path: label, errno: EPERM)
        }
        if st.st_mode & 0o700 != 0o700 { _ = fchmodat(parent, name, 0o700, 0) } // not ours: EPERM, and the reads below say so
        let dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { throw NookError.sys("open '\(label)'", path: label, errno: errno) }
        do {
            return Level(name: name, fd: dir, identity: try DirectoryIdentity(dir, label: label),
                         entries: try DirectoryEntries.read(dir, label: label).map(\.name))
        } catch {
            close(dir)
            throw error
        }
    }
}
