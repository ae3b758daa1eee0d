import Glibc
import NookCore
import NookKernel

/// An image's files as the container will see them, read straight from its
/// unpacked layers (`layers/HEX/`, overlayfs's format) without mounting
/// anything: a name is looked up from the top layer down, a whiteout (a
/// character device 0/0) hides it and everything below, an opaque directory
/// (xattr user.overlay.opaque = "y") hides the lower layers' entries in it.
/// Symlinks are followed inside the image (absolute ones from the image's
/// root, `..` stops at the root), never on the host: what `nook audit IMAGE`
/// reads is the image's own file, as RESOLVE_IN_ROOT does for a rootfs.
package struct LayeredTree: Sendable {
    /// Layer directories, top first.
    let layers: [String]
    static let maxSymlinks = 40  // the kernel's own limit on links followed in one lookup

    /// `bottomFirst`: the layers' directories in the image's order (its diff IDs').
    package init(bottomFirst: [String]) { layers = bottomFirst.reversed() }

    /// The bytes of the file at `path` in the image, read with `kind`'s limit;
    /// nil when the image has no such file.
    package func readFile(_ path: String, as kind: FileKind) throws -> [UInt8]? {
        guard let hostPath = try resolve(path) else { return nil }
        return try HostPath.readBytes(hostPath, as: kind, label: "\(path) in the image", noFollow: true)
    }

    /// One directory of the merged view: its path under each layer, and the
    /// layers (indices into `layers`, top first) whose entries it shows.
    struct Directory {
        var path: String
        var layers: [Int]
    }

    /// The layer file that `path` names in the merged view (the last
    /// component not followed if it is a directory); nil when there is none.
    func resolve(_ path: String) throws -> String? {
        let root = Directory(path: "", layers: rootLayers())
        var directories = [root]
        var pending = Array(path.split(separator: "/").map(String.init).reversed())
        var links = 0
        while let name = pending.popLast() {
            if name.isEmpty || name == "." { continue }
            if name == ".." {
                if directories.count > 1 { directories.removeLast() }
                continue
            }
            let parent = directories[directories.count - 1]
            let relative = parent.path + "/" + name
            let found = try lookUp(relative, in: parent.layers)
            switch found {
            case .absent:
                return nil
            case .directory(let visible):
                directories.append(Directory(path: relative, layers: visible))
            case .file(let hostPath, let isLink):
                if isLink {
                    links += 1
                    guard links <= Self.maxSymlinks else {
                        throw NookError("\(path) in the image: more than \(Self.maxSymlinks) symbolic links on the way", hint: "the image has a symlink loop")
                    }
                    let target = try Self.readLink(hostPath)
                    if target.hasPrefix("/") { directories = [root] }
                    pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                } else if pending.contains(where: { !$0.isEmpty && $0 != "." }) {
                    return nil  // a file where a directory should be: ENOTDIR, nothing there
                } else {
                    return hostPath
                }
            }
        }
        let last = directories[directories.count - 1]
        return last.layers.first.map { layers[$0] + last.path }
    }

    enum Found {
        case absent
        /// A directory in the merged view, with the layers that show entries in it.
        case directory([Int])
        case file(String, isLink: Bool)
    }

    /// `relative` (under a directory shown by `candidates`), looked up top down.
    func lookUp(_ relative: String, in candidates: [Int]) throws -> Found {
        var directoryLayers: [Int] = []
        for index in candidates {
            let hostPath = layers[index] + relative
            var st = stat()
            guard lstat(hostPath, &st) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { continue }
                throw NookError.sys("'\(hostPath)' (a file of the image's layer)", path: hostPath, errno: errno)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFCHR && st.st_rdev == 0 { break }  // a whiteout: nothing below counts
            if type == S_IFDIR {
                directoryLayers.append(index)
                if Self.isOpaque(hostPath) { break }
                continue
            }
            // A file: visible only if no upper layer has a directory here.
            if directoryLayers.isEmpty { return .file(hostPath, isLink: type == S_IFLNK) }
            break
        }
        return directoryLayers.isEmpty ? .absent : .directory(directoryLayers)
    }

    /// The root's layers: all of them down to the first whose root is opaque.
    func rootLayers() -> [Int] {
        var visible: [Int] = []
        for index in layers.indices {
            visible.append(index)
            if Self.isOpaque(layers[index] + "/") { break }
        }
        return visible
    }

    static func isOpaque(_ hostPath: String) -> Bool {
        var value = [UInt8](repeating: 0, count: 2)
        let n = Syscall.lgetxattr(hostPath, "user.overlay.opaque", &value)
        return n == 1 && value[0] == UInt8(ascii: "y")
    }

    static func readLink(_ hostPath: String) throws -> String {
        var buffer = [Int8](repeating: 0, count: Int(PATH_MAX))
        let n = readlink(hostPath, &buffer, buffer.count)
        guard n >= 0 else { throw NookError.sys("readlink '\(hostPath)'", path: hostPath, errno: errno) }
        guard n < buffer.count else { throw NookError("'\(hostPath)': a symbolic link longer than \(PATH_MAX) bytes") }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
