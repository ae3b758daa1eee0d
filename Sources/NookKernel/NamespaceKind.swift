import CShims

/// The seven namespaces a container can have, with the clone(2) flag of each.
package enum NamespaceKind: String, Sendable, CaseIterable, Hashable {
    case user, mount, pid, network, uts, ipc, cgroup

    package init?(ociName: String) { self.init(rawValue: ociName) }
    package var ociName: String { rawValue }

    package var cloneFlag: UInt {
        switch self {
        case .user: UInt(NOOK_CLONE_NEWUSER)
        case .mount: UInt(NOOK_CLONE_NEWNS)
        case .pid: UInt(NOOK_CLONE_NEWPID)
        case .network: UInt(NOOK_CLONE_NEWNET)
        case .uts: UInt(NOOK_CLONE_NEWUTS)
        case .ipc: UInt(NOOK_CLONE_NEWIPC)
        case .cgroup: UInt(NOOK_CLONE_NEWCGROUP)
        }
    }

    package var cloneFlagName: String {
        switch self {
        case .user: "CLONE_NEWUSER"
        case .mount: "CLONE_NEWNS"
        case .pid: "CLONE_NEWPID"
        case .network: "CLONE_NEWNET"
        case .uts: "CLONE_NEWUTS"
        case .ipc: "CLONE_NEWIPC"
        case .cgroup: "CLONE_NEWCGROUP"
        }
    }

    /// The /proc/PID/ns entry.
    package var procName: String {
        switch self {
        case .mount: "mnt"
        case .network: "net"
        default: rawValue
        }
    }
}
