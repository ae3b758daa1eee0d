import Glibc
import NookCore
import NookKernel
import NookSpec

/// podman's resource flags, parsed into the OCI `linux.resources` they mean.
public struct ResourceFlags: Sendable, Equatable {
    /// The memory limit (`--memory`): "64M", "1g", "512k" or bytes.
    public var memory: String?
    /// Memory plus swap (`--memory-swap`); "-1": unlimited swap.
    public var memorySwap: String?
    /// A soft memory limit (`--memory-reservation`).
    public var memoryReservation: String?
    /// The most processes and threads at once (`--pids-limit`); -1: unlimited.
    public var pidsLimit: Int64?
    /// CPU time as a number of CPUs (`--cpus 0.5`).
    public var cpus: String?
    /// A relative CPU weight (`--cpu-shares`).
    public var cpuShares: UInt64?
    /// The CPUs it may run on (`--cpuset-cpus 0-1`).
    public var cpusetCPUs: String?
    /// A relative block I/O weight, 10 to 1000 (`--blkio-weight`).
    public var blkioWeight: UInt16?
    /// Read rates per block device, `DEVICE:RATE` (`--device-read-bps /dev/vda:1mb`).
    public var deviceReadBps: [String] = []
    /// Write rates per block device, `DEVICE:RATE` (`--device-write-bps`).
    public var deviceWriteBps: [String] = []

    /// Limits as `nook run` takes them; nil or empty: not limited.
    public init(memory: String? = nil, memorySwap: String? = nil, memoryReservation: String? = nil, pidsLimit: Int64? = nil,
                cpus: String? = nil, cpuShares: UInt64? = nil, cpusetCPUs: String? = nil, blkioWeight: UInt16? = nil,
                deviceReadBps: [String] = [], deviceWriteBps: [String] = []) {
        (self.memory, self.memorySwap, self.memoryReservation, self.pidsLimit) = (memory, memorySwap, memoryReservation, pidsLimit)
        (self.cpus, self.cpuShares, self.cpusetCPUs, self.blkioWeight) = (cpus, cpuShares, cpusetCPUs, blkioWeight)
        (self.deviceReadBps, self.deviceWriteBps) = (deviceReadBps, deviceWriteBps)
    }

    package var isEmpty: Bool { self == ResourceFlags() }

