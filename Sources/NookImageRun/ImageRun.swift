import Glibc
import NookCore
import NookImages
import NookKernel
import NookRuntime
import NookSpec

/// `nook run IMAGE [COMMAND...]` and NookKit's `ContainerRequest(image:)`:
/// the image's config and the caller's overrides become RunOptions over a
/// container layer of its own; from there it is a run like `--rootfs`'s.
/// Nothing after the spec knows an image was involved. Its own module: it
/// needs both the image store and the runtime's options, and NookImages
/// never imports NookRuntime.
package enum ImageRun {
    /// A container's layer, made: its directory, and its lock, held (the
    /// caller keeps it for the container's life, or hands it to the
    /// container's monitor: `Runtime.runDetached(layerLock:)`).
    package struct Layer: Sendable {
        package let directory: String
        package let lock: DirectoryLock
    }

    /// Fills `options` for `image`; returns the container's layer
    /// (the caller removes it if the run fails before the runtime took it
    /// over) and the ports to publish (-P: those the image exposes).
    /// `stateRoot`: the container's state root, recorded in the layer
    /// (a sweep looks for the container there: `OrphanLayers`).
    /// `transient`: the container is removed when it stops (a foreground run,
    /// `-d --rm`, a NookKit container), never started again: its layer can be volatile.
    /// `nook`: what unpacks or copies the layers (`ImageLayers`) and probes overlayfs (`StorageDriver`).
    package static func prepare(_ options: inout RunOptions, image: String, overrides: ImageRunSettings.Overrides, transient: Bool,
                               containerID: String, stateRoot: String, environment: [String: String], trace: Bool = false,
                               nook: MonitorExecutable = .currentProcess) throws -> (layer: Layer, ports: [String]) {
        // Before the store is touched: nothing made for a run that cannot be.
        guard geteuid() != 0 else { throw ImageLayers.hostRootRefusal("image '\(PrintableText.escaped(image))'") }
        let store = ImageStore(root: try ImageStore.defaultRoot(environment: environment))
        // Recorded in the layer: absolute, so a sweep from any directory looks in the same place (`--root` may be relative).
        let stateRoot = try HostPath.absolute(stateRoot)
        try store.prepare()
        OrphanLayers.sweep(store)
        // From resolving the image to marking its container layer: rmi and prune wait (they hold it exclusive to decide).
        let shared = try StoreLock(store: store, name: ImageStore.containersLockName, shared: true) { path in
            Tracer.standardError("nook: waiting for a nook rmi or image prune deciding what is in use (\(path); one stopped with ^Z holds it until it goes on)")
        }
        defer { shared.unlock() }
        FaultPoint.reached("image.shared-locked")
        guard let record = try ImageRecords(store: store).find(image) else {
            throw NookError("image '\(image)' is not in the store: nook pull \(image) or nook image import",
                            hint: "nook images lists what the store holds; --rootfs DIR runs an unpacked tree",
                            kind: .notFound(.image, name: image))
        }
        let config = try store.readJSON(ImageConfiguration.self, record.config, what: "image config")
        // podman's warning: such an image's programs fail to start here (exec format error), or run emulated.
        let host = Platform.host
        if let os = config.os, let architecture = config.architecture, (os, architecture) != (host.os, host.architecture) {
            Tracer.standardError("nook: warning: image '\(PrintableText.escaped(image))' is for \(PrintableText.escaped(os))/\(PrintableText.escaped(architecture)), not for this machine's \(host.os)/\(host.architecture)")
        }
        let settings = try ImageRunSettings(config: config.config, overrides: overrides, imageName: image)
        // Said now, not at the first `nook stop`.
        if let signal = settings.annotations[StopSignalAnnotation.key], (try? Signals.parse(signal)) == nil {
            throw NookError("image '\(PrintableText.escaped(image))' names a stop signal '\(PrintableText.escaped(signal))' that is no signal"
                            + " (its StopSignal, or its label \(StopSignalAnnotation.key))",
                            hint: "fix the image's config (e.g. SIGTERM, 15 or SIGRTMIN+3)", kind: .invalidInput)
        }
        let layers = try ImageLayers.ensureUnpacked(record, store: store, nook: nook, environment: environment)  // bottom first
        let driver = try StorageDriver.choose(store: store, environment: environment, nook: nook)
        var copy = false, fuseProgram: String?
        switch driver {
        case .overlay: break
        case .fuseOverlayfs(let program, _): fuseProgram = program
        case .copy: copy = true
        }
        let container = try ContainerLayer(store: store, containerID: containerID, image: record.manifest, stateRoot: stateRoot,
                                           layers: layers, readOnly: options.readOnly, copy: copy, volatile: transient, fuseProgram: fuseProgram)
        shared.unlock()  // marked: rmi sees the layer's record from now on
        FaultPoint.reached("image.layer-made")
        let tracer = Tracer(enabled: trace)
        switch driver {
        case .overlay:
            tracer.emit("storage", "overlay", "the image's \(layers.count) layers shared, the container's writes in \(container.directory)")
        case .fuseOverlayfs(let program, let reason):
            tracer.emit("storage", "fuse-overlayfs (overlay unavailable: \(reason))",
                        "the image's \(layers.count) layers shared through \(program), the container's writes in \(container.directory)")
        case .copy(let reason):
            tracer.emit("storage", "copy (overlay unavailable: \(reason))", "the image's \(layers.count) layers copied into \(container.rootfs)")
            do { try ImageLayers.copy(layers, into: container.rootfs, trace: trace, nook: nook, environment: environment) } catch {
                OwnedLayer.remove(container.directory)
                throw error
            }
        }
        options.rootfs = container.rootfs
        options.rootOverlay = container.overlay
        options.ownedLayer = container.directory
        options.command = settings.args
        options.workdir = settings.workdir
        options.user = settings.user
        options.baseEnv = settings.env
        options.annotations = settings.annotations
        options.userDatabaseRoot = layers.reversed().first { isRegularFile($0 + "/etc/passwd") }
        return (Layer(directory: container.directory, lock: container.lock), settings.publishedPorts)
    }

    /// `prepare` with only a command after the image (NookKit's
    /// `ContainerRequest(image:command:)`); the container's layer.
    package static func prepare(_ options: inout RunOptions, image: String, command: [String],
                               containerID: String, stateRoot: String, environment: [String: String], nook: MonitorExecutable) throws -> Layer {
        // A NookKit container is never started again: transient.
        try prepare(&options, image: image, overrides: ImageRunSettings.Overrides(command: command), transient: true,
                    containerID: containerID, stateRoot: stateRoot, environment: environment, nook: nook).layer
    }

    package static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}
