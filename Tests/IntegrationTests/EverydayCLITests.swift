import Foundation
import XCTest

/// The habits of a podman user (issue 17): --version, help everywhere,
/// formats and filters that are honoured or refused, one message for a
/// missing container, the nearest command for a typo.
final class EverydayCLITests: XCTestCase {
    var h: Harness { Harness.shared }

    func testVersionIsPrintedAsCrunPrintsIt() throws {
        for args in [["--version"], ["version"], ["--root", "/nonexistent", "--version"]] {
            let r = try h.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.first?.hasPrefix("nook version ") ?? false, r.stdout)
            let seccomp = lines.first { $0.hasPrefix("libseccomp: ") }?.dropFirst("libseccomp: ".count) ?? ""
            let parts = seccomp.split(separator: ".").compactMap { Int($0) }
            XCTAssertEqual(parts.count, 3, "libseccomp's version as major.minor.micro: \(r.stdout)")
            XCTAssertGreaterThanOrEqual(parts.first ?? 0, 2, "the libseccomp linked in, not 0.0.0: \(r.stdout)")
            XCTAssertTrue(lines.contains { $0.contains("+SECCOMP") }, r.stdout)
        }
    }

    /// runc's global flags stand before the subcommand's name (conmon and
    /// containerd put them there) or after it (a user, the benchmark); the
    /// container's command keeps every argument, nook's own option names included.
    func testGlobalFlagsBeforeOrAfterTheSubcommandAndTheCommandKeepsItsArguments() throws {
        let root = h.stateDir() + "-alt"
        defer { for path in [root, root + "-parse.log"] { try? FileManager.default.removeItem(atPath: path) } }
        let name = Harness.name("globals")
        let started = try h.run(["run", "-d", "--root", root, "--name", name, "--rootfs", h.rootfs, "--", "sleep", "30"])
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? h.run(["--root", root, "rm", "-f", name]) }
        XCTAssertTrue(try h.run(["--root", root, "ps", "-a"]).stdout.contains(name), "in the --root given after `run`")
        XCTAssertFalse(try h.run(["ps", "-a"]).stdout.contains(name), "not in the default root")
        let exec = try h.run(["exec", "--root", root, name, "echo", "-t", "--root", "x"])
        XCTAssertEqual(exec.stdout, "-t --root x\n", exec.stderr)
        let foreground = try h.run(["--root", root, "--log-format", "json", "run", "--rootfs", h.rootfs, "--", "echo", "-i", "--log", "y"])
        XCTAssertEqual(foreground.stdout, "-i --log y\n", foreground.stderr)
        // conmon reads errors from --log, given before the subcommand: a bad flag of the subcommand's included.
        let log = root + "-parse.log"
        XCTAssertEqual(try h.run(["--log", log, "create", "--bogus", "x"]).status, 125)
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(logged.contains("Unknown option '--bogus'"), "the parse error in --log: \(logged)")
    }

    func testEveryCommandPrintsHelpWithHelpAndH() throws {
        for command in ["run", "exec", "create", "ps", "list", "rm", "version"] {
            for flag in ["--help", "-h"] {
                let r = try h.run([command, flag])
                XCTAssertEqual(r.status, 0, "nook \(command) \(flag): \(r.stderr)")
                XCTAssertTrue(r.stdout.contains("USAGE: nook \(command)"), "nook \(command) \(flag): \(r.stdout)\(r.stderr)")
            }
        }
    }

    func testATypoNamesTheCommandAndTheNearestOne() throws {
        let r = try h.run(["rn", "--rootfs", h.rootfs, "--", "true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("unknown command 'rn'; did you mean 'run'?"), r.stderr)
        let far = try h.run(["xyzzy"])
        XCTAssertEqual(far.status, 125)
        XCTAssertTrue(far.stderr.contains("unknown command 'xyzzy'") && !far.stderr.contains("did you mean"), far.stderr)
    }

    func testAMissingContainerGetsOneMessageFromEveryCommand() throws {
        let name = Harness.name("nosuch")
        for args in [["exec", name, "--", "true"], ["state", name], ["kill", name], ["delete", name], ["rm", name],
                     ["logs", name], ["ps", name], ["start", name]] {
            let r = try h.run(args)
            XCTAssertEqual(r.status, 125, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("container '\(name)' does not exist"), "\(args): \(r.stderr)")
        }
    }

    func testUnknownFormatsAreRefusedNotPrintedAsATable() throws {
        for args in [["ps", "--format", "yaml"], ["ps", "--format", "{{.Nope}}"], ["list", "--format", "yaml"],
                     ["ps", "--format", "{{.Names"], ["audit", "--format", "yaml", h.rootfs],
                     ["ps", "--filter", "status=sleeping"], ["ps", "--filter", "colour=red"], ["ps", "--filter", "name=("],
                     // A pattern that backtracks for ever in a regex engine (hostile review): refused at once.
                     ["ps", "--filter", "name=^(a|aa)*b$"]] {
            let r = try h.run(args)
            XCTAssertEqual(r.status, 125, "\(args): \(r.stdout)")
            XCTAssertEqual(r.stdout, "", "\(args): nothing printed")
            XCTAssertTrue(r.stderr.contains("--format") || r.stderr.contains("--filter"), "\(args): \(r.stderr)")
        }
    }

    func testTemplatesQuietAndFiltersSelectWhatPodmanWould() throws {
        let running = Harness.name("fmt-run"), created = Harness.name("fmt-created")
        XCTAssertEqual(try h.run(["run", "-d", "--name", running, "--rootfs", h.rootfs, "--", "sleep", "60"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", running]); _ = try? h.run(["delete", "--force", created]) }
        let bundle = try h.bundle(["sleep", "60"])
        let c = try h.run(["create", "--bundle", bundle, created])
        XCTAssertEqual(c.status, 0, c.stderr)

        let template = try h.run(["ps", "-a", "--format", "{{.Names}}:{{.State}}"])
        XCTAssertEqual(template.status, 0, template.stderr)
        let lines = Set(template.stdout.split(separator: "\n").map(String.init))
        XCTAssertTrue(lines.contains("\(running):running"), template.stdout)
        XCTAssertTrue(lines.contains("\(created):created"), template.stdout)

        let age = try h.run(["ps", "--filter", "name=^fmt-run-", "--format", "{{.RunningFor}}"])
        XCTAssertNotNil(age.stdout.wholeMatch(of: /\d+s ago\n/), "the CREATED column: \(age.stdout)")
        let table = try h.run(["ps"])
        XCTAssertTrue(table.stdout.hasPrefix("NAME"), table.stdout)
        XCTAssertEqual(table.stdout.split(separator: "\n").first?.split(separator: " ").map(String.init),
                       ["NAME", "STATUS", "CREATED", "PORTS", "PID", "MODE", "COMMAND"])

        let aligned = try h.run(["ps", "-a", "--format", "table {{.Names}}\\t{{.State}}"])
        XCTAssertTrue(aligned.stdout.hasPrefix("NAMES"), aligned.stdout)

        let quiet = try h.run(["ps", "-aq", "--filter", "status=created"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertTrue(quiet.stdout.split(separator: "\n").contains { $0 == created }, quiet.stdout)
        XCTAssertFalse(quiet.stdout.contains(running), "status=created leaves out the running one: \(quiet.stdout)")

        let byName = try h.run(["ps", "-q", "--filter", "name=^fmt-run-", "--no-trunc"])
        XCTAssertEqual(byName.stdout.split(separator: "\n").map(String.init).filter { $0 == running }, [running], byName.stdout)
        XCTAssertFalse(byName.stdout.contains(created), byName.stdout)

        let json = try h.run(["ps", "-a", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
        XCTAssertTrue(rows.contains { $0["id"] as? String == running }, json.stdout)
    }

    func testTheBundleColumnHasOneMeaning() throws {
        let detached = Harness.name("bundle-d")
        XCTAssertEqual(try h.run(["run", "-d", "--name", detached, "--rootfs", h.rootfs, "--", "sleep", "60"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", detached]) }
        let foreground = Harness.name("bundle-fg")
        let fg = try h.start(["run", "--name", foreground, "--rootfs", h.rootfs, "--", "sleep", "60"])
        defer { _ = try? h.run(["kill", foreground, "KILL"]); _ = fg.wait() }
        let fromBundle = Harness.name("bundle-oci")
        let bundle = try h.bundle(["sleep", "60"])
        XCTAssertEqual(try h.run(["create", "--bundle", bundle, fromBundle]).status, 0)
        defer { _ = try? h.run(["delete", "--force", fromBundle]) }
        XCTAssertTrue(Harness.eventually { ((try? self.h.run(["list", "-q"]))?.stdout ?? "").contains(foreground) })

        let list = try h.run(["list", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        func bundleOf(_ id: String) -> String? { rows.first { $0["id"] as? String == id }?["bundle"] as? String }
        // A --rootfs container's bundle is its state directory, which holds the config.json it runs.
        for id in [detached, foreground] {
            let b = try XCTUnwrap(bundleOf(id), list.stdout)
            XCTAssertEqual(b, h.stateDir() + "/" + id, "\(id): \(list.stdout)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: b + "/config.json"), b)
        }
        XCTAssertEqual(bundleOf(fromBundle), bundle, list.stdout)
    }

    func testForegroundRmIsAcceptedAndRemoves() throws {
        let name = Harness.name("fg-rm")
        let r = try h.run(["run", "--rm", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "exit 4"])
        XCTAssertEqual(r.status, 4, r.stderr)
        XCTAssertFalse(try h.run(["list", "-q"]).stdout.contains(name))
    }

    /// `echo x | nook run -it` used to hang after its input ended: refused now, at once.
    func testInteractiveTerminalWithPipedInputIsRefused() throws {
        for args in [["run", "-it", "--rootfs", h.rootfs, "--", "sh"], ["run", "-t", "-i", "--rootfs", h.rootfs, "--", "sh"]] {
            let r = try h.run(args, stdin: Data("echo piped\n".utf8), timeout: 20)
            XCTAssertEqual(r.status, 125, "\(args): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("-it needs a terminal on stdin"), r.stderr)
            XCTAssertTrue(r.stderr.contains("use -i without -t"), r.stderr)
        }
        let piped = try h.run(["run", "-i", "--rootfs", h.rootfs, "--", "sh"], stdin: Data("echo piped\n".utf8), timeout: 20)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stdout, "piped\n")
    }

    /// bash's completion, generated by nook and run the way bash runs it:
    /// container names from the caller's own state, --network's modes, subcommands.
    func testBashCompletesNamesNetworksAndCommands() throws {
        let name = Harness.name("compl")
        XCTAssertEqual(try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "60"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let script = try h.run(["--generate-completion-script", "bash"])
        XCTAssertEqual(script.status, 0, script.stderr)
        let file = try h.scratch("completion") + "/nook.bash"
        try script.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        func complete(_ words: [String]) throws -> [String] {
            let line = words.joined(separator: " ")
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let program = """
                source \(file); COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; \
                COMP_POINT=${#COMP_LINE}; _nook nook '\(words.last!)' '\(words[words.count - 2])'; printf '%s\\n' "${COMPREPLY[@]}"
                """
            // `nook` on PATH is the harness's copy, as the completion calls it by name.
            let dir = (h.nook as NSString).deletingLastPathComponent
            let r = try h.runAsUser(["/usr/bin/env", "-i", "PATH=\(dir):/usr/bin:/bin", "XDG_RUNTIME_DIR=\(h.runtimeDir())",
                                     "/bin/bash", "-c", program])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try complete(["nook", "stop", String(name.prefix(8))]), [name])
        XCTAssertEqual(try complete(["nook", "run", "--network", ""]), ["none", "host", "pasta", "slirp4netns"])
        XCTAssertEqual(try complete(["nook", "ru"]), ["run"])
        for shell in ["zsh", "fish"] {
            let r = try h.run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("---completion"), "\(shell): asks nook for container names")
        }
    }

    /// Docs/man was generated from the help this nook prints (Scripts/make-man.sh);
    /// a flag or help text changed without regenerating the pages fails here.
    func testTheManPagesAreMadeFromTheCurrentHelp() throws {
        let dir = Harness.repoRoot() + "/Docs/man"
        let recorded = try String(contentsOfFile: dir + "/help.json", encoding: .utf8)
        let current = try h.run(["--experimental-dump-help"])
        XCTAssertEqual(current.status, 0, current.stderr)
        XCTAssertEqual(current.stdout, recorded, "help changed: run Scripts/make-man.sh and commit Docs/man")
        let pages = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".1") }
        let json = try JSONSerialization.jsonObject(with: Data(recorded.utf8)) as? [String: Any]
        let subcommands = ((json?["command"] as? [String: Any])?["subcommands"] as? [[String: Any]] ?? [])
            .compactMap { $0["commandName"] as? String }.filter { !$0.hasPrefix("__") }
        XCTAssertFalse(subcommands.isEmpty)
        for name in subcommands { XCTAssertTrue(pages.contains("nook.\(name).1"), "a page for \(name): \(pages)") }
    }

    /// `nook inspect`: state, times, exit, mounts, network, limits and the config, as JSON.
    func testInspectTellsStateTimesExitMountsAndConfig() throws {
        let name = Harness.name("insp")
        let r = try h.run(["run", "-d", "--name", name, "--pids-limit", "-1", "-e", "GREETING=hi", "--rootfs", h.rootfs,
                           "--", "sleep", "60"])
        // --pids-limit -1 asks nothing of cgroups (this host delegates none).
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        func inspect() throws -> [String: Any] {
            let out = try h.run(["inspect", name])
            XCTAssertEqual(out.status, 0, out.stderr)
            let all = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]] ?? []
            XCTAssertEqual(all.count, 1)
            return all.first ?? [:]
        }
        let running = try inspect()
        let state = running["state"] as? [String: Any] ?? [:]
        XCTAssertEqual(state["status"] as? String, "running")
        XCTAssertNotNil(state["startedAt"] as? String)
        XCTAssertNil(state["finishedAt"])
        let config = running["config"] as? [String: Any] ?? [:]
        let process = config["process"] as? [String: Any] ?? [:]
        XCTAssertEqual(process["args"] as? [String], ["sleep", "60"])
        XCTAssertTrue((process["env"] as? [String] ?? []).contains("GREETING=hi"))
        let mounts = running["mounts"] as? [[String: Any]] ?? []
        XCTAssertTrue(mounts.contains { $0["destination"] as? String == "/proc" }, "\(mounts)")
        XCTAssertEqual((running["network"] as? [String: Any])?["mode"] as? String, "none")

        let pid = try XCTUnwrap(state["pid"] as? Int)
        kill(Int32(pid), SIGKILL)
        XCTAssertTrue(Harness.eventually { ((try? inspect())?["state"] as? [String: Any])?["status"] as? String == "stopped" })
        let stopped = try inspect()["state"] as? [String: Any] ?? [:]
        XCTAssertEqual(stopped["exitCode"] as? Int, 137)
        XCTAssertNotNil(stopped["finishedAt"] as? String)

        let missing = try h.run(["inspect", name, Harness.name("nosuch")])
        XCTAssertEqual(missing.status, 125)
        XCTAssertEqual(missing.stdout, "", "nothing printed when one name is wrong")
        XCTAssertTrue(missing.stderr.contains("does not exist"), missing.stderr)
    }

    func inspectState(_ name: String) -> [String: Any]? {
        guard let out = try? h.run(["inspect", name]), out.status == 0,
              let all = try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]] else { return nil }
        return all.first?["state"] as? [String: Any]
    }

    /// `--restart on-failure:N`: the container's own monitor runs it again after
    /// a failure, N times, and the log keeps every run.
    func testOnFailureRestartsAsOftenAsAllowed() throws {
        let name = Harness.name("onfail")
        let r = try h.run(["run", "-d", "--restart", "on-failure:2", "--name", name, "--rootfs", h.rootfs,
                           "--", "sh", "-c", "echo ran; exit 3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        XCTAssertTrue(Harness.eventually(20) {
            let s = self.inspectState(name)
            return s?["status"] as? String == "stopped" && s?["restartCount"] as? Int == 2
        }, "\(inspectState(name) ?? [:])")
        XCTAssertEqual(inspectState(name)?["exitCode"] as? Int, 3)
        XCTAssertEqual(try h.run(["logs", name]).stdout, "ran\nran\nran\n", "three runs, one log")
    }

    /// A restart the policy asks for that cannot start (its bind source went)
    /// ends the policy: the container stays stopped with its last exit code,
    /// and `nook inspect`, `nook wait` and `nook logs` say why. A later `nook
    /// start` that works clears it.
    func testARestartThatCannotStartSaysWhy() throws {
        let name = Harness.name("norestart")
        let dir = try h.scratch("source"), moved = dir + "-moved"
        let r = try h.run(["run", "-d", "--restart", "always", "--name", name, "-v", dir + ":/v", "--rootfs", h.rootfs,
                           "--", "sh", "-c", "echo ran; while [ ! -e /v/go ]; do sleep 0.05; done; rm /v/go; exit 3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        XCTAssertTrue(Harness.eventually { self.inspectState(name)?["status"] as? String == "running" })
        // The bind source goes while the container still sees it: the restart finds no source.
        XCTAssertEqual(rename(dir, moved), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: moved + "/go", contents: nil))
        XCTAssertTrue(Harness.eventually(20) { self.inspectState(name)?["restartError"] != nil }, "\(inspectState(name) ?? [:])")
        let state = try XCTUnwrap(inspectState(name))
        let reason = try XCTUnwrap(state["restartError"] as? String)
        XCTAssertTrue(reason.hasPrefix("restart 1 failed: ") && reason.contains(dir), reason)
        XCTAssertEqual(state["status"] as? String, "stopped")
        XCTAssertEqual(state["exitCode"] as? Int, 3)
        let wait = try h.run(["wait", name])
        XCTAssertEqual(wait.stdout, "3\n")
        XCTAssertTrue(wait.stderr.contains("nook: " + reason), wait.stderr)
        XCTAssertEqual(try h.run(["logs", name]).stdout + (try h.run(["logs", name]).stderr), "ran\nnook: \(reason)\n")

        XCTAssertEqual(rename(moved, dir), 0)
        let start = try h.run(["start", name])
        XCTAssertEqual(start.status, 0, start.stderr)
        XCTAssertTrue(Harness.eventually { self.inspectState(name)?["status"] as? String == "running" })
        XCTAssertNil(inspectState(name)?["restartError"], "a start that worked: no error left")
    }

    /// A monitor killed between a piece of the log and its record (or a
    /// restart's note and its record) leaves bytes the stream map does not
    /// describe; the next start describes them, so that what follows is read
    /// from the right place: the map's pieces add up to the log.
    func testTheNextStartDescribesLogBytesTheMapMissed() throws {
        let name = Harness.name("torn")
        XCTAssertEqual(try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "echo", "one"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
        let log = h.stateDir() + "/\(name)/container.log"
        func append(_ bytes: [UInt8], to path: String) throws {
            let file = try XCTUnwrap(FileHandle(forWritingAtPath: path))
            file.seekToEndOfFile()
            file.write(Data(bytes))
            file.closeFile()
        }
        func pieces(_ map: String) throws -> [[Int]] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: map)))
            XCTAssertEqual(bytes.count % 5, 0, "whole records")
            return stride(from: 0, to: bytes.count - 4, by: 5).map { [Int(bytes[$0]), Int(bytes[$0 + 1]) | Int(bytes[$0 + 2]) << 8] }
        }
        // Bytes without their record, and a record cut short (a full disk).
        try append(Array("torn\n".utf8), to: log)
        try append([1, 4], to: log + ".streams")
        XCTAssertEqual(try h.run(["start", name]).status, 0)
        XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
        XCTAssertEqual(try h.run(["logs", name]).stdout, "one\ntorn\none\n")
        XCTAssertEqual(try pieces(log + ".streams"), [[1, 4], [0, 5], [1, 4]], "stdout, the torn bytes as nook's, stdout")

        // A rotation cut between its two renames: the log is container.log.1, its map still container.log.streams.
        XCTAssertEqual(rename(log, log + ".1"), 0)
        XCTAssertEqual(try h.run(["start", name]).status, 0)
        XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
        XCTAssertEqual(try pieces(log + ".1.streams"), [[1, 4], [0, 5], [1, 4]], "the map went with its log")
        XCTAssertEqual(try pieces(log + ".streams"), [[1, 4]], "the new log's map describes it alone")

        // A map that is a link (left by hand) is not followed: the start says so and the link's target is untouched.
        let precious = try h.scratch("precious") + "/file"
        XCTAssertTrue(FileManager.default.createFile(atPath: precious, contents: Data("precious\n".utf8)))
        if h.isRoot { chown(precious, h.user.uid, h.user.gid) }  // the user's own file: only the link stands in the way
        XCTAssertEqual(unlink(log + ".streams"), 0)
        XCTAssertEqual(symlink(precious, log + ".streams"), 0)
        let start = try h.run(["start", name])
        XCTAssertEqual(start.status, 125)
        XCTAssertTrue(start.stderr.contains("container.log.streams"), start.stderr)
        XCTAssertEqual(try String(contentsOfFile: precious, encoding: .utf8), "precious\n")
    }

    /// A full disk while the monitor writes the log: a piece that cannot go
    /// out gets no record, and a record that cannot go out whole is taken back
    /// with its piece, so once there is room again the map still adds up to
    /// the log, in whole records, and what follows is recorded as stdout.
    func testAFullDiskLeavesTheLogAndItsMapInStep() throws {
        try XCTSkipUnless(h.isRoot, "mounts a small tmpfs for the state")
        let root = try h.scratch("full"), control = try h.scratch("control")
        XCTAssertEqual(try Harness.shell(["/bin/mount", "-t", "tmpfs", "-o", "size=600k,mode=0700,uid=\(h.user.uid),gid=\(h.user.gid)", "nook-full", root]).status, 0)
        defer { _ = try? Harness.shell(["/bin/umount", "-l", root]) }
        let name = Harness.name("full")
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/ballast", contents: Data(count: 200 << 10)))
        let r = try h.run(["--root", root, "run", "-d", "--name", name, "-v", control + ":/c", "--rootfs", h.rootfs, "--", "sh", "-c",
                           "yes 0123456789 | head -c 700000; touch /c/burst; while [ ! -e /c/go ]; do sleep 0.05; done; " +
                           "i=0; while [ $i -lt 300 ]; do echo after$i; i=$((i+1)); done"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["--root", root, "rm", "-f", name]) }
        XCTAssertTrue(Harness.eventually(30) { FileManager.default.fileExists(atPath: control + "/burst") }, "the burst filled the disk")
        XCTAssertEqual(unlink(root + "/ballast"), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: control + "/go", contents: nil))
        XCTAssertEqual(try h.run(["--root", root, "wait", name]).stdout, "0\n")
        let log = root + "/\(name)/container.log"
        let map = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log + ".streams")))
        XCTAssertEqual(map.count % 5, 0, "whole records")
        let records: [(stream: UInt8, count: Int)] = stride(from: 0, to: map.count - 4, by: 5).map { at in
            let count: Int = Int(map[at + 1]) | Int(map[at + 2]) << 8 | Int(map[at + 3]) << 16
            return (map[at], count)
        }
        let logSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        XCTAssertEqual(records.reduce(0) { $0 + $1.count }, logSize, "the map adds up to the log")
        XCTAssertEqual(records.filter { $0.count == 0 }.count, 0, "no record for a piece that did not go out")
        XCTAssertEqual(records.last?.stream, 1)
        XCTAssertTrue(try h.run(["--root", root, "logs", name]).stdout.hasSuffix("after298\nafter299\n"))
    }

    /// The pid a fault point's report names, once that process is stopped there
    /// (a detached container's monitor: no process of the test's to watch).
    func monitorStopped(at report: String) -> Int32? {
        var monitor: Int32?
        _ = Harness.eventually {
            monitor = (try? String(contentsOfFile: report, encoding: .utf8))
                .flatMap { Int32($0.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") }
            return monitor.map(FaultMatrixTests.isStopped) ?? false
        }
        return monitor.flatMap { FaultMatrixTests.isStopped($0) ? $0 : nil }
    }

    /// A `nook stop` that lands after the monitor's pause, just before the
    /// restart (held there by a fault point), makes that restart fail: the
    /// stop ended the policy, so no restart error is recorded (hostile review:
    /// "restart 1 failed: ... is stopped under its monitor" was).
    func testAStopJustBeforeARestartIsNotARestartError() throws {
        let name = Harness.name("stopfirst")
        let report = try h.scratch("restart-fault") + "/report"
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "exit 3"],
                                 env: ["NOOK_FAULT_STOP": "monitor.restarting", "NOOK_FAULT_REPORT": report]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let monitor = try XCTUnwrap(monitorStopped(at: report), "the monitor stopped before its first restart")
        let stop = try h.run(["stop", "-t", "1", name])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        Glibc.kill(monitor, SIGCONT)
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(monitor) }, "the monitor ends")
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped")
        XCTAssertNil(inspectState(name)?["restartError"], "\(inspectState(name) ?? [:])")
        XCTAssertFalse(try h.run(["logs", name]).stdout.contains("restart"))
    }

    /// `rm -f` of a --restart container while its monitor is about to restart
    /// it (held just after its pause by a fault point), then a new container of
    /// that name that has ended: the old monitor, let go, finds under the lock
    /// a record that is not its own and ends; the new container keeps its own
    /// command and log (hostile reviews: the old monitor ran its old command,
    /// with its policy, under the new name).
    func testAMonitorWakingAfterRmLeavesANewContainerOfThatNameAlone() throws {
        let name = Harness.name("reused")
        let report = try h.scratch("reused-fault") + "/report"
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs,
                                  "--", "sh", "-c", "echo old; exit 1"],
                                 env: ["NOOK_FAULT_STOP": "monitor.restarting", "NOOK_FAULT_REPORT": report]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let oldMonitor = try XCTUnwrap(monitorStopped(at: report), "the old monitor stopped before its first restart")
        defer { Glibc.kill(oldMonitor, SIGKILL) }
        XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
        let new = try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "echo new"])
        XCTAssertEqual(new.status, 0, new.stderr)
        XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
        Glibc.kill(oldMonitor, SIGCONT)
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(oldMonitor) }, "the old monitor ends")
        XCTAssertEqual(try h.run(["logs", name]).stdout, "new\n")
        let state = try XCTUnwrap(inspectState(name))
        XCTAssertEqual(state["status"] as? String, "stopped")
        XCTAssertNil(state["restartPolicy"] as? String)
        XCTAssertNil(state["restartError"] as? String)
    }

    /// `nook start` of a stopped container while it is removed and made again
    /// (its monitor held by a fault point before it takes the container):
    /// the start fails, and the new container keeps its own command, config
    /// and log (hostile review: the old command ran under the new name).
    func testAStartOfAContainerRemovedAndMadeAgainMeanwhileFails() throws {
        // (A record of an older nook has no incarnation: the start must find none under the lock.)
        for recordedByAnOlderNook in [false, true] {
            let name = Harness.name("remade")
            XCTAssertEqual(try h.run(["run", "-d", "--restart", "on-failure:3", "--name", name, "--rootfs", h.rootfs,
                                      "--", "sh", "-c", "echo old"]).status, 0)
            defer { _ = try? h.run(["rm", "-f", name]) }
            XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
            let statePath = h.stateDir() + "/\(name)/state.json"
            var record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any])
            XCTAssertNotNil(record["incarnation"])
            if recordedByAnOlderNook {
                record["incarnation"] = nil
                try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: statePath))
            }
            let report = try h.scratch("remade-fault") + "/report"
            let start = try h.start(["start", name], env: ["NOOK_FAULT_STOP": "monitor.starting", "NOOK_FAULT_REPORT": report],
                                    captureOutput: true)
            let monitor = try XCTUnwrap(Harness.stoppedAtFaultPoint(report, process: start), "the monitor never stopped: \(start.stderrText)")
            defer { Glibc.kill(monitor, SIGKILL) }
            XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
            XCTAssertEqual(try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "echo new"]).status, 0)
            XCTAssertEqual(try h.run(["wait", name]).stdout, "0\n")
            Glibc.kill(monitor, SIGCONT)
            XCTAssertEqual(start.wait(timeout: 30), 125)
            XCTAssertTrue(start.stderrText.contains("was removed and made again, or started by another command, since this start began"), start.stderrText)
            XCTAssertEqual(try h.run(["logs", name]).stdout, "new\n")
            XCTAssertNil(try XCTUnwrap(inspectState(name))["restartPolicy"] as? String)
            let config = try String(contentsOfFile: h.stateDir() + "/\(name)/config.json", encoding: .utf8)
            XCTAssertTrue(config.contains("echo new") && !config.contains("echo old"), config)
        }
    }

    /// `always` restarts a command that exits 0, until `nook stop`; `nook start`
    /// starts the stopped container again, `nook restart` a running one.
    func testAlwaysRestartsUntilStoppedAndStartAndRestartRunItAgain() throws {
        let name = Harness.name("always")
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs,
                                  "--", "sh", "-c", "echo tick; sleep 0.3"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        XCTAssertTrue(Harness.eventually(20) { (self.inspectState(name)?["restartCount"] as? Int ?? 0) >= 2 })
        XCTAssertEqual(try h.run(["stop", "-t", "1", name]).status, 0)
        XCTAssertTrue(Harness.eventually { self.inspectState(name)?["status"] as? String == "stopped" })
        let count = inspectState(name)?["restartCount"] as? Int
        usleep(1_500_000) // longer than a run and the restart pause: a restart would have shown
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped", "stop ends the policy")
        XCTAssertEqual(inspectState(name)?["restartCount"] as? Int, count)
        let ticks = try h.run(["logs", name]).stdout.split(separator: "\n").count

        let start = try h.run(["start", name])
        XCTAssertEqual(start.status, 0, start.stderr)
        XCTAssertEqual(start.stdout, name + "\n")
        XCTAssertTrue(Harness.eventually { try! self.h.run(["logs", name]).stdout.split(separator: "\n").count > ticks },
                      "started again, the earlier log kept")
        let again = try h.run(["start", name])
        XCTAssertEqual(again.status, 125)

        let pid = inspectState(name)?["pid"] as? Int
        let restart = try h.run(["restart", "-t", "1", name])
        XCTAssertEqual(restart.status, 0, restart.stderr)
        XCTAssertTrue(Harness.eventually {
            let s = self.inspectState(name)
            return s?["status"] as? String == "running" && s?["pid"] as? Int != pid
        })
    }

    /// `nook stop` of a --restart container whose init ends by itself between
    /// stop's look and its signal, before the monitor recorded the end: the
    /// stop still succeeds and ends the policy (CI saw `restart` fail with
    /// "not running" in that window). The monitor is held (SIGSTOP) so the
    /// window stays open.
    func testStopOfAContainerThatEndsMeanwhileStillEndsThePolicy() throws {
        let name = Harness.name("endsmeanwhile")
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "60"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json"))) as? [String: Any]
        let (initPID, monitorPID) = (Int32(try XCTUnwrap(record?["pid"] as? Int)), Int32(try XCTUnwrap(record?["monitorPID"] as? Int)))
        let report = try h.scratch("stop-fault") + "/report"
        let stop = try h.start(["stop", "-t", "1", name], env: ["NOOK_FAULT_STOP": "stop.looked", "NOOK_FAULT_REPORT": report], captureOutput: true)
        let stopPID = try XCTUnwrap(Harness.stoppedAtFaultPoint(report, process: stop), "never stopped at stop.looked: \(stop.stderrText)")
        Glibc.kill(monitorPID, SIGSTOP)
        Glibc.kill(initPID, SIGKILL)
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(initPID) })
        Glibc.kill(stopPID, SIGCONT)
        XCTAssertEqual(stop.wait(timeout: 30), 0, stop.stderrText)
        Glibc.kill(monitorPID, SIGCONT)
        XCTAssertTrue(Harness.eventually { self.inspectState(name)?["status"] as? String == "stopped" })
        usleep(1_500_000) // longer than the restart pause: a restart would have shown
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped", "the stop ended the policy")
    }

    /// `nook stop` while the monitor of a --restart container that ended by
    /// itself is between reading its state and writing the end (held there
    /// by a fault point): the monitor's write must not take the stop's mark
    /// away, and the container is not started again (hostile review: it was).
    func testStopWhileTheMonitorRecordsTheEndStillEndsThePolicy() throws {
        let name = Harness.name("recording")
        let report = try h.scratch("monitor-fault") + "/report"
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "60"],
                                 env: ["NOOK_FAULT_STOP": "run.exit-read", "NOOK_FAULT_REPORT": report]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json"))) as? [String: Any]
        let (initPID, monitorPID) = (Int32(try XCTUnwrap(record?["pid"] as? Int)), Int32(try XCTUnwrap(record?["monitorPID"] as? Int)))
        Glibc.kill(initPID, SIGKILL)
        XCTAssertTrue(Harness.eventually {
            (try? String(contentsOfFile: report, encoding: .utf8)) == "run.exit-read \(monitorPID)\n" && FaultMatrixTests.isStopped(monitorPID)
        }, "the monitor stopped between its read and its write")
        let stop = try h.run(["stop", "-t", "1", name])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        Glibc.kill(monitorPID, SIGCONT)
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(monitorPID) }, "the monitor ends: no restart")
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped")
        XCTAssertEqual(inspectState(name)?["restartCount"] as? Int, 0, "never restarted")
    }

    /// `nook stop` while the monitor is starting a --restart container again
    /// (held at fault point run.reserved, past its last look for a stop):
    /// stop finds no process, marks it, returns; the monitor must not let
    /// that run go on (hostile review: it ran, and ran on).
    func testStopWhileTheMonitorStartsTheContainerAgainWins() throws {
        let name = Harness.name("startsagain")
        let dir = try h.scratch("startsagain")
        let report = dir + "/report"
        let run = try h.start(["run", "-d", "--restart", "always", "--name", name, "-v", dir + ":/v", "--rootfs", h.rootfs,
                               "--", "sh", "-c", "sleep 0.3; echo ran >> /v/runs; exit 1"],
                              env: ["NOOK_FAULT_STOP": "run.reserved", "NOOK_FAULT_REPORT": report])
        defer { _ = try? h.run(["rm", "-f", name]) }
        func stoppedAt(_ n: Int) -> Int32? {
            let lines = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n")
            guard lines.count >= n, let pid = Int32(lines[n - 1].split(separator: " ").last ?? ""), FaultMatrixTests.isStopped(pid) else { return nil }
            return pid
        }
        var first: Int32?
        XCTAssertTrue(Harness.eventually { first = stoppedAt(1); return first != nil }, "the first run reached run.reserved")
        Glibc.kill(try XCTUnwrap(first), SIGCONT)
        XCTAssertEqual(run.wait(timeout: 30), 0, run.stderrText)
        var monitor: Int32?
        XCTAssertTrue(Harness.eventually(30) { monitor = stoppedAt(2); return monitor != nil }, "the restart reached run.reserved")
        let stop = try h.run(["stop", "-t", "1", name])
        XCTAssertEqual(stop.status, 0, stop.stderr)
        Glibc.kill(try XCTUnwrap(monitor), SIGCONT)
        XCTAssertTrue(Harness.eventually(30) { !Harness.isAlive(monitor!) }, "the monitor ends")
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped")
        XCTAssertEqual(try? String(contentsOfFile: dir + "/runs", encoding: .utf8), "ran\n", "only the run before the stop ran")
    }

    func testRestartPoliciesThatCannotWorkAreRefused() throws {
        for (args, message) in [(["-d", "--rm", "--restart", "always"], "--rm and --restart always cannot go together"),
                                (["--restart", "always"], "--restart goes with -d"),
                                (["-d", "--restart", "sometimes"], "invalid --restart 'sometimes'"),
                                (["-d", "--restart", "on-failure:-1"], "invalid --restart 'on-failure:-1'")] {
            let name = Harness.name("badrestart")
            let r = try h.run(["run", "--name", name] + args + ["--rootfs", h.rootfs, "--", "true"])
            XCTAssertEqual(r.status, 125, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertFalse(try h.run(["list", "-q"]).stdout.contains(name), "\(args): nothing left")
        }
    }

    /// Found by a hostile review: two `nook start`s gave one container two
    /// monitors, and `stop` during a restart's pause did nothing.
    func testOneMonitorAndStopEndsThePolicyEvenBetweenRuns() throws {
        let name = Harness.name("onemon")
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", name, "--rootfs", h.rootfs, "--", "sleep", "60"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        XCTAssertEqual(try h.run(["stop", "-t", "0", name]).status, 0)
        let a = try h.start(["start", name], captureOutput: true)
        let b = try h.start(["start", name], captureOutput: true)
        let results = [a.wait(timeout: 20), b.wait(timeout: 20)]
        XCTAssertTrue(results.contains(0), "\(results)")
        XCTAssertTrue(Harness.eventually { self.inspectState(name)?["status"] as? String == "running" })
        let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init).filter {
            ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").hasPrefix("nook __monitor")
        } ?? []
        let mine = all.filter { Harness.children(of: $0).contains { (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8))?.hasPrefix("sleep\u{0}60") == true } }
        XCTAssertEqual(mine.count, 1, "one monitor runs the container")
        XCTAssertEqual(try h.run(["stop", "-t", "0", name]).status, 0)
        usleep(1_500_000) // longer than the first restart's pause: a second monitor would have run it again
        XCTAssertEqual(inspectState(name)?["status"] as? String, "stopped")

        // Between runs (a command that fails at once, restarted after a pause), stop ends it too.
        let flaky = Harness.name("pause")
        XCTAssertEqual(try h.run(["run", "-d", "--restart", "always", "--name", flaky, "--rootfs", h.rootfs, "--", "sh", "-c", "exit 3"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", flaky]) }
        XCTAssertTrue(Harness.eventually(20) { (self.inspectState(flaky)?["restartCount"] as? Int ?? 0) >= 4 })
        XCTAssertEqual(try h.run(["stop", "-t", "0", flaky]).status, 0)
        XCTAssertTrue(Harness.eventually { self.inspectState(flaky)?["status"] as? String == "stopped" })
        let count = inspectState(flaky)?["restartCount"] as? Int
        usleep(2_500_000) // the pause after 4 restarts is 1.6 s
        XCTAssertEqual(inspectState(flaky)?["restartCount"] as? Int, count, "no restart after the stop")
    }

    func testStartOfAForegroundContainerAndRestartOfRmAreRefusedAtOnce() throws {
        let fg = Harness.name("fgstart")
        let run = try h.start(["run", "--name", fg, "--rootfs", h.rootfs, "--", "sleep", "30"])
        defer { _ = try? h.run(["kill", fg, "KILL"]); _ = run.wait() }
        XCTAssertTrue(Harness.eventually { self.inspectState(fg)?["status"] as? String == "running" })
        let start = try h.run(["start", fg], timeout: 10)
        XCTAssertEqual(start.status, 125, start.stderr)
        XCTAssertTrue(start.stderr.contains("only a container made by 'nook create' can be started"), start.stderr)

        let rm = Harness.name("rmrestart")
        XCTAssertEqual(try h.run(["run", "-d", "--rm", "--name", rm, "--rootfs", h.rootfs, "--", "sleep", "30"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", rm]) }
        let restart = try h.run(["restart", "-t", "0", rm])
        XCTAssertEqual(restart.status, 125)
        XCTAssertTrue(restart.stderr.contains("was started with --rm"), restart.stderr)
        XCTAssertEqual(inspectState(rm)?["status"] as? String, "running", "refused before anything was stopped")
    }

    func testPortOfNothingAndAlignedTemplatesAreHandled() throws {
        let name = Harness.name("misc")
        XCTAssertEqual(try h.run(["run", "-d", "--name", name, "--rootfs", h.rootfs, "--", "sh", "-c", "sleep 30", "\u{1b}[31m"]).status, 0)
        defer { _ = try? h.run(["rm", "-f", name]) }
        for port in ["", "/", "/tcp"] {
            let r = try h.run(["port", name, port])
            XCTAssertEqual(r.status, 125, "'\(port)': \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("is not a container port"), r.stderr)
        }
        let table = try h.run(["ps", "--filter", "name=^\(name)$", "--format", "table {{.Names}}\\t{{.Command}}"])
        XCTAssertTrue(table.stdout.contains("\\x1b[31m") && !table.stdout.contains("\\\\x1b"), "escaped once: \(table.stdout)")
    }
}
