import CShims
import NookCore

/// One record from the child over the sync socket (`struct nook_msg`).
package struct ChildMessage: Sendable, Equatable {
    package enum Kind: Int32, Sendable {
        case step = 1, skip = 2, fail = 3, ready = 4, exec = 5, pid = 6, console = 7
    }
    package var kind: Kind
    package var step: Step
    package var index: Int32
    package var errno: Int32
    package var value: Int32
    /// A file descriptor passed with the message (the pty master for `.console`).
    package var fd: Int32 = -1

    package init(kind: Kind, step: Step, index: Int32 = 0, errno: Int32 = 0, value: Int32 = 0, fd: Int32 = -1) {
        self.fd = fd
        self.kind = kind
        self.step = step
        self.index = index
        self.errno = errno
        self.value = value
    }

    init?(_ raw: nook_msg, fd: Int32 = -1) {
        self.fd = fd
        guard let kind = Kind(rawValue: raw.type) else { return nil }
        self.kind = kind
        step = Step(rawValue: raw.step) ?? .none
        index = raw.index
        errno = raw.err
        value = raw.value
    }

    /// A mount step's target as the kernel got it: the O_PATH fd the child
    /// opened beneath the rootfs (NOOK_MOUNT_VALUE_FD); nil when not reported.
    package var mountTargetFD: Int32? {
        let fd = value & NOOK_MOUNT_VALUE_FD
        return step == .mount && fd > 0 ? fd : nil
    }

    /// A mask step covered a directory with an empty tmpfs; false: it bound /dev/null over a file.
    package var maskedWithTmpfs: Bool { step == .mount && value & NOOK_MASKED_WITH_TMPFS != 0 }

    /// `enum nook_step`.
    package enum Step: Int32, Sendable {
        case none = 0
        case waitMaps = 1, cgroupNamespace, mountPrivate, bindRootfs, mount, readonlyRoot, pivotRoot, detachOldRoot,
             hostname, loopback, chdir, rlimit, setgroups, setgid, setuid, capabilities, noNewPrivs, seccomp,
             closeFDs, console, waitStart, initFork, exec, setns, fork, rootPropagation, subreaper, overlayRootfs
    }
}
