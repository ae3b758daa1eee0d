import Foundation
import XCTest

/// The fuse-overlayfs storage driver (NOOK_STORAGE_DRIVER=fuse-overlayfs;
/// what a kernel that refuses overlayfs in a user namespace gets when
/// fuse-overlayfs and /dev/fuse are there): the same layers and writable
/// layer as the kernel's overlay, served by fuse-overlayfs from outside the
/// container, which ends with the container.
extension ImageRunTests {
    var fuse: [String: String] { ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "fuse-overlayfs"] }

    func skipWithoutFuseOverlayfs() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fuse-overlayfs"), access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw XCTSkip("needs /usr/bin/fuse-overlayfs and /dev/fuse (Debian: fuse-overlayfs)")
        }
    }

    /// Live fuse-overlayfs servers of `who`: processes whose executable is
    /// fuse-overlayfs and whose real uid is the user's (by /proc, never by name).
    static func fuseOverlayfsServers(of who: Harness.User) -> Set<Int32> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return Set(entries.compactMap(Int32.init).filter { pid in
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == "/usr/bin/fuse-overlayfs",
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first
            return uid == "\(who.uid)"[...] && Harness.isAlive(pid)
        })
    }

    func testFuseOverlayfsSeesWhatTheOverlaySees() throws {
        try skipWithoutFuseOverlayfs()
        try makeWhiteoutImage()
        let look = "ls /data /opq; cat /data/keep; test -e /bin/vi && echo vi; echo changed > /data/keep; rm /opq/c; cat /data/keep; "
            + "stat -c '%u:%g %a' /owned/file; grep ' / / ' /proc/self/mountinfo | cut -d' ' -f8"
        var r = try h.run(["run", "--trace", "whiteouts", "sh", "-c", look], env: fuse)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "/data:\nkeep\n\n/opq:\nc\nkept\nchanged\n1000:1000 600\nfuse.fuse-overlayfs\n",
                       "whiteouts and the opaque directory honoured, owners kept, / served by fuse-overlayfs")
        XCTAssertTrue(r.stderr.contains("trace: storage: fuse-overlayfs (overlay unavailable: NOOK_STORAGE_DRIVER=fuse-overlayfs) -- "), r.stderr)
        XCTAssertTrue(r.stderr.contains("trace: overlay: mount(\"fuse-overlayfs\", "), r.stderr)
        XCTAssertEqual(containerDirectories(), [], "the layer went with the container")

        // The image's user reads its own 0600 file: the mount lets the container's other users in.
        r = try h.run(["run", "-u", "1000", "whiteouts", "sh", "-c", "cat /owned/file; id -u"], env: fuse)
        XCTAssertEqual(r.stdout, "theirs\n1000\n", r.stderr)
        r = try h.run(["run", "whiteouts", "sh", "-c", "cat /data/keep; ls /opq"], env: fuse)
        XCTAssertEqual(r.stdout, "kept\nc\n", "the layers are as they were: \(r.stderr)")

        r = try h.run(["run", "--read-only", "whiteouts", "sh", "-c", "touch /new || echo refused; cat /data/keep"], env: fuse)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "refused\nkept\n", "--read-only: no writable layer")
        XCTAssertTrue(r.stderr.contains("Read-only file system"), r.stderr)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// Two containers of one image: each writes in its own upper layer (with
    /// the owners the container gave), sees only its own writes, and takes its
    /// layer and its fuse-overlayfs server along at `rm`.
    func testFuseOverlayfsDetachedContainersKeepTheirWritesApartAndEndTheirServers() throws {
        try skipWithoutFuseOverlayfs()
        let (a, b) = (Harness.name("fuseA"), Harness.name("fuseB"))
        defer { for name in [a, b] { _ = try? nook(["rm", "-f", name]) } }
        let before = Self.fuseOverlayfsServers(of: h.user)
        for name in [a, b] {
            let r = try h.run(["run", "-d", "--name", name, "plain", "sh", "-c",
                               "echo \(name) > /srv/mine; mkdir /d; chown 1000:1000 /d; sleep 60"], env: fuse)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let servers = Self.fuseOverlayfsServers(of: h.user).subtracting(before)
        XCTAssertEqual(servers.count, 2, "one fuse-overlayfs per container")
        XCTAssertTrue(Harness.eventually { (try? self.nook(["exec", b, "--", "cat", "/srv/mine"]))?.stdout == "\(b)\n" })
        var r = try nook(["exec", a, "--", "sh", "-c", "cat /srv/mine /srv/hello.txt"])
        XCTAssertEqual(r.stdout, "\(a)\nfrom layer 2\n", "its own write, the image's file; not the other's: \(r.stderr)")

        let layers = containerDirectories()
        XCTAssertEqual(layers.count, 2)
        let written = layers.compactMap { try? String(contentsOfFile: store() + "/containers/\($0)/upper/srv/mine", encoding: .utf8) }.sorted()
        XCTAssertEqual(written, ["\(a)\n", "\(b)\n"].sorted(), "the writes are in the containers' upper layers")
        if h.isRoot, let range = Harness.subordinateRanges(of: h.user) {
            for layer in layers {
                var st = stat()
                XCTAssertEqual(lstat(store() + "/containers/\(layer)/upper/d", &st), 0)
                XCTAssertEqual(st.st_uid, range.uids.start + 999, "container uid 1000 is sub-uid 999 of the range")
            }
        }

        XCTAssertEqual(try nook(["stop", "-t", "0", a]).status, 0)
        XCTAssertEqual(try nook(["rm", a]).status, 0)
        XCTAssertEqual(try nook(["rm", "-f", b]).status, 0)
        XCTAssertTrue(Harness.eventually { servers.allSatisfy { !Harness.isAlive($0) } },
                      "the servers end with their containers' mount namespaces: \(servers.filter(Harness.isAlive))")
        XCTAssertEqual(containerDirectories(), [], "the layers went at rm")
    }

    /// A foreground run's server ends with it, and with a nook killed by SIGKILL.
    func testFuseOverlayfsServerEndsWithAForegroundRunAndWithAKilledNook() throws {
        try skipWithoutFuseOverlayfs()
        let dir = try h.scratch("fuse-fg")
        for kill in [false, true] {
            let before = Self.fuseOverlayfsServers(of: h.user)
            let run = try h.start(["run", "-v", dir + ":/v", "plain", "sh", "-c", "touch /v/up; while [ ! -e /v/go ]; do sleep 0.05; done"],
                                  env: fuse)
            XCTAssertTrue(Harness.eventually(30) { FileManager.default.fileExists(atPath: dir + "/up") }, "the container runs")
            let servers = Self.fuseOverlayfsServers(of: h.user).subtracting(before)
            XCTAssertEqual(servers.count, 1, "its fuse-overlayfs")
            if kill {
                Glibc.kill(run.pid, SIGKILL)
            } else {
                FileManager.default.createFile(atPath: dir + "/go", contents: nil)
            }
            XCTAssertEqual(run.wait(), kill ? 128 + SIGKILL : 0)
            XCTAssertTrue(Harness.eventually { servers.allSatisfy { !Harness.isAlive($0) } },
                          "no fuse-overlayfs outlives the container (nook killed: \(kill))")
            try? FileManager.default.removeItem(atPath: dir + "/up")
            try? FileManager.default.removeItem(atPath: dir + "/go")
        }
        // What the killed nook could not remove: its layer (the next nook command finds its stale state).
        _ = try nook(["list"])
        for layer in containerDirectories() { _ = try? Harness.shell(["/bin/rm", "-rf", store() + "/containers/" + layer]) }
    }

    /// fuse-overlayfs failing: a clear error naming it, exit 125, and nothing left.
    func testFuseOverlayfsFailureIsClearAndLeavesNothing() throws {
        try skipWithoutFuseOverlayfs()
        let clones = Harness.CloneBaseline(of: h.user)
        let before = Self.fuseOverlayfsServers(of: h.user)
        var env = fuse
        env["NOOK_FUSE_OVERLAYFS"] = "/bin/false"
        var r = try h.run(["run", "plain", "true"], env: env)
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("nook: /bin/false failed (exit 1) serving the image's layers at '"), r.stderr)
        XCTAssertTrue(r.stderr.contains("NOOK_STORAGE_DRIVER=copy"), "says what to do: \(r.stderr)")
        XCTAssertEqual(containerDirectories(), [], "no layer left")
        XCTAssertEqual(clones.added(), [], "no container process left")
        XCTAssertEqual(Self.fuseOverlayfsServers(of: h.user).subtracting(before), [], "no server left")
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        XCTAssertFalse(mounts.contains(store() + "/containers/"), "nothing mounted on the host")

        env["NOOK_FUSE_OVERLAYFS"] = "/nonexistent/fuse-overlayfs"
        r = try h.run(["run", "plain", "true"], env: env)
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("NOOK_STORAGE_DRIVER=fuse-overlayfs, but NOOK_FUSE_OVERLAYFS='/nonexistent/fuse-overlayfs' is not an executable"),
                      r.stderr)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// The order where the kernel refuses overlayfs (the probe's remembered
    /// verdict says so): fuse-overlayfs, else a copy, and --trace says why.
    func testWhereTheKernelRefusesOverlayFuseOverlayfsComesFirstThenTheCopy() throws {
        try skipWithoutFuseOverlayfs()
        _ = Self.stores  // makes the image layouts
        let data = try h.scratch("fuse-order")
        XCTAssertEqual(try h.run(["image", "import", h.work + "/image-layout-plain", "plain"], env: ["XDG_DATA_HOME": data]).status, 0)
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let probe = data + "/nook/overlay-probe"
        try "\(release)\tmount(overlay): operation not permitted\n".write(toFile: probe, atomically: false, encoding: .utf8)
        if h.isRoot { chown(probe, h.user.uid, h.user.gid) }
        var r = try h.run(["run", "--trace", "plain", "cat", "/srv/hello.txt"], env: ["XDG_DATA_HOME": data])
        XCTAssertEqual(r.stdout, "from layer 2\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("trace: storage: fuse-overlayfs (overlay unavailable: mount(overlay): operation not permitted) -- "), r.stderr)
        r = try h.run(["run", "--trace", "plain", "cat", "/srv/hello.txt"],
                      env: ["XDG_DATA_HOME": data, "NOOK_FUSE_OVERLAYFS": "/nonexistent/fuse-overlayfs"])
        XCTAssertEqual(r.stdout, "from layer 2\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("trace: storage: copy (overlay unavailable: mount(overlay): operation not permitted; fuse-overlayfs unusable: NOOK_FUSE_OVERLAYFS='/nonexistent/fuse-overlayfs' is not an executable) -- "), r.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: data + "/nook/containers")) ?? [], [])
    }
}
