import Foundation
import XCTest

/// OCI configs that crun and runc accept or refuse, written the way
/// `runc spec --rootless` writes them rather than as `nook spec` does (issue 15).
final class ConformanceTests: XCTestCase {
    var h: Harness { Harness.shared }
    /// nook's clones alive before the test (their id is not in their command line).
    var clones: Harness.CloneBaseline?
    override func setUpWithError() throws { clones = Harness.CloneBaseline(of: h.user) }

    /// `runc spec --rootless` (run as `who`, the test user by default, so its
    /// maps name that user), then: `args`, the harness rootfs, no terminal, and `edit`.
    func runcBundle(_ args: [String], as who: Harness.User? = nil, edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let dir = try h.scratch("runc-bundle")
        if let who, h.isRoot { chown(dir, who.uid, who.gid) }
        let r = try h.runAsUser(["runc", "spec", "--rootless", "--bundle", dir], as: who)
        guard r.status == 0 else { throw XCTSkip("runc spec --rootless: \(r.stderr)") }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        process["terminal"] = false
        config["process"] = process
        config["root"] = ["path": h.rootfs, "readonly": true]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func editLinux(_ config: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var linux = config["linux"] as? [String: Any] ?? [:]
        edit(&linux)
        config["linux"] = linux
    }

    /// A refused config: exit 125, `message` in stderr, no state and no process left.
    func assertCreateRefused(_ dir: String, _ message: String, status: Int32 = 125, binary: String? = nil,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let id = Harness.name("conform")
        let r = try h.run(["create", "--bundle", dir, "--pid-file", dir + "/pid", id], binary: binary)
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), "'\(message)' in: \(r.stderr)", file: file, line: line)
        if r.status == 0 { _ = try h.run(["delete", "--force", id], binary: binary) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(id)"), "no state left", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/pid"), "no pid file", file: file, line: line)
        XCTAssertEqual(processes(mentioning: id), [], "no process left", file: file, line: line)
        XCTAssertEqual(clones?.added() ?? [], [], "no nook clone left", file: file, line: line)
    }

    func processes(mentioning id: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(id) && Harness.isAlive(pid)
        }
    }

    func runContainer(_ dir: String, binary: String? = nil) throws -> Harness.Result {
        try h.run(["run", "--bundle", dir, Harness.name("conform")], binary: binary)
    }

    // MARK: 1. seccomp: nothing after the filter but execve depends on the profile

    func testProfileThatRefusesCloseRangeStillStarts() throws {
        let dir = try runcBundle(["true"]) { c in
            self.editLinux(&c) { $0["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                                  "syscalls": [["names": ["close_range"], "action": "SCMP_ACT_ERRNO"]]] }
        }
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testWhitelistWithoutTheSetupCallsStillStarts() throws {
        // What a static busybox `true` needs, and nothing Nook's setup uses
        // (close_range, prctl, faccessat, fcntl, sendto, recvfrom, setsid, dup2).
        let allowed = ["execve", "exit", "exit_group", "brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
                       "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "rt_sigaction", "rt_sigprocmask",
                       "rt_sigreturn", "getuid", "geteuid", "getgid", "getegid", "getpid", "gettid", "uname",
                       "readlink", "getrandom", "futex", "read", "write", "openat", "close", "fstat", "newfstatat",
                       "ioctl", "lseek", "prlimit64"]
        let dir = try runcBundle(["true"]) { c in
            self.editLinux(&c) { $0["seccomp"] = ["defaultAction": "SCMP_ACT_ERRNO",
                                                  "syscalls": [["names": allowed, "action": "SCMP_ACT_ALLOW"]]] }
        }
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        // The same under create and start, where the wait for start comes after the setup.
        let id = Harness.name("conform")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        let started = try h.run(["start", id])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(Harness.eventually { (try? h.run(["state", id]).stdout.contains("\"stopped\"")) == true })
        XCTAssertEqual(try h.run(["delete", "--force", id]).status, 0)
    }

    /// Without noNewPrivileges the filter is loaded before the start waiter (as
    /// runc does): a profile denying one of its calls fails `create`, naming
    /// seccomp and what to do (a hostile review saw only "operation not permitted").
    func testProfileDenyingTheWaitersCallsWithoutNoNewPrivilegesSaysSo() throws {
        let dir = try runcBundle(["true"]) { c in
            var process = c["process"] as? [String: Any] ?? [:]
            process["noNewPrivileges"] = false
            c["process"] = process
            self.editLinux(&c) { $0["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                                  "syscalls": [["names": ["execveat"], "action": "SCMP_ACT_ERRNO"]]] }
        }
        try assertCreateRefused(dir, "allow them in the profile, or set noNewPrivileges")
    }

    // MARK: 2. ociVersion

    func testUnsupportedOciVersionIsRefused() throws {
        let dir = try runcBundle(["true"]) { $0["ociVersion"] = "invalid" }
        try assertCreateRefused(dir, "field 'ociVersion' is 'invalid': Nook supports 1.0.x, 1.1.x or 1.2.x")
    }

    // MARK: 3. a program missing from the rootfs

    func testMissingProgramFailsCreateAndLeavesNothing() throws {
        for program in ["/no/such/program", "no-such-program"] {
            let dir = try runcBundle([program])
            try assertCreateRefused(dir, "exec '\(program)': not found in the container", status: 127)
        }
    }

    // MARK: 4. --network options

    func testNetworkModesWithoutOptionsRefuseThem() throws {
        let r = try h.run(["run", "--network", "none:junk", "--rootfs", h.rootfs, "--", "true"])
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertTrue(r.stderr.contains("invalid --network 'none:junk': none takes no options"), r.stderr)
    }

    // MARK: 6. half an id mapping

    func testGidMappingsWithoutUidMappingsAreRefused() throws {
        let dir = try runcBundle(["true"]) { c in self.editLinux(&c) { $0["uidMappings"] = nil } }
        try assertCreateRefused(dir, "linux.gidMappings is given without linux.uidMappings")
    }
}

extension ConformanceTests {
    // MARK: 5. process.oomScoreAdj

    func testOOMScoreAdjIsAppliedAndLoweringIsRefused() throws {
        let raised = try runcBundle(["cat", "/proc/self/oom_score_adj"]) { c in
            var p = c["process"] as! [String: Any]
            p["oomScoreAdj"] = 500
            c["process"] = p
        }
        let r = try runContainer(raised)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "500\n")

        let own = try String(contentsOfFile: "/proc/self/oom_score_adj", encoding: .utf8)
        guard own != "-1000\n" else { throw XCTSkip("the test runs at -1000 already: nothing to lower") }
        let lowered = try runcBundle(["true"]) { c in
            var p = c["process"] as! [String: Any]
            p["oomScoreAdj"] = -1000
            c["process"] = p
        }
        try assertCreateRefused(lowered, "process.oomScoreAdj -1000: write '/proc/")
    }
}

extension ConformanceTests {
    // MARK: 7. linux.rootfsPropagation

    /// The optional fields of each mount in the container's mountinfo, by mount point.
    func propagation(_ value: String) throws -> [String: String] {
        let dir = try runcBundle(["cat", "/proc/self/mountinfo"]) { c in
            self.editLinux(&c) { $0["rootfsPropagation"] = value }
        }
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        var fields: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count > 7, let dash = parts.firstIndex(of: "-") else { continue }
            fields[parts[4]] = parts[6..<dash].joined(separator: " ")
        }
        return fields
    }

    func testRootfsPropagationIsAppliedToEveryMount() throws {
        let shared = try propagation("shared")
        XCTAssertTrue(shared["/"]?.contains("shared:") == true, "\(shared)")
        XCTAssertTrue(shared["/proc"]?.contains("shared:") == true, "recursive: \(shared)")
        let unbindable = try propagation("unbindable")
        XCTAssertTrue(unbindable["/"]?.contains("unbindable") == true, "\(unbindable)")
        XCTAssertTrue(unbindable["/proc"]?.contains("unbindable") == true, "recursive: \(unbindable)")
        for value in ["private", "slave"] {
            let fields = try propagation(value)
            XCTAssertEqual(fields["/"].map { $0.contains("shared:") || $0.contains("unbindable") }, false, "\(value): \(fields)")
        }
        let bad = try runcBundle(["true"]) { c in self.editLinux(&c) { $0["rootfsPropagation"] = "sideways" } }
        try assertCreateRefused(bad, "field 'linux.rootfsPropagation' is 'sideways'")
    }
}

extension ConformanceTests {
    // MARK: 8. linux.devices

    func testDevicesAreTheHostsNodesBoundOrRefusedByName() throws {
        guard FileManager.default.fileExists(atPath: "/dev/fuse"), FileManager.default.fileExists(atPath: "/dev/net/tun") else {
            throw XCTSkip("needs /dev/fuse and /dev/net/tun on the host")
        }
        let dir = try runcBundle(["sh", "-c", "test -c /dev/fuse && test -c /dev/net/tun && echo ok"]) { c in
            self.editLinux(&c) {
                $0["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0],
                                 ["path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200]]
            }
        }
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "ok\n")

        let missing = try runcBundle(["true"]) { c in
            self.editLinux(&c) { $0["devices"] = [["path": "/dev/nook-no-such-device", "type": "c", "major": 1, "minor": 3]] }
        }
        try assertCreateRefused(missing, "linux.devices[0] '/dev/nook-no-such-device': no such device on the host to bind")
    }
}

extension ConformanceTests {
    // MARK: 9. ambient capabilities that are not inheritable

    /// The process's capability sets as /proc/self/status shows them ("CapAmb" -> mask).
    func capabilitySets(_ dir: String) throws -> [String: UInt64] {
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        var sets: [String: UInt64] = [:]
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("Cap") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == "\t" || $0 == " " })
            if parts.count == 2 { sets[String(parts[0])] = UInt64(parts[1], radix: 16) }
        }
        return sets
    }

    func testAmbientCapabilitiesAsRuncSpecWritesThemAreLeftOutNotFatal() throws {
        // runc lists CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE as ambient
        // and none as inheritable: the kernel cannot raise them. runc warns, crun goes on.
        let sets = try capabilitySets(try runcBundle(["grep", "^Cap", "/proc/self/status"]))
        let kill: UInt64 = 1 << 5, bind: UInt64 = 1 << 10, audit: UInt64 = 1 << 29
        XCTAssertEqual(sets["CapEff"], kill | bind | audit, "\(sets)")
        XCTAssertEqual(sets["CapAmb"], 0, "\(sets)")

        // Inheritable too: then they are raised.
        let raisable = try runcBundle(["grep", "^Cap", "/proc/self/status"]) { c in
            var p = c["process"] as! [String: Any]
            var caps = p["capabilities"] as! [String: Any]
            caps["inheritable"] = ["CAP_KILL"]
            caps["ambient"] = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
            p["capabilities"] = caps
            c["process"] = p
        }
        let raised = try capabilitySets(raisable)
        XCTAssertEqual(raised["CapAmb"], kill, "only the one both permitted and inheritable: \(raised)")
        XCTAssertEqual(raised["CapInh"], kill, "\(raised)")
    }
}

