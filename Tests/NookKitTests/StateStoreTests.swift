import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class StateStoreTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir("nook-state") }
    override func tearDown() { tmp.remove() }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(lstat(path, &st), 0, "stat \(path)")
        return st.st_mode & 0o7777
    }

    func state(_ id: String, pid: Int32, startTime: UInt64, mode: ContainerState.Mode = .foreground,
               status: ContainerState.Status = .running) -> ContainerState {
        ContainerState(id: id, status: status, pid: pid, startTime: startTime, bundle: "/b", rootfs: "/b/rootfs",
                       mode: mode, created: "2025-01-01T00:00:00Z")
    }

    /// A process that existed and is gone: spawned, identified while alive, killed, reaped.
    func deadProcess() throws -> ProcessIdentity {
        let pid = try spawnProcess(["/bin/sleep", "30"])
        let identity = ProcessIdentity.of(pid: pid)
        kill(pid, SIGKILL)
        _ = reap(pid)
        return try XCTUnwrap(identity)
    }

    // MARK: the directory

    func testCreatesTheRootWith0700() throws {
        let root = tmp.path + "/store"
        let store = try StateStore(root: root, uid: getuid())
        XCTAssertEqual(store.root, root)
        XCTAssertTrue(HostPath.isDirectory(root))
        XCTAssertEqual(mode(root), 0o700)
        // opening it again is fine
        XCTAssertNoThrow(try StateStore(root: root, uid: getuid()))
    }

    func testRefusesAGroupOrWorldAccessibleDirectory() throws {
        for m: mode_t in [0o750, 0o705, 0o777] {
            let root = tmp.path + "/open-\(String(m, radix: 8))"
            XCTAssertEqual(mkdir(root, 0o700), 0)
            XCTAssertEqual(chmod(root, m), 0)
            assertNookError(try StateStore(root: root, uid: getuid())) { e in
                assertContains(e.message, "accessible to other users (mode \(String(m, radix: 8)))")
                assertContains(e.description, "chmod 700 '\(root)'")
            }
        }
    }

    func testRefusesADirectoryOwnedByAnotherUser() throws {
        try XCTSkipIf(getuid() != 0, "creating a directory owned by another uid needs root (chown)")
        let root = tmp.path + "/theirs"
        XCTAssertEqual(mkdir(root, 0o700), 0)
        XCTAssertEqual(chown(root, 65534, 65534), 0, "the test runs as root so it can chown")
        assertNookError(try StateStore(root: root, uid: getuid())) { e in
            assertContains(e.message, "belongs to uid 65534, not to you (uid \(getuid()))")
            XCTAssertNotNil(e.hint)
        }
        // ...but it is fine for its owner
        XCTAssertNoThrow(try StateStore(root: root, uid: 65534))
    }

    func testRefusesAFileOrASymlink() throws {
        let file = try tmp.file("plainfile", "x", mode: 0o600)
        assertNookError(try StateStore(root: file, uid: getuid())) { e in
            assertContains(e.message, "is not a directory")
        }
        let real = tmp.path + "/real"
        XCTAssertEqual(mkdir(real, 0o700), 0)
        let link = tmp.path + "/link"
        XCTAssertEqual(symlink(real, link), 0)
        assertNookError(try StateStore(root: link, uid: getuid())) { e in
            assertContains(e.message, "'\(link)' is not a directory")
        }
    }

    /// containerd's shim gives `--root /run/containerd/runc/default` before any of it exists: made, as runc does.
    func testMissingParentsAreCreatedPrivate() throws {
        let root = tmp.path + "/no/such/parent"
        let store = try StateStore(root: root, uid: getuid())
        XCTAssertEqual(store.root, root)
        for dir in [tmp.path + "/no", tmp.path + "/no/such", root] {
            var st = stat()
            XCTAssertEqual(lstat(dir, &st), 0, dir)
            XCTAssertEqual(st.st_mode & 0o7777, 0o700, dir)
        }
        let file = try tmp.file("plain", "x", mode: 0o600)
        assertNookError(try StateStore(root: file + "/below/nook", uid: getuid())) { e in
            assertContains(e.message, "create state directory '\(file)/below/nook'")
            assertContains(e.message, "not a directory")
        }
    }

    func testDefaultRoot() {
        XCTAssertEqual(StateStore.defaultRoot(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], uid: 1000), "/run/user/1000/nook")
        XCTAssertEqual(StateStore.defaultRoot(environment: [:], uid: 1234), "/tmp/nook-1234")
        XCTAssertEqual(StateStore.defaultRoot(environment: ["XDG_RUNTIME_DIR": ""], uid: 1234), "/tmp/nook-1234")
    }

    // MARK: ids

    func testValidateRefusesPathsAndHiddenNames() {
        for bad in ["../x", "a/b", "", ".hidden", ".", "..", "-rf", "a b", "x\0y", "é", String(repeating: "a", count: 129)] {
            assertNookError(try StateStore.validate(id: bad)) { e in
                assertContains(e.message, "invalid container name")
            }
        }
    }

    func testValidateAcceptsOrdinaryNames() {
        for good in ["web", "web-1", "a.b_c", "0abc", "A", String(repeating: "a", count: 128)] {
            XCTAssertNoThrow(try StateStore.validate(id: good), good)
        }
    }

    // MARK: reserve, write, read, remove

    func testReserveTwiceFails() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        let lock = try store.reserve("web")
        XCTAssertGreaterThanOrEqual(lock.fd, 0)
        XCTAssertTrue(HostPath.isDirectory(store.directory("web")))
        XCTAssertEqual(mode(store.directory("web")), 0o700)
        assertNookError(try store.reserve("web")) { e in
            XCTAssertEqual(e.message, "a container named 'web' already exists")
        }
        lock.release()
        // a released lock does not free the name: the directory does
        assertNookError(try store.reserve("web")) { e in
            assertContains(e.message, "already exists")
        }
    }

    func testReserveValidatesTheName() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        assertNookError(try store.reserve("../escape")) { e in assertContains(e.message, "invalid container name") }
        XCTAssertFalse(HostPath.exists(tmp.path + "/escape"))
    }

    func testWriteReadRoundTrip() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        let lock = try store.reserve("db")
        defer { lock.release() }
        var s = state("db", pid: 4242, startTime: 123_456)
        s.annotations = ["k": "v"]
        s.cgroupPath = "/sys/fs/cgroup/user.slice/nook-db"
        s.exitCode = 3
        try store.write(s)
        XCTAssertEqual(try store.read("db"), s)
        XCTAssertEqual(mode(store.statePath("db")), 0o600)
        XCTAssertFalse(HostPath.exists(store.statePath("db") + ".tmp"), "the temporary file was renamed")

        s.status = .stopped
        try store.write(s)
        XCTAssertEqual(try store.read("db").status, .stopped)
        XCTAssertEqual(store.ids(), ["db"])
    }

    func testReadErrors() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        assertNookError(try store.read("ghost")) { e in
            XCTAssertEqual(e.message, "container 'ghost' does not exist")
        }
        let lock = try store.reserve("half")
        defer { lock.release() }
        assertNookError(try store.read("half")) { e in assertContains(e.message, "has no state yet") }
        try HostPath.writeText(store.statePath("half"), "{not json", create: true)
        assertNookError(try store.read("half")) { e in
            assertContains(e.message, "state of container 'half' is corrupt")
        }
    }

    func testRemoveAndIds() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        for id in ["b", "a", "c"] { try store.reserve(id).release() }
        _ = try TempDir.fileAt(store.root + "/not-a-dir")
        XCTAssertEqual(mkdir(store.root + "/.hidden", 0o700), 0)
        XCTAssertEqual(store.ids(), ["a", "b", "c"])
        store.remove("b")
        XCTAssertFalse(HostPath.exists(store.directory("b")))
        XCTAssertEqual(store.ids(), ["a", "c"])
    }

    func testLockOfAMissingContainer() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        assertNookError(try store.lock("nothing")) { e in assertContains(e.message, "container 'nothing' does not exist") }
    }

    // MARK: reconcile (Recovery.swift): what a killed command left

    func runtime() throws -> Runtime { try Runtime(stateRoot: tmp.path + "/s", environment: [:]) }

    func testReconcileRemovesAForegroundContainerWhoseProcessDied() throws {
        let runtime = try runtime()
        let store = runtime.store
        let dead = try deadProcess()
        let lock = try store.reserve("gone")
        try store.write(state("gone", pid: dead.pid, startTime: dead.startTime))
        lock.release() // its `nook run` died: nobody holds the lock
        XCTAssertEqual(runtime.reconcile(), ["gone"])
        XCTAssertFalse(HostPath.exists(store.directory("gone")))
    }

    func testReconcileTreatsAReusedPidAsDead() throws {
        let runtime = try runtime()
        let me = try XCTUnwrap(ProcessIdentity.of(pid: getpid()))
        let lock = try runtime.store.reserve("reused")
        // Our own pid is alive, but with another start time it is another process.
        try runtime.store.write(state("reused", pid: me.pid, startTime: me.startTime + 1, mode: .detached))
        lock.release()
        runtime.reconcile()
        XCTAssertEqual(try runtime.store.read("reused").status, .stopped)
    }

    func testReconcileKeepsAContainerWhoseLockIsHeld() throws {
        let runtime = try runtime()
        let dead = try deadProcess()
        let lock = try runtime.store.reserve("busy")
        defer { lock.release() }
        try runtime.store.write(state("busy", pid: dead.pid, startTime: dead.startTime))
        XCTAssertEqual(runtime.reconcile(), [])
        XCTAssertEqual(try runtime.store.read("busy").status, .running)
    }

    func testReconcileRemovesAHalfCreatedContainerAtOnce() throws {
        let runtime = try runtime()
        // The creator holds the lock from the moment the directory has its name.
        let lock = try runtime.store.reserve("half")
        XCTAssertEqual(runtime.reconcile(), [], "a creation in progress holds the lock")
        lock.release() // killed before it wrote state.json
        XCTAssertEqual(runtime.reconcile(), ["half"])
        XCTAssertEqual(runtime.store.ids(), [])
    }

    /// A foreground run writes its record without fsync: a crash of the
    /// machine can leave it empty, or as long as written but all NUL bytes.
    /// That is a record never written, not a corrupt one for the user to
    /// remove by hand; any other unreadable one still is.
    func testReconcileRemovesALostRecordButKeepsACorruptOne() throws {
        let runtime = try runtime()
        try runtime.store.reserve("empty").release()
        try runtime.store.writeFile(runtime.store.statePath("empty"), [])
        try runtime.store.reserve("zeros").release()
        try runtime.store.writeFile(runtime.store.statePath("zeros"), [UInt8](repeating: 0, count: 300))
        try runtime.store.reserve("corrupt").release()
        try runtime.store.writeFile(runtime.store.statePath("corrupt"), Array("{".utf8) + [0, 0])
        XCTAssertEqual(runtime.reconcile().sorted(), ["empty", "zeros"])
        XCTAssertEqual(runtime.store.ids(), ["corrupt"])
    }

    func testReconcileRollsBackACreationWhoseCreatorDied() throws {
        let runtime = try runtime()
        let dead = try deadProcess()
        try runtime.store.reserve("stuck").release()
        try runtime.store.write(state("stuck", pid: dead.pid, startTime: dead.startTime, mode: .oci, status: .creating))
        XCTAssertEqual(runtime.reconcile(), ["stuck"])
    }

    func testReconcileMarksADeadOCIContainerStopped() throws {
        let runtime = try runtime()
        let dead = try deadProcess()
        try runtime.store.reserve("oci").release()
        try runtime.store.write(state("oci", pid: dead.pid, startTime: dead.startTime, mode: .oci, status: .created))
        XCTAssertEqual(runtime.reconcile(), [], "an OCI container stays until 'delete'")
        XCTAssertEqual(try runtime.store.read("oci").status, .stopped)
    }

    func testReserveLeavesNoStagingDirectory() throws {
        let store = try StateStore(root: tmp.path + "/s", uid: getuid())
        try store.reserve("web").release()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root).sorted(), ["web"])
        XCTAssertThrowsError(try store.reserve("web"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root).sorted(), ["web"])
    }
}

