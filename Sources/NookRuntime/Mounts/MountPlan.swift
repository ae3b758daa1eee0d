import Glibc
import NookCore
import NookKernel
import NookSpec

/// One mount step the child performs, in order, before pivot_root.
/// Turns the spec's mounts (plus masked and read-only paths, devices and the
/// /dev links) into the ordered list of steps the child runs.
package enum MountPlanner {
    /// Device nodes bound from the host into the container's /dev tmpfs (runc's default set).
    package static let devices = ["null", "zero", "full", "random", "urandom", "tty"]

    package static let links: [(String, String)] = [
        ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"), ("pts/ptmx", "/dev/ptmx"),
    ]

    /// When the container's root is not the caller (real root mapped to a
    /// sub-range), it cannot open host paths only the caller may reach (root's
    /// 0700 state directory, a bind source under /root). Nook then makes each
    /// bind's detached copy itself, before the clone (`open_tree`), and the
    /// child only attaches it. Returns the fds, to close once the child has them.
    package static func openBindSources(_ ops: inout [MountOp]) throws -> [Int32] {
        var fds: [Int32] = []
        for i in ops.indices where ops[i].kind == .bind && ops[i].sourceFD < 0 {
            let fd = Syscall.openTreeClone(ops[i].source, recursive: ops[i].recursive)
            if fd < 0 {
                let err = errno
                if ops[i].optional { continue }
                for fd in fds { close(fd) }
                throw NookError.sys("bind mount source '\(ops[i].source)'", errno: err)
            }
            ops[i].sourceFD = fd
            fds.append(fd)
        }
        return fds
    }

    /// Namespaced sysctls (`linux.sysctl`) are written through the container's
    /// own /proc, after it is mounted and before /proc/sys turns read-only.
    package static func addSysctls(_ sysctls: [String: String], to ops: inout [MountOp]) throws {
        guard !sysctls.isEmpty else { return }
        guard let proc = ops.firstIndex(where: { $0.kind == .filesystem && $0.fstype == "proc" }) else {
            throw NookError("linux.sysctl needs a proc mount at /proc")
        }
        let allowedPrefixes = ["net.", "kernel.msg", "kernel.sem", "kernel.shm", "fs.mqueue.", "kernel.domainname", "kernel.hostname"]
        var insert: [MountOp] = []
        for (key, value) in sysctls.sorted(by: { $0.key < $1.key }) {
            guard allowedPrefixes.contains(where: key.hasPrefix), !key.contains("/"), !key.contains("..") else {
                throw NookError("sysctl '\(key)' is not namespaced: a container may not set it",
                                hint: "namespaced sysctls are net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*")
            }
            insert.append(MountOp(kind: .sysctl, source: "", target: "/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 }),
                                  data: value, why: "sysctl \(key)=\(value) (namespaced)"))
        }
        ops.insert(contentsOf: insert, at: proc + 1)
    }

    /// - Parameters:
    ///   - mounts: the spec's mounts, typed (`ParsedSpec`).
    ///   - keepLockedFlags: each bind keeps its source's locked flags (`LockedMountFlags.locked`).
    package static func plan(spec: Spec, mounts: [ContainerMount], newNetworkNamespace: Bool, newCgroupNamespace: Bool,
                            gidMappings: [Spec.IDMap], keepLockedFlags: Bool) throws -> [MountOp] {
        var ops: [MountOp] = []
        var devIsTmpfs = false
        /// A bind of a host path, with the flags its source's mount locks.
        func bind(_ op: MountOp, source: BindSource?) -> MountOp {
            var op = op
            if keepLockedFlags { LockedMountFlags.keep(source ?? BindSource.look(op.source), in: &op) }
            return op
        }
        for mount in mounts {
            guard mount.destination.hasPrefix("/") else {
                throw NookError("mount destination '\(mount.destination)' must be an absolute path")
            }
            let options = mount.options
            let type = mount.type
            if mount.isBind {
                guard let source = mount.source, source.hasPrefix("/") else {
                    throw NookError("bind mount to '\(mount.destination)' needs an absolute source path", kind: .invalidInput)
                }
                // One look (RunOptions' for -v): whether it exists, file or directory, its mount's flags.
                guard let looked = mount.bindSource ?? BindSource.look(source) else {
                    throw NookError("bind mount source '\(source)' does not exist", kind: .notFound(.file, name: source))
                }
                ops.append(bind(MountOp(kind: .bind, source: source, target: mount.destination,
                                        attrs: options.attrs, recursive: options.recursive, targetIsFile: !looked.isDirectory,
                                        why: "a host path the user asked to share"), source: looked))
                continue
            }
            if mount.destination == "/dev" && type == "tmpfs" { devIsTmpfs = true }
            var data = options.data
            var fstype = type
            var optional = false
            var why = ""
            switch type {
            case "proc": why = "a /proc that shows only this PID namespace"
            case "sysfs":
                why = "kernel objects, read-only"
                if !newNetworkNamespace {
                    // sysfs can only be mounted by the owner of the network namespace:
                    // share the host's instead, read-only.
                    ops.append(bind(MountOp(kind: .bind, source: "/sys", target: mount.destination,
                                            attrs: options.attrs | UInt64(MOUNT_ATTR_RDONLY), recursive: true,
                                            why: "the host's /sys (no network namespace of our own), read-only"), source: nil))
                    continue
                }
            case "cgroup", "cgroup2":
                fstype = "cgroup2"
                optional = true
                why = "this container's own cgroup namespace, read-only"
                if !newCgroupNamespace { continue }
            case "devpts":
                why = "a private pty instance"
                // gid=5 (tty) only works when gid 5 exists in the container.
                if !IDMapping.maps(5, in: gidMappings) { data.removeAll { $0.hasPrefix("gid=") } }
            case "tmpfs": why = mount.destination == "/dev" ? "an empty /dev: only the devices we bind appear" : "memory-backed scratch space"
            case "mqueue": why = "POSIX message queues of this IPC namespace"
            default: why = "a \(type) filesystem"
            }
            guard !fstype.isEmpty else {
                throw NookError("mount at '\(mount.destination)' has no type", hint: "set \"type\" (bind, tmpfs, proc...)")
            }
            ops.append(MountOp(kind: .filesystem, source: mount.source ?? fstype, target: mount.destination,
                               fstype: fstype, flags: options.flags, data: data.joined(separator: ","),
                               optional: optional, why: why))
        }
        if devIsTmpfs {
            for device in devices {
                ops.append(bind(MountOp(kind: .bind, source: "/dev/\(device)", target: "/dev/\(device)",
                                        attrs: UInt64(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC), targetIsFile: true,
                                        why: "a harmless host device"), source: nil))
            }
            for (source, target) in links {
                ops.append(MountOp(kind: .symlink, source: source, target: target, why: "standard /dev link"))
            }
        }
        ops += try DeviceBinds.ops(spec.linux?.devices ?? []).map { bind($0, source: nil) }
        // Absolute and below the root, as mount destinations: "..", or "/" itself,
        // would mask or freeze the whole root (the fuzzer's seed 16, case 148: exit 127).
        for (field, paths) in [("linux.maskedPaths", spec.linux?.maskedPaths), ("linux.readonlyPaths", spec.linux?.readonlyPaths)] {
            for path in paths ?? [] where !path.hasPrefix("/") || path.split(separator: "/").allSatisfy({ $0 == "." || $0 == ".." }) {
                throw NookError("\(field): '\(path)' is not an absolute path below the root",
                                hint: "paths look like /proc/kcore")
            }
        }
        for path in spec.linux?.maskedPaths ?? [] {
            // The child picks by what the target is: the tmpfs over a directory, /dev/null over anything else.
            ops.append(MountOp(kind: .mask, source: "/dev/null", target: path, fstype: "tmpfs",
                               flags: UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), data: "size=0,mode=0555",
                               attrs: UInt64(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC),
                               why: "masked: hides host kernel information"))
        }
        for path in spec.linux?.readonlyPaths ?? [] {
            ops.append(MountOp(kind: .readonly, source: path, target: path, attrs: UInt64(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC),
                               why: "read-only: kernel settings the container must not change"))
        }
        return ops
    }
}
