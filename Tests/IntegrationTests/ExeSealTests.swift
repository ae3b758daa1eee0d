import Foundation
import XCTest

/// CVE-2019-5736 at each moment a nook process and a container's code share
/// a PID namespace. Inside the container, `probe exe_hijack` does what an
/// attacker does: it opens /proc/PID/exe of every nook process it can see with
/// O_PATH, keeps it, and keeps trying to write into it until the time is up
/// (the kernel refuses with ETXTBSY only while something runs the file).
/// Each test runs its own copy of nook, owned by the test user like an
/// installed one, and checks that the copy is unchanged afterwards.
final class ExeSealTests: XCTestCase {
    let h = Harness.shared

    /// A private nook binary and a directory shared with the container as /out.
    struct Target {
        let nook: String
        let out: String
        let digest: String
    }

    func target() throws -> Target {
        let dir = try h.scratch("seal")
        let nook = dir + "/nook"
        try FileManager.default.copyItem(atPath: h.nook, toPath: nook)
        chmod(nook, 0o755)
        if h.isRoot { chown(nook, h.user.uid, h.user.gid) }
        let out = try h.scratch("seal-out")
        return Target(nook: nook, out: out, digest: try Self.sha256(nook))
    }

    static func sha256(_ path: String) throws -> String {
        let r = try Harness.shell(["/usr/bin/sha256sum", path])
        return String(r.stdout.prefix(64))
    }

    /// The probe's check: watch for `seconds`, attacking only `t.nook` and sealed copies.
    func hijack(_ t: Target, seconds: Int = 3) -> String { "exe_hijack:\(seconds):\(t.nook)" }

    /// Runs the probe in the background and returns once it has looked at /proc once.
    func backgroundProbe(_ t: Target) -> String {
        "probe exe_write:1 \(hijack(t)) >/out/result 2>/out/err & while ! grep -q watching /out/err 2>/dev/null; do usleep 20000; done"
    }

    func waitForFile(_ path: String, containing text: String, timeout: TimeInterval = 20) -> String {
        var content = ""
        _ = Harness.eventually(timeout) {
            content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return content.contains(text)
        }
        return content
    }

    /// The probe's line: it saw nook processes, the kernel refused each for
    /// good, `expected` parts (",PID:OUTCOME:ERRNO", pids as the container
    /// numbers them) are in it, and the binary on disk did not change.
    func assertNotHijacked(_ output: String, _ t: Target, expected: [String], mustSee: Bool = true,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let probeLine = output.split(separator: "\n").first { $0.hasPrefix("exe_hijack:") && $0.contains(" result=") }.map(String.init) ?? ""
        XCTAssertTrue(probeLine.contains(" result=err "), "no nook binary could be written or held writable: \(output)", file: file, line: line)
        let detail = probeLine.components(separatedBy: "detail=").last ?? ""
        let items = detail.split(separator: ",").map(String.init)
        if mustSee {
            XCTAssertGreaterThan(Int(items.first?.dropFirst("seen=".count) ?? "") ?? 0, 0, "a nook process was in sight: \(probeLine)", file: file, line: line)
        }
        for item in items.dropFirst() {
            let outcome = item.split(separator: ":").dropFirst().first ?? ""
            XCTAssertTrue(outcome == "denied" || outcome == "sealed", "\(item): the kernel refused it for good: \(probeLine)", file: file, line: line)
        }
        for part in expected {
            XCTAssertTrue(detail.contains(part), "\(part) in \(probeLine)", file: file, line: line)
        }
        XCTAssertEqual(try Self.sha256(t.nook), t.digest, "the nook binary is unchanged", file: file, line: line)
    }

    /// Until `start`, PID 1 is the start waiter (StartWaiter), not nook: not
    /// dumpable, so the container may not even open its /proc/1/exe; and no
    /// nook process in sight could be written.
    func assertWaiterOutOfReach(_ output: String, _ t: Target, file: StaticString = #filePath, line: UInt = #line) throws {
        let exe = output.split(separator: "\n").first { $0.hasPrefix("exe_write:1 ") }.map(String.init) ?? "missing: \(output)"
        XCTAssertTrue(exe.contains(" result=err errno=EACCES"), exe, file: file, line: line)
        try assertNotHijacked(output, t, expected: [], mustSee: false, file: file, line: line)
    }

