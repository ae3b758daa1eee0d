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
}
