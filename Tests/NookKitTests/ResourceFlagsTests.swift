import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class ResourceFlagsTests: XCTestCase {
    func testMemoryWithoutMemorySwapAllowsAsMuchSwapAsMemoryLikePodman() throws {
        var flags = ResourceFlags()
        flags.memory = "64M"
        let r = try XCTUnwrap(try flags.resources())
        XCTAssertEqual(r.memory?.swap, 128 << 20, "memory plus swap = twice the memory")
        let limits = try CgroupLimits(r)
        XCTAssertEqual(limits.files.first { $0.name == "memory.swap.max" }?.value, "\(64 << 20)")
    }

    func testExplicitMemorySwapWins() throws {
        var flags = ResourceFlags()
        flags.memory = "64M"
        flags.memorySwap = "-1"
        XCTAssertNil(try CgroupLimits(try flags.resources()).files.first { $0.name == "memory.swap.max" },
                     "unlimited is a fresh cgroup's default: nothing to write")
        flags.memorySwap = "64M"
        XCTAssertEqual(try CgroupLimits(try flags.resources()).files.first { $0.name == "memory.swap.max" }?.value, "0")
    }

    /// -1 is unlimited, what no cgroup gives: alone it asks for no cgroup at all (issue 17).
    func testMinusOneAloneAsksNothingOfCgroups() throws {
        var flags = ResourceFlags()
        flags.pidsLimit = -1
        XCTAssertNil(try flags.resources())
        flags.memorySwap = "-1"
        XCTAssertNil(try flags.resources())
        flags.pidsLimit = 100
        XCTAssertEqual(try CgroupLimits(try flags.resources()).files.map { "\($0.name)=\($0.value)" }, ["pids.max=100"])
        for bad: Int64 in [0, -2, .min] {
            flags.pidsLimit = bad
            assertNookError(try flags.resources(), "\(bad)") { e in XCTAssertTrue(e.message.hasPrefix("invalid --pids-limit")) }
        }
    }

    func testHugeSizesAreErrorsNotCrashes() throws {
        for (flag, path) in [("--memory", \ResourceFlags.memory), ("--memory-swap", \.memorySwap), ("--memory-reservation", \.memoryReservation)] {
            for huge in ["99999999999999999999G", "9223372036854775807G", "8589934592G", "9223372036854775808", "99999999999999999999.5k"] {
                var flags = ResourceFlags()
                flags.memory = "64M"
                flags[keyPath: path] = huge
                assertNookError(try flags.resources(), "\(flag) \(huge)") { e in
                    XCTAssertEqual(e.message, "invalid \(flag) '\(huge)': more than 9223372036854775807 bytes")
                    XCTAssertEqual(e.exitCode, 125)
                }
            }
        }
        XCTAssertEqual(try ResourceFlags.bytes("8589934591G", flag: "--memory"), 8_589_934_591 << 30, "the largest whole number of G")
        XCTAssertEqual(try ResourceFlags.bytes("1.5g", flag: "--memory"), 3 << 29)
    }

    func testSizesAreDigitsNotAnythingDoubleParses() {
        for bad in ["inf", "nan", "infinity", "1e30", "0x10", "-5M", "+5M", "1.2.3m", ".", "m", "", " 5m", "5 m"] {
            assertNookError(try ResourceFlags.bytes(bad, flag: "--memory"), bad) { e in
                XCTAssertEqual(e.message, "invalid --memory '\(bad)'")
            }
        }
    }

    func testMemorySwapDefaultDoesNotOverflowForAHugeLimit() throws {
        var flags = ResourceFlags()
        flags.memory = "\(Int64.max)"
        XCTAssertEqual(try flags.resources()?.memory?.swap, -1, "twice a limit past Int64.max / 2 is no limit")
        flags.memory = "4611686018427387903"
        XCTAssertEqual(try flags.resources()?.memory?.swap, 9_223_372_036_854_775_806)
    }

    func testCPUsOutsideTheKernelsRangeAreErrorsNotCrashes() throws {
        for bad in ["inf", "-inf", "nan", "92233720368548", "175921861", "1e9", "-1", "0", "0.001", "0.00999", "", "one", "0x1p3"] {
            var flags = ResourceFlags()
            flags.cpus = bad
            assertNookError(try flags.resources(), bad) { e in
                XCTAssertEqual(e.message, "invalid --cpus '\(bad)'")
                XCTAssertEqual(e.hint, "a number of CPUs from 0.01 to 175921860, e.g. 0.5")
            }
        }
        XCTAssertEqual(try ResourceFlags.cpuQuota("0.01"), 1000)
        XCTAssertEqual(try ResourceFlags.cpuQuota("0.5"), 50_000)
        XCTAssertEqual(try ResourceFlags.cpuQuota("1.5"), 150_000)
        XCTAssertEqual(try ResourceFlags.cpuQuota("175921860"), 17_592_186_000_000)
    }

    func testDeviceRatesAreErrorsNotCrashes() throws {
        guard let device = ["/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"].first(where: {
            var st = stat()
            return stat($0, &st) == 0 && st.st_mode & S_IFMT == S_IFBLK
        }) else { throw XCTSkip("no block device to name") }
        var flags = ResourceFlags()
        flags.deviceWriteBps = ["\(device):9223372036854775807G"]
        assertNookError(try flags.resources()) { e in
            XCTAssertEqual(e.message, "invalid --device-write-bps '\(device):9223372036854775807G': more than 9223372036854775807 bytes")
        }
        flags.deviceWriteBps = ["\(device):inf"]
        assertNookError(try flags.resources()) { e in XCTAssertEqual(e.message, "invalid --device-write-bps '\(device):inf'") }
    }
}
