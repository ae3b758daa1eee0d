import Foundation
import XCTest

/// Runs the real `nook` binary as a genuinely unprivileged user.
///
/// When the tests run as root (CI does), every `nook` is started as one of the
/// test users created by Scripts/test-users.sh, through `setpriv`:
///   nooktest  (with an /etc/subuid and /etc/subgid range)
///   nooknosub (no range)
/// Their uids, gids and ranges are whatever this machine gave them (2000, 2001
/// and 200000:65536 on a fresh one): the tests look them up, never assume them.
/// When they run as an ordinary user, `nook` runs as that user.
/// The binary, the busybox rootfs and the probe are copied into a 0755
/// directory owned by the user: a binary the user cannot read fails at the id maps.
final class Harness: @unchecked Sendable {
    struct User: Sendable {
        var name: String
        var uid: UInt32
        var gid: UInt32
    }

    /// NOOK_TEST_USER and NOOK_TEST_USER_NOSUB name other users (made by
    /// `Scripts/test-users.sh NAME NAME_NOSUB`), so two runs on one machine
    /// never see each other's containers.
    static let withRangeName = ProcessInfo.processInfo.environment["NOOK_TEST_USER"] ?? "nooktest"
    static let withoutRangeName = ProcessInfo.processInfo.environment["NOOK_TEST_USER_NOSUB"] ?? "nooknosub"
    static let withRange = testUser(withRangeName)
    static let withoutRange = testUser(withoutRangeName)

    /// A test user as getpwnam has it. Only used when the tests run as root, and
    /// then `Harness()` has made sure both exist; otherwise `nook` runs as the
    /// caller whatever user is asked for, and a missing one gets ids no one has.
    static func testUser(_ name: String) -> User {
        guard let pw = getpwnam(name) else { return User(name: name, uid: .max, gid: .max) }
        return User(name: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }

    /// A range of subordinate ids from /etc/subuid or /etc/subgid.
    struct SubRange: Equatable {
        var start: UInt32
        var count: UInt32
    }

    /// The user's first range in /etc/subuid, and in /etc/subgid: lines are
    /// "owner:start:count", the owner a login name or a number (the uid in
    /// /etc/subuid, the gid in /etc/subgid, as nook reads them). nil when the user has none.
    static func subordinateRanges(of user: User) -> (uids: SubRange, gids: SubRange)? {
        let name = getpwuid(user.uid).map { String(cString: $0.pointee.pw_name) } ?? user.name
        func first(_ file: String, _ id: UInt32) -> SubRange? {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                guard f.count == 3, f[0] == name || f[0] == "\(id)",
                      let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0 else { continue }
                return SubRange(start: start, count: count)
            }
            return nil
        }
        guard let u = first("/etc/subuid", user.uid), let g = first("/etc/subgid", user.gid) else { return nil }
        return (u, g)
    }

    static let shared: Harness = {
        do { return try Harness() } catch { fatalError("integration harness: \(error)") }
    }()

    nonisolated(unsafe) static var workToRemove: String?
    let isRoot = getuid() == 0
    let work: String
    let nook: String
    let rootfs: String
    /// The user nook runs as by default.
    let user: User

