import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class RunOptionsTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir("nook-runopts") }
    override func tearDown() { tmp.remove() }

    func options(_ command: [String] = ["sh", "-c", "echo hi"]) -> RunOptions {
        RunOptions(rootfs: tmp.path + "/rootfs", command: command)
    }

    func testDefaultSpec() throws {
        let spec = try options().makeSpec(containerID: "c0ffee")
        XCTAssertEqual(spec.ociVersion, Spec.version)
        XCTAssertEqual(spec.root?.path, tmp.path + "/rootfs")
        XCTAssertEqual(spec.root?.readonly, false)
        XCTAssertEqual(spec.process?.args, ["sh", "-c", "echo hi"])
        XCTAssertEqual(spec.process?.cwd, "/")
        XCTAssertEqual(spec.process?.user, Spec.User(uid: 0, gid: 0))
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        XCTAssertEqual(spec.hostname, "c0ffee", "the hostname defaults to the container id")

        let namespaces = spec.linux?.namespaces ?? []
        XCTAssertEqual(Set(namespaces.map(\.type)), ["user", "mount", "pid", "network", "uts", "ipc", "cgroup"])
        XCTAssertEqual(namespaces.count, 7)
        XCTAssertTrue(namespaces.allSatisfy { $0.path == nil }, "nook run creates namespaces, it joins none")

        let destinations = (spec.mounts ?? []).map(\.destination)
        XCTAssertEqual(destinations, ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
        XCTAssertEqual(spec.mounts?.first { $0.destination == "/proc" }?.type, "proc")

        let env = spec.process?.env ?? []
        XCTAssertTrue(env.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), "\(env)")
        XCTAssertTrue(env.contains("HOME=/root"), "\(env)")

        XCTAssertTrue(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
        XCTAssertTrue(spec.linux?.readonlyPaths?.contains("/proc/sys") == true)
        XCTAssertTrue(spec.process?.capabilities?.bounding?.contains("CAP_SYS_ADMIN") == false)
    }

    func testGivenHostname() throws {
        var o = options()
        o.hostname = "web"
        XCTAssertEqual(try o.makeSpec(containerID: "c0ffee").hostname, "web")
    }

    func testRelativeRootfsBecomesAbsolute() throws {
        let o = RunOptions(rootfs: "some/../rootfs", command: ["sh"])
        let spec = try o.makeSpec(containerID: "x")
        XCTAssertEqual(spec.root?.path, HostPath.currentDirectory() + "/rootfs")
    }

    func testReadOnly() throws {
        var o = options()
        o.readOnly = true
        XCTAssertEqual(try o.makeSpec(containerID: "x").root?.readonly, true)
    }

    func testNoCommand() {
        assertNookError(try options([]).makeSpec(containerID: "x")) { e in
            XCTAssertEqual(e.message, "no command given")
            assertContains(e.hint ?? "", "--")
        }
    }

    // MARK: environment

    func testEnvKeyCopiesTheCallerValue() throws {
        var o = options()
        o.env = ["TERM", "LANG=C.UTF-8", "NOT_SET_ANYWHERE"]
        let env = try o.makeSpec(containerID: "x", callerEnvironment: ["TERM": "xterm-256color", "SECRET": "s"]).process?.env ?? []
        XCTAssertTrue(env.contains("TERM=xterm-256color"), "\(env)")
        XCTAssertTrue(env.contains("LANG=C.UTF-8"), "\(env)")
        XCTAssertFalse(env.contains { $0.hasPrefix("NOT_SET_ANYWHERE") }, "a KEY the caller lacks is left out: \(env)")
        XCTAssertFalse(env.contains { $0.hasPrefix("SECRET") }, "only named variables are copied: \(env)")
    }

    func testEnvOverridesDefaults() throws {
        var o = options()
        o.env = ["PATH=/opt/bin", "HOME=/home/me"]
        let env = try o.makeSpec(containerID: "x").process?.env ?? []
        XCTAssertEqual(env.filter { $0.hasPrefix("PATH=") }, ["PATH=/opt/bin"])
        XCTAssertEqual(env.filter { $0.hasPrefix("HOME=") }, ["HOME=/home/me"])
    }

    func testEnvValueMayContainEquals() throws {
        var o = options()
        o.env = ["OPTS=a=b=c"]
        XCTAssertTrue(try o.makeSpec(containerID: "x").process?.env?.contains("OPTS=a=b=c") == true)
    }

    func testInvalidEnv() {
        for bad in ["", "=value"] {
            var o = options()
            o.env = [bad]
            assertNookError(try o.makeSpec(containerID: "x")) { e in
                assertContains(e.message, "invalid environment variable '\(bad)'")
            }
        }
    }

    func testEnvFileSkipsCommentsAndBlankLines() throws {
        let file = try tmp.file("app.env", """
            # database settings

            DB_HOST=db.local
              DB_PORT=5432\t
            # PASSWORD=nope
            PATH=/app/bin

            """)
        var o = options()
        o.envFiles = [file]
        let env = try o.makeSpec(containerID: "x").process?.env ?? []
        XCTAssertTrue(env.contains("DB_HOST=db.local"), "\(env)")
        XCTAssertTrue(env.contains("DB_PORT=5432\t"), "leading whitespace goes, the value stays as written, as in Docker: \(env)")
        XCTAssertEqual(env.filter { $0.hasPrefix("PATH=") }, ["PATH=/app/bin"], "the file overrides the default PATH")
        XCTAssertFalse(env.contains { $0.contains("PASSWORD") || $0.hasPrefix("#") }, "\(env)")
        XCTAssertFalse(env.contains(""), "\(env)")
    }

    /// Env files written on Windows end lines with CRLF (Swift takes "\r\n" as
    /// one Character: EnvironmentList splits the bytes).
    func testEnvFileWithCRLFLineEndings() throws {
        let entries = try RunOptions.readEnvFile(try tmp.file("crlf.env", "A=1\r\nB=2\r\n"), caller: [:])
        XCTAssertEqual(entries, ["A=1", "B=2"])
    }

    func testEnvFlagOverridesEnvFileAndLaterFilesOverrideEarlier() throws {
        let first = try tmp.file("1.env", "A=first\nB=first\nC=first\n")
        let second = try tmp.file("2.env", "B=second\nC=second\n")
        var o = options()
        o.envFiles = [first, second]
        o.env = ["C=flag"]
        let env = try o.makeSpec(containerID: "x").process?.env ?? []
        XCTAssertEqual(env.filter { $0.hasPrefix("A=") }, ["A=first"])
        XCTAssertEqual(env.filter { $0.hasPrefix("B=") }, ["B=second"])
        XCTAssertEqual(env.filter { $0.hasPrefix("C=") }, ["C=flag"])
    }

    func testEnvFileBadLineNamesTheLineNumber() throws {
        let file = try tmp.file("bad.env", "# header\nGOOD=1\n=oops\n")
        var o = options()
        o.envFiles = [file]
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            assertContains(e.message, "--env-file \(file) line 3")
            assertContains(e.message, "'=oops'")
        }
    }

    func testMissingEnvFile() {
        var o = options()
        o.envFiles = [tmp.path + "/missing.env"]
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            XCTAssertEqual(e.message, "--env-file \(self.tmp.path)/missing.env: no such file or directory")
        }
    }

    func testMergeReplacesByKey() {
        XCTAssertEqual(EnvironmentList.merge(["A=1", "AB=2", "B=3"], ["A=9"]), ["AB=2", "B=3", "A=9"])
    }

    // MARK: workdir

    func testAbsoluteWorkdir() throws {
        var o = options()
        o.workdir = "/srv/app"
        XCTAssertEqual(try o.makeSpec(containerID: "x").process?.cwd, "/srv/app")
    }

    func testRelativeWorkdirIsRefused() {
        var o = options()
        o.workdir = "srv"
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            assertContains(e.message, "invalid workdir 'srv'")
            assertContains(e.message, "absolute")
        }
    }

    // MARK: volumes and tmpfs

    func testVolumeBecomesABindMountAfterTheDefaults() throws {
        let data = try tmp.dir("data")
        var o = options()
        o.volumes = [try VolumeSpec.parse("\(data)/./:/data:ro")]
        o.tmpfs = [try TmpfsSpec.parse("/scratch:size=1m")]
        let mounts = try o.makeSpec(containerID: "x").mounts ?? []
        XCTAssertEqual(mounts.count, SpecDefaults.mounts.count + 2)
        let bind = mounts[SpecDefaults.mounts.count]
        XCTAssertEqual(bind.destination, "/data")
        XCTAssertEqual(bind.type, "bind")
        XCTAssertEqual(bind.source, data, "the source is made absolute and normalised")
        XCTAssertEqual(bind.options, ["rbind", "nosuid", "nodev", "ro"])
        let scratch = mounts.last!
        XCTAssertEqual(scratch.destination, "/scratch")
        XCTAssertEqual(scratch.type, "tmpfs")
    }

    func testRelativeVolumeSourceIsResolvedAgainstTheCurrentDirectory() throws {
        _ = try tmp.dir("here")
        let old = HostPath.currentDirectory()
        XCTAssertEqual(chdir(tmp.path), 0)
        defer { chdir(old) }
        var o = options()
        o.volumes = [try VolumeSpec.parse("./here:/here")]
        let bind = try o.makeSpec(containerID: "x").mounts?.last
        XCTAssertEqual(bind?.source, tmp.path + "/here")
    }

    /// This run's plan takes the flags' typed values: the bind with its source
    /// as looked at once, the rlimits as parsed; read back from the recorded
    /// spec (a restart, a `run -d` monitor) they are the same mounts and rlimits.
    func testTypedMountsAndRlimitsTravelBesideTheirRecord() throws {
        let data = try tmp.dir("data")
        let file = try tmp.file("hosts", "127.0.0.1 localhost\n")
        var o = options()
        o.volumes = [try VolumeSpec.parse("\(data):/data:ro,noexec"), try VolumeSpec.parse("\(file):/etc/hosts")]
        o.tmpfs = [try TmpfsSpec.parse("/scratch:size=1m")]
        o.security.ulimits = [try ResourceLimit.parse(ulimit: "nofile=100:200")]
        o.security.capDrop = ["ALL"]
        o.security.capAdd = ["NET_RAW"]
        let (spec, parsed) = try o.make(containerID: "x")
        let binds = parsed.mounts.filter(\.isBind)
        XCTAssertEqual(binds.map(\.bindSource?.path), [data, file])
        XCTAssertEqual(binds.map(\.bindSource?.isDirectory), [true, false], "the one look tells a directory from a file")
        XCTAssertNotNil(binds.first?.bindSource?.mountFlags, "and reads the flags its mount locks")
        XCTAssertEqual(parsed.rlimits, [ResourceLimit(resource: 7, name: "RLIMIT_NOFILE", soft: 100, hard: 200)])
        XCTAssertEqual(parsed.capabilities?.bounding, 1 << 13, "CAP_NET_RAW alone")
        var readBack = parsed
        for i in readBack.mounts.indices { readBack.mounts[i].bindSource = nil }
        XCTAssertEqual(try ParsedSpec(spec), readBack)
    }

    func testMissingBindSource() throws {
        var o = options()
        o.volumes = [try VolumeSpec.parse("\(tmp.path)/nope:/data")]
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            XCTAssertEqual(e.message, "bind mount source '\(self.tmp.path)/nope' does not exist")
            assertContains(e.hint ?? "", "-v \(self.tmp.path)/nope:/data")
        }
    }

    // MARK: --user, resolved in the rootfs's own /etc/passwd and /etc/group

    func makeRootfsWithUsers() throws -> String {
        let root = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        _ = try tmp.file("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n")
        _ = try tmp.file("rootfs/etc/group", "root:x:0:\nwheel:x:10:alice,bob\nalice:x:1000:\naudio:x:29:bob\n")
        return root
    }

    func testUserByName() throws {
        _ = try makeRootfsWithUsers()
        var o = options()
        o.user = "alice"
        let spec = try o.makeSpec(containerID: "x")
        XCTAssertEqual(spec.process?.user, Spec.User(uid: 1000, gid: 1000, additionalGids: [1000, 10]),
                       "like initgroups(3): the primary group, then every group listing alice")
        XCTAssertEqual(spec.process?.env?.filter { $0.hasPrefix("HOME=") }, ["HOME=/home/alice"])
        XCTAssertEqual(spec.process?.capabilities?.effective, [], "a non-root user starts without effective capabilities")
        XCTAssertEqual(spec.process?.capabilities?.permitted, [])
        XCTAssertEqual(Set(spec.process?.capabilities?.bounding ?? []), Set(SpecDefaults.capabilities))
    }

    func testUserWithGroupName() throws {
        _ = try makeRootfsWithUsers()
        var o = options()
        o.user = "alice:wheel"
        let user = try o.makeSpec(containerID: "x").process?.user
        XCTAssertEqual(user?.uid, 1000)
        XCTAssertEqual(user?.gid, 10)
        XCTAssertEqual(user?.additionalGids, [10], "wheel is the primary group and is listed once")
    }

    func testNumericUserNotInPasswd() throws {
        _ = try makeRootfsWithUsers()
        var o = options()
        o.user = "1234:5"
        let spec = try o.makeSpec(containerID: "x")
        XCTAssertEqual(spec.process?.user, Spec.User(uid: 1234, gid: 5, additionalGids: [5]))
        XCTAssertEqual(spec.process?.env?.filter { $0.hasPrefix("HOME=") }, ["HOME=/"])
    }

    func testUnknownUserOrGroup() throws {
        _ = try makeRootfsWithUsers()
        var o = options()
        o.user = "mallory"
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            XCTAssertEqual(e.message, "user 'mallory' not found in the container's /etc/passwd")
        }
        o.user = "alice:staff"
        assertNookError(try o.makeSpec(containerID: "x")) { e in
            XCTAssertEqual(e.message, "group 'staff' not found in the container's /etc/group")
        }
    }

    func testPasswdSymlinkCannotEscapeTheRootfs() throws {
        let root = try tmp.dir("rootfs")
        _ = try tmp.dir("rootfs/etc")
        let outside = try tmp.file("host-passwd", "eve:x:4242:4242::/eve:/bin/sh\n")
        XCTAssertEqual(symlink(outside, root + "/etc/passwd"), 0)
        var o = options()
        o.user = "eve"
        assertNookError(try o.makeSpec(containerID: "x"), "the link is resolved inside the rootfs, where it leads nowhere") { e in
            assertContains(e.message, "user 'eve' not found")
        }
    }
}
