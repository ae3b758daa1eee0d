import XCTest
import Glibc
import NookCore
@testable import NookKernel
import NookKernelTesting
@testable import NookRuntime
@testable import NookSpec

final class SupervisorTests: XCTestCase {
    var tmp: TempDir!
    var kernel: RecordingKernel!
    var traceLines: TraceLines!

    override func setUpWithError() throws {
        tmp = try TempDir("nook-super")
        _ = try tmp.dir("rootfs")
        kernel = RecordingKernel()
        traceLines = TraceLines()
    }
    override func tearDown() { tmp.remove() }

    func makePlan(identity: IDMapping = .single(uid: 1000, gid: 1000)) throws -> LaunchPlan {
        try LaunchPlan.make(spec: defaultSpec(rootfs: tmp.path + "/rootfs"), containerID: "s1", bundle: tmp.path,
                            identity: identity)
    }

    func supervisor(trace: Bool = false) -> Supervisor {
        Supervisor(kernel: kernel, tracer: Tracer(enabled: trace, sink: traceLines.sink))
    }

    func procIndex(_ plan: LaunchPlan) throws -> Int32 {
        Int32(try XCTUnwrap(plan.mounts.firstIndex { $0.target == "/proc" }))
    }

    var subIDs: IDMapping {
        let maps: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 200_000, size: 65536)]
        return IDMapping(uidMappings: maps, gidMappings: maps, setgroupsAllowed: true, writer: .helpers, reason: "sub ids")
    }

    // MARK: the happy path

    func testOrderOfCallsWithDirectMaps() throws {
        let plan = try makePlan()
        kernel.messages = [ChildMessage(kind: .step, step: .mount, index: try procIndex(plan)),
                           ChildMessage(kind: .exec, step: .exec, index: 5)]
        let launched = try supervisor().launch(plan, options: SpawnOptions()) { process in
            self.kernel.calls.append(.note("beforeRelease \(process.pid)"))
        }
        XCTAssertEqual(launched.process, SpawnedProcess(pid: 4242, pidfd: 77))
        XCTAssertNil(launched.commandPID)
        XCTAssertEqual(kernel.calls, [
            .socketPair,
            .spawn(syncFD: 11),
            .close(11), // the child's end, once the child has it
            .writeFile("/proc/4242/setgroups", "deny"),
            .writeFile("/proc/4242/uid_map", "0 1000 1\n"),
            .writeFile("/proc/4242/gid_map", "0 1000 1\n"),
            .note("beforeRelease 4242"),
            .sendGo(10),
            .receive(10), .receive(10), .receive(10), // step, exec, EOF
            .close(10),
        ], "\(kernel.calls)")
    }

    func testSetgroupsIsDeniedBeforeTheGidMap() throws {
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 0)]
        _ = try supervisor().launch(try makePlan(), options: SpawnOptions()) { _ in }
        let writes = kernel.calls.compactMap { call -> String? in
            if case .writeFile(let path, _) = call { return path }
            return nil
        }
        let setgroups = try XCTUnwrap(writes.firstIndex(of: "/proc/4242/setgroups"))
        let gidMap = try XCTUnwrap(writes.firstIndex(of: "/proc/4242/gid_map"))
        XCTAssertLessThan(setgroups, gidMap)
    }

    func testCloneTraceNamesCloneIntoCgroupWhenACgroupFDIsGiven() throws {
        let plan = try makePlan()
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 5)]
        var options = SpawnOptions()
        options.cgroupFD = 9
        _ = try supervisor(trace: true).launch(plan, options: options)
        let clone = try XCTUnwrap(traceLines.lines.first)
        assertContains(clone, "|CLONE_PIDFD|CLONE_INTO_CGROUP, cgroup fd 9) = pid 4242")
        assertContains(clone, "starts in the container's cgroup")
    }

    func testExecCloneTraceNamesTheJoinedNamespaces() throws {
        var plan = try makePlan()
        plan.namespaces = []
        plan.joinExisting = true
        plan.joinNamespaces = [.user: "/proc/7/ns/user", .mount: "/proc/7/ns/mnt", .pid: "/proc/7/ns/pid"]
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 5)]
        _ = try supervisor(trace: true).launch(plan, options: SpawnOptions())
        let clone = try XCTUnwrap(traceLines.lines.first)
        assertContains(clone, "clone3(CLONE_PIDFD) = pid 4242 -- a helper that joins the container's namespaces: user, pid, mount")
        XCTAssertFalse(clone.contains("new namespaces: --") || clone.hasSuffix("namespaces: "), clone)
    }

    func testTraceLinesAndTraceOption() throws {
        let plan = try makePlan()
        kernel.messages = [ChildMessage(kind: .step, step: .mount, index: try procIndex(plan)),
                           ChildMessage(kind: .exec, step: .exec, index: 5)]
        _ = try supervisor(trace: true).launch(plan, options: SpawnOptions())
        XCTAssertEqual(kernel.spawnedOptions?.trace, true, "the child reports every step only when tracing")
        let lines = traceLines.lines
        XCTAssertEqual(lines.map { String($0.split(separator: ":")[1]).trimmingCharacters(in: " ") },
                       ["clone", "id maps", "id maps", "id maps", "mount", "exec"], "\(lines)")
        assertContains(lines[0], "clone3(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_PIDFD) = pid 4242")
        XCTAssertFalse(lines[0].contains("CLONE_NEWCGROUP"))
        assertContains(lines[1], "setgroups \"deny\"")
        assertContains(lines[2], "write /proc/4242/uid_map \"0 1000 1\"")
        assertContains(lines[5], "execve(\"/bin/sh\"")
        let format = try Regex("^trace: [a-z_ ]+: .+ -- .+$")
        for line in lines { XCTAssertNotNil(line.wholeMatch(of: format), line) }
    }

    func testTracingOffMeansTheChildIsNotAskedToReport() throws {
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 0)]
        _ = try supervisor(trace: false).launch(try makePlan(), options: SpawnOptions())
        XCTAssertEqual(kernel.spawnedOptions?.trace, false)
        XCTAssertEqual(traceLines.lines, [])
    }

    func testSetgroupsAllowedSkipsTheDeny() throws {
        var identity = IDMapping.single(uid: 1000, gid: 1000)
        identity.setgroupsAllowed = true
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 0)]
        _ = try supervisor().launch(try makePlan(identity: identity), options: SpawnOptions())
        XCTAssertFalse(kernel.calls.contains(.writeFile("/proc/4242/setgroups", "deny")))
        XCTAssertTrue(kernel.calls.contains(.writeFile("/proc/4242/uid_map", "0 1000 1\n")))
    }

    func testInitModeReportsTheCommandPid() throws {
        kernel.messages = [ChildMessage(kind: .pid, step: .initFork, value: 2),
                           ChildMessage(kind: .exec, step: .exec, index: 0)]
        XCTAssertEqual(try supervisor().launch(try makePlan(), options: SpawnOptions()).commandPID, 2)
    }

    /// A plan that joins a PID namespace by path, in nook's own user namespace.
    func joinedPIDNamespacePlan() throws -> LaunchPlan {
        var plan = try makePlan(identity: IDMapping(uidMappings: [.init(containerID: 0, hostID: 0, size: 1)],
                                                    gidMappings: [.init(containerID: 0, hostID: 0, size: 1)],
                                                    setgroupsAllowed: true, writer: .none, reason: "nook's own"))
        plan.namespaces.removeAll { $0 == .pid }
        plan.joinNamespaces = [.pid: "/proc/7/ns/pid"]
        return plan
    }

    /// A PID namespace given by path: the first child joins and forks the
    /// container's process; that one is recorded, released and followed.
    func testAJoinedPIDNamespaceIsEnteredByTheForkedProcess() throws {
        let plan = try joinedPIDNamespacePlan()
        kernel.messages = [ChildMessage(kind: .step, step: .setns, index: 0),
                           ChildMessage(kind: .pid, step: .fork, value: 5151),
                           ChildMessage(kind: .exec, step: .exec, index: 0)]
        let launched = try supervisor(trace: true).launch(plan, options: SpawnOptions()) { process in
            self.kernel.calls.append(.note("beforeRelease \(process.pid)"))
        }
        XCTAssertEqual(launched.process, SpawnedProcess(pid: 5151, pidfd: 88))
        XCTAssertEqual(Array(kernel.calls.drop { $0 != .close(11) }.dropFirst()), [
            .sendGo(10),                     // join and fork
            .receive(10), .receive(10),      // setns step, the new pid
            .adopt(5151),
            .wait(4242, []), .close(77),     // the first child exits; reaped
            .note("beforeRelease 5151"),     // state and hooks see the container's process
            .sendGo(10),
            .receive(10), .sendGo(10),       // exec, acknowledged under --trace
            .receive(10),                    // EOF
            .close(10),
        ], "\(kernel.calls)")
        assertContains(traceLines.lines.joined(separator: "\n"), "trace: pidns: clone3(CLONE_PARENT) = pid 5151 -- setns(CLONE_NEWPID) moves only children")
    }

    /// Whichever step fails, neither the first child nor the one it forked
    /// (our child too) is left unreaped, and no fd stays open.
    func testAJoinedPIDNamespaceFailureAtEachStep() throws {
        let plan = try joinedPIDNamespacePlan()
        let messages = [ChildMessage(kind: .pid, step: .fork, value: 5151), ChildMessage(kind: .exec, step: .exec, index: 0)]
        kernel.messages = messages
        _ = try supervisor().launch(plan, options: SpawnOptions())
        let baseline = kernel.calls
        for (i, call) in baseline.enumerated() where call.canFail {
            kernel = RecordingKernel()
            kernel.messages = messages
            kernel.failAt = i
            let label = "step \(i) \(call)"
            do {
                // The first child's wait may fail: it is reaped without its pidfd.
                _ = try supervisor().launch(plan, options: SpawnOptions())
                XCTAssertEqual(call, .wait(4242, []), "\(label): launched though the step failed")
                XCTAssertEqual(kernel.liveChildren, [5151], "\(label): only the container's process is left")
                XCTAssertEqual(kernel.openFDs, [88], label)
            } catch {
                XCTAssertEqual(kernel.liveChildren, [], "\(label): a child is left")
                XCTAssertEqual(kernel.openFDs, [], "\(label): an fd is open")
            }
        }
    }

    func testAFailedJoinOfAPIDNamespaceKillsTheFirstChild() throws {
        let plan = try joinedPIDNamespacePlan()
        kernel.messages = [ChildMessage(kind: .fail, step: .setns, index: 0, errno: EPERM)]
        var released = false
        assertNookError(try supervisor().launch(plan, options: SpawnOptions()) { _ in released = true }) { e in
            XCTAssertEqual(e.message, "enter namespace /proc/7/ns/pid: operation not permitted")
        }
        XCTAssertFalse(released)
        XCTAssertTrue(kernel.calls.contains(.signal(4242, SIGKILL)))
        XCTAssertEqual(kernel.calls.filter { $0 == .close(77) }.count, 1, "its pidfd closed once")
    }

    func testAJoinedProcessThatFailsItsExecIsReaped() throws {
        // exec / hooks: the helper reports the process it forked, which then fails.
        kernel.messages = [ChildMessage(kind: .pid, step: .fork, value: 5151),
                           ChildMessage(kind: .exec, step: .exec, index: 0),
                           ChildMessage(kind: .fail, step: .exec, index: 0, errno: ENOENT)]
        XCTAssertThrowsError(try supervisor().launch(try makePlan(), options: SpawnOptions()))
        XCTAssertTrue(kernel.calls.contains(.reap(5151)), "\(kernel.calls)")
    }

    func testStopAtReadyReturnsWithoutReadingFurther() throws {
        kernel.messages = [ChildMessage(kind: .step, step: .mountPrivate), ChildMessage(kind: .ready, step: .waitStart),
                           ChildMessage(kind: .exec, step: .exec, index: 0)]
        let launched = try supervisor().launch(try makePlan(), options: SpawnOptions(), stopAtReady: true)
        XCTAssertEqual(launched.process.pid, 4242)
        XCTAssertEqual(kernel.calls.filter { $0 == .receive(10) }.count, 2)
        XCTAssertFalse(kernel.calls.contains { if case .wait = $0 { true } else { false } })
        XCTAssertEqual(kernel.calls.last, .close(10))
    }

    func testReadyIsIgnoredWhenFollowingThroughExec() throws {
        kernel.messages = [ChildMessage(kind: .ready, step: .waitStart), ChildMessage(kind: .exec, step: .exec, index: 0)]
        _ = try supervisor().launch(try makePlan(), options: SpawnOptions())
        XCTAssertEqual(kernel.calls.filter { $0 == .receive(10) }.count, 3)
    }

    func testConsoleMasterIsHandedToTheCaller() throws {
        kernel.messages = [ChildMessage(kind: .console, step: .console, fd: 33), ChildMessage(kind: .exec, step: .exec, index: 0)]
        let launched = try supervisor().launch(try makePlan(), options: SpawnOptions())
        XCTAssertEqual(launched.consoleMaster, 33)
        XCTAssertFalse(kernel.calls.contains(.close(33)), "the caller owns the pty master now")
    }

    func testConsoleMasterIsClosedWhenSetupFails() throws {
        kernel.messages = [ChildMessage(kind: .console, step: .console, fd: 33),
                           ChildMessage(kind: .fail, step: .chdir, errno: ENOENT)]
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions()))
        XCTAssertTrue(kernel.calls.contains(.close(33)))
    }

    // MARK: failures

    func testChildFailureThrowsNamingTheMountAndWaitsForTheChild() throws {
        let plan = try makePlan()
        kernel.messages = [ChildMessage(kind: .step, step: .mountPrivate),
                           ChildMessage(kind: .fail, step: .mount, index: try procIndex(plan), errno: EPERM)]
        assertNookError(try supervisor().launch(plan, options: SpawnOptions())) { e in
            XCTAssertEqual(e.message, "mount proc on /proc: operation not permitted")
            XCTAssertEqual(e.exitCode, 125)
        }
        let after = kernel.calls(after: .sendGo(10))
        XCTAssertEqual(Array(after), [.receive(10), .receive(10), .receive(10), .signal(4242, SIGKILL), .wait(4242, []), .close(77), .close(10)], "\(after)")
    }

    func testExecFailureKeepsItsExitCode() throws {
        kernel.messages = [ChildMessage(kind: .fail, step: .exec, index: -1, errno: ENOENT)]
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions())) { e in
            XCTAssertEqual(e.exitCode, 127)
        }
        XCTAssertTrue(kernel.calls.contains(.wait(4242, [])))
    }

    func testBeforeReleaseThrowingKillsAndWaitsForTheChild() throws {
        let boom = NookError("cannot join cgroup")
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions()) { _ in throw boom }) { e in
            XCTAssertEqual(e, boom)
        }
        XCTAssertFalse(kernel.calls.contains(.sendGo(10)), "the child must never be released")
        let after = kernel.calls(after: .writeFile("/proc/4242/gid_map", "0 1000 1\n"))
        XCTAssertEqual(Array(after), [.signal(4242, SIGKILL), .wait(4242, []), .close(77), .close(10)], "\(kernel.calls)")
    }

    func testFailedUidMapWriteKillsTheChild() throws {
        kernel.writeErrors["/proc/4242/uid_map"] = NookError.sys("write '/proc/4242/uid_map'", errno: EPERM)
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions())) { e in
            XCTAssertEqual(e.message, "write uid map: write '/proc/4242/uid_map': operation not permitted")
            assertContains(e.hint ?? "", "only its own uid")
        }
        XCTAssertFalse(kernel.calls.contains(.writeFile("/proc/4242/gid_map", "0 1000 1\n")))
        XCTAssertFalse(kernel.calls.contains(.sendGo(10)))
        XCTAssertEqual(Array(kernel.calls(after: .writeFile("/proc/4242/uid_map", "0 1000 1\n"))),
                       [.signal(4242, SIGKILL), .wait(4242, []), .close(77), .close(10)])
    }

    func testSpawnFailureClosesBothEnds() throws {
        kernel.spawnError = NookError.sys("clone3", errno: EPERM)
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions())) { e in
            assertContains(e.message, "clone3: operation not permitted")
        }
        XCTAssertEqual(kernel.calls, [.socketPair, .spawn(syncFD: 11), .close(11), .close(10)])
    }

    func testEOFWithoutExecIsAnError() throws {
        kernel.messages = [ChildMessage(kind: .step, step: .mountPrivate)]
        kernel.waitStatus = .signaled(SIGKILL)
        assertNookError(try supervisor().launch(try makePlan(), options: SpawnOptions())) { e in
            XCTAssertEqual(e.message, "container setup ended without a report (status 137)")
            XCTAssertNotNil(e.hint)
        }
        XCTAssertTrue(kernel.calls.contains(.wait(4242, [])))
    }

    // MARK: newuidmap / newgidmap

    func testHelpersWriteSubIDRanges() throws {
        kernel.messages = [ChildMessage(kind: .exec, step: .exec, index: 0)]
        _ = try supervisor().launch(try makePlan(identity: subIDs), options: SpawnOptions()) { _ in
            self.kernel.calls.append(.note("beforeRelease"))
        }
        XCTAssertEqual(Array(kernel.calls.prefix(8)), [
            .socketPair, .spawn(syncFD: 11), .close(11),
            .runHelper(["newuidmap", "4242", "0", "1000", "1", "1", "200000", "65536"]),
            .runHelper(["newgidmap", "4242", "0", "1000", "1", "1", "200000", "65536"]),
            .note("beforeRelease"),
            .sendGo(10),
            .receive(10),
        ], "\(kernel.calls)")
        XCTAssertFalse(kernel.calls.contains { if case .writeFile = $0 { true } else { false } },
                       "with helpers Nook writes no map itself")
    }

    func testFailingNewuidmapMentionsSubuid() throws {
        kernel.helperResults["newuidmap"] = (1, "newuidmap: uid range [1-65537) -> [200000-265536) not allowed\n")
        assertNookError(try supervisor().launch(try makePlan(identity: subIDs), options: SpawnOptions())) { e in
            XCTAssertEqual(e.message, "newuidmap failed for pid 4242: newuidmap: uid range [1-65537) -> [200000-265536) not allowed")
            assertContains(e.hint ?? "", "/etc/subuid")
            assertContains(e.description, "/etc/subuid")
        }
        // Both ran at once; the error names the one that failed.
        XCTAssertTrue(kernel.calls.contains { if case .runHelper(let a) = $0 { a[0] == "newgidmap" } else { false } })
        XCTAssertEqual(Array(kernel.calls.suffix(4)), [.signal(4242, SIGKILL), .wait(4242, []), .close(77), .close(10)])
    }

    func testFailingNewgidmapMentionsSubgid() throws {
        kernel.helperResults["newgidmap"] = (1, "newgidmap: gid range not allowed")
        assertNookError(try supervisor().launch(try makePlan(identity: subIDs), options: SpawnOptions())) { e in
            assertContains(e.message, "newgidmap failed for pid 4242")
            assertContains(e.hint ?? "", "/etc/subgid")
        }
        XCTAssertTrue(kernel.calls.contains(.signal(4242, SIGKILL)))
    }
}
