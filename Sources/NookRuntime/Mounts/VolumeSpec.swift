import NookCore
import NookKernel
import NookSpec

/// `-v SRC:DST[:OPTS]`: a bind mount from the host into the container, its
/// options parsed into what they mean. nosuid and nodev unless asked otherwise:
/// a setuid binary or device node on the host must not gain power inside.
package struct VolumeSpec: Sendable, Equatable {
    package var source: String
    package var destination: String
    package var readOnly = false
    /// `rbind` (the default) or `norbind`: submounts of the source come along or not.
    package var recursive = true
    /// `suid`, `dev`, `noexec`: what the defaults are lifted or added by.
    package var suid = false
    package var dev = false
    package var noexec = false

    package init(source: String, destination: String, readOnly: Bool = false, recursive: Bool = true,
                suid: Bool = false, dev: Bool = false, noexec: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.recursive = recursive
        self.suid = suid
        self.dev = dev
        self.noexec = noexec
    }

    /// Each option and what it sets; the last of a pair wins. `bind` and `rbind`
    /// keep the default recursive bind; z and Z (SELinux relabelling) mean nothing here.
    static let optionEffects: [String: @Sendable (inout VolumeSpec) -> Void] = [
        "ro": { $0.readOnly = true }, "rw": { $0.readOnly = false },
        "exec": { $0.noexec = false }, "noexec": { $0.noexec = true },
        "suid": { $0.suid = true }, "nosuid": { $0.suid = false },
        "dev": { $0.dev = true }, "nodev": { $0.dev = false },
        "rbind": { $0.recursive = true }, "bind": { $0.recursive = true }, "norbind": { $0.recursive = false },
        "z": { _ in }, "Z": { _ in },
    ]

    /// Parses podman's form. The source must be an absolute or `./` path
    /// (named volumes do not exist in Nook).
    package static func parse(_ text: String) throws -> VolumeSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw NookError("invalid volume '\(text)': expected SRC:DST or SRC:DST:OPTIONS",
                            hint: "for example -v \"$PWD/data:/data:ro\"", kind: .invalidInput)
        }
        guard parts[1].hasPrefix("/") else {
            throw NookError("invalid volume '\(text)': destination '\(parts[1])' must be an absolute path", kind: .invalidInput)
        }
        // Over the whole root, the container would run on the host directory (as docker, refused).
        guard parts[1].contains(where: { $0 != "/" }) else {
            throw NookError("invalid volume '\(text)': destination '\(parts[1])' is the container's root",
                            hint: "mount it on a directory inside the container, e.g. \(parts[0]):/data", kind: .invalidInput)
        }
        guard parts[0].hasPrefix("/") || parts[0].hasPrefix(".") else {
            throw NookError("invalid volume '\(text)': source '\(parts[0])' must be a host path (absolute or starting with ./)",
                            hint: "Nook has no named volumes; use -v \"$PWD/\(parts[0]):\(parts[1])\"", kind: .invalidInput)
        }
        var spec = VolumeSpec(source: parts[0], destination: parts[1])
        if parts.count == 3 {
            for option in parts[2].split(separator: ",").map(String.init) {
                guard let effect = optionEffects[option] else {
                    throw NookError("invalid volume '\(text)': unknown option '\(option)'",
                                    hint: "options are ro, rw, noexec, exec, nosuid, suid, nodev, dev, norbind", kind: .invalidInput)
                }
                effect(&spec)
            }
        }
        return spec
    }

    /// The mount this run makes, from these values (no option strings), with
    /// its source as `RunOptions` looked at it.
    package func mount(source: BindSource) -> ContainerMount {
        ContainerMount(destination: destination, type: "bind", source: source.path,
                       options: MountOptions(bind: recursive, readOnly: readOnly, nosuid: !suid, nodev: !dev, noexec: noexec),
                       bindSource: source)
    }

    /// The same mount as the spec records it (config.json: what `nook exec`,
    /// a restart and `inspect` read); `ContainerMount(oci:)` reads it back as `mount(source:)`.
    package func ociMount(absoluteSource: String) -> Spec.Mount {
        var options = recursive ? ["rbind"] : ["bind"]
        if !suid { options.append("nosuid") }
        if !dev { options.append("nodev") }
        if noexec { options.append("noexec") }
        if readOnly { options.append("ro") }
        return Spec.Mount(destination: destination, type: "bind", source: absoluteSource, options: options)
    }
}

/// `--tmpfs DST[:OPTS]`.
package struct TmpfsSpec: Sendable, Equatable {
    package var destination: String
    package var options: [String]

    package static func parse(_ text: String) throws -> TmpfsSpec {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts[0].hasPrefix("/") else {
            throw NookError("invalid --tmpfs '\(text)': destination must be an absolute path",
                            hint: "for example --tmpfs /tmp:size=64m", kind: .invalidInput)
        }
        let options = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
        return TmpfsSpec(destination: parts[0], options: options)
    }

    /// nosuid and nodev, then the user's options (filesystem data such as size=
    /// and mode=, flags such as noexec), and mode=1777 unless a mode was given.
    var optionList: [String] {
        ["nosuid", "nodev"] + options + (options.contains(where: { $0.hasPrefix("mode=") }) ? [] : ["mode=1777"])
    }

    /// The mount this run makes: the option list parsed once (MountOptions).
    package var mount: ContainerMount {
        ContainerMount(destination: destination, type: "tmpfs", source: "tmpfs", options: MountOptions(optionList))
    }

    /// The same mount as the spec records it.
    package var ociMount: Spec.Mount {
        Spec.Mount(destination: destination, type: "tmpfs", source: "tmpfs", options: optionList)
    }
}
