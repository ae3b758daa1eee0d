import Foundation
import XCTest

/// Detached containers without a daemon: each has its own monitor, and every
/// `nook` command works from the state on disk.
final class DetachedTests: XCTestCase {
    var h: Harness { Harness.shared }

    func detach(_ name: String, _ command: [String], flags: [String] = []) throws {
        let r = try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs] + flags + ["--"] + command)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, name + "\n", "run -d prints the ID")
    }

    func state(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func psRows() throws -> [[String: Any]] {
        let r = try h.run(["ps", "-a", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    }

    func row(_ name: String) throws -> [String: Any]? { try psRows().first { $0["id"] as? String == name } }

    /// `nook run -d --trace ... | cat` lasted as long as the container: the
    /// monitor kept the caller's stderr. It lets go once the container runs.
    func testTraceOfADetachedRunLetsGoOfTheCallersStderr() throws {
        let name = Harness.name("dtrace")
        defer { _ = try? h.run(["rm", "-f", name]) }
        let line = h.commandLine(["run", "-d", "--trace", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "120"])
        let quoted = line.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        // The pipe ends when every writer has let go; a hang here is the bug (the container sleeps 120 s).
        let r = try Harness.shell(["/bin/sh", "-c", quoted + " 2>&1 | cat"], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("trace: "), "the setup was traced: \(r.stdout)")
        XCTAssertTrue(r.stdout.hasSuffix(name + "\n"), r.stdout)
        XCTAssertEqual(try h.run(["inspect", name]).stdout.contains("\"status\" : \"running\""), true)
    }

    /// `run -d --trace` names the monitor it starts and what the monitor
    /// reported, and both are what the kernel and the state say: the monitor
    /// leads its own session, and the pids are the recorded ones.
    func testTraceOfADetachedRunNamesItsMonitor() throws {
        let name = Harness.name("dmon")
        defer { _ = try? h.run(["rm", "-f", name]) }
        let r = try h.run(["run", "-d", "--trace", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "120"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("trace: monitor: fork + setsid + execve(") == true, r.stderr)
        XCTAssertTrue(lines.first?.contains("\"__monitor\", \"--root\"") == true, r.stderr)
        let report = try XCTUnwrap(lines.last?.firstMatch(of: #/^trace: monitor: read\(report pipe\) = "ok (\d+)" from monitor pid (\d+) -- /#), r.stderr)
        XCTAssertTrue(lines.dropLast().last?.hasPrefix("trace: exec: execve(\"/bin/sleep\"") == true, "the monitor's own lines come between: \(r.stderr)")
        let state = try state(name)
        XCTAssertEqual(Int(report.output.1), state["pid"] as? Int, "the container's pid")
        XCTAssertEqual(Int(report.output.2), state["monitorPID"] as? Int, "the monitor's pid")
        let stat = try String(contentsOfFile: "/proc/\(report.output.2)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try XCTUnwrap(stat.lastIndex(of: ")")))...].split(separator: " ")
        XCTAssertEqual(fields.count > 3 ? String(fields[3]) : nil, String(report.output.2), "setsid: the monitor leads its own session")
    }

    /// `exec --trace` shows the join in the order the kernel needs it (user
    /// first, mount last), the fork into the PID namespace right after, and
    /// the wait on that same process.
    func testTraceOfExecShowsTheJoinForkAndWait() throws {
        let name = Harness.name("xtrace")
        defer { _ = try? h.run(["rm", "-f", name]) }
        try detach(name, ["sleep", "120"])
        let r = try h.run(["exec", "--trace", name, "--", "sh", "-c", "echo in-the-container"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "in-the-container\n")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let initPID = try XCTUnwrap(try state(name)["pid"] as? Int)
        let setns = lines.filter { $0.hasPrefix("trace: setns: ") }
        XCTAssertEqual(setns.first, "trace: setns: setns(open(\"/proc/\(initPID)/ns/user\"), CLONE_NEWUSER) -- enter the user namespace given by path")
        XCTAssertEqual(setns.last, "trace: setns: setns(open(\"/proc/\(initPID)/ns/mnt\"), CLONE_NEWNS) -- enter the mount namespace given by path")
        let lastSetns = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("trace: setns: ") })
        XCTAssertTrue(lines.first?.hasPrefix("trace: cgroup: ") == true, r.stderr)
        let fork = try XCTUnwrap(lines[lastSetns + 1].firstMatch(of: #/^trace: fork: clone3\(CLONE_PARENT\) = pid (\d+) -- /#), r.stderr)
        let exit = try XCTUnwrap(lines.last?.firstMatch(of: #/^trace: exit: waitpid\((\d+)\) = exited\(0\) -- the process ended; the container runs on$/#), r.stderr)
        XCTAssertEqual(fork.output.1, exit.output.1, "nook waits for the process the helper forked")
        XCTAssertTrue(Harness.isAlive(Int32(initPID)), "the container runs on")
    }

    func testKillingOneMonitorOrInitTouchesNoOtherContainer() throws {
        let names = (0..<3).map { Harness.name("d\($0)") }
        for name in names { try detach(name, ["sleep", "60"]) }
        let monitors = try names.map { try XCTUnwrap(try state($0)["monitorPID"] as? Int).int32 }
        let inits = try names.map { try XCTUnwrap(try state($0)["pid"] as? Int).int32 }
        XCTAssertTrue(monitors.allSatisfy(Harness.isAlive) && inits.allSatisfy(Harness.isAlive))

        XCTAssertEqual(kill(monitors[0], SIGKILL), 0)   // the first container's monitor
        XCTAssertEqual(kill(inits[1], SIGKILL), 0)      // the second container's init
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(inits[0]) }, "a container dies with its monitor")
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(monitors[1]) }, "a monitor ends with its container")
        XCTAssertTrue(Harness.isAlive(inits[2]) && Harness.isAlive(monitors[2]), "the third never noticed")

        XCTAssertTrue(Harness.eventually(10) { (try? self.row(names[1]))?["describedStatus"] as? String == "exited (137)" })
        XCTAssertEqual(try row(names[0])?["describedStatus"] as? String, "stopped (monitor killed)")
        XCTAssertEqual(try row(names[2])?["describedStatus"] as? String, "running")

        for name in names { XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0) }
        for name in names { XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "state of \(name) removed") }
        XCTAssertFalse(Harness.isAlive(inits[2]), "rm -f killed the running one")
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(monitors[2]) })
    }

    func testExecIntoAnInitContainer() throws {
        // The --init process is not dumpable (its /proc/PID/ns belong to root):
        // exec joins the namespaces through the command it started instead.
        let name = Harness.name("initexec")
        try detach(name, ["sleep", "60"], flags: ["--init", "--hostname", "inside"])
        let r = try h.run(["exec", name, "--", "hostname"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "inside\n")
        XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
    }

    func testLogsFollowWaitAndExitCode() throws {
        let name = Harness.name("logs")
        try detach(name, ["sh", "-c", "for i in 1 2 3 4; do echo out$i; echo err$i >&2; sleep 0.3; done; exit 3"])
        let follow = try h.run(["logs", "-f", name], timeout: 30)
        XCTAssertEqual(follow.status, 0, follow.stderr)
        for i in 1...4 { XCTAssertTrue(follow.stdout.contains("out\(i)\n") && follow.stdout.contains("err\(i)\n"), follow.stdout) }
        let wait = try h.run(["wait", name])
        XCTAssertEqual(wait.status, 3)
        XCTAssertEqual(wait.stdout, "3\n")
        let tail = try h.run(["logs", "--tail", "1", name])
        XCTAssertEqual(tail.stdout.split(separator: "\n").count, 1, tail.stdout)
        XCTAssertEqual(try row(name)?["describedStatus"] as? String, "exited (3)")
        XCTAssertEqual(try h.run(["rm", name]).status, 0)
    }

    func testStopWaitsForTheTimeoutThenKills() throws {
        let name = Harness.name("stop")
        try detach(name, ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"])
        let started = Date()
        let r = try h.run(["stop", "-t", "2", name])
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThanOrEqual(took, 2.0, "TERM was ignored: stop waited for its timeout")
        XCTAssertEqual(try row(name)?["describedStatus"] as? String, "exited (137)", "then KILL")
        let refused = try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "true"])
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("a container named '\(name)' already exists"), refused.stderr)
        XCTAssertEqual(try h.run(["rm", name]).status, 0)
    }

    func testRemoveOnExitAndErrorsComeBackToTheCaller() throws {
        let name = Harness.name("rm")
        try detach(name, ["true"], flags: ["--rm"])
        XCTAssertTrue(Harness.eventually(10) { !FileManager.default.fileExists(atPath: self.h.stateDir() + "/\(name)") })
        let bad = try h.run(["run", "-d", "--name", Harness.name("bad"), "--rootfs", "/nonexistent-rootfs", "--", "true"])
        XCTAssertEqual(bad.status, 125)
        // The monitor's error crosses its pipe whole (kind, hint, exit code): the
        // caller prints what a foreground run prints, byte for byte.
        XCTAssertEqual(bad.stderr, "nook: rootfs '/nonexistent-rootfs' does not exist (hint: make one with: nook rootfs busybox /nonexistent-rootfs)\n")
        let missing = try h.run(["run", "-d", "--rootfs", h.rootfs, "--", "no-such-command"])
        XCTAssertEqual(missing.status, 127, missing.stderr)
        let foreground = try h.run(["run", "--rootfs", h.rootfs, "--", "no-such-command"])
        XCTAssertEqual(foreground.status, 127, foreground.stderr)
        XCTAssertEqual(missing.stderr, foreground.stderr)
        XCTAssertTrue(missing.stderr.hasPrefix("nook: exec 'no-such-command': not found in the container: no such file or directory (hint: looked in PATH="),
                      missing.stderr)
    }

    func testNoNookProcessButMonitorsAndNoListeningSocket() throws {
        let name = Harness.name("quiet")
        try detach(name, ["sleep", "30"])
        let monitor = try XCTUnwrap(try state(name)["monitorPID"] as? Int).int32
        // Every process running nook (the binary, or a sealed copy started as
        // it: argv[0]) is a monitor.
        let nookPIDs = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).compactMap(Int32.init).filter { pid in
            let argv0 = ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\0").first
            return argv0.map(String.init) == h.nook || (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == h.nook
        }
        for pid in nookPIDs {
            let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            XCTAssertTrue(cmd.contains("__monitor"), "pid \(pid) is a monitor: \(cmd)")
        }
        XCTAssertTrue(nookPIDs.contains(monitor))
        // The monitor holds no socket at all (so none that listens).
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(monitor)/fd")) ?? []
        for fd in fds {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(monitor)/fd/\(fd)")) ?? ""
            XCTAssertFalse(target.hasPrefix("socket:"), "fd \(fd) -> \(target)")
        }
        XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
    }

    func testAnotherUserCannotSeeOrTouchTheContainers() throws {
        try XCTSkipUnless(h.isRoot, "needs root to act as a second user")
        let name = Harness.name("mine")
        try detach(name, ["sleep", "30"])
        let other = try h.run(["ps", "-a"], as: Harness.withoutRange)
        XCTAssertFalse(other.stdout.contains(name), "another user's nook ps does not list it")
        let peek = try h.run(["--root", h.stateDir(), "ps", "-a"], as: Harness.withoutRange)
        XCTAssertEqual(peek.status, 125)
        XCTAssertTrue(peek.stderr.contains("belongs to uid \(h.user.uid)"), peek.stderr)
        let kill = try h.run(["--root", h.stateDir(), "rm", "-f", name], as: Harness.withoutRange)
        XCTAssertEqual(kill.status, 125)
        XCTAssertTrue(Harness.isAlive(try XCTUnwrap(try state(name)["pid"] as? Int).int32))
        XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
    }
}

extension Int {
    var int32: Int32 { Int32(self) }
}
