import Foundation
import XCTest

/// Images in the store, as the test users: import (OCI layout, oci-archive,
/// docker-archive made by skopeo), layers unpacked inside the user namespace
/// (owners shifted, whiteouts, hostile tars), export, list, rmi and prune.
/// Every image is built here by Tests/images/oci-layout.py or Python's tarfile.
final class ImageStoreTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// A store of its own (XDG_DATA_HOME) for one test and one user.
    struct Store {
        let h: Harness
        let data: String
        let who: Harness.User
        var root: String { data + "/nook" }

        @discardableResult
        func nook(_ args: [String]) throws -> Harness.Result {
            try h.run(args, as: who, env: ["XDG_DATA_HOME": data])
        }

        /// Paths under blobs/ and layers/ (what rmi and prune must leave empty).
        func contents() -> [String] {
            ["blobs/sha256", "layers"].flatMap { dir in
                ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + dir)) ?? []).map { dir + "/" + $0 }
            }.sorted()
        }
    }

    func store(_ who: Harness.User? = nil) throws -> Store {
        let user = who ?? h.user
        let dir = try h.scratch("store")
        if h.isRoot { chown(dir, user.uid, user.gid) }
        return Store(h: h, data: dir, who: user)
    }

    /// Runs Tests/images/oci-layout.py; returns the layout directory.
    func layout(_ name: String, _ args: [String]) throws -> String {
        let out = try h.scratch(name) + "/layout"
        let r = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", out] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return out
    }

    /// A tar written by Python's tarfile from a list of entries (hostile ones included).
    /// Each entry: [name, type, extra]: type f (content), d, l (symlink to extra), h (hard link to extra), c/b (device "major,minor"), p (fifo).
    func tar(_ entries: [[String]], owner: (Int, Int) = (0, 0)) throws -> String {
        let path = try h.scratch("tar") + "/layer.tar"
        let script = """
        import io, json, sys, tarfile
        entries = json.loads(sys.argv[2])
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
            for name, kind, extra in entries:
                i = tarfile.TarInfo(name)
                i.uid, i.gid, i.mode, i.mtime = \(owner.0), \(owner.1), 0o755 if kind == "d" else 0o644, 0
                data = None
                if kind == "f": i.type = tarfile.REGTYPE; data = extra.encode(); i.size = len(data)
                elif kind == "d": i.type = tarfile.DIRTYPE
                elif kind == "l": i.type = tarfile.SYMTYPE; i.linkname = extra
                elif kind == "h": i.type = tarfile.LNKTYPE; i.linkname = extra
                elif kind in "cb":
                    i.type = tarfile.CHRTYPE if kind == "c" else tarfile.BLKTYPE
                    i.devmajor, i.devminor = (int(x) for x in extra.split(","))
                elif kind == "p": i.type = tarfile.FIFOTYPE
                t.addfile(i, io.BytesIO(data) if data is not None else None)
        """
        let json = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
        let r = try Harness.shell(["/usr/bin/python3", "-c", script, path, json])
        XCTAssertEqual(r.status, 0, r.stderr)
        return path
    }

    /// An image of one layer from a hand-made tar, imported as NAME; returns the store.
    func importTar(_ entries: [[String]], name: String, into s: Store) throws {
        let dir = try layout("img", ["--tag", "v1", "--layer-tar", try tar(entries)])
        let r = try s.nook(["image", "import", dir, name])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testUnpackShiftsOwnersIntoTheSubIDRangeAndKeepsModes() throws {
        let src = try h.scratch("src")
        try FileManager.default.createDirectory(atPath: src + "/home/app", withIntermediateDirectories: true)
        try "x".write(toFile: src + "/home/app/file", atomically: false, encoding: .utf8)
        try "s".write(toFile: src + "/suid", atomically: false, encoding: .utf8)
        chmod(src + "/suid", 0o4755)
        let dir = try layout("owned", ["--tag", "v1", "--layer", src, "--owner", "1000:1000"])
        let s = try store()
        let imported = try s.nook(["image", "import", dir, "localhost/owned:1"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertEqual(imported.stdout, "Loaded image: localhost/owned:1\n")
        let unpacked = try s.nook(["image", "unpack", "localhost/owned:1"])
        XCTAssertEqual(unpacked.status, 0, unpacked.stderr)
        let layer = unpacked.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(layer.hasPrefix(s.root + "/layers/"), layer)
        let range = try XCTUnwrap(Harness.subordinateRanges(of: h.user))
        // nook run's mapping: 0 -> the user, 1.. -> the range, so 1000 -> start + 999.
        var st = stat()
        XCTAssertEqual(lstat(layer + "/home/app/file", &st), 0)
        XCTAssertEqual(st.st_uid, range.uids.start + 999)
        XCTAssertEqual(st.st_gid, range.gids.start + 999)
        XCTAssertEqual(lstat(layer + "/suid", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o4755, "the setuid bit is kept (chown before chmod)")
        // Inside `nook unshare` the same file is 1000's, as the image says.
        let inside = try h.runAsUser(["/usr/bin/env", "XDG_DATA_HOME=" + s.data, h.nook, "unshare", "--", "stat", "-c", "%u:%g", layer + "/home/app/file"])
        XCTAssertEqual(inside.stdout, "1000:1000\n", inside.stderr)
        // A second unpack finds it done.
        let again = try s.nook(["image", "unpack", "localhost/owned:1"])
        XCTAssertEqual(again.stdout, unpacked.stdout)
    }

    func testWithoutSubIDsFilesAreTheUsersWithOneNote() throws {
        let src = try h.scratch("src")
        try "x".write(toFile: src + "/file", atomically: false, encoding: .utf8)
        let dir = try layout("owned", ["--tag", "v1", "--layer", src, "--owner", "1000:1000"])
        let s = try store(Harness.withoutRange)
        XCTAssertEqual(try s.nook(["image", "import", dir, "localhost/owned:1"]).status, 0)
        let r = try s.nook(["image", "unpack", "localhost/owned:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "no sub-id range").count - 1, 1, r.stderr)
        var st = stat()
        XCTAssertEqual(lstat(r.stdout.trimmingCharacters(in: .newlines) + "/file", &st), 0)
        XCTAssertEqual(st.st_uid, Harness.withoutRange.uid)
    }

    func testUnshareIsRootOfTheContainersNamespaceWithTheCwdKept() throws {
        let dir = try h.scratch("cwd")
        let r = try h.runAsUser(["/bin/sh", "-c", "cd \(dir) && \(h.nook) unshare -- sh -c 'id -u; pwd; cat /proc/self/uid_map'"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        let range = try XCTUnwrap(Harness.subordinateRanges(of: h.user))
        XCTAssertEqual(lines, ["0", Substring(dir), "0 \(h.user.uid) 1", "1 \(range.uids.start) \(range.uids.count)"].map(String.init))
        let code = try h.runAsUser([h.nook, "unshare", "--", "sh", "-c", "exit 7"])
        XCTAssertEqual(code.status, 7, "the command's exit code is nook's")
    }

    func testDotDotEntriesAreRefusedAndNothingIsLeft() throws {
        let s = try store()
        let outside = try h.scratch("outside")
        try importTar([["a", "d", ""], ["a/../../escaped", "f", "evil"]], name: "localhost/dotdot:1", into: s)
        let r = try s.nook(["image", "unpack", "localhost/dotdot:1"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("climbs out of it with '..'"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root + "/layers"), [], "no tree, no temporary left")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.root + "/escaped"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [])
    }

    /// `.wh...` (a whiteout of "..") and `a/.wh..` (of "."): clearing what they
    /// name emptied the whole layers/ directory, other images' layers included
    /// (the review's finding). Refused now, and the other image's layer stays.
    func testWhiteoutsOfDotAndDotDotAreRefusedAndOtherLayersStay() throws {
        let s = try store()
        try importTar([["bin", "d", ""], ["bin/keep", "f", "kept"]], name: "localhost/other:1", into: s)
        XCTAssertEqual(try s.nook(["image", "unpack", "localhost/other:1"]).status, 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: s.root + "/layers").sorted()
        XCTAssertEqual(before.count, 1)
        for (i, entries) in [[["x", "f", "x"], [".wh...", "f", ""]], [["a", "d", ""], ["a/f", "f", "x"], ["a/.wh..", "f", ""]]].enumerated() {
            try importTar(entries, name: "localhost/wh\(i):1", into: s)
            let r = try s.nook(["image", "unpack", "localhost/wh\(i):1"])
            XCTAssertEqual(r.status, 125, r.stderr)
            XCTAssertTrue(r.stderr.contains("a whiteout that names"), r.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root + "/layers").sorted(), before)
            XCTAssertTrue(FileManager.default.fileExists(atPath: s.root + "/layers/" + before[0] + "/bin/keep"))
        }
    }

    /// `a/.wh..wh..opq/x` or `a/.wh.b/x`: a marker used as a directory refuses the layer;
    /// under aufs' own `.wh..wh.plnk/` nothing is content and nothing is made.
    func testWhiteoutMarkersAreNeverDirectories() throws {
        let s = try store()
        for (i, marker) in [".wh..wh..opq", ".wh.b"].enumerated() {
            try importTar([["a", "d", ""], ["a/" + marker + "/x", "f", "x"]], name: "localhost/marker\(i):1", into: s)
            let r = try s.nook(["image", "unpack", "localhost/marker\(i):1"])
            XCTAssertEqual(r.status, 125, r.stdout)
            XCTAssertTrue(r.stderr.contains("'\(marker)' is a whiteout marker used as a directory"), r.stderr)
        }
        try importTar([["a", "d", ""], ["a/f", "f", "x"], [".wh..wh.plnk/1.2", "f", "aufs"]], name: "localhost/aufs:1", into: s)
        let r = try s.nook(["image", "unpack", "localhost/aufs:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let layer = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layer).sorted(), ["a"], "aufs' metadata is not content")
    }

    func testSymlinkEscapesStayInsideTheLayer() throws {
        let s = try store()
        let outside = try h.scratch("outside")
        // x -> the host's directory (absolute) and x/evil; y -> / and y/<that directory>/evil2;
        // a hard link to a host file by absolute and by ../ path.
        try "secret".write(toFile: outside + "/secret", atomically: false, encoding: .utf8)
        if h.isRoot { chown(outside + "/secret", h.user.uid, h.user.gid) }
        try importTar([["x", "l", outside], ["x/evil", "f", "1"], ["y", "l", "/"], ["y" + outside + "/evil2", "f", "2"]],
                      name: "localhost/symlinks:1", into: s)
        let r = try s.nook(["image", "unpack", "localhost/symlinks:1"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["secret"], "nothing written through a link: \(r.stderr)")
        // Refused (x resolves to a directory the layer does not have) or contained: never the host.
        if r.status == 0 { XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/evil")) }
        for (target, name) in [(outside + "/secret", "localhost/hardabs:1"), ("../../../../../../../" + outside + "/secret", "localhost/hardrel:1")] {
            try importTar([["f", "f", "x"], ["link", "h", target]], name: name, into: s)
            let hard = try s.nook(["image", "unpack", name])
            XCTAssertEqual(hard.status, 125, hard.stdout)
            XCTAssertTrue(hard.stderr.contains("hard link") || hard.stderr.contains("climbs out"), hard.stderr)
        }
        var st = stat()
        XCTAssertEqual(lstat(outside + "/secret", &st), 0)
        XCTAssertEqual(st.st_nlink, 1, "no link to the host's file was made")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root + "/layers").filter { $0.contains(".tmp-") }, [])
    }

    func testWhiteoutsAndOpaqueDirectoriesAcrossThreeLayersInARealOverlay() throws {
        let l1 = try tar([["a", "d", ""], ["a/keep", "f", "k"], ["a/gone", "f", "g"], ["d", "d", ""], ["d/old", "f", "o"], ["top", "f", "t"]])
        let l2 = try tar([["a", "d", ""], ["a/.wh.gone", "f", ""], ["d", "d", ""], ["d/.wh..wh..opq", "f", ""], ["d/new", "f", "n"]])
        let l3 = try tar([[".wh.top", "f", ""], ["a", "d", ""], ["a/added", "f", "a"]])
        let dir = try layout("wh", ["--tag", "v1", "--layer-tar", l1, "--layer-tar", l2, "--layer-tar", l3])
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", dir, "localhost/wh:1"]).status, 0)
        let r = try s.nook(["image", "unpack", "localhost/wh:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let layers = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(layers.count, 3)
        var st = stat()
        XCTAssertEqual(lstat(layers[1] + "/a/gone", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "a whiteout is a 0/0 character device")
        XCTAssertEqual(st.st_rdev, 0)
        let mount = try h.scratch("merged")
        let lower = layers.reversed().joined(separator: ":")
        let merged = try h.runAsUser([h.nook, "unshare", "--", "sh", "-c",
                                      "mount -t overlay overlay -o userxattr,lowerdir=\(lower) \(mount) && cd \(mount) && find . | sort"])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(merged.stdout.split(separator: "\n"), [".", "./a", "./a/added", "./a/keep", "./d", "./d/new"])
    }

    func testDiffIDMismatchIsRefusedWithNothingLeft() throws {
        let src = try h.scratch("src")
        try "x".write(toFile: src + "/file", atomically: false, encoding: .utf8)
        let dir = try layout("bad", ["--tag", "v1", "--layer", src])
        // The config names another diff ID: blobs stay consistent, the layer does not match.
        let fix = """
        import hashlib, json, os, sys
        d = sys.argv[1]
        def blob(data):
            h = hashlib.sha256(data).hexdigest(); open(os.path.join(d, "blobs/sha256", h), "wb").write(data); return "sha256:" + h, len(data)
        index = json.load(open(os.path.join(d, "index.json")))
        m = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
        c = json.load(open(os.path.join(d, "blobs/sha256", m["config"]["digest"][7:])))
        c["rootfs"]["diff_ids"] = ["sha256:" + hashlib.sha256(b"another layer").hexdigest()]
        m["config"]["digest"], m["config"]["size"] = blob(json.dumps(c).encode())
        index["manifests"][0]["digest"], index["manifests"][0]["size"] = blob(json.dumps(m).encode())
        json.dump(index, open(os.path.join(d, "index.json"), "w"))
        """
        XCTAssertEqual(try Harness.shell(["/usr/bin/python3", "-c", fix, dir]).status, 0)
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", dir, "localhost/bad:1"]).status, 0)
        let r = try s.nook(["image", "unpack", "localhost/bad:1"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("not to the diff ID the image config names"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root + "/layers"), [])
    }

    func testDeviceNodesAreSkippedWithOneNoteAndFIFOsMade() throws {
        let s = try store()
        try importTar([["dev", "d", ""], ["dev/null", "c", "1,3"], ["dev/sda", "b", "8,0"], ["dev/fifo", "p", ""]],
                      name: "localhost/devices:1", into: s)
        let r = try s.nook(["image", "unpack", "localhost/devices:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "skipped 2 device nodes").count - 1, 1, r.stderr)
        let layer = r.stdout.trimmingCharacters(in: .newlines)
        var st = stat()
        XCTAssertEqual(lstat(layer + "/dev/fifo", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        XCTAssertNotEqual(lstat(layer + "/dev/null", &st), 0)
    }

    func testImportFromSkopeoOCIDirectoryDockerArchiveAndOCIArchive() throws {
        guard Harness.isInstalled("skopeo") else { throw XCTSkip("skopeo is not installed") }
        let src = try h.scratch("src")
        try FileManager.default.createDirectory(atPath: src + "/etc", withIntermediateDirectories: true)
        try "hello".write(toFile: src + "/etc/motd", atomically: false, encoding: .utf8)
        let made = try layout("skopeo", ["--tag", "v1", "--layer", src, "--config-json", #"{"Cmd":["sh"]}"#])
        let out = try h.scratch("copies")
        for target in ["oci:\(out)/dir:v1", "docker-archive:\(out)/docker.tar:localhost/sk:1", "oci-archive:\(out)/oci.tar:v1"] {
            let r = try Harness.shell(["/usr/bin/skopeo", "copy", "--quiet", "oci:\(made):v1", target])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", out])
        let s = try store()
        for (path, name) in [("\(out)/dir", "localhost/skdir:1"), ("\(out)/docker.tar", nil), ("\(out)/oci.tar", "localhost/skoci:1")] {
            let r = try s.nook(["image", "import", path] + (name.map { [$0] } ?? []))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "Loaded image: \(name ?? "localhost/sk:1")\n")
            let unpacked = try s.nook(["image", "unpack", name ?? "localhost/sk:1"])
            XCTAssertEqual(unpacked.status, 0, unpacked.stderr)
            XCTAssertEqual(try String(contentsOfFile: unpacked.stdout.trimmingCharacters(in: .newlines) + "/etc/motd", encoding: .utf8), "hello")
        }
        let inspect = try s.nook(["image", "inspect", "localhost/sk:1", "localhost/skdir:1"])
        let images = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual((images[0]["RootFS"] as? [String: Any])?["Layers"] as? [String], (images[1]["RootFS"] as? [String: Any])?["Layers"] as? [String])
        XCTAssertEqual((images[0]["Config"] as? [String: Any])?["Cmd"] as? [String], ["sh"])
        // One config under two manifests (the layout's and archive's OCI one, docker-archive's Docker one): two
        // records, one image ID, one image as podman has it. Its ID, short or whole, names it; rmi of the ID
        // removes both, once told to (-f: it has three names, as podman asks).
        let id = try XCTUnwrap(images[0]["Id"] as? String)
        let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try s.nook(["images", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(listed.filter { $0["Id"] as? String == id }.count, 2, "the imports share one config: \(listed)")
        for text in [String(id.prefix(12)), "sha256:" + id] {
            let r = try s.nook(["image", "inspect", text])
            XCTAssertEqual(r.status, 0, "\(text): \(r.stderr)")
        }
        // A digest of an image with several names removes them all too: only with -f.
        let manifest = try XCTUnwrap(listed.first { ($0["Names"] as? [String])?.contains("localhost/skdir:1") == true }?["Digest"] as? String)
        let byDigest = try s.nook(["rmi", "localhost/skdir@" + manifest])
        XCTAssertEqual(byDigest.status, 125)
        XCTAssertTrue(byDigest.stderr.contains("has 2 names") && byDigest.stderr.contains("a digest removes them all"), byDigest.stderr)
        // Exported by a pin, the layout names it by that pin (not by the image's first name).
        let pinExport = try h.scratch("pin-export") + "/skoci.tar"
        XCTAssertEqual(try s.nook(["image", "export", "localhost/skoci@" + manifest, pinExport]).status, 0)
        XCTAssertEqual(try store().nook(["image", "import", pinExport]).stdout, "Loaded image: localhost/skoci@\(manifest)\n")
        // A name may pin only the image's own digest: an import under another image's pin (given, or in the
        // layout's ref.name) would take that pin over. Refused before anything is stored.
        let otherDigest = "sha256:" + String(repeating: "ab", count: 32)
        let before = s.contents()
        let forged = try s.nook(["image", "import", "\(out)/dir", "localhost/skdir@" + otherDigest])
        XCTAssertEqual(forged.status, 125)
        XCTAssertTrue(forged.stderr.contains("pins a digest this image does not have"), forged.stderr)
        let relabelled = try h.scratch("relabelled") + "/dir"
        _ = try Harness.shell(["/bin/cp", "-r", "\(out)/dir", relabelled])
        let indexPath = relabelled + "/index.json"
        let indexText = try String(contentsOfFile: indexPath, encoding: .utf8)
        try indexText.replacingOccurrences(of: "\"v1\"", with: "\"localhost/skdir@\(otherDigest)\"").write(toFile: indexPath, atomically: false, encoding: .utf8)
        XCTAssertNotEqual(try String(contentsOfFile: indexPath, encoding: .utf8), indexText, "ref.name rewritten")
        _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", relabelled])
        let annotated = try s.nook(["image", "import", relabelled])
        XCTAssertEqual(annotated.status, 125)
        XCTAssertTrue(annotated.stderr.contains("pins a digest this image does not have"), annotated.stderr)
        XCTAssertEqual(s.contents(), before, "nothing stored")
        let asked = try s.nook(["rmi", String(id.prefix(12))])
        XCTAssertEqual(asked.status, 125)
        XCTAssertTrue(asked.stderr.contains("has 3 names") && asked.stderr.contains("nook rmi -f"), asked.stderr)
        // By one name: that record goes, the image (its ID) stays with the other.
        let one = try s.nook(["rmi", "localhost/sk:1"])
        XCTAssertEqual(one.stdout, "Untagged: localhost/sk:1\n", "no Deleted: the ID stays")
        XCTAssertEqual(try s.nook(["images", "-q"]).stdout, String(id.prefix(12)) + "\n")
        let removed = try s.nook(["rmi", "-f", String(id.prefix(12))])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertEqual(removed.stdout.split(separator: "\n").filter { $0.hasPrefix("Deleted: ") }, ["Deleted: " + id], removed.stdout)
        // A name moved to the docker-archive's record leaves the OCI one nameless; prune removes that record, and
        // says Deleted of no ID, as the image (the other record) stays.
        XCTAssertEqual(try s.nook(["image", "import", "\(out)/dir", "localhost/p:1"]).status, 0)
        XCTAssertEqual(try s.nook(["image", "import", "\(out)/docker.tar", "localhost/p:1"]).status, 0)
        let pruned = try s.nook(["image", "prune"])
        XCTAssertTrue(pruned.stdout.contains("Removed 1 image") && !pruned.stdout.contains("Deleted:"), pruned.stdout)
        XCTAssertEqual(try s.nook(["images", "-q"]).stdout, String(id.prefix(12)) + "\n")
        XCTAssertEqual(try s.nook(["rmi", "localhost/p:1"]).status, 0)
        // NAME:TAG@DIGEST is recorded as NAME@DIGEST (a pin's tag is no name), so the name given finds it.
        let manifestOnly = try s.nook(["image", "import", "\(out)/dir", "localhost/pinned:7@" + manifest])
        XCTAssertEqual(manifestOnly.stdout, "Loaded image: localhost/pinned@\(manifest)\n", manifestOnly.stderr)
        XCTAssertEqual(try s.nook(["image", "inspect", "localhost/pinned:7@" + manifest]).status, 0)
        // Either spelling of the pin is that one name: with another name beside it, rmi takes only the pin off.
        XCTAssertEqual(try s.nook(["image", "import", "\(out)/dir", "localhost/app:1"]).status, 0)
        XCTAssertEqual(try s.nook(["rmi", "localhost/pinned:7@" + manifest]).stdout, "Untagged: localhost/pinned@\(manifest)\n")
        // A name of 64 hex digits, or sha256:HEX, would hide the image ID it looks like: refused, as docker and podman do;
        // sha256:ID is the ID.
        for idLike in [id, "sha256:" + id] {
            let r = try s.nook(["image", "import", "\(out)/dir", idLike])
            XCTAssertEqual(r.status, 125, idLike)
            XCTAssertTrue(r.stderr.contains("the form of an image ID or digest"), r.stderr)
        }
        let byFullID = try s.nook(["image", "inspect", "sha256:" + id])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(byFullID.stdout.utf8)) as? [[String: Any]])?.first?["Id"] as? String, id)
        XCTAssertEqual(try s.nook(["rmi", "localhost/app:1"]).status, 0)
        XCTAssertEqual(try s.nook(["images", "-q"]).stdout, "")
        // A blob that does not match its digest is refused, and nothing of it kept.
        let broken = try h.scratch("broken") + "/dir"
        _ = try Harness.shell(["/bin/cp", "-r", "\(out)/dir", broken])
        let layerBlob = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: broken + "/blobs/sha256").max { a, b in
            ((try? FileManager.default.attributesOfItem(atPath: broken + "/blobs/sha256/" + a)[.size] as? Int) ?? 0)
                < ((try? FileManager.default.attributesOfItem(atPath: broken + "/blobs/sha256/" + b)[.size] as? Int) ?? 0) })
        let fd = open(broken + "/blobs/sha256/" + layerBlob, O_WRONLY)
        XCTAssertEqual(pwrite(fd, "X", 1, 20), 1)
        close(fd)
        _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", broken])
        let fresh = try store()
        let refused = try fresh.nook(["image", "import", broken, "localhost/broken:1"])
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("digest mismatch: expected sha256:\(layerBlob)"), refused.stderr)
        XCTAssertFalse(fresh.contents().contains("blobs/sha256/" + layerBlob))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fresh.root + "/tmp").filter { $0.hasSuffix(".partial") }, [])
        XCTAssertEqual(try fresh.nook(["images", "-q"]).stdout, "")
    }

    func testExportThenImportGivesTheSameImage() throws {
        guard Harness.isInstalled("skopeo") else { throw XCTSkip("skopeo is not installed") }
        let src = try h.scratch("src")
        try "x".write(toFile: src + "/file", atomically: false, encoding: .utf8)
        let dir = try layout("exp", ["--tag", "v1", "--layer", src, "--layer", src, "--compression", "zstd"])
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", dir, "localhost/exp:1"]).status, 0)
        let out = try h.scratch("export")
        XCTAssertEqual(try s.nook(["image", "export", "localhost/exp:1", out + "/img.tar"]).status, 0)
        XCTAssertEqual(try s.nook(["image", "export", "--format", "oci-dir", "localhost/exp:1", out + "/img"]).status, 0)
        let original = try s.nook(["images", "--digests", "--format", "json"]).stdout
        // skopeo reads both as OCI images.
        for source in ["oci-archive:\(out)/img.tar", "oci:\(out)/img"] {
            let r = try Harness.shell(["/usr/bin/skopeo", "inspect", "--raw", source])
            XCTAssertEqual(r.status, 0, "\(source): \(r.stderr)")
        }
        let other = try store()
        XCTAssertEqual(try other.nook(["image", "import", out + "/img.tar"]).stdout, "Loaded image: localhost/exp:1\n")
        XCTAssertEqual(try other.nook(["images", "--digests", "--format", "json"]).stdout, original)
    }

    func testImagesListsColumnsDigestsAndJSON() throws {
        let src = try h.scratch("src")
        try "x".write(toFile: src + "/file", atomically: false, encoding: .utf8)
        // Made long ago: a fixed date far in the past reads in years, whatever today is.
        let dir = try layout("ls", ["--tag", "v1", "--layer", src, "--created", "2001-01-01T00:00:00Z"])
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", dir, "registry.example:5000/team/app:2.0"]).status, 0)
        let table = try s.nook(["images"]).stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        XCTAssertEqual(table.first, ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"])
        let row = try XCTUnwrap(table.dropFirst().first)
        XCTAssertEqual(Array(row.prefix(2)), ["registry.example:5000/team/app", "2.0"])
        XCTAssertEqual(row[2].count, 12)
        XCTAssertEqual(row[4...5], ["years", "ago"])
        let digests = try s.nook(["image", "ls", "--digests"]).stdout
        XCTAssertTrue(digests.hasPrefix("REPOSITORY   "), digests)
        XCTAssertTrue(digests.contains("DIGEST") && digests.contains("sha256:"), digests)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try s.nook(["images", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(json.first?["RepoTags"] as? [String], ["registry.example:5000/team/app:2.0"])
        XCTAssertEqual(json.first?["Created"] as? Int, 978_307_200)
    }

    func testRmiAndPruneLeaveNoFiles() throws {
        let src = try h.scratch("src")
        try FileManager.default.createDirectory(atPath: src + "/home", withIntermediateDirectories: true)
        try "x".write(toFile: src + "/home/file", atomically: false, encoding: .utf8)
        let shared = try tar([["base", "f", "shared"]])
        let one = try layout("one", ["--tag", "v1", "--layer-tar", shared, "--layer", src, "--owner", "1000:1000"])
        let two = try layout("two", ["--tag", "v2", "--layer-tar", shared])
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", one, "localhost/one:1"]).status, 0)
        XCTAssertEqual(try s.nook(["image", "import", two]).stdout.hasPrefix("Loaded image: sha256:"), true, "a tag alone names nothing")
        XCTAssertEqual(try s.nook(["image", "unpack", "localhost/one:1"]).status, 0)
        let id = try s.nook(["images", "-q"]).stdout.split(separator: "\n")
        XCTAssertEqual(id.count, 2)
        let removed = try s.nook(["rmi", "localhost/one:1"])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(removed.stdout.hasPrefix("Untagged: localhost/one:1\nDeleted: "), removed.stdout)
        // What the unnamed image shares with it stays: its 3 blobs and the shared layer's tree.
        XCTAssertEqual(s.contents().filter { $0.hasPrefix("blobs/") }.count, 3, "\(s.contents())")
        XCTAssertEqual(s.contents().filter { $0.hasPrefix("layers/") }.count, 1, "\(s.contents())")
        let pruned = try s.nook(["image", "prune"])
        XCTAssertEqual(pruned.status, 0, pruned.stderr)
        // Freed: the unnamed image's manifest, config and the shared layer's blob, as `ls -l` counts them.
        let last = try XCTUnwrap(pruned.stdout.split(separator: "\n").last)
        XCTAssertTrue(last.hasPrefix("Removed 1 image, freed ") && last.hasSuffix(" B of blobs") && !last.contains("freed 0 B"), pruned.stdout)
        XCTAssertEqual(s.contents(), [])
        XCTAssertEqual(try s.nook(["images", "-q"]).stdout, "")
        let missing = try s.nook(["rmi", "localhost/one:1"])
        XCTAssertEqual(missing.status, 125)
        XCTAssertTrue(missing.stderr.contains("is not in the store"), missing.stderr)
    }

    func testUnpackMatchesUmociOnFilesAndModes() throws {
        guard Harness.isInstalled("umoci") else { throw XCTSkip("umoci is not installed") }
        let l1 = try tar([["bin", "d", ""], ["bin/tool", "f", "t"], ["etc", "d", ""], ["etc/conf", "f", "c"], ["etc/old", "f", "o"],
                          ["var", "d", ""], ["var/cache", "d", ""], ["var/cache/x", "f", "x"], ["link", "l", "bin/tool"]])
        let l2 = try tar([["etc", "d", ""], ["etc/.wh.old", "f", ""], ["var", "d", ""], ["var/cache", "d", ""], ["var/cache/.wh..wh..opq", "f", ""],
                          ["var/cache/y", "f", "y"], ["bin", "d", ""], ["bin/tool", "f", "new"], ["hard", "h", "bin/tool"]])
        let dir = try layout("umoci", ["--tag", "v1", "--layer-tar", l1, "--layer-tar", l2])
        let bundle = try h.scratch("bundle") + "/b"
        let reference = try h.runAsUser(["/usr/bin/umoci", "unpack", "--rootless", "--image", dir + ":v1", bundle])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let s = try store()
        XCTAssertEqual(try s.nook(["image", "import", dir, "localhost/umoci:1"]).status, 0)
        let unpacked = try s.nook(["image", "unpack", "localhost/umoci:1"])
        XCTAssertEqual(unpacked.status, 0, unpacked.stderr)
        let layers = unpacked.stdout.split(separator: "\n").reversed().joined(separator: ":")
        let mount = try h.scratch("merged")
        let list = "find . -mindepth 1 -printf '%P %M\\n' | sort"
        let ours = try h.runAsUser([h.nook, "unshare", "--", "sh", "-c",
                                    "mount -t overlay overlay -o userxattr,lowerdir=\(layers) \(mount) && cd \(mount) && \(list)"])
        let theirs = try h.runAsUser(["/bin/sh", "-c", "cd \(bundle)/rootfs && \(list)"])
        XCTAssertEqual(ours.status, 0, ours.stderr)
        XCTAssertFalse(theirs.stdout.isEmpty)
        XCTAssertEqual(ours.stdout, theirs.stdout)
    }
}
