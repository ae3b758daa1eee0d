import XCTest
import NookCore
@testable import NookRuntime
@testable import NookSpec

/// How the root overlay is written into a spec, read back, and handed to the child.
final class RootOverlayTests: XCTestCase {
    let store = "/home/u/.local/share/nook"

    func testSpecRoundTripKeepsOverlaysOrder() throws {
        let overlay = RootOverlay(lower: ["/s/layers/top", "/s/layers/bottom"], upper: "/s/containers/c/upper", work: "/s/containers/c/work")
        XCTAssertEqual(overlay.ociMount.options, ["lowerdir=/s/layers/top:/s/layers/bottom", "upperdir=/s/containers/c/upper",
                                                  "workdir=/s/containers/c/work", "userxattr"])
        XCTAssertEqual(try RootOverlay(oci: overlay.ociMount), overlay)
        let readOnly = RootOverlay(lower: ["/a", "/b"], upper: nil, work: nil)
        XCTAssertEqual(try RootOverlay(oci: readOnly.ociMount), readOnly)
        XCTAssertTrue(readOnly.readOnly)
    }

    /// A volatile layer stays volatile through the spec, and reaches the child's options.
    func testVolatileRoundTripsAndNeedsAnUpperLayer() throws {
        let overlay = RootOverlay(lower: [store + "/layers/a"], upper: store + "/containers/c/upper", work: store + "/containers/c/work",
                                  volatile: true)
        XCTAssertEqual(overlay.ociMount.options?.last, "volatile")
        XCTAssertEqual(try RootOverlay(oci: overlay.ociMount), overlay)
        let mount = try RootOverlayPlan.mount(for: overlay)
        XCTAssertTrue(mount.options.hasSuffix(",userxattr,volatile") && mount.volatile, mount.options)
        XCTAssertFalse(RootOverlay(lower: ["/a", "/b"], upper: nil, work: nil, volatile: true).volatile, "nothing to sync without an upper layer")
        XCTAssertThrowsError(try RootOverlay(oci: Spec.Mount(destination: "/", type: "overlay", options: ["lowerdir=/a:/b", "volatile"])))
    }

    func testOptionsNookDoesNotWriteAreRefused() {
        for options in [["lowerdir=/a", "metacopy=on"], ["upperdir=/u", "workdir=/w"], ["lowerdir=/a", "upperdir=/u"], ["lowerdir=a:/b"]] {
            XCTAssertThrowsError(try RootOverlay(oci: Spec.Mount(destination: "/", type: "overlay", options: options)), "\(options)")
        }
    }

    func testChildGetsPathsRelativeToTheirCommonDirectory() throws {
        let overlay = RootOverlay(lower: [store + "/layers/bbb", store + "/layers/aaa"],
                                  upper: store + "/containers/c-1/upper", work: store + "/containers/c-1/work")
        let mount = try RootOverlayPlan.mount(for: overlay)
        XCTAssertEqual(mount.directory, store)
        XCTAssertEqual(mount.options, "lowerdir=layers/bbb:layers/aaa,upperdir=containers/c-1/upper,workdir=containers/c-1/work,userxattr")
        XCTAssertFalse(mount.readOnly)
        XCTAssertEqual(RootOverlayPlan.commonDirectory(["/a/b", "/c/d"]), "/")
    }

    /// A page at most: refused with a clear error, not a kernel EINVAL.
    func testTooManyLayersForOneMountAreRefused() throws {
        let hex = String(repeating: "a", count: 64)
        let fits = RootOverlay(lower: (0..<50).map { store + "/layers/\(hex)\($0)" }, upper: nil, work: nil)
        XCTAssertNoThrow(try RootOverlayPlan.mount(for: fits), "50 layers fit once relative")
        let tooMany = RootOverlay(lower: (0..<80).map { store + "/layers/\(hex)\($0)" }, upper: nil, work: nil)
        XCTAssertThrowsError(try RootOverlayPlan.mount(for: tooMany)) { XCTAssertTrue("\($0)".contains("at most 4095"), "\($0)") }
    }

    func testOwnedLayerIsOnlyTheSpecsOwnOverlayDirectory() {
        let env = ["HOME": "/home/u"]
        let dir = store + "/containers/c-1"
        let overlay = RootOverlay(lower: [store + "/layers/a"], upper: dir + "/upper", work: dir + "/work")
        var spec = Spec(root: Spec.Root(path: dir + "/merged", readonly: false), mounts: [overlay.ociMount],
                        annotations: [RootOverlay.ownedLayerAnnotation: dir])
        XCTAssertEqual(OwnedLayer.directory(of: spec, container: "c", environment: env), dir)
        spec.root?.path = "/home/u/rootfs"
        XCTAssertNil(OwnedLayer.directory(of: spec, container: "c", environment: env), "an annotation alone names nothing to remove")
        spec.root?.path = dir + "/merged"
        spec.mounts = []
        XCTAssertNil(OwnedLayer.directory(of: spec, container: "c", environment: env))
    }

    /// A bundle's config.json (a hostile one) names a directory of the user's
    /// own, with merged/upper/work and an overlay to match: not in the image
    /// store's containers/, so nook removes nothing (the review found it deleted).
    func testALayerOutsideTheStoresContainersIsNeverRemoved() {
        let env = ["HOME": "/home/u"]
        for dir in ["/home/u/precious", store + "/layers", store + "/containers/..", store + "/containers/a/b", store + "/containers"] {
            let overlay = RootOverlay(lower: ["/home/u/lower"], upper: dir + "/upper", work: dir + "/work")
            let spec = Spec(root: Spec.Root(path: dir + "/merged", readonly: false), mounts: [overlay.ociMount],
                            annotations: [RootOverlay.ownedLayerAnnotation: dir])
            XCTAssertNil(OwnedLayer.directory(of: spec, container: "c", environment: env), dir)
        }
        XCTAssertNil(OwnedLayer.directory(of: Spec(annotations: [RootOverlay.ownedLayerAnnotation: store + "/containers/c-1"]), container: "c", environment: [:]),
                     "no store (no HOME): nothing is ours")
    }

    /// A bundle's config.json names another container's layer (`containers/web-1a2b`,
    /// made for the container `web`): removing this container must not remove it.
    func testAnotherContainersLayerIsNeverRemoved() {
        let env = ["HOME": "/home/u"]
        for (container, name) in [("evil", "web-1a2b"), ("web", "web-1-1a2b"), ("we", "web-1a2b"), ("web", "web-"), ("web", "web-1a2b/x")] {
            let dir = store + "/containers/" + name
            let overlay = RootOverlay(lower: [store + "/layers/a"], upper: dir + "/upper", work: dir + "/work")
            let spec = Spec(root: Spec.Root(path: dir + "/merged", readonly: false), mounts: [overlay.ociMount],
                            annotations: [RootOverlay.ownedLayerAnnotation: dir])
            XCTAssertNil(OwnedLayer.directory(of: spec, container: container, environment: env), "\(container): \(name)")
        }
        let dir = store + "/containers/web-1-1a2b"
        let overlay = RootOverlay(lower: [store + "/layers/a"], upper: dir + "/upper", work: dir + "/work")
        let spec = Spec(root: Spec.Root(path: dir + "/merged", readonly: false), mounts: [overlay.ociMount],
                        annotations: [RootOverlay.ownedLayerAnnotation: dir])
        XCTAssertEqual(OwnedLayer.directory(of: spec, container: "web-1", environment: env), dir, "the container web-1's own layer")
    }
}
