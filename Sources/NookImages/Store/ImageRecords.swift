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
    /// Other digests that pin this image: the index (manifest list) it was
    /// pulled through, whose digest `nook pull` prints. nil: none (and in an
    /// images.json of an older nook).
    package var digests: [Digest]?
    /// Every repository the image has had a name in: a tag that moved on to
    /// another image leaves its repository here, and a pin of that
    /// repository still names this image (`ImageRecords.pinned`). nil: an
    /// images.json of an older nook.
    package var repositories: [String]?

    package init(manifest: Digest, config: Digest, names: [String], diffIDs: [Digest], size: Int64, digests: [Digest]? = nil) {
        self.manifest = manifest
        self.config = config
        self.names = names
        self.diffIDs = diffIDs
        self.size = size
        self.digests = digests
    }

    /// "docker.io/library/busybox" of "docker.io/library/busybox:latest" or of
    /// "docker.io/library/busybox@sha256:..." (a port's ':' is not a tag's).
    package static func repository(of name: String) -> String {
        // (An older nook recorded NAME:TAG@DIGEST as given: its tag goes too.)
        let name = name.firstIndex(of: "@").map { String(name[..<$0]) } ?? name
        guard let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") else { return name }
        return String(name[..<colon])
    }

    /// Whether the image has a name in `repository` now.
    func isNamed(in repository: String) -> Bool { names.contains { Self.repository(of: $0) == repository } }

    /// The tag of `name`; nil for a name pulled by digest (`REPO@sha256:...`), as podman shows `<none>`.
    package static func tag(of name: String) -> String? {
        guard !name.contains("@") else { return nil }
        let repository = repository(of: name)
        return repository.count < name.count ? String(name.dropFirst(repository.count + 1)) : nil
    }

    /// The digest a name pins (`REPO@sha256:...`); nil for a tag, or after an
    /// `@` that is no digest.
    package static func pinnedDigest(of name: String) -> Digest? {
        guard let at = name.firstIndex(of: "@") else { return nil }
        return try? Digest(String(name[name.index(after: at)...]))  // no digest: nil, as the caller asks
    }

    /// Refuses a name whose digest (`REPO@sha256:...`) is neither `manifest`
    /// nor one of `index`: an image imported under another's pin would take it over.
    package static func checkPins(_ names: [String], manifest: Digest, index: [Digest] = []) throws {
        for name in names where name.contains("@") {
            guard let digest = pinnedDigest(of: name), digest == manifest || index.contains(digest) else {
                throw NookError("the name '\(PrintableText.escaped(name))' pins a digest this image does not have (its manifest is \(manifest))",
                                hint: "name it by a tag (NAME:TAG), or by its own digest", kind: .invalidInput)
            }
        }
    }

    /// podman's RepoTags: the names that are tags.
    package var repoTags: [String] { names.filter { !$0.contains("@") } }

    /// podman's RepoDigests: every repository the image has a name in, with
    /// every digest that pins it.
    package var repoDigests: [String] {
        var seen = Set<String>(), all: [String] = []
        for name in names {
            for digest in [manifest] + (digests ?? []) {
                let pin = Self.repository(of: name) + "@" + digest.description
                if seen.insert(pin).inserted { all.append(pin) }
            }
        }
        return all
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
            if let digest = reference.digest { return try pinned(reference.name, digest, text: text, in: records) }
            if let hit = records.first(where: { $0.names.contains(reference.description) }) { return hit }
        }
        guard let hex = Self.idPrefix(text) else { return nil }
        let matches = records.filter { $0.config.hex.hasPrefix(hex) || $0.manifest.hex.hasPrefix(hex) }
        // One image ID in several records (one config pulled or imported under
        // several manifests, as Docker's and OCI's): one image, as podman has it.
        let ids = Set(matches.map(\.config))
        if ids.count > 1 {
            throw NookError("'\(text)' is the start of \(ids.count) image IDs", hint: "give more digits (nook images shows them)")
        }
        return matches.first
    }

    /// The image `name@digest` pins (a tag beside it is only a name, as in
    /// podman), among images that have or had a name in that repository (a
    /// pin never crosses repositories: rmi of it must not remove another's
    /// image; an image whose tag moved on keeps its repository, and its pin
    /// still runs it, which is what a pin is for): the one whose manifest has
    /// the digest; else, of those pulled through an index of that digest, the
    /// one pulled by this very pin, else the ones named there now before those
    /// whose tag moved on, if they are one image. (`add` keeps a name's
    /// digest to the image's own.)
    func pinned(_ name: String, _ digest: Digest, text: String, in records: [ImageRecord]) throws -> ImageRecord? {
        let here = records.filter { $0.isNamed(in: name) || $0.repositories?.contains(name) == true }
        if let byManifest = here.first(where: { $0.manifest == digest }) { return byManifest }
        let byIndex = here.filter { $0.digests?.contains(digest) == true }
        if let exact = byIndex.first(where: { $0.names.contains(name + "@" + digest.description) }) { return exact }
        let named = byIndex.filter { $0.isNamed(in: name) }
        let candidates = named.isEmpty ? byIndex : named
        let ids = Set(candidates.map(\.config))
        if ids.count > 1 {
            throw NookError("'\(text)' pins an index of which the store holds \(ids.count) images (IDs \(ids.map(\.short).sorted().joined(separator: ", ")))",
                            hint: "name one by its image ID (nook images --digests shows which is which), or pull it by this pin")
        }
        return candidates.first
    }

    /// The hex digits of `text` if it can be (the start of) an image ID: `sha256:` and 3 or more of them.
    package static func idPrefix(_ text: String) -> String? {
        var hex = text
        if hex.hasPrefix("sha256:") { hex.removeFirst(7) }
        guard hex.utf8.count >= 3, Digest.isLowerHex(hex) else { return nil }
        return hex
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

    /// Adds `record`, moving each of its names off any other image (a tag names one image); returns it as recorded.
    /// A name with a digest (`REPO@sha256:...`) must have the image's own: its
    /// manifest's or its index's (a pin names only that image: `pinned`).
    @discardableResult
    package func add(_ record: ImageRecord) throws -> ImageRecord {
        var record = record
        // NAME:TAG@DIGEST is NAME@DIGEST, as a pull records it: the tag of a pin is no name (`find` reads it by its digest).
        // (Every name came through ImageReference; one that does not parse now is kept as it is.)
        record.names = record.names.map { name in (try? ImageReference(parsing: name))?.recordedName ?? name }
        try ImageRecord.checkPins(record.names, manifest: record.manifest, index: record.digests ?? [])
        record.repositories = Array(Set((record.repositories ?? []) + record.names.map(ImageRecord.repository(of:)))).sorted()
        try update { records in
            for i in records.indices { records[i].names.removeAll { record.names.contains($0) } }
            if let i = records.firstIndex(where: { $0.manifest == record.manifest }) {
                records[i].names = Array(Set(records[i].names + record.names)).sorted()
                let digests = Set((records[i].digests ?? []) + (record.digests ?? []))
                records[i].digests = digests.isEmpty ? nil : digests.sorted()
                records[i].repositories = Array(Set((records[i].repositories ?? []) + (record.repositories ?? []))).sorted()
            } else {
                records.append(record)
            }
        }
        return record
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