extension ConformanceTests {
    // MARK: 10. a poststart hook sees the start, not what came after

    func testPoststartHookSeesRunningAndThePidOfAShortLivedProcess() throws {
        let out = try h.scratch("poststart")
        let script = try h.stdinSavingHook(in: out)
        let dir = try runcBundle(["true"]) { c in
            c["hooks"] = ["poststart": [["path": script, "args": ["hook.sh", out + "/poststart.json"]]]]
            // Large annotations make `start` take long to record the start, so
            // that `true` has ended by then: the case this is about, made likely.
            c["annotations"] = ["org.example.padding": String(repeating: "x", count: 4 << 20)]
        }
        let id = Harness.name("conform")
        let created = try h.run(["create", "--bundle", dir, "--pid-file", out + "/pid", id])
        XCTAssertEqual(created.status, 0, created.stderr)
        let pid = try String(contentsOfFile: out + "/pid", encoding: .utf8)
        let started = try h.run(["start", id])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(Harness.eventually { (try? h.run(["state", id]).stdout.contains("\"stopped\"")) == true })
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/poststart.json"))) as? [String: Any]
        XCTAssertEqual(state?["status"] as? String, "running", "\(state ?? [:])")
        XCTAssertEqual((state?["pid"] as? Int).map(String.init), pid, "\(state ?? [:])")
    }
}

