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

    public init(_ r: Spec.Rlimit) throws {
        var name = r.type.uppercased()
        if !name.hasPrefix("RLIMIT_") { name = "RLIMIT_" + name }
        guard let n = Self.numbers[name] else {
            throw NookError("unknown rlimit '\(r.type)'", hint: "names look like RLIMIT_NOFILE; see setrlimit(2)")
        }
        guard r.soft <= r.hard else {
            throw NookError("rlimit \(name): soft limit \(r.soft) is above hard limit \(r.hard)")
        }
        self.init(resource: n, name: name, soft: r.soft, hard: r.hard)
    }
}
