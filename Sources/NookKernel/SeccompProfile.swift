import Glibc
import NookCore
import CShims

/// A system call filter, decided in Swift and compiled to BPF in the parent
/// (before clone) by small C helpers over libseccomp. The child only loads
/// the resulting bytes with seccomp(2).
package struct SeccompProfile: Sendable, Hashable {
    package enum Action: Sendable, Hashable {
        case allow
        case errno(Int32)
        case killThread
        case killProcess
        case trap
        case trace(Int32)
        case log

        /// OCI/Docker spelling: "SCMP_ACT_ERRNO" etc.
        package init(name: String, errnoRet: UInt32?, defaultErrno: Int32 = EPERM) throws {
            switch name {
            case "SCMP_ACT_ALLOW": self = .allow
            // The kernel caps an errno at 4095 (MAX_ERRNO) and the filter's data at 16 bits.
            case "SCMP_ACT_ERRNO": self = .errno(try Self.data(errnoRet, max: 4095, name) ?? defaultErrno)
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": self = .killThread
            case "SCMP_ACT_KILL_PROCESS": self = .killProcess
            case "SCMP_ACT_TRAP": self = .trap
            case "SCMP_ACT_TRACE": self = .trace(try Self.data(errnoRet, max: 65535, name) ?? 0)
            case "SCMP_ACT_LOG": self = .log
            default:
                throw NookError("unknown seccomp action '\(name)'",
                                hint: "actions are SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG", kind: .invalidInput)
            }
        }

        static func data(_ value: UInt32?, max: UInt32, _ action: String) throws -> Int32? {
            guard let value else { return nil }
            guard value <= max else {
                throw NookError("errnoRet \(value) of \(action) is out of range 0 to \(max)")
            }
            return Int32(value)
        }

        package var c: (kind: Int32, value: Int32) {
            switch self {
            case .allow: (Int32(NOOK_SCMP_ACT_ALLOW.rawValue), 0)
            case .errno(let e): (Int32(NOOK_SCMP_ACT_ERRNO.rawValue), e)
            case .killThread: (Int32(NOOK_SCMP_ACT_KILL_THREAD.rawValue), 0)
            case .killProcess: (Int32(NOOK_SCMP_ACT_KILL_PROCESS.rawValue), 0)
            case .trap: (Int32(NOOK_SCMP_ACT_TRAP.rawValue), 0)
            case .trace(let v): (Int32(NOOK_SCMP_ACT_TRACE.rawValue), v)
            case .log: (Int32(NOOK_SCMP_ACT_LOG.rawValue), 0)
            }
        }
    }

    package struct Arg: Sendable, Hashable {
        package enum Op: String, Sendable, Hashable {
            case ne = "SCMP_CMP_NE", lt = "SCMP_CMP_LT", le = "SCMP_CMP_LE", eq = "SCMP_CMP_EQ",
                 ge = "SCMP_CMP_GE", gt = "SCMP_CMP_GT", maskedEq = "SCMP_CMP_MASKED_EQ"
            var c: Int32 {
                switch self {
                case .ne: Int32(NOOK_SCMP_NE.rawValue)
                case .lt: Int32(NOOK_SCMP_LT.rawValue)
                case .le: Int32(NOOK_SCMP_LE.rawValue)
                case .eq: Int32(NOOK_SCMP_EQ.rawValue)
                case .ge: Int32(NOOK_SCMP_GE.rawValue)
                case .gt: Int32(NOOK_SCMP_GT.rawValue)
                case .maskedEq: Int32(NOOK_SCMP_MASKED_EQ.rawValue)
                }
            }
        }
        package var index: UInt32
        package var op: Op
        package var value: UInt64
        package var valueTwo: UInt64 = 0

        package init(index: UInt32, op: Op, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    package struct Rule: Sendable, Hashable {
        package var names: [String]
        package var action: Action
        package var args: [Arg] = []

        package init(names: [String], action: Action, args: [Arg] = []) {
            self.names = names
            self.action = action
            self.args = args
        }
    }

    package var defaultAction: Action
    /// libseccomp names ("x86_64", "x86", "x32"); the native one is always included.
    package var architectures: [String]
    package var rules: [Rule]
    /// Shown under --trace.
    package var name: String

    package init(defaultAction: Action, architectures: [String], rules: [Rule], name: String) {
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.rules = rules
        self.name = name
    }

    /// Checks every name against libseccomp: a profile with a syscall that
    /// does not exist is refused, naming it (unless `ignoreUnknown`).
    package func validated(ignoreUnknown: Bool = false) throws -> SeccompProfile {
        var copy = self
        for arch in architectures where nook_seccomp_arch_known(arch) != 0 {
            throw NookError("unknown seccomp architecture '\(arch)' in \(name)", kind: .invalidInput)
        }
        copy.rules = try rules.map { rule in
            var r = rule
            r.names = try rule.names.filter { syscall in
                // libseccomp knows names of every architecture (a negative
                // pseudo-number when not native); -1 means no such call anywhere.
                if nook_seccomp_syscall_number(syscall) != -1 { return true }
                if ignoreUnknown { return false }
                throw NookError("unknown system call '\(syscall)' in \(name)", hint: "check the spelling; names are as in syscalls(2)", kind: .invalidInput)
            }
            return r
        }.filter { !$0.names.isEmpty }
        // The filter is loaded just before execve: a profile that lets no execve
        // through leaves a process that can neither run its command nor, often,
        // exit (a config.json with no syscalls at all died of SIGSEGV: the fuzzer).
        let passes: (Action) -> Bool = { $0 == .allow || $0 == .log }
        let execAllowed = passes(defaultAction) || copy.rules.contains { rule in
            passes(rule.action) && (rule.names.contains("execve") || rule.names.contains("execveat"))
        }
        guard execAllowed else {
            throw NookError("the seccomp profile in \(name) allows neither execve nor execveat: the container's command could never start",
                            hint: "allow execve in a rule with SCMP_ACT_ALLOW")
        }
        return copy
    }

    /// Compiles to BPF (an array of struct sock_filter, as bytes).
    package func compile() throws -> [UInt8] {
        let checked = try validated(ignoreUnknown: false)
        var allocations: [UnsafeMutableRawPointer] = []
        defer { for p in allocations { free(p) } }
        func cstr(_ s: String) -> UnsafePointer<CChar> {
            let p = strdup(s)!
            allocations.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        var flat: [(rule: Int, syscall: String)] = []
        var cRules: [nook_seccomp_rule] = []
        for (i, rule) in checked.rules.enumerated() {
            let args = rule.args.map { nook_seccomp_arg(index: $0.index, op: $0.op.c, value: $0.value, value_two: $0.valueTwo) }
            var argPtr: UnsafePointer<nook_seccomp_arg>? = nil
            if !args.isEmpty {
                let p = UnsafeMutablePointer<nook_seccomp_arg>.allocate(capacity: args.count)
                p.initialize(from: args, count: args.count)
                allocations.append(UnsafeMutableRawPointer(p))
                argPtr = UnsafePointer(p)
            }
            let (kind, value) = rule.action.c
            for name in rule.names {
                flat.append((i, name))
                cRules.append(nook_seccomp_rule(syscall: cstr(name), action: kind, errno_ret: value, args: argPtr, n_args: args.count))
            }
        }
        let arches = checked.architectures.map { Optional(cstr($0)) }
        var out: UnsafeMutableRawPointer?
        var bad: Int = -1
        let (dkind, dvalue) = defaultAction.c
        let size = arches.withUnsafeBufferPointer { a in
            cRules.withUnsafeBufferPointer { r in
                nook_seccomp_compile(dkind, dvalue, a.baseAddress, a.count, r.baseAddress, r.count, &out, &bad)
            }
        }
        guard size > 0, let out else {
            if bad >= 0 && bad < flat.count {
                throw NookError("seccomp profile \(name): libseccomp refused the rule for '\(flat[bad].syscall)': \(errnoDescription(Int32(-size)))")
            }
            throw NookError("compile seccomp profile \(name): \(errnoDescription(Int32(-size)))")
        }
        defer { free(out) }
        return Array(UnsafeRawBufferPointer(start: out, count: size))
    }
}

extension SeccompProfile {
    /// The libseccomp version linked in ("0.0.0" when it cannot say).
    package static var libraryVersion: String {
        var major: UInt32 = 0, minor: UInt32 = 0, micro: UInt32 = 0
        nook_seccomp_library_version(&major, &minor, &micro)
        return "\(major).\(minor).\(micro)"
    }
}
