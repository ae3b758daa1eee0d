import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class RootPropagationTests: XCTestCase {
    func testRootfsPropagationValues() throws {
        XCTAssertEqual(try RootPropagation.flags(nil), 0)
        XCTAssertEqual(try RootPropagation.flags("shared"), UInt(MS_SHARED | MS_REC))
        XCTAssertEqual(try RootPropagation.flags("rslave"), UInt(MS_SLAVE | MS_REC))
        assertNookError(try RootPropagation.flags("sideways")) { e in
            XCTAssertEqual(e.message, "field 'linux.rootfsPropagation' is 'sideways'")
        }
    }
}
