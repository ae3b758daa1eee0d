import NookCore
import NookKernel
import NookSpec

/// The spec's root overlay (`RootOverlay`) as the child mounts it. mount(2)
/// takes at most a page of options: the layer paths are made relative to the
/// directory they share (an image store's root: `layers/HEX`), which the child
/// changes to first, so dozens of layers fit.
package enum RootOverlayPlan {
    /// A page, less the terminating NUL.
    package static let optionLimit = 4095

    /// The spec's root overlay, if any; more than one is refused.
    package static func find(in spec: Spec) throws -> RootOverlay? {
        let overlays = (spec.mounts ?? []).filter(RootOverlay.isRootOverlay)
        guard overlays.count <= 1 else { throw NookError("the spec mounts more than one overlay at /") }
        return try overlays.first.map(RootOverlay.init(oci:))
    }

    package static func mount(for overlay: RootOverlay) throws -> OverlayMount {
        let paths = overlay.lower + [overlay.upper, overlay.work].compactMap { $0 }
        let base = commonDirectory(paths)
        func relative(_ path: String) -> String { base == "/" ? String(path.dropFirst()) : String(path.dropFirst(base.count + 1)) }
        var options = "lowerdir=" + overlay.lower.map(relative).joined(separator: ":")
        if let upper = overlay.upper, let work = overlay.work {
            options += ",upperdir=" + relative(upper) + ",workdir=" + relative(work)
        }
        options += ",userxattr"
        if overlay.volatile { options += ",volatile" }
        guard options.utf8.count <= optionLimit else {
            throw NookError("the root overlay's options are \(options.utf8.count) bytes (\(overlay.lower.count) layers): mount(2) takes at most \(optionLimit)",
                            hint: "flatten the image into fewer layers (podman build --squash), or export it and run it with --rootfs")
        }
        return OverlayMount(directory: base, options: options, readOnly: overlay.readOnly, volatile: overlay.volatile)
    }

    /// The same overlay served by fuse-overlayfs (`RootOverlay.fuseProgram`) at
    /// `mountpoint`. Its options go on its command line, whole paths: no page limit.
    /// `serverUID`: the server's uid where it runs (0: root of the container's user namespace).
    package static func fuseMount(for overlay: RootOverlay, program: String, at mountpoint: String, serverUID: UInt32 = 0) -> FuseOverlayMount {
        var options = ["lowerdir=" + overlay.lower.joined(separator: ":")]
        if let upper = overlay.upper, let work = overlay.work { options += ["upperdir=" + upper, "workdir=" + work] }
        if overlay.volatile { options.append("volatile") }
        let fd = FuseOverlayMount.connectionFD
        // allow_other: the container's other users may use it too; default_permissions: the kernel checks modes, as on overlayfs.
        let mountOptions = "fd=\(fd),rootmode=40000,user_id=\(serverUID),group_id=\(serverUID),allow_other,default_permissions"
        return FuseOverlayMount(program: program, arguments: ["fuse-overlayfs", "-o", options.joined(separator: ","), "/dev/fd/\(fd)"],
                                mountpoint: mountpoint, mountOptions: mountOptions, readOnly: overlay.readOnly, volatile: overlay.volatile)
    }

    /// The deepest directory above every path ("/" at least).
    static func commonDirectory(_ paths: [String]) -> String {
        let split = paths.map { $0.split(separator: "/").dropLast() }
        guard var common = split.first.map(Array.init) else { return "/" }
        for parts in split.dropFirst() {
            common = Array(zip(common, parts).prefix { $0 == $1 }.map(\.0))
        }
        return "/" + common.joined(separator: "/")
    }
}
