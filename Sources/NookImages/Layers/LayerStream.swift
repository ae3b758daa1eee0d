import CArchive
import Glibc
import NookCore

/// A layer blob's uncompressed bytes, as the tar reader asks for them,
/// hashed on the way: the diff ID is the sha256 of exactly this stream.
/// The compressed blob is decoded by libarchive's gzip or zstd filter (a
/// "raw" reader of its own); a plain tar is read from the file as is.
final class LayerStream {
    private let fd: Int32
    private var decoder: OpaquePointer?
    private let buffer: UnsafeMutableRawPointer
    static let chunk = 1 << 16
    private(set) var digest = DigestStream()
    /// A decompression error, kept for the message (the tar reader sees only "read failed").
    private(set) var failure: String?

    init(fd: Int32, compression: LayerCompression) throws {
        self.fd = fd
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.chunk, alignment: 16)
        guard compression != .none else { return }
        guard let a = archive_read_new() else { throw NookError("libarchive: out of memory") }
        decoder = a
        switch compression {
        case .gzip: archive_read_support_filter_gzip(a)
        case .zstd: archive_read_support_filter_zstd(a)
        case .none: break
        }
        archive_read_support_format_raw(a)
        var entry: OpaquePointer?
        guard archive_read_open_fd(a, fd, Self.chunk) == ARCHIVE_OK, archive_read_next_header(a, &entry) == ARCHIVE_OK else {
            throw NookError("the layer is not \(compression.rawValue)-compressed data: \(Self.message(a))",
                            hint: "the blob does not match its media type; the image is broken")
        }
    }

    deinit {
        if let decoder { archive_read_free(decoder) }
        buffer.deallocate()
    }

    /// The next uncompressed bytes (their count, 0 at the end, -1 on error)
    /// in `pointer`; hashed before they are handed on.
    func next(_ pointer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        let n: Int
        if let decoder {
            n = archive_read_data(decoder, buffer, Self.chunk)
            if n < 0 { failure = Self.message(decoder); return -1 }
        } else {
            var r: Int
            repeat { r = read(fd, buffer, Self.chunk) } while r < 0 && errno == EINTR
            if r < 0 { failure = String(cString: strerror(errno)); return -1 }
            n = r
        }
        digest.update(UnsafeRawBufferPointer(start: buffer, count: n))
        pointer.pointee = UnsafeRawPointer(buffer)
        return n
    }

    /// Reads what the tar reader left (the end-of-archive blocks and any
    /// padding) into the digest: the diff ID covers the whole stream.
    func drain() throws {
        var p: UnsafeRawPointer?
        while true {
            let n = next(&p)
            if n == 0 { return }
            if n < 0 { throw NookError("reading the layer: \(failure ?? "read error")", hint: "the blob is damaged; pull or import the image again") }
        }
    }

    static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
    }
}
