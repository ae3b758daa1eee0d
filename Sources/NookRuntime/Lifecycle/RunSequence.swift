import Glibc
import NookCore
import NookKernel
import NookSpec

/// One `nook run`, parent side, as named phases (`Runtime.run` lists them in
/// order). Each phase notes what it made; `cleanUp` undoes exactly that, in
/// reverse, on every way out.
final class RunSequence: ContainerSequence {
    let runtime: Runtime, id: String
    let spec: Spec
    let settings: Runtime.RunSettings
    let tracer: Tracer

    // Decided before anything is made.
    var plan: LaunchPlan
    let limits: CgroupLimits
    /// The container's cgroup (none, delegated v2, or a fake): made by `makeCgroup`.
    let cgroup: CgroupBackend
    let network: NetworkSettings?

    // What the phases made, undone by `cleanUp`.
    var lock: ContainerLock?
    /// The state of an earlier run of this container (a restart).
    var earlier: ContainerState?
    var helper: RunningNetworkHelper?
    var options = SpawnOptions()
    var fdsToClose: [Int32] = []
    var blockedSignals: BlockedSignals?
    var log: LogRelay?
    var state: ContainerState?
    /// A detached container's record stays after it stopped (until `nook rm`).
    var keepState = false
    /// Its process ran and ended: a `--rm` container started again (podman's
    /// `create --rm`, then `start`) goes now; one whose start failed is kept.
    var exited = false

    /// The plan: identity, mounts, limits, network, all checked before anything is made.
    init(runtime: Runtime, spec: Spec, id: String, settings: Runtime.RunSettings) throws {
        self.runtime = runtime
        self.spec = spec
        self.id = id
        self.settings = settings
        tracer = Tracer(enabled: settings.trace, sink: settings.traceSink)
        runtime.reconcile()
        let identity = try runtime.identity(for: spec, mode: settings.userns)
        limits = try CgroupLimits(spec.linux?.resources)
        cgroup = try runtime.cgroups.backend(forNew: id, limits: limits, cgroupsPath: spec.linux?.cgroupsPath, tracer: tracer)
        // `nook run --rootfs` always says which network; a bundle gets exactly what its config.json asks for.
        network = settings.network
        plan = try LaunchPlan.make(spec: spec, containerID: id, bundle: settings.bundle ?? runtime.store.directory(id), identity: identity,
                                   ownCgroup: cgroup.path != nil, network: network, parsed: settings.parsed,
                                   seccompCache: runtime.seccompCache)
        plan.initProcess = settings.initProcess
        plan.newSession = true
        plan.preserveFDs = try Runtime.checkPreservedFDs(settings.preserveFDs)
        if let network { try runtime.network.check(network, namespaces: plan.namespaces) }
    }

    /// The container's directory, made and locked (or, for a restart, locked);
    /// its config.json, which `nook exec` reads.
    func reserveState() throws {
        if settings.restarting {
            guard kernel.isDirectory(directory) else { throw store.notFound(id) }
            guard let held = settings.waitForLock ? try store.lock(id) : store.lockIfFree(id) else {
                throw NookError("container '\(id)' is being started or supervised by another nook command")
            }
            lock = held
            try checkNotRunningElsewhere()
        } else {
            lock = try store.reserve(id)
        }
        tracer.emit("state", "mkdir \(directory) + flock(lock)", "the container's record; no daemon keeps it")
        FaultPoint.reached("run.reserved")
        try runtime.writeJSON(spec, to: directory + "/" + Runtime.specName) // for `nook exec`
    }

