import Glibc
import NookCore
import NookKernel
import NookSpec
import SystemPackage
import FoundationEssentials

/// The OCI runtime interface (create, start, state, kill, delete, exec),
/// with no daemon: every step reads and writes the container's state files.
///
/// After `create`, the container's process has done all its setup and waits
/// as `nook-wait` (`StartWaiter`), blocked reading `exec.fifo`; `start` writes
/// one byte into it, and the waiter goes on to execve the command. No Nook
/// process stays in between.
extension Runtime {
    package struct CreateSettings: Sendable {
        package var bundle: String
        package var pidFile: String?
        package var consoleSocket: String?
        package var preserveFDs: Int32 = 0
        package var trace = false
        package var traceSink: @Sendable (String) -> Void = Tracer.standardError
        package init(bundle: String) { self.bundle = bundle }
    }

    static let fifoName = "exec.fifo"
    static let specName = "config.json"

    /// `nook create`: sets the container up; its process waits for `start`.
    /// The parent side in order (the child's is spawn.c's `child_main`, then the waiter):
    package func create(_ spec: Spec, id: String, settings: CreateSettings) throws {
        let create = try CreateSequence(runtime: self, spec: spec, id: id, settings: settings) // plan and checks: nothing made yet
        defer { create.cleanUp() }    // undoes what the phases below made, unless all of them succeeded
        try create.reserveState()     // state directory made and locked
        try create.makeCgroup()       // cgroup and limits, recorded
        try create.prepareStartFIFO() // config.json, exec.fifo and the waiter's end of it
        try create.prepareSpawn()     // cgroup fd, console, bind sources opened as root
        try create.launch()           // clone, id maps, state, createRuntime and prestart hooks, setup up to the waiter
        try create.sendConsole()      // the pty master to --console-socket
        try create.recordCreated()    // created; createContainer hooks; --pid-file
    }

    /// `nook start`: lets a created container's process exec its command.
    package func start(id: String) throws {
        repair(id: id)
        // Only `create` makes a container that waits for `start`; a foreground
        // run's own nook holds its lock for as long as it runs: no waiting on it.
        if let peek = try? store.read(id), peek.mode == .foreground {
            throw NookError("container '\(id)' was started by 'nook run' in the foreground", hint: "only a container made by 'nook create' can be started",
                            kind: .wrongState(container: id, state: status(of: peek)))
        }
        let lock = try store.lock(id)
        defer { lock.release() }
        var state = try store.read(id)
        let spec = try loadSpec(id)
        guard status(of: state) == "created" else {
            throw NookError("container '\(id)' is \(status(of: state)), not created", hint: "only a created container can be started",
                            kind: .wrongState(container: id, state: status(of: state)))
        }
        // startContainer hooks run in the container before its program: the
        // program waits at exec.fifo until we write it below.
        do {
            try runHooksInContainer(id: id, spec: spec, .startContainer, state: ociState(state), tracer: Tracer(enabled: false))
        } catch {
            try? kill(id: id, signal: SIGKILL, all: true) // the runtime spec: a failed startContainer hook stops the container
            throw error
        }
        FaultPoint.reached("start.locked")
        let fifo = store.directory(id) + "/" + Self.fifoName
        let fd = try openStartFIFO(fifo, id: id)
        defer { kernel.close(fd) }
        FaultPoint.reached("start.opened")
        _ = try NookError.step("write '\(fifo)'") { try kernel.write(fd, [0x30]) }
        FaultPoint.reached("start.released")
        try waitForStartTaken(fd, fifo: fifo, state: state)
        // Best effort: no one opens it again (a container that no longer waits has no reader), and delete removes it.
        try? kernel.removeFile(fifo)
        state.status = .running
        state.started = Runtime.timestamp()
        try store.write(state)
        FaultPoint.reached("start.recorded")
        // The state as of the start: a short-lived process may be gone by
        // now, and the hook is still told it ran, with its pid (as runc and crun do).
        try HookRunner.run(spec, .poststart, state: ociState(state, status: "running"), tracer: Tracer(enabled: false), kernel: kernel)
    }

