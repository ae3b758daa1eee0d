import Glibc
import NookCore
import NookKernel
import NookSpec
import FoundationEssentials

/// Reads seccomp profiles in Docker's JSON form (which is a superset of the
/// OCI `linux.seccomp` form: `includes`/`excludes` by capability, architecture
/// and kernel version) and resolves them for one container into plain OCI
/// rules. The result goes into the spec, so a bundle and a flag take one path.
package enum SeccompProfileLoader {
    struct DockerProfile: Decodable {
        var defaultAction: String
        var defaultErrnoRet: UInt32?
        var architectures: [String]?
        var archMap: [ArchMap]?
        var syscalls: [DockerRule]?
    }
    struct ArchMap: Decodable {
        var architecture: String
        var subArchitectures: [String]?
    }
    struct Filter: Decodable {
        var caps: [String]?
        var arches: [String]?
        var minKernel: String?
    }
    struct DockerRule: Decodable {
        var names: [String]?
        var name: String?
        var action: String
        var errnoRet: UInt32?
        var args: [Spec.SyscallArg]?
        var includes: Filter?
        var excludes: Filter?
    }

    /// Docker's names for this machine's architecture family.
    static let nativeArches: Set<String> = ["amd64", "x86_64", "x32", "x86"]

    package static func load(file: String, capabilities: Set<String>) throws -> Spec.Seccomp {
        let bytes = try HostPath.readBytes(file, as: .seccompProfile, label: "seccomp profile \(file)")
        return try decode(bytes, source: file, capabilities: capabilities)
    }

    package static func decode(_ bytes: [UInt8], source: String, capabilities: Set<String>) throws -> Spec.Seccomp {
        let profile = try SpecDecoder.decodeJSON(DockerProfile.self, from: bytes, what: "seccomp profile \(source)")
        var arches = profile.architectures ?? []
        for entry in profile.archMap ?? [] where entry.architecture == "SCMP_ARCH_X86_64" {
            arches = [entry.architecture] + (entry.subArchitectures ?? [])
        }
        var rules: [Spec.SyscallRule] = []
        for (i, rule) in (profile.syscalls ?? []).enumerated() {
            guard applies(rule.includes, include: true, capabilities: capabilities),
                  applies(rule.excludes, include: false, capabilities: capabilities) else { continue }
            let names = rule.names ?? rule.name.map { [$0] } ?? []
            guard !names.isEmpty else { throw NookError("invalid seccomp profile \(source): syscalls[\(i)] has no names", kind: .invalidInput) }
            rules.append(Spec.SyscallRule(names: names, action: rule.action, errnoRet: rule.errnoRet, args: rule.args))
        }
        let seccomp = Spec.Seccomp(defaultAction: profile.defaultAction, defaultErrnoRet: profile.defaultErrnoRet,
                                   architectures: arches, syscalls: rules)
        _ = try SeccompProfile(oci: seccomp, name: source).validated() // refuse unknown actions, operators, syscalls now
        return seccomp
    }

    /// Docker's semantics: `includes` needs all of its conditions; `excludes` drops the rule if any holds.
    static func applies(_ filter: Filter?, include: Bool, capabilities: Set<String>) -> Bool {
        guard let filter else { return true }
        var conditions: [Bool] = []
        if let caps = filter.caps, !caps.isEmpty {
            let canonical = caps.map { Capability.canonical($0) ?? $0 }
            conditions.append(include ? canonical.allSatisfy(capabilities.contains) : canonical.contains(where: capabilities.contains))
        }
        if let arches = filter.arches, !arches.isEmpty {
            conditions.append(arches.contains(where: nativeArches.contains))
        }
        if let min = filter.minKernel {
            conditions.append(kernelAtLeast(min))
        }
        if conditions.isEmpty { return true }
        return include ? conditions.allSatisfy { $0 } : !conditions.contains(true)
    }

    static func kernelAtLeast(_ version: String) -> Bool {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let have = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        let want = version.split(separator: ".").prefix(2).compactMap { Int($0) }
        return have.lexicographicallyPrecedes(want) == false
    }
}

extension SeccompProfile {
    /// From the OCI form (config.json's `linux.seccomp`, or a resolved Docker profile).
    package init(oci: Spec.Seccomp, name: String) throws {
        func located<T>(_ field: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as NookError { throw e.within("\(name) \(field)") }
        }
        let defaultAction = try located("defaultAction") { try Action(name: oci.defaultAction, errnoRet: oci.defaultErrnoRet) }
        var arches: [String] = []
        for arch in oci.architectures ?? [] {
            var n = arch.hasPrefix("SCMP_ARCH_") ? String(arch.dropFirst(10)).lowercased() : arch.lowercased()
            if n == "amd64" { n = "x86_64" }
            arches.append(n)
        }
        var rules: [Rule] = []
        for (i, rule) in (oci.syscalls ?? []).enumerated() {
            let action = try located("syscalls[\(i)]") { try Action(name: rule.action, errnoRet: rule.errnoRet) }
            let args = try (rule.args ?? []).map { arg -> Arg in
                guard let op = Arg.Op(rawValue: arg.op) else {
                    throw NookError("unknown seccomp operator '\(arg.op)' in \(name)",
                                    hint: "operators are SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ", kind: .invalidInput)
                }
                guard arg.index < 6 else { throw NookError("seccomp argument index \(arg.index) in \(name) is out of range 0-5") }
                return Arg(index: arg.index, op: op, value: arg.value, valueTwo: arg.valueTwo ?? 0)
            }
            rules.append(Rule(names: rule.names, action: action, args: args))
        }
        self.init(defaultAction: defaultAction, architectures: arches, rules: rules, name: name)
        // Names are checked against libseccomp when the filter is compiled
        // (a cached filter was checked when it was made).
    }

    /// The OCI form, for the spec.
    package var oci: Spec.Seccomp {
        func name(_ a: Action) -> (String, UInt32?) {
            switch a {
            case .allow: ("SCMP_ACT_ALLOW", nil)
            case .errno(let e): ("SCMP_ACT_ERRNO", UInt32(e))
            case .killThread: ("SCMP_ACT_KILL_THREAD", nil)
            case .killProcess: ("SCMP_ACT_KILL_PROCESS", nil)
            case .trap: ("SCMP_ACT_TRAP", nil)
            case .trace(let v): ("SCMP_ACT_TRACE", UInt32(v))
            case .log: ("SCMP_ACT_LOG", nil)
            }
        }
        let (d, de) = name(defaultAction)
        return Spec.Seccomp(defaultAction: d, defaultErrnoRet: de,
                            architectures: architectures.map { "SCMP_ARCH_" + $0.uppercased() },
                            syscalls: rules.map { r in
                                let (a, e) = name(r.action)
                                return Spec.SyscallRule(names: r.names, action: a, errnoRet: e,
                                                        args: r.args.isEmpty ? nil : r.args.map {
                                                            Spec.SyscallArg(index: $0.index, value: $0.value, valueTwo: $0.valueTwo, op: $0.op.rawValue)
                                                        })
                            })
    }
}
