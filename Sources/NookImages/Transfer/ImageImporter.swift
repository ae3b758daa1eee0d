import FoundationEssentials
import Glibc
import NookCore
import NookKernel
import NookSpec

/// `nook image import PATH [REF]`: an OCI image layout directory, an
/// oci-archive or a docker-archive tar (`skopeo copy`, `podman save`) into
/// the store. Every blob is copied through `BlobWriter`, so it is verified
/// against its digest (and size) as it is stored; index, manifests, configs
/// are read with a size bound. A docker-archive gets an OCI manifest made
/// here, its layers kept as the uncompressed tars they are.
package struct ImageImporter {
    package let store: ImageStore
    static let smallJSON = FileKind(name: "an image index or manifest", limit: 4 << 20)
    static let refAnnotation = "org.opencontainers.image.ref.name"

    package init(store: ImageStore) { self.store = store }

    /// Imports the image at `path`, named `reference` (else as the source names it, if it does).
    package func importImage(from path: String, reference: ImageReference?, referenceText: String?) throws -> ImageRecord {
        try store.prepare()
        var st = stat()
        guard stat(path, &st) == 0 else { throw NookError.sys("'\(path)'", path: path, errno: errno) }
        if st.st_mode & S_IFMT == S_IFDIR { return try importLayout(path, reference: reference, referenceText: referenceText) }
        let staging = try ArchiveStaging.unpack(path, store: store)
        defer { staging.remove() }
        if access(staging.directory + "/index.json", F_OK) == 0 {
            return try importLayout(staging.directory, reference: reference, referenceText: referenceText)
        }
        if access(staging.directory + "/manifest.json", F_OK) == 0 {
            return try DockerArchiveImporter(store: store).importArchive(staging.directory, source: path, reference: reference)
        }
        throw NookError("'\(path)' has neither index.json (an oci-archive) nor manifest.json (a docker-archive)",
                        hint: "give an OCI layout directory, an oci-archive or a docker-archive tar")
    }

    /// An OCI image layout: index.json picks the manifest (by REF's name or
    /// tag in its ref.name annotation, or the only one).
    func importLayout(_ dir: String, reference: ImageReference?, referenceText: String?) throws -> ImageRecord {
        let index = try Self.decode(ImageIndex.self, dir + "/index.json", what: "index.json of '\(dir)'")
        let chosen = try Self.choose(index.manifests, reference: reference, text: referenceText, source: dir)
        var descriptor = chosen
        var names: [String] = []
        if let reference { names = [reference.description] } else if let named = Self.name(chosen.annotations?[Self.refAnnotation]) { names = [named] }
        // A nested index (several platforms): the one for this machine.
        if MediaType.isIndex(descriptor.mediaType) {
            try copyBlob(dir, descriptor, what: "image index")
            let nested = try store.readJSON(ImageIndex.self, descriptor.digest, what: "image index")
            guard let entry = nested.manifest(for: .host) else {
                throw NookError("'\(dir)' has no image for \(Platform.host)", hint: "import an image built for \(Platform.host)")
            }
            descriptor = entry
        }
        // Before any blob is copied: a name's digest must be this image's (`ImageRecords.add` checks it again).
        let indexDigests = chosen.digest == descriptor.digest ? [] : [chosen.digest]
        try ImageRecord.checkPins(names, manifest: descriptor.digest, index: indexDigests)
        guard MediaType.isManifest(descriptor.mediaType) else {
            throw NookError("'\(dir)': \(descriptor.digest) has media type '\(PrintableText.escaped(descriptor.mediaType))', not an image manifest",
                            hint: "Nook imports OCI and Docker schema 2 images")
        }
        try copyBlob(dir, descriptor, what: "manifest")
        let manifest = try store.readJSON(ImageManifest.self, descriptor.digest, what: "manifest")
        try copyBlob(dir, manifest.config, what: "config")
        let config = try store.readJSON(ImageConfiguration.self, manifest.config.digest, what: "config")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw NookError("'\(dir)': the manifest has \(manifest.layers.count) layers and the config \(config.rootfs.diffIDs.count) diff IDs",
                            hint: "the image is broken")
        }
        for layer in manifest.layers {
            guard MediaType.layerCompression(layer.mediaType) != nil else {
                throw NookError("'\(dir)': layer \(layer.digest) has media type '\(PrintableText.escaped(layer.mediaType))', which Nook cannot unpack",
                                hint: "Nook unpacks tar layers, plain or compressed with gzip or zstd")
            }
            try copyBlob(dir, layer, what: "layer")
        }
        let size = descriptor.size + manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size }
        let record = ImageRecord(manifest: descriptor.digest, config: manifest.config.digest, names: names,
                                 diffIDs: config.rootfs.diffIDs, size: size, digests: indexDigests.isEmpty ? nil : indexDigests)
        return try ImageRecords(store: store).add(record)
    }

    /// blobs/sha256/HEX of the layout into the store, verified as it is written.
    func copyBlob(_ dir: String, _ descriptor: Descriptor, what: String) throws {
        try store.copyBlob(from: dir + "/blobs/sha256/" + descriptor.digest.hex, expected: descriptor.digest,
                           size: descriptor.size, what: what)
    }

    static func choose(_ manifests: [Descriptor], reference: ImageReference?, text: String?, source: String) throws -> Descriptor {
        func label(_ d: Descriptor) -> String { d.annotations?[refAnnotation] ?? d.digest.description }
        if let reference {
            let wanted = Set([text, reference.description, reference.tag, reference.repository + ":" + (reference.tag ?? "latest")].compactMap { $0 })
            if let hit = manifests.first(where: { wanted.contains($0.annotations?[refAnnotation] ?? "") }) { return hit }
            if let digest = reference.digest, let hit = manifests.first(where: { $0.digest == digest }) { return hit }
        }
        guard manifests.count == 1 else {
            let list = manifests.map(label).joined(separator: ", ")
            throw NookError(manifests.isEmpty ? "'\(source)' holds no image" : "'\(source)' holds \(manifests.count) images (\(list))\(reference == nil ? "" : ", none named \(text ?? "")")",
                            hint: manifests.isEmpty ? "it is not an image" : "name the one to import: nook image import \(source) NAME")
        }
        return manifests[0]
    }

    /// A ref.name that is a whole reference (skopeo writes only a tag, which names nothing).
    static func name(_ annotation: String?) -> String? {
        guard let annotation, annotation.contains("/") || annotation.contains(":") else { return nil }
        return (try? ImageReference(parsing: annotation))?.description  // not a reference: the image stays unnamed
    }

    static func decode<T: Decodable>(_ type: T.Type, _ path: String, what: String) throws -> T {
        try SpecDecoder.decodeJSON(T.self, from: try HostPath.readBytes(path, as: smallJSON, label: what, noFollow: true), what: what)
    }
}

extension ImageStore {
    /// Copies a file into blobs/ through `BlobWriter`: hashed as it is written,
    /// kept only when its digest (and size, when given) are those expected.
    package func copyBlob(from path: String, expected: Digest, size: Int64?, what: String) throws {
        guard let writer = try BlobWriter(store: self, expected: expected, expectedSize: size, what: what) else { return }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            writer.abandon()
            throw NookError.sys("\(what) \(expected): '\(path)'", path: path, errno: err, hint: "the image is incomplete")
        }
        defer { close(fd) }
        do {
            try writer.restart()
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(fd, &chunk, chunk.count)
                if n < 0 { if errno == EINTR { continue }; throw NookError.sys("read '\(path)'", path: path, errno: errno) }
                if n == 0 { break }
                try chunk.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }
}
