import Glibc
import NookCore
import NookKernel
import NookSpec

/// `linux.rootfsPropagation`: the propagation the container's `/` gets after
/// pivot_root, applied recursively as crun does (before it, every mount is
/// made private, so nothing reaches the host whatever is asked here).
package enum RootPropagation {
    /// mount(2) flags for `value` (with MS_REC); 0 when unset.
    package static func flags(_ value: String?) throws -> UInt {
        guard let value, !value.isEmpty else { return 0 }
        let kinds: [String: Int] = ["shared": MS_SHARED, "slave": MS_SLAVE, "private": MS_PRIVATE, "unbindable": MS_UNBINDABLE]
        // runc's "rshared" etc. mean the same: Nook applies every value recursively.
        let name = value.hasPrefix("r") && kinds[String(value.dropFirst())] != nil ? String(value.dropFirst()) : value
        guard let flag = kinds[name] else {
            throw NookError("field 'linux.rootfsPropagation' is '\(value)'", hint: "use shared, slave, private or unbindable", kind: .invalidInput)
        }
        return UInt(flag | MS_REC)
    }

    /// The name for --trace.
    package static func name(_ flags: UInt) -> String {
        let kinds: [(Int, String)] = [(MS_SHARED, "MS_SHARED"), (MS_SLAVE, "MS_SLAVE"), (MS_PRIVATE, "MS_PRIVATE"), (MS_UNBINDABLE, "MS_UNBINDABLE")]
        return "MS_REC|" + (kinds.first { UInt($0.0) & flags != 0 }?.1 ?? "?")
    }
}
