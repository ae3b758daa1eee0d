import Glibc

/// Follows a detached container's log as it grows and rotates
/// (``ContainerHandle/logs``): each call gives the pieces written since the
/// last, each piece once. It holds the current log file open, so a rotation
/// between two calls loses nothing of it; a file it never held (two
/// rotations between calls) is read whole from container.log.1.
struct LogFollower {
    let log: ContainerLog
    private var current: LogFile?
    /// The last file read to its end (it was rotated): not to be read again as container.log.1.
    private var finished: ino_t?

    init(_ log: ContainerLog) { self.log = log }

    /// What was written since the last call, oldest first.
    mutating func next() -> [LogFile.Piece] {
        var pieces: [LogFile.Piece] = []
        if let file = current {
            // Rotated before this read: the monitor closed it, what it holds is all it will.
            let rotated = log.inode(of: log.currentPath) != file.inode
            pieces += file.rest()
            guard rotated else { return pieces }
            (finished, current) = (file.inode, nil)
        }
        guard let files = log.files() else { return pieces } // none yet, or rotating: next time
        if let old = files.rotated, old.inode != finished { pieces += old.rest() }
        current = files.current
        return pieces + files.current.rest()
    }
}
