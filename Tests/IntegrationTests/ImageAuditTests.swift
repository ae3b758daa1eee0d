import Foundation
import Glibc
import NookImages
import XCTest

/// `nook audit IMAGE` (threat 6, stale images) on an image in the user's
/// store: built here by Tests/images/oci-layout.py from a hand-written dpkg
/// status and os-release (fast, no mmdebstrap), its blobs put in the store
/// and its layers unpacked in overlayfs's format, compared with apt lists
/// written here (never the host's: the result must not depend on them).
final class ImageAuditTests: XCTestCase {
    var h: Harness { Harness.shared }
    static let name = "docker.io/library/stale:1"
    static let created = "2024-01-01T00:00:00Z"

    /// The scratch directory, the store under it, and the image's record.
    func makeImage() throws -> (dir: String, store: ImageStore, record: ImageRecord) {
        let dir = try h.scratch("image-audit")
        // Layer 1: a Debian base. os-release is Debian's symlink into /usr/lib.
        let l1 = dir + "/l1", l2 = dir + "/l2"
        try FileManager.default.createDirectory(atPath: l1 + "/usr/lib", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: l1 + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: l1 + "/var/lib/dpkg", withIntermediateDirectories: true)
        try "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"
            .write(toFile: l1 + "/usr/lib/os-release", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: l1 + "/etc/os-release", withDestinationPath: "../usr/lib/os-release")
        try Self.status(["libc6": "2.36-9", "zlib1g": "1:1.2.13.dfsg-1", "gone-later": "1.0"])
            .write(toFile: l1 + "/var/lib/dpkg/status", atomically: false, encoding: .utf8)
        // Layer 2: an upgrade layer that rewrote the database (gone-later removed, openssl added).
        try FileManager.default.createDirectory(atPath: l2 + "/var/lib/dpkg", withIntermediateDirectories: true)
        try Self.status(["libc6": "2.36-9", "zlib1g": "1:1.2.13.dfsg-1", "openssl": "3.0.11-1~deb12u2", "base-files": "12.4+deb12u5"])
            .write(toFile: l2 + "/var/lib/dpkg/status", atomically: false, encoding: .utf8)
        let layout = dir + "/layout"
        let built = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "1",
                                       "--layer", l1, "--layer", l2, "--owner", "0:0", "--created", Self.created])
        XCTAssertEqual(built.status, 0, built.stderr)
        // Into the store as `nook image import` would put it (blobs verified, a record),
        // Its layers are not unpacked: nook audit unpacks them at first use, as nook run does.
        let store = ImageStore(root: dir + "/data/nook")
        try store.prepare()
        let manifestDigest = try Digest(built.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        func blob(_ digest: Digest) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.hex))) }
        let manifestBytes = try blob(manifestDigest)
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        try store.putBlob(manifestBytes, expected: manifestDigest)
        let configBytes = try blob(manifest.config.digest)
        try store.putBlob(configBytes, expected: manifest.config.digest)
        let config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(configBytes))
        for layer in manifest.layers { try store.putBlob(try blob(layer.digest), expected: layer.digest) }
        let record = ImageRecord(manifest: manifestDigest, config: manifest.config.digest, names: [Self.name],
                                 diffIDs: config.rootfs.diffIDs, size: 0)
        try ImageRecords(store: store).add(record)
        // The host's archive, as apt lists: bookworm and bookworm-security.
        try FileManager.default.createDirectory(atPath: dir + "/lists", withIntermediateDirectories: true)
        try "Package: libc6\nVersion: 2.36-9+deb12u10\n\nPackage: zlib1g\nVersion: 1:1.2.13.dfsg-1\n\nPackage: base-files\nVersion: 12.4+deb12u5\n\nPackage: openssl\nVersion: 3.0.11-1~deb12u2\n"
            .write(toFile: dir + "/lists/mirror_debian_dists_bookworm_main_binary-amd64_Packages", atomically: false, encoding: .utf8)
        try "Package: openssl\nVersion: 3.0.15-1~deb12u1\n"
            .write(toFile: dir + "/lists/mirror_debian-security_dists_bookworm-security_main_binary-amd64_Packages", atomically: false, encoding: .utf8)
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", dir + "/data", dir + "/lists"]) }
        return (dir, store, record)
    }

    static func status(_ packages: [String: String]) -> String {
        packages.sorted { $0.key < $1.key }.map { "Package: \($0.key)\nStatus: install ok installed\nVersion: \($0.value)\n\n" }.joined()
    }

    func audit(_ dir: String, _ args: [String]) throws -> Harness.Result {
        try h.run(["audit", "--apt-lists", dir + "/lists"] + args, env: ["XDG_DATA_HOME": dir + "/data"])
    }

    func testAuditOfAStoredImageNamesItsAgeSystemAndStalePackages() throws {
        let (dir, _, record) = try makeImage()
        let before = Int(time(nil))
        let r = try audit(dir, ["--format", "json", Self.name])
        let after = Int(time(nil))
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(json["digest"] as? String, record.manifest.description)
        XCTAssertEqual(json["created"] as? String, Self.created)
        XCTAssertEqual(json["createdDay"] as? String, "2024-01-01")
        // The age against the clock of this run, whatever day it is.
        let age = try XCTUnwrap(json["ageDays"] as? Int)
        XCTAssertTrue(((before - 1_704_067_200) / 86400...(after - 1_704_067_200) / 86400).contains(age), "\(age)")
        XCTAssertEqual(json["system"] as? String, "Debian GNU/Linux 12 (bookworm)", "read through the image's own symlink")
        XCTAssertEqual(json["codename"] as? String, "bookworm")
        let packages = (json["packages"] as? [[String: String]] ?? []).compactMap { $0["name"] }
        XCTAssertEqual(packages, ["base-files", "libc6", "openssl", "zlib1g"], "the top layer's database, not the lower one's")
        XCTAssertEqual(json["stale"] as? [[String: String]], [
            ["name": "libc6", "version": "2.36-9", "archive": "2.36-9+deb12u10"],
            ["name": "openssl", "version": "3.0.11-1~deb12u2", "archive": "3.0.15-1~deb12u1"],
        ], "older than the newest of bookworm and bookworm-security, by dpkg's rules")

        let text = try audit(dir, [Self.name])
        XCTAssertEqual(text.status, 0, text.stderr)
        assertContains(text.stdout, "created: 2024-01-01, \(age) days ago")
        assertContains(text.stdout, "digest: \(record.manifest)")
        assertContains(text.stdout, "pin it: docker.io/library/stale@\(record.manifest)")
        assertContains(text.stdout, "system: Debian GNU/Linux 12 (bookworm) [debian 12, bookworm]")
        assertContains(text.stdout, "stale packages (2)")
        assertContains(text.stdout, "  libc6 2.36-9 < 2.36-9+deb12u10")

        // The same image by its digest pin and by a prefix of its ID; --strict fails on it.
        for ref in ["docker.io/library/stale@\(record.manifest)", String(record.config.hex.prefix(12))] {
            let byRef = try audit(dir, ["--format", "json", ref])
            XCTAssertEqual(byRef.status, 0, byRef.stderr)
            assertContains(byRef.stdout, "\"digest\" : \"\(record.manifest)\"")
        }
        let strict = try audit(dir, ["--strict", Self.name])
        XCTAssertEqual(strict.status, 1)
        assertContains(strict.stderr, "audit --strict: 2 stale package(s)")
    }

    func testWithoutListsForItsReleaseTheAuditSaysItCannotTell() throws {
        let (dir, _, _) = try makeImage()
        let r = try h.run(["audit", "--apt-lists", dir + "/data", Self.name], env: ["XDG_DATA_HOME": dir + "/data"])
        XCTAssertEqual(r.status, 0, r.stderr)
        assertContains(r.stdout, "stale packages: cannot tell")
        assertContains(r.stdout, "no apt package list for bookworm (amd64)")
    }

    func testTheFirstAuditUnpacksTheLayersAndAnUnknownImageIsAClearError() throws {
        let (dir, store, record) = try makeImage()
        XCTAssertFalse(LayerStore(store: store).isUnpacked(record.diffIDs[0]))
        let r = try audit(dir, [Self.name])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(record.diffIDs.allSatisfy(LayerStore(store: store).isUnpacked))
        let unknown = try audit(dir, ["docker.io/library/nothing:1"])
        XCTAssertEqual(unknown.status, 125)
        assertContains(unknown.stderr, "neither a directory nor an image in the store")
    }
}

private func assertContains(_ haystack: String, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(haystack.contains(needle), "'\(haystack)' does not contain '\(needle)'", file: file, line: line)
}
