import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class BindSourceTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir("nook-bindsource") }
    override func tearDown() { tmp.remove() }

    func testOneLookTellsKindAndMountFlags() throws {
        let dir = try tmp.dir("data")
        let file = try tmp.file("conf", "x\n")
        var fs = statvfs()
        XCTAssertEqual(statvfs(tmp.path, &fs), 0)
        XCTAssertEqual(BindSource.look(dir), BindSource(path: dir, isDirectory: true, mountFlags: fs.f_flag))
        XCTAssertEqual(BindSource.look(file), BindSource(path: file, isDirectory: false, mountFlags: fs.f_flag))
        XCTAssertNil(BindSource.look(tmp.path + "/nope"))
    }

    /// As the open_tree(2) that clones it: a host path the user named may be a link.
    func testASymlinkIsFollowedLikeTheMountThatClonesIt() throws {
        let dir = try tmp.dir("data")
        XCTAssertEqual(symlink(dir, tmp.path + "/link"), 0)
        XCTAssertEqual(BindSource.look(tmp.path + "/link")?.isDirectory, true)
        XCTAssertEqual(symlink(tmp.path + "/nope", tmp.path + "/dangling"), 0)
        XCTAssertNil(BindSource.look(tmp.path + "/dangling"))
    }

    func testABindKeepsItsSourcesLockedFlags() {
        let asked = MountOp(kind: .bind, source: "/s", target: "/t", attrs: ABI.MOUNT_ATTR_NODEV | UInt64(MOUNT_ATTR_STRICTATIME))
        var op = asked
        // ST_RDONLY | ST_NOEXEC on the source's mount.
        LockedMountFlags.keep(BindSource(path: "/s", isDirectory: true, mountFlags: 1 | 8), in: &op)
        XCTAssertEqual(op.attrs, ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NODEV | ABI.MOUNT_ATTR_NOEXEC,
                       "locked flags added, the atime mode left to the source's")
        var unread = asked
        LockedMountFlags.keep(BindSource(path: "/s", isDirectory: true, mountFlags: nil), in: &unread)
        XCTAssertEqual(unread, asked, "flags that could not be read: left as asked")
    }
}
