import NookCore

/// What points at a blob: its media type, digest and size (OCI image spec, descriptor.md).
package struct Descriptor: Codable, Sendable, Hashable {
    package var mediaType: String
    package var digest: Digest
    package var size: Int64
    package var urls: [String]?
    package var annotations: [String: String]?
    /// Only in an index: which platform the manifest is for.
    package var platform: Platform?

    package init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

/// An index entry's platform; `--platform os/arch[/variant]`.
package struct Platform: Codable, Sendable, Hashable, CustomStringConvertible {
    package var architecture: String
    package var os: String
    package var variant: String?
    package var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    package init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// The machine nook runs on: linux/amd64 here.
    package static var host: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64", variant: "v8")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }

    package var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

extension Platform {
    /// `--platform OS/ARCH[/VARIANT]` (linux/amd64, linux/arm64/v8).
    package init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { b in (48...57).contains(b) || (97...122).contains(b) || b == UInt8(ascii: "_") } }) else {
            throw NookError("invalid --platform '\(PrintableText.escaped(text))'", hint: "write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8", kind: .invalidInput)
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }
}
