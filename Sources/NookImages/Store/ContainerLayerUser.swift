#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NookCore
import NookKernel
import NookSpec

/// Which image a container layer (`containers/<id>-<random>/`) was made
/// from, and for which container of which state root: `user.json` in it.
/// An image some layer names is in use (rmi refuses it, prune keeps it)
/// until the layer goes, which is when its container is removed, or when a
/// sweep finds its owner gone (the layer's lock free) and the container no
/// longer in its state root (`OrphanLayers`).
package struct ContainerLayerUser: Codable, Sendable, Equatable {
    package static let fileName = RootOverlay.layerUserFile

    /// The image's manifest digest.
    package var image: Digest
    package var container: String
    /// The container's state root (`--root`, else $XDG_RUNTIME_DIR/nook or
    /// /tmp/nook-UID); nil in a layer an older nook made, which no sweep removes.
    package var stateRoot: String?

    package init(image: Digest, container: String, stateRoot: String?) {
        self.image = image
        self.container = container
        self.stateRoot = stateRoot
    }

    /// The record in `directory` (a container layer); nil when it has none
    /// that can be read (one being made, or a broken one).
    package static func read(in directory: String) -> ContainerLayerUser? {
        let path = directory + "/" + fileName
        // unreadable or not JSON: a layer being made, or a broken one, which uses nothing
        guard let bytes = try? HostPath.readBytes(path, as: .own, noFollow: true) else { return nil }
        return try? SpecDecoder.decodeJSON(ContainerLayerUser.self, from: bytes, what: path)  // either: no record
    }

    func write(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try HostPath.writeText(directory + "/" + Self.fileName, String(decoding: try encoder.encode(self), as: UTF8.self) + "\n",
                               create: true, mode: 0o600)
    }
}

extension ImageStore {
    /// Every container layer's user record, by the image it uses. A layer
    /// without a readable record (one being made, or a broken one) uses nothing.
    package func containerLayerUsers() -> [Digest: [String]] {
        var users: [Digest: [String]] = [:]
        for name in HostPath.subdirectories(containersDirectory) {
            guard let user = ContainerLayerUser.read(in: containersDirectory + "/" + name) else { continue }
            users[user.image, default: []].append(user.container)
        }
        return users.mapValues { $0.sorted() }
    }
}
