import NookKit
import XCTest

/// The Redis server in XCTest: SET, then GET over the published port.
final class RedisXCTests: XCTestCase {
    func testSetThenGet() async throws {
        guard let image = RedisImage.name else { throw XCTSkip(RedisImage.missing) }
        try await withContainer(redisServer(image: image)) { redis in
            let port = try XCTUnwrap(redis.hostPort(for: 6379))
            let client = try RedisClient(port: port, label: "redis (XCTest) 127.0.0.1:\(port)")
            XCTAssertEqual(try client.send("SET", "k", "v"), .simple("OK"))
            XCTAssertEqual(try client.send("GET", "k"), .bulk("v"))
        }
    }
}
