import Foundation
import XCTest
import NookImages
@testable import NookImageRun

/// The overlayfs probe's verdict is remembered per kernel release only when
/// it is mount(2)'s own (DIR/reason written); a probe that failed otherwise
/// (no space, no descriptors, a spawn that failed) is tried again next time.
final class StorageDriverProbeTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        // Not $TMPDIR (SwiftPM's may be 0700): the probe runs in a user
        // namespace, as a sub-uid of the caller, and must reach the store.
        root = "/tmp/nook-probe-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func testAProbeThatFailedBeforeMountIsNotRemembered() throws {
        let store = ImageStore(root: root)
        let refused = try StorageDriver.overlayRefusal(store: store, environment: [:], nook: .path("/bin/false"))
        XCTAssertEqual(refused, "the probe failed (exit 1), not mount(2)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/overlay-probe"), "nothing cached: the next run probes again")
    }
}
