import Glibc
import NookCore
import NookKernel
import NookSpec

/// The runtime as a library: what the `nook` CLI and test harnesses call.
///
///     let runtime = try Runtime()
///     let status = try runtime.run(spec, id: "web")   // foreground: waits, cleans up
package final class Runtime {
    package let store: StateStore
    /// The seams every sequence goes through: the kernel, the container's
    /// cgroup, its network helper. Live by default; recording fakes in unit tests.
    package let kernel: KernelInterface
    /// Picks each container's cgroup backend (none, delegated v2, or a fake).
    package let cgroups: CgroupHost
    package let network: NetworkSetup
    package let environment: [String: String]
    /// Compiled seccomp filters, kept under this runtime's state root.
    package let seccompCache: SeccompCache
    /// The program that runs `nook __monitor` for `runDetached`.
    package let monitorExecutable: MonitorExecutable

    /// `monitor`: the CLI passes `.currentProcess`; a library caller lets the
    /// nook binary be found (`.locate`) or names it. The same binary runs
    /// `nook __forward` (nil `network`: the live one).
    package init(stateRoot: String? = nil, environment: [String: String] = ProcessEnvironment.current(),
                kernel: KernelInterface = LiveKernel(), cgroups: CgroupHost = LiveCgroupHost(),
                network: NetworkSetup? = nil, monitor: MonitorExecutable = .locate) throws {
        self.environment = environment
        self.kernel = kernel
        self.cgroups = cgroups
        self.network = network ?? LiveNetworkSetup(forwarder: monitor, environment: environment)
        monitorExecutable = monitor
        store = try StateStore(root: stateRoot ?? StateStore.defaultRoot(environment: environment), kernel: kernel)
        seccompCache = SeccompCache(directory: store.root + "/.seccomp")
    }

    /// Options of one run beyond the spec.
    package struct RunSettings: Sendable {
        package var trace = false
        /// The --bundle directory; nil for a run from --rootfs, whose bundle is
        /// its state directory (where the config.json it was given is kept).
        package var bundle: String?
        /// The container's stdio (-1: this process's own).
        package var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
        /// Signals forwarded from this process to the container while it runs.
        package var forwardSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
        package var traceSink: @Sendable (String) -> Void = Tracer.standardError
        /// How ids are mapped (`--userns`).
        package var userns: UserNamespaceMode = .auto
        /// `-i`: the container reads our stdin; otherwise its stdin is /dev/null.
        package var interactive = true
        /// `--init`: a minimal init is PID 1 and runs the command as its child.
        package var initProcess = false
        /// `--preserve-fds N`: our fds 3 .. 3+N-1 are passed to the container.
        package var preserveFDs: Int32 = 0
        /// `run -d`: this process is the container's monitor; output goes to its
        /// log and the state stays after it stops (until `nook rm`).
        package var detached = false
        /// `--rm`: with `detached`, remove the state when it stops.
        package var removeOnExit = false
        /// With `detached`: the monitor's `--restart` policy, the restarts so
        /// far, and whether this run restarts a stopped container (its state
        /// directory, with its log, is there already).
        package var restartPolicy: RestartPolicy = .no
        package var restartCount = 0
        package var restarting = false
        /// With `restarting`: the `incarnation` of the container this run is
        /// for; another container of that name (made since) is refused.
        package var incarnation: String?
        /// With `restarting`: wait for the container's lock (the monitor's own
        /// restarts) or fail at once (a `nook start`: one start at a time).
        package var waitForLock = true
        /// `--network` and `-p`, typed; nil: no helper, the spec's namespaces decide
        /// (a bundle run without them). The spec's annotations record them on disk.
        package var network: NetworkSettings?
        /// The spec's mounts, rlimits and capabilities as `nook run --rootfs` typed them
        /// (`RunOptions.make`); nil: parsed from the spec (a bundle, a monitor, a restart).
        package var parsed: ParsedSpec?
        /// Called once the command runs (the monitor tells `nook run -d`).
        package var onRunning: (@Sendable (Int32) -> Void)?
        package init() {}
    }

    /// A fresh container id: 12 hex digits.
    package static func generateID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<6).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
    }

    /// The id mapping for this caller and spec.
    package func identity(for spec: Spec, mode: UserNamespaceMode = .auto) throws -> IDMapping {
        try IdentityResolver().resolve(spec: spec, mode: mode)
    }

    /// Runs a container in the foreground: this process supervises it, forwards
    /// signals, waits, and removes every trace of it at the end. Returns how the
    /// container's process ended. Throws `NookError` for anything that failed
    /// before the command ran (exit code 125, or 126/127 for exec failures).
    /// The parent side in order (the child's is `container_setup` in CShims/child_setup.c):
    package func run(_ spec: Spec, id: String, settings: RunSettings = RunSettings()) throws -> ExitStatus {
        let run = try RunSequence(runtime: self, spec: spec, id: id, settings: settings) // plan and checks: nothing made yet
        defer { run.cleanUp() }                   // undoes what the phases below made, in reverse
        try run.reserveState()                    // state directory made and locked; config.json
        try run.prepareNetworkFiles()             // /etc/hosts, resolv.conf
        run.blockForwardedSignals()               // none lost between clone and wait
        try run.makeCgroup()                      // cgroup, limits, its fd for CLONE_INTO_CGROUP
        try run.prepareStdio()                    // /dev/null, log, console, bind sources opened as root
        let launched = try run.launch()           // clone, id maps, network helper, state, release, exec
        let status = try run.wait(for: launched)  // signals forwarded, terminal or log relayed
        run.recordExit(status, pid: launched.process.pid)
        return status
    }

    /// Waits for a process of ours, forwarding signals. If the wait itself
    /// fails, the process is killed and reaped: no caller is left holding a
    /// child it can no longer collect.
    func waitOrKill(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?,
                    log: LogRelay? = nil) throws -> ExitStatus {
        do {
            return try kernel.wait(process, forwarding: signals, terminal: terminal, log: log)
        } catch {
            try? kernel.signal(process, SIGKILL) // fails only if it is gone already: the reap collects it
            kernel.reap(process.pid)
            throw error
        }
    }

    /// Every preserved fd must be open: then nothing Nook opens lands among them.
    static func checkPreservedFDs(_ n: Int32) throws -> Int32 {
        guard n >= 0 && n < 1024 else { throw NookError("invalid --preserve-fds \(n)", kind: .invalidInput) }
        for fd in 3..<(3 + n) where fcntl(fd, F_GETFD) < 0 {
            throw NookError("--preserve-fds \(n): fd \(fd) is not open", hint: "pass fds 3 .. \(2 + n) to nook", kind: .invalidInput)
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

