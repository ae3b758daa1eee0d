import Foundation
import XCTest

/// Hostile input and faults (issue 16): values that overflowed, files that never
/// end or never open, an image whose /etc/passwd is a FIFO. Each must be a clear
/// error with exit 125, at once, leaving no state entry and no process. The real
/// nook runs as the test user, with 1 GiB of address space and a deadline: a
/// crash, an unbounded read or a hang fails the test instead of the machine.
final class HostileInputTests: XCTestCase {
    var h: Harness { Harness.shared }
    /// nook's clones alive before the test (their id is not in their command line).
    var clones: Harness.CloneBaseline?
    override func setUpWithError() throws { clones = Harness.CloneBaseline(of: h.user) }

    /// Runs nook ARGS in `cwd`, and checks that it refuses with `message`.
    func refuses(_ args: [String], _ message: String, in cwd: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let marker = args.joined(separator: " ")
        let before = stateEntries()
        let dir = try cwd ?? h.scratch("cwd")
        let argv = ["/bin/sh", "-c", "ulimit -v 1048576 && cd \"$1\" && shift && exec \"$@\"", "sh", dir] + h.commandLine(args)
        let start = Date()
        let r = try Harness.shell(argv, timeout: 15)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 125, "\(marker): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains("nook: " + message), "\(marker): '\(message)' not in: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line, no crash report: \(r.stderr)", file: file, line: line)
        XCTAssertLessThan(elapsed, 5, "\(marker) took \(elapsed) s", file: file, line: line)
        XCTAssertEqual(stateEntries(), before, "\(marker) left a state entry", file: file, line: line)
        XCTAssertEqual(processes(mentioning: dir), [], "\(marker) left a process", file: file, line: line)
        XCTAssertEqual(clones?.added() ?? [], [], "\(marker) left a nook clone", file: file, line: line)
    }

