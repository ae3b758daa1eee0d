import Foundation
import XCTest

/// The OCI runtime interface, driven the way conmon or containerd drive it.
final class LifecycleTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// A bundle whose rootfs is the test rootfs and whose process is `args`.
    func bundle(_ args: [String], terminal: Bool = false, extra: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        try h.bundle(args, terminal: terminal, extra: extra)
    }

    func state(_ id: String) throws -> [String: Any]? {
        let r = try h.run(["state", id])
        guard r.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    }

    /// A process of the same user may SIGSTOP the waiting init (found by a
    /// hostile review: `start` then waited for ever). It is continued; `start`
    /// returns and the command runs.
    func testStartContinuesAStoppedWaiter() throws {
        let dir = try bundle(["sleep", "30"])
        let id = Harness.name("stopped-waiter")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        defer { _ = try? h.run(["delete", "--force", id]) }
        let pid = try XCTUnwrap(try state(id)?["pid"] as? Int)
        XCTAssertEqual(kill(Int32(pid), SIGSTOP), 0)
        let r = try h.run(["start", id], timeout: 20)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true })
        XCTAssertEqual(try state(id)?["status"] as? String, "running")
    }

    func testLifecycleFollowsTheSpec() throws {
        let dir = try bundle(["sleep", "30"])
        let id = Harness.name("life")
        let pidFile = dir + "/pid"
        let created = try h.run(["create", "--bundle", dir, "--pid-file", pidFile, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        var s = try XCTUnwrap(state(id))
        XCTAssertEqual(s["status"] as? String, "created")
        XCTAssertEqual(s["ociVersion"] as? String, "1.0.2")
        XCTAssertEqual(s["bundle"] as? String, dir)
        let pid = try XCTUnwrap(s["pid"] as? Int)
        XCTAssertEqual(try String(contentsOfFile: pidFile, encoding: .utf8), "\(pid)")
        XCTAssertTrue(Harness.isAlive(Int32(pid)), "the process exists and waits")
        XCTAssertNotEqual(try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).prefix(5), "sleep", "not yet exec'd")
        XCTAssertTrue(Harness.children(of: getpid()).allSatisfy { $0 != Int32(pid) }, "no Nook process stays as its parent")

        XCTAssertEqual(try h.run(["start", id]).status, 0)
        s = try XCTUnwrap(state(id))
        XCTAssertEqual(s["status"] as? String, "running")
        XCTAssertTrue(Harness.eventually { (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true })
        let list = try h.run(["list", "--format", "json"])
        XCTAssertTrue(list.stdout.contains("\"id\":\"\(id)\""), list.stdout)

        let refused = try h.run(["delete", id])
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("is running"), refused.stderr)

        XCTAssertEqual(try h.run(["kill", id, "KILL"]).status, 0)
        XCTAssertTrue(Harness.eventually { (try? self.state(id))??["status"] as? String == "stopped" })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
        let gone = try h.run(["state", id])
        XCTAssertEqual(gone.status, 125)
        XCTAssertTrue(gone.stderr.contains("container '\(id)' does not exist"), gone.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(id)"))
    }

    func testKillAcceptsNamesAndNumbersAndDeleteForceKills() throws {
        let dir = try bundle(["sh", "-c", "trap 'exit 3' USR1; while true; do sleep 0.05; done"])
        let id = Harness.name("kill")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        usleep(200_000)
        XCTAssertEqual(try h.run(["kill", id, "SIGUSR1"]).status, 0)
        XCTAssertTrue(Harness.eventually { (try? self.state(id))??["status"] as? String == "stopped" })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)

        let id2 = Harness.name("force")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id2]).status, 0)
        XCTAssertEqual(try h.run(["start", id2]).status, 0)
        let pid = try XCTUnwrap(try state(id2)?["pid"] as? Int)
        XCTAssertEqual(try h.run(["kill", id2, "15"]).status, 0, "numeric signals (podman sends them)")
        XCTAssertEqual(try h.run(["delete", "--force", id2]).status, 0)
        XCTAssertFalse(Harness.isAlive(Int32(pid)))
        let bad = try h.run(["kill", id2, "SIGNOPE"])
        XCTAssertEqual(bad.status, 125)
    }

    func testErrorsNameTheProblemAndCreateNothing() throws {
        let unknown = Harness.name("nosuch")
        for verb in ["state", "start", "kill", "delete"] {
            let r = try h.run([verb, unknown])
            XCTAssertEqual(r.status, 125, verb)
            XCTAssertTrue(r.stderr.contains("container '\(unknown)' does not exist"), "\(verb): \(r.stderr)")
        }
        let dir = try bundle(["true"])
        let id = Harness.name("dup")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        let again = try h.run(["create", "--bundle", dir, id])
        XCTAssertEqual(again.status, 125)
        XCTAssertTrue(again.stderr.contains("a container named '\(id)' already exists"), again.stderr)
        XCTAssertEqual(try h.run(["delete", "--force", id]).status, 0)

        let cases: [(String, String)] = [
            ("{not json", "not valid JSON"),
            (#"{"process": {"user": {"uid": 0, "gid": 0}, "cwd": "/"}}"#, "missing field 'ociVersion'"),
            (#"{"ociVersion": "1.0.2", "process": {"user": {"uid": "root", "gid": 0}, "cwd": "/"}}"#, "field 'process.user.uid' has the wrong type"),
        ]
        for (text, message) in cases {
            let b = try h.scratch("badconfig")
            try text.write(toFile: b + "/config.json", atomically: true, encoding: .utf8)
            let bid = Harness.name("bad")
            let r = try h.run(["create", "--bundle", b, bid])
            XCTAssertEqual(r.status, 125)
            XCTAssertTrue(r.stderr.contains(message), "\(message) in \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(bid)"), "nothing created")
        }
        let missing = try h.run(["create", "--bundle", "/nonexistent-bundle", Harness.name("nob")])
        XCTAssertTrue(missing.stderr.contains("bundle '/nonexistent-bundle' is not a directory"), missing.stderr)
        let empty = try h.scratch("empty")
        let noConfig = try h.run(["create", "--bundle", empty, Harness.name("noc")])
        XCTAssertTrue(noConfig.stderr.contains("has no config.json"), noConfig.stderr)
    }

    func testConcurrentCreatesOfOneIDHaveExactlyOneWinner() throws {
        let dir = try bundle(["sleep", "10"])
        let id = Harness.name("race")
        // Six nook processes started together, each as the test user.
        let argv = h.commandLine(["create", "--bundle", dir, id])
        let runners = try (0..<6).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        runners.forEach { $0.waitUntilExit() }
        let statuses = runners.map(\.terminationStatus)
        XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 125 }.count, 5, "\(statuses)")
        XCTAssertEqual(try h.run(["delete", "--force", id]).status, 0)
    }

    func testHooksGetTheStateOnStdinAndAFailingHookFailsCreate() throws {
        let out = try h.scratch("hooks")
        let script = try h.stdinSavingHook(in: out)
        let dir = try bundle(["true"]) { config in
            config["hooks"] = ["createRuntime": [["path": script, "args": ["hook.sh", out + "/createRuntime.json"]]],
                               "poststart": [["path": script, "args": ["hook.sh", out + "/poststart.json"]]],
                               "poststop": [["path": script, "args": ["hook.sh", out + "/poststop.json"]]]]
        }
        let id = Harness.name("hooks")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        XCTAssertTrue(Harness.eventually { (try? self.state(id))??["status"] as? String == "stopped" })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
        for (name, status) in [("createRuntime", "creating"), ("poststart", "running"), ("poststop", "stopped")] {
            let data = try Data(contentsOf: URL(fileURLWithPath: out + "/\(name).json"))
            let s = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            XCTAssertEqual(s?["id"] as? String, id, name)
            XCTAssertEqual(s?["bundle"] as? String, dir, name)
            XCTAssertEqual(s?["status"] as? String, status, name)
        }
        let failing = try bundle(["true"]) { config in
            config["hooks"] = ["prestart": [["path": "/bin/false"]]]
        }
        let fid = Harness.name("hookfail")
        let r = try h.run(["create", "--bundle", failing, fid])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("prestart hook 0 (/bin/false): exited with status 1"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(fid)"))
    }

    func testStartContainerHookRunsInsideTheContainerBeforeTheProgram() throws {
        let out = try h.scratch("inside-hook")
        let dir = try bundle(["sh", "-c", "echo program >> /out/order"]) { config in
            config["hostname"] = "hooked"
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
            // The path resolves in the container (busybox's sh), and /out exists only there.
            config["hooks"] = ["startContainer": [["path": "/bin/sh", "args": ["sh", "-c",
                "hostname > /out/hostname; echo hook >> /out/order; cat > /out/state.json"]]]]
        }
        let id = Harness.name("inhook")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        let started = try h.run(["start", id])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(Harness.eventually { (try? self.state(id))??["status"] as? String == "stopped" })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: out + "/hostname", encoding: .utf8), "hooked\n", "the container's UTS namespace")
        XCTAssertEqual(try String(contentsOfFile: out + "/order", encoding: .utf8), "hook\nprogram\n", "before the program")
        let s = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/state.json"))) as? [String: Any]
        XCTAssertEqual(s?["id"] as? String, id)

        let failing = try bundle(["true"]) { config in config["hooks"] = ["startContainer": [["path": "/bin/false"]]] }
        let fid = Harness.name("inhookfail")
        XCTAssertEqual(try h.run(["create", "--bundle", failing, fid]).status, 0)
        let r = try h.run(["start", fid])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("startContainer hook 0 (/bin/false, in the container): exited with status 1"), r.stderr)
        XCTAssertTrue(Harness.eventually { (try? self.state(fid))??["status"] as? String == "stopped" }, "a failed hook stops the container")
        _ = try h.run(["delete", "--force", fid])
    }

    /// createContainer: the path resolves on the host (the runtime namespace),
    /// the hook runs in the container's namespaces, during `create`.
    /// The image's /bin/sh interprets a #! hook from `/dev/fd/N`: reopening that for
    /// writing must not reach the host's script (it runs from a sealed copy).
    func testAnImagesInterpreterCannotRewriteTheHostsHookScript() throws {
        let out = try h.scratch("evil-sh")
        let rootfs = out + "/rootfs"
        XCTAssertEqual(try h.runAsUser(["/bin/cp", "-a", h.rootfs, rootfs]).status, 0)
        // The evil interpreter, a static program: appends to the script it was given
        // (reopening /dev/fd/N for writing), then runs it with busybox's sh.
        try FileManager.default.removeItem(atPath: rootfs + "/bin/sh")
        let source = out + "/evilsh.c"
        try """
        #include <fcntl.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc > 1) {
                int fd = open(argv[1], O_WRONLY | O_APPEND);
                if (fd >= 0) { write(fd, "echo HOST-SCRIPT-MODIFIED-BY-CONTAINER\\n", 39); close(fd); }
            }
            argv[0] = "sh";
            execv("/bin/busybox", argv);
            return 127;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Harness.shell(["/usr/bin/gcc", "-static", "-O1", "-o", rootfs + "/bin/sh", source]).status, 0)
        let script = out + "/hook.sh"
        let original = "#!/bin/sh\necho ran > /out/ran\n"
        try original.write(toFile: script, atomically: true, encoding: .utf8)
        for file in [script, rootfs + "/bin/sh"] {
            chmod(file, 0o755)
            if h.isRoot { chown(file, h.user.uid, h.user.gid) }
        }
        let dir = try bundle(["true"]) { config in
            config["root"] = ["path": rootfs]
            config["hooks"] = ["createContainer": [["path": script]]]
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
        }
        let id = Harness.name("evilsh")
        let r = try h.run(["create", "--bundle", dir, id])
        XCTAssertEqual(r.status, 0, r.stderr)
        _ = try h.run(["delete", "--force", id])
        XCTAssertEqual(try String(contentsOfFile: out + "/ran", encoding: .utf8), "ran\n", "the hook ran, through the image's /bin/sh")
        XCTAssertEqual(try String(contentsOfFile: script, encoding: .utf8), original, "the host's script is unchanged")
    }

    func testCreateContainerHookRunsInTheContainerWithItsPathOnTheHost() throws {
        let out = try h.scratch("create-hook")
        // Both hooks live where the container cannot see them: a static binary
        // (busybox) and a #! script, whose /bin/sh is the container's.
        let binary = out + "/hook-busybox"
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: binary)
        let script = out + "/hook.sh"
        try "#!/bin/sh\nhostname > /out/script-hostname\necho script >> /out/order\ncat > /out/script-state.json\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        for file in [binary, script] {
            chmod(file, 0o755)
            if h.isRoot { chown(file, h.user.uid, h.user.gid) }
        }
        let dir = try bundle(["sh", "-c", "echo program >> /out/order"]) { config in
            config["hostname"] = "hooked"
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
            config["hooks"] = ["createContainer": [
                ["path": binary, "args": ["busybox", "sh", "-c",
                    "hostname > /out/hostname; readlink /proc/self/ns/mnt > /out/mnt; echo binary >> /out/order; cat > /out/state.json"]],
                ["path": script, "args": ["hook.sh"]]]]
        }
        let id = Harness.name("createhook")
        let created = try h.run(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        // Before `start`: both hooks have run, the program has not.
        XCTAssertEqual(try String(contentsOfFile: out + "/order", encoding: .utf8), "binary\nscript\n")
        XCTAssertEqual(try String(contentsOfFile: out + "/hostname", encoding: .utf8), "hooked\n", "the container's UTS namespace")
        XCTAssertEqual(try String(contentsOfFile: out + "/script-hostname", encoding: .utf8), "hooked\n")
        let pid = try XCTUnwrap(try state(id)?["pid"] as? Int)
        let hookMnt = try String(contentsOfFile: out + "/mnt", encoding: .utf8)
        XCTAssertNotEqual(hookMnt, (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")).map { $0 + "\n" }, "not the host's mount namespace")
        if let containerMnt = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt") {
            XCTAssertEqual(hookMnt, containerMnt + "\n", "the container's mount namespace")
        }
        for name in ["state.json", "script-state.json"] {
            let s = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/" + name))) as? [String: Any]
            XCTAssertEqual(s?["id"] as? String, id, name)
            XCTAssertEqual(s?["status"] as? String, "created", name)
            XCTAssertEqual(s?["pid"] as? Int, pid, name)
        }
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        XCTAssertTrue(Harness.eventually { (try? self.state(id))??["status"] as? String == "stopped" })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: out + "/order", encoding: .utf8), "binary\nscript\nprogram\n")
    }

    func testAFailingOrSlowCreateContainerHookFailsCreateAndLeavesNothing() throws {
        let out = try h.scratch("create-hook-fail")
        let script = out + "/fail.sh"
        let slow = out + "/slow.sh"
        try "#!/bin/sh\ncat > /dev/null\nexit 3\n".write(toFile: script, atomically: true, encoding: .utf8)
        try "#!/bin/sh\nsleep 30\n".write(toFile: slow, atomically: true, encoding: .utf8)
        for file in [script, slow] {
            chmod(file, 0o755)
            if h.isRoot { chown(file, h.user.uid, h.user.gid) }
        }
        let cases: [([String: Any], String)] = [
            (["path": script], "createContainer hook 0 (\(script), in the container): exited with status 3"),
            (["path": slow, "timeout": 1], "createContainer hook 0 (\(slow), in the container): timed out after 1 s"),
            // The host's /bin/true is dynamically linked: its loader is looked up in the container's root.
            (["path": "/bin/true"], "createContainer hook 0 (/bin/true, in the container): exec '/bin/true' (opened on the host)"),
            (["path": out + "/missing"], "createContainer hook 0 (\(out)/missing, in the container): open '\(out)/missing' on the host: "),
        ]
        for (hook, message) in cases {
            let dir = try bundle(["true"]) { config in config["hooks"] = ["createContainer": [hook]] }
            let id = Harness.name("createhookfail")
            let clones = Harness.CloneBaseline(of: h.user)
            let r = try h.run(["create", "--bundle", dir, id])
            XCTAssertEqual(r.status, 125, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(id)"), "no state left")
            XCTAssertEqual(try h.run(["state", id]).status, 125)
            // The container's init is nook's own clone, titled "nook" in place of its arguments.
            XCTAssertEqual(clones.added(), [], "no process left")
        }
    }

    func testExecJoinsTheContainer() throws {
        let dir = try bundle(["sleep", "30"]) { config in config["hostname"] = "inside" }
        let id = Harness.name("exec")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        let r = try h.run(["exec", id, "--", "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; exit 4"])
        XCTAssertEqual(r.status, 4, "exec returns the process's exit code: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines[0], "inside", "the container's UTS namespace")
        XCTAssertEqual(lines[1], "sleep 30", "the container's PID namespace: its PID 1")
        XCTAssertTrue(lines.contains("Seccomp:\t2") || lines.contains("Seccomp: 2"), "the container's filter: \(lines)")
        XCTAssertTrue(lines.contains("NoNewPrivs:\t1") || lines.contains("NoNewPrivs: 1"))

        let pidFile = dir + "/exec.pid"
        let detached = try h.run(["exec", "--detach", "--pid-file", pidFile, id, "--", "sleep", "5"])
        XCTAssertEqual(detached.status, 0, detached.stderr)
        let execPID = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        XCTAssertTrue(Harness.isAlive(execPID))
        var a = stat(), b = stat()
        let s = try XCTUnwrap(try state(id))
        stat("/proc/\(execPID)/ns/pid", &a)
        stat("/proc/\(s["pid"] as! Int)/ns/pid", &b)
        XCTAssertEqual(a.st_ino, b.st_ino, "same PID namespace as the container")
        let probe = try h.run(["exec", id, "--", "probe", "exe_write_all"])
        XCTAssertTrue(probe.stdout.contains("exe_write_all result=err"), "no Nook binary is writable through /proc/*/exe during exec: \(probe.stdout)")
        XCTAssertEqual(try h.run(["delete", "--force", id]).status, 0)
        XCTAssertFalse(Harness.isAlive(execPID), "delete --force kills every process of the container")
    }

    func testConsoleSocketReceivesThePtyMaster() throws {
        // process.consoleSize sizes the pty before the command runs (nobody relays it here).
        let dir = try bundle(["sh", "-c", "test -t 0 && echo TTY-OK; tty; stty size"], terminal: true) { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["consoleSize"] = ["height": 33, "width": 111]
            config["process"] = process
        }
        let socket = dir + "/console.sock"
        // A listener that receives the master, reads the container's output, prints it.
        let listener = """
        import socket, os, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        msg, fds, flags, addr = socket.recv_fds(c, 16, 1)
        out = b""
        while True:
            try:
                chunk = os.read(fds[0], 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        sys.stdout.write(out.decode(errors="replace"))
        """
        try listener.write(toFile: dir + "/listen.py", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [dir + "/listen.py", socket]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: socket) })
        usleep(100_000)
        let id = Harness.name("console")
        let created = try h.run(["create", "--bundle", dir, "--console-socket", socket, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("TTY-OK"), text)
        XCTAssertTrue(text.contains("/dev/pts/0"), text)
        XCTAssertTrue(text.contains("33 111"), "the pty has the spec's consoleSize: \(text)")
        _ = try h.run(["delete", "--force", id])
    }
}
