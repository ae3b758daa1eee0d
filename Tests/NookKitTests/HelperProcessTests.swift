import XCTest
import Glibc
import NookCore
@testable import NookKernel

/// The one way Nook starts a program of its own choosing.
final class HelperProcessTests: XCTestCase {
    /// A failed execve is an error that names the program and the errno, not
    /// a child that exits 127 and leaves the caller guessing.
    func testAProgramThatCannotBeExecutedIsAnErrorNamingIt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let notExecutable = try dir.file("script", "#!/bin/sh\nexit 0\n")
        assertNookError(try HelperProcess.start(HelperLaunch(program: notExecutable, arguments: ["script"]))) { e in
            XCTAssertEqual(e.message, "run script: permission denied")
        }
        assertNookError(try HelperProcess.start(HelperLaunch(program: "nook-no-such-program", arguments: ["x"]))) { e in
            XCTAssertEqual(e.message, "run x: no such file or directory")
        }
    }

    /// Only the fds it is given reach the helper: one of ours without
    /// close-on-exec does not.
    func testOnlyTheGivenFdsReachTheHelper() throws {
        let leaked = open("/dev/null", O_RDONLY) // no O_CLOEXEC, on purpose
        XCTAssertGreaterThan(leaked, 2)
        defer { close(leaked) }
        let r = try HelperProcess.runCapturing(["/bin/sh", "-c", "test -e /proc/self/fd/\(leaked) && echo leaked || echo closed"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.output, "closed\n")
    }

    /// The signals nook blocks while a container starts are not blocked in a helper.
    func testTheHelperStartsWithNoBlockedSignals() throws {
        let blocked = BlockedSignals([SIGTERM, SIGINT])
        defer { blocked.restore() }
        let r = try HelperProcess.runCapturing(["/bin/grep", "SigBlk", "/proc/self/status"]) // no shell: it could reset the mask itself
        XCTAssertEqual(r.output, "SigBlk:\t0000000000000000\n")
    }

    /// newuidmap and newgidmap run side by side: each of two helpers waits
    /// for the other to have started, which only works when both run at once.
    /// Each one's status and stderr come back in order.
    func testHelpersRunTogetherAndReportEachInOrder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (a, b) = (dir.path + "/a", dir.path + "/b")
        let waitFor = { (mine: String, other: String, code: Int) in
            ["/bin/sh", "-c", "touch \(mine); i=0; while [ ! -e \(other) ]; do i=$((i+1)); [ $i -gt 500 ] && exit 9; sleep 0.01; done; echo \(mine) >&2; exit \(code)"]
        }
        let results = try HelperProcess.runTogether([waitFor(a, b, 0), waitFor(b, a, 4)])
        XCTAssertEqual(results.map(\.status), [0, 4], "a status of 9: the second helper started only after the first ended")
        XCTAssertEqual(results.map(\.errorOutput), [a + "\n", b + "\n"])
    }

    /// A helper's stderr is read to its end but only its last 64 KiB are
    /// kept: an error is said last.
    func testAHelpersOutputIsBoundedAndItsEndKept() throws {
        let r = try HelperProcess.runTogether([["/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo the-error >&2; exit 2"]])
        XCTAssertEqual(r.map(\.status), [2])
        XCTAssertEqual(r.first?.errorOutput.utf8.count, 1 << 16)
        XCTAssertTrue(r.first?.errorOutput.hasSuffix("xxthe-error\n") == true, "the end was not kept")
        // Two-byte characters, cut at an odd offset: the tail starts at a whole character.
        let wide = try HelperProcess.runTogether([["/bin/sh", "-c", "i=0; while [ $i -lt 40001 ]; do printf 'é'; i=$((i+1)); done >&2; printf x >&2"]])
        let tail = try XCTUnwrap(wide.first?.errorOutput)
        XCTAssertFalse(tail.contains("\u{FFFD}"), "a character was cut in half")
        XCTAssertTrue(tail.hasPrefix("é") && tail.hasSuffix("éx"))
    }

    /// When the second cannot start, the first is waited for (no zombie) and the error names the second.
    func testAHelperThatCannotStartIsNamedAndTheOthersAreReaped() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let marker = dir.path + "/ran"
        // It also writes more than a pipe holds: waited for without its stderr read, it would block for good.
        let chatty = "sleep 0.2; head -c 200000 /dev/zero >&2; touch \(marker)"
        assertNookError(try HelperProcess.runTogether([["/bin/sh", "-c", chatty], ["nook-no-such-helper"]])) { e in
            XCTAssertEqual(e.message, "run nook-no-such-helper: no such file or directory")
        }
        // It sleeps before touching the marker: the marker is there only if it was waited for.
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "the first helper was not waited for")
    }

    /// A child the kernel reaped by itself (SIGCHLD ignored) is not a child
    /// that exited 0: the failed wait is an error.
    func testAFailedWaitIsAnErrorNotSuccess() throws {
        let previous = signal(SIGCHLD, SIG_IGN)
        defer { signal(SIGCHLD, previous) }
        assertNookError(try HelperProcess.runCapturing(["/bin/sh", "-c", "exit 7"])) { e in
            assertContains(e.message, "no child processes")
        }
        assertNookError(try HelperProcess.runTogether([["/bin/sh", "-c", "exit 7"]])) { e in
            assertContains(e.message, "no child processes")
        }
    }
}
