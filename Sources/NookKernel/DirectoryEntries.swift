import Glibc
import NookCore

/// One entry of a directory: its name and the type readdir(3) gave
/// (`d_type`: DT_DIR, DT_REG, ...; DT_UNKNOWN where the filesystem does not say).
package struct DirectoryEntry: Sendable, Equatable {
    package var name: String
    package var type: UInt8
}

/// The one directory reader: every list of a directory's entries in Nook
/// goes through here. "." and ".." are left out; an error while reading
/// (readdir(3) returns NULL both at the end and on an error) is an error,
/// not a shorter list; no file descriptor outlives the call, whatever fails.
package enum DirectoryEntries {
    /// The entries of the open directory `dir`, which stays open and ours
    /// (a duplicate of it is read, from its start).
    package static func read(_ dir: Int32, label: String) throws -> [DirectoryEntry] {
        let copy = fcntl(dir, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw NookError.sys("read '\(label)'", path: label, errno: errno) }
        return try readOwning(copy, label: label)
    }

    /// The entries of the directory at `path` (symlinks followed only if `followLinks`).
    package static func read(atPath path: String, followLinks: Bool = true) throws -> [DirectoryEntry] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw NookError.sys("read '\(path)'", path: path, errno: errno) }
        return try readOwning(fd, label: path)
    }

    /// Names only, of the directory at `path`; nil when it cannot be opened or read.
    package static func names(atPath path: String) -> [String]? {
        // unreadable: the caller's nil (each says what that means for it)
        guard let entries = try? read(atPath: path) else { return nil }
        return entries.map(\.name)
    }

    /// Reads `fd` (a directory fd we own) and closes it.
    private static func readOwning(_ fd: Int32, label: String) throws -> [DirectoryEntry] {
        guard let stream = fdopendir(fd) else {
            let err = errno
            close(fd)  // fdopendir failed: the fd is still ours to close
            throw NookError.sys("read '\(label)'", path: label, errno: err)
        }
        defer { closedir(stream) }
        rewinddir(stream)  // a duplicate shares its offset with the original
        var entries: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw NookError.sys("read '\(label)'", path: label, errno: errno) }
                return entries
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { entries.append(DirectoryEntry(name: name, type: entry.pointee.d_type)) }
        }
    }
}
