import Foundation
import XCTest

/// NookKit's harness API, driven from `nook-harness-probe` run as the test
/// user: the library must work for a rootless caller, and this test process
/// runs as root in CI. The probe sits beside the harness's nook, where
/// `MonitorExecutable.locate` finds it (the probe itself has no `__monitor`).
final class NookKitHarnessTests: XCTestCase {
    let h = Harness.shared

    /// The probe, copied beside the harness's nook (readable by the test user).
    func probe() throws -> String {
        let path = h.work + "/nook-harness-probe"
        if !FileManager.default.fileExists(atPath: path) {
            let built = URL(fileURLWithPath: Harness.builtBinary()).deletingLastPathComponent().appendingPathComponent("nook-harness-probe").path
            guard FileManager.default.isExecutableFile(atPath: built) else {
                throw XCTSkip("nook-harness-probe is not built (swift build --build-tests builds it)")
            }
            try FileManager.default.copyItem(atPath: built, toPath: path)
            chmod(path, 0o755)
            if h.isRoot { chown(path, h.user.uid, h.user.gid) }
        }
        return path
    }

    /// argv for the probe as the test user, with a clean environment (no NOOK_BINARY: it finds nook beside itself).
    func probeCommand(_ args: [String]) throws -> [String] {
        let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=\(h.work)", "LANG=C", "XDG_RUNTIME_DIR=\(h.runtimeDir())"]
        return h.asUser(["/usr/bin/env", "-i"] + environment + [try probe()] + args)
    }

    func requirePasta() throws {
        guard Harness.isInstalled("pasta") else { throw XCTSkip("pasta is not installed (Debian package passt)") }
    }

    /// A web server in a container: ready (log line, then HTTP), fetched over
    /// its random host port, exec with status and both outputs, logs as lines,
    /// and nothing left after `withContainer`.
    func testServeFetchExecAndCleanUp() throws {
        try requirePasta()
        let r = try Harness.shell(try probeCommand(["serve", h.rootfs]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("status-line: HTTP/1.1 200 OK"), r.stdout)
        XCTAssertTrue(r.stdout.contains("body: hello from nook"), r.stdout)
        XCTAssertTrue(r.stdout.contains("exec: 3 out err"), r.stdout)
        XCTAssertTrue(r.stdout.contains("first-log-line: serving"), r.stdout)
        let stateDir = r.stdout.split(separator: "\n").first { $0.hasPrefix("state-dir: ") }.map { String($0.dropFirst(11)) }
        XCTAssertNotNil(stateDir, r.stdout)
        if let stateDir { XCTAssertFalse(FileManager.default.fileExists(atPath: stateDir), "withContainer left \(stateDir)") }
    }

    /// Start-to-ready of busybox httpd through the API, median of 50 (printed; no timed assertion).
    func testStartToReadyMedian() throws {
        try requirePasta()
        let r = try Harness.shell(try probeCommand(["bench", h.rootfs, "50"]), timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        print("nook-harness-probe: " + r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
