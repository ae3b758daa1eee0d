import Glibc
import NookCore

/// A ustar archive of regular files, written here (libarchive is used only
/// to read): what `nook image export` needs for an oci-archive, whose names
/// (`blobs/sha256/HEX`, `index.json`) fit ustar's 100 bytes.
struct TarWriter {
    let fd: Int32
    let label: String

    /// Adds `name` with the bytes of the file `source` (or `bytes`), mode 0644, mtime 0.
    func add(_ name: String, source: String? = nil, bytes: [UInt8] = []) throws {
        var input: Int32 = -1
        var size = Int64(bytes.count)
        if let source {
            input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            var st = stat()
            guard input >= 0, fstat(input, &st) == 0 else { throw NookError.sys("'\(source)'", path: source, errno: errno) }
            size = Int64(st.st_size)
        }
        defer { if input >= 0 { close(input) } }
        try write(Self.header(name: name, size: size))
        if input >= 0 { try copy(input, size: size, label: source!) } else { try write(bytes) }
        let pad = Int((512 - size % 512) % 512)
        if pad > 0 { try write([UInt8](repeating: 0, count: pad)) }
    }

    /// The whole file `source`, as it is (a blob exported to a directory).
    func copy(from source: String) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        var st = stat()
        guard input >= 0, fstat(input, &st) == 0 else { throw NookError.sys("'\(source)'", path: source, errno: errno) }
        defer { close(input) }
        try copy(input, size: Int64(st.st_size), label: source)
    }

    private func copy(_ input: Int32, size: Int64, label: String) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var copied: Int64 = 0
        while copied < size {
            let n = read(input, &chunk, chunk.count)
            if n < 0 { if errno == EINTR { continue }; throw NookError.sys("read '\(label)'", path: label, errno: errno) }
            guard n > 0 else { throw NookError("'\(label)' changed while it was exported", hint: "export again") }
            try write(Array(chunk[0..<min(n, Int(size - copied))]))
            copied += Int64(n)
        }
    }

    func writeAll(_ bytes: [UInt8]) throws { try write(bytes) }

    /// The end: two zero blocks.
    func finish() throws { try write([UInt8](repeating: 0, count: 1024)) }

    static func header(name: String, size: Int64) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        put("        ", at: 148, width: 8)
        h[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        let sum = h.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        h[154] = 0
        h[155] = UInt8(ascii: " ")
        return h
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw NookError.sys("write \(label)", errno: errno, hint: errno == ENOSPC ? "the disk is full" : nil)
            }
            offset += n
        }
    }
}
