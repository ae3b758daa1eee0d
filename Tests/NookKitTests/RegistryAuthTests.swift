import Foundation
import NookCore
import NookRegistry
import XCTest

/// The registry client's auth: WWW-Authenticate challenges and podman's auth files.
final class RegistryAuthTests: XCTestCase {
    func testDockerHubsBearerChallenge() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
        XCTAssertEqual(AuthChallenge.parse(header), [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull",
        ])])
    }

    func testSeveralChallengesSpacesTokensAndEscapes() {
        let header = #"Basic realm="Registry Realm", BEARER Realm = "https://t.example/token?x=1" , service=reg.example, error="a \"quoted\" \\ word""#
        let parsed = AuthChallenge.parse(header)
        XCTAssertEqual(parsed.map(\.scheme), ["basic", "bearer"])
        XCTAssertEqual(parsed.first?.realm, "Registry Realm")
        XCTAssertEqual(parsed.last?.realm, "https://t.example/token?x=1")
        XCTAssertEqual(parsed.last?.service, "reg.example")
        XCTAssertEqual(parsed.last?.parameters["error"], #"a "quoted" \ word"#)
        XCTAssertNil(parsed.last?.scope)
    }

    func testMalformedChallengesGiveWhatCouldBeRead() {
        XCTAssertEqual(AuthChallenge.parse(""), [])
        XCTAssertEqual(AuthChallenge.parse("Bearer"), [AuthChallenge(scheme: "bearer", parameters: [:])])
        XCTAssertEqual(AuthChallenge.parse(#"Bearer realm="never closed"#), [], "an unclosed quote ends the header")
        XCTAssertEqual(AuthChallenge.parse(#"Bearer realm=,"#).count, 0)
    }

    func testAuthFileEntriesMostSpecificFirstAndDockersOldKeys() throws {
        let file = try AuthFile(path: "/x/auth.json", json: Array("""
        {"auths": {
          "quay.io": {"auth": "\(Self.b64("org:general"))"},
          "quay.io/team/app": {"auth": "\(Self.b64("app:specific"))"},
          "https://index.docker.io/v1/": {"auth": "\(Self.b64("hub:pass:with:colons"))"},
          "http://127.0.0.1:5000/v2/": {"auth": "\(Self.b64("local:pw"))"},
          "empty.example": {"auth": ""}
        }, "credHelpers": {"gcr.io": "gcloud"}}
        """.utf8))
        XCTAssertEqual(try file.credentials(registry: "quay.io", repository: "team/app"), RegistryCredentials(username: "app", password: "specific"))
        XCTAssertEqual(try file.credentials(registry: "quay.io", repository: "team/other"), RegistryCredentials(username: "org", password: "general"))
        XCTAssertEqual(try file.credentials(registry: "docker.io", repository: "library/busybox"),
                       RegistryCredentials(username: "hub", password: "pass:with:colons"))
        XCTAssertEqual(try file.credentials(registry: "127.0.0.1:5000", repository: "x"), RegistryCredentials(username: "local", password: "pw"))
        XCTAssertNil(try file.credentials(registry: "empty.example", repository: "x"))
        XCTAssertNil(try file.credentials(registry: "gcr.io", repository: "x"), "credential helpers are not run")
    }

    func testABadAuthFileOrEntryIsNamed() throws {
        XCTAssertThrowsError(try AuthFile(path: "/x/auth.json", json: Array("not json".utf8))) { error in
            XCTAssertTrue("\(error)".contains("auth file '/x/auth.json' is not the JSON of an auth file"), "\(error)")
        }
        let file = try AuthFile(path: "/x/auth.json", json: Array(#"{"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}}"#.utf8))
        XCTAssertThrowsError(try file.credentials(registry: "r.example", repository: "a")) { error in
            XCTAssertTrue("\(error)".contains("the entry for r.example is not base64 of USER:PASSWORD"), "\(error)")
        }
    }

    func testAuthFileSearchPathIsPodmans() {
        let env = ["XDG_RUNTIME_DIR": "/run/user/7", "HOME": "/home/u"]
        XCTAssertEqual(AuthFile.searchPath(explicit: nil, environment: env).paths,
                       ["/run/user/7/containers/auth.json", "/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"])
        XCTAssertEqual(AuthFile.searchPath(explicit: nil, environment: env.merging(["XDG_CONFIG_HOME": "/cfg", "DOCKER_CONFIG": "/dk"]) { $1 }).paths,
                       ["/run/user/7/containers/auth.json", "/cfg/containers/auth.json", "/dk/config.json"])
        let fromEnv = AuthFile.searchPath(explicit: nil, environment: env.merging(["REGISTRY_AUTH_FILE": "/a.json"]) { $1 })
        XCTAssertEqual(fromEnv.paths, ["/a.json"])
        XCTAssertTrue(fromEnv.explicit)
        XCTAssertEqual(AuthFile.searchPath(explicit: "/flag.json", environment: env.merging(["REGISTRY_AUTH_FILE": "/a.json"]) { $1 }).paths, ["/flag.json"])
    }

    func testAuthFilesAreReadBoundedAndAMissingExplicitOneIsAnError() throws {
        let dir = NSTemporaryDirectory() + "nook-authfile-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertNil(try AuthFile.read(dir + "/none.json", mustExist: false))
        XCTAssertThrowsError(try AuthFile.read(dir + "/none.json", mustExist: true)) { error in
            XCTAssertTrue("\(error)".contains("auth file '\(dir)/none.json': no such file or directory"), "\(error)")
        }
        let big = dir + "/big.json"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: Data(repeating: 32, count: (1 << 20) + 1)))
        XCTAssertThrowsError(try AuthFile.read(big, mustExist: true)) { error in
            XCTAssertTrue("\(error)".contains("larger than"), "\(error)")
        }
        let good = dir + "/auth.json"
        try #"{"auths": {"r.example": {"auth": "\#(Self.b64("u:p"))"}}}"#.write(toFile: good, atomically: true, encoding: .utf8)
        XCTAssertEqual(try AuthFile.lookup(registry: "r.example", repository: "a/b", explicit: nil,
                                           environment: ["REGISTRY_AUTH_FILE": good, "HOME": dir]),
                       RegistryCredentials(username: "u", password: "p"))
    }

    func testCredsFlag() throws {
        XCTAssertEqual(try RegistryCredentials(parsingFlag: "u:p:q"), RegistryCredentials(username: "u", password: "p:q"))
        XCTAssertEqual(try RegistryCredentials(parsingFlag: "u", askPassword: { "asked" }), RegistryCredentials(username: "u", password: "asked"))
        XCTAssertThrowsError(try RegistryCredentials(parsingFlag: ":p"))
    }

    static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}
