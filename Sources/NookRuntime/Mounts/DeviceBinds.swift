import Glibc
import NookCore
import NookKernel
import NookSpec

/// `linux.devices`: rootless, Nook cannot mknod, so like crun it binds the
/// host's node at the same path; where the host has no such node, it fails.
package enum DeviceBinds {
    package static func ops(_ devices: [Spec.Device]) throws -> [MountOp] {
        try devices.enumerated().map { i, device in
            let field = "linux.devices[\(i)] '\(device.path)'"
            guard device.path.hasPrefix("/"), !device.path.split(separator: "/").contains("..") else {
                throw NookError("\(field): the path must be absolute, without '..'")
            }
            let kinds: [String: (mode_t, String)] = ["c": (S_IFCHR, "character device"), "u": (S_IFCHR, "character device"),
                                                     "b": (S_IFBLK, "block device"), "p": (S_IFIFO, "FIFO")]
            guard let (kind, kindName) = kinds[device.type] else {
                throw NookError("\(field): type '\(device.type)' is not c, u, b or p")
            }
            var st = stat()
            guard lstat(device.path, &st) == 0 else {
                throw NookError.sys("\(field): no such device on the host to bind", errno: errno,
                                    hint: "without root Nook cannot create device nodes, only bind the host's")
            }
            guard st.st_mode & S_IFMT == kind else {
                throw NookError("\(field): the host's '\(device.path)' is not a \(kindName)",
                                hint: "without root Nook cannot create device nodes, only bind the host's")
            }
            let (hostMajor, hostMinor) = split(st.st_rdev)
            if kind != S_IFIFO, let major = device.major, let minor = device.minor, major != hostMajor || minor != hostMinor {
                throw NookError("\(field): the host's node is \(hostMajor):\(hostMinor), not \(major):\(minor)",
                                hint: "without root Nook cannot create device nodes, only bind the host's")
            }
            return MountOp(kind: .bind, source: device.path, target: device.path,
                           attrs: UInt64(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC), targetIsFile: true,
                           why: "linux.devices: the host's node, bound (no mknod without root)")
        }
    }

    /// glibc's major()/minor() (macros Swift cannot import).
    static func split(_ dev: dev_t) -> (Int64, Int64) {
        let d = UInt64(dev)
        return (Int64(((d >> 8) & 0xfff) | ((d >> 32) & ~UInt64(0xfff))), Int64((d & 0xff) | ((d >> 12) & ~UInt64(0xff))))
    }
}
