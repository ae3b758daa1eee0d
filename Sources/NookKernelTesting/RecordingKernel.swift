import Glibc
import NookCore
import NookKernel
import SystemPackage

/// A fake kernel: records every call in order, keeps a small file system and
/// process table in memory, and plays back a scripted child. Nothing here
/// decides what the runtime does; it only answers the way the real kernel
/// would, and fails the call a test names (`failAt`) with `failErrno`.
///
/// What it holds at the end is what the caller leaked: `openFDs`,
/// `heldLocks`, `liveChildren`, and the files and directories it left.
package final class RecordingKernel: KernelInterface {
    package enum Call: Equatable, CustomStringConvertible {
        case socketPair
        case spawn(syncFD: Int32)
        case writeFile(String, String)
        case runHelper([String])
        case sendGo(Int32)
        case receive(Int32)
        case wait(pid_t, [Int32])
        case signal(pid_t, Int32)
        case reap(pid_t)
        case adopt(pid_t)
        case close(Int32)
        case processStat(pid_t)
        case startHelper([String])
        case pipe
        case makeDirectory(String)
        case status(String)
        case createFile(String)
        case createNewFile(String)
        case sendFD(String)
        case readFile(String)
        case rename(String, String)
        case removeFile(String)
        case removeTree(String)
        case listDirectory(String)
        case lock(String)
        case makeFIFO(String)
        case open(String)
        case write(String)
        case poll(String)
        case openPidfd(pid_t)
        case mountFuseOverlay(String)
        /// A step of another seam (the cgroup, the network helper) in the same timeline.
        case step(String)
        /// Something the test itself did (e.g. inside beforeRelease), in the same timeline.
        case note(String)

        package var description: String {
            switch self {
            case .socketPair: "socketPair"
            case .spawn(let fd): "spawn(syncFD: \(fd))"
            case .writeFile(let p, let c): "writeFile(\(p), \(c.debugDescription))"
            case .runHelper(let argv): "runHelper(\(argv.joined(separator: " ")))"
            case .sendGo(let fd): "sendGo(\(fd))"
            case .receive(let fd): "receive(\(fd))"
            case .wait(let pid, let sigs): "wait(\(pid), \(sigs))"
            case .signal(let pid, let sig): "signal(\(pid), \(sig))"
            case .reap(let pid): "reap(\(pid))"
            case .adopt(let pid): "adopt(\(pid))"
            case .close(let fd): "close(\(fd))"
            case .processStat(let pid): "processStat(\(pid))"
            case .startHelper(let argv): "startHelper(\(argv.joined(separator: " ")))"
            case .sendFD(let p): "sendFD(\(p))"
            case .pipe: "pipe"
            case .makeDirectory(let p): "mkdir(\(p))"
            case .status(let p): "stat(\(p))"
            case .createFile(let p): "createFile(\(p))"
            case .createNewFile(let p): "createNewFile(\(p))"
            case .readFile(let p): "readFile(\(p))"
            case .rename(let a, let b): "rename(\(a), \(b))"
            case .removeFile(let p): "unlink(\(p))"
            case .removeTree(let p): "removeTree(\(p))"
            case .listDirectory(let p): "listDirectory(\(p))"
            case .lock(let p): "lock(\(p))"
            case .makeFIFO(let p): "mkfifo(\(p))"
            case .open(let p): "open(\(p))"
            case .write(let p): "write(\(p))"
            case .poll(let p): "poll(\(p))"
            case .openPidfd(let pid): "pidfd_open(\(pid))"
            case .mountFuseOverlay(let p): "mountFuseOverlay(\(p))"
            case .step(let s): s
            case .note(let s): "note(\(s))"
            }
        }

        /// Calls the kernel can fail with an errno the caller must handle.
        /// Probes (stat, /proc/PID/stat, a listing) answer "not there" instead,
        /// and close, reap and removeTree cannot fail in a way anyone handles.
        package var canFail: Bool {
            switch self {
            case .close, .reap, .processStat, .status, .listDirectory, .removeTree, .note: false
            default: true
            }
        }
    }

    package var calls: [Call] = []
    /// Fail the call with this index in `calls` (with `failErrno`).
    package var failAt: Int?
    package var failErrno: Int32 = ENOLINK

    package let parentFD: Int32 = 10
    package let childFD: Int32 = 11
    package var process = SpawnedProcess(pid: 4242, pidfd: 77)
    /// The start time /proc/PID/stat shows for every live process.
    package let startTime: UInt64 = 1000

    /// What the child sends, in order; after the last one, EOF.
    package var messages: [ChildMessage] = []
    package var spawnError: Error?
    package var writeErrors: [String: Error] = [:]
    /// Helper name (argv[0]) -> (status, stderr). Unlisted helpers succeed.
    package var helperResults: [String: (Int32, String)] = [:]
    package var waitStatus: ExitStatus = .exited(0)
    /// Short-lived helpers (hooks), by program: how each ends (unlisted: exit 0),
    /// and those that never end by themselves.
    package var helperExits: [String: ExitStatus] = [:]
    package var hangingHelpers: Set<String> = []
    /// What each short-lived helper got on its stdin, by program.
    package private(set) var helperInputs: [String: [UInt8]] = [:]
    package var spawnedOptions: SpawnOptions?
    package var spawnedPlan: ChildPlan?

    // The kernel's state: what is open, held, running, on disk.
    package private(set) var openFDs: Set<Int32> = []
    package private(set) var heldLocks: [Int32: String] = [:]
    /// Children not yet waited for or reaped (and processes a test says are running).
    package var liveChildren: Set<pid_t> = []
    package private(set) var killed: Set<pid_t> = []
    package private(set) var stopped: Set<pid_t> = []
    /// Children that ended by themselves, not yet waited for (zombies), with how.
    private var ended: [pid_t: ExitStatus] = [:]
    private var nextHelperPID: pid_t = 5100
    /// The short-lived helpers (hooks) started so far.
    package private(set) var helperPIDs: Set<pid_t> = []
    // The process table a test sets up for processes it says are running:
    /// parent pids (default 1),
    package var parents: [pid_t: pid_t] = [:]
    /// namespace inodes by kind ("pid", "user"), the user namespaces' parents,
    package var namespaces: [pid_t: [String: UInt64]] = [:]
    package var userNamespaceParents: [UInt64: UInt64] = [:]
    /// and the pid in a process's own PID namespace (default: its pid here).
    package var innermostPIDs: [pid_t: pid_t] = [:]
    /// The monotonic clock: `sleep` moves it on, nothing else.
    package private(set) var clock: Double = 0
    private var pidfdTargets: [Int32: pid_t] = [:]
    private var namespaceFDs: [Int32: UInt64] = [:]
    package private(set) var directories: Set<String> = ["/"]
    package private(set) var files: [String: [UInt8]] = [:]
    package private(set) var fifos: Set<String> = []
    /// FIFOs a live child holds open for reading (create's exec.fifo), by pid.
    private var fifoReaders: [pid_t: String] = [:]
    private var fdPaths: [Int32: String] = [:]
    private var nextFD: Int32 = 100

    package init() {}

    /// Records `call`; throws `failErrno` (as the kernel's `Errno`) if it is the one to fail.
    package func record(_ call: Call) throws {
        calls.append(call)
        if calls.count - 1 == failAt { throw Errno(rawValue: failErrno) }
    }

    /// The same for a call whose live version throws `NookError` (its message as the live one says it).
    package func record(_ call: Call, live what: String) throws {
        do { try record(call) } catch let e as Errno { throw NookError.sys(what, errno: e.rawValue) }
    }

    /// A fresh fd, as open(2) would give one.
    package func allocateFD(for path: String = "") -> Int32 {
        nextFD += 1
        openFDs.insert(nextFD)
        fdPaths[nextFD] = path
        return nextFD
    }

    /// Puts a file or directory (and its parents) in place without recording: the test's setup.
    package func seed(directory: String) {
        var path = ""
        for part in directory.split(separator: "/") {
            path += "/" + part
            directories.insert(path)
        }
    }

    package func seed(file: String, _ bytes: [UInt8]) {
        seed(directory: parent(file))
        files[file] = bytes
    }

    /// The calls after the first one equal to `call`.
    package func calls(after call: Call) -> ArraySlice<Call> {
        guard let i = calls.firstIndex(of: call) else { return [] }
        return calls[(i + 1)...]
    }

    // MARK: processes

    package func socketPair() throws -> (parent: Int32, child: Int32) {
        try record(.socketPair, live: "socketpair")
        openFDs.formUnion([parentFD, childFD])
        return (parentFD, childFD)
    }

    package func spawn(_ plan: ChildPlan, syncFD: Int32, options: SpawnOptions) throws -> SpawnedProcess {
        try record(.spawn(syncFD: syncFD), live: "clone3")
        spawnedPlan = plan
        spawnedOptions = options
        if let spawnError { throw spawnError }
        liveChildren.insert(process.pid)
        openFDs.insert(process.pidfd)
        if options.startFifoFD >= 0, let path = fdPaths[options.startFifoFD] { fifoReaders[process.pid] = path }
        return process
    }

    package func writeFile(_ path: String, _ contents: String) throws {
        try record(.writeFile(path, contents), live: "write '\(path)'")
        if let e = writeErrors[path] { throw e }
    }

    /// Each is recorded as started, in order; the live kernel starts them all before waiting.
    package func runHelpers(_ argvs: [[String]]) throws -> [(status: Int32, errorOutput: String)] {
        try argvs.map { argv in
            try record(.runHelper(argv), live: "run \(argv[0])")
            let r = helperResults[argv[0]] ?? (0, "")
            return (r.0, r.1)
        }
    }

    package func sendGo(_ fd: Int32) throws { try record(.sendGo(fd), live: "send to the container's setup") }

    package func mountFuseOverlay(_ mount: FuseOverlayMount, in process: SpawnedProcess, joinUser: Bool) throws {
        try record(.mountFuseOverlay(mount.mountpoint), live: "start fuse-overlayfs")
    }

    /// A `.pid` record of step `.fork` says the child forked a process with
    /// CLONE_PARENT: from then on that process is our child too, to reap.
    package func receive(_ fd: Int32) throws -> ChildMessage? {
        try record(.receive(fd), live: "read from the container's setup")
        guard !messages.isEmpty else { return nil }
        let message = messages.removeFirst()
        if message.kind == .pid && message.step == .fork { liveChildren.insert(message.value) }
        if message.kind == .console && message.fd >= 0 { openFDs.insert(message.fd) } // passed to us with the message
        return message
    }

    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32]) throws -> ExitStatus {
        try record(.wait(process.pid, signals), live: "waitpid \(process.pid)")
        let ended = ended[process.pid]
        exit(process.pid)
        return killed.contains(process.pid) ? .signaled(SIGKILL) : ended ?? waitStatus
    }

    package func signal(_ process: SpawnedProcess, _ sig: Int32) throws {
        try record(.signal(process.pid, sig), live: "kill \(process.pid)")
        deliver(sig, to: process.pid)
    }

    private func deliver(_ sig: Int32, to pid: pid_t) {
        switch sig {
        case SIGKILL: killed.insert(pid)
        case SIGSTOP: stopped.insert(pid)
        case SIGCONT: stopped.remove(pid)
        default: break
        }
    }

    /// The adopted process (a child of ours already) gets pidfd 88.
    package func adopt(_ pid: pid_t) throws -> SpawnedProcess {
        try record(.adopt(pid), live: "pidfd_open \(pid)")
        openFDs.insert(88)
        return SpawnedProcess(pid: pid, pidfd: 88)
    }

    package func reap(_ pid: pid_t) {
        calls.append(.reap(pid))
        exit(pid)
    }

    /// Like LiveKernel, closing "no fd" (-1) is a no-op, so it is not recorded.
    package func close(_ fd: Int32) {
        guard fd >= 0 else { return }
        calls.append(.close(fd))
        openFDs.remove(fd)
        heldLocks[fd] = nil
        fdPaths[fd] = nil
        pidfdTargets[fd] = nil
        namespaceFDs[fd] = nil
    }

    /// A live process shows a stat line with `startTime` (field 22); a gone one has none.
    package func processStat(_ pid: pid_t) -> String? {
        calls.append(.processStat(pid))
        guard isRunning(pid) else { return nil }
        return "\(pid) (fake) \(stopped.contains(pid) ? "T" : "S") \(parents[pid] ?? 1)" + String(repeating: " 0", count: 17) + " \(startTime)"
    }

    package func startHelper(_ path: String, _ argv: [String], fds: [Int32]) throws -> pid_t {
        try record(.startHelper(argv), live: "start \(argv.first ?? path)")
        liveChildren.insert(5000)
        return 5000
    }

    /// A hook: it reads its input and ends at once, unless it hangs. Its pidfd is 'pidfd:PID'.
    package func startHelper(_ launch: HelperLaunch, input: [UInt8]) throws -> SpawnedProcess {
        try record(.startHelper(launch.arguments), live: "run \(launch.arguments.first ?? launch.program)")
        nextHelperPID += 1
        let pid = nextHelperPID
        liveChildren.insert(pid)
        helperPIDs.insert(pid)
        helperInputs[launch.program] = input
        if !hangingHelpers.contains(launch.program) { ended[pid] = helperExits[launch.program] ?? .exited(0) }
        let fd = allocateFD(for: "pidfd:\(pid)")
        pidfdTargets[fd] = pid
        return SpawnedProcess(pid: pid, pidfd: fd)
    }

    /// The fd went to whoever listens at `path`; ours stays open until closed.
    package func sendFD(_ fd: Int32, toSocket path: String) throws {
        try record(.sendFD(path), live: "send the console to '\(path)'")
        guard openFDs.contains(fd) else { throw Errno.badFileDescriptor }
    }

    package func pipe(holding bytes: [UInt8]) throws -> Int32 {
        try record(.pipe, live: "pipe")
        return allocateFD(for: "pipe")
    }

    private func isRunning(_ pid: pid_t) -> Bool { liveChildren.contains(pid) && !killed.contains(pid) && ended[pid] == nil }

    // MARK: the process table

    package func openPidfd(_ pid: pid_t) throws -> Int32 {
        try record(.openPidfd(pid))
        guard isRunning(pid) else { throw Errno.noSuchProcess }
        let fd = allocateFD(for: "pidfd:\(pid)")
        pidfdTargets[fd] = pid
        return fd
    }

    package func hasExited(_ pidfd: Int32) -> Bool { pidfdTargets[pidfd].map { !isRunning($0) } ?? true }

    package func signal(pidfd: Int32, _ sig: Int32) throws {
        guard let pid = pidfdTargets[pidfd] else { throw Errno.badFileDescriptor }
        try record(.signal(pid, sig))
        deliver(sig, to: pid)
    }

    package func processIDs() -> [pid_t] { liveChildren.filter(isRunning).sorted() }

    package func processStatus(_ pid: pid_t) -> String? {
        guard isRunning(pid) else { return nil }
        return "Name:\tfake\nNSpid:\t\(pid)\(innermostPIDs[pid].map { "\t\($0)" } ?? "")\n"
    }

    package func namespaceID(_ pid: pid_t, _ kind: String) -> NamespaceID? {
        guard isRunning(pid), let inode = namespaces[pid]?[kind] else { return nil }
        return NamespaceID(device: 4, inode: inode)
    }

    package func openNamespace(_ pid: pid_t, _ kind: String) -> OpenNamespace? {
        namespaceID(pid, kind).map { openNamespace($0.inode) }
    }

    package func parentNamespace(of fd: Int32) -> OpenNamespace? {
        guard let inode = namespaceFDs[fd], let parent = userNamespaceParents[inode] else { return nil }
        return openNamespace(parent)
    }

    private func openNamespace(_ inode: UInt64) -> OpenNamespace {
        let fd = allocateFD(for: "ns:\(inode)")
        namespaceFDs[fd] = inode
        return OpenNamespace(fd: fd, id: NamespaceID(device: 4, inode: inode))
    }

    package func now() -> Double { clock }
    package func sleep(microseconds: UInt32) { clock += Double(microseconds) / 1e6 }

    private func exit(_ pid: pid_t) {
        liveChildren.remove(pid)
        fifoReaders[pid] = nil
        ended[pid] = nil
    }

    // MARK: the file system

    private func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private func exists(_ path: String) -> Bool { directories.contains(path) || files[path] != nil }

    package func makeDirectory(_ path: String, mode: mode_t) throws {
        try record(.makeDirectory(path))
        if exists(path) { throw Errno.fileExists }
        guard directories.contains(parent(path)) else { throw Errno.noSuchFileOrDirectory }
        directories.insert(path)
    }

    package func status(_ path: String, followLinks: Bool) throws -> FileStatus {
        calls.append(.status(path))
        if directories.contains(path) { return FileStatus(type: S_IFDIR, permissions: 0o700, owner: getuid(), size: 4096) }
        if let bytes = files[path] { return FileStatus(type: fifos.contains(path) ? S_IFIFO : S_IFREG, permissions: 0o600, owner: getuid(), size: bytes.count) }
        throw Errno.noSuchFileOrDirectory
    }

    package func createFile(_ path: String, _ bytes: [UInt8], mode: mode_t, sync: Bool) throws {
        try record(.createFile(path))
        guard directories.contains(parent(path)) else { throw Errno.noSuchFileOrDirectory }
        files[path] = bytes
    }

    package func createNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        try record(.createNewFile(path))
        if exists(path) { throw Errno.fileExists }
        guard directories.contains(parent(path)) else { throw Errno.noSuchFileOrDirectory }
        files[path] = bytes
    }

    package func readFile(_ path: String, as kind: FileKind, noFollow: Bool) throws -> [UInt8] {
        try record(.readFile(path), live: "'\(path)'")
        guard let bytes = files[path] else { throw NookError.sys("'\(path)'", path: path, errno: ENOENT) }
        return bytes
    }

    package func rename(_ from: String, to: String, noReplace: Bool) throws {
        try record(.rename(from, to))
        guard exists(from) else { throw Errno.noSuchFileOrDirectory }
        if noReplace && exists(to) { throw Errno.fileExists }
        if directories.contains(from) {
            directories = Set(directories.map { $0 == from || $0.hasPrefix(from + "/") ? to + $0.dropFirst(from.count) : $0 })
            files = Dictionary(uniqueKeysWithValues: files.map { ($0.key.hasPrefix(from + "/") ? to + $0.key.dropFirst(from.count) : $0.key, $0.value) })
            heldLocks = heldLocks.mapValues { $0.hasPrefix(from + "/") ? to + $0.dropFirst(from.count) : $0 }
        } else {
            files[to] = files.removeValue(forKey: from)
        }
    }

    package func removeFile(_ path: String) throws {
        try record(.removeFile(path))
        guard files.removeValue(forKey: path) != nil else { throw Errno.noSuchFileOrDirectory }
        fifos.remove(path)
    }

    package func removeTree(_ path: String) {
        calls.append(.removeTree(path))
        directories = directories.filter { $0 != path && !$0.hasPrefix(path + "/") }
        files = files.filter { !$0.key.hasPrefix(path + "/") }
    }

    package func listDirectory(_ path: String) -> [String]? {
        calls.append(.listDirectory(path))
        guard directories.contains(path) else { return nil }
        let prefix = path == "/" ? "/" : path + "/"
        let below = Array(directories) + Array(files.keys)
        return below.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") && $0 != path }
            .map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    package func lock(_ path: String, wait: Bool, create: Bool) throws -> Int32? {
        try record(.lock(path))
        if files[path] == nil {
            guard create, directories.contains(parent(path)) else { throw Errno.noSuchFileOrDirectory }
            files[path] = []
        }
        if heldLocks.values.contains(path) {
            if wait { throw Errno.deadlock } // only this process holds locks here: it would wait for itself
            return nil
        }
        let fd = allocateFD(for: path)
        heldLocks[fd] = path
        return fd
    }

    package func makeFIFO(_ path: String, mode: mode_t) throws {
        try record(.makeFIFO(path))
        guard directories.contains(parent(path)) else { throw Errno.noSuchFileOrDirectory }
        if exists(path) { throw Errno.fileExists }
        files[path] = []
        fifos.insert(path)
    }

    /// A FIFO opened to write without blocking needs a reader: ENXIO without one.
    package func open(_ path: String, flags: Int32, mode: mode_t) throws -> Int32 {
        try record(.open(path))
        if path != "/dev/null" {
            guard files[path] != nil else { throw Errno.noSuchFileOrDirectory }
            if fifos.contains(path) && flags & O_ACCMODE == O_WRONLY && !fifoReaders.values.contains(path) {
                throw Errno.noSuchAddressOrDevice
            }
        }
        return allocateFD(for: path)
    }

    /// A byte written into a FIFO is taken by its reader (create's waiter),
    /// which closes it then: the FIFO has no reader any more.
    package func write(_ fd: Int32, _ bytes: [UInt8]) throws -> Int {
        let path = fdPaths[fd] ?? ""
        try record(.write(path))
        guard openFDs.contains(fd) else { throw Errno.badFileDescriptor }
        if fifos.contains(path) { fifoReaders = fifoReaders.filter { $0.value != path } }
        return bytes.count
    }

    /// A FIFO without a reader polls POLLERR, a pidfd whose process ended
    /// POLLIN; otherwise nothing happens in time.
    package func poll(_ fd: Int32, events: Int16, milliseconds: Int32) throws -> Int16 {
        let path = fdPaths[fd] ?? ""
        try record(.poll(path))
        if let pid = pidfdTargets[fd], !isRunning(pid) { return Int16(POLLIN) }
        clock += Double(milliseconds) / 1000
        return fifos.contains(path) && !fifoReaders.values.contains(path) ? Int16(POLLERR) : 0
    }

    /// Every byte written was taken.
    package func pendingBytes(_ fd: Int32) -> Int32 { 0 }
}
