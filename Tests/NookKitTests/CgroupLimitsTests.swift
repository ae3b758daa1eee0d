import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// Every field of linux.resources, by the one rule: a limiting value is a cgroup
/// v2 file, "no limit" is nothing, a cgroup v1 limit is refused.
final class CgroupLimitsTests: XCTestCase {
    func files(_ json: String) throws -> [String] {
        let r = try JSONDecoder().decode(Spec.Resources.self, from: Data(json.utf8))
        return try CgroupLimits(r).files.map { "\($0.name)=\($0.value)" }
    }

    func testEveryV2LimitBecomesItsFile() throws {
        XCTAssertEqual(try files(#"{"cpu":{"quota":50000,"period":100000,"burst":1000,"idle":1,"mems":"0"}}"#),
                       ["cpu.max=50000 100000", "cpu.max.burst=1000", "cpu.idle=1", "cpuset.mems=0"])
        XCTAssertEqual(try files(#"{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":500}],"throttleReadIOPSDevice":[{"major":8,"minor":0,"rate":100}],"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":1048576}],"throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":5}]}}"#),
                       ["io.weight=8:0 4950", "io.max=8:0 wbps=1048576 riops=100", "io.max=8:16 wiops=5"])
        XCTAssertEqual(try files(#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],"rdma":{"mlx4_0":{"hcaHandles":2,"hcaObjects":3}}}"#),
                       ["hugetlb.2MB.max=4194304", "rdma.max=mlx4_0 hca_handle=2 hca_object=3"])
    }

    func testNoLimitIsNothing() throws {
        XCTAssertEqual(try files(#"{"memory":{"limit":-1,"swap":-1,"reservation":0},"pids":{"limit":-1},"cpu":{"quota":-1,"shares":0},"blockIO":{"weight":0},"network":{}}"#), [])
        XCTAssertEqual(try files(#"{"pids":{"limit":0},"memory":{"kernel":-1,"swappiness":18446744073709551615,"disableOOMKiller":false}}"#), [])
    }

    /// Found by a hostile review: -5 read as "no limit", idle -1 as idle, and
    /// unified keys that are the cgroup's own files (cgroup.procs would put a
    /// process of the config's choosing in the container's kill scope).
    func testMistakesAreRefusedNotReadAsNoLimit() throws {
        for json in [#"{"memory":{"limit":-5}}"#, #"{"memory":{"reservation":-7}}"#, #"{"memory":{"limit":67108864,"swap":-2}}"#,
                     #"{"cpu":{"idle":-1}}"#, #"{"cpu":{"idle":2}}"#,
                     #"{"unified":{"cgroup.procs":"1"}}"#, #"{"unified":{"cgroup.kill":"1"}}"#, #"{"unified":{"..":"1"}}"#,
                     #"{"unified":{".hidden":"1"}}"#, #"{"unified":{"memory/../x":"1"}}"#] {
            XCTAssertThrowsError(try files(json), json)
        }
        XCTAssertEqual(try files(#"{"unified":{"memory.high":"1000000"}}"#), ["memory.high=1000000"])
    }

    func testCgroupV1LimitsAreRefusedNamingTheField() throws {
        let cases = [#"{"memory":{"kernel":1048576}}"#: "memory.kernel", #"{"memory":{"kernelTCP":1048576}}"#: "memory.kernelTCP",
                     #"{"memory":{"swappiness":10}}"#: "memory.swappiness", #"{"memory":{"disableOOMKiller":true}}"#: "memory.disableOOMKiller",
                     #"{"cpu":{"realtimeRuntime":1000}}"#: "cpu.realtimeRuntime", #"{"cpu":{"realtimePeriod":1000}}"#: "cpu.realtimePeriod",
                     #"{"blockIO":{"leafWeight":100}}"#: "blockIO.leafWeight", #"{"network":{"classID":1}}"#: "network"]
        for (json, field) in cases {
            XCTAssertThrowsError(try files(json), json) { error in
                XCTAssertTrue("\(error)".contains("linux.resources.\(field) is a cgroup v1 limit with no cgroup v2 equivalent"), "\(error)")
            }
        }
    }

    func testNamesThatBecomeFileNamesAreChecked() {
        XCTAssertThrowsError(try files(#"{"hugepageLimits":[{"pageSize":"../../x","limit":1}]}"#))
        XCTAssertThrowsError(try files(#"{"rdma":{"a b":{"hcaHandles":1}}}"#))
    }
}
