import Glibc
import NookCore

/// A child the kernel gave us: its pid in our PID namespace and a pidfd.
/// A child of ours without one (pidfd -1: opening it failed) is signalled by
/// pid, which is safe only until it is reaped: till then no one else gets its pid.
package struct SpawnedProcess: Sendable, Equatable {
    package var pid: pid_t
    package var pidfd: Int32
    package init(pid: pid_t, pidfd: Int32) { (self.pid, self.pidfd) = (pid, pidfd) }
}

/// How a process ended.
package enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The shell's convention: the code, or 128+N for signal N.
    package var code: Int32 {
        switch self {
        case .exited(let c): c
        case .signaled(let s): 128 + s
        }
    }

    package init(waitStatus status: Int32) {
        if status & 0x7f == 0 { self = .exited((status >> 8) & 0xff) } else { self = .signaled(status & 0x7f) }
    }
}

/// Extra fds the child is launched with.
package struct SpawnOptions: Sendable {
    package var trace = false
    package var cgroupFD: Int32 = -1
    package var startFifoFD: Int32 = -1
    /// `-t`: the child opens a pty in its own devpts and sends us the master.
    package var createConsole = false
    /// With a console: the pty's size, set before the command starts (nil: 0x0).
    package var consoleSize: WindowSize?
    /// Our end of the sync socket, which the child closes.
    package var parentSyncFD: Int32 = -1
    /// fds to become the container's stdin, stdout, stderr (-1: inherit ours).
    package var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
    package init() {}
}

/// What the runtime asks of the kernel about processes: clone the container's
/// child, talk to it, write its id maps, signal, wait for and reap it, and
/// start helper programs (newuidmap; pasta and slirp4netns).
package protocol ProcessKernel: AnyObject {
    func socketPair() throws -> (parent: Int32, child: Int32)
    func spawn(_ plan: ChildPlan, syncFD: Int32, options: SpawnOptions) throws -> SpawnedProcess
    func writeFile(_ path: String, _ contents: String) throws
    /// Runs helper programs at once (newuidmap and newgidmap) and returns each
    /// one's exit code and stderr, in order.
    func runHelpers(_ argvs: [[String]]) throws -> [(status: Int32, errorOutput: String)]
    func sendGo(_ fd: Int32) throws
    /// The next message from the child; nil at EOF.
    func receive(_ fd: Int32) throws -> ChildMessage?
    /// Waits for the process to end, forwarding the given signals to it meanwhile.
    func wait(_ process: SpawnedProcess, forwarding signals: [Int32]) throws -> ExitStatus
    /// The same, relaying a pty between our stdio and the container (`-t`).
    func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?) throws -> ExitStatus
    /// The same, copying the container's output pipes into a log (`run -d`).
    func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?, log: LogRelay?) throws -> ExitStatus
    func signal(_ process: SpawnedProcess, _ sig: Int32) throws
    /// A pidfd for a child of ours that a child made (CLONE_PARENT): until we
    /// reap it, its pid cannot be reused, so the pidfd is surely that process.
    func adopt(_ pid: pid_t) throws -> SpawnedProcess
    /// Collects a child known to have exited or to be exiting (no pidfd, no signals).
    func reap(_ pid: pid_t)
    func close(_ fd: Int32)
    /// /proc/PID/stat, or nil when there is no such process: its start time
    /// and state tell a live process from a reused pid or a zombie.
    func processStat(_ pid: pid_t) -> String?
    /// Starts a long-lived helper (pasta, slirp4netns) tied to this process
    /// (PR_SET_PDEATHSIG), with `fds[i]` as its fd i; returns its pid.
    func startHelper(_ path: String, _ argv: [String], fds: [Int32]) throws -> pid_t
    /// Starts a short-lived program of ours (an OCI hook) with `input` written
    /// to its stdin, and a pidfd for it (-1 if none could be had); the caller
    /// waits for it (`wait`, or `poll` on the pidfd for a timeout).
    func startHelper(_ launch: HelperLaunch, input: [UInt8]) throws -> SpawnedProcess
    /// A pipe's read end with `bytes` already in it and the write end closed
    /// (a hook's stdin in the container); `bytes` must fit in the pipe.
    func pipe(holding bytes: [UInt8]) throws -> Int32
    /// Sends `fd` over the unix socket at `path` (a --console-socket).
    func sendFD(_ fd: Int32, toSocket path: String) throws
    /// Mounts fuse-overlayfs at the container's root in `process`'s namespaces
    /// (its user namespace too with `joinUser`) and starts its server, which
    /// outlives us and ends with the container's mount namespace.
    func mountFuseOverlay(_ mount: FuseOverlayMount, in process: SpawnedProcess, joinUser: Bool) throws
}

extension ProcessKernel {
    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?) throws -> ExitStatus {
        try wait(process, forwarding: signals)
    }
    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?, log: LogRelay?) throws -> ExitStatus {
        try wait(process, forwarding: signals, terminal: terminal)
    }
}

