import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class DeviceBindsTests: XCTestCase {
    func testHostNodesAreBoundAndOthersRefusedByName() throws {
        let ops = try DeviceBinds.ops([Spec.Device(path: "/dev/null", type: "c", major: 1, minor: 3)])
        XCTAssertEqual(ops.map(\.kind), [.bind])
        XCTAssertEqual(ops.first?.target, "/dev/null")
        assertNookError(try DeviceBinds.ops([Spec.Device(path: "/dev/null", type: "c", major: 1, minor: 5)])) { e in
            XCTAssertEqual(e.message, "linux.devices[0] '/dev/null': the host's node is 1:3, not 1:5")
        }
        assertNookError(try DeviceBinds.ops([Spec.Device(path: "/dev/null", type: "b")])) { e in
            XCTAssertEqual(e.message, "linux.devices[0] '/dev/null': the host's '/dev/null' is not a block device")
        }
        assertNookError(try DeviceBinds.ops([Spec.Device(path: "/dev/nook-none", type: "c")])) { e in
            XCTAssertEqual(e.message, "linux.devices[0] '/dev/nook-none': no such device on the host to bind: no such file or directory")
        }
        assertNookError(try DeviceBinds.ops([Spec.Device(path: "dev/x", type: "c")])) { e in
            assertContains(e.message, "the path must be absolute")
        }
    }
}
