import NookCore

extension Spec {
    /// `linux.resources`: every field the OCI spec defines, so none is dropped
    /// unseen. CgroupLimits turns each into cgroup v2 files, or refuses it.
    package struct Resources: Codable, Sendable, Equatable {
        package struct Memory: Codable, Sendable, Equatable {
            package var limit: Int64?
            package var reservation: Int64?
            package var swap: Int64?
            // cgroup v1 only: no cgroup v2 file means the same.
            package var kernel: Int64?
            package var kernelTCP: Int64?
            package var swappiness: UInt64?
            package var disableOOMKiller: Bool?
            package init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
                (self.limit, self.reservation, self.swap) = (limit, reservation, swap)
            }
        }
        package struct CPU: Codable, Sendable, Equatable {
            package var shares: UInt64?
            package var quota: Int64?
            package var period: UInt64?
            package var burst: UInt64?
            package var idle: Int64?
            package var cpus: String?
            package var mems: String?
            // cgroup v1 only (cpu.rt_*).
            package var realtimeRuntime: Int64?
            package var realtimePeriod: UInt64?
            package init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, cpus: String? = nil) {
                (self.shares, self.quota, self.period, self.cpus) = (shares, quota, period, cpus)
            }
        }
        package struct Pids: Codable, Sendable, Equatable {
            package var limit: Int64
            package init(limit: Int64) { self.limit = limit }
        }
        package struct ThrottleDevice: Codable, Sendable, Equatable {
            package var major, minor: Int64
            package var rate: UInt64
            package init(major: Int64, minor: Int64, rate: UInt64) {
                (self.major, self.minor, self.rate) = (major, minor, rate)
            }
        }
        package struct WeightDevice: Codable, Sendable, Equatable {
            package var major, minor: Int64
            package var weight: UInt16?
            package var leafWeight: UInt16?
        }
        package struct BlockIO: Codable, Sendable, Equatable {
            package var weight: UInt16?
            package var leafWeight: UInt16?
            package var weightDevice: [WeightDevice]?
            package var throttleReadBpsDevice: [ThrottleDevice]?
            package var throttleWriteBpsDevice: [ThrottleDevice]?
            package var throttleReadIOPSDevice: [ThrottleDevice]?
            package var throttleWriteIOPSDevice: [ThrottleDevice]?
            package init(weight: UInt16? = nil, throttleReadBpsDevice: [ThrottleDevice]? = nil,
                        throttleWriteBpsDevice: [ThrottleDevice]? = nil) {
                (self.weight, self.throttleReadBpsDevice, self.throttleWriteBpsDevice) = (weight, throttleReadBpsDevice, throttleWriteBpsDevice)
            }
        }
        package struct HugepageLimit: Codable, Sendable, Equatable {
            package var pageSize: String
            package var limit: UInt64
        }
        /// cgroup v1 only (net_cls, net_prio).
        package struct Network: Codable, Sendable, Equatable {
            package struct Priority: Codable, Sendable, Equatable {
                package var name: String
                package var priority: UInt32
            }
            package var classID: UInt32?
            package var priorities: [Priority]?
        }
        package struct RDMA: Codable, Sendable, Equatable {
            package var hcaHandles: UInt32?
            package var hcaObjects: UInt32?
        }
        /// One field per cgroup v2 controller: memory, cpu, pids, io, hugetlb, rdma.
        package var memory: Memory?, cpu: CPU?, pids: Pids?, blockIO: BlockIO?, hugepageLimits: [HugepageLimit]?, rdma: [String: RDMA]?
        /// cgroup v1's net_cls and net_prio: refused when set (CgroupLimits).
        package var network: Network?
        /// cgroup v2 files written as given ("memory.high": "64M").
        package var unified: [String: String]?
        // `devices` (access rules, not limits) is not modelled: see Docs/security.md.
        package init(memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil, blockIO: BlockIO? = nil) {
            (self.memory, self.cpu, self.pids, self.blockIO) = (memory, cpu, pids, blockIO)
        }
    }
}
