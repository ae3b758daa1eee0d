import Glibc
import SystemPackage
import NookCore
import NookKernel
import NookSpec
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One directory per container under `$XDG_RUNTIME_DIR/nook`, or
/// `/tmp/nook-$UID` where that is unset. No daemon: every `nook` command
/// reads and writes these files, under a lock.
public final class StateStore: @unchecked Sendable {
    public let root: String
    private let uid: uid_t

    /// The default location for the calling user.
    public static func defaultRoot(environment: [String: String], uid: uid_t = getuid()) -> String {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/nook" }
        return "/tmp/nook-\(uid)"
    }

    /// Opens (creating, 0700) the store; refuses a directory that another user
    /// owns or that others can read or write: container state is private.
    public init(root: String, uid: uid_t = getuid()) throws {
        self.root = root
        self.uid = uid
        try Self.makeDirectory(root)
        var st = stat()
        guard lstat(root, &st) == 0 else { throw NookError.sys("stat state directory '\(root)'", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw NookError("state directory '\(root)' is not a directory", hint: "remove it, or set XDG_RUNTIME_DIR / --root elsewhere")
        }
        guard st.st_uid == uid else {
            throw NookError("state directory '\(root)' belongs to uid \(st.st_uid), not to you (uid \(uid))",
                            hint: "another user may be trying to watch or spoof your containers; use --root or XDG_RUNTIME_DIR")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw NookError("state directory '\(root)' is accessible to other users (mode \(String(st.st_mode & 0o777, radix: 8)))",
                            hint: "chmod 700 '\(root)'")
        }
    }

    /// mkdir -p, each missing directory 0700: a runtime root such as containerd's
    /// `--root /run/containerd/runc/default` is given before any of it exists (runc does the same).
    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        let failure = errno
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard failure == ENOENT, !parent.isEmpty, parent != path else {
            throw NookError.sys("create state directory '\(path)'", errno: failure)
        }
        try makeDirectory(parent)
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw NookError.sys("create state directory '\(path)'", errno: errno)
        }
    }

    public static func validate(id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !id.isEmpty, id.count <= 128, id.allSatisfy({ allowed.contains($0) }), id.first != ".", id.first != "-" else {
            throw NookError("invalid container name '\(id)'",
                            hint: "use letters, digits, '_', '.' and '-', starting with a letter or digit")
        }
    }

    public func directory(_ id: String) -> String { root + "/" + id }
    public func statePath(_ id: String) -> String { directory(id) + "/state.json" }

    /// Reserves `id`. The directory is made under a hidden name, its lock taken,
    /// and only then renamed into place (RENAME_NOREPLACE, the atomic step: of
    /// two concurrent creators exactly one wins). So a container directory is
    /// never without its creator's lock: a lock anyone else can take means the
    /// command working on it is gone, whenever it was killed. Returns the held lock.
    public func reserve(_ id: String) throws -> ContainerLock {
        try Self.validate(id: id)
        let staging = root + "/" + Self.stagingPrefix + "\(getpid())-" + id
        removeDirectory(staging) // a previous process with our pid, killed here
        guard mkdir(staging, 0o700) == 0 else { throw NookError.sys("create '\(staging)'", errno: errno) }
        guard let lock = ContainerLock(path: staging + "/lock", wait: false) else {
            let e = errno
            removeDirectory(staging)
            throw NookError.sys("lock '\(staging)/lock'", errno: e)
        }
        guard Syscall.renameNoReplace(staging, directory(id)) == 0 else {
            let e = errno
            lock.release()
            removeDirectory(staging)
            if e == EEXIST || e == ENOTEMPTY { throw alreadyExists(id) }
            throw NookError.sys("rename '\(staging)' to '\(directory(id))'", errno: e)
        }
        return lock
    }

    public func alreadyExists(_ id: String) -> NookError {
        NookError("a container named '\(id)' already exists",
                  hint: "'nook rm -f \(id)' removes it (stopping it if it runs), or choose another name")
    }

    /// Hidden names in the store: a directory being reserved, a spec handed to a monitor.
    static let stagingPrefix = ".new-"
    static let removingPrefix = ".gone-"
    static let pendingPrefix = ".pending-"

    /// Locks an existing container's directory (waits for other commands on it).
    public func lock(_ id: String) throws -> ContainerLock {
        try Self.validate(id: id)
        guard HostPath.isDirectory(directory(id)) else { throw notFound(id) }
        guard let lock = ContainerLock(path: directory(id) + "/lock", wait: true) else {
            throw NookError("cannot lock container '\(id)'")
        }
        return lock
    }

    public func notFound(_ id: String) -> NookError {
        NookError("container '\(id)' does not exist", hint: "'nook list' shows your containers")
    }

    /// Atomic: write a temporary file, fsync, rename over the old one.
    public func write(_ state: ContainerState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        let tmp = statePath(state.id) + ".tmp"
        do {
            let fd = try FileDescriptor.open(FilePath(tmp), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                             permissions: [.ownerReadWrite])
            defer { try? fd.close() }
            _ = try fd.writeAll(Array(data))
            _ = fsync(fd.rawValue)
        } catch let e as Errno {
            throw NookError.sys("write '\(tmp)'", errno: e.rawValue)
        }
        guard rename(tmp, statePath(state.id)) == 0 else { throw NookError.sys("rename '\(tmp)'", errno: errno) }
    }

    /// The container's cgroup, noted as soon as it is made: state.json comes
    /// only with the process, and a command killed in between leaves the
    /// next one this to remove.
    public func recordCgroup(_ id: String, path: String) throws {
        try HostPath.writeText(directory(id) + "/" + Self.cgroupRecordName, path, create: true, mode: 0o600)
    }

    public func recordedCgroup(_ id: String) -> String? {
        (try? HostPath.readBytes(directory(id) + "/" + Self.cgroupRecordName, noFollow: true))
            .map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static let cgroupRecordName = "cgroup.path"

    public func read(_ id: String) throws -> ContainerState {
        try Self.validate(id: id)
        guard HostPath.isDirectory(directory(id)) else { throw notFound(id) }
        let bytes: [UInt8]
        do { bytes = try HostPath.readBytes(statePath(id), noFollow: true) } catch {
            throw NookError("container '\(id)' has no state yet: the command creating it is still at work",
                            hint: "wait for it to finish; if it was killed, the next nook command removes what it left")
        }
        do { return try JSONDecoder().decode(ContainerState.self, from: Data(bytes)) } catch {
            throw NookError("state of container '\(id)' is corrupt: \(error)", hint: "remove \(directory(id))")
        }
    }

    /// Removes the container's directory and everything in it. It is first
    /// renamed to a hidden name: the container is gone at once, whole, and a
    /// removal killed half-way leaves only a hidden directory, which
    /// `sweepHidden` finishes once our pid is gone.
    public func remove(_ id: String) {
        let gone = root + "/" + Self.removingPrefix + "\(getpid())-" + id
        removeDirectory(gone) // a previous process with our pid, killed here
        if rename(directory(id), gone) == 0 {
            FaultPoint.reached("remove.renamed")
            removeDirectory(gone)
        } else if errno != ENOENT {
            removeDirectory(directory(id))
        }
    }

    func removeDirectory(_ dir: String) {
        var names: [String] = []
        if let d = opendir(dir) {
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
        }
        for name in names { unlink(dir + "/" + name) }
        rmdir(dir)
    }

    /// The container's lock if nobody holds it (never creating the lock file:
    /// a container being removed must stay removable).
    public func lockIfFree(_ id: String) -> ContainerLock? {
        ContainerLock(path: directory(id) + "/lock", wait: false, create: false)
    }

    /// What killed commands leave under hidden names: a directory `reserve`
    /// was making or `remove` was emptying, a monitor's spec file. Removed once
    /// the pid in the name is gone.
    public func sweepHidden() {
        guard let d = opendir(root) else { return }
        var stale: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            let pid: Int32?
            if let prefix = [Self.stagingPrefix, Self.removingPrefix].first(where: name.hasPrefix) {
                pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" })
            } else if name.hasPrefix(Self.pendingPrefix), name.hasSuffix(".json") {
                pid = Int32(name.dropLast(5).split(separator: "-").last ?? "")
            } else { continue }
            if let pid, kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        closedir(d)
        for name in stale {
            if name.hasSuffix(".json") && name.hasPrefix(Self.pendingPrefix) { unlink(root + "/" + name) } else { removeDirectory(root + "/" + name) }
        }
    }

    public func ids() -> [String] {
        guard let d = opendir(root) else { return [] }
        defer { closedir(d) }
        var result: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." || name.hasPrefix(".") { continue }
            if HostPath.isDirectory(root + "/" + name) { result.append(name) }
        }
        return result.sorted()
    }
}

/// An flock(2) on a container's lock file; released on close (or process death).
public final class ContainerLock: @unchecked Sendable {
    public private(set) var fd: Int32

    init?(path: String, wait: Bool, create: Bool = true) {
        fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0o600)
        if fd < 0 { return nil }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            Glibc.close(fd)
            return nil
        }
    }

    public func release() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { release() }
}