    /// Read again under the lock: two `nook start`s, or one during the
    /// monitor's pause before a restart, must never give it two monitors.
    /// And it must still be the container this run is for: after `rm -f`
    /// and a new container of that name (while a `nook start` was on its way,
    /// or during the monitor's pause), the new one is not ours to run. A
    /// restart of the policy's (`restartCount` > 0) also needs the record to
    /// name its monitor.
    private func checkNotRunningElsewhere() throws {
        let earlier = try store.read(id)
        let mine = earlier.namesThisProcessAsMonitor
        let incarnation = earlier.incarnation ?? ContainerState.noIncarnation
        if (settings.incarnation != nil && incarnation != settings.incarnation) || (settings.restartCount > 0 && !mine) {
            lock?.release()
            lock = nil
            throw NookError("container '\(id)' was removed and made again, or started by another command, since this start began",
                            hint: "'nook ps -a' shows it now; 'nook start \(id)' starts it if it is stopped",
                            kind: .wrongState(container: id, state: runtime.status(of: earlier)))
        }
        if (earlier.monitorIsAlive && !mine) || runtime.status(of: earlier) == "running" || (mine && earlier.stoppedByUser == true) {
            lock?.release()
            lock = nil
            throw NookError("container '\(id)' is \(runtime.status(of: earlier)) under its monitor (pid \(earlier.monitorPID ?? 0))",
                            hint: "'nook stop \(id)' stops it and ends its restart policy",
                            kind: .wrongState(container: id, state: runtime.status(of: earlier)))
        }
        self.earlier = earlier
    }

    /// /etc/hosts and resolv.conf for the container, in its state directory.
    func prepareNetworkFiles() throws {
        guard let network else { return }
        plan.mounts += try runtime.network.prepareFiles(network, spec: spec, containerID: id, directory: directory)
    }

    /// Signals to forward are blocked from now on, so none is lost or kills
    /// us between the clone and the wait; the child unblocks them before exec.
    func blockForwardedSignals() {
        blockedSignals = BlockedSignals(settings.forwardSignals)
    }

    /// The container's cgroup with its limits, noted in the state directory at
    /// once; its fd, so the clone starts inside.
    func makeCgroup() throws {
        try cgroup.create()
        if let path = cgroup.path { try store.recordCgroup(id, path: path) }
        FaultPoint.reached("run.prepared")
        options.cgroupFD = try cgroup.openForClone()
        if options.cgroupFD >= 0 { fdsToClose.append(options.cgroupFD) }
    }

    /// The container's stdin, stdout, stderr, its log (`-d`), its console (`-t`),
    /// and the bind sources opened before the user namespace (as real root).
    func prepareStdio() throws {
        options.stdio = settings.stdio
        if (!settings.interactive || settings.detached) && options.stdio.0 < 0 {
            let devNull = try NookError.step("open /dev/null") { try kernel.open("/dev/null", flags: O_RDONLY, mode: 0) }
            fdsToClose.append(devNull)
            options.stdio.0 = devNull
        }
        log = settings.detached ? try LogRelay(path: directory + "/container.log") : nil
        if let log { options.stdio = (options.stdio.0, log.containerStdout, log.containerStderr) }
        options.createConsole = plan.terminal
        options.consoleSize = TerminalRelay.startSize(relayed: true, requested: plan.spec.process?.consoleSize.map(WindowSize.init))
        if plan.opensBindSourcesFirst { fdsToClose += try MountPlanner.openBindSources(&plan.mounts) }
    }

    /// Clone, id maps, network helper, state record, release, and follow the
    /// child through its setup to its execve.
    func launch() throws -> Supervisor.Launched {
        let launched = try Supervisor(kernel: kernel, tracer: tracer).launch(plan, options: options) { process in
            try self.startNetworkHelper(for: process)
            FaultPoint.reached("run.cloned")
            try self.recordCreating(process)
            FaultPoint.reached("run.launched")
        } atReady: { _ in
            try self.helper?.confirmStarted()
            try self.recordRunning()
        }
        fdsToClose.append(launched.process.pidfd)
        log?.closeContainerEnds()
        // A `nook stop` that came while this run was being started again
        // (--restart) found no process to signal: the stop wins. Looked at
        // after the record says running; the stop looks at the record after
        // its mark, so one of the two sees the other.
        if settings.restarting, settings.detached, (try? store.read(id))?.stoppedByUser == true {  // unreadable: no mark
            try? kernel.signal(launched.process, SIGKILL)  // gone already is what we want
        }
        settings.onRunning?(launched.process.pid)
        FaultPoint.reached("run.running")
        return launched
    }

