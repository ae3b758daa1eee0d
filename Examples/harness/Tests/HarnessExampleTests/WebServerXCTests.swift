import NookKit
import XCTest

/// The same web server in XCTest: async test methods call NookKit directly.
final class WebServerXCTests: XCTestCase {
    func testServesItsPageAndRunsACommand() async throws {
        try await withContainer(try webServer(serving: "hello from XCTest")) { web in
            let port = try XCTUnwrap(web.hostPort(for: 80))
            let (status, body) = try await get(port: port)
            XCTAssertEqual(status, 200)
            XCTAssertEqual(body, "hello from XCTest\n")

            let result = try await web.exec(["id", "-u"])
            XCTAssertEqual(result.status, 0)
            XCTAssertEqual(result.stdout, "0\n", "root inside the container (your uid outside)")
        }
    }
}
