import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class HookRunnerTests: XCTestCase {
    /// A Spec made in code skips BundleLoader's range check: a huge timeout
    /// must not overflow on its way to poll(2)'s milliseconds.
    func testAHugeTimeoutIsClampedNotACrash() throws {
        for timeout in [Int.max, Int(Int32.max), 2_147_484] {
            let kernel = LiveKernel()
            let hook = try kernel.startHelper(HelperLaunch(program: "/bin/true", arguments: ["/bin/true"]), input: [])
            XCTAssertNoThrow(try HookRunner.waitForHook(hook, timeout: timeout, kernel: kernel), "\(timeout)")
        }
    }
}
