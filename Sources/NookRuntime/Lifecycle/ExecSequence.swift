import Glibc
import NookCore
import NookKernel
import NookSpec

/// One `nook exec`, parent side, as named phases (`Runtime.exec` lists them
/// in order). Each phase notes what it made; `cleanUp` undoes exactly that
/// on every way out.
final class ExecSequence: ContainerSequence {
    let runtime: Runtime, id: String
    let settings: Runtime.ExecSettings
    let tracer: Tracer

    // Decided before anything is made.
    let state: ContainerState
    var plan: LaunchPlan
    let process: Spec.Process

    // What the phases made, undone by `cleanUp`.
    var blockedSignals: BlockedSignals?
    var options = SpawnOptions()
    var fdsToClose: [Int32] = []
    /// The new process (our child) and, with a terminal, its pty master.
    var spawned: SpawnedProcess?
    var consoleMaster: Int32 = -1
    /// Its pid file written and its console sent: until then, a failure kills it
    /// (no one could find it, or talk to it).
    var handedOver = false

    /// The container must be running (or created); the plan joins its namespaces.
    init(runtime: Runtime, id: String, process: Spec.Process, settings: Runtime.ExecSettings) throws {
        (self.runtime, self.id, self.process, self.settings) = (runtime, id, process, settings)
        tracer = Tracer(enabled: settings.trace, sink: settings.traceSink)
        runtime.repair(id: id)
        state = try runtime.store.read(id)
        let status = runtime.status(of: state)
        if status == "paused" {
            throw NookError("container '\(id)' is paused", hint: "resume it first: nook resume \(id)", kind: .wrongState(container: id, state: status))
        }
        if status == "creating" {
            throw NookError("container '\(id)' is still being set up: its root filesystem is not built yet",
                            hint: "exec enters a container once 'nook state \(id)' says running (or created); try again then",
                            kind: .wrongState(container: id, state: status))
        }
        guard status == "running" || status == "created" else {
            throw NookError("container '\(id)' is not running", hint: "exec needs a running container", kind: .wrongState(container: id, state: status))
        }
        let spec = try runtime.loadSpec(id)
        plan = try LaunchPlan.forExec(containerSpec: spec, process: process, containerID: id,
                                      pid: Runtime.namespaceHolder(initPID: state.pid), seccompCache: runtime.seccompCache)
        plan.pdeathsig = false
        if plan.terminal && settings.detach && settings.consoleSocket == nil {
            throw NookError("exec --tty --detach needs --console-socket")
        }
    }

    /// Signals to forward are blocked from now on, so none is lost between
    /// the clone and the wait; the child unblocks them before exec.
    func blockForwardedSignals() {
        blockedSignals = BlockedSignals(settings.forwardSignals)
    }

    /// The container's cgroup fd, so the new process belongs to it (and to
    /// its limits): its helper is cloned straight into it, and the process
    /// inherits it. /dev/null as stdin when not interactive; the console.
    func prepareSpawn() throws {
        options.createConsole = plan.terminal
        options.stdio = settings.stdio
        options.consoleSize = TerminalRelay.startSize(relayed: settings.consoleSocket == nil, requested: process.consoleSize.map(WindowSize.init))
        let cgroup = runtime.cgroups.backend(of: id, recordedPath: state.cgroupPath)
        options.cgroupFD = try cgroup.openForClone()
        fdsToClose.append(options.cgroupFD)
        if options.cgroupFD >= 0 {
            tracer.emit("cgroup", "open(\(cgroup.path ?? "the container's cgroup"), O_RDONLY|O_DIRECTORY) = fd \(options.cgroupFD)",
                        "the new process is cloned straight into the container's cgroup (CLONE_INTO_CGROUP): its limits hold from the start")
        } else {
            tracer.emit("cgroup", "(none)", "the container has no cgroup of its own: the new process stays in nook's, as the container's did")
        }
        if !settings.interactive && !plan.terminal && options.stdio.0 < 0 {
            options.stdio.0 = try NookError.step("open /dev/null") { try kernel.open("/dev/null", flags: O_RDONLY, mode: 0) }
            fdsToClose.append(options.stdio.0)
        }
        FaultPoint.reached("exec.prepared")
    }

    /// The joining helper enters the container and forks the process, which
    /// we adopt.
    func launch() throws {
        let (process, master) = try runtime.spawnInContainer(plan, options: options, tracer: tracer)
        spawned = process
        consoleMaster = master
        FaultPoint.reached("exec.spawned")
    }

    /// --pid-file, and the console to --console-socket; a process not handed over is killed (`cleanUp`).
    func handOver() throws {
        guard let spawned else { return }
        if let pidFile = settings.pidFile { try runtime.writePIDFile(pidFile, pid: spawned.pid) }
        if consoleMaster >= 0, let socket = settings.consoleSocket {
            defer {
                kernel.close(consoleMaster)
                consoleMaster = -1
            }
            try kernel.sendFD(consoleMaster, toSocket: socket)
        }
        handedOver = true
    }

    /// Waits for the process, relaying its terminal and forwarding signals.
    func wait() throws -> ExitStatus? {
        guard let spawned else { return nil }
        let terminal = consoleMaster >= 0 ? TerminalRelay(master: consoleMaster, forwardInput: settings.interactive) : nil
        terminal?.enterRawMode()
        defer { terminal?.restore() }
        let status = try runtime.waitOrKill(spawned, forwarding: settings.forwardSignals, terminal: terminal)
        tracer.emit("exit", "waitpid(\(spawned.pid)) = \(status)", "the process ended; the container runs on")
        return status
    }

    /// Undoes what the phases made, in reverse: a process not handed over
    /// (killed and reaped), the console and the process's pidfd (a detached
    /// process runs on), fds, signal mask.
    func cleanUp() {
        if !handedOver, let spawned {
            try? kernel.signal(spawned, SIGKILL) // fails only if it is gone: the wait collects it
            _ = try? kernel.wait(spawned, forwarding: []) // nothing to report: it was killed, and the error being thrown is the one
        }
        kernel.close(consoleMaster)
        if let spawned { kernel.close(spawned.pidfd) }
        for fd in fdsToClose.reversed() { kernel.close(fd) }
        blockedSignals?.restore()
    }
}
