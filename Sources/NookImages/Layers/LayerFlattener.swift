import Glibc
import NookCore
import NookKernel

/// The copy fallback, for a kernel that cannot mount overlayfs in a user
/// namespace: an image's layers (overlayfs form) copied into one plain
/// directory, bottom first, as an overlay would show them merged. A whiteout
/// (character device 0/0) removes what lower layers put at its name; an
/// opaque directory (`user.overlay.opaque=y`) hides their contents. Run as
/// root of the container's user namespace, so owners are kept. Every entry
/// is reached relative to an open directory, never through a symlink.
/// Extended attributes are not copied (file capabilities included).
package struct LayerFlattener {
    let destinationRoot: Int32
    /// A layer's hard links: the first copy's path (relative to the destination).
    private var copied: [InodeKey: String] = [:]

    struct InodeKey: Hashable { var device: UInt64; var inode: UInt64 }

    package static func flatten(layers: [String], into destination: String) throws {
        let root = open(destination, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw NookError.sys("open '\(destination)'", errno: errno) }
        defer { close(root) }
        var flattener = LayerFlattener(destinationRoot: root)
        for layer in layers {
            let source = open(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard source >= 0 else { throw NookError.sys("open layer '\(layer)'", errno: errno) }
            defer { close(source) }
            flattener.copied = [:]
            try flattener.merge(source, into: root, relative: "", label: layer)
            try copyMetadata(from: source, to: root, label: layer)
        }
    }

    private mutating func merge(_ source: Int32, into target: Int32, relative: String, label: String) throws {
        for name in try Self.names(source, label: label) {
            let what = label + "/" + name
            let path = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw NookError.sys("stat '\(what)'", errno: errno) }
            let type = st.st_mode & S_IFMT
            var existing = stat()
            let exists = fstatat(target, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            if type == S_IFCHR && st.st_rdev == 0 {  // a whiteout
                if exists { try TreeRemover.remove(name, in: target, label: path) }
                continue
            }
            if type == S_IFDIR {
                let sub = openat(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { throw NookError.sys("open '\(what)'", errno: errno) }
                defer { close(sub) }
                if exists && (existing.st_mode & S_IFMT != S_IFDIR || LayeredTree.isOpaque(what)) {
                    try TreeRemover.remove(name, in: target, label: path)
                }
                if mkdirat(target, name, 0o700) != 0 && errno != EEXIST { throw NookError.sys("mkdir '\(path)'", errno: errno) }
                let subTarget = openat(target, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard subTarget >= 0 else { throw NookError.sys("open '\(path)'", errno: errno) }
                defer { close(subTarget) }
                try merge(sub, into: subTarget, relative: path, label: what)
                try Self.copyMetadata(from: sub, to: subTarget, label: what)
                continue
            }
            if exists { try TreeRemover.remove(name, in: target, label: path) }
            let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if st.st_nlink > 1, let first = copied[key] {
                guard linkat(destinationRoot, first, target, name, 0) == 0 else { throw NookError.sys("link '\(path)'", errno: errno) }
                continue
            }
            try Self.copyEntry(name, type: type, st, from: source, to: target, what: what)
            if st.st_nlink > 1 { copied[key] = path }
        }
    }

    private static func copyEntry(_ name: String, type: mode_t, _ st: stat, from source: Int32, to target: Int32, what: String) throws {
        switch type {
        case S_IFREG:
            let input = openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard input >= 0 else { throw NookError.sys("open '\(what)'", errno: errno) }
            defer { close(input) }
            let output = openat(target, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard output >= 0 else { throw NookError.sys("create a copy of '\(what)'", errno: errno) }
            defer { close(output) }
            try copyContents(input, output, what: what)
            try copyMetadata(from: input, to: output, label: what)
            return
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlinkat(source, name, &buffer, buffer.count - 1)
            guard n >= 0 else { throw NookError.sys("readlink '\(what)'", errno: errno) }
            buffer[n] = 0
            guard symlinkat(buffer, target, name) == 0 else { throw NookError.sys("symlink a copy of '\(what)'", errno: errno) }
        default:  // FIFOs and sockets; a device node cannot be made in a user namespace, and says so
            guard mknodat(target, name, st.st_mode, st.st_rdev) == 0 else {
                throw NookError.sys("copy '\(what)' (a special file)", errno: errno)
            }
        }
        guard fchownat(target, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw NookError.sys("chown the copy of '\(what)'", errno: errno)
        }
        if type != S_IFLNK, fchmodat(target, name, st.st_mode & 0o7777, 0) != 0 {
            throw NookError.sys("chmod the copy of '\(what)'", errno: errno)
        }
        var times = [st.st_atim, st.st_mtim]
        _ = utimensat(target, name, &times, AT_SYMLINK_NOFOLLOW)  // times are cosmetic
    }

    /// Only the data: a hole stays a hole (a sparse file of a hostile layer
    /// may declare terabytes), and the size is set at the end.
    /// lseek's SEEK_DATA and SEEK_HOLE (Linux's values; Glibc hides them without _GNU_SOURCE).
    private static let seekData: Int32 = 3, seekHole: Int32 = 4

    private static func copyContents(_ input: Int32, _ output: Int32, what: String) throws {
        var st = stat()
        guard fstat(input, &st) == 0 else { throw NookError.sys("stat '\(what)'", errno: errno) }
        let size = st.st_size
        var offset: off_t = 0
        while offset < size {
            let data = lseek(input, offset, Self.seekData)
            if data < 0 {
                if errno == ENXIO { break }  // only a hole is left
                throw NookError.sys("seek in '\(what)'", errno: errno)
            }
            let hole = lseek(input, data, Self.seekHole)
            guard hole >= 0 else { throw NookError.sys("seek in '\(what)'", errno: errno) }
            try copyRange(input, output, from: data, to: min(hole, size), what: what)
            offset = hole
        }
        guard ftruncate(output, size) == 0 else { throw NookError.sys("size the copy of '\(what)'", errno: errno) }
    }

    private static func copyRange(_ input: Int32, _ output: Int32, from start: off_t, to end: off_t, what: String) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = start
        while offset < end {
            let n = pread(input, &buffer, min(buffer.count, Int(end - offset)), offset)
            if n == 0 { return }  // shrank under us
            if n < 0 { if errno == EINTR { continue }; throw NookError.sys("read '\(what)'", errno: errno) }
            var done = 0
            while done < n {
                let w = buffer[done..<n].withUnsafeBytes { pwrite(output, $0.baseAddress, $0.count, offset + off_t(done)) }
                if w < 0 { if errno == EINTR { continue }; throw NookError.sys("write a copy of '\(what)'", errno: errno) }
                done += w
            }
            offset += off_t(n)
        }
    }

    /// Owner, mode and times of an open file or directory.
    private static func copyMetadata(from source: Int32, to target: Int32, label: String) throws {
        var st = stat()
        guard fstat(source, &st) == 0 else { throw NookError.sys("stat '\(label)'", errno: errno) }
        guard fchown(target, st.st_uid, st.st_gid) == 0 else { throw NookError.sys("chown the copy of '\(label)'", errno: errno) }
        guard fchmod(target, st.st_mode & 0o7777) == 0 else { throw NookError.sys("chmod the copy of '\(label)'", errno: errno) }
        var times = [st.st_atim, st.st_mtim]
        _ = futimens(target, &times)  // times are cosmetic
    }

    private static func names(_ dir: Int32, label: String) throws -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let e = errno
            throw NookError.sys("read '\(label)'", errno: e)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0  // readdir returns NULL both at the end and on an error
            guard let entry = readdir(stream) else {
                if errno != 0 { throw NookError.sys("read '\(label)'", errno: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}
