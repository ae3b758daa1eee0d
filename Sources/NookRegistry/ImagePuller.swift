#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Dispatch
import NookCore
import NookImages
import NookSpec

/// `nook pull REF`: the manifest (an index resolved to the platform), the
/// config and every layer fetched into the store, each verified against its
/// digest and size by BlobWriter before it is kept, then the image recorded.
/// Layers are not unpacked here (that happens at first use).
package struct ImagePuller: Sendable {
    package var store: ImageStore
    package var platform: Platform
    package var tlsVerify: Bool
    /// From --creds, else nil (the auth files are read instead).
    package var credentials: RegistryCredentials?
    package var authFile: String?
    package var environment: [String: String]
    /// Progress lines on stderr (only when stderr is a terminal).
    package var showProgress: Bool

    /// Manifests, indexes and configs are small; a larger one is refused.
    package static let smallBlobLimit = 4 << 20
    /// Layers fetched at once.
    static let concurrentLayers = 3

    package init(store: ImageStore, platform: Platform = .host, tlsVerify: Bool = true, credentials: RegistryCredentials? = nil,
                authFile: String? = nil, environment: [String: String], showProgress: Bool) {
        self.store = store
        self.platform = platform
        self.tlsVerify = tlsVerify
        self.credentials = credentials
        self.authFile = authFile
        self.environment = environment
        self.showProgress = showProgress
    }

    package struct Result: Sendable {
        /// The digest the reference resolved to (an index's when it was one): what to pin.
        package var resolvedDigest: Digest
        package var record: ImageRecord
    }

    package func pull(_ reference: ImageReference) async throws -> Result {
        try store.prepare()
        let credentials = try self.credentials
            ?? AuthFile.lookup(registry: reference.registry, repository: reference.repository, explicit: authFile, environment: environment)
        let http = RegistryConnection.makeClient(tlsVerify: tlsVerify)
        do {
            let result = try await pull(reference, http: http, credentials: credentials)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown() // (the pull's own error is the one to report)
            throw error
        }
    }

    func pull(_ reference: ImageReference, http: HTTPClient, credentials: RegistryCredentials?) async throws -> Result {
        let session = try await RegistryConnection.open(http: http, registry: reference.registry, apiHost: reference.apiHost,
                                                        repository: reference.repository, credentials: credentials, tlsVerify: tlsVerify)
        let fetcher = BlobFetcher(session: session, store: store, repository: reference.repository)
        var top = try await fetcher.manifest(reference.manifestReference, pinned: reference.digest, what: reference.description)
        let resolved = top.digest
        var index: ManifestBytes?
        if MediaType.isIndex(top.mediaType) {
            let list = try SpecDecoder.decodeJSON(ImageIndex.self, from: top.bytes, what: "the index of \(reference)")
            guard let entry = list.manifest(for: platform) else {
                let have = list.manifests.compactMap { $0.platform?.description }
                throw NookError("\(reference) has no image for \(platform) (it has: \(have.isEmpty ? "none named" : have.joined(separator: ", ")))",
                                hint: "choose one with --platform OS/ARCH[/VARIANT]")
            }
            index = top
            top = try await fetcher.manifest(entry.digest.description, pinned: entry.digest, what: "\(reference) for \(platform)")
            guard MediaType.isManifest(top.mediaType) else {
                throw NookError("the index of \(reference) points at another index for \(platform); Nook reads one level",
                                hint: "pull the inner index by its digest")
            }
        }
        let manifest = try SpecDecoder.decodeJSON(ImageManifest.self, from: top.bytes, what: "the manifest of \(reference)")
        for layer in manifest.layers where MediaType.layerCompression(layer.mediaType) == nil {
            throw NookError("\(reference) has a layer of type '\(PrintableText.escaped(layer.mediaType))', which Nook cannot unpack",
                            hint: "Nook reads tar layers, uncompressed, gzip or zstd")
        }

        // The config is read and checked first, but kept only with the layers; the
        // manifests last, so a manifest in the store has all it names.
        let configBytes = try await fetcher.smallBlob(manifest.config, what: "config")
        let config = try SpecDecoder.decodeJSON(ImageConfiguration.self, from: configBytes, what: "the config \(manifest.config.digest)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw NookError("\(reference): its config lists \(config.rootfs.diffIDs.count) layers, its manifest \(manifest.layers.count)",
                            hint: "the image is malformed; rebuild or re-push it")
        }
        let progress = PullProgress(enabled: showProgress, layers: manifest.layers)
        try await fetcher.layers(manifest.layers, concurrently: Self.concurrentLayers, progress: progress)
        await progress.finish()
        try await fetcher.keep(configBytes, as: manifest.config.digest, what: "config")
        try await fetcher.keep(top)
        if let index { try await fetcher.keep(index) }

        let size = Int64(top.bytes.count) + manifest.config.size + Set(manifest.layers).reduce(0) { $0 + $1.size }
        // A pull by digest records that name; a pull by tag the tag (podman's names).
        let name = reference.digest != nil ? ImageReference(registry: reference.registry, repository: reference.repository,
                                                            tag: nil, digest: reference.digest).description : reference.description
        // The index's digest too: it is the pin `nook pull` prints.
        let record = ImageRecord(manifest: top.digest, config: manifest.config.digest, names: [name],
                                 diffIDs: config.rootfs.diffIDs, size: size, digests: index.map { [$0.digest] })
        try ImageRecords(store: store).add(record)
        return Result(resolvedDigest: resolved, record: record)
    }
}

/// Runs an async pull from synchronous code (the CLI's commands are synchronous).
package func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Written once by the task, read after the semaphore: no overlap.
final class ResultBox<T>: @unchecked Sendable {
    var result: Swift.Result<T, Error>?
}
