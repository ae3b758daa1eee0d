/// Resource limits in cgroup v2 terms, from the OCI `linux.resources` (which
/// podman-style flags fill in). Each limit is one file and one value.
public struct CgroupLimits: Sendable, Equatable {
    public var files: [(name: String, value: String)] = []

    public static func == (a: CgroupLimits, b: CgroupLimits) -> Bool {
        a.files.map { "\($0.name)=\($0.value)" } == b.files.map { "\($0.name)=\($0.value)" }
    }

    public var isEmpty: Bool { files.isEmpty }

    /// The controllers these files belong to ("memory.max" -> "memory").
    public var controllers: Set<String> {
        Set(files.map { String($0.name.split(separator: ".").first ?? "") })
    }

    public init() {}

    public init(_ r: Spec.Resources?) throws {
        guard let r else { return }
        if let m = r.memory {
            if let limit = m.limit, limit > 0 { files.append(("memory.max", "\(limit)")) }
            if let low = m.reservation, low > 0 { files.append(("memory.low", "\(low)")) }
            if let swap = m.swap {
                // OCI (and podman) mean memory+swap; cgroup v2 wants swap alone.
                if swap == -1 { files.append(("memory.swap.max", "max")) } else {
                    let limit = m.limit ?? 0
                    guard limit > 0, swap >= limit else {
                        throw NookError("memory swap limit \(swap) must be at least the memory limit (\(limit))",
                                        hint: "--memory-swap is memory plus swap, as in podman; -1 means unlimited")
                    }
                    files.append(("memory.swap.max", "\(swap - limit)"))
                }
            }
        }
        if let c = r.cpu {
            // 1024 is cgroup v1's default, which containerd and Docker always write: it asks for nothing.
            if let shares = c.shares, shares > 0, shares != Self.defaultShares { files.append(("cpu.weight", "\(Self.cpuWeight(shares: shares))")) }
            if let quota = c.quota, quota > 0 { files.append(("cpu.max", "\(quota) \(c.period ?? 100_000)")) }
            if let cpus = c.cpus, !cpus.isEmpty { files.append(("cpuset.cpus", cpus)) }
            if let mems = c.mems, !mems.isEmpty { files.append(("cpuset.mems", mems)) }
        }
        if let p = r.pids, p.limit != 0 { files.append(("pids.max", p.limit < 0 ? "max" : "\(p.limit)")) }
        if let io = r.blockIO {
            if let w = io.weight, w > 0 { files.append(("io.weight", "default \(Self.ioWeight(blkio: UInt64(w)))")) }
            var byDevice: [String: [String]] = [:]
            for d in io.throttleReadBpsDevice ?? [] { byDevice["\(d.major):\(d.minor)", default: []].append("rbps=\(d.rate)") }
            for d in io.throttleWriteBpsDevice ?? [] { byDevice["\(d.major):\(d.minor)", default: []].append("wbps=\(d.rate)") }
            for (dev, limits) in byDevice.sorted(by: { $0.key < $1.key }) {
                files.append(("io.max", "\(dev) \(limits.joined(separator: " "))"))
            }
        }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), key.contains(".") else { throw NookError("invalid linux.resources.unified key '\(key)'") }
            files.append((key, value))
        }
    }

    public static let defaultShares: UInt64 = 1024

    /// cgroup v1 cpu.shares (2..262144) -> v2 cpu.weight (1..10000), crun's linear formula.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        let s = min(max(shares, 2), 262_144)
        return 1 + ((s - 2) * 9999) / 262_142
    }

    /// v1 blkio.weight (10..1000) -> v2 io.weight (1..10000), crun's formula.
    public static func ioWeight(blkio: UInt64) -> UInt64 {
        let w = min(max(blkio, 10), 1000)
        return 1 + ((w - 10) * 9999) / 990
    }
}
