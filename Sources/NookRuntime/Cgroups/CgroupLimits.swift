import NookCore
import NookKernel
import NookSpec

/// Resource limits in cgroup v2 terms, from the OCI `linux.resources` (which
/// podman-style flags fill in). Each limit is one file and one value.
package struct CgroupLimits: Sendable, Equatable {
    package var files: [(name: String, value: String)] = []
    /// memory.max in bytes, as asked (`--memory`, linux.resources.memory.limit).
    package var memoryMax: Int64?

    package static func == (a: CgroupLimits, b: CgroupLimits) -> Bool {
        a.files.map { "\($0.name)=\($0.value)" } == b.files.map { "\($0.name)=\($0.value)" }
    }

    package var isEmpty: Bool { files.isEmpty }

    /// The controllers these files belong to ("memory.max" -> "memory").
    package var controllers: Set<String> {
        Set(files.map { String($0.name.split(separator: ".").first ?? "") })
    }

    package init() {}

    /// One rule for every field: a value that limits becomes a cgroup v2 file
    /// (and then needs a delegated cgroup, or the run is refused); a value that
    /// means "no limit" (0 where the OCI spec or podman says unset, -1) becomes
    /// nothing and needs nothing; a cgroup v1 limit with no v2 equivalent is refused.
    package init(_ r: Spec.Resources?) throws {
        guard let r else { return }
        if let m = r.memory {
            // -1 is "no limit"; any other negative is a mistake, not another way to say it.
            for (field, value) in [("limit", m.limit), ("reservation", m.reservation), ("swap", m.swap)] {
                if let value, value < -1 {
                    throw NookError("linux.resources.memory.\(field) \(value) is negative", hint: "a size in bytes, or -1 (or leave it out) for no limit")
                }
            }
            if let limit = m.limit, limit > 0 {
                memoryMax = limit
                files.append(("memory.max", "\(limit)"))
            }
            if let low = m.reservation, low > 0 { files.append(("memory.low", "\(low)")) }
            if let swap = m.swap, swap != -1, swap != 0 {
                // OCI (and podman) mean memory+swap; cgroup v2 wants swap alone.
                let limit = m.limit ?? 0
                guard limit > 0, swap >= limit else {
                    throw NookError("memory swap limit \(swap) must be at least the memory limit (\(limit))",
                                    hint: "--memory-swap is memory plus swap, as in podman; -1 means unlimited")
                }
                files.append(("memory.swap.max", "\(swap - limit)"))
            }
            if let kernel = m.kernel, kernel > 0 { throw Self.v1Only("memory.kernel") }
            if let tcp = m.kernelTCP, tcp > 0 { throw Self.v1Only("memory.kernelTCP") }
            if let swappiness = m.swappiness, swappiness <= 100 { throw Self.v1Only("memory.swappiness") }
            if m.disableOOMKiller == true { throw Self.v1Only("memory.disableOOMKiller") }
        }
        if let c = r.cpu {
            // 1024 is cgroup v1's default, which containerd and Docker always write: it asks for nothing.
            if let shares = c.shares, shares > 0, shares != Self.defaultShares { files.append(("cpu.weight", "\(Self.cpuWeight(shares: shares))")) }
            if let quota = c.quota, quota > 0 { files.append(("cpu.max", "\(quota) \(c.period ?? 100_000)")) }
            if let burst = c.burst, burst > 0 { files.append(("cpu.max.burst", "\(burst)")) }
            if let idle = c.idle, idle != 0 {
                guard idle == 1 else { throw NookError("linux.resources.cpu.idle \(idle) is not 0 or 1") }
                files.append(("cpu.idle", "1"))
            }
            if let cpus = c.cpus, !cpus.isEmpty { files.append(("cpuset.cpus", cpus)) }
            if let mems = c.mems, !mems.isEmpty { files.append(("cpuset.mems", mems)) }
            if let rt = c.realtimeRuntime, rt > 0 { throw Self.v1Only("cpu.realtimeRuntime") }
            if let rt = c.realtimePeriod, rt > 0 { throw Self.v1Only("cpu.realtimePeriod") }
        }
        if let p = r.pids, p.limit > 0 { files.append(("pids.max", "\(p.limit)")) }
        if let io = r.blockIO {
            if let w = io.weight, w > 0 { files.append(("io.weight", "default \(Self.ioWeight(blkio: UInt64(w)))")) }
            if let w = io.leafWeight, w > 0 { throw Self.v1Only("blockIO.leafWeight") }
            for d in io.weightDevice ?? [] {
                if let w = d.weight, w > 0 { files.append(("io.weight", "\(d.major):\(d.minor) \(Self.ioWeight(blkio: UInt64(w)))")) }
                if let w = d.leafWeight, w > 0 { throw Self.v1Only("blockIO.weightDevice[].leafWeight") }
            }
            var byDevice: [String: [String]] = [:]
            let throttles = [("rbps", io.throttleReadBpsDevice), ("wbps", io.throttleWriteBpsDevice),
                             ("riops", io.throttleReadIOPSDevice), ("wiops", io.throttleWriteIOPSDevice)]
            for (key, devices) in throttles {
                for d in devices ?? [] where d.rate > 0 { byDevice["\(d.major):\(d.minor)", default: []].append("\(key)=\(d.rate)") }
            }
            for (dev, limits) in byDevice.sorted(by: { $0.key < $1.key }) {
                files.append(("io.max", "\(dev) \(limits.joined(separator: " "))"))
            }
        }
        for h in r.hugepageLimits ?? [] {
            // The page size names a file: "2MB", "1GB".
            guard !h.pageSize.isEmpty, h.pageSize.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw NookError("invalid linux.resources.hugepageLimits pageSize '\(h.pageSize)'", hint: "a size such as 2MB or 1GB", kind: .invalidInput)
            }
            files.append(("hugetlb.\(h.pageSize).max", "\(h.limit)"))
        }
        if let n = r.network, n.classID != nil || !(n.priorities ?? []).isEmpty { throw Self.v1Only("network") }
        for (device, limit) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !device.isEmpty, !device.contains(where: { $0.isWhitespace }) else {
                throw NookError("invalid linux.resources.rdma device '\(device)'", hint: "an RDMA device name such as mlx4_0", kind: .invalidInput)
            }
            let parts = [limit.hcaHandles.map { "hca_handle=\($0)" }, limit.hcaObjects.map { "hca_object=\($0)" }].compactMap { $0 }
            if !parts.isEmpty { files.append(("rdma.max", "\(device) " + parts.joined(separator: " "))) }
        }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            // A controller's file ("memory.high"), never the cgroup's own files:
            // cgroup.procs would put a process of the config's choosing in the
            // container's cgroup (and so in its kill scope), cgroup.kill kill it.
            guard !key.contains("/"), !key.hasPrefix("."), key.contains("."), !key.hasPrefix("cgroup.") else {
                throw NookError("invalid linux.resources.unified key '\(key)'", hint: "a controller's file such as memory.high; not cgroup.* and no path", kind: .invalidInput)
            }
            files.append((key, value))
        }
    }

    package static let defaultShares: UInt64 = 1024

    /// For the message when the OOM killer ended the container: "memory.max=64M".
    package var memoryMaxDescription: String {
        if let memoryMax { return "memory.max=\(Self.humanBytes(memoryMax))" }
        // A linux.resources.unified value, as written; none: the kernel's "max".
        return "memory.max=" + (files.last { $0.name == "memory.max" }?.value ?? "max")
    }

    /// 67108864 -> "64M"; a size that is no whole number of K, M or G stays in bytes.
    static func humanBytes(_ n: Int64) -> String {
        for (unit, size) in [("G", Int64(1) << 30), ("M", Int64(1) << 20), ("K", Int64(1) << 10)] where n >= size && n % size == 0 {
            return "\(n / size)\(unit)"
        }
        return "\(n)"
    }

    /// A cgroup v1 limit: Nook uses cgroup v2 only, where nothing means the same.
    static func v1Only(_ field: String) -> NookError {
        NookError("linux.resources.\(field) is a cgroup v1 limit with no cgroup v2 equivalent: Nook cannot enforce it",
                  hint: "remove it from config.json (Nook uses cgroup v2 only)")
    }

    /// cgroup v1 cpu.shares (2..262144) -> v2 cpu.weight (1..10000), crun's linear formula.
    package static func cpuWeight(shares: UInt64) -> UInt64 {
        let s = min(max(shares, 2), 262_144)
        return 1 + ((s - 2) * 9999) / 262_142
    }

    /// v1 blkio.weight (10..1000) -> v2 io.weight (1..10000), crun's formula.
    package static func ioWeight(blkio: UInt64) -> UInt64 {
        let w = min(max(blkio, 10), 1000)
        return 1 + ((w - 10) * 9999) / 990
    }
}
