import Foundation
import XCTest

/// NookKit's harness API, driven from `nook-harness-probe` run as the test
/// user: the library must work for a rootless caller, and this test process
/// runs as root in CI. The probe sits beside the harness's nook, where
/// `MonitorExecutable.locate` finds it (the probe itself has no `__monitor`).
final class NookKitHarnessTests: XCTestCase {
    let h = Harness.shared

    /// The probe, copied beside the harness's nook (readable by the test user).
    func probe() throws -> String {
        let path = h.work + "/nook-harness-probe"
        if !FileManager.default.fileExists(atPath: path) {
            let built = URL(fileURLWithPath: Harness.builtBinary()).deletingLastPathComponent().appendingPathComponent("nook-harness-probe").path
            guard FileManager.default.isExecutableFile(atPath: built) else {
                throw XCTSkip("nook-harness-probe is not built (swift build --build-tests builds it)")
            }
            try FileManager.default.copyItem(atPath: built, toPath: path)
            chmod(path, 0o755)
            if h.isRoot { chown(path, h.user.uid, h.user.gid) }
        }
        return path
    }

    /// argv for the probe as the test user, with a clean environment (no NOOK_BINARY: it finds nook beside itself).
    func probeCommand(_ args: [String], environment extra: [String] = []) throws -> [String] {
        let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=\(h.work)", "LANG=C", "XDG_RUNTIME_DIR=\(h.runtimeDir())"] + extra
        return h.asUser(["/usr/bin/env", "-i"] + environment + [try probe()] + args)
    }

    func requirePasta() throws {
        guard Harness.isInstalled("pasta") else { throw XCTSkip("pasta is not installed (Debian package passt)") }
    }

