import Glibc
import NookCore
import NookKernel
import NookSpec

/// The least-privilege choices of a friendly `nook run`: capabilities,
/// no_new_privs, the seccomp profile and rlimits, applied to a spec.
public struct SecurityOptions: Sendable, Equatable {
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var noNewPrivileges = true
    public enum Seccomp: Sendable, Equatable {
        case defaultProfile
        case unconfined
        case file(String)
    }
    public var seccomp: Seccomp = .defaultProfile
    /// `--ulimit NAME=SOFT[:HARD]`, parsed (`ResourceLimit.parse(ulimit:)`).
    public var ulimits: [ResourceLimit] = []

    public init() {}

    /// `--security-opt` values: `no-new-privileges[=true|false]`, `seccomp=unconfined|FILE`.
    public mutating func apply(securityOpt: String) throws {
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
                            hint: "supported: no-new-privileges[=true|false], seccomp=unconfined, seccomp=FILE")
        }
    }

    /// Capabilities after --cap-add/--cap-drop, starting from podman's default set.
    public func capabilities() throws -> [String] {
        var caps = Set(SpecDefaults.capabilities)
        for name in capDrop {
            if name.uppercased() == "ALL" { caps.removeAll(); continue }
            guard let c = Capability.canonical(name) else { throw unknownCap(name, "--cap-drop") }
            caps.remove(c)
        }
        for name in capAdd {
            if name.uppercased() == "ALL" { caps.formUnion(Capability.names.prefix(Capability.lastCap() + 1)); continue }
            guard let c = Capability.canonical(name) else { throw unknownCap(name, "--cap-add") }
            caps.insert(c)
        }
        return Capability.names.filter(caps.contains)
    }

    func unknownCap(_ name: String, _ flag: String) -> NookError {
        NookError("unknown capability '\(name)' in \(flag)", hint: "names look like NET_RAW or CAP_NET_RAW, or ALL; see capabilities(7)")
    }

    /// Writes these choices into a spec whose process user is already known.
    public func apply(to spec: inout Spec) throws {
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
