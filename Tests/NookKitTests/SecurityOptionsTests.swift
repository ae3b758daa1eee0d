import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class SecurityOptionsTests: XCTestCase {
    func testEmptyAndNamelessSecurityOptsAreErrorsNotCrashes() {
        for bad in ["", "=", "==", "=true", "seccomp=", "no-new-privileges=", "no-new-privileges=maybe", "apparmor=unconfined"] {
            var options = SecurityOptions()
            assertNookError(try options.apply(securityOpt: bad), "'\(bad)'") { e in
                XCTAssertEqual(e.message, "unknown --security-opt '\(bad)'")
                XCTAssertEqual(e.exitCode, 125)
            }
        }
    }

    func testKnownSecurityOpts() throws {
        var options = SecurityOptions()
        try options.apply(securityOpt: "no-new-privileges=false")
        XCTAssertFalse(options.noNewPrivileges)
        try options.apply(securityOpt: "no-new-privileges")
        XCTAssertTrue(options.noNewPrivileges)
        try options.apply(securityOpt: "seccomp=/p=q.json")
        XCTAssertEqual(options.seccomp, .file("/p=q.json"), "only the first '=' splits")
        try options.apply(securityOpt: "seccomp=unconfined")
        XCTAssertEqual(options.seccomp, .unconfined)
    }

    /// --cap-add and --cap-drop go straight to the masks the plan takes.
    func testCapabilityFlagsBecomeMasks() throws {
        var options = SecurityOptions()
        let defaults = options
        XCTAssertEqual(Capability.names(in: try defaults.capabilityMask()).sorted(), SpecDefaults.capabilities.sorted())
        options.capDrop = ["all"]
        options.capAdd = ["net_raw", "CAP_SYS_PTRACE"]
        let bits: UInt64 = 1 << 13 | 1 << 19 // CAP_NET_RAW, CAP_SYS_PTRACE (<linux/capability.h>)
        XCTAssertEqual(try options.capabilitySets(isRoot: true),
                       CapabilitySets(bounding: bits, effective: bits, permitted: bits, inheritable: 0, ambient: 0))
        XCTAssertEqual(try options.capabilitySets(isRoot: false),
                       CapabilitySets(bounding: bits, effective: 0, permitted: 0, inheritable: 0, ambient: 0),
                       "a non-root user starts with none effective or permitted")
        XCTAssertEqual(try options.capabilities(), ["CAP_NET_RAW", "CAP_SYS_PTRACE"])
        options.capDrop = ["CHOWN"]
        options.capAdd = ["ALL"]
        XCTAssertEqual(try options.capabilityMask(), UInt64.max >> UInt64(63 - Capability.lastCap()))
        options.capAdd = ["NET_RAWW"]
        assertNookError(try options.capabilityMask()) { e in XCTAssertEqual(e.message, "unknown capability 'NET_RAWW' in --cap-add") }
    }

    func testSeccompErrnoRetOutOfRangeIsNamedNotACrash() throws {
        let profile = #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4294967295}]}"#
        assertNookError(try SeccompProfileLoader.decode(Array(profile.utf8), source: "p.json", capabilities: [])) { e in
            XCTAssertEqual(e.message, "p.json syscalls[0]: errnoRet 4294967295 of SCMP_ACT_ERRNO is out of range 0 to 4095")
        }
        let trace = Spec.Seccomp(defaultAction: "SCMP_ACT_TRACE", defaultErrnoRet: 70000)
        assertNookError(try SeccompProfile(oci: trace, name: "linux.seccomp")) { e in
            XCTAssertEqual(e.message, "linux.seccomp defaultAction: errnoRet 70000 of SCMP_ACT_TRACE is out of range 0 to 65535")
        }
        XCTAssertEqual(try SeccompProfile.Action(name: "SCMP_ACT_ERRNO", errnoRet: 4095), .errno(4095))
    }

    func testSeccompProfileNumbersOutOfRangeNameTheField() {
        let profile = #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99999999999}]}"#
        assertNookError(try SeccompProfileLoader.decode(Array(profile.utf8), source: "p.json", capabilities: [])) { e in
            XCTAssertEqual(e.message, "invalid seccomp profile p.json: field 'syscalls[0].errnoRet': 99999999999 is not a whole number from 0 to 4294967295")
        }
    }
}
