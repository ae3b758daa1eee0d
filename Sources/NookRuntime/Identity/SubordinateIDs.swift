import Glibc
import NookCore
import NookKernel
import NookSpec

/// Ranges from /etc/subuid and /etc/subgid ("name-or-uid:start:count" lines):
/// the ids an administrator set aside for a user's containers.
package struct SubordinateRange: Sendable, Equatable {
    package var start: UInt32
    package var count: UInt32

    /// The first range for `user` (matched by name or by numeric id).
    package static func find(in text: String, user: String, id: UInt32) -> SubordinateRange? {
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == user || fields[0] == "\(id)",
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0,
                  // The kernel refuses a range past UInt32.max (and keep-id adds to its start).
                  UInt64(start) + UInt64(count) <= UInt64(UInt32.max) else { continue }
            return SubordinateRange(start: start, count: count)
        }
        return nil
    }

    package static func read(file: String, user: String, id: UInt32) -> SubordinateRange? {
        // no /etc/subuid (or unreadable): no sub-ids, the single-id mapping is used
        guard let text = try? HostPath.readText(file) else { return nil }
        return find(in: text, user: user, id: id)
    }
}

/// The setuid helpers that write multi-range maps for an unprivileged user.
package enum IDMapHelpers {
    package static let directories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]

    /// Path of newuidmap/newgidmap if installed setuid root.
    package static func find(_ name: String) -> String? {
        for dir in directories {
            var st = stat()
            let path = dir + "/" + name
            if stat(path, &st) == 0, st.st_uid == 0, st.st_mode & S_ISUID != 0 { return path }
        }
        return nil
    }
}
