import Glibc
import NookCore
import NookRuntime
import NookSpec

/// A running container started by `ContainerRequest.start()`. Every call may
/// come from any task; the container's truth is its state on disk, so the
/// handle holds only names and numbers. `remove()` (or `withContainer`) ends it.
public final class ContainerHandle: Sendable {
    /// The container's name: ``ContainerRequest/name``, or a generated id.
    public let id: String
    /// The container's init, as the host sees it.
    public let pid: Int32
    /// Its monitor, a child of this process until it ends.
    public let monitorPID: Int32
    let stateRoot: String
    let environment: [String: String]
    /// Container port -> host port on 127.0.0.1.
    let ports: [UInt16: UInt16]

    init(id: String, stateRoot: String, environment: [String: String], monitorPID: Int32, pid: Int32, ports: [UInt16: UInt16]) {
        (self.id, self.stateRoot, self.environment, self.monitorPID, self.pid, self.ports) = (id, stateRoot, environment, monitorPID, pid, ports)
    }

    /// The host port (on 127.0.0.1) published for a container port.
    public func hostPort(for containerPort: UInt16) -> UInt16? { ports[containerPort] }

    /// The container's state directory (removed by `remove()`).
    public var stateDirectory: String { stateRoot + "/" + id }

    func runtime() throws -> Runtime {
        try Runtime(stateRoot: stateRoot, environment: environment)
    }

    /// Whether it still runs, and its exit code once it stopped.
    public func exitCode() throws -> Int32? {
        let runtime = try runtime()
        let state = try runtime.store.read(id)
        guard runtime.status(of: state) == "stopped" else { return nil }
        // The monitor records the code just after the process ends.
        return state.exitCode ?? (state.status == .stopped ? -1 : nil)
    }

    /// Waits for the container to stop; its exit code (128+N for signal N).
    /// Throws when `timeout` passes first (the container runs on).
    @discardableResult
    public func wait(timeout: Duration? = nil) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while true {
            if let code = try exitCode() { return code }
            if let deadline, clock.now >= deadline {
                throw ContainerError(.timedOut, "container '\(id)' still runs after \(timeout!)", lastLogLines: lastLogLines())
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// SIGTERM, then SIGKILL after `timeout`; returns once it stopped and its exit code is recorded.
    public func stop(timeout: Duration = .seconds(10)) async throws {
        let seconds = Int((timeout + .milliseconds(999)).components.seconds)
        try await offPool { [self] in try runtime().stop(id: id, timeout: seconds) }
        // Its process is gone; its monitor records the exit code a moment later: wait for it,
        // so exitCode() right after stop() has it. A dead monitor records nothing: 2 s at most.
        _ = try? await wait(timeout: .seconds(2))
    }

    /// A signal to the container's init.
    public func kill(signal: Int32 = SIGKILL) async throws {
        try await offPool { [self] in try runtime().kill(id: id, signal: signal) }
    }

    /// Runs a command in the container (its environment, user and
    /// confinement) with stdin /dev/null; its exit status and output.
    public func exec(_ command: [String], environment extra: [String] = []) async throws -> ExecResult {
        return try await offPool { [self] in
            let runtime = try runtime()
            let out = try ScratchFile(in: runtime.store.root), err = try ScratchFile(in: runtime.store.root)
            var settings = Runtime.ExecSettings()
            settings.interactive = false
            settings.forwardSignals = []
            settings.traceSink = { _ in }
            settings.stdio = (-1, out.fd, err.fd)
            let process = try runtime.execProcess(id: id, args: command, env: extra)
            let status = try runtime.exec(id: id, process: process, settings: settings)
            return ExecResult(status: status?.code ?? -1, stdout: out.text(), stderr: err.text())
        }
    }

    /// Everything the container wrote to stdout and stderr so far (one log, in order).
    public func output() -> String {
        String(decoding: ContainerLog(directory: stateDirectory).read(), as: UTF8.self)
    }

    /// Everything the container wrote to its stdout so far.
    public func stdout() -> String { ContainerLog(directory: stateDirectory).text(of: .stdout) }

    /// Everything the container wrote to its stderr so far.
    public func stderr() -> String { ContainerLog(directory: stateDirectory).text(of: .stderr) }

    /// The last `count` lines of its output.
    public func lastLogLines(_ count: Int = 20) -> [String] {
        var lines = output().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return Array(lines.suffix(count))
    }

    /// Its output, line by line, from the start, as it comes, each line with
    /// the stream it came from; ends when the container has stopped and every
    /// line was given. Each line comes once, also while the monitor rotates
    /// the log (at 1 MiB, one old file kept): a line written before the
    /// sequence was made comes only while the log still holds it.
    public var logs: AsyncThrowingStream<LogLine, Error> {
        let log = ContainerLog(directory: stateDirectory)
        let handle = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                var follower = LogFollower(log)
                var splitter = LogLineSplitter()
                do {
                    while true {
                        let stopped = try handle.exitCode() != nil
                        for piece in follower.next() {
                            for line in splitter.lines(in: piece.bytes, of: piece.stream) { continuation.yield(line) }
                        }
                        if stopped {
                            for line in splitter.rest() { continuation.yield(line) }
                            continuation.finish()
                            return
                        }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Kills the container if it runs and removes its state; its monitor ends
    /// and is reaped. Never throws: what it could not remove, the next nook
    /// command's repair does.
    public func remove() async {
        let (id, root, environment, monitor) = (self.id, stateRoot, self.environment, monitorPID)
        _ = try? await offPool { // (already gone, or its monitor removes it: nothing left to report)
            let runtime = try Runtime(stateRoot: root, environment: environment)
            try runtime.delete(id: id, force: true)
        }
        // The monitor sees its state gone and ends; reaped off the pool, not awaited.
        try? BackgroundThread.start {
            var status: Int32 = 0
            while waitpid(monitor, &status, 0) < 0 && errno == EINTR {}
        }
    }
}

/// What ``ContainerHandle/exec(_:environment:)`` gives back.
public struct ExecResult: Sendable, Equatable {
    /// The command's exit status; 128+N when signal N ended it, -1 when unknown.
    public var status: Int32
    /// Everything it wrote to stdout (at most 16 MiB).
    public var stdout: String
    /// Everything it wrote to stderr (at most 16 MiB).
    public var stderr: String
}