extension ConformanceTests {
    // MARK: 11. exec for a user without sub-ids

    func testExecIntoASingleIDContainerSetsNoGroups() throws {
        let nosub = Harness.withoutRange
        let dir = try runcBundle(["sleep", "600"], as: nosub)
        let id = Harness.name("conform")
        let created = try h.run(["create", "--bundle", dir, id], as: nosub)
        XCTAssertEqual(created.status, 0, created.stderr)
        defer { _ = try? h.run(["delete", "--force", id], as: nosub) }
        let r = try h.run(["exec", id, "--", "sh", "-c", "id -u; cat /proc/self/setgroups"], as: nosub)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "0\ndeny\n")

        // Groups besides the primary one cannot be set there: refused, by name.
        let process = try h.scratch("process") + "/process.json"
        let spec: [String: Any] = ["args": ["true"], "cwd": "/", "user": ["uid": 0, "gid": 0, "additionalGids": [0, 5]]]
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: process))
        let refused = try h.run(["exec", "--process", process, id], as: nosub)
        XCTAssertEqual(refused.status, 125, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("process.user.additionalGids [5]: this container's user namespace denies setgroups"), refused.stderr)
    }
}

extension ConformanceTests {
    // MARK: 12. bind mounts keep the source's locked flags

    /// `nook ARGS` in a mount namespace of the test's own where `source` is a
    /// tmpfs mounted with `options`: the source's flags are known, whatever the host's are.
    func runWithTmpfs(at source: String, options: String, _ args: [String]) throws -> Harness.Result {
        guard h.isRoot else { throw XCTSkip("mounting the source with known flags needs root (CI runs as root)") }
        let setup = "mount -t tmpfs -o \(options) nook-test \(source) && exec \"$@\""
        return try Harness.shell(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", setup, "sh"]
                                 + h.commandLine(args))
    }

