/// An image manifest (OCI image-manifest, or Docker schema 2: the same shape).
package struct ImageManifest: Codable, Sendable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var config: Descriptor
    package var layers: [Descriptor]
    package var annotations: [String: String]?

    package init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An index of manifests (OCI image index, or a Docker manifest list).
package struct ImageIndex: Codable, Sendable {
    package var schemaVersion: Int
    package var mediaType: String?
    package var manifests: [Descriptor]
    package var annotations: [String: String]?

    package init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The entry for `platform` (variant compared only when both name one).
    package func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { entry in
            guard let p = entry.platform, p.os == platform.os, p.architecture == platform.architecture else { return false }
            if let want = platform.variant, let have = p.variant { return want == have }
            return true
        }
    }
}
