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
/// Extended attributes are not copied: file capabilities (`security.capability`)
/// included, by design; `droppedCapability` hears each file that had one.
///
/// The walk is iterative (a stack of directories, not recursion: a layer's
/// tree can be as deep as its paths allow), and only the deepest
/// `DirectoryIdentity.openLevels` directories hold open file descriptors:
/// going back up past them reopens the parent as `..` of the child, checked
/// to be the same directory (device and inode) it was.
package struct LayerFlattener {
    let destinationRoot: Int32
    /// A layer's hard links: the first copy's path (relative to the destination).
    private var copied: [InodeKey: String] = [:]
    /// Told the path (in the container: "/bin/ping") of each file whose capabilities were not copied.
    private let droppedCapability: (String) -> Void

    struct InodeKey: Hashable { var device: UInt64; var inode: UInt64 }

    /// One directory being copied: the layer's (`source`) and the copy's (`target`).
    private struct Level {
        /// Its name in its parent ("" for the layer's root).
        let name: String
        /// -1 while closed (a level above the open ones).
        var source: Int32
        var target: Int32
        let sourceID: DirectoryIdentity
        let targetID: DirectoryIdentity
        let entries: [String]
        var next = 0
    }

    /// - Parameter droppedCapability: called with the path, in the container, of every
    ///   file whose `security.capability` (file capabilities) was not copied.
    package static func flatten(layers: [String], into destination: String,
                                droppedCapability: @escaping (String) -> Void = { _ in }) throws {
        let root = open(destination, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw NookError.sys("open '\(destination)'", errno: errno) }
        defer { close(root) }
        var flattener = LayerFlattener(destinationRoot: root, droppedCapability: droppedCapability)
        for layer in layers {
            let source = open(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard source >= 0 else { throw NookError.sys("open layer '\(layer)'", errno: errno) }
            defer { close(source) }
            flattener.copied = [:]
            try flattener.merge(layer: source, label: layer)
        }
    }

    /// The path of `name` in the directory at the top of `stack`, relative to the layer ("a/b/name").
    private static func relative(_ stack: [Level], _ name: String? = nil) -> String {
        (stack.dropFirst().map(\.name) + (name.map { [$0] } ?? [])).joined(separator: "/")
    }

    private static func openDirectory(_ parent: Int32, _ name: String) -> Int32 {
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }

    /// A level over the open directories `source` and `target`, which it now owns.
    private static func level(_ name: String, source: Int32, target: Int32, label: @autoclosure () -> String) throws -> Level {
        do {
            return Level(name: name, source: source, target: target, sourceID: try DirectoryIdentity(source, label: label()),
                         targetID: try DirectoryIdentity(target, label: label()),
                         entries: try DirectoryEntries.read(source, label: label()).map(\.name))
        } catch {
            close(source)
            close(target)
            throw error
        }
    }

    /// Copies the layer `layer` (an open directory) over the destination.
    private mutating func merge(layer: Int32, label: String) throws {
        let source = fcntl(layer, F_DUPFD_CLOEXEC, 0)
        guard source >= 0 else { throw NookError.sys("open '\(label)'", errno: errno) }
        let target = fcntl(destinationRoot, F_DUPFD_CLOEXEC, 0)
        guard target >= 0 else { let err = errno; close(source); throw NookError.sys("open the copy's root", errno: err) }
        var stack = [try Self.level("", source: source, target: target, label: label)]
        /// The first level whose directories are open: those above it are closed.
        var firstOpen = 0
        defer {
            for level in stack where level.source >= 0 {
                close(level.source)
                close(level.target)
            }
        }
        func what(_ name: String? = nil) -> String {
            let path = Self.relative(stack, name)
            return path.isEmpty ? label : label + "/" + path
        }
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].entries.count else {
                // Every entry done: the directory's own owner, mode and times, then back up.
                let done = stack[top]
                try Self.copyMetadata(from: done.source, to: done.target, label: what())
                if top > 0 && firstOpen == top {
                    // Its parent was closed: reopen it as `..`, checked to be the same directory.
                    stack[top - 1].source = try stack[top - 1].sourceID.reopen(asParentOf: done.source, label: what() + "/..")
                    firstOpen = top - 1
                    stack[top - 1].target = try stack[top - 1].targetID.reopen(asParentOf: done.target, label: "the copy of " + what() + "/..")
                }
                stack.removeLast()
                close(done.source)
                close(done.target)
                continue
            }
            let name = stack[top].entries[stack[top].next]
            stack[top].next += 1
            let (source, target) = (stack[top].source, stack[top].target)
            var st = stat()
            guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw NookError.sys("stat '\(what(name))'", errno: errno) }
            let type = st.st_mode & S_IFMT
            var existing = stat()
            let exists = fstatat(target, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            if type == S_IFCHR && st.st_rdev == 0 {  // a whiteout
                if exists { try TreeRemover.remove(name, in: target, label: Self.relative(stack, name)) }
                continue
            }
            if type == S_IFDIR {
                let sub = Self.openDirectory(source, name)
                guard sub >= 0 else { throw NookError.sys("open '\(what(name))'", errno: errno) }
                if exists && (existing.st_mode & S_IFMT != S_IFDIR || Self.isOpaque(sub)) {
                    do { try TreeRemover.remove(name, in: target, label: Self.relative(stack, name)) } catch { close(sub); throw error }
                }
                if mkdirat(target, name, 0o700) != 0 && errno != EEXIST {
                    let err = errno
                    close(sub)
                    throw NookError.sys("mkdir '\(Self.relative(stack, name))'", errno: err)
                }
                let subTarget = Self.openDirectory(target, name)
                guard subTarget >= 0 else { let err = errno; close(sub); throw NookError.sys("open '\(Self.relative(stack, name))'", errno: err) }
                stack.append(try Self.level(name, source: sub, target: subTarget, label: what(name)))
                // Only the deepest levels stay open: the one above them closes (reopened on the way back).
                if stack.count - firstOpen > DirectoryIdentity.openLevels {
                    close(stack[firstOpen].source)
                    close(stack[firstOpen].target)
                    stack[firstOpen].source = -1
                    stack[firstOpen].target = -1
                    firstOpen += 1
                }
                continue
            }
            let path = Self.relative(stack, name)
            if exists { try TreeRemover.remove(name, in: target, label: path) }
            let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if st.st_nlink > 1, let first = copied[key] {
                guard linkat(destinationRoot, first, target, name, 0) == 0 else { throw NookError.sys("link '\(path)'", errno: errno) }
                continue
            }
            if try Self.copyEntry(name, type: type, st, from: source, to: target, what: what(name)) { droppedCapability("/" + path) }
            if st.st_nlink > 1 { copied[key] = path }
        }
    }

    /// `user.overlay.opaque=y` on the open directory: it hides what lower layers have in it.
    static func isOpaque(_ dir: Int32) -> Bool {
        var value = [UInt8](repeating: 0, count: 2)
        return Syscall.fgetxattr(dir, LayerTreeWriter.opaqueAttribute, &value) == 1 && value[0] == UInt8(ascii: "y")
    }

    /// The open file has file capabilities (`security.capability`), readable here or not.
    static func hasCapabilities(_ fd: Int32) -> Bool {
        var none: [UInt8] = []
        if Syscall.fgetxattr(fd, "security.capability", &none) >= 0 { return true }
        return errno != ENODATA && errno != EOPNOTSUPP
    }

    /// Returns true when the file had capabilities, which the copy does not have.
    private static func copyEntry(_ name: String, type: mode_t, _ st: stat, from source: Int32, to target: Int32, what: String) throws -> Bool {
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
            return hasCapabilities(input)
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
        return false
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
                // Nothing written and no error: trying again would loop for ever.
                guard w > 0 else { throw NookError("write a copy of '\(what)': the file system took no bytes", hint: "is the disk full?") }
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
}
