import XCTest
import Glibc
import NookCore
import NookImages
@testable import NookImageRun
import NookKernel

/// When a container layer whose lock is free may be swept (`OrphanLayers.isOrphan`):
/// only on the machine that made it, and then only where its state root is the very
/// directory it was and has no such container, or (another boot) was on a tmpfs.
final class OrphanLayerRuleTests: XCTestCase {
    var tmp: TempDir!
    var stateRoot = ""
    var layer = ""
    let boot = HostIdentity.bootID(), machine = HostIdentity.machineID()

    override func setUpWithError() throws {
        tmp = try TempDir("nook-orphan-rule")
        stateRoot = try tmp.dir("state", mode: 0o700)
        layer = try tmp.dir("keepme-abc")
    }
    override func tearDown() { tmp.remove() }

    func made() throws -> ContainerLayerUser {
        ContainerLayerUser.made(image: try Digest("sha256:" + String(repeating: "a", count: 64)), container: "keepme", stateRoot: stateRoot)
    }

    func isOrphan(_ user: ContainerLayerUser, boot: String? = nil, machine: String? = nil, shared: Bool = false) -> Bool {
        OrphanLayers.isOrphan(layer, user: user, bootID: boot ?? self.boot, machineID: machine ?? self.machine, storeIsShared: shared)
    }

    func testTheRecordSaysWhereTheLayerWasMade() throws {
        let user = try made()
        let identity = try XCTUnwrap(DirectoryIdentity(path: stateRoot))
        XCTAssertEqual(user.stateRootDevice, identity.device)
        XCTAssertEqual(user.stateRootInode, identity.inode)
        XCTAssertEqual(user.bootID, boot)
        XCTAssertFalse(boot.isEmpty, "/proc/sys/kernel/random/boot_id")
        XCTAssertEqual(user.machineID, machine)
        XCTAssertNotNil(user.stateRootInMemory)
    }

    func testSameBootTheVeryStateRootWithoutTheContainerIsAnOrphan() throws {
        XCTAssertTrue(isOrphan(try made()))
        XCTAssertEqual(mkdir(stateRoot + "/keepme", 0o700), 0)
        XCTAssertFalse(isOrphan(try made()), "its container is there (being made: no config.json yet)")
    }

    func testAnotherDirectoryAtTheStateRootsPathKeepsTheLayer() throws {
        var user = try made()
        user.stateRootInode = (user.stateRootInode ?? 0) + 1
        XCTAssertFalse(isOrphan(user), "another directory (another mount namespace's): the container may be in the real one")
        user = try made()
        XCTAssertEqual(rmdir(stateRoot), 0)
        XCTAssertFalse(isOrphan(user), "no state root here: kept")
        user.stateRootInMemory = true
        XCTAssertFalse(isOrphan(user), "in memory, but this boot: kept")
    }

    func testAnotherMachinesOrAnOlderNooksLayerIsKept() throws {
        var user = try made()
        user.machineID = "0123456789abcdef0123456789abcdef"
        XCTAssertFalse(isOrphan(user, boot: "another-boot"))
        XCTAssertFalse(isOrphan(user))
        let older = ContainerLayerUser(image: user.image, container: "keepme", stateRoot: stateRoot)
        XCTAssertFalse(isOrphan(older), "only the state root's path: it may be another namespace's")
    }

    func testAnotherBoot() throws {
        var user = try made()
        user.stateRootInMemory = true
        user.stateRootInode = (user.stateRootInode ?? 0) + 1
        XCTAssertFalse(isOrphan(user, boot: "another-boot", machine: "m1"), "another machine id than recorded")
        user.machineID = "m1"
        XCTAssertTrue(isOrphan(user, boot: "another-boot", machine: "m1"), "a tmpfs state root went with its boot")
        user.stateRootInMemory = false
        XCTAssertFalse(isOrphan(user, boot: "another-boot", machine: "m1"), "on disk it may have outlived the boot")
        user.stateRootInMemory = true
        XCTAssertFalse(isOrphan(user, boot: "another-boot", machine: "m1", shared: true), "a store other hosts share: they may be clones")
        XCTAssertEqual(mkdir(stateRoot + "/keepme", 0o700), 0)
        XCTAssertFalse(isOrphan(user, boot: "another-boot", machine: "m1"), "its container is at the state root's path: kept")
        XCTAssertEqual(rmdir(stateRoot + "/keepme"), 0)
        user.stateRootInMemory = false
        user.stateRootInode = DirectoryIdentity(path: stateRoot)?.inode
        XCTAssertTrue(isOrphan(user, boot: "another-boot", machine: "m1"), "on disk, the very directory, no container")
        user.machineID = ""
        user.stateRootInMemory = true
        user.stateRootInode = (user.stateRootInode ?? 0) + 1
        XCTAssertFalse(isOrphan(user, boot: "another-boot", machine: ""), "no machine id: another boot or another host")
        user.bootID = ""
        XCTAssertFalse(isOrphan(user, boot: "", machine: ""), "no boot id: nothing to go by")
    }
}
