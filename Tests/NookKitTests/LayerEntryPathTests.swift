import NookImages
import XCTest

/// Tar entry names made relative to the layer, as docker does: absolute
/// names land inside, "." and empty parts go, ".." may not climb out.
final class LayerEntryPathTests: XCTestCase {
    func testNamesAreMadeRelativeToTheLayer() throws {
        XCTAssertEqual(try LayerEntryPath("./etc/passwd").components, ["etc", "passwd"])
        XCTAssertEqual(try LayerEntryPath("/etc//passwd/").components, ["etc", "passwd"])
        XCTAssertEqual(try LayerEntryPath("a/b/../c").components, ["a", "c"])
        XCTAssertEqual(try LayerEntryPath("usr/../..wh..opq").name, "..wh..opq", "a name that starts with .. is a name")
        XCTAssertTrue(try LayerEntryPath("./").isRoot)
        XCTAssertEqual(try LayerEntryPath("/../etc/passwd").components, ["etc", "passwd"], "'..' stops at the top of an absolute name")
        XCTAssertEqual(try LayerEntryPath("a/b/c").parent, "/a/b")
        XCTAssertEqual(try LayerEntryPath("top").parent, "/")
    }

    func testDotDotAboveTheLayerIsRefused() {
        for name in ["..", "../x", "a/../../x", "./a/./../../b"] {
            XCTAssertThrowsError(try LayerEntryPath(name), name) { error in
                XCTAssertTrue("\(error)".contains("climbs out of it with '..'"), "\(error)")
            }
        }
    }
}
