import Foundation
import XCTest

/// `nook run` for people: terminals, stdin, signals, the init, and ids.
final class InteractiveTests: XCTestCase {
    var h: Harness { Harness.shared }

    func pty(_ args: [String], rows: UInt16 = 24, cols: UInt16 = 80) throws -> PtySession {
        try PtySession(h.commandLine(["run", "--rootfs", h.rootfs] + args), rows: rows, cols: cols)
    }

    func testStdinIsATerminalOnlyWithT() throws {
        let session = try pty(["-t", "--", "sh", "-c", "test -t 0 && test -t 1 && echo IS-A-TTY; tty"])
        XCTAssertEqual(session.wait(), 0)
        XCTAssertTrue(session.output.contains("IS-A-TTY"), session.output)
        XCTAssertTrue(session.output.contains("/dev/pts/0"), "the container's own pty instance: \(session.output)")
        let plain = try h.run(["run", "--rootfs", h.rootfs, "--", "sh", "-c", "test -t 0 || echo not-a-tty"])
        XCTAssertEqual(plain.stdout, "not-a-tty\n")
    }

    func testCtrlCReachesTheContainerNotNook() throws {
        let session = try pty(["-it", "--", "sh"])
        XCTAssertTrue(session.expect("# "), session.output)
        session.send("sleep 100\n")
        usleep(300_000)
        session.clear()
        session.send("\u{03}")
        usleep(300_000)
        session.send("echo rc=$?\n")
        XCTAssertTrue(session.expect("rc=130"), "SIGINT from the pty killed the container's sleep (128+2): \(session.output)")
        session.clear()
        session.send("echo still-$((40+2))\n")
        XCTAssertTrue(session.expect("still-42"), "the shell (and nook) survived Ctrl-C: \(session.output)")
        session.send("exit 3\n")
        XCTAssertEqual(session.wait(), 3)
    }

    func testWindowSizeReachesTheContainer() throws {
        let session = try pty(["-it", "--", "sh"], rows: 30, cols: 100)
        XCTAssertTrue(session.expect("# "))
        session.send("stty size\n")
        XCTAssertTrue(session.expect("30 100"), session.output)
        session.clear()
        session.resize(rows: 40, cols: 120)
        usleep(200_000)
        session.send("stty size\n")
        XCTAssertTrue(session.expect("40 120"), "SIGWINCH carried the new size: \(session.output)")
        session.send("exit\n")
        XCTAssertEqual(session.wait(), 0)
    }

