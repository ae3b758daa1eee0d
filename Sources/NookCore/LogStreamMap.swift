/// Which stream each piece of a detached container's log came from:
/// `container.log.streams` beside `container.log`, one 5-byte record per
/// piece the monitor appended (the stream, then the piece's length as a
/// little-endian UInt32), in the log's order. Written after the piece, so
/// the map never runs ahead of the log; rotated with it.
public enum LogStreamMap {
    /// Where a piece of the log came from.
    public enum Stream: UInt8, Sendable {
        /// A line of nook's own (why the container was killed).
        case nook = 0
        /// The container's standard output.
        case stdout = 1
        /// The container's standard error.
        case stderr = 2
    }

    /// The map beside the log at `logPath`.
    public static func path(of logPath: String) -> String { logPath + ".streams" }

    /// The record of one piece: its stream, then `count` (little-endian UInt32).
    public static func record(_ stream: Stream, count: Int) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: count)
        return [stream.rawValue, UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
    }

    /// The log's bytes cut into pieces by stream, as far as the map covers
    /// them (bytes past its last record are still being written: left out).
    /// A map that says more than the log holds (rotated between the two
    /// reads) ends where the log does.
    public static func pieces(log: [UInt8], map: [UInt8]) -> [(stream: Stream, bytes: ArraySlice<UInt8>)] {
        var pieces: [(stream: Stream, bytes: ArraySlice<UInt8>)] = []
        var offset = 0, at = 0
        while at + 5 <= map.count && offset < log.count {
            let count = Int(map[at + 1]) | Int(map[at + 2]) << 8 | Int(map[at + 3]) << 16 | Int(map[at + 4]) << 24
            let end = min(log.count, offset + count)
            pieces.append((Stream(rawValue: map[at]) ?? .nook, log[offset..<end]))
            offset = end
            at += 5
        }
        return pieces
    }
}
