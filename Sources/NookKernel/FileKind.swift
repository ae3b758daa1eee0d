import NookCore

/// What a file Nook reads is, and how much of it Nook will read. A user's file
/// or an image's could be /dev/zero, a FIFO or simply huge: every read has a
/// limit, named in the error so the user knows which file and why.
package struct FileKind: Sendable, Equatable {
    /// "an env file": said in errors ("larger than 1 MiB, the limit for an env file").
    package var name: String
    /// Bytes; a file of more is refused.
    package var limit: Int

    package init(name: String, limit: Int) { (self.name, self.limit) = (name, limit) }

    // runc and crun read config.json whole; 16 MiB is far above any real one
    // (a default spec with its seccomp profile is ~30 KiB).
    package static let configJSON = FileKind(name: "config.json", limit: 16 << 20)
    /// `nook exec --process FILE`: one process of a config.json.
    package static let processJSON = FileKind(name: "a process file", limit: 16 << 20)
    /// execve takes at most ARG_MAX (2 MiB by default) of arguments and environment together.
    package static let envFile = FileKind(name: "an env file", limit: 1 << 20)
    /// Docker's default profile is ~25 KiB.
    package static let seccompProfile = FileKind(name: "a seccomp profile", limit: 4 << 20)
    package static let userDatabase = FileKind(name: "/etc/passwd or /etc/group", limit: 4 << 20)
    package static let osRelease = FileKind(name: "os-release", limit: 64 << 10)
    /// dpkg's status file of a full desktop is ~10 MiB.
    package static let packageDatabase = FileKind(name: "a package database", limit: 64 << 20)
    /// A static busybox is ~2 MiB.
    package static let executable = FileKind(name: "an executable", limit: 64 << 20)
    /// Nook's own state, /proc, cgroupfs, the host's /etc files.
    package static let own = FileKind(name: "a file", limit: 64 << 20)

    /// "1 MiB", "64 KiB".
    package var limitDescription: String {
        if limit >= 1 << 20 && limit % (1 << 20) == 0 { return "\(limit >> 20) MiB" }
        if limit >= 1 << 10 && limit % (1 << 10) == 0 { return "\(limit >> 10) KiB" }
        return "\(limit) bytes"
    }
}