    private init() throws {
        signal(SIGPIPE, SIG_IGN) // a container that ignores its stdin must not kill the test run
        if getuid() == 0 {
            guard getpwnam(Harness.withRangeName) != nil, getpwnam(Harness.withoutRangeName) != nil else {
                throw NSError(domain: "harness", code: 1, userInfo: [NSLocalizedDescriptionKey:
                    "test users missing: run Scripts/test-users.sh as root first"])
            }
        }
        user = getuid() == 0 ? Harness.withRange : User(name: "self", uid: getuid(), gid: getgid())
        work = "/tmp/nook-it-\(getpid())"
        Harness.workToRemove = work
        atexit { if let w = Harness.workToRemove { _ = try? FileManager.default.removeItem(atPath: w) } }
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        chmod(work, 0o755)
        nook = work + "/nook"
        try FileManager.default.copyItem(atPath: Harness.builtBinary(), toPath: nook)
        chmod(nook, 0o755)
        // `nook pull` runs nook-registry from beside nook: the copy gets its companion.
        let registry = URL(fileURLWithPath: Harness.builtBinary()).deletingLastPathComponent().appendingPathComponent("nook-registry").path
        if FileManager.default.isExecutableFile(atPath: registry) {
            try FileManager.default.copyItem(atPath: registry, toPath: work + "/nook-registry")
            chmod(work + "/nook-registry", 0o755)
            if isRoot { chown(work + "/nook-registry", user.uid, user.gid) }
        }
        rootfs = work + "/rootfs"
        if isRoot {
            chown(work, user.uid, user.gid)
            chown(nook, user.uid, user.gid)
        }
        let made = try run(["rootfs", "busybox", rootfs])
        guard made.status == 0 else { throw NSError(domain: "harness", code: 2, userInfo: [NSLocalizedDescriptionKey: made.stderr]) }
        try installProbe()
        // Users of the image itself, for --user tests: alice (1000, also in
        // group staff) and the busybox rootfs's own root and nobody.
        let passwd = try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8)
        try (passwd + "alice:x:1000:1000:alice:/home/alice:/bin/sh\n").write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)
        let group = try String(contentsOfFile: rootfs + "/etc/group", encoding: .utf8)
        try (group + "alice:x:1000:\nstaff:x:50:alice\n").write(toFile: rootfs + "/etc/group", atomically: false, encoding: .utf8)
    }

    /// .build/<triple>/debug/nook next to the test bundle, unless NOOK_BINARY says otherwise.
    static func builtBinary() -> String {
        if let path = ProcessInfo.processInfo.environment["NOOK_BINARY"] { return path }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("nook").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return ".build/debug/nook"
    }

    /// The static C probe from Tests/probe, copied into the rootfs as /bin/probe.
    private func installProbe() throws {
        var probe = ProcessInfo.processInfo.environment["NOOK_PROBE"] ?? ""
        if probe.isEmpty {
            let out = work + "/probe-build"
            let built = try Harness.shell(["/bin/bash", Harness.repoRoot() + "/Tests/probe/build.sh", out])
            guard built.status == 0 else { throw NSError(domain: "harness", code: 3, userInfo: [NSLocalizedDescriptionKey: "probe build: " + built.stderr]) }
            probe = out + "/probe"
        }
        try? FileManager.default.removeItem(atPath: rootfs + "/bin/probe")
        try FileManager.default.copyItem(atPath: probe, toPath: rootfs + "/bin/probe")
        chmod(rootfs + "/bin/probe", 0o755)
        if isRoot { chown(rootfs + "/bin/probe", user.uid, user.gid) }
    }

    static func repoRoot() -> String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The command line that starts `nook ARGS` as the test user, with a clean
    /// environment; `binary`: another copy of nook than the shared one.
    func commandLine(_ args: [String], as who: User? = nil, env: [String: String] = [:], binary: String? = nil) -> [String] {
        let nook = binary ?? self.nook
        let u = who ?? user
        var environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": work, "LANG": "C",
                           "XDG_RUNTIME_DIR": runtimeDir(u)]
        for (k, v) in env { environment[k] = v }
        let envArgs = ["/usr/bin/env", "-i"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if isRoot {
            return ["/usr/bin/setpriv", "--reuid=\(u.uid)", "--regid=\(u.gid)", "--clear-groups"] + envArgs + [nook] + args
        }
        return envArgs + [nook] + args
    }

    /// Runs `nook ARGS` to completion.
    @discardableResult
    func run(_ args: [String], as who: User? = nil, stdin: Data? = nil, env: [String: String] = [:],
             timeout: TimeInterval = 60, binary: String? = nil) throws -> Result {
        try Harness.shell(commandLine(args, as: who, env: env, binary: binary), stdin: stdin, timeout: timeout)
    }

    /// Runs a host command as the test user (for checks from outside the container).
    func runAsUser(_ argv: [String], as who: User? = nil) throws -> Result {
        try Harness.shell(asUser(argv, who))
    }

    /// argv started as the test user: through setpriv when the tests run as root.
    func asUser(_ argv: [String], _ who: User? = nil) -> [String] {
        let u = who ?? user
        return isRoot ? ["/usr/bin/setpriv", "--reuid=\(u.uid)", "--regid=\(u.gid)", "--clear-groups"] + argv : argv
    }

    /// Runs argv to completion. Output goes through files, not pipes: a
    /// container created by `nook create` keeps create's stdio (as the OCI
    /// spec says), and must not keep the test waiting for EOF.
    static func shell(_ argv: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> Result {
        let base = NSTemporaryDirectory() + "nook-out-\(getpid())-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        // posix_spawn and waitpid, not Foundation's Process: Process decides a
        // child ended when a socket it leaks into the child closes, and a child
        // that leaves a daemon behind (podman's conmon) keeps that socket open.
        FileManager.default.createFile(atPath: base + ".in", contents: stdin ?? Data())
        defer { try? FileManager.default.removeItem(atPath: base + ".in") }
        let pid = try spawn(argv, stdin: base + ".in", stdout: base + ".out", stderr: base + ".err")
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if Date() >= deadline {
                timedOut = true
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        let out = (try? Data(contentsOf: URL(fileURLWithPath: base + ".out"))) ?? Data()
        let err = (try? Data(contentsOf: URL(fileURLWithPath: base + ".err"))) ?? Data()
        let code: Int32 = timedOut ? -1 : (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
        return Result(status: code, stdout: String(decoding: out, as: UTF8.self),
                      stderr: (timedOut ? "timed out after \(timeout) s\n" : "") + String(decoding: err, as: UTF8.self))
    }

    /// A `nook` started in the background; killed by pid at the end of the test.
    final class Background: @unchecked Sendable {
        let pid: Int32
        let errPath: String
        /// stdout goes here with `start(_:captureOutput: true)`, else to /dev/null.
        let outPath: String?
        private var status: Int32?

        init(pid: Int32, errPath: String, outPath: String? = nil) {
            self.pid = pid
            self.errPath = errPath
            self.outPath = outPath
        }

        /// Exit code (128+N for a signal); kills it after the timeout.
        func wait(timeout: TimeInterval = 30) -> Int32 {
            if let status { return status }
            let deadline = Date().addingTimeInterval(timeout)
            var raw: Int32 = 0
            while waitpid(pid, &raw, WNOHANG) != pid {
                if Date() >= deadline { kill(pid, SIGKILL); waitpid(pid, &raw, 0); break }
                usleep(10_000)
            }
            let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            status = code
            return code
        }

        var stderrText: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        var stdoutText: String { outPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

        deinit {
            if status == nil { kill(pid, SIGKILL); _ = wait(timeout: 5) }
            unlink(errPath)
            if let outPath { unlink(outPath) }
        }
    }

    /// posix_spawn with stdio from/to files; signal mask and SIGPIPE reset.
    static func spawn(_ argv: [String], stdin: String, stdout: String, stderr: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, environ)
        guard rc == 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(rc)) }
        return pid
    }

    func start(_ args: [String], as who: User? = nil, env: [String: String] = [:], captureOutput: Bool = false) throws -> Background {
        let base = NSTemporaryDirectory() + "nook-bg-\(getpid())-\(UUID().uuidString)"
        let out = captureOutput ? base + ".out" : nil
        let pid = try Harness.spawn(commandLine(args, as: who, env: env), stdin: "/dev/null", stdout: out ?? "/dev/null", stderr: base + ".err")
        return Background(pid: pid, errPath: base + ".err", outPath: out)
    }

    /// The first id >= `from` that no one uses on this machine: no passwd or group
    /// entry, no /etc/subuid or /etc/subgid line, no process, no nook state directory.
    static func unusedID(from: UInt32) -> UInt32 {
        let subids = ["/etc/subuid", "/etc/subgid"].map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
            .flatMap { $0.split(separator: "\n").map { String($0.prefix { $0 != ":" }) } }
        let running = Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid -> UInt32? in
            guard Int32(pid) != nil, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
            return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { UInt32($0) }
        })
        var id = from
        while getpwuid(id) != nil || getgrgid(id) != nil || subids.contains("\(id)") || running.contains(id)
              || FileManager.default.fileExists(atPath: "/tmp/nook-\(id)") {
            id += 1
        }
        return id
    }

    /// The user's XDG_RUNTIME_DIR for this test run: nook keeps its state under it, so
    /// containers of anyone else running nook as the same user never show in a test.
    /// 0711, not 0700: a test may show that another user is refused by nook itself.
    func runtimeDir(_ who: User? = nil) -> String {
        let u = who ?? user
        let dir = work + "/run-\(u.uid)"
        if mkdir(dir, 0o711) == 0 {
            chmod(dir, 0o711)
            if isRoot { chown(dir, u.uid, u.gid) }
        }
        return dir
    }

    /// The user's state directory for this test run.
    func stateDir(_ who: User? = nil) -> String { runtimeDir(who) + "/nook" }

    /// Where nook keeps state when XDG_RUNTIME_DIR is unset (a test passes `"XDG_RUNTIME_DIR": ""`).
    func fallbackStateDir(_ who: User? = nil) -> String { "/tmp/nook-\((who ?? user).uid)" }

    /// Waits until `condition` holds, polling.
    static func eventually(_ timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// A unique container name for a test.
    static func name(_ base: String) -> String { "\(base)-\(getpid())-\(Int.random(in: 0..<1_000_000))" }

    /// A scratch directory owned by the test user.
    func scratch(_ name: String) throws -> String {
        let dir = work + "/" + name + "-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        if isRoot { chown(dir, user.uid, user.gid) }
        return dir
    }

    /// Pids of the user's processes that are nook's clones in a user namespace other than
    /// ours: the title nook writes over their arguments ("nook", "nook-init") says which;
    /// and the start waiter a clone becomes (its first argument is "nook-wait").
    static func nookClones(of who: User) -> [Int32] {
        let ours = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/user")) ?? ""
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  ["nook", "nook-init"].contains(cmdline.trimmingCharacters(in: CharacterSet(charactersIn: "\0")))
                      || cmdline.hasPrefix("nook-wait\0"),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  status.split(separator: "\n").contains(where: { $0.hasPrefix("Uid:") && $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == "\(who.uid)"[...] })
            else { return false }
            let userns = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")) ?? ""
            return userns != ours
        }
    }

    /// nook's clones of a user alive at one moment; `added()` are those started since,
    /// which a refused or deleted container must not leave behind.
    struct CloneBaseline {
        let user: User
        let before: Set<Int32>
        init(of user: User) { self.user = user; before = Set(Harness.nookClones(of: user)) }
        func added() -> [Int32] { Set(Harness.nookClones(of: user)).subtracting(before).sorted() }
    }

    /// Pids of all processes whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { parent(of: $0) == pid }
    }

    /// The parent pid in /proc/PID/stat.
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// A host program (pasta, slirp4netns) is installed where nook looks for it.
    static func isInstalled(_ program: String) -> Bool {
        ["/usr/bin", "/bin", "/usr/local/bin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }

    /// The pid a process stopped at a fault point reported (NOOK_FAULT_REPORT), once it has stopped.
    static func stoppedAtFaultPoint(_ report: String, process: Harness.Background) -> Int32? {
        var stopped: Int32?
        _ = Harness.eventually(60) {
            let line = (try? String(contentsOfFile: report, encoding: .utf8))?.split(separator: "\n").first
            if let pid = line.flatMap({ Int32($0.split(separator: " ").last ?? "") }),
               let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].split(separator: " ").first == "T" {
                stopped = pid
            }
            return stopped != nil || !Harness.isAlive(process.pid)
        }
        return stopped
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}

extension Harness {
    /// A bundle from `nook spec`, running `args` in the harness rootfs; `extra` edits config.json.
    func bundle(_ args: [String], terminal: Bool = false, extra: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let dir = try scratch("bundle")
        let r = try runAsUser([nook, "spec", "--bundle", dir])
        guard r.status == 0 else { throw NSError(domain: "harness", code: 4, userInfo: [NSLocalizedDescriptionKey: "nook spec: " + r.stderr]) }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        process["terminal"] = terminal
        config["process"] = process
        config["root"] = ["path": rootfs]
        extra(&config)
        let data = try JSONSerialization.data(withJSONObject: config)
        try data.write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }
}

extension Harness {
    /// An OCI hook script in `dir` that saves the state JSON on its stdin to the file named by its first argument.
    func stdinSavingHook(in dir: String) throws -> String {
        let script = dir + "/hook.sh"
        try "#!/bin/sh\ncat > \"$1\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return script
    }
}
