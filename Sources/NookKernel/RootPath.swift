/// An absolute path inside the rootfs, split here so the container's child
/// never tokenises a string: it opens each prefix from the root
/// (RESOLVE_IN_ROOT) and creates a missing one by its name in its parent.
/// Mirrors `struct nook_root_path` in CShims.h.
public struct RootPath: Sendable, Equatable {
    public var path: String
    /// "/a", "/a/b" for "/a/b": the path up to the end of each component, as written.
    public var prefixes: [String]
    /// "a", "b": the last component of each prefix.
    public var names: [String]

    public init(_ path: String) {
        self.path = path
        prefixes = []
        names = []
        var index = path.startIndex
        while index < path.endIndex {
            guard path[index] != "/" else { index = path.index(after: index); continue }
            let start = index
            while index < path.endIndex && path[index] != "/" { index = path.index(after: index) }
            prefixes.append(String(path[..<index]))
            names.append(String(path[start..<index]))
        }
    }

    /// The parent of the last component (a symlink is made there): its prefixes.
    public var parentCount: Int { max(prefixes.count - 1, 0) }
}
