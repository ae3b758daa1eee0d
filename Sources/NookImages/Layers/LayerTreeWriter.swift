import CArchive
import Glibc
import NookCore
import NookKernel

/// Writes tar entries into a layer's directory, itself: every parent is
/// resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the
/// layer's root (a symlink in the layer, `x -> /`, resolves inside it, never
/// to the host), and the last component is made with a call that does not
/// follow a link there (O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat,
/// mknodat, linkat without AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW).
///
/// Overlayfs form: `.wh.NAME` becomes a character device 0/0 named NAME, and
/// `.wh..wh..opq` marks its directory opaque (`user.overlay.opaque=y`, read
/// by an overlay mounted with `userxattr`).
final class LayerTreeWriter {
    let root: Int32
    let rootPath: String
    let keepOwnership: Bool
    private(set) var report = UnpackReport()
    /// Directory times, set at the end: entries written into a directory change its mtime.
    private var directoryTimes: [(String, [timespec])] = []

    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"
    package static let opaqueAttribute = "user.overlay.opaque"

    init(root: String, keepOwnership: Bool) throws {
        rootPath = root
        self.root = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard self.root >= 0 else { throw NookError.sys("open '\(root)'", path: root, errno: errno) }
        self.keepOwnership = keepOwnership
    }

    deinit { close(root) }

