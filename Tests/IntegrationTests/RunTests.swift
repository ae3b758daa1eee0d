import Foundation
import XCTest

/// `nook run`, the foundation: real containers, run as an unprivileged user,
/// checked by what the kernel and the user see.
final class RunTests: XCTestCase {
    var h: Harness { Harness.shared }

    func run(_ args: [String], stdin: Data? = nil) throws -> Harness.Result {
        try h.run(["run", "--rootfs", h.rootfs] + args, stdin: stdin)
    }

    func testRootInsideIsTheCallerOutside() throws {
        let data = try h.scratch("owner")
        let r = try run(["-v", "\(data):/data", "--", "sh", "-c", "id -u; cat /proc/self/uid_map; touch /data/made-inside"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines.first, "0", "uid 0 inside")
        XCTAssertEqual(lines.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["0", "\(h.user.uid)", "1"], "one mapping: container 0 -> the caller")
        var st = stat()
        XCTAssertEqual(stat(data + "/made-inside", &st), 0)
        XCTAssertEqual(st.st_uid, h.user.uid, "a file made by container root belongs to the caller on the host")
        XCTAssertNotEqual(st.st_uid, 0)
    }

    func testRealRootGetsItsBindMountsAndEtcFilesThoughContainerRootIsNotRoot() throws {
        // Real root maps container root to a sub-range (100000...): that uid may
        // not open root's 0700 state directory or a root-only bind source, so
        // nook makes those mounts' copies itself before the clone.
        guard h.isRoot else { throw XCTSkip("needs real root (CI runs the tests as root)") }
        let dir = try h.scratch("rootonly")
        chown(dir, 0, 0)
        chmod(dir, 0o700)
        let state = dir + "-state"
        let name = Harness.name("realroot")
        let r = try Harness.shell([h.nook, "--root", state, "run", "--name", name, "-v", "\(dir):/mnt:ro", "--rootfs", h.rootfs,
                                   "--", "sh", "-c", "grep -c \"$(hostname)\" /etc/hosts; head -n 1 /proc/self/uid_map; grep -c ' /mnt ' /proc/self/mountinfo"])
        defer { try? FileManager.default.removeItem(atPath: state) }
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines: [String] = r.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(lines.count, 3, r.stdout + r.stderr)
        XCTAssertEqual(lines.first, "1", "/etc/hosts came from root's state directory: \(r.stdout)\(r.stderr)")
        XCTAssertTrue(lines.count == 3 && lines[1].hasPrefix("0 ") && !lines[1].hasPrefix("0 0 "), "container root is not host root: \(r.stdout)")
        XCTAssertEqual(lines.last, "1", "the root-only directory is mounted: \(r.stdout)\(r.stderr)")
    }

    func testACallerWithoutAPasswdEntryRuns() throws {
        // A uid only NSS knows (LDAP, sssd, systemd DynamicUser), or none at all:
        // nook must not depend on getpwuid (a static binary crashes in NSS).
        guard h.isRoot else { throw XCTSkip("needs root to become a uid without a passwd entry") }
        let uid = Harness.unusedID(from: 2077)
        let stranger = Harness.User(name: "\(uid)", uid: uid, gid: uid)
        defer { try? FileManager.default.removeItem(atPath: h.stateDir(stranger)) }
        let r = try h.run(["run", "--rootfs", h.rootfs, "--", "cat", "/proc/self/uid_map"], as: stranger)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: " ").joined(separator: " "), "0 \(uid) 1\n", "the single mapping: \(r.stdout)")
    }

    /// A parent that ignores SIGCHLD passes that on through exec, and the
    /// kernel then reaps every child by itself: nook's waits for newuidmap,
    /// newgidmap and the container must still see them end.
    func testARunStartedWithSIGCHLDIgnoredWaitsForItsChildren() throws {
        let ignoring = ["/usr/bin/python3", "-c",
                        "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"]
        for who in [Harness.withRange, Harness.withoutRange] {
            let r = try Harness.shell(ignoring + h.commandLine(["run", "--rootfs", h.rootfs, "--", "sh", "-c", "exit 3"], as: who))
            XCTAssertEqual(r.status, 3, "\(who.name): \(r.stderr)")
        }
    }

    func testCommandIsPID1AndOnlyContainerProcessesAreVisible() throws {
        let r = try run(["--", "sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/1/cmdline | tr '\\0' ' '"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines[0], "1", "the command is PID 1")
        let count = Int(lines[1]) ?? 999
        XCTAssertLessThanOrEqual(count, 4, "only the container's few processes are visible, not the host's")
        XCTAssertTrue(lines[2].hasPrefix("sh -c"), lines[2])
    }

    func testHostnameDefaultsToIDAndCanBeSet() throws {
        let name = Harness.name("host")
        let r1 = try run(["--name", name, "--", "hostname"])
        XCTAssertEqual(r1.stdout.trimmingCharacters(in: .whitespacesAndNewlines), name)
        let r2 = try run(["--hostname", "box", "--", "hostname"])
        XCTAssertEqual(r2.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "box")
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        XCTAssertNotEqual(String(cString: buf), "box", "the host's hostname is untouched")
    }

    func testOnlyLoopbackAndItIsUp() throws {
        let r = try run(["--", "sh", "-c", "ls /sys/class/net; ip -o link; cat /proc/net/route | wc -l"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "lo")
        XCTAssertEqual(lines.filter { $0.contains(": ") && $0.contains("<") }.count, 1, "one interface: \(lines)")
        XCTAssertTrue(r.stdout.contains("<LOOPBACK,UP"), r.stdout)
        XCTAssertEqual(lines.last, "1", "no routes (only the header line)")
    }

    func testHostPathsOutsideTheRootfsAreInvisible() throws {
        let marker = try h.scratch("marker") + "/host-only"
        FileManager.default.createFile(atPath: marker, contents: Data("x".utf8))
        let r = try run(["--", "sh", "-c", "test -e \(marker) && echo visible; test -e \(h.work) && echo visible; ls /; cat /proc/self/mountinfo"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("visible"), r.stdout)
        // Field 5 of mountinfo is where a mount is attached: nothing outside the rootfs is left.
        let mountPoints = r.stdout.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            return f.count > 5 && Int(f[0]) != nil ? String(f[4]) : nil
        }
        XCTAssertFalse(mountPoints.isEmpty)
        XCTAssertFalse(mountPoints.contains { $0.hasPrefix(h.work) || $0 == "/tmp/nook-it" }, "the old root is detached: \(mountPoints)")
        XCTAssertEqual(mountPoints.first, "/")
    }

    func testReadOnlyVolumeAndReadOnlyRootfs() throws {
        let data = try h.scratch("ro")
        let r = try run(["-v", "\(data):/ro:ro", "--", "sh", "-c", "touch /ro/x 2>&1; echo rc=$?"])
        XCTAssertTrue(r.stdout.contains("Read-only file system"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rc=1"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/x"))

        let r2 = try run(["--read-only", "--tmpfs", "/scratch", "--", "sh", "-c",
                          "touch /new 2>&1; echo rc=$?; touch /scratch/ok && echo tmpfs-writable; grep ' /scratch ' /proc/mounts"])
        XCTAssertTrue(r2.stdout.contains("Read-only file system"), r2.stdout)
        XCTAssertTrue(r2.stdout.contains("tmpfs-writable"), r2.stdout)
        XCTAssertTrue(r2.stdout.contains("tmpfs /scratch tmpfs"), r2.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.rootfs + "/new"))
    }

    func testSymlinkedDestinationsStayInsideTheRootfs() throws {
        let data = try h.scratch("sym")
        FileManager.default.createFile(atPath: data + "/payload", contents: Data("p".utf8))
        // A hostile image: mount destinations that are symlinks to / and to ../../..
        let links = try h.scratch("symroot")
        try FileManager.default.copyItem(atPath: h.rootfs, toPath: links + "/rootfs")
        let root = links + "/rootfs"
        try FileManager.default.createSymbolicLink(atPath: root + "/to-root", withDestinationPath: "/")
        try FileManager.default.createSymbolicLink(atPath: root + "/to-up", withDestinationPath: "../../../../..")
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", links]) }
        let target = "escape-\(getpid())"
        let r = try h.run(["run", "--rootfs", root, "-v", "\(data):/to-root/\(target)", "-v", "\(data):/to-up/\(target)-2",
                           "--", "sh", "-c", "cat /\(target)/payload /\(target)-2/payload"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "pp")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/\(target)"), "nothing was created at the host's /")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/\(target)-2"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/\(target)"), "the mount point was made inside the rootfs")
    }

    /// A combining mark after a '/' (U+0301) is one Swift Character with it:
    /// split that way, "/a/\u{301}b" became one name with a slash inside, which
    /// the child created relative to the symlink `a` of the image, on the host
    /// (the hostile reviewer's finding). Paths split on bytes, as the kernel does.
    func testAPathWithACombiningMarkAfterASlashStaysInsideTheRootfs() throws {
        let host = try h.scratch("mark-host")
        let links = try h.scratch("mark-root")
        try FileManager.default.copyItem(atPath: h.rootfs, toPath: links + "/rootfs")
        let root = links + "/rootfs"
        try FileManager.default.createSymbolicLink(atPath: root + "/a", withDestinationPath: host)
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", links, host]) }
        let data = try h.scratch("mark-data")
        _ = try h.run(["run", "--rootfs", root, "-w", "/a/\u{301}escaped", "--", "true"])
        _ = try h.run(["run", "--rootfs", root, "-v", "\(data):/a/\u{301}mnt", "--", "true"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: host), [], "nothing was made in the host directory the image's symlink names")
    }

    func testEnvironmentWorkdirAndEnvFile() throws {
        let dir = try h.scratch("env")
        try "# comment\n\nFROMFILE=yes\nFOO=file\n".write(toFile: dir + "/env", atomically: true, encoding: .utf8)
        let r = try run(["--env-file", dir + "/env", "-e", "FOO=1", "-e", "BAR=two words", "-w", "/work/here", "--",
                         "sh", "-c", "echo $FOO; echo $BAR; echo $FROMFILE; pwd; echo $PATH; echo $HOME"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init),
                       ["1", "two words", "yes", "/work/here", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/root"])
    }

    func testExitCodes() throws {
        XCTAssertEqual(try run(["--", "true"]).status, 0)
        XCTAssertEqual(try run(["--", "sh", "-c", "exit 7"]).status, 7)
        let notFound = try run(["--", "no-such-command"])
        XCTAssertEqual(notFound.status, 127)
        XCTAssertTrue(notFound.stderr.contains("exec 'no-such-command': not found"), notFound.stderr)
        let cannot = try run(["--", "/etc/passwd"])
        XCTAssertEqual(cannot.status, 126)
        XCTAssertTrue(cannot.stderr.contains("permission denied"), cannot.stderr)
        XCTAssertEqual(try h.run(["run", "--rootfs", "/nonexistent-rootfs", "--", "true"]).status, 125)
        XCTAssertEqual(try h.run(["run", "--no-such-flag"]).status, 125, "a bad flag is 125, not argument-parser's 64")
    }

    func testDeathBySignalIs128PlusN() throws {
        let name = Harness.name("sig")
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", name, "--", "sleep", "30"])
        let stateFile = h.stateDir() + "/\(name)/state.json"
        XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: stateFile) }, "state appears while running")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile))) as? [String: Any]
        let pid = try XCTUnwrap(state?["pid"] as? Int)
        XCTAssertTrue(Harness.eventually { (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true })
        // SIGKILL from the host (an ancestor PID namespace) always reaches the container's PID 1.
        XCTAssertEqual(kill(Int32(pid), SIGKILL), 0)
        XCTAssertEqual(bg.wait(), 128 + SIGKILL)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "state is gone after the run")
    }

    func testErrorMessagesNameTheProblem() throws {
        let before = leftovers()
        let missing = try h.run(["run", "--rootfs", "/nonexistent-rootfs", "--", "true"])
        XCTAssertEqual(missing.stderr, "nook: rootfs '/nonexistent-rootfs' does not exist (hint: make one with: nook rootfs busybox /nonexistent-rootfs)\n")
        let file = try h.run(["run", "--rootfs", h.nook, "--", "true"])
        XCTAssertEqual(file.status, 125)
        XCTAssertTrue(file.stderr.hasPrefix("nook: rootfs '\(h.nook)' is not a directory"), file.stderr)
        let badVolume = try run(["-v", "nocolon", "--", "true"])
        XCTAssertEqual(badVolume.status, 125)
        XCTAssertTrue(badVolume.stderr.hasPrefix("nook: invalid volume 'nocolon': expected SRC:DST"), badVolume.stderr)
        let relative = try run(["-v", "/tmp:relative", "--", "true"])
        XCTAssertTrue(relative.stderr.contains("destination 'relative' must be an absolute path"), relative.stderr)
        let noSource = try run(["-v", "/nonexistent-src:/x", "--", "true"])
        XCTAssertTrue(noSource.stderr.contains("bind mount source '/nonexistent-src' does not exist"), noSource.stderr)
        let noCommand = try run([])
        XCTAssertTrue(noCommand.stderr.contains("no command given"), noCommand.stderr)
        XCTAssertEqual(noCommand.status, 125)
        for r in [missing, file, badVolume, relative, noSource, noCommand] {
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
        }
        XCTAssertEqual(leftovers(), before, "a failed run leaves no state behind")
    }

    func testSetupFailureInTheChildIsReportedWithStepPathAndErrno() throws {
        // A bind mount onto a path below a regular file cannot be created: the
        // child fails before execve and the parent reports the step and errno.
        let before = leftovers()
        let r = try run(["-v", "/tmp:/etc/passwd/sub", "--", "true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertEqual(r.stderr, "nook: bind mount /tmp on /etc/passwd/sub: not a directory\n")
        XCTAssertEqual(leftovers(), before)
    }

    func testTraceListsTheStepsInOrder() throws {
        let r = try run(["--trace", "--", "true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "", "trace goes to stderr only")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let pattern = try NSRegularExpression(pattern: "^trace: [a-z_ ]+: .+ -- .+$")
        for line in lines {
            XCTAssertNotNil(pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "format: \(line)")
        }
        func index(_ needle: String) -> Int {
            lines.firstIndex { $0.contains(needle) } ?? { XCTFail("no trace line with \(needle)"); return -1 }()
        }
        // The test user has an /etc/subuid range: the setuid helpers write the maps.
        let order = [index("clone3(CLONE_NEWUSER"), index("newuidmap"), index("newgidmap"), index("unshare(CLONE_NEWCGROUP)"), index("MS_REC|MS_PRIVATE"),
                     index("mount(\"proc\", \"/proc/self/fd/"), index("\"/dev\", \"tmpfs\""), index("pivot_root(\".\", \".\")"),
                     index("umount2(\".\", MNT_DETACH)"), index("sethostname"), index("IFF_UP"), index("chdir: openat2(\"/\""),
                     index("capset"), index("PR_SET_NO_NEW_PRIVS"), index("close_range"), index("execve(\"/bin/true\"")]
        XCTAssertEqual(order, order.sorted(), "steps appear in the order they happen")
        XCTAssertTrue(lines.first { $0.contains("clone3") }!.contains("CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC"))
    }

    /// --trace says what the kernel got, checked against what the container
    /// then sees: each mask names the cover it used (an empty tmpfs over a
    /// directory, the host's /dev/null over a file), and a mount's target is
    /// the fd opened inside the rootfs (CVE-2021-30465), not the path.
    func testTraceSaysWhatTheKernelGot() throws {
        // For each masked path the trace names: its filesystem type in mountinfo, and its device numbers.
        let r = try run(["--trace", "--", "sh", "-c", "cat /proc/self/mountinfo; for p in /proc/* /sys/firmware; do echo \"dev $p $(stat -c %t:%T $p)\"; done"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let trace = r.stderr.split(separator: "\n").map(String.init)
        let proc = try XCTUnwrap(trace.first { $0.contains("mount(\"proc\", ") }, r.stderr)
        XCTAssertNotNil(proc.firstMatch(of: try Regex(#"mount\("proc", "/proc/self/fd/[0-9]+" -> "/proc", "proc", "#)), proc)
        XCTAssertTrue(proc.contains("CVE-2021-30465"), proc)
        let masks = trace.filter { $0.hasPrefix("trace: mask: ") && !$0.contains("-- skipped: ") }
        func masked(_ pattern: String) throws -> [String] {
            let regex = try Regex(pattern)
            return masks.compactMap { $0.firstMatch(of: regex)?.output[1].substring.map(String.init) }
        }
        let tmpfs = try masked(#"^trace: mask: mount\("tmpfs", "/proc/self/fd/[0-9]+" -> "([^"]+)", "tmpfs", MS_RDONLY\|"#)
        let devNull = try masked(#"^trace: mask: open_tree\("/dev/null", OPEN_TREE_CLONE\) \+ mount_setattr\(MOUNT_ATTR_RDONLY\|[A-Z_|]+\) \+ move_mount\(-> fd [0-9]+ = "([^"]+)" resolved in root\)"#)
        XCTAssertEqual(tmpfs.count + devNull.count, masks.count, "every mask line names its cover: \(masks)")
        XCTAssertFalse(tmpfs.isEmpty || devNull.isEmpty, "podman's list has directories and files on every kernel: \(masks)")
        let mountinfo = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        for path in tmpfs {
            // Fields: id parent dev root MOUNTPOINT ... - FSTYPE source options; the last mount there is on top.
            let fields = mountinfo.last { $0.count > 8 && $0[4] == path } ?? []
            let type = fields.firstIndex(of: "-").map { fields[$0 + 1] }
            XCTAssertEqual(type, "tmpfs", "\(path) is an empty tmpfs")
        }
        for path in devNull {
            XCTAssertTrue(r.stdout.contains("dev \(path) 1:3\n"), "\(path) is /dev/null (1:3): \(r.stdout.suffix(2000))")
        }
        // A path the kernel lacks is said plainly.
        for line in trace where line.hasPrefix("trace: mask: ") && line.contains("-- skipped: ") {
            XCTAssertNotNil(line.wholeMatch(of: try Regex(#"trace: mask: openat2\("[^"]+", RESOLVE_IN_ROOT\) = ENOENT -- skipped: not present in the container, so there is nothing to hide"#)), line)
        }
    }

    func testStateIsPresentWhileRunningAndGoneAfter() throws {
        let name = Harness.name("state")
        // Without XDG_RUNTIME_DIR: /tmp/nook-UID.
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", name, "--", "sleep", "3"], env: ["XDG_RUNTIME_DIR": ""])
        let dir = h.fallbackStateDir() + "/\(name)"
        // "creating" until the child has built its root, then "running".
        func status() -> String? {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: dir + "/state.json")) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String
        }
        XCTAssertTrue(Harness.eventually { status() == "running" })
        var st = stat()
        XCTAssertEqual(stat(h.fallbackStateDir(), &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700, "the state directory is private")
        XCTAssertEqual(st.st_uid, h.user.uid)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/state.json"))) as? [String: Any]
        XCTAssertEqual(state?["status"] as? String, "running")
        XCTAssertEqual(state?["id"] as? String, name)
        let dup = try h.run(["run", "--rootfs", h.rootfs, "--name", name, "--", "true"], env: ["XDG_RUNTIME_DIR": ""])
        XCTAssertEqual(dup.status, 125)
        XCTAssertTrue(dup.stderr.contains("a container named '\(name)' already exists"), dup.stderr)
        XCTAssertEqual(bg.wait(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }

    func testKilledNookTakesItsContainerAlongAndTheNextCommandCleansUp() throws {
        let name = Harness.name("orphan")
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", name, "--", "sleep", "60"])
        let dir = h.stateDir() + "/\(name)"
        XCTAssertTrue(Harness.eventually { FileManager.default.fileExists(atPath: dir + "/state.json") })
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/state.json"))) as? [String: Any]
        let pid = Int32(try XCTUnwrap(state?["pid"] as? Int))
        // nook runs under setpriv, which execs: the background process is nook itself.
        XCTAssertEqual(kill(bg.pid, SIGKILL), 0)
        _ = bg.wait()
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(pid) }, "the container died with its supervisor")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir), "nobody was left to clean the state")
        XCTAssertEqual(try run(["--", "true"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "the next nook command reconciled the stale state")
    }

    func testNoHostFileDescriptorReachesTheContainer() throws {
        let r = try run(["--", "probe", "fds"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "fds result=ok detail=0,1,2 targets=")
    }

    /// Containers of the test user still recorded on disk (other tests' running ones excluded by name).
    func leftovers() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: h.stateDir())) ?? []
        return entries.filter { !$0.hasPrefix(".") && !$0.contains("-\(getpid())-") }
    }
}
