import Glibc
import NookCore
import NookKernel
import NookSpec

/// The runtime as a library: what the `nook` CLI and test harnesses call.
///
///     let runtime = try Runtime()
///     let status = try runtime.run(spec, id: "web")   // foreground: waits, cleans up
public final class Runtime {
    public let store: StateStore
    public let kernel: KernelInterface
    public let environment: [String: String]
    /// Picks each container's cgroup backend (none, delegated v2, or a fake).
    public let cgroups: CgroupHost

    public init(stateRoot: String? = nil, environment: [String: String] = ProcessEnvironment.current(),
                kernel: KernelInterface = LiveKernel(), cgroups: CgroupHost = LiveCgroupHost()) throws {
        self.environment = environment
        self.kernel = kernel
        self.cgroups = cgroups
        store = try StateStore(root: stateRoot ?? StateStore.defaultRoot(environment: environment))
        SeccompCache.directory = store.root + "/.seccomp"
    }

    /// Options of one run beyond the spec.
    public struct RunSettings: Sendable {
        public var trace = false
        /// The --bundle directory; nil for a run from --rootfs, whose bundle is
        /// its state directory (where the config.json it was given is kept).
        public var bundle: String?
        /// The container's stdio (-1: this process's own).
        public var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
        /// Signals forwarded from this process to the container while it runs.
        public var forwardSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
        public var traceSink: @Sendable (String) -> Void = Tracer.standardError
        /// How ids are mapped (`--userns`).
        public var userns: UserNamespaceMode = .auto
        /// `-i`: the container reads our stdin; otherwise its stdin is /dev/null.
        public var interactive = true
        /// `--init`: a minimal init is PID 1 and runs the command as its child.
        public var initProcess = false
        /// `--preserve-fds N`: our fds 3 .. 3+N-1 are passed to the container.
        public var preserveFDs: Int32 = 0
        /// `run -d`: this process is the container's monitor; output goes to its
        /// log and the state stays after it stops (until `nook rm`).
        public var detached = false
        /// `--rm`: with `detached`, remove the state when it stops.
        public var removeOnExit = false
        /// With `detached`: the monitor's `--restart` policy, the restarts so
        /// far, and whether this run restarts a stopped container (its state
        /// directory, with its log, is there already).
        public var restartPolicy: RestartPolicy = .no
        public var restartCount = 0
        public var restarting = false
        /// With `restarting`: wait for the container's lock (the monitor's own
        /// restarts) or fail at once (a `nook start`: one start at a time).
        public var waitForLock = true
        /// `--network` and `-p`, typed; nil: no helper, the spec's namespaces decide
        /// (a bundle run without them). The spec's annotations record them on disk.
        public var network: NetworkSettings?
        /// Called once the command runs (the monitor tells `nook run -d`).
        public var onRunning: (@Sendable (Int32) -> Void)?
        public init() {}
    }

