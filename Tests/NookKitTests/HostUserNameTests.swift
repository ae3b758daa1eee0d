import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class HostUserNameTests: XCTestCase {
    func testNameFromPasswdLines() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\n\nbroken\nnooktest:x:2000:2000::/home/nooktest:/bin/sh\n"
        XCTAssertEqual(HostUserName.lookup(uid: 2000, inPasswd: passwd), "nooktest")
        XCTAssertEqual(HostUserName.lookup(uid: 0, inPasswd: passwd), "root")
        XCTAssertNil(HostUserName.lookup(uid: 2005, inPasswd: passwd))
    }
}
