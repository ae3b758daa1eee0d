import Glibc
import NookCore
import NookKernel
import NookSpec

/// How container ids map to host ids, and who writes the maps.
///
/// Default (no setup at all): container 0 -> the caller, one id, setgroups
/// denied. The caller writes its own child's maps; the kernel allows exactly
/// this single mapping without privilege.
package struct IDMapping: Sendable, Equatable {
    package var uidMappings: [Spec.IDMap]
    package var gidMappings: [Spec.IDMap]
    /// setgroups(2) must be denied before an unprivileged process writes gid_map.
    package var setgroupsAllowed: Bool
    package var writer: Writer
    /// Why this mapping was chosen (shown under --trace).
    package var reason: String
    /// `--userns keep-id`: the process runs as the caller's own ids.
    package var keepID = false

    package enum Writer: String, Sendable, Equatable {
        /// The caller writes /proc/PID/{uid,gid}_map itself.
        case direct
        /// The setuid helpers newuidmap/newgidmap write them (sub-id ranges).
        case helpers
        /// No user namespace at all (`--userns host`, real root only).
        case none
    }

    package static func single(uid: UInt32, gid: UInt32) -> IDMapping {
        IDMapping(uidMappings: [.init(containerID: 0, hostID: uid, size: 1)],
                  gidMappings: [.init(containerID: 0, hostID: gid, size: 1)],
                  setgroupsAllowed: false, writer: .direct,
                  reason: "container 0 -> host \(uid), a single id: needs no setup")
    }

    package init(uidMappings: [Spec.IDMap], gidMappings: [Spec.IDMap], setgroupsAllowed: Bool, writer: Writer, reason: String) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.setgroupsAllowed = setgroupsAllowed
        self.writer = writer
        self.reason = reason
    }

    /// True when `id` in the container has a host id under these maps.
    package static func maps(_ id: UInt32, in maps: [Spec.IDMap]) -> Bool {
        maps.contains { id >= $0.containerID && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }
    }

    /// The kernel's text form: "0 1000 1\n".
    package static func text(_ maps: [Spec.IDMap]) -> String {
        maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    package func hostUID(for containerUID: UInt32) -> UInt32? {
        for m in uidMappings where containerUID >= m.containerID && containerUID - m.containerID < m.size {
            // A map from config.json may run past UInt32.max: no host id there.
            let (id, overflow) = m.hostID.addingReportingOverflow(containerUID - m.containerID)
            return overflow ? nil : id
        }
        return nil
    }
}
