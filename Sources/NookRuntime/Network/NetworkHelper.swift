import Glibc
import NookCore
import NookKernel
import NookSpec

/// A user-mode network stack (pasta or slirp4netns) serving one container's
/// network namespace, or Nook's own port forwarder (`PortForwarder`). It is
/// Nook's child, in a session of its own, and dies with the `nook` process
/// that started it (PR_SET_PDEATHSIG), even after SIGKILL. Its output goes to
/// `network.log` in the container's state directory.
package final class NetworkHelper {
    package let program: String
    package let pid: pid_t
    package let arguments: [String]
    let logPath: String
    /// Files the helper made in the state directory (slirp4netns's API socket).
    var ownedFiles: [String] = []
    /// slirp4netns's --exit-fd: it exits when this, our end, closes.
    var exitFD: Int32 = -1
    private var reaped = false

    /// Starts the helper for `settings` on the network namespace of `containerPID`
    /// and returns once the namespace is configured and every port is published.
    /// - Parameter forwarder: the nook binary that runs `nook __forward` (ports published with `--network none`).
    package static func start(_ settings: NetworkSettings, containerPID: pid_t, stateDirectory: String,
                             tracer: Tracer, host: HostNetwork = .current(), forwarder: String = "/proc/self/exe") throws -> NetworkHelper {
        let helper: NetworkHelper
        switch settings.mode {
        case .pasta(let allow, let options):
            helper = try Pasta.start(containerPID: containerPID, ports: settings.ports, allowHostLoopback: allow,
                                     extraOptions: options, host: host, stateDirectory: stateDirectory, tracer: tracer)
        case .slirp4netns(let allow, let mtu):
            helper = try Slirp4netns.start(containerPID: containerPID, ports: settings.ports, allowHostLoopback: allow,
                                           mtu: mtu, stateDirectory: stateDirectory, tracer: tracer)
        case .none where !settings.ports.isEmpty:
            helper = try PortForwarder.start(containerPID: containerPID, ports: settings.ports, executable: forwarder,
                                             stateDirectory: stateDirectory, tracer: tracer)
        case .none, .host:
            throw NookError("no network helper for --network \(settings.mode.description)")
        }
        helper.publishedTCPPorts = Set(settings.ports.filter { $0.proto == .tcp }.map(\.hostPort))
        return helper
    }

    /// Checks, before anything starts, that the helper program is installed.
    package static func checkInstalled(_ mode: NetworkMode) throws {
        guard let (program, package) = mode.helper else { return }
        if HostPath.findExecutable(program) == nil {
            throw NookError("--network \(program): '\(program)' is not installed (not found in PATH)",
                            hint: "install it (Debian: apt-get install \(package)), or use --network none", kind: .unsupported)
        }
    }

    /// - Parameter fds: the helper's fds 3, 4, ... in order.
    convenience init(program: String, arguments: [String], passing fds: [Int32], stateDirectory: String) throws {
        guard let path = HostPath.findExecutable(program) else {
            throw NookError("'\(program)' is not installed (not found in PATH)", kind: .unsupported)
        }
        try self.init(program: program, path: path, arguments: arguments, passing: fds, stateDirectory: stateDirectory)
    }

    /// - Parameter path: the file to execute (`program` is its name in messages and argv[0]).
    init(program: String, path: String, arguments: [String], passing fds: [Int32], stateDirectory: String) throws {
        self.program = program
        self.arguments = arguments
        logPath = stateDirectory + "/network.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw NookError.sys("open \(logPath)", errno: errno) }
        defer { close(log) }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        pid = try HelperProcess.spawnTied(path, [program] + arguments, fds: [devNull, log, log] + fds)
    }

    /// The exit status if the helper has ended (it is then reaped), else nil.
    func exited() -> ExitStatus? {
        guard !reaped else { return nil }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        reaped = true
        return ExitStatus(waitStatus: status)
    }

    /// Stops the helper and removes what it left in the state directory.
    package func stop() {
        if exitFD >= 0 { close(exitFD); exitFD = -1 }
        if readyFD >= 0 { close(readyFD); readyFD = -1 }
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
        }
        for file in ownedFiles { unlink(file) }
    }

    /// After the container ended: data the container wrote just before it
    /// exited may still be inside the helper, on its way to a host client.
    /// Wait (at most `timeout` seconds) until no connection to a published
    /// port is still open on the helper's side, then stop it.
    package func finish(timeout: Double = 2) {
        let deadline = Monotonic.now() + timeout
        if drainsOnSIGTERM {
            // Nook's forwarder knows its connections: it closes the ports and exits once they are delivered.
            kill(pid, SIGTERM)
            while exited() == nil && Monotonic.now() < deadline { usleep(500) }
            // Too long: a second SIGTERM resets what is still open, so its clients see the end as cut short.
            if exited() == nil && !reaped {
                kill(pid, SIGTERM)
                let last = Monotonic.now() + 0.5
                while exited() == nil && Monotonic.now() < last { usleep(500) }
            }
        } else {
            while exited() == nil && Monotonic.now() < deadline && hasOpenConnections() { usleep(10_000) }
        }
        stop()
    }

    /// SIGTERM makes it deliver what is buffered and exit (Nook's forwarder);
    /// otherwise the open connections are read from /proc/self/net.
    var drainsOnSIGTERM = false

    /// Our end of a pipe on which the helper writes one byte once started
    /// (Nook's forwarder); -1 when `start` already waited.
    var readyFD: Int32 = -1

    /// Waits (at most 10 s) for the helper's byte; end of file means it failed (its log says why).
    package func confirmStarted() throws {
        guard readyFD >= 0 else { return }
        defer { if readyFD >= 0 { close(readyFD); readyFD = -1 } }
        var pending = pollfd(fd: readyFD, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        var answered = false
        while true {
            let r = poll(&pending, 1, 10_000)
            if r < 0 && errno == EINTR { continue }
            answered = r == 1 && read(readyFD, &byte, 1) == 1
            break
        }
        guard answered else {
            // End of file: it is exiting (its fds close before it can be reaped); its status, if it comes soon.
            var status = exited()
            for _ in 0..<100 where status == nil { usleep(1000); status = exited() }
            stop()
            throw failure(drainsOnSIGTERM ? "__forward (the port forwarder) could not start" : "could not start", status: status)
        }
    }

    /// Published TCP ports (the helper's end of their connections is on the host).
    var publishedTCPPorts: Set<UInt16> = []

    /// Whether a connection to a published port is open on the helper's end:
    /// ESTABLISHED (still relaying) or CLOSE_WAIT (the client is done, the helper not yet).
    /// Read from /proc/self/net: the helper's host sockets are in our network namespace
    /// (its own /proc files are not readable: it makes itself non-dumpable).
    func hasOpenConnections() -> Bool {
        guard !publishedTCPPorts.isEmpty else { return false }
        for table in ["tcp", "tcp6"] {
            // Columns: sl local_address rem_address st ...; an address is HEX:PORT.
            guard let text = try? HostPath.readText("/proc/self/net/\(table)") else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ")
                guard f.count > 3, f[3] == "01" || f[3] == "08",
                      let port = f[1].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }) else { continue }
                if publishedTCPPorts.contains(port) { return true }
            }
        }
        return false
    }

    deinit { stop() }

    /// "pasta could not ...: <the line of its output that says why>".
    func failure(_ what: String, status: ExitStatus? = nil, hint: String? = nil) -> NookError {
        let text = (try? HostPath.readText(logPath)) ?? ""  // the helper's log is extra detail for the error being built
        // pasta also complains that it cannot reach syslog, and prints its usage after a bad option.
        let lines = text.split(separator: "\n").map { String($0).trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty && !$0.contains("to syslog") }
        let reason = lines.first { line in
            ["unrecognized", "invalid", "failed", "error", "cannot", "can't", "couldn't"].contains { line.lowercased().contains($0) }
        }
        let detail = reason ?? lines.last ?? status.map { "exited with status \($0.code)" } ?? "no message"
        return NookError("\(program) \(what): \(detail)", hint: hint)
    }

    var commandLine: String { ([program] + arguments).joined(separator: " ") }
}
