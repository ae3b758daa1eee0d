/// The choices in the container child's setup order (CShims/child_setup.c),
/// made here and handed down as plain fields of `struct nook_launch`: the C
/// side only follows them.
package enum ChildSteps {
    /// Where the seccomp filter is loaded; fds are marked close-on-exec right
    /// before that point either way (the filter need not allow close_range).
    package enum SeccompPosition: Sendable {
        /// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
        /// while the child still has it, before setuid and capset (as runc
        /// does; the profile must then allow what follows).
        case beforeIdentity
        /// With no_new_privs, any process may load it: last, just before
        /// execve, so the profile need allow nothing of the setup.
        case beforeExec
    }

    package static func seccompPosition(noNewPrivileges: Bool) -> SeccompPosition {
        noNewPrivileges ? .beforeExec : .beforeIdentity
    }

    /// Where a -t pty goes once the child opened it.
    package enum ConsoleMode: Sendable {
        case none
        /// The pty is the child's stdio and controlling terminal before READY
        /// (the command, or the start waiter, inherits it).
        case now
        /// --init: PID 1 holds no stdio of the container's; the command it
        /// forks takes the pty, and PID 1's stdio is /dev/null.
        case inCommand
    }

    package static func consoleMode(createConsole: Bool, initProcess: Bool) -> ConsoleMode {
        guard createConsole else { return .none }
        return initProcess ? .inCommand : .now
    }

    /// setsid() for a process without a pty (with one, taking the pty makes the session).
    package static func newSession(requested: Bool, console: ConsoleMode) -> Bool {
        requested && console == .none
    }

    /// The fds to close before the child execs the start waiter: every fd from
    /// `first` up but those in `keep`, as inclusive ranges (the last one open-ended).
    package static func closeRanges(from first: Int32, keeping keep: [Int32]) -> [(first: UInt32, last: UInt32)] {
        var ranges: [(first: UInt32, last: UInt32)] = []
        var from = UInt32(max(first, 0))
        for fd in Set(keep.filter { $0 >= 0 }).map(UInt32.init).sorted() where fd >= from {
            if fd > from { ranges.append((from, fd - 1)) }
            from = fd + 1
        }
        ranges.append((from, UInt32.max))
        return ranges
    }
}
