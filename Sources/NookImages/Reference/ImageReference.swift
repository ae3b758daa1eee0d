import NookCore

/// An image name as podman and docker take it: `[REGISTRY[:PORT]/]PATH[:TAG][@sha256:DIGEST]`.
/// `busybox` means `docker.io/library/busybox:latest`, as it does for them.
package struct ImageReference: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `docker.io`, `quay.io`, `127.0.0.1:5000`, `localhost`.
    package var registry: String
    /// `library/busybox`: lower-case components separated by `/`.
    package var repository: String
    /// nil with a digest and no tag.
    package var tag: String?
    /// A pin: the manifest (or index) must have this digest.
    package var digest: Digest?

    package static let defaultRegistry = "docker.io"
    package static let defaultTag = "latest"
    /// The distribution spec bounds a name at 255 characters.
    static let maximumLength = 255

    package init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises; the error names what is wrong and shows the form.
    package init(parsing text: String) throws {
        let form = "REGISTRY/NAME:TAG or NAME@sha256:DIGEST, e.g. docker.io/library/busybox:latest"
        func bad(_ why: String) -> NookError {
            NookError("invalid image reference '\(PrintableText.escaped(text))': \(why)", hint: "write it as \(form)", kind: .invalidInput)
        }
        guard !text.isEmpty else { throw bad("it is empty") }
        // docker's and podman's rule, and `sha256:` too: such a name would hide the image ID it looks like.
        if text.hasPrefix("sha256:") || (text.utf8.count == 64 && Digest.isLowerHex(text)) {
            throw bad("that is the form of an image ID or digest, not of a name")
        }
        guard text.utf8.count <= Self.maximumLength + 72 else { throw bad("it is longer than \(Self.maximumLength) characters") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(String(rest[rest.index(after: at)...])) } catch { throw bad("the part after @ is not sha256:<64 hex digits>") }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard let t = tag, Self.isValidTag(t) else {
                throw bad("the tag '\(PrintableText.escaped(tag ?? ""))' must be 1 to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'")
            }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.defaultRegistry
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
            registry = first
            components.removeFirst()
            guard Self.isValidRegistry(registry) else { throw bad("'\(PrintableText.escaped(registry))' is not a registry host[:port]") }
        }
        guard !components.isEmpty, components.allSatisfy(Self.isValidComponent) else {
            throw bad("each part of the name must be lower-case letters and digits, separated by '.', '_', '__' or '-'")
        }
        if registry == Self.defaultRegistry && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard repository.utf8.count <= Self.maximumLength else { throw bad("the name is longer than \(Self.maximumLength) characters") }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = Self.defaultRegistry }
        self.init(registry: registry, repository: repository, tag: tag ?? (digest == nil ? Self.defaultTag : nil), digest: digest)
    }

    /// `docker.io/library/busybox:latest`, `...@sha256:...`: what `nook images` shows and the store records.
    package var description: String {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// The name as the store records it: a pin's tag dropped (`NAME:TAG@DIGEST` is `NAME@DIGEST`; the tag of a pin is no name).
    package var recordedName: String {
        digest == nil ? description : ImageReference(registry: registry, repository: repository, tag: nil, digest: digest).description
    }

    /// The name without tag or digest: `docker.io/library/busybox`.
    package var name: String { registry + "/" + repository }

    /// Where the registry's API is: Docker Hub's API host is not docker.io.
    package var apiHost: String { registry == Self.defaultRegistry ? "registry-1.docker.io" : registry }

    /// What to ask the registry for: the digest if pinned, else the tag.
    package var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return tag.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` (the distribution spec's path component).
    static func isValidComponent(_ part: String) -> Bool {
        let bytes = Array(part.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if isLowerAlnum(b) { i += 1; continue }
            if b == UInt8(ascii: ".") { guard isLowerAlnum(bytes[i + 1]) else { return false }; i += 1; continue }
            if b == UInt8(ascii: "_") {
                if bytes[i + 1] == UInt8(ascii: "_") { i += 1 }
                guard isLowerAlnum(bytes[i + 1]) else { return false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "-") { i += 1; continue }
            return false
        }
        return true
    }

    static func isValidRegistry(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 255 else { return false }
        let parts = host.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { return false }
        if parts.count == 2 { guard let port = Int(parts[1]), (1...65535).contains(port) else { return false } }
        return parts[0].utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isLowerAlnum(_ b: UInt8) -> Bool { (48...57).contains(b) || (97...122).contains(b) }
    static func isAlnum(_ b: UInt8) -> Bool { isLowerAlnum(b) || (65...90).contains(b) }
}
