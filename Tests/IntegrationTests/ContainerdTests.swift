import Foundation
import XCTest

/// containerd as a real client of Nook's OCI interface (issue 15), rootless:
/// containerd runs as the test user inside rootlesskit's user namespace (as
/// containerd-rootless.sh does), so its runc shim runs `nook` as uid 0 there,
/// the case of rootless podman. `ctr run --runc-binary NOOK --rootfs DIR` needs
/// no image. Every address, state and root directory is the test's own.
final class ContainerdTests: XCTestCase {
    /// containerd's config.toml, everything under `dir`. The CRI plugin is not
    /// needed by ctr, and wants more of the host.
    static func writeConfig(in dir: String) throws {
        try """
        version = 2
        root = "\(dir)/root"
        state = "\(dir)/state"
        disabled_plugins = ["io.containerd.grpc.v1.cri"]
        [grpc]
          address = "\(dir)/containerd.sock"
        [ttrpc]
          address = "\(dir)/containerd.sock.ttrpc"
        """.write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
    }

    var h: Harness { Harness.shared }

    /// One containerd for the class, in rootlesskit; stopped by pid in tearDown.
    struct Containerd {
        let dir: String
        let rootlesskit: Int32
        /// rootlesskit's child, in the user and mount namespaces containerd runs in.
        let child: Int32
        let h: Harness

        var socket: String { dir + "/containerd.sock" }

        /// `ctr ARGS` as the test user, in containerd's namespaces: the shim opens
        /// ctr's stdio fifos under /run/containerd, rootlesskit's copy of /run.
        func ctr(_ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
            try inside(["/usr/bin/ctr"] + args, timeout: timeout)
        }

        /// A command as the test user, in containerd's user and mount namespaces.
        func inside(_ command: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
            let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=\(dir)", "LANG=C",
                       "XDG_RUNTIME_DIR=\(dir)/xdg", "CONTAINERD_ADDRESS=\(socket)"]
            let argv = ["/usr/bin/env", "-i"] + env
                + ["/usr/bin/nsenter", "--user", "--preserve-credentials", "--mount", "--target", "\(child)"] + command
            return try Harness.shell(h.asUser(argv), timeout: timeout)
        }

