/// A harness call that failed: which kind of failure (to match on), what,
/// and the container's last log lines (what a server said before it did not
/// come up).
///
/// Thrown by a readiness wait that timed out or saw the container exit, and by
/// ``ContainerHandle/wait(timeout:)`` when the timeout passes. Errors of the
/// runtime itself (a rootfs that does not exist, a port already taken) are
/// `NookError`s and say what to do.
public struct ContainerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for a caller to match: `catch let e as ContainerError where e.kind == .timedOut`.
    public enum Kind: Sendable, Equatable {
        /// The timeout passed first: the container runs on.
        case timedOut
        /// The container stopped, with this exit code, before what was waited for.
        case exited(Int32)
        /// A readiness check named a container port the request did not publish.
        case portNotPublished(UInt16)
    }

    /// Which failure, for a caller to match.
    public var kind: Kind
    /// What failed, naming the container and what was waited for.
    public var message: String
    /// The container's last lines of output (stdout and stderr, in order), oldest first.
    public var lastLogLines: [String]

    /// An error of `kind` with `message` and the log lines to show with it.
    public init(_ kind: Kind, _ message: String, lastLogLines: [String] = []) {
        self.kind = kind
        self.message = message
        self.lastLogLines = lastLogLines
    }

    /// The message, then the last log lines, each indented and marked with `|`.
    public var description: String {
        guard !lastLogLines.isEmpty else { return message + " (the container logged nothing)" }
        return message + "; its last log lines:\n" + lastLogLines.map { "  | " + $0 }.joined(separator: "\n")
    }
}
