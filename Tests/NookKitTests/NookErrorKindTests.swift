import XCTest
import Foundation
import Glibc
import NookCore
import SystemPackage
@testable import NookImages
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// Real failures, provoked against real directories and processes, matched by
/// `NookError.kind` as a program driving Nook would: never by the message.
final class NookErrorKindTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir("nook-kinds") }
    override func tearDown() { tmp.remove() }

    func testMissingContainerIsNotFound() throws {
        let runtime = try Runtime(stateRoot: tmp.path + "/state", environment: [:])
        assertNookError(try runtime.store.read("ghost")) { e in
            XCTAssertEqual(e.kind, .notFound(.container, name: "ghost"))
        }
        assertNookError(try runtime.delete(id: "ghost", force: false)) { e in
            XCTAssertEqual(e.kind, .notFound(.container, name: "ghost"))
        }
    }

    func testTakenNameAlreadyExists() throws {
        let store = try StateStore(root: tmp.path + "/state", uid: getuid())
        let lock = try store.reserve("web")
        defer { lock.release() }
        assertNookError(try store.reserve("web")) { e in
            XCTAssertEqual(e.kind, .alreadyExists(.container, name: "web"))
            XCTAssertEqual(e.message, "a container named 'web' already exists")
        }
    }

    func testBadNameIsInvalidInput() throws {
        let store = try StateStore(root: tmp.path + "/state", uid: getuid())
        assertNookError(try store.reserve("../up")) { e in XCTAssertEqual(e.kind, .invalidInput) }
    }

    /// What `nook run -d` (or `nook create`: .oci) records, with its process given.
    func record(_ runtime: Runtime, _ id: String, pid: Int32, startTime: UInt64, status: ContainerState.Status,
                mode: ContainerState.Mode = .detached) throws {
        let lock = try runtime.store.reserve(id)
        defer { lock.release() }
        try runtime.store.write(ContainerState(id: id, status: status, pid: pid, startTime: startTime, bundle: "/b",
                                               rootfs: "/b/rootfs", mode: mode, created: "2025-01-01T00:00:00Z"))
    }

    func testWrongStateCarriesTheState() throws {
        let runtime = try Runtime(stateRoot: tmp.path + "/state", environment: [:])
        // Stopped: nothing to signal.
        try record(runtime, "done", pid: 1, startTime: 1, status: .stopped)
        assertNookError(try runtime.kill(id: "done", signal: SIGTERM)) { e in
            XCTAssertEqual(e.kind, .wrongState(container: "done", state: "stopped"))
        }
        // Running (made by `nook create`, started: no monitor to have lost): delete without force refuses it.
        let pid = try spawnProcess(["/bin/sleep", "30"])
        defer { kill(pid, SIGKILL); _ = reap(pid) }
        let identity = try XCTUnwrap(ProcessIdentity.of(pid: pid))
        try record(runtime, "busy", pid: pid, startTime: identity.startTime, status: .running, mode: .oci)
        assertNookError(try runtime.delete(id: "busy", force: false)) { e in
            XCTAssertEqual(e.kind, .wrongState(container: "busy", state: "running"))
        }
    }

    func testMissingRootfsIsTheFailedStatWithItsPath() throws {
        let rootfs = tmp.path + "/nothing-here"
        let spec = defaultSpec(rootfs: rootfs)
        assertNookError(try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path,
                                            identity: .single(uid: 1000, gid: 1000))) { e in
            XCTAssertEqual(e.kind, .systemCall(step: "stat rootfs '\(rootfs)'", path: rootfs, errno: .noSuchFileOrDirectory))
            XCTAssertEqual(e.errno, .noSuchFileOrDirectory)
            XCTAssertEqual(e.message, "rootfs '\(rootfs)' does not exist")
        }
    }

    func testStateDirectoryUnderAFileIsNotADirectoryErrno() throws {
        let file = try tmp.file("plain", "x")
        assertNookError(try StateStore(root: file + "/state", uid: getuid())) { e in
            XCTAssertEqual(e.kind, .systemCall(step: "create state directory '\(file)/state'", path: file + "/state", errno: .notDirectory))
        }
    }

    func testBlobOfOtherContentIsADigestMismatch() throws {
        let store = ImageStore(root: tmp.path + "/images")
        try store.prepare()
        let claimed = Digest.of(Array("what the manifest names".utf8))
        let served = Array("what arrived".utf8)
        assertNookError(try store.putBlob(served, expected: claimed, what: "layer")) { e in
            XCTAssertEqual(e.kind, .digestMismatch(expected: "\(claimed)", actual: "\(Digest.of(served))"))
        }
        let writer = try XCTUnwrap(try BlobWriter(store: store, expected: claimed, expectedSize: 4, what: "layer"))
        assertNookError(try writer.write(served)) { e in
            XCTAssertEqual(e.kind, .sizeMismatch(expected: 4, actual: Int64(served.count)))
        }
        writer.abandon()
    }

    func testMissingUserInTheRootfsIsNotFound() throws {
        let rootfs = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        _ = try tmp.file("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        _ = try tmp.file("rootfs/etc/group", "root:x:0:\n")
        assertNookError(try UserLookup(rootfs: rootfs).resolve("nobody")) { e in
            XCTAssertEqual(e.kind, .notFound(.user, name: "nobody"))
        }
    }

    /// A failure wrapped with where it happened keeps its kind and exit code.
    func testWithinKeepsTheKind() {
        let inner = NookError.sys("write '/sys/fs/cgroup/x/memory.max'", path: "/sys/fs/cgroup/x/memory.max", errno: EACCES)
        let outer = inner.within("set memory.max=64M")
        XCTAssertEqual(outer.kind, inner.kind)
        XCTAssertEqual(outer.errno, .permissionDenied)
        XCTAssertEqual(outer.message, "set memory.max=64M: write '/sys/fs/cgroup/x/memory.max': permission denied")
        let hook = NookError("exec '/bin/true': no such file or directory", exitCode: 127, kind: .commandNotFound("/bin/true"))
        XCTAssertEqual(hook.within("createContainer hook 0").exitCode, 125, "a step of Nook's own failed")
    }

    /// What a detached container's monitor sends its caller over the pipe.
    func testEveryKindCrossesAProcessBoundaryAsJSON() throws {
        let kinds: [NookError.Kind] = [
            .systemCall(step: "mount proc on /proc", path: "/proc", errno: .notPermitted),
            .systemCall(step: "pipe", path: nil, errno: .tooManyOpenFiles),
            .invalidInput, .notFound(.image, name: "busybox"), .alreadyExists(.container, name: "web"),
            .wrongState(container: "web", state: "paused"), .commandNotFound("nosuch"),
            .notExecutable("/etc/passwd", errno: .permissionDenied),
            .digestMismatch(expected: "sha256:aa", actual: "sha256:bb"), .sizeMismatch(expected: 4, actual: 12),
            .timedOut, .connectionFailed(url: "https://r/v2/"), .unsupported, .other,
        ]
        for kind in kinds {
            let error = NookError("failed", hint: "a hint", exitCode: 126, kind: kind)
            let line = try JSONEncoder().encode(error)
            XCTAssertFalse(line.contains(10), "one line")
            XCTAssertEqual(try JSONDecoder().decode(NookError.self, from: line), error)
        }
    }
}
