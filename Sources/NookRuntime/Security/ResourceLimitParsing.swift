import NookCore
import NookKernel
import NookSpec

/// `process.rlimits[]` (and `--ulimit`) to the numbers setrlimit(2) takes.
extension ResourceLimit {
    static let numbers: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    package init(_ r: Spec.Rlimit) throws {
        try self.init(named: r.type, soft: r.soft, hard: r.hard)
    }

    /// `type`: RLIMIT_NOFILE, or nofile (any case).
    init(named type: String, soft: UInt64, hard: UInt64) throws {
        var name = type.uppercased()
        if !name.hasPrefix("RLIMIT_") { name = "RLIMIT_" + name }
        guard let n = Self.numbers[name] else {
            throw NookError("unknown rlimit '\(type)'", hint: "names look like RLIMIT_NOFILE; see setrlimit(2)", kind: .invalidInput)
        }
        guard soft <= hard else {
            throw NookError("rlimit \(name): soft limit \(soft) is above hard limit \(hard)")
        }
        self.init(resource: n, name: name, soft: soft, hard: hard)
    }

    /// `--ulimit NAME=SOFT[:HARD]` (a value alone is both; -1 or unlimited: no limit).
    package static func parse(ulimit text: String) throws -> ResourceLimit {
        let bad = NookError("invalid --ulimit '\(text)'", hint: "use NAME=SOFT[:HARD], e.g. --ulimit nofile=1024:2048", kind: .invalidInput)
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw bad }
        let values = parts[1].split(separator: ":").map(String.init)
        func parse(_ v: String) throws -> UInt64 {
            if v == "unlimited" || v == "-1" { return UInt64.max }
            guard let n = UInt64(v) else { throw bad }
            return n
        }
        guard values.count == 1 || values.count == 2 else { throw bad }
        let soft = try parse(values[0])
        let hard = values.count == 2 ? try parse(values[1]) : soft
        return try ResourceLimit(named: parts[0], soft: soft, hard: hard)
    }

    /// As `process.rlimits[]` records it.
    package var oci: Spec.Rlimit { Spec.Rlimit(type: name, hard: hard, soft: soft) }
}