    /// Containers' entries (the .seccomp cache a first run fills is not one).
    func stateEntries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: h.stateDir())) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Pids whose command line mentions `text`.
    func processes(mentioning text: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = Int32(name), pid != getpid(),
                  let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(name)/cmdline")) else { return nil }
            return String(decoding: cmdline, as: UTF8.self).contains(text) ? pid : nil
        }
    }

    /// A FIFO nobody writes to: reading it would wait forever.
    func fifo(_ path: String) throws {
        unlink(path)
        XCTAssertEqual(mkfifo(path, 0o644), 0, path)
        if h.isRoot { chown(path, h.user.uid, h.user.gid) }
    }

    func testHugeAndNonsenseNumbersAreErrorsNotCrashes() throws {
        let run = ["run", "--rootfs", h.rootfs]
        for flag in ["--memory", "--memory-swap", "--memory-reservation"] {
            for huge in ["99999999999999999999G", "9223372036854775807G"] {
                try refuses(run + [flag, huge, "--", "true"], "invalid \(flag) '\(huge)': more than 9223372036854775807 bytes")
            }
        }
        for cpus in ["inf", "nan", "92233720368548", "-1", "0.001"] {
            try refuses(run + ["--cpus=\(cpus)", "--", "true"], "invalid --cpus '\(cpus)' (hint: a number of CPUs from 0.01 to 175921860")
        }
        for opt in ["", "="] {
            try refuses(run + ["--security-opt", opt, "--", "true"], "unknown --security-opt '\(opt)'")
        }
        let device = ["/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"].first { path in
            var st = stat()
            return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFBLK
        }
        if let device {
            for flag in ["--device-read-bps", "--device-write-bps"] {
                try refuses(run + [flag, "\(device):9223372036854775807G", "--", "true"],
                            "invalid \(flag) '\(device):9223372036854775807G': more than 9223372036854775807 bytes")
            }
        }
    }

    func testFilesThatNeverEndOrNeverOpenAreRefusedAtOnce() throws {
        let dir = try h.scratch("hostile-files")
        try fifo(dir + "/fifo")
        let run = ["run", "--rootfs", h.rootfs]
        for path in ["/dev/zero", dir + "/fifo"] {
            let kind = path == "/dev/zero" ? "a character device" : "a FIFO"
            try refuses(run + ["--env-file", path, "--", "true"],
                        "--env-file \(path): \(kind), not a regular file (hint: an env file must be a regular file")
            try refuses(run + ["--seccomp-profile", path, "--", "true"],
                        "seccomp profile \(path): \(kind), not a regular file (hint: a seccomp profile must be a regular file")
            try refuses(run + ["--security-opt", "seccomp=\(path)", "--", "true"], "seccomp profile \(path): \(kind), not a regular file")
        }
        // An error is still reported when --log names a FIFO nobody reads.
        try refuses(["--log", dir + "/fifo", "run", "--rootfs", h.rootfs, "--cpus", "inf", "--", "true"], "invalid --cpus 'inf'")
        let big = dir + "/big.env"
        FileManager.default.createFile(atPath: big, contents: Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 1))
        try refuses(run + ["--env-file", big, "--", "true"], "--env-file \(big): larger than 1 MiB, the limit for an env file")
    }

    func testCreateRefusesAConfigJSONThatIsAFIFOOrASymlinkToDevZero() throws {
        let fifoBundle = try h.bundle(["true"])
        try fifo(fifoBundle + "/config.json")
        try refuses(["create", "--bundle", fifoBundle, Harness.name("fifo")],
                    "\(fifoBundle)/config.json: a FIFO, not a regular file (hint: config.json must be a regular file")
        try refuses(["run", "--bundle", fifoBundle, Harness.name("fifo")], "\(fifoBundle)/config.json: a FIFO, not a regular file")
        let zeroBundle = try h.bundle(["true"])
        unlink(zeroBundle + "/config.json")
        XCTAssertEqual(symlink("/dev/zero", zeroBundle + "/config.json"), 0)
        try refuses(["create", "--bundle", zeroBundle, Harness.name("zero")],
                    "\(zeroBundle)/config.json: a character device, not a regular file")
    }

    func testANamespacePathThatIsAFIFOIsRefused() throws {
        let dir = try h.scratch("fifo-netns")
        try fifo(dir + "/netns")
        let bundle = try h.bundle(["true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            var namespaces = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "network" }
            namespaces.append(["type": "network", "path": dir + "/netns"])
            linux["namespaces"] = namespaces
            config["linux"] = linux
        }
        try refuses(["create", "--bundle", bundle, Harness.name("netns")],
                    "linux.namespaces: the network namespace path '\(dir)/netns' is a FIFO, not a namespace file")
    }

    func testConfigJSONNumbersOutOfRangeNameTheField() throws {
        let uid = try h.bundle(["true"]) { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["user"] = ["uid": 99_999_999_999, "gid": 0]
            config["process"] = process
        }
        try refuses(["create", "--bundle", uid, Harness.name("uid")],
                    "invalid \(uid)/config.json: field 'process.user.uid': 99999999999 is not a whole number from 0 to 4294967295")
        let hook = try h.bundle(["true"]) { config in
            config["hooks"] = ["prestart": [["path": "/bin/true", "timeout": 3_000_000]]]
        }
        try refuses(["create", "--bundle", hook, Harness.name("hook")],
                    "invalid \(hook)/config.json: field 'hooks.prestart[0].timeout' is 3000000: a number of seconds from 1 to 2147483")
    }

    func testAnImageWhosePasswdOrGroupIsAFIFOIsRefused() throws {
        let root = try h.scratch("fifo-passwd") + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        try fifo(root + "/etc/passwd")
        try refuses(["run", "--rootfs", root, "--user", "alice", "--", "true"],
                    "/etc/passwd in the rootfs \(root): a FIFO, not a regular file (hint: /etc/passwd or /etc/group must be a regular file")
        unlink(root + "/etc/passwd")
        _ = try Harness.shell(["/bin/cp", "-p", h.rootfs + "/etc/passwd", root + "/etc/passwd"])
        try fifo(root + "/etc/group")
        try refuses(["run", "--rootfs", root, "--user", "alice:staff", "--", "true"], "/etc/group in the rootfs \(root): a FIFO")
    }

    func testAuditRefusesAFIFOForOSReleaseOrThePackageDatabase() throws {
        let root = try h.scratch("fifo-audit") + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        try fifo(root + "/etc/os-release")
        try refuses(["audit", root], "/etc/os-release in the rootfs \(root): a FIFO, not a regular file (hint: os-release must be a regular file")
        unlink(root + "/etc/os-release")
        try FileManager.default.createDirectory(atPath: root + "/var/lib/dpkg", withIntermediateDirectories: true)
        try fifo(root + "/var/lib/dpkg/status")
        try refuses(["audit", "--format", "json", root], "/var/lib/dpkg/status in the rootfs \(root): a FIFO, not a regular file")
    }

    func testEnvFileShellSyntaxIsAnErrorNamingTheLine() throws {
        let dir = try h.scratch("envfile")
        try "A=1\nexport B=2\n".write(toFile: dir + "/export.env", atomically: true, encoding: .utf8)
        try "# spaces\nB = x\n".write(toFile: dir + "/spaces.env", atomically: true, encoding: .utf8)
        try "A=1\nhello world\n".write(toFile: dir + "/garbage.env", atomically: true, encoding: .utf8)
        let run = ["run", "--rootfs", h.rootfs]
        try refuses(run + ["--env-file", dir + "/export.env", "--", "true"],
                    "--env-file \(dir)/export.env line 2: variable name 'export B' contains whitespace (hint: lines are KEY=VALUE or KEY")
        try refuses(run + ["--env-file", dir + "/spaces.env", "--", "true"], "--env-file \(dir)/spaces.env line 2: variable name 'B ' contains whitespace")
        try refuses(run + ["--env-file", dir + "/garbage.env", "--", "true"],
                    "--env-file \(dir)/garbage.env line 2: expected KEY=VALUE or a variable name, found 'hello world'")
    }

    func testAnEmptyPathIsNotTheCurrentDirectory() throws {
        let cwd = try h.scratch("empty-path")
        try refuses(["rootfs", "busybox", ""], "the directory to create is empty ('')", in: cwd)
        try refuses(["run", "--rootfs", "", "--", "true"], "--rootfs is empty ('')", in: cwd)
        try refuses(["audit", ""], "the rootfs to audit is empty ('')", in: cwd)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [], "nothing unpacked into the current directory")
    }
}

