import Foundation
import XCTest

/// `nook pull` from a real registry on loopback (Debian's docker-registry),
/// fed by skopeo with images these tests build; run as the test user.
final class PullTests: XCTestCase {
    var h: Harness { Harness.shared }
    var registry: TestRegistry!
    var work: String!

    override func setUpWithError() throws {
        guard TestRegistry.isAvailable else { throw XCTSkip("docker-registry and skopeo are needed (apt-get install docker-registry skopeo)") }
        registry = try TestRegistry()
        work = try h.scratch("pull")
    }

    override func tearDown() {
        registry?.stop()
        registry = nil
        if let work { try? FileManager.default.removeItem(atPath: work) }
    }

    // MARK: helpers

    /// An OCI layout with one image of these layer directories; returns its manifest digest.
    @discardableResult
    func layout(_ dir: String, tag: String, layers: [String], compression: String = "gzip", arch: String = "amd64") throws -> String {
        let r = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", dir, "--tag", tag,
                                   "--compression", compression, "--arch", arch, "--owner", "0:0"] + layers.flatMap { ["--layer", $0] })
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A directory with these files (name -> content) to use as a layer.
    func layerDir(_ files: [String: Data]) throws -> String {
        let dir = work + "/layer-\(Int.random(in: 0..<1_000_000))"
        for (name, data) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: data))
        }
        return dir
    }

    /// A store of its own for one test (XDG_DATA_HOME), owned by the test user.
    func newStore() throws -> String { try h.scratch("store") }

    func pull(_ args: [String], store: String, env: [String: String] = [:]) throws -> Harness.Result {
        try h.run(["pull"] + args, env: ["XDG_DATA_HOME": store].merging(env) { $1 }, timeout: 180)
    }

    func files(_ store: String, _ sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store + "/nook/" + sub)) ?? []).sorted()
    }

    func records(_ store: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: store + "/nook/images.json") else { return [] }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    /// Every blob in the store hashes to its name.
    func assertBlobsVerified(_ store: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for hex in files(store, "blobs/sha256") {
            let r = try Harness.shell(["/usr/bin/sha256sum", store + "/nook/blobs/sha256/" + hex])
            XCTAssertEqual(r.stdout.prefix(64), Substring(hex), "blob \(hex)", file: file, line: line)
        }
    }

    func sha256(_ path: String) throws -> String {
        "sha256:" + (try Harness.shell(["/usr/bin/sha256sum", path]).stdout.prefix(64))
    }

    /// The busybox rootfs (the Harness's) plus a small layer on top, pushed as NAME:TAG.
    func pushBusybox(_ name: String, tag: String, compression: String = "gzip") throws -> String {
        let dir = work + "/oci-\(name.replacingOccurrences(of: "/", with: "-"))-\(compression)"
        let top = try layerDir(["etc/motd": Data("image \(name)\n".utf8), "srv/data.txt": Data(repeating: 65, count: 5000)])
        let digest = try layout(dir, tag: tag, layers: [h.rootfs, top], compression: compression)
        try registry.push(layout: dir, tag: tag, as: name)
        return digest
    }

    // MARK: tests

    func testPullByTagAndByDigestPrintsThePinAndRecordsTheImage() throws {
        let gzip = try pushBusybox("test/busy", tag: "v1")
        let zstd = try pushBusybox("test/busyz", tag: "v1", compression: "zstd")
        let store = try newStore()
        let r = try pull(["--tls-verify=false", "\(registry.host)/test/busy:v1"], store: store)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(registry.host)/test/busy:v1@\(gzip)\n", "the pin, on stdout alone")
        XCTAssertEqual(r.stderr, "", "no progress when stderr is not a terminal")
        var recs = try records(store)
        XCTAssertEqual(recs.count, 1)
        XCTAssertEqual(recs.first?["manifest"] as? String, gzip)
        XCTAssertEqual(recs.first?["names"] as? [String], ["\(registry.host)/test/busy:v1"])
        XCTAssertEqual((recs.first?["diffIDs"] as? [String])?.count, 2)
        XCTAssertEqual(files(store, "blobs/sha256").count, 4, "manifest, config, two layers")
        XCTAssertEqual(files(store, "layers"), [], "pull does not unpack")
        XCTAssertEqual(files(store, "tmp"), [])
        try assertBlobsVerified(store)
        // The pin it printed names the image in this store too: NAME:TAG@DIGEST is resolved by its digest (podman's reading).
        let printed = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let inspected = try h.run(["image", "inspect", printed], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("\"\(registry.host)/test/busy@\(gzip)\""), inspected.stdout)
        let wrongPin = try h.run(["image", "inspect", "\(registry.host)/test/busy:v1@\(zstd)"], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(wrongPin.status, 125, "a tag beside a digest the store lacks is not looked up by the tag")
        // The tag moves on (another image pushed and pulled as busy:v1): the old image has no name left, and its
        // pin still names it (threat 6's point: a pin runs the image it pinned).
        let moved = try pushBusybox("test/busy", tag: "v1", compression: "zstd")
        XCTAssertNotEqual(moved, gzip)
        XCTAssertEqual(try pull(["--tls-verify=false", "\(registry.host)/test/busy:v1"], store: store).stdout, "\(registry.host)/test/busy:v1@\(moved)\n")
        let old = try h.run(["image", "inspect", "\(registry.host)/test/busy@\(gzip)"], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(old.status, 0, old.stderr)
        let oldRows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(old.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(oldRows.first?["Digest"] as? String, gzip)
        XCTAssertEqual(oldRows.first?["RepoTags"] as? [String], [], "the tag moved to the new image")
        // It keeps its repository, and no other: another repository's pin of it names nothing.
        let otherRepository = try h.run(["image", "inspect", "\(registry.host)/test/busyz@\(gzip)"], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(otherRepository.status, 125, otherRepository.stdout)

        // The pin it printed pulls the same image, recorded under the digest name; zstd layers too.
        let byDigest = try newStore()
        let pinned = try pull(["--tls-verify=false", "\(registry.host)/test/busy@\(gzip)"], store: byDigest)
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        XCTAssertEqual(pinned.stdout, "\(registry.host)/test/busy@\(gzip)\n")
        XCTAssertEqual(try records(byDigest).first?["names"] as? [String], ["\(registry.host)/test/busy@\(gzip)"])
        let z = try pull(["--tls-verify=false", "\(registry.host)/test/busyz:v1"], store: byDigest)
        XCTAssertEqual(z.status, 0, z.stderr)
        XCTAssertEqual(z.stdout, "\(registry.host)/test/busyz:v1@\(zstd)\n")
        recs = try records(byDigest)
        XCTAssertEqual(recs.count, 2)
        try assertBlobsVerified(byDigest)
        // A name pulled by digest has no tag: podman's `<none>`, and its RepoDigests the name itself.
        let list = try h.run(["images"], env: ["XDG_DATA_HOME": byDigest])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.split(separator: "\n").contains { $0.hasPrefix("\(registry.host)/test/busy ") && $0.contains(" <none> ") }, list.stdout)
        let json = try h.run(["images", "--format", "json"], env: ["XDG_DATA_HOME": byDigest])
        // A pin never crosses repositories: busyz's name with busy's digest names nothing.
        let crossed = try h.run(["image", "inspect", "\(registry.host)/test/busyz:v1@\(gzip)"], env: ["XDG_DATA_HOME": byDigest])
        XCTAssertEqual(crossed.status, 125, crossed.stdout)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let row = try XCTUnwrap(rows.first { ($0["Digest"] as? String) == gzip })
        XCTAssertEqual(row["RepoTags"] as? [String], [])
        XCTAssertEqual(row["RepoDigests"] as? [String], ["\(registry.host)/test/busy@\(gzip)"])
    }

    /// A manifest changed in the registry: by tag the registry's digest header no
    /// longer matches, by digest the pin does not: both refused, nothing stored.
    func testAManifestThatDoesNotMatchItsPinIsRefused() throws {
        let digest = try pushBusybox("test/pin", tag: "v1")
        let data = registry.blobData(digest)
        let original = try String(contentsOfFile: data, encoding: .utf8)
        try original.replacingOccurrences(of: "\"schemaVersion\": 2", with: "\"schemaVersion\":  2")
            .write(toFile: data, atomically: false, encoding: .utf8)
        let actual = try sha256(data)
        for ref in ["\(registry.host)/test/pin@\(digest)", "\(registry.host)/test/pin:v1"] {
            let store = try newStore()
            let r = try pull(["--tls-verify=false", ref], store: store)
            XCTAssertEqual(r.status, 125, ref)
            XCTAssertTrue(r.stderr.contains("manifest digest mismatch") && r.stderr.contains("expected \(digest)")
                          && r.stderr.contains("got \(actual)"), r.stderr)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(files(store, "blobs/sha256"), [], ref)
            XCTAssertEqual(files(store, "tmp"), [], ref)
            XCTAssertEqual(try records(store).count, 0)
        }
    }

    func testAMultiPlatformIndexIsResolvedToThePlatform() throws {
        let dir = work + "/oci-multi"
        let amd = try layout(dir, tag: "amd", layers: [try layerDir(["arch": Data("amd64\n".utf8)])], arch: "amd64")
        let arm = try layout(dir, tag: "arm", layers: [try layerDir(["arch": Data("arm64\n".utf8)])], arch: "arm64")
        let made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", dir, "--tag", "multi",
                                      "--index-of", "amd", "--index-of", "arm"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let index = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try registry.push(layout: dir, tag: "multi", as: "test/multi", all: true)

        let store = try newStore()
        let r = try pull(["--tls-verify=false", "\(registry.host)/test/multi:multi"], store: store)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(registry.host)/test/multi:multi@\(index)\n", "the index's digest: the pin for every platform")
        XCTAssertEqual(try records(store).first?["manifest"] as? String, amd, "this machine's platform")
        // The index's pin names the image pulled by tag (run, inspect, rmi find it alike), and its blob goes with rmi.
        let inspected = try h.run(["image", "inspect", "\(registry.host)/test/multi:multi@\(index)"], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("\(registry.host)/test/multi@\(index)"), "RepoDigests has the index's pin: \(inspected.stdout)")
        XCTAssertTrue(files(store, "blobs/sha256").contains(String(index.dropFirst(7))))
        let removed = try h.run(["rmi", "\(registry.host)/test/multi@\(index)"], env: ["XDG_DATA_HOME": store])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertEqual(files(store, "blobs/sha256"), [], "the index's blob goes with the image")

        let armStore = try newStore()
        let a = try pull(["--tls-verify=false", "--platform", "linux/arm64", "\(registry.host)/test/multi@\(index)"], store: armStore)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(try records(armStore).first?["manifest"] as? String, arm)
        // Run, it is said to be for another platform (podman's warning).
        let foreign = try h.run(["run", "--rm", "--network", "none", "\(registry.host)/test/multi@\(index)", "/arch"], env: ["XDG_DATA_HOME": armStore])
        XCTAssertTrue(foreign.stderr.contains("is for linux/arm64, not for this machine's linux/amd64"), foreign.stderr)
        // Two images of one index in a store: arm64 by tag, amd64 by the index's digest. The pin names the one
        // pulled by it (its very name), and rmi of the pin removes that one only.
        let both = try newStore()
        XCTAssertEqual(try pull(["--tls-verify=false", "--platform", "linux/arm64", "\(registry.host)/test/multi:multi"], store: both).status, 0)
        XCTAssertEqual(try pull(["--tls-verify=false", "\(registry.host)/test/multi@\(index)"], store: both).status, 0)
        let pinnedOne = try h.run(["image", "inspect", "\(registry.host)/test/multi@\(index)"], env: ["XDG_DATA_HOME": both])
        let shown = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(pinnedOne.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(shown.first?["Digest"] as? String, amd, pinnedOne.stdout)
        // arm64 by tag, then this machine's by the same tag (the tag moves on): the index's pin names the one
        // named there now, not an ambiguity.
        let moved = try newStore()
        XCTAssertEqual(try pull(["--tls-verify=false", "--platform", "linux/arm64", "\(registry.host)/test/multi:multi"], store: moved).status, 0)
        XCTAssertEqual(try pull(["--tls-verify=false", "\(registry.host)/test/multi:multi"], store: moved).status, 0)
        let current = try h.run(["image", "inspect", "\(registry.host)/test/multi:multi@\(index)"], env: ["XDG_DATA_HOME": moved])
        XCTAssertEqual(current.status, 0, current.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(current.stdout.utf8)) as? [[String: Any]])?.first?["Digest"] as? String, amd)
        // Exported, its name pins the manifest the layout holds (not the index, which it does not), and imports again.
        let exported = work + "/multi-exported.tar"
        let export = try h.run(["image", "export", "\(registry.host)/test/multi@\(index)", exported], env: ["XDG_DATA_HOME": both])
        XCTAssertEqual(export.status, 0, export.stderr)
        let again = try newStore()
        let reimported = try h.run(["image", "import", exported], env: ["XDG_DATA_HOME": again])
        XCTAssertEqual(reimported.status, 0, reimported.stderr)
        XCTAssertEqual(reimported.stdout, "Loaded image: \(registry.host)/test/multi@\(amd)\n")
        XCTAssertEqual(try h.run(["rmi", "\(registry.host)/test/multi@\(index)"], env: ["XDG_DATA_HOME": both]).status, 0)
        XCTAssertEqual(try records(both).map { $0["manifest"] as? String }, [arm], "the arm64 image, pulled by tag, stays")

        let none = try newStore()
        let s = try pull(["--tls-verify=false", "--platform", "linux/s390x", "\(registry.host)/test/multi:multi"], store: none)
        XCTAssertEqual(s.status, 125)
        XCTAssertTrue(s.stderr.contains("has no image for linux/s390x (it has: linux/amd64, linux/arm64)") && s.stderr.contains("--platform"), s.stderr)
        XCTAssertEqual(files(none, "blobs/sha256"), [])
    }

    func testACorruptedLayerIsRefusedNamingBothDigestsAndNothingIsKept() throws {
        let dir = work + "/oci-bad"
        let digest = try layout(dir, tag: "v1", layers: [h.rootfs])
        try registry.push(layout: dir, tag: "v1", as: "test/bad")
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/blobs/sha256/" + digest.dropFirst(7)))) as? [String: Any])
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        // One byte changed in the registry's copy, same size.
        let data = registry.blobData(layer)
        let fd = open(data, O_RDWR)
        var byte: UInt8 = 0
        XCTAssertEqual(pread(fd, &byte, 1, 100), 1)
        byte ^= 0xff
        XCTAssertEqual(pwrite(fd, &byte, 1, 100), 1)
        close(fd)
        let actual = try sha256(data)

        let store = try newStore()
        let r = try pull(["--tls-verify=false", "\(registry.host)/test/bad:v1"], store: store)
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("layer digest mismatch: expected \(layer), got \(actual); nothing was stored"), r.stderr)
        XCTAssertEqual(files(store, "blobs/sha256"), [], "neither the layer nor its config or manifest")
        XCTAssertEqual(files(store, "tmp"), [])
        XCTAssertEqual(try records(store).count, 0)
    }

    /// A store on a full disk (a 1 MiB tmpfs, in a mount namespace of the
    /// test's own, holding a 3 MiB layer): the pull fails saying so, nothing
    /// unverified is under blobs/, no image is recorded.
    func testAFullDiskLeavesNoHalfWrittenBlobAndSaysSo() throws {
        try XCTSkipUnless(h.isRoot, "mounting the small filesystem needs root")
        var random = [UInt8](repeating: 0, count: 3 << 20)
        for i in random.indices { random[i] = UInt8.random(in: 0...255) }
        let dir = work + "/oci-full"
        try layout(dir, tag: "v1", layers: [try layerDir(["big.bin": Data(random)])])
        try registry.push(layout: dir, tag: "v1", as: "test/full")
        let store = try newStore()
        let pull = h.commandLine(["pull", "--tls-verify=false", "\(registry.host)/test/full:v1"], env: ["XDG_DATA_HOME": store])
        // Everything is looked at inside the namespace: the tmpfs goes with it.
        let script = #"""
            mount --make-rprivate / && mount -t tmpfs -o size=1m,mode=0700,uid=$1,gid=$2 tmpfs "$3" || exit 99
            store=$3; shift 3
            "$@" 2>"$store.err"; echo "status $?"
            cat "$store.err" >&2
            for f in "$store"/nook/blobs/sha256/*; do [ -e "$f" ] && echo "blob $(basename "$f") $(sha256sum <"$f" | cut -c1-64)"; done
            [ -s "$store/nook/images.json" ] && grep -c '"digest"' "$store/nook/images.json" | sed 's/^/records /'
            df -k "$store" | tail -1 | awk '{print "used " $3}'
            true
            """#
        let r = try Harness.shell(["/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh", "\(h.user.uid)", "\(h.user.gid)", store] + pull,
                                  timeout: 180)
        try? FileManager.default.removeItem(atPath: store + ".err")  // written by the script; gone already is fine
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("status 125"), "the pull failed, with Nook's status: \(r.stdout) \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("no space left on device (hint: the disk is full: free space under"), "it says why and what to do: \(r.stderr)")
        let blobs = lines.filter { $0.hasPrefix("blob ") }.map { $0.split(separator: " ").map(String.init) }
        for blob in blobs { XCTAssertEqual(blob[1], blob[2], "blobs/ holds only verified blobs") }
        XCTAssertLessThanOrEqual(blobs.count, 2, "at most the manifest and the config: \(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("records ") }, "no image recorded: \(lines)")
        XCTAssertTrue(lines.contains("used 1024"), "the store was on the small filesystem, and filled it: \(lines)")
    }

    /// SIGKILL in the middle of a layer (served slowly by a front), then a
    /// second pull asks for the rest with a Range request and verifies the whole.
    func testAKilledPullResumesWithARangeRequest() throws {
        var random = [UInt8](repeating: 0, count: 3 << 20)
        for i in random.indices { random[i] = UInt8.random(in: 0...255) }
        let dir = work + "/oci-big"
        let digest = try layout(dir, tag: "v1", layers: [try layerDir(["big.bin": Data(random)])])
        try registry.push(layout: dir, tag: "v1", as: "test/big")
        let slow = try registry.front(["--throttle", "262144"])
        let store = try newStore()
        let first = try h.start(["pull", "--tls-verify=false", "\(slow.host)/test/big:v1"], env: ["XDG_DATA_HOME": store])
        func partialSize() -> Int {
            files(store, "tmp").filter { $0.hasSuffix(".partial") }.compactMap {
                (try? FileManager.default.attributesOfItem(atPath: store + "/nook/tmp/" + $0))?[.size] as? Int
            }.max() ?? 0
        }
        XCTAssertTrue(Harness.eventually(60) { partialSize() > 300_000 }, "the layer is on its way: \(first.stderrText)")
        XCTAssertEqual(kill(first.pid, SIGKILL), 0)
        XCTAssertEqual(first.wait(), 128 + SIGKILL)
        let kept = partialSize()
        XCTAssertGreaterThan(kept, 300_000)
        XCTAssertLessThan(kept, random.count, "cut off mid-layer")
        XCTAssertEqual(files(store, "blobs/sha256"), [], "nothing unverified in blobs/")

        let fast = try registry.front([])
        let r = try pull(["--tls-verify=false", "\(fast.host)/test/big:v1"], store: store)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(fast.host)/test/big:v1@\(digest)\n")
        let ranges = fast.requests.compactMap { $0["range"] as? String }
        XCTAssertEqual(ranges.count, 1, "\(fast.requests)")
        let from = Int(ranges.first?.dropFirst("bytes=".count).dropLast() ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(from, kept, "resumed where the partial file ended: \(ranges)")
        XCTAssertEqual(files(store, "tmp"), [])
        try assertBlobsVerified(store)
    }

    func testTwoPullsOfOneImageAtOnceBothSucceed() throws {
        var random = [UInt8](repeating: 0, count: 1 << 20)
        for i in random.indices { random[i] = UInt8.random(in: 0...255) }
        let dir = work + "/oci-two"
        let digest = try layout(dir, tag: "v1", layers: [h.rootfs, try layerDir(["one.bin": Data(random)])])
        try registry.push(layout: dir, tag: "v1", as: "test/two")
        let slow = try registry.front(["--throttle", "1048576"])
        let store = try newStore()
        let ref = "\(slow.host)/test/two:v1"
        let a = try h.start(["pull", "--tls-verify=false", ref], env: ["XDG_DATA_HOME": store], captureOutput: true)
        let b = try h.start(["pull", "--tls-verify=false", ref], env: ["XDG_DATA_HOME": store], captureOutput: true)
        XCTAssertEqual(a.wait(timeout: 120), 0, a.stderrText)
        XCTAssertEqual(b.wait(timeout: 120), 0, b.stderrText)
        XCTAssertEqual(a.stdoutText, "\(ref)@\(digest)\n")
        XCTAssertEqual(b.stdoutText, "\(ref)@\(digest)\n")
        XCTAssertEqual(try records(store).count, 1)
        XCTAssertEqual(files(store, "blobs/sha256").count, 4)
        XCTAssertEqual(files(store, "tmp"), [])
        try assertBlobsVerified(store)
    }

    /// A real challenge: 401 with `Bearer realm=...`, a token from the realm for
    /// the user's basic auth, then the request again with the token.
    func testBearerTokenAuthWithCredsAndAuthFile() throws {
        let digest = try pushBusybox("test/auth", tag: "v1")
        let front = try registry.front(["--token-user", "alice", "--token-password", "s3cret"])
        let ref = "\(front.host)/test/auth:v1"

        let anonymous = try pull(["--tls-verify=false", ref], store: try newStore())
        XCTAssertEqual(anonymous.status, 125)
        XCTAssertTrue(anonymous.stderr.contains("refused anonymous access to test/auth (401 Unauthorized)") && anonymous.stderr.contains("--creds"), anonymous.stderr)

        let wrong = try pull(["--tls-verify=false", "--creds", "alice:wrong", ref], store: try newStore())
        XCTAssertEqual(wrong.status, 125)
        XCTAssertTrue(wrong.stderr.contains("refused user 'alice' to test/auth (401 Unauthorized)") && wrong.stderr.contains("check the user name and password"), wrong.stderr)

        let store = try newStore()
        let r = try pull(["--tls-verify=false", "--creds", "alice:s3cret", ref], store: store)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(ref)@\(digest)\n")
        let requests = front.requests
        let basic = "Basic " + Data("alice:s3cret".utf8).base64EncodedString()
        XCTAssertTrue(requests.contains { ($0["path"] as? String ?? "").hasPrefix("/token?") && $0["authorization"] as? String == basic })
        XCTAssertTrue(requests.contains { ($0["path"] as? String ?? "").contains("/blobs/") && ($0["authorization"] as? String ?? "").hasPrefix("Bearer ") })
        XCTAssertFalse(requests.contains { ($0["path"] as? String ?? "").hasPrefix("/v2/") && $0["authorization"] as? String == basic },
                       "the password goes to the token server only")

        // The same credentials from an auth file podman's way ($REGISTRY_AUTH_FILE), keyed by host.
        let auth = work + "/auth.json"
        try #"{"auths": {"\#(front.host)": {"auth": "\#(Data("alice:s3cret".utf8).base64EncodedString())"}}}"#
            .write(toFile: auth, atomically: true, encoding: .utf8)
        chmod(auth, 0o644)
        let fromFile = try pull(["--tls-verify=false", ref], store: try newStore(), env: ["REGISTRY_AUTH_FILE": auth])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        let viaFlag = try pull(["--tls-verify=false", "--authfile", auth, ref], store: try newStore())
        XCTAssertEqual(viaFlag.status, 0, viaFlag.stderr)
    }

    /// A blob redirected to another host (a storage host) gets no Authorization header.
    func testARedirectedBlobGetsNoCredentials() throws {
        let digest = try pushBusybox("test/redirect", tag: "v1")
        let front = try registry.front(["--token-user", "alice", "--token-password", "s3cret", "--redirect-blobs"])
        let ref = "\(front.host)/test/redirect:v1"
        let r = try pull(["--tls-verify=false", "--creds", "alice:s3cret", ref], store: try newStore())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(ref)@\(digest)\n")
        let redirected = front.requests.filter { ($0["path"] as? String ?? "").hasPrefix("/redirected/") }
        XCTAssertEqual(redirected.count, 3, "config and two layers: \(front.requests)")
        XCTAssertTrue(redirected.allSatisfy { $0["authorization"] is NSNull || $0["authorization"] == nil }, "\(redirected)")
    }

    /// The storage host a blob is redirected to answers 401 with its own bearer
    /// challenge: answering it would send the user's password to its realm
    /// (the review's finding). nook refuses, and /steal never sees the credentials.
    func testAChallengeFromARedirectedHostIsNotAnswered() throws {
        _ = try pushBusybox("test/hostile", tag: "v1")
        let front = try registry.front(["--token-user", "alice", "--token-password", "s3cret", "--redirect-blobs", "--hostile-storage"])
        let r = try pull(["--tls-verify=false", "--creds", "alice:s3cret", "\(front.host)/test/hostile:v1"], store: try newStore())
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertTrue(r.stderr.contains("nook sends credentials only to"), r.stderr)
        let stolen = front.requests.filter { ($0["path"] as? String ?? "").hasPrefix("/steal") }
        XCTAssertTrue(stolen.isEmpty, "the storage host's realm was asked: \(stolen)")
    }

    func testASchema1ManifestIsRefused() throws {
        let front = try registry.front(["--schema1"])
        let store = try newStore()
        let r = try pull(["--tls-verify=false", "\(front.host)/test/old:v1"], store: store)
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("is a Docker schema 1 manifest, which Nook does not read") && r.stderr.contains("push the image again"), r.stderr)
        XCTAssertEqual(files(store, "blobs/sha256"), [])
    }

    func testPlainHTTPNeedsTLSVerifyFalse() throws {
        _ = try pushBusybox("test/plain", tag: "v1")
        let store = try newStore()
        let r = try pull(["\(registry.host)/test/plain:v1"], store: store)
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("\(registry.host) answers plain HTTP, not HTTPS") && r.stderr.contains("add --tls-verify=false"), r.stderr)
        XCTAssertEqual(files(store, "blobs/sha256"), [])
    }
}
