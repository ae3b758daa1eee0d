import Foundation
import XCTest

/// `nook audit ROOTFS` (threat 6: stale and risky images), run as the test user.
final class AuditTests: XCTestCase {
    var h: Harness { Harness.shared }

    func testAuditFindsSetuidFilesDevicesWorldWritablePathsAndPackages() throws {
        let root = try h.scratch("audit") + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        _ = try Harness.shell(["/bin/cp", root + "/bin/busybox", root + "/bin/suid-helper"])
        XCTAssertEqual(chmod(root + "/bin/suid-helper", 0o4755), 0)
        try FileManager.default.createDirectory(atPath: root + "/srv/open", withIntermediateDirectories: true)
        XCTAssertEqual(chmod(root + "/srv/open", 0o777), 0)
        try FileManager.default.createDirectory(atPath: root + "/var/lib/dpkg", withIntermediateDirectories: true)
        try """
        Package: openssl
        Status: install ok installed
        Version: 1.1.1n-0+deb11u3

        Package: removed-thing
        Status: deinstall ok config-files
        Version: 1.0

        """.write(toFile: root + "/var/lib/dpkg/status", atomically: true, encoding: .utf8)
        var hasDevice = false
        if h.isRoot { hasDevice = mknod(root + "/dev/sda", S_IFBLK | 0o600, (8 << 8) | 0) == 0 }
        let r = try h.run(["audit", "--format", "json", root])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["setuid"] as? [String], ["/bin/suid-helper"])
        XCTAssertTrue((json["worldWritable"] as? [String] ?? []).contains("/srv/open"))
        XCTAssertFalse((json["worldWritable"] as? [String] ?? []).contains("/tmp"), "sticky /tmp is fine")
        let packages = json["packages"] as? [[String: String]] ?? []
        XCTAssertEqual(packages, [["name": "openssl", "version": "1.1.1n-0+deb11u3"]], "only installed packages")
        if hasDevice { XCTAssertEqual(json["devices"] as? [String], ["/dev/sda"]) }
        let strict = try h.run(["audit", "--strict", root])
        XCTAssertEqual(strict.status, 1, "--strict fails on setuid files and devices")
        XCTAssertTrue(strict.stderr.contains("audit --strict: 1 setuid file(s)"), strict.stderr)
        let clean = try h.run(["audit", "--strict", h.rootfs])
        XCTAssertEqual(clean.status, 0, "the plain busybox rootfs has nothing to flag: \(clean.stdout)")
        // Its os-release has NAME and ID, no PRETTY_NAME: NAME names the system (os-release(5)).
        XCTAssertTrue(clean.stdout.contains("system: Nook busybox\n"), clean.stdout)
    }

    func testAuditReadsTheRootfsOwnFilesAndNamesWhatItCouldNotRead() throws {
        let root = try h.scratch("audit-inroot") + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        // An absolute symlink in the image: followed on the host it would name
        // the host's file (absent there); resolved in the rootfs it names the
        // image's own database.
        try FileManager.default.createDirectory(atPath: root + "/var/lib/dpkg", withIntermediateDirectories: true)
        try "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.11.dfsg-2\n\n"
            .write(toFile: root + "/var/lib/dpkg/status.image", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/var/lib/dpkg/status", withDestinationPath: "/var/lib/dpkg/status.image")
        try FileManager.default.createDirectory(atPath: root + "/usr/lib", withIntermediateDirectories: true)
        try "NAME=\"Old\"\nPRETTY_NAME=\"Old Linux 1.0 (ancient)\"\n".write(toFile: root + "/usr/lib/os-release", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: root + "/etc/os-release")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/os-release", withDestinationPath: "../usr/lib/os-release")
        try FileManager.default.createDirectory(atPath: root + "/root/secret", withIntermediateDirectories: true)
        XCTAssertEqual(chmod(root + "/root", 0o000), 0, "mode 000: the test user may not read it")
        defer { _ = chmod(root + "/root", 0o755) }

        let r = try h.run(["audit", "--format", "json", root])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["packages"] as? [[String: String]], [["name": "zlib1g", "version": "1:1.2.11.dfsg-2"]])
        XCTAssertEqual(json["system"] as? String, "Old Linux 1.0 (ancient)")
        XCTAssertEqual(json["unreadable"] as? [String], ["/root"])
        let text = try h.run(["audit", root])
        XCTAssertTrue(text.stdout.contains("unreadable directories (1)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("system: Old Linux 1.0 (ancient)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("  zlib1g 1:1.2.11.dfsg-2"), text.stdout)
    }
}
