/// The media types Nook reads: OCI's and Docker's schema 2 (what registries,
/// `podman save` and `skopeo copy` write). Schema 1 is long deprecated: refused.
package enum MediaType {
    package static let ociIndex = "application/vnd.oci.image.index.v1+json"
    package static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let ociConfig = "application/vnd.oci.image.config.v1+json"
    package static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    package static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    package static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    package static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

    package static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    package static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    package static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    package static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// What a registry is asked for, in order of preference.
    package static let acceptedManifests = [ociIndex, ociManifest, dockerManifestList, dockerManifest]

    package static func isIndex(_ type: String?) -> Bool { type == ociIndex || type == dockerManifestList }
    package static func isManifest(_ type: String?) -> Bool { type == ociManifest || type == dockerManifest }

    /// How a layer blob is compressed, from its media type.
    package static func layerCompression(_ type: String) -> LayerCompression? {
        switch type {
        case ociLayer: return LayerCompression.none
        case ociLayerGzip, ociLayerNondistributableGzip, dockerLayerGzip, dockerForeignLayerGzip: return .gzip
        case ociLayerZstd: return .zstd
        default: return nil
        }
    }
}

package enum LayerCompression: String, Sendable, Codable {
    case none, gzip, zstd
}
