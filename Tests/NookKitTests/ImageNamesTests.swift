import XCTest
@testable import NookImages

/// How the store reads the names it records.
final class ImageNamesTests: XCTestCase {
    func testRepositoryAndTagOfEveryFormTheStoreHolds() {
        XCTAssertEqual(ImageRecord.repository(of: "docker.io/library/busybox:latest"), "docker.io/library/busybox")
        XCTAssertEqual(ImageRecord.repository(of: "127.0.0.1:5000/a/b:1"), "127.0.0.1:5000/a/b", "a port's ':' is not a tag's")
        XCTAssertEqual(ImageRecord.repository(of: "127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b")
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        XCTAssertEqual(ImageRecord.repository(of: "localhost/p@" + digest), "localhost/p")
        // What an older nook recorded when given NAME:TAG@DIGEST.
        XCTAssertEqual(ImageRecord.repository(of: "localhost/p:7@" + digest), "localhost/p")
        XCTAssertEqual(ImageRecord.tag(of: "localhost/p:7"), "7")
        XCTAssertNil(ImageRecord.tag(of: "localhost/p@" + digest))
    }

    func testAPinIsRecordedWithoutItsTagAndIDFormsAreNoNames() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        XCTAssertEqual(try ImageReference(parsing: "localhost/p:7@" + digest).recordedName, "localhost/p@" + digest)
        XCTAssertEqual(try ImageReference(parsing: "busybox").recordedName, "docker.io/library/busybox:latest")
        let hex = String(repeating: "0f", count: 32)
        XCTAssertThrowsError(try ImageReference(parsing: hex))
        XCTAssertThrowsError(try ImageReference(parsing: "sha256:" + hex))
        // docker pulls these: only a whole reference of 64 hex digits is an ID's form.
        XCTAssertNoThrow(try ImageReference(parsing: "ghcr.io/org/" + hex + ":v1"))
        XCTAssertNoThrow(try ImageReference(parsing: "localhost/" + hex))
    }
}