    /// The container's waiter is the FIFO's only reader: none (ENXIO), it is gone.
    private func openStartFIFO(_ fifo: String, id: String) throws -> Int32 {
        do {
            return try kernel.open(fifo, flags: O_WRONLY | O_NONBLOCK | O_NOFOLLOW, mode: 0)
        } catch Errno.noSuchAddressOrDevice {
            throw NookError("container '\(id)' died before it could start")
        } catch let e as Errno {
            throw NookError.sys("open '\(fifo)'", path: fifo, errno: e.rawValue)
        }
    }

    /// The waiter closes the FIFO once it has the byte: then the FIFO has no
    /// reader (POLLERR). A byte still there means it died without taking it.
    /// A process of the same user (without a PID namespace of its own, any
    /// in the container) may have stopped the waiter: it gets SIGCONT, and
    /// one kept stopped is reported, never waited for without end.
    private func waitForStartTaken(_ fd: Int32, fifo: String, state: ContainerState) throws {
        let identity = ProcessIdentity(pid: state.pid, startTime: state.startTime)
        let waiter = try? kernel.openPidfd(state.pid) // none: it is gone, which the loop finds
        defer { waiter.map(kernel.close) }
        let began = kernel.now()
        while true {
            if let waiter, let s = kernel.processStat(state.pid).flatMap(ContainerProcesses.parseStat), s.state == "T" || s.state == "t" {
                guard kernel.now() - began < 5 else {
                    throw NookError("container '\(state.id)''s process is kept stopped (SIGSTOP) and does not take the start",
                                    hint: "'nook delete --force \(state.id)' removes it")
                }
                try? kernel.signal(pidfd: waiter, SIGCONT) // fails only once it is gone: the loop finds that
            }
            let events = try NookError.step("poll '\(fifo)'") { try kernel.poll(fd, events: 0, milliseconds: 100) }
            if events & Int16(POLLERR) != 0 { break }
            if !identity.isAlive(in: kernel) { break }
        }
        if kernel.pendingBytes(fd) != 0 { throw NookError("container '\(state.id)' died before it could start") }
    }

    /// The OCI status: creating, created, running or stopped, from the state
    /// file and the process table; "paused" (a value the OCI spec lets a
    /// runtime add, as runc does) while the container's cgroup is frozen.
    package func status(of state: ContainerState) -> String {
        if state.status == .creating { return "creating" }
        if state.status == .stopped && state.mode == .detached {
            // Between two runs of a --restart policy: its monitor waits to run it again.
            if state.restartPolicy != nil, state.stoppedByUser != true, state.monitorIsAlive { return "restarting" }
            return "stopped"
        }
        let alive = ProcessIdentity(pid: state.pid, startTime: state.startTime).isAlive(in: kernel)
        if !alive { return "stopped" }
        if state.mode == .oci && isWaitingForStart(state) { return "created" }
        if state.cgroupPath != nil, cgroups.backend(of: state.id, recordedPath: state.cgroupPath).isFrozen { return "paused" }
        return "running"
    }

    package func ociState(_ state: ContainerState) -> OCIState {
        ociState(state, status: status(of: state))
    }

    /// The state with a given status: the current one, or one as of a moment already past.
    func ociState(_ state: ContainerState, status: String) -> OCIState {
        OCIState(ociVersion: Spec.version, id: state.id, status: status, pid: status == "stopped" ? 0 : state.pid,
                 bundle: state.bundle, annotations: state.annotations)
    }

    package func state(id: String) throws -> OCIState {
        repair(id: id)
        return ociState(try store.read(id))
    }

    package func list() -> [OCIState] {
        reconcile()
        // a container removed or half-written while we list is not listed
        return store.ids().compactMap { try? store.read($0) }.map(ociState)
    }

