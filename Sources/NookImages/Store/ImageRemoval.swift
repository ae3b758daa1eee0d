import Glibc
import NookCore
import NookKernel

/// What removed images leave that no other image uses: blobs, and layers
/// (whose trees the caller removes inside the user namespace).
package struct ImageGarbage: Sendable {
    package var blobs: [Digest] = []
    package var layers: [Digest] = []
    /// Bytes of the blobs removed (the layers' trees not counted).
    package var bytes: Int64 = 0
}

extension ImageStore {
    /// The blobs (manifest, config, compressed layers, the index it was pulled through) and layers (diff IDs) an image uses.
    package func references(of record: ImageRecord) -> (blobs: Set<Digest>, layers: Set<Digest>) {
        var blobs: Set<Digest> = [record.manifest, record.config]
        blobs.formUnion(record.digests ?? [])
        // An older nook recorded no index digest, only a name pulled by it: `REPO@sha256:...`.
        blobs.formUnion(record.names.compactMap(ImageRecord.pinnedDigest(of:)))
        // A manifest that cannot be read any more: its layer blobs go as unreferenced ones with the next rmi of an image that names them.
        if let manifest = try? readJSON(ImageManifest.self, record.manifest, what: "manifest") {
            blobs.formUnion(manifest.layers.map(\.digest))
        }
        return (blobs, Set(record.diffIDs))
    }

    /// Removes the records `shouldRemove` picks, under the images lock, and
    /// deletes the blobs only they used. Returns them, with the layers only they used.
    package func removeImages(where shouldRemove: (ImageRecord) -> Bool) throws -> (removed: [ImageRecord], garbage: ImageGarbage) {
        let records = ImageRecords(store: self)
        let (removed, kept) = try records.update { all -> ([ImageRecord], [ImageRecord]) in
            let removed = all.filter(shouldRemove)
            all.removeAll(where: shouldRemove)
            return (removed, all)
        }
        var used = (blobs: Set<Digest>(), layers: Set<Digest>())
        for record in kept {
            let r = references(of: record)
            used.blobs.formUnion(r.blobs)
            used.layers.formUnion(r.layers)
        }
        var garbage = ImageGarbage()
        for record in removed {
            let r = references(of: record)
            garbage.blobs += r.blobs.subtracting(used.blobs).subtracting(garbage.blobs)
            garbage.layers += r.layers.subtracting(used.layers).subtracting(garbage.layers)
        }
        garbage.blobs.sort()
        garbage.layers.sort()
        for digest in garbage.blobs {
            let lock = try StoreLock(store: self, name: digest.hex)
            defer { lock.unlock() }
            var st = stat()
            if lstat(blobPath(digest), &st) == 0 { garbage.bytes += Int64(st.st_size) }
            guard unlink(blobPath(digest)) == 0 || errno == ENOENT else { throw NookError.sys("remove blob '\(blobPath(digest))'", path: blobPath(digest), errno: errno) }
        }
        return (removed, garbage)
    }

    /// Takes `name` off the image that has it; the image stays.
    package func untag(_ name: String) throws {
        try ImageRecords(store: self).update { all in
            for i in all.indices { all[i].names.removeAll { $0 == name } }
        }
    }
}
