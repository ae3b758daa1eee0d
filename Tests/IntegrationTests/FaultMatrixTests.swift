import Foundation
import XCTest

/// The kill -9 matrix (issues 15 and 16): `run`, `run -d`, `create`, `start`,
/// `exec`, `delete` and `rm` killed with SIGKILL at every step the runtime
/// names (`FaultPoint`, debug builds: the process stops itself there and is
/// killed stopped, so the step is certain) and after a sweep of delays. After
/// each kill, the next command that touches the container must work on what
/// is left, `nook list` must tell the truth, and once the container is
/// deleted nothing of it may survive: no process, no state entry, nothing
/// under a hidden name. Prints what it tried: "N passed, N failed".
final class FaultMatrixTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// One kill: which command, where it dies, and what runs next.
    struct Case {
        enum Kind: String { case run, runDetached = "run -d", create, start, exec, stop, delete, rm }
        var kind: Kind
        /// A FaultPoint name, or nil to kill after `delayMS`.
        var point: String?
        var delayMS = 0
        /// The first command after the kill (ID stands for the container's name).
        var next: [String]
        /// `--network pasta`: its helper must not outlive the container either.
        var network: String?
        /// Killing this command must leave the container running: `nook exec`
        /// is not its supervisor, nor is `nook run -d` once its monitor exists.
        var containerSurvives: Bool { kind == .exec || (kind == .runDetached && point == "detach.spawned") }
        /// Whether the killed process is certainly the one creating the container
        /// (`run -d` killed after a delay may have handed it to a monitor already).
        var killedCreator: Bool {
            kind == .run || kind == .create || (kind == .runDetached && point != nil && point != "detach.spawned")
        }
        var label: String { "\(kind.rawValue)\(network.map { " --network \($0)" } ?? "") killed \(point.map { "at \($0)" } ?? "after \(delayMS) ms"), then nook \(next.joined(separator: " "))" }
    }

    /// Every point each command passes, in order.
    static let points: [Case.Kind: [String]] = [
        .run: ["run.reserved", "run.prepared", "run.cloned", "run.launched", "run.running", "run.exited"],
        .runDetached: ["detach.spawned", "run.reserved", "run.prepared", "run.cloned", "run.launched", "run.running"],
        .create: ["create.reserved", "create.prepared", "create.cloned", "create.launched", "create.ready", "create.created"],
        .start: ["start.locked", "start.opened", "start.released", "start.recorded"],
        .exec: ["exec.prepared", "exec.spawned"],
        .stop: ["stop.signalled", "kill.stopped"],
        .delete: ["kill.stopped", "delete.killed", "delete.locked", "remove.renamed"],
        .rm: ["kill.stopped", "delete.killed", "delete.locked", "remove.renamed"],
    ]
    /// What may come next: each command that touches a container, in turn.
    static let nextCommands: [Case.Kind: [[String]]] = [
        .run: [["list"], ["run", "SAME"], ["rm", "ID"], ["ps", "-a"], ["delete", "ID"], ["state", "ID"]],
        .runDetached: [["ps", "-a"], ["run", "SAME"], ["rm", "ID"], ["list"], ["stop", "-t", "0", "ID"], ["state", "ID"]],
        .create: [["state", "ID"], ["list"], ["delete", "ID"], ["create", "SAME"], ["start", "ID"], ["kill", "ID", "KILL"]],
        .start: [["state", "ID"], ["list"], ["start", "ID"], ["kill", "ID", "KILL"], ["delete", "ID"], ["ps", "ID"]],
        .exec: [["list"], ["exec", "ID", "--", "true"], ["ps", "ID"], ["stop", "-t", "0", "ID"]],
        .stop: [["ps", "-a"], ["stop", "-t", "0", "ID"], ["rm", "ID"], ["exec", "ID", "--", "true"]],
        .delete: [["list"], ["delete", "ID"], ["state", "ID"], ["create", "SAME"]],
        .rm: [["ps", "-a"], ["rm", "ID"], ["run", "SAME"], ["list"]],
    ]
    static let delaysMS = [0, 4, 8, 15, 30, 60]

    static func cases() -> [Case] {
        var all: [Case] = []
        for kind in [Case.Kind.run, .runDetached, .create, .start, .exec, .stop, .delete, .rm] {
            let nexts = nextCommands[kind]!
            var n = 0
            for point in points[kind]! {
                all.append(Case(kind: kind, point: point, next: nexts[n % nexts.count]))
                n += 1
            }
            for delay in delaysMS where [.run, .runDetached, .create, .start].contains(kind) || delay % 15 == 0 {
                all.append(Case(kind: kind, point: nil, delayMS: delay, next: nexts[n % nexts.count]))
                n += 1
            }
        }
        if Harness.isInstalled("pasta") {
            for (kind, point, next) in [(Case.Kind.run, "run.cloned", ["list"]), (.run, "run.running", ["run", "SAME"]),
                                        (.runDetached, "run.launched", ["ps", "-a"]), (.runDetached, "run.running", ["rm", "ID"])] {
                all.append(Case(kind: kind, point: point, next: next, network: "pasta"))
            }
        }
        return all
    }

    func testKillNineMatrix() throws {
        let bundle = try h.bundle(["sleep", "1000"])
        var failures: [String] = []
        let all = Self.cases()
        for c in all {
            let problems = try run(c, bundle: bundle)
            if !problems.isEmpty { failures.append(c.label + ":\n    " + problems.joined(separator: "\n    ")) }
        }
        print("FaultMatrix: \(all.count - failures.count) passed, \(failures.count) failed")
        for f in failures { print("FaultMatrix FAILED: " + f) }
        XCTAssertEqual(failures, [], "\(failures.count) of \(all.count) kill -9 cases left something wrong")
    }

    /// A number no other process has on its command line: what the container runs.
    static func marker() -> String { "\(1_000_000 + Int.random(in: 0..<8_000_000))" }

    /// Runs one case; returns what went wrong (empty: nothing).
    func run(_ c: Case, bundle: String) throws -> [String] {
        var problems: [String] = []
        let baseline = Harness.CloneBaseline(of: h.user)
        let id = Harness.name("fault")
        let mark = Self.marker()
        let execMark = Self.marker()
        let runArgs = ["--name", id, "--rootfs", h.rootfs] + (c.network.map { ["--network", $0] } ?? []) + ["--", "sleep", mark]
        let ociBundle = try h.bundle(["sleep", mark])
        func expect(_ args: [String], _ what: String) throws {
            let r = try h.run(args)
            if r.status != 0 { problems.append("setup '\(what)' failed: \(r.stderr)") }
        }

        // The container the command under test works on, where it needs one.
        switch c.kind {
        case .start: try expect(["create", "--bundle", ociBundle, id], "create")
        case .exec, .stop, .rm: try expect(["run", "-d"] + runArgs, "run -d")
        case .delete:
            try expect(["create", "--bundle", ociBundle, id], "create")
            try expect(["start", id], "start")
        default: break
        }
        guard problems.isEmpty else { return problems }

        let target: [String]
        switch c.kind {
        case .run: target = ["run"] + (c.point == "run.exited" ? ["--name", id, "--rootfs", h.rootfs, "--", "true"] : runArgs)
        case .runDetached: target = ["run", "-d"] + runArgs
        case .create: target = ["create", "--bundle", ociBundle, id]
        case .start: target = ["start", id]
        case .exec: target = ["exec", id, "--", "sleep", execMark]
        case .stop: target = ["stop", "-t", "0", id]
        case .delete: target = ["delete", "--force", id]
        case .rm: target = ["rm", "-f", id]
        }
        let report = h.work + "/fault-\(id)"
        var env: [String: String] = [:]
        if let point = c.point { env = ["NOOK_FAULT_STOP": point, "NOOK_FAULT_REPORT": report] }
        let process = try h.start(target, env: env)
        if let point = c.point {
            // The process (this one, or its monitor) stops itself at the point: kill it there.
            var stopped: Int32?
            _ = Harness.eventually(30) {
                let line = (try? String(contentsOfFile: report, encoding: .utf8))?.split(separator: "\n").first
                if let pid = line.flatMap({ Int32($0.split(separator: " ").last ?? "") }), Self.isStopped(pid) { stopped = pid }
                return stopped != nil || (!Harness.isAlive(process.pid) && line == nil)
            }
            unlink(report)
            guard let pid = stopped else {
                _ = kill(process.pid, SIGKILL)
                _ = process.wait()
                return problems + ["never reached \(point) (exit \(process.wait())): \(process.stderrText)"]
            }
            kill(pid, SIGKILL)
            if pid != process.pid { _ = Harness.eventually(10) { !Harness.isAlive(pid) } }
        } else {
            usleep(useconds_t(c.delayMS * 1000))
            kill(process.pid, SIGKILL)
        }
        _ = process.wait()
        if c.containerSurvives && !Harness.eventually(10, { !processes(with: mark).isEmpty }) {
            problems.append("the container did not survive the kill of a command that does not supervise it")
        }

        // The next command works on what is left.
        let next = c.next.flatMap { arg -> [String] in
            switch arg {
            case "ID": return [id]
            case "SAME": return c.kind == .create || c.kind == .start || c.kind == .delete
                ? ["--bundle", ociBundle, id] : ["-d"] + runArgs
            default: return [arg]
            }
        }
        let first = try h.run(next, timeout: 30)
        if first.status != 0 && first.status != 125 && first.status != 1 {
            problems.append("nook \(next.joined(separator: " ")) ended with \(first.status): \(first.stderr)")
        }
        if c.killedCreator && (first.stderr.contains("creating") || first.stdout.contains("creating")) {
            problems.append("nook \(next.joined(separator: " ")) still shows 'creating' after the creator died: \(first.stdout)\(first.stderr)")
        }
        let (truth, listed) = checkTruth(id: id, mark: mark, after: next)
        problems += truth

        if first.status != 0 { problems += checkRefusal(first, next: next, listed: listed, creatorKilled: c.killedCreator) }

        // Delete, then nothing of it may be left.
        let deleted = try h.run(["delete", "--force", id], timeout: 30)
        if deleted.status != 0 { problems.append("delete --force after the kill failed: \(deleted.stderr)") }
        if FileManager.default.fileExists(atPath: h.stateDir() + "/" + id) { problems.append("its state directory survived delete --force") }
        let hidden = ((try? FileManager.default.contentsOfDirectory(atPath: h.stateDir())) ?? []).filter { name in [".new-", ".gone-", ".pending-"].contains { name.hasPrefix($0) } }
        if !hidden.isEmpty { problems.append("left under hidden names: \(hidden)") }
        for m in [mark, execMark] where !Harness.eventually(10, { processes(with: m).isEmpty }) {
            problems.append("its command survived: pids \(processes(with: m))")
        }
        if !Harness.eventually(10, { baseline.added().isEmpty }) { problems.append("nook clones survived: \(baseline.added())") }
        if !Harness.eventually(10, { networkHelpers().isEmpty }) { problems.append("network helpers survived: \(networkHelpers())") }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        if mounts.contains(id) { problems.append("a host mount names it: \(mounts.split(separator: "\n").filter { $0.contains(id) })") }
        return problems
    }

    /// `nook list` agrees with the process table: a listed container's process
    /// is alive, in the state listed; an unlisted or stopped one has no process.
    /// Also returns whether the container is listed. A signal the next command
    /// sent may still be on its way: the listing must agree once it has landed.
    func checkTruth(id: String, mark: String, after next: [String]) -> ([String], Bool) {
        var problems: [String] = []
        var listed = false
        _ = Harness.eventually(10) {
            guard let list = try? h.run(["list", "--format", "json"]), list.status == 0,
                  let entries = try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] else {
                problems = ["nook list failed"]
                return false
            }
            let entry = entries.first { $0["id"] as? String == id }
            listed = entry != nil
            problems = truth(of: entry, mark: mark, after: next)
            return problems.isEmpty
        }
        return (problems, listed)
    }

    func truth(of entry: [String: Any]?, mark: String, after next: [String]) -> [String] {
        let status = entry?["status"] as? String ?? "absent"
        let pid = Int32(entry?["pid"] as? Int ?? 0)
        let running = processes(with: mark)
        switch status {
        case "created":
            if !Harness.isAlive(pid) { return ["listed created, but its process \(pid) is gone"] }
            if !running.isEmpty { return ["listed created, but its command already runs (pids \(running))"] }
        case "running":
            if !Harness.isAlive(pid) { return ["listed running, but its process \(pid) is gone"] }
            if running.isEmpty && next.first != "exec" { return ["listed running, but its command does not run"] }
        case "stopped", "absent":
            if !Harness.eventually(10, { processes(with: mark).isEmpty }) {
                return ["listed \(status), but its command still runs (pids \(processes(with: mark)))"]
            }
        default:
            return ["listed as '\(status)' after every command on it was killed"]
        }
        return []
    }

    /// A refused next command must say why and name a command that works.
    /// A name may stay taken only by a container that is still listed.
    /// A creation in progress may be refused only while its creator lives (a
    /// `run -d` killed after a delay may have handed it to its monitor).
    func checkRefusal(_ r: Harness.Result, next: [String], listed: Bool, creatorKilled: Bool) -> [String] {
        if creatorKilled && (r.stderr.contains("being created") || r.stderr.contains("has no state yet")) {
            return ["nook \(next.joined(separator: " ")) refused a container whose creator is dead: \(r.stderr)"]
        }
        if (next.first == "run" || next.first == "create") && !listed {
            return ["the name is still taken: \(r.stderr)"]
        }
        return []
    }

    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first == "T"
    }

    /// The test user's pasta and slirp4netns processes (no other test starts them as this user meanwhile).
    func networkHelpers() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                  comm.hasPrefix("pasta") || comm.hasPrefix("slirp4netns"),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first
            return uid == "\(h.user.uid)"[...] && Harness.isAlive(pid)
        }
    }

    /// Pids whose command line is `sleep MARK`.
    func processes(with mark: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) == "sleep\0\(mark)\0" && Harness.isAlive(pid)
        }
    }
}