    /// A bundle running `args`, with `t.out` as /out.
    func bundle(_ args: [String], _ t: Target, extra: @escaping (inout [String: Any]) -> Void = { _ in }) throws -> String {
        try h.bundle(args) { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/out", "type": "bind", "source": t.out, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
            extra(&config)
        }
    }

    /// No PID namespace of the container's own: it sees the host's processes
    /// through the host's /proc (a new procfs needs a PID namespace of one's own).
    static func sharingNooksPIDNamespace(_ config: inout [String: Any]) {
        var linux = config["linux"] as? [String: Any] ?? [:]
        let namespaces = linux["namespaces"] as? [[String: Any]] ?? []
        linux["namespaces"] = namespaces.filter { $0["type"] as? String != "pid" }
        config["linux"] = linux
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts = mounts.map { m in
            guard m["destination"] as? String == "/proc" else { return m }
            return ["destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind", "nosuid", "nodev", "noexec"]]
        }
        config["mounts"] = mounts
    }

    func testCreatedContainerReachedByExec() throws {
        let t = try target()
        let dir = try bundle(["sleep", "30"], t)
        let id = Harness.name("seal-created")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id], binary: t.nook).status, 0)
        defer { _ = try? h.run(["delete", "--force", id], binary: t.nook) }
        let exec = try h.run(["exec", "--detach", id, "--", "sh", "-c", "probe exe_write:1 \(hijack(t)) >/out/result 2>/out/err"], binary: t.nook)
        XCTAssertEqual(exec.status, 0, exec.stderr)
        XCTAssertTrue(waitForFile(t.out + "/err", containing: "watching").contains("watching"))
        // start lets PID 1 exec the command: from then on nothing runs the binary PID 1 was.
        XCTAssertEqual(try h.run(["start", id], binary: t.nook).status, 0)
        let result = waitForFile(t.out + "/result", containing: "exe_hijack:")
        try assertWaiterOutOfReach(result, t)
    }

    func testStartContainerHookRunByTheImagesShell() throws {
        let t = try target()
        let dir = try bundle(["sleep", "30"], t) { config in
            config["hooks"] = ["startContainer": [["path": "/bin/sh", "args": ["sh", "-c", self.backgroundProbe(t)]]]]
        }
        let id = Harness.name("seal-starthook")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id], binary: t.nook).status, 0)
        defer { _ = try? h.run(["delete", "--force", id], binary: t.nook) }
        let start = try h.run(["start", id], binary: t.nook)
        XCTAssertEqual(start.status, 0, start.stderr)
        let result = waitForFile(t.out + "/result", containing: "exe_hijack:")
        try assertWaiterOutOfReach(result, t)
    }

    func testCreateContainerHookScriptWithTheImagesInterpreter() throws {
        let t = try target()
        let script = t.out + "/hook.sh"
        try "#!/bin/sh\n\(backgroundProbe(t))\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let dir = try bundle(["sleep", "30"], t) { config in
            config["hooks"] = ["createContainer": [["path": script]]]
        }
        let id = Harness.name("seal-createhook")
        let create = try h.run(["create", "--bundle", dir, id], binary: t.nook)
        XCTAssertEqual(create.status, 0, create.stderr)
        defer { _ = try? h.run(["delete", "--force", id], binary: t.nook) }
        XCTAssertEqual(try h.run(["start", id], binary: t.nook).status, 0)
        let result = waitForFile(t.out + "/result", containing: "exe_hijack:")
        try assertWaiterOutOfReach(result, t)
    }

    func testInitOfAForegroundRun() throws {
        let t = try target()
        let r = try h.run(["run", "--init", "--rootfs", h.rootfs, "--", "probe", hijack(t, seconds: 2)], binary: t.nook)
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertNotHijacked(r.stdout, t, expected: [",1:"])
    }

    /// Rootless podman's case: nook runs as root of a user namespace made with
    /// the user's sub-ids, and the container has no user namespace of its own.
    /// With CAP_SYS_PTRACE there, the container may open /proc/PID/exe of
    /// non-dumpable processes too: only the sealed copy stands.
    func testInitWhenTheContainerSharesNooksUserNamespaceAndHasPtrace() throws {
        let t = try target()
        let dir = try bundle(["probe", hijack(t, seconds: 2)], t) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "user" }
            linux["uidMappings"] = nil
            linux["gidMappings"] = nil
            config["linux"] = linux
            var process = config["process"] as? [String: Any] ?? [:]
            var caps = process["capabilities"] as? [String: [String]] ?? [:]
            for set in ["bounding", "effective", "permitted"] { caps[set, default: []].append("CAP_SYS_PTRACE") }
            process["capabilities"] = caps
            config["process"] = process
            // gid 5 (tty) is not in the namespace `unshare --map-auto` makes.
            config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []).map { m in
                guard m["type"] as? String == "devpts" else { return m }
                var m = m
                m["options"] = (m["options"] as? [String] ?? []).filter { !$0.hasPrefix("gid=") }
                return m
            }
        }
        let state = try h.scratch("seal-state")
        chmod(state, 0o700)
        let r = try h.runAsUser(["/usr/bin/unshare", "--user", "--map-root-user", "--map-auto",
                                 t.nook, "--root", state, "run", "--init", "--bundle", dir, Harness.name("seal-userns")])
        try XCTSkipIf(r.stderr.hasPrefix("unshare:"), "no user namespace with the user's sub-ids here: \(r.stderr)")
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertNotHijacked(r.stdout, t, expected: [",1:sealed:"])
    }

    func testDetachedContainerWithInit() throws {
        let t = try target()
        let name = Harness.name("seal-detached")
        let r = try h.run(["run", "-d", "--init", "--name", name, "-v", "\(t.out):/out", "--rootfs", h.rootfs, "--",
                           "sh", "-c", "probe \(hijack(t)) >/out/result 2>&1; sleep 30"], binary: t.nook)
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name], binary: t.nook) }
        let result = waitForFile(t.out + "/result", containing: " result=")
        // PID 1 is the monitor's clone; the monitor itself is outside the container's PID namespace.
        try assertNotHijacked(result, t, expected: [",1:"])
    }

    func testForegroundRunWithoutAPIDNamespace() throws {
        let t = try target()
        let dir = try bundle(["probe", hijack(t, seconds: 2)], t, extra: Self.sharingNooksPIDNamespace)
        let r = try h.run(["run", "--bundle", dir, Harness.name("seal-hostpid")], binary: t.nook)
        XCTAssertEqual(r.status, 0, r.stderr)
        // nook is in sight but outside the container's user namespace: the
        // kernel refuses its /proc/PID/exe whatever nook does (SealPolicy).
        try assertNotHijacked(r.stdout, t, expected: [":denied:EACCES"])
    }

    func testDetachedMonitorWithoutAPIDNamespace() throws {
        let t = try target()
        let dir = try bundle(["sh", "-c", "probe \(hijack(t)) >/out/result 2>&1"], t, extra: Self.sharingNooksPIDNamespace)
        let name = Harness.name("seal-hostpid-d")
        let r = try h.run(["run", "-d", "--bundle", dir, name], binary: t.nook)
        XCTAssertEqual(r.status, 0, r.stderr)
        defer {
            // Not `rm -f`: in the host's PID namespace it signals every process
            // of the user (kill --all's scope). The init alone, then wait.
            _ = try? h.run(["kill", name, "KILL"], binary: t.nook)
            _ = try? h.run(["wait", name], timeout: 10, binary: t.nook)
            _ = try? h.run(["rm", name], binary: t.nook)
        }
        let result = waitForFile(t.out + "/result", containing: " result=")
        let monitor = try XCTUnwrap(Self.state(h, name)?["monitorPID"] as? Int)
        try assertNotHijacked(result, t, expected: [",\(monitor):denied:EACCES"])
    }

    static func state(_ h: Harness, _ name: String) -> [String: Any]? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json")) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}
