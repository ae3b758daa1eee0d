import NookKit
import Testing

/// The web server, in Swift Testing: started, waited for, fetched over its
/// published port, a command run inside, and 20 at once.
@Suite struct WebServerTests {
    @Test func servesItsPageOverThePublishedPort() async throws {
        try await withContainer(try webServer(serving: "hello from a rootless container")) { web in
            let port = try #require(web.hostPort(for: 80))
            let (status, body) = try await get(port: port)
            #expect(status == 200)
            #expect(body == "hello from a rootless container\n")
        }
    }

    @Test func execRunsACommandInside() async throws {
        try await withContainer(try webServer(serving: "exec")) { web in
            let result = try await web.exec(["sh", "-c", "cat /dev/shm/www/index.html; echo to stderr >&2; exit 3"])
            #expect(result.status == 3)
            #expect(result.stdout == "exec\n")
            #expect(result.stderr == "to stderr\n")
        }
    }

    @Test func twentyServersAtOnce() async throws {
        let pages = (1...20).map { "server \($0)" }
        let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for page in pages {
                group.addTask {
                    try await withContainer(try webServer(serving: page)) { web in
                        (page, try await get(port: web.hostPort(for: 80)!).body)
                    }
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        // Each server answered with its own page: 20 ports, 20 containers.
        for page in pages { #expect(answers[page] == page + "\n") }
    }
}
