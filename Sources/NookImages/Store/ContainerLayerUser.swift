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
/// from, and for which container: `user.json` in it. An image some layer
/// names is in use (rmi refuses it, prune keeps it) until the layer goes,
/// which is when its container is removed.
package struct ContainerLayerUser: Codable, Sendable, Equatable {
    package static let fileName = RootOverlay.layerUserFile

    /// The image's manifest digest.
    package var image: Digest
    package var container: String

    package init(image: Digest, container: String) {
        self.image = image
        self.container = container
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
            let path = containersDirectory + "/" + name + "/" + ContainerLayerUser.fileName
            // unreadable or not JSON: a layer being made, or a broken one, which uses nothing (see above)
            guard let bytes = try? HostPath.readBytes(path, as: .own, noFollow: true),
                  let user = try? SpecDecoder.decodeJSON(ContainerLayerUser.self, from: bytes, what: path) else { continue }  // either: uses nothing
            users[user.image, default: []].append(user.container)
        }
        return users.mapValues { $0.sorted() }
    }
}
