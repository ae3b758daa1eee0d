import XCTest
@testable import NookKit

final class SecurityOptionsTests: XCTestCase {
    func testEmptyAndNamelessSecurityOptsAreErrorsNotCrashes() {
        for bad in ["", "=", "==", "=true", "seccomp=", "no-new-privileges=", "no-new-privileges=maybe", "apparmor=unconfined"] {
            var options = SecurityOptions()
            assertNookError(try options.apply(securityOpt: bad), "'\(bad)'") { e in
                XCTAssertEqual(e.message, "unknown --security-opt '\(bad)'")
                XCTAssertEqual(e.exitCode, 125)
            }
        }
    }

    func testKnownSecurityOpts() throws {
        var options = SecurityOptions()
        try options.apply(securityOpt: "no-new-privileges=false")
        XCTAssertFalse(options.noNewPrivileges)
        try options.apply(securityOpt: "no-new-privileges")
        XCTAssertTrue(options.noNewPrivileges)
        try options.apply(securityOpt: "seccomp=/p=q.json")
        XCTAssertEqual(options.seccomp, .file("/p=q.json"), "only the first '=' splits")
        try options.apply(securityOpt: "seccomp=unconfined")
        XCTAssertEqual(options.seccomp, .unconfined)
    }
}
