import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// Every file from a user or an image is read by HostPath.readBytes: a regular
/// file only, never blocking, never more than its kind's limit.
final class HostPathReadTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir("nook-read") }
    override func tearDown() { tmp.remove() }

    func testAFIFOIsRefusedAtOnceNotWaitedOn() throws {
        let fifo = tmp.path + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Without O_NONBLOCK the open itself would wait for a writer forever.
        assertNookError(try withDeadline(5) { try HostPath.readBytes(fifo, as: .envFile, label: "--env-file \(fifo)") }) { e in
            XCTAssertEqual(e.message, "--env-file \(fifo): a FIFO, not a regular file")
            XCTAssertEqual(e.hint, "an env file must be a regular file: a pipe or a device could block or never end")
        }
    }

    func testDevicesAndDirectoriesAreRefused() throws {
        assertNookError(try HostPath.readBytes("/dev/zero", as: .seccompProfile)) { e in
            XCTAssertEqual(e.message, "'/dev/zero': a character device, not a regular file")
        }
        let link = tmp.path + "/config.json"
        XCTAssertEqual(symlink("/dev/zero", link), 0)
        assertNookError(try HostPath.readBytes(link, as: .configJSON, label: link)) { e in
            XCTAssertEqual(e.message, "\(link): a character device, not a regular file")
        }
        assertNookError(try HostPath.readBytes(tmp.path, as: .configJSON)) { e in
            assertContains(e.message, "a directory, not a regular file")
        }
    }

    func testNoFollowRefusesASymlink() throws {
        let target = try tmp.file("state.json", "{}")
        let link = tmp.path + "/link.json"
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertEqual(try HostPath.readBytes(link), Array("{}".utf8), "followed by default")
        assertNookError(try HostPath.readBytes(link, noFollow: true)) { e in
            XCTAssertEqual(e.message, "'\(link)': a symbolic link, not a regular file")
        }
    }

    func testTheLimitIsExactAndNamedInTheError() throws {
        let kind = FileKind(name: "a test file", limit: 100_000)
        let exact = try tmp.file("exact", String(repeating: "a", count: 100_000))
        XCTAssertEqual(try HostPath.readBytes(exact, as: kind).count, 100_000)
        let over = try tmp.file("over", String(repeating: "a", count: 100_001))
        assertNookError(try HostPath.readBytes(over, as: kind, label: "--thing over")) { e in
            XCTAssertEqual(e.message, "--thing over: larger than 100000 bytes, the limit for a test file")
        }
        XCTAssertEqual(FileKind.envFile.limitDescription, "1 MiB")
        XCTAssertEqual(FileKind.osRelease.limitDescription, "64 KiB")
        XCTAssertEqual(FileKind.configJSON.limitDescription, "16 MiB")
    }

    func testProcAndCgroupFilesStillRead() throws {
        // Regular files of size 0 in stat, with content: read to their end.
        assertContains(try HostPath.readText("/proc/self/status"), "Uid:")
    }

    func testInRootAFIFOIsRefusedAndAMissingFileIsNil() throws {
        let root = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        XCTAssertNil(try HostPath.readBytes(inRoot: root, "/etc/passwd", as: .userDatabase))
        XCTAssertNil(try HostPath.readBytes(inRoot: root, "/etc/passwd/x", as: .userDatabase), "ENOTDIR is missing too")
        XCTAssertEqual(mkfifo(root + "/etc/passwd", 0o600), 0)
        assertNookError(try withDeadline(5) { try HostPath.readBytes(inRoot: root, "/etc/passwd", as: .userDatabase) }) { e in
            XCTAssertEqual(e.message, "/etc/passwd in the rootfs \(root): a FIFO, not a regular file")
        }
    }

    func testInRootSymlinksResolveInsideTheRootfs() throws {
        let root = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        // Followed on the host, these would read /dev/zero and the host's os-release.
        XCTAssertEqual(symlink("/dev/zero", root + "/etc/zero"), 0)
        XCTAssertNil(try HostPath.readBytes(inRoot: root, "/etc/zero", as: .osRelease), "the rootfs has no /dev/zero")
        XCTAssertEqual(symlink("../../../../../../etc/hostname", root + "/etc/os-release"), 0)
        XCTAssertNil(try HostPath.readBytes(inRoot: root, "/etc/os-release", as: .osRelease), "the rootfs has no /etc/hostname")
        XCTAssertEqual(symlink("/etc/loop", root + "/etc/loop"), 0)
        assertNookError(try HostPath.readBytes(inRoot: root, "/etc/loop", as: .osRelease)) { e in
            XCTAssertEqual(e.message, "/etc/loop in the rootfs \(root): too many levels of symbolic links")
        }
        _ = try tmp.file("rootfs/etc/real", "ID=inside\n")
        XCTAssertEqual(symlink("/etc/real", root + "/etc/abs"), 0)
        XCTAssertEqual(try HostPath.readBytes(inRoot: root, "/etc/abs", as: .osRelease), Array("ID=inside\n".utf8))
    }

    func testUserLookupAndAuditReportABadImageFile() throws {
        let root = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        XCTAssertEqual(mkfifo(root + "/etc/passwd", 0o600), 0)
        assertNookError(try withDeadline(5) { try UserLookup(rootfs: root).resolve("alice") }) { e in
            assertContains(e.message, "/etc/passwd in the rootfs \(root): a FIFO")
        }
        XCTAssertEqual(mkfifo(root + "/etc/os-release", 0o600), 0)
        assertNookError(try withDeadline(5) { try RootfsAudit.scan(root) }) { e in
            assertContains(e.message, "/etc/os-release in the rootfs \(root): a FIFO")
        }
    }
}
