import Foundation
import XCTest

/// `nook run IMAGE`: the image's config applied under the flags, a writable
/// layer of its own per container (overlayfs in the user namespace), gone with
/// the container. Images are built here (Tests/images/oci-layout.py) from the
/// harness's busybox rootfs and imported into a store of the test's own
/// (`nook image import`); layers are unpacked at the first run.
final class ImageRunTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// XDG_DATA_HOME for each user: its store is DIR/nook.
    static let stores: [String: String] = {
        let h = Harness.shared
        var result: [String: String] = [:]
        do {
            let extra = h.work + "/image-extra"
            try FileManager.default.createDirectory(atPath: extra + "/srv", withIntermediateDirectories: true)
            try "from layer 2\n".write(toFile: extra + "/srv/hello.txt", atomically: false, encoding: .utf8)
            let configs = [
                "plain": "{}",
                "configured": #"{"Entrypoint":["/bin/echo","entry"],"Cmd":["cmd"],"Env":["GREETING=hello","PATH=/bin:/usr/bin"],"WorkingDir":"/srv","User":"alice"}"#,
                "stopsig": #"{"StopSignal":"SIGUSR1","Labels":{"org.example.role":"test"}}"#,
                "badsig": #"{"StopSignal":"SIGFOO"}"#,
                "rtsig": #"{"StopSignal":"SIGRTMIN+3"}"#,
                "web": #"{"ExposedPorts":{"8080/tcp":{}},"Cmd":["httpd","-f","-p","8080","-h","/www"]}"#,
            ]
            for (tag, config) in configs.sorted(by: { $0.key < $1.key }) {
                let layout = h.work + "/image-layout-" + tag
                let made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", tag,
                                              "--owner", "0:0", "--layer", h.rootfs, "--layer", extra, "--config-json", config])
                guard made.status == 0 else { fatalError("oci-layout.py: \(made.stderr)") }
                _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
            }
            for user in [Harness.withRange, Harness.withoutRange] {
                let data = h.work + "/xdg-\(user.name)"
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                if h.isRoot { chown(data, user.uid, user.gid) }
                for tag in configs.keys {
                    let imported = try h.run(["image", "import", h.work + "/image-layout-" + tag, tag], as: user, env: ["XDG_DATA_HOME": data])
                    guard imported.status == 0 else { fatalError("nook image import: \(imported.stderr)") }
                }
                result[user.name] = data
            }
        } catch { fatalError("image fixtures: \(error)") }
        return result
    }()

    func store(_ who: Harness.User? = nil) -> String { Self.stores[(who ?? h.user).name]! + "/nook" }

    @discardableResult
    func nook(_ args: [String], as who: Harness.User? = nil, timeout: TimeInterval = 60) throws -> Harness.Result {
        try h.run(args, as: who, env: ["XDG_DATA_HOME": Self.stores[(who ?? h.user).name]!], timeout: timeout)
    }

    /// The store's per-container directories (none once every container is gone).
    func containerDirectories(_ who: Harness.User? = nil) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: store(who) + "/containers")) ?? []
    }

    func testImageConfigAppliesAndFlagsOverrideIt() throws {
        var r = try nook(["run", "configured"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "entry cmd\n", "Entrypoint + Cmd")
        r = try nook(["run", "configured", "other", "-n"])
        XCTAssertEqual(r.stdout, "entry other -n\n", "a COMMAND replaces Cmd; flags after the image are the command's")
        r = try nook(["run", "--entrypoint", "/bin/sh", "configured", "-c", "echo $GREETING $HOME; pwd; id -u; echo $PATH"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "hello /home/alice\n/srv\n1000\n/bin:/usr/bin\n", "Env, WorkingDir and User from the image")
        r = try nook(["run", "-e", "GREETING=bye", "-w", "/tmp", "-u", "0", "--entrypoint", #"["/bin/sh","-c"]"#, "configured",
                      "echo $GREETING; pwd; id -u"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "bye\n/tmp\n0\n", "-e, -w and -u override the image")
        r = try nook(["run", "plain", "sh", "-c", "echo $PATH; cat /srv/hello.txt"])
        XCTAssertEqual(r.stdout, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nfrom layer 2\n",
                       "PATH by default; the upper layer's file over the lower")
        r = try nook(["run", "plain"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("has no Entrypoint or Cmd"), r.stderr)
        XCTAssertEqual(containerDirectories(), [])
    }

    func testUnknownImageIsAClearError() throws {
        let r = try nook(["run", "nosuchimage", "true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("image 'nosuchimage' is not in the store: nook pull nosuchimage or nook image import"), r.stderr)
    }

    /// Host root's containers are mapped away from root (0 -> 100000), and that
    /// root cannot unpack into root's 0700 store: a clear error, exit 125,
    /// nothing left; not "permission denied" on a lock file.
    func testRootIsToldImagesRunRootless() throws {
        try XCTSkipUnless(h.isRoot, "only meaningful when nook runs as host root")
        _ = Self.stores  // the image layouts
        let data = try h.scratch("root-xdg")
        chown(data, 0, 0)
        let env = ["/usr/bin/env", "XDG_DATA_HOME=\(data)"]
        var r = try Harness.shell(env + [h.nook, "image", "import", h.work + "/image-layout-plain", "plain"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for args in [["run", "plain", "true"], ["run", "--userns", "host", "plain", "true"], ["create", "plain", "true"]] {
            r = try Harness.shell(env + [h.nook] + args)
            XCTAssertEqual(r.status, 125, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("images are run rootless: nook as the host's root cannot unpack the layers of image"), r.stderr)
            XCTAssertTrue(r.stderr.contains("run nook as an ordinary user"), r.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: data + "/nook/containers"), [], "\(args) left a layer")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: data + "/nook/layers"), [], "\(args) left a layer")
            XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/nook/locks/containers.lock"), "\(args): refused before the store was touched")
        }
    }

    func testTraceSaysOverlayWithItsLayers() throws {
        let r = try nook(["run", "--trace", "plain", "true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = r.stderr.split(separator: "\n").first { $0.hasPrefix("trace: overlay: ") } ?? ""
        XCTAssertTrue(line.contains("lowerdir=layers/") && line.contains("upperdir=containers/"), r.stderr)
        XCTAssertFalse(r.stderr.contains("MS_BIND|MS_REC)"), "the root is the overlay, not a bind")
    }

    /// Each container writes into its own layer: the other never sees it, and
    /// the image's layer is the same after a container deleted a file of it.
    func testContainersOfOneImageDoNotSeeEachOthersWrites() throws {
        let a = Harness.name("imga"), b = Harness.name("imgb")
        defer { _ = try? nook(["rm", "-f", a]); _ = try? nook(["rm", "-f", b]) }
        var r = try nook(["run", "-d", "--name", a, "plain", "sh", "-c", "echo mine > /mine; rm /bin/vi; sleep 60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let layerFiles = try FileManager.default.contentsOfDirectory(atPath: store() + "/layers")  // unpacked by that first run
        let vi = try XCTUnwrap(layerFiles.map { store() + "/layers/" + $0 + "/bin/vi" }.first { FileManager.default.fileExists(atPath: $0) })
        r = try nook(["run", "-d", "--name", b, "plain", "sleep", "60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { (try? self.nook(["exec", a, "--", "cat", "/mine"]))?.stdout == "mine\n" })
        XCTAssertNotEqual(try nook(["exec", a, "--", "ls", "/bin/vi"]).status, 0, "deleted in a")
        XCTAssertEqual(try nook(["exec", b, "--", "ls", "/bin/vi"]).status, 0, "still there in b")
        XCTAssertNotEqual(try nook(["exec", b, "--", "cat", "/mine"]).status, 0, "a's file is not in b")
        XCTAssertTrue(FileManager.default.fileExists(atPath: vi), "the image's layer is unchanged")
        XCTAssertEqual(try nook(["rm", "-f", a]).status, 0)
        XCTAssertEqual(try nook(["rm", "-f", b]).status, 0)
        XCTAssertEqual(containerDirectories(), [], "rm removes each container's layer")
    }

    func testReadOnlyKeepsTheImageImmutable() throws {
        let r = try nook(["run", "--read-only", "plain", "sh", "-c", "touch /new"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Read-only file system"), r.stderr)
        XCTAssertEqual(try nook(["run", "--read-only", "plain", "cat", "/srv/hello.txt"]).stdout, "from layer 2\n")
        XCTAssertEqual(containerDirectories(), [])
    }

    func testDetachedExecLogsAndRemoveLeaveNoLayer() throws {
        let name = Harness.name("imgd")
        defer { _ = try? nook(["rm", "-f", name]) }
        var r = try nook(["run", "-d", "--name", name, "plain", "sh", "-c", "echo started; sleep 60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(containerDirectories().count, 1)
        r = try nook(["exec", name, "--", "sh", "-c", "echo written > /tmp/x; cat /tmp/x"])
        XCTAssertEqual(r.stdout, "written\n", r.stderr)
        XCTAssertTrue(Harness.eventually { (try? self.nook(["logs", name]))?.stdout == "started\n" })
        XCTAssertEqual(try nook(["rm", "-f", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [], "the writable layer went with the container")

        r = try nook(["run", "-d", "--rm", "--name", name, "plain", "true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { self.containerDirectories().isEmpty }, "run -d --rm removes it when it stops")
    }

    /// Files a container's users made (sub-ids, a 0700 directory of theirs)
    /// are removed too: inside the user namespace.
    func testUpperLayerIsGoneAfterAForegroundRun() throws {
        let r = try nook(["run", "plain", "sh", "-c", "mkdir /d && echo x > /d/f && chown -R 1000:1000 /d && chmod 700 /d && rm /bin/vi"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(containerDirectories(), [], r.stderr)
    }

    /// podman's `create IMAGE` then `start`: the container runs in the
    /// background with the image's config and the flags, as `run -d` would;
    /// `nook rm` removes it and its layer. A bad image leaves nothing.
    func testCreateThenStartRunsTheImageAndRmRemovesItsLayer() throws {
        let name = Harness.name("imgcreate")
        defer { _ = try? nook(["rm", "-f", name]) }
        var r = try nook(["create", "--name", name, "-e", "GREETING=created", "--entrypoint", "/bin/sh", "configured",
                          "-c", "echo $GREETING; pwd; id -u"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, name + "\n")
        XCTAssertEqual(containerDirectories().count, 1, "its layer is made at create")
        r = try nook(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        XCTAssertTrue(r.stdout.split(separator: "\n").contains("\(name) created"), r.stdout)
        XCTAssertEqual(try nook(["logs", name]).stdout, "", "nothing ran yet")
        r = try nook(["start", name])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try nook(["wait", name]).stdout, "0\n")
        XCTAssertEqual(try nook(["logs", name]).stdout, "created\n/srv\n1000\n", "-e and --entrypoint over the image's Env, WorkingDir, User")
        r = try nook(["exec", name, "--", "true"])
        XCTAssertNotEqual(r.status, 0, "stopped: nothing to exec into")
        XCTAssertEqual(try nook(["rm", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [], "rm removed the layer")

        r = try nook(["create", "--name", name, "nosuchimage"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("image 'nosuchimage' is not in the store"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/" + name), "no container recorded")
        r = try nook(["create", "-t", "plain", "sh"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("-t and -i go with nook run"), r.stderr)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// `create --rm` (podman's): the container waits, created, through other
    /// nook commands (each repairs the store first); `start` runs it and it
    /// goes, with its layer, when it stops.
    func testCreateRmWaitsForStartThenGoesWithItsLayer() throws {
        let name = Harness.name("imgcrm")
        defer { _ = try? nook(["rm", "-f", name]) }
        var r = try nook(["create", "--rm", "--name", name, "plain", "sh", "-c", "echo ran > /tmp/x"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try nook(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        XCTAssertTrue(r.stdout.split(separator: "\n").contains("\(name) created"), "a later command kept it: \(r.stdout)")
        XCTAssertEqual(containerDirectories().count, 1, "and its layer")
        r = try nook(["start", name])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { self.containerDirectories().isEmpty }, "its layer went when it stopped")
        XCTAssertTrue(Harness.eventually {
            !((try? self.nook(["ps", "-a", "--format", "{{.Names}}"]))?.stdout.split(separator: "\n").contains(Substring(name)) ?? true)
        }, "and so did the container")
    }

    /// A start that fails (the command is not in the image) keeps the
    /// container and its layer for `nook rm`, as podman does: the next
    /// command's recovery found it "creating" and removed it (hostile review).
    func testAFailedStartKeepsTheContainerAndItsLayer() throws {
        let name = Harness.name("imgfst")
        defer { _ = try? nook(["rm", "-f", name]) }
        var r = try nook(["create", "--name", name, "plain", "no-such-command"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try nook(["start", name])
        XCTAssertEqual(r.status, 127, r.stderr)
        r = try nook(["ps", "-a", "--format", "{{.Names}}"])
        XCTAssertTrue(r.stdout.split(separator: "\n").contains(Substring(name)), "kept after the failed start: \(r.stdout)")
        XCTAssertEqual(containerDirectories().count, 1, "and its layer")
        XCTAssertEqual(try nook(["rm", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [], "rm removes the layer")
    }

    /// `create` with an image flag is podman's form even in a directory
    /// holding a config.json; runc's form (--bundle) refuses image flags
    /// rather than drop them; `--rm --restart` is refused before any layer is made.
    func testCreateKeepsImageFlagsAndRefusesThemWithABundle() throws {
        let name = Harness.name("imgcrb")
        defer { _ = try? nook(["rm", "-f", name]) }
        let dir = h.work + "/create-here"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "{}".write(toFile: dir + "/config.json", atomically: false, encoding: .utf8)
        chmod(dir, 0o755)
        chmod(dir + "/config.json", 0o644)
        let here = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir]
            + h.commandLine(["create", "--name", name, "configured"], env: ["XDG_DATA_HOME": Self.stores[h.user.name]!])
        var r = try Harness.shell(here)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try nook(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        XCTAssertTrue(r.stdout.split(separator: "\n").contains("\(name) created"), "the image's container, --name kept: \(r.stdout)")
        XCTAssertEqual(try nook(["rm", name]).status, 0)

        r = try nook(["create", "--bundle", dir, "-e", "A=1", "--publish-all", name])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--env, --publish-all cannot go with --bundle"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/" + name), "nothing recorded")
        r = try nook(["create", "--bundle", dir, "--cpuset-cpus", "0", "--preserve-fds", "0", name])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--cpuset-cpus cannot go with --bundle"), "each flag by its own name: \(r.stderr)")

        r = try nook(["create", "--rm", "--restart", "always", "configured"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--rm and --restart always cannot go together"), r.stderr)
        r = try nook(["create", "--restart", "sometimes", "configured"])
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertEqual(containerDirectories(), [], "no layer made")
    }

    /// The root overlay's line in the container's mountinfo (mount point "/", type overlay).
    static let rootOverlayLine = "grep ' / / .* - overlay ' /proc/self/mountinfo"

    /// A layer that goes when its container stops is mounted `volatile` (no
    /// sync of the host's filesystem at unmount); one that may be mounted again
    /// (`run -d` without --rm, started again by `nook start`) is not: the kernel
    /// refuses to mount a volatile upper layer twice.
    func testATransientContainersLayerIsVolatileAKeptOnesIsNot() throws {
        var r = try nook(["run", "plain", "sh", "-c", Self.rootOverlayLine])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The kernel shows it as fsync=volatile (6.x) or volatile.
        XCTAssertTrue(r.stdout.contains("volatile"), "a foreground run's layer: \(r.stdout)")
        r = try nook(["run", "--trace", "plain", "true"])
        XCTAssertTrue(r.stderr.contains("volatile: the layer goes when the container stops"), r.stderr)

        let name = Harness.name("imgkept")
        defer { _ = try? nook(["rm", "-f", name]) }
        r = try nook(["run", "-d", "--name", name, "plain", "sh", "-c", Self.rootOverlayLine])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try nook(["wait", name]).stdout, "0\n")
        XCTAssertEqual(try nook(["start", name]).status, 0, "the same layer mounted again")
        XCTAssertEqual(try nook(["wait", name]).stdout, "0\n")
        let lines = try nook(["logs", name]).stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "two runs over one layer: \(lines)")
        XCTAssertFalse(lines.contains { $0.contains("volatile") }, "\(lines)")
        XCTAssertEqual(try nook(["rm", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// -P publishes what the image exposes on a port the kernel picks: `nook
    /// port` names it, and the container answers there on 127.0.0.1.
    func testPublishAllPublishesTheImagesExposedPorts() throws {
        guard Harness.isInstalled("pasta") else { throw XCTSkip("pasta is not installed (Debian package passt)") }
        let www = try h.scratch("www")
        try "exposed\n".write(toFile: www + "/index.html", atomically: true, encoding: .utf8)
        chmod(www + "/index.html", 0o644)
        let name = Harness.name("imgweb")
        defer { _ = try? nook(["rm", "-f", name]) }
        let r = try nook(["run", "-d", "--init", "--name", name, "--network", "pasta", "-P", "-v", "\(www):/www:ro", "web"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let port = try nook(["port", name, "8080"])
        XCTAssertEqual(port.status, 0, port.stderr)
        let address = port.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hostPort = try XCTUnwrap(UInt16(address.split(separator: ":").last ?? ""), address)
        XCTAssertNotEqual(hostPort, 0)
        var page = ""
        XCTAssertTrue(Harness.eventually(15) {
            page = (try? Loopback.httpGet(port: hostPort)) ?? ""
            return page.contains("exposed")
        }, "GET http://127.0.0.1:\(hostPort)/ gave '\(page)'")
        XCTAssertEqual(try nook(["rm", "-f", name]).status, 0)
        XCTAssertEqual(containerDirectories(), [])
    }

    func testStopSendsTheImagesStopSignal() throws {
        let name = Harness.name("imgstop")
        defer { _ = try? nook(["rm", "-f", name]) }
        // PID 1 ignores TERM (no handler); the image says USR1, which it traps.
        var r = try nook(["run", "-d", "--name", name, "stopsig", "sh", "-c",
                          "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 0.1; done"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { (try? self.nook(["logs", name]))?.stdout == "ready\n" })
        r = try nook(["inspect", name])
        XCTAssertTrue(r.stdout.contains("org.example.role"), "labels become annotations: \(r.stdout)")
        XCTAssertEqual(try nook(["stop", "-t", "30", name]).status, 0)
        r = try nook(["wait", name])
        XCTAssertEqual(r.stdout, "7\n", "stopped by USR1, not killed: \(r.stderr)")
    }

    /// A StopSignal that is no signal is refused at run, not at the first `nook stop`; nothing is left.
    func testAnImagesUnknownStopSignalIsRefusedAtRun() throws {
        let r = try nook(["run", "--network", "none", "badsig", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("names a stop signal 'SIGFOO' that is no signal"), r.stderr)
        XCTAssertEqual(containerDirectories(), [])
        // systemd images' SIGRTMIN+3 is one.
        let systemd = try nook(["run", "--network", "none", "rtsig", "/bin/true"])
        XCTAssertEqual(systemd.status, 0, systemd.stderr)
    }

    func testUserWithoutSubIDsRunsAnImage() throws {
        let who = Harness.withoutRange
        let r = try nook(["run", "plain", "sh", "-c", "echo hi > /f; cat /f /srv/hello.txt; id -u"], as: who)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "hi\nfrom layer 2\n0\n")
        XCTAssertEqual(containerDirectories(who), [])
    }
}

extension ImageRunTests {
    /// rmi refuses an image a container uses, and names the container;
    /// prune keeps it. Once the container is gone, both remove it.
    func testImageInUseIsNotRemoved() throws {
        // An image of its own (its label makes it one), with no name: prune's kind.
        let layout = h.work + "/image-layout-inuse"
        let made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "inuse",
                                      "--owner", "0:0", "--layer", h.rootfs, "--config-json", #"{"Labels":{"test":"in use"}}"#])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        var r = try nook(["image", "import", layout])
        XCTAssertEqual(r.status, 0, r.stderr)
        let id = String(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("Loaded image: sha256:".count).prefix(12))
        let name = Harness.name("imguse")
        defer { _ = try? nook(["rm", "-f", name]); _ = try? nook(["rmi", id]) }
        r = try nook(["run", "-d", "--name", name, id, "sleep", "60"])
        XCTAssertEqual(r.status, 0, r.stderr)

        r = try nook(["rmi", id])
        XCTAssertEqual(r.status, 125, r.stdout)
        XCTAssertTrue(r.stderr.contains("image '\(id)' is in use by container \(name)") && r.stderr.contains("nook rm -f \(name)"), r.stderr)
        r = try nook(["image", "prune"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains(id), "prune keeps it: \(r.stdout)")
        XCTAssertTrue(try nook(["images", "-q"]).stdout.contains(id), "still there")
        XCTAssertEqual(try nook(["exec", name, "--", "true"]).status, 0, "the container still runs")

        XCTAssertEqual(try nook(["rm", "-f", name]).status, 0)
        r = try nook(["image", "prune"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Deleted: " + id), r.stdout)
        XCTAssertFalse(try nook(["images", "-q"]).stdout.contains(id))
    }

    /// podman's rmi -f: the containers of the image go first (a running one
    /// killed, a created one removed), with their layers; then the image.
    func testRmiForceRemovesTheContainersUsingTheImage() throws {
        let layout = h.work + "/image-layout-force"
        let made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", "force",
                                      "--owner", "0:0", "--layer", h.rootfs, "--config-json", #"{"Labels":{"test":"rmi -f"}}"#])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        var r = try nook(["image", "import", layout, "localhost/force:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let running = Harness.name("rmif-run"), created = Harness.name("rmif-made")
        defer { _ = try? nook(["rm", "-f", running]); _ = try? nook(["rm", "-f", created]); _ = try? nook(["rmi", "localhost/force:1"]) }
        r = try nook(["run", "-d", "--name", running, "localhost/force:1", "sleep", "60"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try nook(["create", "--name", created, "localhost/force:1", "true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(containerDirectories().count, 2)

        // A name that is not there: refused before any container goes.
        r = try nook(["rmi", "-f", "localhost/force:1", "localhost/nosuch:1"])
        XCTAssertEqual(r.status, 125)
        XCTAssertEqual(containerDirectories().count, 2, "nothing removed: \(r.stderr)")
        XCTAssertEqual(try nook(["exec", running, "--", "true"]).status, 0, "it still runs")

        r = try nook(["rmi", "-f", "localhost/force:1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Untagged: localhost/force:1") && r.stdout.contains("Deleted: "), r.stdout)
        for name in [running, created] {
            XCTAssertEqual(try nook(["state", name]).status, 125, "\(name) is gone")
        }
        XCTAssertEqual(containerDirectories(), [], "their layers went with them")
        XCTAssertFalse(try nook(["images"]).stdout.contains("localhost/force"))
    }
}
