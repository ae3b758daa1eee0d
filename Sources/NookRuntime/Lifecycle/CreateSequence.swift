import Glibc
import NookCore
import NookKernel
import NookSpec

/// One `nook create`, parent side, as named phases (`Runtime.create` lists
/// them in order). Each phase notes what it made; `cleanUp` undoes it on
/// every way out but success, when the container is left waiting for `start`.
final class CreateSequence: ContainerSequence {
    let runtime: Runtime, id: String
    let spec: Spec
    let settings: Runtime.CreateSettings
    let tracer: Tracer
    var fifo: String { directory + "/" + Runtime.fifoName }

    // Decided before anything is made.
    var plan: LaunchPlan
    let cgroup: CgroupBackend

    // What the phases made, undone by `cleanUp`.
    var lock: ContainerLock?
    var cgroupMade = false
    var options = SpawnOptions()
    var fdsToClose: [Int32] = []
    var state: ContainerState?
    /// Once launched, the process is ours to kill if anything after fails
    /// (before that, the supervisor kills it itself); its pidfd stays open until then.
    var launched: Supervisor.Launched?
    /// The container waits for `start`: nothing is undone.
    var finished = false

    /// The plan: identity, mounts, limits, all checked before anything is made.
    init(runtime: Runtime, spec: Spec, id: String, settings: Runtime.CreateSettings) throws {
        (self.runtime, self.spec, self.id, self.settings) = (runtime, spec, id, settings)
        tracer = Tracer(enabled: settings.trace, sink: settings.traceSink)
        runtime.reconcile()
        let identity = try runtime.identity(for: spec)
        let limits = try CgroupLimits(spec.linux?.resources)
        cgroup = try runtime.cgroups.backend(forNew: id, limits: limits, cgroupsPath: spec.linux?.cgroupsPath, tracer: tracer)
        plan = try LaunchPlan.make(spec: spec, containerID: id, bundle: settings.bundle, identity: identity,
                                   ownCgroup: cgroup.path != nil, seccompCache: runtime.seccompCache)
        plan.pdeathsig = false // the caller (conmon, a test harness) supervises it, not us
        plan.preserveFDs = try Runtime.checkPreservedFDs(settings.preserveFDs)
        if plan.terminal && settings.consoleSocket == nil {
            throw NookError("process.terminal is true but no --console-socket was given",
                            hint: "pass --console-socket SOCK, or set \"terminal\": false in config.json")
        }
    }

    /// The container's directory, made and locked.
    func reserveState() throws {
        lock = try store.reserve(id)
        FaultPoint.reached("create.reserved")
    }

    /// The container's cgroup with its limits, noted in the state directory at once.
    func makeCgroup() throws {
        cgroupMade = true // a half-made one is removed too
        try cgroup.create()
        if let path = cgroup.path { try store.recordCgroup(id, path: path) }
        FaultPoint.reached("create.prepared")
    }

    /// config.json, which `start`, `exec` and hooks read, and exec.fifo.
    /// 0600: no one opens it by path but `start`. The container's waiter
    /// holds the only reader, opened read-write here on the host and handed
    /// down (its user, maybe a sub-id, needs no right to it); it blocks
    /// reading until `start` writes (StartWaiter), and `start` finds no
    /// reader (ENXIO) once the container is gone.
    func prepareStartFIFO() throws {
        try runtime.writeJSON(spec, to: directory + "/" + Runtime.specName)
        try NookError.step("mkfifo '\(fifo)'") { try kernel.makeFIFO(fifo, mode: 0o600) }
        options.startFifoFD = try NookError.step("open '\(fifo)'") { try kernel.open(fifo, flags: O_RDWR | O_NOFOLLOW, mode: 0) }
        fdsToClose.append(options.startFifoFD)
    }

    /// The cgroup's fd (CLONE_INTO_CGROUP), the console, and the bind sources
    /// opened before the user namespace (as real root).
    func prepareSpawn() throws {
        options.createConsole = plan.terminal
        options.consoleSize = TerminalRelay.startSize(relayed: false, requested: plan.spec.process?.consoleSize.map(WindowSize.init))
        options.cgroupFD = try cgroup.openForClone()
        fdsToClose.append(options.cgroupFD)
        if plan.opensBindSourcesFirst { fdsToClose += try MountPlanner.openBindSources(&plan.mounts) }
    }

    /// Clone, id maps, the state record and the createRuntime and prestart
    /// hooks before the release; then the child's setup, up to its waiter.
    func launch() throws {
        var record = ContainerState(id: id, status: .creating, pid: 0, startTime: 0, bundle: settings.bundle,
                                    rootfs: plan.rootfs, mode: .oci, created: Runtime.timestamp())
        record.annotations = spec.annotations
        record.cgroupPath = cgroup.path
        record.ownNamespaces = plan.namespaces.map(\.ociName)
        launched = try Supervisor(kernel: kernel, tracer: tracer).launch(plan, options: options, stopAtReady: true) { process in
            record.pid = process.pid
            record.startTime = ProcessIdentity.startTime(pid: process.pid, in: self.kernel) ?? 0
            FaultPoint.reached("create.cloned")
            try self.store.write(record)
            FaultPoint.reached("create.launched")
            try HookRunner.run(self.spec, .createRuntime, state: self.runtime.ociState(record), tracer: self.tracer, kernel: self.kernel)
            try HookRunner.run(self.spec, .prestart, state: self.runtime.ociState(record), tracer: self.tracer, kernel: self.kernel)
        }
        state = record
        FaultPoint.reached("create.ready")
    }

    /// With a terminal: the pty's master to --console-socket.
    func sendConsole() throws {
        guard let master = launched?.consoleMaster, master >= 0 else { return }
        defer { kernel.close(master) }
        try kernel.sendFD(master, toSocket: settings.consoleSocket!)
    }

    /// Created; the createContainer hooks (in the container's namespaces,
    /// path resolved on the host: the runtime spec); --pid-file.
    func recordCreated() throws {
        guard var record = state, let launched else { return }
        record.status = .created
        try store.write(record)
        FaultPoint.reached("create.created")
        try runtime.runHooksInContainer(id: id, spec: spec, .createContainer, state: runtime.ociState(record), tracer: tracer)
        if let pidFile = settings.pidFile { try runtime.writePIDFile(pidFile, pid: launched.process.pid) }
        finished = true
    }

    /// On success: the fds, the launched process's pidfd, the lock. On a
    /// failure also, in reverse: the process (killed and reaped), the cgroup,
    /// the state directory.
    func cleanUp() {
        if !finished, let p = launched?.process {
            try? kernel.signal(p, SIGKILL) // fails only if it is gone: the wait collects it
            _ = try? kernel.wait(p, forwarding: []) // nothing to report: it was killed
        }
        if let p = launched?.process { kernel.close(p.pidfd) }
        for fd in fdsToClose.reversed() { kernel.close(fd) }
        if !finished {
            // The error being thrown is the one to report; a cgroup left is recorded for repair.
            if cgroupMade { try? cgroup.remove() }
            if lock != nil { store.remove(id) }
        }
        lock?.release()
    }
}
