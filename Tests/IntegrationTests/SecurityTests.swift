import Foundation
import XCTest

/// Least privilege inside the container: each test has the static probe
/// (Tests/probe) try the attack from inside and asserts on what the kernel said.
final class SecurityTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// probe results by check name: "keyctl" -> "result=err errno=EPERM".
    func probe(_ checks: [String], flags: [String] = [], rootfs: String? = nil) throws -> [String: String] {
        let r = try h.run(["run", "--rootfs", rootfs ?? h.rootfs] + flags + ["--", "probe"] + checks)
        XCTAssertEqual(r.status, 0, r.stderr)
        var results: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { results[parts[0]] = parts[1] }
        }
        return results
    }

    func assertDenied(_ results: [String: String], _ check: String, _ errno: String = "EPERM",
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(results[check]?.hasPrefix("result=err errno=\(errno)") == true,
                      "\(check) should fail with \(errno): \(results[check] ?? "missing")", file: file, line: line)
    }

    func assertAllowed(_ results: [String: String], _ check: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(results[check]?.hasPrefix("result=ok") == true, "\(check) should work: \(results[check] ?? "missing")",
                      file: file, line: line)
    }

    func testDefaultProfileDeniesTheDangerousCalls() throws {
        let r = try probe(["keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "unshare_user", "unshare_ns",
                           "clone_newuser", "mount", "ptrace", "reboot", "swapon", "settime", "kexec_load",
                           "init_module", "io_uring", "mknod", "net_raw", "clone3", "thread", "personality"])
        for check in ["keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "unshare_user", "unshare_ns",
                      "clone_newuser", "mount", "ptrace", "reboot", "swapon", "settime", "kexec_load", "init_module",
                      "io_uring", "mknod", "net_raw"] {
            assertDenied(r, check)
        }
        assertDenied(r, "clone3", "ENOSYS")
        assertAllowed(r, "thread") // glibc falls back from clone3 (ENOSYS) to clone
    }

    func testProcessStatusShowsCapabilitiesNoNewPrivsAndSeccomp() throws {
        let r = try probe(["status", "caps"])
        XCTAssertTrue(r["status"]?.contains("NoNewPrivs=1,Seccomp=2,Seccomp_filters=1") == true, r["status"] ?? "")
        // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
        XCTAssertEqual(r["caps"], "result=ok detail=CapInh=0000000000000000,CapPrm=00000000800405fb,CapEff=00000000800405fb,CapBnd=00000000800405fb,CapAmb=0000000000000000")
    }

    func testMaskedPathsReadEmptyAndReadOnlyPathsRefuseWrites() throws {
        // /proc/sys/net belongs to the container's own network namespace: with
        // NET_ADMIN its root may write there, so only the read-only mount stops it.
        // Which masked paths exist depends on the kernel: check every one the host has.
        let masked = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                      "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"]
        var checks: [String] = []
        for path in masked {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            checks.append((isDir.boolValue ? "ls:" : "read:") + path)
        }
        XCTAssertFalse(checks.isEmpty)
        let r = try probe(checks + ["write:/proc/sys/net/ipv4/ip_forward", "read:/proc/self/status"], flags: ["--cap-add", "NET_ADMIN"])
        for check in checks {
            XCTAssertEqual(r[check], check.hasPrefix("ls:") ? "result=ok detail=entries=0" : "result=ok detail=bytes=0", check)
        }
        assertDenied(r, "write:/proc/sys/net/ipv4/ip_forward", "EROFS")
        XCTAssertNotEqual(r["read:/proc/self/status"], "result=ok detail=bytes=0", "unmasked files still read")
    }

    func testCgroupTreeIsTheContainersOwnAndReadOnly() throws {
        // CVE-2023-25809: the container must not write the host's cgroup tree.
        let r = try h.run(["run", "--rootfs", h.rootfs, "--", "sh", "-c",
                           "awk '$5 == \"/sys/fs/cgroup\" {print $6}' /proc/self/mountinfo; cat /proc/self/cgroup"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("ro,") == true, "mounted read-only: \(r.stdout)")
        XCTAssertTrue(lines.contains("0::/"), "the cgroup namespace is rooted at the container's cgroup: \(r.stdout)")
    }

    func testOnlyStandardDescriptorsReachTheContainerUnlessPreserved() throws {
        // The caller holds fd 3 and fd 4 open; only --preserve-fds passes them on.
        let argv = h.commandLine(["run", "--rootfs", h.rootfs, "--", "probe", "fds"])
        let plain = try Harness.shell(["/bin/bash", "-c", "exec 3</etc/hostname 4</etc/hostname; exec \"$@\"", "bash"] + argv)
        XCTAssertEqual(plain.stdout, "fds result=ok detail=0,1,2 targets=\n", plain.stderr)
        let kept = h.commandLine(["run", "--rootfs", h.rootfs, "--preserve-fds", "1", "--", "probe", "fds"])
        let preserved = try Harness.shell(["/bin/bash", "-c", "exec 3</etc/hostname 4</etc/hostname; exec \"$@\"", "bash"] + kept)
        XCTAssertEqual(preserved.stdout, "fds result=ok detail=0,1,2,3 targets=3:/etc/hostname\n", preserved.stderr)
    }

    func testSetuidBinaryGainsNothingUnderNoNewPrivs() throws {
        // A setuid-root helper in the image: owned by container root (the test user on the host), mode 4755.
        let root = try h.scratch("suid") + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        _ = try Harness.shell(["/bin/cp", root + "/bin/probe", root + "/bin/probe-suid"])
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", root]) }
        XCTAssertEqual(chmod(root + "/bin/probe-suid", 0o4755), 0)
        let nnp = try h.run(["run", "--rootfs", root, "--user", "1000", "--", "probe-suid", "setuid_helper"])
        XCTAssertTrue(nnp.stdout.contains("ruid=1000,euid=1000"), "no_new_privs: the setuid bit is ignored: \(nnp.stdout) \(nnp.stderr)")
        let without = try h.run(["run", "--rootfs", root, "--user", "1000", "--security-opt", "no-new-privileges=false",
                                 "--", "probe-suid", "setuid_helper"])
        XCTAssertTrue(without.stdout.contains("ruid=1000,euid=0"),
                      "without it the setuid bit works (and gives only container root): \(without.stdout) \(without.stderr)")
    }

    func testUnconfinedAndCapAddReallyWiden() throws {
        let unconfined = try probe(["keyctl", "clone3", "status"], flags: ["--seccomp", "unconfined"])
        assertAllowed(unconfined, "keyctl")
        assertAllowed(unconfined, "clone3")
        XCTAssertTrue(unconfined["status"]?.contains("Seccomp=0") == true)
        let netRaw = try probe(["net_raw"], flags: ["--cap-add", "NET_RAW"])
        assertAllowed(netRaw, "net_raw")
        let ptrace = try probe(["ptrace"], flags: ["--cap-add", "CAP_SYS_PTRACE"])
        assertAllowed(ptrace, "ptrace") // the profile allows ptrace once the capability is there
        assertAllowed(try probe(["bind_low"]), "bind_low")
        let none = try probe(["caps", "bind_low"], flags: ["--cap-drop", "ALL"])
        XCTAssertTrue(none["caps"]?.contains("CapEff=0000000000000000") == true, none["caps"] ?? "")
        assertDenied(none, "bind_low", "EACCES")
    }

    func testUnknownCapabilityIsAnError() throws {
        let r = try h.run(["run", "--rootfs", h.rootfs, "--cap-add", "CAP_TELEPORT", "--", "true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.hasPrefix("nook: unknown capability 'CAP_TELEPORT' in --cap-add"), r.stderr)
    }

    func testCustomProfilesInBothFormats() throws {
        let dir = try h.scratch("profiles")
        let oci = """
        {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
        """
        try oci.write(toFile: dir + "/oci.json", atomically: true, encoding: .utf8)
        let r1 = try h.run(["run", "--rootfs", h.rootfs, "--seccomp-profile", dir + "/oci.json", "--", "sh", "-c", "mkdir /tmp/d 2>&1; echo rc=$?"])
        XCTAssertTrue(r1.stdout.contains("Permission denied") && r1.stdout.contains("rc=1"), r1.stdout + r1.stderr)

        let docker = """
        {"defaultAction": "SCMP_ACT_ALLOW",
         "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                       "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}
        """
        try docker.write(toFile: dir + "/docker.json", atomically: true, encoding: .utf8)
        let r2 = try h.run(["run", "--rootfs", h.rootfs, "--seccomp-profile", dir + "/docker.json", "--", "sh", "-c", "mkdir /tmp/d2 2>&1; echo rc=$?"])
        XCTAssertTrue(r2.stdout.contains("Permission denied"), r2.stdout + r2.stderr)
        let r3 = try h.run(["run", "--rootfs", h.rootfs, "--cap-add", "SYS_ADMIN", "--seccomp-profile", dir + "/docker.json",
                            "--", "sh", "-c", "mkdir /tmp/d3 && echo made"])
        XCTAssertEqual(r3.stdout, "made\n", "excludes.caps dropped the rule once SYS_ADMIN is there: \(r3.stderr)")
    }

    func testBadProfilesAreRefusedNamingTheProblem() throws {
        let dir = try h.scratch("bad")
        let cases: [(String, String)] = [
            (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["nosuchcall"],"action":"SCMP_ACT_ERRNO"}]}"#, "unknown system call 'nosuchcall'"),
            (#"{"defaultAction":"SCMP_ACT_EXPLODE"}"#, "unknown seccomp action 'SCMP_ACT_EXPLODE'"),
            (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ALMOST"}]}]}"#, "unknown seccomp operator 'SCMP_CMP_ALMOST'"),
            (#"{"defaultAction": 7}"#, "field 'defaultAction' has the wrong type"),
        ]
        for (i, (json, message)) in cases.enumerated() {
            let file = dir + "/p\(i).json"
            try json.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try h.run(["run", "--rootfs", h.rootfs, "--seccomp-profile", file, "--", "true"])
            XCTAssertEqual(r.status, 125)
            XCTAssertTrue(r.stderr.contains(message), "\(message) in: \(r.stderr)")
        }
    }

    func testTIOCSTIIsDeniedOnTheCallersTerminal() throws {
        // Without -t the container's stdin (-i) is the caller's own terminal: pushing
        // characters into it would type commands into the user's shell (CVE-2017-5226).
        let session = try PtySession(h.commandLine(["run", "-i", "--rootfs", h.rootfs, "--", "probe", "tiocsti"]))
        XCTAssertEqual(session.wait(), 0)
        XCTAssertTrue(session.output.contains("tiocsti result=err errno=EPERM detail=fd=0,tty=yes"), session.output)
    }

    func testRlimits() throws {
        let r = try h.run(["run", "--rootfs", h.rootfs, "--ulimit", "nofile=100:200", "--", "sh", "-c", "ulimit -n; ulimit -Hn"])
        XCTAssertEqual(r.stdout, "100\n200\n", r.stderr)
        let bad = try h.run(["run", "--rootfs", h.rootfs, "--ulimit", "nofiles=1", "--", "true"])
        XCTAssertEqual(bad.status, 125)
        XCTAssertTrue(bad.stderr.contains("unknown rlimit"), bad.stderr)
    }

    func testWorkdirThroughAMagicLinkIsRefused() throws {
        // CVE-2024-21626: a cwd of /proc/self/fd/N would follow a leaked fd out of the rootfs.
        let r = try h.run(["run", "--rootfs", h.rootfs, "-w", "/proc/self/fd/3", "--", "pwd"])
        XCTAssertEqual(r.status, 125, r.stdout)
        XCTAssertTrue(r.stderr.contains("chdir to working directory '/proc/self/fd/3'"), r.stderr)
    }

    func testConfigJSONSeccompIsHonoured() throws {
        let bundle = try h.scratch("bundle")
        let config = """
        {"ociVersion": "1.0.2",
         "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "mkdir /tmp/b 2>&1; echo rc=$?"], "cwd": "/",
                     "env": ["PATH=/bin:/usr/bin"]},
         "root": {"path": "\(h.rootfs)"},
         "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}],
         "linux": {"namespaces": [{"type": "user"}, {"type": "mount"}, {"type": "pid"}],
                   "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}}}
        """
        try config.write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
        let r = try h.run(["run", "--bundle", bundle, Harness.name("bundle")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Operation not permitted") && r.stdout.contains("rc=1"), r.stdout)
    }

    func testMasksMustLandOnProcfs() throws {
        // An image whose /proc is an ordinary directory holding a fake kcore, and a
        // config that forgets to mount proc: the mask must not be applied blindly.
        let bundle = try h.scratch("fakeproc")
        let root = bundle + "/rootfs"
        _ = try Harness.shell(["/bin/cp", "-a", h.rootfs, root])
        FileManager.default.createFile(atPath: root + "/proc/kcore", contents: Data("fake".utf8))
        if h.isRoot { _ = try Harness.shell(["/bin/chown", "-R", "\(h.user.uid):\(h.user.gid)", bundle]) }
        let config = """
        {"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"},
         "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "user"}, {"type": "mount"}], "maskedPaths": ["/proc/kcore"]}}
        """
        try config.write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
        let r = try h.run(["run", "--bundle", bundle, Harness.name("fakeproc")])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("mask /proc/kcore"), r.stderr)
    }
}
