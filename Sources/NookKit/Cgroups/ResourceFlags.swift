import Glibc

/// podman's resource flags, parsed into the OCI `linux.resources` they mean.
public struct ResourceFlags: Sendable, Equatable {
    public var memory: String?
    public var memorySwap: String?
    public var memoryReservation: String?
    public var pidsLimit: Int64?
    public var cpus: String?
    public var cpuShares: UInt64?
    public var cpusetCPUs: String?
    public var blkioWeight: UInt16?
    public var deviceReadBps: [String] = []
    public var deviceWriteBps: [String] = []

    public init() {}

    public var isEmpty: Bool { self == ResourceFlags() }

    /// "64M", "1g", "512k", "1024" (bytes); -1 for unlimited where allowed.
    public static func bytes(_ text: String, flag: String) throws -> Int64 {
        if text == "-1" { return -1 }
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("gb", 1 << 30), ("mb", 1 << 20),
                                        ("kb", 1 << 10), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1)]
        var number = lower
        var scale: Int64 = 1
        for (suffix, size) in units where lower.hasSuffix(suffix) {
            number = String(lower.dropLast(suffix.count))
            scale = size
            break
        }
        guard let n = Double(number), n >= 0 else {
            throw NookError("invalid \(flag) '\(text)'", hint: "sizes look like 64M, 1g, 512k or a number of bytes")
        }
        return Int64(n * Double(scale))
    }

    /// "/dev/vda:1mb" -> (major, minor, bytes per second).
    public static func device(_ text: String, flag: String) throws -> Spec.Resources.ThrottleDevice {
        guard let colon = text.lastIndex(of: ":") else {
            throw NookError("invalid \(flag) '\(text)'", hint: "use DEVICE:RATE, e.g. \(flag) /dev/vda:1mb")
        }
        let path = String(text[..<colon])
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else {
            throw NookError("invalid \(flag) '\(text)': '\(path)' is not a block device")
        }
        let rate = try bytes(String(text[text.index(after: colon)...]), flag: flag)
        guard rate > 0 else { throw NookError("invalid \(flag) '\(text)': the rate must be positive") }
        let major = Int64((st.st_rdev >> 8) & 0xfff) | Int64((st.st_rdev >> 32) & ~0xfff)
        let minor = Int64(st.st_rdev & 0xff) | Int64((st.st_rdev >> 12) & ~0xff)
        return .init(major: major, minor: minor, rate: UInt64(rate))
    }

    public func resources() throws -> Spec.Resources? {
        guard !isEmpty else { return nil }
        var r = Spec.Resources()
        if memory != nil || memorySwap != nil || memoryReservation != nil {
            r.memory = .init(limit: try memory.map { try Self.bytes($0, flag: "--memory") },
                             reservation: try memoryReservation.map { try Self.bytes($0, flag: "--memory-reservation") },
                             swap: try memorySwap.map { try Self.bytes($0, flag: "--memory-swap") })
            if let limit = r.memory?.limit, limit > 0 && limit < 6 << 20 {
                throw NookError("--memory \(memory!) is too small", hint: "a container needs at least 6M")
            }
            // podman and docker: --memory without --memory-swap allows as much
            // swap as memory (memory plus swap = twice the memory limit).
            if memorySwap == nil, let limit = r.memory?.limit, limit > 0 { r.memory?.swap = 2 * limit }
        }
        if cpus != nil || cpuShares != nil || cpusetCPUs != nil {
            var cpu = Spec.Resources.CPU(shares: cpuShares, cpus: cpusetCPUs)
            if let cpus {
                guard let n = Double(cpus), n > 0 else {
                    throw NookError("invalid --cpus '\(cpus)'", hint: "a positive number of CPUs, e.g. 0.5")
                }
                cpu.period = 100_000
                cpu.quota = Int64(n * 100_000)
            }
            r.cpu = cpu
        }
        if let pidsLimit { r.pids = .init(limit: pidsLimit) }
        if blkioWeight != nil || !deviceReadBps.isEmpty || !deviceWriteBps.isEmpty {
            if let w = blkioWeight, !(10...1000).contains(w) {
                throw NookError("invalid --blkio-weight \(w)", hint: "a weight from 10 to 1000")
            }
            r.blockIO = .init(weight: blkioWeight,
                              throttleReadBpsDevice: try deviceReadBps.map { try Self.device($0, flag: "--device-read-bps") },
                              throttleWriteBpsDevice: try deviceWriteBps.map { try Self.device($0, flag: "--device-write-bps") })
        }
        return r
    }
}
