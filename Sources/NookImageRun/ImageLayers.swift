import Glibc
import NookCore
import NookImages
import NookRuntime

/// The glue between the image store and the user namespace: layers are
/// unpacked (and removed) by nook re-run as root of the namespace a container
/// of this user gets (`nook __unpack-layers`), so their files are owned as
/// the image says, shifted into the sub-id range. `nook` is the binary to
/// run: the CLI's own, or for a library caller the one its monitors run.
package enum ImageLayers {
    /// Unpacks every layer of `record` not yet under layers/, and returns
    /// the layers' directories bottom first (overlayfs wants lowerdir top first:
    /// reverse them). Without a sub-id range every file is the user's (said once).
    package static func ensureUnpacked(_ record: ImageRecord, store: ImageStore,
                                      nook: MonitorExecutable = .currentProcess, environment: [String: String] = [:]) throws -> [String] {
        let layers = LayerStore(store: store)
        // Every run after the first: all unpacked, and the manifest (which only
        // says where the compressed layers are) is not read.
        if record.diffIDs.allSatisfy(layers.isUnpacked) { return record.diffIDs.map { layers.path(of: $0) } }
        let manifest = try store.readJSON(ImageManifest.self, record.manifest, what: "manifest")
        guard manifest.layers.count == record.diffIDs.count else {
            throw NookError("image \(record.config.short): its manifest has \(manifest.layers.count) layers and its config \(record.diffIDs.count) diff IDs",
                            hint: "the image is broken; remove it (nook rmi) and pull or import it again")
        }
        var missing: [String] = []
        var seen = Set<Digest>()
        for (descriptor, diffID) in zip(manifest.layers, record.diffIDs) where !layers.isUnpacked(diffID) && seen.insert(diffID).inserted {
            missing += [diffID.description, descriptor.digest.description, descriptor.mediaType]
        }
        if !missing.isEmpty {
            guard geteuid() != 0 else { throw hostRootRefusal("image \(record.config.short)") }
            let namespace = try UserNamespaceCommand.containerMapping()
            if !namespace.mapsSubordinateIDs {
                let note = "nook: note: you have no sub-id range (/etc/subuid, /etc/subgid): the image's files are unpacked as yours, not with the owners it names\n"
                _ = note.withCString { write(2, $0, strlen($0)) }
            }
            try run(nook.resolve(environment: environment),
                    ["__unpack-layers", "--store", store.root] + (namespace.mapsSubordinateIDs ? [] : ["--drop-ownership"]) + missing,
                    in: namespace, what: "unpacking the layers of image \(record.config.short)")
        }
        return record.diffIDs.map { layers.path(of: $0) }
    }

    /// Why the host's root runs no image: its containers get 0 -> 100000
    /// (never root inside), and that root cannot reach root's 0700 store to
    /// unpack or mount layers.
    package static func hostRootRefusal(_ what: String) -> NookError {
        NookError("images are run rootless: nook as the host's root cannot unpack the layers of \(what)",
                  hint: "run nook as an ordinary user (container root is then you, not the host's root); "
                      + "as root, unpack it yourself (nook image export --format oci-dir, then umoci unpack) and use --rootfs",
                  kind: .unsupported)
    }

    /// Removes these layers' trees, inside the user namespace.
    package static func remove(_ diffIDs: [Digest], store: ImageStore) throws {
        guard !diffIDs.isEmpty else { return }
        try run("/proc/self/exe", ["__remove-layers", "--store", store.root] + diffIDs.map(\.description),
                    in: try UserNamespaceCommand.containerMapping(), what: "removing layers")
    }

    /// The copy storage driver's root: `layers` (bottom first) copied into `destination`, inside the user namespace.
    /// `trace`: a trace line names each file whose capabilities (`security.capability`) were not copied.
    package static func copy(_ layers: [String], into destination: String, trace: Bool = false,
                            nook: MonitorExecutable = .currentProcess, environment: [String: String] = [:]) throws {
        try run(nook.resolve(environment: environment), ["__copy-layers"] + (trace ? ["--trace"] : []) + [destination] + layers,
                in: try UserNamespaceCommand.containerMapping(), what: "copying the image's layers")
    }

    /// nook, run in the namespace; its own errors went to stderr already.
    private static func run(_ nook: String, _ arguments: [String], in namespace: UserNamespaceCommand, what: String) throws {
        let status = try namespace.run(program: nook, arguments: ["nook"] + arguments)
        guard status == 0 else { throw NookError("\(what) failed (exit \(status))", hint: "see the error above") }
    }
}
