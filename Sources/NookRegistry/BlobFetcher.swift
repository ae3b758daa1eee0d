#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import Glibc
import NIOCore
import NookCore
import NookImages

/// A manifest or index as fetched: its bytes, digest and media type.
struct ManifestBytes: Sendable {
    var bytes: [UInt8]
    var digest: Digest
    var mediaType: String?
}

/// Fetches manifests and blobs of one repository into the store. Every blob
/// goes through BlobWriter: hashed as it is written, kept only with the
/// digest and size its descriptor says. Its per-blob lock is taken on a
/// thread of its own, never on a task's: a pull waiting for another pull's
/// lock must not stall the tasks that download what it waits for.
struct BlobFetcher: Sendable {
    let session: RegistrySession
    let store: ImageStore
    let repository: String

    static let schema1 = ["application/vnd.docker.distribution.manifest.v1+json", "application/vnd.docker.distribution.manifest.v1+prettyjws"]

    /// GET /v2/REPO/manifests/REF, bounded; checked against the pin or the registry's Docker-Content-Digest.
    func manifest(_ ref: String, pinned: Digest?, what: String) async throws -> ManifestBytes {
        let response = try await session.get("/v2/\(repository)/manifests/\(ref)",
                                             headers: [("Accept", (MediaType.acceptedManifests + Self.schema1).joined(separator: ", "))])
        let body = try await RegistrySession.smallBody(response, limit: ImagePuller.smallBlobLimit, what: "the manifest of \(what)")
        guard response.status == .ok else {
            let detail = RegistrySession.registryErrors(body).map { ": " + $0 } ?? ""
            if response.status == .notFound {
                throw NookError("\(what): not found in \(session.base) (404\(detail))", hint: "check the name and tag (or digest)")
            }
            throw NookError("\(what): the registry answered \(response.status.code) \(response.status.reasonPhrase)\(detail)", hint: "try again later")
        }
        let actual = Digest.of(body)
        if let pinned, pinned != actual {
            throw NookError("manifest digest mismatch for \(what): expected \(pinned), got \(actual); nothing was stored",
                            hint: "the registry served other content than the pin names; check the digest",
                            kind: .digestMismatch(expected: "\(pinned)", actual: "\(actual)"))
        }
        if pinned == nil, let header = response.headers.first(name: "Docker-Content-Digest"), header.hasPrefix("sha256:"),
           let said = try? Digest(header), said != actual { // (a header that is no sha256 digest: the content check above is what counts)
            throw NookError("manifest digest mismatch for \(what): expected \(said) (the registry's Docker-Content-Digest), got \(actual); nothing was stored",
                            hint: "the manifest was corrupted in transit or in the registry",
                            kind: .digestMismatch(expected: "\(said)", actual: "\(actual)"))
        }
        struct Probe: Decodable { var schemaVersion: Int?; var mediaType: String? }
        let probe = try? JSONDecoder().decode(Probe.self, from: Data(body)) // (not JSON: the manifest decoder below says what is wrong)
        let contentType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map { String($0.filter { $0 != " " }) }
        if probe?.schemaVersion == 1 || Self.schema1.contains(contentType ?? "") {
            throw NookError("\(what) is a Docker schema 1 manifest, which Nook does not read (deprecated since 2017)",
                            hint: "push the image again with current tools (podman, skopeo, docker), which write schema 2 or OCI")
        }
        let mediaType = probe?.mediaType ?? contentType
        guard MediaType.isIndex(mediaType) || MediaType.isManifest(mediaType) else {
            throw NookError("\(what) has media type '\(PrintableText.escaped(mediaType ?? "none"))', not an OCI or Docker schema 2 manifest or index",
                            hint: "is this an image? Nook reads OCI and Docker schema 2")
        }
        return ManifestBytes(bytes: body, digest: actual, mediaType: mediaType)
    }

    /// Stores a fetched manifest (its digest was already checked).
    func keep(_ manifest: ManifestBytes) async throws {
        try await keep(manifest.bytes, as: manifest.digest, what: "manifest")
    }

