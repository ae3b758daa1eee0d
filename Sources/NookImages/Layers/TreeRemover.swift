import Glibc
import NookCore

/// Removes a directory tree without following a symlink in it: every
/// directory is opened relative to its parent with O_NOFOLLOW, so a layer
/// holding `x -> /` loses the link, never the host's files. Inside the user
/// namespace the files' owners (sub-ids) are root's to remove.
public enum TreeRemover {
    /// Removes `path` and everything under it; a missing path is not an error.
    public static func remove(_ path: String) throws {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let parentPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw NookError.sys("open '\(parentPath)'", errno: errno)
        }
        defer { close(parent) }
        try remove(name, in: parent, label: path)
    }

    /// Removes the entry `name` of the directory `parent`, a directory with all it holds.
    static func remove(_ name: String, in parent: Int32, label: String) throws {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR else { throw NookError.sys("remove '\(label)'", errno: errno) }
        let dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { throw NookError.sys("open '\(label)'", errno: errno) }
        // A directory of mode 0500 in an image: its entries can go only once it is writable.
        fchmod(dir, 0o700)
        guard let stream = fdopendir(dup(dir)) else { close(dir); throw NookError.sys("read '\(label)'", errno: errno) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let child = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if child != "." && child != ".." { names.append(child) }
        }
        closedir(stream)
        defer { close(dir) }
        for child in names { try remove(child, in: dir, label: label + "/" + child) }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw NookError.sys("remove '\(label)'", errno: errno) }
    }
}
