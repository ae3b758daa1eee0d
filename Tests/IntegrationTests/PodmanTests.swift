import Foundation
import XCTest

/// podman as a real client of Nook's OCI interface: rootless podman (vfs
/// storage, cgroupfs, file events) started as the test user with
/// `--runtime <nook>`, on an image imported from the busybox rootfs.
final class PodmanTests: XCTestCase {
    var h: Harness { Harness.shared }

    struct Podman {
        let dir: String
        let h: Harness

        func argv(_ args: [String]) -> [String] {
            var env = ["HOME": dir + "/home", "XDG_RUNTIME_DIR": dir + "/run",
                       "CONTAINERS_CONF": dir + "/containers.conf", "CONTAINERS_STORAGE_CONF": dir + "/storage.conf",
                       "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
            env["LANG"] = "C"
            let envArgs = ["/usr/bin/env", "-i"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let podman = envArgs + ["/usr/bin/podman", "--runtime", h.nook] + args
            if h.isRoot {
                return ["/usr/bin/setpriv", "--reuid=\(h.user.uid)", "--regid=\(h.user.gid)", "--clear-groups"] + podman
            }
            return podman
        }

        func run(_ args: [String], timeout: TimeInterval = 90) throws -> Harness.Result {
            try Harness.shell(argv(args), timeout: timeout)
        }
    }

    static let shared: Result<Podman, Error> = Result {
        let h = Harness.shared
        let dir = try h.scratch("podman")
        for sub in ["home", "run", "storage"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
            if h.isRoot { chown(dir + "/" + sub, h.user.uid, h.user.gid) }
        }
        chmod(dir + "/run", 0o700)
        try """
        [containers]
        netns = "none"
        [engine]
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        """.write(toFile: dir + "/containers.conf", atomically: true, encoding: .utf8)
        try """
        [storage]
        driver = "vfs"
        graphroot = "\(dir)/storage/graph"
        runroot = "\(dir)/run/storage"
        """.write(toFile: dir + "/storage.conf", atomically: true, encoding: .utf8)
        let podman = Podman(dir: dir, h: h)
        // An image from the test rootfs, every file owned by (container) root.
        let tarball = dir + "/rootfs.tar"
        let tar = try Harness.shell(["/bin/tar", "--owner=0", "--group=0", "--numeric-owner", "-C", h.rootfs, "-cf", tarball, "."])
        guard tar.status == 0 else { throw NSError(domain: "podman", code: 1, userInfo: [NSLocalizedDescriptionKey: tar.stderr]) }
        if h.isRoot { chown(tarball, h.user.uid, h.user.gid) }
        let imported = try podman.run(["import", tarball, "localhost/nookbox"])
        guard imported.status == 0 else { throw NSError(domain: "podman", code: 2, userInfo: [NSLocalizedDescriptionKey: imported.stderr]) }
        return podman
    }

    /// Rootless podman leaves a pause process (catatonit) holding its user
    /// namespace; stop it by the pid podman recorded, never by name.
    override class func tearDown() {
        guard case .success(let p) = shared,
              let text = try? String(contentsOfFile: p.dir + "/run/libpod/tmp/pause.pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        kill(pid, SIGKILL)
    }

    func podman() throws -> Podman {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/podman"),
                          "podman is not installed (Debian: apt-get install podman conmon catatonit)")
        return try PodmanTests.shared.get()
    }

    func testRunRemovesAndReturnsTheExitCode() throws {
        let p = try podman()
        let r = try p.run(["run", "--rm", "--pull", "never", "localhost/nookbox", "sh", "-c", "echo hello; id -u; exit 3"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stdout, "hello\n0\n")
    }

    /// podman asks the runtime `--version` and shows it; without it, `ociRuntime` was null.
    func testPodmanInfoShowsNooksVersion() throws {
        let p = try podman()
        let r = try p.run(["info", "--format", "{{.Host.OCIRuntime.Version}}"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("nook version "), r.stdout)
    }

    func testDetachedExecStopRemove() throws {
        let p = try podman()
        let name = Harness.name("pod")
        let started = try p.run(["run", "-d", "--name", name, "--pull", "never", "localhost/nookbox", "sleep", "100"])
        XCTAssertEqual(started.status, 0, started.stderr)
        let exec = try p.run(["exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"])
        XCTAssertEqual(exec.status, 0, exec.stderr)
        XCTAssertEqual(exec.stdout, "sleep 100 ", "exec lands in the container's PID namespace")
        let ps = try p.run(["ps", "--format", "{{.Names}} {{.Status}}"])
        XCTAssertTrue(ps.stdout.contains(name + " Up"), ps.stdout)
        XCTAssertEqual(try p.run(["stop", "-t", "1", name]).status, 0)
        XCTAssertEqual(try p.run(["rm", name]).status, 0)
        // conmon runs nook with podman's XDG_RUNTIME_DIR: Nook's state is under it.
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: p.dir + "/run/nook")) ?? []
        XCTAssertFalse(left.contains(id), "podman's delete removed Nook's state: \(left)")
    }

    func testInteractiveTerminal() throws {
        let p = try podman()
        let session = try PtySession(p.argv(["run", "-it", "--rm", "--pull", "never", "localhost/nookbox", "sh"]))
        XCTAssertTrue(session.expect("# ", timeout: 30), session.output)
        session.send("tty; echo it-$((6*7))\n")
        XCTAssertTrue(session.expect("it-42"), session.output)
        XCTAssertTrue(session.output.contains("/dev/pts/0"), session.output)
        session.send("exit 5\n")
        XCTAssertEqual(session.wait(timeout: 30), 5)
    }
}
