import Foundation
import XCTest

/// The soak of issue 16: many containers, one after another and side by side,
/// in every way one is run (foreground and detached `run`, `create`/`start`/
/// `delete`, OCI `run --bundle`), and afterwards nothing has grown: the test
/// process's open fds, mounts naming this run's files, the test user's
/// processes, nook's state entries. It prints its figures.
///
/// NOOK_SOAK_SEQUENTIAL and NOOK_SOAK_PARALLEL set the counts (defaults 1000 and 100).
final class SoakTests: XCTestCase {
    var h: Harness { Harness.shared }

    static func count(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) }.map { max($0, 0) } ?? fallback
    }

    /// The four ways, each one container's whole life.
    enum Way: Int, CaseIterable {
        case foreground, detached, createStartDelete, ociRun
    }

    /// What must not grow.
    struct Figures: Equatable {
        var fds: Int
        var mounts: Int
        var processes: Set<Int32>
        var states: Set<String>

        func describe() -> String {
            "open fds \(fds), mounts of this run \(mounts), processes of the user \(processes.count), state entries \(states.count)"
        }
    }

    func figures() -> Figures {
        let fds = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
        // Mounts that name this run's files (a rootfs, a state directory): any would be nook's.
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let mounts = mountinfo.split(separator: "\n").filter { $0.contains(h.work) }.count
        // Containers only: nook's own caches start with a dot, which no container name may.
        let states = Set(((try? FileManager.default.contentsOfDirectory(atPath: h.stateDir())) ?? []).filter { !$0.hasPrefix(".") })
        return Figures(fds: fds, mounts: mounts, processes: Set(Self.processes(of: h.user)), states: states)
    }

    /// Live (not zombie) processes of a uid.
    static func processes(of user: Harness.User) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard Harness.isAlive(pid), let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            return status.split(separator: "\n").contains { $0.hasPrefix("Uid:") && $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == "\(user.uid)"[...] }
        }
    }

    /// The soak ends as it began: same fds, no mount, no process, no state entry more.
    func assertNothingGrew(from before: Figures, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var after = figures()
        // Monitors and inits end just after the command that ended them returns.
        _ = Harness.eventually(10) {
            after = figures()
            return after.processes.isSubset(of: before.processes) && after.states.isSubset(of: before.states)
        }
        print("soak \(label): before: \(before.describe()); after: \(after.describe())")
        XCTAssertLessThanOrEqual(after.fds, before.fds, "\(label): the test process's open fds grew", file: file, line: line)
        XCTAssertLessThanOrEqual(after.mounts, before.mounts, "\(label): mounts left", file: file, line: line)
        let left = after.processes.subtracting(before.processes).sorted()
        XCTAssertEqual(left, [], "\(label): processes left: " + left.map { pid in
            "\(pid) " + ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").replacingOccurrences(of: "\u{0}", with: " ")
        }.joined(separator: "; "), file: file, line: line)
        XCTAssertEqual(after.states.subtracting(before.states), [], "\(label): state entries left", file: file, line: line)
    }

    /// A bundle whose process is `args`, in the harness rootfs.
    func bundles() throws -> (sleeper: String, quick: String) {
        (try h.bundle(["sleep", "1000"]), try h.bundle(["sh", "-c", "exit 3"]))
    }

    /// One container's life, the commands one after another; nil when all went
    /// as they should, else what did not.
    func life(_ way: Way, _ i: Int, _ b: (sleeper: String, quick: String)) -> String? {
        let id = "soak-\(getpid())-\(i)"
        func expect(_ args: [String], _ status: Int32, stdout: String? = nil) -> String? {
            guard let r = try? h.run(args) else { return "\(args): not run" }
            if r.status != status { return "\(args.joined(separator: " ")): exit \(r.status), not \(status): \(r.stderr)" }
            if let stdout, r.stdout != stdout { return "\(args.joined(separator: " ")): printed \(r.stdout.debugDescription)" }
            return nil
        }
        switch way {
        case .foreground:
            return expect(["run", "--rootfs", h.rootfs, "--", "sh", "-c", "echo \(i); exit 3"], 3, stdout: "\(i)\n")
        case .detached:
            return expect(["run", "-d", "--name", id, "--rootfs", h.rootfs, "--", "sleep", "1000"], 0)
                ?? expect(["rm", "-f", id], 0, stdout: id + "\n")
        case .createStartDelete:
            return expect(["create", "--bundle", b.sleeper, id], 0) ?? expect(["start", id], 0)
                ?? expect(["delete", "--force", id], 0)
        case .ociRun:
            return expect(["run", "--bundle", b.quick, id], 3)
        }
    }

    func testSequential() throws {
        let n = Self.count("NOOK_SOAK_SEQUENTIAL", 1000)
        let b = try bundles()
        let clones = Harness.CloneBaseline(of: h.user)
        let before = figures()
        let start = Date()
        var failures: [String] = []
        for i in 0..<n {
            if let failure = life(Way(rawValue: i % Way.allCases.count)!, i, b) { failures.append(failure) }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "soak sequential: %d passed, %d failed in %.1f s (%.1f ms per container)",
                     n - failures.count, failures.count, seconds, n > 0 ? seconds * 1000 / Double(n) : 0))
        XCTAssertEqual(failures.count, 0, failures.prefix(5).joined(separator: "\n"))
        assertNothingGrew(from: before, "sequential")
        XCTAssertEqual(clones.added(), [], "nook clones left")
    }

    /// All `n` at once, a quarter each way: every step of every life starts
    /// together (all creates, then all starts, ...), so they overlap for real.
    func testParallel() throws {
        let n = Self.count("NOOK_SOAK_PARALLEL", 100)
        let b = try bundles()
        let clones = Harness.CloneBaseline(of: h.user)
        let before = figures()
        let start = Date()
        let ways = (0..<n).map { Way(rawValue: $0 % Way.allCases.count)! }
        let ids = (0..<n).map { "soakp-\(getpid())-\($0)" }
        var failed = Set<Int>()
        var reasons: [String] = []

        /// Starts one command per container still going, then waits for all.
        func wave(_ command: (Int) -> (args: [String], status: Int32)?) throws {
            var running: [(Int, Harness.Background, Int32)] = []
            for i in 0..<n where !failed.contains(i) {
                guard let (args, status) = command(i) else { continue }
                running.append((i, try h.start(args), status))
            }
            for (i, process, status) in running {
                let code = process.wait(timeout: 120)
                if code != status {
                    failed.insert(i)
                    reasons.append("\(ways[i]) \(ids[i]): exit \(code), not \(status): \(process.stderrText)")
                }
            }
        }
        try wave { i in
            switch ways[i] {
            case .foreground: (["run", "--rootfs", h.rootfs, "--", "sh", "-c", "exit 3"], 3)
            case .detached: (["run", "-d", "--name", ids[i], "--rootfs", h.rootfs, "--", "sleep", "1000"], 0)
            case .createStartDelete: (["create", "--bundle", b.sleeper, ids[i]], 0)
            case .ociRun: (["run", "--bundle", b.quick, ids[i]], 3)
            }
        }
        try wave { i in ways[i] == .createStartDelete ? (["start", ids[i]], 0) : nil }
        try wave { i in
            switch ways[i] {
            case .detached: (["rm", "-f", ids[i]], 0)
            case .createStartDelete: (["delete", "--force", ids[i]], 0)
            default: nil
            }
        }
        // A life that failed half-way is ended here, so that what it left is not counted twice.
        for i in failed { _ = try? h.run(["delete", "--force", ids[i]]) }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "soak parallel: %d passed, %d failed in %.1f s", n - failed.count, failed.count, seconds))
        XCTAssertEqual(failed.count, 0, reasons.prefix(5).joined(separator: "\n"))
        assertNothingGrew(from: before, "parallel")
        XCTAssertEqual(clones.added(), [], "nook clones left")
    }
}
