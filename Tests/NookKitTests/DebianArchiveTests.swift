import XCTest
import Foundation
import NookCore
@testable import NookImages
@testable import NookKernel

/// The host's Debian archive as apt's lists describe it: list names taken
/// apart, plain and LZ4-compressed lists read, the newest version kept.
final class DebianArchiveTests: XCTestCase {
    var tmp: TempDir!
    override func setUpWithError() throws { tmp = try TempDir("nook-apt") }
    override func tearDown() { tmp.remove() }

    static let text = "Package: libc6\nVersion: 2.36-9+deb12u10\n\nPackage: libc6\nVersion: 2.36-9+deb12u10\n\n"
        + String(repeating: "a", count: 44) + "\nPackage: zlib1g\nVersion: 1:1.2.13.dfsg-1\n"
    /// `lz4 --content-size -BD --no-frame-crc` of `text` (lz4 1.9.4): a match that overlaps itself (the a's).
    static let frameWithContentSize: [UInt8] = [0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0xa8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb7, 0x51, 0x00, 0x00, 0x00, 0xff, 0x1a, 0x50, 0x61, 0x63, 0x6b, 0x61, 0x67, 0x65, 0x3a, 0x20, 0x6c, 0x69, 0x62, 0x63, 0x36, 0x0a, 0x56, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x3a, 0x20, 0x32, 0x2e, 0x33, 0x36, 0x2d, 0x39, 0x2b, 0x64, 0x65, 0x62, 0x31, 0x32, 0x75, 0x31, 0x30, 0x0a, 0x0a, 0x29, 0x00, 0x16, 0x1f, 0x61, 0x01, 0x00, 0x18, 0x06, 0x56, 0x00, 0x66, 0x7a, 0x6c, 0x69, 0x62, 0x31, 0x67, 0x80, 0x00, 0xf0, 0x01, 0x31, 0x3a, 0x31, 0x2e, 0x32, 0x2e, 0x31, 0x33, 0x2e, 0x64, 0x66, 0x73, 0x67, 0x2d, 0x31, 0x0a, 0x00, 0x00, 0x00, 0x00]
    /// `lz4 -BX` of `text`: block and content checksums.
    static let frameWithChecksums: [UInt8] = [0x04, 0x22, 0x4d, 0x18, 0x74, 0x40, 0xbd, 0x51, 0x00, 0x00, 0x00, 0xff, 0x1a, 0x50, 0x61, 0x63, 0x6b, 0x61, 0x67, 0x65, 0x3a, 0x20, 0x6c, 0x69, 0x62, 0x63, 0x36, 0x0a, 0x56, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x3a, 0x20, 0x32, 0x2e, 0x33, 0x36, 0x2d, 0x39, 0x2b, 0x64, 0x65, 0x62, 0x31, 0x32, 0x75, 0x31, 0x30, 0x0a, 0x0a, 0x29, 0x00, 0x16, 0x1f, 0x61, 0x01, 0x00, 0x18, 0x06, 0x56, 0x00, 0x66, 0x7a, 0x6c, 0x69, 0x62, 0x31, 0x67, 0x80, 0x00, 0xf0, 0x01, 0x31, 0x3a, 0x31, 0x2e, 0x32, 0x2e, 0x31, 0x33, 0x2e, 0x64, 0x66, 0x73, 0x67, 0x2d, 0x31, 0x0a, 0xe9, 0x35, 0xc8, 0xd3, 0x00, 0x00, 0x00, 0x00, 0x9d, 0xb2, 0x8c, 0x87]

    /// `bytes` in a new file; its path.
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = tmp.path + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func decompress(_ path: String, limit: Int = 1 << 20) throws -> String {
        let text = FileKind(name: "a test list", limit: limit)
        return String(decoding: try LayerStream.decompressFile(path, filter: .lz4, as: text, hint: "test"), as: UTF8.self)
    }

