import Glibc
import NookCore
import NookKernel
import NookSpec

/// What Nook records about one container (the OCI state, plus what Nook
/// needs to find and clean it later). Stored as state.json.
package struct ContainerState: Codable, Sendable, Equatable {
    package enum Status: String, Codable, Sendable {
        case creating, created, running, stopped
    }
    /// Who supervises the container.
    package enum Mode: String, Codable, Sendable {
        /// `nook run` in the foreground: the nook process itself; gone when it is.
        case foreground
        /// OCI `create`/`start`: nobody from Nook; the caller (conmon) watches it.
        case oci
        /// `nook run -d`: its own small monitor (one per container) supervises it;
        /// the state stays after it stops, until `nook rm`.
        case detached
    }

    package var ociVersion: String = Spec.version
    package var id: String
    package var status: Status
    package var pid: Int32
    /// Field 22 of /proc/PID/stat: with the pid, names this process even after pid reuse.
    package var startTime: UInt64
    package var bundle: String
    package var rootfs: String
    package var mode: Mode
    package var created: String
    /// When it started running, and when it was seen to stop (UTC, ISO 8601).
    package var started: String?
    package var finished: String?
    package var annotations: [String: String]?
    package var cgroupPath: String?
    /// The namespaces created for this container (not joined, not shared with
    /// nook), by their OCI names: what `ContainerProcesses` may count as its own.
    package var ownNamespaces: [String]?
    package var exitCode: Int32?
    /// Why the container was killed, when nook knows (e.g. "out of memory (memory.max=32M)").
    package var exitReason: String?
    /// The command, for `nook ps`.
    package var command: String?
    /// `nook run -d`: the monitor's pid and start time.
    package var monitorPID: Int32?
    package var monitorStartTime: UInt64?
    /// `--network pasta|slirp4netns`: the helper's pid (it dies with its nook).
    package var networkHelperPID: Int32?
    /// `--rm`: remove the state when the container stops.
    package var removeOnExit: Bool?
    /// `run -d`: `--init`, and the `--restart` policy with how often it restarted.
    package var initProcess: Bool?
    package var restartPolicy: String?
    package var restartCount: Int?
    /// Made when the container is created and kept by every run of it: a
    /// start or restart runs only the container it read (`rm -f` and a new
    /// container of that name make another). nil: recorded by an older nook.
    package var incarnation: String?
    /// What `nook start` expects of a record that had no `incarnation`: still none.
    package static let noIncarnation = "none"
    /// `run -d --restart`: why the policy's last restart could not start (the policy ended there).
    package var restartError: String?
    /// Set by `nook stop`, `kill` and `rm -f`: the restart policy ends here.
    package var stoppedByUser: Bool?

    /// `run -d`: the record names this process as its monitor (pid and start
    /// time: a live process is the only one with both). After `rm -f` and a
    /// new container of the same name, an old monitor finds it does not.
    package var namesThisProcessAsMonitor: Bool {
        monitorPID == getpid() && monitorStartTime != nil && monitorStartTime == ProcessIdentity.startTime(pid: getpid())
    }

    /// `run -d`: its monitor still lives (it supervises the container, or waits to restart it).
    package var monitorIsAlive: Bool {
        guard let pid = monitorPID, let start = monitorStartTime else { return false }
        return ProcessIdentity(pid: pid, startTime: start).isAlive
    }

    package init(id: String, status: Status, pid: Int32, startTime: UInt64, bundle: String, rootfs: String,
                mode: Mode, created: String) {
        self.id = id
        self.status = status
        self.pid = pid
        self.startTime = startTime
        self.bundle = bundle
        self.rootfs = rootfs
        self.mode = mode
        self.created = created
    }
}

/// A process named by pid and start time, so a reused pid is never mistaken for it.
package struct ProcessIdentity: Sendable, Equatable {
    package var pid: Int32
    package var startTime: UInt64

    package static func of(pid: Int32) -> ProcessIdentity? {
        guard let start = startTime(pid: pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: start)
    }

    /// Field 22 (starttime) of /proc/PID/stat. The command name (field 2) may
    /// hold spaces and parentheses, so count from the last ')'.
    package static func startTime(pid: Int32, in kernel: ProcessKernel = LiveKernel()) -> UInt64? {
        kernel.processStat(pid).flatMap { parseStartTime(stat: $0) }
    }

    package static func parseStartTime(stat text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Alive, and the same process (not a zombie we already reaped elsewhere).
    package var isAlive: Bool { isAlive(in: LiveKernel()) }

    package func isAlive(in kernel: ProcessKernel) -> Bool {
        guard let text = kernel.processStat(pid),
              let start = Self.parseStartTime(stat: text), start == startTime else { return false }
        if let close = text.lastIndex(of: ")") {
            let state = text[text.index(after: close)...].split(separator: " ").first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }
}
