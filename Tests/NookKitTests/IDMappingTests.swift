import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class IDMappingTests: XCTestCase {
    let ranges: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100_000, size: 65536)]

    func testSingle() {
        let m = IDMapping.single(uid: 1000, gid: 100)
        XCTAssertEqual(m.uidMappings, [.init(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(m.gidMappings, [.init(containerID: 0, hostID: 100, size: 1)])
        XCTAssertFalse(m.setgroupsAllowed)
        XCTAssertEqual(m.writer, .direct)
    }

    func testMaps() {
        XCTAssertTrue(IDMapping.maps(0, in: ranges))
        XCTAssertTrue(IDMapping.maps(1, in: ranges))
        XCTAssertTrue(IDMapping.maps(65536, in: ranges))
        XCTAssertFalse(IDMapping.maps(65537, in: ranges))
        XCTAssertFalse(IDMapping.maps(5, in: [.init(containerID: 0, hostID: 1000, size: 1)]))
        XCTAssertFalse(IDMapping.maps(0, in: []))
        XCTAssertTrue(IDMapping.maps(UInt32.max, in: [.init(containerID: UInt32.max, hostID: 1, size: 1)]), "no overflow at the top")
    }

    func testText() {
        XCTAssertEqual(IDMapping.text(ranges), "0 1000 1\n1 100000 65536\n")
        XCTAssertEqual(IDMapping.text([]), "")
    }

    func testHostUID() {
        let m = IDMapping(uidMappings: ranges, gidMappings: ranges, setgroupsAllowed: true, writer: .helpers, reason: "")
        XCTAssertEqual(m.hostUID(for: 0), 1000)
        XCTAssertEqual(m.hostUID(for: 1), 100_000)
        XCTAssertEqual(m.hostUID(for: 1000), 100_999)
        XCTAssertNil(m.hostUID(for: 70000))
    }

    /// A map from config.json may reach past UInt32.max: no host id there, not a crash.
    func testHostUIDPastTheEndOfTheIDSpaceIsNil() {
        let m = IDMapping(uidMappings: [.init(containerID: 0, hostID: UInt32.max - 1, size: 10)], gidMappings: [],
                          setgroupsAllowed: false, writer: .direct, reason: "")
        XCTAssertEqual(m.hostUID(for: 1), UInt32.max)
        XCTAssertNil(m.hostUID(for: 2))
        XCTAssertNil(m.hostUID(for: 9))
    }

    func testKernelTextRoundTripsThroughTheSpecShape() {
        // what LaunchPlan hands to the Supervisor is exactly the spec's maps
        let m = IDMapping(uidMappings: ranges, gidMappings: ranges, setgroupsAllowed: true, writer: .helpers, reason: "")
        XCTAssertEqual(IDMapping.text(m.uidMappings).split(separator: "\n").count, 2)
    }
}

final class IdentityResolverTests: XCTestCase {
    var tmp: TempDir!
    override func setUpWithError() throws { tmp = try TempDir("nook-ids") }
    override func tearDown() { tmp.remove() }

    let ranges: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100_000, size: 65536)]

    /// A resolver for `uid` that reads sub-ids from temp files, with helpers present or not.
    func resolver(uid: UInt32 = 1000, gid: UInt32 = 1000, subuid: String?, subgid: String?, helpers: Bool) throws -> IdentityResolver {
        var r = IdentityResolver(uid: uid, gid: gid)
        r.subuidFile = try subuid.map { try tmp.file("subuid", $0) } ?? tmp.path + "/no-subuid"
        r.subgidFile = try subgid.map { try tmp.file("subgid", $0) } ?? tmp.path + "/no-subgid"
        r.helpersAvailable = helpers
        return r
    }

    func testHalfAMappingIsRefused() throws {
        let r = try resolver(subuid: "user:100000:65536\n", subgid: "user:100000:65536\n", helpers: true)
        assertNookError(try r.resolve(spec: Spec(linux: Spec.Linux(gidMappings: ranges)))) { e in
            XCTAssertEqual(e.message, "linux.gidMappings is given without linux.uidMappings")
        }
        assertNookError(try r.resolve(spec: Spec(linux: Spec.Linux(uidMappings: ranges, gidMappings: [])))) { e in
            XCTAssertEqual(e.message, "linux.uidMappings is given without linux.gidMappings")
        }
    }

    func testSpecMappingsAreUsedAsGiven() throws {
        let spec = Spec(linux: Spec.Linux(uidMappings: ranges, gidMappings: ranges))
        let m = try resolver(subuid: nil, subgid: nil, helpers: false).resolve(spec: spec)
        XCTAssertEqual(m.uidMappings, ranges)
        XCTAssertEqual(m.gidMappings, ranges)
        XCTAssertEqual(m.writer, .helpers, "a range beyond the caller needs newuidmap")
        XCTAssertTrue(m.setgroupsAllowed)
    }

    func testSpecMappingOnlyTheCallerIsWrittenDirectly() throws {
        let me: [Spec.IDMap] = [.init(containerID: 0, hostID: 1000, size: 1)]
        let m = try resolver(subuid: nil, subgid: nil, helpers: true).resolve(spec: Spec(linux: Spec.Linux(uidMappings: me, gidMappings: me)))
        XCTAssertEqual(m.writer, .direct)
        XCTAssertFalse(m.setgroupsAllowed)
    }

    func testNoSubIDsGivesTheSingleMapping() throws {
        let m = try resolver(subuid: nil, subgid: nil, helpers: true).resolve(spec: Spec())
        XCTAssertEqual(m.uidMappings, [.init(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(m.gidMappings, [.init(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(m.writer, .direct)
        XCTAssertFalse(m.setgroupsAllowed)
        assertContains(m.reason, "no /etc/subuid and /etc/subgid range")
    }

    func testSubIDsWithoutHelpersGivesTheSingleMapping() throws {
        let m = try resolver(subuid: "1000:200000:65536\n", subgid: "1000:200000:65536\n", helpers: false).resolve(spec: Spec())
        XCTAssertEqual(m.uidMappings.count, 1)
        assertContains(m.reason, "newuidmap/newgidmap are not installed")
    }

    func testSubIDsWithHelpers() throws {
        let m = try resolver(subuid: "other:1:2\n1000:200000:65536\n", subgid: "1000:300000:1000\n", helpers: true).resolve(spec: Spec())
        XCTAssertEqual(m.uidMappings, [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 200_000, size: 65536)])
        XCTAssertEqual(m.gidMappings, [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 300_000, size: 1000)])
        XCTAssertEqual(m.writer, .helpers)
        XCTAssertTrue(m.setgroupsAllowed)
    }

    func testKeepID() throws {
        let single = try resolver(subuid: nil, subgid: nil, helpers: false).resolve(spec: Spec(), mode: .keepID)
        XCTAssertEqual(single.uidMappings, [.init(containerID: 1000, hostID: 1000, size: 1)])
        XCTAssertTrue(single.keepID)
        let ranged = try resolver(subuid: "1000:200000:65536\n", subgid: "1000:200000:65536\n", helpers: true)
            .resolve(spec: Spec(), mode: .keepID)
        XCTAssertEqual(ranged.uidMappings, [.init(containerID: 0, hostID: 200_000, size: 1000),
                                            .init(containerID: 1000, hostID: 1000, size: 1),
                                            .init(containerID: 1001, hostID: 201_000, size: 64536)])
        XCTAssertTrue(ranged.keepID)
        XCTAssertEqual(ranged.writer, .helpers)
    }

    func testHostModeNeedsRealRoot() throws {
        assertNookError(try resolver(subuid: nil, subgid: nil, helpers: true).resolve(spec: Spec(), mode: .host)) { e in
            assertContains(e.message, "--userns host needs real root")
        }
    }

    func testRealRootIsNeverMappedToRoot() throws {
        let m = try resolver(uid: 0, gid: 0, subuid: nil, subgid: nil, helpers: false).resolve(spec: Spec())
        XCTAssertEqual(m.uidMappings, [.init(containerID: 0, hostID: 100_000, size: 65536)])
        XCTAssertEqual(m.gidMappings, [.init(containerID: 0, hostID: 100_000, size: 65536)])
        XCTAssertEqual(m.writer, .direct)
        XCTAssertFalse(IDMapping.maps(0, in: []) )
        XCTAssertNil(m.uidMappings.first { $0.hostID == 0 })
        assertNookError(try resolver(uid: 0, gid: 0, subuid: nil, subgid: nil, helpers: false).resolve(spec: Spec(), mode: .keepID))
        let host = try resolver(uid: 0, gid: 0, subuid: nil, subgid: nil, helpers: false).resolve(spec: Spec(), mode: .host)
        XCTAssertEqual(host.writer, .none)
    }

    /// containerd as real root hands over a config.json without a user namespace:
    /// runc would make the container's root the host's. Inside rootlesskit's or
    /// podman's user namespace the same config is fine.
    func testRealRootWithoutAUserNamespaceIsRefused() throws {
        var spec = Spec(linux: Spec.Linux())
        spec.linux?.namespaces = ["mount", "pid"].map { Spec.Namespace(type: $0) }
        var r = try resolver(uid: 0, gid: 0, subuid: nil, subgid: nil, helpers: false)
        r.inInitialUserNamespace = true
        assertNookError(try r.resolve(spec: spec)) { e in
            XCTAssertEqual(e.message, "linux.namespaces has no user namespace, and nook runs as the host's root: the container's root would be the host's root")
            assertContains(e.hint ?? "", "rootlesskit")
        }
        r.inInitialUserNamespace = false
        XCTAssertEqual(try r.resolve(spec: spec).writer, .none)
    }

    func testUserNamespaceModeParse() throws {
        XCTAssertEqual(try UserNamespaceMode.parse("keep-id"), .keepID)
        XCTAssertEqual(try UserNamespaceMode.parse("auto"), .auto)
        assertNookError(try UserNamespaceMode.parse("keepid")) { e in assertContains(e.message, "invalid --userns 'keepid'") }
    }

    func testSubordinateRangeFind() {
        let text = "# comment\nalice:100000:65536\n1001:300000:10\nbob:x:1\ncarol:1:0\n"
        XCTAssertEqual(SubordinateRange.find(in: text, user: "alice", id: 1000), SubordinateRange(start: 100_000, count: 65536))
        XCTAssertEqual(SubordinateRange.find(in: text, user: "dave", id: 1001), SubordinateRange(start: 300_000, count: 10))
        XCTAssertNil(SubordinateRange.find(in: text, user: "bob", id: 7), "a malformed line is skipped")
        XCTAssertNil(SubordinateRange.find(in: text, user: "carol", id: 8), "an empty range is no range")
        XCTAssertNil(SubordinateRange.find(in: "erin:4294967000:65536\n", user: "erin", id: 9), "a range past UInt32.max is no range")
    }

    func testKeepIDWithARangeAtTheTopOfTheIDSpaceIsNotACrash() throws {
        let m = try resolver(subuid: "1000:4294901759:65536\n", subgid: "1000:4294901759:65536\n", helpers: true)
            .resolve(spec: Spec(), mode: .keepID)
        XCTAssertEqual(m.uidMappings.last, .init(containerID: 1001, hostID: 4_294_902_759, size: 64536))
        let past = try resolver(subuid: "1000:4294967000:65536\n", subgid: "1000:4294967000:65536\n", helpers: true)
            .resolve(spec: Spec(), mode: .keepID)
        XCTAssertEqual(past.uidMappings, [.init(containerID: 1000, hostID: 1000, size: 1)], "no usable range: the single mapping")
    }
}