    /// A fresh container id: 12 hex digits.
    public static func generateID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<6).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
    }

    /// The id mapping for this caller and spec.
    public func identity(for spec: Spec, mode: UserNamespaceMode = .auto) throws -> IDMapping {
        try IdentityResolver().resolve(spec: spec, mode: mode)
    }

    /// Runs a container in the foreground: this process supervises it, forwards
    /// signals, waits, and removes every trace of it at the end. Returns how the
    /// container's process ended. Throws `NookError` for anything that failed
    /// before the command ran (exit code 125, or 126/127 for exec failures).
    public func run(_ spec: Spec, id: String, settings: RunSettings = RunSettings()) throws -> ExitStatus {
        let tracer = Tracer(enabled: settings.trace, sink: settings.traceSink)
        reconcile()
        let identity = try identity(for: spec, mode: settings.userns)
        let limits = try CgroupLimits(spec.linux?.resources)
        let cgroup = try cgroups.backend(forNew: id, limits: limits, cgroupsPath: spec.linux?.cgroupsPath, tracer: tracer)
        let network = settings.network
        var plan = try LaunchPlan.make(spec: spec, containerID: id, bundle: settings.bundle ?? store.directory(id), identity: identity,
                                       ownCgroup: cgroup.path != nil, network: network)
        plan.initProcess = settings.initProcess
        plan.newSession = true
        plan.preserveFDs = try Self.checkPreservedFDs(settings.preserveFDs)
        if let network { try checkNetwork(network, plan: plan) }
        let lock: ContainerLock
        if settings.restarting {
            guard HostPath.isDirectory(store.directory(id)) else { throw store.notFound(id) }
            guard let held = settings.waitForLock ? try store.lock(id) : store.lockIfFree(id) else {
                throw NookError("container '\(id)' is being started or supervised by another nook command")
            }
            lock = held
        } else {
            lock = try store.reserve(id)
        }
        // Read again under the lock: two `nook start`s, or one during the
        // monitor's pause before a restart, must never give it two monitors.
        let earlier = settings.restarting ? try store.read(id) : nil
        if let earlier {
            let mine = earlier.monitorPID == getpid()
            if (earlier.monitorIsAlive && !mine) || status(of: earlier) == "running" || (mine && earlier.stoppedByUser == true) {
                lock.release()
                throw NookError("container '\(id)' is \(status(of: earlier)) under its monitor (pid \(earlier.monitorPID ?? 0))",
                                hint: "'nook stop \(id)' stops it and ends its restart policy")
            }
        }
        var helper: NetworkHelper?
        var keepState = false
        defer {
            helper?.stop()
            // Best effort: the container is gone either way, and a cgroup left
            // behind is removed by the next command's repair (it is recorded).
            try? cgroup.remove()
            // A restart that fails keeps the stopped container (and its log).
            if !keepState && !settings.restarting { store.remove(id) }
            lock.release()
        }
        tracer.emit("state", "mkdir \(store.directory(id)) + flock(lock)", "the container's record; no daemon keeps it")
        FaultPoint.reached("run.reserved")
        try Self.writeJSON(spec, to: store.directory(id) + "/" + Self.specName) // for `nook exec`
        if let network {
            plan.mounts += try NetworkFiles.prepare(mode: network.mode, spec: spec, containerID: id, directory: store.directory(id))
        }

        // Signals to forward are blocked from now on, so none is lost or kills
        // us between the clone and the wait; the child unblocks them before exec.
        let blocked = BlockedSignals(settings.forwardSignals)
        defer { blocked.restore() }

        var options = SpawnOptions()
        options.stdio = settings.stdio
        try cgroup.create()
        if let path = cgroup.path { try store.recordCgroup(id, path: path) }
        FaultPoint.reached("run.prepared")
        let cgroupFD = try cgroup.openForClone()
        defer { if cgroupFD >= 0 { close(cgroupFD) } }
        options.cgroupFD = cgroupFD
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        if (!settings.interactive || settings.detached) && options.stdio.0 < 0 {
            devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            options.stdio.0 = devNull
        }
        let log = settings.detached ? try LogRelay(path: store.directory(id) + "/container.log") : nil
        if let log { options.stdio = (options.stdio.0, log.containerStdout, log.containerStderr) }
        options.createConsole = plan.terminal
        options.consoleSize = TerminalRelay.startSize(relayed: true, requested: plan.spec.process?.consoleSize.map(WindowSize.init))
        let openedSources = plan.opensBindSourcesFirst ? try MountPlanner.openBindSources(&plan.mounts) : []
        defer { for fd in openedSources { close(fd) } }
        let supervisor = Supervisor(kernel: kernel, tracer: tracer)
        var state: ContainerState?
        let launched = try supervisor.launch(plan, options: options) { process in
            // The network namespace exists and its user namespace has its maps:
            // the helper can join both. The command has not started yet.
            if let network, network.mode.usesHelper {
                helper = try NetworkHelper.start(network, containerPID: process.pid, stateDirectory: store.directory(id), tracer: tracer)
            }
            FaultPoint.reached("run.cloned")
            let start = ProcessIdentity.startTime(pid: process.pid) ?? 0
            // Creating until the child has built its root: `exec` must not join
            // a mount namespace that is still the host's tree.
            var record = ContainerState(id: id, status: .creating, pid: process.pid, startTime: start,
                                        bundle: settings.bundle ?? store.directory(id), rootfs: plan.rootfs,
                                        mode: settings.detached ? .detached : .foreground,
                                        created: earlier?.created ?? Self.timestamp())
            record.annotations = spec.annotations
            record.cgroupPath = cgroup.path
            record.ownNamespaces = plan.namespaces.map(\.ociName)
            record.command = plan.argv.joined(separator: " ")
            record.networkHelperPID = helper?.pid
            if settings.detached {
                record.monitorPID = getpid()
                record.monitorStartTime = ProcessIdentity.startTime(pid: getpid())
                record.removeOnExit = settings.removeOnExit
                record.initProcess = settings.initProcess ? true : nil
                record.restartPolicy = settings.restartPolicy == .no ? nil : settings.restartPolicy.description
                record.restartCount = settings.restartCount > 0 ? settings.restartCount : nil
            }
            // A `nook stop` since this run began ends the restart policy: keep its mark.
            if settings.detached, (try? store.read(id))?.stoppedByUser == true, earlier?.stoppedByUser != true {
                record.stoppedByUser = true
            }
            try store.write(record)
            state = record
            FaultPoint.reached("run.launched")
        } atReady: { _ in
            guard var record = state else { return }
            record.status = .running
            record.started = Self.timestamp()
            if settings.detached, (try? store.read(id))?.stoppedByUser == true { record.stoppedByUser = true }
            try store.write(record)
        }
        log?.closeContainerEnds()
        settings.onRunning?(launched.process.pid)
        FaultPoint.reached("run.running")
        defer { kernel.close(launched.process.pidfd) }
        let terminal = launched.consoleMaster >= 0
            ? TerminalRelay(master: launched.consoleMaster, forwardInput: settings.interactive) : nil
        terminal?.enterRawMode()
        let status = try kernel.wait(launched.process, forwarding: settings.forwardSignals, terminal: terminal, log: log)
        terminal?.restore()
        helper?.finish()
        var reason: String?
        if status == .signaled(SIGKILL), cgroup.oomKilled() {
            reason = "out of memory (\(limits.memoryMaxDescription))"
        }
        if settings.detached && !settings.removeOnExit, var state = try? store.read(id) {
            state.status = .stopped
            state.finished = Self.timestamp()
            state.exitCode = status.code
            state.exitReason = reason
            try? store.write(state)
            keepState = true
        }
        tracer.emit("exit", "waitpid(\(launched.process.pid)) = \(status)", "the container ended; its namespaces go with its last process")
        FaultPoint.reached("run.exited")
        if let reason {
            // A detached monitor's stderr is /dev/null: its container's log keeps the message.
            Tracer.standardError("nook: container killed: \(reason)")
            log?.note("nook: container killed: \(reason)")
        }
        return status
    }

    /// Everything about the network that can fail is checked before anything is made.
    func checkNetwork(_ network: NetworkSettings, plan: LaunchPlan) throws {
        try NetworkHelper.checkInstalled(network.mode)
        if network.mode.usesHelper && !plan.namespaces.contains(.network) {
            throw NookError("--network \(network.mode.description) needs a network namespace of the container's own",
                            hint: "keep {\"type\": \"network\"} (without a path) in linux.namespaces")
        }
        for port in network.ports { try port.checkAvailable() }
    }

    /// Every preserved fd must be open: then nothing Nook opens lands among them.
    static func checkPreservedFDs(_ n: Int32) throws -> Int32 {
        guard n >= 0 && n < 1024 else { throw NookError("invalid --preserve-fds \(n)") }
        for fd in 3..<(3 + n) where fcntl(fd, F_GETFD) < 0 {
            throw NookError("--preserve-fds \(n): fd \(fd) is not open", hint: "pass fds 3 .. \(2 + n) to nook")
        }
        return n
    }

    static func timestamp() -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [UInt8](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tmv)
        return String(decoding: buf.prefix(n), as: UTF8.self)
    }
}

public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return result
    }
}
