import NookCore

/// How a spec says "the root is an overlay": a mount at "/" of type "overlay"
/// whose options name the layers (`lowerdir=TOP:...:BOTTOM`, overlayfs's
/// order), the writable layer (`upperdir`, `workdir`; none: read-only) and
/// `userxattr`; root.path is where it is mounted. Written by `nook run IMAGE`,
/// read by the runtime, which never learns an image was involved.
/// The fuse-overlayfs storage driver writes the same mount with type
/// `fuse-overlayfs` and the program as its source (no `userxattr`: that is
/// the kernel's option; fuse-overlayfs reads `user.overlay.opaque` itself).
///
/// `volatile` (overlayfs's option): the overlay never syncs its upper
/// filesystem, not even when it is unmounted, which otherwise writes back and
/// commits the whole host filesystem under the store at every container's end
/// (milliseconds, more on a busy host). Its price: after a host crash the
/// upper layer may be incomplete, and the kernel refuses to mount it again.
/// Only for a layer that goes with the container when it stops.
package struct RootOverlay: Sendable, Equatable {
    /// Annotation naming the directory that holds this container's own
    /// writable layer (`upper`, `work`, `merged`): removed with the container.
    package static let ownedLayerAnnotation = "org.nook.container-layer"
    /// The file in that directory saying which image and container it is for:
    /// a root without an overlay (a copy) is the container's own only with it.
    package static let layerUserFile = "user.json"

    /// Top first, as overlayfs lists them.
    package var lower: [String]
    package var upper: String?
    package var work: String?
    /// No sync of the upper layer's filesystem (only with an upper layer).
    package var volatile: Bool
    /// fuse-overlayfs (an absolute path) serves it, not the kernel's overlayfs.
    package var fuseProgram: String?

    package static let fuseType = "fuse-overlayfs"

    package init(lower: [String], upper: String?, work: String?, volatile: Bool = false, fuseProgram: String? = nil) {
        self.lower = lower
        self.upper = upper
        self.work = work
        self.volatile = volatile && upper != nil
        self.fuseProgram = fuseProgram
    }

    package var readOnly: Bool { upper == nil }

    package var ociMount: Spec.Mount {
        var options = ["lowerdir=" + lower.joined(separator: ":")]
        if let upper, let work { options += ["upperdir=" + upper, "workdir=" + work] }
        if fuseProgram == nil { options.append("userxattr") }
        if volatile { options.append("volatile") }
        if readOnly { options.append("ro") }
        return Spec.Mount(destination: "/", type: fuseProgram == nil ? "overlay" : Self.fuseType, source: fuseProgram ?? "overlay",
                          options: options)
    }

    /// Paths go into a comma- and colon-separated option string.
    package static func checkPath(_ path: String) throws {
        guard path.hasPrefix("/"), !path.contains(","), !path.contains(":"), !path.contains("\\") else {
            throw NookError("overlay layer path '\(path)' must be absolute and free of ',', ':' and '\\'",
                            hint: "move the image store (XDG_DATA_HOME) to a path without those characters")
        }
    }

    /// The spec's root overlay mount, if it has one.
    package static func isRootOverlay(_ mount: Spec.Mount) -> Bool { isRootOverlay(destination: mount.destination, type: mount.type) }

    package static func isRootOverlay(destination: String, type: String?) -> Bool {
        destination == "/" && (type == "overlay" || type == fuseType)
    }

    /// Reads the mount back; throws on options Nook does not write.
    package init(oci mount: Spec.Mount) throws {
        var lower: [String] = [], upper: String?, work: String?, volatile = false
        for option in mount.options ?? [] {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first ?? "", parts.count) {
            case ("lowerdir", 2): lower = parts[1].split(separator: ":").map(String.init)
            case ("upperdir", 2): upper = parts[1]
            case ("workdir", 2): work = parts[1]
            case ("volatile", 1): volatile = true
            case ("userxattr", 1) where mount.type == "overlay", ("ro", 1): break
            default:
                throw NookError("root overlay option '\(option)' is not supported",
                                hint: "Nook's root overlay takes lowerdir, upperdir, workdir, userxattr, volatile and ro", kind: .invalidInput)
            }
        }
        guard !lower.isEmpty else { throw NookError("root overlay mount has no lowerdir", kind: .invalidInput) }
        guard (upper == nil) == (work == nil) else { throw NookError("root overlay mount needs both upperdir and workdir, or neither", kind: .invalidInput) }
        guard !volatile || upper != nil else { throw NookError("root overlay option 'volatile' needs an upperdir", hint: "a read-only overlay has nothing to sync", kind: .invalidInput) }
        for path in lower + [upper, work].compactMap({ $0 }) { try Self.checkPath(path) }
        var program: String?
        if mount.type == Self.fuseType {
            guard let source = mount.source, source.hasPrefix("/") else {
                throw NookError("root fuse-overlayfs mount needs the program's absolute path as its source", kind: .invalidInput)
            }
            program = source
        }
        self.init(lower: lower, upper: upper, work: work, volatile: volatile, fuseProgram: program)
    }
}
