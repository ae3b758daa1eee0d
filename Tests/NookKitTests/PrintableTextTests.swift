import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class PrintableTextTests: XCTestCase {
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(PrintableText.escaped("sh -c \u{1b}[31mred\nFAKE ROW\r\t\u{7f}\u{9b}"),
                       "sh -c \\x1b[31mred\\nFAKE ROW\\r\\t\\x7f\\x9b")
        XCTAssertEqual(PrintableText.escaped("\u{0}"), "\\x00")
    }

    func testInvisibleFormattingIsEscaped() {
        XCTAssertEqual(PrintableText.escaped("a\u{202e}b\u{2028}c"), "a\\u{202e}b\\u{2028}c")
    }

    func testPrintableTextIsKeptAndBackslashesDoubled() {
        XCTAssertEqual(PrintableText.escaped("sleep 100 # café 日本 \"q\""), "sleep 100 # café 日本 \"q\"")
        XCTAssertEqual(PrintableText.escaped("\\x1b"), "\\\\x1b", "a literal backslash is not an escape")
    }
}
