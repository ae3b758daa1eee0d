import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class ProcessMemoryLayoutTests: XCTestCase {
    /// Fields 3..52 of /proc/PID/stat: state, then 49 numbers; n stands at field n.
    func stat(comm: String) -> String {
        "4242 (\(comm)) S " + (4...52).map(String.init).joined(separator: " ") + "\n"
    }

    func testFieldsAreCountedAfterTheCommandName() throws {
        let layout = try XCTUnwrap(ProcessMemoryLayout.parse(stat(comm: "a) 1 2 (b")))
        XCTAssertEqual(layout, ProcessMemoryLayout(startCode: 26, endCode: 27, startData: 45, endData: 46, startBrk: 47,
                                                   startStack: 28, argStart: 48, argEnd: 49, envStart: 50, envEnd: 51))
    }

    func testTruncatedOrHiddenFieldsGiveNothing() {
        XCTAssertNil(ProcessMemoryLayout.parse("4242 (nook) S 1 2 3"))
        XCTAssertNil(ProcessMemoryLayout.parse(stat(comm: "nook").replacingOccurrences(of: " 48 49 ", with: " 0 0 ")),
                     "another user's process: the kernel shows 0")
    }

    func testThisProcessHasOne() throws {
        let layout = try XCTUnwrap(ProcessMemoryLayout.current)
        XCTAssertLessThan(layout.argStart, layout.argEnd)
        XCTAssertLessThanOrEqual(layout.envStart, layout.envEnd)
    }
}
