import Glibc
import NookCore
import NookKernel
import NookSpec

/// Mount flags a bind mount cannot change in a user namespace.
///
/// When a mount namespace is copied for a less privileged user namespace, the
/// kernel locks each copied mount's read-only, nosuid, nodev and noexec flags
/// (those set on it) and, always, its atime mode (`lock_mnt_tree`): clearing one
/// of the first four, or asking for another atime mode (`strictatime` on a
/// `relatime` source), is EPERM. As crun does, a bind keeps the source's locked
/// flags: the first four are added to what the spec asks for, and the source's
/// atime mode replaces the one asked for. Decided here from the source's
/// statvfs(3) (`BindSource`); the child only sets what it is given.
enum LockedMountFlags {
    /// statvfs(3)'s f_flag bits (<sys/statvfs.h>) and the mount attribute each stands for.
    static let lockedBits: [(statvfs: UInt, attr: UInt64)] = [
        (1, UInt64(MOUNT_ATTR_RDONLY)),   // ST_RDONLY
        (2, UInt64(MOUNT_ATTR_NOSUID)),   // ST_NOSUID
        (4, UInt64(MOUNT_ATTR_NODEV)),    // ST_NODEV
        (8, UInt64(MOUNT_ATTR_NOEXEC)),   // ST_NOEXEC
    ]
    /// MOUNT_ATTR__ATIME and MOUNT_ATTR_NODIRATIME: the kernel's atime mode.
    static let atimeAttrs = UInt64(MOUNT_ATTR__ATIME) | UInt64(MOUNT_ATTR_NODIRATIME)

    /// True when the container's mounts are copies made for a less privileged user
    /// namespace: the container gets one of its own, or nook already runs in one
    /// (under rootless podman). Only a nook in the initial user namespace that makes
    /// none (real root, `--userns host`) may change a source's flags.
    static func locked(newUserNamespace: Bool) -> Bool {
        if newUserNamespace { return true }
        return !IdentityResolver.readInitialUserNamespace()
    }

    /// A bind keeps its source's locked flags, as `BindSource.look` read them;
    /// a source whose flags could not be read is left as asked.
    static func keep(_ source: BindSource?, in op: inout MountOp) {
        guard let flags = source?.mountFlags else { return }
        for bit in lockedBits where flags & bit.statvfs != 0 { op.attrs |= bit.attr }
        // No atime attribute at all: the copy keeps the source's mode (on each
        // submount of a recursive bind too, which one mode for all would not).
        op.attrs &= ~atimeAttrs
    }
}
