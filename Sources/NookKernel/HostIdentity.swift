import CShims
import Glibc
import NookCore

/// Which machine this is, and which boot of it: what a record kept in a
/// store that outlives a boot, and that other mount namespaces or other
/// hosts (over NFS) see too, says about where it was made (`ContainerLayerUser`).
package enum HostIdentity {
    /// /proc/sys/kernel/random/boot_id: a random UUID the kernel draws at
    /// each boot, the same in every namespace; "" if it cannot be read.
    package static func bootID() -> String { firstLine("/proc/sys/kernel/random/boot_id") }

    /// /etc/machine-id; "" if there is none (a minimal container, an old system).
    package static func machineID() -> String { firstLine("/etc/machine-id") }

    static func firstLine(_ path: String) -> String {
        // unreadable: "" says "unknown", which nothing matches on trust
        guard let text = try? HostPath.readText(path, label: path) else { return "" }
        return String(text.prefix { $0 != "\n" }).trimmingCharacters(in: " \t")
    }
}

extension DirectoryIdentity {
    /// The identity of the directory at `path` (a symlink to it followed);
    /// nil if there is none, or it cannot be opened.
    package init?(path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // a directory just opened that fstat refuses: no identity to go by
        guard let identity = try? DirectoryIdentity(fd, label: path) else { return nil }
        self = identity
    }

    /// Whether the directory at `path` is on a filesystem other hosts may
    /// share: NFS, SMB/CIFS, Ceph, 9P, or FUSE (sshfs and the like). True if
    /// it cannot be told: sharing is what costs data.
    package static func isOnNetworkFileSystem(_ path: String) -> Bool {
        guard let type = fileSystemType(path) else { return true }
        return [0x6969 /* NFS */, 0x517B /* SMB */, 0xFF53_4D42 /* CIFS */, 0xFE53_4D42 /* SMB2 */,
                0x00C3_6400 /* Ceph */, 0x0102_1997 /* 9P */, 0x6573_5546 /* FUSE */].contains(type)
    }

    /// Whether the directory at `path` is on a tmpfs or a ramfs: gone at
    /// a reboot, whatever mount namespace or host looks for it then. False
    /// if it cannot be told.
    package static func isOnMemoryFileSystem(_ path: String) -> Bool {
        guard let type = fileSystemType(path) else { return false }
        return type == 0x0102_1994 /* TMPFS_MAGIC */ || type == 0x8584_58f6 /* RAMFS_MAGIC */
    }

    /// statfs(2)'s f_type of the directory at `path`; nil if it cannot be opened.
    private static func fileSystemType(_ path: String) -> Int64? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return Int64(nook_fstatfs_type(fd))
    }
}