    /// `nook kill`: a signal to the container's init (or, with `all`, to every
    /// process of the container: `ContainerProcesses` says which those are).
    package func kill(id: String, signal: Int32, all: Bool = false) throws {
        repair(id: id)
        let state = try store.read(id)
        guard status(of: state) != "stopped" else {
            throw NookError("container '\(id)' is not running", hint: "nothing to signal; 'nook delete \(id)' removes it",
                            kind: .wrongState(container: id, state: "stopped"))
        }
        markStoppedByUser(state)
        if all {
            containerProcesses(state).signal(signal)
            return
        }
        if signal == SIGKILL {
            // Without a PID namespace of its own, the init's death would not end
            // its processes, and nothing would find them once it is gone: KILL
            // takes the whole container, as the kernel does for a PID 1.
            let processes = containerProcesses(state)
            if !processes.initEndsNamespace {
                processes.kill()
                return
            }
        }
        // Through a pidfd whose start time we checked: never a reused pid.
        guard let fd = try? kernel.openPidfd(state.pid) else { return } // gone: nothing to signal
        defer { kernel.close(fd) }
        guard ProcessIdentity.startTime(pid: state.pid, in: kernel) == state.startTime else { return }
        try NookError.step("kill \(state.pid)") { try kernel.signal(pidfd: fd, signal) }
    }

    /// The container's processes, found through its cgroup (if it has one) and its namespaces.
    func containerProcesses(_ state: ContainerState) -> ContainerProcesses {
        ContainerProcesses(state: state, cgroup: cgroups.backend(of: state.id, recordedPath: state.cgroupPath), kernel: kernel)
    }

    /// Host pids of the container's processes (and of nothing else: see `ContainerProcesses`).
    package func processes(of state: ContainerState) -> [Int32] {
        let processes = containerProcesses(state)
        processes.refresh()
        return processes.pids
    }

    /// `nook delete` / `nook rm`: removes a stopped container; `force` kills a live one first.
    /// The phases in order:
    package func delete(id: String, force: Bool) throws {
        if repair(id: id) { return }             // what a killed command left: removed now
        let state = try store.read(id)
        try stopForDelete(state, force: force)   // --force: every process of the container killed
        // A monitor (run -d) or foreground nook holds the lock until it has
        // recorded the end; it lets go as soon as its container is gone.
        guard kernel.isDirectory(store.directory(id)) else { return }
        let lock = try store.lock(id)
        defer { lock.release() }
        FaultPoint.reached("delete.locked")
        try removeStopped(state)                 // cgroup, state directory, poststop hooks
    }

    /// A container still running is refused, or with `force` killed whole:
    /// its init must be gone before anything of it is removed.
    private func stopForDelete(_ state: ContainerState, force: Bool) throws {
        let current = status(of: state)
        guard current != "stopped" else { return }
        guard force else {
            throw NookError("container '\(state.id)' is \(current)", hint: "stop it first, or use --force",
                            kind: .wrongState(container: state.id, state: current))
        }
        markStoppedByUser(state)
        containerProcesses(state).kill()
        let identity = ProcessIdentity(pid: state.pid, startTime: state.startTime)
        var waited = 0
        while identity.isAlive(in: kernel) && waited < 500 { kernel.sleep(microseconds: 10_000); waited += 1 }
        if identity.isAlive(in: kernel) { throw NookError("container '\(state.id)' did not die after SIGKILL") }
        FaultPoint.reached("delete.killed")
    }

    /// With the lock held: the cgroup (a failure keeps the state, to delete
    /// again), then the state directory, then the poststop hooks.
    private func removeStopped(_ state: ContainerState) throws {
        let spec = try? loadSpec(state.id) // none (removed by hand): no poststop hooks to run
        try cgroups.backend(of: state.id, recordedPath: state.cgroupPath).remove()
        store.remove(state.id)
        // poststop hooks are reported and ignored, as the runtime spec says
        if let spec { try? HookRunner.run(spec, .poststop, state: ociState(state), tracer: Tracer(enabled: false), kernel: kernel) }
    }

