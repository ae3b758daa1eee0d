import Foundation
import XCTest

/// Between `create` and `start`, a container's PID 1 waits for `start` while
/// processes can already run in the container (`exec`, startContainer hooks).
/// Issue 15: none of them may write PID 1 (it holds every capability of the
/// container's user namespace and no seccomp filter yet). Issue 16: none may
/// read what `nook create` knew through it (host paths, its environment).
final class CreatedInitTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// In `create`'s arguments (the pid file's path) and in its environment, never in the container's.
    let canary = "nook-canary-9d41e7"

    /// What a process in the container tries against PID 1.
    var attacks: [String] {
        ["mem_write:1", "mem_find:1:\(canary)", "find:/proc/1/environ:\(canary)", "find:/proc/1/cmdline:\(canary)"]
    }

    /// A bundle running `args`, with a fresh directory as /out.
    func bundle(_ args: [String], out: String, extra: @escaping (inout [String: Any]) -> Void = { _ in }) throws -> String {
        try h.bundle(args) { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
            extra(&config)
        }
    }

    func create(_ dir: String, _ id: String) throws {
        let r = try h.run(["create", "--bundle", dir, "--pid-file", dir + "/\(canary).pid", id],
                          env: ["NOOK_HOST_CANARY": canary])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func waitForFile(_ path: String, containing text: String) -> String {
        var content = ""
        _ = Harness.eventually(30) {
            content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return content.contains(text)
        }
        return content
    }

    /// The probe's lines: PID 1 was neither written nor read for anything of nook's.
    func assertInitUntouched(_ output: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = output.split(separator: "\n").map(String.init)
        func result(_ check: String) -> String { lines.first { $0.hasPrefix(check + " ") } ?? "missing: \(output)" }
        XCTAssertTrue(result("mem_write:1").contains(" result=err "), "PID 1's memory is not writable: \(result("mem_write:1"))", file: file, line: line)
        for check in attacks.dropFirst() {
            let r = result(check)
            XCTAssertTrue(r.contains(" result=err ") || r.contains("found=no"), "nothing of nook's in \(r)", file: file, line: line)
        }
    }

    func testExecIntoACreatedContainerCanNeitherWriteNorReadItsInit() throws {
        let out = try h.scratch("created-out")
        let dir = try bundle(["sh", "-c", "echo started >/out/started; sleep 30"], out: out)
        let id = Harness.name("created")
        try create(dir, id)
        defer { _ = try? h.run(["delete", "--force", id]) }

        let exec = try h.run(["exec", "--detach", id, "--", "sh", "-c",
                              "probe \(attacks.joined(separator: " ")) >/out/tmp 2>&1; mv /out/tmp /out/probe"])
        XCTAssertEqual(exec.status, 0, exec.stderr)
        assertInitUntouched(waitForFile(out + "/probe", containing: "find:/proc/1/cmdline"))

        // The container still starts, and runs its command.
        let start = try h.run(["start", id])
        XCTAssertEqual(start.status, 0, start.stderr)
        XCTAssertEqual(waitForFile(out + "/started", containing: "started"), "started\n")
    }

    func testStartContainerHookCanNeitherWriteNorReadTheInit() throws {
        let out = try h.scratch("created-hook-out")
        let dir = try bundle(["sh", "-c", "echo started >/out/started; sleep 30"], out: out) { config in
            config["hooks"] = ["startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "probe \(self.attacks.joined(separator: " ")) >/out/hook 2>&1"]]]]
        }
        let id = Harness.name("created-hook")
        try create(dir, id)
        defer { _ = try? h.run(["delete", "--force", id]) }
        let start = try h.run(["start", id])
        XCTAssertEqual(start.status, 0, start.stderr)
        assertInitUntouched(waitForFile(out + "/hook", containing: "find:/proc/1/cmdline"))
        XCTAssertEqual(waitForFile(out + "/started", containing: "started"), "started\n")
    }

    /// PID 1 waits as a small program that execs the command in the end: the
    /// command's capabilities and seccomp state are those `run` gives the same
    /// bundle, which execs it straight away, as root and as another user
    /// (ambient caps), with and without no_new_privs.
    func testCommandHasTheCapabilitiesRunGivesIt() throws {
        let asUser: (inout [String: Any]) -> Void = { config in
            var process = config["process"] as! [String: Any]
            process["user"] = ["uid": 1000, "gid": 1000]
            var caps = process["capabilities"] as? [String: [String]] ?? [:]
            for set in ["bounding", "permitted", "inheritable", "ambient"] {
                caps[set] = Array(Set((caps[set] ?? []) + ["CAP_NET_BIND_SERVICE"])).sorted()
            }
            caps["effective"] = ["CAP_NET_BIND_SERVICE"]
            process["capabilities"] = caps
            config["process"] = process
        }
        // Without no_new_privs the setup loads the filter itself; with it, the waiter does.
        let mayGainPrivileges: (inout [String: Any]) -> Void = { config in
            var process = config["process"] as! [String: Any]
            process["noNewPrivileges"] = false
            config["process"] = process
        }
        for (who, extra) in [("root", { (_: inout [String: Any]) in }), ("uid 1000", asUser), ("root without no_new_privs", mayGainPrivileges)] {
            let out = try h.scratch("created-caps")
            chmod(out, 0o777)
            let dir = try bundle(["sh", "-c", "probe caps status >/out/tmp; mv /out/tmp /out/caps"], out: out, extra: extra)
            let viaRun = try h.run(["run", "--bundle", dir, Harness.name("caps-run")])
            XCTAssertEqual(viaRun.status, 0, viaRun.stderr)
            let expected = try String(contentsOfFile: out + "/caps", encoding: .utf8)
            XCTAssertTrue(expected.contains("caps result=ok"), expected)
            unlink(out + "/caps")

            let id = Harness.name("caps-created")
            try create(dir, id)
            defer { _ = try? h.run(["delete", "--force", id]) }
            let start = try h.run(["start", id])
            XCTAssertEqual(start.status, 0, start.stderr)
            XCTAssertEqual(waitForFile(out + "/caps", containing: "status result="), expected, who)
        }
    }
}
