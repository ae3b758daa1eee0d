import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// The cgroup backend: which one a container gets (the one place that picks),
/// what each does, and the runtime calling it without asking which it has.
final class CgroupBackendTests: XCTestCase {
    let pure = CgroupEnvironment(mount: "/sys/fs/cgroup", hybrid: false, ownPath: "/user/app/nook")
    let memory: CgroupLimits = {
        var r = Spec.Resources()
        r.memory = .init(limit: 32 << 20)
        return try! CgroupLimits(r)
    }()

    final class Lines: @unchecked Sendable { var all: [String] = [] }

    // MARK: choosing the backend

    func testNothingDelegatedAndNoLimitsGivesNoCgroupAndTheTraceSaysWhy() throws {
        let lines = Lines()
        let tracer = Tracer(enabled: true) { lines.all.append($0) }
        let backend = try LiveCgroupHost(environment: pure, view: FakeCgroupView())
            .backend(forNew: "web", limits: CgroupLimits(), cgroupsPath: nil, tracer: tracer)
        XCTAssertTrue(backend is NoCgroupBackend)
        XCTAssertNil(backend.path)
        try backend.create()
        XCTAssertEqual(try backend.openForClone(), -1, "the child starts in nook's own cgroup")
        XCTAssertEqual(lines.all.count, 1)
        assertContains(lines.all.first ?? "", "(none)")
        assertContains(lines.all.first ?? "", "cgroup /user/app/nook is not delegated to this user: the container runs without resource limits")
        assertNookError(try backend.stats(id: "web")) { assertContains($0.message, "container 'web' has no cgroup") }
        assertNookError(try backend.freeze(true)) { XCTAssertEqual($0.hint, "cgroup v2 was not delegated when it started; see Docs/cgroups.md") }
        XCTAssertFalse(backend.killAll())
        XCTAssertEqual(backend.pids(), [])
    }

    func testADelegatedParentGivesADelegatedV2CgroupNextToNooks() throws {
        var view = FakeCgroupView()
        view.delegate("/sys/fs/cgroup/user/app")
        let backend = try LiveCgroupHost(environment: pure, view: view)
            .backend(forNew: "web", limits: memory, cgroupsPath: nil, tracer: Tracer(enabled: false))
        XCTAssertTrue(backend is DelegatedV2Backend)
        XCTAssertEqual(backend.path, "/sys/fs/cgroup/user/app/nook-web")
    }

    func testLimitsWithNothingDelegatedAreRefusedWhenTheBackendIsChosen() {
        assertNookError(try LiveCgroupHost(environment: pure, view: FakeCgroupView())
            .backend(forNew: "web", limits: memory, cgroupsPath: nil, tracer: Tracer(enabled: false))) { e in
            assertContains(e.message, "resource limits need a delegated cgroup, and /user/app/nook is not writable by you")
        }
    }

    func testAnExistingContainersBackendIsItsRecordedCgroupWhileThatIsThere() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let host = LiveCgroupHost(environment: pure, view: FakeCgroupView())
        XCTAssertEqual(host.backend(of: "web", recordedPath: dir.path).path, dir.path)
        XCTAssertNil(host.backend(of: "web", recordedPath: nil).path)
        XCTAssertNil(host.backend(of: "web", recordedPath: dir.path + "/gone").path)
    }

    // MARK: the delegated backend removes only what is its own

    func testANewCgroupThatWasNeverCreatedIsNotRemoved() throws {
        // The same name under another --root: create() refuses it (it has
        // processes), and the run's cleanup must not kill what runs there.
        let dir = try TempDir()
        defer { dir.remove() }
        let other = try dir.dir("nook-web")
        _ = try dir.file("nook-web/cgroup.kill", "")
        let backend = DelegatedV2Backend(dir: other, parent: dir.path, leaveOwn: nil, limits: memory, environment: pure,
                                         tracer: Tracer(enabled: false))
        try backend.remove()
        XCTAssertEqual(try String(contentsOfFile: other + "/cgroup.kill", encoding: .utf8), "", "nothing was killed")
        XCTAssertTrue(HostPath.isDirectory(other))
    }

    // MARK: the OOM message, from the byte count asked for

    func testTheOOMMessageFormatsTheTypedLimitOnce() throws {
        XCTAssertEqual(memory.memoryMaxDescription, "memory.max=32M")
        var r = Spec.Resources()
        r.memory = .init(limit: 1000)
        XCTAssertEqual(try CgroupLimits(r).memoryMaxDescription, "memory.max=1000")
        r.memory = .init(limit: 3 << 30)
        XCTAssertEqual(try CgroupLimits(r).memoryMaxDescription, "memory.max=3G")
        XCTAssertEqual(CgroupLimits().memoryMaxDescription, "memory.max=max")
        r.memory = nil
        r.unified = ["memory.max": "12345"]
        XCTAssertEqual(try CgroupLimits(r).memoryMaxDescription, "memory.max=12345")
    }

    // MARK: the fake, and the runtime through it

    func testTheFakeRecordsCallsInOrderAndFailsTheOnesItIsTold() throws {
        let fake = FakeCgroupBackend()
        let backend = try fake.backend(forNew: "web", limits: memory, cgroupsPath: nil, tracer: Tracer(enabled: false))
        try backend.create()
        let fd = try backend.openForClone()
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        fake.fail(.remove, errno: EBUSY)
        assertNookError(try backend.remove()) { assertContains($0.message, "cgroup remove (fake)") }
        XCTAssertEqual(fake.calls, [.choose, .create, .openForClone, .remove])
        XCTAssertEqual(fake.limits, memory)
        fake.fail(.choose, errno: EACCES)
        assertNookError(try fake.backend(forNew: "web", limits: memory, cgroupsPath: nil, tracer: Tracer(enabled: false)))
    }

    /// A stopped OCI container with a cgroup recorded, in a fresh state root.
    func stoppedContainer(_ root: String) throws -> (Runtime, FakeCgroupBackend) {
        let fake = FakeCgroupBackend()
        let runtime = try Runtime(stateRoot: root, environment: [:], kernel: LiveKernel(), cgroups: fake)
        let lock = try runtime.store.reserve("web")
        var state = ContainerState(id: "web", status: .stopped, pid: 0, startTime: 0, bundle: root, rootfs: root,
                                   mode: .oci, created: "2020-01-01T00:00:00Z")
        state.cgroupPath = fake.path
        try runtime.store.write(state)
        lock.release()
        return (runtime, fake)
    }

    func testDeleteRemovesTheContainersCgroupThroughItsBackend() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (runtime, fake) = try stoppedContainer(dir.path + "/state")
        try runtime.delete(id: "web", force: false)
        XCTAssertEqual(fake.calls.filter { $0 != .choose }, [.remove])
        XCTAssertFalse(HostPath.exists(runtime.store.directory("web")))
    }

    func testDeleteWhoseCgroupCannotBeRemovedSaysSoAndKeepsTheContainer() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (runtime, fake) = try stoppedContainer(dir.path + "/state")
        fake.fail(.remove, errno: EBUSY)
        assertNookError(try runtime.delete(id: "web", force: false)) { e in
            assertContains(e.message, "cgroup remove (fake)")
            assertContains(e.message, "device or resource busy")
        }
        XCTAssertTrue(HostPath.exists(runtime.store.statePath("web")), "the state stays, so delete can be tried again")
    }
}
