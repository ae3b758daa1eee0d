import Glibc
import NookCore
import NookKernel
import NookSpec

/// `nook audit ROOTFS`: what a student should look at before trusting a
/// root filesystem. Walks it without following symlinks, and reads its own
/// files (package database, os-release) with RESOLVE_IN_ROOT, so a symlink in
/// the image cannot make the audit report the host's packages.
package struct RootfsAudit: Codable, Sendable, Equatable {
    /// Paths found, by what makes each a risk.
    package var setuid: [String] = [], setgid: [String] = [], worldWritable: [String] = [], devices: [String] = []
    /// Directories the caller may not read: the audit could not look inside.
    package var unreadable: [String] = []
    package var packages: [Package] = []
    package var packageDatabase: String?
    /// What the rootfs's os-release calls the system ("Debian GNU/Linux 12 (bookworm)": `InstalledPackages.systemName`).
    package var system: String?

    package typealias Package = InstalledPackage

    /// Setuid files and device nodes are what `--strict` refuses.
    package var hasFindings: Bool { !setuid.isEmpty || !devices.isEmpty }

    package static func scan(_ root: String) throws -> RootfsAudit {
        guard HostPath.isDirectory(root) else { throw NookError("'\(root)' is not a directory", hint: "nook audit takes an unpacked rootfs") }
        var audit = RootfsAudit()
        audit.walk(root, relative: "")
        for i in [\RootfsAudit.setuid, \.setgid, \.worldWritable, \.devices, \.unreadable] { audit[keyPath: i].sort() }
        try audit.readPackages(root)
        try audit.readSystem(root)
        return audit
    }

    mutating func walk(_ root: String, relative: String) {
        guard let names = DirectoryEntries.names(atPath: root + relative) else {
            unreadable.append(relative.isEmpty ? "/" : relative)
            return
        }
        for name in names {
            let rel = relative + "/" + name
            var st = stat()
            guard lstat(root + rel, &st) == 0 else { continue }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK { continue }
            if type == S_IFCHR || type == S_IFBLK { devices.append(rel) }
            if type == S_IFREG && st.st_mode & S_ISUID != 0 { setuid.append(rel) }
            if type == S_IFREG && st.st_mode & S_ISGID != 0 { setgid.append(rel) }
            // World-writable: files, and directories without the sticky bit (/tmp is fine).
            if st.st_mode & S_IWOTH != 0 && (type == S_IFREG || (type == S_IFDIR && st.st_mode & S_ISVTX == 0)) {
                worldWritable.append(rel)
            }
            if type == S_IFDIR { walk(root, relative: rel) }
        }
    }

    /// The text of `path` in the rootfs; nil when it has none.
    static func read(_ root: String, _ path: String, as kind: FileKind) throws -> String? {
        try HostPath.readBytes(inRoot: root, path, as: kind).map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func readPackages(_ root: String) throws {
        if let text = try Self.read(root, InstalledPackages.dpkgStatusPath, as: .packageDatabase) {
            packageDatabase = InstalledPackages.dpkgStatusPath
            packages = InstalledPackages.dpkgStatus(text)
        } else if let text = try Self.read(root, InstalledPackages.apkInstalledPath, as: .packageDatabase) {
            packageDatabase = InstalledPackages.apkInstalledPath
            packages = InstalledPackages.apkInstalled(text)
        }
    }

    mutating func readSystem(_ root: String) throws {
        guard let text = try Self.read(root, "/etc/os-release", as: .osRelease)
            ?? Self.read(root, "/usr/lib/os-release", as: .osRelease) else { return }
        system = InstalledPackages.systemName(InstalledPackages.osRelease(text))
    }
}
