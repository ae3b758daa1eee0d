import FoundationEssentials
import Glibc
import NookCore
import NookKernel
import NookSpec

/// A docker-archive (`docker save`, `skopeo copy ... docker-archive:`):
/// manifest.json names each image's config file, its tags and its layer
/// tars. Docker keeps no manifest blob, so one is made here (OCI), with the
/// config and the layers as they are: an uncompressed layer's digest is its
/// diff ID, which the config names, so each is verified as it is stored.
struct DockerArchiveImporter {
    let store: ImageStore

    struct Entry: Decodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]
        enum CodingKeys: String, CodingKey {
            case config = "Config", repoTags = "RepoTags", layers = "Layers"
        }
    }

    func importArchive(_ dir: String, source: String, reference: ImageReference?) throws -> ImageRecord {
        let entries = try ImageImporter.decode([Entry].self, dir + "/manifest.json", what: "manifest.json of '\(source)'")
        // A docker-archive's manifest is made here: no digest can name it.
        if let reference, reference.digest != nil {
            throw NookError("'\(reference)' names a digest, but the image of a docker-archive gets its manifest when it is imported",
                            hint: "name it by a tag: nook image import \(source) NAME:TAG", kind: .invalidInput)
        }
        // A RepoTag that is not a reference, or names a digest, names nothing: it is left out.
        let tags = { (e: Entry) in (e.repoTags ?? []).compactMap { try? ImageReference(parsing: $0) }.filter { $0.digest == nil }.map(\.description) }
        let entry: Entry
        if let reference, let hit = entries.first(where: { tags($0).contains(reference.description) }) {
            entry = hit
        } else {
            guard entries.count == 1 else {
                throw NookError(entries.isEmpty ? "'\(source)' holds no image" : "'\(source)' holds \(entries.count) images (\(entries.flatMap(tags).joined(separator: ", ")))",
                                hint: entries.isEmpty ? "it is not an image" : "name the one to import: nook image import \(source) NAME")
            }
            entry = entries[0]
        }
        let configBytes = try HostPath.readBytes(try file(dir, entry.config), as: FileKind(name: "an image config", limit: 16 << 20),
                                                 label: "config of '\(source)'", noFollow: true)
        let configDigest = try store.putBlob(configBytes, what: "config")
        let config = try store.readJSON(ImageConfiguration.self, configDigest, what: "config")
        guard config.rootfs.diffIDs.count == entry.layers.count else {
            throw NookError("'\(source)': manifest.json lists \(entry.layers.count) layers and the config \(config.rootfs.diffIDs.count) diff IDs",
                            hint: "the archive is broken")
        }
        var layers: [Descriptor] = []
        for (name, diffID) in zip(entry.layers, config.rootfs.diffIDs) {
            let path = try file(dir, name)
            var st = stat()
            guard lstat(path, &st) == 0 else { throw NookError.sys("'\(source)': layer \(name)", path: path, errno: errno) }
            let (compression, digest) = try Self.sniff(path)
            if compression == .none && digest != diffID {
                throw NookError("'\(source)': layer \(name) hashes to \(digest), not to the diff ID \(diffID) the config names; nothing of it was stored",
                                hint: "the archive is corrupt or was changed", kind: .digestMismatch(expected: "\(diffID)", actual: "\(digest)"))
            }
            try store.copyBlob(from: path, expected: compression == .none ? diffID : digest, size: Int64(st.st_size), what: "layer")
            let media = compression == .gzip ? MediaType.ociLayerGzip : compression == .zstd ? MediaType.ociLayerZstd : MediaType.ociLayer
            layers.append(Descriptor(mediaType: media, digest: compression == .none ? diffID : digest, size: Int64(st.st_size)))
        }
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                     layers: layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let manifestBytes = Array(try encoder.encode(manifest))
        let manifestDigest = try store.putBlob(manifestBytes, what: "manifest")
        let names = reference.map { [$0.description] } ?? tags(entry)
        let record = ImageRecord(manifest: manifestDigest, config: configDigest, names: names, diffIDs: config.rootfs.diffIDs,
                                 size: Int64(manifestBytes.count + configBytes.count) + layers.reduce(0) { $0 + $1.size })
        return try ImageRecords(store: store).add(record)
    }

    /// A path named in manifest.json, inside the archive (no '..' out of it).
    func file(_ dir: String, _ name: String) throws -> String {
        let path = try LayerEntryPath(name)
        guard !path.isRoot else { throw NookError("manifest.json names '\(PrintableText.escaped(name))', not a file", hint: "the archive is broken") }
        return dir + "/" + path.relative
    }

    /// How a layer file is compressed (by its magic number) and its sha256.
    static func sniff(_ path: String) throws -> (LayerCompression, Digest) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("'\(path)'", path: path, errno: errno) }
        defer { close(fd) }
        var stream = DigestStream()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var head: [UInt8] = []
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { if errno == EINTR { continue }; throw NookError.sys("read '\(path)'", path: path, errno: errno) }
            if n == 0 { break }
            if head.count < 4 { head += chunk[0..<min(n, 4 - head.count)] }
            chunk.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        let compression: LayerCompression = head.starts(with: [0x1f, 0x8b]) ? .gzip : head == [0x28, 0xb5, 0x2f, 0xfd] ? .zstd : .none
        return (compression, stream.finish())
    }
}
