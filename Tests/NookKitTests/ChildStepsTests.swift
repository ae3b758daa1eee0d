import XCTest
import NookSpec
@testable import NookKernel
@testable import NookRuntime

/// The choices the container child follows (CShims/child_setup.c) are made in
/// Swift; these tests pin each one down.
final class ChildStepsTests: XCTestCase {
    /// The default spec with a seccomp filter, edited.
    func plan(_ edit: (inout Spec) -> Void = { _ in }) throws -> LaunchPlan {
        let tmp = try TempDir("nook-steps")
        defer { tmp.remove() }
        var spec = defaultSpec(rootfs: try tmp.dir("rootfs"))
        spec.linux?.seccomp = Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW",
                                           syscalls: [.init(names: ["kexec_load"], action: "SCMP_ACT_ERRNO")])
        edit(&spec)
        return try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path, identity: .single(uid: 1000, gid: 1000))
    }

    /// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it goes
    /// before setuid/capset; with it, last before execve. The start waiter
    /// gets the filter only in the second case (the setup loaded it otherwise).
    func testSeccompPositionFollowsNoNewPrivileges() throws {
        let late = try plan()
        XCTAssertTrue(late.noNewPrivileges)
        XCTAssertEqual(late.seccompPosition, .beforeExec)
        XCTAssertNotNil(StartWaiter.filterForWaiter(late.child))

        let early = try plan { $0.process?.noNewPrivileges = false }
        XCTAssertEqual(early.seccompPosition, .beforeIdentity)
        XCTAssertNil(StartWaiter.filterForWaiter(early.child), "the setup loaded it before the identity change")
    }

    func testConsoleGoesToTheCommandOfAnInitAndToTheProcessOtherwise() {
        XCTAssertEqual(ChildSteps.consoleMode(createConsole: false, initProcess: false), .none)
        XCTAssertEqual(ChildSteps.consoleMode(createConsole: false, initProcess: true), .none)
        XCTAssertEqual(ChildSteps.consoleMode(createConsole: true, initProcess: false), .now)
        XCTAssertEqual(ChildSteps.consoleMode(createConsole: true, initProcess: true), .inCommand)
        // A pty makes its own session; only without one does the child call setsid itself.
        XCTAssertTrue(ChildSteps.newSession(requested: true, console: .none))
        XCTAssertFalse(ChildSteps.newSession(requested: true, console: .now))
        XCTAssertFalse(ChildSteps.newSession(requested: true, console: .inCommand))
        XCTAssertFalse(ChildSteps.newSession(requested: false, console: .none))
    }

    /// Before exec'ing the start waiter, every fd from the first unpreserved one
    /// up closes except the waiter's own.
    func testCloseRangesLeaveOutTheKeptFDs() {
        func ranges(_ first: Int32, _ keep: [Int32]) -> [[UInt32]] {
            ChildSteps.closeRanges(from: first, keeping: keep).map { [$0.first, $0.last] }
        }
        XCTAssertEqual(ranges(3, []), [[3, .max]])
        XCTAssertEqual(ranges(3, [7, 5, 6, 12]), [[3, 4], [8, 11], [13, .max]])
        XCTAssertEqual(ranges(3, [3, 4]), [[5, .max]], "no empty range before a kept fd at the start")
        XCTAssertEqual(ranges(5, [4, 9, 9, -1]), [[5, 8], [10, .max]], "fds below the first, duplicates and -1 are ignored")
    }

    /// The child opens each prefix from the root and creates a missing one by
    /// its name in its parent: no string work after the clone.
    /// On the byte '/', not on Characters: "/" and a combining mark after it are one Character.
    func testRootPathSplitsOnTheSlashByteNotOnCharacters() {
        let p = RootPath("/a/\u{301}b")
        XCTAssertEqual(p.names, ["a", "\u{301}b"])
        XCTAssertEqual(p.prefixes, ["/a", "/a/\u{301}b"])
    }

    func testRootPathIsSplitIntoPrefixesAndNames() {
        let p = RootPath("/a/bb/c")
        XCTAssertEqual(p.prefixes, ["/a", "/a/bb", "/a/bb/c"])
        XCTAssertEqual(p.names, ["a", "bb", "c"])
        XCTAssertEqual(p.parentCount, 2)
        XCTAssertEqual(RootPath("/").prefixes, [])
        XCTAssertEqual(RootPath("/").parentCount, 0)
        // As written: repeated and trailing slashes stay in the prefixes, ".."
        // is a component (openat2's RESOLVE_IN_ROOT keeps it inside the root).
        let odd = RootPath("//x//../y/")
        XCTAssertEqual(odd.prefixes, ["//x", "//x//..", "//x//../y"])
        XCTAssertEqual(odd.names, ["x", "..", "y"])
        XCTAssertEqual(RootPath("/dev/stdin").parentCount, 1)
    }

    /// A mask or read-only path the image lacks is skipped, anything else is
    /// created; masks under /proc and sysctls must land on procfs.
    func testMountTargetChoices() throws {
        let ops = try plan { spec in
            spec.linux?.maskedPaths = ["/proc/kcore", "/sys/firmware"]
            spec.linux?.readonlyPaths = ["/proc/sys"]
            spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        }.mounts
        func op(_ target: String) throws -> MountOp { try XCTUnwrap(ops.first { $0.target == target }, target) }
        XCTAssertEqual(try op("/proc/kcore").ifMissing, .skip)
        XCTAssertTrue(try op("/proc/kcore").mustBeOnProcfs)
        XCTAssertEqual(try op("/sys/firmware").ifMissing, .skip)
        XCTAssertFalse(try op("/sys/firmware").mustBeOnProcfs)
        XCTAssertTrue(try op("/proc/sys").mustBeOnProcfs)
        XCTAssertTrue(try op("/proc/sys/net/ipv4/ip_forward").mustBeOnProcfs)
        XCTAssertEqual(try op("/proc").ifMissing, .makeDirectory)
        XCTAssertFalse(try op("/proc").mustBeOnProcfs, "procfs itself is mounted there")
        XCTAssertEqual(try op("/dev/null").ifMissing, .createFile)
    }
}
