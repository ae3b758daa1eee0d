import Glibc
import SystemPackage
import NookCore
import NookKernel
import NookSpec
import FoundationEssentials

/// One directory per container under `$XDG_RUNTIME_DIR/nook`, or
/// `/tmp/nook-$UID` where that is unset. No daemon: every `nook` command
/// reads and writes these files, under a lock.
package final class StateStore: @unchecked Sendable {
    package let root: String
    private let uid: uid_t
    /// Every file call of the store: the kernel, or a recording fake in unit tests.
    package let kernel: KernelInterface

    /// The default location for the calling user.
    package static func defaultRoot(environment: [String: String], uid: uid_t = getuid()) -> String {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/nook" }
        return "/tmp/nook-\(uid)"
    }

    /// Opens (creating, 0700) the store; refuses a directory that another user
    /// owns or that others can read or write: container state is private.
    package init(root: String, uid: uid_t = getuid(), kernel: KernelInterface = LiveKernel()) throws {
        self.root = root
        self.uid = uid
        self.kernel = kernel
        try makeDirectory(root)
        let st = try NookError.step("stat state directory '\(root)'", path: root) { try kernel.status(root, followLinks: false) }
        guard st.isDirectory else {
            throw NookError("state directory '\(root)' is not a directory", hint: "remove it, or set XDG_RUNTIME_DIR / --root elsewhere",
                            kind: .invalidInput)
        }
        guard st.owner == uid else {
            throw NookError("state directory '\(root)' belongs to uid \(st.owner), not to you (uid \(uid))",
                            hint: "another user may be trying to watch or spoof your containers; use --root or XDG_RUNTIME_DIR")
        }
        guard st.permissions & 0o077 == 0 else {
            throw NookError("state directory '\(root)' is accessible to other users (mode \(String(st.permissions & 0o777, radix: 8)))",
                            hint: "chmod 700 '\(root)'")
        }
    }

    /// mkdir -p, each missing directory 0700: a runtime root such as containerd's
    /// `--root /run/containerd/runc/default` is given before any of it exists (runc does the same).
    private func makeDirectory(_ path: String) throws {
        let failure: Errno
        do { try kernel.makeDirectory(path, mode: 0o700); return } catch let e as Errno { failure = e }
        if failure == .fileExists { return }
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard failure == .noSuchFileOrDirectory, !parent.isEmpty, parent != path else {
            throw NookError.sys("create state directory '\(path)'", path: path, errno: failure.rawValue)
        }
        try makeDirectory(parent)
        do { try kernel.makeDirectory(path, mode: 0o700) } catch let e as Errno where e != .fileExists {
            throw NookError.sys("create state directory '\(path)'", path: path, errno: e.rawValue)
        }
    }

    package static func validate(id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !id.isEmpty, id.count <= 128, id.allSatisfy({ allowed.contains($0) }), id.first != ".", id.first != "-" else {
            throw NookError("invalid container name '\(id)'",
                            hint: "use letters, digits, '_', '.' and '-', starting with a letter or digit", kind: .invalidInput)
        }
    }

    package func directory(_ id: String) -> String { root + "/" + id }
    package func statePath(_ id: String) -> String { directory(id) + "/state.json" }

    /// Reserves `id`. The directory is made under a hidden name, its lock taken,
    /// and only then renamed into place (RENAME_NOREPLACE, the atomic step: of
    /// two concurrent creators exactly one wins). So a container directory is
    /// never without its creator's lock: a lock anyone else can take means the
    /// command working on it is gone, whenever it was killed. Returns the held lock.
    package func reserve(_ id: String) throws -> ContainerLock {
        try Self.validate(id: id)
        let staging = root + "/" + Self.stagingPrefix + "\(getpid())-" + id
        kernel.removeTree(staging) // a previous process with our pid, killed here
        try NookError.step("create '\(staging)'", path: staging) { try kernel.makeDirectory(staging, mode: 0o700) }
        let lock: ContainerLock
        do {
            guard let held = try ContainerLock(path: staging + "/lock", wait: false, kernel: kernel) else { throw Errno.wouldBlock }
            lock = held
        } catch let e as Errno {
            kernel.removeTree(staging)
            throw NookError.sys("lock '\(staging)/lock'", path: staging + "/lock", errno: e.rawValue)
        }
        do {
            try kernel.rename(staging, to: directory(id), noReplace: true)
        } catch let e as Errno {
            lock.release()
            kernel.removeTree(staging)
            if e == .fileExists || e == .directoryNotEmpty { throw alreadyExists(id) }
            throw NookError.sys("rename '\(staging)' to '\(directory(id))'", path: staging, errno: e.rawValue)
        }
        return lock
    }

    package func alreadyExists(_ id: String) -> NookError {
        NookError("a container named '\(id)' already exists",
                  hint: "'nook rm -f \(id)' removes it (stopping it if it runs), or choose another name",
                  kind: .alreadyExists(.container, name: id))
    }

    /// Hidden names in the store: a directory being reserved, a spec handed to a monitor.
    static let stagingPrefix = ".new-"
    static let removingPrefix = ".gone-"
    static let pendingPrefix = ".pending-"

    /// Locks an existing container's directory (waits for other commands on it).
    package func lock(_ id: String) throws -> ContainerLock {
        try Self.validate(id: id)
        guard kernel.isDirectory(directory(id)) else { throw notFound(id) }
        let path = directory(id) + "/lock"
        // Waiting, it is never nil: only the kernel's error is left to say.
        guard let lock = try NookError.step("cannot lock container '\(id)': flock '\(path)'", path: path, {
            try ContainerLock(path: path, wait: true, kernel: kernel)
        }) else { throw NookError("cannot lock container '\(id)'") }
        return lock
    }

    package func notFound(_ id: String) -> NookError {
        NookError("container '\(id)' does not exist", hint: "'nook list' shows your containers", kind: .notFound(.container, name: id))
    }

    /// Atomic: write a temporary file, rename it over the old one. `durable`
    /// fsyncs it first, for a record that outlives the command writing it (a
    /// created or detached container). A foreground run's record lives only as
    /// long as its `nook run`, which a crash of the machine ends too: it skips
    /// the fsync, and a record a crash left empty is repaired as never written.
    package func write(_ state: ContainerState, durable: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        let tmp = statePath(state.id) + ".tmp.\(getpid())"  // two writers (a command, the monitor) never share one
        try NookError.step("write '\(tmp)'", path: tmp) { try kernel.createFile(tmp, Array(data), mode: 0o600, sync: durable) }
        try NookError.step("rename '\(tmp)'", path: tmp) { try kernel.rename(tmp, to: statePath(state.id), noReplace: false) }
    }

    /// The container's cgroup, noted as soon as it is made: state.json comes
    /// only with the process, and a command killed in between leaves the
    /// next one this to remove.
    package func recordCgroup(_ id: String, path: String) throws {
        try writeFile(directory(id) + "/" + Self.cgroupRecordName, Array(path.utf8))
    }

    /// A new file of ours in a container's directory (0600).
    package func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        try NookError.step("write '\(path)'", path: path) { try kernel.createFile(path, bytes, mode: 0o600, sync: false) }
    }

    package func recordedCgroup(_ id: String) -> String? {
        // no record: the container never had a cgroup
        (try? kernel.readFile(directory(id) + "/" + Self.cgroupRecordName, as: .own, noFollow: true))
            .map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static let cgroupRecordName = "cgroup.path"

    package func read(_ id: String) throws -> ContainerState {
        try Self.validate(id: id)
        guard kernel.isDirectory(directory(id)) else { throw notFound(id) }
        let bytes: [UInt8]
        do { bytes = try kernel.readFile(statePath(id), as: .own, noFollow: true) } catch {
            // There but unreadable: the read's own error says why.
            guard !kernel.exists(statePath(id)) else { throw error }
            throw NookError("container '\(id)' has no state yet: the command creating it is still at work",
                            hint: "wait for it to finish; if it was killed, the next nook command removes what it left")
        }
        var state: ContainerState
        do { state = try JSONDecoder().decode(ContainerState.self, from: Data(bytes)) } catch {
            throw NookError("state of container '\(id)' is corrupt: \(error)", hint: "remove \(directory(id))")
        }
        if kernel.exists(stopMarkPath(id)) { state.stoppedByUser = true }
        return state
    }

    /// `nook stop` (or kill, rm) ends a restart policy with a file of its own,
    /// not a field of state.json: the monitor rewrites state.json from what
    /// it read when the container ended, and would write the field away.
    package func stopMarkPath(_ id: String) -> String { directory(id) + "/stopped-by-user" }

    /// Sets the mark (`read` then says stoppedByUser); it lasts until `clearStopMark`.
    package func markStopped(_ id: String) throws {
        do { try kernel.createNewFile(stopMarkPath(id), [], mode: 0o600) } catch let e as Errno where e == .fileExists {
            return  // marked already
        } catch let e as Errno {
            throw NookError.sys("create '\(stopMarkPath(id))'", path: stopMarkPath(id), errno: e.rawValue)
        }
    }

    /// A start by the user: the policy applies again.
    package func clearStopMark(_ id: String) throws {
        do { try kernel.removeFile(stopMarkPath(id)) } catch let e as Errno where e == .noSuchFileOrDirectory {
            return  // not marked
        } catch let e as Errno {
            throw NookError.sys("remove '\(stopMarkPath(id))'", path: stopMarkPath(id), errno: e.rawValue)
        }
    }

    /// Removes the container's directory and everything in it. It is first
    /// renamed to a hidden name: the container is gone at once, whole, and a
    /// removal killed half-way leaves only a hidden directory, which
    /// `sweepHidden` finishes once our pid is gone.
    /// `spec`: the one the caller wrote as config.json, when it has it (a
    /// run ending): the layer it names is found without reading the file back.
    package func remove(_ id: String, spec: Spec? = nil) {
        let gone = root + "/" + Self.removingPrefix + "\(getpid())-" + id
        kernel.removeTree(gone) // a previous process with our pid, killed here
        do {
            try kernel.rename(directory(id), to: gone, noReplace: false)
            FaultPoint.reached("remove.renamed")
            removeWithLayer(gone, id: id, spec: spec)
        } catch let e as Errno where e != .noSuchFileOrDirectory {
            removeWithLayer(directory(id), id: id, spec: spec)
        } catch {}
    }

    /// A container's directory, and the writable layer its config.json names
    /// (an image's container: `OwnedLayer`), that first: a removal killed
    /// between the two leaves the record that still names it.
    func removeWithLayer(_ directory: String, id: String, spec: Spec? = nil) {
        if let spec {
            OwnedLayer.remove(of: spec, container: id)
        } else {
            OwnedLayer.remove(namedIn: directory + "/" + Runtime.specName, container: id)
        }
        kernel.removeTree(directory)
    }

    /// The container's lock if nobody holds it (never creating the lock file:
    /// a container being removed must stay removable).
    package func lockIfFree(_ id: String) -> ContainerLock? {
        // busy or gone: nil, and the caller leaves that container alone
        (try? ContainerLock(path: directory(id) + "/lock", wait: false, create: false, kernel: kernel)) ?? nil
    }

    /// What killed commands leave under hidden names: a directory `reserve`
    /// was making or `remove` was emptying, a monitor's spec file. Removed once
    /// the pid in the name is gone.
    package func sweepHidden() {
        var stale: [String] = []
        for name in kernel.listDirectory(root) ?? [] {
            let pid: Int32?
            if let prefix = [Self.stagingPrefix, Self.removingPrefix].first(where: name.hasPrefix) {
                pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" })
            } else if name.hasPrefix(Self.pendingPrefix), name.hasSuffix(".json") {
                pid = Int32(name.dropLast(5).split(separator: "-").last ?? "")
            } else { continue }
            if let pid, kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        for name in stale {
            // a leftover that went meanwhile is what we wanted
            if name.hasSuffix(".json") && name.hasPrefix(Self.pendingPrefix) { try? kernel.removeFile(root + "/" + name) } else {
                // `.new-<pid>-<id>` or `.gone-<pid>-<id>`: the id follows the pid and its dash.
                let id = name.drop { $0 != "-" }.dropFirst().drop { $0 != "-" }.dropFirst()
                removeWithLayer(root + "/" + name, id: String(id))
            }
        }
    }

    package func ids() -> [String] {
        (kernel.listDirectory(root) ?? []).filter { !$0.hasPrefix(".") && kernel.isDirectory(root + "/" + $0) }.sorted()
    }
}

/// An flock(2) on a container's lock file; released on close (or process death).
package final class ContainerLock: @unchecked Sendable {
    package private(set) var fd: Int32
    private let kernel: KernelInterface

    /// nil when another holds it and `wait` is false; throws the kernel's errno.
    init?(path: String, wait: Bool, create: Bool = true, kernel: KernelInterface) throws {
        self.kernel = kernel
        guard let fd = try kernel.lock(path, wait: wait, create: create) else { return nil }
        self.fd = fd
    }

    package func release() {
        if fd >= 0 { kernel.close(fd); fd = -1 }
    }

    deinit { release() }
}
