import Foundation
import XCTest

/// Container layers whose owner is gone: a `nook run IMAGE` killed with
/// SIGKILL, a state directory that went. They must not keep their image
/// from rmi for good; a live container's layer must never be swept. And
/// rmi decides under locks/containers.lock, which a run making a layer of
/// an image holds shared.
extension ImageRunTests {
    /// An image of its own (a label makes it one), imported with no name; its short ID.
    func importOwnImage(_ label: String) throws -> String {
        let layout = h.work + "/image-layout-" + label
        let made = try Harness.shell(["/usr/bin/python3", Harness.repoRoot() + "/Tests/images/oci-layout.py", layout, "--tag", label,
                                      "--owner", "0:0", "--layer", h.rootfs, "--config-json", #"{"Labels":{"test":"\#(label)-\#(getpid())"}}"#])
        XCTAssertEqual(made.status, 0, made.stderr)
        _ = try Harness.shell(["/bin/chmod", "-R", "a+rX", layout])
        let r = try nook(["image", "import", layout])
        XCTAssertEqual(r.status, 0, r.stderr)
        return String(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("Loaded image: sha256:".count).prefix(12))
    }

    /// A run killed (SIGKILL) after its layer was made, before its container
    /// was in the state root: rmi sweeps the layer and removes the image. A
    /// stopped container whose state directory was removed: the same. A
    /// live `run -d` container whose state directory is out of sight: its
    /// monitor holds the layer's lock, so rmi neither sweeps it nor removes the image.
    func testOrphanLayersDoNotPinTheImageAndAreSwept() throws {
        XCTAssertEqual(containerDirectories(), [], "no layer before the test")
        let id = try importOwnImage("orphan")
        let report = h.work + "/fault-orphan-\(getpid())"
        unlink(report)
        let killed = Harness.name("orphank")
        let run = try h.start(["run", "--name", killed, id, "sleep", "1000"],
                              env: ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_FAULT_STOP": "image.layer-made", "NOOK_FAULT_REPORT": report])
        let pid = try XCTUnwrap(Harness.stoppedAtFaultPoint(report, process: run), "never stopped at image.layer-made: \(run.stderrText)")
        kill(pid, SIGKILL)
        _ = run.wait()
        XCTAssertEqual(containerDirectories().count, 1, "the killed run left its layer")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/" + killed), "and no container")
        XCTAssertEqual(try nook(["ps", "-a", "--format", "{{.Names}}"]).status, 0, "the runtime's own recovery...")
        XCTAssertEqual(containerDirectories().count, 1, "...knows no image store: the layer is still there")
        var r = try nook(["rmi", id])
        XCTAssertEqual(r.status, 0, "the orphan does not pin its image: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("Deleted: "), r.stdout)
        XCTAssertEqual(containerDirectories(), [], "rmi swept the orphan layer")

        // A stopped container whose state went (a wiped /tmp/nook-UID): its layer is an orphan too.
        let id2 = try importOwnImage("orphan2")
        let gone = Harness.name("orphans")
        r = try nook(["run", "-d", "--name", gone, id2, "sh", "-c", "mkdir /d; chown 1000:1000 /d; echo x > /d/f"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try nook(["wait", gone]).stdout, "0\n")
        XCTAssertTrue(Harness.eventually { self.containerDirectories().map(self.layerLockIsFree) == [true] }, "its monitor is gone, and its lock")
        XCTAssertEqual(try nook(["rmi", id2]).status, 125, "a stopped container still uses its image")
        XCTAssertEqual(containerDirectories().count, 1)
        XCTAssertEqual(try Harness.shell(["/bin/rm", "-rf", h.stateDir() + "/" + gone]).status, 0)
        r = try nook(["image", "prune"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Deleted: "), "prune sweeps it too, and removes the image: \(r.stdout)")
        XCTAssertEqual(containerDirectories(), [], "files of sub-ids included")

        // A live container: its monitor holds the lock, whatever happens to its state.
        let id3 = try importOwnImage("orphan3")
        let live = Harness.name("orphanl")
        defer { _ = try? nook(["rm", "-f", live]) }
        r = try nook(["run", "-d", "--name", live, id3, "sleep", "1000"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let moved = h.work + "/moved-state-\(getpid())"
        XCTAssertEqual(rename(h.stateDir() + "/" + live, moved), 0, "its state out of sight")
        r = try nook(["rmi", id3])
        let layers = containerDirectories()
        XCTAssertEqual(rename(moved, h.stateDir() + "/" + live), 0)
        XCTAssertEqual(r.status, 125, "a live container's image is in use: \(r.stdout)")
        XCTAssertTrue(r.stderr.contains("is in use by container \(live)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("a nook process runs \(live) now, from a state root not seen from here: stop it there first"), r.stderr)
        XCTAssertFalse(r.stderr.contains("rm -rf"), "never the hand removal of a live layer: \(r.stderr)")
        XCTAssertEqual(layers.count, 1, "its layer was not swept")
        XCTAssertEqual(layers.map(layerLockIsFree), [false], "its monitor holds the layer's lock")
        r = try nook(["image", "prune"])
        XCTAssertEqual(containerDirectories().count, 1, "nor by prune: \(r.stdout)")
        XCTAssertEqual(try nook(["exec", live, "--", "true"]).status, 0, "the container still runs")
        XCTAssertEqual(try nook(["rm", "-f", live]).status, 0)
        XCTAssertEqual(try nook(["rmi", id3]).status, 0)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// The store is shared by every mount namespace the user works in (and,
    /// over NFS, by every host), the state root is not: under systemd's
    /// PrivateTmp, or in any shell with a /tmp of its own, the state root's
    /// path names another directory, where a stopped container of the host's
    /// is not. A run there must not sweep that container's layer (its lock
    /// is free: it is stopped). Here the other namespace has a fresh empty
    /// directory bound over the user's state root (a different
    /// XDG_RUNTIME_DIR or --root would not do: the sweep looks in the state
    /// root each layer records, not in the caller's).
    func testARunInAnotherMountNamespaceKeepsAStoppedContainersLayer() throws {
        try XCTSkipUnless(h.isRoot, "the other mount namespace is made as root")
        XCTAssertEqual(containerDirectories(), [], "no layer before the test")
        let id = try importOwnImage("keepns")
        let keep = Harness.name("keepns")
        defer { _ = try? nook(["rm", "-f", keep]); _ = try? nook(["rmi", id]) }
        var r = try nook(["run", "-d", "--name", keep, id, "sh", "-c", "echo precious >> /data.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try nook(["wait", keep]).stdout, "0\n")
        let layers = containerDirectories()
        XCTAssertEqual(layers.count, 1)
        XCTAssertTrue(Harness.eventually { layers.map(self.layerLockIsFree) == [true] }, "stopped: nobody holds its layer's lock")
        let data = store() + "/containers/" + (layers.first ?? "none") + "/upper/data.txt"
        XCTAssertEqual(try? String(contentsOfFile: data, encoding: .utf8), "precious\n")

        let other = try h.scratch("other-state-root")
        chmod(other, 0o700)
        let there = h.commandLine(["run", "--rm", id, "true"], env: ["XDG_DATA_HOME": Self.stores[h.user.name]!])
        r = try Harness.shell(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                               #"mount --bind "$1" "$2" && shift 2 && exec "$@""#, "sh", other, h.stateDir()] + there)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(containerDirectories(), layers, "the stopped container's layer was not swept")
        XCTAssertEqual(try? String(contentsOfFile: data, encoding: .utf8), "precious\n", "nor its data")
        // rmi from there refuses too, and says how to remove the layer by hand once its container is known gone;
        // from here, where the container is seen, it says nook rm.
        let layerPath = store() + "/containers/" + (layers.first ?? "none")
        r = try Harness.shell(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                               #"mount --bind "$1" "$2" && shift 2 && exec "$@""#, "sh", other, h.stateDir()]
                              + h.commandLine(["rmi", id], env: ["XDG_DATA_HOME": Self.stores[h.user.name]!]))
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertTrue(r.stderr.contains("if it is gone, remove its writable layer: nook unshare rm -rf '\(layerPath)'"), r.stderr)
        r = try nook(["rmi", id])
        XCTAssertEqual(r.status, 125, r.stderr)
        XCTAssertTrue(r.stderr.contains("remove the container first: nook rm \(keep))"), r.stderr)
        XCTAssertFalse(r.stderr.contains("nook unshare"), r.stderr)
        r = try nook(["start", keep])
        XCTAssertEqual(r.status, 0, "it starts again: \(r.stderr)")
        XCTAssertEqual(try nook(["wait", keep]).stdout, "0\n")
        XCTAssertEqual(try? String(contentsOfFile: data, encoding: .utf8), "precious\nprecious\n", "on its own layer")

        // Its layer removed all the same (by hand, or by an older nook's sweep): start says so, and what to do.
        XCTAssertTrue(Harness.eventually { layers.map(self.layerLockIsFree) == [true] })
        r = try nook(["unshare", "rm", "-rf", layerPath])  // the hint's command
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: layerPath))
        r = try nook(["start", keep])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("writable layer") && r.stderr.contains("nook rm \(keep)"), r.stderr)
        XCTAssertFalse(r.stderr.contains("nook rootfs busybox"), r.stderr)
        XCTAssertEqual(try nook(["rm", keep]).status, 0)
        XCTAssertEqual(try nook(["rmi", id]).status, 0)
    }

    /// A run stopped while it holds locks/containers.lock shared (its image
    /// resolved, its layer not yet made): rmi of the image waits for it, and
    /// then refuses, the image being in use by the container the run made.
    func testRmiWaitsForARunMakingALayerOfTheImage() throws {
        let id = try importOwnImage("racing")
        let name = Harness.name("racing")
        defer { _ = try? nook(["rm", "-f", name]); _ = try? nook(["rmi", id]) }
        let report = h.work + "/fault-racing-\(getpid())"
        unlink(report)
        let run = try h.start(["run", "-d", "--name", name, id, "sleep", "1000"],
                              env: ["XDG_DATA_HOME": Self.stores[h.user.name]!, "NOOK_FAULT_STOP": "image.shared-locked", "NOOK_FAULT_REPORT": report])
        let pid = try XCTUnwrap(Harness.stoppedAtFaultPoint(report, process: run), "never stopped at image.shared-locked: \(run.stderrText)")
        XCTAssertEqual(containerDirectories(), [], "no layer yet")
        let rmi = try h.start(["rmi", id], env: ["XDG_DATA_HOME": Self.stores[h.user.name]!], captureOutput: true)
        usleep(1_500_000)
        XCTAssertTrue(Harness.isAlive(rmi.pid), "rmi waits for the run: \(rmi.stdoutText) \(rmi.stderrText)")
        XCTAssertTrue(rmi.stderrText.contains("nook: waiting for another nook command: a run or create making a container layer"),
                      "and says so: \(rmi.stderrText)")
        XCTAssertTrue(try nook(["images", "-q"]).stdout.contains(id), "the image is still there")
        kill(pid, SIGCONT)
        XCTAssertEqual(run.wait(timeout: 60), 0, run.stderrText)
        XCTAssertEqual(rmi.wait(timeout: 60), 125, rmi.stdoutText)
        XCTAssertTrue(rmi.stderrText.contains("is in use by container \(name)"), rmi.stderrText)
        XCTAssertEqual(try nook(["exec", name, "--", "true"]).status, 0, "the run's container runs on its image")
        XCTAssertEqual(try nook(["rm", "-f", name]).status, 0)
        XCTAssertEqual(try nook(["rmi", id]).status, 0)
        XCTAssertEqual(containerDirectories(), [])
    }

    /// Nobody holds the flock of the container layer `name` (under containers/): its owner is gone.
    func layerLockIsFree(_ name: String) -> Bool {
        let fd = open(store() + "/containers/" + name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }
}