    /// The network namespace exists and its user namespace has its maps: the
    /// helper can join both. The command has not started yet.
    private func startNetworkHelper(for process: SpawnedProcess) throws {
        guard let network, network.startsHelper else { return }
        helper = try runtime.network.start(network, containerPID: process.pid, stateDirectory: directory, tracer: tracer)
    }

    /// Creating until the child has built its root: `exec` must not join a
    /// mount namespace that is still the host's tree.
    private func recordCreating(_ process: SpawnedProcess) throws {
        var record = ContainerState(id: id, status: .creating, pid: process.pid,
                                    startTime: ProcessIdentity.startTime(pid: process.pid, in: kernel) ?? 0,
                                    bundle: settings.bundle ?? directory, rootfs: plan.rootfs,
                                    mode: settings.detached ? .detached : .foreground,
                                    created: earlier?.created ?? Runtime.timestamp())
        record.incarnation = earlier?.incarnation ?? Runtime.generateID()
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
        // A `nook stop` meanwhile: its mark is a file of its own (StateStore.markStopped), which this write leaves alone.
        try store.write(record, durable: settings.detached)
        state = record
    }

    private func recordRunning() throws {
        guard var record = state else { return }
        record.status = .running
        record.started = Runtime.timestamp()
        try store.write(record, durable: settings.detached)
    }

    /// Waits for the container's process, relaying its terminal or log, and
    /// forwarding signals meanwhile.
    func wait(for launched: Supervisor.Launched) throws -> ExitStatus {
        let terminal = launched.consoleMaster >= 0
            ? TerminalRelay(master: launched.consoleMaster, forwardInput: settings.interactive) : nil
        terminal?.enterRawMode()
        defer { terminal?.restore() }
        return try runtime.waitOrKill(launched.process, forwarding: settings.forwardSignals, terminal: terminal, log: log)
    }

    /// How it ended, said (an OOM kill) and, for a detached container, recorded.
    func recordExit(_ status: ExitStatus, pid: pid_t) {
        helper?.finish()
        exited = true
        let reason = status == .signaled(SIGKILL) && cgroup.oomKilled() ? "out of memory (\(limits.memoryMaxDescription))" : nil
        // removed meanwhile (nook rm -f): nothing to record
        if settings.detached && !settings.removeOnExit, var state = try? store.read(id) {
            FaultPoint.reached("run.exit-read")
            state.status = .stopped
            state.finished = Runtime.timestamp()
            state.exitCode = status.code
            state.exitReason = reason
            try? store.write(state) // best effort: the process is gone either way, and status(of:) says stopped
            keepState = true
        }
        tracer.emit("exit", "waitpid(\(pid)) = \(status)", "the container ended; its namespaces go with its last process")
        FaultPoint.reached("run.exited")
        if let reason {
            // A detached monitor's stderr is /dev/null: its container's log keeps the message.
            Tracer.standardError("nook: container killed: \(reason)")
            log?.note("nook: container killed: \(reason)")
        }
    }

    /// Undoes what the phases made, in reverse: fds, signal mask, network
    /// helper, cgroup, state directory (a failed restart keeps the stopped
    /// container and its log), lock.
    func cleanUp() {
        for fd in fdsToClose.reversed() { kernel.close(fd) }
        blockedSignals?.restore()
        helper?.stop()
        try? cgroup.remove() // best effort: only one it made; `delete` and recovery retry a recorded one
        if lock != nil, settings.restarting, !exited, state != nil, let earlier {
            // A start that failed left "creating", which the next command's recovery removes: put back the container as it was.
            try? store.write(earlier) // unwritable: the record stays "creating", as before this fix
        } else if lock != nil && !keepState && (!settings.restarting || exited) {
            store.remove(id, spec: spec)  // the spec it wrote: its layer found without reading config.json back
        }
        lock?.release()
    }
}
