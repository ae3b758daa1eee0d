/// An image manifest (OCI image-manifest, or Docker schema 2: the same shape).
public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An index of manifests (OCI image index, or a Docker manifest list).
public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The entry for `platform` (variant compared only when both name one).
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { entry in
            guard let p = entry.platform, p.os == platform.os, p.architecture == platform.architecture else { return false }
            if let want = platform.variant, let have = p.variant { return want == have }
            return true
        }
    }
}