    /// `nook stop`: `signal` (nil: the spec's stop signal, else TERM), then KILL after `timeout` seconds.
    package func stop(id: String, timeout: Int, signal: Int32? = nil) throws {
        repair(id: id)
        let state = try store.read(id)
        guard status(of: state) != "stopped" else {
            // Ended by itself, its monitor perhaps not yet done recording it: no restart either.
            markStoppedByUser(state)
            try stopRestartedRun(since: state, timeout: timeout, signal: signal)
            return
        }
        let signal = try signal ?? stopSignal(of: id)
        // Found before the init can end: without a PID namespace of its own,
        // what it leaves behind is found from these (and their children) after.
        let processes = containerProcesses(state)
        processes.refresh()
        FaultPoint.reached("stop.looked")
        do {
            try kill(id: id, signal: signal)
        } catch let error as NookError {
            // It ended by itself since the look above (a --restart container
            // between runs, before its monitor recorded the end): stopped all
            // the same, and the stop must still end its restart policy.
            guard case .wrongState = error.kind else { throw error }
            markStoppedByUser(state)
            try stopRestartedRun(since: state, timeout: timeout, signal: signal)
            return
        }
        FaultPoint.reached("stop.signalled")
        let identity = ProcessIdentity(pid: state.pid, startTime: state.startTime)
        var waited = 0
        while identity.isAlive(in: kernel) && waited < timeout * 100 { kernel.sleep(microseconds: 10_000); waited += 1 }
        processes.kill()
        while identity.isAlive(in: kernel) { kernel.sleep(microseconds: 10_000) }
        try stopRestartedRun(since: state, timeout: timeout, signal: signal)
    }

    /// A --restart container's monitor may have started it again since
    /// `state` was read (a "restarting" container has no process to signal):
    /// the mark is set by now, and a run recorded after it is killed by its
    /// monitor; one recorded before it is stopped here.
    private func stopRestartedRun(since state: ContainerState, timeout: Int, signal: Int32?) throws {
        guard state.mode == .detached, state.restartPolicy != nil,
              let now = try? store.read(state.id),  // gone meanwhile: stopped
              now.pid != state.pid, status(of: now) == "running" else { return }
        try stop(id: state.id, timeout: timeout, signal: signal)
    }

    /// The signal the container's spec asks `nook stop` to send first (an image's StopSignal).
    func stopSignal(of id: String) throws -> Int32 {
        // no recorded spec (removed by hand): the default
        guard let name = (try? loadSpec(id))?.annotations?[StopSignalAnnotation.key] else { return SIGTERM }
        do { return try Signals.parse(name) } catch {
            throw NookError("container '\(id)' has an unknown stop signal '\(name)' (annotation \(StopSignalAnnotation.key))",
                            hint: "stop it with: nook kill \(id) TERM")
        }
    }

    /// A detached container's monitor restarts it (`--restart`) only when it
    /// ended by itself: recorded before the signal, read by the monitor after the exit.
    func markStoppedByUser(_ state: ContainerState) {
        guard state.mode == .detached, state.restartPolicy != nil else { return }
        try? store.markStopped(state.id)  // best effort: the stop goes on; a lost mark means one more restart at most
    }

    /// `nook wait`: blocks until the container stops; its exit code (nil if unknown).
    package func waitForExit(id: String) throws -> Int32? {
        while true {
            // no readable state: the container is gone, said as such
            guard let state = try? store.read(id) else { throw store.notFound(id) }
            if status(of: state) == "stopped" {
                // The monitor records the code just after the process ends.
                for _ in 0..<200 {
                    // removed meanwhile: the next line and the loop's end cover it
                    if let s = try? store.read(id), s.exitCode != nil || s.status == .stopped { return s.exitCode }
                    if let s = try? store.read(id), let m = s.monitorPID, let t = s.monitorStartTime,  // as above
                       !ProcessIdentity(pid: m, startTime: t).isAlive { return s.exitCode }
                    usleep(10_000)
                }
                return (try? store.read(id))?.exitCode  // removed meanwhile: its code is unknown (nil)
            }
            usleep(50_000)
        }
    }

    /// The spec a container was created with (kept in its state directory).
    package func loadSpec(_ id: String) throws -> Spec {
        let path = store.directory(id) + "/" + Self.specName
        guard kernel.exists(path) else {
            // One message for a missing container, whichever command asks.
            guard store.ids().contains(id) else { throw store.notFound(id) }
            throw NookError("container '\(id)' has no recorded config")
        }
        return try BundleLoader.decode(try kernel.readFile(path, as: .configJSON, noFollow: true), source: path)
    }

    func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try store.writeFile(path, Array(try encoder.encode(value)))
    }

    /// Atomic, like runc: conmon reads it as soon as create returns.
    func writePIDFile(_ path: String, pid: Int32) throws {
        try FileReplacement.write(path, "\(pid)", kernel: kernel)
    }
}