    /// A web server in a container: ready (log line, then HTTP), fetched over
    /// its random host port, exec with status and both outputs, logs as lines,
    /// and nothing left after `withContainer`.
    func testServeFetchExecAndCleanUp() throws {
        try requirePasta()
        let r = try Harness.shell(try probeCommand(["serve", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("status-line: HTTP/1.1 200 OK"), r.stdout)
        XCTAssertTrue(r.stdout.contains("body: hello from nook"), r.stdout)
        XCTAssertTrue(r.stdout.contains("exec: 3 out err"), r.stdout)
        XCTAssertTrue(r.stdout.contains("first-log-line: serving"), r.stdout)
        let stateDir = r.stdout.split(separator: "\n").first { $0.hasPrefix("state-dir: ") }.map { String($0.dropFirst(11)) }
        XCTAssertNotNil(stateDir, r.stdout)
        if let stateDir { XCTAssertFalse(FileManager.default.fileExists(atPath: stateDir), "withContainer left \(stateDir)") }
    }

    /// The probe starts containers through the API (one from an image) and is
    /// SIGKILLed: each container's monitor sees its creator's pidfd end, kills
    /// the container and removes its state and its layer. Checked by pid,
    /// state directory and the image store's container layers.
    func testCreatorKilledLeavesNothing() throws {
        let out = NSTemporaryDirectory() + "nook-orphan-\(getpid())-\(UUID().uuidString)"
        let err = out + ".err"
        // The third from an image: its container layer must go too.
        let data = ImageRunTests.stores[h.user.name]!
        let pid = try Harness.spawn(try probeCommand(["orphan", h.rootfs, "3", "plain"], environment: ["XDG_DATA_HOME=\(data)"]),
                                    stdin: "/dev/null", stdout: out, stderr: err)
        let probe = Harness.Background(pid: pid, errPath: err, outPath: out)
        XCTAssertTrue(Harness.eventually(30) { probe.stdoutText.contains("all started") }, probe.stdoutText + probe.stderrText)
        let started = probe.stdoutText.split(separator: "\n").filter { $0.hasPrefix("started ") }.map { $0.split(separator: " ") }
        XCTAssertEqual(started.count, 3, probe.stdoutText)
        let containerPIDs = started.compactMap { Int32($0[2]) }, monitorPIDs = started.compactMap { Int32($0[3]) }
        let stateDirs = started.map { String($0[4]) }
        XCTAssertTrue(containerPIDs.allSatisfy(Harness.isAlive) && stateDirs.allSatisfy { FileManager.default.fileExists(atPath: $0) })

        kill(pid, SIGKILL)
        XCTAssertEqual(probe.wait(), 128 + SIGKILL)
        XCTAssertTrue(Harness.eventually(10) { !containerPIDs.contains(where: Harness.isAlive) },
                      "container processes left: \(containerPIDs.filter(Harness.isAlive))")
        XCTAssertTrue(Harness.eventually(10) { !stateDirs.contains { FileManager.default.fileExists(atPath: $0) } },
                      "state left: \(stateDirs.filter { FileManager.default.fileExists(atPath: $0) })")
        XCTAssertTrue(Harness.eventually(10) { !monitorPIDs.contains(where: Harness.isAlive) },
                      "monitors left: \(monitorPIDs.filter(Harness.isAlive))")
        let layers = { (try? FileManager.default.contentsOfDirectory(atPath: data + "/nook/containers")) ?? [] }
        XCTAssertTrue(Harness.eventually(10) { layers().isEmpty }, "container layers left: \(layers())")
    }

    /// A readiness wait that times out names what it waited for and shows the
    /// container's last log lines; a failed start and a throwing body leave nothing.
    func testUnreadyContainerErrorShowsItsLogAndLeavesNothing() throws {
        try requirePasta()
        let r = try Harness.shell(try probeCommand(["unready", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("readiness error: container 'unready-"), r.stdout)
        XCTAssertTrue(r.stdout.contains("no GET / on container port 80 answering 200 within"), r.stdout)
        XCTAssertTrue(r.stdout.contains("  | booting\n  | still booting"), r.stdout)
        XCTAssertTrue(r.stdout.contains("left after the failed start: false"), r.stdout)
        XCTAssertTrue(r.stdout.contains("left after a throwing body: false"), r.stdout)
    }

    /// stdout and stderr kept apart (and each log line says its stream) while
    /// the log stays one, in order; stdin is /dev/null unless the request
    /// gives input, which the container then reads to its end.
    func testStdoutAndStderrApartAndStdinOnlyWhenGiven() throws {
        let r = try Harness.shell(try probeCommand(["streams", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "exit: 0",
            #"stdout: "out1\nout2\nstdin-null\n""#,
            #"stderr: "err1\nerr2\n""#,
            "logs stdout: out1|out2|stdin-null",
            "logs stderr: err1|err2",
            "exit: 0",
            #"stdout: "out1\nout2\ntyped in\n""#,
            #"stderr: "err1\nerr2\n""#,
            "logs stdout: out1|out2|typed in",
            "logs stderr: err1|err2",
        ], r.stdout)
    }

    /// The request's input is the container's to read, not to write: through
    /// fd 0 and through /proc/self/fd/0 the kernel refuses (a sealed memfd,
    /// not a file in the state root it could fill), and it reads the same after.
    func testStdinIsReadOnlyForTheContainer() throws {
        let r = try Harness.shell(try probeCommand(["stdin", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), [
            "exit: 0",
            "stdout: typed in",
            "stdout: fd 0: refused",
            "stdout: reopened: refused",
            "stdout: typed in",
        ], r.stdout)
    }

    /// `logs` followed while the monitor rotates the log twice (2.5 MiB past
    /// its 1 MiB cap): every line comes once, in order, with its own stream.
    func testLogsFollowTwoRotationsEachLineOnce() throws {
        let r = try Harness.shell(try probeCommand(["rotation", h.rootfs]), timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), [
            "exit: 0, rounds: 5",
            "stdout: 12500 lines, as written: true",
            "stderr: 12500 lines, as written: true",
            "nook: 0 lines",
        ], r.stdout)
    }

    /// stdout() and stderr() read while the monitor is stopped between renaming
    /// the log and renaming its stream map (a fault point of debug builds):
    /// no line of one stream is credited to the other, then or after.
    func testLogStreamsKeptApartAcrossARotation() throws {
        let r = try Harness.shell(try probeCommand(["rotation-race", h.rootfs], environment: ["NOOK_FAULT_STOP=log.rotate"]), timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), [
            "mid-rotation: stdout has 0 lines of stderr, stderr 0 of stdout",
            "exit: 0",
            "after: stdout has 0 lines of stderr, stderr 0 of stdout",
        ], r.stdout)
    }

    /// `wait(timeout:)` throws a typed timeout and the container runs on;
    /// `stop(timeout:)` kills one that ignores SIGTERM once the timeout passed
    /// (exit 137); `kill(signal:)` reaches the container's trap.
    func testWaitTimeoutStopEscalatesAndKillDelivers() throws {
        let r = try Harness.shell(try probeCommand(["signals", h.rootfs]), timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), [
            "wait: timed out, still runs: true",
            "stop: exit 137, waited at least the timeout: true",
            #"kill: exit 5, stdout "ready\ngot USR1\n""#,
        ], r.stdout)
    }

    /// `ContainerRequest(image:)` runs an image from the store as `nook run
    /// IMAGE` does (Entrypoint + Cmd, a command replacing Cmd), over a layer
    /// of its own that goes with the container; an unknown image is a clear error.
    func testImageAsTheRequestsSource() throws {
        let data = ImageRunTests.stores[h.user.name]!
        let r = try Harness.shell(try probeCommand(["image", "configured"], environment: ["XDG_DATA_HOME=\(data)"]), timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), [
            #"image default: exit 0, stdout "entry cmd\n""#,
            #"image command: exit 0, stdout "entry from the request\n""#,
        ], r.stdout)
        XCTAssertTrue(r.stdout.contains("unknown image: image 'no-such-image:1' is not in the store"), r.stdout)
        let layers = (try? FileManager.default.contentsOfDirectory(atPath: data + "/nook/containers")) ?? []
        XCTAssertEqual(layers, [], "container layers left")
    }

    /// A harness matches a failed start by its kind, whichever process found it:
    /// the monitor's (command not found or not executable, missing rootfs) cross
    /// its pipe with their kind, errno and exit code; the name in use is found before.
    func testFailedStartsAreMatchedByKind() throws {
        let r = try Harness.shell(try probeCommand(["kinds", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("missing command: commandNotFound no-such-command, exit 127"), r.stdout)
        XCTAssertTrue(lines.contains("not executable: notExecutable /etc/passwd EACCES, exit 126"), r.stdout)
        XCTAssertTrue(lines.contains("missing rootfs: systemCall \(h.rootfs)/nothing-here ENOENT"), r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("name in use: alreadyExists container kinds-") }, r.stdout)
        XCTAssertTrue(lines.contains("never ready: ContainerError timedOut"), r.stdout)
    }

    /// Start-to-ready of busybox httpd through the API, median of 50 (printed; no timed assertion).
    func testStartToReadyMedian() throws {
        try requirePasta()
        let r = try Harness.shell(try probeCommand(["bench", h.rootfs, "50"]), timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        print("nook-harness-probe: " + r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
