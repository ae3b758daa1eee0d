import FoundationEssentials
import Glibc
import NookCore
import NookKernel

/// `nook image export REF PATH`: the image as an OCI image layout, in an
/// oci-archive tar (default) or a directory (`--format oci-dir`), its
/// index.json naming it in the ref.name annotation. What `nook image
/// import`, `skopeo copy oci-archive:` and `podman load` read.
package struct ImageExporter {
    package enum Format: String, Sendable { case ociArchive = "oci-archive", ociDirectory = "oci-dir" }

    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    package func export(_ record: ImageRecord, name: String?, to path: String, format: Format) throws {
        let manifestBytes = try store.readBlob(record.manifest, what: "manifest")
        let manifest = try store.readJSON(ImageManifest.self, record.manifest, what: "manifest")
        let blobs = [record.manifest, manifest.config.digest] + manifest.layers.map(\.digest)
        for digest in blobs where !store.hasBlob(digest) {
            throw NookError("blob \(digest) of image \(record.config.short) is missing from the store", hint: "pull or import the image again")
        }
        // A name pinning the index it was pulled through (not in the layout): the manifest's pin instead, which the layout holds.
        let name = name.map { $0.contains("@") ? ImageRecord.repository(of: $0) + "@" + record.manifest.description : $0 }
        let entry = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: record.manifest,
                               size: Int64(manifestBytes.count),
                               annotations: name.map { [ImageImporter.refAnnotation: $0] })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let index = Array(try encoder.encode(ImageIndex(manifests: [entry])))
        let layout = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
        switch format {
        case .ociDirectory:
            guard mkdir(path, 0o755) == 0 else {
                throw NookError.sys("mkdir '\(path)'", path: path, errno: errno, hint: errno == EEXIST ? "give a path that does not exist yet" : nil)
            }
            do {
                try ImageStore.makeDirectories(path + "/blobs/sha256", mode: 0o755)
                try Self.writeFile(path + "/oci-layout", layout)
                try Self.writeFile(path + "/index.json", index)
                for digest in Set(blobs) {
                    try store.copyFile(store.blobPath(digest), to: path + "/blobs/sha256/" + digest.hex)
                }
            } catch {
                try? TreeRemover.remove(path)  // the export failed: what it made goes; the error says why
                throw error
            }
        case .ociArchive:
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw NookError.sys("create '\(path)'", path: path, errno: errno, hint: errno == EEXIST ? "give a path that does not exist yet" : nil)
            }
            defer { close(fd) }
            do {
                let tar = TarWriter(fd: fd, label: "'\(path)'")
                try tar.add("oci-layout", bytes: layout)
                try tar.add("index.json", bytes: index)
                var written = Set<Digest>()
                for digest in blobs where written.insert(digest).inserted {
                    try tar.add("blobs/sha256/" + digest.hex, source: store.blobPath(digest))
                }
                try tar.finish()
                guard fsync(fd) == 0 else { throw NookError.sys("fsync '\(path)'", path: path, errno: errno) }
            } catch {
                unlink(path)
                throw error
            }
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NookError.sys("create '\(path)'", path: path, errno: errno) }
        defer { close(fd) }
        try TarWriter(fd: fd, label: "'\(path)'").writeAll(bytes)
    }
}

extension ImageStore {
    /// Copies a blob out of the store (export).
    func copyFile(_ source: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NookError.sys("create '\(path)'", path: path, errno: errno) }
        defer { close(fd) }
        try TarWriter(fd: fd, label: "'\(path)'").copy(from: source)
    }
}
