import Glibc
import NookCore
import NookSpec
import Synchronization

/// A detached container bound to the process that started it (a test
/// binary, through NookKit): its monitor holds a pidfd of that process and,
/// once it is readable (the process ended, SIGKILL included), kills the
/// container and removes its state. A pidfd names the process itself, so a
/// reused pid cannot fool it; PR_SET_PDEATHSIG could not serve: it fires when
/// the *thread* that started the monitor ends, and a caller's threads come
/// and go (Swift's concurrency pool).
final class OwnerWatch: Sendable {
    let pidfd: Int32
    let id: String
    let stateRoot: String
    let environment: [String: String]
    private let progress = Mutex<(ownerGone: Bool, containerRuns: Bool)>((false, false))

    init(pidfd: Int32, id: String, stateRoot: String, environment: [String: String]) {
        (self.pidfd, self.id, self.stateRoot, self.environment) = (pidfd, id, stateRoot, environment)
        // Inherited as a plain fd 4: no program the monitor starts may hold it
        // (the container's child marks every fd close-on-exec anyway).
        _ = fcntl(pidfd, F_SETFD, FD_CLOEXEC)
    }

    var isGone: Bool { progress.withLock { $0.ownerGone } }

    /// Watches from a thread of its own: the monitor's own thread waits for the container.
    func start() throws {
        try BackgroundThread.start { [self] in
            var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while Glibc.poll(&p, 1, -1) < 0 && errno == EINTR {}
            // Whichever of this and `containerRuns` comes second kills it: it runs by then.
            let runs = progress.withLock { state -> Bool in
                state.ownerGone = true
                return state.containerRuns
            }
            if runs { killContainer() }
        }
    }

    /// The container's command runs (its state is recorded).
    func containerRuns() {
        let gone = progress.withLock { state -> Bool in
            state.containerRuns = true
            return state.ownerGone
        }
        if gone { killContainer() }
    }

    /// After the container stopped while its owner lives: the monitor stays
    /// until the owner removes the container (its state directory goes) or
    /// dies (then the monitor removes it). Polled: a removal sends no event.
    func awaitRelease(in runtime: Runtime) {
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while runtime.kernel.isDirectory(runtime.store.directory(id)) {
            if Glibc.poll(&p, 1, 200) > 0 || isGone {
                progress.withLock { $0.ownerGone = true }
                try? runtime.delete(id: id, force: true) // best effort: the next command's repair removes what is left
                return
            }
        }
    }

    private func killContainer() {
        // Unreadable state or runtime: the monitor's run ends with the container anyway.
        guard let runtime = try? Runtime(stateRoot: stateRoot, environment: environment, monitor: .locate),
              let state = try? runtime.store.read(id) else { return } // (unreadable state: nothing to kill; see above)
        runtime.containerProcesses(state).kill()
    }
}