        /// `ctr task ls` as id -> (pid, status).
        func tasks() throws -> [String: (pid: Int32, status: String)] {
            var result: [String: (Int32, String)] = [:]
            for line in try ctr(["task", "ls"]).stdout.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if f.count == 3, let pid = Int32(f[1]) { result[String(f[0])] = (pid, String(f[2])) }
            }
            return result
        }
    }

    static let shared: Result<Containerd, Error> = Result {
        let h = Harness.shared
        let dir = try h.scratch("containerd")
        for sub in ["xdg", "root", "state"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
            chmod(dir + "/" + sub, 0o700)
            if h.isRoot { chown(dir + "/" + sub, h.user.uid, h.user.gid) }
        }
        try ContainerdTests.writeConfig(in: dir)
        // --copy-up=/run: the shims' sockets, ctr's fifos and nook's --root live under
        // /run/containerd, which must be containerd's own (the host may have one of root's,
        // seen as a symlink in the copy): as containerd-rootless.sh does.
        let argv = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=\(dir)", "XDG_RUNTIME_DIR=\(dir)/xdg",
                    "/usr/bin/rootlesskit", "--net=host", "--copy-up=/run", "--state-dir=\(dir)/rk",
                    "/bin/sh", "-c", "rm -rf /run/containerd && exec /usr/bin/containerd --config \"$0\"", dir + "/config.toml"]
        let pid = try Harness.spawn(h.asUser(argv),
                                    stdin: "/dev/null", stdout: dir + "/containerd.log", stderr: dir + "/containerd.log")
        var child: Int32?
        let up = Harness.eventually(30) {
            child = (try? String(contentsOfFile: dir + "/rk/child_pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return child != nil && FileManager.default.fileExists(atPath: dir + "/containerd.sock")
        }
        guard up, let child else {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            let log = (try? String(contentsOfFile: dir + "/containerd.log", encoding: .utf8)) ?? ""
            throw NSError(domain: "containerd", code: 1, userInfo: [NSLocalizedDescriptionKey: "rootless containerd did not start: " + log])
        }
        return Containerd(dir: dir, rootlesskit: pid, child: child, h: h)
    }

    /// rootlesskit's child and containerd die with it (parent-death signal).
    override class func tearDown() {
        guard case .success(let c) = shared else { return }
        kill(c.rootlesskit, SIGTERM)
        if !Harness.eventually(10, { waitpid(c.rootlesskit, nil, WNOHANG) == c.rootlesskit }) {
            kill(c.rootlesskit, SIGKILL)
            waitpid(c.rootlesskit, nil, 0)
        }
    }

    func containerd() throws -> Containerd {
        for tool in ["/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/rootlesskit", "/usr/bin/containerd-shim-runc-v2"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool),
                              "\(tool) is not installed (Debian: apt-get install containerd rootlesskit)")
        }
        return try ContainerdTests.shared.get()
    }

    /// The shim hands nook `--root /run/containerd/runc/default`, which does not exist yet.
    func testRunInTheForegroundReturnsTheExitCode() throws {
        let c = try containerd()
        let id = Harness.name("ctr")
        let r = try c.ctr(["run", "--rm", "--runc-binary", h.nook, "--rootfs", h.rootfs, id,
                           "sh", "-c", "echo hello; id -u; echo pid $$; exit 3"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stdout, "hello\n0\npid 1\n", "root in rootlesskit's user namespace, PID 1 of its own")
        XCTAssertNil(try c.tasks()[id])
    }

    func testDetachedExecKillDeleteLeaveNothing() throws {
        let c = try containerd()
        let id = Harness.name("ctrd")
        let started = try c.ctr(["run", "-d", "--runc-binary", h.nook, "--rootfs", h.rootfs, id, "sleep", "1000"])
        XCTAssertEqual(started.status, 0, started.stderr)
        let task = try XCTUnwrap(try c.tasks()[id], "ctr task ls")
        XCTAssertEqual(task.status, "RUNNING")
        let container = try ContainerMountNamespace(of: task.pid)

        let exec = try c.ctr(["task", "exec", "--exec-id", "e1", id, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; exit 4"])
        XCTAssertEqual(exec.status, 4, exec.stderr)
        XCTAssertEqual(exec.stdout, "sleep 1000 ", "exec lands in the container's PID namespace")
        XCTAssertEqual(try c.ctr(["task", "exec", "-d", "--exec-id", "e2", id, "sleep", "999"]).status, 0)
        XCTAssertTrue(Harness.eventually { container.members.count == 2 }, container.describe())
        let ps = try c.ctr(["task", "ps", id])
        XCTAssertEqual(ps.status, 0, ps.stderr)
        let listed = Set(ps.stdout.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.flatMap { Int32($0) } })
        XCTAssertEqual(listed, container.members, "ctr task ps (nook ps --format json) lists the container's processes")

        let killed = try c.ctr(["task", "kill", "-s", "SIGKILL", id])
        XCTAssertEqual(killed.status, 0, killed.stderr)
        XCTAssertTrue(Harness.eventually { (try? c.tasks()[id]?.status) == "STOPPED" })
        XCTAssertTrue(container.staysEmpty(), "left \(container.describe())")
        let deleted = try c.ctr(["task", "delete", id])
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertEqual(try c.ctr(["container", "delete", id]).status, 0)

        XCTAssertNil(try c.tasks()[id])
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.dir + "/state/io.containerd.runtime.v2.task/default/" + id), "the bundle is gone")
        let left = try c.inside(["/bin/ls", "-A", "/run/containerd/runc/default"])
        XCTAssertEqual(left.status, 0, left.stderr)
        XCTAssertFalse(left.stdout.split(separator: "\n").contains(Substring(id)), "nook's state under the shim's --root is gone: \(left.stdout)")
    }

    /// An image, not a --rootfs: an OCI archive made here from the busybox rootfs,
    /// `ctr images import`ed, unpacked by the overlayfs snapshotter (rootless,
    /// in rootlesskit's user namespace) and mounted by the shim as the bundle's rootfs.
    func testAnImportedImageRuns() throws {
        let c = try containerd()
        let name = "localhost/" + Harness.name("nookbox") + ":latest"
        let archive = try ociArchive(of: h.rootfs, name: name)
        let imported = try c.ctr(["images", "import", archive])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        defer { _ = try? c.ctr(["images", "rm", name]) }
        let id = Harness.name("ctrimg")
        let r = try c.ctr(["run", "--rm", "--runc-binary", h.nook, name, id, "sh", "-c", "echo from-image; id -u; grep -c ' / overlay ' /proc/mounts"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "from-image\n0\n1\n", "the image's files, root inside, the snapshot as /")
        XCTAssertNil(try c.tasks()[id])
    }

    /// An OCI image layout in a tar (index.json, oci-layout, blobs): one
    /// uncompressed layer of `rootfs`, every file owned by root.
    func ociArchive(of rootfs: String, name: String) throws -> String {
        let dir = try h.scratch("oci")
        let blobs = dir + "/layout/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func blob(_ path: String) throws -> (digest: String, size: Int) {
            let sum = try Harness.shell(["/usr/bin/sha256sum", path])
            let hex = String(sum.stdout.prefix(64))
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            try FileManager.default.moveItem(atPath: path, toPath: blobs + "/" + hex)
            return ("sha256:" + hex, size)
        }
        func json(_ object: [String: Any]) throws -> (digest: String, size: Int) {
            let path = dir + "/object.json"
            try JSONSerialization.data(withJSONObject: object, options: .sortedKeys).write(to: URL(fileURLWithPath: path))
            return try blob(path)
        }
        let tar = try Harness.shell(["/bin/tar", "--owner=0", "--group=0", "--numeric-owner", "-C", rootfs, "-cf", dir + "/layer.tar", "."])
        XCTAssertEqual(tar.status, 0, tar.stderr)
        let layer = try blob(dir + "/layer.tar")
        let config = try json(["architecture": "amd64", "os": "linux", "config": ["Cmd": ["sh"]],
                               "rootfs": ["type": "layers", "diff_ids": [layer.digest]]])
        let manifest = try json(["schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                 "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size],
                                 "layers": [["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.digest, "size": layer.size]]])
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [["mediaType": "application/vnd.oci.image.manifest.v1+json",
                                    "digest": manifest.digest, "size": manifest.size,
                                    "annotations": ["io.containerd.image.name": name]]]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: dir + "/layout/index.json"))
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: dir + "/layout/oci-layout", atomically: true, encoding: .utf8)
        let archive = dir + "/image.tar"
        let packed = try Harness.shell(["/bin/tar", "-C", dir + "/layout", "-cf", archive, "."])
        XCTAssertEqual(packed.status, 0, packed.stderr)
        if h.isRoot { chown(archive, h.user.uid, h.user.gid) }
        return archive
    }

    /// containerd as the host's root hands nook a config.json without a user
    /// namespace: runc would make the container's root the host's; Nook refuses,
    /// and nothing is left. This containerd has a /run of its own (a tmpfs in a
    /// private mount namespace), so the host's is not touched.
    func testContainerdAsRealRootIsRefused() throws {
        _ = try containerd()
        try XCTSkipUnless(h.isRoot, "needs the tests to run as root, to start containerd as root")
        let dir = try h.scratch("containerd-root")
        try ContainerdTests.writeConfig(in: dir)
        let pid = try Harness.spawn(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                     "mount -t tmpfs tmpfs /run && exec /usr/bin/containerd --config \"$0\"", dir + "/config.toml"],
                                    stdin: "/dev/null", stdout: dir + "/containerd.log", stderr: dir + "/containerd.log")
        defer { Harness.end(pid) }
        XCTAssertTrue(Harness.eventually(30) { FileManager.default.fileExists(atPath: dir + "/containerd.sock") })
        let ctr = ["/usr/bin/nsenter", "--mount", "--target", "\(pid)", "/usr/bin/ctr", "--address", dir + "/containerd.sock"]
        let id = Harness.name("ctrroot")
        let r = try Harness.shell(ctr + ["run", "--rm", "--runc-binary", h.nook, "--rootfs", h.rootfs, id, "id", "-u"])
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertEqual(r.stdout, "", "nothing ran")
        XCTAssertTrue(r.stderr.contains("linux.namespaces has no user namespace, and nook runs as the host's root: the container's root would be the host's root"), r.stderr)
        XCTAssertEqual(try Harness.shell(ctr + ["container", "ls", "-q"]).stdout, "", "no container left")
    }
}
