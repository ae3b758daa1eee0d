import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class ExitStatusTests: XCTestCase {
    func testEncodedStatuses() {
        XCTAssertEqual(ExitStatus(waitStatus: 7 << 8), .exited(7))
        XCTAssertEqual(ExitStatus(waitStatus: 7 << 8).code, 7)
        XCTAssertEqual(ExitStatus(waitStatus: 0), .exited(0))
        XCTAssertEqual(ExitStatus(waitStatus: 255 << 8).code, 255)
        XCTAssertEqual(ExitStatus(waitStatus: 9), .signaled(9))
        XCTAssertEqual(ExitStatus(waitStatus: 9).code, 137)
        // SIGSEGV with the core-dump bit (0x80) set
        XCTAssertEqual(ExitStatus(waitStatus: 0x80 | 11), .signaled(11))
        XCTAssertEqual(ExitStatus(waitStatus: 0x80 | 11).code, 139)
    }

    func testRealExitCode() throws {
        let pid = try spawnProcess(["/bin/sh", "-c", "exit 7"])
        let status = ExitStatus(waitStatus: reap(pid))
        XCTAssertEqual(status, .exited(7))
        XCTAssertEqual(status.code, 7)
    }

    func testRealKillSignal() throws {
        let pid = try spawnProcess(["/bin/sleep", "30"])
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        let status = ExitStatus(waitStatus: reap(pid))
        XCTAssertEqual(status, .signaled(SIGKILL))
        XCTAssertEqual(status.code, 137)
    }

    func testRealTermSignal() throws {
        let pid = try spawnProcess(["/bin/sh", "-c", "kill -TERM $$; sleep 5"])
        let status = ExitStatus(waitStatus: reap(pid))
        XCTAssertEqual(status, .signaled(SIGTERM))
        XCTAssertEqual(status.code, 143)
    }

    func testHelperProcessReportsStatusAndStderr() throws {
        let r = try HelperProcess.runCapturing(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.output, "out\n")
        XCTAssertEqual(r.errorOutput, "err\n")
        assertNookError(try HelperProcess.runCapturing(["/nonexistent/nook-helper"])) { e in
            assertContains(e.message, "run /nonexistent/nook-helper: no such file or directory")
        }
    }
}
