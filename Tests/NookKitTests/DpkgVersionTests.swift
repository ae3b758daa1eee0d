import XCTest
@testable import NookImages

/// dpkg's version ordering. The pairs are dpkg's own test vectors (its
/// scripts/t/Dpkg_Version.t table, shared with apt's test/versions.lst) plus
/// three of bookworm's real versions; each was checked with the host's
/// `dpkg --compare-versions` when it was written here.
final class DpkgVersionTests: XCTestCase {
    static let vectors: [(String, String, Int)] = [
        ("1.0-1", "2.0-2", -1),
        ("2.2~rc-4", "2.2-1", -1),
        ("2.2-1", "2.2~rc-4", 1),
        ("1.0000-1", "1.0-1", 0),
        ("1", "0:1", 0),
        ("0", "0:0-0", 0),
        ("2:2.5", "1:7.5", 1),
        ("1:0foo", "0foo", 1),
        ("0:0foo", "0foo", 0),
        ("0foo", "0foo", 0),
        ("0foo-0", "0foo", 0),
        ("0foo", "0foo-0", 0),
        ("0foo", "0fo", 1),
        ("0foo-0", "0foo+", -1),
        ("0foo~1", "0foo", -1),
        ("0foo~foo+Bar", "0foo~foo+bar", -1),
        ("0foo~~", "0foo~", -1),
        ("1~", "1", -1),
        ("12345+that-really-is-some-ver-0", "12345+that-really-is-some-ver-10", -1),
        ("0foo-0", "0foo-01", -1),
        ("0foo.bar", "0foobar", 1),
        ("0foo.bar", "0foo1bar", 1),
        ("0foo.bar", "0foo0bar", 1),
        ("0foo1bar-1", "0foobar-1", -1),
        ("0foo2.0", "0foo2", 1),
        ("0foo2.0.0", "0foo2.10.0", -1),
        ("0foo2.0", "0foo2.0.0", -1),
        ("0foo2.0", "0foo2.10", -1),
        ("0foo2.1", "0foo2.10", -1),
        ("1.09", "1.9", 0),
        ("1.0.8+nmu1", "1.0.8", 1),
        ("3.11", "3.10+nmu1", 1),
        ("0.9j-20080306-4", "0.9i-20070324-2", 1),
        ("1.2.0~b7-1", "1.2.0~b6-1", 1),
        ("1.011-1", "1.06-2", 1),
        ("0.0.9+dfsg1-1", "0.0.8+dfsg1-3", 1),
        ("4.6.99+svn6582-1", "4.6.99+svn6496-1", 1),
        ("53", "52", 1),
        ("0.9.9~pre122-1", "0.9.9~pre111-1", 1),
        ("2:2.3.2-2+lenny2", "2:2.3.2-2", 1),
        ("1:3.8.1-1", "3.8.GA-1", 1),
        ("1.0.1+gpl-1", "1.0.1-2", 1),
        ("1a", "1000a", -1),
        ("2.36-9", "2.36-9+deb12u10", -1),
        ("1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1", 0),
        ("1.0~rc1", "1.0~", 1),
        ("1.0a", "1.0+", -1),
    ]

    func testDpkgsOwnVectorsCompareAsDpkgDoes() throws {
        for (a, b, expected) in Self.vectors {
            let x = try XCTUnwrap(DpkgVersion(a), a), y = try XCTUnwrap(DpkgVersion(b), b)
            XCTAssertEqual(DpkgVersion.compare(x, y), expected, "\(a) vs \(b)")
            XCTAssertEqual(DpkgVersion.compare(y, x), -expected, "\(b) vs \(a)")
        }
    }

    func testTildeSortsBeforeEverythingEvenTheEnd() throws {
        let order = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+", "1.0.1"].map { DpkgVersion($0)! }
        XCTAssertEqual(order, order.sorted())
        XCTAssertEqual(order.sorted().map(\.description), ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+", "1.0.1"])
    }

    func testEpochAndRevisionAreSplitAsDpkgDoes() throws {
        let v = try XCTUnwrap(DpkgVersion("1:1.2.13.dfsg-1+deb12u1"))
        XCTAssertEqual(v.epoch, 1)
        XCTAssertEqual(String(decoding: v.upstream, as: UTF8.self), "1.2.13.dfsg")
        XCTAssertEqual(String(decoding: v.revision, as: UTF8.self), "1+deb12u1")
        // The last hyphen splits: the upstream part may hold hyphens.
        let w = try XCTUnwrap(DpkgVersion("1.1-20080727-1"))
        XCTAssertEqual(String(decoding: w.upstream, as: UTF8.self), "1.1-20080727")
    }

    func testTextDpkgRefusesIsNotAVersion() {
        for bad in ["", ":1.0", "a:1.0", "1:", "1.0 1", "-1"] {
            XCTAssertNil(DpkgVersion(bad), "'\(bad)'")
        }
    }
}