extension HostileInputTests {
    /// `--pid-file P` (create, exec): P is replaced through `P.nook-tmp`, which an
    /// earlier nook killed mid-write, or someone else, may have left as a FIFO
    /// (nook waited forever for a reader) or a symlink (nook wrote through it).
    func testAPidFileIsReplacedNeverFollowedOrOpened() throws {
        let dir = try h.scratch("pid-file")
        let victim = dir + "/victim"
        try "not yours\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try fifo(dir + "/by-fifo.pid.nook-tmp")
        XCTAssertEqual(symlink(victim, dir + "/by-link.pid.nook-tmp"), 0)
        if h.isRoot { for f in [victim, dir + "/by-link.pid.nook-tmp"] { lchown(f, h.user.uid, h.user.gid) } }
        try fifo(dir + "/is-fifo.pid")
        let bundle = try h.bundle(["sleep", "100"])
        for pidFile in ["by-fifo.pid", "by-link.pid", "is-fifo.pid"].map({ dir + "/" + $0 }) {
            let id = Harness.name("pidfile")
            let r = try Harness.shell(h.commandLine(["create", "--bundle", bundle, "--pid-file", pidFile, id]), timeout: 15)
            defer { _ = try? h.run(["delete", "--force", id]) }
            XCTAssertEqual(r.status, 0, "\(pidFile): \(r.stderr)")
            var st = stat()
            XCTAssertEqual(lstat(pidFile, &st), 0)
            XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG, "\(pidFile) is a regular file now")
            XCTAssertNotNil(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""), "\(pidFile) holds a pid")
            XCTAssertFalse(FileManager.default.fileExists(atPath: pidFile + ".nook-tmp"), "no temporary left")
        }
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "not yours\n", "nothing written through the symlink")
        // A directory cannot be replaced: a clear error, and no temporary or container left.
        try FileManager.default.createDirectory(atPath: dir + "/a-dir", withIntermediateDirectories: false)
        try refuses(["create", "--bundle", bundle, "--pid-file", dir + "/a-dir", Harness.name("pidfile")],
                    "replace '\(dir)/a-dir': is a directory")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a-dir.nook-tmp"))
    }

    func testAnEmptyRootPathIsNotTheBundle() throws {
        let bundle = try h.bundle(["true"]) { $0["root"] = ["path": ""] }
        try refuses(["run", "--bundle", bundle, Harness.name("emptyroot")], "invalid \(bundle)/config.json: root.path is empty ('')")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: bundle).sorted(), ["config.json"], "nothing made in the bundle")
    }

    /// `--log` appends errors to a file conmon names: a symlink there is not written through.
    func testALogPathThatIsASymlinkIsNotWrittenThrough() throws {
        let dir = try h.scratch("log-link")
        try "not yours\n".write(toFile: dir + "/victim", atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(dir + "/victim", dir + "/log"), 0)
        if h.isRoot { for f in ["/victim", "/log"] { lchown(dir + f, h.user.uid, h.user.gid) } } // the user's own file: only the symlink stops the write
        try refuses(["--log", dir + "/log", "run", "--rootfs", h.rootfs, "--cpus", "inf", "--", "true"], "invalid --cpus 'inf'")
        XCTAssertEqual(try String(contentsOfFile: dir + "/victim", encoding: .utf8), "not yours\n")
    }

    /// --trace shows the container's arguments, which anyone who wrote the
    /// command line or the config.json controls: escaped, never raw to the terminal.
    func testTraceShowsArgumentsPrintable() throws {
        let r = try h.run(["run", "--trace", "--rootfs", h.rootfs, "--", "/bin/true", "a\u{1b}[31mred\nfake: row", "\u{202e}x"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let exec = r.stderr.split(separator: "\n").first { $0.contains("execve(") } ?? ""
        XCTAssertTrue(exec.contains(#"["/bin/true", "a\x1b[31mred\nfake: row", "\u{202e}x"]"#), "escaped in: \(exec)")
        XCTAssertFalse(r.stderr.contains("\u{1b}") || r.stderr.contains("\u{202e}"), "no raw escape or override reaches the terminal")
        XCTAssertFalse(r.stderr.contains("\nfake: row"), "no line break from an argument")
    }

    /// `nook spec` writes config.json only where nothing is, a dangling symlink included.
    func testSpecDoesNotWriteThroughADanglingSymlink() throws {
        let dir = try h.scratch("spec-link")
        XCTAssertEqual(symlink(dir + "/elsewhere", dir + "/config.json"), 0)
        if h.isRoot { lchown(dir + "/config.json", h.user.uid, h.user.gid) }
        try refuses(["spec", "--bundle", dir], "'\(dir)/config.json' already exists")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/elsewhere"), "nothing written through the symlink")
    }

    /// 20,000 mounts (or masked paths, devices, hooks) are a clear error at
    /// once, not minutes of mounting (the config.json fuzzer's seed 7, case 1570).
    func testTooManyMountsAreRefusedAtOnce() throws {
        let proc: [String: Any] = ["destination": "/proc", "type": "proc", "source": "proc"]
        let bundle = try h.bundle(["true"]) { config in
            config["mounts"] = Array(repeating: proc, count: 20_000)
        }
        try refuses(["create", "--bundle", bundle, Harness.name("mounts")], "mounts has 20000 entries: Nook takes at most 4096")
        let masked = try h.bundle(["true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["maskedPaths"] = (0..<4097).map { "/proc/m\($0)" }
            config["linux"] = linux
        }
        try refuses(["run", "--bundle", masked, Harness.name("masked")], "linux.maskedPaths has 4097 entries: Nook takes at most 4096")
    }

    /// A masked or read-only path of "..", "/" or "relative" would hide or freeze the
    /// whole root (the config.json fuzzer, seed 16, case 148: /bin/true not found, 127).
    func testMaskedAndReadOnlyPathsMustBeBelowTheRoot() throws {
        for (field, path) in [("maskedPaths", ".."), ("maskedPaths", "/"), ("readonlyPaths", "/./.."), ("readonlyPaths", "proc/sys")] {
            let bundle = try h.bundle(["true"]) { config in
                var linux = config["linux"] as? [String: Any] ?? [:]
                linux[field] = [path]
                config["linux"] = linux
            }
            try refuses(["run", "--bundle", bundle, Harness.name("masked")], "linux.\(field): '\(path)' is not an absolute path below the root")
        }
    }

    /// A seccomp profile that lets no execve through is refused before anything
    /// runs (the config.json fuzzer, seed 99, case 206: exit 139 and no message).
    func testASeccompProfileThatDeniesExecveIsRefused() throws {
        let bundle = try h.bundle(["true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ERRNO", "syscalls": [] as [Any]]
            config["linux"] = linux
        }
        try refuses(["run", "--bundle", bundle, Harness.name("noexec")], "the seccomp profile in")
        let r = try h.run(["run", "--bundle", bundle, Harness.name("noexec")])
        XCTAssertTrue(r.stderr.contains("allows neither execve nor execveat: the container's command could never start"), r.stderr)
    }
}
