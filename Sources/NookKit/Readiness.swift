import Glibc
import NookCore
import NookRuntime

/// What "ready" means for a container, as Testcontainers' wait strategies
/// say it. `ContainerHandle.waitUntil` checks it again and again (every few
/// milliseconds) until it holds or the timeout passes; the error then shows
/// the container's last log lines.
public enum Readiness: Sendable {
    /// A line of its output for which `matches` is true.
    case logLine(description: String, matches: @Sendable (String) -> Bool)
    /// A connection to the published host port of this container port is
    /// accepted and kept (a user-mode network helper accepts on the host side
    /// before anything listens inside, then drops the connection: that is no
    /// answer).
    case tcpPort(UInt16)
    /// `GET path` on the published host port answers with `status`.
    case http(port: UInt16, path: String = "/", status: Int = 200)
    /// This command, run inside (`exec`), exits 0.
    case command([String])

    /// A line that contains `text`.
    public static func logLine(containing text: String) -> Readiness {
        .logLine(description: "a log line containing '\(text)'", matches: { $0.contains(text) })
    }

    var description: String {
        switch self {
        case .logLine(let description, _): description
        case .tcpPort(let port): "container port \(port) accepting connections"
        case .http(let port, let path, let status): "GET \(path) on container port \(port) answering \(status)"
        case .command(let argv): "'\(argv.joined(separator: " "))' exiting 0"
        }
    }
}

extension ContainerHandle {
    /// Waits until `condition` holds; throws, with the last log lines, when
    /// `timeout` passes first or the container stops meanwhile.
    public func waitUntil(_ condition: Readiness, timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var linesSeen = 0
        while true {
            if try await holds(condition, linesSeen: &linesSeen) { return }
            if let code = try exitCode() {
                throw ContainerError("container '\(id)' exited (\(code)) before \(condition.description)", kind: .exitedBeforeReady(exitCode: code),
                                     lastLogLines: lastLogLines())
            }
            guard clock.now < deadline else {
                throw ContainerError("container '\(id)': no \(condition.description) within \(timeout)", kind: .timedOut(timeout),
                                     lastLogLines: lastLogLines())
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private func holds(_ condition: Readiness, linesSeen: inout Int) async throws -> Bool {
        switch condition {
        case .logLine(_, let matches):
            // Only lines not looked at yet; the last, unfinished one waits for its newline.
            let lines = output().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            defer { linesSeen = lines.count }
            return lines.dropFirst(linesSeen).contains { matches(String($0)) }
        case .tcpPort(let port):
            let hostPort = try published(port)
            return try await offPool { LoopbackProbe.acceptsAndKeeps(port: hostPort) }
        case .http(let port, let path, let status):
            let hostPort = try published(port)
            return try await offPool { LoopbackProbe.httpStatus(port: hostPort, path: path) == status }
        case .command(let argv):
            return try await exec(argv).status == 0
        }
    }

    private func published(_ port: UInt16) throws -> UInt16 {
        guard let host = hostPort(for: port) else {
            throw ContainerError("container port \(port) is not published", kind: .portNotPublished(port))
        }
        return host
    }
}
