import XCTest
@testable import NookKit

final class ResourceFlagsTests: XCTestCase {
    func testMemoryWithoutMemorySwapAllowsAsMuchSwapAsMemoryLikePodman() throws {
        var flags = ResourceFlags()
        flags.memory = "64M"
        let r = try XCTUnwrap(try flags.resources())
        XCTAssertEqual(r.memory?.swap, 128 << 20, "memory plus swap = twice the memory")
        let limits = try CgroupLimits(r)
        XCTAssertEqual(limits.files.first { $0.name == "memory.swap.max" }?.value, "\(64 << 20)")
    }

    func testExplicitMemorySwapWins() throws {
        var flags = ResourceFlags()
        flags.memory = "64M"
        flags.memorySwap = "-1"
        XCTAssertEqual(try CgroupLimits(try flags.resources()).files.first { $0.name == "memory.swap.max" }?.value, "max")
        flags.memorySwap = "64M"
        XCTAssertEqual(try CgroupLimits(try flags.resources()).files.first { $0.name == "memory.swap.max" }?.value, "0")
    }

    func testPidsLimitMinusOneIsUnlimited() throws {
        var flags = ResourceFlags()
        flags.pidsLimit = -1
        XCTAssertEqual(try CgroupLimits(try flags.resources()).files.map { "\($0.name)=\($0.value)" }, ["pids.max=max"])
    }
}
