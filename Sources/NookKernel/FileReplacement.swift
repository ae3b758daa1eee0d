import Glibc
import NookCore
import SystemPackage

/// Writes a file a caller names (`--pid-file`) by replacing it whole: a
/// temporary file beside it, created new (O_EXCL, O_NOFOLLOW: never through a
/// symlink, never into a FIFO someone left there), then renamed over the path.
/// A reader sees the old file or the new one, never half of one, and whatever
/// was at the path (a symlink, a FIFO) is replaced, not followed or opened.
package enum FileReplacement {
    package static func write(_ path: String, _ text: String, mode: mode_t = 0o644, kernel: FileSystemKernel) throws {
        let tmp = path + ".nook-tmp"
        try NookError.step("create '\(tmp)'") {
            do {
                try kernel.createNewFile(tmp, Array(text.utf8), mode: mode)
            } catch Errno.fileExists {
                // Left by an earlier nook killed mid-write, or planted: removed, not followed.
                try NookError.step("remove stale '\(tmp)'") { try kernel.removeFile(tmp) }
                try kernel.createNewFile(tmp, Array(text.utf8), mode: mode)
            }
        }
        do {
            try NookError.step("replace '\(path)'") { try kernel.rename(tmp, to: path, noReplace: false) }
        } catch {
            try? kernel.removeFile(tmp) // the error to report is the rename's; a temporary file left is replaced next time
            throw error
        }
    }
}
