import Glibc
import NookCore
import NookKernel
import NookSpec

/// Nook's content-addressed image store, one per user, owned by the user, mode 0700:
///
///     $XDG_DATA_HOME/nook/           (else ~/.local/share/nook)
///       blobs/sha256/HEX             manifests, configs and compressed layers, each verified, read-only
///       layers/HEX/                  a layer unpacked (HEX: its diff ID), files owned as the image says,
///                                    shifted into the user's sub-id range (LayerStore)
///       images.json                  names -> manifest digest (ImageIndexFile)
///       tmp/                         blobs being written: never visible under blobs/ until verified
///       locks/                       one lock file per blob or layer: two pulls at once are safe;
///                                    containers.lock: run/create of an image (shared) against rmi/prune (exclusive)
///       containers/NAME/             a container's writable layer (upper, work), removed with it; flock'd
///                                    by the process that owns it while the container lives
///
/// Every blob is written to tmp/, hashed as it is written, checked against
/// the digest and size it must have, fsync'd and only then renamed into
/// blobs/: a crash, a full disk or a lying registry leaves nothing under
/// blobs/ that is not what its name says.
package struct ImageStore: Sendable {
    package let root: String

    package init(root: String) { self.root = root }

    /// `$XDG_DATA_HOME/nook`, else `$HOME/.local/share/nook` (podman's rule for its storage).
    package static func defaultRoot(environment: [String: String]) throws -> String {
        try ImageStoreLocation.root(environment: environment)
    }

    package var blobsDirectory: String { root + "/blobs/sha256" }
    package var layersDirectory: String { root + "/layers" }
    package var tmpDirectory: String { root + "/tmp" }
    package var locksDirectory: String { root + "/locks" }
    package var containersDirectory: String { root + "/containers" }
    package var imagesFile: String { root + "/images.json" }
    /// locks/containers.lock: held shared by a `run`/`create` of an image
    /// from resolving the image to marking its container layer, exclusive
    /// by rmi and prune while they decide what is in use and remove it.
    package static let containersLockName = "containers"

    package func blobPath(_ digest: Digest) -> String { blobsDirectory + "/" + digest.hex }

    /// Makes the store's directories, 0700, and refuses a store the user does
    /// not own (someone else's files would be trusted as verified).
    package func prepare() throws {
        try Self.makeDirectories(root, mode: 0o700)
        var st = stat()
        guard lstat(root, &st) == 0 else { throw NookError.sys("image store '\(root)'", path: root, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw NookError("image store '\(root)' is \(HostPath.fileType(st.st_mode)), not a directory", hint: "move it away, or set XDG_DATA_HOME")
        }
        guard st.st_uid == geteuid() else {
            throw NookError("image store '\(root)' belongs to uid \(st.st_uid), not to you (uid \(geteuid()))",
                            hint: "each user has a store of their own; set XDG_DATA_HOME to a directory you own")
        }
        if st.st_mode & 0o077 != 0, chmod(root, 0o700) != 0 { throw NookError.sys("chmod 0700 '\(root)'", path: root, errno: errno) }
        for dir in [blobsDirectory, layersDirectory, tmpDirectory, locksDirectory, containersDirectory] {
            try Self.makeDirectories(dir, mode: 0o700)
        }
    }

    package func hasBlob(_ digest: Digest) -> Bool {
        var st = stat()
        return lstat(blobPath(digest), &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    /// A small blob (manifest, index, config) read whole and checked against its digest again:
    /// the store is the user's, and a file changed under it must not be believed.
    package func readBlob(_ digest: Digest, limit: Int = 4 << 20, what: String = "blob") throws -> [UInt8] {
        let bytes = try HostPath.readBytes(blobPath(digest), as: FileKind(name: "a \(what)", limit: limit),
                                           label: "\(what) \(digest)", noFollow: true)
        let actual = Digest.of(bytes)
        guard actual == digest else {
            throw NookError("\(what) \(digest) in the store has changed: its content hashes to \(actual)",
                            hint: "remove it with 'nook rmi' and pull or import the image again",
                            kind: .digestMismatch(expected: "\(digest)", actual: "\(actual)"))
        }
        return bytes
    }

    /// Decodes a small blob as JSON of type `T`.
    package func readJSON<T: Decodable>(_ type: T.Type, _ digest: Digest, what: String) throws -> T {
        try SpecDecoder.decodeJSON(T.self, from: try readBlob(digest, what: what), what: "\(what) \(digest)")
    }

    /// Stores `bytes` as a blob whose digest must be `expected` (when given); returns the digest.
    @discardableResult
    package func putBlob(_ bytes: [UInt8], expected: Digest? = nil, what: String = "blob") throws -> Digest {
        let actual = Digest.of(bytes)
        if let expected, expected != actual {
            throw NookError("\(what) digest mismatch: expected \(expected), got \(actual); nothing was stored",
                            hint: "the source is corrupt or was changed; fetch it again",
                            kind: .digestMismatch(expected: "\(expected)", actual: "\(actual)"))
        }
        let writer = try BlobWriter(store: self, expected: actual, expectedSize: Int64(bytes.count), what: what)
        guard let writer else { return actual }  // already stored
        try writer.write(bytes)
        try writer.commit()
        return actual
    }

    /// Creates `path` and its parents with `mode`, refusing a symlink anywhere on the way we made.
    static func makeDirectories(_ path: String, mode: mode_t) throws {
        if mkdir(path, mode) == 0 { return }
        let err = errno
        if err == EEXIST {
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                throw NookError("'\(path)' exists and is not a directory", hint: "move it away")
            }
            return
        }
        guard err == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw NookError.sys("mkdir '\(path)'", path: path, errno: err)
        }
        try makeDirectories(String(path[..<slash]), mode: 0o755)
        if mkdir(path, mode) != 0 && errno != EEXIST { throw NookError.sys("mkdir '\(path)'", path: path, errno: errno) }
    }
}
