import FoundationEssentials
import Glibc
import NookCore
import NookKernel
import NookSpec

/// One image in the store: its manifest (the identity `REF@sha256:` pins)
/// and the names that point at it. An image can have several names, or
/// none (`nook images` shows `<none>`; `nook image prune` removes those).
package struct ImageRecord: Codable, Sendable, Equatable {
    /// The manifest's digest: what `nook images --digests` shows.
    package var manifest: Digest
    /// The config's digest: the image ID (`nook images` shows its first 12 digits, as podman does).
    package var config: Digest
    /// `docker.io/library/busybox:latest`, normalised.
    package var names: [String]
    /// The layers' diff IDs, bottom first (each unpacked once under layers/).
    package var diffIDs: [Digest]
    /// Compressed bytes of the manifest, config and layers.
    package var size: Int64

    package init(manifest: Digest, config: Digest, names: [String], diffIDs: [Digest], size: Int64) {
        self.manifest = manifest
        self.config = config
        self.names = names
        self.diffIDs = diffIDs
        self.size = size
    }
}

/// images.json: every image record, read and rewritten whole under the
/// "images" lock (replaced by rename, so a reader never sees half of it).
package struct ImageRecords: Sendable {
    package let store: ImageStore
    static let limit = FileKind(name: "the image list", limit: 16 << 20)

    package init(store: ImageStore) { self.store = store }

    package func all() throws -> [ImageRecord] {
        var st = stat()
        guard lstat(store.imagesFile, &st) == 0 else {
            if errno == ENOENT { return [] }
            throw NookError.sys("'\(store.imagesFile)'", path: store.imagesFile, errno: errno)
        }
        let bytes = try HostPath.readBytes(store.imagesFile, as: Self.limit, noFollow: true)
        return try SpecDecoder.decodeJSON([ImageRecord].self, from: bytes, what: store.imagesFile)
    }

    /// The record a name or ID means: a full name (`busybox` normalised), a
    /// manifest digest, or an image ID or a prefix of it (at least 3 digits, unique).
    package func find(_ text: String) throws -> ImageRecord? {
        let records = try all()
        // Not a reference: the text may still be an image ID or a prefix of one (below).
        if let reference = try? ImageReference(parsing: text) {
            if let digest = reference.digest, reference.tag == nil {
                if let hit = records.first(where: { $0.manifest == digest && $0.names.contains { $0.hasPrefix(reference.name + ":") || $0 == reference.description } })
                    ?? records.first(where: { $0.manifest == digest }) { return hit }
            }
            if let hit = records.first(where: { $0.names.contains(reference.description) }) { return hit }
        }
        var hex = text
        if hex.hasPrefix("sha256:") { hex.removeFirst(7) }
        guard hex.utf8.count >= 3, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        let matches = records.filter { $0.config.hex.hasPrefix(hex) || $0.manifest.hex.hasPrefix(hex) }
        if matches.count > 1 {
            throw NookError("'\(text)' is the start of \(matches.count) image IDs", hint: "give more digits (nook images shows them)")
        }
        return matches.first
    }

    /// Runs `change` on the records under the lock and writes the result.
    package func update<T>(_ change: (inout [ImageRecord]) throws -> T) throws -> T {
        let lock = try StoreLock(store: store, name: "images")
        defer { lock.unlock() }
        var records = try all()
        let result = try change(&records)
        try write(records)
        return result
    }

    /// Adds `record`, moving each of its names off any other image (a tag names one image).
    package func add(_ record: ImageRecord) throws {
        try update { records in
            for i in records.indices { records[i].names.removeAll { record.names.contains($0) } }
            if let i = records.firstIndex(where: { $0.manifest == record.manifest }) {
                records[i].names = Array(Set(records[i].names + record.names)).sorted()
            } else {
                records.append(record)
            }
        }
    }

    func write(_ records: [ImageRecord]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try encoder.encode(records))
        let temp = store.tmpDirectory + "/images.json.\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw NookError.sys("create '\(temp)'", path: temp, errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let err = errno
                close(fd)
                unlink(temp)
                throw NookError.sys("write '\(temp)'", path: temp, errno: err)
            }
            offset += n
        }
        guard fsync(fd) == 0 else { let err = errno; close(fd); unlink(temp); throw NookError.sys("fsync '\(temp)'", path: temp, errno: err) }
        close(fd)
        guard rename(temp, store.imagesFile) == 0 else { let err = errno; unlink(temp); throw NookError.sys("rename to '\(store.imagesFile)'", path: store.imagesFile, errno: err) }
    }
}
