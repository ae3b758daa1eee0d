import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class MountOptionsTests: XCTestCase {
    func testFlagsAttributesAndDataAreSplit() {
        let o = MountOptions(["nosuid", "strictatime", "mode=755", "size=65536k", "nodev"])
        XCTAssertEqual(o.flags, ABI.MS_NOSUID | ABI.MS_STRICTATIME | ABI.MS_NODEV)
        XCTAssertEqual(o.attrs & (ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV), ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV)
        XCTAssertEqual(o.attrs & (ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NOEXEC), 0)
        XCTAssertEqual(o.data, ["mode=755", "size=65536k"], "filesystem options stay in order")
        XCTAssertFalse(o.isBind)
        XCTAssertFalse(o.readOnly)
    }

    func testProcDefaults() {
        let o = MountOptions(["nosuid", "noexec", "nodev"])
        XCTAssertEqual(o.flags, ABI.MS_NOSUID | ABI.MS_NOEXEC | ABI.MS_NODEV)
        XCTAssertEqual(o.attrs, ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NOEXEC | ABI.MOUNT_ATTR_NODEV)
        XCTAssertEqual(o.data, [])
    }

    func testReadOnly() {
        let o = MountOptions(["ro"])
        XCTAssertTrue(o.readOnly)
        XCTAssertEqual(o.flags, ABI.MS_RDONLY)
        XCTAssertEqual(o.attrs, ABI.MOUNT_ATTR_RDONLY)
    }

    func testRwAfterRoClearsFlagAndAttribute() {
        let o = MountOptions(["ro", "nosuid", "rw"])
        XCTAssertFalse(o.readOnly)
        XCTAssertEqual(o.flags, ABI.MS_NOSUID)
        XCTAssertEqual(o.attrs, ABI.MOUNT_ATTR_NOSUID, "rw must also drop MOUNT_ATTR_RDONLY")
    }

    func testRoAfterRwIsReadOnly() {
        let o = MountOptions(["rw", "ro"])
        XCTAssertTrue(o.readOnly)
        XCTAssertEqual(o.attrs, ABI.MOUNT_ATTR_RDONLY)
    }

    func testSuidDevExecUndoTheirNegatives() {
        let o = MountOptions(["nosuid", "nodev", "noexec", "suid", "dev", "exec"])
        XCTAssertEqual(o.flags, 0)
        XCTAssertEqual(o.attrs, 0)
    }

    func testBindAndRbind() {
        let bind = MountOptions(["bind", "ro"])
        XCTAssertTrue(bind.isBind)
        XCTAssertFalse(bind.recursive)
        XCTAssertEqual(bind.data, [], "bind is not a filesystem option")
        let rbind = MountOptions(["rbind"])
        XCTAssertTrue(rbind.isBind)
        XCTAssertTrue(rbind.recursive)
        XCTAssertEqual(rbind.flags, 0)
    }

    func testPropagationAndDefaultsAreIgnored() {
        let o = MountOptions(["private", "rprivate", "slave", "rslave", "shared", "rshared",
                              "unbindable", "runbindable", "defaults", "z", "Z"])
        XCTAssertEqual(o, MountOptions([]))
        XCTAssertEqual(o.flags, 0)
        XCTAssertEqual(o.attrs, 0)
        XCTAssertEqual(o.data, [])
    }

    func testSyncAndAtimeFlags() {
        XCTAssertEqual(MountOptions(["sync"]).flags, ABI.MS_SYNCHRONOUS)
        XCTAssertEqual(MountOptions(["sync", "async"]).flags, 0)
        XCTAssertEqual(MountOptions(["noatime"]).flags, ABI.MS_NOATIME)
        XCTAssertEqual(MountOptions(["relatime"]).flags, ABI.MS_RELATIME)
    }

    func testDescribe() {
        XCTAssertEqual(MountOptions.describe(flags: 0), "0")
        XCTAssertEqual(MountOptions.describe(flags: ABI.MS_RDONLY | ABI.MS_NOEXEC), "MS_RDONLY|MS_NOEXEC")
        XCTAssertEqual(MountOptions.describe(attrs: 0), "0")
        XCTAssertEqual(MountOptions.describe(attrs: ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_RDONLY),
                       "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID")
    }
}
