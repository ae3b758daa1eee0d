import Glibc
import NookCore
import NookKernel
import NookSpec

/// `exec`: a new process inside a running container. A helper child enters
/// the container's namespaces (setns into a user namespace needs a
/// single-threaded process) and creates the process as our own child, with
/// the container's seccomp filter, capabilities and no_new_privs unless the
/// process spec says otherwise.
extension Runtime {
    package struct ExecSettings: Sendable {
        package var detach = false
        package var pidFile: String?
        package var consoleSocket: String?
        package var interactive = true
        /// The process's stdin, stdout, stderr (-1: ours, or /dev/null for a
        /// stdin that is not `interactive`): a library caller's captures.
        package var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
        package var trace = false
        package var traceSink: @Sendable (String) -> Void = Tracer.standardError
        package var forwardSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
        package init() {}
    }

    /// The process spec for `exec -- CMD`: the container's own environment,
    /// user, capabilities and no_new_privs, with the given overrides.
    package func execProcess(id: String, args: [String], env: [String] = [], cwd: String? = nil,
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
    /// The parent side in order (the child's is spawn.c's join path):
    @discardableResult
    package func exec(id: String, process: Spec.Process, settings: ExecSettings = ExecSettings()) throws -> ExitStatus? {
        let exec = try ExecSequence(runtime: self, id: id, process: process, settings: settings) // state checked, plan made
        defer { exec.cleanUp() }         // undoes what the phases below made, in reverse
        exec.blockForwardedSignals()     // none lost between clone and wait
        try exec.prepareSpawn()          // the container's cgroup fd, /dev/null, console
        try exec.launch()                // joining helper, the process it forks adopted
        try exec.handOver()              // --pid-file, console to --console-socket
        if settings.detach { return nil }
        return try exec.wait()           // signals forwarded, terminal relayed
    }

    /// A process whose /proc/PID/ns we may open: the init, unless it made
    /// itself non-dumpable (`--init`: its namespace files then belong to root);
    /// then one of its children, which share its namespaces.
    static func namespaceHolder(initPID: Int32) -> Int32 {
        if open("/proc/\(initPID)/ns/mnt", O_RDONLY | O_CLOEXEC).closing() { return initPID }
        for name in DirectoryEntries.names(atPath: "/proc") ?? [] {
            // a process that ended meanwhile is not one to look at
            guard let pid = Int32(name), let stat = try? HostPath.readText("/proc/\(pid)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == initPID, open("/proc/\(pid)/ns/mnt", O_RDONLY | O_CLOEXEC).closing() { return pid }
        }
        return initPID
    }

    /// Starts `plan`'s process in the container through the joining helper;
    /// returns it (our child) and, with a terminal, its pty master.
    func spawnInContainer(_ plan: LaunchPlan, options: SpawnOptions, tracer: Tracer) throws -> (SpawnedProcess, Int32) {
        let supervisor = Supervisor(kernel: kernel, tracer: tracer)
        let launched = try supervisor.launch(plan, options: options)
        supervisor.collectJoiningHelper(launched.process)
        guard let pid = launched.commandPID else {
            throw NookError("exec: the helper did not report the new process")
        }
        do {
            return (try kernel.adopt(pid), launched.consoleMaster)
        } catch {
            supervisor.discardForked(pid)
            kernel.close(launched.consoleMaster)
            throw error
        }
    }

    /// OCI hooks that run inside the container: its namespaces and cgroup, as
    /// `exec` enters them, with the container process's user, capabilities and
    /// seccomp filter, `/` as working directory, the hook's `env`, and the
    /// state JSON on stdin. The container's process waits on `exec.fifo`
    /// meanwhile, so every such hook runs before the program.
    /// - createContainer (end of `create`): `path` resolves on the host (the
    ///   runtime namespace), as the runtime spec says: it is opened here and
    ///   the child execs that fd once inside (`execveat`, see `HookProgram`).
    /// - startContainer (`start`): `path` resolves in the container.
    func runHooksInContainer(id: String, spec: Spec, _ point: HookRunner.Point, state: OCIState, tracer: Tracer) throws {
        let hooks = spec.hooks(at: point)
        guard !hooks.isEmpty else { return }
        let record = try store.read(id)
        let input = try HookRunner.input(state)
        let pathOnHost = point == .createContainer
        for (i, hook) in hooks.enumerated() {
            tracer.emit("hook", "\(point.rawValue)[\(i)]: \(hook.path) (inside the container\(pathOnHost ? ", opened on the host" : ""))",
                        "an OCI hook, with the state JSON on stdin")
            do {
                var process = try execProcess(id: id, args: hook.args?.isEmpty == false ? hook.args! : [hook.path])
                process.env = hook.env ?? []
                process.cwd = "/"
                process.terminal = false
                var plan = try LaunchPlan.forExec(containerSpec: spec, process: process, containerID: id, pid: record.pid,
                                                  seccompCache: seccompCache)
                plan.execCandidates = [hook.path]
                plan.pdeathsig = false
                let program = pathOnHost ? try HookProgram(opening: hook.path) : nil
                defer { program?.close() }
                if let program {
                    plan.execFD = program.fd
                    plan.keepExecFD = program.isScript
                }
                var options = SpawnOptions()
                // The state is small: it fits in the pipe before the hook reads it.
                options.stdio.0 = try kernel.pipe(holding: input)
                defer { kernel.close(options.stdio.0) }
                options.cgroupFD = try cgroups.backend(of: id, recordedPath: record.cgroupPath).openForClone()
                defer { kernel.close(options.cgroupFD) }
                let (spawned, _) = try spawnInContainer(plan, options: options, tracer: tracer)
                try HookRunner.waitForHook(spawned, timeout: hook.timeout, kernel: kernel)
            } catch let error as NookError {
                throw error.within("\(point.rawValue) hook \(i) (\(hook.path), in the container)")
            }
        }
    }
}

extension Int32 {
    /// For `open(...).closing()`: whether the open worked; the fd is closed.
    func closing() -> Bool {
        guard self >= 0 else { return false }
        close(self)
        return true
    }
}