extension TempDir {
    static func fileAt(_ path: String) throws -> String {
        try HostPath.writeText(path, "", create: true)
        return path
    }
}

final class ProcessIdentityTests: XCTestCase {
    /// Fields 3...52 of /proc/PID/stat with field 22 (starttime) set.
    func statTail(startTime: String) -> String {
        (["S"] + (4...52).map { $0 == 22 ? startTime : "\($0)" }).joined(separator: " ")
    }

    func testCommandWithSpacesAndParentheses() {
        let text = "4242 (my (odd) cmd) x) \(statTail(startTime: "987654321"))\n"
        XCTAssertEqual(ProcessIdentity.parseStartTime(stat: text), 987_654_321)
    }

    func testPlainCommand() {
        XCTAssertEqual(ProcessIdentity.parseStartTime(stat: "1 (init) \(statTail(startTime: "17"))"), 17)
    }

    func testMalformed() {
        XCTAssertNil(ProcessIdentity.parseStartTime(stat: ""))
        XCTAssertNil(ProcessIdentity.parseStartTime(stat: "1 init S 0 0"))
        XCTAssertNil(ProcessIdentity.parseStartTime(stat: "1 (init) S 0 1 2"), "too few fields")
        XCTAssertNil(ProcessIdentity.parseStartTime(stat: "1 (init) \(statTail(startTime: "soon"))"))
    }

    func testOurOwnProcess() throws {
        let me = try XCTUnwrap(ProcessIdentity.of(pid: getpid()))
        XCTAssertGreaterThan(me.startTime, 0)
        XCTAssertTrue(me.isAlive)
        XCTAssertFalse(ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isAlive)
        // starttime is after our parent's
        let parent = try XCTUnwrap(ProcessIdentity.of(pid: getppid()))
        XCTAssertLessThanOrEqual(parent.startTime, me.startTime)
    }

    func testAZombieIsNotAlive() throws {
        let pid = try spawnProcess(["/bin/true"])
        // wait until it has exited but leave it unreaped
        var info = siginfo_t()
        XCTAssertEqual(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT), 0)
        let zombie = try XCTUnwrap(ProcessIdentity.of(pid: pid))
        XCTAssertFalse(zombie.isAlive)
        _ = reap(pid)
        XCTAssertNil(ProcessIdentity.of(pid: pid))
    }
}
