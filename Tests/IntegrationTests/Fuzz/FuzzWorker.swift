import Foundation

/// Runs fuzz cases as one test user, in a directory and XDG_RUNTIME_DIR of
/// its own, and checks each the same way: no signal death, no hang, exit 0
/// (the command is /bin/true) or 125 with a "nook: " message, and nothing left
/// behind: no state entry or file in the runtime directory, no process of the
/// user, no mount, no cgroup, no stray file next to a path nook wrote, no write
/// through a symlink. Two workers run side by side, each as its own user, so
/// what one leaves behind is never blamed on the other.
final class FuzzWorker: @unchecked Sendable {
    let h = Harness.shared
    let user: Harness.User
    let label: String
    let dir: String
    let runtime: String
    let bundle: String
    let processFile: String
    let fixtures: FuzzFixtures
    let execTarget: String
    /// The worker's own copy of the test rootfs: nook creates mount points in
    /// a rootfs, and hostile destinations must not change the one other tests use.
    let rootfs: String
    /// A hang past this many seconds fails the case.
    static let deadline: TimeInterval = 10

    /// Outcomes of the nook commands run, minimizing included: shows the cases are not all refused.
    var accepted = 0
    var refused = 0
    private var baselineProcesses: Set<Int32> = []
    private var baselineRuntime: [String] = []
    private var baselineCgroups: [String] = []
    private var baseConfigs: [FuzzJSON] = []
    static let baseProcess = FuzzJSON.parse(#"{"args":["/bin/true"],"cwd":"/","env":["PATH=/usr/bin:/bin"],"user":{"uid":0,"gid":0},"terminal":false}"#)!

    struct Failure: Error, CustomStringConvertible {
        var kind: String
        var detail: String
        var description: String { kind + (detail.isEmpty ? "" : ": " + detail) }
    }

    init(user: Harness.User, label: String) throws {
        self.user = user
        self.label = label
        dir = try h.scratch("fuzz-\(label)")
        runtime = dir + "/run"
        bundle = dir + "/bundle"
        processFile = dir + "/process.json"
        fixtures = FuzzFixtures(dir: dir + "/fixtures")
        execTarget = "fz-exec-\(label)"
        rootfs = dir + "/rootfs"
        for d in [runtime, bundle, fixtures.dir] {
            mkdir(d, 0o700)
            if h.isRoot { chown(d, user.uid, user.gid) }
        }
        chmod(bundle, 0o755)
        let copied = try Harness.shell(["/bin/cp", "-a", h.rootfs, rootfs])
        guard copied.status == 0 else { throw Failure(kind: "setup", detail: "copy rootfs: " + copied.stderr) }
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(user.uid):\(user.gid)", rootfs]) }
        baseConfigs = try [runcSpec(), nookSpec()]
        // Unchanged, both bases run: a case's failure is its change's.
        for (i, base) in baseConfigs.enumerated() {
            FileManager.default.createFile(atPath: bundle + "/config.json", contents: Data(base.text.utf8))
            if h.isRoot { chown(bundle + "/config.json", user.uid, user.gid) }
            let r = try nook(["run", "--bundle", bundle, "fz-base-\(label)"])
            guard r.status == 0 else { throw Failure(kind: "setup", detail: "base config \(i) does not run: " + r.stderr) }
        }
        // The container `exec` cases go into, and a first run that fills the seccomp cache.
        _ = try nook(["run", "--rootfs", rootfs, "--", "/bin/true"])
        let started = try nook(["run", "-d", "--name", execTarget, "--rootfs", rootfs, "--", "sleep", "1000000"])
        guard started.status == 0 else { throw Failure(kind: "setup", detail: "exec target: " + started.stderr) }
        guard Harness.eventually(10, { self.status(self.execTarget) == "running" }) else { throw Failure(kind: "setup", detail: "exec target not running") }
        baselineProcesses = Set(userProcesses())
        baselineRuntime = runtimeEntries()
        baselineCgroups = FuzzWorker.cgroupEntries()
    }

    func finish() {
        _ = try? nook(["delete", "--force", execTarget])
    }

    // MARK: cases

    /// The two starting points: `runc spec --rootless` and `nook spec`, made to
    /// run /bin/true in the harness rootfs.
    func runcSpec() throws -> FuzzJSON {
        let d = dir + "/runc-spec"
        mkdir(d, 0o755)
        if h.isRoot { chown(d, user.uid, user.gid) }
        let r = try h.runAsUser(["/bin/sh", "-c", "cd \"$1\" && runc spec --rootless", "sh", d], as: user)
        guard r.status == 0 else { throw Failure(kind: "setup", detail: "runc spec: " + r.stderr) }
        return try prepared(String(contentsOfFile: d + "/config.json", encoding: .utf8))
    }

    func nookSpec() throws -> FuzzJSON {
        let d = dir + "/nook-spec"
        mkdir(d, 0o755)
        if h.isRoot { chown(d, user.uid, user.gid) }
        let r = try h.runAsUser([h.nook, "spec", "--bundle", d], as: user)
        guard r.status == 0 else { throw Failure(kind: "setup", detail: "nook spec: " + r.stderr) }
        return try prepared(String(contentsOfFile: d + "/config.json", encoding: .utf8))
    }

    func prepared(_ text: String) throws -> FuzzJSON {
        guard var doc = FuzzJSON.parse(text) else { throw Failure(kind: "setup", detail: "unparsable base spec") }
        doc.update([.key("process"), .key("args")][...]) { _ in .array([.string("/bin/true")]) }
        doc.update([.key("process"), .key("terminal")][...]) { _ in .bool(false) }
        doc.update([.key("root"), .key("path")][...]) { _ in .string(self.rootfs) }
        return doc
    }

    /// A config.json case: `run --bundle` (or `create`, then `delete --force`) of a mutated base.
    struct ConfigCase {
        var base: Int
        var create: Bool
        var mutations: [ConfigMutation]
    }

    func configCase(_ index: Int, seed: UInt64) -> ConfigCase {
        var rng = FuzzRandom(seed: seed, index: index)
        let base = rng.int(0...baseConfigs.count - 1)
        let create = rng.chance(0.3)
        var doc = baseConfigs[base]
        var mutations: [ConfigMutation] = []
        // Mostly one change: with three, nearly every case is refused and the run path goes untested.
        for _ in 0..<rng.pick([1, 1, 1, 1, 2, 2, 3]) {
            let m = ConfigMutation.random(in: doc, fixtures: fixtures, fileKinds: true, using: &rng)
            m.apply(to: &doc)
            mutations.append(m)
        }
        return ConfigCase(base: base, create: create, mutations: mutations)
    }

    func document(_ c: ConfigCase) -> [UInt8] {
        var doc = baseConfigs[c.base]
        for m in c.mutations { m.apply(to: &doc) }
        return ConfigMutation.bytes(of: doc, c.mutations)
    }

    func run(_ c: ConfigCase, index: Int) -> Failure? {
        fixtures.remake(owner: user, isRoot: h.isRoot)
        let config = bundle + "/config.json"
        emptyBundle()
        let kind = c.mutations.lazy.compactMap { m -> ConfigMutation.FileKind? in if case .fileKind(let k) = m.change { return k } else { return nil } }.last
        switch kind {
        case .fifo?: mkfifo(config, 0o644)
        case .zeroLink?: symlink("/dev/zero", config)
        case .directory?: mkdir(config, 0o755)
        case nil: FileManager.default.createFile(atPath: config, contents: Data(document(c)))
        }
        if h.isRoot { lchown(config, user.uid, user.gid) }
        let id = "fz-\(label)-\(index)"
        let argv = c.create ? ["create", "--bundle", bundle, id] : ["run", "--bundle", bundle, id]
        // root.path "." is the bundle itself: mount points made there are the rootfs's, not leftovers.
        let rootfsIsBundle = c.mutations.contains { $0.path.first == .key("root") }
        return check(argv, id: id, created: c.create, detached: false, mayFailToRun: c.mutations.contains(where: \.touchesProcess),
                     bundleIsRootfs: rootfsIsBundle)
    }

    func flagCase(_ index: Int, seed: UInt64) -> FlagCase {
        var rng = FuzzRandom(seed: seed, index: index)
        var c = FlagCase.random(index: index, fixtures: fixtures, processFile: processFile, using: &rng)
        if c.command == .create, !c.items.contains(where: { $0.first == "--bundle" }) { c.items.insert(["--bundle", bundle], at: 0) }
        if c.command == .run, !c.items.contains(where: { $0.first == "--rootfs" }) { c.items.insert(["--rootfs", rootfs], at: 0) }
        return c
    }

    func run(_ c: FlagCase, index: Int, seed: UInt64) -> Failure? {
        fixtures.remake(owner: user, isRoot: h.isRoot)
        emptyBundle()
        // A valid bundle for create, and a process.json for exec --process (mutated half the time).
        var config = baseConfigs[1]
        config.update([.key("process"), .key("args")][...]) { _ in .array([.string("/bin/true")]) }
        FileManager.default.createFile(atPath: bundle + "/config.json", contents: Data(config.text.utf8))
        var rng = FuzzRandom(seed: seed ^ 0x5EED, index: index)
        var process = FuzzWorker.baseProcess
        if rng.chance(0.5) { ConfigMutation.random(in: process, fixtures: fixtures, fileKinds: false, using: &rng).apply(to: &process) }
        FileManager.default.createFile(atPath: processFile, contents: Data(process.text.utf8))
        for f in [bundle + "/config.json", processFile] where h.isRoot { chown(f, user.uid, user.gid) }
        let argv = c.argv(bundle: bundle, execTarget: execTarget)
        let id = c.command == .create ? c.id : c.name
        return check(argv, id: id, created: c.command == .create, detached: c.detached && c.command == .run,
                     mayFailToRun: c.touchesProcess, outputs: c.outputs)
    }

    /// A case that made nook write into the bundle is reported once, not by every case after it.
    func emptyBundle() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: bundle)) ?? [] { try? FileManager.default.removeItem(atPath: bundle + "/" + entry) }
    }

    // MARK: checks

    func nook(_ args: [String], timeout: TimeInterval = 30) throws -> Harness.Result {
        try Harness.shell(h.commandLine(args, as: user, env: ["XDG_RUNTIME_DIR": runtime]), timeout: timeout)
    }

    func status(_ id: String) -> String? {
        guard let r = try? nook(["state", id]), r.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return nil }
        return json["status"] as? String
    }

    /// Runs nook ARGV and checks the outcome; cleans up an accepted container.
    /// Exit 125 must come with a "nook: " line (the message, perhaps after --trace lines or before usage).
    func check(_ argv: [String], id: String?, created: Bool, detached: Bool, mayFailToRun: Bool, outputs: [String] = [],
               bundleIsRootfs: Bool = false) -> Failure? {
        let outcome: (status: Int32, signal: Int32?, stdout: String, stderr: String)
        do { outcome = try spawn(argv) } catch { return Failure(kind: "spawn", detail: "\(error)") }
        var failure: Failure?
        if outcome.status == 0 { accepted += 1 } else if outcome.status == 125 { refused += 1 }
        if let signal = outcome.signal {
            failure = signal == SIGKILL && outcome.stderr.hasPrefix("timed out")
                ? Failure(kind: "hang", detail: "no exit within \(Int(Self.deadline)) s")
                : Failure(kind: "killed by signal \(signal)", detail: tail(outcome.stderr))
        } else {
            switch outcome.status {
            case 0: break
            case 125:
                if !outcome.stderr.split(separator: "\n").contains(where: { $0.hasPrefix("nook: ") }) { failure = Failure(kind: "exit 125 without a 'nook: ' message", detail: tail(outcome.stderr)) }
            case 126, 127 where mayFailToRun: break
            default: failure = Failure(kind: "exit \(outcome.status)", detail: tail(outcome.stderr))
            }
        }
        // Whatever was accepted is removed again, as a user would.
        let runID = id ?? (detached ? outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil)
        if outcome.status == 0, let runID, !runID.isEmpty {
            if created {
                let deleted = try? nook(["delete", "--force", runID])
                if failure == nil, deleted?.status != 0 { failure = Failure(kind: "delete --force after create failed", detail: tail(deleted?.stderr ?? "")) }
            } else if detached {
                let gone = Harness.eventually(Self.deadline) {
                    (try? self.nook(["delete", runID]))?.status == 0 || !FileManager.default.fileExists(atPath: self.runtime + "/nook/" + runID)
                }
                if failure == nil, !gone { failure = Failure(kind: "detached /bin/true never stopped", detail: runID) }
            }
        }
        if let failure = failure ?? leftovers(outputs: outputs, checkBundle: !bundleIsRootfs) {
            reset()
            return failure
        }
        return nil
    }

    /// After a failure: removes what the case left (by id and by pid), so the next case starts clean.
    func reset() {
        for entry in Set(runtimeEntries()).subtracting(baselineRuntime) where entry.hasPrefix("nook/") && !entry.dropFirst(5).contains("/") {
            _ = try? nook(["delete", "--force", String(entry.dropFirst(5))])
            try? FileManager.default.removeItem(atPath: runtime + "/" + entry)
        }
        for pid in userProcesses() where !baselineProcesses.contains(pid) { kill(pid, SIGKILL) }
    }

    func tail(_ text: String) -> String {
        let lines = text.split(separator: "\n").suffix(3).joined(separator: " | ")
        return lines.count > 400 ? String(lines.prefix(400)) + "..." : lines
    }

    /// posix_spawn with a deadline; tells a signal death from an exit code.
    func spawn(_ argv: [String]) throws -> (status: Int32, signal: Int32?, stdout: String, stderr: String) {
        let base = dir + "/out-\(UUID().uuidString)"
        defer { unlink(base + ".out"); unlink(base + ".err") }
        let pid = try Harness.spawn(h.commandLine(argv, as: user, env: ["XDG_RUNTIME_DIR": runtime]),
                                    stdin: "/dev/null", stdout: base + ".out", stderr: base + ".err")
        var raw: Int32 = 0
        var timedOut = false
        let deadline = Date().addingTimeInterval(Self.deadline)
        while waitpid(pid, &raw, WNOHANG) != pid {
            if Date() >= deadline { timedOut = true; kill(pid, SIGKILL); waitpid(pid, &raw, 0); break }
            usleep(2_000)
        }
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (timedOut ? "timed out\n" : "") + ((try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
        if raw & 0x7f != 0 { return (128 + (raw & 0x7f), raw & 0x7f, out, err) }
        return ((raw >> 8) & 0xff, nil, out, err)
    }

    /// `outputs`: files the user asked for (a pid file, a log), not leftovers.
    func leftovers(outputs: [String], checkBundle: Bool = true) -> Failure? {
        var found: [String] = []
        // Processes: a foreground run's are gone when it returns; a detached one's soon after.
        var extra: [Int32] = []
        _ = Harness.eventually(5) {
            extra = self.userProcesses().filter { !self.baselineProcesses.contains($0) }
            return extra.isEmpty
        }
        if !extra.isEmpty {
            found.append("process(es) " + extra.map { "\($0) (\(FuzzWorker.commandLine($0)))" }.joined(separator: ", "))
            for pid in extra { kill(pid, SIGKILL) }
        }
        let entries = runtimeEntries()
        if entries != baselineRuntime { found.append("runtime dir: " + Set(entries).symmetricDifference(baselineRuntime).sorted().joined(separator: ", ")) }
        let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains(dir) }
        if !mounts.isEmpty { found.append("mount(s): " + mounts.joined(separator: "; ")) }
        let cgroups = FuzzWorker.cgroupEntries()
        if !Set(cgroups).subtracting(baselineCgroups).isEmpty { found.append("cgroup(s): " + Set(cgroups).subtracting(baselineCgroups).sorted().joined(separator: ", ")) }
        let stray = Set((try? FileManager.default.contentsOfDirectory(atPath: fixtures.dir)) ?? []).subtracting(fixtures.names)
            .subtracting(outputs.filter { $0.hasPrefix(fixtures.dir + "/") }.map { URL(fileURLWithPath: $0).lastPathComponent })
        if !stray.isEmpty { found.append("file(s) beside the fixtures: " + stray.sorted().joined(separator: ", ")) }
        if (try? String(contentsOfFile: fixtures.victim, encoding: .utf8)) != FuzzFixtures.victimText {
            found.append("wrote through a symlink into \(fixtures.victim)")
        }
        let bundleFiles = ((try? FileManager.default.contentsOfDirectory(atPath: bundle)) ?? []).filter { $0 != "config.json" }
        if checkBundle, !bundleFiles.isEmpty { found.append("file(s) in the bundle: " + bundleFiles.sorted().joined(separator: ", ")) }
        return found.isEmpty ? nil : Failure(kind: "left behind", detail: found.joined(separator: "; "))
    }

    /// Every process whose real uid is this worker's user.
    func userProcesses() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Int32? in
            guard let pid = Int32(name), let status = try? String(contentsOfFile: "/proc/\(name)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
                  line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == "\(user.uid)"[...] else { return nil }
            let state = status.split(separator: "\n").first { $0.hasPrefix("State:") } ?? ""
            return state.contains("Z") ? nil : pid
        }
    }

    static func commandLine(_ pid: Int32) -> String {
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
    }

    /// Files and directories under the runtime dir (the seccomp cache aside), and exec's target.
    func runtimeEntries() -> [String] {
        let all = (FileManager.default.enumerator(atPath: runtime)?.allObjects as? [String]) ?? []
        return all.filter { !$0.hasPrefix("nook/.seccomp") }.sorted()
    }

    /// nook's cgroups beside and below this process's own.
    static func cgroupEntries() -> [String] {
        let env = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        guard let own = env.split(separator: "\n").first(where: { $0.hasPrefix("0::") })?.dropFirst(3) else { return [] }
        var dirs: [String] = []
        for mount in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let ownDir = mount + own
            guard FileManager.default.fileExists(atPath: ownDir) else { continue }
            for d in [ownDir, URL(fileURLWithPath: ownDir).deletingLastPathComponent().path] {
                dirs += ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).filter { $0.hasPrefix("nook-") }.map { d + "/" + $0 }
            }
            break
        }
        return dirs.sorted()
    }
}