    func testLZ4FramesAsTheLz4ToolWritesThem() throws {
        XCTAssertEqual(try decompress(write("sized.lz4", Self.frameWithContentSize)), Self.text)
        XCTAssertEqual(try decompress(write("checked.lz4", Self.frameWithChecksums)), Self.text)
        // Two frames one after the other, and a skippable frame between them.
        let skippable: [UInt8] = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]
        XCTAssertEqual(try decompress(write("two.lz4", Self.frameWithContentSize + skippable + Self.frameWithChecksums)), Self.text + Self.text)
    }

    /// A list of many blocks, linked (a match reaches into the block before), as the lz4 tool writes it now.
    func testAListOfManyBlocksTheLz4ToolWrites() throws {
        let lz4 = try XCTUnwrap(HostPath.findExecutable("lz4"), "the lz4 tool is missing: run Scripts/install-deps.sh")
        let text = (0..<20_000).map { "Package: p\($0 % 1000)\nVersion: \($0 / 1000).\($0)\n\n" }.joined()
        let plain = try tmp.file("list", text)
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: lz4)
        tool.arguments = ["-q", "-B4", "-BD", "--content-size", plain, plain + ".lz4"]
        try tool.run()
        tool.waitUntilExit()
        XCTAssertEqual(tool.terminationStatus, 0)
        XCTAssertGreaterThan(text.utf8.count, 4 << 16, "more than four 64 KiB blocks")
        XCTAssertEqual(try decompress(plain + ".lz4"), text)
    }

    func testABrokenOrOversizedFrameIsAClearError() throws {
        let cut = write("x.lz4", Array(Self.frameWithChecksums.prefix(40)))
        assertNookError(try decompress(cut)) { assertContains($0.message, "'\(cut)'") }
        let plain = write("plain.lz4", Array("Package: x\n".utf8))
        assertNookError(try decompress(plain)) { assertContains($0.message, "'\(plain)' is not lz4-compressed data") }
        let big = write("big.lz4", Self.frameWithContentSize)
        assertNookError(try decompress(big, limit: 100)) { assertContains($0.message, "'\(big)': larger than 100 bytes, the limit for a test list") }
        let fifo = tmp.path + "/fifo.lz4"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertNookError(try decompress(fifo)) { assertContains($0.message, "not a regular file") }
    }

    func testListNamesTakenApart() throws {
        let l = try XCTUnwrap(DebianArchive.ListName("deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4"))
        XCTAssertEqual([l.suite, l.codename, l.architecture, l.compression], ["bookworm-security", "bookworm", "amd64", "lz4"])
        let p = try XCTUnwrap(DebianArchive.ListName("mirror_debian_dists_trixie_main_binary-all_Packages"))
        XCTAssertEqual([p.suite, p.codename, p.architecture, p.compression], ["trixie", "trixie", "all", ""])
        XCTAssertNil(DebianArchive.ListName("deb.debian.org_debian_dists_bookworm_InRelease"))
        XCTAssertNil(DebianArchive.ListName("deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en"))
    }

    func testTheNewestVersionOfTheReleaseAndArchitectureIsKept() throws {
        let dir = try tmp.dir("lists")
        _ = try tmp.file("lists/m_debian_dists_bookworm_main_binary-amd64_Packages",
                         "Package: libc6\nArchitecture: amd64\nVersion: 2.36-9+deb12u7\n\nPackage: other\nVersion: 9\n\nPackage: zlib1g\nVersion: 1:1.2.13.dfsg-1\n")
        _ = try tmp.file("lists/m_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
                         "Package: libc6\nVersion: 2.36-9+deb12u10\n\nPackage: libc6\nVersion: 2.36-9+deb12u9\n")
        _ = try tmp.file("lists/m_debian_dists_trixie_main_binary-amd64_Packages", "Package: libc6\nVersion: 2.41-12\n")
        _ = try tmp.file("lists/m_debian_dists_bookworm_main_binary-arm64_Packages", "Package: libc6\nVersion: 2.99\n")
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/m_debian_dists_bookworm-updates_main_binary-amd64_Packages.lz4",
                                                     contents: Data(Self.frameWithChecksums)))
        _ = try tmp.file("lists/m_debian_dists_bookworm-backports_main_binary-amd64_Packages.xz", "not read")
        let archive = try DebianArchive.read(directory: dir, codename: "bookworm", architecture: "amd64", wanted: ["libc6", "zlib1g"])
        XCTAssertEqual(archive.newest["libc6"]?.description, "2.36-9+deb12u10", "the newest across bookworm's suites, not trixie's or arm64's")
        XCTAssertEqual(archive.newest["zlib1g"]?.description, "1:1.2.13.dfsg-1")
        XCTAssertNil(archive.newest["other"], "only the image's packages are kept")
        XCTAssertEqual(archive.read.count, 3)
        XCTAssertEqual(archive.skipped.count, 1)
        assertContains(archive.skipped[0], "compressed with xz")
        XCTAssertEqual(archive.suites, ["bookworm", "bookworm-security", "bookworm-updates", "bookworm-backports", "trixie"])
    }

    func testCreatedTimesAsBuildersWriteThem() throws {
        XCTAssertEqual(CreatedTime("2024-01-01T00:00:00Z")?.seconds, 1_704_067_200)
        XCTAssertEqual(CreatedTime("2024-01-01T02:00:00.123456789+02:00")?.seconds, 1_704_067_200)
        XCTAssertEqual(CreatedTime("2023-12-31T23:30:00-01:00")?.day, "2024-01-01")
        XCTAssertEqual(CreatedTime("2024-01-01T00:00:00Z")?.days(before: 1_704_067_200 + 10 * 86400 + 5), 10)
        XCTAssertEqual(CreatedTime("2024-01-01T00:00:00Z")?.days(before: 0), 0, "a date in the future is 0 days old")
        for bad in ["", "yesterday", "2024-01-01", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00"] {
            XCTAssertNil(CreatedTime(bad), bad)
        }
    }
}