    /// "64M", "1g", "512k", "1024" (bytes); -1 for unlimited where allowed.
    /// `shown`: the whole flag value, for errors (`/dev/vda:1mb` rather than `1mb`).
    package static func bytes(_ text: String, flag: String, shown: String? = nil) throws -> Int64 {
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
        let hint = "sizes look like 64M, 1g, 512k or a number of bytes"
        // Digits with at most one '.': Double() alone would take "inf", "nan", "1e30" and "0x10".
        guard number.contains(where: \.isNumber), number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, let n = Double(number) else {
            throw NookError("invalid \(flag) '\(shown ?? text)'", hint: hint, kind: .invalidInput)
        }
        let tooLarge = NookError("invalid \(flag) '\(shown ?? text)': more than \(Int64.max) bytes", hint: hint, kind: .invalidInput)
        if let whole = Int64(number) {
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: scale)
            guard !overflow else { throw tooLarge }
            return bytes
        }
        // A fraction ("1.5g"): 2^63 is the first Double that Int64 cannot hold.
        let bytes = n * Double(scale)
        guard bytes < 0x1p63 else { throw tooLarge }
        return Int64(bytes)
    }

    /// "/dev/vda:1mb" -> (major, minor, bytes per second).
    package static func device(_ text: String, flag: String) throws -> Spec.Resources.ThrottleDevice {
        guard let colon = text.lastIndex(of: ":") else {
            throw NookError("invalid \(flag) '\(text)'", hint: "use DEVICE:RATE, e.g. \(flag) /dev/vda:1mb", kind: .invalidInput)
        }
        let path = String(text[..<colon])
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else {
            throw NookError("invalid \(flag) '\(text)': '\(path)' is not a block device", kind: .invalidInput)
        }
        let rate = try bytes(String(text[text.index(after: colon)...]), flag: flag, shown: text)
        guard rate > 0 else { throw NookError("invalid \(flag) '\(text)': the rate must be positive", kind: .invalidInput) }
        let major = Int64((st.st_rdev >> 8) & 0xfff) | Int64((st.st_rdev >> 32) & ~0xfff)
        let minor = Int64(st.st_rdev & 0xff) | Int64((st.st_rdev >> 12) & ~0xff)
        return .init(major: major, minor: minor, rate: UInt64(rate))
    }

    /// cpu.max's period, in µs, as podman sets it.
    package static let cpuPeriod: UInt64 = 100_000
    /// The kernel refuses a quota under 1 ms or over 2^44 - 1 µs (max_cfs_runtime):
    /// 0.01 to 175921860 CPUs with a 100 ms period.
    package static let cpusRange = "0.01 to 175921860"

    /// `--cpus 1.5` -> a quota of 150000 µs per 100000 µs period.
    package static func cpuQuota(_ text: String) throws -> Int64 {
        let bad = NookError("invalid --cpus '\(text)'", hint: "a number of CPUs from \(cpusRange), e.g. 0.5", kind: .invalidInput)
        // Digits with at most one '.': Double() alone would take "inf", "nan" and "1e30".
        guard text.contains(where: \.isNumber), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              text.filter({ $0 == "." }).count <= 1, let n = Double(text) else { throw bad }
        let quota = (n * Double(cpuPeriod)).rounded(.towardZero) // as podman: truncated
        guard quota >= 1000, quota <= Double((1 << 44) - 1) else { throw bad }
        return Int64(quota)
    }

    package func resources() throws -> Spec.Resources? {
        guard !isEmpty else { return nil }
        var r = Spec.Resources()
        // -1 is "unlimited", which is what no cgroup at all gives: alone, it
        // asks nothing of cgroups (and works on a host that delegates none).
        let swapUnlimitedOnly = memorySwap == "-1" && memory == nil && memoryReservation == nil
        if (memory != nil || memorySwap != nil || memoryReservation != nil) && !swapUnlimitedOnly {
            r.memory = .init(limit: try memory.map { try Self.bytes($0, flag: "--memory") },
                             reservation: try memoryReservation.map { try Self.bytes($0, flag: "--memory-reservation") },
                             swap: try memorySwap.map { try Self.bytes($0, flag: "--memory-swap") })
            if let memory, let limit = r.memory?.limit, limit > 0 && limit < 6 << 20 {
                throw NookError("--memory \(memory) is too small", hint: "a container needs at least 6M", kind: .invalidInput)
            }
            // podman and docker: --memory without --memory-swap allows as much
            // swap as memory (memory plus swap = twice the memory limit);
            // twice a limit past Int64.max / 2 is no limit.
            if memorySwap == nil, let limit = r.memory?.limit, limit > 0 {
                let (twice, overflow) = limit.multipliedReportingOverflow(by: 2)
                r.memory?.swap = overflow ? -1 : twice
            }
        }
        if cpus != nil || cpuShares != nil || cpusetCPUs != nil {
            var cpu = Spec.Resources.CPU(shares: cpuShares, cpus: cpusetCPUs)
            if let cpus {
                cpu.period = Self.cpuPeriod
                cpu.quota = try Self.cpuQuota(cpus)
            }
            r.cpu = cpu
        }
        if let pidsLimit {
            guard pidsLimit == -1 || pidsLimit > 0 else {
                throw NookError("invalid --pids-limit \(pidsLimit)", hint: "a number of processes from 1, or -1 for unlimited", kind: .invalidInput)
            }
            if pidsLimit > 0 { r.pids = .init(limit: pidsLimit) }
        }
        if blkioWeight != nil || !deviceReadBps.isEmpty || !deviceWriteBps.isEmpty {
            if let w = blkioWeight, !(10...1000).contains(w) {
                throw NookError("invalid --blkio-weight \(w)", hint: "a weight from 10 to 1000", kind: .invalidInput)
            }
            r.blockIO = .init(weight: blkioWeight,
                              throttleReadBpsDevice: try deviceReadBps.map { try Self.device($0, flag: "--device-read-bps") },
                              throttleWriteBpsDevice: try deviceWriteBps.map { try Self.device($0, flag: "--device-write-bps") })
        }
        return r == Spec.Resources() ? nil : r
    }
}
