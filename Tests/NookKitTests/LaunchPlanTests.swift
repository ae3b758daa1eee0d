import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class LaunchPlanTests: XCTestCase {
    var tmp: TempDir!
    var rootfs: String!
    let me = IDMapping.single(uid: 1000, gid: 1000)

    override func setUpWithError() throws {
        tmp = try TempDir("nook-plan")
        rootfs = try tmp.dir("rootfs")
    }
    override func tearDown() { tmp.remove() }

    func make(_ spec: Spec, identity: IDMapping? = nil) throws -> LaunchPlan {
        try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path, identity: identity ?? me)
    }

    func testDefaultPlan() throws {
        let plan = try make(defaultSpec(rootfs: rootfs, args: ["sh", "-c", "id"], hostname: "box"))
        XCTAssertEqual(plan.containerID, "c1")
        XCTAssertEqual(plan.rootfs, rootfs)
        XCTAssertEqual(plan.argv, ["sh", "-c", "id"])
        XCTAssertEqual(plan.cwd, "/")
        XCTAssertEqual(plan.uid, 0)
        XCTAssertEqual(plan.gid, 0)
        XCTAssertEqual(plan.hostname, "box")
        XCTAssertTrue(plan.loopbackUp, "a new network namespace gets lo up")
        XCTAssertTrue(plan.noNewPrivileges)
        XCTAssertFalse(plan.readonlyRootfs)
        XCTAssertEqual(Set(plan.namespaces), Set(NamespaceKind.allCases))
        XCTAssertEqual(plan.execCandidates, ["/usr/local/sbin/sh", "/usr/local/bin/sh", "/usr/sbin/sh",
                                             "/usr/bin/sh", "/sbin/sh", "/bin/sh"])
        // capabilities: the default set, and nothing else
        let caps = try XCTUnwrap(plan.capabilities)
        XCTAssertEqual(Capability.names(in: caps.bounding).sorted(), SpecDefaults.capabilities.sorted())
        XCTAssertEqual(caps.inheritable, 0)
        XCTAssertEqual(caps.ambient, 0)
    }

    /// The cgroup and network decisions go into plan making, typed; none is patched in afterwards.
    func testTheCgroupAndNetworkDecisionsAreMadeWithThePlan() throws {
        let spec = defaultSpec(rootfs: rootfs)
        let plain = try make(spec)
        XCTAssertTrue(plain.hasOwnCgroup)
        XCTAssertFalse(plain.networkHelper)
        let pasta = NetworkSettings(mode: .pasta(allowHostLoopback: false, options: []))
        let plan = try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path, identity: me, ownCgroup: false, network: pasta)
        XCTAssertFalse(plan.hasOwnCgroup, "--trace says the cgroup namespace is rooted at nook's own cgroup")
        XCTAssertTrue(plan.networkHelper, "--trace says the helper set up the network")
        XCTAssertFalse(try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path, identity: me,
                                           network: NetworkSettings(mode: .host)).networkHelper)
    }

    /// The plan takes a `-v` source as RunOptions looked at it: no second look
    /// (a directory here, told to be a file with a read-only, noexec mount), and
    /// its locked flags come from that same look (a user namespace locks them).
    func testTheBindSourceIsLookedAtOnce() throws {
        let data = try tmp.dir("data")
        var spec = defaultSpec(rootfs: rootfs)
        let volume = VolumeSpec(source: data, destination: "/data")
        spec.mounts?.append(volume.ociMount(absoluteSource: data))
        var parsed = try ParsedSpec(spec)
        parsed.mounts[parsed.mounts.count - 1] = volume.mount(source: BindSource(path: data, isDirectory: false, mountFlags: 1 | 8))
        let plan = try LaunchPlan.make(spec: spec, containerID: "c1", bundle: tmp.path, identity: me, parsed: parsed)
        let op = try XCTUnwrap(plan.mounts.first { $0.target == "/data" })
        XCTAssertTrue(op.targetIsFile, "the carried look, not a new one")
        XCTAssertEqual(op.attrs, ABI.MOUNT_ATTR_RDONLY | ABI.MOUNT_ATTR_NOSUID | ABI.MOUNT_ATTR_NODEV | ABI.MOUNT_ATTR_NOEXEC)
        // Without typed mounts (a bundle, a restart), the plan looks itself, once.
        let looked = try XCTUnwrap(try make(spec).mounts.first { $0.target == "/data" })
        XCTAssertFalse(looked.targetIsFile)
    }

    func testOOMScoreAdjOutsideTheKernelsRangeIsRefused() throws {
        XCTAssertEqual(try LaunchPlan.checkedOOMScoreAdj(-1000), -1000)
        XCTAssertNil(try LaunchPlan.checkedOOMScoreAdj(nil))
        assertNookError(try LaunchPlan.checkedOOMScoreAdj(1001)) { e in
            XCTAssertEqual(e.message, "field 'process.oomScoreAdj' is 1001: the kernel takes -1000 to 1000")
        }
    }

    func testCloneFlagsExcludeTheCgroupNamespace() throws {
        let plan = try make(defaultSpec(rootfs: rootfs))
        XCTAssertEqual(plan.cloneFlags, ABI.CLONE_NEWUSER | ABI.CLONE_NEWNS | ABI.CLONE_NEWPID | ABI.CLONE_NEWNET
                                        | ABI.CLONE_NEWUTS | ABI.CLONE_NEWIPC)
        XCTAssertEqual(plan.cloneFlags & ABI.CLONE_NEWCGROUP, 0)
        XCTAssertTrue(plan.unshareCgroupNamespace)
    }

    func testWithoutCgroupOrNetworkOrUTSNamespace() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces = ["user", "mount", "pid"].map { Spec.Namespace(type: $0) }
        let plan = try make(spec)
        XCTAssertFalse(plan.unshareCgroupNamespace)
        XCTAssertEqual(plan.cloneFlags, ABI.CLONE_NEWUSER | ABI.CLONE_NEWNS | ABI.CLONE_NEWPID)
        XCTAssertNil(plan.hostname, "without a UTS namespace the host's name must not be changed")
        XCTAssertFalse(plan.loopbackUp)
    }

    func testExecCandidatesFollowTheContainerPATH() {
        XCTAssertEqual(LaunchPlan.execCandidates(for: "app", env: ["PATH=/opt/bin:/x/", "HOME=/"]),
                       ["/opt/bin/app", "/x/app"])
        XCTAssertEqual(LaunchPlan.execCandidates(for: "app", env: ["PATH=/first", "PATH=/second"]), ["/second/app"],
                       "the last PATH is the one execve sees after merging")
        XCTAssertEqual(LaunchPlan.execCandidates(for: "app", env: []).last, "/bin/app", "no PATH: the default one")
    }

    func testAbsoluteCommandIsTheOnlyCandidate() throws {
        var spec = defaultSpec(rootfs: rootfs, args: ["/bin/busybox", "true"])
        spec.process?.env = ["PATH=/nowhere"]
        XCTAssertEqual(try make(spec).execCandidates, ["/bin/busybox"])
    }

    func testRelativeRootIsUnderTheBundle() throws {
        let spec = defaultSpec(rootfs: "rootfs")
        XCTAssertEqual(try make(spec).rootfs, tmp.path + "/rootfs")
    }

    func testProcessFields() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.cwd = "/srv"
        spec.process?.terminal = true
        spec.process?.rlimits = [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 512)]
        spec.root?.readonly = true
        let plan = try make(spec)
        XCTAssertEqual(plan.cwd, "/srv")
        XCTAssertTrue(plan.terminal)
        XCTAssertTrue(plan.readonlyRootfs)
        XCTAssertEqual(plan.rlimits, [try ResourceLimit(Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 512))])
    }

    // MARK: errors

    func testMissingRootfs() {
        assertNookError(try make(defaultSpec(rootfs: tmp.path + "/nope"))) { e in
            XCTAssertEqual(e.message, "rootfs '\(self.tmp.path)/nope' does not exist")
            assertContains(e.hint ?? "", "nook rootfs busybox")
        }
    }

    /// The root of `nook run IMAGE`'s container is its layer in the image store: gone, nothing makes it again.
    func testMissingRootOfAContainersOwnLayer() throws {
        let layer = tmp.path + "/containers/c1-abc"
        var spec = defaultSpec(rootfs: layer + "/merged")
        spec.annotations = [RootOverlay.ownedLayerAnnotation: layer]
        assertNookError(try make(spec)) { e in
            XCTAssertEqual(e.message, "the container's writable layer '\(layer)' was removed: its files are gone")
            XCTAssertEqual(e.hint, "remove the container with: nook rm c1, then run its image again")
        }
        XCTAssertEqual(mkdir(tmp.path + "/containers", 0o755), 0)
        XCTAssertEqual(mkdir(layer, 0o755), 0)
        assertNookError(try make(spec)) { e in
            XCTAssertEqual(e.message, "the container's writable layer '\(layer)' has no 'merged' directory")
        }
    }

    func testRootfsThatIsAFile() throws {
        let file = try tmp.file("image.tar", "not a directory")
        assertNookError(try make(defaultSpec(rootfs: file))) { e in
            XCTAssertEqual(e.message, "rootfs '\(file)' is not a directory")
        }
    }

    func testNoUserNamespace() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces = ["mount", "pid"].map { Spec.Namespace(type: $0) }
        assertNookError(try make(spec)) { e in
            assertContains(e.message, "no user namespace")
            assertContains(e.hint ?? "", "\"type\": \"user\"")
        }
    }

    func testNoMountNamespace() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces = [Spec.Namespace(type: "user")]
        assertNookError(try make(spec)) { e in assertContains(e.message, "no mount namespace") }
    }

    func testUnknownNamespaceType() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces?.append(Spec.Namespace(type: "time"))
        assertNookError(try make(spec)) { e in assertContains(e.message, "unknown namespace type 'time'") }
    }

    func testANamespaceGivenByPathIsJoined() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces?.removeAll { $0.type == "network" }
        spec.linux?.namespaces?.append(Spec.Namespace(type: "network", path: "/proc/1/ns/net"))
        let plan = try make(spec)
        XCTAssertEqual(plan.joinNamespaces, [.network: "/proc/1/ns/net"])
        XCTAssertFalse(plan.namespaces.contains(.network), "joined, not created")
        XCTAssertFalse(plan.loopbackUp, "a joined network namespace is left as it is")
        XCTAssertEqual(plan.joinOrder.map(\.0), [.network])
    }

    /// setns(CLONE_NEWPID) needs privilege over the PID namespace's owner,
    /// which a user namespace made at clone never has: refused before the clone.
    func testJoiningAPIDNamespaceFromANewUserNamespaceIsRefused() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces?.removeAll { $0.type == "pid" }
        spec.linux?.namespaces?.append(Spec.Namespace(type: "pid", path: "/proc/1/ns/pid"))
        assertNookError(try make(spec)) { e in
            assertContains(e.message, "joins a PID namespace by path but creates a user namespace")
            assertContains(e.hint ?? "", "as podman does")
        }
        // Inside the owner's user namespace (no user namespace of its own), it is forked into.
        let inside = IDMapping(uidMappings: [.init(containerID: 0, hostID: 0, size: 1)], gidMappings: [.init(containerID: 0, hostID: 0, size: 1)],
                               setgroupsAllowed: true, writer: .none, reason: "nook's own namespace")
        let plan = try make(spec, identity: inside)
        XCTAssertTrue(plan.forksIntoJoinedPIDNamespace)
        XCTAssertFalse(plan.namespaces.contains(.pid))
    }

    /// A FIFO would block the open for ever; a device or a file fails setns only in the child.
    func testANamespacePathThatIsNotANamespaceIsRefused() throws {
        let fifo = tmp.path + "/netns"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, what) in [(fifo, "a FIFO"), ("/dev/zero", "a character device"), (tmp.path, "a directory")] {
            var spec = defaultSpec(rootfs: rootfs)
            spec.linux?.namespaces?.removeAll { $0.type == "network" }
            spec.linux?.namespaces?.append(Spec.Namespace(type: "network", path: path))
            let bundle = tmp.path, me = self.me
            assertNookError(try withDeadline(5) { [spec] in
                try LaunchPlan.make(spec: spec, containerID: "c1", bundle: bundle, identity: me)
            }, path) { e in
                XCTAssertEqual(e.message, "linux.namespaces: the network namespace path '\(path)' is \(what), not a namespace file")
            }
        }
        let opened = try withDeadline(5) { try NamespacePath.open("/proc/self/ns/net", type: "network") }
        XCTAssertGreaterThanOrEqual(opened, 0)
        close(opened)
        assertNookError(try withDeadline(5) { try NamespacePath.open(fifo, type: "network") }) { e in
            assertContains(e.message, "is a FIFO, not a namespace file")
        }
    }

    func testJoiningAUserNamespaceByPathIsRefused() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.linux?.namespaces?.removeAll { $0.type == "user" }
        spec.linux?.namespaces?.append(Spec.Namespace(type: "user", path: "/proc/1/ns/user"))
        assertNookError(try make(spec)) { e in
            assertContains(e.message, "joining a user namespace by path is not supported")
        }
    }

    func testUnmappedUser() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.user = Spec.User(uid: 1000, gid: 0)
        assertNookError(try make(spec)) { e in
            assertContains(e.message, "user 1000 has no mapping")
            assertContains(e.hint ?? "", "a single id")
        }
    }

    func testGroupsBesidesThePrimaryOneAreRefusedWhereSetgroupsIsDenied() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.user = Spec.User(uid: 0, gid: 0, additionalGids: [0])
        XCTAssertNoThrow(try make(spec), "the primary group alone is what the process has anyway")
        spec.process?.user = Spec.User(uid: 0, gid: 0, additionalGids: [0, 5])
        assertNookError(try make(spec)) { e in
            assertContains(e.message, "process.user.additionalGids [5]: this container's user namespace denies setgroups")
        }
        let ranges = [Spec.IDMap(containerID: 0, hostID: 100000, size: 65536)]
        let subIDs = IDMapping(uidMappings: ranges, gidMappings: ranges, setgroupsAllowed: true, writer: .helpers, reason: "")
        XCTAssertEqual(try make(spec, identity: subIDs).additionalGids, [0, 5])
    }

    func testUnmappedGroup() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.user = Spec.User(uid: 0, gid: 5)
        assertNookError(try make(spec)) { e in assertContains(e.message, "group 5 has no mapping") }
    }

    func testUserInASubIDRangeIsMapped() throws {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.user = Spec.User(uid: 1000, gid: 1000)
        let ranges = IDMapping(uidMappings: [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100_000, size: 65536)],
                               gidMappings: [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100_000, size: 65536)],
                               setgroupsAllowed: true, writer: .helpers, reason: "test")
        let plan = try make(spec, identity: ranges)
        XCTAssertEqual(plan.uid, 1000)
        XCTAssertEqual(plan.gid, 1000)
    }

    func testRelativeCwd() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.cwd = "srv"
        assertNookError(try make(spec)) { e in assertContains(e.message, "process.cwd 'srv' must be an absolute path") }
    }

    func testNoProcessAndEmptyArgs() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process = nil
        assertNookError(try make(spec)) { e in assertContains(e.message, "no \"process\"") }
        for args in [[], [""]] as [[String]] {
            var s = defaultSpec(rootfs: rootfs)
            s.process?.args = args
            assertNookError(try make(s)) { e in assertContains(e.message, "process.args is empty") }
        }
    }

    func testUnknownCapabilityAndBadRlimitFailThePlan() {
        var spec = defaultSpec(rootfs: rootfs)
        spec.process?.capabilities?.effective = ["CAP_FLY"]
        assertNookError(try make(spec)) { e in assertContains(e.message, "unknown capability 'CAP_FLY' in capabilities.effective") }
        var spec2 = defaultSpec(rootfs: rootfs)
        spec2.process?.rlimits = [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1, soft: 2)]
        assertNookError(try make(spec2)) { e in assertContains(e.message, "soft limit 2 is above hard limit 1") }
    }
}
