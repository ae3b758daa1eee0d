import NookCore

/// Decompresses the LZ4 frame format (lz4's `.lz4` files: what apt keeps its
/// package lists in when Acquire::GzipIndexes and lz4 are chosen, as on this
/// project's CI hosts). Only what a frame can hold: concatenated frames,
/// skippable frames, compressed and stored blocks, the optional content size
/// and checksums (skipped, not verified: the lists were verified by apt).
public enum LZ4Frame {
    static let magic: UInt32 = 0x184D_2204

    /// The decompressed bytes; throws on a malformed frame or when the output
    /// would exceed `limit` bytes. `what` names the input in errors.
    public static func decompress(_ input: [UInt8], limit: Int, what: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var p = 0
        func bad(_ why: String) -> NookError { NookError("\(what): not a valid LZ4 frame (\(why))", hint: "is the file complete? apt update fetches it again") }
        func need(_ n: Int) throws { if p + n > input.count { throw bad("cut short") } }
        func le32() throws -> UInt32 {
            try need(4)
            defer { p += 4 }
            return UInt32(input[p]) | UInt32(input[p + 1]) << 8 | UInt32(input[p + 2]) << 16 | UInt32(input[p + 3]) << 24
        }
        while p < input.count {
            let frameMagic = try le32()
            if frameMagic & 0xFFFF_FFF0 == 0x184D_2A50 {  // skippable frame
                let size = Int(try le32())
                try need(size)
                p += size
                continue
            }
            guard frameMagic == magic else { throw bad("magic number \(String(frameMagic, radix: 16))") }
            try need(3)
            let flags = input[p]
            guard flags >> 6 == 1 else { throw bad("frame version \(flags >> 6)") }
            let blockChecksum = flags & 0x10 != 0, contentSize = flags & 0x08 != 0
            let contentChecksum = flags & 0x04 != 0, dictionary = flags & 0x01 != 0
            guard !dictionary else { throw bad("a dictionary is needed") }
            p += 2 + (contentSize ? 8 : 0) + 1  // FLG, BD, content size, header checksum
            while true {
                let word = try le32()
                if word == 0 { break }  // end mark
                let size = Int(word & 0x7FFF_FFFF)
                try need(size)
                if word & 0x8000_0000 != 0 {
                    guard out.count + size <= limit else { throw tooLarge(what, limit) }
                    out.append(contentsOf: input[p..<(p + size)])
                } else {
                    try decodeBlock(input[p..<(p + size)], into: &out, limit: limit, what: what)
                }
                p += size + (blockChecksum ? 4 : 0)
            }
            p += contentChecksum ? 4 : 0
        }
        return out
    }

    static func tooLarge(_ what: String, _ limit: Int) -> NookError {
        NookError("\(what): decompresses to more than \(limit >> 20) MiB", hint: "is it the right file?")
    }

    /// One compressed block: sequences of literals and a match (an offset back
    /// into what was written, which may overlap what it writes).
    static func decodeBlock(_ block: ArraySlice<UInt8>, into out: inout [UInt8], limit: Int, what: String) throws {
        var p = block.startIndex
        let end = block.endIndex
        func bad() -> NookError { NookError("\(what): not a valid LZ4 block", hint: "is the file complete? apt update fetches it again") }
        func length(_ start: Int) throws -> Int {
            var n = start
            guard start == 15 else { return n }
            while true {
                guard p < end else { throw bad() }
                let byte = Int(block[p])
                p += 1
                n += byte
                if byte != 255 { return n }
            }
        }
        while p < end {
            let token = Int(block[p])
            p += 1
            let literals = try length(token >> 4)
            guard p + literals <= end else { throw bad() }
            guard out.count + literals <= limit else { throw tooLarge(what, limit) }
            out.append(contentsOf: block[p..<(p + literals)])
            p += literals
            if p == end { return }  // the last sequence has no match
            guard p + 2 <= end else { throw bad() }
            let offset = Int(block[p]) | Int(block[p + 1]) << 8
            p += 2
            let match = try length(token & 15) + 4
            guard offset > 0, offset <= out.count else { throw bad() }
            guard out.count + match <= limit else { throw tooLarge(what, limit) }
            var from = out.count - offset
            out.reserveCapacity(out.count + match)
            for _ in 0..<match {
                out.append(out[from])
                from += 1
            }
        }
    }
}
