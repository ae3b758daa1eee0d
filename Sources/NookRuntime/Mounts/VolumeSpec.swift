import NookCore
import NookKernel
import NookSpec

/// `-v SRC:DST[:OPTS]`: a bind mount from the host into the container.
public struct VolumeSpec: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    /// Extra mount options (`ro`, `rw`, `exec`, `suid`, `dev`, `norbind`...).
    public var options: [String]

    public init(source: String, destination: String, readOnly: Bool = false, options: [String] = []) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.options = options
    }

    static let knownOptions: Set<String> = ["ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev",
                                            "rbind", "bind", "norbind", "z", "Z"]

    /// Parses podman's form. The source must be an absolute or `./` path
    /// (named volumes do not exist in Nook).
    public static func parse(_ text: String) throws -> VolumeSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw NookError("invalid volume '\(text)': expected SRC:DST or SRC:DST:OPTIONS",
                            hint: "for example -v \"$PWD/data:/data:ro\"")
        }
        guard parts[1].hasPrefix("/") else {
            throw NookError("invalid volume '\(text)': destination '\(parts[1])' must be an absolute path")
        }
        guard parts[0].hasPrefix("/") || parts[0].hasPrefix(".") else {
            throw NookError("invalid volume '\(text)': source '\(parts[0])' must be a host path (absolute or starting with ./)",
                            hint: "Nook has no named volumes; use -v \"$PWD/\(parts[0]):\(parts[1])\"")
        }
        var spec = VolumeSpec(source: parts[0], destination: parts[1])
        if parts.count == 3 {
            for option in parts[2].split(separator: ",").map(String.init) {
                guard knownOptions.contains(option) else {
                    throw NookError("invalid volume '\(text)': unknown option '\(option)'",
                                    hint: "options are ro, rw, noexec, exec, nosuid, suid, nodev, dev, norbind")
                }
                if option == "ro" { spec.readOnly = true } else if option == "rw" { spec.readOnly = false }
                else if option != "z" && option != "Z" { spec.options.append(option) }
            }
        }
        return spec
    }

    /// The OCI mount this volume becomes. nosuid and nodev unless asked otherwise:
    /// a setuid binary or device node on the host must not gain power inside.
    public func ociMount(absoluteSource: String) -> Spec.Mount {
        var options = options.contains("norbind") ? ["bind"] : ["rbind"]
        if !self.options.contains("suid") { options.append("nosuid") }
        if !self.options.contains("dev") { options.append("nodev") }
        if self.options.contains("noexec") { options.append("noexec") }
        if readOnly { options.append("ro") }
        return Spec.Mount(destination: destination, type: "bind", source: absoluteSource, options: options)
    }
}

/// `--tmpfs DST[:OPTS]`.
public struct TmpfsSpec: Sendable, Equatable {
    public var destination: String
    public var options: [String]

    public static func parse(_ text: String) throws -> TmpfsSpec {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts[0].hasPrefix("/") else {
            throw NookError("invalid --tmpfs '\(text)': destination must be an absolute path",
                            hint: "for example --tmpfs /tmp:size=64m")
        }
        let options = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
        return TmpfsSpec(destination: parts[0], options: options)
    }

    public var ociMount: Spec.Mount {
        var opts = ["nosuid", "nodev"]
        opts.append(contentsOf: options)
        if !options.contains(where: { $0.hasPrefix("mode=") }) { opts.append("mode=1777") }
        return Spec.Mount(destination: destination, type: "tmpfs", source: "tmpfs", options: opts)
    }
}
