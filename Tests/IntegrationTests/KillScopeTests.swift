import Foundation
import XCTest

/// Issue 15: `kill --all`, `delete --force`, `stop` and `ps` on a container
/// without a PID namespace of its own touch its processes and nothing else.
///
/// Each test keeps a sentinel `sleep` of the same user outside any container,
/// which must survive, and its own view of the container: every process in the
/// container's mount namespace (each container here makes one; the test holds
/// it open, so its inode cannot pass to another namespace meanwhile).
final class KillScopeTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// Three levels of processes; `(sleep 1003 &)` is an orphan from the start
    /// (its parent exits at once), so it is nobody's descendant in the container.
    let tree = "sleep 1000 & sh -c 'sleep 1001 & sleep 1002 & wait' & (sleep 1003 &); wait"

    // MARK: the tests

    func testKillAllAndDeleteForceSpareEverythingOutsideTheContainer() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let dir = try h.runcRootlessBundle(["sh", "-c", tree])
        for verb in ["kill --all", "delete --force"] {
            let id = Harness.name("scope")
            XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
            XCTAssertEqual(try h.run(["start", id]).status, 0)
            let container = try ContainerMountNamespace(of: try initPID(id))
            XCTAssertTrue(treeIsUp(container), container.describe())
            XCTAssertEqual(try ps(id), container.members, "ps lists the container's processes, and only those")

            let r = verb == "kill --all" ? try h.run(["kill", "--all", id, "9"]) : try h.run(["delete", "--force", id])
            XCTAssertEqual(r.status, 0, "\(verb): \(r.stderr)")
            XCTAssertTrue(Harness.eventually { container.members.isEmpty }, "\(verb) left \(container.describe())")
            XCTAssertTrue(Harness.isAlive(sentinel), "\(verb) killed the sentinel")
            if verb == "kill --all" { XCTAssertEqual(try h.run(["delete", id]).status, 0) }
        }
    }

    func testStopAndRmForceOfADetachedContainerSpareEverythingOutsideIt() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let dir = try h.runcRootlessBundle(["sh", "-c", tree])
        for verb in ["stop", "rm -f"] {
            let id = Harness.name("dscope")
            let started = try h.run(["run", "-d", "--bundle", dir, id])
            XCTAssertEqual(started.status, 0, started.stderr)
            let container = try ContainerMountNamespace(of: try initPID(id))
            XCTAssertTrue(treeIsUp(container), container.describe())
            XCTAssertEqual(try ps(id), container.members)

            // stop: the shell dies of TERM (it is not a PID 1); what it leaves is killed.
            let r = verb == "stop" ? try h.run(["stop", "-t", "1", id]) : try h.run(["rm", "-f", id])
            XCTAssertEqual(r.status, 0, "\(verb): \(r.stderr)")
            XCTAssertEqual(r.stdout, id + "\n")
            XCTAssertTrue(Harness.eventually { container.members.isEmpty }, "\(verb) left \(container.describe())")
            XCTAssertTrue(Harness.isAlive(sentinel), "\(verb) killed the sentinel")
            if verb == "stop" { XCTAssertEqual(try h.run(["rm", id]).status, 0) }
        }
    }

    /// Processes fork, and orphans appear, all through the kill: none may be missed.
    func testForksDuringTheKillLeaveNothing() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        // Long-lived children: one that escaped the kill would still be there to see.
        let dir = try h.runcRootlessBundle(["sh", "-c", "spin() { while :; do sleep 1000 & (sleep 1000 &); sleep 0.02; done; }; spin & spin & spin"])
        for verb in ["kill --all", "delete --force"] {
            let id = Harness.name("forks")
            XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
            XCTAssertEqual(try h.run(["start", id]).status, 0)
            let container = try ContainerMountNamespace(of: try initPID(id))
            XCTAssertTrue(Harness.eventually { container.members.count > 30 }, "\(container.members.count)")
            let r = verb == "kill --all" ? try h.run(["kill", "--all", id, "9"]) : try h.run(["delete", "--force", id])
            XCTAssertEqual(r.status, 0, "\(verb): \(r.stderr)")
            XCTAssertTrue(container.staysEmpty(), "\(verb) left \(container.describe())")
            XCTAssertTrue(Harness.isAlive(sentinel), "\(verb) killed the sentinel")
            if verb == "kill --all" { XCTAssertEqual(try h.run(["delete", id]).status, 0) }
        }
    }

    /// With --init, the init hides its namespaces (it is not dumpable): its PID
    /// namespace is found through its child, and so is a process `nook exec` started.
    func testPsAndRmForceOfAnInitContainerFindExecProcesses() throws {
        let id = Harness.name("initps")
        let started = try h.run(["run", "-d", "--init", "--name", id, "--rootfs", h.rootfs, "--", "sh", "-c", "sleep 1000 & wait"])
        XCTAssertEqual(started.status, 0, started.stderr)
        let execed = try h.start(["exec", id, "--", "sleep", "999"])
        let container = try ContainerMountNamespace(of: try initPID(id))
        XCTAssertTrue(Harness.eventually { container.members.count == 4 }, "init, sh, sleep 1000, sleep 999: \(container.describe())")
        XCTAssertEqual(try ps(id), container.members)
        XCTAssertEqual(try h.run(["rm", "-f", id]).status, 0)
        XCTAssertTrue(Harness.eventually { container.members.isEmpty }, "left \(container.describe())")
        XCTAssertEqual(execed.wait(), 137, "nook exec reports its process killed")
    }

    /// As under podman: nook runs as root in the user's own user namespace and
    /// config.json gives the PID namespace by path. The container's processes
    /// must be in that namespace, and the namespace's own processes are not the container's.
    func testAPIDNamespaceGivenByPathIsEnteredAndOnlyTheContainerIsKilled() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let holder = try Holder(h)
        let dir = try insideBundle(["sh", "-c", "sleep 1000 & sh -c 'sleep 1001 & wait' & wait"],
                                   pidPath: "/proc/\(holder.pid)/ns/pid")
        let id = Harness.name("joinpid")
        let created = try holder.nook(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try holder.nook(["start", id]).status, 0)
        let initPID = try self.initPID(id, root: holder.root)
        let container = try ContainerMountNamespace(of: initPID)
        XCTAssertTrue(Harness.eventually { container.members.count == 4 }, "\(container.members)")
        let given = try namespaceInode("/proc/\(holder.pid)/ns/pid")
        for pid in container.members {
            XCTAssertEqual(try namespaceInode("/proc/\(pid)/ns/pid"), given, "process \(pid) is in the PID namespace given by path")
        }
        XCTAssertEqual(try nsPIDs(initPID).count, 2, "the init has a pid in the given namespace too")
        XCTAssertEqual(try ps(id, holder: holder), container.members, "not the namespace's PID 1, not the sentinel")

        let r = try holder.nook(["kill", "--all", id, "9"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { container.members.isEmpty }, "left \(container.describe())")
        XCTAssertTrue(Harness.isAlive(holder.pid), "the PID namespace's own PID 1 is not the container's")
        XCTAssertTrue(Harness.isAlive(sentinel))
        XCTAssertEqual(try holder.nook(["delete", id]).status, 0)
    }

    /// No namespace of its own but the mount namespace (nook in the user's user
    /// namespace, the host's PID namespace): only the init's descendants are
    /// the container's, and they fork through `delete --force`.
    func testWithoutOwnUserOrPIDNamespaceDescendantsAreKilledThroughTheirForks() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let holder = try Holder(h)
        let dir = try insideBundle(["sh", "-c", "spin() { while :; do sleep 1000 & sleep 0.02; done; }; spin & sh -c 'while :; do sleep 1000 & sleep 0.02; done' & spin"],
                                   pidPath: nil)
        let id = Harness.name("tree")
        let created = try holder.nook(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try holder.nook(["start", id]).status, 0)
        let container = try ContainerMountNamespace(of: try initPID(id, root: holder.root))
        XCTAssertTrue(Harness.eventually { container.members.count > 20 }, "\(container.members.count)")
        let r = try holder.nook(["delete", "--force", id])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(container.staysEmpty(), "left \(container.describe())")
        XCTAssertTrue(Harness.isAlive(sentinel))
        XCTAssertTrue(Harness.isAlive(holder.pid))
    }

    /// `nook kill ID KILL` then `nook delete ID` (no --force): the init is
    /// not a PID 1 here, so its death alone would leave the rest running, and
    /// once the state is gone nothing would find them. KILL takes them all.
    func testKillOfTheInitThenDeleteLeaveNothing() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let dir = try h.runcRootlessBundle(["sh", "-c", tree])
        let id = Harness.name("killrm")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        let container = try ContainerMountNamespace(of: try initPID(id))
        XCTAssertTrue(treeIsUp(container), container.describe())
        let killed = try h.run(["kill", id, "KILL"])
        XCTAssertEqual(killed.status, 0, killed.stderr)
        XCTAssertTrue(Harness.eventually { (try? h.run(["state", id]).stdout.contains("\"stopped\"")) == true })
        let deleted = try h.run(["delete", id])
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertTrue(container.staysEmpty(), "left \(container.describe())")
        XCTAssertTrue(Harness.isAlive(sentinel), "killed the sentinel")
    }

    /// No user or PID namespace of its own (podman's config without a pid
    /// namespace): only descendants are provably the container's, and an orphan
    /// (`(sleep 1003 &)`) is one because the init adopts it (a child subreaper).
    func testAnOrphanWithoutOwnUserOrPIDNamespaceIsStillTheContainers() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let holder = try Holder(h)
        let dir = try insideBundle(["sh", "-c", tree], pidPath: nil)
        let id = Harness.name("orphan")
        let created = try holder.nook(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try holder.nook(["start", id]).status, 0)
        let container = try ContainerMountNamespace(of: try initPID(id, root: holder.root))
        XCTAssertTrue(treeIsUp(container), container.describe())
        XCTAssertEqual(try ps(id, holder: holder), container.members, "ps lists the orphan too")
        XCTAssertEqual(try holder.nook(["kill", id, "9"]).status, 0)
        XCTAssertTrue(container.staysEmpty(), "left \(container.describe())")
        XCTAssertEqual(try holder.nook(["delete", id]).status, 0)
        XCTAssertTrue(Harness.isAlive(sentinel))
    }

    /// Decision (Docs/lifecycle.md): a host process of the container's owner that
    /// joins the container's user namespace (`nsenter -U -t INIT`) is in the
    /// container, as a `nook exec` is: `ps` lists it and `delete --force` kills it.
    /// A process of the same user that joined nothing is not touched.
    func testAProcessThatJoinedTheContainersUserNamespaceIsTheContainers() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let dir = try h.runcRootlessBundle(["sleep", "1000"])
        let id = Harness.name("joined")
        XCTAssertEqual(try h.run(["create", "--bundle", dir, id]).status, 0)
        XCTAssertEqual(try h.run(["start", id]).status, 0)
        let initPID = try initPID(id)
        let container = try ContainerMountNamespace(of: initPID)
        let nsenter = ["/usr/bin/nsenter", "--user", "--preserve-credentials", "--target", "\(initPID)", "/bin/sleep", "1005"]
        let joined = try Harness.spawn(h.asUser(nsenter),
                                       stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        defer { Harness.end(joined) }
        let userns = try namespaceInode("/proc/\(initPID)/ns/user")
        XCTAssertTrue(Harness.eventually { (try? self.namespaceInode("/proc/\(joined)/ns/user")) == userns
            && (try? String(contentsOfFile: "/proc/\(joined)/cmdline", encoding: .utf8)) == "/bin/sleep\u{0}1005\u{0}" })
        XCTAssertEqual(try ps(id), container.members.union([joined]), "ps lists the process that joined")
        let r = try h.run(["delete", "--force", id])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually { !Harness.isAlive(joined) }, "delete --force killed the process that joined")
        XCTAssertTrue(container.staysEmpty(), "left \(container.describe())")
        XCTAssertTrue(Harness.isAlive(sentinel), "a process that joined nothing is not the container's")
    }

    /// clone(CLONE_PARENT | CLONE_NEWUSER) from the init: the child is the
    /// init's sibling (a child of the host's `nook __monitor`, not of any
    /// process of the container's) in a user namespace of its own. That
    /// namespace was made inside the container's, so the child is the container's.
    func testASiblingInANestedUserNamespaceIsTheContainers() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let dir = try h.runcRootlessBundle(["/bin/probe", "sibling-new-userns", "/bin/sleep", "4343", "--", "/bin/sleep", "1001"])
        let (id, initPID, container) = try runDetached(dir, "sibling")
        defer { container.killAll() } // what escaped, if the test fails
        XCTAssertTrue(Harness.eventually { Set(container.commands) == ["/bin/sleep 4343", "/bin/sleep 1001"] }, container.describe())
        let sibling = try XCTUnwrap(container.pid(of: "/bin/sleep 4343"))
        XCTAssertEqual(Harness.parent(of: sibling), Harness.parent(of: initPID), "the init's sibling, not its child")
        XCTAssertNotEqual(try namespaceInode("/proc/\(sibling)/ns/user"), try namespaceInode("/proc/\(initPID)/ns/user"))
        XCTAssertEqual(try ps(id), container.members, "ps lists the sibling")
        assertRmForceLeavesNothing(id, container, sentinel)
    }

    /// A `nook exec` process that unshares a user namespace and is orphaned
    /// (its shell exits) is in neither the container's user namespace nor its
    /// tree: its user namespace descends from the container's, so it is the container's.
    /// A user namespace of the same user's made outside the container is not the container's.
    func testAnOrphanInANestedUserNamespaceIsTheContainers() throws {
        let sentinel = try h.startSentinel()
        defer { Harness.end(sentinel) }
        let unshared = try Harness.spawn(h.asUser(["/usr/bin/unshare", "--user", "/bin/sleep", "1006"]),
                                         stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        defer { Harness.end(unshared) }
        XCTAssertTrue(Harness.eventually { ContainerMountNamespace.command(unshared) == "/bin/sleep 1006" })
        let dir = try h.runcRootlessBundle(["sleep", "1000"])
        let (id, initPID, container) = try runDetached(dir, "nested")
        defer { container.killAll() } // what escaped, if the test fails
        let exec = try h.run(["exec", "--detach", id, "--", "/bin/sh", "-c",
                              "/bin/probe exec-new-userns /bin/sleep 4242 & /bin/sleep 12345 & exit 0"])
        XCTAssertEqual(exec.status, 0, exec.stderr)
        XCTAssertTrue(Harness.eventually { Set(container.commands) == ["sleep 1000", "/bin/sleep 4242", "/bin/sleep 12345"] }, container.describe())
        let nested = try XCTUnwrap(container.pid(of: "/bin/sleep 4242"))
        XCTAssertNotEqual(try namespaceInode("/proc/\(nested)/ns/user"), try namespaceInode("/proc/\(initPID)/ns/user"))
        XCTAssertEqual(try ps(id), container.members, "ps lists the process in the nested user namespace")
        assertRmForceLeavesNothing(id, container, sentinel)
        XCTAssertTrue(Harness.isAlive(unshared), "rm -f killed a process in a user namespace made outside")
    }

    // MARK: helpers

    /// `nook run -d --bundle DIR`: its id, its init and its mount namespace.
    func runDetached(_ dir: String, _ base: String) throws -> (String, Int32, ContainerMountNamespace) {
        let id = Harness.name(base)
        let started = try h.run(["run", "-d", "--bundle", dir, id])
        XCTAssertEqual(started.status, 0, started.stderr)
        let initPID = try initPID(id)
        return (id, initPID, try ContainerMountNamespace(of: initPID))
    }

    func assertRmForceLeavesNothing(_ id: String, _ container: ContainerMountNamespace, _ sentinel: Int32,
                                    file: StaticString = #filePath, line: UInt = #line) {
        let r = try? h.run(["rm", "-f", id])
        XCTAssertEqual(r?.status, 0, r?.stderr ?? "", file: file, line: line)
        XCTAssertTrue(container.staysEmpty(), "rm -f left \(container.describe())", file: file, line: line)
        XCTAssertTrue(Harness.isAlive(sentinel), "rm -f killed the sentinel", file: file, line: line)
    }

    /// All six processes of `tree`, the orphan's parent gone.
    func treeIsUp(_ container: ContainerMountNamespace) -> Bool {
        Harness.eventually {
            let commands = container.commands
            return commands.count == 6 && commands.contains("sleep 1003") && commands.filter { $0.hasPrefix("sh ") }.count == 2
        }
    }

    func initPID(_ id: String, root: String? = nil) throws -> Int32 {
        let data = try Data(contentsOf: URL(fileURLWithPath: (root ?? h.stateDir()) + "/\(id)/state.json"))
        let state = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return try XCTUnwrap(state?["pid"] as? Int).int32
    }

    /// `nook ps --format json ID`.
    func ps(_ id: String, holder: Holder? = nil) throws -> Set<Int32> {
        let args = ["ps", "--format", "json", id]
        let r = try holder?.nook(args) ?? h.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return Set((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int] ?? []).map(\.int32))
    }

    func namespaceInode(_ path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        return UInt64(st.st_ino)
    }

    func nsPIDs(_ pid: Int32) throws -> [Substring] {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        return status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?.split(separator: "\t").dropFirst().map { $0 } ?? []
    }

    /// The config podman would give Nook: no user namespace, no id maps (nook
    /// runs as root in the user's user namespace), the PID namespace by path or none.
    func insideBundle(_ args: [String], pidPath: String?) throws -> String {
        try h.runcRootlessBundle(args) { config in
            var linux = config["linux"] as! [String: Any]
            linux["uidMappings"] = nil
            linux["gidMappings"] = nil
            var namespaces = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "user" }
            if let pidPath {
                namespaces.append(["type": "pid", "path": pidPath])
                // Its own /proc: of the PID namespace it joined, which our user namespace owns.
                config["mounts"] = (config["mounts"] as! [[String: Any]]).map { m in
                    m["destination"] as? String == "/proc" ? ["destination": "/proc", "type": "proc", "source": "proc"] : m
                }
            }
            linux["namespaces"] = namespaces
            config["linux"] = linux
        }
    }

    /// A user namespace of the test user's, with sub-ids mapped by newuidmap
    /// (as podman's), holding a PID namespace whose PID 1 is a `sleep`.
    final class Holder {
        let h: Harness
        let unshare: Int32
        let pid: Int32
        let root: String

        init(_ h: Harness) throws {
            self.h = h
            let argv = ["/usr/bin/unshare", "--map-root-user", "--map-auto", "--pid", "--fork", "/bin/sleep", "1000"]
            let err = try h.scratch("holder") + "/err"
            let unshare = try Harness.spawn(h.isRoot ? ["/usr/bin/setpriv", "--reuid=\(h.user.uid)", "--regid=\(h.user.gid)", "--clear-groups"] + argv : argv,
                                            stdin: "/dev/null", stdout: "/dev/null", stderr: err)
            self.unshare = unshare
            // unshare forks a helper for newuidmap too: wait for the sleep.
            var child: Int32?
            _ = Harness.eventually {
                child = Harness.children(of: unshare).first {
                    (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) == "/bin/sleep\u{0}1000\u{0}"
                }
                return child != nil
            }
            guard let child else {
                let why = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
                kill(unshare, SIGKILL)
                waitpid(unshare, nil, 0)
                throw XCTSkip("no user namespace with sub-ids for the test user here: \(why)")
            }
            pid = child
            root = try h.scratch("inside") + "/state"
        }

        deinit {
            kill(pid, SIGKILL)
            kill(unshare, SIGKILL)
            waitpid(unshare, nil, 0)
        }

        /// `nook --root ROOT ARGS` as root of the holder's user namespace.
        func nook(_ args: [String]) throws -> Harness.Result {
            var argv = h.commandLine(["--root", root] + args)
            let at = try XCTUnwrap(argv.firstIndex(of: h.nook))
            argv.insert(contentsOf: ["/usr/bin/nsenter", "--user", "--target", "\(pid)", "--preserve-credentials"], at: at)
            return try Harness.shell(argv)
        }
    }
}

