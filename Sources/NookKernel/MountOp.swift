/// One step of the child's mount sequence, as `struct nook_mount` carries it.
package struct MountOp: Sendable, Equatable {
    package enum Kind: Int32, Sendable {
        case filesystem = 1, bind = 2, symlink = 3, mask = 4, readonly = 5, sysctl = 6
    }
    package var kind: Kind
    package var source: String
    /// Absolute path inside the container; resolved under the rootfs with RESOLVE_IN_ROOT.
    package var target: String
    package var fstype: String = ""
    package var flags: UInt = 0
    package var data: String = ""
    package var attrs: UInt64 = 0
    package var recursive = false
    package var targetIsFile = false
    package var optional = false
    /// A bind's source, opened by nook before the clone (`openBindSources`); -1: the child opens it.
    package var sourceFD: Int32 = -1
    /// Why this mount exists, for --trace.
    package var why: String = ""

    package enum IfMissing: Sendable { case makeDirectory, createFile, skip }

    /// What the child does when the target is not in the rootfs: a mask or a
    /// read-only path has nothing to do there; anything else is created.
    package var ifMissing: IfMissing {
        if kind == .mask || kind == .readonly { return .skip }
        return targetIsFile ? .createFile : .makeDirectory
    }

    /// The target must be on procfs, checked by the child once it is opened:
    /// a sysctl, and a mask or read-only path under /proc, must land on the
    /// procfs we mounted, not on something the image put there (CVE-2019-16884).
    package var mustBeOnProcfs: Bool {
        kind == .sysctl || ((kind == .mask || kind == .readonly) && target.hasPrefix("/proc/"))
    }

    package init(kind: Kind, source: String, target: String, fstype: String = "", flags: UInt = 0, data: String = "",
                attrs: UInt64 = 0, recursive: Bool = false, targetIsFile: Bool = false, optional: Bool = false,
                sourceFD: Int32 = -1, why: String = "") {
        self.kind = kind
        self.source = source
        self.target = target
        self.fstype = fstype
        self.flags = flags
        self.data = data
        self.attrs = attrs
        self.recursive = recursive
        self.targetIsFile = targetIsFile
        self.optional = optional
        self.sourceFD = sourceFD
        self.why = why
    }
}

