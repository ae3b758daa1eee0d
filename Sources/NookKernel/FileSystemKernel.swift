import Glibc
import NookCore
import SystemPackage

/// What `lstat`/`stat` says about a path: enough for the state store's checks.
package struct FileStatus: Sendable, Equatable {
    /// `mode & S_IFMT`: S_IFDIR, S_IFREG, ...
    package var type: mode_t
    /// The permission bits.
    package var permissions: mode_t
    package var owner: uid_t
    /// In bytes.
    package var size: Int
    package init(type: mode_t, permissions: mode_t, owner: uid_t, size: Int) {
        self.type = type
        self.permissions = permissions
        self.owner = owner
        self.size = size
    }
    package var isDirectory: Bool { type == S_IFDIR }
}

/// What the runtime asks of the kernel about files: its state directories,
/// their locks, the files in them. A call fails with the kernel's answer
/// (`Errno`); the caller says which step failed (`NookError.step`), so the
/// user reads "create '/run/…/c1': Permission denied".
package protocol FileSystemKernel: AnyObject {
    /// mkdir(2).
    func makeDirectory(_ path: String, mode: mode_t) throws
    /// stat(2), or lstat(2) without `followLinks`.
    func status(_ path: String, followLinks: Bool) throws -> FileStatus
    /// Creates or truncates `path` (mode for a new file) and writes `bytes`
    /// whole; with `sync`, fsync before close (the write half of an atomic replace).
    func createFile(_ path: String, _ bytes: [UInt8], mode: mode_t, sync: Bool) throws
    /// The bytes of a file, bounded by `kind` (`HostPath.readBytes`). Throws `NookError`.
    /// A file made new with `bytes` (EEXIST when anything is at the path:
    /// never through a symlink, never into a FIFO); removed again if the write fails.
    func createNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws
    func readFile(_ path: String, as kind: FileKind, noFollow: Bool) throws -> [UInt8]
    /// rename(2), or renameat2(RENAME_NOREPLACE).
    func rename(_ from: String, to: String, noReplace: Bool) throws
    /// unlink(2).
    func removeFile(_ path: String) throws
    /// A directory and the files in it (one level: state directories hold only files).
    func removeTree(_ path: String)
    /// The names in a directory (without . and ..); nil when it cannot be read.
    func listDirectory(_ path: String) -> [String]?
    /// An exclusive flock(2) on `path`: its fd, or nil when another holds it
    /// and `wait` is false. Released by `close` (or this process's death).
    func lock(_ path: String, wait: Bool, create: Bool) throws -> Int32?
    /// mkfifo(3).
    func makeFIFO(_ path: String, mode: mode_t) throws
    /// open(2) with O_CLOEXEC added.
    func open(_ path: String, flags: Int32, mode: mode_t) throws -> Int32
    /// write(2): how many of `bytes` were written.
    func write(_ fd: Int32, _ bytes: [UInt8]) throws -> Int
    /// poll(2) on one fd for `events`, at most `milliseconds`: its revents (0: none in time).
    func poll(_ fd: Int32, events: Int16, milliseconds: Int32) throws -> Int16
    /// ioctl(FIONREAD): bytes waiting in a pipe or FIFO (either end), or -1.
    func pendingBytes(_ fd: Int32) -> Int32
}

extension FileSystemKernel {
    // any failure to stat (absent, unreadable parent) means: not there for us
    package func exists(_ path: String) -> Bool { (try? status(path, followLinks: true)) != nil }
    // as exists(_:): what cannot be stat'ed is no directory of ours
    package func isDirectory(_ path: String) -> Bool { (try? status(path, followLinks: true))?.isDirectory == true }
}

extension NookError {
    /// Runs one kernel step; its failure becomes "`what`: <errno text>".
    package static func step<T>(_ what: String, path: String? = nil, hint: String? = nil, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as Errno { throw NookError.sys(what, path: path, errno: e.rawValue, hint: hint) }
    }
}
