import CShims
import Glibc
import SystemPackage
import NookCore

/// Small, honest helpers for host paths (no Foundation on the start path).
package enum HostPath {
    package static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` absolute against the current directory, without following symlinks.
    package static func absolute(_ path: String) throws -> String {
        let full = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        return FilePath(full).lexicallyNormalized().string
    }

    /// The first executable `name` in $PATH (or the default path).
    /// `searchPath`: the PATH to look in (nil: ours).
    package static func findExecutable(_ name: String, searchPath: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = searchPath ?? getenv("PATH").map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 && !isDirectory(candidate) { return candidate }
        }
        return nil
    }

    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names of the directories in `path` (none if it cannot be read).
    package static func subdirectories(_ path: String) -> [String] { names(in: path, type: Int32(DT_DIR)) }

    /// The regular files directly in `path`, sorted; [] when it cannot be read.
    package static func regularFiles(_ path: String) -> [String] { names(in: path, type: Int32(DT_REG)) }

    static func names(in path: String, type: Int32) -> [String] {
        // unreadable: none, as documented above
        guard let entries = try? DirectoryEntries.read(atPath: path) else { return [] }
        return entries.filter { Int32($0.type) == type }.map(\.name).sorted()
    }

    /// The bytes of `path`, for a file a user names (config.json, --env-file,
    /// a seccomp profile) or Nook's own. `label` names it in errors
    /// ("--env-file /dev/zero"); `noFollow` refuses a symlink.
    package static func readBytes(_ path: String, as kind: FileKind = .own, label: String? = nil,
                                 noFollow: Bool = false) throws -> [UInt8] {
        let what = label ?? "'\(path)'"
        let fd = open(path, readFlags | (noFollow ? O_NOFOLLOW : 0))
        guard fd >= 0 else {
            let err = errno
            if err == ELOOP && noFollow { throw NookError("\(what): a symbolic link, not a regular file") }
            throw NookError.sys(what, errno: err)
        }
        defer { close(fd) }
        return try readRegular(fd, as: kind, label: what)
    }

    /// The bytes of `path` inside `root` (a rootfs), resolved with
    /// RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS: a symlink in the image
    /// (`/etc/passwd -> /etc/passwd`, or `../../..`) stays inside it and never
    /// reads the host's file. nil when the file does not exist.
    package static func readBytes(inRoot root: String, _ path: String, as kind: FileKind) throws -> [UInt8]? {
        let what = "\(path) in the rootfs \(root)"
        let dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw NookError.sys("rootfs '\(root)'", path: root, errno: errno) }
        defer { close(dir) }
        let fd = nook_openat2_in_root(dir, path, readFlags, 0)
        guard fd >= 0 else {
            let err = errno
            if err == ENOENT || err == ENOTDIR { return nil }
            throw NookError.sys(what, errno: err)
        }
        defer { close(fd) }
        return try readRegular(fd, as: kind, label: what)
    }

    /// Opening cannot block (a FIFO with no writer, a tty) and no tty becomes ours.
    static let readFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC

    /// Reads an open file whole, if it is a regular file of at most `kind.limit`
    /// bytes: a FIFO or a device could block the read or never end (/dev/zero).
    static func readRegular(_ fd: Int32, as kind: FileKind, label: String) throws -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NookError.sys("\(label): fstat", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw NookError("\(label): \(fileType(st.st_mode)), not a regular file",
                            hint: "\(kind.name) must be a regular file: a pipe or a device could block or never end")
        }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // One byte past the limit tells "too large" from "exactly the limit".
            let n = Glibc.read(fd, &chunk, min(chunk.count, kind.limit + 1 - data.count))
            if n < 0 {
                if errno == EINTR { continue }
                throw NookError.sys("\(label): read", errno: errno)
            }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
            if data.count > kind.limit {
                throw NookError("\(label): larger than \(kind.limitDescription), the limit for \(kind.name)",
                                hint: "is it the right file?")
            }
        }
    }

    /// "a FIFO", "a character device": what a file is, for errors.
    package static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "an unknown kind of file"
        }
    }

    package static func readText(_ path: String, as kind: FileKind = .own, label: String? = nil) throws -> String {
        String(decoding: try readBytes(path, as: kind, label: label), as: UTF8.self)
    }

    /// Writes a whole file at once (id maps and cgroup files must be one write).
    package static func writeText(_ path: String, _ text: String, create: Bool = false, mode: mode_t = 0o644) throws {
        do {
            let options: FileDescriptor.OpenOptions = create ? [.closeOnExec, .create, .truncate] : [.closeOnExec]
            let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: options,
                                             permissions: create ? FilePermissions(rawValue: mode) : nil)
            defer { try? fd.close() }  // the write above succeeded in full or threw; a close error loses nothing
            _ = try fd.writeAll(Array(text.utf8))
        } catch let errno as Errno {
            throw NookError.sys("write '\(path)'", path: path, errno: errno.rawValue)
        }
    }
}
