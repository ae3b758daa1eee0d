/// Which stream each piece of a detached container's log came from:
/// `container.log.streams` beside `container.log`, one 5-byte record per
/// piece the monitor appended (the stream, then the piece's length as a
/// little-endian UInt32), in the log's order. Written after the piece, so
/// the map never runs ahead of the log; rotated with it.
package enum LogStreamMap {
    /// Where a piece of the log came from.
    package enum Stream: UInt8, Sendable {
        /// A line of nook's own (why the container was killed).
        case nook = 0
        /// The container's standard output.
        case stdout = 1
        /// The container's standard error.
        case stderr = 2
    }

    /// The map beside the log at `logPath`.
    package static func path(of logPath: String) -> String { logPath + ".streams" }

    /// The record of one piece: its stream, then `count` (little-endian UInt32).
    package static func record(_ stream: Stream, count: Int) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: count)
        return [stream.rawValue, UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
    }

    /// The size of one record.
    package static let recordSize = 5

    /// What a record says: the piece's stream and its length (`record`'s inverse).
    package static func decode(_ record: ArraySlice<UInt8>) -> (stream: Stream, count: Int) {
        let at = record.startIndex
        let count = Int(record[at + 1]) | Int(record[at + 2]) << 8 | Int(record[at + 3]) << 16 | Int(record[at + 4]) << 24
        return (Stream(rawValue: record[at]) ?? .nook, count)
    }
}
