import Glibc
import NookCore
import NookKernel
import NookSpec

/// Capability names <-> bit numbers, and the five OCI sets as bit masks.
package enum Capability {
    package static let names: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]

    /// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap).
    package static func lastCap() -> Int { KernelFacts.lastCapability(known: names.count) }

    /// "NET_RAW", "cap_net_raw", "CAP_NET_RAW" -> 13.
    package static func number(_ name: String) -> Int? {
        var upper = name.uppercased()
        if !upper.hasPrefix("CAP_") { upper = "CAP_" + upper }
        return names.firstIndex(of: upper)
    }

    package static func canonical(_ name: String) -> String? {
        number(name).map { names[$0] }
    }

    package static func mask(_ list: [String]?, field: String) throws -> UInt64 {
        var mask: UInt64 = 0
        for name in list ?? [] {
            guard let n = number(name) else {
                throw NookError("unknown capability '\(name)' in \(field)",
                                hint: "capability names look like CAP_NET_RAW; see capabilities(7)", kind: .invalidInput)
            }
            mask |= 1 << UInt64(n)
        }
        return mask
    }

    package static func names(in mask: UInt64) -> [String] {
        (0..<names.count).filter { mask & (1 << UInt64($0)) != 0 }.map { names[$0] }
    }
}

extension CapabilitySets {
    package init(_ caps: Spec.Capabilities) throws {
        let permitted = try Capability.mask(caps.permitted, field: "capabilities.permitted")
        let inheritable = try Capability.mask(caps.inheritable, field: "capabilities.inheritable")
        let requested = try Capability.mask(caps.ambient, field: "capabilities.ambient")
        // The kernel raises an ambient capability only when it is both permitted
        // and inheritable. `runc spec --rootless` lists ambient ones with no
        // inheritable set: runc warns and crun goes on without them; so does Nook.
        let ambient = requested & permitted & inheritable
        self.init(bounding: try Capability.mask(caps.bounding, field: "capabilities.bounding"),
                  effective: try Capability.mask(caps.effective, field: "capabilities.effective"),
                  permitted: permitted, inheritable: inheritable, ambient: ambient, unraisableAmbient: requested & ~ambient)
    }
}
