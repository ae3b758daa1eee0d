import Glibc
import NookCore
import NookKernel
import NookSpec

/// The least-privilege choices of a friendly `nook run`: capabilities,
/// no_new_privs, the seccomp profile and rlimits, applied to a spec.
package struct SecurityOptions: Sendable, Equatable {
    package var capAdd: [String] = []
    package var capDrop: [String] = []
    package var noNewPrivileges = true
    package enum Seccomp: Sendable, Equatable {
        case defaultProfile
        case unconfined
        case file(String)
    }
    package var seccomp: Seccomp = .defaultProfile
    /// `--ulimit NAME=SOFT[:HARD]`, parsed (`ResourceLimit.parse(ulimit:)`).
    package var ulimits: [ResourceLimit] = []

    package init() {}

    /// `--security-opt` values: `no-new-privileges[=true|false]`, `seccomp=unconfined|FILE`.
    package mutating func apply(securityOpt: String) throws {
        // Not split(separator:): "" and "=" would give no parts at all.
        let name = String(securityOpt.prefix { $0 != "=" })
        let value = securityOpt.firstIndex(of: "=").map { String(securityOpt[securityOpt.index(after: $0)...]) }
        switch (name, value) {
        case ("no-new-privileges", nil), ("no-new-privileges", "true"): noNewPrivileges = true
        case ("no-new-privileges", "false"): noNewPrivileges = false
        case ("seccomp", "unconfined"?): seccomp = .unconfined
        case ("seccomp", let file?) where !file.isEmpty: seccomp = .file(file)
        default:
            throw NookError("unknown --security-opt '\(securityOpt)'",
                            hint: "supported: no-new-privileges[=true|false], seccomp=unconfined, seccomp=FILE", kind: .invalidInput)
        }
    }

    /// Capabilities after --cap-add/--cap-drop, starting from podman's default
    /// set, as the bit mask the plan takes.
    package func capabilityMask() throws -> UInt64 {
        var mask = try Capability.mask(SpecDefaults.capabilities, field: "the default capabilities")
        for name in capDrop {
            if name.uppercased() == "ALL" { mask = 0; continue }
            guard let n = Capability.number(name) else { throw unknownCap(name, "--cap-drop") }
            mask &= ~(1 << UInt64(n))
        }
        for name in capAdd {
            if name.uppercased() == "ALL" { mask |= UInt64.max >> UInt64(63 - Capability.lastCap()); continue }
            guard let n = Capability.number(name) else { throw unknownCap(name, "--cap-add") }
            mask |= 1 << UInt64(n)
        }
        return mask
    }

    /// The same, by name (the spec's record, the seccomp profile's conditions).
    package func capabilities() throws -> [String] { Capability.names(in: try capabilityMask()) }

    /// The process's five sets: a non-root user starts with no effective or permitted ones.
    package func capabilitySets(isRoot: Bool) throws -> CapabilitySets {
        let mask = try capabilityMask()
        return CapabilitySets(bounding: mask, effective: isRoot ? mask : 0, permitted: isRoot ? mask : 0, inheritable: 0, ambient: 0)
    }

    func unknownCap(_ name: String, _ flag: String) -> NookError {
        NookError("unknown capability '\(name)' in \(flag)", hint: "names look like NET_RAW or CAP_NET_RAW, or ALL; see capabilities(7)", kind: .invalidInput)
    }

    /// Writes these choices into a spec whose process user is already known.
    package func apply(to spec: inout Spec) throws {
        let caps = try capabilities()
        let isRoot = spec.process?.user.uid == 0
        spec.process?.capabilities = Spec.Capabilities(bounding: caps, effective: isRoot ? caps : [], inheritable: [],
                                                       permitted: isRoot ? caps : [], ambient: [])
        spec.process?.noNewPrivileges = noNewPrivileges
        if !ulimits.isEmpty { spec.process?.rlimits = ulimits.map(\.oci) }
        switch seccomp {
        case .unconfined: spec.linux?.seccomp = nil
        case .defaultProfile: spec.linux?.seccomp = DefaultSeccompProfile.profile(capabilities: Set(caps)).oci
        case .file(let path): spec.linux?.seccomp = try SeccompProfileLoader.load(file: path, capabilities: Set(caps))
        }
    }
}
