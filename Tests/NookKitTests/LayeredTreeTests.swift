import XCTest
import Foundation
import Glibc
import NookCore
@testable import NookImages
@testable import NookKernel

/// Reading an image's files through its unpacked layers as overlayfs shows
/// them: whiteouts (character devices 0/0), opaque directories (xattr
/// user.overlay.opaque=y) and symlinks resolved inside the image.
final class LayeredTreeTests: XCTestCase {
    var tmp: TempDir!
    override func setUpWithError() throws { tmp = try TempDir("nook-layers") }
    override func tearDown() { tmp.remove() }

    /// Makes `layer/path` with `text`, creating the directories on the way.
    func put(_ layer: String, _ path: String, _ text: String) throws {
        let full = tmp.path + "/" + layer + path
        try FileManager.default.createDirectory(atPath: String(full[..<full.lastIndex(of: "/")!]), withIntermediateDirectories: true)
        try HostPath.writeText(full, text, create: true)
    }

    func mkdirs(_ layer: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: tmp.path + "/" + layer + path, withIntermediateDirectories: true)
    }

    func whiteout(_ layer: String, _ path: String) throws {
        guard mknod(tmp.path + "/" + layer + path, S_IFCHR | 0o000, 0) == 0 else {
            throw XCTSkip("cannot make a whiteout (character device 0/0) here: \(String(cString: strerror(errno)))")
        }
    }

    func opaque(_ layer: String, _ path: String) throws {
        // Python's os.setxattr: Swift does not import <sys/xattr.h>.
        let set = Process()
        set.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        set.arguments = ["-c", "import os, sys; os.setxattr(sys.argv[1], 'user.overlay.opaque', b'y', follow_symlinks=False)",
                         tmp.path + "/" + layer + path]
        try set.run()
        set.waitUntilExit()
        guard set.terminationStatus == 0 else { throw XCTSkip("no user xattrs on \(tmp.path)") }
    }

    func tree(_ names: [String]) -> LayeredTree { LayeredTree(bottomFirst: names.map { tmp.path + "/" + $0 }) }

    func read(_ tree: LayeredTree, _ path: String) throws -> String? {
        try tree.readFile(path, as: .osRelease).map { String(decoding: $0, as: UTF8.self) }
    }

    func testTheTopmostLayerWinsAndLowerFilesShowThrough() throws {
        try put("l1", "/etc/os-release", "old")
        try put("l1", "/etc/hostname", "base")
        try put("l2", "/etc/os-release", "new")
        let t = tree(["l1", "l2"])
        XCTAssertEqual(try read(t, "/etc/os-release"), "new")
        XCTAssertEqual(try read(t, "/etc/hostname"), "base", "a directory in both layers shows the entries of both")
        XCTAssertNil(try read(t, "/etc/missing"))
    }

    func testAWhiteoutHidesTheFileAndADirectoryBelow() throws {
        try put("l1", "/var/lib/dpkg/status", "Package: a")
        try put("l1", "/etc/os-release", "base")
        try mkdirs("l2", "/var/lib")
        try whiteout("l2", "/var/lib/dpkg")
        try mkdirs("l2", "/etc")
        try whiteout("l2", "/etc/os-release")
        let t = tree(["l1", "l2"])
        XCTAssertNil(try read(t, "/var/lib/dpkg/status"), "the whited-out directory hides what was in it")
        XCTAssertNil(try read(t, "/etc/os-release"))
        // A third layer brings the directory back, empty but for its own entries.
        try put("l3", "/var/lib/dpkg/available", "x")
        let t3 = tree(["l1", "l2", "l3"])
        XCTAssertNil(try read(t3, "/var/lib/dpkg/status"), "below a whiteout, a recreated directory does not show the old entries")
        XCTAssertEqual(try read(t3, "/var/lib/dpkg/available"), "x")
    }

    func testAnOpaqueDirectoryHidesTheLowerLayersEntries() throws {
        try put("l1", "/etc/os-release", "base")
        try put("l1", "/etc/keep/file", "kept")
        try put("l2", "/etc/issue", "mine")
        try opaque("l2", "/etc")
        try put("l3", "/etc/motd", "top")
        let t = tree(["l1", "l2", "l3"])
        XCTAssertNil(try read(t, "/etc/os-release"), "opaque in l2: l1's /etc is not seen")
        XCTAssertNil(try read(t, "/etc/keep/file"))
        XCTAssertEqual(try read(t, "/etc/issue"), "mine")
        XCTAssertEqual(try read(t, "/etc/motd"), "top", "layers above the opaque one still count")
    }

    func testAFileInAnUpperLayerReplacesADirectoryBelow() throws {
        try put("l1", "/etc/os-release/inner", "dir below")
        try put("l2", "/etc/os-release", "file above")
        XCTAssertEqual(try read(tree(["l1", "l2"]), "/etc/os-release"), "file above")
        XCTAssertNil(try read(tree(["l1", "l2"]), "/etc/os-release/inner"))
    }

    func testSymlinksResolveInsideTheImageAcrossLayers() throws {
        // Debian's own: /etc/os-release -> ../usr/lib/os-release, the target in another layer.
        try put("l1", "/usr/lib/os-release", "PRETTY_NAME=\"Debian\"")
        try mkdirs("l2", "/etc")
        XCTAssertEqual(symlink("../usr/lib/os-release", tmp.path + "/l2/etc/os-release"), 0)
        // An absolute link and one that climbs above the root: both stay in the image.
        try mkdirs("l2", "/var/lib/dpkg")
        XCTAssertEqual(symlink("/usr/lib/os-release", tmp.path + "/l2/var/lib/dpkg/abs"), 0)
        XCTAssertEqual(symlink("../../../../../../../../usr/lib/os-release", tmp.path + "/l2/var/lib/dpkg/climb"), 0)
        // A directory symlink on the way.
        XCTAssertEqual(symlink("usr/lib", tmp.path + "/l2/lib"), 0)
        let t = tree(["l1", "l2"])
        for path in ["/etc/os-release", "/var/lib/dpkg/abs", "/var/lib/dpkg/climb", "/lib/os-release", "/etc/../usr/./lib/os-release"] {
            XCTAssertEqual(try read(t, path), "PRETTY_NAME=\"Debian\"", path)
        }
        // A link to a host file the image lacks: absent, never the host's.
        XCTAssertEqual(symlink("/etc/hostname", tmp.path + "/l2/var/lib/dpkg/status"), 0)
        XCTAssertNil(try read(t, "/var/lib/dpkg/status"))
    }

    func testALinkLoopAndAnOversizedFileAreClearErrors() throws {
        try mkdirs("l1", "/etc")
        XCTAssertEqual(symlink("b", tmp.path + "/l1/etc/a"), 0)
        XCTAssertEqual(symlink("a", tmp.path + "/l1/etc/b"), 0)
        assertNookError(try tree(["l1"]).readFile("/etc/a", as: .osRelease)) { assertContains($0.message, "symbolic links on the way") }
        try put("l1", "/etc/big", String(repeating: "x", count: 100))
        assertNookError(try tree(["l1"]).readFile("/etc/big", as: FileKind(name: "test", limit: 10))) { assertContains($0.message, "/etc/big in the image") }
    }
}
