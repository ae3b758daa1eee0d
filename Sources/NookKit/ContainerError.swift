/// A harness call that failed: what, and the container's last log lines
/// (what a server said before it did not come up). Programs match `kind`;
/// a failure of Nook itself (starting, exec) is thrown as `NookError`.
public struct ContainerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for a caller to match.
    public enum Kind: Sendable, Equatable {
        /// The container stopped, with this exit code, before the readiness condition held.
        case exitedBeforeReady(exitCode: Int32)
        /// The wait's timeout passed first: for readiness, or for the container to stop.
        case timedOut(Duration)
        /// The container port asked about is not published.
        case portNotPublished(UInt16)
        /// Not classified: the message says what happened.
        case other
    }

    public var kind: Kind
    public var message: String
    public var lastLogLines: [String]

    public init(_ message: String, kind: Kind = .other, lastLogLines: [String] = []) {
        self.kind = kind
        self.message = message
        self.lastLogLines = lastLogLines
    }

    public var description: String {
        guard !lastLogLines.isEmpty else { return message + " (the container logged nothing)" }
        return message + "; its last log lines:\n" + lastLogLines.map { "  | " + $0 }.joined(separator: "\n")
    }
}
