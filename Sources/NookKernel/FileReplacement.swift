import Glibc
import NookCore

/// Writes a file a caller names (`--pid-file`) by replacing it whole: a
/// temporary file beside it, created new (O_EXCL, O_NOFOLLOW: never through a
/// symlink, never into a FIFO someone left there), then renamed over the path.
/// A reader sees the old file or the new one, never half of one, and whatever
/// was at the path (a symlink, a FIFO) is replaced, not followed or opened.
public enum FileReplacement {
    public static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        let tmp = path + ".nook-tmp"
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = open(tmp, flags, mode)
        if fd < 0 && errno == EEXIST {
            // Left by an earlier nook killed mid-write, or planted: removed, not followed.
            guard unlink(tmp) == 0 else { throw NookError.sys("remove stale '\(tmp)'", errno: errno) }
            fd = open(tmp, flags, mode)
        }
        guard fd >= 0 else { throw NookError.sys("create '\(tmp)'", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let writeErrno = errno
        close(fd)
        guard written == bytes.count else {
            unlink(tmp)
            throw NookError.sys("write '\(tmp)'", errno: written < 0 ? writeErrno : EIO)
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw NookError.sys("replace '\(path)'", errno: e)
        }
    }
}
