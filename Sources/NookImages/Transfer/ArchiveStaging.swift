import CArchive
import Glibc
import NookCore
import NookKernel

/// An image archive (oci-archive, docker-archive: a tar, maybe gzip'd)
/// unpacked into a private directory under the store's tmp/, to be read
/// as a directory: only regular files and the directories on their way are
/// made (names inside the archive, never outside it); a link between two
/// of its files (docker save's repeated layers) becomes a hard link there.
/// Nothing in it is trusted: the importer verifies every blob it takes.
struct ArchiveStaging {
    let directory: String

    /// Unpacks `archive` into a new directory under `store`'s tmp/.
    static func unpack(_ archive: String, store: ImageStore) throws -> ArchiveStaging {
        let directory = store.tmpDirectory + "/import-" + LayerStore.randomSuffix()
        guard mkdir(directory, 0o700) == 0 else { throw NookError.sys("mkdir '\(directory)'", path: directory, errno: errno) }
        let staging = ArchiveStaging(directory: directory)
        do { try staging.fill(from: archive) } catch {
            staging.remove()
            throw error
        }
        return staging
    }

    func remove() {
        try? TreeRemover.remove(directory)  // our own temporary files; a leftover is only space in tmp/
    }

    private func fill(from archive: String) throws {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("'\(archive)'", path: archive, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw NookError("'\(archive)' is not a regular file", hint: "give an OCI layout directory, an oci-archive or a docker-archive tar")
        }
        guard let reader = archive_read_new() else { throw NookError("libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_gzip(reader)
        archive_read_support_filter_zstd(reader)
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        guard archive_read_open_fd(reader, fd, 1 << 16) == ARCHIVE_OK else {
            throw NookError("'\(archive)' is not a tar archive: \(LayerStream.message(reader))",
                            hint: "give an OCI layout directory, an oci-archive or a docker-archive tar")
        }
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw NookError.sys("open '\(directory)'", path: directory, errno: errno) }
        defer { close(root) }
        var links: [(LayerEntryPath, LayerEntryPath)] = []
        var entry: OpaquePointer?
        while true {
            let r = archive_read_next_header(reader, &entry)
            if r == ARCHIVE_EOF { break }
            guard r >= ARCHIVE_WARN, let entry else {
                throw NookError("'\(archive)': \(LayerStream.message(reader))", hint: "the archive is damaged or not a tar")
            }
            let header = TarEntry(entry)
            guard let name = header.name else { continue }
            let path = try LayerEntryPath(name)
            if path.isRoot { continue }
            if let target = header.hardlink {
                links.append((path, try LayerEntryPath(target)))
            } else if header.mode & S_IFMT == S_IFLNK, let bytes = header.symlink {
                let text = String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let base = text.hasPrefix("/") ? "" : path.components.dropLast().joined(separator: "/") + "/"
                links.append((path, try LayerEntryPath(base + text)))
            } else if header.mode & S_IFMT == S_IFREG {
                try copy(reader, to: path, root: root, label: "'\(archive)': '\(path.relative)'")
            }
        }
        for (path, target) in links {
            let from = Syscall.openInRoot(root, target.parent, flags: O_RDONLY | O_DIRECTORY)
            guard from >= 0 else { throw NookError.sys("'\(archive)': '\(path.relative)' links to '\(target.relative)'", errno: errno) }
            defer { close(from) }
            let parent = try makeParent(path, root: root)
            defer { close(parent) }
            guard linkat(from, target.name, parent, path.name, 0) == 0 || errno == EEXIST else {
                throw NookError.sys("'\(archive)': link '\(path.relative)' to '\(target.relative)'", errno: errno)
            }
        }
    }

    private func makeParent(_ path: LayerEntryPath, root: Int32) throws -> Int32 {
        var current = dup(root)
        for name in path.components.dropLast() {
            if mkdirat(current, name, 0o700) != 0 && errno != EEXIST { close(current); throw NookError.sys("mkdir '\(name)'", path: name, errno: errno) }
            let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else { throw NookError.sys("open '\(name)'", path: name, errno: errno) }
            current = next
        }
        return current
    }

    private func copy(_ reader: OpaquePointer, to path: LayerEntryPath, root: Int32, label: String) throws {
        let parent = try makeParent(path, root: root)
        defer { close(parent) }
        unlinkat(parent, path.name, 0)
        let fd = openat(parent, path.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NookError.sys("\(label): create", errno: errno) }
        defer { close(fd) }
        try ArchiveEntryData.write(reader, to: fd, label: label)
    }
}
