/// An absolute path inside the rootfs, split here so the container's child
/// never tokenises a string: it opens each prefix from the root
/// (RESOLVE_IN_ROOT) and creates a missing one by its name in its parent.
/// Mirrors `struct nook_root_path` in CShims.h.
package struct RootPath: Sendable, Equatable {
    package var path: String
    /// "/a", "/a/b" for "/a/b": the path up to the end of each component, as written.
    package var prefixes: [String]
    /// "a", "b": the last component of each prefix.
    package var names: [String]

    /// Split on the byte '/', as the kernel does: a Swift Character would
    /// take "/" and a combining mark after it as one, leaving a slash inside a
    /// name that the child then creates relative to its parent (outside
    /// RESOLVE_IN_ROOT's protection).
    package init(_ path: String) {
        self.path = path
        prefixes = []
        names = []
        let bytes = Array(path.utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] != UInt8(ascii: "/") else { index += 1; continue }
            let start = index
            while index < bytes.count && bytes[index] != UInt8(ascii: "/") { index += 1 }
            prefixes.append(String(decoding: bytes[..<index], as: UTF8.self))
            names.append(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }

    /// The parent of the last component (a symlink is made there): its prefixes.
    package var parentCount: Int { max(prefixes.count - 1, 0) }
}
