import NookKit
import Testing

/// A real database in a rootless container: Redis from a Debian image
/// (Tests/images/redis-image.sh), started, waited for, and spoken to over
/// its published port; two containers of the image share nothing.
@Suite(.enabled(if: RedisImage.name != nil, Comment(rawValue: RedisImage.missing)))
struct RedisTests {
    @Test func setThenGetOverThePublishedPort() async throws {
        let image = try #require(RedisImage.name)
        try await withContainer(redisServer(image: image)) { redis in
            let port = try #require(redis.hostPort(for: 6379))
            print("redis: container \(redis.id) from \(image), 127.0.0.1:\(port) -> 6379, ready")
            let client = try RedisClient(port: port, label: "redis 127.0.0.1:\(port)")
            #expect(try client.send("PING") == .simple("PONG"))
            #expect(try client.send("SET", "greeting", "hello from a rootless database") == .simple("OK"))
            #expect(try client.send("GET", "greeting") == .bulk("hello from a rootless database"))
            #expect(try client.send("GET", "no-such-key") == .bulk(nil))

            // The server runs as the image's user, not as root.
            let user = try await redis.exec(["id", "-un"])
            print("redis: inside, redis-server runs as '\(user.stdout.trimmingCharacters(in: .whitespacesAndNewlines))'")
            #expect(user.stdout == "redis\n")
        }
    }

    @Test func twoContainersOfTheImageAreIndependent() async throws {
        let image = try #require(RedisImage.name)
        try await withContainer(redisServer(image: image)) { first in
            try await withContainer(redisServer(image: image)) { second in
                let one = try RedisClient(port: try #require(first.hostPort(for: 6379)), label: "first  redis")
                let two = try RedisClient(port: try #require(second.hostPort(for: 6379)), label: "second redis")
                #expect(try one.send("SET", "owner", "first") == .simple("OK"))
                // Not in the other container: its own server, its own memory.
                #expect(try two.send("GET", "owner") == .bulk(nil))
                #expect(try two.send("SET", "owner", "second") == .simple("OK"))
                #expect(try one.send("GET", "owner") == .bulk("first"))
                #expect(try two.send("GET", "owner") == .bulk("second"))
            }
        }
    }
}
