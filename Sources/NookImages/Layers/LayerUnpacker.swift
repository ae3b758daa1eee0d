import CArchive
import Glibc
import NookCore

/// What an unpack could not make as the image says, for one note each.
package struct UnpackReport: Sendable {
    package var skippedDevices = 0
    package var skippedExample = ""
    package var skippedAttributes = 0
    package var skippedAttributeExample = ""
}

/// Unpacks one layer blob into an empty directory: libarchive reads the tar
/// (ustar, GNU, pax) under gzip, zstd or no compression; every entry is
/// written by `LayerTreeWriter`, never by libarchive's disk writer, so each
/// path is resolved inside the layer and no link is followed. The
/// uncompressed stream must hash to the diff ID, else the layer is refused
/// (the caller removes the tree).
package struct LayerUnpacker {
    let source: Int32
    let compression: LayerCompression
    let diffID: Digest
    let keepOwnership: Bool

    package init(source: Int32, compression: LayerCompression, diffID: Digest, keepOwnership: Bool) {
        self.source = source
        self.compression = compression
        self.diffID = diffID
        self.keepOwnership = keepOwnership
    }

    package func unpack(into directory: String) throws -> UnpackReport {
        let stream = try LayerStream(fd: source, compression: compression)
        guard let reader = archive_read_new() else { throw NookError("libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        let context = Unmanaged.passUnretained(stream).toOpaque()
        let read: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int = { _, data, buffer in
            Unmanaged<LayerStream>.fromOpaque(data!).takeUnretainedValue().next(buffer!)
        }
        let what = "layer \(diffID)"
        guard archive_read_open(reader, context, nil, read, nil) == ARCHIVE_OK else {
            throw NookError("\(what) is not a tar archive: \(stream.failure ?? LayerStream.message(reader))",
                            hint: "the image is broken; pull or import it again")
        }
        let writer = try LayerTreeWriter(root: directory, keepOwnership: keepOwnership)
        var entry: OpaquePointer?
        while true {
            let r = archive_read_next_header(reader, &entry)
            if r == ARCHIVE_EOF { break }
            guard r >= ARCHIVE_WARN, let entry else {
                throw NookError("\(what): \(stream.failure ?? LayerStream.message(reader))",
                                hint: "the layer is damaged or not a tar archive; pull or import the image again")
            }
            try writer.write(TarEntry(entry), from: reader, label: what)
        }
        try stream.drain()
        let actual = stream.digest.finish()
        guard actual == diffID else {
            throw NookError("\(what): its uncompressed content hashes to \(actual), not to the diff ID the image config names; the layer was refused, nothing of it was kept",
                            hint: "the image is corrupt or was tampered with; remove it (nook rmi) and pull or import it again",
                            kind: .digestMismatch(expected: "\(diffID)", actual: "\(actual)"))
        }
        try writer.finish()
        return writer.report
    }
}

/// One tar entry's header, read out of libarchive.
struct TarEntry {
    let name: String?
    let rawName: String
    let mode: mode_t
    let uid: Int64
    let gid: Int64
    let hardlink: String?
    /// A symlink's target as its bytes (with the NUL): it is data, never resolved here.
    let symlink: [CChar]?
    let rdev: dev_t
    let mtime: timespec
    let atime: timespec?
    let size: Int64
    let xattrs: [(String, [UInt8])]

    init(_ entry: OpaquePointer) {
        let path = archive_entry_pathname(entry)
        rawName = path.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? ""
        name = path.flatMap { String(validatingCString: $0) }
        mode = archive_entry_mode(entry)
        uid = archive_entry_uid(entry)
        gid = archive_entry_gid(entry)
        hardlink = archive_entry_hardlink(entry).map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) }
        symlink = archive_entry_symlink(entry).map { Array(UnsafeBufferPointer(start: $0, count: strlen($0) + 1)) }
        rdev = archive_entry_rdev(entry)
        mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))
        atime = archive_entry_atime_is_set(entry) != 0 ? timespec(tv_sec: archive_entry_atime(entry), tv_nsec: archive_entry_atime_nsec(entry)) : nil
        size = archive_entry_size(entry)
        var attrs: [(String, [UInt8])] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var count = 0
            while archive_entry_xattr_next(entry, &name, &value, &count) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
                attrs.append((String(cString: name), bytes))
            }
        }
        xattrs = attrs
    }
}
