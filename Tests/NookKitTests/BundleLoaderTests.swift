import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class BundleLoaderTests: XCTestCase {
    func decode(_ json: String) throws -> Spec {
        try BundleLoader.decode(Array(json.utf8), source: "bundle/config.json")
    }

    func testMissingOciVersion() {
        assertNookError(try decode(#"{"process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"]}}"#)) { e in
            XCTAssertEqual(e.message, "invalid bundle/config.json: missing field 'ociVersion'")
        }
    }

    func testEmptyOciVersion() {
        assertNookError(try decode(#"{"ociVersion": ""}"#)) { e in
            XCTAssertEqual(e.message, "invalid bundle/config.json: ociVersion is empty")
        }
    }

    func testOnlySupportedOciVersionsAreRead() throws {
        for good in ["1.0.0", "1.0.2", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1+dev", "1.1.0-rc.1"] {
            XCTAssertEqual(try decode(#"{"ociVersion": "\#(good)"}"#).ociVersion, good)
        }
        for bad in ["invalid", "1.3.0", "2.0.0", "0.9.0", "1.0", "1.0.2-", "1..2", "v1.0.2", "1.0.2 "] {
            assertNookError(try decode(#"{"ociVersion": "\#(bad)"}"#)) { e in
                XCTAssertEqual(e.message, "invalid bundle/config.json: field 'ociVersion' is '\(bad)': Nook supports 1.0.x, 1.1.x or 1.2.x")
            }
        }
    }

    func testWrongTypeNamesTheField() {
        let json = #"{"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": "sh"}}"#
        assertNookError(try decode(json)) { e in
            assertContains(e.message, "invalid bundle/config.json: field 'process.args' has the wrong type")
        }
    }

    func testOnlyArgsInProcessNamesTheFirstMissingRequiredField() {
        // process.user is REQUIRED by the OCI spec and is read before args.
        assertNookError(try decode(#"{"ociVersion": "1.0.2", "process": {"args": "sh"}}"#)) { e in
            assertContains(e.message, "invalid bundle/config.json: ")
            assertContains(e.message, "'process.")
        }
    }

    func testWrongTypeInsideAnArrayNamesTheIndex() {
        let json = #"{"ociVersion": "1.0.2", "mounts": [{"destination": "/proc"}, {"destination": 5}]}"#
        assertNookError(try decode(json)) { e in
            assertContains(e.message, "field 'mounts[1].destination' has the wrong type")
        }
    }

    func testNestedMissingField() {
        let json = #"{"ociVersion": "1.0.2", "linux": {"uidMappings": [{"containerID": 0, "size": 1}]}}"#
        assertNookError(try decode(json)) { e in
            assertContains(e.message, "missing field 'linux.uidMappings[0].hostID'")
        }
    }

    func testNullForARequiredValue() {
        assertNookError(try decode(#"{"ociVersion": null}"#)) { e in
            assertContains(e.message, "ociVersion")
        }
    }

    func testBadJSON() {
        for bad in ["{", "", "{\"ociVersion\": \"1.0.2\",}x", "[1, 2]"] {
            assertNookError(try decode(bad)) { e in
                assertContains(e.message, "invalid bundle/config.json: ")
            }
        }
        assertNookError(try decode("{ociVersion: 1}")) { e in
            assertContains(e.message, "not valid JSON")
        }
    }

    /// `runc spec --rootless`, as runc 1.1 writes it, with a few fields Nook does not model.
    static let runcRootless = #"""
    {
    	"ociVersion": "1.0.2-dev",
    	"process": {
    		"terminal": true,
    		"consoleSize": {"height": 24, "width": 80},
    		"user": {"uid": 0, "gid": 0},
    		"args": ["sh"],
    		"env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    		"cwd": "/",
    		"capabilities": {
    			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    			"ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    		},
    		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    		"noNewPrivileges": true,
    		"apparmorProfile": "",
    		"oomScoreAdj": 0
    	},
    	"root": {"path": "rootfs", "readonly": true},
    	"hostname": "runc",
    	"mounts": [
    		{"destination": "/proc", "type": "proc", "source": "proc"},
    		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    		{"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}
    	],
    	"hooks": {"prestart": [{"path": "/usr/bin/true", "args": ["true"], "timeout": 5}]},
    	"annotations": {"org.example.key": "value"},
    	"linux": {
    		"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    		"gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    		"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}],
    		"resources": {"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 100}},
    		"maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    		"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
    			"syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    	}
    }
    """#

    func testRealisticRuncConfigDecodes() throws {
        let spec = try decode(Self.runcRootless)
        XCTAssertEqual(spec.ociVersion, "1.0.2-dev")
        XCTAssertEqual(spec.process?.args, ["sh"])
        XCTAssertEqual(spec.process?.terminal, true)
        XCTAssertEqual(spec.process?.capabilities?.ambient?.count, 3)
        XCTAssertNil(spec.process?.capabilities?.inheritable)
        XCTAssertEqual(spec.process?.rlimits, [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        XCTAssertEqual(spec.root, Spec.Root(path: "rootfs", readonly: true))
        XCTAssertEqual(spec.hostname, "runc")
        XCTAssertEqual(spec.mounts?.count, 6)
        XCTAssertEqual(spec.mounts?.last?.options, ["rbind", "nosuid", "noexec", "nodev", "ro"])
        XCTAssertEqual(spec.hooks?.prestart?.first?.path, "/usr/bin/true")
        XCTAssertEqual(spec.annotations, ["org.example.key": "value"])
        XCTAssertEqual(spec.linux?.uidMappings, [Spec.IDMap(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(spec.linux?.namespaces?.map(\.type), ["pid", "ipc", "uts", "mount", "cgroup", "user"])
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 100)
        XCTAssertEqual(spec.linux?.seccomp?.syscalls?.first?.errnoRet, 1)
        XCTAssertEqual(spec.linux?.maskedPaths?.count, 10)
    }

    func testRuncConfigBecomesALaunchPlan() throws {
        let tmp = try TempDir("nook-bundle")
        defer { tmp.remove() }
        _ = try tmp.dir("rootfs")
        _ = try tmp.file("config.json", Self.runcRootless)
        let spec = try BundleLoader.load(bundle: tmp.path)
        let identity = try IdentityResolver(uid: 1000, gid: 1000).resolve(spec: spec)
        XCTAssertEqual(identity.writer, .direct, "the config maps only the caller")
        XCTAssertFalse(identity.setgroupsAllowed)
        let plan = try LaunchPlan.make(spec: spec, containerID: "runc", bundle: tmp.path, identity: identity)
        XCTAssertEqual(plan.rootfs, tmp.path + "/rootfs")
        XCTAssertTrue(plan.readonlyRootfs)
        XCTAssertFalse(plan.namespaces.contains(.network))
        let sys = try XCTUnwrap(plan.mounts.first { $0.target == "/sys" })
        XCTAssertEqual(sys.kind, .bind)
        XCTAssertEqual(sys.source, "/sys")
        // runc lists them ambient but not inheritable: the kernel cannot raise them.
        XCTAssertEqual(plan.capabilities?.ambient, 0)
        XCTAssertEqual(plan.capabilities?.unraisableAmbient, try Capability.mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], field: "x"))
    }

    /// JSONDecoder calls these "not valid JSON"; the error names the field and its range.
    func testNumbersOutOfRangeNameTheFieldAndTheRange() {
        let process = #""process": {"user": {"uid": UID, "gid": 0}, "cwd": "/", "args": ["sh"]}"#
        let cases: [(String, String)] = [
            (process.replacingOccurrences(of: "UID", with: "99999999999"),
             "field 'process.user.uid': 99999999999 is not a whole number from 0 to 4294967295"),
            (process.replacingOccurrences(of: "UID", with: "-1"), "field 'process.user.uid': -1 is not a whole number from 0 to 4294967295"),
            (process.replacingOccurrences(of: "UID", with: "1.5"), "field 'process.user.uid': 1.5 is not a whole number from 0 to 4294967295"),
            (process.replacingOccurrences(of: "UID", with: "0") + #", "linux": {"resources": {"memory": {"limit": 1, "swap": 99999999999999999999}}}"#,
             "field 'linux.resources.memory.swap': 99999999999999999999 is not a whole number from -9223372036854775808 to 9223372036854775807"),
            (process.replacingOccurrences(of: "UID", with: "0") + #", "linux": {"uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}, {"containerID": 1, "hostID": 2, "size": 4294967296}]}"#,
             "field 'linux.uidMappings[1].size': 4294967296 is not a whole number from 0 to 4294967295"),
            (process.replacingOccurrences(of: "UID", with: "0") + #", "linux": {"resources": {"blockIO": {"weight": 65536}}}"#,
             "field 'linux.resources.blockIO.weight': 65536 is not a whole number from 0 to 65535"),
        ]
        for (body, message) in cases {
            assertNookError(try decode(#"{"ociVersion": "1.0.2", "# + body + "}"), message) { e in
                XCTAssertEqual(e.message, "invalid bundle/config.json: " + message)
            }
        }
        // Numbers in strings and in unknown fields are not fields.
        XCTAssertNoThrow(try decode(#"{"ociVersion": "1.0.2", "annotations": {"n": "99999999999"}, "x-extra": 99999999999999999999999, "#
                                    + process.replacingOccurrences(of: "UID", with: "0") + "}"))
    }

    func testHookTimeoutsOutOfRangeAreNamed() {
        for t in ["0", "-1", "2147484", "9223372036854775807"] {
            let json = #"{"ociVersion": "1.0.2", "hooks": {"poststop": [{"path": "/bin/true"}, {"path": "/bin/true", "timeout": T}]}}"#
            assertNookError(try decode(json.replacingOccurrences(of: "T", with: t)), t) { e in
                XCTAssertEqual(e.message, "invalid bundle/config.json: field 'hooks.poststop[1].timeout' is \(t): a number of seconds from 1 to 2147483")
            }
        }
        XCTAssertNoThrow(try decode(#"{"ociVersion": "1.0.2", "hooks": {"prestart": [{"path": "/bin/true", "timeout": 2147483}]}}"#))
    }

    /// The runtime spec: a hook's path MUST be absolute. A relative one was
    /// looked up in nook's PATH (whoever set the caller's PATH chose the program).
    func testARelativeHookPathIsRefused() {
        let json = #"{"ociVersion": "1.0.2", "hooks": {"prestart": [{"path": "/bin/true"}], "poststop": [{"path": "touch", "args": ["touch", "/tmp/x"]}]}}"#
        assertNookError(try decode(json)) { e in
            XCTAssertEqual(e.message, "invalid bundle/config.json: field 'hooks.poststop[0].path' is 'touch': it must be an absolute path")
        }
    }

    func testLoadErrors() throws {
        let tmp = try TempDir("nook-bundle")
        defer { tmp.remove() }
        assertNookError(try BundleLoader.load(bundle: tmp.path + "/missing")) { e in
            assertContains(e.message, "is not a directory")
        }
        assertNookError(try BundleLoader.load(bundle: tmp.path)) { e in
            XCTAssertEqual(e.message, "bundle '\(tmp.path)' has no config.json")
        }
        _ = try tmp.file("config.json", "{}")
        assertNookError(try BundleLoader.load(bundle: tmp.path)) { e in
            XCTAssertEqual(e.message, "invalid \(tmp.path)/config.json: missing field 'ociVersion'")
        }
    }
}
