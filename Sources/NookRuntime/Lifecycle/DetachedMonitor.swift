import FoundationEssentials
import Glibc
import NookCore
import NookKernel
import NookSpec

/// `nook run -d`: no daemon, but one small monitor per container (like
/// podman's conmon). `nook run -d` starts `nook __monitor` in a new session,
/// which runs the container as a foreground run would (supervises it, keeps
/// its exit code, copies its output into a log) and reports back over a pipe
/// once the command runs. Killing a monitor kills its container, and only it.
///
/// The monitor is `monitorExecutable`: the CLI's own binary, or for a library
/// caller a nook binary found or named (`MonitorExecutable`). With
/// `boundToCaller`, the monitor holds a pidfd of this process: when this
/// process dies, however (SIGKILL included), the monitor kills the container
/// and removes its state. No reaper process, no daemon: the container's own
/// monitor is the one that watches.
extension Runtime {
    /// A library caller's input for a container: a memfd sealed against
    /// writes, growth and shrinking, read from its start. The container gets
    /// it as its stdin and can read it, never write to it, whoever it is
    /// (it is not a file of ours it could fill up).
    static func sealedInput(_ bytes: [UInt8]) throws -> Int32 {
        let fd = try bytes.withUnsafeBytes { try SealedBinary.sealedCopy(of: $0, name: "nook-stdin", what: "the container's input") }
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            let err = errno
            close(fd)
            throw NookError.sys("rewind the container's input", errno: err)
        }
        return fd
    }

    /// A detached container that runs: its monitor (our child until it ends:
    /// the caller reaps it) and the container's process.
    package struct DetachedStart: Sendable, Equatable {
        package var monitorPID: Int32
        package var containerPID: Int32
    }

    /// `layerLock`: an open descriptor holding the lock of the container's
    /// own layer (`OwnedLayer`), which the monitor inherits and holds for the
    /// container's whole life (-1: none; a monitor that gets none takes the lock itself).
    @discardableResult
    package func runDetached(_ spec: Spec, id: String, bundle: String? = nil, initProcess: Bool, removeOnExit: Bool,
                            restartPolicy: RestartPolicy = .no, restarting: Bool = false, incarnation: String? = nil, trace: Bool,
                            boundToCaller: Bool = false, stdin: [UInt8]? = nil, layerLock: Int32 = -1) throws -> DetachedStart {
        try StateStore.validate(id: id)
        reconcile()
        guard restarting || !HostPath.exists(store.directory(id)) else { throw store.alreadyExists(id) }
        try restartPolicy.check(removeOnExit: removeOnExit)
        let input = try stdin.map(Self.sealedInput) ?? -1
        defer { if input >= 0 { close(input) } }
        // Named with our pid: if we are killed before the monitor takes it, the next command removes it.
        let specFile = store.root + "/" + StateStore.pendingPrefix + "\(id)-\(getpid()).json"
        try writeJSON(spec, to: specFile)
        var notify: [Int32] = [-1, -1]
        guard Syscall.pipe(&notify) == 0 else { unlink(specFile); throw NookError.sys("pipe", errno: errno) }
        defer { close(notify[0]) }

        let executable: String
        do { executable = try monitorExecutable.resolve(environment: environment) } catch {
            close(notify[0]); close(notify[1]); unlink(specFile)
            throw error
        }
        // The CLI: argv[0] as we were called, so ps shows the monitor as the nook it is.
        let name = monitorExecutable == .currentProcess ? CommandLine.arguments.first ?? "nook" : "nook"
        var args = [name, "__monitor", "--root", store.root, "--id", id, "--spec-file", specFile, "--notify-fd", "3"]
        if initProcess { args.append("--init") }
        if removeOnExit { args.append("--rm") }
        if trace { args.append("--trace") }
        if let bundle { args += ["--bundle", bundle] }
        if restartPolicy != .no { args += ["--restart", restartPolicy.description] }
        if restarting { args.append("--restarting") }
        if let incarnation { args += ["--incarnation", incarnation] }
        // `stdin`: what the container reads (a library caller's input), the monitor's fd 0.
        if input >= 0 { args.append("--stdin") }

        // Its own session and no pdeathsig: it outlives this `nook run -d`.
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { close(notify[1]); unlink(specFile); throw NookError.sys("open /dev/null", errno: errno) }
        defer { close(devNull) }
        // Our own pidfd, fd 4 of the monitor: readable once we are gone.
        var ownerFD: Int32 = -1
        if boundToCaller {
            do { ownerFD = try kernel.openPidfd(getpid()) } catch {
                close(notify[1]); unlink(specFile)
                throw error
            }
            args += ["--owner-fd", "4"]
        }
        defer { if ownerFD >= 0 { close(ownerFD) } }
        var fds = [input >= 0 ? input : devNull, devNull, trace ? 2 : devNull, notify[1]] + (ownerFD >= 0 ? [ownerFD] : [])
        if layerLock >= 0 {
            args += ["--layer-lock-fd", "\(fds.count)"]
            fds.append(layerLock)
        }
        var launch = HelperLaunch(program: executable, arguments: args)
        launch.fds = fds
        launch.newSession = true
        // Said before the start: the monitor's own lines follow on the same stderr.
        let tracer = Tracer(enabled: trace)
        tracer.emit("monitor", "fork + setsid + execve(\(StepDescription.quote(executable)), [\(args.map(StepDescription.quote).joined(separator: ", "))])",
                    "this container's own supervisor, in a session of its own: it outlives nook run -d; fd 3 is the write end of the report pipe, and its lines below come through fd 2 until the command runs")
        let pid: pid_t
        do {
            pid = try HelperProcess.start(launch)
        } catch let error as NookError {
            close(notify[1])
            unlink(specFile)
            throw error.within("start the monitor (\(executable) __monitor)")
        }
        close(notify[1])
        FaultPoint.reached("detach.spawned")

        // One line: "ok PID" or "error JSON" (a NookError, kind and all). The pipe may stay open
        // in an --init container, so read up to the newline, not to EOF; and at most 64 KiB
        // (an image's long command can make the message long, never that long).
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 65536 && read(notify[0], &byte, 1) == 1 && byte != 10 { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("ok "), let containerPID = Int32(text.dropFirst(3)) {
            tracer.emit("monitor", "read(report pipe) = \(StepDescription.quote(text)) from monitor pid \(pid)",
                        "the command runs as pid \(containerPID); nook run -d prints the name and exits, the monitor waits for the container and records its exit code")
            return DetachedStart(monitorPID: pid, containerPID: containerPID)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        unlink(specFile)
        if text.hasPrefix("error ") {
            let rest = text.dropFirst(6)
            if let error = try? JSONDecoder().decode(NookError.self, from: Data(rest.utf8)) { throw error }  // not JSON: an older monitor's "CODE MESSAGE", below
            if rest.hasPrefix("{") {  // cut short: the monitor died while it reported
                throw NookError("the monitor of '\(id)' ended while it reported why the container did not start (status \(ExitStatus(waitStatus: status).code))")
            }
            let code = Int32(rest.prefix { $0 != " " }) ?? 125
            throw NookError(String(rest.drop { $0 != " " }.dropFirst()), exitCode: code)
        }
        throw NookError("the monitor of '\(id)' (\(executable)) ended before the container ran (status \(ExitStatus(waitStatus: status).code))",
                        hint: monitorExecutable == .currentProcess ? nil : "it must be a nook of the same version as the library")
    }

    /// `nook start` or `nook restart` of a stopped `run -d` container (or one
    /// `nook create IMAGE` made): the same config, name, log and policy, under
    /// a new monitor. Only a created one can have --rm: a `run -d --rm` one is gone once stopped.
    package func restartDetached(id: String, trace: Bool = false) throws {
        var state = try store.read(id)
        // The monitor of a stopped container (not one waiting to restart it) is
        // recording the end and on its way out: let it go first.
        var waits = 0
        while state.mode == .detached && state.monitorIsAlive && status(of: state) == "stopped" && waits < 250 {
            usleep(20_000)
            state = try store.read(id)
            waits += 1
        }
        guard state.mode == .detached else {
            throw NookError("container '\(id)' was not started with 'nook run -d': nook cannot start it again",
                            hint: state.mode == .oci ? "its engine (podman, containerd) restarts it" : "run it again")
        }
        guard status(of: state) == "stopped", !state.monitorIsAlive else {
            throw NookError("container '\(id)' is \(status(of: state)) under its monitor", hint: "'nook restart \(id)' stops it first",
                            kind: .wrongState(container: id, state: status(of: state)))
        }
        let policy = try RestartPolicy.parse(state.restartPolicy ?? "no")
        // This start is the user's: an earlier `nook stop` no longer holds the policy back.
        if state.stoppedByUser == true, let lock = store.lockIfFree(id) {
            defer { lock.release() }
            try store.clearStopMark(id)
            var cleared = try store.read(id)
            cleared.stoppedByUser = nil
            try store.write(cleared)
        }
        try runDetached(try loadSpec(id), id: id, bundle: state.bundle == store.directory(id) ? nil : state.bundle,
                        initProcess: state.initProcess ?? false, removeOnExit: state.removeOnExit == true, restartPolicy: policy,
                        restarting: true, incarnation: state.incarnation ?? ContainerState.noIncarnation, trace: trace)
    }

    /// The monitor's side (`nook __monitor`).
    /// `ownerFD`: a pidfd of the process that started it (`boundToCaller`).
    /// `stdin`: the container reads the monitor's fd 0 (otherwise /dev/null).
    /// `layerLockFD`: the lock of the container's layer, inherited (`runDetached(layerLock:)`);
    /// without it the monitor takes the lock of the layer its spec names, if any.
    package func monitor(id: String, specFile: String, bundle: String? = nil, notifyFD: Int32, initProcess: Bool, removeOnExit: Bool,
                        restartPolicy: RestartPolicy = .no, restarting: Bool = false, incarnation: String? = nil, trace: Bool,
                        ownerFD: Int32? = nil, stdin: Bool = false, layerLockFD: Int32? = nil) -> Int32 {
        // Hold nothing the caller of `nook run -d` happened to leave open.
        _ = Syscall.closeFrom(max(notifyFD, ownerFD ?? -1, layerLockFD ?? -1) + 1)
        // Held until this monitor ends: while it lives, no sweep of the image store takes the layer.
        var layerLock = layerLockFD.map { DirectoryLock(adopting: $0) }
        defer { layerLock?.release() }
        let owner = ownerFD.map { OwnerWatch(pidfd: $0, id: id, stateRoot: store.root, environment: environment) }
        // `nook run -d` hears one line, about the first run only.
        let told = Once()
        @Sendable func tell(_ text: String) {
            guard told.first() else { return }
            // `nook run -d` may have been killed meanwhile: that is no reason
            // for the monitor (and so its container) to die of SIGPIPE.
            // The signal goes to the writing thread: block it here, and take
            // it back if it came. The container's process resets all handlers.
            var pipe = sigset_t(), old = sigset_t()
            sigemptyset(&pipe)
            sigaddset(&pipe, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipe, &old)
            let line = text + "\n"
            let written = line.withCString { write(notifyFD, $0, strlen($0)) }
            if written < 0 && errno == EPIPE {
                var now = timespec()
                _ = sigtimedwait(&pipe, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &old, nil)
            close(notifyFD)
        }
        do {
            let spec = try BundleLoader.decode(try HostPath.readBytes(specFile, as: .configJSON, noFollow: true), source: specFile)
            unlink(specFile)
            if layerLock == nil, let layer = OwnedLayer.directory(of: spec, container: id, environment: environment) {
                layerLock = OwnedLayer.lock(layer)
            }
            var settings = RunSettings()
            settings.detached = true
            settings.removeOnExit = removeOnExit
            settings.initProcess = initProcess
            settings.trace = trace
            settings.interactive = false
            if stdin { settings.stdio.0 = 0 }
            settings.bundle = bundle
            // The spec file is the monitor's input: its annotations carry --network and -p.
            settings.network = try NetworkSettings.recorded(in: spec)
            settings.onRunning = { pid in
                tell("ok \(pid)")
                owner?.containerRuns()
                // --trace showed the setup on the caller's stderr; once the container
                // runs, `nook run -d` is done, and a pipe it wrote to must end with it
                // (`nook run -d --trace ... | cat` used to last as long as the container).
                if trace {
                    let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
                    if null >= 0 { dup2(null, 2); close(null) }
                }
            }
            settings.restartPolicy = restartPolicy
            settings.restarting = restarting
            settings.incarnation = incarnation
            settings.waitForLock = !restarting // a `nook start`: another command at work on it is an error
            // The restart policy: this monitor runs the container again when it
            // ended by itself (not by `nook stop`, `kill` or `rm`), as often as allowed.
            try owner?.start()
            FaultPoint.reached("monitor.starting")
            while true {
                let status: ExitStatus
                do {
                    status = try run(spec, id: id, settings: settings)
                } catch let failure as NookError where settings.restartCount > 0 {
                    recordFailedRestart(id: id, number: settings.restartCount, failure)
                    throw failure
                }
                if let owner {
                    owner.awaitRelease(in: self)
                    return status.code
                }
                guard let state = try? store.read(id), state.namesThisProcessAsMonitor, state.stoppedByUser != true,  // removed: no restart
                      restartPolicy.restarts(exitCode: status.code, restartsSoFar: settings.restartCount) else {
                    return status.code
                }
                usleep(RestartPolicy.delay(afterRestarts: settings.restartCount))
                // A stop, or an `rm -f` (perhaps followed by another container of
                // that name), during the pause ends the policy too.
                guard let now = try? store.read(id), now.namesThisProcessAsMonitor, now.stoppedByUser != true else { return status.code }
                FaultPoint.reached("monitor.restarting")
                settings.incarnation = now.incarnation ?? ContainerState.noIncarnation
                settings.restartCount += 1
                settings.restarting = true
                settings.waitForLock = true
            }
        } catch let e as NookError {
            unlink(specFile)
            // JSON escapes newlines: the error stays one line.
            tell("error " + String(decoding: (try? JSONEncoder().encode(e)) ?? Data("{}".utf8), as: UTF8.self))
            return e.exitCode
        } catch {
            unlink(specFile)
            tell("error 125 \(error)")
            return 125
        }
    }
}

extension Runtime {
    /// A restart of the policy's that could not start ends the policy; nobody
    /// waits on the monitor to hear why, so the container's record (`nook
    /// inspect`, `nook wait`) and its log (`nook logs`) say it. Nothing is
    /// recorded for a container removed meanwhile or stopped by the user (a
    /// stop just before the restart fails it: the stop ended the policy).
    func recordFailedRestart(id: String, number: Int, _ failure: NookError) {
        let reason = "restart \(number) failed: \(failure.message)"
        // Waits for a command that holds it (a `ps` reconciling); removed: nothing to say.
        guard let lock = try? store.lock(id) else { return }
        defer { lock.release() }
        guard var state = try? store.read(id), state.namesThisProcessAsMonitor, state.stoppedByUser != true else { return }  // removed: nothing to say
        state.restartError = reason
        try? store.write(state)  // best effort, as the exit's record: the log below says it too
        LogRelay.note("nook: \(reason)", inLogAt: store.directory(id) + "/container.log")
    }
}

/// True the first time only (the monitor tells `nook run -d` once).
final class Once: @unchecked Sendable {
    private var done = false
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func first() -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if done { return false }
        done = true
        return true
    }
}