    func write(_ entry: TarEntry, from reader: OpaquePointer, label: String) throws {
        guard let name = entry.name else {
            throw NookError("\(label): an entry's name '\(PrintableText.escaped(entry.rawName, limit: PrintableText.nameLimit))' is not UTF-8, which Nook cannot unpack yet",
                            hint: "rebuild the image with UTF-8 file names")
        }
        let path = try LayerEntryPath(name)
        let what = "\(label): entry '\(PrintableText.escaped(path.relative, limit: PrintableText.nameLimit))'"
        if path.isRoot {
            guard entry.mode & S_IFMT == S_IFDIR else { throw NookError("\(what): the layer's root is not a directory", hint: "the image is broken") }
            try setMetadata(fd: root, entry, what: what)
            directoryTimes.append(("/", times(entry)))
            return
        }
        // A whiteout name is a marker, never a directory: what lies under aufs'
        // own `.wh..wh.*` is not content (as docker skips it); under `.wh.NAME`
        // or `.wh..wh..opq`, it is a broken or hostile layer.
        if let marker = path.components.dropLast().first(where: { $0.hasPrefix(Self.whiteoutPrefix) }) {
            if marker.hasPrefix(Self.whiteoutPrefix + Self.whiteoutPrefix) && marker != Self.opaqueMarker { return }
            throw NookError("\(what): '\(PrintableText.escaped(marker))' is a whiteout marker used as a directory",
                            hint: "the image is broken or hostile; nook refuses the layer")
        }
        let parent = try openParent(path, what: what)
        defer { close(parent) }
        if path.name == Self.opaqueMarker {
            let dir = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { close(dir) }
            guard dir >= 0, Syscall.setAttribute(dir, Self.opaqueAttribute, Array("y".utf8)) == 0 else {
                throw NookError.sys("\(what): mark its directory opaque (\(Self.opaqueAttribute))", errno: errno)
            }
            return
        }
        if path.name.hasPrefix(Self.whiteoutPrefix + Self.whiteoutPrefix) { return }  // aufs' own files (.wh..wh.plnk): not content
        if path.name.hasPrefix(Self.whiteoutPrefix) {
            let hidden = String(path.name.dropFirst(Self.whiteoutPrefix.count))
            // `.wh..` or `.wh...` would name the directory itself or its parent: clearing
            // that would empty what lies outside this entry (the whole layers/ directory).
            guard !hidden.isEmpty, hidden != ".", hidden != "..", !hidden.contains("/") else {
                throw NookError("\(what): a whiteout that names '\(PrintableText.escaped(hidden))', not a file of its directory",
                                hint: "the image is broken or hostile; nook refuses the layer")
            }
            try clear(hidden, in: parent, forDirectory: false, what: what)
            guard mknodat(parent, hidden, S_IFCHR | 0o000, 0) == 0 else { throw NookError.sys("\(what): make the whiteout (a 0/0 device)", errno: errno) }
            return
        }
        if let target = entry.hardlink {
            try link(path.name, in: parent, to: try LayerEntryPath(target), what: what)
            return
        }
        let type = entry.mode & S_IFMT
        try clear(path.name, in: parent, forDirectory: type == S_IFDIR, what: what)
        switch type {
        case S_IFREG: try writeFile(path.name, in: parent, entry, from: reader, what: what)
        case S_IFDIR:
            if mkdirat(parent, path.name, 0o700) != 0 && errno != EEXIST { throw NookError.sys("\(what): mkdir", errno: errno) }
            let dir = openat(parent, path.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard dir >= 0 else { throw NookError.sys("\(what): open", errno: errno) }
            defer { close(dir) }
            try setMetadata(fd: dir, entry, what: what)
            directoryTimes.append(("/" + path.relative, times(entry)))
        case S_IFLNK:
            guard let target = entry.symlink, symlinkat(target, parent, path.name) == 0 else { throw NookError.sys("\(what): symlink", errno: errno) }
            try own(path.name, in: parent, entry, what: what)
            _ = utimensat(parent, path.name, times(entry), AT_SYMLINK_NOFOLLOW)
        case S_IFIFO, S_IFCHR, S_IFBLK:
            if mknodat(parent, path.name, type | (entry.mode & 0o7777), entry.rdev) != 0 {
                guard errno == EPERM, type != S_IFIFO else { throw NookError.sys("\(what): mknod", errno: errno) }
                report.skippedDevices += 1
                if report.skippedExample.isEmpty { report.skippedExample = "/" + path.relative }
                return
            }
            try own(path.name, in: parent, entry, what: what)
            guard fchmodat(parent, path.name, entry.mode & 0o7777, 0) == 0 else { throw NookError.sys("\(what): chmod", errno: errno) }
            _ = utimensat(parent, path.name, times(entry), AT_SYMLINK_NOFOLLOW)
        default:
            // A socket in a tar is a leftover of the machine it was made on: nothing to unpack.
            report.skippedDevices += 1
            if report.skippedExample.isEmpty { report.skippedExample = "/" + path.relative }
        }
    }

    /// Sets the directories' times, last: nothing is written into them after this.
    func finish() throws {
        for (path, times) in directoryTimes.reversed() {
            let fd = Syscall.openInRoot(root, path, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            guard fd >= 0 else { continue }  // replaced by a later entry: its times are its own
            _ = futimens(fd, times)
            close(fd)
        }
    }

    /// The directory that will hold the entry, made (0755, as docker does) where missing.
    private func openParent(_ path: LayerEntryPath, what: String) throws -> Int32 {
        let flags = Syscall.pathOnlyFlag | O_DIRECTORY
        let fd = Syscall.openInRoot(root, path.parent, flags: flags)
        if fd >= 0 { return fd }
        guard errno == ENOENT else { throw NookError.sys("\(what): its directory", errno: errno) }
        var current = dup(root)
        for index in 0..<(path.components.count - 1) {
            let prefix = "/" + path.components[...index].joined(separator: "/")
            var next = Syscall.openInRoot(root, prefix, flags: flags)
            if next < 0 && errno == ENOENT {
                if mkdirat(current, path.components[index], 0o755) != 0 {
                    let err = errno
                    close(current)
                    throw NookError.sys("\(what): make its directory '\(prefix)'", path: prefix, errno: err,
                                        hint: err == EEXIST ? "'\(prefix)' is a symbolic link to nothing in the layer: the layer cannot be unpacked" : nil)
                }
                next = Syscall.openInRoot(root, prefix, flags: flags)
            }
            let err = errno
            close(current)
            guard next >= 0 else { throw NookError.sys("\(what): its directory '\(prefix)'", path: prefix, errno: err) }
            current = next
        }
        return current
    }

    /// Makes room for a new entry: what is there goes, unless both are directories (tar's rule: the later entry wins).
    private func clear(_ name: String, in parent: Int32, forDirectory: Bool, what: String) throws {
        // Only a name in `parent`: "." or ".." would remove the directory or its parent.
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw NookError("\(what): '\(PrintableText.escaped(name))' is not a name of a file in its directory", hint: "the image is broken or hostile")
        }
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if forDirectory && st.st_mode & S_IFMT == S_IFDIR { return }
        let dir = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw NookError.sys("\(what): open its directory", errno: errno) }
        defer { close(dir) }
        try TreeRemover.remove(name, in: dir, label: what)
    }

