import Glibc
import XCTest
@testable import NookRuntime

/// Which nook a library caller's detached container is monitored by.
final class MonitorExecutableTests: XCTestCase {
    func testLocateLooksAtNookBinaryThenBesideTheCallerThenPath() throws {
        let exe = try XCTUnwrap(readlinkSelf())
        let beside = String(exe[..<exe.lastIndex(of: "/")!]) + "/nook"
        XCTAssertEqual(MonitorExecutable.candidates(environment: ["NOOK_BINARY": "/opt/n/nook", "PATH": "/a:relative:/b"]),
                       ["/opt/n/nook", beside, "/a/nook", "/b/nook"])
    }

    func testANamedBinaryThatIsNotThereIsAnErrorNamingIt() {
        XCTAssertThrowsError(try MonitorExecutable.path("/nonexistent/nook").resolve(environment: [:])) {
            XCTAssertTrue("\($0)".contains("/nonexistent/nook"), "\($0)")
        }
    }

    func testNothingFoundSaysHowToGiveOne() throws {
        // Only PATH entries that hold no nook, and NOOK_BINARY pointing nowhere;
        // the test bundle may have one beside it (SwiftPM builds nook there).
        let exe = try XCTUnwrap(readlinkSelf())
        guard access(String(exe[..<exe.lastIndex(of: "/")!]) + "/nook", X_OK) != 0 else {
            XCTAssertNoThrow(try MonitorExecutable.locate.resolve(environment: ["PATH": "/nonexistent"]))
            return
        }
        XCTAssertThrowsError(try MonitorExecutable.locate.resolve(environment: ["PATH": "/nonexistent", "NOOK_BINARY": "/nonexistent/nook"])) {
            XCTAssertTrue("\($0)".contains("NOOK_BINARY"), "\($0)")
        }
    }

    private func readlinkSelf() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }
}
