import Foundation
import NookCore
import NookKernel
import NookRuntime
import NookSpec
import XCTest

/// cgroup v2 limits, for real. These need a cgroup2 hierarchy with the memory,
/// pids, cpu and io controllers delegated to the test user: this host's
/// cgroups are hybrid, so Scripts/test-cgroups.sh runs this class inside the
/// qemu guest of Tests/vm (pure cgroup v2, `delegated/` owned by the user).
final class CgroupTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// The delegated parent Nook puts container cgroups in, or a skip saying what is missing.
    func delegatedParent() throws -> String {
        let env = CgroupEnvironment.detect()
        guard let mount = env.mount, let own = env.ownPath else {
            throw XCTSkip("no cgroup2 mount here: run Scripts/test-cgroups.sh (it boots the cgroup v2 guest)")
        }
        let ownDir = mount + (own == "/" ? "" : own)
        let parent = String(ownDir[..<ownDir.lastIndex(of: "/")!])
        let enabled = (try? String(contentsOfFile: parent + "/cgroup.subtree_control", encoding: .utf8)) ?? ""
        guard ["memory", "pids", "cpu", "io"].allSatisfy(enabled.contains), access(parent, W_OK) == 0 else {
            throw XCTSkip("cgroup v2 memory/pids/cpu/io are not delegated to this user here (hybrid host?): run Scripts/test-cgroups.sh, which boots the cgroup v2 guest")
        }
        return parent
    }

    func run(_ args: [String]) throws -> Harness.Result {
        try h.run(["run", "--rootfs", h.rootfs] + args, timeout: 180)
    }

    func testForkBombIsContainedByPidsLimit() throws {
        _ = try delegatedParent()
        let r = try run(["--pids-limit", "50", "--", "sh", "-c", "probe fork_many:200; cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids.events"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("fork_many") })
        XCTAssertTrue(line.contains("errno=EAGAIN"), "fork fails with EAGAIN at the limit: \(line)")
        let forked = Int(line.split(separator: "forked=").last?.prefix { $0.isNumber } ?? "") ?? 999
        XCTAssertLessThan(forked, 50, "never more than 50 processes: \(line)")
        XCTAssertTrue(r.stdout.contains("\n50\n"), "pids.max inside is 50: \(r.stdout)")
        let events = r.stdout.split(separator: "\n").first { $0.hasPrefix("max ") }
        XCTAssertNotEqual(events, "max 0", "pids.events counts the refusals")
    }

    func testMemoryHogIsKilledAndReported() throws {
        _ = try delegatedParent()
        // dd as PID 1 fills a 128 MiB buffer: the OOM killer takes the container's init.
        let r = try run(["--memory", "32M", "--memory-swap", "32M", "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"])
        XCTAssertEqual(r.status, 137, "killed by SIGKILL from the OOM killer: \(r.stdout) \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("nook: container killed: out of memory (memory.max=32M)"), r.stderr)
    }

    func testDetachedContainersOOMIsInItsLogPsAndWait() throws {
        _ = try delegatedParent()
        let name = Harness.name("oomd")
        let r = try h.run(["run", "-d", "--rootfs", h.rootfs, "--name", name, "--memory", "32M", "--memory-swap", "32M", "--",
                           "dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"], timeout: 180)
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name], timeout: 60) }
        let waited = try h.run(["wait", name], timeout: 180)
        XCTAssertEqual(waited.stdout, "137\n", waited.stderr)
        XCTAssertTrue(waited.stderr.contains("nook: container killed: out of memory (memory.max=32M)"), waited.stderr)
        let logs = try h.run(["logs", name], timeout: 60)
        XCTAssertTrue(logs.stdout.contains("nook: container killed: out of memory (memory.max=32M)"),
                      "the monitor's stderr is /dev/null: the log keeps the message: \(logs.stdout)")
        let ps = try h.run(["ps", "-a"], timeout: 60)
        XCTAssertTrue(ps.stdout.contains("exited (137, out of memory (memory.max=32M))"), ps.stdout)
    }

    func testPidsLimitMinusOneAndDefaultSwap() throws {
        _ = try delegatedParent()
        let r = try run(["--memory", "32M", "--pids-limit", "-1", "--", "cat", "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/memory.swap.max"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "max\n\(32 << 20)\n", "pids unlimited; swap as much as memory, as podman: \(r.stderr)")
    }

    func testLimitsAreVisibleInsideTheContainer() throws {
        _ = try delegatedParent()
        let r = try run(["--memory", "64M", "--pids-limit", "30", "--cpus", "0.5", "--cpu-shares", "512", "--", "sh", "-c",
                         "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight; cat /proc/self/cgroup"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init),
                       ["67108864", "30", "50000 100000", "\(CgroupLimits.cpuWeight(shares: 512))", "0::/"],
                       "the container's own cgroup, as / of its cgroup namespace")
    }

    func testCPUBurnerIsThrottled() throws {
        _ = try delegatedParent()
        let r = try run(["--cpus", "0.2", "--", "sh", "-c",
                         "timeout 2 sh -c 'while :; do :; done'; grep nr_throttled /sys/fs/cgroup/cpu.stat"])
        let throttled = Int(r.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        XCTAssertGreaterThan(throttled, 0, "cpu.max throttled the burner: \(r.stdout) \(r.stderr)")
    }

    func testIOLimitOnABlockDevice() throws {
        _ = try delegatedParent()
        let dev = try XCTUnwrap(ProcessInfo.processInfo.environment["NOOK_VM_BLOCKDEV_PATH"],
                                "the cgroup v2 guest provides a scratch block device")
        let majmin = try XCTUnwrap(ProcessInfo.processInfo.environment["NOOK_VM_BLOCKDEV"])
        let r = try run(["--device-write-bps", "\(dev):1mb", "-v", "\(dev):/dev/scratch:dev", "--", "sh", "-c",
                         "cat /sys/fs/cgroup/io.max; dd if=/dev/zero of=/dev/scratch bs=64k count=32 oflag=direct 2>&1; cat /sys/fs/cgroup/io.stat"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(majmin) rbps=max wbps=1048576"), r.stdout)
        let stat = r.stdout.split(separator: "\n").first { $0.hasPrefix(majmin + " ") && $0.contains("wbytes=") } ?? ""
        let written = stat.split(separator: " ").first { $0.hasPrefix("wbytes=") }.flatMap { Int($0.dropFirst(7)) } ?? 0
        XCTAssertGreaterThanOrEqual(written, 2 << 20, "io.stat counts the writes under the limit: \(r.stdout)")
    }

    func testContainerCannotWriteItsParentsCgroupFiles() throws {
        _ = try delegatedParent()
        let r = try run(["--memory", "64M", "--", "sh", "-c",
                         "probe write:/sys/fs/cgroup/cgroup.procs write:/sys/fs/cgroup/memory.max; ls /sys/fs/cgroup/.. | head -3; cat /proc/self/cgroup"])
        XCTAssertTrue(r.stdout.contains("write:/sys/fs/cgroup/cgroup.procs result=err errno=EROFS"), r.stdout)
        XCTAssertTrue(r.stdout.contains("write:/sys/fs/cgroup/memory.max result=err errno=EROFS"), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("0::/\n"), r.stdout)
    }

    func testCgroupIsRemovedAfterExitAndAfterSigkill() throws {
        let parent = try delegatedParent()
        let name = Harness.name("cg")
        XCTAssertEqual(try run(["--name", name, "--memory", "64M", "--", "true"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parent + "/nook-" + name), "removed at exit")

        let killed = Harness.name("cgkill")
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", killed, "--memory", "64M", "--", "sleep", "60"])
        XCTAssertTrue(Harness.eventually(20) { FileManager.default.fileExists(atPath: self.h.stateDir() + "/\(killed)/state.json") })
        let dir = parent + "/nook-" + killed
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir))
        kill(bg.pid, SIGKILL)
        _ = bg.wait()
        XCTAssertTrue(Harness.eventually(20) { (try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8)) == "" },
                      "the container's processes died with nook")
        XCTAssertEqual(try run(["--", "true"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "the next nook command removed the stale cgroup")
    }

    func waitForState(_ name: String, root: String? = nil) -> Bool {
        Harness.eventually(30) { FileManager.default.fileExists(atPath: (root ?? self.h.stateDir()) + "/\(name)/state.json") }
    }

    /// Issue 15 with a cgroup (no PID namespace): what is in the container's
    /// cgroup is the container's, even a process moved there from outside; a
    /// sleep of the same user outside is not. A TERM to all runs in a frozen
    /// cgroup, thawed after; SIGKILL goes through cgroup.kill.
    func testKillAllWithoutAPIDNamespaceTakesTheCgroupAndOnlyIt() throws {
        let parent = try delegatedParent()
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let stray = try h.startSentinel("1001")
        defer { Harness.end(stray) }
        let dir = try h.runcRootlessBundle(["sh", "-c", "trap true TERM; sleep 1000 & (sleep 1002 &); while :; do sleep 0.05; done"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["pids": ["limit": 100]]
            config["linux"] = linux
        }
        let id = Harness.name("cgscope")
        let created = try h.run(["create", "--bundle", dir, id], timeout: 120)
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        let cgroup = parent + "/nook-" + id
        func procs() -> Set<Int32> {
            Set(((try? String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) })
        }
        XCTAssertTrue(Harness.eventually { procs().count >= 3 }, "\(procs())")
        try "\(stray)".write(toFile: cgroup + "/cgroup.procs", atomically: false, encoding: .utf8)
        let r = try h.run(["ps", "--format", "json", id])
        let listed = Set((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int] ?? []).map { Int32($0) })
        XCTAssertTrue(listed.contains(stray), "in its cgroup, so the container's: \(listed)")
        XCTAssertFalse(listed.contains(sentinel))

        XCTAssertEqual(try h.run(["kill", "--all", id, "TERM"]).status, 0)
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(stray) }, "the moved-in process got TERM")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(id)/state.json"))) as? [String: Any]
        let initPID = Int32(try XCTUnwrap(state?["pid"] as? Int))
        XCTAssertTrue(Harness.isAlive(initPID), "the shell traps TERM")
        XCTAssertEqual(try String(contentsOfFile: cgroup + "/cgroup.freeze", encoding: .utf8), "0\n", "thawed after the signals")

        XCTAssertEqual(try h.run(["kill", "--all", id, "9"]).status, 0)
        XCTAssertTrue(Harness.eventually { procs().isEmpty }, "\(procs())")
        XCTAssertTrue(Harness.isAlive(sentinel), "a sleep of the same user outside the container")
        XCTAssertEqual(try h.run(["delete", id]).status, 0)
    }

    func testSameNameUnderAnotherRootIsRefusedAndDoesNotKillTheFirst() throws {
        let parent = try delegatedParent()
        let name = Harness.name("twin")
        let otherRoot = try h.scratch("other-root") + "/state"
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", name, "--memory", "64M", "--", "sleep", "60"])
        defer { kill(bg.pid, SIGKILL); _ = bg.wait() }
        XCTAssertTrue(waitForState(name))
        let second = try h.run(["run", "--root", otherRoot, "--rootfs", h.rootfs, "--name", name, "--memory", "64M", "--", "true"], timeout: 120)
        XCTAssertEqual(second.status, 125, second.stderr)
        XCTAssertTrue(second.stderr.contains("cgroup '\(parent)/nook-\(name)' already exists and has processes"), second.stderr)
        XCTAssertTrue(second.stderr.contains("another --root"), second.stderr)
        let procs = (try? String(contentsOfFile: parent + "/nook-\(name)/cgroup.procs", encoding: .utf8)) ?? ""
        XCTAssertFalse(procs.isEmpty, "the first container still runs")
        XCTAssertTrue(Harness.isAlive(bg.pid))
        XCTAssertFalse(FileManager.default.fileExists(atPath: otherRoot + "/" + name), "nothing left under the other root")
    }

    func testCgroupsPathFromConfigIsHonoured() throws {
        let parent = try delegatedParent()
        let name = Harness.name("cgpath")
        let sub = "mine-\(name)"
        let bundle = try h.bundle(["sleep", "60"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["cgroupsPath"] = sub
            linux["resources"] = ["pids": ["limit": 33]]
            config["linux"] = linux
        }
        let bg = try h.start(["run", "--bundle", bundle, name])
        defer { kill(bg.pid, SIGKILL); _ = bg.wait() }
        XCTAssertTrue(waitForState(name))
        XCTAssertEqual(try? String(contentsOfFile: parent + "/\(sub)/pids.max", encoding: .utf8), "33\n",
                       "a relative cgroupsPath goes next to nook's own cgroup")
        XCTAssertFalse(FileManager.default.fileExists(atPath: parent + "/nook-\(name)"))
        XCTAssertEqual(try h.run(["kill", name, "9"]).status, 0) // sleep as PID 1 ignores TERM
        _ = bg.wait()
        XCTAssertTrue(Harness.eventually(10) { !FileManager.default.fileExists(atPath: parent + "/\(sub)") }, "removed at the end")

        let outside = try h.bundle(["true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["cgroupsPath"] = "/not-delegated-\(name)"
            linux["resources"] = ["pids": ["limit": 33]]
            config["linux"] = linux
        }
        let refused = try h.run(["run", "--bundle", outside, name + "-x"], timeout: 120)
        XCTAssertEqual(refused.status, 125, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("linux.cgroupsPath '/not-delegated-\(name)'") && refused.stderr.contains("not writable by you"),
                      refused.stderr)
    }

    /// Only nook's own cgroup delegated (its parent is not writable): nook moves
    /// itself into <own>/nook-supervisor, and back at the end.
    func makeOwnOnlyCgroup() throws -> (sub: String, own: String) {
        let parent = try delegatedParent()
        let sub = parent + "/" + Harness.name("ownonly")
        let own = sub + "/own"
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
        try "+memory +pids".write(toFile: sub + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
        chmod(sub, 0o555)
        chmod(sub + "/cgroup.procs", 0o444)
        return (sub, own)
    }

    func removeOwnOnlyCgroup(_ sub: String, _ own: String) {
        try? "1".write(toFile: own + "/cgroup.kill", atomically: false, encoding: .utf8)
        chmod(sub, 0o755)
        chmod(sub + "/cgroup.procs", 0o644)
        _ = Harness.eventually(10) { rmdir(own) == 0 || errno == ENOENT }
        rmdir(sub)
    }

    /// `nook ARGS` started from a shell that first moves itself into `cgroup` (plus `before`, e.g. a sleeper).
    func runIn(_ cgroup: String, _ args: [String], before: String = "") throws -> Harness.Result {
        try Harness.shell(["/bin/sh", "-c", "echo $$ > \(cgroup)/cgroup.procs || exit 1; \(before) exec \"$@\"", "sh"] + h.commandLine(args),
                          timeout: 180)
    }

    func testBelowOwnCgroupMovesBackAtTheEnd() throws {
        let (sub, own) = try makeOwnOnlyCgroup()
        defer { removeOwnOnlyCgroup(sub, own) }
        let r = try runIn(own, ["run", "--rootfs", h.rootfs, "--trace", "--memory", "32M", "--", "cat", "/sys/fs/cgroup/memory.max"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(32 << 20)\n")
        XCTAssertTrue(r.stderr.contains("nook moves back where it started"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: own + "/nook-supervisor"), "the supervisor leaf is gone")
        XCTAssertEqual(try String(contentsOfFile: own + "/cgroup.subtree_control", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "the controllers nook enabled are disabled again")
    }

    func testBelowOwnCgroupSharedWithAnotherProcessIsRefusedClearly() throws {
        let (sub, own) = try makeOwnOnlyCgroup()
        defer { removeOwnOnlyCgroup(sub, own) }
        let r = try runIn(own, ["run", "--rootfs", h.rootfs, "--memory", "32M", "--", "true"], before: "sleep 30 &")
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertTrue(r.stderr.contains("other processes share it"), r.stderr)
        XCTAssertTrue(r.stderr.contains("no-internal-processes"), r.stderr)
        XCTAssertTrue(r.stderr.contains("systemd-run --user --scope -p Delegate=yes"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: own + "/nook-supervisor"), "nothing left behind")
    }

    func testStatsPauseAndResume() throws {
        _ = try delegatedParent()
        let name = Harness.name("stats")
        let bg = try h.start(["run", "--rootfs", h.rootfs, "--name", name, "--memory", "64M", "--pids-limit", "40", "--", "sleep", "60"])
        defer { kill(bg.pid, SIGKILL); _ = bg.wait() }
        XCTAssertTrue(Harness.eventually(20) { FileManager.default.fileExists(atPath: self.h.stateDir() + "/\(name)/state.json") })
        let stats = try h.run(["stats", "--format", "json", name], timeout: 60)
        XCTAssertEqual(stats.status, 0, stats.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["memoryMax"] as? String, "67108864")
        XCTAssertEqual(json?["pidsMax"] as? String, "40")
        XCTAssertGreaterThan(json?["memoryCurrent"] as? Int ?? 0, 0)
        let exec = try h.run(["exec", name, "--", "sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max"], timeout: 60)
        XCTAssertEqual(exec.stdout, "0::/\n40\n", "exec joins the container's cgroup: \(exec.stderr)")
        XCTAssertEqual(try h.run(["pause", name], timeout: 60).status, 0)
        let parent = try delegatedParent()
        XCTAssertTrue(Harness.eventually(10) {
            (try? String(contentsOfFile: parent + "/nook-\(name)/cgroup.events", encoding: .utf8))?.contains("frozen 1") == true
        })
        // ps and state say so (bug: they said "running")
        let ps = try h.run(["ps"], timeout: 60)
        let row = ps.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") } ?? ""
        XCTAssertTrue(row.contains("paused"), "nook ps shows the frozen container as paused: \(ps.stdout)")
        let state = try h.run(["state", name], timeout: 60)
        XCTAssertTrue(state.stdout.contains("\"status\":\"paused\"") || state.stdout.contains("\"status\" : \"paused\""),
                      "nook state: \(state.stdout) \(state.stderr)")
        let refused = try h.run(["exec", name, "--", "true"], timeout: 60)
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("is paused"), refused.stderr)
        XCTAssertEqual(try h.run(["resume", name], timeout: 60).status, 0)
        let resumed = try h.run(["ps"], timeout: 60).stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") } ?? ""
        XCTAssertTrue(resumed.contains("running"), "running again after resume: \(resumed)")
        XCTAssertTrue(Harness.eventually(10) {
            (try? String(contentsOfFile: parent + "/nook-\(name)/cgroup.events", encoding: .utf8))?.contains("frozen 0") == true
        })
    }
}

/// On a host without delegated cgroup v2 controllers (like this hybrid one):
/// limits are refused clearly, and containers without limits still run.
final class CgroupRefusalTests: XCTestCase {
    var h: Harness { Harness.shared }

    func testLimitsAreRefusedWhereTheyCannotBeEnforced() throws {
        try skipIfDelegated()
        // Containers only: a first run in a fresh state directory also makes the .seccomp cache.
        func containers() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: h.stateDir())) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        let before = containers()
        let r = try h.run(["run", "--rootfs", h.rootfs, "--memory", "32M", "--", "true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.hasPrefix("nook: resource limits need"), r.stderr)
        XCTAssertTrue(r.stderr.contains("hint:"), r.stderr)
        XCTAssertEqual(containers(), before, "nothing left behind")
        // "-1" is a value of --memory-swap and --pids-limit, not an option: the
        // run gets as far as the cgroup refusal, not a parse error.
        for flags in [["--memory", "32M", "--memory-swap", "-1"], ["--pids-limit", "10"]] {
            let minus = try h.run(["run", "--rootfs", h.rootfs] + flags + ["--", "true"])
            XCTAssertEqual(minus.status, 125, "\(flags): \(minus.stderr)")
            XCTAssertTrue(minus.stderr.hasPrefix("nook: resource limits need"), "\(flags): \(minus.stderr)")
        }
        // -1 alone is unlimited, what no cgroup gives: nothing to refuse (issue 17).
        for flags in [["--pids-limit", "-1"], ["--memory-swap", "-1"], ["--pids-limit", "-1", "--memory-swap", "-1"]] {
            let unlimited = try h.run(["run", "--rootfs", h.rootfs] + flags + ["--", "true"])
            XCTAssertEqual(unlimited.status, 0, "\(flags): \(unlimited.stderr)")
        }
        let plain = try h.run(["run", "--rootfs", h.rootfs, "--trace", "--", "true"])
        XCTAssertEqual(plain.status, 0)
        XCTAssertTrue(plain.stderr.contains("trace: cgroup: (none) --"), "--trace says it runs without a cgroup: \(plain.stderr)")
    }

    /// Skips where cgroup v2 is delegated to the test user (there the limits are enforced: CgroupTests).
    func skipIfDelegated() throws {
        let env = CgroupEnvironment.detect()
        if let mount = env.mount, let own = env.ownPath {
            let parent = String((mount + own)[..<(mount + own).lastIndex(of: "/")!])
            let writable = try h.runAsUser(["/usr/bin/test", "-w", parent]).status == 0
            try XCTSkipIf(writable && CgroupEnvironment.controllers(parent).contains("memory"),
                          "cgroup v2 is delegated here: refusal cannot be shown (CgroupTests run instead)")
        }
    }

    /// `run --bundle` of a config.json whose linux.resources is `resources`.
    func runWithResources(_ resources: [String: Any]) throws -> Harness.Result {
        let bundle = try h.bundle(["true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["resources"] = resources
            config["linux"] = linux
        }
        return try h.run(["run", "--bundle", bundle, Harness.name("limits")])
    }

    /// One rule for every limit, from flags and from config.json: without a
    /// delegated cgroup v2, each is refused (125, the delegation hint); none is
    /// silently dropped.
    func testEveryCgroupLimitIsRefusedWithoutDelegation() throws {
        try skipIfDelegated()
        var flagSets = [["--memory", "32M"], ["--memory-reservation", "32M"], ["--pids-limit", "10"], ["--cpus", "0.5"],
                        ["--cpu-shares", "512"], ["--cpuset-cpus", "0"], ["--blkio-weight", "100"]]
        if let device = ["/dev/vda", "/dev/sda", "/dev/loop0"].first(where: { var st = stat(); return stat($0, &st) == 0 && st.st_mode & S_IFMT == S_IFBLK }) {
            flagSets += [["--device-read-bps", device + ":1m"], ["--device-write-bps", device + ":1m"]]
        }
        for flags in flagSets {
            let r = try h.run(["run", "--rootfs", h.rootfs] + flags + ["--", "true"])
            XCTAssertEqual(r.status, 125, "\(flags): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("nook: resource limits need") && r.stderr.contains("hint:"), "\(flags): \(r.stderr)")
        }
        let device: [String: Any] = ["major": 8, "minor": 0, "rate": 1_048_576]
        let fields: [[String: Any]] = [
            ["memory": ["limit": 33_554_432]], ["memory": ["reservation": 33_554_432]], ["pids": ["limit": 10]],
            ["cpu": ["quota": 50_000, "period": 100_000]], ["cpu": ["shares": 512]], ["cpu": ["cpus": "0"]], ["cpu": ["mems": "0"]],
            ["cpu": ["burst": 1000]], ["cpu": ["idle": 1]], ["blockIO": ["weight": 100]],
            ["blockIO": ["weightDevice": [["major": 8, "minor": 0, "weight": 100]]]],
            ["blockIO": ["throttleReadBpsDevice": [device]]], ["blockIO": ["throttleWriteBpsDevice": [device]]],
            ["blockIO": ["throttleReadIOPSDevice": [device]]], ["blockIO": ["throttleWriteIOPSDevice": [device]]],
            ["hugepageLimits": [["pageSize": "2MB", "limit": 4_194_304]]], ["rdma": ["mlx4_0": ["hcaHandles": 2]]],
            ["unified": ["pids.max": "10"]],
        ]
        for resources in fields {
            let r = try runWithResources(resources)
            XCTAssertEqual(r.status, 125, "\(resources): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("nook: resource limits need") && r.stderr.contains("hint:"), "\(resources): \(r.stderr)")
        }
    }

    /// Whatever the host: a cgroup v1 limit is refused (nothing in cgroup v2
    /// means the same), and "no limit" needs no cgroup, as podman writes it.
    func testV1OnlyLimitsAreRefusedAndNoLimitNeedsNoCgroup() throws {
        let v1: [([String: Any], String)] = [
            (["memory": ["kernel": 1_048_576]], "memory.kernel"), (["memory": ["kernelTCP": 1_048_576]], "memory.kernelTCP"),
            (["memory": ["swappiness": 10]], "memory.swappiness"), (["memory": ["disableOOMKiller": true]], "memory.disableOOMKiller"),
            (["cpu": ["realtimeRuntime": 1000]], "cpu.realtimeRuntime"), (["blockIO": ["leafWeight": 100]], "blockIO.leafWeight"),
            (["network": ["classID": 1]], "network"),
        ]
        for (resources, field) in v1 {
            let r = try runWithResources(resources)
            XCTAssertEqual(r.status, 125, "\(resources): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("nook: linux.resources.\(field) is a cgroup v1 limit with no cgroup v2 equivalent"), r.stderr)
        }
        let unlimited: [String: Any] = ["memory": ["limit": -1, "swap": -1], "pids": ["limit": -1], "cpu": ["quota": -1, "shares": 0],
                                        "devices": [["allow": false, "access": "rwm"]]]
        let r = try runWithResources(unlimited)
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
