import Glibc

/// `rm -rf` as the caller, never following a symlink (each level is opened
/// relative to its parent with O_NOFOLLOW). Directories of ours left without
/// search or write permission (overlayfs's `work/work` is mode 0) are opened
/// up first. Returns whether the tree is gone.
enum TreeRemoval {
    static func remove(_ path: String) -> Bool {
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else { return false }
        let parentPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return access(path, F_OK) != 0 }
        defer { close(parent) }
        _ = removeEntry(name, in: parent)
        return faccessat(parent, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0
    }

    /// Removes `name` in `dir`, recursing into a directory; false if anything stayed.
    private static func removeEntry(_ name: String, in dir: Int32) -> Bool {
        if unlinkat(dir, name, 0) == 0 || errno == ENOENT { return true }
        guard errno == EISDIR || errno == EPERM else { return false }
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR else { return false }
        if st.st_uid == geteuid() && st.st_mode & 0o700 != 0o700 { _ = fchmodat(dir, name, 0o700, 0) }
        let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, let stream = fdopendir(fd) else { return false }
        var names: [String] = []
        while let entry = readdir(stream) {
            let n = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if n != "." && n != ".." { names.append(n) }
        }
        var all = true
        for n in names where !removeEntry(n, in: dirfd(stream)) { all = false }
        closedir(stream)
        return all && unlinkat(dir, name, AT_REMOVEDIR) == 0
    }
}
