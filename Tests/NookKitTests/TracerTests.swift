import XCTest
import CShims
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class TracerTests: XCTestCase {
    var tmp: TempDir!
    var plan: LaunchPlan!

    override func setUpWithError() throws {
        tmp = try TempDir("nook-trace")
        let rootfs = try tmp.dir("rootfs")
        plan = try LaunchPlan.make(spec: defaultSpec(rootfs: rootfs, args: ["sh", "-c", "exit 0"], hostname: "box"),
                                   containerID: "t1", bundle: tmp.path, identity: .single(uid: 1000, gid: 1000))
    }
    override func tearDown() { tmp.remove() }

    let lineFormat = try! Regex("^trace: [a-z_ ]+: .+ -- .+$")

    func index(of target: String) throws -> Int32 {
        Int32(try XCTUnwrap(plan.mounts.firstIndex { $0.target == target }, "no mount at \(target)"))
    }

    func traced(_ message: ChildMessage) -> [String] {
        let lines = TraceLines()
        Tracer(enabled: true, sink: lines.sink).emit(message, plan: plan)
        return lines.lines
    }

    func testFormat() {
        XCTAssertEqual(Tracer.format(step: "mount", call: "mount(\"proc\")", why: "a reason"),
                       "trace: mount: mount(\"proc\") -- a reason")
    }

    func testMountStepOfThePlan() throws {
        let lines = traced(ChildMessage(kind: .step, step: .mount, index: try index(of: "/proc")))
        XCTAssertEqual(lines.count, 1)
        let line = try XCTUnwrap(lines.first)
        XCTAssertNotNil(line.wholeMatch(of: lineFormat), line)
        XCTAssertEqual(line, "trace: mount: mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, \"\") -- a /proc that shows only this PID namespace")
    }

    /// The child reports the fd it opened beneath the rootfs: the line shows
    /// that, what the kernel got, not the path (CVE-2021-30465).
    func testMountStepNamesTheFdTheKernelGot() throws {
        let lines = traced(ChildMessage(kind: .step, step: .mount, index: try index(of: "/proc"), value: 7))
        XCTAssertEqual(lines, ["trace: mount: mount(\"proc\", \"/proc/self/fd/7\" -> \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, \"\") -- a /proc that shows only this PID namespace; the target is fd 7, opened inside the rootfs, not a path the container could swap (CVE-2021-30465)"])
        let dev = traced(ChildMessage(kind: .step, step: .mount, index: try index(of: "/dev/null"), value: 8))
        XCTAssertEqual(dev.count, 1)
        assertContains(dev.first ?? "", "move_mount(-> fd 8 = \"/dev/null\" resolved in root)")
    }

    /// A mask says which cover the child used (NOOK_MASKED_WITH_TMPFS), and a
    /// path the rootfs lacks reads as one sentence.
    func testMaskLinesNameTheirCover() throws {
        let acpi = try index(of: "/proc/acpi"), keys = try index(of: "/proc/keys")
        XCTAssertEqual(traced(ChildMessage(kind: .step, step: .mount, index: acpi, value: 9 | NOOK_MASKED_WITH_TMPFS)),
                       ["trace: mask: mount(\"tmpfs\", \"/proc/self/fd/9\" -> \"/proc/acpi\", \"tmpfs\", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, \"size=0,mode=0555\") -- masked: hides host kernel information (a directory: an empty read-only tmpfs over it)"])
        XCTAssertEqual(traced(ChildMessage(kind: .step, step: .mount, index: keys, value: 9)),
                       ["trace: mask: open_tree(\"/dev/null\", OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC) + move_mount(-> fd 9 = \"/proc/keys\" resolved in root) -- masked: hides host kernel information (a file: the host's /dev/null over it)"])
        XCTAssertEqual(traced(ChildMessage(kind: .skip, step: .mount, index: keys, errno: ENOENT)),
                       ["trace: mask: openat2(\"/proc/keys\", RESOLVE_IN_ROOT) = ENOENT -- skipped: not present in the container, so there is nothing to hide"])
        let sys = try index(of: "/proc/sys")
        XCTAssertEqual(traced(ChildMessage(kind: .skip, step: .mount, index: sys, errno: ENOENT)),
                       ["trace: readonly: openat2(\"/proc/sys\", RESOLVE_IN_ROOT) = ENOENT -- skipped: not present in the container, so there is nothing to make read-only"])
    }

    func testEveryMountOfThePlanTracesInTheFixedFormat() {
        for i in plan.mounts.indices {
            let lines = traced(ChildMessage(kind: .step, step: .mount, index: Int32(i)))
            XCTAssertEqual(lines.count, 1)
            XCTAssertNotNil(lines.first?.wholeMatch(of: lineFormat), "\(plan.mounts[i].target): \(lines)")
            XCTAssertTrue(lines.first?.contains(plan.mounts[i].target) == true, "\(lines)")
        }
    }

    func testEveryStepTracesInTheFixedFormat() throws {
        for raw in Int32(1)...Int32(23) {
            let step = try XCTUnwrap(ChildMessage.Step(rawValue: raw))
            for line in traced(ChildMessage(kind: .step, step: step, index: 0)) {
                XCTAssertNotNil(line.wholeMatch(of: lineFormat), "step \(step): \(line)")
            }
        }
    }

    func testSkippedOptionalStep() throws {
        let lines = traced(ChildMessage(kind: .skip, step: .mount, index: try index(of: "/sys/fs/cgroup"), errno: EPERM))
        let line = try XCTUnwrap(lines.first)
        XCTAssertNotNil(line.wholeMatch(of: lineFormat), line)
        assertContains(line, "failed: EPERM")
        assertContains(line, "-- skipped: ")
    }

    func testHostnameAndExecLines() throws {
        XCTAssertEqual(traced(ChildMessage(kind: .step, step: .hostname)),
                       ["trace: hostname: sethostname(\"box\") -- the UTS namespace has its own hostname"])
        let exec = try XCTUnwrap(traced(ChildMessage(kind: .exec, step: .exec, index: 5)).first)
        assertContains(exec, "execve(\"/bin/sh\", [\"sh\", \"-c\", \"exit 0\"])")
    }

    func testDisabledTracerPrintsNothing() {
        let lines = TraceLines()
        let tracer = Tracer(enabled: false, sink: lines.sink)
        tracer.emit("a", "b", "c")
        tracer.emit(ChildMessage(kind: .step, step: .mount, index: 0), plan: plan)
        XCTAssertEqual(lines.lines, [])
    }

    func testOutOfRangeIndexDoesNotCrash() {
        let lines = traced(ChildMessage(kind: .step, step: .mount, index: 9999))
        XCTAssertEqual(lines, ["trace: mount: ? -- ?"])
        XCTAssertEqual(Supervisor.error(for: ChildMessage(kind: .fail, step: .rlimit, index: -3, errno: EINVAL), plan: plan).exitCode, 125)
    }

    // MARK: the user's error line

    func testExecNotFoundIs127() {
        let e = Supervisor.error(for: ChildMessage(kind: .fail, step: .exec, index: -1, errno: ENOENT), plan: plan)
        XCTAssertEqual(e.exitCode, 127)
        XCTAssertEqual(e.message, "exec 'sh': not found in the container: no such file or directory")
        assertContains(e.hint ?? "", "looked in PATH=/usr/local/sbin:")
    }

    func testExecNotExecutableIs126() {
        let e = Supervisor.error(for: ChildMessage(kind: .fail, step: .exec, index: 5, errno: EACCES), plan: plan)
        XCTAssertEqual(e.exitCode, 126)
        XCTAssertEqual(e.message, "exec 'sh': permission denied")
        assertContains(e.hint ?? "", "not executable")
    }

    func testOtherExecFailureIs126() {
        let e = Supervisor.error(for: ChildMessage(kind: .fail, step: .exec, index: 0, errno: ENOEXEC), plan: plan)
        XCTAssertEqual(e.exitCode, 126)
        assertContains(e.message, "exec 'sh': ")
    }

    func testMountFailureNamesTheMount() throws {
        let proc = try index(of: "/proc")
        let denied = Supervisor.error(for: ChildMessage(kind: .fail, step: .mount, index: proc, errno: EACCES), plan: plan)
        XCTAssertEqual(denied.message, "mount proc on /proc: permission denied")
        XCTAssertEqual(denied.exitCode, 125)

        let eperm = Supervisor.error(for: ChildMessage(kind: .fail, step: .mount, index: proc, errno: EPERM), plan: plan)
        XCTAssertEqual(eperm.message, "mount proc on /proc: operation not permitted")
        assertContains(eperm.hint ?? "", "host's /proc is fully visible")

        let null = try index(of: "/dev/null")
        let bind = Supervisor.error(for: ChildMessage(kind: .fail, step: .mount, index: null, errno: ENOENT), plan: plan)
        XCTAssertEqual(bind.message, "bind mount /dev/null on /dev/null: no such file or directory")
    }

    func testOtherStepFailures() {
        let chdir = Supervisor.error(for: ChildMessage(kind: .fail, step: .chdir, errno: ENOENT), plan: plan)
        XCTAssertEqual(chdir.message, "chdir to working directory '/': no such file or directory")
        XCTAssertNotNil(chdir.hint)
        XCTAssertEqual(chdir.exitCode, 125)
        let pivot = Supervisor.error(for: ChildMessage(kind: .fail, step: .pivotRoot, errno: EINVAL), plan: plan)
        XCTAssertEqual(pivot.message, "pivot_root into '\(plan.rootfs)': invalid argument")
    }

    func testErrnoHelpers() {
        XCTAssertEqual(errnoDescription(EACCES), "permission denied")
        XCTAssertEqual(errnoName(EPERM), "EPERM")
        XCTAssertEqual(errnoName(9999), "E9999")
        XCTAssertEqual(NookError("boom", hint: "try x").description, "boom (hint: try x)")
        XCTAssertEqual(NookError.sys("open '/x'", errno: ENOENT).message, "open '/x': no such file or directory")
    }
}