    /// A config, read whole (bounded) and verified, from the store if it is
    /// there, else from the registry; kept in the store by `keep` once the layers are in.
    func smallBlob(_ descriptor: Descriptor, what: String) async throws -> [UInt8] {
        guard descriptor.size <= ImagePuller.smallBlobLimit else {
            throw NookError("the \(what) \(descriptor.digest) is \(descriptor.size) bytes, over the \(ImagePuller.smallBlobLimit) a \(what) may have",
                            hint: "the image is malformed")
        }
        let store = self.store
        if store.hasBlob(descriptor.digest) {
            return try await onOwnThread { try store.readBlob(descriptor.digest, limit: ImagePuller.smallBlobLimit, what: what) }
        }
        let response = try await session.get("/v2/\(repository)/blobs/\(descriptor.digest)")
        let body = try await RegistrySession.smallBody(response, limit: ImagePuller.smallBlobLimit, what: "the \(what) \(descriptor.digest)")
        guard response.status == .ok else {
            throw NookError("\(what) \(descriptor.digest): the registry answered \(response.status.code) \(response.status.reasonPhrase)\(RegistrySession.registryErrors(body).map { ": " + $0 } ?? "")",
                            hint: "try again later")
        }
        let actual = Digest.of(body)
        guard actual == descriptor.digest, Int64(body.count) == descriptor.size else {
            throw NookError("\(what) digest mismatch: expected \(descriptor.digest) (\(descriptor.size) bytes), got \(actual) (\(body.count) bytes); nothing was stored",
                            hint: "the registry's copy is corrupt or was changed",
                            kind: actual == descriptor.digest ? .sizeMismatch(expected: descriptor.size, actual: Int64(body.count))
                                : .digestMismatch(expected: "\(descriptor.digest)", actual: "\(actual)"))
        }
        return body
    }

    /// Stores a small blob already verified in memory.
    func keep(_ bytes: [UInt8], as digest: Digest, what: String) async throws {
        let store = self.store
        try await onOwnThread { try store.putBlob(bytes, expected: digest, what: what) }
    }

    /// The layers, a few at once; each one once even when listed twice.
    func layers(_ layers: [Descriptor], concurrently width: Int, progress: PullProgress) async throws {
        var pending = Array(Set(layers.map(\.digest))).sorted().compactMap { digest in layers.first { $0.digest == digest } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(width, pending.count) {
                let next = pending.removeFirst()
                group.addTask { try await self.blob(next, what: "layer", progress: progress) }
            }
            while try await group.next() != nil {
                guard !pending.isEmpty else { continue }
                let next = pending.removeFirst()
                group.addTask { try await self.blob(next, what: "layer", progress: progress) }
            }
        }
    }

    /// One blob into the store: resumed from its partial file with a Range
    /// request when an earlier pull was cut off, else fetched whole.
    func blob(_ descriptor: Descriptor, what: String, progress: PullProgress?) async throws {
        let store = self.store
        let opened = try await onOwnThread {
            try BlobWriter(store: store, expected: descriptor.digest, expectedSize: descriptor.size, what: what).map(WriterBox.init)
        }
        guard let writer = opened?.writer else {
            await progress?.done(descriptor.digest, bytes: descriptor.size)
            return
        }
        do {
            var offset = try writer.resume()
            if offset == descriptor.size { offset = 0; try writer.restart() }  // all there but never committed: check it afresh
            let response = try await session.get("/v2/\(repository)/blobs/\(descriptor.digest)",
                                                 headers: offset > 0 ? [("Range", "bytes=\(offset)-")] : [])
            switch response.status.code {
            case 206 where offset > 0 && response.headers.first(name: "Content-Range")?.hasPrefix("bytes \(offset)-") == true:
                break
            case 200:
                if offset > 0 { try writer.restart() }  // the Range was ignored: start over
            default:
                let body = try await RegistrySession.smallBody(response)
                let detail = RegistrySession.registryErrors(body).map { ": " + $0 } ?? ""
                writer.abandon()
                throw NookError("\(what) \(descriptor.digest): the registry answered \(response.status.code) \(response.status.reasonPhrase)\(detail)",
                                hint: response.status.code == 404 ? "the registry lacks a blob its manifest names" : "try again later")
            }
            await progress?.started(descriptor.digest, at: writer.written)
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { try writer.write($0) }
                await progress?.advanced(descriptor.digest, by: Int64(chunk.readableBytes))
            }
            try writer.commit()
            await progress?.done(descriptor.digest, bytes: descriptor.size)
        } catch let error as NookError {
            switch error.kind {
            case .digestMismatch, .sizeMismatch: writer.abandon()  // wrong content: nothing of it is kept, not even for a resume
            default: break
            }
            throw error
        }
        // Any other error (a cut connection) keeps the partial file for the next pull to resume.
    }
}

/// A BlobWriter handed from the thread that took its lock to the task that writes it; one owner at a time.
final class WriterBox: @unchecked Sendable {
    let writer: BlobWriter
    init(_ writer: BlobWriter) { self.writer = writer }
}

/// Runs blocking work (a flock wait, a file read) on a thread of its own,
/// so that no task of the cooperative pool (two threads here) is held.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let work = OwnThreadWork { continuation.resume(with: Swift.Result { try body() }) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(work).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            let work = Unmanaged<OwnThreadWork>.fromOpaque(raw!).takeRetainedValue()
            work.run()
            return nil
        }, context)
        if started == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<OwnThreadWork>.fromOpaque(context).release()
            continuation.resume(throwing: NookError.sys("start a thread", errno: started))
        }
    }
}

final class OwnThreadWork: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
