import Glibc
import NookCore

/// One file of a detached container's log and its stream map
/// (`LogStreamMap`), held open from the moment they were found together:
/// when the monitor rotates them (renames them to container.log.1 and starts
/// new ones), these fds still read them, to their end. Reads go on from
/// where the last one stopped: every piece is given once.
final class LogFile {
    /// A piece of output and the stream it came from.
    typealias Piece = (stream: LogLine.Stream, bytes: ArraySlice<UInt8>)

    /// The log file's inode: which file this is, whatever its name is now.
    let inode: ino_t
    private let log: Int32
    private let map: Int32
    private var logOffset: off_t = 0
    private var mapOffset: off_t = 0
    /// At most this much output per `next()`: a log file never holds much
    /// more (`LogRelay.limit`), but what is read stays bounded whatever the files say.
    static let chunk = 1 << 20

    /// The log at `path` and its map; nil when either is missing (not
    /// written yet, or in the middle of a rotation).
    init?(path: String) {
        log = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard log >= 0 else { return nil }
        map = open(LogStreamMap.path(of: path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        var st = stat()
        guard map >= 0, fstat(log, &st) == 0 else {
            close(log)
            if map >= 0 { close(map) }
            return nil
        }
        inode = st.st_ino
    }

    /// The pieces the map describes past the last read (at most `chunk`
    /// bytes); empty when there are none yet. The monitor writes a piece's
    /// bytes before its record, so a recorded piece is there whole.
    func next() -> [Piece] {
        let size = LogStreamMap.recordSize
        let records = Self.readAll(map, at: mapOffset, count: size * 4096)
        var pieces: [Piece] = []
        var total = 0
        var at = 0
        while at + size <= records.count {
            let (stream, count) = LogStreamMap.decode(records[at..<at + size])
            guard total == 0 || total + count <= Self.chunk else { break }
            let bytes = Self.readAll(log, at: logOffset, count: min(count, Self.chunk))
            guard bytes.count == count else { break } // not all there (a record ahead of its bytes): next time
            pieces.append((LogLine.Stream(stream), bytes[...]))
            (total, at) = (total + count, at + size)
            logOffset += off_t(count)
            mapOffset += off_t(size)
        }
        return pieces
    }

    /// Every piece not read yet.
    func rest() -> [Piece] {
        var pieces: [Piece] = []
        while case let more = next(), !more.isEmpty { pieces += more }
        return pieces
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    private static func readAll(_ fd: Int32, at offset: off_t, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, offset + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return Array(bytes[..<done])
    }

    deinit {
        close(log)
        close(map)
    }
}
