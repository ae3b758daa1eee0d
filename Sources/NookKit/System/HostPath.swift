import CShims
import Glibc
import SystemPackage

/// Small, honest helpers for host paths (no Foundation on the start path).
public enum HostPath {
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(cString: buf)
    }

    /// Makes `path` absolute against the current directory, without following symlinks.
    public static func absolute(_ path: String) throws -> String {
        let full = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        return FilePath(full).lexicallyNormalized().string
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names of the directories in `path` (none if it cannot be read).
    public static func subdirectories(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." && Int32(entry.pointee.d_type) == DT_DIR { names.append(name) }
        }
        return names.sorted()
    }

    /// The text of `path` inside `root`, resolved with RESOLVE_IN_ROOT: a
    /// symlink in a rootfs (`/etc/passwd -> /etc/passwd`, or `../../..`) stays
    /// inside it and never reads the host's file. nil when it cannot be opened;
    /// at most `limit` bytes.
    public static func readInRoot(_ root: String, _ path: String, limit: Int) -> String? {
        let dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        defer { close(dir) }
        let fd = nook_openat2_in_root(dir, path, O_RDONLY, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
            if data.count > limit { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    public static func readBytes(_ path: String) throws -> [UInt8] {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            var result: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                if n == 0 { break }
                result.append(contentsOf: chunk[0..<n])
            }
            return result
        } catch let errno as Errno {
            throw NookError.sys("open '\(path)'", errno: errno.rawValue)
        }
    }

    /// Writes a whole file at once (id maps and cgroup files must be one write).
    public static func writeText(_ path: String, _ text: String, create: Bool = false, mode: mode_t = 0o644) throws {
        do {
            let options: FileDescriptor.OpenOptions = create ? [.closeOnExec, .create, .truncate] : [.closeOnExec]
            let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: options,
                                             permissions: create ? FilePermissions(rawValue: mode) : nil)
            defer { try? fd.close() }
            _ = try fd.writeAll(Array(text.utf8))
        } catch let errno as Errno {
            throw NookError.sys("write '\(path)'", errno: errno.rawValue)
        }
    }
}
