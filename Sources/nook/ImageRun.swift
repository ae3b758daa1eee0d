import Glibc
import NookCore
import NookImages
import NookRuntime
import NookSpec

/// `nook run IMAGE [COMMAND...]`: the image's config and the flags become
/// RunOptions over a container layer of its own; from there it is a run like
/// `--rootfs`'s. Nothing after the spec knows an image was involved.
enum ImageRun {
    /// Fills `options` for `image`; returns the container's layer directory
    /// (the caller removes it if the run fails before the runtime took it
    /// over) and the ports to publish (-P: those the image exposes).
    static func prepare(_ options: inout RunOptions, image: String, overrides: ImageRunSettings.Overrides,
                        containerID: String, environment: [String: String], trace: Bool) throws -> (layer: String, ports: [String]) {
        let store = ImageStore(root: try ImageStore.defaultRoot(environment: environment))
        guard let record = try ImageRecords(store: store).find(image) else {
            throw NookError("image '\(image)' is not in the store: nook pull \(image) or nook image import",
                            hint: "nook images lists what the store holds; --rootfs DIR runs an unpacked tree",
                            kind: .notFound(.image, name: image))
        }
        let config = try store.readJSON(ImageConfiguration.self, record.config, what: "image config")
        let settings = try ImageRunSettings(config: config.config, overrides: overrides, imageName: image)
        let layers = try ImageLayers.ensureUnpacked(record, store: store)  // bottom first
        let driver = try StorageDriver.choose(store: store, environment: environment)
        let container = try ContainerLayer(store: store, containerID: containerID, image: record.manifest, layers: layers,
                                           readOnly: options.readOnly, copy: driver != .overlay)
        let tracer = Tracer(enabled: trace)
        switch driver {
        case .overlay:
            tracer.emit("storage", "overlay", "the image's \(layers.count) layers shared, the container's writes in \(container.directory)")
        case .copy(let reason):
            tracer.emit("storage", "copy (overlay unavailable: \(reason))", "the image's \(layers.count) layers copied into \(container.rootfs)")
            do { try ImageLayers.copy(layers, into: container.rootfs) } catch {
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
        return (container.directory, settings.publishedPorts)
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}
