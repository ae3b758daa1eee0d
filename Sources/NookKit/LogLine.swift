import NookCore

/// One line of a container's output, and the stream it came from
/// (``ContainerHandle/logs``).
public struct LogLine: Sendable, Equatable, CustomStringConvertible {
    /// Where a line came from.
    public enum Stream: Sendable, Hashable {
        /// The container's standard output.
        case stdout
        /// The container's standard error.
        case stderr
        /// Nook itself: a line saying why the container was killed.
        case nook

        init(_ recorded: LogStreamMap.Stream) {
            switch recorded {
            case .stdout: self = .stdout
            case .stderr: self = .stderr
            case .nook: self = .nook
            }
        }
    }
    /// The stream it came from.
    public var stream: Stream
    /// The line, without its newline.
    public var text: String

    /// A line of `stream`.
    public init(stream: Stream, text: String) {
        (self.stream, self.text) = (stream, text)
    }

    /// The text.
    public var description: String { text }
}

/// Cuts stream pieces into lines, each stream on its own (a line of stdout
/// may be written in several pieces with stderr between them); a line comes
/// out when its newline does.
struct LogLineSplitter {
    private var partial: [LogLine.Stream: [UInt8]] = [:]

    mutating func lines(in bytes: ArraySlice<UInt8>, of stream: LogLine.Stream) -> [LogLine] {
        var lines: [LogLine] = []
        for byte in bytes {
            if byte == 10 {
                lines.append(LogLine(stream: stream, text: String(decoding: partial[stream] ?? [], as: UTF8.self)))
                partial[stream] = []
            } else {
                partial[stream, default: []].append(byte)
            }
        }
        return lines
    }

    /// The unfinished lines, once no more output comes.
    mutating func rest() -> [LogLine] {
        defer { partial = [:] }
        return [LogLine.Stream.stdout, .stderr, .nook].compactMap { stream in
            guard let bytes = partial[stream], !bytes.isEmpty else { return nil }
            return LogLine(stream: stream, text: String(decoding: bytes, as: UTF8.self))
        }
    }
}
