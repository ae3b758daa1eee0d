import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class VolumeSpecTests: XCTestCase {
    // MARK: valid forms

    func testSourceAndDestination() throws {
        let v = try VolumeSpec.parse("/a:/b")
        XCTAssertEqual(v, VolumeSpec(source: "/a", destination: "/b", readOnly: false, recursive: true, suid: false, dev: false, noexec: false))
    }

    func testReadOnly() throws {
        let v = try VolumeSpec.parse("/a:/b:ro")
        XCTAssertEqual(v.source, "/a")
        XCTAssertEqual(v.destination, "/b")
        XCTAssertEqual(v, VolumeSpec(source: "/a", destination: "/b", readOnly: true))
    }

    func testRelativeSourceWithSeveralOptions() throws {
        let v = try VolumeSpec.parse("./x:/y:rw,noexec")
        XCTAssertEqual(v.source, "./x")
        XCTAssertEqual(v.destination, "/y")
        XCTAssertFalse(v.readOnly)
        XCTAssertTrue(v.noexec)
    }

    func testLastOfRoAndRwWins() throws {
        XCTAssertTrue(try VolumeSpec.parse("/a:/b:rw,ro").readOnly)
        XCTAssertFalse(try VolumeSpec.parse("/a:/b:ro,rw").readOnly)
    }

    func testLastOfEachPairWins() throws {
        XCTAssertEqual(try VolumeSpec.parse("/a:/b:noexec,exec,suid,nosuid,dev,norbind"),
                       VolumeSpec(source: "/a", destination: "/b", recursive: false, dev: true))
        XCTAssertTrue(try VolumeSpec.parse("/a:/b:norbind,rbind").recursive)
    }

    func testSELinuxRelabelOptionsAreAcceptedAndDropped() throws {
        XCTAssertEqual(try VolumeSpec.parse("/a:/b:z,ro,Z"), VolumeSpec(source: "/a", destination: "/b", readOnly: true))
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

    // MARK: the mount this run makes, typed, and its record read back

    func testTypedMountHasTheMountAttributesOfItsOptions() throws {
        let source = BindSource(path: "/abs/a", isDirectory: true, mountFlags: 0)
        let plain = try VolumeSpec.parse("/a:/b").mount(source: source)
        XCTAssertEqual(plain.type, "bind")
        XCTAssertEqual(plain.source, "/abs/a")
        XCTAssertEqual(plain.destination, "/b")
        XCTAssertEqual(plain.bindSource, source, "the plan takes the source as it was looked at")
        XCTAssertTrue(plain.options.recursive)
        XCTAssertEqual(plain.options.attrs, ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV)
        let all = try VolumeSpec.parse("/a:/b:ro,noexec,norbind,suid").mount(source: source).options
        XCTAssertFalse(all.recursive)
        XCTAssertTrue(all.readOnly)
        XCTAssertEqual(all.attrs, ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NODEV | ABI.MOUNT_ATTR_NOEXEC)
        XCTAssertEqual(all.flags, ABI.MS_RDONLY | ABI.MS_NODEV | ABI.MS_NOEXEC)
    }

    /// A restart (or a `run -d` monitor) plans from the recorded OCI form: it
    /// must read back as the very mount the first run made from the flags.
    func testTheRecordReadsBackAsTheTypedMount() throws {
        for text in ["/a:/b", "/a:/b:ro", "/a:/b:rw,noexec", "/a:/b:suid,dev", "/a:/b:norbind,ro,exec", "/a:/b:noexec,suid,norbind"] {
            let volume = try VolumeSpec.parse(text)
            var typed = volume.mount(source: BindSource(path: "/abs/a", isDirectory: true, mountFlags: 0))
            typed.bindSource = nil
            XCTAssertEqual(ContainerMount(oci: volume.ociMount(absoluteSource: "/abs/a")), typed, text)
        }
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
        let mount = t.mount
        XCTAssertEqual(mount.type, "tmpfs")
        XCTAssertEqual(mount.options.flags, ABI.MS_NOSUID | ABI.MS_NODEV | ABI.MS_NOEXEC, "noexec is a flag")
        XCTAssertEqual(mount.options.data, ["size=64m", "mode=0700"], "size and mode are the filesystem's data")
        XCTAssertEqual(mount, ContainerMount(oci: t.ociMount), "the record reads back as the same mount")
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

    /// docker refuses a bind over "/"; so does Nook (it failed later as "exec 'true': not found").
    func testADestinationThatIsTheRootIsRefused() {
        for destination in ["/", "//", "///"] {
            assertNookError(try VolumeSpec.parse("/tmp:\(destination)")) { e in
                XCTAssertEqual(e.message, "invalid volume '/tmp:\(destination)': destination '\(destination)' is the container's root")
            }
        }
    }
}
