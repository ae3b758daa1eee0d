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

    /// A hostile name is kilobytes long: the error quotes its start and says how long it was.
    func testAVeryLongNameIsQuotedShort() {
        let name = String(repeating: "a", count: 6000) + "/../../x"
        XCTAssertThrowsError(try LayerEntryPath(name)) { error in
            let text = "\(error)"
            XCTAssertLessThan(text.count, 600, text)
            XCTAssertTrue(text.contains("'" + String(repeating: "a", count: 200) + "...(6008 characters)' that climbs out"), text)
        }
    }
}