    private func writeFile(_ name: String, in parent: Int32, _ entry: TarEntry, from reader: OpaquePointer, what: String) throws {
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NookError.sys("\(what): create", errno: errno) }
        defer { close(fd) }
        try ArchiveEntryData.write(reader, to: fd, label: what)
        // A sparse file's hole at the end has no block to write.
        guard ftruncate(fd, off_t(entry.size)) == 0 else { throw NookError.sys("\(what): truncate", errno: errno) }
        try setMetadata(fd: fd, entry, what: what)
        _ = futimens(fd, times(entry))
    }

    /// A hard link: its target must already be in this layer; linkat does not follow a symlink there.
    private func link(_ name: String, in parent: Int32, to target: LayerEntryPath, what: String) throws {
        guard !target.isRoot else { throw NookError("\(what): a hard link to the layer's root", hint: "the image is broken or hostile: do not use it") }
        let targetParent = Syscall.openInRoot(root, target.parent, flags: Syscall.pathOnlyFlag | O_DIRECTORY)
        guard targetParent >= 0 else {
            throw NookError.sys("\(what): its hard link target '\(PrintableText.escaped(target.relative, limit: PrintableText.nameLimit))'", errno: errno,
                                hint: "a hard link may only point to a file earlier in the same layer")
        }
        defer { close(targetParent) }
        var st = stat()
        guard fstatat(targetParent, target.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw NookError.sys("\(what): its hard link target '\(PrintableText.escaped(target.relative, limit: PrintableText.nameLimit))'", errno: errno,
                                hint: "a hard link may only point to a file earlier in the same layer")
        }
        try clear(name, in: parent, forDirectory: false, what: what)
        guard linkat(targetParent, target.name, parent, name, 0) == 0 else { throw NookError.sys("\(what): link", errno: errno) }
    }

    /// Owner, mode (after the owner: chown clears setuid bits) and extended
    /// attributes (after the owner too: chown clears security.capability).
    private func setMetadata(fd: Int32, _ entry: TarEntry, what: String) throws {
        if keepOwnership {
            guard let uid = uid_t(exactly: entry.uid), let gid = gid_t(exactly: entry.gid) else {
                throw NookError("\(what): owner \(entry.uid):\(entry.gid) is not a valid id", hint: "the image is broken")
            }
            guard fchown(fd, uid, gid) == 0 else { throw ownerError(entry, what: what) }
        }
        guard fchmod(fd, entry.mode & 0o7777) == 0 else { throw NookError.sys("\(what): chmod", errno: errno) }
        for (name, value) in entry.xattrs {
            if Syscall.setAttribute(fd, name, value) == 0 { continue }
            // security.* and trusted.* need privilege over the host's namespace: skipped, said once.
            guard errno == EPERM || errno == EOPNOTSUPP, name.hasPrefix("security.") || name.hasPrefix("trusted.") else {
                throw NookError.sys("\(what): set the extended attribute \(name)", errno: errno)
            }
            report.skippedAttributes += 1
            if report.skippedAttributeExample.isEmpty { report.skippedAttributeExample = name }
        }
    }

    private func own(_ name: String, in parent: Int32, _ entry: TarEntry, what: String) throws {
        guard keepOwnership else { return }
        guard let uid = uid_t(exactly: entry.uid), let gid = gid_t(exactly: entry.gid) else {
            throw NookError("\(what): owner \(entry.uid):\(entry.gid) is not a valid id", hint: "the image is broken")
        }
        guard fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw ownerError(entry, what: what) }
    }

    private func ownerError(_ entry: TarEntry, what: String) -> NookError {
        if errno == EINVAL {
            return NookError("\(what) is owned by \(entry.uid):\(entry.gid), beyond the ids your sub-id range maps",
                             hint: "give your user a larger range in /etc/subuid and /etc/subgid (65536 ids, as podman wants)")
        }
        return NookError.sys("\(what): chown \(entry.uid):\(entry.gid)", errno: errno)
    }

    private func times(_ entry: TarEntry) -> [timespec] { [entry.atime ?? entry.mtime, entry.mtime] }
}
