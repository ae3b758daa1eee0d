import NookCore

extension Spec {
    /// `linux.resources`: every field the OCI spec defines, so none is dropped
    /// unseen. CgroupLimits turns each into cgroup v2 files, or refuses it.
    public struct Resources: Codable, Sendable, Equatable {
        public struct Memory: Codable, Sendable, Equatable {
            public var limit: Int64?
            public var reservation: Int64?
            public var swap: Int64?
            // cgroup v1 only: no cgroup v2 file means the same.
            public var kernel: Int64?
            public var kernelTCP: Int64?
            public var swappiness: UInt64?
            public var disableOOMKiller: Bool?
            public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
                (self.limit, self.reservation, self.swap) = (limit, reservation, swap)
            }
        }
        public struct CPU: Codable, Sendable, Equatable {
            public var shares: UInt64?
            public var quota: Int64?
            public var period: UInt64?
            public var burst: UInt64?
            public var idle: Int64?
            public var cpus: String?
            public var mems: String?
            // cgroup v1 only (cpu.rt_*).
            public var realtimeRuntime: Int64?
            public var realtimePeriod: UInt64?
            public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, cpus: String? = nil) {
                (self.shares, self.quota, self.period, self.cpus) = (shares, quota, period, cpus)
            }
        }
        public struct Pids: Codable, Sendable, Equatable {
            public var limit: Int64
            public init(limit: Int64) { self.limit = limit }
        }
        public struct ThrottleDevice: Codable, Sendable, Equatable {
            public var major, minor: Int64
            public var rate: UInt64
            public init(major: Int64, minor: Int64, rate: UInt64) {
                (self.major, self.minor, self.rate) = (major, minor, rate)
            }
        }
        public struct WeightDevice: Codable, Sendable, Equatable {
            public var major, minor: Int64
            public var weight: UInt16?
            public var leafWeight: UInt16?
        }
        public struct BlockIO: Codable, Sendable, Equatable {
            public var weight: UInt16?
            public var leafWeight: UInt16?
            public var weightDevice: [WeightDevice]?
            public var throttleReadBpsDevice: [ThrottleDevice]?
            public var throttleWriteBpsDevice: [ThrottleDevice]?
            public var throttleReadIOPSDevice: [ThrottleDevice]?
            public var throttleWriteIOPSDevice: [ThrottleDevice]?
            public init(weight: UInt16? = nil, throttleReadBpsDevice: [ThrottleDevice]? = nil,
                        throttleWriteBpsDevice: [ThrottleDevice]? = nil) {
                (self.weight, self.throttleReadBpsDevice, self.throttleWriteBpsDevice) = (weight, throttleReadBpsDevice, throttleWriteBpsDevice)
            }
        }
        public struct HugepageLimit: Codable, Sendable, Equatable {
            public var pageSize: String
            public var limit: UInt64
        }
        /// cgroup v1 only (net_cls, net_prio).
        public struct Network: Codable, Sendable, Equatable {
            public struct Priority: Codable, Sendable, Equatable {
                public var name: String
                public var priority: UInt32
            }
            public var classID: UInt32?
            public var priorities: [Priority]?
        }
        public struct RDMA: Codable, Sendable, Equatable {
            public var hcaHandles: UInt32?
            public var hcaObjects: UInt32?
        }
        /// One field per cgroup v2 controller: memory, cpu, pids, io, hugetlb, rdma.
        public var memory: Memory?, cpu: CPU?, pids: Pids?, blockIO: BlockIO?, hugepageLimits: [HugepageLimit]?, rdma: [String: RDMA]?
        /// cgroup v1's net_cls and net_prio: refused when set (CgroupLimits).
        public var network: Network?
        /// cgroup v2 files written as given ("memory.high": "64M").
        public var unified: [String: String]?
        // `devices` (access rules, not limits) is not modelled: see Docs/security.md.
        public init(memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil, blockIO: BlockIO? = nil) {
            (self.memory, self.cpu, self.pids, self.blockIO) = (memory, cpu, pids, blockIO)
        }
    }
}