    /// The options of the mount at /mnt as the container sees them.
    func bindOptions(source options: String, bind: [String]) throws -> Set<String> {
        let source = try h.scratch("locked-source")
        let dir = try runcBundle(["sh", "-c", "grep ' /mnt ' /proc/self/mountinfo"]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt", "type": "bind", "source": source, "options": bind])
            c["mounts"] = mounts
        }
        let r = try runWithTmpfs(at: source, options: options, ["run", "--bundle", dir, Harness.name("conform")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let fields = r.stdout.split(separator: " ")
        return fields.count > 5 ? Set(fields[5].split(separator: ",").map(String.init)) : []
    }

    func testBindMountsKeepTheSourcesLockedFlags() throws {
        // Everything locked: asking to clear it, or for another atime mode, keeps the source's.
        let locked = try bindOptions(source: "ro,nosuid,nodev,noexec,noatime",
                                     bind: ["rbind", "rw", "suid", "dev", "exec", "strictatime"])
        XCTAssertEqual(locked, ["ro", "nosuid", "nodev", "noexec", "noatime"])
        // Nothing locked but the atime mode: the flags asked for are added, the atime stays.
        let added = try bindOptions(source: "relatime", bind: ["rbind", "ro", "nosuid", "nodev", "noexec", "strictatime"])
        XCTAssertEqual(added, ["ro", "nosuid", "nodev", "noexec", "relatime"])
        let nodiratime = try bindOptions(source: "strictatime", bind: ["bind", "nodiratime"])
        XCTAssertEqual(nodiratime, ["rw"], "strictatime shows as no atime option")
    }
}

extension ConformanceTests {
    // MARK: 13. maps that leave the caller out

    func testMappingsThatLeaveTheCallerOutWork() throws {
        guard let ranges = Harness.subordinateRanges(of: h.user) else { throw XCTSkip("the test user has no sub-id range") }
        // runc's own mounts included: its /sys is a bind, which nook, unmapped and
        // unprivileged, cannot clone for the container; the container's root does.
        let dir = try runcBundle(["sh", "-c", "id -u; cat /proc/self/uid_map; test -c /dev/null && echo null"]) { c in
            self.editLinux(&c) {
                $0["uidMappings"] = [["containerID": 0, "hostID": ranges.uids.start, "size": ranges.uids.count]]
                $0["gidMappings"] = [["containerID": 0, "hostID": ranges.gids.start, "size": ranges.gids.count]]
            }
        }
        let r = try runContainer(dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let map = "0 \(ranges.uids.start) \(ranges.uids.count)"
        XCTAssertEqual(r.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }, ["0", map, "null"])

        // The OCI lifecycle too: the created init, a sub-id, opens exec.fifo
        // for `start`, and `exec` reaches it before and after.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = ["sleep", "600"]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let id = Harness.name("conform")
        let created = try h.run(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        defer { _ = try? h.run(["delete", "--force", id]) }
        let before = try h.run(["exec", id, "--", "id", "-u"])
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertEqual(before.stdout, "0\n")
        let started = try h.run(["start", id])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(try h.run(["state", id]).stdout.contains("\"running\""))
        let after = try h.run(["exec", id, "--", "cat", "/proc/1/cmdline"])
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertEqual(after.stdout, "sleep\u{0}600\u{0}")

        // A root the sub-id cannot reach (a 0700 directory of the caller's) is refused, saying why.
        let closed = try h.scratch("closed")
        chmod(closed, 0o700)
        try FileManager.default.createSymbolicLink(atPath: closed + "/rootfs", withDestinationPath: h.rootfs)
        config["root"] = ["path": closed + "/rootfs", "readonly": true]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try assertCreateRefused(dir, "permission denied (hint: the container's root is host uid \(ranges.uids.start), not you (the uid map leaves your ids out)")
    }
}

extension ConformanceTests {
    // MARK: 14. exec while a foreground container is still being built

    /// A pipe with only `room` bytes free: a process writing more blocks until it is read.
    func nearlyFullPipe(room: Int) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        let page = [UInt8](repeating: 0x2e, count: 4096)
        while write(fds[1], page, page.count) > 0 {}
        _ = fcntl(fds[1], F_SETFL, 0)
        var sink = [UInt8](repeating: 0, count: room)
        var freed = 0
        while freed < room { freed += max(0, read(fds[0], &sink, room - freed)) }
        return (fds[0], fds[1])
    }

    func testExecRefusesAForegroundContainerStillBeingBuilt() throws {
        // Thousands of masked paths that do not exist: under --trace each is a
        // line. With its stderr a pipe nobody reads, `nook run` stops at the first
        // lines past its room, and its child, whose reports then go unread,
        // stops part-way through its mounts: before pivot_root, its mount
        // namespace still has the host's root. No timing: both wait for the pipe.
        let dir = try runcBundle(["true"]) { c in
            self.editLinux(&c) { $0["maskedPaths"] = (0..<3000).map { "/nook-absent-\($0)" } }
        }
        let id = Harness.name("conform")
        let stderrPipe = try nearlyFullPipe(room: 16 << 10)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        posix_spawn_file_actions_addclose(&actions, stderrPipe.read)
        let argv = h.commandLine(["run", "--trace", "--bundle", dir, id])
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ), 0)
        close(stderrPipe.write)
        defer {
            // Read what it wrote: then it runs `true` and ends by itself.
            var buffer = [UInt8](repeating: 0, count: 65536)
            while read(stderrPipe.read, &buffer, buffer.count) > 0 {}
            close(stderrPipe.read)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        XCTAssertTrue(Harness.eventually { (try? h.run(["state", id]).status) == 0 }, "the container is recorded")
        let r = try h.run(["exec", id, "--", "sh", "-c", "test -e /bin/probe && echo container || echo host"])
        XCTAssertNotEqual(r.stdout, "host\n", "exec joined the mount namespace before its pivot_root")
        XCTAssertEqual(r.status, 125, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("container '\(id)' is still being set up"), r.stderr)
        XCTAssertTrue(try h.run(["state", id]).stdout.contains("\"creating\""))
    }
}