    /// The pty has the caller's size before the command starts, not some time
    /// after it: a command that asks at once (`stty size` as the first thing
    /// it does) must never see 0x0. Busybox's stty reports a 0x0 size as an
    /// error with a stale errno, which is how this showed up: "stty: standard
    /// input: No child processes" in about one `-t` run in ten.
    func testWindowSizeIsSetBeforeTheCommandStarts() throws {
        var failures: [String] = []
        for run in 1...30 {
            let session = try pty(["-t", "--", "stty", "size"], rows: 30, cols: 100)
            let status = session.wait()
            let lines = session.output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            if status != 0 || lines != ["30 100"] {
                failures.append("run \(run): status \(status.map(String.init) ?? "timeout"), output \(session.output.debugDescription)")
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of 30 runs did not see the size")
    }

    func testTraceDoesNotGarbleATerminalSession() throws {
        let session = try pty(["-it", "--trace", "--", "sh", "-c", "read line; echo got:$line"])
        XCTAssertTrue(session.expect("trace: exec:"))
        usleep(200_000)
        session.send("hello\n")
        XCTAssertEqual(session.wait(), 0)
        XCTAssertTrue(session.output.contains("got:hello"), session.output)
        let traceLines = session.output.split(separator: "\n").filter { $0.contains("trace: ") }
        XCTAssertFalse(traceLines.isEmpty)
        for line in traceLines { XCTAssertTrue(line.hasPrefix("trace: ") || line.hasPrefix("\rtrace: "), "trace lines start at column 0: \(line)") }
    }

    func testStdinOnlyWithI() throws {
        let data = Data("from the host\n".utf8)
        let without = try h.run(["run", "--rootfs", h.rootfs, "--", "cat"], stdin: data)
        XCTAssertEqual(without.stdout, "", "without -i the container's stdin is /dev/null, as podman does")
        let with = try h.run(["run", "-i", "--rootfs", h.rootfs, "--", "cat"], stdin: data)
        XCTAssertEqual(with.stdout, "from the host\n")
    }

    func testBinaryDataThroughPipes() throws {
        var bytes = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        bytes.append(contentsOf: [0, 255, 13, 10, 4, 3])
        let out = try Harness.shell(h.commandLine(["run", "-i", "--rootfs", h.rootfs, "--", "sh", "-c", "cat | md5sum"]), stdin: bytes)
        let expected = try Harness.shell(["/usr/bin/md5sum"], stdin: bytes)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout.prefix(32), expected.stdout.prefix(32))
    }

    func testSignalsAreForwardedToTheContainer() throws {
        let signals: [(Int32, String, Int32)] = [(SIGTERM, "TERM", 41), (SIGINT, "INT", 42), (SIGHUP, "HUP", 43),
                                                 (SIGUSR1, "USR1", 44), (SIGUSR2, "USR2", 45), (SIGQUIT, "QUIT", 46)]
        for (sig, name, code) in signals {
            let ready = try h.scratch("sig")
            let bg = try h.start(["run", "--rootfs", h.rootfs, "-v", "\(ready):/ready", "--", "sh", "-c",
                                  "trap 'exit \(code)' \(name); touch /ready/go; while true; do sleep 0.05; done"])
            XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: ready + "/go") })
            kill(bg.pid, sig)
            XCTAssertEqual(bg.wait(), code, "SIG\(name) reached the container's shell")
        }
    }

    func testInitForwardsTermAndExitsWithTheCommandsStatus() throws {
        let name = Harness.name("init")
        let bg = try h.start(["run", "--init", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "30"])
        let stateFile = h.stateDir() + "/\(name)/state.json"
        XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: stateFile) })
        let pid = try Self.containerPID(stateFile)
        XCTAssertTrue(Harness.eventually { Harness.children(of: pid).count == 1 }, "init has the command as its child")
        kill(bg.pid, SIGTERM)
        XCTAssertEqual(bg.wait(), 143, "TERM killed sleep (not PID 1 under --init): 128+15")
    }

    func testInitReapsOrphanedZombies() throws {
        let r = try h.run(["run", "--init", "--rootfs", h.rootfs, "--", "sh", "-c",
                           "(sleep 0.1 &); sleep 0.8; ps -o pid,stat,comm; cat /proc/1/comm"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertFalse(lines.contains { $0.contains(" Z ") }, "no zombie left: \(r.stdout)")
        XCTAssertEqual(lines.last, "nook", "PID 1 is Nook's init, not the command")
    }

    func testSigkillOfNookLeavesNoContainerProcess() throws {
        let name = Harness.name("kill9")
        let bg = try h.start(["run", "--init", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "sleep 60 & sleep 60 & wait"])
        let stateFile = h.stateDir() + "/\(name)/state.json"
        XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: stateFile) })
        let pid = try Self.containerPID(stateFile)
        XCTAssertTrue(Harness.eventually { Self.descendants(of: pid).count >= 3 })
        let tree = [pid] + Self.descendants(of: pid)
        kill(bg.pid, SIGKILL)
        _ = bg.wait()
        XCTAssertTrue(Harness.eventually { tree.allSatisfy { !Harness.isAlive($0) } }, "every process of the container died: \(tree.filter(Harness.isAlive))")
        XCTAssertEqual(try h.run(["run", "--rootfs", h.rootfs, "--", "true"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "the next command cleaned the stale state")
    }

    func testSubIDRangeGivesASecondMapping() throws {
        // As root nook runs as nooktest, which Scripts/test-users.sh gave a range; otherwise as the caller.
        let who = h.isRoot ? Harness.withRange : h.user
        guard let (subuid, subgid) = Harness.subordinateRanges(of: who) else {
            if h.isRoot { return XCTFail("\(who.name) has no /etc/subuid and /etc/subgid range: run Scripts/test-users.sh") }
            throw XCTSkip("the caller has no /etc/subuid and /etc/subgid range")
        }
        let data = try h.scratch("subid")
        let r = try h.run(["run", "--rootfs", h.rootfs, "-v", "\(data):/data", "--", "sh", "-c",
                           "cat /proc/self/uid_map; cat /proc/self/gid_map; touch /data/f; chown 1000:1000 /data/f"], as: who)
        XCTAssertEqual(r.status, 0, r.stderr)
        let maps = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(maps, [["0", "\(who.uid)", "1"], ["1", "\(subuid.start)", "\(subuid.count)"],
                              ["0", "\(who.gid)", "1"], ["1", "\(subgid.start)", "\(subgid.count)"]])
        var st = stat()
        XCTAssertEqual(stat(data + "/f", &st), 0)
        XCTAssertEqual(st.st_uid, subuid.start + 999, "container uid 1000 is the range's 1000th id on the host")
        XCTAssertEqual(st.st_gid, subgid.start + 999)
    }

    func testWithoutARangeTheSingleMapping() throws {
        try XCTSkipUnless(h.isRoot, "needs root to run as the second test user")
        let root = try h.scratch("nosub")
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root + "/rootfs"])
        let nosub = Harness.withoutRange
        _ = try Harness.shell(["/bin/chown", "-R", "\(nosub.uid):\(nosub.gid)", root])
        let r = try h.run(["run", "--trace", "--rootfs", root + "/rootfs", "--", "cat", "/proc/self/uid_map", "/proc/self/gid_map"], as: nosub)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) },
                       [["0", "\(nosub.uid)", "1"], ["0", "\(nosub.gid)", "1"]])
        XCTAssertTrue(r.stderr.contains("no /etc/subuid and /etc/subgid range for \(Harness.withoutRangeName)"), "--trace says why")
        let user = try h.run(["run", "--rootfs", root + "/rootfs", "--user", "1000", "--", "true"], as: Harness.withoutRange)
        XCTAssertEqual(user.status, 125)
        XCTAssertTrue(user.stderr.contains("user 1000 has no mapping"), user.stderr)
    }

    func testUserFlag() throws {
        let numeric = try h.run(["run", "--rootfs", h.rootfs, "--user", "1000", "--", "sh", "-c", "id -u; id -g; echo $HOME; grep CapEff /proc/self/status"])
        XCTAssertEqual(numeric.status, 0, numeric.stderr)
        XCTAssertEqual(numeric.stdout, "1000\n1000\n/home/alice\nCapEff:\t0000000000000000\n")
        let named = try h.run(["run", "--rootfs", h.rootfs, "--user", "alice", "--", "id"])
        XCTAssertEqual(named.stdout, "uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)\n",
                       "supplementary groups come from the rootfs's /etc/group")
        let withGroup = try h.run(["run", "--rootfs", h.rootfs, "--user", "nobody:users", "--", "sh", "-c", "id -u; id -g"])
        XCTAssertEqual(withGroup.stdout, "65534\n100\n")
        let unknown = try h.run(["run", "--rootfs", h.rootfs, "--user", "mallory", "--", "true"])
        XCTAssertEqual(unknown.status, 125)
        XCTAssertTrue(unknown.stderr.contains("user 'mallory' not found in the container's /etc/passwd"), unknown.stderr)
        let outside = try h.run(["run", "--rootfs", h.rootfs, "--user", "70000", "--", "true"])
        XCTAssertEqual(outside.status, 125)
        XCTAssertTrue(outside.stderr.contains("user 70000 has no mapping"), outside.stderr)
    }

    func testKeepIDKeepsTheCallersNumbers() throws {
        let data = try h.scratch("keepid")
        let r = try h.run(["run", "--rootfs", h.rootfs, "--userns", "keep-id", "-v", "\(data):/work", "--", "sh", "-c",
                           "id -u; id -g; touch /work/mine"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(h.user.uid)\n\(h.user.gid)\n")
        var st = stat()
        XCTAssertEqual(stat(data + "/mine", &st), 0)
        XCTAssertEqual(st.st_uid, h.user.uid, "the caller's file, with the number the caller knows")
    }

    func testRootOnTheHostIsNotRootInTheContainer() throws {
        try XCTSkipUnless(h.isRoot, "only meaningful when nook runs as host root")
        let r = try Harness.shell([h.nook, "run", "--rootfs", h.rootfs, "--", "sh", "-c", "id -u; cat /proc/self/uid_map"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.first, ["0"])
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[1].first, "0")
        XCTAssertNotEqual(lines[1].dropFirst().first, "0", "container 0 is not host 0")
        let host = try Harness.shell([h.nook, "run", "--userns", "host", "--rootfs", h.rootfs, "--", "cat", "/proc/self/uid_map"])
        XCTAssertEqual(host.stdout.split(separator: " ").map(String.init), ["0", "0", "4294967295\n"], "only when asked explicitly")
    }

    static func containerPID(_ stateFile: String) throws -> Int32 {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile))) as? [String: Any]
        return Int32(try XCTUnwrap(state?["pid"] as? Int))
    }

    static func descendants(of pid: Int32) -> [Int32] {
        let kids = Harness.children(of: pid)
        return kids + kids.flatMap { descendants(of: $0) }
    }
}
