import Glibc
import NookCore
import NookKernel

/// The unpacked layers of the store: `layers/HEX/` (HEX: the layer's diff
/// ID, the sha256 of its uncompressed tar) holds the layer's tree in
/// overlayfs form (whiteouts as 0/0 character devices, opaque directories
/// marked with `user.overlay.opaque=y`), owned as the image says, shifted
/// into the user's sub-id range.
///
/// A layer is unpacked into `layers/HEX.tmp-RANDOM` and renamed to
/// `layers/HEX` only once complete and verified, under the layer's lock:
/// two containers of one image unpack it once, and a tree under its final
/// name is always whole. Unpacking runs inside a user namespace that maps
/// the user's sub-ids (nook's CLI starts it there: `nook __unpack-layer`).
package struct LayerStore: Sendable {
    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    /// `layers/HEX`: where the layer with this diff ID is (or will be) unpacked.
    package func path(of diffID: Digest) -> String { store.layersDirectory + "/" + diffID.hex }

    /// True when the layer's tree is in place (only ever renamed there whole).
    package func isUnpacked(_ diffID: Digest) -> Bool {
        var st = stat()
        return lstat(path(of: diffID), &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// The lock a layer is unpacked or removed under.
    package func lock(_ diffID: Digest) throws -> StoreLock {
        try StoreLock(store: store, name: "layer-" + diffID.hex)
    }

    static let temporaryMarker = ".tmp-"

    /// Trees under layers/ that are not a whole layer: unpacks that were cut
    /// short (`HEX.tmp-RANDOM`), for `diffID` only or all of them.
    package func leftovers(of diffID: Digest? = nil) -> [String] {
        var found: [String] = []
        for name in DirectoryEntries.names(atPath: store.layersDirectory) ?? [] {
            guard name.contains(Self.temporaryMarker) else { continue }
            if let diffID, !name.hasPrefix(diffID.hex + Self.temporaryMarker) { continue }
            found.append(store.layersDirectory + "/" + name)
        }
        return found.sorted()
    }

    /// Unpacks `layer` (a blob in the store) as the layer `diffID`, unless it
    /// is already there. Call inside the user namespace: files get the owners
    /// the image says (`keepOwnership`), or stay the caller's. Removes what an
    /// earlier, interrupted unpack of this layer left. On any error (a bad
    /// entry, a diff ID mismatch) nothing of this layer is left under layers/.
    package func unpack(layer: Descriptor, diffID: Digest, keepOwnership: Bool,
                       note: (String) -> Void = { _ in }) throws {
        let held = try lock(diffID)
        defer { held.unlock() }
        if isUnpacked(diffID) { return }
        for stale in leftovers(of: diffID) { try TreeRemover.remove(stale) }
        guard let compression = MediaType.layerCompression(layer.mediaType) else {
            throw NookError("layer \(layer.digest) has media type '\(PrintableText.escaped(layer.mediaType))', which Nook cannot unpack",
                            hint: "Nook unpacks tar layers, plain or compressed with gzip or zstd")
        }
        let temp = path(of: diffID) + Self.temporaryMarker + Self.randomSuffix()
        guard mkdir(temp, 0o755) == 0 else { throw NookError.sys("mkdir '\(temp)'", path: temp, errno: errno) }
        do {
            let blob = open(store.blobPath(layer.digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard blob >= 0 else { throw NookError.sys("layer \(layer.digest) in the store", errno: errno, hint: "pull or import the image again") }
            defer { close(blob) }
            let report = try LayerUnpacker(source: blob, compression: compression, diffID: diffID,
                                           keepOwnership: keepOwnership).unpack(into: temp)
            if report.skippedDevices > 0 {
                note("layer \(diffID.short): skipped \(report.skippedDevices) device node\(report.skippedDevices == 1 ? "" : "s") (a user namespace cannot make them: \(report.skippedExample))")
            }
            if report.skippedAttributes > 0 {
                note("layer \(diffID.short): skipped \(report.skippedAttributes) extended attribute\(report.skippedAttributes == 1 ? "" : "s") a user namespace cannot set (\(report.skippedAttributeExample))")
            }
            guard rename(temp, path(of: diffID)) == 0 else { throw NookError.sys("rename '\(temp)' to '\(path(of: diffID))'", path: temp, errno: errno) }
        } catch {
            try? TreeRemover.remove(temp)  // the error thrown says what went wrong; a tree we could not remove is found as a leftover next time
            throw error
        }
    }

    /// Removes the layer's tree (and any leftovers of it), under its lock.
    /// Call inside the user namespace: files may be owned by sub-ids.
    package func remove(_ diffID: Digest) throws {
        let held = try lock(diffID)
        defer { held.unlock() }
        for stale in leftovers(of: diffID) { try TreeRemover.remove(stale) }
        if isUnpacked(diffID) { try TreeRemover.remove(path(of: diffID)) }
    }

    static func randomSuffix() -> String {
        Syscall.randomBytes(6).map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
