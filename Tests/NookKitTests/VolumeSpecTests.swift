import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class VolumeSpecTests: XCTestCase {
    // MARK: valid forms

    func testSourceAndDestination() throws {
        let v = try VolumeSpec.parse("/a:/b")
        XCTAssertEqual(v, VolumeSpec(source: "/a", destination: "/b", readOnly: false, options: []))
    }

    func testReadOnly() throws {
        let v = try VolumeSpec.parse("/a:/b:ro")
        XCTAssertEqual(v.source, "/a")
        XCTAssertEqual(v.destination, "/b")
        XCTAssertTrue(v.readOnly)
        XCTAssertEqual(v.options, [], "ro is recorded as readOnly, not as an extra option")
    }

    func testRelativeSourceWithSeveralOptions() throws {
        let v = try VolumeSpec.parse("./x:/y:rw,noexec")
        XCTAssertEqual(v.source, "./x")
        XCTAssertEqual(v.destination, "/y")
        XCTAssertFalse(v.readOnly)
        XCTAssertEqual(v.options, ["noexec"])
    }

    func testLastOfRoAndRwWins() throws {
        XCTAssertTrue(try VolumeSpec.parse("/a:/b:rw,ro").readOnly)
        XCTAssertFalse(try VolumeSpec.parse("/a:/b:ro,rw").readOnly)
    }

    func testSELinuxRelabelOptionsAreAcceptedAndDropped() throws {
        let v = try VolumeSpec.parse("/a:/b:z,ro,Z")
        XCTAssertTrue(v.readOnly)
        XCTAssertEqual(v.options, [])
    }

    func testParentRelativeSourceIsAHostPath() throws {
        XCTAssertEqual(try VolumeSpec.parse("../data:/data").source, "../data")
    }

    // MARK: errors

    func testMissingDestination() {
        for text in ["/a", "/a:", ":/b", ""] {
            assertNookError(try VolumeSpec.parse(text)) { e in
                assertContains(e.message, "invalid volume '\(text)'")
                assertContains(e.message, "expected SRC:DST or SRC:DST:OPTIONS")
                XCTAssertNotNil(e.hint, "a malformed -v should show an example")
                XCTAssertEqual(e.exitCode, 125)
            }
        }
    }

    func testRelativeDestination() {
        assertNookError(try VolumeSpec.parse("/a:b")) { e in
            assertContains(e.message, "destination 'b' must be an absolute path")
        }
    }

    func testNamedVolumeIsRefusedWithAHint() {
        assertNookError(try VolumeSpec.parse("data:/data")) { e in
            assertContains(e.message, "source 'data' must be a host path")
            assertContains(e.hint ?? "", "no named volumes")
            assertContains(e.hint ?? "", "$PWD/data:/data")
        }
    }

    func testUnknownOption() {
        assertNookError(try VolumeSpec.parse("/a:/b:ro,nosiud")) { e in
            assertContains(e.message, "unknown option 'nosiud'")
            assertContains(e.hint ?? "", "noexec")
        }
    }

    func testTooManyColons() {
        assertNookError(try VolumeSpec.parse("/a:/b:ro:extra")) { e in
            assertContains(e.message, "invalid volume '/a:/b:ro:extra'")
            assertContains(e.message, "expected SRC:DST")
        }
    }

    // MARK: the OCI mount it becomes

    func testMountIsNosuidNodevRecursiveBindByDefault() throws {
        let m = try VolumeSpec.parse("/a:/b").ociMount(absoluteSource: "/abs/a")
        XCTAssertEqual(m.type, "bind")
        XCTAssertEqual(m.source, "/abs/a")
        XCTAssertEqual(m.destination, "/b")
        XCTAssertEqual(m.options, ["rbind", "nosuid", "nodev"])
    }

    func testSuidAndDevLiftTheDefaults() throws {
        let suid = try VolumeSpec.parse("/a:/b:suid").ociMount(absoluteSource: "/a").options ?? []
        XCTAssertFalse(suid.contains("nosuid"))
        XCTAssertTrue(suid.contains("nodev"))
        let dev = try VolumeSpec.parse("/a:/b:dev").ociMount(absoluteSource: "/a").options ?? []
        XCTAssertTrue(dev.contains("nosuid"))
        XCTAssertFalse(dev.contains("nodev"))
    }

    func testReadOnlyNoexecAndNorbind() throws {
        let opts = try VolumeSpec.parse("/a:/b:ro,noexec,norbind").ociMount(absoluteSource: "/a").options ?? []
        XCTAssertEqual(opts.first, "bind", "norbind gives a non-recursive bind")
        XCTAssertFalse(opts.contains("rbind"))
        XCTAssertTrue(opts.contains("ro"))
        XCTAssertTrue(opts.contains("noexec"))
    }

    func testOciMountOptionsBecomeTheExpectedMountAttributes() throws {
        let m = try VolumeSpec.parse("/a:/b:ro").ociMount(absoluteSource: "/a")
        let parsed = MountOptions(m.options ?? [])
        XCTAssertTrue(parsed.isBind)
        XCTAssertTrue(parsed.recursive)
        XCTAssertEqual(parsed.attrs, ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV)
        XCTAssertEqual(parsed.data, [])
    }
}

final class TmpfsSpecTests: XCTestCase {
    func testDestinationOnly() throws {
        let t = try TmpfsSpec.parse("/tmp")
        XCTAssertEqual(t.destination, "/tmp")
        XCTAssertEqual(t.options, [])
        let m = t.ociMount
        XCTAssertEqual(m.type, "tmpfs")
        XCTAssertEqual(m.source, "tmpfs")
        XCTAssertEqual(m.destination, "/tmp")
        XCTAssertEqual(m.options, ["nosuid", "nodev", "mode=1777"])
    }

    func testOptionsAreKeptAndAnExplicitModeReplacesTheDefault() throws {
        let t = try TmpfsSpec.parse("/run:size=64m,mode=0700,noexec")
        XCTAssertEqual(t.options, ["size=64m", "mode=0700", "noexec"])
        let opts = t.ociMount.options ?? []
        XCTAssertEqual(opts, ["nosuid", "nodev", "size=64m", "mode=0700", "noexec"])
        XCTAssertFalse(opts.contains("mode=1777"))
    }

    func testOnlyTheFirstColonSplits() throws {
        let t = try TmpfsSpec.parse("/x:a=b:c")
        XCTAssertEqual(t.destination, "/x")
        XCTAssertEqual(t.options, ["a=b:c"])
    }

    func testRelativeOrEmptyDestination() {
        for text in ["tmp", "", ":size=1m"] {
            assertNookError(try TmpfsSpec.parse(text)) { e in
                assertContains(e.message, "invalid --tmpfs '\(text)'")
                assertContains(e.message, "absolute path")
            }
        }
    }
}
