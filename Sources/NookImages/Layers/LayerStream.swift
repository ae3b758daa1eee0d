import CArchive
import Glibc
import NookCore
import NookKernel

/// A compressed stream's bytes, decoded by libarchive's gzip, zstd or lz4
/// filter (a "raw" reader of its own), as a reader asks for them; a layer
/// blob's are hashed on the way: the diff ID is the sha256 of exactly this
/// stream. A plain tar layer is read from the file as is.
final class LayerStream {
    /// The decompression filters nook reads: a layer's, and lz4 (apt's package lists).
    enum Filter: String { case gzip, zstd, lz4 }

    private let fd: Int32
    private var decoder: OpaquePointer?
    private let buffer: UnsafeMutableRawPointer
    private let hashes: Bool
    static let chunk = 1 << 16
    private(set) var digest = DigestStream()
    /// A decompression error, kept for the message (the tar reader sees only "read failed").
    private(set) var failure: String?

    convenience init(fd: Int32, compression: LayerCompression) throws {
        let filter: Filter? = switch compression {
        case .none: nil
        case .gzip: .gzip
        case .zstd: .zstd
        }
        try self.init(fd: fd, filter: filter, hashes: true, what: "the layer", hint: "the blob does not match its media type; the image is broken")
    }

    /// `what` names the stream in errors, `hint` says what to do about them.
    init(fd: Int32, filter: Filter?, hashes: Bool, what: String, hint: String) throws {
        self.fd = fd
        self.hashes = hashes
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.chunk, alignment: 16)
        guard let filter else { return }
        guard let a = archive_read_new() else { throw NookError("libarchive: out of memory") }
        decoder = a
        switch filter {
        case .gzip: archive_read_support_filter_gzip(a)
        case .zstd: archive_read_support_filter_zstd(a)
        case .lz4: archive_read_support_filter_lz4(a)
        }
        archive_read_support_format_raw(a)
        var entry: OpaquePointer?
        guard archive_read_open_fd(a, fd, Self.chunk) == ARCHIVE_OK, archive_read_next_header(a, &entry) == ARCHIVE_OK else {
            throw NookError("\(what) is not \(filter.rawValue)-compressed data: \(Self.message(a))", hint: hint)
        }
    }

    /// Whether the filter found its format: with none, libarchive hands the input on as it is.
    var decodes: Bool { decoder.map { archive_filter_count($0) > 1 } ?? false }

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
        if hashes { digest.update(UnsafeRawBufferPointer(start: buffer, count: n)) }
        pointer.pointee = UnsafeRawPointer(buffer)
        return n
    }

    /// Hands each of the rest of the bytes to `body`, to the end; `what` names the stream in errors.
    func forEachChunk(what: String, hint: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var p: UnsafeRawPointer?
        while true {
            let n = next(&p)
            if n == 0 { return }
            if n < 0 { throw NookError("reading \(what): \(failure ?? "read error")", hint: hint) }
            try body(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    /// Reads what the tar reader left (the end-of-archive blocks and any
    /// padding) into the digest: the diff ID covers the whole stream.
    func drain() throws {
        try forEachChunk(what: "the layer", hint: "the blob is damaged; pull or import the image again") { _ in }
    }

    /// The whole of the `filter`-compressed regular file at `path` (never
    /// through a symlink), decompressed: a file or a text of more than
    /// `kind.limit` bytes is an error. `hint` says what to do about a damaged file.
    static func decompressFile(_ path: String, filter: Filter, as kind: FileKind, hint: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("'\(path)'", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw NookError("'\(path)': \(HostPath.fileType(st.st_mode)), not a regular file", hint: hint)
        }
        let tooLarge = NookError("'\(path)': larger than \(kind.limitDescription), the limit for \(kind.name)", hint: "is it the right file?")
        guard st.st_size <= kind.limit else { throw tooLarge }
        let stream = try LayerStream(fd: fd, filter: filter, hashes: false, what: "'\(path)'", hint: hint)
        guard stream.decodes else { throw NookError("'\(path)' is not \(filter.rawValue)-compressed data", hint: hint) }
        var out: [UInt8] = []
        try stream.forEachChunk(what: "'\(path)'", hint: hint) { chunk in
            guard out.count + chunk.count <= kind.limit else { throw tooLarge }
            out.append(contentsOf: chunk)
        }
        return out
    }

    static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
    }
}
