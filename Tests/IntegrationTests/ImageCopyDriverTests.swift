import Foundation
import XCTest

/// The copy storage driver (NOOK_STORAGE_DRIVER=copy; what a kernel without
/// overlayfs in user namespaces gets): the layers copied into the
/// container's own directory, whiteouts and opaque directories honoured as
/// overlayfs would, gone with the container.
extension ImageRunTests {
    /// Layer 2 puts /data/{keep,gone}, /opq/{a,b} and /owned/file (uid and
    /// gid 1000, mode 0600); layer 3 whites out /data/gone and /bin/vi, makes
    /// /opq opaque and adds /opq/c. Imported once per test run.
    func makeWhiteoutImage() throws {
        if (try? nook(["image", "inspect", "whiteouts"]))?.status == 0 { return }
        let layout = h.work + "/image-layout-whiteouts"
        let script = """
        import io, sys, tarfile
        def tar(path, entries):
            with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
                for name, data, *owner in entries:
                    info = tarfile.TarInfo(name)
                    if owner: info.uid = info.gid = owner[0]
                    if data is None:
                        info.type = tarfile.DIRTYPE; info.mode = 0o755
                        t.addfile(info)
                    else:
                        info.size = len(data); info.mode = 0o600 if owner else 0o644
                        t.addfile(info, io.BytesIO(data))
        tar(sys.argv[1], [("data", None), ("data/keep", b"kept\\n"), ("data/gone", b"x"), ("opq", None), ("opq/a", b"a"), ("opq/b", b"b"),
                          ("owned", None), ("owned/file", b"theirs\\n", 1000)])
        tar(sys.argv[2], [("data/.wh.gone", b""), ("bin/.wh.vi", b""), ("opq", None), ("opq/.wh..wh..opq", b""), ("opq/c", b"c")])
        """
        let two = h.work + "/whiteouts-2.tar", three = h.work + "/whiteouts-3.tar"
        var made = try Harness.shell(["/usr/bin/python3", "-c", script, two, three])
        XCTAssertEqual(made.status, 0, made.stderr)
        made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "whiteouts",
                                  "--owner", "0:0", "--layer", h.rootfs, "--layer-tar", two, "--layer-tar", three])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        let imported = try nook(["image", "import", layout, "whiteouts"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    func testCopyDriverSeesWhatTheOverlaySees() throws {
        try makeWhiteoutImage()
        let look = "ls /data /opq; cat /data/keep; test -e /bin/vi && echo vi; echo changed > /data/keep; rm /opq/c; cat /data/keep"
        let copy = ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "copy"]
        var r = try h.run(["run", "--trace", "whiteouts", "sh", "-c", look], env: copy)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "/data:\nkeep\n\n/opq:\nc\nkept\nchanged\n", "whiteouts and the opaque directory honoured")
        XCTAssertTrue(r.stderr.contains("trace: storage: copy (overlay unavailable: NOOK_STORAGE_DRIVER=copy)"), r.stderr)
        XCTAssertFalse(r.stderr.contains("trace: overlay: "), "no overlay mounted")
        XCTAssertEqual(containerDirectories(), [], "the copy went with the container")

        r = try h.run(["run", "whiteouts", "sh", "-c", "cat /data/keep; ls /opq"], env: copy)
        XCTAssertEqual(r.stdout, "kept\nc\n", "the layers are as they were: \(r.stderr)")
        r = try nook(["run", "--trace", "whiteouts", "sh", "-c", look])
        XCTAssertEqual(r.stdout, "/data:\nkeep\n\n/opq:\nc\nkept\nchanged\n", "the overlay shows the same: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("trace: storage: overlay -- "), r.stderr)

        r = try h.run(["run", "whiteouts", "true"], env: ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "fuse"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("NOOK_STORAGE_DRIVER='fuse' is not a storage driver"), r.stderr)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// A sparse file of a layer (1 GiB declared, a few bytes of data) stays
    /// sparse in the copy: holes are not written out as zeros, so a tiny
    /// hostile layer cannot fill the disk.
    func testCopyDriverKeepsSparseFilesSparse() throws {
        let layout = h.work + "/image-layout-sparse", tree = h.work + "/sparse-tree", tar = h.work + "/sparse.tar"
        let script = """
        import os, sys
        os.makedirs(sys.argv[1], exist_ok=True)
        with open(sys.argv[1] + "/big", "wb") as f:
            f.write(b"head\\n"); f.seek(512 << 20); f.write(b"middle\\n"); f.truncate(1 << 30)
        """
        var made = try Harness.shell(["/usr/bin/python3", "-c", script, tree])
        XCTAssertEqual(made.status, 0, made.stderr)
        made = try Harness.shell(["/usr/bin/tar", "--sparse", "--owner=0", "--group=0", "-cf", tar, "-C", tree, "big"])
        XCTAssertEqual(made.status, 0, made.stderr)
        made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "sparse",
                                  "--owner", "0:0", "--layer", h.rootfs, "--layer-tar", tar])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        XCTAssertEqual(try nook(["image", "import", layout, "sparse"]).status, 0)
        let copy = ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "copy"]
        let r = try h.run(["run", "sparse", "sh", "-c", "stat -c '%s %b %B' /big; head -c 5 /big; tail -c +536870913 /big | head -c 7"],
                          env: copy, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        let fields = lines.first?.split(separator: " ").compactMap { Int($0) } ?? []
        XCTAssertEqual(fields.count, 3, r.stdout)
        XCTAssertEqual(fields.first, 1 << 30, "the size is kept: \(r.stdout)")
        if fields.count == 3 { XCTAssertLessThan(fields[1] * fields[2], 1 << 20, "a few blocks, not a GiB of zeros: \(r.stdout)") }
        XCTAssertEqual(Array(lines.dropFirst()), ["head", "middle"], "the data at its offsets")
        XCTAssertEqual(containerDirectories(), [])
    }

    /// A user's detached container on a copy: exec sees it, rm removes it (files owned by sub-ids too).
    func testCopyDriverDetachedContainerIsRemovedWithItsCopy() throws {
        let name = Harness.name("imgcopy")
        defer { _ = try? nook(["rm", "-f", name]) }
        let copy = ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "copy"]
        var r = try h.run(["run", "-d", "--name", name, "plain", "sh", "-c", "mkdir /d; chown 1000:1000 /d; sleep 60"], env: copy)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(containerDirectories().count, 1)
        r = try nook(["exec", name, "--", "cat", "/srv/hello.txt"])
        XCTAssertEqual(r.stdout, "from layer 2\n", r.stderr)
        XCTAssertEqual(try nook(["rm", "-f", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [], "the copy went with the container")
    }

    /// The copy driver walks without recursion and with a bounded number of
    /// open directories: a layer 1500 directories deep (as deep as a layer's
    /// paths can go, PATH_MAX) is copied by a nook allowed 256 open files.
    /// File capabilities are not copied, by design: --trace names each file
    /// that had some (here /bin/pinger, cap_net_raw+ep in the layer's tar).
    /// rmi removes the layer's deep tree with as few descriptors.
    func testCopyDriverCopiesADeepTreeAndSaysWhichCapabilitiesItDropped() throws {
        let depth = 1500
        let layout = h.work + "/image-layout-deep", tar = h.work + "/deep.tar"
        let script = """
        import io, struct, sys, tarfile
        depth = int(sys.argv[2])
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
            path = "deep"
            for i in range(depth + 1):
                info = tarfile.TarInfo(path); info.type = tarfile.DIRTYPE; info.mode = 0o755
                t.addfile(info)
                if i < depth: path += "/d"
            data = b"bottom\\n"
            info = tarfile.TarInfo(path + "/bottom.txt"); info.size = len(data); info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
            # cap_net_raw+ep: VFS_CAP_REVISION_2 | effective, permitted bit 13
            caps = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
            data = b"#!/bin/sh\\necho pinger\\n"
            info = tarfile.TarInfo("bin/pinger"); info.size = len(data); info.mode = 0o755
            info.pax_headers = {"SCHILY.xattr.security.capability": caps.decode("utf-8", "surrogateescape")}
            t.addfile(info, io.BytesIO(data))
        """
        var made = try Harness.shell(["/usr/bin/python3", "-c", script, tar, "\(depth)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "deep",
                                  "--owner", "0:0", "--layer", h.rootfs, "--layer-tar", tar])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        XCTAssertEqual(try nook(["image", "import", layout, "deep"]).status, 0)
        let unpacked = try nook(["image", "unpack", "deep"])
        XCTAssertEqual(unpacked.status, 0, unpacked.stderr)
        // The layer itself has the capability (set inside the user namespace, as its root's).
        let top = try XCTUnwrap(unpacked.stdout.split(separator: "\n").last.map(String.init))
        let caps = try Harness.shell(["/usr/sbin/getcap", top + "/bin/pinger"])
        XCTAssertTrue(caps.stdout.contains("cap_net_raw"), "the layer's file has it: \(caps.stdout) \(caps.stderr)")

        let look = "cd /deep && n=0; while cd d 2>/dev/null; do n=$((n+1)); done; echo $n; cat bottom.txt; /bin/pinger"
        let copy = ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_STORAGE_DRIVER": "copy"]
        let r = try Harness.shell(["/usr/bin/prlimit", "--nofile=256:256", "--"] + h.commandLine(["run", "--trace", "deep", "sh", "-c", look], env: copy),
                                  timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr.suffix(3000).description)
        XCTAssertEqual(r.stdout, "\(depth)\nbottom\npinger\n", "the whole tree arrived")
        let dropped = r.stderr.split(separator: "\n").filter { $0.contains("security.capability") }
        XCTAssertEqual(dropped, ["trace: storage: copy /bin/pinger without its security.capability -- the copy driver does not copy file capabilities (by design): /bin/pinger runs with none of them"],
                       "one line, naming the file")
        XCTAssertEqual(containerDirectories(), [], "the copy went with the container")

        // The layer's tree goes the same way: removed with a few descriptors (TreeRemover walks as the copy does).
        let removed = try Harness.shell(["/usr/bin/prlimit", "--nofile=128:128", "--"] + h.commandLine(["rmi", "deep"], env: copy))
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: top), "the deep layer is gone")
    }
}
