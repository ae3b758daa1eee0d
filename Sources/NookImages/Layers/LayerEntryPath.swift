import NookCore

/// A tar entry's name (or a hard link's target) made relative to the layer,
/// as docker does (filepath.Clean, then joined to the layer): split on the
/// byte '/', "." and empty parts dropped, ".." taking back one component; an
/// absolute name lands inside the layer, its ".." stopping at the top as it
/// does at "/". A relative name whose ".." climbs above the layer is
/// refused: no entry may land outside it.
package struct LayerEntryPath: Equatable, Sendable {
    /// The components, none of them "", "." or "..", none holding a '/'.
    package let components: [String]

    package init(_ name: String) throws {
        var parts: [String] = []
        let absolute = name.utf8.first == UInt8(ascii: "/")
        for raw in name.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            let part = String(decoding: raw, as: UTF8.self)
            if part == "." { continue }
            if part == ".." {
                if parts.isEmpty && absolute { continue }
                guard !parts.isEmpty else {
                    throw NookError("the layer has an entry '\(PrintableText.escaped(name, limit: PrintableText.nameLimit))' that climbs out of it with '..'; the layer was refused, nothing of it was kept",
                                    hint: "this image is broken or hostile: do not use it")
                }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        components = parts
    }

    /// "a/b/c" (the layer's root: "").
    package var relative: String { components.joined(separator: "/") }
    /// "/a/b": what openat2(RESOLVE_IN_ROOT) resolves the parent from.
    package var parent: String { "/" + components.dropLast().joined(separator: "/") }
    package var name: String { components.last ?? "." }
    package var isRoot: Bool { components.isEmpty }
}
