import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class CapabilityTests: XCTestCase {
    func testNumbers() {
        XCTAssertEqual(Capability.number("CAP_CHOWN"), 0)
        XCTAssertEqual(Capability.number("CAP_KILL"), 5)
        XCTAssertEqual(Capability.number("CAP_NET_BIND_SERVICE"), 10)
        XCTAssertEqual(Capability.number("CAP_NET_RAW"), 13)
        XCTAssertEqual(Capability.number("NET_RAW"), 13)
        XCTAssertEqual(Capability.number("cap_net_raw"), 13)
        XCTAssertEqual(Capability.number("CAP_SYS_ADMIN"), 21)
        XCTAssertEqual(Capability.number("CAP_SETFCAP"), 31)
        XCTAssertEqual(Capability.number("CAP_CHECKPOINT_RESTORE"), 40)
        XCTAssertNil(Capability.number("CAP_FLY"))
        XCTAssertNil(Capability.number(""))
        XCTAssertEqual(Capability.canonical("sys_chroot"), "CAP_SYS_CHROOT")
    }

    /// Every name agrees with the kernel's own header.
    func testNumbersMatchLinuxCapabilityHeader() throws {
        let header = "/usr/include/linux/capability.h"
        guard HostPath.exists(header) else { throw XCTSkip("\(header) not installed") }
        let text = try HostPath.readText(header)
        var kernel: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count == 3, words[0] == "#define", words[1].hasPrefix("CAP_"), let n = Int(words[2]) {
                kernel[String(words[1])] = n
            }
        }
        for (i, name) in Capability.names.enumerated() {
            XCTAssertEqual(kernel[name], i, name)
        }
    }

    func testMask() throws {
        XCTAssertEqual(try Capability.mask(nil, field: "f"), 0)
        XCTAssertEqual(try Capability.mask([], field: "f"), 0)
        XCTAssertEqual(try Capability.mask(["CAP_CHOWN", "kill", "CAP_KILL"], field: "f"), 0b10_0001)
        XCTAssertEqual(try Capability.mask(["CAP_CHECKPOINT_RESTORE"], field: "f"), UInt64(1) << 40)
        XCTAssertEqual(Capability.names(in: 0b10_0001), ["CAP_CHOWN", "CAP_KILL"])
        let all = try Capability.mask(Capability.names, field: "f")
        XCTAssertEqual(Capability.names(in: all), Capability.names)
    }

    func testUnknownNameNamesTheField() {
        assertNookError(try Capability.mask(["CAP_CHOWN", "CAP_FLY"], field: "capabilities.bounding")) { e in
            XCTAssertEqual(e.message, "unknown capability 'CAP_FLY' in capabilities.bounding")
            assertContains(e.hint ?? "", "capabilities(7)")
        }
    }

    func testCapabilitySets() throws {
        let sets = try CapabilitySets(Spec.Capabilities(bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"],
                                                        inheritable: nil, permitted: ["CAP_KILL"], ambient: []))
        XCTAssertEqual(sets.bounding, 0b10_0001)
        XCTAssertEqual(sets.effective, 0b10_0000)
        XCTAssertEqual(sets.permitted, 0b10_0000)
        XCTAssertEqual(sets.inheritable, 0)
        XCTAssertEqual(sets.ambient, 0)
        // Ambient needs permitted and inheritable both.
        let ambient = try CapabilitySets(Spec.Capabilities(effective: ["CAP_KILL"], inheritable: ["CAP_KILL", "CAP_CHOWN"],
                                                           permitted: ["CAP_KILL", "CAP_NET_RAW"], ambient: ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"]))
        XCTAssertEqual(ambient.ambient, 1 << 5)
        XCTAssertEqual(ambient.unraisableAmbient, 1 << 0 | 1 << 13)
        assertNookError(try CapabilitySets(Spec.Capabilities(ambient: ["NOPE"]))) { e in
            assertContains(e.message, "in capabilities.ambient")
        }
    }

    func testLastCapMatchesTheKernel() throws {
        let text = try HostPath.readText("/proc/sys/kernel/cap_last_cap")
        XCTAssertEqual(Capability.lastCap(), Int(text.trimmingCharacters(in: " \n")))
    }
}

final class ResourceLimitTests: XCTestCase {
    func testNameNormalisation() throws {
        for name in ["RLIMIT_NOFILE", "rlimit_nofile", "nofile", "NOFILE", "Nofile"] {
            let r = try ResourceLimit(Spec.Rlimit(type: name, hard: 1024, soft: 512))
            XCTAssertEqual(r.name, "RLIMIT_NOFILE", name)
            XCTAssertEqual(r.resource, 7, name)
            XCTAssertEqual(r.soft, 512)
            XCTAssertEqual(r.hard, 1024)
        }
    }

    func testResourceNumbersMatchGlibc() throws {
        let glibc: [String: Int32] = [
            "CPU": Int32(RLIMIT_CPU.rawValue), "FSIZE": Int32(RLIMIT_FSIZE.rawValue), "DATA": Int32(RLIMIT_DATA.rawValue),
            "STACK": Int32(RLIMIT_STACK.rawValue), "CORE": Int32(RLIMIT_CORE.rawValue), "NPROC": Int32(__RLIMIT_NPROC.rawValue),
            "NOFILE": Int32(RLIMIT_NOFILE.rawValue), "AS": Int32(RLIMIT_AS.rawValue), "MEMLOCK": Int32(__RLIMIT_MEMLOCK.rawValue),
            "RTTIME": Int32(__RLIMIT_RTTIME.rawValue),
        ]
        for (name, number) in glibc {
            XCTAssertEqual(try ResourceLimit(Spec.Rlimit(type: name, hard: 1, soft: 1)).resource, number, name)
        }
    }

    func testSoftAboveHard() {
        assertNookError(try ResourceLimit(Spec.Rlimit(type: "nproc", hard: 10, soft: 11))) { e in
            XCTAssertEqual(e.message, "rlimit RLIMIT_NPROC: soft limit 11 is above hard limit 10")
        }
        XCTAssertNoThrow(try ResourceLimit(Spec.Rlimit(type: "nproc", hard: 10, soft: 10)))
    }

    func testUnknown() {
        assertNookError(try ResourceLimit(Spec.Rlimit(type: "RLIMIT_FOO", hard: 1, soft: 1))) { e in
            XCTAssertEqual(e.message, "unknown rlimit 'RLIMIT_FOO'")
            assertContains(e.hint ?? "", "RLIMIT_NOFILE")
        }
    }

    /// `--ulimit` parsed once, straight into the setrlimit numbers the plan takes;
    /// the spec records it as `process.rlimits[]`.
    func testUlimitFlag() throws {
        XCTAssertEqual(try ResourceLimit.parse(ulimit: "nofile=1024:2048"), ResourceLimit(resource: 7, name: "RLIMIT_NOFILE", soft: 1024, hard: 2048))
        XCTAssertEqual(try ResourceLimit.parse(ulimit: "core=0"), ResourceLimit(resource: 4, name: "RLIMIT_CORE", soft: 0, hard: 0))
        XCTAssertEqual(try ResourceLimit.parse(ulimit: "nproc=unlimited:-1").hard, UInt64.max)
        XCTAssertEqual(try ResourceLimit.parse(ulimit: "nofile=1:2").oci, Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 2, soft: 1))
        for bad in ["nofile", "nofile=", "=1", "nofile=x", "nofile=1:2:3"] {
            assertNookError(try ResourceLimit.parse(ulimit: bad)) { e in
                XCTAssertEqual(e.message, "invalid --ulimit '\(bad)'")
                assertContains(e.hint ?? "", "NAME=SOFT[:HARD]")
            }
        }
        assertNookError(try ResourceLimit.parse(ulimit: "nofiles=1")) { e in XCTAssertEqual(e.message, "unknown rlimit 'nofiles'") }
        assertNookError(try ResourceLimit.parse(ulimit: "nofile=2:1")) { e in
            XCTAssertEqual(e.message, "rlimit RLIMIT_NOFILE: soft limit 2 is above hard limit 1")
        }
    }
}
