import Foundation
import XCTest

/// Leaks into and out of the container (issue 16). Into: nook's code in the
/// container (--init's PID 1) is a clone of nook, whose command line and
/// environment are the host's; host-side nook commands are in sight of a
/// container without a PID namespace of its own. Out: text the container
/// controls reaching the user's terminal, and writes reaching the host's disk.
final class LeakTests: XCTestCase {
    var h: Harness { Harness.shared }

    let cliSecret = "cli-secret-4242"
    let envSecret = "env-secret-4242"

    /// PID 1's /proc files, as the container reads them: cmdline with NULs as
    /// spaces, then environ (an error when it may not be read).
    let readPID1 = ["sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo '|'; tr '\\0' ' ' </proc/1/environ 2>&1; echo '|'"]

    func assertNothingOfTheHost(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        for leak in [h.work, cliSecret, envSecret, "--root", "--spec-file", "XDG_RUNTIME_DIR", "PATH=/usr/sbin"] {
            XCTAssertFalse(text.contains(leak), "'\(leak)' readable in the container: \(text)", file: file, line: line)
        }
    }

    func testInitShowsNeitherNooksCommandLineNorItsEnvironment() throws {
        let r = try h.run(["run", "--init", "--rootfs", h.rootfs, "-e", "SECRET=\(cliSecret)", "--"] + readPID1,
                          env: ["HOST_SECRET": envSecret])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("nook-init |"), r.stdout)
        assertNothingOfTheHost(r.stdout)
        let own = try h.run(["run", "--init", "--rootfs", h.rootfs, "-e", "SECRET=\(cliSecret)", "--", "sh", "-c", "echo $SECRET"])
        XCTAssertEqual(own.stdout, cliSecret + "\n", "the command's own environment keeps what -e gave it")
    }

    func testDetachedInitShowsNothingOfTheMonitor() throws {
        let name = Harness.name("leakd")
        let r = try h.run(["run", "-d", "--init", "--name", name, "--rootfs", h.rootfs, "-e", "SECRET=\(cliSecret)", "--", "sleep", "60"],
                          env: ["HOST_SECRET": envSecret])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let inside = try h.run(["exec", name, "--"] + readPID1)
        XCTAssertEqual(inside.status, 0, inside.stderr)
        XCTAssertTrue(inside.stdout.hasPrefix("nook-init |"), inside.stdout)
        assertNothingOfTheHost(inside.stdout)
        // A container without a PID namespace of its own would see the monitor itself.
        let data = try Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json"))
        let monitor = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["monitorPID"] as? Int)
        XCTAssertEqual(try String(contentsOfFile: "/proc/\(monitor)/cmdline", encoding: .utf8), "nook __monitor\0")
    }

    func testCreatedInitShowsNothingOfCreate() throws {
        let dir = try h.bundle(["sleep", "60"])
        let id = Harness.name("leakc")
        let created = try h.run(["create", "--bundle", dir, id], env: ["HOST_SECRET": envSecret], timeout: 120)
        XCTAssertEqual(created.status, 0, created.stderr)
        defer { _ = try? h.run(["delete", "--force", id]) }
        let inside = try h.run(["exec", id, "--"] + readPID1)
        XCTAssertEqual(inside.status, 0, inside.stderr)
        // The start waiter (StartWaiter): the command's own arguments, and an environment it may not read.
        XCTAssertTrue(inside.stdout.hasPrefix("nook-wait "), inside.stdout)
        XCTAssertTrue(inside.stdout.contains(" sleep 60 |"), inside.stdout)
        XCTAssertTrue(inside.stderr.contains("/proc/1/environ: Permission denied"), inside.stderr)
        assertNothingOfTheHost(inside.stdout)
    }

    /// A container without a PID namespace of its own reads the host's /proc:
    /// the command lines of `nook run -e SECRET=...` and `nook exec -e ...`
    /// running next to it show a title, and their environment is not its to read.
    /// The way to keep a secret off every command line: `-e KEY` copies the
    /// caller's value, for `run` and for `exec` (exec used to pass a bare "KEY").
    func testEnvKeyAloneCopiesTheCallersValue() throws {
        let secret = "s3cret-\(getpid())"
        let run = try h.run(["run", "-e", "NOOK_TEST_SECRET", "--rootfs", h.rootfs, "--", "sh", "-c", "echo \"$NOOK_TEST_SECRET\""],
                            env: ["NOOK_TEST_SECRET": secret])
        XCTAssertEqual(run.stdout, secret + "\n", run.stderr)
        let name = Harness.name("envkey")
        XCTAssertEqual(try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "30"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let exec = try h.run(["exec", "-e", "NOOK_TEST_SECRET", name, "--", "sh", "-c", "echo \"$NOOK_TEST_SECRET\"; env | grep -c '^NOOK_TEST_SECRET'"],
                             env: ["NOOK_TEST_SECRET": secret])
        XCTAssertEqual(exec.stdout, secret + "\n1\n", exec.stderr)
    }

    func testHostNookCommandLinesShowNoSecret() throws {
        let name = Harness.name("leakhost")
        let run = try h.start(["run", "--name", name, "--rootfs", h.rootfs, "-e", "SECRET=\(cliSecret)", "--", "sleep", "60"],
                              env: ["HOST_SECRET": envSecret])
        defer { _ = try? h.run(["kill", name, "KILL"]); _ = run.wait() }
        XCTAssertTrue(Harness.eventually(30) { (try? self.h.run(["exec", name, "--", "true"]))?.status == 0 }, run.stderrText)
        let exec = try h.start(["exec", "-e", "SECRET=\(cliSecret)", name, "--", "sleep", "60"], env: ["HOST_SECRET": envSecret])
        defer { kill(exec.pid, SIGTERM); _ = exec.wait() }
        XCTAssertTrue(Harness.eventually(30) {
            Harness.children(of: exec.pid).contains { (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) == "sleep\u{0}60\u{0}" }
        }, "nook exec's process runs")

        let checks = [run.pid, exec.pid].flatMap { pid in
            ["cmdline", "environ"].flatMap { file in [cliSecret, envSecret].map { "find:/proc/\(pid)/\(file):\($0)" } }
        }
        let dir = try h.bundle(["probe"] + checks) { ExeSealTests.sharingNooksPIDNamespace(&$0) }
        let r = try h.run(["run", "--bundle", dir, Harness.name("leakreader")])
        XCTAssertEqual(r.status, 0, r.stderr)
        for check in checks {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(check + " ") }.map(String.init) ?? "missing: \(r.stdout)"
            if check.contains("/cmdline:") {
                XCTAssertTrue(line.contains(" result=ok detail=found=no,"), "the host's nook process is in sight and shows no secret: \(line)")
            } else {
                XCTAssertTrue(line.contains(" result=err ") || line.contains("found=no"), line)
            }
        }
        XCTAssertEqual(try String(contentsOfFile: "/proc/\(run.pid)/cmdline", encoding: .utf8), "nook run\0")
        XCTAssertEqual(try String(contentsOfFile: "/proc/\(exec.pid)/cmdline", encoding: .utf8), "nook exec\0")
    }

    func testPSPrintsTheContainersCommandLineEscaped() throws {
        let name = Harness.name("leakps")
        let r = try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--",
                           "sh", "-c", "sleep 60; exit 0", "\u{1b}[31m", "\nFAKE ROW"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        for args in [["ps"], ["ps", "-a"], ["ps", name]] {
            let out = try h.run(args)
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertFalse(out.stdout.contains("\u{1b}"), "\(args): an escape sequence reached the terminal: \(out.stdout)")
            XCTAssertFalse(out.stdout.contains("\nFAKE ROW"), "\(args): a fake row: \(out.stdout)")
            XCTAssertTrue(out.stdout.contains("sleep 60; exit 0 \\x1b[31m \\nFAKE ROW"), "\(args): \(out.stdout)")
        }
    }

    func testEtcFilesCannotFillTheHostsDisk() throws {
        let name = Harness.name("leakhosts")
        let r = try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let before = try h.run(["exec", name, "--", "cat", "/etc/hosts", "/etc/hostname"])
        XCTAssertTrue(before.stdout.contains("127.0.0.1\tlocalhost"), before.stdout)
        for file in ["/etc/hosts", "/etc/hostname"] {
            let w = try h.run(["exec", name, "--", "dd", "if=/dev/zero", "of=\(file)", "bs=1M", "count=100"], timeout: 120)
            XCTAssertNotEqual(w.status, 0, "writing 100 MiB into \(file) worked")
            XCTAssertTrue(w.stderr.contains("Read-only file system"), w.stderr)
        }
        let dir = h.stateDir() + "/" + name
        for entry in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let size = (try FileManager.default.attributesOfItem(atPath: dir + "/" + entry)[.size] as? Int) ?? 0
            XCTAssertLessThan(size, 1 << 20, "\(entry) in the state directory grew to \(size) bytes")
        }
        XCTAssertEqual(try h.run(["exec", name, "--", "cat", "/etc/hosts", "/etc/hostname"]).stdout, before.stdout)
    }
}
