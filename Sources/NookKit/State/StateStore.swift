import Glibc
import SystemPackage
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

    /// Reserves `id`: the directory's creation is the atomic step, so of two
    /// concurrent creators exactly one wins. Returns the held lock.
    public func reserve(_ id: String) throws -> ContainerLock {
        try Self.validate(id: id)
        if mkdir(directory(id), 0o700) != 0 {
            if errno == EEXIST {
                throw NookError("a container named '\(id)' already exists",
                                hint: "remove it with 'nook delete \(id)', or choose another name")
            }
            throw NookError.sys("create '\(directory(id))'", errno: errno)
        }
        // Blocking: another command's reconcile may hold it for a moment.
        guard let lock = ContainerLock(path: directory(id) + "/lock", wait: true) else {
            throw NookError("container '\(id)' is locked by another nook command")
        }
        return lock
    }

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

    public func read(_ id: String) throws -> ContainerState {
        try Self.validate(id: id)
        guard HostPath.isDirectory(directory(id)) else { throw notFound(id) }
        let bytes: [UInt8]
        do { bytes = try HostPath.readBytes(statePath(id), noFollow: true) } catch {
            throw NookError("container '\(id)' has no state yet (it is being created)")
        }
        do { return try JSONDecoder().decode(ContainerState.self, from: Data(bytes)) } catch {
            throw NookError("state of container '\(id)' is corrupt: \(error)", hint: "remove \(directory(id))")
        }
    }

    /// Removes the container's directory and everything in it.
    public func remove(_ id: String) {
        let dir = directory(id)
        if let d = opendir(dir) {
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if name == "." || name == ".." { continue }
                unlink(dir + "/" + name)
            }
            closedir(d)
        }
        rmdir(dir)
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

    /// What a `nook` command does first, since no daemon does it: find
    /// containers whose supervisor died (SIGKILL, a crash) and clean them.
    /// A foreground container's lock is held by its `nook run` for its whole life,
    /// so a lock we can take means nobody supervises it any more.
    @discardableResult
    public func reconcile(cleanup: (ContainerState) -> Void = { _ in }) -> [String] {
        var cleaned: [String] = []
        for id in ids() {
            // Never create the lock file here: a container being removed must stay removable.
            guard let lock = ContainerLock(path: directory(id) + "/lock", wait: false, create: false) else { continue }
            defer { lock.release() }
            guard let state = try? read(id) else {
                // No state.json and nobody holds the lock: a creation that died
                // half-way, unless it is just being made (between mkdir and flock).
                var st = stat()
                if stat(directory(id), &st) == 0 && time(nil) - st.st_mtim.tv_sec < 30 { continue }
                remove(id)
                cleaned.append(id)
                continue
            }
            let alive = ProcessIdentity(pid: state.pid, startTime: state.startTime).isAlive
            switch state.mode {
            case .foreground:
                if alive { continue } // e.g. an --init container still shutting down
                cleanup(state)
                remove(id)
                cleaned.append(id)
            case .detached:
                // Its monitor is gone (we hold the lock): the container went with it.
                if alive { continue }
                if state.status != .stopped {
                    var s = state
                    s.status = .stopped
                    s.finished = s.finished ?? Runtime.timestamp()
                    try? write(s)
                    cleanup(s)
                }
                if state.removeOnExit == true { remove(id); cleaned.append(id) }
            case .oci:
                if !alive && state.status != .stopped {
                    var s = state
                    s.status = .stopped
                    s.finished = s.finished ?? Runtime.timestamp()
                    try? write(s)
                }
            }
        }
        return cleaned
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
