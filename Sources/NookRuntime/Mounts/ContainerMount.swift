import NookSpec

/// One mount the container asks for, in the typed form `MountPlanner` takes.
/// An OCI mount's option strings are parsed into it here, once (`init(oci:)`);
/// `-v` and `--tmpfs` build it from their own typed values (VolumeSpec,
/// TmpfsSpec), so the strings they write into the spec are only its record.
package struct ContainerMount: Sendable, Equatable {
    package var destination: String
    /// The filesystem type ("" when the spec names none); "bind" for a bind.
    package var type: String
    package var source: String?
    package var options: MountOptions
    /// A bind's source as nook already looked at it (`-v`); nil: the planner looks.
    package var bindSource: BindSource?

    package init(destination: String, type: String, source: String?, options: MountOptions, bindSource: BindSource? = nil) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.bindSource = bindSource
    }

    package init(oci mount: Spec.Mount) {
        let options = MountOptions(mount.options ?? [])
        // runc's rootless spec writes {"type": "none", "options": ["rbind"...]}: a bind too.
        let type = options.isBind ? "bind" : mount.type ?? ""
        self.init(destination: mount.destination, type: type, source: mount.source, options: options)
    }

    package var isBind: Bool { type == "bind" }
}
