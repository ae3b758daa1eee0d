import Glibc
import NookCore
import NookKernel
import NookSpec

/// OCI mount option strings -> MS_* flags, MOUNT_ATTR_* bits, and the
/// filesystem's own data string (what is left over).
package struct MountOptions: Sendable, Equatable {
    package var flags: UInt = 0
    package var attrs: UInt64 = 0
    package var data: [String] = []
    package var isBind = false
    package var recursive = false
    package var readOnly = false

    static let flagTable: [String: (set: UInt, clear: UInt, attr: UInt64)] = [
        "ro": (UInt(MS_RDONLY), 0, UInt64(MOUNT_ATTR_RDONLY)),
        "rw": (0, UInt(MS_RDONLY), 0),
        "nosuid": (UInt(MS_NOSUID), 0, UInt64(MOUNT_ATTR_NOSUID)),
        "suid": (0, UInt(MS_NOSUID), 0),
        "nodev": (UInt(MS_NODEV), 0, UInt64(MOUNT_ATTR_NODEV)),
        "dev": (0, UInt(MS_NODEV), 0),
        "noexec": (UInt(MS_NOEXEC), 0, UInt64(MOUNT_ATTR_NOEXEC)),
        "exec": (0, UInt(MS_NOEXEC), 0),
        "noatime": (UInt(MS_NOATIME), 0, UInt64(MOUNT_ATTR_NOATIME)),
        "strictatime": (UInt(MS_STRICTATIME), 0, UInt64(MOUNT_ATTR_STRICTATIME)),
        "relatime": (UInt(MS_RELATIME), 0, 0),
        "nodiratime": (UInt(MS_NODIRATIME), 0, UInt64(MOUNT_ATTR_NODIRATIME)),
        "sync": (UInt(MS_SYNCHRONOUS), 0, 0),
        "async": (0, UInt(MS_SYNCHRONOUS), 0),
    ]
    /// Propagation options: Nook makes every mount private, so these change nothing.
    static let ignored: Set<String> = ["private", "rprivate", "slave", "rslave", "shared", "rshared",
                                       "unbindable", "runbindable", "defaults", "z", "Z"]

    /// A bind's options from typed values (`-v`), with no strings in between.
    package init(bind recursive: Bool, readOnly: Bool, nosuid: Bool, nodev: Bool, noexec: Bool) {
        isBind = true
        self.recursive = recursive
        self.readOnly = readOnly
        for (on, flag, attr) in [(readOnly, MS_RDONLY, MOUNT_ATTR_RDONLY), (nosuid, MS_NOSUID, MOUNT_ATTR_NOSUID),
                                 (nodev, MS_NODEV, MOUNT_ATTR_NODEV), (noexec, MS_NOEXEC, MOUNT_ATTR_NOEXEC)] where on {
            flags |= UInt(flag)
            attrs |= UInt64(attr)
        }
    }

    /// OCI option strings, parsed: the one place that knows their names.
    package init(_ options: [String]) {
        for option in options {
            if option == "bind" { isBind = true; continue }
            if option == "rbind" { isBind = true; recursive = true; continue }
            if Self.ignored.contains(option) { continue }
            if let entry = Self.flagTable[option] {
                flags = (flags | entry.set) & ~entry.clear
                if entry.attr != 0 { attrs |= entry.attr }
                if entry.clear != 0 {
                    // "rw" after "ro" etc.: drop the matching attribute too.
                    for (name, e) in Self.flagTable where e.set == entry.clear { attrs &= ~e.attr; _ = name }
                }
                continue
            }
            data.append(option)
        }
        readOnly = flags & UInt(MS_RDONLY) != 0
    }

    /// "nosuid|nodev|noexec", for trace lines.
    package static func describe(flags: UInt) -> String {
        let names: [(UInt, String)] = [(UInt(MS_RDONLY), "MS_RDONLY"), (UInt(MS_NOSUID), "MS_NOSUID"),
                                       (UInt(MS_NODEV), "MS_NODEV"), (UInt(MS_NOEXEC), "MS_NOEXEC"),
                                       (UInt(MS_STRICTATIME), "MS_STRICTATIME"), (UInt(MS_RELATIME), "MS_RELATIME"),
                                       (UInt(MS_NOATIME), "MS_NOATIME")]
        let set = names.filter { flags & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }

    package static func describe(attrs: UInt64) -> String {
        let names: [(UInt64, String)] = [(UInt64(MOUNT_ATTR_RDONLY), "RDONLY"), (UInt64(MOUNT_ATTR_NOSUID), "NOSUID"),
                                         (UInt64(MOUNT_ATTR_NODEV), "NODEV"), (UInt64(MOUNT_ATTR_NOEXEC), "NOEXEC")]
        let set = names.filter { attrs & $0.0 != 0 }.map { "MOUNT_ATTR_" + $0.1 }
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }
}
