import Crypto
import NookCore

/// A content address, "sha256:" and 64 lower-case hex digits: the only
/// algorithm Nook accepts (the OCI image spec's registered one, and the one
/// every registry serves). Validated when made, so a digest is always safe
/// to use as a file name in the store.
package struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The 64 hex digits.
    package let hex: String

    /// Only the digits 0-9 and a-f: a digest's, and an image ID's (or the start of one).
    package static func isLowerHex(_ text: some StringProtocol) -> Bool {
        text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    package init(_ text: String) throws {
        guard text.hasPrefix("sha256:") else {
            throw NookError("invalid digest '\(PrintableText.escaped(text))': Nook knows only sha256:<64 hex digits>", kind: .invalidInput)
        }
        let hex = String(text.dropFirst("sha256:".count))
        guard hex.utf8.count == 64, Self.isLowerHex(hex) else {
            throw NookError("invalid digest '\(PrintableText.escaped(text))': expected sha256: and 64 lower-case hex digits", kind: .invalidInput)
        }
        self.hex = hex
    }

    /// The digest of these bytes.
    package static func of<Bytes: Sequence>(_ bytes: Bytes) -> Digest where Bytes.Element == UInt8 {
        Digest(verifiedHex: Array(bytes).withUnsafeBytes { SHA256.hash(data: $0) }.hexString)
    }

    init(verifiedHex: String) { hex = verifiedHex }

    package var description: String { "sha256:" + hex }
    /// The first 12 hex digits, as `podman images` shows an image ID.
    package var short: String { String(hex.prefix(12)) }

    package static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }

    package init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// SHA-256 over a stream of chunks (a layer being downloaded or read).
package struct DigestStream: Sendable {
    private var hasher = SHA256()
    package private(set) var count: Int64 = 0

    package init() {}

    package mutating func update(_ chunk: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: chunk)
        count += Int64(chunk.count)
    }

    package mutating func update(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { update($0) }
    }

    package func finish() -> Digest { Digest(verifiedHex: hasher.finalize().hexString) }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
