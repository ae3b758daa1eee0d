import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class MountPlannerTests: XCTestCase {
    let single: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1)]
    let ranges: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100_000, size: 65536)]

    func plan(_ spec: Spec, net: Bool = true, cgroup: Bool = true, gids: [Spec.IDMap]? = nil) throws -> [MountOp] {
        try MountPlanner.plan(spec: spec, mounts: try ParsedSpec(spec).mounts, newNetworkNamespace: net, newCgroupNamespace: cgroup,
                              gidMappings: gids ?? single, keepLockedFlags: false)
    }

    func spec(mounts: [Spec.Mount], masked: [String] = [], readonly: [String] = []) -> Spec {
        Spec(mounts: mounts, linux: Spec.Linux(maskedPaths: masked, readonlyPaths: readonly))
    }

    func op(_ ops: [MountOp], at target: String, file: StaticString = #filePath, line: UInt = #line) throws -> MountOp {
        let found = ops.filter { $0.target == target && ($0.kind == .filesystem || $0.kind == .bind) }
        XCTAssertEqual(found.count, 1, "exactly one mount at \(target)", file: file, line: line)
        return try XCTUnwrap(found.first, file: file, line: line)
    }

    // MARK: devpts and the tty group

    func testDevptsDropsGid5WithASingleMapping() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"), gids: single)
        let pts = try op(ops, at: "/dev/pts")
        XCTAssertEqual(pts.kind, .filesystem)
        XCTAssertEqual(pts.fstype, "devpts")
        XCTAssertEqual(pts.data, "newinstance,ptmxmode=0666,mode=0620", "gid=5 would make the mount fail: gid 5 is unmapped")
        XCTAssertEqual(pts.flags, ABI.MS_NOSUID | ABI.MS_NOEXEC)
    }

    func testDevptsKeepsGid5WhenItIsMapped() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"), gids: ranges)
        XCTAssertEqual(try op(ops, at: "/dev/pts").data, "newinstance,ptmxmode=0666,mode=0620,gid=5")
    }

    // MARK: sysfs and cgroup

    func testSysfsWithoutANetworkNamespaceIsAReadOnlyRbindOfHostSys() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"), net: false)
        let sys = try op(ops, at: "/sys")
        XCTAssertEqual(sys.kind, .bind)
        XCTAssertEqual(sys.source, "/sys")
        XCTAssertTrue(sys.recursive)
        XCTAssertNotEqual(sys.attrs & ABI.MOUNT_ATTR_RDONLY, 0)
        XCTAssertEqual(sys.attrs & (ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV | ABI.MOUNT_ATTR_NOEXEC),
                       ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV | ABI.MOUNT_ATTR_NOEXEC)
        XCTAssertTrue(ops.allSatisfy { $0.fstype != "sysfs" })
    }

    func testSysfsWithANetworkNamespaceIsAFreshReadOnlyMount() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"), net: true)
        let sys = try op(ops, at: "/sys")
        XCTAssertEqual(sys.kind, .filesystem)
        XCTAssertEqual(sys.fstype, "sysfs")
        XCTAssertNotEqual(sys.flags & ABI.MS_RDONLY, 0)
    }

    func testCgroupIsOptionalCgroup2OnlyWithACgroupNamespace() throws {
        let with = try op(try plan(defaultSpec(rootfs: "/r"), cgroup: true), at: "/sys/fs/cgroup")
        XCTAssertEqual(with.fstype, "cgroup2")
        XCTAssertTrue(with.optional)
        XCTAssertNotEqual(with.flags & ABI.MS_RDONLY, 0)
        let without = try plan(defaultSpec(rootfs: "/r"), cgroup: false)
        XCTAssertFalse(without.contains { $0.target == "/sys/fs/cgroup" })
    }

    // MARK: /dev

    func testDevicesAndLinksWhenDevIsATmpfs() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"))
        let devices = ops.filter { $0.kind == .bind && $0.source.hasPrefix("/dev/") }
        XCTAssertEqual(devices.map(\.target), ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"])
        for d in devices {
            XCTAssertEqual(d.source, d.target)
            XCTAssertTrue(d.targetIsFile, "\(d.target) is a device node: create a file to bind onto")
            XCTAssertNotEqual(d.attrs & ABI.MOUNT_ATTR_NOEXEC, 0)
        }
        let links = ops.filter { $0.kind == .symlink }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: links.map { ($0.target, $0.source) }),
                       ["/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
                        "/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx"])
        // The devices come after the tmpfs that makes /dev empty.
        let devIndex = try XCTUnwrap(ops.firstIndex { $0.target == "/dev" })
        let firstDevice = try XCTUnwrap(ops.firstIndex { $0.target == "/dev/null" })
        XCTAssertLessThan(devIndex, firstDevice)
    }

    func testNoDevicesOrLinksWithoutADevTmpfs() throws {
        let ops = try plan(spec(mounts: [Spec.Mount(destination: "/proc", type: "proc", source: "proc")]))
        XCTAssertEqual(ops.count, 1)
        XCTAssertFalse(ops.contains { $0.kind == .symlink })
        XCTAssertFalse(ops.contains { $0.target.hasPrefix("/dev") })
    }

    func testATmpfsElsewhereDoesNotBringDevices() throws {
        let ops = try plan(spec(mounts: [Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs")]))
        XCTAssertEqual(ops.count, 1)
        XCTAssertEqual(ops[0].fstype, "tmpfs")
    }

    // MARK: masked and read-only paths

    func testMaskedThenReadonlyPathsComeLast() throws {
        let ops = try plan(defaultSpec(rootfs: "/r"))
        let masked = SpecDefaults.maskedPaths
        let readonly = SpecDefaults.readonlyPaths
        let tail = Array(ops.suffix(masked.count + readonly.count))
        XCTAssertEqual(tail.map(\.target), masked + readonly)
        XCTAssertTrue(tail.prefix(masked.count).allSatisfy { $0.kind == .mask && $0.source == "/dev/null" })
        XCTAssertTrue(tail.suffix(readonly.count).allSatisfy { $0.kind == .readonly && $0.source == $0.target })
        XCTAssertFalse(ops.dropLast(tail.count).contains { $0.kind == .mask || $0.kind == .readonly })
    }

    // MARK: bind mounts

    func testBindOfAFileAndOfADirectory() throws {
        let tmp = try TempDir("nook-planner")
        defer { tmp.remove() }
        let file = try tmp.file("resolv.conf", "nameserver 1.1.1.1\n")
        let dir = try tmp.dir("data")
        let ops = try plan(spec(mounts: [
            Spec.Mount(destination: "/etc/resolv.conf", type: "bind", source: file, options: ["bind", "ro"]),
            Spec.Mount(destination: "/data", type: "bind", source: dir, options: ["rbind", "nosuid", "nodev"]),
        ]))
        XCTAssertEqual(ops.count, 2)
        XCTAssertEqual(ops[0].kind, .bind)
        XCTAssertEqual(ops[0].source, file)
        XCTAssertTrue(ops[0].targetIsFile)
        XCTAssertFalse(ops[0].recursive)
        XCTAssertEqual(ops[0].attrs, ABI.MOUNT_ATTR_RDONLY)
        XCTAssertFalse(ops[1].targetIsFile)
        XCTAssertTrue(ops[1].recursive)
        XCTAssertEqual(ops[1].attrs, ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV)
    }

    func testRuncStyleBindWithTypeNone() throws {
        // runc spec --rootless: {"type": "none", "source": "/sys", "options": ["rbind", ...]}
        let ops = try plan(spec(mounts: [Spec.Mount(destination: "/sys", type: "none", source: "/sys",
                                                     options: ["rbind", "nosuid", "noexec", "nodev", "ro"])]))
        XCTAssertEqual(ops.first?.kind, .bind)
        XCTAssertEqual(ops.first?.recursive, true)
        XCTAssertEqual(ops.first?.attrs, ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NOEXEC | ABI.MOUNT_ATTR_NODEV)
    }

    func testBindErrors() {
        assertNookError(try plan(spec(mounts: [Spec.Mount(destination: "/x", type: "bind", source: "rel/path")]))) { e in
            assertContains(e.message, "bind mount to '/x' needs an absolute source path")
        }
        assertNookError(try plan(spec(mounts: [Spec.Mount(destination: "/x", type: "bind", source: nil)]))) { e in
            assertContains(e.message, "needs an absolute source path")
        }
        assertNookError(try plan(spec(mounts: [Spec.Mount(destination: "/x", type: "bind", source: "/nonexistent/nook/src")]))) { e in
            XCTAssertEqual(e.message, "bind mount source '/nonexistent/nook/src' does not exist")
        }
    }

    func testDestinationMustBeAbsoluteAndTypeKnown() {
        assertNookError(try plan(spec(mounts: [Spec.Mount(destination: "proc", type: "proc", source: "proc")]))) { e in
            assertContains(e.message, "mount destination 'proc' must be an absolute path")
        }
        assertNookError(try plan(spec(mounts: [Spec.Mount(destination: "/x", type: nil, source: "x", options: ["ro"])]))) { e in
            assertContains(e.message, "mount at '/x' has no type")
        }
    }

    func testProcMountDetails() throws {
        let proc = try op(try plan(defaultSpec(rootfs: "/r")), at: "/proc")
        XCTAssertEqual(proc.kind, .filesystem)
        XCTAssertEqual(proc.source, "proc")
        XCTAssertEqual(proc.fstype, "proc")
        XCTAssertEqual(proc.flags, ABI.MS_NOSUID | ABI.MS_NOEXEC | ABI.MS_NODEV)
        XCTAssertEqual(proc.data, "")
        XCTAssertFalse(proc.why.isEmpty)
    }
}
