import Glibc
import NookCore

/// A detached container's output, as its monitor writes it: container.log,
/// after container.log.1 once it was rotated (each at most about 1 MiB), and
/// beside each the map of which stream every piece came from (`LogStreamMap`).
struct ContainerLog: Sendable {
    let directory: String
    var currentPath: String { directory + "/container.log" }

    /// The files as one consistent set: the rotated log (if any) and the
    /// current one, each with its own map. The monitor rotates by renaming
    /// the log, then its map, then creating both anew; so when container.log
    /// is the same file before and after the opens, no rename happened
    /// between them and every map was opened with its log. Nil when there is
    /// no log yet, or a rotation got in between (try again).
    func files() -> (rotated: LogFile?, current: LogFile)? {
        guard let before = inode(of: currentPath) else { return nil }
        let rotated = LogFile(path: directory + "/container.log.1")
        guard let current = LogFile(path: currentPath), current.inode == before,
              inode(of: currentPath) == before else { return nil }
        return (rotated, current)
    }

    /// container.log's inode now; nil when there is none (not yet, or mid-rotation).
    func inode(of path: String) -> ino_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_ino : nil
    }

    /// Everything written so far, oldest first, each piece with its stream.
    func pieces() -> [LogFile.Piece] {
        // No log (gone with the container, or mid-rotation) or a rotation
        // between the opens: a rotation is over in microseconds, try again a few times.
        for _ in 0..<100 {
            if let files = files() { return (files.rotated?.rest() ?? []) + files.current.rest() }
            sched_yield()
        }
        return []
    }

    /// Both streams, in the order they were written.
    func read() -> [UInt8] { pieces().flatMap(\.bytes) }

    /// Everything one stream wrote so far.
    func text(of stream: LogLine.Stream) -> String {
        String(decoding: pieces().filter { $0.stream == stream }.flatMap(\.bytes), as: UTF8.self)
    }
}
