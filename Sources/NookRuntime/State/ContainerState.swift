import NookCore
import NookKernel
import NookSpec

/// What Nook records about one container (the OCI state, plus what Nook
/// needs to find and clean it later). Stored as state.json.
public struct ContainerState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case creating, created, running, stopped
    }
    /// Who supervises the container.
    public enum Mode: String, Codable, Sendable {
        /// `nook run` in the foreground: the nook process itself; gone when it is.
        case foreground
        /// OCI `create`/`start`: nobody from Nook; the caller (conmon) watches it.
        case oci
        /// `nook run -d`: its own small monitor (one per container) supervises it;
        /// the state stays after it stops, until `nook rm`.
        case detached
    }

    public var ociVersion: String = Spec.version
    public var id: String
    public var status: Status
    public var pid: Int32
    /// Field 22 of /proc/PID/stat: with the pid, names this process even after pid reuse.
    public var startTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var mode: Mode
    public var created: String
    /// When it started running, and when it was seen to stop (UTC, ISO 8601).
    public var started: String?
    public var finished: String?
    public var annotations: [String: String]?
    public var cgroupPath: String?
    /// The namespaces created for this container (not joined, not shared with
    /// nook), by their OCI names: what `ContainerProcesses` may count as its own.
    public var ownNamespaces: [String]?
    public var exitCode: Int32?
    /// Why the container was killed, when nook knows (e.g. "out of memory (memory.max=32M)").
    public var exitReason: String?
    /// The command, for `nook ps`.
    public var command: String?
    /// `nook run -d`: the monitor's pid and start time.
    public var monitorPID: Int32?
    public var monitorStartTime: UInt64?
    /// `--network pasta|slirp4netns`: the helper's pid (it dies with its nook).
    public var networkHelperPID: Int32?
    /// `--rm`: remove the state when the container stops.
    public var removeOnExit: Bool?
    /// `run -d`: `--init`, and the `--restart` policy with how often it restarted.
    public var initProcess: Bool?
    public var restartPolicy: String?
    public var restartCount: Int?
    /// Set by `nook stop`, `kill` and `rm -f`: the restart policy ends here.
    public var stoppedByUser: Bool?

    /// `run -d`: its monitor still lives (it supervises the container, or waits to restart it).
    public var monitorIsAlive: Bool {
        guard let pid = monitorPID, let start = monitorStartTime else { return false }
        return ProcessIdentity(pid: pid, startTime: start).isAlive
    }

    public init(id: String, status: Status, pid: Int32, startTime: UInt64, bundle: String, rootfs: String,
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
public struct ProcessIdentity: Sendable, Equatable {
    public var pid: Int32
    public var startTime: UInt64

    public static func of(pid: Int32) -> ProcessIdentity? {
        guard let start = startTime(pid: pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: start)
    }

    /// Field 22 (starttime) of /proc/PID/stat. The command name (field 2) may
    /// hold spaces and parentheses, so count from the last ')'.
    public static func startTime(pid: Int32, in kernel: ProcessKernel = LiveKernel()) -> UInt64? {
        kernel.processStat(pid).flatMap { parseStartTime(stat: $0) }
    }

    public static func parseStartTime(stat text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Alive, and the same process (not a zombie we already reaped elsewhere).
    public var isAlive: Bool { isAlive(in: LiveKernel()) }

    public func isAlive(in kernel: ProcessKernel) -> Bool {
        guard let text = kernel.processStat(pid),
              let start = Self.parseStartTime(stat: text), start == startTime else { return false }
        if let close = text.lastIndex(of: ")") {
            let state = text[text.index(after: close)...].split(separator: " ").first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }
}
