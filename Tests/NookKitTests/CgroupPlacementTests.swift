import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// A cgroup filesystem as CgroupPlacement sees it: writable paths and file contents.
struct FakeCgroupView: CgroupView {
    var writablePaths: Set<String> = []
    var files: [String: String] = [:]
    func writable(_ path: String) -> Bool { writablePaths.contains(path) }
    func read(_ path: String) -> String? { files[path] }

    /// `dir` delegated: the directory and the three files systemd's Delegate=yes chowns.
    mutating func delegate(_ dir: String) {
        for p in [dir, dir + "/cgroup.procs", dir + "/cgroup.subtree_control", dir + "/cgroup.threads"] { writablePaths.insert(p) }
    }
}

final class CgroupPlacementTests: XCTestCase {
    let memory: CgroupLimits = { var l = CgroupLimits(); l.files = [("memory.max", "67108864")]; return l }()
    let pure = CgroupEnvironment(mount: "/sys/fs/cgroup", hybrid: false, ownPath: "/user/app/nook")
    let hybrid = CgroupEnvironment(mount: "/sys/fs/cgroup/unified", hybrid: true, ownPath: "/user.slice/session-1.scope")

    func place(_ env: CgroupEnvironment, _ limits: CgroupLimits, path: String? = nil, view: FakeCgroupView) throws -> CgroupPlacement {
        try CgroupPlacement.decide(environment: env, id: "web", limits: limits, cgroupsPath: path, pid: 100, view: view)
    }

    // MARK: bug 10: a hybrid host's cgroup2 tree

    func testHybridHostWithoutControllersAndWithoutLimitsCreatesNothingEvenWhenWritable() throws {
        var view = FakeCgroupView()
        view.files["/sys/fs/cgroup/unified/cgroup.controllers"] = "hugetlb\n"
        view.delegate("/sys/fs/cgroup/unified/user.slice") // real root: everything is writable
        view.delegate("/sys/fs/cgroup/unified/user.slice/session-1.scope")
        guard case let .none(reason) = try place(hybrid, CgroupLimits(), view: view) else {
            return XCTFail("real root on a hybrid host must not create a cgroup in systemd's cgroup2 tree")
        }
        assertContains(reason, "hybrid host")
    }

    func testHybridHostWithControllersInCgroup2StillPlaces() throws {
        var view = FakeCgroupView()
        view.files["/sys/fs/cgroup/unified/cgroup.controllers"] = "memory pids\n"
        view.delegate("/sys/fs/cgroup/unified/user.slice")
        XCTAssertEqual(try place(hybrid, CgroupLimits(), view: view),
                       .create(dir: "/sys/fs/cgroup/unified/user.slice/nook-web", parent: "/sys/fs/cgroup/unified/user.slice", leaveOwn: nil))
    }

    // MARK: placement next to and below nook's own cgroup

    func testNextToOwnCgroupWhenTheParentIsDelegated() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        XCTAssertEqual(try place(pure, memory, view: view),
                       .create(dir: "/sys/fs/cgroup/user/app/nook-web", parent: "/sys/fs/cgroup/user/app", leaveOwn: nil))
    }

    func testBelowOwnCgroupWhenNookIsAloneInIt() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app/nook")
        view.files["/sys/fs/cgroup/user/app/nook/cgroup.procs"] = "100\n"
        XCTAssertEqual(try place(pure, memory, view: view),
                       .create(dir: "/sys/fs/cgroup/user/app/nook/nook-web", parent: "/sys/fs/cgroup/user/app/nook",
                               leaveOwn: "/sys/fs/cgroup/user/app/nook"))
    }

    // MARK: bug 5: another process shares nook's cgroup

    func testBelowOwnCgroupSharedWithAnotherProcessIsRefusedNamingTheCause() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app/nook")
        view.files["/sys/fs/cgroup/user/app/nook/cgroup.procs"] = "100\n4321\n"
        assertNookError(try place(pure, memory, view: view)) { e in
            assertContains(e.message, "other processes share it (pids 4321)")
            assertContains(e.message, "no-internal-processes")
            assertContains(e.hint ?? "", "systemd-run --user --scope -p Delegate=yes")
            XCTAssertEqual(e.exitCode, 125)
        }
        guard case let .none(reason) = try place(pure, CgroupLimits(), view: view) else { return XCTFail("no limits: run without") }
        assertContains(reason, "other processes share it")
    }

    // MARK: bug 2: linux.cgroupsPath

    func testRelativeCgroupsPathIsPlacedInTheDelegatedBase() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        view.delegate("/sys/fs/cgroup/user/app/pods")
        XCTAssertEqual(try place(pure, memory, path: "pods/web-1", view: view),
                       .create(dir: "/sys/fs/cgroup/user/app/pods/web-1", parent: "/sys/fs/cgroup/user/app/pods", leaveOwn: nil))
    }

    func testAbsoluteCgroupsPathIsRelativeToTheMount() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        XCTAssertEqual(try place(pure, memory, path: "/user/app/mine", view: view),
                       .create(dir: "/sys/fs/cgroup/user/app/mine", parent: "/sys/fs/cgroup/user/app", leaveOwn: nil))
    }

    func testCgroupsPathOutsideTheDelegationIsRefusedWithLimitsAndSkippedWithout() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        assertNookError(try place(pure, memory, path: "/system.slice/x", view: view)) { e in
            assertContains(e.message, "linux.cgroupsPath '/system.slice/x' means /sys/fs/cgroup/system.slice/x, but /sys/fs/cgroup/system.slice is not writable by you")
        }
        guard case let .none(reason) = try place(pure, CgroupLimits(), path: "/system.slice/x", view: view) else { return XCTFail() }
        assertContains(reason, "not writable by you")
    }

    func testCgroupsPathWithDotDotIsRefused() {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        assertNookError(try place(pure, memory, path: "../../escape", view: view)) { e in
            assertContains(e.message, "invalid linux.cgroupsPath '../../escape'")
        }
    }

    func testSystemdStyleCgroupsPathUsesTheDefaultPlacement() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        XCTAssertEqual(try place(pure, memory, path: "user.slice:libpod:abc", view: view),
                       .create(dir: "/sys/fs/cgroup/user/app/nook-web", parent: "/sys/fs/cgroup/user/app", leaveOwn: nil))
    }

    // MARK: bug 1: an existing cgroup of the same name

    func testPopulatedCgroupIsRecognised() {
        var view = FakeCgroupView()
        view.files["/c/cgroup.procs"] = ""
        view.files["/c/cgroup.events"] = "populated 0\nfrozen 0\n"
        XCTAssertFalse(DelegatedV2Backend.isPopulated("/c", view: view), "an empty stale cgroup may be removed")
        view.files["/c/cgroup.procs"] = "77\n"
        XCTAssertTrue(DelegatedV2Backend.isPopulated("/c", view: view))
        view.files["/c/cgroup.procs"] = ""
        view.files["/c/cgroup.events"] = "populated 1\nfrozen 0\n"
        XCTAssertTrue(DelegatedV2Backend.isPopulated("/c", view: view), "processes in a child cgroup count too")
    }
}