extension Harness {
    /// A `sleep` of the test user's, outside any container.
    func startSentinel(_ seconds: String = "1000") throws -> Int32 {
        let sleep = ["/bin/sleep", seconds]
        let argv = isRoot ? ["/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups"] + sleep : sleep
        let pid = try Harness.spawn(argv, stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        XCTAssertTrue(Harness.eventually { (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) == "/bin/sleep\u{0}\(seconds)\u{0}" })
        return pid
    }

    static func end(_ pid: Int32) {
        kill(pid, SIGKILL)
        waitpid(pid, nil, 0)
    }

    /// config.json as `runc spec --rootless` writes it, with what the issue
    /// describes: no PID namespace. Two edits follow from that or from Nook:
    /// /proc becomes the host's (rbind), since the kernel lets a user namespace
    /// mount a new proc only for a PID namespace it owns; and the ambient
    /// capabilities go, which are not inheritable there (runc ignores the
    /// EPERM from raising them, Nook refuses the config).
    func runcRootlessBundle(_ args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let runc = "/usr/sbin/runc"
        guard FileManager.default.isExecutableFile(atPath: runc) else { throw XCTSkip("runc is not installed: no `runc spec --rootless`") }
        let dir = try scratch("runc-spec")
        let made = try runAsUser([runc, "spec", "--rootless", "--bundle", dir])
        guard made.status == 0 else { throw NSError(domain: "runc", code: 1, userInfo: [NSLocalizedDescriptionKey: made.stderr]) }
        let path = dir + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        config["root"] = ["path": rootfs, "readonly": true]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        process["terminal"] = false
        var caps = process["capabilities"] as! [String: Any]
        caps["ambient"] = nil
        process["capabilities"] = caps
        config["process"] = process
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "pid" }
        config["linux"] = linux
        config["mounts"] = (config["mounts"] as! [[String: Any]]).map { m in
            m["destination"] as? String == "/proc"
                ? ["destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind", "nosuid", "noexec", "nodev"]] : m
        }
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return dir
    }
}

