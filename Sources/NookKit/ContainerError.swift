/// A harness call that failed: what, and the container's last log lines
/// (what a server said before it did not come up).
public struct ContainerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var lastLogLines: [String]

    public init(_ message: String, lastLogLines: [String] = []) {
        self.message = message
        self.lastLogLines = lastLogLines
    }

    public var description: String {
        guard !lastLogLines.isEmpty else { return message + " (the container logged nothing)" }
        return message + "; its last log lines:\n" + lastLogLines.map { "  | " + $0 }.joined(separator: "\n")
    }
}
