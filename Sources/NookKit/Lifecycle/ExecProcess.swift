import CShims
import Glibc

/// `exec`: a new process inside a running container. A helper child enters
/// the container's namespaces (setns into a user namespace needs a
/// single-threaded process) and creates the process as our own child, with
/// the container's seccomp filter, capabilities and no_new_privs unless the
/// process spec says otherwise.
extension Runtime {
    public struct ExecSettings: Sendable {
        public var detach = false
        public var pidFile: String?
        public var consoleSocket: String?
        public var interactive = true
        public var trace = false
        public var traceSink: @Sendable (String) -> Void = Tracer.standardError
        public var forwardSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
        public init() {}
    }

    /// The process spec for `exec -- CMD`: the container's own environment,
    /// user, capabilities and no_new_privs, with the given overrides.
    public func execProcess(id: String, args: [String], env: [String] = [], cwd: String? = nil,
                            user: String? = nil, terminal: Bool = false) throws -> Spec.Process {
        let spec = try loadSpec(id)
        var process = spec.process ?? Spec.Process()
        process.args = args
        process.terminal = terminal
        process.env = EnvironmentList.merge(process.env ?? [], env)
        if let cwd { process.cwd = cwd }
        if let user {
            let resolved = try UserLookup(rootfs: try store.read(id).rootfs).resolve(user)
            process.user = Spec.User(uid: resolved.uid, gid: resolved.gid,
                                     additionalGids: resolved.additionalGids.isEmpty ? nil : resolved.additionalGids)
            if resolved.uid != 0 {
                process.capabilities?.effective = []
                process.capabilities?.permitted = []
                process.capabilities?.ambient = []
            }
        }
        return process
    }

    /// Runs `process` in container `id`. Returns its exit status, or nil with `detach`.
    @discardableResult
    public func exec(id: String, process: Spec.Process, settings: ExecSettings = ExecSettings()) throws -> ExitStatus? {
        let tracer = Tracer(enabled: settings.trace, sink: settings.traceSink)
        let state = try store.read(id)
        if status(of: state) == "paused" {
            throw NookError("container '\(id)' is paused", hint: "resume it first: nook resume \(id)")
        }
        guard status(of: state) == "running" || status(of: state) == "created" else {
            throw NookError("container '\(id)' is not running", hint: "exec needs a running container")
        }
        let spec = try loadSpec(id)
        var plan = try LaunchPlan.forExec(containerSpec: spec, process: process, containerID: id, pid: state.pid)
        plan.pdeathsig = false
        if plan.terminal && settings.detach && settings.consoleSocket == nil {
            throw NookError("exec --tty --detach needs --console-socket")
        }

        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        for s in settings.forwardSignals { sigaddset(&set, s) }
        sigprocmask(SIG_BLOCK, &set, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }

        var options = SpawnOptions()
        options.createConsole = plan.terminal
        // The new process belongs to the container's cgroup (and so to its limits):
        // its helper is cloned straight into it, and the process inherits it.
        let cgroupFD = try state.cgroupPath.map { try ContainerCgroup(path: $0).openDirectory() } ?? -1
        defer { if cgroupFD >= 0 { close(cgroupFD) } }
        options.cgroupFD = cgroupFD
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        if !settings.interactive && !plan.terminal {
            devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            options.stdio.0 = devNull
        }
        let supervisor = Supervisor(kernel: kernel, tracer: tracer)
        let launched = try supervisor.launch(plan, options: options)
        // The helper exits once it has forked the real process; reap it.
        _ = try? kernel.wait(launched.process, forwarding: [])
        kernel.close(launched.process.pidfd)
        guard let pid = launched.commandPID else {
            throw NookError("exec: the helper did not report the new process")
        }
        let pidfd = nook_pidfd_open(pid)
        guard pidfd >= 0 else { throw NookError.sys("pidfd_open \(pid)", errno: errno) }
        let process = SpawnedProcess(pid: pid, pidfd: pidfd)
        defer { kernel.close(pidfd) }
        if let pidFile = settings.pidFile { try Self.writePIDFile(pidFile, pid: pid) }
        if launched.consoleMaster >= 0, let socket = settings.consoleSocket {
            let r = nook_send_fd_to_socket(socket, launched.consoleMaster)
            close(launched.consoleMaster)
            if r < 0 { throw NookError.sys("send the console to '\(socket)'", errno: -r) }
        }
        if settings.detach { return nil }
        let terminal = launched.consoleMaster >= 0 && settings.consoleSocket == nil
            ? TerminalRelay(master: launched.consoleMaster, forwardInput: settings.interactive) : nil
        terminal?.enterRawMode()
        let status = try kernel.wait(process, forwarding: settings.forwardSignals, terminal: terminal)
        terminal?.restore()
        return status
    }
}
