/// A harness call that failed: what, and the container's last log lines
/// (what a server said before it did not come up).
///
/// Thrown by a readiness wait that timed out or saw the container exit, and by
/// ``ContainerHandle/wait(timeout:)`` when the timeout passes. Errors of the
/// runtime itself (a rootfs that does not exist, a port already taken) are
/// `NookError`s and say what to do.
public struct ContainerError: Error, CustomStringConvertible, Sendable {
    /// What failed, naming the container and what was waited for.
    public var message: String
    /// The container's last lines of output (stdout and stderr, in order), oldest first.
    public var lastLogLines: [String]

    /// An error with `message` and the log lines to show with it.
    public init(_ message: String, lastLogLines: [String] = []) {
        self.message = message
        self.lastLogLines = lastLogLines
    }

    /// The message, then the last log lines, each indented and marked with `|`.
    public var description: String {
        guard !lastLogLines.isEmpty else { return message + " (the container logged nothing)" }
        return message + "; its last log lines:\n" + lastLogLines.map { "  | " + $0 }.joined(separator: "\n")
    }
}