/// A container's mount namespace, held open: its live processes, seen from outside.
final class ContainerMountNamespace {
    let fd: Int32
    let dev: UInt64
    let ino: UInt64

    init(of pid: Int32) throws {
        fd = open("/proc/\(pid)/ns/mnt", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        var st = stat()
        fstat(fd, &st)
        dev = UInt64(st.st_dev)
        ino = UInt64(st.st_ino)
    }

    deinit { close(fd) }

    /// Zombies are left out: they have no namespaces any more.
    var members: Set<Int32> {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        return Set(pids.filter { pid in
            var st = stat()
            return stat("/proc/\(pid)/ns/mnt", &st) == 0 && UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino && Harness.isAlive(pid)
        })
    }

    /// Empty within a few seconds, and still empty a moment later.
    func staysEmpty() -> Bool {
        guard Harness.eventually(10, { self.members.isEmpty }) else { return false }
        usleep(500_000)
        return members.isEmpty
    }

    /// Their command lines, space-separated.
    var commands: [String] { members.map(Self.command) }

    func pid(of command: String) -> Int32? { members.first { Self.command($0) == command } }

    static func command(_ pid: Int32) -> String {
        ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\u{0}").joined(separator: " ")
    }

    /// SIGKILL to each, by pid: the namespace is held open, so the pids are its processes'.
    func killAll() {
        for pid in members { kill(pid, SIGKILL) }
    }

    func describe() -> String {
        members.sorted().map { pid in
            "\(pid) " + ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").replacingOccurrences(of: "\u{0}", with: " ")
        }.joined(separator: "; ")
    }
}
